//! The Free Tier guard against moto: it reads the account's other tables in every region (ListTables +
//! DescribeTable, paginated, regions at once), counts their provisioned capacity, refuses every over-free
//! configuration, lets `--allow-charges` through, and never makes a mutating call. The 25 free RCU/WCU are
//! the whole account's, so each test runs in a moto account of its own (`Account`): other tests' tables,
//! in any region, are not in it. Regions not enabled and denials are injected through the fault layer.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ProvisionedThroughput, ScalarAttributeType,
};
use shopsmart_deploy::config::model::{Billing, Capacity, Config, Throttle};
use shopsmart_deploy::freetier::guard::{self, ChargesRefused, Count, FindingKind};
use shopsmart_deploy::names::TableKind;
use shopsmart_deploy::resources::Mode;

use shopsmart_deploy::resources::Ctx;

use shopsmart_deploy::config::regions::KNOWN_REGIONS;

use crate::support::faults::{ctx_with_faults, Canned, Faults, SeenRequest};
use crate::support::{test_config, unique_stage, Account, CallLog};

fn throughput(read: i64, write: i64) -> ProvisionedThroughput {
    ProvisionedThroughput::builder()
        .read_capacity_units(read)
        .write_capacity_units(write)
        .build()
        .unwrap()
}

/// Creates a provisioned table (with a provisioned global secondary index when `index` is given).
async fn create_table(
    account: &Account,
    region: &str,
    name: &str,
    table: (i64, i64),
    index: Option<(i64, i64)>,
) {
    let dynamodb = account
        .ctx(test_config("tables", region), Mode::Apply, &[])
        .await
        .aws
        .dynamodb;
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

async fn delete_table(account: &Account, region: &str, name: &str) {
    let dynamodb = account
        .ctx(test_config("tables", region), Mode::Apply, &[])
        .await
        .aws
        .dynamodb;
    dynamodb
        .delete_table()
        .table_name(name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("deleting {name}: {e:?}"));
}

/// Runs the guard as `plan` does, without `--allow-charges`, in `account`: the refusal, or `None` when it
/// passed. Asserts no mutating call.
async fn refusal(account: &Account, config: Config) -> Option<ChargesRefused> {
    let calls = CallLog::default();
    let ctx = account
        .ctx(config, Mode::Plan, &[calls.interceptor()])
        .await;
    let result = guard::preflight(&ctx, false, Count::Always).await;
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
        Ok(passed) => {
            assert!(
                passed.findings.is_empty(),
                "passed with findings: {:?}",
                passed.findings
            );
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
async fn counts_the_tables_of_every_region_and_not_our_own() {
    let account = Account::new().await;
    let stage = unique_stage();
    let config = test_config(&stage, "us-east-1");
    let (west, south) = (format!("west-{stage}"), format!("south-{stage}"));
    // Our own names in our region are ours: their capacity is what the config already asks for. The same name
    // in another region is another table, and counts.
    let ours = config.names().table(TableKind::Products);
    create_table(&account, "eu-west-1", &west, (10, 1), None).await;
    create_table(&account, "ap-south-1", &south, (14, 1), None).await;
    create_table(&account, "us-east-1", &ours, (20, 20), None).await;

    let refused = refusal(&account, config.clone())
        .await
        .expect("10 + 14 other RCU in two regions + our 3 is over 25");
    assert_eq!(kinds(&refused), vec![FindingKind::ReadCapacityOverFree]);
    let message = refused.to_string();
    assert!(
        message.contains(&format!("{west} in eu-west-1 (10)")),
        "{message}"
    );
    assert!(
        message.contains(&format!("{south} in ap-south-1 (14)")),
        "{message}"
    );
    assert!(message.contains("every region together"), "{message}");
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

    // --allow-charges lets it through and still reports what costs money, again without a write; every
    // commercial region was read, and our own table's description is left for the tables step.
    let calls = CallLog::default();
    let ctx = account
        .ctx(config, Mode::Plan, &[calls.interceptor()])
        .await;
    let passed = guard::preflight(&ctx, true, Count::Always)
        .await
        .expect("--allow-charges accepts the charges");
    assert_eq!(passed.findings.len(), 1);
    assert_eq!(calls.mutating_calls(), Vec::<String>::new());
    let account_tables = passed.account.expect("plan counts the account");
    assert_eq!(account_tables.regions_read.len(), KNOWN_REGIONS.len());
    assert_eq!(account_tables.totals(), (24, 2));
    assert!(account_tables.warnings.is_empty());
    let list_calls = calls
        .calls()
        .iter()
        .filter(|c| c.ends_with("ListTables"))
        .count();
    assert_eq!(list_calls, KNOWN_REGIONS.len());
    assert!(ctx
        .guard_reads
        .take_table(&ours)
        .is_some_and(|t| t.is_some()));

    delete_table(&account, "eu-west-1", &west).await;
    delete_table(&account, "ap-south-1", &south).await;
    delete_table(&account, "us-east-1", &ours).await;
}

#[tokio::test]
async fn counts_the_capacity_of_global_secondary_indexes() {
    let account = Account::new().await;
    let stage = unique_stage();
    let name = format!("indexed-{stage}");
    // 12 on the table + 12 on its index = 24 RCU (and 1 + 1 WCU): with our 3 RCU that is 27.
    create_table(&account, "eu-south-1", &name, (12, 1), Some((12, 1))).await;
    let refused = refusal(&account, test_config(&stage, "us-east-2"))
        .await
        .expect("the index's capacity counts too");
    assert_eq!(kinds(&refused), vec![FindingKind::ReadCapacityOverFree]);
    assert!(
        refused
            .to_string()
            .contains(&format!("{name} in eu-south-1 (24)")),
        "{refused}"
    );
    delete_table(&account, "eu-south-1", &name).await;
}

#[tokio::test]
async fn reads_every_page_of_tables() {
    let account = Account::new().await;
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
                .map(|name| create_table(&account, region, name, (1, 1), None)),
        )
        .await;
    }
    let calls = CallLog::default();
    let ctx = account
        .ctx(
            test_config(&stage, region),
            Mode::Plan,
            &[calls.interceptor()],
        )
        .await;
    let tables = guard::account_tables_in(&ctx, &[region]).await;
    assert_eq!(tables.tables.len(), 101);
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
        futures::future::join_all(
            chunk
                .iter()
                .map(|name| delete_table(&account, region, name)),
        )
        .await;
    }
}

