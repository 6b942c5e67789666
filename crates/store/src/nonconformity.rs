//! Nonconformities, corrective actions and effectiveness checks: what
//! `steward_domain::sms::nonconformity` decided, kept.
//!
//! Every write reads the nonconformity's facts back in its own transaction and lets the
//! domain settle its status, so that no write path leaves a status its facts contradict; each
//! status it reaches gets a history row, and every record written is journaled in the same
//! transaction. Reminders already sent are claimed in `nonconformity_reminders`, so the daily
//! job sends each once however many nodes run it.

use crate::db::{Sql, Tx, sql};
use crate::journal::{Change, Record};
use crate::mail::{OutMail, queue_mail_in};
use crate::page::{CursorKey, Page, PageRequest, Sort, finish, paginate};
use crate::{Actor, Store, StoreError, StoreResult, next_updated_at, now_micros};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use steward_domain::Invalid;
use steward_domain::journal::Action;
use steward_domain::sms::nonconformity::{
    ActionDraft, Facts, NcMove, NcReminderKind, NcStatus, NonconformityDraft, NonconformityEdit,
    RootCauseMethod, Severity, Source, action_reminder, check_reminder_due, checked_note,
    default_check_due, is_overdue,
};

/// A nonconformity as stored (and as the journal keeps it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nonconformity {
    pub id: i64,
    /// Shown as `NC-<number>`.
    pub number: i64,
    pub title: String,
    pub description: String,
    pub clause_id: Option<String>,
    pub severity: Severity,
    pub source: Source,
    /// The audit finding's or the incident's id.
    pub source_ref: Option<i64>,
    pub owner_id: Option<i64>,
    pub raised_by: Option<i64>,
    pub raised_by_label: String,
    pub raised_at: i64,
    pub containment: String,
    pub root_cause: String,
    pub root_cause_method: Option<RootCauseMethod>,
    pub status: NcStatus,
    /// How many checks found the actions ineffective.
    pub round: i64,
    pub check_due: Option<Date>,
    pub closed_at: Option<i64>,
    pub updated_at: i64,
}

impl Record for Nonconformity {
    const KIND: &'static str = "nonconformity";
    fn id(&self) -> i64 {
        self.id
    }
}

impl Nonconformity {
    /// `NC-<number>`.
    pub fn reference(&self) -> String {
        format!("NC-{}", self.number)
    }

    /// Its editable fields, to change and validate again for `update_nonconformity`.
    pub fn edit(&self) -> NonconformityEdit {
        NonconformityEdit {
            title: self.title.clone(),
            description: self.description.clone(),
            owner_id: self.owner_id,
            containment: self.containment.clone(),
            root_cause: self.root_cause.clone(),
            root_cause_method: self.root_cause_method,
            check_due: self.check_due,
        }
    }
}

/// A corrective action as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrectiveAction {
    pub id: i64,
    pub nonconformity_id: i64,
    pub description: String,
    pub owner_id: Option<i64>,
    pub due: Date,
    /// The nonconformity's round when the action was added.
    pub round: i64,
    pub created_at: i64,
    pub completed_at: Option<i64>,
    pub completed_on: Option<Date>,
    pub completed_by: Option<i64>,
    pub completion_note: String,
}

impl Record for CorrectiveAction {
    const KIND: &'static str = "corrective_action";
    fn id(&self) -> i64 {
        self.id
    }
}

impl CorrectiveAction {
    pub fn is_overdue(&self, today: Date) -> bool {
        is_overdue(self.due, self.completed_at.is_some(), today)
    }
}

/// An effectiveness check as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct EffectivenessCheck {
    pub id: i64,
    pub nonconformity_id: i64,
    pub effective: bool,
    pub notes: String,
    pub checked_by: Option<i64>,
    pub checked_by_label: String,
    pub checked_at: i64,
}

impl Record for EffectivenessCheck {
    const KIND: &'static str = "effectiveness_check";
    fn id(&self) -> i64 {
        self.id
    }
}

/// One status a nonconformity had: from (none when raised), to, why, who and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct NcStatusChange {
    pub id: i64,
    pub from_status: Option<String>,
    pub to_status: String,
    pub note: String,
    pub actor_id: Option<i64>,
    pub actor_label: String,
    pub at: i64,
}

/// A nonconformity in a list, with how many of its actions are overdue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NonconformityItem {
    #[serde(flatten)]
    pub nonconformity: Nonconformity,
    pub overdue_actions: i64,
}

