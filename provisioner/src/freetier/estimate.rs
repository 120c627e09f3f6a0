//! The monthly cost of this stack at a given number of API requests, per service, split into what the
//! always-free tier covers, what the 12-month offer (or sign-up credits) covers, and what is billed.
//!
//! Rounding: every usage line is priced exactly in integer nano-dollars (u128; a line loses under one
//! nano-dollar to integer division), the lines of a service are summed per column, and each service column
//! is rounded half up to whole cents once, at the end. Totals are the sums of the rounded service figures,
//! so the printed table always adds up.

use std::fmt::Write as _;

use serde::Serialize;

use super::money::{cents_half_up, format_usd, group_thousands};
use super::prices::{Price, PriceSheet};
use crate::config::model::{Billing, Config};
use crate::names::TableKind;
use Free::{Always, TwelveMonth};

const BYTES_PER_GB: u128 = 1 << 30;
const KB_PER_GB: u128 = 1 << 20;
const MB_PER_GB: u128 = 1 << 10;
/// One GB-second is 1,024 MB held for 1,000 ms.
const MB_MS_PER_GB_SECOND: u128 = 1_024 * 1_000;
/// A billing month in seconds (730 hours), for average rates.
const SECONDS_PER_MONTH: u64 = 730 * 3_600;
/// Log retention assumed when none is set: logs are kept forever, so show the storage after a year.
const UNLIMITED_RETENTION_DAYS_SHOWN: u64 = 365;

/// What the estimate assumes about traffic and data, printed with every estimate. Memory and architecture
/// are not assumptions: they come from the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assumptions {
    /// Average billed duration of one function invocation.
    pub avg_duration_ms: u64,
    /// Request plus response size of one API call (HTTP API meters in 512 KB steps; also data transfer).
    pub payload_kb: u64,
    /// A page view of the storefront makes this many API requests.
    pub api_requests_per_page_view: u64,
    /// Objects (HTML, JS, CSS, images) one page view fetches from the website bucket (S3 GETs).
    pub objects_per_page_view: u64,
    /// Bytes one page view downloads from the website bucket.
    pub page_view_kb: u64,
    /// CloudWatch Logs bytes one invocation writes (START/END/REPORT lines plus the function's own log).
    pub log_bytes_per_request: u64,
    /// Read and write request units one API request uses (billed only with on-demand tables).
    pub table_reads_per_request: u64,
    pub table_writes_per_request: u64,
    /// Data stored in the three tables together.
    pub table_storage_mb: u64,
    /// The storefront in the website bucket.
    pub website_kb: u64,
    pub website_objects: u64,
    /// `up` runs a month; each uploads at most every website object (S3 PUTs).
    pub deploys_per_month: u64,
}

impl Default for Assumptions {
    fn default() -> Self {
        Self {
            avg_duration_ms: 50,
            payload_kb: 2,
            api_requests_per_page_view: 4,
            objects_per_page_view: 6,
            page_view_kb: 200,
            log_bytes_per_request: 512,
            table_reads_per_request: 2,
            table_writes_per_request: 1,
            table_storage_mb: 100,
            website_kb: 512,
            website_objects: 10,
            deploys_per_month: 20,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    Lambda,
    HttpApi,
    DynamoDb,
    CloudWatchLogs,
    S3,
    DataTransfer,
    CloudFront,
}

impl Service {
    pub fn display_name(self) -> &'static str {
        match self {
            Service::Lambda => "Lambda",
            Service::HttpApi => "API Gateway HTTP API",
            Service::DynamoDb => "DynamoDB",
            Service::CloudWatchLogs => "CloudWatch Logs",
            Service::S3 => "S3 (website)",
            Service::DataTransfer => "Data transfer out",
            Service::CloudFront => "CloudFront (website.https)",
        }
    }
}

/// Whole cents per column.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Split {
    /// List-price value of the usage the always-free tier covers.
    pub always_free_cents: u64,
    /// Value of the usage the 12-month offer covers (or, for accounts opened since the credits date, that
    /// the sign-up credits pay for).
    pub twelve_month_or_credit_cents: u64,
    /// What the bill shows.
    pub billed_cents: u64,
}

