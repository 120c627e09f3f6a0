//! `website.https`: the CloudFront origin access control and distribution against moto, and the private
//! bucket. moto 5.2 drops each origin's OriginAccessControlId from its GetDistributionConfig answer (real AWS
//! returns the config as it was last written, OAC id included), so these tests answer GetDistributionConfig
//! through the fault layer with the config last sent, the way AWS answers it (documented shape): every
//! optional field filled in (an origin without an OAC has `<OriginAccessControlId></OriginAccessControlId>`,
//! an empty `WebACLId`, no aliases, logging off) and method lists in AWS's own order (`HEAD, GET`). Its
//! ListDistributions drops each summary's Comment (how a stack finds its distribution): that answer is moto's
//! list with each Comment filled in from moto's GetDistribution. Everything else is moto's.

use shopsmart_deploy::change::Action;
use shopsmart_deploy::config::model::Config;
use shopsmart_deploy::names::STACK_TAG_KEY;
use shopsmart_deploy::resources::cdn::{Desired, Distribution, OriginAccessControl};
use shopsmart_deploy::resources::website_bucket::{bucket_name, Bucket, CLOUDFRONT_TAG};
use shopsmart_deploy::resources::{converge, destroy, Ctx, Mode, Resource};

use crate::support::faults::{ctx_with_faults, Canned, Faults, SeenRequest};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use shopsmart_deploy::report::Reporter;
use shopsmart_deploy::stack;

use crate::support::{assert_nothing_remains, stack_options, test_config, unique_stage, CallLog};

const API: &str = "https://abc123.execute-api.us-east-1.amazonaws.com";
const XMLNS: &str = "http://cloudfront.amazonaws.com/doc/2020-05-31/";

fn https_config() -> Config {
    let mut config = test_config(&unique_stage(), "us-east-1");
    config.website.https = true;
    config
}

/// The `<DistributionConfig>` element's content in a CreateDistributionWithTags or UpdateDistribution body.
fn sent_config(request: &SeenRequest) -> Option<String> {
    let body = &request.body;
    let open = body
        .find("<DistributionConfig>")
        .or_else(|| body.find("<DistributionConfig "))?;
    let start = open + body[open..].find('>')? + 1;
    let end = body.rfind("</DistributionConfig>")?;
    Some(body[start..end].to_owned())
}

/// Method lists as AWS answers them: in its own order (`HEAD, GET`; `HEAD, DELETE, POST, GET, OPTIONS, PUT,
/// PATCH`), not the order they were sent in.
fn aws_method_order(xml: &str) -> String {
    const AWS_ORDER: [&str; 7] = ["HEAD", "DELETE", "POST", "GET", "OPTIONS", "PUT", "PATCH"];
    let mut out = String::new();
    let mut rest = xml;
    while let Some(at) = rest.find("<Items><Method>") {
        let (before, list) = rest.split_at(at + "<Items>".len());
        let end = list.find("</Items>").expect("a closed method list");
        let mut methods: Vec<&str> = list[..end]
            .split("</Method>")
            .filter_map(|m| m.strip_prefix("<Method>"))
            .collect();
        methods.sort_by_key(|m| AWS_ORDER.iter().position(|o| o == m));
        out.push_str(before);
        for method in methods {
            out.push_str(&format!("<Method>{method}</Method>"));
        }
        rest = &list[end..];
    }
    out.push_str(rest);
    out
}

/// A config as AWS answers it (see the module's doc): the fields it fills in where they were not sent, a
/// `WebACLId` when the distribution has one (a flat-rate plan's), methods in AWS's order.
fn as_aws_answers(written: &str, web_acl: Option<&str>) -> String {
    let origins: Vec<String> = written
        .split("</Origin>")
        .map(|part| match part.contains("<Origin>") && !part.contains("<OriginAccessControlId>") {
            true => format!("{part}<OriginAccessControlId></OriginAccessControlId><OriginPath></OriginPath>"),
            false => part.to_owned(),
        })
        .collect();
    let mut config = aws_method_order(&origins.join("</Origin>"));
    let filled = [
        ("<WebACLId>", format!("<WebACLId>{}</WebACLId>", web_acl.unwrap_or_default())),
        ("<Aliases>", "<Aliases><Quantity>0</Quantity></Aliases>".into()),
        ("<OriginGroups>", "<OriginGroups><Quantity>0</Quantity></OriginGroups>".into()),
        ("<Logging>", "<Logging><Enabled>false</Enabled><IncludeCookies>false</IncludeCookies><Bucket></Bucket><Prefix></Prefix></Logging>".into()),
        ("<ContinuousDeploymentPolicyId>", "<ContinuousDeploymentPolicyId></ContinuousDeploymentPolicyId>".into()),
        ("<Staging>", "<Staging>false</Staging>".into()),
    ];
    for (tag, element) in filled {
        if !config.contains(tag) {
            config.push_str(&element);
        }
    }
    config
}

/// GetDistributionConfig answered as AWS does: the config last written, as AWS answers it, with an ETag.
fn serve_written_configs(faults: &Faults, web_acl: Option<&'static str>) {
    let is_get_config =
        |r: &SeenRequest, _: &[SeenRequest]| r.method == "GET" && r.path.ends_with("/config");
    faults.inject_with(usize::MAX, is_get_config, move |_, history| {
        let written = history.iter().rev().find_map(sent_config).expect("a config was written");
        Canned {
            status: 200,
            headers: vec![
                ("content-type".into(), "text/xml".into()),
                ("etag".into(), format!("E{}", history.len())),
            ],
            body: format!(
                "<?xml version=\"1.0\"?><DistributionConfig xmlns=\"{XMLNS}\">{}</DistributionConfig>",
                as_aws_answers(&written, web_acl)
            ),
        }
    });
}

