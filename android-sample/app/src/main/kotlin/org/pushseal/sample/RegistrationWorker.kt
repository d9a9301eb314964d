package org.pushseal.sample

import android.content.Context
import androidx.work.BackoffPolicy
import androidx.work.Constraints
import androidx.work.ExistingWorkPolicy
import androidx.work.NetworkType
import androidx.work.OneTimeWorkRequestBuilder
import androidx.work.WorkManager
import androidx.work.Worker
import androidx.work.WorkerParameters
import org.json.JSONException
import org.json.JSONObject
import org.pushseal.sample.logic.Registration
import org.pushseal.sample.logic.RegistrationState
import java.io.IOException
import java.net.HttpURLConnection
import java.net.URL
import java.util.concurrent.TimeUnit

/**
 * Registers the current public key and FCM token with the sample sender
 * (`POST /registrations`), retrying with backoff while the network or the
 * sender is away.
 */
class RegistrationWorker(context: Context, params: WorkerParameters) : Worker(context, params) {
    override fun doWork(): Result {
        val store = RegistrationStore(applicationContext)
        val token = store.pushToken ?: return Result.success() // Registered once Firebase hands over a token.
        val url = BuildConfig.PUSHSEAL_REGISTRATION_URL
        if (url.isEmpty()) {
            store.lastMessage = "pushsealRegistrationUrl is not set in gradle.properties"
            return Result.failure()
        }
        val current = keyringResult { DeviceKeys.current(applicationContext) }.getOrElse { e ->
            store.lastMessage = "The keyring is not available (${kindOf(e).wireName})"
            return Result.failure()
        }
        // Both public keys: the sender seals version 2 (post-quantum) to this device.
        val registration =
            Registration("android", current.registration, current.keyId, token, applicationContext.packageName)
        return try {
            val (status, body) = post(URL(url), registration.toJson())
            when {
                status == 200 -> accepted(store, registration, body)
                status in 400..499 -> {
                    store.lastMessage = "The sender refused the registration (HTTP $status)"
                    Result.failure()
                }
                else -> Result.retry()
            }
        } catch (e: IOException) {
            store.lastMessage = "The sender is not reachable; retrying"
            Result.retry()
        }
    }

    private fun accepted(store: RegistrationStore, registration: Registration, body: String): Result {
        val answer = try {
            JSONObject(body)
        } catch (e: JSONException) {
            store.lastMessage = "The sender's answer is not JSON"
            return Result.failure()
        }
        if (answer.optString("registered") != registration.keyId) {
            store.lastMessage = "The sender registered a different key id"
            return Result.failure()
        }
        store.registered(
            RegistrationState(
                registration.keyId,
                registration.pushToken,
                System.currentTimeMillis() / 1000,
                registration.hasVersion2,
            ),
        )
        // The app trusts only the keys it was built with; a sender answering
        // with another key is not trusted by answering.
        val v2Answered = answer.optString("sender_public_key_v2")
        store.lastMessage = when {
            answer.optString("sender_public_key") != BuildConfig.PUSHSEAL_SENDER_PUBLIC_KEY ->
                "Registered, but the sender's key ${answer.optString("sender_key_id")} is not the one this build trusts"
            v2Answered.isNotEmpty() && registration.hasVersion2 && v2Answered != BuildConfig.PUSHSEAL_SENDER_PUBLIC_KEY_V2 ->
                // The sender seals version 2 to this device: unpinned, its notifications will not open.
                "Registered, but the sender's version 2 key ${answer.optString("sender_key_id_v2")} is not the one " +
                    "this build pins (pushsealSenderPublicKeyV2)"
            else -> "Registered key ${registration.keyId}"
        }
        return Result.success()
    }

    /** POSTs [json] and returns the status and the body. */
    private fun post(url: URL, json: String): Pair<Int, String> {
        val connection = url.openConnection() as HttpURLConnection
        try {
            connection.requestMethod = "POST"
            connection.doOutput = true
            connection.connectTimeout = TIMEOUT_MS
            connection.readTimeout = TIMEOUT_MS
            connection.setRequestProperty("Content-Type", "application/json")
            connection.outputStream.use { it.write(json.toByteArray(Charsets.UTF_8)) }
            val status = connection.responseCode
            val stream = if (status in 200..299) connection.inputStream else connection.errorStream
            val body = stream?.use { it.readBytes().toString(Charsets.UTF_8) }.orEmpty()
            return status to body
        } finally {
            connection.disconnect()
        }
    }

    companion object {
        /** The unique work name: one registration at a time, the newest request wins. */
        const val NAME = "pushseal-registration"
        private const val TIMEOUT_MS = 15_000

        /** Registers as soon as the network allows. */
        fun enqueue(context: Context) {
            val request = OneTimeWorkRequestBuilder<RegistrationWorker>()
                .setConstraints(Constraints.Builder().setRequiredNetworkType(NetworkType.CONNECTED).build())
                .setBackoffCriteria(BackoffPolicy.EXPONENTIAL, 30, TimeUnit.SECONDS)
                .build()
            WorkManager.getInstance(context).enqueueUniqueWork(NAME, ExistingWorkPolicy.REPLACE, request)
        }
    }
}
