//! The three DynamoDB tables (keys from docs/architecture.md), their billing (provisioned capacity or on
//! demand), tags, and TTL on `Carts.expiresAt`.
//!
//! Real DynamoDB keeps a new table `CREATING` (writes fail with ResourceNotFoundException, UpdateTable and
//! UpdateTimeToLive with ResourceInUseException) and a deleted one `DELETING` (its name cannot be reused):
//! converge waits, with a bounded backoff, for ACTIVE before any update and for a DELETING table to vanish
//! before creating it again.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::bail;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::list_tags_of_resource::ListTagsOfResourceError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ProvisionedThroughput,
    ScalarAttributeType, TableStatus, Tag, TimeToLiveSpecification, TimeToLiveStatus,
};

use super::ownership::{deleted, found};
use super::{Changes, Ctx, Mode, Resource, Tags};
use crate::aws_error::AwsContext;
use crate::change::FieldChange;
use crate::config::model::Capacity;
use crate::names::TableKind;
use crate::wait;

pub const KIND: &str = "DynamoDB table";
/// The Carts attribute DynamoDB's TTL deletes expired items by.
pub const CARTS_TTL_ATTRIBUTE: &str = "expiresAt";
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(300);
/// A table made this recently may not show the tags it was created with yet (ListTagsOfResource is
/// eventually consistent: "wait for a few seconds, and then try again", DynamoDB's TagResource page).
const RECENTLY_CREATED_SECS: i64 = 600;
/// How long such a table's tags are asked for again before it counts as untagged.
const TAGS_VISIBLE_AFTER: Duration = Duration::from_secs(20);

/// Partition key and optional sort key of each table (all strings).
pub fn key_schema(kind: TableKind) -> (&'static str, Option<&'static str>) {
    match kind {
        TableKind::Products => ("productId", None),
        TableKind::Carts => ("cartId", Some("productId")),
        TableKind::Orders => ("orderId", None),
    }
}

/// What matters about a table that exists.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveTable {
    pub status: TableStatus,
    /// `None` = on demand (PAY_PER_REQUEST).
    pub capacity: Option<Capacity>,
    pub arn: String,
    /// CreationDateTime, seconds since the epoch.
    pub created_secs: Option<i64>,
}

/// DescribeTable; `None` when there is no table of that name.
pub async fn describe(ctx: &Ctx, name: &str) -> anyhow::Result<Option<LiveTable>> {
    let output = found(
        ctx.aws
            .dynamodb
            .describe_table()
            .table_name(name)
            .send()
            .await,
        |e| e.is_resource_not_found_exception(),
    )
    .aws_context(|| format!("describing DynamoDB table ({name})"))?;
    Ok(output.and_then(|o| o.table).map(|table| live_table(&table)))
}

/// The first read of `name`: what the Free Tier guard already described (its count of the account's
/// tables), else DescribeTable.
async fn describe_once(ctx: &Ctx, name: &str) -> anyhow::Result<Option<LiveTable>> {
    match ctx.guard_reads.take_table(name) {
        Some(read) => Ok(read.as_ref().map(live_table)),
        None => describe(ctx, name).await,
    }
}

/// What matters of a DescribeTable answer.
pub fn live_table(table: &aws_sdk_dynamodb::types::TableDescription) -> LiveTable {
    let on_demand = table.billing_mode_summary().and_then(|s| s.billing_mode())
        == Some(&BillingMode::PayPerRequest);
    let capacity = match (on_demand, table.provisioned_throughput()) {
        (false, Some(t)) => Some(Capacity {
            read: t.read_capacity_units().unwrap_or(0) as u32,
            write: t.write_capacity_units().unwrap_or(0) as u32,
        }),
        _ => None,
    };
    LiveTable {
        status: table.table_status().cloned().unwrap_or(TableStatus::Active),
        capacity,
        arn: table.table_arn().unwrap_or_default().to_owned(),
        created_secs: table.creation_date_time().map(|t| t.secs()),
    }
}

/// The table's tags once DynamoDB shows them: a table made minutes ago that answers no tags at all (or
/// ResourceNotFoundException) is asked again, bounded, before it counts as someone else's untagged table.
async fn read_settled_tags(ctx: &Ctx, name: &str, table: &LiveTable) -> anyhow::Result<Tags> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if table
        .created_secs
        .is_none_or(|created| now - created > RECENTLY_CREATED_SECS)
    {
        return read_tags(ctx, name, &table.arn).await;
    }
    let give_up = tokio::time::Instant::now() + TAGS_VISIBLE_AFTER;
    let what = format!("tags of DynamoDB table ({name}) to be visible");
    wait::until(&what, TAGS_VISIBLE_AFTER * 2, || async {
        let settled = tokio::time::Instant::now() >= give_up;
        match read_tags(ctx, name, &table.arn).await {
            Ok(tags) if !tags.is_empty() || settled => Ok(Some(tags)),
            Ok(_) => Ok(None),
            Err(err)
                if !settled
                    && super::ownership::service_error::<ListTagsOfResourceError>(&err)
                        .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(err) => Err(err),
        }
    })
    .await
}

