// The Keychain-backed KeyStorage apps on Apple platforms use. Compiled where
// the Security framework exists (iOS, macOS, Mac Catalyst, visionOS); Linux
// builds of the package leave it out.
#if canImport(Security)
import Foundation
import Security

/// The keyring's storage on Apple platforms: one generic-password item in a
/// Keychain access group the app shares with its Notification Service
/// Extension.
///
/// The keyring bytes hold the device's secret keys. The item is
/// `kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly`: readable after the
/// first unlock following a restart, so the extension opens notifications
/// that arrive while the phone is locked; never in a backup or on another
/// device; never synchronized through iCloud Keychain.
///
/// ```swift
/// let storage = KeychainKeyStorage(accessGroup: "ABCDE12345.com.example.shared")
/// let keyring = try DeviceKeyring.loadOrCreate(storage: storage)   // in the app
/// let bytes = try storage.load()                                   // in the extension: load only
/// ```
///
/// Errors are `PushSealError` of kind `.storage`; the reason names the
/// `OSStatus` (`errSecInteractionNotAllowed`: the phone has not been unlocked
/// since it started).
public final class KeychainKeyStorage: KeyStorage, Sendable {
    /// `kSecAttrAccessGroup`: the shared access group, team prefix included.
    public let accessGroup: String
    /// `kSecAttrService` of the item.
    public let service: String
    /// `kSecAttrAccount` of the item.
    public let account: String

    /// Storage in `accessGroup` (team prefix included, listed in both the app's
    /// and the extension's `keychain-access-groups` entitlement).
    public init(accessGroup: String, service: String = "org.pushseal.keyring", account: String = "device-keyring") {
        self.accessGroup = accessGroup
        self.service = service
        self.account = account
    }

    /// The attributes that name the item.
    private var itemQuery: [String: Any] {
        [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
            kSecAttrAccessGroup as String: accessGroup,
            kSecAttrSynchronizable as String: false,
        ]
    }

    public func load() throws -> Data? {
        var query = itemQuery
        query[kSecReturnData as String] = true
        query[kSecMatchLimit as String] = kSecMatchLimitOne
        var result: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &result)
        switch status {
        case errSecSuccess:
            guard let data = result as? Data else {
                throw PushSealError(.storage, reason: "the Keychain item holds no data")
            }
            return data
        case errSecItemNotFound:
            return nil
        case errSecInteractionNotAllowed:
            throw PushSealError(
                .storage, reason: "the Keychain is locked: the device has not been unlocked since it started")
        default:
            throw PushSealError(.storage, reason: "reading the Keychain failed (OSStatus \(status))")
        }
    }

    public func save(bytes: Data) throws {
        let update: [String: Any] = [
            kSecValueData as String: bytes,
            // AfterFirstUnlock, restricted to this device: readable by the
            // extension while the phone is locked, never restored elsewhere.
            kSecAttrAccessible as String: kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
        ]
        var status = SecItemUpdate(itemQuery as CFDictionary, update as CFDictionary)
        if status == errSecItemNotFound {
            let add = itemQuery.merging(update) { _, new in new }
            status = SecItemAdd(add as CFDictionary, nil)
        }
        guard status == errSecSuccess else {
            throw PushSealError(.storage, reason: "writing the Keychain failed (OSStatus \(status))")
        }
    }

    /// Deletes the item: the device keys are gone for good (register a new
    /// keyring's public key afterwards).
    public func delete() throws {
        let status = SecItemDelete(itemQuery as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else {
            throw PushSealError(.storage, reason: "deleting the Keychain item failed (OSStatus \(status))")
        }
    }
}
#endif
