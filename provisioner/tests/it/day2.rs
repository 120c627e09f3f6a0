//! The learner's day-2 verbs through the BINARY against moto: two stages side by side, `logs` (also
//! `--follow` until Ctrl-C), `outputs`, `cost`, the Free Tier guard, `completions` and `dev` on a busy port.
//! Each test deploys the shipped `shopsmart.yaml` under a unique stage, in a moto account of its own (the
//! guard counts provisioned capacity account-wide, every region), with a tiny prebuilt zip so nothing is
//! compiled.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use shopsmart_deploy::change::Action;
use shopsmart_deploy::config::regions::KNOWN_REGIONS;
use shopsmart_deploy::freetier;
use shopsmart_deploy::names::TableKind;
use shopsmart_deploy::report::Reporter;
use shopsmart_deploy::resources::{Ctx, Mode};
use shopsmart_deploy::stack;

use crate::support::cli::{self, stderr_of, Cli};
use crate::support::*;

const TWO_STAGES_REGION: &str = "eu-west-2";
const LOGS_REGION: &str = "eu-west-3";
const OUTPUTS_REGION: &str = "ca-central-1";
const GUARD_REGION: &str = "sa-east-1";
const COST_REGION: &str = "ap-northeast-2";

/// A stack deployed by the binary: the binary pointed at it (configuration file, stage, region) and the
/// function zip it used.
struct Stage {
    cli: Cli,
    /// A moto account of its own: the Free Tier guard counts the whole account's tables, every region.
    account: Account,
    zip: PathBuf,
    _dir: tempfile::TempDir,
}

impl Stage {
    async fn new(region: &'static str) -> Self {
        Self::with_config(region, shipped_config()).await
    }

    async fn with_config(region: &'static str, config_path: PathBuf) -> Self {
        Self::in_account(region, config_path, Account::new().await)
    }

    /// Another stage of the same configuration in the same account and region.
    fn beside(&self) -> Self {
        let config = self.config();
        Self::in_account(&config.region, config.source, self.account.clone())
    }

    fn in_account(region: &str, config_path: PathBuf, account: Account) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let zip = write_test_zip(dir.path());
        Self {
            cli: Cli::new(config_path)
                .stage(&unique_stage())
                .region(region)
                .account(&account),
            account,
            zip,
            _dir: dir,
        }
    }

    fn up(&self, extra: &[&str]) -> String {
        let mut args = vec!["up", "--function-zip", self.zip.to_str().unwrap()];
        args.extend_from_slice(extra);
        self.ok(&args)
    }

    fn destroy(&self) {
        self.ok(&["destroy", "--yes"]);
    }

    async fn ctx(&self) -> Ctx {
        self.account.ctx(self.config(), Mode::Plan, &[]).await
    }
}

/// `run`, `ok`, `command` and `config` (the configuration exactly as the binary loads it) are the runner's.
impl std::ops::Deref for Stage {
    type Target = Cli;

    fn deref(&self) -> &Cli {
        &self.cli
    }
}

/// The HTTP API's endpoint as AWS reports it (found by name).
async fn api_endpoint(ctx: &Ctx) -> Option<String> {
    let apis = ctx.aws.apigateway.get_apis().send().await.unwrap();
    apis.items()
        .iter()
        .find(|api| api.name() == Some(ctx.names.http_api().as_str()))
        .and_then(|api| api.api_endpoint().map(str::to_owned))
}

#[tokio::test]
async fn destroying_one_stage_leaves_the_other_intact() {
    let a = Stage::new(TWO_STAGES_REGION).await;
    let b = a.beside();
    let first = a.up(&[]);
    assert!(
        first.contains("not asking the API for a product: an emulator cannot run the function"),
        "against moto the check that the shop answers is skipped, and said so: {first}"
    );
    b.up(&[]);
    a.destroy();
    assert_nothing_remains(&a.ctx().await).await;

    // B converges with zero writes: every resource of it is still as configured.
    let log = CallLog::default();
    let opts = stack_options(
        b.config(),
        &b.zip,
        vec![log.interceptor(), b.account.interceptor()],
        false,
    );
    let outcome = stack::up(&opts, &Reporter::quiet()).await.unwrap();
    assert_eq!(log.mutating_calls(), Vec::<String>::new());
    assert!(
        outcome
            .changes
            .iter()
            .all(|change| change.action == Action::Unchanged),
        "{:?}",
        outcome.changes
    );
    assert!(outcome.api_url.is_some());
    b.destroy();
    assert_nothing_remains(&b.ctx().await).await;
}

