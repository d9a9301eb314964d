package org.pushseal.sample

import android.content.Context
import androidx.core.content.edit
import androidx.core.util.AtomicFile
import org.pushseal.sample.logic.FailureLog
import org.pushseal.sample.logic.FailureRecord
import org.pushseal.sample.logic.Outcome
import org.pushseal.sample.logic.RegistrationState
import java.io.File
import java.io.FileOutputStream
import java.io.IOException

/** The push token and the last successful registration, in the app's preferences. None of it is secret. */
class RegistrationStore(context: Context) {
    private val prefs = context.applicationContext.getSharedPreferences("pushseal-registration", Context.MODE_PRIVATE)

    /** The FCM registration token, once Firebase has handed it over. */
    var pushToken: String?
        get() = prefs.getString(PUSH_TOKEN, null)
        set(value) = prefs.edit { putString(PUSH_TOKEN, value) }

    /** The last registration the sender accepted. */
    val state: RegistrationState?
        get() {
            val keyId = prefs.getString(KEY_ID, null) ?: return null
            val token = prefs.getString(TOKEN, null) ?: return null
            return RegistrationState(keyId, token, prefs.getLong(AT, 0), prefs.getBoolean(VERSION_2, false))
        }

    /** The outcome of the last attempt, for the screen. */
    var lastMessage: String?
        get() = prefs.getString(MESSAGE, null)
        set(value) = prefs.edit { putString(MESSAGE, value) }

    /** Records a registration the sender accepted. */
    fun registered(state: RegistrationState) = prefs.edit {
        putString(KEY_ID, state.keyId)
        putString(TOKEN, state.pushToken)
        putLong(AT, state.registeredAt)
        putBoolean(VERSION_2, state.hasVersion2)
    }

    private companion object {
        const val PUSH_TOKEN = "push_token"
        const val KEY_ID = "registered_key_id"
        const val TOKEN = "registered_push_token"
        const val AT = "registered_at"
        const val VERSION_2 = "registered_version_2"
        const val MESSAGE = "last_message"
    }
}

/**
 * The record of payloads that did not open, in the app's files: when, the
 * kind of error and the library's action for it, and nothing else (see [FailureLog]).
 */
class FailureStore(context: Context) {
    private val file = AtomicFile(File(context.applicationContext.filesDir, "pushseal-failures.txt"))

    /** The records, oldest first. */
    fun records(): List<FailureRecord> = synchronized(LOCK) { FailureLog.parse(read()) }

    /** Records one failure now. Errors are ignored: the record only feeds diagnostics and re-registration. */
    fun record(outcome: Outcome) = synchronized(LOCK) {
        write(FailureLog.append(read(), FailureRecord(System.currentTimeMillis() / 1000, outcome)))
    }

    /** Forgets the records. */
    fun clear() = synchronized(LOCK) { file.delete() }

    private fun read(): String = try {
        if (file.baseFile.exists()) file.readFully().toString(Charsets.UTF_8) else ""
    } catch (e: IOException) {
        ""
    }

    private fun write(text: String) {
        var out: FileOutputStream? = null
        try {
            out = file.startWrite()
            out.write(text.toByteArray(Charsets.UTF_8))
            file.finishWrite(out)
        } catch (e: IOException) {
            out?.let(file::failWrite)
        }
    }

    private companion object {
        val LOCK = Any()
    }
}
