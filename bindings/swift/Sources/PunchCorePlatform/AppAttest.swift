// App Attest binds a genuine instance of this app to a device key: a fresh
// App Attest key is attested by Apple over
// clientDataHash = SHA-256(challenge ‖ the device key's SPKI DER), which
// the server recomputes (DeviceAttestation.apple). Needs the
// `com.apple.developer.devicecheck.appattest-environment` entitlement
// (`development` while testing, `production` for TestFlight and the App Store).
import CryptoKit
import DeviceCheck
import Foundation
import PunchCore

public enum AppAttest {
    /// The proof for `challenge` and the key whose SPKI is given; nil where
    /// App Attest does not exist (simulator, Mac without it, old devices):
    /// the server then records a software-level key, or refuses enrollment
    /// when the employer requires attested keys.
    public static func attest(challenge: Data, publicKeySpki: Data) async throws -> DeviceAttestation? {
        let service = DCAppAttestService.shared
        guard service.isSupported else { return nil }
        var bound = challenge
        bound.append(publicKeySpki)
        let clientDataHash = Data(SHA256.hash(data: bound))
        let keyId: String
        let object: Data
        do {
            keyId = try await service.generateKey()
            try Task.checkCancellation()
            object = try await service.attestKey(keyId, clientDataHash: clientDataHash)
        } catch let error as DCError {
            throw platformError(error)
        } catch is CancellationError {
            throw PlatformError.Failed(detail: "App Attest: cancelled")
        } catch {
            throw PlatformError.Failed(detail: "App Attest: \(error.localizedDescription)")
        }
        // The key id is the base64 of the App Attest key's public-key hash.
        guard let keyIdBytes = Data(base64Encoded: keyId) else {
            throw PlatformError.Failed(detail: "App Attest key id is not base64")
        }
        return .apple(challenge: challenge, keyId: keyIdBytes, attestationObject: object)
    }

    /// Apple's server unreachable is worth a retry; the rest is not.
    private static func platformError(_ error: DCError) -> PlatformError {
        switch error.code {
        case .serverUnavailable:
            return .Unreachable(detail: "App Attest: Apple's server is unavailable")
        case .featureUnsupported:
            return .Failed(detail: "App Attest is not supported on this device")
        case .invalidKey, .invalidInput, .unknownSystemFailure:
            return .Failed(detail: "App Attest failed: \(error.localizedDescription)")
        @unknown default:
            return .Failed(detail: "App Attest failed: \(error.localizedDescription)")
        }
    }
}
