//! The verbs over the whole stack: `up`, `plan`, `destroy`, `status`. Each resource module converges one
//! resource; this file only orders them. Independent work runs in parallel:
//!
//! ```text
//! up:      tables ─→ seed
//!          role ∥ log group ∥ bucket ∥ function code ─→ function ─→ HTTP API ─→ permission ∥ website upload
//!          budget alert (beside everything)
//! destroy: HTTP API → permission → function → (log group ∥ role ∥ tables ∥ bucket), budget alert beside
//! ```
//! Table ARNs (for the role's policy) and the function ARN follow from names, so the role does not wait for
//! the tables.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;
use serde_json::json;

use crate::aws::{load_sdk_config, AwsSettings, Clients};
use crate::change::Change;
use crate::config::model::Config;
use crate::freetier;
use crate::names::{website_url, TableKind};
use crate::report::{Reporter, Verb};
use crate::resources::{
    budget, function_code, http_api, iam_role, lambda_function, lambda_permission, log_group, seed,
    tables, website_bucket, website_upload, Ctx, Mode,
};

/// Everything a verb needs, built by the CLI from flags and `shopsmart.yaml` (or by tests directly).
#[derive(Debug, Clone)]
pub struct StackOptions {
    pub config: Config,
    pub aws: AwsSettings,
    /// The repository root: `function/` is built and `frontend/` uploaded from here.
    pub workspace_root: PathBuf,
    /// A prebuilt Lambda zip instead of building `function/`.
    pub function_zip: Option<PathBuf>,
    /// Reset product stock to the configured values.
    pub reseed: bool,
    /// Extra SDK interceptors (tests count calls or inject faults with them).
    pub interceptors: Vec<SharedInterceptor>,
    /// Let the Free Tier guard pass a configuration that costs money (it still lists what costs).
    pub allow_charges: bool,
}

#[derive(Debug, Clone)]
pub struct UpOutcome {
    pub changes: Vec<Change>,
    pub website_url: String,
    /// `None` only in plan/status when the API does not exist yet.
    pub api_url: Option<String>,
    pub bucket: String,
}

#[derive(Debug, Clone)]
pub struct DestroyOutcome {
    pub changes: Vec<Change>,
}

/// Builds the resource context: SDK clients, then the account id from STS (which also proves the
/// credentials work before anything else is attempted).
pub async fn context(opts: &StackOptions, mode: Mode) -> anyhow::Result<Ctx> {
    let mut settings = opts.aws.clone();
    if settings.region.is_empty() {
        settings.region = opts.config.region.clone();
    }
    let sdk = load_sdk_config(&settings).await;
    let aws = Clients::new(&sdk, &opts.interceptors);
    let identity = aws.sts.get_caller_identity().send().await.context(
        "resolving the AWS account (sts GetCallerIdentity); hint: check your credentials, e.g. `aws sts \
         get-caller-identity`, `aws configure` or `aws sso login`, or pass --profile",
    )?;
    let account_id = identity
        .account()
        .context("sts GetCallerIdentity returned no account id")?
        .to_owned();
    Ok(Ctx {
        aws,
        names: opts.config.names(),
        account_id,
        region: settings.region,
        config: opts.config.clone(),
        mode,
    })
}

/// Waits for every branch before reporting the first error (unlike `try_join!`): a branch cancelled midway
/// could stop between two calls for one resource, e.g. a bucket created but not yet tagged, which the next
/// `up` would then refuse as foreign.
fn all2<A, B>(results: (anyhow::Result<A>, anyhow::Result<B>)) -> anyhow::Result<(A, B)> {
    Ok((results.0?, results.1?))
}

fn all3<A, B, C>(
    results: (anyhow::Result<A>, anyhow::Result<B>, anyhow::Result<C>),
) -> anyhow::Result<(A, B, C)> {
    Ok((results.0?, results.1?, results.2?))
}

fn all4<A, B, C, D>(
    results: (
        anyhow::Result<A>,
        anyhow::Result<B>,
        anyhow::Result<C>,
        anyhow::Result<D>,
    ),
) -> anyhow::Result<(A, B, C, D)> {
    Ok((results.0?, results.1?, results.2?, results.3?))
}

/// Runs one step under a spinner, then reports its changes.
async fn step<T>(
    progress: &Reporter,
    verb: Verb,
    label: &str,
    future: impl std::future::Future<Output = anyhow::Result<T>>,
    changes_of: impl FnOnce(&T) -> Vec<Change>,
) -> anyhow::Result<T> {
    let started = progress.begin(label);
    let value = future.await?;
    progress.end(started, verb, &changes_of(&value));
    Ok(value)
}

fn one(change: &Change) -> Vec<Change> {
    vec![change.clone()]
}

fn emulator_note(ctx: &Ctx, opts: &StackOptions, progress: &Reporter) {
    if ctx.aws.custom_endpoint {
        let endpoint = opts
            .aws
            .endpoint_url
            .clone()
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok());
        progress.note(&format!(
            "note: talking to an emulator at {}, not to AWS",
            endpoint.as_deref().unwrap_or("a custom endpoint")
        ));
    }
}

