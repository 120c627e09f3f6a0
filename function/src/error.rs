//! The one error type every handler returns, rendered as
//! `{"error":{"code":"snake_case","message":"what is wrong and how to fix it"}}`. Every error answer carries
//! `Cache-Control: no-store` (see [`no_store_on_errors`]), so CloudFront never keeps one.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use axum::extract::Request;
use axum::http::header::{CACHE_CONTROL, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::contract::{BUSY_CODE, BUSY_RETRY_AFTER_SECONDS, DYNAMODB_THROTTLE_CODES};

#[derive(Debug)]
pub enum ApiError {
    /// The client sent something we cannot accept (4xx); the message tells them how to fix it.
    Client {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    /// DynamoDB throttled the request beyond the SDK's retries: 503 `busy` with `Retry-After`. Nothing the
    /// request would write was written, and repeating it is safe (logged as a warning, not an error).
    Busy(anyhow::Error),
    /// AWS (or data written by something other than this API) failed: 500, logged, details hidden.
    Internal(anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

/// DynamoDB's capacity was used up and a read still had keys left (`UnprocessedKeys`) after its retries,
/// or a transaction was cancelled with the reason `ThrottlingError`: answered like a throttle, 503 `busy`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Throttled(pub String);

impl ApiError {
    pub fn client(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Client {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::client(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::client(StatusCode::NOT_FOUND, code, message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::client(StatusCode::CONFLICT, code, message)
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::client(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }
}

/// The error code DynamoDB answered, when `cause` is one of the SDK errors of the calls this API makes.
fn dynamodb_code<'a>(cause: &'a (dyn std::error::Error + 'static)) -> Option<&'a str> {
    use aws_sdk_dynamodb::operation as op;
    macro_rules! first_code {
        ($($error:ty),+ $(,)?) => {
            None$(.or_else(|| cause.downcast_ref::<SdkError<$error, HttpResponse>>().and_then(|e| e.code())))+
        };
    }
    first_code!(
        op::scan::ScanError,
        op::get_item::GetItemError,
        op::query::QueryError,
        op::batch_get_item::BatchGetItemError,
        op::update_item::UpdateItemError,
        op::put_item::PutItemError,
        op::delete_item::DeleteItemError,
        op::transact_write_items::TransactWriteItemsError,
    )
}

/// Whether anything in the error's chain is DynamoDB throttling the request.
pub fn is_throttle(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause.is::<Throttled>()
            || dynamodb_code(cause).is_some_and(|code| DYNAMODB_THROTTLE_CODES.contains(&code))
    })
}

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> Self {
        if is_throttle(&err) {
            ApiError::Busy(err)
        } else {
            ApiError::Internal(err)
        }
    }
}

pub fn error_body(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}

/// Middleware: every error answer (4xx, 5xx, also axum's own) is `Cache-Control: no-store`, so a cache in
/// front of the API (CloudFront with `website.https`) never serves an error to the next shopper.
pub async fn no_store_on_errors(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let status = response.status();
    if status.is_client_error() || status.is_server_error() {
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Client {
                status,
                code,
                message,
            } => error_body(status, code, &message),
            ApiError::Busy(err) => {
                tracing::warn!(error = format!("{err:#}"), "DynamoDB throttled the request");
                let mut response = error_body(
                    StatusCode::SERVICE_UNAVAILABLE,
                    BUSY_CODE,
                    &format!(
                        "The shop is busy: its DynamoDB tables are using all the read or write capacity they are \
                         provisioned with, and DynamoDB throttled this request. Nothing was changed. Try again in \
                         {BUSY_RETRY_AFTER_SECONDS} s (repeating the request is safe); the shop's owner can raise \
                         the tables' capacity in shopsmart.yaml."
                    ),
                );
                response
                    .headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(BUSY_RETRY_AFTER_SECONDS));
                response
            }
            ApiError::Internal(err) => {
                // Runs inside the request span (see request_id.rs), so the log line carries the request id.
                tracing::error!(error = format!("{err:#}"), "request failed inside AWS");
                error_body(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "The shop could not complete the request because a backend call failed. Try again; \
                     if it keeps failing, report the x-request-id response header.",
                )
            }
        }
    }
}
