//! The Lambda function `{stack}-api`: custom runtime `provided.al2023`, handler `bootstrap`, memory, timeout,
//! architecture, environment, tags, logging and reserved concurrency from the config, code from
//! `function_code`. Code is uploaded only when the live CodeSha256 differs; configuration is updated only
//! for the fields that differ.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use aws_sdk_lambda::client::Waiters;
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::operation::get_function::GetFunctionOutput;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    Architecture as LambdaArchitecture, Environment, FunctionCode, LastUpdateStatus, LogFormat,
    LoggingConfig, Runtime, State,
};

use super::function_code::FunctionZip;
use super::ownership::{deleted, found};
use super::{differing_fields, Changes, Ctx, Resource, Tags};
use crate::aws_error::AwsContext;
use crate::change::FieldChange;
use crate::config::model::Architecture;
use crate::wait;

pub const KIND: &str = "Lambda function";
const RUNTIME: &str = "provided.al2023";
const HANDLER: &str = "bootstrap";
/// How long to keep retrying while a new or changed role is not yet assumable by Lambda.
const ROLE_PROPAGATION_DEADLINE: Duration = Duration::from_secs(60);
/// Upper bound for the SDK waiters (Pending → Active, InProgress → Successful); usually a few seconds.
const WAITER_MAX: Duration = Duration::from_secs(300);
/// What Lambda says while IAM has not yet propagated a role to it.
const ROLE_NOT_ASSUMABLE: &str = "cannot be assumed by Lambda";

#[derive(Debug, Clone)]
pub struct DesiredFunction {
    pub role_arn: String,
    /// `None` only in `Mode::Plan` for `status` without `--function-zip`: the code is then not compared
    /// (status should not need a Lambda build toolchain); configuration and tags still are.
    pub zip: Option<FunctionZip>,
    pub environment: BTreeMap<String, String>,
}

impl DesiredFunction {
    /// The code to upload; every `up` has built or read it.
    fn code(&self) -> anyhow::Result<&FunctionZip> {
        self.zip
            .as_ref()
            .context("internal error: no function code to upload (only status runs without it)")
    }
}

/// The live function as one GetFunction call reports it.
pub struct Live {
    arn: String,
    code_sha256: String,
    architecture: String,
    configuration: LiveConfiguration,
    tags: Tags,
    reserved_concurrency: Option<i32>,
    busy: bool,
}

impl Live {
    /// Memory (MB) and architecture, as the diagram shows them.
    pub fn size(&self) -> (i32, &str) {
        (self.configuration.memory_mb, &self.architecture)
    }
}

/// The fields UpdateFunctionConfiguration sets, in comparable form.
#[derive(Debug, Clone, PartialEq)]
struct LiveConfiguration {
    role: String,
    runtime: String,
    handler: String,
    memory_mb: i32,
    timeout_s: i32,
    environment: BTreeMap<String, String>,
    log_group: String,
}

fn desired_configuration(ctx: &Ctx, desired: &DesiredFunction) -> LiveConfiguration {
    LiveConfiguration {
        role: desired.role_arn.clone(),
        runtime: RUNTIME.to_owned(),
        handler: HANDLER.to_owned(),
        memory_mb: ctx.config.function.memory_mb as i32,
        timeout_s: ctx.config.function.timeout_s as i32,
        environment: desired.environment.clone(),
        log_group: ctx.names.log_group(),
    }
}

fn lambda_architecture(architecture: Architecture) -> LambdaArchitecture {
    match architecture {
        Architecture::Arm64 => LambdaArchitecture::Arm64,
        Architecture::X86_64 => LambdaArchitecture::X8664,
    }
}

/// GetFunction and ListTags at once (the function's ARN follows from its name); `None` when there is no
/// function.
async fn read(ctx: &Ctx) -> anyhow::Result<Option<Live>> {
    let name = ctx.names.function();
    let get = get_function(ctx, &name);
    let arn = ctx.arns().function(&name);
    let (output, tags) = tokio::try_join!(get, read_tags(ctx, &arn))?;
    Ok(output.zip(tags).map(|(output, tags)| Live {
        tags,
        ..live_from(ctx, output)
    }))
}

