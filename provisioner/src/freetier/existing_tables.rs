//! The account's other provisioned DynamoDB tables, in every commercial region: the Free Tier's 25 RCU and
//! 25 WCU are per account, shared by all its tables in all regions. Read-only: one `ListTables` (all pages)
//! and a `DescribeTable` per table in each region, every region at once.
//!
//! The regions are the static list `region:` accepts ([`KNOWN_REGIONS`]) rather than EC2's DescribeRegions or
//! `account:ListRegions`: either would add a crate to compile, a permission to ask for and a call in front of
//! all the others, and a region the account has not enabled answers the first `ListTables` with
//! `UnrecognizedClientException` ("The security token included in the request is invalid": opt-in regions
//! know nothing of the account's credentials), which is skipped quietly. STS has already accepted the same
//! credentials, so that answer means the region, not the keys. With temporary credentials it may also mean
//! the session token: one from STS's global endpoint in its v1 form is valid only in the regions enabled by
//! default, so an opt-in region the account HAS enabled refuses it the same way. With a session token such
//! regions are therefore named in a warning (with the fix) instead of being skipped as not enabled. A region
//! launched after this release is not counted until the list learns it.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{BillingMode, TableDescription, TableStatus};
use futures::stream::{self, StreamExt};
use serde::Serialize;

use super::estimate::provisioned_totals;
use super::prices::PriceSheet;
use crate::aws_error::AwsContext;
use crate::config::model::Config;
use crate::config::regions::KNOWN_REGIONS;
use crate::names::TableKind;
use crate::resources::ownership::found;
use crate::resources::tables::live_table;
use crate::resources::Ctx;

/// How many DescribeTable calls one region has in flight at once.
const DESCRIBES_AT_ONCE: usize = 16;

/// A provisioned or on-demand table of the account that is not one of this stack's three.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExistingTable {
    pub region: String,
    pub name: String,
    /// Provisioned read capacity of the table plus its global secondary indexes (0 when on demand).
    pub read_capacity: u64,
    pub write_capacity: u64,
    pub on_demand: bool,
}

impl ExistingTable {
    /// From a DescribeTable answer. A table whose billing mode summary is missing is provisioned (tables
    /// created before on-demand existed, and moto, omit it).
    pub fn from_description(region: &str, name: &str, table: &TableDescription) -> Self {
        let on_demand = table
            .billing_mode_summary()
            .and_then(|summary| summary.billing_mode())
            .is_some_and(|mode| *mode == BillingMode::PayPerRequest);
        // Global secondary indexes have their own provisioned capacity, billed (and free) like the table's.
        let throughputs = std::iter::once(table.provisioned_throughput())
            .chain(
                table
                    .global_secondary_indexes()
                    .iter()
                    .map(|index| index.provisioned_throughput()),
            )
            .flatten();
        let (mut read_capacity, mut write_capacity) = (0, 0);
        for throughput in throughputs.filter(|_| !on_demand) {
            let units = |value: Option<i64>| u64::try_from(value.unwrap_or(0)).unwrap_or(0);
            read_capacity += units(throughput.read_capacity_units());
            write_capacity += units(throughput.write_capacity_units());
        }
        Self {
            region: region.to_owned(),
            name: name.to_owned(),
            read_capacity,
            write_capacity,
            on_demand,
        }
    }
}

/// What the count found, and where it could not look.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AccountTables {
    /// Every table of the account but the stack's own three (in its region).
    pub tables: Vec<ExistingTable>,
    /// Regions whose tables were all read.
    pub regions_read: Vec<String>,
    /// Regions the account has not enabled (opt-in regions): nothing can exist there.
    pub regions_not_enabled: Vec<String>,
    /// One line per thing that could not be read: the count may be low.
    pub warnings: Vec<String>,
}

impl AccountTables {
    /// Provisioned (read, write) units of the other tables together.
    pub fn totals(&self) -> (u64, u64) {
        self.tables
            .iter()
            .filter(|table| !table.on_demand)
            .fold((0, 0), |(read, write), table| {
                (read + table.read_capacity, write + table.write_capacity)
            })
    }

    /// One line for `plan` and `cost`: the stack's and the other tables' provisioned capacity against the
    /// account's free allowance.
    pub fn sentence(&self, config: &Config) -> String {
        let (ours_read, ours_write) = provisioned_totals(&config.tables.billing);
        let (read, write) = self.totals();
        let free = &PriceSheet::current().dynamodb.always_free;
        let others = match self.tables.iter().filter(|table| !table.on_demand).count() {
            0 => "no other provisioned table".to_owned(),
            n => format!(
                "{} {read} RCU / {write} WCU",
                plural(n, "other provisioned table")
            ),
        };
        let skipped = match self.regions_not_enabled.len() {
            0 => String::new(),
            n => format!(", {} not enabled", plural(n, "region")),
        };
        format!(
            "provisioned DynamoDB capacity of the whole account ({} read{skipped}): this stack {ours_read} RCU / \
             {ours_write} WCU, {others}; together {} of the free {} RCU and {} of the free {} WCU, which all \
             regions share",
            plural(self.regions_read.len(), "region"),
            u64::from(ours_read) + read,
            free.read_capacity_units,
            u64::from(ours_write) + write,
            free.write_capacity_units,
        )
    }
}

