//! Signed checkpoints: a log's tree head as a C2SP `tlog-checkpoint`, signed
//! as a C2SP `signed-note` with the log's own Ed25519 key, and checked
//! against that key and, optionally, the `tlog-cosignature/v1` cosignatures
//! of witnesses (SPEC.md section 10.4).
//!
//! ```
//! use pushseal_audit::checkpoint::{Checkpoint, LogSigningKey};
//! use pushseal_audit::merkle;
//!
//! let key = LogSigningKey::generate("audit.example.com/pushseal")?;
//! let verifier = key.verifier_key(); // published: its text is name+hexid+base64
//! let head = Checkpoint::new(key.origin(), 1, merkle::leaf_hash(b"{\"seq\":0}"));
//! let note = key.sign(&head);
//! let checked = verifier.open(note.as_bytes(), &[])?;
//! assert_eq!(checked.checkpoint, head);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use pushseal::{Error, Result};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::record::Hash256;

/// The signed-note signature type of an Ed25519 note signature (the log's).
const TYPE_ED25519: u8 = 0x01;
/// The signed-note signature type of a `tlog-cosignature/v1` (a witness's).
const TYPE_COSIGNATURE_V1: u8 = 0x04;
/// How many signature lines a note may have: the signed-note spec asks
/// verifiers to accept at least 16.
pub const MAX_SIGNATURES: usize = 100;
/// The longest note read, in bytes: room for [`MAX_SIGNATURES`] signatures.
pub const MAX_NOTE_LEN: usize = 64 * 1024;
/// The start of a signature line: an em dash (U+2014) and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";
/// The start of a signing key's text (the format of Go's `sumdb/note`).
const SIGNER_PREFIX: &str = "PRIVATE+KEY+";

/// Why a checkpoint or a key is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The note or checkpoint does not follow its format; the text says where.
    Malformed(&'static str),
    /// The checkpoint is signed for another log: its origin is not the
    /// verifier key's name.
    WrongOrigin {
        /// The origin the verifier key names.
        expected: String,
        /// The checkpoint's origin.
        found: String,
    },
    /// No signature line of the note is from the log's key.
    NotSigned,
    /// A signature line of the log's key, or of a given witness, does not verify.
    BadSignature(String),
    /// A key's text is not a valid key of its kind.
    BadKey(&'static str),
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(why) => write!(f, "malformed checkpoint: {why}"),
            Self::WrongOrigin { expected, found } => write!(
                f,
                "the checkpoint is of another log: its origin is {found:?}, the key is for {expected:?} (give the \
                 verifier key of the log that signed it)"
            ),
            Self::NotSigned => f.write_str(
                "the checkpoint has no signature from the log's key (check that the verifier key is this log's)",
            ),
            Self::BadSignature(name) => {
                write!(f, "the signature of {name:?} on the checkpoint does not verify: the checkpoint was altered")
            }
            Self::BadKey(why) => write!(f, "invalid key: {why}"),
        }
    }
}

impl std::error::Error for CheckpointError {}

impl From<CheckpointError> for Error {
    fn from(e: CheckpointError) -> Self {
        match e {
            CheckpointError::BadKey(why) => Error::InvalidEncoding(why),
            CheckpointError::Malformed(why) => Error::Malformed(why),
            CheckpointError::WrongOrigin { .. } => Error::Malformed("the checkpoint is of another log"),
            CheckpointError::NotSigned | CheckpointError::BadSignature(_) => {
                Error::Malformed("the checkpoint's signature does not verify")
            }
        }
    }
}

/// A tree head as a `tlog-checkpoint` body: the log's origin, the tree
/// size and the root hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's name: the first line, and the name of its signing key.
    pub origin: String,
    /// The number of records in the tree.
    pub size: u64,
    /// The tree hash `MTH` of the first `size` records.
    pub root: Hash256,
}

impl Checkpoint {
    /// The checkpoint of the tree of `size` records with hash `root`.
    pub fn new(origin: impl Into<String>, size: u64, root: Hash256) -> Self {
        Self { origin: origin.into(), size, root }
    }

