//! What every test of the built `pushseal` binary needs: running it with an
//! input, and checking how it ended.
// Each test file uses some of these, none uses all.
#![allow(dead_code)]

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_pushseal");

/// Runs `pushseal args` with `stdin` as standard input. The input is written
/// from a thread, and a write error is ignored: the command may stop reading
/// early (a usage error, huge input), which is its right.
pub fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    output
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// Asserts success with nothing on standard error; returns standard output.
pub fn ok(o: &Output) -> String {
    assert!(o.status.success(), "status {:?}, stderr: {}", o.status, stderr(o));
    assert!(o.stderr.is_empty(), "stderr: {}", stderr(o));
    stdout(o)
}

/// Asserts success (a warning on standard error allowed); returns standard output.
pub fn succeeded(o: &Output) -> String {
    assert!(o.status.success(), "status {:?}, stderr: {}", o.status, String::from_utf8_lossy(&o.stderr));
    stdout(o)
}

/// Asserts a rejection: exit status 1, nothing on standard output, one
/// `error:` line on standard error that contains every one of `reasons`;
/// no panic.
pub fn rejected_with(o: &Output, reasons: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "stderr: {err}");
    assert!(o.stdout.is_empty(), "stdout: {}", String::from_utf8_lossy(&o.stdout));
    assert!(err.starts_with("error: ") && err.lines().count() == 1, "stderr: {err}");
    for reason in reasons {
        assert!(err.contains(reason), "expected {reason:?} in: {err}");
    }
    assert!(!err.contains("panicked") && !err.contains("backtrace"), "stderr: {err}");
}

/// One JSON value, white space around it ignored.
pub fn json(text: &str) -> Value {
    serde_json::from_str(text.trim()).unwrap()
}
