//! The official HPKE-PQ test vector for envelope version 2's suite
//! (`test-vectors/hpke-pq-mlkem768x25519-sha256-chacha20poly1305.json`: KEM
//! 0x647A X-Wing, HKDF-SHA256, ChaCha20Poly1305, mode base), reproduced
//! through the crate's own version 2 path: `DeriveKeyPair`, `Encap` with the
//! vector's randomness, `Decap`, the key schedule, every encryption in
//! sequence and every export.

use pushseal::hpke::{self, Mode, Suite};
use pushseal::xwing::{self, Eseed};
use serde_json::Value;

fn bytes(v: &Value, field: &str) -> Vec<u8> {
    hex::decode(v[field].as_str().unwrap_or_else(|| panic!("missing {field}"))).unwrap()
}

#[test]
fn the_hpke_pq_vector_reproduces_every_value() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../test-vectors/hpke-pq-mlkem768x25519-sha256-chacha20poly1305.json"
    ))
    .unwrap();
    let vectors: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(vectors.len(), 1);
    let v = &vectors[0];
    assert_eq!(
        (v["mode"].as_u64(), v["kem_id"].as_u64(), v["kdf_id"].as_u64(), v["aead_id"].as_u64()),
        (Some(0), Some(0x647a), Some(1), Some(3))
    );
    assert_eq!(bytes(v, "suite_id"), Suite::XWing.id());
    assert_eq!(Suite::XWing.id(), pushseal::envelope_v2::SUITE_ID);

    // DeriveKeyPair(ikmR) gives the seed, and the seed the public key.
    let sk = xwing::derive_key_pair(&bytes(v, "ikmR"));
    assert_eq!(sk.seed().to_vec(), bytes(v, "skRm"));
    assert_eq!(sk.public_key().as_bytes().to_vec(), bytes(v, "pkRm"));
    let pk = xwing::PublicKey::from_bytes(&bytes(v, "pkRm").try_into().unwrap()).unwrap();
    assert_eq!(&pk, sk.public_key());

    // Encap with ikmE as eseed; Decap.
    let eseed = Eseed::from_bytes(bytes(v, "ikmE").try_into().unwrap());
    let (ss, enc) = xwing::encap(&pk, &eseed);
    assert_eq!(enc.to_vec(), bytes(v, "enc"));
    assert_eq!(ss.to_vec(), bytes(v, "shared_secret"));
    assert_eq!(xwing::decap(&enc, &sk).to_vec(), bytes(v, "shared_secret"));

    // SetupBaseS and SetupBaseR: the key schedule's values.
    let info = bytes(v, "info");
    let ksc = xwing::base_context(&info);
    assert_eq!(ksc, hpke::KeyScheduleContext::new_in(Suite::XWing, Mode::Base, &info, b""));
    let (enc_s, mut sender) = xwing::setup_base_s(&pk, &ksc, &eseed).unwrap();
    assert_eq!(enc_s, enc);
    let mut receiver = xwing::setup_base_r(&enc, &sk, &ksc).unwrap();
    for ctx in [&sender, &receiver] {
        let (key, base_nonce, exporter_secret) = ctx.debug_values();
        assert_eq!(key.to_vec(), bytes(v, "key"));
        assert_eq!(base_nonce.to_vec(), bytes(v, "base_nonce"));
        assert_eq!(exporter_secret.to_vec(), bytes(v, "exporter_secret"));
    }

    // Every encryption, in sequence from 0, both ways.
    let encryptions = v["encryptions"].as_array().unwrap();
    assert_eq!(encryptions.len(), 10);
    for (seq, e) in encryptions.iter().enumerate() {
        let (aad, pt, ct) = (bytes(e, "aad"), bytes(e, "pt"), bytes(e, "ct"));
        let mut nonce = bytes(v, "base_nonce");
        for (n, s) in nonce.iter_mut().rev().zip((seq as u64).to_le_bytes()) {
            *n ^= s;
        }
        assert_eq!(nonce, bytes(e, "nonce"), "encryption {seq}");
        assert_eq!(sender.seal(&aad, &pt).unwrap(), ct, "encryption {seq}");
        assert_eq!(receiver.open(&aad, &ct).unwrap().to_vec(), pt, "encryption {seq}");
    }

    // Every export, from both ends.
    let exports = v["exports"].as_array().unwrap();
    assert_eq!(exports.len(), 5);
    for x in exports {
        let len = x["L"].as_u64().unwrap() as usize;
        for ctx in [&sender, &receiver] {
            let mut out = vec![0u8; len];
            ctx.export(&bytes(x, "exporter_context"), &mut out).unwrap();
            assert_eq!(out, bytes(x, "exported_value"));
        }
    }
}

#[test]
fn a_changed_enc_decapsulates_to_another_secret_and_the_aead_refuses_it() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../test-vectors/hpke-pq-mlkem768x25519-sha256-chacha20poly1305.json"
    ))
    .unwrap();
    let vectors: Vec<Value> = serde_json::from_str(&text).unwrap();
    let v = &vectors[0];
    let sk = xwing::derive_key_pair(&bytes(v, "ikmR"));
    let ksc = xwing::base_context(&bytes(v, "info"));
    let e = &v["encryptions"][0];
    for at in [0, 1087, 1088, 1119] {
        let mut enc: [u8; xwing::ENC_LEN] = bytes(v, "enc").try_into().unwrap();
        enc[at] ^= 0x01;
        let mut receiver = xwing::setup_base_r(&enc, &sk, &ksc).unwrap();
        assert_eq!(receiver.open(&bytes(e, "aad"), &bytes(e, "ct")).unwrap_err(), pushseal::Error::Tampered, "{at}");
    }
}
