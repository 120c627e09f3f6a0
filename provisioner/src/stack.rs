//! The verbs over the whole stack: `up`, `plan`, `destroy`, `status`. Each resource converges through
//! [`resources::driver`]; this file only declares the order, as a graph of steps that each name what they
//! need ([`graph`]). Independent steps run in parallel:
//!
//! ```text
//! up:      DynamoDB tables ─→ product catalogue
//!          IAM role ─→ IAM role policy ─┐
//!          log group ───────────────────┼─→ Lambda function ─→ HTTP API ─┬─→ invoke permission
//!          function code ───────────────┘         │                     └─→ website files
//!          website bucket ────────────────────────┼──────────────────────↗
//!                                                 └─→ Lambda function active (a new one leaves Pending)
//!          website bucket ─→ budget alert (the bucket carries its mark first; without `alerts` it is looked
//!                         for only when the bucket is marked, after the CloudFront step; not in dev)
//!          website.https: origin access control ─→ CloudFront distribution (also needs the HTTP API)
//!                         ─→ website bucket (its policy names the distribution)
//!          without https: website bucket + website files ─→ CloudFront distribution (removes one an earlier
//!                         `up` made, with its OAC, only when the bucket says one may exist)
//! destroy: CloudFront distribution → (HTTP API → invoke permission → Lambda function → (log group ∥ IAM role
//!          ∥ DynamoDB tables ∥ website bucket)) ∥ origin access control ∥ (budget alert → website bucket:
//!          the bucket's mark outlives the budget; without `alerts` the budget is looked for only when marked)
//! ```
//! Table ARNs (for the role's policy) and the function ARN follow from names, so the role does not wait for
//! the tables, nor the HTTP API's integration for anything but the function.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Instant;

use anyhow::Context;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;
use futures::future::{join_all, try_join_all};
use serde_json::{json, Value};

use crate::aws::{load_sdk_config, AwsSettings, Clients};
use crate::aws_error::AwsContext;
use crate::change::{Action, Change};
use crate::config::model::Config;
use crate::console_links::Links;
use crate::error::UsageError;
use crate::freetier;
use crate::graph::{self, Keep, Step};
use crate::names::{website_url, TableKind};
use crate::report::{Reporter, Verb};
use crate::resources::budget;
use crate::resources::cdn::{self, CdnInfo, Distribution, OriginAccessControl};
use crate::resources::function_code::{self, FunctionZip};
use crate::resources::http_api::{ApiInfo, HttpApi};
use crate::resources::iam_role::{Role, RolePolicy};
use crate::resources::lambda_function::{self, DesiredFunction, Function};
use crate::resources::lambda_permission::Permission;
use crate::resources::log_group::LogGroup;
use crate::resources::seed::{self, Product};
use crate::resources::tables::Table;
use crate::resources::website_bucket::{
    bucket_name, untag, untag_cloudfront, Bucket, LiveBucket, BUDGET_TAG,
};
use crate::resources::website_upload::WebsiteFiles;
use crate::resources::{self, Ctx, Mode, Resource};
use crate::smoke;

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
    /// Another HTTP client for the SDK (tests answer what the emulator cannot: `tests/it/support/faults.rs`).
    pub http_client: Option<SharedHttpClient>,
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
    /// The Free Tier guard's count of the account's other tables (`plan`; `up` when it adds capacity).
    pub account_tables: Option<freetier::AccountTables>,
    /// The account's Free Tier plan (`up` and `plan`; not in `dev`, whose emulator has no Free Tier API).
    pub account_plan: Option<freetier::AccountPlan>,
}

#[derive(Debug, Clone)]
pub struct DestroyOutcome {
    pub changes: Vec<Change>,
}

/// Builds the resource context: SDK clients, then the account id from STS (which also proves the
/// credentials work before anything else is attempted).
pub async fn context(opts: &StackOptions, mode: Mode) -> anyhow::Result<Ctx> {
    Ok(context_and_caller(opts, mode).await?.0)
}

