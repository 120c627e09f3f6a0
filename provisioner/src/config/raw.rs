//! The shape of `shopsmart.yaml` as written, with its defaults. Unknown keys are errors
//! (`deny_unknown_fields`); every value is checked while it is read (see `scalar.rs`), so any error carries
//! the line and column of the offending node.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

use super::model::Architecture;
use super::price::PriceCents;
use super::rules::*;
use super::scalar::Checked;

// A struct with `#[serde(default)]` takes each missing key from its `Default` below.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawConfig {
    pub project: Checked<ProjectName>,
    pub stage: Checked<StageName>,
    pub region: Checked<RegionName>,
    pub tags: BTreeMap<Checked<TagKey>, Checked<TagText>>,
    pub function: RawFunction,
    pub tables: RawTables,
    pub api: RawApi,
    pub website: RawWebsite,
    pub products: RawProducts,
    pub alerts: Option<RawAlerts>,
    pub guard: RawGuard,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawGuard {
    /// The most a month of requests at the API's throttle may bill (a decimal in USD).
    pub max_worst_case_usd: Checked<PriceCents>,
}

impl Default for RawGuard {
    fn default() -> Self {
        Self {
            max_worst_case_usd: Checked(PriceCents(1000)),
        }
    }
}

impl Default for RawConfig {
    fn default() -> Self {
        Self {
            project: Checked(ProjectName("shopsmart".into())),
            stage: Checked(StageName("dev".into())),
            region: Checked(RegionName("us-east-1".into())),
            tags: BTreeMap::new(),
            function: RawFunction::default(),
            tables: RawTables::default(),
            api: RawApi::default(),
            website: RawWebsite::default(),
            products: RawProducts::default(),
            alerts: None,
            guard: RawGuard::default(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawFunction {
    pub memory_mb: Checked<MemoryMb>,
    pub timeout_s: Checked<TimeoutS>,
    pub architecture: Architecture,
    /// Absent → 7 days; an explicit `null` means "keep forever" (the Free Tier guard refuses that).
    pub log_retention_days: Option<Checked<RetentionDays>>,
    pub reserved_concurrency: Option<Checked<ReservedConcurrency>>,
    pub provisioned_concurrency: Option<Checked<ProvisionedConcurrency>>,
}

impl Default for RawFunction {
    fn default() -> Self {
        Self {
            memory_mb: Checked(MemoryMb(128)),
            timeout_s: Checked(TimeoutS(10)),
            architecture: Architecture::Arm64,
            log_retention_days: Some(Checked(RetentionDays(7))),
            reserved_concurrency: None,
            provisioned_concurrency: None,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawTables {
    pub billing: RawBilling,
}

/// `billing: on_demand`, `billing: provisioned` (the shipped capacity, `Capacity::shipped`), or
/// `billing: {provisioned: {products: {read: 3, write: 2}, ...}}`. (serde_yaml's derived enums would need
/// a YAML tag such as `!provisioned` for the last form, which learners do not know.)
#[derive(Debug)]
pub enum RawBilling {
    OnDemand,
    Provisioned(RawCapacities),
}

impl<'de> Deserialize<'de> for RawBilling {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        const VARIANTS: &[&str] = &["provisioned", "on_demand"];
        struct BillingVisitor;
        impl<'de> Visitor<'de> for BillingVisitor {
            type Value = RawBilling;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`on_demand`, `provisioned`, or `provisioned:` with per-table read/write capacity")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawBilling, E> {
                match v {
                    "on_demand" => Ok(RawBilling::OnDemand),
                    "provisioned" => Ok(RawBilling::Provisioned(RawCapacities::default())),
                    other => Err(de::Error::unknown_variant(other, VARIANTS)),
                }
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<RawBilling, A::Error> {
                let Some(key) = map.next_key::<String>()? else {
                    return Err(de::Error::custom(
                        "billing is empty; write `provisioned` or `on_demand`",
                    ));
                };
                if key == "on_demand" {
                    return Err(de::Error::custom(
                        "billing `on_demand` takes no settings: write `billing: on_demand` on one line",
                    ));
                }
                if key != "provisioned" {
                    return Err(de::Error::unknown_variant(&key, VARIANTS));
                }
                let capacities = map.next_value::<RawCapacities>()?;
                if let Some(extra) = map.next_key::<String>()? {
                    return Err(de::Error::custom(format!(
                        "billing has a second mode `{extra}`; choose one"
                    )));
                }
                Ok(RawBilling::Provisioned(capacities))
            }
        }
        deserializer.deserialize_any(BillingVisitor)
    }
}

impl Default for RawBilling {
    fn default() -> Self {
        RawBilling::Provisioned(RawCapacities::default())
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawCapacities {
    pub products: RawCapacity,
    pub carts: RawCapacity,
    pub orders: RawCapacity,
}

/// A table's capacity as written; what is left out is that table's shipped value (`Capacity::shipped`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawCapacity {
    pub read: Option<Checked<CapacityUnits>>,
    pub write: Option<Checked<CapacityUnits>>,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawApi {
    /// Absent → 3 requests/s, burst 10; an explicit `null` means unthrottled (the guard refuses that).
    pub throttle: Option<RawThrottle>,
    pub cors_origins: Vec<Checked<CorsOrigin>>,
}

impl Default for RawApi {
    fn default() -> Self {
        Self {
            throttle: Some(RawThrottle {
                rate_per_second: Checked(ThrottleRate(3)),
                burst: Checked(ThrottleBurst(10)),
            }),
            cors_origins: Vec::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawThrottle {
    pub rate_per_second: Checked<ThrottleRate>,
    pub burst: Checked<ThrottleBurst>,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawWebsite {
    pub index: Checked<RelativePath>,
    pub error: Checked<RelativePath>,
    /// CloudFront in front of a private bucket and the API (minutes to deploy and to delete on AWS).
    pub https: bool,
}

impl Default for RawWebsite {
    fn default() -> Self {
        let index = Checked(RelativePath("index.html".into()));
        Self {
            error: index.clone(),
            index,
            https: false,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProduct {
    pub id: Checked<ProductId>,
    pub name: Checked<ProductName>,
    #[serde(default)]
    pub description: String,
    pub price: Checked<PriceCents>,
    #[serde(default = "default_currency")]
    pub currency: Checked<Currency>,
    pub image: Checked<ImageRef>,
    pub stock: Checked<Stock>,
}

fn default_currency() -> Checked<Currency> {
    Checked(Currency("USD".into()))
}

/// The product list; duplicate ids are rejected while the list is read, so the error has its location.
#[derive(Debug, Default)]
pub struct RawProducts(pub Vec<RawProduct>);

impl<'de> Deserialize<'de> for RawProducts {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ProductsVisitor;
        impl<'de> Visitor<'de> for ProductsVisitor {
            type Value = RawProducts;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of products (each with id, name, price, image, stock)")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawProducts, A::Error> {
                let mut seen = HashSet::new();
                let mut products = Vec::new();
                while let Some(product) = seq.next_element::<RawProduct>()? {
                    if !seen.insert(product.id.0 .0.clone()) {
                        return Err(de::Error::custom(format!(
                            "the id {:?} is used twice (item {}); every product needs its own id",
                            product.id.0 .0,
                            products.len() + 1
                        )));
                    }
                    products.push(product);
                }
                Ok(RawProducts(products))
            }
        }
        deserializer.deserialize_seq(ProductsVisitor)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlerts {
    pub email: Checked<Email>,
}
