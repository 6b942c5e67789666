//! Incidents and their conversation.

use crate::db::{Sql, Tx, sql};
use crate::external::Imported;
use crate::journal::{Change, Record};
use crate::page::{CursorKey, Page, PageRequest, Sort, finish, paginate};
use crate::search::{matching, reindex_incident, reindex_incidents_between};
use crate::{Actor, Store, StoreError, StoreResult, now_micros};
use serde::Serialize;
use serde_json::{Map, Value};
use std::time::Duration;
use steward_domain::Invalid;
use steward_domain::incident::{
    Level, PendingReason, Priority, Source, Status, Transition, TransitionContext,
    after_requester_reply,
};
use steward_domain::journal::Action;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Incident {
    pub id: i64,
    pub number: i64,
    pub title: String,
    pub description: String,
    #[sqlx(try_from = "String")]
    pub status: Status,
    pub pending_reason: Option<String>,
    #[sqlx(try_from = "String")]
    pub impact: Level,
    #[sqlx(try_from = "String")]
    pub urgency: Level,
    #[sqlx(try_from = "String")]
    pub priority: Priority,
    pub service_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub requester_contact_id: Option<i64>,
    pub requester_user_id: Option<i64>,
    pub assignee_team_id: Option<i64>,
    pub assignee_id: Option<i64>,
    #[sqlx(try_from = "String")]
    pub source: Source,
    pub resolution_code: Option<String>,
    pub resolution_notes: String,
    pub opened_at: i64,
    pub first_response_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub category_id: Option<i64>,
    /// Values of the tenant's custom fields for incidents.
    #[sqlx(rename = "custom_json", try_from = "String")]
    pub custom: CustomValues,
}

pub use crate::custom_fields::CustomValues;

impl Incident {
    /// The key people use: `INC-42`.
    pub fn key(&self) -> String {
        format!("INC-{}", self.number)
    }

    pub fn pending(&self) -> Option<PendingReason> {
        self.pending_reason
            .as_deref()
            .and_then(PendingReason::parse)
    }

    /// What a requester's public reply at `now` would do to the incident
    /// (`after_requester_reply`): the store applies it, the portal announces it.
    pub fn after_requester_reply(&self, now: i64, reopen_window: Duration) -> Option<Transition> {
        let ctx = TransitionContext {
            now_micros: now,
            resolved_at_micros: self.resolved_at,
            resolution_code: self.resolution_code.clone(),
            pending_reason: None,
            reopen_window,
        };
        after_requester_reply(self.status, self.pending(), &ctx)
    }
}

impl Record for Incident {
    const KIND: &'static str = "incident";
    fn id(&self) -> i64 {
        self.id
    }
}

pub(crate) const COLUMNS: &str = "id, number, title, description, status, pending_reason, impact, urgency, priority, service_id, \
    customer_id, requester_contact_id, requester_user_id, assignee_team_id, assignee_id, source, resolution_code, \
    resolution_notes, opened_at, first_response_at, resolved_at, closed_at, created_at, updated_at, category_id, custom_json";

/// Every stored field an update may change; the server fills it from the domain's decisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentFields {
    pub title: String,
    pub description: String,
    pub status: Status,
    pub pending_reason: Option<PendingReason>,
    pub impact: Level,
    pub urgency: Level,
    pub priority: Priority,
    pub service_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub requester_contact_id: Option<i64>,
    pub requester_user_id: Option<i64>,
    pub assignee_team_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub source: Source,
    pub resolution_code: Option<String>,
    pub resolution_notes: String,
    pub opened_at: i64,
    pub first_response_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub category_id: Option<i64>,
    /// Custom field values, already checked (`Store::check_custom_values`).
    pub custom: Map<String, Value>,
}

impl IncidentFields {
    /// A new phone incident opened at `opened_at`: medium impact and urgency (P3), nothing
    /// assigned or classified. What tools and tests start from before setting what they need.
    pub fn new(title: &str, opened_at: i64) -> IncidentFields {
        IncidentFields {
            title: title.to_owned(),
            description: String::new(),
            status: Status::New,
            pending_reason: None,
            impact: Level::Medium,
            urgency: Level::Medium,
            priority: Priority::P3,
            service_id: None,
            customer_id: None,
            requester_contact_id: None,
            requester_user_id: None,
            assignee_team_id: None,
            assignee_id: None,
            source: Source::Phone,
            resolution_code: None,
            resolution_notes: String::new(),
            opened_at,
            first_response_at: None,
            resolved_at: None,
            closed_at: None,
            category_id: None,
            custom: Map::new(),
        }
    }

