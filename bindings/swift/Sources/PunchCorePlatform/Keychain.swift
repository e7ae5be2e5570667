// The few generic-password Keychain calls the adapters need: the Secure
// Enclave keys' handles and the data-key wrapping key. Items are
// "ThisDeviceOnly": never in a backup, never on another phone. Every query
// names the data protection keychain: on macOS the file-based keychain
// ignores kSecAttrAccessible (Apple: kSecAttrAccessible, "Important");
// iOS ignores the key (kSecUseDataProtectionKeychain).
import Foundation
import PunchCore
import Security

enum Keychain {
    /// The item's bytes, nil when there is none; throws on any other failure
    /// (locked before first unlock, for instance) so a missing key is never
    /// confused with an unreadable one.
    static func read(service: String, account: String) throws -> Data? {
        var query = item(service: service, account: account)
        query[kSecReturnData as String] = true
        query[kSecMatchLimit as String] = kSecMatchLimitOne
        var result: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &result)
        if status == errSecItemNotFound {
            return nil
        }
        guard status == errSecSuccess, let data = result as? Data else {
            throw PlatformError.Failed(detail: "Keychain read failed (OSStatus \(status))")
        }
        return data
    }

    /// Adds the item, or replaces its bytes when it exists. Never delete
    /// then add: a failure between the two would lose the item (the
    /// pointer to the key in force, say). An existing item keeps the
    /// protection class it was added with; each account here always gets
    /// the same class.
    static func write(service: String, account: String, data: Data, accessible: CFString) throws {
        var attributes = item(service: service, account: account)
        attributes[kSecValueData as String] = data
        attributes[kSecAttrAccessible as String] = accessible
        var status = SecItemAdd(attributes as CFDictionary, nil)
        if status == errSecDuplicateItem {
            let update: [String: Any] = [kSecValueData as String: data]
            status = SecItemUpdate(item(service: service, account: account) as CFDictionary, update as CFDictionary)
        }
        guard status == errSecSuccess else {
            throw PlatformError.Failed(detail: "Keychain write failed (OSStatus \(status))")
        }
    }

    static func delete(service: String, account: String) throws {
        let status = SecItemDelete(item(service: service, account: account) as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else {
            throw PlatformError.Failed(detail: "Keychain delete failed (OSStatus \(status))")
        }
    }

    /// One generic password, by its primary keys (service and account:
    /// Apple, errSecDuplicateItem), in the data protection keychain.
    private static func item(service: String, account: String) -> [String: Any] {
        [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
            kSecUseDataProtectionKeychain as String: true,
        ]
    }
}
