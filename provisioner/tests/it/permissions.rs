//! `permissions` covers what the verbs really send, and nothing they do not. Every AWS operation recorded
//! (CallLog) over a cold `up`, a no-op `up`, `plan`, `status`, `logs`, `outputs`, `orders`, `diagram`,
//! `doctor` and `destroy` against moto, in two configurations (the shipped one: `https` and `alerts` off;
//! and `website.https: true` with `alerts` on, through cdn.rs's CloudFront and budget.rs's Budgets
//! stand-ins for what moto lacks, with an `up` that changes the email), must be in
//! `permissions::OPERATIONS`, and each of its IAM actions must be allowed, on the resource the operation
//! acts on (IAM wildcard matching), by the policy `shopsmart-deploy permissions --output json` prints.
//! AWS's authorization rule is checked too: an action the Service Authorization Reference lists without a
//! resource type (`permissions::NO_RESOURCE_TYPE`, `NO_ARN_YET`) is printed on `"Resource": "*"` exactly.
//! Every row of the table must have been sent by some verb (or say in `NOT_RECORDED` why moto cannot), and
//! with `alerts` off no Budgets call is made at all. `doctor` against moto names the emulator and skips the
//! permission check moto cannot answer.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_smithy_runtime_api::client::http::SharedHttpClient;
use serde_json::Value;
use shopsmart_deploy::config::model::{AlertsConfig, Billing, Config};
use shopsmart_deploy::permissions::{
    needed, only_star, NOT_RECORDED, NO_RESOURCE_TYPE, OPERATIONS,
};
use shopsmart_deploy::report::Reporter;
use shopsmart_deploy::resources::function_code;
use shopsmart_deploy::resources::{Ctx, Mode};
use shopsmart_deploy::stack::{self, StackOptions};
use shopsmart_deploy::{diagram, doctor, logs, orders, outputs, permissions, usage};

use crate::support::cli::Cli;
use crate::support::faults::{ctx_with_faults, Canned, Faults, SeenRequest};
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
/// from the table under test (an action of another service, such as iam:PassRole, acts on that one's). An
/// action AWS authorizes without a resource (the reference's rule) acts on `*`, which only
/// `"Resource": "*"` matches.
fn examples(call: &str, action: &str, config: &Config) -> Vec<String> {
    if only_star(call, action) {
        return vec!["*".into()];
    }
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
        // moto's caller when no access key of its own is used.
        ("iam", "SimulatePrincipalPolicy") => format!("arn:aws:iam::{account}:user/moto"),
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
/// this configuration on purpose (`permissions::needed`: a refusal of it is only a note). Every printed
/// action the reference lists without a resource type is on `*` exactly.
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
    for statement in policy["Statement"].as_array().unwrap() {
        let actions = strings(&statement["Action"]);
        if actions.iter().any(|a| NO_RESOURCE_TYPE.contains(a)) {
            assert_eq!(
                strings(&statement["Resource"]),
                ["*"],
                "an action without a resource type is granted only on \"*\": {statement:#}"
            );
        }
    }
}

/// What `shopsmart-deploy permissions --output json` prints for `cli`'s configuration.
fn printed_policy(cli: &Cli) -> Value {
    serde_json::from_str(&cli.ok(&["permissions", "--output", "json"])).expect("a JSON document")
}

/// The stand-ins `config` needs for what moto lacks: CloudFront's (cdn.rs) with `https`, Budgets'
/// (budget.rs) with `alerts`; and API Gateway's UpdateStage, which moto 5.2.1 does not implement (HTTP
/// 500), answered as AWS documents it (200 and the stage; its fields are not read). Everything else goes
/// to moto.
fn stand_ins(config: &Config) -> Faults {
    let faults = match config.website.https {
        true => crate::cdn::cloudfront_faults(),
        false => Faults::new(),
    };
    let update_stage = |r: &SeenRequest, _: &[SeenRequest]| {
        r.method == "PATCH" && r.path.starts_with("/v2/apis/") && r.path.contains("/stages/")
    };
    let stage = serde_json::json!({ "stageName": "$default", "autoDeploy": true });
    faults.inject(usize::MAX, update_stage, Canned::rest_json_ok(stage));
    if config.alerts.is_some() {
        crate::budget::add_budgets_gaps(&faults);
    }
    faults
}

