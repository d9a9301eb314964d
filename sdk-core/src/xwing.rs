//! The X-Wing KEM (ML-KEM-768 + X25519, draft-connolly-cfrg-xwing-kem-06)
//! as the HPKE KEM `0x647A` of draft-ietf-hpke-pq, and HPKE mode base over
//! it: SPEC.md section 12.1.
//!
//! The lattice and curve arithmetic is RustCrypto's `x-wing` crate (on
//! `ml-kem` and the core's own `x25519-dalek`); this module adapts it to the
//! HPKE pseudocode (`Encap`, `Decap`, `SetupBaseS`, `SetupBaseR`) and keeps
//! every secret in a zeroizing buffer.

use x_wing::kem::common::array::Array;
use x_wing::{Decapsulate as _, KeyExport as _, TryKeyInit as _};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, Result};
use crate::hpke::{self, KeyScheduleContext, Mode, Suite};

/// `Npk`: an X-Wing public key, the ML-KEM-768 encapsulation key (1,184
/// bytes) then the X25519 public key (32).
pub const PUBLIC_KEY_LEN: usize = x_wing::ENCAPSULATION_KEY_SIZE;
/// `Nsk`: an X-Wing secret key is a 32-byte seed.
pub const SEED_LEN: usize = x_wing::DECAPSULATION_KEY_SIZE;
/// `Nenc`: the ML-KEM-768 ciphertext (1,088 bytes) then the X25519
/// ephemeral public key (32).
pub const ENC_LEN: usize = x_wing::CIPHERTEXT_SIZE;
/// `Nsecret`: the shared secret.
pub const SHARED_SECRET_LEN: usize = 32;
/// The randomness of one encapsulation: 32 bytes for ML-KEM's `m`, then the
/// X25519 ephemeral secret.
pub const ESEED_LEN: usize = x_wing::ENCAPSULATION_RANDOMNESS_SIZE;

/// An X-Wing public key whose ML-KEM part passed the encapsulation key
/// check of FIPS 203 section 7.2 (each coefficient below 3329), parsed once
/// so that sealing to it again costs no parsing.
#[derive(Clone)]
pub struct PublicKey {
    key: x_wing::EncapsulationKey,
    bytes: Box<[u8; PUBLIC_KEY_LEN]>,
}

impl PublicKey {
    /// Checks and parses the 1,216 bytes; a key that fails the check is
    /// [`Error::InvalidEncoding`].
    pub fn from_bytes(bytes: &[u8; PUBLIC_KEY_LEN]) -> Result<Self> {
        let key = x_wing::EncapsulationKey::new(&Array::from(*bytes)).map_err(|_| {
            Error::InvalidEncoding("an X-Wing public key whose ML-KEM part fails the FIPS 203 key check")
        })?;
        Ok(Self { key, bytes: Box::new(*bytes) })
    }

    /// The serialized key.
    pub fn as_bytes(&self) -> &[u8; PUBLIC_KEY_LEN] {
        &self.bytes
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for PublicKey {}

impl core::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "XWingPublicKey({:02x?}…)", &self.bytes[..8])
    }
}

/// An X-Wing secret key: the 32-byte seed, with the public key it expands to.
/// Zeroized on drop (the seed by `x-wing`'s `zeroize` feature); not `Clone`.
pub struct SecretKey {
    key: x_wing::DecapsulationKey,
    public: PublicKey,
}

impl SecretKey {
    /// The key with this seed (`expand(sk)` of SPEC.md section 12.1).
    pub fn from_seed(seed: &[u8; SEED_LEN]) -> Self {
        let key = x_wing::DecapsulationKey::from(*seed);
        let mut bytes = Box::new([0u8; PUBLIC_KEY_LEN]);
        bytes.copy_from_slice(&key_bytes(&key));
        let public = PublicKey { key: decapsulator_public(&key), bytes };
        Self { key, public }
    }

    /// The seed. **Secret.**
    pub fn seed(&self) -> Zeroizing<[u8; SEED_LEN]> {
        Zeroizing::new(*self.key.as_bytes())
    }

    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }
}

/// The serialized public key of a decapsulation key.
fn key_bytes(key: &x_wing::DecapsulationKey) -> [u8; PUBLIC_KEY_LEN] {
    use x_wing::Decapsulator as _;
    let mut out = [0u8; PUBLIC_KEY_LEN];
    out.copy_from_slice(&key.encapsulation_key().to_bytes());
    out
}

/// The parsed public key of a decapsulation key.
fn decapsulator_public(key: &x_wing::DecapsulationKey) -> x_wing::EncapsulationKey {
    use x_wing::Decapsulator as _;
    key.encapsulation_key().clone()
}

impl core::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "XWingSecretKey([redacted], {:?})", self.public)
    }
}

/// The 64 random bytes of one encapsulation (`eseed`). Zeroized on drop.
pub struct Eseed(Zeroizing<[u8; ESEED_LEN]>);

impl Eseed {
    /// Fresh randomness from the operating system.
    pub fn generate() -> Result<Self> {
        let mut bytes = Zeroizing::new([0u8; ESEED_LEN]);
        getrandom::fill(bytes.as_mut()).map_err(|_| Error::Randomness)?;
        Ok(Self(bytes))
    }

