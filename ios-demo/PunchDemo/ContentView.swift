// The one screen: verdict, punch buttons, sync status, the queue.
import PunchCore
import SwiftUI

struct ContentView: View {
    @ObservedObject var model: PunchModel
    @State private var code = ""

    var body: some View {
        List {
            Section("Enroll") {
                TextField("Enrollment code", text: $code)
                Button("Enroll") { Task { await model.enroll(code: code) } }
            }
            Section("Verdict") {
                Text(model.verdict)
                Button("Check location") { Task { await model.check() } }
                Button("Clock in") { Task { await model.punch(.clockIn) } }
                Button("Clock out") { Task { await model.punch(.clockOut) } }
            }
            Section("Sync") {
                if let s = model.status {
                    Text("Waiting \(s.pending) · uploaded \(s.uploaded) · refused \(s.rejected)")
                    if let e = s.lastError { Text(e.message).foregroundStyle(.red) }
                    if !s.anchored { Text("Time not anchored since reboot: sync once online") }
                }
                Button("Sync now") { Task { await model.syncNow() } }
            }
            Section("Queue") {
                ForEach(model.queue, id: \.seq) { p in
                    Text("#\(p.seq) \(p.kind.map { "\($0)" } ?? "–") \(p.decision.map { "\($0)" } ?? "") · \(String(describing: p.uploadState))")
                }
            }
        }
        .onAppear { model.evidence.requestPermission() }
    }
}
