//! The binary's body: parse flags, load the configuration, run the verb. Errors go back to `main`, which
//! prints and maps them with [`crate::error::exit`].

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use clap::{CommandFactory, Parser};

use crate::aws::AwsSettings;
use crate::cli::{
    AllowChargesArgs, Cli, Command, CompletionsArgs, CostArgs, DestroyArgs, DevArgs, DiagramArgs,
    DoctorArgs, FunctionZipArgs, GlobalArgs, LogsArgs, OrdersArgs, OutputsArgs, PermissionsArgs,
    PlanArgs, StatusArgs, UpArgs, UsageArgs,
};
use crate::config::model::Config;
use crate::config::{self, Overrides};
use crate::error::UsageError;
use crate::report::Reporter;
use crate::resources::Mode;
use crate::stack::{self, StackOptions};
use crate::{dev, diagram, doctor, freetier, logs, orders, outputs, permissions, usage};

/// Runs the CLI to completion (builds its own tokio runtime); [`crate::error::exit`] turns the result into
/// the exit code.
pub fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::try_parse()?;
    init_logging(cli.global.verbose);
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(execute(cli))?;
    Ok(ExitCode::SUCCESS)
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info,aws_smithy_runtime=warn,aws_config=warn",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Loads the configuration (with `--stage`/`--region` applied) and checks the verb's flags: a verb's share
/// of [`StackOptions`] (`up` also sets `reseed`); the rest comes from the global flags and `shopsmart.yaml`.
fn stack_options(
    global: &GlobalArgs,
    code: FunctionZipArgs,
    charges: AllowChargesArgs,
) -> anyhow::Result<StackOptions> {
    let overrides = Overrides {
        stage: global.stage.clone(),
        region: global.region.clone(),
    };
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let config_path = config::locate(global.config.as_deref(), &cwd)?;
    let config = config::load(&config_path, &overrides)?;
    let function_zip = code.function_zip;
    if let Some(zip) = &function_zip {
        if !zip.is_file() {
            return Err(UsageError(format!(
                "--function-zip {}: no such file; hint: pass the path of a zip that holds the `bootstrap` binary, \
                 or leave the flag out to build function/",
                zip.display()
            ))
            .into());
        }
    }
    Ok(StackOptions {
        aws: AwsSettings {
            region: config.region.clone(),
            profile: global.profile.clone(),
            endpoint_url: global.endpoint_url.clone().filter(|url| !url.is_empty()),
            emulator_credentials: false,
            single_attempt: false,
        },
        workspace_root: config::project_root(&config_path),
        config,
        function_zip,
        reseed: false,
        interceptors: Vec::new(),
        http_client: None,
        allow_charges: charges.allow_charges,
    })
}

/// [`stack_options`] for a verb without flags of its own that go there.
fn config_only(global: &GlobalArgs) -> anyhow::Result<StackOptions> {
    stack_options(global, Default::default(), Default::default())
}

async fn execute(cli: Cli) -> anyhow::Result<()> {
    let Cli { global, command } = cli;
    let progress = Reporter::new(global.output, global.quiet);
    match command {
        Command::Up(args) => up(&global, args, &progress).await,
        Command::Plan(args) => plan(&global, args, &progress).await,
        Command::Destroy(args) => destroy(&global, args, &progress).await,
        Command::Status(args) => status(&global, args, &progress).await,
        // dev prints several JSON documents over time (the deployment, then where the shop runs).
        Command::Dev(args) => dev(&global, args, &progress.json_lines()).await,
        Command::Cost(args) => cost(&global, args, &progress).await,
        Command::Usage(UsageArgs { all }) => {
            let ctx = stack::context(&config_only(&global)?, Mode::Plan).await?;
            usage::run(&ctx, all, &progress).await
        }
        Command::Logs(args) => logs(&global, args, &progress).await,
        Command::Orders(args) => orders(&global, args, &progress).await,
        Command::Diagram(DiagramArgs { format, out }) => {
            diagram::run(&config_only(&global)?, format, out.as_deref(), &progress).await
        }
        Command::Outputs(OutputsArgs {}) => outputs(&global, &progress).await,
        Command::Permissions(PermissionsArgs {}) => {
            permissions::run(&config_only(&global)?, &progress).await
        }
        Command::Doctor(DoctorArgs {}) => doctor::run(&config_only(&global)?, &progress).await,
        Command::Completions(args) => completions(args, &progress),
    }
}

