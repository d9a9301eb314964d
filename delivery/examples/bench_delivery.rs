//! Delivery throughput and memory, for `bench/delivery.sh` (BENCHMARKS.md,
//! "Delivery: throughput and memory"), against the local APNs gateway on
//! 127.0.0.1, over real HTTP/2 and TLS.
//!
//! ```text
//! bench_delivery throughput PUSHES ROUNDS IN_FLIGHT [SENDS]
//!     ROUNDS rounds, each of three sends of PUSHES pushes, their order turned
//!     every round so that the machine's drift falls on all three alike:
//!     - presealed: pushes sealed before the clock starts, through
//!       `ApnsClient::deliver`, IN_FLIGHT at a time;
//!     - floor: the same pushes on a bare `h2` client (same TLS, bodies and
//!       headers, as many connections as the client keeps), IN_FLIGHT at a
//!       time, each request built as it is sent, and nothing else: no
//!       retries, no deadlines, no outcomes;
//!     - sealed_sent: `seal_and_deliver` of one message to PUSHES devices
//!       (sealing included), IN_FLIGHT at most in flight.
//!     Prints each round's pushes/s and the CPU time per push of the sending
//!     side (the process's, less the gateway's threads) and of the gateway;
//!     then, for each send, the best and the median rate and the CPU time per
//!     push over all rounds; then the ratios presealed / floor: of the best
//!     rates, the median of the rounds' ratios, and of the CPU time. SENDS
//!     (default `all`) picks some of them: `presealed,floor,sealed_sent`,
//!     e.g. to profile one alone.
//! bench_delivery rss DEVICES IN_FLIGHT
//!     A streamed send to DEVICES devices in a child process (this program
//!     again, `stream-child`), so that its peak RSS (VmHWM) counts the sender
//!     only; the gateway runs in this process.
//! bench_delivery stream-child PORT CA_FILE DEVICES IN_FLIGHT
//!     The child of `rss`: prints devices/s and its own VmHWM.
//! ```
//!
//! The gateway and the sender run on runtimes of their own (two worker
//! threads each, named `gw` and `send`), on the same machine, as the issue's
//! targets ask. All pushes must end `delivered`; anything else stops the run.
//! The client keeps 2 connections (its default), or the environment's
//! `CONNECTIONS`; the floor as many. The gateway allows 500 streams a
//! connection, or the environment's `GATEWAY_STREAMS`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use p256::ecdsa::signature::Signer;
use p256::pkcs8::EncodePrivateKey;
use pushseal::{
    ApnsOptions, ApnsRequest, BatchDevice, DeviceKeyring, DevicePublicKey, Message, Sender, SenderSecretKey,
};
use pushseal_delivery::apns::{ApnsClient, ApnsEndpoint};
use pushseal_delivery::gateway::apns::{ApnsGateway, ApnsGatewayOptions};
use pushseal_delivery::{ApnsKey, Deliver, Outcome, OutcomeKind, Push, Trust, seal_and_deliver};
use rustls_pki_types::pem::PemObject;

const KEY_ID: &str = "BENCH12345";
const TEAM_ID: &str = "TEAM123456";
const TOPIC: &str = "com.example.clinic";
/// HTTP/2 connections of the client, and of the floor: the environment's
/// `CONNECTIONS`, else 2 (the client's default).
fn connection_count() -> usize {
    std::env::var("CONNECTIONS").ok().and_then(|n| n.parse().ok()).filter(|&n| n > 0).unwrap_or(2)
}
/// The gateway's `SETTINGS_MAX_CONCURRENT_STREAMS`: the environment's
/// `GATEWAY_STREAMS`, else 500, the least APNs has been seen to advertise
/// (the test gateway's own default, 100, is below what 256 in flight on 2
/// connections need).
fn gateway_streams() -> u32 {
    std::env::var("GATEWAY_STREAMS").ok().and_then(|n| n.parse().ok()).filter(|&n| n > 0).unwrap_or(500)
}

