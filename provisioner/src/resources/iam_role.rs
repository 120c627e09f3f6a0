//! The function's IAM role `{stack}-{region}-function-role` (trusted by Lambda only) and its one inline policy
//! `{stack}-function-access` with least privilege: the DynamoDB item actions the function uses, on the
//! three table ARNs, and writing to its own log group. No managed policies.
//!
//! IAM returns policy documents URL-encoded; they are decoded and compared as parsed JSON, so an unchanged
//! policy is never written again.

use std::collections::HashMap;

use anyhow::Context;
use aws_sdk_iam::types::Tag;
use serde_json::{json, Value};

use super::ownership::{
    deleted, foreign_error, found, missing_tags_field, FIX_CHOOSE_ANOTHER_NAME,
};
use super::{Ctx, Mode};
use crate::change::{Action, Change, FieldChange};
use crate::names::TableKind;
use crate::wait;

pub const KIND: &str = "IAM role";
/// How long a new role may stay invisible to IAM's own follow-up calls (seconds, usually).
const ROLE_VISIBLE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);
pub const POLICY_KIND: &str = "IAM role policy";

/// The DynamoDB actions the function needs. `ConditionCheckItem` is there because TransactWriteItems is
/// authorised per item action (Put/Update/Delete/ConditionCheck); TransactWriteItems itself is no action.
pub const DYNAMODB_ACTIONS: [&str; 8] = [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
];
pub const LOGS_ACTIONS: [&str; 2] = ["logs:CreateLogStream", "logs:PutLogEvents"];

/// Lets only the Lambda service assume the role.
pub fn trust_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": "lambda.amazonaws.com" },
            "Action": "sts:AssumeRole"
        }]
    })
}

/// The inline policy: table item actions on our three tables, log writes on our log group's streams.
pub fn access_policy(ctx: &Ctx) -> Value {
    let arns = ctx.arns();
    let tables: Vec<String> = TableKind::ALL
        .iter()
        .map(|k| arns.table(&ctx.names.table(*k)))
        .collect();
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ShopTables",
                "Effect": "Allow",
                "Action": DYNAMODB_ACTIONS,
                "Resource": tables
            },
            {
                "Sid": "OwnLogStreams",
                "Effect": "Allow",
                "Action": LOGS_ACTIONS,
                "Resource": format!("{}:*", arns.log_group(&ctx.names.log_group()))
            }
        ]
    })
}

/// IAM hands documents back URL-encoded (`%7B%22Version%22...`); decode, then parse.
pub fn decode_policy(document: &str) -> anyhow::Result<Value> {
    let decoded = percent_encoding::percent_decode_str(document)
        .decode_utf8()
        .context("policy is not UTF-8")?;
    serde_json::from_str(&decoded).context("policy is not JSON")
}

#[derive(Debug, Clone, PartialEq)]
pub struct LiveRole {
    pub arn: String,
    pub trust_policy: Value,
}

pub async fn read(ctx: &Ctx) -> anyhow::Result<Option<LiveRole>> {
    let name = ctx.names.role();
    let output = found(ctx.aws.iam.get_role().role_name(&name).send().await, |e| {
        e.is_no_such_entity_exception()
    })
    .with_context(|| format!("reading IAM role ({name})"))?;
    let Some(role) = output.and_then(|o| o.role) else {
        return Ok(None);
    };
    let trust_policy = match role.assume_role_policy_document() {
        Some(doc) => decode_policy(doc)
            .with_context(|| format!("reading trust policy of IAM role ({name})"))?,
        None => Value::Null,
    };
    Ok(Some(LiveRole {
        arn: role.arn().to_owned(),
        trust_policy,
    }))
}

async fn read_tags(ctx: &Ctx) -> anyhow::Result<HashMap<String, String>> {
    let name = ctx.names.role();
    let mut tags = HashMap::new();
    let mut pages = ctx
        .aws
        .iam
        .list_role_tags()
        .role_name(&name)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.with_context(|| format!("listing tags of IAM role ({name})"))?;
        tags.extend(
            page.tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned())),
        );
    }
    Ok(tags)
}

