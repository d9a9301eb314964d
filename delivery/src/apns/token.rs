//! The provider token: one ES256 JWT for every connection and worker of a
//! process, replaced after the refresh period (50 minutes by default) and
//! never sooner than 20 minutes after it was made, since Apple answers
//! `TooManyProviderTokenUpdates` to a team that refreshes more often.

use std::sync::{Arc, Mutex, PoisonError};
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
pub(crate) struct TooSoon {
    /// Seconds since the refused token was made.
    pub age_secs: u64,
}

/// The one provider token of a key, shared by every connection.
pub(crate) struct ProviderTokens {
    key: ApnsKey,
    clock: Arc<dyn Clock>,
    refresh_after: Duration,
    current: Mutex<Option<ProviderToken>>,
}

impl ProviderTokens {
    pub(crate) fn new(key: ApnsKey, clock: Arc<dyn Clock>, refresh_after: Duration) -> Self {
        Self { key, clock, refresh_after, current: Mutex::new(None) }
    }

    pub(crate) fn key(&self) -> &ApnsKey {
        &self.key
    }

    /// The token to send now: the current one, or a new one if there is none
    /// or it is past the refresh period.
    pub(crate) fn current(&self) -> ProviderToken {
        let now = self.clock.now();
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        match &*current {
            Some(token) if now.saturating_sub(token.issued_at) < self.refresh_after.as_secs() => token.clone(),
            _ => self.make(&mut current, now),
        }
    }

    /// APNs answered `ExpiredProviderToken` to `refused`: the token to try
    /// again with. A new one if `refused` is still current and at least 20
    /// minutes old; the current one if another request already replaced
    /// it; [`TooSoon`] if `refused` is younger than 20 minutes (the server's
    /// clock is wrong, or APNs was told of another token for this key).
    pub(crate) fn replace_refused(&self, refused: &ProviderToken) -> Result<ProviderToken, TooSoon> {
        let now = self.clock.now();
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        match &*current {
            Some(token) if token != refused => Ok(token.clone()),
            _ => {
                let age_secs = now.saturating_sub(refused.issued_at);
                if age_secs < MIN_TOKEN_REFRESH.as_secs() {
                    return Err(TooSoon { age_secs });
                }
                Ok(self.make(&mut current, now))
            }
        }
    }

    fn make(&self, slot: &mut Option<ProviderToken>, now: u64) -> ProviderToken {
        let token = ProviderToken { header: format!("bearer {}", self.key.provider_token(now)).into(), issued_at: now };
        *slot = Some(token.clone());
        token
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

    #[test]
    fn one_token_until_fifty_minutes_then_a_new_one() {
        let clock = ManualClock::new(1_000_000);
        let t = tokens(&clock);
        let first = t.current();
        clock.advance(49 * 60 + 59);
        assert_eq!(t.current(), first);
        clock.advance(1);
        let second = t.current();
        assert_ne!(second, first);
        assert_eq!(second.issued_at, 1_000_000 + 50 * 60);
    }

    #[test]
    fn a_refused_token_is_replaced_once_and_never_before_twenty_minutes() {
        let clock = ManualClock::new(1_000_000);
        let t = tokens(&clock);
        let first = t.current();
        clock.advance(19 * 60);
        assert_eq!(t.replace_refused(&first), Err(TooSoon { age_secs: 19 * 60 }));
        clock.advance(60);
        let fresh = t.replace_refused(&first).unwrap();
        assert_ne!(fresh, first);
        // A second worker refused with the same old token gets the fresh one, not a third.
        assert_eq!(t.replace_refused(&first), Ok(fresh.clone()));
        assert_eq!(t.current(), fresh);
    }
}
