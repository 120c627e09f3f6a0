//! DynamoDB throttling: every route answers 503 `busy` with `Retry-After` (never 500, never a 409), within
//! the function's timeout, having written nothing; a throttled checkout retried with its Idempotency-Key
//! once the throttle lifts places exactly one order. Every error answer is `Cache-Control: no-store`.
//!
//! moto has no capacity and never throttles: the app's client goes through a test double
//! (support/test_http_client.rs, [`Throttle`]) that answers the chosen operations itself, in the shapes
//! DynamoDB documents, and passes every other request to moto. The app's client has the function's own retry
//! policy (`with_bounded_retries`), so the SDK retries the throttles exactly as it does in Lambda.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use serde_json::json;
use shopsmart_function::state::{with_bounded_retries, DYNAMODB_MAX_ATTEMPTS};

use crate::support::test_http_client::{Shape, TestHttpClient, Throttle};
use crate::support::{new_cart_id, sdk_config, Answer, Req, TestShop};

async fn throttled_shop() -> (TestShop, Throttle) {
    let throttle = Throttle::default();
    let config = sdk_config().await;
    let builder = aws_sdk_dynamodb::config::Builder::from(&config)
        .http_client(TestHttpClient::throttled_by(throttle.clone()));
    let client = Client::from_conf(with_bounded_retries(builder).build());
    (TestShop::with_app_client(client).await, throttle)
}

#[track_caller]
fn assert_busy(answer: &Answer) {
    answer.expect_error(503, "busy");
    assert_eq!(
        answer.headers["retry-after"], "1",
        "Retry-After in whole seconds"
    );
    assert_eq!(answer.headers["cache-control"], "no-store");
    let message = answer.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("busy") && message.contains("Try again in 1 s"),
        "{message}"
    );
}

#[tokio::test]
async fn every_route_answers_busy_when_dynamodb_throttles_after_the_sdks_retries() {
    let (shop, throttle) = throttled_shop().await;
    let cart = new_cart_id();
    shop.add(&cart, "mug", 1).await.expect(200);
    let order = shop
        .send(
            Req::post("/checkout")
                .cart(&cart)
                .header("idempotency-key", "k0"),
        )
        .await;
    let order_id = order.expect(201)["orderId"].as_str().unwrap().to_owned();
    shop.add(&cart, "tee", 1).await.expect(200);
    let before = shop.snapshot().await;

    // (operation throttled, documented shape, request): every route, every throttle code.
    let cases = [
        (
            "Scan",
            Shape::ProvisionedThroughputExceeded,
            Req::get("/products"),
        ),
        (
            "GetItem",
            Shape::ThrottlingException,
            Req::get("/products/mug"),
        ),
        (
            "Query",
            Shape::RequestLimitExceeded,
            Req::get("/cart").cart(&cart),
        ),
        (
            "BatchGetItem",
            Shape::ProvisionedThroughputExceeded,
            Req::post("/cart")
                .cart(&cart)
                .json(json!({"productId": "mug", "qty": 1})),
        ),
        (
            "UpdateItem",
            Shape::ProvisionedThroughputExceeded,
            Req::post("/cart")
                .cart(&cart)
                .json(json!({"productId": "mug", "qty": 1})),
        ),
        (
            "PutItem",
            Shape::RequestLimitExceeded,
            Req::put("/cart/mug").cart(&cart).json(json!({"qty": 3})),
        ),
        (
            "DeleteItem",
            Shape::ThrottlingException,
            Req::delete("/cart/tee").cart(&cart),
        ),
        (
            "TransactWriteItems",
            Shape::ProvisionedThroughputExceeded,
            Req::post("/checkout")
                .cart(&cart)
                .header("idempotency-key", "k1"),
        ),
        (
            "GetItem",
            Shape::ProvisionedThroughputExceeded,
            Req::get(&format!("/orders/{order_id}")).cart(&cart),
        ),
    ];
    for (operation, shape, request) in cases {
        throttle.off();
        throttle.on(operation, shape);
        let started = Instant::now();
        let answer = shop.send(request.clone()).await;
        let took = started.elapsed();
        assert_busy(&answer);
        // The SDK retried the throttle itself (standard mode), no more than the policy says.
        assert_eq!(
            throttle.take_answered(),
            vec![operation; DYNAMODB_MAX_ATTEMPTS as usize],
            "{request:?}"
        );
        // Backoffs of at most 100 + 200 ms: far inside the Lambda's 10 s.
        assert!(took < Duration::from_secs(3), "{request:?} took {took:?}");
    }
    throttle.off();
    assert_eq!(
        shop.snapshot().await,
        before,
        "a throttled request wrote something"
    );
}

#[tokio::test]
async fn a_transaction_cancelled_for_capacity_is_busy_and_the_retry_places_one_order() {
    let (shop, throttle) = throttled_shop().await;
    let cart = new_cart_id();
    shop.add(&cart, "mug", 2).await.expect(200);
    shop.add(&cart, "tee", 1).await.expect(200);
    let before = shop.snapshot().await;
    let checkout = || {
        Req::post("/checkout")
            .cart(&cart)
            .header("idempotency-key", "pay-1")
    };

    throttle.on("TransactWriteItems", Shape::TransactionThrottled);
    for _ in 0..2 {
        // Not insufficient_stock (409): the reason is ThrottlingError, the stock is there.
        assert_busy(&shop.send(checkout()).await);
    }
    // The SDK does not retry a cancelled transaction: one attempt each.
    assert_eq!(throttle.take_answered().len(), 2);
    assert_eq!(
        shop.snapshot().await,
        before,
        "nothing half-written: no order, stock and cart as they were"
    );

    throttle.off();
    let placed = shop.send(checkout()).await;
    let order_id = placed.expect(201)["orderId"].clone();
    let repeat = shop.send(checkout()).await;
    assert_eq!(repeat.expect(200)["orderId"], order_id);
    assert_eq!(shop.scan(&shop.tables.orders).await.len(), 1);
    assert_eq!((shop.stock("mug").await, shop.stock("tee").await), (8, 4));
    assert!(shop.scan(&shop.tables.carts).await.is_empty());
}

