//! `usage`: this month's Free Tier usage of the services the stack uses, from AWS's Free Tier API
//! (`GetFreeTierUsage`, every page, at its us-east-1 endpoint): for each free allowance, what the account used
//! so far and AWS's forecast for the month against the allowance, with a bar, and a warning when the forecast
//! reaches [`WARN_PERCENT`] % of it. The figures are the whole account's (every region, every stack), as AWS
//! counts the Free Tier. Reads only; one `GetFunction` more says whether this stack is deployed at all.
//!
//! Usage amounts are quantities (requests, GB-seconds, GB), not money: they stay as AWS sends them (JSON
//! doubles) and only the percentages are rounded.

use anyhow::bail;
use aws_sdk_freetier::types::FreeTierUsage;
use serde::Serialize;

use crate::aws_error::AwsContext;
use crate::freetier::money::group_thousands;
use crate::report::Reporter;
use crate::resources::ownership::found;
use crate::resources::Ctx;

/// A forecast at or above this share of an allowance is a warning.
pub const WARN_PERCENT: u64 = 80;
/// Characters of a bar.
const BAR: usize = 20;

/// The services the stack uses, as the Free Tier API names them (matched case-insensitively, by part).
const STACK_SERVICES: &[&str] = &[
    "lambda",
    "dynamodb",
    "api gateway",
    "simple storage service",
    "s3",
    "cloudwatch",
    "data transfer",
];
/// With `website.https` the stack uses CloudFront too ("Amazon CloudFront"): its free requests and data out
/// are what a flood of page requests uses up first.
const CLOUDFRONT: &str = "cloudfront";

/// Which allowances `usage` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// Every allowance of the account (`--all`).
    All,
    /// Those of the services the stack uses; `cloudfront` with `website.https`.
    Stack { cloudfront: bool },
}

impl Shown {
    fn includes(self, service: &str) -> bool {
        let service = service.to_lowercase();
        match self {
            Shown::All => true,
            Shown::Stack { cloudfront } => {
                (cloudfront && service.contains(CLOUDFRONT))
                    || STACK_SERVICES.iter().any(|name| service.contains(name))
            }
        }
    }

    /// The services named when there is no usage of them yet.
    fn names(self) -> &'static str {
        match self {
            Shown::Stack { cloudfront: true } => {
                "Lambda, DynamoDB, API Gateway, S3, CloudWatch, data transfer, CloudFront"
            }
            _ => "Lambda, DynamoDB, API Gateway, S3, CloudWatch, data transfer",
        }
    }
}

/// One free allowance and this month's use of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageRow {
    pub service: String,
    /// AWS's description of the offer, e.g. "1,000,000 free requests per month for AWS Lambda".
    pub description: String,
    pub usage_type: String,
    pub region: Option<String>,
    pub unit: String,
    /// "Always Free", "12 Months Free", "Free Trial".
    pub free_tier_type: String,
    pub actual: f64,
    pub forecast: f64,
    pub limit: f64,
    /// The forecast as a share of the allowance, rounded (`None` for an allowance of 0).
    pub forecast_percent: Option<u64>,
    pub actual_percent: Option<u64>,
    /// The forecast reaches [`WARN_PERCENT`] % of the allowance.
    pub warn: bool,
}

impl UsageRow {
    pub fn from_usage(usage: &FreeTierUsage) -> Self {
        let limit = usage.limit;
        let percent = |amount: f64| (limit > 0.0).then(|| (amount / limit * 100.0).round() as u64);
        let forecast_percent = percent(usage.forecasted_usage_amount);
        Self {
            service: usage.service().unwrap_or("(unnamed service)").to_owned(),
            description: usage.description().unwrap_or_default().to_owned(),
            usage_type: usage.usage_type().unwrap_or_default().to_owned(),
            region: usage.region().map(str::to_owned),
            unit: usage.unit().unwrap_or_default().to_owned(),
            free_tier_type: usage.free_tier_type().unwrap_or_default().to_owned(),
            actual: usage.actual_usage_amount,
            forecast: usage.forecasted_usage_amount,
            limit,
            forecast_percent,
            actual_percent: percent(usage.actual_usage_amount),
            warn: forecast_percent.is_some_and(|p| p >= WARN_PERCENT),
        }
    }

    /// `[####++..............]`: `#` used so far, `+` the rest of the forecast, `!` at the end when the
    /// forecast goes past the allowance.
    pub fn bar(&self) -> String {
        // Rounded up: any use at all shows as a cell.
        let cells = |amount: f64| {
            let share = if self.limit > 0.0 {
                (amount / self.limit).clamp(0.0, 1.0)
            } else {
                0.0
            };
            (share * BAR as f64).ceil() as usize
        };
        let (used, forecast) = (cells(self.actual), cells(self.forecast));
        let over = self.forecast_percent.is_some_and(|p| p > 100);
        format!(
            "[{}{}{}]{}",
            "#".repeat(used),
            "+".repeat(forecast.saturating_sub(used)),
            ".".repeat(BAR - forecast.max(used)),
            if over { "!" } else { "" }
        )
    }