/// The browser origins the API allows: the website's own plus the configured extras.
pub fn cors_origins(config: &Config, website_url: &str) -> Vec<String> {
    let mut origins = vec![website_url.to_owned()];
    origins.extend(
        config
            .api
            .extra_cors_origins
            .iter()
            .filter(|o| o.as_str() != website_url)
            .cloned(),
    );
    origins
}

/// The function's environment: table names and the allowed origins.
pub fn function_environment(ctx: &Ctx, cors_origins: &[String]) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = TableKind::ALL
        .iter()
        .map(|kind| (kind.env_var().to_owned(), ctx.names.table(*kind)))
        .collect();
    env.insert("CORS_ORIGINS".into(), cors_origins.join(","));
    env
}

/// `up` (Mode::Apply) and `plan`/`status` (Mode::Plan) share this walk over the resources.
async fn converge_all(
    opts: &StackOptions,
    ctx: &Ctx,
    verb: Verb,
    progress: &Reporter,
) -> anyhow::Result<UpOutcome> {
    let started = Instant::now();
    emulator_note(ctx, opts, progress);

    // The Free Tier guard reads only, so it runs before the first write of `up` and in `plan`.
    if verb != Verb::Status {
        let findings = freetier::preflight(ctx, opts.allow_charges).await?;
        for finding in &findings {
            progress.note(&format!(
                "warning: accepted with --allow-charges: {finding}"
            ));
        }
    }

    let bucket_name = ctx.names.website_bucket(&ctx.account_id, &ctx.region);
    let site_url = website_url(&bucket_name, &ctx.region);
    let origins = cors_origins(&ctx.config, &site_url);

    let data = async {
        let table_changes = step(
            progress,
            verb,
            "DynamoDB tables",
            tables::converge(ctx),
            Clone::clone,
        )
        .await?;
        let seed_changes = step(
            progress,
            verb,
            "product catalogue",
            seed::converge(ctx, opts.reseed),
            Clone::clone,
        )
        .await?;
        anyhow::Ok([table_changes, seed_changes].concat())
    };

    let compute = async {
        let config = ctx.config.clone();
        let root = opts.workspace_root.clone();
        let prebuilt = opts.function_zip.clone();
        // `status` reports what exists without needing a Lambda build toolchain: without --function-zip
        // it does not compare the code.
        let compare_code = verb != Verb::Status || prebuilt.is_some();
        if !compare_code {
            progress.note(
                "note: the function's code is not compared; pass --function-zip PATH to compare it",
            );
        }
        let build = async {
            if !compare_code {
                return Ok(None);
            }
            tokio::task::spawn_blocking(move || {
                function_code::build(&config, &root, prebuilt.as_deref()).map(Some)
            })
            .await
            .context("building the function code (the build task panicked)")?
        };
        let (role, log_group_change, bucket, zip) = all4(tokio::join!(
            step(
                progress,
                verb,
                "IAM role",
                iam_role::converge(ctx),
                |(changes, _)| changes.clone()
            ),
            step(progress, verb, "log group", log_group::converge(ctx), one),
            step(
                progress,
                verb,
                "website bucket",
                website_bucket::converge(ctx),
                |(change, _)| vec![change.clone()]
            ),
            step(progress, verb, "function code", build, |_| Vec::new()),
        ))?;
        let (role_changes, role_arn) = role;
        let desired = lambda_function::DesiredFunction {
            role_arn,
            zip,
            environment: function_environment(ctx, &origins),
        };
        let function_change = step(
            progress,
            verb,
            "Lambda function",
            lambda_function::converge(ctx, &desired),
            one,
        )
        .await?;
        let (api_change, api) = step(
            progress,
            verb,
            "HTTP API",
            http_api::converge(ctx, &origins),
            |(change, _)| vec![change.clone()],
        )
        .await?;
        let api_url = api.as_ref().map(|info| info.endpoint.clone());
        let frontend = opts.workspace_root.join("frontend");
        let (permission_change, upload_change) = all2(tokio::join!(
            step(
                progress,
                verb,
                "invoke permission",
                lambda_permission::converge(ctx, api.as_ref()),
                one
            ),
            step(
                progress,
                verb,
                "website files",
                website_upload::converge(ctx, &frontend, api_url.as_deref()),
                one
            ),
        ))?;
        let mut changes = role_changes;
        changes.extend([
            log_group_change,
            bucket.0,
            function_change,
            api_change,
            permission_change,
            upload_change,
        ]);
        anyhow::Ok((changes, api_url, bucket.1))
    };

    let (data_changes, (compute_changes, api_url, bucket), alert_change) = all3(tokio::join!(
        data,
        compute,
        // Boxed: inline, its future would grow `up`'s past a debug build's 2 MiB test-thread stack.
        Box::pin(budget_step(opts, progress, verb, budget::converge(ctx)))
    ))?;
    let mut changes = [data_changes, compute_changes].concat();
    changes.extend(alert_change);
    let outcome = UpOutcome {
        changes,
        website_url: website_url(&bucket, &ctx.region),
        api_url,
        bucket,
    };
    progress.finish(
        verb,
        started.elapsed(),
        json!({
            "website_url": outcome.website_url,
            "api_url": outcome.api_url.clone().unwrap_or_else(|| "(not created yet)".into()),
            "account": ctx.account_id,
            "region": ctx.region,
        }),
    );
    Ok(outcome)
}

