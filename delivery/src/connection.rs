//! The HTTP/2 connections of the clients: a small [`Pool`] to one origin
//! (APNs' host, FCM's host, the OAuth2 token endpoint), each connection kept
//! alive with PINGs while idle and replaced when it breaks; and how a client
//! drains what is in flight when it shuts down ([`Drain`]).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::sync::{Notify, Semaphore};

use crate::outcome::ConfigError;

/// The longest answer body read (APNs', FCM's and the token endpoint's are small).
const MAX_ANSWER_BODY: usize = 64 * 1024;

/// Where a pool connects: a host, a port and the TLS to reach it.
pub(crate) struct Origin {
    host: String,
    port: u16,
    /// `host` or `host:port`, for the request's `:authority`.
    pub authority: String,
    server_name: ServerName<'static>,
    tls: tokio_rustls::TlsConnector,
}

impl Origin {
    /// `host:port`, trusted through `tls`; `what` names the setting in errors.
    pub fn new(
        what: &'static str,
        host: &str,
        port: u16,
        tls: tokio_rustls::TlsConnector,
    ) -> Result<Self, ConfigError> {
        let server_name = ServerName::try_from(host.to_owned()).map_err(|_| ConfigError::Setting {
            what,
            reason: format!("{host:?} is not a host name or an IP address"),
        })?;
        let authority = if port == 443 { host.to_owned() } else { format!("{host}:{port}") };
        Ok(Self { host: host.to_owned(), port, authority, server_name, tls })
    }
}

/// A complete answer.
pub(crate) struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    /// A header's value, if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// How long the server asks to wait (`Retry-After`), if it says.
    pub fn retry_after(&self) -> Option<Duration> {
        self.header("retry-after").and_then(|v| crate::retry::parse_retry_after(v, std::time::SystemTime::now()))
    }
}

/// Why a request has no answer.
#[derive(Debug)]
pub(crate) enum NoAnswer {
    /// The server did not process it (GOAWAY above its last stream,
    /// REFUSED_STREAM, or the connection closed before it was sent).
    Unprocessed(String),
    /// No connection could be made; nothing was sent.
    Connect(String),
    /// Sent, then the connection or stream was lost: the server may have it.
    Lost(String),
    /// The setup is wrong (the server's certificate is not trusted).
    Config(ConfigError),
}

impl NoAnswer {
    /// What an attempt that got no answer from `gateway` comes to, once
    /// moving it to another connection is no longer an option.
    pub fn into_attempt(self, gateway: &str, attempt: u32) -> crate::retry::Attempt {
        use crate::retry::Attempt;
        match self {
            Self::Unprocessed(reason) | Self::Connect(reason) => Attempt::Retry { reason, retry_after: None },
            Self::Lost(reason) => Attempt::Final(crate::Outcome::Failed {
                reason: format!(
                    "{reason}; the request was sent, so {gateway} may have delivered it: it is not sent again"
                ),
                attempts: attempt,
            }),
            Self::Config(error) => Attempt::Final(crate::Outcome::Misconfigured(error)),
        }
    }
}

/// How many times one attempt moves to a new connection because the old
/// one did not process the request (GOAWAY, REFUSED_STREAM, closed).
pub(crate) const MAX_REROUTES: u32 = 3;

/// One HTTP/2 connection.
struct Conn {
    send: h2::client::SendRequest<Bytes>,
    /// Set when the connection ended or must not take new requests.
    broken: AtomicBool,
    /// Set after a request answered 200: until then, with
    /// [`Pool::one_until_success`], one request at a time.
    warm: AtomicBool,
    first: Semaphore,
    /// When a request last started, in milliseconds since `born`.
    last_used: AtomicU64,
    born: Instant,
    /// Requests on it that have not ended.
    requests: AtomicUsize,
}

/// A request on a connection, counted while it lives.
struct Request<'a>(&'a Conn);

impl Drop for Request<'_> {
    fn drop(&mut self) {
        self.0.requests.fetch_sub(1, Ordering::Relaxed);
    }
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

