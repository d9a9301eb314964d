//! APNs, as Apple documents it: HTTP/2 over TLS to the production or
//! sandbox host, token authentication with an ES256 provider token, and the
//! answers of `POST /3/device/<token>` mapped to [`Outcome`](crate::Outcome)s.

mod client;
mod reasons;
mod token;

use std::time::Duration;

pub use client::{ApnsClient, ApnsClientBuilder};
pub(crate) use reasons::{Answer, classify};

/// Apple's production host.
pub const PRODUCTION_HOST: &str = "api.push.apple.com";
/// Apple's development (sandbox) host.
pub const SANDBOX_HOST: &str = "api.sandbox.push.apple.com";

/// Where a client sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApnsEndpoint {
    /// `api.push.apple.com:443`: apps from the App Store, TestFlight and
    /// ad-hoc builds.
    Production,
    /// `api.sandbox.push.apple.com:443`: apps built for development.
    Sandbox,
    /// Any host and port, such as a local test gateway (`127.0.0.1`); its
    /// certificate is verified like any other (see [`Trust`](crate::Trust)).
    Host {
        /// A DNS name or an IP address.
        host: String,
        /// The TCP port.
        port: u16,
    },
}

impl ApnsEndpoint {
    /// The host name (or address) and port.
    pub fn host_port(&self) -> (&str, u16) {
        match self {
            Self::Production => (PRODUCTION_HOST, 443),
            Self::Sandbox => (SANDBOX_HOST, 443),
            Self::Host { host, port } => (host, *port),
        }
    }
}

/// When the shared provider token is replaced. Apple accepts a token for up
/// to an hour and refuses refreshes more often than every 20 minutes
/// (`TooManyProviderTokenUpdates`).
pub const DEFAULT_TOKEN_REFRESH: Duration = Duration::from_secs(50 * 60);
/// The shortest refresh period a client accepts.
pub const MIN_TOKEN_REFRESH: Duration = Duration::from_secs(20 * 60);
/// The longest: Apple refuses a token older than an hour (`ExpiredProviderToken`).
pub const MAX_TOKEN_REFRESH: Duration = Duration::from_secs(55 * 60);

/// 16 bytes as an upper-case 8-4-4-4-12 UUID text (an `apns-id`).
pub(crate) fn uuid_text(bytes: &[u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut text = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        // A dash before bytes 4, 6, 8 and 10.
        if matches!(i, 4 | 6 | 8 | 10) {
            text.push('-');
        }
        text.push(char::from(HEX[usize::from(b >> 4)]));
        text.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    text
}
