//! Serves the website for `dev` the way an S3 static website does: every response is the object stored in
//! the (emulated) bucket, with its Content-Type and Cache-Control; a directory path gets the index document;
//! a missing key gets the error document with status 404. With `website.https` it stands in for CloudFront
//! in front of the private bucket instead: `/api/*` goes to the local API on the same origin, as the
//! distribution's `/api/*` behavior sends it to the HTTP API (method, path, query, body and every header but
//! Host); a missing key is the private bucket's 403; and the distribution's own custom error responses
//! ([`crate::resources::cdn_config::error_pages`], the same list `up` writes) apply to every answer, the API's included, as
//! CloudFront applies them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::resources::cdn_config::ErrorPage;

#[derive(Clone)]
pub struct Website {
    pub s3: aws_sdk_s3::Client,
    pub bucket: String,
    pub index_document: String,
    pub error_document: String,
    pub requests: Arc<AtomicU64>,
    /// With `website.https`: where `/api/*` goes.
    pub api: Option<ApiProxy>,
    /// With `website.https`: the distribution's custom error responses (empty without it).
    pub error_pages: Vec<ErrorPage>,
}

/// The local API behind `/api/*` on the website's origin.
#[derive(Clone)]
pub struct ApiProxy {
    /// `http://127.0.0.1:PORT`
    origin: String,
    client: Client<HttpConnector, Body>,
}

impl ApiProxy {
    pub fn new(origin: &str) -> Self {
        Self {
            origin: origin.trim_end_matches('/').to_owned(),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }
}

pub fn router(website: Website) -> Router {
    Router::new().fallback(serve).with_state(website)
}

/// Whether CloudFront's `/api/*` behavior takes `path`.
pub fn is_api_path(path: &str) -> bool {
    path.strip_prefix(shopsmart_function::contract::CLOUDFRONT_PREFIX)
        .is_some_and(|rest| rest.starts_with('/'))
}

async fn serve(State(website): State<Website>, request: Request) -> Response {
    let answer = match &website.api {
        Some(api) if is_api_path(request.uri().path()) => proxy(api, request).await,
        _ => {
            let (method, uri) = (request.method().clone(), request.uri().clone());
            serve_object(&website, method, uri).await
        }
    };
    with_error_page(&website, answer).await
}

/// CloudFront's custom error responses: an origin's answer whose status has an error page is replaced by
/// that page (an object of the bucket) with the page's status, whichever origin answered.
async fn with_error_page(website: &Website, answer: Response) -> Response {
    let status = answer.status().as_u16();
    let Some(page) = website.error_pages.iter().find(|p| p.error_code == status) else {
        return answer;
    };
    let key = page.page.trim_start_matches('/');
    match fetch(website, key).await {
        Ok(Some(mut response)) => {
            *response.status_mut() =
                StatusCode::from_u16(page.response_code).unwrap_or(StatusCode::NOT_FOUND);
            response
        }
        Ok(None) => answer,
        Err(message) => (StatusCode::BAD_GATEWAY, message).into_response(),
    }
}

/// The request to the local API, unchanged but for its Host; its answer as it came.
async fn proxy(api: &ApiProxy, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    parts.uri = match format!("{}{path}", api.origin).parse() {
        Ok(uri) => uri,
        Err(err) => {
            return (StatusCode::BAD_REQUEST, format!("bad path {path}: {err}")).into_response()
        }
    };
    parts.headers.remove(header::HOST);
    match api.client.request(Request::from_parts(parts, body)).await {
        Ok(answer) => answer.map(Body::new),
        Err(err) => (
            StatusCode::BAD_GATEWAY,
            format!("the local API ({}) did not answer: {err}", api.origin),
        )
            .into_response(),
    }
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

async fn serve_object(website: &Website, method: Method, uri: Uri) -> Response {
    website.requests.fetch_add(1, Ordering::Relaxed);
    if method != Method::GET && method != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            "the website serves GET and HEAD only",
        )
            .into_response();
    }
    let key = object_key(uri.path(), &website.index_document);
    match fetch(website, &key).await {
        Ok(Some(response)) => response,
        // The private bucket behind CloudFront: the OAC may not list it, so S3 answers 403 for a missing key.
        Ok(None) if website.api.is_some() => (
            StatusCode::FORBIDDEN,
            format!("AccessDenied: no object {key} in the private bucket"),
        )
            .into_response(),
        Ok(None) => match fetch(website, &website.error_document).await {
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
    use super::{is_api_path, object_key};

    #[test]
    fn only_paths_under_api_go_to_the_api() {
        assert!(is_api_path("/api/products"));
        assert!(is_api_path("/api/"));
        assert!(!is_api_path("/api"));
        assert!(!is_api_path("/apish/x"));
        assert!(!is_api_path("/index.html"));
    }

    #[test]
    fn maps_paths_like_the_s3_website_endpoint() {
        assert_eq!(object_key("/", "index.html"), "index.html");
        assert_eq!(object_key("/js/app.js", "index.html"), "js/app.js");
        assert_eq!(object_key("/docs/", "index.html"), "docs/index.html");
        assert_eq!(object_key("/a%20b.svg", "index.html"), "a b.svg");
    }
}