/// One connection of a pool, or none yet.
#[derive(Default)]
struct Slot {
    /// The connection, read by every request under a lock held only to
    /// clone it: no request waits in a queue behind another.
    conn: std::sync::Mutex<Option<Arc<Conn>>>,
    /// Held while a connection is made, so that one request makes it.
    connecting: tokio::sync::Mutex<()>,
}

impl Slot {
    /// The connection, unless there is none or it is broken.
    fn live(&self) -> Option<Arc<Conn>> {
        let conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        conn.as_ref().filter(|c| !c.broken.load(Ordering::SeqCst)).cloned()
    }
}

/// A few connections to one origin, opened when first needed; each request
/// goes to the one with the fewest requests, and each carries as many at
/// once as the server's `SETTINGS_MAX_CONCURRENT_STREAMS` allows.
pub(crate) struct Pool {
    pub origin: Origin,
    slots: Vec<Slot>,
    next: AtomicUsize,
    ping_interval: Duration,
    ping_timeout: Duration,
    one_until_success: bool,
}

impl Pool {
    pub fn new(origin: Origin, connections: usize, ping_interval: Duration, ping_timeout: Duration) -> Self {
        Self {
            origin,
            slots: (0..connections.max(1)).map(|_| Slot::default()).collect(),
            next: AtomicUsize::new(0),
            ping_interval,
            ping_timeout,
            one_until_success: false,
        }
    }

    /// Each connection carries one request at a time until a request on it
    /// has answered 200, then as many as the server allows (as Apple asks
    /// of APNs providers).
    pub fn one_until_success(mut self) -> Self {
        self.one_until_success = true;
        self
    }

    /// The number of connections the pool keeps.
    pub fn size(&self) -> usize {
        self.slots.len()
    }

    /// Sends `request` with `body` and reads the whole answer.
    pub async fn exchange(&self, request: http::Request<()>, body: Bytes) -> Result<Reply, NoAnswer> {
        let conn = self.connection().await?;
        conn.requests.fetch_add(1, Ordering::Relaxed);
        let _counted = Request(&conn);
        let gated = self.one_until_success && !conn.warm.load(Ordering::SeqCst);
        let _first = if gated { conn.first.acquire().await.ok() } else { None };
        conn.touch();
        let unprocessed = |e: h2::Error| {
            conn.broken.store(true, Ordering::SeqCst);
            NoAnswer::Unprocessed(format!("connection closed before the request was sent: {e}"))
        };
        let mut sender = conn.send.clone().ready().await.map_err(unprocessed)?;
        let (response, mut stream) = sender.send_request(request, body.is_empty()).map_err(unprocessed)?;
        if !body.is_empty() {
            stream.send_data(body, true).map_err(|e| stream_error(&conn, e))?;
        }
        let response = response.await.map_err(|e| stream_error(&conn, e))?;
        let status = response.status().as_u16();
        let (parts, mut recv) = response.into_parts();
        let mut bytes = Vec::new();
        while let Some(chunk) = recv.data().await {
            let chunk = chunk.map_err(|e| stream_error(&conn, e))?;
            let _ = recv.flow_control().release_capacity(chunk.len());
            if bytes.len() + chunk.len() > MAX_ANSWER_BODY {
                break;
            }
            bytes.extend_from_slice(&chunk);
        }
        if status == 200 && !conn.warm.swap(true, Ordering::SeqCst) {
            conn.first.close();
        }
        Ok(Reply { status, headers: parts.headers, body: bytes })
    }

    /// Marks every connection closed (they end when their last request does).
    pub async fn close(&self) {
        for slot in &self.slots {
            // After a connection being made, if one is.
            let _connecting = slot.connecting.lock().await;
            if let Some(conn) = slot.conn.lock().unwrap_or_else(PoisonError::into_inner).take() {
                conn.broken.store(true, Ordering::SeqCst);
            }
        }
    }

