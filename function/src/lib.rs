//! The ShopSmart API: one axum router, run by `lambda_http` in AWS and by plain HTTP locally (main.rs).

pub mod cart;
pub mod cart_id;
pub mod checkout;
pub mod contract;
pub mod cursor;
pub mod error;
pub mod idempotency;
pub mod item;
pub mod json_body;
pub mod local_mode;
pub mod logging;
pub mod money;
pub mod orders;
pub mod product_id;
pub mod products;
pub mod request_id;
pub mod state;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get, post, put, MethodRouter};
use axum::Router;

pub use state::{AppState, TableNames};

use error::error_body;
use json_body::MAX_BODY_BYTES;

/// The API: exactly the routes of [`contract::ROUTES`], each with its handler, also under
/// [`contract::CLOUDFRONT_PREFIX`] (CloudFront forwards `/api/products` unchanged with `website.https`).
pub fn app(state: AppState) -> Router {
    contract::ROUTES
        .iter()
        .fold(Router::new(), |router, &(method, path)| {
            let prefixed = format!("{}{path}", contract::CLOUDFRONT_PREFIX);
            router
                .route(path, handler(method, path))
                .route(&prefixed, handler(method, path))
        })
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(error::no_store_on_errors))
        .layer(axum::middleware::from_fn(request_id::with_request_id))
        .with_state(state)
}

/// The handler of one route of [`contract::ROUTES`] (axum merges the methods of one path).
fn handler(method: &str, path: &str) -> MethodRouter<AppState> {
    match (method, path) {
        ("GET", "/products") => get(products::list_products),
        ("GET", "/products/{productId}") => get(products::get_product),
        ("GET", "/cart") => get(cart::get_cart),
        ("POST", "/cart") => post(cart::add_to_cart),
        ("PUT", "/cart/{productId}") => put(cart::set_quantity),
        ("DELETE", "/cart/{productId}") => delete(cart::remove_line),
        ("POST", "/checkout") => post(checkout::checkout),
        ("GET", "/orders/{orderId}") => get(orders::get_order),
        _ => panic!("contract::ROUTES lists `{method} {path}` but lib.rs has no handler for it"),
    }
}

/// The contract's paths, each once, in order, as prose (e.g. "/products, /cart and /checkout").
fn served_paths() -> String {
    let mut paths: Vec<&str> = Vec::new();
    for &(_, path) in contract::ROUTES {
        if !paths.contains(&path) {
            paths.push(path);
        }
    }
    match paths.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

async fn unknown_route() -> Response {
    error_body(
        StatusCode::NOT_FOUND,
        "not_found",
        &format!("No such route. The API serves {}.", served_paths()),
    )
}

async fn wrong_method() -> Response {
    error_body(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This route exists but not with this HTTP method. See the API contract in the README.",
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_unknown_route_message_names_every_path_once() {
        assert_eq!(
            super::served_paths(),
            "/products, /products/{productId}, /cart, /cart/{productId}, /checkout and /orders/{orderId}"
        );
    }
}
