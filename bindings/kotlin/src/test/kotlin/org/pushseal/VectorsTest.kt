package org.pushseal

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.pushseal.Vectors.instant
import org.pushseal.Vectors.kindName
import org.pushseal.Vectors.objects
import org.pushseal.Vectors.stringMap

/**
 * Every vector in test-vectors/, through the Kotlin bindings: positive vectors
 * open to the expected notification (and receipt), negative vectors fail with
 * the expected kind, replay sequences run against one store.
 */
class VectorsTest {
    @Test
    fun positiveVectorsOpenThroughEveryPayload() {
        val vectors = Vectors.load("positive.json")
        var opened = 0
        for (v in vectors) {
            val name = v.getString("name")
            val keyringText = v.getJSONObject("keyring").getString("serialized")
            val keyring = DeviceKeyring.fromBytes(keyringText.toByteArray(Charsets.UTF_8))
            // Writing the keyring back gives the same bytes.
            assertEquals(keyringText, keyring.toBytes().toString(Charsets.UTF_8), name)
            val current = v.getJSONObject("keyring").getJSONObject("current")
            assertEquals(current.getString("public_key_base64url"), keyring.publicKey(), name)
            assertEquals(current.getString("key_id"), keyring.keyId(), name)

            val now = instant(v.getLong("now"))
            val expected = Vectors.notification(v.getJSONObject("expected"))
            val envelope = v.getString("envelope_base64url")
            val apns = v.getJSONObject("apns").getString("body")
            val fcm = v.getJSONObject("fcm").getJSONObject("data").stringMap()

            assertEquals(expected, keyring.open(Payload.Apns(apns), ReplayStore.inMemory(), now), "$name apns")
            assertEquals(expected, keyring.open(Payload.Fcm(fcm), ReplayStore.inMemory(), now), "$name fcm")
            assertEquals(expected, keyring.open(Payload.Envelope(envelope), ReplayStore.inMemory(), now), "$name envelope")

            val receipt = v.getJSONObject("receipt")
            for (payload in listOf(Payload.Apns(apns), Payload.Fcm(fcm), Payload.Envelope(envelope))) {
                val withReceipt = keyring.openWithReceipt(payload, ReplayStore.inMemory(), now)
                assertEquals(expected, withReceipt.notification, name)
                assertEquals(receipt.getString("receipt_base64url"), withReceipt.receipt, name)
                assertTrue(verifyReceipt(receipt.getString("digest"), withReceipt.receipt), name)
            }

            val info = inspect(envelope)
            val header = v.getJSONObject("header")
            assertEquals(header.getString("recipient_key_id"), info.recipientKeyId, name)
            assertEquals(header.getString("sender_key_id"), info.senderKeyId, name)
            assertEquals(v.getLong("padded_len"), info.paddedLen, name)
            opened += 1
        }
        assertEquals(Vectors.POSITIVE, opened)
    }

    @Test
    fun negativeVectorsFailWithTheirKind() {
        val vectors = Vectors.load("negative.json")
        var checked = 0
        for (v in vectors) {
            val name = v.getString("name")
            val kind = v.getString("expected_error")
            val e = when (v.getString("operation")) {
                "open" -> {
                    val keyring = DeviceKeyring.fromBytes(v.getString("keyring").toByteArray(Charsets.UTF_8))
                    val now = instant(v.getLong("now"))
                    assertThrows<PushSealException>(name) {
                        Vectors.open(keyring, v.getJSONObject("payload"), ReplayStore.inMemory(), now)
                    }
                }
                "seal" -> {
                    val sender = Sender.fromSecretText(v.getJSONObject("sender").getString("secret_key_text"))
                    val to = v.getJSONObject("recipient").getString("public_key_base64url")
                    val message = Vectors.message(v.getJSONObject("message"))
                    val target = Vectors.target(v.getJSONObject("target"))
                    if (v.has("expected_max_plaintext")) {
                        assertEquals(v.getLong("expected_max_plaintext"), maxPlaintextLen(target), name)
                    }
                    assertThrows<PushSealException>(name) {
                        when (target) {
                            is Target.Envelope -> sender.sealEnvelope(to, message)
                            is Target.Apns -> sender.sealApns(to, message, target.options)
                            is Target.Fcm -> sender.sealFcm(to, message, target.options)
                        }
                    }
                }
                else -> error("$name: unknown operation")
            }
            assertEquals(kind, kindName(e), "$name: ${e.message}")
            checked += 1
        }
        assertEquals(Vectors.NEGATIVE, checked)
    }

