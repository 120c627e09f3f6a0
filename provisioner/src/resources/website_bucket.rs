//! The S3 website bucket `{stack}-site-{account}-{region}`: static website hosting, Block Public Access
//! relaxed only for bucket policies (ACLs stay blocked), a policy that allows only s3:GetObject on the
//! objects to everyone, and ACLs disabled (BucketOwnerEnforced). Each setting is read and written only when
//! it differs. Destroy empties every object version and delete marker first (a non-empty bucket cannot be
//! deleted).

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{bail, Context};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::put_bucket_policy::PutBucketPolicyError;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, Delete, ErrorDocument, IndexDocument,
    ObjectIdentifier, ObjectOwnership, OwnershipControls, OwnershipControlsRule,
    PublicAccessBlockConfiguration, Tag, Tagging, WebsiteConfiguration,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use super::ownership::{foreign_error, FIX_CHOOSE_ANOTHER_NAME};
use super::{Ctx, Mode};
use crate::change::{Action, Change, FieldChange};
use crate::names::STACK_TAG_KEY;
use crate::wait;

pub const KIND: &str = "S3 website bucket";
/// DeleteObjects takes at most 1000 keys per call.
const DELETE_BATCH: usize = 1000;
/// How long S3 may keep refusing a public policy after Block Public Access was relaxed (seconds, usually).
const POLICY_AFTER_BPA_DEADLINE: Duration = Duration::from_secs(20);
/// DeleteBucket retries after BucketNotEmpty (an object written while emptying), each after emptying again.
const DELETE_ATTEMPTS: usize = 3;

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

