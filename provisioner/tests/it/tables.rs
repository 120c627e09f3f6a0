//! DynamoDB tables against moto: create, idempotent second converge, a capacity change shown by plan and
//! applied alone, destroy twice, and a foreign same-named table left untouched.

use crate::support::resources::tables;
use aws_sdk_dynamodb::types::{BillingMode, KeyType, TimeToLiveStatus};
use shopsmart_deploy::change::{Action, FieldChange};
use shopsmart_deploy::config::model::{Billing, Capacity};
use shopsmart_deploy::names::{TableKind, STACK_TAG_KEY};
use shopsmart_deploy::resources::Mode;

use crate::support;
use crate::support::faults::{ctx_with_faults, Canned, Faults};
use crate::support::*;

fn actions(changes: &[shopsmart_deploy::change::Change]) -> Vec<Action> {
    changes.iter().map(|c| c.action.clone()).collect()
}

#[tokio::test]
async fn tables_converge_change_and_destroy() {
    let log = CallLog::default();
    let config = test_config(&unique_stage(), "us-east-1");
    let ctx = ctx(config.clone(), Mode::Apply, &[log.interceptor()]).await;

    let created = tables::converge(&ctx).await.unwrap();
    assert_eq!(actions(&created), vec![Action::Create; 3]);

    // Keys, billing, tags and TTL as the contract says.
    for kind in TableKind::ALL {
        let name = ctx.names.table(kind);
        let table = ctx
            .aws
            .dynamodb
            .describe_table()
            .table_name(&name)
            .send()
            .await
            .unwrap()
            .table
            .unwrap();
        let keys: Vec<(String, KeyType)> = table
            .key_schema()
            .iter()
            .map(|k| (k.attribute_name().to_owned(), k.key_type().clone()))
            .collect();
        let expected = match kind {
            TableKind::Products => vec![("productId".to_owned(), KeyType::Hash)],
            TableKind::Carts => vec![
                ("cartId".to_owned(), KeyType::Hash),
                ("productId".to_owned(), KeyType::Range),
            ],
            TableKind::Orders => vec![("orderId".to_owned(), KeyType::Hash)],
        };
        assert_eq!(keys, expected, "{name}");
        let throughput = table.provisioned_throughput().unwrap();
        assert_eq!(
            (
                throughput.read_capacity_units(),
                throughput.write_capacity_units()
            ),
            (Some(1), Some(1))
        );
        let tags = ctx
            .aws
            .dynamodb
            .list_tags_of_resource()
            .resource_arn(table.table_arn().unwrap())
            .send()
            .await
            .unwrap();
        assert!(tags
            .tags()
            .iter()
            .any(|t| t.key() == STACK_TAG_KEY && t.value() == ctx.names.stack_id()));
        assert!(tags
            .tags()
            .iter()
            .any(|t| t.key() == "purpose" && t.value() == "learning"));
    }
    let ttl = ctx
        .aws
        .dynamodb
        .describe_time_to_live()
        .table_name(ctx.names.table(TableKind::Carts))
        .send()
        .await
        .unwrap()
        .time_to_live_description
        .unwrap();
    assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
    assert_eq!(ttl.attribute_name(), Some("expiresAt"));

    // Second converge: nothing to do, no mutating call.
    log.clear();
    assert_eq!(
        actions(&tables::converge(&ctx).await.unwrap()),
        vec![Action::Unchanged; 3]
    );
    assert_eq!(log.mutating_calls(), Vec::<String>::new());
    assert!(
        !log.calls().is_empty(),
        "the interceptor must see the reads"
    );

    // Carts read capacity 1 → 2: plan shows exactly that field and writes nothing.
    let mut changed = config.clone();
    let one = Capacity { read: 1, write: 1 };
    changed.tables.billing = Billing::Provisioned {
        products: one,
        carts: Capacity { read: 2, write: 1 },
        orders: one,
    };
    let plan_ctx = support::ctx(changed.clone(), Mode::Plan, &[log.interceptor()]).await;
    log.clear();
    let planned = tables::converge(&plan_ctx).await.unwrap();
    let carts_update = Action::Update {
        fields: vec![FieldChange::new("read_capacity", 1, 2)],
    };
    assert_eq!(
        actions(&planned),
        vec![Action::Unchanged, carts_update.clone(), Action::Unchanged]
    );
    assert_eq!(log.mutating_calls(), Vec::<String>::new());

    // Apply: only that table is updated, with one call.
    let apply_ctx = support::ctx(changed, Mode::Apply, &[log.interceptor()]).await;
    log.clear();
    let applied = tables::converge(&apply_ctx).await.unwrap();
    assert_eq!(
        actions(&applied),
        vec![Action::Unchanged, carts_update, Action::Unchanged]
    );
    assert_eq!(
        log.mutating_calls(),
        vec!["DynamoDB.UpdateTable".to_owned()]
    );
    let carts = tables::read(&apply_ctx, &apply_ctx.names.table(TableKind::Carts))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(carts.capacity, Some(Capacity { read: 2, write: 1 }));

    // Switching to on-demand is one field too.
    let mut on_demand = config.clone();
    on_demand.tables.billing = Billing::OnDemand;
    let on_demand_ctx = support::ctx(on_demand, Mode::Apply, &[]).await;
    let switched = tables::converge(&on_demand_ctx).await.unwrap();
    assert_eq!(
        switched[0].action,
        Action::Update {
            fields: vec![FieldChange::new("billing", "provisioned", "on_demand")]
        }
    );
    let products = ctx
        .aws
        .dynamodb
        .describe_table()
        .table_name(ctx.names.table(TableKind::Products))
        .send()
        .await;
    let summary = products
        .unwrap()
        .table
        .unwrap()
        .billing_mode_summary
        .unwrap();
    assert_eq!(summary.billing_mode(), Some(&BillingMode::PayPerRequest));
    assert_eq!(
        actions(&tables::converge(&on_demand_ctx).await.unwrap()),
        vec![Action::Unchanged; 3]
    );

    // Destroy, then destroy again.
    assert_eq!(
        actions(&tables::destroy(&ctx).await.unwrap()),
        vec![Action::Delete; 3]
    );
    for kind in TableKind::ALL {
        assert!(tables::read(&ctx, &ctx.names.table(kind))
            .await
            .unwrap()
            .is_none());
    }
    assert_eq!(
        actions(&tables::destroy(&ctx).await.unwrap()),
        vec![Action::AlreadyGone; 3]
    );
}

