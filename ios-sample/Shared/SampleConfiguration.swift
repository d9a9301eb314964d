import Foundation
import PushSealSampleKit

/// The sample's settings, read from the running target's Info.plist (which
/// takes them from Config/Sample.xcconfig). The app and the extension each
/// have their own Info.plist; both carry the App Group and the Keychain group.
struct SampleConfiguration: Sendable {
    /// `kSecAttrService` of the keyring's Keychain item (the package's
    /// `KeychainKeyStorage` stores it there).
    static let keychainService = "org.pushseal.sample.keyring"

    /// The App Group both targets share.
    let appGroup: String
    /// The full Keychain access group, team prefix included.
    let keychainAccessGroup: String
    /// The sender's public key the app trusts (the app's Info.plist only).
    let senderPublicKey: String?
    /// The sender's version 2 public key (`pushseal-sender-v2:...`) the app
    /// pins for post-quantum notifications (the app's Info.plist only).
    let senderPublicKeyV2: String?
    /// The sample sender's registration endpoint (the app's Info.plist only).
    let registrationURL: URL?
    /// The APNs environment this build's device tokens belong to.
    let apnsEnvironment: ApnsEnvironment

    /// Why the configuration is unusable.
    enum Problem: Error, CustomStringConvertible {
        case missing(String)

        var description: String {
            switch self {
            case .missing(let key):
                return "\(key) is not set: fill in Config/Sample.xcconfig and rebuild"
            }
        }
    }

    /// The configuration of the running target.
    static func fromMainBundle() throws -> SampleConfiguration {
        let info = Bundle.main.infoDictionary ?? [:]
        func value(_ key: String) -> String? {
            guard let text = info[key] as? String else { return nil }
            // The one trimming rule of every pasted text (SPEC.md section 3.1):
            // space, tab, CR and LF, and no other character.
            let trimmed = text.trimmingCharacters(in: CharacterSet(charactersIn: " \t\r\n"))
            return trimmed.isEmpty ? nil : trimmed
        }
        guard let appGroup = value("PushSealAppGroup") else { throw Problem.missing("PUSHSEAL_APP_GROUP") }
        guard let keychainGroup = value("PushSealKeychainAccessGroup") else {
            throw Problem.missing("PUSHSEAL_KEYCHAIN_GROUP")
        }
        return SampleConfiguration(
            appGroup: appGroup,
            keychainAccessGroup: keychainGroup,
            senderPublicKey: value("PushSealSenderPublicKey"),
            senderPublicKeyV2: value("PushSealSenderPublicKeyV2"),
            registrationURL: value("PushSealRegistrationURL").flatMap(URL.init(string:)),
            apnsEnvironment: value("PushSealAPNsEnvironment").flatMap(ApnsEnvironment.init(rawValue:)) ?? .production
        )
    }
}
