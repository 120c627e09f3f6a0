//! The one driver every resource goes through: read, check ownership, diff, then create / update / leave
//! alone (or, for `destroy`, delete) — writing only in `Mode::Apply`.
//!
//! The tag model is the same for every resource: our tags (the config's `tags` and the stack tag) must be
//! there with our values and are added when missing or different; tags that someone else put on our
//! resources are left alone.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{Changes, Ctx, Mode, Owner, Resource, Tags};
use crate::change::{Action, Change, FieldChange};
use crate::wait;

/// How long a resource we just created may stay invisible to the calls that configure it.
const VISIBLE_AFTER_CREATE: Duration = Duration::from_secs(60);

/// What converging one resource did, and the live state it found (`None` when it did not exist).
#[derive(Debug, Clone)]
pub struct Converged<L> {
    pub change: Change,
    pub live: Option<L>,
}

/// Creates, updates (only what differs) or leaves the resource alone; in `Mode::Plan` only reads.
pub async fn converge<R: Resource>(ctx: &Ctx, resource: &R) -> anyhow::Result<Converged<R::Live>> {
    converge_from(ctx, resource, None).await
}

/// [`converge`] from a live state read before (a step's read ahead, see [`crate::graph`]), or, with `None`,
/// from reading it now.
pub async fn converge_from<R: Resource>(
    ctx: &Ctx,
    resource: &R,
    read: Option<Option<R::Live>>,
) -> anyhow::Result<Converged<R::Live>> {
    let change = |action| Change::new(R::KIND, resource.id(), action);
    let live = match read {
        Some(live) => live,
        None => resource.read(ctx).await?,
    };
    let Some(live) = live else {
        if ctx.mode == Mode::Apply {
            create(ctx, resource).await?;
        }
        return Ok(Converged {
            change: change(Action::Create),
            live: None,
        });
    };
    let owner_tags = check_owner(ctx, resource, &live)?;
    let changes = Changes(resource.diff(ctx, &live));
    let missing = owner_tags
        .map(|tags| missing_tags(ctx, tags))
        .unwrap_or_default();
    if changes.is_empty() && missing.is_empty() {
        return Ok(Converged {
            change: change(Action::Unchanged),
            live: Some(live),
        });
    }
    if ctx.mode == Mode::Apply {
        if !changes.is_empty() {
            resource.update(ctx, &live, &changes).await?;
        }
        if !missing.is_empty() {
            resource.add_tags(ctx, &live, &missing).await?;
        }
    }
    let mut fields = changes.0;
    fields.extend(tag_fields(owner_tags, &missing));
    Ok(Converged {
        change: change(Action::Update { fields }),
        live: Some(live),
    })
}

/// Deletes the resource if it is ours; "already gone" is success. In `Mode::Plan` only reads and checks the
/// owner.
pub async fn destroy<R: Resource>(ctx: &Ctx, resource: &R) -> anyhow::Result<Change> {
    destroy_from(ctx, resource, None).await
}

/// [`destroy`] from a live state read before (a step's read ahead), or, with `None`, from reading it now.
pub async fn destroy_from<R: Resource>(
    ctx: &Ctx,
    resource: &R,
    read: Option<Option<R::Live>>,
) -> anyhow::Result<Change> {
    let change = |action| Change::new(R::KIND, resource.id(), action);
    let live = match read {
        Some(live) => live,
        None => resource.read(ctx).await?,
    };
    let Some(live) = live else {
        return Ok(change(Action::AlreadyGone));
    };
    check_owner(ctx, resource, &live)?;
    if ctx.mode == Mode::Apply && !resource.delete(ctx, &live).await? {
        return Ok(change(Action::AlreadyGone));
    }
    Ok(change(Action::Delete))
}

/// What [`destroy_from`] will delete, read before anything is deleted: `None` when it is absent, an error
/// (naming the fix) when it is someone else's.
pub async fn read_owned<R: Resource>(ctx: &Ctx, resource: &R) -> anyhow::Result<Option<R::Live>> {
    let live = resource.read(ctx).await?;
    if let Some(live) = &live {
        check_owner(ctx, resource, live)?;
    }
    Ok(live)
}

