//! The shipped default configuration (as `shopsmart.yaml` describes it), for the unit tests of this module.

use std::path::Path;

use crate::config::model::Config;

/// Every key left at its default, in eu-central-1: 128 MB arm64, 7 days of log retention, the shipped
/// capacity (products 3 RCU / 2 WCU, carts 3 / 3, orders 1 / 1: 7 RCU + 6 WCU), throttled API: the free default.
pub(crate) fn free_config() -> Config {
    crate::config::parse("region: eu-central-1", Path::new("freetier/test_config.rs"))
        .expect("the defaults are valid")
}

/// [`free_config`] with 1 RCU / 1 WCU per table (3 + 3): the figures worked out by hand in the tests.
pub(crate) fn one_unit_config() -> Config {
    let mut config = free_config();
    let one = crate::config::model::Capacity { read: 1, write: 1 };
    config.tables.billing = crate::config::model::Billing::Provisioned {
        products: one,
        carts: one,
        orders: one,
    };
    config
}

/// Fails, showing `text`, when `text` does not contain `part`.
#[track_caller]
pub(crate) fn assert_contains(text: &str, part: &str) {
    assert!(text.contains(part), "missing {part:?} in:\n{text}");
}
