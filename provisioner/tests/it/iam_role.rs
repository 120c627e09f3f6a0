//! The function's IAM role against moto: exact trust and inline policy, idempotent second converge, a
//! drifted policy shown by plan and rewritten alone, destroy (policies first) twice, foreign role untouched.

use std::collections::BTreeSet;

use crate::support::resources::iam_role;
use serde_json::{json, Value};
use shopsmart_deploy::change::Action;
use shopsmart_deploy::names::STACK_TAG_KEY;
use shopsmart_deploy::resources::Mode;

use crate::support;
use crate::support::faults::{ctx_with_faults, Canned, Faults};
use crate::support::*;

fn strings(value: &Value) -> BTreeSet<String> {
    match value {
        Value::String(s) => BTreeSet::from([s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect(),
        other => panic!("expected a string or list, got {other}"),
    }
}

#[tokio::test]
async fn role_and_policy_converge_drift_and_destroy() {
    let log = CallLog::default();
    let stage = unique_stage();
    let ctx = ctx(
        test_config(&stage, "us-east-1"),
        Mode::Apply,
        &[log.interceptor()],
    )
    .await;
    let stack = format!("shopsmart-{stage}");

    let (changes, arn) = iam_role::converge(&ctx).await.unwrap();
    assert_eq!(
        changes.iter().map(|c| c.action.clone()).collect::<Vec<_>>(),
        vec![Action::Create, Action::Create]
    );
    assert_eq!(
        arn,
        format!("arn:aws:iam::123456789012:role/{stack}-us-east-1-function-role")
    );

    // Trust: only Lambda may assume it.
    let role = ctx
        .aws
        .iam
        .get_role()
        .role_name(format!("{stack}-us-east-1-function-role"))
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    let trust = iam_role::decode_policy(role.assume_role_policy_document().unwrap()).unwrap();
    assert_eq!(
        trust["Statement"][0]["Principal"],
        json!({"Service": "lambda.amazonaws.com"})
    );
    assert_eq!(trust["Statement"][0]["Action"], json!("sts:AssumeRole"));
    let tags = ctx
        .aws
        .iam
        .list_role_tags()
        .role_name(format!("{stack}-us-east-1-function-role"))
        .send()
        .await
        .unwrap();
    assert!(tags
        .tags()
        .iter()
        .any(|t| t.key() == STACK_TAG_KEY && t.value() == stack));

    // The inline policy holds exactly these actions on exactly these resources; no managed policies.
    let document = ctx
        .aws
        .iam
        .get_role_policy()
        .role_name(format!("{stack}-us-east-1-function-role"))
        .policy_name(format!("{stack}-function-access"))
        .send()
        .await
        .unwrap();
    let policy = iam_role::decode_policy(document.policy_document()).unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 2);
    assert!(statements.iter().all(|s| s["Effect"] == "Allow"));
    assert_eq!(
        strings(&statements[0]["Action"]),
        [
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:Query",
            "dynamodb:Scan",
            "dynamodb:BatchGetItem",
            "dynamodb:ConditionCheckItem"
        ]
        .map(String::from)
        .into()
    );
    assert_eq!(
        strings(&statements[0]["Resource"]),
        ["products", "carts", "orders"]
            .map(|t| format!("arn:aws:dynamodb:us-east-1:123456789012:table/{stack}-{t}"))
            .into()
    );
    assert_eq!(
        strings(&statements[1]["Action"]),
        ["logs:CreateLogStream", "logs:PutLogEvents"]
            .map(String::from)
            .into()
    );
    assert_eq!(
        strings(&statements[1]["Resource"]),
        BTreeSet::from([format!(
            "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/{stack}-api:*"
        )])
    );
    let attached = ctx
        .aws
        .iam
        .list_attached_role_policies()
        .role_name(format!("{stack}-us-east-1-function-role"))
        .send()
        .await;
    assert!(attached.unwrap().attached_policies().is_empty());
    let inline = ctx
        .aws
        .iam
        .list_role_policies()
        .role_name(format!("{stack}-us-east-1-function-role"))
        .send()
        .await
        .unwrap();
    assert_eq!(inline.policy_names(), [format!("{stack}-function-access")]);

    // Second converge: zero mutating calls.
    log.clear();
    let (again, _) = iam_role::converge(&ctx).await.unwrap();
    assert!(
        again.iter().all(|c| c.action == Action::Unchanged),
        "{again:?}"
    );
    assert_eq!(log.mutating_calls(), Vec::<String>::new());

    // Someone widens the policy by hand: plan shows the document drift, up rewrites only the policy.
    ctx.aws
        .iam
        .put_role_policy()
        .role_name(format!("{stack}-us-east-1-function-role"))
        .policy_name(format!("{stack}-function-access"))
        .policy_document(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}).to_string())
        .send()
        .await
        .unwrap();
    let plan_ctx = support::ctx(ctx.config.clone(), Mode::Plan, &[log.interceptor()]).await;
    log.clear();
    let (planned, _) = iam_role::converge(&plan_ctx).await.unwrap();
    assert_eq!(planned[0].action, Action::Unchanged);
    let Action::Update { fields } = &planned[1].action else {
        panic!("policy drift not seen: {planned:?}")
    };
    assert_eq!(
        fields.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(),
        ["document"]
    );
    assert!(fields[0].old.contains("dynamodb:*"));
    assert_eq!(log.mutating_calls(), Vec::<String>::new());
    log.clear();
    iam_role::converge(&ctx).await.unwrap();
    assert_eq!(log.mutating_calls(), vec!["IAM.PutRolePolicy".to_owned()]);
    assert_eq!(
        iam_role::read_policy(&ctx).await.unwrap().unwrap(),
        iam_role::access_policy(&ctx)
    );

    // Destroy deletes the inline policy first (IAM refuses otherwise), then the role; twice is fine.
    log.clear();
    let destroyed = iam_role::destroy(&ctx).await.unwrap();
    assert_eq!(
        destroyed
            .iter()
            .map(|c| c.action.clone())
            .collect::<Vec<_>>(),
        vec![Action::Delete]
    );
    let mutating = log.mutating_calls();
    assert_eq!(
        mutating,
        vec![
            "IAM.DeleteRolePolicy".to_owned(),
            "IAM.DeleteRole".to_owned()
        ]
    );
    assert!(iam_role::read(&ctx).await.unwrap().is_none());
    let again = iam_role::destroy(&ctx).await.unwrap();
    assert_eq!(
        again.iter().map(|c| c.action.clone()).collect::<Vec<_>>(),
        vec![Action::AlreadyGone]
    );
}

