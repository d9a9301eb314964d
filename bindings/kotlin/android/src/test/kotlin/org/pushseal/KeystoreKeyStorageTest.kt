package org.pushseal

import android.content.Context
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.StrongBoxUnavailableException
import android.security.keystore.UserNotAuthenticatedException
import android.util.AtomicFile
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertThrows
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import java.io.File
import java.io.IOException
import java.security.GeneralSecurityException
import java.security.InvalidAlgorithmParameterException
import java.security.InvalidKeyException
import java.security.KeyStoreException
import java.security.NoSuchAlgorithmException
import java.security.NoSuchProviderException
import java.security.ProviderException
import java.security.SecureRandom
import java.security.UnrecoverableKeyException
import javax.crypto.AEADBadTagException
import javax.crypto.BadPaddingException
import javax.crypto.Cipher
import javax.crypto.IllegalBlockSizeException
import javax.crypto.NoSuchPaddingException
import javax.crypto.SecretKey
import javax.crypto.spec.SecretKeySpec

/**
 * KeystoreKeyStorage on Android 15's own framework code (AtomicFile, Context,
 * the exception classes) under Robolectric. Robolectric has no AndroidKeyStore
 * provider, so the wrapping key and the cipher come from [SoftwareKeys]: a
 * software AES-256 key and the JVM's AES/GCM, which throw on demand what the
 * Keystore throws. What only a device runs: AndroidKeystoreKeys (key
 * generation in StrongBox or the TEE, KeyStore.load) and the failures a real
 * secure element produces.
 *
 * What this proves: a keyring saved is loaded as it was; only a failure that
 * means "never readable again" is InvalidKeyring, each other exception class
 * is Storage and leaves the file readable; an interrupted write is recovered
 * from the backup AtomicFile keeps.
 */
@RunWith(RobolectricTestRunner::class)
class KeystoreKeyStorageTest {
    /** A software stand-in for the Keystore; [failure] is thrown by the next key lookup. */
    private class SoftwareKeys : WrappingKeys {
        val keys = HashMap<String, SecretKey>()
        var failure: Exception? = null
        var deletes = 0

        override fun existing(alias: String): SecretKey? {
            failure?.let { throw it }
            return keys[alias]
        }

        override fun create(alias: String): SecretKey =
            SecretKeySpec(ByteArray(32).also(SecureRandom()::nextBytes), "AES").also { keys[alias] = it }

        override fun delete(alias: String) {
            deletes++
            keys.remove(alias)
        }

        override fun cipher(): Cipher = Cipher.getInstance("AES/GCM/NoPadding")
    }

    private val context: Context = RuntimeEnvironment.getApplication()
    private lateinit var file: File
    private lateinit var keys: SoftwareKeys
    private lateinit var storage: KeystoreKeyStorage
    private val secret = "{\"format\":\"pushseal-keyring-v1\",\"secret\":\"x\"}".toByteArray()

    @Before
    fun setUp() {
        file = File(context.noBackupFilesDir, "keyring-test.bin")
        file.delete()
        keys = SoftwareKeys()
        storage = KeystoreKeyStorage(AtomicFile(file), "alias", keys)
    }

    @Test
    fun aSavedKeyringLoadsAsItWasAndTheFileHoldsNoPlaintext() {
        assertNull(storage.load())
        storage.save(secret.copyOf())
        assertArrayEquals(secret, storage.load())
        val onDisk = file.readBytes()
        assertEquals(1.toByte(), onDisk[0])
        assertEquals(1 + 12 + secret.size + 16, onDisk.size)
        assertFalse(String(onDisk, Charsets.ISO_8859_1).contains("pushseal-keyring"))
    }

    @Test
    fun saveWipesTheBytesItWasGiven() {
        val given = secret.copyOf()
        storage.save(given)
        assertTrue(given.all { it == 0.toByte() })
    }

