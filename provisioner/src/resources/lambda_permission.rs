//! The statement in the function's resource policy that lets only our HTTP API invoke it (fixed statement id
//! `{stack}-apigateway-invoke`). The policy is read first: AddPermission with an existing statement id fails
//! with ResourceConflictException, so a statement with another SourceArn is removed, then added. The
//! statement is written or removed only while the function carries our tag.

use anyhow::Context;

use super::http_api::ApiInfo;
use super::ownership::{deleted, foreign_error, found, FIX_CHOOSE_ANOTHER_NAME};
use super::{differing_fields, Changes, Ctx, Resource};
use crate::aws_error::AwsContext;
use crate::change::FieldChange;

pub const KIND: &str = "Lambda permission";
const PRINCIPAL: &str = "apigateway.amazonaws.com";
const ACTION: &str = "lambda:InvokeFunction";

/// What our statement grants, as read back from the resource policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    principal: String,
    action: String,
    source_arn: String,
}

/// The statement with id `sid` in the function's policy; `Ok(None)` if the function or the policy or the
/// statement is absent.
async fn read(ctx: &Ctx, sid: &str) -> anyhow::Result<Option<Grant>> {
    let function = ctx.names.function();
    // No function, or a function without any policy: both are ResourceNotFoundException.
    let output = found(
        ctx.aws
            .lambda
            .get_policy()
            .function_name(&function)
            .send()
            .await,
        |e| e.is_resource_not_found_exception(),
    )
    .aws_context(|| format!("reading the resource policy of Lambda function ({function})"))?;
    let Some(policy) = output.and_then(|o| o.policy) else {
        return Ok(None);
    };
    grant_in_policy(&policy, sid)
        .with_context(|| format!("parsing the resource policy of Lambda function ({function})"))
}

fn grant_in_policy(policy: &str, sid: &str) -> anyhow::Result<Option<Grant>> {
    if policy.trim().is_empty() {
        return Ok(None);
    }
    let document: serde_json::Value = serde_json::from_str(policy)?;
    let statements = match &document["Statement"] {
        serde_json::Value::Array(items) => items.clone(),
        single @ serde_json::Value::Object(_) => vec![single.clone()],
        _ => Vec::new(),
    };
    let Some(statement) = statements.iter().find(|s| s["Sid"] == sid) else {
        return Ok(None);
    };
    let principal = match &statement["Principal"] {
        serde_json::Value::String(p) => p.clone(),
        other => other["Service"].as_str().unwrap_or_default().to_owned(),
    };
    // Lambda writes the condition as ArnLike {"AWS:SourceArn": ...}.
    let condition = &statement["Condition"];
    let source_arn = ["ArnLike", "ArnEquals", "StringEquals"]
        .iter()
        .find_map(|op| condition[op]["AWS:SourceArn"].as_str())
        .unwrap_or_default()
        .to_owned();
    let action = statement["Action"].as_str().unwrap_or_default().to_owned();
    Ok(Some(Grant {
        principal,
        action,
        source_arn,
    }))
}

/// What the statement should grant to.
pub enum Target {
    /// Our HTTP API, by id.
    Api(String),
    /// `plan` before the HTTP API exists: its id (and so the grant) is not known yet.
    NotYetKnown,
    /// `destroy`: whatever is there goes.
    Nothing,
    /// `up` reading ahead, before the HTTP API's id is known: whatever is there, to compare later.
    Any,
}

/// The statement `{stack}-apigateway-invoke` in our function's resource policy.
pub struct Permission {
    pub sid: String,
    pub target: Target,
}

impl Permission {
    /// The grant to the HTTP API `api` (`None` in plan before the API exists).
    pub fn new(ctx: &Ctx, api: Option<&ApiInfo>) -> Self {
        Self {
            sid: ctx.names.invoke_permission_sid(),
            target: api.map_or(Target::NotYetKnown, |api| Target::Api(api.api_id.clone())),
        }
    }

    pub fn to_delete(ctx: &Ctx) -> Self {
        Self {
            sid: ctx.names.invoke_permission_sid(),
            target: Target::Nothing,
        }
    }

    /// The statement as it is, read ahead of the HTTP API (its owner is checked when it is written).
    pub fn existing(ctx: &Ctx) -> Self {
        Self {
            sid: ctx.names.invoke_permission_sid(),
            target: Target::Any,
        }
    }

    fn desired(&self, ctx: &Ctx) -> Option<Grant> {
        let Target::Api(api_id) = &self.target else {
            return None;
        };
        Some(Grant {
            principal: PRINCIPAL.to_owned(),
            action: ACTION.to_owned(),
            source_arn: ctx.arns().http_api_invoke_source(api_id),
        })
    }

