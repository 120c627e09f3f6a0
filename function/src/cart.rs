//! The cart: `GET /cart`, `POST /cart`, `PUT /cart/{productId}`, `DELETE /cart/{productId}`.
//! One item per line in the Carts table (cartId + productId); prices are never stored in the cart,
//! they are read from Products every time the cart is shown or checked out.

use std::collections::HashMap;

use anyhow::Context;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::cart_id::CartId;
use crate::error::{ApiError, ApiResult};
use crate::item;
use crate::json_body::JsonBody;
use crate::money::{line_total_cents, sum_cents};
use crate::product_id::{ProductId, ProductIdPath};
use crate::products::{load_products, product_not_found, Product, Read};
use crate::state::AppState;

/// At most 49 distinct lines (not 50): checkout is ONE DynamoDB transaction of 1 order Put + 1 stock Update
/// per line + 1 cart-line Delete per line, and a transaction holds at most 100 actions: 1 + 49 + 49 = 99.
pub const MAX_CART_LINES: usize = 49;
/// Quantity per line after any change.
pub const MAX_LINE_QTY: i64 = 99;
/// Carts expire (DynamoDB TTL on `expiresAt`) 7 days after the last change.
const CART_TTL_SECONDS: i64 = 7 * 24 * 60 * 60;
pub const DEFAULT_CURRENCY: &str = "USD";

/// A line as stored: which product and how many.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredLine {
    pub product_id: String,
    pub qty: i64,
}

/// A line as shown and ordered: priced from the Products table.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PricedLine {
    pub product_id: String,
    pub name: String,
    pub price_cents: i64,
    pub qty: i64,
    pub line_total_cents: i64,
    pub image_url: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CartView {
    cart_id: String,
    lines: Vec<PricedLine>,
    total_cents: i64,
    currency: String,
    /// Lines whose product is no longer sold: shown so the shopper can remove them (checkout refuses them
    /// with 409 `product_unavailable`); not in the total.
    unavailable: Vec<UnavailableLine>,
}

/// A cart line whose product was taken off sale (`name` known) or removed from the table (`name` null).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct UnavailableLine {
    pub product_id: String,
    pub name: Option<String>,
    pub qty: i64,
}

#[derive(Debug)]
pub struct PricedCart {
    pub lines: Vec<PricedLine>,
    pub total_cents: i64,
    pub currency: String,
    /// Lines whose product is no longer sold (off sale or gone from the catalogue).
    pub unavailable: Vec<UnavailableLine>,
}

pub fn expires_at(now: OffsetDateTime) -> i64 {
    now.unix_timestamp() + CART_TTL_SECONDS
}

/// Reads every live line of a cart with a consistent Query (49 lines are far below the 1 MB page size, but
/// pages are followed anyway so a cart over the cap from a concurrent add is still read completely).
/// DynamoDB's TTL deletes expired items lazily (often a day or two late), so expired lines are filtered out
/// here: to the shop they are gone the moment they expire.
pub async fn read_lines(state: &AppState, cart_id: &CartId) -> anyhow::Result<Vec<StoredLine>> {
    let items = state
        .dynamodb
        .query()
        .table_name(&state.tables.carts)
        .key_condition_expression("cartId = :cartId")
        .filter_expression("expiresAt > :now")
        .expression_attribute_values(":cartId", item::s(cart_id.as_str()))
        .expression_attribute_values(":now", item::n(OffsetDateTime::now_utc().unix_timestamp()))
        .consistent_read(true)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .with_context(|| {
            format!(
                "querying cart ({}) in {}",
                cart_id.as_str(),
                state.tables.carts
            )
        })?;
    items
        .iter()
        .map(|line| {
            Ok(StoredLine {
                product_id: item::string(line, "productId")?,
                qty: item::integer(line, "qty")?,
            })
        })
        .collect()
}

pub fn price_lines(
    lines: &[StoredLine],
    products: &HashMap<String, Product>,
) -> Result<PricedCart, ApiError> {
    let mut priced = Vec::with_capacity(lines.len());
    let mut unavailable = Vec::new();
    let mut currency: Option<String> = None;
    for line in lines {
        let Some(product) = products.get(&line.product_id).filter(|p| p.on_sale) else {
            unavailable.push(UnavailableLine {
                product_id: line.product_id.clone(),
                name: products.get(&line.product_id).map(|p| p.name.clone()),
                qty: line.qty,
            });
            continue;
        };
        match &currency {
            None => currency = Some(product.currency.clone()),
            Some(existing) if *existing != product.currency => {
                return Err(ApiError::conflict(
                    "mixed_currency",
                    "The cart holds products priced in different currencies; remove one of them.",
                ))
            }
            Some(_) => {}
        }
        priced.push(PricedLine {
            product_id: product.product_id.clone(),
            name: product.name.clone(),
            price_cents: product.price_cents,
            qty: line.qty,
            line_total_cents: line_total_cents(product.price_cents, line.qty)?,
            image_url: product.image_url.clone(),
        });
    }
    Ok(PricedCart {
        total_cents: sum_cents(priced.iter().map(|l| l.line_total_cents))?,
        lines: priced,
        currency: currency.unwrap_or_else(|| DEFAULT_CURRENCY.to_string()),
        unavailable,
    })
}

