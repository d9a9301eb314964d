//! FCM HTTP v1, as Google documents it: an OAuth2 access token from a
//! [`ServiceAccount`](crate::ServiceAccount) (the JWT-bearer grant, RS256,
//! scope [`SCOPE`]), shared by all requests, and one
//! `POST /v1/projects/<project>/messages:send` per message.
//!
//! The client ([`FcmClient`]) is built on the crate's shapes:
//! [`Deliver`](crate::Deliver) with [`pushseal::FcmMessage`] as its payload,
//! [`Outcome`], [`RetryPolicy`](crate::RetryPolicy) and
//! [`Trust`](crate::Trust).
//!
//! FCM's errors and their outcomes:
//!
//! | FCM error (`FcmError.errorCode`, else `status`)   | HTTP | outcome |
//! |---------------------------------------------------|------|---------|
//! | `UNREGISTERED`                                    | 404  | `TokenGone` |
//! | `INVALID_ARGUMENT`, the detail naming the token (`message.token`, `message.fid`) | 400 | `TokenGone` |
//! | `INVALID_ARGUMENT`, anything else                 | 400  | `Rejected` |
//! | `SENDER_ID_MISMATCH`                              | 403  | `Rejected` (the token belongs to another project: not deleted, since a wrong project would otherwise delete every token) |
//! | `QUOTA_EXCEEDED`, `RESOURCE_EXHAUSTED`            | 429  | retried (honouring `Retry-After`), then `Failed` |
//! | `UNAVAILABLE`, `INTERNAL`, any 5xx                | 5xx  | retried, then `Failed` |
//! | `UNAUTHENTICATED`                                 | 401  | a new access token, once; then `Misconfigured` |
//! | `THIRD_PARTY_AUTH_ERROR`, `PERMISSION_DENIED`, `NOT_FOUND` (the project) | 401, 403, 404 | `Misconfigured`, naming the service account |
//! | the token endpoint refusing the grant (400 `invalid_grant`, 401, 403) | | `Misconfigured`, naming the service account |
//! | any other 4xx                                     | 4xx  | `Rejected` |

mod client;
mod token;

use std::time::Duration;

pub use client::{FcmClient, FcmClientBuilder};

use crate::outcome::Outcome;

/// The OAuth2 scope an access token for sending needs.
pub const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// Google's FCM host.
pub const FCM_HOST: &str = "fcm.googleapis.com";
/// How long before its expiry an access token is replaced (5 minutes), so
/// that no request carries a token that expires on the way.
pub const RENEW_BEFORE_SECS: u64 = 5 * 60;
/// The lifetime an assertion asks for: Google's maximum, one hour.
pub const ASSERTION_LIFETIME_SECS: u64 = 3600;

/// Where an [`FcmClient`] sends messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FcmEndpoint {
    /// `fcm.googleapis.com:443`.
    Google,
    /// Any host and port, such as a local test gateway (`127.0.0.1`); its
    /// certificate is verified like any other (see [`Trust`](crate::Trust)).
    Host {
        /// A DNS name or an IP address.
        host: String,
        /// The TCP port.
        port: u16,
    },
}

impl FcmEndpoint {
    /// The host name (or address) and port.
    pub fn host_port(&self) -> (&str, u16) {
        match self {
            Self::Google => (FCM_HOST, 443),
            Self::Host { host, port } => (host, *port),
        }
    }
}

/// What FCM's answer to one message means.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    /// The message's outcome.
    Final(Outcome),
    /// May pass: try again after the backoff.
    Retry { reason: String, retry_after: Option<Duration> },
    /// 401 `UNAUTHENTICATED`: the access token was refused.
    Unauthenticated(String),
    /// The service account may not send: stop the run.
    Credentials(String),
}

