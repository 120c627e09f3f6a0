//! The S3 website bucket `{stack}-site-{account}-{region}`: static website hosting, Block Public Access
//! relaxed only for bucket policies (ACLs stay blocked), a policy that allows only s3:GetObject on the
//! objects to everyone, and ACLs disabled (BucketOwnerEnforced). Each setting is read and written only when
//! it differs. Destroy empties every object version and delete marker first (a non-empty bucket cannot be
//! deleted).

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use anyhow::bail;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::create_bucket::CreateBucketError;
use aws_sdk_s3::operation::get_bucket_tagging::GetBucketTaggingError;
use aws_sdk_s3::operation::put_bucket_policy::PutBucketPolicyError;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, Delete, ErrorDocument, IndexDocument,
    ObjectIdentifier, ObjectOwnership, OwnershipControls, OwnershipControlsRule,
    PublicAccessBlockConfiguration, Tag, Tagging, WebsiteConfiguration,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use super::ownership::{found_code, service_error};
use super::{differing_fields, Changes, Ctx, Resource, Tags};
use crate::aws_error::AwsContext;
use crate::change::{Action, Change, FieldChange};
use crate::wait;

pub const KIND: &str = "S3 website bucket";
/// DeleteObjects takes at most 1000 keys per call.
const DELETE_BATCH: usize = 1000;
/// How long S3 may keep refusing a public policy after Block Public Access was relaxed (seconds, usually).
const POLICY_AFTER_BPA_DEADLINE: Duration = Duration::from_secs(20);
/// DeleteBucket retries after BucketNotEmpty (an object written while emptying), each after emptying again.
const DELETE_ATTEMPTS: usize = 3;
/// How long CreateBucket is retried while S3 still releases the name of a bucket deleted moments ago
/// (409 OperationAborted, "A conflicting conditional operation is currently in progress").
pub const NAME_RELEASE_DEADLINE: Duration = Duration::from_secs(120);
/// How long a NoSuchBucket on a bucket this run created or found is asked again before it counts ([`on_bucket`]).
pub const VISIBLE_DEADLINE: Duration = Duration::from_secs(20);

/// The four Block Public Access flags, in the order S3 lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PublicAccessBlock {
    block_public_acls: bool,
    ignore_public_acls: bool,
    block_public_policy: bool,
    restrict_public_buckets: bool,
}

/// A public website needs a public bucket policy; ACLs stay blocked (they are disabled anyway).
const DESIRED_BPA: PublicAccessBlock = PublicAccessBlock {
    block_public_acls: true,
    ignore_public_acls: true,
    block_public_policy: false,
    restrict_public_buckets: false,
};

/// With `website.https` only CloudFront reads the bucket: everything public is blocked.
const ALL_BLOCKED: PublicAccessBlock = PublicAccessBlock {
    block_public_acls: true,
    ignore_public_acls: true,
    block_public_policy: true,
    restrict_public_buckets: true,
};

fn desired_bpa(ctx: &Ctx) -> PublicAccessBlock {
    if ctx.config.website.https {
        ALL_BLOCKED
    } else {
        DESIRED_BPA
    }
}

/// A bucket without its own Block Public Access configuration.
const NOTHING_BLOCKED: PublicAccessBlock = PublicAccessBlock {
    block_public_acls: false,
    ignore_public_acls: false,
    block_public_policy: false,
    restrict_public_buckets: false,
};

