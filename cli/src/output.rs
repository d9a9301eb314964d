//! Standard output, written so that a closed pipe stops the command quietly
//! instead of panicking.

use std::io::{self, Write};

use crate::error::CliError;

/// Standard output, locked for the whole command.
pub struct Out {
    inner: Box<dyn Write>,
}

impl Out {
    /// The process's standard output.
    pub fn stdout() -> Self {
        Self { inner: Box::new(io::stdout().lock()) }
    }

    /// Writes `text` and a newline.
    pub fn line(&mut self, text: &str) -> Result<(), CliError> {
        self.inner.write_all(text.as_bytes()).and_then(|()| self.inner.write_all(b"\n")).map_err(write_error)
    }

    /// Writes an empty line.
    pub fn blank(&mut self) -> Result<(), CliError> {
        self.line("")
    }

    /// Flushes what is buffered.
    pub fn flush(&mut self) -> Result<(), CliError> {
        self.inner.flush().map_err(write_error)
    }
}

fn write_error(e: io::Error) -> CliError {
    if e.kind() == io::ErrorKind::BrokenPipe {
        CliError::StdoutClosed
    } else {
        CliError::rejected(format!("cannot write to standard output: {e}"))
    }
}