/// Distinct device keys the batches cycle through (making a key is an X25519
/// operation: a million of them would measure key generation).
const KEYS: usize = 64;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize| args.get(i).and_then(|s| s.parse::<usize>().ok());
    let done = match args.first().map(String::as_str) {
        Some("throughput") => match (num(1), num(2), num(3), Side::parse(args.get(4).map_or("all", String::as_str))) {
            (Some(n), Some(r), Some(k), Some(sides)) => Some(throughput(n, r, k, &sides)),
            _ => None,
        },
        Some("rss") => num(1).zip(num(2)).map(|(n, k)| rss(n, k)),
        Some("stream-child") => match (args.get(1).and_then(|p| p.parse::<u16>().ok()), args.get(2), num(3), num(4)) {
            (Some(port), Some(ca), Some(n), Some(k)) => Some(stream_child(port, Path::new(ca), n, k)),
            _ => None,
        },
        _ => None,
    };
    match done {
        Some(Ok(())) => ExitCode::SUCCESS,
        Some(Err(e)) => {
            eprintln!("bench_delivery: {e}");
            ExitCode::FAILURE
        }
        None => {
            eprintln!("usage: see the doc comment of delivery/examples/bench_delivery.rs");
            ExitCode::from(2)
        }
    }
}

type Result<T> = std::result::Result<T, String>;

fn key_pem() -> String {
    let key = p256::ecdsa::SigningKey::from_slice(&[7; 32]).expect("a valid scalar");
    key.to_pkcs8_pem(Default::default()).expect("encodes").to_string()
}

fn apns_key() -> ApnsKey {
    ApnsKey::from_p8_pem(&key_pem(), KEY_ID, TEAM_ID).expect("a valid key")
}

fn runtime(name: &str) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// The gateway on a runtime of its own, and the directory of its CA file.
struct Gateway {
    runtime: tokio::runtime::Runtime,
    gateway: Option<ApnsGateway>,
    dir: PathBuf,
}

impl Gateway {
    fn start() -> Result<Self> {
        let runtime = runtime("gw");
        let dir = std::env::temp_dir().join(format!("pushseal-bench-delivery-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let mut options = ApnsGatewayOptions::new(TEAM_ID, KEY_ID, apns_key().verifying_key(), TOPIC);
        // Never closed for idleness during a long run.
        options.idle_timeout = Duration::from_secs(3600);
        options.max_concurrent_streams = gateway_streams();
        let gateway = runtime.block_on(ApnsGateway::start(options, &dir.join("ca.pem"))).map_err(|e| e.to_string())?;
        Ok(Self { runtime, gateway: Some(gateway), dir })
    }

    fn gateway(&self) -> &ApnsGateway {
        self.gateway.as_ref().expect("running")
    }

    fn ca_file(&self) -> PathBuf {
        self.gateway().ca_file().to_owned()
    }

    fn port(&self) -> u16 {
        match self.gateway().endpoint() {
            ApnsEndpoint::Host { port, .. } => port,
            _ => 0,
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(gateway) = self.gateway.take() {
            self.runtime.block_on(gateway.stop());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn client(port: u16, ca_file: &Path) -> Result<ApnsClient> {
    ApnsClient::builder(apns_key())
        .topic(TOPIC)
        .endpoint(ApnsEndpoint::Host { host: "127.0.0.1".into(), port })
        .trust(Trust::CaFile(ca_file.to_owned()))
        .connections(connection_count())
        .build()
        .map_err(|e| e.to_string())
}

fn message() -> Message {
    Message::new("Lab results", "Your results from Tuesday are ready. Open the app to read them.")
}

fn device_keys() -> Vec<DevicePublicKey> {
    (0..KEYS).map(|_| DeviceKeyring::generate().expect("randomness").public_key()).collect()
}

fn token(i: usize) -> String {
    format!("{i:064x}")
}

/// The CPU time so far of the sending side (the process's, less the
/// gateway's threads, named `gw`; sealing included) and of the gateway, in
/// clock ticks.
fn cpu_ticks() -> (u64, u64) {
    let total = stat_ticks(Path::new("/proc/self/stat"));
    let mut gateway = 0;
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for task in tasks.flatten() {
            let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            if comm.trim() == "gw" {
                gateway += stat_ticks(&task.path().join("stat"));
            }
        }
    }
    (total.saturating_sub(gateway), gateway)
}

/// utime + stime of a `/proc/.../stat` file, in clock ticks (0 if unreadable).
fn stat_ticks(path: &Path) -> u64 {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    // The fields after the command name, which is in parentheses.
    let rest = text.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after ')'.
    let field = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    field(11) + field(12)
}

/// Clock ticks a second (USER_HZ): 100 on Linux.
const TICKS_PER_SEC: f64 = 100.0;

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join("/"))
        .unwrap_or_default()
}

/// The process's peak resident set (VmHWM), in KiB; 0 where /proc is missing.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| l.strip_prefix("VmHWM:").and_then(|v| v.trim().trim_end_matches(" kB").parse().ok()))
        })
        .unwrap_or(0)
}