    fn warning(&self) -> String {
        let already = self.actual_percent.is_some_and(|p| p >= 100);
        format!(
            "warning: {}: {}: {} {} of the free {} {} this month ({}% forecast{}); beyond the allowance AWS bills \
             the usage (or takes it from credits): `shopsmart-deploy cost` shows the prices",
            self.service,
            self.label(),
            if already { "already used" } else { "forecast" },
            quantity(if already { self.actual } else { self.forecast }),
            quantity(self.limit),
            self.unit,
            self.forecast_percent.unwrap_or(0),
            if already { ", over it already" } else { "" }
        )
    }

    fn label(&self) -> &str {
        if self.description.is_empty() {
            &self.usage_type
        } else {
            &self.description
        }
    }
}

/// What `usage` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageReport {
    pub account: String,
    pub stack: String,
    /// Whether this stack's function exists in its region (`None`: could not be told).
    pub stack_deployed: Option<bool>,
    pub rows: Vec<UsageRow>,
    /// Allowances of services this stack does not use, left out (all shown with `--all`).
    pub other_allowances: usize,
    pub warnings: Vec<String>,
    /// The services named when none of them has usage yet.
    #[serde(skip)]
    services: &'static str,
}

impl UsageReport {
    /// The rows of `usages` that `shown` picks, by service.
    pub fn new(
        (account, stack): (&str, &str),
        usages: &[FreeTierUsage],
        shown: Shown,
        deployed: Option<bool>,
    ) -> Self {
        let ours = |usage: &&FreeTierUsage| shown.includes(usage.service().unwrap_or_default());
        let mut rows: Vec<UsageRow> = usages
            .iter()
            .filter(ours)
            .map(UsageRow::from_usage)
            .collect();
        rows.sort_by(|a, b| (&a.service, &a.description).cmp(&(&b.service, &b.description)));
        Self {
            account: account.to_owned(),
            stack: stack.to_owned(),
            stack_deployed: deployed,
            other_allowances: usages.len() - rows.len(),
            warnings: rows
                .iter()
                .filter(|row| row.warn)
                .map(UsageRow::warning)
                .collect(),
            rows,
            services: shown.names(),
        }
    }

    pub fn render_text(&self) -> String {
        let mut lines = vec![format!(
            "Free Tier usage this month, account {} (AWS's figures, the whole account in every region; AWS \
             updates them about once a day):",
            self.account
        )];
        if self.rows.is_empty() {
            lines.push(format!(
                "  no Free Tier usage of the services this stack uses ({}) this month yet",
                self.services
            ));
        }
        lines.extend(table(&self.rows));
        if self.other_allowances > 0 {
            lines.push(format!(
                "({} allowance{} of services this stack does not use left out: --all shows them)",
                self.other_allowances,
                if self.other_allowances == 1 { "" } else { "s" }
            ));
        }
        if self.stack_deployed == Some(false) {
            lines.push(format!(
                "note: stack {} is not deployed (no function {}-api), so none of this is its usage; \
                 `shopsmart-deploy up` deploys it",
                self.stack, self.stack
            ));
        }
        lines.extend(self.warnings.iter().cloned());
        lines.join("\n")
    }
}

/// The rows as aligned columns: service, allowance, used, forecast, free, bar and forecast share.
fn table(rows: &[UsageRow]) -> Vec<String> {
    if rows.is_empty() {
        return Vec::new();
    }
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|row| {
            [
                row.service.clone(),
                shorten(row.label(), 48),
                quantity(row.actual),
                quantity(row.forecast),
                format!("{} {}", quantity(row.limit), row.unit),
                format!(
                    "{} {}",
                    row.bar(),
                    row.forecast_percent
                        .map_or("-".to_owned(), |p| format!("{p}%"))
                ),
            ]
        })
        .collect();
    let header = [
        "service",
        "allowance",
        "used",
        "forecast",
        "free",
        "forecast of free",
    ]
    .map(str::to_owned);
    let widths: Vec<usize> = (0..6)
        .map(|column| {
            std::iter::once(&header)
                .chain(&cells)
                .map(|row| row[column].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    std::iter::once(&header)
        .chain(&cells)
        .map(|row| {
            let line: Vec<String> = row
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(column, (cell, width))| match column {
                    // Numbers right-aligned.
                    2..=4 => format!("{cell:>width$}"),
                    _ => format!("{cell:<width$}"),
                })
                .collect();
            format!("  {}", line.join("  ").trim_end())
        })
        .collect()
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let kept: String = text.chars().take(max - 1).collect();
        format!("{kept}…")
    }
}

