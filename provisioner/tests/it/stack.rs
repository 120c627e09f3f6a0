//! The whole stack against moto, through the library entry points: `up` from empty creates every resource
//! as configured, a second `up` makes zero mutating calls, a memory change is the only thing `plan` shows,
//! `destroy` leaves nothing with the stack's tag, and a second `destroy` succeeds. moto never runs the
//! function, so the test deploys a small zip of its own (`--function-zip`).

use aws_sdk_dynamodb::types::AttributeValue;
use shopsmart_deploy::change::{Action, Change};
use shopsmart_deploy::names::TableKind;
use shopsmart_deploy::report::Reporter;
use shopsmart_deploy::resources::{Ctx, Mode};
use shopsmart_deploy::stack;

use crate::support;
use crate::support::*;

fn count(changes: &[Change], pred: impl Fn(&Action) -> bool) -> usize {
    changes.iter().filter(|c| pred(&c.action)).count()
}

async fn assert_everything_exists(ctx: &Ctx, api_url: &str) {
    let names = &ctx.names;
    for kind in TableKind::ALL {
        ctx.aws
            .dynamodb
            .describe_table()
            .table_name(names.table(kind))
            .send()
            .await
            .expect("table");
    }
    let products = ctx
        .aws
        .dynamodb
        .get_item()
        .table_name(names.table(TableKind::Products))
        .key("productId", AttributeValue::S("mug".into()))
        .send()
        .await
        .unwrap()
        .item
        .expect("seeded product");
    assert_eq!(products["priceCents"].as_n().unwrap(), "1299");
    ctx.aws
        .iam
        .get_role()
        .role_name(names.role())
        .send()
        .await
        .expect("role");
    ctx.aws
        .iam
        .get_role_policy()
        .role_name(names.role())
        .policy_name(names.role_policy())
        .send()
        .await
        .expect("inline policy");
    let groups = ctx
        .aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(names.log_group())
        .send()
        .await
        .unwrap();
    assert_eq!(groups.log_groups().len(), 1);
    let function = ctx
        .aws
        .lambda
        .get_function_configuration()
        .function_name(names.function())
        .send()
        .await
        .unwrap();
    assert_eq!(
        function.role(),
        Some(ctx.arns().role(&names.role()).as_str())
    );
    let env = function
        .environment()
        .and_then(|e| e.variables())
        .expect("environment");
    for kind in TableKind::ALL {
        assert_eq!(env.get(kind.env_var()), Some(&names.table(kind)));
    }
    let bucket = names.website_bucket(&ctx.account_id, &ctx.region);
    let website_origin = shopsmart_deploy::names::website_url(&bucket, &ctx.region);
    assert!(
        env["CORS_ORIGINS"].split(',').any(|o| o == website_origin),
        "{:?}",
        env.get("CORS_ORIGINS")
    );
    let apis = ctx.aws.apigateway.get_apis().send().await.unwrap();
    assert_eq!(
        apis.items()
            .iter()
            .filter(|a| a.name() == Some(names.http_api().as_str()))
            .count(),
        1
    );
    let config_js = ctx
        .aws
        .s3
        .get_object()
        .bucket(&bucket)
        .key("config.js")
        .send()
        .await
        .expect("config.js");
    let body = config_js.body.collect().await.unwrap().into_bytes();
    assert!(
        String::from_utf8_lossy(&body).contains(api_url),
        "config.js must hold the API URL {api_url}"
    );
    ctx.aws
        .s3
        .get_object()
        .bucket(&bucket)
        .key("index.html")
        .send()
        .await
        .expect("index.html");
}

