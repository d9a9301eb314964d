//! The file backend: a log as a file of JSON Lines (see the [crate
//! docs](crate) for the format and the write rules).

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use pushseal::shared_file::{self, FileLock};
use pushseal::{Error, Result, unix_now};
use sha2::{Digest, Sha256};

use crate::merkle::MemoryHashes;
use crate::record::{Anchor, AuditEvent, AuditRecord, Chain, Hash256, MAX_LINE_LEN, RecoveredEvent};
use crate::store::{Decision, RecordStore};
use crate::verify::{Verifier, VerifyReport};

/// How far back an append looks at a time for the end of the last line.
const TAIL_CHUNK: u64 = 8192;
/// The name errors give this store.
const STORE: &str = "audit log";

/// A log in a file of JSON Lines, shared by the threads and processes that
/// open it: every call works on the file under a lock on `<path>.lock`. A
/// handle holds only paths.
#[derive(Debug, Clone)]
pub struct FileStore {
    path: PathBuf,
    lock: FileLock,
}

/// The last complete line of a log, found before an append.
struct Tail {
    /// The file's length.
    len: u64,
    /// Where the complete lines end (after the last `\n`).
    complete_end: u64,
    /// The last complete record's `seq` and `hash`, if there is one.
    last: Option<Anchor>,
}

impl FileStore {
    /// The log in the file at `path`. The file need not exist (the first
    /// record creates it); this creates the lock file `<path>.lock` if needed
    /// and fails with [`Error::Storage`] if it cannot.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        Ok(Self { lock: FileLock::create(STORE, &path)?, path })
    }

    /// A handle on `path`, touching nothing.
    pub(crate) fn at(path: &Path) -> Self {
        Self { lock: FileLock::beside(STORE, path), path: path.to_path_buf() }
    }

    /// The log file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn open_for_append(&self) -> Result<File> {
        let mut options = OpenOptions::new();
        options.read(true).append(true).create(true);
        options.open(&self.path).map_err(|e| storage("open", &self.path, e))
    }

    /// Reads the file from the start, handing each complete line (without
    /// its `\n`) and its offset to `each`; returns where the complete lines
    /// end and the file's length. A line longer than [`MAX_LINE_LEN`] is
    /// handed over cut to one byte more than that (so it fails to parse):
    /// memory stays bounded whatever the file holds.
    fn scan(&self, file: &mut File, mut each: impl FnMut(&[u8], u64)) -> Result<(u64, u64)> {
        file.seek(SeekFrom::Start(0)).map_err(|e| storage("read", &self.path, e))?;
        let mut reader = BufReader::with_capacity(64 * 1024, file);
        let mut line = Vec::with_capacity(1024);
        let (mut complete_end, mut len) = (0u64, 0u64);
        loop {
            let buf = reader.fill_buf().map_err(|e| storage("read", &self.path, e))?;
            if buf.is_empty() {
                return Ok((complete_end, len));
            }
            let newline = buf.iter().position(|&b| b == b'\n');
            let chunk = newline.and_then(|i| buf.get(..i)).unwrap_or(buf);
            let room = (MAX_LINE_LEN + 1).saturating_sub(line.len());
            line.extend_from_slice(chunk.get(..room).unwrap_or(chunk));
            let consumed = chunk.len() + usize::from(newline.is_some());
            reader.consume(consumed);
            len += consumed as u64;
            if newline.is_some() {
                each(&line, complete_end);
                line.clear();
                complete_end = len;
            }
        }
    }

    /// Finds the last complete line by reading backwards from the end.
    fn tail(&self, file: &mut File) -> Result<Tail> {
        let len = file.metadata().map_err(|e| storage("read", &self.path, e))?.len();
        let complete_end = match self.last_newline(file, len, len)? {
            Some(at) => at + 1,
            None => 0,
        };
        if complete_end == 0 {
            return Ok(Tail { len, complete_end, last: None });
        }
        let body_end = complete_end - 1;
        let start = match self.last_newline(file, body_end, MAX_LINE_LEN as u64 + 1)? {
            Some(at) => at + 1,
            None if body_end <= MAX_LINE_LEN as u64 => 0,
            None => return Err(damaged(&self.path)),
        };
        let mut line = vec![0u8; usize::try_from(body_end - start).map_err(|_| damaged(&self.path))?];
        file.seek(SeekFrom::Start(start)).map_err(|e| storage("read", &self.path, e))?;
        file.read_exact(&mut line).map_err(|e| storage("read", &self.path, e))?;
        self.tail_from(&line, complete_end, len)
    }

    /// The tail whose last complete line is `line`.
    fn tail_from(&self, line: &[u8], complete_end: u64, len: u64) -> Result<Tail> {
        if complete_end == 0 {
            return Ok(Tail { len, complete_end, last: None });
        }
        let record = AuditRecord::parse_line(line).map_err(|_| damaged(&self.path))?;
        Ok(Tail { len, complete_end, last: Some(record.anchor()) })
    }

    /// The offset of the last `\n` in `file[..end]`, looking back at most `limit` bytes.
    fn last_newline(&self, file: &mut File, end: u64, limit: u64) -> Result<Option<u64>> {
        let stop = end.saturating_sub(limit);
        let mut chunk_end = end;
        let mut buf = vec![0u8; TAIL_CHUNK as usize];
        while chunk_end > stop {
            let start = chunk_end.saturating_sub(TAIL_CHUNK).max(stop);
            let part = buf.get_mut(..(chunk_end - start) as usize).ok_or(damaged(&self.path))?;
            file.seek(SeekFrom::Start(start)).map_err(|e| storage("read", &self.path, e))?;
            file.read_exact(part).map_err(|e| storage("read", &self.path, e))?;
            if let Some(i) = part.iter().rposition(|&b| b == b'\n') {
                return Ok(Some(start + i as u64));
            }
            chunk_end = start;
        }
        Ok(None)
    }

    /// Appends `events` after `tail`, first cutting off a torn last line and
    /// recording that; one write, then one sync.
    fn append_lines(&self, file: &mut File, tail: &Tail, events: Vec<AuditEvent>) -> Result<Vec<AuditRecord>> {
        let mut chain = Chain::after(tail.last);
        let mut out = Vec::with_capacity(512 * (events.len() + 1));
        if tail.len > tail.complete_end {
            let discarded_sha256 = self.hash_range(file, tail.complete_end, tail.len)?;
            let discarded_bytes = tail.len - tail.complete_end;
            let recovered = RecoveredEvent { time: unix_now(), discarded_bytes, discarded_sha256 };
            let (_, line) = chain.append(AuditEvent::Recovered(recovered)).ok_or_else(|| damaged(&self.path))?;
            out.extend_from_slice(&line);
            file.set_len(tail.complete_end).map_err(|e| storage("cut the torn end of", &self.path, e))?;
        }
        let mut records = Vec::with_capacity(events.len());
        for event in events {
            let (record, line) = chain.append(event).ok_or_else(|| damaged(&self.path))?;
            out.extend_from_slice(&line);
            records.push(record);
        }
        file.write_all(&out).map_err(|e| storage("append to", &self.path, e))?;
        shared_file::sync_data(file).map_err(|e| storage("sync", &self.path, e))?;
        if tail.len == 0 {
            // A new file: make its directory entry durable too.
            shared_file::sync_parent_dir(&self.path);
        }
        Ok(records)
    }

    /// The SHA-256 of `file[start..end]`.
    fn hash_range(&self, file: &mut File, start: u64, end: u64) -> Result<Hash256> {
        file.seek(SeekFrom::Start(start)).map_err(|e| storage("read", &self.path, e))?;
        let mut hasher = Sha256::new();
        let mut reader = file.take(end - start);
        io::copy(&mut reader, &mut HashWriter(&mut hasher)).map_err(|e| storage("read", &self.path, e))?;
        Ok(Hash256::from_bytes(hasher.finalize().into()))
    }
}

