//! One file per AWS resource, each implementing [`Resource`]:
//! - `read`: the live state, or `None` when it does not exist (detected from the typed SDK error, see
//!   [`ownership::found`]);
//! - `diff`: a pure comparison of live and desired, returning the fields that differ (unit-tested without AWS);
//! - `create`, `update`, `add_tags`, `delete`: the writes.
//!
//! The driver in [`driver`] owns everything around them: plan vs apply, the ownership check (our stack tag),
//! the create / update / unchanged decision, the tag model, the consistency retries after our own creates,
//! and what is reported. Errors name the verb, the thing and its id: `creating Lambda function
//! (shopsmart-dev-api)`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use crate::aws::Clients;
use crate::change::FieldChange;
use crate::config::model::Config;
use crate::names::StackNames;
use crate::report::Reporter;

/// The items of [`Resource`] every resource states the same way, as data: its kind, the field it is reported
/// under, and who vouches that it is ours (`Tags`: the live state's own `tags`; `Parent`: see [`Owner`];
/// `Marker`: the live state's `marked`, for a resource that cannot carry tags).
/// Inside `impl Resource for X`: `identity!(KIND, name, Tags);`.
macro_rules! identity {
    ($kind:expr, $id:ident, Tags) => {
        $crate::resources::identity!(@ $kind, $id);
        fn owner<'a>(&self, live: &'a Self::Live) -> $crate::resources::Owner<'a> {
            $crate::resources::Owner::Tags(&live.tags)
        }
    };
    ($kind:expr, $id:ident, Parent) => {
        $crate::resources::identity!(@ $kind, $id);
        fn owner<'a>(&self, _live: &'a Self::Live) -> $crate::resources::Owner<'a> {
            $crate::resources::Owner::Parent
        }
    };
    ($kind:expr, $id:ident, Marker) => {
        $crate::resources::identity!(@ $kind, $id);
        fn owner<'a>(&self, live: &'a Self::Live) -> $crate::resources::Owner<'a> {
            $crate::resources::Owner::Marker(live.marked)
        }
    };
    (@ $kind:expr, $id:ident) => {
        const KIND: &'static str = $kind;
        fn id(&self) -> String {
            self.$id.clone()
        }
    };
}
pub(crate) use identity;

pub mod driver;
pub mod ownership;

pub mod budget;
pub mod cdn;
pub mod cdn_config;
pub mod function_code;
pub mod http_api;
pub mod iam_role;
pub mod lambda_function;
pub mod lambda_permission;
pub mod log_group;
pub mod seed;
pub mod tables;
pub mod website_bucket;
pub mod website_upload;

pub use driver::{
    converge, converge_from, destroy, destroy_from, prune, prune_from, read_if_ours, read_owned,
    Converged,
};

/// Tags as AWS reports them.
pub type Tags = HashMap<String, String>;

/// `Plan` reads only; `Apply` converges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Plan,
    Apply,
}

/// Everything a resource needs to know about the stack it belongs to.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub aws: Clients,
    pub config: Config,
    pub names: StackNames,
    pub account_id: String,
    pub region: String,
    pub mode: Mode,
    pub notes: Notes,
    /// Answers read before the steps ran (the Free Tier guard's), for the step that would ask again.
    pub guard_reads: GuardReads,
    /// The buckets this run created or read as existing ([`website_bucket::on_bucket`]).
    pub buckets: SeenBuckets,
}

/// Buckets this run created or found: S3 may answer NoSuchBucket to any call on a bucket for a few seconds
/// after CreateBucket, so for these such an answer is asked again before it counts; for any other bucket it
/// is the truth at once.
#[derive(Debug, Clone, Default)]
pub struct SeenBuckets(Arc<Mutex<SeenState>>);

#[derive(Debug, Default)]
pub struct SeenState {
    seen: HashSet<String>,
    /// Buckets the learner was told about (once a run) while S3 did not show them yet.
    told: HashSet<String>,
}