impl PublicAccessBlock {
    fn fields(self) -> [(&'static str, bool); 4] {
        [
            ("block_public_acls", self.block_public_acls),
            ("ignore_public_acls", self.ignore_public_acls),
            ("block_public_policy", self.block_public_policy),
            ("restrict_public_buckets", self.restrict_public_buckets),
        ]
    }

    fn to_sdk(self) -> PublicAccessBlockConfiguration {
        PublicAccessBlockConfiguration::builder()
            .block_public_acls(self.block_public_acls)
            .ignore_public_acls(self.ignore_public_acls)
            .block_public_policy(self.block_public_policy)
            .restrict_public_buckets(self.restrict_public_buckets)
            .build()
    }
}

pub fn bucket_name(ctx: &Ctx) -> String {
    ctx.names.website_bucket(&ctx.account_id, &ctx.region)
}

/// With `website.https` the bucket carries this tag too: a CloudFront distribution of this stack may exist.
/// `up` with `https` off looks for a distribution to remove only when the bucket carries it (or its policy
/// still names a distribution), and takes it off once the distribution and its OAC are gone: a no-op `up`
/// without `https` makes no CloudFront call, and an interrupted switch-off is finished by the next `up`.
pub const CLOUDFRONT_TAG: &str = "shopsmart:cloudfront";
/// With `alerts` the bucket carries this tag too, put before the budget is made: a budget of this stack may
/// exist. With `alerts` off, `up` and `destroy` look for a budget to remove only when the bucket carries it,
/// and `up` takes it off once the budget is gone: with `alerts` off from the start no Budgets call is made.
pub const BUDGET_TAG: &str = "shopsmart:budget";
/// The value of a marker tag.
const MARKER_VALUE: &str = "on";

/// The marker tags this configuration wants on the bucket: [`CLOUDFRONT_TAG`] with `website.https`,
/// [`BUDGET_TAG`] with `alerts`.
fn markers(ctx: &Ctx) -> Vec<&'static str> {
    let https = ctx.config.website.https.then_some(CLOUDFRONT_TAG);
    let alerts = ctx.config.alerts.is_some().then_some(BUDGET_TAG);
    https.into_iter().chain(alerts).collect()
}

/// The tags the bucket is made with: the stack's, plus its [`markers`].
fn bucket_tags(ctx: &Ctx) -> BTreeMap<String, String> {
    let mut tags = ctx.tags();
    for marker in markers(ctx) {
        tags.insert(marker.into(), MARKER_VALUE.into());
    }
    tags
}

/// Allows only reading objects, to everyone: what a static website needs and nothing more. With
/// `website.https`, only to CloudFront on behalf of this stack's distribution (`distribution`: its ARN).
fn desired_policy(ctx: &Ctx, bucket: &str, distribution: Option<&str>) -> serde_json::Value {
    let objects = format!(
        "arn:{}:s3:::{bucket}/*",
        crate::names::partition(&ctx.region)
    );
    if ctx.config.website.https {
        return serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "CloudFrontReadsWebsiteObjects",
                "Effect": "Allow",
                "Principal": { "Service": "cloudfront.amazonaws.com" },
                "Action": "s3:GetObject",
                "Resource": objects,
                "Condition": { "StringEquals": {
                    "AWS:SourceArn": distribution.unwrap_or("(the distribution, once created)")
                } },
            }]
        });
    }
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "PublicReadWebsiteObjects",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": objects,
        }]
    })
}

fn is_code(err: &impl ProvideErrorMetadata, code: &str) -> bool {
    err.code() == Some(code)
}

/// Sends `call`, one S3 request on `bucket`. S3 may answer NoSuchBucket to any call on a bucket for a few
/// seconds after CreateBucket: on a bucket this run created or read as existing ([`Ctx::buckets`]) that
/// answer is asked again, with backoff, for up to [`VISIBLE_DEADLINE`] before it counts. On a bucket this run
/// never saw it counts at once. Every call on the website bucket but the HeadBucket that finds it goes
/// through here.
pub async fn on_bucket<T, E, F, Fut>(
    ctx: &Ctx,
    bucket: &str,
    call: F,
) -> Result<T, SdkError<E, HttpResponse>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata,
{
    let not_visible_yet = |err: &SdkError<E, HttpResponse>| {
        let missing = err
            .as_service_error()
            .is_some_and(|e| is_code(e, "NoSuchBucket"));
        let made_or_found = missing && ctx.buckets.has_seen(bucket);
        if made_or_found && ctx.buckets.first_wait(bucket) {
            ctx.notes.say(format!(
                "  S3 does not show the bucket {bucket} to every call yet (NoSuchBucket, moments after it was \
                 made); asking again for up to {} s",
                VISIBLE_DEADLINE.as_secs()
            ));
        }
        made_or_found
    };
    let what = format!("S3 bucket ({bucket}) to answer every call");
    wait::retry_while(&what, VISIBLE_DEADLINE, call, not_visible_yet).await
}

/// Whether reading the tags failed with NoSuchBucket.
fn tags_missing_bucket(err: &anyhow::Error) -> bool {
    let answer = service_error::<GetBucketTaggingError>(err);
    answer.and_then(|e| e.code()) == Some("NoSuchBucket")
}

