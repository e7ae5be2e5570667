// The device's two keys in the Secure Enclave (CryptoKit), as the library's
// KeyProvider asks for them: the punch key signs records and may require
// the user; the channel key signs requests and never does (usable after
// the first unlock, so background upload works with the phone locked).
// Only an opaque handle (`dataRepresentation`, usable by this device's
// Secure Enclave alone) is kept, in the Keychain, this device only. The
// library checks every signature against the key's public half.
import CryptoKit
import Foundation
import LocalAuthentication
import PunchCore
import Security

/// What a punch signature asks of the user (the employer's policy decides).
public enum UserPresencePolicy: String, Codable, Sendable {
    /// No prompt: the key signs while the device is unlocked. (Not named
    /// `none`, which reads as `Optional.none` where an optional is expected.)
    case notRequired
    /// Face ID, Touch ID or the passcode at every punch.
    case userPresence
    /// Face ID or Touch ID as enrolled when the key was made: enrolling a
    /// new face or finger invalidates the key (then `rotatePunchKey`).
    case biometryCurrentSet
}

/// A Secure Enclave key's handle, its public half and what it asks of the
/// user. The record itself is readable after the first unlock whatever the
/// key asks: the library checks the public half when it opens, which must
/// work even when the key can no longer sign (then signing throws
/// `KeyInvalidated` and the app rotates the key). The handle alone is
/// useless: only this device's Secure Enclave can use it, under the key's
/// own access control.
struct StoredKey: Codable {
    let handle: Data
    let publicKeySpki: Data
    let presence: UserPresencePolicy
}

/// Creates and keeps the punch and channel keys. Give it to
/// `enrollWithKeys(code:provider:)` and `rotatePunchKey(provider:reason:)`;
/// call `keep()` when that call succeeded (`discard()` when it failed), then
/// open the client with `signer(for: .punch)` and `signer(for: .channel)`.
public final class SecureEnclaveKeys: KeyProvider, @unchecked Sendable {
    private let service: String
    private let punchPresence: UserPresencePolicy
    private let promptReason: String
    private let lock = NSLock()
    /// Keys made by `createKey` and not yet kept: role → Keychain account.
    private var pending: [KeyRole: String] = [:]

    /// `promptReason` is shown in the Face ID / Touch ID sheet.
    public init(
        service: String = "punchcore.keys",
        punchPresence: UserPresencePolicy = .notRequired,
        promptReason: String = "Confirm that it is you who punches."
    ) {
        self.service = service
        self.punchPresence = punchPresence
        self.promptReason = promptReason
    }

    /// False on the simulator and Macs without a Secure Enclave: use the
    /// library's software keys there (no provider, no signers).
    public static var isAvailable: Bool { SecureEnclave.isAvailable }

    /// The signer of the key in force for `role`; nil before any was kept.
    /// Throws `PlatformError.KeyInvalidated` when the key was kept but the
    /// Keychain no longer has its record (the Keychain was reset).
    public func signer(for role: KeyRole) throws -> SecureEnclaveSigner? {
        guard let account = try current(role) else { return nil }
        guard let bytes = try Keychain.read(service: service, account: account) else {
            throw PlatformError.KeyInvalidated(detail: "the \(Self.name(role)) key is no longer in the Keychain")
        }
        let stored: StoredKey
        do {
            stored = try JSONDecoder().decode(StoredKey.self, from: bytes)
        } catch {
            throw PlatformError.Failed(detail: "the \(Self.name(role)) key's record is unreadable")
        }
        return SecureEnclaveSigner(stored: stored, promptReason: promptReason)
    }

    public func createKey(role: KeyRole, challenge: Data?) async throws -> ProvidedKey {
        let presence: UserPresencePolicy
        switch role {
        case .punch: presence = punchPresence
        case .channel: presence = .notRequired
        }
        let accessible = Self.accessibility(role: role, presence: presence)
        let key: SecureEnclave.P256.Signing.PrivateKey
        do {
            key = try SecureEnclave.P256.Signing.PrivateKey(
                accessControl: try Self.accessControl(accessible: accessible, presence: presence)
            )
        } catch let error as PlatformError {
            throw error
        } catch {
            throw PlatformError.Failed(detail: "the Secure Enclave could not create a key: \(error)")
        }
        let spki = key.publicKey.derRepresentation
        let stored = StoredKey(handle: key.dataRepresentation, publicKeySpki: spki, presence: presence)
        let account = "\(Self.name(role)).\(UUID().uuidString)"
        let record: Data
        do {
            record = try JSONEncoder().encode(stored)
        } catch {
            throw PlatformError.Failed(detail: "the key's record cannot be encoded")
        }
        try Keychain.write(
            service: service, account: account, data: record,
            accessible: kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly
        )
        if let replaced = remember(account, for: role) {
            try? Keychain.delete(service: service, account: replaced)
        }
        var attestation: DeviceAttestation?
        if let challenge {
            attestation = try await AppAttest.attest(challenge: challenge, publicKeySpki: spki)
        }
        return ProvidedKey(
            signer: SecureEnclaveSigner(stored: stored, promptReason: promptReason),
            publicKeySpki: spki,
            attestation: attestation
        )
    }

    /// Makes the keys created since the last `keep()` the ones in force
    /// (after `enrollWithKeys` or `rotatePunchKey` succeeded) and deletes
    /// the ones they replace.
    public func keep() throws {
        lock.lock()
        let made = pending
        pending.removeAll()
        lock.unlock()
        for (role, account) in made {
            let previous = try current(role)
            try Keychain.write(
                service: service, account: Self.pointer(role), data: Data(account.utf8),
                accessible: kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly
            )
            if let previous, previous != account {
                try? Keychain.delete(service: service, account: previous)
            }
        }
    }

