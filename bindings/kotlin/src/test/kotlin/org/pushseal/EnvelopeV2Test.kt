package org.pushseal

import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.pushseal.Vectors.stringMap

/**
 * Envelope version 2 through the Kotlin bindings: a device registers both keys and pins its
 * sender's Ed25519 key; the sender's policy picks the version; one `open` takes both.
 */
class EnvelopeV2Test {
    private val message = Message(title = "Lab results", body = "Your results from Tuesday are ready.", data = mapOf("id" to "42"))

    @Test
    fun aRegisteredDeviceGetsVersion2ThroughEveryPlatformAndOneOpen() {
        val sender = Sender.generate()
        assertEquals(Pq.PREFER, sender.pq())
        val device = DeviceKeyring.generate()
        device.trustSender(sender.publicKey())
        device.trustSenderV2(sender.publicKeyV2()!!)
        val registration = device.registration()
        assertTrue(registration.startsWith("pushseal-registration-v2:${device.publicKey()}."), registration)
        assertTrue(registration.endsWith(device.publicKeyV2()!!.removePrefix("pushseal-device-v2:")))
        val replay = ReplayStore.inMemory()

        val apns = sender.sealApns(registration, message)
        assertEquals(2, apns.sealed.version)
        assertEquals(device.keyIdV2(), apns.sealed.recipientKeyId)
        assertEquals(message.body, device.open(Payload.Apns(apns.body), replay).body)

        val fcm = sender.sealFcm(registration, message, FcmOptions(token = "fcm-token"))
        val data = JSONObject(fcm.messageJson).getJSONObject("data").stringMap()
        val opened = device.openWithReceipt(Payload.Fcm(data), replay)
        assertEquals(message.data, opened.notification.data)
        assertTrue(verifyReceipt(fcm.sealed.receiptDigest, opened.receipt))
        val info = inspectPayload(Payload.Fcm(data))
        assertEquals(2, info.version)
        assertEquals(sender.keyIdV2(), info.senderKeyId)

        // Sealed to the version 1 key alone: version 1, through the same open.
        val v1 = sender.sealEnvelope(device.publicKey(), message)
        assertEquals(1, v1.sealed.version)
        assertEquals(message.title, device.open(Payload.Envelope(v1.envelope), replay).title)
        assertThrows<PushSealException.Replayed> { device.open(Payload.Envelope(v1.envelope), replay) }
    }

    @Test
    fun aDeviceThatRefusesVersion1KeepsSayingSo() {
        val sender = Sender.generate()
        val storage = inMemoryKeyStorage()
        val device = DeviceKeyring.loadOrCreate(storage)
        device.trustSender(sender.publicKey())
        assertTrue(device.acceptsV1())
        device.acceptV1(false)
        device.save(storage)
        val loaded = DeviceKeyring.loadOrCreate(storage)
        assertFalse(loaded.acceptsV1())
        val v1 = sender.sealEnvelope(loaded.publicKey(), message)
        val e = assertThrows<PushSealException.UnsupportedVersion> { loaded.open(Payload.Envelope(v1.envelope), ReplayStore.inMemory()) }
        assertEquals(DeviceAction.SHOW_FALLBACK, e.kind().deviceAction())
    }

    @Test
    fun theSendersPolicyAndItsKeysTravelAsTexts() {
        val generated = Sender.generate()
        val device = DeviceKeyring.generate()
        val strict = Sender.fromSecretText(generated.secretText(), textV2 = generated.secretTextV2(), pq = Pq.REQUIRE)
        assertEquals(generated.publicKeyV2(), strict.publicKeyV2())
        assertEquals(Pq.REQUIRE, strict.pq())
        assertEquals(2, strict.sealEnvelope(device.registration(), message).sealed.version)
        assertThrows<PushSealException.UnsupportedVersion> { strict.sealEnvelope(device.publicKey(), message) }

        val off = Sender.fromSecretText(generated.secretText(), textV2 = generated.secretTextV2(), pq = Pq.OFF)
        assertEquals(1, off.sealEnvelope(device.registration(), message).sealed.version)

        // A sender stored before version 2: its one text, version 1 only.
        val v1Only = Sender.fromSecretText(generated.secretText())
        assertNull(v1Only.publicKeyV2())
        assertNull(v1Only.secretTextV2())
        assertEquals(1, v1Only.sealEnvelope(device.registration(), message).sealed.version)
        assertThrows<PushSealException.InvalidNotification> { Sender.fromSecretText(generated.secretText(), pq = Pq.REQUIRE) }
        assertThrows<PushSealException.InvalidEncoding> { device.trustSenderV2(generated.publicKey()) }
    }

    @Test
    fun rotationRetiresBothVersionsAtOnce() {
        val device = DeviceKeyring.generate()
        val old = device.keyIdV2()
        device.rotate(java.time.Duration.ofHours(1))
        assertEquals(listOf(old), device.retiredKeysV2().map { it.keyId })
        assertEquals(device.retiredKeys().single().usableUntil, device.retiredKeysV2().single().usableUntil)
    }
}
