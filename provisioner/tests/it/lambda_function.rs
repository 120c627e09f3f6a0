//! The Lambda function resource against moto: exact configuration, idempotence (zero mutating calls), plan
//! showing exactly the changed field, code updated only when the zip changes, destroy twice, a foreign
//! same-named function left alone; and, by fault injection, the real-AWS behaviours moto does not show
//! (role not yet assumable, Pending / InProgress states).

use std::collections::BTreeMap;

use crate::support::resources::lambda_function::{self, DesiredFunction};
use shopsmart_deploy::change::{Action, FieldChange};
use shopsmart_deploy::config::model::Config;
use shopsmart_deploy::resources::function_code::{zip_bootstrap, FunctionZip};
use shopsmart_deploy::resources::Mode;

use crate::support;
use crate::support::faults::{ctx_with_faults, Canned, Faults};
use crate::support::{ctx, test_config, unique_stage, CallLog};

const REGION: &str = "us-east-1";

pub(crate) async fn create_role(config: &Config) -> String {
    let clients = support::clients(REGION, &[]).await;
    let trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    });
    let role = clients
        .iam
        .create_role()
        .role_name(config.names().role())
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .expect("creating the test role");
    role.role().unwrap().arn().to_owned()
}

fn zip(content: &[u8]) -> FunctionZip {
    FunctionZip::from_bytes(zip_bootstrap(content).unwrap(), "test binary".into())
}

pub(crate) fn desired(config: &Config, role_arn: &str, content: &[u8]) -> DesiredFunction {
    let names = config.names();
    DesiredFunction {
        role_arn: role_arn.to_owned(),
        zip: Some(zip(content)),
        environment: BTreeMap::from([
            (
                "PRODUCTS_TABLE".to_owned(),
                names.table(shopsmart_deploy::names::TableKind::Products),
            ),
            ("CORS_ORIGINS".to_owned(), "http://example.test".to_owned()),
        ]),
    }
}

fn fields(action: &Action) -> Vec<String> {
    match action {
        Action::Update { fields } => fields.iter().map(|f| f.field.clone()).collect(),
        other => panic!("expected an update, got {other:?}"),
    }
}

