//! Whether a resource with our name is ours (it carries the stack tag), the one error that explains why a
//! foreign one is left untouched, and the typed "not found" handling every read and delete shares.

use std::collections::{BTreeMap, HashMap};

use aws_smithy_runtime_api::client::result::SdkError;

use super::Ctx;
use crate::change::FieldChange;
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

impl Ctx {
    /// The tags a resource should carry that are missing on it or have another value (extra tags stay).
    pub fn missing_tags(&self, live: &HashMap<String, String>) -> BTreeMap<String, String> {
        self.tags()
            .into_iter()
            .filter(|(key, value)| live.get(key) != Some(value))
            .collect()
    }
}

/// The plan line for `missing` tags: `tags: missing or different → key, key`; `None` when nothing is missing.
pub fn missing_tags_field(missing: &BTreeMap<String, String>) -> Option<FieldChange> {
    (!missing.is_empty()).then(|| {
        let keys: Vec<&str> = missing.keys().map(String::as_str).collect();
        FieldChange::new("tags", "missing or different", keys.join(", "))
    })
}

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
    fn missing_tags_lists_absent_and_different_keys_only() {
        let field = missing_tags_field(&BTreeMap::from([
            ("a".to_owned(), "1".to_owned()),
            ("b".to_owned(), "2".to_owned()),
        ]));
        assert_eq!(
            field,
            Some(FieldChange::new("tags", "missing or different", "a, b"))
        );
        assert_eq!(missing_tags_field(&BTreeMap::new()), None);
    }
}
