//! PushSeal's test vectors, generated from fixed seeds.
//!
//! [`generate`] returns the contents of every vector file in `test-vectors/`
//! (except the third-party RFC 9180 file): the same bytes on every run, since
//! every key, ephemeral key, message id and clock is fixed. `cargo run -p
//! pushseal-vectors` writes them; a test in this crate fails when the
//! committed files differ from what [`generate`] returns.
//!
//! Every value is computed twice where it can be: once by the `pushseal`
//! crate's sender, once here from the HPKE primitives (with the key schedule
//! written out a second time on top of HKDF), and the generator refuses to
//! write a vector on which the two disagree. Every negative vector is run
//! through the `pushseal` crate's device side, which must fail with the
//! vector's error kind.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::fmt;
use std::path::{Path, PathBuf};

mod crypto;
mod errorkinds;
mod fixture;
mod keytexts;
mod negative;
mod positive;
mod schema;
mod sequences;
mod v2;

/// The file names this generator writes, in `test-vectors/`.
pub const FILES: [&str; 6] =
    ["positive.json", "negative.json", "replay-sequences.json", "key-texts.json", "error-kinds.json", "v2.json"];

/// The command that regenerates the files.
pub const COMMAND: &str = "cargo run -p pushseal-vectors";

/// One generated file: its name in `test-vectors/` and its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VectorFile {
    /// The file name, one of [`FILES`].
    pub name: &'static str,
    /// The file's exact contents (pretty JSON, two-space indent, final newline).
    pub contents: String,
    /// How many vectors the file holds.
    pub count: usize,
}

/// Why a file could not be generated: a step failed, or two computations of
/// the same value disagreed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<pushseal::Error> for Error {
    fn from(e: pushseal::Error) -> Self {
        Self(format!("pushseal: {e}"))
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Self(format!("JSON: {e}"))
    }
}

impl Error {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// The result type of the generator.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Fails with `message` unless `condition` holds.
pub(crate) fn ensure(condition: bool, message: impl FnOnce() -> String) -> Result<()> {
    if condition { Ok(()) } else { Err(Error(message())) }
}

/// The directory the vector files live in: `test-vectors/`, the parent of this crate.
pub fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map_or_else(|| PathBuf::from("test-vectors"), Path::to_path_buf)
}

/// Every vector file, generated.
pub fn generate() -> Result<Vec<VectorFile>> {
    let positive = positive::vectors()?;
    let negative = negative::vectors(&positive)?;
    let sequences = sequences::vectors()?;
    Ok(vec![
        file(FILES[0], positive::DESCRIPTION, &positive.iter().map(|p| &p.json).collect::<Vec<_>>())?,
        file(FILES[1], negative::DESCRIPTION, &negative)?,
        file(FILES[2], sequences::DESCRIPTION, &sequences)?,
        file(FILES[3], keytexts::DESCRIPTION, &keytexts::vectors()?)?,
        file(FILES[4], errorkinds::DESCRIPTION, &errorkinds::vectors()?)?,
        file(FILES[5], v2::DESCRIPTION, &v2::vectors()?)?,
    ])
}

fn file<T: serde::Serialize>(name: &'static str, description: &str, vectors: &[T]) -> Result<VectorFile> {
    let doc = schema::VectorFileJson { description, version: 1, generator: COMMAND, vectors };
    let mut contents = serde_json::to_string_pretty(&doc)?;
    contents.push('\n');
    Ok(VectorFile { name, contents, count: vectors.len() })
}
