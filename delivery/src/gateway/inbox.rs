//! A gateway's inbox: a directory where a test gateway keeps the body of
//! every notification it accepted, so that a script or a person can open it
//! as the phone would (`pushseal open`).
//!
//! Each body is one file, `<device>.<id>.json`: the device token (or FCM
//! registration token or installation id) and the gateway's id for the
//! message (the APNs `apns-id`; the last part of the FCM message `name`).
//! It is written to a hidden file in the same directory, then renamed, so a
//! reader sees the whole file or none.

use std::io;
use std::path::{Path, PathBuf};

/// The longest part of a file name taken from a device token: the name
/// stays under the 255 bytes file systems allow.
const MAX_DEVICE_CHARS: usize = 160;

/// The file in `dir` that holds the body a gateway accepted for `device`
/// under `gateway_id`: the APNs `apns-id`, or the FCM message `name`
/// (`projects/<project>/messages/<n>`, of which the name takes `<n>`), as a
/// client's [`Outcome::Delivered`](crate::Outcome::Delivered) gives it.
///
/// A device token longer than 160 characters is cut to its first 160, and
/// characters other than ASCII letters, digits, `_`, `-`, `:` and `.` become
/// `_` (the gateway's id keeps the name unique).
pub fn inbox_path(dir: &Path, device: &str, gateway_id: &str) -> PathBuf {
    let id = gateway_id.rsplit('/').next().unwrap_or(gateway_id);
    dir.join(format!("{}.{}.json", file_part(device), file_part(id)))
}

/// `text` as part of a file name: safe characters only, never empty, never
/// starting with a dot.
fn file_part(text: &str) -> String {
    let mut part: String = text
        .chars()
        .take(MAX_DEVICE_CHARS)
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '.') { c } else { '_' })
        .collect();
    if part.is_empty() || part.starts_with('.') {
        part.insert(0, '_');
    }
    part
}

/// Keeps `body` in `dir` as [`inbox_path`] names it, atomically, off the
/// runtime's worker threads.
pub(crate) async fn keep(dir: &Path, device: &str, gateway_id: &str, body: Vec<u8>) -> io::Result<()> {
    let path = inbox_path(dir, device, gateway_id);
    let task = tokio::task::spawn_blocking(move || write_then_rename(&path, &body));
    task.await.map_err(io::Error::other)?
}

fn write_then_rename(path: &Path, body: &[u8]) -> io::Result<()> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(io::Error::other("an inbox file has a directory and a name"));
    };
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).map_err(|e| io::Error::other(format!("no randomness: {e}")))?;
    let nonce: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
    let temporary = dir.join(format!(".{}.{nonce}.tmp", name.to_string_lossy()));
    let written = std::fs::write(&temporary, body).and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_the_device_and_the_id_and_stay_in_the_directory() {
        let dir = Path::new("/inbox");
        let apns_id = "5D5B9A3C-0E8F-4F5D-9C1B-2A7E3B1F0D42";
        let path = inbox_path(dir, &"ab".repeat(32), apns_id);
        assert_eq!(path, dir.join(format!("{}.{apns_id}.json", "ab".repeat(32))));
        let fcm = inbox_path(dir, "token:APA91b-x_y", "projects/p/messages/123");
        assert_eq!(fcm, dir.join("token:APA91b-x_y.123.json"));
        for hostile in ["../../etc/passwd", "a/b", "..", ".hidden", "", "é\n"] {
            let path = inbox_path(dir, hostile, "1");
            assert_eq!(path.parent(), Some(dir), "{hostile:?}");
            let name = path.file_name().unwrap().to_str().unwrap();
            assert!(!name.starts_with('.') && !name.contains('/'), "{hostile:?}: {name}");
        }
        let long = inbox_path(dir, &"f".repeat(4000), "1");
        assert!(long.file_name().unwrap().len() < 255);
    }
}
