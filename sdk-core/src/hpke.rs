//! HPKE (RFC 9180) for exactly two suites: DHKEM(X25519, HKDF-SHA256),
//! HKDF-SHA256 and ChaCha20Poly1305 (envelope version 1), and the same KDF
//! and AEAD with the X-Wing KEM of draft-ietf-hpke-pq (envelope version 2,
//! the KEM in [`crate::xwing`]).
//!
//! The functions read like the RFC's pseudocode and cite its sections. All
//! four modes are here because the psk modes cost nothing; PushSeal's
//! envelope uses mode auth (version 1) and mode base (version 2) only. Most
//! users want [`crate::Sender`] and [`crate::DeviceKeyring`] instead of this
//! module.

use chacha20poly1305::{AeadInOut, ChaCha20Poly1305, KeyInit, Nonce, Tag};
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::montgomery::MontgomeryPoint;
use hkdf::{Hkdf, HkdfExtract};
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, Result};

/// `Nsecret`, `Nenc`, `Npk`, `Nsk` of DHKEM(X25519, HKDF-SHA256) (section 7.1).
pub const N_KEY: usize = 32;
/// `Nk` of ChaCha20Poly1305 (section 7.3).
pub const N_K: usize = 32;
/// `Nn` of ChaCha20Poly1305 (section 7.3).
pub const N_N: usize = 12;
/// `Nt` of ChaCha20Poly1305 (section 7.3).
pub const N_T: usize = 16;

/// `suite_id = "KEM" || I2OSP(0x0020, 2)` (section 4.1).
const KEM_SUITE_ID: &[u8] = b"KEM\x00\x20";
/// `suite_id = "HPKE" || I2OSP(kem_id, 2) || I2OSP(kdf_id, 2) || I2OSP(aead_id, 2)` (section 5.1).
const HPKE_SUITE_ID: &[u8] = b"HPKE\x00\x20\x00\x01\x00\x03";
/// The same with KEM `0x647A`, X-Wing (SPEC.md section 12.1).
const XWING_SUITE_ID: &[u8] = b"HPKE\x64\x7a\x00\x01\x00\x03";

/// The cipher suite of a key schedule: which `suite_id` labels it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suite {
    /// DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305: envelope version 1.
    X25519,
    /// X-Wing (`0x647A`), HKDF-SHA256, ChaCha20Poly1305: envelope version 2.
    XWing,
}

impl Suite {
    /// The suite's `suite_id` (section 5.1).
    pub const fn id(self) -> &'static [u8] {
        match self {
            Self::X25519 => HPKE_SUITE_ID,
            Self::XWing => XWING_SUITE_ID,
        }
    }
}

/// The HPKE mode (section 5). PushSeal uses `mode_auth`; the others serve
/// the RFC's own vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "test-vectors"), allow(dead_code))]
#[repr(u8)]
pub enum Mode {
    /// `mode_base`
    Base = 0x00,
    /// `mode_psk`
    Psk = 0x01,
    /// `mode_auth`
    Auth = 0x02,
    /// `mode_auth_psk`
    AuthPsk = 0x03,
}

/// `LabeledExtract(salt, label, ikm) = Extract(salt, "HPKE-v1" || suite_id || label || ikm)`
/// (section 4), returning the PRK ready for `LabeledExpand`. `ikm` is given
/// in parts, which are hashed as if concatenated.
fn labeled_extract(suite_id: &[u8], salt: &[u8], label: &[u8], ikm: &[&[u8]]) -> Hkdf<Sha256> {
    labeled_extract_full(suite_id, salt, label, ikm).1
}

/// `LabeledExtract` returning the PRK's bytes too, for the values the key
/// schedule uses as data (`psk_id_hash`, `info_hash`).
fn labeled_extract_full(suite_id: &[u8], salt: &[u8], label: &[u8], ikm: &[&[u8]]) -> ([u8; 32], Hkdf<Sha256>) {
    let mut extract = HkdfExtract::<Sha256>::new(Some(salt));
    extract.input_ikm(b"HPKE-v1");
    extract.input_ikm(suite_id);
    extract.input_ikm(label);
    for part in ikm {
        extract.input_ikm(part);
    }
    let (prk, hkdf) = extract.finalize();
    (prk.into(), hkdf)
}

