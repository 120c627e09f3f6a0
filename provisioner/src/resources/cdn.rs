//! `website.https: true`: a CloudFront distribution in front of the private website bucket (origin `site`,
//! through the Origin Access Control `{stack}-site-oac`, SigV4, always signing) and the HTTP API under
//! `/api/*` (origin `api`, caching disabled, every viewer header but Host forwarded). A distribution has no
//! name: ours is the one whose comment is [`comment`], and it carries the stack tag. OACs cannot carry tags:
//! ours is named `{stack}-site-oac` and its description holds the marker `shopsmart:stack={stack}`
//! ([`oac_marker`]); one of that name without the marker is never adopted, changed or deleted.
//!
//! Every distribution write needs the ETag of the config it replaces (`IfMatch`). On AWS a distribution takes
//! minutes to deploy: `up` does not wait (the address answers once it is Deployed); `destroy` must disable it,
//! wait for Deployed, then delete it, and it reads the state each time, so an interrupted destroy resumes.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::Context;
use aws_sdk_cloudfront::types::{
    DistributionConfig, OriginAccessControlConfig, OriginAccessControlOriginTypes,
    OriginAccessControlSigningBehaviors, OriginAccessControlSigningProtocols, Tag, Tags as CfTags,
};

pub use super::cdn_config::Desired;
use super::cdn_config::{self, merged, shape};
use super::ownership::{found, service_error};
use super::{differing_fields, Changes, Ctx, Resource, Tags};
use crate::aws_error::AwsContext;
use crate::change::FieldChange;
use crate::wait;

/// How long `destroy` waits for a disabled distribution to be Deployed (usually a few minutes).
pub const DEPLOYED_DEADLINE: Duration = Duration::from_secs(45 * 60);
/// How long a write is retried while someone else keeps changing the distribution (stale ETag).
const STALE_ETAG_DEADLINE: Duration = Duration::from_secs(60);
/// How long deleting the OAC is retried while AWS still counts the just-deleted distribution as its user.
const OAC_IN_USE_DEADLINE: Duration = Duration::from_secs(120);

/// The comment that identifies this stack's distribution.
pub fn comment(ctx: &Ctx) -> String {
    stack_comment(&ctx.names.stack_id())
}

/// The comment of the stack `stack_id`'s distribution.
pub fn stack_comment(stack_id: &str) -> String {
    format!("{stack_id} website (shopsmart-deploy)")
}

pub fn oac_name(ctx: &Ctx) -> String {
    format!("{}-site-oac", ctx.names.stack_id())
}

/// What our OAC's description says in place of the stack tag it cannot carry: `shopsmart:stack={stack}`.
pub fn oac_marker(ctx: &Ctx) -> String {
    format!("{}={}", crate::names::STACK_TAG_KEY, ctx.stack_tag_value())
}

/// Whether an OAC's description carries our marker (a word of its own: `…=shop-dev` is not `…=shop-dev2`).
fn has_marker(marker: &str, description: &str) -> bool {
    description.split_whitespace().any(|word| word == marker)
}

/// The Origin Access Control the distribution signs its bucket requests with.
#[derive(Default)]
pub struct OriginAccessControl {
    pub name: String,
    /// The id AWS gave it, when `create` made it.
    pub created: OnceLock<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveOac {
    pub id: String,
    settings: [String; 3],
    /// Its description carries our marker ([`oac_marker`]).
    pub marked: bool,
}

fn oac_settings() -> [String; 3] {
    ["always", "sigv4", "s3"].map(str::to_owned)
}

impl OriginAccessControl {
    pub fn new(ctx: &Ctx) -> Self {
        Self {
            name: oac_name(ctx),
            created: OnceLock::new(),
        }
    }

    fn config(&self, ctx: &Ctx) -> anyhow::Result<OriginAccessControlConfig> {
        Ok(OriginAccessControlConfig::builder()
            .name(&self.name)
            .description(oac_marker(ctx))
            .signing_behavior(OriginAccessControlSigningBehaviors::Always)
            .signing_protocol(OriginAccessControlSigningProtocols::Sigv4)
            .origin_access_control_origin_type(OriginAccessControlOriginTypes::S3)
            .build()?)
    }

    async fn etag(&self, ctx: &Ctx, id: &str) -> anyhow::Result<Option<String>> {
        let got = found(
            ctx.aws
                .cloudfront
                .get_origin_access_control()
                .id(id)
                .send()
                .await,
            |e| e.is_no_such_origin_access_control(),
        )
        .aws_context(|| format!("reading CloudFront origin access control ({})", self.name))?;
        Ok(got.map(|out| out.e_tag().unwrap_or_default().to_owned()))
    }
}

impl Resource for OriginAccessControl {
    type Live = LiveOac;
    identity!("CloudFront origin access control", name, Marker);