    /// The note text: `<origin>\n<size>\n<base64(root)>\n` (C2SP
    /// `tlog-checkpoint`, no extension lines).
    pub fn body(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.size, BASE64.encode(self.root.to_bytes()))
    }

    /// Parses a note text. Refuses extension lines: PushSeal's checkpoints
    /// have none.
    pub fn parse_body(text: &str) -> core::result::Result<Self, CheckpointError> {
        let bad = CheckpointError::Malformed;
        let lines = text.strip_suffix('\n').ok_or(bad("the checkpoint text does not end in a newline"))?;
        let mut lines = lines.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next()) else {
            return Err(bad("a checkpoint has three lines: origin, tree size, root hash"));
        };
        if lines.next().is_some() {
            return Err(bad("a PushSeal checkpoint has no extension lines after its root hash"));
        }
        check_name(origin).map_err(|_| bad("the origin line is empty or has spaces or '+'"))?;
        let canonical = size == "0" || (!size.starts_with('0') && size.bytes().all(|b| b.is_ascii_digit()));
        let size = size
            .parse()
            .ok()
            .filter(|_| canonical)
            .ok_or(bad("the tree size is not a decimal number without leading zeros"))?;
        let root: [u8; 32] = BASE64
            .decode(root)
            .ok()
            .and_then(|r| r.try_into().ok())
            .ok_or(bad("the root hash is not 32 bytes of canonical, padded base64"))?;
        Ok(Self { origin: origin.to_owned(), size, root: Hash256::from_bytes(root) })
    }
}

/// A log's signing key: an Ed25519 key and the log's name (the checkpoint
/// origin). Its own key, never the sealing key. Wiped when dropped; its
/// `Debug` shows only the name.
///
/// Its text form is that of Go's `sumdb/note` signer keys,
/// `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || 32-byte seed)>`.
pub struct LogSigningKey {
    name: String,
    key: SigningKey,
}

impl fmt::Debug for LogSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogSigningKey").field("name", &self.name).field("key", &"<redacted>").finish()
    }
}

impl LogSigningKey {
    /// A new key for the log named `origin` (a schema-less URL such as
    /// `audit.example.com/pushseal`, without spaces or `+`).
    pub fn generate(origin: &str) -> Result<Self> {
        check_name(origin)?;
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut()).map_err(|_| Error::Randomness)?;
        Ok(Self { name: origin.to_owned(), key: SigningKey::from_bytes(&seed) })
    }

    /// The log's name: the origin of its checkpoints.
    pub fn origin(&self) -> &str {
        &self.name
    }

    /// The key that checks this key's checkpoints.
    pub fn verifier_key(&self) -> LogVerifierKey {
        LogVerifierKey(NoteKey::new(&self.name, TYPE_ED25519, self.key.verifying_key()))
    }

    /// The text form of the key, to store as a secret.
    pub fn to_text(&self) -> Zeroizing<String> {
        let id = self.verifier_key().0.id;
        let mut material = Zeroizing::new(Vec::with_capacity(33));
        material.push(TYPE_ED25519);
        material.extend_from_slice(self.key.as_bytes());
        Zeroizing::new(format!("{SIGNER_PREFIX}{}+{id:08x}+{}", self.name, BASE64.encode(&*material)))
    }

    /// Reads the text form (white space around it ignored); the key id must
    /// match the key.
    pub fn from_text(text: &str) -> core::result::Result<Self, CheckpointError> {
        let bad = CheckpointError::BadKey("a log signing key is PRIVATE+KEY+<name>+<8 hex digits>+<base64>");
        let rest = text.trim().strip_prefix(SIGNER_PREFIX).ok_or(bad.clone())?;
        let (name, id, material) = split_key_text(rest).ok_or(bad.clone())?;
        let material = Zeroizing::new(BASE64.decode(material).map_err(|_| bad.clone())?);
        let seed: &[u8; 32] = match material.split_first() {
            Some((&TYPE_ED25519, seed)) => seed.try_into().map_err(|_| bad.clone())?,
            _ => return Err(CheckpointError::BadKey("not an Ed25519 log signing key (type 0x01)")),
        };
        let key = Self { name: name.to_owned(), key: SigningKey::from_bytes(seed) };
        if key.verifier_key().0.id != id {
            return Err(CheckpointError::BadKey("the key id does not match the key (the key text was altered)"));
        }
        Ok(key)
    }

    /// Signs `checkpoint` as a signed note: its body, a blank line and one
    /// signature line, `— <name> base64(key id || Ed25519 signature)`.
    pub fn sign(&self, checkpoint: &Checkpoint) -> String {
        let body = checkpoint.body();
        let signature = self.key.sign(body.as_bytes()).to_bytes();
        let mut blob = Vec::with_capacity(68);
        blob.extend_from_slice(&self.verifier_key().0.id.to_be_bytes());
        blob.extend_from_slice(&signature);
        format!("{body}\n{SIGNATURE_PREFIX}{} {}\n", self.name, BASE64.encode(blob))
    }
}

