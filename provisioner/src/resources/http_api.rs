//! The HTTP API `{stack}-http-api`: CORS for exactly the allowed origins, one AWS_PROXY integration (payload
//! 2.0) to the function, one route per function route, and the `$default` stage with auto-deploy and the
//! configured default-route throttling. HTTP API names are not unique, so it is found by name (paginating
//! GetApis) and then owned only if it carries our stack tag.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{bail, Context};
use aws_sdk_apigatewayv2::types::{Api, Cors, IntegrationType, ProtocolType, RouteSettings};

use super::ownership::{deleted, foreign_error, found, FIX_CHOOSE_ANOTHER_NAME};
use super::{differing_fields, Ctx, Mode};
use crate::change::{Action, Change, FieldChange};
use crate::config::model::Throttle;

pub const KIND: &str = "HTTP API";
pub const STAGE: &str = "$default";
const PAYLOAD_FORMAT_VERSION: &str = "2.0";
const CORS_METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "OPTIONS"];
const CORS_HEADERS: [&str; 3] = ["content-type", "x-cart-id", "idempotency-key"];
/// Every route the function serves (function/src, issue 2).
pub const ROUTES: [&str; 8] = [
    "GET /products",
    "GET /products/{productId}",
    "GET /cart",
    "POST /cart",
    "PUT /cart/{productId}",
    "DELETE /cart/{productId}",
    "POST /checkout",
    "GET /orders/{orderId}",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiInfo {
    pub api_id: String,
    /// `https://{api_id}.execute-api.{region}.amazonaws.com`: the base URL the storefront calls.
    pub endpoint: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct CorsSettings {
    origins: BTreeSet<String>,
    methods: BTreeSet<String>,
    headers: BTreeSet<String>,
}

impl CorsSettings {
    fn desired(origins: &[String]) -> Self {
        Self {
            origins: origins.iter().cloned().collect(),
            methods: CORS_METHODS.iter().map(|m| m.to_string()).collect(),
            headers: CORS_HEADERS.iter().map(|h| h.to_string()).collect(),
        }
    }

    /// Methods and header names are case-insensitive; API Gateway may change their case.
    fn live(cors: Option<&Cors>) -> Self {
        let Some(cors) = cors else {
            return Self {
                origins: BTreeSet::new(),
                methods: BTreeSet::new(),
                headers: BTreeSet::new(),
            };
        };
        Self {
            origins: cors.allow_origins().iter().cloned().collect(),
            methods: cors
                .allow_methods()
                .iter()
                .map(|m| m.to_uppercase())
                .collect(),
            headers: cors
                .allow_headers()
                .iter()
                .map(|h| h.to_lowercase())
                .collect(),
        }
    }

    fn to_sdk(&self) -> Cors {
        Cors::builder()
            .set_allow_origins(Some(self.origins.iter().cloned().collect()))
            .set_allow_methods(Some(self.methods.iter().cloned().collect()))
            .set_allow_headers(Some(self.headers.iter().cloned().collect()))
            .build()
    }
}

fn render_set(set: &BTreeSet<String>) -> String {
    if set.is_empty() {
        "(none)".to_owned()
    } else {
        set.iter().cloned().collect::<Vec<_>>().join(",")
    }
}

/// The live API found by name, whether or not it is ours.
async fn find_by_name(ctx: &Ctx) -> anyhow::Result<Option<Api>> {
    let name = ctx.names.http_api();
    let mut next_token: Option<String> = None;
    let mut found: Vec<Api> = Vec::new();
    loop {
        let page = ctx
            .aws
            .apigateway
            .get_apis()
            .set_next_token(next_token.clone())
            .send()
            .await
            .with_context(|| format!("listing HTTP APIs to find ({name})"))?;
        found.extend(
            page.items()
                .iter()
                .filter(|api| api.name() == Some(name.as_str()))
                .cloned(),
        );
        match page.next_token() {
            Some(token) if !token.is_empty() && Some(token) != next_token.as_deref() => {
                next_token = Some(token.into())
            }
            _ => break,
        }
    }
    // Prefer ours if several APIs share the name (names are not unique in API Gateway).
    let ours = found
        .iter()
        .position(|api| api.tags().is_some_and(|tags| ctx.is_ours(tags)));
    Ok(match ours {
        Some(index) => Some(found.swap_remove(index)),
        None => found.into_iter().next(),
    })
}

fn foreign(ctx: &Ctx, name: &str, api_id: &str) -> anyhow::Error {
    foreign_error(
        ctx,
        KIND,
        &format!("{name}, {api_id}"),
        FIX_CHOOSE_ANOTHER_NAME,
    )
}

fn info_of(api: &Api) -> ApiInfo {
    ApiInfo {
        api_id: api.api_id().unwrap_or_default().to_owned(),
        endpoint: api.api_endpoint().unwrap_or_default().to_owned(),
    }
}

pub async fn converge(
    ctx: &Ctx,
    cors_origins: &[String],
) -> anyhow::Result<(Change, Option<ApiInfo>)> {
    let name = ctx.names.http_api();
    let Some(throttle) = ctx.config.api.throttle else {
        bail!("api.throttle is not set in {}: an unthrottled API can bill; set api.throttle.rate and burst", ctx.config.source.display());
    };
    let cors = CorsSettings::desired(cors_origins);
    let Some(api) = find_by_name(ctx).await? else {
        if ctx.mode == Mode::Plan {
            return Ok((Change::new(KIND, name, Action::Create), None));
        }
        let info = create(ctx, &cors, throttle).await?;
        return Ok((Change::new(KIND, name, Action::Create), Some(info)));
    };
    let info = info_of(&api);
    let live_tags = api.tags().cloned().unwrap_or_default();
    if !ctx.is_ours(&live_tags) {
        return Err(foreign(ctx, &name, &info.api_id));
    }

    let mut fields = Vec::new();
    let live_cors = CorsSettings::live(api.cors_configuration());
    if live_cors != cors {
        for (field, old, new) in [
            ("cors.allow_origins", &live_cors.origins, &cors.origins),
            ("cors.allow_methods", &live_cors.methods, &cors.methods),
            ("cors.allow_headers", &live_cors.headers, &cors.headers),
        ] {
            if old != new {
                fields.push(FieldChange::new(field, render_set(old), render_set(new)));
            }
        }
        if ctx.mode == Mode::Apply {
            ctx.aws
                .apigateway
                .update_api()
                .api_id(&info.api_id)
                .cors_configuration(cors.to_sdk())
                .send()
                .await
                .with_context(|| format!("updating CORS of HTTP API ({name})"))?;
        }
    }
    fields.extend(converge_tags(ctx, &api, &live_tags).await?);
    let integration_id = converge_integration(ctx, &info.api_id, &mut fields).await?;
    converge_routes(ctx, &info.api_id, integration_id.as_deref(), &mut fields).await?;
    converge_stage(ctx, &info.api_id, throttle, &mut fields).await?;

    let action = if fields.is_empty() {
        Action::Unchanged
    } else {
        Action::Update { fields }
    };
    Ok((Change::new(KIND, name, action), Some(info)))
}

async fn create(ctx: &Ctx, cors: &CorsSettings, throttle: Throttle) -> anyhow::Result<ApiInfo> {
    let name = ctx.names.http_api();
    let api = ctx
        .aws
        .apigateway
        .create_api()
        .name(&name)
        .protocol_type(ProtocolType::Http)
        .cors_configuration(cors.to_sdk())
        .set_tags(Some(ctx.tags().into_iter().collect()))
        .send()
        .await
        .with_context(|| format!("creating HTTP API ({name})"))?;
    let info = ApiInfo {
        api_id: api.api_id().unwrap_or_default().to_owned(),
        endpoint: api.api_endpoint().unwrap_or_default().to_owned(),
    };
    let integration_id = create_integration(ctx, &info.api_id).await?;
    for route_key in ROUTES {
        create_route(ctx, &info.api_id, route_key, &integration_id).await?;
    }
    create_stage(ctx, &info.api_id, throttle).await?;
    Ok(info)
}

async fn converge_tags(
    ctx: &Ctx,
    api: &Api,
    live: &HashMap<String, String>,
) -> anyhow::Result<Vec<FieldChange>> {
    let fields: Vec<FieldChange> = ctx
        .missing_tags(live)
        .iter()
        .map(|(key, value)| {
            FieldChange::new(
                format!("tags.{key}"),
                live.get(key).map_or("(unset)", String::as_str),
                value,
            )
        })
        .collect();
    if !fields.is_empty() && ctx.mode == Mode::Apply {
        let arn = format!(
            "arn:{}:apigateway:{}::/apis/{}",
            crate::names::partition(&ctx.region),
            ctx.region,
            api.api_id().unwrap_or_default()
        );
        ctx.aws
            .apigateway
            .tag_resource()
            .resource_arn(&arn)
            .set_tags(Some(ctx.tags().into_iter().collect()))
            .send()
            .await
            .with_context(|| format!("tagging HTTP API ({})", ctx.names.http_api()))?;
    }
    Ok(fields)
}

fn function_uri(ctx: &Ctx) -> String {
    ctx.arns().function(&ctx.names.function())
}

async fn create_integration(ctx: &Ctx, api_id: &str) -> anyhow::Result<String> {
    let output = ctx
        .aws
        .apigateway
        .create_integration()
        .api_id(api_id)
        .integration_type(IntegrationType::AwsProxy)
        .integration_uri(function_uri(ctx))
        .payload_format_version(PAYLOAD_FORMAT_VERSION)
        .send()
        .await
        .with_context(|| format!("creating the Lambda integration of HTTP API ({api_id})"))?;
    Ok(output.integration_id().unwrap_or_default().to_owned())
}

/// Keeps one AWS_PROXY integration to our function; returns its id (None only in plan when it is missing).
async fn converge_integration(
    ctx: &Ctx,
    api_id: &str,
    fields: &mut Vec<FieldChange>,
) -> anyhow::Result<Option<String>> {
    let integrations = ctx
        .aws
        .apigateway
        .get_integrations()
        .api_id(api_id)
        .send()
        .await
        .with_context(|| format!("reading integrations of HTTP API ({api_id})"))?;
    let uri = function_uri(ctx);
    let Some(live) = integrations.items().first() else {
        fields.push(FieldChange::new("integration", "(none)", &uri));
        if ctx.mode == Mode::Plan {
            return Ok(None);
        }
        return create_integration(ctx, api_id).await.map(Some);
    };
    let id = live.integration_id().unwrap_or_default().to_owned();
    let live_type = live
        .integration_type()
        .map(|t| t.as_str().to_owned())
        .unwrap_or_default();
    let live_uri = live.integration_uri().unwrap_or_default();
    let live_version = live.payload_format_version().unwrap_or_default();
    let differing = differing_fields([
        (
            "integration.type",
            live_type.as_str(),
            IntegrationType::AwsProxy.as_str(),
        ),
        ("integration.uri", live_uri, uri.as_str()),
        (
            "integration.payload_format_version",
            live_version,
            PAYLOAD_FORMAT_VERSION,
        ),
    ]);
    let changed = !differing.is_empty();
    fields.extend(differing);
    if changed && ctx.mode == Mode::Apply {
        ctx.aws
            .apigateway
            .update_integration()
            .api_id(api_id)
            .integration_id(&id)
            .integration_type(IntegrationType::AwsProxy)
            .integration_uri(&uri)
            .payload_format_version(PAYLOAD_FORMAT_VERSION)
            .send()
            .await
            .with_context(|| format!("updating integration {id} of HTTP API ({api_id})"))?;
    }
    Ok(Some(id))
}

async fn create_route(
    ctx: &Ctx,
    api_id: &str,
    route_key: &str,
    integration_id: &str,
) -> anyhow::Result<()> {
    ctx.aws
        .apigateway
        .create_route()
        .api_id(api_id)
        .route_key(route_key)
        .target(format!("integrations/{integration_id}"))
        .send()
        .await
        .with_context(|| format!("creating route `{route_key}` of HTTP API ({api_id})"))?;
    Ok(())
}

/// Exactly the function's routes, each targeting the integration: adds missing, retargets, removes extra.
async fn converge_routes(
    ctx: &Ctx,
    api_id: &str,
    integration_id: Option<&str>,
    fields: &mut Vec<FieldChange>,
) -> anyhow::Result<()> {
    let mut live: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut next_token: Option<String> = None;
    loop {
        let page = ctx
            .aws
            .apigateway
            .get_routes()
            .api_id(api_id)
            .set_next_token(next_token.clone())
            .send()
            .await
            .with_context(|| format!("reading routes of HTTP API ({api_id})"))?;
        for route in page.items() {
            let key = route.route_key().unwrap_or_default().to_owned();
            live.insert(
                key,
                (
                    route.route_id().unwrap_or_default().to_owned(),
                    route.target().unwrap_or_default().to_owned(),
                ),
            );
        }
        match page.next_token() {
            Some(token) if !token.is_empty() && Some(token) != next_token.as_deref() => {
                next_token = Some(token.into())
            }
            _ => break,
        }
    }
    let target = format!("integrations/{}", integration_id.unwrap_or("(new)"));
    let apply = ctx.mode == Mode::Apply;
    for route_key in ROUTES {
        match live.get(route_key) {
            None => {
                fields.push(FieldChange::new(
                    format!("route {route_key}"),
                    "(none)",
                    &target,
                ));
                if apply {
                    create_route(ctx, api_id, route_key, integration_id.unwrap_or_default())
                        .await?;
                }
            }
            Some((route_id, live_target)) if *live_target != target => {
                fields.push(FieldChange::new(
                    format!("route {route_key}"),
                    live_target,
                    &target,
                ));
                if apply {
                    ctx.aws
                        .apigateway
                        .update_route()
                        .api_id(api_id)
                        .route_id(route_id)
                        .target(&target)
                        .send()
                        .await
                        .with_context(|| {
                            format!("updating route `{route_key}` of HTTP API ({api_id})")
                        })?;
                }
            }
            Some(_) => {}
        }
    }
    for (route_key, (route_id, live_target)) in live
        .iter()
        .filter(|(key, _)| !ROUTES.contains(&key.as_str()))
    {
        fields.push(FieldChange::new(
            format!("route {route_key}"),
            live_target,
            "(none)",
        ));
        if apply {
            ctx.aws
                .apigateway
                .delete_route()
                .api_id(api_id)
                .route_id(route_id)
                .send()
                .await
                .with_context(|| format!("deleting route `{route_key}` of HTTP API ({api_id})"))?;
        }
    }
    Ok(())
}

fn route_settings(throttle: Throttle) -> RouteSettings {
    RouteSettings::builder()
        .throttling_rate_limit(f64::from(throttle.rate_per_second))
        .throttling_burst_limit(throttle.burst as i32)
        .build()
}

async fn create_stage(ctx: &Ctx, api_id: &str, throttle: Throttle) -> anyhow::Result<()> {
    ctx.aws
        .apigateway
        .create_stage()
        .api_id(api_id)
        .stage_name(STAGE)
        .auto_deploy(true)
        .default_route_settings(route_settings(throttle))
        .set_tags(Some(ctx.tags().into_iter().collect()))
        .send()
        .await
        .with_context(|| format!("creating stage {STAGE} of HTTP API ({api_id})"))?;
    Ok(())
}

/// The `$default` stage: auto-deploy on, default-route throttling as configured. Note: moto answers
/// UpdateStage with 500, so tests against moto cover creating the stage and planning its update only.
async fn converge_stage(
    ctx: &Ctx,
    api_id: &str,
    throttle: Throttle,
    fields: &mut Vec<FieldChange>,
) -> anyhow::Result<()> {
    let stage = found(
        ctx.aws
            .apigateway
            .get_stage()
            .api_id(api_id)
            .stage_name(STAGE)
            .send()
            .await,
        |e| e.is_not_found_exception(),
    )
    .with_context(|| format!("reading stage {STAGE} of HTTP API ({api_id})"))?;
    let Some(stage) = stage else {
        fields.push(FieldChange::new("stage", "(none)", STAGE));
        if ctx.mode == Mode::Apply {
            create_stage(ctx, api_id, throttle).await?;
        }
        return Ok(());
    };
    let settings = stage.default_route_settings();
    // The API takes a double for the rate; the config holds whole requests per second.
    let live_rate = settings
        .and_then(|s| s.throttling_rate_limit())
        .map(|rate| rate.round() as i64);
    let live_burst = settings
        .and_then(|s| s.throttling_burst_limit())
        .map(i64::from);
    let render = |value: Option<i64>| value.map_or_else(|| "(unset)".to_owned(), |v| v.to_string());
    let differing = differing_fields([
        (
            "stage.auto_deploy",
            stage.auto_deploy().unwrap_or(false).to_string(),
            true.to_string(),
        ),
        (
            "stage.throttle.rate_per_second",
            render(live_rate),
            throttle.rate_per_second.to_string(),
        ),
        (
            "stage.throttle.burst",
            render(live_burst),
            throttle.burst.to_string(),
        ),
    ]);
    let changed = !differing.is_empty();
    fields.extend(differing);
    if changed && ctx.mode == Mode::Apply {
        ctx.aws
            .apigateway
            .update_stage()
            .api_id(api_id)
            .stage_name(STAGE)
            .auto_deploy(true)
            .default_route_settings(route_settings(throttle))
            .send()
            .await
            .with_context(|| format!("updating stage {STAGE} of HTTP API ({api_id})"))?;
    }
    Ok(())
}

pub async fn destroy(ctx: &Ctx) -> anyhow::Result<Change> {
    let name = ctx.names.http_api();
    let Some(api) = find_by_name(ctx).await? else {
        return Ok(Change::new(KIND, name, Action::AlreadyGone));
    };
    let api_id = api.api_id().unwrap_or_default().to_owned();
    if !api.tags().is_some_and(|tags| ctx.is_ours(tags)) {
        return Err(foreign(ctx, &name, &api_id));
    }
    if ctx.mode == Mode::Apply {
        let gone = !deleted(
            ctx.aws.apigateway.delete_api().api_id(&api_id).send().await,
            |e| e.is_not_found_exception(),
        )
        .with_context(|| format!("deleting HTTP API ({name}, {api_id})"))?;
        if gone {
            return Ok(Change::new(KIND, name, Action::AlreadyGone));
        }
    }
    Ok(Change::new(KIND, name, Action::Delete))
}
