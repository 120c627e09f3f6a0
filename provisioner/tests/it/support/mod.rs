//! Shared by the provisioner's integration tests: a stack context against moto (reached through
//! `AWS_ENDPOINT_URL`, which `tests/run` sets), unique stage names, an interceptor that records every
//! AWS operation the SDK sends, the test configurations, and set-ups several topics need. The binary is run
//! through `cli`; AWS faults moto does not make are injected through `faults`.

pub mod cli;
pub mod faults;
pub mod resources;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextMut, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::{Intercept, SharedInterceptor};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use shopsmart_deploy::aws::{load_sdk_config, AwsSettings, Clients};
use shopsmart_deploy::config::model::*;
use shopsmart_deploy::names::TableKind;
use shopsmart_deploy::resources::{function_code, Ctx, Mode};
use shopsmart_deploy::stack::StackOptions;

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
                rate_per_second: 3,
                burst: 10,
            }),
            extra_cors_origins: vec![],
        },
        website: WebsiteConfig {
            index_document: "index.html".into(),
            error_document: "index.html".into(),
            https: false,
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
        guard: GuardConfig {
            max_worst_case_cents: 1000,
        },
    }
}

/// A moto account of the test's own. moto keeps one state per account id and takes it from the request's
/// `x-moto-account-id` header, else from the access key (one created by IAM CreateAccessKey belongs to the
/// account it was created in), else its default 123456789012 that the other tests share. What counts the
/// whole account (the Free Tier guard) needs one: other tests' tables are then not in it.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    /// An access key of this account, for the binary (which sends no header).
    pub access_key_id: String,
}

impl Account {
    /// A fresh account id, with an IAM user and access key in it.
    pub async fn new() -> Self {
        let digits = uuid::Uuid::new_v4().as_u128() % 1_000_000_000_000;
        let id = format!("{:012}", digits.max(1));
        let iam = clients("us-east-1", &[AccountHeader(id.clone()).into()])
            .await
            .iam;
        iam.create_user()
            .user_name("shopsmart-test")
            .send()
            .await
            .unwrap();
        let key = iam
            .create_access_key()
            .user_name("shopsmart-test")
            .send()
            .await
            .unwrap();
        Self {
            id,
            access_key_id: key.access_key().unwrap().access_key_id().to_owned(),
        }
    }

    /// Sends every request of clients that carry it to this account.
    pub fn interceptor(&self) -> SharedInterceptor {
        AccountHeader(self.id.clone()).into()
    }

    /// [`ctx`] in this account.
    pub async fn ctx(&self, config: Config, mode: Mode, interceptors: &[SharedInterceptor]) -> Ctx {
        let mut all = interceptors.to_vec();
        all.push(self.interceptor());
        Ctx {
            account_id: self.id.clone(),
            ..ctx(config, mode, &all).await
        }
    }
}

/// Adds `x-moto-account-id` to every request.
#[derive(Debug, Clone)]
struct AccountHeader(String);

impl From<AccountHeader> for SharedInterceptor {
    fn from(header: AccountHeader) -> Self {
        SharedInterceptor::new(header)
    }
}

impl Intercept for AccountHeader {
    fn name(&self) -> &'static str {
        "AccountHeader"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        context
            .request_mut()
            .headers_mut()
            .insert("x-moto-account-id", self.0.clone());
        Ok(())
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

