//! What the learner built, shown back: console links (pure URLs for each console style, and in `outputs` /
//! `status`), and `orders` through the BINARY against moto: orders stored the way the function stores them,
//! newest first, money as the storefront shows it, `--last`, JSON, the missing-table message, and `--follow`
//! printing an order placed after it started, until SIGTERM.

use std::time::Duration;

use serde_json::Value;
use shopsmart_deploy::console_links::{budget, function, Links};
use shopsmart_deploy::names::{StackNames, TableKind};
use shopsmart_deploy::resources::{Ctx, Mode};
use shopsmart_function::cart::PricedLine;
use shopsmart_function::orders::{Order, STATUS_PLACED};

use crate::day2::{spawn_follower, stop_follower, wait_for_line};
use crate::support::cli::Cli;
use crate::support::resources::{seed, tables};
use crate::support::*;

#[test]
fn console_links_follow_the_region_in_each_console_style() {
    let names = StackNames::new("shopsmart", "dev", "eu-central-1");
    let links = Links::new(&names, "eu-central-1", "b-1", Some("a1b2c3"))
        .with_budget(&names, "eu-central-1");
    let host = "https://eu-central-1.console.aws.amazon.com";
    assert_eq!(
        links.function,
        format!("{host}/lambda/home?region=eu-central-1#/functions/shopsmart-dev-api")
    );
    assert_eq!(
        links.orders_table_items,
        format!(
            "{host}/dynamodbv2/home?region=eu-central-1#item-explorer?table=shopsmart-dev-orders"
        )
    );
    assert_eq!(
        links.api_routes.as_deref(),
        Some(
            format!("{host}/apigateway/main/develop/routes?api=a1b2c3&region=eu-central-1")
                .as_str()
        )
    );
    assert_eq!(
        links.log_group,
        format!("{host}/cloudwatch/home?region=eu-central-1#logsV2:log-groups/log-group/$252Faws$252Flambda$252Fshopsmart-dev-api")
    );
    // S3 and Budgets are global consoles: the bucket's region is a parameter, the budget lives in us-east-1.
    assert_eq!(
        links.bucket,
        "https://s3.console.aws.amazon.com/s3/buckets/b-1?region=eu-central-1&tab=objects"
    );
    assert_eq!(
        links.budget.as_deref(),
        Some("https://us-east-1.console.aws.amazon.com/billing/home#/budgets/details?name=shopsmart-dev-zero-spend")
    );

    let names = StackNames::new("shop", "a", "us-east-1");
    let links = Links::new(&names, "us-east-1", "b", None);
    assert_eq!(
        links.carts_table_items,
        "https://us-east-1.console.aws.amazon.com/dynamodbv2/home?region=us-east-1#item-explorer?table=shop-a-carts"
    );
    assert_eq!(
        links.bucket,
        "https://s3.console.aws.amazon.com/s3/buckets/b?region=us-east-1&tab=objects"
    );
    let json = serde_json::to_value(&links).unwrap();
    assert!(
        json.get("api_routes").is_none() && json.get("budget").is_none(),
        "{json:#}"
    );
    assert_eq!(
        function("cn-north-1", "f"),
        "https://cn-north-1.console.amazonaws.cn/lambda/home?region=cn-north-1#/functions/f"
    );
    assert_eq!(
        budget("cn-north-1", "x"),
        "https://cn-north-1.console.amazonaws.cn/billing/home#/budgets/details?name=x"
    );
}

#[tokio::test]
async fn outputs_and_status_give_each_resource_its_console_link() {
    let cli = Cli::new(shipped_config())
        .stage(&unique_stage())
        .region("eu-north-1");
    let names = cli.config().names();
    let items = format!("item-explorer?table={}", names.table(TableKind::Orders));
    let outputs: Value = serde_json::from_str(&cli.ok(&["outputs", "--output", "json"])).unwrap();
    let links = &outputs["console"];
    assert!(
        links["orders_table_items"]
            .as_str()
            .unwrap()
            .contains(&items),
        "{outputs:#}"
    );
    assert!(links["function"]
        .as_str()
        .unwrap()
        .starts_with("https://eu-north-1.console.aws.amazon.com/lambda/"));
    let text = cli.ok(&["outputs"]);
    assert!(text.contains("console links:\n  function"), "{text}");
    let status: Value = serde_json::from_str(&cli.ok(&["status", "--output", "json"])).unwrap();
    let links = &status["details"]["console_links"];
    assert!(
        links["log_group"]
            .as_str()
            .unwrap()
            .ends_with(&names.log_group().replace('/', "$252F")),
        "{status:#}"
    );
    assert!(
        links["carts_table_items"].is_string() && links["bucket"].is_string(),
        "{status:#}"
    );

    // up's summary ends with the three links a learner opens first.
    let dir = tempfile::tempdir().unwrap();
    let zip = write_test_zip(dir.path());
    let up = cli.ok(&[
        "up",
        "--function-zip",
        zip.to_str().unwrap(),
        "--allow-charges",
    ]);
    let summary = up.split("up: ").nth(1).expect("the count sentence");
    let open_first: Vec<&str> = summary.lines().skip(1).take(4).collect();
    assert_eq!(open_first[0], "open first:", "{up}");
    assert!(open_first[1].contains(".s3-website."), "{up}");
    assert!(open_first[2].contains(&items), "{up}");
    assert!(open_first[3].contains("#logsV2:log-groups"), "{up}");
    cli.ok(&["destroy", "--yes"]);
}

