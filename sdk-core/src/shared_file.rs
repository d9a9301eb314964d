//! Files that several processes share: a lock file beside each, and writes
//! that survive a crash. The replay store (on the device) and the sender's
//! audit log (the `pushseal-audit` crate) both keep their data this way.
//!
//! Not part of the stable API: it is public so that the audit log crate can
//! share it, and may change in any release.
//!
//! # Durability
//!
//! [`sync_data`] is the one durable write both use. On Linux and Android it
//! is `fdatasync`; on Apple platforms the standard library issues
//! `fcntl(F_FULLFSYNC)`, which flushes the drive's cache too. Apple's cheaper
//! `F_BARRIERFSYNC` only orders writes: after a power loss, a record written
//! with it may be gone although the call returned, so a device could accept a
//! notification it had already shown once more, and a sender could have sent a
//! notification whose audit record is gone. Calling it would also need
//! `unsafe` (a raw `fcntl`), which this crate forbids. See SPEC.md section 8.3
//! and BENCHMARKS.md for what the sync costs.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// `path` with `suffix` appended to its file name (`replay.db` → `replay.db.lock`).
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

/// A [`Error::Storage`] that names the store, the operation and the file:
/// `"<store>: cannot <operation> <path>: <cause>"`.
pub fn storage_error(store: &str, operation: &str, path: &Path, err: io::Error) -> Error {
    Error::Storage(format!("{store}: cannot {operation} {}: {err}", path.display()))
}

/// The lock file `<path>.lock` of a shared data file. The lock is on a
/// separate file because an atomic rewrite replaces the data file.
#[derive(Debug, Clone)]
pub struct FileLock {
    store: &'static str,
    path: PathBuf,
}

impl FileLock {
    /// The lock of the data file at `data`, for errors that begin with
    /// `store`. Creates `<data>.lock` if needed; fails with
    /// [`Error::Storage`] if it cannot.
    pub fn create(store: &'static str, data: &Path) -> Result<Self> {
        let lock = Self::beside(store, data);
        lock.open()?;
        Ok(lock)
    }

    /// The lock of the data file at `data`, touching nothing.
    pub fn beside(store: &'static str, data: &Path) -> Self {
        Self { store, path: with_suffix(data, ".lock") }
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens (and creates if needed) the lock file.
    pub fn open(&self) -> Result<File> {
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        options.open(&self.path).map_err(|e| storage_error(self.store, "open", &self.path, e))
    }

    /// Runs `f` holding the lock, exclusive or shared. The lock file is
    /// opened afresh each time: a lock belongs to an open file, and two
    /// threads sharing one handle must exclude each other too. No lock is
    /// held between calls (iOS kills a suspended process that holds one in a
    /// shared container).
    pub fn with<T>(&self, exclusive: bool, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let lock = self.open()?;
        if exclusive { lock.lock() } else { lock.lock_shared() }
            .map_err(|e| storage_error(self.store, "lock", &self.path, e))?;
        let result = f();
        // Closing the handle would release the lock too; this is just prompt.
        let _ = lock.unlock();
        result
    }
}

/// Makes `file`'s data durable: see the [module docs](self).
pub fn sync_data(file: &File) -> io::Result<()> {
    file.sync_data()
}

/// Best effort: makes the directory entries of the directory holding `path`
/// durable (a new or renamed file). Not every platform can open a directory;
/// the data itself is already synced.
pub fn sync_parent_dir(path: &Path) {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Replaces the file at `path` with `bytes`, atomically: writes `tmp` (in the
/// same directory), syncs it, renames it over `path`, and syncs the directory.
/// A crash leaves either the old file or the new one.
pub fn write_atomic(store: &str, path: &Path, tmp: &Path, bytes: &[u8]) -> Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    let mut file = options.open(tmp).map_err(|e| storage_error(store, "create", tmp, e))?;
    file.write_all(bytes).map_err(|e| storage_error(store, "write", tmp, e))?;
    file.sync_all().map_err(|e| storage_error(store, "sync", tmp, e))?;
    drop(file);
    fs::rename(tmp, path).map_err(|e| storage_error(store, "rename a file over", path, e))?;
    sync_parent_dir(path);
    Ok(())
}
