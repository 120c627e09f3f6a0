//! The distribution's config as data, without AWS: what `website.https` wants ([`desired_config`]), the
//! config to write over the live one ([`merged`]), and the fields compared, as AWS answers them ([`shape`]).
//!
//! AWS does not answer a config the way it was sent: it fills in every optional field (an origin without an
//! Origin Access Control comes back with `<OriginAccessControlId></OriginAccessControlId>`), returns lists
//! in its own order (`AllowedMethods` as `HEAD, GET`), and keeps fields this tool does not manage (a
//! `WebACLId`, which a CloudFront flat-rate plan requires and forbids removing; aliases, logging, an origin
//! or behavior someone added by hand). So an update writes the live config with only our fields set, and the
//! comparison reads empty strings as "not set", lists of methods as sets, origins by id, behaviors by path
//! pattern and error responses by code: a no-op `up` sends no CloudFront write.

use aws_sdk_cloudfront::types::{
    AllowedMethods, CacheBehavior, CacheBehaviors, CachedMethods, CustomErrorResponse,
    CustomErrorResponses, CustomOriginConfig, DefaultCacheBehavior, DistributionConfig,
    HttpVersion, Method, Origin, OriginProtocolPolicy, OriginSslProtocols, Origins, PriceClass,
    S3OriginConfig, SslProtocol, ViewerProtocolPolicy,
};

use crate::config::model::Config;

/// Managed policies (the same ids in every account): CachingOptimized, CachingDisabled, and the origin
/// request policy AllViewerExceptHostHeader (API Gateway needs its own Host header).
const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";
const CACHING_DISABLED: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
const ALL_VIEWER_EXCEPT_HOST: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";
pub const API_PATTERN: &str = "/api/*";

/// What the distribution points at besides the bucket: the OAC's id and the API's URL (`None` in plan,
/// before they exist).
pub struct Desired {
    pub oac_id: Option<String>,
    pub api_url: Option<String>,
}

/// One custom error response: a viewer-facing page for an origin's error status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorPage {
    pub error_code: u16,
    pub page: String,
    pub response_code: u16,
    pub min_ttl_seconds: i64,
}

/// The storefront's page for an object the bucket does not have. A private bucket read through an OAC
/// without `s3:ListBucket` answers 403 for a missing key, so only 403 is mapped (to the error document, as
/// a 404). CustomErrorResponses apply to every origin of the distribution: mapping 404 too would turn the
/// API's own JSON 404s (`product_not_found`, `order_not_found`) into the storefront's HTML. The API never
/// answers 403.
pub fn error_pages(config: &Config) -> Vec<ErrorPage> {
    vec![ErrorPage {
        error_code: 403,
        page: format!("/{}", config.website.error_document),
        response_code: 404,
        min_ttl_seconds: 10,
    }]
}

fn methods(items: &[Method]) -> anyhow::Result<AllowedMethods> {
    let cached = CachedMethods::builder()
        .quantity(2)
        .items(Method::Get)
        .items(Method::Head)
        .build()?;
    Ok(AllowedMethods::builder()
        .quantity(items.len() as i32)
        .set_items(Some(items.to_vec()))
        .cached_methods(cached)
        .build()?)
}

/// Origin `site` (the bucket's REST domain, through the OAC) and `api` (the HTTP API, HTTPS only).
fn origins(bucket_domain: &str, to: &Desired) -> anyhow::Result<Origins> {
    let api_domain = to.api_url.as_deref().map_or("(new)", |u| {
        u.trim_start_matches("https://").trim_end_matches('/')
    });
    let site = Origin::builder()
        .id("site")
        .domain_name(bucket_domain)
        .s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build())
        .origin_access_control_id(to.oac_id.as_deref().unwrap_or("(new)"))
        .build()?;
    let tls = OriginSslProtocols::builder()
        .quantity(1)
        .items(SslProtocol::TlSv12)
        .build()?;
    let custom = CustomOriginConfig::builder()
        .http_port(80)
        .https_port(443)
        .origin_protocol_policy(OriginProtocolPolicy::HttpsOnly)
        .origin_ssl_protocols(tls)
        .build()?;
    let api = Origin::builder()
        .id("api")
        .domain_name(api_domain)
        .custom_origin_config(custom)
        .build()?;
    Ok(Origins::builder()
        .quantity(2)
        .items(site)
        .items(api)
        .build()?)
}