/// A public key of a signed note: its name, signature type, key id and
/// Ed25519 key.
#[derive(Clone, PartialEq, Eq)]
struct NoteKey {
    name: String,
    kind: u8,
    id: u32,
    key: VerifyingKey,
}

impl NoteKey {
    fn new(name: &str, kind: u8, key: VerifyingKey) -> Self {
        let id = key_id(name, kind, key.as_bytes());
        Self { name: name.to_owned(), kind, id, key }
    }

    /// `<name>+<hex key id>+<base64(type || public key)>`.
    fn to_text(&self) -> String {
        let mut material = vec![self.kind];
        material.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.id, BASE64.encode(material))
    }

    fn parse(text: &str, kind: u8, what: &'static str) -> core::result::Result<Self, CheckpointError> {
        let bad = CheckpointError::BadKey(what);
        let (name, id, material) = split_key_text(text.trim()).ok_or(bad.clone())?;
        let material = BASE64.decode(material).map_err(|_| bad.clone())?;
        let key = match material.split_first() {
            Some((&k, key)) if k == kind => <&[u8; 32]>::try_from(key).map_err(|_| bad.clone())?,
            _ => return Err(bad),
        };
        let key = VerifyingKey::from_bytes(key).map_err(|_| bad.clone())?;
        let parsed = Self::new(name, kind, key);
        if parsed.id != id {
            return Err(CheckpointError::BadKey("the key id does not match the key (the key text was altered)"));
        }
        Ok(parsed)
    }
}

/// `SHA-256(name || 0x0A || type || public key)[:4]`, big-endian (C2SP
/// `signed-note`, and `tlog-cosignature` for type 0x04).
fn key_id(name: &str, kind: u8, public: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', kind]);
    h.update(public);
    let digest = h.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// Splits `<name>+<8 hex digits>+<base64>`.
fn split_key_text(text: &str) -> Option<(&str, u32, &str)> {
    // base64 may hold '+': the material is everything after the second one.
    let mut parts = text.splitn(3, '+');
    let (name, id, material) = (parts.next()?, parts.next()?, parts.next()?);
    let hex = id.len() == 8 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !hex || check_name(name).is_err() {
        return None;
    }
    Some((name, u32::from_str_radix(id, 16).ok()?, material))
}

/// A key name (and a log origin): not empty, no Unicode white space, no `+`,
/// no control characters.
fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '+' || c.is_control()) {
        return Err(Error::InvalidEncoding(
            "a log name is not empty and has no spaces, '+' or control characters (e.g. audit.example.com/pushseal)",
        ));
    }
    Ok(())
}

/// The key that checks a log's checkpoints: its text form is
/// `<name>+<hex key id>+<base64(0x01 || public key)>` (C2SP signed-note
/// verifier key), and the name is the log's origin.
#[derive(Clone, PartialEq, Eq)]
pub struct LogVerifierKey(NoteKey);

/// A witness's key, to check its `tlog-cosignature/v1` cosignatures: text
/// form `<name>+<hex key id>+<base64(0x04 || public key)>`.
#[derive(Clone, PartialEq, Eq)]
pub struct WitnessKey(NoteKey);

macro_rules! key_text {
    ($t:ty, $kind:expr, $what:literal) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0.to_text())
            }
        }

        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({self})", stringify!($t))
            }
        }

        impl FromStr for $t {
            type Err = CheckpointError;

            fn from_str(s: &str) -> core::result::Result<Self, CheckpointError> {
                NoteKey::parse(s, $kind, $what).map(Self)
            }
        }

        impl $t {
            /// The key's name.
            pub fn name(&self) -> &str {
                &self.0.name
            }
        }
    };
}

key_text!(LogVerifierKey, TYPE_ED25519, "a log verifier key is <name>+<8 hex digits>+<base64 of 0x01 and 32 bytes>");
key_text!(WitnessKey, TYPE_COSIGNATURE_V1, "a witness key is <name>+<8 hex digits>+<base64 of 0x04 and 32 bytes>");

