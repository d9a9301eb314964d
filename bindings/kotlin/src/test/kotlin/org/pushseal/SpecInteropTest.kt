package org.pushseal

import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.pushseal.SpecEnvelope.HEADER_LEN
import org.pushseal.SpecEnvelope.TAG_LEN
import org.pushseal.SpecEnvelope.base64url
import org.pushseal.SpecEnvelope.fromBase64url
import org.pushseal.SpecEnvelope.keyId
import org.pushseal.SpecEnvelope.publicKey
import org.pushseal.Vectors.stringMap
import java.security.SecureRandom
import java.time.Duration
import java.time.Instant
import java.util.HexFormat

/**
 * SPEC.md is enough to interoperate: [SpecEnvelope], written from it over the JDK's
 * crypto alone, seals every positive vector to the same bytes, opens them, and
 * exchanges fresh envelopes with the bindings in both directions.
 */
class SpecInteropTest {
    private val vectors = Vectors.load("positive.json")
    private val random = SecureRandom()

    private fun hex(bytes: ByteArray): String = HexFormat.of().formatHex(bytes)

    private fun unhex(text: String): ByteArray = HexFormat.of().parseHex(text)

    private fun JSONObject.bytes(field: String): ByteArray = unhex(getString(field))

    private fun utf8(text: String): ByteArray = text.toByteArray(Charsets.UTF_8)

    /** Runs [check] on every positive vector with its name, then checks none was skipped. */
    private fun eachVector(check: (String, JSONObject) -> Unit) {
        for (v in vectors) check(v.getString("name"), v)
        assertEquals(Vectors.POSITIVE, vectors.size)
    }

    @Test
    fun sealsEveryPositiveVectorByteForByte() = eachVector { name, v ->
        val eph = v.getJSONObject("ephemeral")
        val skE = eph.bytes("secret_key")
        assertEquals(hex(skE), hex(SpecEnvelope.deriveSecretKey(eph.bytes("ikm"))), "$name: DeriveKeyPair(ikm)")
        assertEquals(eph.getString("public_key"), hex(publicKey(skE)), "$name: pkE")
        for (role in listOf("sender", "recipient")) {
            val pair = v.getJSONObject(role)
            val sk = pair.bytes("secret_key")
            assertEquals(pair.getString("public_key"), hex(publicKey(sk)), "$name: $role public_key")
            assertEquals(pair.getString("public_key_base64url"), base64url(publicKey(sk)), "$name: $role text")
            assertEquals(pair.getString("key_id"), hex(keyId(publicKey(sk))), "$name: $role key_id")
            assertEquals(pair.getString("secret_key_text"), "pushseal-secret-key-v1:" + base64url(sk), "$name: $role")
        }

        val sealed = SpecEnvelope.seal(
            skE = skE,
            skS = v.getJSONObject("sender").bytes("secret_key"),
            pkR = v.getJSONObject("recipient").bytes("public_key"),
            m = utf8(v.getString("plaintext")),
        )
        val header = v.getJSONObject("header")
        val expectedHeader = "%02x".format(header.getInt("version")) + header.getString("recipient_key_id") +
            header.getString("sender_key_id") + header.getString("enc")
        assertEquals(expectedHeader, hex(sealed.header), "$name: header")
        assertEquals(v.getString("aad"), hex(sealed.header), "$name: aad")
        assertEquals(v.getString("padded_plaintext"), hex(sealed.padded), "$name: padded_plaintext")
        assertEquals(v.getInt("padded_len"), sealed.padded.size, "$name: padded_len")

        val hpke = v.getJSONObject("hpke")
        assertEquals(hex(SpecEnvelope.INFO), hpke.getString("info"), "$name: info")
        val ctx = sealed.ctx
        val intermediates = mapOf(
            "dh_ephemeral" to sealed.dhEphemeral,
            "dh_static" to sealed.dhStatic,
            "kem_context" to sealed.kemContext,
            "shared_secret" to sealed.sharedSecret,
            "key_schedule_context" to ctx.keyScheduleContext,
            "secret" to ctx.secret,
            "key" to ctx.key,
            "base_nonce" to ctx.baseNonce,
            "nonce" to ctx.computeNonce(hpke.getLong("seq")),
            "exporter_secret" to ctx.exporterSecret,
        )
        for ((field, value) in intermediates) assertEquals(hpke.getString(field), hex(value), "$name: hpke.$field")

        val envelope = sealed.envelope
        assertEquals(v.getString("ciphertext"), hex(envelope.copyOfRange(HEADER_LEN, envelope.size - TAG_LEN)), name)
        assertEquals(v.getString("tag"), hex(envelope.copyOfRange(envelope.size - TAG_LEN, envelope.size)), name)
        assertEquals(v.getString("envelope"), hex(envelope), "$name: envelope")
        assertEquals(v.getInt("envelope_len"), envelope.size, "$name: envelope_len")
        assertEquals(v.getString("envelope_base64url"), base64url(envelope), "$name: envelope_base64url")

        // SPEC.md 10.1: the receipt digest the sender keeps.
        val receipt = v.getJSONObject("receipt")
        val exporterContext = SpecEnvelope.ascii("pushseal receipt v1") + v.bytes("message_id")
        assertEquals(receipt.getString("exporter_context"), hex(exporterContext), "$name: exporter_context")
        val r = SpecEnvelope.receipt(ctx, v.bytes("message_id"))
        assertEquals(receipt.getString("receipt"), hex(r), "$name: receipt")
        assertEquals(receipt.getString("receipt_base64url"), base64url(r), "$name: receipt text")
        assertEquals(receipt.getString("digest"), hex(SpecEnvelope.receiptDigest(r)), "$name: receipt digest")
    }

