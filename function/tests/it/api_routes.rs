//! Every route through the router (`oneshot`), against moto: the happy paths and the domain errors.

use std::sync::{Arc, OnceLock};

use crate::support::test_http_client::{Hook, TestHttpClient};
use crate::support::{new_cart_id, sdk_config, Req, TestShop};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;
use shopsmart_function::TableNames;

#[tokio::test]
async fn lists_products_in_pages_with_a_cursor() {
    let shop = TestShop::new().await;
    for i in 0..4 {
        shop.seed_product(&format!("extra-{i}"), &format!("Extra {i}"), 100 + i, 3)
            .await;
    }
    // 7 products, pages of 3: 3 + 3 + 1 (+ maybe one empty page after a full one).
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..5 {
        let uri = match &cursor {
            Some(c) => format!("/products?limit=3&cursor={c}"),
            None => "/products?limit=3".to_string(),
        };
        let answer = shop.send(Req::get(&uri)).await;
        let body = answer.expect(200);
        let page = body["products"].as_array().unwrap();
        assert!(page.len() <= 3);
        seen.extend(
            page.iter()
                .map(|p| p["productId"].as_str().unwrap().to_string()),
        );
        match body["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(
        seen,
        ["extra-0", "extra-1", "extra-2", "extra-3", "mug", "poster", "tee"]
    );

    let all = shop.send(Req::get("/products")).await;
    let body = all.expect(200);
    assert_eq!(body["products"].as_array().unwrap().len(), 7);
    assert!(body["nextCursor"].is_null());
    assert_eq!(all.headers["content-type"], "application/json");
}

#[tokio::test]
async fn gets_one_product_or_404() {
    let shop = TestShop::new().await;
    let answer = shop.send(Req::get("/products/mug")).await;
    assert_eq!(
        answer.expect(200),
        &json!({"productId":"mug","name":"Classic Mug","description":"Classic Mug, for tests",
                "priceCents":1299,"currency":"USD","imageUrl":"images/mug.svg","stock":10})
    );
    shop.send(Req::get("/products/nope"))
        .await
        .expect_error(404, "product_not_found");
    assert!(shop
        .send(Req::get("/products/mug"))
        .await
        .headers
        .contains_key("x-request-id"));
}

#[tokio::test]
async fn cart_adds_merges_sets_and_removes_lines_priced_by_the_server() {
    let shop = TestShop::new().await;
    let cart = new_cart_id();

    let empty = shop.send(Req::get("/cart").cart(&cart)).await;
    assert_eq!(
        empty.expect(200),
        &json!({"cartId": cart, "lines": [], "totalCents": 0, "currency": "USD", "unavailable": []})
    );

    shop.add(&cart, "mug", 2).await.expect(200);
    // The client's price is ignored: it is not even part of the request shape.
    let body = shop
        .send(
            Req::post("/cart")
                .cart(&cart)
                .json(json!({"productId":"mug","qty":1,"priceCents":1})),
        )
        .await;
    let body = body.expect(200);
    assert_eq!(body["lines"][0]["qty"], 3);
    assert_eq!(body["lines"][0]["lineTotalCents"], 3 * 1299);

    let body = shop.add(&cart, "tee", 1).await.expect(200).clone();
    assert_eq!(body["totalCents"], 3 * 1299 + 2500);
    assert_eq!(body["lines"].as_array().unwrap().len(), 2);

    let body = shop
        .send(Req::put("/cart/mug").cart(&cart).json(json!({"qty": 1})))
        .await
        .expect(200)
        .clone();
    assert_eq!(body["totalCents"], 1299 + 2500);

    let body = shop
        .send(Req::delete("/cart/tee").cart(&cart))
        .await
        .expect(200)
        .clone();
    assert_eq!(
        body["lines"],
        json!([{"productId":"mug","name":"Classic Mug","priceCents":1299,"qty":1,
                                       "lineTotalCents":1299,"imageUrl":"images/mug.svg"}])
    );
    let body = shop
        .send(Req::put("/cart/mug").cart(&cart).json(json!({"qty": 0})))
        .await
        .expect(200)
        .clone();
    assert_eq!(body["lines"], json!([]));

    // Lines carry a TTL 7 days ahead; an upper-case cart id names the same cart.
    shop.add(&cart.to_uppercase(), "mug", 1).await.expect(200);
    let lines = shop.scan(&shop.tables.carts).await;
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["cartId"], AttributeValue::S(cart.clone()));
    let expires: i64 = lines[0]["expiresAt"].as_n().unwrap().parse().unwrap();
    let week = time::OffsetDateTime::now_utc().unix_timestamp() + 7 * 24 * 3600;
    assert!(
        (week - 5..=week + 5).contains(&expires),
        "expiresAt {expires}"
    );

    // Another cart sees nothing of it.
    let other = shop.send(Req::get("/cart").cart(&new_cart_id())).await;
    assert_eq!(other.expect(200)["lines"], json!([]));
}