/// [`context`], and who the credentials belong to (STS's ARN of the caller).
pub async fn context_and_caller(opts: &StackOptions, mode: Mode) -> anyhow::Result<(Ctx, String)> {
    let mut settings = opts.aws.clone();
    if settings.region.is_empty() {
        settings.region = opts.config.region.clone();
    }
    let mut sdk = load_sdk_config(&settings).await;
    if let Some(client) = &opts.http_client {
        sdk = sdk.into_builder().http_client(client.clone()).build();
    }
    let aws = Clients::new(&sdk, &opts.interceptors);
    let identity = aws.sts.get_caller_identity().send().await.aws_context(|| {
        "resolving the AWS account (sts GetCallerIdentity); hint: check your credentials, e.g. `aws sts \
         get-caller-identity`, `aws configure` or `aws sso login`, or pass --profile"
    })?;
    let caller = identity.arn().unwrap_or_default().to_owned();
    if !caller.is_empty() {
        crate::aws_error::set_caller(&caller);
    }
    let account_id = identity
        .account()
        .context("sts GetCallerIdentity returned no account id")?
        .to_owned();
    let ctx = Ctx {
        aws,
        names: opts.config.names(),
        account_id,
        region: settings.region,
        config: opts.config.clone(),
        mode,
        notes: Default::default(),
        guard_reads: Default::default(),
        buckets: Default::default(),
    };
    Ok((ctx, caller))
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
    env.insert(
        shopsmart_function::contract::CORS_ORIGINS_ENV.into(),
        cors_origins.join(","),
    );
    env
}

/// What steps hand to the steps that need them.
#[derive(Default)]
struct Facts {
    /// `None` for `status` without `--function-zip`: the code is then not compared.
    code: OnceLock<Option<FunctionZip>>,
    /// `None` only in plan before the API exists.
    api: OnceLock<Option<ApiInfo>>,
    /// Whether this run created the function (which is then Pending for a while).
    function_created: OnceLock<bool>,
    /// With `website.https`: the OAC's id and the distribution (`None` in plan before they exist).
    oac: OnceLock<Option<String>>,
    cdn: OnceLock<Option<CdnInfo>>,
    /// The bucket says a distribution of this stack may exist (`LiveBucket::may_have_distribution`).
    cdn_marked: OnceLock<bool>,
    /// The bucket says a budget alert of this stack may exist (`LiveBucket::may_have_budget`).
    budget_marked: OnceLock<bool>,
}

/// A value a step's need has set.
fn fact<T>(cell: &OnceLock<T>) -> &T {
    cell.get().expect("a step runs only after its needs")
}

/// `up`'s graph (and `plan`'s and `status`'s, which only read): the data, the function, the web front.
fn up_steps<'a>(
    opts: &'a StackOptions,
    ctx: &'a Ctx,
    verb: Verb,
    facts: &'a Facts,
) -> Vec<Step<'a>> {
    let mut steps = data_steps(opts, ctx);
    steps.extend(function_steps(opts, ctx, verb, facts));
    steps.extend(web_steps(opts, ctx, facts));
    steps.extend(cdn_steps(ctx, facts));
    if has_billing(opts) {
        steps.push(budget_step(ctx, facts));
    }
    steps
}

/// The zero-spend budget. With `alerts` it follows the bucket, which is marked first (`BUDGET_TAG`), so a
/// budget never exists unmarked; its reads start with the run. Without `alerts`, a budget is looked for (and
/// deleted when ours, then the mark goes) only when the bucket is marked: otherwise no Budgets call at all.
/// It follows the CloudFront step, which may also rewrite the bucket's tags.
fn budget_step<'a>(ctx: &'a Ctx, facts: &'a Facts) -> Step<'a> {
    if ctx.config.alerts.is_some() {
        let budget = budget::ZeroSpendBudget::new(ctx);
        return Step::read_ahead(
            "budget alert",
            &["website bucket"],
            Keep::Always,
            async move { budget.read(ctx).await },
            move |read| async move { Ok(vec![budget::converge_from(ctx, read).await?]) },
        );
    }
    Step::new(
        "budget alert",
        &["website bucket", "CloudFront distribution"],
        move || async move {
            if !fact(&facts.budget_marked) {
                return Ok(Vec::new());
            }
            let removed = match budget::remove_left_over(ctx).await? {
                budget::LeftOver::Refused => return Ok(Vec::new()),
                budget::LeftOver::Looked(removed) => removed,
            };
            let untagged = match ctx.mode {
                Mode::Apply => untag(ctx, &bucket_name(ctx), BUDGET_TAG).await?,
                Mode::Plan => None,
            };
            Ok([removed, untagged].into_iter().flatten().collect())
        },
    )
}

