//! The statement in the function's resource policy that lets only our HTTP API invoke it (fixed statement id
//! `{stack}-apigateway-invoke`). The policy is read first: AddPermission with an existing statement id fails
//! with ResourceConflictException (behaviour 3), so a statement with another SourceArn is removed, then added.

use anyhow::Context;

use super::http_api::ApiInfo;
use super::ownership::{deleted, foreign_error, found, FIX_CHOOSE_ANOTHER_NAME};
use super::{differing_fields, Ctx, Mode};
use crate::change::{Action, Change, FieldChange};

pub const KIND: &str = "Lambda permission";
const PRINCIPAL: &str = "apigateway.amazonaws.com";
const ACTION: &str = "lambda:InvokeFunction";

/// What our statement grants, as read back from the resource policy.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Grant {
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
    .with_context(|| format!("reading the resource policy of Lambda function ({function})"))?;
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

fn changes(live: &Grant, desired: &Grant) -> Vec<FieldChange> {
    differing_fields([
        ("principal", &live.principal, &desired.principal),
        ("action", &live.action, &desired.action),
        ("source_arn", &live.source_arn, &desired.source_arn),
    ])
}

pub async fn converge(ctx: &Ctx, api: Option<&ApiInfo>) -> anyhow::Result<Change> {
    let sid = ctx.names.invoke_permission_sid();
    let Some(api) = api else {
        // Only in plan, when the HTTP API does not exist yet: its id (and so the SourceArn) is still unknown.
        if ctx.mode == Mode::Apply {
            anyhow::bail!("adding Lambda permission ({sid}): the HTTP API must be converged first");
        }
        return Ok(Change::new(KIND, sid, Action::Create));
    };
    let desired = Grant {
        principal: PRINCIPAL.to_owned(),
        action: ACTION.to_owned(),
        source_arn: ctx.arns().http_api_invoke_source(&api.api_id),
    };
    let live = read(ctx, &sid).await?;
    let action = match &live {
        None => Action::Create,
        Some(live) => {
            let fields = changes(live, &desired);
            if fields.is_empty() {
                return Ok(Change::new(KIND, sid, Action::Unchanged));
            }
            Action::Update { fields }
        }
    };
    if ctx.mode == Mode::Apply {
        ensure_function_is_ours(ctx, &sid).await?;
        if live.is_some() {
            remove(ctx, &sid).await?;
        }
        let function = ctx.names.function();
        ctx.aws
            .lambda
            .add_permission()
            .function_name(&function)
            .statement_id(&sid)
            .action(ACTION)
            .principal(PRINCIPAL)
            .source_arn(&desired.source_arn)
            .send()
            .await
            .with_context(|| {
                format!("adding Lambda permission ({sid}) to function ({function})")
            })?;
    }
    Ok(Change::new(KIND, sid, action))
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
    .with_context(|| format!("removing Lambda permission ({sid}) from function ({function})"))
}

pub async fn destroy(ctx: &Ctx) -> anyhow::Result<Change> {
    let sid = ctx.names.invoke_permission_sid();
    if read(ctx, &sid).await?.is_none() {
        return Ok(Change::new(KIND, sid, Action::AlreadyGone));
    }
    ensure_function_is_ours(ctx, &sid).await?;
    if ctx.mode == Mode::Apply && !remove(ctx, &sid).await? {
        return Ok(Change::new(KIND, sid, Action::AlreadyGone));
    }
    Ok(Change::new(KIND, sid, Action::Delete))
}

/// The statement lives on the function: it is written or removed only if the function carries our tag.
async fn ensure_function_is_ours(ctx: &Ctx, sid: &str) -> anyhow::Result<()> {
    let function = ctx.names.function();
    let arn = ctx.arns().function(&function);
    let tags = ctx
        .aws
        .lambda
        .list_tags()
        .resource(&arn)
        .send()
        .await
        .with_context(|| format!("reading tags of Lambda function ({function})"))?
        .tags
        .unwrap_or_default();
    if !ctx.is_ours(&tags) {
        return Err(foreign_error(
            ctx,
            super::lambda_function::KIND,
            &function,
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