impl Split {
    fn add(&mut self, other: Split) {
        self.always_free_cents += other.always_free_cents;
        self.twelve_month_or_credit_cents += other.twelve_month_or_credit_cents;
        self.billed_cents += other.billed_cents;
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceCost {
    pub service: Service,
    /// What is used, in words (e.g. "100,000 requests; 625 GB-s (50 ms x 128 MB arm64)").
    pub usage: Vec<String>,
    #[serde(flatten)]
    pub cost: Split,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Estimate {
    pub requests_per_month: u64,
    pub prices_as_of: String,
    /// Whether the price file was compared with AWS's pages on `prices_as_of`.
    pub prices_checked_against_aws: bool,
    pub priced_region: String,
    pub sources: Vec<String>,
    pub function_memory_mb: u32,
    pub function_architecture: &'static str,
    pub assumptions: Assumptions,
    pub services: Vec<ServiceCost>,
    pub total: Split,
    pub notes: Vec<String>,
}

/// Exact nano-dollar sums per column while a service is being priced.
#[derive(Debug, Default)]
struct Exact {
    always_free: u128,
    twelve_month: u128,
    billed: u128,
}

/// How much of a quantity a free offer covers (in the quantity's units); no usage line has both kinds.
#[derive(Clone, Copy)]
enum Free {
    /// The always-free tier.
    Always(u128),
    /// The 12-month offer (or the sign-up credits).
    TwelveMonth(u128),
}

impl Exact {
    /// Prices `quantity / denominator` units of which `free` covers its part; the rest is billed.
    fn price(&mut self, price: Price, quantity: u128, denominator: u128, free: Free) {
        let (always_free, twelve_month) = match free {
            Always(units) => (quantity.min(units), 0),
            TwelveMonth(units) => (0, quantity.min(units)),
        };
        self.always_free += price.nano_usd(always_free, denominator);
        self.twelve_month += price.nano_usd(twelve_month, denominator);
        self.billed += price.nano_usd(quantity - always_free - twelve_month, denominator);
    }

    fn to_cents(&self) -> Split {
        Split {
            always_free_cents: cents_half_up(self.always_free),
            twelve_month_or_credit_cents: cents_half_up(self.twelve_month),
            billed_cents: cents_half_up(self.billed),
        }
    }
}

/// `website.https`: CloudFront's always-free allowance, its price beyond it, and what cannot be bounded.
fn cloudfront_note(prices: &PriceSheet) -> String {
    let cf = &prices.cloudfront;
    format!(
        "CloudFront (website.https) serves the pages and /api: always free {} GB out and {} requests a month; \
         beyond that {} per GB out and {} per 10,000 HTTPS requests (PriceClass_100). The bucket then serves only \
         CloudFront's cache misses (the S3 row counts every page's objects: an upper bound). {}",
        group_thousands(cf.always_free.out_gb),
        group_thousands(cf.always_free.requests),
        format_unit_price(cf.out_to_internet_gb.nano_usd_for(1)),
        format_unit_price(cf.https_request.nano_usd_for(10_000)),
        cloudfront_flood_sentence(prices)
    )
}

/// Requests in the CloudFront flood that `cost` and `plan` quote (a month).
pub const CLOUDFRONT_FLOOD_REQUESTS: u64 = 100_000_000;
/// The size of one flooding request's answer, in KB.
const CLOUDFRONT_FLOOD_KB: u64 = 10;

/// What CloudFront's worst case is: no throttle without WAF, and the price of a flood.
pub fn cloudfront_flood_sentence(prices: &PriceSheet) -> String {
    let requests = u128::from(CLOUDFRONT_FLOOD_REQUESTS);
    let flood = cloudfront_cost(requests, requests * u128::from(CLOUDFRONT_FLOOD_KB), prices);
    format!(
        "CloudFront cannot be throttled without AWS WAF (which is not free): the API's throttle still bounds \
         /api, but a flood of page requests is billed: {} requests of {} KB in a month would bill about {}.",
        group_thousands(CLOUDFRONT_FLOOD_REQUESTS),
        CLOUDFRONT_FLOOD_KB,
        format_usd(flood.cost.billed_cents)
    )
}

/// `$0.085` for 85,000,000 nano-dollars: two to four decimals (unit prices are fractions of a cent).
fn format_unit_price(nano_usd: u128) -> String {
    let tenths_of_millicents = nano_usd / 100_000;
    let text = format!(
        "{}.{:04}",
        tenths_of_millicents / 10_000,
        tenths_of_millicents % 10_000
    );
    let trimmed = text.trim_end_matches('0');
    let decimals = trimmed.len() - trimmed.find('.').unwrap_or(0) - 1;
    format!("${trimmed}{}", "0".repeat(2usize.saturating_sub(decimals)))
}

/// The monthly estimate at `requests_per_month` API requests, with the shipped price file.
pub fn monthly(config: &Config, requests_per_month: u64, assumptions: &Assumptions) -> Estimate {
    let prices = PriceSheet::current();
    let requests = u128::from(requests_per_month);
    let page_views = requests.div_ceil(u128::from(assumptions.api_requests_per_page_view.max(1)));
    let mut notes = Vec::new();

    let https = config.website.https;
    // With `website.https` the pages leave through CloudFront (its own row), not from the bucket.
    let direct_page_views = if https { 0 } else { page_views };
    let mut services = vec![
        lambda(config, requests, assumptions, prices),
        http_api(requests, assumptions, prices),
        dynamodb(config, requests, assumptions, prices, &mut notes),
        cloudwatch_logs(config, requests, assumptions, prices, &mut notes),
        s3(page_views, assumptions, prices),
        data_transfer(requests, direct_page_views, assumptions, prices),
    ];
    if https {
        services.push(cloudfront(requests, page_views, assumptions, prices));
        notes.push(cloudfront_note(prices));
    }
    let mut total = Split::default();
    for service in &services {
        total.add(service.cost);
    }
    notes.push(format!(
        "Accounts opened on or after {} have no 12-month offers: the \"credits or 12-month\" column is paid from \
         the sign-up credits ({} plus up to {} more) while they last, during the free plan's first {} months \
         (credits expire {} months after they were granted).",
        prices.credits.new_accounts_since,
        format_usd(prices.credits.signup_credit_cents),
        format_usd(prices.credits.activity_credit_cents),
        prices.credits.free_plan_months,
        prices.credits.credit_valid_months
    ));

    Estimate {
        requests_per_month,
        prices_as_of: prices.as_of.clone(),
        prices_checked_against_aws: prices.checked_against_aws,
        priced_region: prices.priced_region.clone(),
        sources: prices.sources.clone(),
        function_memory_mb: config.function.memory_mb,
        function_architecture: config.function.architecture.lambda_name(),
        assumptions: assumptions.clone(),
        services,
        total,
        notes,
    }
}

fn lambda(
    config: &Config,
    requests: u128,
    assumptions: &Assumptions,
    prices: &PriceSheet,
) -> ServiceCost {
    let lambda = &prices.lambda;
    let free = &lambda.always_free;
    let mut exact = Exact::default();
    exact.price(lambda.request, requests, 1, Always(free.requests.into()));

    let memory_mb = u128::from(config.function.memory_mb);
    let mb_ms = requests * u128::from(assumptions.avg_duration_ms) * memory_mb;
    let free_mb_ms = u128::from(free.gb_seconds) * MB_MS_PER_GB_SECOND;
    let duration_price = lambda
        .duration_gb_second
        .for_architecture(config.function.architecture);
    exact.price(
        duration_price,
        mb_ms,
        MB_MS_PER_GB_SECOND,
        Always(free_mb_ms),
    );

    ServiceCost {
        service: Service::Lambda,
        usage: vec![
            format!("{} requests", group_u128(requests)),
            format!(
                "{} GB-s ({} ms x {} MB {})",
                group_u128(mb_ms / MB_MS_PER_GB_SECOND),
                assumptions.avg_duration_ms,
                config.function.memory_mb,
                config.function.architecture.lambda_name()
            ),
        ],
        cost: exact.to_cents(),
    }
}

fn http_api(requests: u128, assumptions: &Assumptions, prices: &PriceSheet) -> ServiceCost {
    let api = &prices.http_api;
    // A request of up to 512 KB is one metered request; larger ones count once per started 512 KB.
    let units_per_request = assumptions
        .payload_kb
        .max(1)
        .div_ceil(api.metering_increment_kb);
    let metered = requests * u128::from(units_per_request);
    let mut exact = Exact::default();
    exact.price(
        api.request,
        metered,
        1,
        TwelveMonth(api.twelve_month_free.requests.into()),
    );
    ServiceCost {
        service: Service::HttpApi,
        usage: vec![format!("{} metered requests", group_u128(metered))],
        cost: exact.to_cents(),
    }
}

fn dynamodb(
    config: &Config,
    requests: u128,
    assumptions: &Assumptions,
    prices: &PriceSheet,
    notes: &mut Vec<String>,
) -> ServiceCost {
    let ddb = &prices.dynamodb;
    let hours = u128::from(prices.hours_per_month);
    let mut exact = Exact::default();
    let mut usage = Vec::new();
    match &config.tables.billing {
        Billing::Provisioned { .. } => {
            let (read, write) = provisioned_totals(&config.tables.billing);
            let unit_hours = |units: u64| u128::from(units) * hours;
            let free = &ddb.always_free;
            let (read_hours, write_hours) = (unit_hours(read.into()), unit_hours(write.into()));
            let free_read = Always(unit_hours(free.read_capacity_units));
            exact.price(ddb.read_capacity_unit_hour, read_hours, 1, free_read);
            let free_write = Always(unit_hours(free.write_capacity_units));
            exact.price(ddb.write_capacity_unit_hour, write_hours, 1, free_write);
            usage.push(format!(
                "provisioned {read} RCU + {write} WCU over 3 tables, {} hours",
                prices.hours_per_month
            ));
            notes.push(
                "The 25 free RCU and 25 free WCU are the whole account's, shared with every other provisioned \
                 table in every region; this estimate assumes there are none (`plan` and `cost` count the real \
                 ones)."
                    .to_owned(),
            );
            let reads_per_second =
                requests_per_second(requests, assumptions.table_reads_per_request);
            let writes_per_second =
                requests_per_second(requests, assumptions.table_writes_per_request);
            if reads_per_second > read.into() || writes_per_second > write.into() {
                notes.push(format!(
                    "At this traffic the average rate (about {reads_per_second} reads/s, {writes_per_second} \
                     writes/s) exceeds the provisioned {read} RCU / {write} WCU: requests would be throttled. \
                     Raise the table capacities in shopsmart.yaml (staying within 25 in total is still free)."
                ));
            }
        }
        Billing::OnDemand => {
            let reads = requests * u128::from(assumptions.table_reads_per_request);
            let writes = requests * u128::from(assumptions.table_writes_per_request);
            exact.price(ddb.on_demand_read_request_unit, reads, 1, Always(0));
            exact.price(ddb.on_demand_write_request_unit, writes, 1, Always(0));
            usage.push(format!(
                "on-demand {} read + {} write request units (no free tier)",
                group_u128(reads),
                group_u128(writes)
            ));
        }
    }
    let storage_mb = u128::from(assumptions.table_storage_mb);
    let free_mb = u128::from(ddb.always_free.storage_gb) * MB_PER_GB;
    exact.price(ddb.storage_gb_month, storage_mb, MB_PER_GB, Always(free_mb));
    usage.push(format!("{} MB stored", assumptions.table_storage_mb));
    ServiceCost {
        service: Service::DynamoDb,
        usage,
        cost: exact.to_cents(),
    }
}

/// Sum of the provisioned read and write capacity of the three tables (0, 0 for on-demand).
pub(crate) fn provisioned_totals(billing: &Billing) -> (u32, u32) {
    TableKind::ALL
        .iter()
        .filter_map(|kind| billing.capacity(*kind))
        .fold((0, 0), |(read, write), capacity| {
            (read + capacity.read, write + capacity.write)
        })
}

fn requests_per_second(requests: u128, units_per_request: u64) -> u64 {
    let per_second = requests * u128::from(units_per_request) / u128::from(SECONDS_PER_MONTH);
    u64::try_from(per_second).unwrap_or(u64::MAX)
}

fn cloudwatch_logs(
    config: &Config,
    requests: u128,
    assumptions: &Assumptions,
    prices: &PriceSheet,
    notes: &mut Vec<String>,
) -> ServiceCost {
    let logs = &prices.cloudwatch_logs;
    let ingested_bytes = requests * u128::from(assumptions.log_bytes_per_request);
    let retention_days = match config.function.log_retention_days {
        Some(days) => u64::from(days),
        None => {
            notes.push(format!(
                "No log retention is set: logs are kept (and billed) forever; storage is shown after {} days \
                 and keeps growing.",
                UNLIMITED_RETENTION_DAYS_SHOWN
            ));
            UNLIMITED_RETENTION_DAYS_SHOWN
        }
    };
    // The free 5 GB covers ingestion and archive storage together: ingestion uses it first.
    let free_bytes = u128::from(logs.always_free.data_gb) * BYTES_PER_GB;
    let mut exact = Exact::default();
    exact.price(
        logs.ingestion_gb,
        ingested_bytes,
        BYTES_PER_GB,
        Always(free_bytes),
    );
    let free_left = free_bytes.saturating_sub(ingested_bytes);
    // In steady state the group holds `retention_days` days of logs: ingested x days / 30 byte-months,
    // kept as the numerator over 30 so the division happens once, in the price.
    let stored_byte_months_x30 = ingested_bytes * u128::from(retention_days);
    exact.price(
        logs.storage_gb_month,
        stored_byte_months_x30,
        30 * BYTES_PER_GB,
        Always(free_left * 30),
    );
    ServiceCost {
        service: Service::CloudWatchLogs,
        usage: vec![
            format!("{} MB ingested", group_u128(ingested_bytes / (1 << 20))),
            format!(
                "{} MB stored ({} days retention)",
                group_u128(stored_byte_months_x30 / 30 / (1 << 20)),
                retention_days
            ),
        ],
        cost: exact.to_cents(),
    }
}

fn s3(page_views: u128, assumptions: &Assumptions, prices: &PriceSheet) -> ServiceCost {
    let s3 = &prices.s3;
    let free = &s3.twelve_month_free;
    let gets = page_views * u128::from(assumptions.objects_per_page_view);
    let puts = u128::from(assumptions.website_objects) * u128::from(assumptions.deploys_per_month);
    let mut exact = Exact::default();
    exact.price(
        s3.storage_gb_month,
        assumptions.website_kb.into(),
        KB_PER_GB,
        TwelveMonth(u128::from(free.storage_gb) * KB_PER_GB),
    );
    exact.price(
        s3.get_request,
        gets,
        1,
        TwelveMonth(free.get_requests.into()),
    );
    exact.price(
        s3.put_request,
        puts,
        1,
        TwelveMonth(free.put_requests.into()),
    );
    ServiceCost {
        service: Service::S3,
        usage: vec![
            format!("{} KB stored", group_thousands(assumptions.website_kb)),
            format!(
                "{} GET ({} page views)",
                group_u128(gets),
                group_u128(page_views)
            ),
            format!("{} PUT", group_u128(puts)),
        ],
        cost: exact.to_cents(),
    }
}

fn data_transfer(
    requests: u128,
    page_views: u128,
    assumptions: &Assumptions,
    prices: &PriceSheet,
) -> ServiceCost {
    let transfer = &prices.data_transfer;
    let out_kb = requests * u128::from(assumptions.payload_kb)
        + page_views * u128::from(assumptions.page_view_kb);
    let mut exact = Exact::default();
    exact.price(
        transfer.out_to_internet_gb,
        out_kb,
        KB_PER_GB,
        Always(u128::from(transfer.always_free.out_gb) * KB_PER_GB),
    );
    ServiceCost {
        service: Service::DataTransfer,
        usage: vec![format!(
            "{} MB to the internet (API responses and pages)",
            group_u128(out_kb / 1_024)
        )],
        cost: exact.to_cents(),
    }
}

/// With `website.https`: every page object and API request through CloudFront, and every byte out of it.
fn cloudfront(
    requests: u128,
    page_views: u128,
    assumptions: &Assumptions,
    prices: &PriceSheet,
) -> ServiceCost {
    let viewer_requests = page_views * u128::from(assumptions.objects_per_page_view) + requests;
    let out_kb = requests * u128::from(assumptions.payload_kb)
        + page_views * u128::from(assumptions.page_view_kb);
    cloudfront_cost(viewer_requests, out_kb, prices)
}

fn cloudfront_cost(viewer_requests: u128, out_kb: u128, prices: &PriceSheet) -> ServiceCost {
    let cf = &prices.cloudfront;
    let mut exact = Exact::default();
    let free_requests = u128::from(cf.always_free.requests);
    exact.price(cf.https_request, viewer_requests, 1, Always(free_requests));
    let free_kb = u128::from(cf.always_free.out_gb) * KB_PER_GB;
    exact.price(cf.out_to_internet_gb, out_kb, KB_PER_GB, Always(free_kb));
    ServiceCost {
        service: Service::CloudFront,
        usage: vec![
            format!("{} HTTPS requests", group_u128(viewer_requests)),
            format!("{} MB to the internet", group_u128(out_kb / 1_024)),
        ],
        cost: exact.to_cents(),
    }
}

fn group_u128(value: u128) -> String {
    group_thousands(u64::try_from(value).unwrap_or(u64::MAX))
}

impl Estimate {
    /// A readable table with the assumptions, the notes and the price source.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        self.write_table(&mut out);
        self.write_assumptions(&mut out);
        self.write_notes_and_sources(&mut out);
        out
    }

    /// The heading, one row per service (with its usage lines), the total row and the bottom line.
    fn write_table(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "Monthly cost estimate at {} API requests a month ({} list prices as of {}{})",
            group_thousands(self.requests_per_month),
            self.priced_region,
            self.prices_as_of,
            if self.prices_checked_against_aws {
                ""
            } else {
                "; not re-checked against AWS's pages, see provisioner/data/free-tier.yaml"
            }
        );
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "\"you pay\": billed to you. \"credits or 12-month\": paid by a 12-month offer or the sign-up credits while \
             they last,\nthen by you. \"always free (value)\": what AWS's permanent allowances cover, never a charge.");
        let _ = writeln!(out);
        write_row(
            out,
            "service",
            "you pay",
            "credits or 12-month",
            "always free (value)",
        );
        for service in &self.services {
            write_cost_row(out, service.service.display_name(), &service.cost);
            for usage in &service.usage {
                let _ = writeln!(out, "    {usage}");
            }
        }
        write_cost_row(out, "total", &self.total);
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "You would pay about {} a month ({} more once a 12-month offer or the credits run out).",
            format_usd(self.total.billed_cents),
            format_usd(self.total.twelve_month_or_credit_cents)
        );
    }

    /// The traffic and sizes the estimate assumes, so the learner can judge how far it fits their shop.
    fn write_assumptions(&self, out: &mut String) {
        let a = &self.assumptions;
        let _ = writeln!(out);
        let _ = writeln!(out, "Assumptions:");
        let _ = writeln!(
            out,
            "  function: {} ms average duration, {} MB memory, {} (memory and architecture from shopsmart.yaml)",
            a.avg_duration_ms, self.function_memory_mb, self.function_architecture
        );
        let _ = writeln!(
            out,
            "  payload: {} KB per API request (request + response)",
            a.payload_kb
        );
        let _ = writeln!(
            out,
            "  page views: 1 per {} API requests, each fetching {} objects ({} KB) from the website bucket",
            a.api_requests_per_page_view, a.objects_per_page_view, a.page_view_kb
        );
        let _ = writeln!(out, "  logs: {} bytes per request", a.log_bytes_per_request);
        let _ = writeln!(
            out,
            "  tables: {} reads + {} writes per request (billed only on demand), {} MB stored",
            a.table_reads_per_request, a.table_writes_per_request, a.table_storage_mb
        );
        let _ = writeln!(
            out,
            "  website: {} KB in {} objects, {} deploys a month",
            a.website_kb, a.website_objects, a.deploys_per_month
        );
    }

    fn write_notes_and_sources(&self, out: &mut String) {
        let _ = writeln!(out);
        let _ = writeln!(out, "Notes:");
        for note in &self.notes {
            let _ = writeln!(out, "  - {note}");
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "Prices and allowances as of {}, from:",
            self.prices_as_of
        );
        for source in &self.sources {
            let _ = writeln!(out, "  - {source}");
        }
    }
}

