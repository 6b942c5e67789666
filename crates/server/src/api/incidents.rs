//! `/incidents`: the service desk's bread and butter.

use super::{
    ApiJson, ApiPath, KeyRef, ListOf, custom_filters, nullable, opt_time, parse_time, time,
};
use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::incident::{
    IncidentDraft, Level, PendingReason, Priority, Refusal, Source, Status, TransitionContext,
};
use steward_store::incident::{Author, Comment, Incident, IncidentFields, IncidentFilter};
use steward_store::{PageRequest, now_micros};
use utoipa::{IntoParams, ToSchema};

/// Whose incidents a caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    All,
    Own(i64),
}

/// The caller's reach over records, from the one permission table.
pub fn scope(who: &Principal) -> ApiResult<Scope> {
    if who.can(Permission::RecordsRead) {
        Ok(Scope::All)
    } else if who.can(Permission::RecordsOwn) {
        Ok(Scope::Own(who.user.id))
    } else {
        Err(ApiError::forbidden())
    }
}

/// Finds an incident by key (`INC-42`) or id, within what the caller may see.
pub async fn find(state: &AppState, who: &Principal, key: &str) -> ApiResult<Incident> {
    let scope = scope(who)?;
    let incident = match KeyRef::parse(key, "INC")? {
        KeyRef::Number(n) => state.store.incident_by_number(who.tenant_id(), n).await?,
        KeyRef::Id(id) => state.store.incident(who.tenant_id(), id).await?,
    };
    match scope {
        Scope::Own(user) if incident.requester_user_id != Some(user) => Err(ApiError::not_found()),
        _ => Ok(incident),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentOut {
    pub id: i64,
    /// `INC-n`, numbered per tenant.
    pub key: String,
    pub title: String,
    pub description: String,
    pub status: Status,
    pub pending_reason: Option<PendingReason>,
    pub impact: Level,
    pub urgency: Level,
    /// From impact and urgency through the priority matrix.
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
    pub opened_at: String,
    pub first_response_at: Option<String>,
    pub resolved_at: Option<String>,
    pub closed_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Statuses the lifecycle allows next.
    pub allowed_transitions: Vec<Status>,
    /// Declared a major incident (see `/incidents/{key}/major`).
    pub major: bool,
    /// See `/categories`.
    pub category_id: Option<i64>,
    /// Values of the organisation's custom fields (see `/custom-fields/incident`).
    #[schema(value_type = Object)]
    pub custom: Map<String, Value>,
    /// The incident's SLA clocks (see `/incidents/{key}/sla`); on single incidents, for agents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sla: Option<Vec<super::sla::ClockOut>>,
}

impl From<Incident> for IncidentOut {
    fn from(i: Incident) -> Self {
        IncidentOut {
            key: i.key(),
            pending_reason: i.pending(),
            allowed_transitions: i.status.next().to_vec(),
            id: i.id,
            title: i.title,
            description: i.description,
            status: i.status,
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
            resolution_code: i.resolution_code,
            resolution_notes: i.resolution_notes,
            opened_at: time(i.opened_at),
            first_response_at: opt_time(i.first_response_at),
            resolved_at: opt_time(i.resolved_at),
            closed_at: opt_time(i.closed_at),
            created_at: time(i.created_at),
            updated_at: time(i.updated_at),
            major: false,
            category_id: i.category_id,
            custom: i.custom.0,
            sla: None,
        }
    }
}

impl IncidentOut {
    /// The incident as the API shows it, with what the store keeps beside its row.
    pub async fn of(state: &AppState, tenant_id: i64, i: Incident) -> ApiResult<IncidentOut> {
        let (major, _) = state.store.is_major(tenant_id, i.id).await?;
        Ok(IncidentOut { major, ..i.into() })
    }

    /// The incident with its SLA clocks, for a caller who may see them.
    pub async fn with_clocks(
        state: &AppState,
        who: &Principal,
        i: Incident,
    ) -> ApiResult<IncidentOut> {
        let sla =
            super::sla::clocks_for(state, who, steward_domain::sla::RecordKind::Incident, i.id)
                .await?;
        Ok(IncidentOut {
            sla,
            ..IncidentOut::of(state, who.tenant_id(), i).await?
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentCreate {
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// Defaults to `medium`.
    #[serde(default)]
    pub impact: Level,
    /// Defaults to `medium`.
    #[serde(default)]
    pub urgency: Level,
    pub service_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub requester_contact_id: Option<i64>,
    pub assignee_team_id: Option<i64>,
    pub assignee_id: Option<i64>,
    /// Defaults to `api` (`portal` for requesters).
    pub source: Option<Source>,
    /// RFC 3339. Admins only, for records migrated from other tools.
    pub opened_at: Option<String>,
    /// A live category (see `/categories`).
    #[serde(default)]
    pub category_id: Option<i64>,
    /// Values of the custom fields, by field name; required fields must be given.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub custom: Map<String, Value>,
    /// Ids of the CIs the incident is about (see `/incidents/{key}/cis`); needs CMDB read
    /// access. Checked before the incident is created, linked right after it.
    #[serde(default)]
    pub cis: Vec<i64>,
}

/// Fields to change; `status` moves the incident through its lifecycle.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub impact: Option<Level>,
    pub urgency: Option<Level>,
    pub status: Option<Status>,
    /// Required when moving to `pending`.
    pub pending_reason: Option<PendingReason>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub service_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub customer_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub requester_contact_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub assignee_team_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub assignee_id: Option<Option<i64>>,
    /// Required before closing.
    pub resolution_code: Option<String>,
    pub resolution_notes: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub category_id: Option<Option<i64>>,
    /// Custom values to change, merged into the current ones; `null` clears a value.
    #[schema(value_type = Option<Object>)]
    pub custom: Option<Map<String, Value>>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct IncidentQuery {
    /// Full text over title, description and conversation; every word must match.
    pub q: Option<String>,
    /// Comma-separated statuses, e.g. `new,in_progress`.
    pub status: Option<String>,
    /// Only new, in progress and pending incidents.
    pub open: Option<bool>,
    pub priority: Option<Priority>,
    pub service_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub assignee_team_id: Option<i64>,
    /// Only incidents assigned to nobody.
    pub unassigned: Option<bool>,
    /// This category or any of its subcategories.
    pub category_id: Option<i64>,
    /// Only incidents changed after this RFC 3339 time (for polling integrations).
    pub changed_after: Option<String>,
    /// `priority` (default), `opened_at`, `updated_at` or `number`; a leading `-` sorts descending.
    pub sort: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

fn parse_statuses(text: &str) -> ApiResult<Vec<Status>> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            Status::parse(s).ok_or_else(|| ApiError::bad_request(format!("unknown status `{s}`")))
        })
        .collect()
}

/// Lists the incidents the caller may see.
#[utoipa::path(get, path = "/incidents", tag = "incidents", params(IncidentQuery),
    description = super::CUSTOM_FILTERS_DOC,
    responses((status = 200, body = ListOf<IncidentOut>), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem, description = "An unknown sort, cursor or custom field (`custom.<name>`)")))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<ListOf<IncidentOut>>> {
    let (filter, page) = incident_filter(query.as_deref().unwrap_or_default(), scope(&who)?)?;
    let found = state
        .store
        .incidents(who.tenant_id(), &filter, &page)
        .await?;
    let ids: Vec<i64> = found.items.iter().map(|i| i.id).collect();
    let majors = state.store.majors_among(who.tenant_id(), &ids).await?;
    let mut out = ListOf::from_page(found, IncidentOut::from);
    for item in &mut out.items {
        item.major = majors.contains(&item.id);
    }
    Ok(Json(out))
}

/// The incident list's query string (`IncidentQuery` plus `custom.<name>=<value>`) as the
/// store's filter and page, within what `scope` may see. Pure, so that the fuzz target
/// `list_filter` reads query strings exactly as the list does. The store checks the rest: the
/// sort, the cursor and the custom fields' names and values.
pub fn incident_filter(query: &str, scope: Scope) -> ApiResult<(IncidentFilter, PageRequest)> {
    let q: IncidentQuery = super::parse_query(query)?;
    let requester_user_id = match scope {
        Scope::All => None,
        Scope::Own(user) => Some(user),
    };
    let filter = IncidentFilter {
        q: q.q,
        statuses: q
            .status
            .as_deref()
            .map(parse_statuses)
            .transpose()?
            .unwrap_or_default(),
        open: q.open.unwrap_or(false),
        priority: q.priority,
        service_id: q.service_id,
        customer_id: q.customer_id,
        assignee_id: q.assignee_id,
        assignee_team_id: q.assignee_team_id,
        unassigned: q.unassigned.unwrap_or(false),
        requester_user_id,
        category_id: q.category_id,
        custom: custom_filters(query),
        changed_after: q
            .changed_after
            .as_deref()
            .map(|t| parse_time("changed_after", t))
            .transpose()?,
        sort: q.sort,
    };
    let page = PageRequest {
        limit: q.limit,
        cursor: q.cursor,
    };
    Ok((filter, page))
}

/// Creates an incident from an agent's or a requester's input; shared by API and UI.
pub async fn open_incident(
    state: &AppState,
    who: &Principal,
    body: IncidentCreate,
) -> ApiResult<Incident> {
    let full = who.can(Permission::RecordsWrite);
    if !full && !who.can(Permission::RecordsOwn) {
        return Err(ApiError::forbidden());
    }
    if !full
        && (body.assignee_id.is_some()
            || body.assignee_team_id.is_some()
            || body.requester_contact_id.is_some())
    {
        return Err(Invalid::one("assignee_id", "Requesters cannot assign incidents").into());
    }
    let opened_at = match &body.opened_at {
        Some(_) if who.role() != steward_domain::access::Role::Admin => {
            return Err(Invalid::one(
                "opened_at",
                "Only admins may set opened_at (for migrated records)",
            )
            .into());
        }
        Some(text) => parse_time("opened_at", text)?,
        None => now_micros(),
    };
    let draft = IncidentDraft {
        title: body.title,
        description: body.description,
        impact: body.impact,
        urgency: body.urgency,
        service_id: body.service_id,
        customer_id: body.customer_id,
        requester_contact_id: body.requester_contact_id,
        assignee_team_id: body.assignee_team_id,
        assignee_id: body.assignee_id,
        source: body
            .source
            .unwrap_or(if full { Source::Api } else { Source::Portal }),
        resolution_code: None,
        resolution_notes: String::new(),
    }
    .validate()?;
    if let Some(category) = body.category_id {
        super::categories::check_live(state, who.tenant_id(), category).await?;
    }
    let custom = state
        .store
        .check_custom_values(who.tenant_id(), "incident", &body.custom, full)
        .await?;
    check_cis(state, who, &body.cis).await?;
    let fields = IncidentFields {
        priority: state
            .store
            .settings(who.tenant_id())
            .await?
            .priority_matrix
            .priority(draft.impact, draft.urgency),
        title: draft.title,
        description: draft.description,
        status: Status::New,
        pending_reason: None,
        impact: draft.impact,
        urgency: draft.urgency,
        service_id: draft.service_id,
        customer_id: draft.customer_id,
        requester_contact_id: draft.requester_contact_id,
        requester_user_id: (!full).then_some(who.user.id),
        assignee_team_id: draft.assignee_team_id,
        assignee_id: draft.assignee_id,
        source: draft.source,
        resolution_code: None,
        resolution_notes: String::new(),
        opened_at,
        first_response_at: None,
        resolved_at: None,
        closed_at: None,
        category_id: body.category_id,
        custom,
    };
    let incident = state
        .store
        .create_incident(who.tenant_id(), &fields, &who.actor())
        .await?;
    if !body.cis.is_empty() {
        state
            .store
            .set_record_cis(
                who.tenant_id(),
                "incident",
                incident.id,
                &body.cis,
                &who.actor(),
            )
            .await?;
    }
    notify_changes(state, who, None, &incident).await;
    Ok(incident)
}

/// Checks the CIs a new incident names before it is created, so that linking them after
/// cannot fail on them (CIs are never deleted, only retired).
async fn check_cis(state: &AppState, who: &Principal, cis: &[i64]) -> ApiResult<()> {
    if cis.is_empty() {
        return Ok(());
    }
    if !who.can(Permission::RecordsWrite) || !who.can(Permission::CmdbRead) {
        return Err(Invalid::one("cis", "Only those who work records may name CIs").into());
    }
    let found = state.store.ci_labels(who.tenant_id(), cis).await?;
    match cis.iter().find(|id| !found.contains_key(id)) {
        Some(id) => Err(Invalid::one("cis", format!("There is no CI {id}")).into()),
        None => Ok(()),
    }
}

/// Queues the notifications a saved write causes (opened, resolved, assigned); failures are
/// logged by `outbound`, never raised, because the write itself is done.
async fn notify_changes(
    state: &AppState,
    who: &Principal,
    before: Option<&Incident>,
    after: &Incident,
) {
    use crate::mail::outbound;
    let (store, tenant_id, actor) = (&state.store, who.tenant_id(), who.actor());
    match before {
        None => outbound::notify_opened(store, tenant_id, after, &[]).await,
        Some(b) if b.status != Status::Resolved && after.status == Status::Resolved => {
            outbound::notify_resolved(store, tenant_id, after, &[&actor.label]).await;
        }
        Some(_) => {}
    }
    if after.assignee_id.is_some() && before.is_none_or(|b| b.assignee_id != after.assignee_id) {
        outbound::notify_assigned(store, tenant_id, after, actor.user_id).await;
    }
}

#[utoipa::path(post, path = "/incidents", tag = "incidents", request_body = IncidentCreate,
    responses((status = 201, body = IncidentOut), (status = 422, body = Problem), (status = 403, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    who: Principal,
    ApiJson(body): ApiJson<IncidentCreate>,
) -> ApiResult<(StatusCode, Json<IncidentOut>)> {
    let incident = open_incident(&state, &who, body).await?;
    Ok((StatusCode::CREATED, Json(incident.into())))
}

#[utoipa::path(get, path = "/incidents/{key}", tag = "incidents", params(("key" = String, Path, description = "INC-42 or the numeric id")),
    responses((status = 200, body = IncidentOut), (status = 404, body = Problem)))]
pub async fn get_one(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<IncidentOut>> {
    let incident = find(&state, &who, &key).await?;
    Ok(Json(
        IncidentOut::with_clocks(&state, &who, incident).await?,
    ))
}

/// Applies a patch through the lifecycle's rules; shared by API and UI.
pub async fn change_incident(
    state: &AppState,
    who: &Principal,
    key: &str,
    patch: IncidentPatch,
) -> ApiResult<Incident> {
    if !who.can(Permission::RecordsWrite) {
        return Err(ApiError::forbidden());
    }
    let current = find(state, who, key).await?;
    if current.status.is_terminal() {
        return Err(ApiError::frozen(&current.key(), &current.status));
    }
    let mut f = IncidentFields::from(&current);
    let draft = IncidentDraft {
        title: patch.title.unwrap_or(f.title.clone()),
        description: patch.description.unwrap_or(f.description.clone()),
        impact: patch.impact.unwrap_or(f.impact),
        urgency: patch.urgency.unwrap_or(f.urgency),
        service_id: patch.service_id.unwrap_or(f.service_id),
        customer_id: patch.customer_id.unwrap_or(f.customer_id),
        requester_contact_id: patch.requester_contact_id.unwrap_or(f.requester_contact_id),
        assignee_team_id: patch.assignee_team_id.unwrap_or(f.assignee_team_id),
        assignee_id: patch.assignee_id.unwrap_or(f.assignee_id),
        source: f.source,
        resolution_code: patch.resolution_code.or(f.resolution_code.clone()),
        resolution_notes: patch.resolution_notes.unwrap_or(f.resolution_notes.clone()),
    }
    .validate()?;
    f.title = draft.title;
    f.description = draft.description;
    f.impact = draft.impact;
    f.urgency = draft.urgency;
    let settings = state.store.settings(who.tenant_id()).await?;
    f.priority = settings
        .priority_matrix
        .priority(draft.impact, draft.urgency);
    f.service_id = draft.service_id;
    f.customer_id = draft.customer_id;
    f.requester_contact_id = draft.requester_contact_id;
    f.assignee_team_id = draft.assignee_team_id;
    f.assignee_id = draft.assignee_id;
    f.resolution_code = draft.resolution_code;
    f.resolution_notes = draft.resolution_notes;
    if let Some(category) = patch.category_id.filter(|c| *c != current.category_id) {
        if let Some(id) = category {
            super::categories::check_live(state, who.tenant_id(), id).await?;
        }
        f.category_id = category;
    }
    if let Some(changes) = patch.custom {
        let merged = super::merge_custom(&f.custom, changes);
        f.custom = state
            .store
            .check_custom_values(who.tenant_id(), "incident", &merged, true)
            .await?;
    }
    if let Some(reason) = patch.pending_reason {
        f.pending_reason = Some(reason);
    }
    if let Some(to) = patch.status.filter(|to| *to != current.status) {
        let now = now_micros();
        let ctx = TransitionContext {
            now_micros: now,
            resolved_at_micros: current.resolved_at,
            resolution_code: f.resolution_code.clone(),
            pending_reason: patch.pending_reason,
            reopen_window: settings.reopen_window(),
        };
        let t = current
            .status
            .transition(to, &ctx)
            .map_err(|refusal| match refusal {
                Refusal::NotAllowed { allowed, .. } => ApiError::transition(
                    refusal_text(&current, to),
                    allowed.iter().map(|s| s.as_str().to_owned()).collect(),
                ),
                Refusal::Needs(field, message) => Invalid::one(field, message).into(),
                Refusal::ReopenWindowPassed => {
                    ApiError::transition(refusal.to_string(), Vec::new())
                }
            })?;
        if t.to == Status::Closed {
            let (major, _) = state.store.is_major(who.tenant_id(), current.id).await?;
            let reviewed = major
                && state
                    .store
                    .review(who.tenant_id(), current.id)
                    .await?
                    .is_some_and(|r| r.completed);
            steward_domain::major::can_close(major, reviewed)
                .map_err(|refusal| ApiError::transition(refusal.to_string(), Vec::new()))?;
        }
        f.status = t.to;
        if t.set_resolved_at {
            f.resolved_at = Some(now);
        }
        if t.clear_resolved_at {
            f.resolved_at = None;
        }
        if t.set_closed_at {
            f.closed_at = Some(now);
        }
    }
    if f.status != Status::Pending {
        f.pending_reason = None;
    }
    let updated = state
        .store
        .update_incident(
            who.tenant_id(),
            current.id,
            current.updated_at,
            &f,
            &who.actor(),
        )
        .await?;
    notify_changes(state, who, Some(&current), &updated).await;
    Ok(updated)
}

fn refusal_text(current: &Incident, to: Status) -> String {
    let allowed = current
        .status
        .next()
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "{} cannot go from {} to {to}; allowed: {allowed}",
        current.key(),
        current.status
    )
}

#[utoipa::path(patch, path = "/incidents/{key}", tag = "incidents", params(("key" = String, Path, description = "INC-42 or the numeric id")),
    request_body = IncidentPatch,
    responses((status = 200, body = IncidentOut), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(key): ApiPath<String>,
    ApiJson(patch): ApiJson<IncidentPatch>,
) -> ApiResult<Json<IncidentOut>> {
    let incident = change_incident(&state, &who, &key, patch).await?;
    Ok(Json(
        IncidentOut::of(&state, who.tenant_id(), incident).await?,
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommentOut {
    pub id: i64,
    pub author_id: Option<i64>,
    pub author: String,
    pub body: String,
    /// Public replies reach the requester; internal notes do not.
    pub public: bool,
    pub created_at: String,
}

impl From<Comment> for CommentOut {
    fn from(c: Comment) -> Self {
        CommentOut {
            id: c.id,
            author_id: c.author_id,
            author: c.author,
            body: c.body,
            public: c.public,
            created_at: time(c.created_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentCreate {
    pub body: String,
    /// `true` (default) for a public reply, `false` for an internal note.
    #[serde(default = "yes")]
    pub public: bool,
}

fn yes() -> bool {
    true
}

#[utoipa::path(get, path = "/incidents/{key}/comments", tag = "incidents", params(("key" = String, Path)),
    responses((status = 200, body = Vec<CommentOut>), (status = 404, body = Problem)))]
pub async fn list_comments(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<Vec<CommentOut>>> {
    let incident = find(&state, &who, &key).await?;
    let public_only = scope(&who)? != Scope::All;
    let comments = state
        .store
        .incident_comments(who.tenant_id(), incident.id, public_only)
        .await?;
    Ok(Json(comments.into_iter().map(CommentOut::from).collect()))
}

/// Adds a reply or note; requesters may only reply publicly on their own incidents.
pub async fn comment(
    state: &AppState,
    who: &Principal,
    key: &str,
    body: CommentCreate,
) -> ApiResult<Comment> {
    let incident = find(state, who, key).await?;
    let agent = who.can(Permission::RecordsWrite);
    if !agent && !who.can(Permission::RecordsOwn) {
        return Err(ApiError::forbidden());
    }
    let text = body.body.trim();
    if text.is_empty() || text.chars().count() > 100_000 {
        return Err(Invalid::one("body", "Write a message (at most 100,000 characters)").into());
    }
    let public = body.public || !agent;
    let author = if agent {
        Author::Agent
    } else {
        let settings = state.store.settings(who.tenant_id()).await?;
        Author::Requester {
            reopen_window: settings.reopen_window(),
        }
    };
    let saved = state
        .store
        .add_incident_comment(
            who.tenant_id(),
            incident.id,
            text,
            public,
            author,
            &who.actor(),
        )
        .await?;
    if public && agent {
        crate::mail::outbound::notify_reply(
            &state.store,
            who.tenant_id(),
            &incident,
            &saved.author,
            text,
        )
        .await;
    }
    Ok(saved)
}

#[utoipa::path(post, path = "/incidents/{key}/comments", tag = "incidents", params(("key" = String, Path)), request_body = CommentCreate,
    responses((status = 201, body = CommentOut), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create_comment(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<CommentCreate>,
) -> ApiResult<(StatusCode, Json<CommentOut>)> {
    let c = comment(&state, &who, &key, body).await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}
