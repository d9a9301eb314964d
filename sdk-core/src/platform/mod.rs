//! The request a push gateway takes: APNs ([`apns`]) and FCM ([`fcm`]).
//!
//! Both carry the envelope's text form under one key, [`PAYLOAD_KEY`], and
//! both gateways allow 4096 bytes of payload. The size of a platform payload
//! depends only on the padded plaintext's bucket and the options, so
//! [`max_plaintext_len`] can tell a sender the largest notification that fits
//! before anything is sealed.

pub mod apns;
pub mod fcm;
mod json;

pub use json::{MAX_DEPTH, parse_payload_json};

use crate::envelope::HEADER_LEN;
use crate::error::{Error, Result};
use crate::hpke::N_T;
use crate::padding::{BUCKETS, padded_len};

/// The key that holds the envelope (base64url) in an APNs payload and in an
/// FCM data map.
pub const PAYLOAD_KEY: &str = "pushseal";

/// The size limit of both gateways, in bytes.
pub const GATEWAY_LIMIT: usize = 4096;

/// Where a sealed notification goes, with that platform's options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The bare envelope, as base64url text, for a transport of the sender's own.
    Envelope,
    /// An APNs request.
    Apns(apns::ApnsOptions),
    /// An FCM HTTP v1 message.
    Fcm(fcm::FcmOptions),
}

impl Target {
    /// The longest encoded notification (plaintext JSON, in bytes) that fits
    /// this target: [`max_plaintext_len`].
    pub fn max_plaintext_len(&self) -> Result<usize> {
        self.borrowed().max_plaintext_len()
    }

    /// The same target, its options borrowed.
    pub(crate) fn borrowed(&self) -> TargetRef<'_> {
        match self {
            Target::Envelope => TargetRef::Envelope,
            Target::Apns(o) => TargetRef::Apns(o),
            Target::Fcm(o) => TargetRef::Fcm(o),
        }
    }
}

/// A [`Target`] whose options are borrowed: what sealing reads, so that a
/// sender's `seal_for_apns` and `seal_for_fcm` need not copy their options.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TargetRef<'a> {
    Envelope,
    Apns(&'a apns::ApnsOptions),
    Fcm(&'a fcm::FcmOptions),
}

impl TargetRef<'_> {
    /// The size of this target's payload around an envelope whose text form
    /// is `envelope_text_len` characters long, and its limit (if any).
    fn payload_size(self, envelope_text_len: usize) -> Result<(usize, Option<usize>)> {
        match self {
            TargetRef::Envelope => Ok((envelope_text_len, None)),
            TargetRef::Apns(o) => Ok((o.overhead()? + envelope_text_len, Some(GATEWAY_LIMIT))),
            TargetRef::Fcm(o) => Ok((o.data_overhead() + envelope_text_len, Some(GATEWAY_LIMIT))),
        }
    }

    /// Checks, before sealing, that a plaintext of `len` bytes fits this
    /// target once padded.
    pub(crate) fn check_fits(self, len: usize) -> Result<()> {
        let fits = match padded_len(len) {
            Some(padded) => {
                let (size, limit) = self.payload_size(envelope_text_len(padded))?;
                limit.is_none_or(|l| size <= l)
            }
            None => false,
        };
        if fits { Ok(()) } else { Err(Error::PayloadTooLarge { size: len, max_plaintext: self.max_plaintext_len()? }) }
    }

    /// See [`Target::max_plaintext_len`].
    fn max_plaintext_len(self) -> Result<usize> {
        let mut best = None;
        for bucket in BUCKETS {
            let (size, limit) = self.payload_size(envelope_text_len(bucket))?;
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

/// The longest encoded notification, in bytes, that fits `target` with its
/// options: one less than the largest padding bucket whose payload fits.
/// A notification's encoded size is the length of its plaintext JSON.
///
/// Fails with [`Error::InvalidNotification`] when no bucket fits (APNs
/// fallback text so long that even the smallest payload is over the limit):
/// those options can send nothing, and sealing with them fails the same way.
pub fn max_plaintext_len(target: &Target) -> Result<usize> {
    target.max_plaintext_len()
}

/// Characters of base64url (no padding) for an envelope around `padded_len` bytes.
pub(crate) fn envelope_text_len(padded_len: usize) -> usize {
    ((HEADER_LEN + padded_len + N_T) * 4).div_ceil(3)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apns_with_title(len: usize) -> Target {
        Target::Apns(apns::ApnsOptions { fallback_title: "x".repeat(len), ..apns::ApnsOptions::default() })
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
            assert_eq!(apns_with_title(3605).borrowed().check_fits(len), Err(err.clone()));
        }
        assert!(matches!(
            apns_with_title(3604).borrowed().check_fits(300),
            Err(Error::PayloadTooLarge { size: 300, max_plaintext: 255 })
        ));
        assert_eq!(Target::Envelope.max_plaintext_len(), Ok(2047));
        assert_eq!(Target::Fcm(fcm::FcmOptions::default()).max_plaintext_len(), Ok(2047));
    }
}