/// One row of the cost table: a label and three right-aligned columns.
fn write_row(out: &mut String, label: &str, billed: &str, twelve_month: &str, always_free: &str) {
    let _ = writeln!(
        out,
        "{label:<24}{billed:>10}{twelve_month:>22}{always_free:>22}"
    );
}

fn write_cost_row(out: &mut String, label: &str, cost: &Split) {
    write_row(
        out,
        label,
        &format_usd(cost.billed_cents),
        &format_usd(cost.twelve_month_or_credit_cents),
        &format_usd(cost.always_free_cents),
    );
}

#[cfg(test)]
mod tests {
    //! Expected figures are computed by hand below from data/free-tier.yaml (us-east-1 list prices) and the
    //! default assumptions: 50 ms, 128 MB arm64 ($0.0000133334/GB-s), 2 KB payload, 1 page view per 4 API
    //! requests with 6 objects and 200 KB each, 512 log bytes per request kept 7 days, 100 MB in the tables,
    //! a 512 KB website in 10 objects deployed 20 times a month, 1 RCU + 1 WCU on each of the 3 tables
    //! (`one_unit_config`; the shipped 7 RCU + 6 WCU are checked in `the_shipped_capacity_is_always_free`).
    //! µ$ = micro-dollars; 1 GB = 2^30 bytes = 1,048,576 KB.

