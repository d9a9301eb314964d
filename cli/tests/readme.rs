//! The command-line examples in the READMEs run as written. Each file's
//! shell blocks (fenced as `sh` or `bash`) run in order, as one script, under
//! `bash -euo pipefail` in a new empty folder, with the built `pushseal`
//! first on PATH and nothing else from the project. A block fenced
//! `sh ignore` is shown, not run: it needs a checkout of the project (the
//! `cargo` commands). Also: the plaintext limit the READMEs state is the
//! one the code enforces.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_pushseal");

fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(relative)
}

/// A fenced block: the line its fence is on (from 1), its info string, its text.
struct Block {
    line: usize,
    info: String,
    text: String,
}

fn blocks(markdown: &str) -> Vec<Block> {
    let mut found = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in markdown.lines().enumerate() {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut open, fence) {
            (None, Some(info)) => open = Some(Block { line: i + 1, info: info.trim().to_owned(), text: String::new() }),
            (Some(_), Some(_)) => found.extend(open.take()),
            (Some(block), None) => {
                block.text.push_str(line);
                block.text.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "a fenced block is not closed");
    found
}

/// The script of `relative`'s runnable shell blocks, each after a comment
/// naming its line.
fn script(relative: &str) -> String {
    let markdown = std::fs::read_to_string(repo_file(relative)).unwrap();
    let mut script = String::new();
    for block in blocks(&markdown) {
        let mut words = block.info.split_whitespace();
        let language = words.next().unwrap_or("");
        if !matches!(language, "sh" | "bash" | "shell" | "console") {
            continue;
        }
        match words.next() {
            None => {}
            Some("ignore") => continue,
            Some(other) => panic!("{relative}:{}: unknown fence attribute {other:?} (only \"ignore\")", block.line),
        }
        assert!(language != "console", "{relative}:{}: fence shell examples as sh", block.line);
        script.push_str(&format!("# {relative}:{}\n{}", block.line, block.text));
    }
    assert!(!script.is_empty(), "{relative} has no shell example to run");
    script
}

fn run_examples(relative: &str) {
    let script = script(relative);
    let dir = tempfile::tempdir().unwrap();
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!("{}:/usr/local/bin:/usr/bin:/bin", bin_dir.display());
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", path)
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{relative}'s examples failed ({:?})\n--- stderr:\n{}\n--- stdout:\n{}\n--- script:\n{script}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn the_readme_examples_run_as_written() {
    run_examples("README.md");
}

#[test]
fn the_cli_readme_examples_run_as_written() {
    run_examples("cli/README.md");
}

#[test]
fn the_documented_plaintext_limits_are_the_enforced_ones() {
    use pushseal::{ApnsOptions, BareEnvelope, FcmOptions, Target};
    // Every target, with its default options, takes up to 2047 bytes of JSON.
    assert_eq!(ApnsOptions::default().max_plaintext_len(), Ok(2047));
    assert_eq!(FcmOptions::default().max_plaintext_len(), Ok(2047));
    assert_eq!(BareEnvelope.max_plaintext_len(), Ok(2047));
    for relative in ["README.md", "cli/README.md"] {
        let text = std::fs::read_to_string(repo_file(relative)).unwrap();
        assert!(text.contains("2047 bytes"), "{relative} states the plaintext limit");
        assert!(text.contains("256, 512, 1024 or 2048"), "{relative} names the padding buckets");
    }
}
