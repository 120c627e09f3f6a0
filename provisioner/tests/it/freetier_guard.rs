//! The Free Tier guard against moto: it reads the account's other tables in the region (ListTables +
//! DescribeTable, paginated), counts their provisioned capacity, refuses every over-free configuration, lets
//! `--allow-charges` through, and never makes a mutating call. Each test uses a region no other test uses,
//! because the 25 free RCU/WCU are counted region-wide.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ProvisionedThroughput, ScalarAttributeType,
};
use shopsmart_deploy::config::model::{Billing, Capacity, Config, Throttle};
use shopsmart_deploy::freetier::guard::{self, ChargesRefused, FindingKind};
use shopsmart_deploy::names::TableKind;
use shopsmart_deploy::resources::Mode;

use crate::support::{clients, ctx, test_config, unique_stage, CallLog};

fn throughput(read: i64, write: i64) -> ProvisionedThroughput {
    ProvisionedThroughput::builder()
        .read_capacity_units(read)
        .write_capacity_units(write)
        .build()
        .unwrap()
}

/// Creates a provisioned table (with a provisioned global secondary index when `index` is given).
async fn create_table(region: &str, name: &str, table: (i64, i64), index: Option<(i64, i64)>) {
    let dynamodb = clients(region, &[]).await.dynamodb;
    let mut request = dynamodb
        .create_table()
        .table_name(name)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .provisioned_throughput(throughput(table.0, table.1));
    if let Some((read, write)) = index {
        request = request
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("other")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .unwrap(),
            )
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name("by-other")
                    .key_schema(
                        KeySchemaElement::builder()
                            .attribute_name("other")
                            .key_type(KeyType::Hash)
                            .build()
                            .unwrap(),
                    )
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::KeysOnly)
                            .build(),
                    )
                    .provisioned_throughput(throughput(read, write))
                    .build()
                    .unwrap(),
            );
    }
    request
        .send()
        .await
        .unwrap_or_else(|error| panic!("creating test table {name}: {error:?}"));
}

async fn delete_table(region: &str, name: &str) {
    let dynamodb = clients(region, &[]).await.dynamodb;
    dynamodb
        .delete_table()
        .table_name(name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("deleting {name}: {e:?}"));
}

/// Runs the guard without `--allow-charges`: the refusal, or `None` when it passed. Asserts no mutating call.
async fn refusal(config: Config) -> Option<ChargesRefused> {
    let calls = CallLog::default();
    let ctx = ctx(config, Mode::Plan, &[calls.interceptor()]).await;
    let result = guard::preflight(&ctx, false).await;
    assert_eq!(
        calls.mutating_calls(),
        Vec::<String>::new(),
        "the guard must only read"
    );
    assert!(
        calls
            .calls()
            .iter()
            .any(|call| call.ends_with("ListTables")),
        "{:?}",
        calls.calls()
    );
    match result {
        Ok(findings) => {
            assert!(findings.is_empty(), "passed with findings: {findings:?}");
            None
        }
        Err(error) => Some(
            error
                .downcast::<ChargesRefused>()
                .expect("a refusal is a typed ChargesRefused"),
        ),
    }
}

fn kinds(refused: &ChargesRefused) -> Vec<FindingKind> {
    refused
        .findings
        .iter()
        .map(|finding| finding.kind)
        .collect()
}

#[tokio::test]
async fn counts_an_unrelated_provisioned_table_and_not_our_own() {
    let region = "ap-south-2";
    let stage = unique_stage();
    let config = test_config(&stage, region);
    let unrelated = format!("unrelated-{stage}");
    // A table with our own name is ours: its capacity is what the config already asks for, not "other".
    let ours = config.names().table(TableKind::Products);
    create_table(region, &unrelated, (24, 1), None).await;
    create_table(region, &ours, (20, 20), None).await;

    let refused = refusal(config.clone())
        .await
        .expect("24 other RCU + our 3 is over 25");
    assert_eq!(kinds(&refused), vec![FindingKind::ReadCapacityOverFree]);
    let message = refused.to_string();
    assert!(message.contains(&format!("{unrelated} (24)")), "{message}");
    assert!(
        !message.contains(&ours),
        "our own table was counted as another: {message}"
    );
    // 2 RCU over the free 25: 2 x 730 h x $0.00013 = $0.19.
    assert!(message.contains("about $0.19 a month"), "{message}");
    assert!(
        message.ends_with("re-run with --allow-charges to accept these charges"),
        "{message}"
    );

    // --allow-charges lets it through and still reports what costs money, again without a write.
    let calls = CallLog::default();
    let ctx = ctx(config, Mode::Plan, &[calls.interceptor()]).await;
    let findings = guard::preflight(&ctx, true)
        .await
        .expect("--allow-charges accepts the charges");
    assert_eq!(findings.len(), 1);
    assert_eq!(calls.mutating_calls(), Vec::<String>::new());

    delete_table(region, &unrelated).await;
    delete_table(region, &ours).await;
}

