//! Risk assessment, approve/reject decisions and delegations.
//!
//! Who decides comes from the tenant's approval policy, by the change's type and risk
//! (`ApprovalPolicy::stage_for`); the change manager stage is a board of the tenant's active
//! admins and managers with a quorum of one. Decisions are checked by the domain's
//! `may_decide` (board seats, delegations, the requester never decides) and the state is
//! evaluated again after each one.
//!
//! A rejection ends the change at once: it moves to `rejected` in the decision's
//! transaction, because any rejection is a veto and nothing else can follow it. An approval
//! that completes the quorum does **not** move the change: it stays in authorisation,
//! approved, until someone moves it on, to `scheduled` (or for an emergency straight to
//! `implementing`). Which of the two, and when, is the implementer's call, and the scheduling
//! guards (a window set, no blackout) may refuse; a board's decision must never fail, or be
//! undone, because the window needs moving.

use super::lifecycle::{capitalised, set_status};
use super::{Change, check_editable, read_change};
use crate::cmdb::with_ids;
use crate::db::{Sql, Tx, sql};
use crate::journal::{Change as Entry, Record, RecordWrite};
use crate::refs::Ref;
use crate::{Actor, Store, StoreError, StoreResult, now_micros};
use serde::Serialize;
use steward_domain::Invalid;
use steward_domain::change::approval::{ApprovalRefusal, evaluate, may_decide};
use steward_domain::change::risk::{Answers, Assessment};
use steward_domain::change::{
    ApprovalStage, ApprovalState, Board, ChangeStatus, Decision, Delegation, Verdict,
};
use steward_domain::journal::Action;

/// A decision as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct StoredDecision {
    pub id: i64,
    pub change_id: i64,
    pub round: i64,
    pub approver_id: i64,
    pub on_behalf_of: Option<i64>,
    #[sqlx(try_from = "String")]
    pub verdict: Verdict,
    pub comment: String,
    pub at: i64,
}

impl StoredDecision {
    fn decision(&self) -> Decision {
        Decision {
            approver: self.approver_id,
            on_behalf_of: self.on_behalf_of,
            verdict: self.verdict,
            comment: self.comment.clone(),
            at: self.at,
        }
    }
}

impl Record for StoredDecision {
    const KIND: &'static str = "change_decision";
    fn id(&self) -> i64 {
        self.id
    }
}

/// A delegation as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct StoredDelegation {
    pub id: i64,
    pub from_user: i64,
    pub to_user: i64,
    pub from_time: i64,
    pub until: i64,
    pub created_at: i64,
}

impl StoredDelegation {
    fn delegation(&self) -> Delegation {
        Delegation {
            from: self.from_user,
            to: self.to_user,
            from_time: self.from_time,
            until: self.until,
        }
    }
}

impl Record for StoredDelegation {
    const KIND: &'static str = "change_delegation";
    fn id(&self) -> i64 {
        self.id
    }
}

/// Where a change's approvals stand in its current round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Approvals {
    /// Who must authorise, by the policy, the change's type and its risk.
    pub stage: ApprovalStage,
    /// The seats and quorum; `None` for standard changes.
    pub board: Option<Board>,
    pub state: ApprovalState,
    /// The decisions of the current round, oldest first.
    pub decisions: Vec<StoredDecision>,
}

const DECISION_COLUMNS: &str =
    "id, change_id, round, approver_id, on_behalf_of, verdict, comment, at";
const DELEGATION_COLUMNS: &str = "id, from_user, to_user, from_time, until, created_at";

impl Store {
    /// The approval state of `change`'s current round, read inside `tx`.
    pub(crate) async fn approvals_in(
        &self,
        tx: &mut Tx,
        tenant_id: i64,
        change: &Change,
    ) -> StoreResult<Approvals> {
        let policy = super::policy::read_policy(tx, tenant_id).await?;
        let stage = policy
            .approvals
            .stage_for(change.change_type, change.risk.as_ref().map(|r| r.level))
            .clone();
        let managers: Vec<(i64,)> = if stage == ApprovalStage::ChangeManager {
            tx.fetch_all(
                sql("SELECT id FROM users WHERE tenant_id = $1 AND active = $2 AND role IN ('admin', 'manager') ORDER BY id")
                    .bind(tenant_id)
                    .bind(true),
            )
            .await?
        } else {
            Vec::new()
        };
        let managers: Vec<i64> = managers.into_iter().map(|(id,)| id).collect();
        let board = stage.board(&managers);
        let decisions: Vec<StoredDecision> = tx
            .fetch_all(
                sql(format!(
                    "SELECT {DECISION_COLUMNS} FROM change_decisions WHERE change_id = $1 AND round = $2 ORDER BY id"
                ))
                .bind(change.id)
                .bind(change.approval_round),
            )
            .await?;
        let delegations = delegations_from(tx, tenant_id, board.as_ref()).await?;
        let plain: Vec<Decision> = decisions.iter().map(StoredDecision::decision).collect();
        let state = evaluate(board.as_ref(), change.requester(), &plain, &delegations);
        Ok(Approvals {
            stage,
            board,
            state,
            decisions,
        })
    }

