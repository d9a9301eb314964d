package org.pushseal.sample.logic

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.io.File

/**
 * The module follows the action the library chose (`ErrorKind.deviceAction()`),
 * by its stable name: these tests check the names and what each action makes
 * the app post, record and register, whatever the kind.
 */
class OutcomeTest {
    @Test
    fun `action names match the core's`() {
        // Exactly the four actions test-vectors/error-kinds.json gives the core's kinds.
        val core = coreErrorKinds().values.toSet()
        assertEquals(core, Outcome.Action.entries.map { it.specName }.toSet())
        assertEquals(4, core.size)
        for (name in core) {
            assertEquals(name, Outcome.Action.fromSpecName(name).specName)
        }
    }

    @Test
    fun `an unknown action name fails safe to the fallback`() {
        for (name in listOf("a_future_action", "", "DROP", "pass-through", "reregister ", null)) {
            assertEquals(Outcome.Action.SHOW_FALLBACK, Outcome.Action.fromSpecName(name), name)
        }
        val outcome = Outcome.of("a_future_action", ErrorKind.TAMPERED)
        assertEquals(NotificationPlan.fallback(), outcome.plan)
        assertTrue(outcome.isRecorded)
        assertFalse(outcome.needsRegistration)
    }

    @Test
    fun `reregister posts the fallback, records and asks for a registration`() {
        val outcome = Outcome.of("reregister", ErrorKind.INVALID_KEYRING)
        assertEquals(Outcome(Outcome.Action.REREGISTER, ErrorKind.INVALID_KEYRING), outcome)
        assertEquals(NotificationPlan.fallback(), outcome.plan)
        assertTrue(outcome.isRecorded)
        assertTrue(outcome.needsRegistration)
    }

    @Test
    fun `show_fallback posts the fallback and records only`() {
        val outcome = Outcome.of("show_fallback", ErrorKind.STORAGE)
        assertEquals(NotificationPlan.fallback(), outcome.plan)
        assertTrue(outcome.isRecorded)
        assertFalse(outcome.needsRegistration)
    }

    @Test
    fun `drop posts nothing and records`() {
        val outcome = Outcome.of("drop", ErrorKind.REPLAYED)
        assertNull(outcome.plan)
        assertTrue(outcome.isRecorded)
        assertFalse(outcome.needsRegistration)
    }

    @Test
    fun `pass_through posts nothing and records nothing`() {
        val outcome = Outcome.of("pass_through", ErrorKind.NOT_PUSHSEAL)
        assertNull(outcome.plan)
        assertFalse(outcome.isRecorded)
        assertFalse(outcome.needsRegistration)
    }

    @Test
    fun `the action decides, not the kind`() {
        // The kind is kept for the record only: the same kind under another action does what the action says.
        assertTrue(Outcome.of("reregister", ErrorKind.TAMPERED).needsRegistration)
        assertFalse(Outcome.of("show_fallback", ErrorKind.UNKNOWN_RECIPIENT_KEY).needsRegistration)
        assertEquals(NotificationPlan.fallback(), Outcome.of("show_fallback", ErrorKind.NOT_PUSHSEAL).plan)
    }

    @Test
    fun `kind names round-trip and match the core's names`() {
        for (kind in ErrorKind.entries) {
            assertEquals(kind, ErrorKind.fromWireName(kind.wireName))
        }
        // Every kind of test-vectors/error-kinds.json; the module adds only the
        // bindings' INTERNAL and its own UNKNOWN.
        val core = coreErrorKinds().keys
        assertEquals(21, core.size)
        for (name in core) {
            assertFalse(ErrorKind.fromWireName(name) == ErrorKind.UNKNOWN, name)
        }
        assertEquals(setOf("internal", "unknown"), ErrorKind.entries.map { it.wireName }.toSet() - core)
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

    private companion object {
        /**
         * The kinds of test-vectors/error-kinds.json (from this module's
         * directory, where Maven runs the tests), each with its action. The
         * module has no JSON library: the file's vectors are flat pairs of
         * strings, read with a pattern, and every `"kind"` must be matched.
         */
        fun coreErrorKinds(): Map<String, String> {
            val text = File("../../test-vectors/error-kinds.json").readText(Charsets.UTF_8)
            val pair = Regex("""\{\s*"kind":\s*"([a-z_]+)",\s*"device_action":\s*"([a-z_]+)"\s*}""")
            val kinds = pair.findAll(text).associate { it.groupValues[1] to it.groupValues[2] }
            assertEquals(Regex("\"kind\":").findAll(text).count(), kinds.size, "every vector read, none twice")
            return kinds
        }
    }
}
