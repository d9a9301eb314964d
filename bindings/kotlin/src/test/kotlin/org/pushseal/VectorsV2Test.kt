package org.pushseal

import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.pushseal.Vectors.instant
import org.pushseal.Vectors.kindName
import org.pushseal.Vectors.objects
import java.util.Base64

/**
 * Every envelope version 2 vector in test-vectors/v2.json (SPEC.md section 12),
 * through the Kotlin bindings: positive vectors open through the same `open` as
 * version 1, to their plaintext and receipt; negative vectors fail with their
 * kind; sender vectors seal or refuse as stated; version 2 key texts are refused.
 */
class VectorsV2Test {
    private val v2 = Vectors.loadV2()

    private fun section(name: String): List<JSONObject> = v2.getJSONArray(name).objects()

    /** The payloads a platform delivers around one envelope text (SPEC.md section 7). */
    private fun payloads(envelope: String): List<Payload> = listOf(
        Payload.Envelope(envelope),
        Payload.Fcm(mapOf("pushseal" to envelope)),
        Payload.Apns(JSONObject().put("aps", JSONObject().put("content-available", 1)).put("pushseal", envelope).toString()),
    )

    @Test
    fun positiveVectorsOpenThroughTheSameOpenAsVersion1() {
        val vectors = section("positive")
        for (v in vectors) {
            val name = v.getString("name")
            val keyringText = v.getString("keyring")
            val keyring = DeviceKeyring.fromBytes(keyringText.toByteArray(Charsets.UTF_8))
            // Writing the keyring back gives the same bytes.
            assertEquals(keyringText, keyring.toBytes().toString(Charsets.UTF_8), name)
            assertEquals(v.getString("registration"), keyring.registration(), name)
            assertEquals(v.getString("device_v2_public_text"), keyring.publicKeyV2(), name)
            assertEquals(v.getString("device_v2_key_id"), keyring.keyIdV2(), name)
            assertEquals(listOf(v.getString("sender_v2_public_text")), keyring.trustedSendersV2(), name)

            val plaintext = JSONObject(v.getString("plaintext"))
            val expected = OpenedNotification(
                id = v.getString("message_id"),
                sentAt = instant(v.getLong("sent_at")),
                expiresAt = instant(plaintext.getLong("expires_at")),
                title = plaintext.getString("title"),
                body = plaintext.getString("body"),
                data = emptyMap(),
                threadId = null,
                category = null,
                badge = null,
                sound = null,
            )
            val now = instant(v.getLong("now"))
            val envelope = v.getString("envelope_base64url")
            for (payload in payloads(envelope)) {
                val opened = keyring.openWithReceipt(payload, ReplayStore.inMemory(), now)
                assertEquals(expected, opened.notification, "$name $payload")
                assertEquals(v.getString("receipt_base64url"), opened.receipt, name)
                assertTrue(verifyReceipt(v.getString("receipt_digest"), opened.receipt), name)
                assertEquals(expected, keyring.open(payload, ReplayStore.inMemory(), now), name)
            }

            val info = inspect(envelope)
            assertEquals(2, info.version, name)
            assertEquals(v.getString("device_v2_key_id"), info.recipientKeyId, name)
            assertEquals(v.getString("sender_v2_key_id"), info.senderKeyId, name)
            assertEquals(v.getLong("padded_len"), info.paddedLen, name)

            // The sender's texts read back as the vector's keys.
            val sender = Sender.fromSecretText(Sender.generate().secretText(), textV2 = v.getString("sender_v2_secret_text"))
            assertEquals(v.getString("sender_v2_public_text"), sender.publicKeyV2(), name)
            assertEquals(v.getString("sender_v2_key_id"), sender.keyIdV2(), name)
            assertEquals(v.getString("sender_v2_secret_text"), sender.secretTextV2(), name)
        }
        assertEquals(Vectors.V2_POSITIVE, vectors.size)
    }