    /// Where the change's approvals stand.
    pub async fn change_approvals(&self, tenant_id: i64, id: i64) -> StoreResult<Approvals> {
        let mut conn = self.db.snapshot().await?;
        let change = read_change(&mut conn, tenant_id, id).await?;
        let approvals = self.approvals_in(&mut conn, tenant_id, &change).await?;
        conn.commit().await?;
        Ok(approvals)
    }

    /// Answers the risk questionnaire of a change in draft or assessment: the tenant's
    /// questionnaire turns the answers into a level, which chooses the approvers.
    pub async fn assess_change_risk(
        &self,
        tenant_id: i64,
        id: i64,
        answers: &Answers,
        actor: &Actor,
    ) -> StoreResult<(Change, Assessment)> {
        let mut tx = self.db.begin().await?;
        let before = read_change(&mut tx, tenant_id, id).await?;
        check_editable(&before, "its risk is assessed")?;
        let policy = super::policy::read_policy(&mut tx, tenant_id).await?;
        let assessment = policy.questionnaire.assess(answers)?;
        let answers_json =
            serde_json::to_string(answers).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        tx.execute(
            sql("UPDATE changes SET risk_level = $1, risk_score = $2, risk_answers_json = $3, updated_at = $4 \
                 WHERE tenant_id = $5 AND id = $6")
            .bind(assessment.level.as_str())
            .bind(i64::from(assessment.score))
            .bind(answers_json)
            .bind(now_micros().max(before.updated_at + 1))
            .bind(tenant_id)
            .bind(id),
        )
        .await?;
        let after = self
            .finish_change_write(tx, tenant_id, &before, actor)
            .await?;
        Ok((after, assessment))
    }

