//! Builds: an unchanged `function/` is not built again (a fake cargo-lambda counts the builds). Builds and
//! regions that cannot work on AWS are refused with exit code 2 and what to do instead: a `--function-zip`
//! Lambda could not run, and regions outside the commercial partition. And in every
//! commercial region the website URL has the endpoint style AWS documents, and the API's CORS origin is it.

use shopsmart_deploy::config::regions::KNOWN_REGIONS;
use shopsmart_deploy::names::{website_url, StackNames};
use shopsmart_deploy::resources::function_code::zip_bootstrap;
use shopsmart_deploy::stack::cors_origins;

use crate::support::cli::{stderr_of, Cli};
use crate::support::{
    assert_nothing_remains, ctx, elf_header, repo_root, shipped_config, test_config, unique_stage,
    Account, MOTO_ACCOUNT_ID,
};
use shopsmart_deploy::resources::Mode;

/// A workspace whose `cargo` is a script: `cargo lambda build` appends its arguments to `builds.log` and writes
/// a "binary" (an arm64 ELF header and the build's number, so each build differs) where cargo-lambda puts it.
/// The configuration is the shipped one, the storefront the repository's.
fn workspace_with_fake_cargo_lambda() -> (tempfile::TempDir, std::ffi::OsString) {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::copy(shipped_config(), root.join("shopsmart.yaml")).unwrap();
    std::os::unix::fs::symlink(repo_root().join("frontend"), root.join("frontend")).unwrap();
    std::fs::create_dir_all(root.join("function/src")).unwrap();
    std::fs::write(root.join("function/Cargo.toml"), "[package]\n").unwrap();
    std::fs::write(root.join("function/src/main.rs"), "fn main() {}\n").unwrap();
    std::fs::write(root.join("Cargo.lock"), "# lock\n").unwrap();
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let header: String = elf_header(0xB7)
        .iter()
        .map(|b| format!("\\{b:03o}"))
        .collect();
    let scripts = [
        ("cargo-lambda", "#!/bin/sh\nexit 1\n".to_owned()),
        (
            "cargo",
            format!(
                "#!/bin/sh\necho \"$@\" >> \"{log}\"\nout=\"$CARGO_TARGET_DIR/lambda/shopsmart-api\"\n\
                 mkdir -p \"$out\"\nprintf '{header}' > \"$out/bootstrap\"\nwc -l < \"{log}\" >> \"$out/bootstrap\"\n",
                log = root.join("builds.log").display()
            ),
        ),
    ];
    for (name, text) in scripts {
        std::fs::write(bin.join(name), text).unwrap();
        std::fs::set_permissions(bin.join(name), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = std::env::join_paths(
        std::iter::once(bin).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    (dir, path)
}

#[tokio::test]
async fn an_unchanged_function_is_not_built_again() {
    let (dir, path) = workspace_with_fake_cargo_lambda();
    let root = dir.path();
    let cli = Cli::new(root.join("shopsmart.yaml"))
        .stage(&unique_stage())
        .region("eu-south-2");
    let up = || {
        let output = cli
            .command(&["up", "--allow-charges"])
            .env("PATH", &path)
            .env("CARGO_TARGET_DIR", root.join("target"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout).into_owned() + &stderr_of(&output);
        assert!(output.status.success(), "{text}");
        text
    };
    let builds = || {
        std::fs::read_to_string(root.join("builds.log"))
            .unwrap_or_default()
            .lines()
            .count()
    };
    let ctx = ctx(cli.config(), Mode::Plan, &[]).await;
    let code_sha = || async {
        let function = ctx
            .aws
            .lambda
            .get_function()
            .function_name(ctx.names.function());
        let output = function.send().await.unwrap();
        output.configuration.unwrap().code_sha256.unwrap()
    };
    let first = up();
    assert_eq!(builds(), 1, "{first}");
    assert!(
        first.contains("function code: built with cargo lambda for arm64"),
        "{first}"
    );
    let deployed = code_sha().await;
    // Nothing changed: no build, the zip of the first one, so the function's code stays as it is.
    let second = up();
    assert_eq!(builds(), 1, "{second}");
    assert!(
        second.contains("function/ unchanged since its last build"),
        "{second}"
    );
    assert_eq!(code_sha().await, deployed);
    // One source file edited: built again, and the new code deployed.
    std::fs::write(root.join("function/src/main.rs"), "fn main() { }\n").unwrap();
    let third = up();
    assert_eq!(builds(), 2, "{third}");
    assert!(
        third.contains("function code: built with cargo lambda"),
        "{third}"
    );
    assert_ne!(code_sha().await, deployed);
    cli.ok(&["destroy", "--yes"]);
    assert_nothing_remains(&ctx).await;
}

#[tokio::test]
async fn a_function_zip_lambda_could_not_run_exits_2_before_any_write() {
    let dir = tempfile::tempdir().unwrap();
    // An account of its own: the Free Tier guard (it runs first) counts the whole account's tables.
    let account = Account::new().await;
    let cli = Cli::new(shipped_config())
        .stage(&unique_stage())
        .region("ca-west-1")
        .account(&account);
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
    assert_nothing_remains(&account.ctx(cli.config(), Mode::Plan, &[]).await).await;
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
