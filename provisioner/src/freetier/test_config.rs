//! The shipped default configuration (as `shopsmart.yaml` describes it), for the unit tests of this module.

use std::path::Path;

use crate::config::model::Config;

/// Every key left at its default, in eu-central-1: 128 MB arm64, 7 days of log retention, 1 RCU / 1 WCU per
/// table, throttled API: the free default.
pub(crate) fn free_config() -> Config {
    crate::config::parse("region: eu-central-1", Path::new("freetier/test_config.rs"))
        .expect("the defaults are valid")
}

/// Fails, showing `text`, when `text` does not contain `part`.
#[track_caller]
pub(crate) fn assert_contains(text: &str, part: &str) {
    assert!(text.contains(part), "missing {part:?} in:\n{text}");
}
