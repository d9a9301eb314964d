package org.pushseal

import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import org.pushseal.Vectors.stringMap
import java.nio.file.Files
import java.nio.file.Path

/** The sender's audit log, its DH cache and the envelope batch, through the bindings. */
class AuditTest {
    @TempDir
    lateinit var dir: Path

    private val message = Message(title = "Lab results", body = "Your results from Tuesday are ready.")

    private fun logPath(name: String = "audit.jsonl"): String = dir.resolve(name).toString()

    private fun auditedSender(log: AuditLog): Sender =
        Sender.fromSecretText(Sender.generate().secretText(), auditLog = log)

    private fun device(sender: Sender): DeviceKeyring =
        DeviceKeyring.generate().also { it.trustSender(sender.publicKey()) }

    private fun records(log: AuditLog): List<JSONObject> =
        Files.readAllLines(Path.of(log.path())).map { JSONObject(it) }

    @Test
    fun everySealWritesOneSealedRecordAndTokensOnlyAsKeyedHashes() {
        val log = AuditLog.open(logPath(), tokenKey = ByteArray(32) { 7 })
        val sender = auditedSender(log)
        val devices = List(2) { device(sender) }
        val to = devices.map { it.publicKey() }

        val apns = sender.sealApns(to[0], message)
        val fcm = sender.sealFcm(to[1], message, FcmOptions(token = "fcm-token"))
        val detailed = sender.sealEnvelopeDetailed(to[0], message)
        sender.sealEnvelope(to[1], message)
        val batch = sender.sealBatchEnvelope(listOf(to[0], "not a public key", to[1]), message)
        assertEquals("invalid_encoding", batch[1].errorKind)
        sender.sealBatchApns(to, message)
        sender.sealBatchFcm(to, message)

        val records = records(log)
        assertEquals(10, records.size, "one sealed record per notification handed out, none for the bad key")
        assertTrue(records.all { it.getString("type") == "sealed" })
        assertEquals((0..9).toList(), records.map { it.getInt("seq") })
        assertEquals(
            listOf("apns", "fcm", "envelope", "envelope"),
            records.take(4).map { it.getString("platform") },
        )
        assertEquals(
            listOf(apns.messageId, fcm.messageId, detailed.messageId),
            records.take(3).map { it.getString("message_id") },
        )
        assertEquals(apns.receiptDigest, records[0].getString("receipt_digest"))
        assertEquals(devices[1].keyId(), records[1].getString("recipient"))
        assertEquals(sender.keyId(), records[1].getString("sender"))
        assertEquals(64, records[1].getString("token_hmac").length)
        assertEquals(listOf(1), records.indices.filter { records[it].has("token_hmac") })
        val text = Files.readString(Path.of(log.path()))
        assertFalse(text.contains("Tuesday") || text.contains("Lab results") || text.contains("fcm-token"))

        val report = verifyAuditLog(log.path())
        assertTrue(report.intact)
        assertEquals(10uL, report.records)
        assertEquals(10uL, report.sealed)
        assertEquals(0uL, report.delivered)
        assertEquals(listOf(sender.keyId()), report.senders)
        assertEquals(devices.map { it.keyId() }.sorted(), report.recipients)
        assertNull(report.firstBreak)
        assertEquals("9:" + records[9].getString("hash"), report.head)
    }

    @Test
    fun withoutATokenKeyNoTokenIsRecordedAndAKeyMustBe32Bytes() {
        val log = AuditLog.open(logPath())
        val sender = auditedSender(log)
        sender.sealFcm(device(sender).publicKey(), message, FcmOptions(token = "fcm-token"))
        assertFalse(Files.readString(Path.of(log.path())).contains("token"))
        assertThrows<PushSealException.InvalidKeyLength> { AuditLog.open(logPath(), tokenKey = ByteArray(31)) }
    }

    @Test
    fun aValidReceiptIsRecordedOnceAndAnInvalidOneIsRefusedWithNothingAppended() {
        val log = AuditLog.open(logPath())
        val sender = auditedSender(log)
        val device = device(sender)
        val push = sender.sealFcm(device.publicKey(), message, FcmOptions(token = "fcm-token"))
        val other = sender.sealFcm(device.publicKey(), message)
        val data = JSONObject(push.messageJson).getJSONObject("data").stringMap()
        val opened = device.openWithReceipt(Payload.Fcm(data), ReplayStore.inMemory())

        val before = Files.readAllLines(Path.of(log.path()))
        // The receipt of one notification proves nothing about another.
        assertThrows<PushSealException.InvalidReceipt> { log.recordDelivery(other.messageId, opened.receipt) }
        // Nothing was sealed with this id.
        assertThrows<PushSealException.InvalidReceipt> { log.recordDelivery("ab".repeat(16), opened.receipt) }
        assertThrows<PushSealException.InvalidEncoding> { log.recordDelivery(push.messageId, "not a receipt") }
        assertThrows<PushSealException.InvalidEncoding> { log.recordDelivery("not an id", opened.receipt) }
        assertEquals(before, Files.readAllLines(Path.of(log.path())), "a refused receipt appends nothing")

        val delivered = log.recordDelivery(push.messageId, opened.receipt, now = 1_000uL)
        assertEquals(AuditDelivery(2uL, 1_000uL, push.messageId, device.keyId()), delivered)
        val last = records(log).last()
        assertEquals("delivered", last.getString("type"))
        assertEquals(opened.receipt, last.getString("receipt"))
        // Recorded again: the first record, nothing appended.
        assertEquals(delivered, log.recordDelivery(push.messageId, opened.receipt, now = 2_000uL))
        assertEquals(3, records(log).size)

        val report = verifyAuditLog(log.path())
        assertTrue(report.intact)
        assertEquals(Triple(3uL, 2uL, 1uL), Triple(report.records, report.sealed, report.delivered))
    }

