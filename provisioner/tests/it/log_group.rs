//! The function's log group against moto: create with retention and tags, idempotent second converge,
//! a retention change shown by plan and applied alone, destroy twice, foreign group untouched.

use crate::support::resources::log_group;
use shopsmart_deploy::change::{Action, FieldChange};
use shopsmart_deploy::names::STACK_TAG_KEY;
use shopsmart_deploy::resources::Mode;

use crate::support;
use crate::support::*;

#[tokio::test]
async fn log_group_converges_changes_and_is_destroyed() {
    let log = CallLog::default();
    let config = test_config(&unique_stage(), "us-east-1");
    let ctx = ctx(config.clone(), Mode::Apply, &[log.interceptor()]).await;

    assert_eq!(
        log_group::converge(&ctx).await.unwrap().action,
        Action::Create
    );
    let live = log_group::read(&ctx).await.unwrap().unwrap();
    assert_eq!(live.retention_days, Some(7));
    let tags = ctx
        .aws
        .logs
        .list_tags_for_resource()
        .resource_arn(&live.arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tags().unwrap().get(STACK_TAG_KEY),
        Some(&ctx.names.stack_id())
    );

    log.clear();
    assert_eq!(
        log_group::converge(&ctx).await.unwrap().action,
        Action::Unchanged
    );
    assert_eq!(log.mutating_calls(), Vec::<String>::new());

    let mut changed = config.clone();
    changed.function.log_retention_days = Some(14);
    let plan_ctx = support::ctx(changed.clone(), Mode::Plan, &[log.interceptor()]).await;
    log.clear();
    let expected = Action::Update {
        fields: vec![FieldChange::new("retention", "7 days", "14 days")],
    };
    assert_eq!(
        log_group::converge(&plan_ctx).await.unwrap().action,
        expected
    );
    assert_eq!(log.mutating_calls(), Vec::<String>::new());

    let apply_ctx = support::ctx(changed, Mode::Apply, &[log.interceptor()]).await;
    log.clear();
    assert_eq!(
        log_group::converge(&apply_ctx).await.unwrap().action,
        expected
    );
    assert_eq!(
        log.mutating_calls(),
        vec!["CloudWatch Logs.PutRetentionPolicy".to_owned()]
    );
    assert_eq!(
        log_group::read(&ctx).await.unwrap().unwrap().retention_days,
        Some(14)
    );

    assert_eq!(
        log_group::destroy(&ctx).await.unwrap().action,
        Action::Delete
    );
    assert!(log_group::read(&ctx).await.unwrap().is_none());
    assert_eq!(
        log_group::destroy(&ctx).await.unwrap().action,
        Action::AlreadyGone
    );
}

#[tokio::test]
async fn a_foreign_log_group_with_our_name_is_never_touched() {
    let ctx = ctx(test_config(&unique_stage(), "us-east-1"), Mode::Apply, &[]).await;
    let name = ctx.names.log_group();
    ctx.aws
        .logs
        .create_log_group()
        .log_group_name(&name)
        .send()
        .await
        .unwrap();

    let err = log_group::converge(&ctx).await.unwrap_err();
    assert!(
        format!("{err:#}").contains("is not tagged shopsmart:stack="),
        "{err:#}"
    );
    assert!(log_group::destroy(&ctx).await.is_err());
    // Untouched: still there, still without retention.
    assert_eq!(
        log_group::read(&ctx).await.unwrap().unwrap().retention_days,
        None
    );
    ctx.aws
        .logs
        .delete_log_group()
        .log_group_name(&name)
        .send()
        .await
        .unwrap();
}