/// A GET straight to moto (blocking; the rule answering needs moto's state now). moto does not check
/// signatures, so a dummy Authorization naming the service is enough.
fn moto_get(path: &str) -> String {
    use std::io::{Read, Write};
    let endpoint = crate::support::endpoint();
    let host = endpoint.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    let auth = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/cloudfront/aws4_request, \
                SignedHeaders=host, Signature=0";
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {host}\r\nAuthorization: {auth}\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default()
}

fn element<'a>(xml: &'a str, name: &str) -> &'a str {
    let open = format!("<{name}>");
    xml.split_once(&open)
        .and_then(|(_, rest)| rest.split_once(&format!("</{name}>")))
        .map_or("", |(value, _)| value)
}

/// ListDistributions answered as AWS does: moto's own list, each summary with the Comment that moto leaves
/// out (taken from moto's GetDistribution of that id).
fn serve_listing(faults: &Faults) {
    let is_list = |r: &SeenRequest, _: &[SeenRequest]| r.is("GET", "/2020-05-31/distribution");
    faults.inject_with(usize::MAX, is_list, |_, _| {
        let listed = moto_get("/2020-05-31/distribution");
        let body = listed.split("</DistributionSummary>").map(|part| {
            let id = element(part, "Id");
            if id.is_empty() {
                return part.to_owned();
            }
            let comment = element(
                &moto_get(&format!("/2020-05-31/distribution/{id}")),
                "Comment",
            )
            .to_owned();
            format!("{part}<Comment>{comment}</Comment><Enabled>true</Enabled>")
        });
        Canned {
            status: 200,
            headers: vec![("content-type".into(), "text/xml".into())],
            body: body.collect::<Vec<_>>().join("</DistributionSummary>"),
        }
    });
}

/// Both stand-ins on one fault layer.
pub fn cloudfront_faults() -> Faults {
    cloudfront_faults_with(None)
}

/// Both stand-ins, for a distribution that has the web ACL `web_acl` (as one on a flat-rate plan must).
fn cloudfront_faults_with(web_acl: Option<&'static str>) -> Faults {
    let faults = Faults::new();
    serve_written_configs(&faults, web_acl);
    serve_listing(&faults);
    faults
}

/// Every CloudFront operation sent has its row in `permissions::OPERATIONS`.
fn covered(log: &CallLog) {
    for call in log.calls() {
        let rows = shopsmart_deploy::permissions::OPERATIONS;
        assert!(
            rows.iter().any(|(op, _, _)| *op == call),
            "{call} has no permissions row"
        );
    }
}

async fn https_ctx(config: Config, log: &CallLog) -> Ctx {
    ctx_with_faults(
        config,
        Mode::Apply,
        &[log.interceptor()],
        &cloudfront_faults(),
    )
    .await
}

/// Converges the OAC, then the distribution; their changes and the distribution's id and ARN.
async fn converge_cdn(ctx: &Ctx) -> (Action, Action, String, String) {
    let oac = OriginAccessControl::new(ctx);
    let oac_change = converge(ctx, &oac).await.unwrap();
    let oac_id = oac_change
        .live
        .map(|l| l.id)
        .or_else(|| oac.created.get().cloned());
    let desired = Desired {
        oac_id,
        api_url: Some(API.into()),
    };
    let distribution = Distribution::new(ctx, desired);
    let converged = converge(ctx, &distribution).await.unwrap();
    let info = distribution.info(converged.live.as_ref()).unwrap();
    (
        oac_change.change.action,
        converged.change.action,
        info.id,
        info.arn,
    )
}

