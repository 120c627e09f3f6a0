//! The ShopSmart API: one axum router, run by `lambda_http` in AWS and by plain HTTP locally (main.rs).

pub mod cart;
pub mod cart_id;
pub mod checkout;
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
use axum::routing::{get, post, put};
use axum::Router;

pub use state::{AppState, TableNames};

use error::error_body;
use json_body::MAX_BODY_BYTES;

pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/products", get(products::list_products))
        .route("/products/{productId}", get(products::get_product))
        .route("/cart", get(cart::get_cart).post(cart::add_to_cart))
        .route(
            "/cart/{productId}",
            put(cart::set_quantity).delete(cart::remove_line),
        )
        .route("/checkout", post(checkout::checkout))
        .route("/orders/{orderId}", get(orders::get_order))
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(request_id::with_request_id))
        .with_state(state)
}

async fn unknown_route() -> Response {
    error_body(
        StatusCode::NOT_FOUND,
        "not_found",
        "No such route. The API serves /products, /products/{productId}, /cart, /cart/{productId}, \
         /checkout and /orders/{orderId}.",
    )
}

async fn wrong_method() -> Response {
    error_body(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This route exists but not with this HTTP method. See the API contract in the README.",
    )
}
