package org.pushseal.sample

import org.pushseal.errorKindOf
import org.pushseal.sample.logic.ErrorKind

/**
 * The kind of anything opening a notification threw, as the platform-free
 * logic knows it: the library's `errorKindOf` (a `PushSealException`'s own
 * kind; `STORAGE` for an `IOException` or a Keystore failure; `INTERNAL` for a
 * native library that did not load), by its stable name. A kind this app does
 * not know yet becomes `UNKNOWN`, never a build break.
 */
fun kindOf(failure: Throwable): ErrorKind = try {
    ErrorKind.fromWireName(errorKindOf(failure).specName())
} catch (e: LinkageError) {
    // specName() is a native call: with no native library, the kind is plain.
    ErrorKind.INTERNAL
}

/**
 * [block]'s value, or what it threw: a PushSeal error, a storage failure or a
 * native library that did not load alike, so no keyring call crashes the app.
 */
inline fun <T> keyringResult(block: () -> T): Result<T> = try {
    Result.success(block())
} catch (e: Exception) {
    Result.failure(e)
} catch (e: LinkageError) {
    Result.failure(e)
}