/// Maps FCM's answer (`status` and JSON `body`) to what it means.
pub(crate) fn classify(status: u16, body: &[u8], retry_after: Option<Duration>) -> Answer {
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    if status == 200 {
        return match json.as_ref().and_then(|j| j.get("name")?.as_str()) {
            Some(name) => Answer::Final(Outcome::Delivered { gateway_id: name.to_owned() }),
            None => Answer::Final(Outcome::Delivered { gateway_id: String::new() }),
        };
    }
    let error = json.as_ref().and_then(|j| j.get("error"));
    let text = |name: &str| error.and_then(|e| e.get(name)?.as_str()).unwrap_or_default().to_owned();
    let (message, rpc_status) = (text("message"), text("status"));
    let details = error.and_then(|e| e.get("details")?.as_array().cloned()).unwrap_or_default();
    let fcm_code = of_type(&details, "google.firebase.fcm.v1.FcmError")
        .find_map(|d| d.get("errorCode")?.as_str().map(str::to_owned))
        .filter(|c| c != "UNSPECIFIED_ERROR");
    let code = fcm_code.unwrap_or_else(|| if rpc_status.is_empty() { format!("HTTP {status}") } else { rpc_status });
    let with_message = |code: &str| if message.is_empty() { code.to_owned() } else { format!("{code}: {message}") };
    match code.as_str() {
        "UNREGISTERED" => Answer::Final(Outcome::TokenGone { reason: code, since: None }),
        "INVALID_ARGUMENT" => {
            let names_the_device = of_type(&details, "google.rpc.BadRequest")
                .filter_map(|d| d.get("fieldViolations")?.as_array().cloned())
                .flatten()
                .any(|v| matches!(v.get("field").and_then(|f| f.as_str()), Some("message.token" | "message.fid")));
            if names_the_device {
                Answer::Final(Outcome::TokenGone { reason: code, since: None })
            } else {
                Answer::Final(Outcome::Rejected { reason: with_message(&code) })
            }
        }
        "SENDER_ID_MISMATCH" => Answer::Final(Outcome::Rejected { reason: with_message(&code) }),
        "QUOTA_EXCEEDED" | "RESOURCE_EXHAUSTED" | "UNAVAILABLE" | "INTERNAL" => {
            Answer::Retry { reason: code, retry_after }
        }
        "THIRD_PARTY_AUTH_ERROR" | "PERMISSION_DENIED" | "NOT_FOUND" => Answer::Credentials(with_message(&code)),
        "UNAUTHENTICATED" => Answer::Unauthenticated(with_message(&code)),
        _ => match status {
            401 => Answer::Unauthenticated(with_message(&code)),
            403 => Answer::Credentials(with_message(&code)),
            429 | 500..=599 => Answer::Retry { reason: code, retry_after },
            _ => Answer::Final(Outcome::Rejected { reason: with_message(&code) }),
        },
    }
}

/// The details of a `google.rpc.Status` whose `@type` ends in `suffix`.
fn of_type<'a>(details: &'a [serde_json::Value], suffix: &'a str) -> impl Iterator<Item = &'a serde_json::Value> {
    details.iter().filter(move |d| d.get("@type").and_then(|t| t.as_str()).is_some_and(|t| t.ends_with(suffix)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fcm_error(status: u16, rpc: &str, code: &str, extra: &str) -> Vec<u8> {
        format!(
            r#"{{"error":{{"code":{status},"message":"m","status":"{rpc}","details":[{{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"{code}"}}{extra}]}}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn errors_map_to_outcomes_as_the_table_says() {
        let gone = |reason: &str| Answer::Final(Outcome::TokenGone { reason: reason.into(), since: None });
        assert_eq!(classify(404, &fcm_error(404, "NOT_FOUND", "UNREGISTERED", ""), None), gone("UNREGISTERED"));
        let bad_token = r#",{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.token","description":"Invalid registration token"}]}"#;
        let invalid = fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", bad_token);
        assert_eq!(classify(400, &invalid, None), gone("INVALID_ARGUMENT"));
        let other =
            r#",{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.data"}]}"#;
        let rejected = classify(400, &fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", other), None);
        assert_eq!(rejected, Answer::Final(Outcome::Rejected { reason: "INVALID_ARGUMENT: m".into() }));
        let wait = Some(Duration::from_secs(7));
        let quota = classify(429, &fcm_error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", ""), wait);
        assert_eq!(quota, Answer::Retry { reason: "QUOTA_EXCEEDED".into(), retry_after: wait });
        for (status, rpc, code) in [(503, "UNAVAILABLE", "UNAVAILABLE"), (500, "INTERNAL", "INTERNAL")] {
            assert_eq!(
                classify(status, &fcm_error(status, rpc, code, ""), None),
                Answer::Retry { reason: code.into(), retry_after: None }
            );
        }
        let auth = classify(401, &fcm_error(401, "UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR", ""), None);
        assert_eq!(auth, Answer::Credentials("THIRD_PARTY_AUTH_ERROR: m".into()));
        let unauth = classify(401, br#"{"error":{"code":401,"message":"m","status":"UNAUTHENTICATED"}}"#, None);
        assert_eq!(unauth, Answer::Unauthenticated("UNAUTHENTICATED: m".into()));
        let mismatch = classify(403, &fcm_error(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH", ""), None);
        assert_eq!(mismatch, Answer::Final(Outcome::Rejected { reason: "SENDER_ID_MISMATCH: m".into() }));
        assert_eq!(classify(502, b"<html>", None), Answer::Retry { reason: "HTTP 502".into(), retry_after: None });
        assert_eq!(
            classify(200, br#"{"name":"projects/p/messages/1"}"#, None),
            Answer::Final(Outcome::Delivered { gateway_id: "projects/p/messages/1".into() })
        );
    }
}
