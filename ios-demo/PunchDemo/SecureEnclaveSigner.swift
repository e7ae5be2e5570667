// The device key in the Secure Enclave (CryptoKit): P-256, never leaves the
// chip. Its opaque handle (dataRepresentation) is kept in the Keychain,
// this device only. The library verifies every signature it gets back.
import CryptoKit
import DeviceCheck
import Foundation
import PunchCore
import Security

final class SecureEnclaveSigner: DeviceSigner, @unchecked Sendable {
    private let key: SecureEnclave.P256.Signing.PrivateKey

    /// Loads the key saved under `tag`, or creates one. `requireUserPresence`
    /// makes every signature ask for Face ID / Touch ID / the passcode.
    init(tag: String = "com.example.punch.device-key", requireUserPresence: Bool = false) throws {
        if let handle = Keychain.load(tag) {
            key = try SecureEnclave.P256.Signing.PrivateKey(dataRepresentation: handle)
            return
        }
        var flags: SecAccessControlCreateFlags = [.privateKeyUsage]
        if requireUserPresence { flags.insert(.userPresence) }
        var error: Unmanaged<CFError>?
        guard let access = SecAccessControlCreateWithFlags(
            nil, kSecAttrAccessibleWhenUnlockedThisDeviceOnly, flags, &error
        ) else {
            throw PlatformError.Failed(detail: "access control: \(String(describing: error))")
        }
        key = try SecureEnclave.P256.Signing.PrivateKey(accessControl: access)
        try Keychain.save(tag, key.dataRepresentation)
    }

    /// SubjectPublicKeyInfo DER, as the library expects.
    func publicKeySpki() throws -> Data {
        key.publicKey.derRepresentation
    }

    /// ECDSA P-256 SHA-256 (CryptoKit hashes the message), DER-encoded.
    func sign(message: Data) async throws -> Data {
        try key.signature(for: message).derRepresentation
    }

    /// App Attest: a fresh App Attest key attests this genuine app instance,
    /// bound to the Secure Enclave signing key by
    /// clientDataHash = SHA-256(challenge ‖ the signing key's SPKI), which the
    /// server recomputes. Needs the `com.apple.developer.devicecheck.appattest-environment`
    /// entitlement. Where App Attest is unavailable (simulator, old devices),
    /// nil: the server records a software-level key.
    /// Suspends (no thread waits) on App Attest's own async calls.
    func attestation(challenge: Data) async throws -> DeviceAttestation? {
        let service = DCAppAttestService.shared
        guard service.isSupported else { return nil }
        let keyId: String
        let object: Data
        var bound = challenge
        bound.append(try publicKeySpki())
        let clientDataHash = Data(SHA256.hash(data: bound))
        do {
            keyId = try await service.generateKey()
            object = try await service.attestKey(keyId, clientDataHash: clientDataHash)
        } catch {
            throw PlatformError.Failed(detail: "App Attest: \(error.localizedDescription)")
        }
        guard let keyIdBytes = Data(base64Encoded: keyId) else {
            throw PlatformError.Failed(detail: "App Attest key id is not base64")
        }
        return .apple(challenge: challenge, keyId: keyIdBytes, attestationObject: object)
    }
}

/// The few Keychain calls the signer needs.
enum Keychain {
    static func load(_ tag: String) -> Data? {
        let query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrAccount as String: tag,
            kSecReturnData as String: true,
        ]
        var item: CFTypeRef?
        guard SecItemCopyMatching(query as CFDictionary, &item) == errSecSuccess else { return nil }
        return item as? Data
    }

    static func save(_ tag: String, _ data: Data) throws {
        let attributes: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrAccount as String: tag,
            kSecValueData as String: data,
            kSecAttrAccessible as String: kSecAttrAccessibleWhenUnlockedThisDeviceOnly,
        ]
        let status = SecItemAdd(attributes as CFDictionary, nil)
        guard status == errSecSuccess else {
            throw PlatformError.Failed(detail: "Keychain save failed: \(status)")
        }
    }
}
