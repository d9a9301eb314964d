import PushSeal
import PushSealSampleKit

extension ErrorKind {
    /// The library's kind of anything thrown while opening: a `PushSealError`'s
    /// own kind, or `.internal`.
    init(thrownWhileOpening error: any Error) {
        self = (error as? PushSealError)?.kind ?? .internal
    }
}

extension OpenOutcome {
    /// What to do about a failure of this kind: the library's policy
    /// (`deviceAction()`, the core's), never re-derived here. Both names
    /// cross by their stable spelling, so a kind or an action this app does
    /// not know yet is `.unknown` or the fallback, never a build break.
    init(_ kind: ErrorKind) {
        self.init(action: kind.deviceAction().specName(), reason: PushSealErrorKind(wireName: kind.specName()))
    }

    /// What to do about `error`, anything thrown while opening.
    init(_ error: any Error) {
        self.init(ErrorKind(thrownWhileOpening: error))
    }
}
