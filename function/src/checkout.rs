//! `POST /checkout`: turns a cart into an order in ONE DynamoDB transaction, with a constant number of
//! round trips whatever the cart size: (1) Query the cart, (2) BatchGetItem its products,
//! (3) TransactWriteItems, plus (4) one GetItem only when an idempotent repeat must return the earlier order.

use anyhow::Context;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, Delete, Put, TransactWriteItem, Update,
};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::cart::{price_lines, read_lines, StoredLine, MAX_CART_LINES};
use crate::cart_id::CartId;
use crate::contract::ON_SALE_ATTRIBUTE as ON_SALE;
use crate::error::{ApiError, ApiResult, Throttled};
use crate::idempotency::{derived_order_id, idempotency_key};
use crate::item;
use crate::orders::{load_order, Order, STATUS_PLACED};
use crate::products::{load_products, Read};
use crate::state::AppState;

const CONDITIONAL_CHECK_FAILED: &str = "ConditionalCheckFailed";
const TRANSACTION_CONFLICT: &str = "TransactionConflict";
/// The reason DynamoDB gives an action of a transaction it cancelled for want of capacity.
const THROTTLING_ERROR: &str = "ThrottlingError";

pub async fn checkout(
    State(state): State<AppState>,
    cart_id: CartId,
    headers: HeaderMap,
) -> ApiResult<(StatusCode, Json<Order>)> {
    let key = idempotency_key(&headers)?;
    let order_id = match &key {
        Some(key) => derived_order_id(&cart_id, key),
        None => Uuid::now_v7(),
    }
    .hyphenated()
    .to_string();

    let lines = read_lines(&state, &cart_id).await?;
    if lines.is_empty() {
        // A repeat of a checkout that succeeded finds the cart emptied by it: answer with that order.
        if key.is_some() {
            if let Some(order) = load_order(&state, &order_id).await? {
                if order.cart_id == cart_id.as_str() {
                    return Ok((StatusCode::OK, Json(order)));
                }
            }
        }
        return Err(ApiError::bad_request(
            "cart_empty",
            "The cart is empty. Add products with POST /cart before checking out.",
        ));
    }
    if lines.len() > MAX_CART_LINES {
        return Err(ApiError::conflict(
            "cart_full",
            format!(
                "The cart holds {} different products; one checkout takes at most {MAX_CART_LINES}. \
                 Remove some lines and try again.",
                lines.len()
            ),
        ));
    }

    let ids = lines
        .iter()
        .map(|l| l.product_id.as_str())
        .collect::<Vec<_>>();
    let products = load_products(&state, &ids, Read::Consistent).await?;
    let priced = price_lines(&lines, &products)?;
    if !priced.unavailable.is_empty() {
        let ids: Vec<&str> = priced
            .unavailable
            .iter()
            .map(|line| line.product_id.as_str())
            .collect();
        return Err(no_longer_sold(&ids));
    }
    let short = lines
        .iter()
        .filter(|l| products[&l.product_id].stock < l.qty)
        .map(|l| l.product_id.as_str())
        .collect::<Vec<_>>();
    if !short.is_empty() {
        return Err(insufficient_stock(&short, &products));
    }

    let order = Order {
        order_id: order_id.clone(),
        cart_id: cart_id.as_str().to_string(),
        lines: priced.lines,
        total_cents: priced.total_cents,
        currency: priced.currency,
        created_at: now_rfc3339()?,
        status: STATUS_PLACED.to_string(),
        idempotency_key: key.clone(),
    };
    let actions = transaction(&state, &cart_id, &order, &lines)?;
    let result = state
        .dynamodb
        .transact_write_items()
        .set_transact_items(Some(actions))
        .send()
        .await;
    let err = match result {
        Ok(_) => {
            tracing::info!(order_id = %order.order_id, lines = order.lines.len(), total_cents = order.total_cents, "order placed");
            return Ok((StatusCode::CREATED, Json(order)));
        }
        Err(err) => err,
    };
    let reasons = match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancel)) => {
            cancel.cancellation_reasons().to_vec()
        }
        _ => {
            // A throttle (ProvisionedThroughputExceeded...) becomes 503 `busy`, anything else 500.
            return Err(ApiError::from(
                anyhow::Error::new(err).context(format!("writing order transaction ({order_id})")),
            ));
        }
    };
    explain_cancellation(&state, &cart_id, &order_id, &lines, &products, &reasons).await
}