#[tokio::test]
async fn cart_limits_quantity_stock_and_lines() {
    let shop = TestShop::new().await;
    let cart = new_cart_id();
    shop.seed_product("bulk", "Bulk", 1, 1000).await;
    shop.add(&cart, "bulk", 60).await.expect(200);
    shop.add(&cart, "bulk", 40)
        .await
        .expect_error(422, "quantity_out_of_range");
    shop.add(&cart, "bulk", 39).await.expect(200);
    shop.add(&cart, "mug", 11)
        .await
        .expect_error(409, "insufficient_stock");
    shop.add(&cart, "poster", 1)
        .await
        .expect_error(409, "insufficient_stock");
    shop.send(Req::put("/cart/mug").cart(&cart).json(json!({"qty": 100})))
        .await
        .expect_error(422, "quantity_out_of_range");
    shop.send(Req::put("/cart/ghost").cart(&cart).json(json!({"qty": 1})))
        .await
        .expect_error(404, "product_not_found");

    // 49 distinct lines fit (one transaction of 99 actions); the 50th does not.
    let full = new_cart_id();
    for i in 0..50 {
        shop.seed_product(&format!("p{i:02}"), &format!("P{i}"), 100, 5)
            .await;
    }
    for i in 0..49 {
        shop.add(&full, &format!("p{i:02}"), 1).await.expect(200);
    }
    shop.add(&full, "p49", 1)
        .await
        .expect_error(409, "cart_full");
    shop.send(Req::put("/cart/p49").cart(&full).json(json!({"qty": 1})))
        .await
        .expect_error(409, "cart_full");
    // Changing an existing line is still allowed at the cap.
    shop.add(&full, "p00", 1).await.expect(200);
}

#[tokio::test]
async fn checkout_places_an_order_atomically() {
    let shop = TestShop::new().await;
    let cart = new_cart_id();
    shop.add(&cart, "mug", 2).await.expect(200);
    shop.add(&cart, "tee", 5).await.expect(200);

    let answer = shop.send(Req::post("/checkout").cart(&cart)).await;
    let order = answer.expect(201).clone();
    assert_eq!(order["cartId"], cart);
    assert_eq!(order["status"], "PLACED");
    assert_eq!(order["currency"], "USD");
    assert_eq!(order["totalCents"], 2 * 1299 + 5 * 2500);
    assert_eq!(order["lines"].as_array().unwrap().len(), 2);
    let order_id = order["orderId"].as_str().unwrap();
    assert_eq!(
        uuid::Uuid::parse_str(order_id).unwrap().get_version_num(),
        7
    );
    let created = order["createdAt"].as_str().unwrap();
    time::OffsetDateTime::parse(created, &time::format_description::well_known::Rfc3339).unwrap();
    assert!(created.ends_with('Z'));

    assert_eq!(shop.stock("mug").await, 8);
    assert_eq!(shop.stock("tee").await, 0);
    assert!(shop.scan(&shop.tables.carts).await.is_empty());
    let orders = shop.scan(&shop.tables.orders).await;
    assert_eq!(orders.len(), 1);
    assert_eq!(
        orders[0]["totalCents"],
        AttributeValue::N((2 * 1299 + 5 * 2500).to_string())
    );

    // The order is readable by its cart only.
    let fetched = shop
        .send(Req::get(&format!("/orders/{order_id}")).cart(&cart))
        .await;
    assert_eq!(fetched.expect(200), &order);
    shop.send(Req::get(&format!("/orders/{order_id}")).cart(&new_cart_id()))
        .await
        .expect_error(404, "order_not_found");
    shop.send(Req::get(&format!("/orders/{}", uuid::Uuid::now_v7())).cart(&cart))
        .await
        .expect_error(404, "order_not_found");

    // The cart is empty now.
    shop.send(Req::post("/checkout").cart(&cart))
        .await
        .expect_error(400, "cart_empty");
}

