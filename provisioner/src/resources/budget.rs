//! The optional zero-spend AWS Budgets alert `{stack}-zero-spend` (`alerts.email` in shopsmart.yaml): a monthly
//! COST budget of 0.01 USD (AWS's own "zero spend" template) that emails the learner as soon as actual spend
//! passes one cent. The first budgets of an account are free. Budgets are account-wide (no region).
//!
//! Unlike the other resources, "nothing configured" is not "nothing to do": when the learner removes
//! `alerts`, a budget this stack made is deleted ([`super::driver::prune`]), and stacks without alerts report
//! nothing extra. Whether there may be such a budget costs no call: while `alerts` is on, the website bucket
//! carries the tag `shopsmart:budget=on` (put before the budget is made, taken off once it is gone), and
//! with `alerts` off `up` and `destroy` look for a budget only when the bucket they read anyway carries it
//! (`stack`). So with `alerts` off from the start no Budgets call is made at all.

use std::collections::BTreeMap;

use anyhow::Context;
use aws_sdk_budgets::types::{
    Budget, BudgetType, ComparisonOperator, CostTypes, Notification, NotificationType,
    NotificationWithSubscribers, ResourceTag, Spend, Subscriber, SubscriptionType, ThresholdType,
    TimeUnit,
};

use super::ownership::{deleted, found};
use super::{differing_fields, Changes, Ctx, Resource, Tags};
use crate::aws_error::AwsContext;
use crate::change::{Change, FieldChange};

pub const KIND: &str = "AWS Budgets alert";

/// 0.01 USD in cents: the smallest limit AWS Budgets accepts, i.e. "alert on any spend".
pub const LIMIT_CENTS: i64 = 1;
pub const CURRENCY: &str = "USD";

/// What the budget itself looks like (its notifications are read separately).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveBudget {
    /// `0.01 USD`, or the raw amount when it is not a whole number of cents.
    pub limit: String,
    pub period: String,
    /// Whether usage paid by credits counts toward the budget (`CostTypes.IncludeCredit`; AWS's default is
    /// true).
    pub include_credit: bool,
}

/// The budget's ARN, the form the Budgets tagging API takes (Budgets is global: no region).
pub fn arn(ctx: &Ctx) -> String {
    format!(
        "arn:{}:budgets::{}:budget/{}",
        crate::names::partition(&ctx.region),
        ctx.account_id,
        ctx.names.budget()
    )
}

