//! Batches and streamed batches, for server-side bindings only (the
//! `server` feature): a device never seals to many devices, and this code
//! would take the library apps ship over its size budget (BENCHMARKS.md).
//!
//! Each batch hands its devices to the core as `pushseal::BatchDevice`s
//! (parsed in place: a bad key fails that device alone) and each result
//! back as it comes; the per-device options, the order and the refusal of a
//! token in an FCM batch's options are the core's.

use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};

use crate::{ApnsOptions, ApnsPush, ErrorKind, FcmOptions, FcmPush, Message, PushSealError, Result, Sender, lock};

/// One device of a batch: its public key, and what may differ from device
/// to device.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BatchDevice {
    /// The device public key (43 characters of base64url). A text that is
    /// not one fails this device alone.
    pub public_key: String,
    /// The device's push token. Its FCM message carries it; for APNs it
    /// belongs in the request's path, which you build. A sender with an audit
    /// log that has a token key records its keyed hash.
    #[uniffi(default = None)]
    pub token: Option<String>,
    /// The device's collapse id (APNs `apns-collapse-id`, FCM
    /// `collapse_key`), replacing the batch's.
    #[uniffi(default = None)]
    pub collapse_id: Option<String>,
}

impl From<BatchDevice> for pushseal::BatchDevice {
    fn from(d: BatchDevice) -> Self {
        let mut device = pushseal::BatchDevice::parse(&d.public_key);
        if let Some(token) = d.token {
            device = device.with_token(token);
        }
        if let Some(collapse_id) = d.collapse_id {
            device = device.with_collapse_id(collapse_id);
        }
        device
    }
}

/// One device's result in a batch, for either platform: exactly one of the
/// platform's push (`apns` in an APNs batch, `fcm` in an FCM batch) and
/// `error_kind` is set.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BatchResult {
    /// The device's place in the batch, from 0.
    pub index: i64,
    /// The device key's id, 16 hex digits (none when its text was not a
    /// public key, or when the message was refused before any sealing).
    pub recipient_key_id: Option<String>,
    /// The device's push token, as given in its `BatchDevice`.
    pub token: Option<String>,
    /// The sealed push of an APNs batch.
    pub apns: Option<ApnsPush>,
    /// The sealed push of an FCM batch.
    pub fcm: Option<FcmPush>,
    /// Why this device failed.
    pub error_kind: Option<ErrorKind>,
    /// The error's one-line reason.
    pub error_reason: Option<String>,
}

/// A platform push a batch result carries.
trait BatchPush: Sized {
    /// The core's payload for this platform.
    type Core;
    fn from_core(sealed: pushseal::Sealed<Self::Core>) -> Self;
    fn place(self, result: &mut BatchResult);
}

impl BatchPush for ApnsPush {
    type Core = pushseal::ApnsRequest;
    fn from_core(sealed: pushseal::Sealed<Self::Core>) -> Self {
        sealed.into()
    }
    fn place(self, result: &mut BatchResult) {
        result.apns = Some(self);
    }
}

impl BatchPush for FcmPush {
    type Core = pushseal::FcmMessage;
    fn from_core(sealed: pushseal::Sealed<Self::Core>) -> Self {
        sealed.into()
    }
    fn place(self, result: &mut BatchResult) {
        result.fcm = Some(self);
    }
}

impl BatchResult {
    fn new<P: BatchPush>(r: pushseal::BatchResult<P::Core>) -> Self {
        let recipient_key_id = r.recipient.map(|id| id.to_string());
        match r.sealed {
            Ok(sealed) => {
                let mut result = Self::failed(r.index, recipient_key_id, r.token, None);
                P::from_core(sealed).place(&mut result);
                result
            }
            Err(e) => Self::failed(r.index, recipient_key_id, r.token, Some(e.into())),
        }
    }

    /// A result without a push: failed with `error`, or (none) waiting for one.
    fn failed(
        index: usize,
        recipient_key_id: Option<String>,
        token: Option<String>,
        error: Option<PushSealError>,
    ) -> Self {
        Self {
            index: crate::signed(index),
            recipient_key_id,
            token,
            apns: None,
            fcm: None,
            error_kind: error.as_ref().map(PushSealError::kind),
            error_reason: error.map(|e| e.to_string()),
        }
    }
}

impl Sender {
    /// Seals to many devices through the core (with an audit log, through
    /// the audit log crate, which hands each result out once its record is
    /// durable), handing each device's result to `each` in the order of
    /// `to`. If `each` fails, the batch stops with that error.
    fn batch<T, P>(
        &self,
        to: Vec<BatchDevice>,
        message: &Message,
        target: &T,
        mut each: impl FnMut(BatchResult) -> Result<()>,
    ) -> Result<()>
    where
        T: pushseal::Target<Payload = P::Core>,
        P: BatchPush,
    {
        let devices = to.into_iter().map(pushseal::BatchDevice::from);
        let message = match message.to_core() {
            Ok(message) => message,
            // A message the bindings refuse before the core sees it (a TTL
            // of 0, a negative badge) fails each device, as the core fails
            // each device of a batch with a message it refuses.
            Err(e) => {
                for (index, device) in devices.enumerate() {
                    each(BatchResult::failed(index, None, device.token().map(str::to_owned), Some(e.clone())))?;
                }
                return Ok(());
            }
        };
        let mut stopped = None;
        let mut on_chunk = |chunk: &mut Vec<pushseal::BatchResult<P::Core>>| {
            chunk.drain(..).try_for_each(|r| {
                each(BatchResult::new::<P>(r)).map_err(|e| {
                    stopped = Some(e);
                    pushseal::Error::Storage("the batch was stopped".into())
                })
            })
        };
        let outcome = match &self.audit_log {
            Some(log) => log.seal_batch(&self.inner, devices, &message, target, &mut on_chunk),
            None => self.inner.seal_batch_chunked(devices, &message, target, &mut on_chunk).map_err(Into::into),
        };
        match stopped {
            Some(e) => Err(e),
            None => outcome,
        }
    }

