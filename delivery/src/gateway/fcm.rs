//! A local gateway that answers as FCM HTTP v1 and Google's OAuth2 token
//! endpoint do, on one HTTP/2 TLS listener.
//!
//! `POST /token` (the service account's `token_uri`, [`FcmGateway::token_uri`])
//! takes the JWT-bearer grant as Google's endpoint does: a form with
//! `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` (else 400
//! `unsupported_grant_type`) and an `assertion` that is an RS256 JWT signed by
//! the service account's key, whose `iss` is its `client_email`, whose `aud`
//! is this token URI, whose `scope` holds the FCM scope (else 400
//! `invalid_scope`), and whose `iat` and `exp` are at most an hour apart
//! around now (else 400 `invalid_grant`). It answers `access_token`,
//! `expires_in` (an hour by default) and `token_type`.
//!
//! `POST /v1/projects/<project>/messages:send` checks, in this order: the
//! project (403 `PERMISSION_DENIED`), the bearer token, issued here and not
//! expired (401 `UNAUTHENTICATED`), the content type and the JSON shape:
//! `{"message": ...}` with known members only, exactly one target of
//! `token`, `fid`, `topic` and `condition`, string data values, an
//! `android.priority` of `high` or `normal`, an `android.ttl` in seconds
//! (400 `INVALID_ARGUMENT`), and the data map's keys and values at most
//! 4,096 bytes (400 `INVALID_ARGUMENT`, "Message is too big"). Then the
//! device (`token` or `fid`) chooses the answer:
//!
//! | device                        | answer                                                         |
//! |-------------------------------|----------------------------------------------------------------|
//! | `unregistered`                | 404 `UNREGISTERED`                                              |
//! | `invalid`, or characters outside `A-Z a-z 0-9 _ - : .` | 400 `INVALID_ARGUMENT`, the detail naming `message.token` (or `message.fid`) |
//! | `error-<CODE>`                | FCM's status for `<CODE>` ([`ERRORS`]; `error-UNAVAILABLE`: 503) |
//! | `retry-after-<secs>`          | 429 `QUOTA_EXCEEDED`, `Retry-After: <secs>`                     |
//! | `flaky-<n>-<CODE>[-<any>]`    | `<CODE>` the first `n` times this device is sent to, then 200   |
//! | `delay-<ms>[-<any>]`          | 200 after `<ms>` milliseconds                                   |
//! | `goaway`                      | 200, then GOAWAY on that connection                             |
//! | `drop`                        | the connection closes without an answer                         |
//! | `stall`                       | no answer, ever                                                 |
//! | anything else                 | 200, `{"name": "projects/<project>/messages/<n>"}`              |
//!
//! With an [`inbox`](FcmGatewayOptions::inbox), the body of each accepted
//! message is kept there, to be opened as the phone would.

