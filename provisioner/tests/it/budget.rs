//! The optional zero-spend AWS Budgets alert against moto. moto 5.2.1 implements create/describe/delete
//! budget and create/delete/describe notifications, but neither the Budgets tagging API nor the subscriber
//! calls (DescribeSubscribersForNotification, UpdateSubscriber, ...). Only those are answered here, through
//! the fault-injecting HTTP client, from the history of requests the SDK really sent: the tags and subscribers
//! a budget got from CreateBudget / TagResource / UpdateSubscriber. Everything else goes to moto.

use serde_json::{json, Value};

use shopsmart_deploy::change::{Action, FieldChange};
use shopsmart_deploy::config::model::{AlertsConfig, Config};
use shopsmart_deploy::resources::{budget, Ctx, Mode};

use aws_smithy_runtime_api::client::http::SharedHttpClient;
use shopsmart_deploy::report::Reporter;
use shopsmart_deploy::stack::{self, StackOptions};

use crate::support::faults::{ctx_with_faults, Canned, Faults, SeenRequest};
use crate::support::{stack_options, test_config, unique_stage, write_test_zip, CallLog};

const TARGET_PREFIX: &str = "AWSBudgetServiceGateway.";

fn operation(request: &SeenRequest) -> Option<&str> {
    request.target.as_deref()?.strip_prefix(TARGET_PREFIX)
}

fn body(request: &SeenRequest) -> Value {
    serde_json::from_str(&request.body).unwrap_or(Value::Null)
}

fn budget_name_of(request: &SeenRequest) -> Option<String> {
    let body = body(request);
    let name = match operation(request)? {
        "CreateBudget" => body["Budget"]["BudgetName"].as_str(),
        "ListTagsForResource" | "TagResource" => body["ResourceARN"]
            .as_str()
            .and_then(|arn| arn.rsplit_once(":budget/"))
            .map(|(_, name)| name),
        _ => body["BudgetName"].as_str(),
    };
    name.map(str::to_owned)
}

/// The tags the budget named in `request` has, replayed from the history: set by CreateBudget's
/// ResourceTags, extended by TagResource, forgotten by DeleteBudget.
fn emulated_tags(request: &SeenRequest, history: &[SeenRequest]) -> Vec<Value> {
    let name = budget_name_of(request);
    let mut tags: Vec<Value> = Vec::new();
    for earlier in history.iter().filter(|r| budget_name_of(r) == name) {
        let body = body(earlier);
        match operation(earlier) {
            Some("CreateBudget") => {
                tags = body["ResourceTags"].as_array().cloned().unwrap_or_default()
            }
            Some("TagResource") => {
                for tag in body["ResourceTags"].as_array().cloned().unwrap_or_default() {
                    tags.retain(|t| t["Key"] != tag["Key"]);
                    tags.push(tag);
                }
            }
            Some("DeleteBudget") => tags.clear(),
            _ => {}
        }
    }
    tags
}