async fn read_tags(ctx: &Ctx, name: &str, arn: &str) -> anyhow::Result<Tags> {
    let mut tags = Tags::new();
    let mut next_token = None;
    loop {
        let output = ctx
            .aws
            .dynamodb
            .list_tags_of_resource()
            .resource_arn(arn)
            .set_next_token(next_token)
            .send()
            .await
            .aws_context(|| format!("listing tags of DynamoDB table ({name})"))?;
        tags.extend(
            output
                .tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned())),
        );
        next_token = output.next_token;
        if next_token.is_none() {
            return Ok(tags);
        }
    }
}

fn dynamodb_tags(tags: impl IntoIterator<Item = (String, String)>) -> Vec<Tag> {
    tags.into_iter()
        .map(|(key, value)| {
            Tag::builder()
                .key(key)
                .value(value)
                .build()
                .expect("key and value are set")
        })
        .collect()
}

/// One of the three tables. `settings` is what `up` wants; `None` for `destroy`, which reads only what the
/// ownership check needs.
pub struct Table {
    pub kind: TableKind,
    pub name: String,
    pub settings: Option<Option<Capacity>>,
}

impl Table {
    /// The table as the config describes it.
    pub fn desired(ctx: &Ctx, kind: TableKind) -> Self {
        Self {
            kind,
            name: ctx.names.table(kind),
            settings: Some(ctx.config.tables.billing.capacity(kind)),
        }
    }

    /// The table to delete.
    pub fn to_delete(ctx: &Ctx, kind: TableKind) -> Self {
        Self {
            settings: None,
            ..Self::desired(ctx, kind)
        }
    }

    fn capacity(&self) -> Option<Capacity> {
        self.settings.flatten()
    }
}

/// A table as `read` finds it: the description, its tags, and (Carts, for `up`) its TTL.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedTable {
    pub table: LiveTable,
    pub tags: Tags,
    ttl: Ttl,
}

impl Resource for Table {
    type Live = ObservedTable;
    identity!(KIND, name, Tags);

    /// A table still DELETING is as good as gone: `up` waits for it to vanish before creating it again,
    /// `destroy` waits for it to finish.
    async fn read(&self, ctx: &Ctx) -> anyhow::Result<Option<ObservedTable>> {
        let name = &self.name;
        let Some(table) = describe_once(ctx, name).await? else {
            return Ok(None);
        };
        if table.status == TableStatus::Deleting {
            if ctx.mode == Mode::Apply {
                wait_until_gone(ctx, name).await?;
            }
            return Ok(None);
        }
        // ListTagsOfResource may not see a table that is not ACTIVE yet.
        let table = match table.status {
            TableStatus::Active => table,
            _ => wait_until_active(ctx, name).await?,
        };
        let ttl = async {
            if self.kind == TableKind::Carts && self.settings.is_some() {
                read_ttl(ctx, name).await
            } else {
                Ok(Ttl::Ours)
            }
        };
        let (tags, ttl) = tokio::try_join!(read_settled_tags(ctx, name, &table), ttl)?;
        Ok(Some(ObservedTable { table, tags, ttl }))
    }

    fn diff(&self, _ctx: &Ctx, live: &ObservedTable) -> Vec<FieldChange> {
        let mut fields = billing_diff(live.table.capacity, self.capacity());
        if let Ttl::Other(old) = &live.ttl {
            fields.push(FieldChange::new("ttl", old, CARTS_TTL_ATTRIBUTE));
        }
        fields
    }

    async fn create(&self, ctx: &Ctx) -> anyhow::Result<()> {
        create(ctx, self.kind, &self.name, self.capacity()).await
    }

    async fn configure(&self, ctx: &Ctx) -> anyhow::Result<()> {
        wait_until_active(ctx, &self.name).await?;
        if self.kind == TableKind::Carts {
            enable_ttl(ctx, &self.name).await?;
        }
        Ok(())
    }

    async fn update(
        &self,
        ctx: &Ctx,
        live: &ObservedTable,
        changes: &Changes,
    ) -> anyhow::Result<()> {
        wait_until_active(ctx, &self.name).await?;
        if live.table.capacity != self.capacity() {
            update_billing(ctx, &self.name, self.capacity()).await?;
            wait_until_active(ctx, &self.name).await?;
        }
        if changes.has("ttl") {
            enable_ttl(ctx, &self.name).await?;
        }
        Ok(())
    }