    @Test
    fun onlyNeverReadableAgainIsInvalidKeyring() {
        storage.save(secret.copyOf())
        for (gone in listOf(AEADBadTagException("tag"), KeyPermanentlyInvalidatedException("lock screen reset"))) {
            keys.failure = gone
            val e = assertThrows(PushSealException.InvalidKeyring::class.java) { storage.load() }
            assertNotNull(gone.javaClass.simpleName, e.message)
        }
    }

    @Test
    fun everyOtherKeystoreFailureIsStorageAndKeepsTheFile() {
        storage.save(secret.copyOf())
        val before = file.readBytes()
        val passing: List<Exception> = listOf(
            InvalidKeyException("the Keystore daemon restarted"),
            UserNotAuthenticatedException("not unlocked"),
            UnrecoverableKeyException("busy"),
            KeyStoreException("keystore2 is restarting"),
            NoSuchAlgorithmException("no provider yet"),
            NoSuchProviderException("AndroidKeyStore not installed yet"),
            NoSuchPaddingException("padding"),
            InvalidAlgorithmParameterException("params"),
            BadPaddingException("not a tag failure"),
            IllegalBlockSizeException("block"),
            GeneralSecurityException("any other"),
            ProviderException("the secure element is busy"),
            StrongBoxUnavailableException("StrongBox is busy"),
            IOException("KeyStore.load"),
        )
        for (failure in passing) {
            keys.failure = failure
            val e = assertThrows(failure.javaClass.name, PushSealException.Storage::class.java) { storage.load() }
            assertTrue(e.message, e.message.contains(failure.javaClass.simpleName) || failure is IOException)
            assertThrows(failure.javaClass.name, PushSealException.Storage::class.java) { storage.save(secret.copyOf()) }
            assertArrayEquals("nothing deleted or overwritten", before, file.readBytes())
            assertEquals(0, keys.deletes)
        }
        // The failure passed: the same keys open again.
        keys.failure = null
        assertArrayEquals(secret, storage.load())
    }

    @Test
    fun aDamagedFileAGoneKeyAndAnUnknownFormatAreInvalidKeyring() {
        storage.save(secret.copyOf())
        val good = file.readBytes()

        // A real bad tag: one flipped bit of the ciphertext.
        file.writeBytes(good.copyOf().also { it[20] = (it[20].toInt() xor 1).toByte() })
        assertThrows(PushSealException.InvalidKeyring::class.java) { storage.load() }

        // A real bad tag: another key under the same alias.
        file.writeBytes(good)
        val original = keys.keys.getValue("alias")
        keys.create("alias")
        assertThrows(PushSealException.InvalidKeyring::class.java) { storage.load() }
        keys.keys["alias"] = original
        assertArrayEquals(secret, storage.load())

        // The Keystore key is gone.
        keys.keys.clear()
        assertThrows(PushSealException.InvalidKeyring::class.java) { storage.load() }
        keys.keys["alias"] = original

        // Not this class's format: another version byte, too short to hold a tag, empty.
        for (unknown in listOf(byteArrayOf(2) + good.copyOfRange(1, good.size), good.copyOf(28), ByteArray(0))) {
            file.writeBytes(unknown)
            assertThrows(PushSealException.InvalidKeyring::class.java) { storage.load() }
        }
    }

    @Test
    fun anInterruptedWriteIsRecoveredFromItsBackup() {
        storage.save(secret.copyOf())
        // What an older AtomicFile leaves when the process dies mid-write:
        // the previous file renamed to `.bak`, no base file.
        val backup = File(file.path + ".bak")
        assertTrue(file.renameTo(backup))
        assertArrayEquals("read through the backup, not taken for no keyring", secret, storage.load())
        assertTrue(file.exists())
        assertFalse(backup.exists())

        // What Android 11+ AtomicFile leaves: a partial `.new` beside the good file.
        File(file.path + ".new").writeBytes(byteArrayOf(1, 2, 3))
        assertArrayEquals(secret, storage.load())
        assertFalse(File(file.path + ".new").exists())
    }