/// Whether the bucket exists in this account. A 403 means the globally unique name is taken by someone else.
async fn exists(ctx: &Ctx, bucket: &str) -> anyhow::Result<bool> {
    match ctx.aws.s3.head_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(true),
        Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(false),
        Err(err) if err.raw_response().is_some_and(|r| r.status().as_u16() == 403) => bail!(
            "reading S3 bucket ({bucket}): S3 answered 403 Forbidden. Either the name is taken by another AWS \
             account (bucket names are global: choose another project or stage), or your credentials may not \
             read this bucket (they need s3:ListBucket)"
        ),
        Err(err) => Err(err).aws_context(|| format!("reading S3 bucket ({bucket})")),
    }
}

async fn read_tags(ctx: &Ctx, bucket: &str) -> anyhow::Result<Tags> {
    // S3 models "no tags" only as an error code, not as a typed variant.
    let tagging = || ctx.aws.s3.get_bucket_tagging().bucket(bucket).send();
    let output = found_code(on_bucket(ctx, bucket, tagging).await, "NoSuchTagSet")
        .aws_context(|| format!("reading tags of S3 bucket ({bucket})"))?;
    Ok(output
        .map(|output| {
            output
                .tag_set()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect()
        })
        .unwrap_or_default())
}

fn s3_tags(tags: impl IntoIterator<Item = (String, String)>) -> anyhow::Result<Vec<Tag>> {
    Ok(tags
        .into_iter()
        .map(|(key, value)| Tag::builder().key(key).value(value).build())
        .collect::<Result<_, _>>()?)
}

/// The website bucket. `website` is the index and error document `up` wants; `None` for `destroy`, which
/// reads only what the ownership check needs.
pub struct Bucket {
    pub name: String,
    pub website: Option<(String, String)>,
    /// How long to wait for S3 to release the name ([`NAME_RELEASE_DEADLINE`]).
    pub name_release: Duration,
    /// With `website.https`: the ARN of the distribution the policy lets read (`None` before it exists).
    pub distribution_arn: Option<String>,
}

impl Bucket {
    pub fn new(ctx: &Ctx) -> Self {
        Self {
            name: bucket_name(ctx),
            website: Some((
                ctx.config.website.index_document.clone(),
                ctx.config.website.error_document.clone(),
            )),
            name_release: NAME_RELEASE_DEADLINE,
            distribution_arn: None,
        }
    }

    /// With `website.https`: the bucket that only the distribution `arn` reads.
    pub fn behind(self, arn: Option<String>) -> Self {
        Self {
            distribution_arn: arn,
            ..self
        }
    }

    pub fn to_delete(ctx: &Ctx) -> Self {
        Self {
            website: None,
            ..Self::new(ctx)
        }
    }
}

/// The bucket's settings as `read` finds them (only its tags for `destroy`).
#[derive(Debug, Clone, PartialEq)]
pub struct LiveBucket {
    pub tags: Tags,
    ownership: Option<String>,
    public_access_block: PublicAccessBlock,
    policy: Option<serde_json::Value>,
    website: Option<(String, String)>,
}

impl LiveBucket {
    /// Whether a distribution of this stack may exist: the bucket carries [`CLOUDFRONT_TAG`], or its policy
    /// names a CloudFront distribution (`AWS:SourceArn`).
    pub fn may_have_distribution(&self) -> bool {
        let policy = self.policy.as_ref().map(ToString::to_string);
        self.tags.contains_key(CLOUDFRONT_TAG)
            || policy.is_some_and(|p| p.contains("AWS:SourceArn") && p.contains(":distribution/"))
    }

    /// Whether a budget alert of this stack may exist: the bucket carries [`BUDGET_TAG`].
    pub fn may_have_budget(&self) -> bool {
        self.tags.contains_key(BUDGET_TAG)
    }

    /// A bucket known only by its tags (settings unread).
    fn tagged(tags: Tags) -> Self {
        Self {
            tags,
            ownership: None,
            public_access_block: NOTHING_BLOCKED,
            policy: None,
            website: None,
        }
    }
}

impl Resource for Bucket {
    type Live = LiveBucket;
    identity!(KIND, name, Tags);

