package org.pushseal

import java.math.BigInteger
import java.security.InvalidKeyException
import java.security.KeyFactory
import java.security.MessageDigest
import java.security.spec.NamedParameterSpec
import java.security.spec.XECPrivateKeySpec
import java.security.spec.XECPublicKeySpec
import java.util.Arrays
import java.util.Base64
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyAgreement
import javax.crypto.Mac
import javax.crypto.spec.IvParameterSpec
import javax.crypto.spec.SecretKeySpec

/**
 * The PushSeal v1 envelope written again from SPEC.md and RFC 9180 alone, over the
 * JDK's own crypto (XDH, ChaCha20-Poly1305, HmacSHA256, SHA-256): it shares no code
 * with the core, so agreeing with the vectors shows the specification is enough to
 * interoperate. Test code only; failures carry the SPEC.md section 9 kind.
 */
object SpecEnvelope {
    class Failure(val kind: String) : Exception(kind)

    /** SPEC.md 4.1: `info`. */
    val INFO = ascii("pushseal envelope v1")
    const val HEADER_LEN = 49
    const val TAG_LEN = 16
    private val BUCKETS = intArrayOf(256, 512, 1024, 2048)
    private val EMPTY = ByteArray(0)

    /** RFC 9180 section 4.1: suite_id of DHKEM(X25519, HKDF-SHA256). */
    private val KEM_SUITE = ascii("KEM") + i2osp(0x0020, 2)

    /** RFC 9180 section 5.1: suite_id of KEM 0x0020, KDF 0x0001, AEAD 0x0003. */
    private val HPKE_SUITE = ascii("HPKE") + i2osp(0x0020, 2) + i2osp(0x0001, 2) + i2osp(0x0003, 2)

    /** SPEC.md 1: `"text"`. */
    fun ascii(text: String): ByteArray = text.toByteArray(Charsets.US_ASCII)

    /** SPEC.md 1: `I2OSP(n, w)`, n >= 0. Bytes above the Long's eight are zero: `shr` masks its count to 6 bits. */
    fun i2osp(n: Long, w: Int): ByteArray =
        ByteArray(w) { (8 * (w - 1 - it)).let { shift -> if (shift < 64) (n shr shift).toByte() else 0 } }

    private fun i2osp(n: Int, w: Int) = i2osp(n.toLong(), w)

