// The few generic-password Keychain calls the adapters need: the Secure
// Enclave keys' handles and the data-key wrapping key. Items are
// "ThisDeviceOnly": never in a backup, never on another phone.
import Foundation
import PunchCore
import Security

enum Keychain {
    /// The item's bytes, nil when there is none; throws on any other failure
    /// (locked before first unlock, for instance) so a missing key is never
    /// confused with an unreadable one.
    static func read(service: String, account: String) throws -> Data? {
        let query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
            kSecReturnData as String: true,
            kSecMatchLimit as String: kSecMatchLimitOne,
        ]
        var item: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &item)
        if status == errSecItemNotFound {
            return nil
        }
        guard status == errSecSuccess, let data = item as? Data else {
            throw PlatformError.Failed(detail: "Keychain read failed (OSStatus \(status))")
        }
        return data
    }

    /// Replaces the item (delete, then add: the protection class is set
    /// only when an item is added).
    static func write(service: String, account: String, data: Data, accessible: CFString) throws {
        try delete(service: service, account: account)
        let attributes: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
            kSecValueData as String: data,
            kSecAttrAccessible as String: accessible,
        ]
        let status = SecItemAdd(attributes as CFDictionary, nil)
        guard status == errSecSuccess else {
            throw PlatformError.Failed(detail: "Keychain write failed (OSStatus \(status))")
        }
    }

    static func delete(service: String, account: String) throws {
        let query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
        ]
        let status = SecItemDelete(query as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else {
            throw PlatformError.Failed(detail: "Keychain delete failed (OSStatus \(status))")
        }
    }
}
