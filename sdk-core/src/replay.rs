//! Replay protection on the device: a bounded store of accepted message ids.
//!
//! After a notification is decrypted and its expiry checked, the device calls
//! [`ReplayStore::check_and_record`] with the envelope's 128-bit message id and
//! its `expires_at` (unix seconds). In one atomic step the store rejects the id
//! with [`Error::Replayed`] if it accepted it before, or records it.
//!
//! The rules (the bound, the floor, what a store refuses and how a damaged
//! file fails closed) and the file format are SPEC.md section 8.3; this module
//! implements them as written, with [`DEFAULT_REPLAY_CAPACITY`] records by
//! default and the reach of [`reachable_expiry`]. Records leave a store only
//! when it holds more than its capacity or more than half of them are
//! expired (compaction): pruning first, then eviction of the smallest
//! `expires_at` (with every record that ties with the largest of them), each
//! raising the floor to the largest `expires_at` it drops. The price of the
//! bound: once more than `capacity` unexpired messages have arrived, a new
//! message that expires no later than an evicted one is refused as a replay.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::notification::{CLOCK_SKEW_SECS, MAX_TTL_SECS};
use crate::shared_file::{self, FileLock, with_suffix};

/// Default bound on the number of ids a store keeps.
pub const DEFAULT_REPLAY_CAPACITY: usize = 4096;
/// How long a [`FileReplayStore`] waits for its lock unless told otherwise.
/// A locked section is a read, a check and a write (with a rename when the
/// store compacts): milliseconds, so two seconds means something is wrong.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(2);

const MAGIC: &[u8; 8] = b"PSREPLY1";
const HEADER_LEN: usize = 16;
const RECORD_LEN: usize = 24;

/// A store of the message ids a device has accepted.
pub trait ReplayStore: Send + Sync {
    /// Atomically: rejects with [`Error::Replayed`] if `id` was recorded
    /// before, or if `expires_at` is at or below the store's floor (SPEC.md
    /// section 8.3); otherwise records `(id, expires_at)` and returns
    /// `Ok(())`. `now` is the device's clock in unix seconds, used for pruning.
    /// Fails with [`Error::Malformed`] if `expires_at` is beyond
    /// `now + MAX_TTL_SECS + CLOCK_SKEW_SECS`, and with [`Error::Storage`] if the store
    /// cannot be read or written.
    fn check_and_record(&self, id: &[u8; 16], expires_at: u64, now: u64) -> Result<()>;
}

impl<T: ReplayStore + ?Sized> ReplayStore for &T {
    fn check_and_record(&self, id: &[u8; 16], expires_at: u64, now: u64) -> Result<()> {
        (**self).check_and_record(id, expires_at, now)
    }
}

impl<T: ReplayStore + ?Sized> ReplayStore for Box<T> {
    fn check_and_record(&self, id: &[u8; 16], expires_at: u64, now: u64) -> Result<()> {
        (**self).check_and_record(id, expires_at, now)
    }
}

impl<T: ReplayStore + ?Sized> ReplayStore for Arc<T> {
    fn check_and_record(&self, id: &[u8; 16], expires_at: u64, now: u64) -> Result<()> {
        (**self).check_and_record(id, expires_at, now)
    }
}

/// The contents of a store, shared by both implementations.
#[derive(Debug, Default)]
struct State {
    floor: u64,
    records: Vec<([u8; 16], u64)>,
}

/// What a file held, as [`State::decode`] found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    /// A header and whole records.
    Clean,
    /// A header and whole records, then a partial record: a torn append.
    TornTail,
    /// No readable header: a file cut short or damaged.
    Damaged,
}

/// The largest `expires_at` a message can carry and still pass the device's
/// checks at `now`: `sent_at <= now + CLOCK_SKEW_SECS` and a TTL of at most
/// [`MAX_TTL_SECS`]. No floor and no record needs to reach beyond it.
pub fn reachable_expiry(now: u64) -> u64 {
    now.saturating_add(MAX_TTL_SECS + CLOCK_SKEW_SECS)
}

impl State {
    /// The fail-closed state of a store whose contents are lost: a floor that
    /// covers every message the store could have accepted by `now`.
    fn lost(now: u64) -> Self {
        Self { floor: reachable_expiry(now), records: Vec::new() }
    }

