// The app: one PunchClient for the process, background sync with
// BGTaskScheduler, the database excluded from backups.
import BackgroundTasks
import PunchCore
import SwiftUI

@main
struct PunchDemoApp: App {
    static let syncTask = "com.example.punch.sync" // also in Info.plist BGTaskSchedulerPermittedIdentifiers
    @StateObject private var model = PunchModel()

    init() {
        BGTaskScheduler.shared.register(forTaskWithIdentifier: Self.syncTask, using: nil) { task in
            PunchDemoApp.handleSync(task as! BGAppRefreshTask)
        }
    }

    var body: some Scene {
        WindowGroup { ContentView(model: model) }
    }

    /// The library's sync is safe to abandon: on expiry we just report failure.
    static func handleSync(_ task: BGAppRefreshTask) {
        scheduleSync()
        let work = Task.detached {
            let report = try? PunchModel.shared?.client.sync()
            task.setTaskCompleted(success: report?.error == nil)
        }
        task.expirationHandler = { work.cancel() }
    }

    static func scheduleSync() {
        let request = BGAppRefreshTaskRequest(identifier: syncTask)
        request.earliestBeginDate = Date(timeIntervalSinceNow: 15 * 60)
        try? BGTaskScheduler.shared.submit(request)
    }
}

/// Opens the client and publishes what the screen shows.
@MainActor
final class PunchModel: ObservableObject {
    nonisolated(unsafe) static var shared: PunchModel?
    let client: PunchClient
    let evidence = EvidenceSource()
    @Published var verdict = "Tap \"Check location\""
    @Published var status: SyncStatus?
    @Published var queue: [HistoryEntry] = []

    init() {
        var dir = FileManager.default.urls(for: .applicationSupportDirectory, in: .userDomainMask)[0]
            .appendingPathComponent("punch", isDirectory: true)
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // The device identity and the signed chain must not be restored onto another phone.
        var values = URLResourceValues()
        values.isExcludedFromBackup = true
        try? dir.setResourceValues(values)
        let options = ClientOptions(
            serverUrl: "https://punch.example.com",
            policyKeyBase64: "PASTE-THE-BASE64-POLICY-KEY",
            signer: try? SecureEnclaveSigner(),
            clock: IOSClock()
        )
        // A demo: a failure to open is fatal here; an app would show it.
        client = try! PunchClient.open(directory: dir.path, options: options)
        PunchModel.shared = self
        Task { [weak self] in
            guard let self else { return }
            for await status in client.statusUpdates() { self.status = status }
        }
    }

    func enroll(code: String) async {
        await report {
            _ = try await client.enrollAsync(code: code)
            _ = try await client.refreshPolicyAsync()
        }
    }

    func check() async {
        await report { show(try await client.evaluateAsync(evidence: await evidence.collect())) }
    }

    func punch(_ kind: PunchKind) async {
        await report {
            do {
                show(try await client.punchAsync(kind: kind, evidence: await evidence.collect()).evaluation)
                PunchDemoApp.scheduleSync()
            } catch PunchError.Refused(_, let evaluation) {
                show(evaluation) // not stored: the reasons say why
            }
            queue = try client.history(afterSeq: 0, limit: 200).entries.reversed()
        }
    }

    func syncNow() async {
        await report { _ = try await client.syncAsync() }
    }

    private func show(_ e: Evaluation) {
        let place = e.siteId.map { "at \($0)" }
            ?? e.nearestSite.map { "nearest \($0.siteId), \(Int($0.distanceM)) m away" } ?? ""
        verdict = (["\(e.decision) \(place)"] + e.flags.map { "⚑ \($0.kind)" } + e.reasons)
            .joined(separator: "\n")
    }

    private func report(_ body: () async throws -> Void) async {
        do { try await body() } catch let error as PunchError { verdict = error.detail } catch { verdict = "\(error)" }
    }
}
