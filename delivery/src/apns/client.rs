//! [`ApnsClient`]: a pool of HTTP/2 connections to APNs sharing one
//! provider token.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use rustls_pki_types::ServerName;
use sha2::{Digest, Sha256};
use tokio::net::TcpStream;
use tokio::sync::{Notify, Semaphore};

use super::token::{NoToken, ProviderToken, ProviderTokens};
use super::{Answer, ApnsEndpoint, DEFAULT_TOKEN_REFRESH, MAX_TOKEN_REFRESH, MIN_TOKEN_REFRESH, classify};
use crate::clock::{Clock, SystemClock};
use crate::credentials::ApnsKey;
use crate::outcome::{ConfigError, Outcome};
use crate::retry::{self, Attempt, RetryPolicy, parse_retry_after};
use crate::tls::Trust;
use crate::{Deliver, Push};

/// The longest answer body read (APNs' are a few dozen bytes).
const MAX_ANSWER_BODY: usize = 4096;
/// How many times one attempt moves to a new connection because the old
/// one did not process the request (GOAWAY, REFUSED_STREAM, closed).
const MAX_REROUTES: u32 = 3;

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
            .field("host", &self.inner.host)
            .field("port", &self.inner.port)
            .field("connections", &self.inner.slots.len())
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
        let server_name = ServerName::try_from(host.to_owned()).map_err(|_| ConfigError::Setting {
            what: "APNs endpoint",
            reason: format!("{host:?} is not a host name or an IP address"),
        })?;
        let tls = tokio_rustls::TlsConnector::from(self.trust.client_config()?);
        let authority = match self.endpoint {
            ApnsEndpoint::Production | ApnsEndpoint::Sandbox => host.to_owned(),
            ApnsEndpoint::Host { .. } => format!("{host}:{port}"),
        };
        let tokens = ProviderTokens::new(self.key, self.clock, self.token_refresh);
        #[cfg(feature = "postgres")]
        let tokens = tokens.with_fleet(self.fleet);
        Ok(ApnsClient {
            inner: Arc::new(Inner {
                tokens,
                topic: self.topic,
                host: host.to_owned(),
                port,
                authority,
                server_name,
                tls,
                slots: (0..self.connections).map(|_| tokio::sync::Mutex::new(None)).collect(),
                next: AtomicUsize::new(0),
                retry: self.retry,
                ping_interval: self.ping_interval,
                ping_timeout: self.ping_timeout,
                in_flight: AtomicUsize::new(0),
                idle: Notify::new(),
                closing: AtomicBool::new(false),
            }),
        })
    }
}

struct Inner {
    tokens: ProviderTokens,
    topic: Option<String>,
    host: String,
    port: u16,
    authority: String,
    server_name: ServerName<'static>,
    tls: tokio_rustls::TlsConnector,
    slots: Vec<tokio::sync::Mutex<Option<Arc<Conn>>>>,
    next: AtomicUsize,
    retry: RetryPolicy,
    ping_interval: Duration,
    ping_timeout: Duration,
    in_flight: AtomicUsize,
    idle: Notify,
    closing: AtomicBool,
}

/// One HTTP/2 connection.
struct Conn {
    send: h2::client::SendRequest<Bytes>,
    /// Set when the connection ended or must not take new requests.
    broken: AtomicBool,
    /// Set after the first request answered 200: until then one at a time.
    warm: AtomicBool,
    first: Semaphore,
    /// When a request last started, in milliseconds since `born`.
    last_used: AtomicU64,
    born: Instant,
}

impl Conn {
    fn touch(&self) {
        self.last_used.store(millis(self.born.elapsed()), Ordering::SeqCst);
    }

