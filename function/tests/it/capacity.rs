//! What each route consumes of the tables' provisioned capacity, measured against the constants in
//! `shopsmart_function::contract::capacity` (which `plan` and `cost` turn into shoppers a second).
//!
//! moto reports a ConsumedCapacity, but not by DynamoDB's rules (a 5 KB PutItem is 1.0 unit there, 5 in
//! DynamoDB; a consistent GetItem 0.5, not 1; nothing for a transaction), so it is not used. Instead every
//! DynamoDB exchange of the function goes through a recording connector; the items each call read (from the
//! answers) and wrote (the tables before and after the request) are sized and priced by DynamoDB's documented
//! rules (Developer Guide, "Read/write capacity mode" and "Item sizes"):
//! - item size: attribute names + values (strings UTF-8 bytes; numbers (significant digits / 2) + 1; booleans
//!   and nulls 1; a list or map 3 bytes + 1 per element + its elements);
//! - GetItem, and each item of a BatchGetItem: item size rounded up to 4 KB, minimum 1 unit; a Query or Scan:
//!   the items read together, rounded up to 4 KB; eventually consistent reads cost half;
//! - PutItem / UpdateItem / DeleteItem: the larger of the item before and after, rounded up to 1 KB, minimum
//!   1 unit; inside TransactWriteItems twice that.
//!
//! The catalogue is shopsmart.yaml's, stored as the deployer seeds it.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use serde_json::{json, Value};
use shopsmart_function::contract::capacity;
use shopsmart_function::contract::{RouteCapacity, TableUnits};

use crate::support::test_http_client::{Recorder, TestHttpClient};
use crate::support::{new_cart_id, sdk_config, Req, TestShop};

const READ_UNIT_BYTES: u64 = 4 * 1024;
const WRITE_UNIT_BYTES: u64 = 1024;

/// The size DynamoDB counts for an attribute value in its JSON wire form (`{"S": ".."}` etc.).
fn value_size(value: &Value) -> u64 {
    let (kind, inner) = value
        .as_object()
        .and_then(|o| o.iter().next())
        .expect("a typed value");
    match kind.as_str() {
        "S" => inner.as_str().unwrap().len() as u64,
        "N" => {
            let digits = inner
                .as_str()
                .unwrap()
                .chars()
                .filter(char::is_ascii_digit)
                .collect::<String>();
            let significant = digits
                .trim_start_matches('0')
                .trim_end_matches('0')
                .len()
                .max(1) as u64;
            significant.div_ceil(2) + 1
        }
        "BOOL" | "NULL" => 1,
        "L" => {
            3 + inner
                .as_array()
                .unwrap()
                .iter()
                .map(|v| 1 + value_size(v))
                .sum::<u64>()
        }
        "M" => 3 + item_size(inner) + inner.as_object().unwrap().len() as u64,
        other => panic!("no size rule here for attribute type {other}"),
    }
}

fn item_size(item: &Value) -> u64 {
    item.as_object()
        .unwrap()
        .iter()
        .map(|(name, value)| name.len() as u64 + value_size(value))
        .sum()
}

fn units(bytes: u64, unit: u64) -> u64 {
    bytes.div_ceil(unit).max(1)
}

/// Every item of the three tables by table and key, as wire JSON.
type Tables = BTreeMap<(String, String), Value>;

async fn tables(shop: &TestShop) -> Tables {
    let mut all = Tables::new();
    for table in [
        &shop.tables.products,
        &shop.tables.carts,
        &shop.tables.orders,
    ] {
        for item in shop.scan(table).await {
            let wire = wire_item(&item);
            let key = key_of(&wire);
            all.insert((table.clone(), key), wire);
        }
    }
    all
}

fn wire(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(_) => json!({ "NULL": true }),
        AttributeValue::L(list) => json!({ "L": list.iter().map(wire).collect::<Vec<_>>() }),
        AttributeValue::M(map) => json!({ "M": wire_item(map) }),
        other => panic!("unexpected attribute {other:?}"),
    }
}

fn wire_item(item: &std::collections::HashMap<String, AttributeValue>) -> Value {
    Value::Object(item.iter().map(|(k, v)| (k.clone(), wire(v))).collect())
}

/// The key attributes of an item (every table's keys are among these three), as text.
fn key_of(item: &Value) -> String {
    ["cartId", "orderId", "productId"]
        .iter()
        .filter_map(|name| item.get(*name).map(|v| format!("{name}={v}")))
        .collect::<Vec<_>>()
        .join(",")
}

