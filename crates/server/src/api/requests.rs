//! `/catalogue-items` and `/requests`: the service catalogue and what people order from it.

use super::incidents::{Scope, scope};
use super::{ApiJson, ApiPath, ApiQuery, KeyRef, ListOf, nullable, opt_time, time};
use crate::AppState;
use crate::auth::{Can, Principal, perm};
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::request::{
    Decision, FormField, ItemDraft, RequestStatus, TaskTemplate, check_answers,
};
use steward_store::PageRequest;
use steward_store::request::{
    Approval, CatalogueItem, RequestFields, RequestFilter, ServiceRequest, Task,
};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemOut {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub category: String,
    pub fields: Vec<FormField>,
    /// Users who must all approve; empty means no approval.
    pub approver_ids: Vec<i64>,
    pub tasks: Vec<TaskTemplate>,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<CatalogueItem> for ItemOut {
    fn from(i: CatalogueItem) -> Self {
        ItemOut {
            id: i.id,
            name: i.name,
            description: i.description,
            category: i.category,
            fields: i.fields,
            approver_ids: i.approver_ids,
            tasks: i.tasks,
            active: i.active,
            created_at: time(i.created_at),
            updated_at: time(i.updated_at),
        }
    }
}

/// A catalogue item as an admin defines it (the whole definition, also for updates).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub fields: Vec<FormField>,
    #[serde(default)]
    pub approver_ids: Vec<i64>,
    #[serde(default)]
    pub tasks: Vec<TaskTemplate>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

impl ItemInput {
    fn draft(self) -> Result<ItemDraft, Invalid> {
        ItemDraft {
            name: self.name,
            description: self.description,
            category: self.category,
            fields: self.fields,
            approver_ids: self.approver_ids,
            tasks: self.tasks,
            active: self.active,
        }
        .validate()
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ItemQuery {
    /// Include retired items (catalogue managers only).
    pub all: Option<bool>,
}

#[utoipa::path(get, path = "/catalogue-items", tag = "requests", params(ItemQuery),
    responses((status = 200, body = Vec<ItemOut>), (status = 401, body = Problem)))]
pub async fn list_items(
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(q): ApiQuery<ItemQuery>,
) -> ApiResult<Json<Vec<ItemOut>>> {
    scope(&who)?;
    let all = q.all.unwrap_or(false) && who.can(Permission::ServicesWrite);
    let items = state.store.items(who.tenant_id(), !all).await?;
    Ok(Json(items.into_iter().map(ItemOut::from).collect()))
}

#[utoipa::path(post, path = "/catalogue-items", tag = "requests", request_body = ItemInput,
    responses((status = 201, body = ItemOut), (status = 422, body = Problem), (status = 403, body = Problem)))]
pub async fn create_item(
    State(state): State<AppState>,
    who: Can<perm::ServicesWrite>,
    ApiJson(body): ApiJson<ItemInput>,
) -> ApiResult<(StatusCode, Json<ItemOut>)> {
    let item = state
        .store
        .save_item(who.tenant_id(), None, &body.draft()?, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(item.into())))
}

async fn visible_item(state: &AppState, who: &Principal, id: i64) -> ApiResult<CatalogueItem> {
    scope(who)?;
    let item = state.store.item(who.tenant_id(), id).await?;
    if !item.active && !who.can(Permission::ServicesWrite) {
        return Err(ApiError::not_found());
    }
    Ok(item)
}

#[utoipa::path(get, path = "/catalogue-items/{id}", tag = "requests", params(("id" = i64, Path)),
    responses((status = 200, body = ItemOut), (status = 404, body = Problem)))]
