//! An `up` cut off after any number of AWS calls (as if the process was killed or the network died) is
//! finished by the next `up`, which then leaves nothing to do, with real AWS's consistency answers after a
//! create switched on (see `consistency_answers`).
//!
//! The cut is an interceptor that fails every call after the k-th before it is sent, so AWS sees exactly
//! the first k calls, wherever the concurrent branches of `up` were. One more test kills a real
//! `shopsmart-deploy up` process with SIGKILL half-way.

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::{Intercept, SharedInterceptor};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use shopsmart_deploy::report::Reporter;
use shopsmart_deploy::stack::{self, StackOptions};

use crate::support::cli::Cli;
use crate::support::faults::{Canned, Faults, Hits, SeenRequest};
use crate::support::*;

/// Lets the first `allowed` calls through, then fails every other one before it reaches AWS.
#[derive(Debug)]
struct CutAfter {
    allowed: usize,
    sent: Arc<AtomicUsize>,
}

impl Intercept for CutAfter {
    fn name(&self) -> &'static str {
        "CutAfter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // moto drops the tags CreateBucket carries (AWS applies them atomically with the create), so the
        // follow-up tagging call stands in for that atomic create: it is never the place of a cut.
        // The Free Tier guard's ListTables in every region only reads, and one that fails is a warning that
        // the count may be low: a cut there is a cut at the next call, so it is not a place of its own (it
        // would add one `up` per region to this test). The same for the account's plan, read for the summary
        // once everything is done (a failure is a note).
        if cfg.load::<Metadata>().is_some_and(|m| {
            ["PutBucketTagging", "ListTables", "GetAccountPlanState"].contains(&m.name())
        }) {
            return Ok(());
        }
        if self.sent.fetch_add(1, Ordering::SeqCst) < self.allowed {
            Ok(())
        } else {
            Err("connection lost (test cut)".into())
        }
    }
}

fn options(
    account: &Account,
    stage: &str,
    zip: &std::path::Path,
    mut interceptors: Vec<SharedInterceptor>,
) -> StackOptions {
    // An account of the test's own: a cold `up` has the Free Tier guard describe every table of the account,
    // so other tests' tables would change the number of calls an `up` makes. (eu-north-1 also takes the
    // LocationConstraint path.)
    interceptors.push(account.interceptor());
    stack_options(test_config(stage, "eu-north-1"), zip, interceptors, true)
}

/// Real AWS's answers right after a create, which moto does not give, in the shapes AWS documents: the first
/// PutBucketTagging after a CreateBucket answers 404 NoSuchBucket (a new bucket is not visible everywhere at
/// once), and the first ListTagsOfResource of each table answers no tags (eventually consistent). The next
/// `up` after a cut meets exactly these: tables and a bucket made moments ago.
fn consistency_answers() -> (Faults, [Hits; 2]) {
    let faults = Faults::new();
    let not_yet_bucket = faults.inject(
        usize::MAX,
        |r, history| {
            let last = |tagging: bool| {
                history.iter().rposition(|h| {
                    h.method == "PUT"
                        && h.path == r.path
                        && h.has_query_key("tagging") == tagging
                        && (tagging || h.query.is_empty())
                })
            };
            r.method == "PUT" && r.has_query_key("tagging") && last(false) > last(true)
        },
        Canned::s3_error(404, "NoSuchBucket", "The specified bucket does not exist"),
    );
    let is_list_tags =
        |r: &SeenRequest| r.target.as_deref() == Some("DynamoDB_20120810.ListTagsOfResource");
    let no_tags_yet = faults.inject(
        usize::MAX,
        move |r, history| {
            is_list_tags(r) && !history.iter().any(|h| is_list_tags(h) && h.body == r.body)
        },
        Canned::dynamodb_ok(serde_json::json!({ "Tags": [] })),
    );
    (faults, [not_yet_bucket, no_tags_yet])
}

fn with_consistency(mut opts: StackOptions, faults: &Faults) -> StackOptions {
    opts.http_client = Some(SharedHttpClient::new(faults.clone()));
    opts
}