#[tokio::test]
async fn passes_the_free_configuration() {
    let account = Account::new().await;
    assert!(
        refusal(&account, test_config(&unique_stage(), "ap-southeast-4"))
            .await
            .is_none()
    );
}

/// A context in `account` whose requests pass through `faults`, recording calls in `calls`.
async fn faulty_ctx(account: &Account, config: Config, faults: &Faults, calls: &CallLog) -> Ctx {
    Ctx {
        account_id: account.id.clone(),
        ..ctx_with_faults(
            config,
            Mode::Plan,
            &[calls.interceptor(), account.interceptor()],
            faults,
        )
        .await
    }
}

/// A DynamoDB request for `operation` signed for `region`.
fn dynamodb_in(
    region: &'static str,
    operation: &'static str,
) -> impl Fn(&SeenRequest, &[SeenRequest]) -> bool + Send + Sync + 'static {
    move |request, _| {
        request.region == region
            && request
                .target
                .as_deref()
                .is_some_and(|target| target == format!("DynamoDB_20120810.{operation}"))
    }
}

#[tokio::test]
async fn a_region_not_enabled_is_skipped_quietly() {
    let account = Account::new().await;
    let stage = unique_stage();
    let table = format!("opt-in-{stage}");
    create_table(&account, "af-south-1", &table, (30, 30), None).await;
    let faults = Faults::new();
    // What DynamoDB answers in an opt-in region the account has not enabled: the region does not know the
    // account's credentials (HTTP 400).
    let not_enabled = faults.inject(
        usize::MAX,
        dynamodb_in("af-south-1", "ListTables"),
        Canned::aws_json_error(
            400,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ),
    );
    let calls = CallLog::default();
    let ctx = faulty_ctx(&account, test_config(&stage, "us-east-1"), &faults, &calls).await;
    let passed = guard::preflight(&ctx, false, Count::Always)
        .await
        .expect("the 30 RCU table is in a region the account cannot use");
    assert_eq!(not_enabled.count(), 1);
    let counted = passed.account.unwrap();
    assert_eq!(counted.regions_not_enabled, vec!["af-south-1".to_owned()]);
    assert_eq!(counted.regions_read.len(), KNOWN_REGIONS.len() - 1);
    assert!(counted.warnings.is_empty(), "{:?}", counted.warnings);
    assert!(counted
        .sentence(&ctx.config)
        .contains("1 region not enabled"));
    delete_table(&account, "af-south-1", &table).await;
}

