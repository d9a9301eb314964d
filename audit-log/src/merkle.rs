//! The log's Merkle tree (RFC 9162, section 2.1): hashing, tree heads,
//! inclusion and consistency proofs, as pure functions of stored hashes.
//!
//! Every record of a log is a leaf, in `seq` order; which bytes a leaf is,
//! and how a tree is kept, are in SPEC.md section 10.3. The tree is never
//! stored whole: a store keeps the *stored hashes* (the hash of every leaf
//! and of every complete subtree, in the order they come into being, see
//! [`stored_hash_index`]) and hands them out through a [`HashReader`]. From
//! them, [`tree_hash`], [`prove_inclusion`] and [`prove_consistency`] read
//! O(log n) hashes, in one call to the reader; [`verify_inclusion`] and
//! [`verify_consistency`] need no store at all. The file log computes its
//! hashes in memory ([`MemoryHashes`]); a database stores them in a table.
//!
//! ```
//! use pushseal_audit::merkle::{self, MemoryHashes};
//!
//! let mut tree = MemoryHashes::default();
//! for record in [&b"first"[..], b"second", b"third"] {
//!     tree.append_leaf(merkle::leaf_hash(record))?;
//! }
//! let root = merkle::tree_hash(3, &tree)?;
//! let proof = merkle::prove_inclusion(3, 1, &tree)?;
//! merkle::verify_inclusion(&proof, 3, root, 1, merkle::leaf_hash(b"second"))?;
//!
//! let old_root = merkle::tree_hash(2, &tree)?;
//! let proof = merkle::prove_consistency(3, 2, &tree)?;
//! merkle::verify_consistency(&proof, 3, root, 2, old_root)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The layout of the stored hashes and the shape of the functions are those
//! of Go's `golang.org/x/mod/sumdb/tlog`, whose verifiers check PushSeal's
//! proofs (see `audit-log/tests/go-verifier/`).

use std::fmt;

use pushseal::{Error, Result};
use sha2::{Digest, Sha256};

use crate::record::Hash256;

/// The longest proof of a tree of at most 2^64 - 1 leaves has 64 hashes
/// (a consistency proof, in the worst case, one more than the tree's
/// height): a longer one is refused before any hashing.
pub const MAX_PROOF_LEN: usize = 65;

/// `MTH({}) = SHA-256()`: the hash of the empty tree (RFC 9162, section 2.1.1).
pub fn empty_tree_hash() -> Hash256 {
    Hash256::sha256(&[])
}

/// `MTH({d(0)}) = SHA-256(0x00 || d(0))`: the hash of one leaf, the bytes of
/// one record (RFC 9162, section 2.1.1).
pub fn leaf_hash(record: &[u8]) -> Hash256 {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(record);
    Hash256::from_bytes(h.finalize().into())
}

/// `SHA-256(0x01 || left || right)`: the hash of an interior node (RFC 9162,
/// section 2.1.1).
pub fn node_hash(left: Hash256, right: Hash256) -> Hash256 {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left.to_bytes());
    h.update(right.to_bytes());
    Hash256::from_bytes(h.finalize().into())
}

/// Where the stored hashes of a tree live: given their indexes (see
/// [`stored_hash_index`]), return their hashes, in the same order. A store
/// of any kind (memory, a file, a database table) implements it; every
/// function of this module reads through one call.
pub trait HashReader {
    /// The stored hashes at `indexes`, in order; [`Error::Storage`] if one
    /// is not stored (or the store fails).
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash256>>;
}

impl<R: HashReader + ?Sized> HashReader for &R {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash256>> {
        (**self).read_hashes(indexes)
    }
}

