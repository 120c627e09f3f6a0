//! Free Tier knowledge and the cost guard: the allowances and prices (`prices`, from the embedded
//! `data/free-tier.yaml`), a per-service monthly estimate (`estimate`), and the guard that refuses a
//! configuration with a standing cost before any write (`guard`). No CLI code: the binary wires `cost`,
//! the `plan` summary and `up`'s preflight.

pub mod capacity;
pub mod estimate;
pub mod existing_tables;
pub mod guard;
pub mod money;
pub mod plan;
pub mod prices;
pub mod worst_case;

pub use estimate::{monthly, Assumptions, Estimate, Service, ServiceCost, Split};
pub use guard::{
    evaluate, preflight, AccountTables, ChargesRefused, Count, ExistingTable, Finding, FindingKind,
    Preflight,
};
pub use plan::AccountPlan;
pub use prices::{Price, PriceSheet};
pub use worst_case::{worst_case, WorstCase};

#[cfg(test)]
mod test_config;
