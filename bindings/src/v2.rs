//! Envelope version 2 (SPEC.md section 12) at the FFI boundary: the device's
//! version 2 key and its registration text, the senders it pins by their
//! Ed25519 keys, whether it still opens version 1, and a sender's signing
//! key and [`Pq`] policy.
//!
//! Nothing here opens or seals: `DeviceKeyring::open` opens both versions
//! (the envelope's version byte chooses), and a sender's `seal_*` seals the
//! version its policy picks for the registration it is given.

use crate::secret::MaybeSecretText;
use crate::{DeviceKeyring, Result, RetiredKey, SecretText, Sender, lock, system_time};

/// Which envelope version a sender seals (the core's `Pq`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Pq {
    /// Version 2 to a device that registered a version 2 key, version 1 to
    /// one that registered its version 1 key alone. The default.
    #[default]
    Prefer,
    /// Version 2 only: sealing to a device that registered no version 2 key
    /// fails with `UnsupportedVersion`, and nothing is sealed.
    Require,
    /// Version 1 only, whatever the device registered.
    Off,
}

impl From<Pq> for pushseal::Pq {
    fn from(pq: Pq) -> Self {
        match pq {
            Pq::Prefer => Self::Prefer,
            Pq::Require => Self::Require,
            Pq::Off => Self::Off,
        }
    }
}

impl From<pushseal::Pq> for Pq {
    fn from(pq: pushseal::Pq) -> Self {
        match pq {
            pushseal::Pq::Require => Self::Require,
            pushseal::Pq::Off => Self::Off,
            // Prefer, and any policy a later core adds: the default.
            _ => Self::Prefer,
        }
    }
}

/// The policy a sender seals with (none for `Prefer`), given whether it
/// has a version 2 signing key: `Require` without one is refused here,
/// before anything is sealed.
pub(crate) fn policy(has_signing_key: bool, pq: Option<Pq>) -> Result<Pq> {
    let pq = pq.unwrap_or_default();
    if pq == Pq::Require && !has_signing_key {
        return Err(pushseal::Error::InvalidNotification(
            "a sender that requires version 2 needs its version 2 secret key text",
        )
        .into());
    }
    Ok(pq)
}

/// The signing key in a version 2 secret key text, if one was given; the
/// text is wiped once read.
pub(crate) fn signing_key(text: MaybeSecretText) -> Result<Option<pushseal::SenderSigningKey>> {
    Ok(text.0.map(|text| pushseal::SenderSigningKey::from_secret_text(text.as_str())).transpose()?)
}

#[uniffi::export]
impl Sender {
    /// The version 2 public key devices pin with `trust_sender_v2`: the
    /// sender's Ed25519 key (`pushseal-sender-v2:` and 43 characters of
    /// base64url), or none for a sender without a version 2 signing key.
    pub fn public_key_v2(&self) -> Option<String> {
        self.inner.verifying_key().map(|k| k.to_string())
    }

    /// The version 2 key's id (16 hex digits), or none without one.
    pub fn key_id_v2(&self) -> Option<String> {
        self.inner.verifying_key().map(|k| k.key_id().to_string())
    }

    /// The version 2 signing key as text (`pushseal-sender-secret-v2:...`),
    /// or none without one. **Secret**: store it beside `secret_text`, and
    /// wipe the copy you get once it is stored (SECURITY.md, "Secrets in the
    /// bindings").
    pub fn secret_text_v2(&self) -> MaybeSecretText {
        MaybeSecretText(self.inner.signing_secret_text().map(SecretText::new))
    }

    /// The version policy the sender seals with.
    pub fn pq(&self) -> Pq {
        self.inner.pq().into()
    }
}

#[uniffi::export]
impl DeviceKeyring {
    /// What the device registers with its senders: both current public keys
    /// in one text (`pushseal-registration-v2:...`, 1,691 characters), or the
    /// version 1 public key alone for a keyring without a version 2 key.
    /// A sender's `seal_*` takes it as `to`.
    pub fn registration(&self) -> String {
        lock(&self.inner).registration().to_string()
    }

