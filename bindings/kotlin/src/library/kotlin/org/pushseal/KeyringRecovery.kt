package org.pushseal

import java.time.Instant

/** The way back from a stored keyring that can no longer be read: the core's, once for every platform. */
object KeyringRecovery {
    /**
     * The keyring in [storage]: in the app only, never in the messaging
     * service, which must only load (two processes creating keys race each
     * other). The core's `DeviceKeyring::load_or_recreate`
     * ([loadOrRecreateKeyring]); [LoadedKeyring.origin] says how it came:
     *
     * - [KeyringOrigin.LOADED]: stored and readable (retired keys past their
     *   deadline dropped and the keyring saved back).
     * - [KeyringOrigin.CREATED]: nothing was stored, a new keyring is saved.
     * - [KeyringOrigin.RECREATED]: the storage threw `InvalidKeyring` (the
     *   Keystore key that wrapped the bytes is gone, as after a
     *   device-to-device transfer or a lock-screen reset) or the bytes are not
     *   a keyring: [KeyStorage.delete], then a new keyring saved.
     *
     * Register the public key again when `origin.needsRegistration()`, and
     * trust the app's senders again after a recreation. Any other failure
     * (`Storage`: the disk or the Keystore cannot be reached now) is thrown
     * as the storage threw it and deletes nothing: the keys may still work.
     *
     * ```kotlin
     * val loaded = KeyringRecovery.loadOrRecreate(KeystoreKeyStorage(context))
     * if (loaded.origin.needsRegistration()) register(loaded.keyring.publicKey())
     * ```
     */
    @JvmStatic
    @JvmOverloads
    fun loadOrRecreate(storage: KeyStorage, now: Instant? = null): LoadedKeyring = loadOrRecreateKeyring(storage, now)
}
