//! Log setup: JSON lines in Lambda (CloudWatch Logs Insights can query fields), readable text locally.
//! `RUST_LOG` overrides the default level (info).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"))
}

pub fn init_lambda_logging() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter())
        .with_current_span(true)
        // CloudWatch stamps every line itself.
        .without_time()
        .with_ansi(false)
        .init();
}

pub fn init_local_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_writer(std::io::stderr)
        // Colors only for a person at a terminal, not for log files or the tools that read them.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