#[tokio::test]
async fn distribution_converges_with_the_documented_settings_and_destroys() {
    let log = CallLog::default();
    let ctx = https_ctx(https_config(), &log).await;
    let (oac, dist, id, arn) = converge_cdn(&ctx).await;
    assert_eq!((oac, dist), (Action::Create, Action::Create));

    // Read back from moto (GetDistribution is moto's own answer).
    let got = ctx
        .aws
        .cloudfront
        .get_distribution()
        .id(&id)
        .send()
        .await
        .unwrap();
    let config = got.distribution().unwrap().distribution_config().unwrap();
    assert!(config.enabled());
    assert_eq!(config.default_root_object(), Some("index.html"));
    assert_eq!(config.price_class().unwrap().as_str(), "PriceClass_100");
    assert_eq!(config.http_version().unwrap().as_str(), "http2and3");
    let origins = config.origins().unwrap().items();
    let domains: Vec<_> = origins.iter().map(|o| o.domain_name()).collect();
    let bucket_domain = format!("{}.s3.us-east-1.amazonaws.com", bucket_name(&ctx));
    assert_eq!(
        domains,
        [
            bucket_domain.as_str(),
            "abc123.execute-api.us-east-1.amazonaws.com"
        ]
    );
    let default = config.default_cache_behavior().unwrap();
    assert_eq!(
        (
            default.target_origin_id(),
            default.viewer_protocol_policy().as_str(),
            default.compress()
        ),
        ("site", "redirect-to-https", Some(true))
    );
    let api = &config.cache_behaviors().unwrap().items()[0];
    assert_eq!(
        (
            api.path_pattern(),
            api.target_origin_id(),
            api.viewer_protocol_policy().as_str()
        ),
        ("/api/*", "api", "redirect-to-https")
    );
    assert_eq!(
        api.cache_policy_id(),
        Some("4135ea2d-6df8-44a3-9df3-4b5a84be39ad")
    );
    assert_eq!(
        api.origin_request_policy_id(),
        Some("b689b0a8-53d0-40ab-baf2-68738e2966ac")
    );
    let tags = ctx
        .aws
        .cloudfront
        .list_tags_for_resource()
        .resource(&arn)
        .send()
        .await
        .unwrap();
    let tags = tags.tags().unwrap().items();
    assert!(tags
        .iter()
        .any(|t| t.key() == STACK_TAG_KEY && t.value() == Some(&ctx.names.stack_id())));

    // A second converge reads only.
    covered(&log);
    log.clear();
    let (oac, dist, _, _) = converge_cdn(&ctx).await;
    assert_eq!((oac, dist), (Action::Unchanged, Action::Unchanged));
    assert_eq!(log.mutating_calls(), Vec::<String>::new());

    // Drift: someone changed the default root object; the next converge puts it back (with IfMatch).
    let current = ctx
        .aws
        .cloudfront
        .get_distribution_config()
        .id(&id)
        .send()
        .await
        .unwrap();
    let mut drifted = current.distribution_config().unwrap().clone();
    drifted.default_root_object = Some("other.html".into());
    ctx.aws
        .cloudfront
        .update_distribution()
        .id(&id)
        .if_match(current.e_tag().unwrap())
        .distribution_config(drifted)
        .send()
        .await
        .unwrap();
    covered(&log);
    log.clear();
    let (_, dist, _, _) = converge_cdn(&ctx).await;
    let Action::Update { fields } = dist else {
        panic!("expected an update, got {dist:?}")
    };
    assert_eq!(
        fields.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(),
        ["default_root_object"]
    );
    assert_eq!(log.mutating_calls(), ["CloudFront.UpdateDistribution"]);
    let (_, dist, _, _) = converge_cdn(&ctx).await;
    assert_eq!(dist, Action::Unchanged);

    // Destroy: disable, wait for Deployed, delete with the ETag; then the OAC.
    covered(&log);
    log.clear();
    let change = destroy(&ctx, &Distribution::existing(&ctx)).await.unwrap();
    assert_eq!(change.action, Action::Delete);
    let writes = log.mutating_calls();
    assert_eq!(
        writes,
        [
            "CloudFront.UpdateDistribution",
            "CloudFront.DeleteDistribution"
        ]
    );
    let change = destroy(&ctx, &OriginAccessControl::new(&ctx))
        .await
        .unwrap();
    assert_eq!(change.action, Action::Delete);
    assert!(!distribution_exists(&ctx).await);
    assert!(!oac_exists(&ctx).await);
    let again = destroy(&ctx, &Distribution::existing(&ctx)).await.unwrap();
    assert_eq!(again.action, Action::AlreadyGone);
    covered(&log);
}

/// Whether this stack's distribution / OAC exists (as `read` finds them).
async fn distribution_exists(ctx: &Ctx) -> bool {
    Distribution::existing(ctx)
        .read(ctx)
        .await
        .unwrap()
        .is_some()
}

async fn oac_exists(ctx: &Ctx) -> bool {
    OriginAccessControl::new(ctx)
        .read(ctx)
        .await
        .unwrap()
        .is_some()
}

/// The policy and Block Public Access of the bucket as S3 reports them.
async fn bucket_access(ctx: &Ctx) -> (serde_json::Value, [bool; 4]) {
    let bucket = bucket_name(ctx);
    let policy = ctx
        .aws
        .s3
        .get_bucket_policy()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let policy = serde_json::from_str(policy.policy().unwrap()).unwrap();
    let bpa = ctx
        .aws
        .s3
        .get_public_access_block()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let c = bpa.public_access_block_configuration().unwrap();
    let flags = [
        c.block_public_acls(),
        c.ignore_public_acls(),
        c.block_public_policy(),
        c.restrict_public_buckets(),
    ];
    (policy, flags.map(|f| f.unwrap_or(false)))
}

async fn converge_bucket(ctx: &Ctx, arn: Option<&str>) -> Action {
    let mut bucket = Bucket::new(ctx);
    bucket.distribution_arn = arn.map(str::to_owned);
    converge(ctx, &bucket).await.unwrap().change.action
}

#[tokio::test]
async fn the_bucket_is_private_to_the_distribution_and_switches_both_ways() {
    let log = CallLog::default();
    let config = https_config();
    let ctx = https_ctx(config.clone(), &log).await;
    let arn = "arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE";
    assert_eq!(converge_bucket(&ctx, Some(arn)).await, Action::Create);
    let (policy, flags) = bucket_access(&ctx).await;
    assert_eq!(flags, [true; 4]);
    let statement = &policy["Statement"][0];
    assert_eq!(
        statement["Principal"],
        serde_json::json!({ "Service": "cloudfront.amazonaws.com" })
    );
    assert_eq!(statement["Action"], "s3:GetObject");
    assert_eq!(statement["Condition"]["StringEquals"]["AWS:SourceArn"], arn);
    assert_eq!(converge_bucket(&ctx, Some(arn)).await, Action::Unchanged);

    // https off: the public website again; then on: private again.
    let public = https_ctx(
        Config {
            website: shopsmart_deploy::config::model::WebsiteConfig {
                https: false,
                ..config.website.clone()
            },
            ..config.clone()
        },
        &log,
    )
    .await;
    assert!(matches!(
        converge_bucket(&public, None).await,
        Action::Update { .. }
    ));
    let (policy, flags) = bucket_access(&ctx).await;
    assert_eq!(
        (policy["Statement"][0]["Principal"].clone(), flags),
        ("*".into(), [true, true, false, false])
    );
    assert_eq!(converge_bucket(&public, None).await, Action::Unchanged);
    assert!(matches!(
        converge_bucket(&ctx, Some(arn)).await,
        Action::Update { .. }
    ));
    assert_eq!(bucket_access(&ctx).await.1, [true; 4]);
    assert_eq!(converge_bucket(&ctx, Some(arn)).await, Action::Unchanged);
    destroy(&ctx, &Bucket::to_delete(&ctx)).await.unwrap();
}

