//! Reading what the user gives: standard input, key files, public keys, the
//! notification to seal and the payload to open.
//!
//! Every error message here describes the input without quoting it: the input
//! may be protected information or a secret key.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, IsTerminal as _, Read as _, Write as _};
use std::path::Path;

use pushseal::{DeviceSecretKey, Message, SenderSecretKey};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::Platform;
use crate::error::CliError;
use crate::mistakes;

/// The most standard input that is read. A platform payload is at most 4 KiB
/// and a notification at most 2 KiB; anything near this bound is not one.
pub const STDIN_LIMIT: usize = 1 << 20;

/// The most a key file is read. A key file is 67 bytes, 139 with a version 2 key.
const KEY_FILE_LIMIT: usize = 4096;

/// Reads standard input as UTF-8 text, at most [`STDIN_LIMIT`] bytes. `what`
/// says what is expected there, for the hint shown when it is a terminal.
pub fn read_stdin(what: &str) -> Result<String, CliError> {
    let stdin = io::stdin();
    if stdin.is_terminal() {
        let _ = writeln!(io::stderr(), "reading {what} from standard input (end it with Ctrl-D)");
    }
    let mut bytes = Vec::new();
    stdin
        .lock()
        .take(STDIN_LIMIT as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| CliError::rejected(format!("cannot read standard input: {e}")))?;
    if bytes.len() > STDIN_LIMIT {
        return Err(CliError::rejected("standard input is larger than 1 MiB; no PushSeal input is that large"));
    }
    String::from_utf8(bytes).map_err(|_| CliError::rejected("standard input is not UTF-8 text"))
}

/// A secret key a key file holds: a device's or a sender's (one format).
pub trait SecretKeyFile: Sized {
    /// The key from its text form.
    fn from_text(text: &str) -> pushseal::Result<Self>;
}

impl SecretKeyFile for DeviceSecretKey {
    fn from_text(text: &str) -> pushseal::Result<Self> {
        Self::from_secret_text(text)
    }
}

impl SecretKeyFile for SenderSecretKey {
    fn from_text(text: &str) -> pushseal::Result<Self> {
        Self::from_secret_text(text)
    }
}

/// Reads a secret key file (see the crate docs for its format) as the key
/// the command needs: its version 1 key (a file's version 2 key, if it has
/// one, is checked too). Warns on standard error if other users may read it.
#[allow(dead_code, reason = "for a command that needs the version 1 key alone")]
pub fn read_secret_key<K: SecretKeyFile>(path: &Path) -> Result<K, CliError> {
    crate::key_file::read_key_file::<K>(path).map(|file| file.v1)
}

/// The text of a secret key file, at most [`KEY_FILE_LIMIT`] bytes of UTF-8.
/// Warns on standard error if other users may read it.
pub fn read_key_file_text(path: &Path) -> Result<Zeroizing<String>, CliError> {
    let shown = path.display();
    let file = File::open(path).map_err(|e| match mistakes::public_key_for_key_file(path) {
        Some(message) if e.kind() == io::ErrorKind::NotFound => CliError::rejected(message),
        _ => CliError::rejected(format!("cannot open key file {shown}: {e}")),
    })?;
    warn_if_shared(&file, path);
    let mut bytes = Zeroizing::new(Vec::with_capacity(256));
    file.take(KEY_FILE_LIMIT as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| CliError::rejected(format!("cannot read key file {shown}: {e}")))?;
    let not_a_key = || CliError::rejected(format!("{shown} is not a PushSeal secret key file"));
    if bytes.len() > KEY_FILE_LIMIT {
        return Err(not_a_key());
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| not_a_key())?;
    Ok(Zeroizing::new(text.to_owned()))
}

