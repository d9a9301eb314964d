//! The request a push gateway takes: APNs ([`apns`]) and FCM ([`fcm`]).
//!
//! Both carry the envelope's text form under one key, [`PAYLOAD_KEY`], and
//! both gateways allow 4096 bytes of payload. The size of a platform payload
//! depends only on the padded plaintext's bucket and the options, so
//! [`max_plaintext_len`] can tell a sender the largest notification that fits
//! before anything is sealed.

pub mod apns;
pub mod fcm;

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
        let mut best = 0;
        for bucket in BUCKETS {
            let (size, limit) = self.payload_size(envelope_text_len(bucket))?;
            if limit.is_none_or(|l| size <= l) {
                best = bucket - 1;
            }
        }
        Ok(best)
    }
}

/// The longest encoded notification, in bytes, that fits `target` with its
/// options: one less than the largest padding bucket whose payload fits.
/// A notification's encoded size is the length of its plaintext JSON.
pub fn max_plaintext_len(target: &Target) -> Result<usize> {
    target.max_plaintext_len()
}

/// Characters of base64url (no padding) for an envelope around `padded_len` bytes.
pub(crate) fn envelope_text_len(padded_len: usize) -> usize {
    ((HEADER_LEN + padded_len + N_T) * 4).div_ceil(3)
}