/// The inline policy's document, parsed; `None` when the role has no policy of that name.
pub async fn read_policy(ctx: &Ctx) -> anyhow::Result<Option<Value>> {
    let (role, policy) = (ctx.names.role(), ctx.names.role_policy());
    let context = || format!("reading IAM role policy ({policy}) of role ({role})");
    let output = found(
        ctx.aws
            .iam
            .get_role_policy()
            .role_name(&role)
            .policy_name(&policy)
            .send()
            .await,
        |e| e.is_no_such_entity_exception(),
    )
    .with_context(context)?;
    output
        .map(|output| decode_policy(output.policy_document()))
        .transpose()
        .with_context(context)
}

fn foreign(ctx: &Ctx) -> anyhow::Error {
    foreign_error(ctx, KIND, &ctx.names.role(), FIX_CHOOSE_ANOTHER_NAME)
}

fn iam_tags(tags: impl IntoIterator<Item = (String, String)>) -> Vec<Tag> {
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

/// Converges the role and its inline policy; returns both changes and the role's ARN (deterministic, so
/// `plan` can show it before the role exists).
pub async fn converge(ctx: &Ctx) -> anyhow::Result<(Vec<Change>, String)> {
    let name = ctx.names.role();
    let policy_name = ctx.names.role_policy();
    let desired_policy = access_policy(ctx);
    let Some(live) = read(ctx).await? else {
        if ctx.mode == Mode::Apply {
            let mut request = ctx
                .aws
                .iam
                .create_role()
                .role_name(&name)
                .assume_role_policy_document(trust_policy().to_string());
            request = request.description(format!(
                "Runs the {} shop's Lambda function",
                ctx.stack_tag_value()
            ));
            request = request.set_tags(Some(iam_tags(ctx.tags())));
            let output = request
                .send()
                .await
                .with_context(|| format!("creating IAM role ({name})"))?;
            put_policy(ctx, &desired_policy).await?;
            let arn = output
                .role
                .map(|r| r.arn)
                .unwrap_or_else(|| ctx.arns().role(&name));
            return Ok((
                vec![created(KIND, &name), created(POLICY_KIND, &policy_name)],
                arn,
            ));
        }
        return Ok((
            vec![created(KIND, &name), created(POLICY_KIND, &policy_name)],
            ctx.arns().role(&name),
        ));
    };
    let tags = read_tags(ctx).await?;
    if !ctx.is_ours(&tags) {
        return Err(foreign(ctx));
    }

    let mut role_fields = Vec::new();
    let trust_differs = live.trust_policy != trust_policy();
    if trust_differs {
        role_fields.push(FieldChange::new(
            "trust_policy",
            live.trust_policy.to_string(),
            trust_policy().to_string(),
        ));
    }
    let missing_tags = ctx.missing_tags(&tags);
    role_fields.extend(missing_tags_field(&missing_tags));
    let live_policy = read_policy(ctx).await?;
    let policy_action = match &live_policy {
        None => Action::Create,
        Some(p) if *p == desired_policy => Action::Unchanged,
        Some(p) => Action::Update {
            fields: vec![FieldChange::new(
                "document",
                p.to_string(),
                desired_policy.to_string(),
            )],
        },
    };

    if ctx.mode == Mode::Apply {
        if trust_differs {
            ctx.aws
                .iam
                .update_assume_role_policy()
                .role_name(&name)
                .policy_document(trust_policy().to_string())
                .send()
                .await
                .with_context(|| format!("updating trust policy of IAM role ({name})"))?;
        }
        if !missing_tags.is_empty() {
            ctx.aws
                .iam
                .tag_role()
                .role_name(&name)
                .set_tags(Some(iam_tags(missing_tags)))
                .send()
                .await
                .with_context(|| format!("tagging IAM role ({name})"))?;
        }
        if policy_action != Action::Unchanged {
            put_policy(ctx, &desired_policy).await?;
        }
    }
    let role_action = if role_fields.is_empty() {
        Action::Unchanged
    } else {
        Action::Update {
            fields: role_fields,
        }
    };
    Ok((
        vec![
            Change::new(KIND, name, role_action),
            Change::new(POLICY_KIND, policy_name, policy_action),
        ],
        live.arn,
    ))
}

fn created(kind: &'static str, id: &str) -> Change {
    Change::new(kind, id, Action::Create)
}

/// IAM is eventually consistent: right after CreateRole, PutRolePolicy may not find the role yet
/// (NoSuchEntity), so that one error is retried under a deadline.
async fn put_policy(ctx: &Ctx, document: &Value) -> anyhow::Result<()> {
    let (role, policy) = (ctx.names.role(), ctx.names.role_policy());
    let document = document.to_string();
    wait::retry_while(
        &format!("IAM role ({role}) to be visible to PutRolePolicy"),
        ROLE_VISIBLE_DEADLINE,
        || {
            ctx.aws
                .iam
                .put_role_policy()
                .role_name(&role)
                .policy_name(&policy)
                .policy_document(&document)
                .send()
        },
        |err| {
            err.as_service_error()
                .is_some_and(|e| e.is_no_such_entity_exception())
        },
    )
    .await
    .with_context(|| format!("writing IAM role policy ({policy}) of role ({role})"))?;
    Ok(())
}

/// Deletes the role's inline policies (and detaches any managed ones), then the role: IAM refuses to delete
/// a role that still has policies (DeleteConflict).
pub async fn destroy(ctx: &Ctx) -> anyhow::Result<Vec<Change>> {
    let name = ctx.names.role();
    if read(ctx).await?.is_none() {
        return Ok(vec![Change::new(KIND, name, Action::AlreadyGone)]);
    }
    if !ctx.is_ours(&read_tags(ctx).await?) {
        return Err(foreign(ctx));
    }
    let mut changes = Vec::new();
    let mut policy_names = Vec::new();
    let mut pages = ctx
        .aws
        .iam
        .list_role_policies()
        .role_name(&name)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.with_context(|| format!("listing inline policies of IAM role ({name})"))?;
        policy_names.extend(page.policy_names().iter().cloned());
    }
    for policy in policy_names {
        if ctx.mode == Mode::Apply {
            deleted(
                ctx.aws
                    .iam
                    .delete_role_policy()
                    .role_name(&name)
                    .policy_name(&policy)
                    .send()
                    .await,
                |e| e.is_no_such_entity_exception(),
            )
            .with_context(|| format!("deleting IAM role policy ({policy}) of role ({name})"))?;
        }
        changes.push(Change::new(POLICY_KIND, policy, Action::Delete));
    }
    let attached = ctx
        .aws
        .iam
        .list_attached_role_policies()
        .role_name(&name)
        .send()
        .await
        .with_context(|| format!("listing managed policies attached to IAM role ({name})"))?;
    for policy in attached.attached_policies() {
        let Some(arn) = policy.policy_arn() else {
            continue;
        };
        if ctx.mode == Mode::Apply {
            ctx.aws
                .iam
                .detach_role_policy()
                .role_name(&name)
                .policy_arn(arn)
                .send()
                .await
                .with_context(|| {
                    format!("detaching managed policy ({arn}) from IAM role ({name})")
                })?;
        }
        changes.push(Change::new("IAM policy attachment", arn, Action::Delete));
    }
    if ctx.mode == Mode::Apply {
        let gone = !deleted(
            ctx.aws.iam.delete_role().role_name(&name).send().await,
            |e| e.is_no_such_entity_exception(),
        )
        .with_context(|| format!("deleting IAM role ({name})"))?;
        if gone {
            changes.push(Change::new(KIND, name, Action::AlreadyGone));
            return Ok(changes);
        }
    }
    changes.push(Change::new(KIND, name, Action::Delete));
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoded_documents_decode_to_the_same_json() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C\
                       %22Principal%22%3A%7B%22Service%22%3A%22lambda.amazonaws.com%22%7D%2C%22Action%22%3A\
                       %22sts%3AAssumeRole%22%7D%5D%7D";
        assert_eq!(decode_policy(encoded).unwrap(), trust_policy());
        // Plain JSON (what moto returns) decodes too, and whitespace does not matter.
        assert_eq!(
            decode_policy(&serde_json::to_string_pretty(&trust_policy()).unwrap()).unwrap(),
            trust_policy()
        );
    }
}
