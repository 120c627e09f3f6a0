//! `website.https`: the CloudFront origin access control and distribution against moto, and the private
//! bucket. moto 5.2 drops each origin's OriginAccessControlId from its GetDistributionConfig answer (real AWS
//! returns the config as it was last written, OAC id included), so these tests answer GetDistributionConfig
//! through the fault layer with the config last sent (AWS's documented shape). Its ListDistributions drops
//! each summary's Comment (how a stack finds its distribution), so ListDistributions is answered with the
//! distributions this test created and has not deleted, comment included. Everything else is moto's.

use shopsmart_deploy::change::Action;
use shopsmart_deploy::config::model::Config;
use shopsmart_deploy::names::STACK_TAG_KEY;
use std::sync::{Arc, Mutex};

use shopsmart_deploy::resources::cdn::{
    comment, CdnInfo, Desired, Distribution, OriginAccessControl,
};
use shopsmart_deploy::resources::website_bucket::{bucket_name, Bucket};
use shopsmart_deploy::resources::{converge, destroy, Ctx, Mode, Resource};

use crate::support::faults::{ctx_with_faults, Canned, Faults, SeenRequest};
use crate::support::{test_config, unique_stage, CallLog};

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

/// GetDistributionConfig answered as AWS does: the config last written, with an ETag.
fn serve_written_configs(faults: &Faults) {
    let is_get_config =
        |r: &SeenRequest, _: &[SeenRequest]| r.method == "GET" && r.path.ends_with("/config");
    faults.inject_with(usize::MAX, is_get_config, |_, history| {
        let written = history.iter().rev().find_map(sent_config).expect("a config was written");
        Canned {
            status: 200,
            headers: vec![
                ("content-type".into(), "text/xml".into()),
                ("etag".into(), format!("E{}", history.len())),
            ],
            body: format!("<?xml version=\"1.0\"?><DistributionConfig xmlns=\"{XMLNS}\">{written}</DistributionConfig>"),
        }
    });
}

/// The distributions a test created (moto's own listing lacks their comments).
type Created = Arc<Mutex<Vec<CdnInfo>>>;

/// ListDistributions answered as AWS does: every distribution not deleted since, with its comment.
fn serve_listing(faults: &Faults, created: &Created, comment: String) {
    let created = created.clone();
    let is_list = |r: &SeenRequest, _: &[SeenRequest]| r.is("GET", "/2020-05-31/distribution");
    faults.inject_with(usize::MAX, is_list, move |_, history| {
        let deleted = |id: &str| history.iter().any(|r| r.is("DELETE", &format!("/2020-05-31/distribution/{id}")));
        let items: String = created.lock().unwrap().iter().filter(|d| !deleted(&d.id)).map(|d| format!(
            "<DistributionSummary><Id>{}</Id><ARN>{}</ARN><Status>Deployed</Status><DomainName>{}</DomainName>\
             <Comment>{comment}</Comment><Enabled>true</Enabled></DistributionSummary>", d.id, d.arn, d.domain
        )).collect();
        Canned {
            status: 200,
            headers: vec![("content-type".into(), "text/xml".into())],
            body: format!("<?xml version=\"1.0\"?><DistributionList xmlns=\"{XMLNS}\"><Marker></Marker><MaxItems>100</MaxItems>\
                 <IsTruncated>false</IsTruncated><Items>{items}</Items></DistributionList>"),
        }
    });
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

async fn https_ctx(config: Config, log: &CallLog) -> (Ctx, Created) {
    let faults = Faults::new();
    let created = Created::default();
    serve_written_configs(&faults);
    serve_listing(
        &faults,
        &created,
        format!("{} website (shopsmart-deploy)", config.names().stack_id()),
    );
    let ctx = ctx_with_faults(config, Mode::Apply, &[log.interceptor()], &faults).await;
    assert_eq!(
        comment(&ctx),
        format!("{} website (shopsmart-deploy)", ctx.names.stack_id())
    );
    (ctx, created)
}

/// Converges the OAC, then the distribution; their changes and the distribution's id and ARN.
async fn converge_cdn(ctx: &Ctx, created: &Created) -> (Action, Action, String, String) {
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
    if converged.change.action == Action::Create {
        created.lock().unwrap().push(info.clone());
    }
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
    let (ctx, created) = https_ctx(https_config(), &log).await;
    let (oac, dist, id, arn) = converge_cdn(&ctx, &created).await;
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
    let (oac, dist, _, _) = converge_cdn(&ctx, &created).await;
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
    let (_, dist, _, _) = converge_cdn(&ctx, &created).await;
    let Action::Update { fields } = dist else {
        panic!("expected an update, got {dist:?}")
    };
    assert_eq!(
        fields.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(),
        ["default_root_object"]
    );
    assert_eq!(log.mutating_calls(), ["CloudFront.UpdateDistribution"]);
    let (_, dist, _, _) = converge_cdn(&ctx, &created).await;
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
    assert!(Distribution::existing(&ctx)
        .read(&ctx)
        .await
        .unwrap()
        .is_none());
    assert!(OriginAccessControl::new(&ctx)
        .read(&ctx)
        .await
        .unwrap()
        .is_none());
    let again = destroy(&ctx, &Distribution::existing(&ctx)).await.unwrap();
    assert_eq!(again.action, Action::AlreadyGone);
    covered(&log);
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
    let (ctx, _faults) = https_ctx(config.clone(), &log).await;
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
    let (public, _f) = https_ctx(
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