    fn idle_for(&self) -> Duration {
        self.born.elapsed().saturating_sub(Duration::from_millis(self.last_used.load(Ordering::SeqCst)))
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// APNs' answer to one request.
struct Answered {
    status: u16,
    apns_id: String,
    reason: Option<String>,
    timestamp_ms: Option<u64>,
    retry_after: Option<Duration>,
}

/// Why one request has no answer.
enum NoAnswer {
    /// The server did not process it: send it again on another connection.
    Unprocessed(String),
    /// No connection could be made; nothing was sent.
    Connect(String),
    /// Sent, then the connection or stream was lost: APNs may have it.
    Lost(String),
    /// The setup is wrong (the gateway's certificate is not trusted).
    Config(ConfigError),
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
        self.inner.closing.store(true, Ordering::SeqCst);
        loop {
            let idle = self.inner.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if self.inner.in_flight.load(Ordering::SeqCst) == 0 {
                break;
            }
            idle.await;
        }
        for slot in &self.inner.slots {
            if let Some(conn) = slot.lock().await.take() {
                conn.broken.store(true, Ordering::SeqCst);
            }
        }
    }
}

/// Counts a message in flight while it lives.
struct InFlight<'a>(&'a Inner);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl Deliver for ApnsClient {
    type Payload = pushseal::ApnsRequest;

    async fn deliver(&self, push: &Push<pushseal::ApnsRequest>) -> Outcome {
        let inner = &*self.inner;
        inner.in_flight.fetch_add(1, Ordering::SeqCst);
        let _guard = InFlight(inner);
        if inner.closing.load(Ordering::SeqCst) {
            return Outcome::Failed { reason: "the client is shutting down".into(), attempts: 0 };
        }
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
                Err(NoAnswer::Unprocessed(reason) | NoAnswer::Connect(reason)) => {
                    return Attempt::Retry { reason, retry_after: None };
                }
                Err(NoAnswer::Lost(reason)) => {
                    return Attempt::Final(Outcome::Failed {
                        reason: format!(
                            "{reason}; the request was sent, so APNs may have delivered it: it is not sent again"
                        ),
                        attempts: number,
                    });
                }
                Err(NoAnswer::Config(error)) => return Attempt::Final(Outcome::Misconfigured(error)),
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
        let conn = self.connection().await?;
        // One request at a time until one has succeeded on this connection.
        let _first = if conn.warm.load(Ordering::SeqCst) { None } else { conn.first.acquire().await.ok() };
        conn.touch();
        let unprocessed = |conn: &Conn, e: h2::Error| {
            conn.broken.store(true, Ordering::SeqCst);
            NoAnswer::Unprocessed(format!("connection closed before the request was sent: {e}"))
        };
        let mut sender = conn.send.clone().ready().await.map_err(|e| unprocessed(&conn, e))?;
        let request = self.request(push, token).map_err(NoAnswer::Config)?;
        let (response, mut body) = sender.send_request(request, false).map_err(|e| unprocessed(&conn, e))?;
        body.send_data(Bytes::from(push.sealed.payload.body.clone().into_bytes()), true)
            .map_err(|e| stream_error(&conn, e))?;
        let response = response.await.map_err(|e| stream_error(&conn, e))?;
        let status = response.status().as_u16();
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let apns_id = header("apns-id").unwrap_or_default();
        let retry_after = header("retry-after").and_then(|v| parse_retry_after(&v, SystemTime::now()));
        let mut stream = response.into_body();
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.data().await {
            let chunk = chunk.map_err(|e| stream_error(&conn, e))?;
            let _ = stream.flow_control().release_capacity(chunk.len());
            if bytes.len() + chunk.len() > MAX_ANSWER_BODY {
                break;
            }
            bytes.extend_from_slice(&chunk);
        }
        if status == 200 && !conn.warm.swap(true, Ordering::SeqCst) {
            conn.first.close();
        }
        let json: Option<serde_json::Value> = serde_json::from_slice(&bytes).ok();
        let field = |name: &str| json.as_ref().and_then(|j| j.get(name));
        Ok(Answered {
            status,
            apns_id,
            reason: field("reason").and_then(|r| r.as_str()).map(str::to_owned),
            timestamp_ms: field("timestamp").and_then(serde_json::Value::as_u64),
            retry_after,
        })
    }

