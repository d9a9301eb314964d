//! Sending to APNs and FCM, for server-side bindings only (the `server`
//! feature, like the audit log): a device never sends, and the HTTP/2 and
//! TLS stack would take the library apps ship far over its size budget.
//!
//! Every rule is the `pushseal-delivery` crate's: the clients, their tokens
//! and connections, retries, the outcome table, the streamed seal-and-send
//! with its audit records. This module holds a client and the tokio runtime
//! it runs on, turns each [`pushseal_delivery::Report`] into a
//! [`DeliveryOutcome`] and hands it to a blocking reader, as the CLI's
//! `pushseal send` prints it as a line.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use pushseal_delivery::apns::{ApnsClient, ApnsEndpoint};
use pushseal_delivery::fcm::{FcmClient, FcmEndpoint};
use pushseal_delivery::{
    ApnsKey, ConfigError, DEFAULT_MAX_IN_FLIGHT, Deliver, Outcome, Report, ServiceAccount, Trust, seal_and_deliver,
    seal_and_deliver_audited,
};

use crate::{
    ApnsOptions, AuditLog, BatchDevice, ErrorKind, FcmOptions, Message, PushSealError, SecretText, Sender, lock,
    signed, system_time,
};

/// Why a send cannot start or had to stop. Every kind but `Internal` is a
/// configuration error: credentials or a setup that no retry can fix, which
/// stops a run (no further device is sealed or sent). The reason names the
/// key id and team or the service account, never key material.
///
/// Python: `DeliveryError.ApnsKeyRefused` etc., subclasses of `DeliveryError`;
/// `str(error)` and `error.reason` are the one-line reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum DeliveryError {
    /// A credential (the `.p8` key, the service account's key file) cannot
    /// be read or is not what it should be.
    #[error("{reason}")]
    Credential {
        /// What is wrong, in one line.
        reason: String,
    },
    /// APNs refused the provider token signed with this key: the `.p8` key,
    /// its key id and the team id do not belong together, or the key is revoked.
    #[error("{reason}")]
    ApnsKeyRefused {
        /// What is wrong, in one line.
        reason: String,
    },
    /// FCM or Google's token endpoint refused the service account.
    #[error("{reason}")]
    ServiceAccountRefused {
        /// What is wrong, in one line.
        reason: String,
    },
    /// The audit log cannot be written: nothing is sent that is not on the record.
    #[error("{reason}")]
    AuditLog {
        /// What is wrong, in one line.
        reason: String,
    },
    /// The TLS setup cannot be made (an unreadable or empty CA file).
    #[error("{reason}")]
    Tls {
        /// What is wrong, in one line.
        reason: String,
    },
    /// A setting is not usable (an id that is not Apple's, an empty topic,
    /// a gateway URL that is not `https://HOST:PORT`, ...).
    #[error("{reason}")]
    Setting {
        /// What is wrong, in one line.
        reason: String,
    },
    /// Not a configuration error: the library failed in a way it never
    /// should (its runtime or thread could not start).
    #[error("{reason}")]
    Internal {
        /// What is wrong, in one line.
        reason: String,
    },
}

impl From<ConfigError> for DeliveryError {
    fn from(e: ConfigError) -> Self {
        // The delivery crate's messages name what to check and carry no key material.
        let reason = e.to_string();
        match e {
            ConfigError::Credential { .. } => Self::Credential { reason },
            ConfigError::ApnsKeyRefused { .. } => Self::ApnsKeyRefused { reason },
            ConfigError::ServiceAccountRefused { .. } => Self::ServiceAccountRefused { reason },
            ConfigError::AuditLog(_) => Self::AuditLog { reason },
            ConfigError::Tls(_) => Self::Tls { reason },
            _ => Self::Setting { reason },
        }
    }
}

impl DeliveryError {
    fn setting(reason: impl Into<String>) -> Self {
        Self::Setting { reason: reason.into() }
    }