fn now_rfc3339() -> anyhow::Result<String> {
    let now = OffsetDateTime::now_utc();
    // Millisecond precision is plenty for an order timestamp and keeps it short.
    let now = now
        .replace_nanosecond(now.millisecond() as u32 * 1_000_000)
        .context("truncating the order timestamp")?;
    now.format(&Rfc3339)
        .context("formatting the order timestamp")
}

/// Action order matters: index 0 is the order Put, 1..=n the stock Updates, n+1..=2n the cart Deletes,
/// in the order of `lines`; `explain_cancellation` reads the reasons by these indices.
fn transaction(
    state: &AppState,
    cart_id: &CartId,
    order: &Order,
    lines: &[StoredLine],
) -> anyhow::Result<Vec<TransactWriteItem>> {
    let mut actions = Vec::with_capacity(1 + 2 * lines.len());
    actions.push(
        TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name(&state.tables.orders)
                    .set_item(Some(order.to_item()))
                    .condition_expression("attribute_not_exists(orderId)")
                    .build()
                    .context("building the order Put")?,
            )
            .build(),
    );
    for line in lines {
        actions.push(
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(&state.tables.products)
                        .key("productId", item::s(&line.product_id))
                        .update_expression("SET stock = stock - :qty")
                        // Still on sale: the deployer may take it off sale after the cart was priced.
                        .condition_expression(
                            "stock >= :qty AND (attribute_not_exists(#onSale) OR #onSale <> :off)",
                        )
                        .expression_attribute_names("#onSale", ON_SALE)
                        .expression_attribute_values(":qty", item::n(line.qty))
                        .expression_attribute_values(":off", AttributeValue::Bool(false))
                        .build()
                        .context("building a stock Update")?,
                )
                .build(),
        );
    }
    for line in lines {
        actions.push(
            TransactWriteItem::builder()
                .delete(
                    Delete::builder()
                        .table_name(&state.tables.carts)
                        .key("cartId", item::s(cart_id.as_str()))
                        .key("productId", item::s(&line.product_id))
                        // The line must still hold what was priced: a concurrent edit cancels the order.
                        .condition_expression("qty = :qty")
                        .expression_attribute_values(":qty", item::n(line.qty))
                        .build()
                        .context("building a cart line Delete")?,
                )
                .build(),
        );
    }
    Ok(actions)
}

fn failed_with(reason: Option<&CancellationReason>, code: &str) -> bool {
    reason.and_then(|r| r.code()) == Some(code)
}

/// Why a checkout transaction was cancelled, read from its CancellationReasons (see `transaction` for the
/// index layout).
#[derive(Debug, PartialEq, Eq)]
enum Cancellation {
    /// DynamoDB throttled an action (`ThrottlingError`): nothing was written; 503 `busy`, never a 409. Checked
    /// first: a condition reported beside a throttle is retried and judged again.
    Throttled,
    /// The order Put failed its `attribute_not_exists`: an earlier checkout with this key placed it.
    OrderExists,
    /// These products' stock conditions failed.
    InsufficientStock(Vec<String>),
    /// A cart line no longer holds the priced quantity.
    CartChanged,
    /// DynamoDB cancelled because another transaction held the same items (real DynamoDB only).
    Conflict,
    Unexplained(Vec<String>),
}

fn classify_cancellation(lines: &[StoredLine], reasons: &[CancellationReason]) -> Cancellation {
    if reasons.iter().any(|r| r.code() == Some(THROTTLING_ERROR)) {
        return Cancellation::Throttled;
    }
    if failed_with(reasons.first(), CONDITIONAL_CHECK_FAILED) {
        return Cancellation::OrderExists;
    }
    let short = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| failed_with(reasons.get(1 + i), CONDITIONAL_CHECK_FAILED))
        .map(|(_, l)| l.product_id.clone())
        .collect::<Vec<_>>();
    if !short.is_empty() {
        return Cancellation::InsufficientStock(short);
    }
    if (0..lines.len())
        .any(|i| failed_with(reasons.get(1 + lines.len() + i), CONDITIONAL_CHECK_FAILED))
    {
        return Cancellation::CartChanged;
    }
    if reasons
        .iter()
        .any(|r| r.code() == Some(TRANSACTION_CONFLICT))
    {
        return Cancellation::Conflict;
    }
    Cancellation::Unexplained(
        reasons
            .iter()
            .map(|r| r.code().unwrap_or("None").to_string())
            .collect(),
    )
}

