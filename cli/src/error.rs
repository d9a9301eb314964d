//! How a command fails, and what the process does about it.

/// A failed command.
#[derive(Debug)]
pub enum CliError {
    /// The input was rejected: exit status 1, the message on standard error
    /// after `error: `. Messages never hold plaintext or key material.
    Rejected(String),
    /// The arguments do not go together: exit status 2, reported as clap reports
    /// usage errors, under the usage of `command` (a subcommand's name).
    Usage {
        /// The subcommand whose usage to show.
        command: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The input was rejected and every reason is already on standard error:
    /// exit status 1.
    Reported,
    /// Standard output was closed by its reader (`pushseal demo | head -1`):
    /// stop quietly.
    StdoutClosed,
}

impl CliError {
    /// A rejection with this message.
    pub fn rejected(message: impl Into<String>) -> Self {
        Self::Rejected(message.into())
    }

    /// A usage error of the subcommand `command`.
    pub fn usage(command: &'static str, message: impl Into<String>) -> Self {
        Self::Usage { command, message: message.into() }
    }
}

impl From<pushseal::Error> for CliError {
    fn from(e: pushseal::Error) -> Self {
        Self::Rejected(e.to_string())
    }
}
