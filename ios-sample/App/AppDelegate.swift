import UIKit
@preconcurrency import UserNotifications

/// Asks for permission to show notifications, gets the APNs device token, and
/// shows notifications that arrive while the app is in the foreground.
@MainActor
final class AppDelegate: NSObject, UIApplicationDelegate {
    let model = DeviceModel()

    func application(
        _ application: UIApplication,
        didFinishLaunchingWithOptions launchOptions: [UIApplication.LaunchOptionsKey: Any]?
    ) -> Bool {
        UNUserNotificationCenter.current().delegate = self
        model.start()
        Task {
            let granted = (try? await UNUserNotificationCenter.current().requestAuthorization(
                options: [.alert, .sound, .badge]
            )) ?? false
            model.notificationPermission(granted: granted)
        }
        application.registerForRemoteNotifications()
        return true
    }

    func application(_ application: UIApplication, didRegisterForRemoteNotificationsWithDeviceToken deviceToken: Data) {
        model.deviceTokenReceived(deviceToken)
    }

    func application(_ application: UIApplication, didFailToRegisterForRemoteNotificationsWithError error: any Error) {
        model.deviceTokenFailed(error)
    }
}

extension AppDelegate: UNUserNotificationCenterDelegate {
    /// In the foreground, show the notification (the extension already put the real text in it).
    nonisolated func userNotificationCenter(
        _ center: UNUserNotificationCenter,
        willPresent notification: UNNotification
    ) async -> UNNotificationPresentationOptions {
        [.banner, .list, .sound]
    }

    /// A tap on a notification opens the app; the message id says which one.
    nonisolated func userNotificationCenter(
        _ center: UNUserNotificationCenter,
        didReceive response: UNNotificationResponse
    ) async {
        let messageId = response.notification.request.content.userInfo["pushseal_id"] as? String
        await MainActor.run {
            self.model.notificationTapped(messageId: messageId)
        }
    }
}