    use super::*;
    use crate::config::model::Architecture;
    use crate::freetier::test_config::{free_config, one_unit_config};

    const fn split(
        always_free_cents: u64,
        twelve_month_or_credit_cents: u64,
        billed_cents: u64,
    ) -> Split {
        Split {
            always_free_cents,
            twelve_month_or_credit_cents,
            billed_cents,
        }
    }

    fn cost_of(estimate: &Estimate, service: Service) -> Split {
        estimate
            .services
            .iter()
            .find(|s| s.service == service)
            .expect("every service is estimated")
            .cost
    }

    // Same at every traffic level (the tables' standing capacity and storage are always free):
    //   RCU: 3 x 730 h x 130 µ$ = 284,700 µ$; WCU: 3 x 730 h x 650 µ$ = 1,423,500 µ$;
    //   storage: 100/1024 GB x 250,000 µ$ = 24,414.06 µ$; sum 1,732,614.06 µ$ = 173.26 -> 173 cents free.
    const DYNAMODB: Split = split(173, 0, 0);

    /// By hand, 1,000,000 API requests with `website.https` (4 API requests and 6 objects a page view):
    /// - CloudFront: 250,000 page views x 6 objects + 1,000,000 API requests = 2,500,000 requests, inside the
    ///   free 10,000,000 (2,500,000 / 10,000 x $0.01 = $2.50 always free); 1,000,000 x 2 KB + 250,000 x 200 KB
    ///   = 52,000,000 KB = 49.59 GB x $0.085 = $4.2152 -> 422 cents, inside the free 1 TB.
    /// - Data transfer out: only the API's 2,000,000 KB = 1.907 GB x $0.09 = $0.1717 -> 17 cents (the pages
    ///   leave through CloudFront).
    #[test]
    fn https_adds_a_cloudfront_row_with_its_allowance_price_and_worst_case() {
        let mut config = one_unit_config();
        let plain = monthly(&config, 1_000_000, &Assumptions::default());
        assert!(!plain.render_text().contains("CloudFront (website.https)"));
        assert!(plain
            .services
            .iter()
            .all(|s| s.service != Service::CloudFront));
        config.website.https = true;
        let estimate = monthly(&config, 1_000_000, &Assumptions::default());
        assert_eq!(
            cost_of(&estimate, Service::CloudFront),
            split(250 + 422, 0, 0)
        );
        assert_eq!(cost_of(&estimate, Service::DataTransfer), split(17, 0, 0));
        let text = estimate.render_text();
        for part in [
            "CloudFront (website.https)",
            "2,500,000 HTTPS requests",
            "1,024 GB out and 10,000,000 requests",
            "$0.085 per GB out and $0.01 per 10,000 HTTPS",
            "cannot be throttled without AWS WAF",
            // 90,000,000 requests beyond the free 10,000,000 x $0.01 / 10,000; 953.7 GB inside the free 1 TB.
            "100,000,000 requests of 10 KB in a month would bill about $90.00",
        ] {
            super::super::test_config::assert_contains(&text, part);
        }
        assert_eq!(format_unit_price(1_000_000), "$0.001");
        assert_eq!(format_unit_price(1_000_000_000), "$1.00");
    }