/// Which nonconformities a list shows.
#[derive(Debug, Clone, Default)]
pub struct NonconformityFilter {
    pub status: Option<NcStatus>,
    pub severity: Option<Severity>,
    pub source: Option<Source>,
    /// Only those with an action past its due date.
    pub overdue: bool,
    /// Only those this user owns or has an open action on.
    pub mine: Option<i64>,
    /// `number` (default), `raised_at` or `updated_at`; a leading `-` sorts descending.
    pub sort: Option<String>,
}

/// One reminder the daily job sent.
#[derive(Debug, Clone)]
pub struct NcReminder {
    pub kind: NcReminderKind,
    pub nonconformity: Nonconformity,
    /// The action, for action reminders.
    pub action: Option<CorrectiveAction>,
    pub due_on: Date,
    /// Name and e-mail address of the recipient.
    pub recipient: (String, String),
}

#[derive(sqlx::FromRow)]
struct NcRow {
    id: i64,
    number: i64,
    title: String,
    description: String,
    clause_id: Option<String>,
    #[sqlx(try_from = "String")]
    severity: Severity,
    #[sqlx(try_from = "String")]
    source: Source,
    source_ref: Option<i64>,
    owner_id: Option<i64>,
    raised_by: Option<i64>,
    raised_by_label: String,
    raised_at: i64,
    containment: String,
    root_cause: String,
    root_cause_method: Option<String>,
    #[sqlx(try_from = "String")]
    status: NcStatus,
    round: i64,
    check_due: Option<String>,
    closed_at: Option<i64>,
    updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct ItemRow {
    #[sqlx(flatten)]
    row: NcRow,
    overdue_actions: i64,
}

#[derive(sqlx::FromRow)]
struct ActionRow {
    id: i64,
    nonconformity_id: i64,
    description: String,
    owner_id: Option<i64>,
    due: String,
    round: i64,
    created_at: i64,
    completed_at: Option<i64>,
    completed_on: Option<String>,
    completed_by: Option<i64>,
    completion_note: String,
}

fn stored_date(what: &str, id: i64, text: &str) -> StoreResult<Date> {
    Date::strptime("%Y-%m-%d", text)
        .map_err(|e| StoreError::Corrupt(format!("{what} {id} date `{text}`: {e}")))
}

fn date_text(date: Date) -> String {
    date.strftime("%Y-%m-%d").to_string()
}

impl NcRow {
    fn into_nonconformity(self) -> StoreResult<Nonconformity> {
        let id = self.id;
        let root_cause_method = match self.root_cause_method.as_deref() {
            None => None,
            Some(text) => Some(RootCauseMethod::parse(text).ok_or_else(|| {
                StoreError::Corrupt(format!("nonconformity {id} root cause method `{text}`"))
            })?),
        };
        Ok(Nonconformity {
            id,
            check_due: self
                .check_due
                .as_deref()
                .map(|t| stored_date("nonconformity", id, t))
                .transpose()?,
            root_cause_method,
            number: self.number,
            title: self.title,
            description: self.description,
            clause_id: self.clause_id,
            severity: self.severity,
            source: self.source,
            source_ref: self.source_ref,
            owner_id: self.owner_id,
            raised_by: self.raised_by,
            raised_by_label: self.raised_by_label,
            raised_at: self.raised_at,
            containment: self.containment,
            root_cause: self.root_cause,
            status: self.status,
            round: self.round,
            closed_at: self.closed_at,
            updated_at: self.updated_at,
        })
    }
}

impl ActionRow {
    fn into_action(self) -> StoreResult<CorrectiveAction> {
        let id = self.id;
        Ok(CorrectiveAction {
            id,
            due: stored_date("corrective action", id, &self.due)?,
            completed_on: self
                .completed_on
                .as_deref()
                .map(|t| stored_date("corrective action", id, t))
                .transpose()?,
            nonconformity_id: self.nonconformity_id,
            description: self.description,
            owner_id: self.owner_id,
            round: self.round,
            created_at: self.created_at,
            completed_at: self.completed_at,
            completed_by: self.completed_by,
            completion_note: self.completion_note,
        })
    }
}

const COLUMNS: &str = "id, number, title, description, clause_id, severity, source, source_ref, owner_id, \
                       raised_by, raised_by_label, raised_at, containment, root_cause, root_cause_method, \
                       status, round, check_due, closed_at, updated_at";
const ACTION_COLUMNS: &str = "id, nonconformity_id, description, owner_id, due, round, created_at, \
                              completed_at, completed_on, completed_by, completion_note";
const CHECK_COLUMNS: &str =
    "id, nonconformity_id, effective, notes, checked_by, checked_by_label, checked_at";

fn select_one(tenant_id: i64, id: i64) -> Sql {
    sql(format!(
        "SELECT {COLUMNS} FROM nonconformities WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
}

async fn read_nonconformity(tx: &mut Tx, tenant_id: i64, id: i64) -> StoreResult<Nonconformity> {
    let row: NcRow = tx.fetch_one(select_one(tenant_id, id)).await?;
    row.into_nonconformity()
}

async fn read_action(
    tx: &mut Tx,
    tenant_id: i64,
    nonconformity_id: i64,
    id: i64,
) -> StoreResult<CorrectiveAction> {
    let row: ActionRow = tx
        .fetch_one(
            sql(format!(
                "SELECT {ACTION_COLUMNS} FROM corrective_actions \
                 WHERE tenant_id = $1 AND nonconformity_id = $2 AND id = $3"
            ))
            .bind(tenant_id)
            .bind(nonconformity_id)
            .bind(id),
        )
        .await?;
    row.into_action()
}

/// Refuses `what` with the domain's message when the nonconformity's status does not allow it.
fn allowed(nc: &Nonconformity, what: NcMove) -> StoreResult<()> {
    nc.status
        .check(what)
        .map_err(|refusal| StoreError::Conflict(refusal.to_string()))
}

/// Whether user `id` is a user of the tenant; `Invalid` on `field` if not.
async fn check_user_in(
    tx: &mut Tx,
    tenant_id: i64,
    field: &str,
    id: Option<i64>,
) -> StoreResult<()> {
    let Some(id) = id else { return Ok(()) };
    let found: Option<(i64,)> = tx
        .fetch_optional(
            sql("SELECT id FROM users WHERE tenant_id = $1 AND id = $2")
                .bind(tenant_id)
                .bind(id),
        )
        .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(Invalid::one(
            field,
            format!("User {id} is not a user of this organisation"),
        )
        .into()),
    }
}

/// Checks that an incident source names an incident of the tenant. Audit findings are the
/// internal audit's to check: it raises their nonconformities in its own transaction.
async fn check_source_in(tx: &mut Tx, tenant_id: i64, d: &NonconformityDraft) -> StoreResult<()> {
    let (Source::Incident, Some(id)) = (d.source, d.source_ref) else {
        return Ok(());
    };
    let found: Option<(i64,)> = tx
        .fetch_optional(
            sql("SELECT id FROM incidents WHERE tenant_id = $1 AND id = $2")
                .bind(tenant_id)
                .bind(id),
        )
        .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(Invalid::one(
            "source_ref",
            format!("Incident {id} does not exist in this organisation"),
        )
        .into()),
    }
}

/// Appends a row to a nonconformity's status history, in `tx`.
async fn record_status(
    tx: &mut Tx,
    tenant_id: i64,
    nonconformity_id: i64,
    from: Option<NcStatus>,
    to: NcStatus,
    note: &str,
    actor: &Actor,
) -> StoreResult<()> {
    tx.execute(
        sql("INSERT INTO nonconformity_history \
             (tenant_id, nonconformity_id, from_status, to_status, note, actor_id, actor_label, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(tenant_id)
        .bind(nonconformity_id)
        .bind(from.map(|s| s.as_str().to_owned()))
        .bind(to.as_str())
        .bind(note)
        .bind(actor.user_id)
        .bind(&actor.label)
        .bind(now_micros()),
    )
    .await
    .map(drop)
}

/// What decides the status of `nc`, read in `tx`.
async fn facts_in(tx: &mut Tx, tenant_id: i64, nc: &Nonconformity) -> StoreResult<Facts> {
    let (actions, open, current): (i64, i64, i64) = tx
        .fetch_one(
            sql("SELECT COUNT(*), \
                 COALESCE(SUM(CASE WHEN completed_at IS NULL THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN round = $3 THEN 1 ELSE 0 END), 0) \
                 FROM corrective_actions WHERE tenant_id = $1 AND nonconformity_id = $2")
            .bind(tenant_id)
            .bind(nc.id)
            .bind(nc.round),
        )
        .await?;
    let count = |n: i64| usize::try_from(n).unwrap_or(0);
    Ok(Facts {
        has_containment: !nc.containment.is_empty(),
        has_root_cause: !nc.root_cause.is_empty(),
        actions: count(actions),
        open_actions: count(open),
        actions_since_ineffective_check: count(current),
    })
}

/// Why a nonconformity moved to `to` by its facts alone.
fn settle_note(to: NcStatus) -> &'static str {
    match to {
        NcStatus::ActionsPlanned => {
            "Containment and root cause recorded and a corrective action planned"
        }
        NcStatus::AwaitingVerification => "Every corrective action completed",
        NcStatus::Open | NcStatus::Closed => "Status settled",
    }
}

impl Store {
    /// Raises a nonconformity inside `tx` (journaled there) and returns its id. The draft is
    /// validated again here; an owner must be a user of the tenant and an incident source an
    /// incident of it. For audit findings the caller vouches for `source_ref`: the internal
    /// audit calls this in the transaction that records the finding, as
    /// `self.raise_nonconformity_in(&mut tx, tenant_id, &draft, actor)`.
    pub(crate) async fn raise_nonconformity_in(
        &self,
        tx: &mut Tx,
        tenant_id: i64,
        draft: &NonconformityDraft,
        actor: &Actor,
    ) -> StoreResult<i64> {
        let d = draft.clone().validate()?;
        check_user_in(tx, tenant_id, "owner_id", d.owner_id).await?;
        check_source_in(tx, tenant_id, &d).await?;
        let number = crate::incident::next_number(tx, tenant_id, "nonconformity").await?;
        let now = now_micros();
        let (id,): (i64,) = tx
            .fetch_one(
                sql("INSERT INTO nonconformities (tenant_id, number, title, description, clause_id, severity, \
                     source, source_ref, owner_id, raised_by, raised_by_label, raised_at, containment, root_cause, \
                     status, round, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, '', '', 'open', 0, $12) RETURNING id")
                .bind(tenant_id)
                .bind(number)
                .bind(&d.title)
                .bind(&d.description)
                .bind(d.clause_id.clone())
                .bind(d.severity.as_str())
                .bind(d.source.as_str())
                .bind(d.source_ref)
                .bind(d.owner_id)
                .bind(actor.user_id)
                .bind(&actor.label)
                .bind(now),
            )
            .await?;
        record_status(tx, tenant_id, id, None, NcStatus::Open, "Raised", actor).await?;
        let raised = read_nonconformity(tx, tenant_id, id).await?;
        self.journal(
            tx,
            Change::of(tenant_id, actor, Action::Create, None, Some(&raised)),
        )
        .await?;
        Ok(id)
    }

