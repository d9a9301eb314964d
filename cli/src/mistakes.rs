//! The mistakes people make with the command line, recognised, so that each
//! message says what was given and what to do instead: keygen's whole JSON
//! line or a file name where a public key belongs, a typo in the last
//! character of a key or receipt, a public key where a key file belongs, a
//! payload sealed to another key, another platform's payload.
//!
//! Like every message of the tool, these never quote key material, payload
//! text or the notification: they name flags, key ids, lengths and files.

use std::path::Path;

use pushseal::KeyId;
use serde_json::Value;

use crate::Platform;

/// The base64url alphabet (RFC 4648, section 5), in value order.
const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Why `text` (white space around it aside) is not `bytes` bytes of canonical
/// base64url without padding, for a message that goes on "`what` is ...".
pub fn describe_base64(text: &str, bytes: usize, what: &str) -> String {
    let text = text.trim();
    let chars = (bytes * 4).div_ceil(3);
    let expected = format!("{what} is {chars} characters of base64url (A-Z, a-z, 0-9, - and _) without padding");
    if text.ends_with('=') {
        return format!("it ends with '=' padding; {expected}");
    }
    if !text.bytes().all(|b| BASE64URL.contains(&b)) {
        return format!("it has characters outside base64url; {expected}");
    }
    if text.len() != chars {
        return format!("it is {} characters long; {expected}", text.len());
    }
    // The right length and alphabet: the last character carries bits beyond
    // the value's end, which canonical base64url sets to zero.
    let unused = chars * 6 - bytes * 8;
    let endings: Vec<String> = BASE64URL
        .iter()
        .enumerate()
        .filter(|(i, _)| i % (1 << unused) == 0)
        .map(|(_, &c)| char::from(c).to_string())
        .collect();
    format!(
        "it is not canonical base64url: {what} cannot end in its last character, only in one of {}; check it \
         for a typo",
        endings.join(" ")
    )
}

/// The message for `text` given as `name` where a public key belongs and not
/// parsed as one.
pub fn bad_public_key(text: &str, name: &str) -> String {
    let trimmed = text.trim();
    let why = if trimmed.starts_with('{') && trimmed.contains("\"public_key\"") {
        "this is keygen's whole JSON line: give only its \"public_key\" value".to_owned()
    } else if !trimmed.is_empty() && Path::new(text).is_file() {
        "this names a file, not a public key: pushseal public-key --secret PATH prints the public key of a \
         key file"
            .to_owned()
    } else {
        describe_base64(text, 32, "a public key")
    };
    format!("{name}: invalid encoding: {why}")
}

/// The message for a key file that cannot be opened, when what was given is
/// a public key, not a path (`--to` and `--from` swapped, say).
pub fn public_key_for_key_file(path: &Path) -> Option<String> {
    let text = path.to_str()?;
    text.parse::<pushseal::DevicePublicKey>().ok()?;
    Some(
        "a public key was given where a secret key file belongs: give the path of the key file (are --to and \
         --from, or --secret and --sender, swapped?)"
            .to_owned(),
    )
}

/// The message for a payload sealed to key id `recipient` that the key in
/// `key_file` (key id `own`) cannot open; `sealed_by` is the key id that
/// sealed it.
pub fn not_this_device(recipient: KeyId, sealed_by: KeyId, own: KeyId, key_file: &Path) -> String {
    let shown = key_file.display();
    if sealed_by == own {
        return format!(
            "unknown recipient key id {recipient}: {shown} holds the sender's key (key id {own}, which sealed this \
             payload), not the device's; open it with the device's secret key (key id {recipient})"
        );
    }
    format!(
        "unknown recipient key id {recipient}: the payload is sealed to that key, and {shown} holds key id {own}; \
         open it with the secret key of key id {recipient}, or, if {shown} is the device's current key, register \
         its public key with the sender again"
    )
}

/// A hint when standard input, expected as `platform`'s payload, is clearly
/// another platform's: a sentence naming the `--platform` to pass.
pub fn other_platform(platform: Platform, text: &str) -> Option<&'static str> {
    let trimmed = text.trim();
    let bare = !trimmed.is_empty() && trimmed.bytes().all(|b| BASE64URL.contains(&b));
    let object = match serde_json::from_str::<Value>(trimmed) {
        Ok(Value::Object(map)) => match map.get("payload") {
            // A line of seal's several-device output.
            Some(Value::Object(payload)) if map.contains_key("to") => payload.clone(),
            _ => map,
        },
        _ => serde_json::Map::new(),
    };
    let has = |key: &str| object.contains_key(key);
    let looks_fcm = !has("pushseal") && (has("message") || has("data") || has("android"));
    let looks_apns = !has("pushseal") && (has("aps") || has("headers"));
    match platform {
        Platform::Apns | Platform::Fcm if bare => {
            Some("this looks like a bare envelope (base64url text): pass --platform envelope")
        }
        Platform::Apns if looks_fcm => Some("this looks like an FCM message: pass --platform fcm"),
        Platform::Fcm if looks_apns => {
            Some("this looks like an APNs payload: pass --platform apns (or leave --platform out)")
        }
        Platform::Envelope if looks_fcm => Some("this looks like an FCM message: pass --platform fcm"),
        Platform::Envelope if looks_apns || has("pushseal") => {
            Some("this looks like an APNs payload: pass --platform apns (or leave --platform out)")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_characters_of_canonical_base64url() {
        // 32 bytes: 43 characters, 2 unused bits; 16 bytes: 22 characters, 4 unused bits.
        assert!(
            describe_base64(&("A".repeat(42) + "B"), 32, "a key").contains("one of A E I M Q U Y c g k o s w 0 4 8;")
        );
        assert!(describe_base64(&("A".repeat(21) + "B"), 16, "a receipt").contains("one of A Q g w;"));
        assert!(describe_base64("AAAA", 32, "a key").contains("4 characters long"));
        assert!(describe_base64("AA+A", 32, "a key").contains("outside base64url"));
        assert!(describe_base64("AAA=", 32, "a key").contains("padding"));
    }

    #[test]
    fn platforms_are_told_apart() {
        let fcm = r#"{"message":{"data":{"pushseal":"AQ"}}}"#;
        let apns = r#"{"aps":{"alert":{"title":"New message"}},"pushseal":"AQ"}"#;
        let apns_with_headers = r#"{"headers":{"apns-priority":"10"},"body":{"aps":{},"pushseal":"AQ"}}"#;
        assert!(other_platform(Platform::Apns, fcm).is_some_and(|h| h.contains("--platform fcm")));
        assert!(other_platform(Platform::Fcm, apns_with_headers).is_some_and(|h| h.contains("--platform apns")));
        assert!(other_platform(Platform::Envelope, apns).is_some_and(|h| h.contains("--platform apns")));
        assert!(other_platform(Platform::Apns, "AQIDBA").is_some_and(|h| h.contains("--platform envelope")));
        assert_eq!(other_platform(Platform::Apns, apns), None);
        assert_eq!(other_platform(Platform::Fcm, fcm), None);
        assert_eq!(other_platform(Platform::Envelope, "AQIDBA"), None);
    }
}
