package org.pushseal.sample

import android.content.Context
import org.pushseal.DeviceKeyring
import org.pushseal.KeyringRecovery
import org.pushseal.KeystoreKeyStorage
import java.time.Duration

/**
 * The one place the keyring is read and changed. Changes are serialized within
 * the process so the app and the messaging service never interleave a
 * load-change-save.
 */
object DeviceKeys {
    /** How long a rotated-out key keeps opening notifications: 28 days, the longest TTL. */
    private val KEEP_ROTATED_KEY: Duration = Duration.ofDays(28)

    /**
     * The public half of the current keys: the version 1 key and its id, what
     * the app shows, and the registration text (both public keys), what it registers.
     */
    data class Current(val keyId: String, val publicKey: String, val registration: String)

    private fun storage(context: Context) = KeystoreKeyStorage(context.applicationContext)

    /**
     * The app's keyring: created and saved on first use, made again when the
     * stored one can never be read (its Keystore key is gone: the new key is
     * registered again, see [RegistrationWorker]), and made to trust the
     * sender this build was configured with: its version 1 key and, when
     * given, its version 2 key (pinned for post-quantum notifications). Close it after use.
     */
    @Synchronized
    fun loadOrCreate(context: Context): DeviceKeyring {
        val storage = storage(context)
        val loaded = KeyringRecovery.loadOrRecreate(storage)
        // A new keyring (first run, or the stored one could never be read again): register it.
        if (loaded.origin.needsRegistration()) RegistrationWorker.enqueue(context.applicationContext)
        val keyring = loaded.keyring
        var changed = false
        val sender = BuildConfig.PUSHSEAL_SENDER_PUBLIC_KEY
        if (sender.isNotEmpty() && sender !in keyring.trustedSenders()) {
            keyring.trustSender(sender)
            changed = true
        }
        val senderV2 = BuildConfig.PUSHSEAL_SENDER_PUBLIC_KEY_V2
        if (senderV2.isNotEmpty() && senderV2 !in keyring.trustedSendersV2()) {
            keyring.trustSenderV2(senderV2)
            changed = true
        }
        if (changed) keyring.save(storage)
        return keyring
    }

    /** The keyring as stored, or null if the app has not created one yet; never creates one. */
    @Synchronized
    fun loadExisting(context: Context): DeviceKeyring? = storage(context).load()?.let { DeviceKeyring.fromBytes(it) }

    /** The current key's id, public key and registration text. */
    fun current(context: Context): Current =
        loadOrCreate(context).use { Current(it.keyId(), it.publicKey(), it.registration()) }

    /** Makes a new current key; the old one keeps opening notifications for 28 days. */
    @Synchronized
    fun rotate(context: Context): Current {
        val storage = storage(context)
        return KeyringRecovery.loadOrRecreate(storage).keyring.use { keyring ->
            keyring.rotate(KEEP_ROTATED_KEY, null)
            keyring.save(storage)
            Current(keyring.keyId(), keyring.publicKey(), keyring.registration())
        }
    }
}
