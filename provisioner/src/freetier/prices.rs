//! The Free Tier allowances and list prices, from `provisioner/data/free-tier.yaml`. The file is embedded in
//! the binary (so the tool works offline) and parsed once; a unit test proves the shipped file parses.

use std::sync::OnceLock;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use crate::config::model::Architecture;

/// The data file as shipped (one place to update figures, with its date and sources).
pub const EMBEDDED_PRICE_FILE: &str = include_str!("../../data/free-tier.yaml");

/// A list price: `micro_usd` for `per` units (so "$0.0000133334 per GB-s" stays exact as 13,333,400 per
/// 1,000,000 GB-s). Never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub micro_usd: u64,
    pub per: u64,
}

impl Price {
    /// Cost in nano-dollars of `numerator / denominator` units (a fractional quantity such as MB-ms expressed
    /// in GB-s), rounded down: the error is under one nano-dollar per line, far below the final cent rounding.
    pub fn nano_usd(&self, numerator: u128, denominator: u128) -> u128 {
        numerator * u128::from(self.micro_usd) * 1_000 / (denominator * u128::from(self.per))
    }

    /// Cost in nano-dollars of a whole number of units.
    pub fn nano_usd_for(&self, units: u64) -> u128 {
        self.nano_usd(u128::from(units), 1)
    }
}

/// The file's sections: plain data, and a key the section does not know is an error.
macro_rules! sections {
    ($($name:ident { $($(#[$doc:meta])* $field:ident: $type:ty,)* })*) => {$(
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$doc])* pub $field: $type,)*
        }
    )*};
}

sections! {
    PriceSheet {
        /// The day the figures were last checked against `sources` (YYYY-MM-DD).
        as_of: String,
        /// Whether the figures were compared with AWS's pages on `as_of`, and what was and was not.
        checked_against_aws: bool,
        verification: String,
        priced_region: String,
        sources: Vec<String>,
        credits: Credits,
        hours_per_month: u64,
        lambda: LambdaPrices,
        http_api: HttpApiPrices,
        dynamodb: DynamoDbPrices,
        cloudwatch_logs: LogsPrices,
        s3: S3Prices,
        data_transfer: DataTransferPrices,
        cloudfront: CloudFrontPrices,
    }

    Credits {
        /// Accounts opened on or after this day get credits instead of 12-month offers.
        new_accounts_since: String,
        signup_credit_cents: u64,
        activity_credit_cents: u64,
        free_plan_months: u32,
        /// Credits expire this many months after they were granted, used or not.
        credit_valid_months: u32,
    }

    PerArchitecture {
        arm64: Price,
        x86_64: Price,
    }

    LambdaPrices {
        request: Price,
        duration_gb_second: PerArchitecture,
        provisioned_concurrency_gb_second: PerArchitecture,
        always_free: LambdaFree,
    }

    LambdaFree {
        requests: u64,
        gb_seconds: u64,
    }

    HttpApiPrices {
        request: Price,
        metering_increment_kb: u64,
        twelve_month_free: HttpApiFree,
    }

    HttpApiFree {
        requests: u64,
    }

    DynamoDbPrices {
        read_capacity_unit_hour: Price,
        write_capacity_unit_hour: Price,
        on_demand_read_request_unit: Price,
        on_demand_write_request_unit: Price,
        storage_gb_month: Price,
        always_free: DynamoDbFree,
    }

    DynamoDbFree {
        read_capacity_units: u64,
        write_capacity_units: u64,
        storage_gb: u64,
    }

    LogsPrices {
        ingestion_gb: Price,
        storage_gb_month: Price,
        always_free: LogsFree,
    }

    LogsFree {
        data_gb: u64,
    }

    S3Prices {
        storage_gb_month: Price,
        get_request: Price,
        put_request: Price,
        twelve_month_free: S3Free,
    }

    S3Free {
        storage_gb: u64,
        get_requests: u64,
        put_requests: u64,
    }

    DataTransferPrices {
        out_to_internet_gb: Price,
        always_free: DataTransferFree,
    }

    DataTransferFree {
        out_gb: u64,
    }

    CloudFrontPrices {
        out_to_internet_gb: Price,
        https_request: Price,
        always_free: CloudFrontFree,
    }

    CloudFrontFree {
        out_gb: u64,
        requests: u64,
    }
}

impl PerArchitecture {
    pub fn for_architecture(&self, architecture: Architecture) -> Price {
        match architecture {
            Architecture::Arm64 => self.arm64,
            Architecture::X86_64 => self.x86_64,
        }
    }
}

