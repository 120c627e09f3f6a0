//! The stack after things went wrong: an `up` that stopped part-way is finished by the next `up`, and a
//! foreign resource with one of our names stops `up` and `destroy` (exit 1, explained) without being touched.

use shopsmart_deploy::change::Action;
use shopsmart_deploy::names::TableKind;
use shopsmart_deploy::report::Reporter;
use shopsmart_deploy::resources::Mode;
use shopsmart_deploy::stack;

use crate::support::cli::Cli;
use crate::support::resources::{iam_role, log_group, tables};
use crate::support::*;

#[tokio::test]
async fn up_after_a_partial_up_converges() {
    let dir = tempfile::tempdir().unwrap();
    let config = test_config(&unique_stage(), "us-east-1");
    let ctx = ctx(config.clone(), Mode::Apply, &[]).await;
    // What an interrupted up leaves behind: tables, role and log group, nothing else.
    tables::converge(&ctx).await.unwrap();
    iam_role::converge(&ctx).await.unwrap();
    log_group::converge(&ctx).await.unwrap();

    let opts = stack_options(config, &write_test_zip(dir.path()), vec![], true);
    let outcome = stack::up(&opts, &Reporter::quiet()).await.unwrap();
    for change in &outcome.changes {
        let existed = [
            "DynamoDB table",
            "IAM role",
            "IAM role policy",
            "CloudWatch log group",
        ];
        if existed.contains(&change.kind) {
            assert_eq!(change.action, Action::Unchanged, "{change:?}");
        } else {
            assert!(change.is_mutation(), "{change:?}");
        }
    }
    assert!(outcome.api_url.is_some());
    let again = stack::up(&opts, &Reporter::quiet()).await.unwrap();
    assert!(again.changes.iter().all(|c| c.action == Action::Unchanged));
    stack::destroy(&opts, &Reporter::quiet()).await.unwrap();
}

const FOREIGN_TABLE_REGION: &str = "ap-northeast-1";

#[tokio::test]
async fn a_foreign_table_stops_up_and_destroy_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let zip = write_test_zip(dir.path());
    let stage = unique_stage();
    // An account of its own: the binary's `up` runs the Free Tier guard (no --allow-charges), which counts
    // every provisioned table of the account, and other tests create tables at the same time.
    let account = Account::new().await;
    let ctx = account
        .ctx(test_config(&stage, FOREIGN_TABLE_REGION), Mode::Apply, &[])
        .await;
    let foreign = ctx.names.table(TableKind::Orders);
    create_untagged_table(&ctx, &foreign, "orderId").await;

    let cli = Cli::new(shipped_config())
        .stage(&stage)
        .region(FOREIGN_TABLE_REGION)
        .account(&account);
    let run = |args: &[&str]| cli.code_and_stderr(args);
    let (code, stderr) = run(&["up", "--function-zip", zip.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: DynamoDB table ({foreign}) exists but is not tagged shopsmart:stack="
        )),
        "{stderr}"
    );
    let (code, stderr) = run(&["destroy", "--yes"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("left untouched"), "{stderr}");

    // Still there, still on demand: never modified.
    let live = tables::read(&ctx, &foreign)
        .await
        .unwrap()
        .expect("foreign table");
    assert_eq!(live.capacity, None);

    // Clean up: remove the foreign table, then our destroy finishes the job.
    ctx.aws
        .dynamodb
        .delete_table()
        .table_name(&foreign)
        .send()
        .await
        .unwrap();
    let (code, stderr) = run(&["destroy", "--yes"]);
    assert_eq!(code, Some(0), "{stderr}");
}

/// `destroy` reads everything before it deletes anything: a foreign resource found late in the walk (the log
/// group comes after the API and the function) stops it with every resource still in place.
#[tokio::test]
async fn destroy_deletes_nothing_when_any_resource_is_foreign() {
    let dir = tempfile::tempdir().unwrap();
    let config = test_config(&unique_stage(), "us-east-1");
    let opts = stack_options(config.clone(), &write_test_zip(dir.path()), vec![], true);
    stack::up(&opts, &Reporter::quiet()).await.unwrap();
    let ctx = ctx(config, Mode::Apply, &[]).await;
    let log_group_arn = ctx.arns().log_group(&ctx.names.log_group());
    ctx.aws
        .logs
        .untag_resource()
        .resource_arn(&log_group_arn)
        .tag_keys("shopsmart:stack")
        .send()
        .await
        .unwrap();

    let err = stack::destroy(&opts, &Reporter::quiet()).await.unwrap_err();
    let message = format!("{err:#}");
    assert!(message.contains("nothing was deleted"), "{message}");
    assert!(message.contains("CloudWatch log group"), "{message}");
    ctx.aws
        .lambda
        .get_function()
        .function_name(ctx.names.function())
        .send()
        .await
        .expect("the function must still exist");
    let apis = ctx.aws.apigateway.get_apis().send().await.unwrap();
    assert!(apis
        .items()
        .iter()
        .any(|api| api.name() == Some(ctx.names.http_api().as_str())));

    // Once the log group is ours again, destroy removes everything.
    ctx.aws
        .logs
        .tag_resource()
        .resource_arn(&log_group_arn)
        .tags("shopsmart:stack", ctx.names.stack_id())
        .send()
        .await
        .unwrap();
    stack::destroy(&opts, &Reporter::quiet()).await.unwrap();
    assert_nothing_remains(&ctx).await;
}