    /// The shipped capacity (products 3/2, carts 3/3, orders 1/1): RCU 7 x 730 h x 130 µ$ = 664,300 µ$; WCU
    /// 6 x 730 h x 650 µ$ = 2,847,000 µ$; storage 24,414.06 µ$; sum 3,535,714.06 µ$ = 353.57 -> 354 cents, free.
    #[test]
    fn the_shipped_capacity_is_always_free() {
        let estimate = monthly(&free_config(), 0, &Assumptions::default());
        assert_eq!(cost_of(&estimate, Service::DynamoDb), split(354, 0, 0));
        assert_eq!(estimate.total, split(354, 0, 0));
    }

    #[test]
    fn zero_requests_cost_nothing() {
        let estimate = monthly(&one_unit_config(), 0, &Assumptions::default());
        assert_eq!(cost_of(&estimate, Service::Lambda), split(0, 0, 0));
        assert_eq!(cost_of(&estimate, Service::HttpApi), split(0, 0, 0));
        assert_eq!(cost_of(&estimate, Service::DynamoDb), DYNAMODB);
        assert_eq!(cost_of(&estimate, Service::CloudWatchLogs), split(0, 0, 0));
        // S3: storage 512 KB = 0.00049 GB x 23,000 µ$ = 11.23 µ$; PUT 10 x 20 = 200 x 5 µ$ = 1,000 µ$;
        // 1,011.23 µ$ = 0.10 cents, 12-month -> rounds to 0.
        assert_eq!(cost_of(&estimate, Service::S3), split(0, 0, 0));
        assert_eq!(cost_of(&estimate, Service::DataTransfer), split(0, 0, 0));
        assert_eq!(estimate.total, split(173, 0, 0));
    }

