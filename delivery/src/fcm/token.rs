//! The OAuth2 access token: one for every request of a client, from the
//! JWT-bearer grant (RFC 7523) with an RS256 assertion the service account
//! signs, renewed [`RENEW_BEFORE_SECS`] before it expires, by one request at
//! a time.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use bytes::Bytes;

use super::{ASSERTION_LIFETIME_SECS, RENEW_BEFORE_SECS, SCOPE};
use crate::clock::Clock;
use crate::connection::{NoAnswer, Pool};
use crate::credentials::ServiceAccount;
use crate::outcome::ConfigError;
use crate::retry::parse_retry_after;

/// An access token and when it expires.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct AccessToken {
    /// `Bearer <token>`, the `authorization` header's value.
    pub header: Arc<str>,
    /// Unix seconds.
    pub expires_at: u64,
}

/// Why no access token could be had.
#[derive(Debug)]
pub(crate) enum TokenError {
    /// The token endpoint refused the service account: stop the run.
    Refused(ConfigError),
    /// A failure that may pass (the endpoint unreachable, 5xx, 429).
    Retry { reason: String, retry_after: Option<Duration> },
}

/// The access token of a service account, shared by every request.
pub(crate) struct AccessTokens {
    account: ServiceAccount,
    clock: Arc<dyn Clock>,
    endpoint: Pool,
    /// The path (and query) of the token URI.
    path: String,
    current: RwLock<Option<AccessToken>>,
    /// Held while a new token is fetched: one refresh at a time.
    refreshing: tokio::sync::Mutex<()>,
}

impl AccessTokens {
    pub fn new(account: ServiceAccount, clock: Arc<dyn Clock>, endpoint: Pool, path: String) -> Self {
        Self { account, clock, endpoint, path, current: RwLock::new(None), refreshing: tokio::sync::Mutex::new(()) }
    }

    pub fn account(&self) -> &ServiceAccount {
        &self.account
    }

    fn cached(&self) -> Option<AccessToken> {
        let now = self.clock.now();
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        current.as_ref().filter(|t| t.expires_at > now.saturating_add(RENEW_BEFORE_SECS)).cloned()
    }

    /// The token to send now: the cached one while it has more than
    /// [`RENEW_BEFORE_SECS`] to live, else a new one (fetched once for all
    /// the requests waiting for it).
    pub async fn current(&self) -> Result<AccessToken, TokenError> {
        if let Some(token) = self.cached() {
            return Ok(token);
        }
        let _one_at_a_time = self.refreshing.lock().await;
        if let Some(token) = self.cached() {
            return Ok(token);
        }
        let token = self.fetch().await?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Some(token.clone());
        Ok(token)
    }

    /// FCM answered 401 to `refused`: forget it, unless another request has
    /// already replaced it.
    pub fn forget(&self, refused: &AccessToken) {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        if current.as_ref() == Some(refused) {
            *current = None;
        }
    }

    fn refused(&self, reason: String) -> TokenError {
        TokenError::Refused(ConfigError::ServiceAccountRefused {
            account: self.account.client_email().to_owned(),
            reason,
        })
    }

    /// The JWT-bearer grant: POST the signed assertion to the token URI.
    async fn fetch(&self) -> Result<AccessToken, TokenError> {
        let now = self.clock.now();
        let claims = serde_json::json!({
            "iss": self.account.client_email(),
            "scope": SCOPE,
            "aud": self.account.token_uri(),
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_SECS,
        });
        let assertion = self.account.sign_assertion(&claims);
        // The assertion is base64url and dots: nothing to escape in a form.
        let form = format!("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={assertion}");
        let request = http::Request::builder()
            .method(http::Method::POST)
            .uri(format!("https://{}{}", self.endpoint.origin.authority, self.path))
            .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(())
            .map_err(|e| self.refused(format!("its token_uri cannot be requested: {e}")))?;
        let reply = match self.endpoint.exchange(request, Bytes::from(form)).await {
            Ok(reply) => reply,
            Err(NoAnswer::Config(e)) => return Err(TokenError::Refused(e)),
            Err(NoAnswer::Unprocessed(r) | NoAnswer::Connect(r) | NoAnswer::Lost(r)) => {
                return Err(TokenError::Retry { reason: format!("token endpoint: {r}"), retry_after: None });
            }
        };
        let json: Option<serde_json::Value> = serde_json::from_slice(&reply.body).ok();
        let text = |name: &str| json.as_ref().and_then(|j| j.get(name)).and_then(|v| v.as_str()).map(str::to_owned);
        match reply.status {
            200 => {
                let (Some(token), Some(expires_in)) =
                    (text("access_token"), json.as_ref().and_then(|j| j.get("expires_in")?.as_u64()))
                else {
                    return Err(TokenError::Retry {
                        reason: "token endpoint: 200 without access_token and expires_in".into(),
                        retry_after: None,
                    });
                };
                if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(TokenError::Retry {
                        reason: "token endpoint: an access token that cannot be sent".into(),
                        retry_after: None,
                    });
                }
                Ok(AccessToken { header: format!("Bearer {token}").into(), expires_at: now.saturating_add(expires_in) })
            }
            429 | 500..=599 => Err(TokenError::Retry {
                reason: format!("token endpoint answered {}", reply.status),
                retry_after: reply
                    .headers
                    .get(http::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, SystemTime::now())),
            }),
            status => {
                let error = text("error").unwrap_or_else(|| "no error given".into());
                let description = text("error_description").map(|d| format!(" ({d})")).unwrap_or_default();
                Err(self.refused(format!("the token endpoint refused the grant: {status} {error}{description}")))
            }
        }
    }
}