/// What a [`resource_step`] does to its resource once its needs are done.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Act {
    Converge,
    Delete,
}

/// A step that converges or deletes one resource made from the configuration alone. Its read starts with the
/// run: its needs never change what it reads (see [`Keep::Always`]); for `destroy`, what the steps before it
/// delete uses the resource but is no part of it, and the read checks the owner (before anything is deleted).
fn resource_step<'a, R>(
    label: &'static str,
    needs: &'static [&'static str],
    ctx: &'a Ctx,
    make: fn(&Ctx) -> R,
    act: Act,
) -> Step<'a>
where
    R: Resource + 'a,
    R::Live: 'static,
{
    Step::read_ahead(
        label,
        needs,
        Keep::Always,
        async move {
            match act {
                Act::Converge => make(ctx).read(ctx).await,
                Act::Delete => resources::read_owned(ctx, &make(ctx)).await,
            }
        },
        move |read| async move {
            let change = match act {
                Act::Converge => change_from(ctx, &make(ctx), read).await?,
                Act::Delete => resources::destroy_from(ctx, &make(ctx), read).await?,
            };
            Ok(vec![change])
        },
    )
}

/// The tables, and the catalogue in the Products table.
fn data_steps<'a>(opts: &'a StackOptions, ctx: &'a Ctx) -> Vec<Step<'a>> {
    vec![
        Step::new("DynamoDB tables", &[], move || async move {
            let tables = TableKind::ALL.map(|kind| Table::desired(ctx, kind));
            all(tables.iter().map(|table| change_of(ctx, table))).await
        }),
        Step::read_ahead(
            "product catalogue",
            &["DynamoDB tables"],
            Keep::IfNeedsUnchanged,
            seed::read_catalogue(ctx),
            move |read| async move {
                let products = match read {
                    Some(live) => Product::from_live(ctx, opts.reseed, live),
                    None => Product::all(ctx, opts.reseed).await?,
                };
                all(products.iter().map(|product| change_of(ctx, product))).await
            },
        ),
    ]
}

/// The role, its policy, the log group, the code, and the function they make.
fn function_steps<'a>(
    opts: &'a StackOptions,
    ctx: &'a Ctx,
    verb: Verb,
    facts: &'a Facts,
) -> Vec<Step<'a>> {
    vec![
        resource_step("IAM role", &[], ctx, Role::new, Act::Converge),
        resource_step(
            "IAM role policy",
            &["IAM role"],
            ctx,
            RolePolicy::new,
            Act::Converge,
        ),
        resource_step("log group", &[], ctx, LogGroup::new, Act::Converge),
        Step::new("function code", &[], move || async move {
            if facts.code.get().is_none() {
                let code = function_code(opts, verb).await?;
                if let Some(zip) = &code {
                    ctx.notes.say(format!("function code: {}", zip.description));
                }
                let _ = facts.code.set(code);
            }
            Ok(Vec::new())
        }),
        Step::read_ahead(
            "Lambda function",
            &["IAM role policy", "log group", "function code"],
            Keep::Always,
            async move { Function::to_delete(ctx).read(ctx).await },
            move |read| async move {
                let desired = DesiredFunction {
                    role_arn: ctx.arns().role(&ctx.names.role()),
                    zip: fact(&facts.code).clone(),
                    environment: function_environment(ctx, &site_origins(ctx)),
                };
                let change = change_from(ctx, &Function::new(ctx, desired), read).await?;
                let created = ctx.mode == Mode::Apply && change.action == Action::Create;
                let _ = facts.function_created.set(created);
                Ok(vec![change])
            },
        ),
        // A new function is Pending for a few seconds; the API, its permission and the website need only its
        // ARN, so they go on meanwhile, and `up` ends once it is Active.
        Step::new(
            "Lambda function active",
            &["Lambda function"],
            move || async move {
                if *fact(&facts.function_created) {
                    lambda_function::wait_active(ctx).await?;
                }
                Ok(Vec::new())
            },
        ),
    ]
}

