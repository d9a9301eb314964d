//! The request a push gateway takes, and what a device reads from a delivered push: APNs and FCM.
//!
//! Each platform's module owns both directions of its payload: the sender's
//! (options to a request) and the device's (a payload to the envelope text
//! inside). Both carry the envelope's text form under one key,
//! `"pushseal"`, and both gateways allow 4096 bytes of payload (SPEC.md
//! section 7). The size of a platform payload depends only on the padded
//! plaintext's bucket and the options, so [`Target::max_plaintext_len`] tells
//! a sender the largest notification that fits before anything is sealed.

pub(crate) mod apns;
pub(crate) mod fcm;
mod json;

use std::borrow::Cow;
use std::collections::HashMap;

pub use json::parse_payload_json;

use crate::encoding::decode_base64;
use crate::envelope::{self, Envelope, EnvelopeHeader, HEADER_LEN};
use crate::envelope_v2;
use crate::keys::KeyId;
use crate::error::{Error, Result};
use crate::hpke::N_T;
use crate::padding::{BUCKETS, padded_len};

/// The key that holds the envelope (base64url) in an APNs payload and in an
/// FCM data map (SPEC.md section 7).
pub(crate) const PAYLOAD_KEY: &str = "pushseal";

/// The size limit of both gateways, in bytes.
pub const GATEWAY_LIMIT: usize = 4096;

/// Where a sealed notification goes, with that platform's options:
/// [`ApnsOptions`](crate::ApnsOptions) (an [`ApnsRequest`](crate::ApnsRequest)),
/// [`FcmOptions`](crate::FcmOptions) (an [`FcmMessage`](crate::FcmMessage)) or
/// [`BareEnvelope`] (the envelope's text, for a transport of the sender's own).
///
/// [`Sender::seal`](crate::Sender::seal) and the batches take any of them and
/// return that platform's payload type, so a caller never matches on what it
/// already chose. Only this crate implements it.
pub trait Target: private::Platform + Clone + Send + Sync {
    /// The longest encoded notification (plaintext JSON, in bytes) that fits
    /// this target with its options: one less than the largest padding
    /// bucket whose payload fits.
    ///
    /// Fails with [`Error::InvalidNotification`] when no bucket fits (APNs
    /// fallback text so long that even the smallest payload is over the
    /// limit): those options can send nothing, and sealing with them fails
    /// the same way.
    fn max_plaintext_len(&self) -> Result<usize> {
        self.max_plaintext_len_for(1)
    }

    /// [`Self::max_plaintext_len`] for envelope `version` 1 or 2 (a version
    /// 2 envelope is 1,152 bytes longer: SPEC.md section 12.6). Any other
    /// version is [`Error::UnsupportedVersion`].
    fn max_plaintext_len_for(&self, version: u8) -> Result<usize> {
        let mut best = None;
        for bucket in BUCKETS {
            let (size, limit) = self.payload_size(envelope_text_len_for(version, bucket)?)?;
            if limit.is_none_or(|l| size <= l) {
                best = Some(bucket - 1);
            }
        }
        // Only APNs options can leave no room: the fallback text is the one
        // part of a payload that grows with an option.
        best.ok_or(Error::InvalidNotification(
            "the APNs fallback title and body leave no room for a notification: with them even the smallest \
             payload (256-byte bucket) is over the gateway's 4096 bytes; shorten them",
        ))
    }
}

pub(crate) mod private {
    use std::borrow::Cow;

    use crate::error::Result;

    /// What a [`Target`](super::Target) does while sealing; not nameable
    /// outside the crate, so only this crate's targets exist.
    pub trait Platform: Sized + Clone {
        /// The payload sealing for this target makes.
        type Payload: Send + 'static;
        /// The size of this target's payload around an envelope whose text
        /// form is `envelope_text_len` characters long, and its limit (if any).
        fn payload_size(&self, envelope_text_len: usize) -> Result<(usize, Option<usize>)>;
        /// The payload around an envelope's text form.
        fn payload(&self, envelope_text: String, ttl: u64, expires_at: u64) -> Result<Self::Payload>;
        /// These options for one device of a batch, with its token, its FCM
        /// installation id and its collapse id.
        fn for_device(&self, token: Option<&str>, fid: Option<&str>, collapse_id: Option<&str>)
        -> Result<Cow<'_, Self>>;
    }
}

/// The bare envelope as base64url text, for a transport of the sender's own:
/// sealing for it gives a `String`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BareEnvelope;

impl Target for BareEnvelope {}

impl private::Platform for BareEnvelope {
    type Payload = String;

    fn payload_size(&self, envelope_text_len: usize) -> Result<(usize, Option<usize>)> {
        Ok((envelope_text_len, None))
    }

    fn payload(&self, envelope_text: String, _ttl: u64, _expires_at: u64) -> Result<String> {
        Ok(envelope_text)
    }

    fn for_device(&self, _token: Option<&str>, _fid: Option<&str>, _collapse_id: Option<&str>) -> Result<Cow<'_, Self>> {
        Ok(Cow::Borrowed(self))
    }
}

/// Checks, before sealing, that a plaintext of `len` bytes fits `target` once
/// padded, in an envelope of `version`.
pub(crate) fn check_fits<T: Target>(target: &T, len: usize, version: u8) -> Result<()> {
    let fits = match padded_len(len) {
        Some(padded) => {
            let (size, limit) = target.payload_size(envelope_text_len_for(version, padded)?)?;
            limit.is_none_or(|l| size <= l)
        }
        None => false,
    };
    if fits {
        Ok(())
    } else {
        Err(Error::PayloadTooLarge { size: len, max_plaintext: target.max_plaintext_len_for(version)? })
    }
}

