//! The shipped default configuration (as `shopsmart.yaml` describes it), for the unit tests of this module.

use std::collections::BTreeMap;

use crate::config::model::*;

/// 128 MB arm64, 7 days of log retention, 1 RCU / 1 WCU per table, throttled API: the free default.
pub(crate) fn free_config() -> Config {
    let capacity = Capacity { read: 1, write: 1 };
    Config {
        source: "freetier/test_config.rs".into(),
        project: "shopsmart".into(),
        stage: "dev".into(),
        region: "eu-central-1".into(),
        tags: BTreeMap::new(),
        function: FunctionConfig {
            memory_mb: 128,
            timeout_s: 10,
            architecture: Architecture::Arm64,
            log_retention_days: Some(7),
            reserved_concurrency: None,
            provisioned_concurrency: None,
        },
        tables: TablesConfig {
            billing: Billing::Provisioned {
                products: capacity,
                carts: capacity,
                orders: capacity,
            },
        },
        api: ApiConfig {
            throttle: Some(Throttle {
                rate_per_second: 10,
                burst: 20,
            }),
            extra_cors_origins: vec![],
        },
        website: WebsiteConfig {
            index_document: "index.html".into(),
            error_document: "index.html".into(),
        },
        products: vec![],
        alerts: None,
    }
}

/// Fails, showing `text`, when `text` does not contain `part`.
#[track_caller]
pub(crate) fn assert_contains(text: &str, part: &str) {
    assert!(text.contains(part), "missing {part:?} in:\n{text}");
}
