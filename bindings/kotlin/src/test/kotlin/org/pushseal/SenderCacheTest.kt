package org.pushseal

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test

/** The sender's DH cache, through the bindings. */
class SenderCacheTest {
    private val message = Message(title = "Lab results", body = "Your results from Tuesday are ready.")

    private fun device(sender: Sender): DeviceKeyring =
        DeviceKeyring.generate().also { it.trustSender(sender.publicKey()) }

    @Test
    fun aCachedSendersEnvelopesOpen() {
        val sender = Sender.fromSecretText(Sender.generate().secretText(), cacheDevices = 2)
        val devices = List(3) { device(sender) }
        val replay = ReplayStore.inMemory()
        repeat(2) {
            for (device in devices) {
                val sealed = sender.sealEnvelope(device.publicKey(), message)
                assertEquals(message.body, device.open(Payload.Envelope(sealed.envelope), replay).body)
            }
        }
        assertEquals(2L, sender.cachedDevices(), "the cache holds at most its capacity")
        assertEquals(0L, Sender.generate().cachedDevices())
        // The same key without a cache seals envelopes the same devices open.
        val uncached = Sender.fromSecretText(sender.secretText())
        val sealed = uncached.sealEnvelope(devices[0].publicKey(), message)
        assertEquals(message.title, devices[0].open(Payload.Envelope(sealed.envelope), replay).title)
    }

    @Test
    fun aCachedSendersPushesOpenWithReceiptsOnEachDevice() {
        val sender = Sender.fromSecretText(Sender.generate().secretText(), cacheDevices = 8)
        val devices = List(4) { device(sender) }
        repeat(2) {
            for (device in devices) {
                val push = sender.sealApns(device.publicKey(), message)
                val opened = device.openWithReceipt(Payload.Apns(push.body), ReplayStore.inMemory())
                assertEquals(push.sealed.messageId, opened.notification.id)
                assertEquals(true, verifyReceipt(push.sealed.receiptDigest, opened.receipt))
            }
        }
        assertEquals(4L, sender.cachedDevices())
    }
}
