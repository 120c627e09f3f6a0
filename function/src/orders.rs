//! Orders: the stored shape, `GET /orders/{orderId}` (only for the cart that placed it).

use anyhow::{anyhow, Context};
use aws_sdk_dynamodb::types::AttributeValue;
use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;
use uuid::Uuid;

use crate::cart::PricedLine;
use crate::cart_id::CartId;
use crate::error::{ApiError, ApiResult};
use crate::item::{self, Item};
use crate::state::AppState;

pub const STATUS_PLACED: &str = "PLACED";

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub order_id: String,
    pub cart_id: String,
    pub lines: Vec<PricedLine>,
    pub total_cents: i64,
    pub currency: String,
    pub created_at: String,
    pub status: String,
    #[serde(skip)]
    pub idempotency_key: Option<String>,
}

impl Order {
    pub fn to_item(&self) -> Item {
        let lines = self
            .lines
            .iter()
            .map(|line| {
                AttributeValue::M(
                    [
                        ("productId", item::s(&line.product_id)),
                        ("name", item::s(&line.name)),
                        ("priceCents", item::n(line.price_cents)),
                        ("qty", item::n(line.qty)),
                        ("lineTotalCents", item::n(line.line_total_cents)),
                        ("imageUrl", item::s(&line.image_url)),
                    ]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
                )
            })
            .collect();
        let mut stored: Item = [
            ("orderId", item::s(&self.order_id)),
            ("cartId", item::s(&self.cart_id)),
            ("lines", AttributeValue::L(lines)),
            ("totalCents", item::n(self.total_cents)),
            ("currency", item::s(&self.currency)),
            ("createdAt", item::s(&self.created_at)),
            ("status", item::s(&self.status)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        if let Some(key) = &self.idempotency_key {
            stored.insert("idempotencyKey".into(), item::s(key));
        }
        stored
    }

    pub fn from_item(stored: &Item) -> anyhow::Result<Self> {
        let order_id = item::string(stored, "orderId")?;
        let read = || -> anyhow::Result<Order> {
            let lines = match stored.get("lines") {
                Some(AttributeValue::L(lines)) => lines
                    .iter()
                    .map(|line| {
                        let AttributeValue::M(line) = line else {
                            return Err(anyhow!("an order line is not a map"));
                        };
                        Ok(PricedLine {
                            product_id: item::string(line, "productId")?,
                            name: item::string(line, "name")?,
                            price_cents: item::integer(line, "priceCents")?,
                            qty: item::integer(line, "qty")?,
                            line_total_cents: item::integer(line, "lineTotalCents")?,
                            image_url: item::optional_string(line, "imageUrl")?.unwrap_or_default(),
                        })
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?,
                _ => return Err(anyhow!("attribute lines is missing or not a list")),
            };
            Ok(Order {
                order_id: order_id.clone(),
                cart_id: item::string(stored, "cartId")?,
                lines,
                total_cents: item::integer(stored, "totalCents")?,
                currency: item::string(stored, "currency")?,
                created_at: item::string(stored, "createdAt")?,
                status: item::string(stored, "status")?,
                idempotency_key: item::optional_string(stored, "idempotencyKey")?,
            })
        };
        read().with_context(|| format!("reading order item ({order_id})"))
    }
}

pub async fn load_order(state: &AppState, order_id: &str) -> anyhow::Result<Option<Order>> {
    let output = state
        .dynamodb
        .get_item()
        .table_name(&state.tables.orders)
        .key("orderId", item::s(order_id))
        .consistent_read(true)
        .send()
        .await
        .with_context(|| format!("reading order ({order_id}) from {}", state.tables.orders))?;
    output.item().map(Order::from_item).transpose()
}

fn order_not_found(order_id: &str) -> ApiError {
    ApiError::not_found(
        "order_not_found",
        format!("There is no order '{order_id}' for this cart. Orders are visible only with the X-Cart-Id that placed them."),
    )
}

pub async fn get_order(
    State(state): State<AppState>,
    cart_id: CartId,
    order_id: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> ApiResult<Json<Order>> {
    let invalid = || {
        ApiError::bad_request(
            "invalid_order_id",
            "An order id is a UUID such as the orderId returned by POST /checkout.",
        )
    };
    let Path(raw) = order_id.map_err(|_| invalid())?;
    let order_id = Uuid::try_parse(&raw)
        .map_err(|_| invalid())?
        .hyphenated()
        .to_string();
    match load_order(&state, &order_id).await? {
        // Another cart's order is reported exactly like a missing one: ids are not an oracle.
        Some(order) if order.cart_id == cart_id.as_str() => Ok(Json(order)),
        _ => Err(order_not_found(&order_id)),
    }
}