/// GetFunction; `None` when there is no function.
async fn get_function(ctx: &Ctx, name: &str) -> anyhow::Result<Option<GetFunctionOutput>> {
    let output = ctx
        .aws
        .lambda
        .get_function()
        .function_name(name)
        .send()
        .await;
    found(output, |e| e.is_resource_not_found_exception())
        .aws_context(|| format!("reading Lambda function ({name})"))
}

/// GetFunction leaves out `Tags` unless the caller may call ListTags: asking ListTags itself turns a missing
/// permission into an error that names it, where an absent tag list would make our own function "foreign".
/// `None` when there is no function.
async fn read_tags(ctx: &Ctx, arn: &str) -> anyhow::Result<Option<Tags>> {
    let name = ctx.names.function();
    let output = found(ctx.aws.lambda.list_tags().resource(arn).send().await, |e| {
        e.is_resource_not_found_exception()
    })
    .aws_context(|| format!("reading tags of Lambda function ({name}) (lambda:ListTags)"))?;
    Ok(output.map(|output| output.tags.unwrap_or_default()))
}

/// The live function from GetFunction; its tags are [`read_tags`]'.
fn live_from(ctx: &Ctx, output: GetFunctionOutput) -> Live {
    let reserved_concurrency = output
        .concurrency()
        .and_then(|c| c.reserved_concurrent_executions());
    let configuration = output
        .configuration
        .unwrap_or_else(|| aws_sdk_lambda::types::FunctionConfiguration::builder().build());
    let busy = matches!(configuration.state(), Some(State::Pending))
        || matches!(
            configuration.last_update_status(),
            Some(LastUpdateStatus::InProgress)
        );
    let environment = configuration
        .environment()
        .and_then(|env| env.variables())
        .map(|vars| vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    Live {
        arn: configuration.function_arn().unwrap_or_default().to_owned(),
        code_sha256: configuration.code_sha256().unwrap_or_default().to_owned(),
        // Lambda defaults to x86_64 when no architecture is listed.
        architecture: configuration
            .architectures()
            .first()
            .map_or("x86_64", |a| a.as_str())
            .to_owned(),
        configuration: LiveConfiguration {
            role: configuration.role().unwrap_or_default().to_owned(),
            runtime: configuration
                .runtime()
                .map(|r| r.as_str().to_owned())
                .unwrap_or_default(),
            handler: configuration.handler().unwrap_or_default().to_owned(),
            memory_mb: configuration.memory_size().unwrap_or_default(),
            timeout_s: configuration.timeout().unwrap_or_default(),
            environment,
            // Without an explicit logging config Lambda writes to /aws/lambda/{function}.
            log_group: configuration
                .logging_config()
                .and_then(|logging| logging.log_group())
                .map_or_else(|| ctx.names.log_group(), str::to_owned),
        },
        tags: Tags::new(),
        reserved_concurrency,
        busy,
    }
}

fn render_environment(environment: &BTreeMap<String, String>, key: &str) -> String {
    environment
        .get(key)
        .cloned()
        .unwrap_or_else(|| "(unset)".to_owned())
}

/// Each configuration field that differs, old → new.
fn configuration_changes(
    live: &LiveConfiguration,
    desired: &LiveConfiguration,
) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    let mut compare = |field: &str, old: String, new: String| {
        if old != new {
            changes.push(FieldChange::new(field, old, new));
        }
    };
    compare("role", live.role.clone(), desired.role.clone());
    compare("runtime", live.runtime.clone(), desired.runtime.clone());
    compare("handler", live.handler.clone(), desired.handler.clone());
    compare(
        "memory_mb",
        live.memory_mb.to_string(),
        desired.memory_mb.to_string(),
    );
    compare(
        "timeout_s",
        live.timeout_s.to_string(),
        desired.timeout_s.to_string(),
    );
    compare(
        "log_group",
        live.log_group.clone(),
        desired.log_group.clone(),
    );
    let keys: std::collections::BTreeSet<&String> = live
        .environment
        .keys()
        .chain(desired.environment.keys())
        .collect();
    for key in keys {
        compare(
            &format!("environment.{key}"),
            render_environment(&live.environment, key),
            render_environment(&desired.environment, key),
        );
    }
    changes
}

