// The platform's clocks for trusted offline time: mach_continuous_time
// counts sleep and cannot be set; kern.bootsessionuuid changes every boot.
import Foundation
import PunchCore

final class IOSClock: PlatformClock, @unchecked Sendable {
    private let bootId: String = {
        var size = 0
        sysctlbyname("kern.bootsessionuuid", nil, &size, nil, 0)
        var buffer = [CChar](repeating: 0, count: max(size, 1))
        sysctlbyname("kern.bootsessionuuid", &buffer, &size, nil, 0)
        return String(cString: buffer)
    }()
    private let timebase: mach_timebase_info_data_t = {
        var info = mach_timebase_info_data_t()
        mach_timebase_info(&info)
        return info
    }()

    func now() throws -> ClockReading {
        let ticks = mach_continuous_time()
        let nanos = ticks / UInt64(timebase.denom) * UInt64(timebase.numer)
        let wall = Date()
        return ClockReading(
            wallTime: wall,
            utcOffsetMin: Int32(TimeZone.current.secondsFromGMT(for: wall) / 60),
            sinceBoot: TimeInterval(nanos) / 1_000_000_000,
            bootId: bootId
        )
    }
}