/// `LabeledExpand(prk, label, info, L) = Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L)`
/// (section 4), with `L = out.len()`.
fn labeled_expand(suite_id: &[u8], prk: &Hkdf<Sha256>, label: &[u8], info: &[u8], out: &mut [u8]) -> Result<()> {
    let len = u16::try_from(out.len()).map_err(|_| Error::Malformed("HPKE output length exceeds 65535 bytes"))?;
    prk.expand_multi_info(&[&len.to_be_bytes(), b"HPKE-v1", suite_id, label, info], out)
        .map_err(|_| Error::Malformed("HPKE output length too large for HKDF-SHA256"))
}

/// An X25519 public key made ready for scalar multiplication.
///
/// X25519 (RFC 7748) is defined by the Montgomery ladder on the u-coordinate.
/// When `u` is the coordinate of a point on the curve (every honest public
/// key), the same result comes from the point's Edwards form, multiplied by
/// the same clamped scalar and mapped back: the u-coordinate of `[k]P` does
/// not depend on which of `P` and `-P` the Edwards form picked. That route
/// uses the vectorized (AVX2) scalar multiplication where the processor has
/// it, faster than the ladder even with both conversions (BENCHMARKS.md has
/// the figures); a key prepared once for two operations saves more.
/// Coordinates on the twist, which have no Edwards form, take the ladder.
/// Both are constant time in the secret scalar; which route is taken depends
/// on the public key alone.
#[derive(Clone, Copy)]
pub struct PreparedKey {
    u: MontgomeryPoint,
    edwards: Option<EdwardsPoint>,
}

impl PreparedKey {
    /// Prepares `pk`: one field inversion and one square root.
    pub fn new(pk: &PublicKey) -> Self {
        let u = MontgomeryPoint(pk.to_bytes());
        Self { u, edwards: u.to_edwards(0) }
    }

    /// The serialized public key.
    pub fn as_bytes(&self) -> &[u8; N_KEY] {
        self.u.as_bytes()
    }
}

impl core::fmt::Debug for PreparedKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "PreparedKey({:02x?})", self.u.as_bytes())
    }
}

/// `DH(sk, pk)` (X25519) with the all-zero check of section 7.1.4.
fn dh(sk: &StaticSecret, pk: &PublicKey) -> Result<Zeroizing<[u8; 32]>> {
    dh_prepared(sk, &PreparedKey::new(pk))
}

/// `DH(sk, pk)` for a prepared `pk`; see [`PreparedKey`] for the two routes.
fn dh_prepared(sk: &StaticSecret, pk: &PreparedKey) -> Result<Zeroizing<[u8; 32]>> {
    let shared = match &pk.edwards {
        Some(point) => {
            let scalar = Zeroizing::new(sk.to_bytes());
            let product = Zeroizing::new(point.mul_clamped(*scalar));
            let u = Zeroizing::new(product.to_montgomery());
            Zeroizing::new(u.to_bytes())
        }
        None => Zeroizing::new(sk.diffie_hellman(&PublicKey::from(pk.u.to_bytes())).to_bytes()),
    };
    // Both routes pass the scalar by value into curve25519-dalek, whose frames
    // (the scalar's copy, its radix-16 digits, the lookup table) are left on
    // the stack below this one when they return: overwrite that region.
    scrub_stack();
    if is_all_zero(&shared) {
        return Err(Error::ZeroSharedSecret);
    }
    Ok(shared)
}

/// Bytes of stack below the caller that [`scrub_stack`] overwrites: more
/// than a variable-base scalar multiplication's frames use.
const STACK_SCRUB_LEN: usize = 8 * 1024;

/// Overwrites the stack region where the frames of the function just returned
/// from lay, so that no copy of a secret scalar outlives the call there.
/// Best effort: safe Rust cannot name that memory, so this zeroizes a local
/// buffer of [`STACK_SCRUB_LEN`] bytes, which occupies the same addresses.
#[inline(never)]
fn scrub_stack() {
    let mut region = [0u8; STACK_SCRUB_LEN];
    core::hint::black_box(&mut region);
    region.zeroize();
}

