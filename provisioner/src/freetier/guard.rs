//! The Free Tier guard: refuses, before any write, a configuration whose standing cost is not zero, saying
//! what costs money, roughly how much a month, and the `shopsmart.yaml` change that fixes it.
//! [`evaluate`] is pure; [`preflight`] adds the one thing only AWS knows (the account's other tables, in every
//! region: the free provisioned capacity is the account's, not a region's).

use std::fmt;

use serde::Serialize;

use super::estimate::{self, provisioned_totals, Assumptions};
use super::money::{cents_half_up, format_usd, group_thousands};
use super::prices::{Price, PriceSheet};
use super::worst_case::worst_case;
use crate::config::model::{Billing, Config, Throttle};
use crate::resources::Ctx;

pub use super::existing_tables::{
    account_tables, account_tables_in, stack_adds_capacity, AccountTables, ExistingTable,
};

/// API traffic at which per-request charges are quoted (1 million requests a month).
const QUOTED_REQUESTS: u64 = 1_000_000;
/// The traffic flood an unthrottled API is quoted at.
const FLOOD_REQUESTS: u64 = 10_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    ReadCapacityOverFree,
    WriteCapacityOverFree,
    OnDemandTables,
    ProvisionedConcurrency,
    LogRetentionMissing,
    ApiThrottleMissing,
    WorstCaseOverLimit,
}

/// One thing in the configuration that costs money.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    /// What costs money, in words.
    pub what: String,
    /// Roughly how much a month, in cents, at the traffic `cost_basis` names.
    pub monthly_cents: u64,
    /// What `monthly_cents` assumes (e.g. "a month, even with no traffic").
    pub cost_basis: String,
    /// The exact `shopsmart.yaml` change that fixes it.
    pub fix: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.what)?;
        writeln!(
            f,
            "   costs: about {} {}",
            format_usd(self.monthly_cents),
            self.cost_basis
        )?;
        write!(f, "   fix:   {}", self.fix)
    }
}

/// The guard's findings for `config`, given the account's tables (all regions) that are not ours.
pub fn evaluate(config: &Config, other_tables: &[ExistingTable]) -> Vec<Finding> {
    let prices = PriceSheet::current();
    let mut findings = Vec::new();
    match &config.tables.billing {
        Billing::Provisioned { .. } => {
            let (ours_read, ours_write) = provisioned_totals(&config.tables.billing);
            let others: Vec<&ExistingTable> = other_tables
                .iter()
                .filter(|table| !table.on_demand)
                .collect();
            let hours = u128::from(prices.hours_per_month);
            let dynamodb = &prices.dynamodb;
            for capacity in [
                Capacity {
                    kind: FindingKind::ReadCapacityOverFree,
                    unit: "RCU",
                    key: "read",
                    ours: ours_read.into(),
                    free: dynamodb.always_free.read_capacity_units,
                    unit_hour: dynamodb.read_capacity_unit_hour,
                },
                Capacity {
                    kind: FindingKind::WriteCapacityOverFree,
                    unit: "WCU",
                    key: "write",
                    ours: ours_write.into(),
                    free: dynamodb.always_free.write_capacity_units,
                    unit_hour: dynamodb.write_capacity_unit_hour,
                },
            ] {
                findings.extend(capacity.finding(&others, hours));
            }
        }
        Billing::OnDemand => findings.push(on_demand(config, prices)),
    }
    if let Some(units) = config
        .function
        .provisioned_concurrency
        .filter(|units| *units > 0)
    {
        findings.push(provisioned_concurrency(config, units, prices));
    }
    if config.function.log_retention_days.is_none() {
        findings.push(log_retention_missing(config));
    }
    if config.api.throttle.is_none() {
        findings.push(api_throttle_missing(config));
    }
    findings.extend(worst_case_over_limit(config));
    findings
}