/// The HTTP API in front of the function, its permission to invoke it, the bucket and the storefront in it.
fn web_steps<'a>(opts: &'a StackOptions, ctx: &'a Ctx, facts: &'a Facts) -> Vec<Step<'a>> {
    vec![
        bucket_step(ctx, facts),
        Step::read_ahead(
            "HTTP API",
            &["Lambda function"],
            Keep::Always,
            async move { HttpApi::new(ctx, &site_origins(ctx))?.read(ctx).await },
            move |read| async move {
                let api = HttpApi::new(ctx, &site_origins(ctx))?;
                let converged = resources::converge_from(ctx, &api, read).await?;
                let _ = facts.api.set(api.info(converged.live.as_ref()));
                Ok(vec![converged.change])
            },
        ),
        Step::read_ahead(
            "invoke permission",
            &["HTTP API"],
            Keep::Always,
            async move { Permission::existing(ctx).read(ctx).await },
            move |read| async move {
                let permission = Permission::new(ctx, fact(&facts.api).as_ref());
                Ok(vec![change_from(ctx, &permission, read).await?])
            },
        ),
        Step::read_ahead(
            "website files",
            &["HTTP API", "website bucket"],
            Keep::Always,
            async move { WebsiteFiles::existing(ctx).read(ctx).await },
            move |read| async move {
                let api_url = config_js_api(ctx, fact(&facts.api).as_ref());
                let frontend = opts.workspace_root.join("frontend");
                let files = WebsiteFiles::new(ctx, &frontend, api_url)?;
                Ok(vec![change_from(ctx, &files, read).await?])
            },
        ),
    ]
}

/// The website bucket; it tells the CloudFront steps whether a distribution of ours may exist.
/// Its read starts with the run: the distribution it follows with `website.https` never changes the bucket.
fn bucket_step<'a>(ctx: &'a Ctx, facts: &'a Facts) -> Step<'a> {
    Step::read_ahead(
        "website bucket",
        bucket_needs(ctx),
        Keep::Always,
        async move { Bucket::new(ctx).read(ctx).await },
        move |read| async move {
            let arn = facts.cdn.get().cloned().flatten().map(|cdn| cdn.arn);
            let bucket = Bucket::new(ctx).behind(arn);
            let converged = resources::converge_from(ctx, &bucket, read).await?;
            let live = converged.live.as_ref();
            let _ = (facts.cdn_marked).set(live.is_some_and(|l| l.may_have_distribution()));
            let _ = (facts.budget_marked).set(live.is_some_and(|l| l.may_have_budget()));
            Ok(vec![converged.change])
        },
    )
}

/// What config.js points the storefront at: `/api` on CloudFront's own address, or the API's URL.
fn config_js_api<'a>(ctx: &Ctx, api: Option<&'a ApiInfo>) -> Option<&'a str> {
    match ctx.config.website.https {
        true => Some(shopsmart_function::contract::CLOUDFRONT_PREFIX),
        false => api.map(|api| api.endpoint.as_str()),
    }
}

/// With `website.https` the bucket's policy names the distribution, so the bucket follows it.
fn bucket_needs(ctx: &Ctx) -> &'static [&'static str] {
    match ctx.config.website.https {
        true => &["CloudFront distribution"],
        false => &[],
    }
}

