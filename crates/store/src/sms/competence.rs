//! Competence (7.2): each role's competence profile (`competence_requirements`), each person's
//! proof (`competence_records`) and the actions that close gaps (`competence_actions`). Who
//! holds which role is read from the roles register (`sms_roles`, `role_assignments`); the gap
//! analysis itself is `steward_domain::sms::competence::gap_analysis`.

use super::improvement::capitalised;
use super::{date_text, stored_date, stored_optional_date};
use crate::db::{Sql, Tx, sql};
use crate::journal::Record;
use crate::mail::{OutMail, queue_mail_in};
use crate::{Actor, Store, StoreError, StoreResult, next_updated_at, now_micros};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use steward_domain::Invalid;
use steward_domain::conformance::rules::{Found, RecordRef, RuleId};
use steward_domain::sms::competence::{
    ActionDraft, ActionKind, ActionStage, ActionStatus, Basis, CompetenceStanding, GapCell, Holder,
    Proof, RecordDraft, Remedy, ReminderKind, Requirement, RequirementDraft, StepError,
    gap_analysis, new_holder_unchecked,
};

const STALE: &str = "It was changed by someone else; reload it and try again";

/// A requirement of a role's competence profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct CompetenceRequirement {
    pub id: i64,
    pub role_id: i64,
    pub name: String,
    pub description: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Record for CompetenceRequirement {
    const KIND: &'static str = "competence_requirement";
    fn id(&self) -> i64 {
        self.id
    }
}

impl CompetenceRequirement {
    pub fn draft(&self) -> RequirementDraft {
        RequirementDraft {
            role_id: self.role_id,
            name: self.name.clone(),
            description: self.description.clone(),
        }
    }
}

/// A person's proof of a requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompetenceRecord {
    pub id: i64,
    pub user_id: i64,
    pub requirement_id: i64,
    pub basis: Basis,
    pub title: String,
    pub provider: String,
    pub achieved_on: Date,
    pub expires_on: Option<Date>,
    pub evidence: String,
    /// Who put it on file.
    pub recorded_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Record for CompetenceRecord {
    const KIND: &'static str = "competence_record";
    fn id(&self) -> i64 {
        self.id
    }
}

impl CompetenceRecord {
    pub fn draft(&self) -> RecordDraft {
        RecordDraft {
            user_id: self.user_id,
            requirement_id: self.requirement_id,
            basis: self.basis,
            title: self.title.clone(),
            provider: self.provider.clone(),
            achieved_on: self.achieved_on,
            expires_on: self.expires_on,
            evidence: self.evidence.clone(),
        }
    }

    pub fn valid_on(&self, day: Date) -> bool {
        self.draft().valid_on(day)
    }
}

/// An action to fill one person's gap in one requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompetenceAction {
    pub id: i64,
    pub user_id: i64,
    pub requirement_id: i64,
    pub kind: ActionKind,
    pub description: String,
    pub owner_id: Option<i64>,
    pub due_date: Date,
    pub stage: ActionStage,
    pub evaluated_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Record for CompetenceAction {
    const KIND: &'static str = "competence_action";
    fn id(&self) -> i64 {
        self.id
    }
}

impl CompetenceAction {
    /// Open and past its due date.
    pub fn overdue(&self, today: Date) -> bool {
        self.stage == ActionStage::Open && self.due_date < today
    }
}

/// A role as the competence pages name it (the roles register owns it).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CompetenceRole {
    pub id: i64,
    pub name: String,
}

