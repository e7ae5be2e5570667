// Hand-written (the rest of this folder is generated: never edit that).
// Kept small and reviewed line by line: no Swift compiler runs in this
// project's CI, see ../../README.md.
import Foundation

extension PunchClient {
    /// Runs a blocking library call off the caller's thread: the calls wait
    /// on the disk, the network or a Secure Enclave prompt.
    private func detached<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await Task.detached(priority: .userInitiated) { try body() }.value
    }

    public func enrollAsync(code: String) async throws -> String {
        try await detached { try self.enroll(code: code) }
    }

    public func refreshPolicyAsync() async throws -> UInt64 {
        try await detached { try self.refreshPolicy() }
    }

    public func evaluateAsync(evidence: Evidence) async throws -> Evaluation {
        try await detached { try self.evaluate(evidence: evidence) }
    }

    public func punchAsync(kind: PunchKind, evidence: Evidence) async throws -> PunchReceipt {
        try await detached { try self.punch(kind: kind, evidence: evidence) }
    }

    public func syncAsync() async throws -> SyncReport {
        try await detached { try self.sync() }
    }

    public func statusAsync() async throws -> SyncStatus {
        try await detached { try self.status() }
    }

    /// Every status change, as an AsyncStream. Installs the client's one
    /// listener (replacing any other) and removes it when the stream ends.
    public func statusUpdates() -> AsyncStream<SyncStatus> {
        AsyncStream(bufferingPolicy: .bufferingNewest(1)) { continuation in
            let listener = StreamingStatusListener(continuation: continuation)
            self.setListener(listener: listener)
            continuation.onTermination = { [weak self] _ in
                self?.setListener(listener: nil)
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

extension PunchError {
    /// The human sentence of any error, for an alert or a log.
    public var detail: String {
        switch self {
        case .NotEnrolled(let detail), .PolicyMissing(let detail), .PolicyExpired(let detail),
             .PolicyInvalid(let detail), .Signer(let detail), .Network(let detail),
             .Storage(let detail), .Busy(let detail), .InvalidInput(let detail),
             .Internal(let detail):
            return detail
        case .Refused(let detail, _), .ServerRefused(let detail, _):
            return detail
        }
    }
}