    fn internal(reason: impl Into<String>) -> Self {
        Self::Internal { reason: reason.into() }
    }
}

type Result<T, E = DeliveryError> = std::result::Result<T, E>;

/// What became of one device of a send: `pushseal send`'s JSON line as a
/// record. `kind` is the delivery crate's stable outcome name, or
/// `not_sealed`:
///
/// | kind            | fields set                   | what the sender does                           |
/// |-----------------|------------------------------|------------------------------------------------|
/// | `delivered`     | `gateway_id`                 | nothing: the gateway took it                   |
/// | `token_gone`    | `reason`, `since` if known   | stop pushing to this device, delete its token  |
/// | `rejected`      | `reason`                     | fix the message (retrying cannot help)         |
/// | `failed`        | `reason`, `attempts`         | retried until the policy gave up: send later   |
/// | `misconfigured` | `reason`                     | the run stops: the send then raises the error  |
/// | `not_sealed`    | `reason`, `error_kind`       | nothing was sent (a key that is not one, ...)  |
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeliveryOutcome {
    /// The device's place in the list given to `send`, from 0.
    pub index: i64,
    /// `delivered`, `token_gone`, `rejected`, `failed`, `misconfigured` or `not_sealed`.
    pub kind: String,
    /// The device key's id, 16 hex digits (none when its text was not a key).
    pub recipient_key_id: Option<String>,
    /// The message id, 32 hex digits, shared by every device of the send
    /// (none when the device was not sealed).
    pub message_id: Option<String>,
    /// The device's push token (or FCM installation id), as given.
    pub device: Option<String>,
    /// `delivered`: the gateway's id for the message (APNs `apns-id`, FCM
    /// message `name`).
    pub gateway_id: Option<String>,
    /// Every other kind: why, as the gateway spelled it (`Unregistered`,
    /// `PayloadTooLarge`, `UNAVAILABLE`, ...) or in one line.
    pub reason: Option<String>,
    /// `token_gone`: since when the token is gone, where the gateway says
    /// (APNs 410).
    pub since: Option<SystemTime>,
    /// `failed`: how many attempts were made.
    pub attempts: Option<i64>,
    /// `not_sealed`: the sealing error's kind.
    pub error_kind: Option<ErrorKind>,
}

impl DeliveryOutcome {
    /// The outcome of the device at `index`, of `kind`, with no details yet.
    fn new(index: usize, kind: &str, device: Option<String>) -> Self {
        Self {
            index: signed(index),
            kind: kind.to_owned(),
            recipient_key_id: None,
            message_id: None,
            device,
            gateway_id: None,
            reason: None,
            since: None,
            attempts: None,
            error_kind: None,
        }
    }

    /// A device that could not be sealed: nothing was sent to it.
    fn not_sealed(index: usize, device: Option<String>, error: &PushSealError) -> Self {
        let mut out = Self::new(index, "not_sealed", device);
        out.error_kind = Some(error.kind());
        out.reason = Some(error.to_string());
        out
    }
}

impl From<Report> for DeliveryOutcome {
    fn from(report: Report) -> Self {
        let mut out = match &report.result {
            Err(e) => Self::not_sealed(report.index, report.device, &PushSealError::from(e.clone())),
            Ok(outcome) => Self::new(report.index, outcome.kind().name(), report.device),
        };
        out.recipient_key_id = report.recipient.map(|id| id.to_string());
        out.message_id = report.message_id.map(|id| id.to_string());
        match report.result {
            Err(_) => {}
            Ok(Outcome::Delivered { gateway_id }) => out.gateway_id = Some(gateway_id),
            Ok(Outcome::TokenGone { reason, since }) => {
                out.reason = Some(reason);
                out.since = since.map(system_time);
            }
            Ok(Outcome::Rejected { reason }) => out.reason = Some(reason),
            Ok(Outcome::Failed { reason, attempts }) => {
                out.reason = Some(reason);
                out.attempts = Some(i64::from(attempts));
            }
            Ok(Outcome::Misconfigured(e)) => out.reason = Some(e.to_string()),
            Ok(other) => out.reason = Some(other.to_string()),
        }
        out
    }
}