/// Whether a DH output is all zero, in time independent of its bytes (RFC
/// 7748, section 6.1: "check ... in constant time"): every byte is folded in
/// with OR before the one comparison, so no early exit tells where the first
/// non-zero byte is.
fn is_all_zero(bytes: &[u8; 32]) -> bool {
    crate::receipt::ct_eq(bytes, &[0; 32])
}

/// `DeriveKeyPair(ikm)` for X25519 (section 7.1.3).
#[cfg(feature = "test-vectors")]
pub fn derive_key_pair(ikm: &[u8]) -> Result<(StaticSecret, PublicKey)> {
    let dkp_prk = labeled_extract(KEM_SUITE_ID, b"", b"dkp_prk", &[ikm]);
    let mut sk = Zeroizing::new([0u8; N_KEY]);
    labeled_expand(KEM_SUITE_ID, &dkp_prk, b"sk", b"", sk.as_mut())?;
    let sk = StaticSecret::from(*sk);
    let pk = PublicKey::from(&sk);
    Ok((sk, pk))
}

/// `ExtractAndExpand(dh, kem_context)` (section 4.1).
fn extract_and_expand(dh: &[&[u8]], kem_context: &[&[u8; N_KEY]]) -> Result<Zeroizing<[u8; N_KEY]>> {
    let eae_prk = labeled_extract(KEM_SUITE_ID, b"", b"eae_prk", dh);
    // kem_context = enc || pkR (|| pkS): at most three keys, joined on the stack.
    let mut ctx = [0u8; 3 * N_KEY];
    for (dst, part) in ctx.chunks_exact_mut(N_KEY).zip(kem_context) {
        dst.copy_from_slice(*part);
    }
    let len = N_KEY * kem_context.len().min(3);
    let mut shared_secret = Zeroizing::new([0u8; N_KEY]);
    labeled_expand(KEM_SUITE_ID, &eae_prk, b"shared_secret", &ctx[..len], shared_secret.as_mut())?;
    Ok(shared_secret)
}

/// The ephemeral key pair a sender uses once: `GenerateKeyPair()` in the RFC.
pub struct Ephemeral {
    sk: StaticSecret,
    pk: PublicKey,
}

impl Ephemeral {
    /// A fresh key pair from the operating system's random number generator.
    pub fn generate() -> Result<Self> {
        let mut bytes = Zeroizing::new([0u8; N_KEY]);
        getrandom::fill(bytes.as_mut()).map_err(|_| Error::Randomness)?;
        let sk = StaticSecret::from(*bytes);
        let pk = PublicKey::from(&sk);
        Ok(Self { sk, pk })
    }

    /// The key pair `DeriveKeyPair(ikm)` gives. Deterministic: two envelopes
    /// sealed with one derived key share an AEAD key and nonce. Only with the
    /// `test-vectors` feature, which the vector generator and the crate's own
    /// tests enable; never enable it in a product.
    #[cfg(any(test, feature = "test-vectors"))]
    pub fn derive(ikm: &[u8]) -> Result<Self> {
        let (sk, pk) = derive_key_pair(ikm)?;
        Ok(Self { sk, pk })
    }

    /// `enc`, the serialized ephemeral public key.
    pub fn enc(&self) -> [u8; N_KEY] {
        self.pk.to_bytes()
    }
}

/// A sender's static key pair for mode auth: `skS` with its `pkS`.
pub struct AuthKey<'a> {
    /// `skS`
    pub sk: &'a StaticSecret,
    /// `pkS`, kept beside the secret so that no call recomputes it.
    pub pk: &'a PublicKey,
}

