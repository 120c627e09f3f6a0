//! `permissions` covers what the verbs really send. Every AWS operation recorded (CallLog) over a cold `up`,
//! a no-op `up`, `plan`, `status`, `logs`, `outputs`, `orders`, `diagram` and `destroy` against moto, with
//! alerts off and on (then through budget.rs's stand-in for the Budgets calls moto lacks, and with an `up`
//! that changes the email), must be in `permissions::OPERATIONS`, and each of its IAM actions must be
//! allowed, on the resource the operation acts on (IAM wildcard matching), by the policy
//! `shopsmart-deploy permissions --output json` prints. `doctor` against moto names the emulator and skips the permission check moto cannot answer.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_smithy_runtime_api::client::http::SharedHttpClient;
use serde_json::Value;
use shopsmart_deploy::config::model::Config;
use shopsmart_deploy::permissions::{needed, OPERATIONS};
use shopsmart_deploy::report::Reporter;
use shopsmart_deploy::resources::Mode;
use shopsmart_deploy::stack::{self, StackOptions};
use shopsmart_deploy::{diagram, logs, orders, outputs};

use crate::support::cli::Cli;
use crate::support::*;

/// No other test deploys here.
const REGION: &str = "ap-southeast-2";

/// `*` and `?` as IAM reads them (case-sensitive, as for resources; actions are compared lowercased).
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.chars().next() {
        None => text.is_empty(),
        Some('*') => (0..=text.len())
            .filter(|i| text.is_char_boundary(*i))
            .any(|i| glob(&pattern[1..], &text[i..])),
        Some(c) => {
            text.chars().next().is_some_and(|t| c == '?' || c == t)
                && glob(
                    &pattern[c.len_utf8()..],
                    &text[text.chars().next().unwrap().len_utf8()..],
                )
        }
    }
}

fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Whether an Allow statement of `policy` matches `action` on `resource`.
fn allowed(policy: &Value, action: &str, resource: &str) -> bool {
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .any(|statement| {
            statement["Effect"] == "Allow"
                && strings(&statement["Action"])
                    .iter()
                    .any(|a| glob(&a.to_lowercase(), &action.to_lowercase()))
                && strings(&statement["Resource"])
                    .iter()
                    .any(|r| glob(r, resource))
        })
}

/// The real ARNs `call` acts on for `action`, worked out here from the operation's name rather than taken
/// from the table under test (an action of another service, such as iam:PassRole, acts on that one's).
fn examples(call: &str, action: &str, config: &Config) -> Vec<String> {
    let (stack, region, account) = (
        format!("shopsmart-{}", config.stage),
        REGION,
        MOTO_ACCOUNT_ID,
    );
    let bucket = format!("arn:aws:s3:::{stack}-site-{account}-{region}");
    let group = format!("arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{stack}-api");
    let apis = format!("arn:aws:apigateway:{region}::/apis");
    let operation = call.split_once('.').unwrap().1;
    let one = match (action.split(':').next().unwrap(), operation) {
        ("iam", _) => format!("arn:aws:iam::{account}:role/{stack}-{region}-function-role"),
        ("s3", op) if op.contains("Object") && !op.starts_with("List") => {
            format!("{bucket}/assets/app.js")
        }
        ("s3", _) => bucket,
        ("dynamodb", "ListTables") | ("logs", "DescribeLogGroups") | ("freetier", _) => "*".into(),
        // The Free Tier guard describes every table of the account, in every region.
        ("dynamodb", "DescribeTable") => {
            return vec![
                format!("arn:aws:dynamodb:{region}:{account}:table/{stack}-orders"),
                format!("arn:aws:dynamodb:eu-west-1:{account}:table/someone-elses"),
            ]
        }
        ("dynamodb", _) => format!("arn:aws:dynamodb:{region}:{account}:table/{stack}-orders"),
        ("lambda", _) => format!("arn:aws:lambda:{region}:{account}:function:{stack}-api"),
        ("logs", _) => return vec![format!("{group}:*"), group],
        ("apigateway", "TagResource") => {
            format!("arn:aws:apigateway:{region}::/tags/arn%3Aaws%3Aapigateway")
        }
        ("apigateway", "GetApis" | "CreateApi") => apis,
        ("apigateway", _) => format!("{apis}/a1b2c3/routes/r4d5"),
        ("budgets", _) => format!("arn:aws:budgets::{account}:budget/{stack}-zero-spend"),
        ("cloudfront", "ListDistributions" | "ListOriginAccessControls") => "*".into(),
        ("cloudfront", op) if op.contains("OriginAccessControl") => {
            format!("arn:aws:cloudfront::{account}:origin-access-control/E2OAC")
        }
        ("cloudfront", _) => format!("arn:aws:cloudfront::{account}:distribution/E2DIST"),
        (service, _) => panic!("{call}: no example resource for {service} in this test"),
    };
    vec![one]
}