    async fn read(&self, ctx: &Ctx) -> anyhow::Result<Option<LiveBucket>> {
        let bucket = &self.name;
        // Both at once; the tags' answer counts only for a bucket HeadBucket found (and explained).
        let (exists, tags) = tokio::join!(exists(ctx, bucket), read_tags(ctx, bucket));
        if !exists? {
            return Ok(None);
        }
        ctx.buckets.saw(bucket);
        // Asked before HeadBucket's answer made the bucket one this run found: asked again as such.
        let tags = match tags {
            Err(err) if tags_missing_bucket(&err) => read_tags(ctx, bucket).await,
            tags => tags,
        };
        let mut live = LiveBucket::tagged(tags?);
        // Settings are read only for what `up` compares, and only on a bucket that is ours.
        if self.website.is_some() && ctx.is_ours(&live.tags) {
            (
                live.ownership,
                live.public_access_block,
                live.policy,
                live.website,
            ) = tokio::try_join!(
                read_ownership(ctx, bucket),
                read_public_access_block(ctx, bucket),
                read_policy(ctx, bucket),
                read_website(ctx, bucket)
            )?;
        }
        Ok(Some(live))
    }

    fn diff(&self, ctx: &Ctx, live: &LiveBucket) -> Vec<FieldChange> {
        let Some((index, error)) = &self.website else {
            return Vec::new();
        };
        let none = || "(none)".to_owned();
        let mut fields = differing_fields([(
            "object_ownership",
            live.ownership.as_deref().unwrap_or("(unset)"),
            ObjectOwnership::BucketOwnerEnforced.as_str(),
        )]);
        for ((field, old), (_, new)) in live
            .public_access_block
            .fields()
            .into_iter()
            .zip(desired_bpa(ctx).fields())
            .filter(|((_, old), (_, new))| old != new)
        {
            fields.push(FieldChange::new(
                format!("public_access_block.{field}"),
                old,
                new,
            ));
        }
        let wanted_policy = desired_policy(ctx, &self.name, self.distribution_arn.as_deref());
        if live.policy.as_ref() != Some(&wanted_policy) {
            let old = live.policy.as_ref().map_or_else(none, |p| p.to_string());
            fields.push(FieldChange::new("policy", old, wanted_policy.to_string()));
        }
        let missing = markers(ctx)
            .into_iter()
            .filter(|m| !live.tags.contains_key(*m));
        fields.extend(missing.map(marker_change));
        if ctx.config.website.https {
            // Only CloudFront reads the bucket: a website configuration left from before is harmless.
            return fields;
        }
        let (old_index, old_error) = live
            .website
            .clone()
            .map_or((none(), none()), |(i, e)| (i, e));
        fields.extend(differing_fields([
            ("website.index_document", old_index, index.clone()),
            ("website.error_document", old_error, error.clone()),
        ]));
        fields
    }

    /// A bucket of that name that this account already owns (made since HeadBucket looked, or by an
    /// earlier attempt of this very request) is adopted only if it carries our stack tag.
    async fn create(&self, ctx: &Ctx) -> anyhow::Result<()> {
        let created = create(ctx, &self.name, self.name_release).await?;
        ctx.buckets.saw(&self.name);
        if created == Created::AlreadyOwned {
            let live = LiveBucket::tagged(read_tags(ctx, &self.name).await?);
            if !ctx.is_ours(&live.tags) {
                return Err(super::ownership::foreign_error(
                    ctx,
                    KIND,
                    &self.name,
                    &self.foreign_fix(ctx, &live),
                ));
            }
        }
        Ok(())
    }

    /// Tags first: a run interrupted after this finds the bucket again as ours. Block Public Access is relaxed
    /// before the policy: with BlockPublicPolicy on, S3 refuses a public policy.
    async fn configure(&self, ctx: &Ctx) -> anyhow::Result<()> {
        let bucket = &self.name;
        put_tags(ctx, bucket, bucket_tags(ctx)).await?;
        put_ownership(ctx, bucket).await?;
        if ctx.config.website.https {
            put_policy(ctx, bucket, self.distribution_arn.as_deref()).await?;
            return put_public_access_block(ctx, bucket).await;
        }
        put_public_access_block(ctx, bucket).await?;
        put_policy(ctx, bucket, None).await?;
        put_website(ctx, bucket).await
    }

