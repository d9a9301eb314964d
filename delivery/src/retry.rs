//! When to try a message again: [`RetryPolicy`] (exponential backoff with
//! jitter, a bounded number of attempts, a total deadline, `Retry-After`
//! honoured) and the loop both clients run a message through.

use std::future::Future;
use std::time::{Duration, SystemTime};

use crate::outcome::Outcome;

/// How a client retries a message whose attempt failed in a way that may
/// pass (429, 500, 503, a lost connection, a timeout). The defaults suit
/// production; change them only with a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts at most, the first included (default 5).
    pub max_attempts: u32,
    /// The backoff before the second attempt (default 500 ms); it doubles
    /// each time, up to `max_backoff`, and a random part is taken off (jitter).
    pub first_backoff: Duration,
    /// The longest backoff between two attempts (default 30 s), unless the
    /// gateway's `Retry-After` asks for longer.
    pub max_backoff: Duration,
    /// How long one attempt may take, from sending to the whole response
    /// (default 15 s): the per-request deadline.
    pub attempt_timeout: Duration,
    /// How long a message may take, all attempts and backoffs together
    /// (default 120 s). A retry that would start past it is not made.
    pub total_deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            first_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            attempt_timeout: Duration::from_secs(15),
            total_deadline: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// A policy that makes one attempt and never retries.
    pub fn no_retry() -> Self {
        Self { max_attempts: 1, ..Self::default() }
    }

    /// The wait before attempt `attempts_made + 1`: the exponential backoff
    /// `first_backoff * 2^(attempts_made - 1)` capped at `max_backoff`, of
    /// which a random part up to one half is taken off (`jitter` is a random
    /// number), and never less than the gateway's `retry_after`.
    pub fn backoff(&self, attempts_made: u32, retry_after: Option<Duration>, jitter: u64) -> Duration {
        let doublings = attempts_made.saturating_sub(1).min(31);
        let cap = self.first_backoff.saturating_mul(1u32 << doublings).min(self.max_backoff);
        let half = cap / 2;
        let half_nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        let taken_off = if half_nanos == 0 { 0 } else { jitter % half_nanos };
        let wait = cap.saturating_sub(Duration::from_nanos(taken_off));
        retry_after.map_or(wait, |ra| wait.max(ra))
    }
}

/// What one attempt came to.
#[derive(Debug)]
pub(crate) enum Attempt {
    /// The message's outcome: no other attempt.
    Final(Outcome),
    /// A failure that may pass: try again after the backoff (and at least
    /// `retry_after`), if the policy allows.
    Retry {
        /// Why, for [`Outcome::Failed`] if this was the last attempt.
        reason: String,
        /// The gateway's `Retry-After`.
        retry_after: Option<Duration>,
    },
}

/// Runs `attempt` until it gives a final outcome or `policy` gives up; each
/// attempt is bounded by `policy.attempt_timeout`. Always one outcome.
pub(crate) async fn run<F, Fut>(policy: &RetryPolicy, mut attempt: F) -> Outcome
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Attempt>,
{
    let start = tokio::time::Instant::now();
    let deadline = start + policy.total_deadline;
    let mut made = 0u32;
    loop {
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Outcome::Failed { reason: "the total deadline passed".into(), attempts: made };
        }
        let budget = policy.attempt_timeout.min(deadline - now);
        made += 1;
        let result = match tokio::time::timeout(budget, attempt(made)).await {
            Ok(result) => result,
            Err(_) => Attempt::Retry { reason: "timeout".into(), retry_after: None },
        };
        let (reason, retry_after) = match result {
            Attempt::Final(outcome) => return outcome,
            Attempt::Retry { reason, retry_after } => (reason, retry_after),
        };
        if made >= policy.max_attempts {
            return Outcome::Failed { reason, attempts: made };
        }
        let wait = policy.backoff(made, retry_after, jitter());
        if tokio::time::Instant::now() + wait >= deadline {
            return Outcome::Failed { reason, attempts: made };
        }
        tokio::time::sleep(wait).await;
    }
}

/// A random number for the jitter; 0 (no jitter, the full backoff) if the
/// system has none to give.
fn jitter() -> u64 {
    getrandom::u64().unwrap_or(0)
}

/// The wait a `Retry-After` header asks for: delay-seconds or an HTTP-date
/// (RFC 9110, section 10.2.3), counted from `now`. `None` for anything else.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse::<u64>().ok().map(Duration::from_secs);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitter_takes_at_most_half() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(1, None, 0), Duration::from_millis(500));
        assert_eq!(p.backoff(2, None, 0), Duration::from_secs(1));
        assert_eq!(p.backoff(4, None, 0), Duration::from_secs(4));
        assert_eq!(p.backoff(30, None, 0), Duration::from_secs(30));
        for j in [1, 7, 249_999_999, u64::MAX] {
            let w = p.backoff(1, None, j);
            assert!(w > Duration::from_millis(250) && w <= Duration::from_millis(500), "{w:?}");
        }
    }

    #[test]
    fn retry_after_is_honoured_even_beyond_the_cap() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(1, Some(Duration::from_secs(90)), 0), Duration::from_secs(90));
        assert_eq!(p.backoff(3, Some(Duration::from_millis(10)), 0), Duration::from_secs(2));
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates_only() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        // RFC 9110's example date is 1445412480 + 0.
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), Some(Duration::ZERO));
        let earlier = now - Duration::from_secs(60);
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", earlier), Some(Duration::from_secs(60)));
        for bad in ["", "-1", "soon", "1.5", "99999999999999999999999"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_message_that_keeps_failing_ends_failed_after_max_attempts() {
        let p = RetryPolicy { max_attempts: 3, ..RetryPolicy::default() };
        let mut calls = 0;
        let outcome = run(&p, |_| {
            calls += 1;
            async { Attempt::Retry { reason: "ServiceUnavailable".into(), retry_after: None } }
        })
        .await;
        assert_eq!(outcome, Outcome::Failed { reason: "ServiceUnavailable".into(), attempts: 3 });
        assert_eq!(calls, 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_after_beyond_the_deadline_ends_the_message_at_once() {
        let p = RetryPolicy { total_deadline: Duration::from_secs(10), ..RetryPolicy::default() };
        let start = tokio::time::Instant::now();
        let outcome = run(&p, |_| async {
            Attempt::Retry { reason: "TooManyRequests".into(), retry_after: Some(Duration::from_secs(60)) }
        })
        .await;
        assert_eq!(outcome, Outcome::Failed { reason: "TooManyRequests".into(), attempts: 1 });
        assert!(start.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_attempt_times_out_and_is_retried() {
        let p = RetryPolicy { max_attempts: 2, attempt_timeout: Duration::from_secs(1), ..RetryPolicy::default() };
        let outcome = run(&p, |n| async move {
            if n == 1 {
                std::future::pending::<()>().await;
            }
            Attempt::Final(Outcome::Delivered { gateway_id: "x".into() })
        })
        .await;
        assert_eq!(outcome, Outcome::Delivered { gateway_id: "x".into() });
    }
}
