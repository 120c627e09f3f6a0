//! shopsmart-deploy: converges the ShopSmart serverless shop on an AWS account (or a local emulator).

pub mod aws;
pub mod aws_error;
pub mod change;
pub mod cli;
pub mod config;
mod console;
pub mod console_links;
pub mod dev;
pub mod diagram;
pub mod doctor;
pub mod error;
pub mod freetier;
pub mod graph;
pub mod logs;
pub mod names;
pub mod orders;
pub mod outputs;
pub mod permissions;
pub mod report;
pub mod resources;
pub mod run;
pub mod smoke;
pub mod stack;
pub mod usage;
pub mod wait;

pub use run::run;