impl WitnessKey {
    /// The witness key of an Ed25519 public key.
    pub fn new(name: &str, public: [u8; 32]) -> Result<Self> {
        check_name(name)?;
        let key = VerifyingKey::from_bytes(&public).map_err(|_| Error::InvalidEncoding("not an Ed25519 public key"))?;
        Ok(Self(NoteKey::new(name, TYPE_COSIGNATURE_V1, key)))
    }
}

/// A witness's cosignature that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosignature {
    /// The witness's name.
    pub witness: String,
    /// When it cosigned, unix seconds.
    pub time: u64,
}

/// A checkpoint whose log signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    /// The tree head.
    pub checkpoint: Checkpoint,
    /// The cosignatures of the given witnesses that verified.
    pub cosignatures: Vec<Cosignature>,
}

impl LogVerifierKey {
    /// Checks a signed note holding a checkpoint: its format, that its origin
    /// is this key's name, that this key signed it, and the cosignatures of
    /// `witnesses` on it. Signature lines of other keys are ignored (C2SP
    /// signed-note); a line of a known key that does not verify refuses the
    /// whole note. At most [`MAX_SIGNATURES`] lines and [`MAX_NOTE_LEN`] bytes.
    pub fn open(
        &self,
        note: &[u8],
        witnesses: &[WitnessKey],
    ) -> core::result::Result<VerifiedCheckpoint, CheckpointError> {
        let bad = CheckpointError::Malformed;
        if note.len() > MAX_NOTE_LEN {
            return Err(bad("the note is longer than 64 KiB"));
        }
        let note = std::str::from_utf8(note).map_err(|_| bad("the note is not UTF-8"))?;
        if note.chars().any(|c| c.is_ascii_control() && c != '\n') {
            return Err(bad("the note has a control character other than newline"));
        }
        let split = note.rfind("\n\n").ok_or(bad("no blank line between the text and the signatures"))?;
        let (body, signatures) = (&note[..=split], &note[split + 2..]);
        let signatures = signatures.strip_suffix('\n').ok_or(bad("the last signature line has no newline"))?;
        let checkpoint = Checkpoint::parse_body(body)?;
        if checkpoint.origin != self.0.name {
            return Err(CheckpointError::WrongOrigin { expected: self.0.name.clone(), found: checkpoint.origin });
        }
        let mut signed = false;
        let mut cosignatures = Vec::new();
        for (n, line) in signatures.split('\n').enumerate() {
            if n >= MAX_SIGNATURES {
                return Err(bad("more than 100 signature lines"));
            }
            let (name, id, signature) = parse_signature_line(line)?;
            if name == self.0.name && id == self.0.id {
                let sig = signature.get(4..).and_then(|s| <[u8; 64]>::try_from(s).ok());
                let sig = sig.ok_or_else(|| CheckpointError::BadSignature(name.to_owned()))?;
                self.0
                    .key
                    .verify_strict(body.as_bytes(), &Signature::from_bytes(&sig))
                    .map_err(|_| CheckpointError::BadSignature(name.to_owned()))?;
                signed = true;
            } else if let Some(w) = witnesses.iter().find(|w| w.0.name == name && w.0.id == id) {
                let time = verify_cosignature(&w.0, body, &signature)
                    .ok_or_else(|| CheckpointError::BadSignature(name.to_owned()))?;
                if !cosignatures.iter().any(|c: &Cosignature| c.witness == name) {
                    cosignatures.push(Cosignature { witness: name.to_owned(), time });
                }
            }
        }
        if !signed {
            return Err(CheckpointError::NotSigned);
        }
        Ok(VerifiedCheckpoint { checkpoint, cosignatures })
    }
}

/// Splits `— <name> <base64>` into the name, the key id and the decoded
/// signature (key id included).
fn parse_signature_line(line: &str) -> core::result::Result<(&str, u32, Vec<u8>), CheckpointError> {
    let bad = CheckpointError::Malformed("a signature line is \u{2014} <name> <base64>");
    let rest = line.strip_prefix(SIGNATURE_PREFIX).ok_or(bad.clone())?;
    let (name, blob) = rest.split_once(' ').ok_or(bad.clone())?;
    check_name(name).map_err(|_| bad.clone())?;
    let blob = BASE64.decode(blob).map_err(|_| bad.clone())?;
    let id = blob.get(..4).and_then(|b| <[u8; 4]>::try_from(b).ok()).ok_or(bad.clone())?;
    if blob.len() < 5 {
        return Err(bad);
    }
    Ok((name, u32::from_be_bytes(id), blob))
}