/// `website.https`: the OAC, then the distribution (which needs the API's address). Without it, a
/// distribution an earlier `up` made is removed with its OAC, once the bucket is the public website again
/// and only when the bucket says one may exist (no CloudFront call otherwise); then the bucket's
/// `shopsmart:cloudfront` tag goes.
fn cdn_steps<'a>(ctx: &'a Ctx, facts: &'a Facts) -> Vec<Step<'a>> {
    if !ctx.config.website.https {
        return vec![Step::new(
            "CloudFront distribution",
            &["website bucket", "website files"],
            move || async move {
                if !fact(&facts.cdn_marked) {
                    return Ok(Vec::new());
                }
                let removed = resources::prune(ctx, &Distribution::existing(ctx)).await?;
                let oac = resources::prune(ctx, &OriginAccessControl::new(ctx)).await?;
                let untagged = match ctx.mode {
                    Mode::Apply => untag_cloudfront(ctx, &bucket_name(ctx)).await?,
                    Mode::Plan => None,
                };
                Ok([removed, oac, untagged].into_iter().flatten().collect())
            },
        )];
    }
    vec![
        Step::new("origin access control", &[], move || async move {
            let oac = OriginAccessControl::new(ctx);
            let converged = resources::converge(ctx, &oac).await?;
            let id = converged
                .live
                .map(|l| l.id)
                .or_else(|| oac.created.get().cloned());
            let _ = facts.oac.set(id);
            Ok(vec![converged.change])
        }),
        // Found by its comment: what the OAC and API steps do never changes that read.
        Step::read_ahead(
            "CloudFront distribution",
            &["origin access control", "HTTP API"],
            Keep::Always,
            async move { Distribution::existing(ctx).read(ctx).await },
            move |read| async move {
                let desired = cdn::Desired {
                    oac_id: fact(&facts.oac).clone(),
                    api_url: fact(&facts.api).as_ref().map(|api| api.endpoint.clone()),
                };
                let distribution = Distribution::new(ctx, desired);
                let converged = resources::converge_from(ctx, &distribution, read).await?;
                let _ = facts.cdn.set(distribution.info(converged.live.as_ref()));
                Ok(vec![converged.change])
            },
        ),
    ]
}

/// The website bucket as `destroy` reads it (and checks its owner), once for the two steps that need it.
type BucketRead = tokio::sync::OnceCell<Option<LiveBucket>>;

async fn bucket_to_delete(ctx: &Ctx, read: &BucketRead) -> anyhow::Result<Option<LiveBucket>> {
    let bucket = || async { resources::read_owned(ctx, &Bucket::to_delete(ctx)).await };
    read.get_or_try_init(bucket).await.cloned()
}

/// `destroy`'s graph: what uses a resource goes before it; every read (and owner check) at once, the deletes
/// in that order once all of them are in. The CloudFront distribution goes first of all: AWS may refuse to
/// delete it (a flat-rate pricing plan holds it until the plan's billing cycle ends), and then nothing else
/// is deleted, so the stack is never left half there (the budget alert, too, stays until it is gone).
fn destroy_steps<'a>(
    opts: &'a StackOptions,
    ctx: &'a Ctx,
    bucket: &'a BucketRead,
) -> Vec<Step<'a>> {
    let after_function = &["Lambda function"];
    let after_cdn = &["CloudFront distribution"];
    let mut steps = vec![
        resource_step("HTTP API", after_cdn, ctx, HttpApi::existing, Act::Delete),
        resource_step(
            "invoke permission",
            &["HTTP API"],
            ctx,
            Permission::to_delete,
            Act::Delete,
        ),
        resource_step(
            "Lambda function",
            &["invoke permission"],
            ctx,
            Function::to_delete,
            Act::Delete,
        ),
        resource_step("log group", after_function, ctx, LogGroup::new, Act::Delete),
        resource_step("IAM role", after_function, ctx, Role::new, Act::Delete),
        Step::read_ahead(
            "DynamoDB tables",
            after_function,
            Keep::Always,
            try_join_all(TableKind::ALL.map(|kind| async move {
                resources::read_owned(ctx, &Table::to_delete(ctx, kind)).await
            })),
            move |read| async move {
                let tables = TableKind::ALL.map(|kind| Table::to_delete(ctx, kind));
                let reads = read.map_or_else(
                    || vec![None; tables.len()],
                    |r| r.into_iter().map(Some).collect(),
                );
                all(tables
                    .iter()
                    .zip(reads)
                    .map(|(table, read)| resources::destroy_from(ctx, table, read)))
                .await
            },
        ),
        // After the budget: its mark on the bucket outlives it.
        Step::read_ahead(
            "website bucket",
            match has_billing(opts) {
                true => &["Lambda function", "budget alert"],
                false => after_function,
            },
            Keep::Always,
            bucket_to_delete(ctx, bucket),
            move |read| async move {
                let bucket = Bucket::to_delete(ctx);
                Ok(vec![resources::destroy_from(ctx, &bucket, read).await?])
            },
        ),
        // Looked for whatever `https` says now (it may have been on for an earlier `up`); reported only when
        // found unless `https` is on.
        cdn_gone("CloudFront distribution", &[], ctx, Distribution::existing),
        cdn_gone(
            "origin access control",
            after_cdn,
            ctx,
            OriginAccessControl::new,
        ),
    ];
    if has_billing(opts) {
        steps.push(budget_gone(ctx, bucket));
    }
    steps
}