/// A test gateway's `https://HOST:PORT` (or `HOST:PORT`), as `pushseal send
/// --gateway` takes it.
fn gateway_host_port(url: &str) -> Result<(String, u16)> {
    let bad = |why: &str| DeliveryError::setting(format!("gateway {url:?}: {why}"));
    let rest = url.strip_prefix("https://").unwrap_or(url).trim_end_matches('/');
    if rest.contains("://") {
        return Err(bad("only https:// (a gateway speaks HTTP/2 over TLS)"));
    }
    let (host, port) =
        rest.rsplit_once(':').ok_or_else(|| bad("give https://HOST:PORT, such as https://127.0.0.1:8443"))?;
    let port = port.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(|| bad("the port is not 1 to 65535"))?;
    if host.is_empty() {
        return Err(bad("the host is missing"));
    }
    Ok((host.to_owned(), port))
}

/// The test gateway and the certificates to trust: the public roots, or only
/// `gateway_ca`, which is for a test gateway alone.
fn gateway_and_trust(gateway: Option<String>, gateway_ca: Option<String>) -> Result<(Option<(String, u16)>, Trust)> {
    let gateway = gateway.as_deref().map(gateway_host_port).transpose()?;
    if gateway.is_none() && gateway_ca.is_some() {
        return Err(DeliveryError::setting(
            "gateway_ca: a CA file is trusted for a test gateway only; give gateway too, or leave gateway_ca out for \
             Apple's and Google's hosts",
        ));
    }
    Ok((gateway, gateway_ca.map_or(Trust::PublicRoots, |ca| Trust::CaFile(ca.into()))))
}

/// The runtime a client runs on: a few workers of its own, for the life of
/// the object that holds it.
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("pushseal-delivery")
        .enable_all()
        .build()
        .map_err(|e| DeliveryError::internal(format!("cannot start the delivery runtime: {e}")))
}

/// The audit log a send records in: `given`, else the sender's own. A sender
/// with a log promises that every seal is recorded there, so another log is
/// refused.
fn audit_log_for(sender: &Sender, given: Option<Arc<AuditLog>>) -> Result<Option<pushseal_audit::AuditLog>> {
    let log = match (given, &sender.audit_log) {
        (Some(given), Some(own)) if given.path() != own.path() => {
            return Err(DeliveryError::setting(format!(
                "audit_log: the sender records in its own audit log {}; pass that one or none",
                own.path()
            )));
        }
        (Some(given), _) => Some(given),
        (None, own) => own.clone(),
    };
    Ok(log.map(|log| log.core().clone()))
}

/// Stops handing devices to the sealing batch once the reader has gone.
struct UntilStopped<I> {
    devices: I,
    stopped: Arc<AtomicBool>,
}

impl<I: Iterator> Iterator for UntilStopped<I> {
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        if self.stopped.load(Ordering::SeqCst) { None } else { self.devices.next() }
    }
}

/// One send to run: what `ApnsDelivery.send` and `FcmDelivery.send` share.
struct Run<T> {
    sender: Arc<Sender>,
    to: Vec<BatchDevice>,
    message: Message,
    target: T,
    audit_log: Option<Arc<AuditLog>>,
}

