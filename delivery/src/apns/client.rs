//! [`ApnsClient`]: a pool of HTTP/2 connections to APNs sharing one
//! provider token.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::token::{NoToken, ProviderToken, ProviderTokens};
use super::{Answer, ApnsEndpoint, DEFAULT_TOKEN_REFRESH, MAX_TOKEN_REFRESH, MIN_TOKEN_REFRESH, classify};
use crate::clock::{Clock, SystemClock};
use crate::connection::{Drain, MAX_REROUTES, NoAnswer, Origin, Pool};
use crate::credentials::ApnsKey;
use crate::outcome::{ConfigError, Outcome};
use crate::retry::{self, Attempt, RetryPolicy};
use crate::tls::Trust;
use crate::{Deliver, Push};

/// A client for APNs: make one per team key and process, and share it (it
/// is cheap to clone) with every worker.
///
/// It keeps [`ApnsClientBuilder::connections`] HTTP/2 connections, opened
/// when first needed. Each carries one request until a request has succeeded
/// on it (as Apple asks), then as many as the server's
/// `SETTINGS_MAX_CONCURRENT_STREAMS` allows; an idle connection is kept
/// alive with PINGs, and a connection that does not answer one is replaced.
/// Every request carries the one provider token of the key, replaced after
/// 50 minutes (and once more on 403 `ExpiredProviderToken`, never sooner than
/// 20 minutes after it was made). A request the server did not process
/// (above a GOAWAY's last stream, or refused) moves to a new connection at
/// once; a request whose connection was lost after it was sent is not sent
/// again, since APNs may have delivered it.
///
/// ```no_run
/// # async fn run(sealed: pushseal::Sealed<pushseal::ApnsRequest>) -> Result<(), pushseal_delivery::ConfigError> {
/// use pushseal_delivery::apns::{ApnsClient, ApnsEndpoint};
/// use pushseal_delivery::{ApnsKey, Deliver, Push};
///
/// let key = ApnsKey::from_p8_file("AuthKey_ABC123DEFG.p8", "ABC123DEFG", "TEAM123456")?;
/// let client = ApnsClient::builder(key).topic("com.example.clinic").endpoint(ApnsEndpoint::Production).build()?;
/// let outcome = client.deliver(&Push::new("a1b2...device token", sealed)).await;
/// println!("{}: {outcome}", outcome.kind());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ApnsClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ApnsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApnsClient")
            .field("key", self.inner.tokens.key())
            .field("apns", &self.inner.pool.origin.authority)
            .field("connections", &self.inner.pool.size())
            .finish_non_exhaustive()
    }
}

/// Settings of an [`ApnsClient`]; the defaults suit production.
pub struct ApnsClientBuilder {
    key: ApnsKey,
    topic: Option<String>,
    endpoint: ApnsEndpoint,
    trust: Trust,
    connections: usize,
    retry: RetryPolicy,
    clock: Arc<dyn Clock>,
    token_refresh: Duration,
    ping_interval: Duration,
    ping_timeout: Duration,
    #[cfg(feature = "postgres")]
    fleet: Option<Arc<pushseal_audit::PgStore>>,
}

impl ApnsClientBuilder {
    /// The `apns-topic` (the app's bundle id) for requests whose
    /// [`ApnsRequest`](pushseal::ApnsRequest) has none. Token
    /// authentication needs one of the two.
    pub fn topic(mut self, topic: impl Into<String>) -> Self {
        self.topic = Some(topic.into());
        self
    }

    /// Where to send (default [`ApnsEndpoint::Production`]).
    pub fn endpoint(mut self, endpoint: ApnsEndpoint) -> Self {
        self.endpoint = endpoint;
        self
    }

    /// The certificates to trust (default the public roots).
    pub fn trust(mut self, trust: Trust) -> Self {
        self.trust = trust;
        self
    }