    @Test
    fun aFileThatExistsButCannotBeOpenedIsStorageNotAMissingKeyring() {
        // A path that exists and cannot be read as a file (root reads any
        // file, so a directory stands in for an unreadable one): no new keyring over it.
        assertTrue(file.mkdirs())
        try {
            assertThrows(PushSealException.Storage::class.java) { storage.load() }
        } finally {
            file.delete()
        }
    }

    @Test
    fun deleteRemovesTheFileAndTheKey() {
        storage.save(secret.copyOf())
        storage.delete()
        assertFalse(file.exists())
        assertTrue(keys.keys.isEmpty())
        assertNull(storage.load())
        // A failing Keystore on delete is Storage too.
        val failing = object : WrappingKeys by keys {
            override fun delete(alias: String) = throw ProviderException("busy")
        }
        assertThrows(PushSealException.Storage::class.java) { KeystoreKeyStorage(AtomicFile(file), "alias", failing).delete() }
    }

    @Test
    fun strongBoxIsTriedFirstWithTheTeeBelowIt() {
        val tries = mutableListOf<Boolean>()
        val key = SecretKeySpec(ByteArray(32), "AES")
        val fallback = createPreferringStrongBox(true) { inStrongBox ->
            tries += inStrongBox
            if (inStrongBox) throw StrongBoxUnavailableException("no room") else key
        }
        assertEquals(key, fallback)
        assertEquals(listOf(true, false), tries)

        tries.clear()
        createPreferringStrongBox(false) { inStrongBox -> tries += inStrongBox; key }
        assertEquals(listOf(false), tries)

        // Another failure in StrongBox is not a reason to leave it: Storage, retry later.
        val busy = assertThrows(PushSealException.Storage::class.java) {
            keystoreCall("making the key") { createPreferringStrongBox(true) { throw ProviderException("busy") } }
        }
        assertTrue(busy.message, busy.message.contains("ProviderException"))
    }

    @Test
    fun keyringRecoveryKeepsKeysThroughPassingErrorsAndReplacesGoneOnes() {
        val created = KeyringRecovery.loadOrRecreate(storage)
        assertEquals(KeyringOrigin.CREATED, created.origin)
        val loaded = KeyringRecovery.loadOrRecreate(storage)
        assertEquals(KeyringOrigin.LOADED, loaded.origin)
        assertEquals(created.keyring.keyId(), loaded.keyring.keyId())

        // The Keystore is busy: thrown as it is, nothing deleted, the same keys afterwards.
        val before = file.readBytes()
        keys.failure = ProviderException("the secure element is busy")
        assertThrows(PushSealException.Storage::class.java) { KeyringRecovery.loadOrRecreate(storage) }
        assertArrayEquals(before, file.readBytes())
        assertEquals(0, keys.deletes)
        keys.failure = null
        assertEquals(created.keyring.keyId(), KeyringRecovery.loadOrRecreate(storage).keyring.keyId())

        // The Keystore key is gone for good (a lock-screen reset): a new keyring, once.
        keys.keys.clear()
        val recreated = KeyringRecovery.loadOrRecreate(storage)
        assertEquals(KeyringOrigin.RECREATED, recreated.origin)
        assertTrue(recreated.origin.needsRegistration())
        assertEquals(1, keys.deletes)
        assertTrue(created.keyring.keyId() != recreated.keyring.keyId())
        assertEquals(KeyringOrigin.LOADED, KeyringRecovery.loadOrRecreate(storage).origin)
    }

    @Test
    fun theRealKeystorePathFailsAsStorageWhereThereIsNoAndroidKeyStore() {
        // The public constructor: Android's own Keystore classes, which
        // Robolectric does not provide. A device without a working Keystore
        // gets Storage (retry later), never a new keyring over the old one.
        val real = KeystoreKeyStorage(context, "keyring-real.bin")
        assertNull(real.load())
        assertThrows(PushSealException.Storage::class.java) { real.save(secret.copyOf()) }
        assertNull(real.load())
    }
}