impl<T: pushseal_audit::AuditTarget + 'static> Run<T> {
    /// Starts the send on a thread of its own, which drives it on `runtime`
    /// and hands each device's outcome to the returned stream. `keep` (the
    /// delivery object) lives as long as the send, and with it the runtime.
    fn start<D, K>(self, runtime: tokio::runtime::Handle, client: D, keep: Arc<K>) -> Result<Arc<DeliveryStream>>
    where
        D: Deliver<Payload = T::Payload> + Clone + 'static,
        K: Send + Sync + 'static,
    {
        let log = audit_log_for(&self.sender, self.audit_log)?;
        let (tx, rx) = sync_channel::<Result<DeliveryOutcome>>(DEFAULT_MAX_IN_FLIGHT);
        let stopped = Arc::new(AtomicBool::new(false));
        let devices =
            UntilStopped { devices: self.to.into_iter().map(pushseal::BatchDevice::from), stopped: stopped.clone() };
        let (sender, target) = (self.sender.inner.clone(), self.target);
        let message = self.message.to_core();
        let run = move || {
            let _keep = keep;
            let message = match message {
                Ok(message) => message,
                // A message the bindings refuse before the core sees it (a
                // TTL of 0) fails each device, as the core fails each device
                // of a batch with a message it refuses: nothing is sent.
                Err(e) => {
                    for (index, device) in devices.enumerate() {
                        let device = device.token().or(device.fid()).map(str::to_owned);
                        if tx.send(Ok(DeliveryOutcome::not_sealed(index, device, &e))).is_err() {
                            break;
                        }
                    }
                    return;
                }
            };
            // The reader is slow: wait for it (back-pressure). The reader is
            // gone: its outcomes are dropped, and no further device is sealed.
            let report = |r: Report| {
                let _ = tx.send(Ok(r.into()));
            };
            let ran = std::panic::catch_unwind(AssertUnwindSafe(|| {
                runtime.block_on(async {
                    match &log {
                        Some(log) => {
                            seal_and_deliver_audited(
                                &client,
                                log,
                                sender,
                                message,
                                target,
                                devices,
                                DEFAULT_MAX_IN_FLIGHT,
                                report,
                            )
                            .await
                        }
                        None => {
                            seal_and_deliver(&client, sender, message, target, devices, DEFAULT_MAX_IN_FLIGHT, report)
                                .await
                        }
                    }
                })
            }));
            let error = match ran {
                Ok(Ok(_summary)) => return,
                Ok(Err(e)) => DeliveryError::from(e),
                Err(_) => DeliveryError::internal("the send stopped on an internal error"),
            };
            let _ = tx.send(Err(error));
        };
        std::thread::Builder::new()
            .name("pushseal-send".into())
            .spawn(run)
            .map_err(|e| DeliveryError::internal(format!("cannot start the send's thread: {e}")))?;
        Ok(Arc::new(DeliveryStream { rx: Mutex::new(Some(rx)), stopped }))
    }
}

/// Sends to APNs (or a test gateway that answers as APNs does) with a
/// team's `.p8` token-signing key. Make one per key and process and keep it:
/// it holds the HTTP/2 connections and the one provider token every send
/// uses, and the runtime they run on. Safe to share between threads.
///
/// The key is a secret: it is wiped when the object is dropped and never
/// shown (`repr`, errors, logs show the key id and team only).
#[derive(uniffi::Object)]
pub struct ApnsDelivery {
    client: ApnsClient,
    runtime: tokio::runtime::Runtime,
}

impl std::fmt::Debug for ApnsDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The client shows the key id, team and host, never the key.
        f.debug_struct("ApnsDelivery").field("client", &self.client).finish_non_exhaustive()
    }
}

impl ApnsDelivery {
    fn build(
        key: ApnsKey,
        topic: String,
        sandbox: bool,
        gateway: Option<String>,
        gateway_ca: Option<String>,
    ) -> Result<Arc<Self>> {
        let (gateway, trust) = gateway_and_trust(gateway, gateway_ca)?;
        let endpoint = match gateway {
            Some(_) if sandbox => {
                return Err(DeliveryError::setting(
                    "sandbox: a test gateway is not Apple's sandbox; give gateway or sandbox, not both",
                ));
            }
            Some((host, port)) => ApnsEndpoint::Host { host, port },
            None if sandbox => ApnsEndpoint::Sandbox,
            None => ApnsEndpoint::Production,
        };
        let runtime = runtime()?;
        let client = {
            let _inside = runtime.enter();
            ApnsClient::builder(key).topic(topic).endpoint(endpoint).trust(trust).build()?
        };
        Ok(Arc::new(Self { client, runtime }))
    }
}