    async fn add(&self, ctx: &Ctx) -> anyhow::Result<()> {
        let sid = &self.sid;
        let Some(desired) = self.desired(ctx) else {
            anyhow::bail!("adding Lambda permission ({sid}): the HTTP API must be converged first");
        };
        let function = ctx.names.function();
        ctx.aws
            .lambda
            .add_permission()
            .function_name(&function)
            .statement_id(sid)
            .action(ACTION)
            .principal(PRINCIPAL)
            .source_arn(&desired.source_arn)
            .send()
            .await
            .aws_context(|| format!("adding Lambda permission ({sid}) to function ({function})"))?;
        Ok(())
    }
}

impl Resource for Permission {
    type Live = Grant;
    identity!(KIND, sid, Parent);

    /// For `destroy`, the function's tags are read beside the policy: a statement found on a function that is
    /// not ours is an error before anything is deleted, and the delete needs no call to check it.
    async fn read(&self, ctx: &Ctx) -> anyhow::Result<Option<Grant>> {
        match self.target {
            Target::NotYetKnown => Ok(None),
            Target::Api(_) | Target::Any => read(ctx, &self.sid).await,
            Target::Nothing => {
                let (grant, ours) = tokio::join!(read(ctx, &self.sid), function_is_ours(ctx));
                let Some(grant) = grant? else {
                    return Ok(None);
                };
                ensure_ours(ctx, &self.sid, ours?)?;
                Ok(Some(grant))
            }
        }
    }

    fn diff(&self, ctx: &Ctx, live: &Grant) -> Vec<FieldChange> {
        let Some(desired) = self.desired(ctx) else {
            return Vec::new();
        };
        differing_fields([
            ("principal", &live.principal, &desired.principal),
            ("action", &live.action, &desired.action),
            ("source_arn", &live.source_arn, &desired.source_arn),
        ])
    }

    async fn create(&self, ctx: &Ctx) -> anyhow::Result<()> {
        ensure_function_is_ours(ctx, &self.sid).await?;
        self.add(ctx).await
    }

    /// AddPermission with an existing statement id fails with ResourceConflictException: remove, then add.
    async fn update(&self, ctx: &Ctx, _live: &Grant, _changes: &Changes) -> anyhow::Result<()> {
        ensure_function_is_ours(ctx, &self.sid).await?;
        remove(ctx, &self.sid).await?;
        self.add(ctx).await
    }

    async fn delete(&self, ctx: &Ctx, _live: &Grant) -> anyhow::Result<bool> {
        if !matches!(self.target, Target::Nothing) {
            ensure_function_is_ours(ctx, &self.sid).await?;
        }
        remove(ctx, &self.sid).await
    }
}

async fn remove(ctx: &Ctx, sid: &str) -> anyhow::Result<bool> {
    let function = ctx.names.function();
    deleted(
        ctx.aws
            .lambda
            .remove_permission()
            .function_name(&function)
            .statement_id(sid)
            .send()
            .await,
        |e| e.is_resource_not_found_exception(),
    )
    .aws_context(|| format!("removing Lambda permission ({sid}) from function ({function})"))
}

/// The statement lives on the function: it is written or removed only if the function carries our tag.
async fn ensure_function_is_ours(ctx: &Ctx, sid: &str) -> anyhow::Result<()> {
    ensure_ours(ctx, sid, function_is_ours(ctx).await?)
}

/// Whether our function carries our tag (`false` when it does not exist).
async fn function_is_ours(ctx: &Ctx) -> anyhow::Result<bool> {
    let function = ctx.names.function();
    let arn = ctx.arns().function(&function);
    let tags = found(
        ctx.aws.lambda.list_tags().resource(&arn).send().await,
        |e| e.is_resource_not_found_exception(),
    )
    .aws_context(|| format!("reading tags of Lambda function ({function})"))?;
    Ok(ctx.is_ours(&tags.and_then(|t| t.tags).unwrap_or_default()))
}

fn ensure_ours(ctx: &Ctx, sid: &str, ours: bool) -> anyhow::Result<()> {
    if !ours {
        return Err(foreign_error(
            ctx,
            super::lambda_function::KIND,
            &ctx.names.function(),
            &format!("Its permission {sid} is left untouched too. {FIX_CHOOSE_ANOTHER_NAME}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_statement_lambda_writes() {
        let policy = r#"{"Version":"2012-10-17","Id":"default","Statement":[
            {"Sid":"other","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"x"},
            {"Sid":"s-apigateway-invoke","Effect":"Allow","Principal":{"Service":"apigateway.amazonaws.com"},
             "Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:1:function:f",
             "Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:execute-api:us-east-1:1:abc/*/*"}}}]}"#;
        let grant = grant_in_policy(policy, "s-apigateway-invoke")
            .unwrap()
            .unwrap();
        assert_eq!(
            grant,
            Grant {
                principal: PRINCIPAL.into(),
                action: ACTION.into(),
                source_arn: "arn:aws:execute-api:us-east-1:1:abc/*/*".into()
            }
        );
        assert_eq!(grant_in_policy(policy, "missing").unwrap(), None);
    }
}