#[tokio::test]
async fn counts_the_capacity_of_global_secondary_indexes() {
    let region = "eu-south-1";
    let stage = unique_stage();
    let name = format!("indexed-{stage}");
    // 12 on the table + 12 on its index = 24 RCU (and 1 + 1 WCU): with our 3 RCU that is 27.
    create_table(region, &name, (12, 1), Some((12, 1))).await;
    let refused = refusal(test_config(&stage, region))
        .await
        .expect("the index's capacity counts too");
    assert_eq!(kinds(&refused), vec![FindingKind::ReadCapacityOverFree]);
    assert!(
        refused.to_string().contains(&format!("{name} (24)")),
        "{refused}"
    );
    delete_table(region, &name).await;
}

#[tokio::test]
async fn reads_every_page_of_tables() {
    let region = "me-central-1";
    let stage = unique_stage();
    // ListTables returns at most 100 names a page; 101 one-unit tables need a second page.
    let names: Vec<String> = (0..101)
        .map(|index| format!("many-{stage}-{index:03}"))
        .collect();
    for chunk in names.chunks(20) {
        futures::future::join_all(
            chunk
                .iter()
                .map(|name| create_table(region, name, (1, 1), None)),
        )
        .await;
    }
    let calls = CallLog::default();
    let ctx = ctx(
        test_config(&stage, region),
        Mode::Plan,
        &[calls.interceptor()],
    )
    .await;
    let tables = guard::existing_tables(&ctx).await.unwrap();
    let found = tables
        .iter()
        .filter(|table| table.name.starts_with(&format!("many-{stage}-")))
        .count();
    assert_eq!(found, 101);
    let list_calls = calls
        .calls()
        .iter()
        .filter(|call| call.ends_with("ListTables"))
        .count();
    assert!(
        list_calls >= 2,
        "expected a second ListTables page, got {list_calls} call(s)"
    );
    for chunk in names.chunks(20) {
        futures::future::join_all(chunk.iter().map(|name| delete_table(region, name))).await;
    }
}

#[tokio::test]
async fn passes_the_free_configuration() {
    let region = "ap-southeast-4";
    assert!(refusal(test_config(&unique_stage(), region))
        .await
        .is_none());
}

#[tokio::test]
async fn refuses_each_over_free_configuration_and_allow_charges_lets_it_through() {
    // No test creates tables in this region, so only the configuration itself decides.
    let region = "ap-southeast-4";
    let stage = unique_stage();
    let free = test_config(&stage, region);
    let big = Capacity { read: 9, write: 1 };
    let cases: Vec<(FindingKind, &str, Config)> = vec![
        (FindingKind::OnDemandTables, "billing: on_demand", {
            let mut config = free.clone();
            config.tables.billing = Billing::OnDemand;
            config
        }),
        (FindingKind::ReadCapacityOverFree, "add up to at most 25", {
            let mut config = free.clone();
            config.tables.billing = Billing::Provisioned {
                products: big,
                carts: big,
                orders: big,
            };
            config
        }),
        (
            FindingKind::ProvisionedConcurrency,
            "provisioned_concurrency: 2",
            {
                let mut config = free.clone();
                config.function.provisioned_concurrency = Some(2);
                config
            },
        ),
        (FindingKind::LogRetentionMissing, "log_retention_days: 7", {
            let mut config = free.clone();
            config.function.log_retention_days = None;
            config
        }),
        (FindingKind::WorstCaseOverLimit, "`rate_per_second: 3`", {
            let mut config = free.clone();
            config.api.throttle = Some(Throttle {
                rate_per_second: 10,
                burst: 20,
            });
            config
        }),
        (
            FindingKind::ApiThrottleMissing,
            "throttle: { rate_per_second: 3, burst: 10 }",
            {
                let mut config = free.clone();
                config.api.throttle = None;
                config
            },
        ),
    ];
    // A flood at the throttle's rate also costs more with on-demand tables or logs kept forever: those two
    // are refused for the worst case as well.
    let with_flood = |kind| match kind {
        FindingKind::OnDemandTables | FindingKind::LogRetentionMissing => {
            vec![kind, FindingKind::WorstCaseOverLimit]
        }
        _ => vec![kind],
    };
    for (kind, fix, config) in cases {
        let refused = refusal(config.clone())
            .await
            .unwrap_or_else(|| panic!("{kind:?} was not refused"));
        assert_eq!(kinds(&refused), with_flood(kind));
        let finding = &refused.findings[0];
        assert!(finding.fix.contains(fix), "{kind:?}: {}", finding.fix);
        assert!(
            finding.monthly_cents > 0,
            "{kind:?} must say roughly how much"
        );
        assert!(refused
            .to_string()
            .ends_with("re-run with --allow-charges to accept these charges"));

        let ctx = ctx(config, Mode::Plan, &[]).await;
        let findings = guard::preflight(&ctx, true)
            .await
            .expect("--allow-charges accepts the charges");
        assert_eq!(
            findings.iter().map(|f| f.kind).collect::<Vec<_>>(),
            with_flood(kind)
        );
    }
}
