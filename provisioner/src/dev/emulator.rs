//! The local AWS emulator for `dev`: moto server, installed on first use into a virtualenv under the
//! project's ignored cache directory, started on a loopback port and stopped with `dev`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context};
use tokio::process::{Child, Command};

use crate::report::Reporter;

use super::ports::{ensure_port_free, wait_until_listening};

/// The moto version the tests and `dev` are known to work with.
pub const MOTO_REQUIREMENT: &str = "moto[server]==5.2.1";

/// Returns the `moto_server` executable, installing moto into `<cache>/venv` when it is missing.
pub async fn ensure_installed(cache_dir: &Path, progress: &Reporter) -> anyhow::Result<PathBuf> {
    let venv = cache_dir.join("venv");
    let moto = venv.join("bin").join("moto_server");
    if moto.is_file() {
        return Ok(moto);
    }
    progress.note(&format!(
        "Installing the AWS emulator ({MOTO_REQUIREMENT}) into {} — first run only, about a minute. \
         moto answers the same API calls as AWS, so the shop runs here with no AWS account.",
        venv.display()
    ));
    run_step(
        Command::new("python3").arg("-m").arg("venv").arg(&venv),
        "creating a Python virtualenv",
    )
    .await?;
    run_step(
        Command::new(venv.join("bin").join("pip")).args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            MOTO_REQUIREMENT,
        ]),
        "installing moto server with pip",
    )
    .await?;
    if !moto.is_file() {
        bail!(
            "pip installed moto but {} is missing; delete {} and run dev again",
            moto.display(),
            venv.display()
        );
    }
    Ok(moto)
}

async fn run_step(command: &mut Command, what: &str) -> anyhow::Result<()> {
    let status = command.status().await.with_context(|| {
        format!("{what}: could not start it; hint: install Python 3 with venv and pip")
    })?;
    if !status.success() {
        bail!("{what} failed ({status}); hint: check that this machine reaches PyPI, or pass --endpoint-url to use an emulator you already run");
    }
    Ok(())
}

/// A running moto server, stopped when dropped.
pub struct Emulator {
    child: Child,
    pub endpoint: String,
}

impl Emulator {
    pub async fn start(moto_server: &Path, port: u16, log_file: &Path) -> anyhow::Result<Self> {
        ensure_port_free(port, "--emulator-port")?;
        let log = std::fs::File::create(log_file)
            .with_context(|| format!("creating the emulator log ({})", log_file.display()))?;
        let child = Command::new(moto_server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("sharing the emulator log file")?)
            .stderr(log)
            .kill_on_drop(true)
            // Its own process group: a terminal's Ctrl-C reaches only `dev`, which then stops it in order.
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting moto server ({})", moto_server.display()))?;
        let mut emulator = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        wait_until_listening(port, Duration::from_secs(30), &mut emulator.child)
            .await
            .with_context(|| {
                let log = log_file.display();
                format!("waiting for moto server to listen; its log: {log}")
            })?;
        Ok(emulator)
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
