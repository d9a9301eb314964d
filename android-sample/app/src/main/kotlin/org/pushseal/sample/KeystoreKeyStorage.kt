package org.pushseal.sample

import android.content.Context
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import androidx.core.util.AtomicFile
import org.pushseal.KeyStorage
import org.pushseal.PushSealException
import java.io.File
import java.io.FileOutputStream
import java.io.IOException
import java.security.GeneralSecurityException
import java.security.KeyStore
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * The keyring's storage: the keyring bytes (which hold the device's secret
 * keys) encrypted with AES-256-GCM under a key that lives in the Android
 * Keystore and never leaves it.
 *
 * The file is `noBackupFilesDir/pushseal-keyring.bin`: `0x01 | 12-byte IV |
 * ciphertext and 16-byte tag`, with the file's purpose as associated data. It
 * sits in credential-encrypted storage, readable after the first unlock
 * following a restart, which is also when FCM starts delivering to the app.
 * The Keystore key needs no user authentication, so the messaging service can
 * open notifications while the phone is locked; it is deleted with the app.
 */
class KeystoreKeyStorage(context: Context) : KeyStorage {
    private val file = AtomicFile(File(context.noBackupFilesDir, FILE_NAME))

    override fun load(): ByteArray? {
        if (!file.baseFile.exists()) return null
        val stored = try {
            file.readFully()
        } catch (e: IOException) {
            throw PushSealException.Storage("reading the keyring file failed")
        }
        if (stored.size < 1 + IV_BYTES + TAG_BYTES || stored[0] != FORMAT) {
            throw PushSealException.Storage("the keyring file is not in the expected format")
        }
        return try {
            val cipher = Cipher.getInstance(TRANSFORMATION)
            cipher.init(Cipher.DECRYPT_MODE, key(), GCMParameterSpec(TAG_BYTES * 8, stored, 1, IV_BYTES))
            cipher.updateAAD(AAD)
            cipher.doFinal(stored, 1 + IV_BYTES, stored.size - 1 - IV_BYTES)
        } catch (e: GeneralSecurityException) {
            throw PushSealException.Storage("the keyring file cannot be decrypted with its Keystore key")
        }
    }

    override fun save(bytes: ByteArray) {
        val sealed = try {
            val cipher = Cipher.getInstance(TRANSFORMATION)
            // The Keystore picks a fresh random IV for every encryption.
            cipher.init(Cipher.ENCRYPT_MODE, key())
            cipher.updateAAD(AAD)
            val ciphertext = cipher.doFinal(bytes)
            val iv = cipher.iv
            if (iv.size != IV_BYTES) throw PushSealException.Storage("the Keystore chose an unexpected IV length")
            byteArrayOf(FORMAT) + iv + ciphertext
        } catch (e: GeneralSecurityException) {
            throw PushSealException.Storage("encrypting the keyring with its Keystore key failed")
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
    fun delete() {
        file.delete()
        try {
            KeyStore.getInstance(KEYSTORE).apply { load(null) }.deleteEntry(KEY_ALIAS)
        } catch (e: GeneralSecurityException) {
            throw PushSealException.Storage("deleting the Keystore key failed")
        } catch (e: IOException) {
            throw PushSealException.Storage("deleting the Keystore key failed")
        }
    }

    /** The Keystore key, made on first use. */
    private fun key(): SecretKey {
        val keyStore = KeyStore.getInstance(KEYSTORE).apply { load(null) }
        (keyStore.getKey(KEY_ALIAS, null) as? SecretKey)?.let { return it }
        val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, KEYSTORE)
        generator.init(
            KeyGenParameterSpec.Builder(KEY_ALIAS, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
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
        const val KEY_ALIAS = "pushseal-keyring-wrapping-key"
        const val FILE_NAME = "pushseal-keyring.bin"
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val FORMAT: Byte = 1
        const val IV_BYTES = 12
        const val TAG_BYTES = 16
        val AAD = "pushseal sample keyring v1".toByteArray(Charsets.UTF_8)
    }
}
