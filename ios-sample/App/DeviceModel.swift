import Foundation
import Observation
import PushSeal
import PushSealSampleKit

/// The app's state: the keyring, the registration with the sender, and what
/// the extension recorded. Everything runs on the main actor; the keyring
/// calls take microseconds and the one network call is awaited.
@MainActor
@Observable
final class DeviceModel {
    /// How long a rotated-out key keeps opening notifications: 28 days, the longest TTL.
    static let keepRotatedKey: TimeInterval = 28 * 24 * 60 * 60

    private(set) var publicKey = ""
    private(set) var keyId = ""
    /// What the app registers: both public keys in one text (`keyring.registration()`).
    private(set) var registrationText = ""
    private(set) var registration: RegistrationState?
    private(set) var failures: [FailureRecord] = []
    private(set) var status = "Starting"
    private(set) var isRegistering = false
    private(set) var notificationsAllowed: Bool?
    private(set) var lastTappedMessageId: String?

    @ObservationIgnored private var keyring: DeviceKeyring?
    @ObservationIgnored private var configuration: SampleConfiguration?
    @ObservationIgnored private var storage: KeychainKeyStorage?
    @ObservationIgnored private var container: SharedContainer?
    @ObservationIgnored private var deviceToken: Data?
    private let defaults = UserDefaults.standard

    private enum Keys {
        static let installed = "pushseal.installed"
        static let registration = "pushseal.registration"
    }

    /// First launch: creates the keyring in the Keychain and trusts the
    /// configured sender: its version 1 key and, when configured, its
    /// version 2 key (pinned for post-quantum notifications). Later launches load it.
    func start() {
        guard keyring == nil else { return }
        do {
            let configuration = try SampleConfiguration.fromMainBundle()
            guard let sender = configuration.senderPublicKey else {
                throw SampleConfiguration.Problem.missing("PUSHSEAL_SENDER_PUBLIC_KEY")
            }
            let storage = KeychainKeyStorage(accessGroup: configuration.keychainAccessGroup, service: SampleConfiguration.keychainService)
            if !defaults.bool(forKey: Keys.installed) {
                // iOS keeps Keychain items when an app is deleted, but not its
                // preferences: a keyring found now belongs to an earlier
                // installation. A new installation starts with a new key.
                try storage.delete()
                defaults.removeObject(forKey: Keys.registration)
                defaults.set(true, forKey: Keys.installed)
            }
            // The library's recovery, as on Android: a stored keyring that can
            // never be read (`invalid_keyring`) is deleted and a new one saved;
            // a locked Keychain (`storage`) is thrown and deletes nothing. A new
            // key id makes `refresh` register it (RegistrationPolicy).
            let keyring = try KeyringRecovery.loadOrRecreate(storage: storage).keyring
            var changed = false
            if !keyring.trustedSenders().contains(sender) {
                try keyring.trustSender(publicKey: sender)
                changed = true
            }
            if let senderV2 = configuration.senderPublicKeyV2, !keyring.trustedSendersV2().contains(senderV2) {
                try keyring.trustSenderV2(publicKey: senderV2)
                changed = true
            }
            if changed {
                try keyring.save(storage: storage)
            }
            self.configuration = configuration
            self.storage = storage
            self.container = try SharedContainer(appGroup: configuration.appGroup)
            self.keyring = keyring
            registration = loadRegistration()
            showKeys()
            status = registration == nil ? "Not registered yet" : "Registered"
            refresh()
        } catch {
            status = "Cannot start: \(error)"
        }
    }

    /// Reads what the extension recorded, and registers if anything calls for it.
    func refresh() {
        guard keyring != nil, let container else { return }
        failures = container.failures()
        let reason = RegistrationPolicy.reasonToRegister(
            last: registration,
            currentKeyId: keyId,
            pushToken: deviceToken.map { DeviceToken.hex($0) },
            failures: failures,
            currentHasVersion2: registrationText.hasPrefix(Registration.registrationPrefix)
        )
        if let reason {
            register(because: reason)
        }
    }

    /// The "Register" button.
    func registerNow() {
        register(because: nil)
    }