#[derive(sqlx::FromRow)]
struct RecordRow {
    id: i64,
    user_id: i64,
    requirement_id: i64,
    #[sqlx(try_from = "String")]
    basis: Basis,
    title: String,
    provider: String,
    achieved_on: String,
    expires_on: Option<String>,
    evidence: String,
    recorded_by: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl RecordRow {
    fn into_record(self) -> StoreResult<CompetenceRecord> {
        let id = self.id;
        Ok(CompetenceRecord {
            achieved_on: stored_date("competence record", id, &self.achieved_on)?,
            expires_on: stored_optional_date("competence record", id, self.expires_on.as_deref())?,
            id,
            user_id: self.user_id,
            requirement_id: self.requirement_id,
            basis: self.basis,
            title: self.title,
            provider: self.provider,
            evidence: self.evidence,
            recorded_by: self.recorded_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ActionRow {
    id: i64,
    user_id: i64,
    requirement_id: i64,
    #[sqlx(try_from = "String")]
    kind: ActionKind,
    description: String,
    owner_id: Option<i64>,
    due_date: String,
    #[sqlx(try_from = "String")]
    status: ActionStatus,
    completed_on: Option<String>,
    effective: Option<bool>,
    evaluation: String,
    evaluated_by: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl ActionRow {
    fn into_action(self) -> StoreResult<CompetenceAction> {
        let id = self.id;
        let what = "competence action";
        let completed_on = stored_optional_date(what, id, self.completed_on.as_deref())?;
        let stage = match (self.status, completed_on, self.effective) {
            (ActionStatus::Open, _, _) => ActionStage::Open,
            (ActionStatus::Completed, Some(completed_on), _) => {
                ActionStage::Completed { completed_on }
            }
            (ActionStatus::Evaluated, Some(completed_on), Some(effective)) => {
                ActionStage::Evaluated {
                    completed_on,
                    effective,
                    evaluation: self.evaluation,
                }
            }
            _ => {
                return Err(StoreError::Corrupt(format!(
                    "{what} {id} is {} without its completion or verdict",
                    self.status
                )));
            }
        };
        Ok(CompetenceAction {
            due_date: stored_date(what, id, &self.due_date)?,
            id,
            user_id: self.user_id,
            requirement_id: self.requirement_id,
            kind: self.kind,
            description: self.description,
            owner_id: self.owner_id,
            stage,
            evaluated_by: self.evaluated_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

const REQUIREMENT_COLUMNS: &str = "id, role_id, name, description, created_at, updated_at";
const RECORD_COLUMNS: &str = "id, user_id, requirement_id, basis, title, provider, achieved_on, \
                              expires_on, evidence, recorded_by, created_at, updated_at";
const ACTION_COLUMNS: &str = "id, user_id, requirement_id, kind, description, owner_id, due_date, \
                              status, completed_on, effective, evaluation, evaluated_by, \
                              created_at, updated_at";

/// The most rows a competence list returns: a person has a handful, an organisation a few
/// thousand.
const MAX_LISTED: i64 = 5_000;

/// A tenant's rows of `table`, or one person's, in `order`.
fn listed(columns: &str, table: &str, tenant_id: i64, user_id: Option<i64>, order: &str) -> Sql {
    let mut q = sql(format!(
        "SELECT {columns} FROM {table} WHERE tenant_id = $1"
    ))
    .bind(tenant_id);
    if let Some(user_id) = user_id {
        q = q.push_bound(" AND user_id = {}", user_id);
    }
    q.push(&format!(" ORDER BY {order} LIMIT {MAX_LISTED}"))
}

fn select(columns: &str, table: &str, tenant_id: i64, id: i64) -> Sql {
    sql(format!(
        "SELECT {columns} FROM {table} WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
}

async fn read_requirement(
    tx: &mut Tx,
    tenant_id: i64,
    id: i64,
) -> StoreResult<CompetenceRequirement> {
    tx.fetch_one(select(
        REQUIREMENT_COLUMNS,
        "competence_requirements",
        tenant_id,
        id,
    ))
    .await
}

async fn read_record(tx: &mut Tx, tenant_id: i64, id: i64) -> StoreResult<CompetenceRecord> {
    tx.fetch_one::<RecordRow>(select(RECORD_COLUMNS, "competence_records", tenant_id, id))
        .await?
        .into_record()
}

async fn read_action(tx: &mut Tx, tenant_id: i64, id: i64) -> StoreResult<CompetenceAction> {
    tx.fetch_one::<ActionRow>(select(ACTION_COLUMNS, "competence_actions", tenant_id, id))
        .await?
        .into_action()
}

/// A step the lifecycle refuses is a conflict; wrong fields are field errors.
fn step_error(e: StepError) -> StoreError {
    match e {
        StepError::Refused(message) => StoreError::Conflict(capitalised(&message)),
        StepError::Invalid(invalid) => StoreError::Invalid(invalid),
    }
}

fn bind_record(q: Sql, d: &RecordDraft) -> Sql {
    q.bind(d.user_id)
        .bind(d.requirement_id)
        .bind(d.basis.as_str())
        .bind(&d.title)
        .bind(&d.provider)
        .bind(date_text(d.achieved_on))
        .bind(d.expires_on.map(date_text))
        .bind(&d.evidence)
}

/// The day's current holders: an assignment that has begun and not ended (its end date is the
/// first day it is no longer held, as the roles register keeps it), of a role still in use,
/// held by someone who can still sign in.
const HOLDERS: &str = "SELECT DISTINCT a.user_id, a.role_id FROM role_assignments a \
     JOIN sms_roles r ON r.id = a.role_id JOIN users u ON u.id = a.user_id \
     WHERE a.tenant_id = $1 AND r.retired = FALSE AND u.active = TRUE \
     AND a.from_date <= $2 AND (a.to_date IS NULL OR a.to_date > $2)";

impl Store {
    /// A field error unless `role_id` is a role of the tenant.
    async fn check_competence_role(&self, tenant_id: i64, role_id: i64) -> StoreResult<()> {
        let found: Option<(i64,)> = self
            .db
            .fetch_optional(
                sql("SELECT id FROM sms_roles WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant_id)
                    .bind(role_id),
            )
            .await?;
        match found {
            Some(_) => Ok(()),
            None => Err(Invalid::one("role_id", "Role must be a role of this organisation").into()),
        }
    }

    /// Field errors unless the person and the requirement are the tenant's.
    async fn check_person_and_requirement(
        &self,
        tenant_id: i64,
        user_id: i64,
        requirement_id: i64,
    ) -> StoreResult<()> {
        let mut errors = Invalid::new();
        match self.user(tenant_id, user_id).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => {
                errors.add("user_id", "Person must be a user of this organisation")
            }
            Err(e) => return Err(e),
        }
        match self.competence_requirement(tenant_id, requirement_id).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => errors.add(
                "requirement_id",
                "Requirement must be one of this organisation's competence requirements",
            ),
            Err(e) => return Err(e),
        }
        Ok(errors.into_result(())?)
    }

    /// Adds a requirement to a role's competence profile.
    pub async fn create_competence_requirement(
        &self,
        tenant_id: i64,
        draft: &RequirementDraft,
        actor: &Actor,
    ) -> StoreResult<CompetenceRequirement> {
        self.check_competence_role(tenant_id, draft.role_id).await?;
        let mut tx = self.db.begin().await?;
        let (id,): (i64,) = tx
            .fetch_one(
                sql(
                    "INSERT INTO competence_requirements (tenant_id, role_id, name, description, \
                     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
                )
                .bind(tenant_id)
                .bind(draft.role_id)
                .bind(&draft.name)
                .bind(&draft.description)
                .bind(now_micros()),
            )
            .await?;
        let created = read_requirement(&mut tx, tenant_id, id).await?;
        self.commit_created(tx, tenant_id, actor, created).await
    }

    /// Replaces a requirement's fields if it has not changed since `seen_updated_at`.
    pub async fn update_competence_requirement(
        &self,
        tenant_id: i64,
        id: i64,
        seen_updated_at: i64,
        draft: &RequirementDraft,
        actor: &Actor,
    ) -> StoreResult<CompetenceRequirement> {
        self.check_competence_role(tenant_id, draft.role_id).await?;
        let mut tx = self.db.begin().await?;
        let before = read_requirement(&mut tx, tenant_id, id).await?;
        if before.updated_at != seen_updated_at {
            return Err(StoreError::Conflict(STALE.into()));
        }
        tx.execute(
            sql(
                "UPDATE competence_requirements SET role_id = $1, name = $2, description = $3, \
                 updated_at = $4 WHERE tenant_id = $5 AND id = $6",
            )
            .bind(draft.role_id)
            .bind(&draft.name)
            .bind(&draft.description)
            .bind(next_updated_at(seen_updated_at))
            .bind(tenant_id)
            .bind(id),
        )
        .await?;
        let after = read_requirement(&mut tx, tenant_id, id).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    pub async fn competence_requirement(
        &self,
        tenant_id: i64,
        id: i64,
    ) -> StoreResult<CompetenceRequirement> {
        self.db
            .fetch_one(select(
                REQUIREMENT_COLUMNS,
                "competence_requirements",
                tenant_id,
                id,
            ))
            .await
    }

    /// Every requirement, by role and then in the order they were added.
    pub async fn competence_requirements(
        &self,
        tenant_id: i64,
    ) -> StoreResult<Vec<CompetenceRequirement>> {
        self.db
            .fetch_all(
                sql(format!(
                    "SELECT {REQUIREMENT_COLUMNS} FROM competence_requirements \
                     WHERE tenant_id = $1 ORDER BY role_id, id"
                ))
                .bind(tenant_id),
            )
            .await
    }

    /// Puts a person's proof of a requirement on file.
    pub async fn create_competence_record(
        &self,
        tenant_id: i64,
        draft: &RecordDraft,
        actor: &Actor,
    ) -> StoreResult<CompetenceRecord> {
        self.check_person_and_requirement(tenant_id, draft.user_id, draft.requirement_id)
            .await?;
        let mut tx = self.db.begin().await?;
        let write = sql(
            "INSERT INTO competence_records (tenant_id, user_id, requirement_id, basis, title, \
             provider, achieved_on, expires_on, evidence, recorded_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
        )
        .bind(tenant_id);
        let (id,): (i64,) = tx
            .fetch_one(
                bind_record(write, draft)
                    .bind(actor.user_id)
                    .bind(now_micros()),
            )
            .await?;
        let created = read_record(&mut tx, tenant_id, id).await?;
        self.commit_created(tx, tenant_id, actor, created).await
    }

    /// Replaces a record's fields if it has not changed since `seen_updated_at`.
    pub async fn update_competence_record(
        &self,
        tenant_id: i64,
        id: i64,
        seen_updated_at: i64,
        draft: &RecordDraft,
        actor: &Actor,
    ) -> StoreResult<CompetenceRecord> {
        self.check_person_and_requirement(tenant_id, draft.user_id, draft.requirement_id)
            .await?;
        let mut tx = self.db.begin().await?;
        let before = read_record(&mut tx, tenant_id, id).await?;
        if before.updated_at != seen_updated_at {
            return Err(StoreError::Conflict(STALE.into()));
        }
        let write = sql(
            "UPDATE competence_records SET user_id = $1, requirement_id = $2, basis = $3, \
             title = $4, provider = $5, achieved_on = $6, expires_on = $7, evidence = $8, \
             updated_at = $9 WHERE tenant_id = $10 AND id = $11",
        );
        tx.execute(
            bind_record(write, draft)
                .bind(next_updated_at(seen_updated_at))
                .bind(tenant_id)
                .bind(id),
        )
        .await?;
        let after = read_record(&mut tx, tenant_id, id).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    pub async fn competence_record(
        &self,
        tenant_id: i64,
        id: i64,
    ) -> StoreResult<CompetenceRecord> {
        self.db
            .fetch_one::<RecordRow>(select(RECORD_COLUMNS, "competence_records", tenant_id, id))
            .await?
            .into_record()
    }

    /// Every record (or one person's), newest achievement first.
    pub async fn competence_records(
        &self,
        tenant_id: i64,
        user_id: Option<i64>,
    ) -> StoreResult<Vec<CompetenceRecord>> {
        let q = listed(
            RECORD_COLUMNS,
            "competence_records",
            tenant_id,
            user_id,
            "achieved_on DESC, id DESC",
        );
        let rows: Vec<RecordRow> = self.db.fetch_all(q).await?;
        rows.into_iter().map(RecordRow::into_record).collect()
    }

    /// Opens an action for a person's gap in a requirement.
    pub async fn create_competence_action(
        &self,
        tenant_id: i64,
        draft: &ActionDraft,
        actor: &Actor,
    ) -> StoreResult<CompetenceAction> {
        self.check_person_and_requirement(tenant_id, draft.user_id, draft.requirement_id)
            .await?;
        self.check_owner(tenant_id, draft.owner_id).await?;
        let mut tx = self.db.begin().await?;
        let (id,): (i64,) = tx
            .fetch_one(
                sql(
                    "INSERT INTO competence_actions (tenant_id, user_id, requirement_id, kind, \
                     description, owner_id, due_date, status, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
                )
                .bind(tenant_id)
                .bind(draft.user_id)
                .bind(draft.requirement_id)
                .bind(draft.kind.as_str())
                .bind(&draft.description)
                .bind(draft.owner_id)
                .bind(date_text(draft.due_date))
                .bind(ActionStatus::Open.as_str())
                .bind(now_micros()),
            )
            .await?;
        let created = read_action(&mut tx, tenant_id, id).await?;
        self.commit_created(tx, tenant_id, actor, created).await
    }

    /// Marks an open action done on `on` (not after `today`).
    pub async fn complete_competence_action(
        &self,
        tenant_id: i64,
        id: i64,
        on: Date,
        today: Date,
        actor: &Actor,
    ) -> StoreResult<CompetenceAction> {
        let mut tx = self.db.begin().await?;
        let before = read_action(&mut tx, tenant_id, id).await?;
        let stage = before.stage.complete(on, today).map_err(step_error)?;
        self.write_stage(tx, tenant_id, before, stage, actor).await
    }

    /// Records whether a completed action closed the gap, and why that is the verdict.
    pub async fn evaluate_competence_action(
        &self,
        tenant_id: i64,
        id: i64,
        effective: bool,
        evaluation: &str,
        actor: &Actor,
    ) -> StoreResult<CompetenceAction> {
        let mut tx = self.db.begin().await?;
        let before = read_action(&mut tx, tenant_id, id).await?;
        let stage = before
            .stage
            .evaluate(effective, evaluation)
            .map_err(step_error)?;
        self.write_stage(tx, tenant_id, before, stage, actor).await
    }

    async fn write_stage(
        &self,
        mut tx: Tx,
        tenant_id: i64,
        before: CompetenceAction,
        stage: ActionStage,
        actor: &Actor,
    ) -> StoreResult<CompetenceAction> {
        let mut write = sql(
            "UPDATE competence_actions SET status = $1, completed_on = $2, \
                             evaluation = $3, updated_at = $4",
        )
        .bind(stage.status().as_str())
        .bind(stage.completed_on().map(date_text))
        .bind(stage.evaluation())
        .bind(next_updated_at(before.updated_at));
        if let Some(effective) = stage.effective() {
            write = write
                .push_bound(", effective = {}", effective)
                .push_bound(", evaluated_by = {}", actor.user_id);
        }
        tx.execute(
            write
                .push_bound(" WHERE tenant_id = {}", tenant_id)
                .push_bound(" AND id = {}", before.id),
        )
        .await?;
        let after = read_action(&mut tx, tenant_id, before.id).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    pub async fn competence_action(
        &self,
        tenant_id: i64,
        id: i64,
    ) -> StoreResult<CompetenceAction> {
        self.db
            .fetch_one::<ActionRow>(select(ACTION_COLUMNS, "competence_actions", tenant_id, id))
            .await?
            .into_action()
    }

    /// Every action (or one person's), soonest due first.
    pub async fn competence_actions(
        &self,
        tenant_id: i64,
        user_id: Option<i64>,
    ) -> StoreResult<Vec<CompetenceAction>> {
        let q = listed(
            ACTION_COLUMNS,
            "competence_actions",
            tenant_id,
            user_id,
            "due_date, id",
        );
        let rows: Vec<ActionRow> = self.db.fetch_all(q).await?;
        rows.into_iter().map(ActionRow::into_action).collect()
    }

    /// The roles in use (not retired), by name: the columns' groups of the matrix.
    pub async fn competence_roles(&self, tenant_id: i64) -> StoreResult<Vec<CompetenceRole>> {
        self.db
            .fetch_all(
                sql(
                    "SELECT id, name FROM sms_roles WHERE tenant_id = $1 AND retired = FALSE \
                     ORDER BY name, id",
                )
                .bind(tenant_id),
            )
            .await
    }

    /// Who holds which role on `day`.
    pub async fn competence_holders(&self, tenant_id: i64, day: Date) -> StoreResult<Vec<Holder>> {
        let rows: Vec<(i64, i64)> = self
            .db
            .fetch_all(sql(HOLDERS).bind(tenant_id).bind(date_text(day)))
            .await?;
        Ok(rows
            .into_iter()
            .map(|(user_id, role_id)| Holder { user_id, role_id })
            .collect())
    }

    /// How every current holder stands against every requirement of their roles on `day`.
    pub async fn competence_gaps(&self, tenant_id: i64, day: Date) -> StoreResult<Vec<GapCell>> {
        let requirements: Vec<Requirement> = self
            .competence_requirements(tenant_id)
            .await?
            .into_iter()
            .map(|r| Requirement {
                id: r.id,
                role_id: r.role_id,
            })
            .collect();
        let holders = self.competence_holders(tenant_id, day).await?;
        let proofs: Vec<Proof> = self
            .competence_records(tenant_id, None)
            .await?
            .into_iter()
            .map(|r| Proof {
                user_id: r.user_id,
                requirement_id: r.requirement_id,
                achieved_on: r.achieved_on,
                expires_on: r.expires_on,
            })
            .collect();
        let remedies: Vec<Remedy> = self
            .competence_actions(tenant_id, None)
            .await?
            .into_iter()
            .map(|a| Remedy {
                id: a.id,
                user_id: a.user_id,
                requirement_id: a.requirement_id,
                due_date: a.due_date,
                status: a.stage.status(),
            })
            .collect();
        Ok(gap_analysis(
            &requirements,
            &holders,
            &proofs,
            &remedies,
            day,
        ))
    }

    /// The evidence of 7.2-b/e (every holder and requirement, failing where no record is
    /// valid) and 7.2-c (every gap, failing where nothing is being done), on `last_day`.
    pub(crate) async fn competence_found(
        &self,
        tenant_id: i64,
        rule: RuleId,
        last_day: &str,
    ) -> StoreResult<Found> {
        let day = stored_date("period end", 0, last_day)?;
        let cells = self.competence_gaps(tenant_id, day).await?;
        let people: HashMap<i64, String> = self
            .db
            .fetch_all::<(i64, String)>(
                sql("SELECT id, name FROM users WHERE tenant_id = $1").bind(tenant_id),
            )
            .await?
            .into_iter()
            .collect();
        let requirements: HashMap<i64, String> = self
            .competence_requirements(tenant_id)
            .await?
            .into_iter()
            .map(|r| (r.id, r.name))
            .collect();
        let reference = |c: &GapCell| RecordRef {
            kind: "person".into(),
            id: c.user_id,
            label: format!(
                "{}: {}",
                people.get(&c.user_id).map_or("?", String::as_str),
                requirements
                    .get(&c.requirement_id)
                    .map_or("?", String::as_str)
            ),
        };
        let mut found = Found::default();
        for cell in &cells {
            let (counts, fails) = match rule {
                RuleId::CompetenceGapsActioned => (
                    cell.standing.is_gap(),
                    cell.standing == CompetenceStanding::Gap,
                ),
                _ => (true, cell.standing.is_gap()),
            };
            if fails {
                found.failing.push(reference(cell));
            }
            if counts {
                found.population.push(reference(cell));
            }
        }
        Ok(found)
    }

    /// 7.2 f: the role assignments that began between `first_day` and `last_day`; failing are
    /// those whose holder, on `last_day` and past the grace period, still has a gap in the role
    /// with nothing being done.
    pub(crate) async fn new_holders_found(
        &self,
        tenant_id: i64,
        first_day: &str,
        last_day: &str,
    ) -> StoreResult<Found> {
        let day = stored_date("period end", 0, last_day)?;
        let cells = self.competence_gaps(tenant_id, day).await?;
        let started: Vec<(i64, i64, String, String, String)> = self
            .db
            .fetch_all(
                sql("SELECT a.user_id, a.role_id, a.from_date, u.name, r.name \
                     FROM role_assignments a JOIN users u ON u.id = a.user_id \
                     JOIN sms_roles r ON r.id = a.role_id \
                     WHERE a.tenant_id = $1 AND a.from_date >= $2 AND a.from_date <= $3 \
                     ORDER BY a.from_date, a.id")
                .bind(tenant_id)
                .bind(first_day)
                .bind(last_day),
            )
            .await?;
        let mut found = Found::default();
        for (user_id, role_id, from, person, role) in started {
            let from = stored_date("role_assignments.from_date", user_id, &from)?;
            let reference = RecordRef {
                kind: "person".into(),
                id: user_id,
                label: format!("{person} as {role}, from {from}"),
            };
            if new_holder_unchecked(user_id, role_id, from, &cells, day) {
                found.failing.push(reference.clone());
            }
            found.population.push(reference);
        }
        Ok(found)
    }

    /// Mails the day's competence reminders, each once to each recipient: the holders whose
    /// proof of a requirement of their roles expires within 30 days, and the person and owner
    /// of each open action past its due date. Returns what went out.
    pub async fn send_competence_reminders(
        &self,
        tenant_id: i64,
        today: Date,
        render: impl Fn(&CompetenceReminder, &str) -> (String, String),
    ) -> StoreResult<Vec<CompetenceReminder>> {
        let requirements: HashMap<i64, String> = self
            .competence_requirements(tenant_id)
            .await?
            .into_iter()
            .map(|r| (r.id, r.name))
            .collect();
        let name_of = |id: i64| requirements.get(&id).cloned().unwrap_or_default();
        let mut due = Vec::new();
        for cell in self.competence_gaps(tenant_id, today).await? {
            if let CompetenceStanding::Expiring { expires_on } = cell.standing {
                due.push(CompetenceReminder {
                    kind: ReminderKind::RecordExpiring,
                    subject_id: cell.requirement_id,
                    user_id: cell.user_id,
                    requirement: name_of(cell.requirement_id),
                    what: String::new(),
                    due_on: expires_on,
                    recipient_id: cell.user_id,
                    recipient: (String::new(), String::new()),
                });
            }
        }
        for action in self.competence_actions(tenant_id, None).await? {
            if !action.overdue(today) {
                continue;
            }
            let mut recipients = vec![action.user_id];
            recipients.extend(action.owner_id.filter(|o| *o != action.user_id));
            for recipient_id in recipients {
                due.push(CompetenceReminder {
                    kind: ReminderKind::ActionOverdue,
                    subject_id: action.id,
                    user_id: action.user_id,
                    requirement: name_of(action.requirement_id),
                    what: action.description.clone(),
                    due_on: action.due_date,
                    recipient_id,
                    recipient: (String::new(), String::new()),
                });
            }
        }
        let mut sent = Vec::new();
        for reminder in due {
            if let Some(r) = self
                .send_competence_reminder(tenant_id, reminder, &render)
                .await?
            {
                sent.push(r);
            }
        }
        Ok(sent)
    }

    /// Claims and mails one reminder; `None` when it went out before or its recipient is not
    /// an active user.
    async fn send_competence_reminder(
        &self,
        tenant_id: i64,
        mut reminder: CompetenceReminder,
        render: &impl Fn(&CompetenceReminder, &str) -> (String, String),
    ) -> StoreResult<Option<CompetenceReminder>> {
        let recipient: Option<(String, String)> = self
            .db
            .fetch_optional(
                sql("SELECT name, email FROM users WHERE tenant_id = $1 AND id = $2 AND active = $3")
                    .bind(tenant_id)
                    .bind(reminder.recipient_id)
                    .bind(true),
            )
            .await?;
        let Some(recipient) = recipient else {
            return Ok(None);
        };
        reminder.recipient = recipient;
        let mut tx = self.db.begin().await?;
        let claimed: Option<(i64,)> = tx
            .fetch_optional(
                sql(
                    "INSERT INTO competence_reminders (tenant_id, kind, subject_id, recipient_id, \
                     due_on, sent_at) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (tenant_id, kind, subject_id, recipient_id, due_on) DO NOTHING \
                     RETURNING id",
                )
                .bind(tenant_id)
                .bind(reminder.kind.as_str())
                .bind(reminder.subject_id)
                .bind(reminder.recipient_id)
                .bind(date_text(reminder.due_on))
                .bind(now_micros()),
            )
            .await?;
        let Some((reminder_id,)) = claimed else {
            return Ok(None);
        };
        let (subject, body) = render(&reminder, &reminder.recipient.0);
        let (record_type, record_id) = match reminder.kind {
            ReminderKind::RecordExpiring => (CompetenceRequirement::KIND, reminder.subject_id),
            ReminderKind::ActionOverdue => (CompetenceAction::KIND, reminder.subject_id),
        };
        let mail = OutMail {
            record_type: record_type.into(),
            record_id,
            to_address: reminder.recipient.1.clone(),
            subject,
            body,
            message_id: format!(
                "competence-reminder.{tenant_id}.{reminder_id}.{}@steward",
                reminder.kind.as_str()
            ),
            in_reply_to: None,
            references: None,
        };
        queue_mail_in(&mut tx, tenant_id, &mail).await?;
        tx.commit().await?;
        Ok(Some(reminder))
    }
}

/// A competence reminder: why, about whom and what, when, and to whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompetenceReminder {
    pub kind: ReminderKind,
    /// The requirement whose proof expires, or the overdue action.
    pub subject_id: i64,
    /// Whose competence it concerns.
    pub user_id: i64,
    pub requirement: String,
    /// The overdue action's description.
    pub what: String,
    /// The expiry date, or the action's due date.
    pub due_on: Date,
    pub recipient_id: i64,
    /// Name and address, once found active.
    pub recipient: (String, String),
}