/// `"12.3"` → 1230 cents, without floats; `None` for anything that is not a whole number of cents.
pub fn parse_cents(amount: &str) -> Option<i64> {
    let (whole, fraction) = amount.trim().split_once('.').unwrap_or((amount.trim(), ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (cents, rest) = fraction.split_at(fraction.len().min(2));
    if rest.bytes().any(|b| b != b'0') {
        return None;
    }
    let cents: i64 = format!("{cents:0<2}").parse().ok()?;
    whole
        .parse::<i64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(cents)
}

pub fn format_cents(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn show_spend(spend: Option<&Spend>) -> String {
    match spend {
        None => "none".to_owned(),
        Some(spend) => match parse_cents(spend.amount()) {
            Some(cents) => format!("{} {}", format_cents(cents), spend.unit()),
            None => format!("{} {}", spend.amount(), spend.unit()),
        },
    }
}

fn desired_limit() -> String {
    format!("{} {CURRENCY}", format_cents(LIMIT_CENTS))
}

#[allow(deprecated)]
fn desired_budget(ctx: &Ctx) -> anyhow::Result<Budget> {
    Budget::builder()
        .budget_name(ctx.names.budget())
        .budget_type(BudgetType::Cost)
        .time_unit(TimeUnit::Monthly)
        .budget_limit(
            Spend::builder()
                .amount(format_cents(LIMIT_CENTS))
                .unit(CURRENCY)
                .build()
                .context("building the budget limit")?,
        )
        // Usage paid by credits is still usage that is no longer free: the alert must fire at it, which
        // AWS's default (credits subtracted) would hide. The SDK marks CostTypes deprecated in favour of
        // Metrics + FilterExpression; AWS still takes either pair (UpdateBudget's reference), and CostTypes
        // says this in one flag.
        .cost_types(CostTypes::builder().include_credit(false).build())
        .build()
        .context("building the budget")
}

/// ACTUAL spend GREATER_THAN 0.01 (an absolute amount in the budget's currency).
fn desired_notification() -> anyhow::Result<Notification> {
    Notification::builder()
        .notification_type(NotificationType::Actual)
        .comparison_operator(ComparisonOperator::GreaterThan)
        // The API models the threshold as a double; the value is the exact cent amount.
        .threshold(LIMIT_CENTS as f64 / 100.0)
        .threshold_type(ThresholdType::AbsoluteValue)
        .build()
        .context("building the budget notification")
}

/// The API's double threshold as cents, when it is a whole number of cents.
fn threshold_cents(notification: &Notification) -> Option<i64> {
    let cents = notification.threshold() * 100.0;
    ((cents - cents.round()).abs() < 1e-6).then_some(cents.round() as i64)
}

fn is_desired(notification: &Notification) -> bool {
    *notification.notification_type() == NotificationType::Actual
        && *notification.comparison_operator() == ComparisonOperator::GreaterThan
        && threshold_cents(notification) == Some(LIMIT_CENTS)
        // Absent means PERCENTAGE (the API default).
        && notification.threshold_type() == Some(&ThresholdType::AbsoluteValue)
}

fn show_notification(notification: &Notification) -> String {
    let amount = match threshold_cents(notification) {
        Some(cents) => format_cents(cents),
        None => notification.threshold().to_string(),
    };
    let unit = match notification.threshold_type() {
        Some(ThresholdType::AbsoluteValue) => CURRENCY.to_owned(),
        _ => "%".to_owned(),
    };
    format!(
        "{} {} {amount} {unit}",
        notification.notification_type().as_str(),
        notification.comparison_operator().as_str()
    )
}

fn email_subscriber(address: &str) -> anyhow::Result<Subscriber> {
    Subscriber::builder()
        .subscription_type(SubscriptionType::Email)
        .address(address)
        .build()
        .context("building the budget email subscriber")
}

/// The budget by its exact name; `None` from the typed NotFoundException.
pub async fn read(ctx: &Ctx) -> anyhow::Result<Option<LiveBudget>> {
    let name = ctx.names.budget();
    let output = found(
        ctx.aws
            .budgets
            .describe_budget()
            .account_id(&ctx.account_id)
            .budget_name(&name)
            .send()
            .await,
        |e| e.is_not_found_exception(),
    )
    .aws_context(|| format!("describing AWS Budgets budget ({name})"))?;
    Ok(output.and_then(|o| o.budget).map(|budget| LiveBudget {
        limit: show_spend(budget.budget_limit()),
        period: budget.time_unit().as_str().to_owned(),
        #[allow(deprecated)]
        include_credit: budget
            .cost_types()
            .and_then(|c| c.include_credit())
            .unwrap_or(true),
    }))
}

async fn read_tags(ctx: &Ctx) -> anyhow::Result<Tags> {
    let name = ctx.names.budget();
    let output = ctx
        .aws
        .budgets
        .list_tags_for_resource()
        .resource_arn(arn(ctx))
        .send()
        .await
        .aws_context(|| format!("listing tags of AWS Budgets budget ({name})"))?;
    Ok(output
        .resource_tags()
        .iter()
        .map(|tag| (tag.key().to_owned(), tag.value().to_owned()))
        .collect())
}

async fn read_notifications(ctx: &Ctx) -> anyhow::Result<Vec<Notification>> {
    let name = ctx.names.budget();
    let mut pages = ctx
        .aws
        .budgets
        .describe_notifications_for_budget()
        .account_id(&ctx.account_id)
        .budget_name(&name)
        .into_paginator()
        .send();
    let mut notifications = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page
            .aws_context(|| format!("describing notifications of AWS Budgets budget ({name})"))?;
        notifications.extend(page.notifications().iter().cloned());
    }
    Ok(notifications)
}

async fn read_subscribers(
    ctx: &Ctx,
    notification: &Notification,
) -> anyhow::Result<Vec<Subscriber>> {
    let name = ctx.names.budget();
    let mut pages = ctx
        .aws
        .budgets
        .describe_subscribers_for_notification()
        .account_id(&ctx.account_id)
        .budget_name(&name)
        .notification(notification.clone())
        .into_paginator()
        .send();
    let mut subscribers = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.aws_context(|| {
            format!("describing subscribers of the AWS Budgets notification ({name})")
        })?;
        subscribers.extend(page.subscribers().iter().cloned());
    }
    Ok(subscribers)
}

/// The budget; `email` is `alerts.email` for `up`, `None` to remove it (`destroy`, or `alerts` taken out of
/// the config), which reads only what the ownership check needs.
pub struct ZeroSpendBudget {
    pub name: String,
    pub email: Option<String>,
}

impl ZeroSpendBudget {
    pub fn new(ctx: &Ctx) -> Self {
        Self {
            name: ctx.names.budget(),
            email: ctx
                .config
                .alerts
                .as_ref()
                .map(|alerts| alerts.email.clone()),
        }
    }

    pub fn to_delete(ctx: &Ctx) -> Self {
        Self {
            email: None,
            ..Self::new(ctx)
        }
    }
}

/// The budget as `read` finds it: limit and period, tags, and (for `up`) its notifications.
#[derive(Debug, Clone)]
pub struct ObservedBudget {
    pub budget: LiveBudget,
    pub tags: Tags,
    /// Notifications other than the zero-spend one, which go.
    stale: Vec<Notification>,
    /// The zero-spend notification's subscribers; `None` when there is no such notification.
    subscribers: Option<Vec<Subscriber>>,
}

impl Resource for ZeroSpendBudget {
    type Live = ObservedBudget;
    identity!(KIND, name, Tags);

    async fn read(&self, ctx: &Ctx) -> anyhow::Result<Option<ObservedBudget>> {
        let Some(budget) = read(ctx).await? else {
            return Ok(None);
        };
        let mut live = ObservedBudget {
            budget,
            tags: read_tags(ctx).await?,
            stale: Vec::new(),
            subscribers: None,
        };
        if self.email.is_some() && ctx.is_ours(&live.tags) {
            let (matching, stale): (Vec<_>, Vec<_>) = read_notifications(ctx)
                .await?
                .into_iter()
                .partition(is_desired);
            live.stale = stale;
            if let Some(notification) = matching.first() {
                live.subscribers = Some(read_subscribers(ctx, notification).await?);
            }
        }
        Ok(Some(live))
    }

    fn diff(&self, _ctx: &Ctx, live: &ObservedBudget) -> Vec<FieldChange> {
        let Some(email) = &self.email else {
            return Vec::new();
        };
        let mut fields = differing_fields([
            ("limit", live.budget.limit.clone(), desired_limit()),
            (
                "period",
                live.budget.period.clone(),
                TimeUnit::Monthly.as_str().to_owned(),
            ),
            (
                "cost_types.include_credit",
                live.budget.include_credit.to_string(),
                false.to_string(),
            ),
        ]);
        for notification in &live.stale {
            fields.push(FieldChange::new(
                "notification",
                show_notification(notification),
                "removed",
            ));
        }
        match &live.subscribers {
            Some(subscribers) => fields.extend(plan_subscribers(subscribers, email).fields()),
            None => fields.push(FieldChange::new(
                "notification",
                "none",
                format!(
                    "{} → email {email}",
                    desired_notification()
                        .map_or_else(|_| String::new(), |n| show_notification(&n))
                ),
            )),
        }
        fields
    }

    async fn create(&self, ctx: &Ctx) -> anyhow::Result<()> {
        let email = self
            .email
            .as_deref()
            .context("internal error: creating a budget alert without an email")?;
        create(ctx, email).await
    }

    async fn update(
        &self,
        ctx: &Ctx,
        live: &ObservedBudget,
        changes: &Changes,
    ) -> anyhow::Result<()> {
        let name = &self.name;
        let email = self
            .email
            .as_deref()
            .context("internal error: updating a budget alert without an email")?;
        if changes.has("limit") || changes.has("period") || changes.has("cost_types") {
            ctx.aws
                .budgets
                .update_budget()
                .account_id(&ctx.account_id)
                .new_budget(desired_budget(ctx)?)
                .send()
                .await
                .aws_context(|| format!("updating AWS Budgets budget ({name})"))?;
        }
        for notification in &live.stale {
            ctx.aws
                .budgets
                .delete_notification()
                .account_id(&ctx.account_id)
                .budget_name(name)
                .notification(notification.clone())
                .send()
                .await
                .aws_context(|| {
                    format!("deleting a stale notification of AWS Budgets budget ({name})")
                })?;
        }
        let desired = desired_notification()?;
        match &live.subscribers {
            Some(subscribers) => {
                plan_subscribers(subscribers, email)
                    .apply(ctx, &desired)
                    .await
            }
            None => {
                ctx.aws
                    .budgets
                    .create_notification()
                    .account_id(&ctx.account_id)
                    .budget_name(name)
                    .notification(desired)
                    .subscribers(email_subscriber(email)?)
                    .send()
                    .await
                    .aws_context(|| {
                        format!("creating the notification of AWS Budgets budget ({name})")
                    })?;
                Ok(())
            }
        }
    }

    async fn add_tags(
        &self,
        ctx: &Ctx,
        _live: &ObservedBudget,
        tags: &BTreeMap<String, String>,
    ) -> anyhow::Result<()> {
        let mut request = ctx.aws.budgets.tag_resource().resource_arn(arn(ctx));
        for (key, value) in tags {
            request = request.resource_tags(resource_tag(key, value)?);
        }
        request
            .send()
            .await
            .aws_context(|| format!("tagging AWS Budgets budget ({})", self.name))?;
        Ok(())
    }

    async fn delete(&self, ctx: &Ctx, _live: &ObservedBudget) -> anyhow::Result<bool> {
        delete(ctx).await
    }

    fn foreign_fix(&self, ctx: &Ctx, _live: &Self::Live) -> String {
        let name = &self.name;
        format!(
            "Remove `alerts` from shopsmart.yaml to keep your own budget, or delete it (aws budgets \
             delete-budget --account-id {} --budget-name {name}) so this stack can create its own",
            ctx.account_id
        )
    }
}

/// `up`'s step: the budget as configured; with `alerts` off, a budget of ours left from an earlier `up` goes
/// and anything else stays (`None`: nothing to report).
pub async fn converge(ctx: &Ctx) -> anyhow::Result<Option<Change>> {
    let budget = ZeroSpendBudget::new(ctx);
    match budget.email {
        Some(_) => Ok(Some(super::converge(ctx, &budget).await?.change)),
        None => prune(ctx, &budget).await,
    }
}

async fn prune(ctx: &Ctx, budget: &ZeroSpendBudget) -> anyhow::Result<Option<Change>> {
    let read = read_if_ours(ctx, budget).await?;
    super::prune_from(ctx, budget, Some(read)).await
}

/// `up`'s step with `alerts` on: [`converge`] from what was read ahead (`None`: read now).
pub async fn converge_from(
    ctx: &Ctx,
    read: Option<Option<ObservedBudget>>,
) -> anyhow::Result<Change> {
    let budget = ZeroSpendBudget::new(ctx);
    Ok(super::converge_from(ctx, &budget, read).await?.change)
}

/// What looking for a budget left from when `alerts` was on found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeftOver {
    /// The look was refused (no budgets:ViewBudget): the learner was told; a budget may still be there.
    Refused,
    /// Ours was deleted (in plan: would be), `Some`; or there is none of ours, `None`.
    Looked(Option<Change>),
}