    /** SPEC.md 1: base64url without padding. */
    fun base64url(bytes: ByteArray): String = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes)

    /** SPEC.md 1: decoding accepts only the canonical text, the one that encodes back to itself. */
    fun fromBase64url(text: String): ByteArray {
        val bytes = try {
            Base64.getUrlDecoder().decode(text)
        } catch (e: IllegalArgumentException) {
            throw Failure("invalid_encoding")
        }
        if (base64url(bytes) != text) throw Failure("invalid_encoding")
        return bytes
    }

    fun sha256(vararg parts: ByteArray): ByteArray =
        MessageDigest.getInstance("SHA-256").apply { parts.forEach { update(it) } }.digest()

    /** SPEC.md 3.2: `key_id = SHA-256("pushseal-v1 key id" || pk)[0..8]`. */
    fun keyId(pk: ByteArray): ByteArray = sha256(ascii("pushseal-v1 key id"), pk).copyOf(8)

    /** RFC 7748 section 5 through the JDK; SPEC.md 2: an all-zero output is `zero_shared_secret`. */
    fun dh(sk: ByteArray, pk: ByteArray): ByteArray {
        val keys = KeyFactory.getInstance("XDH")
        val agreement = KeyAgreement.getInstance("XDH")
        agreement.init(keys.generatePrivate(XECPrivateKeySpec(NamedParameterSpec.X25519, sk)))
        // The u-coordinate is little-endian; its top bit is ignored (RFC 7748 section 5).
        val u = pk.reversedArray().also { it[0] = (it[0].toInt() and 0x7f).toByte() }
        val shared = try {
            agreement.doPhase(keys.generatePublic(XECPublicKeySpec(NamedParameterSpec.X25519, BigInteger(1, u))), true)
            agreement.generateSecret()
        } catch (e: InvalidKeyException) {
            null // the JDK refuses an all-zero output itself
        }
        if (shared == null || shared.all { it == 0.toByte() }) throw Failure("zero_shared_secret")
        return shared
    }

    /** RFC 7748 section 6.1: `pk = X25519(sk, 9)`. */
    fun publicKey(sk: ByteArray): ByteArray = dh(sk, byteArrayOf(9) + ByteArray(31))

    private fun hmac(key: ByteArray, vararg parts: ByteArray): ByteArray =
        Mac.getInstance("HmacSHA256").apply {
            init(SecretKeySpec(key, "HmacSHA256"))
            parts.forEach { update(it) }
        }.doFinal()

    /** RFC 5869 section 2.2; an empty salt is HashLen zero bytes (the same HMAC key). */
    fun extract(salt: ByteArray, ikm: ByteArray): ByteArray = hmac(if (salt.isEmpty()) ByteArray(32) else salt, ikm)

    /** RFC 5869 section 2.3. */
    fun expand(prk: ByteArray, info: ByteArray, length: Int): ByteArray {
        var okm = EMPTY
        var t = EMPTY
        var i = 1
        while (okm.size < length) {
            t = hmac(prk, t, info, byteArrayOf(i++.toByte()))
            okm += t
        }
        return okm.copyOf(length)
    }

    /** RFC 9180 section 4: LabeledExtract. */
    fun labeledExtract(suite: ByteArray, salt: ByteArray, label: String, ikm: ByteArray): ByteArray =
        extract(salt, ascii("HPKE-v1") + suite + ascii(label) + ikm)

    /** RFC 9180 section 4: LabeledExpand. */
    fun labeledExpand(suite: ByteArray, prk: ByteArray, label: String, info: ByteArray, length: Int): ByteArray =
        expand(prk, i2osp(length, 2) + ascii("HPKE-v1") + suite + ascii(label) + info, length)

    /** RFC 9180 section 4.1: ExtractAndExpand of DHKEM, Nsecret = 32. */
    fun extractAndExpand(dh: ByteArray, kemContext: ByteArray): ByteArray =
        labeledExpand(KEM_SUITE, labeledExtract(KEM_SUITE, EMPTY, "eae_prk", dh), "shared_secret", kemContext, 32)

    /** RFC 9180 sections 4.1 Encap and AuthEncap (with [skS]): `(shared_secret, enc)`. */
    fun encap(skE: ByteArray, pkR: ByteArray, skS: ByteArray? = null): Pair<ByteArray, ByteArray> {
        val enc = publicKey(skE)
        val dhs = if (skS == null) dh(skE, pkR) else dh(skE, pkR) + dh(skS, pkR)
        return extractAndExpand(dhs, enc + pkR + (skS?.let(::publicKey) ?: EMPTY)) to enc
    }

    /** RFC 9180 sections 4.1 Decap and AuthDecap (with [pkS]): the shared secret. */
    fun decap(enc: ByteArray, skR: ByteArray, pkS: ByteArray? = null): ByteArray {
        val dhs = if (pkS == null) dh(skR, enc) else dh(skR, enc) + dh(skR, pkS)
        return extractAndExpand(dhs, enc + publicKey(skR) + (pkS ?: EMPTY))
    }

    /** RFC 9180 section 7.1.3: DeriveKeyPair for X25519 (the vectors' ephemeral key). */
    fun deriveSecretKey(ikm: ByteArray): ByteArray =
        labeledExpand(KEM_SUITE, labeledExtract(KEM_SUITE, EMPTY, "dkp_prk", ikm), "sk", EMPTY, 32)

    /** RFC 9180 section 5.1: the key schedule's outputs. */
    class Context(
        val keyScheduleContext: ByteArray,
        val secret: ByteArray,
        val key: ByteArray,
        val baseNonce: ByteArray,
        val exporterSecret: ByteArray,
    ) {
        /** RFC 9180 section 5.2: ComputeNonce(seq). */
        fun computeNonce(seq: Long): ByteArray =
            i2osp(seq, 12).let { s -> ByteArray(12) { (baseNonce[it].toInt() xor s[it].toInt()).toByte() } }

        /** RFC 9180 section 5.3: Export(exporter_context, L). */
        fun export(exporterContext: ByteArray, length: Int): ByteArray =
            labeledExpand(HPKE_SUITE, exporterSecret, "sec", exporterContext, length)

        /** RFC 9180 section 5.2: Seal (ENCRYPT_MODE) or Open (DECRYPT_MODE) at sequence number [seq]. */
        fun aead(cipherMode: Int, seq: Long, aad: ByteArray, input: ByteArray): ByteArray =
            Cipher.getInstance("ChaCha20-Poly1305").run {
                init(cipherMode, SecretKeySpec(key, "ChaCha20"), IvParameterSpec(computeNonce(seq)))
                updateAAD(aad)
                doFinal(input)
            }
    }

    /** RFC 9180 section 5: mode identifiers. PushSeal itself uses only [MODE_AUTH]. */
    const val MODE_BASE = 0x00
    const val MODE_PSK = 0x01
    const val MODE_AUTH = 0x02
    const val MODE_AUTH_PSK = 0x03

    /**
     * RFC 9180 section 5.1: KeySchedule, by default in mode auth with no PSK (what SPEC.md uses);
     * Nk = 32, Nn = 12, Nh = 32. VerifyPSKInputs: a PSK and its id come together, in the PSK modes only.
     */
    fun keySchedule(
        sharedSecret: ByteArray,
        info: ByteArray,
        mode: Int = MODE_AUTH,
        psk: ByteArray = EMPTY,
        pskId: ByteArray = EMPTY,
    ): Context {
        require(psk.isEmpty() == pskId.isEmpty()) { "psk and psk_id come together" }
        require(psk.isNotEmpty() == (mode == MODE_PSK || mode == MODE_AUTH_PSK)) { "psk in mode $mode" }
        val pskIdHash = labeledExtract(HPKE_SUITE, EMPTY, "psk_id_hash", pskId)
        val infoHash = labeledExtract(HPKE_SUITE, EMPTY, "info_hash", info)
        val context = byteArrayOf(mode.toByte()) + pskIdHash + infoHash
        val secret = labeledExtract(HPKE_SUITE, sharedSecret, "secret", psk)
        return Context(
            keyScheduleContext = context,
            secret = secret,
            key = labeledExpand(HPKE_SUITE, secret, "key", context, 32),
            baseNonce = labeledExpand(HPKE_SUITE, secret, "base_nonce", context, 12),
            exporterSecret = labeledExpand(HPKE_SUITE, secret, "exp", context, 32),
        )
    }

    /** SPEC.md 6: `pt = m || 0x80 || 0x00 * (B - len(m) - 1)`. */
    fun pad(m: ByteArray): ByteArray {
        val b = BUCKETS.firstOrNull { it > m.size } ?: throw Failure("payload_too_large")
        return m + byteArrayOf(0x80.toByte()) + ByteArray(b - m.size - 1)
    }

    /** SPEC.md 6: remove every trailing 0x00, then exactly one 0x80. */
    fun unpad(pt: ByteArray): ByteArray {
        var end = pt.size
        while (end > 0 && pt[end - 1] == 0.toByte()) end--
        if (end == 0 || pt[end - 1] != 0x80.toByte()) throw Failure("malformed_padding")
        return pt.copyOf(end - 1)
    }

    /** Every value sealing goes through, named as in SPEC.md 4.1 and RFC 9180. */
    class Sealed(
        val padded: ByteArray,
        val dhEphemeral: ByteArray,
        val dhStatic: ByteArray,
        val kemContext: ByteArray,
        val sharedSecret: ByteArray,
        val ctx: Context,
        val header: ByteArray,
        val envelope: ByteArray,
    )

    /** SPEC.md 4.1: SetupAuthS (RFC 9180 sections 4.1 AuthEncap and 5.1.3), then Seal at sequence number 0. */
    fun seal(skE: ByteArray, skS: ByteArray, pkR: ByteArray, m: ByteArray): Sealed {
        val enc = publicKey(skE)
        val pkS = publicKey(skS)
        val dhEphemeral = dh(skE, pkR)
        val dhStatic = dh(skS, pkR)
        val kemContext = enc + pkR + pkS
        val sharedSecret = extractAndExpand(dhEphemeral + dhStatic, kemContext)
        val ctx = keySchedule(sharedSecret, INFO)
        val header = byteArrayOf(0x01) + keyId(pkR) + keyId(pkS) + enc
        val padded = pad(m)
        val ct = ctx.aead(Cipher.ENCRYPT_MODE, 0, header, padded)
        return Sealed(padded, dhEphemeral, dhStatic, kemContext, sharedSecret, ctx, header, header + ct)
    }

    class Opened(val padded: ByteArray, val ctx: Context)

    /** SPEC.md 4.2: the checks in order, SetupAuthR (RFC 9180 sections 4.1 AuthDecap and 5.1.3), Open. */
    fun open(envelope: ByteArray, skR: ByteArray, pkS: ByteArray): Opened {
        if (envelope.isEmpty()) throw Failure("truncated")
        if (envelope[0] != 0x01.toByte()) throw Failure("unsupported_version")
        if (envelope.size < HEADER_LEN + TAG_LEN) throw Failure("truncated")
        val pkR = publicKey(skR)
        if (!envelope.copyOfRange(1, 9).contentEquals(keyId(pkR))) throw Failure("unknown_recipient_key")
        if (!envelope.copyOfRange(9, 17).contentEquals(keyId(pkS))) throw Failure("untrusted_sender")
        val enc = envelope.copyOfRange(17, HEADER_LEN)
        val ctx = keySchedule(decap(enc, skR, pkS), INFO)
        val header = envelope.copyOf(HEADER_LEN)
        val ct = envelope.copyOfRange(HEADER_LEN, envelope.size)
        val padded = try {
            ctx.aead(Cipher.DECRYPT_MODE, 0, header, ct)
        } catch (e: AEADBadTagException) {
            throw Failure("tampered")
        }
        return Opened(padded, ctx)
    }

    /** SPEC.md 10.1: `receipt = ctx.Export("pushseal receipt v1" || id, 16)`. */
    fun receipt(ctx: Context, id: ByteArray): ByteArray = ctx.export(ascii("pushseal receipt v1") + id, 16)

    /** SPEC.md 10.1: `receipt_digest = SHA-256("pushseal receipt digest v1" || receipt)`. */
    fun receiptDigest(receipt: ByteArray): ByteArray = sha256(ascii("pushseal receipt digest v1"), receipt)

    /** SPEC.md 11.1: escape only `"`, `\` and control characters, short forms where they exist. */
    fun jsonString(s: String): String = buildString {
        append('"')
        for (c in s) {
            when (c) {
                '"' -> append("\\\"")
                '\\' -> append("\\\\")
                '\b' -> append("\\b")
                '\u000c' -> append("\\f")
                '\n' -> append("\\n")
                '\r' -> append("\\r")
                '\t' -> append("\\t")
                else -> if (c < ' ') append("\\u%04x".format(c.code)) else append(c)
            }
        }
        append('"')
    }

    /** SPEC.md 5 and 11.1: the notification JSON, fields in table order, `data` keys sorted by their bytes. */
    fun notificationJson(id: String, sentAt: Long, m: Message): String = buildString {
        val ttl = m.ttl?.seconds ?: 86_400L
        append("{\"id\":${jsonString(id)},\"sent_at\":$sentAt,\"expires_at\":${sentAt + ttl}")
        append(",\"title\":${jsonString(m.title)},\"body\":${jsonString(m.body)}")
        if (m.data.isNotEmpty()) {
            val keys = m.data.keys.sortedWith { a, b ->
                Arrays.compareUnsigned(a.toByteArray(Charsets.UTF_8), b.toByteArray(Charsets.UTF_8))
            }
            val entries = keys.joinToString(",") { "${jsonString(it)}:${jsonString(m.data.getValue(it))}" }
            append(",\"data\":{$entries}")
        }
        m.threadId?.let { append(",\"thread_id\":${jsonString(it)}") }
        m.category?.let { append(",\"category\":${jsonString(it)}") }
        m.badge?.let { append(",\"badge\":$it") }
        m.sound?.let { append(",\"sound\":${jsonString(it)}") }
        append('}')
    }
}