/// The index, among the stored hashes, of the hash of the `n`-th complete
/// subtree of height `level` (level 0: the leaves): the subtree over leaves
/// `n * 2^level .. (n + 1) * 2^level`.
///
/// A tree's stored hashes are kept in the order they come into being: leaf
/// 0; leaf 1, then the node over leaves 0..2; leaf 2; leaf 3, then the node
/// over 2..4, then over 0..4; and so on. So the hashes of a tree of `n`
/// leaves are the first [`stored_hash_count`]`(n)`, and appending never
/// changes one (this is Go's `tlog.StoredHashIndex`).
pub fn stored_hash_index(level: u8, n: u64) -> u64 {
    // The last leaf under the subtree, then every hash stored before that
    // leaf's (n + n/2 + n/4 + ...), then the `level` nodes completed with it.
    let last_leaf = (0..level).fold(n, |n, _| n << 1 | 1);
    // Saturating: an index past any store's end is simply not stored.
    let before = (0..64).fold(0u64, |sum, shift| sum.saturating_add(last_leaf >> shift));
    before.saturating_add(u64::from(level))
}

/// How many hashes a tree of `size` leaves stores.
pub fn stored_hash_count(size: u64) -> u64 {
    if size == 0 {
        return 0;
    }
    let last = size - 1;
    stored_hash_index(0, last).saturating_add(1 + u64::from(last.trailing_ones()))
}

/// The hashes a tree of `n` leaves stores next when leaf `n` (hash `leaf`)
/// is appended: the leaf's, then those of the subtrees it completes, lowest
/// first. They go at index [`stored_hash_count`]`(n)` on; `reader` must hold
/// the first `stored_hash_count(n)` hashes.
pub fn stored_hashes_for_leaf(n: u64, leaf: Hash256, reader: &impl HashReader) -> Result<Vec<Hash256>> {
    // Leaf n completes one subtree per trailing one bit of n: its left
    // sibling at each of those levels is already stored.
    let levels = n.trailing_ones() as u8;
    let siblings: Vec<u64> = (0..levels).map(|level| stored_hash_index(level, (n >> level) - 1)).collect();
    let left = read_exact(reader, &siblings)?;
    let mut out = Vec::with_capacity(1 + left.len());
    let mut hash = leaf;
    out.push(hash);
    for sibling in left {
        hash = node_hash(sibling, hash);
        out.push(hash);
    }
    Ok(out)
}

/// The tree hash `MTH(D[size])` of the first `size` leaves (RFC 9162,
/// section 2.1.1), from their stored hashes: at most 64 reads.
pub fn tree_hash(size: u64, reader: &impl HashReader) -> Result<Hash256> {
    if size == 0 {
        return Ok(empty_tree_hash());
    }
    let mut plan = Plan::default();
    let range = plan.range(0, size);
    let hashes = plan.read(reader)?;
    Ok(plan.hash(range, &hashes))
}

/// The inclusion proof `PATH(index, D[size])` of leaf `index` in the tree of
/// the first `size` leaves (RFC 9162, section 2.1.3.1): the sibling hashes
/// from the leaf up. [`Error::Malformed`] if `index >= size`.
pub fn prove_inclusion(size: u64, index: u64, reader: &impl HashReader) -> Result<Vec<Hash256>> {
    if index >= size {
        return Err(Error::Malformed("no such record in the tree: records are numbered from 0 to the tree size - 1"));
    }
    let mut plan = Plan::default();
    let mut ranges = Vec::new();
    let (mut lo, mut hi) = (0, size);
    // PATH(m, D[lo:hi]) = PATH(m, D[lo:lo+k]) : MTH(D[lo+k:hi]) if m < lo + k,
    // else PATH(m, D[lo+k:hi]) : MTH(D[lo:lo+k]); the deepest sibling first.
    while hi - lo > 1 {
        let k = split(hi - lo);
        if index < lo + k {
            ranges.push(plan.range(lo + k, hi));
            hi = lo + k;
        } else {
            ranges.push(plan.range(lo, lo + k));
            lo += k;
        }
    }
    let hashes = plan.read(reader)?;
    Ok(ranges.into_iter().rev().map(|r| plan.hash(r, &hashes)).collect())
}