/// A day-2 configuration: every setting `up` converges changed (the function's memory and reserved
/// concurrency, log retention, the API's throttle and CORS origins, a table's capacity, a product's price,
/// a tag's value), with new function code.
fn changed(config: &Config, dir: &std::path::Path) -> (Config, std::path::PathBuf) {
    let mut config = config.clone();
    config.function.memory_mb += 128;
    config.function.reserved_concurrency = Some(2);
    config.function.log_retention_days = Some(14);
    if let Some(throttle) = &mut config.api.throttle {
        throttle.burst += 1;
    }
    config
        .api
        .extra_cors_origins
        .push("http://localhost:5173".into());
    if let Billing::Provisioned { products, .. } = &mut config.tables.billing {
        products.read += 1;
    }
    config.products[0].price_cents += 100;
    config.tags.insert("purpose".into(), "day-two".into());
    let zip = dir.join("function-v2.zip");
    let mut binary = elf_header(0xB7);
    binary.extend_from_slice(b"v2");
    std::fs::write(&zip, function_code::zip_bootstrap(&binary).unwrap()).unwrap();
    (config, zip)
}

/// What a learner (or a colleague) may change by hand, which the next `up` (or `destroy`) repairs: the
/// role's trust policy and a managed policy attached to it, an extra route, a route's target and the
/// integration's payload version; with `https` the origin access control's signing; with `alerts` the
/// budget's notification (the zero-spend one gone, another added). Returns the managed policy's ARN.
async fn drift(direct: &Ctx) -> String {
    let (iam, role) = (&direct.aws.iam, direct.names.role());
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    iam.update_assume_role_policy()
        .role_name(&role)
        .policy_document(trust)
        .send()
        .await
        .unwrap();
    let document = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}"#;
    let name = format!("{}-by-hand", direct.names.stack_id());
    let policy = iam
        .create_policy()
        .policy_name(&name)
        .policy_document(document)
        .send()
        .await
        .unwrap();
    let policy_arn = policy.policy.and_then(|p| p.arn).unwrap();
    iam.attach_role_policy()
        .role_name(&role)
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();

    let api = &direct.aws.apigateway;
    let apis = api.get_apis().send().await.unwrap();
    let mine = apis
        .items()
        .iter()
        .find(|a| a.name() == Some(direct.names.http_api().as_str()));
    let api_id = mine.and_then(|a| a.api_id()).unwrap().to_owned();
    let integrations = api.get_integrations().api_id(&api_id).send().await.unwrap();
    let integration = integrations.items()[0].integration_id().unwrap().to_owned();
    let target = format!("integrations/{integration}");
    api.create_route()
        .api_id(&api_id)
        .route_key("GET /by-hand")
        .target(&target)
        .send()
        .await
        .unwrap();
    let routes = api.get_routes().api_id(&api_id).send().await.unwrap();
    let products = routes
        .items()
        .iter()
        .find(|r| r.route_key() == Some("GET /products"));
    let route = products.and_then(|r| r.route_id()).unwrap();
    api.update_route()
        .api_id(&api_id)
        .route_id(route)
        .target("integrations/by-hand")
        .send()
        .await
        .unwrap();
    let update = api
        .update_integration()
        .api_id(&api_id)
        .integration_id(&integration);
    update.payload_format_version("1.0").send().await.unwrap();

    if direct.config.website.https {
        drift_oac(direct).await;
    }
    if direct.config.alerts.is_some() {
        drift_notifications(direct).await;
    }
    policy_arn
}

