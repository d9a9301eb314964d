import PushSeal
import PushSealSampleKit

extension PushSealErrorKind {
    /// The kind of any error thrown while opening: PushSeal's own, or `.internal`.
    init(_ error: any Error) {
        if let error = error as? PushSealError {
            // The library's kind, by its stable name: a kind this app does not
            // know yet becomes `.unknown`, never a build break.
            self.init(wireName: error.kind.specName())
        } else if let error = error as? UserInfoPayload.Failure {
            self = error.kind
        } else {
            self = .internal
        }
    }
}
