//! The change lifecycle: which status may follow which, per change type, and what must be true
//! first.
//!
//! # The three paths
//!
//! ```text
//! standard:  draft ──────────────────────────────▶ scheduled ─▶ implementing ─▶ (review) ─▶ closed | failed
//! normal:    draft ─▶ assessment ─▶ authorisation ─▶ scheduled ─▶ implementing ─▶ review ─▶ closed | failed
//! emergency: draft ─────────────▶ authorisation ─┬▶ scheduled ─▶ implementing ─▶ review ─▶ closed | failed
//!                                                └──────────────▶ implementing
//! ```
//!
//! - **Standard** changes follow a pre-approved template, so they skip assessment and
//!   authorisation and never consult approvals. Their review is optional: they may close
//!   straight from implementing.
//! - **Emergency** changes are assessed by the ECAB in the same sitting that authorises them
//!   (ITIL's expedited path), so they go from draft to authorisation, and once authorised may
//!   start at once without sitting in the schedule. They are still authorised before they are
//!   implemented: ISO/IEC 20000-1 8.5.1.2 has no exception for urgency, only a faster route.
//!   Only emergencies may start inside a blackout window.
//! - Normal and emergency changes need a post-implementation review before they end, and
//!   their implementation and back-out plans before they leave draft.
//!
//! # Failed and backed out
//!
//! `failed` is the terminal status of a change that did not achieve its goal; `closed` of one
//! that did. Whether it was backed out is a fact recorded with the review, not a status of its
//! own: a backed-out change and a failed-forward one are both failures for the success rate,
//! and both go through the same review. That is why `failed` comes *after* review for normal
//! and emergency changes rather than straight from implementing: the changes that fail are the
//! ones whose review matters most.
//!
//! # Going back
//!
//! Assessment may return a change to draft (more information needed), authorisation to
//! assessment (the CAB asks for rework), and a scheduled normal change to assessment when its
//! plan changes materially (the approval was for the old plan). Rejected, cancelled, closed and
//! failed are terminal; a rejected change is raised again as a new change, so the rejection
//! stays on record.

use crate::change::risk::RiskLevel;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChangeType {
    /// Pre-approved, low risk, done often from a template.
    Standard,
    Normal,
    /// Must be done now to restore or protect a service; authorised by the ECAB.
    Emergency,
}

crate::service::text_enum!(ChangeType {
    Standard => "standard", Normal => "normal", Emergency => "emergency",
});

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChangeStatus {
    #[default]
    Draft,
    Assessment,
    Authorisation,
    Scheduled,
    Implementing,
    Review,
    /// Ended and achieved its goal.
    Closed,
    /// Refused by its approvers.
    Rejected,
    /// Withdrawn before implementation started.
    Cancelled,
    /// Ended without achieving its goal (backed out or not: see the module documentation).
    Failed,
}

crate::service::text_enum!(ChangeStatus {
    Draft => "draft", Assessment => "assessment", Authorisation => "authorisation",
    Scheduled => "scheduled", Implementing => "implementing", Review => "review",
    Closed => "closed", Rejected => "rejected", Cancelled => "cancelled", Failed => "failed",
});

impl ChangeStatus {
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            ChangeStatus::Closed
                | ChangeStatus::Rejected
                | ChangeStatus::Cancelled
                | ChangeStatus::Failed
        )
    }

    /// Whether a change in this status belongs on the forward schedule of change (its window
    /// is booked and other changes should see it when checking collisions).
    pub fn is_on_schedule(self) -> bool {
        matches!(self, ChangeStatus::Scheduled | ChangeStatus::Implementing)
    }
}

impl ChangeType {
    /// Whether a change of this type needs a post-implementation review before it ends.
    pub fn needs_review(self) -> bool {
        self != ChangeType::Standard
    }

    /// Whether a change of this type goes through authorisation at all.
    pub fn needs_authorisation(self) -> bool {
        self != ChangeType::Standard
    }