    async fn update(&self, ctx: &Ctx, live: &LiveBucket, changes: &Changes) -> anyhow::Result<()> {
        let bucket = &self.name;
        if changes.has("object_ownership") {
            put_ownership(ctx, bucket).await?;
        }
        let arn = self.distribution_arn.as_deref();
        // Going private: the CloudFront-only policy first, then block everything public; going public: the
        // other way round (S3 refuses a public policy while BlockPublicPolicy is on).
        let https = ctx.config.website.https;
        if https && changes.has("policy") {
            put_policy(ctx, bucket, arn).await?;
        }
        if changes.has("public_access_block") {
            put_public_access_block(ctx, bucket).await?;
        }
        if !https && changes.has("policy") {
            put_policy(ctx, bucket, arn).await?;
        }
        if changes.has("website") {
            put_website(ctx, bucket).await?;
        }
        // A marker tag (`tags.` fields are only markers: the driver adds the stack's own tags).
        if changes.has("tags") {
            let mut all: BTreeMap<String, String> = live.tags.clone().into_iter().collect();
            all.extend(bucket_tags(ctx));
            put_tags(ctx, bucket, all).await?;
        }
        Ok(())
    }

    async fn add_tags(
        &self,
        ctx: &Ctx,
        live: &LiveBucket,
        tags: &BTreeMap<String, String>,
    ) -> anyhow::Result<()> {
        let mut all: BTreeMap<String, String> = live.tags.clone().into_iter().collect();
        all.extend(tags.clone());
        // `update` may have added a marker in this very run, after `live` was read.
        all.extend(bucket_tags(ctx));
        put_tags(ctx, &self.name, all).await
    }

    async fn delete(&self, ctx: &Ctx, _live: &LiveBucket) -> anyhow::Result<bool> {
        delete_bucket(ctx, &self.name).await
    }

    fn foreign_fix(&self, _ctx: &Ctx, _live: &Self::Live) -> String {
        format!(
            "Its objects are left untouched too. {}",
            super::ownership::FIX_CHOOSE_ANOTHER_NAME
        )
    }
}

fn marker_change(marker: &str) -> FieldChange {
    FieldChange::new(format!("tags.{marker}"), "(unset)", MARKER_VALUE)
}

/// Takes [`CLOUDFRONT_TAG`] off the bucket (once the distribution and its OAC are gone); the bucket's
/// change, or `None` when it has no such tag (or no longer exists).
pub async fn untag_cloudfront(ctx: &Ctx, bucket: &str) -> anyhow::Result<Option<Change>> {
    untag(ctx, bucket, CLOUDFRONT_TAG).await
}

/// Takes the marker tag `marker` off the bucket (once what it marks is gone); the bucket's change, or
/// `None` when it has no such tag.
pub async fn untag(ctx: &Ctx, bucket: &str, marker: &str) -> anyhow::Result<Option<Change>> {
    let mut tags = read_tags(ctx, bucket).await?;
    let Some(old) = tags.remove(marker) else {
        return Ok(None);
    };
    put_tags(ctx, bucket, tags).await?;
    let field = FieldChange::new(format!("tags.{marker}"), old, "(unset)");
    let action = Action::Update {
        fields: vec![field],
    };
    Ok(Some(Change::new(KIND, bucket, action)))
}

#[derive(Debug, PartialEq, Eq)]
enum Created {
    New,
    /// S3 says this account already owns a bucket of that name.
    AlreadyOwned,
}

