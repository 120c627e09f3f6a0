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
    let mut parts = Vec::new();
    for cause in err.chain() {
        parts.push(cause.to_string());
        // An AWS answer says all there is; its sources are the SDK's layers of that same answer.
        if cause.is::<crate::aws_error::AwsError>() {
            break;
        }
    }
    parts.join(": ")
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

#[cfg(test)]
mod aws_answers {
    use super::*;
    use crate::aws_error::AwsContext;
    use aws_sdk_lambda::operation::get_function::GetFunctionError;
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::client::result::SdkError;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    fn answer(status: u16, meta: ErrorMetadata) -> SdkError<GetFunctionError, HttpResponse> {
        SdkError::service_error(
            GetFunctionError::generic(meta),
            Response::new(StatusCode::try_from(status).unwrap(), SdkBody::empty()),
        )
    }

    fn line(err: SdkError<GetFunctionError, HttpResponse>) -> String {
        let err = Err::<(), _>(err)
            .aws_context(|| "reading Lambda function (f)")
            .unwrap_err();
        chain(&err)
    }

    #[test]
    fn an_answer_reads_as_code_message_and_request_id() {
        let meta = ErrorMetadata::builder()
            .code("ResourceConflictException")
            .message("The operation cannot be performed at this time.")
            .custom("aws_request_id", "abc-123")
            .build();
        assert_eq!(
            line(answer(409, meta)),
            "reading Lambda function (f): ResourceConflictException: The operation cannot be performed at \
             this time. (request id abc-123)"
        );
    }

    #[test]
    fn a_denial_names_the_action_the_resource_and_the_fix() {
        let meta = ErrorMetadata::builder()
            .code("AccessDeniedException")
            .message(
                "User: arn:aws:iam::123456789012:user/ana is not authorized to perform: \
                 lambda:GetFunction on resource: arn:aws:lambda:us-east-1:123456789012:function:f because \
                 no identity-based policy allows the lambda:GetFunction action",
            )
            .build();
        let text = line(answer(403, meta));
        assert!(
            text.contains(
                "may not do lambda:GetFunction on arn:aws:lambda:us-east-1:123456789012:function:f"
            ),
            "{text}"
        );
        assert!(text.contains("shopsmart-deploy permissions"), "{text}");
        // A bare 403 (S3 answers HEAD requests without a body) is a denial too.
        let bare = line(answer(403, ErrorMetadata::builder().build()));
        assert!(
            bare.starts_with("reading Lambda function (f): HTTP 403. "),
            "{bare}"
        );
        assert!(bare.contains("may not do the call above"), "{bare}");
    }
}