/// Half read units and write units per table of one recorded request.
#[derive(Default, Debug)]
struct Consumed {
    half_reads: BTreeMap<String, u64>,
    writes: BTreeMap<String, u64>,
}

impl Consumed {
    fn read(&mut self, table: &str, bytes: u64, consistent: bool) {
        let halves = units(bytes, READ_UNIT_BYTES) * if consistent { 2 } else { 1 };
        *self.half_reads.entry(table.to_owned()).or_default() += halves;
    }

    /// A write to `key` of `table`: the larger of the item before and after the request.
    fn write(&mut self, table: &str, key: &Value, before: &Tables, after: &Tables, factor: u64) {
        let key = (table.to_owned(), key_of(key));
        let size = [before.get(&key), after.get(&key)]
            .into_iter()
            .flatten()
            .map(item_size)
            .max()
            .unwrap_or(0);
        *self.writes.entry(table.to_owned()).or_default() += units(size, WRITE_UNIT_BYTES) * factor;
    }

    fn price(
        &mut self,
        operation: &str,
        sent: &Value,
        answer: &Value,
        before: &Tables,
        after: &Tables,
    ) {
        let consistent = sent["ConsistentRead"].as_bool().unwrap_or(false);
        let table = sent["TableName"].as_str().unwrap_or("");
        match operation {
            "GetItem" => self.read(table, answer.get("Item").map_or(0, item_size), consistent),
            "Query" | "Scan" => {
                assert_eq!(
                    answer["Count"], answer["ScannedCount"],
                    "a filter hid items read: their size is unknown here"
                );
                let bytes = answer["Items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(item_size)
                    .sum();
                self.read(table, bytes, consistent);
            }
            "BatchGetItem" => {
                for (table, request) in sent["RequestItems"].as_object().unwrap() {
                    let consistent = request["ConsistentRead"].as_bool().unwrap_or(false);
                    let found = answer["Responses"][table]
                        .as_array()
                        .cloned()
                        .unwrap_or_default();
                    for key in request["Keys"].as_array().unwrap() {
                        let item = found.iter().find(|item| key_of(item) == key_of(key));
                        self.read(table, item.map_or(0, item_size), consistent);
                    }
                }
            }
            "PutItem" => self.write(table, &sent["Item"], before, after, 1),
            "UpdateItem" | "DeleteItem" => self.write(table, &sent["Key"], before, after, 1),
            "TransactWriteItems" => {
                for action in sent["TransactItems"].as_array().unwrap() {
                    let (kind, action) = action.as_object().unwrap().iter().next().unwrap();
                    let key = if kind == "Put" {
                        &action["Item"]
                    } else {
                        &action["Key"]
                    };
                    self.write(action["TableName"].as_str().unwrap(), key, before, after, 2);
                }
            }
            other => panic!("no capacity rule here for {other}"),
        }
    }

    fn per_table(map: &BTreeMap<String, u64>, shop: &TestShop) -> TableUnits {
        let of = |table: &str| map.get(table).copied().unwrap_or(0) as u32;
        TableUnits {
            products: of(&shop.tables.products),
            carts: of(&shop.tables.carts),
            orders: of(&shop.tables.orders),
        }
    }
}

struct Measuring {
    shop: TestShop,
    recorder: Recorder,
}

impl Measuring {
    async fn new() -> Self {
        let recorder = Recorder::default();
        let config = sdk_config().await;
        let builder = aws_sdk_dynamodb::config::Builder::from(&config)
            .http_client(TestHttpClient::recording(recorder.clone()));
        let shop = TestShop::with_app_client(Client::from_conf(builder.build())).await;
        seed_shipped_catalogue(&shop).await;
        Measuring { shop, recorder }
    }

