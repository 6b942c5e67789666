//! What a supplier's records say about it on a day: the markers the register shows, the
//! reminders its owner is owed, and the judgements of the interval-based evidence rules
//! (performance reviewed, contracts reviewed).

use super::contract::{ContractFacts, ContractStatus, DEFAULT_REVIEW_MONTHS, current};
use super::dispute::{DisputeState, overdue};
use super::review::next_due;
use super::{SupplierKind, SupplierStatus, add_days};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// A contract ending within this many days is flagged and its owner reminded.
pub const ENDING_WITHIN_DAYS: i64 = 60;
/// A review due within this many days (or overdue) is flagged and its owner reminded.
pub const DUE_WITHIN_DAYS: i64 = 14;

/// What the register knows of a supplier for these decisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplierFacts {
    pub kind: SupplierKind,
    pub status: SupplierStatus,
    pub contracts: Vec<ContractFacts>,
    /// The day of the latest performance review.
    pub last_review: Option<Date>,
    /// Each dispute's state and the day it was raised.
    pub disputes: Vec<(DisputeState, Date)>,
}

impl SupplierFacts {
    /// The current contract on `day`.
    pub fn current(&self, day: Date) -> Option<&ContractFacts> {
        current(&self.contracts, day)
    }

    /// When the next performance review is due on `day`: the current (else the latest
    /// approved) contract's interval after the last review, or after the first approved
    /// version's start. `None` before any version is approved.
    pub fn performance_due(&self, day: Date) -> Option<Date> {
        let approved = self
            .contracts
            .iter()
            .filter(|c| c.status == ContractStatus::Approved);
        let first_start = approved.clone().map(|c| c.starts_on).min()?;
        let months = self
            .current(day)
            .or_else(|| approved.max_by_key(|c| c.version))
            .map_or(DEFAULT_REVIEW_MONTHS, |c| c.review_months);
        Some(next_due(self.last_review, first_start, months))
    }
}

/// A marker on a supplier in the register: something its owner should act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "flag", rename_all = "snake_case")]
pub enum Flag {
    /// Active, but no approved contract (or agreement) is in effect.
    NoCurrentContract,
    /// The current contract ends within 60 days.
    ContractEnding { on: Date },
    /// The current contract's review is due within 14 days, or overdue.
    ContractReviewDue { on: Date, overdue: bool },
    /// A performance review is due within 14 days, or overdue.
    PerformanceReviewDue { on: Date, overdue: bool },
    /// Disputes open, unescalated, for more than 30 days.
    DisputesOverdue { count: usize },
}

impl Flag {
    /// The marker in words.
    pub fn text(&self, kind: SupplierKind) -> String {
        let terms = kind.terms_word();
        match self {
            Flag::NoCurrentContract => format!("No current {terms}"),
            Flag::ContractEnding { on } => format!("{} ends {on}", capital(terms)),
            Flag::ContractReviewDue { on, overdue: true } => {
                format!("{} review overdue since {on}", capital(terms))
            }
            Flag::ContractReviewDue { on, .. } => format!("{} review due {on}", capital(terms)),
            Flag::PerformanceReviewDue { on, overdue: true } => {
                format!("Performance review overdue since {on}")
            }
            Flag::PerformanceReviewDue { on, .. } => format!("Performance review due {on}"),
            Flag::DisputesOverdue { count } => {
                format!("{count} dispute(s) open over 30 days")
            }
        }
    }

    /// Whether the marker is past due rather than coming up.
    pub fn overdue(&self) -> bool {
        matches!(
            self,
            Flag::NoCurrentContract
                | Flag::DisputesOverdue { .. }
                | Flag::ContractReviewDue { overdue: true, .. }
                | Flag::PerformanceReviewDue { overdue: true, .. }
        )
    }
}

fn capital(word: &str) -> String {
    let mut c = word.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The markers of an active supplier on `today`; an ended supplier has none.
pub fn flags(facts: &SupplierFacts, today: Date) -> Vec<Flag> {
    if facts.status == SupplierStatus::Ended {
        return Vec::new();
    }
    let mut out = Vec::new();
    match facts.current(today) {
        None => out.push(Flag::NoCurrentContract),
        Some(c) => {
            if let Some(end) = c.ends_on
                && end <= add_days(today, ENDING_WITHIN_DAYS)
            {
                out.push(Flag::ContractEnding { on: end });
            }
            let due = c.review_due();
            if due <= add_days(today, DUE_WITHIN_DAYS) {
                out.push(Flag::ContractReviewDue {
                    on: due,
                    overdue: due < today,
                });
            }
        }
    }
    if let Some(due) = facts.performance_due(today)
        && due <= add_days(today, DUE_WITHIN_DAYS)
    {
        out.push(Flag::PerformanceReviewDue {
            on: due,
            overdue: due < today,
        });
    }
    let late = facts
        .disputes
        .iter()
        .filter(|(state, raised)| overdue(*state, *raised, today))
        .count();
    if late > 0 {
        out.push(Flag::DisputesOverdue { count: late });
    }
    out
}

/// Why an owner is reminded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReminderKind {
    ContractEnding,
    ContractReviewDue,
    PerformanceReviewDue,
}