async fn explain_cancellation(
    state: &AppState,
    cart_id: &CartId,
    order_id: &str,
    lines: &[StoredLine],
    products: &std::collections::HashMap<String, crate::products::Product>,
    reasons: &[CancellationReason],
) -> ApiResult<(StatusCode, Json<Order>)> {
    match classify_cancellation(lines, reasons) {
        Cancellation::Throttled => Err(ApiError::Busy(anyhow::Error::new(Throttled(format!(
            "writing order transaction ({order_id}): cancelled for want of capacity ({THROTTLING_ERROR})"
        ))))),
        Cancellation::OrderExists => match load_order(state, order_id).await? {
            Some(order) if order.cart_id == cart_id.as_str() => Ok((StatusCode::OK, Json(order))),
            _ => Err(ApiError::Internal(anyhow::anyhow!(
                "writing order transaction ({order_id}): the order id exists but belongs to no matching order"
            ))),
        },
        Cancellation::InsufficientStock(short) => {
            let short = short.iter().map(String::as_str).collect::<Vec<_>>();
            // The stock condition also fails for a product taken off sale meanwhile: read them again.
            let now = load_products(state, &short, Read::Consistent).await?;
            let gone: Vec<&str> = short
                .iter()
                .copied()
                .filter(|id| now.get(*id).is_none_or(|p| !p.on_sale))
                .collect();
            if !gone.is_empty() {
                return Err(no_longer_sold(&gone));
            }
            Err(insufficient_stock(&short, products))
        }
        Cancellation::CartChanged => Err(ApiError::conflict(
            "cart_changed",
            "The cart changed while the order was being placed; nothing was ordered. Review the cart and check out again.",
        )),
        Cancellation::Conflict => Err(ApiError::conflict(
            "checkout_conflict",
            "Another checkout touched the same products at the same moment; nothing was ordered. Try again.",
        )),
        Cancellation::Unexplained(codes) => Err(ApiError::Internal(anyhow::anyhow!(
            "writing order transaction ({order_id}) was cancelled for reasons {codes:?}"
        ))),
    }
}

fn no_longer_sold(product_ids: &[&str]) -> ApiError {
    ApiError::conflict(
        "product_unavailable",
        format!(
            "These products are no longer sold: {}. Remove them with DELETE /cart/{{productId}} and try again.",
            product_ids.join(", ")
        ),
    )
}

fn insufficient_stock(
    product_ids: &[&str],
    products: &std::collections::HashMap<String, crate::products::Product>,
) -> ApiError {
    let named = product_ids
        .iter()
        .map(|id| match products.get(*id) {
            Some(p) => format!("'{}' ({id})", p.name),
            None => id.to_string(),
        })
        .collect::<Vec<_>>();
    ApiError::conflict(
        "insufficient_stock",
        format!(
            "Not enough stock for {}. Lower the quantity or remove the line, then check out again.",
            named.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons(codes: &[&str]) -> Vec<CancellationReason> {
        codes
            .iter()
            .map(|code| CancellationReason::builder().code(*code).build())
            .collect()
    }

    fn lines(ids: &[&str]) -> Vec<StoredLine> {
        ids.iter()
            .map(|id| StoredLine {
                product_id: id.to_string(),
                qty: 1,
            })
            .collect()
    }

    #[test]
    fn reads_the_reason_by_action_index() {
        let two = lines(&["a", "b"]);
        let ccf = CONDITIONAL_CHECK_FAILED;
        assert_eq!(
            classify_cancellation(&two, &reasons(&[ccf, "None", "None", ccf, "None"])),
            Cancellation::OrderExists
        );
        assert_eq!(
            classify_cancellation(&two, &reasons(&["None", "None", ccf, "None", "None"])),
            Cancellation::InsufficientStock(vec!["b".into()])
        );
        assert_eq!(
            classify_cancellation(&two, &reasons(&["None", "None", "None", "None", ccf])),
            Cancellation::CartChanged
        );
        assert_eq!(
            classify_cancellation(
                &two,
                &reasons(&["None", TRANSACTION_CONFLICT, "None", "None", "None"])
            ),
            Cancellation::Conflict
        );
        // A throttled action is busy even beside a failed condition (never insufficient_stock).
        assert_eq!(
            classify_cancellation(
                &two,
                &reasons(&["None", ccf, THROTTLING_ERROR, "None", "None"])
            ),
            Cancellation::Throttled
        );
        assert_eq!(
            classify_cancellation(
                &two,
                &reasons(&["None", "ValidationError", "None", "None", "None"])
            ),
            Cancellation::Unexplained(vec![
                "None".into(),
                "ValidationError".into(),
                "None".into(),
                "None".into(),
                "None".into()
            ])
        );
    }
}