async fn config_js(ctx: &Ctx) -> String {
    let object = ctx
        .aws
        .s3
        .get_object()
        .bucket(bucket_name(ctx))
        .key("config.js")
        .send()
        .await
        .unwrap();
    String::from_utf8(object.body.collect().await.unwrap().into_bytes().to_vec()).unwrap()
}

/// The CloudFront operations among `calls`, sorted.
fn cloudfront_calls(log: &CallLog) -> Vec<String> {
    let mut calls: Vec<_> = log
        .calls()
        .into_iter()
        .filter(|c| c.starts_with("CloudFront."))
        .collect();
    calls.sort();
    calls
}

/// What a no-op `up` with `https` on asks CloudFront: the OAC list, the distribution list, then the
/// distribution's tags and config.
const NO_OP_CLOUDFRONT_READS: [&str; 4] = [
    "CloudFront.GetDistributionConfig",
    "CloudFront.ListDistributions",
    "CloudFront.ListOriginAccessControls",
    "CloudFront.ListTagsForResource",
];

/// Someone made the private bucket public by hand: Block Public Access off, a public-read policy.
async fn make_public_by_hand(ctx: &Ctx) {
    let bucket = bucket_name(ctx);
    let open = aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
        .block_public_acls(false)
        .ignore_public_acls(false)
        .block_public_policy(false)
        .restrict_public_buckets(false)
        .build();
    let s3 = &ctx.aws.s3;
    let bpa = s3.put_public_access_block().bucket(&bucket);
    bpa.public_access_block_configuration(open)
        .send()
        .await
        .unwrap();
    let policy = serde_json::json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow",
        "Principal": "*", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*") }] });
    let put = s3
        .put_bucket_policy()
        .bucket(&bucket)
        .policy(policy.to_string());
    put.send().await.unwrap();
}

async fn bucket_tag(ctx: &Ctx, key: &str) -> Option<String> {
    let got = ctx
        .aws
        .s3
        .get_bucket_tagging()
        .bucket(bucket_name(ctx))
        .send()
        .await
        .unwrap();
    got.tag_set()
        .iter()
        .find(|t| t.key() == key)
        .map(|t| t.value().to_owned())
}

/// Converge, no-op and drift with `https` on, then off → on, each with its calls: a no-op `up` reads
/// CloudFront four times with `https` on and not at all with it off.
#[tokio::test]
async fn up_serves_the_shop_from_cloudfront_and_switches_off_and_on() {
    let dir = tempfile::tempdir().unwrap();
    let zip = crate::support::write_test_zip(dir.path());
    let (config, log, faults) = (https_config(), CallLog::default(), cloudfront_faults());
    let with = |https: bool| {
        let mut config = config.clone();
        config.website.https = https;
        let mut opts = stack_options(config, &zip, vec![log.interceptor()], true);
        opts.http_client = Some(SharedHttpClient::new(faults.clone()));
        opts
    };
    let (on, off, progress) = (with(true), with(false), Reporter::quiet());
    let ctx = ctx_with_faults(config.clone(), Mode::Plan, &[], &faults).await;

    let up = stack::up(&on, &progress).await.unwrap();
    assert!(up.website_url.starts_with("https://") && up.website_url.ends_with(".cloudfront.net"));
    assert_eq!(config_js(&ctx).await, "export const API_URL = \"/api\";\n");
    assert_eq!(bucket_access(&ctx).await.1, [true; 4]);
    assert_eq!(
        bucket_tag(&ctx, CLOUDFRONT_TAG).await.as_deref(),
        Some("on")
    );
    let created: Vec<_> = log
        .mutating_calls()
        .into_iter()
        .filter(|c| c.starts_with("CloudFront."))
        .collect();
    assert_eq!(
        created,
        [
            "CloudFront.CreateOriginAccessControl",
            "CloudFront.CreateDistributionWithTags"
        ]
    );
    covered(&log);

    // No-op: no write, and four CloudFront reads.
    log.clear();
    let again = stack::up(&on, &progress).await.unwrap();
    assert_eq!(
        log.mutating_calls(),
        Vec::<String>::new(),
        "{:#?}",
        again.changes
    );
    assert_eq!(cloudfront_calls(&log), NO_OP_CLOUDFRONT_READS);
    assert_eq!(again.website_url, up.website_url);
    // `status` and `outputs` give the distribution's address as the website.
    let status = stack::status(&on, &progress).await.unwrap();
    assert_eq!(status.website_url, up.website_url);
    let outputs = shopsmart_deploy::outputs::collect(&ctx).await.unwrap();
    assert_eq!(outputs.website_url, up.website_url);
    // `diagram` draws the live distribution in front of bucket and API.
    let mut facts = shopsmart_deploy::diagram::Facts::of(&config, Some(&ctx.account_id));
    assert!(shopsmart_deploy::diagram::read_live(&ctx, &mut facts)
        .await
        .unwrap());
    let domain = up.website_url.trim_start_matches("https://");
    assert_eq!(facts.cdn.as_deref(), Some(domain));

    // Drift: the bucket made public by hand is made private again, policy first; nothing else is written.
    make_public_by_hand(&ctx).await;
    log.clear();
    stack::up(&on, &progress).await.unwrap();
    assert_eq!(
        log.mutating_calls(),
        ["S3.PutBucketPolicy", "S3.PutPublicAccessBlock"]
    );
    let (policy, flags) = bucket_access(&ctx).await;
    assert_eq!(
        (
            policy["Statement"][0]["Principal"]["Service"].as_str(),
            flags
        ),
        (Some("cloudfront.amazonaws.com"), [true; 4])
    );

    // Off: the bucket is the public website again, then the distribution and its OAC go (disable, delete),
    // then the bucket's CloudFront tag.
    log.clear();
    let down = stack::up(&off, &progress).await.unwrap();
    let removed: Vec<_> = down
        .changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .map(|c| c.kind)
        .collect();
    assert_eq!(
        removed,
        [
            "CloudFront distribution",
            "CloudFront origin access control"
        ]
    );
    let cloudfront_writes: Vec<_> = log
        .mutating_calls()
        .into_iter()
        .filter(|c| c.starts_with("CloudFront."))
        .collect();
    assert_eq!(
        cloudfront_writes,
        [
            "CloudFront.UpdateDistribution",
            "CloudFront.DeleteDistribution",
            "CloudFront.DeleteOriginAccessControl"
        ]
    );
    assert!(down.website_url.starts_with("http://"));
    assert_eq!(bucket_access(&ctx).await.1, [true, true, false, false]);
    assert!(config_js(&ctx).await.contains("execute-api"));
    assert_eq!(bucket_tag(&ctx, CLOUDFRONT_TAG).await, None);
    assert!(!distribution_exists(&ctx).await);
    covered(&log);

    // A no-op `up` with `https` off asks CloudFront nothing (the bucket says no distribution may exist).
    log.clear();
    stack::up(&off, &progress).await.unwrap();
    assert_eq!(log.mutating_calls(), Vec::<String>::new());
    assert_eq!(cloudfront_calls(&log), Vec::<String>::new());

    // On again, then destroy removes both.
    log.clear();
    let back = stack::up(&on, &progress).await.unwrap();
    assert!(back.website_url.starts_with("https://"));
    assert_eq!(bucket_access(&ctx).await.1, [true; 4]);
    assert_eq!(
        bucket_tag(&ctx, CLOUDFRONT_TAG).await.as_deref(),
        Some("on")
    );
    stack::destroy(&on, &progress).await.unwrap();
    assert!(!distribution_exists(&ctx).await);
    assert!(!oac_exists(&ctx).await);
    assert_nothing_remains(&ctx).await;
}