/// `destroy`'s step for the budget alert: with `alerts`, like any other resource; without, looked for only
/// when the website bucket says an earlier `up` made one (`None` read: nothing to look for).
fn budget_gone<'a>(ctx: &'a Ctx, bucket: &'a BucketRead) -> Step<'a> {
    Step::read_ahead(
        "budget alert",
        &["CloudFront distribution"],
        Keep::Always,
        budget_to_delete(ctx, bucket),
        move |read| async move {
            let read = match read {
                Some(read) => read,
                None => budget_to_delete(ctx, bucket).await?,
            };
            let gone = match read {
                Some(read) => budget::destroy_from(ctx, read).await?,
                None => None,
            };
            Ok(gone.into_iter().collect())
        },
    )
}

/// The budget `destroy` deletes, read (and its owner checked); `None` when there is nothing to look for.
async fn budget_to_delete(
    ctx: &Ctx,
    bucket: &BucketRead,
) -> anyhow::Result<Option<Option<budget::ObservedBudget>>> {
    let marked = match ctx.config.alerts {
        Some(_) => true,
        None => (bucket_to_delete(ctx, bucket).await?).is_some_and(|b| b.may_have_budget()),
    };
    match marked {
        true => Ok(Some(budget::read_to_delete(ctx).await?)),
        false => Ok(None),
    }
}

/// `destroy`'s step for a CloudFront resource: with `https` on, like any other (absent is "already gone",
/// foreign an error); with it off, deleted only when found and ours, and otherwise not reported.
fn cdn_gone<'a, R>(
    label: &'static str,
    needs: &'static [&'static str],
    ctx: &'a Ctx,
    make: fn(&Ctx) -> R,
) -> Step<'a>
where
    R: Resource + 'a,
    R::Live: 'static,
{
    if ctx.config.website.https {
        return resource_step(label, needs, ctx, make, Act::Delete);
    }
    Step::read_ahead(
        label,
        needs,
        Keep::Always,
        async move { resources::read_if_ours(ctx, &make(ctx)).await },
        move |read| async move {
            let pruned = resources::prune_from(ctx, &make(ctx), read).await?;
            Ok(pruned.into_iter().collect())
        },
    )
}

/// The zero-spend budget is left out in `dev`: the local emulator has no billing, and its Budgets API lacks
/// the tagging calls that prove a budget is ours.
fn has_billing(opts: &StackOptions) -> bool {
    !opts.aws.emulator_credentials
}

/// The shop's address: the distribution's with `website.https`, the bucket's website otherwise.
pub fn site_url(ctx: &Ctx, cdn: Option<&CdnInfo>) -> String {
    match (ctx.config.website.https, cdn) {
        (true, Some(cdn)) => cdn.url(),
        (true, None) => "(CloudFront distribution not created yet)".to_owned(),
        (false, _) => website_url(&bucket_name(ctx), &ctx.region),
    }
}

/// The origins the API allows: the website's and the configured extras.
fn site_origins(ctx: &Ctx) -> Vec<String> {
    cors_origins(&ctx.config, &website_url(&bucket_name(ctx), &ctx.region))
}

