//! `shopsmart-deploy doctor`, the learner's first command: are the credentials good and whose are they, is
//! the region one the tool deploys to, are the build tools there, and may this identity do what
//! `shopsmart-deploy permissions` lists (asked of IAM's policy simulator). Every line that is not `ok` says
//! how to fix it; a check that cannot be made is `skipped` with the reason. Exit 1 when anything is missing.

use aws_sdk_iam::types::{ContextEntry, ContextKeyTypeEnum, PolicyEvaluationDecisionType};
use serde::Serialize;

use crate::aws::{load_sdk_config, Clients};
use crate::aws_error::{AwsContext, AwsError};
use crate::config::model::{Architecture, Config};
use crate::permissions::{self, Caller, Statement, Whom};
use crate::report::Reporter;
use crate::stack::StackOptions;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Missing,
    Skipped,
}

/// One line of the diagnosis.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub check: &'static str,
    pub status: Status,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

fn check(check: &'static str, status: Status, detail: String, fix: Option<&str>) -> Check {
    let fix = fix.map(str::to_owned);
    Check {
        check,
        status,
        detail,
        fix,
    }
}

#[derive(Debug, Serialize)]
pub struct Diagnosis {
    /// The emulator endpoint when one is used instead of AWS.
    pub emulator: Option<String>,
    pub checks: Vec<Check>,
}

/// Prints the [`diagnose`]; exit 1 when something is missing.
pub async fn run(opts: &StackOptions, out: &Reporter) -> anyhow::Result<()> {
    let diagnosis = diagnose(opts).await;
    out.result(&diagnosis, render_text)?;
    let missing = diagnosis
        .checks
        .iter()
        .filter(|c| c.status == Status::Missing)
        .count();
    anyhow::ensure!(
        missing == 0,
        "doctor found {missing} thing(s) to fix before `up`; each MISSING line above says how"
    );
    Ok(())
}

/// Every check, each with its status and fix.
pub async fn diagnose(opts: &StackOptions) -> Diagnosis {
    let mut sdk = load_sdk_config(&opts.aws).await;
    if let Some(client) = &opts.http_client {
        sdk = sdk.into_builder().http_client(client.clone()).build();
    }
    let aws = Clients::new(&sdk, &opts.interceptors);
    let emulator = aws.custom_endpoint.then(|| {
        (opts.aws.endpoint_url.clone())
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
            .unwrap_or_else(|| "a custom endpoint".to_owned())
    });
    // Config validation has already refused regions outside the commercial partition.
    let region = format!("{} (commercial AWS)", opts.config.region);
    let mut checks = vec![check("region", Status::Ok, region, None)];
    let identity = aws
        .sts
        .get_caller_identity()
        .send()
        .await
        .aws_context(|| "asking STS who your credentials belong to (GetCallerIdentity)");
    match identity {
        Ok(id) => {
            let (arn, account) = (id.arn().unwrap_or_default(), id.account().unwrap_or("*"));
            let detail = format!("{arn} (account {account})");
            checks.push(check("credentials", Status::Ok, detail, None));
            checks.extend(simulate(&aws, &opts.config, arn, account).await);
        }
        Err(err) => {
            let fix = "configure credentials (`aws configure`, or `aws sso login` and --profile NAME), then check \
                       them with `aws sts get-caller-identity`";
            checks.push(check(
                "credentials",
                Status::Missing,
                crate::error::chain(&err),
                Some(fix),
            ));
            let why = "could not check permissions: no working credentials".to_owned();
            checks.push(check("permissions", Status::Skipped, why, None));
        }
    }
    checks.extend(toolchain(opts.config.function.architecture));
    Diagnosis { emulator, checks }
}

/// cargo, and cargo-lambda with zig to cross-compile for the function's architecture.
fn toolchain(architecture: Architecture) -> Vec<Check> {
    let arch = architecture.lambda_name();
    let tool = |name: &'static str, args: &[&str], missing: Status, why: String, fix: &str| {
        match std::process::Command::new(args[0])
            .args(&args[1..])
            .output()
        {
            Ok(o) if o.status.success() => {
                let version = String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_owned();
                check(name, Status::Ok, format!("{version} ({why})"), None)
            }
            _ => check(
                name,
                missing,
                format!("not found on PATH ({why})"),
                Some(fix),
            ),
        }
    };
    vec![
        tool("cargo", &["cargo", "--version"], Status::Missing, "builds the function".into(),
            "install Rust from https://rustup.rs, or pass --function-zip PATH to up"),
        tool("cargo-lambda", &["cargo-lambda", "--version"], Status::Missing,
            format!("builds the function for Lambda's {arch} Amazon Linux"),
            "pip3 install cargo-lambda (brings zig), or see https://www.cargo-lambda.info; or pass --function-zip PATH"),
        tool("zig", &["zig", "version"], Status::Skipped, format!("the linker cargo-lambda uses for {arch}"),
            "none needed if cargo-lambda came from pip3 (its ziglang package); else install zig from https://ziglang.org"),
    ]
}

