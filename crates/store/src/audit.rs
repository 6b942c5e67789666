//! Internal audit (ISO/IEC 20000-1 clause 9.2), kept: what `steward_domain::sms::audit` decided.
//!
//! Audit programmes (a three-year cycle each), the audits planned in them with their other
//! auditors and auditees (`audit_members`), each audit's checklist (`audit_checklist`, one row
//! per requirement of the scoped clauses, made when the audit is planned) and its findings
//! (`audit_findings`). A major or minor nonconformity finding raises a nonconformity in the
//! finding's own transaction and keeps its id. Every write is journaled in its transaction.

use crate::asset::today_utc;
use crate::db::{Sql, Tx, sql};
use crate::journal::Record;
use crate::page::{CursorKey, Page, PageRequest, Sort, finish, paginate};
use crate::{Actor, Store, StoreError, StoreResult, next_updated_at, now_micros};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use steward_domain::Invalid;
use steward_domain::conformance::catalogue::catalogue;
use steward_domain::conformance::rules::{Found, RecordRef};
use steward_domain::sms::audit::{
    AuditDraft, AuditStatus, CheckedFinding, ChecklistResult, ClauseCoverage, Coverage,
    FindingDraft, FindingKind, Person, PlannedAudit, ProcessOwner, ProgrammeDraft,
    check_independence, check_report, checklist, coverage, cycle_end, scope_processes,
};
use steward_domain::sms::role::RaciLetter;
use steward_domain::validation::{optional_text, required_text};

/// Longest notes or evidence of one checklist row.
pub const MAX_ROW_TEXT: usize = 5_000;
/// The most audits a programme's calendar and coverage read (a three-year cycle has a few
/// dozen at most).
const PROGRAMME_AUDITS: i64 = 1_000;

fn date_text(date: Date) -> String {
    date.strftime("%Y-%m-%d").to_string()
}

fn stored_date(what: &str, id: i64, text: &str) -> StoreResult<Date> {
    Date::strptime("%Y-%m-%d", text)
        .map_err(|e| StoreError::Corrupt(format!("{what} {id} date `{text}`: {e}")))
}

/// An audit programme as stored (and as the journal keeps it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Programme {
    pub id: i64,
    pub name: String,
    pub cycle_start: Date,
    pub cycle_end: Date,
    pub owner_id: Option<i64>,
    pub notes: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Record for Programme {
    const KIND: &'static str = "audit_programme";
    fn id(&self) -> i64 {
        self.id
    }
}

impl Programme {
    pub fn draft(&self) -> ProgrammeDraft {
        ProgrammeDraft {
            name: self.name.clone(),
            cycle_start: self.cycle_start,
            owner_id: self.owner_id,
            notes: self.notes.clone(),
        }
    }
}

#[derive(sqlx::FromRow)]
struct ProgrammeRow {
    id: i64,
    name: String,
    cycle_start: String,
    cycle_end: String,
    owner_id: Option<i64>,
    notes: String,
    created_at: i64,
    updated_at: i64,
}

