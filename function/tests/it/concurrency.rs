//! Checkouts racing for stock, parallel double submits, and the number of DynamoDB round trips a
//! checkout makes. The app's client goes through a connector that serializes requests to moto (moto's
//! transactions take no lock; see tests/it/support/test_http_client.rs) — the product code does not serialize.

use crate::support::test_http_client::TestHttpClient;
use crate::support::{new_cart_id, sdk_config, CallCounter, Req, TestShop};
use aws_sdk_dynamodb::Client;
use futures::future::join_all;

async fn serialized_shop(counter: Option<CallCounter>) -> TestShop {
    let config = sdk_config().await;
    let mut builder =
        aws_sdk_dynamodb::config::Builder::from(&config).http_client(TestHttpClient::serialized());
    if let Some(counter) = counter {
        builder = builder.interceptor(counter);
    }
    TestShop::with_app_client(Client::from_conf(builder.build())).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_checkouts_for_ten_units_make_exactly_ten_orders() {
    let shop = serialized_shop(None).await;
    shop.seed_product("limited", "Limited Print", 4900, 10)
        .await;
    let carts = (0..50).map(|_| new_cart_id()).collect::<Vec<_>>();
    for cart in &carts {
        shop.add(cart, "limited", 1).await.expect(200);
    }

    let answers = join_all(
        carts
            .iter()
            .map(|cart| shop.send(Req::post("/checkout").cart(cart))),
    )
    .await;
    let placed = answers.iter().filter(|a| a.status.as_u16() == 201).count();
    let refused = answers
        .iter()
        .filter(|a| a.status.as_u16() == 409 && a.code() == "insufficient_stock")
        .count();
    assert_eq!(
        (placed, refused),
        (10, 40),
        "answers: {:?}",
        answers.iter().map(|a| &a.body).collect::<Vec<_>>()
    );
    assert_eq!(shop.stock("limited").await, 0);
    assert_eq!(shop.scan(&shop.tables.orders).await.len(), 10);
    // The 40 losers keep their carts; the 10 winners' carts are empty.
    assert_eq!(shop.scan(&shop.tables.carts).await.len(), 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_double_submit_in_parallel_makes_one_order() {
    let shop = serialized_shop(None).await;
    let cart = new_cart_id();
    shop.add(&cart, "mug", 2).await.expect(200);
    shop.add(&cart, "tee", 1).await.expect(200);

    let submit = || {
        shop.send(
            Req::post("/checkout")
                .cart(&cart)
                .header("idempotency-key", "pay-button-1"),
        )
    };
    let answers = join_all((0..5).map(|_| submit())).await;
    let created = answers.iter().filter(|a| a.status.as_u16() == 201).count();
    let repeated = answers.iter().filter(|a| a.status.as_u16() == 200).count();
    assert_eq!(
        (created, repeated),
        (1, 4),
        "answers: {:?}",
        answers.iter().map(|a| &a.body).collect::<Vec<_>>()
    );
    let order_id = &answers[0].body["orderId"];
    assert!(answers.iter().all(|a| &a.body["orderId"] == order_id));
    assert_eq!(shop.scan(&shop.tables.orders).await.len(), 1);
    assert_eq!(shop.stock("mug").await, 8);
    assert_eq!(shop.stock("tee").await, 4);
}

#[tokio::test]
async fn checkout_round_trips_do_not_grow_with_the_cart() {
    let counter = CallCounter::default();
    let shop = serialized_shop(Some(counter.clone())).await;
    for i in 0..49 {
        shop.seed_product(&format!("item-{i:02}"), &format!("Item {i}"), 100 + i, 5)
            .await;
    }

    let mut measured = Vec::new();
    for lines in [1, 49] {
        let cart = new_cart_id();
        for i in 0..lines {
            shop.add(&cart, &format!("item-{i:02}"), 2)
                .await
                .expect(200);
        }
        counter.take();
        let order = shop
            .send(
                Req::post("/checkout")
                    .cart(&cart)
                    .header("idempotency-key", "k"),
            )
            .await;
        assert_eq!(order.expect(201)["lines"].as_array().unwrap().len(), lines);
        let first = counter.take();
        let repeat = shop
            .send(
                Req::post("/checkout")
                    .cart(&cart)
                    .header("idempotency-key", "k"),
            )
            .await;
        repeat.expect(200);
        let second = counter.take();
        eprintln!("checkout of {lines} line(s): {} calls {first:?}; idempotent repeat: {} calls {second:?}", first.len(), second.len());
        assert_eq!(first, ["Query", "BatchGetItem", "TransactWriteItems"]);
        assert!(second.len() <= 4);
        measured.push(first.len());
    }
    assert_eq!(measured[0], measured[1], "round trips grew with the cart");
}
