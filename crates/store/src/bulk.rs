//! Loading many records at once (data generators, large imports): multi-row inserts, numbers
//! taken in one step, one search reindex per batch, and one journal entry per record appended
//! in a single batch. Incidents, requests and problems share that machinery (`insert_rows`,
//! `insert_numbered`); each kind adds what a normal create writes with it. A batch of
//! incidents may carry each incident's conversation, inserted before the reindex so it is
//! searchable and journaled as `add_incident_comment` journals a comment. Requests get the
//! approvals and fulfilment tasks their status implies; problems their known errors (KE-n,
//! searchable) and `caused_by` links from the incidents they caused.

use crate::custom_fields::CustomValues;
use crate::db::{Sql, Tx, sql};
use crate::incident::{Comment, IncidentFields, NewComment, bind_fields, take_numbers};
use crate::journal::{Change, Record};
use crate::problem::{KnownError, NewProblem, Problem, bind_problem, link_created};
use crate::request::{NewRequest, ServiceRequest};
use crate::search::{reindex_incidents_between, reindex_known_error};
use crate::{Actor, Store, StoreResult, now_micros};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use steward_domain::journal::Action;
use steward_domain::problem::{LinkKind, ProblemStatus, RecordKind};
use steward_domain::request::{Decision, RequestStatus, TaskTemplate};

/// Rows per INSERT statement: at 26 values each (incidents, the widest) this stays well below
/// both backends' parameter limits. SQLite looks each `$n` up among the statement's
/// parameters, so preparing costs the square of their number: with 4,000-row comment
/// statements `steward bench generate --incidents 12000` (24,016 comments) took 19.1 s on
/// SQLite in a debug build, with 500-row ones 9.7 s.
const ROWS_PER_STATEMENT: usize = 500;

/// Inserts `rows` into `table` with multi-row statements; `bind` binds the `columns` of one
/// row (given its index in `rows`). Returns the new ids in the order of `rows`.
pub(crate) async fn insert_rows<T>(
    tx: &mut Tx,
    table: &str,
    columns: &[&str],
    rows: &[T],
    bind: impl Fn(Sql, usize, &T) -> Sql,
) -> StoreResult<Vec<i64>> {
    let mut ids = Vec::with_capacity(rows.len());
    for (chunk_index, chunk) in rows.chunks(ROWS_PER_STATEMENT).enumerate() {
        let q = values(table, columns, chunk, chunk_index, &bind);
        let inserted: Vec<(i64,)> = tx.fetch_all(q.push(" RETURNING id")).await?;
        let mut chunk_ids: Vec<i64> = inserted.into_iter().map(|(id,)| id).collect();
        // Ids are assigned in VALUES order; RETURNING's order is not promised.
        chunk_ids.sort_unstable();
        ids.extend(chunk_ids);
    }
    Ok(ids)
}

/// [`insert_rows`] for tables without an `id` column (keyed by what the rows hold).
pub(crate) async fn insert_keyed_rows<T>(
    tx: &mut Tx,
    table: &str,
    columns: &[&str],
    rows: &[T],
    bind: impl Fn(Sql, usize, &T) -> Sql,
) -> StoreResult<()> {
    for (chunk_index, chunk) in rows.chunks(ROWS_PER_STATEMENT).enumerate() {
        tx.execute(values(table, columns, chunk, chunk_index, &bind))
            .await?;
    }
    Ok(())
}

/// One multi-row `INSERT ... VALUES` of the `chunk_index`-th chunk of rows.
fn values<T>(
    table: &str,
    columns: &[&str],
    chunk: &[T],
    chunk_index: usize,
    bind: &impl Fn(Sql, usize, &T) -> Sql,
) -> Sql {
    let mut q = sql(format!(
        "INSERT INTO {table} ({}) VALUES ",
        columns.join(", ")
    ));
    for (i, row) in chunk.iter().enumerate() {
        let base = i * columns.len();
        let placeholders: Vec<String> = (1..=columns.len())
            .map(|k| format!("${}", base + k))
            .collect();
        q = q.push(&format!(
            "{}({})",
            if i == 0 { "" } else { ", " },
            placeholders.join(", ")
        ));
        q = bind(q, chunk_index * ROWS_PER_STATEMENT + i, row);
    }
    q
}

