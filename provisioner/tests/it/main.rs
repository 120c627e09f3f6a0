//! The provisioner's integration tests, in ONE test binary: the AWS SDK is linked once, not once per topic.
//! Each topic is a module (run one with `cargo test -p shopsmart-deploy --test it day2::`); `support` holds
//! what they share. They all run in one process, in parallel, against one moto (`AWS_ENDPOINT_URL`), so a
//! test must not change process-wide state (environment variables, current directory), and tests that count
//! account-wide things (the Free Tier guard's provisioned capacity, in every region; the calls of an `up`)
//! use moto accounts of their own (`support::Account`).

mod support;

mod budget;
mod builds_and_regions;
mod cdn;
mod config_validation;
mod day2;
mod diagram;
mod freetier_guard;
mod freetier_plan;
mod freetier_usage;
mod http_api;
mod iam_role;
mod interrupted_up;
mod lambda_function;
mod lambda_permission;
mod log_group;
mod orders_and_links;
mod permissions;
mod real_account;
mod seed;
mod shop_answers;
mod stack;
mod stack_recovery;
mod table_waits;
mod tables;
mod website;
