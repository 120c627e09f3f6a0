//! Command-line flags and verbs.

use std::path::PathBuf;

use clap::{Arg, Args, Parser, Subcommand};

use crate::diagram::Format;
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
    /// The stack's configuration file [default: the nearest shopsmart.yaml in the current directory or
    /// above it].
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
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
    Up(UpArgs),
    /// Show what `up` would change, without changing anything.
    Plan(PlanArgs),
    /// Delete everything this stack created.
    Destroy(DestroyArgs),
    /// Show what exists, what drifted from the configuration, and the URLs.
    Status(StatusArgs),
    /// Run the whole shop on this machine against a local AWS emulator (no AWS account needed).
    Dev(DevArgs),
    /// Estimate the monthly bill at a given traffic, split into what you pay, what credits or a 12-month offer pay, and what is always free.
    Cost(CostArgs),
    /// Show this month's Free Tier usage of the services the stack uses: used so far and AWS's forecast
    /// against each free allowance, with a bar, and a warning from 80 % forecast.
    ///
    /// Reads AWS's Free Tier API (GetFreeTierUsage; the figures are the whole account's, every region, as AWS
    /// counts the Free Tier, updated about once a day) and, to say whether this stack is deployed, its
    /// function (GetFunction). Needs freetier:GetFreeTierUsage (`shopsmart-deploy permissions`). An emulator
    /// has no Free Tier API.
    Usage(UsageArgs),
    /// Show the function's log events from CloudWatch Logs.
    Logs(LogsArgs),
    /// Show the newest orders from the Orders table (with --follow, new ones as they are placed).
    ///
    /// Reads only. The table has no index by time, so each read is a Scan of at most 4 pages of 50 orders
    /// (200 orders): about 25 RCUs for 200 orders of ~1 KB, 2 RCUs for a shop with 10, never more than 512;
    /// a table with more orders is read in part, and this says so. --follow reads again every 5 s. Works
    /// against `dev` too: pass --endpoint-url http://127.0.0.1:5005 (its emulator).
    Orders(OrdersArgs),
    /// Draw the stack's architecture (live when it exists, else from shopsmart.yaml) as Mermaid or SVG.
    Diagram(DiagramArgs),
    /// Print the stack's URLs and resource names (with --output json, for scripts).
    Outputs(OutputsArgs),
    /// Print the IAM policy your AWS identity needs for this stack, and how to attach it.
    Permissions(PermissionsArgs),
    /// Check credentials, region, build tools and permissions before the first `up`.
    Doctor(DoctorArgs),
    /// Print a shell completion script, e.g. `shopsmart-deploy completions bash > ~/.local/share/bash-completion/completions/shopsmart-deploy`.
    Completions(CompletionsArgs),
}

// The verbs' `Args` structs have no doc comment: it would compete with the variant's above as the
// verb's description in `--help`.

/// `--function-zip`, shared by up, plan and status. Its help is worded for plan and status; `up` rewords it.
#[derive(Debug, Clone, Default, Args)]
pub struct FunctionZipArgs {
    /// Compare against this Lambda zip instead of building function/.
    #[arg(long, value_name = "PATH")]
    pub function_zip: Option<PathBuf>,
}

/// `--allow-charges`, shared by up and plan. Its help is worded for plan; `up` rewords it.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct AllowChargesArgs {
    /// Plan even if the Free Tier guard finds something that costs money.
    #[arg(long)]
    pub allow_charges: bool,
}

/// Rewords the help of the shared flag `id` for one verb. It edits the flag in place: `Command::mut_arg`
/// would move it to the end, which changes the order of flags in shell completions.
fn reword(id: &'static str, help: &'static str) -> impl FnMut(Arg) -> Arg {
    move |arg| {
        if arg.get_id() == id {
            arg.help(help)
        } else {
            arg
        }
    }
}

#[derive(Debug, Clone, Default, Args)]
#[command(
    mut_args(reword(
        "function_zip",
        "Use this Lambda zip (holding `bootstrap`) instead of building function/"
    )),
    mut_args(reword(
        "allow_charges",
        "Deploy even if the Free Tier guard finds something that costs money"
    ))
)]
pub struct UpArgs {
    #[command(flatten)]
    pub code: FunctionZipArgs,
    /// Reset every product's stock to the value in the configuration.
    #[arg(long)]
    pub reseed: bool,
    #[command(flatten)]
    pub charges: AllowChargesArgs,
}

