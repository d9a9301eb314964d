package org.pushseal.sample.logic

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

class RegistrationTest {
    private val publicKey = "q1hOaf4Ti2Yg0sCYHsUbZSg7H1Ej6WcDbOQ1cWNlJXo"
    private val keyId = "3f2a9c0d11b47e58"

    // The shape of DeviceKeyring.registration(): the version 1 key, ".", the 1,216-byte version 2 key.
    private val registration = "pushseal-registration-v2:$publicKey." + "Qm9".repeat(540) + "Qm"

    @Test
    fun `the registration text is the JSON the sample sender reads`() {
        assertEquals(1691, registration.length)
        val json = Registration("android", registration, keyId, "fcm:token-1", "org.pushseal.sample").toJson()
        assertEquals(
            "{\"platform\":\"android\",\"registration\":\"$registration\",\"key_id\":\"$keyId\"," +
                "\"push_token\":\"fcm:token-1\",\"app_id\":\"org.pushseal.sample\"}",
            json,
        )
        assertTrue(Registration("android", registration, keyId, "t").hasVersion2)
    }

    @Test
    fun `a keyring without a version 2 key registers its public key as before`() {
        val json = Registration("android", publicKey, keyId, "fcm:token-1", "org.pushseal.sample").toJson()
        assertEquals(
            "{\"platform\":\"android\",\"public_key\":\"$publicKey\",\"key_id\":\"$keyId\"," +
                "\"push_token\":\"fcm:token-1\",\"app_id\":\"org.pushseal.sample\"}",
            json,
        )
        assertFalse(Registration("android", publicKey, keyId, "t").hasVersion2)
        assertEquals(
            "{\"platform\":\"ios\",\"public_key\":\"$publicKey\",\"key_id\":\"$keyId\",\"push_token\":\"ab01\"}",
            Registration("ios", publicKey, keyId, "ab01").toJson(),
        )
    }

    @Test
    fun `JSON strings are escaped`() {
        assertEquals("\"a\\\"b\\\\c\\n\\u0001\"", Registration.jsonString("a\"b\\c\n\u0001"))
    }

    @Test
    fun `malformed registrations are refused`() {
        assertThrows<IllegalArgumentException> { Registration("web", publicKey, keyId, "t") }
        assertThrows<IllegalArgumentException> { Registration("android", publicKey.dropLast(1), keyId, "t") }
        assertThrows<IllegalArgumentException> { Registration("android", "$publicKey=", keyId, "t") }
        assertThrows<IllegalArgumentException> { Registration("android", registration.dropLast(1), keyId, "t") }
        assertThrows<IllegalArgumentException> { Registration("android", registration + "A", keyId, "t") }
        assertThrows<IllegalArgumentException> { Registration("android", registration.replace('.', ':'), keyId, "t") }
        assertThrows<IllegalArgumentException> {
            Registration("android", registration.replace("-v2:", "-v3:"), keyId, "t")
        }
        // A device's version 2 public key alone is not a registration: the sender needs both keys.
        assertThrows<IllegalArgumentException> {
            Registration("android", "pushseal-device-v2:" + registration.substringAfter('.'), keyId, "t")
        }
        assertThrows<IllegalArgumentException> { Registration("android", publicKey, keyId.uppercase(), "t") }
        assertThrows<IllegalArgumentException> { Registration("android", publicKey, keyId, "") }
        assertThrows<IllegalArgumentException> { Registration("android", publicKey, keyId, "tok\nen") }
    }

    @Test
    fun `registration is due on first run, rotation, new token and an unknown key report`() {
        val last = RegistrationState(keyId, "token-1", registeredAt = 1_000)
        assertNull(RegistrationPolicy.reasonToRegister(null, keyId, null, emptyList()))
        assertEquals(RegistrationPolicy.Reason.NEVER_REGISTERED, RegistrationPolicy.reasonToRegister(null, keyId, "token-1", emptyList()))
        assertNull(RegistrationPolicy.reasonToRegister(last, keyId, "token-1", emptyList()))
        assertEquals(RegistrationPolicy.Reason.KEY_ROTATED, RegistrationPolicy.reasonToRegister(last, "0000000000000000", "token-1", emptyList()))
        assertEquals(RegistrationPolicy.Reason.TOKEN_CHANGED, RegistrationPolicy.reasonToRegister(last, keyId, "token-2", emptyList()))

        val before = FailureRecord(999, ErrorKind.UNKNOWN_RECIPIENT_KEY, Outcome.Action.REREGISTER)
        val after = FailureRecord(1_001, ErrorKind.UNKNOWN_RECIPIENT_KEY, Outcome.Action.REREGISTER)
        val tampered = FailureRecord(1_002, ErrorKind.TAMPERED, Outcome.Action.SHOW_FALLBACK)
        assertNull(RegistrationPolicy.reasonToRegister(last, keyId, "token-1", listOf(before, tampered)))
        assertEquals(
            RegistrationPolicy.Reason.REREGISTER_REPORTED,
            RegistrationPolicy.reasonToRegister(last, keyId, "token-1", listOf(before, after, tampered)),
        )
    }

    @Test
    fun `an app that registered before version 2 registers its version 2 key`() {
        val before = RegistrationState(keyId, "token-1", registeredAt = 1_000)
        assertEquals(
            RegistrationPolicy.Reason.VERSION_2_KEY_ADDED,
            RegistrationPolicy.reasonToRegister(before, keyId, "token-1", emptyList(), currentHasVersion2 = true),
        )
        assertNull(RegistrationPolicy.reasonToRegister(before, keyId, "token-1", emptyList(), currentHasVersion2 = false))
        val both = RegistrationState(keyId, "token-1", registeredAt = 1_000, hasVersion2 = true)
        assertNull(RegistrationPolicy.reasonToRegister(both, keyId, "token-1", emptyList(), currentHasVersion2 = true))
    }

    @Test
    fun `the recorded action decides, not the kind`() {
        val last = RegistrationState(keyId, "token-1", registeredAt = 1_000)
        val asked = FailureRecord(1_001, ErrorKind.INVALID_KEYRING, Outcome.Action.REREGISTER)
        val notAsked = FailureRecord(1_001, ErrorKind.UNKNOWN_RECIPIENT_KEY, Outcome.Action.SHOW_FALLBACK)
        assertEquals(
            RegistrationPolicy.Reason.REREGISTER_REPORTED,
            RegistrationPolicy.reasonToRegister(last, keyId, "token-1", listOf(asked)),
        )
        assertNull(RegistrationPolicy.reasonToRegister(last, keyId, "token-1", listOf(notAsked)))
    }
}
