//! What can go wrong, and the one mapping from a failure to the process's exit code:
//! 0 ok, 1 an AWS or runtime failure, 2 a usage or configuration mistake or charges the learner did not
//! allow. Errors travel as `anyhow::Error` with context; the kind is found by looking through the chain.

use std::process::ExitCode;

pub use crate::config::ConfigError;
pub use crate::freetier::ChargesRefused;

/// A mistake in how the tool was called, fixed by changing the command line (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// What kind of failure an error is; the kind alone decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The command line is wrong: a flag value, a missing `--yes`, a busy port ([`UsageError`], or clap's).
    Usage,
    /// `shopsmart.yaml` is wrong ([`ConfigError`]).
    Config,
    /// The Free Tier guard found something that costs money and `--allow-charges` was not given
    /// ([`ChargesRefused`]).
    ChargesRefused,
    /// Anything else: AWS, the network, the file system, a child process.
    Runtime,
}

impl ErrorKind {
    /// The kind of the first cause in the chain that has one; [`ErrorKind::Runtime`] when none has.
    pub fn of(err: &anyhow::Error) -> Self {
        err.chain()
            .find_map(|cause| {
                if cause.is::<UsageError>() || cause.is::<clap::Error>() {
                    Some(Self::Usage)
                } else if cause.is::<ConfigError>() {
                    Some(Self::Config)
                } else if cause.is::<ChargesRefused>() {
                    Some(Self::ChargesRefused)
                } else {
                    None
                }
            })
            .unwrap_or(Self::Runtime)
    }

    /// 2 for what the learner fixes in the command line or the configuration, 1 for everything else.
    pub fn exit_code(self) -> u8 {
        match self {
            Self::Usage | Self::Config | Self::ChargesRefused => 2,
            Self::Runtime => 1,
        }
    }
}

/// `a: b: c` from an error and its causes, outermost first.
pub fn chain(err: &anyhow::Error) -> String {
    err.chain()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

/// The exit code of [`crate::run()`]'s result. A failure is printed on stderr as one line, `error: a: b: c`;
/// a command-line error from clap is printed by clap (help and `--version` are such "errors" too, printed
/// on stdout with exit code 0).
pub fn exit(result: anyhow::Result<ExitCode>) -> ExitCode {
    result.unwrap_or_else(|err| match err.downcast::<clap::Error>() {
        Ok(clap_err) => {
            let _ = clap_err.print();
            if clap_err.use_stderr() {
                ExitCode::from(ErrorKind::Usage.exit_code())
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(err) => {
            eprintln!("error: {}", chain(&err));
            ExitCode::from(ErrorKind::of(&err).exit_code())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn the_kind_is_found_anywhere_in_the_chain() {
        let usage = anyhow::Error::new(UsageError("pass --yes".into())).context("destroy");
        assert_eq!(ErrorKind::of(&usage), ErrorKind::Usage);
        assert_eq!(ErrorKind::of(&usage).exit_code(), 2);
        let runtime: anyhow::Result<()> = Err(std::io::Error::other("connection refused").into());
        let runtime = runtime.context("calling DynamoDB").unwrap_err();
        assert_eq!(ErrorKind::of(&runtime), ErrorKind::Runtime);
        assert_eq!(ErrorKind::of(&runtime).exit_code(), 1);
    }

    #[test]
    fn the_chain_reads_as_one_line() {
        let err = anyhow::anyhow!("c").context("b").context("a");
        assert_eq!(chain(&err), "a: b: c");
    }
}