/// `Encap(pkR)` (mode base) or `AuthEncap(pkR, skS)` (mode auth), section 4.1,
/// with the ephemeral key pair given. Returns `(shared_secret, enc)`.
pub fn encap(
    eph: &Ephemeral,
    pk_r: &PublicKey,
    sender: Option<AuthKey<'_>>,
) -> Result<(Zeroizing<[u8; N_KEY]>, [u8; N_KEY])> {
    let enc = eph.enc();
    let prepared = PreparedKey::new(pk_r);
    let dh_e = dh_prepared(&eph.sk, &prepared)?;
    match sender {
        None => Ok((extract_and_expand(&[dh_e.as_ref()], &[&enc, pk_r.as_bytes()])?, enc)),
        Some(s) => {
            let dh_s = dh_prepared(s.sk, &prepared)?;
            encap_with_static_dh(eph, &dh_e, pk_r, s.pk, &dh_s).map(|ss| (ss, enc))
        }
    }
}

/// What a sender may keep about one device to seal to it again with one
/// Diffie-Hellman less (mode auth): the device's public key made ready for
/// X25519, and `DH(skS, pkR)`, which is the same for every message between
/// the two. The DH value is as secret as the keys: it is zeroized on drop.
pub struct StaticDh {
    pk_r: PreparedKey,
    dh_s: Zeroizing<[u8; 32]>,
}

impl StaticDh {
    /// Computes `DH(skS, pkR)` once.
    pub fn new(sk_s: &StaticSecret, pk_r: &PublicKey) -> Result<Self> {
        let pk_r = PreparedKey::new(pk_r);
        let dh_s = dh_prepared(sk_s, &pk_r)?;
        Ok(Self { pk_r, dh_s })
    }

    /// The device public key this value belongs to.
    pub fn recipient(&self) -> &[u8; N_KEY] {
        self.pk_r.as_bytes()
    }
}

impl core::fmt::Debug for StaticDh {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "StaticDh({:?}, [redacted])", self.pk_r)
    }
}

/// `AuthEncap(pkR, skS)` with `DH(skS, pkR)` from a [`StaticDh`]: one DH instead of two.
pub fn encap_with_cached(
    eph: &Ephemeral,
    cached: &StaticDh,
    pk_s: &PublicKey,
) -> Result<(Zeroizing<[u8; N_KEY]>, [u8; N_KEY])> {
    let enc = eph.enc();
    let dh_e = dh_prepared(&eph.sk, &cached.pk_r)?;
    let ss =
        extract_and_expand(&[dh_e.as_ref(), cached.dh_s.as_ref()], &[&enc, cached.pk_r.as_bytes(), pk_s.as_bytes()])?;
    Ok((ss, enc))
}

/// `AuthEncap` when `DH(skS, pkR)` is already known (a sender's cache).
pub fn encap_with_static_dh(
    eph: &Ephemeral,
    dh_e: &[u8; 32],
    pk_r: &PublicKey,
    pk_s: &PublicKey,
    dh_s: &[u8; 32],
) -> Result<Zeroizing<[u8; N_KEY]>> {
    extract_and_expand(&[dh_e, dh_s], &[&eph.enc(), pk_r.as_bytes(), pk_s.as_bytes()])
}

/// The ephemeral half of `AuthEncap`: `DH(skE, pkR)`.
#[cfg(feature = "test-vectors")]
pub fn ephemeral_dh(eph: &Ephemeral, pk_r: &PublicKey) -> Result<Zeroizing<[u8; 32]>> {
    dh(&eph.sk, pk_r)
}

/// `DH(skS, pkR)`, the static-static half of `AuthEncap` that a sender may cache.
pub fn static_dh(sk_s: &StaticSecret, pk_r: &PublicKey) -> Result<Zeroizing<[u8; 32]>> {
    dh(sk_s, pk_r)
}

/// `Decap(enc, skR)` (mode base) or `AuthDecap(enc, skR, pkS)` (mode auth), section 4.1.
pub fn decap(
    enc: &[u8; N_KEY],
    sk_r: &StaticSecret,
    pk_r: &PublicKey,
    pk_s: Option<&PublicKey>,
) -> Result<Zeroizing<[u8; N_KEY]>> {
    let pk_e = PublicKey::from(*enc);
    let dh_e = dh(sk_r, &pk_e)?;
    match pk_s {
        None => extract_and_expand(&[dh_e.as_ref()], &[enc, pk_r.as_bytes()]),
        Some(pk_s) => {
            let dh_s = dh(sk_r, pk_s)?;
            extract_and_expand(&[dh_e.as_ref(), dh_s.as_ref()], &[enc, pk_r.as_bytes(), pk_s.as_bytes()])
        }
    }
}

