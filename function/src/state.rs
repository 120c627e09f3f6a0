//! Shared handler state: the DynamoDB client (with deliberately bounded retries) and the three table names.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;

use crate::contract::{CARTS_TABLE_ENV, ORDERS_TABLE_ENV, PRODUCTS_TABLE_ENV};

#[derive(Clone, Debug)]
pub struct TableNames {
    pub products: String,
    pub carts: String,
    pub orders: String,
}

#[derive(Clone, Debug)]
pub struct AppState {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub tables: TableNames,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "environment variable {0} is not set (or empty); set {products}, {carts} and {orders} to the \
     DynamoDB table names, e.g. shopsmart-dev-products",
    products = PRODUCTS_TABLE_ENV,
    carts = CARTS_TABLE_ENV,
    orders = ORDERS_TABLE_ENV
)]
pub struct MissingTableVariable(pub &'static str);

impl TableNames {
    pub fn from_env() -> Result<Self, MissingTableVariable> {
        let read = |name: &'static str| match std::env::var(name) {
            Ok(value) if !value.trim().is_empty() => Ok(value.trim().to_string()),
            _ => Err(MissingTableVariable(name)),
        };
        Ok(TableNames {
            products: read(PRODUCTS_TABLE_ENV)?,
            carts: read(CARTS_TABLE_ENV)?,
            orders: read(ORDERS_TABLE_ENV)?,
        })
    }
}

/// Attempts per DynamoDB call (the first plus two retries). The SDK retries throttles
/// (`ProvisionedThroughputExceededException`, ...) and 5xx itself, in standard mode.
pub const DYNAMODB_MAX_ATTEMPTS: u32 = 3;
/// Backoff before a retry: random up to 100 ms, then up to 200 ms (standard mode: exponential with full
/// jitter, capped at [`DYNAMODB_MAX_BACKOFF`]).
pub const DYNAMODB_INITIAL_BACKOFF: Duration = Duration::from_millis(100);
pub const DYNAMODB_MAX_BACKOFF: Duration = Duration::from_secs(1);
/// One DynamoDB call, all its attempts included, is cut after this long.
pub const DYNAMODB_OPERATION_TIMEOUT: Duration = Duration::from_secs(2);
/// The most DynamoDB calls one request makes one after another (checkout: Query, BatchGetItem,
/// TransactWriteItems, GetItem).
pub const MAX_CALLS_PER_REQUEST: u32 = 4;

/// The function's retry policy, set on purpose rather than inherited (the SDK's default waits up to 1 s, then
/// 2 s, between attempts: 4 calls could outlast a 10 s Lambda). A throttle costs a call at most 0.3 s of
/// backoff, so a request DynamoDB keeps throttling answers 503 `busy` in about a second; waiting longer
/// is the client's job (`Retry-After`), where it bills no Lambda time. A hung call is cut at 2 s: 4 calls
/// stay inside the function's 10 s timeout.
pub fn with_bounded_retries(
    builder: aws_sdk_dynamodb::config::Builder,
) -> aws_sdk_dynamodb::config::Builder {
    builder
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(DYNAMODB_MAX_ATTEMPTS)
                .with_initial_backoff(DYNAMODB_INITIAL_BACKOFF)
                .with_max_backoff(DYNAMODB_MAX_BACKOFF),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(DYNAMODB_OPERATION_TIMEOUT)
                .build(),
        )
}

/// The client the function uses: the SDK configuration with [`with_bounded_retries`].
pub fn dynamodb_client(sdk_config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    let config = with_bounded_retries(aws_sdk_dynamodb::config::Builder::from(sdk_config));
    aws_sdk_dynamodb::Client::from_conf(config.build())
}

impl AppState {
    pub fn new(dynamodb: aws_sdk_dynamodb::Client, tables: TableNames) -> Self {
        AppState { dynamodb, tables }
    }

    pub fn from_env(sdk_config: &SdkConfig) -> Result<Self, MissingTableVariable> {
        Ok(Self::new(
            dynamodb_client(sdk_config),
            TableNames::from_env()?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever a throttle costs in backoff, a request's calls end inside the function's 10 s timeout
    /// (shopsmart.yaml's default `function.timeout_s`).
    #[test]
    fn a_request_ends_inside_the_lambda_timeout() {
        let sdk = SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        let client = dynamodb_client(&sdk);
        let config = client.config();
        let retry = config.retry_config().expect("a retry config is set");
        assert_eq!(retry.max_attempts(), DYNAMODB_MAX_ATTEMPTS);
        assert_eq!(retry.initial_backoff(), DYNAMODB_INITIAL_BACKOFF);
        assert_eq!(retry.max_backoff(), DYNAMODB_MAX_BACKOFF);
        let timeouts = config.timeout_config().expect("a timeout config is set");
        assert_eq!(
            timeouts.operation_timeout(),
            Some(DYNAMODB_OPERATION_TIMEOUT)
        );
        // products.rs pauses 20 << attempt ms between UnprocessedKeys rounds: 40 + 80 + 160 + 320 ms.
        let unprocessed_pauses = Duration::from_millis(600);
        assert!(
            DYNAMODB_OPERATION_TIMEOUT * MAX_CALLS_PER_REQUEST + unprocessed_pauses
                <= Duration::from_secs(10)
        );
        // A throttled call: the backoffs of its retries, at most 100 ms then 200 ms.
        let throttle_backoff = (1..DYNAMODB_MAX_ATTEMPTS)
            .map(|retry| (DYNAMODB_INITIAL_BACKOFF * 2u32.pow(retry - 1)).min(DYNAMODB_MAX_BACKOFF))
            .sum::<Duration>();
        assert_eq!(throttle_backoff, Duration::from_millis(300));
    }
}
