//! A local gateway that answers as APNs does.
//!
//! It checks what APNs checks, in this order, and answers as Apple documents
//! (`{"reason": ...}`, with `timestamp` for 410):
//!
//! 1. the method (`POST`, else 405 `MethodNotAllowed`) and the path
//!    (`/3/device/<token>`, else 404 `BadPath`; an empty token is 400
//!    `MissingDeviceToken`);
//! 2. the provider token: `authorization: bearer <JWT>` (else 403
//!    `MissingProviderToken`), an ES256 JWT whose header names the key id
//!    and whose `iss` is the team, signed by the `.p8`'s key (else 403
//!    `InvalidProviderToken`), issued at most an hour ago (else 403
//!    `ExpiredProviderToken`);
//! 3. the headers: `apns-topic` present (400 `MissingTopic`) and the
//!    configured topic (400 `TopicDisallowed`); `apns-push-type` one of
//!    Apple's (400 `InvalidPushType`); `apns-priority` 10, 5 or 1
//!    (400 `BadPriority`); `apns-expiration` a number (400
//!    `BadExpirationDate`); `apns-collapse-id` at most 64 bytes (400
//!    `BadCollapseId`); `apns-id` a UUID (400 `BadMessageId`); no header twice
//!    (400 `DuplicateHeaders`);
//! 4. the payload: not empty (400 `PayloadEmpty`), at most 4096 bytes (413
//!    `PayloadTooLarge`).
//!
//! Then the device token chooses the answer:
//!
//! | device token            | answer                                                          |
//! |-------------------------|-----------------------------------------------------------------|
//! | 64 to 200 hex digits    | 200, `apns-id`                                                  |
//! | `unregistered`          | 410 `Unregistered`, `timestamp` a day ago                       |
//! | `reason-<Reason>`       | Apple's status for `<Reason>` (`reason-BadTopic`: 400 `BadTopic`) |
//! | `retry-after-<secs>`    | 429 `TooManyRequests`, `Retry-After: <secs>`                    |
//! | `flaky-<n>-<Reason>`    | `<Reason>` the first `n` times this token is sent to, then 200  |
//! | `delay-<ms>[-<any>]`    | 200 after `<ms>` milliseconds                                   |
//! | `goaway`                | 200, then GOAWAY on that connection                             |
//! | `refuse-<n>[-<any>]`    | the stream reset with `REFUSED_STREAM` the first `n` times      |
//! | `drop`                  | the connection closes without an answer                         |
//! | `stall`                 | no answer, ever                                                 |
//! | anything else           | 400 `BadDeviceToken`                                            |
//!
//! With an [`inbox`](ApnsGatewayOptions::inbox), the body of each accepted
//! notification is kept there, to be opened as the phone would.

use std::collections::{BTreeSet, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use p256::ecdsa::signature::Verifier;

use super::server::{ConnectionCounters, Control, Exchange, Handler, Listener, ServeOptions, TestCa, read_body};
use crate::apns::{ApnsEndpoint, uuid_text};
use crate::clock::{Clock, SystemClock};

/// Apple's answers: each documented reason and its status.
pub const REASONS: &[(u16, &str)] = &[
    (400, "BadCollapseId"),
    (400, "BadDeviceToken"),
    (400, "BadExpirationDate"),
    (400, "BadMessageId"),
    (400, "BadPriority"),
    (400, "BadTopic"),
    (400, "DeviceTokenNotForTopic"),
    (400, "DuplicateHeaders"),
    (400, "IdleTimeout"),
    (400, "InvalidPushType"),
    (400, "MissingDeviceToken"),
    (400, "MissingTopic"),
    (400, "PayloadEmpty"),
    (400, "TopicDisallowed"),
    (403, "BadCertificate"),
    (403, "BadCertificateEnvironment"),
    (403, "ExpiredProviderToken"),
    (403, "Forbidden"),
    (403, "InvalidProviderToken"),
    (403, "MissingProviderToken"),
    (404, "BadPath"),
    (405, "MethodNotAllowed"),
    (410, "ExpiredToken"),
    (410, "Unregistered"),
    (413, "PayloadTooLarge"),
    (429, "TooManyProviderTokenUpdates"),
    (429, "TooManyRequests"),
    (500, "InternalServerError"),
    (503, "ServiceUnavailable"),
    (503, "Shutdown"),
];

/// Apple's push types (`apns-push-type`).
const PUSH_TYPES: &[&str] = &[
    "alert",
    "background",
    "controls",
    "location",
    "voip",
    "complication",
    "fileprovider",
    "mdm",
    "liveactivity",
    "pushtotalk",
    "widgets",
];

/// The payload limit of a push other than VoIP.
pub const PAYLOAD_LIMIT: usize = 4096;
/// How old a provider token may be.
pub const TOKEN_MAX_AGE_SECS: u64 = 3600;

/// A new P-256 key in PKCS#8 PEM, as Apple's `.p8` files are: for trying
/// the gateway with no Apple account. **Secret** (for the gateway's
/// purposes only), in a buffer that wipes itself.
pub fn new_test_key_pem() -> io::Result<zeroize::Zeroizing<String>> {
    use p256::pkcs8::EncodePrivateKey;
    loop {
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut *seed).map_err(|e| io::Error::other(format!("no randomness: {e}")))?;
        // A random 32 bytes is a valid scalar but with a chance of about 2^-32.
        if let Ok(key) = p256::ecdsa::SigningKey::from_slice(&*seed) {
            let pem = key.to_pkcs8_pem(Default::default()).map_err(|e| io::Error::other(e.to_string()))?;
            return Ok(zeroize::Zeroizing::new(pem.to_string()));
        }
    }
}