/// Creates the bucket.
async fn create(ctx: &Ctx, bucket: &str, name_release: Duration) -> anyhow::Result<Created> {
    let request = |tags: Option<Vec<Tag>>| {
        // us-east-1 must have no LocationConstraint; every other region must name itself. A
        // configuration with tags only is valid in us-east-1 (no LocationConstraint means us-east-1).
        let location = (ctx.region != "us-east-1")
            .then(|| BucketLocationConstraint::from(ctx.region.as_str()));
        let configuration = (location.is_some() || tags.is_some()).then(|| {
            CreateBucketConfiguration::builder()
                .set_location_constraint(location)
                .set_tags(tags)
                .build()
        });
        ctx.aws
            .s3
            .create_bucket()
            .bucket(bucket)
            .object_ownership(ObjectOwnership::BucketOwnerEnforced)
            .set_create_bucket_configuration(configuration)
            .send()
    };
    // Tags at creation close the window in which an interrupted `up` could leave an untagged bucket that the
    // next run must refuse as foreign (moto drops them, hence PutBucketTagging too). S3 needs s3:TagResource
    // for them: without it CreateBucket is AccessDenied, so create without tags (PutBucketTagging follows).
    let tags = s3_tags(bucket_tags(ctx))?;
    let attempt = || async {
        match request(Some(tags.clone())).await {
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| is_code(e, "AccessDenied")) =>
            {
                tracing::debug!(
                    "CreateBucket with tags was denied; creating {bucket} without them"
                );
                request(None).await
            }
            result => result,
        }
    };
    let told = std::sync::atomic::AtomicBool::new(false);
    let name_in_release = |err: &SdkError<CreateBucketError, HttpResponse>| {
        let aborted = err
            .as_service_error()
            .is_some_and(|e| is_code(e, "OperationAborted"));
        if aborted && !told.swap(true, std::sync::atomic::Ordering::Relaxed) {
            ctx.notes.say(format!(
                "  S3 is still releasing the name {bucket} after a recent delete (OperationAborted); \
                 retrying for up to {} s",
                name_release.as_secs()
            ));
        }
        aborted
    };
    let what = format!("S3 to release the bucket name {bucket}");
    match wait::retry_while(&what, name_release, attempt, name_in_release).await {
        Ok(_) => Ok(Created::New),
        // Outside us-east-1 S3 says so; in us-east-1 it answers 200 for a bucket the account owns.
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_bucket_already_owned_by_you()) =>
        {
            Ok(Created::AlreadyOwned)
        }
        Err(err) if err.as_service_error().is_some_and(|e| e.is_bucket_already_exists()) => bail!(
            "creating S3 bucket ({bucket}): the name is taken by another AWS account (bucket names are global); \
             choose another project or stage"
        ),
        Err(err) if name_in_release(&err) => Err(err).aws_context(|| {
            format!(
                "creating S3 bucket ({bucket}): S3 was still releasing this name after {} s (a bucket of that \
                 name was deleted moments ago, e.g. by `destroy`). Wait a few minutes, then run \
                 `shopsmart-deploy up` again",
                name_release.as_secs()
            )
        }),
        Err(err) => Err(err).aws_context(|| format!("creating S3 bucket ({bucket}) in {}", ctx.region)),
    }
}

async fn read_ownership(ctx: &Ctx, bucket: &str) -> anyhow::Result<Option<String>> {
    let controls = || {
        let request = ctx.aws.s3.get_bucket_ownership_controls();
        request.bucket(bucket).send()
    };
    let output = found_code(
        on_bucket(ctx, bucket, controls).await,
        "OwnershipControlsNotFoundError",
    )
    .aws_context(|| format!("reading ownership controls of S3 bucket ({bucket})"))?;
    Ok(output.and_then(|output| {
        output
            .ownership_controls()
            .and_then(|controls| controls.rules().first())
            .map(|rule| rule.object_ownership().as_str().to_owned())
    }))
}

async fn put_ownership(ctx: &Ctx, bucket: &str) -> anyhow::Result<()> {
    let rule = OwnershipControlsRule::builder()
        .object_ownership(ObjectOwnership::BucketOwnerEnforced)
        .build()?;
    let controls = OwnershipControls::builder().rules(rule).build()?;
    on_bucket(ctx, bucket, || {
        let request = ctx.aws.s3.put_bucket_ownership_controls().bucket(bucket);
        request.ownership_controls(controls.clone()).send()
    })
    .await
    .aws_context(|| format!("disabling ACLs (BucketOwnerEnforced) on S3 bucket ({bucket})"))?;
    Ok(())
}

async fn read_public_access_block(ctx: &Ctx, bucket: &str) -> anyhow::Result<PublicAccessBlock> {
    let block = || ctx.aws.s3.get_public_access_block().bucket(bucket).send();
    let output = found_code(
        on_bucket(ctx, bucket, block).await,
        "NoSuchPublicAccessBlockConfiguration",
    )
    .aws_context(|| format!("reading Block Public Access of S3 bucket ({bucket})"))?;
    // No bucket-level configuration: nothing blocked at bucket level.
    let Some(output) = output else {
        return Ok(NOTHING_BLOCKED);
    };
    let config = output.public_access_block_configuration();
    let flag = |value: Option<bool>| value.unwrap_or(false);
    Ok(PublicAccessBlock {
        block_public_acls: flag(config.and_then(|c| c.block_public_acls())),
        ignore_public_acls: flag(config.and_then(|c| c.ignore_public_acls())),
        block_public_policy: flag(config.and_then(|c| c.block_public_policy())),
        restrict_public_buckets: flag(config.and_then(|c| c.restrict_public_buckets())),
    })
}