use std::collections::{BTreeSet, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use rsa::signature::Verifier;
use zeroize::Zeroizing;

use super::server::{ConnectionCounters, Control, Exchange, Handler, Listener, ServeOptions, TestCa, read_body};
use crate::clock::{Clock, SystemClock};
use crate::fcm::{FcmEndpoint, SCOPE};

/// FCM's documented errors (`FcmError.errorCode`), each with its HTTP status
/// and its `google.rpc` status.
pub const ERRORS: &[(&str, u16, &str)] = &[
    ("INVALID_ARGUMENT", 400, "INVALID_ARGUMENT"),
    ("UNREGISTERED", 404, "NOT_FOUND"),
    ("SENDER_ID_MISMATCH", 403, "PERMISSION_DENIED"),
    ("QUOTA_EXCEEDED", 429, "RESOURCE_EXHAUSTED"),
    ("UNAVAILABLE", 503, "UNAVAILABLE"),
    ("INTERNAL", 500, "INTERNAL"),
    ("THIRD_PARTY_AUTH_ERROR", 401, "UNAUTHENTICATED"),
];

/// FCM's limit on a data map: its keys' and values' bytes together.
pub const DATA_LIMIT: usize = 4096;
/// The largest request body read.
const BODY_LIMIT: usize = 64 * 1024;
/// The grant type of the JWT-bearer grant (RFC 7523).
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// What an [`FcmGateway`] accepts.
pub struct FcmGatewayOptions {
    /// The Firebase project messages must be sent to.
    pub project_id: String,
    /// The service account's `client_email`: every assertion's `iss`.
    pub client_email: String,
    /// The public half of the service account's key.
    pub key: rsa::PublicKey,
    /// The port on 127.0.0.1 (0: any free one).
    pub port: u16,
    /// How long an access token lives (default an hour, as Google's).
    pub token_lifetime: Duration,
    /// `SETTINGS_MAX_CONCURRENT_STREAMS` (default 100).
    pub max_concurrent_streams: u32,
    /// A connection from which nothing was read for this long is closed
    /// (default 10 minutes).
    pub idle_timeout: Duration,
    /// The clock assertions and access tokens are judged by.
    pub clock: Arc<dyn Clock>,
    /// A directory (which must exist) where the body of each accepted
    /// message is kept, named by [`inbox_path`](super::inbox_path) after its
    /// `token` or `fid`, before the 200 answer; none by default. A body that
    /// cannot be kept is answered 500 `INTERNAL`.
    pub inbox: Option<PathBuf>,
}

impl FcmGatewayOptions {
    /// Options for this project and service account, with the defaults.
    pub fn new(project_id: &str, client_email: &str, key: rsa::PublicKey) -> Self {
        Self {
            project_id: project_id.to_owned(),
            client_email: client_email.to_owned(),
            key,
            port: 0,
            token_lifetime: Duration::from_secs(3600),
            max_concurrent_streams: 100,
            idle_timeout: Duration::from_secs(600),
            clock: Arc::new(SystemClock),
            inbox: None,
        }
    }
}

/// What a gateway has seen, for a test to check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FcmGatewayStats {
    /// TCP connections accepted (to either endpoint).
    pub connections: u64,
    /// Send requests received (answered or not).
    pub sends: u64,
    /// Access tokens granted.
    pub grants: u64,
    /// Grants refused.
    pub refused_grants: u64,
    /// The `iat` of every assertion granted.
    pub assertion_times: BTreeSet<u64>,
    /// The message `name` of every send answered 200, in order.
    pub delivered: Vec<String>,
    /// Sends answered 401 because their access token had expired or was unknown.
    pub unauthenticated: u64,
}

#[derive(Default)]
struct Log {
    grants: u64,
    refused_grants: u64,
    assertion_times: BTreeSet<u64>,
    delivered: Vec<String>,
    unauthenticated: u64,
    /// Access token to its expiry (unix seconds).
    tokens: HashMap<String, u64>,
    flaky_counts: HashMap<String, u32>,
}

struct State {
    options: FcmGatewayOptions,
    token_uri: OnceLock<String>,
    sends: AtomicU64,
    refuse_grants: AtomicU16,
    log: Mutex<Log>,
}

impl State {
    fn log(&self) -> std::sync::MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running FCM test gateway on 127.0.0.1. Stop it with [`FcmGateway::stop`].
pub struct FcmGateway {
    listener: Listener,
    ca_file: PathBuf,
    counters: Arc<ConnectionCounters>,
    state: Arc<State>,
}

impl FcmGateway {
    /// Starts a gateway, with a CA made now and written to
    /// `dir/fcm-gateway-ca.pem`.
    pub async fn start(options: FcmGatewayOptions, dir: &Path) -> io::Result<Self> {
        Self::start_with_ca_file(options, &dir.join("fcm-gateway-ca.pem")).await
    }

    /// Starts a gateway, with a CA made now and written to `ca_file`.
    pub async fn start_with_ca_file(options: FcmGatewayOptions, ca_file: &Path) -> io::Result<Self> {
        let ca = TestCa::generate()?;
        let ca_file = ca_file.to_path_buf();
        ca.write_ca_file(&ca_file)?;
        let serve =
            ServeOptions { max_concurrent_streams: options.max_concurrent_streams, idle_timeout: options.idle_timeout };
        let port = options.port;
        let state = Arc::new(State {
            options,
            token_uri: OnceLock::new(),
            sends: AtomicU64::new(0),
            refuse_grants: AtomicU16::new(0),
            log: Mutex::default(),
        });
        let counters = Arc::new(ConnectionCounters::default());
        let listener = Listener::start(port, &ca, serve, counters.clone(), state.clone()).await?;
        let _ = state.token_uri.set(format!("https://127.0.0.1:{}/token", listener.addr.port()));
        Ok(Self { listener, ca_file, counters, state })
    }