    @Test
    fun verifyReportsIntactThenTheFirstTamperedLineAndCatchesACutEndWithTheAnchor() {
        val log = AuditLog.open(logPath())
        val sender = auditedSender(log)
        val to = List(3) { device(sender).publicKey() }
        assertTrue(sender.sealBatchApns(to, message).all { it.push != null })
        val intact = verifyAuditLog(log.path())
        assertTrue(intact.intact)
        assertEquals(3uL, intact.records)
        val head = checkNotNull(intact.head)
        assertTrue(verifyAuditLog(log.path(), head).intact)

        val path = Path.of(log.path())
        val lines = Files.readAllLines(path)
        val tampered = lines[1].replace("\"ttl\":86400", "\"ttl\":60")
        assertFalse(tampered == lines[1])
        Files.write(path, listOf(lines[0], tampered, lines[2]))
        val report = verifyAuditLog(log.path(), head)
        assertFalse(report.intact)
        assertEquals(1uL, report.records)
        val broken = checkNotNull(report.firstBreak)
        assertEquals(2uL, broken.line)
        assertEquals(1uL, broken.expectedSeq)
        assertEquals(AuditBreakKind.HASH_MISMATCH, broken.kind)
        assertTrue(broken.reason.isNotEmpty())

        // Cutting records off the end leaves a valid chain: only the anchor tells.
        Files.write(path, listOf(lines[0]))
        assertTrue(verifyAuditLog(log.path()).intact)
        assertEquals(AuditBreakKind.ANCHOR_MISSING, verifyAuditLog(log.path(), head).firstBreak?.kind)

        assertThrows<PushSealException.InvalidEncoding> { verifyAuditLog(log.path(), "not an anchor") }
        // A deleted log is not an empty one.
        assertThrows<PushSealException.Storage> { verifyAuditLog(logPath("missing.jsonl")) }
    }

    @Test
    fun nothingIsHandedOutWithoutItsRecord() {
        val path = Path.of(logPath())
        // A last line that is not a record: the log refuses to append after it.
        Files.writeString(path, "not a record\n")
        val sender = auditedSender(AuditLog.open(path.toString()))
        val device = device(sender)
        assertThrows<PushSealException.Storage> { sender.sealApns(device.publicKey(), message) }
        assertThrows<PushSealException.Storage> { sender.sealEnvelope(device.publicKey(), message) }
        val results = sender.sealBatchEnvelope(listOf(device.publicKey()), message)
        assertNull(results[0].push)
        assertEquals("storage", results[0].errorKind)
        assertEquals("not a record\n", Files.readString(path))
    }

    @Test
    fun aCachedSendersEnvelopesOpen() {
        val sender = Sender.fromSecretText(Sender.generate().secretText(), cacheDevices = 2u)
        val devices = List(3) { device(sender) }
        val replay = ReplayStore.inMemory()
        repeat(2) {
            for (device in devices) {
                val envelope = sender.sealEnvelope(device.publicKey(), message)
                assertEquals(message.body, device.openEnvelope(envelope, replay).body)
            }
        }
        assertEquals(2uL, sender.cachedDevices(), "the cache holds at most its capacity")
        assertEquals(0uL, Sender.generate().cachedDevices())
        // The same key without a cache seals envelopes the same devices open.
        val uncached = Sender.fromSecretText(sender.secretText())
        val envelope = uncached.sealEnvelope(devices[0].publicKey(), message)
        assertEquals(message.title, devices[0].openEnvelope(envelope, replay).title)
    }

    @Test
    fun anEnvelopeBatchOpensOnEachDevice() {
        val sender = Sender.generate()
        val devices = List(4) { device(sender) }
        val results = sender.sealBatchEnvelope(devices.map { it.publicKey() }, message)
        assertEquals(devices.map { it.publicKey() }, results.map { it.recipient })
        val pushes = results.map { checkNotNull(it.push) }
        assertEquals(1, pushes.map { it.messageId }.toSet().size, "one message id for the whole batch")
        for ((device, push) in devices.zip(pushes)) {
            val info = inspect(push.envelope)
            assertEquals(device.keyId(), info.recipientKeyId)
            val opened = device.openWithReceipt(Payload.Envelope(push.envelope), ReplayStore.inMemory())
            assertEquals(push.messageId, opened.notification.id)
            assertTrue(verifyReceipt(push.receiptDigest, opened.receipt))
        }
        assertThrows<PushSealException.UnknownRecipientKey> {
            devices[1].openEnvelope(pushes[0].envelope, ReplayStore.inMemory())
        }
    }
}
