package org.pushseal.sample.logic

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test

class FcmPayloadTest {
    private val envelope = "AQ" + "x".repeat(400)

    @Test
    fun `a PushSeal message keeps only the envelope`() {
        val data = mapOf("pushseal" to envelope, "campaign" to "spring", "google.c.a.e" to "1")
        assertEquals(FcmPayload.Extracted.Sealed(mapOf("pushseal" to envelope)), FcmPayload.extract(data))
    }

    @Test
    fun `a message without the key is not PushSeal's`() {
        assertEquals(FcmPayload.Extracted.NotPushSeal, FcmPayload.extract(mapOf("title" to "hello")))
        assertEquals(FcmPayload.Extracted.NotPushSeal, FcmPayload.extract(emptyMap()))
        assertEquals(FcmPayload.Extracted.NotPushSeal, FcmPayload.extract(mapOf("PushSeal" to envelope)))
    }

    @Test
    fun `an envelope longer than FCM can carry is refused before opening`() {
        val long = "A".repeat(FcmPayload.MAX_ENVELOPE_CHARS + 1)
        assertEquals(FcmPayload.Extracted.TooLarge, FcmPayload.extract(mapOf("pushseal" to long)))
        val limit = "A".repeat(FcmPayload.MAX_ENVELOPE_CHARS)
        assertEquals(FcmPayload.Extracted.Sealed(mapOf("pushseal" to limit)), FcmPayload.extract(mapOf("pushseal" to limit)))
    }
}