/// The origin access control signs only when the viewer did not (`no-override`).
async fn drift_oac(direct: &Ctx) {
    let cloudfront = &direct.aws.cloudfront;
    let list = cloudfront
        .list_origin_access_controls()
        .send()
        .await
        .unwrap();
    let name = format!("{}-site-oac", direct.names.stack_id());
    let items = list
        .origin_access_control_list()
        .map(|l| l.items())
        .unwrap_or_default();
    let id = items
        .iter()
        .find(|o| o.name() == name)
        .unwrap()
        .id()
        .to_owned();
    let got = cloudfront
        .get_origin_access_control()
        .id(&id)
        .send()
        .await
        .unwrap();
    let mut config = got
        .origin_access_control()
        .unwrap()
        .origin_access_control_config()
        .unwrap()
        .clone();
    config.signing_behavior =
        aws_sdk_cloudfront::types::OriginAccessControlSigningBehaviors::NoOverride;
    let update = cloudfront
        .update_origin_access_control()
        .id(&id)
        .if_match(got.e_tag().unwrap());
    update
        .origin_access_control_config(config)
        .send()
        .await
        .unwrap();
}

/// The budget's (first) notification, as moto keeps it.
async fn first_notification(direct: &Ctx) -> aws_sdk_budgets::types::Notification {
    let listed = (direct.aws.budgets.describe_notifications_for_budget())
        .account_id(&direct.account_id)
        .budget_name(direct.names.budget());
    listed.send().await.unwrap().notifications()[0].clone()
}

/// The zero-spend notification deleted and a forecast one added (moto keeps budgets' notifications).
async fn drift_notifications(direct: &Ctx) {
    use aws_sdk_budgets::types::{
        ComparisonOperator, Notification, NotificationType, ThresholdType,
    };
    let (budgets, name) = (&direct.aws.budgets, direct.names.budget());
    let account = &direct.account_id;
    let ours = first_notification(direct).await;
    let delete = budgets
        .delete_notification()
        .account_id(account)
        .budget_name(&name);
    delete.notification(ours).send().await.unwrap();
    let forecast = Notification::builder()
        .notification_type(NotificationType::Forecasted)
        .comparison_operator(ComparisonOperator::GreaterThan)
        .threshold(100.0)
        .threshold_type(ThresholdType::Percentage)
        .build()
        .unwrap();
    let email = aws_sdk_budgets::types::Subscriber::builder()
        .subscription_type(aws_sdk_budgets::types::SubscriptionType::Email)
        .address("colleague@example.com")
        .build()
        .unwrap();
    let create = budgets
        .create_notification()
        .account_id(account)
        .budget_name(&name);
    create
        .notification(forecast)
        .subscribers(email)
        .send()
        .await
        .unwrap();
}

/// The alert's subscribers changed by hand: an SNS topic added, the email removed (through the Budgets
/// stand-in, which keeps them).
async fn drift_subscribers(direct: &Ctx) {
    use aws_sdk_budgets::types::{Subscriber, SubscriptionType};
    let (budgets, name) = (&direct.aws.budgets, direct.names.budget());
    let account = &direct.account_id;
    let ours = first_notification(direct).await;
    let subscriber = |kind, address: &str| {
        Subscriber::builder()
            .subscription_type(kind)
            .address(address)
            .build()
            .unwrap()
    };
    let topic = format!("arn:aws:sns:us-east-1:{account}:by-hand");
    let add = budgets
        .create_subscriber()
        .account_id(account)
        .budget_name(&name);
    let add = add
        .notification(ours.clone())
        .subscriber(subscriber(SubscriptionType::Sns, &topic));
    add.send().await.unwrap();
    let email = direct.config.alerts.as_ref().unwrap().email.clone();
    let remove = budgets
        .delete_subscriber()
        .account_id(account)
        .budget_name(&name);
    let remove = remove
        .notification(ours)
        .subscriber(subscriber(SubscriptionType::Email, &email));
    remove.send().await.unwrap();
}