/// With `alerts` off, when the website bucket says an earlier `up` made a budget: deletes it if it is ours.
pub async fn remove_left_over(ctx: &Ctx) -> anyhow::Result<LeftOver> {
    let budget = ZeroSpendBudget::to_delete(ctx);
    match super::read_if_ours(ctx, &budget).await {
        Err(err) if crate::aws_error::is_access_denied(&err) => {
            say_refused(ctx);
            Ok(LeftOver::Refused)
        }
        Err(err) => Err(err),
        Ok(read) => Ok(LeftOver::Looked(
            super::prune_from(ctx, &budget, Some(read)).await?,
        )),
    }
}

fn say_refused(ctx: &Ctx) {
    ctx.notes.say(format!(
        "  note: could not look for the budget alert left from when `alerts` was on (no \
         budgets:ViewBudget, which the policy without `alerts` leaves out); delete {} in the Billing \
         console → Budgets, or run this once more with the earlier policy attached",
        ctx.names.budget()
    ));
}

/// With `alerts` off no Budgets permission is needed: if the look for a budget left over from when alerts
/// were on is refused, the learner is told and nothing else happens.
async fn read_if_ours(
    ctx: &Ctx,
    budget: &ZeroSpendBudget,
) -> anyhow::Result<Option<ObservedBudget>> {
    match super::read_if_ours(ctx, budget).await {
        Err(err) if crate::aws_error::is_access_denied(&err) => {
            say_refused(ctx);
            Ok(None)
        }
        result => result,
    }
}