    /// Raises a nonconformity from a draft, journaled, in one transaction.
    pub async fn raise_nonconformity(
        &self,
        tenant_id: i64,
        draft: &NonconformityDraft,
        actor: &Actor,
    ) -> StoreResult<Nonconformity> {
        let mut tx = self.db.begin().await?;
        let id = self
            .raise_nonconformity_in(&mut tx, tenant_id, draft, actor)
            .await?;
        let raised = read_nonconformity(&mut tx, tenant_id, id).await?;
        tx.commit().await?;
        Ok(raised)
    }

    pub async fn nonconformity(&self, tenant_id: i64, id: i64) -> StoreResult<Nonconformity> {
        let row: NcRow = self.db.fetch_one(select_one(tenant_id, id)).await?;
        row.into_nonconformity()
    }

    /// Moves the nonconformity to where its facts put it (a history row for each status it
    /// reaches; the check date set on reaching verification, cleared on leaving it), then
    /// journals the whole write from `before` if anything changed, and commits.
    async fn settle_nonconformity_and_commit(
        &self,
        mut tx: Tx,
        tenant_id: i64,
        before: &Nonconformity,
        today: Date,
        actor: &Actor,
    ) -> StoreResult<Nonconformity> {
        let current = read_nonconformity(&mut tx, tenant_id, before.id).await?;
        let facts = facts_in(&mut tx, tenant_id, &current).await?;
        let to = current.status.settle(&facts);
        if to != current.status {
            let check_due = match to {
                NcStatus::AwaitingVerification => Some(
                    current
                        .check_due
                        .unwrap_or_else(|| default_check_due(today)),
                ),
                _ => None,
            };
            tx.execute(
                sql(
                    "UPDATE nonconformities SET status = $1, check_due = $2, updated_at = $3 \
                     WHERE tenant_id = $4 AND id = $5",
                )
                .bind(to.as_str())
                .bind(check_due.map(date_text))
                .bind(next_updated_at(current.updated_at))
                .bind(tenant_id)
                .bind(current.id),
            )
            .await?;
            let note = if current.status == NcStatus::AwaitingVerification {
                "A new corrective action was planned"
            } else {
                settle_note(to)
            };
            record_status(
                &mut tx,
                tenant_id,
                current.id,
                Some(current.status),
                to,
                note,
                actor,
            )
            .await?;
        }
        let after = read_nonconformity(&mut tx, tenant_id, before.id).await?;
        if &after == before {
            tx.commit().await?;
            return Ok(after);
        }
        self.commit_update(tx, tenant_id, actor, before, after)
            .await
    }

