//! Whether a resource with our name is ours (it carries the stack tag), the one error that explains why a
//! foreign one is left untouched, and the typed "not found" handling every read and delete shares.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::Ctx;
use crate::names::STACK_TAG_KEY;

/// The error for a resource that has our name but not our tag: what it is, why it is left alone, and `fix`.
pub fn foreign_error(ctx: &Ctx, kind: &str, id: &str, fix: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "{kind} ({id}) exists but is not tagged {STACK_TAG_KEY}={}: it was not made by this stack, so it is left \
         untouched. {fix}",
        ctx.stack_tag_value()
    )
}

/// The usual way out for a foreign resource.
pub const FIX_CHOOSE_ANOTHER_NAME: &str =
    "Choose another project or stage in shopsmart.yaml, or delete or rename it yourself";

/// A read whose typed not-found error means "absent": `Ok(None)` then, the output otherwise.
pub fn found<T, E, R>(
    result: Result<T, SdkError<E, R>>,
    is_not_found: impl FnOnce(&E) -> bool,
) -> Result<Option<T>, SdkError<E, R>> {
    match result {
        Ok(output) => Ok(Some(output)),
        Err(err) if err.as_service_error().is_some_and(is_not_found) => Ok(None),
        Err(err) => Err(err),
    }
}

/// `found` for a not-found that the service models only as an error code (S3's `NoSuchTagSet`,
/// `NoSuchBucketPolicy`, ...).
pub fn found_code<T, E: ProvideErrorMetadata, R>(
    result: Result<T, SdkError<E, R>>,
    code: &str,
) -> Result<Option<T>, SdkError<E, R>> {
    found(result, |e| e.code() == Some(code))
}

/// The typed service error `E` somewhere in `err`'s chain (an AWS answer we wrapped with context).
pub fn service_error<E>(err: &anyhow::Error) -> Option<&E>
where
    E: std::error::Error + Send + Sync + 'static,
{
    err.chain()
        .find_map(|cause| cause.downcast_ref::<SdkError<E, HttpResponse>>())
        .and_then(SdkError::as_service_error)
}

/// A delete whose typed not-found error means "already gone": `Ok(true)` when it deleted, `Ok(false)` when
/// there was nothing left to delete.
pub fn deleted<T, E, R>(
    result: Result<T, SdkError<E, R>>,
    is_not_found: impl FnOnce(&E) -> bool,
) -> Result<bool, SdkError<E, R>> {
    found(result, is_not_found).map(|output| output.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_lambda::operation::delete_function::DeleteFunctionError;
    use aws_sdk_lambda::types::error::ResourceNotFoundException;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;

    fn service_error(err: DeleteFunctionError) -> SdkError<DeleteFunctionError, Response> {
        SdkError::service_error(
            err,
            Response::new(StatusCode::try_from(404).unwrap(), SdkBody::empty()),
        )
    }

    #[test]
    fn only_the_typed_not_found_means_gone() {
        let not_found = DeleteFunctionError::ResourceNotFoundException(
            ResourceNotFoundException::builder().build(),
        );
        let is_not_found = |e: &DeleteFunctionError| e.is_resource_not_found_exception();
        assert!(!deleted(Err::<(), _>(service_error(not_found)), is_not_found).unwrap());
        assert!(deleted(
            Ok::<_, SdkError<DeleteFunctionError, Response>>(()),
            is_not_found
        )
        .unwrap());
        // Another error, even one whose message says "not found", is passed on.
        let other = DeleteFunctionError::generic(
            aws_smithy_types::error::ErrorMetadata::builder()
                .code("ServiceException")
                .message("function not found")
                .build(),
        );
        assert!(deleted(Err::<(), _>(service_error(other)), is_not_found).is_err());
    }

    #[test]
    fn the_typed_error_stays_reachable_through_an_aws_answer() {
        use crate::aws_error::AwsContext;
        let meta = aws_smithy_types::error::ErrorMetadata::builder()
            .code("Throttling")
            .build();
        let answer = SdkError::service_error(
            DeleteFunctionError::generic(meta),
            Response::new(StatusCode::try_from(400).unwrap(), SdkBody::empty()),
        );
        let err = Err::<(), _>(answer).aws_context(|| "x").unwrap_err();
        let typed = super::service_error::<DeleteFunctionError>(&err);
        assert_eq!(typed.and_then(|e| e.code()), Some("Throttling"));
    }
}
