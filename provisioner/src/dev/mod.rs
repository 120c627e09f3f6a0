//! `shopsmart-deploy dev`: the whole shop on this machine, with no AWS account.
//!
//! 1. An AWS endpoint: `--endpoint-url` / `AWS_ENDPOINT_URL`, else moto server started here (installed into
//!    `.cache/venv` on first use). Only loopback endpoints are accepted: `dev` never touches a real account.
//! 2. The same convergence as `up` against it: tables, seed, role, log group, function, HTTP API, bucket and
//!    the uploaded website.
//! 3. The function in local mode against the emulator's DynamoDB, and the website served from the objects
//!    in the emulated bucket, on two origins, so CORS works exactly as in AWS; with `website.https` (or
//!    `dev --https`) on one origin, the API under `/api`, as CloudFront serves them.
//!    The emulator keeps the CloudFront distribution `up` makes, but cannot serve it.
//! 4. A live status line until Ctrl-C, which stops everything `dev` started.

mod emulator;
mod local_api;
mod ports;
mod website_server;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Serialize;

use crate::cli::DevArgs;
use crate::names::TableKind;
use crate::report::Reporter;
use crate::resources::website_upload::WebsiteFiles;
use crate::resources::{self, function_code, Ctx, Mode};
use crate::smoke;
use crate::stack::{self, StackOptions, UpOutcome};
use shopsmart_function::contract::CLOUDFRONT_PREFIX;

use emulator::Emulator;
use local_api::{LocalApi, LocalApiSettings};
use ports::ensure_port_free;
use website_server::Website;

/// Runs the shop on this machine until Ctrl-C (or SIGTERM), then stops everything it started.
///
/// What it prints goes through `progress`: notes (text only, not with `-q`), the deployment as `up` prints
/// it, then where the shop runs (`Ready`), which shows with `-q` too. With `--output json` the caller
/// passes a reporter that prints JSON Lines: the deployment's document, then `{"event": "ready", ...}`, one
/// line each; the notes and the live request counters are text only.
pub async fn run(
    mut opts: StackOptions,
    flags: DevArgs,
    progress: &Reporter,
) -> anyhow::Result<()> {
    ensure_port_free(flags.port, "--port")?;
    ensure_port_free(flags.api_port, "--api-port")?;
    if flags.https {
        opts.config.website.https = true;
    }
    let cache_dir = opts.workspace_root.join(".cache");
    std::fs::create_dir_all(&cache_dir)
        .with_context(|| format!("creating {}", cache_dir.display()))?;

    let (endpoint, emulator) =
        connect_to_emulator(&opts, flags.emulator_port, &cache_dir, progress).await?;
    use_emulator_credentials(&mut opts, &endpoint);
    let binary = build_function(&mut opts, &cache_dir, progress).await?;
    allow_website_origin(&mut opts, flags.port);
    let (outcome, ctx) = provision(&opts, flags.api_port, progress).await?;

    let environment = stack::function_environment(
        &ctx,
        &stack::cors_origins(&opts.config, &outcome.website_url),
    );
    let mut api = LocalApi::start(LocalApiSettings {
        binary: &binary,
        port: flags.api_port,
        environment: &environment,
        aws_endpoint: &endpoint,
        region: &ctx.region,
        log_file: &cache_dir.join(API_LOG),
    })
    .await?;
    let (server, website_requests, browser_api) =
        start_website(&ctx, &opts, &outcome.bucket, &api.url, flags.port).await?;
    let ready = Ready::new(&ctx, &outcome.bucket, flags.port, &browser_api, &endpoint);
    let result = async {
        // As `up` does on AWS: the URLs are printed once the API answers for a product.
        let url = smoke::products_url(&api.url);
        let answered = smoke::first_answer(&url, smoke::DEADLINE)
            .await
            .with_context(|| {
                let log = cache_dir.join(API_LOG);
                format!(
                    "the local API does not answer; read its log, {}",
                    log.display()
                )
            })?;
        progress.note(&format!(
            "The local API answers: GET /products?limit=1 → 200 in {:.0} ms",
            answered.latency.as_secs_f64() * 1000.0
        ));
        progress.result(&ready, Ready::render_text)?;
        serve_until_stopped(&mut api, &website_requests, progress).await
    }
    .await;
    server.abort();
    api.stop().await;
    if let Some(emulator) = emulator {
        emulator.stop().await;
        progress.note(
            "Stopped the local API and the emulator; the emulator kept its data in memory, so it is gone.",
        );
    } else {
        progress.note(&format!(
            "Stopped the local API; the stack stays in the emulator at {endpoint}."
        ));
    }
    result
}

/// The local API's log, under the cache directory.
const API_LOG: &str = "dev-api.log";