    async fn add_tags(
        &self,
        ctx: &Ctx,
        live: &ObservedTable,
        tags: &BTreeMap<String, String>,
    ) -> anyhow::Result<()> {
        let name = &self.name;
        wait_until_active(ctx, name).await?;
        ctx.aws
            .dynamodb
            .tag_resource()
            .resource_arn(&live.table.arn)
            .set_tags(Some(dynamodb_tags(tags.clone())))
            .send()
            .await
            .aws_context(|| format!("tagging DynamoDB table ({name})"))?;
        Ok(())
    }

    /// A table is deleted only when ACTIVE (not CREATING or UPDATING): one read so (moments ago) is deleted at
    /// once, and waited for only if DeleteTable answers ResourceInUseException (it began an update since); any
    /// other is waited for first. Then the wait until it is gone.
    async fn delete(&self, ctx: &Ctx, live: &ObservedTable) -> anyhow::Result<bool> {
        let name = &self.name;
        if live.table.status != TableStatus::Active {
            wait_until_active(ctx, name).await?;
        }
        let send = || ctx.aws.dynamodb.delete_table().table_name(name).send();
        let mut answer = send().await;
        let in_use = |e: &aws_sdk_dynamodb::operation::delete_table::DeleteTableError| {
            e.is_resource_in_use_exception()
        };
        if answer
            .as_ref()
            .is_err_and(|e| e.as_service_error().is_some_and(in_use))
        {
            wait_until_active(ctx, name).await?;
            answer = send().await;
        }
        let deleted = deleted(answer, |e| e.is_resource_not_found_exception())
            .aws_context(|| format!("deleting DynamoDB table ({name})"))?;
        if deleted {
            wait_until_gone(ctx, name).await?;
        }
        Ok(deleted)
    }

    fn foreign_fix(&self, _ctx: &Ctx, _live: &Self::Live) -> String {
        "Choose another project or stage in shopsmart.yaml, or delete or tag that table yourself if it is \
         really yours"
            .to_owned()
    }
}

/// The fields that differ between the live billing and the desired one.
fn billing_diff(live: Option<Capacity>, desired: Option<Capacity>) -> Vec<FieldChange> {
    let mode = |c: Option<Capacity>| {
        if c.is_some() {
            "provisioned"
        } else {
            "on_demand"
        }
    };
    match (live, desired) {
        (Some(l), Some(d)) => {
            let mut fields = Vec::new();
            if l.read != d.read {
                fields.push(FieldChange::new("read_capacity", l.read, d.read));
            }
            if l.write != d.write {
                fields.push(FieldChange::new("write_capacity", l.write, d.write));
            }
            fields
        }
        (None, None) => Vec::new(),
        (l, d) => vec![FieldChange::new("billing", mode(l), mode(d))],
    }
}

fn throughput(capacity: Capacity) -> ProvisionedThroughput {
    ProvisionedThroughput::builder()
        .read_capacity_units(capacity.read.into())
        .write_capacity_units(capacity.write.into())
        .build()
        .expect("both capacities are set")
}

async fn create(
    ctx: &Ctx,
    kind: TableKind,
    name: &str,
    desired: Option<Capacity>,
) -> anyhow::Result<()> {
    let (partition, sort) = key_schema(kind);
    let attribute = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("set")
    };
    let key = |n: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .expect("set")
    };
    let mut request = ctx
        .aws
        .dynamodb
        .create_table()
        .table_name(name)
        .attribute_definitions(attribute(partition))
        .key_schema(key(partition, KeyType::Hash));
    if let Some(sort) = sort {
        request = request
            .attribute_definitions(attribute(sort))
            .key_schema(key(sort, KeyType::Range));
    }
    request = match desired {
        Some(capacity) => request
            .billing_mode(BillingMode::Provisioned)
            .provisioned_throughput(throughput(capacity)),
        None => request.billing_mode(BillingMode::PayPerRequest),
    };
    request
        .set_tags(Some(dynamodb_tags(ctx.tags())))
        .send()
        .await
        .aws_context(|| format!("creating DynamoDB table ({name})"))?;
    Ok(())
}

