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
    private class FakeStorage(var bytes: ByteArray?, var failing: PushSealException? = null) : KeyStorage {
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
    fun everyThrowableHasAnActionAndAskingNeverThrows() {
        assertEquals(DeviceAction.DROP, deviceActionOf(PushSealException.Replayed("again")))
        assertEquals(DeviceAction.PASS_THROUGH, deviceActionOf(PushSealException.NotPushSeal("another SDK's")))
        assertEquals(DeviceAction.SHOW_FALLBACK, deviceActionOf(Error("what JNA throws for a failed call")))
        assertEquals(DeviceAction.SHOW_FALLBACK, deviceActionOf(UnsatisfiedLinkError("no libpushseal_ffi.so")))
    }

    @Test
    fun anFcmDataMapIsOpenedAsItCameAndTheCoreDecides() {
        val sender = Sender.generate()
        val device = DeviceKeyring.generate().apply { trustSender(sender.publicKey()) }
        val push = sender.sealFcm(device.publicKey(), Message("Lab results", "Ready to view."))
        val envelope = org.json.JSONObject(push.messageJson).getJSONObject("data").getString("pushseal")
        // RemoteMessage.data as it came, with another SDK's entries beside PushSeal's.
        val data = mapOf("pushseal" to envelope, "campaign" to "spring", "google.c.a.e" to "1")
        assertEquals(device.keyId(), inspectPayload(Payload.Fcm(data)).recipientKeyId)
        assertEquals("Ready to view.", device.open(Payload.Fcm(data), ReplayStore.inMemory()).body)

        // Another SDK's message: the core's not_pushseal (pass it through), before any key.
        val foreign = assertThrows<PushSealException.NotPushSeal> { inspectPayload(Payload.Fcm(mapOf("title" to "hi"))) }
        assertEquals(DeviceAction.PASS_THROUGH, deviceActionOf(foreign))
        // Over the core's cap (4,354, the largest version 2 envelope's text; not a sample's 4,096):
        // payload_too_large, before decoding.
        val huge = mapOf("pushseal" to "A".repeat(4_355))
        val tooLarge = assertThrows<PushSealException> { inspectPayload(Payload.Fcm(huge)) }
        assertEquals(ErrorKind.PAYLOAD_TOO_LARGE, tooLarge.kind())
    }

    @Test
    fun theFallbackConstantsAreTheCoresText() {
        assertEquals(FallbackText(Fallback.TITLE, Fallback.BODY), fallbackText())
    }

    @Test
    fun aReadableKeyringIsLoadedAndAMissingOneCreated() {
        val storage = FakeStorage(null)
        val first = KeyringRecovery.loadOrRecreate(storage)
        assertEquals(KeyringOrigin.CREATED, first.origin)
        assertTrue(first.origin.needsRegistration())
        val again = KeyringRecovery.loadOrRecreate(storage)
        assertEquals(KeyringOrigin.LOADED, again.origin)
        assertFalse(again.origin.needsRegistration())
        assertEquals(first.keyring.publicKey(), again.keyring.publicKey())
        assertEquals(0, storage.deleted)
    }

    @Test
    fun anUnreadableKeyringIsReplacedAndAnUnreachableOneKept() {
        val storage = FakeStorage("not a keyring".toByteArray())
        val replaced = KeyringRecovery.loadOrRecreate(storage)
        assertEquals(KeyringOrigin.RECREATED, replaced.origin)
        assertTrue(replaced.origin.needsRegistration())
        assertEquals(1, storage.deleted)
        assertEquals(replaced.keyring.publicKey(), DeviceKeyring.fromBytes(storage.bytes!!).publicKey())

        // What the Keystore storage throws when its wrapping key is gone.
        storage.failing = PushSealException.InvalidKeyring("the Keystore key is gone")
        val second = KeyringRecovery.loadOrRecreate(storage)
        assertEquals(KeyringOrigin.RECREATED, second.origin)
        assertEquals(2, storage.deleted)
        assertNotEquals(replaced.keyring.publicKey(), second.keyring.publicKey())

        // Locked or unreachable: thrown, and nothing deleted.
        val kept = storage.bytes!!.copyOf()
        storage.failing = PushSealException.Storage("the disk is not available yet")
        assertThrows<PushSealException.Storage> { KeyringRecovery.loadOrRecreate(storage) }
        assertEquals(2, storage.deleted)
        assertArrayEquals(kept, storage.bytes)
    }
}
