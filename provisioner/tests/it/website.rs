//! The website bucket and its files against moto: exact bucket settings (website, policy, Block Public Access,
//! ownership, tags), objects with their Content-Type / Cache-Control, config.js holding the API URL, only
//! changed files uploaded, removed files deleted, destroy of a versioned non-empty bucket, a foreign bucket
//! left alone; and by fault injection S3's refusals that moto does not make.

use std::path::Path;

use crate::support::resources::{website_bucket, website_upload};
use shopsmart_deploy::change::{Action, FieldChange};
use shopsmart_deploy::names::STACK_TAG_KEY;
use shopsmart_deploy::resources::Mode;

use crate::support::faults::{ctx_with_faults, Canned, Faults};
use crate::support::{ctx, test_config, unique_stage, CallLog};

fn write(dir: &Path, key: &str, content: &str) {
    let path = dir.join(key);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

fn frontend() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "index.html",
        "<!doctype html><script type=module src=app.js></script>",
    );
    write(
        dir.path(),
        "app.js",
        "import { API_URL } from './config.js';",
    );
    write(dir.path(), "styles/site.css", "body { margin: 0 }");
    write(
        dir.path(),
        "images/mug.svg",
        "<svg xmlns='http://www.w3.org/2000/svg'/>",
    );
    write(
        dir.path(),
        "config.js",
        "export const API_URL = 'http://127.0.0.1:3000';",
    ); // replaced on upload
    dir
}

async fn body(ctx: &shopsmart_deploy::resources::Ctx, bucket: &str, key: &str) -> String {
    let object = ctx
        .aws
        .s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    String::from_utf8(object.body.collect().await.unwrap().into_bytes().to_vec()).unwrap()
}

