//! Shared test harness: the real AWS SDK against moto (AWS_ENDPOINT_URL), three uniquely named tables per
//! shop, seeded products, and a small request builder that drives the router with `oneshot`.

pub mod test_http_client;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use shopsmart_function::{app, AppState, TableNames};
use tower::ServiceExt;

pub fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL")
        .expect("AWS_ENDPOINT_URL is not set: run tests/run (it starts moto)")
}

pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .load()
        .await
}

pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

pub fn new_cart_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Counts DynamoDB calls (one per attempt, by operation name) made through a client.
#[derive(Clone, Debug, Default)]
pub struct CallCounter(Arc<Mutex<Vec<String>>>);

impl CallCounter {
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg
            .load::<Metadata>()
            .map(|m| m.name().to_string())
            .unwrap_or_else(|| "unknown".into());
        self.0.lock().unwrap().push(operation);
        Ok(())
    }
}

pub struct TestShop {
    pub router: Router,
    /// A plain client for setup and inspection (not the one the app uses when a test customizes it).
    pub client: Client,
    pub tables: TableNames,
}

async fn create_table(client: &Client, name: &str, partition: &str, sort: Option<&str>) {
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(partition)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(partition)
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        );
    if let Some(sort) = sort {
        request = request
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(sort)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .unwrap(),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(sort)
                    .key_type(KeyType::Range)
                    .build()
                    .unwrap(),
            );
    }
    request
        .send()
        .await
        .unwrap_or_else(|e| panic!("creating table {name}: {e:?}"));
}

impl TestShop {
    /// Fresh tables with the standard catalogue; the app uses a plain client.
    pub async fn new() -> Self {
        let config = sdk_config().await;
        Self::with_app_client(Client::new(&config)).await
    }

    /// Fresh tables; the app uses `app_client` (e.g. with a counting interceptor or a serializing connector).
    pub async fn with_app_client(app_client: Client) -> Self {
        let config = sdk_config().await;
        let client = Client::new(&config);
        let suffix = unique("fn");
        let tables = TableNames {
            products: format!("{suffix}-products"),
            carts: format!("{suffix}-carts"),
            orders: format!("{suffix}-orders"),
        };
        create_table(&client, &tables.products, "productId", None).await;
        create_table(&client, &tables.carts, "cartId", Some("productId")).await;
        create_table(&client, &tables.orders, "orderId", None).await;
        let shop = TestShop {
            router: app(AppState::new(app_client, tables.clone())),
            client,
            tables,
        };
        shop.seed_product("mug", "Classic Mug", 1299, 10).await;
        shop.seed_product("tee", "Shop Tee", 2500, 5).await;
        shop.seed_product("poster", "Poster", 899, 0).await;
        shop
    }

    pub async fn seed_product(&self, id: &str, name: &str, price_cents: i64, stock: i64) {
        self.client
            .put_item()
            .table_name(&self.tables.products)
            .item("productId", AttributeValue::S(id.into()))
            .item("name", AttributeValue::S(name.into()))
            .item(
                "description",
                AttributeValue::S(format!("{name}, for tests")),
            )
            .item("priceCents", AttributeValue::N(price_cents.to_string()))
            .item("currency", AttributeValue::S("USD".into()))
            .item("imageUrl", AttributeValue::S(format!("images/{id}.svg")))
            .item("stock", AttributeValue::N(stock.to_string()))
            .send()
            .await
            .expect("seeding a product");
    }

    pub async fn stock(&self, id: &str) -> i64 {
        let item = self
            .client
            .get_item()
            .table_name(&self.tables.products)
            .key("productId", AttributeValue::S(id.into()))
            .consistent_read(true)
            .send()
            .await
            .expect("reading a product")
            .item
            .expect("product exists");
        item["stock"].as_n().unwrap().parse().unwrap()
    }

    pub async fn scan(&self, table: &str) -> Vec<HashMap<String, AttributeValue>> {
        self.client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .expect("scanning a table")
    }

    /// Every item of the three tables, sorted, as text: equal snapshots mean no data changed.
    pub async fn snapshot(&self) -> Vec<String> {
        let mut all = Vec::new();
        for table in [
            &self.tables.products,
            &self.tables.carts,
            &self.tables.orders,
        ] {
            for item in self.scan(table).await {
                let fields = AttributeValue::M(item);
                all.push(format!("{table}: {}", canonical(&fields)));
            }
        }
        all.sort();
        all
    }

    pub async fn send(&self, req: Req) -> Answer {
        let response = self
            .router
            .clone()
            .oneshot(req.build())
            .await
            .expect("the router is infallible");
        Answer::read(response).await
    }

    pub async fn add(&self, cart: &str, product: &str, qty: i64) -> Answer {
        self.send(
            Req::post("/cart")
                .cart(cart)
                .json(json!({"productId": product, "qty": qty})),
        )
        .await
    }
}

/// An item as JSON with sorted keys (serde_json's map is a BTreeMap), so equal items print equally.
pub fn canonical(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(_) => json!({ "NULL": true }),
        AttributeValue::L(list) => json!({ "L": list.iter().map(canonical).collect::<Vec<_>>() }),
        // Sorted keys whatever serde_json's features: `cargo test --workspace` unifies in `preserve_order`
        // (insertion order), and a HashMap's insertion order is random.
        AttributeValue::M(map) => {
            let sorted: std::collections::BTreeMap<_, _> = map.iter().collect();
            Value::Object(
                sorted
                    .into_iter()
                    .map(|(k, v)| (k.clone(), canonical(v)))
                    .collect(),
            )
        }
        other => json!({ "other": format!("{other:?}") }),
    }
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub async fn read(response: axum::response::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| panic!("body is not JSON: {}", String::from_utf8_lossy(&bytes)))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    #[track_caller]
    pub fn expect(&self, status: u16) -> &Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected answer: {}",
            self.body
        );
        &self.body
    }

    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status.as_u16(), self.code()),
            (status, code),
            "unexpected answer: {}",
            self.body
        );
        let message = self.body["error"]["message"].as_str().unwrap_or("");
        assert!(
            message.len() > 10,
            "error without a helpful message: {}",
            self.body
        );
    }
}

/// A request for the router.
#[derive(Clone, Debug)]
pub struct Req {
    method: &'static str,
    uri: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl Req {
    pub fn new(method: &'static str, uri: &str) -> Self {
        Req {
            method,
            uri: uri.to_string(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
    pub fn get(uri: &str) -> Self {
        Self::new("GET", uri)
    }
    pub fn post(uri: &str) -> Self {
        Self::new("POST", uri)
    }
    pub fn put(uri: &str) -> Self {
        Self::new("PUT", uri)
    }
    pub fn delete(uri: &str) -> Self {
        Self::new("DELETE", uri)
    }
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.headers
            .push((name.to_string(), value.as_ref().to_vec()));
        self
    }
    pub fn cart(self, cart_id: &str) -> Self {
        self.header("x-cart-id", cart_id)
    }
    pub fn json(self, body: Value) -> Self {
        self.raw_json(body.to_string())
    }
    /// A body sent as application/json whatever it contains.
    pub fn raw_json(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self.header("content-type", "application/json")
    }
    /// A body with no content type.
    pub fn raw(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
    pub fn build(&self) -> Request<Body> {
        let mut builder = Request::builder().method(self.method).uri(&self.uri);
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), value.as_slice());
        }
        builder.body(Body::from(self.body.clone())).unwrap()
    }
}
