//! A table of bad requests: each gets the right 4xx and error code, and no table changes at all.

use crate::support::{new_cart_id, Req, TestShop};
use serde_json::json;

#[tokio::test]
async fn bad_requests_get_a_clear_4xx_and_change_nothing() {
    let shop = TestShop::new().await;
    let cart = new_cart_id();
    let buyer = new_cart_id();
    shop.add(&cart, "mug", 2).await.expect(200);
    shop.add(&buyer, "tee", 1).await.expect(200);
    let order = shop
        .send(Req::post("/checkout").cart(&buyer))
        .await
        .expect(201)
        .clone();
    let buyers_order = format!("/orders/{}", order["orderId"].as_str().unwrap());
    let empty_cart = new_cart_id();
    let v7_cart = uuid::Uuid::now_v7().to_string();
    let add = |body: &str| Req::post("/cart").cart(&cart).raw_json(body);
    let put = |body: &str| Req::put("/cart/mug").cart(&cart).raw_json(body);

    let cases: Vec<(&str, Req, u16, &str)> = vec![
        (
            "truncated JSON",
            add(r#"{"productId":"mug","#),
            400,
            "invalid_json",
        ),
        ("not JSON", add("productId=mug&qty=1"), 400, "invalid_json"),
        ("empty body", add(""), 400, "invalid_json"),
        (
            "qty as string",
            add(r#"{"productId":"mug","qty":"2"}"#),
            422,
            "invalid_body",
        ),
        (
            "fractional qty",
            add(r#"{"productId":"mug","qty":1.5}"#),
            422,
            "invalid_body",
        ),
        (
            "negative qty",
            add(r#"{"productId":"mug","qty":-1}"#),
            422,
            "quantity_out_of_range",
        ),
        (
            "zero qty",
            add(r#"{"productId":"mug","qty":0}"#),
            422,
            "quantity_out_of_range",
        ),
        (
            "qty over 99",
            add(r#"{"productId":"mug","qty":100}"#),
            422,
            "quantity_out_of_range",
        ),
        (
            "line over 99 after adding",
            add(r#"{"productId":"mug","qty":98}"#),
            422,
            "quantity_out_of_range",
        ),
        (
            "huge qty",
            add(r#"{"productId":"mug","qty":99999999999999999999999}"#),
            422,
            "invalid_body",
        ),
        (
            "exponent qty",
            add(r#"{"productId":"mug","qty":1e30}"#),
            422,
            "invalid_body",
        ),
        (
            "missing qty",
            add(r#"{"productId":"mug"}"#),
            422,
            "invalid_body",
        ),
        (
            "numeric productId",
            add(r#"{"productId":7,"qty":1}"#),
            422,
            "invalid_body",
        ),
        ("array body", add("[]"), 422, "invalid_body"),
        ("null body", add("null"), 422, "invalid_body"),
        (
            "path in productId",
            add(r#"{"productId":"../etc/passwd","qty":1}"#),
            400,
            "invalid_product_id",
        ),
        (
            "empty productId",
            add(r#"{"productId":"","qty":1}"#),
            400,
            "invalid_product_id",
        ),
        (
            "unknown product",
            add(r#"{"productId":"ghost","qty":1}"#),
            404,
            "product_not_found",
        ),
        (
            "more than in stock",
            add(r#"{"productId":"tee","qty":9}"#),
            409,
            "insufficient_stock",
        ),
        (
            "no content type",
            Req::post("/cart")
                .cart(&cart)
                .raw(r#"{"productId":"mug","qty":1}"#),
            415,
            "unsupported_media_type",
        ),
        (
            "text content type",
            Req::post("/cart")
                .cart(&cart)
                .header("content-type", "text/plain")
                .raw(r#"{"productId":"mug","qty":1}"#),
            415,
            "unsupported_media_type",
        ),
        (
            "body over 16 KiB",
            add(&format!(
                r#"{{"productId":"mug","qty":1,"pad":"{}"}}"#,
                "x".repeat(17 * 1024)
            )),
            413,
            "body_too_large",
        ),
        ("missing cart id", Req::get("/cart"), 400, "missing_cart_id"),
        (
            "cart id not a uuid",
            Req::get("/cart").cart("demo-user"),
            400,
            "invalid_cart_id",
        ),
        (
            "cart id uuid v7",
            Req::get("/cart").cart(&v7_cart),
            400,
            "invalid_cart_id",
        ),
        (
            "cart id with injection",
            Req::post("/cart")
                .cart("x' OR '1'='1")
                .json(json!({"productId":"mug","qty":1})),
            400,
            "invalid_cart_id",
        ),
        (
            "checkout without cart id",
            Req::post("/checkout"),
            400,
            "missing_cart_id",
        ),
        (
            "checkout of empty cart",
            Req::post("/checkout").cart(&empty_cart),
            400,
            "cart_empty",
        ),
        (
            "idempotency key too long",
            Req::post("/checkout")
                .cart(&cart)
                .header("idempotency-key", "k".repeat(65)),
            400,
            "invalid_idempotency_key",
        ),
        (
            "idempotency key empty",
            Req::post("/checkout")
                .cart(&cart)
                .header("idempotency-key", ""),
            400,
            "invalid_idempotency_key",
        ),
        (
            "idempotency key not ASCII",
            Req::post("/checkout")
                .cart(&cart)
                .header("idempotency-key", "clé".as_bytes()),
            400,
            "invalid_idempotency_key",
        ),
        (
            "set qty negative",
            put(r#"{"qty":-3}"#),
            422,
            "quantity_out_of_range",
        ),
        ("set qty string", put(r#"{"qty":"x"}"#), 422, "invalid_body"),
        (
            "set qty of unknown product",
            Req::put("/cart/ghost").cart(&cart).json(json!({"qty":1})),
            404,
            "product_not_found",
        ),
        (
            "set qty path traversal",
            Req::put("/cart/..%2F..%2Fetc")
                .cart(&cart)
                .json(json!({"qty":1})),
            400,
            "invalid_product_id",
        ),
        (
            "delete script in path",
            Req::delete("/cart/%3Cscript%3E").cart(&cart),
            400,
            "invalid_product_id",
        ),
        (
            "product path traversal",
            Req::get("/products/..%2Fsecret"),
            400,
            "invalid_product_id",
        ),
        (
            "product id injection",
            Req::get("/products/a'%20OR%201=1"),
            400,
            "invalid_product_id",
        ),
        (
            "product id too long",
            Req::get(&format!("/products/{}", "a".repeat(65))),
            400,
            "invalid_product_id",
        ),
        (
            "limit zero",
            Req::get("/products?limit=0"),
            400,
            "invalid_limit",
        ),
        (
            "limit over 100",
            Req::get("/products?limit=101"),
            400,
            "invalid_limit",
        ),
        (
            "limit not a number",
            Req::get("/products?limit=ten"),
            400,
            "invalid_limit",
        ),
        (
            "forged cursor",
            Req::get("/products?cursor=%21%21not-base64"),
            400,
            "invalid_cursor",
        ),
        (
            "cursor of a bad id",
            Req::get("/products?cursor=Li4vZXRj"),
            400,
            "invalid_cursor",
        ),
        (
            "order id not a uuid",
            Req::get("/orders/ord_1700000000").cart(&cart),
            400,
            "invalid_order_id",
        ),
        (
            "someone else's order",
            Req::get(&buyers_order).cart(&cart),
            404,
            "order_not_found",
        ),
        (
            "order without cart id",
            Req::get(&buyers_order),
            400,
            "missing_cart_id",
        ),
        ("unknown route", Req::get("/admin"), 404, "not_found"),
        ("trailing slash", Req::get("/products/"), 404, "not_found"),
        (
            "wrong method on products",
            Req::delete("/products"),
            405,
            "method_not_allowed",
        ),
        (
            "PATCH cart",
            Req::new("PATCH", "/cart").cart(&cart),
            405,
            "method_not_allowed",
        ),
        (
            "GET checkout",
            Req::get("/checkout").cart(&cart),
            405,
            "method_not_allowed",
        ),
    ];
    assert!(cases.len() >= 30);

    let before = shop.snapshot().await;
    assert_eq!(before.len(), 3 + 1 + 1, "3 products, 1 cart line, 1 order");
    let mut failures = Vec::new();
    for (name, request, status, code) in &cases {
        let answer = shop.send(request.clone()).await;
        let message = answer.body["error"]["message"].as_str().unwrap_or("");
        if answer.status.as_u16() != *status || answer.code() != *code || message.len() < 10 {
            failures.push(format!(
                "{name}: expected {status} {code}, got {} {}",
                answer.status, answer.body
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert_eq!(shop.snapshot().await, before, "a bad request changed data");
}