/// What `destroy` will delete, read (and its owner checked) before anything is deleted. With `alerts` off,
/// a budget that is absent or someone else's is none of this stack's business (`None`); with alerts on,
/// foreign is an error.
pub async fn read_to_delete(ctx: &Ctx) -> anyhow::Result<Option<ObservedBudget>> {
    let budget = ZeroSpendBudget::to_delete(ctx);
    match ctx.config.alerts {
        Some(_) => super::read_owned(ctx, &budget).await,
        None => read_if_ours(ctx, &budget).await,
    }
}

/// `destroy`'s step: [`read_to_delete`], then [`destroy_from`].
pub async fn destroy(ctx: &Ctx) -> anyhow::Result<Option<Change>> {
    let read = read_to_delete(ctx).await?;
    destroy_from(ctx, read).await
}

/// `destroy`'s step, from [`read_to_delete`]'s answer; with alerts on, absent is "already gone".
pub async fn destroy_from(
    ctx: &Ctx,
    read: Option<ObservedBudget>,
) -> anyhow::Result<Option<Change>> {
    let budget = ZeroSpendBudget::to_delete(ctx);
    match ctx.config.alerts {
        Some(_) => Ok(Some(super::destroy_from(ctx, &budget, Some(read)).await?)),
        None => super::prune_from(ctx, &budget, Some(read)).await,
    }
}

