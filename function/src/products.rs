//! The catalogue: `GET /products`, `GET /products/{productId}`, and the batch read that cart and
//! checkout use to price lines on the server. A product whose `onSale` is `false` (the deployer takes a
//! product that left `shopsmart.yaml` off sale) is not sold: it is not listed, and to carts and checkout it
//! is absent; items without `onSale` are on sale.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use axum::extract::{Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::contract::ON_SALE_ATTRIBUTE as ON_SALE;
use crate::cursor::{decode_cursor, encode_cursor};
use crate::error::{ApiError, ApiResult, Throttled};
use crate::item::{self, Item};
use crate::product_id::{ProductId, ProductIdPath};
use crate::state::AppState;

pub const DEFAULT_PAGE_SIZE: i32 = 50;
pub const MAX_PAGE_SIZE: i32 = 100;
/// BatchGetItem takes at most 100 keys per call.
const BATCH_GET_MAX_KEYS: usize = 100;
/// UnprocessedKeys happen under throttling; retry a few times with growing pauses (0.6 s in all), then give
/// up: 503 `busy`.
const BATCH_GET_MAX_ATTEMPTS: u32 = 5;

/// Whether the item is for sale: `onSale` missing or not `false`.
fn on_sale(item: &Item) -> bool {
    item.get(ON_SALE) != Some(&AttributeValue::Bool(false))
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    /// `false` for a product taken off sale (never listed, never sold; a cart line for it shows as
    /// unavailable).
    #[serde(skip)]
    pub on_sale: bool,
    pub product_id: String,
    pub name: String,
    pub description: String,
    pub price_cents: i64,
    pub currency: String,
    pub image_url: String,
    pub stock: i64,
}

impl Product {
    pub fn from_item(item: &Item) -> anyhow::Result<Self> {
        let product_id = item::string(item, "productId")?;
        let read = || -> anyhow::Result<Product> {
            Ok(Product {
                on_sale: on_sale(item),
                product_id: product_id.clone(),
                name: item::string(item, "name")?,
                description: item::optional_string(item, "description")?.unwrap_or_default(),
                price_cents: item::integer(item, "priceCents")?,
                currency: item::optional_string(item, "currency")?.unwrap_or_else(|| "USD".into()),
                image_url: item::optional_string(item, "imageUrl")?.unwrap_or_default(),
                stock: item::integer(item, "stock")?,
            })
        };
        read().with_context(|| format!("reading product item ({product_id})"))
    }
}

#[derive(Debug, Deserialize)]
pub struct ListParams {
    limit: Option<String>,
    cursor: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductPage {
    products: Vec<Product>,
    next_cursor: Option<String>,
}

fn parse_limit(raw: Option<&str>) -> Result<i32, ApiError> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_PAGE_SIZE);
    };
    match raw.parse::<i32>() {
        Ok(limit) if (1..=MAX_PAGE_SIZE).contains(&limit) => Ok(limit),
        _ => Err(ApiError::bad_request(
            "invalid_limit",
            format!("limit must be a whole number from 1 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE}); got '{raw}'."),
        )),
    }
}