    /// The HTTP/2 request for `push`, with its headers from the core's
    /// `ApnsRequest` and the provider token.
    fn request(
        &self,
        push: &Push<pushseal::ApnsRequest>,
        token: &ProviderToken,
    ) -> Result<http::Request<()>, ConfigError> {
        let uri = format!("https://{}/3/device/{}", self.authority, push.device);
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

    /// A live connection from the pool, opened if its slot has none.
    async fn connection(&self) -> Result<Arc<Conn>, NoAnswer> {
        let index = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        let mut slot = self.slots[index].lock().await;
        if let Some(conn) = &*slot
            && !conn.broken.load(Ordering::SeqCst)
        {
            return Ok(conn.clone());
        }
        let conn = self.connect().await?;
        *slot = Some(conn.clone());
        Ok(conn)
    }

    async fn connect(&self) -> Result<Arc<Conn>, NoAnswer> {
        let failed = |e: std::io::Error| NoAnswer::Connect(format!("cannot connect to {}: {e}", self.authority));
        let tcp = TcpStream::connect((self.host.as_str(), self.port)).await.map_err(failed)?;
        let _ = tcp.set_nodelay(true);
        let tls = self.tls.connect(self.server_name.clone(), tcp).await.map_err(|e| {
            match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
                Some(rustls::Error::InvalidCertificate(why)) => NoAnswer::Config(ConfigError::Tls(format!(
                    "the certificate of {} is not trusted ({why:?}); for a test gateway, trust the CA file it wrote",
                    self.authority
                ))),
                _ => failed(e),
            }
        })?;
        let (send, connection) = h2::client::Builder::new()
            .handshake::<_, Bytes>(tls)
            .await
            .map_err(|e| NoAnswer::Connect(format!("HTTP/2 with {} failed: {e}", self.authority)))?;
        let conn = Arc::new(Conn {
            send,
            broken: AtomicBool::new(false),
            warm: AtomicBool::new(false),
            first: Semaphore::new(1),
            last_used: AtomicU64::new(0),
            born: Instant::now(),
        });
        let mut connection = connection;
        let ping_pong = connection.ping_pong();
        let driven = {
            let conn = Arc::downgrade(&conn);
            tokio::spawn(async move {
                let _ = connection.await;
                if let Some(conn) = conn.upgrade() {
                    conn.broken.store(true, Ordering::SeqCst);
                }
            })
        };
        if let Some(ping_pong) = ping_pong {
            tokio::spawn(keep_alive(Arc::downgrade(&conn), ping_pong, driven, self.ping_interval, self.ping_timeout));
        }
        Ok(conn)
    }
}

/// Sends a PING on a connection idle for `interval`; a connection that
/// does not answer within `timeout` is closed (and replaced when next needed).
async fn keep_alive(
    conn: std::sync::Weak<Conn>,
    mut ping_pong: h2::PingPong,
    driven: tokio::task::JoinHandle<()>,
    interval: Duration,
    timeout: Duration,
) {
    loop {
        tokio::time::sleep(interval / 2).await;
        let Some(live) = conn.upgrade() else { break };
        if live.broken.load(Ordering::SeqCst) {
            break;
        }
        if live.idle_for() < interval {
            continue;
        }
        drop(live);
        let answered = tokio::time::timeout(timeout, ping_pong.ping(h2::Ping::opaque())).await;
        if !matches!(answered, Ok(Ok(_))) {
            if let Some(live) = conn.upgrade() {
                live.broken.store(true, Ordering::SeqCst);
            }
            break;
        }
    }
    driven.abort();
}

/// The error of a request that was sent: unprocessed if the server said so
/// (a GOAWAY above its last stream, or REFUSED_STREAM), else lost.
fn stream_error(conn: &Conn, e: h2::Error) -> NoAnswer {
    let refused = e.reason() == Some(h2::Reason::REFUSED_STREAM);
    let above_go_away = e.is_go_away() && e.is_remote();
    if above_go_away || e.is_io() {
        conn.broken.store(true, Ordering::SeqCst);
    }
    if refused || above_go_away {
        NoAnswer::Unprocessed(format!("the server did not process the request: {e}"))
    } else {
        NoAnswer::Lost(format!("connection lost before the answer: {e}"))
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
    let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
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
    }

    #[test]
    fn device_tokens_that_would_change_the_path_are_refused() {
        assert!(is_device_token(&"ab".repeat(32)));
        for bad in ["", "a/b", "a?b", "a b", "..", &"a".repeat(201)] {
            assert!(!is_device_token(bad), "{bad:?}");
        }
    }
}
