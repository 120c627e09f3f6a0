//! What the configured capacity sustains, for `plan` and `cost`: page views, add-to-carts and checkouts a
//! second from the tables' provisioned units and what each route consumes (measured:
//! `shopsmart_function::contract::capacity`, checked by function/tests/it/capacity.rs), the burst DynamoDB
//! keeps, and the API's throttle; the lower of the two is the shop's real limit.

use std::fmt::Write as _;

use serde::Serialize;
use shopsmart_function::contract::{capacity, RouteCapacity, TableUnits};

use super::estimate::provisioned_totals;
use super::money::format_usd;
use super::prices::PriceSheet;
use crate::config::model::{Billing, Config};
use crate::names::TableKind;

/// One shopper action and what sustains it. Rates are in tenths of a request a second (integers: 5 = 0.5/s).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sustained {
    pub action: &'static str,
    pub route: &'static str,
    /// What the tables sustain (`None` with on-demand tables: no provisioned limit, every request billed).
    pub tables_per_second_x10: Option<u64>,
    /// The tables' capacity that runs out first, e.g. "orders writes".
    pub limited_by: Vec<String>,
    /// How many go through at once after the tables were idle for [`capacity::BURST_SECONDS`].
    pub burst: Option<u64>,
    /// What the API's throttle lets through of this route alone (`None`: no throttle).
    pub api_per_second: Option<u32>,
}

