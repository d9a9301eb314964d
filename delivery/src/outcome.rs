//! What became of one message: [`Outcome`], its stable [`OutcomeKind`], and
//! the [`ConfigError`] that stops a run.
//!
//! Every push handed to a client ([`Deliver::deliver`](crate::Deliver::deliver))
//! ends in exactly one outcome. The kinds, their names and what a sender does
//! about each are a stable table (README.md, "Outcome kinds"):
//!
//! | kind            | name            | audit event  | stops the run | what the sender does                          |
//! |-----------------|-----------------|--------------|---------------|-----------------------------------------------|
//! | `Delivered`     | `delivered`     | `sent`       | no            | nothing: the gateway took it                  |
//! | `TokenGone`     | `token_gone`    | `token_gone` | no            | stop pushing to this device token, delete it  |
//! | `Rejected`      | `rejected`      | `rejected`   | no            | fix the message (retrying cannot help)        |
//! | `Failed`        | `failed`        | `failed`     | no            | retried until the policy gave up: send later  |
//! | `Misconfigured` | `misconfigured` | `failed`     | yes           | fix the credentials or the setup it names     |

use core::fmt;

/// What became of one message. Exactly one per message handed to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The gateway accepted the message for delivery.
    Delivered {
        /// The gateway's id for it: APNs `apns-id`, FCM message `name`.
        gateway_id: String,
    },
    /// The device token is no longer valid: stop pushing to it. APNs 410
    /// `Unregistered`, 400 `BadDeviceToken`, 400 `DeviceTokenNotForTopic`;
    /// FCM `UNREGISTERED`, and `INVALID_ARGUMENT` where the detail says the
    /// registration token is invalid.
    TokenGone {
        /// The gateway's reason, as it spelled it (`Unregistered`, `UNREGISTERED`, ...).
        reason: String,
        /// Since when, in unix seconds, where the gateway says (APNs 410's `timestamp`).
        since: Option<u64>,
    },
    /// The gateway refused the message for a reason that retrying cannot fix
    /// (payload too large, bad topic, bad collapse id, bad priority, ...).
    Rejected {
        /// The gateway's reason, as it spelled it (`PayloadTooLarge`, `BadTopic`, ...).
        reason: String,
    },
    /// A failure that may pass (429, 500, 503, `UNAVAILABLE`, `INTERNAL`,
    /// `QUOTA_EXCEEDED`, a lost connection, a timeout), retried with backoff
    /// until the [`RetryPolicy`](crate::RetryPolicy) gave up; or a message a
    /// streamed send sealed but did not send because the run stopped
    /// (reason [`NOT_SENT`], 0 attempts).
    Failed {
        /// The last attempt's reason (`TooManyRequests`, `timeout`, ...), or [`NOT_SENT`].
        reason: String,
        /// Attempts made, at least 1 (0 if the total deadline had passed
        /// before the first, or the message was not sent).
        attempts: u32,
    },
    /// The credentials or the setup are wrong: every other message would fail
    /// the same way, so the run stops. The error names the key id, team or
    /// service account.
    Misconfigured(ConfigError),
}

impl Outcome {
    /// This outcome's kind.
    pub const fn kind(&self) -> OutcomeKind {
        match self {
            Self::Delivered { .. } => OutcomeKind::Delivered,
            Self::TokenGone { .. } => OutcomeKind::TokenGone,
            Self::Rejected { .. } => OutcomeKind::Rejected,
            Self::Failed { .. } => OutcomeKind::Failed,
            Self::Misconfigured(_) => OutcomeKind::Misconfigured,
        }
    }

    /// The outcome as JSON fields: `outcome` (the kind's name) and the
    /// kind's own fields (`gateway_id`; `reason`, `since`; `reason`;
    /// `reason`, `attempts`; `reason`), as `pushseal send` prints them.
    /// Nothing of the notification is in it.
    pub fn to_json(&self) -> serde_json::Value {
        let kind = self.kind().name();
        match self {
            Self::Delivered { gateway_id } => serde_json::json!({ "outcome": kind, "gateway_id": gateway_id }),
            Self::TokenGone { reason, since } => {
                serde_json::json!({ "outcome": kind, "reason": reason, "since": since })
            }
            Self::Rejected { reason } => serde_json::json!({ "outcome": kind, "reason": reason }),
            Self::Failed { reason, attempts } => {
                serde_json::json!({ "outcome": kind, "reason": reason, "attempts": attempts })
            }
            Self::Misconfigured(e) => serde_json::json!({ "outcome": kind, "reason": e.to_string() }),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Delivered { gateway_id } => write!(f, "delivered (gateway id {gateway_id})"),
            Self::TokenGone { reason, since: Some(since) } => {
                write!(f, "device token gone since {since} ({reason}): stop pushing to it")
            }
            Self::TokenGone { reason, since: None } => write!(f, "device token gone ({reason}): stop pushing to it"),
            Self::Rejected { reason } => write!(f, "rejected by the gateway ({reason}): retrying cannot fix it"),
            Self::Failed { reason, attempts } => write!(f, "failed after {attempts} attempt(s): {reason}"),
            Self::Misconfigured(error) => write!(f, "configuration error: {error}"),
        }
    }
}