async fn put_public_access_block(ctx: &Ctx, bucket: &str) -> anyhow::Result<()> {
    on_bucket(ctx, bucket, || {
        let request = ctx.aws.s3.put_public_access_block().bucket(bucket);
        request
            .public_access_block_configuration(desired_bpa(ctx).to_sdk())
            .send()
    })
    .await
    .aws_context(|| format!("setting Block Public Access on S3 bucket ({bucket})"))?;
    Ok(())
}

async fn read_policy(ctx: &Ctx, bucket: &str) -> anyhow::Result<Option<serde_json::Value>> {
    let policy = || ctx.aws.s3.get_bucket_policy().bucket(bucket).send();
    let output = found_code(on_bucket(ctx, bucket, policy).await, "NoSuchBucketPolicy")
        .aws_context(|| format!("reading the policy of S3 bucket ({bucket})"))?;
    Ok(output.map(|output| {
        let text = output.policy().unwrap_or_default();
        // An unparsable policy is simply different from ours: report it as a string and rewrite it.
        serde_json::from_str(text).unwrap_or_else(|_| serde_json::Value::String(text.to_owned()))
    }))
}

async fn put_policy(ctx: &Ctx, bucket: &str, distribution: Option<&str>) -> anyhow::Result<()> {
    let policy = desired_policy(ctx, bucket, distribution).to_string();
    let is_access_denied = |err: &SdkError<PutBucketPolicyError, HttpResponse>| {
        err.as_service_error()
            .is_some_and(|e| is_code(e, "AccessDenied"))
    };
    // Right after PutPublicAccessBlock relaxed BlockPublicPolicy, S3 may still refuse a public policy for a
    // few seconds (eventual consistency): retry under a deadline before explaining the account-level setting.
    let result = wait::retry_while(
        &format!("S3 bucket ({bucket}) to accept a public policy"),
        POLICY_AFTER_BPA_DEADLINE,
        || {
            on_bucket(ctx, bucket, || {
                let request = ctx.aws.s3.put_bucket_policy().bucket(bucket);
                request.policy(&policy).send()
            })
        },
        is_access_denied,
    )
    .await;
    match result {
        Ok(_) => Ok(()),
        Err(err) if is_access_denied(&err) && !ctx.config.website.https => Err(err).aws_context(|| {
            format!(
                "putting the public-read policy on S3 bucket ({bucket}): access denied for {} s. If the message \
                 mentions BlockPublicPolicy, Block Public Access is on for the whole account (S3 console → Block \
                 Public Access settings for this account); allow public bucket policies there, or set \
                 `website.https: true` (CloudFront in front of a bucket that stays private works with it)",
                POLICY_AFTER_BPA_DEADLINE.as_secs()
            )
        }),
        Err(err) => Err(err).aws_context(|| format!("putting the {} policy on S3 bucket ({bucket})", policy_kind(ctx))),
    }
}

fn policy_kind(ctx: &Ctx) -> &'static str {
    match ctx.config.website.https {
        true => "CloudFront-only",
        false => "public-read",
    }
}

async fn read_website(ctx: &Ctx, bucket: &str) -> anyhow::Result<Option<(String, String)>> {
    let website = || ctx.aws.s3.get_bucket_website().bucket(bucket).send();
    let output = found_code(
        on_bucket(ctx, bucket, website).await,
        "NoSuchWebsiteConfiguration",
    )
    .aws_context(|| format!("reading the website configuration of S3 bucket ({bucket})"))?;
    Ok(output.map(|output| {
        (
            output
                .index_document()
                .map(|d| d.suffix().to_owned())
                .unwrap_or_default(),
            output
                .error_document()
                .map(|d| d.key().to_owned())
                .unwrap_or_default(),
        )
    }))
}

async fn put_website(ctx: &Ctx, bucket: &str) -> anyhow::Result<()> {
    let website = WebsiteConfiguration::builder()
        .index_document(
            IndexDocument::builder()
                .suffix(&ctx.config.website.index_document)
                .build()?,
        )
        .error_document(
            ErrorDocument::builder()
                .key(&ctx.config.website.error_document)
                .build()?,
        )
        .build();
    on_bucket(ctx, bucket, || {
        let request = ctx.aws.s3.put_bucket_website().bucket(bucket);
        request.website_configuration(website.clone()).send()
    })
    .await
    .aws_context(|| format!("configuring website hosting on S3 bucket ({bucket})"))?;
    Ok(())
}