#[tokio::test]
async fn checkout_refuses_insufficient_stock_naming_the_product() {
    let shop = TestShop::new().await;
    let cart = new_cart_id();
    shop.add(&cart, "tee", 5).await.expect(200);
    shop.add(&cart, "mug", 1).await.expect(200);
    // Someone else bought tees meanwhile.
    shop.seed_product("tee", "Shop Tee", 2500, 2).await;
    let before = shop.snapshot().await;
    let answer = shop.send(Req::post("/checkout").cart(&cart)).await;
    answer.expect_error(409, "insufficient_stock");
    let message = answer.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("tee") && message.contains("Shop Tee") && !message.contains("mug"),
        "{message}"
    );
    assert_eq!(shop.snapshot().await, before);
}

#[tokio::test]
async fn checkout_of_a_removed_product_is_a_409() {
    let shop = TestShop::new().await;
    let cart = new_cart_id();
    shop.add(&cart, "mug", 1).await.expect(200);
    shop.client
        .delete_item()
        .table_name(&shop.tables.products)
        .key("productId", AttributeValue::S("mug".into()))
        .send()
        .await
        .unwrap();
    shop.send(Req::post("/checkout").cart(&cart))
        .await
        .expect_error(409, "product_unavailable");
}

/// What the deployer does to a product that left `shopsmart.yaml`: `onSale` = false, the item stays.
#[tokio::test]
async fn an_off_sale_product_is_not_listed_nor_sold_and_its_past_orders_still_read() {
    let shop = TestShop::new().await;
    let (bought, holding) = (new_cart_id(), new_cart_id());
    shop.add(&bought, "mug", 2).await.expect(200);
    let order = shop.send(Req::post("/checkout").cart(&bought)).await;
    let order = order.expect(201).clone();
    shop.add(&holding, "mug", 1).await.expect(200);
    shop.add(&holding, "tee", 1).await.expect(200);
    shop.client
        .update_item()
        .table_name(&shop.tables.products)
        .key("productId", AttributeValue::S("mug".into()))
        .update_expression("SET onSale = :off")
        .expression_attribute_values(":off", AttributeValue::Bool(false))
        .send()
        .await
        .unwrap();

    let listed = shop.send(Req::get("/products")).await;
    let ids = listed.expect(200)["products"].as_array().unwrap().iter();
    let ids = ids
        .map(|p| p["productId"].as_str().unwrap())
        .collect::<Vec<_>>();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(!ids.contains(&"mug"), "{ids:?}");
    shop.send(Req::get("/products/mug"))
        .await
        .expect_error(404, "product_not_found");
    // The cart shows the mug apart, by name, out of the total; the tee stays a line.
    let view = shop.send(Req::get("/cart").cart(&holding)).await;
    let view = view.expect(200);
    assert_eq!(
        view["unavailable"],
        serde_json::json!([{ "productId": "mug", "name": "Classic Mug", "qty": 1 }])
    );
    assert_eq!(view["lines"].as_array().unwrap().len(), 1, "{view}");
    assert_eq!(view["lines"][0]["productId"], "tee");
    assert_eq!(view["totalCents"], view["lines"][0]["lineTotalCents"]);
    let before = shop.snapshot().await;
    let answer = shop.send(Req::post("/checkout").cart(&holding)).await;
    answer.expect_error(409, "product_unavailable");
    assert!(answer.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("mug"));
    assert_eq!(shop.snapshot().await, before);

    let order_id = order["orderId"].as_str().unwrap();
    let fetched = shop
        .send(Req::get(&format!("/orders/{order_id}")).cart(&bought))
        .await;
    assert_eq!(fetched.expect(200), &order);
    assert_eq!(order["lines"][0]["productId"], "mug");
}