impl RecordStore for FileStore {
    fn append(&self, events: Vec<AuditEvent>) -> Result<Vec<AuditRecord>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        self.lock.with(true, || {
            let mut file = self.open_for_append()?;
            let tail = self.tail(&mut file)?;
            self.append_lines(&mut file, &tail, events)
        })
    }

    fn append_after_scan(
        &self,
        visit: &mut dyn FnMut(AuditRecord),
        decide: &mut dyn FnMut() -> Result<Decision>,
    ) -> Result<AuditRecord> {
        self.lock.with(true, || {
            let mut file = self.open_for_append()?;
            let mut last_line = Vec::new();
            let (complete_end, len) = self.scan(&mut file, |line, _| {
                last_line.clear();
                last_line.extend_from_slice(line);
                if let Ok(record) = AuditRecord::parse_line(line) {
                    visit(record);
                }
            })?;
            match decide()? {
                Decision::Existing(record) => Ok(record),
                Decision::Append(event) => {
                    let tail = self.tail_from(&last_line, complete_end, len)?;
                    let records = self.append_lines(&mut file, &tail, vec![event])?;
                    // append_lines returns one record per event.
                    Ok(records.into_iter().next().expect("one record for one event"))
                }
            }
        })
    }

    fn verify(&self, anchor: Option<Anchor>) -> Result<VerifyReport> {
        self.verify_with(Verifier::new(anchor)).map(|(report, _)| report)
    }
}

impl FileStore {
    /// Checks the log with `verifier`, under a shared lock, and returns its
    /// report and the tree it computed.
    pub(crate) fn verify_with(&self, mut verifier: Verifier) -> Result<(VerifyReport, MemoryHashes)> {
        let mut check = || {
            let mut file = File::open(&self.path).map_err(|e| storage("read", &self.path, e))?;
            let (complete_end, len) = self.scan(&mut file, |line, offset| verifier.line(line, offset))?;
            let torn = (len > complete_end).then_some((complete_end, len - complete_end));
            let tree = verifier.take_tree();
            Ok((std::mem::take(&mut verifier).finish(torn, complete_end), tree))
        };
        match self.lock.open() {
            Ok(_) => self.lock.with(false, check),
            // A copy in a read-only place: no writer to wait for.
            Err(_) => check(),
        }
    }

    /// The line (without its `\n`) of the record at line `index` (from 0),
    /// if the file has that many complete lines.
    pub(crate) fn line_at(&self, index: u64) -> Result<Option<Vec<u8>>> {
        let mut file = File::open(&self.path).map_err(|e| storage("read", &self.path, e))?;
        let (mut n, mut found) = (0u64, None);
        self.scan(&mut file, |line, _| {
            if n == index {
                found = Some(line.to_vec());
            }
            n += 1;
        })?;
        Ok(found)
    }
}

/// Feeds written bytes to a hash.
struct HashWriter<'a>(&'a mut Sha256);

impl Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn damaged(path: &Path) -> Error {
    Error::Storage(format!(
        "audit log: the last record of {} is damaged; nothing was appended (check it with audit verify)",
        path.display()
    ))
}

fn storage(operation: &str, path: &Path, err: io::Error) -> Error {
    shared_file::storage_error(STORE, operation, path, err)
}