    /// An import owns the columns a CSV file carries; what people added in Steward since
    /// (assignment, requester, customer, custom values, notes, first response) survives a
    /// re-import instead of being wiped by columns the file does not have.
    pub fn keeping_local(self, current: &Incident) -> IncidentFields {
        IncidentFields {
            pending_reason: (self.status == Status::Pending)
                .then(|| self.pending_reason.or(current.pending()))
                .flatten(),
            customer_id: self.customer_id.or(current.customer_id),
            requester_contact_id: self.requester_contact_id.or(current.requester_contact_id),
            requester_user_id: self.requester_user_id.or(current.requester_user_id),
            assignee_team_id: self.assignee_team_id.or(current.assignee_team_id),
            assignee_id: self.assignee_id.or(current.assignee_id),
            first_response_at: self.first_response_at.or(current.first_response_at),
            resolution_notes: if self.resolution_notes.is_empty() {
                current.resolution_notes.clone()
            } else {
                self.resolution_notes
            },
            custom: if self.custom.is_empty() {
                current.custom.0.clone()
            } else {
                self.custom
            },
            ..self
        }
    }
}

impl From<&Incident> for IncidentFields {
    fn from(i: &Incident) -> Self {
        IncidentFields {
            title: i.title.clone(),
            description: i.description.clone(),
            status: i.status,
            pending_reason: i.pending(),
            impact: i.impact,
            urgency: i.urgency,
            priority: i.priority,
            service_id: i.service_id,
            customer_id: i.customer_id,
            requester_contact_id: i.requester_contact_id,
            requester_user_id: i.requester_user_id,
            assignee_team_id: i.assignee_team_id,
            assignee_id: i.assignee_id,
            source: i.source,
            resolution_code: i.resolution_code.clone(),
            resolution_notes: i.resolution_notes.clone(),
            opened_at: i.opened_at,
            first_response_at: i.first_response_at,
            resolved_at: i.resolved_at,
            closed_at: i.closed_at,
            category_id: i.category_id,
            custom: i.custom.0.clone(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    /// Full-text query over title, description and conversation.
    pub q: Option<String>,
    pub statuses: Vec<Status>,
    /// Only new, in progress or pending.
    pub open: bool,
    pub priority: Option<Priority>,
    pub service_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub assignee_team_id: Option<i64>,
    /// Only incidents nobody is assigned to.
    pub unassigned: bool,
    pub requester_user_id: Option<i64>,
    /// This category or any of its subcategories.
    pub category_id: Option<i64>,
    /// Custom field name and the value it must hold (text fields ignore case); only fields
    /// defined for incidents are accepted.
    pub custom: Vec<(String, String)>,
    /// Only incidents changed after this time (microseconds), for "new since you looked".
    pub changed_after: Option<i64>,
    pub sort: Option<String>,
}

/// Who writes a comment, which decides what it does to the incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    /// An agent: the first public reply marks the first response.
    Agent,
    /// The requester (portal, e-mail, API): a reply may resume or reopen the incident.
    Requester { reopen_window: Duration },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Comment {
    pub id: i64,
    pub author_id: Option<i64>,
    pub author: String,
    pub body: String,
    pub public: bool,
    pub created_at: i64,
}

/// A comment written with a bulk load (`Store::load_incidents_with_comments`): its author and
/// time are given, not taken from the actor and the clock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewComment {
    pub author_id: Option<i64>,
    pub author: String,
    pub body: String,
    pub public: bool,
    pub created_at: i64,
}

impl Record for Comment {
    const KIND: &'static str = "comment";
    fn id(&self) -> i64 {
        self.id
    }
}

pub(crate) fn select_by_id(tenant_id: i64, id: i64) -> Sql {
    sql(format!(
        "SELECT {COLUMNS} FROM incidents WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
}

/// Takes the next number of a kind of record in a tenant (INC-1, INC-2, ...), inside the
/// record's own transaction so that numbers are never skipped or shared.
pub(crate) async fn next_number(tx: &mut Tx, tenant_id: i64, kind: &str) -> StoreResult<i64> {
    take_numbers(tx, tenant_id, kind, 1).await
}

/// Takes `count` consecutive numbers of a kind of record at once; returns the first.
pub(crate) async fn take_numbers(
    tx: &mut Tx,
    tenant_id: i64,
    kind: &str,
    count: i64,
) -> StoreResult<i64> {
    // One statement, so two nodes taking a tenant's first number at once do not both insert.
    let (last,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO record_counters (tenant_id, kind, last) VALUES ($1, $2, $3) \
                 ON CONFLICT (tenant_id, kind) DO UPDATE SET last = record_counters.last + excluded.last \
                 RETURNING last")
            .bind(tenant_id)
            .bind(kind)
            .bind(count),
        )
        .await?;
    Ok(last - count + 1)
}

/// The most new incidents written in one transaction: 26 values each stays far below both
/// backends' limits on bound values, and the transaction stays short.
const MAX_GROUP: usize = 64;

/// A create waiting to be written with others.
pub(crate) struct NewIncident {
    tenant_id: i64,
    fields: IncidentFields,
    actor: Actor,
}

/// A new incident's fields, its external id (for imports) and who creates it.
type NewRow<'a> = (&'a IncidentFields, Option<&'a str>, &'a Actor);

impl NewIncident {
    fn row(&self) -> NewRow<'_> {
        (&self.fields, None, &self.actor)
    }
}

/// The one incident a single-row insert wrote.
fn only(mut created: Vec<Incident>) -> StoreResult<Incident> {
    created
        .pop()
        .filter(|_| created.is_empty())
        .ok_or_else(|| StoreError::Corrupt("one insert wrote other than one incident".into()))
}

pub(crate) fn bind_fields(q: Sql, f: &IncidentFields) -> Sql {
    q.bind(&f.title)
        .bind(&f.description)
        .bind(f.status.as_str())
        .bind(f.pending_reason.map(|p| p.as_str().to_owned()))
        .bind(f.impact.as_str())
        .bind(f.urgency.as_str())
        .bind(f.priority.as_str())
        .bind(f.service_id)
        .bind(f.customer_id)
        .bind(f.requester_contact_id)
        .bind(f.requester_user_id)
        .bind(f.assignee_team_id)
        .bind(f.assignee_id)
        .bind(f.source.as_str())
        .bind(f.resolution_code.clone())
        .bind(&f.resolution_notes)
        .bind(f.opened_at)
        .bind(f.first_response_at)
        .bind(f.resolved_at)
        .bind(f.closed_at)
        .bind(f.category_id)
        .bind(CustomValues::encode(&f.custom))
}

/// The incident list's sort (`priority`, the default, `opened_at`, `updated_at` or `number`,
/// with a leading `-` for descending).
pub(crate) fn incident_sort(requested: Option<&str>) -> Result<Sort, Invalid> {
    Sort::parse(
        requested,
        &["priority", "opened_at", "updated_at", "number"],
    )
    .ok_or_else(|| {
        Invalid::one(
            "sort",
            "sort must be priority, opened_at, updated_at or number, optionally with a leading -",
        )
    })
}

impl Store {
    /// Checks that every referenced record belongs to the tenant; reports the field otherwise.
    async fn check_incident_refs(&self, tenant_id: i64, f: &IncidentFields) -> StoreResult<()> {
        let refs = [
            ("service_id", "services", f.service_id, "Service"),
            ("customer_id", "customers", f.customer_id, "Customer"),
            (
                "requester_contact_id",
                "contacts",
                f.requester_contact_id,
                "Requester",
            ),
            (
                "requester_user_id",
                "users",
                f.requester_user_id,
                "Requester",
            ),
            ("assignee_team_id", "teams", f.assignee_team_id, "Team"),
            ("assignee_id", "users", f.assignee_id, "Assignee"),
            ("category_id", "categories", f.category_id, "Category"),
        ]
        .map(|(field, table, id, label)| (field.to_owned(), table, id, label));
        let mut errors = self.missing_refs(tenant_id, &refs).await?;
        if let (Some(team), Some(agent)) = (f.assignee_team_id, f.assignee_id) {
            let member: Option<(i64,)> = self
                .db
                .fetch_optional(
                    sql("SELECT user_id FROM team_members WHERE team_id = $1 AND user_id = $2")
                        .bind(team)
                        .bind(agent),
                )
                .await?;
            if member.is_none() && errors.errors.is_empty() {
                errors.add(
                    "assignee_id",
                    "The assignee must be a member of the assigned team",
                );
            }
        }
        errors.into_result(()).map_err(StoreError::from)
    }

    /// Creates an incident. Creates that arrive together are written in one transaction
    /// (see `group`): each still gets its own number, search entry and journal entry.
    pub async fn create_incident(
        &self,
        tenant_id: i64,
        f: &IncidentFields,
        actor: &Actor,
    ) -> StoreResult<Incident> {
        self.check_incident_refs(tenant_id, f).await?;
        let store = self.clone();
        let item = NewIncident {
            tenant_id,
            fields: f.clone(),
            actor: actor.clone(),
        };
        self.groups
            .incidents
            .submit(item, move |items| {
                let store = store.clone();
                async move { store.write_new_incidents(items).await }
            })
            .await
    }

    /// Writes each run of one tenant's new incidents in one transaction. If that fails, each
    /// is tried on its own, so that one bad incident cannot fail the others.
    async fn write_new_incidents(&self, items: Vec<NewIncident>) -> Vec<StoreResult<Incident>> {
        let mut results = Vec::with_capacity(items.len());
        for run in items.chunk_by(|a, b| a.tenant_id == b.tenant_id) {
            for chunk in run.chunks(MAX_GROUP) {
                let rows: Vec<NewRow<'_>> = chunk.iter().map(NewIncident::row).collect();
                match self.insert_incidents(chunk[0].tenant_id, &rows).await {
                    Ok(created) => results.extend(created.into_iter().map(Ok)),
                    Err(e) if rows.len() == 1 => results.push(Err(e)),
                    Err(_) => {
                        for row in &rows {
                            let alone = self.insert_incidents(chunk[0].tenant_id, &[*row]).await;
                            results.push(alone.and_then(only));
                        }
                    }
                }
            }
        }
        results
    }

    /// Inserts new incidents of one tenant in one transaction, with their search entries and
    /// journal entries; answers them in the order given.
    async fn insert_incidents(
        &self,
        tenant_id: i64,
        rows: &[NewRow<'_>],
    ) -> StoreResult<Vec<Incident>> {
        let count = i64::try_from(rows.len()).unwrap_or(i64::MAX);
        let now = now_micros();
        let mut tx = self.db.begin().await?;
        let first_number = take_numbers(&mut tx, tenant_id, "incident", count).await?;
        let mut q = sql(
            "INSERT INTO incidents (tenant_id, number, title, description, status, pending_reason, impact, urgency, priority, \
             service_id, customer_id, requester_contact_id, requester_user_id, assignee_team_id, assignee_id, source, \
             resolution_code, resolution_notes, opened_at, first_response_at, resolved_at, closed_at, category_id, custom_json, \
             created_at, updated_at, external_id) VALUES ",
        );
        for (i, (number, (f, external_id, _))) in (first_number..).zip(rows).enumerate() {
            let b = i * 26;
            let p = |k: usize| format!("${}", b + k);
            let fields: Vec<String> = (1..=25).map(p).collect();
            q = q.push(&format!(
                "{}({}, {}, {})",
                if i == 0 { "" } else { ", " },
                fields.join(", "),
                p(25),
                p(26)
            ));
            q = bind_fields(q.bind(tenant_id).bind(number), f)
                .bind(now)
                .bind(external_id.map(str::to_owned));
        }
        let mut created: Vec<Incident> = tx
            .fetch_all(q.push(&format!(" RETURNING {COLUMNS}")))
            .await?;
        created.sort_by_key(|i| i.number);
        if let (Some(first), Some(last)) = (created.first(), created.last()) {
            reindex_incidents_between(&mut tx, first.id.min(last.id), first.id.max(last.id))
                .await?;
        }
        let changes = created
            .iter()
            .zip(rows)
            .map(|(incident, (_, _, actor))| {
                Change::of(tenant_id, actor, Action::Create, None, Some(incident))
            })
            .collect();
        self.journal_many(&mut tx, changes).await?;
        tx.commit().await?;
        Ok(created)
    }

    pub async fn incident(&self, tenant_id: i64, id: i64) -> StoreResult<Incident> {
        self.db.fetch_one(select_by_id(tenant_id, id)).await
    }

    pub async fn incident_by_number(&self, tenant_id: i64, number: i64) -> StoreResult<Incident> {
        self.db
            .fetch_one(
                sql(format!(
                    "SELECT {COLUMNS} FROM incidents WHERE tenant_id = $1 AND number = $2"
                ))
                .bind(tenant_id)
                .bind(number),
            )
            .await
    }

    /// Writes new field values if the incident has not changed since `seen_updated_at`;
    /// otherwise answers `Conflict`, so two agents never silently overwrite each other.
    pub async fn update_incident(
        &self,
        tenant_id: i64,
        id: i64,
        seen_updated_at: i64,
        f: &IncidentFields,
        actor: &Actor,
    ) -> StoreResult<Incident> {
        self.check_incident_refs(tenant_id, f).await?;
        let q = sql(format!(
            "UPDATE incidents SET title = $1, description = $2, status = $3, pending_reason = $4, impact = $5, urgency = $6, \
             priority = $7, service_id = $8, customer_id = $9, requester_contact_id = $10, requester_user_id = $11, \
             assignee_team_id = $12, assignee_id = $13, source = $14, resolution_code = $15, resolution_notes = $16, \
             opened_at = $17, first_response_at = $18, resolved_at = $19, closed_at = $20, category_id = $21, \
             custom_json = $22, updated_at = $23 \
             WHERE tenant_id = $24 AND id = $25 AND updated_at = $26 RETURNING {COLUMNS}"
        ));
        let write = bind_fields(q, f)
            .bind(now_micros().max(seen_updated_at + 1))
            .bind(tenant_id)
            .bind(id)
            .bind(seen_updated_at);
        let mut tx = self.db.begin().await?;
        let before: Incident = tx.fetch_one(select_by_id(tenant_id, id)).await?;
        if before.updated_at != seen_updated_at {
            return Err(StoreError::Conflict(
                "The incident was changed by someone else; reload it and try again".into(),
            ));
        }
        let after: Incident = tx.fetch_one(write).await?;
        reindex_incident(&mut tx, id).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    /// `select` narrowed by a filter's conditions; shared by the list and its count. Only a
    /// sorted page gains from choosing the search plan (`matching_sorted`); a count reads
    /// every match either way, so it does not pay for the choice.
    async fn incident_filter(
        &self,
        select: String,
        tenant_id: i64,
        f: &IncidentFilter,
        sorted_page: bool,
    ) -> StoreResult<Sql> {
        let mut q = sql(format!("{select} WHERE tenant_id = $1")).bind(tenant_id);
        if let Some(text) = f.q.as_deref().filter(|t| !t.trim().is_empty()) {
            q = if sorted_page {
                self.matching_sorted(q, "incidents", text).await?
            } else {
                matching(self.backend(), q, "incidents", text)
            };
        }
        if let Some(after) = f.changed_after {
            q = q.push_bound(" AND updated_at > {}", after);
        }
        let statuses: Vec<Status> = if f.open {
            vec![Status::New, Status::InProgress, Status::Pending]
        } else {
            f.statuses.clone()
        };
        if !statuses.is_empty() {
            let list = statuses
                .iter()
                .map(|s| format!("'{}'", s.as_str()))
                .collect::<Vec<_>>()
                .join(", ");
            q = q.push(&format!(" AND status IN ({list})"));
        }
        if let Some(p) = f.priority {
            q = q.push_bound(" AND priority = {}", p.as_str());
        }
        for (column, value) in [
            ("service_id", f.service_id),
            ("customer_id", f.customer_id),
            ("assignee_id", f.assignee_id),
            ("assignee_team_id", f.assignee_team_id),
            ("requester_user_id", f.requester_user_id),
        ] {
            if let Some(v) = value {
                q = q.push_bound(&format!(" AND {column} = {{}}"), v);
            }
        }
        if f.unassigned {
            q = q.push(" AND assignee_id IS NULL");
        }
        self.narrow_by_common_fields(q, tenant_id, "incident", f.category_id, &f.custom)
            .await
    }

    /// How many incidents a filter matches, uncapped (for queue and saved-view counts).
    pub async fn count_incidents(&self, tenant_id: i64, f: &IncidentFilter) -> StoreResult<i64> {
        let q = self
            .incident_filter(
                "SELECT COUNT(*) FROM incidents".to_owned(),
                tenant_id,
                f,
                false,
            )
            .await?;
        let (n,): (i64,) = self.db.fetch_one(q).await?;
        Ok(n)
    }

    pub async fn incidents(
        &self,
        tenant_id: i64,
        f: &IncidentFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Incident>> {
        let sort = incident_sort(f.sort.as_deref())?;
        let q = self
            .incident_filter(
                format!("SELECT {COLUMNS} FROM incidents"),
                tenant_id,
                f,
                true,
            )
            .await?;
        let rows: Vec<Incident> = self.db.fetch_all(paginate(q, sort, page)?).await?;
        Ok(finish(rows, page, |i| match sort.column {
            "opened_at" => (CursorKey::Int(i.opened_at), i.id),
            "updated_at" => (CursorKey::Int(i.updated_at), i.id),
            "number" => (CursorKey::Int(i.number), i.id),
            _ => (CursorKey::Text(i.priority.as_str().to_owned()), i.id),
        }))
    }

    /// Creates the incident imported under `external_id`, or updates it if an earlier import
    /// created it. Returns the incident and whether it was new.
    pub async fn upsert_incident(
        &self,
        tenant_id: i64,
        external_id: &str,
        f: &IncidentFields,
        actor: &Actor,
    ) -> StoreResult<(Incident, bool)> {
        match self
            .imported(tenant_id, Imported::Incident, external_id)
            .await?
        {
            Some((id, updated_at)) => {
                let current = self.incident(tenant_id, id).await?;
                let f = f.clone().keeping_local(&current);
                Ok((
                    self.update_incident(tenant_id, id, updated_at, &f, actor)
                        .await?,
                    false,
                ))
            }
            None => {
                self.check_incident_refs(tenant_id, f).await?;
                let created = self
                    .insert_incidents(tenant_id, &[(f, Some(external_id), actor)])
                    .await?;
                Ok((only(created)?, true))
            }
        }
    }

    /// Incidents per status, uncapped, for queue counts.
    pub async fn incident_counts(&self, tenant_id: i64) -> StoreResult<Vec<(String, i64)>> {
        self.db
            .fetch_all(sql("SELECT status, COUNT(*) FROM incidents WHERE tenant_id = $1 GROUP BY status ORDER BY status").bind(tenant_id))
            .await
    }

    /// Open incidents assigned to `user_id`, and open incidents assigned to nobody.
    pub async fn incident_queue_counts(
        &self,
        tenant_id: i64,
        user_id: i64,
    ) -> StoreResult<(i64, i64)> {
        self.db
            .fetch_one(
                sql("SELECT \
                       COALESCE(SUM(CASE WHEN assignee_id = $2 THEN 1 ELSE 0 END), 0), \
                       COALESCE(SUM(CASE WHEN assignee_id IS NULL THEN 1 ELSE 0 END), 0) \
                     FROM incidents WHERE tenant_id = $1 AND status IN ('new', 'in_progress', 'pending')")
                    .bind(tenant_id)
                    .bind(user_id),
            )
            .await
    }

    /// Adds a public reply or internal note, and what it implies in the same transaction: an
    /// agent's first public reply marks the first response; a requester's reply may resume or
    /// reopen the incident (`after_requester_reply`).
    pub async fn add_incident_comment(
        &self,
        tenant_id: i64,
        incident_id: i64,
        body: &str,
        public: bool,
        author: Author,
        actor: &Actor,
    ) -> StoreResult<Comment> {
        let now = now_micros();
        let mut tx = self.db.begin().await?;
        let before: Incident = tx.fetch_one(select_by_id(tenant_id, incident_id)).await?;
        let comment: Comment = tx
            .fetch_one(
                sql("INSERT INTO comments (tenant_id, record_type, record_id, author_id, author, body, public, created_at) \
                     VALUES ($1, 'incident', $2, $3, $4, $5, $6, $7) RETURNING id, author_id, author, body, public, created_at")
                    .bind(tenant_id)
                    .bind(incident_id)
                    .bind(actor.user_id)
                    .bind(actor.label.clone())
                    .bind(body)
                    .bind(public)
                    .bind(now),
            )
            .await?;
        self.journal(
            &mut tx,
            Change {
                tenant_id,
                actor,
                action: Action::Create,
                record_type: Comment::KIND,
                record_id: comment.id,
                before: None,
                after: Some(serde_json::json!({
                    "record": before.key(), "public": public, "body": body,
                })),
            },
        )
        .await?;
        let stamp = now.max(before.updated_at + 1);
        let q = match author {
            Author::Agent if public && before.first_response_at.is_none() => Some(sql(format!(
                "UPDATE incidents SET updated_at = $1, first_response_at = $1 WHERE id = $2 RETURNING {COLUMNS}"
            ))),
            Author::Requester { reopen_window } if public => {
                before.after_requester_reply(now, reopen_window).map(|t| {
                    let resolved_at = if t.clear_resolved_at { "NULL" } else { "resolved_at" };
                    sql(format!(
                        "UPDATE incidents SET updated_at = $1, status = '{}', pending_reason = NULL, \
                         resolved_at = {resolved_at} WHERE id = $2 RETURNING {COLUMNS}",
                        t.to.as_str()
                    ))
                })
            }
            _ => None,
        };
        match q {
            Some(q) => {
                let after: Incident = tx.fetch_one(q.bind(stamp).bind(incident_id)).await?;
                let change = Change::of(
                    tenant_id,
                    actor,
                    Action::Update,
                    Some(&before),
                    Some(&after),
                );
                self.journal(&mut tx, change).await?;
            }
            None => {
                tx.execute(
                    sql("UPDATE incidents SET updated_at = $1 WHERE id = $2")
                        .bind(stamp)
                        .bind(incident_id),
                )
                .await?;
            }
        }
        reindex_incident(&mut tx, incident_id).await?;
        tx.commit().await?;
        Ok(comment)
    }

    /// The conversation of an incident, oldest first; `public_only` for requesters.
    pub async fn incident_comments(
        &self,
        tenant_id: i64,
        incident_id: i64,
        public_only: bool,
    ) -> StoreResult<Vec<Comment>> {
        let mut q = sql(
            "SELECT id, author_id, author, body, public, created_at FROM comments \
                         WHERE tenant_id = $1 AND record_type = 'incident' AND record_id = $2",
        )
        .bind(tenant_id)
        .bind(incident_id);
        if public_only {
            q = q.push(" AND public = TRUE");
        }
        self.db.fetch_all(q.push(" ORDER BY id")).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::both_backends;

    // A group whose transaction fails is written again one by one, so only the bad incident
    // fails (here: a service that does not exist, which the foreign key refuses).
    both_backends!(
        one_bad_create_does_not_fail_its_group,
        |store: Store| async move {
            let tenant = store
                .create_tenant(
                    &steward_domain::tenant::new_tenant("A").expect("draft"),
                    &Actor::cli(),
                )
                .await
                .expect("tenant");
            let item = |title: &str, service_id: Option<i64>| NewIncident {
                tenant_id: tenant.id,
                fields: IncidentFields {
                    service_id,
                    ..IncidentFields::new(title, now_micros())
                },
                actor: Actor::cli(),
            };
            let results = store
                .write_new_incidents(vec![
                    item("First", None),
                    item("Broken", Some(987_654)),
                    item("Third", None),
                ])
                .await;
            let shown: Vec<Result<String, String>> = results
                .into_iter()
                .map(|r| {
                    r.map(|i| format!("{} {}", i.key(), i.title))
                        .map_err(|e| e.to_string())
                })
                .collect();
            assert_eq!(shown[0], Ok("INC-1 First".into()));
            assert!(shown[1].is_err(), "{shown:?}");
            assert_eq!(shown[2], Ok("INC-2 Third".into()));
            assert!(store.verify_journal().await.expect("verify").is_ok());
        }
    );
}