/// An order as the function stores it (`Order::to_item`), of `cents` in one line of `qty` mugs.
async fn put_order(ctx: &Ctx, id: &str, created_at: &str, cents: i64, qty: i64) {
    let line = PricedLine {
        product_id: "mug".into(),
        name: "Mug".into(),
        price_cents: cents / qty,
        qty,
        line_total_cents: cents,
        image_url: "images/mug.svg".into(),
    };
    let order = Order {
        order_id: id.into(),
        cart_id: "cart-1".into(),
        lines: vec![line],
        total_cents: cents,
        currency: "USD".into(),
        created_at: created_at.into(),
        status: STATUS_PLACED.into(),
        idempotency_key: Some("key-1".into()),
    };
    let table = ctx.names.table(TableKind::Orders);
    let put = ctx
        .aws
        .dynamodb
        .put_item()
        .table_name(table)
        .set_item(Some(order.to_item()));
    put.send().await.unwrap();
}

#[tokio::test]
async fn orders_lists_the_newest_first_and_follows_new_ones() {
    let cli = Cli::new(shipped_config())
        .stage(&unique_stage())
        .region("eu-north-1");
    let table = cli.config().names().table(TableKind::Orders);
    let (code, message) = cli.code_and_stderr(&["orders"]);
    assert_eq!(code, Some(1), "{message}");
    assert!(
        message.contains(&table) && message.contains("run `shopsmart-deploy up` first"),
        "{message}"
    );

    let ctx = ctx(cli.config(), Mode::Apply, &[]).await;
    tables::converge_table(&ctx, TableKind::Orders)
        .await
        .unwrap();
    put_order(&ctx, "order-a", "2026-11-30T10:00:00.000Z", 12345, 1).await;
    put_order(&ctx, "order-b", "2026-11-30T11:00:00.000Z", 5, 1).await;
    put_order(&ctx, "order-c", "2026-11-30T09:00:00.000Z", 100_000, 4).await;

    let text = cli.ok(&["orders"]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].starts_with("2026-11-30T11:00:00.000Z  order-b")
            && lines[0].contains(" $0.05  1 × Mug"),
        "{text}"
    );
    assert!(
        lines[1].contains("order-a") && lines[1].contains("$123.45"),
        "{text}"
    );
    assert!(
        lines[2].contains("order-c") && lines[2].contains("$1,000.00  4 × Mug"),
        "{text}"
    );
    let last_two = cli.ok(&["orders", "--last", "2"]);
    assert_eq!(last_two.lines().count(), 2, "{last_two}");
    assert!(!last_two.contains("order-c"), "{last_two}");

    let json: Value = serde_json::from_str(&cli.ok(&["orders", "--output", "json"])).unwrap();
    let ids: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["orderId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["order-b", "order-a", "order-c"]);
    assert_eq!(
        (json[1]["totalCents"].clone(), json[1]["total"].clone()),
        (12345.into(), "$123.45".into())
    );

    // --follow: JSON Lines, the newest first, then an order placed after it started; SIGTERM ends it (exit 0).
    let (mut follower, lines) = spawn_follower(&cli, &["orders", "--follow", "--output", "json"]);
    let first = wait_for_line(&lines, "order-c", Duration::from_secs(20));
    assert!(first[0].contains("order-b"), "{first:?}");
    put_order(&ctx, "order-d", "2026-11-30T12:00:00.000Z", 250, 2).await;
    let followed = wait_for_line(&lines, "order-d", Duration::from_secs(20));
    let order: Value = serde_json::from_str(followed.last().unwrap()).unwrap();
    assert_eq!(order["total"], "$2.50");
    stop_follower(&mut follower, "-TERM");
    tables::destroy_table(&ctx, TableKind::Orders)
        .await
        .unwrap();
}

