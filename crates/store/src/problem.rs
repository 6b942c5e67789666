//! Problems, known errors, and links between records.

use crate::custom_fields::CustomValues;
use crate::db::{Sql, Tx, sql};
use crate::external::Imported;
use crate::incident::next_number;
use crate::journal::{Change, Record};
use crate::page::{CursorKey, Page, PageRequest, Sort, finish, paginate};
use crate::search::{matching, reindex_known_error};
use crate::{Actor, Store, StoreError, StoreResult, now_micros};
use serde::Serialize;
use serde_json::{Map, Value};
use steward_domain::Invalid;
use steward_domain::incident::{Level, Priority};
use steward_domain::journal::Action;
use steward_domain::problem::{LinkKind, ProblemStatus, RecordKind};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Problem {
    pub id: i64,
    pub number: i64,
    pub title: String,
    pub description: String,
    #[sqlx(try_from = "String")]
    pub status: ProblemStatus,
    #[sqlx(try_from = "String")]
    pub impact: Level,
    #[sqlx(try_from = "String")]
    pub urgency: Level,
    #[sqlx(try_from = "String")]
    pub priority: Priority,
    pub service_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub root_cause: String,
    pub workaround: String,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub category_id: Option<i64>,
    /// Values of the tenant's custom fields for problems.
    #[sqlx(rename = "custom_json", try_from = "String")]
    pub custom: CustomValues,
}

impl Problem {
    pub fn key(&self) -> String {
        format!("PRB-{}", self.number)
    }
}

impl Record for Problem {
    const KIND: &'static str = "problem";
    fn id(&self) -> i64 {
        self.id
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct KnownError {
    pub id: i64,
    pub number: i64,
    pub problem_id: i64,
    pub title: String,
    pub symptoms: String,
    pub root_cause: String,
    pub workaround: String,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl KnownError {
    pub fn key(&self) -> String {
        format!("KE-{}", self.number)
    }
}

impl Record for KnownError {
    const KIND: &'static str = "known_error";
    fn id(&self) -> i64 {
        self.id
    }
}

/// What a problem update writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProblemFields {
    pub title: String,
    pub description: String,
    pub status: ProblemStatus,
    pub impact: Level,
    pub urgency: Level,
    pub priority: Priority,
    pub service_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub root_cause: String,
    pub workaround: String,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub category_id: Option<i64>,
    /// Custom field values, already checked (`Store::check_custom_values`).
    pub custom: Map<String, Value>,
}

impl From<&Problem> for ProblemFields {
    fn from(p: &Problem) -> Self {
        ProblemFields {
            title: p.title.clone(),
            description: p.description.clone(),
            status: p.status,
            impact: p.impact,
            urgency: p.urgency,
            priority: p.priority,
            service_id: p.service_id,
            assignee_id: p.assignee_id,
            root_cause: p.root_cause.clone(),
            workaround: p.workaround.clone(),
            resolved_at: p.resolved_at,
            closed_at: p.closed_at,
            category_id: p.category_id,
            custom: p.custom.0.clone(),
        }
    }
}

/// A problem for a bulk load (`Store::load_problems`): its fields, when it was opened, and the
/// numbers of the incidents it caused (linked `caused_by`; numbers without an incident are
/// skipped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProblem {
    pub fields: ProblemFields,
    pub opened_at: i64,
    pub incident_numbers: Vec<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct ProblemFilter {
    pub statuses: Vec<ProblemStatus>,
    pub service_id: Option<i64>,
    /// This category or any of its subcategories.
    pub category_id: Option<i64>,
    /// Custom field name and the value it must hold (text fields ignore case); only fields
    /// defined for problems are accepted.
    pub custom: Vec<(String, String)>,
    pub sort: Option<String>,
}

/// A link as seen from one record: the other end, and how they relate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    pub id: i64,
    pub kind: LinkKind,
    /// `true` when the record asked about is the link's source.
    pub outgoing: bool,
    pub other_kind: RecordKind,
    pub other_id: i64,
    pub other_key: String,
    pub other_title: String,
}

/// A service with enough recent incidents and no open problem yet: a problem candidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Candidate {
    pub service_id: i64,
    pub incidents: i64,
}

const COLUMNS: &str = "id, number, title, description, status, impact, urgency, priority, service_id, assignee_id, \
    root_cause, workaround, resolved_at, closed_at, created_at, updated_at, category_id, custom_json";