    #[test]
    fn a_hundred_thousand_requests() {
        let estimate = monthly(&one_unit_config(), 100_000, &Assumptions::default());
        // Lambda: 100,000 x 0.2 µ$ = 20,000 µ$; 100,000 x 50 ms x 128 MB = 625 GB-s x 13.3334 µ$ = 8,333.375 µ$;
        // 28,333.375 µ$ = 2.83 -> 3 cents, all within the 1M requests / 400,000 GB-s always free.
        assert_eq!(cost_of(&estimate, Service::Lambda), split(3, 0, 0));
        // HTTP API: 100,000 x 1 µ$ = 100,000 µ$ = 10 cents, within the 12-month 1M.
        assert_eq!(cost_of(&estimate, Service::HttpApi), split(0, 10, 0));
        assert_eq!(cost_of(&estimate, Service::DynamoDb), DYNAMODB);
        // Logs: 51,200,000 B = 0.04768 GB x 500,000 µ$ = 23,841.86 µ$ ingested; stored 7/30 of it = 0.01113 GB
        // x 30,000 µ$ = 333.79 µ$; 24,175.65 µ$ = 2.42 -> 2 cents, within the 5 GB.
        assert_eq!(cost_of(&estimate, Service::CloudWatchLogs), split(2, 0, 0));
        // S3: 25,000 page views x 6 = 150,000 GET; 20,000 x 0.4 µ$ = 8,000 µ$ plus PUT 1,000 µ$ plus storage
        // 11.23 µ$ = 9,011.23 µ$ = 0.90 -> 1 cent 12-month; 130,000 GET x 0.4 µ$ = 52,000 µ$ = 5.2 -> 5 billed.
        assert_eq!(cost_of(&estimate, Service::S3), split(0, 1, 5));
        // Out: 100,000 x 2 KB + 25,000 x 200 KB = 5,200,000 KB = 4.9591 GB x 90,000 µ$ = 446,319.6 µ$
        // = 44.63 -> 45 cents, within the 100 GB.
        assert_eq!(cost_of(&estimate, Service::DataTransfer), split(45, 0, 0));
        // 3 + 173 + 2 + 45 = 223; 10 + 1 = 11; 5.
        assert_eq!(estimate.total, split(223, 11, 5));
    }