/// Characters of base64url (no padding) for a version 1 envelope around `padded_len` bytes.
pub(crate) fn envelope_text_len(padded_len: usize) -> usize {
    ((HEADER_LEN + padded_len + N_T) * 4).div_ceil(3)
}

/// Characters of base64url for an envelope of `version` around `padded_len` bytes.
pub(crate) fn envelope_text_len_for(version: u8, padded_len: usize) -> Result<usize> {
    match version {
        envelope::VERSION => Ok(envelope_text_len(padded_len)),
        envelope_v2::VERSION => Ok(((envelope_v2::MIN_LEN + padded_len) * 4).div_ceil(3)),
        other => Err(Error::UnsupportedVersion(other)),
    }
}

/// A payload as the operating system hands it to the app.
#[derive(Debug, Clone, Copy)]
pub enum Payload<'a> {
    /// The APNs `userInfo` dictionary as JSON text (the whole push payload).
    ApnsJson(&'a str),
    /// The FCM data map (`RemoteMessage.data`).
    FcmData(&'a HashMap<String, String>),
    /// The envelope's text form (base64url), from a transport of the app's own.
    Envelope(&'a str),
}

impl<'a> Payload<'a> {
    /// The envelope text inside the payload (SPEC.md section 7.4).
    fn envelope_text(self) -> Result<Cow<'a, str>> {
        match self {
            Payload::Envelope(text) => Ok(text.into()),
            Payload::FcmData(map) => fcm::envelope_text(map).map(Cow::Borrowed),
            Payload::ApnsJson(json) => apns::envelope_text(json).map(Cow::Owned),
        }
    }

    /// The envelope bytes inside the payload. An envelope text longer than
    /// [`envelope_v2::MAX_TEXT_LEN`] (the largest envelope of either
    /// version) is refused ([`Error::EnvelopeTooLarge`]) before it is
    /// decoded (SPEC.md section 12.6).
    pub(crate) fn envelope_bytes(self) -> Result<Vec<u8>> {
        let text = self.envelope_text()?;
        if text.len() > envelope_v2::MAX_TEXT_LEN {
            return Err(Error::EnvelopeTooLarge { size: text.len(), max: envelope_v2::MAX_TEXT_LEN });
        }
        decode_base64(&text, "the envelope is not canonical base64url without padding")
    }

    /// The public header of the version 1 envelope inside and the length of
    /// its padded plaintext, without decrypting anything: what the gateway
    /// can see. A version 2 envelope is [`Error::UnsupportedVersion`] here:
    /// [`Self::summary`] reads both.
    pub fn inspect(self) -> Result<(EnvelopeHeader, usize)> {
        let bytes = self.envelope_bytes()?;
        let env = Envelope::parse(&bytes)?;
        Ok((*env.header(), env.plaintext_len()))
    }

    /// What anyone who sees the envelope inside can read, of either
    /// version, without decrypting anything: its version, key ids and
    /// padded plaintext length.
    pub fn summary(self) -> Result<EnvelopeSummary> {
        let bytes = self.envelope_bytes()?;
        if bytes.first() == Some(&envelope_v2::VERSION) {
            let header = envelope_v2::parse(&bytes)?;
            return Ok(EnvelopeSummary {
                version: envelope_v2::VERSION,
                recipient: header.recipient,
                sender: header.sender,
                padded_len: bytes.len() - envelope_v2::MIN_LEN,
                envelope_len: bytes.len(),
            });
        }
        let env = Envelope::parse(&bytes)?;
        Ok(EnvelopeSummary {
            version: envelope::VERSION,
            recipient: env.header().recipient,
            sender: env.header().sender,
            padded_len: env.plaintext_len(),
            envelope_len: bytes.len(),
        })
    }
}

/// The public part of an envelope of either version ([`Payload::summary`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvelopeSummary {
    /// The format version: 1 (X25519, HPKE mode auth) or 2 (X-Wing, signed).
    pub version: u8,
    /// The key id of the device key it is sealed to.
    pub recipient: KeyId,
    /// The key id of the sender key that sealed (version 1) or signed (version 2) it.
    pub sender: KeyId,
    /// The length of the padded plaintext inside.
    pub padded_len: usize,
    /// The envelope's length in bytes.
    pub envelope_len: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apns_with_title(len: usize) -> apns::ApnsOptions {
        apns::ApnsOptions { fallback_title: "x".repeat(len), ..apns::ApnsOptions::default() }
    }

    #[test]
    fn options_that_leave_no_bucket_are_invalid_not_zero() {
        // SPEC.md section 7.3: an alert body is 64 bytes, the title, and the
        // envelope text (428 characters for the 256-byte bucket).
        assert_eq!(apns_with_title(3604).max_plaintext_len(), Ok(255));
        let err = apns_with_title(3605).max_plaintext_len().unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidNotification);
        assert!(err.to_string().contains("leave no room"), "{err}");
        assert!(!err.to_string().contains(" 0 bytes"), "{err}");
        // Sealing with such options fails the same way, whatever the size.
        for len in [100, 5000] {
            assert_eq!(check_fits(&apns_with_title(3605), len, 1), Err(err.clone()));
        }
        assert!(matches!(
            check_fits(&apns_with_title(3604), 300, 1),
            Err(Error::PayloadTooLarge { size: 300, max_plaintext: 255 })
        ));
        assert_eq!(BareEnvelope.max_plaintext_len(), Ok(2047));
        assert_eq!(fcm::FcmOptions::default().max_plaintext_len(), Ok(2047));
    }
}
