//! APNs' answers (Apple's "Handling notification responses from APNs"
//! table of status codes and `reason` strings) and what each means here.

use std::time::Duration;

use crate::outcome::Outcome;

/// What one APNs answer means for the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    /// The message's outcome.
    Final(Outcome),
    /// The provider token is too old: refresh it (once) and try again.
    ExpiredToken,
    /// APNs refused the credentials: a configuration error (the caller names the key).
    Credentials(String),
    /// May pass: retry after the backoff, and at least `retry_after`.
    Retry { reason: String, retry_after: Option<Duration> },
}

/// The meaning of status `status` with the body's `reason` (and, for 410,
/// its `timestamp` in milliseconds).
pub(crate) fn classify(
    status: u16,
    gateway_id: &str,
    reason: Option<&str>,
    timestamp_ms: Option<u64>,
    retry_after: Option<Duration>,
) -> Answer {
    if status == 200 {
        return Answer::Final(Outcome::Delivered { gateway_id: gateway_id.to_owned() });
    }
    let reason = reason.unwrap_or("").to_owned();
    let named = if reason.is_empty() { format!("HTTP {status}") } else { reason.clone() };
    match (status, reason.as_str()) {
        (410, _) | (400, "BadDeviceToken" | "DeviceTokenNotForTopic") => {
            Answer::Final(Outcome::TokenGone { reason: named, since: timestamp_ms.map(|ms| ms / 1000) })
        }
        (403, "ExpiredProviderToken") => Answer::ExpiredToken,
        // Every other 403 is about the credentials (a bad, missing or
        // revoked key, a key for another team or environment).
        (403, _) => Answer::Credentials(named),
        // The connection sat idle too long (IdleTimeout), the server is busy
        // or going away, or this team refreshed its token too often: all pass.
        (400, "IdleTimeout") | (429, _) | (500..=599, _) => Answer::Retry { reason: named, retry_after },
        // Everything else is about this message (a bad topic, collapse id,
        // priority, expiration, push type, path, a payload too large) or a
        // refusal no retry changes.
        _ => Answer::Final(Outcome::Rejected { reason: named }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(status: u16, reason: &str) -> Answer {
        classify(status, "id", Some(reason), Some(1_700_000_000_123), Some(Duration::from_secs(3)))
    }

    #[test]
    fn every_documented_answer_has_its_meaning() {
        assert_eq!(kind(200, ""), Answer::Final(Outcome::Delivered { gateway_id: "id".into() }));
        assert_eq!(
            kind(410, "Unregistered"),
            Answer::Final(Outcome::TokenGone { reason: "Unregistered".into(), since: Some(1_700_000_000) })
        );
        for r in ["BadDeviceToken", "DeviceTokenNotForTopic"] {
            assert!(matches!(kind(400, r), Answer::Final(Outcome::TokenGone { .. })), "{r}");
        }
        for r in [
            "BadCollapseId",
            "BadExpirationDate",
            "BadMessageId",
            "BadPriority",
            "BadTopic",
            "DuplicateHeaders",
            "InvalidPushType",
            "MissingDeviceToken",
            "MissingTopic",
            "PayloadEmpty",
            "TopicDisallowed",
        ] {
            assert_eq!(kind(400, r), Answer::Final(Outcome::Rejected { reason: r.into() }), "{r}");
        }
        assert!(matches!(kind(404, "BadPath"), Answer::Final(Outcome::Rejected { .. })));
        assert!(matches!(kind(405, "MethodNotAllowed"), Answer::Final(Outcome::Rejected { .. })));
        assert!(matches!(kind(413, "PayloadTooLarge"), Answer::Final(Outcome::Rejected { .. })));
        assert_eq!(kind(403, "ExpiredProviderToken"), Answer::ExpiredToken);
        for r in ["InvalidProviderToken", "MissingProviderToken", "BadCertificate", "BadCertificateEnvironment"] {
            assert_eq!(kind(403, r), Answer::Credentials(r.into()));
        }
        for (s, r) in [
            (429, "TooManyRequests"),
            (429, "TooManyProviderTokenUpdates"),
            (500, "InternalServerError"),
            (503, "ServiceUnavailable"),
            (503, "Shutdown"),
            (400, "IdleTimeout"),
        ] {
            assert_eq!(kind(s, r), Answer::Retry { reason: r.into(), retry_after: Some(Duration::from_secs(3)) });
        }
    }

    #[test]
    fn an_answer_without_a_reason_is_named_by_its_status() {
        assert_eq!(classify(502, "", None, None, None), Answer::Retry { reason: "HTTP 502".into(), retry_after: None });
        assert_eq!(classify(418, "", None, None, None), Answer::Final(Outcome::Rejected { reason: "HTTP 418".into() }));
    }
}
