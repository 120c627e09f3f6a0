//! The function's IAM role `{stack}-{region}-function-role` (trusted by Lambda only) and its one inline policy
//! `{stack}-function-access` with least privilege: the DynamoDB item actions the function uses, on the
//! three table ARNs, and writing to its own log group. No managed policies.
//!
//! IAM returns policy documents URL-encoded; they are decoded and compared as parsed JSON, so an unchanged
//! policy is never written again.

use std::collections::BTreeMap;

use anyhow::Context;
use aws_sdk_iam::operation::put_role_policy::PutRolePolicyError;
use aws_sdk_iam::types::Tag;
use futures::future::try_join_all;
use serde_json::{json, Value};

use super::ownership::{deleted, found, service_error};
use super::{Changes, Ctx, Resource, Tags};
use crate::aws_error::AwsContext;
use crate::change::FieldChange;
use crate::names::TableKind;

pub const KIND: &str = "IAM role";
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
    .aws_context(|| format!("reading IAM role ({name})"))?;
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

/// The role's tags; none when there is no role (read beside GetRole, not after it).
async fn read_tags(ctx: &Ctx) -> anyhow::Result<Tags> {
    let name = ctx.names.role();
    let mut tags = Tags::new();
    let mut pages = ctx
        .aws
        .iam
        .list_role_tags()
        .role_name(&name)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = match page {
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_no_such_entity_exception()) =>
            {
                return Ok(Tags::new())
            }
            page => page.aws_context(|| format!("listing tags of IAM role ({name})"))?,
        };
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
    .aws_context(context)?;
    output
        .map(|output| decode_policy(output.policy_document()))
        .transpose()
        .with_context(context)
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

/// The role, trusted by Lambda only. Its ARN follows from its name (`Arns::role`), so `plan` can show it
/// before it exists.
pub struct Role {
    pub name: String,
}

impl Role {
    pub fn new(ctx: &Ctx) -> Self {
        Self {
            name: ctx.names.role(),
        }
    }
}

/// The role as `read` finds it, with its tags.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedRole {
    pub role: LiveRole,
    pub tags: Tags,
}

impl Resource for Role {
    type Live = ObservedRole;
    identity!(KIND, name, Tags);

    async fn read(&self, ctx: &Ctx) -> anyhow::Result<Option<ObservedRole>> {
        let (role, tags) = tokio::try_join!(read(ctx), read_tags(ctx))?;
        Ok(role.map(|role| ObservedRole { role, tags }))
    }

    fn diff(&self, _ctx: &Ctx, live: &ObservedRole) -> Vec<FieldChange> {
        let desired = trust_policy();
        if live.role.trust_policy == desired {
            return Vec::new();
        }
        vec![FieldChange::new(
            "trust_policy",
            live.role.trust_policy.to_string(),
            desired.to_string(),
        )]
    }

    async fn create(&self, ctx: &Ctx) -> anyhow::Result<()> {
        let name = &self.name;
        ctx.aws
            .iam
            .create_role()
            .role_name(name)
            .assume_role_policy_document(trust_policy().to_string())
            .description(format!(
                "Runs the {} shop's Lambda function",
                ctx.stack_tag_value()
            ))
            .set_tags(Some(iam_tags(ctx.tags())))
            .send()
            .await
            .aws_context(|| format!("creating IAM role ({name})"))?;
        Ok(())
    }

    async fn update(
        &self,
        ctx: &Ctx,
        _live: &ObservedRole,
        _changes: &Changes,
    ) -> anyhow::Result<()> {
        let name = &self.name;
        ctx.aws
            .iam
            .update_assume_role_policy()
            .role_name(name)
            .policy_document(trust_policy().to_string())
            .send()
            .await
            .aws_context(|| format!("updating trust policy of IAM role ({name})"))?;
        Ok(())
    }

    async fn add_tags(
        &self,
        ctx: &Ctx,
        _live: &ObservedRole,
        tags: &BTreeMap<String, String>,
    ) -> anyhow::Result<()> {
        let name = &self.name;
        ctx.aws
            .iam
            .tag_role()
            .role_name(name)
            .set_tags(Some(iam_tags(tags.clone())))
            .send()
            .await
            .aws_context(|| format!("tagging IAM role ({name})"))?;
        Ok(())
    }