/// The encryption context of section 5.2: `key`, `base_nonce`, `seq` and
/// `exporter_secret`. Key material is zeroized on drop.
pub struct Context {
    suite: Suite,
    key: Zeroizing<[u8; N_K]>,
    base_nonce: [u8; N_N],
    exporter_secret: Zeroizing<[u8; N_KEY]>,
    seq: u64,
}

impl Drop for Context {
    fn drop(&mut self) {
        self.base_nonce.zeroize();
    }
}

/// `VerifyPSKInputs(mode, psk, psk_id)` (section 5.1).
#[cfg(feature = "test-vectors")]
fn verify_psk_inputs(mode: Mode, psk: &[u8], psk_id: &[u8]) -> Result<()> {
    let wants_psk = matches!(mode, Mode::Psk | Mode::AuthPsk);
    if psk.is_empty() != psk_id.is_empty() || wants_psk == psk.is_empty() {
        return Err(Error::Malformed("HPKE psk inputs do not match the mode"));
    }
    Ok(())
}

/// `key_schedule_context = mode || psk_id_hash || info_hash` (section 5.1).
///
/// It depends on the mode, `info` and `psk_id` only, so a caller that always
/// uses the same ones (the envelope does) computes it once and passes it to
/// [`key_schedule_with`], saving two of the key schedule's five HMAC passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyScheduleContext {
    suite: Suite,
    mode: Mode,
    bytes: [u8; 1 + 2 * 32],
}

impl KeyScheduleContext {
    /// The context for `mode`, `info` and `psk_id` in the version 1 suite.
    pub fn new(mode: Mode, info: &[u8], psk_id: &[u8]) -> Self {
        Self::new_in(Suite::X25519, mode, info, psk_id)
    }

    /// The context for `mode`, `info` and `psk_id` in `suite`.
    pub fn new_in(suite: Suite, mode: Mode, info: &[u8], psk_id: &[u8]) -> Self {
        let mut bytes = [0u8; 1 + 2 * 32];
        bytes[0] = mode as u8;
        bytes[1..33].copy_from_slice(&labeled_extract_full(suite.id(), b"", b"psk_id_hash", &[psk_id]).0);
        bytes[33..].copy_from_slice(&labeled_extract_full(suite.id(), b"", b"info_hash", &[info]).0);
        Self { suite, mode, bytes }
    }

    /// The 65 bytes.
    #[cfg(feature = "test-vectors")]
    pub fn as_bytes(&self) -> &[u8; 1 + 2 * 32] {
        &self.bytes
    }
}

/// `KeySchedule<ROLE>(mode, shared_secret, info, psk, psk_id)` (section 5.1).
/// `psk` and `psk_id` must both be empty (modes base and auth) or both
/// non-empty (modes psk and auth_psk), as `VerifyPSKInputs` requires.
#[cfg(feature = "test-vectors")]
pub fn key_schedule(mode: Mode, shared_secret: &[u8], info: &[u8], psk: &[u8], psk_id: &[u8]) -> Result<Context> {
    verify_psk_inputs(mode, psk, psk_id)?;
    key_schedule_with(&KeyScheduleContext::new(mode, info, psk_id), shared_secret, psk)
}

/// [`key_schedule`] with the context computed beforehand; `psk` must be empty
/// exactly when the context's mode takes none.
pub fn key_schedule_with(context: &KeyScheduleContext, shared_secret: &[u8], psk: &[u8]) -> Result<Context> {
    let wants_psk = matches!(context.mode, Mode::Psk | Mode::AuthPsk);
    if wants_psk == psk.is_empty() {
        return Err(Error::Malformed("HPKE psk inputs do not match the mode"));
    }
    let ksc = &context.bytes;
    let suite_id = context.suite.id();
    let secret = labeled_extract(suite_id, shared_secret, b"secret", &[psk]);
    let mut ctx = Context {
        suite: context.suite,
        key: Zeroizing::new([0u8; N_K]),
        base_nonce: [0u8; N_N],
        exporter_secret: Zeroizing::new([0u8; N_KEY]),
        seq: 0,
    };
    labeled_expand(suite_id, &secret, b"key", ksc, ctx.key.as_mut())?;
    labeled_expand(suite_id, &secret, b"base_nonce", ksc, &mut ctx.base_nonce)?;
    labeled_expand(suite_id, &secret, b"exp", ksc, ctx.exporter_secret.as_mut())?;
    Ok(ctx)
}