/// The consistency proof `PROOF(old_size, D[new_size])` that the tree of
/// the first `old_size` leaves is a prefix of the tree of `new_size` (RFC
/// 9162, section 2.1.4.1). Empty when `old_size` is 0 or `new_size`.
/// [`Error::Malformed`] if `old_size > new_size`.
pub fn prove_consistency(new_size: u64, old_size: u64, reader: &impl HashReader) -> Result<Vec<Hash256>> {
    if old_size > new_size {
        return Err(Error::Malformed("the older tree is larger than the newer one: give the older checkpoint first"));
    }
    if old_size == 0 || old_size == new_size {
        return Ok(Vec::new());
    }
    let mut plan = Plan::default();
    let mut ranges = Vec::new();
    let (mut m, mut lo, mut hi, mut whole) = (old_size, 0, new_size, true);
    // SUBPROOF(m, D[lo:hi], b): the subproof first, then the sibling, so
    // the siblings are collected deepest last and reversed at the end.
    loop {
        if m == hi - lo {
            if !whole {
                ranges.push(plan.range(lo, hi));
            }
            break;
        }
        let k = split(hi - lo);
        if m <= k {
            ranges.push(plan.range(lo + k, hi));
            hi = lo + k;
        } else {
            ranges.push(plan.range(lo, lo + k));
            m -= k;
            lo += k;
            whole = false;
        }
    }
    let hashes = plan.read(reader)?;
    Ok(ranges.into_iter().rev().map(|r| plan.hash(r, &hashes)).collect())
}

/// Why a proof does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProofError {
    /// The leaf's index is not below the tree's size, or the older tree is
    /// larger than the newer one.
    OutOfRange,
    /// The proof has more or fewer hashes than a proof for these sizes has.
    WrongLength,
    /// The proof's hashes do not lead to the given tree hash(es): the leaf
    /// is not in the tree, or the newer tree does not extend the older one.
    Mismatch,
}

impl fmt::Display for ProofError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::OutOfRange => {
                "the proof's index or sizes are out of range (the record or older tree is not within the tree)"
            }
            Self::WrongLength => "the proof has the wrong number of hashes for these tree sizes",
            Self::Mismatch => "the proof does not lead to the checkpoint's root hash",
        })
    }
}

impl std::error::Error for ProofError {}

/// Checks that `proof` shows the leaf with hash `leaf` at `index` in the
/// tree of `size` leaves whose hash is `root` (RFC 9162, section 2.1.3.2).
pub fn verify_inclusion(
    proof: &[Hash256],
    size: u64,
    root: Hash256,
    index: u64,
    leaf: Hash256,
) -> core::result::Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::OutOfRange);
    }
    if proof.len() > MAX_PROOF_LEN {
        return Err(ProofError::WrongLength);
    }
    let (mut fn_, mut sn, mut r) = (index, size - 1, leaf);
    for &p in proof {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if r != root {
        return Err(ProofError::Mismatch);
    }
    Ok(())
}

/// Checks that `proof` shows the tree of `old_size` leaves with hash
/// `old_root` to be a prefix of the tree of `new_size` leaves with hash
/// `new_root` (RFC 9162, section 2.1.4.2). Equal sizes need an empty proof
/// and equal hashes; any tree extends the empty one (size 0, empty proof).
pub fn verify_consistency(
    proof: &[Hash256],
    new_size: u64,
    new_root: Hash256,
    old_size: u64,
    old_root: Hash256,
) -> core::result::Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::OutOfRange);
    }
    if proof.len() > MAX_PROOF_LEN {
        return Err(ProofError::WrongLength);
    }
    if old_size == 0 || old_size == new_size {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        let same = old_size == new_size && old_root == new_root;
        return if same || (old_size == 0 && old_root == empty_tree_hash()) {
            Ok(())
        } else {
            Err(ProofError::Mismatch)
        };
    }
    // Steps 1-2: a first tree that is a complete subtree is its own first hash.
    let mut path = proof.iter().copied();
    let first = if old_size.is_power_of_two() { Some(old_root) } else { path.next() };
    let Some(first) = first else { return Err(ProofError::WrongLength) };
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (first, first);
    for c in path {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, fr);
            sr = node_hash(c, sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if fr != old_root || sr != new_root {
        return Err(ProofError::Mismatch);
    }
    Ok(())
}

/// The stored hashes of a tree, in memory: for a log whose tree is computed
/// as it is read (the file log), and for tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryHashes {
    hashes: Vec<Hash256>,
    size: u64,
}