#[tokio::test]
async fn a_foreign_table_with_our_name_is_never_touched() {
    let config = test_config(&unique_stage(), "us-east-1");
    let ctx = ctx(config, Mode::Apply, &[]).await;
    let name = ctx.names.table(TableKind::Orders);
    // Someone else's table: same name, no stack tag.
    create_untagged_table(&ctx, &name, "id").await;

    let err = tables::converge_table(&ctx, TableKind::Orders)
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("is not tagged shopsmart:stack="),
        "{err:#}"
    );
    let err = tables::destroy_table(&ctx, TableKind::Orders)
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("left untouched"), "{err:#}");

    // Still there, still on demand, still without our tag.
    let live = tables::read(&ctx, &name)
        .await
        .unwrap()
        .expect("the foreign table must survive");
    assert_eq!(live.capacity, None);
    ctx.aws
        .dynamodb
        .delete_table()
        .table_name(&name)
        .send()
        .await
        .unwrap();
}

/// Real DynamoDB limits moto does not enforce, injected at the SDK's HTTP layer: a billing switch or capacity
/// decrease beyond the daily allowance (LimitExceededException), and a TTL change within an hour of the last
/// one (ValidationException). Each ends in an error that says what is wrong and what to do; plan shows TTL
/// drift as it is (disabled, or enabled on another attribute).
#[tokio::test]
async fn update_limits_and_ttl_refusals_are_explained() {
    let config = test_config(&unique_stage(), "us-east-1");
    let faults = Faults::new();
    let apply = ctx_with_faults(config.clone(), Mode::Apply, &[], &faults).await;
    let carts = apply.names.table(TableKind::Carts);
    assert_eq!(
        tables::converge_table(&apply, TableKind::Carts)
            .await
            .unwrap()
            .action,
        Action::Create
    );

    // The SDK retries LimitExceededException as throttling; real DynamoDB keeps refusing, so does the rule.
    let limited = faults.inject(
        usize::MAX,
        |r, _| r.target.as_deref() == Some("DynamoDB_20120810.UpdateTable"),
        Canned::aws_json_error(
            400,
            "LimitExceededException",
            "Subscriber limit exceeded: Update to PayPerRequest mode are limited to once in 1 day(s).",
        ),
    );
    let mut on_demand = config.clone();
    on_demand.tables.billing = Billing::OnDemand;
    let switch = ctx_with_faults(on_demand, Mode::Apply, &[], &faults).await;
    let err = format!(
        "{:#}",
        tables::converge_table(&switch, TableKind::Carts)
            .await
            .unwrap_err()
    );
    assert!(limited.count() >= 1);
    assert!(
        err.contains(&format!("updating billing of DynamoDB table ({carts})"))
            && err.contains("only once every 24 hours")
            && err.contains("limited to once in 1 day(s)"),
        "{err}"
    );
    let live = tables::read(&apply, &carts).await.unwrap().unwrap();
    assert_eq!(live.capacity, Some(Capacity { read: 1, write: 1 }));

    // TTL switched to another attribute by hand: plan names it; enabling ours is refused within the hour.
    let spec = |enabled: bool, attribute: &str| {
        aws_sdk_dynamodb::types::TimeToLiveSpecification::builder()
            .enabled(enabled)
            .attribute_name(attribute)
            .build()
            .unwrap()
    };
    for (enabled, attribute) in [(false, tables::CARTS_TTL_ATTRIBUTE), (true, "deleteAfter")] {
        apply
            .aws
            .dynamodb
            .update_time_to_live()
            .table_name(&carts)
            .time_to_live_specification(spec(enabled, attribute))
            .send()
            .await
            .unwrap();
    }
    let plan = ctx(config.clone(), Mode::Plan, &[]).await;
    assert_eq!(
        tables::converge_table(&plan, TableKind::Carts)
            .await
            .unwrap()
            .action,
        Action::Update {
            fields: vec![FieldChange::new(
                "ttl",
                "enabled on deleteAfter",
                tables::CARTS_TTL_ATTRIBUTE
            )]
        }
    );
    let refused = faults.inject(
        1,
        |r, _| r.target.as_deref() == Some("DynamoDB_20120810.UpdateTimeToLive"),
        Canned::aws_json_error(
            400,
            "ValidationException",
            "Time to live has been modified multiple times within a fixed interval",
        ),
    );
    let err = format!(
        "{:#}",
        tables::converge_table(&apply, TableKind::Carts)
            .await
            .unwrap_err()
    );
    assert_eq!(refused.count(), 1);
    assert!(
        err.contains("enabling TTL on expiresAt")
            && err.contains("only once an hour")
            && err.contains("modified multiple times"),
        "{err}"
    );

    tables::destroy_table(&apply, TableKind::Carts)
        .await
        .unwrap();
}

