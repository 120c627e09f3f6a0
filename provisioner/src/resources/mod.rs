//! One file per AWS resource, each of the same shape:
//! - `read(..) -> Result<Option<Live>>`: the live state; not-found is `None`, detected from the typed SDK error.
//! - `converge(ctx, desired) -> Result<Change>`: compare live with desired, then create / update only the
//!   fields that differ / do nothing. In `Mode::Plan` it makes no mutating call and reports what it would do.
//! - `destroy(ctx) -> Result<Change>`: deletes only what carries our stack tag; "already gone" is success.
//!
//! Errors name the verb, the thing and its id: `creating Lambda function (shopsmart-dev-api)`.

use crate::aws::Clients;
use crate::config::model::Config;
use crate::names::StackNames;

/// `Plan` reads only; `Apply` converges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Plan,
    Apply,
}

/// Everything a resource module needs to know about the stack it belongs to.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub aws: Clients,
    pub config: Config,
    pub names: StackNames,
    pub account_id: String,
    pub region: String,
    pub mode: Mode,
}

impl Ctx {
    /// The value of the `shopsmart:stack` tag on every resource of this stack.
    pub fn stack_tag_value(&self) -> String {
        self.names.stack_id()
    }

    /// All tags for a new resource: the config's extra tags plus the stack tag (which always wins).
    pub fn tags(&self) -> std::collections::BTreeMap<String, String> {
        let mut tags = self.config.tags.clone();
        tags.insert(
            crate::names::STACK_TAG_KEY.to_owned(),
            self.stack_tag_value(),
        );
        tags
    }

    pub fn arns(&self) -> crate::names::Arns {
        crate::names::Arns::new(&self.region, &self.account_id)
    }

    pub fn is_ours(&self, tags: &std::collections::HashMap<String, String>) -> bool {
        tags.get(crate::names::STACK_TAG_KEY) == Some(&self.stack_tag_value())
    }
}

/// The fields whose live value differs from the desired one, as plan lines `field: old → new`.
pub fn differing_fields<Old: AsRef<str>, New: AsRef<str>>(
    fields: impl IntoIterator<Item = (&'static str, Old, New)>,
) -> Vec<crate::change::FieldChange> {
    fields
        .into_iter()
        .filter(|(_, old, new)| old.as_ref() != new.as_ref())
        .map(|(field, old, new)| crate::change::FieldChange::new(field, old.as_ref(), new.as_ref()))
        .collect()
}

pub mod budget;
pub mod function_code;
pub mod http_api;
pub mod iam_role;
pub mod lambda_function;
pub mod lambda_permission;
pub mod log_group;
pub mod ownership;
pub mod seed;
pub mod tables;
pub mod website_bucket;
pub mod website_upload;
