//! Change management (ISO/IEC 20000-1 8.5.1): what `steward_domain::change` decided, kept.
//!
//! - this module: changes themselves: create a draft, edit it while it is editable, read and
//!   list them;
//! - [`lifecycle`]: moving a change through its lifecycle (the store gathers the domain's
//!   `Facts` from what it holds) and the post-implementation review;
//! - [`approval`]: risk assessment, approve/reject decisions and delegations;
//! - [`schedule`]: blackout windows, collisions, the forward schedule, the calendar feed's
//!   changes and the dashboard's figures;
//! - [`policy`]: the tenant's change policy and the standard-change templates.
//!
//! Every write is journaled in its transaction.

pub mod approval;
pub mod lifecycle;
pub mod policy;
pub mod schedule;

pub use approval::{Approvals, StoredDecision, StoredDelegation};
pub use lifecycle::{Review, ReviewInput, ReviewOutcome};
pub use policy::{ChangeTemplate, TemplateDraft};
pub use schedule::{ChangeConflict, ChangeRef, ScheduleEntry};

use crate::bulk::insert_keyed_rows;
use crate::cmdb::with_ids;
use crate::db::{Sql, Tx, sql};
use crate::incident::next_number;
use crate::journal::{Change as Entry, Record};
use crate::page::{CursorKey, Page, PageRequest, Sort, finish, paginate};
use crate::{Actor, Store, StoreError, StoreResult, now_micros};
use serde::Serialize;
use steward_domain::Invalid;
use steward_domain::change::risk::Answers;
use steward_domain::change::{ChangeDraft, ChangeStatus, ChangeType, RiskLevel, Window};
use steward_domain::cmdb::Direction;
use steward_domain::journal::Action;

/// A change as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub id: i64,
    pub number: i64,
    pub change_type: ChangeType,
    pub status: ChangeStatus,
    pub title: String,
    pub reason: String,
    pub implementation_plan: String,
    pub backout_plan: String,
    pub test_plan: String,
    pub window: Option<Window>,
    /// The risk assessment; `None` until the questionnaire is answered.
    pub risk: Option<Risk>,
    /// Who raised it; never one of its approvers.
    pub requester_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub template_id: Option<i64>,
    /// Which authorisation sitting the change is in: decisions of earlier rounds (before it
    /// went back for rework) no longer count.
    pub approval_round: i64,
    pub review: Option<Review>,
    pub ci_ids: Vec<i64>,
    pub service_ids: Vec<i64>,
    pub incident_ids: Vec<i64>,
    pub problem_ids: Vec<i64>,
    /// When it reached a terminal status.
    pub ended_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The outcome of the risk questionnaire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Risk {
    pub level: RiskLevel,
    pub score: i64,
    pub answers: Answers,
}

impl Change {
    pub fn key(&self) -> String {
        steward_domain::change::key(self.number)
    }

    /// The change's editable fields, as the domain validates them.
    pub fn draft(&self) -> ChangeDraft {
        ChangeDraft {
            title: self.title.clone(),
            change_type: self.change_type,
            template_id: self.template_id,
            reason: self.reason.clone(),
            implementation_plan: self.implementation_plan.clone(),
            backout_plan: self.backout_plan.clone(),
            test_plan: self.test_plan.clone(),
            window: self.window,
            ci_ids: self.ci_ids.clone(),
            service_ids: self.service_ids.clone(),
            incident_ids: self.incident_ids.clone(),
            problem_ids: self.problem_ids.clone(),
        }
    }

    /// The requester as the approval rules see them (0, nobody, for changes raised by the
    /// system).
    pub(crate) fn requester(&self) -> i64 {
        self.requester_id.unwrap_or(0)
    }
}

impl Record for Change {
    const KIND: &'static str = "change";
    fn id(&self) -> i64 {
        self.id
    }
}