    /// Changes a nonconformity's title, description, owner, containment, root cause and check
    /// date if it has not changed since `seen_updated_at` (`Conflict` otherwise, and when it is
    /// closed). The check date is kept only while it awaits verification.
    pub async fn update_nonconformity(
        &self,
        tenant_id: i64,
        id: i64,
        seen_updated_at: i64,
        edit: &NonconformityEdit,
        today: Date,
        actor: &Actor,
    ) -> StoreResult<Nonconformity> {
        let edit = edit.clone().validate()?;
        let mut tx = self.db.begin().await?;
        let before = read_nonconformity(&mut tx, tenant_id, id).await?;
        allowed(&before, NcMove::Edit)?;
        if before.updated_at != seen_updated_at {
            return Err(StoreError::Conflict(
                "The nonconformity was changed by someone else; reload it and try again".into(),
            ));
        }
        check_user_in(&mut tx, tenant_id, "owner_id", edit.owner_id).await?;
        let check_due = match (before.status, edit.check_due) {
            (NcStatus::AwaitingVerification, Some(due)) if due < today => {
                return Err(
                    Invalid::one("check_due", "The check date cannot be in the past").into(),
                );
            }
            (NcStatus::AwaitingVerification, due) => due.or(before.check_due),
            _ => None,
        };
        tx.execute(
            sql("UPDATE nonconformities SET title = $1, description = $2, owner_id = $3, containment = $4, \
                 root_cause = $5, root_cause_method = $6, check_due = $7, updated_at = $8 \
                 WHERE tenant_id = $9 AND id = $10 AND updated_at = $11")
            .bind(&edit.title)
            .bind(&edit.description)
            .bind(edit.owner_id)
            .bind(&edit.containment)
            .bind(&edit.root_cause)
            .bind(edit.root_cause_method.map(|m| m.as_str().to_owned()))
            .bind(check_due.map(date_text))
            .bind(next_updated_at(seen_updated_at))
            .bind(tenant_id)
            .bind(id)
            .bind(seen_updated_at),
        )
        .await?;
        self.settle_nonconformity_and_commit(tx, tenant_id, &before, today, actor)
            .await
    }