    /// Lowers a floor and expiries beyond [`reachable_expiry`] to it (only a
    /// message the device refuses could have put them there, or a file from
    /// elsewhere); returns whether anything changed.
    fn bound(&mut self, now: u64) -> bool {
        let limit = reachable_expiry(now);
        let mut changed = false;
        for exp in std::iter::once(&mut self.floor).chain(self.records.iter_mut().map(|r| &mut r.1)) {
            if *exp > limit {
                *exp = limit;
                changed = true;
            }
        }
        changed
    }

    /// Checks and records, after [`State::bound`]; `Ok(true)` if the records
    /// were compacted, so that appending the new record no longer describes the change.
    fn check_and_record(&mut self, id: &[u8; 16], exp: u64, now: u64, cap: usize) -> Result<bool> {
        if exp > reachable_expiry(now) {
            return Err(Error::Malformed("expires_at is further ahead than the longest TTL and the clock skew allow"));
        }
        if exp <= self.floor || self.records.iter().any(|(r, _)| r == id) {
            return Err(Error::Replayed);
        }
        self.records.push((*id, exp));
        let expired = |e: u64| e.saturating_add(CLOCK_SKEW_SECS) < now;
        let stale = self.records.iter().filter(|r| expired(r.1)).count();
        if self.records.len() <= cap && stale * 2 <= self.records.len() {
            return Ok(false);
        }
        let newest_expired = self.records.iter().map(|r| r.1).filter(|&e| expired(e));
        self.drop_up_to(newest_expired.max());
        if self.records.len() > cap {
            self.records.sort_unstable_by_key(|r| r.1);
            self.drop_up_to(self.records.get(self.records.len() - cap - 1).map(|r| r.1));
        }
        Ok(true)
    }

    /// Raises the floor to `exp` and drops every record at or below the floor.
    fn drop_up_to(&mut self, exp: Option<u64>) {
        let floor = self.floor.max(exp.unwrap_or(0));
        self.floor = floor;
        self.records.retain(|r| r.1 > floor);
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + RECORD_LEN * self.records.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.floor.to_le_bytes());
        for (id, exp) in &self.records {
            out.extend_from_slice(id);
            out.extend_from_slice(&exp.to_le_bytes());
        }
        out
    }

    /// Parses a file: its state, and whether it was whole, torn or damaged
    /// (a damaged file gives an empty state: the caller decides what it means).
    fn decode(bytes: &[u8]) -> (Self, Found) {
        if let Some((magic, rest)) = bytes.split_first_chunk::<8>()
            && let Some((floor, body)) = rest.split_first_chunk::<8>()
            && magic == MAGIC
        {
            let (chunks, tail) = body.as_chunks::<RECORD_LEN>();
            let record = |r: &[u8; RECORD_LEN]| Some((*r.first_chunk()?, u64::from_le_bytes(*r.last_chunk()?)));
            let records = chunks.iter().filter_map(record).collect();
            let found = if tail.is_empty() { Found::Clean } else { Found::TornTail };
            (Self { floor: u64::from_le_bytes(*floor), records }, found)
        } else {
            (Self::default(), Found::Damaged)
        }
    }
}

/// An in-memory [`ReplayStore`], for tests and for apps without a shared
/// container; its records are lost when it is dropped.
#[derive(Debug)]
pub struct MemoryReplayStore {
    state: Mutex<State>,
    capacity: usize,
}

impl MemoryReplayStore {
    /// An empty store that keeps up to [`DEFAULT_REPLAY_CAPACITY`] ids.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_REPLAY_CAPACITY)
    }

    /// An empty store that keeps up to `capacity` ids.
    pub fn with_capacity(capacity: usize) -> Self {
        Self { state: Mutex::default(), capacity }
    }

    /// The number of ids the store holds now (some may be expired, awaiting pruning).
    pub fn len(&self) -> usize {
        self.state().records.len()
    }

    /// Whether the store holds no ids.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // `State` is consistent between statements, so a poisoned lock is fine to use.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for MemoryReplayStore {
    fn default() -> Self {
        Self::new()
    }
}

impl ReplayStore for MemoryReplayStore {
    fn check_and_record(&self, id: &[u8; 16], expires_at: u64, now: u64) -> Result<()> {
        let capacity = self.capacity;
        let mut state = self.state();
        state.bound(now);
        state.check_and_record(id, expires_at, now, capacity).map(drop)
    }
}