/// Every operation a cold `up`, a no-op `up`, `plan`, `status`, `logs`, `outputs`, `orders`, `diagram`'s
/// reads, `usage`, `doctor`, a day-2 `up` after [`changed`] settings and [`drift`], one that takes reserved
/// concurrency and log retention away again, and `destroy` send for `cli`'s configuration; with alerts,
/// also an `up` that changes the alert's email (after its subscribers were changed by hand).
async fn every_verb(cli: &Cli) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let zip = write_test_zip(dir.path());
    let (config, log) = (cli.config(), CallLog::default());
    let mut opts = stack_options(config.clone(), &zip, vec![log.interceptor()], true);
    let faults = stand_ins(&config);
    opts.http_client = Some(SharedHttpClient::new(faults.clone()));
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
    // moto has no Free Tier API (usage says so) and no policy simulator (doctor says so): the calls they
    // make are what counts here, not their outcome (nor whether the build tools are installed).
    let _ = usage::report(&read, false).await;
    let _ = doctor::diagnose(&opts).await;

    let direct = ctx_with_faults(config.clone(), Mode::Apply, &[], &faults).await;
    let managed = drift(&direct).await;
    let (mut day2, zip2) = changed(&config, dir.path());
    let at = |config: &Config, zip: &std::path::Path| StackOptions {
        config: config.clone(),
        function_zip: Some(zip.to_path_buf()),
        ..opts.clone()
    };
    stack::up(&at(&day2, &zip2), &quiet).await.unwrap();
    day2.function.reserved_concurrency = None;
    day2.function.log_retention_days = None;
    stack::up(&at(&day2, &zip2), &quiet).await.unwrap();
    if day2.alerts.is_some() {
        drift_subscribers(&direct).await;
        stack::up(&at(&day2, &zip2), &quiet).await.unwrap();
        day2.alerts = day2.alerts.map(|_| AlertsConfig {
            email: "other@example.com".into(),
        });
        stack::up(&at(&day2, &zip2), &quiet).await.unwrap();
    }
    // The managed policy attached by hand is detached by `destroy`, and then deleted here.
    stack::destroy(&at(&day2, &zip2), &quiet).await.unwrap();
    let iam = &direct.aws.iam;
    iam.delete_policy()
        .policy_arn(managed)
        .send()
        .await
        .unwrap();
    log.calls()
}

/// `https: true` and `alerts` on, in a shopsmart.yaml of its own.
fn https_with_alerts(dir: &std::path::Path) -> Cli {
    let path = dir.join("shopsmart.yaml");
    let shipped = std::fs::read_to_string(shipped_config()).unwrap();
    let https = shipped.replace("  https: false", "  https: true");
    assert_ne!(
        https, shipped,
        "shopsmart.yaml has `  https: false` under website"
    );
    std::fs::write(
        &path,
        format!("{https}\nalerts:\n  email: me@example.com\n"),
    )
    .unwrap();
    Cli::new(path).stage(&unique_stage()).region(REGION)
}