#[tokio::test]
async fn an_up_cut_after_any_call_is_finished_by_the_next_up() {
    let dir = tempfile::tempdir().unwrap();
    let zip = write_test_zip(dir.path());

    // How many calls a whole `up` from empty makes: every one of them is the place of a cut once.
    let account = Account::new().await;
    let log = CallLog::default();
    let probe = unique_stage();
    let (faults, answered) = consistency_answers();
    stack::up(
        &with_consistency(
            options(&account, &probe, &zip, vec![log.interceptor()]),
            &faults,
        ),
        &Reporter::quiet(),
    )
    .await
    .unwrap();
    let total = log
        .calls()
        .iter()
        .filter(|call| {
            ![".PutBucketTagging", ".ListTables", ".GetAccountPlanState"]
                .iter()
                .any(|skipped| call.ends_with(skipped))
        })
        .count();
    stack::destroy(&options(&account, &probe, &zip, vec![]), &Reporter::quiet())
        .await
        .unwrap();
    assert!(total > 20, "a whole up made only {total} calls");

    for allowed in 1..total {
        let stage = unique_stage();
        let sent = Arc::new(AtomicUsize::new(0));
        let cut = SharedInterceptor::new(CutAfter {
            allowed,
            sent: sent.clone(),
        });
        let opts = with_consistency(options(&account, &stage, &zip, vec![cut]), &faults);
        let interrupted = stack::up(&opts, &Reporter::quiet()).await;
        // A step's read ahead that ran before the resource it reads was created fails and is made again,
        // so a run may make a call or two fewer than the probe's `total`: a cut it never reached is no cut.
        let cut_reached = sent.load(Ordering::SeqCst) > allowed;
        assert!(
            interrupted.is_err() || !cut_reached,
            "up with only {allowed} calls of {total} should fail"
        );

        let log = CallLog::default();
        stack::up(
            &with_consistency(
                options(&account, &stage, &zip, vec![log.interceptor()]),
                &faults,
            ),
            &Reporter::quiet(),
        )
        .await
        .unwrap_or_else(|err| panic!("up after a cut at call {allowed} of {total}: {err:#}"));
        log.clear();
        stack::up(
            &options(&account, &stage, &zip, vec![log.interceptor()]),
            &Reporter::quiet(),
        )
        .await
        .unwrap();
        assert_eq!(
            log.mutating_calls(),
            Vec::<String>::new(),
            "third up after a cut at call {allowed}"
        );
        stack::destroy(&options(&account, &stage, &zip, vec![]), &Reporter::quiet())
            .await
            .unwrap();
    }
    let [buckets, tables] = answered.map(|hits| hits.count());
    assert!(
        buckets > 0 && tables > 0,
        "both answers were given: {buckets}, {tables}"
    );
}

/// The binary, killed (SIGKILL: no chance to clean up) once the website bucket is done, while the function,
/// the API, the permission and the upload are still to come; the next `up` (with real AWS's consistency
/// answers switched on) finishes it.
#[tokio::test]
async fn a_killed_up_process_is_finished_by_the_next_up() {
    // A region of its own: the cut test above counts the calls of an `up`, which list the region's tables.
    const REGION: &str = "us-west-2";
    let dir = tempfile::tempdir().unwrap();
    let zip = write_test_zip(dir.path());
    let cli = Cli::new(shipped_config())
        .stage(&unique_stage())
        .region(REGION);
    let up_args = [
        "up",
        "--allow-charges",
        "--function-zip",
        zip.to_str().unwrap(),
    ];

    let mut child = cli
        .command(&up_args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = Instant::now();
    let mut printed = Vec::new();
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no bucket line: {printed:?}"
        );
        let line = lines
            .next()
            .expect("up ended before the bucket was done")
            .unwrap();
        let bucket_done = line.contains("S3 website bucket");
        printed.push(line);
        if bucket_done {
            break;
        }
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    // Killed, not finished: the function, API, permission and upload were still to come.
    assert_eq!(
        status.signal(),
        Some(9),
        "the kill came too late: {status:?} {printed:?}"
    );

    // The next `up` meets what the killed one made moments ago, with real AWS's answers to that switched on
    // (the same configuration the binary read, so the checks compare like with like).
    let config = cli.config();
    let (faults, [_, no_tags_yet]) = consistency_answers();
    let rerun = with_consistency(stack_options(config.clone(), &zip, vec![], true), &faults);
    stack::up(&rerun, &Reporter::quiet()).await.unwrap();
    assert!(
        no_tags_yet.count() > 0,
        "the new tables' tags were not visible at first"
    );
    let log = CallLog::default();
    let opts = stack_options(config, &zip, vec![log.interceptor()], true);
    stack::up(&opts, &Reporter::quiet()).await.unwrap();
    assert_eq!(log.mutating_calls(), Vec::<String>::new());
    stack::destroy(&opts, &Reporter::quiet()).await.unwrap();
}
