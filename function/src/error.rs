//! The one error type every handler returns, rendered as
//! `{"error":{"code":"snake_case","message":"what is wrong and how to fix it"}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

#[derive(Debug)]
pub enum ApiError {
    /// The client sent something we cannot accept (4xx); the message tells them how to fix it.
    Client {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    /// AWS (or data written by something other than this API) failed: 500, logged, details hidden.
    Internal(anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

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

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> Self {
        ApiError::Internal(err)
    }
}

pub fn error_body(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Client {
                status,
                code,
                message,
            } => error_body(status, code, &message),
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
