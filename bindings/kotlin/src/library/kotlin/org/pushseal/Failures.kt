@file:JvmName("PushSealFailures")

package org.pushseal

import java.io.IOException
import java.security.GeneralSecurityException

/**
 * The [ErrorKind] of anything opening a notification can throw, so that a push
 * handler catches everything and never crashes the app; its
 * [ErrorKind.deviceAction] says what to do (the core's one policy):
 *
 * - a [PushSealException]: its own kind;
 * - an [IOException] or a [GeneralSecurityException] that a `KeyStorage`
 *   let through (an `IOException` from `KeyStore.load`, say): `STORAGE`;
 * - a [LinkageError] (`UnsatisfiedLinkError` when the native library or JNA's
 *   cannot load, `NoClassDefFoundError` on every later try, an
 *   `ExceptionInInitializerError`), any other `Error` JNA throws (its
 *   `java.lang.Error` for a failed native call), or any other exception:
 *   `INTERNAL`.
 *
 * Catch `Throwable` around the library: `Exception` alone misses what JNA
 * throws. Java: `PushSealFailures.errorKindOf(e)`.
 *
 * ```kotlin
 * val opened = try { keyring.open(Payload.Fcm(message.data), replay) } catch (e: Throwable) {
 *     return handle(errorKindOf(e).deviceAction())
 * }
 * ```
 */
fun errorKindOf(failure: Throwable): ErrorKind = when (failure) {
    is PushSealException -> failure.kind()
    is IOException, is GeneralSecurityException -> ErrorKind.STORAGE
    else -> ErrorKind.INTERNAL
}

/**
 * What to do about [failure], anything the library threw: the core's action
 * for its kind (`errorKindOf(failure).deviceAction()`), or `SHOW_FALLBACK`,
 * the action for `INTERNAL`, when the native library cannot answer (it did
 * not load). Never throws, so a push handler can call it in its last `catch`.
 *
 * ```kotlin
 * } catch (e: Throwable) {
 *     when (deviceActionOf(e)) { DeviceAction.PASS_THROUGH -> ...; DeviceAction.SHOW_FALLBACK -> ... }
 * }
 * ```
 */
fun deviceActionOf(failure: Throwable): DeviceAction = try {
    errorKindOf(failure).deviceAction()
} catch (e: Throwable) {
    DeviceAction.SHOW_FALLBACK
}

/** Whether the native library loads, without ever throwing. */
object NativeLibrary {
    /**
     * Null when the native library loads and answers; otherwise what stopped
     * it (`UnsatisfiedLinkError`: a missing ABI in the app, a JNA older than
     * 5.18 on a 16 KB-page device; `NoClassDefFoundError` on later tries; an
     * `Error` JNA threw).
     * The first call loads the library.
     */
    @JvmStatic
    fun loadError(): Throwable? = try {
        libraryVersion()
        null
    } catch (e: Throwable) {
        e
    }
}

/**
 * The text to show when an open fails with `SHOW_FALLBACK` or `REREGISTER`:
 * the core's words ([fallbackText]), kept here as constants so that a device
 * whose native library cannot load shows the same text (the JVM tests check
 * that they are the core's). Never show any part of the payload instead.
 */
object Fallback {
    /** "New message": the sender's APNs fallback title too. */
    const val TITLE = "New message"

    /** The body under [TITLE]. */
    const val BODY = "Open the app to read it."
}
