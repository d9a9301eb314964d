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
 *   `ExceptionInInitializerError`), or any other exception: `INTERNAL`.
 *
 * Java: `PushSealFailures.errorKindOf(e)`.
 *
 * ```kotlin
 * val opened = try { keyring.open(Payload.Fcm(message.data), replay) } catch (e: Exception) {
 *     return handle(errorKindOf(e).deviceAction())
 * } catch (e: LinkageError) {
 *     return handle(errorKindOf(e).deviceAction())
 * }
 * ```
 */
fun errorKindOf(failure: Throwable): ErrorKind = when (failure) {
    is PushSealException -> failure.kind()
    is IOException, is GeneralSecurityException -> ErrorKind.STORAGE
    else -> ErrorKind.INTERNAL
}

/** Whether the native library loads, without ever throwing. */
object NativeLibrary {
    /**
     * Null when the native library loads and answers; otherwise what stopped
     * it (`UnsatisfiedLinkError`: a missing ABI in the app, a JNA older than
     * 5.18 on a 16 KB-page device; `NoClassDefFoundError` on later tries).
     * The first call loads the library.
     */
    @JvmStatic
    fun loadError(): Throwable? = try {
        libraryVersion()
        null
    } catch (e: LinkageError) {
        e
    } catch (e: RuntimeException) {
        e
    }
}
