//! A log as a transparency log: its tree read from the records, signed
//! checkpoints of it, and the proofs a third party checks holding only
//! checkpoints (SPEC.md sections 10.3 to 10.5).
//!
//! ```
//! use pushseal::{BareEnvelope, DeviceKeyring, Message, Sender, SenderSecretKey};
//! use pushseal_audit::checkpoint::LogSigningKey;
//! use pushseal_audit::{AuditLog, LogTree};
//!
//! # let dir = tempfile::tempdir()?;
//! let path = dir.path().join("audit.jsonl");
//! let log = AuditLog::open(&path)?;
//! let sender = Sender::new(SenderSecretKey::generate()?);
//! let phone = DeviceKeyring::generate()?.public_key();
//! log.seal(&sender, &phone, &Message::new("t", "b"), &BareEnvelope)?;
//!
//! let key = LogSigningKey::generate("audit.example.com/pushseal")?;
//! let old = LogTree::read(&path)?.checkpoint(&key)?; // a signed note: keep it, publish it
//! log.seal(&sender, &phone, &Message::new("t", "b"), &BareEnvelope)?;
//! let tree = LogTree::read(&path)?;
//! let new = tree.checkpoint(&key)?;
//!
//! // A third party holding both checkpoints and the proofs, not the log:
//! let verifier = key.verifier_key();
//! let old = verifier.open(old.as_bytes(), &[])?.checkpoint;
//! let new = verifier.open(new.as_bytes(), &[])?.checkpoint;
//! tree.prove_consistency(&old, &new)?.verify(&old, &new)?;
//! tree.prove_inclusion(1, &new)?.verify(&new)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use pushseal::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::checkpoint::{Checkpoint, LogSigningKey};
use crate::file::FileStore;
use crate::merkle::{self, MemoryHashes, ProofError};
use crate::record::{AuditRecord, Hash256, text};
use crate::verify::{Verifier, VerifyReport};

/// The tree of a log file, read and checked: the chain's report and the
/// Merkle tree of its valid records.
#[derive(Debug)]
pub struct LogTree {
    path: PathBuf,
    report: VerifyReport,
    hashes: MemoryHashes,
}

/// How a log compares with a checkpoint kept from it earlier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Comparison {
    /// The log's first `size` records are those the checkpoint signed: the
    /// log only grew since.
    Matches {
        /// The checkpoint's tree size.
        size: u64,
    },
    /// The log has fewer valid records than the checkpoint: it was cut back
    /// (or its chain breaks) before `first_missing`, the first record the
    /// checkpoint has and the log does not.
    CutBack {
        /// The checkpoint's tree size.
        size: u64,
        /// The log's valid records.
        records: u64,
        /// The first record the checkpoint covers that the log lacks.
        first_missing: u64,
    },
    /// The log has enough records, but its first `size` are not those the
    /// checkpoint signed: some record at or after `differs_from` and before
    /// `size` was rewritten (`differs_from` is the size of the largest kept
    /// checkpoint that still matches, 0 if none).
    Rewritten {
        /// The checkpoint's tree size.
        size: u64,
        /// The first record that may differ: no record before it does.
        differs_from: u64,
        /// The last record that may differ: `size - 1`.
        differs_to: u64,
    },
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Matches { size } => write!(f, "the log's first {size} records are the checkpoint's"),
            Self::CutBack { size, records, first_missing } => write!(
                f,
                "the log was cut back: it has {records} valid records, the checkpoint signed {size}; record \
                 {first_missing} is the first missing"
            ),
            Self::Rewritten { size, differs_from, differs_to } if differs_from == differs_to => write!(
                f,
                "the log was rewritten: record {differs_to} is not the one the checkpoint of {size} records signed"
            ),
            Self::Rewritten { size, differs_from, differs_to } => write!(
                f,
                "the log was rewritten: its first {size} records are not those the checkpoint signed; the first \
                 changed record is between record {differs_from} and record {differs_to} (keep checkpoints more \
                 often to narrow it)"
            ),
        }
    }
}