    @Test
    fun negativeVectorsFailWithTheirKind() {
        val vectors = section("negative")
        for (v in vectors) {
            val name = v.getString("name")
            val keyring = DeviceKeyring.fromBytes(v.getString("keyring").toByteArray(Charsets.UTF_8))
            val e = assertThrows<PushSealException>(name) {
                keyring.open(Payload.Envelope(v.getString("envelope_base64url")), ReplayStore.inMemory(), instant(v.getLong("now")))
            }
            assertEquals(v.getString("error_kind"), kindName(e), "$name: ${e.message}")
        }
        assertEquals(Vectors.V2_NEGATIVE, vectors.size)
    }

    @Test
    fun senderVectorsSealOrRefuseAsStated() {
        val vectors = section("sender")
        val device = DeviceKeyring.generate()
        val sender = Sender.generate()
        device.trustSenderV2(sender.publicKeyV2()!!)
        // A notification's JSON with an empty body: the filler makes it exactly the vector's length.
        val empty = """{"id":"00000000000000000000000000000000","sent_at":1767225600,"expires_at":1767312000,"title":"t","body":""}""".length
        for (v in vectors) {
            val name = v.getString("name")
            if (v.getString("pq") == "require") {
                val strict = Sender.generate().let { Sender.fromSecretText(it.secretText(), textV2 = it.secretTextV2(), pq = Pq.REQUIRE) }
                val e = assertThrows<PushSealException>(name) {
                    strict.sealEnvelope(v.getString("registration"), Message(title = "t", body = "b"))
                }
                assertEquals(v.getString("error_kind"), kindName(e), "$name: ${e.message}")
                continue
            }
            val message = Message(title = "t", body = "x".repeat(v.getInt("plaintext_len") - empty))
            val to = device.registration()
            val seal: () -> Sealed = when (val target = v.getString("target")) {
                "apns" -> { { sender.sealApns(to, message).sealed } }
                "fcm" -> { { sender.sealFcm(to, message).sealed } }
                "envelope" -> {
                    {
                        val sealed = sender.sealEnvelope(to, message)
                        assertEquals(v.getLong("envelope_len"), Base64.getUrlDecoder().decode(sealed.envelope).size.toLong(), name)
                        device.open(Payload.Envelope(sealed.envelope), ReplayStore.inMemory())
                        sealed.sealed
                    }
                }
                else -> error("$name: unknown target $target")
            }
            if (v.isNull("error_kind")) {
                assertEquals(2, seal().version, name)
            } else {
                val e = assertThrows<PushSealException>(name) { seal() }
                assertEquals(v.getString("error_kind"), kindName(e), "$name: ${e.message}")
            }
        }
        assertEquals(Vectors.V2_SENDER, vectors.size)
    }

    @Test
    fun version2KeyTextsAreRefused() {
        val vectors = section("key_texts")
        val keyring = DeviceKeyring.generate()
        var read = 0
        for (v in vectors) {
            val name = v.getString("name")
            val text = v.getString("text")
            val attempt: () -> Unit = when (val kind = v.getString("kind")) {
                "sender_v2_public" -> { { keyring.trustSenderV2(text) } }
                // A device's version 2 key reaches a sender inside its registration.
                "device_v2_public" -> {
                    {
                        val registration = "pushseal-registration-v2:${keyring.publicKey()}.${text.removePrefix("pushseal-device-v2:")}"
                        Sender.generate().sealEnvelope(registration, Message(title = "t", body = "b"))
                    }
                }
                "sender_v2_secret" -> { { Sender.fromSecretText(Sender.generate().secretText(), textV2 = text) } }
                // The bindings read a device's version 2 secret key only inside keyring bytes.
                "device_v2_secret" -> continue
                else -> error("$name: unknown kind $kind")
            }
            val e = assertThrows<PushSealException>(name) { attempt() }
            assertEquals(v.getString("error_kind"), kindName(e), "$name: ${e.message}")
            read += 1
        }
        assertEquals(Vectors.V2_KEY_TEXTS, vectors.size)
        assertEquals(Vectors.V2_KEY_TEXTS - 1, read)
        assertTrue(keyring.trustedSendersV2().isEmpty())
    }
}