async fn update_billing(ctx: &Ctx, name: &str, desired: Option<Capacity>) -> anyhow::Result<()> {
    let request = ctx.aws.dynamodb.update_table().table_name(name);
    let request = match desired {
        Some(capacity) => request
            .billing_mode(BillingMode::Provisioned)
            .provisioned_throughput(throughput(capacity)),
        None => request.billing_mode(BillingMode::PayPerRequest),
    };
    match request.send().await {
        Ok(_) => Ok(()),
        // DynamoDB allows one billing-mode switch per table per 24 h and a few capacity decreases per day.
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_limit_exceeded_exception()) =>
        {
            Err(err).aws_context(|| {
                format!(
                    "updating billing of DynamoDB table ({name}): DynamoDB refused the change for now. A table may \
                     switch between provisioned and on-demand billing only once every 24 hours, and lower its \
                     provisioned capacity only a few times a day. Keep the table's current billing in \
                     shopsmart.yaml for now, or run `up` again later (AWS's message below says when)"
                )
            })
        }
        Err(err) => {
            Err(err).aws_context(|| format!("updating billing of DynamoDB table ({name})"))
        }
    }
}

/// The Carts table's TTL as DescribeTimeToLive reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ttl {
    /// Enabled (or enabling) on `expiresAt`.
    Ours,
    /// Anything else, rendered for the plan: `disabled`, `disabling`, `enabled on otherAttribute`.
    Other(String),
}

async fn read_ttl(ctx: &Ctx, name: &str) -> anyhow::Result<Ttl> {
    let output = ctx
        .aws
        .dynamodb
        .describe_time_to_live()
        .table_name(name)
        .send()
        .await
        .aws_context(|| format!("describing TTL of DynamoDB table ({name})"))?;
    let description = output.time_to_live_description();
    let status = description.and_then(|ttl| ttl.time_to_live_status());
    let attribute = description.and_then(|ttl| ttl.attribute_name());
    Ok(match status {
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
            if attribute == Some(CARTS_TTL_ATTRIBUTE) =>
        {
            Ttl::Ours
        }
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling) => Ttl::Other(format!(
            "enabled on {}",
            attribute.unwrap_or("(unknown attribute)")
        )),
        Some(TimeToLiveStatus::Disabling) => Ttl::Other("disabling".to_owned()),
        _ => Ttl::Other("disabled".to_owned()),
    })
}

async fn enable_ttl(ctx: &Ctx, name: &str) -> anyhow::Result<()> {
    let spec = TimeToLiveSpecification::builder()
        .enabled(true)
        .attribute_name(CARTS_TTL_ATTRIBUTE)
        .build()
        .expect("both fields are set");
    let context = || format!("enabling TTL on {CARTS_TTL_ATTRIBUTE} of DynamoDB table ({name})");
    match ctx
        .aws
        .dynamodb
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(spec)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        // Not a modelled error: DynamoDB refuses a TTL change within an hour of the last one, and a second TTL
        // attribute while another is enabled, both as ValidationException.
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.code() == Some("ValidationException")) =>
        {
            Err(err).aws_context(|| {
                format!(
                    "{}: DynamoDB refused the TTL change. A table has at most one TTL attribute, and its TTL can \
                     change only once an hour: if TTL is on another attribute, disable it (aws dynamodb \
                     update-time-to-live --table-name {name} --time-to-live-specification \
                     Enabled=false,AttributeName=<that attribute>) and run `up` again an hour later; if it was \
                     changed in the last hour, run `up` again in an hour",
                    context()
                )
            })
        }
        Err(err) => Err(err).aws_context(context),
    }
}

/// Waits (bounded) until the table is ACTIVE: DynamoDB refuses updates and data writes before that.
pub async fn wait_until_active(ctx: &Ctx, name: &str) -> anyhow::Result<LiveTable> {
    wait::until(
        &format!("DynamoDB table ({name}) to become ACTIVE"),
        ACTIVE_TIMEOUT,
        || async {
            match describe(ctx, name).await? {
                Some(t) if t.status == TableStatus::Active => Ok(Some(t)),
                Some(_) => Ok(None),
                None => bail!(
                    "DynamoDB table ({name}) disappeared while waiting for it to become ACTIVE"
                ),
            }
        },
    )
    .await
}

async fn wait_until_gone(ctx: &Ctx, name: &str) -> anyhow::Result<()> {
    wait::until(
        &format!("DynamoDB table ({name}) to finish deleting"),
        ACTIVE_TIMEOUT,
        || async { Ok(describe(ctx, name).await?.is_none().then_some(())) },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn billing_diff_names_exactly_what_changes() {
        let c = |read, write| Some(Capacity { read, write });
        assert!(billing_diff(c(1, 1), c(1, 1)).is_empty());
        assert!(billing_diff(None, None).is_empty());
        assert_eq!(
            billing_diff(c(1, 1), c(2, 1)),
            vec![FieldChange::new("read_capacity", 1, 2)]
        );
        assert_eq!(
            billing_diff(c(1, 1), None),
            vec![FieldChange::new("billing", "provisioned", "on_demand")]
        );
    }
}