/// The reason of the [`Outcome::Failed`] of a message that a streamed send
/// ([`seal_and_deliver`](crate::seal_and_deliver)) sealed but never sent,
/// because the run stopped first (a configuration error, an audit log that
/// cannot be written). Send it again once the cause is fixed.
pub const NOT_SENT: &str = "not_sent";

/// The kind of an [`Outcome`]: a stable name, the audit event it is
/// recorded as, and whether it stops a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutcomeKind {
    /// [`Outcome::Delivered`].
    Delivered,
    /// [`Outcome::TokenGone`].
    TokenGone,
    /// [`Outcome::Rejected`].
    Rejected,
    /// [`Outcome::Failed`].
    Failed,
    /// [`Outcome::Misconfigured`].
    Misconfigured,
}

impl OutcomeKind {
    /// Every kind, in the order of the table.
    pub const ALL: [Self; 5] = [Self::Delivered, Self::TokenGone, Self::Rejected, Self::Failed, Self::Misconfigured];

    /// The kind's stable name (`delivered`, `token_gone`, ...), as printed
    /// by `pushseal send`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::TokenGone => "token_gone",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
            Self::Misconfigured => "misconfigured",
        }
    }

    /// The audit log's event for an outcome of this kind.
    pub const fn audit_event(self) -> &'static str {
        match self {
            Self::Delivered => "sent",
            Self::TokenGone => "token_gone",
            Self::Rejected => "rejected",
            Self::Failed | Self::Misconfigured => "failed",
        }
    }

    /// Whether a run stops at an outcome of this kind (only a configuration error does).
    pub const fn stops_run(self) -> bool {
        matches!(self, Self::Misconfigured)
    }
}

impl fmt::Display for OutcomeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A configuration error: credentials or setup that no retry can fix. Each
/// message names what to check (the key id and team, the service account, the
/// file) and never carries key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A credential file cannot be read or is not what it should be.
    #[error("credential {what}: {reason}")]
    Credential {
        /// Which credential, and where (`APNs key file AuthKey_ABC123DEFG.p8`).
        what: String,
        /// What is wrong with it, and what to do.
        reason: String,
    },
    /// APNs refused the provider token signed with this key (403
    /// `InvalidProviderToken`, `MissingProviderToken`, or
    /// `ExpiredProviderToken` again after a fresh token).
    #[error(
        "APNs refused the provider token of key {key_id} (team {team_id}): {reason}; check that the .p8 key, \
         its key id and the team id belong together and that the key is not revoked"
    )]
    ApnsKeyRefused {
        /// The key id (`kid`).
        key_id: String,
        /// The team id (`iss`).
        team_id: String,
        /// APNs' reason.
        reason: String,
    },
    /// FCM or Google's token endpoint refused this service account (an
    /// OAuth2 error, `THIRD_PARTY_AUTH_ERROR`, 401, 403 `PERMISSION_DENIED`).
    #[error(
        "FCM refused service account {account}: {reason}; check that its key is current and that the account may \
         send for the project"
    )]
    ServiceAccountRefused {
        /// The service account's `client_email`.
        account: String,
        /// The gateway's reason.
        reason: String,
    },
    /// The audit log cannot be written: the run stops, since nothing may be
    /// sent that is not on the record.
    #[error("audit log: {0}; check that the log's file system is writable and has room")]
    AuditLog(String),
    /// The TLS setup cannot be made (an unreadable or empty CA file).
    #[error("TLS: {0}")]
    Tls(String),
    /// A setting is not usable (an endpoint that is not a host, a topic that is empty, ...).
    #[error("setting {what}: {reason}")]
    Setting {
        /// The setting.
        what: &'static str,
        /// What is wrong, and what to do.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_have_distinct_stable_names_and_only_configuration_stops() {
        let names: Vec<_> = OutcomeKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(names, ["delivered", "token_gone", "rejected", "failed", "misconfigured"]);
        let stops: Vec<_> = OutcomeKind::ALL.iter().filter(|k| k.stops_run()).collect();
        assert_eq!(stops, [&OutcomeKind::Misconfigured]);
        let events: Vec<_> = OutcomeKind::ALL.iter().map(|k| k.audit_event()).collect();
        assert_eq!(events, ["sent", "token_gone", "rejected", "failed", "failed"]);
    }

    #[test]
    fn configuration_errors_name_what_to_check() {
        let e = ConfigError::ApnsKeyRefused {
            key_id: "ABC123DEFG".into(),
            team_id: "TEAM123456".into(),
            reason: "InvalidProviderToken".into(),
        };
        let text = Outcome::Misconfigured(e).to_string();
        assert!(text.contains("ABC123DEFG") && text.contains("TEAM123456") && text.contains("revoked"), "{text}");
    }
}