/// Why a region's tables were not (all) read.
#[derive(Debug)]
enum Unread {
    /// The account has not enabled the region.
    NotEnabled,
    /// AccessDeniedException for this IAM action.
    Denied(&'static str),
    /// Anything else, as AWS said it.
    Failed(&'static str, String),
}

/// Sorts an SDK error: a region not enabled, a denial of `action`, or another failure.
fn unread<E, R>(action: &'static str, error: &SdkError<E, R>) -> Unread
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match error.code() {
        Some("UnrecognizedClientException") => Unread::NotEnabled,
        Some("AccessDeniedException") => Unread::Denied(action),
        Some(code) => Unread::Failed(
            action,
            format!("{code}: {}", error.message().unwrap_or_default()),
        ),
        None => Unread::Failed(action, DisplayErrorContext(error).to_string()),
    }
}

/// The tables of one region as DescribeTable answers them, with what could not be read.
struct RegionTables {
    region: String,
    described: Vec<(String, TableDescription)>,
    /// The names ListTables gave (all of them, also those whose description failed).
    listed: Vec<String>,
    unread: Vec<Unread>,
}

async fn read_region(client: aws_sdk_dynamodb::Client, region: &str) -> RegionTables {
    let mut result = RegionTables {
        region: region.to_owned(),
        described: Vec::new(),
        listed: Vec::new(),
        unread: Vec::new(),
    };
    let listed = client
        .list_tables()
        .into_paginator()
        .items()
        .send()
        .collect::<Vec<_>>()
        .await;
    for item in listed {
        match item {
            Ok(name) => result.listed.push(name),
            Err(error) => {
                result.unread.push(unread("dynamodb:ListTables", &error));
                return result;
            }
        }
    }
    let answers: Vec<_> = stream::iter(result.listed.clone())
        .map(|name| {
            let client = &client;
            async move {
                let answer = client.describe_table().table_name(&name).send().await;
                (name, answer)
            }
        })
        .buffer_unordered(DESCRIBES_AT_ONCE)
        .collect()
        .await;
    for (name, answer) in answers {
        match answer {
            Ok(output) => result
                .described
                .extend(output.table.map(|table| (name, table))),
            // Deleted between the list and the describe: it no longer uses capacity.
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) => {}
            Err(error) => result.unread.push(unread("dynamodb:DescribeTable", &error)),
        }
    }
    result.described.sort_by(|a, b| a.0.cmp(&b.0));
    result
}

/// A DynamoDB client like the stack's (credentials, endpoint, interceptors, HTTP client) in `region`.
fn client_in(ctx: &Ctx, region: &str) -> aws_sdk_dynamodb::Client {
    if region == ctx.region {
        return ctx.aws.dynamodb.clone();
    }
    let config = ctx
        .aws
        .dynamodb
        .config()
        .to_builder()
        .region(aws_sdk_dynamodb::config::Region::new(region.to_owned()))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// Every table of the account in every commercial region ([`KNOWN_REGIONS`]), all regions at once.
pub async fn account_tables(ctx: &Ctx) -> AccountTables {
    account_tables_in(ctx, KNOWN_REGIONS).await
}

/// [`account_tables`] over `regions`. Never fails: what could not be read becomes a warning. The
/// descriptions of the stack's own tables go to [`Ctx::guard_reads`], so the tables step need not ask again.
pub async fn account_tables_in(ctx: &Ctx, regions: &[&str]) -> AccountTables {
    let reads = regions
        .iter()
        .map(|region| read_region(client_in(ctx, region), region));
    let ours: Vec<String> = TableKind::ALL
        .iter()
        .map(|kind| ctx.names.table(*kind))
        .collect();
    let mut account = AccountTables::default();
    // Regions that could not be read, by what was refused or failed.
    let mut denied: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut failed: Vec<String> = Vec::new();
    // Regions that refused the credentials' token: not enabled, or (temporary credentials) see `token_warning`.
    let mut refused_token: Vec<String> = Vec::new();
    for region in futures::future::join_all(reads).await {
        let home = region.region == ctx.region;
        if home && region.unread.is_empty() {
            for name in ours.iter().filter(|name| !region.listed.contains(name)) {
                ctx.guard_reads.put_table(name, None);
            }
        }
        for (name, table) in region.described {
            if home && ours.contains(&name) {
                ctx.guard_reads.put_table(&name, Some(table));
            } else {
                account.tables.push(ExistingTable::from_description(
                    &region.region,
                    &name,
                    &table,
                ));
            }
        }
        match region.unread.first() {
            None => account.regions_read.push(region.region),
            Some(Unread::NotEnabled) => refused_token.push(region.region),
            Some(Unread::Denied(action)) => denied.entry(action).or_default().push(region.region),
            Some(Unread::Failed(action, why)) => {
                failed.push(format!("{} ({action}: {why})", region.region))
            }
        }
    }
    if !refused_token.is_empty() {
        if session_token(ctx).await {
            account.warnings.push(token_warning(&refused_token));
        } else {
            account.regions_not_enabled.extend(refused_token);
        }
    }
    for (action, regions) in denied {
        account.warnings.push(format!(
            "the Free Tier guard's count of provisioned DynamoDB capacity may be low: AWS denied `{action}` in {} \
             ({}), so tables there were not counted. The free 25 RCU / 25 WCU are shared by every table of the \
             account in every region; `shopsmart-deploy permissions` prints the policy that allows it",
            plural(regions.len(), "region"),
            regions.join(", ")
        ));
    }
    if !failed.is_empty() {
        account.warnings.push(format!(
            "the Free Tier guard's count of provisioned DynamoDB capacity may be low: tables could not be read \
             in {}; run the command again, or check those regions in the DynamoDB console",
            failed.join(", ")
        ));
    }
    account
}

/// Whether the credentials the clients sign with carry a session token (temporary credentials: SSO, an
/// assumed role, `aws sts get-session-token`); `false` when they cannot be had.
async fn session_token(ctx: &Ctx) -> bool {
    use aws_sdk_dynamodb::config::ProvideCredentials;
    let Some(provider) = &ctx.aws.credentials else {
        return false;
    };
    let credentials = provider.provide_credentials().await;
    credentials.is_ok_and(|c| c.session_token().is_some())
}

/// What an `UnrecognizedClientException` from `regions` means with temporary credentials, and the fix.
fn token_warning(regions: &[String]) -> String {
    format!(
        "the Free Tier guard's count of provisioned DynamoDB capacity may be low: {} ({}) refused your \
         session token (UnrecognizedClientException), so tables there were not counted. Either the account has \
         not enabled {} (then nothing can exist there and all is well), or it has, and the token came from STS's \
         global endpoint in its v1 form, which only the regions enabled by default accept. Fix: get temporary \
         credentials from a regional STS endpoint (`sts_regional_endpoints = regional` in ~/.aws/config, or \
         AWS_STS_REGIONAL_ENDPOINTS=regional, for the tool that issues them), or have an administrator make the global endpoint issue v2 tokens, valid in \
         every region: `aws iam set-security-token-service-preferences --global-endpoint-token-version \
         v2Token`",
        plural(regions.len(), "opt-in region"),
        regions.join(", "),
        if regions.len() == 1 { "it" } else { "them" }
    )
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// Whether `up` would add provisioned capacity to the account: a provisioned table of the stack that does not
/// exist yet (or is being deleted), one that is on demand today, or more units than one has. Reads the
/// stack's three tables (DescribeTable, at once) and leaves the answers in [`Ctx::guard_reads`] for the tables
/// step, so a run that adds nothing costs no call more than before.
pub async fn stack_adds_capacity(ctx: &Ctx) -> anyhow::Result<bool> {
    let reads = TableKind::ALL.map(|kind| async move {
        let name = ctx.names.table(kind);
        let answer = found(
            ctx.aws
                .dynamodb
                .describe_table()
                .table_name(&name)
                .send()
                .await,
            |e| e.is_resource_not_found_exception(),
        )
        .aws_context(|| format!("describing DynamoDB table ({name})"))?;
        let table = answer.and_then(|output| output.table);
        let live = table.as_ref().map(live_table);
        ctx.guard_reads.put_table(&name, table);
        let Some(wanted) = ctx.config.tables.billing.capacity(kind) else {
            return Ok::<_, anyhow::Error>(false);
        };
        Ok(match live {
            Some(live) if live.status != TableStatus::Deleting => live
                .capacity
                .is_none_or(|had| wanted.read > had.read || wanted.write > had.write),
            _ => true,
        })
    });
    Ok(futures::future::try_join_all(reads)
        .await?
        .into_iter()
        .any(|adds| adds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::freetier::test_config::{assert_contains, one_unit_config};

    fn table(region: &str, read: u64, write: u64, on_demand: bool) -> ExistingTable {
        ExistingTable {
            region: region.into(),
            name: format!("t-{region}"),
            read_capacity: read,
            write_capacity: write,
            on_demand,
        }
    }

    #[test]
    fn the_sentence_adds_the_stack_to_the_other_tables_of_every_region() {
        let account = AccountTables {
            tables: vec![
                table("eu-west-1", 10, 1, false),
                table("ap-south-1", 14, 1, false),
                table("us-east-1", 0, 0, true),
            ],
            regions_read: vec!["eu-west-1".into(), "ap-south-1".into(), "us-east-1".into()],
            regions_not_enabled: vec!["af-south-1".into()],
            warnings: vec![],
        };
        assert_eq!(account.totals(), (24, 2));
        let line = account.sentence(&one_unit_config());
        assert_contains(&line, "(3 regions read, 1 region not enabled)");
        assert_contains(
            &line,
            "this stack 3 RCU / 3 WCU, 2 other provisioned tables 24 RCU / 2 WCU",
        );
        assert_contains(
            &line,
            "together 27 of the free 25 RCU and 5 of the free 25 WCU",
        );
    }
}