#[tokio::test]
async fn bucket_and_files_converge_and_destroy() {
    let config = test_config(&unique_stage(), "us-east-1");
    let log = CallLog::default();
    let apply = ctx(config.clone(), Mode::Apply, &[log.interceptor()]).await;
    let plan = ctx(config.clone(), Mode::Plan, &[log.interceptor()]).await;
    let site = frontend();
    let api_url = "https://abc123.execute-api.us-east-1.amazonaws.com";

    let (change, bucket) = website_bucket::converge(&plan).await.unwrap();
    assert_eq!(change.action, Action::Create);
    let change = website_upload::converge(&plan, site.path(), None)
        .await
        .unwrap();
    assert!(matches!(change.action, Action::Update { .. }), "{change:?}");
    assert_eq!(log.mutating_calls(), Vec::<String>::new());

    let (change, created) = website_bucket::converge(&apply).await.unwrap();
    assert_eq!((change.action, &created), (Action::Create, &bucket));
    assert_eq!(
        bucket,
        format!("shopsmart-{}-site-123456789012-us-east-1", config.stage)
    );
    // Block Public Access is relaxed before the public policy is put.
    let calls = log.calls();
    let position = |op: &str| {
        calls
            .iter()
            .position(|c| c == op)
            .unwrap_or_else(|| panic!("{op} in {calls:?}"))
    };
    assert!(position("S3.PutPublicAccessBlock") < position("S3.PutBucketPolicy"));

    // Exact bucket configuration.
    let s3 = &apply.aws.s3;
    let website = s3
        .get_bucket_website()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(website.index_document().unwrap().suffix(), "index.html");
    assert_eq!(website.error_document().unwrap().key(), "index.html");
    let policy: serde_json::Value = serde_json::from_str(
        s3.get_bucket_policy()
            .bucket(&bucket)
            .send()
            .await
            .unwrap()
            .policy()
            .unwrap(),
    )
    .unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1);
    assert_eq!(statements[0]["Effect"], "Allow");
    assert_eq!(statements[0]["Principal"], "*");
    assert_eq!(statements[0]["Action"], "s3:GetObject");
    assert_eq!(
        statements[0]["Resource"],
        format!("arn:aws:s3:::{bucket}/*")
    );
    let bpa = s3
        .get_public_access_block()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let bpa = bpa.public_access_block_configuration().unwrap();
    assert_eq!(
        (
            bpa.block_public_acls(),
            bpa.ignore_public_acls(),
            bpa.block_public_policy(),
            bpa.restrict_public_buckets()
        ),
        (Some(true), Some(true), Some(false), Some(false))
    );
    let ownership = s3
        .get_bucket_ownership_controls()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ownership.ownership_controls().unwrap().rules()[0]
            .object_ownership()
            .as_str(),
        "BucketOwnerEnforced"
    );
    let tags = s3
        .get_bucket_tagging()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    assert!(tags
        .tag_set()
        .iter()
        .any(|t| t.key() == "shopsmart:stack" && t.value() == config.names().stack_id()));

    // Files: every one with its type and caching; config.js generated with the API URL.
    log.clear();
    let change = website_upload::converge(&apply, site.path(), Some(api_url))
        .await
        .unwrap();
    assert!(
        matches!(&change.action, Action::Update { fields } if fields[0] == FieldChange::new("uploaded", "missing or different", "5 (app.js, config.js, images/mug.svg, index.html, styles/site.css)")),
        "{change:?}"
    );
    // Five files, then the manifest of what was uploaded.
    assert_eq!(log.mutating_calls().len(), 6);
    for (key, content_type, cache) in [
        ("index.html", "text/html; charset=utf-8", "no-cache"),
        ("config.js", "text/javascript; charset=utf-8", "no-cache"),
        (
            "app.js",
            "text/javascript; charset=utf-8",
            "public, max-age=300",
        ),
        (
            "styles/site.css",
            "text/css; charset=utf-8",
            "public, max-age=300",
        ),
        ("images/mug.svg", "image/svg+xml", "public, max-age=300"),
    ] {
        let head = s3
            .head_object()
            .bucket(&bucket)
            .key(key)
            .send()
            .await
            .unwrap();
        assert_eq!(
            (key, head.content_type(), head.cache_control()),
            (key, Some(content_type), Some(cache))
        );
    }
    assert_eq!(
        body(&apply, &bucket, "config.js").await,
        format!("export const API_URL = \"{api_url}\";\n")
    );

    // Again: nothing written.
    log.clear();
    assert_eq!(
        website_bucket::converge(&apply).await.unwrap().0.action,
        Action::Unchanged
    );
    assert_eq!(log.mutating_calls(), Vec::<String>::new());
    log.clear();
    assert_eq!(
        website_upload::converge(&apply, site.path(), Some(api_url))
            .await
            .unwrap()
            .action,
        Action::Unchanged
    );
    // One listing and the manifest, not a HeadObject per file.
    assert_eq!(log.calls(), vec!["S3.ListObjectsV2", "S3.GetObject"]);

    // A file changed by hand in its metadata only (same body, so same ETag) is newer than the manifest and
    // is put back. (Listings show LastModified to the second: the copy must come in a later second.)
    std::thread::sleep(std::time::Duration::from_millis(1100));
    s3.copy_object()
        .bucket(&bucket)
        .key("index.html")
        .copy_source(format!("{bucket}/index.html"))
        .metadata_directive(aws_sdk_s3::types::MetadataDirective::Replace)
        .content_type("text/plain")
        .send()
        .await
        .unwrap();
    let change = website_upload::converge(&apply, site.path(), Some(api_url))
        .await
        .unwrap();
    assert!(
        matches!(&change.action, Action::Update { fields } if fields[0] == FieldChange::new("uploaded", "missing or different", "1 (index.html)")),
        "{change:?}"
    );

    // Edit one file, remove another: exactly that upload and that delete.
    write(
        site.path(),
        "app.js",
        "import { API_URL } from './config.js'; console.log(API_URL);",
    );
    std::fs::remove_file(site.path().join("styles/site.css")).unwrap();
    log.clear();
    let change = website_upload::converge(&plan, site.path(), Some(api_url))
        .await
        .unwrap();
    let expected = Action::Update {
        fields: vec![
            FieldChange::new("uploaded", "missing or different", "1 (app.js)"),
            FieldChange::new(
                "deleted",
                "1 (styles/site.css)",
                "gone (no longer in frontend/)",
            ),
            FieldChange::new("kept", "same content", "3 unchanged"),
        ],
    };
    assert_eq!(change.action, expected);
    assert_eq!(log.mutating_calls(), Vec::<String>::new());
    assert_eq!(
        website_upload::converge(&apply, site.path(), Some(api_url))
            .await
            .unwrap()
            .action,
        expected
    );
    assert_eq!(
        log.mutating_calls(),
        vec!["S3.PutObject", "S3.DeleteObjects", "S3.PutObject"]
    );
    assert!(body(&apply, &bucket, "app.js")
        .await
        .contains("console.log"));

    // A new API URL rewrites only config.js.
    log.clear();
    website_upload::converge(&apply, site.path(), Some("https://new.example"))
        .await
        .unwrap();
    assert_eq!(log.mutating_calls(), vec!["S3.PutObject", "S3.PutObject"]);
    assert!(body(&apply, &bucket, "config.js")
        .await
        .contains("https://new.example"));

    // Drift: someone changed the error document; plan names exactly it, apply puts it back.
    s3.put_bucket_website()
        .bucket(&bucket)
        .website_configuration(
            aws_sdk_s3::types::WebsiteConfiguration::builder()
                .index_document(
                    aws_sdk_s3::types::IndexDocument::builder()
                        .suffix("index.html")
                        .build()
                        .unwrap(),
                )
                .error_document(
                    aws_sdk_s3::types::ErrorDocument::builder()
                        .key("404.html")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let expected = Action::Update {
        fields: vec![FieldChange::new(
            "website.error_document",
            "404.html",
            "index.html",
        )],
    };
    assert_eq!(
        website_bucket::converge(&plan).await.unwrap().0.action,
        expected
    );
    log.clear();
    assert_eq!(
        website_bucket::converge(&apply).await.unwrap().0.action,
        expected
    );
    assert_eq!(log.mutating_calls(), vec!["S3.PutBucketWebsite"]);

    // Destroy a versioned bucket holding old versions and a delete marker.
    s3.put_bucket_versioning()
        .bucket(&bucket)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    for round in 0..3 {
        s3.put_object()
            .bucket(&bucket)
            .key("index.html")
            .body(format!("v{round}").into_bytes().into())
            .send()
            .await
            .unwrap();
    }
    s3.delete_object()
        .bucket(&bucket)
        .key("app.js")
        .send()
        .await
        .unwrap();
    assert_eq!(
        website_bucket::destroy(&apply).await.unwrap().action,
        Action::Delete
    );
    let gone = s3.head_bucket().bucket(&bucket).send().await.unwrap_err();
    assert!(gone.as_service_error().unwrap().is_not_found());
    assert_eq!(
        website_bucket::destroy(&apply).await.unwrap().action,
        Action::AlreadyGone
    );
}

#[tokio::test]
async fn foreign_bucket_with_our_name_is_left_alone() {
    let config = test_config(&unique_stage(), "us-east-1");
    let apply = ctx(config.clone(), Mode::Apply, &[]).await;
    let bucket = apply.names.website_bucket(&apply.account_id, &apply.region);
    apply
        .aws
        .s3
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    apply
        .aws
        .s3
        .put_object()
        .bucket(&bucket)
        .key("theirs.txt")
        .body(b"keep".to_vec().into())
        .send()
        .await
        .unwrap();

    let err = format!("{:#}", website_bucket::converge(&apply).await.unwrap_err());
    assert!(
        err.contains(&bucket) && err.contains("not tagged shopsmart:stack="),
        "{err}"
    );
    let err = format!("{:#}", website_bucket::destroy(&apply).await.unwrap_err());
    assert!(
        err.contains("not tagged") && err.contains("objects are left untouched"),
        "{err}"
    );
    apply
        .aws
        .s3
        .head_object()
        .bucket(&bucket)
        .key("theirs.txt")
        .send()
        .await
        .unwrap();
    let policy = apply
        .aws
        .s3
        .get_bucket_policy()
        .bucket(&bucket)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_s3::error::ProvideErrorMetadata::code(&policy),
        Some("NoSuchBucketPolicy")
    );
    apply
        .aws
        .s3
        .delete_object()
        .bucket(&bucket)
        .key("theirs.txt")
        .send()
        .await
        .unwrap();
    apply
        .aws
        .s3
        .delete_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
}