/// A [`ReplayStore`] in a file that several processes may share (its format
/// and rules: SPEC.md section 8.3). A handle holds only paths: every call
/// re-reads the file under the lock.
///
/// Several processes (an iOS app and its Notification Service Extension, in a
/// shared App Group container) and several handles may use one file at once.
/// Each [`ReplayStore::check_and_record`] opens `<path>.lock`, takes an
/// exclusive lock on it, waiting at most the store's lock timeout
/// ([`DEFAULT_LOCK_TIMEOUT`], or [`FileReplayStore::with_lock_timeout`]) and
/// failing with [`Error::Storage`] after that, re-reads the data file, checks,
/// appends or compacts, and unlocks; it syncs the appended data (or the
/// directory of a rename) after unlocking, and returns once it is on disk.
/// No lock is held between calls (iOS kills a suspended process that holds a
/// file lock in a shared container) and no handle caches the file's contents,
/// so no handle's view can go stale. The lock is on a separate file because
/// compaction replaces the data file.
#[derive(Debug, Clone)]
pub struct FileReplayStore {
    path: PathBuf,
    lock: FileLock,
    tmp_path: PathBuf,
    capacity: usize,
    lock_timeout: Duration,
}

impl FileReplayStore {
    /// A store in the file at `path` that keeps up to [`DEFAULT_REPLAY_CAPACITY`] ids.
    /// See [`FileReplayStore::open_with_capacity`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with_capacity(path, DEFAULT_REPLAY_CAPACITY)
    }

    /// A store in the file at `path` that keeps up to `capacity` ids. The file
    /// need not exist (a missing file is an empty store); this creates the lock
    /// file `<path>.lock` if needed, and fails with [`Error::Storage`] if it cannot.
    pub fn open_with_capacity(path: impl AsRef<Path>, capacity: usize) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let lock = FileLock::create(STORE, &path)?;
        Ok(Self { lock, tmp_path: with_suffix(&path, ".tmp"), path, capacity, lock_timeout: DEFAULT_LOCK_TIMEOUT })
    }

    /// The same store, waiting at most `timeout` for the lock that another
    /// process or handle holds ([`DEFAULT_LOCK_TIMEOUT`] unless set). A call
    /// that cannot have the lock in time fails with [`Error::Storage`] and
    /// changes nothing. An iOS Notification Service Extension sets a budget
    /// well inside the time it has left (see the module docs).
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// The number of ids in the file now (some may be expired, awaiting pruning).
    pub fn len(&self) -> Result<usize> {
        self.lock.with_exclusive_within(self.lock_timeout, || Ok(self.load()?.0.records.len()))
    }

    /// Whether the file holds no ids.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// The file's state; a missing file is a new, clean store.
    fn load(&self) -> Result<(State, Found)> {
        match fs::read(&self.path) {
            Ok(bytes) => Ok(State::decode(&bytes)),
            // Not `Clean`: there is no file to append to, so the first record
            // writes it whole.
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok((State::default(), Found::TornTail)),
            Err(e) => Err(storage("read", &self.path, e)),
        }
    }

    /// The body of `check_and_record`, run with the lock held: reads, checks
    /// and writes, and returns the sync still to do once the lock is released.
    fn locked(&self, id: &[u8; 16], expires_at: u64, now: u64) -> Result<AfterUnlock> {
        let (mut state, found) = self.load()?;
        if found == Found::Damaged {
            let lost = State::lost(now);
            let after = self.rewrite(&lost)?;
            after.run()?;
            return Err(Error::Storage(format!(
                "replay store: {} was damaged (no valid header) and could not be read; it now refuses every \
                 message that expires at or before {} (unix seconds), which covers every message it could have \
                 accepted",
                self.path.display(),
                lost.floor
            )));
        }
        // A bounded floor or record is written back even if this message is refused.
        let bounded = state.bound(now);
        match state.check_and_record(id, expires_at, now, self.capacity) {
            Err(e) if bounded => return self.rewrite(&state).and_then(AfterUnlock::run).and(Err(e)),
            Err(e) => return Err(e),
            Ok(compacted) if compacted || bounded || found != Found::Clean => return self.rewrite(&state),
            Ok(_) => {}
        }
        let mut record = [0u8; RECORD_LEN];
        record[..16].copy_from_slice(id);
        record[16..].copy_from_slice(&expires_at.to_le_bytes());
        let mut file =
            (OpenOptions::new().append(true).open(&self.path)).map_err(|e| storage("open", &self.path, e))?;
        file.write_all(&record).map_err(|e| storage("append to", &self.path, e))?;
        Ok(AfterUnlock::SyncData(file, self.path.clone()))
    }

    /// Replaces the file with `state`: written to `<path>.tmp`, synced and
    /// renamed over `<path>` (the rename is what readers see, so it is done
    /// under the lock); the directory's sync is left for after the lock.
    fn rewrite(&self, state: &State) -> Result<AfterUnlock> {
        shared_file::replace_file(STORE, &self.path, &self.tmp_path, &state.encode())?;
        Ok(AfterUnlock::SyncDirectory(self.path.clone()))
    }
}