    /// Given randomness, for test vectors only: two encapsulations with one
    /// `eseed` share their secret. Never enable the feature in a product.
    #[cfg(any(test, feature = "test-vectors"))]
    pub fn from_bytes(bytes: [u8; ESEED_LEN]) -> Self {
        Self(Zeroizing::new(bytes))
    }
}

/// `Encap(pkR)` with `eseed` (SPEC.md section 12.1): `(shared_secret, enc)`.
pub fn encap(pk: &PublicKey, eseed: &Eseed) -> (Zeroizing<[u8; SHARED_SECRET_LEN]>, [u8; ENC_LEN]) {
    let mut randomness = Array::from(*eseed.0);
    let (ct, mut ss) = pk.key.encapsulate_deterministic(&randomness);
    randomness.0.zeroize();
    let shared = Zeroizing::new(ss.0);
    ss.0.zeroize();
    (shared, ct.0)
}

/// `Decap(enc, skR)` (SPEC.md section 12.1). It cannot fail: ML-KEM's
/// implicit rejection gives another secret for a changed `enc`.
pub fn decap(enc: &[u8; ENC_LEN], sk: &SecretKey) -> Zeroizing<[u8; SHARED_SECRET_LEN]> {
    let mut ss = sk.key.decapsulate(&Array::from(*enc));
    let shared = Zeroizing::new(ss.0);
    ss.0.zeroize();
    shared
}

/// `DeriveKeyPair(ikm)` of draft-ietf-hpke-pq for X-Wing: the seed
/// `LabeledDerive(ikm, "DeriveKeyPair", "", 32)` over SHAKE256 with the
/// KEM's suite id. For the test vectors.
#[cfg(feature = "test-vectors")]
pub fn derive_key_pair(ikm: &[u8]) -> SecretKey {
    use shake::{ExtendableOutput as _, Update as _, XofReader as _};
    let mut xof = shake::Shake256::default();
    xof.update(ikm);
    xof.update(b"HPKE-v1");
    xof.update(b"KEM\x64\x7a");
    xof.update(&13u16.to_be_bytes());
    xof.update(b"DeriveKeyPair");
    xof.update(&32u16.to_be_bytes());
    let mut seed = Zeroizing::new([0u8; SEED_LEN]);
    xof.finalize_xof().read(seed.as_mut());
    SecretKey::from_seed(&seed)
}

/// `SetupBaseS(pkR, info)` with `eseed` (RFC 9180 section 5.1.1, this KEM):
/// `(enc, context)`. `ksc` is the key schedule context of mode base, this
/// suite and `info` ([`base_context`]).
pub fn setup_base_s(
    pk: &PublicKey,
    ksc: &KeyScheduleContext,
    eseed: &Eseed,
) -> Result<([u8; ENC_LEN], hpke::Context)> {
    let (shared, enc) = encap(pk, eseed);
    Ok((enc, hpke::key_schedule_with(ksc, shared.as_ref(), b"")?))
}

/// `SetupBaseR(enc, skR, info)` (RFC 9180 section 5.1.1, this KEM).
pub fn setup_base_r(enc: &[u8; ENC_LEN], sk: &SecretKey, ksc: &KeyScheduleContext) -> Result<hpke::Context> {
    let shared = decap(enc, sk);
    hpke::key_schedule_with(ksc, shared.as_ref(), b"")
}

/// The key schedule context of mode base in the X-Wing suite for `info`.
pub fn base_context(info: &[u8]) -> KeyScheduleContext {
    KeyScheduleContext::new_in(Suite::XWing, Mode::Base, info, b"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encap_and_decap_agree_and_a_changed_enc_gives_another_secret() {
        let sk = SecretKey::from_seed(&[7; 32]);
        let (ss, enc) = encap(sk.public_key(), &Eseed::generate().unwrap());
        assert_eq!(*decap(&enc, &sk), *ss);
        let mut bad = enc;
        bad[0] ^= 1;
        assert_ne!(*decap(&bad, &sk), *ss);
        let mut bad = enc;
        bad[ENC_LEN - 1] ^= 1;
        assert_ne!(*decap(&bad, &sk), *ss);
    }

    #[test]
    fn a_public_key_out_of_range_is_refused() {
        let sk = SecretKey::from_seed(&[9; 32]);
        let mut bytes = *sk.public_key().as_bytes();
        assert_eq!(PublicKey::from_bytes(&bytes).unwrap(), *sk.public_key());
        // The first 12-bit coefficient set to 4095 (above q = 3329).
        bytes[0] = 0xff;
        bytes[1] |= 0x0f;
        assert_eq!(PublicKey::from_bytes(&bytes).unwrap_err().kind(), crate::ErrorKind::InvalidEncoding);
    }

    #[test]
    fn debug_redacts_the_seed() {
        let sk = SecretKey::from_seed(&[0xab; 32]);
        let text = format!("{sk:?}");
        assert!(text.contains("[redacted]"));
        assert!(!text.contains("ab, ab, ab"));
    }
}
