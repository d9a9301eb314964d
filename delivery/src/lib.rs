//! PushSeal delivery: sends what [`pushseal`] seals to APNs and FCM over
//! HTTP/2, and gives every message exactly one typed [`Outcome`].
//!
//! A sender seals with the core ([`pushseal::Sender`]), wraps each sealed
//! payload with its device token in a [`Push`], and hands it to a client that
//! implements [`Deliver`]: [`apns::ApnsClient`] for Apple,
//! [`fcm`] for Google. A client is made once per process and shared by every
//! worker (it is cheap to clone): it keeps the HTTP/2 connections and the one
//! provider or access token they all use, and retries what may pass under its
//! [`RetryPolicy`].
//!
//! [`seal_and_deliver`] seals a batch with the core and delivers it as one
//! stream, with a bounded number of messages in flight;
//! [`seal_and_deliver_audited`] also records each message's `sealed` record
//! (durable before it is sent) and its outcome in a
//! [`pushseal_audit::AuditLog`].
//!
//! Outcomes are a stable table ([`OutcomeKind`]): `delivered`, `token_gone`
//! (stop pushing to that device), `rejected` (retrying cannot fix it),
//! `failed` (retried until the policy gave up) and `misconfigured` (the
//! credentials are wrong: stop the run; the message names the key id or the
//! service account).
//!
//! Credentials ([`ApnsKey`], [`ServiceAccount`]) are secrets: zeroized on
//! drop and redacted in `Debug`. TLS verifies the gateway's certificate
//! against the public roots or an explicit CA file ([`Trust`]); it cannot be
//! turned off.
//!
//! The `gateway` feature adds the `gateway` module: local HTTP/2 gateways that
//! answer as APNs and FCM do, for tests and `pushseal gateway`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod apns;
mod clock;
mod connection;
mod credentials;
pub mod fcm;
#[cfg(feature = "gateway")]
pub mod gateway;
mod outcome;
mod retry;
mod stream;
mod tls;

use std::future::Future;

pub use clock::{Clock, ManualClock, SystemClock};
pub use credentials::{ApnsKey, ServiceAccount};
pub use outcome::{ConfigError, NOT_SENT, Outcome, OutcomeKind};
pub use retry::{RetryPolicy, parse_retry_after};
pub use stream::{DEFAULT_MAX_IN_FLIGHT, Report, Summary, seal_and_deliver, seal_and_deliver_audited};
pub use tls::Trust;

/// One message to deliver: the sealed payload and the device it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push<P> {
    /// The device's push token: the APNs device token (hex), or the FCM
    /// registration token or installation id the message was sealed for.
    pub device: String,
    /// What the core sealed for it ([`pushseal::Sender::seal_for_apns`],
    /// [`pushseal::Sender::seal_for_fcm`], or a batch's result).
    pub sealed: pushseal::Sealed<P>,
}

impl<P> Push<P> {
    /// A push of `sealed` to `device`.
    pub fn new(device: impl Into<String>, sealed: pushseal::Sealed<P>) -> Self {
        Self { device: device.into(), sealed }
    }
}

/// A push gateway client: one sealed message and its device in, one
/// [`Outcome`] out.
///
/// The future always ends in an outcome: retries, token refreshes and lost
/// connections happen inside it. Dropping it before it ends abandons the
/// message (it may or may not have reached the gateway).
pub trait Deliver: Send + Sync {
    /// The sealed payload this gateway takes ([`pushseal::ApnsRequest`] or
    /// [`pushseal::FcmMessage`]).
    type Payload: Send + Sync;

    /// Delivers one message.
    fn deliver(&self, push: &Push<Self::Payload>) -> impl Future<Output = Outcome> + Send;
}