impl Context {
    /// `ComputeNonce(seq) = base_nonce XOR I2OSP(seq, Nn)` (section 5.2).
    fn compute_nonce(&self) -> Nonce {
        let mut nonce = self.base_nonce;
        for (n, s) in nonce[N_N - 8..].iter_mut().zip(self.seq.to_be_bytes()) {
            *n ^= s;
        }
        Nonce::from(nonce)
    }

    /// `IncrementSeq()`: the sequence number may not wrap (section 5.2).
    fn increment_seq(&mut self) -> Result<()> {
        self.seq = self.seq.checked_add(1).ok_or(Error::Malformed("HPKE message limit reached"))?;
        Ok(())
    }

    /// `ContextS.Seal(aad, pt)` in place: encrypts `buf[start..]` and appends the tag.
    pub fn seal_in_place(&mut self, aad: &[u8], buf: &mut Vec<u8>, start: usize) -> Result<()> {
        let cipher = ChaCha20Poly1305::new(&chacha20poly1305::Key::from(*self.key));
        let tail = buf.get_mut(start..).ok_or(Error::Malformed("seal start past the end of the buffer"))?;
        let tag = cipher
            .encrypt_inout_detached(&self.compute_nonce(), aad, tail.into())
            .map_err(|_| Error::Malformed("plaintext too long for ChaCha20Poly1305"))?;
        buf.extend_from_slice(&tag);
        self.increment_seq()
    }

    /// `ContextS.Seal(aad, pt)`, returning `ct` (section 5.2).
    #[cfg(feature = "test-vectors")]
    pub fn seal(&mut self, aad: &[u8], pt: &[u8]) -> Result<Vec<u8>> {
        let mut buf = Vec::with_capacity(pt.len() + N_T);
        buf.extend_from_slice(pt);
        self.seal_in_place(aad, &mut buf, 0)?;
        Ok(buf)
    }

    /// `ContextR.Open(aad, ct)` in place: `ct` is the ciphertext followed by its
    /// tag; on success the plaintext is `ct[..ct.len() - 16]`.
    pub fn open_in_place<'b>(&mut self, aad: &[u8], ct: &'b mut [u8]) -> Result<&'b mut [u8]> {
        let split =
            ct.len().checked_sub(N_T).ok_or(Error::Truncated { what: "ciphertext", needed: N_T, found: ct.len() })?;
        let (msg, tag) = ct.split_at_mut(split);
        let tag = Tag::try_from(&*tag).map_err(|_| Error::Tampered)?;
        let cipher = ChaCha20Poly1305::new(&chacha20poly1305::Key::from(*self.key));
        cipher
            .decrypt_inout_detached(&self.compute_nonce(), aad, (&mut *msg).into(), &tag)
            .map_err(|_| Error::Tampered)?;
        self.increment_seq()?;
        Ok(msg)
    }

    /// `ContextR.Open(aad, ct)`, returning `pt` (section 5.2).
    #[cfg(feature = "test-vectors")]
    pub fn open(&mut self, aad: &[u8], ct: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let mut buf = Zeroizing::new(ct.to_vec());
        let len = self.open_in_place(aad, &mut buf)?.len();
        buf.truncate(len);
        Ok(buf)
    }

    /// `Context.Export(exporter_context, L)` (section 5.3).
    pub fn export(&self, exporter_context: &[u8], out: &mut [u8]) -> Result<()> {
        let prk = Hkdf::<Sha256>::from_prk(self.exporter_secret.as_ref())
            .map_err(|_| Error::Malformed("exporter secret has the wrong length"))?;
        labeled_expand(self.suite.id(), &prk, b"sec", exporter_context, out)
    }

    /// The suite this context was made in.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The values a test vector lists for this context: `key`, `base_nonce`, `exporter_secret`.
    #[doc(hidden)]
    #[cfg(feature = "test-vectors")]
    pub fn debug_values(&self) -> ([u8; N_K], [u8; N_N], [u8; N_KEY]) {
        (*self.key, self.base_nonce, *self.exporter_secret)
    }
}

