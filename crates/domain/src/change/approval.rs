//! Who authorises a change, and what their decisions add up to.
//!
//! # Choosing the approvers
//!
//! An [`ApprovalPolicy`] maps (change type, risk level) to an [`ApprovalStage`]: for example a
//! low-risk normal change to the change manager, a high-risk one to the CAB, any emergency to
//! the ECAB. Standard changes never need approval: their template is the pre-approval, so the
//! policy refuses rules for them. A change whose risk is not assessed is treated as critical.
//!
//! # Adding up decisions
//!
//! A stage becomes a [`Board`]: members and a quorum (the change manager stage is a board of
//! the people holding the role, with a quorum of one). Then:
//!
//! - each member has one seat and decides once; later decisions for the same seat are refused;
//! - a member who is away may delegate; the delegate decides *on behalf of* that member, in
//!   the member's seat, within the delegation period (`from_time` inclusive, `until`
//!   exclusive). Nobody else may decide;
//! - **any rejection rejects.** The quorum says how many approvals are enough, so a CAB of M
//!   does not wait for absentees; a rejection is a veto, because a CAB member who sees a risk
//!   the others missed is the reason to have a CAB. This is the same rule as service-request
//!   approvals, and it makes the outcome independent of the order decisions arrive in;
//! - the requester of a change may not decide on it, neither in their own seat nor as
//!   someone's delegate, and nobody may decide in the requester's seat (segregation of duties:
//!   delegating one's seat to a colleague would otherwise approve one's own change). If that
//!   leaves too few seats to reach the quorum, the state says so ([`ApprovalState::is_stuck`]).
//!
//! [`evaluate`] sorts the decisions (by time, then approver) before counting, so any
//! permutation of the same decisions gives the same state.

use crate::change::lifecycle::{ApprovalOutcome, ChangeType};
use crate::change::risk::RiskLevel;
use crate::sla::clock::Micros;
use crate::validation::Invalid;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Who must authorise a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ApprovalStage {
    /// No approval: standard changes.
    None,
    /// Any one holder of the change manager role.
    ChangeManager,
    /// The change advisory board: `quorum` approvals of its members.
    Cab { members: Vec<i64>, quorum: u32 },
    /// The emergency CAB, a smaller board that can meet at short notice.
    Ecab { members: Vec<i64>, quorum: u32 },
}

/// From `from_risk` upwards (until the next rule of the same type), changes of `change_type`
/// need `stage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApprovalRule {
    pub change_type: ChangeType,
    pub from_risk: RiskLevel,
    pub stage: ApprovalStage,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApprovalPolicy {
    pub rules: Vec<ApprovalRule>,
}

impl ApprovalPolicy {
    /// Low and medium risk to the change manager, high and critical to the CAB, emergencies to
    /// the ECAB.
    pub fn typical(cab: Board, ecab: Board) -> ApprovalPolicy {
        let rule = |change_type, from_risk, stage| ApprovalRule {
            change_type,
            from_risk,
            stage,
        };
        ApprovalPolicy {
            rules: vec![
                rule(
                    ChangeType::Normal,
                    RiskLevel::Low,
                    ApprovalStage::ChangeManager,
                ),
                rule(
                    ChangeType::Normal,
                    RiskLevel::High,
                    ApprovalStage::Cab {
                        members: cab.members,
                        quorum: cab.quorum,
                    },
                ),
                rule(
                    ChangeType::Emergency,
                    RiskLevel::Low,
                    ApprovalStage::Ecab {
                        members: ecab.members,
                        quorum: ecab.quorum,
                    },
                ),
            ],
        }
    }

    /// Checks that every normal and emergency risk level has exactly one stage that really
    /// approves, that no rule is about standard changes, and that each board can decide.
    pub fn validate(self) -> Result<ApprovalPolicy, Invalid> {
        let mut errors = Invalid::new();
        let mut seen = HashSet::new();
        for (i, rule) in self.rules.iter().enumerate() {
            let field = format!("rules[{i}]");
            if rule.change_type == ChangeType::Standard {
                errors.add(
                    &field,
                    "Standard changes are pre-approved by their template; they take no approval rule",
                );
                continue;
            }
            if !seen.insert((rule.change_type, rule.from_risk)) {
                errors.add(
                    &field,
                    format!(
                        "Two rules for {} changes from {} risk",
                        rule.change_type, rule.from_risk
                    ),
                );
            }
            match &rule.stage {
                ApprovalStage::None => errors.add(
                    &field,
                    format!("{} changes must be authorised by someone", rule.change_type),
                ),
                ApprovalStage::ChangeManager => {}
                ApprovalStage::Cab { members, quorum }
                | ApprovalStage::Ecab { members, quorum } => {
                    let board = Board {
                        members: members.clone(),
                        quorum: *quorum,
                    };
                    if let Err(e) = board.validate(&field) {
                        errors.errors.extend(e.errors);
                    }
                }
            }
        }
        for t in [ChangeType::Normal, ChangeType::Emergency] {
            if !seen.contains(&(t, RiskLevel::Low)) {
                errors.add(
                    "rules",
                    format!("Say who authorises {t} changes from low risk upwards"),
                );
            }
        }
        errors.into_result(self)
    }

