//! AWS console deep links to the stack's resources, from the region and the names alone (pure).
//!
//! The URL forms are the ones the console itself shows in the address bar (checked against public links in
//! repositories and blog posts, e.g. openillumi.com's "CloudWatch console URL" article for the log group
//! fragment): the regional services live at `https://{region}.console.aws.amazon.com/{service}/...?region=`,
//! S3 at the global `https://s3.console.aws.amazon.com/s3/buckets/{bucket}?region=`, and Budgets (a global
//! service) in the billing console of us-east-1. China and GovCloud have consoles of their own.
//! Names need no percent-encoding: config validation keeps them to lowercase letters, digits and hyphens,
//! except the log group's `/`, which the CloudWatch console escapes in its `#logsV2:` fragment as `$252F`
//! (`/` percent-encoded twice, `%` written as `$`).

use serde::Serialize;

use crate::names::{partition, StackNames, TableKind};

/// Links to every resource of a stack, by role (`--output json` keys).
#[derive(Debug, Clone, Serialize)]
pub struct Links {
    pub function: String,
    pub products_table_items: String,
    pub carts_table_items: String,
    pub orders_table_items: String,
    /// `None` when the HTTP API does not exist (its id is AWS's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_routes: Option<String>,
    pub bucket: String,
    pub log_group: String,
    /// `None` when the alerts (the budget) are off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<String>,
}

impl Links {
    pub fn new(names: &StackNames, region: &str, bucket: &str, api_id: Option<&str>) -> Self {
        let table = |kind| table_items(region, &names.table(kind));
        Self {
            function: function(region, &names.function()),
            products_table_items: table(TableKind::Products),
            carts_table_items: table(TableKind::Carts),
            orders_table_items: table(TableKind::Orders),
            api_routes: api_id.map(|id| api_routes(region, id)),
            bucket: bucket_objects(region, bucket),
            log_group: log_group(region, &names.log_group()),
            budget: None,
        }
    }

    /// Adds the budget's link (for a stack with `alerts`).
    pub fn with_budget(self, names: &StackNames, region: &str) -> Self {
        Self {
            budget: Some(budget(region, &names.budget())),
            ..self
        }
    }
}

/// The partition's console domain.
fn domain(region: &str) -> &'static str {
    match partition(region) {
        "aws-cn" => "console.amazonaws.cn",
        "aws-us-gov" => "console.amazonaws-us-gov.com",
        _ => "console.aws.amazon.com",
    }
}

/// A page of the regional console: `https://{region}.console.aws.amazon.com/{page}`.
fn console(region: &str, page: &str) -> String {
    format!("https://{region}.{}/{page}", domain(region))
}

pub fn function(region: &str, name: &str) -> String {
    console(
        region,
        &format!("lambda/home?region={region}#/functions/{name}"),
    )
}

/// The table's "Explore items" view.
pub fn table_items(region: &str, table: &str) -> String {
    console(
        region,
        &format!("dynamodbv2/home?region={region}#item-explorer?table={table}"),
    )
}

pub fn api_routes(region: &str, api_id: &str) -> String {
    console(
        region,
        &format!("apigateway/main/develop/routes?api={api_id}&region={region}"),
    )
}

/// S3's console is global (`s3.console...`); the bucket's region is a parameter.
pub fn bucket_objects(region: &str, bucket: &str) -> String {
    let domain = domain(region);
    format!("https://s3.{domain}/s3/buckets/{bucket}?region={region}&tab=objects")
}

pub fn log_group(region: &str, name: &str) -> String {
    let name = name.replace('/', "$252F");
    console(
        region,
        &format!("cloudwatch/home?region={region}#logsV2:log-groups/log-group/{name}"),
    )
}

/// Budgets are global: their page is in the billing console, served from us-east-1 in the commercial
/// partition.
pub fn budget(region: &str, name: &str) -> String {
    let home = match partition(region) {
        "aws" => "us-east-1",
        _ => region,
    };
    console(home, &format!("billing/home#/budgets/details?name={name}"))
}