#[tokio::test]
async fn create_converge_update_and_destroy() {
    let config = test_config(&unique_stage(), REGION);
    let role_arn = create_role(&config).await;
    let want = desired(&config, &role_arn, b"binary v1");
    let log = CallLog::default();
    let apply = ctx(config.clone(), Mode::Apply, &[log.interceptor()]).await;
    let name = config.names().function();

    let change = lambda_function::converge(&apply, &want).await.unwrap();
    assert_eq!(change.action, Action::Create);

    let live = apply
        .aws
        .lambda
        .get_function()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    let cfg = live.configuration().unwrap();
    assert_eq!(cfg.runtime().unwrap().as_str(), "provided.al2023");
    assert_eq!(cfg.handler(), Some("bootstrap"));
    assert_eq!(
        cfg.architectures()
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>(),
        vec!["arm64"]
    );
    assert_eq!(cfg.memory_size(), Some(128));
    assert_eq!(cfg.timeout(), Some(10));
    assert_eq!(cfg.role(), Some(role_arn.as_str()));
    assert_eq!(
        cfg.code_sha256(),
        want.zip.as_ref().map(|z| z.sha256_base64.as_str())
    );
    let env = cfg.environment().unwrap().variables().unwrap();
    assert_eq!(env.len(), 2);
    assert_eq!(env["CORS_ORIGINS"], "http://example.test");
    assert_eq!(
        env["PRODUCTS_TABLE"],
        config
            .names()
            .table(shopsmart_deploy::names::TableKind::Products)
    );
    let tags = live.tags().unwrap();
    assert_eq!(tags["shopsmart:stack"], config.names().stack_id());
    assert_eq!(tags["purpose"], "learning");

    // Second converge: nothing to do, nothing written.
    log.clear();
    let change = lambda_function::converge(&apply, &want).await.unwrap();
    assert_eq!(change.action, Action::Unchanged);
    assert_eq!(log.mutating_calls(), Vec::<String>::new());

    // Change memory: plan shows exactly that field, apply changes only it.
    let mut bigger = config.clone();
    bigger.function.memory_mb = 256;
    let plan = ctx(bigger.clone(), Mode::Plan, &[log.interceptor()]).await;
    log.clear();
    let change = lambda_function::converge(&plan, &want).await.unwrap();
    assert_eq!(
        change.action,
        Action::Update {
            fields: vec![FieldChange::new("memory_mb", "128", "256")]
        }
    );
    assert_eq!(log.mutating_calls(), Vec::<String>::new());
    let apply_bigger = ctx(bigger.clone(), Mode::Apply, &[log.interceptor()]).await;
    log.clear();
    let change = lambda_function::converge(&apply_bigger, &want)
        .await
        .unwrap();
    assert_eq!(fields(&change.action), vec!["memory_mb"]);
    assert_eq!(
        log.mutating_calls(),
        vec!["Lambda.UpdateFunctionConfiguration"]
    );
    let cfg = apply
        .aws
        .lambda
        .get_function_configuration()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(cfg.memory_size(), Some(256));
    assert_eq!(
        cfg.code_sha256(),
        want.zip.as_ref().map(|z| z.sha256_base64.as_str())
    );

    // New code: only the code is uploaded.
    let v2 = desired(&config, &role_arn, b"binary v2");
    log.clear();
    let change = lambda_function::converge(&apply_bigger, &v2).await.unwrap();
    assert_eq!(fields(&change.action), vec!["code_sha256"]);
    assert_eq!(log.mutating_calls(), vec!["Lambda.UpdateFunctionCode"]);
    let cfg = apply
        .aws
        .lambda
        .get_function_configuration()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        cfg.code_sha256(),
        v2.zip.as_ref().map(|z| z.sha256_base64.as_str())
    );

    // Reserved concurrency set, then removed again.
    let mut reserved = bigger.clone();
    reserved.function.reserved_concurrency = Some(5);
    let apply_reserved = ctx(reserved, Mode::Apply, &[log.interceptor()]).await;
    log.clear();
    let change = lambda_function::converge(&apply_reserved, &v2)
        .await
        .unwrap();
    assert_eq!(
        change.action,
        Action::Update {
            fields: vec![FieldChange::new("reserved_concurrency", "unreserved", "5")]
        }
    );
    assert_eq!(log.mutating_calls(), vec!["Lambda.PutFunctionConcurrency"]);
    log.clear();
    lambda_function::converge(&apply_bigger, &v2).await.unwrap();
    assert_eq!(
        log.mutating_calls(),
        vec!["Lambda.DeleteFunctionConcurrency"]
    );

    assert_eq!(
        lambda_function::destroy(&apply).await.unwrap().action,
        Action::Delete
    );
    let gone = apply
        .aws
        .lambda
        .get_function()
        .function_name(&name)
        .send()
        .await
        .unwrap_err();
    assert!(gone
        .as_service_error()
        .unwrap()
        .is_resource_not_found_exception());
    assert_eq!(
        lambda_function::destroy(&apply).await.unwrap().action,
        Action::AlreadyGone
    );
}

#[tokio::test]
async fn foreign_function_with_our_name_is_left_alone() {
    let config = test_config(&unique_stage(), REGION);
    let role_arn = create_role(&config).await;
    let want = desired(&config, &role_arn, b"ours");
    let apply = ctx(config.clone(), Mode::Apply, &[]).await;
    let name = config.names().function();
    apply
        .aws
        .lambda
        .create_function()
        .function_name(&name)
        .runtime(aws_sdk_lambda::types::Runtime::from("provided.al2023"))
        .handler("bootstrap")
        .role(&role_arn)
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(want.zip.as_ref().unwrap().bytes.clone().into())
                .build(),
        )
        .send()
        .await
        .unwrap();

    let err = format!(
        "{:#}",
        lambda_function::converge(&apply, &want).await.unwrap_err()
    );
    assert!(
        err.contains(&name) && err.contains("not tagged shopsmart:stack="),
        "{err}"
    );
    let err = format!("{:#}", lambda_function::destroy(&apply).await.unwrap_err());
    assert!(err.contains("not tagged"), "{err}");
    // Still there, still untouched.
    let cfg = apply
        .aws
        .lambda
        .get_function_configuration()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(cfg.memory_size(), Some(128));
    apply
        .aws
        .lambda
        .delete_function()
        .function_name(&name)
        .send()
        .await
        .unwrap();
}

