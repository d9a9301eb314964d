import Foundation
import PushSealSampleKit

/// The files of the App Group container the app and the extension share:
/// the replay store (ids of notifications already opened) and the failure
/// log (when and why a payload did not open, and what the library said to do). Neither holds a key or any
/// notification text.
struct SharedContainer: Sendable {
    let directory: URL

    /// Why the container is not there.
    struct Unavailable: Error, CustomStringConvertible {
        let appGroup: String
        var description: String {
            "the App Group \(appGroup) is not available: check both targets' entitlements"
        }
    }

    init(appGroup: String) throws {
        guard let url = FileManager.default.containerURL(forSecurityApplicationGroupIdentifier: appGroup) else {
            throw Unavailable(appGroup: appGroup)
        }
        directory = url
    }

    private var failureLogURL: URL {
        directory.appending(path: "pushseal-failures.json")
    }

    /// The recorded failures, oldest first.
    func failures() -> [FailureRecord] {
        FailureLog.decode(try? Data(contentsOf: failureLogURL))
    }

    /// Records that a payload did not open, why, and what the library said
    /// to do. Errors are ignored: the record only feeds diagnostics and
    /// re-registration.
    func recordFailure(_ outcome: OpenOutcome, at date: Date = Date()) {
        let record = FailureRecord(at: Int64(date.timeIntervalSince1970), outcome: outcome)
        let data = FailureLog.append(record, to: try? Data(contentsOf: failureLogURL))
        try? data.write(to: failureLogURL, options: [.atomic, .completeFileProtectionUntilFirstUserAuthentication])
    }

    /// Forgets the recorded failures.
    func clearFailures() {
        try? FileManager.default.removeItem(at: failureLogURL)
    }
}
