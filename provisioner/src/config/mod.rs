//! `shopsmart.yaml` → validated [`model::Config`].

pub mod load;
pub mod model;
pub mod price;
pub mod raw;
pub mod regions;
pub mod rules;
pub mod scalar;

pub use load::{load, locate, parse, project_root, ConfigError, Overrides};
