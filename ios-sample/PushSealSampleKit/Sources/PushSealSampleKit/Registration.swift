import Foundation

/// The APNs environment a build talks to: development builds get sandbox
/// device tokens, App Store and TestFlight builds production ones.
public enum ApnsEnvironment: String, Codable, Sendable {
    case development
    case production
}

/// What the device sends to the sender to be reachable: its registration text
/// (`DeviceKeyring.registration()`: both current public keys, so that the
/// sender seals version 2), the version 1 key's id, its platform and its APNs
/// device token. None of it is secret; the sender needs all of it to seal and
/// to address a notification.
///
/// The JSON is the body of `POST /registrations` on the sample sender
/// (`sender-sample/src/main.rs`). A keyring without a version 2 key
/// registers its version 1 public key alone, as `public_key`, which the
/// sender seals version 1 to.
public struct Registration: Codable, Equatable, Sendable {
    /// How a registration text with a version 2 key starts.
    public static let registrationPrefix = "pushseal-registration-v2:"

    /// Always `"ios"` here.
    public let platform: String
    /// The registration text (`pushseal-registration-v2:`, the version 1 key,
    /// `.`, the version 2 key), when the keyring has a version 2 key.
    public let registration: String?
    /// The version 1 public key alone (43 characters of base64url), when the
    /// keyring has no version 2 key.
    public let publicKey: String?
    /// The version 1 key's id: 16 lowercase hex digits.
    public let keyId: String
    /// The APNs device token in lowercase hex.
    public let pushToken: String
    /// The app's bundle id: the sender's `apns-topic`.
    public let appId: String?
    /// Which APNs environment the token belongs to.
    public let apnsEnvironment: ApnsEnvironment?

    enum CodingKeys: String, CodingKey {
        case platform
        case registration
        case publicKey = "public_key"
        case keyId = "key_id"
        case pushToken = "push_token"
        case appId = "app_id"
        case apnsEnvironment = "apns_environment"
    }

    /// Why a registration was refused before it was sent.
    public enum Invalid: Error, Equatable, Sendable {
        case registration
        case keyId
        case deviceToken
        case appId
    }

    /// A registration for this device, checked: `registration` is
    /// `DeviceKeyring.registration()`, `keyId` is `DeviceKeyring.keyId()`.
    public init(
        registration: String,
        keyId: String,
        deviceToken: some Sequence<UInt8>,
        appId: String?,
        environment: ApnsEnvironment
    ) throws {
        let token = DeviceToken.hex(deviceToken)
        if registration.hasPrefix(Self.registrationPrefix) {
            guard Self.isRegistrationText(registration) else { throw Invalid.registration }
            self.registration = registration
            self.publicKey = nil
        } else {
            guard Self.isPublicKey(registration) else { throw Invalid.registration }
            self.registration = nil
            self.publicKey = registration
        }
        guard keyId.utf8.count == 16, keyId.utf8.allSatisfy(Self.isLowerHex) else { throw Invalid.keyId }
        guard !token.isEmpty else { throw Invalid.deviceToken }
        if let appId {
            guard !appId.isEmpty, appId.utf8.allSatisfy(Self.isBundleIdCharacter) else { throw Invalid.appId }
        }
        self.platform = "ios"
        self.keyId = keyId
        self.pushToken = token
        self.appId = appId
        self.apnsEnvironment = environment
    }

    /// Whether the registration carries a version 2 key: the sender seals version 2.
    public var hasVersion2: Bool { registration != nil }

    /// The registration as JSON, keys sorted.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(self)
    }

    /// 43 characters of base64url: a version 1 public key.
    private static func isPublicKey(_ text: String) -> Bool {
        text.utf8.count == 43 && text.utf8.allSatisfy(isBase64URL)
    }

    /// The prefix, 43 characters of base64url, `.`, 1,622 characters of
    /// base64url (the 1,216-byte version 2 key): 1,691 characters in all.
    private static func isRegistrationText(_ text: String) -> Bool {
        let body = Array(text.utf8.dropFirst(registrationPrefix.utf8.count))
        guard text.hasPrefix(registrationPrefix), body.count == 43 + 1 + 1622, body[43] == 0x2E else { return false }
        return body[..<43].allSatisfy(isBase64URL) && body[44...].allSatisfy(isBase64URL)
    }

    private static func isBase64URL(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x5F
    }

    private static func isLowerHex(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66)
    }

    private static func isBundleIdCharacter(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x2E
    }
}

/// The sample sender's answer to a registration.
public struct RegistrationResponse: Decodable, Equatable, Sendable {
    /// The key id the sender registered.
    public let registered: String
    /// The sender's public key.
    public let senderPublicKey: String
    /// The sender's key id.
    public let senderKeyId: String
    /// The sender's version 2 public key (`pushseal-sender-v2:...`), when it has one.
    public let senderPublicKeyV2: String?
    /// Its key id.
    public let senderKeyIdV2: String?

    enum CodingKeys: String, CodingKey {
        case registered
        case senderPublicKey = "sender_public_key"
        case senderKeyId = "sender_key_id"
        case senderPublicKeyV2 = "sender_public_key_v2"
        case senderKeyIdV2 = "sender_key_id_v2"
    }
}

/// APNs device tokens as text.
public enum DeviceToken {
    /// The token's bytes as lowercase hex, the form APNs takes in `/3/device/<token>`.
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// What the app last registered successfully, kept in its preferences.
public struct RegistrationState: Codable, Equatable, Sendable {
    /// The key id registered.
    public let keyId: String
    /// The push token registered.
    public let pushToken: String
    /// When, in unix seconds.
    public let registeredAt: Int64
    /// Whether the registration carried a version 2 key (nil in a state
    /// recorded before version 2: it did not).
    public let hasVersion2: Bool?

    public init(keyId: String, pushToken: String, registeredAt: Int64, hasVersion2: Bool = false) {
        self.keyId = keyId
        self.pushToken = pushToken
        self.registeredAt = registeredAt
        self.hasVersion2 = hasVersion2
    }
}

/// When the app must register (again).
public enum RegistrationPolicy {
    /// Why a registration is due.
    public enum Reason: Equatable, Sendable {
        /// The app has never registered.
        case neverRegistered
        /// The keyring rotated: the sender still seals to the old key.
        case keyRotated
        /// APNs gave the app a new device token.
        case tokenChanged
        /// The keyring has a version 2 key the sender was never given (the
        /// app registered before version 2): the sender still seals version 1.
        case versionTwoKeyAdded
        /// The extension recorded a failure whose action is to register again:
        /// a payload sealed to a key this device does not hold, or no
        /// readable keyring.
        case reregisterReported
    }

    /// Why the app must register now, or nil if the last registration still
    /// holds (or there is no push token yet to register with).
    /// `currentHasVersion2` is whether the keyring's registration text
    /// carries a version 2 key (`Registration.hasVersion2`).
    public static func reasonToRegister(
        last: RegistrationState?,
        currentKeyId: String,
        pushToken: String?,
        failures: [FailureRecord],
        currentHasVersion2: Bool = false
    ) -> Reason? {
        guard let pushToken, !pushToken.isEmpty else { return nil }
        guard let last else { return .neverRegistered }
        if last.keyId != currentKeyId { return .keyRotated }
        if last.pushToken != pushToken { return .tokenChanged }
        if currentHasVersion2 && last.hasVersion2 != true { return .versionTwoKeyAdded }
        let reported = failures.contains { $0.action == .reregister && $0.at >= last.registeredAt }
        return reported ? .reregisterReported : nil
    }
}