    /// The endpoint a client sends messages to (`127.0.0.1` and the port).
    pub fn endpoint(&self) -> FcmEndpoint {
        FcmEndpoint::Host { host: "127.0.0.1".into(), port: self.listener.addr.port() }
    }

    /// The token endpoint: the `token_uri` the service account file names.
    pub fn token_uri(&self) -> &str {
        self.state.token_uri.get().map_or("", String::as_str)
    }

    /// The CA file a client trusts to reach this gateway.
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// From now on the token endpoint refuses every grant with `status`
    /// (400 answers `invalid_grant`, as for a deleted key or account; 401 and
    /// 403 answer `unauthorized_client`); 0 grants again.
    pub fn refuse_grants(&self, status: u16) {
        self.state.refuse_grants.store(status, Ordering::SeqCst);
    }

    /// Forgets every access token granted, as when Google revokes them: the
    /// next send with one is answered 401 `UNAUTHENTICATED`.
    pub fn revoke_access_tokens(&self) {
        self.state.log().tokens.clear();
    }

    /// What the gateway has seen so far.
    pub fn stats(&self) -> FcmGatewayStats {
        let log = self.state.log();
        FcmGatewayStats {
            connections: self.counters.accepted.load(Ordering::SeqCst),
            sends: self.state.sends.load(Ordering::SeqCst),
            grants: log.grants,
            refused_grants: log.refused_grants,
            assertion_times: log.assertion_times.clone(),
            delivered: log.delivered.clone(),
            unauthenticated: log.unauthenticated,
        }
    }

    /// Stops the gateway and closes its connections.
    pub async fn stop(self) {
        self.listener.stop().await;
    }
}

/// A service account for tests: a new RSA-2048 key made at start (with
/// `rsa`), written as a JSON key file that names a project, an email and a
/// token URI. **Secret** like any key: the key zeroizes on drop, and `Debug`
/// shows only the public half's size.
pub struct TestServiceAccount {
    key: rsa::PrivateKey,
}

impl TestServiceAccount {
    /// A new key (a few hundred milliseconds in a release build).
    pub fn generate() -> io::Result<Self> {
        let key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048)
            .map_err(|e| io::Error::other(format!("the test RSA key cannot be made: {e}")))?;
        Ok(Self { key })
    }

    /// The public half, for [`FcmGatewayOptions::new`].
    pub fn public_key(&self) -> rsa::PublicKey {
        self.key.to_public_key()
    }

    /// Writes the key file to `path`.
    pub fn write(&self, path: &Path, project_id: &str, client_email: &str, token_uri: &str) -> io::Result<()> {
        let json = self.key_file_json(project_id, client_email, token_uri)?;
        std::fs::write(path, json.as_bytes())
    }

    /// The key file's text (JSON, as the Firebase console gives it), holding
    /// the private key: **secret**.
    pub fn key_file_json(
        &self,
        project_id: &str,
        client_email: &str,
        token_uri: &str,
    ) -> io::Result<Zeroizing<String>> {
        use rsa::pkcs8::EncodePrivateKey;
        let pem = self
            .key
            .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
            .map_err(|e| io::Error::other(format!("the test RSA key cannot be encoded: {e}")))?;
        let mut id = [0u8; 20];
        getrandom::fill(&mut id).map_err(|e| io::Error::other(e.to_string()))?;
        let json = Zeroizing::new(
            serde_json::json!({
                "type": "service_account",
                "project_id": project_id,
                "private_key_id": id.iter().map(|b| format!("{b:02x}")).collect::<String>(),
                "private_key": pem.as_str(),
                "client_email": client_email,
                "client_id": "100000000000000000000",
                "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                "token_uri": token_uri,
            })
            .to_string(),
        );
        Ok(json)
    }
}

impl std::fmt::Debug for TestServiceAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServiceAccount").field("key", &"[redacted]").finish()
    }
}

/// How the gateway answers one request.
enum Answer {
    Json { status: u16, json: serde_json::Value, retry_after: Option<u64>, then: Option<Control> },
    Delayed { ms: u64, json: serde_json::Value },
    Drop,
    Stall,
}

fn json(status: u16, json: serde_json::Value) -> Answer {
    Answer::Json { status, json, retry_after: None, then: None }
}

/// Google's OAuth2 error answer.
fn oauth_error(status: u16, error: &str, description: &str) -> Answer {
    json(status, serde_json::json!({ "error": error, "error_description": description }))
}