/// The durable part of a change that need not hold the lock: another process
/// that takes the lock meanwhile already reads the change (from the same
/// file), and the call still returns only once it is on disk.
enum AfterUnlock {
    /// `sync_data` of the appended file.
    SyncData(File, PathBuf),
    /// Best effort: make the rename of the file at this path durable by
    /// syncing its directory (the data is already safe in either file).
    SyncDirectory(PathBuf),
}

impl AfterUnlock {
    fn run(self) -> Result<()> {
        match self {
            Self::SyncData(file, path) => shared_file::sync_data(&file).map_err(|e| storage("sync", &path, e)),
            Self::SyncDirectory(path) => {
                shared_file::sync_parent_dir(&path);
                Ok(())
            }
        }
    }
}

impl ReplayStore for FileReplayStore {
    fn check_and_record(&self, id: &[u8; 16], expires_at: u64, now: u64) -> Result<()> {
        self.lock.with_exclusive_within(self.lock_timeout, || self.locked(id, expires_at, now))?.run()
    }
}

const STORE: &str = "replay store";

fn storage(operation: &str, path: &Path, err: io::Error) -> Error {
    shared_file::storage_error(STORE, operation, path, err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;
    use std::sync::Barrier;
    use std::thread;
    use std::time::Instant;

    /// An expiry that never lapses in these tests, and is reachable at time 0.
    const FAR: u64 = MAX_TTL_SECS;

    fn id(n: u32) -> [u8; 16] {
        (u128::from(n) * 0x9e37_79b9_7f4a_7c15).to_le_bytes()
    }

    trait Counted: ReplayStore {
        fn count(&self) -> usize;
    }
    impl Counted for MemoryReplayStore {
        fn count(&self) -> usize {
            self.len()
        }
    }
    impl Counted for FileReplayStore {
        fn count(&self) -> usize {
            self.len().unwrap()
        }
    }

    /// Runs `test` on a fresh memory store and a fresh file store.
    fn both(capacity: usize, test: impl Fn(&dyn Counted)) {
        test(&MemoryReplayStore::with_capacity(capacity));
        let dir = tempfile::tempdir().unwrap();
        test(&FileReplayStore::open_with_capacity(dir.path().join("r"), capacity).unwrap());
    }

    #[test]
    fn accepts_once_then_rejects() {
        both(DEFAULT_REPLAY_CAPACITY, |s| {
            assert_eq!(s.count(), 0);
            s.check_and_record(&id(1), FAR, 0).unwrap();
            assert_eq!(s.check_and_record(&id(1), FAR, 0), Err(Error::Replayed));
            assert_eq!(s.check_and_record(&id(1), FAR + 9, 50), Err(Error::Replayed));
            s.check_and_record(&id(2), FAR, 0).unwrap();
            assert_eq!(s.count(), 2);
        });
    }

    #[test]
    fn memory_store_basics_and_wrappers() {
        let s = MemoryReplayStore::default();
        assert!(s.is_empty());
        let arc: Arc<dyn ReplayStore> = Arc::new(MemoryReplayStore::new());
        let boxed: Box<dyn ReplayStore> = Box::new(MemoryReplayStore::new());
        for (store, n) in [&s as &dyn ReplayStore, &arc, &boxed, &&s].into_iter().zip(0..) {
            store.check_and_record(&id(n), FAR, 0).unwrap();
            assert_eq!(store.check_and_record(&id(n), FAR, 0), Err(Error::Replayed));
        }
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn file_store_persists_in_the_documented_format() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("replay.bin");
        let s = FileReplayStore::open(&path).unwrap();
        assert!(s.is_empty().unwrap());
        s.check_and_record(&id(1), FAR, 0).unwrap();
        s.check_and_record(&id(2), 5000, 0).unwrap();
        drop(s);
        let s = FileReplayStore::open(&path).unwrap(); // a restart
        assert_eq!(s.check_and_record(&id(1), FAR, 0), Err(Error::Replayed));
        assert_eq!(s.check_and_record(&id(2), 5000, 0), Err(Error::Replayed));
        let mut expected = b"PSREPLY1".to_vec();
        expected.extend_from_slice(&[0; 8]);
        for (n, exp) in [(1, FAR), (2, 5000)] {
            expected.extend_from_slice(&id(n));
            expected.extend_from_slice(&exp.to_le_bytes());
        }
        assert_eq!(fs::read(&path).unwrap(), expected);
    }

    #[test]
    fn prunes_expired_ids_and_still_rejects_them() {
        both(16, |s| {
            for n in 0..3 {
                s.check_and_record(&id(n), 100, 0).unwrap();
            }
            let now = 100 + CLOCK_SKEW_SECS + 1;
            s.check_and_record(&id(9), FAR, now).unwrap();
            assert_eq!(s.count(), 1);
            for now in [now, 0] {
                // Rejected by the floor, even if the clock went back.
                assert_eq!(s.check_and_record(&id(0), 100, now), Err(Error::Replayed));
            }
            assert_eq!(s.check_and_record(&id(50), 100, 0), Err(Error::Replayed));
            s.check_and_record(&id(50), 101, 0).unwrap();
        });
    }

    #[test]
    fn capacity_is_never_exceeded_and_evicted_ids_stay_rejected() {
        both(4, |s| {
            for n in 0..10 {
                s.check_and_record(&id(n), 1000 + u64::from(n), 0).unwrap();
                assert!(s.count() <= 4);
            }
            for n in 0..10 {
                let replay = s.check_and_record(&id(n), 1000 + u64::from(n), 0);
                assert_eq!(replay, Err(Error::Replayed));
            }
            // 1000..=1005 were evicted: the floor is 1005.
            assert_eq!(s.check_and_record(&id(99), 1005, 0), Err(Error::Replayed));
            // Older than all kept records: accepted, evicted at once, floor 1006.
            s.check_and_record(&id(99), 1006, 0).unwrap();
            assert_eq!(s.check_and_record(&id(99), 1006, 0), Err(Error::Replayed));
            assert_eq!(s.count(), 3);
        });
        both(0, |s| {
            s.check_and_record(&id(1), 10, 0).unwrap();
            assert_eq!(s.check_and_record(&id(1), 10, 0), Err(Error::Replayed));
            s.check_and_record(&id(2), 11, 0).unwrap();
            assert_eq!(s.count(), 0);
        });
    }

    /// Sets the file to `bytes`, checks that it loads with its whole records
    /// all rejected, and that the store then accepts and records a new id. A
    /// file without a valid header instead fails closed (see
    /// `a_damaged_file_fails_closed`).
    fn reload_and_check(path: &Path, bytes: &[u8], capacity: usize) {
        fs::write(path, bytes).unwrap();
        let s = FileReplayStore::open_with_capacity(path, capacity).unwrap();
        let (kept, found) = State::decode(bytes);
        if found == Found::Damaged {
            assert!(matches!(s.check_and_record(&id(12345), FAR, 0), Err(Error::Storage(_))));
            assert_eq!(State::decode(&fs::read(path).unwrap()).0.floor, reachable_expiry(0));
            return;
        }
        assert_eq!(s.len().unwrap(), kept.records.len());
        for (old, exp) in &kept.records {
            assert_eq!(s.check_and_record(old, *exp, 0), Err(Error::Replayed));
        }
        s.check_and_record(&id(12345), FAR, 0).unwrap();
        let after = fs::read(path).unwrap();
        assert!(after.starts_with(MAGIC) && (after.len() - HEADER_LEN).is_multiple_of(RECORD_LEN));
        for (old, exp) in kept.records.iter().chain([&(id(12345), FAR)]) {
            assert_eq!(s.check_and_record(old, *exp, 0), Err(Error::Replayed));
        }
    }

    #[test]
    fn a_torn_append_loses_no_earlier_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r");
        let s = FileReplayStore::open(&path).unwrap();
        for n in 0..5 {
            s.check_and_record(&id(n), FAR, 0).unwrap();
        }
        let before = fs::read(&path).unwrap().len();
        s.check_and_record(&id(5), FAR, 0).unwrap();
        let full = fs::read(&path).unwrap();
        assert_eq!(full.len(), before + RECORD_LEN);
        for cut in before..=full.len() {
            reload_and_check(&path, &full[..cut], DEFAULT_REPLAY_CAPACITY);
            assert!(State::decode(&full[..cut]).0.records.len() >= 5);
        }
    }

    #[test]
    fn truncation_at_every_offset_and_garbage_never_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r");
        let s = FileReplayStore::open_with_capacity(&path, 4).unwrap();
        for n in 0..6 {
            s.check_and_record(&id(n), 1000 + u64::from(n), 0).unwrap();
        }
        let full = fs::read(&path).unwrap();
        for cut in 0..=full.len() {
            reload_and_check(&path, &full[..cut], 4);
        }
        let mut x = 0x2545_f491_4f6c_dd1d_u64; // xorshift: deterministic garbage
        for round in 0..300 {
            let mut bytes = if round % 2 == 0 { MAGIC.to_vec() } else { Vec::new() };
            bytes.extend((0..x % 200).map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            }));
            fs::write(&path, &bytes).unwrap();
            let s = FileReplayStore::open_with_capacity(&path, 4).unwrap();
            s.len().unwrap();
            match s.check_and_record(&id(777), FAR, 0) {
                Ok(()) => assert_eq!(State::decode(&fs::read(&path).unwrap()).1, Found::Clean),
                // A garbage floor, or a file without a header: both refuse.
                Err(e) => assert!(matches!(e, Error::Replayed | Error::Storage(_)), "{e:?}"),
            }
            assert_eq!(s.check_and_record(&id(777), FAR, 0), Err(Error::Replayed));
        }
    }

    /// Accepts ids 0..5 at `now`, each expiring within a day, in a file store.
    fn a_store_with_five(path: &Path, now: u64) -> FileReplayStore {
        let s = FileReplayStore::open(path).unwrap();
        for n in 0..5 {
            s.check_and_record(&id(n), now + 3600 * u64::from(n + 1), now).unwrap();
        }
        s
    }

    #[test]
    fn a_damaged_file_fails_closed() {
        let now = 1_767_225_600;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r");
        type Damage = fn(&mut Vec<u8>);
        let damages: [(&str, Damage); 3] = [
            ("a flipped bit in the magic", |b| b[3] ^= 0x01),
            ("cut to 10 bytes", |b| b.truncate(10)),
            ("emptied", Vec::clear),
        ];
        for (what, damage) in damages {
            let s = a_store_with_five(&path, now);
            let mut bytes = fs::read(&path).unwrap();
            damage(&mut bytes);
            fs::write(&path, &bytes).unwrap();
            // The call that finds the damage reports it, and records nothing.
            let later = now + 60;
            match s.check_and_record(&id(100), later + MAX_TTL_SECS, later) {
                Err(Error::Storage(m)) => assert!(m.contains("damaged") && m.contains("refuses"), "{what}: {m}"),
                other => panic!("{what}: {other:?}"),
            }
            // Every message it had accepted stays refused...
            for n in 0..5 {
                let exp = now + 3600 * u64::from(n + 1);
                assert_eq!(s.check_and_record(&id(n), exp, later), Err(Error::Replayed), "{what}");
            }
            // ...and the store keeps working: a message that expires past the
            // new floor opens, once.
            let floor = reachable_expiry(later);
            s.check_and_record(&id(101), floor + 1, later + 1).unwrap();
            assert_eq!(s.check_and_record(&id(101), floor + 1, later + 1), Err(Error::Replayed), "{what}");
            fs::remove_file(&path).unwrap();
        }
    }

    #[test]
    fn no_sender_can_raise_the_floor_out_of_reach() {
        let now = 1_767_225_600;
        both(4, |s| {
            for exp in [u64::MAX, reachable_expiry(now) + 1] {
                let e = s.check_and_record(&id(1), exp, now).unwrap_err();
                assert_eq!(e.kind(), crate::ErrorKind::Malformed);
            }
            // Filling the store at the reachable bound raises the floor no
            // further than the bound.
            for n in 0..6 {
                s.check_and_record(&id(n), reachable_expiry(now) - 5 + u64::from(n), now).unwrap();
            }
            // Once that bound is past, messages open again.
            let later = reachable_expiry(now) + 1;
            s.check_and_record(&id(50), later + 3600, later).unwrap();
        });
    }

    #[test]
    fn a_lowered_floor_is_stored_whatever_the_answer() {
        // SPEC.md section 8.3: the check-and-record that lowers a floor or a
        // record stores it before it answers, be the answer accepted,
        // replayed or malformed; counting the records changes nothing.
        let now = 1_767_225_600;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r");
        let highest = || {
            let state = State::decode(&fs::read(&path).unwrap()).0;
            state.records.iter().map(|r| r.1).fold(state.floor, u64::max)
        };
        let malformed =
            Err(Error::Malformed("expires_at is further ahead than the longest TTL and the clock skew allow"));
        // A floor of 2^64 - 1 (nothing can be accepted against it), or a floor
        // of 0 and a record at 2^64 - 1.
        let high_floor = [MAGIC.as_slice(), &u64::MAX.to_le_bytes()].concat();
        let high_record = [MAGIC.as_slice(), &0u64.to_le_bytes(), &id(9), &u64::MAX.to_le_bytes()].concat();
        let cases: [(&str, &[u8], u64, Result<()>); 3] = [
            ("replayed", &high_floor, now + 3600, Err(Error::Replayed)),
            ("malformed", &high_floor, u64::MAX, malformed),
            ("accepted", &high_record, now + 3600, Ok(())),
        ];
        for (what, file, expires_at, answer) in cases {
            fs::write(&path, file).unwrap();
            let s = FileReplayStore::open(&path).unwrap();
            s.len().unwrap();
            assert_eq!(highest(), u64::MAX, "{what}: counting lowered nothing");
            assert_eq!(s.check_and_record(&id(1), expires_at, now), answer, "{what}");
            assert_eq!(highest(), reachable_expiry(now), "{what}: the lowered value is stored");
            // Past it, a message opens, and the stored value stays put.
            let later = reachable_expiry(now) + 1;
            s.check_and_record(&id(2), later + 3600, later).unwrap();
            assert_eq!(highest(), later + 3600, "{what}");
            assert!(State::decode(&fs::read(&path).unwrap()).0.floor <= reachable_expiry(now), "{what}");
        }
    }

    #[test]
    fn an_impossible_floor_recovers_on_load() {
        let now = 1_767_225_600;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r");
        // What an earlier version wrote after 4,097 envelopes with
        // expires_at = 2^64 - 1: that floor, and records at it.
        let mut bytes = [MAGIC.as_slice(), &u64::MAX.to_le_bytes()].concat();
        for n in 0..3 {
            bytes.extend_from_slice(&id(n));
            bytes.extend_from_slice(&u64::MAX.to_le_bytes());
        }
        fs::write(&path, &bytes).unwrap();
        let s = FileReplayStore::open(&path).unwrap();
        // Lowered to the reachable bound: refused until then, not forever.
        assert_eq!(s.check_and_record(&id(10), now + 3600, now), Err(Error::Replayed));
        let (state, found) = State::decode(&fs::read(&path).unwrap());
        assert_eq!((state.floor, found), (reachable_expiry(now), Found::Clean));
        assert!(state.records.iter().all(|r| r.1 <= reachable_expiry(now)));
        let later = reachable_expiry(now) + 1;
        s.check_and_record(&id(10), later + 3600, later).unwrap();
        for n in 0..3 {
            assert_eq!(
                s.check_and_record(&id(n), u64::MAX, later),
                Err(Error::Malformed("expires_at is further ahead than the longest TTL and the clock skew allow"))
            );
        }
    }

    #[test]
    fn a_held_lock_is_waited_for_within_the_budget_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r");
        let s = FileReplayStore::open(&path).unwrap().with_lock_timeout(Duration::from_millis(100));
        let holder = File::options().read(true).write(true).open(with_suffix(&path, ".lock")).unwrap();
        holder.lock().unwrap();
        let start = Instant::now();
        match s.check_and_record(&id(1), FAR, 0) {
            Err(Error::Storage(m)) => assert!(m.contains("locked") && m.contains("100 ms"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(start.elapsed() >= Duration::from_millis(100));
        assert!(!path.exists(), "nothing was written");
        // Released within the budget: the call waits and succeeds.
        let s = s.with_lock_timeout(Duration::from_secs(30));
        thread::scope(|scope| {
            scope.spawn(|| {
                thread::sleep(Duration::from_millis(50));
                holder.unlock().unwrap();
            });
            s.check_and_record(&id(1), FAR, 0).unwrap();
        });
        assert_eq!(s.check_and_record(&id(1), FAR, 0), Err(Error::Replayed));
    }

    #[test]
    fn io_errors_are_storage_errors_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = FileReplayStore::open(dir.path().join("no/such/dir/r.bin"));
        assert!(matches!(missing, Err(Error::Storage(m)) if m.contains("r.bin.lock")));
        let path = dir.path().join("a-directory");
        fs::create_dir(&path).unwrap();
        let s = FileReplayStore::open(&path).unwrap();
        let err = s.check_and_record(&id(1), FAR, 0);
        assert!(matches!(err, Err(Error::Storage(m)) if m.contains("a-directory")));
    }

    fn race_disjoint(capacity: usize) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r");
        let barrier = Barrier::new(2);
        let exp = |n: u32| 1000 + u64::from(n % 1000);
        thread::scope(|scope| {
            for t in 0..2 {
                let (path, barrier) = (&path, &barrier);
                scope.spawn(move || {
                    let s = FileReplayStore::open_with_capacity(path, capacity).unwrap();
                    barrier.wait();
                    for n in t * 1000..t * 1000 + 150 {
                        match s.check_and_record(&id(n), exp(n), 0) {
                            Ok(()) => {}
                            // A small store may evict past the other thread's ids.
                            Err(Error::Replayed) if capacity < 300 => {}
                            other => panic!("{n}: {other:?}"),
                        }
                    }
                });
            }
        });
        let s = FileReplayStore::open_with_capacity(&path, capacity).unwrap();
        assert!(s.len().unwrap() <= capacity);
        for n in (0..150).chain(1000..1150) {
            assert_eq!(s.check_and_record(&id(n), exp(n), 0), Err(Error::Replayed));
        }
    }

    #[test]
    fn concurrent_handles_lose_no_ids() {
        race_disjoint(DEFAULT_REPLAY_CAPACITY); // appends
        race_disjoint(16); // compactions too
    }

    #[test]
    fn racing_handles_accept_an_id_exactly_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r");
        for n in 0..200 {
            let barrier = Barrier::new(2);
            let accepted = thread::scope(|scope| {
                let race = || {
                    let s = FileReplayStore::open(&path).unwrap();
                    barrier.wait();
                    s.check_and_record(&id(n), FAR, 0).is_ok()
                };
                let handles = [scope.spawn(race), scope.spawn(race)];
                handles.map(|h| h.join().unwrap()).iter().filter(|&&ok| ok).count()
            });
            assert_eq!(accepted, 1);
        }
    }

    proptest! {
        /// A replay carries the same (authenticated) expiry: whatever the
        /// clock does, no id is accepted twice, and the bound holds.
        #[test]
        fn never_accepts_an_id_twice(
            capacity in 0usize..8,
            expiry in prop::collection::vec(0u64..2000, 12),
            ops in prop::collection::vec((0usize..12, 0u64..3000), 0..80),
        ) {
            let store = MemoryReplayStore::with_capacity(capacity);
            let mut accepted = HashSet::new();
            for (i, now) in ops {
                if store.check_and_record(&id(i as u32), expiry[i], now).is_ok() {
                    prop_assert!(accepted.insert(i));
                }
                prop_assert!(store.len() <= capacity);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        /// The file store decides exactly as the memory store does.
        #[test]
        fn file_store_matches_memory_store(
            capacity in 0usize..8,
            ops in prop::collection::vec((0u32..12, 0u64..2000, 0u64..3000), 0..40),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let file = FileReplayStore::open_with_capacity(dir.path().join("r"), capacity).unwrap();
            let memory = MemoryReplayStore::with_capacity(capacity);
            for (n, exp, now) in ops {
                let expected = memory.check_and_record(&id(n), exp, now);
                prop_assert_eq!(file.check_and_record(&id(n), exp, now), expected);
                prop_assert_eq!(file.len().unwrap(), memory.len());
            }
        }
    }
}