    /// The stage a change needs. Unassessed risk counts as critical: until someone has looked,
    /// assume the worst.
    pub fn stage_for(&self, change_type: ChangeType, risk: Option<RiskLevel>) -> &ApprovalStage {
        if change_type == ChangeType::Standard {
            return &ApprovalStage::None;
        }
        let risk = risk.unwrap_or(RiskLevel::Critical);
        self.rules
            .iter()
            .filter(|r| r.change_type == change_type && r.from_risk <= risk)
            .max_by_key(|r| r.from_risk)
            .map_or(&ApprovalStage::ChangeManager, |r| &r.stage)
    }
}

impl ApprovalStage {
    /// The board that decides, given who holds the change manager role now; `None` when no
    /// approval is needed.
    pub fn board(&self, change_managers: &[i64]) -> Option<Board> {
        match self {
            ApprovalStage::None => None,
            ApprovalStage::ChangeManager => Some(Board {
                members: change_managers.to_vec(),
                quorum: 1,
            }),
            ApprovalStage::Cab { members, quorum } | ApprovalStage::Ecab { members, quorum } => {
                Some(Board {
                    members: members.clone(),
                    quorum: *quorum,
                })
            }
        }
    }
}

/// The people who decide, and how many approvals are enough.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Board {
    pub members: Vec<i64>,
    pub quorum: u32,
}

impl Board {
    /// Members unique and present; quorum between 1 and the number of members.
    pub fn validate(&self, field: &str) -> Result<(), Invalid> {
        let mut errors = Invalid::new();
        let unique: HashSet<i64> = self.members.iter().copied().collect();
        if self.members.is_empty() {
            errors.add(&format!("{field}.members"), "A board needs members");
        } else if unique.len() != self.members.len() {
            errors.add(
                &format!("{field}.members"),
                "A member is listed twice; each member has one seat",
            );
        }
        if self.quorum == 0 || self.quorum as usize > unique.len().max(1) {
            errors.add(
                &format!("{field}.quorum"),
                format!(
                    "The quorum must be between 1 and the number of members ({})",
                    unique.len()
                ),
            );
        }
        errors.into_result(())
    }

    fn is_member(&self, user: i64) -> bool {
        self.members.contains(&user)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approve,
    Reject,
}

crate::service::text_enum!(Verdict { Approve => "approve", Reject => "reject" });

/// One approver's decision, as journaled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Decision {
    /// Who decided.
    pub approver: i64,
    /// The member in whose seat a delegate decided.
    pub on_behalf_of: Option<i64>,
    pub verdict: Verdict,
    pub comment: String,
    pub at: Micros,
}

/// `from` is away: `to` may decide in `from`'s seat from `from_time` until `until` (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delegation {
    pub from: i64,
    pub to: i64,
    pub from_time: Micros,
    pub until: Micros,
}

impl Delegation {
    pub fn validate(self) -> Result<Delegation, Invalid> {
        let mut errors = Invalid::new();
        if self.from == self.to {
            errors.add("to", "Delegate to someone else");
        }
        if self.until <= self.from_time {
            errors.add("until", "The delegation must end after it starts");
        }
        errors.into_result(self)
    }

    fn covers(&self, member: i64, delegate: i64, at: Micros) -> bool {
        self.from == member && self.to == delegate && self.from_time <= at && at < self.until
    }
}

/// In what capacity someone decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Role {
    Member { member: i64 },
    Delegate { delegate: i64, member: i64 },
}

impl Role {
    /// The seat the decision counts for.
    pub fn member(self) -> i64 {
        match self {
            Role::Member { member } | Role::Delegate { member, .. } => member,
        }
    }
}

