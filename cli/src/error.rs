//! The one error type of the command: a message for stderr and an exit code.

use std::fmt;

use pn_core::{ClientError, CommandError, ConfigError};

/// Exit code of a failed operation (network, service, missing event).
pub const EXIT_FAILED: u8 = 1;
/// Exit code of a usage error (clap uses it too).
pub const EXIT_USAGE: u8 = 2;

/// Why a command failed: printed as `pn: error: {message}`, then the process exits with `code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The process exit code.
    pub code: u8,
    /// One line describing the failure.
    pub message: String,
}

impl Failure {
    /// An operation that failed (exit 1).
    pub fn failed(message: impl Into<String>) -> Failure {
        Failure {
            code: EXIT_FAILED,
            message: message.into(),
        }
    }

    /// A usage error (exit 2): an argument the command cannot use.
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            code: EXIT_USAGE,
            message: message.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keep it to one line whatever the source said.
        let one_line = self.message.replace(['\n', '\r'], " ");
        f.write_str(one_line.trim())
    }
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Failure {
        match e {
            ClientError::Config(e) => e.into(),
            ClientError::Command(e) => e.into(),
            other => Failure::failed(other.to_string()),
        }
    }
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Failure {
        Failure::usage(format!("configuration refused: {e}"))
    }
}

impl From<CommandError> for Failure {
    fn from(e: CommandError) -> Failure {
        Failure::usage(e.to_string())
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        Failure::failed(format!("I/O: {e}"))
    }
}

/// A command's result.
pub type Result<T, E = Failure> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_errors_are_usage_errors() {
        let f: Failure = ClientError::Command(CommandError::MissingPublishKey).into();
        assert_eq!(f.code, EXIT_USAGE);
        assert!(f.message.contains("publish key"), "{}", f.message);
    }

    #[test]
    fn display_is_one_line() {
        let f = Failure::failed("a\nb\r\n");
        assert_eq!(f.to_string(), "a b");
    }
}