const KE_COLUMNS: &str = "id, number, problem_id, title, symptoms, root_cause, workaround, active, created_at, updated_at";

fn select_problem(tenant_id: i64, id: i64) -> Sql {
    sql(format!(
        "SELECT {COLUMNS} FROM problems WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
}

pub(crate) fn bind_problem(q: Sql, f: &ProblemFields) -> Sql {
    q.bind(&f.title)
        .bind(&f.description)
        .bind(f.status.as_str())
        .bind(f.impact.as_str())
        .bind(f.urgency.as_str())
        .bind(f.priority.as_str())
        .bind(f.service_id)
        .bind(f.assignee_id)
        .bind(&f.root_cause)
        .bind(&f.workaround)
        .bind(f.resolved_at)
        .bind(f.closed_at)
        .bind(f.category_id)
        .bind(CustomValues::encode(&f.custom))
}

/// The journal entry of a new link.
pub(crate) fn link_created(
    tenant_id: i64,
    actor: &Actor,
    id: i64,
    kind: LinkKind,
    source: (RecordKind, i64),
    target: (RecordKind, i64),
) -> Change<'_> {
    Change {
        tenant_id,
        actor,
        action: Action::Create,
        record_type: "link",
        record_id: id,
        before: None,
        after: Some(serde_json::json!({
            "kind": kind.as_str(),
            "source": format!("{}:{}", source.0.as_str(), source.1),
            "target": format!("{}:{}", target.0.as_str(), target.1),
        })),
    }
}

/// The table and numbering of each kind of linkable record.
fn table(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Incident => "incidents",
        RecordKind::Problem => "problems",
    }
}

impl Store {
    async fn check_problem_refs(&self, tenant_id: i64, f: &ProblemFields) -> StoreResult<()> {
        let mut errors = Invalid::new();
        if let Some(id) = f.service_id {
            let found: Option<(i64,)> = self
                .db
                .fetch_optional(sql("SELECT id FROM services WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL").bind(tenant_id).bind(id))
                .await?;
            if found.is_none() {
                errors.add(
                    "service_id",
                    format!("Service {id} does not exist in this organisation"),
                );
            }
        }
        if let Some(id) = f.assignee_id
            && self.user(tenant_id, id).await.is_err()
        {
            errors.add(
                "assignee_id",
                format!("User {id} does not exist in this organisation"),
            );
        }
        self.check_category_ref(tenant_id, f.category_id, &mut errors)
            .await?;
        errors.into_result(()).map_err(StoreError::from)
    }

    pub async fn create_problem(
        &self,
        tenant_id: i64,
        f: &ProblemFields,
        actor: &Actor,
    ) -> StoreResult<Problem> {
        self.insert_problem(tenant_id, f, None, None, actor).await
    }

    /// Inserts a problem, created now or at `created_at` (when an imported one was opened). One
    /// that starts as a known error gets its known error (KE-n) in the same transaction.
    async fn insert_problem(
        &self,
        tenant_id: i64,
        f: &ProblemFields,
        created_at: Option<i64>,
        external_id: Option<&str>,
        actor: &Actor,
    ) -> StoreResult<Problem> {
        self.check_problem_refs(tenant_id, f).await?;
        let mut tx = self.db.begin().await?;
        let number = next_number(&mut tx, tenant_id, "problem").await?;
        let q = sql(format!(
            "INSERT INTO problems (tenant_id, number, title, description, status, impact, urgency, priority, service_id, \
             assignee_id, root_cause, workaround, resolved_at, closed_at, category_id, custom_json, created_at, updated_at, \
             external_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING {COLUMNS}"
        ))
        .bind(tenant_id)
        .bind(number);
        let now = now_micros();
        let q = bind_problem(q, f)
            .bind(created_at.unwrap_or(now))
            .bind(now)
            .bind(external_id.map(str::to_owned));
        let problem: Problem = tx.fetch_one(q).await?;
        self.journal(
            &mut tx,
            Change::of(tenant_id, actor, Action::Create, None, Some(&problem)),
        )
        .await?;
        if problem.status == ProblemStatus::KnownError {
            self.insert_known_error(&mut tx, tenant_id, &problem, actor)
                .await?;
        }
        tx.commit().await?;
        Ok(problem)
    }

