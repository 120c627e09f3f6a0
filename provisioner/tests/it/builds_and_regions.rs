//! Builds that cannot work on AWS are refused with exit code 2 and what to do instead: a `--function-zip`
//! Lambda could not run.

use shopsmart_deploy::resources::function_code::zip_bootstrap;

use crate::support::cli::Cli;
use crate::support::{elf_header, shipped_config, unique_stage};

#[test]
fn a_function_zip_lambda_could_not_run_exits_2() {
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
        let (code, stderr) = cli.code_and_stderr(&["plan", "--function-zip", zip.to_str().unwrap()]);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains(says) && stderr.contains("cargo lambda build"), "{stderr}");
    }
}