#[uniffi::export]
impl ApnsDelivery {
    /// A sender to APNs with the `.p8` key in the file at `path`, its key id
    /// and the team id (10 characters each, from the developer account), and
    /// the `apns-topic` (the app's bundle id). `sandbox`: Apple's development
    /// host, for apps built for development. `gateway`: a test gateway's
    /// `https://HOST:PORT` instead of Apple's host (what `pushseal gateway
    /// apns` prints), and `gateway_ca` the CA file it wrote, the only
    /// certificate then trusted; certificates are always verified.
    ///
    /// Fails with `Credential` for a file that cannot be read or is not a
    /// `.p8` key, `Setting` for an id that is not Apple's, an empty topic or
    /// a bad gateway, `Tls` for a CA file that holds no certificate.
    #[uniffi::constructor(default(sandbox = false, gateway = None, gateway_ca = None))]
    pub fn from_p8_file(
        path: String,
        key_id: String,
        team_id: String,
        topic: String,
        sandbox: bool,
        gateway: Option<String>,
        gateway_ca: Option<String>,
    ) -> Result<Arc<Self>> {
        let key = ApnsKey::from_p8_file(&path, &key_id, &team_id)?;
        Self::build(key, topic, sandbox, gateway, gateway_ca)
    }

    /// `from_p8_file` with the `.p8` file's text (`-----BEGIN PRIVATE
    /// KEY-----...`), from a secret store. **Secret**: wiped on the Rust
    /// side once read; wipe your copy as SECURITY.md says.
    #[uniffi::constructor(default(sandbox = false, gateway = None, gateway_ca = None))]
    pub fn from_p8_pem(
        pem: SecretText,
        key_id: String,
        team_id: String,
        topic: String,
        sandbox: bool,
        gateway: Option<String>,
        gateway_ca: Option<String>,
    ) -> Result<Arc<Self>> {
        let key = ApnsKey::from_p8_pem(pem.as_str(), &key_id, &team_id)?;
        Self::build(key, topic, sandbox, gateway, gateway_ca)
    }

    /// Seals `message` to every device of `to` (as `Sender.stream_batch_apns`
    /// does: one message id; each device's own `token`, its APNs device
    /// token, and `collapse_id`) and sends each to APNs, a bounded number at
    /// a time. Returns at once; the stream's `next` hands out each device's
    /// `DeliveryOutcome` as it ends (not in the list's order), waiting for
    /// it. Sealing waits while the reader is behind, so memory does not grow
    /// with the list.
    ///
    /// With an audit log (`audit_log`, else the sender's own from
    /// `Sender.with_audit_log`; a sender with a log refuses another) each
    /// device's `sealed` record is durable before its payload goes out, and
    /// each outcome is recorded (`sent`, `token_gone`, `rejected`, `failed`).
    ///
    /// A configuration error (the key refused, the log not writable) stops
    /// the send: the messages in flight end and are handed out, then `next`
    /// raises the error. Dropping the stream stops sealing further devices.
    #[uniffi::method(default(options = None, audit_log = None))]
    pub fn send(
        self: Arc<Self>,
        sender: Arc<Sender>,
        to: Vec<BatchDevice>,
        message: Message,
        options: Option<ApnsOptions>,
        audit_log: Option<Arc<AuditLog>>,
    ) -> Result<Arc<DeliveryStream>> {
        let target = options.map(|o| o.to_core()).unwrap_or_default();
        let (runtime, client) = (self.runtime.handle().clone(), self.client.clone());
        Run { sender, to, message, target, audit_log }.start(runtime, client, self)
    }
}

