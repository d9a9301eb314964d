//! The device list of `pushseal send`: a file of JSON Lines (NDJSON), one
//! device a line,
//!
//! ```text
//! {"public_key": "<the device's public key or registration text>", "token": "<push token>"}
//! ```
//!
//! `token` is the APNs device token (hex) or the FCM registration token; an
//! FCM device may give `"fid": "<Firebase Installation ID>"` instead. No
//! other member is accepted, and no line may be empty.
//!
//! The file is read twice: once to check every line (so that a mistake on
//! line 900,000 stops the command before anything is sent), then again as
//! the send goes, so that the list never sits in memory.

use std::fs::File;
use std::io::{self, BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use pushseal::BatchDevice;
use serde::Deserialize;

use crate::error::CliError;

/// The longest line read: a version 2 registration text is about 1,600
/// characters and a push token a few hundred.
const LINE_LIMIT: usize = 16 * 1024;

/// Which gateway the devices are for: it decides what addresses a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressing {
    /// APNs: a device token, always.
    Apns,
    /// FCM: a registration token or an installation id.
    Fcm,
}

/// One line of the list.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceLine {
    public_key: String,
    token: Option<String>,
    fid: Option<String>,
}

/// A device list whose every line was checked.
#[derive(Debug)]
pub struct DeviceList {
    path: PathBuf,
    addressing: Addressing,
    /// Set when a line no longer reads as it did when checked.
    changed: Arc<AtomicBool>,
}

impl DeviceList {
    /// Checks every line of the list at `path`, without keeping it.
    pub fn check(path: &Path, addressing: Addressing) -> Result<Self, CliError> {
        let mut lines = Lines::open(path)?;
        let mut count = 0usize;
        while let Some(text) = lines.next_line().map_err(|e| lines.error(&e))? {
            device(&text, addressing).map_err(|e| lines.error(&e))?;
            count += 1;
        }
        if count == 0 {
            return Err(CliError::rejected(format!(
                "the device list {} is empty: give one device a line, {{\"public_key\": ..., \"token\": ...}}",
                path.display()
            )));
        }
        Ok(Self { path: path.to_path_buf(), addressing, changed: Arc::default() })
    }

    /// The devices, read again as they are taken. If a line no longer reads
    /// as it did, the devices end there and [`DeviceList::changed`] says so.
    pub fn devices(&self) -> Result<impl Iterator<Item = BatchDevice> + Send + 'static, CliError> {
        let mut lines = Lines::open(&self.path)?;
        let (addressing, changed) = (self.addressing, self.changed.clone());
        Ok(std::iter::from_fn(move || {
            let read = lines.next_line().map_err(|e| e.to_string());
            match read.and_then(|line| line.map(|text| device(&text, addressing)).transpose()) {
                Ok(next) => next,
                Err(_) => {
                    changed.store(true, Ordering::SeqCst);
                    None
                }
            }
        }))
    }

    /// Whether the list changed while it was being sent.
    pub fn changed(&self) -> bool {
        self.changed.load(Ordering::SeqCst)
    }

    /// The list's file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The lines of a list, each at most [`LINE_LIMIT`] bytes.
struct Lines {
    path: PathBuf,
    reader: BufReader<File>,
    number: usize,
}

impl Lines {
    fn open(path: &Path) -> Result<Self, CliError> {
        let file = File::open(path)
            .map_err(|e| CliError::rejected(format!("cannot open the device list {}: {e}", path.display())))?;
        Ok(Self { path: path.to_path_buf(), reader: BufReader::new(file), number: 0 })
    }

    /// The next line, without its line ending; `None` at the end.
    fn next_line(&mut self) -> Result<Option<String>, String> {
        let mut bytes = Vec::new();
        let read = (&mut self.reader)
            .take(LINE_LIMIT as u64 + 1)
            .read_until(b'\n', &mut bytes)
            .map_err(|e: io::Error| format!("cannot be read: {e}"))?;
        if read == 0 {
            return Ok(None);
        }
        self.number += 1;
        if bytes.len() > LINE_LIMIT {
            return Err(format!("is longer than {LINE_LIMIT} bytes; no device line is that long"));
        }
        let text = String::from_utf8(bytes).map_err(|_| "is not UTF-8 text".to_owned())?;
        let text = text.strip_suffix('\n').map_or(text.as_str(), |t| t.strip_suffix('\r').unwrap_or(t));
        Ok(Some(text.to_owned()))
    }

    /// An error on the current line.
    fn error(&self, what: &str) -> CliError {
        CliError::rejected(format!("the device list {} line {}: {what}", self.path.display(), self.number.max(1)))
    }
}

/// The device of one line.
fn device(text: &str, addressing: Addressing) -> Result<BatchDevice, String> {
    if text.trim().is_empty() {
        return Err("is empty; give one device a line".to_owned());
    }
    // serde_json's errors name positions and members, never the input's values.
    let line: DeviceLine = serde_json::from_str(text).map_err(|e| {
        format!(
            "is not a device ({e}): {{\"public_key\": ..., \"token\": ...}}, or \"fid\" in place of \"token\" for FCM"
        )
    })?;
    let device = BatchDevice::parse(&line.public_key);
    match (addressing, line.token, line.fid) {
        (_, Some(token), None) if !token.is_empty() => Ok(device.with_token(token)),
        (Addressing::Fcm, None, Some(fid)) if !fid.is_empty() => Ok(device.with_fid(fid)),
        (Addressing::Apns, _, Some(_)) => Err("has an \"fid\", which only FCM devices have; give its \"token\"".into()),
        (_, Some(_), Some(_)) => Err("has both a \"token\" and an \"fid\"; give one".into()),
        (Addressing::Apns, _, None) => Err("has no \"token\" (the APNs device token)".into()),
        (Addressing::Fcm, _, _) => {
            Err("has no \"token\" or \"fid\" (the FCM registration token or installation id)".into())
        }
    }
}
