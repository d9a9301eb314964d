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
     * The loading itself is the core's (`DeviceKeyring.loadOrCreate`: retired
     * keys past their deadline are dropped and the keyring saved back); this
     * adds the way back from a keyring that can no longer be read.
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
        val watched = EmptyWatch(storage)
        return try {
            val keyring = DeviceKeyring.loadOrCreate(watched)
            LoadedKeyring(keyring, created = watched.wasEmpty, recreated = false)
        } catch (e: PushSealException.InvalidKeyring) {
            storage.delete()
            // Not loaded again: what was deleted is gone, whatever a load would say.
            val fresh = DeviceKeyring.generate().also { it.save(storage) }
            LoadedKeyring(fresh, created = false, recreated = true)
        }
    }

    /** [storage], noting whether its load found nothing (a keyring is then created). */
    private class EmptyWatch(private val storage: KeyStorage) : KeyStorage by storage {
        var wasEmpty = false
            private set

        override fun load(): ByteArray? = storage.load().also { wasEmpty = it == null }
    }
}