fn render_concurrency(value: Option<i32>) -> String {
    value.map_or_else(|| "unreserved".to_owned(), |n| n.to_string())
}

/// The function; `desired` is `None` for `destroy`, which only needs to find it and check its tags.
pub struct Function {
    pub name: String,
    pub desired: Option<DesiredFunction>,
}

impl Function {
    pub fn new(ctx: &Ctx, desired: DesiredFunction) -> Self {
        Self {
            name: ctx.names.function(),
            desired: Some(desired),
        }
    }

    pub fn to_delete(ctx: &Ctx) -> Self {
        Self {
            name: ctx.names.function(),
            desired: None,
        }
    }

    fn desired(&self) -> anyhow::Result<&DesiredFunction> {
        self.desired
            .as_ref()
            .context("internal error: converging a Lambda function without its desired state")
    }
}

impl Resource for Function {
    type Live = Live;
    identity!(KIND, name, Tags);

    async fn read(&self, ctx: &Ctx) -> anyhow::Result<Option<Live>> {
        read(ctx).await
    }

    fn diff(&self, ctx: &Ctx, live: &Live) -> Vec<FieldChange> {
        let Some(desired) = &self.desired else {
            return Vec::new();
        };
        let mut fields = code_changes(ctx, live, desired);
        fields.extend(configuration_changes(
            &live.configuration,
            &desired_configuration(ctx, desired),
        ));
        let desired_concurrency = ctx.config.function.reserved_concurrency.map(|n| n as i32);
        if live.reserved_concurrency != desired_concurrency {
            fields.push(FieldChange::new(
                "reserved_concurrency",
                render_concurrency(live.reserved_concurrency),
                render_concurrency(desired_concurrency),
            ));
        }
        fields
    }

    async fn create(&self, ctx: &Ctx) -> anyhow::Result<()> {
        create(ctx, self.desired()?).await
    }

    /// Reserved concurrency, which Lambda takes while the new function is still Pending (only Invoke and
    /// updates of its code or configuration wait for Active; see [`wait_active`]).
    async fn configure(&self, ctx: &Ctx) -> anyhow::Result<()> {
        if let Some(reserved) = ctx.config.function.reserved_concurrency {
            apply_concurrency(ctx, Some(reserved as i32)).await?;
        }
        Ok(())
    }

    async fn update(&self, ctx: &Ctx, live: &Live, changes: &Changes) -> anyhow::Result<()> {
        let desired = self.desired()?;
        let code = !code_changes(ctx, live, desired).is_empty();
        let desired_config = desired_configuration(ctx, desired);
        let configuration = !configuration_changes(&live.configuration, &desired_config).is_empty();
        // A previous run may have left an update in flight: let it finish before the next one.
        if live.busy && (code || configuration) {
            wait_updated(ctx).await?;
        }
        if code {
            let name = &self.name;
            ctx.aws
                .lambda
                .update_function_code()
                .function_name(name)
                .zip_file(Blob::new(desired.code()?.bytes.clone()))
                .architectures(lambda_architecture(ctx.config.function.architecture))
                .send()
                .await
                .aws_context(|| format!("updating code of Lambda function ({name})"))?;
            wait_updated(ctx).await?;
        }
        if configuration {
            update_configuration(ctx, &desired_config).await?;
            wait_updated(ctx).await?;
        }
        if changes.has("reserved_concurrency") {
            let desired_concurrency = ctx.config.function.reserved_concurrency.map(|n| n as i32);
            apply_concurrency(ctx, desired_concurrency).await?;
        }
        Ok(())
    }

    async fn add_tags(
        &self,
        ctx: &Ctx,
        live: &Live,
        tags: &BTreeMap<String, String>,
    ) -> anyhow::Result<()> {
        let name = &self.name;
        ctx.aws
            .lambda
            .tag_resource()
            .resource(&live.arn)
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await
            .aws_context(|| format!("tagging Lambda function ({name})"))?;
        Ok(())
    }

    async fn delete(&self, ctx: &Ctx, _live: &Live) -> anyhow::Result<bool> {
        let name = &self.name;
        deleted(
            ctx.aws
                .lambda
                .delete_function()
                .function_name(name)
                .send()
                .await,
            |e| e.is_resource_not_found_exception(),
        )
        .aws_context(|| format!("deleting Lambda function ({name})"))
    }
}