/// Sends to FCM HTTP v1 (or a test gateway that answers as FCM does) with a
/// Google service account. Make one per account and process and keep it: it
/// holds the HTTP/2 connections and the one access token every send uses,
/// and the runtime they run on. Safe to share between threads.
///
/// The account's private key is a secret: it is wiped when the object is
/// dropped and never shown (`repr`, errors, logs show the account's email).
#[derive(uniffi::Object)]
pub struct FcmDelivery {
    client: FcmClient,
    runtime: tokio::runtime::Runtime,
}

impl std::fmt::Debug for FcmDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The client shows the account and project, never the key.
        f.debug_struct("FcmDelivery").field("client", &self.client).finish_non_exhaustive()
    }
}

impl FcmDelivery {
    fn build(account: ServiceAccount, gateway: Option<String>, gateway_ca: Option<String>) -> Result<Arc<Self>> {
        let (gateway, trust) = gateway_and_trust(gateway, gateway_ca)?;
        let endpoint = gateway.map_or(FcmEndpoint::Google, |(host, port)| FcmEndpoint::Host { host, port });
        let runtime = runtime()?;
        let client = {
            let _inside = runtime.enter();
            FcmClient::builder(account).endpoint(endpoint).trust(trust).build()?
        };
        Ok(Arc::new(Self { client, runtime }))
    }
}

#[uniffi::export]
impl FcmDelivery {
    /// A sender to FCM with the service account's JSON key file at `path`
    /// (from the Firebase console): it sends to the account's project and
    /// gets its access tokens from the file's `token_uri`. `gateway`: a test
    /// gateway's `https://HOST:PORT` instead of Google's host (what `pushseal
    /// gateway fcm` prints), and `gateway_ca` the CA file it wrote, the only
    /// certificate then trusted; certificates are always verified.
    ///
    /// Fails with `Credential` for a file that cannot be read or is not a
    /// service account's key, `Setting` for a bad gateway, `Tls` for a CA
    /// file that holds no certificate.
    #[uniffi::constructor(default(gateway = None, gateway_ca = None))]
    pub fn from_service_account_file(
        path: String,
        gateway: Option<String>,
        gateway_ca: Option<String>,
    ) -> Result<Arc<Self>> {
        Self::build(ServiceAccount::from_file(&path)?, gateway, gateway_ca)
    }

    /// `from_service_account_file` with the key file's JSON text, from a
    /// secret store. **Secret**: wiped on the Rust side once read; wipe
    /// your copy as SECURITY.md says.
    #[uniffi::constructor(default(gateway = None, gateway_ca = None))]
    pub fn from_service_account_json(
        json: SecretText,
        gateway: Option<String>,
        gateway_ca: Option<String>,
    ) -> Result<Arc<Self>> {
        Self::build(ServiceAccount::from_json(json.as_str())?, gateway, gateway_ca)
    }

    /// Seals `message` to every device of `to` (as `Sender.stream_batch_fcm`
    /// does: one message id; each device's message carries its own `token`,
    /// and its own `collapse_id`; a token in `options` fails every device
    /// with `not_sealed`) and sends each to FCM, a bounded number at a time.
    /// Returns at once; the stream's `next` hands out each device's
    /// `DeliveryOutcome` as it ends (not in the list's order), waiting for
    /// it. Audit log, configuration errors and dropping the stream as for
    /// `ApnsDelivery.send`.
    #[uniffi::method(default(options = None, audit_log = None))]
    pub fn send(
        self: Arc<Self>,
        sender: Arc<Sender>,
        to: Vec<BatchDevice>,
        message: Message,
        options: Option<FcmOptions>,
        audit_log: Option<Arc<AuditLog>>,
    ) -> Result<Arc<DeliveryStream>> {
        let target = options.map(|o| o.to_core()).unwrap_or_default();
        let (runtime, client) = (self.runtime.handle().clone(), self.client.clone());
        Run { sender, to, message, target, audit_log }.start(runtime, client, self)
    }
}