/// FCM's error answer: a `google.rpc.Status` with an `FcmError` detail.
fn fcm_error(code: &str, message: &str) -> Answer {
    let (status, rpc) = ERRORS.iter().find(|(c, _, _)| *c == code).map_or((500, "INTERNAL"), |(_, s, r)| (*s, *r));
    json(
        status,
        serde_json::json!({ "error": { "code": status, "message": message, "status": rpc, "details": [
            { "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code }
        ] } }),
    )
}

/// A `google.rpc.Status` with no FCM detail (401, 403, 404 of the API itself).
fn rpc_error(status: u16, rpc: &str, message: &str) -> Answer {
    json(status, serde_json::json!({ "error": { "code": status, "message": message, "status": rpc } }))
}

fn invalid(message: &str) -> Answer {
    fcm_error("INVALID_ARGUMENT", message)
}

impl Handler for State {
    async fn handle(self: Arc<Self>, exchange: Exchange) {
        let Exchange { request, mut respond, control, mut stopping } = exchange;
        let (parts, mut body) = request.into_parts();
        let Ok(bytes) = read_body(&mut body, BODY_LIMIT).await else { return };
        let answer = if parts.uri.path() == "/token" {
            self.grant(&parts, &bytes)
        } else {
            self.sends.fetch_add(1, Ordering::SeqCst);
            self.send(&parts, &bytes)
        };
        let (status, json, retry_after, then) = match answer {
            Answer::Stall => {
                let _ = stopping.changed().await;
                return;
            }
            Answer::Drop => {
                let _ = control.send(Control::Drop);
                return;
            }
            Answer::Delayed { ms, json } => {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(ms)) => {}
                    _ = stopping.changed() => return,
                }
                (200, json, None, None)
            }
            Answer::Json { status, json, retry_after, then } => (status, json, retry_after, then),
        };
        let (status, json) = match (&self.options.inbox, json.get("name").and_then(|n| n.as_str())) {
            (Some(dir), Some(name)) if status == 200 && parts.uri.path() != "/token" => {
                match keep_in_inbox(dir, name, bytes.to_vec()).await {
                    Ok(()) => (status, json),
                    Err(_) => match fcm_error("INTERNAL", "The message could not be kept in the inbox.") {
                        Answer::Json { status, json, .. } => (status, json),
                        _ => return,
                    },
                }
            }
            _ => (status, json),
        };
        if status == 200
            && let Some(name) = json.get("name").and_then(|n| n.as_str())
        {
            self.log().delivered.push(name.to_owned());
        }
        let mut response = http::Response::builder().status(status).header("content-type", "application/json");
        if let Some(secs) = retry_after {
            response = response.header("retry-after", secs.to_string());
        }
        let Ok(response) = response.body(()) else { return };
        if let Ok(mut stream) = respond.send_response(response, false) {
            let _ = stream.send_data(Bytes::from(json.to_string()), true);
        }
        if let Some(then) = then {
            let _ = control.send(then);
        }
    }
}

/// Keeps an accepted message's body in the inbox `dir`, named after its
/// `token` or `fid` and the message `name`.
async fn keep_in_inbox(dir: &Path, name: &str, body: Vec<u8>) -> io::Result<()> {
    let request: serde_json::Value = serde_json::from_slice(&body).map_err(io::Error::other)?;
    let message = &request["message"];
    let device = message["token"].as_str().or_else(|| message["fid"].as_str()).unwrap_or_default();
    super::inbox::keep(dir, device, name, body).await
}

/// One `application/x-www-form-urlencoded` value, decoded.
fn form_value(form: &str, name: &str) -> Option<String> {
    let raw = form.split('&').find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))?;
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

impl State {
    /// The token endpoint.
    fn grant(&self, parts: &http::request::Parts, body: &[u8]) -> Answer {
        let answer = self.check_grant(parts, body);
        if !matches!(answer, Answer::Json { status: 200, .. }) {
            self.log().refused_grants += 1;
        }
        answer
    }

