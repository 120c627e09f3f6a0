//! The account's Free Tier plan (`GetAccountPlanState`). moto has no Free Tier API (it answers HTTP 500), so
//! the answers of a Free-plan, a paid and a legacy account and a denial come from the fault layer, in the
//! shapes AWS documents (AWS Billing and Cost Management API reference, "GetAccountPlanState": awsJson1_0,
//! target `AWSFreeTierService.GetAccountPlanState`, `accountPlanType` FREE | PAID, `accountPlanStatus`
//! NOT_STARTED | ACTIVE | EXPIRED, `accountPlanRemainingCredits` { amount, unit }, `accountPlanExpirationDate`;
//! errors AccessDeniedException and ResourceNotFoundException with HTTP 400). That a legacy account answers
//! ResourceNotFoundException is this tool's assumption (the reference lists the error, not who gets it).

use serde_json::json;
use shopsmart_deploy::freetier::AccountPlan;
use shopsmart_deploy::report::Reporter;
use shopsmart_deploy::stack;
use time::macros::date;

use crate::support::faults::{plan_ctx, Canned, Faults, SeenRequest};
use crate::support::*;

fn plan_state(request: &SeenRequest, _: &[SeenRequest]) -> bool {
    request.target.as_deref() == Some("AWSFreeTierService.GetAccountPlanState")
}

/// The plan `GetAccountPlanState` reads when the Free Tier API answers `answer`, from a stack in eu-west-1;
/// asserts the one request went to the API's us-east-1 endpoint.
async fn read_with(answer: Canned) -> AccountPlan {
    let faults = Faults::new();
    let hits = faults.inject(usize::MAX, plan_state, answer);
    let ctx = plan_ctx(&faults, "eu-west-1").await;
    let plan = AccountPlan::read(&ctx).await;
    assert_eq!(hits.count(), 1, "asked once, not retried");
    let asked = faults.seen(plan_state);
    assert_eq!(asked.len(), 1);
    assert_eq!(
        asked[0].region, "us-east-1",
        "the Free Tier API lives in us-east-1"
    );
    plan
}

#[tokio::test]
async fn a_free_plan_account_with_credits() {
    let plan = read_with(Canned::dynamodb_ok(json!({
        "accountId": MOTO_ACCOUNT_ID,
        "accountPlanType": "FREE",
        "accountPlanStatus": "ACTIVE",
        "accountPlanRemainingCredits": { "amount": 183.2, "unit": "USD" },
        "accountPlanExpirationDate": "2027-05-01T00:00:00Z"
    })))
    .await;
    assert_eq!(
        plan,
        AccountPlan::Free {
            status: "ACTIVE".into(),
            credits_cents: 18_320,
            ends: Some(date!(2027 - 05 - 01)),
        }
    );
    assert_eq!(
        serde_json::to_value(&plan).unwrap(),
        json!({ "plan": "free", "status": "ACTIVE", "credits_cents": 18320, "ends": "2027-05-01" })
    );
}

#[tokio::test]
async fn a_paid_plan_account() {
    let plan = read_with(Canned::dynamodb_ok(json!({
        "accountId": MOTO_ACCOUNT_ID,
        "accountPlanType": "PAID",
        "accountPlanStatus": "ACTIVE",
        "accountPlanRemainingCredits": { "amount": 0.0, "unit": "USD" }
    })))
    .await;
    assert_eq!(
        plan,
        AccountPlan::Paid {
            credits_cents: 0,
            credits_until: None
        }
    );
}

#[tokio::test]
async fn a_legacy_account_has_no_plan() {
    let plan = read_with(Canned::aws_json_error(
        400,
        "ResourceNotFoundException",
        "Account plan not found",
    ))
    .await;
    assert_eq!(plan, AccountPlan::Legacy);
}

#[tokio::test]
async fn a_denial_falls_back_to_list_prices_naming_the_permission() {
    let plan = read_with(Canned::aws_json_error(
        400,
        "AccessDeniedException",
        "User: arn:aws:iam::123456789012:user/learner is not authorized to perform: freetier:GetAccountPlanState",
    ))
    .await;
    let AccountPlan::Unknown { why } = &plan else {
        panic!("{plan:?}")
    };
    assert!(why.contains("`freetier:GetAccountPlanState`"), "{why}");
}

#[tokio::test]
async fn moto_has_no_free_tier_api_and_is_asked_once() {
    let faults = Faults::new();
    let ctx = plan_ctx(&faults, "us-east-1").await;
    let plan = AccountPlan::read(&ctx).await;
    assert_eq!(
        plan,
        AccountPlan::Unknown {
            why: "an emulator has no Free Tier API".into()
        }
    );
    let asked = faults.seen(plan_state).len();
    assert_eq!(asked, 1, "an emulator's 500 is not retried");
}

#[tokio::test]
async fn plan_and_up_carry_the_plan_for_their_summaries() {
    let account = Account::new().await;
    let faults = Faults::new();
    faults.inject(
        usize::MAX,
        plan_state,
        Canned::dynamodb_ok(json!({
            "accountId": account.id,
            "accountPlanType": "FREE",
            "accountPlanStatus": "ACTIVE",
            "accountPlanRemainingCredits": { "amount": 100, "unit": "USD" },
            "accountPlanExpirationDate": "2027-01-31T00:00:00Z"
        })),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut opts = stack_options(
        test_config(&unique_stage(), "eu-west-3"),
        &write_test_zip(dir.path()),
        vec![account.interceptor()],
        false,
    );
    opts.http_client = Some(aws_smithy_runtime_api::client::http::SharedHttpClient::new(
        faults.clone(),
    ));
    let expected = AccountPlan::Free {
        status: "ACTIVE".into(),
        credits_cents: 10_000,
        ends: Some(date!(2027 - 01 - 31)),
    };
    let planned = stack::plan(&opts, &Reporter::quiet()).await.unwrap();
    assert_eq!(planned.account_plan.as_ref(), Some(&expected));
    let upped = stack::up(&opts, &Reporter::quiet()).await.unwrap();
    assert_eq!(upped.account_plan.as_ref(), Some(&expected));
    // A no-op up has nothing new to say about cost: it does not ask (one call fewer on every day-2 run).
    let asked = || {
        faults
            .history()
            .iter()
            .filter(|r| plan_state(r, &[]))
            .count()
    };
    let before = asked();
    let again = stack::up(&opts, &Reporter::quiet()).await.unwrap();
    assert_eq!((again.account_plan, asked()), (None, before));
    stack::destroy(&opts, &Reporter::quiet()).await.unwrap();
}