    /// Creates the problem imported under `external_id`, or updates it if an earlier import
    /// created it; `opened_at` becomes its creation time either way. Returns the problem and
    /// whether it was new.
    pub async fn upsert_problem(
        &self,
        tenant_id: i64,
        external_id: &str,
        f: &ProblemFields,
        opened_at: i64,
        actor: &Actor,
    ) -> StoreResult<(Problem, bool)> {
        match self
            .imported(tenant_id, Imported::Problem, external_id)
            .await?
        {
            Some((id, updated_at)) => {
                // The file owns its columns; the assignee and custom values people set in
                // Steward since survive a re-import.
                let current = self.problem(tenant_id, id).await?;
                let f = ProblemFields {
                    assignee_id: f.assignee_id.or(current.assignee_id),
                    custom: if f.custom.is_empty() {
                        current.custom.0.clone()
                    } else {
                        f.custom.clone()
                    },
                    ..f.clone()
                };
                Ok((
                    self.rewrite_problem(tenant_id, id, updated_at, &f, Some(opened_at), actor)
                        .await?,
                    false,
                ))
            }
            None => Ok((
                self.insert_problem(tenant_id, f, Some(opened_at), Some(external_id), actor)
                    .await?,
                true,
            )),
        }
    }

    pub async fn problem(&self, tenant_id: i64, id: i64) -> StoreResult<Problem> {
        self.db.fetch_one(select_problem(tenant_id, id)).await
    }

    pub async fn problem_by_number(&self, tenant_id: i64, number: i64) -> StoreResult<Problem> {
        self.db
            .fetch_one(
                sql(format!(
                    "SELECT {COLUMNS} FROM problems WHERE tenant_id = $1 AND number = $2"
                ))
                .bind(tenant_id)
                .bind(number),
            )
            .await
    }

    /// Writes a problem if unchanged since `seen_updated_at`. Reaching `known_error` for the first
    /// time creates the known error (KE-n) in the same transaction.
    pub async fn update_problem(
        &self,
        tenant_id: i64,
        id: i64,
        seen_updated_at: i64,
        f: &ProblemFields,
        actor: &Actor,
    ) -> StoreResult<Problem> {
        self.rewrite_problem(tenant_id, id, seen_updated_at, f, None, actor)
            .await
    }

