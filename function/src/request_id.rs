//! Gives every request an id (API Gateway's requestContext.requestId in Lambda, a fresh UUID locally),
//! runs the handler inside a tracing span carrying it (so a 500's log line names it) and returns it in
//! the `x-request-id` response header so a user can quote it.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use lambda_http::request::RequestContext;
use tracing::Instrument;

pub use crate::contract::REQUEST_ID_HEADER;

fn request_id_of(req: &Request) -> String {
    let from_api_gateway = match req.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(context)) => context.request_id.clone(),
        _ => None,
    };
    from_api_gateway
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

pub async fn with_request_id(req: Request, next: Next) -> Response {
    let request_id = request_id_of(&req);
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %req.method(),
        path = %req.uri().path()
    );
    let mut response = next.run(req).instrument(span.clone()).await;
    span.in_scope(|| tracing::info!(status = response.status().as_u16(), "answered"));
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}