/// GetDistribution as AWS answers while a change deploys.
fn in_progress(id: &str) -> Canned {
    Canned {
        status: 200,
        headers: vec![("content-type".into(), "text/xml".into()), ("etag".into(), "E-IN-PROGRESS".into())],
        body: format!(
            "<?xml version=\"1.0\"?><Distribution xmlns=\"{XMLNS}\"><Id>{id}</Id><ARN>arn:aws:cloudfront::123456789012:\
             distribution/{id}</ARN><Status>InProgress</Status><DomainName>d.cloudfront.net</DomainName></Distribution>"
        ),
    }
}

/// Real AWS answers moto does not give: a distribution InProgress after it was disabled, PreconditionFailed
/// on a stale ETag (update and delete), DistributionNotDisabled on a delete (AWS has not taken the disable
/// in yet), OriginAccessControlInUse right after the distribution went.
/// The web ACL a CloudFront flat-rate plan attaches (and forbids removing): a field this tool does not
/// manage.
const PLAN_WEB_ACL: &str =
    "arn:aws:wafv2:us-east-1:123456789012:global/webacl/CreatedByCloudFront-1a2b3c4d/5e6f7a8b";

/// Compared as AWS answers (empty OAC id, methods in AWS's order, filled-in fields, a WebACLId it did not
/// send): a converge with nothing to change writes nothing; a real change writes once, carrying the
/// WebACLId over; and then nothing again. Fails when the comparison takes "" for a set OAC id or a list
/// order for a change (a write on every `up`), or when the update writes the desired config alone (the
/// WebACLId dropped: AWS refuses that for a distribution on a flat-rate plan).
#[tokio::test]
async fn a_config_compared_as_aws_answers_it_is_written_only_for_a_real_change() {
    let (log, faults) = (
        CallLog::default(),
        cloudfront_faults_with(Some(PLAN_WEB_ACL)),
    );
    let config = https_config();
    let ctx = ctx_with_faults(config.clone(), Mode::Apply, &[log.interceptor()], &faults).await;
    let (oac, dist, _, _) = converge_cdn(&ctx).await;
    assert_eq!((oac, dist), (Action::Create, Action::Create));

    log.clear();
    let (oac, dist, _, _) = converge_cdn(&ctx).await;
    assert_eq!((oac, dist), (Action::Unchanged, Action::Unchanged));
    assert_eq!(log.mutating_calls(), Vec::<String>::new());

    let mut changed = config.clone();
    changed.website.error_document = "missing.html".into();
    let changed_ctx = ctx_with_faults(changed, Mode::Apply, &[log.interceptor()], &faults).await;
    log.clear();
    let (_, dist, _, _) = converge_cdn(&changed_ctx).await;
    let Action::Update { fields } = dist else {
        panic!("expected an update, got {dist:?}")
    };
    assert_eq!(
        fields.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(),
        ["error_responses"]
    );
    assert_eq!(log.mutating_calls(), ["CloudFront.UpdateDistribution"]);
    let update = faults.seen(|r, _| r.method == "PUT" && r.path.ends_with("/config"));
    let written = sent_config(update.last().unwrap()).unwrap();
    assert!(
        written.contains(&format!("<WebACLId>{PLAN_WEB_ACL}</WebACLId>")),
        "the update must carry the live WebACLId over: {written}"
    );

    log.clear();
    let (_, dist, _, _) = converge_cdn(&changed_ctx).await;
    assert_eq!(dist, Action::Unchanged);
    assert_eq!(log.mutating_calls(), Vec::<String>::new());
    destroy(&ctx, &Distribution::existing(&ctx)).await.unwrap();
    destroy(&ctx, &OriginAccessControl::new(&ctx))
        .await
        .unwrap();
}

