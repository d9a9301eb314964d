package org.pushseal

import android.content.Context
import android.content.pm.PackageManager
import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import android.util.AtomicFile
import java.io.File
import java.io.FileNotFoundException
import java.io.FileOutputStream
import java.io.IOException
import java.security.GeneralSecurityException
import java.security.KeyStore
import java.security.ProviderException
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * The keyring's storage on Android: the keyring bytes (which hold the device's
 * secret keys) encrypted with AES-256-GCM under a key that lives in the
 * Android Keystore and never leaves it (in StrongBox where the device has
 * one, else in the TEE).
 *
 * The file is `noBackupFilesDir/<name>`: `0x01 | 12-byte IV | ciphertext and
 * 16-byte tag`, with the file's purpose as associated data, written and read
 * through [AtomicFile] (a write interrupted half-way leaves the previous
 * file, which the next read recovers). It sits in credential-encrypted
 * storage, readable after the first unlock following a restart, which is also
 * when FCM starts delivering to the app, and it is never backed up (a restored
 * copy could not be decrypted anyway: the Keystore key stays on the device).
 * The Keystore key needs no user authentication, so the messaging service
 * opens notifications while the phone is locked.
 *
 * Errors say whether the keys may still work:
 * - `PushSealException.InvalidKeyring` only when the file can never be read
 *   again: a bad tag (`AEADBadTagException`: the file is damaged or the key
 *   changed), `KeyPermanentlyInvalidatedException`, a Keystore key that is
 *   gone, a file in a format this class does not know.
 *   [KeyringRecovery.loadOrRecreate] then deletes it and makes a new keyring.
 * - `PushSealException.Storage` for everything else: an `IOException`, any
 *   other `GeneralSecurityException` (a plain `InvalidKeyException`,
 *   `UnrecoverableKeyException`, `KeyStoreException`, ...) or a
 *   `ProviderException` (the Keystore daemon restarting, a busy secure
 *   element). Such failures pass: retry later; nothing is deleted.
 *
 * ```kotlin
 * val storage = KeystoreKeyStorage(context)
 * val loaded = KeyringRecovery.loadOrRecreate(storage)   // in the app
 * val bytes = storage.load()                             // in the messaging service: load only
 * ```
 */
class KeystoreKeyStorage internal constructor(
    private val file: AtomicFile,
    private val keyAlias: String,
    private val keys: WrappingKeys,
) : KeyStorage {
    /** The storage in `noBackupFilesDir/[name]`, wrapped by the Android Keystore key [keyAlias]. */
    @JvmOverloads
    constructor(
        context: Context,
        name: String = "pushseal-keyring.bin",
        keyAlias: String = "pushseal-keyring-wrapping-key",
    ) : this(AtomicFile(File(context.noBackupFilesDir, name)), keyAlias, AndroidKeystoreKeys(hasStrongBox(context)))

    override fun load(): ByteArray? {
        val stored = readFile() ?: return null
        if (stored.size < 1 + IV_BYTES + TAG_BYTES || stored[0] != FORMAT) {
            throw PushSealException.InvalidKeyring("the keyring file is not in a format this library knows")
        }
        return keystoreCall("decrypting the keyring") {
            val key = keys.existing(keyAlias)
                ?: throw PushSealException.InvalidKeyring("the keyring file's Keystore key is gone: make a new keyring")
            val cipher = keys.cipher()
            cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(TAG_BYTES * 8, stored, 1, IV_BYTES))
            cipher.updateAAD(AAD)
            cipher.doFinal(stored, 1 + IV_BYTES, stored.size - 1 - IV_BYTES)
        }
    }

    override fun save(bytes: ByteArray) {
        val sealed = try {
            keystoreCall("encrypting the keyring") {
                val cipher = keys.cipher()
                // The Keystore picks a fresh random IV for every encryption.
                cipher.init(Cipher.ENCRYPT_MODE, keys.existing(keyAlias) ?: keys.create(keyAlias))
                cipher.updateAAD(AAD)
                val ciphertext = cipher.doFinal(bytes)
                val iv = cipher.iv
                if (iv == null || iv.size != IV_BYTES) {
                    throw PushSealException.Storage("the Keystore chose an unexpected IV length")
                }
                byteArrayOf(FORMAT) + iv + ciphertext
            }
        } finally {
            bytes.fill(0)
        }
        var out: FileOutputStream? = null
        try {
            out = file.startWrite()
            out.write(sealed)
            file.finishWrite(out)
        } catch (e: IOException) {
            out?.let(file::failWrite)
            throw PushSealException.Storage("writing the keyring file failed: ${e.javaClass.simpleName}")
        }
    }

    /** Deletes the keyring file and its Keystore key: the device keys are gone for good. */
    override fun delete() {
        file.delete()
        keystoreCall("deleting the keyring's Keystore key") { keys.delete(keyAlias) }
    }

    /**
     * The file's bytes, or null when there is no keyring file. Read through
     * [AtomicFile.readFully] with no `exists()` check first, so that the
     * backup an interrupted write left is recovered; a file that exists and
     * cannot be read is `Storage`, never "no keyring" (which would make a new
     * one over it).
     */
    private fun readFile(): ByteArray? = try {
        file.readFully()
    } catch (e: FileNotFoundException) {
        if (file.baseFile.exists()) {
            throw PushSealException.Storage("the keyring file exists but cannot be opened")
        }
        null
    } catch (e: IOException) {
        throw PushSealException.Storage("reading the keyring file failed: ${e.javaClass.simpleName}")
    }

    private companion object {
        const val FORMAT: Byte = 1
        const val IV_BYTES = 12
        const val TAG_BYTES = 16

        // The wording the sample app used before this class moved here: files it saved still open.
        val AAD = "pushseal sample keyring v1".toByteArray(Charsets.UTF_8)

        fun hasStrongBox(context: Context): Boolean = Build.VERSION.SDK_INT >= Build.VERSION_CODES.P &&
            context.packageManager.hasSystemFeature(PackageManager.FEATURE_STRONGBOX_KEYSTORE)
    }
}

