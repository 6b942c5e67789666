//! `/problems`, `/known-errors` and record links.

use super::incidents::{Scope, scope};
use super::{ApiJson, ApiPath, ApiQuery, KeyRef, ListOf, nullable, opt_time, time};
use crate::AppState;
use crate::auth::{Can, Principal, perm};
use crate::error::{ApiError, ApiResult, Problem as ProblemDoc};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::incident::{Level, Priority};
use steward_domain::problem::{
    LinkKind, ProblemDraft, ProblemRefusal, ProblemStatus, RecordKind, check_link,
};
use steward_store::problem::{Candidate, KnownError, Link, Problem, ProblemFields, ProblemFilter};
use steward_store::{PageRequest, now_micros};
use utoipa::{IntoParams, ToSchema};

/// Problems are for the people who work records; requesters never see them.
fn require_read(who: &Principal) -> ApiResult<()> {
    if scope(who)? == Scope::All {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

pub async fn find_problem(state: &AppState, who: &Principal, key: &str) -> ApiResult<Problem> {
    require_read(who)?;
    Ok(match KeyRef::parse(key, "PRB")? {
        KeyRef::Number(n) => state.store.problem_by_number(who.tenant_id(), n).await?,
        KeyRef::Id(id) => state.store.problem(who.tenant_id(), id).await?,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemOut {
    pub id: i64,
    /// `PRB-n`.
    pub key: String,
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
    /// The known error recorded for this problem, once it has one.
    pub known_error: Option<String>,
    pub resolved_at: Option<String>,
    pub closed_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub allowed_transitions: Vec<ProblemStatus>,
    /// See `/categories`.
    pub category_id: Option<i64>,
    /// Values of the organisation's custom fields (see `/custom-fields/problem`).
    #[schema(value_type = Object)]
    pub custom: Map<String, Value>,
}

fn problem_out(p: Problem, known_error: Option<KnownError>) -> ProblemOut {
    ProblemOut {
        key: p.key(),
        allowed_transitions: p.status.next().to_vec(),
        known_error: known_error.map(|k| k.key()),
        id: p.id,
        title: p.title,
        description: p.description,
        status: p.status,
        impact: p.impact,
        urgency: p.urgency,
        priority: p.priority,
        service_id: p.service_id,
        assignee_id: p.assignee_id,
        root_cause: p.root_cause,
        workaround: p.workaround,
        resolved_at: opt_time(p.resolved_at),
        closed_at: opt_time(p.closed_at),
        created_at: time(p.created_at),
        updated_at: time(p.updated_at),
        category_id: p.category_id,
        custom: p.custom.0,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProblemCreate {
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub impact: Level,
    #[serde(default)]
    pub urgency: Level,
    pub service_id: Option<i64>,
    pub assignee_id: Option<i64>,
    /// Incidents (`INC-n`) this problem causes; linked as `caused_by`.
    #[serde(default)]
    pub incidents: Vec<String>,
    /// A live category (see `/categories`).
    #[serde(default)]
    pub category_id: Option<i64>,
    /// Values of the custom fields, by field name; required fields must be given.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub custom: Map<String, Value>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProblemPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub impact: Option<Level>,
    pub urgency: Option<Level>,
    pub status: Option<ProblemStatus>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub service_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub assignee_id: Option<Option<i64>>,
    pub root_cause: Option<String>,
    pub workaround: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub category_id: Option<Option<i64>>,
    /// Custom values to change, merged into the current ones; `null` clears a value.
    #[schema(value_type = Option<Object>)]
    pub custom: Option<Map<String, Value>>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ProblemQuery {
    /// Comma-separated statuses.
    pub status: Option<String>,
    pub service_id: Option<i64>,
    /// This category or any of its subcategories.
    pub category_id: Option<i64>,
    /// `priority` (default), `number` or `updated_at`; a leading `-` sorts descending.
    pub sort: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Lists problems.
#[utoipa::path(get, path = "/problems", tag = "problems", params(ProblemQuery),
    description = super::CUSTOM_FILTERS_DOC,
    responses((status = 200, body = ListOf<ProblemOut>), (status = 400, body = ProblemDoc), (status = 403, body = ProblemDoc),
        (status = 422, body = ProblemDoc, description = "An unknown sort, cursor or custom field (`custom.<name>`)")))]
pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    ApiQuery(q): ApiQuery<ProblemQuery>,
    super::CustomFilters(custom): super::CustomFilters,
) -> ApiResult<Json<ListOf<ProblemOut>>> {
    let statuses = match q.status.as_deref() {
        Some(text) => text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                ProblemStatus::parse(s)
                    .ok_or_else(|| ApiError::bad_request(format!("unknown status `{s}`")))
            })
            .collect::<ApiResult<Vec<_>>>()?,
        None => Vec::new(),
    };
    let filter = ProblemFilter {
        statuses,
        service_id: q.service_id,
        category_id: q.category_id,
        custom,
        sort: q.sort,
    };
    let page = PageRequest {
        limit: q.limit,
        cursor: q.cursor,
    };
    let found = state
        .store
        .problems(who.tenant_id(), &filter, &page)
        .await?;
    let mut items = Vec::with_capacity(found.items.len());
    for p in found.items {
        let ke = state.store.known_error_of(who.tenant_id(), p.id).await?;
        items.push(problem_out(p, ke));
    }
    Ok(Json(ListOf {
        items,
        next_cursor: found.next_cursor,
    }))
}

/// Opens a problem and links the incidents it causes; shared by API and UI.
pub async fn open_problem(
    state: &AppState,
    who: &Principal,
    body: ProblemCreate,
) -> ApiResult<Problem> {
    let draft = ProblemDraft {
        title: body.title,
        description: body.description,
        impact: body.impact,
        urgency: body.urgency,
        service_id: body.service_id,
        assignee_id: body.assignee_id,
        root_cause: String::new(),
        workaround: String::new(),
    }
    .validate()?;
    let mut incidents = Vec::with_capacity(body.incidents.len());
    for key in &body.incidents {
        let incident = super::incidents::find(state, who, key).await.map_err(|_| {
            ApiError::invalid(Invalid::one("incidents", format!("No incident {key}")))
        })?;
        incidents.push(incident.id);
    }
    if let Some(category) = body.category_id {
        super::categories::check_live(state, who.tenant_id(), category).await?;
    }
    let custom = state
        .store
        .check_custom_values(who.tenant_id(), "problem", &body.custom, true)
        .await?;
    let fields = ProblemFields {
        priority: state
            .store
            .settings(who.tenant_id())
            .await?
            .priority_matrix
            .priority(draft.impact, draft.urgency),
        title: draft.title,
        description: draft.description,
        status: ProblemStatus::New,
        impact: draft.impact,
        urgency: draft.urgency,
        service_id: draft.service_id,
        assignee_id: draft.assignee_id,
        root_cause: String::new(),
        workaround: String::new(),
        resolved_at: None,
        closed_at: None,
        category_id: body.category_id,
        custom,
    };
    let problem = state
        .store
        .create_problem(who.tenant_id(), &fields, &who.actor())
        .await?;
    for id in incidents {
        state
            .store
            .link(
                who.tenant_id(),
                LinkKind::CausedBy,
                (RecordKind::Incident, id),
                (RecordKind::Problem, problem.id),
                &who.actor(),
            )
            .await?;
    }
    Ok(problem)
}

#[utoipa::path(post, path = "/problems", tag = "problems", request_body = ProblemCreate,
    responses((status = 201, body = ProblemOut), (status = 422, body = ProblemDoc), (status = 403, body = ProblemDoc)))]
pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    ApiJson(body): ApiJson<ProblemCreate>,
) -> ApiResult<(StatusCode, Json<ProblemOut>)> {
    let problem = open_problem(&state, &who, body).await?;
    Ok((StatusCode::CREATED, Json(problem_out(problem, None))))
}

#[utoipa::path(get, path = "/problems/{key}", tag = "problems", params(("key" = String, Path, description = "PRB-7 or the numeric id")),
    responses((status = 200, body = ProblemOut), (status = 404, body = ProblemDoc)))]
