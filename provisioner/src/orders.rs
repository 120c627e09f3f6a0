//! `shopsmart-deploy orders [--last N] [--follow]`: the newest orders, read from the Orders table as the
//! function stored them (`shopsmart_function::orders::Order`), totals in dollars and cents as the storefront
//! shows them (integer cents, `$1,234.56`).
//!
//! Cost: the Orders table has no index by time, so the only read that finds the newest orders is a Scan,
//! which DynamoDB charges by the size of every item it reads (the ProjectionExpression trims what comes
//! back, not what is charged): per page, the items' total size rounded up to 4 KB, halved for this
//! eventually consistent read. One read is at most [`MAX_PAGES`] pages of [`PAGE_ITEMS`] orders, so at
//! most 200 orders: an order of a few lines is about 1 KB, so a full read is about 200 KB / 4 KB / 2 = 25
//! RCUs (a shop with 10 orders: 2 RCUs), and never more than 4 pages × 1 MB (DynamoDB's page cap) = 512
//! RCUs. A table with more orders is read only in part, and the learner is told so.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::bail;
use aws_sdk_dynamodb::types::ReturnConsumedCapacity;
use serde::Serialize;
use shopsmart_function::orders::Order;

use crate::aws_error::AwsContext;
use crate::freetier::money::format_usd;
use crate::logs::{is_broken_pipe, StopSignals};
use crate::names::TableKind;
use crate::report::Reporter;
use crate::resources::Ctx;

/// Orders per Scan page (the Scan's `Limit`).
pub const PAGE_ITEMS: i32 = 50;
/// Pages per read: at most `PAGE_ITEMS * MAX_PAGES` = 200 orders.
pub const MAX_PAGES: usize = 4;
/// `--follow` reads the table again this often: a read of a small shop's table costs about 2 RCUs, well
/// inside the 1 RCU per second the table is provisioned with.
pub const POLL: Duration = Duration::from_secs(5);

/// The attributes `Order::from_item` reads (`status` is a DynamoDB reserved word, hence the `#` names).
const ATTRIBUTES: [&str; 7] = [
    "orderId",
    "cartId",
    "lines",
    "totalCents",
    "currency",
    "createdAt",
    "status",
];

/// An order as printed: the stored order and its total as the storefront shows it.
#[derive(Debug, Serialize)]
pub struct Shown {
    #[serde(flatten)]
    pub order: Order,
    pub total: String,
}

impl Shown {
    fn new(order: Order) -> Self {
        let total = money(order.total_cents, &order.currency);
        Self { order, total }
    }

    /// `2026-11-30T14:20:01.123Z  {orderId}  $123.45  2 × Mug, 1 × Tee`
    pub fn line(&self) -> String {
        let lines: Vec<String> = (self.order.lines.iter())
            .map(|line| format!("{} × {}", line.qty, line.name))
            .collect();
        let order = &self.order;
        let (at, id) = (&order.created_at, &order.order_id);
        format!("{at}  {id}  {:>10}  {}", self.total, lines.join(", "))
    }
}

/// `$123.45` for 12345 cents in USD (the storefront's en-US format); other currencies as `123.45 EUR`.
pub fn money(cents: i64, currency: &str) -> String {
    let usd = format_usd(cents.unsigned_abs());
    let sign = if cents < 0 { "-" } else { "" };
    match currency {
        "USD" => format!("{sign}{usd}"),
        _ => format!("{sign}{} {currency}", &usd[1..]),
    }
}