/// The distributions and OACs of this stack that moto holds: by comment, and by name.
async fn ours_in_moto(ctx: &Ctx) -> (usize, usize) {
    let comment = shopsmart_deploy::resources::cdn::comment(ctx);
    let listed = ctx
        .aws
        .cloudfront
        .list_distributions()
        .send()
        .await
        .unwrap();
    let ids: Vec<String> = listed
        .distribution_list()
        .map(|l| l.items().iter().map(|d| d.id().to_owned()).collect())
        .unwrap_or_default();
    let mut distributions = 0;
    for id in ids {
        // Other tests run beside this one: a distribution listed a moment ago may be deleted by now.
        let got = match ctx.aws.cloudfront.get_distribution().id(id).send().await {
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_no_such_distribution()) =>
            {
                continue
            }
            got => got.unwrap(),
        };
        let config = got.distribution().and_then(|d| d.distribution_config());
        distributions += usize::from(config.is_some_and(|c| c.comment() == comment));
    }
    let oacs = ctx
        .aws
        .cloudfront
        .list_origin_access_controls()
        .send()
        .await
        .unwrap();
    let name = shopsmart_deploy::resources::cdn::oac_name(ctx);
    let oacs = oacs
        .origin_access_control_list()
        .map_or(0, |l| l.items().iter().filter(|o| o.name() == name).count());
    (distributions, oacs)
}

/// Creates whose answer was lost after AWS carried them out: the SDK sends the same request again. For
/// the distribution AWS answers `DistributionAlreadyExists` (same CallerReference; moto does too); for the
/// OAC, `OriginAccessControlAlreadyExists` (moto does not check OAC names, so that answer is the fault
/// layer's, in AWS's documented shape). The lost answers are the fault layer's 500s. Each create finds its
/// own resource and goes on, and there is one of each; without that, the converge fails.
#[tokio::test]
async fn a_create_whose_answer_was_lost_finds_its_own_and_goes_on() {
    let (log, faults) = (CallLog::default(), cloudfront_faults());
    let lost = || Canned::query_error(500, "InternalError", "We encountered an internal error.");
    let creates_distribution =
        |r: &SeenRequest, _: &[SeenRequest]| r.is("POST", "/2020-05-31/distribution");
    let creates_oac =
        |r: &SeenRequest, _: &[SeenRequest]| r.is("POST", "/2020-05-31/origin-access-control");
    let lost_distribution = faults.lose_answer(1, creates_distribution, lost());
    let lost_oac = faults.lose_answer(1, creates_oac, lost());
    let oac_exists = faults.inject(
        1,
        creates_oac,
        Canned::query_error(
            409,
            "OriginAccessControlAlreadyExists",
            "An origin access control with the same name already exists.",
        ),
    );
    let ctx = ctx_with_faults(https_config(), Mode::Apply, &[log.interceptor()], &faults).await;
    let (oac, dist, id, _) = converge_cdn(&ctx).await;
    assert_eq!((oac, dist), (Action::Create, Action::Create));
    let hits = [&lost_distribution, &lost_oac, &oac_exists].map(|h| h.count());
    assert_eq!(hits, [1, 1, 1]);
    assert_eq!(ours_in_moto(&ctx).await, (1, 1));
    let (oac, dist, again, _) = converge_cdn(&ctx).await;
    assert_eq!(
        (oac, dist, again),
        (Action::Unchanged, Action::Unchanged, id)
    );
    destroy(&ctx, &Distribution::existing(&ctx)).await.unwrap();
    destroy(&ctx, &OriginAccessControl::new(&ctx))
        .await
        .unwrap();
}

/// `destroy` of a distribution on a CloudFront flat-rate pricing plan: AWS answers DeleteDistribution with
/// 412 PreconditionFailed "You can't delete this distribution while it's subscribed to a pricing plan"
/// (moto has no pricing plans: that answer is the fault layer's, in the shape AWS sends). It is not a stale
/// ETag to retry for 45 minutes: destroy stops at once with one line saying what to do, and nothing else
/// of the stack has been deleted (the distribution goes first). Once the plan has ended, destroy finishes.
#[tokio::test]
async fn destroy_of_a_distribution_on_a_pricing_plan_says_what_to_do_and_deletes_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let zip = crate::support::write_test_zip(dir.path());
    let (config, log, faults) = (
        https_config(),
        CallLog::default(),
        cloudfront_faults_with(Some(PLAN_WEB_ACL)),
    );
    let mut opts = stack_options(config.clone(), &zip, vec![log.interceptor()], true);
    opts.http_client = Some(SharedHttpClient::new(faults.clone()));
    let progress = Reporter::quiet();
    stack::up(&opts, &progress).await.unwrap();

    let deletes_distribution = |r: &SeenRequest, _: &[SeenRequest]| {
        r.method == "DELETE" && r.path.starts_with("/2020-05-31/distribution/")
    };
    let on_plan = Canned::query_error(
        412,
        "PreconditionFailed",
        "You can't delete this distribution while it's subscribed to a pricing plan. Cancel the pricing plan, then you can delete the distribution.",
    );
    let refused = faults.inject(1, deletes_distribution, on_plan);
    log.clear();
    let bounded = std::time::Duration::from_secs(120);
    let failed = tokio::time::timeout(bounded, stack::destroy(&opts, &progress))
        .await
        .expect("destroy must not retry a pricing plan's refusal")
        .unwrap_err();
    let message = format!("{failed:#}");
    assert!(message.contains("flat-rate pricing plan"), "{message}");
    assert!(message.contains("Cancel the plan"), "{message}");
    assert!(message.contains("deleted nothing else"), "{message}");
    assert_eq!(refused.count(), 1);
    let deletes: Vec<_> = log
        .mutating_calls()
        .into_iter()
        .filter(|c| c.contains(".Delete") || c.contains("RemovePermission"))
        .collect();
    assert_eq!(deletes, ["CloudFront.DeleteDistribution"]);

    let ctx = ctx_with_faults(config, Mode::Plan, &[], &faults).await;
    stack::destroy(&opts, &progress).await.unwrap();
    assert_nothing_remains(&ctx).await;
    assert_eq!(ours_in_moto(&ctx).await, (0, 0));
}