pub async fn list_products(
    State(state): State<AppState>,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<ProductPage>> {
    let Query(params) = params.map_err(|_| {
        ApiError::bad_request(
            "invalid_query",
            "The query string could not be read; use ?limit=N&cursor=C.",
        )
    })?;
    let limit = parse_limit(params.limit.as_deref())?;
    let start = params.cursor.as_deref().map(decode_cursor).transpose()?;

    let mut scan = state
        .dynamodb
        .scan()
        .table_name(&state.tables.products)
        // Applied after the `limit` items are read: a page may hold fewer (the cursor still goes on).
        .filter_expression("attribute_not_exists(#onSale) OR #onSale <> :off")
        .expression_attribute_names("#onSale", ON_SALE)
        .expression_attribute_values(":off", AttributeValue::Bool(false))
        .limit(limit);
    if let Some(start) = &start {
        scan = scan.exclusive_start_key("productId", item::s(start.as_str()));
    }
    let output = scan
        .send()
        .await
        .with_context(|| format!("scanning products table ({})", state.tables.products))?;

    let products = output
        .items()
        .iter()
        .map(Product::from_item)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let next_cursor = match output.last_evaluated_key() {
        Some(key) => Some(encode_cursor(&item::string(key, "productId")?)),
        None => None,
    };
    Ok(Json(ProductPage {
        products,
        next_cursor,
    }))
}

pub async fn get_product(
    State(state): State<AppState>,
    ProductIdPath(product_id): ProductIdPath,
) -> ApiResult<Json<Product>> {
    match load_product(&state, &product_id).await? {
        Some(product) => Ok(Json(product)),
        None => Err(product_not_found(&product_id)),
    }
}

pub fn product_not_found(product_id: &ProductId) -> ApiError {
    ApiError::not_found(
        "product_not_found",
        format!(
            "There is no product '{}'. GET /products lists the products on sale.",
            product_id.as_str()
        ),
    )
}

pub async fn load_product(
    state: &AppState,
    product_id: &ProductId,
) -> anyhow::Result<Option<Product>> {
    let output = state
        .dynamodb
        .get_item()
        .table_name(&state.tables.products)
        .key("productId", item::s(product_id.as_str()))
        .send()
        .await
        .with_context(|| format!("reading product ({})", product_id.as_str()))?;
    output
        .item()
        .filter(|item| on_sale(item))
        .map(Product::from_item)
        .transpose()
}

/// How a batch of products is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    /// Strongly consistent (1 RCU per product): checkout prices the order from it.
    Consistent,
    /// Eventually consistent (half the capacity; may miss a change of the last second): the cart's view,
    /// whose prices and stock the checkout reads again and its transaction checks.
    Eventual,
}

/// Reads many products in one round trip (per 100 ids), retrying UnprocessedKeys with bounded backoff.
/// Absent products are missing from the map; off-sale ones are in it with `on_sale: false` (their name
/// tells the shopper which cart line is no longer sold).
pub async fn load_products(
    state: &AppState,
    product_ids: &[&str],
    read: Read,
) -> anyhow::Result<HashMap<String, Product>> {
    let mut products = HashMap::with_capacity(product_ids.len());
    for chunk in product_ids.chunks(BATCH_GET_MAX_KEYS) {
        let keys = chunk
            .iter()
            .map(|id| HashMap::from([("productId".to_string(), item::s(*id))]))
            .collect::<Vec<_>>();
        let mut pending = KeysAndAttributes::builder()
            .set_keys(Some(keys))
            .consistent_read(read == Read::Consistent)
            .build()
            .context("building BatchGetItem keys for products")?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let output = state
                .dynamodb
                .batch_get_item()
                .request_items(&state.tables.products, pending)
                .send()
                .await
                .with_context(|| {
                    format!(
                        "batch-reading products ({}) from {}",
                        chunk.join(","),
                        state.tables.products
                    )
                })?;
            for found in output
                .responses()
                .and_then(|r| r.get(&state.tables.products))
                .into_iter()
                .flatten()
            {
                let product = Product::from_item(found)?;
                products.insert(product.product_id.clone(), product);
            }
            match output
                .unprocessed_keys()
                .and_then(|u| u.get(&state.tables.products))
                .filter(|k| !k.keys().is_empty())
            {
                None => break,
                Some(_) if attempt >= BATCH_GET_MAX_ATTEMPTS => {
                    // DynamoDB leaves keys unprocessed when the table's read capacity is used up: busy.
                    return Err(anyhow::Error::new(Throttled(format!(
                        "batch-reading products from {}: keys still unprocessed after {attempt} attempts",
                        state.tables.products
                    ))));
                }
                Some(unprocessed) => {
                    pending = unprocessed.clone();
                    tokio::time::sleep(Duration::from_millis(20 << attempt)).await;
                }
            }
        }
    }
    Ok(products)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_defaults_and_bounds() {
        assert_eq!(parse_limit(None).unwrap(), 50);
        assert_eq!(parse_limit(Some("100")).unwrap(), 100);
        for bad in ["0", "101", "-1", "1.5", "abc", ""] {
            assert!(parse_limit(Some(bad)).is_err(), "{bad}");
        }
    }
}