impl SeenBuckets {
    pub fn saw(&self, bucket: &str) {
        let mut state = self.0.lock().expect("buckets lock");
        state.seen.insert(bucket.to_owned());
    }

    pub fn has_seen(&self, bucket: &str) -> bool {
        self.0.lock().expect("buckets lock").seen.contains(bucket)
    }

    /// True the first time it is asked for `bucket` in this run.
    pub fn first_wait(&self, bucket: &str) -> bool {
        let mut state = self.0.lock().expect("buckets lock");
        state.told.insert(bucket.to_owned())
    }
}

/// DescribeTable answers the Free Tier guard already has (`None`: no such table), taken once by the tables
/// step's first read instead of asking AWS again; a later read (after a create, in a wait) asks AWS.
#[derive(Debug, Clone, Default)]
pub struct GuardReads {
    tables: Arc<Mutex<HashMap<String, Option<aws_sdk_dynamodb::types::TableDescription>>>>,
}

impl GuardReads {
    pub fn put_table(&self, name: &str, table: Option<aws_sdk_dynamodb::types::TableDescription>) {
        self.tables
            .lock()
            .expect("read-ahead lock")
            .insert(name.to_owned(), table);
    }

    /// The answer for `name`, once: `Some(None)` means the guard saw no such table.
    pub fn take_table(
        &self,
        name: &str,
    ) -> Option<Option<aws_sdk_dynamodb::types::TableDescription>> {
        self.tables.lock().expect("read-ahead lock").remove(name)
    }
}

/// Lines for the learner while a resource waits on AWS ("S3 is still releasing the name ..."), printed as
/// notes by the verb that runs the steps ([`Notes::relay`]); dropped when nothing relays them.
#[derive(Debug, Clone, Default)]
pub struct Notes(Arc<Mutex<Option<UnboundedSender<String>>>>);

impl Notes {
    pub fn say(&self, line: impl Into<String>) {
        if let Some(sender) = &*self.0.lock().expect("notes lock") {
            let _ = sender.send(line.into());
        }
    }

    /// From now on, what is said goes to the receiver returned (until [`Notes::relay`] ends).
    pub fn listen(&self) -> UnboundedReceiver<String> {
        let (sender, lines) = unbounded_channel();
        *self.0.lock().expect("notes lock") = Some(sender);
        lines
    }

    /// Runs `work`, printing what is said meanwhile as notes of `progress`.
    pub async fn relay<T>(&self, progress: &Reporter, work: impl Future<Output = T>) -> T {
        let mut lines = self.listen();
        let work = async {
            let out = work.await;
            self.0.lock().expect("notes lock").take();
            out
        };
        let print = async {
            while let Some(line) = lines.recv().await {
                progress.note(&line);
            }
        };
        tokio::join!(work, print).0
    }
}

impl Ctx {
    /// The value of the `shopsmart:stack` tag on every resource of this stack.
    pub fn stack_tag_value(&self) -> String {
        self.names.stack_id()
    }

    /// All tags for a new resource: the config's extra tags plus the stack tag (which always wins).
    pub fn tags(&self) -> BTreeMap<String, String> {
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

    pub fn is_ours(&self, tags: &Tags) -> bool {
        tags.get(crate::names::STACK_TAG_KEY) == Some(&self.stack_tag_value())
    }
}

/// Who vouches that a live resource is this stack's.
pub enum Owner<'a> {
    /// The resource's own tags, which must carry our stack tag.
    Tags(&'a Tags),
    /// A part of a resource that a step it needs has already checked (a table's items, a bucket's objects,
    /// a role's inline policy, a statement in a function's policy).
    Parent,
    /// A resource that cannot carry tags (a CloudFront origin access control) but carries our marker,
    /// `shopsmart:stack=<stack>`, in its description: whether it does.
    Marker(bool),
}

/// One AWS resource; `Live` is what `read` finds.
pub trait Resource: Sync {
    type Live: Sync;
    /// Human name of the kind, e.g. "DynamoDB table".
    const KIND: &'static str;