    #[test]
    fn a_million_requests() {
        let estimate = monthly(&one_unit_config(), 1_000_000, &Assumptions::default());
        // Lambda: 200,000 µ$ + 6,250 GB-s x 13.3334 µ$ = 83,333.75 µ$ -> 283,333.75 µ$ = 28.33 -> 28 free.
        assert_eq!(cost_of(&estimate, Service::Lambda), split(28, 0, 0));
        // HTTP API: exactly the 12-month 1M: 1,000,000 µ$ = 100 cents.
        assert_eq!(cost_of(&estimate, Service::HttpApi), split(0, 100, 0));
        assert_eq!(cost_of(&estimate, Service::DynamoDb), DYNAMODB);
        // Logs: 512,000,000 B = 0.47684 GB x 500,000 µ$ = 238,418.58 µ$; stored 119,466,666.7 B = 0.11126 GB
        // x 30,000 µ$ = 3,337.86 µ$; 241,756.44 µ$ = 24.18 -> 24 free.
        assert_eq!(cost_of(&estimate, Service::CloudWatchLogs), split(24, 0, 0));
        // S3: 250,000 page views x 6 = 1,500,000 GET; 12-month 9,011.23 µ$ -> 1 cent;
        // 1,480,000 x 0.4 µ$ = 592,000 µ$ = 59.2 -> 59 billed.
        assert_eq!(cost_of(&estimate, Service::S3), split(0, 1, 59));
        // Out: 2,000,000 KB + 50,000,000 KB = 52,000,000 KB = 49.5911 GB x 90,000 µ$ = 4,463,196 µ$ = 446.32 -> 446.
        assert_eq!(cost_of(&estimate, Service::DataTransfer), split(446, 0, 0));
        // 28 + 173 + 24 + 446 = 671; 100 + 1 = 101; 59.
        assert_eq!(estimate.total, split(671, 101, 59));
    }