fn is_lambda(
    request: &support::faults::SeenRequest,
    method: &str,
    suffix: &str,
    name: &str,
) -> bool {
    request.is(
        method,
        &format!("/2015-03-31/functions{}", suffix.replace("{name}", name)),
    )
}

/// Behaviour 1: CreateFunction and UpdateFunctionConfiguration answer "role cannot be assumed" for a while
/// after the role changed; the resource retries with backoff and succeeds.
#[tokio::test]
async fn role_not_yet_assumable_is_retried() {
    let config = test_config(&unique_stage(), REGION);
    let role_arn = create_role(&config).await;
    let want = desired(&config, &role_arn, b"v1");
    let faults = Faults::new();
    let apply = ctx_with_faults(config.clone(), Mode::Apply, &[], &faults).await;
    let name = config.names().function();
    let not_assumable = Canned::rest_json_error(
        400,
        "InvalidParameterValueException",
        "The role defined for the function cannot be assumed by Lambda.",
    );
    let create_hits = faults.inject(
        2,
        |r, _| is_lambda(r, "POST", "", ""),
        not_assumable.clone(),
    );
    let n = name.clone();
    let update_hits = faults.inject(
        3,
        move |r, _| is_lambda(r, "PUT", "/{name}/configuration", &n),
        not_assumable.clone(),
    );

    let started = std::time::Instant::now();
    assert_eq!(
        lambda_function::converge(&apply, &want)
            .await
            .unwrap()
            .action,
        Action::Create
    );
    assert_eq!(create_hits.count(), 2);

    let mut longer = config.clone();
    longer.function.timeout_s = 20;
    let apply_longer = ctx_with_faults(longer, Mode::Apply, &[], &faults).await;
    let change = lambda_function::converge(&apply_longer, &want)
        .await
        .unwrap();
    assert_eq!(fields(&change.action), vec!["timeout_s"]);
    assert_eq!(update_hits.count(), 3);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "backoff took {:?}",
        started.elapsed()
    );
    let cfg = apply
        .aws
        .lambda
        .get_function_configuration()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(cfg.timeout(), Some(20));

    // A genuinely invalid parameter is not retried: it fails at once, naming the call.
    let invalid = faults.inject(
        1,
        |r, _| r.method == "PUT" && r.path.ends_with("/configuration"),
        Canned::rest_json_error(
            400,
            "InvalidParameterValueException",
            "Memory size must be at least 128.",
        ),
    );
    let mut other = config.clone();
    other.function.timeout_s = 30;
    let apply_other = ctx_with_faults(other, Mode::Apply, &[], &faults).await;
    let err = format!(
        "{:#}",
        lambda_function::converge(&apply_other, &want)
            .await
            .unwrap_err()
    );
    assert!(
        err.contains(&format!(
            "updating configuration of Lambda function ({name})"
        )),
        "{err}"
    );
    assert_eq!(invalid.count(), 1);
    lambda_function::destroy(&apply).await.unwrap();
}

fn function_state_body(name: &str, state: &str, last_update: &str) -> serde_json::Value {
    serde_json::json!({
        "Configuration": {
            "FunctionName": name,
            "State": state,
            "LastUpdateStatus": last_update,
        }
    })
}

