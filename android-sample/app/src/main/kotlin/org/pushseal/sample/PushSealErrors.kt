package org.pushseal.sample

import org.pushseal.PushSealException
import org.pushseal.sample.logic.ErrorKind

/**
 * The kind of a PushSeal error, as the platform-free logic knows it. The
 * `when` is exhaustive on purpose: a new error in the library fails the build
 * here until it is given its outcome.
 */
fun PushSealException.kind(): ErrorKind = when (this) {
    is PushSealException.NotPushSeal -> ErrorKind.NOT_PUSHSEAL
    is PushSealException.InvalidEncoding -> ErrorKind.INVALID_ENCODING
    is PushSealException.Truncated -> ErrorKind.TRUNCATED
    is PushSealException.UnsupportedVersion -> ErrorKind.UNSUPPORTED_VERSION
    is PushSealException.InvalidKeyLength -> ErrorKind.INVALID_KEY_LENGTH
    is PushSealException.UnknownRecipientKey -> ErrorKind.UNKNOWN_RECIPIENT_KEY
    is PushSealException.UntrustedSender -> ErrorKind.UNTRUSTED_SENDER
    is PushSealException.ZeroSharedSecret -> ErrorKind.ZERO_SHARED_SECRET
    is PushSealException.Tampered -> ErrorKind.TAMPERED
    is PushSealException.MalformedPadding -> ErrorKind.MALFORMED_PADDING
    is PushSealException.Malformed -> ErrorKind.MALFORMED
    is PushSealException.Expired -> ErrorKind.EXPIRED
    is PushSealException.NotYetValid -> ErrorKind.NOT_YET_VALID
    is PushSealException.Replayed -> ErrorKind.REPLAYED
    is PushSealException.PayloadTooLarge -> ErrorKind.PAYLOAD_TOO_LARGE
    is PushSealException.InvalidNotification -> ErrorKind.INVALID_NOTIFICATION
    is PushSealException.InvalidReceipt -> ErrorKind.INVALID_RECEIPT
    is PushSealException.InvalidKeyring -> ErrorKind.INVALID_KEYRING
    is PushSealException.Storage -> ErrorKind.STORAGE
    is PushSealException.Randomness -> ErrorKind.RANDOMNESS
    is PushSealException.Internal -> ErrorKind.INTERNAL
}