/// One bounded read of the whole table (see the module's doc): the orders, newest first, and whether the
/// table held more than one read takes.
async fn read(ctx: &Ctx) -> anyhow::Result<(Vec<Order>, bool)> {
    let table = ctx.names.table(TableKind::Orders);
    let (mut orders, mut start, mut rcus) = (Vec::new(), None, 0.0);
    for _ in 0..MAX_PAGES {
        let mut scan = (ctx.aws.dynamodb.scan().table_name(&table).limit(PAGE_ITEMS))
            .set_exclusive_start_key(start)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .projection_expression(ATTRIBUTES.map(|name| format!("#{name}")).join(", "));
        for name in ATTRIBUTES {
            scan = scan.expression_attribute_names(format!("#{name}"), name);
        }
        let page = match scan.send().await {
            Err(err) if err.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => bail!(
                "the Orders table {table} does not exist; hint: run `shopsmart-deploy up` first (or \
                 `shopsmart-deploy dev` for the shop on this machine), and check --stage/--region"
            ),
            page => page.aws_context(|| format!("reading orders (Scan of {table})"))?,
        };
        rcus += page
            .consumed_capacity()
            .and_then(|c| c.capacity_units())
            .unwrap_or(0.0);
        orders.extend(
            page.items()
                .iter()
                .map(Order::from_item)
                .collect::<anyhow::Result<Vec<_>>>()?,
        );
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            break;
        }
    }
    tracing::info!(orders = orders.len(), rcus, "read the Orders table");
    orders.sort_by(|a, b| (&b.created_at, &b.order_id).cmp(&(&a.created_at, &a.order_id)));
    Ok((orders, start.is_some()))
}

/// `orders [--last N] [--follow]`: the newest `last` orders, then with `follow` the new ones as they are
/// placed (a read every [`POLL`]) until Ctrl-C or SIGTERM.
pub async fn run(ctx: &Ctx, last: usize, follow: bool, out: &Reporter) -> anyhow::Result<()> {
    // Listening starts before the first read, as for `logs --follow`.
    let mut stop = follow.then(StopSignals::listen).transpose()?;
    let (orders, partial) = read(ctx).await?;
    if partial {
        out.aside(&format!(
            "note: the Orders table holds more than the {} orders one read takes (a Scan, in key order, not \
             by time): these are the newest of those read, and newer ones may be missing.",
            PAGE_ITEMS as usize * MAX_PAGES
        ));
    }
    if orders.is_empty() {
        out.aside("No orders yet: place one on the website (or through `shopsmart-deploy dev`).");
    }
    let mut seen: HashSet<String> = orders.iter().map(|o| o.order_id.clone()).collect();
    let newest: Vec<Shown> = orders.into_iter().take(last).map(Shown::new).collect();
    let Some(stop) = stop.as_mut() else {
        return out.result(&newest, |shown| {
            shown.iter().map(Shown::line).collect::<Vec<_>>().join("\n")
        });
    };
    let followed = async {
        for shown in &newest {
            out.stream_value(shown, Shown::line)?;
        }
        out.aside(&format!(
            "Following new orders, a read every {} s (Ctrl-C to stop) ...",
            POLL.as_secs()
        ));
        let mut poll = tokio::time::interval(POLL);
        poll.tick().await;
        loop {
            tokio::select! {
                _ = stop.received() => return anyhow::Ok(()),
                _ = poll.tick() => {
                    let (mut orders, _) = read(ctx).await?;
                    orders.retain(|order| seen.insert(order.order_id.clone()));
                    for order in orders.into_iter().rev() {
                        out.stream_value(&Shown::new(order), Shown::line)?;
                    }
                }
            }
        }
    };
    match followed.await {
        // The reader went away (`orders --follow | head`): that ends the output, it is not a failure.
        Err(err) if is_broken_pipe(&err) => Ok(()),
        result => result,
    }
}

#[cfg(test)]
mod tests {
    use super::money;

    #[test]
    fn money_is_dollars_and_cents_from_integer_cents() {
        assert_eq!(money(12345, "USD"), "$123.45");
        assert_eq!(money(5, "USD"), "$0.05");
        assert_eq!(money(123_456_789, "USD"), "$1,234,567.89");
        assert_eq!(money(250, "EUR"), "2.50 EUR");
    }
}