crate::service::text_enum!(ReminderKind {
    ContractEnding => "contract_ending", ContractReviewDue => "contract_review_due",
    PerformanceReviewDue => "performance_review_due",
});

/// A reminder owed: why, about what (the contract, or the supplier for a performance review),
/// and the date it is about. Each is sent once per subject and date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    pub kind: ReminderKind,
    pub subject_id: i64,
    pub due_on: Date,
}

/// The reminders an active supplier's owner is owed on `today`.
pub fn reminders_due(supplier_id: i64, facts: &SupplierFacts, today: Date) -> Vec<Due> {
    let mut out = Vec::new();
    for flag in flags(facts, today) {
        let current = facts.current(today).map_or(0, |c| c.id);
        match flag {
            Flag::ContractEnding { on } => out.push(Due {
                kind: ReminderKind::ContractEnding,
                subject_id: current,
                due_on: on,
            }),
            Flag::ContractReviewDue { on, .. } => out.push(Due {
                kind: ReminderKind::ContractReviewDue,
                subject_id: current,
                due_on: on,
            }),
            Flag::PerformanceReviewDue { on, .. } => out.push(Due {
                kind: ReminderKind::PerformanceReviewDue,
                subject_id: supplier_id,
                due_on: on,
            }),
            Flag::NoCurrentContract | Flag::DisputesOverdue { .. } => {}
        }
    }
    out
}

/// For the evidence rules on the period's last day: whether an active supplier with an approved
/// contract is past its performance review (`None` when the rule does not apply to it).
pub fn performance_review_late(facts: &SupplierFacts, last_day: Date) -> Option<bool> {
    if facts.status != SupplierStatus::Active {
        return None;
    }
    facts.performance_due(last_day).map(|due| due < last_day)
}

/// Whether the current contract on the period's last day is past its review (`None` when
/// there is no current contract, or the supplier has ended).
pub fn contract_review_late(facts: &SupplierFacts, last_day: Date) -> Option<bool> {
    if facts.status != SupplierStatus::Active {
        return None;
    }
    facts.current(last_day).map(|c| c.review_due() < last_day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::supplier::tests::day;

    fn contract(
        id: i64,
        starts: &str,
        ends: Option<&str>,
        reviewed: Option<&str>,
    ) -> ContractFacts {
        ContractFacts {
            id,
            version: id,
            status: ContractStatus::Approved,
            starts_on: day(starts),
            ends_on: ends.map(day),
            approved_on: Some(day(starts)),
            reviewed_on: reviewed.map(day),
            review_months: 12,
        }
    }

    fn facts() -> SupplierFacts {
        SupplierFacts {
            kind: SupplierKind::External,
            status: SupplierStatus::Active,
            contracts: vec![contract(
                7,
                "2025-06-01",
                Some("2026-07-31"),
                Some("2026-01-10"),
            )],
            last_review: Some(day("2026-04-01")),
            disputes: vec![
                (DisputeState::Open, day("2026-04-01")),
                (DisputeState::Escalated, day("2026-01-01")),
            ],
        }
    }

    #[test]
    fn markers_say_what_is_coming_and_what_is_late() {
        let f = flags(&facts(), day("2026-06-15"));
        assert_eq!(
            f,
            vec![
                Flag::ContractEnding {
                    on: day("2026-07-31")
                },
                Flag::DisputesOverdue { count: 1 },
            ]
        );
        assert_eq!(
            f[0].text(SupplierKind::External),
            "Contract ends 2026-07-31"
        );
        assert_eq!(
            Flag::NoCurrentContract.text(SupplierKind::Internal),
            "No current agreement"
        );
        let mut ended = facts();
        ended.status = SupplierStatus::Ended;
        assert!(flags(&ended, day("2026-06-15")).is_empty());
    }

    #[test]
    fn reviews_come_due_at_their_interval() {
        let mut f = facts();
        f.contracts[0].ends_on = None;
        f.disputes.clear();
        assert!(flags(&f, day("2026-12-01")).is_empty());
        let marks = flags(&f, day("2026-12-30"));
        assert_eq!(
            marks,
            vec![Flag::ContractReviewDue {
                on: day("2027-01-10"),
                overdue: false
            }]
        );
        let marks = flags(&f, day("2027-04-02"));
        assert!(marks.contains(&Flag::PerformanceReviewDue {
            on: day("2027-04-01"),
            overdue: true
        }));
        let due = reminders_due(3, &f, day("2027-04-02"));
        assert!(due.contains(&Due {
            kind: ReminderKind::PerformanceReviewDue,
            subject_id: 3,
            due_on: day("2027-04-01")
        }));
        assert!(due.contains(&Due {
            kind: ReminderKind::ContractReviewDue,
            subject_id: 7,
            due_on: day("2027-01-10")
        }));
        assert_eq!(contract_review_late(&f, day("2027-04-02")), Some(true));
        assert_eq!(performance_review_late(&f, day("2027-03-31")), Some(false));
    }

    #[test]
    fn without_a_contract_there_is_nothing_to_review_against() {
        let mut f = facts();
        f.contracts.clear();
        assert_eq!(flags(&f, day("2026-06-15"))[0], Flag::NoCurrentContract);
        assert_eq!(performance_review_late(&f, day("2026-06-15")), None);
        assert_eq!(contract_review_late(&f, day("2026-06-15")), None);
    }
}
