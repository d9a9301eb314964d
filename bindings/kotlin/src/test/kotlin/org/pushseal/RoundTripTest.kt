package org.pushseal

import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
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
    fun eachPayloadTypeOpensOnceThroughOneOpen() {
        val sender = Sender.generate()
        val device = device(sender)
        val replay = ReplayStore.inMemory()

        val apns = sender.sealApns(device.publicKey(), message, ApnsOptions(collapseId = "labs"))
        assertEquals("alert", apns.headers["apns-push-type"])
        assertEquals("labs", apns.headers["apns-collapse-id"])
        assertFalse(apns.body.contains("Tuesday"), "the APNs body carries ciphertext only")
        val opened = device.open(Payload.Apns(apns.body), replay)
        assertEquals(message.title, opened.title)
        assertEquals(message.body, opened.body)
        assertEquals(message.data, opened.data)
        assertEquals("labs", opened.threadId)
        assertEquals(3L, opened.badge)
        assertEquals(apns.sealed.messageId, opened.id)
        assertEquals(apns.sealed.sentAt, opened.sentAt)
        assertEquals(apns.sealed.expiresAt, opened.expiresAt)
        assertEquals(device.keyId(), apns.sealed.recipientKeyId)
        val again = assertThrows<PushSealException.Replayed> { device.open(Payload.Apns(apns.body), replay) }
        assertEquals(DeviceAction.DROP, again.kind().deviceAction())

        val fcm = sender.sealFcm(device.publicKey(), message, FcmOptions(token = "fcm-token"))
        val fcmMessage = JSONObject(fcm.messageJson)
        assertEquals("fcm-token", fcmMessage.getString("token"))
        assertEquals(fcmMessage.toString(), JSONObject(fcm.requestBody).getJSONObject("message").toString())
        val data = fcmMessage.getJSONObject("data").stringMap()
        val fromFcm = device.open(Payload.Fcm(data), replay)
        assertEquals(message.body, fromFcm.body)
        assertEquals(fcm.sealed.messageId, fromFcm.id)
        assertThrows<PushSealException.Replayed> { device.open(Payload.Fcm(data), replay) }

        val sealed = sender.sealEnvelope(device.publicKey(), message)
        assertEquals(device.keyId(), inspect(sealed.envelope).recipientKeyId)
        assertEquals(sender.keyId(), inspect(sealed.envelope).senderKeyId)
        val fromEnvelope = device.open(Payload.Envelope(sealed.envelope), replay)
        assertEquals(message.title, fromEnvelope.title)
        assertEquals(sealed.sealed.messageId, fromEnvelope.id)
        assertThrows<PushSealException.Replayed> { device.open(Payload.Envelope(sealed.envelope), replay) }
    }

    @Test
    fun deviceActionsAreTheCores() {
        // Every core kind's action is checked against test-vectors/error-kinds.json
        // (VectorsTest); INTERNAL, the bindings' own, fails safe.
        assertEquals(DeviceAction.SHOW_FALLBACK, ErrorKind.INTERNAL.deviceAction())
        // Through an open: a push that is not PushSeal's passes through.
        val e = assertThrows<PushSealException.NotPushSeal> {
            DeviceKeyring.generate().open(Payload.Fcm(mapOf("other" to "sdk")), ReplayStore.inMemory())
        }
        assertEquals(DeviceAction.PASS_THROUGH, errorKindOf(e).deviceAction())
    }

    @Test
    fun receiptsMatchTheSendersDigest() {
        val sender = Sender.generate()
        val device = device(sender)
        val push = sender.sealApns(device.publicKey(), message)
        val opened = device.openWithReceipt(Payload.Apns(push.body), ReplayStore.inMemory())
        assertEquals(push.sealed.messageId, opened.notification.id)
        assertTrue(verifyReceipt(push.sealed.receiptDigest, opened.receipt))
        val other = sender.sealApns(device.publicKey(), message)
        assertFalse(verifyReceipt(other.sealed.receiptDigest, opened.receipt))
        assertThrows<PushSealException.InvalidEncoding> { verifyReceipt(push.sealed.receiptDigest, "not a receipt") }
    }

    @Test
    fun rotationTrustAndReplayFile() {
        val sender = Sender.fromSecretText(Sender.generate().secretText())
        val device = DeviceKeyring.generate()
        val envelope = Payload.Envelope(sender.sealEnvelope(device.publicKey(), message).envelope)
        val untrusted = assertThrows<PushSealException.UntrustedSender> { device.open(envelope, ReplayStore.inMemory()) }
        assertEquals(DeviceAction.SHOW_FALLBACK, untrusted.kind().deviceAction())
        device.trustSender(sender.publicKey())
        assertEquals(listOf(sender.publicKey()), device.trustedSenders())

        val oldId = device.keyId()
        device.rotate(Duration.ofHours(1))
        assertEquals(listOf(oldId), device.retiredKeys().map { it.keyId })
        assertFalse(oldId == device.keyId())

        val dir = Files.createTempDirectory("pushseal-kotlin")
        val path = dir.resolve("replay.db").toString()
        assertEquals(message.body, device.open(envelope, ReplayStore.open(path)).body)
        // A second store on the same file remembers the first open.
        assertThrows<PushSealException.Replayed> { device.open(envelope, ReplayStore.open(path)) }

        assertTrue(device.removeSender(sender.keyId()))
        assertFalse(device.removeSender(sender.keyId()))
        assertThrows<PushSealException.InvalidEncoding> { device.trustSender("too short") }
        // u = 0, a low-order point.
        assertThrows<PushSealException.ZeroSharedSecret> { device.trustSender("A".repeat(43)) }
        assertThrows<PushSealException.InvalidKeyring> { DeviceKeyring.fromBytes("{}".toByteArray()) }
    }
}