/// Real S3, modelled by rules that answer as S3 would given what was sent before:
/// a public policy is refused while BlockPublicPolicy is on; outside us-east-1 CreateBucket needs the region
/// as LocationConstraint; DeleteBucket on a bucket that got a late write says BucketNotEmpty.
#[tokio::test]
async fn s3_refusals_moto_does_not_make_are_handled() {
    let config = test_config(&unique_stage(), "eu-central-1");
    let faults = Faults::new();
    let apply = ctx_with_faults(config.clone(), Mode::Apply, &[], &faults).await;
    let bucket = website_bucket::bucket_name(&apply);
    let path = format!("/{bucket}");

    let p = path.clone();
    let location = faults.inject(
        usize::MAX,
        move |r, _| r.is("PUT", &p) && r.query.is_empty() && !r.body.contains("<LocationConstraint>eu-central-1</LocationConstraint>"),
        Canned::s3_error(400, "IllegalLocationConstraintException", "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to."),
    );
    let p = path.clone();
    let blocked = faults.inject(
        usize::MAX,
        move |r, history| {
            let relaxed = history.iter().any(|h| {
                h.is("PUT", &p) && h.has_query_key("publicAccessBlock") && h.body.contains("<BlockPublicPolicy>false</BlockPublicPolicy>")
            });
            r.is("PUT", &p) && r.has_query_key("policy") && !relaxed
        },
        Canned::s3_error(403, "AccessDenied", "User is not authorized to perform: s3:PutBucketPolicy because public policies are blocked by the BlockPublicPolicy block public access setting."),
    );
    let p = path.clone();
    let not_empty = faults.inject(
        1,
        move |r, _| r.is("DELETE", &p) && r.query.is_empty(),
        Canned::s3_error(
            409,
            "BucketNotEmpty",
            "The bucket you tried to delete is not empty",
        ),
    );

    assert_eq!(
        website_bucket::converge(&apply).await.unwrap().0.action,
        Action::Create
    );
    assert_eq!(
        (location.count(), blocked.count()),
        (0, 0),
        "CreateBucket named its region; BPA came before the policy"
    );
    let site = frontend();
    website_upload::converge(&apply, site.path(), Some("https://api.example"))
        .await
        .unwrap();

    // The rule is live: a CreateBucket without LocationConstraint is refused, as S3 does.
    let err = apply
        .aws
        .s3
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_s3::error::ProvideErrorMetadata::code(&err),
        Some("IllegalLocationConstraintException")
    );
    assert_eq!(location.count(), 1);

    // DeleteBucket answers BucketNotEmpty once: destroy empties again and retries.
    assert_eq!(
        website_bucket::destroy(&apply).await.unwrap().action,
        Action::Delete
    );
    assert_eq!(not_empty.count(), 1);
    let gone = apply
        .aws
        .s3
        .head_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap_err();
    assert!(gone.as_service_error().unwrap().is_not_found());
}

