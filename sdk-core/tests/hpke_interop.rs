//! Two-way interoperability with an independent RFC 9180 implementation (the
//! `hpke` crate): PushSeal's envelopes open with it, and envelopes it seals
//! open with PushSeal, on random keys and random plaintexts.

use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use pushseal::envelope::{self, Envelope, HEADER_LEN, INFO, VERSION};
use pushseal::{DeviceSecretKey, SenderSecretKey};

type Kem = X25519HkdfSha256;

fn random_bytes(len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    getrandom::fill(&mut out).unwrap();
    out
}

fn their_private(bytes: &[u8; 32]) -> <Kem as hpke::Kem>::PrivateKey {
    <Kem as hpke::Kem>::PrivateKey::from_bytes(bytes).unwrap()
}

fn their_public(bytes: &[u8; 32]) -> <Kem as hpke::Kem>::PublicKey {
    <Kem as hpke::Kem>::PublicKey::from_bytes(bytes).unwrap()
}

/// An envelope sealed by the `hpke` crate in `mode`: PushSeal's header,
/// built from the crate's `enc`, as the AAD.
fn their_envelope(
    mode: &OpModeS<Kem>,
    sender: &SenderSecretKey,
    device: &DeviceSecretKey,
    plaintext: &[u8],
) -> Vec<u8> {
    let (enc, mut ctx) = hpke::setup_sender::<ChaCha20Poly1305, HkdfSha256, Kem>(
        mode,
        &their_public(device.public_key().as_bytes()),
        INFO,
    )
    .unwrap();
    let mut bytes = vec![VERSION];
    bytes.extend_from_slice(&device.key_id().to_bytes());
    bytes.extend_from_slice(&sender.key_id().to_bytes());
    bytes.extend_from_slice(&enc.to_bytes());
    assert_eq!(bytes.len(), HEADER_LEN);
    let ct = ctx.seal(plaintext, &bytes).unwrap();
    bytes.extend_from_slice(&ct);
    bytes
}

#[test]
fn pushseal_envelopes_open_with_the_hpke_crate() {
    for round in 0..64 {
        let sender = SenderSecretKey::generate().unwrap();
        let device = DeviceSecretKey::generate().unwrap();
        let plaintext = random_bytes(round * 37 % 2048);
        let env_bytes = envelope::seal(&sender, &device.public_key(), &plaintext).unwrap();
        let env = Envelope::parse(&env_bytes).unwrap();

        let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&env.header().enc).unwrap();
        let opened = hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, Kem>(
            &OpModeR::Auth(their_public(sender.public_key().as_bytes())),
            &their_private(&device.to_bytes()),
            &enc,
            INFO,
            env.ciphertext(),
            env.header_bytes(),
        )
        .unwrap();
        assert_eq!(opened, plaintext, "round {round}");
    }
}

#[test]
fn hpke_crate_envelopes_open_with_pushseal() {
    for round in 0..64 {
        let sender = SenderSecretKey::generate().unwrap();
        let device = DeviceSecretKey::generate().unwrap();
        let plaintext = random_bytes(round * 53 % 2048);

        let mode = OpModeS::Auth((their_private(&sender.to_bytes()), their_public(sender.public_key().as_bytes())));
        let bytes = their_envelope(&mode, &sender, &device, &plaintext);

        let opened = Envelope::parse(&bytes).unwrap().open(&device, &sender.public_key()).unwrap();
        assert_eq!(opened.as_slice(), plaintext.as_slice(), "round {round}");
    }
}

#[test]
fn a_base_mode_envelope_from_the_hpke_crate_is_rejected() {
    // Mode auth is what lets a device tell its sender from anyone holding its
    // public key: the same bytes sealed in mode base must not open.
    let sender = SenderSecretKey::generate().unwrap();
    let device = DeviceSecretKey::generate().unwrap();
    let bytes = their_envelope(&OpModeS::Base, &sender, &device, b"forged");
    let err = Envelope::parse(&bytes).unwrap().open(&device, &sender.public_key()).unwrap_err();
    assert_eq!(err, pushseal::Error::Tampered);
}
