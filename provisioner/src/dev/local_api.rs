//! The shop's API in local mode for `dev`: the same `function/` code, built for this machine and run as a
//! plain HTTP server against the emulator's DynamoDB (in AWS, Lambda runs it behind API Gateway).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::aws::EMULATOR_CREDENTIAL;

use super::ports::{ensure_port_free, wait_until_listening};

pub const FUNCTION_PACKAGE: &str = "shopsmart-function";
const FUNCTION_BINARY: &str = "shopsmart-api";

/// How `dev` builds the function: `cargo build` of the provisioner's package together with the function's,
/// keeping only the function's binary. Cargo resolves dependency features over the packages it is given, so
/// with `-p shopsmart-function` alone it would compile the HTTP stack, the DynamoDB client and aws-config a
/// second time with the function's smaller feature set (about 20 crates, over a minute on 2 cores, on a
/// fresh clone's first `dev`). With both packages the features are those of `cargo run -p
/// shopsmart-deploy` and of `tests/run`'s `cargo build --workspace --bins`: the build is already done.
pub const BUILD_ARGS: [&str; 7] = [
    "build",
    "-p",
    PROVISIONER_PACKAGE,
    "-p",
    FUNCTION_PACKAGE,
    "--bin",
    FUNCTION_BINARY,
];

const PROVISIONER_PACKAGE: &str = "shopsmart-deploy";

/// [`BUILD_ARGS`] as the learner would type them.
pub fn build_command() -> String {
    format!("cargo {}", BUILD_ARGS.join(" "))
}

/// Builds `function/` for this machine (a debug build: fast to compile, and it only serves one learner)
/// and returns the executable's path, as cargo reports it.
pub fn build_for_this_machine(workspace_root: &Path) -> anyhow::Result<PathBuf> {
    let command = build_command();
    let output =
        std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args(BUILD_ARGS)
            .arg("--message-format=json-render-diagnostics")
            .current_dir(workspace_root)
            .stderr(Stdio::inherit())
            .output()
            .with_context(|| format!("running {command}; hint: install Rust from rustup.rs"))?;
    if !output.status.success() {
        bail!(
            "{command} failed ({}); the compiler's messages are above",
            output.status
        );
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| {
            message["reason"] == "compiler-artifact" && message["target"]["name"] == FUNCTION_BINARY
        })
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .with_context(|| format!("{command} reported no {FUNCTION_BINARY} executable"))
}

/// The running local API; stopped when dropped.
pub struct LocalApi {
    child: Child,
    pub url: String,
    requests: Arc<AtomicU64>,
}

pub struct LocalApiSettings<'a> {
    pub binary: &'a Path,
    pub port: u16,
    /// Table names and CORS_ORIGINS, exactly as the deployed function gets them.
    pub environment: &'a BTreeMap<String, String>,
    pub aws_endpoint: &'a str,
    pub region: &'a str,
    pub log_file: &'a Path,
}

impl LocalApi {
    pub async fn start(settings: LocalApiSettings<'_>) -> anyhow::Result<Self> {
        ensure_port_free(settings.port, "--api-port")?;
        let mut child = Command::new(settings.binary)
            .envs(settings.environment)
            .env(
                shopsmart_function::contract::PORT_ENV,
                settings.port.to_string(),
            )
            .env("AWS_ENDPOINT_URL", settings.aws_endpoint)
            .env("AWS_REGION", settings.region)
            // The emulator's dummy credentials, never the learner's real ones.
            .env("AWS_ACCESS_KEY_ID", EMULATOR_CREDENTIAL)
            .env("AWS_SECRET_ACCESS_KEY", EMULATOR_CREDENTIAL)
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_LAMBDA_RUNTIME_API")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            // Its own process group: a terminal's Ctrl-C reaches only `dev`, which then stops it in order.
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting the local API ({})", settings.binary.display()))?;
        let requests = Arc::new(AtomicU64::new(0));
        // The function logs one "answered" line per request: count them for the live status, keep the log.
        let stderr = child
            .stderr
            .take()
            .context("capturing the local API's log")?;
        let mut log = tokio::fs::File::create(settings.log_file)
            .await
            .with_context(|| format!("creating the API log ({})", settings.log_file.display()))?;
        let counter = requests.clone();
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains("answered") {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                let _ = log.write_all(format!("{line}\n").as_bytes()).await;
            }
        });
        wait_until_listening(settings.port, Duration::from_secs(20), &mut child)
            .await
            .with_context(|| {
                let log = settings.log_file.display();
                format!("starting the local API; its log: {log}")
            })?;
        Ok(Self {
            child,
            url: format!("http://127.0.0.1:{}", settings.port),
            requests,
        })
    }

    pub fn requests_served(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Resolves when the API process exits on its own (it should not while `dev` runs).
    pub async fn exited(&mut self) -> std::io::Result<std::process::ExitStatus> {
        self.child.wait().await
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Every dependency with its features, as cargo resolves them for `cargo build` of `selection` (the
    /// workspace's own packages left out: they are what the build compiles anyway).
    fn resolved(selection: &[&str]) -> BTreeSet<String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let output =
            std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
                .args(["tree", "--locked", "-e", "normal,build", "--prefix", "none"])
                .args(["-f", "{p} {f}"])
                .args(selection)
                .current_dir(root)
                .output()
                .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .filter(|line| !line.is_empty() && !line.starts_with("shopsmart-"))
            .map(|line| line.trim_end_matches(" (*)").to_owned())
            .collect()
    }

    #[test]
    fn the_function_builds_with_the_dependency_features_of_cargo_run() {
        // The package selection of BUILD_ARGS (`--bin` chooses a target, not features).
        let selection = &BUILD_ARGS[1..5];
        assert_eq!(selection.first(), Some(&"-p"));
        let dev = resolved(selection);
        let cargo_run = resolved(&["-p", PROVISIONER_PACKAGE]);
        let only_in_dev: Vec<_> = dev.difference(&cargo_run).collect();
        let only_in_run: Vec<_> = cargo_run.difference(&dev).collect();
        assert!(
            only_in_dev.is_empty() && only_in_run.is_empty(),
            "dev's function build resolves other features than `cargo run -p {PROVISIONER_PACKAGE}`, so it \
             would compile these again:\nonly in dev's: {only_in_dev:#?}\nonly in cargo run's: {only_in_run:#?}"
        );
        assert!(cargo_run.iter().any(|line| line.starts_with("aws-config ")));
    }
}