    /// Plans a corrective action on a nonconformity that is not closed; the owner must be a
    /// user of the tenant. A nonconformity awaiting verification goes back to actions planned.
    pub async fn add_corrective_action(
        &self,
        tenant_id: i64,
        nonconformity_id: i64,
        draft: &ActionDraft,
        today: Date,
        actor: &Actor,
    ) -> StoreResult<CorrectiveAction> {
        let d = draft.clone().validate(today)?;
        let mut tx = self.db.begin().await?;
        let before = read_nonconformity(&mut tx, tenant_id, nonconformity_id).await?;
        allowed(&before, NcMove::AddAction)?;
        check_user_in(&mut tx, tenant_id, "owner_id", d.owner_id).await?;
        let (id,): (i64,) = tx
            .fetch_one(
                sql("INSERT INTO corrective_actions (tenant_id, nonconformity_id, description, owner_id, due, \
                     round, created_at, completion_note) VALUES ($1, $2, $3, $4, $5, $6, $7, '') RETURNING id")
                .bind(tenant_id)
                .bind(nonconformity_id)
                .bind(&d.description)
                .bind(d.owner_id)
                .bind(date_text(d.due))
                .bind(before.round)
                .bind(now_micros()),
            )
            .await?;
        let action = read_action(&mut tx, tenant_id, nonconformity_id, id).await?;
        self.journal(
            &mut tx,
            Change::of(tenant_id, actor, Action::Create, None, Some(&action)),
        )
        .await?;
        self.settle_nonconformity_and_commit(tx, tenant_id, &before, today, actor)
            .await?;
        Ok(action)
    }

