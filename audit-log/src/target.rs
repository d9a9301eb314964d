//! What a `sealed` record says about the platform a notification was sealed
//! for, read from the target the caller already chose: no sum type to match.

use pushseal::{ApnsOptions, BareEnvelope, FcmOptions, Target};

use crate::record::AuditPlatform;

/// A target an [`AuditLog`](crate::AuditLog) can record sealing for:
/// [`ApnsOptions`], [`FcmOptions`] and [`BareEnvelope`], the core's three
/// [`Target`]s. Only this crate implements it.
pub trait AuditTarget: Target + private::Describe {}

pub(crate) mod private {
    use crate::record::AuditPlatform;

    /// What a `sealed` record takes from a target and its payload; not
    /// nameable outside the crate.
    pub trait Describe: pushseal::Target {
        /// The record's `platform`.
        const PLATFORM: AuditPlatform;
        /// The push token the target itself carries, if any (an FCM message's
        /// `token`; an APNs token belongs in the request's path, which the
        /// caller builds).
        fn token(&self) -> Option<&str>;
        /// The record's `payload_len`: the bytes the gateway gets.
        fn payload_len(payload: &Self::Payload) -> usize;
    }
}

impl AuditTarget for ApnsOptions {}

impl private::Describe for ApnsOptions {
    const PLATFORM: AuditPlatform = AuditPlatform::Apns;

    fn token(&self) -> Option<&str> {
        None
    }

    fn payload_len(request: &pushseal::ApnsRequest) -> usize {
        request.body.len()
    }
}

impl AuditTarget for FcmOptions {}

impl private::Describe for FcmOptions {
    const PLATFORM: AuditPlatform = AuditPlatform::Fcm;

    fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    fn payload_len(message: &pushseal::FcmMessage) -> usize {
        message.json.len()
    }
}

impl AuditTarget for BareEnvelope {}

impl private::Describe for BareEnvelope {
    const PLATFORM: AuditPlatform = AuditPlatform::Envelope;

    fn token(&self) -> Option<&str> {
        None
    }

    fn payload_len(text: &String) -> usize {
        text.len()
    }
}
