//! Where a log's records are kept. [`FileStore`](crate::FileStore) keeps them
//! in a file of JSON Lines; another backend (a database) is another
//! implementation of [`RecordStore`], in a file of its own beside it.

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

/// The storage of an audit log. An implementation keeps one chain (each new
/// record's `seq` and `prev` follow the last stored record, whoever wrote it:
/// other threads, other processes), and returns from an append only once
/// its records are durable: the audit log hands a notification out only
/// after that. It never holds a record it did not return, except the
/// records of an append that failed (they describe notifications that were
/// never handed out).
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