#[tokio::test]
async fn an_add_to_cart_retried_after_busy_counts_once() {
    let (shop, throttle) = throttled_shop().await;
    let cart = new_cart_id();
    let add = || {
        Req::post("/cart")
            .cart(&cart)
            .json(json!({"productId": "mug", "qty": 1}))
    };
    throttle.on("UpdateItem", Shape::ProvisionedThroughputExceeded);
    assert_busy(&shop.send(add()).await);
    throttle.off();
    let cart_view = shop.send(add()).await;
    assert_eq!(cart_view.expect(200)["lines"][0]["qty"], 1);
    // The answer after a write is computed, not read again: the write is the request's last DynamoDB call.
    assert_eq!(
        shop.send(Req::get("/cart").cart(&cart)).await.expect(200)["lines"][0]["qty"],
        1
    );
}

#[tokio::test]
async fn keys_left_unprocessed_after_every_round_are_busy() {
    let (shop, throttle) = throttled_shop().await;
    let cart = new_cart_id();
    shop.add(&cart, "mug", 1).await.expect(200);
    throttle.on("BatchGetItem", Shape::AllKeysUnprocessed);
    assert_busy(&shop.send(Req::get("/cart").cart(&cart)).await);
    assert_eq!(throttle.take_answered().len(), 5, "products.rs's rounds");
}

#[tokio::test]
async fn every_error_answer_is_no_store_and_a_success_is_not() {
    let (shop, throttle) = throttled_shop().await;
    let cart = new_cart_id();
    let oversized = "x".repeat(64 * 1024);
    let errors = [
        (Req::get("/nowhere"), 404),
        (Req::new("PATCH", "/cart"), 405),
        (Req::get("/cart").cart("not-a-uuid"), 400),
        (
            Req::post("/cart")
                .cart(&cart)
                .json(json!({"productId": "poster", "qty": 1})),
            409,
        ),
        (Req::post("/cart").cart(&cart).raw_json(oversized), 413),
    ];
    for (request, status) in errors {
        let answer = shop.send(request.clone()).await;
        assert_eq!(
            answer.status.as_u16(),
            status,
            "{request:?}: {}",
            answer.body
        );
        assert_eq!(answer.headers["cache-control"], "no-store", "{request:?}");
    }
    throttle.on("Scan", Shape::Validation);
    let internal = shop.send(Req::get("/products")).await;
    internal.expect_error(500, "internal");
    assert_eq!(internal.headers["cache-control"], "no-store");
    assert_eq!(
        throttle.take_answered().len(),
        1,
        "a validation error is not retried"
    );
    throttle.on("Scan", Shape::ThrottlingException);
    assert_busy(&shop.send(Req::get("/products")).await);
    throttle.off();
    let ok = shop.send(Req::get("/products")).await;
    ok.expect(200);
    assert!(ok.headers.get("cache-control").is_none());
}

/// Why a busy cart change wrote nothing: its write is its last DynamoDB call (the answer is the cart read
/// before it with the change applied), so a throttle can only strike before the write or on it.
#[tokio::test]
async fn a_cart_change_writes_last() {
    let counter = crate::support::CallCounter::default();
    let config = sdk_config().await;
    let builder = aws_sdk_dynamodb::config::Builder::from(&config).interceptor(counter.clone());
    let shop = TestShop::with_app_client(Client::from_conf(builder.build())).await;
    let cart = new_cart_id();
    shop.add(&cart, "tee", 1).await.expect(200);
    let changes = [
        (
            Req::post("/cart")
                .cart(&cart)
                .json(json!({"productId": "mug", "qty": 2})),
            "UpdateItem",
        ),
        (
            Req::put("/cart/mug").cart(&cart).json(json!({"qty": 3})),
            "PutItem",
        ),
        (
            Req::put("/cart/tee").cart(&cart).json(json!({"qty": 0})),
            "DeleteItem",
        ),
        (Req::delete("/cart/mug").cart(&cart), "DeleteItem"),
    ];
    let mut expected_lines = vec![
        json!([{"mug": 2}, {"tee": 1}]),
        json!([{"mug": 3}, {"tee": 1}]),
        json!([{"mug": 3}]),
        json!([]),
    ];
    expected_lines.reverse();
    for (request, write) in changes {
        counter.take();
        let answer = shop.send(request.clone()).await;
        let calls = counter.take();
        assert_eq!(
            calls.last().map(String::as_str),
            Some(write),
            "{request:?}: {calls:?}"
        );
        // The computed answer is the cart as stored.
        let lines = |body: &serde_json::Value| {
            json!(body["lines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| json!({l["productId"].as_str().unwrap(): l["qty"]}))
                .collect::<Vec<_>>())
        };
        let stored = shop.send(Req::get("/cart").cart(&cart)).await;
        assert_eq!(lines(answer.expect(200)), lines(stored.expect(200)));
        assert_eq!(lines(answer.expect(200)), expected_lines.pop().unwrap());
        assert_eq!(answer.body["totalCents"], stored.body["totalCents"]);
    }
}