/// The run sent the operations in `sent` (it did what the test means to record), every recorded operation is
/// in the table, and each of its actions is allowed by the printed policy, unless the table leaves it out of
/// this configuration on purpose (`permissions::needed`: a refusal of it is only a note).
fn assert_covered(calls: &[String], sent: &[&str], policy: &Value, config: &Config) {
    for expected in sent {
        assert!(
            calls.iter().any(|c| c == expected),
            "{expected} not recorded: {calls:?}"
        );
    }
    let calls: BTreeSet<&String> = calls.iter().collect();
    for call in calls {
        let rows: Vec<_> = OPERATIONS.iter().filter(|(op, _, _)| op == call).collect();
        assert!(
            !rows.is_empty(),
            "{call} is sent but missing from permissions::OPERATIONS"
        );
        if !needed(call, config.alerts.is_some()) {
            continue;
        }
        for (_, action, _) in rows.into_iter().filter(|(_, action, _)| !action.is_empty()) {
            for resource in examples(call, action, config) {
                assert!(
                    allowed(policy, action, &resource),
                    "{call} needs {action} on {resource}, which `permissions` does not allow:\n{policy:#}"
                );
            }
        }
    }
}

/// What `shopsmart-deploy permissions --output json` prints for `cli`'s configuration.
fn printed_policy(cli: &Cli) -> Value {
    serde_json::from_str(&cli.ok(&["permissions", "--output", "json"])).expect("a JSON document")
}

/// Every operation a cold `up`, a no-op `up`, `plan`, `status`, `logs`, `outputs`, `orders`, `diagram`'s
/// reads and `destroy` send for `cli`'s configuration; with alerts, through budget.rs's stand-in for the
/// Budgets calls moto lacks, and with an `up` that changes the alert's email.
async fn every_verb(cli: &Cli) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let zip = write_test_zip(dir.path());
    let (mut config, log) = (cli.config(), CallLog::default());
    let mut opts = stack_options(config.clone(), &zip, vec![log.interceptor()], true);
    if config.alerts.is_some() {
        opts.http_client = Some(SharedHttpClient::new(crate::budget::budgets_gaps()));
    }
    let quiet = Reporter::quiet();
    stack::up(&opts, &quiet).await.unwrap();
    stack::up(&opts, &quiet).await.unwrap();
    stack::plan(&opts, &quiet).await.unwrap();
    stack::status(&opts, &quiet).await.unwrap();
    let read = ctx(config.clone(), Mode::Plan, &[log.interceptor()]).await;
    logs::run(&read, Duration::from_secs(600), false, &quiet)
        .await
        .unwrap();
    outputs::collect(&read).await.unwrap();
    orders::run(&read, 10, false, &quiet).await.unwrap();
    let mut facts = diagram::Facts::of(&config, Some(&read.account_id));
    assert!(diagram::read_live(&read, &mut facts).await.unwrap());
    if let Some(alerts) = &mut config.alerts {
        alerts.email = "other@example.com".into();
        let changed = StackOptions {
            config,
            ..opts.clone()
        };
        stack::up(&changed, &quiet).await.unwrap();
    }
    stack::destroy(&opts, &quiet).await.unwrap();
    log.calls()
}