#[derive(sqlx::FromRow)]
struct ChangeRow {
    id: i64,
    number: i64,
    #[sqlx(try_from = "String")]
    change_type: ChangeType,
    #[sqlx(try_from = "String")]
    status: ChangeStatus,
    title: String,
    reason: String,
    implementation_plan: String,
    backout_plan: String,
    test_plan: String,
    planned_start: Option<i64>,
    planned_end: Option<i64>,
    risk_level: Option<String>,
    risk_score: Option<i64>,
    risk_answers_json: Option<String>,
    requester_id: Option<i64>,
    assignee_id: Option<i64>,
    template_id: Option<i64>,
    approval_round: i64,
    review_outcome: Option<String>,
    review_backed_out: Option<bool>,
    review_notes: Option<String>,
    reviewed_at: Option<i64>,
    reviewed_by: Option<i64>,
    ended_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

/// The ids a change names, by kind.
#[derive(Default)]
struct Links {
    cis: Vec<i64>,
    services: Vec<i64>,
    incidents: Vec<i64>,
    problems: Vec<i64>,
}

impl ChangeRow {
    fn into_change(self, links: Links) -> StoreResult<Change> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("change {} {what}", self.id));
        let risk = match (self.risk_level.as_deref(), self.risk_score) {
            (Some(level), Some(score)) => Some(Risk {
                level: RiskLevel::parse(level).ok_or_else(|| corrupt("risk level"))?,
                score,
                answers: serde_json::from_str(self.risk_answers_json.as_deref().unwrap_or("{}"))
                    .map_err(|_| corrupt("risk answers"))?,
            }),
            _ => None,
        };
        let review = match (self.review_outcome.as_deref(), self.reviewed_at) {
            (Some(outcome), Some(at)) => Some(Review {
                outcome: ReviewOutcome::parse(outcome).ok_or_else(|| corrupt("review outcome"))?,
                backed_out: self.review_backed_out.unwrap_or(false),
                notes: self.review_notes.clone().unwrap_or_default(),
                reviewed_at: at,
                reviewed_by: self.reviewed_by,
            }),
            _ => None,
        };
        let window = match (self.planned_start, self.planned_end) {
            (Some(start), Some(end)) => Some(Window { start, end }),
            _ => None,
        };
        Ok(Change {
            id: self.id,
            number: self.number,
            change_type: self.change_type,
            status: self.status,
            title: self.title,
            reason: self.reason,
            implementation_plan: self.implementation_plan,
            backout_plan: self.backout_plan,
            test_plan: self.test_plan,
            window,
            risk,
            requester_id: self.requester_id,
            assignee_id: self.assignee_id,
            template_id: self.template_id,
            approval_round: self.approval_round,
            review,
            ci_ids: links.cis,
            service_ids: links.services,
            incident_ids: links.incidents,
            problem_ids: links.problems,
            ended_at: self.ended_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

const COLUMNS: &str = "id, number, change_type, status, title, reason, implementation_plan, backout_plan, \
    test_plan, planned_start, planned_end, risk_level, risk_score, risk_answers_json, requester_id, \
    assignee_id, template_id, approval_round, review_outcome, review_backed_out, review_notes, \
    reviewed_at, reviewed_by, ended_at, created_at, updated_at";

/// What a change's CIs reach in the CMDB.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeImpact {
    /// CIs that depend on the change's CIs, transitively, not counting its own.
    pub dependent_cis: usize,
    /// The services the change names, and those its CIs or their dependants help deliver.
    pub service_ids: Vec<i64>,
}

/// Which changes a list shows.
#[derive(Debug, Clone, Default)]
pub struct ChangeFilter {
    pub status: Option<ChangeStatus>,
    pub change_type: Option<ChangeType>,
    /// Changes assessed at this risk level.
    pub risk: Option<RiskLevel>,
    /// Changes whose planned window ends after this instant.
    pub from: Option<i64>,
    /// Changes whose planned window starts before this instant.
    pub to: Option<i64>,
    /// `number` (default), `planned_start` or `updated_at`; a leading `-` sorts descending.
    pub sort: Option<String>,
}

/// The tables that hold what a change names, the column of the named id, and the record type
/// (for the one table that holds two kinds).
const LINK_TABLES: [(&str, &str, Option<&str>); 4] = [
    ("change_cis", "ci_id", None),
    ("change_services", "service_id", None),
    ("change_records", "record_id", Some("incident")),
    ("change_records", "record_id", Some("problem")),
];

async fn links_of(tx: &mut Tx, change_id: i64) -> StoreResult<Links> {
    let mut found: Vec<Vec<i64>> = Vec::with_capacity(LINK_TABLES.len());
    for (table, column, record_type) in LINK_TABLES {
        let mut q =
            sql(format!("SELECT {column} FROM {table} WHERE change_id = $1")).bind(change_id);
        if let Some(kind) = record_type {
            q = q.push_bound(" AND record_type = {}", kind);
        }
        let rows: Vec<(i64,)> = tx.fetch_all(q.push(&format!(" ORDER BY {column}"))).await?;
        found.push(rows.into_iter().map(|(id,)| id).collect());
    }
    let mut found = found.into_iter();
    let mut next = || found.next().unwrap_or_default();
    Ok(Links {
        cis: next(),
        services: next(),
        incidents: next(),
        problems: next(),
    })
}

fn select_one(tenant_id: i64) -> Sql {
    sql(format!(
        "SELECT {COLUMNS} FROM changes WHERE tenant_id = $1"
    ))
    .bind(tenant_id)
}

pub(crate) async fn read_change(tx: &mut Tx, tenant_id: i64, id: i64) -> StoreResult<Change> {
    let row: ChangeRow = tx
        .fetch_one(select_one(tenant_id).push_bound(" AND id = {}", id))
        .await?;
    let links = links_of(tx, id).await?;
    row.into_change(links)
}

/// Field errors for every id that names nothing of the tenant in `table`.
pub(crate) async fn check_ids(
    tx: &mut Tx,
    tenant_id: i64,
    (table, live): (&str, bool),
    (field, label): (&str, &str),
    ids: &[i64],
) -> StoreResult<()> {
    let live = if live { " AND deleted_at IS NULL" } else { "" };
    for chunk in ids.chunks(500) {
        let q = sql(format!("SELECT id FROM {table} WHERE tenant_id = $1{live}")).bind(tenant_id);
        let found: Vec<(i64,)> = tx.fetch_all(with_ids(q, "id", chunk)).await?;
        if found.len() < chunk.len() {
            let found: std::collections::HashSet<i64> = found.into_iter().map(|(id,)| id).collect();
            let missing: Vec<String> = chunk
                .iter()
                .filter(|id| !found.contains(id))
                .map(i64::to_string)
                .collect();
            return Err(Invalid::one(
                field,
                format!(
                    "{label} {} do not exist in this organisation",
                    missing.join(", ")
                ),
            )
            .into());
        }
    }
    Ok(())
}

/// Replaces what a change names, after checking every id is the tenant's.
async fn set_links(
    tx: &mut Tx,
    tenant_id: i64,
    change_id: i64,
    d: &ChangeDraft,
) -> StoreResult<()> {
    check_ids(tx, tenant_id, ("cis", false), ("ci_ids", "CIs"), &d.ci_ids).await?;
    check_ids(
        tx,
        tenant_id,
        ("services", true),
        ("service_ids", "Services"),
        &d.service_ids,
    )
    .await?;
    check_ids(
        tx,
        tenant_id,
        ("incidents", false),
        ("incident_ids", "Incidents"),
        &d.incident_ids,
    )
    .await?;
    check_ids(
        tx,
        tenant_id,
        ("problems", false),
        ("problem_ids", "Problems"),
        &d.problem_ids,
    )
    .await?;
    for table in ["change_cis", "change_services", "change_records"] {
        tx.execute(sql(format!("DELETE FROM {table} WHERE change_id = $1")).bind(change_id))
            .await?;
    }
    let lists = [&d.ci_ids, &d.service_ids, &d.incident_ids, &d.problem_ids];
    for ((table, column, record_type), ids) in LINK_TABLES.into_iter().zip(lists) {
        let with_type = ["tenant_id", "change_id", column, "record_type"];
        let columns = if record_type.is_some() {
            &with_type[..]
        } else {
            &with_type[..3]
        };
        insert_keyed_rows(tx, table, columns, ids, |q, _, id| {
            let q = q.bind(tenant_id).bind(change_id).bind(*id);
            match record_type {
                Some(kind) => q.bind(kind),
                None => q,
            }
        })
        .await?;
    }
    Ok(())
}

/// A standard change's template must be one of the tenant's active ones; its plans fill in
/// whatever the draft leaves empty.
async fn apply_template(tx: &mut Tx, tenant_id: i64, draft: &mut ChangeDraft) -> StoreResult<()> {
    let Some(template_id) = draft.template_id else {
        return Ok(());
    };
    let template = policy::read_template(tx, tenant_id, template_id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => Invalid::one(
                "template_id",
                format!("There is no change template {template_id}"),
            )
            .into(),
            other => other,
        })?;
    if !template.active {
        return Err(Invalid::one(
            "template_id",
            format!("The template “{}” is retired", template.name),
        )
        .into());
    }
    for (text, from) in [
        (
            &mut draft.implementation_plan,
            &template.implementation_plan,
        ),
        (&mut draft.backout_plan, &template.backout_plan),
        (&mut draft.test_plan, &template.test_plan),
    ] {
        if text.trim().is_empty() {
            text.clone_from(from);
        }
    }
    Ok(())
}

/// Binds a change's editable fields, in the order `change_type, assignee_id, title, reason,
/// implementation_plan, backout_plan, test_plan, planned_start, planned_end, template_id`.
fn bind_draft(q: Sql, d: &ChangeDraft, assignee_id: Option<i64>) -> Sql {
    q.bind(d.change_type.as_str())
        .bind(assignee_id)
        .bind(&d.title)
        .bind(&d.reason)
        .bind(&d.implementation_plan)
        .bind(&d.backout_plan)
        .bind(&d.test_plan)
        .bind(d.window.map(|w| w.start))
        .bind(d.window.map(|w| w.end))
        .bind(d.template_id)
}

/// Refuses to touch a change past assessment: approvals must be for the plan and the risk as
/// they are, so one further on goes back to assessment first.
pub(crate) fn check_editable(change: &Change, what: &str) -> StoreResult<()> {
    if matches!(
        change.status,
        ChangeStatus::Draft | ChangeStatus::Assessment
    ) {
        return Ok(());
    }
    Err(StoreError::Conflict(format!(
        "{} is {}: {what} only in draft or assessment; send it back to assessment first",
        change.key(),
        change.status
    )))
}

/// Checks that the assignee is a user of the tenant.
async fn check_assignee(tx: &mut Tx, tenant_id: i64, assignee_id: Option<i64>) -> StoreResult<()> {
    let ids: Vec<i64> = assignee_id.into_iter().collect();
    check_ids(
        tx,
        tenant_id,
        ("users", false),
        ("assignee_id", "Users"),
        &ids,
    )
    .await
}

impl Store {
    /// Raises a change as a draft, numbered `CHG-n`. A standard change's template must exist
    /// and be active, and its plans fill in the draft's empty ones.
    pub async fn create_change(
        &self,
        tenant_id: i64,
        draft: &ChangeDraft,
        assignee_id: Option<i64>,
        actor: &Actor,
    ) -> StoreResult<Change> {
        let mut draft = draft.clone();
        let mut tx = self.db.begin().await?;
        apply_template(&mut tx, tenant_id, &mut draft).await?;
        check_assignee(&mut tx, tenant_id, assignee_id).await?;
        let number = next_number(&mut tx, tenant_id, "change").await?;
        let write = sql(
            "INSERT INTO changes (tenant_id, number, status, requester_id, created_at, updated_at, \
             approval_round, change_type, assignee_id, title, reason, implementation_plan, backout_plan, \
             test_plan, planned_start, planned_end, template_id) \
             VALUES ($1, $2, $3, $4, $5, $5, 0, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
        )
        .bind(tenant_id)
        .bind(number)
        .bind(ChangeStatus::Draft.as_str())
        .bind(actor.user_id)
        .bind(now_micros());
        let (id,): (i64,) = tx.fetch_one(bind_draft(write, &draft, assignee_id)).await?;
        set_links(&mut tx, tenant_id, id, &draft).await?;
        let created = read_change(&mut tx, tenant_id, id).await?;
        let mut tx = self
            .with_created_journaled(tx, tenant_id, actor, &created)
            .await?;
        self.open_design_for_major_change(&mut tx, tenant_id, &created, actor)
            .await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Replaces a change's editable fields with a validated draft. Only a change in draft or
    /// assessment is editable (one past that goes back to assessment first, so that approvals
    /// are for the plan as it is), and its type may change only in draft.
    ///
    /// `expected_updated_at`, when given, is the `updated_at` the editor read: if the change was
    /// saved since, nothing is written and the answer is a `Conflict` (optimistic concurrency).
    pub async fn update_change(
        &self,
        tenant_id: i64,
        id: i64,
        draft: &ChangeDraft,
        assignee_id: Option<i64>,
        expected_updated_at: Option<i64>,
        actor: &Actor,
    ) -> StoreResult<Change> {
        let mut draft = draft.clone();
        let mut tx = self.db.begin().await?;
        let before = read_change(&mut tx, tenant_id, id).await?;
        if expected_updated_at.is_some_and(|seen| seen != before.updated_at) {
            return Err(StoreError::Conflict(format!(
                "{} was changed by someone else since you read it: reload it and try again",
                before.key()
            )));
        }
        check_editable(&before, "its fields change")?;
        if draft.change_type != before.change_type && before.status != ChangeStatus::Draft {
            return Err(StoreError::Conflict(format!(
                "{} is in {}: its type can change only while it is a draft",
                before.key(),
                before.status
            )));
        }
        apply_template(&mut tx, tenant_id, &mut draft).await?;
        check_assignee(&mut tx, tenant_id, assignee_id).await?;
        let write = sql(
            "UPDATE changes SET updated_at = $1, change_type = $2, assignee_id = $3, title = $4, reason = $5, \
             implementation_plan = $6, backout_plan = $7, test_plan = $8, planned_start = $9, planned_end = $10, \
             template_id = $11 WHERE tenant_id = $12 AND id = $13",
        )
        .bind(now_micros().max(before.updated_at + 1));
        tx.execute(
            bind_draft(write, &draft, assignee_id)
                .bind(tenant_id)
                .bind(id),
        )
        .await?;
        set_links(&mut tx, tenant_id, id, &draft).await?;
        self.finish_change_write(tx, tenant_id, &before, actor)
            .await
    }

    /// Journals the creation of a change in `tx` and hands the transaction back, for what
    /// follows in it (the design record of a major change).
    async fn with_created_journaled(
        &self,
        mut tx: Tx,
        tenant_id: i64,
        actor: &Actor,
        created: &Change,
    ) -> StoreResult<Tx> {
        self.journal(
            &mut tx,
            Entry::of(tenant_id, actor, Action::Create, None, Some(created)),
        )
        .await?;
        Ok(tx)
    }

    /// Reads the change again, journals it against `before` and commits.
    pub(crate) async fn finish_change_write(
        &self,
        mut tx: Tx,
        tenant_id: i64,
        before: &Change,
        actor: &Actor,
    ) -> StoreResult<Change> {
        let after = read_change(&mut tx, tenant_id, before.id).await?;
        self.journal(
            &mut tx,
            Entry::of(tenant_id, actor, Action::Update, Some(before), Some(&after)),
        )
        .await?;
        // A change that is (now) major opens its design record (8.5.2).
        self.open_design_for_major_change(&mut tx, tenant_id, &after, actor)
            .await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn change(&self, tenant_id: i64, id: i64) -> StoreResult<Change> {
        let mut conn = self.db.snapshot().await?;
        let change = read_change(&mut conn, tenant_id, id).await?;
        conn.commit().await?;
        Ok(change)
    }

    pub async fn change_by_number(&self, tenant_id: i64, number: i64) -> StoreResult<Change> {
        let mut conn = self.db.snapshot().await?;
        let row: ChangeRow = conn
            .fetch_one(select_one(tenant_id).push_bound(" AND number = {}", number))
            .await?;
        let links = links_of(&mut conn, row.id).await?;
        conn.commit().await?;
        row.into_change(links)
    }

    /// The impact of a change from the CMDB: everything that depends on its CIs (what breaks
    /// if they break), and the services involved.
    pub async fn change_impact(&self, tenant_id: i64, id: i64) -> StoreResult<ChangeImpact> {
        let change = self.change(tenant_id, id).await?;
        let reached = self
            .with_graph(tenant_id, |graph| {
                graph.reach_all(&change.ci_ids, Direction::Downstream)
            })
            .await?;
        let mut service_ids = self
            .linked(tenant_id, "ci_services", "service_id", &reached)
            .await?;
        service_ids.extend(&change.service_ids);
        service_ids.sort_unstable();
        service_ids.dedup();
        Ok(ChangeImpact {
            dependent_cis: reached
                .iter()
                .filter(|ci| change.ci_ids.binary_search(ci).is_err())
                .count(),
            service_ids,
        })
    }

    /// A page of changes, newest number last unless asked otherwise.
    pub async fn changes(
        &self,
        tenant_id: i64,
        f: &ChangeFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Change>> {
        let sort = Sort::parse(
            f.sort.as_deref(),
            &["number", "planned_start", "updated_at"],
        )
        .ok_or_else(|| {
            Invalid::one(
                "sort",
                "sort must be number, planned_start or updated_at, optionally with a leading -",
            )
        })?;
        let mut q = select_one(tenant_id);
        if let Some(status) = f.status {
            q = q.push_bound(" AND status = {}", status.as_str());
        }
        if let Some(t) = f.change_type {
            q = q.push_bound(" AND change_type = {}", t.as_str());
        }
        if let Some(risk) = f.risk {
            q = q.push_bound(" AND risk_level = {}", risk.as_str());
        }
        if let Some(from) = f.from {
            q = q.push_bound(" AND planned_end > {}", from);
        }
        if let Some(to) = f.to {
            q = q.push_bound(" AND planned_start < {}", to);
        }
        if sort.column == "planned_start" {
            // Keyset pagination needs a value on every row.
            q = q.push(" AND planned_start IS NOT NULL");
        }
        let mut conn = self.db.snapshot().await?;
        let rows: Vec<ChangeRow> = conn.fetch_all(paginate(q, sort, page)?).await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            let links = links_of(&mut conn, row.id).await?;
            items.push(row.into_change(links)?);
        }
        conn.commit().await?;
        Ok(finish(items, page, |c| match sort.column {
            "planned_start" => (CursorKey::Int(c.window.map_or(0, |w| w.start)), c.id),
            "updated_at" => (CursorKey::Int(c.updated_at), c.id),
            _ => (CursorKey::Int(c.number), c.id),
        }))
    }
}

/// For the change dashboard: how many of the tenant's changes are in each status.
impl Store {
    /// The number of changes in each status that has any, in lifecycle order.
    pub async fn change_counts_by_status(
        &self,
        tenant_id: i64,
    ) -> StoreResult<Vec<(ChangeStatus, i64)>> {
        let rows: Vec<(String, i64)> = self
            .db
            .fetch_all(
                sql("SELECT status, COUNT(*) FROM changes WHERE tenant_id = $1 GROUP BY status")
                    .bind(tenant_id),
            )
            .await?;
        let mut counts = rows
            .into_iter()
            .map(|(status, n)| {
                ChangeStatus::parse(&status)
                    .map(|s| (s, n))
                    .ok_or_else(|| StoreError::Corrupt(format!("change status {status}")))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        counts.sort_unstable();
        Ok(counts)
    }
}
