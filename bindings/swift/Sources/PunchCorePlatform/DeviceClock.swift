// The library's PlatformClock on Apple platforms: mach_continuous_time
// counts deep sleep and cannot be set by the user; kern.bootsessionuuid
// changes at every boot, so a reading from before a reboot is never
// compared with one after it.
import Darwin
import Foundation
import PunchCore

public final class DeviceClock: PlatformClock, @unchecked Sendable {
    private let bootId: String?
    private let secondsPerTick: Double

    public init() {
        bootId = Self.bootSessionUUID()
        var info = mach_timebase_info_data_t()
        // KERN_SUCCESS is 0; a failed call leaves denom 0, caught in now().
        _ = mach_timebase_info(&info)
        secondsPerTick = info.denom == 0 ? 0 : Double(info.numer) / Double(info.denom) / 1_000_000_000
    }

    /// Throws when the boot id or the timebase could not be read: the
    /// library then uses its own clock and counts such punches as unanchored.
    public func now() throws -> ClockReading {
        guard let bootId = bootId, secondsPerTick > 0 else {
            throw PlatformError.Failed(detail: "kern.bootsessionuuid or the timebase is unreadable")
        }
        let wall = Date()
        return ClockReading(
            wallTime: wall,
            utcOffsetMin: Int32(TimeZone.current.secondsFromGMT(for: wall) / 60),
            sinceBoot: Self.sinceBoot(secondsPerTick: secondsPerTick),
            bootId: bootId
        )
    }

    /// Seconds since boot, sleep included (also what `LocationEvidence`
    /// stamps fixes with).
    static func sinceBoot(secondsPerTick: Double) -> TimeInterval {
        Double(mach_continuous_time()) * secondsPerTick
    }

    /// The same clock for callers without an instance at hand.
    static func sinceBoot() -> TimeInterval? {
        var info = mach_timebase_info_data_t()
        guard mach_timebase_info(&info) == KERN_SUCCESS, info.denom != 0 else { return nil }
        return sinceBoot(secondsPerTick: Double(info.numer) / Double(info.denom) / 1_000_000_000)
    }

    /// A read-only string sysctl (xnu bsd/kern/kern_sysctl.c): the first
    /// call gives the size, NUL included. Decoded up to the NUL
    /// (SE-0405's form: `String(cString: [CChar])` is deprecated in Swift 6
    /// and traps on an array without a NUL).
    private static func bootSessionUUID() -> String? {
        var size = 0
        guard sysctlbyname("kern.bootsessionuuid", nil, &size, nil, 0) == 0, size > 0 else { return nil }
        var buffer = [CChar](repeating: 0, count: size)
        guard sysctlbyname("kern.bootsessionuuid", &buffer, &size, nil, 0) == 0 else { return nil }
        let bytes = buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }
        let text = String(decoding: bytes, as: UTF8.self)
        return text.isEmpty ? nil : text
    }
}