#[tokio::test]
async fn every_operation_the_verbs_send_without_alerts_is_allowed_by_the_printed_policy() {
    let cli = Cli::new(shipped_config())
        .stage(&unique_stage())
        .region(REGION);
    let sent = [
        "Lambda.CreateFunction",
        "S3.DeleteObjects",
        "CloudWatch Logs.FilterLogEvents",
        "DynamoDB.Scan",
        "FreeTier.GetAccountPlanState",
    ];
    let policy = printed_policy(&cli);
    assert_covered(&every_verb(&cli).await, &sent, &policy, &cli.config());
    assert!(!policy.to_string().contains("budgets:"), "{policy:#}");
}

#[tokio::test]
async fn every_operation_the_verbs_send_with_alerts_is_allowed_by_the_printed_policy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shopsmart.yaml");
    let shipped = std::fs::read_to_string(shipped_config()).unwrap();
    std::fs::write(
        &path,
        format!("{shipped}\nalerts:\n  email: me@example.com\n"),
    )
    .unwrap();
    let cli = Cli::new(path).stage(&unique_stage()).region(REGION);
    let sent = [
        "Budgets.CreateBudget",
        "Budgets.UpdateSubscriber",
        "Budgets.DeleteBudget",
    ];
    assert_covered(
        &every_verb(&cli).await,
        &sent,
        &printed_policy(&cli),
        &cli.config(),
    );
}

#[test]
fn permissions_in_text_say_how_to_attach_and_without_credentials_use_a_star_account() {
    let cli = Cli::new(shipped_config())
        .stage(&unique_stage())
        .region(REGION);
    let text = cli.ok(&["permissions"]);
    assert!(
        text.starts_with("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": ["),
        "{text}"
    );
    assert!(
        text.contains(
            "aws iam put-user-policy --user-name YOU --policy-name shopsmart-deploy \
                           --policy-document file://policy.json"
        ),
        "{text}"
    );
    assert!(text.contains("Create inline policy"), "{text}");
    let offline = cli
        .clone()
        .endpoint(&format!("http://127.0.0.1:{}", free_port()));
    let output = offline.run(&["permissions", "--output", "json"]);
    assert!(output.status.success(), "{}", cli::stderr_of(&output));
    let policy: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        policy.to_string().contains("arn:aws:iam::*:role/"),
        "{policy}"
    );
    assert!(cli::stderr_of(&output).contains("uses * for the account id"));
}

#[test]
fn doctor_against_moto_names_the_emulator_and_skips_the_permission_check() {
    let cli = Cli::new(shipped_config())
        .stage(&unique_stage())
        .region(REGION);
    let output = cli.run(&["doctor", "--output", "json"]);
    let report: Value = serde_json::from_slice(&output.stdout).expect("one JSON document");
    assert_eq!(report["emulator"], endpoint());
    let status = |name: &str| {
        let checks = report["checks"].as_array().unwrap();
        checks
            .iter()
            .find(|c| c["check"] == name)
            .map(|c| c["status"].clone())
    };
    assert_eq!(status("region"), Some("ok".into()));
    assert_eq!(status("credentials"), Some("ok".into()));
    assert_eq!(status("permissions"), Some("skipped".into()), "{report:#}");
    let permissions = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "permissions")
        .unwrap();
    assert!(permissions["detail"]
        .as_str()
        .unwrap()
        .starts_with("could not check permissions: "));
    assert!(
        status("cargo-lambda").is_some() && status("zig").is_some() && status("cargo").is_some()
    );
    // The exit code follows the checks: 1 exactly when one is missing (here, perhaps the build tools).
    let missing = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["status"] == "missing");
    assert_eq!(
        output.status.code(),
        Some(if missing { 1 } else { 0 }),
        "{report:#}"
    );
    let text = String::from_utf8(cli.run(&["doctor"]).stdout).unwrap();
    assert!(text.contains("talking to an emulator at"), "{text}");
    assert!(
        text.contains("skipped  permissions: could not check permissions"),
        "{text}"
    );
}