/// With temporary credentials the same answer may come from an opt-in region the account HAS enabled: a
/// session token from STS's global endpoint in its v1 form is valid only in the regions enabled by default.
/// Such a region is named in a warning with the fix, not skipped as "not enabled" (the answer is the one
/// DynamoDB documents for an invalid security token, injected as above; moto accepts any token).
#[tokio::test]
async fn with_a_session_token_a_refusing_opt_in_region_is_a_warning_with_the_fix() {
    let account = Account::new().await;
    let stage = unique_stage();
    let faults = Faults::new();
    faults.inject(
        usize::MAX,
        dynamodb_in("ap-southeast-4", "ListTables"),
        Canned::aws_json_error(
            400,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ),
    );
    let calls = CallLog::default();
    let mut ctx = faulty_ctx(&account, test_config(&stage, "us-east-1"), &faults, &calls).await;
    let temporary = aws_sdk_dynamodb::config::Credentials::new(
        "ASIATESTING",
        "testing",
        Some("a-session-token".into()),
        None,
        "test",
    );
    let temporary = aws_sdk_dynamodb::config::SharedCredentialsProvider::new(temporary);
    let config = ctx.aws.dynamodb.config().to_builder();
    ctx.aws.dynamodb =
        aws_sdk_dynamodb::Client::from_conf(config.credentials_provider(temporary.clone()).build());
    ctx.aws.credentials = Some(temporary);
    let counted = guard::preflight(&ctx, false, Count::Always)
        .await
        .unwrap()
        .account
        .unwrap();
    assert!(counted.regions_not_enabled.is_empty(), "{counted:?}");
    assert_eq!(counted.warnings.len(), 1, "{:?}", counted.warnings);
    let warning = &counted.warnings[0];
    for part in [
        "1 opt-in region (ap-southeast-4) refused your session token",
        "not enabled it (then nothing can exist there",
        "v1 form",
        "sts_regional_endpoints = regional",
        "aws iam set-security-token-service-preferences --global-endpoint-token-version v2Token",
    ] {
        assert!(warning.contains(part), "{part}: {warning}");
    }
}

#[tokio::test]
async fn a_denial_is_a_warning_that_names_the_permission() {
    let account = Account::new().await;
    let stage = unique_stage();
    let (listed, described) = (format!("listed-{stage}"), format!("described-{stage}"));
    create_table(&account, "eu-north-1", &listed, (30, 1), None).await;
    create_table(&account, "sa-east-1", &described, (30, 1), None).await;
    let denied = |action: &str| {
        Canned::aws_json_error(
            400,
            "AccessDeniedException",
            &format!(
                "User: arn:aws:iam::{}:user/learner is not authorized to perform: {action}",
                account.id
            ),
        )
    };
    let faults = Faults::new();
    faults.inject(
        usize::MAX,
        dynamodb_in("eu-north-1", "ListTables"),
        denied("dynamodb:ListTables"),
    );
    faults.inject(
        usize::MAX,
        dynamodb_in("sa-east-1", "DescribeTable"),
        denied("dynamodb:DescribeTable"),
    );
    let calls = CallLog::default();
    let ctx = faulty_ctx(&account, test_config(&stage, "us-east-1"), &faults, &calls).await;
    // The two 30-RCU tables could not be counted: the guard passes, and says its count may be low.
    let passed = guard::preflight(&ctx, false, Count::Always)
        .await
        .expect("a denial is a warning, not a failure");
    let counted = passed.account.unwrap();
    assert_eq!(counted.totals(), (0, 0));
    assert_eq!(counted.regions_read.len(), KNOWN_REGIONS.len() - 2);
    let warnings = counted.warnings.join("\n");
    assert_eq!(counted.warnings.len(), 2, "{warnings}");
    for says in [
        "may be low",
        "denied `dynamodb:ListTables` in 1 region (eu-north-1)",
        "denied `dynamodb:DescribeTable` in 1 region (sa-east-1)",
        "shopsmart-deploy permissions",
    ] {
        assert!(warnings.contains(says), "{says}: {warnings}");
    }
    delete_table(&account, "eu-north-1", &listed).await;
    delete_table(&account, "sa-east-1", &described).await;
}