    async fn read(&self, ctx: &Ctx) -> anyhow::Result<Option<LiveOac>> {
        let mut marker = None;
        loop {
            let page = ctx
                .aws
                .cloudfront
                .list_origin_access_controls()
                .set_marker(marker)
                .send()
                .await
                .aws_context(|| "listing CloudFront origin access controls")?;
            let Some(list) = page.origin_access_control_list() else {
                return Ok(None);
            };
            if let Some(oac) = list.items().iter().find(|o| o.name() == self.name) {
                return Ok(Some(LiveOac {
                    id: oac.id().to_owned(),
                    settings: [
                        oac.signing_behavior().as_str().to_owned(),
                        oac.signing_protocol().as_str().to_owned(),
                        oac.origin_access_control_origin_type().as_str().to_owned(),
                    ],
                    marked: has_marker(&oac_marker(ctx), oac.description()),
                }));
            }
            marker = list
                .next_marker()
                .filter(|m| !m.is_empty())
                .map(str::to_owned);
            if !list.is_truncated() || marker.is_none() {
                return Ok(None);
            }
        }
    }

    fn foreign_fix(&self, ctx: &Ctx, live: &LiveOac) -> String {
        format!(
            "Origin access controls cannot carry tags: this stack's says `{}` in its description, and {} ({}) \
             does not. If it is an old one of this stack, add that text to its description (CloudFront console \
             → Security → Origin access → Edit) and run again; otherwise delete it there, or choose another \
             project or stage in shopsmart.yaml",
            oac_marker(ctx),
            self.name,
            live.id
        )
    }

    fn diff(&self, _ctx: &Ctx, live: &LiveOac) -> Vec<FieldChange> {
        let names = ["signing_behavior", "signing_protocol", "origin_type"];
        differing_fields(
            names
                .into_iter()
                .zip(live.settings.clone())
                .zip(oac_settings())
                .map(|((n, o), w)| (n, o, w)),
        )
    }

    /// A create that AWS carried out but whose answer was lost is sent again by the SDK and answered
    /// `OriginAccessControlAlreadyExists`: ours is the one of our name that carries our marker.
    async fn create(&self, ctx: &Ctx) -> anyhow::Result<()> {
        let sent = ctx
            .aws
            .cloudfront
            .create_origin_access_control()
            .origin_access_control_config(self.config(ctx)?)
            .send()
            .await;
        let what = || format!("creating CloudFront origin access control ({})", self.name);
        let id = match sent {
            Ok(out) => out
                .origin_access_control()
                .map(|o| o.id().to_owned())
                .unwrap_or_default(),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_origin_access_control_already_exists()) =>
            {
                match self.read(ctx).await? {
                    Some(live) if live.marked => live.id,
                    _ => return Err(err).aws_context(what),
                }
            }
            Err(err) => return Err(err).aws_context(what),
        };
        let _ = self.created.set(id);
        Ok(())
    }

    async fn update(&self, ctx: &Ctx, live: &LiveOac, _changes: &Changes) -> anyhow::Result<()> {
        let etag = self.etag(ctx, &live.id).await?.unwrap_or_default();
        ctx.aws
            .cloudfront
            .update_origin_access_control()
            .id(&live.id)
            .if_match(etag)
            .origin_access_control_config(self.config(ctx)?)
            .send()
            .await
            .aws_context(|| format!("updating CloudFront origin access control ({})", self.name))?;
        Ok(())
    }

    /// AWS may count a distribution deleted moments ago as a user for a little while: retried, bounded.
    async fn delete(&self, ctx: &Ctx, live: &LiveOac) -> anyhow::Result<bool> {
        let what = format!(
            "CloudFront origin access control ({}) to be free",
            self.name
        );
        let delete = || async {
            let Some(etag) = self.etag(ctx, &live.id).await? else {
                return Ok(false);
            };
            let result = ctx
                .aws
                .cloudfront
                .delete_origin_access_control()
                .id(&live.id)
                .if_match(etag)
                .send()
                .await;
            super::ownership::deleted(result, |e| e.is_no_such_origin_access_control()).aws_context(
                || format!("deleting CloudFront origin access control ({})", self.name),
            )
        };
        wait::retry_while(&what, OAC_IN_USE_DEADLINE, delete, |err: &anyhow::Error| {
            service_error::<aws_sdk_cloudfront::operation::delete_origin_access_control::DeleteOriginAccessControlError>(err)
                .is_some_and(|e| e.is_origin_access_control_in_use())
        })
        .await
    }
}

