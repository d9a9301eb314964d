package org.pushseal.sample.logic

/**
 * The notification channels of the sample, one per category the sender uses,
 * and the rule that picks a channel for an opened notification.
 *
 * Android shows channel names in the system settings and may show them on the
 * lock screen, so they are generic ("Appointments"), and the category string
 * itself is never shown. A category the app does not know goes to [GENERAL],
 * so the sender cannot make the app create channels.
 */
object Channels {
    /** How loudly a channel interrupts; the app maps it to `NotificationManager.IMPORTANCE_*`. */
    enum class Importance { DEFAULT, HIGH }

    /** One channel: its stable id, the name and description shown in the settings, and its importance. */
    data class Spec(val id: String, val name: String, val description: String, val importance: Importance)

    /** Appointment reminders and changes. */
    val APPOINTMENTS = Spec("appointments", "Appointments", "Reminders and changes to appointments", Importance.HIGH)

    /** Results that are ready to view. */
    val RESULTS = Spec("results", "Results", "Results that are ready to view", Importance.DEFAULT)

    /** Messages from the care team. */
    val MESSAGES = Spec("messages", "Messages", "Messages from the care team", Importance.HIGH)

    /** Everything else, and the fallback notification when a payload does not open. */
    val GENERAL = Spec("general", "General", "Other notifications", Importance.DEFAULT)

    /** Every channel, in the order the app creates them. */
    val ALL: List<Spec> = listOf(APPOINTMENTS, RESULTS, MESSAGES, GENERAL)

    private val byCategory: Map<String, Spec> = mapOf(
        "appointment" to APPOINTMENTS,
        "appointments" to APPOINTMENTS,
        "result" to RESULTS,
        "results" to RESULTS,
        "lab_result" to RESULTS,
        "message" to MESSAGES,
        "messages" to MESSAGES,
    )

    /** The channel for a notification's category (the sender's `category` field). */
    fun forCategory(category: String?): Spec = category?.let { byCategory[it.lowercase()] } ?: GENERAL
}

/** Notification ids for `NotificationManagerCompat.notify`. */
object NotificationIds {
    /** The one id of the fallback notification: fallbacks replace each other instead of piling up. */
    const val FALLBACK = 1

    /**
     * A stable id for a notification with this PushSeal message id (32 hex
     * digits): the same message posts over itself rather than twice. Never
     * [FALLBACK].
     */
    fun forMessage(messageId: String): Int {
        val head = messageId.take(8).toLongOrNull(16) ?: messageId.hashCode().toLong()
        val id = (head and 0x7fff_ffffL).toInt()
        return if (id == FALLBACK) FALLBACK + 1 else id
    }
}