/// Every statement of the policy through SimulatePrincipalPolicy, as the caller (an assumed-role session as
/// its role, read with GetRole for its path): one `missing` line per refused action.
async fn simulate(aws: &Clients, config: &Config, arn: &str, account: &str) -> Vec<Check> {
    let skipped = |why: String| {
        let detail = format!("could not check permissions: {why}");
        let fix = "compare the policies attached to you with `shopsmart-deploy permissions`";
        vec![check("permissions", Status::Skipped, detail, Some(fix))]
    };
    let principal = match permissions::caller(&aws.iam, arn).await {
        (Some(Caller::Principal { arn, .. }), _) => arn,
        (Some(Caller::RoleNamed { name, .. }), why) => {
            return skipped(format!(
                "the policy simulator needs your role's ARN with its path, and reading role {name} was \
                 refused or failed (iam:GetRole: {})",
                why.unwrap_or_default()
            ))
        }
        (None, _) => {
            return skipped(format!(
                "{arn} is not an IAM user or role (the root user may do everything; AWS advises an IAM user \
                 or IAM Identity Center instead)"
            ))
        }
    };
    let whom = Whom {
        account: account.to_owned(),
        caller: Some(Caller::Principal {
            arn: principal.clone(),
            role: principal.contains(":role/"),
        }),
    };
    let fix = format!("attach the policy `shopsmart-deploy permissions` prints to {principal} (README: Permissions)");
    let mut refused = Vec::new();
    for statement in permissions::statements(config, &whom) {
        match refusals(aws, &principal, &statement).await {
            Ok(actions) => refused.extend(actions.into_iter().map(|action| {
                let detail = format!("{action} on {}", statement.resource.join(", "));
                check("permission", Status::Missing, detail, Some(&fix))
            })),
            Err(err) if err.is_access_denied() => {
                return skipped(format!(
                    "{principal} may not use the IAM policy simulator (iam:SimulatePrincipalPolicy on itself)"
                ))
            }
            Err(err) => return skipped(format!("the IAM policy simulator answered {err}")),
        }
    }
    if refused.is_empty() {
        let detail = format!("{principal} may do everything `shopsmart-deploy permissions` lists");
        return vec![check("permissions", Status::Ok, detail, None)];
    }
    refused
}

/// The actions of `statement` the simulator does not allow `principal`, with the statement's condition
/// keys given the values the tool's calls carry (iam:PassedToService = lambda.amazonaws.com).
async fn refusals(
    aws: &Clients,
    principal: &str,
    statement: &Statement,
) -> Result<Vec<String>, AwsError> {
    let results = (aws.iam.simulate_principal_policy())
        .policy_source_arn(principal)
        .set_action_names(Some(statement.action.clone()))
        .set_resource_arns(Some(statement.resource.clone()))
        .set_context_entries(statement.condition.as_ref().map(context_entries))
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(AwsError::new)?;
    Ok(results
        .iter()
        .filter(|r| *r.eval_decision() != PolicyEvaluationDecisionType::Allowed)
        .map(|r| r.eval_action_name().to_owned())
        .collect())
}

/// A condition's keys and values (`{"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}`) as
/// the simulator's context entries.
fn context_entries(condition: &serde_json::Value) -> Vec<ContextEntry> {
    let keys = condition
        .as_object()
        .into_iter()
        .flat_map(|ops| ops.values());
    let pairs = keys.filter_map(|keys| keys.as_object()).flatten();
    pairs
        .map(|(key, value)| {
            let values = match value {
                serde_json::Value::Array(many) => many.clone(),
                one => vec![one.clone()],
            };
            ContextEntry::builder()
                .context_key_name(key)
                .context_key_type(ContextKeyTypeEnum::String)
                .set_context_key_values(Some(
                    values
                        .iter()
                        .filter_map(|v| v.as_str())
                        .map(str::to_owned)
                        .collect(),
                ))
                .build()
        })
        .collect()
}

fn render_text(diagnosis: &Diagnosis) -> String {
    let mut lines = Vec::new();
    if let Some(url) = &diagnosis.emulator {
        lines.push(format!("note: talking to an emulator at {url}, not to AWS: these answers say nothing about your AWS account"));
    }
    for c in &diagnosis.checks {
        let status = match c.status {
            Status::Ok => "ok",
            Status::Missing => "MISSING",
            Status::Skipped => "skipped",
        };
        lines.push(format!("  {status:<8} {}: {}", c.check, c.detail));
        if let Some(fix) = &c.fix.as_ref().filter(|_| c.status != Status::Ok) {
            lines.push(format!("           fix: {fix}"));
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_condition_becomes_the_simulators_context() {
        let entries = context_entries(&serde_json::json!({
            "StringEquals": { "iam:PassedToService": "lambda.amazonaws.com" }
        }));
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].context_key_name(), Some("iam:PassedToService"));
        assert_eq!(entries[0].context_key_values(), ["lambda.amazonaws.com"]);
        assert_eq!(
            entries[0].context_key_type(),
            Some(&ContextKeyTypeEnum::String)
        );
    }
}
