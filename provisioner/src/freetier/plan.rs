//! The account's Free Tier plan, from the Free Tier API (`GetAccountPlanState`, one call to its us-east-1
//! endpoint): on the Free plan (accounts opened since 2025-07-15) credits pay for what the always-free
//! allowances do not cover, until they or the plan run out; a paid-plan account is billed (after any credits
//! left); an account opened before 2025-07-15 has no plan (legacy Free Tier: 12-month offers). [`AccountPlan::
//! sentence`] turns an estimate into what the learner actually pays on that plan.
//!
//! Assumed, not documented: a legacy account answers ResourceNotFoundException (the API documents the error,
//! not which accounts get it). Any other failure (a denial, an emulator, the network) is [`AccountPlan::
//! Unknown`]: the list-price view, with one line saying why.

use aws_sdk_freetier::error::ProvideErrorMetadata;
use aws_sdk_freetier::operation::get_account_plan_state::GetAccountPlanStateOutput;
use aws_sdk_freetier::types::AccountPlanType;
use serde::Serialize;
use time::{Date, Duration};

use super::estimate::Estimate;
use super::money::{format_usd, group_thousands};
use crate::resources::Ctx;

/// The account's plan as `GetAccountPlanState` answered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "plan", rename_all = "snake_case")]
pub enum AccountPlan {
    /// The Free plan: credits pay for usage beyond the always-free allowances until they or the plan end.
    Free {
        /// ACTIVE, NOT_STARTED or EXPIRED.
        status: String,
        credits_cents: u64,
        /// When the plan ends (`accountPlanExpirationDate`, UTC day).
        #[serde(serialize_with = "iso_day")]
        ends: Option<Date>,
    },
    /// The paid plan: billed, after any credits left (they expire on `credits_until`).
    Paid {
        credits_cents: u64,
        #[serde(serialize_with = "iso_day")]
        credits_until: Option<Date>,
    },
    /// No plan: an account opened before 2025-07-15, with the legacy Free Tier's 12-month offers.
    Legacy,
    /// Not known (denied, an emulator, a failure): list prices.
    Unknown { why: String },
}

/// `2027-05-01`, or null.
fn iso_day<S: serde::Serializer>(day: &Option<Date>, serializer: S) -> Result<S::Ok, S::Error> {
    match day {
        Some(day) => serializer.serialize_str(&day.to_string()),
        None => serializer.serialize_none(),
    }
}

/// Whole cents from the API's `amount` (a JSON number in dollars): the one place a float becomes money.
fn cents(amount: f64) -> u64 {
    if amount.is_finite() && amount > 0.0 {
        (amount * 100.0).round() as u64
    } else {
        0
    }
}

fn day(date_time: Option<&aws_smithy_types::DateTime>) -> Option<Date> {
    let secs = date_time?.secs();
    Some(time::OffsetDateTime::from_unix_timestamp(secs).ok()?.date())
}

impl AccountPlan {
    /// From a successful answer.
    pub fn from_answer(answer: &GetAccountPlanStateOutput) -> Self {
        let credits_cents = answer
            .account_plan_remaining_credits()
            .map_or(0, |credits| cents(credits.amount()));
        let ends = day(answer.account_plan_expiration_date());
        match answer.account_plan_type() {
            AccountPlanType::Free => Self::Free {
                status: answer.account_plan_status().as_str().to_owned(),
                credits_cents,
                ends,
            },
            AccountPlanType::Paid => Self::Paid {
                credits_cents,
                credits_until: ends,
            },
            other => Self::Unknown {
                why: format!("the Free Tier API named a plan this tool does not know ({other})"),
            },
        }
    }

    /// One `GetAccountPlanState`. Never fails: what cannot be read is [`AccountPlan::Unknown`].
    pub async fn read(ctx: &Ctx) -> Self {
        let answer = ctx.aws.freetier.get_account_plan_state().send().await;
        match answer {
            Ok(answer) => Self::from_answer(&answer),
            Err(error) => match error.code() {
                Some("ResourceNotFoundException") => Self::Legacy,
                Some("AccessDeniedException") => Self::Unknown {
                    why: "AWS denied `freetier:GetAccountPlanState` (`shopsmart-deploy permissions` prints the \
                          policy that allows it)"
                        .to_owned(),
                },
                _ if ctx.aws.custom_endpoint => Self::Unknown {
                    why: "an emulator has no Free Tier API".to_owned(),
                },
                Some(code) => Self::Unknown {
                    why: format!(
                        "{code}: {}",
                        error.message().unwrap_or("no message")
                    ),
                },
                None => Self::Unknown {
                    why: aws_sdk_freetier::error::DisplayErrorContext(&error).to_string(),
                },
            },
        }
    }

