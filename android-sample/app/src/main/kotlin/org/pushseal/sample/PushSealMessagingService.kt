package org.pushseal.sample

import com.google.firebase.messaging.FirebaseMessagingService
import com.google.firebase.messaging.RemoteMessage
import org.pushseal.ErrorKind
import org.pushseal.OpenedNotification
import org.pushseal.Payload
import org.pushseal.ReplayStore
import org.pushseal.sample.logic.FcmPayload
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
        when (val extracted = FcmPayload.extract(message.data)) {
            // Not PushSeal's (no "pushseal" entry, the library's only not_pushseal on FCM):
            // pass-through, the library's action for it. The app posts no PushSeal
            // notification for it and records nothing; its other message handling
            // would take it here. Decided before the library is asked, so a device
            // whose native library cannot load never posts a fallback for another
            // SDK's message.
            FcmPayload.Extracted.NotPushSeal -> return
            FcmPayload.Extracted.TooLarge -> failed(outcomeOf(ErrorKind.PAYLOAD_TOO_LARGE))
            is FcmPayload.Extracted.Sealed -> openAndPost(extracted.data)
        }
    }

    override fun onNewToken(token: String) {
        RegistrationStore(this).pushToken = token
        RegistrationWorker.enqueue(this)
    }

    private fun openAndPost(data: Map<String, String>) {
        val notification: OpenedNotification = try {
            val keyring = DeviceKeys.loadExisting(this)
            if (keyring == null) {
                // The app has not been opened since it was installed: no key exists yet.
                failed(outcomeOf(ErrorKind.INVALID_KEYRING))
                return
            }
            keyring.use { k ->
                ReplayStore.open(File(filesDir, REPLAY_STORE).path).use { replay -> k.open(Payload.Fcm(data), replay) }
            }
        } catch (e: Exception) {
            // PushSealException, an IOException or Keystore failure the storage
            // let through, anything else: the fallback, never a crash.
            failed(outcomeOf(e))
            return
        } catch (e: LinkageError) {
            // UnsatisfiedLinkError / NoClassDefFoundError: the native library
            // (or JNA's) did not load on this device. Same fallback.
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
