//! AWS's answers as one readable line, `creating IAM role (x): EntityAlreadyExists: Role with name x
//! already exists. (request id 1f2e…)`, never the SDK's `service error` / `unhandled error` / `Error { code:
//! .. }` layers; and, for an access denial, who was calling, what was refused and how to fix it.

use std::error::Error;
use std::fmt;
use std::sync::OnceLock;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// The identity the AWS calls of this process are made as (STS GetCallerIdentity's ARN), for denials.
static CALLER: OnceLock<String> = OnceLock::new();

/// Remembers who is calling AWS, once STS has said.
pub fn set_caller(arn: &str) {
    let _ = CALLER.set(arn.to_owned());
}

/// One AWS answer (or the failure to get one), with the typed SDK error kept as its source so that
/// `ownership::service_error` can still find it.
pub struct AwsError {
    code: Option<String>,
    message: String,
    request_id: Option<String>,
    status: Option<u16>,
    sdk: Box<dyn Error + Send + Sync>,
}

impl AwsError {
    pub fn new<E>(err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + Error + Send + Sync + 'static,
    {
        let status = err.raw_response().map(|r| r.status().as_u16());
        let (code, message) = match &err {
            SdkError::ServiceError(_) => (
                err.code().map(str::to_owned),
                err.message().unwrap_or_default().to_owned(),
            ),
            // No answer from AWS: the SDK's own chain says why (DNS, connection, timeout).
            _ => (None, DisplayErrorContext(&err).to_string()),
        };
        Self {
            code,
            message,
            request_id: err.meta().extra("aws_request_id").map(str::to_owned),
            status,
            sdk: Box::new(err),
        }
    }

    /// AWS refused the call for lack of permission: the codes the services use, or a bare 403 (S3's HEAD).
    pub fn is_access_denied(&self) -> bool {
        matches!(
            self.code.as_deref(),
            Some("AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation")
        ) || (self.code.is_none() && self.status == Some(403))
    }

    /// The action and resource from AWS's `... is not authorized to perform: ACTION on resource: ARN ...`.
    fn refused(&self) -> Option<(&str, Option<&str>)> {
        let rest = self.message.split("not authorized to perform: ").nth(1)?;
        let action = rest.split_whitespace().next()?;
        let resource = rest
            .split("on resource: ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next());
        Some((action, resource))
    }

    /// What a learner does about a denial: who was calling, what was refused, and where the policy is.
    fn denial_help(&self) -> String {
        let caller = CALLER.get().map_or("your credentials", String::as_str);
        let refused = match self.refused() {
            Some((action, Some(resource))) => format!("{action} on {resource}"),
            Some((action, None)) => action.to_owned(),
            None => "the call above".to_owned(),
        };
        format!(
            ". {caller} may not do {refused}. Fix: attach the policy that `shopsmart-deploy permissions` \
             prints to that identity (or ask your account's administrator to), then run this command again"
        )
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.code, self.status) {
            (Some(code), _) => write!(f, "{code}")?,
            (None, Some(status)) => write!(f, "HTTP {status}")?,
            (None, None) => write!(f, "no answer from AWS")?,
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        if self.is_access_denied() {
            write!(f, "{}", self.denial_help())?;
        }
        Ok(())
    }
}

impl fmt::Debug for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Error for AwsError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&*self.sdk)
    }
}

/// Whether AWS refused a call in `err`'s chain for lack of permission.
pub fn is_access_denied(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<AwsError>()
            .is_some_and(AwsError::is_access_denied)
    })
}

/// `.aws_context(|| "creating X (id)")` on an SDK call's result: anyhow's `with_context` that also turns
/// the SDK error into an [`AwsError`].
pub trait AwsContext<T> {
    fn aws_context<C: fmt::Display + Send + Sync + 'static>(
        self,
        context: impl FnOnce() -> C,
    ) -> anyhow::Result<T>;
}

impl<T, E> AwsContext<T> for Result<T, SdkError<E, HttpResponse>>
where
    E: ProvideErrorMetadata + Error + Send + Sync + 'static,
{
    fn aws_context<C: fmt::Display + Send + Sync + 'static>(
        self,
        context: impl FnOnce() -> C,
    ) -> anyhow::Result<T> {
        self.map_err(|err| anyhow::Error::new(AwsError::new(err)).context(context()))
    }
}
