// What the phone observes for a punch: a location fix with the simulated
// flag, and the current Wi-Fi BSSID where the entitlement allows.
import CoreLocation
import NetworkExtension
import PunchCore

@MainActor
final class EvidenceSource: NSObject, CLLocationManagerDelegate {
    private let manager = CLLocationManager()
    private var waiting: [CheckedContinuation<CLLocation?, Never>] = []

    override init() {
        super.init()
        manager.delegate = self
        manager.desiredAccuracy = kCLLocationAccuracyBest
    }

    /// When-in-use is enough: punches happen with the app open.
    func requestPermission() {
        manager.requestWhenInUseAuthorization()
    }

    func collect() async -> Evidence {
        let location = await currentLocation()
        let fix = location.map { loc in
            GpsFix(
                lat: loc.coordinate.latitude,
                lon: loc.coordinate.longitude,
                accuracyM: loc.horizontalAccuracy,
                fixTime: loc.timestamp,
                provider: "corelocation",
                isMock: loc.sourceInformation?.isSimulatedBySoftware ?? false,
                speedMps: loc.speed >= 0 ? loc.speed : nil
            )
        }
        let wifi = await currentAccessPoint().map { [$0] } ?? []
        return Evidence(gps: fix, wifi: wifi, ipAddresses: [])
    }

    private func currentLocation() async -> CLLocation? {
        await withCheckedContinuation { continuation in
            waiting.append(continuation)
            manager.requestLocation()
        }
    }

    /// Needs the "Access Wi-Fi Information" entitlement and location permission;
    /// nil otherwise (the punch is judged on GPS alone).
    private func currentAccessPoint() async -> WifiObservation? {
        await withCheckedContinuation { continuation in
            NEHotspotNetwork.fetchCurrent { network in
                continuation.resume(returning: network.map {
                    WifiObservation(bssid: $0.bssid, ssid: $0.ssid, rssiDbm: nil)
                })
            }
        }
    }

    nonisolated func locationManager(_ manager: CLLocationManager, didUpdateLocations locations: [CLLocation]) {
        let last = locations.last
        Task { @MainActor in self.finish(last) }
    }

    nonisolated func locationManager(_ manager: CLLocationManager, didFailWithError error: Error) {
        Task { @MainActor in self.finish(nil) }
    }

    private func finish(_ location: CLLocation?) {
        let pending = waiting
        waiting.removeAll()
        pending.forEach { $0.resume(returning: location) }
    }
}