pub async fn get_item(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ItemOut>> {
    Ok(Json(visible_item(&state, &who, id).await?.into()))
}

#[utoipa::path(put, path = "/catalogue-items/{id}", tag = "requests", params(("id" = i64, Path)), request_body = ItemInput,
    responses((status = 200, body = ItemOut), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn replace_item(
    State(state): State<AppState>,
    who: Can<perm::ServicesWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ItemInput>,
) -> ApiResult<Json<ItemOut>> {
    let item = state
        .store
        .save_item(who.tenant_id(), Some(id), &body.draft()?, &who.actor())
        .await?;
    Ok(Json(item.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalOut {
    pub approver_id: i64,
    pub decision: Decision,
    pub comment: String,
    pub decided_at: Option<String>,
}

impl From<Approval> for ApprovalOut {
    fn from(a: Approval) -> Self {
        ApprovalOut {
            approver_id: a.approver_id,
            decision: a.decision,
            comment: a.comment,
            decided_at: opt_time(a.decided_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskOut {
    pub id: i64,
    pub title: String,
    pub team_id: Option<i64>,
    pub done: bool,
    pub done_at: Option<String>,
    pub done_by: Option<String>,
}

impl From<Task> for TaskOut {
    fn from(t: Task) -> Self {
        TaskOut {
            id: t.id,
            title: t.title,
            team_id: t.team_id,
            done: t.done,
            done_at: opt_time(t.done_at),
            done_by: t.done_by,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RequestOut {
    pub id: i64,
    /// `REQ-n`.
    pub key: String,
    pub item_id: i64,
    pub title: String,
    #[schema(value_type = Object)]
    pub answers: Map<String, Value>,
    pub status: RequestStatus,
    pub requester_user_id: Option<i64>,
    pub opened_at: String,
    pub fulfilled_at: Option<String>,
    pub closed_at: Option<String>,
    pub updated_at: String,
    pub approvals: Vec<ApprovalOut>,
    pub tasks: Vec<TaskOut>,
    /// See `/categories`; set by the service desk.
    pub category_id: Option<i64>,
    /// Values of the organisation's custom fields (see `/custom-fields/request`); set by the
    /// service desk.
    #[schema(value_type = Object)]
    pub custom: Map<String, Value>,
    /// The request's SLA clocks (see `/requests/{key}/sla`); on `GET /requests/{key}`, for agents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sla: Option<Vec<super::sla::ClockOut>>,
}

/// A request with its approvals and tasks, as the API and pages show it.
pub async fn request_out(
    state: &AppState,
    tenant_id: i64,
    r: ServiceRequest,
) -> ApiResult<RequestOut> {
    let approvals = state.store.approvals(tenant_id, r.id).await?;
    let tasks = state.store.tasks(tenant_id, r.id).await?;
    Ok(RequestOut {
        key: r.key(),
        id: r.id,
        item_id: r.item_id,
        title: r.title,
        answers: r.answers,
        status: r.status,
        requester_user_id: r.requester_user_id,
        opened_at: time(r.opened_at),
        fulfilled_at: opt_time(r.fulfilled_at),
        closed_at: opt_time(r.closed_at),
        updated_at: time(r.updated_at),
        approvals: approvals.into_iter().map(ApprovalOut::from).collect(),
        tasks: tasks.into_iter().map(TaskOut::from).collect(),
        category_id: r.category_id,
        custom: r.custom.0,
        sla: None,
    })
}

/// Finds a request by key (`REQ-5`) or id, within what the caller may see. Approvers see the
/// requests they are asked to decide.
pub async fn find_request(
    state: &AppState,
    who: &Principal,
    key: &str,
) -> ApiResult<ServiceRequest> {
    let scope = scope(who)?;
    let request = match KeyRef::parse(key, "REQ")? {
        KeyRef::Number(n) => state.store.request_by_number(who.tenant_id(), n).await?,
        KeyRef::Id(id) => state.store.request(who.tenant_id(), id).await?,
    };
    if let Scope::Own(user) = scope
        && request.requester_user_id != Some(user)
        && !state
            .store
            .approvals(who.tenant_id(), request.id)
            .await?
            .iter()
            .any(|a| a.approver_id == user)
    {
        return Err(ApiError::not_found());
    }
    Ok(request)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RequestQuery {
    /// Comma-separated statuses.
    pub status: Option<String>,
    /// Only requests waiting for the caller's approval.
    pub awaiting_me: Option<bool>,
    /// This category or any of its subcategories.
    pub category_id: Option<i64>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Lists the requests the caller may see.
#[utoipa::path(get, path = "/requests", tag = "requests", params(RequestQuery),
    description = super::CUSTOM_FILTERS_DOC,
    responses((status = 200, body = ListOf<RequestOut>), (status = 400, body = Problem),
        (status = 422, body = Problem, description = "An unknown cursor or custom field (`custom.<name>`)")))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(q): ApiQuery<RequestQuery>,
    super::CustomFilters(custom): super::CustomFilters,
) -> ApiResult<Json<ListOf<RequestOut>>> {
    let awaiting = q.awaiting_me.unwrap_or(false);
    let requester_user_id = match scope(&who)? {
        Scope::Own(user) if !awaiting => Some(user),
        _ => None,
    };
    let statuses = match q.status.as_deref() {
        Some(text) => text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                RequestStatus::parse(s)
                    .ok_or_else(|| ApiError::bad_request(format!("unknown status `{s}`")))
            })
            .collect::<ApiResult<Vec<_>>>()?,
        None => Vec::new(),
    };
    let filter = RequestFilter {
        statuses,
        requester_user_id,
        awaiting_approver: awaiting.then_some(who.user.id),
        category_id: q.category_id,
        custom,
    };
    let page = PageRequest {
        limit: q.limit,
        cursor: q.cursor,
    };
    let found = state
        .store
        .requests(who.tenant_id(), &filter, &page)
        .await?;
    let mut items = Vec::with_capacity(found.items.len());
    for r in found.items {
        items.push(request_out(&state, who.tenant_id(), r).await?);
    }
    Ok(Json(ListOf {
        items,
        next_cursor: found.next_cursor,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestCreate {
    /// The catalogue item ordered.
    pub item_id: i64,
    /// Answers to the item's form, by field name.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub answers: Map<String, Value>,
    /// Agents only: a live category (see `/categories`).
    #[serde(default)]
    pub category_id: Option<i64>,
    /// Agents only: values of the custom fields for requests, by field name. Required fields
    /// may be left for later: they are enforced when an agent edits the request.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub custom: Map<String, Value>,
}

/// Raises a request for the caller (requesters and agents alike); shared by API and portal.
pub async fn raise(
    state: &AppState,
    who: &Principal,
    body: RequestCreate,
) -> ApiResult<ServiceRequest> {
    if !who.can(Permission::RecordsOwn) {
        return Err(ApiError::forbidden());
    }
    let item = visible_item(state, who, body.item_id)
        .await
        .map_err(|_| ApiError::invalid(Invalid::one("item_id", "No such catalogue item")))?;
    if !item.active {
        return Err(Invalid::one("item_id", "This catalogue item is retired").into());
    }
    let answers = check_answers(&item.fields, &body.answers)?;
    if !who.can(Permission::RecordsWrite) {
        let mut refused = Invalid::new();
        if body.category_id.is_some() {
            refused.add("category_id", "Requesters cannot categorise requests");
        }
        if !body.custom.is_empty() {
            refused.add("custom", "Requesters cannot set custom fields");
        }
        refused.into_result(())?;
    }
    if let Some(category) = body.category_id {
        super::categories::check_live(state, who.tenant_id(), category).await?;
    }
    // Ordering from the catalogue never waits on the desk's required fields.
    let custom = state
        .store
        .check_custom_values(who.tenant_id(), "request", &body.custom, false)
        .await?;
    let fields = RequestFields {
        category_id: body.category_id,
        custom,
    };
    Ok(state
        .store
        .create_request(
            who.tenant_id(),
            &item,
            &answers,
            Some(who.user.id),
            &fields,
            &who.actor(),
        )
        .await?)
}

#[utoipa::path(post, path = "/requests", tag = "requests", request_body = RequestCreate,
    responses((status = 201, body = RequestOut), (status = 422, body = Problem), (status = 403, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    who: Principal,
    ApiJson(body): ApiJson<RequestCreate>,
) -> ApiResult<(StatusCode, Json<RequestOut>)> {
    let request = raise(&state, &who, body).await?;
    Ok((
        StatusCode::CREATED,
        Json(request_out(&state, who.tenant_id(), request).await?),
    ))
}

#[utoipa::path(get, path = "/requests/{key}", tag = "requests", params(("key" = String, Path, description = "REQ-5 or the numeric id")),
    responses((status = 200, body = RequestOut), (status = 404, body = Problem)))]
pub async fn get_one(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<RequestOut>> {
    let request = find_request(&state, &who, &key).await?;
    let sla = super::sla::clocks_for(
        &state,
        &who,
        steward_domain::sla::RecordKind::Request,
        request.id,
    )
    .await?;
    Ok(Json(RequestOut {
        sla,
        ..request_out(&state, who.tenant_id(), request).await?
    }))
}

/// What the desk changes on a request: its status, its category and custom fields.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestPatch {
    /// `cancelled`, `closed` (once fulfilled) or `in_fulfilment` (reopen a fulfilled request).
    pub status: Option<RequestStatus>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub category_id: Option<Option<i64>>,
    /// Custom values to change, merged into the current ones; `null` clears a value. Required
    /// fields must then hold a value.
    #[schema(value_type = Option<Object>)]
    pub custom: Option<Map<String, Value>>,
}

/// Applies an agent's patch: everything is checked before anything is written; the
/// classification is saved first, then the status change. Shared by API and UI.
pub async fn change_request(
    state: &AppState,
    who: &Principal,
    key: &str,
    patch: RequestPatch,
) -> ApiResult<ServiceRequest> {
    if !who.can(Permission::RecordsWrite) {
        return Err(ApiError::forbidden());
    }
    let request = find_request(state, who, key).await?;
    let classify = patch.category_id.is_some() || patch.custom.is_some();
    if classify && request.status.is_terminal() {
        return Err(ApiError::frozen(&request.key(), &request.status));
    }
    if let Some(to) = patch.status
        && !request.status.manual_next().contains(&to)
    {
        return Err(ApiError::transition(
            format!(
                "{} cannot go from {} to {to}",
                request.key(),
                request.status
            ),
            request
                .status
                .manual_next()
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
        ));
    }
    let mut f = RequestFields::from(&request);
    if let Some(category) = patch.category_id.filter(|c| *c != request.category_id) {
        if let Some(id) = category {
            super::categories::check_live(state, who.tenant_id(), id).await?;
        }
        f.category_id = category;
    }
    if let Some(changes) = patch.custom {
        f.custom = state
            .store
            .check_custom_values(
                who.tenant_id(),
                "request",
                &super::merge_custom(&f.custom, changes),
                true,
            )
            .await?;
    }
    if f == RequestFields::from(&request) && patch.status.is_none() {
        return Ok(request);
    }
    // Classification and status change land together or not at all.
    Ok(state
        .store
        .reclassify_request(
            who.tenant_id(),
            request.id,
            request.updated_at,
            &f,
            patch.status,
            &who.actor(),
        )
        .await?)
}

#[utoipa::path(patch, path = "/requests/{key}", tag = "requests", params(("key" = String, Path)), request_body = RequestPatch,
    description = "For the service desk: requesters see their requests but cannot change them here.",
    responses((status = 200, body = RequestOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<RequestPatch>,
) -> ApiResult<Json<RequestOut>> {
    let updated = change_request(&state, &who, &key, body).await?;
    Ok(Json(request_out(&state, who.tenant_id(), updated).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    /// `approved` or `rejected`.
    pub decision: Decision,
    #[serde(default)]
    pub comment: String,
}

/// Whether the caller's role may decide approvals at all. Being named an approver does not
/// lift a read-only role (auditor) into deciding.
pub fn may_decide(who: &Principal) -> bool {
    who.can(Permission::RecordsWrite) || who.can(Permission::RecordsOwn)
}

/// Records the caller's approval decision; shared by API and UI.
pub async fn decide(
    state: &AppState,
    who: &Principal,
    key: &str,
    body: DecisionInput,
) -> ApiResult<ServiceRequest> {
    if !may_decide(who) {
        return Err(ApiError::forbidden());
    }
    if body.decision == Decision::Pending {
        return Err(Invalid::one("decision", "Decide approved or rejected").into());
    }
    if body.decision == Decision::Rejected && body.comment.trim().is_empty() {
        return Err(Invalid::one("comment", "Say why the request is rejected").into());
    }
    let request = find_request(state, who, key).await?;
    Ok(state
        .store
        .decide(
            who.tenant_id(),
            request.id,
            who.user.id,
            body.decision,
            body.comment.trim(),
            &who.actor(),
        )
        .await?)
}

#[utoipa::path(post, path = "/requests/{key}/approvals", tag = "requests", params(("key" = String, Path)), request_body = DecisionInput,
    description = "The caller approves or rejects, if they are one of the request's approvers with a pending decision.",
    responses((status = 200, body = RequestOut), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn approve(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<DecisionInput>,
) -> ApiResult<Json<RequestOut>> {
    let request = decide(&state, &who, &key, body).await?;
    Ok(Json(request_out(&state, who.tenant_id(), request).await?))
}

/// Marks a fulfilment task of a request done; shared by API and UI.
pub async fn finish_task(
    state: &AppState,
    who: &Principal,
    key: &str,
    task_id: i64,
) -> ApiResult<ServiceRequest> {
    let request = find_request(state, who, key).await?;
    let tasks = state.store.tasks(who.tenant_id(), request.id).await?;
    if !tasks.iter().any(|t| t.id == task_id) {
        return Err(ApiError::not_found());
    }
    Ok(state
        .store
        .complete_task(who.tenant_id(), task_id, &who.actor())
        .await?)
}

#[utoipa::path(post, path = "/requests/{key}/tasks/{task_id}/complete", tag = "requests",
    params(("key" = String, Path), ("task_id" = i64, Path)),
    description = "Marks a fulfilment task done; when the last task is done the request is fulfilled.",
    responses((status = 200, body = RequestOut), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn complete_task(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    ApiPath((key, task_id)): ApiPath<(String, i64)>,
) -> ApiResult<Json<RequestOut>> {
    let request = finish_task(&state, &who, &key, task_id).await?;
    Ok(Json(request_out(&state, who.tenant_id(), request).await?))
}