/// The distribution; `desired` is `None` for `destroy` and `outputs`, which only find it.
pub struct Distribution {
    pub comment: String,
    pub desired: Option<Desired>,
    pub created: OnceLock<CdnInfo>,
}

/// The id, ARN and address of the distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdnInfo {
    pub id: String,
    pub arn: String,
    pub domain: String,
}

impl CdnInfo {
    pub fn url(&self) -> String {
        format!("https://{}", self.domain)
    }
}

#[derive(Debug, Clone)]
pub struct LiveDistribution {
    pub info: CdnInfo,
    pub tags: Tags,
    pub status: String,
    config: Option<DistributionConfig>,
}

impl Distribution {
    pub fn new(ctx: &Ctx, desired: Desired) -> Self {
        Self {
            desired: Some(desired),
            ..Self::existing(ctx)
        }
    }

    pub fn existing(ctx: &Ctx) -> Self {
        Self {
            comment: comment(ctx),
            desired: None,
            created: OnceLock::new(),
        }
    }

    pub fn info(&self, live: Option<&LiveDistribution>) -> Option<CdnInfo> {
        live.map(|l| l.info.clone())
            .or_else(|| self.created.get().cloned())
    }

    /// What to write: the desired config, laid over `live` when there is one ([`cdn_config::merged`]: what
    /// this tool does not manage stays as AWS has it).
    fn config_to_write(
        &self,
        ctx: &Ctx,
        live: Option<&DistributionConfig>,
    ) -> anyhow::Result<DistributionConfig> {
        let desired = self
            .desired
            .as_ref()
            .context("internal error: no desired distribution")?;
        let bucket_domain = format!(
            "{}.s3.{}.amazonaws.com",
            super::website_bucket::bucket_name(ctx),
            ctx.region
        );
        let reference = match live {
            Some(live) => live.caller_reference().to_owned(),
            None => format!("{}-{}", ctx.names.stack_id(), uuid::Uuid::new_v4()),
        };
        let wanted = cdn_config::desired_config(
            &ctx.config,
            &bucket_domain,
            desired,
            &reference,
            &self.comment,
        )?;
        Ok(match live {
            Some(live) => merged(live, wanted),
            None => wanted,
        })
    }
}

impl Resource for Distribution {
    type Live = LiveDistribution;
    identity!("CloudFront distribution", comment, Tags);

    async fn read(&self, ctx: &Ctx) -> anyhow::Result<Option<LiveDistribution>> {
        let Some(info) = find(ctx, &self.comment).await? else {
            return Ok(None);
        };
        let cf = &ctx.aws.cloudfront;
        let (tags, got) = tokio::join!(
            cf.list_tags_for_resource().resource(&info.0.arn).send(),
            cf.get_distribution_config().id(&info.0.id).send()
        );
        let what = || format!("reading CloudFront distribution ({})", info.0.id);
        let got = found(got, |e| e.is_no_such_distribution()).aws_context(what)?;
        let Some(got) = got else { return Ok(None) };
        let tags = tags
            .aws_context(|| format!("reading tags of CloudFront distribution ({})", info.0.id))?;
        let tags = tags.tags().map(|t| t.items()).unwrap_or_default();
        Ok(Some(LiveDistribution {
            info: info.0,
            status: info.1,
            tags: tags
                .iter()
                .map(|t| (t.key().to_owned(), t.value().unwrap_or_default().to_owned()))
                .collect(),
            config: got.distribution_config().cloned(),
        }))
    }

    /// What an update would change, compared the way AWS answers (see [`cdn_config`]).
    fn diff(&self, ctx: &Ctx, live: &LiveDistribution) -> Vec<FieldChange> {
        let Some(config) = &live.config else {
            return Vec::new();
        };
        let Ok(wanted) = self.config_to_write(ctx, Some(config)) else {
            return Vec::new();
        };
        differing_fields(
            shape(config)
                .into_iter()
                .zip(shape(&wanted))
                .map(|((f, old), (_, new))| (f, old, new)),
        )
    }