/// A throttle that lets a month-long flood bill more than `guard.max_worst_case_usd`; the fix names the
/// highest rate that fits.
fn worst_case_over_limit(config: &Config) -> Option<Finding> {
    let worst = worst_case(config)?;
    let limit = config.guard.max_worst_case_cents;
    if worst.typical_cents <= limit {
        return None;
    }
    let at_rate = |rate_per_second: u32| {
        let mut lower = config.clone();
        lower.api.throttle = Some(Throttle {
            rate_per_second,
            ..lower.api.throttle?
        });
        worst_case(&lower)
    };
    // The bill grows with the rate: the highest rate that fits, by bisection.
    let (mut fits, mut over) = (0, worst.rate_per_second);
    while over - fits > 1 {
        let mid = fits + (over - fits) / 2;
        match at_rate(mid) {
            Some(w) if w.typical_cents <= limit => fits = mid,
            _ => over = mid,
        }
    }
    let raise = format!(
        "raise `max_worst_case_usd` under `guard:` above {}",
        format_usd(worst.typical_cents)
    );
    let fix = match at_rate(fits).filter(|_| fits > 0) {
        Some(w) => format!(
            "in shopsmart.yaml set `rate_per_second: {fits}` under `api: throttle:` (a flood then bills about {}), \
             or {raise}",
            format_usd(w.typical_cents)
        ),
        None => format!("in shopsmart.yaml {raise} (even 1 request a second bills more)"),
    };
    Some(Finding {
        kind: FindingKind::WorstCaseOverLimit,
        what: format!(
            "the API's throttle lets anyone send {} requests a second, {} a month, which would bill about {}: \
             more than `guard: max_worst_case_usd` ({})",
            worst.rate_per_second,
            group_thousands(worst.requests_per_month),
            format_usd(worst.typical_cents),
            format_usd(limit)
        ),
        monthly_cents: worst.typical_cents,
        cost_basis: "for a month of requests at the throttle's rate (a public API can be flooded)".to_owned(),
        fix,
    })
}

/// One dimension (read or write) of the account-wide provisioned-capacity allowance.
struct Capacity {
    kind: FindingKind,
    unit: &'static str,
    key: &'static str,
    ours: u64,
    free: u64,
    unit_hour: Price,
}

impl Capacity {
    fn finding(&self, others: &[&ExistingTable], hours: u128) -> Option<Finding> {
        let others_total: u64 = others.iter().map(|table| table.capacity(self.kind)).sum();
        let total = self.ours + others_total;
        if total <= self.free {
            return None;
        }
        // Only the part our tables add is ours to fix; what the other tables use already is their cost.
        let over = (total - self.free).min(self.ours);
        let monthly_cents =
            cents_half_up(u128::from(over) * hours * self.unit_hour.nano_usd_for(1));
        let (unit, key, free) = (self.unit, self.key, self.free);
        let mut what = format!(
            "DynamoDB provisioned capacity: this stack's tables need {} {unit}, which with the {} {unit} of the \
             account's other tables (all regions) is {total}, over the {free} {unit} the Free Tier gives the \
             whole account, every region together",
            self.ours, others_total
        );
        if !others.is_empty() {
            let users: Vec<String> = others
                .iter()
                .filter(|table| table.capacity(self.kind) > 0)
                .map(|table| {
                    format!(
                        "{} in {} ({})",
                        table.name,
                        table.region,
                        table.capacity(self.kind)
                    )
                })
                .collect();
            what.push_str(&format!(" (other tables: {})", users.join(", ")));
        }
        let room = free.saturating_sub(others_total);
        let fix = if room >= 3 {
            format!(
                "in shopsmart.yaml under `tables: billing: provisioned:`, set `{key}:` of products, carts and \
                 orders so the three add up to at most {room} (for example `{key}: 1` each), or shrink or delete \
                 the account's other provisioned tables"
            )
        } else {
            format!(
                "the account's other tables leave only {room} {unit} free (3 tables need at least 3), and another \
                 region does not help: the allowance is the account's. Switch some of those tables to on-demand, \
                 shrink or delete them"
            )
        };
        Some(Finding {
            kind: self.kind,
            what,
            monthly_cents,
            cost_basis: format!(
                "a month for {over} {unit} over the free {free}, even with no traffic"
            ),
            fix,
        })
    }
}