    /// The current version 2 public key (`pushseal-device-v2:...`), or none
    /// for a keyring read from version 1 bytes that was not saved since
    /// (`load_or_create` gives every keyring one).
    pub fn public_key_v2(&self) -> Option<String> {
        lock(&self.inner).public_key_v2().map(ToString::to_string)
    }

    /// The current version 2 key's id (16 hex digits), or none without one.
    pub fn key_id_v2(&self) -> Option<String> {
        lock(&self.inner).public_key_v2().map(|k| k.key_id().to_string())
    }

    /// The retired version 2 keys that still open notifications.
    pub fn retired_keys_v2(&self) -> Vec<RetiredKey> {
        lock(&self.inner)
            .retired_keys_v2()
            .into_iter()
            .map(|(id, usable_until)| RetiredKey { key_id: id.to_string(), usable_until: system_time(usable_until) })
            .collect()
    }

    /// Pins the version 2 sender with this Ed25519 public key
    /// (`pushseal-sender-v2:...`, its `public_key_v2`): its version 2
    /// notifications will open. A text that is no such key, or a weak key,
    /// is refused (`InvalidEncoding`).
    pub fn trust_sender_v2(&self, public_key: String) -> Result<()> {
        let key: pushseal::SenderVerifyingKey = public_key.parse()?;
        lock(&self.inner).trust_sender_v2(key);
        Ok(())
    }

    /// The pinned version 2 senders' public keys (`pushseal-sender-v2:...`).
    pub fn trusted_senders_v2(&self) -> Vec<String> {
        lock(&self.inner).trusted_senders_v2().iter().map(ToString::to_string).collect()
    }

    /// Whether version 1 envelopes open (true, the default) or are refused
    /// with `UnsupportedVersion`: turn it off once every sender the device
    /// trusts seals version 2. Kept in the keyring's bytes: save it after.
    pub fn accept_v1(&self, accept: bool) {
        lock(&self.inner).accept_v1(accept);
    }

