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

    /// The library's sync is safe to abandon: on expiry the Task is
    /// cancelled (the upload stops waiting at once) and we report failure.
    static func handleSync(_ task: BGAppRefreshTask) {
        scheduleSync()
        let work = Task {
            var ok = false
            do {
                let client = try await PunchModel.shared?.client
                let report = try await client?.sync()
                ok = report != nil && report?.error == nil
            } catch {
                ok = false // not open or not enrolled yet: try again later
            }
            task.setTaskCompleted(success: ok)
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
    /// Opened by `start()` (opening touches the disk: it is an async call).
    private var opened: PunchClient?
    let evidence = EvidenceSource()
    @Published var verdict = "Tap \"Check location\""
    @Published var status: SyncStatus?
    @Published var queue: [HistoryEntry] = []

    init() {
        PunchModel.shared = self
        Task { await self.start() }
    }

    var client: PunchClient {
        get throws {
            guard let opened else { throw PunchError.Busy(detail: "the punch database is still opening") }
            return opened
        }
    }

    private func start() async {
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
        do {
            let client = try await PunchClient.open(directory: dir.path, options: options)
            opened = client
            // This model's own subscription; the stream ends with the task.
            for await standing in client.standingUpdates() { self.status = standing.sync }
        } catch {
            verdict = "Cannot open the punch database: \(error.localizedDescription)"
        }
    }

    func enroll(code: String) async {
        await report {
            _ = try await client.enroll(code: code)
            _ = try await client.refreshPolicy()
        }
    }

    func check() async {
        await report { show(try await client.evaluate(evidence: await evidence.collect())) }
    }

    func punch(_ kind: PunchKind) async {
        await report {
            do {
                show(try await client.punch(kind: kind, evidence: await evidence.collect()).evaluation)
                PunchDemoApp.scheduleSync()
            } catch PunchError.Refused(_, let evaluation) {
                show(evaluation) // not stored: the reasons say why
            }
            queue = try await client.history(beforeSeq: nil, limit: 50).entries // newest first
        }
    }

    func syncNow() async {
        await report { _ = try await client.sync() }
    }

    private func show(_ e: Evaluation) {
        let place = e.siteId.map { "at \($0)" }
            ?? e.nearestSite.map { "nearest \($0.siteId), \(Int($0.distanceM)) m away" } ?? ""
        verdict = (["\(e.decision) \(place)"] + e.flags.map { "⚑ \($0.kind)" } + e.reasons)
            .joined(separator: "\n")
    }

    private func report(_ body: () async throws -> Void) async {
        do { try await body() } catch let error as PunchError { verdict = error.localizedDescription } catch { verdict = "\(error)" }
    }
}