    /// How many HTTP/2 connections to keep (default 2, at least 1).
    pub fn connections(mut self, n: usize) -> Self {
        self.connections = n.max(1);
        self
    }

    /// How to retry (default [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The clock token times are read from (default the system's).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// When the provider token is replaced (default 50 minutes; 20 to 55).
    pub fn token_refresh(mut self, after: Duration) -> Self {
        self.token_refresh = after;
        self
    }

    /// How long a connection is idle before a PING checks it (default 60 s),
    /// and how long the answer may take before the connection is replaced
    /// (default 10 s).
    pub fn keep_alive(mut self, interval: Duration, timeout: Duration) -> Self {
        self.ping_interval = interval;
        self.ping_timeout = timeout;
        self
    }

    /// Shares the provider token with every sender of the fleet that uses
    /// the same audit database, so that the team's token is refreshed once
    /// per period however many processes send (Apple answers
    /// `TooManyProviderTokenUpdates` to a team whose servers each refresh
    /// their own). The token is stored in clear in the database's
    /// `pushseal_shared_values` table, which only the fleet should read;
    /// the `.p8` key never leaves the process. When the database cannot be
    /// reached the push is retried, then fails, rather than sent with a
    /// token of its own.
    ///
    /// ```no_run
    /// # fn run(key: pushseal_delivery::ApnsKey) -> Result<(), Box<dyn std::error::Error>> {
    /// use std::sync::Arc;
    /// let db = Arc::new(pushseal_audit::PgStore::connect("postgres://sender@db.internal/audit")?);
    /// let client = pushseal_delivery::apns::ApnsClient::builder(key).share_token_through(db).build()?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "postgres")]
    pub fn share_token_through(mut self, store: Arc<pushseal_audit::PgStore>) -> Self {
        self.fleet = Some(store);
        self
    }

    /// The client. It connects when it first sends.
    pub fn build(self) -> Result<ApnsClient, ConfigError> {
        if !(MIN_TOKEN_REFRESH..=MAX_TOKEN_REFRESH).contains(&self.token_refresh) {
            return Err(ConfigError::Setting {
                what: "token refresh",
                reason: format!(
                    "{} s is outside 20 to 55 minutes: Apple refuses tokens older than an hour and refreshes more \
                     often than every 20 minutes",
                    self.token_refresh.as_secs()
                ),
            });
        }
        if self.topic.as_deref().is_some_and(str::is_empty) {
            return Err(ConfigError::Setting { what: "topic", reason: "empty: give the app's bundle id".into() });
        }
        let (host, port) = self.endpoint.host_port();
        let tls = tokio_rustls::TlsConnector::from(self.trust.client_config()?);
        let origin = Origin::new("APNs endpoint", host, port, tls)?;
        let pool = Pool::new(origin, self.connections, self.ping_interval, self.ping_timeout).one_until_success();
        let tokens = ProviderTokens::new(self.key, self.clock, self.token_refresh);
        #[cfg(feature = "postgres")]
        let tokens = tokens.with_fleet(self.fleet);
        Ok(ApnsClient {
            inner: Arc::new(Inner { tokens, topic: self.topic, pool, retry: self.retry, drain: Drain::default() }),
        })
    }
}

struct Inner {
    tokens: ProviderTokens,
    topic: Option<String>,
    pool: Pool,
    retry: RetryPolicy,
    drain: Drain,
}

/// APNs' answer to one request.
struct Answered {
    status: u16,
    apns_id: String,
    reason: Option<String>,
    timestamp_ms: Option<u64>,
    retry_after: Option<Duration>,
}

impl ApnsClient {
    /// A builder for a client that signs provider tokens with `key`.
    pub fn builder(key: ApnsKey) -> ApnsClientBuilder {
        ApnsClientBuilder {
            key,
            topic: None,
            endpoint: ApnsEndpoint::Production,
            trust: Trust::PublicRoots,
            connections: 2,
            retry: RetryPolicy::default(),
            clock: Arc::new(SystemClock),
            token_refresh: DEFAULT_TOKEN_REFRESH,
            ping_interval: Duration::from_secs(60),
            ping_timeout: Duration::from_secs(10),
            #[cfg(feature = "postgres")]
            fleet: None,
        }
    }