/// Takes consecutive numbers of `kind` for `rows` and inserts them into `table`, each row's
/// `tenant_id` and `number` first, then the `columns` that `bind` binds. Returns each row's
/// new id and number, in the order of `rows`.
async fn insert_numbered<T>(
    tx: &mut Tx,
    tenant_id: i64,
    &Numbered {
        kind,
        table,
        columns,
    }: &Numbered,
    rows: &[T],
    bind: impl Fn(Sql, &T) -> Sql,
) -> StoreResult<Vec<(i64, i64)>> {
    let count = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    let first = take_numbers(tx, tenant_id, kind, count).await?;
    let all: Vec<&str> = ["tenant_id", "number"]
        .into_iter()
        .chain(columns.iter().copied())
        .collect();
    let ids = insert_rows(tx, table, &all, rows, |q, i, row| {
        bind(
            q.bind(tenant_id)
                .bind(first + i64::try_from(i).unwrap_or(0)),
            row,
        )
    })
    .await?;
    Ok(ids.into_iter().zip(first..).collect())
}

/// A numbered kind of record: its counter, its table, and the columns a load writes after
/// `tenant_id` and `number`.
struct Numbered {
    kind: &'static str,
    table: &'static str,
    columns: &'static [&'static str],
}

/// Journal entries of new records, as a normal create writes them: each record as it is.
fn created<'a, T: Record + serde::Serialize>(
    tenant_id: i64,
    actor: &'a Actor,
    records: &[T],
) -> impl Iterator<Item = Change<'a>> {
    records
        .iter()
        .map(move |r| Change::of(tenant_id, actor, Action::Create, None, Some(r)))
}

/// Incidents' columns in `bind_fields`' order, then their times.
const INCIDENT_COLUMNS: [&str; 24] = [
    "title",
    "description",
    "status",
    "pending_reason",
    "impact",
    "urgency",
    "priority",
    "service_id",
    "customer_id",
    "requester_contact_id",
    "requester_user_id",
    "assignee_team_id",
    "assignee_id",
    "source",
    "resolution_code",
    "resolution_notes",
    "opened_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "category_id",
    "custom_json",
    "created_at",
    "updated_at",
];
const COMMENT_COLUMNS: [&str; 8] = [
    "tenant_id",
    "record_type",
    "record_id",
    "author_id",
    "author",
    "body",
    "public",
    "created_at",
];
const REQUEST_COLUMNS: [&str; 12] = [
    "item_id",
    "title",
    "answers_json",
    "status",
    "requester_user_id",
    "opened_at",
    "fulfilled_at",
    "closed_at",
    "created_at",
    "updated_at",
    "category_id",
    "custom_json",
];
const APPROVAL_COLUMNS: [&str; 6] = [
    "tenant_id",
    "request_id",
    "approver_id",
    "decision",
    "comment",
    "decided_at",
];
const TASK_COLUMNS: [&str; 7] = [
    "tenant_id",
    "request_id",
    "title",
    "team_id",
    "done",
    "done_at",
    "done_by",
];
/// Problems' columns in `bind_problem`'s order, then their times.
const PROBLEM_COLUMNS: [&str; 16] = [
    "title",
    "description",
    "status",
    "impact",
    "urgency",
    "priority",
    "service_id",
    "assignee_id",
    "root_cause",
    "workaround",
    "resolved_at",
    "closed_at",
    "category_id",
    "custom_json",
    "created_at",
    "updated_at",
];
const KNOWN_ERROR_COLUMNS: [&str; 8] = [
    "problem_id",
    "title",
    "symptoms",
    "root_cause",
    "workaround",
    "active",
    "created_at",
    "updated_at",
];
const LINK_COLUMNS: [&str; 7] = [
    "tenant_id",
    "kind",
    "source_type",
    "source_id",
    "target_type",
    "target_id",
    "created_at",
];