/// The shop's API in local mode (the function's router, served as `dev` serves it) on a free port, against
/// the stack's tables in moto; `checkout` fills a new cart through it and places the order.
struct LocalShop {
    url: String,
    client: hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        http_body_util::Full<bytes::Bytes>,
    >,
}

impl LocalShop {
    async fn start(ctx: &Ctx) -> Self {
        let names = &ctx.names;
        let tables = shopsmart_function::state::TableNames {
            products: names.table(TableKind::Products),
            carts: names.table(TableKind::Carts),
            orders: names.table(TableKind::Orders),
        };
        let state = shopsmart_function::state::AppState::new(ctx.aws.dynamodb.clone(), tables);
        let port = free_port();
        let app = shopsmart_function::app(state);
        tokio::spawn(shopsmart_function::local_mode::serve(app, port, Vec::new()));
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http();
        let shop = Self {
            url: format!("http://127.0.0.1:{port}"),
            client,
        };
        for _ in 0..100 {
            if shop
                .send("GET", "/products?limit=1", "", Value::Null)
                .await
                .0
                == 200
            {
                return shop;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the local API did not answer on port {port}");
    }

    async fn send(&self, method: &str, path: &str, cart: &str, body: Value) -> (u16, Value) {
        let request = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.url))
            .header("content-type", "application/json")
            .header(shopsmart_function::contract::CART_ID_HEADER, cart)
            .body(http_body_util::Full::new(bytes::Bytes::from(
                if body.is_null() {
                    String::new()
                } else {
                    body.to_string()
                },
            )))
            .unwrap();
        let Ok(response) = self.client.request(request).await else {
            return (0, Value::Null);
        };
        let status = response.status().as_u16();
        let bytes = http_body_util::BodyExt::collect(response.into_body())
            .await
            .unwrap()
            .to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// A new cart with `qty` of `product`, checked out; the order as the API answered it.
    async fn checkout(&self, product: &str, qty: i64) -> Value {
        let cart = uuid::Uuid::new_v4().to_string();
        let line = serde_json::json!({ "productId": product, "qty": qty });
        let (added, body) = self.send("POST", "/cart", &cart, line).await;
        assert_eq!(added, 200, "{body}");
        let (placed, order) = self.send("POST", "/checkout", &cart, Value::Null).await;
        assert_eq!(placed, 201, "{order}");
        order
    }
}

#[tokio::test]
async fn orders_shows_checkouts_placed_through_the_local_api() {
    let cli = Cli::new(shipped_config())
        .stage(&unique_stage())
        .region("eu-north-1");
    let ctx = ctx(cli.config(), Mode::Apply, &[]).await;
    tables::converge(&ctx).await.unwrap();
    seed::converge(&ctx, false).await.unwrap();
    let shop = LocalShop::start(&ctx).await;
    let [first, second] = [&ctx.config.products[0], &ctx.config.products[1]];
    let older = shop.checkout(&first.id, 3).await;
    let newer = shop.checkout(&second.id, 1).await;

    // Newest first, each total as the storefront shows it.
    let text = cli.ok(&["orders"]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    let dollars = |cents: i64| {
        let whole = (cents / 100).to_string();
        let grouped: Vec<String> = whole
            .as_bytes()
            .rchunks(3)
            .rev()
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect();
        format!("${}.{:02}", grouped.join(","), cents % 100)
    };
    for (line, order, seed, qty) in [(lines[0], &newer, second, 1), (lines[1], &older, first, 3)] {
        assert!(line.contains(order["orderId"].as_str().unwrap()), "{text}");
        assert_eq!(order["totalCents"], seed.price_cents * qty);
        let shown = format!("{}  {qty} × {}", dollars(seed.price_cents * qty), seed.name);
        assert!(line.contains(&shown), "{line:?} should show {shown:?}");
    }

    // --follow sees an order placed through the API after it started.
    let (mut follower, followed) =
        spawn_follower(&cli, &["orders", "--follow", "--output", "json"]);
    wait_for_line(
        &followed,
        older["orderId"].as_str().unwrap(),
        Duration::from_secs(20),
    );
    let latest = shop.checkout(&first.id, 1).await;
    let seen = wait_for_line(
        &followed,
        latest["orderId"].as_str().unwrap(),
        Duration::from_secs(20),
    );
    let order: Value = serde_json::from_str(seen.last().unwrap()).unwrap();
    assert_eq!(order["total"], dollars(first.price_cents).as_str());
    stop_follower(&mut follower, "-TERM");
    tables::destroy(&ctx).await.unwrap();
}