/// What a round of `throughput` sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// Pre-sealed pushes through the crate's client.
    Presealed = 0,
    /// The same requests on a bare h2 client.
    Floor = 1,
    /// `seal_and_deliver`, sealing included.
    Stream = 2,
}

impl Side {
    const ALL: [Side; 3] = [Side::Presealed, Side::Floor, Side::Stream];

    fn name(self) -> &'static str {
        ["presealed", "floor", "sealed_sent"][self as usize]
    }

    /// `all`, or some of `presealed,floor,sealed_sent`.
    fn parse(list: &str) -> Option<Vec<Side>> {
        if list == "all" {
            return Some(Self::ALL.to_vec());
        }
        let sides: Option<Vec<Side>> =
            list.split(',').map(|name| Self::ALL.into_iter().find(|s| s.name() == name)).collect();
        sides.filter(|s| !s.is_empty())
    }
}

/// One timed send: its rate and the CPU time of each side.
#[derive(Debug, Clone, Copy)]
struct Run {
    pushes: usize,
    per_sec: f64,
    /// The sending side's CPU time, in clock ticks.
    cpu_ticks: u64,
    /// The gateway's.
    gateway_ticks: u64,
}

impl Run {
    /// CPU microseconds a push of the sending side and of the gateway, over `runs`.
    fn cpu_us(runs: &[Run]) -> (f64, f64) {
        let pushes = runs.iter().map(|r| r.pushes).sum::<usize>().max(1) as f64;
        let us = |ticks: u64| ticks as f64 / TICKS_PER_SEC * 1e6 / pushes;
        (us(runs.iter().map(|r| r.cpu_ticks).sum()), us(runs.iter().map(|r| r.gateway_ticks).sum()))
    }
}

fn timed(n: usize, send: impl FnOnce() -> Result<()>) -> Result<Run> {
    let (cpu, gateway_cpu) = cpu_ticks();
    let start = Instant::now();
    send()?;
    let elapsed = start.elapsed().as_secs_f64();
    let (cpu_end, gateway_cpu_end) = cpu_ticks();
    Ok(Run {
        pushes: n,
        per_sec: n as f64 / elapsed,
        cpu_ticks: cpu_end.saturating_sub(cpu),
        gateway_ticks: gateway_cpu_end.saturating_sub(gateway_cpu),
    })
}

/// Pushes sealed before any clock starts.
type Pushes = Arc<Vec<Push<ApnsRequest>>>;

/// Pre-sealed pushes through the client, `in_flight` at a time.
async fn send_crate(client: &ApnsClient, pushes: &Pushes, in_flight: usize) -> Result<()> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..in_flight {
        let (client, pushes, next) = (client.clone(), pushes.clone(), next.clone());
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(push) = pushes.get(i) else { return Ok(()) };
                match client.deliver(push).await {
                    Outcome::Delivered { .. } => {}
                    other => return Err(format!("push {i}: {other}")),
                }
            }
        });
    }
    while let Some(done) = workers.join_next().await {
        done.map_err(|e| e.to_string())??;
    }
    Ok(())
}