impl ExistingTable {
    fn capacity(&self, kind: FindingKind) -> u64 {
        match kind {
            FindingKind::WriteCapacityOverFree => self.write_capacity,
            _ => self.read_capacity,
        }
    }
}

fn on_demand(config: &Config, prices: &PriceSheet) -> Finding {
    let assumptions = Assumptions::default();
    let reads = u128::from(QUOTED_REQUESTS) * u128::from(assumptions.table_reads_per_request);
    let writes = u128::from(QUOTED_REQUESTS) * u128::from(assumptions.table_writes_per_request);
    let dynamodb = &prices.dynamodb;
    let nano = dynamodb.on_demand_read_request_unit.nano_usd(reads, 1)
        + dynamodb.on_demand_write_request_unit.nano_usd(writes, 1);
    Finding {
        kind: FindingKind::OnDemandTables,
        what: format!(
            "DynamoDB on-demand tables (`tables: billing: on_demand`): nothing is charged while idle, but every \
             read and write is billed, because the Free Tier covers only provisioned capacity (in {})",
            config.region
        ),
        monthly_cents: cents_half_up(nano),
        cost_basis: format!(
            "a month per million API requests ({} reads + {} writes each)",
            assumptions.table_reads_per_request, assumptions.table_writes_per_request
        ),
        fix: "in shopsmart.yaml replace `billing: on_demand` with `billing: { provisioned: { products: { read: 1, \
              write: 1 }, carts: { read: 1, write: 1 }, orders: { read: 1, write: 1 } } }`"
            .to_owned(),
    }
}

fn provisioned_concurrency(config: &Config, units: u32, prices: &PriceSheet) -> Finding {
    let seconds = u128::from(prices.hours_per_month) * 3_600;
    let mb_seconds = u128::from(units) * u128::from(config.function.memory_mb) * seconds;
    let price = prices
        .lambda
        .provisioned_concurrency_gb_second
        .for_architecture(config.function.architecture);
    Finding {
        kind: FindingKind::ProvisionedConcurrency,
        what: format!(
            "Lambda provisioned concurrency {units} on the function ({} MB, {}): it is billed every second it is \
             configured and has no free tier",
            config.function.memory_mb,
            config.function.architecture.lambda_name()
        ),
        monthly_cents: cents_half_up(price.nano_usd(mb_seconds, 1_024)),
        cost_basis: "a month, even with no traffic".to_owned(),
        fix: format!(
            "in shopsmart.yaml delete the line `provisioned_concurrency: {units}` under `function:` (a Rust \
             function starts cold in tens of milliseconds)"
        ),
    }
}

fn log_retention_missing(config: &Config) -> Finding {
    // Priced by the estimate itself, which shows a year of kept logs when no retention is set.
    let estimate = estimate::monthly(config, QUOTED_REQUESTS, &Assumptions::default());
    let logs_billed = estimate
        .services
        .iter()
        .find(|service| service.service == estimate::Service::CloudWatchLogs)
        .map_or(0, |service| service.cost.billed_cents);
    Finding {
        kind: FindingKind::LogRetentionMissing,
        what: "CloudWatch Logs without retention (`function: log_retention_days: null`): the function's logs are \
               kept, and billed as storage, forever"
            .to_owned(),
        monthly_cents: logs_billed,
        cost_basis: "a month after one year at a million API requests a month, and growing every month".to_owned(),
        fix: "in shopsmart.yaml set `log_retention_days: 7` under `function:` (or delete the line: 7 is the default)"
            .to_owned(),
    }
}

fn api_throttle_missing(config: &Config) -> Finding {
    let estimate = estimate::monthly(config, FLOOD_REQUESTS, &Assumptions::default());
    Finding {
        kind: FindingKind::ApiThrottleMissing,
        what: "HTTP API without throttling (`api: throttle: null`): a traffic spike or a bot hammering the API is \
               billed per request with no upper bound"
            .to_owned(),
        monthly_cents: estimate.total.billed_cents + estimate.total.twelve_month_or_credit_cents,
        cost_basis: "for a month with a flood of 10 million requests".to_owned(),
        fix: "in shopsmart.yaml set `throttle: { rate_per_second: 3, burst: 10 }` under `api:` (or delete the \
              line: that is the default)"
            .to_owned(),
    }
}