/// Behaviour 4 at the account level: BPA on the account refuses the policy even after the bucket's BPA was
/// relaxed; the error says what is wrong and where to fix it.
#[tokio::test]
async fn account_level_block_public_access_is_explained() {
    let config = test_config(&unique_stage(), "us-east-1");
    let faults = Faults::new();
    let apply = ctx_with_faults(config.clone(), Mode::Apply, &[], &faults).await;
    let path = format!("/{}", website_bucket::bucket_name(&apply));
    faults.inject(
        usize::MAX,
        move |r, _| r.is("PUT", &path) && r.has_query_key("policy"),
        Canned::s3_error(403, "AccessDenied", "User is not authorized to perform: s3:PutBucketPolicy because public policies are blocked by the BlockPublicPolicy block public access setting."),
    );
    let err = format!("{:#}", website_bucket::converge(&apply).await.unwrap_err());
    assert!(
        err.contains("putting the public-read policy on S3 bucket")
            && err.contains("Block Public Access settings for this account")
            && err.contains("set `website.https: true`"),
        "{err}"
    );
    // A re-run after the learner fixed it converges (the bucket exists, only the policy is missing).
    let plain = ctx(config, Mode::Apply, &[]).await;
    let (change, _) = website_bucket::converge(&plain).await.unwrap();
    assert!(
        matches!(&change.action, Action::Update { fields } if fields.iter().any(|f| f.field == "policy")),
        "{change:?}"
    );
    website_bucket::destroy(&plain).await.unwrap();
}

