//! The validated, typed configuration. Nothing here is raw: `config::load` turns `shopsmart.yaml` into this
//! (rejecting bad input with file:line:column and a hint) before any AWS call is made.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::names::StackNames;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file this was read from (for messages).
    pub source: PathBuf,
    pub project: String,
    pub stage: String,
    pub region: String,
    /// Extra tags put on every resource, besides the stack tag.
    pub tags: BTreeMap<String, String>,
    pub function: FunctionConfig,
    pub tables: TablesConfig,
    pub api: ApiConfig,
    pub website: WebsiteConfig,
    pub products: Vec<ProductSeed>,
    pub alerts: Option<AlertsConfig>,
    pub guard: GuardConfig,
}

/// Limits of the Free Tier guard beyond "no standing cost".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardConfig {
    /// The most a month of requests at the API's throttle (a flood) may bill.
    pub max_worst_case_cents: u64,
}

impl Config {
    pub fn names(&self) -> StackNames {
        StackNames::new(&self.project, &self.stage, &self.region)
    }
}

/// Read from `shopsmart.yaml` as written (`arm64` or `x86_64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    Arm64,
    #[serde(rename = "x86_64")]
    X86_64,
}

impl Architecture {
    /// The value the Lambda API uses.
    pub fn lambda_name(self) -> &'static str {
        match self {
            Architecture::Arm64 => "arm64",
            Architecture::X86_64 => "x86_64",
        }
    }

    /// The Rust target triple of the Lambda runtime for this architecture.
    pub fn rust_target(self) -> &'static str {
        match self {
            Architecture::Arm64 => "aarch64-unknown-linux-gnu",
            Architecture::X86_64 => "x86_64-unknown-linux-gnu",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FunctionConfig {
    pub memory_mb: u32,
    pub timeout_s: u32,
    pub architecture: Architecture,
    /// `None` only when the learner removed it; the Free Tier guard then refuses (logs kept forever cost money).
    pub log_retention_days: Option<u32>,
    pub reserved_concurrency: Option<u32>,
    /// Provisioned concurrency always costs money; kept so the guard can refuse it with a clear message.
    pub provisioned_concurrency: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    pub read: u32,
    pub write: u32,
}

impl Capacity {
    /// The capacity shipped in shopsmart.yaml (7 RCU + 6 WCU of the account's free 25 + 25), chosen with
    /// tests/bench/load.py (docs/benchmarks.md): about what the API's default throttle of 3 requests a second
    /// lets shoppers use (an order is 7 requests: 6 RCU and 6 WCU on carts, 6 RCU and 4 WCU on products, 2 WCU
    /// on orders), sized to the routes' measured use (`shopsmart_function::contract::capacity`).
    pub const fn shipped(kind: crate::names::TableKind) -> Capacity {
        use crate::names::TableKind::*;
        match kind {
            Products => Capacity { read: 3, write: 2 },
            Carts => Capacity { read: 3, write: 3 },
            Orders => Capacity { read: 1, write: 1 },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Billing {
    /// Capacity per table: products, carts, orders.
    Provisioned {
        products: Capacity,
        carts: Capacity,
        orders: Capacity,
    },
    OnDemand,
}

impl Billing {
    pub fn capacity(&self, kind: crate::names::TableKind) -> Option<Capacity> {
        use crate::names::TableKind::*;
        match self {
            Billing::Provisioned {
                products,
                carts,
                orders,
            } => Some(match kind {
                Products => *products,
                Carts => *carts,
                Orders => *orders,
            }),
            Billing::OnDemand => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TablesConfig {
    pub billing: Billing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    /// Steady-state requests per second.
    pub rate_per_second: u32,
    pub burst: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConfig {
    /// `None` only when the learner removed it; the Free Tier guard then refuses (an unthrottled API can bill).
    pub throttle: Option<Throttle>,
    /// Allowed browser origins besides the website's own (e.g. `http://127.0.0.1:8080`).
    pub extra_cors_origins: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebsiteConfig {
    pub index_document: String,
    pub error_document: String,
    /// `website.https`: a CloudFront distribution serves the private bucket and the API under `/api`.
    pub https: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductSeed {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Read exactly from the decimal in the file ("39.99" → 3999); never a float.
    pub price_cents: i64,
    pub currency: String,
    /// Path under the website (e.g. `images/mug.svg`) or an absolute URL.
    pub image_url: String,
    pub stock: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertsConfig {
    pub email: String,
}