/// `/api/*` to the API: every method, nothing cached, every viewer header but Host forwarded.
fn api_behaviors() -> anyhow::Result<CacheBehaviors> {
    use Method::*;
    let api = CacheBehavior::builder()
        .path_pattern(API_PATTERN)
        .target_origin_id("api")
        .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
        .compress(true)
        .cache_policy_id(CACHING_DISABLED)
        .origin_request_policy_id(ALL_VIEWER_EXCEPT_HOST)
        .allowed_methods(methods(&[Get, Head, Options, Put, Post, Patch, Delete])?)
        .build()?;
    Ok(CacheBehaviors::builder().quantity(1).items(api).build()?)
}

fn error_responses(config: &Config) -> anyhow::Result<CustomErrorResponses> {
    let errors = error_pages(config)
        .into_iter()
        .map(|page| {
            CustomErrorResponse::builder()
                .error_code(i32::from(page.error_code))
                .response_page_path(page.page)
                .response_code(page.response_code.to_string())
                .error_caching_min_ttl(page.min_ttl_seconds)
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CustomErrorResponses::builder()
        .quantity(errors.len() as i32)
        .set_items(Some(errors))
        .build()?)
}

/// The whole desired config: everything but `/api/*` cached from the bucket, HTTPS only for viewers.
pub fn desired_config(
    config: &Config,
    bucket_domain: &str,
    to: &Desired,
    caller_reference: &str,
    comment: &str,
) -> anyhow::Result<DistributionConfig> {
    let default = DefaultCacheBehavior::builder()
        .target_origin_id("site")
        .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
        .compress(true)
        .cache_policy_id(CACHING_OPTIMIZED)
        .allowed_methods(methods(&[Method::Get, Method::Head])?)
        .build()?;
    Ok(DistributionConfig::builder()
        .caller_reference(caller_reference)
        .comment(comment)
        .enabled(true)
        .origins(origins(bucket_domain, to)?)
        .default_cache_behavior(default)
        .cache_behaviors(api_behaviors()?)
        .custom_error_responses(error_responses(config)?)
        .default_root_object(&config.website.index_document)
        .price_class(PriceClass::PriceClass100)
        .http_version(HttpVersion::Http2and3)
        .is_ipv6_enabled(true)
        .build()?)
}

/// Sets the fields of a cache behavior this tool manages from `$wanted`; the rest of `$live` stays.
macro_rules! managed_behavior {
    ($live:expr, $wanted:expr) => {{
        let (mut live, wanted) = ($live, $wanted);
        live.target_origin_id = wanted.target_origin_id;
        live.viewer_protocol_policy = wanted.viewer_protocol_policy;
        live.compress = wanted.compress;
        live.cache_policy_id = wanted.cache_policy_id;
        live.origin_request_policy_id = wanted.origin_request_policy_id;
        live.allowed_methods = wanted.allowed_methods;
        live
    }};
}

/// Our origin over the live one of the same id: domain, OAC and origin type ours, the rest (timeouts,
/// custom headers, Origin Shield) as it is.
fn merged_origin(live: Option<&Origin>, wanted: Origin) -> Origin {
    let Some(live) = live else { return wanted };
    let mut out = live.clone();
    out.domain_name = wanted.domain_name;
    out.origin_access_control_id = wanted.origin_access_control_id;
    out.s3_origin_config = wanted.s3_origin_config;
    out.custom_origin_config = match (
        live.custom_origin_config.clone(),
        wanted.custom_origin_config,
    ) {
        (Some(mut live), Some(wanted)) => {
            live.http_port = wanted.http_port;
            live.https_port = wanted.https_port;
            live.origin_protocol_policy = wanted.origin_protocol_policy;
            live.origin_ssl_protocols = wanted.origin_ssl_protocols;
            Some(live)
        }
        (_, wanted) => wanted,
    };
    out
}

/// Ours by id, in the live order, then ours that are new; origins someone else added stay.
fn merged_origins(live: Option<&Origins>, wanted: Option<Origins>) -> Option<Origins> {
    let mut out = wanted?;
    let live = live.map(|o| o.items.as_slice()).unwrap_or_default();
    let mut wanted = std::mem::take(&mut out.items);
    let mut items: Vec<Origin> = live
        .iter()
        .map(
            |origin| match wanted.iter().position(|w| w.id == origin.id) {
                Some(at) => merged_origin(Some(origin), wanted.remove(at)),
                None => origin.clone(),
            },
        )
        .collect();
    items.extend(wanted);
    out.quantity = items.len() as i32;
    out.items = items;
    Some(out)
}

/// Ours by path pattern, in the live order, then ours that are new; behaviors someone else added stay.
fn merged_behaviors(
    live: Option<&CacheBehaviors>,
    wanted: Option<CacheBehaviors>,
) -> Option<CacheBehaviors> {
    let mut out = wanted?;
    let live = live.map(|b| b.items()).unwrap_or_default();
    let mut wanted = out.items.take().unwrap_or_default();
    let mut items: Vec<CacheBehavior> = live
        .iter()
        .map(|behavior| {
            match wanted
                .iter()
                .position(|w| w.path_pattern == behavior.path_pattern)
            {
                Some(at) => managed_behavior!(behavior.clone(), wanted.remove(at)),
                None => behavior.clone(),
            }
        })
        .collect();
    items.extend(wanted);
    out.quantity = items.len() as i32;
    out.items = Some(items);
    Some(out)
}

/// The config to write: the live one, so that what this tool does not manage stays as AWS has it (a
/// `WebACLId`, aliases, logging, restrictions, the viewer certificate, an origin or behavior added by
/// hand), with every field this tool manages set as `wanted` says. The error responses are ours whole.
pub fn merged(live: &DistributionConfig, wanted: DistributionConfig) -> DistributionConfig {
    let mut out = live.clone();
    out.comment = wanted.comment;
    out.enabled = wanted.enabled;
    out.default_root_object = wanted.default_root_object;
    out.price_class = wanted.price_class;
    out.http_version = wanted.http_version;
    out.is_ipv6_enabled = wanted.is_ipv6_enabled;
    out.custom_error_responses = wanted.custom_error_responses;
    out.origins = merged_origins(live.origins.as_ref(), wanted.origins);
    out.cache_behaviors = merged_behaviors(live.cache_behaviors.as_ref(), wanted.cache_behaviors);
    out.default_cache_behavior = match (
        live.default_cache_behavior.clone(),
        wanted.default_cache_behavior,
    ) {
        (Some(live), Some(wanted)) => Some(managed_behavior!(live, wanted)),
        (live, wanted) => wanted.or(live),
    };
    out
}

/// A value AWS may answer as an empty string where it was never set: both read "(none)".
fn set(value: Option<&str>) -> &str {
    value.filter(|v| !v.is_empty()).unwrap_or("(none)")
}

/// Methods as a set (AWS answers them in its own order).
fn method_set(items: &[Method]) -> String {
    let mut names: Vec<&str> = items.iter().map(Method::as_str).collect();
    names.sort_unstable();
    names.join(",")
}

/// One cache behavior as a plan value (the default behavior and a path's share these fields).
macro_rules! behavior_line {
    ($b:expr) => {{
        let b = $b;
        let allowed = b.allowed_methods();
        let cached = allowed
            .and_then(|m| m.cached_methods())
            .map(|c| method_set(c.items()));
        format!(
            "{} {} compress={} cache={} request={} methods={} cached={}",
            b.target_origin_id(),
            b.viewer_protocol_policy().as_str(),
            b.compress().unwrap_or(false),
            set(b.cache_policy_id()),
            set(b.origin_request_policy_id()),
            allowed.map(|m| method_set(m.items())).unwrap_or_default(),
            cached.unwrap_or_default()
        )
    }};
}

fn origin_line(o: &Origin) -> String {
    let custom = o
        .custom_origin_config()
        .map(|c| format!(" {}", c.origin_protocol_policy().as_str()))
        .unwrap_or_default();
    let oac = set(o.origin_access_control_id());
    format!("{}={}{custom} oac={oac}", o.id(), o.domain_name())
}

/// Sorted, then joined: a list compared as a set of lines.
fn sorted(mut lines: Vec<String>) -> String {
    lines.sort();
    lines.join("; ")
}

/// The fields compared, as plan lines (the caller reference and comment are identity, not settings).
pub fn shape(c: &DistributionConfig) -> Vec<(&'static str, String)> {
    let origins = c.origins().map(|o| o.items()).unwrap_or_default();
    let paths = c.cache_behaviors().map(|b| b.items()).unwrap_or_default();
    let paths = paths
        .iter()
        .map(|b| format!("{} → {}", b.path_pattern(), behavior_line!(b)));
    let errors = c
        .custom_error_responses()
        .map(|e| e.items())
        .unwrap_or_default();
    let errors = errors.iter().map(|e| {
        format!(
            "{}→{} {}",
            e.error_code(),
            set(e.response_page_path()),
            set(e.response_code())
        )
    });
    let text = |value: Option<&str>| set(value).to_owned();
    vec![
        ("enabled", c.enabled().to_string()),
        ("default_root_object", text(c.default_root_object())),
        ("price_class", text(c.price_class().map(|p| p.as_str()))),
        ("http_version", text(c.http_version().map(|p| p.as_str()))),
        ("origins", sorted(origins.iter().map(origin_line).collect())),
        (
            "default_behavior",
            text(
                c.default_cache_behavior()
                    .map(|b| behavior_line!(b))
                    .as_deref(),
            ),
        ),
        ("behaviors", sorted(paths.collect())),
        ("error_responses", sorted(errors.collect())),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points_at() -> Desired {
        Desired {
            oac_id: Some("E2OAC".into()),
            api_url: Some("https://abc.execute-api.us-east-1.amazonaws.com".into()),
        }
    }

    /// The shipped defaults (every key but the region left out).
    fn defaults() -> Config {
        crate::config::parse("region: us-east-1", std::path::Path::new("cdn_config.rs")).unwrap()
    }

    fn wanted() -> DistributionConfig {
        desired_config(
            &defaults(),
            "b.s3.us-east-1.amazonaws.com",
            &points_at(),
            "ref-1",
            "shop website",
        )
        .unwrap()
    }

    /// `config` as AWS answers it: methods in its own order, an empty OAC id on the API origin, a web ACL.
    fn as_aws_answers(mut config: DistributionConfig) -> DistributionConfig {
        let reorder = |m: &mut AllowedMethods| {
            m.items.reverse();
            if let Some(cached) = m.cached_methods.as_mut() {
                cached.items.reverse();
            }
        };
        if let Some(b) = config.default_cache_behavior.as_mut() {
            b.allowed_methods.as_mut().map(reorder);
        }
        for b in config
            .cache_behaviors
            .as_mut()
            .unwrap()
            .items
            .as_mut()
            .unwrap()
        {
            b.allowed_methods.as_mut().map(reorder);
        }
        let origins = &mut config.origins.as_mut().unwrap().items;
        origins.reverse();
        for origin in origins.iter_mut() {
            origin
                .origin_access_control_id
                .get_or_insert_with(String::new);
        }
        config.web_acl_id = Some("arn:aws:wafv2:us-east-1:1:global/webacl/plan/1".into());
        config
    }

    #[test]
    fn an_answer_in_aws_order_with_empty_strings_is_no_change() {
        let live = as_aws_answers(wanted());
        assert_eq!(shape(&live), shape(&merged(&live, wanted())));
        assert_eq!(shape(&live), shape(&wanted()));
    }

    #[test]
    fn a_managed_change_shows_and_what_is_not_ours_stays() {
        let mut live = as_aws_answers(wanted());
        live.default_root_object = Some("other.html".into());
        let mut hand_made = live.origins.as_ref().unwrap().items[0].clone();
        hand_made.id = "logs".into();
        let origins = live.origins.as_mut().unwrap();
        origins.items.push(hand_made);
        origins.quantity = 3;
        let out = merged(&live, wanted());
        let changed: Vec<_> = shape(&live)
            .into_iter()
            .zip(shape(&out))
            .filter(|(a, b)| a != b)
            .map(|(a, _)| a.0)
            .collect();
        assert_eq!(changed, ["default_root_object"]);
        assert_eq!(out.web_acl_id, live.web_acl_id);
        let ids: Vec<_> = out
            .origins
            .as_ref()
            .unwrap()
            .items
            .iter()
            .map(|o| o.id.as_str())
            .collect();
        assert_eq!(ids, ["api", "site", "logs"]);
        assert_eq!(out.origins.as_ref().unwrap().quantity, 3);
    }

    #[test]
    fn only_the_private_buckets_403_becomes_the_storefronts_page() {
        let codes: Vec<_> = error_pages(&defaults())
            .iter()
            .map(|p| p.error_code)
            .collect();
        assert_eq!(codes, [403]);
    }
}