    /// A create that AWS carried out but whose answer was lost is sent again by the SDK with the same
    /// CallerReference, and AWS answers `DistributionAlreadyExists`: ours is then the one with our comment.
    async fn create(&self, ctx: &Ctx) -> anyhow::Result<()> {
        let tags: Vec<Tag> = ctx
            .tags()
            .into_iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect::<Result<_, _>>()?;
        let with_tags = aws_sdk_cloudfront::types::DistributionConfigWithTags::builder()
            .distribution_config(self.config_to_write(ctx, None)?)
            .tags(CfTags::builder().set_items(Some(tags)).build())
            .build();
        let sent = ctx
            .aws
            .cloudfront
            .create_distribution_with_tags()
            .distribution_config_with_tags(with_tags)
            .send()
            .await;
        let what = || format!("creating CloudFront distribution ({})", self.comment);
        let info = match sent {
            Ok(out) => out.distribution().map(|d| CdnInfo {
                id: d.id().to_owned(),
                arn: d.arn().to_owned(),
                domain: d.domain_name().to_owned(),
            }),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_distribution_already_exists()) =>
            {
                match find(ctx, &self.comment).await? {
                    Some((info, _)) => Some(info),
                    None => return Err(err).aws_context(what),
                }
            }
            Err(err) => return Err(err).aws_context(what),
        };
        if let Some(info) = info {
            let _ = self.created.set(info);
        }
        Ok(())
    }

    async fn update(
        &self,
        ctx: &Ctx,
        live: &LiveDistribution,
        _changes: &Changes,
    ) -> anyhow::Result<()> {
        let id = &live.info.id;
        let what = format!("CloudFront distribution ({id}) to take our update");
        let write = || async {
            let (current, etag) = config_and_etag(ctx, id).await?;
            let wanted = self.config_to_write(ctx, Some(&current))?;
            put_config(ctx, id, wanted, &etag).await
        };
        wait::retry_while(&what, STALE_ETAG_DEADLINE, write, changed_meanwhile).await
    }

    async fn add_tags(
        &self,
        ctx: &Ctx,
        live: &LiveDistribution,
        tags: &BTreeMap<String, String>,
    ) -> anyhow::Result<()> {
        let items = tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect::<Result<Vec<_>, _>>()?;
        ctx.aws
            .cloudfront
            .tag_resource()
            .resource(&live.info.arn)
            .tags(CfTags::builder().set_items(Some(items)).build())
            .send()
            .await
            .aws_context(|| format!("tagging CloudFront distribution ({})", live.info.id))?;
        Ok(())
    }

    /// Disable, wait until Deployed, delete with the latest ETag. Each step reads the state first, so a
    /// destroy cut anywhere resumes where it stopped.
    async fn delete(&self, ctx: &Ctx, live: &LiveDistribution) -> anyhow::Result<bool> {
        let what = format!("CloudFront distribution ({}) to be deleted", live.info.id);
        let delete = || disable_and_delete(ctx, &live.info.id);
        wait::retry_while(&what, DEPLOYED_DEADLINE, delete, changed_meanwhile).await
    }
}

/// A write refused because the distribution changed since we read it (stale ETag: `PreconditionFailed`) or
/// is enabled again (`DistributionNotDisabled`): read again and retry.
fn changed_meanwhile(err: &anyhow::Error) -> bool {
    use aws_sdk_cloudfront::operation::delete_distribution::DeleteDistributionError as Delete;
    use aws_sdk_cloudfront::operation::update_distribution::UpdateDistributionError as Update;
    service_error::<Update>(err).is_some_and(|e| e.is_precondition_failed())
        || service_error::<Delete>(err).is_some_and(|e| {
            (e.is_precondition_failed() && !on_pricing_plan(e)) || e.is_distribution_not_disabled()
        })
}

/// AWS refuses to delete a distribution subscribed to a CloudFront flat-rate pricing plan with
/// `PreconditionFailed` ("You can't delete this distribution while it's subscribed to a pricing plan"): not
/// a stale ETag, and nothing helps until the plan is cancelled and its billing cycle has ended.
fn on_pricing_plan(
    e: &aws_sdk_cloudfront::operation::delete_distribution::DeleteDistributionError,
) -> bool {
    use aws_sdk_cloudfront::error::ProvideErrorMetadata;
    e.is_precondition_failed()
        && e.message()
            .is_some_and(|m| m.to_ascii_lowercase().contains("pricing plan"))
}

/// What a learner does about a distribution on a flat-rate plan (see [`on_pricing_plan`]).
const ON_PRICING_PLAN: &str = "it is subscribed to a CloudFront flat-rate pricing plan, and AWS deletes no \
     distribution until its plan is cancelled and the billing cycle has ended. Cancel the plan (CloudFront \
     console → the distribution → Pricing plan → Cancel, or `aws pricingplanmanager cancel-subscription`), \
     then run destroy again after the cycle ends; destroy deleted nothing else of the stack";

