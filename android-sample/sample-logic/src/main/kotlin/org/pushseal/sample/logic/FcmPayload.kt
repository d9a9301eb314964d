package org.pushseal.sample.logic

/**
 * Turns the data map of an FCM message (`RemoteMessage.data`) into the map the
 * PushSeal library opens.
 *
 * A PushSeal message carries one entry, `"pushseal"`, holding the envelope.
 * Anything else in the map came from somewhere else and is not handed to the
 * library, so the library sees exactly the one payload it must open.
 */
object FcmPayload {
    /** The data key that holds the envelope. */
    const val KEY = "pushseal"

    /**
     * The longest envelope text accepted: FCM delivers at most 4096 bytes of
     * data, so anything longer did not come through FCM intact.
     */
    const val MAX_ENVELOPE_CHARS = 4096

    /** The result of looking at one data map. */
    sealed interface Extracted {
        /** A PushSeal message: open [data] (it holds only [KEY]). */
        data class Sealed(val data: Map<String, String>) : Extracted

        /** Not a PushSeal message: leave it to the app's other message handling. */
        data object NotPushSeal : Extracted

        /** A PushSeal key with a value too long to be a real envelope: show the fallback. */
        data object TooLarge : Extracted
    }

    /** Looks at the data map of one FCM message. */
    fun extract(data: Map<String, String>): Extracted {
        val envelope = data[KEY] ?: return Extracted.NotPushSeal
        if (envelope.length > MAX_ENVELOPE_CHARS) return Extracted.TooLarge
        return Extracted.Sealed(mapOf(KEY to envelope))
    }
}
