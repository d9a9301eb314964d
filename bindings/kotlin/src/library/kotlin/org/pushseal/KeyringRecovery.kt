package org.pushseal

/**
 * A [KeyStorage] that can also delete what it holds: `KeystoreKeyStorage` in
 * the Android library. Deleting loses the device keys for good.
 */
interface DeletableKeyStorage : KeyStorage {
    /** Deletes the stored keyring (and whatever protects it). */
    fun delete()
}

/**
 * The app's keyring, and whether it had to be made again.
 *
 * @property keyring the keyring, saved in its storage.
 * @property recreated true when the stored keyring could never be read again
 *   and a new one replaced it: register its public key with the server again
 *   and trust the app's senders again (notifications sealed to the old key
 *   fail with `UNKNOWN_RECIPIENT_KEY` until the server has the new one).
 * @property created true when there was no keyring yet (first run).
 */
class LoadedKeyring(val keyring: DeviceKeyring, val created: Boolean, val recreated: Boolean)

/** The way back from a stored keyring that can no longer be read. */
object KeyringRecovery {
    /**
     * The keyring in [storage]: in the app only, never in the messaging
     * service or the extension, which must only load (two processes creating
     * keys race each other).
     *
     * - Stored and readable: that keyring.
     * - Nothing stored: a new keyring, saved first (`created`).
     * - Stored but unreadable for good (`INVALID_KEYRING`: the bytes are
     *   damaged, or the Keystore key that wrapped them is gone, as after a
     *   device-to-device transfer or a lock-screen reset): the storage is
     *   deleted and a new keyring saved (`recreated`).
     * - `STORAGE` errors (the disk or the Keystore cannot be reached now) are
     *   thrown as they are: they may pass, and deleting would lose keys that
     *   still work.
     */
    @JvmStatic
    fun loadOrRecreate(storage: DeletableKeyStorage): LoadedKeyring {
        val stored = try {
            storage.load()?.let { bytes ->
                try {
                    DeviceKeyring.fromBytes(bytes)
                } finally {
                    bytes.fill(0)
                }
            }
        } catch (e: PushSealException.InvalidKeyring) {
            storage.delete()
            return LoadedKeyring(fresh(storage), created = false, recreated = true)
        }
        return if (stored != null) {
            LoadedKeyring(stored, created = false, recreated = false)
        } else {
            LoadedKeyring(fresh(storage), created = true, recreated = false)
        }
    }

    private fun fresh(storage: KeyStorage): DeviceKeyring = DeviceKeyring.generate().also { it.save(storage) }
}