pub async fn get_one(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<ProblemOut>> {
    let p = find_problem(&state, &who, &key).await?;
    let ke = state.store.known_error_of(who.tenant_id(), p.id).await?;
    Ok(Json(problem_out(p, ke)))
}

/// Applies a patch through the problem lifecycle; shared by API and UI.
pub async fn change_problem(
    state: &AppState,
    who: &Principal,
    key: &str,
    patch: ProblemPatch,
) -> ApiResult<Problem> {
    let current = find_problem(state, who, key).await?;
    if current.status.is_terminal() {
        return Err(ApiError::frozen(&current.key(), &current.status));
    }
    let draft = ProblemDraft {
        title: patch.title.unwrap_or(current.title.clone()),
        description: patch.description.unwrap_or(current.description.clone()),
        impact: patch.impact.unwrap_or(current.impact),
        urgency: patch.urgency.unwrap_or(current.urgency),
        service_id: patch.service_id.unwrap_or(current.service_id),
        assignee_id: patch.assignee_id.unwrap_or(current.assignee_id),
        root_cause: patch.root_cause.unwrap_or(current.root_cause.clone()),
        workaround: patch.workaround.unwrap_or(current.workaround.clone()),
    }
    .validate()?;
    let mut f = ProblemFields::from(&current);
    if let Some(category) = patch.category_id.filter(|c| *c != current.category_id) {
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
                "problem",
                &super::merge_custom(&f.custom, changes),
                true,
            )
            .await?;
    }
    if let Some(to) = patch.status.filter(|to| *to != current.status) {
        f.status = current
            .status
            .transition(to, &draft.root_cause, &draft.workaround)
            .map_err(|refusal| match refusal {
                ProblemRefusal::NotAllowed { allowed, .. } => ApiError::transition(
                    format!(
                        "{} cannot go from {} to {to}",
                        current.key(),
                        current.status
                    ),
                    allowed.iter().map(|s| s.as_str().to_owned()).collect(),
                ),
                ProblemRefusal::Needs(field, message) => Invalid::one(field, message).into(),
            })?;
        let now = now_micros();
        match f.status {
            ProblemStatus::Resolved => f.resolved_at = Some(now),
            ProblemStatus::Investigating => f.resolved_at = None,
            s if s.is_terminal() => f.closed_at = Some(now),
            _ => {}
        }
    }
    f.priority = state
        .store
        .settings(who.tenant_id())
        .await?
        .priority_matrix
        .priority(draft.impact, draft.urgency);
    f.title = draft.title;
    f.description = draft.description;
    f.impact = draft.impact;
    f.urgency = draft.urgency;
    f.service_id = draft.service_id;
    f.assignee_id = draft.assignee_id;
    f.root_cause = draft.root_cause;
    f.workaround = draft.workaround;
    Ok(state
        .store
        .update_problem(
            who.tenant_id(),
            current.id,
            current.updated_at,
            &f,
            &who.actor(),
        )
        .await?)
}