/// The guard refused: the configuration costs money and `--allow-charges` was not given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargesRefused {
    pub region: String,
    pub findings: Vec<Finding>,
}

impl fmt::Display for ChargesRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "This configuration would cost money outside the AWS Free Tier in {} ({} problem{}), so nothing was \
             changed:",
            self.region,
            self.findings.len(),
            if self.findings.len() == 1 { "" } else { "s" }
        )?;
        for (index, finding) in self.findings.iter().enumerate() {
            writeln!(f)?;
            writeln!(f, "{}. {finding}", index + 1)?;
        }
        writeln!(f)?;
        write!(
            f,
            "Fix shopsmart.yaml as shown, or re-run with --allow-charges to accept these charges"
        )
    }
}

impl std::error::Error for ChargesRefused {}

/// When the guard counts the account's other tables (a `ListTables` and `DescribeTable`s in every region).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// Every time: `plan` and `cost` show the account's capacity.
    Always,
    /// Only when the run would add provisioned capacity (`up`: a new table, more units): the others cannot
    /// push a stack over the allowance that adds nothing to it, so a no-op `up` skips the count.
    WhenAddingCapacity,
}

/// What the guard found.
#[derive(Debug, Clone, Default)]
pub struct Preflight {
    /// What costs money (accepted with `allow_charges`, else empty).
    pub findings: Vec<Finding>,
    /// The account's other tables, when counted.
    pub account: Option<AccountTables>,
}

/// Counts the account's other tables when `count` asks for it and evaluates the configuration. Makes no
/// mutating call. With findings and without `allow_charges` it fails with [`ChargesRefused`] (downcast the
/// `anyhow::Error` to show it or to pick the exit code); otherwise it returns the findings to print and the
/// count, whose warnings (a region denied, say) the caller prints.
pub async fn preflight(ctx: &Ctx, allow_charges: bool, count: Count) -> anyhow::Result<Preflight> {
    let account = match count {
        Count::WhenAddingCapacity if !stack_adds_capacity(ctx).await? => None,
        _ => Some(account_tables(ctx).await),
    };
    let others = account.as_ref().map_or(&[][..], |account| &account.tables);
    let findings = evaluate(&ctx.config, others);
    if !findings.is_empty() && !allow_charges {
        return Err(ChargesRefused {
            region: ctx.region.clone(),
            findings,
        }
        .into());
    }
    Ok(Preflight { findings, account })
}

#[cfg(test)]
mod tests {
    //! Monthly figures by hand from data/free-tier.yaml: RCU-hour 130 µ$, WCU-hour 650 µ$, 730 hours.

    use super::*;
    use crate::config::model::Capacity as TableCapacity;
    use crate::config::model::Throttle;
    use crate::freetier::test_config::{assert_contains, free_config, one_unit_config};

    fn provisioned(read: u64, write: u64) -> ExistingTable {
        ExistingTable {
            region: "eu-west-1".to_owned(),
            name: format!("other-{read}-{write}"),
            read_capacity: read,
            write_capacity: write,
            on_demand: false,
        }
    }

    fn kinds(findings: &[Finding]) -> Vec<FindingKind> {
        findings.iter().map(|finding| finding.kind).collect()
    }

    #[test]
    fn the_default_configuration_is_free() {
        assert_eq!(evaluate(&free_config(), &[]), vec![]);
        // The shipped 7 RCU + 6 WCU: 18 + 7 = 25 RCU and 19 + 6 = 25 WCU, exactly the allowance, still free.
        assert_eq!(evaluate(&free_config(), &[provisioned(18, 19)]), vec![]);
        assert_eq!(
            kinds(&evaluate(&free_config(), &[provisioned(19, 19)])),
            vec![FindingKind::ReadCapacityOverFree]
        );
        // 22 + 3 = 25 with one unit per table.
        assert_eq!(evaluate(&one_unit_config(), &[provisioned(22, 22)]), vec![]);
    }

