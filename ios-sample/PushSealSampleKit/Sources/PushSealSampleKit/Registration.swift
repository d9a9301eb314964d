import Foundation

/// The APNs environment a build talks to: development builds get sandbox
/// device tokens, App Store and TestFlight builds production ones.
public enum ApnsEnvironment: String, Codable, Sendable {
    case development
    case production
}

/// What the device sends to the sender to be reachable: its current PushSeal
/// public key and key id, its platform and its APNs device token. None of it
/// is secret; the sender needs all of it to seal and to address a notification.
///
/// The JSON is the body of `POST /registrations` on the sample sender
/// (`sdk-core/examples/sample_sender.rs`).
public struct Registration: Codable, Equatable, Sendable {
    /// Always `"ios"` here.
    public let platform: String
    /// The device's current public key: 43 characters of base64url.
    public let publicKey: String
    /// Its key id: 16 lowercase hex digits.
    public let keyId: String
    /// The APNs device token in lowercase hex.
    public let pushToken: String
    /// The app's bundle id: the sender's `apns-topic`.
    public let appId: String?
    /// Which APNs environment the token belongs to.
    public let apnsEnvironment: ApnsEnvironment?

    enum CodingKeys: String, CodingKey {
        case platform
        case publicKey = "public_key"
        case keyId = "key_id"
        case pushToken = "push_token"
        case appId = "app_id"
        case apnsEnvironment = "apns_environment"
    }

    /// Why a registration was refused before it was sent.
    public enum Invalid: Error, Equatable, Sendable {
        case publicKey
        case keyId
        case deviceToken
        case appId
    }

    /// A registration for this device, checked.
    public init(
        publicKey: String,
        keyId: String,
        deviceToken: some Sequence<UInt8>,
        appId: String?,
        environment: ApnsEnvironment
    ) throws {
        let token = DeviceToken.hex(deviceToken)
        guard publicKey.utf8.count == 43, publicKey.utf8.allSatisfy(Self.isBase64URL) else { throw Invalid.publicKey }
        guard keyId.utf8.count == 16, keyId.utf8.allSatisfy(Self.isLowerHex) else { throw Invalid.keyId }
        guard !token.isEmpty else { throw Invalid.deviceToken }
        if let appId {
            guard !appId.isEmpty, appId.utf8.allSatisfy(Self.isBundleIdCharacter) else { throw Invalid.appId }
        }
        self.platform = "ios"
        self.publicKey = publicKey
        self.keyId = keyId
        self.pushToken = token
        self.appId = appId
        self.apnsEnvironment = environment
    }

    /// The registration as JSON, keys sorted.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(self)
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

    enum CodingKeys: String, CodingKey {
        case registered
        case senderPublicKey = "sender_public_key"
        case senderKeyId = "sender_key_id"
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

    public init(keyId: String, pushToken: String, registeredAt: Int64) {
        self.keyId = keyId
        self.pushToken = pushToken
        self.registeredAt = registeredAt
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
        /// The extension recorded a failure whose action is to register again:
        /// a payload sealed to a key this device does not hold, or no
        /// readable keyring.
        case reregisterReported
    }

    /// Why the app must register now, or nil if the last registration still
    /// holds (or there is no push token yet to register with).
    public static func reasonToRegister(
        last: RegistrationState?,
        currentKeyId: String,
        pushToken: String?,
        failures: [FailureRecord]
    ) -> Reason? {
        guard let pushToken, !pushToken.isEmpty else { return nil }
        guard let last else { return .neverRegistered }
        if last.keyId != currentKeyId { return .keyRotated }
        if last.pushToken != pushToken { return .tokenChanged }
        let reported = failures.contains { $0.action == .reregister && $0.at >= last.registeredAt }
        return reported ? .reregisterReported : nil
    }
}