async fn change_of<R: Resource>(ctx: &Ctx, resource: &R) -> anyhow::Result<Change> {
    Ok(resources::converge(ctx, resource).await?.change)
}

/// [`change_of`] from what a step read ahead (`None`: read now).
async fn change_from<R: Resource>(
    ctx: &Ctx,
    resource: &R,
    read: Option<Option<R::Live>>,
) -> anyhow::Result<Change> {
    Ok(resources::converge_from(ctx, resource, read).await?.change)
}

/// Every future to completion (none is cancelled half-way), then the first error or all the changes.
async fn all(
    work: impl IntoIterator<Item = impl std::future::Future<Output = anyhow::Result<Change>>>,
) -> anyhow::Result<Vec<Change>> {
    join_all(work).await.into_iter().collect()
}

/// The zip to deploy: built from `function/`, or `--function-zip`. `status` reports what exists without
/// needing a Lambda build toolchain: without `--function-zip` it does not compare the code.
async fn function_code(opts: &StackOptions, verb: Verb) -> anyhow::Result<Option<FunctionZip>> {
    if verb == Verb::Status && opts.function_zip.is_none() {
        return Ok(None);
    }
    let config = opts.config.clone();
    let root = opts.workspace_root.clone();
    let (prebuilt, emulator_only) = (opts.function_zip.clone(), opts.aws.emulator_credentials);
    let built = tokio::task::spawn_blocking(move || {
        function_code::build(&config, &root, prebuilt.as_deref(), emulator_only).map(Some)
    })
    .await
    .context("building the function code (the build task panicked)")?;
    // A `--function-zip` that cannot be read or run is the command line's mistake (exit 2); a failed build
    // of function/ is not.
    match (&opts.function_zip, built) {
        (Some(path), Err(err)) => {
            let why = crate::error::chain(&err);
            Err(UsageError(format!("--function-zip {}: {why}", path.display())).into())
        }
        (_, built) => built,
    }
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
    if verb == Verb::Status && opts.function_zip.is_none() {
        progress.note(
            "note: the function's code is not compared; pass --function-zip PATH to compare it",
        );
    }
    let facts = Facts::default();
    let account_tables = std::cell::OnceCell::new();
    let gate = before_writes(opts, ctx, verb, progress, &facts, &account_tables);
    let steps = up_steps(opts, ctx, verb, &facts);
    // The account's Free Tier plan (one call), for the summary: `plan` asks it beside the steps; `up` only
    // once it changed something (a no-op `up` has nothing new to say about cost, and stays one wave of reads).
    let (changes, plan_read) = tokio::join!(
        ctx.notes
            .relay(progress, graph::run_gated(steps, progress, verb, gate)),
        account_plan(opts, ctx, verb == Verb::Plan)
    );
    let account_tables = account_tables.into_inner().flatten();
    let changes = changes?;
    let account_plan = match plan_read {
        None if verb == Verb::Up => {
            let changed = changes.iter().any(Change::is_mutation);
            account_plan(opts, ctx, changed).await
        }
        read => read,
    };
    let api_url = facts.api.get().cloned().flatten().map(|api| api.endpoint);
    if let (Verb::Up, Some(api_url)) = (verb, &api_url) {
        if ctx.aws.custom_endpoint {
            progress.note(
                "note: not asking the API for a product: an emulator cannot run the function (`shopsmart-deploy \
                 dev` runs it locally and asks it there)",
            );
        } else {
            smoke::check(ctx, api_url, smoke::DEADLINE, progress).await?;
        }
    }
    let bucket = bucket_name(ctx);
    let outcome = UpOutcome {
        changes,
        website_url: site_url(ctx, facts.cdn.get().cloned().flatten().as_ref()),
        api_url,
        bucket,
        account_tables,
        account_plan,
    };
    let api_id = facts.api.get().cloned().flatten().map(|api| api.api_id);
    let details = summary(opts, ctx, verb, &outcome, api_id.as_deref());
    progress.finish(verb, started.elapsed(), details);
    Ok(outcome)
}