/// The subscribers of the (single) notification of the budget named in `request`, replayed likewise.
fn emulated_subscribers(request: &SeenRequest, history: &[SeenRequest]) -> Vec<Value> {
    let name = budget_name_of(request);
    let mut subscribers: Vec<Value> = Vec::new();
    for earlier in history.iter().filter(|r| budget_name_of(r) == name) {
        let body = body(earlier);
        match operation(earlier) {
            Some("CreateBudget") => {
                subscribers = body["NotificationsWithSubscribers"][0]["Subscribers"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            }
            Some("CreateNotification") => {
                subscribers = body["Subscribers"].as_array().cloned().unwrap_or_default()
            }
            Some("UpdateSubscriber") => {
                subscribers.retain(|s| *s != body["OldSubscriber"]);
                subscribers.push(body["NewSubscriber"].clone());
            }
            Some("CreateSubscriber") => subscribers.push(body["Subscriber"].clone()),
            Some("DeleteSubscriber") => subscribers.retain(|s| *s != body["Subscriber"]),
            Some("DeleteBudget") => subscribers.clear(),
            _ => {}
        }
    }
    subscribers
}

/// A fault client that fills exactly moto's Budgets gaps (see the file comment).
pub(crate) fn budgets_gaps() -> Faults {
    let faults = Faults::new();
    add_budgets_gaps(&faults);
    faults
}

/// [`budgets_gaps`]'s answers, on `faults` (beside its other stand-ins).
pub(crate) fn add_budgets_gaps(faults: &Faults) {
    let is = |op: &'static str| move |r: &SeenRequest, _: &[SeenRequest]| operation(r) == Some(op);
    faults.inject_with(usize::MAX, is("ListTagsForResource"), |r, history| {
        Canned::aws_json_ok(json!({ "ResourceTags": emulated_tags(r, history) }))
    });
    faults.inject_with(
        usize::MAX,
        is("DescribeSubscribersForNotification"),
        |r, history| {
            Canned::aws_json_ok(json!({ "Subscribers": emulated_subscribers(r, history) }))
        },
    );
    for op in [
        "TagResource",
        "UpdateSubscriber",
        "CreateSubscriber",
        "DeleteSubscriber",
    ] {
        faults.inject(usize::MAX, is(op), Canned::aws_json_ok(json!({})));
    }
}

fn alert_config(stage: &str, email: Option<&str>) -> Config {
    let mut config = test_config(stage, "us-east-1");
    config.alerts = email.map(|email| AlertsConfig {
        email: email.to_owned(),
    });
    config
}

async fn ctx(config: Config, mode: Mode, log: &CallLog, faults: &Faults) -> Ctx {
    ctx_with_faults(config, mode, &[log.interceptor()], faults).await
}

/// The budget as moto stores it: (limit amount, unit, period, type), or `None` when absent.
async fn describe(ctx: &Ctx) -> Option<(String, String, String, String)> {
    let result = ctx
        .aws
        .budgets
        .describe_budget()
        .account_id(&ctx.account_id)
        .budget_name(ctx.names.budget())
        .send()
        .await;
    match result {
        Ok(output) => {
            let budget = output.budget.expect("a budget");
            let limit = budget.budget_limit().expect("a limit");
            Some((
                limit.amount().to_owned(),
                limit.unit().to_owned(),
                budget.time_unit().as_str().to_owned(),
                budget.budget_type().as_str().to_owned(),
            ))
        }
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_not_found_exception()) =>
        {
            None
        }
        Err(err) => panic!("describing the budget: {err:?}"),
    }
}