/// A table read ACTIVE is deleted without waiting; if it began an update since, DeleteTable answers
/// ResourceInUseException (moto never does: injected, in the shape DynamoDB documents), and the table is
/// waited for until ACTIVE and deleted then.
#[tokio::test]
async fn a_table_busy_at_delete_is_waited_for_then_deleted() {
    let config = test_config(&unique_stage(), "us-east-1");
    let faults = Faults::new();
    let apply = ctx_with_faults(config, Mode::Apply, &[], &faults).await;
    let orders = apply.names.table(TableKind::Orders);
    tables::converge_table(&apply, TableKind::Orders)
        .await
        .unwrap();
    let busy = faults.inject(
        1,
        |r, _| r.target.as_deref() == Some("DynamoDB_20120810.DeleteTable"),
        Canned::aws_json_error(
            400,
            "ResourceInUseException",
            "Attempt to change a resource which is still in use: Table is being updated",
        ),
    );
    let before = faults.history().len();
    let gone = tables::destroy_table(&apply, TableKind::Orders)
        .await
        .unwrap();
    assert_eq!(gone.action, Action::Delete);
    assert_eq!(busy.count(), 1);
    let sent: Vec<String> = faults.history()[before..]
        .iter()
        .filter_map(|r| r.target.clone())
        .map(|t| t.trim_start_matches("DynamoDB_20120810.").to_owned())
        .collect();
    // Read (with tags and TTL), delete refused, wait for ACTIVE, delete, wait until gone.
    let deletes: Vec<usize> = (0..sent.len())
        .filter(|i| sent[*i] == "DeleteTable")
        .collect();
    assert_eq!(deletes.len(), 2, "{sent:?}");
    assert!(
        sent[deletes[0]..deletes[1]].contains(&"DescribeTable".to_owned()),
        "{sent:?}"
    );
    assert!(
        !sent[..deletes[0]][1..].contains(&"DescribeTable".to_owned()),
        "no wait before the first delete: {sent:?}"
    );
    assert!(tables::describe(&apply, &orders).await.unwrap().is_none());
}