impl PriceSheet {
    /// Parses and checks a price file: dates must be YYYY-MM-DD and no price may be "per 0 units".
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let sheet: PriceSheet =
            serde_yaml::from_str(text).context("parsing the Free Tier price file")?;
        let date = time::macros::format_description!("[year]-[month]-[day]");
        for (field, value) in [
            ("as_of", &sheet.as_of),
            (
                "credits.new_accounts_since",
                &sheet.credits.new_accounts_since,
            ),
        ] {
            time::Date::parse(value, date).with_context(|| {
                format!("price file field `{field}` is `{value}`, expected a date like 2026-11-01")
            })?;
        }
        for (field, price) in sheet.all_prices() {
            if price.per == 0 {
                bail!("price file field `{field}` has `per: 0`; it must name how many units `micro_usd` pays for");
            }
        }
        if sheet.hours_per_month == 0 || sheet.http_api.metering_increment_kb == 0 {
            bail!("price file: `hours_per_month` and `http_api.metering_increment_kb` must be above 0");
        }
        Ok(sheet)
    }

    /// The embedded price file, parsed once. It cannot fail at run time: the unit test
    /// `the_embedded_price_file_parses` fails the build's tests first.
    pub fn current() -> &'static PriceSheet {
        static SHEET: OnceLock<PriceSheet> = OnceLock::new();
        SHEET.get_or_init(|| {
            PriceSheet::parse(EMBEDDED_PRICE_FILE)
                .expect("the embedded data/free-tier.yaml is checked by unit tests")
        })
    }

    /// Every price with its path in the file, for messages.
    fn all_prices(&self) -> [(&'static str, Price); 13] {
        macro_rules! named {
            ($($($field:ident).+),* $(,)?) => { [$((stringify!($($field).+), self.$($field).+)),*] };
        }
        named![
            lambda.request,
            lambda.duration_gb_second.arm64,
            lambda.duration_gb_second.x86_64,
            lambda.provisioned_concurrency_gb_second.arm64,
            lambda.provisioned_concurrency_gb_second.x86_64,
            http_api.request,
            dynamodb.read_capacity_unit_hour,
            dynamodb.write_capacity_unit_hour,
            dynamodb.storage_gb_month,
            cloudwatch_logs.ingestion_gb,
            s3.get_request,
            s3.put_request,
            data_transfer.out_to_internet_gb,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_price_file_parses() {
        let sheet = PriceSheet::parse(EMBEDDED_PRICE_FILE).unwrap();
        assert_eq!(sheet.as_of, "2026-11-01");
        assert!(!sheet.sources.is_empty());
        // The allowances the guard and the estimate are built around (the always-free and 12-month figures
        // AWS publishes), pinned so that an accidental edit of the price file is caught.
        assert_eq!(sheet.lambda.always_free.requests, 1_000_000);
        assert_eq!(sheet.lambda.always_free.gb_seconds, 400_000);
        assert_eq!(sheet.dynamodb.always_free.read_capacity_units, 25);
        assert_eq!(sheet.dynamodb.always_free.write_capacity_units, 25);
        assert_eq!(sheet.dynamodb.always_free.storage_gb, 25);
        assert_eq!(sheet.cloudwatch_logs.always_free.data_gb, 5);
        assert_eq!(sheet.http_api.twelve_month_free.requests, 1_000_000);
        assert_eq!(sheet.s3.twelve_month_free.get_requests, 20_000);
        assert_eq!(sheet.s3.twelve_month_free.put_requests, 2_000);
        assert_eq!(sheet.credits.new_accounts_since, "2025-07-15");
        assert_eq!(PriceSheet::current(), &sheet);
    }

    #[test]
    fn fractional_prices_stay_exact() {
        // $0.0000133334 per GB-s: 1,000,000 GB-s cost exactly $13.3334 = 13,333,400,000 nano-dollars.
        let arm = Price {
            micro_usd: 13_333_400,
            per: 1_000_000,
        };
        assert_eq!(arm.nano_usd_for(1_000_000), 13_333_400_000);
        // 640,000,000 MB-ms = 625 GB-s (1 GB-s = 1,024 MB x 1,000 ms) -> 625 x 13,333.4 = 8,333,375 nano-dollars.
        assert_eq!(arm.nano_usd(640_000_000, 1_024_000), 8_333_375);
    }

    #[test]
    fn a_broken_price_file_is_refused_with_the_field_name() {
        let zero_per = EMBEDDED_PRICE_FILE.replace(
            "{ micro_usd: 200000, per: 1000000 }",
            "{ micro_usd: 200000, per: 0 }",
        );
        let error = PriceSheet::parse(&zero_per).unwrap_err().to_string();
        assert!(error.contains("lambda.request"), "{error}");
        let sheet = PriceSheet::current();
        assert_eq!(
            sheet.all_prices()[3],
            (
                "lambda.provisioned_concurrency_gb_second.arm64",
                sheet.lambda.provisioned_concurrency_gb_second.arm64
            )
        );

        let bad_date = EMBEDDED_PRICE_FILE.replace("as_of: \"2026-11-01\"", "as_of: \"November\"");
        let error = PriceSheet::parse(&bad_date).unwrap_err().to_string();
        assert!(error.contains("as_of"), "{error}");

        let float_price = EMBEDDED_PRICE_FILE.replace("micro_usd: 130,", "micro_usd: 0.13,");
        assert!(
            PriceSheet::parse(&float_price).is_err(),
            "a float price must be refused"
        );
    }
}