/// A new function is Pending and an updated one InProgress; an update sent meanwhile fails with
/// ResourceConflictException. The fault rules model exactly that: the create returns at once (what follows it
/// in `up` needs only the ARN) and `wait_active` waits through Pending; the converge of an update only
/// succeeds if it waits (with the SDK waiter) between the code update and the configuration update.
#[tokio::test]
async fn waits_for_pending_and_in_progress_states() {
    let config = test_config(&unique_stage(), REGION);
    let role_arn = create_role(&config).await;
    let faults = Faults::new();
    let apply = ctx_with_faults(config.clone(), Mode::Apply, &[], &faults).await;
    let name = config.names().function();
    let get_function = format!("/2015-03-31/functions/{name}");

    // After CreateFunction, the first two GetFunction calls say Pending.
    let g = get_function.clone();
    let pending = faults.inject(
        2,
        move |r, history| {
            r.is("GET", &g)
                && history
                    .iter()
                    .any(|h| h.is("POST", "/2015-03-31/functions"))
        },
        Canned::rest_json_ok(function_state_body(&name, "Pending", "InProgress")),
    );
    assert_eq!(
        lambda_function::converge(&apply, &desired(&config, &role_arn, b"v1"))
            .await
            .unwrap()
            .action,
        Action::Create
    );
    assert_eq!(pending.count(), 0, "the create does not wait for Active");
    lambda_function::wait_active(&apply).await.unwrap();
    assert_eq!(
        pending.count(),
        2,
        "wait_active waited through the Pending answers"
    );

    // After UpdateFunctionCode the next GetFunction says InProgress; any UpdateFunctionConfiguration sent
    // before a GetFunction has said Successful is refused with a conflict, as Lambda does.
    let code = format!("{get_function}/code");
    let (g, c) = (get_function.clone(), code.clone());
    let in_progress = faults.inject(
        1,
        move |r, history| r.is("GET", &g) && history.last().is_some_and(|h| h.is("PUT", &c)),
        Canned::rest_json_ok(function_state_body(&name, "Active", "InProgress")),
    );
    let (g, c, cfg) = (
        get_function.clone(),
        code.clone(),
        format!("{get_function}/configuration"),
    );
    let conflict = faults.inject(
        usize::MAX,
        move |r, history| {
            let since_code: Vec<_> = history
                .iter()
                .rev()
                .take_while(|h| !h.is("PUT", &c))
                .filter(|h| h.is("GET", &g))
                .collect();
            r.is("PUT", &cfg) && history.iter().any(|h| h.is("PUT", &c)) && since_code.len() < 2
        },
        Canned::rest_json_error(
            409,
            "ResourceConflictException",
            "The operation cannot be performed at this time. An update is in progress for resource",
        ),
    );
    let mut changed = config.clone();
    changed.function.memory_mb = 512;
    let apply_changed = ctx_with_faults(changed, Mode::Apply, &[], &faults).await;
    let change = lambda_function::converge(&apply_changed, &desired(&config, &role_arn, b"v2"))
        .await
        .unwrap();
    assert_eq!(fields(&change.action), vec!["code_sha256", "memory_mb"]);
    assert_eq!(in_progress.count(), 1, "the waiter saw InProgress once");
    assert_eq!(
        conflict.count(),
        0,
        "the configuration update waited for the code update to finish"
    );
    lambda_function::destroy(&apply).await.unwrap();
}

/// Real Lambda keeps a minimum of the account's concurrency unreserved (new accounts often have a total of
/// 10, so no reservation at all is possible); moto reserves freely. PutFunctionConcurrency is answered as
/// Lambda answers it, and the error says what to change in shopsmart.yaml.
#[tokio::test]
async fn reserved_concurrency_beyond_the_account_minimum_is_explained() {
    let mut config = test_config(&unique_stage(), REGION);
    config.function.reserved_concurrency = Some(5);
    let role_arn = create_role(&config).await;
    let faults = Faults::new();
    let apply = ctx_with_faults(config.clone(), Mode::Apply, &[], &faults).await;
    let name = config.names().function();
    let concurrency = format!("/2017-10-31/functions/{name}/concurrency");
    let refused = faults.inject(
        usize::MAX,
        move |r, _| r.is("PUT", &concurrency),
        Canned::rest_json_error(
            400,
            "InvalidParameterValueException",
            "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [10].",
        ),
    );
    let err = format!(
        "{:#}",
        lambda_function::converge(&apply, &desired(&config, &role_arn, b"v1"))
            .await
            .unwrap_err()
    );
    assert_eq!(refused.count(), 1, "an invalid parameter is not retried");
    assert!(
        err.contains(&format!(
            "setting reserved concurrency of Lambda function ({name}) to 5"
        )) && err.contains("Remove `reserved_concurrency`")
            && err.contains("below its minimum value of [10]"),
        "{err}"
    );
    lambda_function::destroy(&apply).await.unwrap();
}