    #[test]
    fn ten_million_requests() {
        let estimate = monthly(&one_unit_config(), 10_000_000, &Assumptions::default());
        // Lambda: 1M requests free = 200,000 µ$; 9M x 0.2 µ$ = 1,800,000 µ$ = 180 billed;
        // 62,500 GB-s (free) x 13.3334 µ$ = 833,337.5 µ$; free 1,033,337.5 µ$ = 103.33 -> 103.
        assert_eq!(cost_of(&estimate, Service::Lambda), split(103, 0, 180));
        // HTTP API: 1M x 1 µ$ = 100 cents 12-month; 9M x 1 µ$ = 900 cents billed.
        assert_eq!(cost_of(&estimate, Service::HttpApi), split(0, 100, 900));
        assert_eq!(cost_of(&estimate, Service::DynamoDb), DYNAMODB);
        // Logs: ingest 5,120,000,000 B = 4.76837 GB (free) x 500,000 µ$ = 2,384,185.79 µ$. The 5 GB left
        // 5,368,709,120 - 5,120,000,000 = 248,709,120 B for storage: 0.23163 GB x 30,000 µ$ = 6,948.96 µ$ free.
        // Stored 5,120,000,000 x 7/30 = 1,194,666,666.7 B; billed 945,957,546.7 B = 0.88100 GB x 30,000 µ$
        // = 26,429.9 µ$ = 2.64 -> 3 billed; free 2,391,134.75 µ$ = 239.11 -> 239.
        assert_eq!(
            cost_of(&estimate, Service::CloudWatchLogs),
            split(239, 0, 3)
        );
        // S3: 2,500,000 page views x 6 = 15,000,000 GET; 14,980,000 x 0.4 µ$ = 5,992,000 µ$ = 599.2 -> 599.
        assert_eq!(cost_of(&estimate, Service::S3), split(0, 1, 599));
        // Out: 20,000,000 KB + 500,000,000 KB = 520,000,000 KB; 100 GB (104,857,600 KB) free = 9,000,000 µ$
        // = 900 cents; 415,142,400 KB = 395.91064 GB x 90,000 µ$ = 35,631,958 µ$ = 3,563.20 -> 3,563 billed.
        assert_eq!(
            cost_of(&estimate, Service::DataTransfer),
            split(900, 0, 3563)
        );
        // 103 + 173 + 239 + 900 = 1,415; 100 + 1 = 101; 180 + 900 + 3 + 599 + 3,563 = 5,245.
        assert_eq!(estimate.total, split(1415, 101, 5245));
        // 20,000,000 reads / 2,628,000 s = 7 reads/s > 3 RCU: the estimate warns about throttling.
        assert!(
            estimate.notes.iter().any(|note| note.contains("throttled")),
            "{:?}",
            estimate.notes
        );
    }

    #[test]
    fn on_demand_tables_bill_every_request() {
        let mut config = one_unit_config();
        config.tables.billing = Billing::OnDemand;
        let estimate = monthly(&config, 1_000_000, &Assumptions::default());
        // 2,000,000 RRU x 0.125 µ$ = 250,000 µ$ + 1,000,000 WRU x 0.625 µ$ = 625,000 µ$ = 87.5 -> 88 (half up);
        // storage 24,414.06 µ$ = 2.44 -> 2 free.
        assert_eq!(cost_of(&estimate, Service::DynamoDb), split(2, 0, 88));
    }

    #[test]
    fn x86_with_more_memory_goes_over_the_free_compute() {
        let mut config = one_unit_config();
        config.function.architecture = Architecture::X86_64;
        config.function.memory_mb = 1024;
        let estimate = monthly(&config, 10_000_000, &Assumptions::default());
        // 10M x 50 ms x 1,024 MB = 500,000 GB-s: 400,000 x 16.6667 µ$ = 6,666,680 µ$ free,
        // 100,000 x 16.6667 µ$ = 1,666,670 µ$ billed. Requests: 200,000 µ$ free, 1,800,000 µ$ billed.
        // Free 6,866,680 µ$ = 686.67 -> 687; billed 3,466,670 µ$ = 346.67 -> 347.
        assert_eq!(cost_of(&estimate, Service::Lambda), split(687, 0, 347));
    }

    #[test]
    fn the_text_shows_assumptions_source_date_and_totals() {
        let text = monthly(&one_unit_config(), 100_000, &Assumptions::default()).render_text();
        for expected in [
            "100,000 API requests",
            "as of 2026-11-01; not re-checked against AWS's pages",
            "credits expire 12 months after they were granted",
            "50 ms average duration, 128 MB memory, arm64",
            "2 KB per API request",
            "1 per 4 API requests",
            "512 bytes per request",
            "100 MB stored",
            "AWS Lambda pricing",
            "$2.23",
            "$0.11",
            "$0.05",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
        // What you pay comes first; the always-free value last, labelled as never a charge.
        let header = text.lines().find(|l| l.starts_with("service")).unwrap();
        let words: Vec<&str> = header
            .split("  ")
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .collect();
        assert_eq!(
            words,
            [
                "service",
                "you pay",
                "credits or 12-month",
                "always free (value)"
            ]
        );
        let total = text.lines().find(|l| l.starts_with("total")).unwrap();
        assert_eq!(
            total.split_whitespace().collect::<Vec<_>>(),
            ["total", "$0.05", "$0.11", "$2.23"]
        );
        assert!(text.contains("never a charge"), "{text}");
    }

    #[test]
    fn the_json_has_every_service_and_the_split() {
        let json = serde_json::to_value(monthly(
            &one_unit_config(),
            1_000_000,
            &Assumptions::default(),
        ))
        .unwrap();
        assert_eq!(json["services"].as_array().unwrap().len(), 6);
        assert_eq!(json["services"][1]["service"], "http_api");
        assert_eq!(json["services"][1]["twelve_month_or_credit_cents"], 100);
        assert_eq!(json["total"]["billed_cents"], 59);
        assert_eq!(json["assumptions"]["avg_duration_ms"], 50);
        assert_eq!(json["prices_as_of"], "2026-11-01");
    }
}