/**
 * Runs a Keystore [call] ([what] it does, for the message), and turns what it
 * throws into the two answers a caller can act on: `InvalidKeyring` for a
 * failure that means the file can never be read again, `Storage` for every
 * other one (it may pass; delete nothing).
 */
internal inline fun <T> keystoreCall(what: String, call: () -> T): T = try {
    call()
} catch (e: PushSealException) {
    throw e
} catch (e: AEADBadTagException) {
    throw PushSealException.InvalidKeyring("$what: the tag does not match (the file is damaged or its key changed)")
} catch (e: KeyPermanentlyInvalidatedException) {
    throw PushSealException.InvalidKeyring("$what: the Keystore invalidated the key for good")
} catch (e: GeneralSecurityException) {
    throw PushSealException.Storage("$what failed (${e.javaClass.simpleName}): try again later")
} catch (e: ProviderException) {
    throw PushSealException.Storage("$what failed in the Keystore (${e.javaClass.simpleName}): try again later")
} catch (e: IOException) {
    // KeyStore.load
    throw PushSealException.Storage("$what: the Android Keystore cannot be loaded: try again later")
}

/**
 * Where [KeystoreKeyStorage] gets its wrapping key and cipher: the Android
 * Keystore on a device ([AndroidKeystoreKeys]); the JVM tests give a key and
 * a cipher of their own, which throw what the Keystore throws.
 */
internal interface WrappingKeys {
    /** The wrapping key named [alias], or null if there is none. */
    fun existing(alias: String): SecretKey?

    /** A new wrapping key named [alias]. */
    fun create(alias: String): SecretKey

    /** Deletes the key named [alias], if there is one. */
    fun delete(alias: String)

    /** An AES/GCM/NoPadding cipher for the key. */
    fun cipher(): Cipher
}

/**
 * The Android Keystore: AES-256-GCM keys that never leave it, no user
 * authentication (the messaging service runs while the phone is locked), a
 * random IV chosen by the Keystore for every encryption, in StrongBox when
 * [strongBox] says the device has it. Only a device runs this.
 */
internal class AndroidKeystoreKeys(private val strongBox: Boolean) : WrappingKeys {
    override fun existing(alias: String): SecretKey? = keyStore().getKey(alias, null) as? SecretKey

    override fun create(alias: String): SecretKey = createPreferringStrongBox(strongBox) { inStrongBox ->
        val spec = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setKeySize(256)
            .setRandomizedEncryptionRequired(true)
        if (inStrongBox && Build.VERSION.SDK_INT >= Build.VERSION_CODES.P) spec.setIsStrongBoxBacked(true)
        KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, KEYSTORE).run {
            init(spec.build())
            generateKey()
        }
    }

    override fun delete(alias: String) = keyStore().deleteEntry(alias)

    override fun cipher(): Cipher = Cipher.getInstance("AES/GCM/NoPadding")

    private fun keyStore(): KeyStore = KeyStore.getInstance(KEYSTORE).apply { load(null) }

    private companion object {
        const val KEYSTORE = "AndroidKeyStore"
    }
}

/**
 * [generate] in StrongBox when [strongBox], and again outside it if StrongBox
 * turns the key down (`StrongBoxUnavailableException`: busy, or without room
 * for another key); outside it when not [strongBox].
 */
internal fun createPreferringStrongBox(strongBox: Boolean, generate: (inStrongBox: Boolean) -> SecretKey): SecretKey {
    if (strongBox) {
        try {
            return generate(true)
        } catch (e: StrongBoxUnavailableException) {
            // The TEE below: the key still never leaves the Keystore.
        }
    }
    return generate(false)
}