    /// Deletes its inline policies (ours and any other) and detaches managed ones first, all at once: IAM
    /// refuses to delete a role that still has policies (DeleteConflict).
    async fn delete(&self, ctx: &Ctx, _live: &ObservedRole) -> anyhow::Result<bool> {
        let name = &self.name;
        let (inline, attached) = tokio::try_join!(inline_policies(ctx), attached_policies(ctx))?;
        let remove = inline
            .into_iter()
            .map(|policy| async move { RolePolicy { name: policy }.remove(ctx).await });
        let detach = attached.iter().map(|arn| async move {
            ctx.aws
                .iam
                .detach_role_policy()
                .role_name(name)
                .policy_arn(arn)
                .send()
                .await
                .aws_context(|| format!("detaching managed policy ({arn}) from IAM role ({name})"))
        });
        tokio::try_join!(try_join_all(remove), try_join_all(detach))?;
        deleted(
            ctx.aws.iam.delete_role().role_name(name).send().await,
            |e| e.is_no_such_entity_exception(),
        )
        .aws_context(|| format!("deleting IAM role ({name})"))
    }
}

/// The ARNs of the managed policies attached to the role.
async fn attached_policies(ctx: &Ctx) -> anyhow::Result<Vec<String>> {
    let name = ctx.names.role();
    let attached = ctx
        .aws
        .iam
        .list_attached_role_policies()
        .role_name(&name)
        .send()
        .await
        .aws_context(|| format!("listing managed policies attached to IAM role ({name})"))?;
    Ok(attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_owned))
        .collect())
}

async fn inline_policies(ctx: &Ctx) -> anyhow::Result<Vec<String>> {
    let name = ctx.names.role();
    let mut policy_names = Vec::new();
    let mut pages = ctx
        .aws
        .iam
        .list_role_policies()
        .role_name(&name)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.aws_context(|| format!("listing inline policies of IAM role ({name})"))?;
        policy_names.extend(page.policy_names().iter().cloned());
    }
    Ok(policy_names)
}

/// The role's one inline policy (least privilege on our tables and log group). Owned through the role.
pub struct RolePolicy {
    pub name: String,
}

impl RolePolicy {
    pub fn new(ctx: &Ctx) -> Self {
        Self {
            name: ctx.names.role_policy(),
        }
    }

    async fn put(&self, ctx: &Ctx) -> anyhow::Result<()> {
        let (role, policy) = (ctx.names.role(), &self.name);
        ctx.aws
            .iam
            .put_role_policy()
            .role_name(&role)
            .policy_name(policy)
            .policy_document(access_policy(ctx).to_string())
            .send()
            .await
            .aws_context(|| format!("writing IAM role policy ({policy}) of role ({role})"))?;
        Ok(())
    }

    async fn remove(&self, ctx: &Ctx) -> anyhow::Result<bool> {
        let (role, policy) = (ctx.names.role(), &self.name);
        deleted(
            ctx.aws
                .iam
                .delete_role_policy()
                .role_name(&role)
                .policy_name(policy)
                .send()
                .await,
            |e| e.is_no_such_entity_exception(),
        )
        .aws_context(|| format!("deleting IAM role policy ({policy}) of role ({role})"))
    }
}

impl Resource for RolePolicy {
    /// The policy document, parsed.
    type Live = Value;
    identity!(POLICY_KIND, name, Parent);

    async fn read(&self, ctx: &Ctx) -> anyhow::Result<Option<Value>> {
        read_policy(ctx).await
    }

    fn diff(&self, ctx: &Ctx, live: &Value) -> Vec<FieldChange> {
        let desired = access_policy(ctx);
        if *live == desired {
            return Vec::new();
        }
        vec![FieldChange::new(
            "document",
            live.to_string(),
            desired.to_string(),
        )]
    }

    async fn create(&self, ctx: &Ctx) -> anyhow::Result<()> {
        self.put(ctx).await
    }

    /// Right after CreateRole, IAM may not find the role yet (NoSuchEntity).
    fn not_yet_visible(&self, err: &anyhow::Error) -> bool {
        service_error::<PutRolePolicyError>(err).is_some_and(|e| e.is_no_such_entity_exception())
    }

    async fn update(&self, ctx: &Ctx, _live: &Value, _changes: &Changes) -> anyhow::Result<()> {
        self.put(ctx).await
    }

    async fn delete(&self, ctx: &Ctx, _live: &Value) -> anyhow::Result<bool> {
        self.remove(ctx).await
    }
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
