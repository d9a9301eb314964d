//! What the tests that pick their target at run time share (from a vector
//! file, a generated case, a loop over every target): [`AnyTarget`], one of
//! the three targets, and [`Delivered`], a sealed payload opened the way its
//! platform hands it to the app. A test that knows its target seals for it
//! directly and reads the typed result.

#![allow(dead_code)]

use std::collections::HashMap;

use pushseal::hpke::Ephemeral;
use pushseal::{
    ApnsOptions, ApnsRequest, BareEnvelope, DeviceKeyring, DevicePublicKey, FcmMessage, FcmOptions, Message, MessageId,
    Notification, Payload, Receipt, ReplayStore, Result, Sealed, Sender, Target,
};

/// A sealed platform payload, as that platform delivers it to the app.
pub trait Delivered: std::fmt::Debug {
    /// Calls `f` once with the payload as the operating system hands it to
    /// the app: the envelope text, the APNs `userInfo`, the FCM data map.
    fn deliver(&self, f: &mut dyn FnMut(Payload<'_>));

    /// The bytes the gateway counts against its 4096-byte limit: the APNs
    /// body, the FCM data map as JSON; for a bare envelope, its text.
    fn gateway_len(&self) -> usize;

    /// Opens it with [`DeviceKeyring::open`].
    fn open(&self, device: &DeviceKeyring, store: &dyn ReplayStore, now: u64) -> Result<Notification> {
        let mut opened = None;
        self.deliver(&mut |payload| opened = Some(device.open(payload, store, now)));
        opened.expect("deliver calls its function once")
    }

    /// Opens it with [`DeviceKeyring::open_with_receipt`].
    fn open_with_receipt(
        &self,
        device: &DeviceKeyring,
        store: &dyn ReplayStore,
        now: u64,
    ) -> Result<(Notification, Receipt)> {
        let mut opened = None;
        self.deliver(&mut |payload| opened = Some(device.open_with_receipt(payload, store, now)));
        opened.expect("deliver calls its function once")
    }
}

/// The bare envelope text, from the app's own transport.
impl Delivered for String {
    fn deliver(&self, f: &mut dyn FnMut(Payload<'_>)) {
        f(Payload::Envelope(self));
    }

    fn gateway_len(&self) -> usize {
        self.len()
    }
}

/// The APNs body, which iOS hands to the extension as `userInfo`.
impl Delivered for ApnsRequest {
    fn deliver(&self, f: &mut dyn FnMut(Payload<'_>)) {
        f(Payload::ApnsJson(&self.body));
    }

    fn gateway_len(&self) -> usize {
        self.body.len()
    }
}

/// The FCM message's data map, which Android hands to the app as `RemoteMessage.data`.
impl Delivered for FcmMessage {
    fn deliver(&self, f: &mut dyn FnMut(Payload<'_>)) {
        f(Payload::FcmData(&fcm_data(&self.json)));
    }

    fn gateway_len(&self) -> usize {
        let message: serde_json::Value = serde_json::from_str(&self.json).unwrap();
        serde_json::to_string(&message["data"]).unwrap().len()
    }
}

/// The data map of an FCM message object (its `data` member).
pub fn fcm_data(json: &str) -> HashMap<String, String> {
    let message: serde_json::Value = serde_json::from_str(json).unwrap();
    serde_json::from_value(message["data"].clone()).unwrap()
}

/// A target picked at run time.
#[derive(Debug, Clone)]
pub enum AnyTarget {
    /// [`BareEnvelope`].
    Envelope,
    /// APNs with these options.
    Apns(ApnsOptions),
    /// FCM with these options.
    Fcm(FcmOptions),
}

/// A sealed notification whose payload type was picked at run time.
pub type AnySealed = Sealed<Box<dyn Delivered>>;

impl AnyTarget {
    /// Every kind of target, with default options.
    pub fn all() -> [AnyTarget; 3] {
        [AnyTarget::Envelope, AnyTarget::Apns(ApnsOptions::default()), AnyTarget::Fcm(FcmOptions::default())]
    }

    /// [`Target::max_plaintext_len`] of this target.
    pub fn max_plaintext_len(&self) -> Result<usize> {
        match self {
            AnyTarget::Envelope => BareEnvelope.max_plaintext_len(),
            AnyTarget::Apns(options) => options.max_plaintext_len(),
            AnyTarget::Fcm(options) => options.max_plaintext_len(),
        }
    }

    /// [`Sender::seal`] for this target.
    pub fn seal(&self, sender: &Sender, to: &DevicePublicKey, msg: &Message) -> Result<AnySealed> {
        match self {
            AnyTarget::Envelope => sender.seal(to, msg, &BareEnvelope).map(erase),
            AnyTarget::Apns(options) => sender.seal(to, msg, options).map(erase),
            AnyTarget::Fcm(options) => sender.seal(to, msg, options).map(erase),
        }
    }

    /// [`Sender::seal_with`] for this target.
    pub fn seal_with(
        &self,
        sender: &Sender,
        to: &DevicePublicKey,
        msg: &Message,
        id: MessageId,
        now: u64,
        eph: &Ephemeral,
    ) -> Result<AnySealed> {
        match self {
            AnyTarget::Envelope => sender.seal_with(to, msg, &BareEnvelope, id, now, eph).map(erase),
            AnyTarget::Apns(options) => sender.seal_with(to, msg, options, id, now, eph).map(erase),
            AnyTarget::Fcm(options) => sender.seal_with(to, msg, options, id, now, eph).map(erase),
        }
    }
}

/// The same sealed notification with its payload's type erased.
fn erase<P: Delivered + 'static>(s: Sealed<P>) -> AnySealed {
    s.map_payload(|p| Box::new(p) as Box<dyn Delivered>)
}
