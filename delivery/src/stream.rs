//! Sealing and delivering a batch as one stream: [`seal_and_deliver`].
//!
//! The core seals the devices on its worker threads
//! ([`pushseal::Sender::seal_batch_chunked`]) while the client delivers what
//! is sealed; at most `max_in_flight` messages are being delivered at once,
//! and sealing waits while they are (back-pressure), so memory stays the
//! same for a thousand devices or a million.
//!
//! [`seal_and_deliver_audited`] does the same with an audit log: each chunk's
//! `sealed` records are durable before any of its payloads is sent, and each
//! outcome is appended as a `sent`, `token_gone`, `rejected` or `failed`
//! record linked to its `sealed` record by message id and recipient.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use pushseal::{BatchDevice, BatchResult, KeyId, Message, MessageId, Sender};
use pushseal_audit::{AuditEvent, AuditLog, AuditTarget, OutcomeEvent};
use tokio::task::JoinSet;

use crate::outcome::{ConfigError, NOT_SENT, Outcome, OutcomeKind};
use crate::{Deliver, Push};

/// How many messages a streamed send delivers at once unless told.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 256;

/// What became of one device of a streamed send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The device's place in the input, from 0.
    pub index: usize,
    /// The device's push token (or FCM installation id), as given.
    pub device: Option<String>,
    /// The device key's id (`None` when its text was not a public key).
    pub recipient: Option<KeyId>,
    /// The message id, when it was sealed (shared by the whole batch).
    pub message_id: Option<MessageId>,
    /// Its outcome, or why it could not be sealed (then nothing was sent).
    pub result: Result<Outcome, pushseal::Error>,
}

/// A delivered message's report, and why its outcome could not be recorded.
struct Done {
    report: Report,
    audit_error: Option<String>,
}

/// Counts of a streamed send's reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Outcomes by kind, in the order of [`OutcomeKind::ALL`].
    pub outcomes: [u64; 5],
    /// Devices that could not be sealed.
    pub not_sealed: u64,
}

impl Summary {
    fn add(&mut self, kind: OutcomeKind) {
        if let Some(i) = OutcomeKind::ALL.iter().position(|k| *k == kind) {
            self.outcomes[i] += 1;
        }
    }

    /// The number of outcomes of `kind`.
    pub fn count(&self, kind: OutcomeKind) -> u64 {
        OutcomeKind::ALL.iter().position(|k| *k == kind).map_or(0, |i| self.outcomes[i])
    }
}

/// Seals `message` to every device and delivers each through `client`,
/// handing each device's [`Report`] to `report` as it comes (in the order
/// they end, not the input's). At most `max_in_flight` messages are in
/// flight; sealing waits while they are.
///
/// A [`Outcome::Misconfigured`] stops the run: no further device is
/// sealed or sent, the messages already in flight end and are reported, and
/// the configuration error is returned. The messages sealed but not yet
/// sent end [`Outcome::Failed`] with reason [`NOT_SENT`](crate::NOT_SENT) and
/// 0 attempts, so that every sealed message has one outcome; devices not yet
/// sealed get no report.
pub async fn seal_and_deliver<D, T, I>(
    client: &D,
    sender: Arc<Sender>,
    message: Message,
    target: T,
    devices: I,
    max_in_flight: usize,
    report: impl FnMut(Report),
) -> Result<Summary, ConfigError>
where
    D: Deliver<Payload = T::Payload> + Clone + 'static,
    T: AuditTarget + 'static,
    I: IntoIterator<Item = BatchDevice> + Send + 'static,
    I::IntoIter: Send,
{
    run(client, None, sender, message, target, devices, max_in_flight, report).await
}