/// `1,234,567` or `1,234.57`.
fn quantity(amount: f64) -> String {
    let hundredths = (amount.max(0.0) * 100.0).round() as u64;
    let (whole, fraction) = (hundredths / 100, hundredths % 100);
    if fraction == 0 {
        group_thousands(whole)
    } else {
        format!("{}.{fraction:02}", group_thousands(whole))
    }
}

/// Every `GetFreeTierUsage` page.
pub async fn read(ctx: &Ctx) -> anyhow::Result<Vec<FreeTierUsage>> {
    let pages = ctx
        .aws
        .freetier
        .get_free_tier_usage()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await;
    match pages {
        Err(error)
            if ctx.aws.custom_endpoint
                && error
                    .raw_response()
                    .is_some_and(|r| r.status().as_u16() >= 500) =>
        {
            bail!(
                "`usage` reads AWS's Free Tier API, which an emulator does not have (it answered HTTP {}); run \
                 it against your AWS account (without --endpoint-url or AWS_ENDPOINT_URL)",
                error.raw_response().map_or(0, |r| r.status().as_u16())
            )
        }
        pages => {
            pages.aws_context(|| "reading this month's Free Tier usage (freetier GetFreeTierUsage)")
        }
    }
}

/// Whether the stack's function exists (one GetFunction); `None` when that cannot be told (e.g. denied).
async fn deployed(ctx: &Ctx) -> Option<bool> {
    let answer = ctx
        .aws
        .lambda
        .get_function()
        .function_name(ctx.names.function())
        .send()
        .await;
    found(answer, |e| e.is_resource_not_found_exception())
        .ok()
        .map(|function| function.is_some())
}

/// The usage (every page) and whether the stack is deployed, read at once; every allowance with `all`,
/// else those of the services this configuration uses.
pub async fn report(ctx: &Ctx, all: bool) -> anyhow::Result<UsageReport> {
    let (usages, deployed) = tokio::join!(read(ctx), deployed(ctx));
    let stack = ctx.names.stack_id();
    let shown = match all {
        true => Shown::All,
        false => Shown::Stack {
            cloudfront: ctx.config.website.https,
        },
    };
    Ok(UsageReport::new(
        (&ctx.account_id, &stack),
        &usages?,
        shown,
        deployed,
    ))
}