/// A separate call: moto drops tags sent with CreateBucket, and real S3 only accepts them with extra rights.
/// PutBucketTagging replaces the whole set, so `tags` is every tag the bucket keeps.
async fn put_tags(
    ctx: &Ctx,
    bucket: &str,
    tags: impl IntoIterator<Item = (String, String)>,
) -> anyhow::Result<()> {
    let tagging = Tagging::builder()
        .set_tag_set(Some(s3_tags(tags)?))
        .build()?;
    on_bucket(ctx, bucket, || {
        let request = ctx.aws.s3.put_bucket_tagging().bucket(bucket);
        request.tagging(tagging.clone()).send()
    })
    .await
    .aws_context(|| format!("tagging S3 bucket ({bucket})"))?;
    Ok(())
}

/// Empties the bucket (every version and delete marker), then deletes it; `false` when it was already gone.
async fn delete_bucket(ctx: &Ctx, bucket: &str) -> anyhow::Result<bool> {
    for attempt in 1..=DELETE_ATTEMPTS {
        empty(ctx, bucket).await?;
        let delete = || ctx.aws.s3.delete_bucket().bucket(bucket).send();
        match on_bucket(ctx, bucket, delete).await {
            Ok(_) => return Ok(true),
            // Something wrote an object after we emptied it: empty again and retry.
            Err(err)
                if attempt < DELETE_ATTEMPTS
                    && err
                        .as_service_error()
                        .is_some_and(|e| is_code(e, "BucketNotEmpty")) =>
            {
                tracing::debug!("S3 bucket {bucket} was not empty yet; emptying again");
            }
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| is_code(e, "NoSuchBucket")) =>
            {
                return Ok(false);
            }
            Err(err) => return Err(err).aws_context(|| format!("deleting S3 bucket ({bucket})")),
        }
    }
    unreachable!("the last attempt returns")
}

/// Deletes every object version and delete marker, in batches of at most 1000.
async fn empty(ctx: &Ctx, bucket: &str) -> anyhow::Result<usize> {
    let mut deleted = 0;
    loop {
        // Always list from the start: the previous page's keys are gone, so no markers are needed.
        let page = on_bucket(ctx, bucket, || {
            let request = ctx.aws.s3.list_object_versions().bucket(bucket);
            request.max_keys(DELETE_BATCH as i32).send()
        })
        .await
        .aws_context(|| format!("listing object versions of S3 bucket ({bucket})"))?;
        let versions = page.versions().iter().map(|v| (v.key(), v.version_id()));
        let markers = page
            .delete_markers()
            .iter()
            .map(|m| (m.key(), m.version_id()));
        let identifiers = versions
            .chain(markers)
            .filter_map(|(key, version)| key.map(|key| (key, version)))
            .map(|(key, version)| {
                ObjectIdentifier::builder()
                    .key(key)
                    .set_version_id(version.map(str::to_owned))
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()?;
        if identifiers.is_empty() {
            return Ok(deleted);
        }
        for batch in identifiers.chunks(DELETE_BATCH) {
            delete_objects(ctx, bucket, batch.to_vec()).await?;
            deleted += batch.len();
        }
        // The whole listing fitted in one page and is gone: nothing to list again (an object written
        // meanwhile makes DeleteBucket answer BucketNotEmpty, and the bucket is emptied again).
        if page.is_truncated() != Some(true) {
            return Ok(deleted);
        }
    }
}

/// Deletes up to 1000 objects in one DeleteObjects call; a per-key failure (reported in a 200 answer) is an
/// error too, naming how many failed and the first.
pub(super) async fn delete_objects(
    ctx: &Ctx,
    bucket: &str,
    objects: Vec<ObjectIdentifier>,
) -> anyhow::Result<()> {
    let count = objects.len();
    let delete = Delete::builder()
        .set_objects(Some(objects))
        .quiet(true)
        .build()?;
    let output = on_bucket(ctx, bucket, || {
        let request = ctx.aws.s3.delete_objects().bucket(bucket);
        request.delete(delete.clone()).send()
    })
    .await
    .aws_context(|| format!("deleting {count} objects from S3 bucket ({bucket})"))?;
    if let Some(error) = output.errors().first() {
        bail!(
            "deleting objects from S3 bucket ({bucket}): {} failed, first {}: {}",
            output.errors().len(),
            error.key().unwrap_or_default(),
            error.message().unwrap_or_default()
        );
    }
    Ok(())
}