    /// Records `approver`'s decision on a change in authorisation, in their own seat or, with
    /// `on_behalf_of`, in the seat of a member who delegated to them. Refusals (not an
    /// approver, the requester, a seat already decided, no delegation) are `Conflict`s; a
    /// rejection without a comment is `Invalid`. A rejection moves the change to `rejected`
    /// at once; a completed approval leaves it in authorisation (see the module docs).
    pub async fn decide_change(
        &self,
        tenant_id: i64,
        id: i64,
        verdict: Verdict,
        comment: &str,
        on_behalf_of: Option<i64>,
        actor: &Actor,
    ) -> StoreResult<Approvals> {
        let approver = actor
            .user_id
            .ok_or_else(|| StoreError::Conflict("Only a person can decide on a change".into()))?;
        let mut tx = self.db.begin().await?;
        let change = read_change(&mut tx, tenant_id, id).await?;
        if change.status != ChangeStatus::Authorisation {
            return Err(StoreError::Conflict(format!(
                "{} is {}, not waiting for authorisation",
                change.key(),
                change.status
            )));
        }
        let approvals = self.approvals_in(&mut tx, tenant_id, &change).await?;
        let Some(board) = approvals.board.as_ref() else {
            return Err(StoreError::Conflict(format!(
                "{} is a standard change: its template is its approval",
                change.key()
            )));
        };
        let decision = Decision {
            approver,
            on_behalf_of: on_behalf_of.filter(|m| *m != approver),
            verdict,
            comment: comment.trim().to_owned(),
            at: now_micros(),
        };
        let delegations = delegations_from(&mut tx, tenant_id, Some(board)).await?;
        let accepted: Vec<Decision> = approvals
            .decisions
            .iter()
            .map(StoredDecision::decision)
            .collect();
        may_decide(
            board,
            change.requester(),
            &delegations,
            &accepted,
            &decision,
        )
        .map_err(refusal)?;
        let stored: StoredDecision = tx
            .fetch_one(
                sql(format!(
                    "INSERT INTO change_decisions (tenant_id, change_id, round, approver_id, on_behalf_of, verdict, comment, at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {DECISION_COLUMNS}"
                ))
                .bind(tenant_id)
                .bind(change.id)
                .bind(change.approval_round)
                .bind(decision.approver)
                .bind(decision.on_behalf_of)
                .bind(decision.verdict.as_str())
                .bind(decision.comment.clone())
                .bind(decision.at),
            )
            .await?;
        self.journal(
            &mut tx,
            Entry::of(tenant_id, actor, Action::Create, None, Some(&stored)),
        )
        .await?;
        let approvals = self.approvals_in(&mut tx, tenant_id, &change).await?;
        if matches!(approvals.state, ApprovalState::Rejected { .. }) {
            set_status(&mut tx, &change, ChangeStatus::Rejected).await?;
            let after = read_change(&mut tx, tenant_id, id).await?;
            self.journal(
                &mut tx,
                Entry::of(
                    tenant_id,
                    actor,
                    Action::Update,
                    Some(&change),
                    Some(&after),
                ),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(approvals)
    }

    /// Lets `to_user` decide in `from_user`'s seats for a while.
    pub async fn create_delegation(
        &self,
        tenant_id: i64,
        delegation: &Delegation,
        actor: &Actor,
    ) -> StoreResult<StoredDelegation> {
        let d = delegation.validate()?;
        let refs: Vec<Ref> = [("from", d.from), ("to", d.to)]
            .into_iter()
            .map(|(field, id)| (field.to_owned(), "users", Some(id), "User"))
            .collect();
        self.missing_refs(tenant_id, &refs).await?.into_result(())?;
        self.write_record(RecordWrite {
            tenant_id,
            action: Action::Create,
            actor,
            before: None,
            write: sql(format!(
                "INSERT INTO change_delegations (tenant_id, from_user, to_user, from_time, until, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING {DELEGATION_COLUMNS}"
            ))
            .bind(tenant_id)
            .bind(d.from)
            .bind(d.to)
            .bind(d.from_time)
            .bind(d.until)
            .bind(now_micros()),
            unique: None,
        })
        .await
    }

    /// Ends a delegation now (or cancels one not yet begun). Decisions the delegate already
    /// made stay valid: the period is shortened, not erased.
    pub async fn end_delegation(
        &self,
        tenant_id: i64,
        id: i64,
        actor: &Actor,
    ) -> StoreResult<StoredDelegation> {
        self.write_record(RecordWrite {
            tenant_id,
            action: Action::Update,
            actor,
            before: Some(select_delegation(tenant_id, id)),
            write: sql(format!(
                "UPDATE change_delegations SET until = CASE WHEN until <= $1 THEN until \
                 WHEN from_time > $1 THEN from_time ELSE $1 END \
                 WHERE tenant_id = $2 AND id = $3 RETURNING {DELEGATION_COLUMNS}"
            ))
            .bind(now_micros())
            .bind(tenant_id)
            .bind(id),
            unique: None,
        })
        .await
    }

    pub async fn delegation(&self, tenant_id: i64, id: i64) -> StoreResult<StoredDelegation> {
        self.db.fetch_one(select_delegation(tenant_id, id)).await
    }

    /// The delegations a user gave or received, newest first.
    pub async fn delegations_of(
        &self,
        tenant_id: i64,
        user_id: i64,
    ) -> StoreResult<Vec<StoredDelegation>> {
        self.db
            .fetch_all(
                sql(format!(
                    "SELECT {DELEGATION_COLUMNS} FROM change_delegations WHERE tenant_id = $1 \
                     AND (from_user = $2 OR to_user = $2) ORDER BY id DESC"
                ))
                .bind(tenant_id)
                .bind(user_id),
            )
            .await
    }
}

fn select_delegation(tenant_id: i64, id: i64) -> Sql {
    sql(format!(
        "SELECT {DELEGATION_COLUMNS} FROM change_delegations WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
}

/// The delegations given by the board's members (all of them: the domain checks each
/// decision's time against each period).
async fn delegations_from(
    tx: &mut Tx,
    tenant_id: i64,
    board: Option<&Board>,
) -> StoreResult<Vec<Delegation>> {
    let Some(board) = board.filter(|b| !b.members.is_empty()) else {
        return Ok(Vec::new());
    };
    let q = sql(format!(
        "SELECT {DELEGATION_COLUMNS} FROM change_delegations WHERE tenant_id = $1"
    ))
    .bind(tenant_id);
    let rows: Vec<StoredDelegation> = tx
        .fetch_all(with_ids(q, "from_user", &board.members))
        .await?;
    Ok(rows.iter().map(StoredDelegation::delegation).collect())
}

/// A decision the rules refuse: a missing reason is the form's to fix, the rest conflicts.
fn refusal(r: ApprovalRefusal) -> StoreError {
    match r {
        ApprovalRefusal::NeedsComment => {
            Invalid::one("comment", "Say why you reject the change").into()
        }
        ApprovalRefusal::OwnChange => StoreError::Conflict(
            "The requester of a change may not decide on it, in their own seat or anyone else's"
                .into(),
        ),
        ApprovalRefusal::NotAMember(user) => {
            StoreError::Conflict(format!("User {user} is not one of this change's approvers"))
        }
        other => StoreError::Conflict(capitalised(&other.to_string())),
    }
}
