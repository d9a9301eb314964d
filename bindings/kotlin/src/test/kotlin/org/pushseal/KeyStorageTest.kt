package org.pushseal

import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.pushseal.Vectors.stringMap

/** A KeyStorage written in Kotlin, as an app writes one over the Android Keystore. */
class MapKeyStorage : KeyStorage {
    var stored: ByteArray? = null
    var loads = 0
    var saves = 0

    override fun load(): ByteArray? {
        loads += 1
        return stored?.copyOf()
    }

    override fun save(bytes: ByteArray) {
        saves += 1
        stored = bytes.copyOf()
    }

    override fun delete() {
        stored = null
    }
}

class FailingKeyStorage : KeyStorage {
    override fun load(): ByteArray? = throw PushSealException.Storage("the storage is locked")

    override fun save(bytes: ByteArray) = throw PushSealException.Storage("read-only")

    override fun delete() = throw PushSealException.Storage("read-only")
}

class BuggyKeyStorage : KeyStorage {
    override fun load(): ByteArray? = throw IllegalStateException("not a PushSealException")

    override fun save(bytes: ByteArray) = Unit

    override fun delete() = Unit
}

class KeyStorageTest {
    @Test
    fun keyringLoadedThroughKotlinStorageOpensAVectorNotification() {
        val v = Vectors.load("positive.json").first { it.getString("name") == "data-map-and-options" }
        val storage = MapKeyStorage()
        storage.stored = v.getJSONObject("keyring").getString("serialized").toByteArray(Charsets.UTF_8)

        val keyring = DeviceKeyring.loadOrCreate(storage)
        assertEquals(1, storage.loads)
        assertEquals(1, storage.saves, "a stored version 1 keyring gains a version 2 key and is saved back (SPEC.md 12.8)")
        val data = v.getJSONObject("fcm").getJSONObject("data").stringMap()
        val opened = keyring.open(Payload.Fcm(data), ReplayStore.inMemory(), Vectors.instant(v.getLong("now")))
        assertEquals(Vectors.notification(v.getJSONObject("expected")), opened)
    }

    @Test
    fun loadOrCreateCreatesOnceAndReloads() {
        val storage = MapKeyStorage()
        val first = DeviceKeyring.loadOrCreate(storage)
        assertEquals(1, storage.saves)
        assertArrayEquals(first.toBytes(), storage.stored)

        val sender = Sender.generate()
        first.trustSender(sender.publicKey())
        first.save(storage)
        assertEquals(2, storage.saves)

        val second = DeviceKeyring.loadOrCreate(storage)
        assertEquals(2, storage.saves)
        assertEquals(first.publicKey(), second.publicKey())
        assertEquals(listOf(sender.publicKey()), second.trustedSenders())
        val sealed = sender.sealEnvelope(second.publicKey(), Message(title = "Refill due", body = "Tap to review."))
        assertEquals("Refill due", second.open(Payload.Envelope(sealed.envelope), ReplayStore.inMemory()).title)
    }

    @Test
    fun storageErrorsReachTheCaller() {
        val e = assertThrows<PushSealException.Storage> { DeviceKeyring.loadOrCreate(FailingKeyStorage()) }
        assertEquals("the storage is locked", e.reason)
        assertThrows<PushSealException.Storage> { DeviceKeyring.generate().save(FailingKeyStorage()) }
        // Anything else a storage throws arrives as Internal.
        assertThrows<PushSealException.Internal> { DeviceKeyring.loadOrCreate(BuggyKeyStorage()) }
        val garbage = MapKeyStorage().apply { stored = "not a keyring".toByteArray() }
        assertThrows<PushSealException.InvalidKeyring> { DeviceKeyring.loadOrCreate(garbage) }
    }

    @Test
    fun inMemoryStorageFromTheLibrary() {
        val storage = inMemoryKeyStorage()
        assertNull(storage.load())
        val keyring = DeviceKeyring.loadOrCreate(storage)
        assertNotNull(storage.load())
        assertEquals(keyring.keyId(), DeviceKeyring.loadOrCreate(storage).keyId())
    }
}