    @Test
    fun plaintextAgreesWithTheMessage() = eachVector { name, v ->
        val m = v.getJSONObject("message")
        val sentAt = v.getLong("sent_at")
        val expected = mutableMapOf<String, Any>(
            "id" to v.getString("message_id"),
            "sent_at" to sentAt,
            "expires_at" to sentAt + m.getLong("ttl_secs"),
            "title" to m.getString("title"),
            "body" to m.getString("body"),
        )
        m.getJSONObject("data").stringMap().let { if (it.isNotEmpty()) expected["data"] = it }
        for (field in listOf("thread_id", "category", "sound")) {
            if (!m.isNull(field)) expected[field] = m.getString(field)
        }
        if (!m.isNull("badge")) expected["badge"] = m.getLong("badge")

        val pt = JSONObject(v.getString("plaintext"))
        val actual = pt.keySet().associateWith {
            when (it) {
                "sent_at", "expires_at", "badge" -> pt.getLong(it)
                "data" -> pt.getJSONObject(it).stringMap()
                else -> pt.getString(it)
            }
        }
        assertEquals(expected, actual, "$name: plaintext fields")
        assertEquals(utf8(v.getString("plaintext")).size, v.getInt("plaintext_len"), "$name: plaintext_len")
        // SPEC.md 11.1: the same bytes, written from the message alone.
        val json = SpecEnvelope.notificationJson(v.getString("message_id"), sentAt, Vectors.message(m))
        assertEquals(v.getString("plaintext"), json, "$name: plaintext bytes")
    }

    @Test
    fun opensEveryPositiveVector() = eachVector { name, v ->
        val envelope = fromBase64url(v.getString("envelope_base64url"))
        assertEquals(v.getString("envelope"), hex(envelope), "$name: envelope text")
        val opened = SpecEnvelope.open(
            envelope,
            skR = v.getJSONObject("recipient").bytes("secret_key"),
            pkS = v.getJSONObject("sender").bytes("public_key"),
        )
        assertEquals(v.getString("padded_plaintext"), hex(opened.padded), "$name: padded_plaintext")
        assertEquals(v.getString("plaintext"), SpecEnvelope.unpad(opened.padded).toString(Charsets.UTF_8), name)
        assertEquals(v.getJSONObject("hpke").getString("key"), hex(opened.ctx.key), "$name: receiver's key")
    }

    @Test
    fun tamperedEnvelopesFailToOpen() = eachVector { name, v ->
        val envelope = unhex(v.getString("envelope"))
        val skR = v.getJSONObject("recipient").bytes("secret_key")
        val pkS = v.getJSONObject("sender").bytes("public_key")
        fun assertFails(kind: String, bytes: ByteArray, what: String) {
            val e = assertThrows<SpecEnvelope.Failure>("$name: $what") { SpecEnvelope.open(bytes, skR, pkS) }
            assertEquals(kind, e.kind, "$name: $what")
        }
        // SPEC.md 4.2: a bit flip fails at the check that covers its field; the AAD covers the header.
        // Every header and tag byte, and the ciphertext's first, middle and last.
        val tagAt = envelope.size - TAG_LEN
        val ciphertext = listOf(HEADER_LEN, (HEADER_LEN + tagAt) / 2, tagAt - 1)
        val positions = (0 until HEADER_LEN) + ciphertext + (tagAt until envelope.size)
        for (i in positions) {
            val kind = when (i) {
                0 -> "unsupported_version"
                in 1 until 9 -> "unknown_recipient_key"
                in 9 until 17 -> "untrusted_sender"
                else -> "tampered"
            }
            val flipped = envelope.copyOf().also { it[i] = (it[i].toInt() xor 0x01).toByte() }
            assertFails(kind, flipped, "byte $i flipped")
        }
        assertFails("truncated", ByteArray(0), "empty")
        assertFails("truncated", envelope.copyOf(HEADER_LEN + TAG_LEN - 1), "no room for the tag")
        assertFails("tampered", envelope.copyOf(HEADER_LEN + TAG_LEN), "no ciphertext")
        assertFails("tampered", envelope.copyOf(envelope.size - 1), "last byte cut")
        assertFails("tampered", envelope + byteArrayOf(0), "one byte appended")
        assertFails("zero_shared_secret", envelope.copyOf().also { it.fill(0, 17, HEADER_LEN) }, "enc = 0")
    }

