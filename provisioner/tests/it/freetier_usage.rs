//! `usage` (GetFreeTierUsage). moto has no Free Tier API (it answers HTTP 500), so the answers come from the
//! fault layer, in the shape AWS documents (AWS Billing and Cost Management API reference, "GetFreeTierUsage"
//! and "FreeTierUsage": awsJson1_0, target `AWSFreeTierService.GetFreeTierUsage`, `freeTierUsages` with
//! service, usageType, region, actualUsageAmount, forecastedUsageAmount, limit, unit, description,
//! freeTierType, and `nextToken` for the next page).

use serde_json::{json, Value};
use shopsmart_deploy::error::{chain, ErrorKind};
use shopsmart_deploy::permissions::OPERATIONS;
use shopsmart_deploy::resources::{Ctx, Mode};
use shopsmart_deploy::usage;

use crate::support::cli::{stderr_of, Cli};
use crate::support::faults::{ctx_with_faults, plan_ctx, Canned, Faults, SeenRequest};
use crate::support::*;

fn free_tier_usage(request: &SeenRequest, _: &[SeenRequest]) -> bool {
    request.target.as_deref() == Some("AWSFreeTierService.GetFreeTierUsage")
}

fn offer(
    service: &str,
    description: &str,
    actual: f64,
    forecast: f64,
    limit: f64,
    unit: &str,
) -> Value {
    json!({
        "service": service,
        "operation": "",
        "usageType": format!("Global-{unit}"),
        "region": "global",
        "actualUsageAmount": actual,
        "forecastedUsageAmount": forecast,
        "limit": limit,
        "unit": unit,
        "description": description,
        "freeTierType": "Always Free"
    })
}

#[tokio::test]
async fn reads_every_page_and_keeps_the_services_the_stack_uses() {
    let account = Account::new().await;
    let faults = Faults::new();
    // Page 1 without a token in the request; page 2 for the token page 1 handed out.
    faults.inject_with(usize::MAX, free_tier_usage, |request, _| {
        if request.body.contains("page-2") {
            Canned::dynamodb_ok(json!({ "freeTierUsages": [
                offer("Amazon DynamoDB", "25 GB of storage", 0.2, 0.25, 25.0, "GB-Mo"),
                offer("AmazonCloudWatch", "5 GB of log data ingestion", 4.5, 5.2, 5.0, "GB"),
            ]}))
        } else {
            Canned::dynamodb_ok(json!({
                "freeTierUsages": [
                    offer("AWS Lambda", "1,000,000 free requests per month", 120_000.0, 400_000.0, 1_000_000.0, "Requests"),
                    offer("Amazon Elastic Compute Cloud", "750 hours of t2.micro", 10.0, 30.0, 750.0, "Hrs"),
                ],
                "nextToken": "page-2"
            }))
        }
    });
    let calls = CallLog::default();
    let ctx = Ctx {
        account_id: account.id.clone(),
        ..ctx_with_faults(
            test_config(&unique_stage(), "eu-west-1"),
            Mode::Plan,
            &[calls.interceptor(), account.interceptor()],
            &faults,
        )
        .await
    };
    let report = usage::report(&ctx, false).await.unwrap();
    let services: Vec<&str> = report.rows.iter().map(|row| row.service.as_str()).collect();
    assert_eq!(
        services,
        ["AWS Lambda", "Amazon DynamoDB", "AmazonCloudWatch"]
    );
    assert_eq!(report.other_allowances, 1, "EC2 is not the stack's");
    // Nothing of the stack exists in this fresh account.
    assert_eq!(report.stack_deployed, Some(false));
    // CloudWatch Logs: forecast 5.2 of 5 GB = 104 %: the one warning.
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert!(report.warnings[0]
        .contains("AmazonCloudWatch: 5 GB of log data ingestion: forecast 5.20 of the free 5 GB"));
    let logs = &report.rows[2];
    assert_eq!(
        (logs.forecast_percent, logs.actual_percent, logs.warn),
        (Some(104), Some(90), true)
    );
    assert_eq!(logs.bar(), "[##################++]!");
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["rows"][0]["forecast_percent"], 40);
    assert_eq!(json["rows"][0]["limit"], 1_000_000.0);
    assert_eq!(json["stack_deployed"], false);

    // Two pages, both at the API's us-east-1 endpoint; every operation `usage` sent has its permission row.
    let pages = faults.seen(free_tier_usage);
    assert_eq!(pages.len(), 2);
    assert!(
        pages.iter().all(|page| page.region == "us-east-1"),
        "{pages:?}"
    );
    for call in calls.calls() {
        assert!(
            OPERATIONS.iter().any(|(op, _, _)| *op == call),
            "{call} has no row in permissions::OPERATIONS"
        );
    }
}

#[tokio::test]
async fn a_denial_is_an_error_that_names_the_permission() {
    let faults = Faults::new();
    faults.inject(
        usize::MAX,
        free_tier_usage,
        Canned::aws_json_error(
            400,
            "AccessDeniedException",
            "User: arn:aws:iam::123456789012:user/learner is not authorized to perform: freetier:GetFreeTierUsage",
        ),
    );
    let ctx = plan_ctx(&faults, "us-east-1").await;
    let error = usage::report(&ctx, false).await.unwrap_err();
    let message = chain(&error);
    assert!(
        message.contains("reading this month's Free Tier usage"),
        "{message}"
    );
    assert!(message.contains("freetier:GetFreeTierUsage"), "{message}");
    assert!(
        message.contains("shopsmart-deploy permissions"),
        "{message}"
    );
    assert_eq!(ErrorKind::of(&error).exit_code(), 1);
}

#[tokio::test]
async fn against_moto_the_binary_says_an_emulator_has_no_free_tier_api() {
    let cli = Cli::new(shipped_config()).stage(&unique_stage());
    for args in [&["usage"][..], &["usage", "--all", "--output", "json"]] {
        let output = cli.run(args);
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("`usage` reads AWS's Free Tier API, which an emulator does not have"),
            "{stderr}"
        );
        assert!(output.stdout.is_empty());
    }
    let help = String::from_utf8(cli.run(&["usage", "--help"]).stdout).unwrap();
    assert!(
        help.contains("freetier:GetFreeTierUsage") && help.contains("--all"),
        "{help}"
    );
}