impl ProgrammeRow {
    fn into_programme(self) -> StoreResult<Programme> {
        let id = self.id;
        Ok(Programme {
            id,
            cycle_start: stored_date("audit programme", id, &self.cycle_start)?,
            cycle_end: stored_date("audit programme", id, &self.cycle_end)?,
            name: self.name,
            owner_id: self.owner_id,
            notes: self.notes,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

const PROGRAMME_COLUMNS: &str =
    "id, name, cycle_start, cycle_end, owner_id, notes, created_at, updated_at";

/// An audit as stored, with its people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audit {
    pub id: i64,
    pub programme_id: i64,
    pub title: String,
    /// Clause ids, in the standard's order.
    pub scope: Vec<String>,
    pub criteria: String,
    pub planned_start: Date,
    pub planned_end: Date,
    pub lead_auditor_id: i64,
    pub auditor_ids: Vec<i64>,
    pub auditee_ids: Vec<i64>,
    pub status: AuditStatus,
    pub actual_start: Option<Date>,
    pub actual_end: Option<Date>,
    /// Summary and conclusion, given when reported.
    pub summary: String,
    pub cancel_reason: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Record for Audit {
    const KIND: &'static str = "audit";
    fn id(&self) -> i64 {
        self.id
    }
}

impl Audit {
    /// Its plan as a draft, to edit and validate again for `update_audit`.
    pub fn draft(&self) -> AuditDraft {
        AuditDraft {
            title: self.title.clone(),
            scope: self.scope.clone(),
            criteria: self.criteria.clone(),
            planned_start: self.planned_start,
            planned_end: self.planned_end,
            lead_auditor_id: self.lead_auditor_id,
            auditor_ids: self.auditor_ids.clone(),
            auditee_ids: self.auditee_ids.clone(),
        }
    }
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    programme_id: i64,
    title: String,
    scope: String,
    criteria: String,
    planned_start: String,
    planned_end: String,
    lead_auditor_id: i64,
    #[sqlx(try_from = "String")]
    status: AuditStatus,
    actual_start: Option<String>,
    actual_end: Option<String>,
    summary: String,
    cancel_reason: String,
    created_at: i64,
    updated_at: i64,
}

impl AuditRow {
    fn into_audit(self, members: &[(i64, i64, String)]) -> StoreResult<Audit> {
        let id = self.id;
        let scope: Vec<String> = serde_json::from_str(&self.scope)
            .map_err(|e| StoreError::Corrupt(format!("audit {id} scope: {e}")))?;
        let of = |role: &str| {
            members
                .iter()
                .filter(|(audit, _, r)| *audit == id && r == role)
                .map(|(_, user, _)| *user)
                .collect()
        };
        let optional = |text: Option<String>| {
            text.as_deref()
                .map(|t| stored_date("audit", id, t))
                .transpose()
        };
        Ok(Audit {
            id,
            programme_id: self.programme_id,
            title: self.title,
            scope,
            criteria: self.criteria,
            planned_start: stored_date("audit", id, &self.planned_start)?,
            planned_end: stored_date("audit", id, &self.planned_end)?,
            lead_auditor_id: self.lead_auditor_id,
            auditor_ids: of("auditor"),
            auditee_ids: of("auditee"),
            status: self.status,
            actual_start: optional(self.actual_start)?,
            actual_end: optional(self.actual_end)?,
            summary: self.summary,
            cancel_reason: self.cancel_reason,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

const AUDIT_COLUMNS: &str = "id, programme_id, title, scope, criteria, planned_start, planned_end, \
                             lead_auditor_id, status, actual_start, actual_end, summary, \
                             cancel_reason, created_at, updated_at";

/// One row of an audit's checklist, with the catalogue's wording of its requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChecklistRow {
    pub id: i64,
    pub audit_id: i64,
    pub requirement_id: String,
    pub clause_id: String,
    /// The catalogue's paraphrase of the requirement (not stored: the catalogue has it).
    #[serde(skip)]
    pub text: String,
    pub result: ChecklistResult,
    pub notes: String,
    pub evidence: String,
    pub updated_at: i64,
}

impl Record for ChecklistRow {
    const KIND: &'static str = "audit_checklist_row";
    fn id(&self) -> i64 {
        self.id
    }
}

#[derive(sqlx::FromRow)]
struct ChecklistDbRow {
    id: i64,
    audit_id: i64,
    requirement_id: String,
    clause_id: String,
    #[sqlx(try_from = "String")]
    result: ChecklistResult,
    notes: String,
    evidence: String,
    updated_at: i64,
}

impl From<ChecklistDbRow> for ChecklistRow {
    fn from(r: ChecklistDbRow) -> Self {
        let text = catalogue()
            .requirement(&r.requirement_id)
            .map(|(_, req)| req.text.clone())
            .unwrap_or_default();
        ChecklistRow {
            id: r.id,
            audit_id: r.audit_id,
            requirement_id: r.requirement_id,
            clause_id: r.clause_id,
            text,
            result: r.result,
            notes: r.notes,
            evidence: r.evidence,
            updated_at: r.updated_at,
        }
    }
}

const CHECKLIST_COLUMNS: &str =
    "id, audit_id, requirement_id, clause_id, result, notes, evidence, updated_at";

/// A result recorded on a checklist row, as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistEntry {
    pub result: ChecklistResult,
    pub notes: String,
    pub evidence: String,
}

/// A finding as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Finding {
    pub id: i64,
    pub audit_id: i64,
    #[sqlx(try_from = "String")]
    pub kind: FindingKind,
    pub clause_id: String,
    pub requirement_id: Option<String>,
    pub statement: String,
    pub evidence: String,
    /// The nonconformity it raised (major and minor nonconformities only).
    pub nonconformity_id: Option<i64>,
    pub recorded_by_label: String,
    pub created_at: i64,
}

impl Record for Finding {
    const KIND: &'static str = "audit_finding";
    fn id(&self) -> i64 {
        self.id
    }
}

const FINDING_COLUMNS: &str = "id, audit_id, kind, clause_id, requirement_id, statement, evidence, \
                               nonconformity_id, recorded_by_label, created_at";

/// Which audits a list shows.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub programme_id: Option<i64>,
    pub status: Option<AuditStatus>,
    /// `planned_start` (default) or `updated_at`; a leading `-` sorts descending.
    pub sort: Option<String>,
}

async fn read_programme(tx: &mut Tx, tenant_id: i64, id: i64) -> StoreResult<Programme> {
    let row: ProgrammeRow = tx
        .fetch_one(
            sql(format!(
                "SELECT {PROGRAMME_COLUMNS} FROM audit_programmes WHERE tenant_id = $1 AND id = $2"
            ))
            .bind(tenant_id)
            .bind(id),
        )
        .await?;
    row.into_programme()
}

fn select_audit(tenant_id: i64, id: i64) -> Sql {
    sql(format!(
        "SELECT {AUDIT_COLUMNS} FROM audits WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
}

/// The members of the audits whose ids the statement's `{}` selects.
fn select_members(condition: &str) -> String {
    format!(
        "SELECT m.audit_id, m.user_id, m.role FROM audit_members m WHERE m.tenant_id = $1 \
         AND m.audit_id IN ({condition}) ORDER BY m.id"
    )
}

async fn read_audit(tx: &mut Tx, tenant_id: i64, id: i64) -> StoreResult<Audit> {
    let row: AuditRow = tx.fetch_one(select_audit(tenant_id, id)).await?;
    let members: Vec<(i64, i64, String)> = tx
        .fetch_all(sql(select_members("$2")).bind(tenant_id).bind(id))
        .await?;
    row.into_audit(&members)
}

async fn write_members(tx: &mut Tx, tenant_id: i64, audit: i64, d: &AuditDraft) -> StoreResult<()> {
    tx.execute(
        sql("DELETE FROM audit_members WHERE tenant_id = $1 AND audit_id = $2")
            .bind(tenant_id)
            .bind(audit),
    )
    .await?;
    let members = d
        .auditor_ids
        .iter()
        .map(|u| (*u, "auditor"))
        .chain(d.auditee_ids.iter().map(|u| (*u, "auditee")));
    for (user, role) in members {
        tx.execute(
            sql("INSERT INTO audit_members (tenant_id, audit_id, user_id, role) VALUES ($1, $2, $3, $4)")
                .bind(tenant_id)
                .bind(audit)
                .bind(user)
                .bind(role),
        )
        .await?;
    }
    Ok(())
}

/// Brings an audit's checklist in line with its scope: rows of requirements no longer in
/// scope go, rows of new ones come in as not yet audited, and every row's position follows the
/// standard's order. Rows that stay keep their results.
async fn sync_checklist(
    tx: &mut Tx,
    tenant_id: i64,
    audit: i64,
    scope: &[String],
) -> StoreResult<()> {
    let wanted = checklist(catalogue(), scope);
    let have: Vec<(String,)> = tx
        .fetch_all(
            sql(
                "SELECT requirement_id FROM audit_checklist WHERE tenant_id = $1 AND audit_id = $2",
            )
            .bind(tenant_id)
            .bind(audit),
        )
        .await?;
    for (requirement,) in &have {
        if !wanted.iter().any(|w| &w.requirement_id == requirement) {
            tx.execute(
                sql("DELETE FROM audit_checklist WHERE tenant_id = $1 AND audit_id = $2 AND requirement_id = $3")
                    .bind(tenant_id)
                    .bind(audit)
                    .bind(requirement.clone()),
            )
            .await?;
        }
    }
    let now = now_micros();
    for (position, item) in wanted.iter().enumerate() {
        let position = i64::try_from(position).unwrap_or(i64::MAX);
        if have.iter().any(|(r,)| *r == item.requirement_id) {
            tx.execute(
                sql("UPDATE audit_checklist SET position = $1 WHERE tenant_id = $2 AND audit_id = $3 AND requirement_id = $4")
                    .bind(position)
                    .bind(tenant_id)
                    .bind(audit)
                    .bind(item.requirement_id.clone()),
            )
            .await?;
            continue;
        }
        tx.execute(
            sql("INSERT INTO audit_checklist (tenant_id, audit_id, requirement_id, clause_id, position, \
                 result, notes, evidence, updated_at) VALUES ($1, $2, $3, $4, $5, $6, '', '', $7)")
            .bind(tenant_id)
            .bind(audit)
            .bind(item.requirement_id.clone())
            .bind(item.clause_id.clone())
            .bind(position)
            .bind(ChecklistResult::NotYetAudited.as_str())
            .bind(now),
        )
        .await?;
    }
    Ok(())
}

/// Binds an audit plan's fields in the order the audit writes list them: title, scope,
/// criteria, planned_start, planned_end, lead_auditor_id.
fn bind_plan(q: Sql, d: &AuditDraft) -> StoreResult<Sql> {
    let scope = serde_json::to_string(&d.scope)
        .map_err(|e| StoreError::Corrupt(format!("audit scope: {e}")))?;
    Ok(q.bind(d.title.clone())
        .bind(scope)
        .bind(d.criteria.clone())
        .bind(date_text(d.planned_start))
        .bind(date_text(d.planned_end))
        .bind(d.lead_auditor_id))
}

/// The moves of an audit besides its plan, as `move_audit` applies them.
enum Move {
    Start { on: Date },
    Report { summary: String, on: Date },
    Close,
    Cancel { reason: String },
}

impl Move {
    fn to(&self) -> AuditStatus {
        match self {
            Move::Start { .. } => AuditStatus::InProgress,
            Move::Report { .. } => AuditStatus::Reported,
            Move::Close => AuditStatus::Closed,
            Move::Cancel { .. } => AuditStatus::Cancelled,
        }
    }
}

/// The nonconformity a nonconformity finding raises (clause 10.1), in the finding's own
/// transaction; its id. The one place the audit register hands over to the nonconformity
/// register.
async fn raise_nonconformity_for(
    store: &Store,
    tx: &mut Tx,
    tenant_id: i64,
    audit: &Audit,
    finding_id: i64,
    f: &CheckedFinding,
    actor: &Actor,
) -> StoreResult<i64> {
    use steward_domain::sms::nonconformity::{MAX_TEXT, NonconformityDraft, Severity, Source};
    let severity = if f.kind == FindingKind::MajorNonconformity {
        Severity::Major
    } else {
        Severity::Minor
    };
    let about = f.requirement_id.as_deref().unwrap_or(&f.clause_id);
    let statement: String = f.statement.chars().take(120).collect();
    let draft = NonconformityDraft {
        title: format!("Audit finding against {about}: {statement}"),
        // The finding keeps the whole text; the nonconformity takes what fits its description.
        description: audit_origin(audit, f).chars().take(MAX_TEXT).collect(),
        clause_id: Some(f.clause_id.clone()),
        severity,
        source: Source::Audit,
        source_ref: Some(finding_id),
        // The owner of the process audited takes it on.
        owner_id: audit.auditee_ids.first().copied(),
    };
    store
        .raise_nonconformity_in(tx, tenant_id, &draft, actor)
        .await
}

/// An opportunity for improvement goes to the improvement register (10.2) as a proposal, owned
/// by the owner of the process audited; its source is the finding (`source_ref`).
async fn raise_improvement_for(
    store: &Store,
    tx: &mut Tx,
    tenant_id: i64,
    audit: &Audit,
    finding_id: i64,
    f: &CheckedFinding,
    actor: &Actor,
) -> StoreResult<i64> {
    use steward_domain::sms::improvement::{
        ImprovementDraft, ImprovementSource, MAX_TEXT, MAX_TITLE, Priority,
    };
    let about = f.requirement_id.as_deref().unwrap_or(&f.clause_id);
    let draft = ImprovementDraft {
        title: format!("Audit opportunity at {about}: {}", f.statement)
            .chars()
            .take(MAX_TITLE)
            .collect(),
        description: audit_origin(audit, f).chars().take(MAX_TEXT).collect(),
        source: ImprovementSource::Audit,
        source_ref: Some(finding_id),
        evaluation_criteria: String::new(),
        expected_benefit: String::new(),
        priority: Priority::Medium,
        owner_id: audit.auditee_ids.first().copied(),
        target_date: None,
    }
    .validate()?;
    let created = store
        .create_improvement_in(tx, tenant_id, &draft, actor)
        .await?;
    Ok(created.id)
}

/// Where a record raised by a finding came from, in its description: the audit, the finding's
/// whole statement and its evidence.
fn audit_origin(audit: &Audit, f: &CheckedFinding) -> String {
    format!(
        "Found by the internal audit “{}” (AUD-{}).\n\n{}\n\nEvidence: {}",
        audit.title, audit.id, f.statement, f.evidence
    )
}

impl Store {
    /// The owner must be a user of the tenant.
    async fn check_programme_owner(&self, tenant_id: i64, owner: Option<i64>) -> StoreResult<()> {
        let Some(id) = owner else { return Ok(()) };
        match self.user(tenant_id, id).await {
            Ok(_) => Ok(()),
            Err(StoreError::NotFound) => Err(Invalid::one(
                "owner_id",
                "The owner must be a user of this organisation",
            )
            .into()),
            Err(e) => Err(e),
        }
    }

    /// Records an audit programme from a draft (validated here).
    pub async fn create_programme(
        &self,
        tenant_id: i64,
        draft: &ProgrammeDraft,
        actor: &Actor,
    ) -> StoreResult<Programme> {
        let d = draft.clone().validate()?;
        self.check_programme_owner(tenant_id, d.owner_id).await?;
        let mut tx = self.db.begin().await?;
        let now = now_micros();
        let (id,): (i64,) = tx
            .fetch_one(
                sql("INSERT INTO audit_programmes (tenant_id, name, cycle_start, cycle_end, owner_id, notes, \
                     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id")
                .bind(tenant_id)
                .bind(d.name.clone())
                .bind(date_text(d.cycle_start))
                .bind(date_text(cycle_end(d.cycle_start)))
                .bind(d.owner_id)
                .bind(d.notes.clone())
                .bind(now),
            )
            .await?;
        let created = read_programme(&mut tx, tenant_id, id).await?;
        self.commit_created(tx, tenant_id, actor, created).await
    }

    /// Replaces a programme's fields if it has not changed since `seen_updated_at`. A new
    /// cycle must still hold every audit planned in it that is not cancelled.
    pub async fn update_programme(
        &self,
        tenant_id: i64,
        id: i64,
        seen_updated_at: i64,
        draft: &ProgrammeDraft,
        actor: &Actor,
    ) -> StoreResult<Programme> {
        let d = draft.clone().validate()?;
        self.check_programme_owner(tenant_id, d.owner_id).await?;
        let mut tx = self.db.begin().await?;
        let before = read_programme(&mut tx, tenant_id, id).await?;
        if before.updated_at != seen_updated_at {
            return Err(StoreError::Conflict(
                "The programme was changed by someone else; reload it and try again".into(),
            ));
        }
        let end = cycle_end(d.cycle_start);
        let (outside,): (i64,) = tx
            .fetch_one(
                sql(
                    "SELECT COUNT(*) FROM audits WHERE tenant_id = $1 AND programme_id = $2 \
                     AND status <> 'cancelled' AND (planned_start < $3 OR planned_end > $4)",
                )
                .bind(tenant_id)
                .bind(id)
                .bind(date_text(d.cycle_start))
                .bind(date_text(end)),
            )
            .await?;
        if outside > 0 {
            return Err(Invalid::one(
                "cycle_start",
                format!(
                    "{outside} audit(s) of this programme would fall outside a cycle from {} to {end}; move or cancel them first",
                    d.cycle_start
                ),
            )
            .into());
        }
        tx.execute(
            sql("UPDATE audit_programmes SET name = $1, cycle_start = $2, cycle_end = $3, owner_id = $4, \
                 notes = $5, updated_at = $6 WHERE tenant_id = $7 AND id = $8")
            .bind(d.name.clone())
            .bind(date_text(d.cycle_start))
            .bind(date_text(end))
            .bind(d.owner_id)
            .bind(d.notes.clone())
            .bind(next_updated_at(seen_updated_at))
            .bind(tenant_id)
            .bind(id),
        )
        .await?;
        let after = read_programme(&mut tx, tenant_id, id).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    pub async fn programme(&self, tenant_id: i64, id: i64) -> StoreResult<Programme> {
        let row: ProgrammeRow = self
            .db
            .fetch_one(
                sql(format!(
                    "SELECT {PROGRAMME_COLUMNS} FROM audit_programmes WHERE tenant_id = $1 AND id = $2"
                ))
                .bind(tenant_id)
                .bind(id),
            )
            .await?;
        row.into_programme()
    }

    /// A page of programmes, the latest cycle first.
    pub async fn programmes(
        &self,
        tenant_id: i64,
        page: &PageRequest,
    ) -> StoreResult<Page<Programme>> {
        let sort = Sort {
            column: "cycle_start",
            descending: true,
        };
        let q = sql(format!(
            "SELECT {PROGRAMME_COLUMNS} FROM audit_programmes WHERE tenant_id = $1"
        ))
        .bind(tenant_id);
        let rows: Vec<ProgrammeRow> = self.db.fetch_all(paginate(q, sort, page)?).await?;
        let items = rows
            .into_iter()
            .map(ProgrammeRow::into_programme)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(finish(items, page, |p| {
            (CursorKey::Text(date_text(p.cycle_start)), p.id)
        }))
    }

    /// Every audit of a programme, by planned start: what its calendar and coverage show.
    pub async fn programme_audits(&self, tenant_id: i64, id: i64) -> StoreResult<Vec<Audit>> {
        self.programme(tenant_id, id).await?;
        let rows: Vec<AuditRow> = self
            .db
            .fetch_all(
                sql(format!(
                    "SELECT {AUDIT_COLUMNS} FROM audits WHERE tenant_id = $1 AND programme_id = $2 \
                     ORDER BY planned_start, id LIMIT {PROGRAMME_AUDITS}"
                ))
                .bind(tenant_id)
                .bind(id),
            )
            .await?;
        let members: Vec<(i64, i64, String)> = self
            .db
            .fetch_all(
                sql(select_members(
                    "SELECT a.id FROM audits a WHERE a.tenant_id = $1 AND a.programme_id = $2",
                ))
                .bind(tenant_id)
                .bind(id),
            )
            .await?;
        rows.into_iter().map(|r| r.into_audit(&members)).collect()
    }

    /// Which clauses a programme's audits cover in which year of its cycle.
    pub async fn programme_coverage(&self, tenant_id: i64, id: i64) -> StoreResult<Coverage> {
        let programme = self.programme(tenant_id, id).await?;
        let audits = self.programme_audits(tenant_id, id).await?;
        Ok(coverage_of(&programme, &audits))
    }

    /// The lead, the other auditors and the auditees must be users of the tenant, and no
    /// auditor may be an auditee (independence, 9.2), each refused by name.
    async fn check_people(&self, tenant_id: i64, d: &AuditDraft) -> StoreResult<()> {
        let mut errors = Invalid::new();
        let mut person =
            |field: &str, id: i64, found: StoreResult<crate::identity::User>| match found {
                Ok(u) => Ok(Some(Person { id, name: u.name })),
                Err(StoreError::NotFound) => {
                    errors.add(
                        field,
                        format!("User {id} does not exist in this organisation"),
                    );
                    Ok(None)
                }
                Err(e) => Err(e),
            };
        let lead = person(
            "lead_auditor_id",
            d.lead_auditor_id,
            self.user(tenant_id, d.lead_auditor_id).await,
        )?;
        let mut others = Vec::new();
        for id in &d.auditor_ids {
            others.extend(person("auditor_ids", *id, self.user(tenant_id, *id).await)?);
        }
        for id in &d.auditee_ids {
            person("auditee_ids", *id, self.user(tenant_id, *id).await)?;
        }
        let owners = self.scope_owners(tenant_id, &d.scope).await?;
        if let Some(lead) = lead
            && let Err(conflicts) = check_independence(&lead, &others, &d.auditee_ids, &owners)
        {
            errors.errors.extend(conflicts.errors);
        }
        Ok(errors.into_result(())?)
    }

    /// Who holds, today, a role the RACI matrix makes accountable or responsible for a process
    /// of `scope`: the people whose own work an audit of it would judge.
    pub async fn scope_owners(
        &self,
        tenant_id: i64,
        scope: &[String],
    ) -> StoreResult<Vec<ProcessOwner>> {
        let processes = scope_processes(scope);
        if processes.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self.raci(tenant_id).await?;
        let holders = self.current_role_holders(tenant_id, today_utc()).await?;
        let mut owners = Vec::new();
        for p in processes {
            let Some(row) = rows.iter().find(|r| r.process == p.id) else {
                continue;
            };
            let doers = row
                .cells
                .iter()
                .filter(|c| matches!(c.letter, RaciLetter::Accountable | RaciLetter::Responsible));
            for cell in doers {
                owners.extend(
                    holders
                        .iter()
                        .filter(|h| h.role_id == cell.role_id)
                        .map(|h| ProcessOwner {
                            person_id: h.user_id,
                            process: format!("{} ({})", p.name, p.id),
                        }),
                );
            }
        }
        Ok(owners)
    }

    /// Plans an audit in a programme: the plan is validated against the programme's cycle, the
    /// people checked (independence included), and the checklist made from the catalogue, all
    /// in one transaction with its journal entry.
    pub async fn plan_audit(
        &self,
        tenant_id: i64,
        programme_id: i64,
        draft: &AuditDraft,
        actor: &Actor,
    ) -> StoreResult<Audit> {
        let programme = self.programme(tenant_id, programme_id).await.map_err(
            crate::refs::missing_as_invalid("programme_id", "Audit programme", programme_id),
        )?;
        let d = draft.clone().validate(programme.cycle_start)?;
        self.check_people(tenant_id, &d).await?;
        let mut tx = self.db.begin().await?;
        let write = sql(
            "INSERT INTO audits (tenant_id, programme_id, status, summary, cancel_reason, title, scope, \
             criteria, planned_start, planned_end, lead_auditor_id, created_at, updated_at) \
             VALUES ($1, $2, $3, '', '', $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
        )
        .bind(tenant_id)
        .bind(programme_id)
        .bind(AuditStatus::Planned.as_str());
        let (id,): (i64,) = tx
            .fetch_one(bind_plan(write, &d)?.bind(now_micros()))
            .await?;
        write_members(&mut tx, tenant_id, id, &d).await?;
        sync_checklist(&mut tx, tenant_id, id, &d.scope).await?;
        let created = read_audit(&mut tx, tenant_id, id).await?;
        self.commit_created(tx, tenant_id, actor, created).await
    }

    /// Replaces an audit's plan if it has not changed since `seen_updated_at`: while it is
    /// planned or in progress; its scope (and so its checklist) only while planned.
    pub async fn update_audit(
        &self,
        tenant_id: i64,
        id: i64,
        seen_updated_at: i64,
        draft: &AuditDraft,
        actor: &Actor,
    ) -> StoreResult<Audit> {
        let current = self.audit(tenant_id, id).await?;
        let programme = self.programme(tenant_id, current.programme_id).await?;
        let d = draft.clone().validate(programme.cycle_start)?;
        if !current.status.plan_editable() {
            return Err(StoreError::Conflict(format!(
                "A {} audit's plan can no longer be changed",
                current.status.label().to_lowercase()
            )));
        }
        if current.status != AuditStatus::Planned && d.scope != current.scope {
            return Err(
                Invalid::one("scope", "The scope is fixed once the audit has started").into(),
            );
        }
        self.check_people(tenant_id, &d).await?;
        let mut tx = self.db.begin().await?;
        let before = read_audit(&mut tx, tenant_id, id).await?;
        if before.updated_at != seen_updated_at {
            return Err(StoreError::Conflict(
                "The audit was changed by someone else; reload it and try again".into(),
            ));
        }
        let write = sql(
            "UPDATE audits SET title = $1, scope = $2, criteria = $3, planned_start = $4, planned_end = $5, \
             lead_auditor_id = $6, updated_at = $7 WHERE tenant_id = $8 AND id = $9",
        );
        tx.execute(
            bind_plan(write, &d)?
                .bind(next_updated_at(seen_updated_at))
                .bind(tenant_id)
                .bind(id),
        )
        .await?;
        write_members(&mut tx, tenant_id, id, &d).await?;
        sync_checklist(&mut tx, tenant_id, id, &d.scope).await?;
        let after = read_audit(&mut tx, tenant_id, id).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    pub async fn audit(&self, tenant_id: i64, id: i64) -> StoreResult<Audit> {
        let row: AuditRow = self.db.fetch_one(select_audit(tenant_id, id)).await?;
        let members: Vec<(i64, i64, String)> = self
            .db
            .fetch_all(sql(select_members("$2")).bind(tenant_id).bind(id))
            .await?;
        row.into_audit(&members)
    }

    /// A page of audits, soonest planned start first unless asked otherwise.
    pub async fn audits(
        &self,
        tenant_id: i64,
        f: &AuditFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Audit>> {
        let sort = Sort::parse_or_invalid(f.sort.as_deref(), &["planned_start", "updated_at"])?;
        let mut q = sql(format!(
            "SELECT {AUDIT_COLUMNS} FROM audits WHERE tenant_id = $1"
        ))
        .bind(tenant_id);
        if let Some(p) = f.programme_id {
            q = q.push_bound(" AND programme_id = {}", p);
        }
        if let Some(status) = f.status {
            q = q.push_bound(" AND status = {}", status.as_str());
        }
        let rows: Vec<AuditRow> = self.db.fetch_all(paginate(q, sort, page)?).await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            let members: Vec<(i64, i64, String)> = self
                .db
                .fetch_all(sql(select_members("$2")).bind(tenant_id).bind(row.id))
                .await?;
            items.push(row.into_audit(&members)?);
        }
        Ok(finish(items, page, |a| match sort.column {
            "updated_at" => (CursorKey::Int(a.updated_at), a.id),
            _ => (CursorKey::Text(date_text(a.planned_start)), a.id),
        }))
    }

    /// Starts a planned audit on `on` (its actual start).
    pub async fn start_audit(
        &self,
        tenant_id: i64,
        id: i64,
        on: Date,
        actor: &Actor,
    ) -> StoreResult<Audit> {
        self.move_audit(tenant_id, id, Move::Start { on }, actor)
            .await
    }

    /// Reports an audit in progress, ending on `on`: every checklist row must have a result
    /// and the summary with the conclusion must be given.
    pub async fn report_audit(
        &self,
        tenant_id: i64,
        id: i64,
        summary: &str,
        on: Date,
        actor: &Actor,
    ) -> StoreResult<Audit> {
        let report = Move::Report {
            summary: summary.to_owned(),
            on,
        };
        self.move_audit(tenant_id, id, report, actor).await
    }

    /// Closes a reported audit: its follow-up is done.
    pub async fn close_audit(&self, tenant_id: i64, id: i64, actor: &Actor) -> StoreResult<Audit> {
        self.move_audit(tenant_id, id, Move::Close, actor).await
    }

    /// Cancels a planned audit, for `reason`.
    pub async fn cancel_audit(
        &self,
        tenant_id: i64,
        id: i64,
        reason: &str,
        actor: &Actor,
    ) -> StoreResult<Audit> {
        let mut errors = Invalid::new();
        let reason = required_text(
            &mut errors,
            "reason",
            "Reason",
            reason,
            steward_domain::sms::audit::MAX_TEXT,
        );
        errors.into_result(())?;
        self.move_audit(tenant_id, id, Move::Cancel { reason }, actor)
            .await
    }

    /// Moves an audit along its lifecycle; a move the domain refuses is a `Conflict` with its
    /// message and changes nothing.
    async fn move_audit(
        &self,
        tenant_id: i64,
        id: i64,
        step: Move,
        actor: &Actor,
    ) -> StoreResult<Audit> {
        let mut tx = self.db.begin().await?;
        let before = read_audit(&mut tx, tenant_id, id).await?;
        let to = before
            .status
            .transition(step.to())
            .map_err(|refusal| StoreError::Conflict(refusal.to_string()))?;
        let stamp = next_updated_at(before.updated_at);
        let update = match step {
            Move::Start { on } => {
                sql("UPDATE audits SET status = $1, updated_at = $2, actual_start = $3")
                    .bind(to.as_str())
                    .bind(stamp)
                    .bind(date_text(on))
            }
            Move::Report { summary, on } => {
                let open: Vec<(String,)> = tx
                    .fetch_all(
                        sql("SELECT requirement_id FROM audit_checklist WHERE tenant_id = $1 AND audit_id = $2 \
                             AND result = $3 ORDER BY position")
                        .bind(tenant_id)
                        .bind(id)
                        .bind(ChecklistResult::NotYetAudited.as_str()),
                    )
                    .await?;
                let open: Vec<String> = open.into_iter().map(|(r,)| r).collect();
                let summary = check_report(&open, &summary)?;
                if before.actual_start.is_some_and(|start| on < start) {
                    return Err(Invalid::one(
                        "actual_end",
                        "The audit cannot end before it started",
                    )
                    .into());
                }
                sql("UPDATE audits SET status = $1, updated_at = $2, actual_end = $3, summary = $4")
                    .bind(to.as_str())
                    .bind(stamp)
                    .bind(date_text(on))
                    .bind(summary)
            }
            Move::Close => sql("UPDATE audits SET status = $1, updated_at = $2")
                .bind(to.as_str())
                .bind(stamp),
            Move::Cancel { reason } => {
                sql("UPDATE audits SET status = $1, updated_at = $2, cancel_reason = $3")
                    .bind(to.as_str())
                    .bind(stamp)
                    .bind(reason)
            }
        };
        tx.execute(
            update
                .push_bound(" WHERE tenant_id = {}", tenant_id)
                .push_bound(" AND id = {}", id),
        )
        .await?;
        let after = read_audit(&mut tx, tenant_id, id).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    /// An audit's checklist, in the standard's order.
    pub async fn audit_checklist(
        &self,
        tenant_id: i64,
        audit_id: i64,
    ) -> StoreResult<Vec<ChecklistRow>> {
        self.audit(tenant_id, audit_id).await?;
        let rows: Vec<ChecklistDbRow> = self
            .db
            .fetch_all(
                sql(format!(
                    "SELECT {CHECKLIST_COLUMNS} FROM audit_checklist WHERE tenant_id = $1 AND audit_id = $2 \
                     ORDER BY position, id"
                ))
                .bind(tenant_id)
                .bind(audit_id),
            )
            .await?;
        Ok(rows.into_iter().map(ChecklistRow::from).collect())
    }

    /// Records the result of one checklist row while the audit is in progress. `NotFound` for a
    /// requirement the checklist does not have.
    pub async fn record_checklist_result(
        &self,
        tenant_id: i64,
        audit_id: i64,
        requirement_id: &str,
        entry: &ChecklistEntry,
        actor: &Actor,
    ) -> StoreResult<ChecklistRow> {
        let mut errors = Invalid::new();
        let notes = optional_text(
            &mut errors,
            "notes",
            "Notes",
            entry.notes.trim(),
            MAX_ROW_TEXT,
        );
        let evidence = optional_text(
            &mut errors,
            "evidence",
            "Evidence seen",
            entry.evidence.trim(),
            MAX_ROW_TEXT,
        );
        errors.into_result(())?;
        let mut tx = self.db.begin().await?;
        let audit = read_audit(&mut tx, tenant_id, audit_id).await?;
        let select = sql(format!(
            "SELECT {CHECKLIST_COLUMNS} FROM audit_checklist WHERE tenant_id = $1 AND audit_id = $2 \
             AND requirement_id = $3"
        ))
        .bind(tenant_id)
        .bind(audit_id)
        .bind(requirement_id.to_owned());
        let before: ChecklistRow = tx.fetch_one::<ChecklistDbRow>(select.clone()).await?.into();
        if !audit.status.recording() {
            return Err(StoreError::Conflict(format!(
                "Checklist results are recorded while the audit is in progress; this one is {}",
                audit.status.label().to_lowercase()
            )));
        }
        tx.execute(
            sql("UPDATE audit_checklist SET result = $1, notes = $2, evidence = $3, updated_at = $4 \
                 WHERE tenant_id = $5 AND id = $6")
            .bind(entry.result.as_str())
            .bind(notes)
            .bind(evidence)
            .bind(next_updated_at(before.updated_at))
            .bind(tenant_id)
            .bind(before.id),
        )
        .await?;
        let after: ChecklistRow = tx.fetch_one::<ChecklistDbRow>(select).await?.into();
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    /// Records a finding while the audit is in progress. A major or minor nonconformity raises
    /// a nonconformity in the same transaction, and the finding keeps its id.
    pub async fn record_finding(
        &self,
        tenant_id: i64,
        audit_id: i64,
        draft: &FindingDraft,
        actor: &Actor,
    ) -> StoreResult<Finding> {
        let mut tx = self.db.begin().await?;
        let audit = read_audit(&mut tx, tenant_id, audit_id).await?;
        let f = draft.clone().validate(&audit.scope)?;
        if !audit.status.recording() {
            return Err(StoreError::Conflict(format!(
                "Findings are recorded while the audit is in progress; this one is {}",
                audit.status.label().to_lowercase()
            )));
        }
        let (id,): (i64,) = tx
            .fetch_one(
                sql("INSERT INTO audit_findings (tenant_id, audit_id, kind, clause_id, requirement_id, statement, \
                     evidence, recorded_by, recorded_by_label, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id")
                .bind(tenant_id)
                .bind(audit_id)
                .bind(f.kind.as_str())
                .bind(f.clause_id.clone())
                .bind(f.requirement_id.clone())
                .bind(f.statement.clone())
                .bind(f.evidence.clone())
                .bind(actor.user_id)
                .bind(actor.label.clone())
                .bind(now_micros()),
            )
            .await?;
        if f.kind.is_nonconformity() {
            let nc =
                raise_nonconformity_for(self, &mut tx, tenant_id, &audit, id, &f, actor).await?;
            tx.execute(
                sql("UPDATE audit_findings SET nonconformity_id = $1 WHERE tenant_id = $2 AND id = $3")
                    .bind(nc)
                    .bind(tenant_id)
                    .bind(id),
            )
            .await?;
        }
        if f.kind == FindingKind::OpportunityForImprovement {
            raise_improvement_for(self, &mut tx, tenant_id, &audit, id, &f, actor).await?;
        }
        let created: Finding = tx
            .fetch_one(
                sql(format!(
                    "SELECT {FINDING_COLUMNS} FROM audit_findings WHERE tenant_id = $1 AND id = $2"
                ))
                .bind(tenant_id)
                .bind(id),
            )
            .await?;
        self.commit_created(tx, tenant_id, actor, created).await
    }

    /// One finding, wherever it was recorded: what a nonconformity raised by it links back to.
    pub async fn audit_finding(&self, tenant_id: i64, id: i64) -> StoreResult<Finding> {
        self.db
            .fetch_one(
                sql(format!(
                    "SELECT {FINDING_COLUMNS} FROM audit_findings WHERE tenant_id = $1 AND id = $2"
                ))
                .bind(tenant_id)
                .bind(id),
            )
            .await
    }

    /// A page of an audit's findings, in the order they were recorded.
    pub async fn audit_findings(
        &self,
        tenant_id: i64,
        audit_id: i64,
        page: &PageRequest,
    ) -> StoreResult<Page<Finding>> {
        self.audit(tenant_id, audit_id).await?;
        let sort = Sort {
            column: "created_at",
            descending: false,
        };
        let q = sql(format!(
            "SELECT {FINDING_COLUMNS} FROM audit_findings WHERE tenant_id = $1 AND audit_id = $2"
        ))
        .bind(tenant_id)
        .bind(audit_id);
        let rows: Vec<Finding> = self.db.fetch_all(paginate(q, sort, page)?).await?;
        Ok(finish(rows, page, |f| (CursorKey::Int(f.created_at), f.id)))
    }

    /// The programmes whose cycle contains `day`, for the coverage evidence rule.
    pub(crate) async fn programmes_on(
        &self,
        tenant_id: i64,
        day: Date,
    ) -> StoreResult<Vec<Programme>> {
        let rows: Vec<ProgrammeRow> = self
            .db
            .fetch_all(
                sql(format!(
                    "SELECT {PROGRAMME_COLUMNS} FROM audit_programmes WHERE tenant_id = $1 \
                     AND cycle_start <= $2 AND cycle_end >= $2 ORDER BY id"
                ))
                .bind(tenant_id)
                .bind(date_text(day)),
            )
            .await?;
        rows.into_iter().map(ProgrammeRow::into_programme).collect()
    }
}

/// A programme's coverage from its audits.
pub fn coverage_of(programme: &Programme, audits: &[Audit]) -> Coverage {
    let planned: Vec<PlannedAudit> = audits
        .iter()
        .map(|a| PlannedAudit {
            planned_start: a.planned_start,
            scope: a.scope.clone(),
            status: a.status,
        })
        .collect();
    coverage(catalogue(), programme.cycle_start, &planned)
}

/// The kind of the evidence records the coverage rule lists: clauses of the catalogue, each
/// numbered by its place in the catalogue (from 1) and labelled with its id and title.
pub const CLAUSE_KIND: &str = "clause";

fn clause_ref(position: usize, clause_id: &str, title: &str) -> RecordRef {
    RecordRef {
        kind: CLAUSE_KIND.to_owned(),
        id: i64::try_from(position + 1).unwrap_or(i64::MAX),
        label: format!("{clause_id} {title}"),
    }
}

impl Store {
    /// The coverage rule (9.2-b): every clause of the catalogue is the population; those no
    /// audit of the programmes whose cycle contains the period's last day names are the
    /// failures. With no such programme nothing is covered.
    pub(crate) async fn programme_coverage_at(
        &self,
        tenant_id: i64,
        period: crate::conformance::Period,
    ) -> StoreResult<Found> {
        let last_day = jiff::Timestamp::from_microsecond(period.to - 1)
            .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date())
            .map_err(|e| StoreError::Corrupt(format!("period end: {e}")))?;
        let mut covered = std::collections::HashSet::new();
        for programme in self.programmes_on(tenant_id, last_day).await? {
            let audits = self.programme_audits(tenant_id, programme.id).await?;
            let cov = coverage_of(&programme, &audits);
            covered.extend(
                cov.clauses
                    .into_iter()
                    .filter(ClauseCoverage::covered)
                    .map(|c| c.clause_id),
            );
        }
        let mut found = Found::default();
        for (position, clause) in catalogue().clauses.iter().enumerate() {
            let r = clause_ref(position, &clause.id, &clause.title);
            if !covered.contains(&clause.id) {
                found.failing.push(r.clone());
            }
            found.population.push(r);
        }
        Ok(found)
    }
}
