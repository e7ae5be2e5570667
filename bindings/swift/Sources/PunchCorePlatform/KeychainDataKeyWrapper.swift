// The library's DataKeyWrapper on iOS: the 32-byte data key that seals
// record payloads is stored sealed with AES-GCM under a wrapping key kept
// in the Keychain (kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly, so a
// background sync after the first unlock can still open records).
import CryptoKit
import Foundation
import PunchCore

public final class KeychainDataKeyWrapper: DataKeyWrapper, @unchecked Sendable {
    private let service: String
    private let account: String
    private let lock = NSLock()

    public init(service: String = "punchcore", account: String = "data-key-wrapping-key") {
        self.service = service
        self.account = account
    }

    public func wrap(key: Data) throws -> Data {
        let kek = try wrappingKey(createIfMissing: true)
        do {
            guard let sealed = try AES.GCM.seal(key, using: kek).combined else {
                throw PlatformError.Failed(detail: "AES-GCM gave no combined form")
            }
            return sealed
        } catch let error as PlatformError {
            throw error
        } catch {
            throw PlatformError.Failed(detail: "wrapping the data key failed: \(error)")
        }
    }

    /// Throws when the wrapping key is gone (app deleted and reinstalled,
    /// device restored): the library then keeps the stored records and
    /// refuses new punches until `rotateDataKey()`.
    public func unwrap(wrapped: Data) throws -> Data {
        let kek = try wrappingKey(createIfMissing: false)
        do {
            return try AES.GCM.open(AES.GCM.SealedBox(combined: wrapped), using: kek)
        } catch {
            throw PlatformError.Failed(detail: "unwrapping the data key failed: \(error)")
        }
    }

    private func wrappingKey(createIfMissing: Bool) throws -> SymmetricKey {
        lock.lock()
        defer { lock.unlock() }
        if let bytes = try Keychain.read(service: service, account: account) {
            return SymmetricKey(data: bytes)
        }
        guard createIfMissing else {
            throw PlatformError.Failed(detail: "the data key's wrapping key is not in the Keychain")
        }
        let key = SymmetricKey(size: .bits256)
        let bytes = key.withUnsafeBytes { Data($0) }
        try Keychain.write(
            service: service, account: account, data: bytes,
            accessible: kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly
        )
        return key
    }
}