/// The optional zero-spend budget (`alerts.email`) as one step of `up`/`plan`/`status` (`work` =
/// `budget::converge`) or `destroy` (`budget::destroy`). Skipped in `dev`: the local emulator has no billing,
/// and its Budgets API lacks the tagging calls that prove a budget is ours.
async fn budget_step(
    opts: &StackOptions,
    progress: &Reporter,
    verb: Verb,
    work: impl std::future::Future<Output = anyhow::Result<Option<Change>>>,
) -> anyhow::Result<Option<Change>> {
    if opts.aws.emulator_credentials {
        return Ok(None);
    }
    step(progress, verb, "budget alert", work, |change| {
        change.iter().cloned().collect()
    })
    .await
}

/// Converges the whole stack; a second run with nothing changed makes no mutating call.
pub async fn up(opts: &StackOptions, progress: &Reporter) -> anyhow::Result<UpOutcome> {
    let ctx = context(opts, Mode::Apply).await?;
    converge_all(opts, &ctx, Verb::Up, progress).await
}

/// What `up` would do, without any write.
pub async fn plan(opts: &StackOptions, progress: &Reporter) -> anyhow::Result<UpOutcome> {
    let ctx = context(opts, Mode::Plan).await?;
    converge_all(opts, &ctx, Verb::Plan, progress).await
}

/// What exists, what drifted from the config, and the URLs: `plan`'s reading, reported as status.
pub async fn status(opts: &StackOptions, progress: &Reporter) -> anyhow::Result<UpOutcome> {
    let ctx = context(opts, Mode::Plan).await?;
    converge_all(opts, &ctx, Verb::Status, progress).await
}

/// Deletes everything the stack owns, in reverse dependency order. Idempotent.
///
/// A dry run (reads only) goes first: a resource with one of our names but without our tag stops `destroy`
/// before anything is deleted, not half-way through.
pub async fn destroy(opts: &StackOptions, progress: &Reporter) -> anyhow::Result<DestroyOutcome> {
    let started = Instant::now();
    let preview = context(opts, Mode::Plan).await?;
    emulator_note(&preview, opts, progress);
    delete_all(opts, &preview, &Reporter::quiet()).await.context(
        "checking, before deleting anything, that every resource with this stack's names is this stack's; \
         nothing was deleted",
    )?;
    // The same clients and account: only the mode changes (no second SDK load or STS call).
    let ctx = Ctx {
        mode: Mode::Apply,
        ..preview
    };
    let changes = delete_all(opts, &ctx, progress).await?;
    progress.finish(
        Verb::Destroy,
        started.elapsed(),
        json!({ "stack": ctx.names.stack_id(), "region": ctx.region }),
    );
    Ok(DestroyOutcome { changes })
}

/// The walk of `destroy`: deletes in `Mode::Apply`, only reads and reports in `Mode::Plan`.
async fn delete_all(
    opts: &StackOptions,
    ctx: &Ctx,
    progress: &Reporter,
) -> anyhow::Result<Vec<Change>> {
    let verb = Verb::Destroy;
    let resources = async {
        let api = step(progress, verb, "HTTP API", http_api::destroy(ctx), one).await?;
        let permission = step(
            progress,
            verb,
            "invoke permission",
            lambda_permission::destroy(ctx),
            one,
        )
        .await?;
        let function = step(
            progress,
            verb,
            "Lambda function",
            lambda_function::destroy(ctx),
            one,
        )
        .await?;
        let (log_group_change, role_changes, table_changes, bucket) = all4(tokio::join!(
            step(progress, verb, "log group", log_group::destroy(ctx), one),
            step(
                progress,
                verb,
                "IAM role",
                iam_role::destroy(ctx),
                Clone::clone
            ),
            step(
                progress,
                verb,
                "DynamoDB tables",
                tables::destroy(ctx),
                Clone::clone
            ),
            step(
                progress,
                verb,
                "website bucket",
                website_bucket::destroy(ctx),
                one
            ),
        ))?;
        let mut changes = vec![api, permission, function, log_group_change];
        changes.extend(role_changes);
        changes.extend(table_changes);
        changes.push(bucket);
        anyhow::Ok(changes)
    };
    let alert = budget_step(opts, progress, verb, budget::destroy(ctx));
    let (mut changes, alert_change) = all2(tokio::join!(Box::pin(resources), Box::pin(alert)))?;
    changes.extend(alert_change);
    Ok(changes)
}
