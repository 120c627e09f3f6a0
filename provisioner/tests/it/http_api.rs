//! The HTTP API resource against moto: exact routes, integration, CORS and stage; idempotence; plan showing
//! exactly the changed field; destroy twice; a foreign same-named API left alone.

use std::collections::BTreeSet;

use crate::support::resources::http_api::{self, ROUTES, STAGE};
use shopsmart_deploy::change::{Action, FieldChange};
use shopsmart_deploy::resources::Mode;

use crate::support::{ctx, test_config, unique_stage, CallLog};

const REGION: &str = "us-east-1";

fn origins() -> Vec<String> {
    vec![
        "http://site.example".to_owned(),
        "http://127.0.0.1:8080".to_owned(),
    ]
}

#[tokio::test]
async fn create_converge_update_and_destroy() {
    let config = test_config(&unique_stage(), REGION);
    let log = CallLog::default();
    let apply = ctx(config.clone(), Mode::Apply, &[log.interceptor()]).await;
    let plan = ctx(config.clone(), Mode::Plan, &[log.interceptor()]).await;

    // Plan on nothing: Create, no API info, no writes.
    let (change, info) = http_api::converge(&plan, &origins()).await.unwrap();
    assert_eq!((change.action, info), (Action::Create, None));
    assert_eq!(log.mutating_calls(), Vec::<String>::new());

    let (change, info) = http_api::converge(&apply, &origins()).await.unwrap();
    assert_eq!(change.action, Action::Create);
    let info = info.unwrap();
    assert!(
        !info.api_id.is_empty() && info.endpoint.contains(&info.api_id),
        "{info:?}"
    );

    // Exact configuration.
    let gw = &apply.aws.apigateway;
    let api = gw.get_api().api_id(&info.api_id).send().await.unwrap();
    assert_eq!(api.name(), Some(config.names().http_api().as_str()));
    assert_eq!(api.protocol_type().unwrap().as_str(), "HTTP");
    assert_eq!(
        api.tags().unwrap()["shopsmart:stack"],
        config.names().stack_id()
    );
    let cors = api.cors_configuration().unwrap();
    assert_eq!(
        cors.allow_origins().iter().collect::<BTreeSet<_>>(),
        origins().iter().collect::<BTreeSet<_>>()
    );
    assert_eq!(
        cors.allow_methods()
            .iter()
            .map(String::as_str)
            .collect::<BTreeSet<_>>(),
        BTreeSet::from(["GET", "POST", "PUT", "DELETE", "OPTIONS"])
    );
    assert_eq!(
        cors.allow_headers()
            .iter()
            .map(String::as_str)
            .collect::<BTreeSet<_>>(),
        BTreeSet::from(["content-type", "x-cart-id", "idempotency-key"])
    );
    // With CORS configured API Gateway ignores the function's CORS headers: the storefront can read a busy
    // answer's retry-after and the request id cross-origin only when the API itself exposes them.
    assert_eq!(
        cors.expose_headers()
            .iter()
            .map(String::as_str)
            .collect::<BTreeSet<_>>(),
        BTreeSet::from(["x-request-id", "retry-after"])
    );
    let integrations = gw
        .get_integrations()
        .api_id(&info.api_id)
        .send()
        .await
        .unwrap();
    assert_eq!(integrations.items().len(), 1);
    let integration = &integrations.items()[0];
    assert_eq!(
        integration.integration_type().unwrap().as_str(),
        "AWS_PROXY"
    );
    assert_eq!(
        integration.integration_uri(),
        Some(
            format!(
                "arn:aws:lambda:us-east-1:123456789012:function:{}",
                config.names().function()
            )
            .as_str()
        )
    );
    assert_eq!(integration.payload_format_version(), Some("2.0"));
    let target = format!("integrations/{}", integration.integration_id().unwrap());
    let routes = gw.get_routes().api_id(&info.api_id).send().await.unwrap();
    let live_routes: BTreeSet<(&str, &str)> = routes
        .items()
        .iter()
        .map(|r| (r.route_key().unwrap(), r.target().unwrap()))
        .collect();
    let want_routes: BTreeSet<(&str, &str)> =
        ROUTES.iter().map(|key| (*key, target.as_str())).collect();
    assert_eq!(live_routes, want_routes);
    let stage = gw
        .get_stage()
        .api_id(&info.api_id)
        .stage_name(STAGE)
        .send()
        .await
        .unwrap();
    assert_eq!(stage.auto_deploy(), Some(true));
    let settings = stage.default_route_settings().unwrap();
    assert_eq!(settings.throttling_burst_limit(), Some(10));
    assert_eq!(settings.throttling_rate_limit(), Some(3.0));

    // Converge again: unchanged, zero writes, same API.
    log.clear();
    let (change, again) = http_api::converge(&apply, &origins()).await.unwrap();
    assert_eq!(change.action, Action::Unchanged);
    assert_eq!(again.unwrap(), info);
    assert_eq!(log.mutating_calls(), Vec::<String>::new());

    // One origin fewer: plan shows exactly the CORS origins, apply changes only them.
    let fewer = vec!["http://site.example".to_owned()];
    log.clear();
    let (change, _) = http_api::converge(&plan, &fewer).await.unwrap();
    assert_eq!(
        change.action,
        Action::Update {
            fields: vec![FieldChange::new(
                "cors.allow_origins",
                "http://127.0.0.1:8080,http://site.example",
                "http://site.example"
            )]
        }
    );
    assert_eq!(log.mutating_calls(), Vec::<String>::new());
    let (change, _) = http_api::converge(&apply, &fewer).await.unwrap();
    assert!(matches!(change.action, Action::Update { ref fields } if fields.len() == 1));
    assert_eq!(log.mutating_calls(), vec!["ApiGatewayV2.UpdateApi"]);
    let api = gw.get_api().api_id(&info.api_id).send().await.unwrap();
    assert_eq!(
        api.cors_configuration().unwrap().allow_origins(),
        fewer.as_slice()
    );

    // A throttle change is planned as exactly that field. (Applying it needs UpdateStage, which moto answers
    // with 500, so the apply is not exercised here.)
    let mut faster = config.clone();
    faster.api.throttle = Some(shopsmart_deploy::config::model::Throttle {
        rate_per_second: 3,
        burst: 50,
    });
    let plan_faster = ctx(faster, Mode::Plan, &[]).await;
    let (change, _) = http_api::converge(&plan_faster, &fewer).await.unwrap();
    assert_eq!(
        change.action,
        Action::Update {
            fields: vec![FieldChange::new("stage.throttle.burst", "10", "50")]
        }
    );

    // A stray route and a deleted one are both put right.
    let stray = gw
        .create_route()
        .api_id(&info.api_id)
        .route_key("GET /admin")
        .target(&target)
        .send()
        .await
        .unwrap();
    let cart = routes
        .items()
        .iter()
        .find(|r| r.route_key() == Some("GET /cart"))
        .unwrap();
    gw.delete_route()
        .api_id(&info.api_id)
        .route_id(cart.route_id().unwrap())
        .send()
        .await
        .unwrap();
    log.clear();
    let (change, _) = http_api::converge(&apply, &fewer).await.unwrap();
    assert_eq!(
        change.action,
        Action::Update {
            fields: vec![
                FieldChange::new("route GET /cart", "(none)", &target),
                FieldChange::new("route GET /admin", &target, "(none)"),
            ]
        }
    );
    assert_eq!(
        log.mutating_calls(),
        vec!["ApiGatewayV2.CreateRoute", "ApiGatewayV2.DeleteRoute"]
    );
    let missing = gw
        .get_route()
        .api_id(&info.api_id)
        .route_id(stray.route_id().unwrap())
        .send()
        .await
        .unwrap_err();
    assert!(missing.as_service_error().unwrap().is_not_found_exception());

    assert_eq!(
        http_api::destroy(&apply).await.unwrap().action,
        Action::Delete
    );
    let gone = gw.get_api().api_id(&info.api_id).send().await.unwrap_err();
    assert!(gone.as_service_error().unwrap().is_not_found_exception());
    assert_eq!(
        http_api::destroy(&apply).await.unwrap().action,
        Action::AlreadyGone
    );
}

