//! What both test gateways share: the certificate authority made at start,
//! the HTTP/2 TLS listener on loopback, and the per-connection controls
//! (GOAWAY, dropping a connection, closing one that sat idle).

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use h2::RecvStream;
use h2::server::SendResponse;
use http::Request;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

/// A certificate authority made at start, and a certificate for
/// `127.0.0.1` and `localhost` that it signed. Nothing is committed to the
/// repository or reused between runs.
pub struct TestCa {
    ca_pem: String,
    server: Arc<rustls::ServerConfig>,
}

impl TestCa {
    /// A new CA (P-256) and server certificate.
    pub fn generate() -> io::Result<Self> {
        let fail = |e: rcgen::Error| io::Error::other(format!("the test CA cannot be made: {e}"));
        let ca_key = rcgen::KeyPair::generate().map_err(fail)?;
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(fail)?;
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, "PushSeal test gateway CA");
        ca_params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).map_err(fail)?;

        let leaf_key = rcgen::KeyPair::generate().map_err(fail)?;
        let mut leaf_params =
            rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).map_err(fail)?;
        leaf_params.distinguished_name.push(rcgen::DnType::CommonName, "PushSeal test gateway");
        let leaf = leaf_params.signed_by(&leaf_key, &ca).map_err(fail)?;

        let key = rustls_pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
        let provider = Arc::new(crate::tls::provider());
        let mut server = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der().clone()], key)
            .map_err(io::Error::other)?;
        server.alpn_protocols = vec![b"h2".to_vec()];
        Ok(Self { ca_pem: ca.pem(), server: Arc::new(server) })
    }

    /// The CA certificate (PEM) a client trusts to reach the gateway.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Writes the CA certificate to `path`.
    pub fn write_ca_file(&self, path: &Path) -> io::Result<()> {
        std::fs::write(path, &self.ca_pem)
    }
}

/// What a stream handler asks of its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Control {
    /// Send GOAWAY (graceful: streams already received are answered).
    GoAway,
    /// Close the connection at once, answering nothing more.
    Drop,
}

/// One request as a handler sees it.
pub(crate) struct Exchange {
    pub request: Request<RecvStream>,
    pub respond: SendResponse<Bytes>,
    pub control: mpsc::UnboundedSender<Control>,
    /// Fires when the gateway stops: a stalled handler ends then.
    pub stopping: watch::Receiver<bool>,
}

/// A gateway's request handler.
pub(crate) trait Handler: Send + Sync + 'static {
    /// Answers one request.
    fn handle(self: Arc<Self>, exchange: Exchange) -> impl std::future::Future<Output = ()> + Send;
}

/// How a listener serves its connections.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ServeOptions {
    pub max_concurrent_streams: u32,
    /// A connection from which nothing (not even a PING) was read for this
    /// long is closed, as the real gateways close idle connections.
    pub idle_timeout: Duration,
}

/// Counters a test reads.
#[derive(Debug, Default)]
pub(crate) struct ConnectionCounters {
    pub accepted: AtomicU64,
}

/// A running listener: stop it with [`Listener::stop`].
pub(crate) struct Listener {
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Listener {
    /// Listens on `127.0.0.1:port` (0: any free port).
    pub async fn start<H: Handler>(
        port: u16,
        ca: &TestCa,
        options: ServeOptions,
        counters: Arc<ConnectionCounters>,
        handler: Arc<H>,
    ) -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let acceptor = tokio_rustls::TlsAcceptor::from(ca.server.clone());
        let (stop, stopping) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, acceptor, options, counters, handler, stopping));
        Ok(Self { addr, stop, task })
    }

    /// Stops accepting, closes every connection and waits until they are.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn accept_loop<H: Handler>(
    listener: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    options: ServeOptions,
    counters: Arc<ConnectionCounters>,
    handler: Arc<H>,
    mut stopping: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((tcp, _)) = accepted else { continue };
                counters.accepted.fetch_add(1, Ordering::SeqCst);
                let conn = serve_connection(tcp, acceptor.clone(), options, handler.clone(), stopping.clone());
                connections.spawn(conn);
            }
            _ = stopping.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    // Connections see the same signal and close; give them a moment, then end them.
    let drain = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(2), drain).await.is_err() {
        connections.abort_all();
    }
}

async fn serve_connection<H: Handler>(
    tcp: TcpStream,
    acceptor: tokio_rustls::TlsAcceptor,
    options: ServeOptions,
    handler: Arc<H>,
    mut stopping: watch::Receiver<bool>,
) {
    let last_read = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let io = ReadClock { inner: tcp, start, last_read: last_read.clone() };
    let Ok(tls) = acceptor.accept(io).await else { return };
    let builder = {
        let mut b = h2::server::Builder::new();
        b.max_concurrent_streams(options.max_concurrent_streams);
        b
    };
    let Ok(mut conn) = builder.handshake::<_, Bytes>(tls).await else { return };
    let (control, mut controls) = mpsc::unbounded_channel();
    let mut streams = JoinSet::new();
    let mut idle_check = tokio::time::interval(options.idle_timeout.min(Duration::from_secs(1)) / 2);
    loop {
        tokio::select! {
            next = conn.accept() => match next {
                Some(Ok((request, respond))) => {
                    let exchange = Exchange { request, respond, control: control.clone(), stopping: stopping.clone() };
                    streams.spawn(handler.clone().handle(exchange));
                }
                _ => break,
            },
            Some(what) = controls.recv() => match what {
                Control::GoAway => conn.graceful_shutdown(),
                Control::Drop => break,
            },
            _ = idle_check.tick() => {
                let idle = start.elapsed().saturating_sub(Duration::from_millis(last_read.load(Ordering::SeqCst)));
                if idle > options.idle_timeout && streams.is_empty() {
                    break;
                }
            }
            Some(_) = streams.join_next(), if !streams.is_empty() => {}
            _ = stopping.changed() => break,
        }
    }
    streams.abort_all();
}

/// A socket that notes when it last read anything (a PING included).
struct ReadClock {
    inner: TcpStream,
    start: Instant,
    last_read: Arc<AtomicU64>,
}

impl AsyncRead for ReadClock {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
            self.last_read.store(ms, Ordering::SeqCst);
        }
        polled
    }
}

impl AsyncWrite for ReadClock {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Reads a request body, at most `limit + 1` bytes (enough to tell that it
/// is over `limit`), releasing flow-control capacity as it goes.
pub(crate) async fn read_body(body: &mut RecvStream, limit: usize) -> Result<Vec<u8>, h2::Error> {
    let mut out = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk?;
        let _ = body.flow_control().release_capacity(chunk.len());
        let room = (limit + 1).saturating_sub(out.len());
        out.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if out.len() > limit {
            break;
        }
    }
    Ok(out)
}