/// What must hold before `up`'s first write, run beside the steps' reads (`graph::run_gated`): the Free Tier
/// guard (reads only; in `plan` too; `up` counts the account's other tables only when it would add
/// provisioned capacity; its count goes to `account_tables`) and a `--function-zip` Lambda could run
/// (refused before any write).
async fn before_writes(
    opts: &StackOptions,
    ctx: &Ctx,
    verb: Verb,
    progress: &Reporter,
    facts: &Facts,
    account_tables: &std::cell::OnceCell<Option<freetier::AccountTables>>,
) -> anyhow::Result<()> {
    if verb != Verb::Status {
        let count = match verb {
            Verb::Up => freetier::guard::Count::WhenAddingCapacity,
            _ => freetier::guard::Count::Always,
        };
        let guard = freetier::preflight(ctx, opts.allow_charges, count).await?;
        for warning in guard.account.iter().flat_map(|account| &account.warnings) {
            progress.note(&format!("warning: {warning}"));
        }
        for finding in guard.findings {
            progress.note(&format!(
                "warning: accepted with --allow-charges: {finding}"
            ));
        }
        let _ = account_tables.set(guard.account);
        cloudfront_note(ctx, verb, progress);
    }
    if opts.function_zip.is_some() {
        let _ = facts.code.set(function_code(opts, verb).await?);
    }
    Ok(())
}

/// With `website.https`: not refused by the guard (the always-free allowance covers a learner's shop many
/// times over), but said, since nothing bounds CloudFront's traffic without WAF.
fn cloudfront_note(ctx: &Ctx, verb: Verb, progress: &Reporter) {
    if verb == Verb::Up && ctx.config.website.https {
        let prices = freetier::PriceSheet::current();
        let sentence = freetier::estimate::cloudfront_flood_sentence(prices);
        progress.note(&format!("note: website.https: {sentence}"));
    }
}

/// The account's Free Tier plan for the summaries of `up` and `plan` when `wanted`; never in `dev`.
async fn account_plan(
    opts: &StackOptions,
    ctx: &Ctx,
    wanted: bool,
) -> Option<freetier::AccountPlan> {
    if !wanted || opts.aws.emulator_credentials {
        return None;
    }
    Some(freetier::AccountPlan::read(ctx).await)
}

/// The summary's details: the URLs, and console links (not in `dev`, whose resources live in the emulator):
/// every resource's for `status`, the three a learner opens first for `up`.
fn summary(
    opts: &StackOptions,
    ctx: &Ctx,
    verb: Verb,
    outcome: &UpOutcome,
    api_id: Option<&str>,
) -> Value {
    let mut details = json!({
        "website_url": outcome.website_url,
        "api_url": outcome.api_url.clone().unwrap_or_else(|| "(not created yet)".into()),
        "account": ctx.account_id,
        "region": ctx.region,
    });
    let mut links = Links::new(&ctx.names, &ctx.region, &outcome.bucket, api_id);
    if ctx.config.alerts.is_some() && has_billing(opts) {
        links = links.with_budget(&ctx.names, &ctx.region);
    }
    match verb {
        _ if opts.aws.emulator_credentials => {}
        Verb::Status => details["console_links"] = json!(links),
        Verb::Up => {
            details["open_first"] = json!({
                "website": outcome.website_url,
                "orders_table_items": links.orders_table_items,
                "function_logs": links.log_group,
            })
        }
        _ => {}
    }
    details
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
/// Every resource is read, and its owner checked, before anything is deleted: a resource with one of our
/// names but without our tag stops `destroy` before anything is deleted, not half-way through. The deletes
/// use those reads (made moments before, after the learner confirmed).
pub async fn destroy(opts: &StackOptions, progress: &Reporter) -> anyhow::Result<DestroyOutcome> {
    let started = Instant::now();
    let ctx = context(opts, Mode::Apply).await?;
    emulator_note(&ctx, opts, progress);
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
    let bucket = BucketRead::new();
    let steps = destroy_steps(opts, ctx, &bucket);
    let walk = graph::run_after_reads(
        steps,
        progress,
        Verb::Destroy,
        "checking, before deleting anything, that every resource with this stack's names is this stack's; \
         nothing was deleted",
    );
    ctx.notes.relay(progress, walk).await
}
