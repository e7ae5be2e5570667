// Hand-written (the rest of this folder is generated: never edit that).
// Only what uniffi cannot generate: every client call is already a
// generated `async` method that blocks no thread and stops waiting when
// its Task is cancelled. Kept small and reviewed line by line: no Swift
// compiler runs in this project's CI, see ../../README.md.
import Foundation

extension PunchClient {
    /// The status now, then every change, as an AsyncStream (keeping the
    /// newest). Each stream is its own subscriber: a second one never
    /// disconnects the first, and a stream that ends unsubscribes.
    public func statusUpdates() -> AsyncStream<SyncStatus> {
        AsyncStream(bufferingPolicy: .bufferingNewest(1)) { continuation in
            let subscription = self.subscribe(listener: StreamingStatusListener(continuation: continuation))
            let initial = Task {
                if let status = try? await self.status() {
                    continuation.yield(status)
                }
            }
            continuation.onTermination = { _ in
                initial.cancel()
                subscription.cancel()
            }
        }
    }
}

/// Feeds an AsyncStream; called on the library's thread, returns at once.
final class StreamingStatusListener: StatusListener, @unchecked Sendable {
    private let continuation: AsyncStream<SyncStatus>.Continuation

    init(continuation: AsyncStream<SyncStatus>.Continuation) {
        self.continuation = continuation
    }

    func onStatus(status: SyncStatus) throws {
        continuation.yield(status)
    }
}