async fn cart_view(state: &AppState, cart_id: &CartId) -> ApiResult<Json<CartView>> {
    let snapshot = Snapshot::read(state, cart_id, None).await?;
    Ok(Json(snapshot.view(cart_id)?))
}

/// A cart as read before a change, with every product its view needs (one Query, one BatchGetItem).
///
/// A change reads first and writes last: its answer is this snapshot with the change applied, not a second
/// read. So the write is the request's last DynamoDB call, and a request DynamoDB throttles (503 `busy`) has
/// written nothing: repeating it, even `POST /cart`, never counts twice.
struct Snapshot {
    lines: Vec<StoredLine>,
    products: HashMap<String, Product>,
}

impl Snapshot {
    async fn read(
        state: &AppState,
        cart_id: &CartId,
        also: Option<&ProductId>,
    ) -> anyhow::Result<Self> {
        let lines = read_lines(state, cart_id).await?;
        let mut ids = lines
            .iter()
            .map(|l| l.product_id.as_str())
            .collect::<Vec<_>>();
        if let Some(extra) = also {
            if !ids.contains(&extra.as_str()) {
                ids.push(extra.as_str());
            }
        }
        let products = if ids.is_empty() {
            HashMap::new()
        } else {
            load_products(state, &ids, Read::Eventual).await?
        };
        Ok(Snapshot { lines, products })
    }

    /// The line's quantity now (`None`: no line).
    fn qty(&self, product_id: &ProductId) -> Option<i64> {
        self.lines
            .iter()
            .find(|l| l.product_id == product_id.as_str())
            .map(|l| l.qty)
    }

    /// The snapshot after the line of `product_id` was set to `qty` (0: removed), in the Query's order.
    fn with_line(mut self, product_id: &ProductId, qty: i64) -> Self {
        self.lines.retain(|l| l.product_id != product_id.as_str());
        if qty > 0 {
            self.lines.push(StoredLine {
                product_id: product_id.as_str().to_string(),
                qty,
            });
        }
        self.lines.sort_by(|a, b| a.product_id.cmp(&b.product_id));
        self
    }

    fn view(&self, cart_id: &CartId) -> ApiResult<CartView> {
        // A product no longer sold is listed apart, out of the total; checkout refuses it by id.
        let priced = price_lines(&self.lines, &self.products)?;
        Ok(CartView {
            cart_id: cart_id.as_str().to_string(),
            lines: priced.lines,
            total_cents: priced.total_cents,
            currency: priced.currency,
            unavailable: priced.unavailable,
        })
    }
}

