//! Roles of the SMS (5.3, `sms_roles`), the people who hold them (`role_assignments`, ended but
//! never deleted, so the history shows who held what when) and the RACI matrix
//! (`raci_entries`). `steward_domain::sms::role` decides what may be written; every write is
//! journaled in its transaction, and assigning a role queues the notice to its new holder.

use super::{date_text, stored_date, stored_optional_date};
use crate::asset::today_utc;
use crate::db::{Tx, sql};
use crate::journal::{Change, Record};
use crate::mail::{OutMail, queue_mail_in};
use crate::{Actor, Store, StoreError, StoreResult, next_updated_at, now_micros};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use steward_domain::Invalid;
use steward_domain::conformance::rules::{Found, RecordRef};
use steward_domain::journal::Action;
use steward_domain::sms::role::{
    Holding, MAX_NOTE, PROCESSES, RaciLetter, RoleDraft, RoleFacts, assignment_notice,
    check_assignment, check_end, check_raci_row, process,
};
use steward_domain::validation::optional_text;

/// A role as stored (and as the journal keeps it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct SmsRole {
    pub id: i64,
    pub name: String,
    pub responsibilities: String,
    pub authorities: String,
    pub conformity_lead: bool,
    pub reports_performance: bool,
    pub retired: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Record for SmsRole {
    const KIND: &'static str = "sms_role";
    fn id(&self) -> i64 {
        self.id
    }
}

impl SmsRole {
    pub fn draft(&self) -> RoleDraft {
        RoleDraft {
            name: self.name.clone(),
            responsibilities: self.responsibilities.clone(),
            authorities: self.authorities.clone(),
            conformity_lead: self.conformity_lead,
            reports_performance: self.reports_performance,
        }
    }

    fn facts(&self) -> RoleFacts {
        RoleFacts {
            id: self.id,
            name: self.name.clone(),
            retired: self.retired,
        }
    }
}

/// A person's holding of a role: from `from_date` until the day before `to_date`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleAssignment {
    pub id: i64,
    pub role_id: i64,
    pub user_id: i64,
    pub from_date: Date,
    /// The first day no longer held; `None` while it runs.
    pub to_date: Option<Date>,
    pub note: String,
    pub assigned_by: Option<i64>,
    pub ended_by: Option<i64>,
    pub created_at: i64,
}

impl Record for RoleAssignment {
    const KIND: &'static str = "role_assignment";
    fn id(&self) -> i64 {
        self.id
    }
}

impl RoleAssignment {
    pub fn holding(&self) -> Holding {
        Holding {
            user_id: self.user_id,
            from: self.from_date,
            to: self.to_date,
        }
    }

    /// Whether it is held on `day`.
    pub fn holds_on(&self, day: Date) -> bool {
        self.holding().holds_on(day)
    }
}

#[derive(sqlx::FromRow)]
struct AssignmentRow {
    id: i64,
    role_id: i64,
    user_id: i64,
    from_date: String,
    to_date: Option<String>,
    note: String,
    assigned_by: Option<i64>,
    ended_by: Option<i64>,
    created_at: i64,
}

impl AssignmentRow {
    fn into_assignment(self) -> StoreResult<RoleAssignment> {
        let id = self.id;
        Ok(RoleAssignment {
            from_date: stored_date("role assignment", id, &self.from_date)?,
            to_date: stored_optional_date("role assignment", id, self.to_date.as_deref())?,
            id,
            role_id: self.role_id,
            user_id: self.user_id,
            note: self.note,
            assigned_by: self.assigned_by,
            ended_by: self.ended_by,
            created_at: self.created_at,
        })
    }
}

/// One cell of the RACI matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaciCell {
    pub role_id: i64,
    pub letter: RaciLetter,
}

/// One process's row of the RACI matrix (and the journal's record of it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaciRow {
    /// The catalogue clause or heading id of the process.
    pub process: String,
    pub name: String,
    /// Ordered by role id; empty while nobody has set the row.
    pub cells: Vec<RaciCell>,
}

impl Record for RaciRow {
    const KIND: &'static str = "raci_row";
    fn id(&self) -> i64 {
        process(&self.process).map_or(0, |p| p.number())
    }
}

impl RaciRow {
    /// The accountable role, if the row has one.
    pub fn accountable(&self) -> Option<i64> {
        self.cells
            .iter()
            .find(|c| c.letter == RaciLetter::Accountable)
            .map(|c| c.role_id)
    }