#[tokio::test]
async fn repeated_checkout_with_the_same_key_returns_the_same_order() {
    let shop = TestShop::new().await;
    let cart = new_cart_id();
    shop.add(&cart, "mug", 3).await.expect(200);
    let first = shop
        .send(
            Req::post("/checkout")
                .cart(&cart)
                .header("idempotency-key", "order-attempt-1"),
        )
        .await;
    let first = first.expect(201).clone();
    let again = shop
        .send(
            Req::post("/checkout")
                .cart(&cart)
                .header("idempotency-key", "order-attempt-1"),
        )
        .await;
    assert_eq!(again.expect(200), &first);
    assert_eq!(shop.scan(&shop.tables.orders).await.len(), 1);
    assert_eq!(shop.stock("mug").await, 7);

    // The same key from another cart is another order (and that cart is empty).
    shop.send(
        Req::post("/checkout")
            .cart(&new_cart_id())
            .header("idempotency-key", "order-attempt-1"),
    )
    .await
    .expect_error(400, "cart_empty");
    // A new key on the emptied cart is an empty-cart error, not the old order.
    shop.send(
        Req::post("/checkout")
            .cart(&cart)
            .header("idempotency-key", "order-attempt-2"),
    )
    .await
    .expect_error(400, "cart_empty");
}

/// Builds a shop whose app client runs a hook (made from a plain client, the shop's table names and the
/// cart id) right before its TransactWriteItems request.
async fn shop_with_hook_before_transaction(
    make_hook: impl FnOnce(aws_sdk_dynamodb::Client, TableNames, String) -> Hook,
) -> (TestShop, String) {
    let config = sdk_config().await;
    let cart = new_cart_id();
    // The table names exist only once the shop does, so the connector's hook forwards to one set later.
    let installed: Arc<OnceLock<Hook>> = Arc::default();
    let forward = installed.clone();
    let hook: Hook = Arc::new(move || {
        let hook = forward.get().expect("hook installed").clone();
        Box::pin(async move { hook().await })
    });
    let app_client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&config)
            .http_client(TestHttpClient::with_hook_before("TransactWriteItems", hook))
            .build(),
    );
    let shop = TestShop::with_app_client(app_client).await;
    let hook = make_hook(shop.client.clone(), shop.tables.clone(), cart.clone());
    installed
        .set(hook)
        .unwrap_or_else(|_| panic!("hook set twice"));
    (shop, cart)
}

/// A shop in which, just before the checkout's transaction, `expression` (with `:v` = `value`) is applied to
/// product `product`: what someone else does between the checkout's read and its write.
async fn shop_updating_product_before_transaction(
    product: &'static str,
    expression: &'static str,
    value: AttributeValue,
) -> (TestShop, String) {
    shop_with_hook_before_transaction(|client, tables, _cart| {
        Arc::new(move || {
            let (client, products, value) =
                (client.clone(), tables.products.clone(), value.clone());
            Box::pin(async move {
                client
                    .update_item()
                    .table_name(products)
                    .key("productId", AttributeValue::S(product.into()))
                    .update_expression(expression)
                    .expression_attribute_values(":v", value)
                    .send()
                    .await
                    .unwrap();
            })
        })
    })
    .await
}

#[tokio::test]
async fn a_product_taken_off_sale_during_checkout_is_not_sold() {
    // `up` takes the mug off sale after the checkout priced the cart.
    let (shop, cart) = shop_updating_product_before_transaction(
        "mug",
        "SET onSale = :v",
        AttributeValue::Bool(false),
    )
    .await;
    shop.add(&cart, "mug", 2).await.expect(200);
    let answer = shop.send(Req::post("/checkout").cart(&cart)).await;
    answer.expect_error(409, "product_unavailable");
    assert!(answer.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("mug"));
    assert_eq!(shop.stock("mug").await, 10, "no stock taken");
    assert!(
        shop.scan(&shop.tables.orders).await.is_empty(),
        "no order written"
    );
}