pub async fn get_cart(State(state): State<AppState>, cart_id: CartId) -> ApiResult<Json<CartView>> {
    cart_view(&state, &cart_id).await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddToCart {
    product_id: String,
    qty: i64,
}

#[derive(Debug, Deserialize)]
pub struct SetQuantity {
    qty: i64,
}

fn quantity_out_of_range(detail: String) -> ApiError {
    ApiError::unprocessable(
        "quantity_out_of_range",
        format!("{detail} A cart line holds 1 to {MAX_LINE_QTY} units."),
    )
}

fn cart_full() -> ApiError {
    ApiError::conflict(
        "cart_full",
        format!(
            "The cart already holds {MAX_CART_LINES} different products, the most one checkout can take \
             (one order is one DynamoDB transaction of at most 100 writes). Check out or remove a line first."
        ),
    )
}

fn check_stock(product: &Product, wanted: i64) -> ApiResult<()> {
    if wanted > product.stock {
        return Err(ApiError::conflict(
            "insufficient_stock",
            format!(
                "Only {} of '{}' ({}) are in stock; you asked for {wanted}. Lower the quantity.",
                product.stock, product.name, product.product_id
            ),
        ));
    }
    Ok(())
}

/// Shared checks before a line is created or changed: product on sale, line cap. Returns the product and
/// the cart as read.
async fn product_for_line(
    state: &AppState,
    cart_id: &CartId,
    product_id: &ProductId,
) -> ApiResult<(Product, Snapshot)> {
    let snapshot = Snapshot::read(state, cart_id, Some(product_id)).await?;
    let product = snapshot
        .products
        .get(product_id.as_str())
        .filter(|p| p.on_sale)
        .cloned()
        .ok_or_else(|| product_not_found(product_id))?;
    if snapshot.qty(product_id).is_none() && snapshot.lines.len() >= MAX_CART_LINES {
        return Err(cart_full());
    }
    Ok((product, snapshot))
}

pub async fn add_to_cart(
    State(state): State<AppState>,
    cart_id: CartId,
    JsonBody(body): JsonBody<AddToCart>,
) -> ApiResult<Json<CartView>> {
    let product_id = ProductId::parse(&body.product_id)?;
    if !(1..=MAX_LINE_QTY).contains(&body.qty) {
        return Err(quantity_out_of_range(format!(
            "qty must be 1 to {MAX_LINE_QTY}; got {}.",
            body.qty
        )));
    }
    let (product, snapshot) = product_for_line(&state, &cart_id, &product_id).await?;
    let current = snapshot.qty(&product_id);
    let after = current.unwrap_or(0) + body.qty;
    if after > MAX_LINE_QTY {
        return Err(quantity_out_of_range(format!(
            "The cart already has {} of '{}'; adding {} would make {after}.",
            current.unwrap_or(0),
            product_id.as_str(),
            body.qty
        )));
    }
    check_stock(&product, after)?;

    // Optimistic: the write applies only if the line is still what was read (an expired line that TTL has
    // not deleted yet counts as absent), so a racing add can neither break the per-line cap nor be lost.
    let now = OffsetDateTime::now_utc();
    let write = state
        .dynamodb
        .update_item()
        .table_name(&state.tables.carts)
        .key("cartId", item::s(cart_id.as_str()))
        .key("productId", item::s(product_id.as_str()))
        .update_expression("SET qty = :after, expiresAt = :expiresAt")
        .expression_attribute_values(":after", item::n(after))
        .expression_attribute_values(":expiresAt", item::n(expires_at(now)))
        .expression_attribute_values(":now", item::n(now.unix_timestamp()));
    let write = match current {
        Some(qty) => write
            .condition_expression("qty = :current AND expiresAt > :now")
            .expression_attribute_values(":current", item::n(qty)),
        None => write.condition_expression("attribute_not_exists(qty) OR expiresAt <= :now"),
    };
    if let Err(err) = write.send().await {
        if err
            .as_service_error()
            .is_some_and(|e| e.is_conditional_check_failed_exception())
        {
            return Err(ApiError::conflict(
                "cart_changed",
                format!(
                    "The cart line for '{}' changed while this request ran (another tab or device?). \
                     Reload the cart and try again.",
                    product_id.as_str()
                ),
            ));
        }
        return Err(ApiError::from(anyhow::Error::new(err).context(format!(
            "adding to cart line ({}/{})",
            cart_id.as_str(),
            product_id.as_str()
        ))));
    }
    Ok(Json(snapshot.with_line(&product_id, after).view(&cart_id)?))
}

pub async fn set_quantity(
    State(state): State<AppState>,
    cart_id: CartId,
    ProductIdPath(product_id): ProductIdPath,
    JsonBody(body): JsonBody<SetQuantity>,
) -> ApiResult<Json<CartView>> {
    if !(0..=MAX_LINE_QTY).contains(&body.qty) {
        return Err(quantity_out_of_range(format!(
            "qty must be 0 (remove the line) to {MAX_LINE_QTY}; got {}.",
            body.qty
        )));
    }
    if body.qty == 0 {
        return remove_line(State(state), cart_id, ProductIdPath(product_id)).await;
    }
    let (product, snapshot) = product_for_line(&state, &cart_id, &product_id).await?;
    check_stock(&product, body.qty)?;
    state
        .dynamodb
        .put_item()
        .table_name(&state.tables.carts)
        .item("cartId", item::s(cart_id.as_str()))
        .item("productId", item::s(product_id.as_str()))
        .item("qty", item::n(body.qty))
        .item("expiresAt", item::n(expires_at(OffsetDateTime::now_utc())))
        .send()
        .await
        .with_context(|| {
            format!(
                "writing cart line ({}/{})",
                cart_id.as_str(),
                product_id.as_str()
            )
        })?;
    Ok(Json(
        snapshot.with_line(&product_id, body.qty).view(&cart_id)?,
    ))
}

pub async fn remove_line(
    State(state): State<AppState>,
    cart_id: CartId,
    ProductIdPath(product_id): ProductIdPath,
) -> ApiResult<Json<CartView>> {
    let snapshot = Snapshot::read(&state, &cart_id, None).await?;
    delete_line(&state, &cart_id, &product_id).await?;
    Ok(Json(snapshot.with_line(&product_id, 0).view(&cart_id)?))
}

async fn delete_line(
    state: &AppState,
    cart_id: &CartId,
    product_id: &ProductId,
) -> anyhow::Result<()> {
    state
        .dynamodb
        .delete_item()
        .table_name(&state.tables.carts)
        .key("cartId", item::s(cart_id.as_str()))
        .key("productId", item::s(product_id.as_str()))
        .send()
        .await
        .with_context(|| {
            format!(
                "deleting cart line ({}/{})",
                cart_id.as_str(),
                product_id.as_str()
            )
        })?;
    Ok(())
}