#[tokio::test]
async fn foreign_api_with_our_name_is_left_alone() {
    let config = test_config(&unique_stage(), REGION);
    let apply = ctx(config.clone(), Mode::Apply, &[]).await;
    let foreign = apply
        .aws
        .apigateway
        .create_api()
        .name(config.names().http_api())
        .protocol_type(aws_sdk_apigatewayv2::types::ProtocolType::Http)
        .tags("owner", "someone-else")
        .send()
        .await
        .unwrap();
    let foreign_id = foreign.api_id().unwrap();

    let err = format!(
        "{:#}",
        http_api::converge(&apply, &origins()).await.unwrap_err()
    );
    assert!(
        err.contains(foreign_id) && err.contains("not tagged shopsmart:stack="),
        "{err}"
    );
    let err = format!("{:#}", http_api::destroy(&apply).await.unwrap_err());
    assert!(err.contains("not tagged"), "{err}");
    let still = apply
        .aws
        .apigateway
        .get_api()
        .api_id(foreign_id)
        .send()
        .await
        .unwrap();
    assert!(still.cors_configuration().is_none());
    let routes = apply
        .aws
        .apigateway
        .get_routes()
        .api_id(foreign_id)
        .send()
        .await
        .unwrap();
    assert!(routes.items().is_empty());
    apply
        .aws
        .apigateway
        .delete_api()
        .api_id(foreign_id)
        .send()
        .await
        .unwrap();
}
