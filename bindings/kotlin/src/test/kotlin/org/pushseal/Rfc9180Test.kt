package org.pushseal

import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.DynamicTest.dynamicTest
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestFactory
import org.junit.jupiter.api.assertThrows
import org.pushseal.SpecEnvelope.MODE_AUTH
import org.pushseal.SpecEnvelope.MODE_AUTH_PSK
import org.pushseal.SpecEnvelope.MODE_BASE
import org.pushseal.SpecEnvelope.MODE_PSK
import org.pushseal.SpecEnvelope.publicKey
import org.pushseal.Vectors.objects
import java.util.HexFormat
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher

/**
 * The official RFC 9180 vectors for PushSeal's suite, all four modes, through the HPKE
 * of [SpecEnvelope] (the JDK's crypto alone): every key, secret, ciphertext and export.
 */
class Rfc9180Test {
    private val vectors = Vectors.loadArray("rfc9180-x25519-sha256-chacha20poly1305.json")

    private fun hex(bytes: ByteArray): String = HexFormat.of().formatHex(bytes)

    private fun JSONObject.bytes(field: String): ByteArray = HexFormat.of().parseHex(getString(field))

    private fun JSONObject.optBytes(field: String): ByteArray? = if (has(field)) bytes(field) else null

    private val modeNames =
        mapOf(MODE_BASE to "base", MODE_PSK to "psk", MODE_AUTH to "auth", MODE_AUTH_PSK to "auth_psk")

    @Test
    fun fileHoldsFourModes1028EncryptionsAnd12Exports() {
        assertEquals(modeNames.keys, vectors.map { it.getInt("mode") }.toSet(), "modes")
        assertEquals(Vectors.RFC9180_MODES, vectors.size, "entries")
        val encryptions = vectors.sumOf { it.getJSONArray("encryptions").length() }
        assertEquals(Vectors.RFC9180_ENCRYPTIONS, encryptions, "encryptions")
        assertEquals(Vectors.RFC9180_EXPORTS, vectors.sumOf { it.getJSONArray("exports").length() }, "exports")
        for (v in vectors) {
            val suite = listOf("kem_id", "kdf_id", "aead_id").map { v.getInt(it) }
            assertEquals(listOf(0x20, 0x01, 0x03), suite, "mode ${v.getInt("mode")}: suite")
        }
    }

    @TestFactory
    fun everyEntryReproducesEveryValue(): List<DynamicTest> = vectors.map { v ->
        val mode = v.getInt("mode")
        val name = modeNames.getValue(mode)
        dynamicTest(name) { check(name, mode, v) }
    }

    private fun check(name: String, mode: Int, v: JSONObject) {
        val auth = mode == MODE_AUTH || mode == MODE_AUTH_PSK
        assertEquals(auth, v.has("ikmS"), "$name: ikmS present")

        // RFC 9180 section 7.1.3: DeriveKeyPair of every key in the entry.
        val keys = listOfNotNull("E", "R", "S".takeIf { auth })
        for (k in keys) {
            val sk = SpecEnvelope.deriveSecretKey(v.bytes("ikm$k"))
            assertEquals(v.getString("sk${k}m"), hex(sk), "$name: sk${k}m")
            assertEquals(v.getString("pk${k}m"), hex(publicKey(sk)), "$name: pk${k}m")
        }
        val skE = v.bytes("skEm")
        val skR = v.bytes("skRm")
        val skS = v.optBytes("skSm")
        val pkS = v.optBytes("pkSm")

        // RFC 9180 section 4.1: Encap / AuthEncap on the sender, Decap / AuthDecap on the receiver.
        val (ss, enc) = SpecEnvelope.encap(skE, v.bytes("pkRm"), skS)
        assertEquals(v.getString("enc"), hex(enc), "$name: enc")
        assertEquals(v.getString("shared_secret"), hex(ss), "$name: shared_secret")
        val ssR = SpecEnvelope.decap(enc, skR, pkS)
        assertEquals(v.getString("shared_secret"), hex(ssR), "$name: receiver shared_secret")

        // RFC 9180 section 5.1: the key schedule, with the PSK in modes psk and auth_psk.
        val psk = v.optBytes("psk") ?: ByteArray(0)
        val pskId = v.optBytes("psk_id") ?: ByteArray(0)
        val info = v.bytes("info")
        val sender = SpecEnvelope.keySchedule(ss, info, mode, psk, pskId)
        val receiver = SpecEnvelope.keySchedule(ssR, info, mode, psk, pskId)
        val values = mapOf(
            "key_schedule_context" to sender.keyScheduleContext,
            "secret" to sender.secret,
            "key" to sender.key,
            "base_nonce" to sender.baseNonce,
            "exporter_secret" to sender.exporterSecret,
        )
        for ((field, value) in values) assertEquals(v.getString(field), hex(value), "$name: $field")

        // RFC 9180 section 5.2: the file lists the encryptions in sequence order from 0.
        val encryptions = v.getJSONArray("encryptions").objects()
        for ((seq, e) in encryptions.withIndex()) {
            val (aad, pt, ct) = listOf("aad", "pt", "ct").map { e.bytes(it) }
            val at = "$name: encryption $seq"
            assertEquals(e.getString("nonce"), hex(sender.computeNonce(seq.toLong())), "$at: nonce")
            assertEquals(hex(ct), hex(sender.aead(Cipher.ENCRYPT_MODE, seq.toLong(), aad, pt)), "$at: ct")
            assertEquals(hex(pt), hex(receiver.aead(Cipher.DECRYPT_MODE, seq.toLong(), aad, ct)), "$at: pt")
        }
        // The sequence number is bound into the nonce: a ciphertext does not open one place off.
        assertThrows<AEADBadTagException>("$name: encryption 1 at seq 0") {
            receiver.aead(Cipher.DECRYPT_MODE, 0, encryptions[1].bytes("aad"), encryptions[1].bytes("ct"))
        }

        // RFC 9180 section 5.3: every export, on both sides.
        for ((i, x) in v.getJSONArray("exports").objects().withIndex()) {
            val context = x.bytes("exporter_context")
            val length = x.getInt("L")
            val expected = x.getString("exported_value")
            assertEquals(expected, hex(sender.export(context, length)), "$name: export $i")
            assertEquals(expected, hex(receiver.export(context, length)), "$name: receiver export $i")
        }
    }

    @Test
    fun keyScheduleRefusesPskInputsThatDoNotMatchTheMode() {
        val ss = ByteArray(32) { 7 }
        val none = ByteArray(0)
        val some = SpecEnvelope.ascii("psk")
        val refuse = { what: String, schedule: () -> Unit ->
            assertThrows<IllegalArgumentException>(what) { schedule() }
        }
        refuse("auth with a psk") { SpecEnvelope.keySchedule(ss, none, MODE_AUTH, some, some) }
        refuse("psk without one") { SpecEnvelope.keySchedule(ss, none, MODE_PSK) }
        refuse("psk without an id") { SpecEnvelope.keySchedule(ss, none, MODE_PSK, some) }
        // The same inputs in a mode that matches them are accepted.
        assertEquals(MODE_PSK.toByte(), SpecEnvelope.keySchedule(ss, none, MODE_PSK, some, some).keyScheduleContext[0])
        assertEquals(MODE_BASE.toByte(), SpecEnvelope.keySchedule(ss, none, MODE_BASE).keyScheduleContext[0])
    }
}