#[tokio::test]
async fn up_twice_plan_a_change_then_destroy_twice() {
    let dir = tempfile::tempdir().unwrap();
    let zip = write_test_zip(dir.path());
    let log = CallLog::default();
    let config = test_config(&unique_stage(), "us-east-1");
    let opts = stack_options(config.clone(), &zip, vec![log.interceptor()], true);
    let progress = Reporter::quiet();

    // Cold up.
    let started = std::time::Instant::now();
    let outcome = stack::up(&opts, &progress).await.unwrap();
    let cold = started.elapsed();
    // Every resource is created; the website files report what was uploaded (an update of the new bucket).
    for change in &outcome.changes {
        let expected_create = change.kind != "Website files";
        assert_eq!(
            change.action == Action::Create,
            expected_create,
            "{change:?}"
        );
        assert!(change.is_mutation(), "{change:?}");
    }
    let api_url = outcome.api_url.clone().expect("the API URL");
    let cold_calls = log.calls().len();
    // The critical path is role → function → HTTP API → permission/upload; the rest runs beside it.
    let step_seconds = |kinds: &[&str]| -> f64 {
        let mut seen = std::collections::BTreeMap::new();
        for r in progress
            .recorded()
            .iter()
            .filter(|r| kinds.contains(&r.change.kind))
        {
            seen.insert(r.change.kind, r.seconds);
        }
        seen.values().sum()
    };
    eprintln!(
        "measured: cold up critical path (role, function, API, permission) {:.2} s; tables+seed {:.2} s",
        step_seconds(&["IAM role", "Lambda function", "HTTP API", "Lambda permission"]),
        step_seconds(&["DynamoDB table", "Product"])
    );
    let ctx = support::ctx(config.clone(), Mode::Plan, &[]).await;
    assert_everything_exists(&ctx, &api_url).await;
    assert_eq!(
        outcome.bucket,
        ctx.names.website_bucket(MOTO_ACCOUNT_ID, "us-east-1")
    );

    // No-op up: zero mutating calls.
    log.clear();
    let started = std::time::Instant::now();
    let again = stack::up(&opts, &progress).await.unwrap();
    let noop = started.elapsed();
    assert_eq!(log.mutating_calls(), Vec::<String>::new());
    assert_eq!(
        count(&again.changes, |a| *a == Action::Unchanged),
        again.changes.len(),
        "{:#?}",
        again.changes
    );
    assert_eq!(again.api_url.as_deref(), Some(api_url.as_str()));
    // It adds no provisioned capacity, so the Free Tier guard does not count the account's tables (no
    // ListTables), and the tables step takes the guard's DescribeTable answers instead of asking again.
    let sent = |operation: &str| log.calls().iter().filter(|c| *c == operation).count();
    assert_eq!(sent("DynamoDB.ListTables"), 0, "{:?}", log.calls());
    assert_eq!(sent("DynamoDB.DescribeTable"), 3, "{:?}", log.calls());
    // The function's tags once (its own read); the permission's read ahead asks only for the policy.
    assert_eq!(sent("Lambda.ListTags"), 1, "{:?}", log.calls());
    eprintln!(
        "measured: cold up {:.2} s with {cold_calls} calls; no-op up {:.2} s with {} calls",
        cold.as_secs_f64(),
        noop.as_secs_f64(),
        log.calls().len()
    );

    // Memory 128 → 256: plan shows only the function, and only that field; up changes only it.
    let mut bigger = config.clone();
    bigger.function.memory_mb = 256;
    let bigger_opts = stack_options(bigger, &zip, vec![log.interceptor()], true);
    log.clear();
    let planned = stack::plan(&bigger_opts, &progress).await.unwrap();
    assert_eq!(log.mutating_calls(), Vec::<String>::new());
    let updates: Vec<&Change> = planned.changes.iter().filter(|c| c.is_mutation()).collect();
    assert_eq!(updates.len(), 1, "{updates:#?}");
    assert_eq!(updates[0].kind, "Lambda function");
    let Action::Update { fields } = &updates[0].action else {
        panic!("{:?}", updates[0])
    };
    assert_eq!(fields.len(), 1, "{fields:?}");
    assert!(fields[0].field.contains("memory"), "{fields:?}");
    assert_eq!(
        (fields[0].old.as_str(), fields[0].new.as_str()),
        ("128", "256")
    );
    log.clear();
    stack::up(&bigger_opts, &progress).await.unwrap();
    let mutating = log.mutating_calls();
    assert_eq!(
        mutating,
        vec!["Lambda.UpdateFunctionConfiguration".to_owned()]
    );

    // Status reports everything as configured, without writing.
    log.clear();
    let status = stack::status(&bigger_opts, &progress).await.unwrap();
    assert_eq!(
        count(&status.changes, |a| *a == Action::Unchanged),
        status.changes.len()
    );
    assert_eq!(log.mutating_calls(), Vec::<String>::new());

    // Destroy, then destroy again.
    log.clear();
    let destroyed = stack::destroy(&opts, &progress).await.unwrap();
    assert!(
        destroyed.changes.iter().all(|c| c.action == Action::Delete),
        "{:#?}",
        destroyed.changes
    );
    // Every resource read once, its owner checked before anything was deleted, and the deletes made from
    // those reads: the function's tags serve the function and its permission; a table is described when
    // read and when waited for until gone; the bucket's one page of objects is listed once.
    let sent = |operation: &str| log.calls().iter().filter(|c| *c == operation).count();
    for (operation, times) in [
        ("Lambda.GetFunction", 1),
        ("Lambda.ListTags", 2),
        ("Lambda.GetPolicy", 1),
        ("ApiGatewayV2.GetApis", 1),
        ("IAM.GetRole", 1),
        ("DynamoDB.DescribeTable", 6),
        ("S3.ListObjectVersions", 1),
    ] {
        assert_eq!(sent(operation), times, "{operation}: {:?}", log.calls());
    }
    assert_nothing_remains(&ctx).await;
    let again = stack::destroy(&opts, &progress).await.unwrap();
    assert!(
        again
            .changes
            .iter()
            .all(|c| c.action == Action::AlreadyGone),
        "{:#?}",
        again.changes
    );
}