/// How the live subscribers of the alert's notification become exactly one email to `alerts.email`.
#[derive(Debug, Default)]
struct SubscriberPlan {
    /// One email subscriber with another address: changed in place (UpdateSubscriber).
    replace: Option<Subscriber>,
    add: bool,
    remove: Vec<Subscriber>,
    email: String,
}

fn plan_subscribers(live: &[Subscriber], email: &str) -> SubscriberPlan {
    let is_email = |s: &&Subscriber| *s.subscription_type() == SubscriptionType::Email;
    let mut plan = SubscriberPlan {
        email: email.to_owned(),
        ..SubscriberPlan::default()
    };
    let has_desired = live
        .iter()
        .filter(is_email)
        .any(|s| s.address().eq_ignore_ascii_case(email));
    let others: Vec<Subscriber> = live
        .iter()
        .filter(|s| !(is_email(s) && s.address().eq_ignore_ascii_case(email)))
        .cloned()
        .collect();
    if has_desired {
        plan.remove = others;
    } else if let Some(position) = others.iter().position(|s| is_email(&s)) {
        let mut others = others;
        plan.replace = Some(others.remove(position));
        plan.remove = others;
    } else {
        plan.add = true;
        plan.remove = others;
    }
    plan
}

impl SubscriberPlan {
    fn fields(&self) -> Vec<FieldChange> {
        let mut fields = Vec::new();
        if let Some(old) = &self.replace {
            fields.push(FieldChange::new("email", old.address(), &self.email));
        }
        if self.add {
            fields.push(FieldChange::new("email", "none", &self.email));
        }
        for extra in &self.remove {
            fields.push(FieldChange::new(
                "subscriber",
                format!("{} {}", extra.subscription_type().as_str(), extra.address()),
                "removed",
            ));
        }
        fields
    }