    #[test]
    fn other_provisioned_tables_count_against_the_allowance() {
        let findings = evaluate(&one_unit_config(), &[provisioned(20, 1), provisioned(4, 0)]);
        assert_eq!(kinds(&findings), vec![FindingKind::ReadCapacityOverFree]);
        let finding = &findings[0];
        // 24 + 3 = 27 RCU: 2 over x 730 h x 130 µ$ = 189,800 µ$ = 18.98 -> 19 cents.
        assert_eq!(finding.monthly_cents, 19);
        assert_contains(&finding.what, "27");
        assert_contains(&finding.what, "other-20-1 in eu-west-1 (20)");
        assert_contains(&finding.what, "the whole account, every region together");
        // Only 1 RCU left: three tables cannot fit, and another region would not help.
        assert_contains(&finding.fix, "another region does not help");
    }

    #[test]
    fn on_demand_tables_of_others_use_no_capacity() {
        let other = ExistingTable {
            on_demand: true,
            ..provisioned(0, 0)
        };
        assert_eq!(evaluate(&free_config(), &[other]), vec![]);
    }

    #[test]
    fn our_own_capacity_over_25_is_refused_with_the_yaml_fix() {
        let mut config = free_config();
        let big = TableCapacity { read: 10, write: 1 };
        config.tables.billing = Billing::Provisioned {
            products: big,
            carts: big,
            orders: big,
        };
        let findings = evaluate(&config, &[]);
        assert_eq!(kinds(&findings), vec![FindingKind::ReadCapacityOverFree]);
        // 30 RCU: 5 over x 730 x 130 µ$ = 474,500 µ$ = 47.45 -> 47 cents.
        assert_eq!(findings[0].monthly_cents, 47);
        assert_contains(&findings[0].fix, "add up to at most 25");
        assert_contains(&findings[0].fix, "`read: 1` each");
    }

    #[test]
    fn write_capacity_is_counted_separately() {
        let findings = evaluate(&one_unit_config(), &[provisioned(0, 24)]);
        assert_eq!(kinds(&findings), vec![FindingKind::WriteCapacityOverFree]);
        // 27 WCU: 2 over x 730 x 650 µ$ = 949,000 µ$ = 94.9 -> 95 cents.
        assert_eq!(findings[0].monthly_cents, 95);
        // When the others alone exceed 25, only our 3 units are ours to pay: 3 x 730 x 650 µ$ = 142.35 -> 142.
        let findings = evaluate(&one_unit_config(), &[provisioned(0, 40)]);
        assert_eq!(findings[0].monthly_cents, 142);
    }

    #[test]
    fn on_demand_tables_are_refused() {
        let mut config = free_config();
        config.tables.billing = Billing::OnDemand;
        let findings = evaluate(&config, &[provisioned(25, 25)]);
        // A flood at the throttle's rate is billed per read and write too: over the worst-case limit as well.
        assert_eq!(
            kinds(&findings),
            vec![FindingKind::OnDemandTables, FindingKind::WorstCaseOverLimit]
        );
        // Per million API requests: 2M RRU x 0.125 µ$ + 1M WRU x 0.625 µ$ = 875,000 µ$ = 87.5 -> 88 cents.
        assert_eq!(findings[0].monthly_cents, 88);
        assert_contains(&findings[0].what, "every read and write is billed");
        assert_contains(&findings[0].fix, "billing: { provisioned:");
    }

