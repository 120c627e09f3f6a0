//! The values the rest of the shop must agree with, in one place: the provisioner (API Gateway routes and
//! CORS, the function's environment, `dev`'s local API), the storefront and the tests.
//!
//! The function itself is built from them: `app()` serves exactly [`ROUTES`], local mode's CORS layer
//! answers with [`CORS_ALLOW_METHODS`], [`CORS_ALLOW_HEADERS`] and [`CORS_EXPOSE_HEADERS`], and the
//! configuration is read through the `*_ENV` names.

/// Declares [`ROUTES`] and [`ROUTE_KEYS`] from one list, so the two forms cannot drift apart.
macro_rules! routes {
    ($(($method:literal, $path:literal)),+ $(,)?) => {
        /// Every route the API serves, as (HTTP method, path). Path parameters are written `{name}`, the
        /// syntax of both axum 0.8 and API Gateway route keys.
        pub const ROUTES: &[(&str, &str)] = &[$(($method, $path)),+];

        /// [`ROUTES`] as API Gateway HTTP API route keys (`METHOD /path`, e.g. `GET /products/{productId}`),
        /// in the same order.
        pub const ROUTE_KEYS: [&str; ROUTES.len()] = [$(concat!($method, " ", $path)),+];
    };
}

routes![
    ("GET", "/products"),
    ("GET", "/products/{productId}"),
    ("GET", "/cart"),
    ("POST", "/cart"),
    ("PUT", "/cart/{productId}"),
    ("DELETE", "/cart/{productId}"),
    ("POST", "/checkout"),
    ("GET", "/orders/{orderId}"),
];

/// The path prefix under which CloudFront (`website.https: true`) sends the API's requests.
pub const CLOUDFRONT_PREFIX: &str = "/api";

/// The request header naming the shopper's cart (a UUID v4 the browser keeps).
pub const CART_ID_HEADER: &str = "x-cart-id";
/// The request header that makes a checkout safe to repeat.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
/// The response header carrying the request's id, for the shopper to quote.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The Products attribute that takes a product off sale when `false` (missing: on sale). The deployer sets
/// it; the API then neither lists nor sells the product.
pub const ON_SALE_ATTRIBUTE: &str = "onSale";

/// The methods a browser may use cross-origin: those of [`ROUTES`] plus the preflight's OPTIONS.
pub const CORS_ALLOW_METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "OPTIONS"];
/// The request headers a browser may send cross-origin (lower case, as HTTP/2 and API Gateway write them).
pub const CORS_ALLOW_HEADERS: [&str; 3] = ["content-type", CART_ID_HEADER, IDEMPOTENCY_KEY_HEADER];
/// The response headers a browser script may read cross-origin (`retry-after`: how long a `busy` answer
/// asks the storefront to wait).
pub const CORS_EXPOSE_HEADERS: [&str; 2] = [REQUEST_ID_HEADER, "retry-after"];

/// The error code of a request DynamoDB throttled (503, with `Retry-After`): the shop is busy, not broken.
pub const BUSY_CODE: &str = "busy";
/// The `Retry-After` of a `busy` answer, in whole seconds: DynamoDB refills provisioned capacity every
/// second, so one second later the request usually fits (the storefront retries by itself after it).
pub const BUSY_RETRY_AFTER_SECONDS: u32 = 1;
/// DynamoDB's error codes for a throttled request (HTTP 400, JSON `__type` `...#CODE`; the SDK retries them
/// itself first). A transaction cancelled for want of capacity is `TransactionCanceledException` with the
/// reason code `ThrottlingError` (checkout.rs).
pub const DYNAMODB_THROTTLE_CODES: [&str; 3] = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
];

/// Environment variable: the DynamoDB table of products.
pub const PRODUCTS_TABLE_ENV: &str = "PRODUCTS_TABLE";
/// Environment variable: the DynamoDB table of cart lines.
pub const CARTS_TABLE_ENV: &str = "CARTS_TABLE";
/// Environment variable: the DynamoDB table of orders.
pub const ORDERS_TABLE_ENV: &str = "ORDERS_TABLE";
/// Environment variable: the comma-separated origins local mode allows (`scheme://host[:port]` each).
pub const CORS_ORIGINS_ENV: &str = "CORS_ORIGINS";
/// Environment variable: the TCP port local mode listens on (0 picks a free one).
pub const PORT_ENV: &str = "PORT";

/// DynamoDB capacity units on each of the three tables.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableUnits {
    pub products: u32,
    pub carts: u32,
    pub orders: u32,
}

/// What one request of a route consumes of the tables' provisioned capacity. Reads are counted in HALF
/// units: an eventually consistent read of up to 4 KB is half a read capacity unit (RCU), a strongly
/// consistent one a whole unit; a write of up to 1 KB is one write capacity unit (WCU), inside a transaction
/// two.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteCapacity {
    /// The route as an API Gateway route key (one of [`ROUTE_KEYS`]).
    pub route: &'static str,
    pub half_read_units: TableUnits,
    pub write_units: TableUnits,
}

/// Measured, not guessed: function/tests/it/capacity.rs replays each route against moto with the catalogue of
/// shopsmart.yaml, records every DynamoDB call the function makes and every item it reads or writes, and
/// prices them by DynamoDB's documented rules (item sizes rounded up to 4 KB per read, 1 KB per write; moto's
/// own ConsumedCapacity does not follow them). It fails when these figures and the measurement disagree.
pub mod capacity {
    use super::{RouteCapacity, TableUnits};

