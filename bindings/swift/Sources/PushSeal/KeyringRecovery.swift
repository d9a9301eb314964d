// The way back from a stored keyring that can no longer be read: the core's
// `DeviceKeyring::load_or_recreate`, named as in Kotlin
// (`KeyringRecovery.loadOrRecreate(storage)`).
import Foundation

/// The app's keyring, with the way back from one that can never be read again.
public enum KeyringRecovery {
    /// The keyring in `storage`: in the app only, never in the Notification
    /// Service Extension, which must only load (two processes creating keys
    /// race each other). `origin` says how it came:
    ///
    /// - `.loaded`: stored and readable (retired keys past their deadline
    ///   dropped and the keyring saved back).
    /// - `.created`: nothing was stored, a new keyring is saved.
    /// - `.recreated`: the storage threw `.invalidKeyring`, or the bytes are
    ///   not a keyring: `storage.delete()`, then a new keyring saved.
    ///
    /// Register the public key again when `origin.needsRegistration()`, and
    /// trust the app's senders again after a recreation. Any other failure
    /// (`.storage`: the Keychain is locked or cannot be reached now) is thrown
    /// as the storage threw it and deletes nothing: the keys may still work.
    ///
    /// ```swift
    /// let loaded = try KeyringRecovery.loadOrRecreate(storage: KeychainKeyStorage(accessGroup: group))
    /// if loaded.origin.needsRegistration() { register(loaded.keyring.publicKey()) }
    /// ```
    public static func loadOrRecreate(storage: KeyStorage, now: Date? = nil) throws -> LoadedKeyring {
        try loadOrRecreateKeyring(storage: storage, now: now)
    }
}