/// What an [`ApnsGateway`] accepts.
pub struct ApnsGatewayOptions {
    /// The team id every provider token's `iss` must be.
    pub team_id: String,
    /// The key id every provider token's `kid` must be.
    pub key_id: String,
    /// The public half of the team's `.p8` key.
    pub key: p256::ecdsa::VerifyingKey,
    /// The app's bundle id: the only `apns-topic` accepted.
    pub topic: String,
    /// The port on 127.0.0.1 (0: any free one).
    pub port: u16,
    /// `SETTINGS_MAX_CONCURRENT_STREAMS` (default 100).
    pub max_concurrent_streams: u32,
    /// A connection from which nothing was read (no request, no PING) for
    /// this long is closed (default 10 minutes).
    pub idle_timeout: Duration,
    /// The clock provider tokens' ages are judged by.
    pub clock: Arc<dyn Clock>,
    /// A directory (which must exist) where the body of each accepted
    /// notification is kept, named by [`inbox_path`](super::inbox_path),
    /// before the 200 answer; none by default. A body that cannot be kept is
    /// answered 500 `InternalServerError`.
    pub inbox: Option<PathBuf>,
}

impl ApnsGatewayOptions {
    /// Options for this team, key and topic, with the defaults.
    pub fn new(team_id: &str, key_id: &str, key: p256::ecdsa::VerifyingKey, topic: &str) -> Self {
        Self {
            team_id: team_id.to_owned(),
            key_id: key_id.to_owned(),
            key,
            topic: topic.to_owned(),
            port: 0,
            max_concurrent_streams: 100,
            idle_timeout: Duration::from_secs(600),
            clock: Arc::new(SystemClock),
            inbox: None,
        }
    }
}

/// What a gateway has seen, for a test to check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApnsGatewayStats {
    /// TCP connections accepted.
    pub connections: u64,
    /// Requests received (every stream, answered or not).
    pub requests: u64,
    /// `apns-id` of every request answered 200, in order.
    pub delivered: Vec<String>,
    /// The distinct provider tokens (`iat`) that were accepted.
    pub token_issue_times: BTreeSet<u64>,
    /// Requests answered 403 `ExpiredProviderToken`.
    pub expired_token_answers: u64,
    /// The most requests being handled at once.
    pub peak_concurrent: u64,
    /// The most requests being handled at once before the first 200 answer.
    pub peak_concurrent_before_first_ok: u64,
}

struct State {
    options: ApnsGatewayOptions,
    requests: AtomicU64,
    active: AtomicU64,
    peak: AtomicU64,
    peak_before_ok: AtomicU64,
    answered_ok: std::sync::atomic::AtomicBool,
    expire_before: AtomicU64,
    log: Mutex<Log>,
}

#[derive(Default)]
struct Log {
    delivered: Vec<String>,
    token_issue_times: BTreeSet<u64>,
    expired_token_answers: u64,
    flaky_counts: HashMap<String, u32>,
    /// The last provider token whose signature, header and claims were
    /// good, and its `iat`: APNs checks a token once per connection, not on
    /// every request. Its age is still checked on every request.
    verified: Option<(String, u64)>,
}