    /// Stops taking messages (a later [`Deliver::deliver`] ends at once in
    /// [`Outcome::Failed`] with no attempt), waits until every message in
    /// flight has its outcome, then closes the connections.
    pub async fn shutdown(&self) {
        self.inner.drain.close().await;
        self.inner.pool.close().await;
    }
}

impl Deliver for ApnsClient {
    type Payload = pushseal::ApnsRequest;

    async fn deliver(&self, push: &Push<pushseal::ApnsRequest>) -> Outcome {
        let inner = &*self.inner;
        let _in_flight = match inner.drain.enter() {
            Ok(counted) => counted,
            Err(closing) => return closing,
        };
        if !is_device_token(&push.device) {
            // It would never be one: no request is made with it.
            return Outcome::TokenGone { reason: "BadDeviceToken".into(), since: None };
        }
        if push.sealed.payload.header("apns-topic").is_none() && inner.topic.is_none() {
            return Outcome::Misconfigured(ConfigError::Setting {
                what: "topic",
                reason: "neither the client nor the request has an apns-topic: set the app's bundle id with \
                         ApnsClientBuilder::topic"
                    .into(),
            });
        }
        retry::run(&inner.retry, |attempt| inner.attempt(push, attempt)).await
    }
}

impl Inner {
    /// One attempt: a request on a connection, moved to another connection
    /// when the server did not process it, and sent once more with a fresh
    /// provider token on `ExpiredProviderToken`.
    async fn attempt(&self, push: &Push<pushseal::ApnsRequest>, number: u32) -> Attempt {
        let mut token = match self.tokens.current().await {
            Ok(token) => token,
            Err(reason) => return Attempt::Retry { reason, retry_after: None },
        };
        let mut refreshed = false;
        let mut reroutes = 0;
        loop {
            let answered = match self.send(push, &token).await {
                Ok(answered) => answered,
                Err(NoAnswer::Unprocessed(_)) if reroutes < MAX_REROUTES => {
                    reroutes += 1;
                    continue;
                }
                Err(no_answer) => return no_answer.into_attempt("APNs", number),
            };
            let a = &answered;
            match classify(a.status, &a.apns_id, a.reason.as_deref(), a.timestamp_ms, a.retry_after) {
                Answer::Final(outcome) => return Attempt::Final(outcome),
                Answer::Retry { reason, retry_after } => return Attempt::Retry { reason, retry_after },
                Answer::Credentials(reason) => return Attempt::Final(Outcome::Misconfigured(self.key_refused(reason))),
                Answer::ExpiredToken if !refreshed => match self.tokens.replace_refused(&token).await {
                    Ok(fresh) => {
                        token = fresh;
                        refreshed = true;
                    }
                    Err(NoToken::Fleet(reason)) => return Attempt::Retry { reason, retry_after: None },
                    Err(NoToken::TooSoon { age_secs }) => {
                        return Attempt::Final(Outcome::Misconfigured(self.key_refused(format!(
                            "ExpiredProviderToken for a token made {age_secs} s ago (tokens may be replaced only \
                             after 20 minutes); check this server's clock"
                        ))));
                    }
                },
                Answer::ExpiredToken => {
                    return Attempt::Final(Outcome::Misconfigured(self.key_refused(
                        "ExpiredProviderToken again for a token made just now; check this server's clock".into(),
                    )));
                }
            }
        }
    }

    fn key_refused(&self, reason: String) -> ConfigError {
        let key = self.tokens.key();
        ConfigError::ApnsKeyRefused { key_id: key.key_id().to_owned(), team_id: key.team_id().to_owned(), reason }
    }