/// The code (when the zip is known) and the architecture, old → new.
fn code_changes(ctx: &Ctx, live: &Live, desired: &DesiredFunction) -> Vec<FieldChange> {
    let code = desired.zip.as_ref().map(|zip| {
        (
            "code_sha256",
            live.code_sha256.as_str(),
            zip.sha256_base64.as_str(),
        )
    });
    differing_fields(code.into_iter().chain([(
        "architecture",
        live.architecture.as_str(),
        ctx.config.function.architecture.lambda_name(),
    )]))
}

async fn create(ctx: &Ctx, desired: &DesiredFunction) -> anyhow::Result<()> {
    let name = ctx.names.function();
    let config = desired_configuration(ctx, desired);
    let tags: HashMap<String, String> = ctx.tags().into_iter().collect();
    let request = ctx
        .aws
        .lambda
        .create_function()
        .function_name(&name)
        .runtime(Runtime::from(RUNTIME))
        .handler(HANDLER)
        .role(&config.role)
        .memory_size(config.memory_mb)
        .timeout(config.timeout_s)
        .architectures(lambda_architecture(ctx.config.function.architecture))
        .environment(
            Environment::builder()
                .set_variables(Some(config.environment.into_iter().collect()))
                .build(),
        )
        .logging_config(logging_config(&config.log_group))
        .set_tags(Some(tags))
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(desired.code()?.bytes.clone()))
                .build(),
        );
    retry_while_role_not_assumable(
        || request.clone().send(),
        |e| e.is_invalid_parameter_value_exception(),
    )
    .await
    .aws_context(|| format!("creating Lambda function ({name})"))?;
    Ok(())
}

fn logging_config(log_group: &str) -> LoggingConfig {
    LoggingConfig::builder()
        .log_format(LogFormat::Text)
        .log_group(log_group)
        .build()
}

async fn update_configuration(ctx: &Ctx, config: &LiveConfiguration) -> anyhow::Result<()> {
    let name = ctx.names.function();
    let request = ctx
        .aws
        .lambda
        .update_function_configuration()
        .function_name(&name)
        .runtime(Runtime::from(config.runtime.as_str()))
        .handler(&config.handler)
        .role(&config.role)
        .memory_size(config.memory_mb)
        .timeout(config.timeout_s)
        .environment(
            Environment::builder()
                .set_variables(Some(config.environment.clone().into_iter().collect()))
                .build(),
        )
        .logging_config(logging_config(&config.log_group));
    retry_while_role_not_assumable(
        || request.clone().send(),
        |e| e.is_invalid_parameter_value_exception(),
    )
    .await
    .aws_context(|| format!("updating configuration of Lambda function ({name})"))?;
    Ok(())
}

/// Waits until a function we just created has left Pending (Lambda prepares it for a few seconds; until
/// then every invocation fails). Polled at [`wait::Pace::QUICK`] (one GetFunction each); a function that ends up Failed is
/// an error carrying Lambda's reason.
pub async fn wait_active(ctx: &Ctx) -> anyhow::Result<()> {
    let name = ctx.names.function();
    let what = format!("Lambda function ({name}) to become Active");
    wait::until_paced(wait::Pace::QUICK, &what, WAITER_MAX, || async {
        let Some(output) = get_function(ctx, &name).await? else {
            anyhow::bail!(
                "Lambda function ({name}) disappeared while Lambda was preparing it (someone deleted it?); \
                 run `up` again to create it"
            );
        };
        let Some(output) = output.configuration else {
            return Ok(None);
        };
        match output.state() {
            Some(State::Pending) => Ok(None),
            Some(State::Failed) => anyhow::bail!(
                "Lambda function ({name}) failed to become Active: {} ({}); run `up` again, and if it fails \
                 the same way, `destroy` and `up`",
                output.state_reason().unwrap_or("no reason given"),
                output
                    .state_reason_code()
                    .map_or("no reason code", |code| code.as_str())
            ),
            _ => Ok(Some(())),
        }
    })
    .await
}

async fn wait_updated(ctx: &Ctx) -> anyhow::Result<()> {
    let name = ctx.names.function();
    ctx.aws
        .lambda
        .wait_until_function_updated_v2()
        .function_name(&name)
        .wait(WAITER_MAX)
        .await
        .with_context(|| format!("waiting for the update of Lambda function ({name}) to finish"))?;
    Ok(())
}