    fn check_grant(&self, parts: &http::request::Parts, body: &[u8]) -> Answer {
        if parts.method != http::Method::POST {
            return oauth_error(400, "invalid_request", "Only POST is accepted.");
        }
        let form_type = parts.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        if !form_type.is_some_and(|t| t.starts_with("application/x-www-form-urlencoded")) {
            return oauth_error(400, "invalid_request", "The body must be a form.");
        }
        let Ok(form) = std::str::from_utf8(body) else {
            return oauth_error(400, "invalid_request", "The body is not UTF-8.");
        };
        if form_value(form, "grant_type").as_deref() != Some(JWT_BEARER) {
            return oauth_error(400, "unsupported_grant_type", "Invalid grant_type.");
        }
        match self.refuse_grants.load(Ordering::SeqCst) {
            0 => {}
            400 => return oauth_error(400, "invalid_grant", "Invalid grant: account not found"),
            status => return oauth_error(status, "unauthorized_client", "The client is not authorized."),
        }
        let Some(assertion) = form_value(form, "assertion") else {
            return oauth_error(400, "invalid_request", "Missing required parameter: assertion");
        };
        let Some(claims) = self.verify_assertion(&assertion) else {
            return oauth_error(400, "invalid_grant", "Invalid JWT Signature.");
        };
        let text = |name: &str| claims.get(name).and_then(|v| v.as_str());
        if text("iss") != Some(&self.options.client_email) {
            return oauth_error(400, "invalid_grant", "Invalid JWT: the issuer is not this service account.");
        }
        if text("aud") != self.token_uri.get().map(String::as_str) {
            return oauth_error(400, "invalid_grant", "Invalid JWT: the audience is not this token URI.");
        }
        if !text("scope").is_some_and(|s| s.split(' ').any(|s| s == SCOPE)) {
            return oauth_error(400, "invalid_scope", "The scope does not allow sending FCM messages.");
        }
        let (Some(iat), Some(exp)) =
            (claims.get("iat").and_then(|v| v.as_u64()), claims.get("exp").and_then(|v| v.as_u64()))
        else {
            return oauth_error(400, "invalid_grant", "Invalid JWT: iat and exp are required.");
        };
        let now = self.options.clock.now();
        if exp <= iat || exp - iat > 3600 || iat > now + 60 || exp <= now {
            return oauth_error(
                400,
                "invalid_grant",
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.",
            );
        }
        let mut raw = [0u8; 24];
        let _ = getrandom::fill(&mut raw);
        let token = format!("ya29.test-{}", URL_SAFE_NO_PAD.encode(raw));
        let lifetime = self.options.token_lifetime.as_secs();
        let mut log = self.log();
        log.grants += 1;
        log.assertion_times.insert(iat);
        log.tokens.insert(token.clone(), now + lifetime);
        json(200, serde_json::json!({ "access_token": token, "expires_in": lifetime, "token_type": "Bearer" }))
    }

    /// The assertion's claims if its header and RS256 signature are right.
    fn verify_assertion(&self, jwt: &str) -> Option<serde_json::Value> {
        let mut parts = jwt.split('.');
        let (header, claims, signature) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let decode = |part: &str| -> Option<serde_json::Value> {
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
        };
        if decode(header)?.get("alg")?.as_str()? != "RS256" {
            return None;
        }
        let sig = rsa::pkcs1v15::Signature::try_from(URL_SAFE_NO_PAD.decode(signature).ok()?.as_slice()).ok()?;
        let key = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(self.options.key.clone());
        let signed = &jwt[..header.len() + 1 + claims.len()];
        key.verify(signed.as_bytes(), &sig).ok()?;
        decode(claims)
    }

    /// The send endpoint.
    fn send(&self, parts: &http::request::Parts, body: &[u8]) -> Answer {
        let Some(project) =
            parts.uri.path().strip_prefix("/v1/projects/").and_then(|rest| rest.strip_suffix("/messages:send"))
        else {
            return rpc_error(404, "NOT_FOUND", "The requested URL was not found on this server.");
        };
        if parts.method != http::Method::POST {
            return rpc_error(404, "NOT_FOUND", "The requested URL was not found on this server.");
        }
        if project != self.options.project_id {
            return rpc_error(403, "PERMISSION_DENIED", "Permission 'cloudmessaging.messages.create' denied.");
        }
        let bearer = parts
            .headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let now = self.options.clock.now();
        let known = bearer.and_then(|t| self.log().tokens.get(t).copied()).is_some_and(|expires| expires > now);
        if !known {
            self.log().unauthenticated += 1;
            return rpc_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.");
        }
        let json_type = parts.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        if !json_type.is_some_and(|t| t.starts_with("application/json")) {
            return invalid("The request body must be JSON.");
        }
        if body.len() > BODY_LIMIT {
            return invalid("Request payload size exceeds the limit.");
        }
        let Ok(request) = serde_json::from_slice::<serde_json::Value>(body) else {
            return invalid("Invalid JSON payload received.");
        };
        let (field, device) = match check_message(&request) {
            Ok(target) => target,
            Err(answer) => return answer,
        };
        self.by_device(project, field, &device)
    }

