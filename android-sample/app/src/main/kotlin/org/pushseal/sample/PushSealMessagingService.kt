package org.pushseal.sample

import com.google.firebase.messaging.FirebaseMessagingService
import com.google.firebase.messaging.RemoteMessage
import org.pushseal.ErrorKind
import org.pushseal.OpenedNotification
import org.pushseal.Payload
import org.pushseal.ReplayStore
import org.pushseal.inspectPayload
import org.pushseal.sample.logic.NotificationPlan
import org.pushseal.sample.logic.Outcome
import java.io.File

/**
 * Opens each PushSeal data message and posts the notification with its real
 * text; on any error does what the library's failure policy says
 * (`errorKindOf(e).deviceAction()`, see [Outcome]): posts only the generic
 * fallback or nothing, records the kind of error and the action, and
 * registers again when the action is `reregister`.
 *
 * PushSeal's FCM messages are data-only and high priority, so this runs for
 * every one of them, in the foreground and the background alike.
 */
class PushSealMessagingService : FirebaseMessagingService() {
    override fun onMessageReceived(message: RemoteMessage) {
        val notification: OpenedNotification = try {
            // The FCM data map as it came: the core decides what is PushSeal's and how large it may be.
            val payload = Payload.Fcm(message.data)
            // Read before any key is touched: a message that is not PushSeal's fails
            // here with NOT_PUSHSEAL (pass-through: the app posts nothing for it and
            // records nothing), an oversized or damaged one with its own kind.
            inspectPayload(payload)
            val keyring = DeviceKeys.loadExisting(this)
                // The app has not been opened since it was installed: no key exists yet.
                ?: return failed(outcomeOf(ErrorKind.INVALID_KEYRING))
            keyring.use { k ->
                ReplayStore.open(File(filesDir, REPLAY_STORE).path).use { replay -> k.open(payload, replay) }
            }
        } catch (e: Throwable) {
            // Everything: a PushSealException, an IOException or Keystore failure the
            // storage let through, the java.lang.Error JNA throws, a native library
            // that did not load (UnsatisfiedLinkError). The library's action, never a crash.
            failed(outcomeOf(e))
            return
        }
        Notifier.post(
            this,
            NotificationPlan.opened(
                messageId = notification.id,
                title = notification.title,
                body = notification.body,
                category = notification.category,
                threadId = notification.threadId,
                badge = notification.badge,
            ),
        )
    }

    override fun onNewToken(token: String) {
        RegistrationStore(this).pushToken = token
        RegistrationWorker.enqueue(this)
    }

    /**
     * Does what the library's action says: records the kind and the action,
     * posts the generic fallback or nothing, registers again. Never shows any
     * part of the payload.
     */
    private fun failed(outcome: Outcome) {
        // A pass-through message (not PushSeal's) is neither recorded nor
        // posted here: the app posts no PushSeal notification for it, and
        // hands it to its other message handling, if it has any.
        if (outcome.isRecorded) FailureStore(this).record(outcome)
        outcome.plan?.let { Notifier.post(this, it) }
        if (outcome.needsRegistration) RegistrationWorker.enqueue(this)
    }

    private companion object {
        /** The replay store: the ids of notifications already opened, in the app's private files. */
        const val REPLAY_STORE = "pushseal-replay.db"
    }
}