async fn disable_and_delete(ctx: &Ctx, id: &str) -> anyhow::Result<bool> {
    let (mut config, etag) = config_and_etag(ctx, id).await?;
    if config.enabled() {
        config.enabled = false;
        put_config(ctx, id, config, &etag).await?;
    }
    let etag = wait_deployed(ctx, id).await?;
    let result = ctx
        .aws
        .cloudfront
        .delete_distribution()
        .id(id)
        .if_match(etag)
        .send()
        .await;
    let plan = matches!(&result, Err(err) if err.as_service_error().is_some_and(on_pricing_plan));
    super::ownership::deleted(result, |e| e.is_no_such_distribution()).aws_context(|| match plan {
        true => format!("deleting CloudFront distribution ({id}): {ON_PRICING_PLAN}"),
        false => format!("deleting CloudFront distribution ({id})"),
    })
}

/// The distribution whose comment is `comment`, with its status (ListDistributions, every page).
async fn find(ctx: &Ctx, comment: &str) -> anyhow::Result<Option<(CdnInfo, String)>> {
    let mut marker = None;
    loop {
        let page = ctx
            .aws
            .cloudfront
            .list_distributions()
            .set_marker(marker)
            .send()
            .await
            .aws_context(|| "listing CloudFront distributions")?;
        let Some(list) = page.distribution_list() else {
            return Ok(None);
        };
        if let Some(d) = list.items().iter().find(|d| d.comment() == comment) {
            let info = CdnInfo {
                id: d.id().to_owned(),
                arn: d.arn().to_owned(),
                domain: d.domain_name().to_owned(),
            };
            return Ok(Some((info, d.status().to_owned())));
        }
        marker = list
            .next_marker()
            .filter(|m| !m.is_empty())
            .map(str::to_owned);
        if !list.is_truncated() || marker.is_none() {
            return Ok(None);
        }
    }
}

async fn config_and_etag(ctx: &Ctx, id: &str) -> anyhow::Result<(DistributionConfig, String)> {
    let out = ctx
        .aws
        .cloudfront
        .get_distribution_config()
        .id(id)
        .send()
        .await
        .aws_context(|| format!("reading CloudFront distribution ({id})"))?;
    let config = out
        .distribution_config()
        .cloned()
        .context("GetDistributionConfig returned no config")?;
    Ok((config, out.e_tag().unwrap_or_default().to_owned()))
}

async fn put_config(
    ctx: &Ctx,
    id: &str,
    config: DistributionConfig,
    etag: &str,
) -> anyhow::Result<()> {
    ctx.aws
        .cloudfront
        .update_distribution()
        .id(id)
        .if_match(etag)
        .distribution_config(config)
        .send()
        .await
        .aws_context(|| format!("updating CloudFront distribution ({id})"))?;
    Ok(())
}

/// Waits until the distribution is Deployed (minutes on AWS), saying every 30 s how long it has waited;
/// its ETag then.
async fn wait_deployed(ctx: &Ctx, id: &str) -> anyhow::Result<String> {
    let started = Instant::now();
    let said = std::cell::Cell::new(Duration::ZERO);
    let what = format!("CloudFront distribution ({id}) to be Deployed");
    wait::until(&what, DEPLOYED_DEADLINE, || async {
        let out = ctx.aws.cloudfront.get_distribution().id(id).send().await
            .aws_context(|| format!("reading CloudFront distribution ({id})"))?;
        let status = out.distribution().map(|d| d.status().to_owned()).unwrap_or_default();
        if status == "Deployed" {
            return Ok(Some(out.e_tag().unwrap_or_default().to_owned()));
        }
        let waited = started.elapsed();
        if waited >= said.get() + Duration::from_secs(30) || said.get().is_zero() {
            said.set(waited.max(Duration::from_millis(1)));
            ctx.notes.say(format!(
                "CloudFront distribution {id} is {status} (waited {} s; disabling and deleting takes minutes)",
                waited.as_secs()
            ));
        }
        Ok(None)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::has_marker;

    #[test]
    fn only_our_exact_marker_makes_an_oac_ours() {
        let ours = "shopsmart:stack=shop-dev";
        assert!(has_marker(ours, "shopsmart:stack=shop-dev"));
        assert!(has_marker(
            ours,
            "made by shopsmart-deploy shopsmart:stack=shop-dev"
        ));
        assert!(!has_marker(ours, "shopsmart:stack=shop-dev2"));
        assert!(!has_marker(ours, "shopsmart:stack=shop"));
        assert!(!has_marker(ours, ""));
    }
}
