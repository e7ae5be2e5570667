// BGTaskScheduler app refresh that uploads the queue: the task is marked
// complete on every path, exactly once: after the sync, after a failure,
// and when the system calls the expiration handler (which cancels the
// sync: it is safe to abandon, nothing is lost). iOS only: the
// BackgroundTasks framework has no macOS version.
#if os(iOS)
import BackgroundTasks
import Foundation
import PunchCore

public enum BackgroundSync {
    /// Registers the handler; call before the app finishes launching (the
    /// App's `init`, or `application(_:didFinishLaunchingWithOptions:)`).
    /// `identifier` must be listed under BGTaskSchedulerPermittedIdentifiers
    /// in Info.plist, and UIBackgroundModes must contain `fetch`.
    /// `client` gives the app's one client, nil while it is not open yet.
    @discardableResult
    public static func register(
        identifier: String,
        every interval: TimeInterval = 15 * 60,
        client: @escaping @Sendable () async -> PunchClient?
    ) -> Bool {
        BGTaskScheduler.shared.register(forTaskWithIdentifier: identifier, using: nil) { task in
            // The next run is asked for first, so a killed run still has a successor.
            Self.schedule(identifier: identifier, after: interval)
            Self.run(task, client: client)
        }
    }

    /// Asks for a run no earlier than `after` seconds from now. Fails
    /// quietly where background refresh is off or unavailable (simulator):
    /// the app syncs in the foreground then.
    public static func schedule(identifier: String, after interval: TimeInterval = 15 * 60) {
        let request = BGAppRefreshTaskRequest(identifier: identifier)
        request.earliestBeginDate = Date(timeIntervalSinceNow: interval)
        try? BGTaskScheduler.shared.submit(request)
    }

    static func run(_ task: BGTask, client: @escaping @Sendable () async -> PunchClient?) {
        let completion = Completion(task)
        let work = Task {
            guard let client = await client() else {
                completion.finish(success: false)
                return
            }
            do {
                let report = try await client.sync()
                completion.finish(success: report.error == nil)
            } catch {
                completion.finish(success: false)
            }
        }
        task.expirationHandler = {
            work.cancel()
            completion.finish(success: false)
        }
    }
}

/// `setTaskCompleted` once, whichever path gets there first.
final class Completion: @unchecked Sendable {
    private let task: BGTask
    private let lock = NSLock()
    private var done = false

    init(_ task: BGTask) {
        self.task = task
    }

    func finish(success: Bool) {
        lock.lock()
        let first = !done
        done = true
        lock.unlock()
        if first {
            task.setTaskCompleted(success: success)
        }
    }
}
#endif
