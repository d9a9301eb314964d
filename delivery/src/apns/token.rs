//! The provider token: one ES256 JWT for every connection and worker of a
//! process, replaced after the refresh period (50 minutes by default) and
//! never sooner than 20 minutes after it was made, since Apple answers
//! `TooManyProviderTokenUpdates` to a team that refreshes more often.
//!
//! Apple counts refreshes per team, across servers. With a fleet store
//! (feature `postgres`, [`ApnsClientBuilder::share_token_through`](super::ApnsClientBuilder::share_token_through))
//! the token is one per key for the whole fleet: it lives in the audit
//! database as a shared value (`pushseal_audit::PgStore::shared_value`),
//! made by whichever worker finds it stale first, under a lock, and read by
//! every other. Each process still keeps its copy and asks the database
//! only when that copy is past its period, so the database sees one read
//! per process and period.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use super::MIN_TOKEN_REFRESH;
use crate::clock::Clock;
use crate::credentials::ApnsKey;

/// A provider token and when it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProviderToken {
    /// `bearer <JWT>`, the `authorization` header's value.
    pub header: Arc<str>,
    /// The JWT's `iat`.
    pub issued_at: u64,
}

/// Why a refused token cannot be replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NoToken {
    /// The refused token is younger than 20 minutes; seconds since it was made.
    TooSoon { age_secs: u64 },
    /// The fleet's store could not be read or written (a retryable failure).
    Fleet(String),
}

/// The one provider token of a key, shared by every connection (and, with a
/// fleet store, by every process of the fleet).
pub(crate) struct ProviderTokens {
    key: Arc<ApnsKey>,
    clock: Arc<dyn Clock>,
    refresh_after: Duration,
    #[cfg(feature = "postgres")]
    fleet: Option<Arc<pushseal_audit::PgStore>>,
    /// The current token, read by every request without waiting in turn.
    current: RwLock<Option<ProviderToken>>,
    /// Held while a token is made, or read from the fleet, so that one task
    /// of the process does it.
    making: tokio::sync::Mutex<()>,
}

impl ProviderTokens {
    pub(crate) fn new(key: ApnsKey, clock: Arc<dyn Clock>, refresh_after: Duration) -> Self {
        Self {
            key: Arc::new(key),
            clock,
            refresh_after,
            #[cfg(feature = "postgres")]
            fleet: None,
            current: RwLock::new(None),
            making: tokio::sync::Mutex::new(()),
        }
    }

    /// Shares the token through `store` with every process that uses it.
    #[cfg(feature = "postgres")]
    pub(crate) fn with_fleet(mut self, store: Option<Arc<pushseal_audit::PgStore>>) -> Self {
        self.fleet = store;
        self
    }

    pub(crate) fn key(&self) -> &ApnsKey {
        &self.key
    }

    /// The token to send now: the current one, or a new one if there is none
    /// or it is past the refresh period.
    /// With a fleet store that fails, the reason (a retryable failure).
    pub(crate) async fn current(&self) -> Result<ProviderToken, String> {
        let now = self.clock.now();
        let fresh = |token: &ProviderToken| now.saturating_sub(token.issued_at) < self.refresh_after.as_secs();
        if let Some(token) = self.read().filter(fresh) {
            return Ok(token);
        }
        let _making = self.making.lock().await;
        // Another task may have made one meanwhile.
        match self.read().filter(fresh) {
            Some(token) => Ok(token),
            None => self.make(now, None).await,
        }
    }

    /// APNs answered `ExpiredProviderToken` to `refused`: the token to try
    /// again with. A new one if `refused` is still current and at least 20
    /// minutes old; the current one if another request (or, with a fleet
    /// store, another process) already replaced it; [`NoToken::TooSoon`] if
    /// `refused` is younger than 20 minutes (the server's clock is wrong, or
    /// APNs was told of another token for this key).
    pub(crate) async fn replace_refused(&self, refused: &ProviderToken) -> Result<ProviderToken, NoToken> {
        let now = self.clock.now();
        let _making = self.making.lock().await;
        match self.read() {
            Some(token) if &token != refused => Ok(token),
            _ => {
                let age_secs = now.saturating_sub(refused.issued_at);
                if age_secs < MIN_TOKEN_REFRESH.as_secs() {
                    return Err(NoToken::TooSoon { age_secs });
                }
                self.make(now, Some(refused)).await.map_err(NoToken::Fleet)
            }
        }
    }

