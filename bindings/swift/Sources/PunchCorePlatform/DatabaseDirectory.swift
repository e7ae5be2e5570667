// Where the punch database lives: Application Support/<name>, created with
// a Data Protection class and excluded from backups (the device keys are
// this-device-only, so a restored database could not sign anyway, and the
// signed chain must not be duplicated onto another phone).
import Foundation
import PunchCore

public enum DatabaseDirectory {
    /// The directory's path for `PunchClient.open(directory:options:)`.
    /// `completeUntilFirstUserAuthentication` (the default) keeps the files
    /// readable in the background after the first unlock (background sync
    /// needs it); `complete` locks them whenever the device is locked.
    public static func prepare(
        name: String = "punch",
        protection: FileProtectionType = .completeUntilFirstUserAuthentication
    ) throws -> String {
        let fileManager = FileManager.default
        do {
            var url = try fileManager.url(
                for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true
            ).appendingPathComponent(name, isDirectory: true)
            var attributes: [FileAttributeKey: Any] = [:]
            #if os(iOS)
            // Data Protection classes are an iOS feature (macOS: FileVault).
            attributes[.protectionKey] = protection
            #endif
            try fileManager.createDirectory(at: url, withIntermediateDirectories: true, attributes: attributes)
            // New files (the database, its WAL and journal) inherit the
            // directory's class; set it again for a directory made earlier.
            if !attributes.isEmpty {
                try fileManager.setAttributes(attributes, ofItemAtPath: url.path)
            }
            // Set at every start: some file operations reset it (Apple's
            // isExcludedFromBackupKey documentation).
            var values = URLResourceValues()
            values.isExcludedFromBackup = true
            try url.setResourceValues(values)
            return url.path
        } catch {
            throw PlatformError.Failed(detail: "the database directory cannot be prepared: \(error.localizedDescription)")
        }
    }
}