/// The floor: a bare h2 client, with the same TLS as the crate's.
struct Floor {
    connections: Vec<h2::client::SendRequest<Bytes>>,
    port: u16,
    /// `bearer <JWT>`, made once, as the client makes one per period.
    authorization: http::HeaderValue,
}

impl Floor {
    async fn connect(port: u16, ca_file: &Path) -> Result<Self> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_pki_types::CertificateDer::pem_file_iter(ca_file).map_err(|e| e.to_string())? {
            roots.add(cert.map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
        }
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"h2".to_vec()];
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config));
        let mut connections = Vec::new();
        for _ in 0..connection_count() {
            let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.map_err(|e| e.to_string())?;
            tcp.set_nodelay(true).map_err(|e| e.to_string())?;
            let name = rustls_pki_types::ServerName::try_from("127.0.0.1").map_err(|e| e.to_string())?;
            let stream = tls.connect(name, tcp).await.map_err(|e| e.to_string())?;
            let (send, connection) =
                h2::client::Builder::new().handshake::<_, Bytes>(stream).await.map_err(|e| e.to_string())?;
            tokio::spawn(async move {
                let _ = connection.await;
            });
            connections.push(send);
        }
        let authorization =
            http::HeaderValue::try_from(format!("bearer {}", provider_token())).map_err(|e| e.to_string())?;
        Ok(Self { connections, port, authorization })
    }

    /// The request of push `i`, built as a bare client builds it when it
    /// sends: the crate's path and headers (the `apns-id` from a counter
    /// rather than a hash).
    fn request(&self, i: usize, push: &Push<ApnsRequest>) -> Result<http::Request<()>> {
        let mut request = http::Request::builder()
            .method(http::Method::POST)
            .uri(format!("https://127.0.0.1:{}/3/device/{}", self.port, push.device))
            .header(http::header::AUTHORIZATION, self.authorization.clone())
            .header("apns-id", format!("00000000-0000-8000-8000-{i:012X}"));
        for (name, value) in &push.sealed.payload.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        if push.sealed.payload.header("apns-topic").is_none() {
            request = request.header("apns-topic", TOPIC);
        }
        request.body(()).map_err(|e| e.to_string())
    }

    /// Sends every push, with its body from `bodies`, `in_flight` at a time.
    async fn send(self: &Arc<Self>, pushes: &Pushes, bodies: &Arc<Vec<Bytes>>, in_flight: usize) -> Result<()> {
        let next = Arc::new(AtomicUsize::new(0));
        let mut workers = tokio::task::JoinSet::new();
        for w in 0..in_flight {
            let (floor, pushes, bodies, next) = (self.clone(), pushes.clone(), bodies.clone(), next.clone());
            workers.spawn(async move {
                let connection = &floor.connections[w % floor.connections.len()];
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let (Some(push), Some(body)) = (pushes.get(i), bodies.get(i)) else { return Ok(()) };
                    let request = floor.request(i, push)?;
                    let mut sender = connection.clone().ready().await.map_err(|e| e.to_string())?;
                    let (response, mut stream) = sender.send_request(request, false).map_err(|e| e.to_string())?;
                    stream.send_data(body.clone(), true).map_err(|e| e.to_string())?;
                    let response = response.await.map_err(|e| e.to_string())?;
                    if response.status() != http::StatusCode::OK {
                        return Err(format!("request {i}: status {}", response.status()));
                    }
                    let mut body = response.into_body();
                    while let Some(chunk) = body.data().await {
                        let chunk = chunk.map_err(|e| e.to_string())?;
                        let _ = body.flow_control().release_capacity(chunk.len());
                    }
                }
            });
        }
        while let Some(done) = workers.join_next().await {
            done.map_err(|e| e.to_string())??;
        }
        Ok(())
    }
}