    /// Whether version 1 envelopes open (`accept_v1`).
    pub fn accepts_v1(&self) -> bool {
        lock(&self.inner).accepts_v1()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::tests::message;
    use crate::{ErrorKind, Payload, ReplayStore, inspect};

    /// A sender rebuilt from the texts of a generated one, with `pq`.
    fn sender(pq: Option<Pq>) -> (Arc<Sender>, Arc<Sender>) {
        let generated = Sender::generate().unwrap();
        let again = Sender::from_secret_text(generated.secret_text(), 0, generated.secret_text_v2(), pq).unwrap();
        (generated, again)
    }

    #[test]
    fn one_open_takes_both_versions_as_the_policy_sealed_them() {
        let (generated, sender) = sender(None);
        assert_eq!((generated.pq(), sender.pq()), (Pq::Prefer, Pq::Prefer));
        assert_eq!(sender.public_key_v2(), generated.public_key_v2());
        let device = DeviceKeyring::generate().unwrap();
        device.trust_sender(sender.public_key()).unwrap();
        device.trust_sender_v2(sender.public_key_v2().unwrap()).unwrap();
        assert_eq!(device.trusted_senders_v2(), [sender.public_key_v2().unwrap()]);

        let registration = device.registration();
        assert!(registration.starts_with("pushseal-registration-v2:"), "{registration}");
        assert_eq!(registration.len(), 1691);
        let v2 = sender.seal_envelope(registration, message()).unwrap();
        let v1 = sender.seal_envelope(device.public_key(), message()).unwrap();
        assert_eq!((v2.sealed.version, v1.sealed.version), (2, 1));
        assert_eq!(Some(v2.sealed.recipient_key_id.clone()), device.key_id_v2());
        assert_eq!(v1.sealed.recipient_key_id, device.key_id());
        let info = inspect(v2.envelope.clone()).unwrap();
        assert_eq!((info.version, Some(info.sender_key_id)), (2, sender.key_id_v2()));
        assert_eq!(inspect(v1.envelope.clone()).unwrap().version, 1);

        let replay = ReplayStore::in_memory();
        for sealed in [&v2, &v1] {
            let opened = device.open(Payload::Envelope { envelope: sealed.envelope.clone() }, replay.clone(), None);
            assert_eq!(opened.unwrap().id, sealed.sealed.message_id);
        }
        device.accept_v1(false);
        assert!(!device.accepts_v1());
        let fresh = sender.seal_envelope(device.public_key(), message()).unwrap();
        let e = device.open(Payload::Envelope { envelope: fresh.envelope }, replay, None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnsupportedVersion);
        let restored = DeviceKeyring::from_bytes(device.to_bytes().unwrap()).unwrap();
        assert!(!restored.accepts_v1(), "the choice is kept in the keyring's bytes");
        assert_eq!(restored.registration(), device.registration());
    }

    #[test]
    fn the_policy_picks_the_version_and_require_refuses_early() {
        let device = DeviceKeyring::generate().unwrap();
        let (_, off) = sender(Some(Pq::Off));
        assert_eq!(off.seal_envelope(device.registration(), message()).unwrap().sealed.version, 1);
        let (_, require) = sender(Some(Pq::Require));
        assert_eq!(require.seal_envelope(device.registration(), message()).unwrap().sealed.version, 2);
        let e = require.seal_envelope(device.public_key(), message()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnsupportedVersion);

        let v1_only = Sender::from_secret_text(off.secret_text(), 0, MaybeSecretText(None), None).unwrap();
        assert_eq!((v1_only.public_key_v2(), v1_only.key_id_v2()), (None, None));
        assert!(v1_only.secret_text_v2().0.is_none());
        assert_eq!(v1_only.seal_envelope(device.registration(), message()).unwrap().sealed.version, 1);
        let e = Sender::from_secret_text(off.secret_text(), 0, MaybeSecretText(None), Some(Pq::Require)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidNotification);
        // A version 1 text where the version 2 one belongs is no signing key.
        let e = Sender::from_secret_text(off.secret_text(), 0, MaybeSecretText(Some(off.secret_text())), None);
        assert_eq!(e.unwrap_err().kind(), ErrorKind::InvalidEncoding);
    }

    #[test]
    fn a_v2_sender_is_pinned_by_its_ed25519_key_alone() {
        let (_, sender) = sender(None);
        let device = DeviceKeyring::generate().unwrap();
        // Trusted for version 1 only: its version 2 envelopes do not open.
        device.trust_sender(sender.public_key()).unwrap();
        let sealed = sender.seal_envelope(device.registration(), message()).unwrap();
        let payload = Payload::Envelope { envelope: sealed.envelope };
        let e = device.open(payload.clone(), ReplayStore::in_memory(), None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UntrustedSender);
        // A version 1 key is no version 2 key.
        let e = device.trust_sender_v2(sender.public_key()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidEncoding);
        device.trust_sender_v2(sender.public_key_v2().unwrap()).unwrap();
        device.open(payload, ReplayStore::in_memory(), None).unwrap();
        assert!(device.remove_sender(sender.key_id_v2().unwrap()).unwrap());
        assert!(device.trusted_senders_v2().is_empty());
    }

    #[test]
    fn rotation_retires_the_v2_key_with_the_v1_key() {
        let device = DeviceKeyring::generate().unwrap();
        let old = device.key_id_v2().unwrap();
        device.rotate(std::time::Duration::from_secs(3_600), None).unwrap();
        assert_ne!(device.key_id_v2().unwrap(), old);
        let retired = device.retired_keys_v2();
        assert_eq!(retired.len(), 1);
        assert_eq!(retired[0].key_id, old);
        assert_eq!(retired[0].usable_until, device.retired_keys()[0].usable_until);
    }

    #[test]
    fn debug_forms_leave_out_the_signing_key() {
        let sender = Sender::generate().unwrap();
        let text = sender.secret_text_v2().0.unwrap();
        let body = text.as_str().trim_start_matches("pushseal-sender-secret-v2:");
        assert_eq!(body.len(), 43);
        assert!(!format!("{sender:?}").contains(body));
        assert!(!format!("{:?}", sender.secret_text_v2()).contains(body));
    }
}