#[tokio::test]
async fn every_call_the_verbs_send_is_allowed_by_the_printed_policy_and_every_row_is_sent() {
    let shipped = Cli::new(shipped_config())
        .stage(&unique_stage())
        .region(REGION);
    let dir = tempfile::tempdir().unwrap();
    let full = https_with_alerts(dir.path());
    assert!(full.config().website.https && full.config().alerts.is_some());
    let (plain_calls, full_calls) = tokio::join!(every_verb(&shipped), every_verb(&full));

    let plain_policy = printed_policy(&shipped);
    let sent = [
        "Lambda.CreateFunction",
        "S3.DeleteObjects",
        "CloudWatch Logs.FilterLogEvents",
        "DynamoDB.Scan",
        "FreeTier.GetAccountPlanState",
        "IAM.SimulatePrincipalPolicy",
    ];
    assert_covered(&plain_calls, &sent, &plain_policy, &shipped.config());
    assert!(
        !plain_policy.to_string().contains("budgets:"),
        "{plain_policy:#}"
    );
    let budgets: Vec<&String> = plain_calls
        .iter()
        .filter(|c| c.starts_with("Budgets."))
        .collect();
    assert!(
        budgets.is_empty(),
        "with alerts off, no Budgets call: {budgets:?}"
    );

    let sent = [
        "CloudFront.CreateOriginAccessControl",
        "CloudFront.CreateDistributionWithTags",
        "CloudFront.DeleteDistribution",
        "Budgets.CreateBudget",
        "Budgets.UpdateSubscriber",
        "Budgets.DeleteBudget",
        "IAM.DetachRolePolicy",
        "Lambda.DeleteFunctionConcurrency",
    ];
    assert_covered(&full_calls, &sent, &printed_policy(&full), &full.config());

    let recorded: BTreeSet<&str> = plain_calls
        .iter()
        .chain(&full_calls)
        .map(String::as_str)
        .collect();
    let unsent: BTreeSet<&str> = OPERATIONS
        .iter()
        .map(|(operation, _, _)| *operation)
        .filter(|operation| !recorded.contains(operation))
        .filter(|operation| {
            !NOT_RECORDED
                .iter()
                .any(|(unrecorded, _)| unrecorded == operation)
        })
        .collect();
    assert!(
        unsent.is_empty(),
        "rows no verb sends (remove them, or say in NOT_RECORDED why moto cannot make them): {unsent:?}"
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

/// The request's awsQuery parameters (`Action=...&PolicySourceArn=...`), decoded.
fn query_params(request: &SeenRequest) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let s = s.replace('+', " ");
        percent_encoding::percent_decode_str(&s)
            .decode_utf8_lossy()
            .into_owned()
    };
    (request.body.split('&'))
        .filter_map(|pair| pair.split_once('='))
        .map(|(key, value)| (decode(key), decode(value)))
        .collect()
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// IAM's SimulatePrincipalPolicy answer (awsQuery XML, as AWS documents it): every action of the request
/// allowed, except iam:PassRole without the iam:PassedToService context its statement's condition asks
/// for, which is what the real simulator would answer for a condition it cannot evaluate.
fn simulated(request: &SeenRequest, _: &[SeenRequest]) -> Canned {
    let params = query_params(request);
    let context = param(&params, "ContextEntries.member.1.ContextKeyName");
    let results: String = (params.iter())
        .filter(|(key, _)| key.starts_with("ActionNames.member."))
        .map(|(_, action)| {
            let passes = action != "iam:PassRole" || context == Some("iam:PassedToService");
            let decision = if passes { "allowed" } else { "implicitDeny" };
            format!(
                "<member><EvalActionName>{action}</EvalActionName><EvalResourceName>*</EvalResourceName>\
                 <EvalDecision>{decision}</EvalDecision><MatchedStatements/><MissingContextValues/></member>"
            )
        })
        .collect();
    Canned {
        status: 200,
        headers: vec![("content-type".into(), "text/xml".into())],
        body: format!(
            "<SimulatePrincipalPolicyResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\
             <SimulatePrincipalPolicyResult><IsTruncated>false</IsTruncated><EvaluationResults>{results}\
             </EvaluationResults></SimulatePrincipalPolicyResult><ResponseMetadata><RequestId>fault-injected\
             </RequestId></ResponseMetadata></SimulatePrincipalPolicyResponse>"
        ),
    }
}

/// `doctor` and `permissions` as an IAM Identity Center user: STS names an assumed-role session, whose ARN
/// carries no path; both read the role (GetRole) and use its real ARN, under
/// `/aws-reserved/sso.amazonaws.com/`. moto's STS answers as its default user and moto has no policy
/// simulator, so the fault layer answers GetCallerIdentity with the session's ARN and SimulatePrincipalPolicy
/// as IAM documents it ([`simulated`]); the role, with its path, is moto's.
#[tokio::test]
async fn doctor_simulates_an_assumed_roles_real_arn_with_its_path() {
    let config = test_config(&unique_stage(), REGION);
    let plain = ctx(config.clone(), Mode::Apply, &[]).await;
    let name = format!("AWSReservedSSO_Learner_{}", unique_stage());
    let path = "/aws-reserved/sso.amazonaws.com/eu-west-1/";
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:saml-provider/AWSSSO"},"Action":"sts:AssumeRoleWithSAML"}]}"#;
    let role = (plain.aws.iam.create_role().role_name(&name).path(path))
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    let role_arn = role.role.unwrap().arn;
    assert_eq!(
        role_arn,
        format!("arn:aws:iam::{MOTO_ACCOUNT_ID}:role{path}{name}")
    );

    let faults = Faults::new();
    let session = format!("arn:aws:sts::{MOTO_ACCOUNT_ID}:assumed-role/{name}/ana@example.com");
    let identity = format!(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult>\
         <Arn>{session}</Arn><UserId>AROAEXAMPLE:ana@example.com</UserId><Account>{MOTO_ACCOUNT_ID}</Account>\
         </GetCallerIdentityResult><ResponseMetadata><RequestId>fault-injected</RequestId></ResponseMetadata>\
         </GetCallerIdentityResponse>"
    );
    let is = |action: &'static str| {
        move |r: &SeenRequest, _: &[SeenRequest]| r.body.contains(&format!("Action={action}&"))
    };
    faults.inject(
        usize::MAX,
        is("GetCallerIdentity"),
        Canned {
            status: 200,
            headers: vec![("content-type".into(), "text/xml".into())],
            body: identity,
        },
    );
    faults.inject_with(usize::MAX, is("SimulatePrincipalPolicy"), simulated);
    let dir = tempfile::tempdir().unwrap();
    let mut opts = stack_options(config.clone(), &write_test_zip(dir.path()), vec![], true);
    opts.http_client = Some(SharedHttpClient::new(faults.clone()));

    let diagnosis = doctor::diagnose(&opts).await;
    let permissions = diagnosis.checks.iter().find(|c| c.check == "permissions");
    let detail = permissions.map(|c| c.detail.as_str()).unwrap_or_default();
    assert_eq!(
        detail,
        format!("{role_arn} may do everything `shopsmart-deploy permissions` lists"),
        "{diagnosis:#?}"
    );
    let read_role = faults.seen(is("GetRole"));
    assert!(
        read_role.iter().any(|r| r.body.contains(&name)),
        "GetRole {name}"
    );
    let simulations = faults.seen(is("SimulatePrincipalPolicy"));
    assert!(!simulations.is_empty());
    for request in &simulations {
        let params = query_params(request);
        assert_eq!(param(&params, "PolicySourceArn"), Some(role_arn.as_str()));
    }

    // `permissions` prints doctor's rows on that same ARN.
    let whom = permissions::whom(&opts, &Reporter::quiet()).await;
    let policy = permissions::document(&config, &whom);
    let on = |action: &str| -> Vec<String> {
        let statements = policy.statement.iter();
        let with = statements.filter(|s| s.action.iter().any(|a| a == action));
        with.flat_map(|s| s.resource.clone())
            .filter(|r| !r.contains("function-role"))
            .collect()
    };
    assert_eq!(on("iam:SimulatePrincipalPolicy"), [role_arn.as_str()]);
    assert_eq!(on("iam:GetRole"), [role_arn.as_str()]);
    let delete = plain.aws.iam.delete_role().role_name(&name);
    delete.send().await.unwrap();
}