    /// The statuses a change of this type may move to from `from`. The transition table.
    pub fn next(self, from: ChangeStatus) -> &'static [ChangeStatus] {
        use ChangeStatus::*;
        use ChangeType::*;
        match (self, from) {
            (Standard, Draft) => &[Scheduled, Cancelled],
            (Normal, Draft) => &[Assessment, Cancelled],
            (Emergency, Draft) => &[Authorisation, Cancelled],
            (Standard | Emergency, Assessment) => &[],
            (Normal, Assessment) => &[Authorisation, Draft, Cancelled],
            (Standard, Authorisation) => &[],
            (Normal, Authorisation) => &[Scheduled, Rejected, Assessment, Cancelled],
            (Emergency, Authorisation) => &[Scheduled, Implementing, Rejected, Cancelled],
            (Standard, Scheduled) => &[Implementing, Draft, Cancelled],
            (Normal, Scheduled) => &[Implementing, Assessment, Cancelled],
            (Emergency, Scheduled) => &[Implementing, Authorisation, Cancelled],
            (Standard, Implementing) => &[Review, Closed, Failed],
            (Normal | Emergency, Implementing) => &[Review],
            (_, Review) => &[Closed, Failed],
            (_, Closed | Rejected | Cancelled | Failed) => &[],
        }
    }
}

/// Where a change's approvals stand, as far as the lifecycle cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalOutcome {
    #[default]
    Pending,
    Approved,
    Rejected,
}

/// What the guards need to know about a change; the store gathers it before a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Facts {
    /// Both the implementation and the back-out plan are written.
    pub plans_present: bool,
    /// The risk questionnaire is answered; `None` while it is not.
    pub risk: Option<RiskLevel>,
    pub approval: ApprovalOutcome,
    pub window_set: bool,
    /// The planned window falls in a blackout that covers the change's CIs or services.
    pub in_blackout: bool,
    /// The post-implementation review is recorded.
    pub review_done: bool,
}

/// Why a change may not move as asked, in words for the person who asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeRefusal {
    #[error("a {change_type} change cannot go from {from} to {to}")]
    NotAllowed {
        change_type: ChangeType,
        from: ChangeStatus,
        to: ChangeStatus,
        allowed: Vec<ChangeStatus>,
    },
    /// A guard failed: the field to fix (for the form) and what to do.
    #[error("{1}")]
    Needs(&'static str, &'static str),
}

/// Moves a change of `change_type` from `from` to `to` if the table allows it and the facts
/// satisfy the guards; returns the new status.
pub fn transition(
    change_type: ChangeType,
    from: ChangeStatus,
    to: ChangeStatus,
    facts: &Facts,
) -> Result<ChangeStatus, ChangeRefusal> {
    if !change_type.next(from).contains(&to) {
        return Err(ChangeRefusal::NotAllowed {
            change_type,
            from,
            to,
            allowed: change_type.next(from).to_vec(),
        });
    }
    guard(change_type, from, to, facts).map(|()| to)
}

fn guard(
    change_type: ChangeType,
    from: ChangeStatus,
    to: ChangeStatus,
    facts: &Facts,
) -> Result<(), ChangeRefusal> {
    use ChangeStatus::*;
    let needs = |ok: bool, field, message| {
        if ok {
            Ok(())
        } else {
            Err(ChangeRefusal::Needs(field, message))
        }
    };
    let forward_from_draft = from == Draft && !matches!(to, Cancelled);
    if forward_from_draft && change_type.needs_authorisation() {
        needs(
            facts.plans_present,
            "plans",
            "Write the implementation plan and the back-out plan before submitting the change",
        )?;
    }
    if from == Assessment && to == Authorisation {
        needs(
            facts.risk.is_some(),
            "risk",
            "Answer the risk questionnaire before asking for authorisation",
        )?;
    }
    if from == Authorisation && matches!(to, Scheduled | Implementing) {
        needs(
            facts.approval == ApprovalOutcome::Approved,
            "approval",
            "The change is not authorised yet: it is waiting for its approvers",
        )?;
    }
    if to == Rejected {
        needs(
            facts.approval == ApprovalOutcome::Rejected,
            "approval",
            "Only an approver's rejection rejects a change; cancel it instead",
        )?;
    }
    if matches!(to, Scheduled | Implementing) {
        needs(
            facts.window_set,
            "window",
            "Set the planned window before scheduling the change",
        )?;
        needs(
            !facts.in_blackout || change_type == ChangeType::Emergency,
            "window",
            "The planned window falls in a blackout period; move it, or raise an emergency change",
        )?;
    }
    if from == Review && change_type.needs_review() {
        needs(
            facts.review_done,
            "review",
            "Record the post-implementation review before closing the change",
        )?;
    }
    Ok(())
}

