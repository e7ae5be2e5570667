// The library's log lines into the unified log (Console.app, `log stream`).
// Messages are sentences without personal details (the library keeps
// those in typed fields), so they are logged as public.
import Foundation
import os
import PunchCore

public final class OSLogSink: LogSink, @unchecked Sendable {
    private let logger: Logger

    public init(subsystem: String = Bundle.main.bundleIdentifier ?? "punchcore") {
        logger = Logger(subsystem: subsystem, category: "punchcore")
    }

    public func log(level: LogLevel, target: String, message: String) {
        switch level {
        case .error: logger.error("\(target, privacy: .public): \(message, privacy: .public)")
        case .warn: logger.warning("\(target, privacy: .public): \(message, privacy: .public)")
        case .info: logger.info("\(target, privacy: .public): \(message, privacy: .public)")
        case .debug: logger.debug("\(target, privacy: .public): \(message, privacy: .public)")
        case .trace: logger.trace("\(target, privacy: .public): \(message, privacy: .public)")
        }
    }
}
