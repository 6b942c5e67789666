//! The service catalogue and service requests: approvals and fulfilment tasks.

use crate::custom_fields::CustomValues;
use crate::db::{Sql, Tx, sql};
use crate::external::Imported;
use crate::incident::next_number;
use crate::journal::{Change, Record};
use crate::page::{CursorKey, Page, PageRequest, Sort, finish, paginate};
use crate::{Actor, Store, StoreError, StoreResult, now_micros};
use serde::Serialize;
use serde_json::{Map, Value};
use steward_domain::Invalid;
use steward_domain::journal::Action;
use steward_domain::request::{
    Decision, FormField, ItemDraft, RequestStatus, TaskTemplate, approval_outcome, fulfilled,
};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CatalogueItem {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub category: String,
    pub fields: Vec<FormField>,
    pub approver_ids: Vec<i64>,
    pub tasks: Vec<TaskTemplate>,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct ItemRow {
    id: i64,
    name: String,
    description: String,
    category: String,
    fields_json: String,
    approvers_json: String,
    tasks_json: String,
    active: bool,
    created_at: i64,
    updated_at: i64,
}

fn json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

impl TryFrom<ItemRow> for CatalogueItem {
    type Error = StoreError;
    fn try_from(r: ItemRow) -> StoreResult<Self> {
        Ok(CatalogueItem {
            fields: json("catalogue item fields", &r.fields_json)?,
            approver_ids: json("catalogue item approvers", &r.approvers_json)?,
            tasks: json("catalogue item tasks", &r.tasks_json)?,
            id: r.id,
            name: r.name,
            description: r.description,
            category: r.category,
            active: r.active,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

impl Record for CatalogueItem {
    const KIND: &'static str = "catalogue_item";
    fn id(&self) -> i64 {
        self.id
    }
}

const ITEM_COLUMNS: &str = "id, name, description, category, fields_json, approvers_json, tasks_json, active, created_at, updated_at";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceRequest {
    pub id: i64,
    pub number: i64,
    pub item_id: i64,
    pub title: String,
    pub answers: Map<String, Value>,
    pub status: RequestStatus,
    pub requester_user_id: Option<i64>,
    pub opened_at: i64,
    pub fulfilled_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub category_id: Option<i64>,
    /// Values of the tenant's custom fields for requests.
    pub custom: CustomValues,
}

impl ServiceRequest {
    pub fn key(&self) -> String {
        format!("REQ-{}", self.number)
    }
}

impl Record for ServiceRequest {
    const KIND: &'static str = "request";
    fn id(&self) -> i64 {
        self.id
    }
}

#[derive(sqlx::FromRow)]
struct RequestRow {
    id: i64,
    number: i64,
    item_id: i64,
    title: String,
    answers_json: String,
    status: String,
    requester_user_id: Option<i64>,
    opened_at: i64,
    fulfilled_at: Option<i64>,
    closed_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
    category_id: Option<i64>,
    custom_json: String,
}

impl TryFrom<RequestRow> for ServiceRequest {
    type Error = StoreError;
    fn try_from(r: RequestRow) -> StoreResult<Self> {
        Ok(ServiceRequest {
            answers: json("request answers", &r.answers_json)?,
            status: RequestStatus::parse(&r.status)
                .ok_or_else(|| StoreError::Corrupt(format!("request status `{}`", r.status)))?,
            custom: CustomValues::try_from(r.custom_json).map_err(StoreError::Corrupt)?,
            category_id: r.category_id,
            id: r.id,
            number: r.number,
            item_id: r.item_id,
            title: r.title,
            requester_user_id: r.requester_user_id,
            opened_at: r.opened_at,
            fulfilled_at: r.fulfilled_at,
            closed_at: r.closed_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const REQUEST_COLUMNS: &str = "id, number, item_id, title, answers_json, status, requester_user_id, opened_at, fulfilled_at, \
    closed_at, created_at, updated_at, category_id, custom_json";

/// How the desk classifies a request: what agents set besides its lifecycle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestFields {
    pub category_id: Option<i64>,
    /// Custom field values, already checked (`Store::check_custom_values`).
    pub custom: Map<String, Value>,
}

impl From<&ServiceRequest> for RequestFields {
    fn from(r: &ServiceRequest) -> Self {
        RequestFields {
            category_id: r.category_id,
            custom: r.custom.0.clone(),
        }
    }
}

/// A request's own values (all but its number, item, approvals and tasks): what a new request
/// starts with, or what an import says an old one was.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestValues {
    pub title: String,
    /// Already checked against the item's form (`check_answers`).
    pub answers: Map<String, Value>,
    pub status: RequestStatus,
    pub requester_user_id: Option<i64>,
    pub opened_at: i64,
    pub fulfilled_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub fields: RequestFields,
}

/// A request for a bulk load (`Store::load_requests`): the item it answers, its values (answers
/// already checked against the item's form), and when its approvers decided, if they did. The
/// loader gives it the approvals and tasks its status implies.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRequest<'a> {
    pub item: &'a CatalogueItem,
    pub values: RequestValues,
    pub decided_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Approval {
    pub id: i64,
    pub approver_id: i64,
    #[sqlx(try_from = "String")]
    pub decision: Decision,
    pub comment: String,
    pub decided_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Task {
    pub id: i64,
    pub request_id: i64,
    pub title: String,
    pub team_id: Option<i64>,
    pub done: bool,
    pub done_at: Option<i64>,
    pub done_by: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    pub statuses: Vec<RequestStatus>,
    pub requester_user_id: Option<i64>,
    /// Only requests waiting for this user's decision.
    pub awaiting_approver: Option<i64>,
    /// This category or any of its subcategories.
    pub category_id: Option<i64>,
    /// Custom field name and the value it must hold (text fields ignore case); only fields
    /// defined for requests are accepted.
    pub custom: Vec<(String, String)>,
}

fn select_request(tenant_id: i64, id: i64) -> Sql {
    sql(format!(
        "SELECT {REQUEST_COLUMNS} FROM requests WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
}

async fn load_request(tx: &mut Tx, tenant_id: i64, id: i64) -> StoreResult<ServiceRequest> {
    tx.fetch_one::<RequestRow>(select_request(tenant_id, id))
        .await?
        .try_into()
}

impl Store {
    async fn check_users(&self, tenant_id: i64, field: &str, ids: &[i64]) -> StoreResult<()> {
        for id in ids {
            if self.user(tenant_id, *id).await.is_err() {
                return Err(Invalid::one(
                    field,
                    format!("User {id} is not a user of this organisation"),
                )
                .into());
            }
        }
        Ok(())
    }

    pub async fn save_item(
        &self,
        tenant_id: i64,
        id: Option<i64>,
        d: &ItemDraft,
        actor: &Actor,
    ) -> StoreResult<CatalogueItem> {
        self.check_users(tenant_id, "approver_ids", &d.approver_ids)
            .await?;
        let mut tx = self.db.begin().await?;
        let item = self.save_item_in(&mut tx, tenant_id, id, d, actor).await?;
        tx.commit().await?;
        Ok(item)
    }

    /// `save_item` inside `tx`, journaled there; the caller has checked the approvers.
    pub(crate) async fn save_item_in(
        &self,
        tx: &mut Tx,
        tenant_id: i64,
        id: Option<i64>,
        d: &ItemDraft,
        actor: &Actor,
    ) -> StoreResult<CatalogueItem> {
        let now = now_micros();
        let before: Option<CatalogueItem> = match id {
            Some(id) => Some(
                tx.fetch_one::<ItemRow>(sql(format!("SELECT {ITEM_COLUMNS} FROM catalogue_items WHERE tenant_id = $1 AND id = $2")).bind(tenant_id).bind(id))
                    .await?
                    .try_into()?,
            ),
            None => None,
        };
        let q = match id {
            Some(_) => sql(format!(
                "UPDATE catalogue_items SET name = $1, description = $2, category = $3, fields_json = $4, approvers_json = $5, \
                 tasks_json = $6, active = $7, updated_at = $8 WHERE tenant_id = $9 AND id = $10 RETURNING {ITEM_COLUMNS}"
            )),
            None => sql(format!(
                "INSERT INTO catalogue_items (name, description, category, fields_json, approvers_json, tasks_json, active, \
                 updated_at, tenant_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8) RETURNING {ITEM_COLUMNS}"
            )),
        }
        .bind(&d.name)
        .bind(&d.description)
        .bind(&d.category)
        .bind(to_json(&d.fields))
        .bind(to_json(&d.approver_ids))
        .bind(to_json(&d.tasks))
        .bind(d.active)
        .bind(now)
        .bind(tenant_id);
        let q = match id {
            Some(id) => q.bind(id),
            None => q,
        };
        let item: CatalogueItem = tx.fetch_one::<ItemRow>(q).await?.try_into()?;
        let action = if before.is_some() {
            Action::Update
        } else {
            Action::Create
        };
        self.journal(
            tx,
            Change::of(tenant_id, actor, action, before.as_ref(), Some(&item)),
        )
        .await?;
        Ok(item)
    }

    pub async fn item(&self, tenant_id: i64, id: i64) -> StoreResult<CatalogueItem> {
        self.db
            .fetch_one::<ItemRow>(
                sql(format!(
                    "SELECT {ITEM_COLUMNS} FROM catalogue_items WHERE tenant_id = $1 AND id = $2"
                ))
                .bind(tenant_id)
                .bind(id),
            )
            .await?
            .try_into()
    }

    /// The catalogue by category and name; `active_only` for what requesters may order.
    pub async fn items(
        &self,
        tenant_id: i64,
        active_only: bool,
    ) -> StoreResult<Vec<CatalogueItem>> {
        let mut q = sql(format!(
            "SELECT {ITEM_COLUMNS} FROM catalogue_items WHERE tenant_id = $1"
        ))
        .bind(tenant_id);
        if active_only {
            q = q.push(" AND active = TRUE");
        }
        let rows: Vec<ItemRow> = self
            .db
            .fetch_all(q.push(" ORDER BY category, name, id"))
            .await?;
        rows.into_iter().map(CatalogueItem::try_from).collect()
    }

    /// Adds a `category_id` error unless the category is one of the tenant's.
    async fn check_request_refs(&self, tenant_id: i64, f: &RequestFields) -> StoreResult<()> {
        let mut errors = Invalid::new();
        self.check_category_ref(tenant_id, f.category_id, &mut errors)
            .await?;
        errors.into_result(()).map_err(StoreError::from)
    }

    /// Raises a request from an item with already-checked answers (and classification, if the
    /// desk gave one). Without approvers it goes straight to fulfilment and its tasks are
    /// created at once.
    pub async fn create_request(
        &self,
        tenant_id: i64,
        item: &CatalogueItem,
        answers: &Map<String, Value>,
        requester_user_id: Option<i64>,
        fields: &RequestFields,
        actor: &Actor,
    ) -> StoreResult<ServiceRequest> {
        let now = now_micros();
        let values = RequestValues {
            title: item.name.clone(),
            answers: answers.clone(),
            status: RequestStatus::initial(!item.approver_ids.is_empty()),
            requester_user_id,
            opened_at: now,
            fulfilled_at: None,
            closed_at: None,
            fields: fields.clone(),
        };
        self.insert_request(tenant_id, item, &values, now, None, actor)
            .await
    }

    /// Inserts a request created at `now`, with what its status waits on (`open_work`),
    /// journaled.
    async fn insert_request(
        &self,
        tenant_id: i64,
        item: &CatalogueItem,
        r: &RequestValues,
        now: i64,
        external_id: Option<&str>,
        actor: &Actor,
    ) -> StoreResult<ServiceRequest> {
        self.check_request_refs(tenant_id, &r.fields).await?;
        let mut tx = self.db.begin().await?;
        let number = next_number(&mut tx, tenant_id, "request").await?;
        let row: RequestRow = tx
            .fetch_one(
                sql(format!(
                    "INSERT INTO requests (tenant_id, number, item_id, title, answers_json, status, requester_user_id, opened_at, \
                     fulfilled_at, closed_at, created_at, updated_at, category_id, custom_json, external_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13, $14) RETURNING {REQUEST_COLUMNS}"
                ))
                .bind(tenant_id)
                .bind(number)
                .bind(item.id)
                .bind(&r.title)
                .bind(Value::Object(r.answers.clone()).to_string())
                .bind(r.status.as_str())
                .bind(r.requester_user_id)
                .bind(r.opened_at)
                .bind(r.fulfilled_at)
                .bind(r.closed_at)
                .bind(now)
                .bind(r.fields.category_id)
                .bind(CustomValues::encode(&r.fields.custom))
                .bind(external_id.map(str::to_owned)),
            )
            .await?;
        let request = ServiceRequest::try_from(row)?;
        open_work(&mut tx, tenant_id, &request, item).await?;
        self.commit_created(tx, tenant_id, actor, request).await
    }

    /// Creates the request imported under `external_id`, or rewrites it if an earlier import
    /// created it. Its status is taken as given; it gets what that status waits on (pending
    /// approvals, or fulfilment tasks) only if it has none yet. Returns the request and whether
    /// it was new.
    pub async fn upsert_request(
        &self,
        tenant_id: i64,
        external_id: &str,
        item: &CatalogueItem,
        r: &RequestValues,
        actor: &Actor,
    ) -> StoreResult<(ServiceRequest, bool)> {
        if let Some(requester) = r.requester_user_id {
            self.check_users(tenant_id, "requester_user_id", &[requester])
                .await?;
        }
        let Some((id, updated_at)) = self
            .imported(tenant_id, Imported::Request, external_id)
            .await?
        else {
            return Ok((
                self.insert_request(tenant_id, item, r, now_micros(), Some(external_id), actor)
                    .await?,
                true,
            ));
        };
        self.check_request_refs(tenant_id, &r.fields).await?;
        let set = sql(
            "UPDATE requests SET item_id = $1, title = $2, answers_json = $3, status = $4, requester_user_id = $5, \
             opened_at = $6, fulfilled_at = $7, closed_at = $8, category_id = $9, custom_json = $10",
        )
        .bind(item.id)
        .bind(&r.title)
        .bind(Value::Object(r.answers.clone()).to_string())
        .bind(r.status.as_str())
        .bind(r.requester_user_id)
        .bind(r.opened_at)
        .bind(r.fulfilled_at)
        .bind(r.closed_at)
        .bind(r.fields.category_id)
        .bind(CustomValues::encode(&r.fields.custom));
        let after = self
            .rewrite_request(tenant_id, id, updated_at, set, Some(item), actor)
            .await?;
        Ok((after, false))
    }

    /// Writes a request's classification if the request has not changed since
    /// `seen_updated_at`; otherwise answers `Conflict`. Its lifecycle is left alone.
    pub async fn update_request(
        &self,
        tenant_id: i64,
        id: i64,
        seen_updated_at: i64,
        f: &RequestFields,
        actor: &Actor,
    ) -> StoreResult<ServiceRequest> {
        self.reclassify_request(tenant_id, id, seen_updated_at, f, None, actor)
            .await
    }

    /// Writes a request's classification and, with `status`, a manual status change, in one
    /// transaction and one journal entry. The caller has checked `status` against
    /// `manual_next` of the version it read; the `seen_updated_at` condition keeps it that one.
    pub async fn reclassify_request(
        &self,
        tenant_id: i64,
        id: i64,
        seen_updated_at: i64,
        f: &RequestFields,
        status: Option<RequestStatus>,
        actor: &Actor,
    ) -> StoreResult<ServiceRequest> {
        self.check_request_refs(tenant_id, f).await?;
        let mut set = sql("UPDATE requests SET category_id = $1, custom_json = $2")
            .bind(f.category_id)
            .bind(CustomValues::encode(&f.custom));
        if let Some(to) = status {
            set = set
                .push_bound(", status = {}", to.as_str())
                .push_bound(", closed_at = {}", to.is_terminal().then(now_micros));
            if to == RequestStatus::InFulfilment {
                set = set.push(", fulfilled_at = NULL");
            }
        }
        self.rewrite_request(tenant_id, id, seen_updated_at, set, None, actor)
            .await
    }

    /// Runs `set` (an `UPDATE requests SET ...` without its condition) if the request has not
    /// changed since `seen_updated_at`, and journals it. With an item, the request also gets
    /// what its new status waits on (`open_work`).
    async fn rewrite_request(
        &self,
        tenant_id: i64,
        id: i64,
        seen_updated_at: i64,
        set: Sql,
        item: Option<&CatalogueItem>,
        actor: &Actor,
    ) -> StoreResult<ServiceRequest> {
        let mut tx = self.db.begin().await?;
        let before = load_request(&mut tx, tenant_id, id).await?;
        if before.updated_at != seen_updated_at {
            return Err(StoreError::Conflict(
                "The request was changed by someone else; reload it and try again".into(),
            ));
        }
        let write = set
            .push_bound(", updated_at = {}", now_micros().max(seen_updated_at + 1))
            .push_bound(" WHERE tenant_id = {}", tenant_id)
            .push_bound(" AND id = {}", id)
            .push_bound(" AND updated_at = {}", seen_updated_at)
            .push(&format!(" RETURNING {REQUEST_COLUMNS}"));
        let after: ServiceRequest = tx.fetch_one::<RequestRow>(write).await?.try_into()?;
        if let Some(item) = item {
            open_work(&mut tx, tenant_id, &after, item).await?;
        }
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    pub async fn request(&self, tenant_id: i64, id: i64) -> StoreResult<ServiceRequest> {
        self.db
            .fetch_one::<RequestRow>(select_request(tenant_id, id))
            .await?
            .try_into()
    }

    pub async fn request_by_number(
        &self,
        tenant_id: i64,
        number: i64,
    ) -> StoreResult<ServiceRequest> {
        self.db
            .fetch_one::<RequestRow>(
                sql(format!(
                    "SELECT {REQUEST_COLUMNS} FROM requests WHERE tenant_id = $1 AND number = $2"
                ))
                .bind(tenant_id)
                .bind(number),
            )
            .await?
            .try_into()
    }

    pub async fn requests(
        &self,
        tenant_id: i64,
        f: &RequestFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<ServiceRequest>> {
        let mut q = sql(format!(
            "SELECT {REQUEST_COLUMNS} FROM requests WHERE tenant_id = $1"
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
        if let Some(user) = f.requester_user_id {
            q = q.push_bound(" AND requester_user_id = {}", user);
        }
        if let Some(approver) = f.awaiting_approver {
            q = q.push_bound(
                " AND status = 'pending_approval' AND id IN (SELECT request_id FROM request_approvals WHERE approver_id = {} AND decision = 'pending')",
                approver,
            );
        }
        let q = self
            .narrow_by_common_fields(q, tenant_id, "request", f.category_id, &f.custom)
            .await?;
        let sort = Sort {
            column: "number",
            descending: true,
        };
        let rows: Vec<RequestRow> = self.db.fetch_all(paginate(q, sort, page)?).await?;
        let items = rows
            .into_iter()
            .map(ServiceRequest::try_from)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(finish(items, page, |r| (CursorKey::Int(r.number), r.id)))
    }

    pub async fn approvals(&self, tenant_id: i64, request_id: i64) -> StoreResult<Vec<Approval>> {
        self.db
            .fetch_all(
                sql("SELECT id, approver_id, decision, comment, decided_at FROM request_approvals WHERE tenant_id = $1 AND request_id = $2 ORDER BY id")
                    .bind(tenant_id)
                    .bind(request_id),
            )
            .await
    }

    pub async fn tasks(&self, tenant_id: i64, request_id: i64) -> StoreResult<Vec<Task>> {
        self.db
            .fetch_all(
                sql("SELECT id, request_id, title, team_id, done, done_at, done_by FROM request_tasks WHERE tenant_id = $1 AND request_id = $2 ORDER BY id")
                    .bind(tenant_id)
                    .bind(request_id),
            )
            .await
    }

    /// Records an approver's decision; when the decisions settle the request, moves it on
    /// (rejected, or into fulfilment with its tasks). Only a pending approval of this approver counts.
    pub async fn decide(
        &self,
        tenant_id: i64,
        request_id: i64,
        approver_id: i64,
        decision: Decision,
        comment: &str,
        actor: &Actor,
    ) -> StoreResult<ServiceRequest> {
        let now = now_micros();
        let mut tx = self.db.begin().await?;
        let before = load_request(&mut tx, tenant_id, request_id).await?;
        if before.status != RequestStatus::PendingApproval {
            return Err(StoreError::Conflict(format!(
                "{} is not waiting for approval",
                before.key()
            )));
        }
        let changed = tx
            .execute(
                sql("UPDATE request_approvals SET decision = $1, comment = $2, decided_at = $3 \
                     WHERE tenant_id = $4 AND request_id = $5 AND approver_id = $6 AND decision = 'pending'")
                .bind(decision.as_str())
                .bind(comment)
                .bind(now)
                .bind(tenant_id)
                .bind(request_id)
                .bind(approver_id),
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::Conflict(
                "You have no pending approval on this request".into(),
            ));
        }
        let decisions: Vec<(String,)> = tx
            .fetch_all(
                sql("SELECT decision FROM request_approvals WHERE request_id = $1")
                    .bind(request_id),
            )
            .await?;
        let decisions: Vec<Decision> = decisions
            .iter()
            .filter_map(|(d,)| Decision::parse(d))
            .collect();
        let next = approval_outcome(&decisions);
        if let Some(status) = next {
            let closed = (status == RequestStatus::Rejected).then_some(now);
            tx.execute(
                sql("UPDATE requests SET status = $1, closed_at = $2, updated_at = $3 WHERE id = $4")
                    .bind(status.as_str())
                    .bind(closed)
                    .bind(now)
                    .bind(request_id),
            )
            .await?;
            if status == RequestStatus::InFulfilment {
                let item = self.item(tenant_id, before.item_id).await?;
                spawn_tasks(&mut tx, tenant_id, request_id, &item.tasks).await?;
            }
        }
        let change = Change {
            tenant_id,
            actor,
            action: Action::Update,
            record_type: ServiceRequest::KIND,
            record_id: request_id,
            before: Some(serde_json::json!({ "status": before.status.as_str() })),
            after: Some(serde_json::json!({
                "approval": decision.as_str(), "approver_id": approver_id, "comment": comment,
                "status": next.unwrap_or(before.status).as_str(),
            })),
        };
        self.journal(&mut tx, change).await?;
        let after = load_request(&mut tx, tenant_id, request_id).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Marks a fulfilment task done; the last one fulfils the request.
    pub async fn complete_task(
        &self,
        tenant_id: i64,
        task_id: i64,
        actor: &Actor,
    ) -> StoreResult<ServiceRequest> {
        let now = now_micros();
        let mut tx = self.db.begin().await?;
        let task: Task = tx
            .fetch_one(
                sql("SELECT id, request_id, title, team_id, done, done_at, done_by FROM request_tasks WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant_id)
                    .bind(task_id),
            )
            .await?;
        let request = load_request(&mut tx, tenant_id, task.request_id).await?;
        if task.done || request.status != RequestStatus::InFulfilment {
            return Err(StoreError::Conflict(
                "This task is already done or its request is not in fulfilment".into(),
            ));
        }
        tx.execute(
            sql("UPDATE request_tasks SET done = TRUE, done_at = $1, done_by = $2 WHERE id = $3")
                .bind(now)
                .bind(actor.label.clone())
                .bind(task_id),
        )
        .await?;
        let done: Vec<(bool,)> = tx
            .fetch_all(
                sql("SELECT done FROM request_tasks WHERE request_id = $1").bind(task.request_id),
            )
            .await?;
        let all_done = fulfilled(&done.iter().map(|(d,)| *d).collect::<Vec<_>>());
        let status = if all_done {
            RequestStatus::Fulfilled
        } else {
            request.status
        };
        tx.execute(
            sql(
                "UPDATE requests SET status = $1, fulfilled_at = $2, updated_at = $3 WHERE id = $4",
            )
            .bind(status.as_str())
            .bind(all_done.then_some(now))
            .bind(now)
            .bind(task.request_id),
        )
        .await?;
        let change = Change {
            tenant_id,
            actor,
            action: Action::Update,
            record_type: ServiceRequest::KIND,
            record_id: task.request_id,
            before: Some(
                serde_json::json!({ "task": task.title, "done": false, "status": request.status.as_str() }),
            ),
            after: Some(
                serde_json::json!({ "task": task.title, "done": true, "status": status.as_str() }),
            ),
        };
        self.journal(&mut tx, change).await?;
        let after = load_request(&mut tx, tenant_id, task.request_id).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// A status change a person makes (cancel, close, reopen a fulfilled request).
    pub async fn set_request_status(
        &self,
        tenant_id: i64,
        request_id: i64,
        to: RequestStatus,
        actor: &Actor,
    ) -> StoreResult<ServiceRequest> {
        let now = now_micros();
        let mut tx = self.db.begin().await?;
        let before = load_request(&mut tx, tenant_id, request_id).await?;
        if !before.status.manual_next().contains(&to) {
            let allowed = before
                .status
                .manual_next()
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            return Err(StoreError::Conflict(format!(
                "{} cannot go from {} to {to}; allowed: {allowed}",
                before.key(),
                before.status
            )));
        }
        let closed = to.is_terminal().then_some(now);
        let fulfilled_at = if to == RequestStatus::InFulfilment {
            None
        } else {
            before.fulfilled_at
        };
        tx.execute(
            sql("UPDATE requests SET status = $1, closed_at = $2, fulfilled_at = $3, updated_at = $4 WHERE id = $5")
                .bind(to.as_str())
                .bind(closed)
                .bind(fulfilled_at)
                .bind(now)
                .bind(request_id),
        )
        .await?;
        let after = load_request(&mut tx, tenant_id, request_id).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }
}

/// Gives a request what its status waits on, unless it has some already: pending approvals
/// from the item's approvers while it awaits approval, the item's tasks while in fulfilment.
async fn open_work(
    tx: &mut Tx,
    tenant_id: i64,
    request: &ServiceRequest,
    item: &CatalogueItem,
) -> StoreResult<()> {
    let table = match request.status {
        RequestStatus::PendingApproval => "request_approvals",
        RequestStatus::InFulfilment => "request_tasks",
        _ => return Ok(()),
    };
    let (existing,): (i64,) = tx
        .fetch_one(
            sql(format!(
                "SELECT COUNT(*) FROM {table} WHERE tenant_id = $1 AND request_id = $2"
            ))
            .bind(tenant_id)
            .bind(request.id),
        )
        .await?;
    if existing > 0 {
        return Ok(());
    }
    if request.status == RequestStatus::InFulfilment {
        return spawn_tasks(tx, tenant_id, request.id, &item.tasks).await;
    }
    for approver in &item.approver_ids {
        tx.execute(
            sql("INSERT INTO request_approvals (tenant_id, request_id, approver_id, decision, comment) VALUES ($1, $2, $3, 'pending', '')")
                .bind(tenant_id)
                .bind(request.id)
                .bind(*approver),
        )
        .await?;
    }
    Ok(())
}

async fn spawn_tasks(
    tx: &mut Tx,
    tenant_id: i64,
    request_id: i64,
    tasks: &[TaskTemplate],
) -> StoreResult<()> {
    for t in tasks {
        tx.execute(
            sql("INSERT INTO request_tasks (tenant_id, request_id, title, team_id, done) VALUES ($1, $2, $3, $4, FALSE)")
                .bind(tenant_id)
                .bind(request_id)
                .bind(&t.title)
                .bind(t.team_id),
        )
        .await?;
    }
    Ok(())
}

/// JSON text of the lists a catalogue item keeps (they always serialise).
fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}
