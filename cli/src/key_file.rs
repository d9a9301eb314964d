//! Key files with a version 2 key, and the version 2 texts given on the
//! command line: registrations (`seal --to`) and pinned senders
//! (`open --sender`).
//!
//! A key file is one line per key: the version 1 secret key
//! (`pushseal-secret-key-v1:`, which a device and a sender share), then,
//! unless it was made with `keygen --v1-only`, one version 2 secret key
//! whose prefix says whose it is: a device's X-Wing seed
//! (`pushseal-device-secret-v2:`) or a sender's Ed25519 signing key
//! (`pushseal-sender-secret-v2:`). SPEC.md section 12.2 defines the texts.

use std::path::Path;

use pushseal::{
    DevicePublicKey, DeviceSecretKey, DeviceSecretKeyV2, Registration, SenderPublicKey, SenderSecretKey,
    SenderSigningKey, SenderVerifyingKey,
};

use crate::error::CliError;
use crate::input::{SecretKeyFile, parse_public_key, read_key_file_text};

/// The prefix of a registration text (SPEC.md section 12.3).
const REGISTRATION_PREFIX: &str = "pushseal-registration-v2:";
/// The prefix of a device's version 2 public key text.
const DEVICE_V2_PREFIX: &str = "pushseal-device-v2:";
/// The prefix of a sender's version 2 public key text.
const SENDER_V2_PREFIX: &str = "pushseal-sender-v2:";
/// The prefix of a version 1 secret key text.
const V1_SECRET_PREFIX: &str = "pushseal-secret-key-v1:";
/// The prefix of a device's version 2 secret key text.
const DEVICE_SECRET_V2_PREFIX: &str = "pushseal-device-secret-v2:";
/// The prefix of a sender's version 2 secret key text.
const SENDER_SECRET_V2_PREFIX: &str = "pushseal-sender-secret-v2:";

/// The version 2 key of a key file.
pub enum SecondKey {
    /// A device's X-Wing key: the file is a device's.
    Device(Box<DeviceSecretKeyV2>),
    /// A sender's Ed25519 signing key: the file is a sender's.
    Sender(Box<SenderSigningKey>),
}

/// A key file, read: its version 1 key as `K` and its version 2 key, if it has one.
pub struct KeyFile<K> {
    /// The version 1 secret key.
    pub v1: K,
    /// The version 2 secret key (`None` in a file made by `keygen --v1-only`
    /// or by an earlier version of the tool).
    pub v2: Option<SecondKey>,
}

/// Reads the key file at `path`: its first line is the version 1 key, and a
/// second line, if any, a version 2 key. Anything else is refused.
pub fn read_key_file<K: SecretKeyFile>(path: &Path) -> Result<KeyFile<K>, CliError> {
    let shown = path.display();
    let text = read_key_file_text(path)?;
    let mut lines = text.lines().map(str::trim).filter(|line| !line.is_empty());
    let first = lines.next().ok_or_else(|| CliError::rejected(format!("{shown} is not a PushSeal secret key file")))?;
    let v1 = K::from_text(first).map_err(|e| CliError::rejected(format!("key file {shown}: {e}")))?;
    let v2 = match lines.next() {
        None => None,
        Some(line) if line.starts_with(DEVICE_SECRET_V2_PREFIX) => Some(SecondKey::Device(Box::new(
            DeviceSecretKeyV2::from_secret_text(line)
                .map_err(|e| CliError::rejected(format!("key file {shown}, its version 2 device key: {e}")))?,
        ))),
        Some(line) if line.starts_with(SENDER_SECRET_V2_PREFIX) => Some(SecondKey::Sender(Box::new(
            SenderSigningKey::from_secret_text(line)
                .map_err(|e| CliError::rejected(format!("key file {shown}, its version 2 signing key: {e}")))?,
        ))),
        Some(_) => {
            return Err(CliError::rejected(format!(
                "key file {shown}: its second line is not a version 2 secret key (pushseal-device-secret-v2: or \
                 pushseal-sender-secret-v2:)"
            )));
        }
    };
    if lines.next().is_some() {
        return Err(CliError::rejected(format!(
            "key file {shown} has more than two keys; a key file holds a version 1 key and at most one version 2 key"
        )));
    }
    Ok(KeyFile { v1, v2 })
}

/// The text of a new key file: the version 1 key, then the version 2 key if any.
pub fn key_file_text(v1: &DeviceSecretKey, v2: Option<&SecondKey>) -> zeroize::Zeroizing<String> {
    let mut text = zeroize::Zeroizing::new(String::with_capacity(160));
    text.push_str(&v1.to_secret_text());
    match v2 {
        Some(SecondKey::Device(key)) => {
            text.push('\n');
            text.push_str(&key.to_secret_text());
        }
        Some(SecondKey::Sender(key)) => {
            text.push('\n');
            text.push_str(&key.to_secret_text());
        }
        None => {}
    }
    text
}