impl LogTree {
    /// Reads and checks the log file at `path` (as [`crate::verify_log`]
    /// does) and computes the tree of its valid records.
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        let store = FileStore::at(path.as_ref());
        let (report, hashes) = store.verify_with(Verifier::new(None).with_tree())?;
        Ok(Self { path: path.as_ref().to_path_buf(), report, hashes })
    }

    /// The chain's report.
    pub fn report(&self) -> &VerifyReport {
        &self.report
    }

    /// The number of leaves: the valid records, before a broken link.
    pub fn size(&self) -> u64 {
        self.hashes.size()
    }

    /// The tree hash of the first `size` records (`size` at most [`LogTree::size`]).
    pub fn root_at(&self, size: u64) -> Result<Hash256> {
        if size > self.size() {
            return Err(Error::Malformed("the log has fewer valid records than the tree size asked for"));
        }
        merkle::tree_hash(size, &self.hashes)
    }

    /// The signed checkpoint of the whole log, as a note to keep and publish.
    /// Refuses a log whose chain is broken: what it signs must be a log
    /// that verifies.
    pub fn checkpoint(&self, key: &LogSigningKey) -> Result<String> {
        if let Some(b) = &self.report.first_break {
            return Err(Error::Storage(format!(
                "audit log: {} is broken at {b}; no checkpoint is signed over a broken log",
                self.path.display()
            )));
        }
        Ok(key.sign(&Checkpoint::new(key.origin(), self.size(), self.root_at(self.size())?)))
    }

    /// How the log compares with a checkpoint kept from it (see
    /// [`Comparison`]). `matched` is the size of a smaller checkpoint known
    /// to match, to narrow a rewrite (0 if none).
    pub fn compare(&self, kept: &Checkpoint, matched: u64) -> Result<Comparison> {
        let size = kept.size;
        if size > self.size() {
            return Ok(Comparison::CutBack { size, records: self.size(), first_missing: self.size() });
        }
        if self.root_at(size)? == kept.root {
            return Ok(Comparison::Matches { size });
        }
        let differs_from = if matched < size { matched } else { 0 };
        Ok(Comparison::Rewritten { size, differs_from, differs_to: size - 1 })
    }

    /// Checks that the log still has the tree `checkpoint` signed.
    fn check_matches(&self, checkpoint: &Checkpoint) -> Result<()> {
        match self.compare(checkpoint, 0)? {
            Comparison::Matches { .. } => Ok(()),
            other => Err(Error::Storage(format!("audit log {}: {other}", self.path.display()))),
        }
    }

    /// The inclusion proof of record `record` in the tree `checkpoint`
    /// signed, with the record's line. Fails if the log no longer has that
    /// tree, saying how it differs.
    pub fn prove_inclusion(&self, record: u64, checkpoint: &Checkpoint) -> Result<InclusionProof> {
        self.check_matches(checkpoint)?;
        if record >= checkpoint.size {
            return Err(Error::Malformed("the record is not in the checkpoint's tree (records count from 0)"));
        }
        let hashes = merkle::prove_inclusion(checkpoint.size, record, &self.hashes)?;
        let line = FileStore::at(&self.path)
            .line_at(record)?
            .ok_or_else(|| Error::Storage(format!("audit log {}: record {record} is gone", self.path.display())))?;
        let line = String::from_utf8(line).map_err(|_| Error::Malformed("a record is not UTF-8"))?;
        Ok(InclusionProof { record, tree_size: checkpoint.size, line, hashes })
    }

    /// The consistency proof from the tree `old` signed to the tree `new`
    /// signed. Fails if the log no longer has either tree, saying how it differs.
    pub fn prove_consistency(&self, old: &Checkpoint, new: &Checkpoint) -> Result<ConsistencyProof> {
        if old.origin != new.origin {
            return Err(Error::Malformed("the two checkpoints are of different logs"));
        }
        self.check_matches(old)?;
        self.check_matches(new)?;
        let hashes = merkle::prove_consistency(new.size, old.size, &self.hashes)?;
        Ok(ConsistencyProof { old_size: old.size, new_size: new.size, hashes })
    }
}

/// A proof as a file: one JSON object whose `"type"` says which proof it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Proof {
    /// `{"type":"inclusion","record":N,"tree_size":M,"line":"<the record's line>","hashes":["<64 hex>",…]}`
    Inclusion(InclusionProof),
    /// `{"type":"consistency","old_size":M,"new_size":N,"hashes":["<64 hex>",…]}`
    Consistency(ConsistencyProof),
}

/// That a record is in a checkpoint's tree: the record's line and the
/// RFC 9162 inclusion proof. Its file form is [`Proof::Inclusion`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProof {
    /// The record's `seq`: its leaf index.
    pub record: u64,
    /// The size of the checkpoint's tree.
    pub tree_size: u64,
    /// The record's line, without its `\n`: the leaf's bytes.
    pub line: String,
    /// The proof's hashes, from the leaf up.
    #[serde(with = "text::list")]
    pub hashes: Vec<Hash256>,
}

/// That a newer checkpoint's tree extends an older one's: the RFC 9162
/// consistency proof. Its file form is [`Proof::Consistency`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProof {
    /// The older tree's size.
    pub old_size: u64,
    /// The newer tree's size.
    pub new_size: u64,
    /// The proof's hashes.
    #[serde(with = "text::list")]
    pub hashes: Vec<Hash256>,
}

/// Why a proof file does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProofFileError {
    /// The proof is for another tree size than the checkpoint's.
    WrongCheckpoint,
    /// The record's line is not a valid record with the proof's `seq`.
    BadRecord,
    /// The proof itself fails (see [`ProofError`]).
    Proof(ProofError),
}

impl fmt::Display for ProofFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongCheckpoint => f.write_str("the proof is for another checkpoint (its tree sizes differ)"),
            Self::BadRecord => f.write_str("the proof's record line is not a valid record with the proof's number"),
            Self::Proof(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ProofFileError {}

impl From<ProofError> for ProofFileError {
    fn from(e: ProofError) -> Self {
        Self::Proof(e)
    }
}

impl InclusionProof {
    /// Checks that the record is a valid record, numbered as the proof
    /// says, and that it is leaf `record` of the tree `checkpoint` signed.
    pub fn verify(&self, checkpoint: &Checkpoint) -> core::result::Result<AuditRecord, ProofFileError> {
        if self.tree_size != checkpoint.size {
            return Err(ProofFileError::WrongCheckpoint);
        }
        let record = AuditRecord::parse_line(self.line.as_bytes()).map_err(|_| ProofFileError::BadRecord)?;
        if record.seq != self.record {
            return Err(ProofFileError::BadRecord);
        }
        let leaf = merkle::leaf_hash(self.line.as_bytes());
        merkle::verify_inclusion(&self.hashes, checkpoint.size, checkpoint.root, self.record, leaf)?;
        Ok(record)
    }
}

impl ConsistencyProof {
    /// Checks that the tree `new` signed extends the tree `old` signed.
    pub fn verify(&self, old: &Checkpoint, new: &Checkpoint) -> core::result::Result<(), ProofFileError> {
        if self.old_size != old.size || self.new_size != new.size || old.origin != new.origin {
            return Err(ProofFileError::WrongCheckpoint);
        }
        merkle::verify_consistency(&self.hashes, new.size, new.root, old.size, old.root)?;
        Ok(())
    }
}