/// An ES256 provider token of the benchmark's key, as the client makes them.
fn provider_token() -> String {
    let key = p256::ecdsa::SigningKey::from_slice(&[7; 32]).expect("a valid scalar");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let header = serde_json::json!({ "alg": "ES256", "kid": KEY_ID });
    let claims = serde_json::json!({ "iss": TEAM_ID, "iat": now });
    let input =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let signature: p256::ecdsa::Signature = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

/// A streamed send of one message to `n` devices: sealed and delivered.
async fn send_stream(
    client: &ApnsClient,
    sender: &Arc<Sender>,
    keys: &Arc<Vec<DevicePublicKey>>,
    n: usize,
    in_flight: usize,
) -> Result<()> {
    let keys = keys.clone();
    let devices = (0..n).map(move |i| BatchDevice::new(keys[i % KEYS]).with_token(token(i)));
    let mut bad = None;
    let summary =
        seal_and_deliver(client, sender.clone(), message(), ApnsOptions::default(), devices, in_flight, |r| {
            if !matches!(r.result, Ok(Outcome::Delivered { .. })) && bad.is_none() {
                bad = Some(format!("device {}: {:?}", r.index, r.result));
            }
        })
        .await
        .map_err(|e| e.to_string())?;
    if let Some(bad) = bad {
        return Err(bad);
    }
    if summary.count(OutcomeKind::Delivered) != n as u64 {
        return Err(format!("{} of {n} delivered", summary.count(OutcomeKind::Delivered)));
    }
    Ok(())
}

/// The best (highest) and the median of `values`.
fn best_and_median(mut values: Vec<f64>) -> (f64, f64) {
    values.sort_by(f64::total_cmp);
    (values.last().copied().unwrap_or(0.0), values.get(values.len() / 2).copied().unwrap_or(0.0))
}

fn throughput(n: usize, rounds: usize, in_flight: usize, sides: &[Side]) -> Result<()> {
    let (n, rounds, in_flight) = (n.max(1), rounds.max(1), in_flight.max(1));
    let gateway = Gateway::start()?;
    let (port, ca_file) = (gateway.port(), gateway.ca_file());
    let send_rt = runtime("send");
    let sender = Arc::new(Sender::new(SenderSecretKey::generate().map_err(|e| e.to_string())?));
    let keys = Arc::new(device_keys());

    // Every push sealed for its own device before any clock starts.
    let devices: Vec<BatchDevice> = (0..n).map(|i| BatchDevice::new(keys[i % KEYS]).with_token(token(i))).collect();
    let sealed = sender.seal_batch(devices, &message(), &ApnsOptions::default()).map_err(|e| e.to_string())?;
    let pushes: Vec<Push<ApnsRequest>> = sealed
        .into_iter()
        .enumerate()
        .map(|(i, s)| s.map(|s| Push::new(token(i), s)).map_err(|e| e.to_string()))
        .collect::<Result<_>>()?;
    let bodies: Arc<Vec<Bytes>> =
        Arc::new(pushes.iter().map(|p| Bytes::from(p.sealed.payload.body.clone().into_bytes())).collect());
    let body_bytes = bodies[0].len();
    let pushes = Arc::new(pushes);
    let client = client(port, &ca_file)?;
    let floor = Arc::new(send_rt.block_on(Floor::connect(port, &ca_file))?);
    println!(
        "delivery pushes={n} rounds={rounds} in_flight={in_flight} connections={} gateway_streams={} \
         body_bytes={body_bytes} nproc={} load_start={}",
        connection_count(),
        gateway_streams(),
        std::thread::available_parallelism().map_or(1, |p| p.get()),
        load()
    );

    // Warm-up: connections open (and the client's first request succeeds) before any timing.
    let first = Arc::new(pushes[..in_flight.min(n)].to_vec());
    send_rt.block_on(send_crate(&client, &first, in_flight))?;
    send_rt.block_on(floor.send(&first, &bodies, in_flight))?;

    // runs[side]: presealed, floor, sealed_sent.
    let mut runs: [Vec<Run>; 3] = Default::default();
    let mut ratios = Vec::new();
    for round in 0..rounds {
        let mut this = [None; 3];
        // The order turns every round: presealed, floor, stream; floor, stream, presealed; ...
        for k in 0..sides.len() {
            let side = sides[(round + k) % sides.len()];
            let run = match side {
                Side::Presealed => timed(n, || send_rt.block_on(send_crate(&client, &pushes, in_flight)))?,
                Side::Floor => timed(n, || send_rt.block_on(floor.send(&pushes, &bodies, in_flight)))?,
                Side::Stream => timed(n, || send_rt.block_on(send_stream(&client, &sender, &keys, n, in_flight)))?,
            };
            this[side as usize] = Some(run);
        }
        let mut line = format!("round={}", round + 1);
        for side in Side::ALL {
            if let Some(r) = this[side as usize] {
                let (cpu_us, gateway_cpu_us) = Run::cpu_us(&[r]);
                line += &format!(
                    " {0}_per_s={1:.0} {0}_cpu_us={cpu_us:.1} {0}_gateway_cpu_us={gateway_cpu_us:.1}",
                    side.name(),
                    r.per_sec,
                );
                runs[side as usize].push(r);
            }
        }
        if let (Some(c), Some(f)) = (this[0], this[1]) {
            // The client's time over the floor's, for the same pushes.
            ratios.push(f.per_sec / c.per_sec);
            line += &format!(" ratio={:.3}", f.per_sec / c.per_sec);
        }
        println!("{line} load={}", load());
    }
    for side in Side::ALL {
        let runs = &runs[side as usize];
        if runs.is_empty() {
            continue;
        }
        let (best, median) = best_and_median(runs.iter().map(|r| r.per_sec).collect());
        let (cpu_us, gateway_cpu_us) = Run::cpu_us(runs);
        println!(
            "summary side={} per_s_best={best:.0} per_s_median={median:.0} cpu_us={cpu_us:.1} \
             gateway_cpu_us={gateway_cpu_us:.1}",
            side.name(),
        );
    }
    let (crate_runs, floor_runs) = (&runs[0], &runs[1]);
    if !ratios.is_empty() {
        let best_rate = |runs: &[Run]| best_and_median(runs.iter().map(|r| r.per_sec).collect()).0;
        let (_, median) = best_and_median(ratios);
        println!(
            "ratio time_best_rates={:.3} time_median_of_rounds={median:.3} cpu={:.3}",
            best_rate(floor_runs) / best_rate(crate_runs),
            Run::cpu_us(crate_runs).0 / Run::cpu_us(floor_runs).0,
        );
    }
    println!("load_end={}", load());
    send_rt.block_on(client.shutdown());
    Ok(())
}

fn rss(n: usize, in_flight: usize) -> Result<()> {
    let gateway = Gateway::start()?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    println!("rss devices={n} in_flight={in_flight} load_start={}", load());
    let status = std::process::Command::new(exe)
        .arg("stream-child")
        .arg(gateway.port().to_string())
        .arg(gateway.ca_file())
        .arg(n.to_string())
        .arg(in_flight.to_string())
        .status()
        .map_err(|e| e.to_string())?;
    println!("load_end={}", load());
    if !status.success() {
        return Err(format!("the child failed: {status}"));
    }
    Ok(())
}

fn stream_child(port: u16, ca_file: &Path, n: usize, in_flight: usize) -> Result<()> {
    let send_rt = runtime("send");
    let client = client(port, ca_file)?;
    let sender = Arc::new(Sender::new(SenderSecretKey::generate().map_err(|e| e.to_string())?));
    let keys = Arc::new(device_keys());
    let before = peak_rss_kib();
    let run = timed(n, || send_rt.block_on(send_stream(&client, &sender, &keys, n, in_flight)))?;
    send_rt.block_on(client.shutdown());
    println!(
        "stream_child devices={n} in_flight={in_flight} sealed_sent_per_s={:.0} cpu_us_per_push={:.1} \
         peak_rss_kib_before={before} peak_rss_kib={}",
        run.per_sec,
        Run::cpu_us(&[run]).0,
        peak_rss_kib()
    );
    Ok(())
}
