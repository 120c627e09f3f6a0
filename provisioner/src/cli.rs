//! Command-line flags and verbs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::report::OutputFormat;

#[derive(Debug, Parser)]
#[command(
    name = "shopsmart-deploy",
    version,
    about = "Puts the ShopSmart shop on your AWS account (inside the Free Tier) and takes it away again"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The stack's configuration file.
    #[arg(
        long,
        global = true,
        default_value = "shopsmart.yaml",
        value_name = "PATH"
    )]
    pub config: PathBuf,
    /// Overrides `stage` from the configuration file (e.g. a second copy of the shop).
    #[arg(long, global = true)]
    pub stage: Option<String>,
    /// Overrides `region` from the configuration file.
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// The AWS profile to use (from ~/.aws/config); default: the standard credential chain.
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Talk to an emulator such as moto instead of AWS.
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// How to print results.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// More detail (repeat for even more): AWS SDK logs go to stderr.
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Print only errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or update the whole stack so it matches the configuration.
    Up {
        /// Use this Lambda zip (holding `bootstrap`) instead of building function/.
        #[arg(long, value_name = "PATH")]
        function_zip: Option<PathBuf>,
        /// Reset every product's stock to the value in the configuration.
        #[arg(long)]
        reseed: bool,
        /// Deploy even if the Free Tier guard finds something that costs money.
        #[arg(long)]
        allow_charges: bool,
    },
    /// Show what `up` would change, without changing anything.
    Plan {
        /// Compare against this Lambda zip instead of building function/.
        #[arg(long, value_name = "PATH")]
        function_zip: Option<PathBuf>,
        /// Plan even if the Free Tier guard finds something that costs money.
        #[arg(long)]
        allow_charges: bool,
    },
    /// Delete everything this stack created.
    Destroy {
        /// Do not ask for confirmation (needed when not on a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// Show what exists, what drifted from the configuration, and the URLs.
    Status {
        /// Compare against this Lambda zip instead of building function/.
        #[arg(long, value_name = "PATH")]
        function_zip: Option<PathBuf>,
    },
    /// Run the whole shop on this machine against a local AWS emulator (no AWS account needed).
    Dev {
        /// Port of the website (the URL to open).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Port of the shop's API (the function in local mode).
        #[arg(long, default_value_t = 3000)]
        api_port: u16,
        /// Port of the AWS emulator (moto server) when dev starts it.
        #[arg(long, default_value_t = 5005)]
        emulator_port: u16,
    },
    /// Estimate the monthly bill at a given traffic, split into free, 12-month/credit and billed parts.
    Cost {
        /// API requests per month.
        #[arg(long, default_value_t = 100_000)]
        requests: u64,
    },
    /// Show the function's log events from CloudWatch Logs.
    Logs {
        /// Keep printing new events until Ctrl-C.
        #[arg(short, long)]
        follow: bool,
        /// How far back to start, e.g. 10m, 2h, 1d.
        #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
        since: std::time::Duration,
    },
    /// Print the stack's URLs and resource names (with --output json, for scripts).
    Outputs,
    /// Print a shell completion script, e.g. `shopsmart-deploy completions bash > ~/.local/share/bash-completion/completions/shopsmart-deploy`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}