    /// Forgets the keys created since the last `keep()` (the call they were
    /// made for failed).
    public func discard() {
        lock.lock()
        let made = pending
        pending.removeAll()
        lock.unlock()
        for account in made.values {
            try? Keychain.delete(service: service, account: account)
        }
    }

    /// Synchronous: NSLock is not for async contexts.
    private func remember(_ account: String, for role: KeyRole) -> String? {
        lock.lock()
        defer { lock.unlock() }
        return pending.updateValue(account, forKey: role)
    }

    private func current(_ role: KeyRole) throws -> String? {
        try Keychain.read(service: service, account: Self.pointer(role)).map { String(decoding: $0, as: UTF8.self) }
    }

    private static func pointer(_ role: KeyRole) -> String { "\(name(role)).current" }

    static func name(_ role: KeyRole) -> String {
        switch role {
        case .punch: return "punch"
        case .channel: return "channel"
        }
    }

    /// The key's own protection class. The channel key must work in the
    /// background after the first unlock; a punch key that asks for the
    /// user needs a passcode (removing it makes the key unusable: the
    /// rotation path), one that does not asks for an unlocked device.
    static func accessibility(role: KeyRole, presence: UserPresencePolicy) -> CFString {
        switch (role, presence) {
        case (.channel, _):
            return kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly
        case (.punch, .notRequired):
            return kSecAttrAccessibleWhenUnlockedThisDeviceOnly
        case (.punch, .userPresence), (.punch, .biometryCurrentSet):
            return kSecAttrAccessibleWhenPasscodeSetThisDeviceOnly
        }
    }

    static func accessControl(accessible: CFString, presence: UserPresencePolicy) throws -> SecAccessControl {
        var flags: SecAccessControlCreateFlags = [.privateKeyUsage]
        switch presence {
        case .notRequired: break
        case .userPresence: flags.insert(.userPresence)
        case .biometryCurrentSet: flags.insert(.biometryCurrentSet)
        }
        var error: Unmanaged<CFError>?
        guard let access = SecAccessControlCreateWithFlags(nil, accessible, flags, &error) else {
            let reason = error.map { String(describing: $0.takeRetainedValue()) } ?? "unknown"
            throw PlatformError.Failed(detail: "access control: \(reason)")
        }
        return access
    }
}

/// One Secure Enclave key as the library's DeviceSigner: ECDSA P-256 with
/// SHA-256 (CryptoKit hashes the message), DER-encoded; the public key as
/// SubjectPublicKeyInfo DER.
public final class SecureEnclaveSigner: DeviceSigner, @unchecked Sendable {
    private let stored: StoredKey
    private let promptReason: String

    init(stored: StoredKey, promptReason: String) {
        self.stored = stored
        self.promptReason = promptReason
    }

    /// From the record: answers even when the key can no longer sign.
    public func publicKeySpki() throws -> Data {
        stored.publicKeySpki
    }

    /// Asks the user first when the key requires it, suspending (no thread
    /// waits) until they answer; a cancelled Task closes the prompt. The key
    /// is then opened with that authenticated context and signs at once.
    public func sign(message: Data) async throws -> Data {
        let context = LAContext()
        switch stored.presence {
        case .notRequired:
            break
        case .userPresence, .biometryCurrentSet:
            let access = try SecureEnclaveKeys.accessControl(
                accessible: kSecAttrAccessibleWhenPasscodeSetThisDeviceOnly, presence: stored.presence
            )
            do {
                try await withTaskCancellationHandler {
                    _ = try await context.evaluateAccessControl(
                        access, operation: .useKeySign, localizedReason: promptReason
                    )
                } onCancel: {
                    context.invalidate()
                }
            } catch {
                throw Self.platformError(error, doing: "confirm the user")
            }
        }
        let key: SecureEnclave.P256.Signing.PrivateKey
        do {
            key = try SecureEnclave.P256.Signing.PrivateKey(
                dataRepresentation: stored.handle, authenticationContext: context
            )
        } catch {
            // This Secure Enclave cannot open the handle any more.
            throw PlatformError.KeyInvalidated(detail: "the Secure Enclave can no longer open this key: \(error)")
        }
        do {
            return try key.signature(for: message).derRepresentation
        } catch {
            throw Self.platformError(error, doing: "sign")
        }
    }

    /// Keys from `SecureEnclaveKeys.createKey` carry their proof in
    /// `ProvidedKey.attestation`; this is the one-key path
    /// (`enrollWithChallenge`).
    public func attestation(challenge: Data) async throws -> DeviceAttestation? {
        try await AppAttest.attest(challenge: challenge, publicKeySpki: publicKeySpki())
    }

    /// The key is gone for good when the passcode or the enrolled biometry
    /// it was bound to is gone; the user declining is not that.
    static func platformError(_ error: Error, doing what: String) -> PlatformError {
        guard let error = error as? LAError else {
            return .Failed(detail: "could not \(what): \(error)")
        }
        switch error.code {
        case .passcodeNotSet, .biometryNotEnrolled:
            return .KeyInvalidated(detail: "could not \(what): the passcode or biometry the key needs is gone")
        case .userCancel, .appCancel, .systemCancel, .userFallback, .authenticationFailed:
            return .Failed(detail: "could not \(what): the user did not confirm")
        default:
            return .Failed(detail: "could not \(what): \(error.localizedDescription)")
        }
    }
}
