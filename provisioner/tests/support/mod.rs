//! Shared by the provisioner's integration tests: a stack context against moto (reached through
//! `AWS_ENDPOINT_URL`, which `tests/run` sets), unique stage names, and an interceptor that records every
//! AWS operation the SDK sends.
#![allow(dead_code)]

pub mod faults;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::{Intercept, SharedInterceptor};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use shopsmart_deploy::aws::{load_sdk_config, AwsSettings, Clients};
use shopsmart_deploy::config::model::*;
use shopsmart_deploy::resources::{Ctx, Mode};

/// moto's fixed account id.
pub const MOTO_ACCOUNT_ID: &str = "123456789012";

pub fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL")
        .expect("AWS_ENDPOINT_URL is not set: run tests/run (it installs and starts moto, then runs the tests)")
}

/// A stage name no other test uses, so tests can share one moto in parallel.
pub fn unique_stage() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("t{}", &id[..7])
}

/// The configuration the shipped `shopsmart.yaml` describes, for a given stage and region.
pub fn test_config(stage: &str, region: &str) -> Config {
    let capacity = Capacity { read: 1, write: 1 };
    Config {
        source: "tests/support/mod.rs".into(),
        project: "shopsmart".into(),
        stage: stage.into(),
        region: region.into(),
        tags: BTreeMap::from([("purpose".to_owned(), "learning".to_owned())]),
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
        products: vec![ProductSeed {
            id: "mug".into(),
            name: "Mug".into(),
            description: "A mug".into(),
            price_cents: 1299,
            currency: "USD".into(),
            image_url: "images/mug.svg".into(),
            stock: 10,
        }],
        alerts: None,
    }
}

/// Every AWS operation sent through clients that carry this interceptor, as `Service.Operation`.
#[derive(Debug, Clone, Default)]
pub struct CallLog {
    calls: Arc<Mutex<Vec<String>>>,
}

impl CallLog {
    pub fn interceptor(&self) -> SharedInterceptor {
        SharedInterceptor::new(self.clone())
    }

    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    pub fn clear(&self) {
        self.calls.lock().unwrap().clear();
    }

    /// Calls that can change AWS: everything but Get*/List*/Describe*/Head*.
    pub fn mutating_calls(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|call| {
                let operation = call.rsplit('.').next().unwrap_or(call);
                !["Get", "List", "Describe", "Head"]
                    .iter()
                    .any(|read| operation.starts_with(read))
            })
            .collect()
    }
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "CallLog"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(metadata) = cfg.load::<Metadata>() {
            self.calls
                .lock()
                .unwrap()
                .push(format!("{}.{}", metadata.service(), metadata.name()));
        }
        Ok(())
    }
}

pub async fn clients(region: &str, interceptors: &[SharedInterceptor]) -> Clients {
    let settings = AwsSettings {
        region: region.into(),
        profile: None,
        endpoint_url: Some(endpoint()),
        emulator_credentials: false,
    };
    let sdk = load_sdk_config(&settings).await;
    Clients::new(&sdk, interceptors)
}

pub async fn ctx(config: Config, mode: Mode, interceptors: &[SharedInterceptor]) -> Ctx {
    let aws = clients(&config.region, interceptors).await;
    Ctx {
        aws,
        names: config.names(),
        account_id: MOTO_ACCOUNT_ID.into(),
        region: config.region.clone(),
        config,
        mode,
    }
}