/// More of real S3 that moto does not do: right after Block Public Access was relaxed, S3 may refuse the
/// public policy for a moment (retried under a deadline); CreateBucket with tags is AccessDenied without
/// s3:TagResource (created without them, then tagged); BucketAlreadyOwnedByYou for a bucket that appeared
/// since HeadBucket looked is checked for our tag like any existing bucket, so a foreign one is not adopted.
#[tokio::test]
async fn s3_consistency_and_permission_refusals_are_handled() {
    let config = test_config(&unique_stage(), "eu-central-1");
    let faults = Faults::new();
    let apply = ctx_with_faults(config.clone(), Mode::Apply, &[], &faults).await;
    let bucket = website_bucket::bucket_name(&apply);
    let path = format!("/{bucket}");

    let p = path.clone();
    let tags_denied = faults.inject(
        1,
        move |r, _| r.is("PUT", &p) && r.query.is_empty() && r.body.contains("<Tags>"),
        Canned::s3_error(
            403,
            "AccessDenied",
            "User is not authorized to perform: s3:TagResource",
        ),
    );
    let p = path.clone();
    let policy_not_yet = faults.inject(
        2,
        move |r, _| r.is("PUT", &p) && r.has_query_key("policy"),
        Canned::s3_error(403, "AccessDenied", "User is not authorized to perform: s3:PutBucketPolicy because public policies are blocked by the BlockPublicPolicy block public access setting."),
    );
    assert_eq!(
        website_bucket::converge(&apply).await.unwrap().0.action,
        Action::Create
    );
    assert_eq!((tags_denied.count(), policy_not_yet.count()), (1, 2));
    let tagged = apply
        .aws
        .s3
        .get_bucket_tagging()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    assert!(tagged
        .tag_set()
        .iter()
        .any(|t| t.key() == STACK_TAG_KEY && t.value() == apply.stack_tag_value()));
    let plain = ctx(config.clone(), Mode::Apply, &[]).await;
    assert_eq!(
        website_bucket::converge(&plain).await.unwrap().0.action,
        Action::Unchanged,
        "the policy landed on a retry"
    );
    website_bucket::destroy(&plain).await.unwrap();

    // Someone else's bucket in this account appears between HeadBucket and CreateBucket. (Another stage,
    // so another name: moto keeps a deleted bucket's tags for a new bucket of the same name.)
    let config = test_config(&unique_stage(), "eu-central-1");
    let apply = ctx_with_faults(config.clone(), Mode::Apply, &[], &faults).await;
    let bucket = website_bucket::bucket_name(&apply);
    let path = format!("/{bucket}");
    plain
        .aws
        .s3
        .create_bucket()
        .bucket(&bucket)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuCentral1)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let p = path.clone();
    faults.inject(
        1,
        move |r, _| r.is("HEAD", &p),
        Canned::s3_error(404, "NotFound", "Not Found"),
    );
    let p = path.clone();
    let owned = faults.inject(
        1,
        move |r, _| r.is("PUT", &p) && r.query.is_empty(),
        Canned::s3_error(
            409,
            "BucketAlreadyOwnedByYou",
            "Your previous request to create the named bucket succeeded and you already own it.",
        ),
    );
    let err = format!("{:#}", website_bucket::converge(&apply).await.unwrap_err());
    assert_eq!(owned.count(), 1);
    assert!(err.contains("is not tagged shopsmart:stack="), "{err}");
    let untouched = plain
        .aws
        .s3
        .get_bucket_tagging()
        .bucket(&bucket)
        .send()
        .await;
    assert!(untouched.is_err(), "the foreign bucket got no tags");
    plain
        .aws
        .s3
        .delete_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
}