/// A JSON string.
fn quoted(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

/// What keygen and public-key print for a key file: the version 1 public
/// key and its id, then for a device its registration text and version 2
/// key id, for a sender its version 2 public key (what devices pin) and id.
pub fn key_file_json(v1: &DevicePublicKey, v2: Option<&SecondKey>) -> String {
    let mut json =
        format!("{{\"public_key\":{},\"key_id\":{}", quoted(&v1.to_string()), quoted(&v1.key_id().to_string()));
    match v2 {
        Some(SecondKey::Device(key)) => {
            let registration = Registration::new(*v1, key.public_key().clone());
            json.push_str(&format!(
                ",\"registration\":{},\"key_id_v2\":{}",
                quoted(&registration.to_string()),
                quoted(&key.key_id().to_string())
            ));
        }
        Some(SecondKey::Sender(key)) => {
            json.push_str(&format!(
                ",\"public_key_v2\":{},\"key_id_v2\":{}",
                quoted(&key.verifying_key().to_string()),
                quoted(&key.key_id().to_string())
            ));
        }
        None => {}
    }
    json.push('}');
    json
}

/// The name of the `index`-th use (from 0) of `flag`, given `count` times.
fn flag_name(flag: &str, index: usize, count: usize) -> String {
    if count > 1 { format!("{flag} #{}", index + 1) } else { flag.to_owned() }
}

/// Refuses a secret key given where a public text belongs: a version 2 key,
/// or a whole key file's text (both of its keys).
fn refuse_secret(text: &str, name: &str) -> Result<(), CliError> {
    let secret = [V1_SECRET_PREFIX, DEVICE_SECRET_V2_PREFIX, SENDER_SECRET_V2_PREFIX];
    if secret.iter().any(|prefix| text.contains(prefix)) {
        return Err(CliError::rejected(format!(
            "{name} is a secret key, which must never leave its owner; give its public key \
             (pushseal public-key --secret PATH)"
        )));
    }
    Ok(())
}

/// Parses a device's registration text given as `--to` (its `index`-th use
/// of `count`), or a version 1 public key alone (a device that opens
/// version 1 only).
pub fn parse_registration(text: &str, index: usize, count: usize) -> Result<Registration, CliError> {
    let name = flag_name("--to", index, count);
    refuse_secret(text, &name)?;
    let trimmed = text.trim();
    if trimmed.starts_with(REGISTRATION_PREFIX) {
        return trimmed
            .parse()
            .map_err(|e| CliError::rejected(format!("{name} is not a valid registration text ({e}); copy it whole")));
    }
    if trimmed.starts_with(DEVICE_V2_PREFIX) {
        return Err(CliError::rejected(format!(
            "{name} is a device's version 2 public key alone: give the device's registration text (keygen's \
             \"registration\"), which carries both of its public keys"
        )));
    }
    if trimmed.starts_with(SENDER_V2_PREFIX) {
        return Err(CliError::rejected(format!(
            "{name} is a sender's version 2 public key: seal to a device's registration (keygen's \"registration\")"
        )));
    }
    parse_public_key::<DevicePublicKey>(text, "--to", index, count).map(Registration::v1_only)
}

/// A sender a device trusts, given as `open --sender`.
pub enum TrustedSender {
    /// A version 1 sender, by its X25519 public key.
    V1(SenderPublicKey),
    /// A version 2 sender, pinned by its Ed25519 public key.
    V2(SenderVerifyingKey),
}

/// Parses a sender's public key given as `--sender` (its `index`-th use of
/// `count`): a version 2 key (`pushseal-sender-v2:`, keygen's
/// "public_key_v2") or a version 1 key (43 characters).
pub fn parse_trusted_sender(text: &str, index: usize, count: usize) -> Result<TrustedSender, CliError> {
    let name = flag_name("--sender", index, count);
    refuse_secret(text, &name)?;
    let trimmed = text.trim();
    if trimmed.starts_with(SENDER_V2_PREFIX) {
        return trimmed.parse().map(TrustedSender::V2).map_err(|e| {
            CliError::rejected(format!(
                "{name} is not a valid version 2 sender key ({e}); copy keygen's \"public_key_v2\" whole"
            ))
        });
    }
    if trimmed.starts_with(REGISTRATION_PREFIX) || trimmed.starts_with(DEVICE_V2_PREFIX) {
        return Err(CliError::rejected(format!(
            "{name} is a device's public key: give the sender's public key (\"public_key_v2\" of the sender's \
             keygen or public-key, or its \"public_key\" for version 1)"
        )));
    }
    parse_public_key::<SenderPublicKey>(text, "--sender", index, count).map(TrustedSender::V1)
}

/// The sender of `seal --from`, with its signing key if the file has one;
/// `needs_v2` says whether the policy would seal version 2 to some device
/// (a device's key file is refused then: it cannot sign).
pub fn sender_from_file(path: &Path, needs_v2: bool) -> Result<(SenderSecretKey, Option<SenderSigningKey>), CliError> {
    let file: KeyFile<SenderSecretKey> = read_key_file(path)?;
    match file.v2 {
        Some(SecondKey::Sender(signing)) => Ok((file.v1, Some(*signing))),
        Some(SecondKey::Device(_)) if needs_v2 => Err(CliError::rejected(format!(
            "{} is a device's key file: it cannot sign version 2 envelopes; make a sender key with pushseal keygen \
             --sender --secret-out PATH (or seal version 1 with --pq off)",
            path.display()
        ))),
        Some(SecondKey::Device(_)) | None => Ok((file.v1, None)),
    }
}
