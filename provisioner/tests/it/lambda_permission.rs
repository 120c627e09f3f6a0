//! The function's invoke permission against moto: exact statement, idempotence, a new API id replaces the
//! SourceArn (remove, then add: AddPermission with an existing statement id is a conflict on real AWS,
//! modelled by fault injection), destroy twice, a foreign function left alone.

use crate::support::resources::lambda_permission;
use shopsmart_deploy::change::{Action, FieldChange};
use shopsmart_deploy::config::model::Config;
use shopsmart_deploy::resources::function_code::zip_bootstrap;
use shopsmart_deploy::resources::http_api::ApiInfo;
use shopsmart_deploy::resources::{Ctx, Mode};

use crate::support::faults::{ctx_with_faults, Canned, Faults};
use crate::support::{ctx, test_config, unique_stage, CallLog};

const REGION: &str = "us-east-1";

/// A function with our name, created directly (the function module has its own tests); `ours` decides the tag.
async fn create_function(ctx: &Ctx, config: &Config, ours: bool) {
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let role = ctx
        .aws
        .iam
        .create_role()
        .role_name(config.names().role())
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    let mut create = ctx
        .aws
        .lambda
        .create_function()
        .function_name(config.names().function())
        .runtime(aws_sdk_lambda::types::Runtime::from("provided.al2023"))
        .handler("bootstrap")
        .role(role.role().unwrap().arn())
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(zip_bootstrap(b"bin").unwrap().into())
                .build(),
        );
    if ours {
        create = create.tags("shopsmart:stack", config.names().stack_id());
    }
    create.send().await.unwrap();
}

fn api(id: &str) -> ApiInfo {
    ApiInfo {
        api_id: id.to_owned(),
        endpoint: format!("https://{id}.execute-api.us-east-1.amazonaws.com"),
    }
}

async fn statement(ctx: &Ctx, sid: &str) -> Option<serde_json::Value> {
    let policy = match ctx
        .aws
        .lambda
        .get_policy()
        .function_name(ctx.names.function())
        .send()
        .await
    {
        Ok(output) => output.policy.unwrap(),
        Err(err)
            if err
                .as_service_error()
                .unwrap()
                .is_resource_not_found_exception() =>
        {
            return None
        }
        Err(err) => panic!("{err:?}"),
    };
    let policy: serde_json::Value = serde_json::from_str(&policy).unwrap();
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == sid)
        .cloned()
}

