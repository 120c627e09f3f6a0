//! The function's CloudWatch log group `/aws/lambda/{stack}-api`, created before the function so that its
//! retention (and tag) is ours: if Lambda created it on first run, logs would be kept forever.

use std::collections::HashMap;

use anyhow::Context;

use super::ownership::{deleted, foreign_error, missing_tags_field};
use super::{Ctx, Mode};
use crate::change::{Action, Change, FieldChange};

pub const KIND: &str = "CloudWatch log group";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveLogGroup {
    /// `None` = never expire.
    pub retention_days: Option<i32>,
    /// The ARN without the trailing `:*` (the form the tagging API takes).
    pub arn: String,
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
        let page = page.with_context(|| format!("describing CloudWatch log group ({name})"))?;
        if let Some(group) = page
            .log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(name.as_str()))
        {
            let arn = match group.log_group_arn() {
                Some(arn) => arn.to_owned(),
                None => ctx.arns().log_group(&name),
            };
            return Ok(Some(LiveLogGroup {
                retention_days: group.retention_in_days(),
                arn,
            }));
        }
    }
    Ok(None)
}

async fn read_tags(ctx: &Ctx, arn: &str) -> anyhow::Result<HashMap<String, String>> {
    let name = ctx.names.log_group();
    let output = ctx
        .aws
        .logs
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .with_context(|| format!("listing tags of CloudWatch log group ({name})"))?;
    Ok(output.tags.unwrap_or_default())
}

fn foreign(ctx: &Ctx) -> anyhow::Error {
    let name = ctx.names.log_group();
    foreign_error(
        ctx,
        KIND,
        &name,
        &format!(
            "A function of that name may have run before and made it. Delete it (aws logs delete-log-group \
             --log-group-name {name}) or choose another stage"
        ),
    )
}

pub async fn converge(ctx: &Ctx) -> anyhow::Result<Change> {
    let name = ctx.names.log_group();
    let desired = ctx.config.function.log_retention_days.map(|d| d as i32);
    let Some(live) = read(ctx).await? else {
        if ctx.mode == Mode::Apply {
            let mut request = ctx.aws.logs.create_log_group().log_group_name(&name);
            for (k, v) in ctx.tags() {
                request = request.tags(k, v);
            }
            request
                .send()
                .await
                .with_context(|| format!("creating CloudWatch log group ({name})"))?;
            set_retention(ctx, desired).await?;
        }
        return Ok(Change::new(KIND, name, Action::Create));
    };
    let tags = read_tags(ctx, &live.arn).await?;
    if !ctx.is_ours(&tags) {
        return Err(foreign(ctx));
    }
    let mut fields = Vec::new();
    if live.retention_days != desired {
        let show =
            |d: Option<i32>| d.map_or_else(|| "never expire".to_owned(), |d| format!("{d} days"));
        fields.push(FieldChange::new(
            "retention",
            show(live.retention_days),
            show(desired),
        ));
    }
    let missing = ctx.missing_tags(&tags);
    fields.extend(missing_tags_field(&missing));
    if fields.is_empty() {
        return Ok(Change::new(KIND, name, Action::Unchanged));
    }
    if ctx.mode == Mode::Apply {
        if live.retention_days != desired {
            set_retention(ctx, desired).await?;
        }
        if !missing.is_empty() {
            ctx.aws
                .logs
                .tag_resource()
                .resource_arn(&live.arn)
                .set_tags(Some(missing.into_iter().collect()))
                .send()
                .await
                .with_context(|| format!("tagging CloudWatch log group ({name})"))?;
        }
    }
    Ok(Change::new(KIND, name, Action::Update { fields }))
}

async fn set_retention(ctx: &Ctx, days: Option<i32>) -> anyhow::Result<()> {
    let name = ctx.names.log_group();
    match days {
        Some(days) => {
            ctx.aws
                .logs
                .put_retention_policy()
                .log_group_name(&name)
                .retention_in_days(days)
                .send()
                .await
                .with_context(|| format!("setting retention of CloudWatch log group ({name})"))?;
        }
        None => {
            ctx.aws
                .logs
                .delete_retention_policy()
                .log_group_name(&name)
                .send()
                .await
                .with_context(|| format!("removing retention of CloudWatch log group ({name})"))?;
        }
    }
    Ok(())
}

pub async fn destroy(ctx: &Ctx) -> anyhow::Result<Change> {
    let name = ctx.names.log_group();
    let Some(live) = read(ctx).await? else {
        return Ok(Change::new(KIND, name, Action::AlreadyGone));
    };
    if !ctx.is_ours(&read_tags(ctx, &live.arn).await?) {
        return Err(foreign(ctx));
    }
    if ctx.mode == Mode::Apply {
        let gone = !deleted(
            ctx.aws
                .logs
                .delete_log_group()
                .log_group_name(&name)
                .send()
                .await,
            |e| e.is_resource_not_found_exception(),
        )
        .with_context(|| format!("deleting CloudWatch log group ({name})"))?;
        if gone {
            return Ok(Change::new(KIND, name, Action::AlreadyGone));
        }
    }
    Ok(Change::new(KIND, name, Action::Delete))
}