/// Writes log events into the function's log group, in a stream of their own.
pub(crate) async fn put_events(ctx: &Ctx, stream: &str, messages: &[&str]) {
    let now = shopsmart_deploy::logs::now_ms();
    let mut request = ctx
        .aws
        .logs
        .put_log_events()
        .log_group_name(ctx.names.log_group())
        .log_stream_name(stream);
    for message in messages {
        request = request.log_events(
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(now)
                .message(*message)
                .build()
                .unwrap(),
        );
    }
    request.send().await.unwrap();
}

/// Lines of a child's stdout, delivered through a channel so the test can wait with a deadline.
fn line_reader(stdout: std::process::ChildStdout) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

/// Reads lines until one contains `needle`; panics after `deadline` with what was read.
pub(crate) fn wait_for_line(
    lines: &mpsc::Receiver<String>,
    needle: &str,
    deadline: Duration,
) -> Vec<String> {
    let started = Instant::now();
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_sub(started.elapsed()) {
        match lines.recv_timeout(left) {
            Ok(line) => {
                let found = line.contains(needle);
                seen.push(line);
                if found {
                    return seen;
                }
            }
            Err(_) => break,
        }
    }
    panic!("`{needle}` did not appear within {deadline:?}; read so far:\n{seen:#?}");
}

/// Starts a `--follow` run (stderr dropped) and the reader of its stdout lines.
pub(crate) fn spawn_follower(
    cli: &Cli,
    args: &[&str],
) -> (std::process::Child, mpsc::Receiver<String>) {
    let mut follower = cli
        .command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = line_reader(follower.stdout.take().unwrap());
    (follower, lines)
}