/// The AWS endpoint to use: `--endpoint-url` / `AWS_ENDPOINT_URL`, else a moto server started here (and
/// returned, so that it stops with `dev`). Only loopback endpoints are accepted.
async fn connect_to_emulator(
    opts: &StackOptions,
    emulator_port: u16,
    cache_dir: &Path,
    progress: &Reporter,
) -> anyhow::Result<(String, Option<Emulator>)> {
    let configured_endpoint = opts
        .aws
        .endpoint_url
        .clone()
        .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok());
    let (endpoint, emulator) = match configured_endpoint {
        Some(endpoint) => {
            progress.note(&format!(
                "Using the AWS endpoint {endpoint} (from --endpoint-url / AWS_ENDPOINT_URL)."
            ));
            (endpoint, None)
        }
        None => {
            let moto_server = emulator::ensure_installed(cache_dir, progress).await?;
            let emulator =
                Emulator::start(&moto_server, emulator_port, &cache_dir.join("dev-moto.log"))
                    .await?;
            progress.note(&format!(
                "Started the AWS emulator (moto server) on {}.",
                emulator.endpoint
            ));
            (emulator.endpoint.clone(), Some(emulator))
        }
    };
    if !is_loopback_endpoint(&endpoint) {
        bail!(
            "dev only runs against a local emulator, and {endpoint} is not a loopback address; hint: to deploy \
             to AWS use `shopsmart-deploy up`, or point --endpoint-url at an emulator on 127.0.0.1"
        );
    }
    Ok((endpoint, emulator))
}

/// Builds the shop's API for this machine and returns the executable. The Lambda code is a zip of that same
/// build: moto stores the code and never runs it, so one build serves both roles.
async fn build_function(
    opts: &mut StackOptions,
    cache_dir: &Path,
    progress: &Reporter,
) -> anyhow::Result<PathBuf> {
    progress.note(&format!(
        "Building the shop's API ({}) to run it on this machine ...",
        local_api::build_command()
    ));
    let binary = tokio::task::spawn_blocking({
        let root = opts.workspace_root.clone();
        move || local_api::build_for_this_machine(&root)
    })
    .await
    .context("building the shop's API")??;
    let binary_bytes =
        std::fs::read(&binary).with_context(|| format!("reading {}", binary.display()))?;
    let zip_path = cache_dir.join("dev-function.zip");
    std::fs::write(&zip_path, function_code::zip_bootstrap(&binary_bytes)?)
        .with_context(|| format!("writing {}", zip_path.display()))?;
    opts.function_zip = Some(zip_path);
    Ok(binary)
}

/// The website is served from 127.0.0.1 here, so the API must allow that origin (CORS), as it allows the
/// bucket's website origin in AWS.
fn allow_website_origin(opts: &mut StackOptions, website_port: u16) {
    let website_origin = local_origin(website_port);
    if !opts.config.api.extra_cors_origins.contains(&website_origin) {
        opts.config.api.extra_cors_origins.push(website_origin);
    }
}

