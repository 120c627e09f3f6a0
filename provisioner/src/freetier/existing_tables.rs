//! The account's other DynamoDB tables in the stack's region: the 25 free RCU/WCU are shared by all of them.
//! Read-only (ListTables, DescribeTable).

use aws_sdk_dynamodb::types::{BillingMode, TableDescription};
use serde::Serialize;

use crate::aws_error::AwsContext;
use crate::names::TableKind;
use crate::resources::Ctx;

/// A table in the region that is not one of this stack's three.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExistingTable {
    pub name: String,
    /// Provisioned read capacity of the table plus its global secondary indexes (0 when on demand).
    pub read_capacity: u64,
    pub write_capacity: u64,
    pub on_demand: bool,
}

impl ExistingTable {
    /// From a DescribeTable answer. A table whose billing mode summary is missing is provisioned (tables
    /// created before on-demand existed, and moto, omit it).
    pub fn from_description(name: &str, table: &TableDescription) -> Self {
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
            name: name.to_owned(),
            read_capacity,
            write_capacity,
            on_demand,
        }
    }
}

/// Lists every table in `ctx.region` (all pages) and describes each one that is not this stack's.
pub async fn existing_tables(ctx: &Ctx) -> anyhow::Result<Vec<ExistingTable>> {
    let ours: Vec<String> = TableKind::ALL
        .iter()
        .map(|kind| ctx.names.table(*kind))
        .collect();
    let dynamodb = &ctx.aws.dynamodb;
    let names: Vec<String> = dynamodb
        .list_tables()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<String>, _>>()
        .await
        .aws_context(|| format!("listing DynamoDB tables (region {})", ctx.region))?;

    let mut tables = Vec::new();
    for name in names.into_iter().filter(|name| !ours.contains(name)) {
        match dynamodb.describe_table().table_name(&name).send().await {
            Ok(output) => {
                if let Some(table) = output.table() {
                    tables.push(ExistingTable::from_description(&name, table));
                }
            }
            // Deleted between the list and the describe: it no longer uses capacity.
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) => {}
            Err(error) => {
                return Err(error).aws_context(|| {
                    format!("describing DynamoDB table ({name}) in {}", ctx.region)
                })
            }
        }
    }
    Ok(tables)
}