async fn notifications(ctx: &Ctx) -> Vec<(String, String, i64, String)> {
    let output = ctx
        .aws
        .budgets
        .describe_notifications_for_budget()
        .account_id(&ctx.account_id)
        .budget_name(ctx.names.budget())
        .send()
        .await
        .unwrap();
    output
        .notifications()
        .iter()
        .map(|n| {
            (
                n.notification_type().as_str().to_owned(),
                n.comparison_operator().as_str().to_owned(),
                (n.threshold() * 100.0).round() as i64,
                n.threshold_type()
                    .map(|t| t.as_str().to_owned())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_alert_is_created_kept_changed_and_removed() {
    let stage = unique_stage();
    let faults = budgets_gaps();
    let log = CallLog::default();
    let config = alert_config(&stage, Some("first@example.com"));
    let apply = ctx(config.clone(), Mode::Apply, &log, &faults).await;
    let name = apply.names.budget();
    assert_eq!(name, format!("shopsmart-{stage}-zero-spend"));

    // Create: a monthly 0.01 USD cost budget with one ACTUAL > 0.01 USD email notification.
    let created = budget::converge(&apply).await.unwrap();
    assert_eq!(created.map(|c| c.action), Some(Action::Create));
    let (amount, unit, period, kind) = describe(&apply).await.expect("the budget exists");
    assert_eq!(budget::parse_cents(&amount), Some(1), "limit {amount}");
    assert_eq!(
        (unit.as_str(), period.as_str(), kind.as_str()),
        ("USD", "MONTHLY", "COST")
    );
    assert_eq!(
        notifications(&apply).await,
        vec![(
            "ACTUAL".to_owned(),
            "GREATER_THAN".to_owned(),
            1,
            "ABSOLUTE_VALUE".to_owned()
        )]
    );
    let create_body = faults
        .history()
        .into_iter()
        .find(|r| operation(r) == Some("CreateBudget"))
        .map(|r| body(&r))
        .expect("CreateBudget was sent");
    assert_eq!(
        create_body["NotificationsWithSubscribers"][0]["Subscribers"],
        json!([{ "SubscriptionType": "EMAIL", "Address": "first@example.com" }])
    );
    // Usage paid by credits counts: the alert fires when usage stops being free, credits or not.
    assert_eq!(
        create_body["Budget"]["CostTypes"]["IncludeCredit"],
        json!(false)
    );
    let tags = create_body["ResourceTags"].as_array().unwrap();
    assert!(
        tags.contains(&json!({ "Key": "shopsmart:stack", "Value": format!("shopsmart-{stage}") }))
    );
    assert!(tags.contains(&json!({ "Key": "purpose", "Value": "learning" })));

    // Converge again: nothing differs, no write.
    log.clear();
    let again = budget::converge(&apply).await.unwrap();
    assert_eq!(again.map(|c| c.action), Some(Action::Unchanged));
    assert_eq!(log.mutating_calls(), Vec::<String>::new());

    // Email changed: plan shows exactly that field; apply changes only it.
    let changed = alert_config(&stage, Some("second@example.com"));
    log.clear();
    let planned = budget::converge(&ctx(changed.clone(), Mode::Plan, &log, &faults).await)
        .await
        .unwrap()
        .expect("a change");
    assert_eq!(
        planned.action,
        Action::Update {
            fields: vec![FieldChange::new(
                "email",
                "first@example.com",
                "second@example.com"
            )]
        }
    );
    assert_eq!(log.mutating_calls(), Vec::<String>::new());
    let apply_changed = ctx(changed.clone(), Mode::Apply, &log, &faults).await;
    budget::converge(&apply_changed).await.unwrap();
    assert_eq!(log.mutating_calls(), vec!["Budgets.UpdateSubscriber"]);
    let update = faults
        .history()
        .into_iter()
        .rfind(|r| operation(r) == Some("UpdateSubscriber"))
        .map(|r| body(&r))
        .unwrap();
    assert_eq!(update["OldSubscriber"]["Address"], "first@example.com");
    assert_eq!(update["NewSubscriber"]["Address"], "second@example.com");
    log.clear();
    let settled = budget::converge(&apply_changed).await.unwrap();
    assert_eq!(settled.map(|c| c.action), Some(Action::Unchanged));
    assert_eq!(log.mutating_calls(), Vec::<String>::new());

    // Alerts removed from the config: plan shows the delete without writing; up deletes the budget.
    let removed = alert_config(&stage, None);
    log.clear();
    let planned = budget::converge(&ctx(removed.clone(), Mode::Plan, &log, &faults).await)
        .await
        .unwrap();
    assert_eq!(planned.map(|c| c.action), Some(Action::Delete));
    assert_eq!(log.mutating_calls(), Vec::<String>::new());
    let apply_removed = ctx(removed, Mode::Apply, &log, &faults).await;
    let deleted = budget::converge(&apply_removed).await.unwrap();
    assert_eq!(deleted.map(|c| c.action), Some(Action::Delete));
    assert_eq!(log.mutating_calls(), vec!["Budgets.DeleteBudget"]);
    assert_eq!(describe(&apply_removed).await, None);
}

#[tokio::test]
async fn destroy_deletes_our_budget_and_twice_is_fine() {
    let stage = unique_stage();
    let faults = budgets_gaps();
    let log = CallLog::default();
    let apply = ctx(
        alert_config(&stage, Some("me@example.com")),
        Mode::Apply,
        &log,
        &faults,
    )
    .await;
    budget::converge(&apply).await.unwrap();
    assert!(describe(&apply).await.is_some());

    let first = budget::destroy(&apply).await.unwrap();
    assert_eq!(first.map(|c| c.action), Some(Action::Delete));
    assert_eq!(describe(&apply).await, None);
    log.clear();
    let second = budget::destroy(&apply).await.unwrap();
    assert_eq!(second.map(|c| c.action), Some(Action::AlreadyGone));
    assert_eq!(log.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn a_foreign_budget_with_our_name_is_left_untouched() {
    let stage = unique_stage();
    let faults = budgets_gaps();
    let log = CallLog::default();
    let apply = ctx(
        alert_config(&stage, Some("me@example.com")),
        Mode::Apply,
        &log,
        &faults,
    )
    .await;
    // Someone else's budget of the same name, 5 USD and untagged (the emulated ListTagsForResource answers
    // with the tags CreateBudget carried: none).
    let foreign_budget = aws_sdk_budgets::types::Budget::builder()
        .budget_name(apply.names.budget())
        .budget_type(aws_sdk_budgets::types::BudgetType::Cost)
        .time_unit(aws_sdk_budgets::types::TimeUnit::Monthly)
        .budget_limit(
            aws_sdk_budgets::types::Spend::builder()
                .amount("5")
                .unit("USD")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    apply
        .aws
        .budgets
        .create_budget()
        .account_id(&apply.account_id)
        .budget(foreign_budget)
        .send()
        .await
        .unwrap();
    let before = describe(&apply).await;

    log.clear();
    let err = budget::converge(&apply).await.unwrap_err().to_string();
    assert!(err.contains("not tagged shopsmart:stack"), "{err}");
    assert!(err.contains("left untouched"), "{err}");
    assert!(err.contains(&apply.names.budget()), "{err}");
    let err = budget::destroy(&apply).await.unwrap_err().to_string();
    assert!(err.contains("left untouched"), "{err}");
    assert_eq!(log.mutating_calls(), Vec::<String>::new());

    // With alerts off it is none of this stack's business: no error, no write.
    let off = ctx(alert_config(&stage, None), Mode::Apply, &log, &faults).await;
    assert_eq!(budget::converge(&off).await.unwrap(), None);
    assert_eq!(budget::destroy(&off).await.unwrap(), None);
    assert_eq!(log.mutating_calls(), Vec::<String>::new());
    assert_eq!(describe(&apply).await, before);
    assert!(before.is_some());

    apply
        .aws
        .budgets
        .delete_budget()
        .account_id(&apply.account_id)
        .budget_name(apply.names.budget())
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn without_alerts_and_without_a_budget_only_one_read_is_made() {
    let stage = unique_stage();
    // No fault rules at all: moto must answer everything this path sends.
    let faults = Faults::new();
    let log = CallLog::default();
    let apply = ctx(alert_config(&stage, None), Mode::Apply, &log, &faults).await;
    assert_eq!(budget::converge(&apply).await.unwrap(), None);
    assert_eq!(log.calls(), vec!["Budgets.DescribeBudget"]);
    log.clear();
    assert_eq!(budget::destroy(&apply).await.unwrap(), None);
    assert_eq!(log.calls(), vec!["Budgets.DescribeBudget"]);
}

/// With `alerts` off, `up`, `plan`, `status` and `destroy` need no Budgets permission: a refused
/// DescribeBudget (AWS Budgets' AccessDeniedException, awsJson1_1) is a note, not a failure.
#[tokio::test]
async fn without_alerts_a_refused_budget_read_is_a_note_not_a_failure() {
    let faults = Faults::new();
    let denied = faults.inject(
        usize::MAX,
        |r, _| operation(r) == Some("DescribeBudget"),
        Canned {
            status: 400,
            headers: vec![
                ("content-type".into(), "application/x-amz-json-1.1".into()),
                ("x-amzn-requestid".into(), "fault-injected".into()),
            ],
            body: json!({
                "__type": "AccessDeniedException",
                "Message": "User: arn:aws:iam::123456789012:user/learner is not authorized to perform: budgets:ViewBudget"
            })
            .to_string(),
        },
    );
    let log = CallLog::default();
    let apply = ctx(
        alert_config(&unique_stage(), None),
        Mode::Apply,
        &log,
        &faults,
    )
    .await;
    let mut notes = apply.notes.listen();
    assert_eq!(budget::converge(&apply).await.unwrap(), None);
    assert_eq!(budget::destroy(&apply).await.unwrap(), None);
    assert_eq!(denied.count(), 2);
    assert!(notes.try_recv().unwrap().contains("budgets:ViewBudget"));
    // With alerts on, the same refusal stops and names the permission.
    let on = ctx(
        alert_config(&unique_stage(), Some("a@example.com")),
        Mode::Apply,
        &log,
        &faults,
    )
    .await;
    let err = shopsmart_deploy::error::chain(&budget::converge(&on).await.unwrap_err());
    assert!(err.contains("may not do budgets:ViewBudget"), "{err}");
}

/// A budget that subtracts credits (AWS's default, or one made before this rule) is changed to count them:
/// plan names the field, apply updates the budget, and a second run finds nothing to do. moto answers
/// UpdateBudget with a 500, so the fault layer stands in for it and for DescribeBudget (documented shapes):
/// IncludeCredit is true until an UpdateBudget was sent.
#[tokio::test]
async fn a_budget_that_subtracts_credits_is_changed_to_count_them() {
    let faults = budgets_gaps();
    let log = CallLog::default();
    let config = alert_config(&unique_stage(), Some("a@example.com"));
    let apply = ctx(config.clone(), Mode::Apply, &log, &faults).await;
    budget::converge(&apply).await.unwrap();
    let name = apply.names.budget();
    faults.inject(
        usize::MAX,
        |r, _| operation(r) == Some("UpdateBudget"),
        Canned::aws_json_ok(json!({})),
    );
    faults.inject_with(
        usize::MAX,
        |r, _| operation(r) == Some("DescribeBudget"),
        move |_, history| {
            let updated = history.iter().any(|r| operation(r) == Some("UpdateBudget"));
            Canned::aws_json_ok(json!({ "Budget": {
                "BudgetName": name,
                "BudgetLimit": { "Amount": "0.01", "Unit": "USD" },
                "CostTypes": { "IncludeCredit": !updated },
                "TimeUnit": "MONTHLY",
                "BudgetType": "COST"
            }}))
        },
    );
    let expected = Action::Update {
        fields: vec![FieldChange::new(
            "cost_types.include_credit",
            "true",
            "false",
        )],
    };
    let plan = ctx(config, Mode::Plan, &log, &faults).await;
    assert_eq!(
        budget::converge(&plan).await.unwrap().unwrap().action,
        expected
    );
    log.clear();
    assert_eq!(
        budget::converge(&apply).await.unwrap().unwrap().action,
        expected
    );
    assert_eq!(log.mutating_calls(), vec!["Budgets.UpdateBudget"]);
    let sent = faults
        .history()
        .into_iter()
        .find(|r| operation(r) == Some("UpdateBudget"));
    assert_eq!(
        body(&sent.unwrap())["NewBudget"]["CostTypes"]["IncludeCredit"],
        json!(false)
    );
    let again = budget::converge(&apply).await.unwrap().unwrap();
    assert_eq!(again.action, Action::Unchanged);
    budget::destroy(&apply).await.unwrap();
}

/// The Budgets calls `log` recorded.
fn budgets_calls(log: &CallLog) -> Vec<String> {
    let calls = log.calls().into_iter();
    calls.filter(|c| c.starts_with("Budgets.")).collect()
}

/// The website bucket's tags (the marker that a budget of the stack may exist is one of them).
async fn bucket_tags(ctx: &Ctx) -> Vec<(String, String)> {
    let bucket = shopsmart_deploy::resources::website_bucket::bucket_name(ctx);
    let tagging = ctx.aws.s3.get_bucket_tagging().bucket(bucket).send().await;
    let tags = tagging.unwrap().tag_set().to_vec();
    tags.into_iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

/// A stack's `up` and `destroy` through `faults` (the Budgets stand-in: one for the whole test, as it
/// keeps the budgets' tags), `log` recording.
fn stack_with(
    config: Config,
    zip: &std::path::Path,
    log: &CallLog,
    faults: &Faults,
) -> StackOptions {
    let mut opts = stack_options(config, zip, vec![log.interceptor()], true);
    opts.http_client = Some(SharedHttpClient::new(faults.clone()));
    opts
}

/// `alerts` on, then off: the website bucket carries `shopsmart:budget=on` while there may be a budget, so
/// the first `up` without alerts finds the budget (the bucket is read anyway), deletes it and takes the mark
/// off; from then on no Budgets call at all. A `destroy` with alerts off of a stack marked so deletes the
/// budget too (before the bucket, whose mark outlives it).
#[tokio::test]
async fn alerts_turned_off_remove_the_budget_and_then_cost_no_budgets_call() {
    let dir = tempfile::tempdir().unwrap();
    let zip = write_test_zip(dir.path());
    let quiet = Reporter::quiet();
    let faults = budgets_gaps();
    let on = alert_config(&unique_stage(), Some("me@example.com"));
    let off = Config {
        alerts: None,
        ..on.clone()
    };
    let log = CallLog::default();
    stack::up(&stack_with(on.clone(), &zip, &log, &faults), &quiet)
        .await
        .unwrap();
    let read = ctx(on.clone(), Mode::Plan, &log, &faults).await;
    assert!(describe(&read).await.is_some());
    let marker = ("shopsmart:budget".to_owned(), "on".to_owned());
    assert!(bucket_tags(&read).await.contains(&marker));

    log.clear();
    let changes = stack::up(&stack_with(off.clone(), &zip, &log, &faults), &quiet)
        .await
        .unwrap()
        .changes;
    let budget = changes.iter().find(|c| c.kind == budget::KIND);
    assert_eq!(
        budget.map(|c| &c.action),
        Some(&Action::Delete),
        "{changes:?}"
    );
    assert!(budgets_calls(&log).contains(&"Budgets.DeleteBudget".to_owned()));
    assert_eq!(describe(&read).await, None);
    assert!(!bucket_tags(&read).await.contains(&marker));

    log.clear();
    stack::up(&stack_with(off.clone(), &zip, &log, &faults), &quiet)
        .await
        .unwrap();
    stack::destroy(&stack_with(off.clone(), &zip, &log, &faults), &quiet)
        .await
        .unwrap();
    assert_eq!(budgets_calls(&log), Vec::<String>::new());

    // Alerts on for an `up`, then a `destroy` with them off: the mark says to look, and the budget goes.
    let on = alert_config(&unique_stage(), Some("me@example.com"));
    stack::up(&stack_with(on.clone(), &zip, &log, &faults), &quiet)
        .await
        .unwrap();
    let read = ctx(on.clone(), Mode::Plan, &log, &faults).await;
    assert!(describe(&read).await.is_some());
    let off = Config { alerts: None, ..on };
    stack::destroy(&stack_with(off, &zip, &log, &faults), &quiet)
        .await
        .unwrap();
    assert_eq!(describe(&read).await, None);
}
