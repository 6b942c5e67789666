//! Design and transition of new or changed services (ISO/IEC 20000-1 8.5.2):
//! `/service-designs`, their lifecycle and their acceptance.
//!
//! Admins, managers, agents and auditors read design records; admins and managers write them
//! and accept them (acceptance creates or updates the service, its catalogue item, its SLA and
//! its CIs in one step). A major change opens its design record by itself (see `/changes`).

use super::{ApiJson, ApiPath, ApiQuery, KeyRef, ListOf, opt_time, parse_time, time};
use crate::AppState;
use crate::auth::{Can, Principal, perm};
use crate::error::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_domain::design::{Criterion, DesignDraft, DesignStatus, Proposal};
use steward_store::PageRequest;
use steward_store::design::{Accepted, DesignFilter, ServiceDesign};
use utoipa::{IntoParams, ToSchema};

/// Something acceptance wrote.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutputOut {
    /// `service`, `catalogue_item`, `agreement`, `ci` or `ci_link`.
    pub kind: String,
    pub id: i64,
    /// `created`, `updated` or `linked`.
    pub action: String,
}

/// A service design record as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DesignOut {
    pub id: i64,
    /// `SDR-n`.
    pub key: String,
    pub status: DesignStatus,
    /// The statuses it may move to next (guards aside); `accepted` only through `/accept`.
    pub next: Vec<DesignStatus>,
    pub title: String,
    /// The change it came from.
    pub change_id: Option<i64>,
    /// The service it changes; for a new service, the service acceptance created.
    pub target_service_id: Option<i64>,
    pub requirements: String,
    pub design: String,
    pub resources: String,
    pub transition_plan: String,
    pub criteria: Vec<Criterion>,
    pub proposal: Proposal,
    /// Sections still empty, which keep it from being ready for acceptance.
    pub missing_sections: Vec<String>,
    /// Acceptance criteria not met yet.
    pub unmet_criteria: usize,
    pub accepted_at: Option<String>,
    pub accepted_by: Option<i64>,
    /// What acceptance created, updated or linked.
    pub outputs: Vec<OutputOut>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<ServiceDesign> for DesignOut {
    fn from(d: ServiceDesign) -> Self {
        let draft = d.draft();
        DesignOut {
            id: d.id,
            key: d.key(),
            status: d.status,
            next: d.status.next().to_vec(),
            missing_sections: draft
                .missing_sections()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            unmet_criteria: d.criteria.iter().filter(|c| !c.met).count(),
            title: d.title,
            change_id: d.change_id,
            target_service_id: d.target_service_id,
            requirements: d.requirements,
            design: d.design,
            resources: d.resources,
            transition_plan: d.transition_plan,
            criteria: d.criteria,
            proposal: d.proposal,
            accepted_at: opt_time(d.accepted_at),
            accepted_by: d.accepted_by,
            outputs: d
                .outputs
                .into_iter()
                .map(|o| OutputOut {
                    kind: o.kind,
                    id: o.record_id,
                    action: o.action,
                })
                .collect(),
            created_at: time(d.created_at),
            updated_at: time(d.updated_at),
        }
    }
}

/// A new design record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DesignIn {
    pub title: String,
    /// The change it comes from, by id; a change has at most one design record.
    pub change_id: Option<i64>,
    /// The existing service it changes; absent for a new service.
    pub target_service_id: Option<i64>,
    #[serde(default)]
    pub requirements: String,
    #[serde(default)]
    pub design: String,
    #[serde(default)]
    pub resources: String,
    #[serde(default)]
    pub transition_plan: String,
    #[serde(default)]
    pub criteria: Vec<Criterion>,
    #[serde(default)]
    pub proposal: Proposal,
}

/// Changes to a design record; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DesignPatch {
    pub title: Option<String>,
    /// `null` makes it a design for a new service.
    #[serde(default, deserialize_with = "super::nullable")]
    #[schema(value_type = Option<i64>)]
    pub target_service_id: Option<Option<i64>>,
    pub requirements: Option<String>,
    pub design: Option<String>,
    pub resources: Option<String>,
    pub transition_plan: Option<String>,
    pub criteria: Option<Vec<Criterion>>,
    pub proposal: Option<Proposal>,
    /// The `updated_at` the caller read: if the record changed since, the edit is refused
    /// with a 409 instead of overwriting someone else's.
    pub updated_at: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DesignTransitionIn {
    pub to: DesignStatus,
}