/// Sends `signal` (`-INT` for Ctrl-C, `-TERM`) to a `--follow` run, which must then end with exit 0 within 5 s.
pub(crate) fn stop_follower(follower: &mut std::process::Child, signal: &str) {
    let sent = Command::new("kill")
        .args([signal, &follower.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = follower.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(5) {
            follower.kill().unwrap();
            panic!("--follow did not stop within 5 s of kill {signal}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.success(),
        "--follow ended with {status} after kill {signal}"
    );
}

#[tokio::test]
async fn logs_prints_events_and_follows_new_ones_until_ctrl_c() {
    let stage = Stage::new(LOGS_REGION).await;

    // A stage that was never deployed: exit 1, naming the log group and saying to run `up`.
    let missing = stage.run(&["logs"]);
    assert_eq!(missing.status.code(), Some(1), "{}", stderr_of(&missing));
    let message = stderr_of(&missing);
    assert!(
        message.contains(&stage.config().names().log_group()),
        "{message}"
    );
    assert!(message.contains("shopsmart-deploy up"), "{message}");

    stage.up(&[]);
    let ctx = stage.ctx().await;
    ctx.aws
        .logs
        .create_log_stream()
        .log_group_name(ctx.names.log_group())
        .log_stream_name("2026/11/26/[$LATEST]day2")
        .send()
        .await
        .unwrap();
    let json_line = r#"{"timestamp":"2026-11-26T10:00:00.000Z","level":"INFO","fields":{"message":"answered","status":200},"target":"shopsmart_function"}"#;
    put_events(
        &ctx,
        "2026/11/26/[$LATEST]day2",
        &["START RequestId: 7f3c-day2 Version: $LATEST", json_line],
    )
    .await;

    let printed = stage.ok(&["logs", "--since", "1h"]);
    assert!(
        printed.contains("START RequestId: 7f3c-day2 Version: $LATEST"),
        "{printed}"
    );
    // Pretty-printed: one field per line, indented, instead of the compact line.
    assert!(!printed.contains(json_line), "{printed}");
    assert!(printed.contains("\n    \"level\": \"INFO\","), "{printed}");
    assert!(printed.contains("\n      \"status\": 200"), "{printed}");

    // --follow: a new event written after it started shows up; Ctrl-C ends it with exit 0.
    let (mut follower, lines) = spawn_follower(&stage, &["logs", "--follow", "--since", "1h"]);
    wait_for_line(&lines, "7f3c-day2", Duration::from_secs(20));
    put_events(
        &ctx,
        "2026/11/26/[$LATEST]day2",
        &["END RequestId: 9a1e-followed"],
    )
    .await;
    wait_for_line(&lines, "9a1e-followed", Duration::from_secs(20));
    stop_follower(&mut follower, "-INT");
    stage.destroy();
}

#[tokio::test]
async fn outputs_as_json_name_the_urls_and_resources() {
    let stage = Stage::new(OUTPUTS_REGION).await;
    let before: serde_json::Value =
        serde_json::from_str(&stage.ok(&["outputs", "--output", "json"])).unwrap();
    assert_eq!(before["api_url"], serde_json::Value::Null, "{before:#}");
    let text = stage.ok(&["outputs"]);
    assert!(text.contains("no HTTP API yet"), "{text}");

    stage.up(&[]);
    let ctx = stage.ctx().await;
    let outputs: serde_json::Value =
        serde_json::from_str(&stage.ok(&["outputs", "--output", "json"])).unwrap();
    let names = &ctx.names;
    let bucket = names.website_bucket(&ctx.account_id, &ctx.region);
    assert_eq!(
        outputs["api_url"].as_str(),
        api_endpoint(&ctx).await.as_deref()
    );
    assert!(outputs["api_url"].is_string());
    assert_eq!(outputs["bucket"], bucket.as_str());
    assert_eq!(
        outputs["website_url"],
        shopsmart_deploy::names::website_url(&bucket, &ctx.region).as_str()
    );
    assert_eq!(outputs["function"], names.function().as_str());
    assert_eq!(
        outputs["tables"],
        serde_json::json!({
            "products": names.table(TableKind::Products),
            "carts": names.table(TableKind::Carts),
            "orders": names.table(TableKind::Orders),
        })
    );
    // status needs no Lambda build toolchain: without --function-zip it compares everything but the code.
    let output = stage.run(&["status"]);
    let both = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr_of(&output)
    );
    assert!(output.status.success(), "{both}");
    assert!(
        both.contains("the function's code is not compared"),
        "{both}"
    );
    assert!(both.contains("0 missing, 0 drifted"), "{both}");

    stage.destroy();
}

#[tokio::test]
async fn cost_matches_the_library_and_plan_ends_with_the_summary() {
    let stage = Stage::new(COST_REGION).await;
    let cost: serde_json::Value =
        serde_json::from_str(&stage.ok(&["cost", "--requests", "1000000", "--output", "json"]))
            .unwrap();
    let expected = freetier::monthly(
        &stage.config(),
        1_000_000,
        &freetier::Assumptions::default(),
    );
    assert_eq!(cost["total"], serde_json::to_value(expected.total).unwrap());
    let mut expected_json = serde_json::to_value(&expected).unwrap();
    let worst = freetier::worst_case(&stage.config()).unwrap();
    expected_json["worst_case"] = serde_json::to_value(&worst).unwrap();
    let sustains = freetier::capacity::report(&stage.config());
    expected_json["capacity"] = serde_json::to_value(&sustains).unwrap();
    // The stage's own account has no tables: every commercial region read, nothing in them.
    expected_json["account_tables"] = serde_json::json!({
        "tables": [],
        "regions_read": KNOWN_REGIONS,
        "regions_not_enabled": [],
        "warnings": [],
    });
    // moto has no Free Tier API: the list-price view (freetier_plan.rs answers it through the fault layer).
    expected_json["account_plan"] = serde_json::json!({
        "plan": "unknown",
        "why": "an emulator has no Free Tier API",
    });
    assert_eq!(cost, expected_json);
    assert_eq!(cost["requests_per_month"], 1_000_000);

    let text = stage.ok(&["cost", "--requests", "1000000"]);
    assert!(
        text.contains(&format!("as of {}", expected.prices_as_of)),
        "{text}"
    );
    // The worst case, then what the capacity sustains.
    let sustains_text = sustains.render_text(freetier::PriceSheet::current());
    assert!(
        text.trim_end()
            .ends_with(&format!("{}\n\n{sustains_text}", worst.sentence())),
        "{text}"
    );
    let account_line = format!(
        "provisioned DynamoDB capacity of the whole account ({} regions read): this stack 7 RCU / 6 WCU, no \
         other provisioned table; together 7 of the free 25 RCU and 6 of the free 25 WCU, which all regions \
         share",
        KNOWN_REGIONS.len()
    );
    assert!(text.contains(&account_line), "{text}");
    let unknown_plan =
        "note: the account's Free Tier plan could not be read (an emulator has no Free Tier API)";
    assert!(text.contains(unknown_plan), "{text}");

    let plan = stage.ok(&["plan", "--function-zip", stage.zip.to_str().unwrap()]);
    // It ends with the cost line, the worst case, what the capacity sustains, then what to do next.
    let (before, after) = plan
        .split_once(&sustains_text)
        .unwrap_or_else(|| panic!("no capacity lines in:\n{plan}"));
    let lines: Vec<&str> = before.lines().collect();
    let (cost, flood) = (lines[lines.len() - 2], lines[lines.len() - 1]);
    let next = after.trim();
    assert_eq!(flood, worst.sentence());
    assert!(
        cost.starts_with("cost at 100,000 API requests a month: "),
        "{plan}"
    );
    assert!(
        cost.contains(&format!("prices as of {}", expected.prices_as_of)),
        "{cost}"
    );
    assert_eq!(
        next,
        "next: `shopsmart-deploy up` makes exactly these changes."
    );
    assert!(plan.contains("  + create     Lambda function "), "{plan}");
    assert!(plan.contains(&account_line), "{plan}");
    assert!(plan.contains(unknown_plan), "{plan}");
    // plan wrote nothing.
    assert_nothing_remains(&stage.ctx().await).await;
}

/// A copy of the shipped configuration with on-demand tables, next to a link to the storefront (the
/// binary finds frontend/ beside the configuration file).
fn on_demand_config(dir: &Path) -> PathBuf {
    let shipped = std::fs::read_to_string(shipped_config()).unwrap();
    let start = shipped
        .find("  billing:\n    provisioned:\n")
        .expect("shopsmart.yaml changed its billing block");
    let end = shipped[start..]
        .find("\n\n")
        .map(|at| start + at + 1)
        .expect("a blank line after the billing block");
    let provisioned = &shipped[start..end];
    let path = dir.join("shopsmart.yaml");
    std::fs::write(
        &path,
        shipped.replace(provisioned, "  billing: on_demand\n"),
    )
    .unwrap();
    std::os::unix::fs::symlink(repo_root().join("frontend"), dir.join("frontend")).unwrap();
    path
}

#[tokio::test]
async fn the_guard_refuses_on_demand_tables_before_any_write() {
    let dir = tempfile::tempdir().unwrap();
    let stage = Stage::with_config(GUARD_REGION, on_demand_config(dir.path())).await;
    let refused = stage.run(&["up", "--function-zip", stage.zip.to_str().unwrap()]);
    let message = stderr_of(&refused);
    assert_eq!(refused.status.code(), Some(2), "{message}");
    assert!(message.contains("on-demand"), "{message}");
    assert!(message.contains("a month"), "{message}");
    assert!(message.contains("fix:"), "{message}");
    assert!(message.contains("billing: on_demand"), "{message}");
    assert!(message.contains("--allow-charges"), "{message}");
    assert!(message.contains("nothing was changed"), "{message}");
    let ctx = stage.ctx().await;
    assert_nothing_remains(&ctx).await;

    stage.up(&["--allow-charges"]);
    let table = ctx
        .aws
        .dynamodb
        .describe_table()
        .table_name(ctx.names.table(TableKind::Orders))
        .send()
        .await
        .unwrap();
    let billing = table
        .table()
        .and_then(|t| t.billing_mode_summary())
        .and_then(|summary| summary.billing_mode());
    assert_eq!(
        billing,
        Some(&aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
    );
    stage.destroy();
    assert_nothing_remains(&ctx).await;
}

#[test]
fn completions_print_a_script_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let output = cli::command(&["completions", shell]).output().unwrap();
        assert!(output.status.success(), "{shell}: {}", stderr_of(&output));
        let script = String::from_utf8(output.stdout).unwrap();
        assert!(script.contains("shopsmart-deploy"), "{shell}: {script}");
        // Flags are completed too (fish spells them `-l function-zip`).
        assert!(script.contains("function-zip"), "{shell}: {script}");
    }
}

fn listening(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

#[test]
fn dev_on_a_busy_port_says_which_flag_to_change_and_starts_nothing() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let api_port = free_port();
    let emulator_port = free_port();
    let output = Cli::new(shipped_config()).stage(&unique_stage()).run(&[
        "dev",
        "--endpoint-url",
        &endpoint(),
        "--port",
        &port.to_string(),
        "--api-port",
        &api_port.to_string(),
        "--emulator-port",
        &emulator_port.to_string(),
    ]);
    let message = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(message.contains(&format!("port {port}")), "{message}");
    assert!(message.contains("--port"), "{message}");
    // Nothing was started: no local API, no emulator, and no deployment (it stopped before any build).
    assert!(!listening(api_port));
    assert!(!listening(emulator_port));
    assert!(
        !String::from_utf8_lossy(&output.stdout).contains("created"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

/// `dev` run twice against the same emulator: the second run converges the stack the first one made, and
/// each Ctrl-C (SIGINT) stops everything that run started.
#[test]
fn dev_twice_against_one_emulator_serves_the_shop_and_stops_cleanly() {
    let stage = Cli::new(shipped_config()).stage(&unique_stage());
    for run in 1..=2 {
        let (port, api_port) = (free_port(), free_port());
        let mut dev = stage
            .command(&[
                "dev",
                "--endpoint-url",
                &endpoint(),
                "--port",
                &port.to_string(),
                "--api-port",
                &api_port.to_string(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(dev.stdout.take().unwrap()).lines();
        let started = Instant::now();
        let mut printed = Vec::new();
        while !printed
            .iter()
            .any(|line: &String| line.starts_with("Press Ctrl-C"))
        {
            // The first run may build function/ (cargo) before it provisions.
            assert!(
                started.elapsed() < Duration::from_secs(300),
                "run {run}: {printed:?}"
            );
            printed.push(
                lines
                    .next()
                    .expect("dev exited before it was ready")
                    .unwrap(),
            );
        }
        assert!(
            printed
                .iter()
                .any(|line| line
                    .starts_with("The local API answers: GET /products?limit=1 → 200 in")),
            "dev checks that the shop answers before it prints the URLs: {printed:?}"
        );
        if run == 2 {
            assert!(
                printed.iter().all(|line| !line.contains("+ created")),
                "the second run must find the first run's stack: {printed:?}"
            );
        }
        let index = http_get(port, "/");
        assert!(
            index.starts_with("HTTP/1.1 200") && index.contains("<html"),
            "{index}"
        );
        let products = http_get(api_port, "/products?limit=1");
        assert!(
            products.starts_with("HTTP/1.1 200") && products.contains("\"products\""),
            "{products}"
        );

        let interrupted = Command::new("kill")
            .args(["-INT", &dev.id().to_string()])
            .status()
            .unwrap();
        assert!(interrupted.success());
        let status = dev.wait().unwrap();
        assert!(status.success(), "run {run}: dev exited with {status}");
        assert!(
            !listening(port) && !listening(api_port),
            "run {run} left a server running"
        );
    }
    let destroyed = stage.run(&["destroy", "--yes", "--endpoint-url", &endpoint()]);
    assert!(destroyed.status.success(), "{}", stderr_of(&destroyed));
}

/// A plain HTTP/1.1 GET on 127.0.0.1 (the test needs no HTTP client crate): the whole response as text.
fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// `cost` works without an AWS account (prices are in the binary): when the account cannot be read it still
/// prints the estimate, says what it could not count, and exits 0; JSON says `null` for both account figures.
#[test]
fn cost_without_a_reachable_account_still_estimates() {
    let cli = Cli::new(shipped_config()).endpoint("http://127.0.0.1:9");
    let text = cli.ok(&["cost", "--requests", "1000"]);
    assert!(text.contains("note: the account was not read"), "{text}");
    assert!(text.contains("worst case if flooded"), "{text}");
    let json: serde_json::Value =
        serde_json::from_str(&cli.ok(&["cost", "--output", "json"])).unwrap();
    assert_eq!(json["account_tables"], serde_json::Value::Null);
    assert_eq!(json["account_plan"], serde_json::Value::Null);
    assert_eq!(json["requests_per_month"], 100_000);
}
