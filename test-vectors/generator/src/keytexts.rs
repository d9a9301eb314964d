//! Key texts: the text forms of SPEC.md section 3.1 that a reader must take
//! (with the four characters of key-text white space around them) and those
//! it must refuse, all with `invalid_encoding` (section 9: a key text of any
//! wrong length is that kind, never `invalid_key_length`); and receipt texts
//! (section 10.1), which a reader trims by the same rule.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pushseal::keys::SECRET_KEY_PREFIX;
use pushseal::{ErrorKind, Receipt, SenderPublicKey, SenderSecretKey};
use serde::Serialize;

use crate::fixture;
use crate::{Error, Result, ensure};

/// The description at the top of `key-texts.json`.
pub const DESCRIPTION: &str = "PushSeal key texts (SPEC.md section 3.1): each text, read as a public key or a secret \
key, must give expected_public_key (the canonical base64url of the public key) or fail with expected_error; read \
as a receipt (role receipt), must match receipt_digest or fail with expected_error. Schema: test-vectors/README.md.";

/// One key-text vector.
#[derive(Serialize)]
pub struct KeyTextJson {
    name: String,
    description: String,
    /// `public` (read as a sender public key), `secret` (a sender secret key)
    /// or `receipt` (a delivery receipt, checked against `receipt_digest`).
    role: &'static str,
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    receipt_digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_public_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_receipt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_error: Option<&'static str>,
}

/// Every key-text vector, each checked against the `pushseal` crate.
pub fn vectors() -> Result<Vec<KeyTextJson>> {
    let key = fixture::sender("sender-a");
    let public = key.public_key().to_base64();
    let secret = key.to_secret_text().as_str().to_owned();
    let body = &secret[SECRET_KEY_PREFIX.len()..];
    let pk_bytes = key.public_key().to_bytes();
    let wrong = |n: usize| URL_SAFE_NO_PAD.encode(&pk_bytes.repeat(2)[..n]);
    // The last of 43 characters carries 2 unused bits, zero in the canonical
    // text; setting the lowest gives a non-canonical text of the same bytes.
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut trailing_bits = public.clone().into_bytes();
    let last = trailing_bits.last_mut().ok_or_else(|| Error::new("empty public key text"))?;
    let char = *last;
    let index = ALPHABET.iter().position(|&c| c == char).ok_or_else(|| Error::new("not base64url"))?;
    *last = ALPHABET[index | 1];
    let trailing_bits = String::from_utf8(trailing_bits).map_err(|_| Error::new("UTF-8"))?;

    let accepted: Vec<(&str, &str, &'static str, String)> = vec![
        ("public-canonical", "The 43 characters alone.", "public", public.clone()),
        (
            "public-all-four-white-space-around",
            "Space, tab, carriage return and line feed before and after: the four characters a reader ignores.",
            "public",
            format!(" \t\r\n{public}\r\n\t "),
        ),
        ("secret-key-file", "A key file: the text and a newline.", "secret", format!("{secret}\n")),
        ("secret-crlf-around", "CR LF before and after.", "secret", format!("\r\n{secret}\r\n")),
    ];
    let refused: Vec<(&str, &str, &'static str, String)> = vec![
        ("public-no-break-space-after", "U+00A0 after the text.", "public", format!("{public}\u{a0}")),
        ("public-vertical-tab-before", "U+000B before the text.", "public", format!("\u{b}{public}")),
        ("public-form-feed-after", "U+000C after the text.", "public", format!("{public}\u{c}")),
        ("public-next-line-after", "U+0085 after the text.", "public", format!("{public}\u{85}")),
        ("public-ideographic-space-after", "U+3000 after the text.", "public", format!("{public}\u{3000}")),
        (
            "public-space-inside",
            "A space between the 21st and 22nd characters.",
            "public",
            format!("{} {}", &public[..21], &public[21..]),
        ),
        (
            "public-44-characters-33-bytes",
            "44 characters of canonical base64url, which decode to 33 bytes: text of the wrong form, not a key of \
             the wrong length.",
            "public",
            wrong(33),
        ),
        (
            "public-42-characters-31-bytes",
            "42 characters of canonical base64url, which decode to 31 bytes.",
            "public",
            wrong(31),
        ),
        ("public-empty", "The empty text.", "public", String::new()),
        ("public-white-space-only", "A line feed alone.", "public", "\n".to_owned()),
        ("public-padding", "The text with a \"=\" after it.", "public", format!("{public}=")),
        ("public-trailing-bits", "The last character's unused bits are not zero.", "public", trailing_bits),
        ("public-secret-key-text", "A secret key's text where a public key is expected.", "public", secret.clone()),
        ("secret-no-break-space-after", "U+00A0 after a secret key text.", "secret", format!("{secret}\u{a0}")),
        ("secret-no-prefix", "The 43 characters without the prefix.", "secret", body.to_owned()),
        (
            "secret-prefix-uppercase",
            "The prefix in capitals.",
            "secret",
            format!("{}{body}", SECRET_KEY_PREFIX.to_uppercase()),
        ),
        (
            "secret-44-characters-33-bytes",
            "The prefix and 44 characters of canonical base64url (33 bytes).",
            "secret",
            format!("{SECRET_KEY_PREFIX}{}", wrong(33)),
        ),
        (
            "secret-space-after-prefix",
            "A space between the prefix and the key.",
            "secret",
            format!("{SECRET_KEY_PREFIX} {body}"),
        ),
    ];

    let read = |role: &str, text: &str| -> pushseal::Result<String> {
        Ok(match role {
            "public" => text.parse::<SenderPublicKey>()?.to_base64(),
            _ => SenderSecretKey::from_secret_text(text)?.public_key().to_base64(),
        })
    };
    let mut out = Vec::new();
    for (name, description, role, text) in accepted {
        let got = read(role, &text);
        ensure(got.as_ref() == Ok(&public), || format!("key text {name}: {got:?}"))?;
        out.push(KeyTextJson {
            name: name.to_owned(),
            description: description.to_owned(),
            role,
            text,
            receipt_digest: None,
            expected_public_key: Some(public.clone()),
            expected_receipt: None,
            expected_error: None,
        });
    }
    let kind = ErrorKind::InvalidEncoding;
    for (name, description, role, text) in refused {
        let got = read(role, &text).err().map(|e| e.kind());
        ensure(got == Some(kind), || format!("key text {name}: expected {kind}, got {got:?}"))?;
        out.push(KeyTextJson {
            name: name.to_owned(),
            description: description.to_owned(),
            role,
            text,
            receipt_digest: None,
            expected_public_key: None,
            expected_receipt: None,
            expected_error: Some(kind.name()),
        });
    }
    out.extend(receipt_vectors()?);
    Ok(out)
}

