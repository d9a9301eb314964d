package org.pushseal.sample.logic

/**
 * Why a payload did not open: one value per PushSeal error kind, with the
 * stable snake_case name the core library, SPEC.md and the test vectors use.
 *
 * The app turns the library's kind of each failure into one of these by its
 * stable name, next to the action the library chose for it ([Outcome]; see the
 * app's `PushSealErrors.kt`); everything after that point is plain Kotlin and
 * tested on the JVM. Only the kind and the action are ever recorded, never an
 * exception's message or the payload: they say what happened without
 * carrying any part of a notification.
 */
enum class ErrorKind(val wireName: String) {
    NOT_PUSHSEAL("not_pushseal"),
    INVALID_ENCODING("invalid_encoding"),
    TRUNCATED("truncated"),
    UNSUPPORTED_VERSION("unsupported_version"),
    INVALID_KEY_LENGTH("invalid_key_length"),
    UNKNOWN_RECIPIENT_KEY("unknown_recipient_key"),
    UNTRUSTED_SENDER("untrusted_sender"),
    ZERO_SHARED_SECRET("zero_shared_secret"),
    TAMPERED("tampered"),
    MALFORMED_PADDING("malformed_padding"),
    MALFORMED("malformed"),
    EXPIRED("expired"),
    NOT_YET_VALID("not_yet_valid"),
    REPLAYED("replayed"),
    PAYLOAD_TOO_LARGE("payload_too_large"),
    INVALID_NOTIFICATION("invalid_notification"),
    INVALID_RECEIPT("invalid_receipt"),
    INVALID_SIGNATURE("invalid_signature"),
    INVALID_KEYRING("invalid_keyring"),
    STORAGE("storage"),
    RANDOMNESS("randomness"),
    INTERNAL("internal"),

    /** A kind this version of the app does not know (a newer library's). */
    UNKNOWN("unknown"),
    ;

    companion object {
        /** The kind with this snake_case name; [UNKNOWN] for a name this app does not know. */
        fun fromWireName(name: String): ErrorKind = entries.firstOrNull { it.wireName == name } ?: UNKNOWN
    }
}