    fn by_device(&self, project: &str, field: &str, device: &str) -> Answer {
        let ok = || {
            let mut n = [0u8; 8];
            let _ = getrandom::fill(&mut n);
            serde_json::json!({ "name": format!("projects/{project}/messages/{}", u64::from_be_bytes(n) >> 1) })
        };
        let well_formed = !device.is_empty()
            && device.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b':' | b'.'));
        if !well_formed || device == "invalid" {
            let message = format!("The registration token is not a valid FCM registration token ({field})");
            let mut answer = invalid(&message);
            if let Answer::Json { json, .. } = &mut answer
                && let Some(details) = json.pointer_mut("/error/details").and_then(|d| d.as_array_mut())
            {
                details.push(serde_json::json!({
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": [{ "field": field, "description": "Invalid registration token" }]
                }));
            }
            return answer;
        }
        match device {
            "unregistered" => return fcm_error("UNREGISTERED", "Requested entity was not found."),
            "goaway" => {
                return Answer::Json { status: 200, json: ok(), retry_after: None, then: Some(Control::GoAway) };
            }
            "drop" => return Answer::Drop,
            "stall" => return Answer::Stall,
            _ => {}
        }
        let documented = |code: &str| ERRORS.iter().any(|(c, _, _)| *c == code);
        if let Some(code) = device.strip_prefix("error-").filter(|c| documented(c)) {
            return fcm_error(code, "The gateway was asked for this error.");
        }
        if let Some(secs) = device.strip_prefix("retry-after-").and_then(|s| s.parse::<u64>().ok()) {
            let Answer::Json { status, json, .. } = fcm_error("QUOTA_EXCEEDED", "Sending quota exceeded.") else {
                return Answer::Stall;
            };
            return Answer::Json { status, json, retry_after: Some(secs), then: None };
        }
        if let Some(ms) = device.strip_prefix("delay-").and_then(|rest| rest.split('-').next()?.parse().ok()) {
            return Answer::Delayed { ms, json: ok() };
        }
        if let Some(rest) = device.strip_prefix("flaky-")
            && let mut parts = rest.split('-')
            && let (Some(n), Some(code)) = (parts.next(), parts.next())
            && let Ok(n) = n.parse::<u32>()
            && documented(code)
        {
            let mut log = self.log();
            let seen = log.flaky_counts.entry(device.to_owned()).or_insert(0);
            *seen += 1;
            if *seen <= n {
                return fcm_error(code, "The gateway was asked for this error.");
            }
        }
        json(200, ok())
    }
}

/// The message object's members FCM v1 knows.
const MESSAGE_MEMBERS: &[&str] = &[
    "name",
    "data",
    "notification",
    "android",
    "webpush",
    "apns",
    "fcm_options",
    "token",
    "topic",
    "condition",
    "fid",
];
/// The `android` object's members FCM v1 knows.
const ANDROID_MEMBERS: &[&str] = &[
    "collapse_key",
    "priority",
    "ttl",
    "restricted_package_name",
    "data",
    "notification",
    "fcm_options",
    "direct_boot_ok",
    "bandwidth_constrained_ok",
    "restricted_satellite_ok",
];

