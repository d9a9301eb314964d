package org.pushseal.sample.logic

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class OutcomeTest {
    @Test
    fun `an unknown recipient key and an unreadable keyring ask for a new registration`() {
        assertEquals(Outcome.ReRegister(ErrorKind.UNKNOWN_RECIPIENT_KEY), Outcome.forError(ErrorKind.UNKNOWN_RECIPIENT_KEY))
        // The way back from a keyring whose Keystore key is gone: the registration makes a new one.
        assertEquals(Outcome.ReRegister(ErrorKind.INVALID_KEYRING), Outcome.forError(ErrorKind.INVALID_KEYRING))
        // Storage errors may pass (the phone not yet unlocked): no new key for them.
        assertEquals(Outcome.ShowFallback(ErrorKind.STORAGE), Outcome.forError(ErrorKind.STORAGE))
    }

    @Test
    fun `a replay and a foreign message post nothing`() {
        assertEquals(Outcome.Drop(ErrorKind.REPLAYED), ErrorKind.REPLAYED.outcome)
        assertEquals(Outcome.Drop(ErrorKind.NOT_PUSHSEAL), ErrorKind.NOT_PUSHSEAL.outcome)
    }

    @Test
    fun `every other kind shows the fallback`() {
        val others = ErrorKind.entries -
            setOf(ErrorKind.UNKNOWN_RECIPIENT_KEY, ErrorKind.INVALID_KEYRING, ErrorKind.REPLAYED, ErrorKind.NOT_PUSHSEAL)
        for (kind in others) {
            assertEquals(Outcome.ShowFallback(kind), kind.outcome, kind.wireName)
        }
        assertTrue(ErrorKind.TAMPERED.outcome is Outcome.ShowFallback)
        assertTrue(ErrorKind.UNTRUSTED_SENDER.outcome is Outcome.ShowFallback)
    }

    @Test
    fun `wire names round-trip and match the core's names`() {
        for (kind in ErrorKind.entries) {
            assertEquals(kind, ErrorKind.fromWireName(kind.wireName))
        }
        val core = listOf(
            "not_pushseal", "unsupported_version", "truncated", "malformed", "invalid_encoding",
            "invalid_key_length", "zero_shared_secret", "unknown_recipient_key", "untrusted_sender", "tampered",
            "malformed_padding", "expired", "not_yet_valid", "replayed", "payload_too_large",
            "invalid_notification", "invalid_receipt", "invalid_keyring", "storage", "randomness",
        )
        for (name in core) {
            assertFalse(ErrorKind.fromWireName(name) == ErrorKind.UNKNOWN, name)
        }
        assertEquals(ErrorKind.UNKNOWN, ErrorKind.fromWireName("something_new"))
        assertEquals(ErrorKind.UNKNOWN, ErrorKind.fromWireName("Tampered"))
    }

    @Test
    fun `the fallback plan carries no part of a payload`() {
        val plan = NotificationPlan.fallback()
        assertEquals(FallbackText.TITLE, plan.title)
        assertEquals(FallbackText.BODY, plan.body)
        assertEquals(Channels.GENERAL, plan.channel)
        assertEquals(NotificationIds.FALLBACK, plan.notificationId)
        assertEquals(null, plan.messageId)
        assertEquals(null, plan.group)
    }
}
