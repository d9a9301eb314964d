//! Where a log's records are kept. [`FileStore`](crate::FileStore) keeps them
//! in a file of JSON Lines; another backend (a database) is another
//! implementation of [`RecordStore`], in a file of its own beside it
//! (`file.rs` is the model). Such a backend stores each record's line as
//! [`AuditRecord::to_line`] gives it, or its fields; under its own lock (a
//! transaction), it reads its last record's anchor, encodes the new records
//! after it with the crate's `Chain`, and stores them in one durable write;
//! it verifies by handing its lines, oldest first, to the crate's
//! `Verifier`, which applies the file's checks. Nothing above the trait
//! changes: [`AuditLog::with_store`](crate::AuditLog::with_store) takes it.

use std::fmt;

use pushseal::Result;

use crate::record::{Anchor, AuditEvent, AuditRecord};
use crate::verify::VerifyReport;

/// What [`RecordStore::append_after_scan`] does once it has seen the stored records.
#[derive(Debug)]
pub enum Decision {
    /// Append this event.
    Append(AuditEvent),
    /// Append nothing: this stored record already says it.
    Existing(AuditRecord),
}

/// The storage of an audit log. An implementation guarantees:
///
/// - **One chain.** Each new record's `seq` and `prev` follow the last stored
///   record, whoever wrote it (other threads, other processes, other hosts
///   sharing a database): appends are serialized by the store.
/// - **Durable before returning.** An append returns only once its records
///   are durable: the audit log hands a notification out only after that.
/// - **All or nothing, as far as the caller knows.** An append that fails may
///   leave records behind only in a way [`RecordStore::verify`] reports (the
///   file's torn last line) or repairs on the record (the file's `recovered`
///   record); those describe notifications that were never handed out.
/// - **One record per event**, in order. Another count is a bug in the store,
///   and the audit log panics saying so.
/// - **A missing store is not an empty one** for [`RecordStore::verify`].
///
/// Errors are [`pushseal::Error::Storage`] with a message that names the
/// store and what to do.
pub trait RecordStore: Send + Sync + fmt::Debug {
    /// Appends `events`, in order, after the last stored record, durably and
    /// as one write (one sync), and returns their records. On an error none of
    /// them may be treated as written.
    fn append(&self, events: Vec<AuditEvent>) -> Result<Vec<AuditRecord>>;

    /// In one step that no other append interleaves with: hands every valid
    /// stored record, oldest first, to `visit`, then appends the event that
    /// `decide` returns (durably) or returns the existing record it names.
    fn append_after_scan(
        &self,
        visit: &mut dyn FnMut(AuditRecord),
        decide: &mut dyn FnMut() -> Result<Decision>,
    ) -> Result<AuditRecord>;

    /// Checks every stored record (see [`crate::verify_log`]). A store that
    /// does not exist is an error, not an empty log.
    fn verify(&self, anchor: Option<Anchor>) -> Result<VerifyReport>;
}