    /// Sends `request`, expects `status`, and prices every DynamoDB call it made.
    async fn measure(&self, route: &'static str, request: Req, status: u16) -> RouteCapacity {
        let before = tables(&self.shop).await;
        self.recorder.take();
        self.shop.send(request).await.expect(status);
        let calls = self.recorder.take();
        let after = tables(&self.shop).await;
        let mut consumed = Consumed::default();
        for (operation, sent, answer) in &calls {
            consumed.price(operation, sent, answer, &before, &after);
        }
        eprintln!(
            "{route}: {:?} -> {consumed:?}",
            calls.iter().map(|c| &c.0).collect::<Vec<_>>()
        );
        RouteCapacity {
            route,
            half_read_units: Consumed::per_table(&consumed.half_reads, &self.shop),
            write_units: Consumed::per_table(&consumed.writes, &self.shop),
        }
    }
}

/// The products of shopsmart.yaml, with the attributes the deployer stores (seed.rs): read from the file's
/// `products:` list (`- id:` then indented `key: value` lines).
async fn seed_shipped_catalogue(shop: &TestShop) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shopsmart.yaml");
    let text = std::fs::read_to_string(path).expect("reading shopsmart.yaml");
    let list = text
        .split("\nproducts:\n")
        .nth(1)
        .expect("shopsmart.yaml has a products list");
    let mut products: Vec<BTreeMap<String, String>> = Vec::new();
    for line in list.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            break;
        }
        let line = line.split(" # ").next().unwrap().trim();
        let (field, value) = match line.strip_prefix("- ") {
            Some(first) => {
                products.push(BTreeMap::new());
                first.split_once(": ").unwrap()
            }
            None => match line.split_once(": ") {
                Some(pair) => pair,
                None => continue,
            },
        };
        products
            .last_mut()
            .unwrap()
            .insert(field.to_owned(), value.trim().to_owned());
    }
    assert!(
        products.len() >= 8,
        "shopsmart.yaml's catalogue: {products:?}"
    );
    for product in products {
        let cents = {
            let (whole, part) = product["price"]
                .split_once('.')
                .unwrap_or((&product["price"], "0"));
            whole.parse::<i64>().unwrap() * 100 + format!("{part:0<2}").parse::<i64>().unwrap()
        };
        let s = |v: &str| AttributeValue::S(v.to_owned());
        shop.client
            .put_item()
            .table_name(&shop.tables.products)
            .item("productId", s(&product["id"]))
            .item("name", s(&product["name"]))
            .item("description", s(&product["description"]))
            .item("priceCents", AttributeValue::N(cents.to_string()))
            .item(
                "currency",
                s(product.get("currency").map_or("USD", String::as_str)),
            )
            .item("imageUrl", s(&product["image"]))
            .item("stock", AttributeValue::N(product["stock"].clone()))
            .item("onSale", AttributeValue::Bool(true))
            .item("seededBy", s("shopsmart-dev"))
            .send()
            .await
            .expect("seeding a product");
    }
}

fn minus(a: TableUnits, b: TableUnits) -> TableUnits {
    TableUnits {
        products: a.products - b.products,
        carts: a.carts - b.carts,
        orders: a.orders - b.orders,
    }
}

#[tokio::test]
async fn each_route_consumes_what_the_contract_says() {
    let m = Measuring::new().await;
    // The test shop's own products that shopsmart.yaml does not have go (its `mug` is overwritten by the
    // file's), so the catalogue is exactly the file's.
    for extra in ["tee", "poster"] {
        let key = AttributeValue::S(extra.into());
        let table = &m.shop.tables.products;
        m.shop
            .client
            .delete_item()
            .table_name(table)
            .key("productId", key)
            .send()
            .await
            .unwrap();
    }
    let page_view = m
        .measure("GET /products", Req::get("/products?limit=50"), 200)
        .await;
    assert_eq!(page_view, capacity::PAGE_VIEW);

    let cart = new_cart_id();
    let add = |cart: &str, product: &str| {
        Req::post("/cart")
            .cart(cart)
            .json(json!({"productId": product, "qty": 1}))
    };
    let add_to_cart = m.measure("POST /cart", add(&cart, "mug"), 200).await;
    assert_eq!(add_to_cart, capacity::ADD_TO_CART);

    let checkout = m
        .measure("POST /checkout", Req::post("/checkout").cart(&cart), 201)
        .await;
    assert_eq!(checkout, capacity::CHECKOUT);

    let two_lines = new_cart_id();
    m.shop.send(add(&two_lines, "cap")).await.expect(200);
    m.shop.send(add(&two_lines, "tote")).await.expect(200);
    let of_two = m
        .measure(
            "POST /checkout",
            Req::post("/checkout").cart(&two_lines),
            201,
        )
        .await;
    let extra_line = RouteCapacity {
        route: "POST /checkout",
        half_read_units: minus(of_two.half_read_units, checkout.half_read_units),
        write_units: minus(of_two.write_units, checkout.write_units),
    };
    assert_eq!(extra_line, capacity::CHECKOUT_EXTRA_LINE);
}
