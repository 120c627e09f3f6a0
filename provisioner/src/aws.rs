//! One place that turns the learner's AWS settings (credential chain, profile, region, endpoint) into SDK
//! clients. Tests pass extra interceptors (to count calls or inject faults) through `Clients::new`.

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;

/// Where and as whom to talk to AWS, from the global flags.
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    pub region: String,
    pub profile: Option<String>,
    /// `--endpoint-url`; `AWS_ENDPOINT_URL` is read by the SDK itself when this is `None`.
    pub endpoint_url: Option<String>,
    /// Send the fixed dummy credentials an emulator accepts instead of the credential chain's (`dev`):
    /// real credentials are never needed there, so they are never sent there.
    pub emulator_credentials: bool,
    /// One attempt per call instead of the standard retries: for reads a verb can do without (`cost`'s look
    /// at the account), so that no network means a note at once rather than seconds of backoff.
    pub single_attempt: bool,
}

/// The one region of the Free Tier API's endpoint (freetier.us-east-1.api.aws).
pub const FREETIER_REGION: &str = "us-east-1";

/// The access key id and secret `dev` sends to the emulator (and gives the local API).
pub const EMULATOR_CREDENTIAL: &str = "testing";

/// Loads the SDK configuration: the standard credential chain (env, profile, SSO, ...), the standard retry
/// mode (throttling and 5xx are retried with backoff by the SDK itself), and the endpoint override if any.
pub async fn load_sdk_config(settings: &AwsSettings) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new(settings.region.clone()))
        .retry_config(
            RetryConfig::standard().with_max_attempts(if settings.single_attempt { 1 } else { 5 }),
        );
    if settings.emulator_credentials {
        loader = loader.credentials_provider(aws_sdk_sts::config::Credentials::new(
            EMULATOR_CREDENTIAL,
            EMULATOR_CREDENTIAL,
            None,
            None,
            "shopsmart-emulator",
        ));
    } else if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(endpoint) = &settings.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    loader.load().await
}

#[derive(Clone, Debug)]
pub struct Clients {
    pub iam: aws_sdk_iam::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub apigateway: aws_sdk_apigatewayv2::Client,
    pub s3: aws_sdk_s3::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub sts: aws_sdk_sts::Client,
    pub budgets: aws_sdk_budgets::Client,
    pub cloudfront: aws_sdk_cloudfront::Client,
    /// The Free Tier API: its one endpoint is in us-east-1, whatever the stack's region.
    pub freetier: aws_sdk_freetier::Client,
    /// Whether an emulator endpoint is in use (S3 then needs path-style addressing).
    pub custom_endpoint: bool,
    /// Where the clients' credentials come from (whether they carry a session token tells what an
    /// opt-in region's refusal of them may mean: `freetier::existing_tables`).
    pub credentials: Option<aws_sdk_dynamodb::config::SharedCredentialsProvider>,
}

impl Clients {
    pub fn new(sdk: &SdkConfig, interceptors: &[SharedInterceptor]) -> Self {
        macro_rules! client {
            ($krate:ident $(, $setting:ident($value:expr))?) => {{
                let mut builder = $krate::config::Builder::from(sdk)$(.$setting($value))?;
                for interceptor in interceptors {
                    builder.push_interceptor(interceptor.clone());
                }
                $krate::Client::from_conf(builder.build())
            }};
        }
        // An endpoint other than AWS's own is an emulator such as moto.
        let custom_endpoint = sdk.endpoint_url().is_some();
        let freetier_region = aws_config::Region::from_static(FREETIER_REGION);
        // An emulator has no Free Tier API (moto answers 500): asked once, not retried.
        let freetier_retries = if custom_endpoint {
            RetryConfig::disabled()
        } else {
            sdk.retry_config()
                .cloned()
                .unwrap_or_else(RetryConfig::standard)
        };
        Self {
            iam: client!(aws_sdk_iam),
            dynamodb: client!(aws_sdk_dynamodb),
            lambda: client!(aws_sdk_lambda),
            apigateway: client!(aws_sdk_apigatewayv2),
            // Emulators on 127.0.0.1 cannot serve virtual-hosted bucket names; real S3 prefers them.
            s3: client!(aws_sdk_s3, force_path_style(custom_endpoint)),
            logs: client!(aws_sdk_cloudwatchlogs),
            sts: client!(aws_sdk_sts),
            budgets: client!(aws_sdk_budgets),
            cloudfront: client!(aws_sdk_cloudfront),
            freetier: {
                let mut builder = aws_sdk_freetier::config::Builder::from(sdk)
                    .region(freetier_region)
                    .retry_config(freetier_retries);
                for interceptor in interceptors {
                    builder.push_interceptor(interceptor.clone());
                }
                aws_sdk_freetier::Client::from_conf(builder.build())
            },
            custom_endpoint,
            credentials: sdk.credentials_provider(),
        }
    }
}