const INCIDENTS: Numbered = Numbered {
    kind: "incident",
    table: "incidents",
    columns: &INCIDENT_COLUMNS,
};
const REQUESTS: Numbered = Numbered {
    kind: "request",
    table: "requests",
    columns: &REQUEST_COLUMNS,
};
const PROBLEMS: Numbered = Numbered {
    kind: "problem",
    table: "problems",
    columns: &PROBLEM_COLUMNS,
};
const KNOWN_ERRORS: Numbered = Numbered {
    kind: "known_error",
    table: "known_errors",
    columns: &KNOWN_ERROR_COLUMNS,
};

/// An approver's decision on a loaded request: who, what, and when.
type Decided = (i64, Decision, Option<i64>);

/// What a loaded request has behind its status, as approvals and fulfilment would have left
/// it: the decisions of its item's approvers (all approved once it went past approval, the
/// first one rejecting a rejected request, pending otherwise), and its item's tasks with when
/// each was done, once it reached fulfilment (a cancelled request reached it if it needed no
/// approval or was approved). The tasks of a fulfilled or closed request were done when it was
/// fulfilled.
pub(crate) fn request_work<'a>(
    r: &NewRequest<'a>,
) -> (Vec<Decided>, Vec<(&'a TaskTemplate, Option<i64>)>) {
    use RequestStatus::*;
    let (status, decided_at) = (r.values.status, r.decided_at);
    let approvals = r
        .item
        .approver_ids
        .iter()
        .enumerate()
        .map(|(k, approver)| {
            let decision = match (status, decided_at) {
                (PendingApproval, _) | (_, None) => Decision::Pending,
                (Rejected, Some(_)) if k == 0 => Decision::Rejected,
                (Rejected, Some(_)) => Decision::Pending,
                _ => Decision::Approved,
            };
            let at = decided_at.filter(|_| decision != Decision::Pending);
            (*approver, decision, at)
        })
        .collect();
    let fulfilling = match status {
        PendingApproval | Rejected => false,
        Cancelled => r.item.approver_ids.is_empty() || decided_at.is_some(),
        InFulfilment | Fulfilled | Closed => true,
    };
    let done_at = match status {
        Fulfilled | Closed => r.values.fulfilled_at,
        _ => None,
    };
    let tasks = if fulfilling {
        r.item.tasks.iter().map(|t| (t, done_at)).collect()
    } else {
        Vec::new()
    };
    (approvals, tasks)
}

/// The ids of the tenant's incidents with these numbers (numbers without one are left out).
async fn incident_ids(
    tx: &mut Tx,
    tenant_id: i64,
    numbers: &BTreeSet<i64>,
) -> StoreResult<HashMap<i64, i64>> {
    let numbers: Vec<i64> = numbers.iter().copied().collect();
    let mut found = HashMap::with_capacity(numbers.len());
    for chunk in numbers.chunks(ROWS_PER_STATEMENT) {
        let mut q = sql("SELECT number, id FROM incidents WHERE tenant_id = $1 AND number IN (")
            .bind(tenant_id);
        for (i, number) in chunk.iter().enumerate() {
            q = q.push_bound(if i == 0 { "{}" } else { ", {}" }, *number);
        }
        let rows: Vec<(i64, i64)> = tx.fetch_all(q.push(")")).await?;
        found.extend(rows);
    }
    Ok(found)
}

impl Store {
    /// A bulk load's transaction and time, or `None` when there is nothing to load.
    async fn begin_load<T>(&self, rows: &[T]) -> StoreResult<Option<(Tx, i64)>> {
        if rows.is_empty() {
            return Ok(None);
        }
        Ok(Some((self.db.begin().await?, now_micros())))
    }

    /// Inserts a batch of incidents in one transaction. The caller has validated the fields;
    /// references are not checked here, so loaders must only use ids of the tenant.
    pub async fn load_incidents(
        &self,
        tenant_id: i64,
        rows: &[IncidentFields],
        actor: &Actor,
    ) -> StoreResult<usize> {
        self.load_incidents_with_comments(tenant_id, rows, &[], actor)
            .await
    }

    /// As `load_incidents`, with `comments[i]` the conversation of `rows[i]` (missing entries
    /// mean none), in the order given. The comments keep their own authors and times; the
    /// incidents' fields (first response, status) are taken as given, not derived from them.
    /// Returns the number of incidents inserted.
    pub async fn load_incidents_with_comments(
        &self,
        tenant_id: i64,
        rows: &[IncidentFields],
        comments: &[Vec<NewComment>],
        actor: &Actor,
    ) -> StoreResult<usize> {
        let Some((mut tx, now)) = self.begin_load(rows).await? else {
            return Ok(0);
        };
        let numbered = insert_numbered(&mut tx, tenant_id, &INCIDENTS, rows, |q, f| {
            bind_fields(q, f).bind(f.opened_at).bind(now)
        })
        .await?;
        let ids: Vec<i64> = numbered.iter().map(|(id, _)| *id).collect();
        // (incident index, comment) in load order, so ids and journal entries follow it.
        let conversation: Vec<(usize, &NewComment)> = comments
            .iter()
            .take(ids.len())
            .enumerate()
            .flat_map(|(i, list)| list.iter().map(move |c| (i, c)))
            .collect();
        let comment_ids = insert_rows(
            &mut tx,
            "comments",
            &COMMENT_COLUMNS,
            &conversation,
            |q, _, (incident, c)| {
                q.bind(tenant_id)
                    .bind("incident")
                    .bind(ids[*incident])
                    .bind(c.author_id)
                    .bind(&c.author)
                    .bind(&c.body)
                    .bind(c.public)
                    .bind(c.created_at)
            },
        )
        .await?;
        if let (Some(first), Some(last)) = (ids.iter().min(), ids.iter().max()) {
            reindex_incidents_between(&mut tx, *first, *last).await?;
        }
        let mut changes: Vec<Change> = ids
            .iter()
            .zip(rows)
            .map(|(id, f)| Change {
                tenant_id,
                actor,
                action: Action::Create,
                record_type: "incident",
                record_id: *id,
                before: None,
                after: Some(serde_json::json!({ "title": f.title, "status": f.status.as_str(), "priority": f.priority.as_str() })),
            })
            .collect();
        changes.extend(
            comment_ids
                .iter()
                .zip(&conversation)
                .map(|(id, (incident, c))| Change {
                    tenant_id,
                    actor,
                    action: Action::Create,
                    record_type: Comment::KIND,
                    record_id: *id,
                    before: None,
                    after: Some(serde_json::json!({
                        "record": format!("INC-{}", numbered[*incident].1),
                        "public": c.public,
                        "body": c.body,
                    })),
                }),
        );
        self.journal_many(&mut tx, changes).await?;
        tx.commit().await?;
        Ok(ids.len())
    }

    /// Inserts a batch of service requests in one transaction (REQ-n numbered in order), each
    /// with the approvals and fulfilment tasks its status implies (`request_work`), and
    /// journals each as a normal create does; the request's `created_at` is its `opened_at`.
    /// The caller has checked the answers and references (only ids of the tenant). Requests
    /// have no full-text entry (search finds them by key), so there is nothing to reindex.
    /// Returns the number of requests inserted.
    pub async fn load_requests(
        &self,
        tenant_id: i64,
        rows: &[NewRequest<'_>],
        actor: &Actor,
    ) -> StoreResult<usize> {
        let Some((mut tx, now)) = self.begin_load(rows).await? else {
            return Ok(0);
        };
        let numbered = insert_numbered(&mut tx, tenant_id, &REQUESTS, rows, |q, r| {
            let v = &r.values;
            q.bind(r.item.id)
                .bind(&v.title)
                .bind(Value::Object(v.answers.clone()).to_string())
                .bind(v.status.as_str())
                .bind(v.requester_user_id)
                .bind(v.opened_at)
                .bind(v.fulfilled_at)
                .bind(v.closed_at)
                .bind(v.opened_at)
                .bind(now)
                .bind(v.fields.category_id)
                .bind(CustomValues::encode(&v.fields.custom))
        })
        .await?;
        let mut approvals = Vec::new();
        let mut tasks = Vec::new();
        for ((id, _), r) in numbered.iter().zip(rows) {
            let (decided, work) = request_work(r);
            approvals.extend(decided.into_iter().map(|a| (*id, a)));
            tasks.extend(work.into_iter().map(|t| (*id, t)));
        }
        insert_rows(
            &mut tx,
            "request_approvals",
            &APPROVAL_COLUMNS,
            &approvals,
            |q, _, (request, (approver, decision, at))| {
                let comment = match decision {
                    Decision::Approved => "Approved",
                    Decision::Rejected => "Not in this quarter's budget",
                    Decision::Pending => "",
                };
                q.bind(tenant_id)
                    .bind(*request)
                    .bind(*approver)
                    .bind(decision.as_str())
                    .bind(comment)
                    .bind(*at)
            },
        )
        .await?;
        insert_rows(
            &mut tx,
            "request_tasks",
            &TASK_COLUMNS,
            &tasks,
            |q, _, (request, (task, done_at))| {
                q.bind(tenant_id)
                    .bind(*request)
                    .bind(&task.title)
                    .bind(task.team_id)
                    .bind(done_at.is_some())
                    .bind(*done_at)
                    .bind(done_at.map(|_| actor.label.clone()))
            },
        )
        .await?;
        let requests: Vec<ServiceRequest> = numbered
            .iter()
            .zip(rows)
            .map(|(&(id, number), r)| {
                let v = r.values.clone();
                ServiceRequest {
                    id,
                    number,
                    item_id: r.item.id,
                    title: v.title,
                    answers: v.answers,
                    status: v.status,
                    requester_user_id: v.requester_user_id,
                    opened_at: v.opened_at,
                    fulfilled_at: v.fulfilled_at,
                    closed_at: v.closed_at,
                    created_at: v.opened_at,
                    updated_at: now,
                    category_id: v.fields.category_id,
                    custom: CustomValues(v.fields.custom),
                }
            })
            .collect();
        self.journal_many(&mut tx, created(tenant_id, actor, &requests).collect())
            .await?;
        tx.commit().await?;
        Ok(requests.len())
    }

    /// Inserts a batch of problems in one transaction (PRB-n numbered in order); each known
    /// error among them gets its known error (KE-n, searchable) as a normal create gives it,
    /// and each the `caused_by` links from its incidents. Problems, known errors and links are
    /// journaled as their normal creates journal them; a problem's `created_at` is its
    /// `opened_at`. The caller has validated the fields (a known error has its root cause and
    /// workaround) and uses only ids of the tenant. Returns the number of problems inserted.
    pub async fn load_problems(
        &self,
        tenant_id: i64,
        rows: &[NewProblem],
        actor: &Actor,
    ) -> StoreResult<usize> {
        let Some((mut tx, now)) = self.begin_load(rows).await? else {
            return Ok(0);
        };
        let numbered = insert_numbered(&mut tx, tenant_id, &PROBLEMS, rows, |q, p| {
            bind_problem(q, &p.fields).bind(p.opened_at).bind(now)
        })
        .await?;
        let problems: Vec<Problem> = numbered
            .iter()
            .zip(rows)
            .map(|(&(id, number), p)| {
                let f = p.fields.clone();
                Problem {
                    id,
                    number,
                    title: f.title,
                    description: f.description,
                    status: f.status,
                    impact: f.impact,
                    urgency: f.urgency,
                    priority: f.priority,
                    service_id: f.service_id,
                    assignee_id: f.assignee_id,
                    root_cause: f.root_cause,
                    workaround: f.workaround,
                    resolved_at: f.resolved_at,
                    closed_at: f.closed_at,
                    created_at: p.opened_at,
                    updated_at: now,
                    category_id: f.category_id,
                    custom: CustomValues(f.custom),
                }
            })
            .collect();
        let known: Vec<&Problem> = problems
            .iter()
            .filter(|p| p.status == ProblemStatus::KnownError)
            .collect();
        let known_numbered = if known.is_empty() {
            Vec::new()
        } else {
            insert_numbered(&mut tx, tenant_id, &KNOWN_ERRORS, &known, |q, p| {
                q.bind(p.id)
                    .bind(&p.title)
                    .bind(&p.description)
                    .bind(&p.root_cause)
                    .bind(&p.workaround)
                    .bind(true)
                    .bind(now)
                    .bind(now)
            })
            .await?
        };
        for (id, _) in &known_numbered {
            reindex_known_error(&mut tx, *id).await?;
        }
        let known_errors: Vec<KnownError> = known_numbered
            .iter()
            .zip(&known)
            .map(|(&(id, number), p)| KnownError {
                id,
                number,
                problem_id: p.id,
                title: p.title.clone(),
                symptoms: p.description.clone(),
                root_cause: p.root_cause.clone(),
                workaround: p.workaround.clone(),
                active: true,
                created_at: now,
                updated_at: now,
            })
            .collect();
        let numbers: BTreeSet<i64> = rows
            .iter()
            .flat_map(|p| p.incident_numbers.iter().copied())
            .collect();
        let incidents = incident_ids(&mut tx, tenant_id, &numbers).await?;
        // (incident id, problem id), each pair once.
        let links: Vec<(i64, i64)> = numbered
            .iter()
            .zip(rows)
            .flat_map(|((problem, _), p)| {
                let mine: BTreeSet<i64> = p
                    .incident_numbers
                    .iter()
                    .filter_map(|n| incidents.get(n).copied())
                    .collect();
                mine.into_iter().map(move |incident| (incident, *problem))
            })
            .collect();
        let kind = LinkKind::CausedBy;
        let link_ids = insert_rows(
            &mut tx,
            "record_links",
            &LINK_COLUMNS,
            &links,
            |q, _, (incident, problem)| {
                q.bind(tenant_id)
                    .bind(kind.as_str())
                    .bind(RecordKind::Incident.as_str())
                    .bind(*incident)
                    .bind(RecordKind::Problem.as_str())
                    .bind(*problem)
                    .bind(now)
            },
        )
        .await?;
        // Each problem, then its known error, as a normal create journals them.
        let known_of: HashMap<i64, &KnownError> =
            known_errors.iter().map(|k| (k.problem_id, k)).collect();
        let mut changes: Vec<Change> = Vec::new();
        for problem in &problems {
            changes.push(Change::of(
                tenant_id,
                actor,
                Action::Create,
                None,
                Some(problem),
            ));
            if let Some(k) = known_of.get(&problem.id) {
                changes.push(Change::of(tenant_id, actor, Action::Create, None, Some(*k)));
            }
        }
        changes.extend(
            link_ids
                .iter()
                .zip(&links)
                .map(|(id, (incident, problem))| {
                    link_created(
                        tenant_id,
                        actor,
                        *id,
                        kind,
                        (RecordKind::Incident, *incident),
                        (RecordKind::Problem, *problem),
                    )
                }),
        );
        self.journal_many(&mut tx, changes).await?;
        tx.commit().await?;
        Ok(problems.len())
    }
}

impl Store {
    /// Refreshes the planner's statistics after a bulk load. Without it PostgreSQL may plan the
    /// first queries on a freshly loaded table as if it were empty (measured: a queue page took
    /// 364 ms before and 0.3 ms after, at a million incidents).
    pub async fn refresh_statistics(&self) -> StoreResult<()> {
        let statement = match self.backend() {
            crate::Backend::Postgres => "ANALYZE",
            crate::Backend::Sqlite => "PRAGMA optimize",
        };
        let mut tx = self.db.begin().await?;
        tx.execute(sql(statement)).await?;
        tx.commit().await
    }
}
