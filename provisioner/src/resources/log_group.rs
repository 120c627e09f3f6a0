//! The function's CloudWatch log group `/aws/lambda/{stack}-api`, created before the function so that its
//! retention (and tag) is ours: if Lambda created it on first run, logs would be kept forever.

use std::collections::BTreeMap;

use super::ownership::deleted;
use super::{differing_fields, Changes, Ctx, Resource, Tags};
use crate::aws_error::AwsContext;
use crate::change::FieldChange;

pub const KIND: &str = "CloudWatch log group";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveLogGroup {
    /// `None` = never expire.
    pub retention_days: Option<i32>,
    /// The ARN without the trailing `:*` (the form the tagging API takes).
    pub arn: String,
    pub tags: Tags,
}

/// Finds the log group by its exact name (DescribeLogGroups only filters by prefix).
pub async fn read(ctx: &Ctx) -> anyhow::Result<Option<LiveLogGroup>> {
    let name = ctx.names.log_group();
    let mut pages = ctx
        .aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(&name)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.aws_context(|| format!("describing CloudWatch log group ({name})"))?;
        if let Some(group) = page
            .log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(name.as_str()))
        {
            let arn = match group.log_group_arn() {
                Some(arn) => arn.to_owned(),
                None => ctx.arns().log_group(&name),
            };
            let tags = read_tags(ctx, &arn).await?;
            return Ok(Some(LiveLogGroup {
                retention_days: group.retention_in_days(),
                arn,
                tags,
            }));
        }
    }
    Ok(None)
}

async fn read_tags(ctx: &Ctx, arn: &str) -> anyhow::Result<Tags> {
    let name = ctx.names.log_group();
    let output = ctx
        .aws
        .logs
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .aws_context(|| format!("listing tags of CloudWatch log group ({name})"))?;
    Ok(output.tags.unwrap_or_default())
}

/// The log group with the retention from the config (`None` = never expire).
pub struct LogGroup {
    pub name: String,
    pub retention_days: Option<i32>,
}

impl LogGroup {
    pub fn new(ctx: &Ctx) -> Self {
        Self {
            name: ctx.names.log_group(),
            retention_days: ctx.config.function.log_retention_days.map(|d| d as i32),
        }
    }

    async fn set_retention(&self, ctx: &Ctx) -> anyhow::Result<()> {
        let name = &self.name;
        match self.retention_days {
            Some(days) => {
                ctx.aws
                    .logs
                    .put_retention_policy()
                    .log_group_name(name)
                    .retention_in_days(days)
                    .send()
                    .await
                    .aws_context(|| {
                        format!("setting retention of CloudWatch log group ({name})")
                    })?;
            }
            None => {
                ctx.aws
                    .logs
                    .delete_retention_policy()
                    .log_group_name(name)
                    .send()
                    .await
                    .aws_context(|| {
                        format!("removing retention of CloudWatch log group ({name})")
                    })?;
            }
        }
        Ok(())
    }
}

fn show_retention(days: Option<i32>) -> String {
    days.map_or_else(|| "never expire".to_owned(), |d| format!("{d} days"))
}

impl Resource for LogGroup {
    type Live = LiveLogGroup;
    identity!(KIND, name, Tags);

    async fn read(&self, ctx: &Ctx) -> anyhow::Result<Option<LiveLogGroup>> {
        read(ctx).await
    }

    fn diff(&self, _ctx: &Ctx, live: &LiveLogGroup) -> Vec<FieldChange> {
        differing_fields([(
            "retention",
            show_retention(live.retention_days),
            show_retention(self.retention_days),
        )])
    }

    async fn create(&self, ctx: &Ctx) -> anyhow::Result<()> {
        let name = &self.name;
        ctx.aws
            .logs
            .create_log_group()
            .log_group_name(name)
            .set_tags(Some(ctx.tags().into_iter().collect()))
            .send()
            .await
            .aws_context(|| format!("creating CloudWatch log group ({name})"))?;
        Ok(())
    }

    async fn configure(&self, ctx: &Ctx) -> anyhow::Result<()> {
        self.set_retention(ctx).await
    }

    async fn update(
        &self,
        ctx: &Ctx,
        _live: &LiveLogGroup,
        _changes: &Changes,
    ) -> anyhow::Result<()> {
        self.set_retention(ctx).await
    }

    async fn add_tags(
        &self,
        ctx: &Ctx,
        live: &LiveLogGroup,
        tags: &BTreeMap<String, String>,
    ) -> anyhow::Result<()> {
        let name = &self.name;
        ctx.aws
            .logs
            .tag_resource()
            .resource_arn(&live.arn)
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await
            .aws_context(|| format!("tagging CloudWatch log group ({name})"))?;
        Ok(())
    }

    async fn delete(&self, ctx: &Ctx, _live: &LiveLogGroup) -> anyhow::Result<bool> {
        let name = &self.name;
        deleted(
            ctx.aws
                .logs
                .delete_log_group()
                .log_group_name(name)
                .send()
                .await,
            |e| e.is_resource_not_found_exception(),
        )
        .aws_context(|| format!("deleting CloudWatch log group ({name})"))
    }

    fn foreign_fix(&self, _ctx: &Ctx, _live: &Self::Live) -> String {
        let name = &self.name;
        format!(
            "A function of that name may have run before and made it. Delete it (aws logs delete-log-group \
             --log-group-name {name}) or choose another stage"
        )
    }
}