impl MemoryHashes {
    /// Appends the leaf with hash `leaf` (and the subtree hashes it completes).
    pub fn append_leaf(&mut self, leaf: Hash256) -> Result<()> {
        let new = stored_hashes_for_leaf(self.size, leaf, &*self)?;
        self.hashes.extend(new);
        self.size += 1;
        Ok(())
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The tree hash of all the leaves.
    pub fn root(&self) -> Hash256 {
        // Every stored hash of the tree is here.
        tree_hash(self.size, self).expect("a memory tree holds its own hashes")
    }

    /// The hash of leaf `index`, if there is one.
    pub fn leaf(&self, index: u64) -> Option<Hash256> {
        let at = usize::try_from(stored_hash_index(0, index)).ok()?;
        (index < self.size).then(|| self.hashes.get(at).copied()).flatten()
    }
}

impl HashReader for MemoryHashes {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash256>> {
        indexes
            .iter()
            .map(|&i| {
                usize::try_from(i).ok().and_then(|i| self.hashes.get(i).copied()).ok_or_else(|| {
                    Error::Storage(format!("audit log tree: hash {i} is not stored (the tree is shorter)"))
                })
            })
            .collect()
    }
}

/// The largest power of two below `n` (for `n > 1`): where RFC 9162 splits
/// a tree of `n` leaves.
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// The stored hashes a computation needs, gathered so that it reads them in
/// one call.
#[derive(Default)]
struct Plan {
    indexes: Vec<u64>,
}

/// A range of leaves, as the stored hashes of its complete subtrees:
/// `plan.indexes[start..end]`, left to right.
#[derive(Clone, Copy)]
struct PlannedRange {
    start: usize,
    end: usize,
}

impl Plan {
    /// Plans the hash of leaves `lo..hi`, a subtree of RFC 9162's recursion
    /// (`lo` a multiple of a power of two at least `hi - lo`): the complete
    /// subtrees covering it, largest first.
    fn range(&mut self, mut lo: u64, hi: u64) -> PlannedRange {
        let start = self.indexes.len();
        while lo < hi {
            // The largest complete subtree starting at lo that fits.
            let mut level = if lo == 0 { 63 } else { lo.trailing_zeros().min(63) };
            while (1u64 << level) > hi - lo {
                level -= 1;
            }
            self.indexes.push(stored_hash_index(level as u8, lo >> level));
            lo += 1 << level;
        }
        PlannedRange { start, end: self.indexes.len() }
    }

    fn read(&self, reader: &impl HashReader) -> Result<Vec<Hash256>> {
        read_exact(reader, &self.indexes)
    }