    async fn apply(self, ctx: &Ctx, notification: &Notification) -> anyhow::Result<()> {
        let name = ctx.names.budget();
        let budgets = &ctx.aws.budgets;
        let wanted = email_subscriber(&self.email)?;
        if let Some(old) = self.replace {
            budgets
                .update_subscriber()
                .account_id(&ctx.account_id)
                .budget_name(&name)
                .notification(notification.clone())
                .old_subscriber(old)
                .new_subscriber(wanted.clone())
                .send()
                .await
                .aws_context(|| format!("updating the email of AWS Budgets budget ({name})"))?;
        }
        if self.add {
            budgets
                .create_subscriber()
                .account_id(&ctx.account_id)
                .budget_name(&name)
                .notification(notification.clone())
                .subscriber(wanted)
                .send()
                .await
                .aws_context(|| format!("adding the email of AWS Budgets budget ({name})"))?;
        }
        for extra in self.remove {
            budgets
                .delete_subscriber()
                .account_id(&ctx.account_id)
                .budget_name(&name)
                .notification(notification.clone())
                .subscriber(extra)
                .send()
                .await
                .aws_context(|| format!("removing a subscriber of AWS Budgets budget ({name})"))?;
        }
        Ok(())
    }
}

fn resource_tag(key: &str, value: &str) -> anyhow::Result<ResourceTag> {
    ResourceTag::builder()
        .key(key)
        .value(value)
        .build()
        .context("building a budget tag")
}

async fn create(ctx: &Ctx, email: &str) -> anyhow::Result<()> {
    let name = ctx.names.budget();
    let mut request = ctx
        .aws
        .budgets
        .create_budget()
        .account_id(&ctx.account_id)
        .budget(desired_budget(ctx)?)
        .notifications_with_subscribers(
            NotificationWithSubscribers::builder()
                .notification(desired_notification()?)
                .subscribers(email_subscriber(email)?)
                .build()
                .context("building the budget notification")?,
        );
    for (key, value) in ctx.tags() {
        request = request.resource_tags(resource_tag(&key, &value)?);
    }
    request
        .send()
        .await
        .aws_context(|| format!("creating AWS Budgets budget ({name})"))?;
    Ok(())
}

/// Deletes the budget; `false` when it was already gone.
async fn delete(ctx: &Ctx) -> anyhow::Result<bool> {
    let name = ctx.names.budget();
    deleted(
        ctx.aws
            .budgets
            .delete_budget()
            .account_id(&ctx.account_id)
            .budget_name(&name)
            .send()
            .await,
        |e| e.is_not_found_exception(),
    )
    .aws_context(|| format!("deleting AWS Budgets budget ({name})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_are_parsed_without_floats() {
        assert_eq!(parse_cents("0.01"), Some(1));
        assert_eq!(parse_cents("0.010000"), Some(1));
        assert_eq!(parse_cents("12.3"), Some(1230));
        assert_eq!(parse_cents("5"), Some(500));
        assert_eq!(parse_cents("0.015"), None);
        assert_eq!(parse_cents("-1"), None);
        assert_eq!(parse_cents("1e3"), None);
        assert_eq!(parse_cents(""), None);
        assert_eq!(format_cents(1), "0.01");
        assert_eq!(format_cents(1230), "12.30");
    }

    fn email(address: &str) -> Subscriber {
        email_subscriber(address).unwrap()
    }

    #[test]
    fn a_changed_email_is_replaced_in_place() {
        let plan = plan_subscribers(&[email("old@example.com")], "new@example.com");
        assert_eq!(
            plan.fields(),
            vec![FieldChange::new(
                "email",
                "old@example.com",
                "new@example.com"
            )]
        );
        assert!(!plan.add && plan.remove.is_empty());
        let same = plan_subscribers(&[email("me@example.com")], "me@example.com");
        assert!(same.fields().is_empty());
        let none = plan_subscribers(&[], "me@example.com");
        assert!(none.add);
    }

    #[test]
    fn only_the_zero_spend_notification_is_desired() {
        assert!(is_desired(&desired_notification().unwrap()));
        let percent = Notification::builder()
            .notification_type(NotificationType::Actual)
            .comparison_operator(ComparisonOperator::GreaterThan)
            .threshold(0.01)
            .build()
            .unwrap();
        assert!(!is_desired(&percent));
        assert_eq!(show_notification(&percent), "ACTUAL GREATER_THAN 0.01 %");
    }
}