    /// Marks an action completed on `today` with a note saying what was done. When it was
    /// the last open one, the nonconformity awaits its effectiveness check.
    pub async fn complete_corrective_action(
        &self,
        tenant_id: i64,
        nonconformity_id: i64,
        action_id: i64,
        note: &str,
        today: Date,
        actor: &Actor,
    ) -> StoreResult<CorrectiveAction> {
        let note = checked_note("completion_note", "Completion note", note)?;
        let mut tx = self.db.begin().await?;
        let before = read_nonconformity(&mut tx, tenant_id, nonconformity_id).await?;
        allowed(&before, NcMove::CompleteAction)?;
        let action = read_action(&mut tx, tenant_id, nonconformity_id, action_id).await?;
        if action.completed_at.is_some() {
            return Err(StoreError::Conflict(
                steward_domain::sms::nonconformity::NcRefusal::ActionAlreadyCompleted.to_string(),
            ));
        }
        tx.execute(
            sql("UPDATE corrective_actions SET completed_at = $1, completed_on = $2, completed_by = $3, \
                 completion_note = $4 WHERE tenant_id = $5 AND id = $6 AND completed_at IS NULL")
            .bind(now_micros())
            .bind(date_text(today))
            .bind(actor.user_id)
            .bind(&note)
            .bind(tenant_id)
            .bind(action_id),
        )
        .await?;
        let done = read_action(&mut tx, tenant_id, nonconformity_id, action_id).await?;
        self.journal(
            &mut tx,
            Change::of(tenant_id, actor, Action::Update, Some(&action), Some(&done)),
        )
        .await?;
        self.settle_nonconformity_and_commit(tx, tenant_id, &before, today, actor)
            .await?;
        Ok(done)
    }

