//! The worst case: a public API can be called by anyone, as fast as the stage's throttle lets through. A
//! month of that, priced like `cost` (API requests, Lambda at the configured memory, logs, data transfer),
//! once at the estimate's average duration and once with every request running until the function's timeout.

use serde::Serialize;

use super::estimate::{monthly, Assumptions};
use super::money::{format_usd, group_thousands};
use super::prices::PriceSheet;
use crate::config::model::Config;

/// What a flood at the throttle would bill in a month (what credits or a 12-month offer would pay included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorstCase {
    pub rate_per_second: u32,
    pub requests_per_month: u64,
    pub typical_cents: u64,
    pub at_timeout_cents: u64,
    /// S3 GET requests cannot be throttled: the price of a million beyond the free ones.
    pub website_get_per_million_cents: u64,
    /// With `website.https`: CloudFront cannot be throttled without WAF; what a flood of it would bill.
    pub cloudfront: Option<String>,
}

/// `None` for an unthrottled API (the guard refuses that on its own).
pub fn worst_case(config: &Config) -> Option<WorstCase> {
    let throttle = config.api.throttle?;
    let prices = PriceSheet::current();
    // The estimate's month (the price file's hours_per_month), in seconds.
    let requests = u64::from(throttle.rate_per_second) * prices.hours_per_month * 3_600;
    // A flood of API calls, not of page views: no website traffic with it.
    let flood = Assumptions {
        api_requests_per_page_view: u64::MAX,
        ..Assumptions::default()
    };
    let bill = |assumptions: &Assumptions| {
        let total = monthly(config, requests, assumptions).total;
        total.billed_cents + total.twelve_month_or_credit_cents
    };
    let at_timeout = Assumptions {
        avg_duration_ms: u64::from(config.function.timeout_s) * 1000,
        ..flood.clone()
    };
    let get = &prices.s3.get_request;
    Some(WorstCase {
        rate_per_second: throttle.rate_per_second,
        requests_per_month: requests,
        typical_cents: bill(&flood),
        at_timeout_cents: bill(&at_timeout),
        website_get_per_million_cents: (get.nano_usd_for(1_000_000) / 10_000_000) as u64,
        cloudfront: config
            .website
            .https
            .then(|| super::estimate::cloudfront_flood_sentence(prices)),
    })
}

impl WorstCase {
    pub fn sentence(&self) -> String {
        let sentence = format!(
            "worst case if flooded: the API's throttle lets through {} requests a second, {} a month, which would \
             bill about {} (about {} if every request ran until the function's timeout). The website's bucket \
             cannot be throttled: each million GETs beyond the free ones costs {}.",
            self.rate_per_second,
            group_thousands(self.requests_per_month),
            format_usd(self.typical_cents),
            format_usd(self.at_timeout_cents),
            format_usd(self.website_get_per_million_cents)
        );
        match &self.cloudfront {
            Some(cloudfront) => format!("{sentence} {cloudfront}"),
            None => sentence,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::freetier::test_config::free_config;

    fn at_rate(rate_per_second: u32) -> WorstCase {
        let mut config = free_config();
        config.api.throttle = Some(crate::config::model::Throttle {
            rate_per_second,
            burst: 10,
        });
        worst_case(&config).unwrap()
    }

    /// By hand, the shipped default: 3 requests/s × 2,628,000 s = 7,884,000 requests (128 MB arm64, 10 s
    /// timeout, 2 KB payload, 512 log bytes a request kept 7 days; us-east-1 prices of data/free-tier.yaml).
    /// - HTTP API: 1M free for 12 months ($1.00), then 6,884,000 × $1.00/M = $6.884 → 688 cents.
    /// - Lambda requests: 1M always free, 6,884,000 × $0.20/M = $1.3768 → 138 cents; 7.884M × 0.05 s ×
    ///   0.125 GB = 49,275 GB-s, inside the free 400,000.
    /// - Logs: 7,884,000 × 512 B = 3,849 MB ingested, inside the free 5 GB.
    ///
    /// Sum: 100 + 688 + 138 = 926 cents, under the default `guard.max_worst_case_usd` of $10. At the timeout:
    /// 7.884M × 10 s × 0.125 GB = 9,855,000 GB-s, 9,455,000 beyond the free 400,000 × $0.0000133334 =
    /// $126.07, so about 926 + 12,607 = 13,533 cents.
    #[test]
    fn a_flood_at_the_shipped_throttle_fits_the_default_limit() {
        let worst = worst_case(&free_config()).unwrap();
        assert_eq!(worst.rate_per_second, 3);
        assert_eq!(worst.requests_per_month, 7_884_000);
        assert_eq!(worst.typical_cents, 926);
        assert!(worst.at_timeout_cents.abs_diff(13_533) <= 1, "{worst:?}");
        assert!(worst.typical_cents <= free_config().guard.max_worst_case_cents);
    }

    /// By hand at 10 requests/s: 10 × 2,628,000 s = 26,280,000 requests.
    /// - HTTP API: 1M free for 12 months ($1.00), then 25,280,000 × $1.00/M = $25.28.
    /// - Lambda requests: 1M always free, 25,280,000 × $0.20/M = $5.056; 26.28M × 0.05 s × 0.125 GB =
    ///   164,250 GB-s, inside the free 400,000.
    /// - Logs: 26,280,000 × 512 B = 12,832 MB = 12.531 GB ingested, 5 GB free: 7.531 × $0.50 = $3.766; 2,994 MB
    ///   (2.924 GB) stored × $0.03 = $0.088; $3.853.
    /// - Data transfer 51,328 MB (50.1 GB) is inside the free 100 GB; the tables' capacity is free.
    ///
    /// Sum: 100 + 2,528 + 506 + 385 = 3,519 cents. At the timeout: 26.28M × 10 s × 0.125 GB = 32,850,000 GB-s,
    /// 32,450,000 beyond the free 400,000 × $0.0000133334 = $432.67, so about 3,519 + 43,267 = 46,786 cents.
    #[test]
    fn a_flood_at_ten_requests_a_second() {
        let worst = at_rate(10);
        assert_eq!(worst.rate_per_second, 10);
        assert_eq!(worst.requests_per_month, 26_280_000);
        assert_eq!(worst.typical_cents, 3_519);
        assert!(worst.at_timeout_cents.abs_diff(46_786) <= 1, "{worst:?}");
        assert_eq!(worst.website_get_per_million_cents, 40);
        let sentence = worst.sentence();
        assert!(
            sentence.contains("26,280,000 a month") && sentence.contains("$35.19"),
            "{sentence}"
        );
    }

    /// With `website.https` the API's flood goes through CloudFront: 7,884,000 requests and 7,884,000 x 2 KB
    /// = 15 GB are inside its free 10,000,000 requests and 1 TB, so the bill is the same 926 cents; the
    /// sentence adds that CloudFront itself cannot be throttled without WAF, and the price of a flood.
    #[test]
    fn with_https_the_worst_case_says_cloudfront_cannot_be_throttled() {
        let mut config = free_config();
        config.website.https = true;
        let worst = worst_case(&config).unwrap();
        assert_eq!(worst.typical_cents, 926);
        let sentence = worst.sentence();
        for part in [
            "without AWS WAF",
            "100,000,000 requests of 10 KB",
            "about $90.00",
        ] {
            assert!(sentence.contains(part), "{part}: {sentence}");
        }
        assert_eq!(worst_case(&free_config()).unwrap().cloudfront, None);
    }

    #[test]
    fn an_unthrottled_api_has_no_bound() {
        let mut config = free_config();
        config.api.throttle = None;
        assert_eq!(worst_case(&config), None);
    }
}
