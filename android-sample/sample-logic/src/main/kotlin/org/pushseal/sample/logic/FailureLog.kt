package org.pushseal.sample.logic

/** One payload that did not open: when, the kind of error, and the library's action for it. Nothing else is kept. */
data class FailureRecord(val atEpochSeconds: Long, val kind: ErrorKind, val action: Outcome.Action) {
    /** The record of [outcome] at [atEpochSeconds]. */
    constructor(atEpochSeconds: Long, outcome: Outcome) : this(atEpochSeconds, outcome.reason, outcome.action)
}

/**
 * The app's record of payloads that did not open, for its diagnostics screen
 * and for [RegistrationPolicy]. Stored as text, one record per line:
 * `<unix seconds> <error kind name> <action name>`, newest last, at most
 * [CAPACITY] lines. A line without an action (an older log) reads as
 * `show_fallback`, like an action this app does not know.
 */
object FailureLog {
    /** How many records are kept; older ones are dropped. */
    const val CAPACITY = 20

    /** The records in [text]; lines that are not records are skipped. */
    fun parse(text: String): List<FailureRecord> = text.lineSequence().mapNotNull { line ->
        val parts = line.trim().split(' ')
        val at = parts.getOrNull(0)?.toLongOrNull()
        val kind = parts.getOrNull(1)
        if (parts.size in 2..3 && at != null && at >= 0 && kind != null) {
            FailureRecord(at, ErrorKind.fromWireName(kind), Outcome.Action.fromSpecName(parts.getOrNull(2)))
        } else {
            null
        }
    }.toList().takeLast(CAPACITY)

    /** The text of [records] (the newest [CAPACITY]). */
    fun format(records: List<FailureRecord>): String =
        records.takeLast(CAPACITY).joinToString(separator = "") { "${it.atEpochSeconds} ${it.kind.wireName} ${it.action.specName}\n" }

    /** [text] with [record] appended and the oldest records dropped beyond [CAPACITY]. */
    fun append(text: String, record: FailureRecord): String = format(parse(text) + record)
}
