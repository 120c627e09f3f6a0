//! `JsonBody<T>`: axum's `Json` with every rejection turned into our error shape and a code a client can
//! act on (syntax → 400, wrong types → 422, wrong content type → 415, too big → 413).

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::Json;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Request bodies are small JSON objects; anything larger is a mistake or an attack.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err(map_rejection(rejection)),
        }
    }
}

fn map_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonSyntaxError(err) => ApiError::bad_request(
            "invalid_json",
            format!("The request body is not valid JSON ({}). Send a JSON object.", err.body_text()),
        ),
        JsonRejection::JsonDataError(err) => ApiError::unprocessable(
            "invalid_body",
            format!(
                "The JSON body has a missing or wrongly typed field: {}. Quantities are whole numbers and \
                 productId is a string.",
                err.body_text()
            ),
        ),
        JsonRejection::MissingJsonContentType(_) => ApiError::client(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the body as JSON with the header Content-Type: application/json.",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::client(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("The request body is larger than {MAX_BODY_BYTES} bytes; send a smaller JSON object."),
        ),
        other => ApiError::bad_request(
            "invalid_body",
            format!("The request body could not be read ({}).", other.body_text()),
        ),
    }
}