async fn up(global: &GlobalArgs, args: UpArgs, progress: &Reporter) -> anyhow::Result<()> {
    let opts = StackOptions {
        reseed: args.reseed,
        ..stack_options(global, args.code, args.charges)?
    };
    let outcome = stack::up(&opts, progress).await?;
    if let Some(plan) = &outcome.account_plan {
        let idle = freetier::monthly(&opts.config, 0, &freetier::Assumptions::default());
        progress.note(&plan.sentence(&idle, today()));
    }
    progress.note(&format!(
        "next: open the website URL in a browser and shop. `shopsmart-deploy logs --follow` shows the \
         function's log; `shopsmart-deploy destroy` removes stack {} when you are done.",
        opts.config.names().stack_id()
    ));
    Ok(())
}

async fn plan(global: &GlobalArgs, args: PlanArgs, progress: &Reporter) -> anyhow::Result<()> {
    let opts = stack_options(global, args.code, args.charges)?;
    let outcome = stack::plan(&opts, progress).await?;
    if let Some(account) = &outcome.account_tables {
        progress.note(&account.sentence(&opts.config));
    }
    if let Some(plan) = &outcome.account_plan {
        let estimate = freetier::monthly(
            &opts.config,
            SUMMARY_REQUESTS,
            &freetier::Assumptions::default(),
        );
        progress.note(&plan.sentence(&estimate, today()));
    }
    progress.note(&cost_summary(&opts.config));
    if let Some(worst) = freetier::worst_case(&opts.config) {
        progress.note(&worst.sentence());
    }
    let sustains = freetier::capacity::report(&opts.config);
    progress.note(&sustains.render_text(freetier::PriceSheet::current()));
    progress.note("next: `shopsmart-deploy up` makes exactly these changes.");
    Ok(())
}

async fn destroy(
    global: &GlobalArgs,
    args: DestroyArgs,
    progress: &Reporter,
) -> anyhow::Result<()> {
    let opts = config_only(global)?;
    if !args.yes {
        confirm_destroy(&opts, progress)?;
    }
    stack::destroy(&opts, progress).await?;
    progress.note(&format!(
        "stack {} is gone from {}: nothing it created is left to bill you.",
        opts.config.names().stack_id(),
        opts.config.region
    ));
    Ok(())
}

async fn status(global: &GlobalArgs, args: StatusArgs, progress: &Reporter) -> anyhow::Result<()> {
    let opts = stack_options(global, args.code, AllowChargesArgs::default())?;
    stack::status(&opts, progress).await?;
    Ok(())
}

async fn dev(global: &GlobalArgs, args: DevArgs, progress: &Reporter) -> anyhow::Result<()> {
    // On the emulator nothing is billed: the guard still runs and lists what would cost on AWS.
    let charges = AllowChargesArgs {
        allow_charges: true,
    };
    let opts = stack_options(global, FunctionZipArgs::default(), charges)?;
    dev::run(opts, args, progress).await
}

async fn cost(global: &GlobalArgs, args: CostArgs, progress: &Reporter) -> anyhow::Result<()> {
    let mut opts = config_only(global)?;
    // The estimate needs no AWS; the look at the account is a bonus, not worth seconds of retries offline.
    opts.aws.single_attempt = true;
    let config = &opts.config;
    let estimate = freetier::monthly(config, args.requests, &freetier::Assumptions::default());
    let worst = freetier::worst_case(config);
    let sustains = freetier::capacity::report(config);
    let (account, plan) = read_account(&opts, progress).await;
    let mut report = serde_json::to_value(&estimate)?;
    report["worst_case"] = serde_json::to_value(&worst)?;
    report["capacity"] = serde_json::to_value(&sustains)?;
    report["account_tables"] = serde_json::to_value(&account)?;
    report["account_plan"] = serde_json::to_value(&plan)?;
    progress.result(&report, |_| {
        let mut text = estimate.render_text().trim_end().to_owned();
        if let Some(account) = &account {
            text.push_str(&format!("\n{}", account.sentence(config)));
        }
        if let Some(plan) = &plan {
            text.push_str(&format!("\n{}", plan.sentence(&estimate, today())));
        }
        if let Some(worst) = &worst {
            text.push_str(&format!("\n{}", worst.sentence()));
        }
        let prices = freetier::PriceSheet::current();
        text.push_str(&format!("\n\n{}", sustains.render_text(prices)));
        text
    })
}