    /** Characters that exercise SPEC.md 11.1: plain, escaped, raw control-like, non-ASCII. */
    private val alphabet =
        listOf("a", "Z", "7", " ", "\"", "\\", "/", "\n", "\t", "\u0001", "\u007f", "\u0085", "é", "ש", "🔬", "\u2028")

    private fun randomText(maxLen: Int): String = buildString {
        repeat(random.nextInt(maxLen + 1)) { append(alphabet[random.nextInt(alphabet.size)]) }
    }

    private fun randomMessage(): Message = Message(
        title = randomText(40),
        body = randomText(200),
        data = List(random.nextInt(4)) { "k$it" + randomText(5) to randomText(20) }.toMap(),
        threadId = if (random.nextBoolean()) "t" + randomText(10) else null,
        badge = if (random.nextBoolean()) random.nextInt(1000).toLong() else null,
        ttl = if (random.nextBoolean()) Duration.ofHours(1) else null,
    )

    private fun senderSecretKey(sender: Sender): ByteArray =
        fromBase64url(sender.secretText().removePrefix("pushseal-secret-key-v1:"))

    /** SPEC.md 8.2: the current device secret key in the keyring's serialized form. */
    private fun deviceSecretKey(device: DeviceKeyring): ByteArray =
        fromBase64url(JSONObject(device.toBytes().toString(Charsets.UTF_8)).getString("current"))

    @Test
    fun independentSealOpensThroughTheBindings() {
        val sender = Sender.generate()
        val skS = senderSecretKey(sender)
        assertEquals(sender.publicKey(), base64url(publicKey(skS)), "the sender's secret key text")
        val device = DeviceKeyring.generate().also { it.trustSender(sender.publicKey()) }
        val pkR = fromBase64url(device.publicKey())
        assertEquals(device.keyId(), hex(keyId(pkR)), "the device's key id")

        repeat(8) { round ->
            val what = "random message $round"
            val message = randomMessage()
            val id = ByteArray(16).also { random.nextBytes(it) }
            val sentAt = System.currentTimeMillis() / 1000
            val skE = ByteArray(32).also { random.nextBytes(it) }
            val json = SpecEnvelope.notificationJson(hex(id), sentAt, message)
            val envelope = SpecEnvelope.seal(skE, skS, pkR, utf8(json)).envelope

            val opened = device.open(Payload.Envelope(base64url(envelope)), ReplayStore.inMemory())
            assertEquals(hex(id), opened.id, what)
            assertEquals(Instant.ofEpochSecond(sentAt + (message.ttl?.seconds ?: 86_400L)), opened.expiresAt, what)
            assertEquals(message.title, opened.title, what)
            assertEquals(message.body, opened.body, what)
            assertEquals(message.data, opened.data, what)
            assertEquals(message.threadId, opened.threadId, what)
            assertEquals(message.badge, opened.badge, what)
        }
    }

    @Test
    fun bindingsSealOpensIndependently() {
        val sender = Sender.generate()
        val pkS = fromBase64url(sender.publicKey())
        val device = DeviceKeyring.generate()
        val skR = deviceSecretKey(device)
        assertEquals(device.publicKey(), base64url(publicKey(skR)), "the device's keyring")

        repeat(8) { round ->
            val what = "random message $round"
            val message = randomMessage()
            val result = sender.sealEnvelope(device.publicKey(), message)
            val sealed = result.sealed
            val opened = SpecEnvelope.open(fromBase64url(result.envelope), skR, pkS)
            assertTrue(opened.padded.size in listOf(256, 512, 1024, 2048), "$what: a padding bucket")
            val json = SpecEnvelope.unpad(opened.padded).toString(Charsets.UTF_8)
            val pt = JSONObject(json)
            assertEquals(message.title, pt.getString("title"), what)
            assertEquals(message.body, pt.getString("body"), what)
            assertEquals(sealed.messageId, pt.getString("id"), what)
            assertEquals(sealed.expiresAt, Instant.ofEpochSecond(pt.getLong("expires_at")), what)
            // SPEC.md 11.1 fixes the sender's bytes; SPEC.md 10.1 its receipt digest.
            val sentAt = pt.getLong("sent_at")
            val expectedJson = SpecEnvelope.notificationJson(sealed.messageId, sentAt, message)
            assertEquals(expectedJson, json, "$what: plaintext bytes")
            val receipt = SpecEnvelope.receipt(opened.ctx, unhex(sealed.messageId))
            assertEquals(sealed.receiptDigest, hex(SpecEnvelope.receiptDigest(receipt)), what)
        }
    }
}
