package org.pushseal.sample.logic

/**
 * What a device sends to the sender to be reachable: its registration text
 * (`DeviceKeyring.registration()`: both current public keys, so that the
 * sender seals version 2), the version 1 key's id, its platform and its push
 * token. None of it is secret; the sender needs all of it to seal and to
 * address a notification.
 *
 * The JSON is the body of `POST /registrations` on the sample sender
 * (`sender-sample/src/main.rs`):
 * `{"platform":"android","registration":"pushseal-registration-v2:<43>.<1622>","key_id":"<16 hex>","push_token":"<FCM token>","app_id":"<package>"}`.
 * A keyring without a version 2 key registers its version 1 public key
 * alone, as `"public_key":"<43 base64url>"`, which the sender seals version 1 to.
 */
data class Registration(
    val platform: String,
    /** `DeviceKeyring.registration()`: a registration text, or a version 1 public key alone. */
    val registration: String,
    /** The version 1 key's id, `DeviceKeyring.keyId()`. */
    val keyId: String,
    val pushToken: String,
    val appId: String? = null,
) {
    init {
        require(platform == "android" || platform == "ios") { "platform is android or ios" }
        require(REGISTRATION.matches(registration) || PUBLIC_KEY.matches(registration)) {
            "a registration is pushseal-registration-v2: and two keys of base64url, or a 43-character public key"
        }
        require(KEY_ID.matches(keyId)) { "a key id is 16 lowercase hex digits" }
        require(pushToken.isNotEmpty() && pushToken.length <= MAX_TOKEN_CHARS && pushToken.all { it in ' '..'~' }) {
            "a push token is 1 to $MAX_TOKEN_CHARS printable ASCII characters"
        }
        require(appId == null || (appId.isNotEmpty() && appId.length <= MAX_TOKEN_CHARS && appId.all { it in ' '..'~' })) {
            "an app id is printable ASCII"
        }
    }

    /** The registration as one line of JSON. */
    fun toJson(): String = buildString {
        append("{\"platform\":").append(jsonString(platform))
        append(if (hasVersion2) ",\"registration\":" else ",\"public_key\":").append(jsonString(registration))
        append(",\"key_id\":").append(jsonString(keyId))
        append(",\"push_token\":").append(jsonString(pushToken))
        if (appId != null) append(",\"app_id\":").append(jsonString(appId))
        append('}')
    }

    /** Whether the registration carries a version 2 key: the sender seals version 2. */
    val hasVersion2: Boolean get() = registration.startsWith(REGISTRATION_PREFIX)

    companion object {
        /** The longest push token accepted (FCM tokens are a few hundred characters). */
        const val MAX_TOKEN_CHARS = 4096

        /** How a registration text with a version 2 key starts. */
        const val REGISTRATION_PREFIX = "pushseal-registration-v2:"

        private val PUBLIC_KEY = Regex("^[A-Za-z0-9_-]{43}$")
        private val REGISTRATION = Regex("^pushseal-registration-v2:[A-Za-z0-9_-]{43}\\.[A-Za-z0-9_-]{1622}$")
        private val KEY_ID = Regex("^[0-9a-f]{16}$")

        /** [text] as a JSON string, quotes included. */
        fun jsonString(text: String): String = buildString(text.length + 2) {
            append('"')
            for (c in text) {
                when (c) {
                    '"' -> append("\\\"")
                    '\\' -> append("\\\\")
                    '\n' -> append("\\n")
                    '\r' -> append("\\r")
                    '\t' -> append("\\t")
                    else -> if (c < ' ') append("\\u%04x".format(c.code)) else append(c)
                }
            }
            append('"')
        }
    }
}

/**
 * What the app last registered successfully, kept in its preferences;
 * [hasVersion2] is whether that registration carried a version 2 key (false
 * for one recorded before version 2).
 */
data class RegistrationState(
    val keyId: String,
    val pushToken: String,
    val registeredAt: Long,
    val hasVersion2: Boolean = false,
)

/** When the app must register (again). */
object RegistrationPolicy {
    /** Why a registration is due. */
    enum class Reason {
        /** The app has never registered. */
        NEVER_REGISTERED,

        /** The keyring rotated: the sender still seals to the old key. */
        KEY_ROTATED,

        /** The push service gave the app a new token. */
        TOKEN_CHANGED,

        /**
         * The keyring has a version 2 key the sender was never given (the
         * app registered before version 2): the sender still seals version 1.
         */
        VERSION_2_KEY_ADDED,

        /**
         * A payload that did not open asked for it (action `reregister`): it
         * was sealed to a key this device does not hold, or there was no
         * readable keyring.
         */
        REREGISTER_REPORTED,
    }

    /**
     * Why the app must register now, or null if the last registration still
     * holds (or there is no push token yet to register with).
     * [currentHasVersion2] is whether the keyring's registration text carries
     * a version 2 key ([Registration.hasVersion2]).
     */
    fun reasonToRegister(
        last: RegistrationState?,
        currentKeyId: String,
        pushToken: String?,
        failures: List<FailureRecord>,
        currentHasVersion2: Boolean = false,
    ): Reason? {
        if (pushToken.isNullOrEmpty()) return null
        if (last == null) return Reason.NEVER_REGISTERED
        if (last.keyId != currentKeyId) return Reason.KEY_ROTATED
        if (last.pushToken != pushToken) return Reason.TOKEN_CHANGED
        if (currentHasVersion2 && !last.hasVersion2) return Reason.VERSION_2_KEY_ADDED
        val askedSince = failures.any { it.action == Outcome.Action.REREGISTER && it.atEpochSeconds >= last.registeredAt }
        return if (askedSince) Reason.REREGISTER_REPORTED else null
    }
}