    async fn connection(&self) -> Result<Arc<Conn>, NoAnswer> {
        // The live connection with the fewest requests, looking from the
        // next slot in turn (ties go round); a slot without one is filled.
        // Requests beyond a connection's streams wait in its queue, so
        // turns alone would leave one connection's queue long while
        // another has streams free.
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let mut best: Option<Arc<Conn>> = None;
        let mut empty = None;
        for i in 0..self.slots.len() {
            let slot = &self.slots[(start + i) % self.slots.len()];
            match slot.live() {
                Some(conn) => {
                    let fewer = best
                        .as_ref()
                        .is_none_or(|b| conn.requests.load(Ordering::Relaxed) < b.requests.load(Ordering::Relaxed));
                    if fewer {
                        best = Some(conn);
                    }
                }
                None => {
                    empty.get_or_insert(slot);
                }
            }
        }
        let slot = match (empty, best) {
            (Some(slot), _) => slot,
            (None, Some(conn)) => return Ok(conn),
            (None, None) => &self.slots[start % self.slots.len()],
        };
        let _connecting = slot.connecting.lock().await;
        // Another request may have made one meanwhile.
        if let Some(conn) = slot.live() {
            return Ok(conn);
        }
        let conn = self.connect().await?;
        *slot.conn.lock().unwrap_or_else(PoisonError::into_inner) = Some(conn.clone());
        Ok(conn)
    }

    async fn connect(&self) -> Result<Arc<Conn>, NoAnswer> {
        let origin = &self.origin;
        let failed = |e: std::io::Error| NoAnswer::Connect(format!("cannot connect to {}: {e}", origin.authority));
        let tcp = TcpStream::connect((origin.host.as_str(), origin.port)).await.map_err(failed)?;
        let _ = tcp.set_nodelay(true);
        let tls = origin.tls.connect(origin.server_name.clone(), tcp).await.map_err(|e| {
            match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
                Some(rustls::Error::InvalidCertificate(why)) => NoAnswer::Config(ConfigError::Tls(format!(
                    "the certificate of {} is not trusted ({why:?}); for a test gateway, trust the CA file it wrote",
                    origin.authority
                ))),
                _ => failed(e),
            }
        })?;
        let (send, mut connection) = h2::client::Builder::new()
            .handshake::<_, Bytes>(tls)
            .await
            .map_err(|e| NoAnswer::Connect(format!("HTTP/2 with {} failed: {e}", origin.authority)))?;
        let conn = Arc::new(Conn {
            send,
            broken: AtomicBool::new(false),
            warm: AtomicBool::new(false),
            first: Semaphore::new(1),
            last_used: AtomicU64::new(0),
            born: Instant::now(),
            requests: AtomicUsize::new(0),
        });
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

/// Sends a PING on a connection idle for `interval`; one that does not
/// answer within `timeout` is marked broken and replaced when next needed.
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

/// What a client needs to shut down: the messages in flight, counted, and
/// whether it still takes new ones.
#[derive(Default)]
pub(crate) struct Drain {
    in_flight: AtomicUsize,
    idle: Notify,
    closing: AtomicBool,
}

/// A message in flight, counted while it lives.
pub(crate) struct InFlight<'a>(&'a Drain);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl Drain {
    /// Counts a message in flight, or says the client is shutting down:
    /// then the message ends at once, in that outcome.
    pub fn enter(&self) -> Result<InFlight<'_>, crate::Outcome> {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let counted = InFlight(self);
        if self.closing.load(Ordering::SeqCst) {
            return Err(crate::Outcome::Failed { reason: "the client is shutting down".into(), attempts: 0 });
        }
        Ok(counted)
    }

    /// Stops taking messages and waits until every one in flight has ended.
    pub async fn close(&self) {
        self.closing.store(true, Ordering::SeqCst);
        loop {
            let idle = self.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if self.in_flight.load(Ordering::SeqCst) == 0 {
                break;
            }
            idle.await;
        }
    }
}
