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

use crate::{
    ApnsOptions, ApnsPush, AuditLog, ErrorKind, FcmOptions, FcmPush, Message, PushSealError, Result, Sender, lock,
};

/// One device of a batch: its public key, and what may differ from device
/// to device.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BatchDevice {
    /// The device's registration text (`DeviceKeyring.registration`: both
    /// its keys, so that the sender's policy can seal version 2) or its
    /// version 1 public key (43 characters of base64url). A text that is
    /// neither fails this device alone.
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
    /// [`Self::batch`], every result in one list.
    fn batch_all<T, P>(&self, to: Vec<BatchDevice>, message: &Message, target: &T) -> Result<Vec<BatchResult>>
    where
        T: pushseal_audit::AuditTarget<Payload = P::Core>,
        P: BatchPush,
    {
        let mut all = Vec::with_capacity(to.len());
        self.batch::<T, P>(to, message, target, |r| {
            all.push(r);
            Ok(())
        })?;
        Ok(all)
    }

    /// Seals to many devices through the audit log crate (which hands each
    /// result out once its record is durable if the sender has a log, and
    /// runs the core's batch either way), handing each device's result to
    /// `each` in the order of `to`. If `each` fails, the batch stops with
    /// that error.
    fn batch<T, P>(
        &self,
        to: Vec<BatchDevice>,
        message: &Message,
        target: &T,
        mut each: impl FnMut(BatchResult) -> Result<()>,
    ) -> Result<()>
    where
        T: pushseal_audit::AuditTarget<Payload = P::Core>,
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
        let log = self.audit_log.as_deref().map(AuditLog::core);
        pushseal_audit::seal_batch_each(log, &self.inner, devices, &message, target, |r| each(BatchResult::new::<P>(r)))
    }

    /// Runs `batch` on a thread of its own, sending each result to the
    /// returned stream.
    fn stream<T, P>(self: Arc<Self>, to: Vec<BatchDevice>, message: Message, target: T) -> Result<Arc<BatchStream>>
    where
        T: pushseal_audit::AuditTarget<Payload = P::Core> + 'static,
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
        self.batch_all::<_, ApnsPush>(to, &message, &options.map(|o| o.to_core()).unwrap_or_default())
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
        self.batch_all::<_, FcmPush>(to, &message, &options.map(|o| o.to_core()).unwrap_or_default())
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

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::HashSet;
    use std::time::Duration;

    use super::*;
    use crate::tests::{device_for, message};
    use crate::{MaybeSecretText, Payload, ReplayStore, verify_receipt};

    /// Devices of a batch with the batch's options.
    pub(crate) fn batch(keys: Vec<String>) -> Vec<BatchDevice> {
        keys.into_iter().map(|public_key| BatchDevice { public_key, token: None, collapse_id: None }).collect()
    }

    #[test]
    fn each_device_of_an_fcm_batch_gets_its_own_token_on_its_own_message() {
        let sender = Sender::generate().unwrap();
        let devices: Vec<_> = (0..2).map(|_| device_for(&sender)).collect();
        let to: Vec<BatchDevice> = devices
            .iter()
            .enumerate()
            .map(|(i, d)| BatchDevice {
                public_key: d.public_key(),
                token: Some(format!("token-{i}")),
                collapse_id: None,
            })
            .collect();
        let results = sender.seal_batch_fcm(to.clone(), message(), None).unwrap();
        let streamed = sender.clone().stream_batch_fcm(to.clone(), message(), None).unwrap();
        assert_eq!(results.len(), 2);
        for (i, result) in results.iter().enumerate() {
            let push = result.fcm.as_ref().unwrap();
            assert_eq!((result.index, result.apns.as_ref(), result.error_kind), (i as i64, None, None));
            assert_eq!(result.token.as_deref(), Some(format!("token-{i}").as_str()));
            assert_eq!(result.recipient_key_id.as_deref(), Some(devices[i].key_id().as_str()));
            assert!(push.message_json.contains(&format!("\"token\":\"token-{i}\"")), "{}", push.message_json);
            assert!(!push.message_json.contains(&format!("token-{}", 1 - i)), "{}", push.message_json);
            let streamed = streamed.next().unwrap().unwrap();
            assert!(streamed.fcm.unwrap().message_json.contains(&format!("\"token\":\"token-{i}\"")));
        }
        assert_eq!(streamed.next().unwrap(), None, "one result per device");
        // One token for the whole batch would send every message to one device.
        let shared = FcmOptions { token: Some("one-token".into()), collapse_key: None, priority: None };
        let refused = sender.seal_batch_fcm(to, message(), Some(shared)).unwrap();
        assert!(refused.iter().all(|r| r.fcm.is_none() && r.error_kind == Some(ErrorKind::InvalidNotification)));
    }

    #[test]
    fn a_bad_key_fails_in_its_place_and_the_others_open() {
        let sender =
            Sender::from_secret_text(Sender::generate().unwrap().secret_text(), 2, MaybeSecretText(None), None)
                .unwrap();
        let devices: Vec<_> = (0..3).map(|_| device_for(&sender)).collect();
        let mut keys: Vec<String> = devices.iter().map(|d| d.public_key()).collect();
        keys.insert(1, "x".into());
        let results = sender.seal_batch_apns(batch(keys), message(), None).unwrap();
        assert_eq!(results.len(), 4);
        let bad = &results[1];
        assert_eq!((bad.index, bad.recipient_key_id.as_ref(), bad.apns.as_ref()), (1, None, None));
        assert_eq!(bad.error_kind, Some(ErrorKind::InvalidEncoding));
        let pushes: Vec<&ApnsPush> = results.iter().filter_map(|r| r.apns.as_ref()).collect();
        let ids: HashSet<_> = pushes.iter().map(|p| &p.sealed.message_id).collect();
        assert_eq!(ids.len(), 1, "one message id for the whole batch");
        for (device, push) in devices.iter().zip(&pushes) {
            let payload = Payload::Apns { user_info_json: push.body.clone() };
            let opened = device.open_with_receipt(payload, ReplayStore::in_memory(), None).unwrap();
            assert!(verify_receipt(push.sealed.receipt_digest.clone(), opened.receipt).unwrap());
        }
        let payload = Payload::Apns { user_info_json: pushes[0].body.clone() };
        let e = devices[1].open(payload, ReplayStore::in_memory(), None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnknownRecipientKey);
    }

    #[test]
    fn a_message_the_bindings_refuse_fails_every_device_of_a_batch() {
        let sender = Sender::generate().unwrap();
        let to = batch(vec![device_for(&sender).public_key(); 2]);
        for ttl in [0, 2_419_201] {
            let m = Message { ttl: Some(Duration::from_secs(ttl)), ..message() };
            let results = sender.seal_batch_fcm(to.clone(), m, None).unwrap();
            assert_eq!(results.len(), 2);
            assert!(results.iter().all(|r| r.error_kind == Some(ErrorKind::InvalidNotification)), "ttl {ttl}");
        }
    }
}