/// Receipt texts (SPEC.md section 10.1), trimmed by the rule of section 3.1.
fn receipt_vectors() -> Result<Vec<KeyTextJson>> {
    let seed = fixture::seed("receipt key-texts");
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&seed[..16]);
    let receipt = Receipt::from_bytes(bytes);
    let canonical = receipt.to_string();
    let digest = receipt.digest().to_string();
    let vectors: [(&str, &str, String, bool); 6] = [
        ("receipt-canonical", "The 22 characters alone.", canonical.clone(), true),
        (
            "receipt-all-four-white-space-around",
            "Space, tab, carriage return and line feed before and after: the four characters a reader ignores, as \
             around a key text.",
            format!(" \t\r\n{canonical}\r\n\t "),
            true,
        ),
        ("receipt-no-break-space-after", "U+00A0 after the text.", format!("{canonical}\u{a0}"), false),
        ("receipt-next-line-after", "U+0085 after the text.", format!("{canonical}\u{85}"), false),
        ("receipt-ideographic-space-before", "U+3000 before the text.", format!("\u{3000}{canonical}"), false),
        ("receipt-vertical-tab-before", "U+000B before the text.", format!("\u{b}{canonical}"), false),
    ];
    let mut out = Vec::new();
    for (name, description, text, fine) in vectors {
        let got = text.parse::<Receipt>().map(|r| r.to_string()).map_err(|e| e.kind());
        let want = if fine { Ok(canonical.clone()) } else { Err(ErrorKind::InvalidEncoding) };
        ensure(got == want, || format!("receipt text {name}: {got:?}"))?;
        out.push(KeyTextJson {
            name: name.to_owned(),
            description: description.to_owned(),
            role: "receipt",
            text,
            receipt_digest: Some(digest.clone()),
            expected_public_key: None,
            expected_receipt: fine.then(|| canonical.clone()),
            expected_error: (!fine).then(|| ErrorKind::InvalidEncoding.name()),
        });
    }
    Ok(out)
}
