package org.pushseal

import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.io.IOException
import java.security.GeneralSecurityException

/**
 * The platform-free part of the Android library (src/library/kotlin): every
 * throwable an open can end with has a kind, and an unreadable keyring has a
 * way back while a storage that is only unreachable keeps its keys.
 */
class LibraryTest {
    /** A storage holding `bytes`; `failing` makes load throw it instead. */
    private class FakeStorage(var bytes: ByteArray?, var failing: PushSealException? = null) : DeletableKeyStorage {
        var deleted = 0

        override fun load(): ByteArray? {
            failing?.let { throw it }
            return bytes?.copyOf()
        }

        override fun save(bytes: ByteArray) {
            this.bytes = bytes.copyOf()
            failing = null
        }

        override fun delete() {
            deleted++
            bytes = null
        }
    }

    @Test
    fun everyThrowableHasAKind() {
        assertEquals(ErrorKind.REPLAYED, errorKindOf(PushSealException.Replayed("again")))
        assertEquals(ErrorKind.INTERNAL, errorKindOf(UnsatisfiedLinkError("libjnidispatch.so: 16 KB pages")))
        assertEquals(ErrorKind.INTERNAL, errorKindOf(NoClassDefFoundError("org/pushseal/UniffiLib")))
        assertEquals(ErrorKind.INTERNAL, errorKindOf(ExceptionInInitializerError()))
        assertEquals(ErrorKind.STORAGE, errorKindOf(IOException("KeyStore.load")))
        assertEquals(ErrorKind.STORAGE, errorKindOf(GeneralSecurityException("bad tag")))
        assertEquals(ErrorKind.INTERNAL, errorKindOf(IllegalStateException()))
        assertNull(NativeLibrary.loadError(), "the host library loads under Maven")
    }

    @Test
    fun aReadableKeyringIsLoadedAndAMissingOneCreated() {
        val storage = FakeStorage(null)
        val first = KeyringRecovery.loadOrRecreate(storage)
        assertTrue(first.created && !first.recreated)
        val again = KeyringRecovery.loadOrRecreate(storage)
        assertFalse(again.created || again.recreated)
        assertEquals(first.keyring.publicKey(), again.keyring.publicKey())
        assertEquals(0, storage.deleted)
    }

    @Test
    fun anUnreadableKeyringIsReplacedAndAnUnreachableOneKept() {
        val storage = FakeStorage("not a keyring".toByteArray())
        val replaced = KeyringRecovery.loadOrRecreate(storage)
        assertTrue(replaced.recreated && !replaced.created)
        assertEquals(1, storage.deleted)
        assertEquals(replaced.keyring.publicKey(), DeviceKeyring.fromBytes(storage.bytes!!).publicKey())

        // What the Keystore storage throws when its wrapping key is gone.
        storage.failing = PushSealException.InvalidKeyring("the Keystore key is gone")
        val second = KeyringRecovery.loadOrRecreate(storage)
        assertTrue(second.recreated)
        assertNotEquals(replaced.keyring.publicKey(), second.keyring.publicKey())

        // Locked or unreachable: thrown, and nothing deleted.
        val kept = storage.bytes!!.copyOf()
        storage.failing = PushSealException.Storage("the disk is not available yet")
        assertThrows<PushSealException.Storage> { KeyringRecovery.loadOrRecreate(storage) }
        assertEquals(2, storage.deleted)
        assertArrayEquals(kept, storage.bytes)
    }
}