    /// Calls that can change AWS: everything but Get*/BatchGet*/List*/Describe*/Head*/Scan/Query.
    pub fn mutating_calls(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|call| {
                let operation = call.rsplit('.').next().unwrap_or(call);
                ![
                    "Get", "BatchGet", "List", "Describe", "Head", "Scan", "Query",
                ]
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
        single_attempt: false,
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
        notes: Default::default(),
        guard_reads: Default::default(),
        buckets: Default::default(),
    }
}

/// The repository root (where `shopsmart.yaml`, `function/` and `frontend/` are).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The shipped `shopsmart.yaml` at the repository root (the binary finds `frontend/` beside it).
pub fn shipped_config() -> std::path::PathBuf {
    repo_root().join("shopsmart.yaml")
}

/// A loopback port nothing listens on at the moment.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Someone else's DynamoDB table: `name` (one of ours), keyed by `hash_key`, on demand, WITHOUT our stack tag.
pub async fn create_untagged_table(ctx: &Ctx, name: &str, hash_key: &str) {
    ctx.aws
        .dynamodb
        .create_table()
        .table_name(name)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(hash_key)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(hash_key)
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
}

/// A Lambda zip for tests: moto stores the code and never runs it, so nothing needs compiling. Its bootstrap
/// is the ELF header of an arm64 binary (the test configurations' architecture): what `--function-zip` checks.
pub fn write_test_zip(dir: &std::path::Path) -> std::path::PathBuf {
    let zip = dir.join("function.zip");
    std::fs::write(
        &zip,
        function_code::zip_bootstrap(&elf_header(0xB7)).unwrap(),
    )
    .unwrap();
    zip
}

/// The 64-byte header of a Linux binary for ELF machine `machine` (0x3E x86_64, 0xB7 aarch64).
pub fn elf_header(machine: u16) -> Vec<u8> {
    let mut header = b"\x7fELF\x02\x01\x01".to_vec();
    header.resize(64, 0);
    header[18..20].copy_from_slice(&machine.to_le_bytes());
    header
}

/// What the CLI builds from its flags, against moto, with a prebuilt zip. Tests that share moto's default
/// account with others pass `allow_charges`: the Free Tier guard counts provisioned capacity account-wide,
/// every region (its own tests, freetier_guard.rs and day2.rs, use accounts of their own: [`Account`]).
pub fn stack_options(
    config: Config,
    zip: &std::path::Path,
    interceptors: Vec<SharedInterceptor>,
    allow_charges: bool,
) -> StackOptions {
    StackOptions {
        aws: AwsSettings {
            region: config.region.clone(),
            profile: None,
            endpoint_url: Some(endpoint()),
            emulator_credentials: false,
            single_attempt: false,
        },
        config,
        workspace_root: repo_root(),
        function_zip: Some(zip.to_path_buf()),
        reseed: false,
        interceptors,
        http_client: None,
        allow_charges,
    }
}

/// Nothing with the stack's names is left: tables, role, log group, function, HTTP API, bucket.
pub async fn assert_nothing_remains(ctx: &Ctx) {
    let names = &ctx.names;
    for kind in TableKind::ALL {
        let err = ctx
            .aws
            .dynamodb
            .describe_table()
            .table_name(names.table(kind))
            .send()
            .await
            .unwrap_err();
        assert!(err
            .as_service_error()
            .is_some_and(|e| e.is_resource_not_found_exception()));
    }
    let err = ctx
        .aws
        .iam
        .get_role()
        .role_name(names.role())
        .send()
        .await
        .unwrap_err();
    assert!(err
        .as_service_error()
        .is_some_and(|e| e.is_no_such_entity_exception()));
    let groups = ctx
        .aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(names.log_group())
        .send()
        .await
        .unwrap();
    assert!(groups
        .log_groups()
        .iter()
        .all(|g| g.log_group_name() != Some(names.log_group().as_str())));
    let err = ctx
        .aws
        .lambda
        .get_function()
        .function_name(names.function())
        .send()
        .await
        .unwrap_err();
    assert!(err
        .as_service_error()
        .is_some_and(|e| e.is_resource_not_found_exception()));
    let apis = ctx.aws.apigateway.get_apis().send().await.unwrap();
    assert!(apis
        .items()
        .iter()
        .all(|a| a.name() != Some(names.http_api().as_str())));
    let bucket = names.website_bucket(&ctx.account_id, &ctx.region);
    let err = ctx
        .aws
        .s3
        .head_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error().is_some_and(|e| e.is_not_found()),
        "{err:?}"
    );
}