/// Allows only reading objects, to everyone: what a static website needs and nothing more.
fn desired_policy(ctx: &Ctx, bucket: &str) -> serde_json::Value {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "PublicReadWebsiteObjects",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": format!("arn:{}:s3:::{bucket}/*", crate::names::partition(&ctx.region)),
        }]
    })
}

fn is_code(err: &impl ProvideErrorMetadata, code: &str) -> bool {
    err.code() == Some(code)
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
        Err(err) => Err(err).with_context(|| format!("reading S3 bucket ({bucket})")),
    }
}

async fn read_tags(ctx: &Ctx, bucket: &str) -> anyhow::Result<BTreeMap<String, String>> {
    match ctx.aws.s3.get_bucket_tagging().bucket(bucket).send().await {
        Ok(output) => Ok(output
            .tag_set()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect()),
        // S3 models "no tags" only as an error code, not as a typed variant.
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| is_code(e, "NoSuchTagSet")) =>
        {
            Ok(BTreeMap::new())
        }
        Err(err) => Err(err).with_context(|| format!("reading tags of S3 bucket ({bucket})")),
    }
}

fn foreign(ctx: &Ctx, bucket: &str) -> anyhow::Error {
    foreign_error(
        ctx,
        "S3 bucket",
        bucket,
        &format!("Its objects are left untouched too. {FIX_CHOOSE_ANOTHER_NAME}"),
    )
}

fn s3_tags(ctx: &Ctx) -> anyhow::Result<Vec<Tag>> {
    Ok(ctx
        .tags()
        .into_iter()
        .map(|(key, value)| Tag::builder().key(key).value(value).build())
        .collect::<Result<_, _>>()?)
}

pub async fn converge(ctx: &Ctx) -> anyhow::Result<(Change, String)> {
    let bucket = bucket_name(ctx);
    // A bucket that CreateBucket finds already ours-by-account (made since HeadBucket looked) is checked
    // like any existing one below: only its stack tag makes it ours.
    if !exists(ctx, &bucket).await? && (ctx.mode == Mode::Plan || create(ctx, &bucket).await?) {
        if ctx.mode == Mode::Apply {
            // Tag first: a run interrupted after this point finds the bucket again as ours.
            put_tags(ctx, &bucket).await?;
            put_ownership(ctx, &bucket).await?;
            // Relax BPA before the policy: with BlockPublicPolicy on, S3 refuses a public policy (behaviour 4).
            put_public_access_block(ctx, &bucket).await?;
            put_policy(ctx, &bucket).await?;
            put_website(ctx, &bucket).await?;
        }
        return Ok((Change::new(KIND, &bucket, Action::Create), bucket));
    }
    let live_tags = read_tags(ctx, &bucket).await?;
    if live_tags.get(STACK_TAG_KEY) != Some(&ctx.stack_tag_value()) {
        return Err(foreign(ctx, &bucket));
    }
    let apply = ctx.mode == Mode::Apply;
    let mut fields = Vec::new();

    let ownership = read_ownership(ctx, &bucket).await?;
    if ownership.as_deref() != Some(ObjectOwnership::BucketOwnerEnforced.as_str()) {
        fields.push(FieldChange::new(
            "object_ownership",
            ownership.as_deref().unwrap_or("(unset)"),
            "BucketOwnerEnforced",
        ));
        if apply {
            put_ownership(ctx, &bucket).await?;
        }
    }
    let bpa = read_public_access_block(ctx, &bucket).await?;
    for ((field, old), (_, new)) in bpa.fields().into_iter().zip(DESIRED_BPA.fields()) {
        if old != new {
            fields.push(FieldChange::new(
                format!("public_access_block.{field}"),
                old,
                new,
            ));
        }
    }
    if apply && bpa != DESIRED_BPA {
        put_public_access_block(ctx, &bucket).await?;
    }
    let policy = read_policy(ctx, &bucket).await?;
    let wanted_policy = desired_policy(ctx, &bucket);
    if policy.as_ref() != Some(&wanted_policy) {
        let old = policy.map_or_else(|| "(none)".to_owned(), |p| p.to_string());
        fields.push(FieldChange::new("policy", old, wanted_policy.to_string()));
        if apply {
            put_policy(ctx, &bucket).await?;
        }
    }
    let website = read_website(ctx, &bucket).await?;
    let wanted_website = (
        ctx.config.website.index_document.clone(),
        ctx.config.website.error_document.clone(),
    );
    let render = |doc: Option<&String>| doc.cloned().unwrap_or_else(|| "(none)".to_owned());
    if website.as_ref().map(|(i, e)| (i.clone(), e.clone())) != Some(wanted_website.clone()) {
        let (old_index, old_error) = website
            .as_ref()
            .map_or((None, None), |(i, e)| (Some(i), Some(e)));
        if old_index != Some(&wanted_website.0) {
            fields.push(FieldChange::new(
                "website.index_document",
                render(old_index),
                &wanted_website.0,
            ));
        }
        if old_error != Some(&wanted_website.1) {
            fields.push(FieldChange::new(
                "website.error_document",
                render(old_error),
                &wanted_website.1,
            ));
        }
        if apply {
            put_website(ctx, &bucket).await?;
        }
    }
    let wanted_tags = ctx.tags();
    if live_tags != wanted_tags {
        let keys: std::collections::BTreeSet<&String> =
            live_tags.keys().chain(wanted_tags.keys()).collect();
        for key in keys
            .into_iter()
            .filter(|key| live_tags.get(*key) != wanted_tags.get(*key))
        {
            fields.push(FieldChange::new(
                format!("tags.{key}"),
                live_tags.get(key).map_or("(unset)", String::as_str),
                wanted_tags.get(key).map_or("(unset)", String::as_str),
            ));
        }
        if apply {
            put_tags(ctx, &bucket).await?;
        }
    }
    let action = if fields.is_empty() {
        Action::Unchanged
    } else {
        Action::Update { fields }
    };
    Ok((Change::new(KIND, &bucket, action), bucket))
}

/// Creates the bucket; `false` when S3 says this account already owns a bucket of that name.
async fn create(ctx: &Ctx, bucket: &str) -> anyhow::Result<bool> {
    let request = |tags: Option<Vec<Tag>>| {
        // us-east-1 must have no LocationConstraint; every other region must name itself (behaviour 5). A
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
    let result = match request(Some(s3_tags(ctx)?)).await {
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| is_code(e, "AccessDenied")) =>
        {
            tracing::debug!("CreateBucket with tags was denied; creating {bucket} without them");
            request(None).await
        }
        result => result,
    };
    match result {
        Ok(_) => Ok(true),
        // Outside us-east-1 S3 says so; in us-east-1 it answers 200 for a bucket the account owns.
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_bucket_already_owned_by_you()) =>
        {
            Ok(false)
        }
        Err(err) if err.as_service_error().is_some_and(|e| e.is_bucket_already_exists()) => bail!(
            "creating S3 bucket ({bucket}): the name is taken by another AWS account (bucket names are global); \
             choose another project or stage"
        ),
        Err(err) => Err(err).with_context(|| format!("creating S3 bucket ({bucket}) in {}", ctx.region)),
    }
}

async fn read_ownership(ctx: &Ctx, bucket: &str) -> anyhow::Result<Option<String>> {
    match ctx
        .aws
        .s3
        .get_bucket_ownership_controls()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(output) => Ok(output
            .ownership_controls()
            .and_then(|controls| controls.rules().first())
            .map(|rule| rule.object_ownership().as_str().to_owned())),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| is_code(e, "OwnershipControlsNotFoundError")) =>
        {
            Ok(None)
        }
        Err(err) => {
            Err(err).with_context(|| format!("reading ownership controls of S3 bucket ({bucket})"))
        }
    }
}

async fn put_ownership(ctx: &Ctx, bucket: &str) -> anyhow::Result<()> {
    let rule = OwnershipControlsRule::builder()
        .object_ownership(ObjectOwnership::BucketOwnerEnforced)
        .build()?;
    ctx.aws
        .s3
        .put_bucket_ownership_controls()
        .bucket(bucket)
        .ownership_controls(OwnershipControls::builder().rules(rule).build()?)
        .send()
        .await
        .with_context(|| format!("disabling ACLs (BucketOwnerEnforced) on S3 bucket ({bucket})"))?;
    Ok(())
}

async fn read_public_access_block(ctx: &Ctx, bucket: &str) -> anyhow::Result<PublicAccessBlock> {
    match ctx
        .aws
        .s3
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(output) => {
            let config = output.public_access_block_configuration();
            let flag = |value: Option<bool>| value.unwrap_or(false);
            Ok(PublicAccessBlock {
                block_public_acls: flag(config.and_then(|c| c.block_public_acls())),
                ignore_public_acls: flag(config.and_then(|c| c.ignore_public_acls())),
                block_public_policy: flag(config.and_then(|c| c.block_public_policy())),
                restrict_public_buckets: flag(config.and_then(|c| c.restrict_public_buckets())),
            })
        }
        // No bucket-level configuration: nothing blocked at bucket level.
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| is_code(e, "NoSuchPublicAccessBlockConfiguration")) =>
        {
            Ok(NOTHING_BLOCKED)
        }
        Err(err) => {
            Err(err).with_context(|| format!("reading Block Public Access of S3 bucket ({bucket})"))
        }
    }
}

async fn put_public_access_block(ctx: &Ctx, bucket: &str) -> anyhow::Result<()> {
    ctx.aws
        .s3
        .put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(DESIRED_BPA.to_sdk())
        .send()
        .await
        .with_context(|| {
            format!("relaxing Block Public Access (policies only) on S3 bucket ({bucket})")
        })?;
    Ok(())
}

async fn read_policy(ctx: &Ctx, bucket: &str) -> anyhow::Result<Option<serde_json::Value>> {
    match ctx.aws.s3.get_bucket_policy().bucket(bucket).send().await {
        Ok(output) => {
            let text = output.policy().unwrap_or_default();
            // An unparsable policy is simply different from ours: report it as a string and rewrite it.
            Ok(Some(serde_json::from_str(text).unwrap_or_else(|_| {
                serde_json::Value::String(text.to_owned())
            })))
        }
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| is_code(e, "NoSuchBucketPolicy")) =>
        {
            Ok(None)
        }
        Err(err) => Err(err).with_context(|| format!("reading the policy of S3 bucket ({bucket})")),
    }
}

async fn put_policy(ctx: &Ctx, bucket: &str) -> anyhow::Result<()> {
    let policy = desired_policy(ctx, bucket).to_string();
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
            ctx.aws
                .s3
                .put_bucket_policy()
                .bucket(bucket)
                .policy(&policy)
                .send()
        },
        is_access_denied,
    )
    .await;
    match result {
        Ok(_) => Ok(()),
        Err(err) if is_access_denied(&err) => Err(err).with_context(|| {
            format!(
                "putting the public-read policy on S3 bucket ({bucket}): access denied for {} s. If the message \
                 mentions BlockPublicPolicy, Block Public Access is on for the whole account (S3 console → Block \
                 Public Access settings for this account); allow public bucket policies there, or host elsewhere",
                POLICY_AFTER_BPA_DEADLINE.as_secs()
            )
        }),
        Err(err) => Err(err).with_context(|| format!("putting the public-read policy on S3 bucket ({bucket})")),
    }
}

async fn read_website(ctx: &Ctx, bucket: &str) -> anyhow::Result<Option<(String, String)>> {
    match ctx.aws.s3.get_bucket_website().bucket(bucket).send().await {
        Ok(output) => Ok(Some((
            output
                .index_document()
                .map(|d| d.suffix().to_owned())
                .unwrap_or_default(),
            output
                .error_document()
                .map(|d| d.key().to_owned())
                .unwrap_or_default(),
        ))),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| is_code(e, "NoSuchWebsiteConfiguration")) =>
        {
            Ok(None)
        }
        Err(err) => Err(err)
            .with_context(|| format!("reading the website configuration of S3 bucket ({bucket})")),
    }
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
    ctx.aws
        .s3
        .put_bucket_website()
        .bucket(bucket)
        .website_configuration(website)
        .send()
        .await
        .with_context(|| format!("configuring website hosting on S3 bucket ({bucket})"))?;
    Ok(())
}

/// A separate call: moto drops tags sent with CreateBucket, and real S3 only accepts them with extra rights.
async fn put_tags(ctx: &Ctx, bucket: &str) -> anyhow::Result<()> {
    let tags = s3_tags(ctx)?;
    ctx.aws
        .s3
        .put_bucket_tagging()
        .bucket(bucket)
        .tagging(Tagging::builder().set_tag_set(Some(tags)).build()?)
        .send()
        .await
        .with_context(|| format!("tagging S3 bucket ({bucket})"))?;
    Ok(())
}

pub async fn destroy(ctx: &Ctx) -> anyhow::Result<Change> {
    let bucket = bucket_name(ctx);
    if !exists(ctx, &bucket).await? {
        return Ok(Change::new(KIND, bucket, Action::AlreadyGone));
    }
    let tags = read_tags(ctx, &bucket).await?;
    if tags.get(STACK_TAG_KEY) != Some(&ctx.stack_tag_value()) {
        return Err(foreign(ctx, &bucket));
    }
    if ctx.mode == Mode::Plan {
        return Ok(Change::new(KIND, bucket, Action::Delete));
    }
    for attempt in 1..=DELETE_ATTEMPTS {
        empty(ctx, &bucket).await?;
        match ctx.aws.s3.delete_bucket().bucket(&bucket).send().await {
            Ok(_) => return Ok(Change::new(KIND, bucket, Action::Delete)),
            // Something wrote an object after we emptied it (behaviour 8): empty again and retry.
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
                return Ok(Change::new(KIND, bucket, Action::AlreadyGone));
            }
            Err(err) => return Err(err).with_context(|| format!("deleting S3 bucket ({bucket})")),
        }
    }
    unreachable!("the last attempt returns")
}

/// Deletes every object version and delete marker, in batches of at most 1000.
async fn empty(ctx: &Ctx, bucket: &str) -> anyhow::Result<usize> {
    let mut deleted = 0;
    loop {
        // Always list from the start: the previous page's keys are gone, so no markers are needed.
        let page = ctx
            .aws
            .s3
            .list_object_versions()
            .bucket(bucket)
            .max_keys(DELETE_BATCH as i32)
            .send()
            .await
            .with_context(|| format!("listing object versions of S3 bucket ({bucket})"))?;
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
    let output = ctx
        .aws
        .s3
        .delete_objects()
        .bucket(bucket)
        .delete(
            Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()?,
        )
        .send()
        .await
        .with_context(|| format!("deleting {count} objects from S3 bucket ({bucket})"))?;
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
