//! `shopsmart-api`: a Lambda when AWS_LAMBDA_RUNTIME_API is set, else a local HTTP server.

use std::process::ExitCode;

use shopsmart_function::local_mode::{self, ConfigError};
use shopsmart_function::{app, logging, AppState};

#[tokio::main]
async fn main() -> ExitCode {
    let in_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    if in_lambda {
        logging::init_lambda_logging();
    } else {
        logging::init_local_logging();
    }
    match run(in_lambda).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err)
            if err.is::<ConfigError>()
                || err.is::<shopsmart_function::state::MissingTableVariable>() =>
        {
            eprintln!("shopsmart-api: {err}");
            ExitCode::from(2)
        }
        Err(err) => {
            eprintln!("shopsmart-api: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(in_lambda: bool) -> anyhow::Result<()> {
    let sdk_config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let state = AppState::from_env(&sdk_config)?;
    if in_lambda {
        lambda_http::run(app(state))
            .await
            .map_err(|err| anyhow::anyhow!(err))
    } else {
        let port = local_mode::port_from_env()?;
        let origins = local_mode::cors_origins_from_env()?;
        local_mode::serve(app(state), port, origins).await
    }
}