    #[test]
    fn provisioned_concurrency_is_refused() {
        let mut config = free_config();
        config.function.provisioned_concurrency = Some(1);
        let findings = evaluate(&config, &[]);
        assert_eq!(kinds(&findings), vec![FindingKind::ProvisionedConcurrency]);
        // 1 x 128 MB x 2,628,000 s / 1,024 = 328,500 GB-s x 3.3334 µ$ = 1,095,021.9 µ$ = 109.5 -> 110 cents.
        assert_eq!(findings[0].monthly_cents, 110);
        assert_contains(
            &findings[0].fix,
            "delete the line `provisioned_concurrency: 1`",
        );
        config.function.provisioned_concurrency = Some(0);
        assert_eq!(evaluate(&config, &[]), vec![]);
    }

    #[test]
    fn missing_log_retention_is_refused() {
        let mut config = free_config();
        config.function.log_retention_days = None;
        let findings = evaluate(&config, &[]);
        // A flood's logs kept forever: over the worst-case limit as well.
        assert_eq!(
            kinds(&findings),
            vec![
                FindingKind::LogRetentionMissing,
                FindingKind::WorstCaseOverLimit
            ]
        );
        // A year at 1M requests: 512,000,000 B ingested/month; kept 365 days = 512e6 x 365/30 = 6,229,333,333 B;
        // free left 5,368,709,120 - 512,000,000 = 4,856,709,120 B; billed 1,372,624,213 B = 1.27835 GB
        // x 30,000 µ$ = 38,350.6 µ$ = 3.84 -> 4 cents.
        assert_eq!(findings[0].monthly_cents, 4);
        assert_contains(&findings[0].fix, "log_retention_days: 7");
    }

    #[test]
    fn missing_api_throttle_is_refused() {
        let mut config = free_config();
        config.api.throttle = None;
        let findings = evaluate(&config, &[]);
        assert_eq!(kinds(&findings), vec![FindingKind::ApiThrottleMissing]);
        // The 10M estimate (see estimate.rs tests): 5,245 billed + 101 12-month/credit = 5,346 cents.
        assert_eq!(findings[0].monthly_cents, 5346);
        assert_contains(
            &findings[0].fix,
            "throttle: { rate_per_second: 3, burst: 10 }",
        );
    }

    #[test]
    fn a_throttle_whose_flood_bills_over_the_limit_is_refused_with_the_rate_that_fits() {
        let mut config = free_config();
        config.api.throttle = Some(Throttle {
            rate_per_second: 10,
            burst: 20,
        });
        let findings = evaluate(&config, &[]);
        assert_eq!(kinds(&findings), vec![FindingKind::WorstCaseOverLimit]);
        // 10/s: $35.19 and 3/s: $9.26 (worst_case.rs tests); 4/s is over $10.
        assert_eq!(findings[0].monthly_cents, 3519);
        assert_contains(&findings[0].what, "26,280,000 a month");
        assert_contains(&findings[0].fix, "`rate_per_second: 3`");
        assert_contains(&findings[0].fix, "about $9.26");
        config.guard.max_worst_case_cents = 4000;
        assert_eq!(evaluate(&config, &[]), vec![]);
        config.guard.max_worst_case_cents = 50;
        assert_contains(&evaluate(&config, &[])[0].fix, "even 1 request a second");
    }

    #[test]
    fn the_refusal_lists_every_finding_and_ends_with_the_override() {
        let mut config = free_config();
        config.api.throttle = None;
        config.function.log_retention_days = None;
        let refused = ChargesRefused {
            region: config.region.clone(),
            findings: evaluate(&config, &[]),
        };
        let message = refused.to_string();
        assert_contains(&message, "2 problems");
        assert_contains(&message, "1. CloudWatch Logs without retention");
        assert_contains(&message, "2. HTTP API without throttling");
        // With no retention either, the 10M flood keeps a year of logs: stored 5.12e9 x 365/30 = 62,293,333,333 B,
        // minus the 248,709,120 B the free 5 GB leaves = 57.783 GB x 30,000 µ$ = 173.35 -> 173 cents of logs
        // instead of 3: 5,346 - 3 + 173 = 5,516.
        assert_contains(&message, "costs: about $55.16 for a month with a flood");
        assert!(
            message.ends_with("re-run with --allow-charges to accept these charges"),
            "{message}"
        );
    }
}
