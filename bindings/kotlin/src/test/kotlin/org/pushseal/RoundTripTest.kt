package org.pushseal

import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.pushseal.Vectors.stringMap
import java.nio.file.Files
import java.time.Duration

/** A sender and a device, both through the bindings. */
class RoundTripTest {
    private val message = Message(
        title = "Lab results",
        body = "Your results from Tuesday are ready.",
        data = mapOf("screen" to "results", "id" to "42"),
        threadId = "labs",
        badge = 3L,
    )

    private fun device(sender: Sender): DeviceKeyring =
        DeviceKeyring.generate().also { it.trustSender(sender.publicKey()) }

    @Test
    fun apnsAndFcmAndEnvelopeOpenOnceEach() {
        val sender = Sender.generate()
        val device = device(sender)
        val replay = ReplayStore.inMemory()

        val apns = sender.sealApns(device.publicKey(), message, ApnsOptions(collapseId = "labs"))
        assertEquals("alert", apns.headers["apns-push-type"])
        assertEquals("labs", apns.headers["apns-collapse-id"])
        assertFalse(apns.body.contains("Tuesday"), "the APNs body carries ciphertext only")
        val opened = device.openApns(apns.body, replay)
        assertEquals(message.title, opened.title)
        assertEquals(message.body, opened.body)
        assertEquals(message.data, opened.data)
        assertEquals("labs", opened.threadId)
        assertEquals(3L, opened.badge)
        assertEquals(apns.messageId, opened.id)
        assertEquals(apns.expiresAt, opened.expiresAt)
        assertThrows<PushSealException.Replayed> { device.openApns(apns.body, replay) }

        val fcm = sender.sealFcm(device.publicKey(), message, FcmOptions(token = "fcm-token"))
        val fcmMessage = JSONObject(fcm.messageJson)
        assertEquals("fcm-token", fcmMessage.getString("token"))
        assertEquals(fcmMessage.toString(), JSONObject(fcm.requestBody).getJSONObject("message").toString())
        val data = fcmMessage.getJSONObject("data").stringMap()
        assertEquals(message.body, device.openFcm(data, replay).body)

        val envelope = sender.sealEnvelope(device.publicKey(), message)
        assertEquals(device.keyId(), inspect(envelope).recipientKeyId)
        assertEquals(sender.keyId(), inspect(envelope).senderKeyId)
        assertEquals(message.title, device.open(Payload.Envelope(envelope), replay).title)
    }

    @Test
    fun receiptsMatchTheSendersDigest() {
        val sender = Sender.generate()
        val device = device(sender)
        val push = sender.sealApns(device.publicKey(), message)
        val opened = device.openWithReceipt(Payload.Apns(push.body), ReplayStore.inMemory())
        assertEquals(push.messageId, opened.notification.id)
        assertTrue(verifyReceipt(push.receiptDigest, opened.receipt))
        val other = sender.sealApns(device.publicKey(), message)
        assertFalse(verifyReceipt(other.receiptDigest, opened.receipt))
        assertThrows<PushSealException.InvalidEncoding> { verifyReceipt(push.receiptDigest, "not a receipt") }
    }

    @Test
    fun batchGivesOneResultPerDeviceInOrder() {
        val sender = Sender.generate()
        val devices = List(5) { device(sender) }
        val to = devices.map { it.publicKey() }.toMutableList()
        to.add(2, "not a public key")
        val batch = to.mapIndexed { i, key -> BatchDevice(publicKey = key, token = "token-$i") }
        val results = sender.sealBatchFcm(batch, message, FcmOptions(collapseKey = "labs"))
        assertEquals(to, results.map { it.recipient })
        assertNull(results[2].push)
        assertEquals("invalid_encoding", results[2].errorKind)
        assertNotNull(results[2].errorReason)
        val pushes = results.filter { it.push != null }.map { it.push!! }
        assertEquals(5, pushes.size)
        assertEquals(1, pushes.map { it.messageId }.toSet().size, "one message id for the whole batch")
        for ((device, push) in devices.zip(pushes)) {
            val data = JSONObject(push.messageJson).getJSONObject("data").stringMap()
            val token = JSONObject(push.messageJson).getString("token")
            assertEquals(to.indexOf(device.publicKey()), token.removePrefix("token-").toInt(), "each device its own token")
            assertEquals(message.body, device.openFcm(data, ReplayStore.inMemory()).body)
        }
        // A device cannot open another device's envelope.
        val data0 = JSONObject(pushes[0].messageJson).getJSONObject("data").stringMap()
        assertThrows<PushSealException.UnknownRecipientKey> { devices[1].openFcm(data0, ReplayStore.inMemory()) }

        val apns = sender.sealBatchApns(devices.map { BatchDevice(publicKey = it.publicKey()) }, message)
        assertTrue(apns.all { it.push != null && it.errorKind == null })
        // The same batch streamed: one result per device, in order, as each is sealed.
        val stream = sender.streamBatchFcm(batch, message)
        val streamed = generateSequence { stream.next() }.toList()
        assertEquals(to, streamed.map { it.recipient })
        assertEquals(results.map { it.push == null }, streamed.map { it.push == null })
        assertEquals(message.title, devices[4].openApns(apns[4].push!!.body, ReplayStore.inMemory()).title)
    }

    @Test
    fun rotationTrustAndReplayFile() {
        val sender = Sender.fromSecretText(Sender.generate().secretText())
        val device = DeviceKeyring.generate()
        val envelope = sender.sealEnvelope(device.publicKey(), message)
        assertThrows<PushSealException.UntrustedSender> { device.openEnvelope(envelope, ReplayStore.inMemory()) }
        device.trustSender(sender.publicKey())
        assertEquals(listOf(sender.publicKey()), device.trustedSenders())

        val oldId = device.keyId()
        device.rotate(Duration.ofHours(1))
        assertEquals(listOf(oldId), device.retiredKeys().map { it.keyId })
        assertFalse(oldId == device.keyId())

        val dir = Files.createTempDirectory("pushseal-kotlin")
        val path = dir.resolve("replay.db").toString()
        assertEquals(message.body, device.openEnvelope(envelope, ReplayStore.open(path)).body)
        // A second store on the same file remembers the first open.
        assertThrows<PushSealException.Replayed> { device.openEnvelope(envelope, ReplayStore.open(path)) }

        assertTrue(device.removeSender(sender.keyId()))
        assertFalse(device.removeSender(sender.keyId()))
        assertThrows<PushSealException.InvalidEncoding> { device.trustSender("too short") }
        // u = 0, a low-order point.
        assertThrows<PushSealException.ZeroSharedSecret> { device.trustSender("A".repeat(43)) }
        assertThrows<PushSealException.InvalidKeyring> { DeviceKeyring.fromBytes("{}".toByteArray()) }
    }
}
