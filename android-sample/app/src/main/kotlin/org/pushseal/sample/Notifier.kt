package org.pushseal.sample

import android.Manifest
import android.app.Notification
import android.app.NotificationChannel
import android.app.NotificationManager
import android.app.PendingIntent
import android.content.Context
import android.content.Intent
import android.content.pm.PackageManager
import android.os.Build
import androidx.core.app.NotificationCompat
import androidx.core.app.NotificationManagerCompat
import androidx.core.content.ContextCompat
import org.pushseal.Fallback
import org.pushseal.sample.logic.Channels
import org.pushseal.sample.logic.NotificationPlan

/** Creates the channels and posts notifications from a [NotificationPlan]. */
object Notifier {
    /** One channel per category (see [Channels]); creating an existing channel changes nothing. */
    fun createChannels(context: Context) {
        val manager = context.getSystemService(NotificationManager::class.java) ?: return
        for (spec in Channels.ALL) {
            val importance = when (spec.importance) {
                Channels.Importance.HIGH -> NotificationManager.IMPORTANCE_HIGH
                Channels.Importance.DEFAULT -> NotificationManager.IMPORTANCE_DEFAULT
            }
            val channel = NotificationChannel(spec.id, spec.name, importance).apply {
                description = spec.description
                lockscreenVisibility = Notification.VISIBILITY_PRIVATE
            }
            manager.createNotificationChannel(channel)
        }
    }

    /**
     * Posts the notification. The lock screen shows only its public version,
     * the generic fallback text; tapping it opens the app.
     */
    fun post(context: Context, plan: NotificationPlan) {
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU &&
            ContextCompat.checkSelfPermission(context, Manifest.permission.POST_NOTIFICATIONS) !=
            PackageManager.PERMISSION_GRANTED
        ) {
            return
        }
        val open = Intent(context, MainActivity::class.java).apply {
            flags = Intent.FLAG_ACTIVITY_NEW_TASK or Intent.FLAG_ACTIVITY_CLEAR_TOP or Intent.FLAG_ACTIVITY_SINGLE_TOP
            plan.messageId?.let { putExtra(MainActivity.EXTRA_MESSAGE_ID, it) }
        }
        val tap = PendingIntent.getActivity(
            context,
            plan.notificationId,
            open,
            PendingIntent.FLAG_IMMUTABLE or PendingIntent.FLAG_UPDATE_CURRENT,
        )
        val publicVersion = NotificationCompat.Builder(context, plan.channel.id)
            .setSmallIcon(R.drawable.ic_notification)
            .setContentTitle(Fallback.TITLE)
            .setContentText(Fallback.BODY)
            .build()
        val priority = when (plan.channel.importance) {
            Channels.Importance.HIGH -> NotificationCompat.PRIORITY_HIGH
            Channels.Importance.DEFAULT -> NotificationCompat.PRIORITY_DEFAULT
        }
        val builder = NotificationCompat.Builder(context, plan.channel.id)
            .setSmallIcon(R.drawable.ic_notification)
            .setContentTitle(plan.title ?: Fallback.TITLE)
            .setContentText(plan.body ?: Fallback.BODY)
            .setStyle(NotificationCompat.BigTextStyle().bigText(plan.body))
            .setPriority(priority)
            .setContentIntent(tap)
            .setAutoCancel(true)
            .setVisibility(NotificationCompat.VISIBILITY_PRIVATE)
            .setPublicVersion(publicVersion)
        plan.group?.let { builder.setGroup(it) }
        plan.number?.let { builder.setNumber(it) }
        try {
            NotificationManagerCompat.from(context).notify(plan.notificationId, builder.build())
        } catch (e: SecurityException) {
            // The permission was withdrawn between the check and the post.
        }
    }
}