    @Test
    fun replaySequencesRunAgainstOneStore() {
        val vectors = Vectors.load("replay-sequences.json")
        var steps = 0
        for (v in vectors) {
            val name = v.getString("name")
            val keyring = DeviceKeyring.fromBytes(v.getString("keyring").toByteArray(Charsets.UTF_8))
            val replay = ReplayStore.inMemory()
            for (step in v.getJSONArray("steps").objects()) {
                val what = "$name: ${step.getString("description")}"
                val now = instant(step.getLong("now"))
                if (step.has("expected")) {
                    val expected = Vectors.notification(step.getJSONObject("expected"))
                    assertEquals(expected, Vectors.open(keyring, step.getJSONObject("payload"), replay, now), what)
                } else {
                    val e = assertThrows<PushSealException>(what) {
                        Vectors.open(keyring, step.getJSONObject("payload"), replay, now)
                    }
                    assertEquals(step.getString("expected_error"), kindName(e), what)
                }
                steps += 1
            }
        }
        assertEquals(Vectors.SEQUENCES, vectors.size)
        assertEquals(Vectors.STEPS, steps)
    }

    @Test
    fun keyTextsReadAsStated() {
        // SPEC.md section 3.1: a public key text through trustSender, a secret key text through Sender,
        // a receipt text (the same white space rule) through verifyReceipt against its digest.
        val vectors = Vectors.load("key-texts.json")
        for (v in vectors) {
            val name = v.getString("name")
            val text = v.getString("text")
            val read: () -> String = when (val role = v.getString("role")) {
                "public" -> {
                    {
                        val keyring = DeviceKeyring.generate()
                        keyring.trustSender(text)
                        keyring.trustedSenders().single()
                    }
                }
                "secret" -> {
                    { Sender.fromSecretText(text).publicKey() }
                }
                "receipt" -> {
                    { verifyReceipt(v.getString("receipt_digest"), text).toString() }
                }
                else -> error("$name: unknown role $role")
            }
            if (v.has("expected_public_key")) {
                assertEquals(v.getString("expected_public_key"), read(), name)
            } else if (v.has("expected_receipt")) {
                // The text is that receipt: it matches the digest made from it.
                assertEquals("true", read(), name)
            } else {
                val e = assertThrows<PushSealException>(name) { read() }
                assertEquals(v.getString("expected_error"), kindName(e), "$name: ${e.message}")
            }
        }
        assertEquals(Vectors.KEY_TEXTS, vectors.size)
    }

    @Test
    fun errorKindsTakeTheDeviceActionStated() {
        // SPEC.md section 9: every core kind and its device action; the bindings add INTERNAL alone.
        val vectors = Vectors.load("error-kinds.json")
        val byName = ErrorKind.values().associateBy { it.specName() }
        for (v in vectors) {
            val kind = v.getString("kind")
            val bound = byName[kind] ?: error("$kind: no such ErrorKind in the bindings")
            assertEquals(v.getString("device_action"), bound.deviceAction().specName(), kind)
        }
        assertEquals(setOf("internal"), byName.keys - vectors.map { it.getString("kind") }.toSet())
        assertEquals(
            DeviceAction.values().map { it.specName() }.toSet(),
            vectors.map { it.getString("device_action") }.toSet(),
        )
        assertEquals(Vectors.ERROR_KINDS, vectors.size)
    }
}