    /// The name or id this resource is reported under.
    fn id(&self) -> String;

    fn read(&self, ctx: &Ctx) -> impl Future<Output = anyhow::Result<Option<Self::Live>>>;

    /// Where the ownership check reads our stack tag.
    fn owner<'a>(&self, live: &'a Self::Live) -> Owner<'a>;

    /// The fields whose live value differs from the desired one (tags are the driver's).
    fn diff(&self, ctx: &Ctx, live: &Self::Live) -> Vec<FieldChange>;

    /// Creates the resource carrying `ctx.tags()`.
    fn create(&self, ctx: &Ctx) -> impl Future<Output = anyhow::Result<()>>;

    /// The calls that finish a resource right after `create` (settings that need it to exist). AWS may not
    /// show a new resource to every API at once: while [`Resource::not_yet_visible`] says so, the driver
    /// calls this again (bounded, with backoff).
    fn configure(&self, _ctx: &Ctx) -> impl Future<Output = anyhow::Result<()>> {
        async { Ok(()) }
    }

    /// Whether an error of `configure` means "the resource we just created is not visible yet".
    fn not_yet_visible(&self, _err: &anyhow::Error) -> bool {
        false
    }

    /// Writes exactly the `changes` `diff` found.
    fn update(
        &self,
        ctx: &Ctx,
        live: &Self::Live,
        changes: &Changes,
    ) -> impl Future<Output = anyhow::Result<()>>;

    /// Adds (or corrects) the tags in `tags`; tags that others put on the resource stay.
    fn add_tags(
        &self,
        _ctx: &Ctx,
        _live: &Self::Live,
        _tags: &BTreeMap<String, String>,
    ) -> impl Future<Output = anyhow::Result<()>> {
        async { Ok(()) }
    }

    /// Deletes the resource; `Ok(false)` when AWS says it was already gone. Parts of another resource (a
    /// table's items, a bucket's objects) go with it and are never deleted on their own.
    fn delete(&self, _ctx: &Ctx, _live: &Self::Live) -> impl Future<Output = anyhow::Result<bool>> {
        async {
            anyhow::bail!(
                "internal error: {} is deleted with what it belongs to",
                Self::KIND
            )
        }
    }

    /// The end of the message for a resource with our name but not our tag: how to get out of it.
    fn foreign_fix(&self, _ctx: &Ctx, _live: &Self::Live) -> String {
        ownership::FIX_CHOOSE_ANOTHER_NAME.to_owned()
    }
}

/// The fields `diff` found, as `update` sees them (like Terraform's `HasChange`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes(pub Vec<FieldChange>);

impl Changes {
    /// Whether the field `name`, or any field under `name.` / `name ` (e.g. `route GET /x`), changes.
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|change| {
            change.field == name
                || change
                    .field
                    .strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with('.') || rest.starts_with(' '))
        })
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The fields whose live value differs from the desired one, as plan lines `field: old → new`.
pub fn differing_fields<Old: AsRef<str>, New: AsRef<str>>(
    fields: impl IntoIterator<Item = (&'static str, Old, New)>,
) -> Vec<FieldChange> {
    fields
        .into_iter()
        .filter(|(_, old, new)| old.as_ref() != new.as_ref())
        .map(|(field, old, new)| FieldChange::new(field, old.as_ref(), new.as_ref()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_matches_a_field_and_the_fields_under_it_only() {
        let changes = Changes(vec![
            FieldChange::new("retention", "7 days", "14 days"),
            FieldChange::new("route GET /cart", "(none)", "integrations/x"),
            FieldChange::new("stage.burst", "1", "2"),
        ]);
        assert!(changes.has("retention"));
        assert!(changes.has("route"));
        assert!(changes.has("stage"));
        assert!(!changes.has("stage.rate"));
        assert!(!changes.has("ret"));
        assert!(!Changes::default().has("retention"));
    }
}