/// Checks the request's JSON shape as FCM does; the target's field
/// (`message.token`, `message.fid`, ...) and value when it is good.
fn check_message(request: &serde_json::Value) -> Result<(&'static str, String), Answer> {
    let Some(top) = request.as_object() else { return Err(invalid("The request body must be a JSON object.")) };
    if let Some(name) = top.keys().find(|k| !matches!(k.as_str(), "message" | "validate_only")) {
        return Err(invalid(&format!("Invalid JSON payload received. Unknown name \"{name}\".")));
    }
    let Some(message) = top.get("message").and_then(|m| m.as_object()) else {
        return Err(invalid("The message is missing."));
    };
    if let Some(name) = message.keys().find(|k| !MESSAGE_MEMBERS.contains(&k.as_str())) {
        return Err(invalid(&format!("Invalid JSON payload received. Unknown name \"{name}\" at 'message'.")));
    }
    let targets: Vec<(&'static str, &serde_json::Value)> = [
        ("message.token", "token"),
        ("message.fid", "fid"),
        ("message.topic", "topic"),
        ("message.condition", "condition"),
    ]
    .into_iter()
    .filter_map(|(field, name)| Some((field, message.get(name)?)))
    .collect();
    let [(field, value)] = targets.as_slice() else {
        return Err(invalid("Exactly one of token, fid, topic or condition must be given."));
    };
    let Some(device) = value.as_str() else { return Err(invalid(&format!("{field} must be a string."))) };
    if let Some(data) = message.get("data") {
        let Some(data) = data.as_object() else { return Err(invalid("message.data must be a map.")) };
        let mut size = 0;
        for (key, value) in data {
            let Some(value) = value.as_str() else {
                return Err(invalid(&format!("Invalid value at 'message.data[{key}].value': a string is required.")));
            };
            size += key.len() + value.len();
        }
        if size > DATA_LIMIT {
            return Err(invalid("Message is too big"));
        }
    }
    if let Some(android) = message.get("android") {
        let Some(android) = android.as_object() else { return Err(invalid("message.android must be an object.")) };
        if let Some(name) = android.keys().find(|k| !ANDROID_MEMBERS.contains(&k.as_str())) {
            return Err(invalid(&format!(
                "Invalid JSON payload received. Unknown name \"{name}\" at 'message.android'."
            )));
        }
        if let Some(p) = android.get("priority")
            && !matches!(p.as_str(), Some("high" | "normal" | "HIGH" | "NORMAL"))
        {
            return Err(invalid("Invalid value at 'message.android.priority'."));
        }
        if let Some(ttl) = android.get("ttl") {
            let good = ttl.as_str().and_then(|t| t.strip_suffix('s')).is_some_and(|n| {
                let mut halves = n.splitn(2, '.');
                let whole = halves.next().unwrap_or_default();
                !whole.is_empty()
                    && whole.bytes().all(|b| b.is_ascii_digit())
                    && halves
                        .next()
                        .is_none_or(|f| !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()))
            });
            if !good {
                return Err(invalid("Invalid value at 'message.android.ttl': a duration in seconds is required."));
            }
        }
        if android.get("collapse_key").is_some_and(|c| !c.is_string()) {
            return Err(invalid("Invalid value at 'message.android.collapse_key'."));
        }
    }
    Ok((*field, device.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_shape_is_checked_as_fcm_does() {
        let good = serde_json::json!({"message": {"android": {"priority": "high", "ttl": "60s"},
            "data": {"pushseal": "x"}, "fid": "f1"}});
        assert_eq!(check_message(&good).ok(), Some(("message.fid", "f1".to_owned())));
        let cases = [
            serde_json::json!({"message": {"data": {}}}),
            serde_json::json!({"message": {"token": "a", "fid": "b"}}),
            serde_json::json!({"message": {"token": "a", "extra": 1}}),
            serde_json::json!({"message": {"token": "a"}, "extra": 1}),
            serde_json::json!({"message": {"token": "a", "data": {"k": 1}}}),
            serde_json::json!({"message": {"token": "a", "android": {"priority": "urgent"}}}),
            serde_json::json!({"message": {"token": "a", "android": {"ttl": "60"}}}),
            serde_json::json!({"message": {"token": "a", "data": {"k": "v".repeat(DATA_LIMIT)}}}),
        ];
        for case in cases {
            assert!(check_message(&case).is_err(), "{case}");
        }
        let at_limit = serde_json::json!({"message": {"token": "a", "data": {"k": "v".repeat(DATA_LIMIT - 1)}}});
        assert!(check_message(&at_limit).is_ok());
    }

    #[test]
    fn form_values_are_decoded() {
        let form = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=a.b.c";
        assert_eq!(form_value(form, "grant_type").as_deref(), Some(JWT_BEARER));
        assert_eq!(form_value(form, "assertion").as_deref(), Some("a.b.c"));
        assert_eq!(form_value(form, "scope"), None);
        assert_eq!(form_value("x=%zz", "x"), None);
    }
}