#[tokio::test]
async fn up_counts_the_account_only_when_it_adds_capacity() {
    let account = Account::new().await;
    let stage = unique_stage();
    let region = "eu-west-1";
    let config = test_config(&stage, region);
    let run = |config: Config| {
        let account = account.clone();
        async move {
            let calls = CallLog::default();
            let ctx = account
                .ctx(config, Mode::Apply, &[calls.interceptor()])
                .await;
            let passed = guard::preflight(&ctx, false, Count::WhenAddingCapacity)
                .await
                .unwrap();
            let lists = calls
                .calls()
                .iter()
                .filter(|c| c.ends_with("ListTables"))
                .count();
            (passed.account.is_some(), lists, calls.calls().len(), ctx)
        }
    };
    // Nothing exists yet: three new provisioned tables add capacity, so every region is counted.
    let (counted, lists, _, _) = run(config.clone()).await;
    assert!(counted);
    assert_eq!(lists, KNOWN_REGIONS.len());

    // The tables exist with 2 RCU / 2 WCU each, more than the configured 1 / 1: the run adds nothing, so only
    // our three tables are described (answers the tables step then takes instead of asking again).
    for kind in TableKind::ALL {
        create_table(&account, region, &config.names().table(kind), (2, 2), None).await;
    }
    let (counted, lists, total, ctx) = run(config.clone()).await;
    assert!(!counted);
    assert_eq!((lists, total), (0, 3));
    for kind in TableKind::ALL {
        assert!(ctx
            .guard_reads
            .take_table(&config.names().table(kind))
            .is_some_and(|table| table.is_some()));
    }

    // As many units as live adds nothing either; one more read unit on one table does.
    let with = |products: Capacity| {
        let mut config = config.clone();
        config.tables.billing = Billing::Provisioned {
            products,
            carts: Capacity { read: 2, write: 2 },
            orders: Capacity { read: 2, write: 2 },
        };
        config
    };
    let (counted, lists, _, _) = run(with(Capacity { read: 2, write: 2 })).await;
    assert!(!counted);
    assert_eq!(lists, 0);
    let (counted, lists, _, _) = run(with(Capacity { read: 3, write: 2 })).await;
    assert!(counted);
    assert_eq!(lists, KNOWN_REGIONS.len());
    for kind in TableKind::ALL {
        delete_table(&account, region, &config.names().table(kind)).await;
    }
}

#[tokio::test]
async fn refuses_each_over_free_configuration_and_allow_charges_lets_it_through() {
    // A fresh account has no tables: only the configuration itself decides.
    let account = Account::new().await;
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
        let refused = refusal(&account, config.clone())
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

        let ctx = account.ctx(config, Mode::Plan, &[]).await;
        let findings = guard::preflight(&ctx, true, Count::Always)
            .await
            .expect("--allow-charges accepts the charges")
            .findings;
        assert_eq!(
            findings.iter().map(|f| f.kind).collect::<Vec<_>>(),
            with_flood(kind)
        );
    }
}
