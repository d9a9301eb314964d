package org.pushseal.sample.logic

/**
 * What the app does with a payload that did not open.
 *
 * Every outcome that shows something shows only [FallbackText]: the real text
 * exists only inside a payload that opened, and a failure never puts any part
 * of the payload, the error message or the data map on the screen.
 */
sealed interface Outcome {
    /** The kind of error that led here; the app records it for its diagnostics screen. */
    val reason: ErrorKind

    /** Post the generic fallback notification and record [reason]. */
    data class ShowFallback(override val reason: ErrorKind) : Outcome

    /**
     * Post the generic fallback notification, record [reason], and register the
     * current public key with the sender again: the payload was sealed to a key
     * this device no longer holds (a rotation the sender missed, or a reinstall),
     * or the stored keyring cannot be read (its Keystore key is gone: the
     * registration makes a new keyring first, see `KeyringRecovery`).
     */
    data class ReRegister(override val reason: ErrorKind) : Outcome

    /**
     * Post nothing and record [reason]: a replay of a notification that was
     * already shown, or a message that is not PushSeal's at all.
     */
    data class Drop(override val reason: ErrorKind) : Outcome

    companion object {
        /** The outcome for an error of this kind. */
        fun forError(kind: ErrorKind): Outcome = when (kind) {
            ErrorKind.UNKNOWN_RECIPIENT_KEY, ErrorKind.INVALID_KEYRING -> ReRegister(kind)
            ErrorKind.REPLAYED, ErrorKind.NOT_PUSHSEAL -> Drop(kind)
            ErrorKind.INVALID_ENCODING,
            ErrorKind.TRUNCATED,
            ErrorKind.UNSUPPORTED_VERSION,
            ErrorKind.INVALID_KEY_LENGTH,
            ErrorKind.UNTRUSTED_SENDER,
            ErrorKind.ZERO_SHARED_SECRET,
            ErrorKind.TAMPERED,
            ErrorKind.MALFORMED_PADDING,
            ErrorKind.MALFORMED,
            ErrorKind.EXPIRED,
            ErrorKind.NOT_YET_VALID,
            ErrorKind.PAYLOAD_TOO_LARGE,
            ErrorKind.INVALID_NOTIFICATION,
            ErrorKind.INVALID_RECEIPT,
            ErrorKind.STORAGE,
            ErrorKind.RANDOMNESS,
            ErrorKind.INTERNAL,
            ErrorKind.UNKNOWN,
            -> ShowFallback(kind)
        }
    }
}

/**
 * The only text a notification shows when its payload did not open, and the
 * text of every notification's lock-screen ("public") version. It says that
 * something arrived and nothing else: no name, no clinic, no topic.
 */
object FallbackText {
    /** The fallback title; the same words the sender's APNs fallback uses. */
    const val TITLE = "New message"

    /** The fallback body. */
    const val BODY = "Open the app to read it."
}