/// [`seal_and_deliver`] with an audit log: no payload is sent before its
/// `sealed` record is durable (each chunk of the batch is recorded with one
/// write and one sync, then its payloads go out), and each outcome is
/// appended as a record (`sent`, `token_gone`, `rejected`, `failed`; a
/// configuration error is `failed`) with the message id and recipient of its
/// `sealed` record and, if the log has a token key, the keyed hash of the
/// device token. No record holds a payload or a token in clear.
///
/// A log that cannot be written stops the run with
/// [`ConfigError::AuditLog`]: nothing is sent that is not on the record.
/// When a run stops, each message whose `sealed` record is in the log but
/// that was not sent gets its `failed` record (reason `not_sent`), so that
/// every `sealed` record of the run has one outcome record.
#[allow(clippy::too_many_arguments)]
pub async fn seal_and_deliver_audited<D, T, I>(
    client: &D,
    log: &AuditLog,
    sender: Arc<Sender>,
    message: Message,
    target: T,
    devices: I,
    max_in_flight: usize,
    report: impl FnMut(Report),
) -> Result<Summary, ConfigError>
where
    D: Deliver<Payload = T::Payload> + Clone + 'static,
    T: AuditTarget + 'static,
    I: IntoIterator<Item = BatchDevice> + Send + 'static,
    I::IntoIter: Send,
{
    run(client, Some(log.clone()), sender, message, target, devices, max_in_flight, report).await
}

/// The longest gateway text (reason, id) an outcome record keeps.
const MAX_RECORDED_TEXT: usize = 200;

