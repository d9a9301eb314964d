package org.pushseal

import android.content.Context
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import android.util.AtomicFile
import java.io.File
import java.io.FileOutputStream
import java.io.IOException
import java.security.GeneralSecurityException
import java.security.KeyStore
import java.security.ProviderException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * The keyring's storage on Android: the keyring bytes (which hold the device's
 * secret keys) encrypted with AES-256-GCM under a key that lives in the
 * Android Keystore and never leaves it.
 *
 * The file is `noBackupFilesDir/<name>`: `0x01 | 12-byte IV | ciphertext and
 * 16-byte tag`, with the file's purpose as associated data. It sits in
 * credential-encrypted storage, readable after the first unlock following a
 * restart, which is also when FCM starts delivering to the app, and it is never
 * backed up (a restored copy could not be decrypted anyway: the Keystore key
 * stays on the device). The Keystore key needs no user authentication, so the
 * messaging service opens notifications while the phone is locked.
 *
 * Errors: `PushSealException.Storage` when the file or the Keystore cannot be
 * reached now (an `IOException` from `KeyStore.load` included): it may pass,
 * nothing is deleted. `PushSealException.InvalidKeyring` when the file exists
 * but can never be decrypted again (its Keystore key is gone or changed, the
 * file is damaged): [KeyringRecovery.loadOrRecreate] deletes it, makes a new
 * keyring and tells the app to register again.
 *
 * ```kotlin
 * val storage = KeystoreKeyStorage(context)
 * val loaded = KeyringRecovery.loadOrRecreate(storage)   // in the app
 * val bytes = storage.load()                             // in the messaging service: load only
 * ```
 */
class KeystoreKeyStorage @JvmOverloads constructor(
    context: Context,
    name: String = "pushseal-keyring.bin",
    private val keyAlias: String = "pushseal-keyring-wrapping-key",
) : DeletableKeyStorage {
    private val file = AtomicFile(File(context.noBackupFilesDir, name))

    override fun load(): ByteArray? {
        if (!file.baseFile.exists()) return null
        val stored = try {
            file.readFully()
        } catch (e: IOException) {
            throw PushSealException.Storage("reading the keyring file failed")
        }
        if (stored.size < 1 + IV_BYTES + TAG_BYTES || stored[0] != FORMAT) {
            throw PushSealException.InvalidKeyring("the keyring file is not in the expected format")
        }
        val key = keystore { it.getKey(keyAlias, null) as? SecretKey }
            ?: throw PushSealException.InvalidKeyring("the keyring file's Keystore key is gone: make a new keyring")
        return try {
            val cipher = Cipher.getInstance(TRANSFORMATION)
            cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(TAG_BYTES * 8, stored, 1, IV_BYTES))
            cipher.updateAAD(AAD)
            cipher.doFinal(stored, 1 + IV_BYTES, stored.size - 1 - IV_BYTES)
        } catch (e: GeneralSecurityException) {
            // A bad tag, or a key the Keystore invalidated: never readable again.
            throw PushSealException.InvalidKeyring("the keyring file cannot be decrypted with its Keystore key")
        } catch (e: ProviderException) {
            throw PushSealException.Storage("the Keystore failed while decrypting the keyring")
        }
    }

    override fun save(bytes: ByteArray) {
        val sealed = try {
            val cipher = Cipher.getInstance(TRANSFORMATION)
            // The Keystore picks a fresh random IV for every encryption.
            cipher.init(Cipher.ENCRYPT_MODE, keystore { existingOrNewKey(it) })
            cipher.updateAAD(AAD)
            val ciphertext = cipher.doFinal(bytes)
            val iv = cipher.iv
            if (iv.size != IV_BYTES) throw PushSealException.Storage("the Keystore chose an unexpected IV length")
            byteArrayOf(FORMAT) + iv + ciphertext
        } catch (e: GeneralSecurityException) {
            throw PushSealException.Storage("encrypting the keyring with its Keystore key failed")
        } catch (e: ProviderException) {
            throw PushSealException.Storage("the Keystore failed while encrypting the keyring")
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
            throw PushSealException.Storage("writing the keyring file failed")
        }
    }

    /** Deletes the keyring file and its Keystore key: the device keys are gone for good. */
    override fun delete() {
        file.delete()
        keystore { it.deleteEntry(keyAlias) }
    }

    /** Runs [use] on the loaded Android Keystore; every way loading or using it fails is `Storage`. */
    private fun <T> keystore(use: (KeyStore) -> T): T = try {
        use(KeyStore.getInstance(KEYSTORE).apply { load(null) })
    } catch (e: IOException) {
        throw PushSealException.Storage("the Android Keystore cannot be loaded")
    } catch (e: GeneralSecurityException) {
        throw PushSealException.Storage("the Android Keystore failed")
    } catch (e: ProviderException) {
        throw PushSealException.Storage("the Android Keystore failed")
    }

    /** The wrapping key, made on first use. */
    private fun existingOrNewKey(keyStore: KeyStore): SecretKey {
        (keyStore.getKey(keyAlias, null) as? SecretKey)?.let { return it }
        val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, KEYSTORE)
        generator.init(
            KeyGenParameterSpec.Builder(keyAlias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
                .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
                .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
                .setKeySize(256)
                .setRandomizedEncryptionRequired(true)
                .build(),
        )
        return generator.generateKey()
    }

    private companion object {
        const val KEYSTORE = "AndroidKeyStore"
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val FORMAT: Byte = 1
        const val IV_BYTES = 12
        const val TAG_BYTES = 16
        // The wording the sample app used before this class moved here: files it saved still open.
        val AAD = "pushseal sample keyring v1".toByteArray(Charsets.UTF_8)
    }
}