/// The mode of a single-shot call: auth with a sender key, base without.
#[cfg(feature = "test-vectors")]
fn mode_of(auth: bool) -> Mode {
    if auth { Mode::Auth } else { Mode::Base }
}

/// `SealBase(pkR, info, aad, pt)` (`sender` is `None`) or
/// `SealAuth(pkR, info, aad, pt, skS)`, the single-shot API of section 6.1:
/// a fresh ephemeral key, one encryption at sequence number 0. Returns
/// `(enc, ct)`. For the secret exporter, use [`encap`], [`key_schedule`] and
/// [`Context::export`].
#[cfg(feature = "test-vectors")]
pub fn seal(
    pk_r: &PublicKey,
    sender: Option<AuthKey<'_>>,
    info: &[u8],
    aad: &[u8],
    pt: &[u8],
) -> Result<([u8; N_KEY], Vec<u8>)> {
    seal_with(&Ephemeral::generate()?, pk_r, sender, info, aad, pt)
}

/// [`seal`] with the ephemeral key pair given: for the test vectors (see
/// [`Ephemeral::derive`]); never enable the feature in a product.
#[cfg(feature = "test-vectors")]
pub fn seal_with(
    eph: &Ephemeral,
    pk_r: &PublicKey,
    sender: Option<AuthKey<'_>>,
    info: &[u8],
    aad: &[u8],
    pt: &[u8],
) -> Result<([u8; N_KEY], Vec<u8>)> {
    let mode = mode_of(sender.is_some());
    let (shared_secret, enc) = encap(eph, pk_r, sender)?;
    let ct = key_schedule(mode, shared_secret.as_ref(), info, b"", b"")?.seal(aad, pt)?;
    Ok((enc, ct))
}

