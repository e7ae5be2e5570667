// What the phone observes for a punch: the package's CoreLocation fix
// (simulated / accessory / reduced-accuracy flags, age on the monotonic
// clock) and the current Wi-Fi BSSID where the entitlement allows.
import NetworkExtension
import PunchCore
import PunchCorePlatform

@MainActor
final class EvidenceSource {
    private let location = LocationEvidence()

    func requestPermission() {
        location.requestPermission()
    }

    func collect() async -> Evidence {
        let fix = await location.currentFix()
        let wifi = await currentAccessPoint().map { [$0] } ?? []
        return Evidence(gps: fix, wifi: wifi, ipAddresses: [])
    }

    /// Needs the "Access Wi-Fi Information" entitlement and permission for
    /// precise location (NEHotspotNetwork.fetchCurrent: with reduced
    /// accuracy, or without either, the handler gets nil and the punch is
    /// judged on GPS alone). The handler runs once, on the main thread.
    private func currentAccessPoint() async -> WifiObservation? {
        await withCheckedContinuation { continuation in
            NEHotspotNetwork.fetchCurrent { network in
                continuation.resume(returning: network.map {
                    WifiObservation(bssid: $0.bssid, ssid: $0.ssid, rssiDbm: nil)
                })
            }
        }
    }
}
