package org.pushseal.sample.logic

/**
 * Everything the app needs to post one notification, decided without Android
 * types so it can be tested on the JVM. The app turns it into a
 * `NotificationCompat.Builder` call by call.
 */
data class NotificationPlan(
    /** For `NotificationManagerCompat.notify`. */
    val notificationId: Int,
    /** The channel to post on. */
    val channel: Channels.Spec,
    /** The title shown when the device is unlocked; null: the library's fallback title (`Fallback.TITLE`). */
    val title: String?,
    /** The body shown when the device is unlocked; null: the library's fallback body (`Fallback.BODY`). */
    val body: String?,
    /** `setGroup`: the sender's thread id, so a conversation stacks. */
    val group: String?,
    /** `setNumber`: the sender's badge count. */
    val number: Int?,
    /** The PushSeal message id, passed to the app when the notification is tapped; null for the fallback. */
    val messageId: String?,
) {
    companion object {
        /** The plan for a notification that opened. */
        fun opened(
            messageId: String,
            title: String,
            body: String,
            category: String?,
            threadId: String?,
            badge: Long?,
        ): NotificationPlan = NotificationPlan(
            notificationId = NotificationIds.forMessage(messageId),
            channel = Channels.forCategory(category),
            title = title.takeIf { it.isNotBlank() },
            body = body,
            group = threadId?.takeIf { it.isNotBlank() },
            number = badge?.takeIf { it in 0..Int.MAX_VALUE.toLong() }?.toInt(),
            messageId = messageId,
        )

        /**
         * The plan for the generic fallback: no part of the payload, no reason
         * shown; the text is the library's (`Fallback`, the core's words).
         */
        fun fallback(): NotificationPlan = NotificationPlan(
            notificationId = NotificationIds.FALLBACK,
            channel = Channels.GENERAL,
            title = null,
            body = null,
            group = null,
            number = null,
            messageId = null,
        )
    }
}