/// Real S3, not moto: right after CreateBucket, the calls that configure the new bucket may answer 404
/// NoSuchBucket for a few seconds (the documented eventual consistency of a new bucket). The fault layer
/// answers the first two PutBucketTagging calls that way, in S3's documented XML error shape; the driver
/// retries the new bucket's configuration until it lands, and the bucket ends up exactly as configured.
#[tokio::test]
async fn a_new_bucket_not_yet_visible_is_configured_on_a_retry() {
    let config = test_config(&unique_stage(), "eu-west-1");
    let faults = Faults::new();
    let apply = ctx_with_faults(config.clone(), Mode::Apply, &[], &faults).await;
    let path = format!("/{}", website_bucket::bucket_name(&apply));
    let p = path.clone();
    let not_yet = faults.inject(
        2,
        move |r, _| r.is("PUT", &p) && r.has_query_key("tagging"),
        Canned::s3_error(404, "NoSuchBucket", "The specified bucket does not exist"),
    );
    let (change, _) = website_bucket::converge(&apply).await.unwrap();
    assert_eq!(change.action, Action::Create);
    assert_eq!(not_yet.count(), 2, "both NoSuchBucket answers were seen");
    let plain = ctx(config, Mode::Apply, &[]).await;
    let (again, _) = website_bucket::converge(&plain).await.unwrap();
    assert_eq!(again.action, Action::Unchanged, "{again:?}");
    website_bucket::destroy(&plain).await.unwrap();
}

/// S3's documented NoSuchBucket error (HTTP 404), as real S3 answers ANY call on a bucket for a few seconds
/// after CreateBucket; moto never does, so the fault layer gives it.
fn no_such_bucket() -> Canned {
    Canned::s3_error(404, "NoSuchBucket", "The specified bucket does not exist")
}

/// Every call on a bucket this run made (or found) moments ago is asked again while S3 answers NoSuchBucket:
/// the upload right after the create (`up` right after `destroy`: the listing and config.js), and the
/// object deletion of a `destroy` right after an `up`. Both end as if S3 had been consistent at once.
#[tokio::test]
async fn every_call_on_a_bucket_made_moments_ago_is_asked_again() {
    let config = test_config(&unique_stage(), "eu-west-3");
    let faults = Faults::new();
    let apply = ctx_with_faults(config.clone(), Mode::Apply, &[], &faults).await;
    let (created, bucket) = website_bucket::converge(&apply).await.unwrap();
    assert_eq!(created.action, Action::Create);
    let path = format!("/{bucket}");
    let p = path.clone();
    let listing = faults.inject(
        1,
        move |r, _| r.is("GET", &p) && r.has_query_key("list-type"),
        no_such_bucket(),
    );
    let config_js = format!("{path}/config.js");
    let upload = faults.inject(2, move |r, _| r.is("PUT", &config_js), no_such_bucket());
    let dir = frontend();
    let uploaded = website_upload::converge(&apply, dir.path(), Some("https://api.example/"))
        .await
        .unwrap();
    assert!(
        matches!(uploaded.action, Action::Update { .. }),
        "{uploaded:?}"
    );
    assert_eq!((listing.count(), upload.count()), (1, 2));
    assert_eq!(
        body(&apply, &bucket, "config.js").await,
        "export const API_URL = \"https://api.example/\";\n"
    );

    // A `destroy` moments later: a new run, which finds the bucket (HeadBucket), then empties it.
    let destroy = ctx_with_faults(config.clone(), Mode::Apply, &[], &faults).await;
    let p = path.clone();
    let deletes = faults.inject(
        2,
        move |r, _| r.is("POST", &p) && r.has_query_key("delete"),
        no_such_bucket(),
    );
    let gone = website_bucket::destroy(&destroy).await.unwrap();
    assert_eq!(gone.action, Action::Delete);
    assert_eq!(deletes.count(), 2);
    let plain = ctx(config, Mode::Apply, &[]).await;
    let head = plain.aws.s3.head_bucket().bucket(&bucket).send().await;
    assert!(head.is_err(), "the bucket is gone");
}

/// A bucket this run never saw (made or found) that S3 says does not exist does not exist: NoSuchBucket
/// counts at the first answer, without asking again.
#[tokio::test]
async fn a_bucket_this_run_never_saw_is_absent_at_once() {
    let faults = Faults::new();
    let apply = ctx_with_faults(
        test_config(&unique_stage(), "eu-west-3"),
        Mode::Apply,
        &[],
        &faults,
    )
    .await;
    let bucket = website_bucket::bucket_name(&apply);
    let files = website_upload::WebsiteFiles::existing(&apply);
    let err = shopsmart_deploy::resources::Resource::read(&files, &apply)
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("NoSuchBucket"), "{err:#}");
    let path = format!("/{bucket}");
    let listings = faults.seen(move |r, _| r.is("GET", &path) && r.has_query_key("list-type"));
    assert_eq!(listings.len(), 1, "asked once");
}
