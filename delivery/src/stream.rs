//! Sealing and delivering a batch as one stream: [`seal_and_deliver`].
//!
//! The core seals the devices on its worker threads
//! ([`pushseal::Sender::seal_batch_chunked`]) while the client delivers what
//! is sealed; at most `max_in_flight` messages are being delivered at once,
//! and sealing waits while they are (back-pressure), so memory stays the
//! same for a thousand devices or a million.

use std::sync::Arc;

use pushseal::{BatchDevice, BatchResult, Message, MessageId, Sender, Target};
use tokio::task::JoinSet;

use crate::outcome::{ConfigError, Outcome, OutcomeKind};
use crate::{Deliver, Push};

/// How many messages a streamed send delivers at once unless told.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 256;

/// What became of one device of a streamed send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The device's place in the input, from 0.
    pub index: usize,
    /// The device's push token, as given.
    pub device: Option<String>,
    /// The message id, when it was sealed (shared by the whole batch).
    pub message_id: Option<MessageId>,
    /// Its outcome, or why it could not be sealed (then nothing was sent).
    pub result: Result<Outcome, pushseal::Error>,
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
/// the configuration error is returned. Devices after it get no report.
pub async fn seal_and_deliver<D, T, I>(
    client: &D,
    sender: Arc<Sender>,
    message: Message,
    target: T,
    devices: I,
    max_in_flight: usize,
    mut report: impl FnMut(Report),
) -> Result<Summary, ConfigError>
where
    D: Deliver<Payload = T::Payload> + Clone + 'static,
    T: Target + 'static,
    I: IntoIterator<Item = BatchDevice> + Send + 'static,
    I::IntoIter: Send,
{
    let max_in_flight = max_in_flight.max(1);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<BatchResult<T::Payload>>(max_in_flight);
    let sealing = tokio::task::spawn_blocking(move || {
        sender.seal_batch_chunked(devices, &message, &target, |chunk| {
            for result in chunk.drain(..) {
                // The receiver is gone only when the run stopped.
                tx.blocking_send(result).map_err(|_| pushseal::Error::InvalidNotification("the send stopped"))?;
            }
            Ok(())
        })
    });
    let mut tasks = JoinSet::new();
    let mut stop: Option<ConfigError> = None;
    let mut summary = Summary::default();
    let mut input_open = true;
    loop {
        tokio::select! {
            biased;
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                let done: Report = match done {
                    Ok(done) => done,
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    Err(_) => continue,
                };
                if let Ok(outcome) = &done.result {
                    let kind = outcome.kind();
                    if let Some(i) = OutcomeKind::ALL.iter().position(|k| *k == kind) {
                        summary.outcomes[i] += 1;
                    }
                    if let Outcome::Misconfigured(error) = outcome {
                        stop.get_or_insert_with(|| error.clone());
                    }
                }
                report(done);
            }
            next = rx.recv(), if input_open && stop.is_none() && tasks.len() < max_in_flight => {
                let Some(result) = next else {
                    input_open = false;
                    continue;
                };
                let BatchResult { index, token, sealed, .. } = result;
                match sealed {
                    Err(error) => {
                        summary.not_sealed += 1;
                        report(Report { index, device: token, message_id: None, result: Err(error) });
                    }
                    Ok(sealed) => {
                        let client = client.clone();
                        tasks.spawn(async move {
                            let message_id = sealed.message_id;
                            let push = Push::new(token.clone().unwrap_or_default(), sealed);
                            let outcome = client.deliver(&push).await;
                            Report { index, device: token, message_id: Some(message_id), result: Ok(outcome) }
                        });
                    }
                }
            }
            else => break,
        }
    }
    // Stops the sealing workers if the run stopped early.
    drop(rx);
    match sealing.await {
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        _ => {}
    }
    match stop {
        Some(error) => Err(error),
        None => Ok(summary),
    }
}