impl State {
    fn log(&self) -> std::sync::MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running APNs test gateway on 127.0.0.1. Stop it with [`ApnsGateway::stop`].
pub struct ApnsGateway {
    listener: Listener,
    ca_file: PathBuf,
    counters: Arc<ConnectionCounters>,
    state: Arc<State>,
}

impl ApnsGateway {
    /// Starts a gateway, with a CA made now and written to `ca_file` (PEM),
    /// which a client trusts to reach it.
    pub async fn start(options: ApnsGatewayOptions, ca_file: &Path) -> io::Result<Self> {
        let ca = TestCa::generate()?;
        let ca_file = ca_file.to_owned();
        ca.write_ca_file(&ca_file)?;
        let serve =
            ServeOptions { max_concurrent_streams: options.max_concurrent_streams, idle_timeout: options.idle_timeout };
        let port = options.port;
        let state = Arc::new(State {
            options,
            requests: AtomicU64::new(0),
            active: AtomicU64::new(0),
            peak: AtomicU64::new(0),
            peak_before_ok: AtomicU64::new(0),
            answered_ok: std::sync::atomic::AtomicBool::new(false),
            expire_before: AtomicU64::new(0),
            log: Mutex::default(),
        });
        let counters = Arc::new(ConnectionCounters::default());
        let listener = Listener::start(port, &ca, serve, counters.clone(), state.clone()).await?;
        Ok(Self { listener, ca_file, counters, state })
    }

    /// The endpoint a client sends to (`127.0.0.1` and the port).
    pub fn endpoint(&self) -> ApnsEndpoint {
        ApnsEndpoint::Host { host: "127.0.0.1".into(), port: self.listener.addr.port() }
    }

    /// The CA file a client trusts to reach this gateway.
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// From now on, provider tokens issued before `unix_secs` are answered
    /// 403 `ExpiredProviderToken`, as APNs answers a token it holds too old.
    pub fn expire_tokens_issued_before(&self, unix_secs: u64) {
        self.state.expire_before.store(unix_secs, Ordering::SeqCst);
    }

    /// What the gateway has seen so far.
    pub fn stats(&self) -> ApnsGatewayStats {
        let log = self.state.log();
        ApnsGatewayStats {
            connections: self.counters.accepted.load(Ordering::SeqCst),
            requests: self.state.requests.load(Ordering::SeqCst),
            delivered: log.delivered.clone(),
            token_issue_times: log.token_issue_times.clone(),
            expired_token_answers: log.expired_token_answers,
            peak_concurrent: self.state.peak.load(Ordering::SeqCst),
            peak_concurrent_before_first_ok: self.state.peak_before_ok.load(Ordering::SeqCst),
        }
    }

    /// Stops the gateway and closes its connections.
    pub async fn stop(self) {
        self.listener.stop().await;
    }
}

/// How the gateway answers one request.
enum Answer {
    Ok { apns_id: String },
    Delayed { apns_id: String, ms: u64 },
    Error { status: u16, reason: String, timestamp_ms: Option<u64>, retry_after: Option<u64> },
    GoAwayAfter { apns_id: String },
    Refuse,
    Drop,
    Stall,
}

fn error(status: u16, reason: &str) -> Answer {
    Answer::Error { status, reason: reason.to_owned(), timestamp_ms: None, retry_after: None }
}

fn documented(reason: &str) -> Option<Answer> {
    REASONS.iter().find(|(_, r)| *r == reason).map(|(status, r)| error(*status, r))
}

impl Handler for State {
    async fn handle(self: Arc<Self>, exchange: Exchange) {
        let Exchange { request, mut respond, control, mut stopping } = exchange;
        self.requests.fetch_add(1, Ordering::SeqCst);
        let active = self.active.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(active, Ordering::SeqCst);
        if !self.answered_ok.load(Ordering::SeqCst) {
            self.peak_before_ok.fetch_max(active, Ordering::SeqCst);
        }
        let _active = Active(&self.active);
        let (parts, mut body) = request.into_parts();
        let Ok(payload) = read_body(&mut body, PAYLOAD_LIMIT).await else { return };
        let answer = self.answer(&parts, &payload);
        let (mut status, apns_id, mut json, retry_after, then) = match answer {
            Answer::Stall => {
                // Answer nothing until the gateway stops or the connection ends.
                let _ = stopping.changed().await;
                return;
            }
            Answer::Drop => {
                let _ = control.send(Control::Drop);
                return;
            }
            Answer::Refuse => {
                respond.send_reset(h2::Reason::REFUSED_STREAM);
                return;
            }
            Answer::Ok { apns_id } => (200, apns_id, None, None, None),
            Answer::Delayed { apns_id, ms } => {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(ms)) => {}
                    _ = stopping.changed() => return,
                }
                (200, apns_id, None, None, None)
            }
            Answer::GoAwayAfter { apns_id } => (200, apns_id, None, None, Some(Control::GoAway)),
            Answer::Error { status, reason, timestamp_ms, retry_after } => {
                let json = match timestamp_ms {
                    Some(ts) => serde_json::json!({ "reason": reason, "timestamp": ts }),
                    None => serde_json::json!({ "reason": reason }),
                };
                (status, request_id(&parts.headers), Some(json.to_string()), retry_after, None)
            }
        };
        if status == 200
            && let Some(dir) = &self.options.inbox
        {
            let token = parts.uri.path().strip_prefix("/3/device/").unwrap_or_default();
            if super::inbox::keep(dir, token, &apns_id, payload).await.is_err() {
                status = 500;
                json = Some(serde_json::json!({ "reason": "InternalServerError" }).to_string());
            }
        }
        if status == 200 {
            self.log().delivered.push(apns_id.clone());
            self.answered_ok.store(true, Ordering::SeqCst);
        }
        let mut response = http::Response::builder().status(status).header("apns-id", apns_id);
        if let Some(secs) = retry_after {
            response = response.header("retry-after", secs.to_string());
        }
        let Ok(response) = response.body(()) else { return };
        match json {
            Some(json) => {
                if let Ok(mut stream) = respond.send_response(response, false) {
                    let _ = stream.send_data(Bytes::from(json), true);
                }
            }
            None => {
                let _ = respond.send_response(response, true);
            }
        }
        if let Some(then) = then {
            let _ = control.send(then);
        }
    }
}