/// Why a decision is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalRefusal {
    #[error("the requester of a change may not decide on it")]
    OwnChange,
    #[error("user {0} is not one of this change's approvers")]
    NotAMember(i64),
    #[error("user {delegate} has no delegation from user {member} at that time")]
    NoDelegation { delegate: i64, member: i64 },
    #[error("user {0}'s seat has already decided")]
    AlreadyDecided(i64),
    #[error("say why you reject the change")]
    NeedsComment,
}

/// Whether `decision` may be accepted, given the board, the change's requester, the
/// delegations in force and the decisions already accepted; the role it is accepted in.
pub fn may_decide(
    board: &Board,
    requester: i64,
    delegations: &[Delegation],
    accepted: &[Decision],
    decision: &Decision,
) -> Result<Role, ApprovalRefusal> {
    let role = role_of(board, requester, delegations, decision)?;
    let seat = role.member();
    let taken = accepted
        .iter()
        .any(|d| role_of(board, requester, delegations, d).is_ok_and(|r| r.member() == seat));
    if taken {
        return Err(ApprovalRefusal::AlreadyDecided(seat));
    }
    Ok(role)
}

/// The seat a decision would take, ignoring whether it is already taken.
fn role_of(
    board: &Board,
    requester: i64,
    delegations: &[Delegation],
    d: &Decision,
) -> Result<Role, ApprovalRefusal> {
    let member = d.on_behalf_of.unwrap_or(d.approver);
    if d.approver == requester || member == requester {
        return Err(ApprovalRefusal::OwnChange);
    }
    if !board.is_member(member) {
        return Err(ApprovalRefusal::NotAMember(member));
    }
    if d.verdict == Verdict::Reject && d.comment.trim().is_empty() {
        return Err(ApprovalRefusal::NeedsComment);
    }
    if member == d.approver {
        return Ok(Role::Member { member });
    }
    if delegations
        .iter()
        .any(|g| g.covers(member, d.approver, d.at))
    {
        Ok(Role::Delegate {
            delegate: d.approver,
            member,
        })
    } else {
        Err(ApprovalRefusal::NoDelegation {
            delegate: d.approver,
            member,
        })
    }
}

/// Where a change's approvals stand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ApprovalState {
    Pending {
        approved: u32,
        needed: u32,
        /// Members whose seats have not decided, requester excluded, by id.
        waiting_on: Vec<i64>,
    },
    Approved,
    Rejected {
        by: i64,
        on_behalf_of: Option<i64>,
        comment: String,
    },
}

impl ApprovalState {
    pub fn outcome(&self) -> ApprovalOutcome {
        match self {
            ApprovalState::Pending { .. } => ApprovalOutcome::Pending,
            ApprovalState::Approved => ApprovalOutcome::Approved,
            ApprovalState::Rejected { .. } => ApprovalOutcome::Rejected,
        }
    }

    /// Pending, with too few undecided seats left to reach the quorum: the board must change
    /// (for example when the requester sits on a board whose quorum is all members).
    pub fn is_stuck(&self) -> bool {
        match self {
            ApprovalState::Pending {
                approved,
                needed,
                waiting_on,
            } => (*approved as usize + waiting_on.len()) < *needed as usize,
            _ => false,
        }
    }
}

