//! What a verb did (or, for `plan`, would do) to one resource. Every resource module reports in these terms,
//! so `plan`, `up`, `destroy` and `status` print and serialise them the same way.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub old: String,
    pub new: String,
}

impl FieldChange {
    pub fn new(field: impl Into<String>, old: impl ToString, new: impl ToString) -> Self {
        Self {
            field: field.into(),
            old: old.to_string(),
            new: new.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Absent: created (up) or would be created (plan).
    Create,
    /// Present but different from the config: exactly these fields change (or, in plan/status, drifted).
    Update { fields: Vec<FieldChange> },
    /// Present and as configured: no call made.
    Unchanged,
    /// Deleted by destroy.
    Delete,
    /// Destroy found nothing to delete.
    AlreadyGone,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Human name of the kind of resource, e.g. "DynamoDB table".
    pub kind: &'static str,
    /// Its name or id, e.g. "shopsmart-dev-carts".
    pub id: String,
    #[serde(flatten)]
    pub action: Action,
}

impl Change {
    pub fn new(kind: &'static str, id: impl Into<String>, action: Action) -> Self {
        Self {
            kind,
            id: id.into(),
            action,
        }
    }

    /// True when the change mutated (or, in plan, would mutate) AWS.
    pub fn is_mutation(&self) -> bool {
        !matches!(self.action, Action::Unchanged | Action::AlreadyGone)
    }
}