#[tokio::test]
async fn a_foreign_role_with_our_name_is_never_touched() {
    let ctx = ctx(test_config(&unique_stage(), "us-east-1"), Mode::Apply, &[]).await;
    let name = ctx.names.role();
    ctx.aws
        .iam
        .create_role()
        .role_name(&name)
        .assume_role_policy_document(iam_role::trust_policy().to_string())
        .send()
        .await
        .unwrap();
    ctx.aws.iam.put_role_policy().role_name(&name).policy_name("theirs").policy_document(
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}).to_string(),
    ).send().await.unwrap();

    let err = iam_role::converge(&ctx).await.unwrap_err();
    assert!(
        format!("{err:#}").contains("is not tagged shopsmart:stack="),
        "{err:#}"
    );
    let err = iam_role::destroy(&ctx).await.unwrap_err();
    assert!(format!("{err:#}").contains("left untouched"), "{err:#}");

    let policies = ctx
        .aws
        .iam
        .list_role_policies()
        .role_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(policies.policy_names(), ["theirs".to_owned()]);
    ctx.aws
        .iam
        .delete_role_policy()
        .role_name(&name)
        .policy_name("theirs")
        .send()
        .await
        .unwrap();
    ctx.aws
        .iam
        .delete_role()
        .role_name(&name)
        .send()
        .await
        .unwrap();
}

/// Real IAM returns policy documents URL-encoded; moto 5.2.1 does too, so the zero-mutation second
/// converge above already proves they are decoded before comparing. This pins that premise down.
#[tokio::test]
async fn iam_hands_back_url_encoded_documents_and_a_second_converge_writes_nothing() {
    let log = CallLog::default();
    let ctx = ctx(
        test_config(&unique_stage(), "us-east-1"),
        Mode::Apply,
        &[log.interceptor()],
    )
    .await;
    iam_role::converge(&ctx).await.unwrap();
    let raw = ctx
        .aws
        .iam
        .get_role_policy()
        .role_name(ctx.names.role())
        .policy_name(ctx.names.role_policy())
        .send()
        .await
        .unwrap();
    assert!(
        raw.policy_document().starts_with("%7B"),
        "{}",
        raw.policy_document()
    );
    let role = ctx
        .aws
        .iam
        .get_role()
        .role_name(ctx.names.role())
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    eprintln!(
        "trust policy as returned: {:?}",
        role.assume_role_policy_document()
    );

    log.clear();
    let (again, _) = iam_role::converge(&ctx).await.unwrap();
    assert!(
        again.iter().all(|c| c.action == Action::Unchanged),
        "{again:?}"
    );
    assert_eq!(log.mutating_calls(), Vec::<String>::new());
    iam_role::destroy(&ctx).await.unwrap();
}

/// Real IAM is eventually consistent: right after CreateRole, PutRolePolicy can answer NoSuchEntity for a
/// moment (moto never does). The rule answers so twice after CreateRole; the converge retries and succeeds.
#[tokio::test]
async fn a_new_role_not_yet_visible_to_put_role_policy_is_retried() {
    let config = test_config(&unique_stage(), "us-east-1");
    let faults = Faults::new();
    let apply = ctx_with_faults(config.clone(), Mode::Apply, &[], &faults).await;
    let role = apply.names.role();
    let not_yet = faults.inject(
        2,
        |r, history| {
            r.body.contains("Action=PutRolePolicy")
                && history.iter().any(|h| h.body.contains("Action=CreateRole"))
        },
        Canned::query_error(
            404,
            "NoSuchEntity",
            &format!("The role with name {role} cannot be found."),
        ),
    );
    let (changes, _) = iam_role::converge(&apply).await.unwrap();
    assert_eq!(
        changes.iter().map(|c| &c.action).collect::<Vec<_>>(),
        vec![&Action::Create, &Action::Create]
    );
    assert_eq!(not_yet.count(), 2);
    assert!(iam_role::read_policy(&apply).await.unwrap().is_some());
    iam_role::destroy(&apply).await.unwrap();
}
