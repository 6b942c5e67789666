//! Moving a change through its lifecycle, and its post-implementation review.
//!
//! The domain decides (`steward_domain::change::lifecycle::transition`); the store gathers the
//! `Facts` it needs from what it holds: the plans, the risk assessment, the approval state of
//! the current round, the planned window against the tenant's blackouts, and the review. A
//! refusal is a `Conflict` with the domain's plain message, and nothing changes.
//!
//! Entering authorisation opens a new approval round, so decisions made on an earlier version
//! of the plan (before the change went back for rework) no longer count.

use super::{Change, read_change};
use crate::db::{Tx, sql};
use crate::{Actor, Store, StoreError, StoreResult, now_micros};
use serde::{Deserialize, Serialize};
use steward_domain::Invalid;
use steward_domain::change::ChangeStatus;
use steward_domain::change::lifecycle::{Facts, transition};
use steward_domain::change::schedule::blocking_blackouts;
use steward_domain::validation::optional_text;

/// How the change went, as its post-implementation review found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewOutcome {
    Successful,
    PartiallySuccessful,
    Failed,
}

impl ReviewOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewOutcome::Successful => "successful",
            ReviewOutcome::PartiallySuccessful => "partially_successful",
            ReviewOutcome::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<ReviewOutcome> {
        [
            ReviewOutcome::Successful,
            ReviewOutcome::PartiallySuccessful,
            ReviewOutcome::Failed,
        ]
        .into_iter()
        .find(|o| o.as_str() == text)
    }
}

/// A post-implementation review as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Review {
    pub outcome: ReviewOutcome,
    /// Whether the back-out plan was carried out.
    pub backed_out: bool,
    pub notes: String,
    pub reviewed_at: i64,
    pub reviewed_by: Option<i64>,
}

/// A post-implementation review as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewInput {
    pub outcome: ReviewOutcome,
    pub backed_out: bool,
    pub notes: String,
}

impl Store {
    /// What the lifecycle's guards need to know about `change`, read inside `tx`.
    async fn facts(&self, tx: &mut Tx, tenant_id: i64, change: &Change) -> StoreResult<Facts> {
        let approval = if change.status == ChangeStatus::Authorisation {
            self.approvals_in(tx, tenant_id, change)
                .await?
                .state
                .outcome()
        } else {
            // Only the move out of authorisation consults approvals (and rejection, which
            // only a decision makes); elsewhere the guard is never asked.
            Default::default()
        };
        let in_blackout = match change.window {
            Some(window) => {
                let blackouts = super::schedule::blackouts_in(tx, tenant_id, &window).await?;
                !blocking_blackouts(&window, &change.ci_ids, &change.service_ids, &blackouts)
                    .is_empty()
            }
            None => false,
        };
        Ok(Facts {
            plans_present: change.draft().has_plans(),
            risk: change.risk.as_ref().map(|r| r.level),
            approval,
            window_set: change.window.is_some(),
            in_blackout,
            review_done: change.review.is_some(),
        })
    }

    /// Moves a change to `to` if its type's lifecycle allows it and its facts satisfy the
    /// guards; a refusal is a `Conflict` saying what is missing, and changes nothing.
    pub async fn transition_change(
        &self,
        tenant_id: i64,
        id: i64,
        to: ChangeStatus,
        actor: &Actor,
    ) -> StoreResult<Change> {
        let mut tx = self.db.begin().await?;
        let before = read_change(&mut tx, tenant_id, id).await?;
        let facts = self.facts(&mut tx, tenant_id, &before).await?;
        let next = transition(before.change_type, before.status, to, &facts)
            .map_err(|refusal| StoreError::Conflict(capitalised(&refusal.to_string())))?;
        // A major change is scheduled only once its service design is accepted (8.5.2).
        self.check_design_accepted(&mut tx, tenant_id, &before, next)
            .await?;
        set_status(&mut tx, &before, next).await?;
        self.finish_change_write(tx, tenant_id, &before, actor)
            .await
    }

    /// Records the post-implementation review of a change being implemented or in review.
    /// Recording it again replaces it.
    pub async fn review_change(
        &self,
        tenant_id: i64,
        id: i64,
        review: &ReviewInput,
        actor: &Actor,
    ) -> StoreResult<Change> {
        let mut errors = Invalid::new();
        let notes = optional_text(&mut errors, "notes", "Notes", &review.notes, 100_000);
        errors.into_result(())?;
        let mut tx = self.db.begin().await?;
        let before = read_change(&mut tx, tenant_id, id).await?;
        if !matches!(
            before.status,
            ChangeStatus::Implementing | ChangeStatus::Review
        ) {
            return Err(StoreError::Conflict(format!(
                "{} is {}: a post-implementation review is recorded once the change is implemented",
                before.key(),
                before.status
            )));
        }
        let now = now_micros().max(before.updated_at + 1);
        tx.execute(
            sql("UPDATE changes SET review_outcome = $1, review_backed_out = $2, review_notes = $3, \
                 reviewed_at = $4, reviewed_by = $5, updated_at = $4 WHERE tenant_id = $6 AND id = $7")
            .bind(review.outcome.as_str())
            .bind(review.backed_out)
            .bind(notes)
            .bind(now)
            .bind(actor.user_id)
            .bind(tenant_id)
            .bind(id),
        )
        .await?;
        self.finish_change_write(tx, tenant_id, &before, actor)
            .await
    }
}

/// Writes a change's new status: a new approval round on entering authorisation, the end
/// time on reaching a terminal status.
pub(crate) async fn set_status(
    tx: &mut Tx,
    before: &Change,
    next: ChangeStatus,
) -> StoreResult<()> {
    let round = before.approval_round + i64::from(next == ChangeStatus::Authorisation);
    let now = now_micros().max(before.updated_at + 1);
    let ended_at = next.is_terminal().then_some(now);
    tx.execute(
        sql(
            "UPDATE changes SET status = $1, approval_round = $2, ended_at = $3, updated_at = $4 \
             WHERE id = $5",
        )
        .bind(next.as_str())
        .bind(round)
        .bind(ended_at)
        .bind(now)
        .bind(before.id),
    )
    .await?;
    Ok(())
}

/// The domain's refusals are sentences without their first capital.
pub(crate) fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}