    fn read(&self) -> Option<ProviderToken> {
        self.current.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// A token for `now`, made the current one: the fleet's, unless it is
    /// `refused` or past its period, else a new one (stored for the fleet).
    /// Called with `making` held.
    #[cfg_attr(not(feature = "postgres"), allow(clippy::unused_async))]
    async fn make(&self, now: u64, refused: Option<&ProviderToken>) -> Result<ProviderToken, String> {
        #[cfg(feature = "postgres")]
        if let Some(store) = &self.fleet {
            let token = fleet::token(store, &self.key, now, self.refresh_after, refused).await?;
            return Ok(self.keep(token));
        }
        let _ = refused;
        let token = ProviderToken { header: format!("bearer {}", self.key.provider_token(now)).into(), issued_at: now };
        Ok(self.keep(token))
    }

    /// `token` as the current one.
    fn keep(&self, token: ProviderToken) -> ProviderToken {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Some(token.clone());
        token
    }
}

#[cfg(feature = "postgres")]
mod fleet {
    use std::sync::Arc;
    use std::time::Duration;

    use pushseal_audit::{PgStore, SharedValue};

    use super::ProviderToken;
    use crate::credentials::ApnsKey;

    /// The shared value's name: one token per team and key.
    fn name(key: &ApnsKey) -> String {
        format!("apns-provider-token/{}/{}", key.team_id(), key.key_id())
    }

    /// The fleet's token: the stored one while it is within its period (and
    /// not `refused`), else one made now and stored for every worker. The
    /// value is `<iat> <JWT>`; it expires when its period ends.
    pub(super) async fn token(
        store: &Arc<PgStore>,
        key: &Arc<ApnsKey>,
        now: u64,
        refresh_after: Duration,
        refused: Option<&ProviderToken>,
    ) -> Result<ProviderToken, String> {
        // A refused token is stale: ask for one that outlives it. Another
        // worker's newer token does; the refused one itself does not.
        let refresh_before = refused.map_or(0, |r| (r.issued_at + refresh_after.as_secs()).saturating_sub(now));
        let (store, key) = (store.clone(), key.clone());
        let value = tokio::task::spawn_blocking(move || {
            store.shared_value(&name(&key), now, refresh_before, || {
                let jwt = key.provider_token(now);
                Ok(SharedValue::new(format!("{now} {jwt}").into_bytes(), now + refresh_after.as_secs()))
            })
        })
        .await
        .map_err(|e| format!("the fleet's provider token could not be read: {e}"))?
        .map_err(|e| format!("the fleet's provider token could not be read: {e}"))?;
        parse(value.value()).ok_or_else(|| "the fleet's stored provider token is not \"<iat> <JWT>\"".to_owned())
    }

    fn parse(value: &[u8]) -> Option<ProviderToken> {
        let text = std::str::from_utf8(value).ok()?;
        let (iat, jwt) = text.split_once(' ')?;
        let valid = !jwt.is_empty() && jwt.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        let issued_at = iat.parse().ok()?;
        valid.then(|| ProviderToken { header: format!("bearer {jwt}").into(), issued_at })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn tokens(clock: &ManualClock) -> ProviderTokens {
        let key = ApnsKey::from_p8_pem(&crate::credentials::test_p8(), "ABC123DEFG", "TEAM123456").unwrap();
        ProviderTokens::new(key, Arc::new(clock.clone()), super::super::DEFAULT_TOKEN_REFRESH)
    }

    #[tokio::test]
    async fn one_token_until_fifty_minutes_then_a_new_one() {
        let clock = ManualClock::new(1_000_000);
        let t = tokens(&clock);
        let first = t.current().await.unwrap();
        clock.advance(49 * 60 + 59);
        assert_eq!(t.current().await.unwrap(), first);
        clock.advance(1);
        let second = t.current().await.unwrap();
        assert_ne!(second, first);
        assert_eq!(second.issued_at, 1_000_000 + 50 * 60);
    }

    #[tokio::test]
    async fn a_refused_token_is_replaced_once_and_never_before_twenty_minutes() {
        let clock = ManualClock::new(1_000_000);
        let t = tokens(&clock);
        let first = t.current().await.unwrap();
        clock.advance(19 * 60);
        assert_eq!(t.replace_refused(&first).await, Err(NoToken::TooSoon { age_secs: 19 * 60 }));
        clock.advance(60);
        let fresh = t.replace_refused(&first).await.unwrap();
        assert_ne!(fresh, first);
        // A second worker refused with the same old token gets the fresh one, not a third.
        assert_eq!(t.replace_refused(&first).await, Ok(fresh.clone()));
        assert_eq!(t.current().await.unwrap(), fresh);
    }
}
