// One CoreLocation fix as the library's GpsFix: whether software simulated
// it (Xcode, a GPX file) or an accessory produced it, whether the user
// granted only approximate location, and when it was taken on the
// monotonic clock (its age then does not follow a wall clock the user can
// set). When-in-use authorization is enough: punches happen with the app open.
import CoreLocation
import Foundation
import PunchCore

@MainActor
public final class LocationEvidence: NSObject, CLLocationManagerDelegate {
    private let manager = CLLocationManager()
    private var waiting: [CheckedContinuation<GpsFix?, Never>] = []

    public override init() {
        super.init()
        manager.delegate = self
        manager.desiredAccuracy = kCLLocationAccuracyBest
    }

    /// Shows the system prompt the first time (Info.plist needs
    /// NSLocationWhenInUseUsageDescription).
    public func requestPermission() {
        manager.requestWhenInUseAuthorization()
    }

    /// One fresh fix, or nil when there is none within `timeout` seconds
    /// (no permission, no signal, a permission prompt left open): the
    /// library then judges the punch without GPS.
    public func currentFix(timeout: TimeInterval = 20) async -> GpsFix? {
        let nanoseconds = UInt64(min(max(timeout, 0), 600) * 1_000_000_000)
        // Runs on the main actor, like this method.
        let timer = Task { [weak self] in
            do {
                try await Task.sleep(nanoseconds: nanoseconds)
            } catch {
                return // the fix came first
            }
            self?.finish(nil)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            waiting.append(continuation)
            if waiting.count == 1 {
                manager.requestLocation()
            }
        }
    }

    /// The fix as the library wants it. `deliveredSinceBoot` is the
    /// monotonic clock when CoreLocation handed the fix over; the fix is
    /// older by the wall-clock gap between its timestamp and then (never
    /// counted negative: a clock set back makes a fix look fresh only up to
    /// its delivery).
    nonisolated static func gpsFix(
        _ location: CLLocation, reducedAccuracy: Bool, deliveredSinceBoot: TimeInterval?, deliveredAt: Date
    ) -> GpsFix {
        let age = max(0, deliveredAt.timeIntervalSince(location.timestamp))
        return GpsFix(
            lat: location.coordinate.latitude,
            lon: location.coordinate.longitude,
            accuracyM: location.horizontalAccuracy,
            fixTime: location.timestamp,
            provider: "corelocation",
            isMock: location.sourceInformation?.isSimulatedBySoftware ?? false,
            speedMps: location.speed >= 0 ? location.speed : nil,
            elapsedRealtime: deliveredSinceBoot.map { max(0, $0 - age) },
            reducedAccuracy: reducedAccuracy,
            externalReceiver: location.sourceInformation?.isProducedByAccessory ?? false
        )
    }

    public nonisolated func locationManager(_ manager: CLLocationManager, didUpdateLocations locations: [CLLocation]) {
        let deliveredSinceBoot = DeviceClock.sinceBoot()
        let deliveredAt = Date()
        // Valid fixes only: a negative horizontal accuracy means no position.
        guard let last = locations.last(where: { $0.horizontalAccuracy >= 0 }) else {
            Task { @MainActor in self.finish(nil) }
            return
        }
        let reduced: Bool
        switch manager.accuracyAuthorization {
        case .fullAccuracy: reduced = false
        case .reducedAccuracy: reduced = true
        @unknown default: reduced = true
        }
        let fix = Self.gpsFix(
            last, reducedAccuracy: reduced, deliveredSinceBoot: deliveredSinceBoot, deliveredAt: deliveredAt
        )
        Task { @MainActor in self.finish(fix) }
    }

    public nonisolated func locationManager(_ manager: CLLocationManager, didFailWithError error: Error) {
        Task { @MainActor in self.finish(nil) }
    }

    private func finish(_ fix: GpsFix?) {
        let pending = waiting
        waiting.removeAll()
        pending.forEach { $0.resume(returning: fix) }
    }
}