async fn apply_concurrency(ctx: &Ctx, reserved: Option<i32>) -> anyhow::Result<()> {
    let name = ctx.names.function();
    match reserved {
        Some(reserved) => {
            let context = || {
                format!("setting reserved concurrency of Lambda function ({name}) to {reserved}")
            };
            match ctx
                .aws
                .lambda
                .put_function_concurrency()
                .function_name(&name)
                .reserved_concurrent_executions(reserved)
                .send()
                .await
            {
                Ok(_) => {}
                // Lambda keeps a minimum of the account's concurrency unreserved (10 on new accounts, whose
                // whole limit is often just 10, so that nothing at all can be reserved there).
                Err(err)
                    if err
                        .as_service_error()
                        .is_some_and(|e| e.is_invalid_parameter_value_exception()) =>
                {
                    return Err(err).aws_context(|| {
                        format!(
                            "{}: Lambda refused it, because the account must keep a minimum of its concurrency \
                             unreserved (new accounts often have a total limit of 10, so nothing can be reserved). \
                             Remove `reserved_concurrency` under `function:` in shopsmart.yaml (the API's \
                             throttling already bounds the load), or ask for a higher quota (Service Quotas → AWS \
                             Lambda → Concurrent executions)",
                            context()
                        )
                    });
                }
                Err(err) => return Err(err).aws_context(context),
            }
        }
        None => {
            ctx.aws
                .lambda
                .delete_function_concurrency()
                .function_name(&name)
                .send()
                .await
                .aws_context(|| {
                    format!("removing reserved concurrency of Lambda function ({name})")
                })?;
        }
    }
    Ok(())
}

/// Retries `call` (every half second at most, see [`wait::Pace::PROPAGATION`]) while Lambda says the role cannot be assumed yet (IAM is
/// eventually consistent: a new or changed role takes seconds to reach Lambda), up to a deadline.
/// `is_invalid_parameter` picks the typed InvalidParameterValueException variant; the message then tells this
/// case apart from a genuinely invalid parameter, which fails at once.
async fn retry_while_role_not_assumable<T, E, F, Fut>(
    call: F,
    is_invalid_parameter: impl Fn(&E) -> bool,
) -> Result<T, SdkError<E, aws_smithy_runtime_api::http::Response>>
where
    E: ProvideErrorMetadata,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, aws_smithy_runtime_api::http::Response>>>,
{
    wait::retry_while_paced(
        wait::Pace::PROPAGATION,
        "the function's role to be assumable by Lambda",
        ROLE_PROPAGATION_DEADLINE,
        call,
        |err| {
            err.as_service_error().is_some_and(|e| {
                is_invalid_parameter(e)
                    && e.message().is_some_and(|m| m.contains(ROLE_NOT_ASSUMABLE))
            })
        },
    )
    .await
}

/// The function's ARN, derived from its name (for the HTTP API integration and status).
pub fn function_arn(ctx: &Ctx) -> String {
    ctx.arns().function(&ctx.names.function())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> LiveConfiguration {
        LiveConfiguration {
            role: "arn:aws:iam::1:role/r".into(),
            runtime: RUNTIME.into(),
            handler: HANDLER.into(),
            memory_mb: 128,
            timeout_s: 10,
            environment: BTreeMap::from([("A".to_owned(), "1".to_owned())]),
            log_group: "/aws/lambda/x".into(),
        }
    }

    #[test]
    fn equal_configuration_has_no_changes() {
        assert!(configuration_changes(&config(), &config()).is_empty());
    }

    #[test]
    fn each_differing_field_is_reported_old_to_new() {
        let mut desired = config();
        desired.memory_mb = 256;
        desired.environment.insert("B".into(), "2".into());
        desired.environment.remove("A");
        let changes = configuration_changes(&config(), &desired);
        assert_eq!(
            changes,
            vec![
                FieldChange::new("memory_mb", "128", "256"),
                FieldChange::new("environment.A", "1", "(unset)"),
                FieldChange::new("environment.B", "(unset)", "2"),
            ]
        );
    }
}
