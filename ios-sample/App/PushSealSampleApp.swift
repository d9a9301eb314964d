import SwiftUI

/// The sample app: makes the device's PushSeal keyring on first launch, shows
/// its public key and key id, and registers them with the sample sender.
@main
struct PushSealSampleApp: App {
    @UIApplicationDelegateAdaptor(AppDelegate.self) private var appDelegate
    @Environment(\.scenePhase) private var scenePhase

    var body: some Scene {
        WindowGroup {
            ContentView(model: appDelegate.model)
        }
        .onChange(of: scenePhase) { _, phase in
            // Back in the foreground: read what the extension recorded and
            // register again if it met a key id this device does not hold.
            if phase == .active {
                appDelegate.model.refresh()
            }
        }
    }
}