#[tokio::test]
async fn a_cart_edit_during_checkout_cancels_the_order() {
    let (shop, cart) = shop_with_hook_before_transaction(|client, tables, cart| {
        Arc::new(move || {
            let (client, carts, cart) = (client.clone(), tables.carts.clone(), cart.clone());
            Box::pin(async move {
                // The shopper bumps the quantity in another tab after the checkout priced the cart.
                client
                    .update_item()
                    .table_name(carts)
                    .key("cartId", AttributeValue::S(cart))
                    .key("productId", AttributeValue::S("mug".into()))
                    .update_expression("SET qty = qty + :one")
                    .expression_attribute_values(":one", AttributeValue::N("1".into()))
                    .send()
                    .await
                    .unwrap();
            })
        })
    })
    .await;
    shop.add(&cart, "mug", 2).await.expect(200);
    shop.send(Req::post("/checkout").cart(&cart))
        .await
        .expect_error(409, "cart_changed");
    assert_eq!(shop.stock("mug").await, 10, "no stock taken");
    assert!(
        shop.scan(&shop.tables.orders).await.is_empty(),
        "no order written"
    );
    let line = &shop.scan(&shop.tables.carts).await[0];
    assert_eq!(line["qty"], AttributeValue::N("3".into()));
}

#[tokio::test]
async fn stock_sold_during_checkout_cancels_the_order() {
    // Another shopper's order takes the last units between our read and our write.
    let (shop, cart) = shop_updating_product_before_transaction(
        "tee",
        "SET stock = :v",
        AttributeValue::N("0".into()),
    )
    .await;
    shop.add(&cart, "tee", 1).await.expect(200);
    let answer = shop.send(Req::post("/checkout").cart(&cart)).await;
    answer.expect_error(409, "insufficient_stock");
    assert!(answer.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("tee"));
    assert!(shop.scan(&shop.tables.orders).await.is_empty());
    assert_eq!(shop.scan(&shop.tables.carts).await.len(), 1, "cart kept");
}

#[tokio::test]
async fn an_aws_failure_is_a_500_without_details() {
    // Tables that do not exist: every DynamoDB call fails with ResourceNotFound.
    let client = aws_sdk_dynamodb::Client::new(&sdk_config().await);
    let missing = crate::support::unique("missing");
    let router = shopsmart_function::app(shopsmart_function::AppState::new(
        client,
        TableNames {
            products: format!("{missing}-products"),
            carts: format!("{missing}-carts"),
            orders: format!("{missing}-orders"),
        },
    ));
    let request = Req::get("/cart").cart(&new_cart_id()).build();
    let answer =
        crate::support::Answer::read(tower::ServiceExt::oneshot(router, request).await.unwrap())
            .await;
    answer.expect_error(500, "internal");
    let message = answer.body["error"]["message"].as_str().unwrap();
    assert!(!message.contains(&missing), "table names leak: {message}");
    assert!(answer.headers.contains_key("x-request-id"));
}

/// DynamoDB's TTL deletes expired items lazily (often days late): an expired line must already be gone to
/// the shop, and adding the same product again starts from zero.
#[tokio::test]
async fn an_expired_cart_line_is_gone_before_ttl_deletes_it() {
    let shop = TestShop::new().await;
    let cart = new_cart_id();
    shop.add(&cart, "tee", 1).await.expect(200);
    let an_hour_ago = time::OffsetDateTime::now_utc().unix_timestamp() - 3600;
    shop.client
        .put_item()
        .table_name(&shop.tables.carts)
        .item("cartId", AttributeValue::S(cart.clone()))
        .item("productId", AttributeValue::S("mug".into()))
        .item("qty", AttributeValue::N("3".into()))
        .item("expiresAt", AttributeValue::N(an_hour_ago.to_string()))
        .send()
        .await
        .unwrap();

    let body = shop
        .send(Req::get("/cart").cart(&cart))
        .await
        .expect(200)
        .clone();
    let lines = body["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "{body}");
    assert_eq!(lines[0]["productId"], "tee");

    let body = shop.add(&cart, "mug", 2).await.expect(200).clone();
    let mug = body["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["productId"] == "mug")
        .unwrap()
        .clone();
    assert_eq!(mug["qty"], 2, "the expired 3 must not count: {body}");

    let order = shop
        .send(Req::post("/checkout").cart(&cart))
        .await
        .expect(201)
        .clone();
    assert_eq!(order["lines"].as_array().unwrap().len(), 2, "{order}");
}