    /// What this stack costs the learner on this plan at the estimate's traffic, in one line: `today` is
    /// the UTC day the credits' run-out date is counted from.
    pub fn sentence(&self, estimate: &Estimate, today: Date) -> String {
        let total = &estimate.total;
        let traffic = match estimate.requests_per_month {
            0 => "at idle".to_owned(),
            n => format!("at {} API requests a month", group_thousands(n)),
        };
        // What credits (or a 12-month offer) would have to pay a month: everything but the always-free part.
        let covered = total.billed_cents + total.twelve_month_or_credit_cents;
        match self {
            Self::Free {
                status,
                credits_cents,
                ends,
            } if status != "EXPIRED" => {
                free_plan(*credits_cents, *ends, covered, &traffic, today)
            }
            Self::Free { ends, .. } => format!(
                "Free plan: ended{}: upgrade to the paid plan in the Billing console to keep the account; it would \
                 then bill {} a month for this stack {traffic}",
                ends.map(|end| format!(" on {end}")).unwrap_or_default(),
                format_usd(covered)
            ),
            Self::Paid {
                credits_cents: 0, ..
            } => format!(
                "Paid plan, no credits left: this stack {traffic} bills {} a month (the \"you pay\" column and \
                 the \"credits or 12-month\" one)",
                format_usd(covered)
            ),
            Self::Paid {
                credits_cents,
                credits_until,
            } => format!(
                "Paid plan: this stack {traffic} bills {} a month; the {} of the \"credits or 12-month\" column \
                 come out of your {} of credits{}",
                format_usd(total.billed_cents),
                format_usd(total.twelve_month_or_credit_cents),
                format_usd(*credits_cents),
                credits_until
                    .map(|end| format!(" (they expire on {end})"))
                    .unwrap_or_default()
            ),
            Self::Legacy => format!(
                "Legacy Free Tier account (opened before 2025-07-15, no Free plan): in its first 12 months the \
                 12-month offers cover {} a month of this stack {traffic} and you pay {}; after them you pay {}",
                format_usd(total.twelve_month_or_credit_cents),
                format_usd(total.billed_cents),
                format_usd(covered)
            ),
            Self::Unknown { why } => format!(
                "note: the account's Free Tier plan could not be read ({why}); the figures are list prices, and \
                 \"you pay\" assumes credits or a 12-month offer still cover their column"
            ),
        }
    }
}

/// The Free plan: nothing is billed; credits pay `covered` a month until they or the plan run out.
fn free_plan(
    credits_cents: u64,
    ends: Option<Date>,
    covered: u64,
    traffic: &str,
    today: Date,
) -> String {
    let until = ends.map(|end| format!(", until {end}")).unwrap_or_default();
    let head = format!(
        "Free plan: {} of credits left{until}; this stack {traffic} uses {} of them a month",
        format_usd(credits_cents),
        format_usd(covered)
    );
    let plan_end = ends.map_or("the plan ends".to_owned(), |end| {
        format!("the plan ends on {end}")
    });
    if covered == 0 {
        return format!("{head}, so you pay nothing until {plan_end}");
    }
    // A month is 730 hours (the price file's month): days the credits last = credits / a month's use x 730/24.
    let days = credits_cents.saturating_mul(730) / covered.saturating_mul(24);
    let runs_out = today.saturating_add(Duration::days(i64::try_from(days).unwrap_or(i64::MAX)));
    match ends {
        Some(end) if end <= runs_out => format!(
            "{head}: the credits outlast the plan, so you pay nothing until {plan_end}; then AWS asks you to \
             upgrade to the paid plan"
        ),
        _ => format!(
            "{head}: at that rate the credits run out first, around {runs_out} (in about {days} days), and you \
             pay nothing until then; then AWS asks you to upgrade to the paid plan"
        ),
    }
}

#[cfg(test)]
mod tests {
    //! Figures by hand from the estimate's totals (estimate.rs tests, the shipped configuration): always-free /
    //! credits or 12-month / you pay = 0 requests 173/0/0, 100k 223/11/5, 1M 671/101/59, 10M 1,415/101/5,245.

    use time::macros::date;

    use super::*;
    use crate::freetier::estimate::{monthly, Assumptions};
    use crate::freetier::test_config::{assert_contains, free_config};

    const TODAY: Date = date!(2026 - 11 - 30);

    fn at(requests: u64) -> Estimate {
        monthly(&free_config(), requests, &Assumptions::default())
    }

    fn free(credits_cents: u64) -> AccountPlan {
        AccountPlan::Free {
            status: "ACTIVE".into(),
            credits_cents,
            ends: Some(date!(2027 - 05 - 01)),
        }
    }

    #[test]
    fn the_free_plan_at_idle_uses_no_credits() {
        let line = free(18_320).sentence(&at(0), TODAY);
        assert_eq!(
            line,
            "Free plan: $183.20 of credits left, until 2027-05-01; this stack at idle uses $0.00 of them a month, \
             so you pay nothing until the plan ends on 2027-05-01"
        );
    }