/// `usage [--all]`: the table (or, with `--output json`, the report) on stdout.
pub async fn run(ctx: &Ctx, all: bool, out: &Reporter) -> anyhow::Result<()> {
    out.result(&report(ctx, all).await?, UsageReport::render_text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(
        service: &str,
        description: &str,
        actual: f64,
        forecast: f64,
        limit: f64,
    ) -> FreeTierUsage {
        FreeTierUsage::builder()
            .service(service)
            .description(description)
            .usage_type("Global-Request")
            .unit("Requests")
            .free_tier_type("Always Free")
            .actual_usage_amount(actual)
            .forecasted_usage_amount(forecast)
            .limit(limit)
            .build()
    }

    #[test]
    fn bars_show_used_and_forecast_in_twentieths() {
        let row = |actual, forecast| {
            UsageRow::from_usage(&usage("AWS Lambda", "x", actual, forecast, 1_000_000.0))
        };
        assert_eq!(row(0.0, 0.0).bar(), "[....................]");
        // 25 % used = 5 cells, 40 % forecast = 8 cells.
        assert_eq!(row(250_000.0, 400_000.0).bar(), "[#####+++............]");
        // A sliver of use still shows (rounded up to a cell).
        assert_eq!(row(1.0, 1.0).bar(), "[#...................]");
        assert_eq!(row(900_000.0, 1_500_000.0).bar(), "[##################++]!");
    }

    #[test]
    fn a_forecast_from_80_percent_is_a_warning() {
        let at = |forecast| {
            UsageRow::from_usage(&usage(
                "AWS Lambda",
                "1,000,000 free requests",
                10.0,
                forecast,
                1_000_000.0,
            ))
        };
        assert!(!at(794_999.0).warn, "79 % is not yet");
        assert_eq!(at(795_000.0).forecast_percent, Some(80));
        assert!(at(795_000.0).warn);
        let warning = at(850_000.0).warning();
        assert!(warning.starts_with("warning: AWS Lambda: 1,000,000 free requests: forecast 850,000 of the free 1,000,000 Requests this month (85% forecast)"), "{warning}");
        let over = UsageRow::from_usage(&usage(
            "AWS Lambda",
            "y",
            1_200_000.0,
            2_000_000.0,
            1_000_000.0,
        ));
        assert!(over.warning().contains("already used 1,200,000 of the free 1,000,000 Requests this month (200% forecast, over it already)"));
    }

    #[test]
    fn only_the_stacks_services_unless_all() {
        let usages = [
            usage("AWS Lambda", "requests", 1.0, 2.0, 1_000_000.0),
            usage("Amazon Elastic Compute Cloud", "750 hours", 1.0, 2.0, 750.0),
            usage("Amazon DynamoDB", "25 GB", 0.5, 1.0, 25.0),
            usage("AmazonCloudWatch", "logs", 0.1, 0.2, 5.0),
            usage("Amazon Simple Storage Service", "5 GB", 0.0, 0.0, 5.0),
            usage("Amazon API Gateway", "1M calls", 10.0, 20.0, 1_000_000.0),
            usage("AWS Data Transfer", "100 GB out", 0.01, 0.02, 100.0),
        ];
        let report = UsageReport::new(
            ("123456789012", "shopsmart-dev"),
            &usages,
            Shown::Stack { cloudfront: false },
            Some(true),
        );
        let services: Vec<&str> = report.rows.iter().map(|row| row.service.as_str()).collect();
        assert_eq!(
            services,
            [
                "AWS Data Transfer",
                "AWS Lambda",
                "Amazon API Gateway",
                "Amazon DynamoDB",
                "Amazon Simple Storage Service",
                "AmazonCloudWatch"
            ]
        );
        assert_eq!(report.other_allowances, 1);
        assert!(report.render_text().contains(
            "(1 allowance of services this stack does not use left out: --all shows them)"
        ));
        let all = UsageReport::new(
            ("123456789012", "shopsmart-dev"),
            &usages,
            Shown::All,
            Some(true),
        );
        assert_eq!((all.rows.len(), all.other_allowances), (7, 0));
    }

    #[test]
    fn the_text_is_a_table_with_a_bar_per_row_then_the_warnings() {
        let usages = [
            usage(
                "AWS Lambda",
                "1,000,000 free requests per month",
                250_000.0,
                850_000.0,
                1_000_000.0,
            ),
            usage("Amazon DynamoDB", "25 GB of storage", 0.25, 0.3, 25.0),
        ];
        let text = UsageReport::new(
            ("123456789012", "shopsmart-dev"),
            &usages,
            Shown::Stack { cloudfront: false },
            Some(false),
        )
        .render_text();
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with("Free Tier usage this month, account 123456789012"),
            "{text}"
        );
        assert_eq!(
            lines[1].split_whitespace().next(),
            Some("service"),
            "{text}"
        );
        assert!(lines[2].starts_with("  AWS Lambda       1,000,000 free requests per month  250,000   850,000  1,000,000 Requests  [#####++++++++++++...] 85%"), "{text}");
        assert!(
            lines[3].contains("0.25") && lines[3].contains("[#...................] 1%"),
            "{text}"
        );
        assert!(
            text.contains("note: stack shopsmart-dev is not deployed"),
            "{text}"
        );
        assert!(
            lines.last().unwrap().starts_with("warning: AWS Lambda"),
            "{text}"
        );
    }

    #[test]
    fn no_usage_says_so() {
        let none = |shown| {
            UsageReport::new(("123456789012", "shopsmart-dev"), &[], shown, Some(true))
                .render_text()
        };
        let text = none(Shown::Stack { cloudfront: false });
        assert!(
            text.contains("no Free Tier usage of the services this stack uses (Lambda, DynamoDB, API Gateway, S3, CloudWatch, data transfer) this month yet"),
            "{text}"
        );
        let https = none(Shown::Stack { cloudfront: true });
        assert!(
            https.contains("data transfer, CloudFront) this month yet"),
            "{https}"
        );
    }

    /// With `website.https` the stack serves its pages through CloudFront, whose free requests a flood uses
    /// up: its allowances are the stack's too; without it they are another service's.
    #[test]
    fn cloudfront_counts_with_https_only() {
        let usages = [
            usage("AWS Lambda", "requests", 1.0, 2.0, 1_000_000.0),
            usage(
                "Amazon CloudFront",
                "10,000,000 HTTP/HTTPS requests",
                9e6,
                1.2e7,
                1e7,
            ),
        ];
        let shown = |cloudfront| {
            let report = UsageReport::new(
                ("123456789012", "shopsmart-dev"),
                &usages,
                Shown::Stack { cloudfront },
                Some(true),
            );
            let services: Vec<String> = report.rows.iter().map(|r| r.service.clone()).collect();
            (services, report.other_allowances, report.warnings)
        };
        let (services, others, warnings) = shown(true);
        assert_eq!(services, ["AWS Lambda", "Amazon CloudFront"]);
        assert_eq!(others, 0);
        assert!(
            warnings[0].starts_with("warning: Amazon CloudFront"),
            "{warnings:?}"
        );
        let (services, others, warnings) = shown(false);
        assert_eq!((services, others), (vec!["AWS Lambda".to_owned()], 1));
        assert!(warnings.is_empty());
    }
}
