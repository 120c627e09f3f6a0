//! The `shopsmart-deploy` binary as the tests run it: the one place that builds its command line and reads
//! what it printed. Every test that runs the binary goes through `Cli`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use shopsmart_deploy::config::{self, model::Config, Overrides};

/// The binary pointed at a configuration file and, when set, a stage and a region:
/// `shopsmart-deploy ARGS --config FILE [--stage STAGE] [--region REGION]`, talking to moto.
#[derive(Debug, Clone)]
pub struct Cli {
    config_path: PathBuf,
    stage: Option<String>,
    region: Option<String>,
    /// `None`: the moto the tests use (`AWS_ENDPOINT_URL`, required then).
    endpoint: Option<String>,
    /// An access key of a moto account of the test's own; `None`: moto's shared default account.
    access_key_id: Option<String>,
}

impl Cli {
    /// The binary with `--config config_path`, against the moto the tests use (unless `endpoint` says otherwise).
    pub fn new(config_path: impl AsRef<Path>) -> Self {
        Self {
            config_path: config_path.as_ref().to_path_buf(),
            stage: None,
            region: None,
            endpoint: None,
            access_key_id: None,
        }
    }

    /// Talks to moto as `account` (with its access key) instead of moto's shared default account.
    pub fn account(mut self, account: &super::Account) -> Self {
        self.access_key_id = Some(account.access_key_id.clone());
        self
    }

    /// Adds `--stage stage`.
    pub fn stage(mut self, stage: &str) -> Self {
        self.stage = Some(stage.to_owned());
        self
    }

    /// Adds `--region region`.
    pub fn region(mut self, region: &str) -> Self {
        self.region = Some(region.to_owned());
        self
    }

    /// Talks to `url` instead of moto; with a closed port, a test needs no moto.
    pub fn endpoint(mut self, url: &str) -> Self {
        self.endpoint = Some(url.to_owned());
        self
    }

    /// `shopsmart-deploy ARGS --config ... [--stage ...] [--region ...]`. stdin is closed (so `destroy` never
    /// waits for a typed confirmation, whoever runs the tests), the endpoint is passed as `AWS_ENDPOINT_URL`
    /// and the credentials are moto's dummy ones.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = command(args);
        command.arg("--config").arg(&self.config_path);
        if let Some(stage) = &self.stage {
            command.args(["--stage", stage]);
        }
        if let Some(region) = &self.region {
            command.args(["--region", region]);
        }
        let endpoint = self.endpoint.clone().unwrap_or_else(super::endpoint);
        command
            .env("AWS_ENDPOINT_URL", endpoint)
            .env(
                "AWS_ACCESS_KEY_ID",
                self.access_key_id.as_deref().unwrap_or("testing"),
            )
            .env("AWS_SECRET_ACCESS_KEY", "testing");
        command
    }

    /// Runs to the end; everything it printed.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs a verb that must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "shopsmart-deploy {args:?} failed ({}):\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Runs to the end; its exit code and stderr.
    pub fn code_and_stderr(&self, args: &[&str]) -> (Option<i32>, String) {
        let output = self.run(args);
        (output.status.code(), stderr_of(&output))
    }

    /// The configuration exactly as the binary loads it (the file, then --stage and --region).
    pub fn config(&self) -> Config {
        let overrides = Overrides {
            stage: self.stage.clone(),
            region: self.region.clone(),
        };
        config::load(&self.config_path, &overrides).unwrap()
    }
}

/// `shopsmart-deploy ARGS` with stdin closed; `Cli` adds the rest. Alone, for verbs that need no
/// configuration (`completions`).
pub fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_shopsmart-deploy"));
    command.args(args).stdin(Stdio::null());
    command
}

pub fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