    /// Runs `batch` on a thread of its own, sending each result to the
    /// returned stream.
    fn stream<T, P>(self: Arc<Self>, to: Vec<BatchDevice>, message: Message, target: T) -> Result<Arc<BatchStream>>
    where
        T: pushseal::Target<Payload = P::Core> + 'static,
        P: BatchPush,
    {
        let (tx, rx) = sync_channel(pushseal::BATCH_WINDOW);
        let run = move || {
            let outcome = self.batch::<T, P>(to, &message, &target, |r| {
                tx.send(Ok(r)).map_err(|_| PushSealError::internal("the batch's reader stopped"))
            });
            if let Err(e) = outcome {
                // Nobody to tell if the reader stopped.
                let _ = tx.send(Err(e));
            }
        };
        std::thread::Builder::new()
            .name("pushseal-batch".into())
            .spawn(run)
            .map_err(|e| PushSealError::internal(&format!("cannot start the batch's thread: {e}")))?;
        Ok(Arc::new(BatchStream { rx: Mutex::new(Some(rx)) }))
    }
}

#[uniffi::export]
impl Sender {
    /// Seals `message` to many devices for APNs, all with the same message id;
    /// one result per device, in the order of `to`. One device's failure does
    /// not stop the others. For a large batch, `stream_batch_apns` hands each
    /// result out as soon as it exists instead of holding them all.
    ///
    /// With an audit log, fails with `Storage`, handing nothing out, if the
    /// records cannot be written.
    #[uniffi::method(default(options = None))]
    pub fn seal_batch_apns(
        &self,
        to: Vec<BatchDevice>,
        message: Message,
        options: Option<ApnsOptions>,
    ) -> Result<Vec<BatchResult>> {
        let target = options.map(|o| o.to_core()).unwrap_or_default();
        let mut all = Vec::with_capacity(to.len());
        self.batch::<_, ApnsPush>(to, &message, &target, |r| {
            all.push(r);
            Ok(())
        })?;
        Ok(all)
    }

    /// Seals `message` to many devices for FCM, all with the same message id,
    /// each device's message with its own token (from its `BatchDevice`; a
    /// token in `options` fails every device with `InvalidNotification`); one
    /// result per device, in the order of `to`. One device's failure does not
    /// stop the others. For a large batch, `stream_batch_fcm` hands each
    /// result out as soon as it exists instead of holding them all.
    ///
    /// With an audit log, fails with `Storage`, handing nothing out, if the
    /// records cannot be written.
    #[uniffi::method(default(options = None))]
    pub fn seal_batch_fcm(
        &self,
        to: Vec<BatchDevice>,
        message: Message,
        options: Option<FcmOptions>,
    ) -> Result<Vec<BatchResult>> {
        let target = options.map(|o| o.to_core()).unwrap_or_default();
        let mut all = Vec::with_capacity(to.len());
        self.batch::<_, FcmPush>(to, &message, &target, |r| {
            all.push(r);
            Ok(())
        })?;
        Ok(all)
    }

    /// `seal_batch_apns`, handing each device's result out as soon as it
    /// exists (with an audit log, once its record is durable): read them with
    /// the stream's `next`. Sealing runs in the background, at most a few
    /// thousand devices ahead of the reader, so memory does not grow with the
    /// batch; dropping the stream stops it.
    #[uniffi::method(default(options = None))]
    pub fn stream_batch_apns(
        self: Arc<Self>,
        to: Vec<BatchDevice>,
        message: Message,
        options: Option<ApnsOptions>,
    ) -> Result<Arc<BatchStream>> {
        let target = options.map(|o| o.to_core()).unwrap_or_default();
        self.stream::<_, ApnsPush>(to, message, target)
    }

    /// `seal_batch_fcm`, handing each device's result out as soon as it
    /// exists (with an audit log, once its record is durable): read them with
    /// the stream's `next`. Sealing runs in the background, at most a few
    /// thousand devices ahead of the reader, so memory does not grow with the
    /// batch; dropping the stream stops it.
    #[uniffi::method(default(options = None))]
    pub fn stream_batch_fcm(
        self: Arc<Self>,
        to: Vec<BatchDevice>,
        message: Message,
        options: Option<FcmOptions>,
    ) -> Result<Arc<BatchStream>> {
        let target = options.map(|o| o.to_core()).unwrap_or_default();
        self.stream::<_, FcmPush>(to, message, target)
    }
}

/// A batch being sealed (`Sender.stream_batch_apns`, `stream_batch_fcm`):
/// one result per device, in the order of the devices. Safe to share
/// between threads.
#[derive(uniffi::Object)]
pub struct BatchStream {
    /// None once the batch has ended or failed.
    rx: Mutex<Option<Receiver<Result<BatchResult>>>>,
}

impl std::fmt::Debug for BatchStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchStream").finish_non_exhaustive()
    }
}

#[uniffi::export]
impl BatchStream {
    /// The next device's result, waiting for it to be sealed (and recorded);
    /// none once every device has had its result. Fails with the error that
    /// stopped the batch (`Storage` if the audit log cannot be written), then
    /// returns none.
    pub fn next(&self) -> Result<Option<BatchResult>> {
        let mut rx = lock(&self.rx);
        let Some(receiver) = rx.as_ref() else { return Ok(None) };
        match receiver.recv() {
            Ok(Ok(item)) => Ok(Some(item)),
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
