// Hand-written (the rest of this folder is generated: never edit that).
// Only what uniffi cannot generate: every client call is already a
// generated `async` method that blocks no thread and stops waiting when
// its Task is cancelled. Kept small and reviewed line by line: no Swift
// compiler runs in this project's CI, see ../../README.md.
import Foundation

extension PunchClient {
    /// Where the employee stands now, then after every change, as an
    /// AsyncStream (keeping the newest). Each stream is its own subscriber:
    /// a second one never disconnects the first, and a stream that ends
    /// unsubscribes.
    public func standingUpdates() -> AsyncStream<Standing> {
        AsyncStream(bufferingPolicy: .bufferingNewest(1)) { continuation in
            let subscription = self.subscribe(listener: StreamingListener(continuation: continuation))
            let initial = Task {
                let standing = try? await self.standing()
                if let standing {
                    continuation.yield(standing)
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
final class StreamingListener: StandingListener, @unchecked Sendable {
    private let continuation: AsyncStream<Standing>.Continuation

    init(continuation: AsyncStream<Standing>.Continuation) {
        self.continuation = continuation
    }

    func onChange(standing: Standing) throws {
        continuation.yield(standing)
    }
}
