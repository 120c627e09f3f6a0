//! What a real AWS account answers and moto does not, modelled by the fault layer with the error shapes AWS
//! documents: S3 still releasing a just-deleted bucket name (409 OperationAborted), DynamoDB's eventually
//! consistent ListTagsOfResource (no tags yet on a table made moments ago), and Lambda's ListTags refused
//! for lack of permission (GetFunction would silently leave the tags out instead).

use shopsmart_deploy::change::Action;
use shopsmart_deploy::error::chain;
use shopsmart_deploy::names::TableKind;
use shopsmart_deploy::resources::Mode;

use crate::support::faults::{ctx_with_faults, Canned, Faults};
use crate::support::resources::{lambda_function, tables, website_bucket};
use crate::support::{ctx, test_config, unique_stage};

const OPERATION_ABORTED: &str =
    "A conflicting conditional operation is currently in progress against this \
                                 resource. Please try again.";

/// `up` right after `destroy`: S3 answers CreateBucket with 409 OperationAborted until it has released the
/// name. The create is retried (the learner is told why on the progress line) and the bucket is made.
#[tokio::test]
async fn a_bucket_name_still_being_released_is_retried_until_s3_lets_go() {
    let config = test_config(&unique_stage(), "us-east-1");
    let faults = Faults::new();
    let apply = ctx_with_faults(config.clone(), Mode::Apply, &[], &faults).await;
    let path = format!("/{}", website_bucket::bucket_name(&apply));
    let p = path.clone();
    let aborted = faults.inject(
        2,
        move |r, _| r.is("PUT", &p) && r.query.is_empty(),
        Canned::s3_error(409, "OperationAborted", OPERATION_ABORTED),
    );
    let mut notes = apply.notes.listen();
    let (change, _) = website_bucket::converge(&apply).await.unwrap();
    assert_eq!(change.action, Action::Create);
    assert_eq!(aborted.count(), 2);
    let note = notes.try_recv().expect("the learner is told why it waits");
    assert!(note.contains("still releasing the name"), "{note}");
    assert!(notes.try_recv().is_err(), "told once, not once per retry");
    let plain = ctx(config, Mode::Apply, &[]).await;
    website_bucket::destroy(&plain).await.unwrap();
}

/// When S3 keeps the name past the deadline, `up` stops with what to do (a deadline of 2 s here; the
/// stack's is [`website_bucket::NAME_RELEASE_DEADLINE`]).
#[tokio::test]
async fn a_bucket_name_not_released_in_time_says_to_wait_and_run_up_again() {
    let config = test_config(&unique_stage(), "us-east-1");
    let faults = Faults::new();
    let apply = ctx_with_faults(config, Mode::Apply, &[], &faults).await;
    let path = format!("/{}", website_bucket::bucket_name(&apply));
    let creates = faults.inject(
        usize::MAX,
        move |r, _| r.is("PUT", &path) && r.query.is_empty(),
        Canned::s3_error(409, "OperationAborted", OPERATION_ABORTED),
    );
    let bucket = website_bucket::Bucket {
        name_release: std::time::Duration::from_secs(2),
        ..website_bucket::Bucket::new(&apply)
    };
    let err = shopsmart_deploy::resources::converge(&apply, &bucket)
        .await
        .unwrap_err();
    let text = chain(&err);
    assert!(
        text.contains("after 2 s")
            && text.contains("Wait a few minutes, then run `shopsmart-deploy up` again"),
        "{text}"
    );
    assert!(
        text.contains("OperationAborted: A conflicting conditional operation"),
        "{text}"
    );
    assert!(creates.count() > 2, "retried: {}", creates.count());
}

/// DynamoDB's ListTagsOfResource is eventually consistent: for a few seconds after CreateTable (with our tags)
/// it may answer no tags at all. A re-run of `up` and a `destroy` right after must not call the table
/// someone else's.
#[tokio::test]
async fn a_new_tables_tags_not_visible_yet_are_waited_for() {
    let config = test_config(&unique_stage(), "us-east-1");
    let plain = ctx(config.clone(), Mode::Apply, &[]).await;
    let created = tables::converge_table(&plain, TableKind::Orders)
        .await
        .unwrap();
    assert_eq!(created.action, Action::Create);

    let faults = Faults::new();
    let apply = ctx_with_faults(config, Mode::Apply, &[], &faults).await;
    let no_tags_yet = || Canned::dynamodb_ok(serde_json::json!({ "Tags": [] }));
    let is_list_tags = |r: &crate::support::faults::SeenRequest, _: &[_]| {
        r.target.as_deref() == Some("DynamoDB_20120810.ListTagsOfResource")
    };
    let empty = faults.inject(2, is_list_tags, no_tags_yet());
    let again = tables::converge_table(&apply, TableKind::Orders)
        .await
        .unwrap();
    assert_eq!(again.action, Action::Unchanged, "{again:?}");
    assert_eq!(empty.count(), 2);

    let empty = faults.inject(1, is_list_tags, no_tags_yet());
    let gone = tables::destroy_table(&apply, TableKind::Orders)
        .await
        .unwrap();
    assert_eq!(gone.action, Action::Delete);
    assert_eq!(empty.count(), 1);
}

/// GetFunction leaves the tags out when the caller may not call lambda:ListTags, which would make our own
/// function look foreign. The tags come from ListTags; when that is denied, the error names the permission
/// and reads as one line with AWS's code, message and request id.
#[tokio::test]
async fn a_denied_list_tags_names_the_permission_instead_of_calling_the_function_foreign() {
    let config = test_config(&unique_stage(), "us-east-1");
    let role_arn = crate::lambda_function::create_role(&config).await;
    let desired = crate::lambda_function::desired(&config, &role_arn, b"v1");
    let plain = ctx(config.clone(), Mode::Apply, &[]).await;
    lambda_function::converge(&plain, &desired).await.unwrap();

    let faults = Faults::new();
    let apply = ctx_with_faults(config.clone(), Mode::Apply, &[], &faults).await;
    let function_arn = format!(
        "arn:aws:lambda:us-east-1:123456789012:function:{}",
        config.names().function()
    );
    let denied = faults.inject(
        1,
        |r, _| r.method == "GET" && r.path.starts_with("/2017-03-31/tags/"),
        Canned::rest_json_error(
            403,
            "AccessDeniedException",
            &format!(
                "User: arn:aws:iam::123456789012:user/learner is not authorized to perform: lambda:ListTags \
                 on resource: {function_arn} because no identity-based policy allows the lambda:ListTags action"
            ),
        ),
    );
    let err = lambda_function::converge(&apply, &desired)
        .await
        .unwrap_err();
    let text = chain(&err);
    assert_eq!(denied.count(), 1);
    assert!(
        text.contains(&format!("may not do lambda:ListTags on {function_arn}")),
        "{text}"
    );
    assert!(
        text.contains("AccessDeniedException: User: ")
            && text.contains("(request id fault-injected)"),
        "{text}"
    );
    assert!(!text.contains("not made by this stack"), "{text}");
    assert!(
        !text.contains("service error") && !text.contains("Error {"),
        "{text}"
    );

    let again = lambda_function::converge(&apply, &desired).await.unwrap();
    assert_eq!(again.action, Action::Unchanged, "tags read with ListTags");
    lambda_function::destroy(&plain).await.unwrap();
}