/// The path a change of this type takes when all goes well, from draft to closed.
pub fn happy_path(change_type: ChangeType) -> &'static [ChangeStatus] {
    use ChangeStatus::*;
    match change_type {
        ChangeType::Standard => &[Draft, Scheduled, Implementing, Closed],
        ChangeType::Normal => &[
            Draft,
            Assessment,
            Authorisation,
            Scheduled,
            Implementing,
            Review,
            Closed,
        ],
        ChangeType::Emergency => &[Draft, Authorisation, Implementing, Review, Closed],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn all_good() -> Facts {
        Facts {
            plans_present: true,
            risk: Some(RiskLevel::Low),
            approval: ApprovalOutcome::Approved,
            window_set: true,
            in_blackout: false,
            review_done: true,
        }
    }

    #[test]
    fn enums_round_trip() {
        for s in ChangeStatus::ALL {
            assert_eq!(ChangeStatus::parse(s.as_str()), Some(*s));
        }
        for t in ChangeType::ALL {
            assert_eq!(ChangeType::parse(t.as_str()), Some(*t));
        }
    }

    #[test]
    fn the_happy_paths_are_allowed_with_all_facts_in_place() {
        for t in ChangeType::ALL {
            for pair in happy_path(*t).windows(2) {
                assert_eq!(
                    transition(*t, pair[0], pair[1], &all_good()),
                    Ok(pair[1]),
                    "{t}: {} -> {}",
                    pair[0],
                    pair[1]
                );
            }
        }
    }

    #[test]
    fn every_non_terminal_status_of_a_path_can_reach_an_end() {
        for t in ChangeType::ALL {
            let mut reachable = BTreeSet::from([ChangeStatus::Draft]);
            let mut frontier = vec![ChangeStatus::Draft];
            while let Some(s) = frontier.pop() {
                for n in t.next(s) {
                    if reachable.insert(*n) {
                        frontier.push(*n);
                    }
                }
            }
            for s in &reachable {
                assert!(
                    s.is_terminal() || !t.next(*s).is_empty(),
                    "{t}: {s} is stuck"
                );
            }
            assert!(reachable.contains(&ChangeStatus::Closed));
            assert!(reachable.contains(&ChangeStatus::Failed));
            assert_eq!(
                reachable.contains(&ChangeStatus::Rejected),
                t.needs_authorisation()
            );
        }
    }

    #[test]
    fn a_standard_change_skips_assessment_and_authorisation() {
        let refused = transition(
            ChangeType::Standard,
            ChangeStatus::Draft,
            ChangeStatus::Assessment,
            &all_good(),
        );
        assert!(matches!(refused, Err(ChangeRefusal::NotAllowed { .. })));
        let pending = Facts {
            approval: ApprovalOutcome::Pending,
            plans_present: false,
            risk: None,
            ..all_good()
        };
        assert!(
            transition(
                ChangeType::Standard,
                ChangeStatus::Draft,
                ChangeStatus::Scheduled,
                &pending
            )
            .is_ok()
        );
    }

    #[test]
    fn refusals_name_what_is_missing() {
        let cases = [
            (
                ChangeType::Normal,
                ChangeStatus::Draft,
                ChangeStatus::Assessment,
                Facts {
                    plans_present: false,
                    ..all_good()
                },
                "plans",
            ),
            (
                ChangeType::Normal,
                ChangeStatus::Assessment,
                ChangeStatus::Authorisation,
                Facts {
                    risk: None,
                    ..all_good()
                },
                "risk",
            ),
            (
                ChangeType::Normal,
                ChangeStatus::Authorisation,
                ChangeStatus::Scheduled,
                Facts {
                    approval: ApprovalOutcome::Pending,
                    ..all_good()
                },
                "approval",
            ),
            (
                ChangeType::Normal,
                ChangeStatus::Authorisation,
                ChangeStatus::Rejected,
                all_good(),
                "approval",
            ),
            (
                ChangeType::Normal,
                ChangeStatus::Authorisation,
                ChangeStatus::Scheduled,
                Facts {
                    window_set: false,
                    ..all_good()
                },
                "window",
            ),
            (
                ChangeType::Standard,
                ChangeStatus::Scheduled,
                ChangeStatus::Implementing,
                Facts {
                    in_blackout: true,
                    ..all_good()
                },
                "window",
            ),
            (
                ChangeType::Emergency,
                ChangeStatus::Review,
                ChangeStatus::Failed,
                Facts {
                    review_done: false,
                    ..all_good()
                },
                "review",
            ),
        ];
        for (t, from, to, facts, field) in cases {
            match transition(t, from, to, &facts) {
                Err(ChangeRefusal::Needs(f, message)) => {
                    assert_eq!(f, field, "{t} {from} -> {to}");
                    assert!(!message.is_empty());
                }
                other => panic!("{t} {from} -> {to}: {other:?}"),
            }
        }
    }

    #[test]
    fn only_emergencies_may_enter_a_blackout() {
        let frozen = Facts {
            in_blackout: true,
            ..all_good()
        };
        assert!(
            transition(
                ChangeType::Emergency,
                ChangeStatus::Authorisation,
                ChangeStatus::Implementing,
                &frozen
            )
            .is_ok()
        );
        assert!(
            transition(
                ChangeType::Normal,
                ChangeStatus::Authorisation,
                ChangeStatus::Scheduled,
                &frozen
            )
            .is_err()
        );
    }

    #[test]
    fn a_standard_change_closes_without_review() {
        let no_review = Facts {
            review_done: false,
            ..all_good()
        };
        for to in [ChangeStatus::Closed, ChangeStatus::Failed] {
            assert!(
                transition(
                    ChangeType::Standard,
                    ChangeStatus::Implementing,
                    to,
                    &no_review
                )
                .is_ok()
            );
            assert!(transition(ChangeType::Standard, ChangeStatus::Review, to, &no_review).is_ok());
        }
    }

    fn facts() -> impl Strategy<Value = Facts> {
        (
            any::<bool>(),
            prop::option::of(prop::sample::select(RiskLevel::ALL.to_vec())),
            prop::sample::select(vec![
                ApprovalOutcome::Pending,
                ApprovalOutcome::Approved,
                ApprovalOutcome::Rejected,
            ]),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(
                |(plans_present, risk, approval, window_set, in_blackout, review_done)| Facts {
                    plans_present,
                    risk,
                    approval,
                    window_set,
                    in_blackout,
                    review_done,
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// Whatever is attempted, with whatever facts at each step: a normal or emergency change
        /// that reaches closed passed authorisation with an approval, and closed with a review.
        #[test]
        fn nothing_closes_without_approval_and_review(
            change_type in prop::sample::select(vec![ChangeType::Normal, ChangeType::Emergency]),
            steps in prop::collection::vec((any::<prop::sample::Index>(), facts()), 0..40),
        ) {
            let mut status = ChangeStatus::Draft;
            let mut approved_on_the_way = false;
            for (pick, facts) in steps {
                // Attempt a move the table allows, so that runs get deep into the lifecycle
                // and the guards (not the table) are what is tested.
                let allowed = change_type.next(status);
                if allowed.is_empty() {
                    break;
                }
                let to = allowed[pick.index(allowed.len())];
                if let Ok(next) = transition(change_type, status, to, &facts) {
                    if matches!(next, ChangeStatus::Assessment | ChangeStatus::Authorisation) {
                        approved_on_the_way = false;
                    }
                    if status == ChangeStatus::Authorisation
                        && matches!(next, ChangeStatus::Scheduled | ChangeStatus::Implementing)
                    {
                        approved_on_the_way = facts.approval == ApprovalOutcome::Approved;
                    }
                    if next == ChangeStatus::Closed || next == ChangeStatus::Failed {
                        prop_assert!(facts.review_done, "ended without a review");
                        prop_assert!(approved_on_the_way, "ended without an approval");
                    }
                    status = next;
                }
            }
        }

        /// A standard change reaches every status it can reach whatever its approvals say.
        #[test]
        fn standard_changes_never_consult_approvals(
            from in prop::sample::select(ChangeStatus::ALL.to_vec()),
            to in prop::sample::select(ChangeStatus::ALL.to_vec()),
            facts in facts(),
        ) {
            let with = |approval| transition(ChangeType::Standard, from, to, &Facts { approval, ..facts });
            prop_assert_eq!(with(ApprovalOutcome::Pending), with(ApprovalOutcome::Approved));
            prop_assert_eq!(with(ApprovalOutcome::Rejected), with(ApprovalOutcome::Approved));
        }
    }
}
