//! The HTTP API `{stack}-http-api`: CORS for exactly the allowed origins, one AWS_PROXY integration (payload
//! 2.0) to the function, one route per function route, and the `$default` stage with auto-deploy and the
//! configured default-route throttling. HTTP API names are not unique, so it is found by name (paginating
//! GetApis) and then owned only if it carries our stack tag.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use anyhow::{bail, Context};
use aws_sdk_apigatewayv2::types::{Api, Cors, IntegrationType, ProtocolType, RouteSettings};
use futures::future::LocalBoxFuture;
use futures::stream::{self, StreamExt, TryStreamExt};

use super::ownership::{deleted, found};
use super::{differing_fields, Changes, Ctx, Resource, Tags};
use crate::aws_error::AwsContext;
use crate::change::FieldChange;
use crate::config::model::Throttle;

pub const KIND: &str = "HTTP API";
pub const STAGE: &str = "$default";
const PAYLOAD_FORMAT_VERSION: &str = "2.0";
/// Every route the function serves, as route keys (the function crate's contract).
pub use shopsmart_function::contract::ROUTE_KEYS as ROUTES;
/// With `website.https`, CloudFront forwards `/api/...` unchanged; the function serves its routes under that
/// prefix too, so one catch-all route reaches it.
pub const CLOUDFRONT_ROUTE: &str = "ANY /api/{proxy+}";

/// The route keys this stack's API serves.
pub fn routes(ctx: &Ctx) -> Vec<&'static str> {
    let mut routes = ROUTES.to_vec();
    if ctx.config.website.https {
        routes.push(CLOUDFRONT_ROUTE);
    }
    routes
}
use shopsmart_function::contract::{
    CORS_ALLOW_HEADERS as CORS_HEADERS, CORS_ALLOW_METHODS as CORS_METHODS, CORS_EXPOSE_HEADERS,
};

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
    /// The response headers the storefront reads (`x-request-id`, a busy answer's `retry-after`). With CORS
    /// configured, API Gateway ignores the CORS headers the function sends and answers with these.
    expose: BTreeSet<String>,
}

impl CorsSettings {
    fn desired(origins: &[String]) -> Self {
        Self {
            origins: origins.iter().cloned().collect(),
            methods: CORS_METHODS.iter().map(|m| m.to_string()).collect(),
            headers: CORS_HEADERS.iter().map(|h| h.to_string()).collect(),
            expose: CORS_EXPOSE_HEADERS.iter().map(|h| h.to_string()).collect(),
        }
    }

