// Opening the replay store where an app and its Notification Service Extension
// share it, with the files readable while the phone is locked.
import Foundation

extension ReplayStore {
    /// The replay store named `name` in the folder `PushSeal` of `directory`
    /// (the App Group container the app and its extension share), created if
    /// missing.
    ///
    /// On iOS, iPadOS, visionOS and Mac Catalyst the folder and the store's
    /// files (`<name>`, `<name>.lock`, and the `<name>.tmp` a rewrite renames
    /// into place, which takes the folder's class when it is created) get
    /// `FileProtectionType.completeUntilFirstUserAuthentication`: readable
    /// after the first unlock following a restart, even when the app's default
    /// class is `.complete`, under which the extension could not open the
    /// store while the phone is locked. Elsewhere file protection does not
    /// exist and the store is opened as it is.
    ///
    /// ```swift
    /// let group = FileManager.default.containerURL(forSecurityApplicationGroupIdentifier: "group.com.example")!
    /// let replay = try ReplayStore.open(inDirectory: group)
    /// ```
    ///
    /// `lockTimeout`: the most an open waits for the store's lock that another
    /// process holds before failing with `.storage` (nothing recorded); an
    /// extension keeps it well inside its time budget. `nil`: the library's
    /// default (two seconds).
    ///
    /// Errors are `PushSealError` of kind `.storage`.
    public static func open(
        inDirectory directory: URL,
        name: String = "pushseal-replay.db",
        lockTimeout: TimeInterval? = nil
    ) throws -> ReplayStore {
        let folder = directory.appendingPathComponent("PushSeal", isDirectory: true)
        let path = folder.appendingPathComponent(name, isDirectory: false).path
        do {
            try FileManager.default.createDirectory(
                at: folder, withIntermediateDirectories: true, attributes: protection)
            for file in [folder.path, path, path + ".lock", path + ".tmp"] {
                try protect(file)
            }
        } catch {
            throw PushSealError(.storage, reason: "preparing the replay store's folder failed: \(error)")
        }
        if let lockTimeout {
            return try ReplayStore.openWithLockTimeout(path: path, lockTimeout: lockTimeout)
        }
        return try ReplayStore.open(path: path)
    }

    /// The attributes that set the protection class, where there is one.
    private static var protection: [FileAttributeKey: Any]? {
        #if os(iOS) || os(visionOS) || os(tvOS) || os(watchOS)
        [.protectionKey: FileProtectionType.completeUntilFirstUserAuthentication]
        #else
        nil
        #endif
    }

    /// Gives an existing file or folder the protection class (files made by an
    /// earlier version keep theirs otherwise).
    private static func protect(_ path: String) throws {
        guard let protection, FileManager.default.fileExists(atPath: path) else { return }
        try FileManager.default.setAttributes(protection, ofItemAtPath: path)
    }
}
