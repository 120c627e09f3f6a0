//! Values written in more than one file of the workspace, outside any crate's reach, checked to agree.

use std::path::PathBuf;

/// A file of the workspace, by its path from the workspace root.
fn read_workspace_file(path: &str) -> String {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| {
        panic!(
            "reading {path} ({}): {e}; if it moved, update workspace_files.rs",
            full.display()
        )
    })
}

/// The text between `start` and the next `"` on the first line containing `start`.
fn quoted_after<'a>(text: &'a str, start: &str, path: &str) -> &'a str {
    let from = text.find(start).unwrap_or_else(|| {
        panic!("{path} no longer contains `{start}`; update workspace_files.rs")
    }) + start.len();
    let rest = &text[from..];
    &rest[..rest
        .find('"')
        .unwrap_or_else(|| panic!("no closing quote after `{start}` in {path}"))]
}

#[test]
fn tests_and_dev_pin_the_same_moto_version() {
    const RUN: &str = "tests/run";
    const EMULATOR: &str = "provisioner/src/dev/emulator.rs";
    let run = read_workspace_file(RUN);
    let emulator = read_workspace_file(EMULATOR);
    let for_tests = quoted_after(&run, "moto_version=\"", RUN);
    let for_dev = quoted_after(&emulator, "\"moto[server]==", EMULATOR);
    assert!(
        !for_tests.is_empty() && for_tests.chars().all(|c| c.is_ascii_digit() || c == '.'),
        "moto_version in {RUN} is not a version: '{for_tests}'"
    );
    assert_eq!(
        for_tests, for_dev,
        "{RUN} installs moto {for_tests} for the tests but `dev` installs moto {for_dev} \
         ({EMULATOR}, MOTO_REQUIREMENT): change the two files together, so what the tests prove \
         holds for the emulator learners run"
    );
}