/// `OpenBase(enc, skR, info, aad, ct)` (`pk_s` is `None`) or
/// `OpenAuth(enc, skR, info, aad, ct, pkS)`, section 6.1. `pk_r` is the
/// public key of `sk_r`.
#[cfg(feature = "test-vectors")]
pub fn open(
    enc: &[u8; N_KEY],
    sk_r: &StaticSecret,
    pk_r: &PublicKey,
    pk_s: Option<&PublicKey>,
    info: &[u8],
    aad: &[u8],
    ct: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    let shared_secret = decap(enc, sk_r, pk_r, pk_s)?;
    key_schedule(mode_of(pk_s.is_some()), shared_secret.as_ref(), info, b"", b"")?.open(aad, ct)
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::constants::EIGHT_TORSION;

    fn random32() -> [u8; 32] {
        let mut b = [0u8; 32];
        getrandom::fill(&mut b).unwrap();
        b
    }

    /// The Montgomery ladder of RFC 7748, as x25519-dalek computes it: the reference.
    fn ladder(sk: &[u8; 32], u: &[u8; 32]) -> [u8; 32] {
        StaticSecret::from(*sk).diffie_hellman(&PublicKey::from(*u)).to_bytes()
    }

    fn ours(sk: &[u8; 32], u: &[u8; 32]) -> Option<[u8; 32]> {
        match dh(&StaticSecret::from(*sk), &PublicKey::from(*u)) {
            Ok(v) => Some(*v),
            Err(e) => {
                assert_eq!(e, Error::ZeroSharedSecret);
                None
            }
        }
    }

    fn check(sk: &[u8; 32], u: &[u8; 32]) {
        let reference = ladder(sk, u);
        match ours(sk, u) {
            Some(v) => assert_eq!(v, reference, "u = {u:02x?}"),
            None => assert_eq!(reference, [0u8; 32], "u = {u:02x?}"),
        }
    }

    #[test]
    fn the_edwards_route_matches_the_ladder_on_random_inputs() {
        // About half of random u-coordinates lie on the twist: both routes are covered.
        for _ in 0..300 {
            check(&random32(), &random32());
        }
        for _ in 0..100 {
            let pk = PublicKey::from(&StaticSecret::from(random32()));
            check(&random32(), pk.as_bytes());
        }
    }

    #[test]
    fn the_edwards_route_matches_the_ladder_on_special_inputs() {
        let sk = random32();
        // p = 2^255 - 19 is ed ff .. ff 7f in little-endian bytes.
        let mut p = [0xffu8; 32];
        (p[0], p[31]) = (0xed, 0x7f);
        for n in 0u8..19 {
            let mut small = [0u8; 32];
            small[0] = n;
            let (mut below_p, mut from_p) = (p, p);
            below_p[0] -= n + 1;
            from_p[0] += n;
            // 0..18, p-19..p-1 and the non-canonical p..p+18, each also with the top bit set.
            for mut u in [small, below_p, from_p] {
                check(&sk, &u);
                u[31] |= 0x80;
                check(&sk, &u);
            }
        }
        // The torsion points, alone and added to a point of large order.
        let big = EdwardsPoint::mul_base_clamped(random32());
        for t in EIGHT_TORSION {
            check(&sk, &t.to_montgomery().to_bytes());
            check(&sk, &(big + t).to_montgomery().to_bytes());
        }
    }

    #[test]
    fn the_zero_check_sees_every_byte() {
        assert!(is_all_zero(&[0; 32]));
        for i in 0..32 {
            for bit in 0..8 {
                let mut v = [0u8; 32];
                v[i] = 1 << bit;
                assert!(!is_all_zero(&v), "byte {i} bit {bit}");
            }
        }
    }

    #[test]
    fn low_order_points_give_zero_shared_secret() {
        for t in EIGHT_TORSION {
            let u = t.to_montgomery().to_bytes();
            assert_eq!(ours(&random32(), &u), None, "u = {u:02x?}");
        }
    }

    #[test]
    fn a_context_computed_once_gives_the_same_key_schedule() {
        let ksc = KeyScheduleContext::new(Mode::Auth, b"info", b"");
        let once = key_schedule_with(&ksc, &[7; 32], b"").unwrap().debug_values();
        let each = key_schedule(Mode::Auth, &[7; 32], b"info", b"", b"").unwrap().debug_values();
        assert_eq!(once, each);
        assert!(key_schedule_with(&ksc, &[7; 32], b"psk").is_err());
        let psk = KeyScheduleContext::new(Mode::AuthPsk, b"info", b"id");
        assert!(key_schedule_with(&psk, &[7; 32], b"").is_err());
        assert_eq!(
            key_schedule_with(&psk, &[7; 32], b"psk").unwrap().debug_values(),
            key_schedule(Mode::AuthPsk, &[7; 32], b"info", b"psk", b"id").unwrap().debug_values()
        );
    }

    #[test]
    fn a_cached_static_dh_gives_the_same_shared_secret() {
        let (sk_s, sk_r) = (StaticSecret::from(random32()), StaticSecret::from(random32()));
        let (pk_s, pk_r) = (PublicKey::from(&sk_s), PublicKey::from(&sk_r));
        let eph = Ephemeral::derive(b"cached static dh").unwrap();
        let cached = StaticDh::new(&sk_s, &pk_r).unwrap();
        assert_eq!(cached.recipient(), pk_r.as_bytes());
        let (ss, enc) = encap_with_cached(&eph, &cached, &pk_s).unwrap();
        let (ss2, enc2) = encap(&eph, &pk_r, Some(AuthKey { sk: &sk_s, pk: &pk_s })).unwrap();
        assert_eq!((*ss, enc), (*ss2, enc2));
        assert_eq!(*decap(&enc, &sk_r, &pk_r, Some(&pk_s)).unwrap(), *ss);
        assert!(!format!("{cached:?}").contains(&format!("{:02x?}", *cached.dh_s)));
    }
}