fn local_origin(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// The same convergence as `up`, into the emulator; then the website's config.js is pointed at the local API
/// (with `website.https` it already says `/api`, which the website server sends to the local API).
async fn provision(
    opts: &StackOptions,
    api_port: u16,
    progress: &Reporter,
) -> anyhow::Result<(UpOutcome, Ctx)> {
    let outcome = stack::up(opts, progress)
        .await
        .context("provisioning the stack into the emulator")?;
    // The website's config.js must name the API the browser can reach here, not the emulated execute-api host.
    let ctx = stack::context(opts, Mode::Apply).await?;
    if opts.config.website.https {
        return Ok((outcome, ctx));
    }
    let files = WebsiteFiles::new(
        &ctx,
        &opts.workspace_root.join("frontend"),
        Some(&local_origin(api_port)),
    )?;
    resources::converge(&ctx, &files)
        .await
        .context("pointing the website's config.js at the local API")?;
    Ok((outcome, ctx))
}

/// Serves the website from the emulated bucket (and, with `website.https`, `/api/*` to the local API at
/// `api_url`); the server, its request counter, and the API address the browser calls: the API's own
/// origin, or `/api` on the website's (as CloudFront serves it).
async fn start_website(
    ctx: &Ctx,
    opts: &StackOptions,
    bucket: &str,
    api_url: &str,
    port: u16,
) -> anyhow::Result<(WebsiteTask, Arc<AtomicU64>, String)> {
    let https = opts.config.website.https;
    let website = Website {
        s3: ctx.aws.s3.clone(),
        bucket: bucket.to_owned(),
        index_document: opts.config.website.index_document.clone(),
        error_document: opts.config.website.error_document.clone(),
        requests: Arc::new(AtomicU64::new(0)),
        api: https.then(|| website_server::ApiProxy::new(api_url)),
        error_pages: match https {
            true => crate::resources::cdn_config::error_pages(&opts.config),
            false => Vec::new(),
        },
    };
    let requests = website.requests.clone();
    let server = serve_website(website, port).await?;
    let browser_api = match https {
        true => format!("{}{}", local_origin(port), CLOUDFRONT_PREFIX),
        false => api_url.to_owned(),
    };
    Ok((server, requests, browser_api))
}

type WebsiteTask = tokio::task::JoinHandle<std::io::Result<()>>;

/// Serves the website from the objects in the emulated bucket on 127.0.0.1:`port`, in the background.
async fn serve_website(website: Website, port: u16) -> anyhow::Result<WebsiteTask> {
    let listener = tokio::net::TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
        .await
        .with_context(|| {
            format!("binding the website port {port}; hint: choose another with --port")
        })?;
    Ok(tokio::spawn(async move {
        axum::serve(listener, website_server::router(website)).await
    }))
}

/// Where the shop runs, printed once everything is up: a text block for the learner, or one JSON line,
/// `{"event": "ready", ...}`, for a script (which can wait for it before it sends requests).
#[derive(Debug, Serialize)]
struct Ready {
    event: &'static str,
    stage: String,
    website_url: String,
    api_url: String,
    /// Table names by role (products, carts, orders).
    tables: BTreeMap<&'static str, String>,
    bucket: String,
    aws_endpoint: String,
    api_log: String,
}

impl Ready {
    fn new(ctx: &Ctx, bucket: &str, website_port: u16, api_url: &str, endpoint: &str) -> Self {
        Self {
            event: "ready",
            stage: ctx.names.stage().to_owned(),
            website_url: local_origin(website_port),
            api_url: api_url.to_owned(),
            tables: TableKind::ALL
                .iter()
                .map(|kind| (kind.suffix(), ctx.names.table(*kind)))
                .collect(),
            bucket: bucket.to_owned(),
            aws_endpoint: endpoint.to_owned(),
            api_log: format!(".cache/{API_LOG}"),
        }
    }

    fn render_text(&self) -> String {
        let tables: Vec<&str> = TableKind::ALL
            .iter()
            .map(|kind| self.tables[kind.suffix()].as_str())
            .collect();
        [
            String::new(),
            "The URLs above are where AWS would serve the shop; the emulator cannot serve them, so dev serves \
             both here instead."
                .to_owned(),
            format!("The shop runs on this machine (stage {}):", self.stage),
            format!("  website: {}   <- open this in your browser", self.website_url),
            format!("  api: {}", self.api_url),
            format!("  tables: {}", tables.join(" ")),
            format!("  AWS endpoint: {}   logs: {}", self.aws_endpoint, self.api_log),
            format!(
                "The website is served from the objects in bucket {}, exactly as S3 would serve them.",
                self.bucket
            ),
            "Press Ctrl-C to stop; everything dev started stops with it.".to_owned(),
        ]
        .join("\n")
    }
}

/// Shows the live status until Ctrl-C (or SIGTERM); fails if the local API dies on its own.
async fn serve_until_stopped(
    api: &mut LocalApi,
    website_requests: &AtomicU64,
    progress: &Reporter,
) -> anyhow::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("listening for SIGTERM")?;
    let status = |website: u64, api: u64| {
        format!("serving: {website} website requests, {api} API requests (Ctrl-C to stop)")
    };
    let mut live = progress.live(&status(0, 0));
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = terminate.recv() => break,
            exit = api.exited() => {
                drop(live);
                bail!("the local API stopped on its own ({}); see .cache/{API_LOG}", exit.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string()));
            }
            _ = tick.tick() => {
                live.set(&status(website_requests.load(Ordering::Relaxed), api.requests_served()));
            }
        }
    }
    drop(live);
    progress.note("Stopping ...");
    Ok(())
}

/// `dev` sends dummy credentials and no profile: the emulator needs none, and real ones stay private.
fn use_emulator_credentials(opts: &mut StackOptions, endpoint: &str) {
    opts.aws.endpoint_url = Some(endpoint.to_owned());
    opts.aws.profile = None;
    opts.aws.emulator_credentials = true;
}

fn is_loopback_endpoint(endpoint: &str) -> bool {
    let rest = endpoint
        .strip_prefix("http://")
        .or_else(|| endpoint.strip_prefix("https://"))
        .unwrap_or("");
    let host = rest.split(['/', ':']).next().unwrap_or("");
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::is_loopback_endpoint;

    #[test]
    fn only_loopback_endpoints_are_accepted() {
        assert!(is_loopback_endpoint("http://127.0.0.1:5000"));
        assert!(is_loopback_endpoint("http://127.0.0.2"));
        assert!(!is_loopback_endpoint(
            "https://dynamodb.us-east-1.amazonaws.com"
        ));
        assert!(!is_loopback_endpoint("http://10.0.0.1:4566"));
        assert!(!is_loopback_endpoint("127.0.0.1:5000"));
    }
}