    /// The hash of a planned range: `MTH` folds its subtrees from the right.
    fn hash(&self, range: PlannedRange, hashes: &[Hash256]) -> Hash256 {
        let parts = hashes.get(range.start..range.end).unwrap_or_default();
        let mut rest = parts.iter().rev().copied();
        let last = rest.next().unwrap_or_else(empty_tree_hash);
        rest.fold(last, |right, left| node_hash(left, right))
    }
}

/// Reads `indexes` and checks that the reader returned one hash each.
fn read_exact(reader: &impl HashReader, indexes: &[u64]) -> Result<Vec<Hash256>> {
    if indexes.is_empty() {
        return Ok(Vec::new());
    }
    let hashes = reader.read_hashes(indexes)?;
    if hashes.len() != indexes.len() {
        return Err(Error::Storage(format!(
            "audit log tree: asked for {} stored hashes, got {}",
            indexes.len(),
            hashes.len()
        )));
    }
    Ok(hashes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9162's definitions, written straight from the text: the model
    /// that the stored-hash functions must agree with.
    mod model {
        use super::*;

        pub fn mth(leaves: &[Hash256]) -> Hash256 {
            match leaves.len() {
                0 => empty_tree_hash(),
                1 => leaves[0],
                n => {
                    let k = split(n as u64) as usize;
                    node_hash(mth(&leaves[..k]), mth(&leaves[k..]))
                }
            }
        }

        pub fn path(m: usize, leaves: &[Hash256]) -> Vec<Hash256> {
            let n = leaves.len();
            if n <= 1 {
                return Vec::new();
            }
            let k = split(n as u64) as usize;
            if m < k {
                let mut p = path(m, &leaves[..k]);
                p.push(mth(&leaves[k..]));
                p
            } else {
                let mut p = path(m - k, &leaves[k..]);
                p.push(mth(&leaves[..k]));
                p
            }
        }

        pub fn proof(m: usize, leaves: &[Hash256]) -> Vec<Hash256> {
            subproof(m, leaves, true)
        }

        fn subproof(m: usize, leaves: &[Hash256], b: bool) -> Vec<Hash256> {
            let n = leaves.len();
            if m == n {
                return if b { Vec::new() } else { vec![mth(leaves)] };
            }
            let k = split(n as u64) as usize;
            if m <= k {
                let mut p = subproof(m, &leaves[..k], b);
                p.push(mth(&leaves[k..]));
                p
            } else {
                let mut p = subproof(m - k, &leaves[k..], false);
                p.push(mth(&leaves[..k]));
                p
            }
        }
    }

    fn hex(h: Hash256) -> String {
        h.to_string()
    }

    fn tree_of(n: usize) -> (Vec<Hash256>, MemoryHashes) {
        let leaves: Vec<Hash256> = (0..n).map(|i| leaf_hash(format!("record {i}").as_bytes())).collect();
        let mut tree = MemoryHashes::default();
        for &l in &leaves {
            tree.append_leaf(l).unwrap();
        }
        (leaves, tree)
    }

    /// The leaves and tree heads of the Certificate Transparency reference
    /// implementation's Merkle tree tests (RFC 6962 hashing, which RFC 9162
    /// keeps), also what Go's `tlog` computes for them.
    #[test]
    fn tree_hashes_are_the_reference_values() {
        let inputs: [&[u8]; 8] = [
            b"",
            b"\x00",
            b"\x10",
            b"\x20\x21",
            b"\x30\x31",
            b"\x40\x41\x42\x43",
            b"\x50\x51\x52\x53\x54\x55\x56\x57",
            b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
        ];
        let roots = [
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ];
        let mut tree = MemoryHashes::default();
        assert_eq!(hex(tree_hash(0, &tree).unwrap()), roots[0]);
        for input in inputs {
            tree.append_leaf(leaf_hash(input)).unwrap();
        }
        for (size, root) in roots.iter().enumerate() {
            assert_eq!(hex(tree_hash(size as u64, &tree).unwrap()), *root, "size {size}");
        }
        // The reference's inclusion proof of leaf 0 in the tree of 8, and its
        // consistency proof from 6 to 8.
        let proof: Vec<String> = prove_inclusion(8, 0, &tree).unwrap().into_iter().map(hex).collect();
        assert_eq!(
            proof,
            [
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ]
        );
        let proof: Vec<String> = prove_consistency(8, 6, &tree).unwrap().into_iter().map(hex).collect();
        assert_eq!(
            proof,
            [
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]
        );
    }

    #[test]
    fn the_stored_hash_layout_is_tlogs() {
        // Leaf 0, leaf 1, node(0..2), leaf 2, leaf 3, node(2..4), node(0..4), leaf 4.
        let order = [(0, 0), (0, 1), (1, 0), (0, 2), (0, 3), (1, 1), (2, 0), (0, 4)];
        for (i, (level, n)) in order.into_iter().enumerate() {
            assert_eq!(stored_hash_index(level, n), i as u64);
        }
        let counts = [0, 1, 3, 4, 7, 8, 10, 11, 15];
        for (size, count) in counts.into_iter().enumerate() {
            assert_eq!(stored_hash_count(size as u64), count);
            assert_eq!(tree_of(size).1.hashes.len() as u64, count);
        }
    }

    #[test]
    fn every_proof_matches_the_rfc_definitions_and_verifies() {
        let (leaves, tree) = tree_of(70);
        for n in 1..=leaves.len() {
            let root = tree_hash(n as u64, &tree).unwrap();
            assert_eq!(root, model::mth(&leaves[..n]));
            for m in 0..n {
                let proof = prove_inclusion(n as u64, m as u64, &tree).unwrap();
                assert_eq!(proof, model::path(m, &leaves[..n]), "inclusion {m} in {n}");
                assert_eq!(verify_inclusion(&proof, n as u64, root, m as u64, leaves[m]), Ok(()));
                // Another leaf, another index, a proof one hash short or long all fail.
                assert!(verify_inclusion(&proof, n as u64, root, m as u64, leaves[(m + 1) % n]).is_err() || n == 1);
                if n > 1 {
                    assert!(verify_inclusion(&proof, n as u64, root, ((m + 1) % n) as u64, leaves[m]).is_err());
                    assert_eq!(
                        verify_inclusion(&proof[1..], n as u64, root, m as u64, leaves[m]),
                        Err(ProofError::WrongLength)
                    );
                }
                let mut long = proof.clone();
                long.push(root);
                assert_eq!(verify_inclusion(&long, n as u64, root, m as u64, leaves[m]), Err(ProofError::WrongLength));
            }
            for m in 0..=n {
                let old = tree_hash(m as u64, &tree).unwrap();
                let proof = prove_consistency(n as u64, m as u64, &tree).unwrap();
                if m > 0 {
                    assert_eq!(proof, model::proof(m, &leaves[..n]), "consistency {m} to {n}");
                }
                assert_eq!(verify_consistency(&proof, n as u64, root, m as u64, old), Ok(()), "{m} to {n}");
                if m > 0 && m < n {
                    let other = leaf_hash(b"rewritten");
                    assert!(verify_consistency(&proof, n as u64, root, m as u64, other).is_err());
                    assert!(verify_consistency(&proof, n as u64, other, m as u64, old).is_err());
                    let mut long = proof.clone();
                    long.push(root);
                    assert!(verify_consistency(&long, n as u64, root, m as u64, old).is_err());
                    assert!(verify_consistency(&proof[1..], n as u64, root, m as u64, old).is_err());
                }
            }
        }
    }

    #[test]
    fn hostile_sizes_and_proofs_are_errors() {
        let (leaves, tree) = tree_of(5);
        let root = tree.root();
        assert_eq!(prove_inclusion(5, 5, &tree).unwrap_err().kind(), pushseal::ErrorKind::Malformed);
        assert_eq!(prove_consistency(4, 5, &tree).unwrap_err().kind(), pushseal::ErrorKind::Malformed);
        // A tree larger than the store holds is a storage error, not a panic.
        assert_eq!(tree_hash(6, &tree).unwrap_err().kind(), pushseal::ErrorKind::Storage);
        assert_eq!(prove_inclusion(u64::MAX, 3, &tree).unwrap_err().kind(), pushseal::ErrorKind::Storage);
        assert_eq!(verify_inclusion(&[], 5, root, 9, leaves[0]), Err(ProofError::OutOfRange));
        assert_eq!(verify_inclusion(&[root; 100], 5, root, 0, leaves[0]), Err(ProofError::WrongLength));
        assert_eq!(verify_inclusion(&[], u64::MAX, root, 0, leaves[0]), Err(ProofError::WrongLength));
        assert_eq!(verify_consistency(&[], 4, root, 5, root), Err(ProofError::OutOfRange));
        assert_eq!(verify_consistency(&[root], 5, root, 5, root), Err(ProofError::WrongLength));
        assert_eq!(verify_consistency(&[], 5, root, 5, leaves[0]), Err(ProofError::Mismatch));
        assert_eq!(verify_consistency(&[], 5, root, 3, root), Err(ProofError::WrongLength));
        assert!(verify_consistency(&[root; 64], u64::MAX, root, 3, root).is_err());
        assert_eq!(verify_consistency(&[], 5, root, 0, empty_tree_hash()), Ok(()));
        assert_eq!(verify_consistency(&[], 5, root, 0, root), Err(ProofError::Mismatch));
        assert_eq!(tree.leaf(4), Some(leaves[4]));
        assert_eq!(tree.leaf(5), None);
    }
}