    /// The "Rotate key" button: a new key; the old one keeps opening
    /// notifications for 28 days, and the new one is registered at once.
    func rotate() {
        guard let keyring, let storage else { return }
        do {
            try keyring.rotate(keepOldFor: Self.keepRotatedKey)
            try keyring.save(storage: storage)
            showKeys()
            status = "Rotated: the previous key opens notifications for 28 more days"
            refresh()
        } catch {
            status = "Rotation failed: \(error)"
        }
    }

    /// The "Clear" button of the failure list.
    func clearFailures() {
        container?.clearFailures()
        failures = []
    }

    func deviceTokenReceived(_ token: Data) {
        deviceToken = token
        refresh()
    }

    func deviceTokenFailed(_ error: any Error) {
        status = "No APNs device token: \(error.localizedDescription)"
    }

    func notificationPermission(granted: Bool) {
        notificationsAllowed = granted
    }

    func notificationTapped(messageId: String?) {
        lastTappedMessageId = messageId
    }

    private func showKeys() {
        guard let keyring else { return }
        publicKey = keyring.publicKey()
        keyId = keyring.keyId()
        registrationText = keyring.registration()
    }

    private func register(because reason: RegistrationPolicy.Reason?) {
        guard !isRegistering, let configuration else { return }
        guard let deviceToken else {
            status = "Waiting for the APNs device token"
            return
        }
        guard let url = configuration.registrationURL else {
            status = "PUSHSEAL_REGISTRATION_URL is not set in Config/Sample.xcconfig"
            return
        }
        let request: Registration
        do {
            // Both public keys: the sender seals version 2 (post-quantum) to this device.
            request = try Registration(
                registration: registrationText,
                keyId: keyId,
                deviceToken: deviceToken,
                appId: Bundle.main.bundleIdentifier,
                environment: configuration.apnsEnvironment
            )
        } catch {
            status = "Cannot register: \(error)"
            return
        }
        isRegistering = true
        status = "Registering" + (reason.map { " (\(Self.describe($0)))" } ?? "")
        Task {
            defer { isRegistering = false }
            do {
                let answer = try await RegistrationClient.register(request, at: url)
                let state = RegistrationState(
                    keyId: request.keyId,
                    pushToken: request.pushToken,
                    registeredAt: Int64(Date().timeIntervalSince1970),
                    hasVersion2: request.hasVersion2
                )
                saveRegistration(state)
                registration = state
                // The app trusts only the keys it was built with; a sender
                // answering with another key is not trusted by answering.
                if answer.senderPublicKey != configuration.senderPublicKey {
                    status = "Registered, but the sender's key \(answer.senderKeyId) is not the one this build trusts"
                } else if let senderV2 = answer.senderPublicKeyV2, request.hasVersion2,
                    senderV2 != configuration.senderPublicKeyV2 {
                    // The sender seals version 2 to this device: unpinned, its notifications will not open.
                    status = "Registered, but the sender's version 2 key \(answer.senderKeyIdV2 ?? "") is not the one "
                        + "this build pins (PUSHSEAL_SENDER_PUBLIC_KEY_V2)"
                } else {
                    status = "Registered key \(request.keyId)"
                }
            } catch {
                status = "Registration failed: \(error)"
            }
        }
    }

    private static func describe(_ reason: RegistrationPolicy.Reason) -> String {
        switch reason {
        case .neverRegistered: return "first registration"
        case .keyRotated: return "the key rotated"
        case .tokenChanged: return "new device token"
        case .versionTwoKeyAdded: return "the sender does not have the version 2 key yet"
        case .reregisterReported: return "a notification that did not open called for it"
        }
    }

    private func loadRegistration() -> RegistrationState? {
        guard let data = defaults.data(forKey: Keys.registration) else { return nil }
        return try? JSONDecoder().decode(RegistrationState.self, from: data)
    }

    private func saveRegistration(_ state: RegistrationState) {
        if let data = try? JSONEncoder().encode(state) {
            defaults.set(data, forKey: Keys.registration)
        }
    }
}