/// What [`prune_from`] will delete: the resource when it exists and is ours, else `None`.
pub async fn read_if_ours<R: Resource>(ctx: &Ctx, resource: &R) -> anyhow::Result<Option<R::Live>> {
    let live = resource.read(ctx).await?;
    Ok(live.filter(|live| match resource.owner(live) {
        Owner::Tags(tags) => ctx.is_ours(tags),
        Owner::Marker(ours) => ours,
        Owner::Parent => true,
    }))
}

/// For a resource the config no longer asks for: deletes it when it exists and is ours, and otherwise
/// reports nothing (someone else's resource of that name is none of this stack's business).
pub async fn prune<R: Resource>(ctx: &Ctx, resource: &R) -> anyhow::Result<Option<Change>> {
    prune_from(ctx, resource, None).await
}

/// [`prune`] from what [`read_if_ours`] found before, or, with `None`, from reading it now.
pub async fn prune_from<R: Resource>(
    ctx: &Ctx,
    resource: &R,
    read: Option<Option<R::Live>>,
) -> anyhow::Result<Option<Change>> {
    let live = match read {
        Some(live) => live,
        None => read_if_ours(ctx, resource).await?,
    };
    let Some(live) = live else {
        return Ok(None);
    };
    if ctx.mode == Mode::Apply && !resource.delete(ctx, &live).await? {
        return Ok(None);
    }
    Ok(Some(Change::new(R::KIND, resource.id(), Action::Delete)))
}

/// `create`, then `configure`, each retried while what it needs, made moments ago in this run (the new
/// resource, or the parent a step before), is not yet visible to it.
async fn create<R: Resource>(ctx: &Ctx, resource: &R) -> anyhow::Result<()> {
    let what = format!("{} ({}) to be visible", R::KIND, resource.id());
    let not_yet_visible = |err: &anyhow::Error| resource.not_yet_visible(err);
    wait::retry_while(
        &what,
        VISIBLE_AFTER_CREATE,
        || resource.create(ctx),
        not_yet_visible,
    )
    .await?;
    wait::retry_while(
        &what,
        VISIBLE_AFTER_CREATE,
        || resource.configure(ctx),
        not_yet_visible,
    )
    .await
}

/// The resource's own tags when it has them; an error when they lack our stack tag.
fn check_owner<'a, R: Resource>(
    ctx: &Ctx,
    resource: &R,
    live: &'a R::Live,
) -> anyhow::Result<Option<&'a Tags>> {
    match resource.owner(live) {
        Owner::Parent | Owner::Marker(true) => Ok(None),
        Owner::Tags(tags) if ctx.is_ours(tags) => Ok(Some(tags)),
        Owner::Tags(_) | Owner::Marker(false) => Err(super::ownership::foreign_error(
            ctx,
            R::KIND,
            &resource.id(),
            &resource.foreign_fix(ctx, live),
        )),
    }
}

/// Our tags that are missing on `live` or have another value there.
pub fn missing_tags(ctx: &Ctx, live: &Tags) -> BTreeMap<String, String> {
    ctx.tags()
        .into_iter()
        .filter(|(key, value)| live.get(key) != Some(value))
        .collect()
}

/// One plan line per tag to add or correct: `tags.purpose: (unset) → learning`.
fn tag_fields(live: Option<&Tags>, missing: &BTreeMap<String, String>) -> Vec<FieldChange> {
    missing
        .iter()
        .map(|(key, value)| {
            let old = live
                .and_then(|tags| tags.get(key))
                .map_or("(unset)", String::as_str);
            FieldChange::new(format!("tags.{key}"), old, value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_lines_show_the_old_value_or_unset() {
        let live = Tags::from([("purpose".to_owned(), "demo".to_owned())]);
        let missing = BTreeMap::from([
            ("purpose".to_owned(), "learning".to_owned()),
            ("shopsmart:stack".to_owned(), "s-dev".to_owned()),
        ]);
        assert_eq!(
            tag_fields(Some(&live), &missing),
            vec![
                FieldChange::new("tags.purpose", "demo", "learning"),
                FieldChange::new("tags.shopsmart:stack", "(unset)", "s-dev"),
            ]
        );
        assert!(tag_fields(Some(&live), &BTreeMap::new()).is_empty());
    }
}