    /// Sends one request on one of the connections and reads the answer.
    async fn send(&self, push: &Push<pushseal::ApnsRequest>, token: &ProviderToken) -> Result<Answered, NoAnswer> {
        let request = self.request(push, token).map_err(NoAnswer::Config)?;
        let body = Bytes::from(push.sealed.payload.body.clone().into_bytes());
        let reply = self.pool.exchange(request, body).await?;
        // A 200 has no body: only an error's is JSON.
        let json: Option<serde_json::Value> =
            if reply.body.is_empty() { None } else { serde_json::from_slice(&reply.body).ok() };
        let field = |name: &str| json.as_ref().and_then(|j| j.get(name));
        Ok(Answered {
            status: reply.status,
            apns_id: reply.header("apns-id").unwrap_or_default().to_owned(),
            reason: field("reason").and_then(|r| r.as_str()).map(str::to_owned),
            timestamp_ms: field("timestamp").and_then(serde_json::Value::as_u64),
            retry_after: reply.retry_after(),
        })
    }

    /// The HTTP/2 request for `push`, with its headers from the core's
    /// `ApnsRequest` and the provider token.
    fn request(
        &self,
        push: &Push<pushseal::ApnsRequest>,
        token: &ProviderToken,
    ) -> Result<http::Request<()>, ConfigError> {
        let uri = format!("https://{}/3/device/{}", self.pool.origin.authority, push.device);
        let mut builder = http::Request::builder()
            .method(http::Method::POST)
            .uri(uri)
            .header(http::header::AUTHORIZATION, &*token.header)
            .header("apns-id", apns_id(&push.sealed.message_id, &push.device));
        let payload = &push.sealed.payload;
        for (name, value) in &payload.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if payload.header("apns-topic").is_none()
            && let Some(topic) = &self.topic
        {
            builder = builder.header("apns-topic", topic.as_str());
        }
        builder.body(()).map_err(|e| ConfigError::Setting {
            what: "APNs request",
            reason: format!("a header of the request cannot be sent: {e}"),
        })
    }
}

/// A device token as APNs takes it in a path: hex digits (letters and
/// digits accepted, so a test gateway's named tokens pass), at most 200.
fn is_device_token(token: &str) -> bool {
    !token.is_empty() && token.len() <= 200 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The `apns-id` of a message to a device: a UUID from SHA-256 of the
/// message id and the device token, so that every attempt of one message
/// carries the same id, and each device of a batch (which shares one
/// message id) its own.
pub(crate) fn apns_id(message_id: &pushseal::MessageId, device: &str) -> String {
    let digest = Sha256::new().chain_update(message_id.as_bytes()).chain_update(device.as_bytes()).finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    // RFC 9562: version 8 (custom), variant 10.
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    super::uuid_text(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apns_id_is_a_uuid_per_message_and_device() {
        let id = pushseal::MessageId::from_bytes([9; 16]);
        let a = apns_id(&id, "aa");
        assert_eq!(a, apns_id(&id, "aa"));
        assert_ne!(a, apns_id(&id, "ab"));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "8");
        // 8-4-4-4-12 upper-case hex digits, variant 10 (8, 9, A or B).
        let groups: Vec<&str> = a.split('-').collect();
        assert_eq!(groups.iter().map(|g| g.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12]);
        assert!(a.bytes().all(|c| c == b'-' || c.is_ascii_digit() || (b'A'..=b'F').contains(&c)), "{a}");
        assert!(matches!(&a[19..20], "8" | "9" | "A" | "B"), "{a}");
    }

    #[test]
    fn device_tokens_that_would_change_the_path_are_refused() {
        assert!(is_device_token(&"ab".repeat(32)));
        for bad in ["", "a/b", "a?b", "a b", "..", &"a".repeat(201)] {
            assert!(!is_device_token(bad), "{bad:?}");
        }
    }
}
