// The app: one PunchClient per process for the one database (the screen and
// the background task share it), the package's adapters for keys, HTTP,
// clock, data key and location, and background sync with BGTaskScheduler.
import PunchCore
import PunchCorePlatform
import SwiftUI

@main
struct PunchDemoApp: App {
    /// Also in Info.plist, BGTaskSchedulerPermittedIdentifiers (project.yml).
    static let syncTask = "com.example.punch.sync"
    @StateObject private var model = PunchModel()

    init() {
        // Before launch finishes, as BGTaskScheduler requires. The handler
        // completes the task on every path, expiration included.
        BackgroundSync.register(identifier: Self.syncTask) {
            try? await PunchEngine.shared.client()
        }
    }

    var body: some Scene {
        WindowGroup { ContentView(model: model) }
    }
}

/// Opens the client once per process, on first use: a background launch
/// (no screen) and the screen get the same engine.
actor PunchEngine {
    static let shared = PunchEngine()
    /// Secure Enclave keys; `.userPresence` would ask Face ID at every punch.
    static let keys = SecureEnclaveKeys(punchPresence: .notRequired)
    static let serverUrl = "https://punch.example.com"
    static let policyKeyBase64 = "PASTE-THE-BASE64-POLICY-KEY"

    private var opening: Task<PunchClient, Error>?

    func client() async throws -> PunchClient {
        if let opening {
            return try await opening.value
        }
        let task = Task { try await Self.open() }
        opening = task
        do {
            return try await task.value
        } catch {
            opening = nil // not opened: the next caller tries again
            throw error
        }
    }

    private static func open() async throws -> PunchClient {
        let directory = try DatabaseDirectory.prepare()
        // Without a Secure Enclave (simulator) the library keeps software keys.
        var punchSigner: SecureEnclaveSigner?
        var channelSigner: SecureEnclaveSigner?
        if SecureEnclaveKeys.isAvailable {
            punchSigner = try keys.signer(for: .punch)
            channelSigner = try keys.signer(for: .channel)
        }
        let options = ClientOptions(
            serverUrl: serverUrl,
            policyKeyBase64: policyKeyBase64,
            signer: punchSigner,
            channelSigner: channelSigner,
            transport: URLSessionTransport(),
            clock: DeviceClock(),
            keyWrapper: KeychainDataKeyWrapper()
        )
        return try await PunchClient.open(directory: directory, options: options)
    }
}

/// What the screen shows.
@MainActor
final class PunchModel: ObservableObject {
    let evidence = EvidenceSource()
    @Published var verdict = "Tap \"Check location\""
    @Published var status: SyncStatus?
    @Published var queue: [HistoryEntry] = []

    init() {
        Task { await self.follow() }
    }

    /// Where the employee stands, live; ends with the app.
    private func follow() async {
        do {
            let client = try await PunchEngine.shared.client()
            for await standing in client.standingUpdates() {
                status = standing.sync
            }
        } catch {
            verdict = "Cannot open the punch database: \(error.localizedDescription)"
        }
    }

    func enroll(code: String) async {
        await report {
            let client = try await PunchEngine.shared.client()
            if SecureEnclaveKeys.isAvailable {
                // Both keys are made for the server's challenge (App Attest
                // where the device has it) and kept only if enrollment worked.
                do {
                    _ = try await client.enrollWithKeys(code: code, provider: PunchEngine.keys)
                    try PunchEngine.keys.keep()
                } catch {
                    PunchEngine.keys.discard()
                    throw error
                }
            } else {
                _ = try await client.enroll(code: code)
            }
            _ = try await client.refreshPolicy()
        }
    }

    func check() async {
        await report {
            let client = try await PunchEngine.shared.client()
            show(try await client.evaluate(evidence: await evidence.collect()))
        }
    }

    func punch(_ kind: PunchKind) async {
        await report {
            let client = try await PunchEngine.shared.client()
            do {
                show(try await client.punch(kind: kind, evidence: await evidence.collect()).evaluation)
                BackgroundSync.schedule(identifier: PunchDemoApp.syncTask)
            } catch PunchError.Refused(_, let evaluation) {
                show(evaluation) // a refused attempt, not a punch: the reasons say why
            } catch PunchError.KeyInvalidated(_) {
                // Nothing was stored; earlier punches still upload. A new
                // punch key, signed in by the channel key; punch again.
                do {
                    _ = try await client.rotatePunchKey(provider: PunchEngine.keys, reason: .invalidated)
                    try PunchEngine.keys.keep()
                } catch {
                    PunchEngine.keys.discard()
                    throw error
                }
                verdict = "The punch key was replaced: punch again."
            }
            queue = try await client.history(beforeSeq: nil, limit: 50).entries // newest first
        }
    }

    func syncNow() async {
        await report { _ = try await PunchEngine.shared.client().sync() }
    }

    private func show(_ e: Evaluation) {
        let place = e.siteId.map { "at \($0)" }
            ?? e.nearestSite.map { "nearest \($0.siteId), \(Int($0.distanceM)) m away" } ?? ""
        verdict = (["\(e.decision) \(place)"] + e.flags.map { "⚑ \($0.kind)" } + e.reasons)
            .joined(separator: "\n")
    }

    private func report(_ body: () async throws -> Void) async {
        do { try await body() } catch { verdict = error.localizedDescription }
    }
}