impl State {
    fn answer(&self, parts: &http::request::Parts, payload: &[u8]) -> Answer {
        if parts.method != http::Method::POST {
            return error(405, "MethodNotAllowed");
        }
        let Some(token) = parts.uri.path().strip_prefix("/3/device/") else {
            return error(404, "BadPath");
        };
        if token.is_empty() {
            return error(400, "MissingDeviceToken");
        }
        if let Some(answer) = self.check_provider_token(&parts.headers) {
            return answer;
        }
        if let Some(answer) = self.check_headers(&parts.headers) {
            return answer;
        }
        if payload.is_empty() {
            return error(400, "PayloadEmpty");
        }
        if payload.len() > PAYLOAD_LIMIT {
            return error(413, "PayloadTooLarge");
        }
        let apns_id = request_id(&parts.headers);
        self.by_device_token(token, apns_id)
    }

    fn by_device_token(&self, token: &str, apns_id: String) -> Answer {
        let is_hex = (64..=200).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_hexdigit());
        if is_hex {
            return Answer::Ok { apns_id };
        }
        match token {
            "unregistered" => {
                let day_ago = self.options.clock.now().saturating_sub(86_400);
                return Answer::Error {
                    status: 410,
                    reason: "Unregistered".into(),
                    timestamp_ms: Some(day_ago * 1000),
                    retry_after: None,
                };
            }
            "goaway" => return Answer::GoAwayAfter { apns_id },
            "drop" => return Answer::Drop,
            "stall" => return Answer::Stall,
            _ => {}
        }
        if let Some(ms) = token.strip_prefix("delay-").and_then(|rest| rest.split('-').next()?.parse().ok()) {
            return Answer::Delayed { apns_id, ms };
        }
        if let Some(n) = token.strip_prefix("refuse-").and_then(|rest| rest.split('-').next()?.parse::<u32>().ok()) {
            let mut log = self.log();
            let seen = log.flaky_counts.entry(token.to_owned()).or_insert(0);
            *seen += 1;
            return if *seen <= n { Answer::Refuse } else { Answer::Ok { apns_id } };
        }
        if let Some(reason) = token.strip_prefix("reason-") {
            return documented(reason).unwrap_or_else(|| error(400, "BadDeviceToken"));
        }
        if let Some(secs) = token.strip_prefix("retry-after-").and_then(|s| s.parse::<u64>().ok()) {
            return Answer::Error {
                status: 429,
                reason: "TooManyRequests".into(),
                timestamp_ms: None,
                retry_after: Some(secs),
            };
        }
        if let Some((n, reason)) = token.strip_prefix("flaky-").and_then(|rest| rest.split_once('-'))
            && let (Ok(n), Some(answer)) = (n.parse::<u32>(), documented(reason))
        {
            let mut log = self.log();
            let seen = log.flaky_counts.entry(token.to_owned()).or_insert(0);
            *seen += 1;
            return if *seen <= n { answer } else { Answer::Ok { apns_id } };
        }
        error(400, "BadDeviceToken")
    }

    /// Checks `authorization` as APNs does; `None` when the token is good.
    fn check_provider_token(&self, headers: &http::HeaderMap) -> Option<Answer> {
        let Some(value) = headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
            return Some(error(403, "MissingProviderToken"));
        };
        let Some(jwt) = value.strip_prefix("bearer ") else {
            return Some(error(403, "MissingProviderToken"));
        };
        let cached = self.log().verified.as_ref().filter(|(known, _)| known == jwt).map(|(_, iat)| *iat);
        let Some(issued_at) = cached.or_else(|| self.verify_jwt(jwt)) else {
            return Some(error(403, "InvalidProviderToken"));
        };
        if cached.is_none() {
            self.log().verified = Some((jwt.to_owned(), issued_at));
        }
        let now = self.options.clock.now();
        if issued_at > now + 60 {
            return Some(error(403, "InvalidProviderToken"));
        }
        if now.saturating_sub(issued_at) > TOKEN_MAX_AGE_SECS || issued_at < self.expire_before.load(Ordering::SeqCst) {
            self.log().expired_token_answers += 1;
            return Some(error(403, "ExpiredProviderToken"));
        }
        self.log().token_issue_times.insert(issued_at);
        None
    }

    /// The JWT's `iat` if its header, claims and ES256 signature are right.
    fn verify_jwt(&self, jwt: &str) -> Option<u64> {
        let mut parts = jwt.split('.');
        let (header, claims, signature) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let decode = |part: &str| -> Option<serde_json::Value> {
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
        };
        let h = decode(header)?;
        let c = decode(claims)?;
        if h.get("alg")?.as_str()? != "ES256" || h.get("kid")?.as_str()? != self.options.key_id {
            return None;
        }
        if c.get("iss")?.as_str()? != self.options.team_id {
            return None;
        }
        let issued_at = c.get("iat")?.as_u64()?;
        let sig = p256::ecdsa::Signature::from_slice(&URL_SAFE_NO_PAD.decode(signature).ok()?).ok()?;
        let signed = &jwt[..header.len() + 1 + claims.len()];
        self.options.key.verify(signed.as_bytes(), &sig).ok()?;
        Some(issued_at)
    }

    /// Checks the `apns-*` headers; `None` when they are good.
    fn check_headers(&self, headers: &http::HeaderMap) -> Option<Answer> {
        for name in ["apns-topic", "apns-push-type", "apns-priority", "apns-expiration", "apns-collapse-id", "apns-id"]
        {
            if headers.get_all(name).iter().count() > 1 {
                return Some(error(400, "DuplicateHeaders"));
            }
        }
        let text = |name: &str| headers.get(name).map(|v| v.to_str().unwrap_or("\u{fffd}"));
        match text("apns-topic") {
            None => return Some(error(400, "MissingTopic")),
            Some(topic) if topic != self.options.topic => return Some(error(400, "TopicDisallowed")),
            Some(_) => {}
        }
        match text("apns-push-type") {
            Some(t) if PUSH_TYPES.contains(&t) => {}
            _ => return Some(error(400, "InvalidPushType")),
        }
        if let Some(p) = text("apns-priority") {
            let background = text("apns-push-type") == Some("background");
            if !matches!(p, "10" | "5" | "1") || (background && p == "10") {
                return Some(error(400, "BadPriority"));
            }
        }
        if text("apns-expiration").is_some_and(|e| e.parse::<u64>().is_err()) {
            return Some(error(400, "BadExpirationDate"));
        }
        if headers.get("apns-collapse-id").is_some_and(|c| c.len() > 64) {
            return Some(error(400, "BadCollapseId"));
        }
        if text("apns-id").is_some_and(|id| !is_uuid(id)) {
            return Some(error(400, "BadMessageId"));
        }
        None
    }
}

/// Counts a request being handled while it lives.
struct Active<'a>(&'a AtomicU64);

impl Drop for Active<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The request's `apns-id`, or a new one.
fn request_id(headers: &http::HeaderMap) -> String {
    match headers.get("apns-id").and_then(|v| v.to_str().ok()).filter(|id| is_uuid(id)) {
        Some(id) => id.to_ascii_uppercase(),
        None => {
            let mut bytes = [0u8; 16];
            let _ = getrandom::fill(&mut bytes);
            uuid_text(&bytes)
        }
    }
}

/// 8-4-4-4-12 hex digits.
pub(crate) fn is_uuid(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}