#[tokio::test]
async fn create_converge_replace_and_destroy() {
    let config = test_config(&unique_stage(), REGION);
    let log = CallLog::default();
    let faults = Faults::new();
    let apply = ctx_with_faults(config.clone(), Mode::Apply, &[log.interceptor()], &faults).await;
    let plan = ctx(config.clone(), Mode::Plan, &[log.interceptor()]).await;
    create_function(&apply, &config, true).await;
    let sid = config.names().invoke_permission_sid();
    let policy_path = format!("/2015-03-31/functions/{}/policy", config.names().function());

    // Real Lambda refuses AddPermission while a statement with the same id exists; moto may
    // not, so this rule answers exactly as Lambda would, based on what was sent before.
    let (add, sid_for_rule) = (policy_path.clone(), sid.clone());
    let conflicts = faults.inject(
        usize::MAX,
        move |r, history| {
            let remove = format!("{add}/{sid_for_rule}");
            let exists = history.iter().rev().find(|h| h.is("POST", &add) || h.is("DELETE", &remove)).is_some_and(|h| h.method == "POST");
            r.is("POST", &add) && exists
        },
        Canned::rest_json_error(409, "ResourceConflictException", "The statement id provided already exists. Please provide a new statement id, or remove the existing statement."),
    );

    assert_eq!(
        lambda_permission::converge(&plan, None)
            .await
            .unwrap()
            .action,
        Action::Create
    );
    assert_eq!(
        lambda_permission::converge(&apply, Some(&api("abc123")))
            .await
            .unwrap()
            .action,
        Action::Create
    );
    let live = statement(&apply, &sid).await.expect("statement added");
    assert_eq!(live["Principal"]["Service"], "apigateway.amazonaws.com");
    assert_eq!(live["Action"], "lambda:InvokeFunction");
    assert_eq!(
        live["Condition"]["ArnLike"]["AWS:SourceArn"],
        "arn:aws:execute-api:us-east-1:123456789012:abc123/*/*"
    );

    log.clear();
    assert_eq!(
        lambda_permission::converge(&apply, Some(&api("abc123")))
            .await
            .unwrap()
            .action,
        Action::Unchanged
    );
    assert_eq!(log.mutating_calls(), Vec::<String>::new());

    // A new API id: plan shows exactly the SourceArn; apply removes the old statement, then adds the new one.
    let expected = Action::Update {
        fields: vec![FieldChange::new(
            "source_arn",
            "arn:aws:execute-api:us-east-1:123456789012:abc123/*/*",
            "arn:aws:execute-api:us-east-1:123456789012:def456/*/*",
        )],
    };
    assert_eq!(
        lambda_permission::converge(&plan, Some(&api("def456")))
            .await
            .unwrap()
            .action,
        expected
    );
    assert_eq!(log.mutating_calls(), Vec::<String>::new());
    assert_eq!(
        lambda_permission::converge(&apply, Some(&api("def456")))
            .await
            .unwrap()
            .action,
        expected
    );
    assert_eq!(
        log.mutating_calls(),
        vec!["Lambda.RemovePermission", "Lambda.AddPermission"]
    );
    assert_eq!(
        conflicts.count(),
        0,
        "never sent AddPermission over an existing statement"
    );
    let live = statement(&apply, &sid).await.unwrap();
    assert_eq!(
        live["Condition"]["ArnLike"]["AWS:SourceArn"],
        "arn:aws:execute-api:us-east-1:123456789012:def456/*/*"
    );

    // The rule is live: a blind AddPermission now gets the typed conflict.
    let blind = apply
        .aws
        .lambda
        .add_permission()
        .function_name(config.names().function())
        .statement_id(&sid)
        .action("lambda:InvokeFunction")
        .principal("apigateway.amazonaws.com")
        .send()
        .await
        .unwrap_err();
    assert!(blind
        .as_service_error()
        .unwrap()
        .is_resource_conflict_exception());
    assert_eq!(conflicts.count(), 1);

    assert_eq!(
        lambda_permission::destroy(&apply).await.unwrap().action,
        Action::Delete
    );
    assert!(statement(&apply, &sid).await.is_none());
    assert_eq!(
        lambda_permission::destroy(&apply).await.unwrap().action,
        Action::AlreadyGone
    );
    apply
        .aws
        .lambda
        .delete_function()
        .function_name(config.names().function())
        .send()
        .await
        .unwrap();
    assert_eq!(
        lambda_permission::destroy(&apply).await.unwrap().action,
        Action::AlreadyGone
    );
}

#[tokio::test]
async fn statement_on_a_foreign_function_is_left_alone() {
    let config = test_config(&unique_stage(), REGION);
    let apply = ctx(config.clone(), Mode::Apply, &[]).await;
    create_function(&apply, &config, false).await;
    let sid = config.names().invoke_permission_sid();
    apply
        .aws
        .lambda
        .add_permission()
        .function_name(config.names().function())
        .statement_id(&sid)
        .action("lambda:InvokeFunction")
        .principal("apigateway.amazonaws.com")
        .source_arn("arn:aws:execute-api:us-east-1:123456789012:other/*/*")
        .send()
        .await
        .unwrap();

    let err = format!(
        "{:#}",
        lambda_permission::converge(&apply, Some(&api("abc123")))
            .await
            .unwrap_err()
    );
    assert!(err.contains("not tagged shopsmart:stack="), "{err}");
    let err = format!(
        "{:#}",
        lambda_permission::destroy(&apply).await.unwrap_err()
    );
    assert!(
        err.contains("permission") && err.contains("left untouched"),
        "{err}"
    );
    let live = statement(&apply, &sid).await.unwrap();
    assert_eq!(
        live["Condition"]["ArnLike"]["AWS:SourceArn"],
        "arn:aws:execute-api:us-east-1:123456789012:other/*/*"
    );
    apply
        .aws
        .lambda
        .delete_function()
        .function_name(config.names().function())
        .send()
        .await
        .unwrap();
}