    #[test]
    fn the_free_plan_says_whether_credits_or_the_plan_end_first() {
        // 100k: 11 + 5 = 16 cents a month; $183.20 lasts 18,320 x 730 / (16 x 24) = 34,826 days: the plan ends first.
        let line = free(18_320).sentence(&at(100_000), TODAY);
        assert_contains(
            &line,
            "at 100,000 API requests a month uses $0.16 of them a month",
        );
        assert_contains(
            &line,
            "the credits outlast the plan, so you pay nothing until the plan ends on 2027-05-01",
        );
        // 1M: 101 + 59 = $1.60 a month; $183.20 -> 18,320 x 730 / (160 x 24) = 3,482 days: still the plan.
        assert_contains(
            &free(18_320).sentence(&at(1_000_000), TODAY),
            "uses $1.60 of them",
        );
        // 10M: 101 + 5,245 = $53.46 a month; $183.20 -> 18,320 x 730 / (5,346 x 24) = 104 days: the credits run
        // out on 2026-11-30 + 104 days = 2027-03-14, before the plan's 2027-05-01.
        let line = free(18_320).sentence(&at(10_000_000), TODAY);
        assert_contains(&line, "uses $53.46 of them a month");
        assert_contains(
            &line,
            "the credits run out first, around 2027-03-14 (in about 104 days)",
        );
    }

    #[test]
    fn an_expired_free_plan_says_to_upgrade() {
        let expired = AccountPlan::Free {
            status: "EXPIRED".into(),
            credits_cents: 0,
            ends: Some(date!(2026 - 10 - 01)),
        };
        let line = expired.sentence(&at(1_000_000), TODAY);
        assert_contains(&line, "ended on 2026-10-01: upgrade to the paid plan");
        assert_contains(&line, "bill $1.60 a month");
    }

    #[test]
    fn a_paid_plan_bills_the_you_pay_column_while_credits_last() {
        let paid = AccountPlan::Paid {
            credits_cents: 5_000,
            credits_until: Some(date!(2027 - 07 - 15)),
        };
        let line = paid.sentence(&at(10_000_000), TODAY);
        assert_contains(
            &line,
            "at 10,000,000 API requests a month bills $52.45 a month",
        );
        assert_contains(
            &line,
            "the $1.01 of the \"credits or 12-month\" column come out of your $50.00 of credits",
        );
        assert_contains(&line, "expire on 2027-07-15");
        let none = AccountPlan::Paid {
            credits_cents: 0,
            credits_until: None,
        };
        assert_contains(
            &none.sentence(&at(100_000), TODAY),
            "no credits left: this stack at 100,000 API requests a month bills $0.16",
        );
        assert_contains(&none.sentence(&at(0), TODAY), "at idle bills $0.00");
    }

    #[test]
    fn a_legacy_account_has_the_12_month_offers() {
        let line = AccountPlan::Legacy.sentence(&at(1_000_000), TODAY);
        assert_contains(
            &line,
            "cover $1.01 a month of this stack at 1,000,000 API requests a month and you pay $0.59",
        );
        assert_contains(&line, "after them you pay $1.60");
    }

    #[test]
    fn an_unknown_plan_is_the_list_price_view_in_one_line() {
        let unknown = AccountPlan::Unknown {
            why: "AWS denied `freetier:GetAccountPlanState`".into(),
        };
        let line = unknown.sentence(&at(100_000), TODAY);
        assert!(
            line.starts_with("note: the account's Free Tier plan could not be read (AWS denied"),
            "{line}"
        );
        assert!(!line.contains('\n'));
    }

    /// Every plan at 0, 100k, 1M and 10M requests: what the learner pays (or the credits pay) a month, from
    /// the totals in this module's doc: covered = credits-or-12-month + you-pay.
    #[test]
    fn each_plan_at_each_traffic() {
        let paid = AccountPlan::Paid {
            credits_cents: 2_000,
            credits_until: None,
        };
        let cases: [(u64, &str, &str, &str); 4] = [
            // (requests, Free plan: credits used a month, paid: you pay + credits pay, legacy: 12-month + you pay, after)
            (0, "uses $0.00 of them", "bills $0.00 a month; the $0.00", "cover $0.00 a month of this stack at idle and you pay $0.00; after them you pay $0.00"),
            (100_000, "uses $0.16 of them", "bills $0.05 a month; the $0.11", "cover $0.11 a month of this stack at 100,000 API requests a month and you pay $0.05; after them you pay $0.16"),
            (1_000_000, "uses $1.60 of them", "bills $0.59 a month; the $1.01", "cover $1.01 a month of this stack at 1,000,000 API requests a month and you pay $0.59; after them you pay $1.60"),
            (10_000_000, "uses $53.46 of them", "bills $52.45 a month; the $1.01", "cover $1.01 a month of this stack at 10,000,000 API requests a month and you pay $52.45; after them you pay $53.46"),
        ];
        for (requests, free_line, paid_line, legacy_line) in cases {
            let estimate = at(requests);
            assert_contains(&free(18_320).sentence(&estimate, TODAY), free_line);
            assert_contains(&paid.sentence(&estimate, TODAY), paid_line);
            assert_contains(&AccountPlan::Legacy.sentence(&estimate, TODAY), legacy_line);
        }
    }

    #[test]
    fn credits_become_whole_cents_once() {
        assert_eq!(cents(183.2), 18_320);
        assert_eq!(cents(0.005), 1);
        assert_eq!(cents(-1.0), 0);
        assert_eq!(cents(f64::NAN), 0);
    }
}