    const NONE: TableUnits = TableUnits {
        products: 0,
        carts: 0,
        orders: 0,
    };

    /// A page view: the storefront's catalogue page, `GET /products?limit=50` (one eventually consistent
    /// Scan; the 8 products of shopsmart.yaml are about 2 KB, under the 4 KB of half a unit).
    pub const PAGE_VIEW: RouteCapacity = RouteCapacity {
        route: "GET /products",
        half_read_units: TableUnits {
            products: 1,
            ..NONE
        },
        write_units: NONE,
    };

    /// Adding a product to a cart: a consistent Query of the cart, an eventually consistent BatchGetItem of
    /// its products (here: the one product of a new cart's first line) and one UpdateItem of the cart line.
    pub const ADD_TO_CART: RouteCapacity = RouteCapacity {
        route: "POST /cart",
        half_read_units: TableUnits {
            products: 1,
            carts: 2,
            orders: 0,
        },
        write_units: TableUnits { carts: 1, ..NONE },
    };

    /// A checkout of a one-line cart: a consistent Query of the cart and BatchGetItem of its product, then
    /// ONE transaction (2 WCU per item per KB): the order Put, the stock Update, the cart line Delete.
    pub const CHECKOUT: RouteCapacity = RouteCapacity {
        route: "POST /checkout",
        half_read_units: TableUnits {
            products: 2,
            carts: 2,
            orders: 0,
        },
        write_units: TableUnits {
            products: 2,
            carts: 2,
            orders: 2,
        },
    };

    /// Each further line of a checkout: one more product read, one more stock Update and cart line Delete in
    /// the transaction (the order item grows about 150 bytes a line: 2 more WCU on orders per KB it passes).
    pub const CHECKOUT_EXTRA_LINE: RouteCapacity = RouteCapacity {
        route: "POST /checkout",
        half_read_units: TableUnits {
            products: 2,
            ..NONE
        },
        write_units: TableUnits {
            products: 2,
            carts: 2,
            orders: 0,
        },
    };

    /// DynamoDB keeps up to 300 seconds of a table's unused capacity for bursts.
    pub const BURST_SECONDS: u32 = 300;
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::time::Duration;

    use aws_sdk_dynamodb::config::retry::RetryConfig;
    use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;
    use crate::{app, AppState, TableNames};

    /// The router with a DynamoDB client that fails at once (nothing listens on the discard port, no
    /// retries): a route that reaches DynamoDB answers 500, which still shows the route is served.
    fn app_without_aws() -> axum::Router {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("unused", "unused", None, None, "test"))
            .endpoint_url("http://127.0.0.1:9")
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(2))
                    .build(),
            )
            .build();
        let tables = TableNames {
            products: "p".into(),
            carts: "c".into(),
            orders: "o".into(),
        };
        app(AppState::new(
            aws_sdk_dynamodb::Client::from_conf(config),
            tables,
        ))
    }

    /// Status and error code of one request (the code is empty when the body is not an API error).
    async fn answer(method: &str, path: &str) -> (StatusCode, String) {
        // Any value works for a path parameter: the router matches the route before a handler checks it.
        let uri = path
            .replace("{productId}", "mug")
            .replace("{orderId}", "0190a0c4-7b4e-7c3a-9d2e-1f2a3b4c5d6e");
        let request = Request::builder()
            .method(method)
            .uri(&uri)
            .body(Body::empty())
            .unwrap();
        let response = app_without_aws().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let code = body["error"]["code"].as_str().unwrap_or("").to_owned();
        (status, code)
    }

    #[tokio::test]
    async fn the_router_serves_every_contract_route_and_no_other_method_on_its_paths() {
        for &(method, path) in ROUTES {
            let (status, code) = answer(method, path).await;
            assert!(
                code != "not_found" && code != "method_not_allowed",
                "contract route `{method} {path}` is not served: {status} {code}"
            );
        }
        let paths: BTreeSet<&str> = ROUTES.iter().map(|&(_, path)| path).collect();
        for path in paths {
            for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
                if ROUTES.contains(&(method, path)) {
                    continue;
                }
                let (status, code) = answer(method, path).await;
                assert_eq!(
                    (status, code.as_str()),
                    (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
                    "`{method} {path}` is served but not in contract::ROUTES"
                );
            }
        }
    }

    #[test]
    fn route_keys_are_the_routes_in_api_gateway_form() {
        let expected: Vec<String> = ROUTES
            .iter()
            .map(|(method, path)| format!("{method} {path}"))
            .collect();
        assert_eq!(ROUTE_KEYS.to_vec(), expected);
        assert!(ROUTE_KEYS.contains(&"GET /products/{productId}"));
    }

    #[test]
    fn cors_allows_the_routes_methods_and_the_preflight() {
        let mut from_routes: BTreeSet<&str> = ROUTES.iter().map(|&(method, _)| method).collect();
        from_routes.insert("OPTIONS");
        assert_eq!(
            CORS_ALLOW_METHODS.into_iter().collect::<BTreeSet<_>>(),
            from_routes
        );
        for header in CORS_ALLOW_HEADERS.iter().chain(&CORS_EXPOSE_HEADERS) {
            assert_eq!(
                *header,
                header.to_lowercase(),
                "header names are lower case"
            );
        }
    }
}
