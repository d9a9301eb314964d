package org.pushseal.sample

import org.pushseal.errorKindOf
import org.pushseal.sample.logic.ErrorKind
import org.pushseal.sample.logic.Outcome

/**
 * The kind of anything opening a notification threw, as the platform-free
 * logic knows it: the library's `errorKindOf` (a `PushSealException`'s own
 * kind; `STORAGE` for an `IOException` or a Keystore failure; `INTERNAL` for a
 * native library that did not load), by its stable name. A kind this app does
 * not know yet becomes `UNKNOWN`, never a build break.
 */
fun kindOf(failure: Throwable): ErrorKind = outcomeOf(errorKindOf(failure)).reason

/** What to do about [failure], anything opening a notification threw: see `outcomeOf(org.pushseal.ErrorKind)`. */
fun outcomeOf(failure: Throwable): Outcome = outcomeOf(errorKindOf(failure))

/**
 * What to do about a failure of this kind: the library's policy
 * (`deviceAction()`, the core's), never re-derived here. The action and the
 * kind cross by their stable names, so an action this app does not know yet
 * shows the fallback and a kind it does not know is `UNKNOWN`.
 */
fun outcomeOf(kind: org.pushseal.ErrorKind): Outcome = try {
    Outcome.of(kind.deviceAction().specName(), ErrorKind.fromWireName(kind.specName()))
} catch (e: Throwable) {
    // deviceAction() and specName() are native calls: with no native library
    // there is no policy to ask, and the library's action for INTERNAL is the fallback.
    Outcome(Outcome.Action.SHOW_FALLBACK, ErrorKind.INTERNAL)
}

/**
 * [block]'s value, or what it threw: a PushSeal error, a storage failure, an
 * error JNA threw or a native library that did not load alike, so no keyring
 * call crashes the app.
 */
inline fun <T> keyringResult(block: () -> T): Result<T> = try {
    Result.success(block())
} catch (e: Throwable) {
    // Exception and LinkageError are not all: JNA throws java.lang.Error itself.
    Result.failure(e)
}
