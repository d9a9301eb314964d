//! FCM HTTP v1, as Google documents it: an OAuth2 access token from a
//! [`ServiceAccount`](crate::ServiceAccount) (the JWT-bearer grant, RS256,
//! scope [`SCOPE`]), shared by all requests, and one
//! `POST /v1/projects/<project>/messages:send` per message.
//!
//! The client is built on the crate's shapes: [`Deliver`](crate::Deliver)
//! with [`pushseal::FcmMessage`] as its payload, [`Outcome`](crate::Outcome),
//! [`RetryPolicy`](crate::RetryPolicy) and [`Trust`](crate::Trust).

/// The OAuth2 scope an access token for sending needs.
pub const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// Google's FCM host.
pub const FCM_HOST: &str = "fcm.googleapis.com";
