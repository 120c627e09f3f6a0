//! Real API Gateway HTTP API (payload format 2.0) events, fed through lambda_http into the router — both
//! the request conversion alone (`lambda_http::request::from_str`) and the whole adapter `lambda_http::run`
//! uses, whose answer is serialized exactly as the Lambda runtime would send it back to API Gateway.

use crate::support::{new_cart_id, Answer, TestShop};
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Context, LambdaEvent};
use serde_json::Value;
use tower::ServiceExt;

fn fixture(name: &str, cart_id: &str) -> String {
    let path = format!(
        "{}/tests/it/fixtures/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {path}: {e}"))
        .replace("__CART_ID__", cart_id)
}

/// Path 1: event JSON → http::Request (lambda_http) → router.
async fn via_request(shop: &TestShop, name: &str, cart_id: &str) -> Answer {
    let request =
        lambda_http::request::from_str(&fixture(name, cart_id)).expect("a valid v2 event");
    Answer::read(shop.router.clone().oneshot(request).await.unwrap()).await
}

/// Path 2: event JSON → the Lambda adapter → the JSON API Gateway receives.
async fn via_adapter(shop: &TestShop, name: &str, cart_id: &str) -> Value {
    let event: LambdaRequest =
        serde_json::from_str(&fixture(name, cart_id)).expect("a valid v2 event");
    let adapter = Adapter::from(shop.router.clone());
    let response = adapter
        .oneshot(LambdaEvent::new(event, Context::default()))
        .await
        .unwrap();
    serde_json::to_value(&response).unwrap()
}

fn body_of(gateway_response: &Value) -> Value {
    assert_eq!(
        gateway_response["isBase64Encoded"], false,
        "{gateway_response}"
    );
    serde_json::from_str(gateway_response["body"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn api_gateway_events_drive_every_kind_of_route() {
    let shop = TestShop::new().await;
    let cart = new_cart_id();

    let products = via_request(&shop, "apigw-v2-get-products", &cart).await;
    let page = products.expect(200);
    assert_eq!(
        page["products"].as_array().unwrap().len(),
        2,
        "limit=2 from rawQueryString"
    );
    assert!(page["nextCursor"].is_string());
    // The request id comes from requestContext.requestId, so logs and the user's report match AWS's.
    assert_eq!(products.headers["x-request-id"], "CsKz4hXpIAMEb2Q=");

    let added = via_adapter(&shop, "apigw-v2-post-cart", &cart).await;
    assert_eq!(added["statusCode"], 200, "{added}");
    assert_eq!(added["headers"]["content-type"], "application/json");
    assert_eq!(added["headers"]["x-request-id"], "CsKz9jQvIAMEbYw=");
    let cart_body = body_of(&added);
    assert_eq!(cart_body["cartId"], cart);
    assert_eq!(cart_body["lines"][0]["qty"], 2);

    // A base64-encoded body (API Gateway does this for some clients) is decoded before parsing.
    let set = via_adapter(&shop, "apigw-v2-put-cart-base64", &cart).await;
    assert_eq!(set["statusCode"], 200, "{set}");
    assert_eq!(body_of(&set)["totalCents"], 3 * 1299);

    let bad = via_adapter(&shop, "apigw-v2-bad-json", &cart).await;
    assert_eq!(bad["statusCode"], 400);
    assert_eq!(body_of(&bad)["error"]["code"], "invalid_json");

    let unknown = via_adapter(&shop, "apigw-v2-unknown-route", &cart).await;
    assert_eq!(unknown["statusCode"], 404);
    assert_eq!(body_of(&unknown)["error"]["code"], "not_found");

    let placed = via_adapter(&shop, "apigw-v2-post-checkout", &cart).await;
    assert_eq!(placed["statusCode"], 201, "{placed}");
    let order = body_of(&placed);
    assert_eq!(order["totalCents"], 3 * 1299);
    assert_eq!(order["status"], "PLACED");
    // API Gateway retries and double clicks replay the same event: same order, 200.
    let replayed = via_adapter(&shop, "apigw-v2-post-checkout", &cart).await;
    assert_eq!(replayed["statusCode"], 200, "{replayed}");
    assert_eq!(body_of(&replayed)["orderId"], order["orderId"]);
    assert_eq!(shop.scan(&shop.tables.orders).await.len(), 1);
    assert_eq!(shop.stock("mug").await, 7);

    // A missing cart id in a real event is a 400 as well.
    let no_cart = via_request(&shop, "apigw-v2-post-checkout", "").await;
    no_cart.expect_error(400, "invalid_cart_id");
}

/// `website.https`: CloudFront forwards `/api/products` unchanged through the HTTP API's `ANY /api/{proxy+}`
/// route; the function serves its routes under `/api` too.
#[tokio::test]
async fn the_cloudfront_prefix_reaches_the_same_routes() {
    let shop = TestShop::new().await;
    let event = fixture("apigw-v2-get-products", &new_cart_id())
        .replace("\"/products\"", "\"/api/products\"")
        .replace(
            "\"routeKey\": \"$default\"",
            "\"routeKey\": \"ANY /api/{proxy+}\"",
        );
    let request = lambda_http::request::from_str(&event).expect("a valid v2 event");
    let answer = Answer::read(shop.router.clone().oneshot(request).await.unwrap()).await;
    assert_eq!(answer.expect(200)["products"].as_array().unwrap().len(), 2);
}