/// The account's other tables (every region) and its Free Tier plan, both at once, for `cost` (which works
/// offline too): without credentials that work, a note says what was not read, and `None`s. A denial in a
/// region is a warning; a capacity finding (the account over the free 25) is one too: `cost` only reports.
async fn read_account(
    opts: &StackOptions,
    progress: &Reporter,
) -> (
    Option<freetier::AccountTables>,
    Option<freetier::AccountPlan>,
) {
    let ctx = match stack::context(opts, Mode::Plan).await {
        Ok(ctx) => ctx,
        Err(error) => {
            progress.note(&format!(
                "note: the account was not read, so its other DynamoDB tables are not counted (the free 25 RCU / \
                 25 WCU are shared by all of them, every region) and its Free Tier plan is unknown (the figures \
                 are list prices): {}",
                crate::error::chain(&error)
            ));
            return (None, None);
        }
    };
    let (account, plan) = tokio::join!(
        freetier::guard::account_tables(&ctx),
        freetier::AccountPlan::read(&ctx)
    );
    for warning in &account.warnings {
        progress.note(&format!("warning: {warning}"));
    }
    let capacity = [
        freetier::FindingKind::ReadCapacityOverFree,
        freetier::FindingKind::WriteCapacityOverFree,
    ];
    for finding in freetier::evaluate(&ctx.config, &account.tables)
        .iter()
        .filter(|finding| capacity.contains(&finding.kind))
    {
        progress.note(&format!("warning: {finding}"));
    }
    (Some(account), Some(plan))
}

async fn logs(global: &GlobalArgs, args: LogsArgs, progress: &Reporter) -> anyhow::Result<()> {
    let ctx = stack::context(&config_only(global)?, Mode::Plan).await?;
    logs::run(&ctx, args.since, args.follow, progress).await
}

async fn orders(global: &GlobalArgs, args: OrdersArgs, progress: &Reporter) -> anyhow::Result<()> {
    let ctx = stack::context(&config_only(global)?, Mode::Plan).await?;
    orders::run(&ctx, args.last.into(), args.follow, progress).await
}

async fn outputs(global: &GlobalArgs, progress: &Reporter) -> anyhow::Result<()> {
    let ctx = stack::context(&config_only(global)?, Mode::Plan).await?;
    let outputs = outputs::collect(&ctx).await?;
    progress.result(&outputs, outputs::render_text)
}

fn completions(args: CompletionsArgs, progress: &Reporter) -> anyhow::Result<()> {
    // Generated into memory first: clap_complete panics on a write error such as a closed pipe.
    let mut script = Vec::new();
    clap_complete::generate(
        args.shell,
        &mut Cli::command(),
        "shopsmart-deploy",
        &mut script,
    );
    progress.verbatim(String::from_utf8_lossy(&script).trim_end())
}

/// The traffic `plan`'s cost lines assume.
const SUMMARY_REQUESTS: u64 = 100_000;

/// Today (UTC), from which the Free plan's credits are counted.
fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// The one-line cost summary `plan` ends with.
fn cost_summary(config: &Config) -> String {
    let estimate = freetier::monthly(config, SUMMARY_REQUESTS, &freetier::Assumptions::default());
    format!(
        "cost at {} API requests a month: {} billed ({} covered by the always-free tier, {} by the 12-month \
         offer or sign-up credits); prices as of {}. Details: shopsmart-deploy cost --requests N",
        freetier::money::group_thousands(SUMMARY_REQUESTS),
        freetier::money::format_usd(estimate.total.billed_cents),
        freetier::money::format_usd(estimate.total.always_free_cents),
        freetier::money::format_usd(estimate.total.twelve_month_or_credit_cents),
        estimate.prices_as_of
    )
}

/// On a terminal, asks the learner to type the stack id; elsewhere `--yes` is required.
fn confirm_destroy(opts: &StackOptions, progress: &Reporter) -> anyhow::Result<()> {
    let stack_id = opts.config.names().stack_id();
    if !std::io::stdin().is_terminal() {
        return Err(UsageError(format!(
            "destroy deletes every resource of stack {stack_id} and needs confirmation; stdin is not a terminal, \
             so pass --yes to confirm"
        ))
        .into());
    }
    let answer = progress.ask(&format!(
        "This deletes every resource of stack {stack_id} in {} (tables and their data included).\nType {stack_id} to \
         confirm: ",
        opts.config.region
    ))?;
    if answer.trim() != stack_id {
        return Err(
            UsageError("destroy cancelled: the answer did not match the stack id".into()).into(),
        );
    }
    Ok(())
}
