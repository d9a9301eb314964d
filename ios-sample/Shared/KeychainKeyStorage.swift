import Foundation
import PushSeal
import Security

/// The keyring's storage: one generic-password item in the Keychain access
/// group the app shares with its Notification Service Extension.
///
/// The keyring bytes hold the device's secret keys. The item is readable
/// after the first unlock following a restart (so the extension can open
/// notifications that arrive while the phone is locked), stays on this
/// device (it is never copied into a backup or to another phone), and is not
/// synchronized through iCloud Keychain.
final class KeychainKeyStorage: KeyStorage {
    /// `kSecAttrService` of the item.
    static let service = "org.pushseal.sample.keyring"
    /// `kSecAttrAccount` of the item.
    static let account = "device-keyring"

    private let accessGroup: String

    /// Storage in this Keychain access group (team prefix included).
    init(accessGroup: String) {
        self.accessGroup = accessGroup
    }

    /// The attributes that name the item.
    private var itemQuery: [String: Any] {
        [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: Self.service,
            kSecAttrAccount as String: Self.account,
            kSecAttrAccessGroup as String: accessGroup,
            kSecAttrSynchronizable as String: false,
        ]
    }

    func load() throws -> Data? {
        var query = itemQuery
        query[kSecReturnData as String] = true
        query[kSecMatchLimit as String] = kSecMatchLimitOne
        var result: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &result)
        switch status {
        case errSecSuccess:
            guard let data = result as? Data else {
                throw PushSealError.Storage(reason: "the Keychain item holds no data")
            }
            return data
        case errSecItemNotFound:
            return nil
        case errSecInteractionNotAllowed:
            throw PushSealError.Storage(reason: "the Keychain is locked: the phone has not been unlocked since it started")
        default:
            throw PushSealError.Storage(reason: "reading the Keychain failed (OSStatus \(status))")
        }
    }

    func save(bytes: Data) throws {
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
            throw PushSealError.Storage(reason: "writing the Keychain failed (OSStatus \(status))")
        }
    }

    /// Deletes the item: the device keys are gone for good.
    func delete() throws {
        let status = SecItemDelete(itemQuery as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else {
            throw PushSealError.Storage(reason: "deleting the Keychain item failed (OSStatus \(status))")
        }
    }
}