#[utoipa::path(patch, path = "/problems/{key}", tag = "problems", params(("key" = String, Path, description = "PRB-7 or the numeric id")),
    request_body = ProblemPatch,
    responses((status = 200, body = ProblemOut), (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    ApiPath(key): ApiPath<String>,
    ApiJson(patch): ApiJson<ProblemPatch>,
) -> ApiResult<Json<ProblemOut>> {
    let p = change_problem(&state, &who, &key, patch).await?;
    let ke = state.store.known_error_of(who.tenant_id(), p.id).await?;
    Ok(Json(problem_out(p, ke)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CandidateQuery {
    /// How many incidents on one service make a candidate (default 3).
    pub threshold: Option<i64>,
    /// How many days back to count (default 7).
    pub days: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CandidateOut {
    pub service_id: i64,
    /// Incidents on the service in the window.
    pub incidents: i64,
}

impl From<Candidate> for CandidateOut {
    fn from(c: Candidate) -> Self {
        CandidateOut {
            service_id: c.service_id,
            incidents: c.incidents,
        }
    }
}

#[utoipa::path(get, path = "/problems/candidates", tag = "problems", params(CandidateQuery),
    description = "Services with repeated incidents and no open problem: where a problem should probably be opened.",
    responses((status = 200, body = Vec<CandidateOut>), (status = 403, body = ProblemDoc)))]
pub async fn candidates(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    ApiQuery(q): ApiQuery<CandidateQuery>,
) -> ApiResult<Json<Vec<CandidateOut>>> {
    let settings = state.store.settings(who.tenant_id()).await?;
    let threshold = q
        .threshold
        .unwrap_or(i64::from(settings.candidate_threshold))
        .clamp(2, 10_000);
    let days = q
        .days
        .unwrap_or(i64::from(settings.candidate_window_days))
        .clamp(1, 366);
    let since = now_micros() - days * 86_400_000_000;
    let found = state
        .store
        .problem_candidates(who.tenant_id(), threshold, since)
        .await?;
    Ok(Json(found.into_iter().map(CandidateOut::from).collect()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KnownErrorOut {
    pub id: i64,
    /// `KE-n`.
    pub key: String,
    pub problem_id: i64,
    pub title: String,
    pub symptoms: String,
    pub root_cause: String,
    pub workaround: String,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<KnownError> for KnownErrorOut {
    fn from(k: KnownError) -> Self {
        KnownErrorOut {
            key: k.key(),
            id: k.id,
            problem_id: k.problem_id,
            title: k.title,
            symptoms: k.symptoms,
            root_cause: k.root_cause,
            workaround: k.workaround,
            active: k.active,
            created_at: time(k.created_at),
            updated_at: time(k.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct KnownErrorQuery {
    /// Words from the symptoms, cause or workaround.
    pub q: Option<String>,
    /// Include retired known errors (default false).
    pub all: Option<bool>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/known-errors", tag = "problems", params(KnownErrorQuery),
    responses((status = 200, body = ListOf<KnownErrorOut>), (status = 403, body = ProblemDoc)))]
pub async fn list_known_errors(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    ApiQuery(q): ApiQuery<KnownErrorQuery>,
) -> ApiResult<Json<ListOf<KnownErrorOut>>> {
    let page = PageRequest {
        limit: q.limit,
        cursor: q.cursor,
    };
    let found = state
        .store
        .known_errors(
            who.tenant_id(),
            q.q.as_deref(),
            !q.all.unwrap_or(false),
            &page,
        )
        .await?;
    Ok(Json(ListOf::from_page(found, KnownErrorOut::from)))
}

async fn find_known_error(state: &AppState, who: &Principal, key: &str) -> ApiResult<KnownError> {
    match KeyRef::parse(key, "KE")? {
        KeyRef::Number(n) => Ok(state
            .store
            .known_error_by_number(who.tenant_id(), n)
            .await?),
        KeyRef::Id(_) => Err(ApiError::not_found()),
    }
}

#[utoipa::path(get, path = "/known-errors/{key}", tag = "problems", params(("key" = String, Path, description = "KE-3")),
    responses((status = 200, body = KnownErrorOut), (status = 404, body = ProblemDoc)))]
pub async fn get_known_error(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<KnownErrorOut>> {
    Ok(Json(find_known_error(&state, &who, &key).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KnownErrorPatch {
    pub title: Option<String>,
    pub symptoms: Option<String>,
    pub workaround: Option<String>,
    /// `false` retires the known error from the service desk's list.
    pub active: Option<bool>,
}

#[utoipa::path(patch, path = "/known-errors/{key}", tag = "problems", params(("key" = String, Path, description = "KE-3")),
    request_body = KnownErrorPatch,
    responses((status = 200, body = KnownErrorOut), (status = 404, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn update_known_error(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    ApiPath(key): ApiPath<String>,
    ApiJson(patch): ApiJson<KnownErrorPatch>,
) -> ApiResult<Json<KnownErrorOut>> {
    let ke = find_known_error(&state, &who, &key).await?;
    let title = patch.title.unwrap_or(ke.title).trim().to_owned();
    if title.is_empty() {
        return Err(Invalid::one("title", "Title is required").into());
    }
    let symptoms = patch.symptoms.unwrap_or(ke.symptoms);
    let workaround = patch.workaround.unwrap_or(ke.workaround);
    let active = patch.active.unwrap_or(ke.active);
    let updated = state
        .store
        .update_known_error(
            who.tenant_id(),
            ke.id,
            (&title, &symptoms, &workaround, active),
            &who.actor(),
        )
        .await?;
    Ok(Json(updated.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinkOut {
    pub id: i64,
    /// related, parent_of, duplicate_of or caused_by, read from `source` to `target`.
    pub kind: LinkKind,
    pub source: String,
    pub target: String,
    /// The other record's title.
    pub title: String,
}

fn link_out(this: &str, l: Link) -> LinkOut {
    let (source, target) = if l.outgoing {
        (this.to_owned(), l.other_key)
    } else {
        (l.other_key, this.to_owned())
    };
    LinkOut {
        id: l.id,
        kind: l.kind,
        source,
        target,
        title: l.other_title,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkCreate {
    pub kind: LinkKind,
    /// The other record, e.g. `PRB-3` or `INC-12`.
    pub target: String,
}

/// The record named by a key in a path, within what the caller may see.
async fn record_ref(
    state: &AppState,
    who: &Principal,
    kind: RecordKind,
    key: &str,
) -> ApiResult<(RecordKind, i64, String)> {
    Ok(match kind {
        RecordKind::Incident => {
            let i = super::incidents::find(state, who, key).await?;
            (kind, i.id, i.key())
        }
        RecordKind::Problem => {
            let p = find_problem(state, who, key).await?;
            (kind, p.id, p.key())
        }
    })
}

/// Creates a link from a record to another; `duplicate_of` between incidents merges them.
pub async fn add_link(
    state: &AppState,
    who: &Principal,
    kind: RecordKind,
    key: &str,
    body: LinkCreate,
) -> ApiResult<()> {
    if !who.can(Permission::RecordsWrite) {
        return Err(ApiError::forbidden());
    }
    let (from_kind, from_id, _) = record_ref(state, who, kind, key).await?;
    let (to_kind, _) = RecordKind::parse_key(&body.target).ok_or_else(|| {
        ApiError::invalid(Invalid::one(
            "target",
            "Name the other record by its key, e.g. PRB-3 or INC-12",
        ))
    })?;
    let (_, to_id, _) = record_ref(state, who, to_kind, &body.target)
        .await
        .map_err(|_| {
            ApiError::invalid(Invalid::one("target", format!("No record {}", body.target)))
        })?;
    check_link(body.kind, (from_kind, from_id), (to_kind, to_id))?;
    if body.kind == LinkKind::DuplicateOf && from_kind == RecordKind::Incident {
        state
            .store
            .merge_incident(who.tenant_id(), from_id, to_id, &who.actor())
            .await?;
    } else {
        state
            .store
            .link(
                who.tenant_id(),
                body.kind,
                (from_kind, from_id),
                (to_kind, to_id),
                &who.actor(),
            )
            .await?;
    }
    Ok(())
}

pub async fn links_of(
    state: &AppState,
    who: &Principal,
    kind: RecordKind,
    key: &str,
) -> ApiResult<Vec<LinkOut>> {
    let (kind, id, this) = record_ref(state, who, kind, key).await?;
    let links = state.store.links(who.tenant_id(), (kind, id)).await?;
    Ok(links.into_iter().map(|l| link_out(&this, l)).collect())
}

#[utoipa::path(get, path = "/incidents/{key}/links", tag = "incidents", params(("key" = String, Path)),
    responses((status = 200, body = Vec<LinkOut>), (status = 404, body = ProblemDoc)))]
pub async fn incident_links(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<Vec<LinkOut>>> {
    Ok(Json(
        links_of(&state, &who, RecordKind::Incident, &key).await?,
    ))
}

#[utoipa::path(post, path = "/incidents/{key}/links", tag = "incidents", params(("key" = String, Path)), request_body = LinkCreate,
    description = "Links the incident to another record. `duplicate_of` another incident merges this one into it: the conversation moves and this incident is cancelled.",
    responses((status = 201, body = Vec<LinkOut>), (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn link_incident(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<LinkCreate>,
) -> ApiResult<(StatusCode, Json<Vec<LinkOut>>)> {
    add_link(&state, &who, RecordKind::Incident, &key, body).await?;
    Ok((
        StatusCode::CREATED,
        Json(links_of(&state, &who, RecordKind::Incident, &key).await?),
    ))
}

#[utoipa::path(get, path = "/problems/{key}/links", tag = "problems", params(("key" = String, Path)),
    responses((status = 200, body = Vec<LinkOut>), (status = 404, body = ProblemDoc)))]
pub async fn problem_links(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<Vec<LinkOut>>> {
    Ok(Json(
        links_of(&state, &who, RecordKind::Problem, &key).await?,
    ))
}

#[utoipa::path(post, path = "/problems/{key}/links", tag = "problems", params(("key" = String, Path)), request_body = LinkCreate,
    responses((status = 201, body = Vec<LinkOut>), (status = 404, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn link_problem(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<LinkCreate>,
) -> ApiResult<(StatusCode, Json<Vec<LinkOut>>)> {
    add_link(&state, &who, RecordKind::Problem, &key, body).await?;
    Ok((
        StatusCode::CREATED,
        Json(links_of(&state, &who, RecordKind::Problem, &key).await?),
    ))
}