#[tokio::test]
async fn aws_answers_moto_lacks_are_waited_for_and_retried() {
    let (log, faults) = (CallLog::default(), cloudfront_faults());
    let config = https_config();
    let ctx = ctx_with_faults(config.clone(), Mode::Apply, &[log.interceptor()], &faults).await;
    let (_, _, id, _) = converge_cdn(&ctx).await;

    let stale = || {
        Canned::query_error(
            412,
            "PreconditionFailed",
            "The If-Match version is missing or not valid.",
        )
    };
    let config_path = format!("/2020-05-31/distribution/{id}/config");
    let put_config = config_path.clone();
    let update_refused = faults.inject(1, move |r, _| r.is("PUT", &put_config), stale());
    let mut moved = config.clone();
    moved.website.index_document = "home.html".into();
    let moved_ctx = ctx_with_faults(moved, Mode::Apply, &[log.interceptor()], &faults).await;
    log.clear();
    let (_, dist, _, _) = converge_cdn(&moved_ctx).await;
    assert!(matches!(dist, Action::Update { .. }), "{dist:?}");
    assert_eq!(update_refused.count(), 1);
    assert_eq!(
        log.mutating_calls(),
        [
            "CloudFront.UpdateDistribution",
            "CloudFront.UpdateDistribution"
        ]
    );

    let dist_path = format!("/2020-05-31/distribution/{id}");
    let (get_path, delete_path) = (dist_path.clone(), dist_path.clone());
    let disabled = move |h: &[SeenRequest]| {
        h.iter()
            .any(|r| r.is("PUT", &config_path) && r.body.contains("<Enabled>false"))
    };
    let deploying = faults.inject(
        2,
        move |r, h| r.is("GET", &get_path) && disabled(h),
        in_progress(&id),
    );
    let not_disabled_path = delete_path.clone();
    let delete_refused = faults.inject(1, move |r, _| r.is("DELETE", &delete_path), stale());
    let not_disabled = faults.inject(
        1,
        move |r, _| r.is("DELETE", &not_disabled_path),
        Canned::query_error(
            409,
            "DistributionNotDisabled",
            "The distribution you are trying to delete has not been disabled.",
        ),
    );
    let in_use = Canned::query_error(
        409,
        "OriginAccessControlInUse",
        "The origin access control is in use.",
    );
    let oac_busy = faults.inject(
        1,
        |r, _| r.method == "DELETE" && r.path.starts_with("/2020-05-31/origin-access-control/"),
        in_use,
    );
    let mut notes = moved_ctx.notes.listen();
    log.clear();
    let gone = destroy(&moved_ctx, &Distribution::existing(&moved_ctx))
        .await
        .unwrap();
    assert_eq!(gone.action, Action::Delete);
    let refused = (delete_refused.count(), not_disabled.count());
    assert_eq!((deploying.count(), refused), (2, (1, 1)));
    // Disabled once; each refused delete read the state again, found it disabled, and deleted again.
    assert_eq!(
        log.mutating_calls(),
        [
            "CloudFront.UpdateDistribution",
            "CloudFront.DeleteDistribution",
            "CloudFront.DeleteDistribution",
            "CloudFront.DeleteDistribution"
        ]
    );
    let said = notes.try_recv().unwrap();
    assert!(
        said.contains("InProgress") && said.contains("waited"),
        "{said}"
    );
    let gone = destroy(&moved_ctx, &OriginAccessControl::new(&moved_ctx))
        .await
        .unwrap();
    assert_eq!((gone.action, oac_busy.count()), (Action::Delete, 1));
    assert!(!oac_exists(&ctx).await);
}

/// An OAC cannot carry tags: one with our name but without `shopsmart:stack=<stack>` in its description is
/// someone else's. `up` stops naming it and the fix, `destroy` stops before deleting anything, and a prune
/// (https off) leaves it alone.
#[tokio::test]
async fn a_same_named_oac_without_our_marker_is_never_adopted_or_deleted() {
    let log = CallLog::default();
    let ctx = https_ctx(https_config(), &log).await;
    let name = shopsmart_deploy::resources::cdn::oac_name(&ctx);
    let config = aws_sdk_cloudfront::types::OriginAccessControlConfig::builder()
        .name(&name)
        .description("made by hand")
        .signing_behavior(aws_sdk_cloudfront::types::OriginAccessControlSigningBehaviors::Always)
        .signing_protocol(aws_sdk_cloudfront::types::OriginAccessControlSigningProtocols::Sigv4)
        .origin_access_control_origin_type(
            aws_sdk_cloudfront::types::OriginAccessControlOriginTypes::S3,
        )
        .build()
        .unwrap();
    let cf = &ctx.aws.cloudfront;
    let made = cf
        .create_origin_access_control()
        .origin_access_control_config(config);
    let id = made
        .send()
        .await
        .unwrap()
        .origin_access_control()
        .unwrap()
        .id()
        .to_owned();
    log.clear();

    let oac = OriginAccessControl::new(&ctx);
    let err = format!("{:#}", converge(&ctx, &oac).await.unwrap_err());
    let marker = format!("shopsmart:stack={}", ctx.names.stack_id());
    assert!(
        err.contains(&name)
            && err.contains(&id)
            && err.contains(&marker)
            && err.contains("description"),
        "{err}"
    );
    let err = format!("{:#}", destroy(&ctx, &oac).await.unwrap_err());
    assert!(err.contains(&name), "{err}");
    let pruned = shopsmart_deploy::resources::prune(&ctx, &oac)
        .await
        .unwrap();
    assert_eq!(pruned, None);
    assert_eq!(log.mutating_calls(), Vec::<String>::new());
    assert!(oac
        .read(&ctx)
        .await
        .unwrap()
        .is_some_and(|live| !live.marked));

    let etag = cf.get_origin_access_control().id(&id).send().await.unwrap();
    let gone = cf
        .delete_origin_access_control()
        .id(&id)
        .if_match(etag.e_tag().unwrap_or_default());
    gone.send().await.unwrap();
}