/// Tells the user, once, that a key file is open to other users.
#[cfg(unix)]
fn warn_if_shared(file: &File, path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(meta) = file.metadata() {
        let mode = meta.permissions().mode() & 0o777;
        if meta.is_file() && mode & 0o077 != 0 {
            let shown = path.display();
            let _ = writeln!(
                io::stderr(),
                "warning: other users can access key file {shown} (mode {mode:04o}); restrict it: chmod 600 {shown}"
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_shared(_file: &File, _path: &Path) {}

/// Parses a public key ([`pushseal::DevicePublicKey`] or
/// [`pushseal::SenderPublicKey`]) given as `flag` (its `index`-th use, from
/// 0, of `count`).
pub fn parse_public_key<K>(text: &str, flag: &str, index: usize, count: usize) -> Result<K, CliError>
where
    K: std::str::FromStr<Err = pushseal::Error>,
{
    let name = if count > 1 { format!("{flag} #{}", index + 1) } else { flag.to_owned() };
    if DeviceSecretKey::from_secret_text(text).is_ok() {
        return Err(CliError::rejected(format!(
            "{name} is a secret key, which must never leave its owner; give its public key \
             (pushseal public-key --secret PATH)"
        )));
    }
    text.parse().map_err(|_| CliError::rejected(mistakes::bad_public_key(text, &name)))
}

/// The notification to seal, from standard input's JSON.
pub fn parse_message(text: &str) -> Result<Message, CliError> {
    if text.trim().is_empty() {
        return Err(CliError::rejected(
            "standard input is empty: give the notification as JSON, e.g. {\"title\": \"...\", \"body\": \"...\"}",
        ));
    }
    if !text.trim_start().starts_with('{') {
        return Err(CliError::rejected("the notification is not a JSON object"));
    }
    serde_json::from_str(text).map_err(|e| describe_message_error(&e))
}

/// A description of why the notification's JSON was refused. Syntax errors
/// never quote the input; data errors may (an unexpected value), so only the
/// "missing field" one, which names a field of the format, is passed on.
fn describe_message_error(e: &serde_json::Error) -> CliError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            CliError::rejected(format!("the notification is not valid JSON: {e}"))
        }
        Category::Data => {
            let text = e.to_string();
            if let Some(field) = text.strip_prefix("missing field `").and_then(|rest| rest.split('`').next()) {
                return CliError::rejected(format!(
                    "the notification has no \"{field}\" field (\"title\" and \"body\" are required)"
                ));
            }
            CliError::rejected(format!(
                "the notification does not fit the format (line {}, column {}): an object with \"title\" and \
                 \"body\" (strings), optionally \"data\" (an object of strings), \"thread_id\", \"category\", \
                 \"sound\" (strings) and \"badge\" (a non-negative integer), and no other field",
                e.line(),
                e.column()
            ))
        }
    }
}

/// A payload read from standard input, ready for [`pushseal::Payload`].
#[derive(Debug)]
pub enum PayloadInput {
    /// An APNs body (userInfo), as JSON text.
    Apns(String),
    /// An FCM data map.
    Fcm(HashMap<String, String>),
    /// An envelope's base64url text.
    Envelope(String),
}

impl PayloadInput {
    /// Reads the payload on standard input for `platform`, accepting anything
    /// `pushseal seal` prints for it (see `pushseal open --help`).
    pub fn from_stdin(platform: Platform) -> Result<Self, CliError> {
        let what = match platform {
            Platform::Apns => "an APNs payload",
            Platform::Fcm => "an FCM message",
            Platform::Envelope => "an envelope",
        };
        let text = read_stdin(what)?;
        if without_line_ending(&text).is_empty() {
            return Err(not_pushseal(&format!("standard input is empty: expected {what}")));
        }
        if let Some(hint) = mistakes::other_platform(platform, &text) {
            return Err(not_pushseal(hint));
        }
        Self::parse(platform, &text)
    }

    /// Parses the text of a payload for `platform`. JSON input may have white
    /// space around it, as JSON may; a bare envelope text may end in one line
    /// ending (`\n` or `\r\n`, as a text file does) and nothing else.
    pub fn parse(platform: Platform, text: &str) -> Result<Self, CliError> {
        match platform {
            Platform::Envelope => {
                if !text.trim_start_matches(JSON_WHITE_SPACE).starts_with(['{', '"']) {
                    return Ok(Self::Envelope(without_line_ending(text).to_owned()));
                }
                match peel_line(parse_json(text)?) {
                    Value::String(s) => Ok(Self::Envelope(s)),
                    _ => Err(not_pushseal("expected the envelope's base64url text")),
                }
            }
            Platform::Apns => {
                let mut value = peel_line(parse_json(text)?);
                // The `seal --headers` form: {"headers": {...}, "body": {...}}.
                if let Value::Object(map) = &mut value
                    && !map.contains_key("pushseal")
                    && map.get("body").is_some_and(Value::is_object)
                    && let Some(body) = map.remove("body")
                {
                    value = body;
                }
                Ok(Self::Apns(value.to_string()))
            }
            Platform::Fcm => {
                // The data map (every value a string) in a request body, a
                // message object or on its own, as SPEC.md section 7.4 says.
                let value = peel_line(parse_json(text)?);
                pushseal::fcm_data_map_in(value).map(Self::Fcm).map_err(|e| CliError::rejected(e.to_string()))
            }
        }
    }

    /// The length in bytes of the envelope inside, once its text (canonical
    /// base64url without padding, as [`pushseal::Payload::inspect`] checked)
    /// is decoded; 0 if there is none.
    pub fn envelope_len(&self) -> usize {
        let text = match self {
            Self::Apns(json) => {
                serde_json::from_str::<Value>(json).ok().and_then(|v| v.get("pushseal")?.as_str().map(str::len))
            }
            Self::Fcm(data) => data.get("pushseal").map(String::len),
            Self::Envelope(text) => Some(text.len()),
        };
        // Each character carries 6 bits; the last one's spare bits are zero.
        text.unwrap_or(0) * 6 / 8
    }

    /// The payload to open or inspect.
    pub fn payload(&self) -> pushseal::Payload<'_> {
        match self {
            Self::Apns(json) => pushseal::Payload::ApnsJson(json),
            Self::Fcm(data) => pushseal::Payload::FcmData(data),
            Self::Envelope(text) => pushseal::Payload::Envelope(text),
        }
    }
}

/// Parses JSON input as a device reads a platform payload (SPEC.md section
/// 7.4), with the device's own reader: the command reads more than a device
/// does (its own `--headers`, `--request-body` and several-device forms
/// around a payload, and an FCM message, which a device gets as a map), so
/// it applies the same rules to all of it. The error never quotes the input.
fn parse_json(text: &str) -> Result<Value, CliError> {
    pushseal::parse_payload_json(text).map_err(|e| CliError::rejected(e.to_string()))
}

/// The white space JSON allows around a value (RFC 8259, section 2).
const JSON_WHITE_SPACE: [char; 4] = [' ', '\t', '\n', '\r'];

/// `text` without one final line ending, `\n` or `\r\n`.
fn without_line_ending(text: &str) -> &str {
    text.strip_suffix('\n').map_or(text, |t| t.strip_suffix('\r').unwrap_or(t))
}

/// The payload of a `seal --json-lines` line, or the value itself.
fn peel_line(value: Value) -> Value {
    match value {
        Value::Object(mut map) if map.contains_key("to") && map.contains_key("payload") => {
            map.remove("payload").unwrap_or(Value::Null)
        }
        other => other,
    }
}

fn not_pushseal(why: &str) -> CliError {
    CliError::rejected(format!("not a PushSeal payload: {why}"))
}