/// Checks a `tlog-cosignature/v1` signature (key id, then the 8-byte
/// big-endian timestamp, then Ed25519 over `cosignature/v1\ntime <t>\n` and
/// the note body); returns its time.
fn verify_cosignature(key: &NoteKey, body: &str, blob: &[u8]) -> Option<u64> {
    let time = u64::from_be_bytes(blob.get(4..12)?.try_into().ok()?);
    let sig: [u8; 64] = blob.get(12..)?.try_into().ok()?;
    if time > i64::MAX as u64 {
        return None;
    }
    let message = format!("cosignature/v1\ntime {time}\n{body}");
    key.key.verify_strict(message.as_bytes(), &Signature::from_bytes(&sig)).ok()?;
    Some(time)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> LogSigningKey {
        LogSigningKey { name: "audit.example.com/log".into(), key: SigningKey::from_bytes(&[7; 32]) }
    }

    fn witness(seed: u8, name: &str) -> (SigningKey, WitnessKey) {
        let sk = SigningKey::from_bytes(&[seed; 32]);
        let wk = WitnessKey::new(name, sk.verifying_key().to_bytes()).unwrap();
        (sk, wk)
    }

    fn cosign(sk: &SigningKey, wk: &WitnessKey, body: &str, time: u64) -> String {
        let msg = format!("cosignature/v1\ntime {time}\n{body}");
        let mut blob = wk.0.id.to_be_bytes().to_vec();
        blob.extend_from_slice(&time.to_be_bytes());
        blob.extend_from_slice(&sk.sign(msg.as_bytes()).to_bytes());
        format!("\u{2014} {} {}\n", wk.name(), BASE64.encode(blob))
    }

    #[test]
    fn a_checkpoint_is_the_c2sp_format_byte_for_byte() {
        let key = key();
        let cp = Checkpoint::new(key.origin(), 5, Hash256::from_bytes([0xab; 32]));
        let note = key.sign(&cp);
        let body = "audit.example.com/log\n5\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n";
        assert_eq!(cp.body(), body);
        let (text, sig) = note.split_once("\n\n").unwrap();
        assert_eq!(format!("{text}\n"), body);
        let sig = sig.strip_prefix("\u{2014} audit.example.com/log ").unwrap().strip_suffix('\n').unwrap();
        let blob = BASE64.decode(sig).unwrap();
        assert_eq!(blob.len(), 68);
        let public = key.key.verifying_key().to_bytes();
        let mut id_input = b"audit.example.com/log\n\x01".to_vec();
        id_input.extend_from_slice(&public);
        assert_eq!(blob[..4], Sha256::digest(&id_input)[..4]);
        key.key
            .verifying_key()
            .verify_strict(body.as_bytes(), &Signature::from_bytes(&blob[4..].try_into().unwrap()))
            .unwrap();
        let vkey = key.verifier_key().to_string();
        assert_eq!(
            vkey,
            format!("audit.example.com/log+{}+{}", hex4(&blob[..4]), BASE64.encode([&[1u8][..], &public].concat()))
        );
        assert_eq!(vkey.parse::<LogVerifierKey>().unwrap(), key.verifier_key());
        assert_eq!(key.verifier_key().open(note.as_bytes(), &[]).unwrap().checkpoint, cp);
        let text = key.to_text();
        assert!(text.starts_with(&format!("PRIVATE+KEY+audit.example.com/log+{}+", hex4(&blob[..4]))));
        assert_eq!(LogSigningKey::from_text(&text).unwrap().sign(&cp), note);
        assert!(!format!("{key:?}").contains(&text[40..]));
    }

    fn hex4(b: &[u8]) -> String {
        b.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn unknown_signatures_are_ignored_and_witnesses_checked() {
        let key = key();
        let cp = Checkpoint::new(key.origin(), 9, Hash256::from_bytes([1; 32]));
        let note = key.sign(&cp);
        let body = cp.body();
        let (w1s, w1) = witness(11, "witness.example/one");
        let (w2s, w2) = witness(12, "witness.example/two");
        let mut many = note.clone();
        for i in 0..20u8 {
            let (s, w) = witness(100 + i, &format!("other.example/{i}"));
            many.push_str(&cosign(&s, &w, &body, 1_700_000_000));
        }
        many.push_str(&cosign(&w1s, &w1, &body, 1_700_000_123));
        // Unknown to the verifier: 20 other witnesses, and w2 (not given).
        many.push_str(&cosign(&w2s, &w2, &body, 1_700_000_124));
        let opened = key.verifier_key().open(many.as_bytes(), std::slice::from_ref(&w1)).unwrap();
        assert_eq!(opened.cosignatures, [Cosignature { witness: w1.name().into(), time: 1_700_000_123 }]);
        assert_eq!(opened.checkpoint, cp);
        assert_eq!(key.verifier_key().open(many.as_bytes(), &[w1.clone(), w2.clone()]).unwrap().cosignatures.len(), 2);
        assert_eq!(w1.to_string().parse::<WitnessKey>().unwrap(), w1);
        // A known witness's cosignature over another checkpoint refuses the note.
        let forged = format!("{note}{}", cosign(&w1s, &w1, "audit.example.com/log\n10\nAQ==\n", 5));
        assert_eq!(
            key.verifier_key().open(forged.as_bytes(), &[w1]),
            Err(CheckpointError::BadSignature("witness.example/one".into()))
        );
        // More than 100 lines is refused.
        let mut too_many = note.clone();
        for _ in 0..100 {
            too_many.push_str(&cosign(&w2s, &w2, &body, 1));
        }
        assert!(matches!(key.verifier_key().open(too_many.as_bytes(), &[]), Err(CheckpointError::Malformed(_))));
    }

    #[test]
    fn hostile_notes_are_refused() {
        let key = key();
        let cp = Checkpoint::new(key.origin(), 3, Hash256::from_bytes([2; 32]));
        let note = key.sign(&cp);
        let v = key.verifier_key();
        let other = LogSigningKey { name: "evil.example/log".into(), key: SigningKey::from_bytes(&[8; 32]) };
        let evil = other.sign(&Checkpoint::new("evil.example/log", 3, cp.root));
        assert!(matches!(v.open(evil.as_bytes(), &[]), Err(CheckpointError::WrongOrigin { .. })));
        // Same name, another key: its line is unknown, so nothing is signed.
        let impostor = LogSigningKey { name: key.origin().into(), key: SigningKey::from_bytes(&[9; 32]) };
        assert_eq!(v.open(impostor.sign(&cp).as_bytes(), &[]), Err(CheckpointError::NotSigned));
        let altered = note.replace("\n3\n", "\n4\n");
        assert!(matches!(v.open(altered.as_bytes(), &[]), Err(CheckpointError::BadSignature(_))));
        for bad in [
            note.replace("\n3\n", "\n03\n"),
            note.replace("\n3\n", "\n-3\n"),
            note.replace("\n3\n", "\n99999999999999999999999\n"),
            note.replace("\n3\n", "\n3\next\n"),
            note.replace("=\n\n", "\n\n"),
            note.replace('\u{2014}', "-"),
            note.replace("\n\n", "\n"),
            note.trim_end().to_owned(),
            note.replace("audit.example.com/log\n3", "audit.example.com/log\r\n3"),
            String::new(),
            "\n\n".into(),
            format!("{note}\u{2014} x !!!\n"),
            "x".repeat(MAX_NOTE_LEN + 1),
        ] {
            assert!(v.open(bad.as_bytes(), &[]).is_err(), "{bad:?}");
        }
        assert!(v.open(&[0xff, b'\n', b'\n'], &[]).is_err());
        for bad in [
            "",
            "x+00000000+AQ==",
            "a b+12345678+AQ==",
            &format!("audit.example.com/log+00000000+{}", v.to_string().rsplit_once('+').unwrap().1),
        ] {
            assert!(bad.parse::<LogVerifierKey>().is_err(), "{bad}");
        }
        assert!(v.to_string().parse::<WitnessKey>().is_err(), "a log key is not a witness key");
        assert!(LogSigningKey::generate("has space").is_err());
        assert!(LogSigningKey::from_text("PRIVATE+KEY+x+00000000+AQ==").is_err());
    }
}