/// What acceptance did.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptOut {
    pub design: DesignOut,
    pub service_id: i64,
    /// Whether the service was created (a new service) or updated (a changed one).
    pub service_created: bool,
    pub catalogue_item_id: Option<i64>,
    pub agreement_id: Option<i64>,
    /// CIs created, in the proposal's order.
    pub ci_ids: Vec<i64>,
    /// Existing CIs now linked to the service.
    pub linked_ci_ids: Vec<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DesignQuery {
    pub status: Option<DesignStatus>,
    /// `number` (default) or `updated_at`; a leading `-` sorts descending.
    pub sort: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The design record a path names, by key (`SDR-7`) or id; 404 for another tenant's.
pub(crate) async fn find(state: &AppState, who: &Principal, key: &str) -> ApiResult<ServiceDesign> {
    let store = &state.store;
    Ok(match KeyRef::parse(key, "SDR")? {
        KeyRef::Number(n) => store.service_design_by_number(who.tenant_id(), n).await?,
        KeyRef::Id(id) => store.service_design(who.tenant_id(), id).await?,
    })
}

#[utoipa::path(get, path = "/service-designs", tag = "service-designs", params(DesignQuery),
    responses((status = 200, body = ListOf<DesignOut>), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::DesignRead>,
    ApiQuery(q): ApiQuery<DesignQuery>,
) -> ApiResult<Json<ListOf<DesignOut>>> {
    let filter = DesignFilter {
        status: q.status,
        sort: q.sort,
    };
    let page = PageRequest {
        limit: q.limit,
        cursor: q.cursor,
    };
    let found = state
        .store
        .service_designs(who.tenant_id(), &filter, &page)
        .await?;
    Ok(Json(ListOf::from_page(found, DesignOut::from)))
}

#[utoipa::path(post, path = "/service-designs", tag = "service-designs", request_body = DesignIn,
    description = "Opens a design record as a draft, for a new service or a change to an existing one.",
    responses((status = 201, body = DesignOut), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::DesignWrite>,
    ApiJson(body): ApiJson<DesignIn>,
) -> ApiResult<(StatusCode, Json<DesignOut>)> {
    let draft = DesignDraft {
        title: body.title,
        target_service_id: body.target_service_id,
        requirements: body.requirements,
        design: body.design,
        resources: body.resources,
        transition_plan: body.transition_plan,
        criteria: body.criteria,
        proposal: body.proposal,
    }
    .validate()?;
    let created = state
        .store
        .create_design(who.tenant_id(), &draft, body.change_id, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(get, path = "/service-designs/{key}", tag = "service-designs", params(("key" = String, Path, description = "`SDR-n` or the id")),
    responses((status = 200, body = DesignOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_one(
    State(state): State<AppState>,
    who: Can<perm::DesignRead>,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<DesignOut>> {
    Ok(Json(find(&state, &who, &key).await?.into()))
}

#[utoipa::path(patch, path = "/service-designs/{key}", tag = "service-designs", params(("key" = String, Path)), request_body = DesignPatch,
    description = "Edits a design record that is not accepted, rejected or cancelled (409 otherwise, or when `updated_at` is not the record's any more).",
    responses((status = 200, body = DesignOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::DesignWrite>,
    ApiPath(key): ApiPath<String>,
    ApiJson(patch): ApiJson<DesignPatch>,
) -> ApiResult<Json<DesignOut>> {
    let current = find(&state, &who, &key).await?;
    let seen = match patch.updated_at.as_deref() {
        Some(text) => parse_time("updated_at", text)?,
        None => current.updated_at,
    };
    let mut d = current.draft();
    d.title = patch.title.unwrap_or(d.title);
    d.target_service_id = patch.target_service_id.unwrap_or(d.target_service_id);
    for (field, value) in [
        (&mut d.requirements, patch.requirements),
        (&mut d.design, patch.design),
        (&mut d.resources, patch.resources),
        (&mut d.transition_plan, patch.transition_plan),
    ] {
        if let Some(value) = value {
            *field = value;
        }
    }
    d.criteria = patch.criteria.unwrap_or(d.criteria);
    d.proposal = patch.proposal.unwrap_or(d.proposal);
    let saved = state
        .store
        .update_design(
            who.tenant_id(),
            current.id,
            seen,
            &d.validate()?,
            &who.actor(),
        )
        .await?;
    Ok(Json(saved.into()))
}

#[utoipa::path(post, path = "/service-designs/{key}/transitions", tag = "service-designs", params(("key" = String, Path)), request_body = DesignTransitionIn,
    description = "Moves the record on: draft → in_design → ready_for_acceptance (every section written, at least one criterion) → rejected, or back; cancelled from anywhere before the end. A refused move is a 409 saying what is missing. Acceptance is `/accept`.",
    responses((status = 200, body = DesignOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn transition(
    State(state): State<AppState>,
    who: Can<perm::DesignWrite>,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<DesignTransitionIn>,
) -> ApiResult<Json<DesignOut>> {
    let design = find(&state, &who, &key).await?;
    let moved = state
        .store
        .transition_design(who.tenant_id(), design.id, body.to, &who.actor())
        .await?;
    Ok(Json(moved.into()))
}

#[utoipa::path(post, path = "/service-designs/{key}/accept", tag = "service-designs", params(("key" = String, Path)),
    description = "Accepts a record ready for acceptance whose criteria are all met, and carries out its proposal in one step: the service (created or updated, and live), its catalogue item, its SLA, its new CIs and the links of existing CIs. If any part is refused (422 naming it, such as `proposal.new_cis[0].attributes.ram`), nothing is written. 409 when the record is not ready or a criterion is unmet.",
    responses((status = 200, body = AcceptOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn accept(
    State(state): State<AppState>,
    who: Can<perm::DesignWrite>,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<AcceptOut>> {
    let design = find(&state, &who, &key).await?;
    let (design, done): (ServiceDesign, Accepted) = state
        .store
        .accept_design(who.tenant_id(), design.id, &who.actor())
        .await?;
    Ok(Json(AcceptOut {
        design: design.into(),
        service_id: done.service_id,
        service_created: done.service_created,
        catalogue_item_id: done.catalogue_item_id,
        agreement_id: done.agreement_id,
        ci_ids: done.ci_ids,
        linked_ci_ids: done.linked_ci_ids,
    }))
}