    /// `update_problem`, also moving its creation time when `created_at` is given (imports).
    async fn rewrite_problem(
        &self,
        tenant_id: i64,
        id: i64,
        seen_updated_at: i64,
        f: &ProblemFields,
        created_at: Option<i64>,
        actor: &Actor,
    ) -> StoreResult<Problem> {
        self.check_problem_refs(tenant_id, f).await?;
        let mut tx = self.db.begin().await?;
        let before: Problem = tx.fetch_one(select_problem(tenant_id, id)).await?;
        if before.updated_at != seen_updated_at {
            return Err(StoreError::Conflict(
                "The problem was changed by someone else; reload it and try again".into(),
            ));
        }
        let q = sql(format!(
            "UPDATE problems SET title = $1, description = $2, status = $3, impact = $4, urgency = $5, priority = $6, \
             service_id = $7, assignee_id = $8, root_cause = $9, workaround = $10, resolved_at = $11, closed_at = $12, \
             category_id = $13, custom_json = $14, created_at = COALESCE($15, created_at), updated_at = $16 \
             WHERE tenant_id = $17 AND id = $18 RETURNING {COLUMNS}"
        ));
        let after: Problem = tx
            .fetch_one(
                bind_problem(q, f)
                    .bind(created_at)
                    .bind(now_micros().max(seen_updated_at + 1))
                    .bind(tenant_id)
                    .bind(id),
            )
            .await?;
        self.journal(
            &mut tx,
            Change::of(
                tenant_id,
                actor,
                Action::Update,
                Some(&before),
                Some(&after),
            ),
        )
        .await?;
        if after.status == ProblemStatus::KnownError && before.status != ProblemStatus::KnownError {
            let existing: Option<(i64,)> = tx
                .fetch_optional(
                    sql("SELECT id FROM known_errors WHERE tenant_id = $1 AND problem_id = $2")
                        .bind(tenant_id)
                        .bind(id),
                )
                .await?;
            if existing.is_none() {
                self.insert_known_error(&mut tx, tenant_id, &after, actor)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(after)
    }

    async fn insert_known_error(
        &self,
        tx: &mut Tx,
        tenant_id: i64,
        p: &Problem,
        actor: &Actor,
    ) -> StoreResult<KnownError> {
        let number = next_number(tx, tenant_id, "known_error").await?;
        let ke: KnownError = tx
            .fetch_one(
                sql(format!(
                    "INSERT INTO known_errors (tenant_id, number, problem_id, title, symptoms, root_cause, workaround, active, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, TRUE, $8, $8) RETURNING {KE_COLUMNS}"
                ))
                .bind(tenant_id)
                .bind(number)
                .bind(p.id)
                .bind(&p.title)
                .bind(&p.description)
                .bind(&p.root_cause)
                .bind(&p.workaround)
                .bind(now_micros()),
            )
            .await?;
        reindex_known_error(tx, ke.id).await?;
        self.journal(
            tx,
            Change::of(tenant_id, actor, Action::Create, None, Some(&ke)),
        )
        .await?;
        Ok(ke)
    }

    pub async fn problems(
        &self,
        tenant_id: i64,
        f: &ProblemFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Problem>> {
        let sort =
            Sort::parse_or_invalid(f.sort.as_deref(), &["priority", "number", "updated_at"])?;
        let mut q = sql(format!(
            "SELECT {COLUMNS} FROM problems WHERE tenant_id = $1"
        ))
        .bind(tenant_id);
        if !f.statuses.is_empty() {
            let list = f
                .statuses
                .iter()
                .map(|s| format!("'{}'", s.as_str()))
                .collect::<Vec<_>>()
                .join(", ");
            q = q.push(&format!(" AND status IN ({list})"));
        }
        if let Some(service) = f.service_id {
            q = q.push_bound(" AND service_id = {}", service);
        }
        let q = self
            .narrow_by_common_fields(q, tenant_id, "problem", f.category_id, &f.custom)
            .await?;
        let rows: Vec<Problem> = self.db.fetch_all(paginate(q, sort, page)?).await?;
        Ok(finish(rows, page, |p| match sort.column {
            "number" => (CursorKey::Int(p.number), p.id),
            "updated_at" => (CursorKey::Int(p.updated_at), p.id),
            _ => (CursorKey::Text(p.priority.as_str().to_owned()), p.id),
        }))
    }

    pub async fn known_error_by_number(
        &self,
        tenant_id: i64,
        number: i64,
    ) -> StoreResult<KnownError> {
        self.db
            .fetch_one(
                sql(format!(
                    "SELECT {KE_COLUMNS} FROM known_errors WHERE tenant_id = $1 AND number = $2"
                ))
                .bind(tenant_id)
                .bind(number),
            )
            .await
    }

    pub async fn known_error_of(
        &self,
        tenant_id: i64,
        problem_id: i64,
    ) -> StoreResult<Option<KnownError>> {
        self.db
            .fetch_optional(
                sql(format!(
                    "SELECT {KE_COLUMNS} FROM known_errors WHERE tenant_id = $1 AND problem_id = $2"
                ))
                .bind(tenant_id)
                .bind(problem_id),
            )
            .await
    }

    /// Known errors, active first; `q` searches title, symptoms, cause and workaround.
    pub async fn known_errors(
        &self,
        tenant_id: i64,
        q: Option<&str>,
        active_only: bool,
        page: &PageRequest,
    ) -> StoreResult<Page<KnownError>> {
        let mut query = sql(format!(
            "SELECT {KE_COLUMNS} FROM known_errors WHERE tenant_id = $1"
        ))
        .bind(tenant_id);
        if let Some(text) = q.filter(|t| !t.trim().is_empty()) {
            query = matching(self.backend(), query, "known_errors", text);
        }
        if active_only {
            query = query.push(" AND active = TRUE");
        }
        let sort = Sort {
            column: "number",
            descending: true,
        };
        let rows: Vec<KnownError> = self.db.fetch_all(paginate(query, sort, page)?).await?;
        Ok(finish(rows, page, |k| (CursorKey::Int(k.number), k.id)))
    }

    /// Edits a known error's text or retires it.
    pub async fn update_known_error(
        &self,
        tenant_id: i64,
        id: i64,
        (title, symptoms, workaround, active): (&str, &str, &str, bool),
        actor: &Actor,
    ) -> StoreResult<KnownError> {
        let mut tx = self.db.begin().await?;
        let select = sql(format!(
            "SELECT {KE_COLUMNS} FROM known_errors WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant_id)
        .bind(id);
        let before: KnownError = tx.fetch_one(select).await?;
        let after: KnownError = tx
            .fetch_one(
                sql(format!(
                    "UPDATE known_errors SET title = $1, symptoms = $2, workaround = $3, active = $4, updated_at = $5 \
                     WHERE tenant_id = $6 AND id = $7 RETURNING {KE_COLUMNS}"
                ))
                .bind(title)
                .bind(symptoms)
                .bind(workaround)
                .bind(active)
                .bind(now_micros())
                .bind(tenant_id)
                .bind(id),
            )
            .await?;
        reindex_known_error(&mut tx, id).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    /// Links two records of the tenant; linking twice is harmless.
    pub async fn link(
        &self,
        tenant_id: i64,
        kind: LinkKind,
        source: (RecordKind, i64),
        target: (RecordKind, i64),
        actor: &Actor,
    ) -> StoreResult<i64> {
        let mut tx = self.db.begin().await?;
        for (end, field) in [(source, "source"), (target, "target")] {
            let found: Option<(i64,)> = tx
                .fetch_optional(
                    sql(format!(
                        "SELECT id FROM {} WHERE tenant_id = $1 AND id = $2",
                        table(end.0)
                    ))
                    .bind(tenant_id)
                    .bind(end.1),
                )
                .await?;
            if found.is_none() {
                return Err(Invalid::one(field, "No such record in this organisation").into());
            }
        }
        let existing: Option<(i64,)> = tx
            .fetch_optional(
                sql("SELECT id FROM record_links WHERE tenant_id = $1 AND kind = $2 AND source_type = $3 AND source_id = $4 \
                     AND target_type = $5 AND target_id = $6")
                .bind(tenant_id)
                .bind(kind.as_str())
                .bind(source.0.as_str())
                .bind(source.1)
                .bind(target.0.as_str())
                .bind(target.1),
            )
            .await?;
        if let Some((id,)) = existing {
            return Ok(id);
        }
        let (id,): (i64,) = tx
            .fetch_one(
                sql("INSERT INTO record_links (tenant_id, kind, source_type, source_id, target_type, target_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
                .bind(tenant_id)
                .bind(kind.as_str())
                .bind(source.0.as_str())
                .bind(source.1)
                .bind(target.0.as_str())
                .bind(target.1)
                .bind(now_micros()),
            )
            .await?;
        self.journal(
            &mut tx,
            link_created(tenant_id, actor, id, kind, source, target),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Every link touching a record, in both directions, with the other record's key and title.
    pub async fn links(&self, tenant_id: i64, record: (RecordKind, i64)) -> StoreResult<Vec<Link>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            id: i64,
            kind: String,
            source_type: String,
            source_id: i64,
            target_type: String,
            target_id: i64,
        }
        let rows: Vec<Row> = self
            .db
            .fetch_all(
                sql("SELECT id, kind, source_type, source_id, target_type, target_id FROM record_links WHERE tenant_id = $1 \
                     AND ((source_type = $2 AND source_id = $3) OR (target_type = $2 AND target_id = $3)) ORDER BY id")
                .bind(tenant_id)
                .bind(record.0.as_str())
                .bind(record.1),
            )
            .await?;
        let mut links = Vec::with_capacity(rows.len());
        for r in rows {
            let outgoing = r.source_type == record.0.as_str() && r.source_id == record.1;
            let (other_type, other_id) = if outgoing {
                (r.target_type, r.target_id)
            } else {
                (r.source_type, r.source_id)
            };
            let (Some(kind), Some(other_kind)) =
                (LinkKind::parse(&r.kind), RecordKind::parse(&other_type))
            else {
                return Err(StoreError::Corrupt(format!(
                    "link {} has an unknown kind",
                    r.id
                )));
            };
            let (number, title): (i64, String) = self
                .db
                .fetch_one(
                    sql(format!(
                        "SELECT number, title FROM {} WHERE tenant_id = $1 AND id = $2",
                        table(other_kind)
                    ))
                    .bind(tenant_id)
                    .bind(other_id),
                )
                .await?;
            links.push(Link {
                id: r.id,
                kind,
                outgoing,
                other_kind,
                other_id,
                other_key: format!("{}-{number}", other_kind.prefix()),
                other_title: title,
            });
        }
        Ok(links)
    }

    /// Services with at least `threshold` incidents opened since `since_micros` and no open
    /// problem: what the problem manager should look at.
    pub async fn problem_candidates(
        &self,
        tenant_id: i64,
        threshold: i64,
        since_micros: i64,
    ) -> StoreResult<Vec<Candidate>> {
        self.db
            .fetch_all(
                sql("SELECT i.service_id, COUNT(*) AS incidents FROM incidents i \
                     WHERE i.tenant_id = $1 AND i.service_id IS NOT NULL AND i.opened_at >= $2 \
                     AND NOT EXISTS (SELECT 1 FROM problems p WHERE p.tenant_id = i.tenant_id AND p.service_id = i.service_id \
                                     AND p.status IN ('new', 'investigating', 'known_error')) \
                     GROUP BY i.service_id HAVING COUNT(*) >= $3 ORDER BY COUNT(*) DESC, i.service_id")
                .bind(tenant_id)
                .bind(since_micros)
                .bind(threshold),
            )
            .await
    }
}

impl Store {
    /// Merges a duplicate incident into the one it duplicates: the conversation moves over, the
    /// duplicate is cancelled with resolution code `duplicate`, and both stay linked.
    pub async fn merge_incident(
        &self,
        tenant_id: i64,
        duplicate_id: i64,
        into_id: i64,
        actor: &Actor,
    ) -> StoreResult<()> {
        use crate::incident::Incident;
        let select = |id: i64| {
            sql("SELECT number, status FROM incidents WHERE tenant_id = $1 AND id = $2")
                .bind(tenant_id)
                .bind(id)
        };
        let mut tx = self.db.begin().await?;
        let (dup_number, dup_status): (i64, String) = tx.fetch_one(select(duplicate_id)).await?;
        let (into_number, into_status): (i64, String) = tx.fetch_one(select(into_id)).await?;
        let terminal = |s: &str| matches!(s, "closed" | "cancelled");
        if terminal(&dup_status) || terminal(&into_status) {
            return Err(StoreError::Conflict(
                "Closed or cancelled incidents cannot be merged".into(),
            ));
        }
        let moved = tx
            .execute(
                sql("UPDATE comments SET record_id = $1 WHERE tenant_id = $2 AND record_type = 'incident' AND record_id = $3")
                    .bind(into_id)
                    .bind(tenant_id)
                    .bind(duplicate_id),
            )
            .await?;
        let now = now_micros();
        tx.execute(
            sql("UPDATE incidents SET status = 'cancelled', pending_reason = NULL, resolution_code = 'duplicate', \
                 resolution_notes = $1, closed_at = $2, updated_at = $2 WHERE tenant_id = $3 AND id = $4")
            .bind(format!("Merged into INC-{into_number}"))
            .bind(now)
            .bind(tenant_id)
            .bind(duplicate_id),
        )
        .await?;
        tx.execute(
            sql("INSERT INTO record_links (tenant_id, kind, source_type, source_id, target_type, target_id, created_at) \
                 VALUES ($1, 'duplicate_of', 'incident', $2, 'incident', $3, $4)")
            .bind(tenant_id)
            .bind(duplicate_id)
            .bind(into_id)
            .bind(now),
        )
        .await?;
        self.journal(
            &mut tx,
            Change {
                tenant_id,
                actor,
                action: Action::Update,
                record_type: Incident::KIND,
                record_id: duplicate_id,
                before: Some(serde_json::json!({ "status": dup_status })),
                after: Some(serde_json::json!({
                    "status": "cancelled", "resolution_code": "duplicate",
                    "merged_into": format!("INC-{into_number}"), "comments_moved": moved,
                })),
            },
        )
        .await?;
        self.journal(&mut tx, Change {
            tenant_id,
            actor,
            action: Action::Update,
            record_type: Incident::KIND,
            record_id: into_id,
            before: None,
            after: Some(serde_json::json!({ "merged_from": format!("INC-{dup_number}"), "comments_moved": moved })),
        })
        .await?;
        crate::search::reindex_incident(&mut tx, duplicate_id).await?;
        crate::search::reindex_incident(&mut tx, into_id).await?;
        tx.commit().await
    }
}