impl Sustained {
    /// The real limit in tenths a second, and whether DynamoDB (not the API throttle) sets it.
    pub fn limit_x10(&self) -> Option<(u64, bool)> {
        let api = self.api_per_second.map(|rate| u64::from(rate) * 10);
        match (self.tables_per_second_x10, api) {
            (Some(tables), Some(api)) => Some((tables.min(api), tables <= api)),
            (Some(tables), None) => Some((tables, true)),
            (None, Some(api)) => Some((api, false)),
            (None, None) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CapacityReport {
    pub actions: Vec<Sustained>,
    /// Provisioned units of this stack's three tables (read, write), of the account's free 25 + 25.
    pub stack_units: (u32, u32),
    pub burst_seconds: u32,
    /// The API throttle's burst (requests), which bounds any burst of the tables too.
    pub api_burst: Option<u32>,
}

fn cost_on(units: &TableUnits, kind: TableKind) -> u32 {
    match kind {
        TableKind::Products => units.products,
        TableKind::Carts => units.carts,
        TableKind::Orders => units.orders,
    }
}

/// Per table and kind of unit this route uses: (label, units a second provisioned x 2, half units per request).
/// Reads are in half units on both sides; writes are doubled to match.
fn demands(billing: &Billing, route: &RouteCapacity) -> Vec<(String, u64, u64)> {
    let mut demands = Vec::new();
    for kind in TableKind::ALL {
        let Some(provisioned) = billing.capacity(kind) else {
            continue;
        };
        let reads = cost_on(&route.half_read_units, kind);
        if reads > 0 {
            let label = format!("{} reads", kind.suffix());
            demands.push((label, u64::from(provisioned.read) * 2, u64::from(reads)));
        }
        let writes = cost_on(&route.write_units, kind);
        if writes > 0 {
            let label = format!("{} writes", kind.suffix());
            demands.push((
                label,
                u64::from(provisioned.write) * 2,
                u64::from(writes) * 2,
            ));
        }
    }
    demands
}

fn sustained(config: &Config, action: &'static str, route: &RouteCapacity) -> Sustained {
    let demands = demands(&config.tables.billing, route);
    let rate = |(_, supply, cost): &(String, u64, u64)| supply * 10 / cost;
    let tables = demands.iter().map(rate).min();
    let limited_by = demands
        .iter()
        .filter(|demand| Some(rate(demand)) == tables)
        .map(|(label, _, _)| label.clone())
        .collect();
    let burst = demands
        .iter()
        .map(|(_, supply, cost)| supply * u64::from(capacity::BURST_SECONDS) / cost)
        .min();
    Sustained {
        action,
        route: route.route,
        tables_per_second_x10: tables,
        limited_by,
        burst,
        api_per_second: config.api.throttle.map(|t| t.rate_per_second),
    }
}

/// What the configuration's capacity sustains, per shopper action.
pub fn report(config: &Config) -> CapacityReport {
    let actions = vec![
        sustained(config, "page views", &capacity::PAGE_VIEW),
        sustained(config, "add-to-carts", &capacity::ADD_TO_CART),
        sustained(config, "checkouts", &capacity::CHECKOUT),
    ];
    CapacityReport {
        actions,
        stack_units: provisioned_totals(&config.tables.billing),
        burst_seconds: capacity::BURST_SECONDS,
        api_burst: config.api.throttle.map(|t| t.burst),
    }
}

/// What each line of a checkout beyond the first adds (a transaction writes 2 WCU per item per KB).
fn extra_line() -> String {
    let extra = capacity::CHECKOUT_EXTRA_LINE;
    let mut parts = Vec::new();
    for kind in TableKind::ALL {
        let reads = cost_on(&extra.half_read_units, kind);
        if reads > 0 {
            parts.push(format!(
                "{} RCU on {}",
                per_second(u64::from(reads) * 5),
                kind.suffix()
            ));
        }
        let writes = cost_on(&extra.write_units, kind);
        if writes > 0 {
            parts.push(format!("{writes} WCU on {}", kind.suffix()));
        }
    }
    let sum = |units: &TableUnits| units.products + units.carts + units.orders;
    let one = capacity::CHECKOUT;
    let (half_reads, writes) = (
        sum(&one.half_read_units) + 4 * sum(&extra.half_read_units),
        sum(&one.write_units) + 4 * sum(&extra.write_units),
    );
    format!(
        "a checkout is one line above; each further line adds {} (one transaction: 2 WCU per item per KB): \
         a checkout of 5 lines takes {} RCU + {writes} WCU in all.",
        parts.join(", "),
        per_second(u64::from(half_reads) * 5)
    )
}

/// `5` → "0.5", `20` → "2".
fn per_second(x10: u64) -> String {
    match x10 % 10 {
        0 => (x10 / 10).to_string(),
        tenths => format!("{}.{tenths}", x10 / 10),
    }
}

impl CapacityReport {
    pub fn render_text(&self, prices: &PriceSheet) -> String {
        let mut out = String::from(
            "What the shop sustains (each route's DynamoDB use is measured, see docs/benchmarks.md; the lower of \
             the tables' capacity and the API's throttle is the real limit):\n",
        );
        for action in &self.actions {
            let _ = writeln!(out, "  {}", action.line());
        }
        let _ = writeln!(out, "  {}", extra_line());
        if let Some(burst) = self.burst_line() {
            let _ = writeln!(out, "  {burst}");
        }
        let _ = write!(out, "  {}", self.raise_line(prices));
        out
    }

    fn burst_line(&self) -> Option<String> {
        let bursts: Vec<String> = self
            .actions
            .iter()
            .filter_map(|a| a.burst.map(|n| format!("{n} {}", a.action)))
            .collect();
        let api = match self.api_burst {
            Some(burst) => {
                format!(" as far as the API lets them: its throttle's burst is {burst} requests")
            }
            None => String::new(),
        };
        (!bursts.is_empty()).then(|| {
            format!(
                "burst: DynamoDB keeps up to {} s of a table's unused capacity, so after 5 quiet minutes about {} \
                 (each, on its own) go through faster than the rates above{api}.",
                self.burst_seconds,
                bursts.join(", ")
            )
        })
    }

    fn raise_line(&self, prices: &PriceSheet) -> String {
        let (read, write) = self.stack_units;
        if self
            .actions
            .iter()
            .all(|a| a.tables_per_second_x10.is_none())
        {
            return "to raise it: the tables are on demand (no provisioned limit, every request billed); \
                    `api.throttle.rate_per_second` in shopsmart.yaml is the limit."
                .to_owned();
        }
        let hours = u128::from(prices.hours_per_month);
        let month = |price: &super::prices::Price| {
            format_usd(super::money::cents_half_up(price.nano_usd(hours, 1)))
        };
        format!(
            "to raise it: the `read`/`write` of the limiting table under `tables.billing.provisioned` in \
             shopsmart.yaml (checkouts: `write` of products, carts and orders, 2 units per checkout each). This \
             stack holds {read} RCU + {write} WCU of the account's free 25 RCU + 25 WCU, counted across all its \
             provisioned tables in every region; each unit beyond 25 costs about {} (write) or {} (read) a month. \
             Where the API is the limit: `api.throttle.rate_per_second` (a month-long flood at it is the worst \
             case the guard prices).",
            month(&prices.dynamodb.write_capacity_unit_hour),
            month(&prices.dynamodb.read_capacity_unit_hour),
        )
    }
}

impl Sustained {
    fn line(&self) -> String {
        let api = match self.api_per_second {
            Some(rate) => format!("the API's throttle {rate}/s"),
            None => "no API throttle".to_owned(),
        };
        let tables = match self.tables_per_second_x10 {
            Some(x10) => format!(
                "the tables {}/s ({})",
                per_second(x10),
                self.limited_by.join(", ")
            ),
            None => "the tables: on demand, no provisioned limit".to_owned(),
        };
        let api_x10 = self.api_per_second.map(|rate| u64::from(rate) * 10);
        let limit = match self.limit_x10() {
            Some((x10, true)) if Some(x10) == api_x10 => format!(
                "{} a second, DynamoDB and the API's throttle alike",
                per_second(x10)
            ),
            Some((x10, true)) => format!("{} a second, DynamoDB is the limit", per_second(x10)),
            Some((x10, false)) => format!(
                "{} a second, the API's throttle is the limit",
                per_second(x10)
            ),
            None => "no limit".to_owned(),
        };
        format!(
            "{} ({}): {limit} ({tables}; {api})",
            self.action, self.route
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::Capacity;
    use crate::freetier::test_config::{assert_contains, free_config};

    fn provisioned(read: u32, write: u32) -> Billing {
        let each = Capacity { read, write };
        Billing::Provisioned {
            products: each,
            carts: each,
            orders: each,
        }
    }

    /// Per action: (what the tables sustain, (the real limit, whether DynamoDB sets it)), in tenths a second.
    type Rates = Vec<(Option<u64>, Option<(u64, bool)>)>;

    fn rates(config: &Config) -> Rates {
        report(config)
            .actions
            .iter()
            .map(|a| (a.tables_per_second_x10, a.limit_x10()))
            .collect()
    }

    /// By hand from contract::capacity: a page view is half a products RCU, an add-to-cart a products RCU, a
    /// carts RCU and a carts WCU, a checkout a products and a carts RCU and 2 WCU on each table.
    #[test]
    fn one_unit_per_table_sustains_two_page_views_one_add_and_half_a_checkout() {
        let mut config = free_config();
        config.tables.billing = provisioned(1, 1);
        assert_eq!(
            rates(&config),
            [
                (Some(20), Some((20, true))),
                (Some(10), Some((10, true))),
                (Some(5), Some((5, true)))
            ]
        );
        let report = report(&config);
        assert_eq!(
            report.actions[2].limited_by,
            ["products writes", "carts writes", "orders writes"]
        );
        // 300 s x 1 WCU / 2 WCU per checkout.
        assert_eq!(report.actions[2].burst, Some(150));
        assert_eq!(report.stack_units, (3, 3));
    }

    /// The shipped 7 RCU + 6 WCU: page views 6/s (products reads), add-to-carts 3/s (carts reads and
    /// writes), checkouts 0.5/s (orders writes: 1 WCU, 2 a checkout).
    #[test]
    fn the_shipped_capacity() {
        let config = free_config();
        assert_eq!(
            rates(&config),
            [
                (Some(60), Some((30, false))),
                (Some(30), Some((30, true))),
                (Some(5), Some((5, true)))
            ]
        );
        assert_eq!(report(&config).actions[2].limited_by, ["orders writes"]);
        assert_eq!(report(&config).stack_units, (7, 6));
        let text = report(&config).render_text(PriceSheet::current());
        assert_contains(
            &text,
            "add-to-carts (POST /cart): 3 a second, DynamoDB and the API's throttle alike",
        );
        assert_contains(
            &text,
            "page views (GET /products): 3 a second, the API's throttle is the limit",
        );
    }

    #[test]
    fn the_api_throttle_is_the_limit_once_the_tables_sustain_more() {
        let mut config = free_config();
        config.tables.billing = provisioned(4, 8);
        // Page views 80/s x10, adds 40, checkouts 40 (8 WCU / 2): all above the API's 3/s.
        assert_eq!(
            rates(&config),
            [
                (Some(80), Some((30, false))),
                (Some(40), Some((30, false))),
                (Some(40), Some((30, false)))
            ]
        );
        config.tables.billing = Billing::OnDemand;
        assert_eq!(rates(&config)[2], (None, Some((30, false))));
        let text = report(&config).render_text(PriceSheet::current());
        assert_contains(&text, "the tables are on demand");
    }

    #[test]
    fn the_text_names_rates_limits_burst_and_the_line_that_raises_them() {
        let mut config = free_config();
        config.tables.billing = provisioned(1, 1);
        let text = report(&config).render_text(PriceSheet::current());
        for part in [
            "page views (GET /products): 2 a second, DynamoDB is the limit (the tables 2/s (products reads); \
             the API's throttle 3/s)",
            "checkouts (POST /checkout): 0.5 a second, DynamoDB is the limit",
            "about 600 page views, 300 add-to-carts, 150 checkouts (each, on its own) go through faster than \
             the rates above as far as the API lets them: its throttle's burst is 10 requests",
            "each further line adds 1 RCU on products, 2 WCU on products, 2 WCU on carts",
            // 2 + 4 x 1 = 6 RCU; 6 + 4 x 4 = 22 WCU.
            "a checkout of 5 lines takes 6 RCU + 22 WCU in all",
            "`tables.billing.provisioned`",
            "3 RCU + 3 WCU of the account's free 25 RCU + 25 WCU",
            "`api.throttle.rate_per_second`",
            // 730 h x $0.00065 = $0.4745; 730 h x $0.00013 = $0.0949.
            "about $0.47 (write) or $0.09 (read) a month",
        ] {
            assert_contains(&text, part);
        }
    }
}
