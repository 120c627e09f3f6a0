//! Builds and regions that cannot work on AWS are refused with exit code 2 and what to do instead: a
//! `--function-zip` Lambda could not run, and regions outside the commercial partition. And in every
//! commercial region the website URL has the endpoint style AWS documents, and the API's CORS origin is it.

use shopsmart_deploy::config::regions::KNOWN_REGIONS;
use shopsmart_deploy::names::{website_url, StackNames};
use shopsmart_deploy::resources::function_code::zip_bootstrap;
use shopsmart_deploy::stack::cors_origins;

use crate::support::cli::Cli;
use crate::support::{
    assert_nothing_remains, ctx, elf_header, shipped_config, test_config, unique_stage,
    MOTO_ACCOUNT_ID,
};
use shopsmart_deploy::resources::Mode;

#[tokio::test]
async fn a_function_zip_lambda_could_not_run_exits_2_before_any_write() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::new(shipped_config())
        .stage(&unique_stage())
        .region("ca-west-1");
    let x86 = dir.path().join("x86.zip");
    std::fs::write(&x86, zip_bootstrap(&elf_header(0x3E)).unwrap()).unwrap();
    let script = dir.path().join("script.zip");
    std::fs::write(
        &script,
        zip_bootstrap(b"#!/bin/sh\nexec ./shopsmart-api \"$@\"\n").unwrap(),
    )
    .unwrap();
    for (zip, says) in [
        (&x86, "`bootstrap` is built for x86_64 (its ELF header says so), but function.architecture is arm64"),
        (&script, "`bootstrap` is not a Linux executable (no ELF header)"),
    ] {
        for verb in ["plan", "up"] {
            let (code, stderr) = cli.code_and_stderr(&[verb, "--function-zip", zip.to_str().unwrap()]);
            assert_eq!(code, Some(2), "{stderr}");
            assert!(stderr.contains(says) && stderr.contains("cargo lambda build"), "{stderr}");
        }
    }
    // `up` refused the zip before creating anything (its steps run in parallel once started).
    assert_nothing_remains(&ctx(cli.config(), Mode::Plan, &[]).await).await;
}

#[test]
fn china_and_govcloud_regions_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = std::fs::read_to_string(shipped_config()).unwrap();
    for region in [
        "cn-north-1",
        "cn-northwest-1",
        "us-gov-west-1",
        "us-gov-east-1",
    ] {
        let path = dir.path().join(format!("{region}.yaml"));
        let text = shipped.replace("\nregion: us-east-1\n", &format!("\nregion: {region}\n"));
        std::fs::write(&path, text).unwrap();
        let closed = Cli::new(&path).endpoint("http://127.0.0.1:9");
        let from_flag = Cli::new(shipped_config())
            .endpoint("http://127.0.0.1:9")
            .region(region);
        for cli in [closed, from_flag] {
            let (code, stderr) = cli.code_and_stderr(&["plan"]);
            assert_eq!(code, Some(2), "{region}: {stderr}");
            for says in ["no Free Tier", "commercial aws partition only", "us-east-1"] {
                assert!(stderr.contains(says), "{region}: {stderr}");
            }
        }
    }
}

/// The regions whose website endpoint is `s3-website-REGION` (dash); all other commercial regions use
/// `s3-website.REGION` (dot). From the AWS General Reference table "Amazon S3 website endpoints"
/// (docs.aws.amazon.com/general/latest/gr/s3.html#s3_website_region_endpoints).
const DOCUMENTED_DASH_STYLE: &str =
    "us-east-1 us-west-1 us-west-2 ap-southeast-1 ap-southeast-2 ap-northeast-1 eu-west-1 sa-east-1";

#[test]
fn website_url_and_cors_origin_in_every_commercial_region() {
    for region in KNOWN_REGIONS {
        let bucket =
            StackNames::new("shopsmart", "dev", region).website_bucket(MOTO_ACCOUNT_ID, region);
        let separator = if DOCUMENTED_DASH_STYLE.split(' ').any(|r| r == *region) {
            '-'
        } else {
            '.'
        };
        let url = website_url(&bucket, region);
        assert_eq!(
            url,
            format!("http://{bucket}.s3-website{separator}{region}.amazonaws.com")
        );
        // Exactly the Origin a browser sends from the website (no trailing slash), first among the allowed.
        let origins = cors_origins(&test_config("dev", region), &url);
        assert_eq!(origins.first(), Some(&url), "{region}");
    }
}
