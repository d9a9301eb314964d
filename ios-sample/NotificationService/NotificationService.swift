import Foundation
import PushSeal
import PushSealSampleKit
@preconcurrency import UserNotifications

/// Opens the PushSeal payload of each alert push and shows its real title and body.
///
/// iOS runs this extension for every push with `"mutable-content": 1`, with
/// about 24 MB of memory and about 30 seconds. It opens the one payload it
/// was given and nothing else: the keyring from the shared Keychain, the
/// replay store from the App Group container, one `open` call. On any error
/// it does what the library's failure policy says (`OpenOutcome`, from
/// `error.kind.deviceAction()`): it delivers the app's own fixed text
/// (the library's `Fallback`, the core's words), never the payload's alert, which nothing authenticates
/// (SPEC.md section 7.5), and records only the kind of error and the action
/// for the app; a push that is not PushSeal's (`pass_through`) is delivered
/// as it came.
///
/// iOS suspends the extension once it hands back content, and kills a
/// suspended process that holds a file lock in the App Group container
/// (0xdead10cc). The replay store locks its file during `open`, so the
/// content is handed back only when no open is under way: an open that is
/// running when time runs out finishes first (the store gives up waiting for
/// its lock after `replayLockTimeout`, and holds it for milliseconds), then
/// hands back what it got.
final class NotificationService: UNNotificationServiceExtension {
    /// The most an open waits for the replay store's lock, well inside the
    /// time iOS leaves after `serviceExtensionTimeWillExpire`.
    static let replayLockTimeout: TimeInterval = 1

    /// The pending content handler, the fallback content and whether an open
    /// is under way, guarded by `lock`: `serviceExtensionTimeWillExpire` may
    /// run on another thread.
    private let lock = NSLock()
    private var pending: Pending?
    private var opening = false

    private struct Pending {
        let handler: (UNNotificationContent) -> Void
        let fallback: UNNotificationContent
    }

    override func didReceive(
        _ request: UNNotificationRequest,
        withContentHandler contentHandler: @escaping (UNNotificationContent) -> Void
    ) {
        lock.lock()
        pending = Pending(handler: contentHandler, fallback: Self.ownFallback(request.content))
        opening = true
        lock.unlock()
        let content = Self.open(request)
        lock.lock()
        opening = false
        lock.unlock()
        deliver(content)
    }

    override func serviceExtensionTimeWillExpire() {
        lock.lock()
        let busy = opening
        lock.unlock()
        // An open under way may hold the replay store's lock: it hands back
        // its content (or the fallback) itself as soon as it returns, within
        // `replayLockTimeout` plus milliseconds. Handing back now would let
        // iOS suspend the extension with the lock held.
        guard !busy else { return }
        deliver(nil)
    }

    /// Hands iOS `content`, or the fallback when nil; only the first call counts.
    private func deliver(_ content: UNNotificationContent?) {
        lock.lock()
        let taken = pending
        pending = nil
        lock.unlock()
        guard let taken else { return }
        taken.handler(content ?? taken.fallback)
    }

    /// The content with the real text, the push as it came, or nil to deliver the fallback.
    private static func open(_ request: UNNotificationRequest) -> UNNotificationContent? {
        // The push as iOS delivered it: the core decides what is PushSeal's and
        // how large it may be. Read before any key is touched: a push that is
        // not PushSeal's fails here with `.notPushSeal` (delivered as it came).
        let payload = Payload.apns(userInfo: request.content.userInfo)
        do {
            _ = try inspectPayload(payload: payload)
        } catch {
            return failed(OpenOutcome(error), request: request, container: nil)
        }

        var shared: SharedContainer?
        do {
            let configuration = try SampleConfiguration.fromMainBundle()
            let container = try SharedContainer(appGroup: configuration.appGroup)
            shared = container
            let storage = KeychainKeyStorage(accessGroup: configuration.keychainAccessGroup, service: SampleConfiguration.keychainService)
            guard let bytes = try storage.load() else {
                // The app has not run since it was installed: no key exists yet.
                return failed(OpenOutcome(ErrorKind.invalidKeyring), request: request, container: container)
            }
            let keyring = try DeviceKeyring.fromBytes(bytes: bytes)
            // PushSeal/pushseal-replay.db, readable after the first unlock whatever
            // the app's default file protection (ReplayStore.open(inDirectory:)).
            let replay = try ReplayStore.open(inDirectory: container.directory, lockTimeout: replayLockTimeout)
            let notification = try keyring.open(payload: payload, replay: replay)
            return content(for: notification, from: request.content)
        } catch {
            // The extension cannot hide a push: every action but pass-through
            // delivers the fallback here. The app acts on the record: a
            // `reregister` action makes it register again (see DeviceModel.refresh).
            return failed(OpenOutcome(error), request: request, container: shared)
        }
    }

    /// Records `outcome` when it is to be recorded, and returns what it
    /// delivers: the push as it came for a pass-through, nil (the fallback)
    /// for every other action.
    private static func failed(
        _ outcome: OpenOutcome,
        request: UNNotificationRequest,
        container: SharedContainer?
    ) -> UNNotificationContent? {
        if outcome.isRecorded {
            record(outcome, in: container)
        }
        switch outcome.delivery {
        case .asItCame:
            return request.content
        case .fallback:
            return nil
        }
    }

    /// The notification's real content, on a copy of the delivered one.
    private static func content(
        for notification: OpenedNotification,
        from delivered: UNNotificationContent
    ) -> UNNotificationContent? {
        guard let content = delivered.mutableCopy() as? UNMutableNotificationContent else { return nil }
        let plan = ContentPlan(
            title: notification.title,
            body: notification.body,
            threadId: notification.threadId,
            category: notification.category,
            badge: notification.badge,
            sound: notification.sound
        )
        content.title = plan.title ?? Fallback.title
        content.subtitle = ""
        content.body = plan.body
        content.threadIdentifier = plan.threadIdentifier
        content.categoryIdentifier = plan.categoryIdentifier
        if let badge = plan.badge {
            content.badge = NSNumber(value: badge)
        }
        switch plan.sound {
        case .systemDefault:
            content.sound = .default
        case .named(let name):
            content.sound = UNNotificationSound(named: UNNotificationSoundName(rawValue: name))
        case nil:
            break
        }
        // The envelope is spent; the app gets the message id and the data
        // entries when the notification is tapped.
        content.userInfo = ["pushseal_id": notification.id, "pushseal_data": notification.data]
        return content
    }

    /// The app's own fallback text on a copy of the delivered content: the
    /// payload's alert is whatever the gateway passed on, so it is never shown.
    private static func ownFallback(_ delivered: UNNotificationContent) -> UNNotificationContent {
        guard let content = delivered.mutableCopy() as? UNMutableNotificationContent else {
            return UNNotificationContent()
        }
        content.title = Fallback.title
        content.subtitle = ""
        content.body = Fallback.body
        content.userInfo = [:]
        return content
    }

    /// Records a failure in `container`, or in the shared container when it is reachable.
    private static func record(_ outcome: OpenOutcome, in container: SharedContainer?) {
        if let container {
            container.recordFailure(outcome)
        } else if let configuration = try? SampleConfiguration.fromMainBundle(),
                  let container = try? SharedContainer(appGroup: configuration.appGroup) {
            container.recordFailure(outcome)
        }
    }
}
