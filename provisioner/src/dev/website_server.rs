//! Serves the website for `dev` the way an S3 static website does: every response is the object stored in
//! the (emulated) bucket, with its Content-Type and Cache-Control; a directory path gets the index document;
//! a missing key gets the error document with status 404.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;

#[derive(Clone)]
pub struct Website {
    pub s3: aws_sdk_s3::Client,
    pub bucket: String,
    pub index_document: String,
    pub error_document: String,
    pub requests: Arc<AtomicU64>,
}

pub fn router(website: Website) -> Router {
    Router::new().fallback(serve_object).with_state(website)
}

/// The object key a request path maps to, as the S3 website endpoint maps it.
pub fn object_key(path: &str, index_document: &str) -> String {
    let key = percent_encoding::percent_decode_str(path.trim_start_matches('/'))
        .decode_utf8_lossy()
        .into_owned();
    if key.is_empty() || key.ends_with('/') {
        format!("{key}{index_document}")
    } else {
        key
    }
}

async fn serve_object(State(website): State<Website>, method: Method, uri: Uri) -> Response {
    website.requests.fetch_add(1, Ordering::Relaxed);
    if method != Method::GET && method != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            "the website serves GET and HEAD only",
        )
            .into_response();
    }
    let key = object_key(uri.path(), &website.index_document);
    match fetch(&website, &key).await {
        Ok(Some(response)) => response,
        Ok(None) => match fetch(&website, &website.error_document).await {
            Ok(Some(mut response)) => {
                *response.status_mut() = StatusCode::NOT_FOUND;
                response
            }
            Ok(None) => (
                StatusCode::NOT_FOUND,
                format!("no object {key} in bucket {}", website.bucket),
            )
                .into_response(),
            Err(message) => (StatusCode::BAD_GATEWAY, message).into_response(),
        },
        Err(message) => (StatusCode::BAD_GATEWAY, message).into_response(),
    }
}

/// `Ok(None)` when the bucket has no such key.
async fn fetch(website: &Website, key: &str) -> Result<Option<Response>, String> {
    let object = match website
        .s3
        .get_object()
        .bucket(&website.bucket)
        .key(key)
        .send()
        .await
    {
        Ok(object) => object,
        Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => return Ok(None),
        Err(err) => {
            return Err(format!(
                "reading S3 object ({}/{key}) from the emulator failed: {}",
                website.bucket,
                crate::aws_error::AwsError::new(err)
            ))
        }
    };
    let content_type = object
        .content_type()
        .unwrap_or("application/octet-stream")
        .to_owned();
    let cache_control = object.cache_control().map(str::to_owned);
    let bytes = object
        .body
        .collect()
        .await
        .map_err(|err| format!("reading S3 object body ({}/{key}): {err}", website.bucket))?
        .into_bytes();
    let mut response = Response::builder().header(header::CONTENT_TYPE, content_type);
    if let Some(cache_control) = cache_control {
        response = response.header(header::CACHE_CONTROL, cache_control);
    }
    Ok(Some(
        response
            .body(Body::from(bytes))
            .expect("static headers are valid"),
    ))
}

#[cfg(test)]
mod tests {
    use super::object_key;

    #[test]
    fn maps_paths_like_the_s3_website_endpoint() {
        assert_eq!(object_key("/", "index.html"), "index.html");
        assert_eq!(object_key("/js/app.js", "index.html"), "js/app.js");
        assert_eq!(object_key("/docs/", "index.html"), "docs/index.html");
        assert_eq!(object_key("/a%20b.svg", "index.html"), "a b.svg");
    }
}
