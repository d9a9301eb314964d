package org.pushseal.sample.logic

/**
 * What the app does with a payload that did not open: the action the PushSeal
 * library chose for the error (`errorKindOf(e).deviceAction()`, the core's one
 * failure policy), and the kind of error, for the record.
 *
 * This module never decides the action itself: it knows the four actions by
 * their stable names only, the way it knows error kinds, so it builds and
 * tests without the PushSeal library. An action name it does not know (a
 * newer library's) fails safe to [Action.SHOW_FALLBACK].
 *
 * Whatever shows shows only the library's fallback text (`Fallback`, the
 * core's words; a [NotificationPlan] with no title or body): the real text exists only inside
 * a payload that opened, and a failure never puts any part of the payload,
 * the error message or the data map on the screen.
 */
data class Outcome(
    /** What to do. */
    val action: Action,
    /** The kind of error that led here; the app records it for its diagnostics screen. */
    val reason: ErrorKind,
) {
    /** What to do about the failure, with the stable snake_case name of the library's `DeviceAction.specName()`. */
    enum class Action(val specName: String) {
        /** Not a PushSeal message: post nothing of PushSeal's and record nothing; the app's other message handling takes it. */
        PASS_THROUGH("pass_through"),

        /** Post the generic fallback notification and record the reason. */
        SHOW_FALLBACK("show_fallback"),

        /**
         * Post the generic fallback notification, record the reason, and
         * register the current public key with the sender again (making a new
         * keyring first when the stored one cannot be read, see `KeyringRecovery`).
         */
        REREGISTER("reregister"),

        /** Post nothing and record the reason: a replay of a notification already shown. */
        DROP("drop"),
        ;

        companion object {
            /** The action with this stable name; [SHOW_FALLBACK] for a name this app does not know, or none. */
            fun fromSpecName(name: String?): Action = entries.firstOrNull { it.specName == name } ?: SHOW_FALLBACK
        }
    }

    /** The notification to post: the generic fallback, or null for none. */
    val plan: NotificationPlan?
        get() = if (action == Action.SHOW_FALLBACK || action == Action.REREGISTER) NotificationPlan.fallback() else null

    /** Whether the failure goes into the failure log (a message that is not PushSeal's is none of its business). */
    val isRecorded: Boolean
        get() = action != Action.PASS_THROUGH

    /** Whether the app must register its current public key again. */
    val needsRegistration: Boolean
        get() = action == Action.REREGISTER

    companion object {
        /** The outcome for the action the library returned, by its stable name, and the error's kind. */
        fun of(actionName: String, reason: ErrorKind): Outcome = Outcome(Action.fromSpecName(actionName), reason)
    }
}