    /// Methods and header names are case-insensitive; API Gateway may change their case.
    fn live(cors: Option<&Cors>) -> Self {
        let Some(cors) = cors else {
            return Self {
                origins: BTreeSet::new(),
                methods: BTreeSet::new(),
                headers: BTreeSet::new(),
                expose: BTreeSet::new(),
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
            expose: cors
                .expose_headers()
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
            .set_expose_headers(Some(self.expose.iter().cloned().collect()))
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
            .aws_context(|| format!("listing HTTP APIs to find ({name})"))?;
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

fn info_of(api: &Api) -> ApiInfo {
    ApiInfo {
        api_id: api.api_id().unwrap_or_default().to_owned(),
        endpoint: api.api_endpoint().unwrap_or_default().to_owned(),
    }
}

/// What `up` wants of the API; `None` for `destroy`, which only needs the API and its tags.
pub struct Desired {
    cors: CorsSettings,
    throttle: Throttle,
}

/// The HTTP API `{stack}-http-api` with its integration, routes and `$default` stage.
pub struct HttpApi {
    pub name: String,
    desired: Option<Desired>,
    /// The id and URL AWS gave the API, when `create` made it.
    created: OnceLock<ApiInfo>,
}

impl HttpApi {
    /// The API as the config describes it, allowing `cors_origins`.
    pub fn new(ctx: &Ctx, cors_origins: &[String]) -> anyhow::Result<Self> {
        let Some(throttle) = ctx.config.api.throttle else {
            bail!(
                "api.throttle is not set in {}: an unthrottled API can bill; set api.throttle.rate and burst",
                ctx.config.source.display()
            );
        };
        Ok(Self {
            name: ctx.names.http_api(),
            desired: Some(Desired {
                cors: CorsSettings::desired(cors_origins),
                throttle,
            }),
            created: OnceLock::new(),
        })
    }

    /// The API to find (outputs) or delete (destroy): nothing beyond the API itself is read.
    pub fn existing(ctx: &Ctx) -> Self {
        Self {
            name: ctx.names.http_api(),
            desired: None,
            created: OnceLock::new(),
        }
    }

    /// The API's id and URL after `converge` found (`live`) or created it; `None` in plan before it exists.
    pub fn info(&self, live: Option<&ObservedApi>) -> Option<ApiInfo> {
        live.map(|live| live.info.clone())
            .or_else(|| self.created.get().cloned())
    }

    fn desired(&self) -> anyhow::Result<&Desired> {
        self.desired
            .as_ref()
            .context("internal error: converging the HTTP API without its desired state")
    }
}

/// The live integration's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveIntegration {
    id: String,
    kind: String,
    uri: String,
    payload_format_version: String,
}

/// The live `$default` stage's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveStage {
    auto_deploy: bool,
    rate: Option<i64>,
    burst: Option<i64>,
}

/// The API as `read` finds it: the API, and (for `up`) its integration, routes and stage.
#[derive(Debug, Clone)]
pub struct ObservedApi {
    pub info: ApiInfo,
    pub tags: Tags,
    cors: CorsSettings,
    integration: Option<LiveIntegration>,
    /// Route key → (route id, target).
    routes: BTreeMap<String, (String, String)>,
    stage: Option<LiveStage>,
}

impl Resource for HttpApi {
    type Live = ObservedApi;
    identity!(KIND, name, Tags);

    async fn read(&self, ctx: &Ctx) -> anyhow::Result<Option<ObservedApi>> {
        let Some(api) = find_by_name(ctx).await? else {
            return Ok(None);
        };
        let info = info_of(&api);
        let tags = api.tags().cloned().unwrap_or_default();
        let mut live = ObservedApi {
            cors: CorsSettings::live(api.cors_configuration()),
            info,
            tags,
            integration: None,
            routes: BTreeMap::new(),
            stage: None,
        };
        // Settings are read only for what `up` compares, and only on an API that is ours.
        if self.desired.is_some() && ctx.is_ours(&live.tags) {
            let api_id = &live.info.api_id;
            (live.integration, live.routes, live.stage) = tokio::try_join!(
                read_integration(ctx, api_id),
                read_routes(ctx, api_id),
                read_stage(ctx, api_id)
            )?;
        }
        Ok(Some(live))
    }

    fn diff(&self, ctx: &Ctx, live: &ObservedApi) -> Vec<FieldChange> {
        let Some(desired) = &self.desired else {
            return Vec::new();
        };
        let mut fields = cors_diff(&live.cors, &desired.cors);
        fields.extend(integration_diff(ctx, live.integration.as_ref()));
        fields.extend(routes_diff(&routes(ctx), live));
        fields.extend(stage_diff(live.stage.as_ref(), desired.throttle));
        fields
    }

    async fn create(&self, ctx: &Ctx) -> anyhow::Result<()> {
        let desired = self.desired()?;
        let info = create(ctx, &desired.cors, desired.throttle).await?;
        let _ = self.created.set(info);
        Ok(())
    }

    async fn update(&self, ctx: &Ctx, live: &ObservedApi, changes: &Changes) -> anyhow::Result<()> {
        let desired = self.desired()?;
        let api_id = &live.info.api_id;
        if changes.has("cors") {
            ctx.aws
                .apigateway
                .update_api()
                .api_id(api_id)
                .cors_configuration(desired.cors.to_sdk())
                .send()
                .await
                .aws_context(|| format!("updating CORS of HTTP API ({})", self.name))?;
        }
        let integration_id = match &live.integration {
            None => create_integration(ctx, api_id).await?,
            Some(integration) => {
                if changes.has("integration") {
                    update_integration(ctx, api_id, &integration.id).await?;
                }
                integration.id.clone()
            }
        };
        apply_routes(ctx, api_id, &integration_id, &live.routes).await?;
        match &live.stage {
            None => create_stage(ctx, api_id, desired.throttle).await?,
            Some(_) if changes.has("stage") => update_stage(ctx, api_id, desired.throttle).await?,
            Some(_) => {}
        }
        Ok(())
    }

    async fn add_tags(
        &self,
        ctx: &Ctx,
        live: &ObservedApi,
        tags: &std::collections::BTreeMap<String, String>,
    ) -> anyhow::Result<()> {
        let arn = format!(
            "arn:{}:apigateway:{}::/apis/{}",
            crate::names::partition(&ctx.region),
            ctx.region,
            live.info.api_id
        );
        ctx.aws
            .apigateway
            .tag_resource()
            .resource_arn(&arn)
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await
            .aws_context(|| format!("tagging HTTP API ({})", self.name))?;
        Ok(())
    }

    fn foreign_fix(&self, _ctx: &Ctx, live: &ObservedApi) -> String {
        format!(
            "Its id is {}. {}",
            live.info.api_id,
            super::ownership::FIX_CHOOSE_ANOTHER_NAME
        )
    }

    async fn delete(&self, ctx: &Ctx, live: &ObservedApi) -> anyhow::Result<bool> {
        let (name, api_id) = (&self.name, &live.info.api_id);
        deleted(
            ctx.aws.apigateway.delete_api().api_id(api_id).send().await,
            |e| e.is_not_found_exception(),
        )
        .aws_context(|| format!("deleting HTTP API ({name}, {api_id})"))
    }
}

fn cors_diff(live: &CorsSettings, desired: &CorsSettings) -> Vec<FieldChange> {
    [
        ("cors.allow_origins", &live.origins, &desired.origins),
        ("cors.allow_methods", &live.methods, &desired.methods),
        ("cors.allow_headers", &live.headers, &desired.headers),
        ("cors.expose_headers", &live.expose, &desired.expose),
    ]
    .into_iter()
    .filter(|(_, old, new)| old != new)
    .map(|(field, old, new)| FieldChange::new(field, render_set(old), render_set(new)))
    .collect()
}

fn integration_diff(ctx: &Ctx, live: Option<&LiveIntegration>) -> Vec<FieldChange> {
    let uri = function_uri(ctx);
    let Some(live) = live else {
        return vec![FieldChange::new("integration", "(none)", &uri)];
    };
    differing_fields([
        (
            "integration.type",
            live.kind.as_str(),
            IntegrationType::AwsProxy.as_str(),
        ),
        ("integration.uri", live.uri.as_str(), uri.as_str()),
        (
            "integration.payload_format_version",
            live.payload_format_version.as_str(),
            PAYLOAD_FORMAT_VERSION,
        ),
    ])
}

/// Exactly the function's routes, each targeting the integration.
fn routes_diff(routes: &[&str], live: &ObservedApi) -> Vec<FieldChange> {
    let target = route_target(live.integration.as_ref().map(|i| i.id.as_str()));
    let mut fields = Vec::new();
    for route_key in routes {
        match live.routes.get(*route_key) {
            None => fields.push(FieldChange::new(
                format!("route {route_key}"),
                "(none)",
                &target,
            )),
            Some((_, old)) if *old != target => {
                fields.push(FieldChange::new(format!("route {route_key}"), old, &target))
            }
            Some(_) => {}
        }
    }
    for (route_key, (_, old)) in extra_routes(routes, &live.routes) {
        fields.push(FieldChange::new(
            format!("route {route_key}"),
            old,
            "(none)",
        ));
    }
    fields
}

fn route_target(integration_id: Option<&str>) -> String {
    format!("integrations/{}", integration_id.unwrap_or("(new)"))
}

/// Live routes the function does not serve.
fn extra_routes<'a>(
    routes: &'a [&str],
    live: &'a BTreeMap<String, (String, String)>,
) -> impl Iterator<Item = (&'a String, &'a (String, String))> {
    live.iter()
        .filter(|(key, _)| !routes.contains(&key.as_str()))
}

fn stage_diff(live: Option<&LiveStage>, throttle: Throttle) -> Vec<FieldChange> {
    let Some(live) = live else {
        return vec![FieldChange::new("stage", "(none)", STAGE)];
    };
    let render = |value: Option<i64>| value.map_or_else(|| "(unset)".to_owned(), |v| v.to_string());
    differing_fields([
        (
            "stage.auto_deploy",
            live.auto_deploy.to_string(),
            true.to_string(),
        ),
        (
            "stage.throttle.rate_per_second",
            render(live.rate),
            throttle.rate_per_second.to_string(),
        ),
        (
            "stage.throttle.burst",
            render(live.burst),
            throttle.burst.to_string(),
        ),
    ])
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
        .aws_context(|| format!("creating HTTP API ({name})"))?;
    let info = ApiInfo {
        api_id: api.api_id().unwrap_or_default().to_owned(),
        endpoint: api.api_endpoint().unwrap_or_default().to_owned(),
    };
    let integration_id = create_integration(ctx, &info.api_id).await?;
    apply_routes(ctx, &info.api_id, &integration_id, &BTreeMap::new()).await?;
    create_stage(ctx, &info.api_id, throttle).await?;
    Ok(info)
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
        .aws_context(|| format!("creating the Lambda integration of HTTP API ({api_id})"))?;
    Ok(output.integration_id().unwrap_or_default().to_owned())
}

/// The API's first integration (we keep exactly one, to our function).
async fn read_integration(ctx: &Ctx, api_id: &str) -> anyhow::Result<Option<LiveIntegration>> {
    let integrations = ctx
        .aws
        .apigateway
        .get_integrations()
        .api_id(api_id)
        .send()
        .await
        .aws_context(|| format!("reading integrations of HTTP API ({api_id})"))?;
    Ok(integrations.items().first().map(|live| LiveIntegration {
        id: live.integration_id().unwrap_or_default().to_owned(),
        kind: live
            .integration_type()
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
        uri: live.integration_uri().unwrap_or_default().to_owned(),
        payload_format_version: live.payload_format_version().unwrap_or_default().to_owned(),
    }))
}

async fn update_integration(ctx: &Ctx, api_id: &str, id: &str) -> anyhow::Result<()> {
    ctx.aws
        .apigateway
        .update_integration()
        .api_id(api_id)
        .integration_id(id)
        .integration_type(IntegrationType::AwsProxy)
        .integration_uri(function_uri(ctx))
        .payload_format_version(PAYLOAD_FORMAT_VERSION)
        .send()
        .await
        .aws_context(|| format!("updating integration {id} of HTTP API ({api_id})"))?;
    Ok(())
}

/// Route key → (route id, target), over every page of GetRoutes.
pub async fn read_routes(
    ctx: &Ctx,
    api_id: &str,
) -> anyhow::Result<BTreeMap<String, (String, String)>> {
    let mut live = BTreeMap::new();
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
            .aws_context(|| format!("reading routes of HTTP API ({api_id})"))?;
        for route in page.items() {
            live.insert(
                route.route_key().unwrap_or_default().to_owned(),
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
            _ => return Ok(live),
        }
    }
}

/// How many route calls are in flight at once: API Gateway's control plane throttles bursts (the SDK retries a
/// TooManyRequestsException), so a few at a time rather than all eight.
const ROUTE_CALLS_AT_ONCE: usize = 4;

/// Makes `live` exactly the function's routes, each targeting `integration_id`: adds missing, retargets,
/// removes extra, a few calls at a time.
async fn apply_routes(
    ctx: &Ctx,
    api_id: &str,
    integration_id: &str,
    live: &BTreeMap<String, (String, String)>,
) -> anyhow::Result<()> {
    let api = &ctx.aws.apigateway;
    let target = &route_target(Some(integration_id));
    let routes = routes(ctx);
    let mut calls: Vec<LocalBoxFuture<'_, anyhow::Result<()>>> = Vec::new();
    for route_key in routes.iter().copied() {
        match live.get(route_key) {
            None => calls.push(Box::pin(async move {
                api.create_route()
                    .api_id(api_id)
                    .route_key(route_key)
                    .target(target)
                    .send()
                    .await
                    .aws_context(|| {
                        format!("creating route `{route_key}` of HTTP API ({api_id})")
                    })?;
                Ok(())
            })),
            Some((route_id, old)) if old != target => calls.push(Box::pin(async move {
                api.update_route()
                    .api_id(api_id)
                    .route_id(route_id)
                    .target(target)
                    .send()
                    .await
                    .aws_context(|| {
                        format!("updating route `{route_key}` of HTTP API ({api_id})")
                    })?;
                Ok(())
            })),
            Some(_) => {}
        }
    }
    for (route_key, (route_id, _)) in extra_routes(&routes, live) {
        calls.push(Box::pin(async move {
            api.delete_route()
                .api_id(api_id)
                .route_id(route_id)
                .send()
                .await
                .aws_context(|| format!("deleting route `{route_key}` of HTTP API ({api_id})"))?;
            Ok(())
        }));
    }
    stream::iter(calls)
        .buffer_unordered(ROUTE_CALLS_AT_ONCE)
        .try_collect::<Vec<()>>()
        .await?;
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
        .aws_context(|| format!("creating stage {STAGE} of HTTP API ({api_id})"))?;
    Ok(())
}

async fn read_stage(ctx: &Ctx, api_id: &str) -> anyhow::Result<Option<LiveStage>> {
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
    .aws_context(|| format!("reading stage {STAGE} of HTTP API ({api_id})"))?;
    Ok(stage.map(|stage| {
        let settings = stage.default_route_settings();
        LiveStage {
            auto_deploy: stage.auto_deploy().unwrap_or(false),
            // The API takes a double for the rate; the config holds whole requests per second.
            rate: settings
                .and_then(|s| s.throttling_rate_limit())
                .map(|rate| rate.round() as i64),
            burst: settings
                .and_then(|s| s.throttling_burst_limit())
                .map(i64::from),
        }
    }))
}

/// Note: moto answers UpdateStage with 500, so tests against moto cover creating the stage and planning its
/// update only.
async fn update_stage(ctx: &Ctx, api_id: &str, throttle: Throttle) -> anyhow::Result<()> {
    ctx.aws
        .apigateway
        .update_stage()
        .api_id(api_id)
        .stage_name(STAGE)
        .auto_deploy(true)
        .default_route_settings(route_settings(throttle))
        .send()
        .await
        .aws_context(|| format!("updating stage {STAGE} of HTTP API ({api_id})"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(routes: &[(&str, &str)]) -> ObservedApi {
        ObservedApi {
            info: ApiInfo {
                api_id: "a1".into(),
                endpoint: "https://a1".into(),
            },
            tags: Tags::new(),
            cors: CorsSettings::desired(&["http://site".to_owned()]),
            integration: Some(LiveIntegration {
                id: "i1".into(),
                kind: "AWS_PROXY".into(),
                uri: "arn".into(),
                payload_format_version: "2.0".into(),
            }),
            routes: routes
                .iter()
                .map(|(key, target)| (key.to_string(), ("r".to_owned(), target.to_string())))
                .collect(),
            stage: Some(LiveStage {
                auto_deploy: true,
                rate: Some(10),
                burst: None,
            }),
        }
    }

    #[test]
    fn routes_diff_adds_missing_retargets_and_removes_extra() {
        let mut routes: Vec<(&str, &str)> =
            ROUTES.iter().map(|r| (*r, "integrations/i1")).collect();
        routes[0].1 = "integrations/old";
        routes.remove(1);
        routes.push(("GET /admin", "integrations/i1"));
        assert_eq!(
            routes_diff(&ROUTES, &live(&routes)),
            vec![
                FieldChange::new("route GET /products", "integrations/old", "integrations/i1"),
                FieldChange::new(
                    "route GET /products/{productId}",
                    "(none)",
                    "integrations/i1"
                ),
                FieldChange::new("route GET /admin", "integrations/i1", "(none)"),
            ]
        );
    }

    #[test]
    fn stage_diff_names_each_throttle_field() {
        let throttle = Throttle {
            rate_per_second: 10,
            burst: 20,
        };
        let live = live(&[]);
        assert_eq!(
            stage_diff(live.stage.as_ref(), throttle),
            vec![FieldChange::new("stage.throttle.burst", "(unset)", "20")]
        );
        assert_eq!(
            stage_diff(None, throttle),
            vec![FieldChange::new("stage", "(none)", STAGE)]
        );
    }

    #[test]
    fn cors_diff_compares_sets() {
        let a = CorsSettings::desired(&["http://a".to_owned()]);
        let b = CorsSettings::desired(&["http://b".to_owned()]);
        assert!(cors_diff(&a, &a).is_empty());
        assert_eq!(
            cors_diff(&a, &b),
            vec![FieldChange::new(
                "cors.allow_origins",
                "http://a",
                "http://b"
            )]
        );
    }
}
