package org.pushseal.sample

import com.google.firebase.messaging.FirebaseMessagingService
import com.google.firebase.messaging.RemoteMessage
import org.pushseal.OpenedNotification
import org.pushseal.ReplayStore
import org.pushseal.sample.logic.ErrorKind
import org.pushseal.sample.logic.FcmPayload
import org.pushseal.sample.logic.NotificationPlan
import org.pushseal.sample.logic.Outcome
import java.io.File

/**
 * Opens each PushSeal data message and posts the notification with its real
 * text; on any error posts only the generic fallback, records the kind of
 * error, and registers again when the payload was sealed to a key this device
 * does not hold.
 *
 * PushSeal's FCM messages are data-only and high priority, so this runs for
 * every one of them, in the foreground and the background alike.
 */
class PushSealMessagingService : FirebaseMessagingService() {
    override fun onMessageReceived(message: RemoteMessage) {
        when (val extracted = FcmPayload.extract(message.data)) {
            // Not PushSeal's: the app's other messages would be handled here.
            FcmPayload.Extracted.NotPushSeal -> return
            FcmPayload.Extracted.TooLarge -> failed(ErrorKind.PAYLOAD_TOO_LARGE)
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
                failed(ErrorKind.INVALID_KEYRING)
                return
            }
            keyring.use { k ->
                ReplayStore.open(File(filesDir, REPLAY_STORE).path).use { replay -> k.openFcm(data, replay) }
            }
        } catch (e: Exception) {
            // PushSealException, an IOException or Keystore failure the storage
            // let through, anything else: the fallback, never a crash.
            failed(kindOf(e))
            return
        } catch (e: LinkageError) {
            // UnsatisfiedLinkError / NoClassDefFoundError: the native library
            // (or JNA's) did not load on this device. Same fallback.
            failed(kindOf(e))
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

    /** Records the kind of error and does what its outcome says; never shows any part of the payload. */
    private fun failed(kind: ErrorKind) {
        FailureStore(this).record(kind)
        when (kind.outcome) {
            is Outcome.Drop -> Unit
            is Outcome.ShowFallback -> Notifier.post(this, NotificationPlan.fallback())
            is Outcome.ReRegister -> {
                Notifier.post(this, NotificationPlan.fallback())
                RegistrationWorker.enqueue(this)
            }
        }
    }

    private companion object {
        /** The replay store: the ids of notifications already opened, in the app's private files. */
        const val REPLAY_STORE = "pushseal-replay.db"
    }
}
