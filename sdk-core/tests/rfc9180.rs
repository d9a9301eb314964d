//! Every value of the official RFC 9180 test vectors for PushSeal's suite
//! (`test-vectors/rfc9180-x25519-sha256-chacha20poly1305.json`), all four modes.

use pushseal::hpke::{self, AuthKey, Ephemeral, Mode};
use serde_json::Value;
use x25519_dalek::PublicKey;

fn bytes(v: &Value, field: &str) -> Vec<u8> {
    hex::decode(v[field].as_str().unwrap_or_else(|| panic!("missing {field}"))).unwrap()
}

fn array(v: &Value, field: &str) -> [u8; 32] {
    bytes(v, field).try_into().unwrap()
}

#[test]
fn rfc9180_vectors_reproduce_every_value() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../test-vectors/rfc9180-x25519-sha256-chacha20poly1305.json"
    ))
    .unwrap();
    let vectors: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(vectors.len(), 4);
    let (mut encryptions, mut exports) = (0, 0);
    for v in &vectors {
        assert_eq!((v["kem_id"].as_u64(), v["kdf_id"].as_u64(), v["aead_id"].as_u64()), (Some(32), Some(1), Some(3)));
        let mode = match v["mode"].as_u64().unwrap() {
            0 => Mode::Base,
            1 => Mode::Psk,
            2 => Mode::Auth,
            3 => Mode::AuthPsk,
            m => panic!("mode {m}"),
        };
        let auth = matches!(mode, Mode::Auth | Mode::AuthPsk);
        let (psk, psk_id) =
            if v.get("psk").is_some() { (bytes(v, "psk"), bytes(v, "psk_id")) } else { (vec![], vec![]) };

        // DeriveKeyPair for every key in the vector.
        let (sk_r, pk_r) = hpke::derive_key_pair(&bytes(v, "ikmR")).unwrap();
        assert_eq!(sk_r.to_bytes(), array(v, "skRm"));
        assert_eq!(pk_r.to_bytes(), array(v, "pkRm"));
        let eph = Ephemeral::derive(&bytes(v, "ikmE")).unwrap();
        assert_eq!(eph.enc(), array(v, "pkEm"));
        assert_eq!(eph.enc(), array(v, "enc"));
        let sender = auth.then(|| {
            let (sk_s, pk_s) = hpke::derive_key_pair(&bytes(v, "ikmS")).unwrap();
            assert_eq!(sk_s.to_bytes(), array(v, "skSm"));
            assert_eq!(pk_s.to_bytes(), array(v, "pkSm"));
            (sk_s, pk_s)
        });

        // Encap and Decap agree with the vector's shared secret.
        let (ss, enc) = hpke::encap(&eph, &pk_r, sender.as_ref().map(|(sk, pk)| AuthKey { sk, pk })).unwrap();
        assert_eq!(enc, array(v, "enc"));
        assert_eq!(*ss, array(v, "shared_secret"));
        let pk_s: Option<PublicKey> = sender.as_ref().map(|(_, pk)| *pk);
        let ss_r = hpke::decap(&enc, &sk_r, &pk_r, pk_s.as_ref()).unwrap();
        assert_eq!(*ss_r, array(v, "shared_secret"));

        // KeySchedule.
        let info = bytes(v, "info");
        let mut ctx_s = hpke::key_schedule(mode, ss.as_ref(), &info, &psk, &psk_id).unwrap();
        let mut ctx_r = hpke::key_schedule(mode, ss_r.as_ref(), &info, &psk, &psk_id).unwrap();
        let (key, base_nonce, exporter_secret) = ctx_s.debug_values();
        assert_eq!(key.to_vec(), bytes(v, "key"));
        assert_eq!(base_nonce.to_vec(), bytes(v, "base_nonce"));
        assert_eq!(exporter_secret.to_vec(), bytes(v, "exporter_secret"));

        // The single-shot API (section 6.1), in the modes without a psk: the
        // first encryption, sealed and opened in one call each.
        if psk.is_empty() {
            let first = &v["encryptions"][0];
            let (aad, pt, ct) = (bytes(first, "aad"), bytes(first, "pt"), bytes(first, "ct"));
            let auth_key = sender.as_ref().map(|(sk, pk)| AuthKey { sk, pk });
            let (enc1, ct1) = hpke::seal_with(&eph, &pk_r, auth_key, &info, &aad, &pt).unwrap();
            assert_eq!((enc1, ct1), (array(v, "enc"), ct.clone()));
            let opened = hpke::open(&enc1, &sk_r, &pk_r, pk_s.as_ref(), &info, &aad, &ct).unwrap();
            assert_eq!(opened.as_slice(), pt.as_slice());
            // A fresh ephemeral key: another enc, and it still opens.
            let auth_key = sender.as_ref().map(|(sk, pk)| AuthKey { sk, pk });
            let (enc2, ct2) = hpke::seal(&pk_r, auth_key, &info, &aad, &pt).unwrap();
            assert_ne!(enc2, enc1);
            let opened = hpke::open(&enc2, &sk_r, &pk_r, pk_s.as_ref(), &info, &aad, &ct2).unwrap();
            assert_eq!(opened.as_slice(), pt.as_slice());
            // Opening in the other mode fails.
            let other = if pk_s.is_some() { None } else { Some(&pk_r) };
            assert!(hpke::open(&enc1, &sk_r, &pk_r, other, &info, &aad, &ct).is_err());
        }

        // Every encryption, in sequence order, both directions.
        for e in v["encryptions"].as_array().unwrap() {
            let (aad, pt, ct) = (bytes(e, "aad"), bytes(e, "pt"), bytes(e, "ct"));
            assert_eq!(ctx_s.seal(&aad, &pt).unwrap(), ct);
            assert_eq!(ctx_r.open(&aad, &ct).unwrap().as_slice(), pt.as_slice());
            encryptions += 1;
        }

        // Every export.
        for x in v["exports"].as_array().unwrap() {
            let mut out = vec![0u8; x["L"].as_u64().unwrap() as usize];
            ctx_r.export(&bytes(x, "exporter_context"), &mut out).unwrap();
            assert_eq!(out, bytes(x, "exported_value"));
            exports += 1;
        }
    }
    assert_eq!((encryptions, exports), (1028, 12), "checked 4 modes, 1028 encryptions, 12 exports");
}

#[test]
fn psk_inputs_must_match_the_mode() {
    let ss = [7u8; 32];
    assert!(hpke::key_schedule(Mode::Auth, &ss, b"", b"psk", b"id").is_err());
    assert!(hpke::key_schedule(Mode::Psk, &ss, b"", b"", b"").is_err());
    assert!(hpke::key_schedule(Mode::Psk, &ss, b"", b"psk", b"").is_err());
    assert!(hpke::key_schedule(Mode::Base, &ss, b"", b"", b"").is_ok());
}
