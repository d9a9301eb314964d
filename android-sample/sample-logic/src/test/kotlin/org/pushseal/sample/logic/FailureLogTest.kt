package org.pushseal.sample.logic

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test

class FailureLogTest {
    @Test
    fun `records round-trip`() {
        val records = listOf(FailureRecord(10, ErrorKind.TAMPERED), FailureRecord(11, ErrorKind.EXPIRED))
        val text = FailureLog.format(records)
        assertEquals("10 tampered\n11 expired\n", text)
        assertEquals(records, FailureLog.parse(text))
    }

    @Test
    fun `append keeps only the newest records`() {
        var text = ""
        for (i in 0 until FailureLog.CAPACITY + 5) {
            text = FailureLog.append(text, FailureRecord(i.toLong(), ErrorKind.REPLAYED))
        }
        val records = FailureLog.parse(text)
        assertEquals(FailureLog.CAPACITY, records.size)
        assertEquals(5L, records.first().atEpochSeconds)
        assertEquals((FailureLog.CAPACITY + 4).toLong(), records.last().atEpochSeconds)
    }

    @Test
    fun `damaged lines are skipped and unknown kinds kept as unknown`() {
        val text = "garbage\n12 tampered\n-1 expired\n13 a_future_kind\n14 tampered extra\n\n"
        assertEquals(
            listOf(FailureRecord(12, ErrorKind.TAMPERED), FailureRecord(13, ErrorKind.UNKNOWN)),
            FailureLog.parse(text),
        )
    }
}