    pub fn letter_of(&self, role_id: i64) -> Option<RaciLetter> {
        self.cells
            .iter()
            .find(|c| c.role_id == role_id)
            .map(|c| c.letter)
    }
}

const COLUMNS: &str = "id, name, responsibilities, authorities, conformity_lead, \
                       reports_performance, retired, created_at, updated_at";
const ASSIGNMENT_COLUMNS: &str =
    "id, role_id, user_id, from_date, to_date, note, assigned_by, ended_by, created_at";

fn name_taken(name: &str) -> impl FnOnce(StoreError) -> StoreError {
    let message = format!("A role named {name} already exists");
    move |e| {
        if e.is_unique_violation() {
            Invalid::one("name", message).into()
        } else {
            e
        }
    }
}

async fn read_role(tx: &mut Tx, tenant_id: i64, id: i64) -> StoreResult<SmsRole> {
    tx.fetch_one(
        sql(format!(
            "SELECT {COLUMNS} FROM sms_roles WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant_id)
        .bind(id),
    )
    .await
}

async fn read_assignment(tx: &mut Tx, tenant_id: i64, id: i64) -> StoreResult<RoleAssignment> {
    tx.fetch_one::<AssignmentRow>(
        sql(format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM role_assignments WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant_id)
        .bind(id),
    )
    .await?
    .into_assignment()
}

async fn holdings(tx: &mut Tx, tenant_id: i64, role_id: i64) -> StoreResult<Vec<Holding>> {
    let rows: Vec<AssignmentRow> = tx
        .fetch_all(
            sql(format!(
                "SELECT {ASSIGNMENT_COLUMNS} FROM role_assignments \
                 WHERE tenant_id = $1 AND role_id = $2"
            ))
            .bind(tenant_id)
            .bind(role_id),
        )
        .await?;
    rows.into_iter()
        .map(|r| r.into_assignment().map(|a| a.holding()))
        .collect()
}

/// The process names of the RACI rows in which the role has a letter, in the standard's order.
async fn raci_processes_of(tx: &mut Tx, tenant_id: i64, role_id: i64) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> = tx
        .fetch_all(
            sql("SELECT process FROM raci_entries WHERE tenant_id = $1 AND role_id = $2")
                .bind(tenant_id)
                .bind(role_id),
        )
        .await?;
    Ok(PROCESSES
        .iter()
        .filter(|p| rows.iter().any(|(id,)| id == p.id))
        .map(|p| p.name.to_owned())
        .collect())
}

/// Why a role may not be retired yet: it still takes part in processes or is still held.
async fn check_retirement(
    tx: &mut Tx,
    tenant_id: i64,
    role: &SmsRole,
    today: Date,
) -> StoreResult<()> {
    let processes = raci_processes_of(tx, tenant_id, role.id).await?;
    if !processes.is_empty() {
        return Err(Invalid::one(
            "retired",
            format!(
                "{} still has a part in {}: take it out of the RACI matrix first",
                role.name,
                processes.join(", ")
            ),
        )
        .into());
    }
    let held = holdings(tx, tenant_id, role.id).await?;
    if held.iter().any(|h| h.to.is_none_or(|to| to > today)) {
        return Err(Invalid::one(
            "retired",
            format!(
                "{} is still held: end its assignments before retiring it",
                role.name
            ),
        )
        .into());
    }
    Ok(())
}

async fn read_raci_row(tx: &mut Tx, tenant_id: i64, process_id: &str) -> StoreResult<RaciRow> {
    let Some(p) = process(process_id) else {
        return Err(StoreError::NotFound);
    };
    let rows: Vec<(i64, String)> = tx
        .fetch_all(
            sql(
                "SELECT role_id, letter FROM raci_entries WHERE tenant_id = $1 AND process = $2 \
                 ORDER BY role_id",
            )
            .bind(tenant_id)
            .bind(p.id),
        )
        .await?;
    Ok(RaciRow {
        process: p.id.to_owned(),
        name: p.name.to_owned(),
        cells: cells(rows)?,
    })
}

fn cells(rows: Vec<(i64, String)>) -> StoreResult<Vec<RaciCell>> {
    rows.into_iter()
        .map(|(role_id, letter)| {
            RaciLetter::parse(&letter)
                .map(|letter| RaciCell { role_id, letter })
                .ok_or_else(|| StoreError::Corrupt(format!("RACI letter `{letter}`")))
        })
        .collect()
}

/// Whether the person may hold a role: an active user of the tenant; their name and address.
async fn holder(tx: &mut Tx, tenant_id: i64, user_id: i64) -> StoreResult<(String, String)> {
    let found: Option<(String, String)> = tx
        .fetch_optional(
            sql("SELECT name, email FROM users WHERE tenant_id = $1 AND id = $2 AND active = $3")
                .bind(tenant_id)
                .bind(user_id)
                .bind(true),
        )
        .await?;
    found.ok_or_else(|| {
        Invalid::one(
            "user_id",
            "The holder must be an active person of this organisation",
        )
        .into()
    })
}

impl Store {
    /// Records a role from a validated draft; its name must be new to the tenant.
    pub async fn create_sms_role(
        &self,
        tenant_id: i64,
        draft: &RoleDraft,
        actor: &Actor,
    ) -> StoreResult<SmsRole> {
        let mut tx = self.db.begin().await?;
        let created: SmsRole = tx
            .fetch_one(
                sql(format!(
                    "INSERT INTO sms_roles (tenant_id, name, responsibilities, authorities, \
                     conformity_lead, reports_performance, retired, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING {COLUMNS}"
                ))
                .bind(tenant_id)
                .bind(&draft.name)
                .bind(&draft.responsibilities)
                .bind(&draft.authorities)
                .bind(draft.conformity_lead)
                .bind(draft.reports_performance)
                .bind(false)
                .bind(now_micros()),
            )
            .await
            .map_err(name_taken(&draft.name))?;
        self.commit_created(tx, tenant_id, actor, created).await
    }

    /// Replaces a role's fields and retires or reinstates it, if it has not changed since
    /// `seen_updated_at`. A role is retired only once it has no part in the RACI matrix and
    /// nobody holds it, so that no process or person is left pointing at a dead role.
    pub async fn update_sms_role(
        &self,
        tenant_id: i64,
        id: i64,
        seen_updated_at: i64,
        draft: &RoleDraft,
        retired: bool,
        actor: &Actor,
    ) -> StoreResult<SmsRole> {
        let mut tx = self.db.begin().await?;
        let before = read_role(&mut tx, tenant_id, id).await?;
        if before.updated_at != seen_updated_at {
            return Err(StoreError::Conflict(
                "The role was changed by someone else; reload it and try again".into(),
            ));
        }
        if retired && !before.retired {
            check_retirement(&mut tx, tenant_id, &before, today_utc()).await?;
        }
        let after: SmsRole = tx
            .fetch_one(
                sql(format!(
                    "UPDATE sms_roles SET name = $1, responsibilities = $2, authorities = $3, \
                     conformity_lead = $4, reports_performance = $5, retired = $6, updated_at = $7 \
                     WHERE tenant_id = $8 AND id = $9 RETURNING {COLUMNS}"
                ))
                .bind(&draft.name)
                .bind(&draft.responsibilities)
                .bind(&draft.authorities)
                .bind(draft.conformity_lead)
                .bind(draft.reports_performance)
                .bind(retired)
                .bind(next_updated_at(seen_updated_at))
                .bind(tenant_id)
                .bind(id),
            )
            .await
            .map_err(name_taken(&draft.name))?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    pub async fn sms_role(&self, tenant_id: i64, id: i64) -> StoreResult<SmsRole> {
        self.db
            .fetch_one(
                sql(format!(
                    "SELECT {COLUMNS} FROM sms_roles WHERE tenant_id = $1 AND id = $2"
                ))
                .bind(tenant_id)
                .bind(id),
            )
            .await
    }

    /// Every role, by name, the retired ones last.
    pub async fn sms_roles(&self, tenant_id: i64) -> StoreResult<Vec<SmsRole>> {
        self.db
            .fetch_all(
                sql(format!(
                    "SELECT {COLUMNS} FROM sms_roles WHERE tenant_id = $1 \
                     ORDER BY retired, lower(name), id"
                ))
                .bind(tenant_id),
            )
            .await
    }

    /// Assigns the role to a person from `from`, and queues the notice that tells them so
    /// (5.3 b) in the same transaction: an assignment is never recorded unannounced.
    pub async fn assign_role(
        &self,
        tenant_id: i64,
        role_id: i64,
        user_id: i64,
        from: Date,
        note: &str,
        actor: &Actor,
    ) -> StoreResult<RoleAssignment> {
        let mut errors = Invalid::new();
        let note = optional_text(&mut errors, "note", "The note", note.trim(), MAX_NOTE);
        errors.into_result(())?;
        let mut tx = self.db.begin().await?;
        let role = read_role(&mut tx, tenant_id, role_id).await?;
        let (name, email) = holder(&mut tx, tenant_id, user_id).await?;
        let held = holdings(&mut tx, tenant_id, role_id).await?;
        check_assignment(&role.name, role.retired, &held, user_id, from)?;
        let row: AssignmentRow = tx
            .fetch_one(
                sql(format!(
                    "INSERT INTO role_assignments (tenant_id, role_id, user_id, from_date, note, \
                     assigned_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     RETURNING {ASSIGNMENT_COLUMNS}"
                ))
                .bind(tenant_id)
                .bind(role_id)
                .bind(user_id)
                .bind(date_text(from))
                .bind(&note)
                .bind(actor.user_id)
                .bind(now_micros()),
            )
            .await?;
        let created = row.into_assignment()?;
        let (subject, body) = assignment_notice(
            &name,
            &role.name,
            from,
            &role.responsibilities,
            &role.authorities,
        );
        let notice = OutMail {
            record_type: RoleAssignment::KIND.into(),
            record_id: created.id,
            to_address: email,
            subject,
            body,
            message_id: format!("role-assigned.{tenant_id}.{}@steward", created.id),
            in_reply_to: None,
            references: None,
        };
        queue_mail_in(&mut tx, tenant_id, &notice).await?;
        self.commit_created(tx, tenant_id, actor, created).await
    }

    /// How the notice mailed to each new holder went, by assignment id.
    pub async fn assignment_notices(
        &self,
        tenant_id: i64,
    ) -> StoreResult<std::collections::HashMap<i64, crate::mail::Delivery>> {
        self.mail_deliveries(tenant_id, RoleAssignment::KIND).await
    }

    /// Ends a running assignment on `to` (the first day it is no longer held); it stays as
    /// history.
    pub async fn end_role_assignment(
        &self,
        tenant_id: i64,
        assignment_id: i64,
        to: Date,
        actor: &Actor,
    ) -> StoreResult<RoleAssignment> {
        let mut tx = self.db.begin().await?;
        let before = read_assignment(&mut tx, tenant_id, assignment_id).await?;
        check_end(&before.holding(), to)?;
        tx.execute(
            sql("UPDATE role_assignments SET to_date = $1, ended_by = $2 \
                 WHERE tenant_id = $3 AND id = $4")
            .bind(date_text(to))
            .bind(actor.user_id)
            .bind(tenant_id)
            .bind(assignment_id),
        )
        .await?;
        let after = read_assignment(&mut tx, tenant_id, assignment_id).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    /// A role's assignments: the running ones first (latest start first), then the history.
    pub async fn role_assignments(
        &self,
        tenant_id: i64,
        role_id: i64,
    ) -> StoreResult<Vec<RoleAssignment>> {
        self.sms_role(tenant_id, role_id).await?;
        self.assignments_where(tenant_id, "role_id = $2", role_id)
            .await
    }

    /// Every assignment of the tenant that runs on `day`: who holds which role.
    pub async fn current_role_holders(
        &self,
        tenant_id: i64,
        day: Date,
    ) -> StoreResult<Vec<RoleAssignment>> {
        let rows: Vec<AssignmentRow> = self
            .db
            .fetch_all(
                sql(format!(
                    "SELECT {ASSIGNMENT_COLUMNS} FROM role_assignments WHERE tenant_id = $1 \
                     AND from_date <= $2 AND (to_date IS NULL OR to_date > $2) \
                     ORDER BY role_id, from_date, id"
                ))
                .bind(tenant_id)
                .bind(date_text(day)),
            )
            .await?;
        rows.into_iter()
            .map(AssignmentRow::into_assignment)
            .collect()
    }

    /// The roles a person holds or held, for their competence and their hand-over.
    pub async fn assignments_of_user(
        &self,
        tenant_id: i64,
        user_id: i64,
    ) -> StoreResult<Vec<RoleAssignment>> {
        self.assignments_where(tenant_id, "user_id = $2", user_id)
            .await
    }

    async fn assignments_where(
        &self,
        tenant_id: i64,
        condition: &'static str,
        value: i64,
    ) -> StoreResult<Vec<RoleAssignment>> {
        let rows: Vec<AssignmentRow> = self
            .db
            .fetch_all(
                sql(format!(
                    "SELECT {ASSIGNMENT_COLUMNS} FROM role_assignments \
                     WHERE tenant_id = $1 AND {condition} \
                     ORDER BY CASE WHEN to_date IS NULL THEN 0 ELSE 1 END, from_date DESC, id DESC"
                ))
                .bind(tenant_id)
                .bind(value),
            )
            .await?;
        rows.into_iter()
            .map(AssignmentRow::into_assignment)
            .collect()
    }

    /// The RACI matrix: one row per process of the SMS, in the standard's order.
    pub async fn raci(&self, tenant_id: i64) -> StoreResult<Vec<RaciRow>> {
        let rows: Vec<(String, i64, String)> = self
            .db
            .fetch_all(
                sql(
                    "SELECT process, role_id, letter FROM raci_entries WHERE tenant_id = $1 \
                     ORDER BY role_id",
                )
                .bind(tenant_id),
            )
            .await?;
        PROCESSES
            .iter()
            .map(|p| {
                let mine = rows
                    .iter()
                    .filter(|(process, _, _)| process == p.id)
                    .map(|(_, role, letter)| (*role, letter.clone()))
                    .collect();
                Ok(RaciRow {
                    process: p.id.to_owned(),
                    name: p.name.to_owned(),
                    cells: cells(mine)?,
                })
            })
            .collect()
    }

    /// Replaces one process's row of the RACI matrix in one transaction, once the domain has
    /// checked it against the tenant's roles.
    pub async fn set_raci_row(
        &self,
        tenant_id: i64,
        process_id: &str,
        entries: &[(i64, RaciLetter)],
        actor: &Actor,
    ) -> StoreResult<RaciRow> {
        let mut tx = self.db.begin().await?;
        let before = read_raci_row(&mut tx, tenant_id, process_id).await?;
        let roles: Vec<SmsRole> = tx
            .fetch_all(
                sql(format!(
                    "SELECT {COLUMNS} FROM sms_roles WHERE tenant_id = $1"
                ))
                .bind(tenant_id),
            )
            .await?;
        let facts: Vec<RoleFacts> = roles.iter().map(SmsRole::facts).collect();
        let row = check_raci_row(&before.process, entries, &facts)?;
        tx.execute(
            sql("DELETE FROM raci_entries WHERE tenant_id = $1 AND process = $2")
                .bind(tenant_id)
                .bind(before.process.clone()),
        )
        .await?;
        for (role_id, letter) in &row {
            tx.execute(
                sql(
                    "INSERT INTO raci_entries (tenant_id, process, role_id, letter) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(tenant_id)
                .bind(before.process.clone())
                .bind(*role_id)
                .bind(letter.as_str()),
            )
            .await?;
        }
        let after = read_raci_row(&mut tx, tenant_id, process_id).await?;
        let action = if before.cells.is_empty() {
            Action::Create
        } else {
            Action::Update
        };
        let kept_before = (!before.cells.is_empty()).then_some(&before);
        self.journal(
            &mut tx,
            Change::of(tenant_id, actor, action, kept_before, Some(&after)),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }
}

impl Store {
    /// The evidence of 5.3 a, computed because its population is the domain's list of
    /// processes, not rows: each process fails unless one role in use, with its duties and
    /// powers written down, is accountable for it. (Roles cannot be saved without duties and
    /// powers, nor retired while in the matrix; the check stands in case data was loaded
    /// around those rules.)
    pub(crate) async fn processes_owned(&self, tenant_id: i64) -> StoreResult<Found> {
        let owners: Vec<(String, String, String, bool)> = self
            .db
            .fetch_all(
                sql(
                    "SELECT e.process, k.responsibilities, k.authorities, k.retired \
                     FROM raci_entries e JOIN sms_roles k ON k.id = e.role_id \
                     WHERE e.tenant_id = $1 AND e.letter = $2",
                )
                .bind(tenant_id)
                .bind(RaciLetter::Accountable.as_str()),
            )
            .await?;
        let mut found = Found::default();
        for p in PROCESSES {
            let r = RecordRef {
                kind: "process".into(),
                id: p.number(),
                label: format!("{} {}", p.id, p.name),
            };
            let owned = owners.iter().any(|(process, duties, powers, retired)| {
                process == p.id
                    && !retired
                    && !duties.trim().is_empty()
                    && !powers.trim().is_empty()
            });
            if !owned {
                found.failing.push(r.clone());
            }
            found.population.push(r);
        }
        Ok(found)
    }
}