    /// Records an effectiveness check by the acting user. Effective closes the nonconformity;
    /// not effective sends it back to actions planned, where a new action is required. Refused
    /// unless every action is done, and when the checker owns the nonconformity.
    pub async fn record_effectiveness_check(
        &self,
        tenant_id: i64,
        nonconformity_id: i64,
        effective: bool,
        notes: &str,
        actor: &Actor,
    ) -> StoreResult<EffectivenessCheck> {
        let notes = checked_note("notes", "Evidence and notes", notes)?;
        let Some(checker) = actor.user_id else {
            return Err(StoreError::Conflict(
                "An effectiveness check is made by a person, not by the system".into(),
            ));
        };
        let mut tx = self.db.begin().await?;
        let before = read_nonconformity(&mut tx, tenant_id, nonconformity_id).await?;
        let to = before
            .status
            .verify(effective, checker, before.owner_id)
            .map_err(|refusal| StoreError::Conflict(refusal.to_string()))?;
        let now = now_micros();
        let check: EffectivenessCheck = tx
            .fetch_one(
                sql(format!(
                    "INSERT INTO effectiveness_checks (tenant_id, nonconformity_id, effective, notes, checked_by, \
                     checked_by_label, checked_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {CHECK_COLUMNS}"
                ))
                .bind(tenant_id)
                .bind(nonconformity_id)
                .bind(effective)
                .bind(&notes)
                .bind(checker)
                .bind(&actor.label)
                .bind(now),
            )
            .await?;
        let (round, closed_at, check_due) = if effective {
            (before.round, Some(now), before.check_due.map(date_text))
        } else {
            (before.round + 1, None, None)
        };
        tx.execute(
            sql("UPDATE nonconformities SET status = $1, round = $2, closed_at = $3, check_due = $4, \
                 updated_at = $5 WHERE tenant_id = $6 AND id = $7")
            .bind(to.as_str())
            .bind(round)
            .bind(closed_at)
            .bind(check_due)
            .bind(next_updated_at(before.updated_at))
            .bind(tenant_id)
            .bind(nonconformity_id),
        )
        .await?;
        let note = if effective {
            "Effectiveness check: the corrective actions were effective"
        } else {
            "Effectiveness check: not effective; a new corrective action is required"
        };
        record_status(
            &mut tx,
            tenant_id,
            nonconformity_id,
            Some(before.status),
            to,
            note,
            actor,
        )
        .await?;
        let after = read_nonconformity(&mut tx, tenant_id, nonconformity_id).await?;
        self.journal_many(
            &mut tx,
            vec![
                Change::of(tenant_id, actor, Action::Create, None, Some(&check)),
                Change::of(
                    tenant_id,
                    actor,
                    Action::Update,
                    Some(&before),
                    Some(&after),
                ),
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(check)
    }

    /// A page of nonconformities, by number unless asked otherwise, each with its count of
    /// actions overdue on `today`.
    pub async fn nonconformities(
        &self,
        tenant_id: i64,
        f: &NonconformityFilter,
        today: Date,
        page: &PageRequest,
    ) -> StoreResult<Page<NonconformityItem>> {
        let sort =
            Sort::parse_or_invalid(f.sort.as_deref(), &["number", "raised_at", "updated_at"])?;
        let overdue = "(SELECT COUNT(*) FROM corrective_actions a WHERE a.tenant_id = nonconformities.tenant_id \
                       AND a.nonconformity_id = nonconformities.id AND a.completed_at IS NULL AND a.due < {})";
        let mut q = sql(format!("SELECT {COLUMNS}, "))
            .push_bound(overdue, date_text(today))
            .push(" AS overdue_actions FROM nonconformities WHERE tenant_id = ")
            .push_bound("{}", tenant_id);
        if let Some(status) = f.status {
            q = q.push_bound(" AND status = {}", status.as_str());
        }
        if let Some(severity) = f.severity {
            q = q.push_bound(" AND severity = {}", severity.as_str());
        }
        if let Some(source) = f.source {
            q = q.push_bound(" AND source = {}", source.as_str());
        }
        if f.overdue {
            q = q
                .push(" AND ")
                .push_bound(overdue, date_text(today))
                .push(" > 0");
        }
        if let Some(user) = f.mine {
            q = q.push_bound(" AND (owner_id = {}", user).push_bound(
                " OR EXISTS (SELECT 1 FROM corrective_actions m WHERE m.tenant_id = nonconformities.tenant_id \
                 AND m.nonconformity_id = nonconformities.id AND m.completed_at IS NULL AND m.owner_id = {}))",
                user,
            );
        }
        let rows: Vec<ItemRow> = self.db.fetch_all(paginate(q, sort, page)?).await?;
        let items = rows
            .into_iter()
            .map(|r| {
                Ok(NonconformityItem {
                    nonconformity: r.row.into_nonconformity()?,
                    overdue_actions: r.overdue_actions,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(finish(items, page, |i| {
            let nc = &i.nonconformity;
            match sort.column {
                "raised_at" => (CursorKey::Int(nc.raised_at), nc.id),
                "updated_at" => (CursorKey::Int(nc.updated_at), nc.id),
                _ => (CursorKey::Int(nc.number), nc.id),
            }
        }))
    }

    /// A nonconformity's corrective actions, oldest first.
    pub async fn corrective_actions(
        &self,
        tenant_id: i64,
        nonconformity_id: i64,
    ) -> StoreResult<Vec<CorrectiveAction>> {
        self.nonconformity(tenant_id, nonconformity_id).await?;
        let rows: Vec<ActionRow> = self
            .db
            .fetch_all(
                sql(format!(
                    "SELECT {ACTION_COLUMNS} FROM corrective_actions \
                     WHERE tenant_id = $1 AND nonconformity_id = $2 ORDER BY id LIMIT 1000"
                ))
                .bind(tenant_id)
                .bind(nonconformity_id),
            )
            .await?;
        rows.into_iter().map(ActionRow::into_action).collect()
    }

    /// A nonconformity's effectiveness checks, oldest first.
    pub async fn effectiveness_checks(
        &self,
        tenant_id: i64,
        nonconformity_id: i64,
    ) -> StoreResult<Vec<EffectivenessCheck>> {
        self.nonconformity(tenant_id, nonconformity_id).await?;
        self.db
            .fetch_all(
                sql(format!(
                    "SELECT {CHECK_COLUMNS} FROM effectiveness_checks \
                     WHERE tenant_id = $1 AND nonconformity_id = $2 ORDER BY id LIMIT 1000"
                ))
                .bind(tenant_id)
                .bind(nonconformity_id),
            )
            .await
    }

    /// A nonconformity's status history, oldest first.
    pub async fn nonconformity_history(
        &self,
        tenant_id: i64,
        nonconformity_id: i64,
    ) -> StoreResult<Vec<NcStatusChange>> {
        self.nonconformity(tenant_id, nonconformity_id).await?;
        self.db
            .fetch_all(
                sql(
                    "SELECT id, from_status, to_status, note, actor_id, actor_label, at \
                     FROM nonconformity_history WHERE tenant_id = $1 AND nonconformity_id = $2 \
                     ORDER BY id LIMIT 1000",
                )
                .bind(tenant_id)
                .bind(nonconformity_id),
            )
            .await
    }

    /// The facts of a nonconformity, for its page's next-step hint.
    pub async fn nonconformity_facts(
        &self,
        tenant_id: i64,
        nc: &Nonconformity,
    ) -> StoreResult<Facts> {
        let mut tx = self.db.begin().await?;
        let facts = facts_in(&mut tx, tenant_id, nc).await?;
        tx.commit().await?;
        Ok(facts)
    }

    /// Sends the reminders due on `today`: to an action's owner on its due date and once it
    /// is overdue, and to a nonconformity's owner when its effectiveness check falls due. Each
    /// kind is sent once per subject and date, claimed in the transaction of its mail.
    /// `render` words the mail (subject, body) for the recipient's name.
    pub async fn send_nonconformity_reminders(
        &self,
        tenant_id: i64,
        today: Date,
        render: impl Fn(&NcReminder, &str) -> (String, String),
    ) -> StoreResult<Vec<NcReminder>> {
        let mut sent = Vec::new();
        let open: Vec<ActionRow> = self
            .db
            .fetch_all(
                sql(format!(
                    "SELECT {} FROM corrective_actions a JOIN nonconformities n \
                     ON n.tenant_id = a.tenant_id AND n.id = a.nonconformity_id \
                     WHERE a.tenant_id = $1 AND a.completed_at IS NULL AND a.due <= $2 \
                     AND n.status <> 'closed' AND a.owner_id IS NOT NULL ORDER BY a.id LIMIT 1000",
                    ACTION_COLUMNS
                        .split(", ")
                        .map(|c| format!("a.{}", c.trim()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .bind(tenant_id)
                .bind(date_text(today)),
            )
            .await?;
        for row in open {
            let action = row.into_action()?;
            let Some(kind) = action_reminder(action.due, false, today) else {
                continue;
            };
            let nc = self
                .nonconformity(tenant_id, action.nonconformity_id)
                .await?;
            if let Some(r) = self
                .send_nc_reminder(tenant_id, kind, nc, Some(action), &render)
                .await?
            {
                sent.push(r);
            }
        }
        let waiting: Vec<NcRow> = self
            .db
            .fetch_all(
                sql(format!(
                    "SELECT {COLUMNS} FROM nonconformities WHERE tenant_id = $1 \
                     AND status = 'awaiting_verification' AND check_due <= $2 \
                     AND owner_id IS NOT NULL ORDER BY id LIMIT 1000"
                ))
                .bind(tenant_id)
                .bind(date_text(today)),
            )
            .await?;
        for row in waiting {
            let nc = row.into_nonconformity()?;
            if !check_reminder_due(nc.status, nc.check_due, today) {
                continue;
            }
            if let Some(r) = self
                .send_nc_reminder(tenant_id, NcReminderKind::CheckDue, nc, None, &render)
                .await?
            {
                sent.push(r);
            }
        }
        Ok(sent)
    }

    /// Claims and mails one reminder; `None` when it was sent before or its recipient is not
    /// an active user with an address.
    async fn send_nc_reminder(
        &self,
        tenant_id: i64,
        kind: NcReminderKind,
        nonconformity: Nonconformity,
        action: Option<CorrectiveAction>,
        render: &impl Fn(&NcReminder, &str) -> (String, String),
    ) -> StoreResult<Option<NcReminder>> {
        let (recipient_id, subject_id, due_on) = match &action {
            Some(a) => (a.owner_id, a.id, a.due),
            None => match nonconformity.check_due {
                Some(due) => (nonconformity.owner_id, nonconformity.id, due),
                None => return Ok(None),
            },
        };
        let Some(recipient_id) = recipient_id else {
            return Ok(None);
        };
        let recipient: Option<(String, String)> = self
            .db
            .fetch_optional(
                sql("SELECT name, email FROM users WHERE tenant_id = $1 AND id = $2 AND active = $3")
                    .bind(tenant_id)
                    .bind(recipient_id)
                    .bind(true),
            )
            .await?;
        let Some(recipient) = recipient else {
            return Ok(None);
        };
        let mut tx = self.db.begin().await?;
        let claimed: Option<(i64,)> = tx
            .fetch_optional(
                sql("INSERT INTO nonconformity_reminders (tenant_id, kind, subject_id, due_on, sent_at) \
                     VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (tenant_id, kind, subject_id, due_on) DO NOTHING RETURNING id")
                .bind(tenant_id)
                .bind(kind.as_str())
                .bind(subject_id)
                .bind(date_text(due_on))
                .bind(now_micros()),
            )
            .await?;
        let Some((reminder_id,)) = claimed else {
            return Ok(None);
        };
        let reminder = NcReminder {
            kind,
            nonconformity,
            action,
            due_on,
            recipient,
        };
        let (subject, body) = render(&reminder, &reminder.recipient.0);
        let mail = OutMail {
            record_type: Nonconformity::KIND.into(),
            record_id: reminder.nonconformity.id,
            to_address: reminder.recipient.1.clone(),
            subject,
            body,
            message_id: format!(
                "nonconformity-reminder.{tenant_id}.{reminder_id}.{}@steward",
                kind.as_str()
            ),
            in_reply_to: None,
            references: None,
        };
        queue_mail_in(&mut tx, tenant_id, &mail).await?;
        tx.commit().await?;
        Ok(Some(reminder))
    }
}