/// Lets every call through until the operation `after` has been sent, then fails every later call before it
/// reaches AWS (as if the process died right after AWS took that call).
#[derive(Debug)]
struct CutAfterOperation {
    after: &'static str,
    cut: std::sync::atomic::AtomicBool,
}

impl aws_smithy_runtime_api::client::interceptors::Intercept for CutAfterOperation {
    fn name(&self) -> &'static str {
        "CutAfterOperation"
    }

    fn read_before_transmit(
        &self,
        _context: &aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef<'_>,
        _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        use std::sync::atomic::Ordering;
        if self.cut.load(Ordering::SeqCst) {
            return Err("connection lost (test cut)".into());
        }
        let metadata = cfg.load::<aws_smithy_runtime_api::client::orchestrator::Metadata>();
        if metadata.is_some_and(|m| m.name() == self.after) {
            self.cut.store(true, Ordering::SeqCst);
        }
        Ok(())
    }
}

/// `destroy` cut right after it disabled the distribution, and again right after it deleted it (the OAC
/// still there): each next `destroy` resumes where the last stopped, without disabling twice, and the one
/// after that writes nothing.
#[tokio::test]
async fn an_interrupted_destroy_resumes_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let zip = crate::support::write_test_zip(dir.path());
    let (config, faults) = (https_config(), cloudfront_faults());
    let opts = |interceptors| {
        let mut opts = stack_options(config.clone(), &zip, interceptors, true);
        opts.http_client = Some(SharedHttpClient::new(faults.clone()));
        opts
    };
    let progress = Reporter::quiet();
    let ctx = ctx_with_faults(config.clone(), Mode::Plan, &[], &faults).await;
    let cut_after = |after| {
        let cut = CutAfterOperation {
            after,
            cut: Default::default(),
        };
        opts(vec![
            aws_smithy_runtime_api::client::interceptors::SharedInterceptor::new(cut),
        ])
    };
    let log = CallLog::default();
    let cloudfront_writes = || -> Vec<String> {
        log.mutating_calls()
            .into_iter()
            .filter(|c| c.starts_with("CloudFront."))
            .collect()
    };
    stack::up(&opts(vec![]), &progress).await.unwrap();

    // Cut after the disable: the next destroy finds it disabled and Deployed, deletes it, then the OAC.
    assert!(stack::destroy(&cut_after("UpdateDistribution"), &progress)
        .await
        .is_err());
    let left = Distribution::existing(&ctx)
        .read(&ctx)
        .await
        .unwrap()
        .unwrap();
    let got = ctx
        .aws
        .cloudfront
        .get_distribution()
        .id(&left.info.id)
        .send()
        .await
        .unwrap();
    assert!(
        !got.distribution()
            .unwrap()
            .distribution_config()
            .unwrap()
            .enabled(),
        "disabled, not deleted"
    );
    stack::destroy(&opts(vec![log.interceptor()]), &progress)
        .await
        .unwrap();
    assert_eq!(
        cloudfront_writes(),
        [
            "CloudFront.DeleteDistribution",
            "CloudFront.DeleteOriginAccessControl"
        ]
    );
    assert_nothing_remains(&ctx).await;
    log.clear();
    stack::destroy(&opts(vec![log.interceptor()]), &progress)
        .await
        .unwrap();
    assert_eq!(log.mutating_calls(), Vec::<String>::new());

    // Cut after the distribution's delete: the next destroy deletes only what is left, the OAC among it.
    stack::up(&opts(vec![]), &progress).await.unwrap();
    assert!(stack::destroy(&cut_after("DeleteDistribution"), &progress)
        .await
        .is_err());
    assert!(!distribution_exists(&ctx).await);
    assert!(oac_exists(&ctx).await);
    log.clear();
    let resumed = stack::destroy(&opts(vec![log.interceptor()]), &progress)
        .await
        .unwrap();
    assert_eq!(
        cloudfront_writes(),
        ["CloudFront.DeleteOriginAccessControl"]
    );
    let distribution = resumed
        .changes
        .iter()
        .find(|c| c.kind == "CloudFront distribution")
        .unwrap();
    assert_eq!(distribution.action, Action::AlreadyGone);
    assert_nothing_remains(&ctx).await;
    log.clear();
    stack::destroy(&opts(vec![log.interceptor()]), &progress)
        .await
        .unwrap();
    assert_eq!(log.mutating_calls(), Vec::<String>::new());
}

/// `cost` through the binary, for the shipped configuration with `https: true`: a CloudFront row, and the
/// worst case says CloudFront cannot be throttled without WAF, with the price of a flood.
#[test]
fn cost_prices_cloudfront_and_says_it_cannot_be_throttled() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = std::fs::read_to_string(crate::support::shipped_config()).unwrap();
    let path = dir.path().join("shopsmart.yaml");
    std::fs::write(&path, shipped.replacen("https: false", "https: true", 1)).unwrap();
    let cli = crate::support::cli::Cli::new(&path);
    let text = cli.ok(&["cost", "--requests", "1000000"]);
    for part in [
        "CloudFront (website.https)",
        "2,500,000 HTTPS requests",
        "without AWS WAF",
        "100,000,000 requests of 10 KB in a month would bill about $90.00",
    ] {
        assert!(text.contains(part), "{part}:\n{text}");
    }
    let plain = crate::support::cli::Cli::new(crate::support::shipped_config());
    assert!(!plain.ok(&["cost"]).contains("without AWS WAF"));
}
