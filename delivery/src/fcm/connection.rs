//! The HTTP/2 connections of an [`FcmClient`](super::FcmClient): a small pool
//! to FCM's host and one to the token endpoint, each connection kept alive
//! with PINGs while idle and replaced when it breaks.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;

use crate::outcome::ConfigError;

/// The longest answer body read (FCM's and the token endpoint's are small).
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

/// One HTTP/2 connection.
struct Conn {
    send: h2::client::SendRequest<Bytes>,
    broken: AtomicBool,
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

/// A few connections to one origin, opened when first needed; requests are
/// spread over them and each carries as many as the server's
/// `SETTINGS_MAX_CONCURRENT_STREAMS` allows.
pub(crate) struct Pool {
    pub origin: Origin,
    slots: Vec<tokio::sync::Mutex<Option<Arc<Conn>>>>,
    next: AtomicUsize,
    ping_interval: Duration,
    ping_timeout: Duration,
}

impl Pool {
    pub fn new(origin: Origin, connections: usize, ping_interval: Duration, ping_timeout: Duration) -> Self {
        Self {
            origin,
            slots: (0..connections.max(1)).map(|_| tokio::sync::Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
            ping_interval,
            ping_timeout,
        }
    }

    /// The number of connections the pool keeps.
    pub fn size(&self) -> usize {
        self.slots.len()
    }

    /// Sends `request` with `body` and reads the whole answer.
    pub async fn exchange(&self, request: http::Request<()>, body: Bytes) -> Result<Reply, NoAnswer> {
        let conn = self.connection().await?;
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
        Ok(Reply { status, headers: parts.headers, body: bytes })
    }

    /// Marks every connection closed (they end when their last request does).
    pub async fn close(&self) {
        for slot in &self.slots {
            if let Some(conn) = slot.lock().await.take() {
                conn.broken.store(true, Ordering::SeqCst);
            }
        }
    }

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
        let conn =
            Arc::new(Conn { send, broken: AtomicBool::new(false), last_used: AtomicU64::new(0), born: Instant::now() });
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

/// The error of a request that was sent: unprocessed if the server said so,
/// else lost.
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