/// The outcome record of `outcome` for the message `message_id` sealed to `recipient`.
fn outcome_event(
    log: &AuditLog,
    outcome: &Outcome,
    message_id: MessageId,
    recipient: KeyId,
    device: &str,
) -> AuditEvent {
    let time = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let short = |text: &str| {
        let mut end = text.len().min(MAX_RECORDED_TEXT);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        Some(text[..end].to_owned())
    };
    let mut event = OutcomeEvent {
        time,
        message_id,
        recipient,
        gateway_id: None,
        reason: None,
        since: None,
        attempts: None,
        token_hmac: (!device.is_empty()).then(|| log.token_hmac(device)).flatten(),
    };
    match outcome {
        Outcome::Delivered { gateway_id } => {
            event.gateway_id = short(gateway_id);
            AuditEvent::Sent(event)
        }
        Outcome::TokenGone { reason, since } => {
            event.reason = short(reason);
            event.since = *since;
            AuditEvent::TokenGone(event)
        }
        Outcome::Rejected { reason } => {
            event.reason = short(reason);
            AuditEvent::Rejected(event)
        }
        Outcome::Failed { reason, attempts } => {
            event.reason = short(reason);
            event.attempts = Some(*attempts);
            AuditEvent::Failed(event)
        }
        Outcome::Misconfigured(_) => {
            event.reason = Some("misconfigured".into());
            AuditEvent::Failed(event)
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn run<D, T, I>(
    client: &D,
    log: Option<AuditLog>,
    sender: Arc<Sender>,
    message: Message,
    target: T,
    devices: I,
    max_in_flight: usize,
    mut report: impl FnMut(Report),
) -> Result<Summary, ConfigError>
where
    D: Deliver<Payload = T::Payload> + Clone + 'static,
    T: AuditTarget + 'static,
    I: IntoIterator<Item = BatchDevice> + Send + 'static,
    I::IntoIter: Send,
{
    let max_in_flight = max_in_flight.max(1);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<BatchResult<T::Payload>>(max_in_flight);
    let sealing_log = log.clone();
    let stopping = Arc::new(AtomicBool::new(false));
    let stop_sealing = stopping.clone();
    let sealing = tokio::task::spawn_blocking(move || {
        // With a log, each chunk's `sealed` records are durable before its
        // results reach the channel. Every result of a recorded chunk is
        // handed over, so that each gets an outcome; a stopped run stops
        // sealing between chunks.
        let stopped = || pushseal::Error::InvalidNotification("the send stopped");
        pushseal_audit::seal_batch_chunks(sealing_log.as_ref(), &sender, devices, &message, &target, |chunk| {
            for result in chunk.drain(..) {
                tx.blocking_send(result).map_err(|_| stopped())?;
            }
            if stop_sealing.load(Ordering::Acquire) { Err(stopped()) } else { Ok(()) }
        })
    });
    let mut tasks = JoinSet::new();
    let mut stop: Option<ConfigError> = None;
    let mut summary = Summary::default();
    let mut input_open = true;
    // Sealed after the run stopped, so never sent: (report, device).
    let mut unsent: Vec<(Report, String)> = Vec::new();
    loop {
        tokio::select! {
            biased;
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                let done: Done = match done {
                    Ok(done) => done,
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    Err(_) => continue,
                };
                if let Ok(outcome) = &done.report.result {
                    summary.add(outcome.kind());
                    if let Outcome::Misconfigured(error) = outcome {
                        stop.get_or_insert_with(|| error.clone());
                    }
                }
                if let Some(error) = &done.audit_error {
                    stop.get_or_insert_with(|| ConfigError::AuditLog(error.clone()));
                }
                stopping.store(stop.is_some(), Ordering::Release);
                report(done.report);
            }
            // Once stopped, what is left is taken at once: it is not sent.
            next = rx.recv(), if input_open && (stop.is_some() || tasks.len() < max_in_flight) => {
                let Some(result) = next else {
                    input_open = false;
                    continue;
                };
                let BatchResult { index, recipient, token, fid, sealed } = result;
                // An FCM device is addressed by its token or its installation id.
                let device = token.or(fid);
                match sealed {
                    Err(error) => {
                        summary.not_sealed += 1;
                        report(Report { index, device, recipient, message_id: None, result: Err(error) });
                    }
                    Ok(sealed) if stop.is_some() => {
                        let not_sent = Outcome::Failed { reason: NOT_SENT.into(), attempts: 0 };
                        let token = device.clone().unwrap_or_default();
                        let report = Report {
                            index,
                            device,
                            recipient: Some(sealed.recipient),
                            message_id: Some(sealed.message_id),
                            result: Ok(not_sent),
                        };
                        unsent.push((report, token));
                    }
                    Ok(sealed) => {
                        let client = client.clone();
                        let log = log.clone();
                        tasks.spawn(async move {
                            let (message_id, recipient) = (sealed.message_id, sealed.recipient);
                            let push = Push::new(device.clone().unwrap_or_default(), sealed);
                            let outcome = client.deliver(&push).await;
                            let mut audit_error = None;
                            if let Some(log) = log {
                                let event = outcome_event(&log, &outcome, message_id, recipient, &push.device);
                                audit_error = record(log, vec![event]).await;
                            }
                            let report = Report {
                                index,
                                device,
                                recipient: Some(recipient),
                                message_id: Some(message_id),
                                result: Ok(outcome),
                            };
                            Done { report, audit_error }
                        });
                    }
                }
            }
            else => break,
        }
    }
    drop(rx);
    match sealing.await {
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Only the log fails a batch with a storage error: nothing after it was sent.
        Ok(Err(e)) if stop.is_none() && e.kind() == pushseal::ErrorKind::Storage => {
            stop = Some(ConfigError::AuditLog(e.to_string()));
        }
        _ => {}
    }
    if let (Some(log), false) = (&log, unsent.is_empty()) {
        let events = unsent
            .iter()
            .filter_map(|(r, token)| {
                let (Some(message_id), Some(recipient), Ok(outcome)) = (r.message_id, r.recipient, &r.result) else {
                    return None;
                };
                Some(outcome_event(log, outcome, message_id, recipient, token))
            })
            .collect();
        // The run has stopped already, with its own error: a log that cannot
        // take these records has failed it, or is about to be reported.
        let _ = record(log.clone(), events).await;
    }
    for (unsent, _) in unsent {
        summary.add(OutcomeKind::Failed);
        report(unsent);
    }
    match stop {
        Some(error) => Err(error),
        None => Ok(summary),
    }
}

/// Appends outcome records on a blocking thread; why they were not appended, if not.
async fn record(log: AuditLog, events: Vec<AuditEvent>) -> Option<String> {
    match tokio::task::spawn_blocking(move || log.record_outcomes(events)).await {
        Ok(Ok(_)) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(e) => Some(e.to_string()),
    }
}