/// What the decisions add up to; decisions that [`may_decide`] would refuse are ignored, so
/// the state is right even if a refused decision was stored by mistake. `None` board (no
/// approval needed) is approved.
pub fn evaluate(
    board: Option<&Board>,
    requester: i64,
    decisions: &[Decision],
    delegations: &[Delegation],
) -> ApprovalState {
    let Some(board) = board else {
        return ApprovalState::Approved;
    };
    let mut ordered: Vec<&Decision> = decisions.iter().collect();
    ordered.sort_by(|a, b| {
        (a.at, a.approver, a.on_behalf_of, a.verdict, &a.comment).cmp(&(
            b.at,
            b.approver,
            b.on_behalf_of,
            b.verdict,
            &b.comment,
        ))
    });
    let mut decided = HashSet::new();
    let mut approved = 0u32;
    let mut rejection = None;
    for d in ordered {
        let Ok(role) = role_of(board, requester, delegations, d) else {
            continue;
        };
        if !decided.insert(role.member()) {
            continue;
        }
        match d.verdict {
            Verdict::Approve => approved += 1,
            Verdict::Reject if rejection.is_none() => rejection = Some(d),
            Verdict::Reject => {}
        }
    }
    if let Some(d) = rejection {
        return ApprovalState::Rejected {
            by: d.approver,
            on_behalf_of: d.on_behalf_of.filter(|m| *m != d.approver),
            comment: d.comment.clone(),
        };
    }
    if approved >= board.quorum {
        return ApprovalState::Approved;
    }
    let mut waiting_on: Vec<i64> = board
        .members
        .iter()
        .copied()
        .filter(|m| *m != requester && !decided.contains(m))
        .collect();
    waiting_on.sort_unstable();
    waiting_on.dedup();
    ApprovalState::Pending {
        approved,
        needed: board.quorum,
        waiting_on,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const REQUESTER: i64 = 9;

    fn cab() -> Board {
        Board {
            members: vec![1, 2, 3, 4, 5],
            quorum: 3,
        }
    }

    fn decide(approver: i64, verdict: Verdict, at: Micros) -> Decision {
        Decision {
            approver,
            on_behalf_of: None,
            verdict,
            comment: if verdict == Verdict::Reject {
                "too risky".into()
            } else {
                String::new()
            },
            at,
        }
    }

    #[test]
    fn the_policy_picks_a_stage_by_type_and_risk() {
        let ecab = Board {
            members: vec![1, 2, 3],
            quorum: 2,
        };
        let policy = ApprovalPolicy::typical(cab(), ecab)
            .validate()
            .expect("valid");
        assert_eq!(
            policy.stage_for(ChangeType::Standard, None),
            &ApprovalStage::None
        );
        assert_eq!(
            policy.stage_for(ChangeType::Normal, Some(RiskLevel::Medium)),
            &ApprovalStage::ChangeManager
        );
        assert!(matches!(
            policy.stage_for(ChangeType::Normal, Some(RiskLevel::Critical)),
            ApprovalStage::Cab { quorum: 3, .. }
        ));
        assert!(matches!(
            policy.stage_for(ChangeType::Normal, None),
            ApprovalStage::Cab { .. }
        ));
        assert!(matches!(
            policy.stage_for(ChangeType::Emergency, Some(RiskLevel::Low)),
            ApprovalStage::Ecab { .. }
        ));
    }

    #[test]
    fn bad_policies_are_refused() {
        let mut policy = ApprovalPolicy::typical(
            Board {
                members: vec![1, 1],
                quorum: 3,
            },
            cab(),
        );
        policy.rules.push(ApprovalRule {
            change_type: ChangeType::Standard,
            from_risk: RiskLevel::Low,
            stage: ApprovalStage::ChangeManager,
        });
        policy.rules.remove(0);
        let err = policy.validate().expect_err("bad");
        let text = err.to_string();
        assert!(text.contains("listed twice"), "{text}");
        assert!(text.contains("quorum"), "{text}");
        assert!(text.contains("pre-approved"), "{text}");
        assert!(text.contains("normal changes from low risk"), "{text}");
    }

    #[test]
    fn quorum_approves_and_any_rejection_rejects() {
        let b = cab();
        let mut ds = vec![
            decide(1, Verdict::Approve, 1),
            decide(2, Verdict::Approve, 2),
        ];
        assert_eq!(
            evaluate(Some(&b), REQUESTER, &ds, &[]),
            ApprovalState::Pending {
                approved: 2,
                needed: 3,
                waiting_on: vec![3, 4, 5]
            }
        );
        ds.push(decide(3, Verdict::Approve, 3));
        assert_eq!(
            evaluate(Some(&b), REQUESTER, &ds, &[]),
            ApprovalState::Approved
        );
        ds.push(decide(4, Verdict::Reject, 4));
        assert!(matches!(
            evaluate(Some(&b), REQUESTER, &ds, &[]),
            ApprovalState::Rejected { by: 4, .. }
        ));
        assert_eq!(evaluate(None, REQUESTER, &[], &[]), ApprovalState::Approved);
    }

    #[test]
    fn a_seat_decides_once() {
        let b = cab();
        let first = decide(1, Verdict::Approve, 1);
        let again = decide(1, Verdict::Reject, 2);
        assert_eq!(
            may_decide(&b, REQUESTER, &[], std::slice::from_ref(&first), &again),
            Err(ApprovalRefusal::AlreadyDecided(1))
        );
        let state = evaluate(Some(&b), REQUESTER, &[again, first], &[]);
        assert!(matches!(state, ApprovalState::Pending { approved: 1, .. }));
    }

    #[test]
    fn delegates_decide_for_away_members_within_the_period() {
        let b = cab();
        let away = Delegation {
            from: 2,
            to: 7,
            from_time: 100,
            until: 200,
        };
        let mut d = decide(7, Verdict::Approve, 150);
        assert_eq!(
            may_decide(&b, REQUESTER, &[away], &[], &d),
            Err(ApprovalRefusal::NotAMember(7))
        );
        d.on_behalf_of = Some(2);
        assert_eq!(
            may_decide(&b, REQUESTER, &[away], &[], &d),
            Ok(Role::Delegate {
                delegate: 7,
                member: 2
            })
        );
        d.at = 200;
        assert_eq!(
            may_decide(&b, REQUESTER, &[away], &[], &d),
            Err(ApprovalRefusal::NoDelegation {
                delegate: 7,
                member: 2
            })
        );
        // The member back early takes the seat; the delegate then cannot.
        d.at = 150;
        let back = decide(2, Verdict::Approve, 120);
        assert_eq!(
            may_decide(&b, REQUESTER, &[away], &[back], &d),
            Err(ApprovalRefusal::AlreadyDecided(2))
        );
    }

    #[test]
    fn the_requester_never_decides() {
        let b = Board {
            members: vec![1, REQUESTER],
            quorum: 2,
        };
        let own = decide(REQUESTER, Verdict::Approve, 1);
        assert_eq!(
            may_decide(&b, REQUESTER, &[], &[], &own),
            Err(ApprovalRefusal::OwnChange)
        );
        let sneaky = Delegation {
            from: REQUESTER,
            to: 1,
            from_time: 0,
            until: 10,
        };
        let for_requester = Decision {
            on_behalf_of: Some(REQUESTER),
            ..decide(1, Verdict::Approve, 2)
        };
        assert_eq!(
            may_decide(&b, REQUESTER, &[sneaky], &[], &for_requester),
            Err(ApprovalRefusal::OwnChange)
        );
        let state = evaluate(
            Some(&b),
            REQUESTER,
            &[own, for_requester, decide(1, Verdict::Approve, 3)],
            &[sneaky],
        );
        assert!(state.is_stuck(), "{state:?}");
    }

    #[test]
    fn a_rejection_needs_a_reason() {
        let mut d = decide(1, Verdict::Reject, 1);
        d.comment = "  ".into();
        assert_eq!(
            may_decide(&cab(), REQUESTER, &[], &[], &d),
            Err(ApprovalRefusal::NeedsComment)
        );
    }

    fn decision() -> impl Strategy<Value = Decision> {
        (
            prop::sample::select(vec![1i64, 2, 3, 4, 5, 7, REQUESTER]),
            prop::option::of(prop::sample::select(vec![1i64, 2, 3, REQUESTER])),
            prop::sample::select(vec![Verdict::Approve, Verdict::Reject]),
            prop::sample::select(vec![String::new(), "because".to_owned()]),
            0i64..20,
        )
            .prop_map(|(approver, on_behalf_of, verdict, comment, at)| Decision {
                approver,
                on_behalf_of,
                verdict,
                comment,
                at,
            })
    }

    fn delegations() -> Vec<Delegation> {
        vec![
            Delegation {
                from: 2,
                to: 7,
                from_time: 5,
                until: 15,
            },
            Delegation {
                from: REQUESTER,
                to: 1,
                from_time: 0,
                until: 20,
            },
        ]
    }

    proptest! {
        #[test]
        fn order_does_not_matter(
            (ds, permuted) in prop::collection::vec(decision(), 0..12)
                .prop_flat_map(|ds| (Just(ds.clone()), Just(ds).prop_shuffle())),
            quorum in 1u32..=5,
        ) {
            let b = Board { quorum, ..cab() };
            prop_assert_eq!(
                evaluate(Some(&b), REQUESTER, &permuted, &delegations()),
                evaluate(Some(&b), REQUESTER, &ds, &delegations())
            );
        }

        /// Removing every decision the requester took part in changes nothing.
        #[test]
        fn the_requester_never_counts(ds in prop::collection::vec(decision(), 0..12), quorum in 1u32..=5) {
            let b = Board { members: vec![1, 2, 3, 4, 5, REQUESTER], quorum };
            let without: Vec<Decision> = ds
                .iter()
                .filter(|d| d.approver != REQUESTER && d.on_behalf_of != Some(REQUESTER))
                .cloned()
                .collect();
            prop_assert_eq!(
                evaluate(Some(&b), REQUESTER, &ds, &delegations()),
                evaluate(Some(&b), REQUESTER, &without, &delegations())
            );
            if let ApprovalState::Pending { waiting_on, .. } = evaluate(Some(&b), REQUESTER, &ds, &delegations()) {
                prop_assert!(!waiting_on.contains(&REQUESTER));
            }
        }
    }
}
