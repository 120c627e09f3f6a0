//! `shopsmart-deploy dev`: the whole shop on this machine, with no AWS account.
//!
//! 1. An AWS endpoint: `--endpoint-url` / `AWS_ENDPOINT_URL`, else moto server started here (installed into
//!    `.cache/venv` on first use). Only loopback endpoints are accepted: `dev` never touches a real account.
//! 2. The same convergence as `up` against it: tables, seed, role, log group, function, HTTP API, bucket and
//!    the uploaded website.
//! 3. The function in local mode against the emulator's DynamoDB, and the website served from the objects
//!    in the emulated bucket, on two origins, so CORS works exactly as in AWS.
//! 4. A live status line until Ctrl-C, which stops everything `dev` started.

mod emulator;
mod local_api;
mod ports;
mod website_server;

use std::io::IsTerminal;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};

use crate::names::TableKind;
use crate::report::Reporter;
use crate::resources::website_upload::WebsiteFiles;
use crate::resources::{self, function_code, Mode};
use crate::stack::{self, StackOptions};

use emulator::Emulator;
use local_api::{LocalApi, LocalApiSettings};
use ports::ensure_port_free;
use website_server::Website;

#[derive(Debug, Clone, Copy)]
pub struct DevPorts {
    /// The website (what the learner opens).
    pub website: u16,
    /// The shop's API in local mode.
    pub api: u16,
    /// moto server, when `dev` starts it.
    pub emulator: u16,
}

pub async fn run(
    mut opts: StackOptions,
    ports: DevPorts,
    progress: &Reporter,
) -> anyhow::Result<ExitCode> {
    ensure_port_free(ports.website, "--port")?;
    ensure_port_free(ports.api, "--api-port")?;
    let cache_dir = opts.workspace_root.join(".cache");
    std::fs::create_dir_all(&cache_dir)
        .with_context(|| format!("creating {}", cache_dir.display()))?;

    let configured_endpoint = opts
        .aws
        .endpoint_url
        .clone()
        .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok());
    let (endpoint, emulator) = match configured_endpoint {
        Some(endpoint) => {
            println!("Using the AWS endpoint {endpoint} (from --endpoint-url / AWS_ENDPOINT_URL).");
            (endpoint, None)
        }
        None => {
            let moto_server = emulator::ensure_installed(&cache_dir).await?;
            let emulator = Emulator::start(
                &moto_server,
                ports.emulator,
                &cache_dir.join("dev-moto.log"),
            )
            .await?;
            println!(
                "Started the AWS emulator (moto server) on {}.",
                emulator.endpoint
            );
            (emulator.endpoint.clone(), Some(emulator))
        }
    };
    if !is_loopback_endpoint(&endpoint) {
        bail!(
            "dev only runs against a local emulator, and {endpoint} is not a loopback address; hint: to deploy \
             to AWS use `shopsmart-deploy up`, or point --endpoint-url at an emulator on 127.0.0.1"
        );
    }
    use_emulator_credentials(&mut opts, &endpoint);

    // The Lambda code: moto stores it and never runs it, so the build for this machine serves both roles.
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

    let website_origin = format!("http://127.0.0.1:{}", ports.website);
    if !opts.config.api.extra_cors_origins.contains(&website_origin) {
        opts.config
            .api
            .extra_cors_origins
            .push(website_origin.clone());
    }
    let outcome = stack::up(&opts, progress)
        .await
        .context("provisioning the stack into the emulator")?;

    // The website's config.js must name the API the browser can reach here, not the emulated execute-api host.
    let ctx = stack::context(&opts, Mode::Apply).await?;
    let api_url = format!("http://127.0.0.1:{}", ports.api);
    let files = WebsiteFiles::new(&ctx, &opts.workspace_root.join("frontend"), Some(&api_url))?;
    resources::converge(&ctx, &files)
        .await
        .context("pointing the website's config.js at the local API")?;

    let environment = stack::function_environment(
        &ctx,
        &stack::cors_origins(&opts.config, &outcome.website_url),
    );
    let mut api = LocalApi::start(LocalApiSettings {
        binary: &binary,
        port: ports.api,
        environment: &environment,
        aws_endpoint: &endpoint,
        region: &ctx.region,
        log_file: &cache_dir.join("dev-api.log"),
    })
    .await?;

    let website_requests = Arc::new(AtomicU64::new(0));
    let listener =
        tokio::net::TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, ports.website))
            .await
            .with_context(|| {
                format!(
                    "binding the website port {}; hint: choose another with --port",
                    ports.website
                )
            })?;
    let website = Website {
        s3: ctx.aws.s3.clone(),
        bucket: outcome.bucket.clone(),
        index_document: opts.config.website.index_document.clone(),
        error_document: opts.config.website.error_document.clone(),
        requests: website_requests.clone(),
    };
    let server =
        tokio::spawn(async move { axum::serve(listener, website_server::router(website)).await });

    let names = &ctx.names;
    println!();
    println!(
        "The URLs above are where AWS would serve the shop; the emulator cannot serve them, so dev serves \
         both here instead."
    );
    println!("The shop runs on this machine (stage {}):", names.stage());
    println!("  website: {website_origin}   <- open this in your browser");
    println!("  api: {}", api.url);
    println!(
        "  tables: {} {} {}",
        names.table(TableKind::Products),
        names.table(TableKind::Carts),
        names.table(TableKind::Orders)
    );
    println!("  AWS endpoint: {endpoint}   logs: .cache/dev-api.log");
    println!(
        "The website is served from the objects in bucket {}, exactly as S3 would serve them.",
        outcome.bucket
    );
    println!("Press Ctrl-C to stop; everything dev started stops with it.");

    let result = serve_until_stopped(&mut api, &website_requests).await;
    server.abort();
    api.stop().await;
    if let Some(emulator) = emulator {
        emulator.stop().await;
        println!("Stopped the local API and the emulator; the emulator kept its data in memory, so it is gone.");
    } else {
        println!("Stopped the local API; the stack stays in the emulator at {endpoint}.");
    }
    result.map(|()| ExitCode::SUCCESS)
}

/// Shows the live status until Ctrl-C (or SIGTERM); fails if the local API dies on its own.
async fn serve_until_stopped(
    api: &mut LocalApi,
    website_requests: &AtomicU64,
) -> anyhow::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("listening for SIGTERM")?;
    let on_terminal = std::io::stdout().is_terminal();
    let spinner = on_terminal.then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    });
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut last_reported = (0, 0);
    let mut since_last_line = Duration::ZERO;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = terminate.recv() => break,
            status = api.exited() => {
                if let Some(spinner) = &spinner { spinner.finish_and_clear(); }
                bail!("the local API stopped on its own ({}); see .cache/dev-api.log", status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string()));
            }
            _ = tick.tick() => {
                let counts = (website_requests.load(Ordering::Relaxed), api.requests_served());
                let status = format!("serving: {} website requests, {} API requests (Ctrl-C to stop)", counts.0, counts.1);
                match &spinner {
                    Some(spinner) => spinner.set_message(status),
                    None => {
                        // Not a terminal: a plain line when something changed, at most every 10 s.
                        since_last_line += Duration::from_millis(500);
                        if counts != last_reported && since_last_line >= Duration::from_secs(10) {
                            println!("{status}");
                            last_reported = counts;
                            since_last_line = Duration::ZERO;
                        }
                    }
                }
            }
        }
    }
    if let Some(spinner) = spinner {
        spinner.finish_and_clear();
    }
    println!("Stopping ...");
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
