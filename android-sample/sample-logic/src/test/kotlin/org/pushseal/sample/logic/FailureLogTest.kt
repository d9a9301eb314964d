package org.pushseal.sample.logic

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test

class FailureLogTest {
    @Test
    fun `records round-trip`() {
        val records = listOf(
            FailureRecord(10, ErrorKind.TAMPERED, Outcome.Action.SHOW_FALLBACK),
            FailureRecord(11, Outcome.of("reregister", ErrorKind.UNKNOWN_RECIPIENT_KEY)),
        )
        val text = FailureLog.format(records)
        assertEquals("10 tampered show_fallback\n11 unknown_recipient_key reregister\n", text)
        assertEquals(records, FailureLog.parse(text))
    }

    @Test
    fun `append keeps only the newest records`() {
        var text = ""
        for (i in 0 until FailureLog.CAPACITY + 5) {
            text = FailureLog.append(text, FailureRecord(i.toLong(), ErrorKind.REPLAYED, Outcome.Action.DROP))
        }
        val records = FailureLog.parse(text)
        assertEquals(FailureLog.CAPACITY, records.size)
        assertEquals(5L, records.first().atEpochSeconds)
        assertEquals((FailureLog.CAPACITY + 4).toLong(), records.last().atEpochSeconds)
    }

    @Test
    fun `damaged lines are skipped, unknown names kept safe, older lines read as the fallback`() {
        val text = "garbage\n12 tampered drop\n-1 expired drop\n13 a_future_kind a_future_action\n" +
            "14 tampered drop extra\n15 unknown_recipient_key\n\n"
        assertEquals(
            listOf(
                FailureRecord(12, ErrorKind.TAMPERED, Outcome.Action.DROP),
                FailureRecord(13, ErrorKind.UNKNOWN, Outcome.Action.SHOW_FALLBACK),
                // A line of an older log, without an action, never asks for a registration.
                FailureRecord(15, ErrorKind.UNKNOWN_RECIPIENT_KEY, Outcome.Action.SHOW_FALLBACK),
            ),
            FailureLog.parse(text),
        )
    }
}