#[derive(Debug, Clone, Default, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub code: FunctionZipArgs,
    #[command(flatten)]
    pub charges: AllowChargesArgs,
}

#[derive(Debug, Clone, Copy, Default, Args)]
pub struct DestroyArgs {
    /// Do not ask for confirmation (needed when not on a terminal).
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Clone, Default, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub code: FunctionZipArgs,
}

#[derive(Debug, Clone, Copy, Args)]
pub struct DevArgs {
    /// Port of the website (the URL to open).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Port of the shop's API (the function in local mode).
    #[arg(long, default_value_t = 3000)]
    pub api_port: u16,
    /// Port of the AWS emulator (moto server) when dev starts it.
    #[arg(long, default_value_t = 5005)]
    pub emulator_port: u16,
    /// Serve the shop as `website.https: true` does, whatever shopsmart.yaml says: site and API on one
    /// origin, the API under /api (as CloudFront serves them).
    #[arg(long)]
    pub https: bool,
}

#[derive(Debug, Clone, Copy, Args)]
pub struct CostArgs {
    /// API requests per month.
    #[arg(long, default_value_t = 100_000)]
    pub requests: u64,
}

#[derive(Debug, Clone, Copy, Default, Args)]
pub struct UsageArgs {
    /// Show every allowance of the account, not only those of the services this stack uses.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Clone, Copy, Args)]
pub struct LogsArgs {
    /// Keep printing new events until Ctrl-C.
    #[arg(short, long)]
    pub follow: bool,
    /// How far back to start, e.g. 10m, 2h, 1d.
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    pub since: std::time::Duration,
}

#[derive(Debug, Clone, Copy, Args)]
pub struct OrdersArgs {
    /// How many of the newest orders to show (at most the 200 one read takes).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=200))]
    pub last: u16,
    /// Keep printing new orders as they are placed (a read every 5 s) until Ctrl-C.
    #[arg(short, long)]
    pub follow: bool,
}

#[derive(Debug, Clone, Args)]
pub struct DiagramArgs {
    /// Mermaid (renders on GitHub and in most Markdown viewers) or a self-contained SVG.
    #[arg(long, value_enum, default_value_t = Format::Mermaid)]
    pub format: Format,
    /// Write the diagram to this file instead of stdout (`--output` is the global text/json switch).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, Default, Args)]
pub struct OutputsArgs {}

#[derive(Debug, Clone, Copy, Default, Args)]
pub struct PermissionsArgs {}

#[derive(Debug, Clone, Copy, Default, Args)]
pub struct DoctorArgs {}

#[derive(Debug, Clone, Copy, Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn shared_flags_are_worded_for_each_verb_and_keep_their_place() {
        let cli = Cli::command();
        let flags = |verb: &str| -> Vec<(String, String)> {
            cli.find_subcommand(verb)
                .unwrap()
                .get_arguments()
                .map(|arg| {
                    let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
                    (arg.get_id().to_string(), help)
                })
                .collect()
        };
        let up = flags("up");
        let ids: Vec<&str> = up.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["function_zip", "reseed", "allow_charges"]);
        assert!(up[0].1.starts_with("Use this Lambda zip"), "{up:?}");
        assert!(up[2].1.starts_with("Deploy even if"), "{up:?}");
        let plan = flags("plan");
        assert!(plan[0].1.starts_with("Compare against"), "{plan:?}");
        assert!(plan[1].1.starts_with("Plan even if"), "{plan:?}");
        assert!(flags("status")[0].1.starts_with("Compare against"));
    }

    #[test]
    fn each_verb_parses_into_its_own_flags() {
        let args = "shopsmart-deploy up --function-zip f.zip --reseed --stage two";
        let cli = Cli::try_parse_from(args.split(' ')).unwrap();
        let Command::Up(up) = cli.command else {
            panic!("{:?}", cli.command)
        };
        assert_eq!(up.code.function_zip, Some(PathBuf::from("f.zip")));
        assert!(up.reseed);
        assert!(!up.charges.allow_charges);
        assert_eq!(cli.global.stage.as_deref(), Some("two"));
    }
}