/// A send under way (`ApnsDelivery.send`, `FcmDelivery.send`): one
/// `DeliveryOutcome` per device, in the order they end. Safe to share
/// between threads.
#[derive(uniffi::Object)]
pub struct DeliveryStream {
    /// None once the send has ended or failed.
    rx: Mutex<Option<Receiver<Result<DeliveryOutcome>>>>,
    /// Set when the stream is dropped: no further device is sealed.
    stopped: Arc<AtomicBool>,
}

impl std::fmt::Debug for DeliveryStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryStream").finish_non_exhaustive()
    }
}

impl Drop for DeliveryStream {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
    }
}

#[uniffi::export]
impl DeliveryStream {
    /// The next device's outcome, waiting for it; none once every device
    /// has had its outcome. Raises the configuration error that stopped the
    /// send (after the outcomes of the messages that were in flight), then
    /// returns none.
    pub fn next(&self) -> Result<Option<DeliveryOutcome>> {
        let mut rx = lock(&self.rx);
        let Some(receiver) = rx.as_ref() else { return Ok(None) };
        match receiver.recv() {
            Ok(Ok(outcome)) => Ok(Some(outcome)),
            Ok(Err(e)) => {
                *rx = None;
                Err(e)
            }
            Err(_) => {
                *rx = None;
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gateway_is_an_https_host_and_port() {
        assert_eq!(gateway_host_port("https://127.0.0.1:8443/").unwrap(), ("127.0.0.1".into(), 8443));
        assert_eq!(gateway_host_port("127.0.0.1:8443").unwrap(), ("127.0.0.1".into(), 8443));
        for bad in ["http://127.0.0.1:8443", "https://127.0.0.1", "https://:8443", "https://127.0.0.1:0"] {
            let e = gateway_host_port(bad).unwrap_err();
            assert!(matches!(e, DeliveryError::Setting { .. }) && e.to_string().contains(bad), "{e}");
        }
    }

    #[test]
    fn a_ca_file_is_for_a_test_gateway_only() {
        let e = gateway_and_trust(None, Some("ca.pem".into())).unwrap_err();
        assert!(matches!(e, DeliveryError::Setting { .. }), "{e}");
        let (gateway, trust) = gateway_and_trust(None, None).unwrap();
        assert_eq!((gateway, trust), (None, Trust::PublicRoots));
    }

    #[test]
    fn configuration_errors_keep_their_kind_and_their_message() {
        let refused = ConfigError::ApnsKeyRefused {
            key_id: "ABC123DEFG".into(),
            team_id: "TEAM123456".into(),
            reason: "InvalidProviderToken".into(),
        };
        let text = refused.to_string();
        assert_eq!(DeliveryError::from(refused), DeliveryError::ApnsKeyRefused { reason: text });
        let log = ConfigError::AuditLog("disk full".into());
        assert!(matches!(DeliveryError::from(log), DeliveryError::AuditLog { reason } if reason.contains("disk full")));
    }

    #[test]
    fn every_outcome_becomes_the_fields_pushseal_send_prints() {
        let report =
            |result| Report { index: 3, device: Some("tok".into()), recipient: None, message_id: None, result };
        let gone =
            DeliveryOutcome::from(report(Ok(Outcome::TokenGone { reason: "Unregistered".into(), since: Some(5) })));
        assert_eq!((gone.index, gone.kind.as_str(), gone.reason.as_deref()), (3, "token_gone", Some("Unregistered")));
        assert_eq!(gone.since, Some(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(5)));
        let failed = DeliveryOutcome::from(report(Ok(Outcome::Failed { reason: "timeout".into(), attempts: 5 })));
        assert_eq!((failed.kind.as_str(), failed.attempts), ("failed", Some(5)));
        let not_sealed = DeliveryOutcome::from(report(Err(pushseal::Error::InvalidNotification("too long"))));
        assert_eq!(
            (not_sealed.kind.as_str(), not_sealed.error_kind, not_sealed.device.as_deref()),
            ("not_sealed", Some(ErrorKind::InvalidNotification), Some("tok"))
        );
    }
}
