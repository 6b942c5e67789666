//! `/sla/agreements` and the clocks they run on records: `/incidents/{key}/sla`,
//! `/requests/{key}/sla`, with exclusions from attainment and breach reasons.
//!
//! Agents and up read agreements and clocks; managers and admins (who edit services and
//! calendars) change agreements. Requesters see neither: OLAs and underpinning contracts are
//! the organisation's own business.

use super::incidents::find;
use super::requests::find_request;
use super::{ApiJson, ApiPath, opt_time, time};
use crate::AppState;
use crate::auth::{Can, Principal, perm};
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_domain::access::Permission;
use steward_domain::sla::{AgreementDraft, AgreementKind, ClockState, RecordKind};
use steward_store::sla::{ClockView, StoredAgreement};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct AgreementOut {
    pub id: i64,
    #[serde(flatten)]
    pub agreement: AgreementDraft,
    pub created_at: String,
    pub updated_at: String,
}

impl From<StoredAgreement> for AgreementOut {
    fn from(a: StoredAgreement) -> Self {
        AgreementOut {
            id: a.id,
            agreement: a.draft,
            created_at: time(a.created_at),
            updated_at: time(a.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgreementList {
    pub items: Vec<AgreementOut>,
}

/// A stretch of time a clock did not count.
#[derive(Debug, Serialize, ToSchema)]
pub struct PauseOut {
    pub from: String,
    /// `null` while the pause lasts.
    pub to: Option<String>,
    /// What held the clock, such as `pending: awaiting customer`.
    pub why: String,
}

/// A clock's rule in words.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleOut {
    pub starts: String,
    pub pauses: String,
    pub stops: String,
}

/// One clock on a record: where it stands and everything that explains why.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClockOut {
    pub id: i64,
    /// `first_response`, `resolution` or a milestone of the agreement.
    pub target: String,
    pub agreement_id: i64,
    pub agreement: String,
    pub agreement_kind: AgreementKind,
    /// The business calendar it counts on (`24×7` without one).
    pub calendar: String,
    /// The target in business minutes, for the record's current priority.
    pub target_minutes: i64,
    pub state: ClockState,
    /// When the target is (or was) reached; `null` while paused short of it.
    pub due_at: Option<String>,
    pub warn_at: Option<String>,
    /// Business minutes left; negative once overdue.
    pub remaining_minutes: i64,
    pub elapsed_minutes: i64,
    pub started_at: Option<String>,
    pub stopped_at: Option<String>,
    pub pauses: Vec<PauseOut>,
    pub rule: RuleOut,
    /// When the warning was acted on (notified, escalated).
    pub warned_at: Option<String>,
    /// When the breach was acted on.
    pub breach_noted_at: Option<String>,
    pub breach_reason: Option<String>,
    /// Why the record does not count towards attainment, if it does not.
    pub excluded: Option<String>,
}

impl From<ClockView> for ClockOut {
    fn from(c: ClockView) -> Self {
        ClockOut {
            id: c.id,
            target: c.target,
            agreement_id: c.agreement_id,
            agreement: c.agreement,
            agreement_kind: c.agreement_kind,
            calendar: c.calendar,
            target_minutes: c.target_minutes,
            state: c.state,
            due_at: opt_time(c.due_at),
            warn_at: opt_time(c.warn_at),
            remaining_minutes: c.remaining_minutes,
            elapsed_minutes: c.elapsed_minutes,
            started_at: opt_time(c.started_at),
            stopped_at: opt_time(c.stopped_at),
            pauses: c
                .pauses
                .into_iter()
                .map(|p| PauseOut {
                    from: time(p.from),
                    to: opt_time(p.to),
                    why: p.why,
                })
                .collect(),
            rule: RuleOut {
                starts: c.rule.starts,
                pauses: c.rule.pauses,
                stops: c.rule.stops,
            },
            warned_at: opt_time(c.warned_at),
            breach_noted_at: opt_time(c.breach_noted_at),
            breach_reason: c.breach_reason,
            excluded: c.excluded,
        }
    }
}

/// The clocks of a record for a caller who may see them: `None` for requesters.
pub async fn clocks_for(
    state: &AppState,
    who: &Principal,
    kind: RecordKind,
    record_id: i64,
) -> ApiResult<Option<Vec<ClockOut>>> {
    if !who.can(Permission::RecordsRead) {
        return Ok(None);
    }
    let clocks = state
        .store
        .record_clocks(who.tenant_id(), kind, record_id)
        .await?;
    Ok(Some(clocks.into_iter().map(ClockOut::from).collect()))
}

#[utoipa::path(get, path = "/sla/agreements", tag = "sla",
    responses((status = 200, body = AgreementList), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
) -> ApiResult<Json<AgreementList>> {
    let items = state.store.agreements(who.tenant_id()).await?;
    Ok(Json(AgreementList {
        items: items.into_iter().map(AgreementOut::from).collect(),
    }))
}

#[utoipa::path(post, path = "/sla/agreements", tag = "sla", request_body = AgreementDraft,
    responses((status = 201, body = AgreementOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::ServicesWrite>,
    ApiJson(body): ApiJson<AgreementDraft>,
) -> ApiResult<(StatusCode, Json<AgreementOut>)> {
    let agreement = body.validate()?;
    let saved = state
        .store
        .create_agreement(who.tenant_id(), &agreement, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(saved.into())))
}

#[utoipa::path(get, path = "/sla/agreements/{id}", tag = "sla", params(("id" = i64, Path)),
    responses((status = 200, body = AgreementOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_one(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<AgreementOut>> {
    Ok(Json(
        state.store.agreement(who.tenant_id(), id).await?.into(),
    ))
}

/// Replaces an agreement. Records' clocks follow the new terms as each record next changes;
/// `steward sla recompute` applies them to every record at once.
#[utoipa::path(put, path = "/sla/agreements/{id}", tag = "sla", params(("id" = i64, Path)), request_body = AgreementDraft,
    responses((status = 200, body = AgreementOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn replace(
    State(state): State<AppState>,
    who: Can<perm::ServicesWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AgreementDraft>,
) -> ApiResult<Json<AgreementOut>> {
    let current = state.store.agreement(who.tenant_id(), id).await?;
    let agreement = body.validate()?;
    let saved = state
        .store
        .update_agreement(
            who.tenant_id(),
            id,
            current.updated_at,
            &agreement,
            &who.actor(),
        )
        .await?;
    Ok(Json(saved.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonIn {
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExclusionOut {
    /// Why the record does not count towards attainment; `null` when it counts.
    pub excluded: Option<String>,
}

/// A record of either kind, found within what the caller may see.
async fn record(state: &AppState, who: &Principal, kind: RecordKind, key: &str) -> ApiResult<i64> {
    if !who.can(Permission::RecordsRead) {
        return Err(ApiError::forbidden());
    }
    Ok(match kind {
        RecordKind::Incident => find(state, who, key).await?.id,
        RecordKind::Request => find_request(state, who, key).await?.id,
    })
}

async fn clocks(
    state: &AppState,
    who: &Principal,
    kind: RecordKind,
    key: &str,
) -> ApiResult<Json<Vec<ClockOut>>> {
    let id = record(state, who, kind, key).await?;
    Ok(Json(
        clocks_for(state, who, kind, id).await?.unwrap_or_default(),
    ))
}

async fn exclude(
    state: &AppState,
    who: &Principal,
    kind: RecordKind,
    key: &str,
    reason: Option<&str>,
) -> ApiResult<Json<ExclusionOut>> {
    if !who.can(Permission::RecordsWrite) {
        return Err(ApiError::forbidden());
    }
    let id = record(state, who, kind, key).await?;
    state
        .store
        .set_sla_exclusion(who.tenant_id(), kind, id, reason, &who.actor())
        .await?;
    Ok(Json(ExclusionOut {
        excluded: state.store.sla_exclusion(who.tenant_id(), kind, id).await?,
    }))
}

async fn breach_reason(
    state: &AppState,
    who: &Principal,
    kind: RecordKind,
    key: &str,
    clock_id: i64,
    reason: &str,
) -> ApiResult<Json<ClockOut>> {
    if !who.can(Permission::RecordsWrite) {
        return Err(ApiError::forbidden());
    }
    let id = record(state, who, kind, key).await?;
    let clock = state
        .store
        .set_breach_reason(who.tenant_id(), kind, id, clock_id, reason, &who.actor())
        .await?;
    Ok(Json(clock.into()))
}

/// The same four endpoints for each kind of record with clocks.
macro_rules! record_routes {
    ($module:ident, $kind:expr, $base:literal, $tag:literal, $example:literal) => {
        pub mod $module {
            use super::*;

            #[utoipa::path(get, path = concat!($base, "/{key}/sla"), tag = $tag,
                params(("key" = String, Path, description = $example)),
                responses((status = 200, body = Vec<ClockOut>), (status = 403, body = Problem), (status = 404, body = Problem)))]
            pub async fn clocks(
                State(state): State<AppState>,
                who: Principal,
                ApiPath(key): ApiPath<String>,
            ) -> ApiResult<Json<Vec<ClockOut>>> {
                super::clocks(&state, &who, $kind, &key).await
            }

            /// Takes the record out of SLA attainment, with the reason (journaled).
            #[utoipa::path(put, path = concat!($base, "/{key}/sla/exclusion"), tag = $tag,
                params(("key" = String, Path, description = $example)), request_body = ReasonIn,
                responses((status = 200, body = ExclusionOut), (status = 403, body = Problem), (status = 404, body = Problem),
                    (status = 422, body = Problem)))]
            pub async fn exclude(
                State(state): State<AppState>,
                who: Principal,
                ApiPath(key): ApiPath<String>,
                ApiJson(body): ApiJson<ReasonIn>,
            ) -> ApiResult<Json<ExclusionOut>> {
                super::exclude(&state, &who, $kind, &key, Some(&body.reason)).await
            }

            /// Counts the record towards SLA attainment again (journaled).
            #[utoipa::path(delete, path = concat!($base, "/{key}/sla/exclusion"), tag = $tag,
                params(("key" = String, Path, description = $example)),
                responses((status = 200, body = ExclusionOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
            pub async fn include(
                State(state): State<AppState>,
                who: Principal,
                ApiPath(key): ApiPath<String>,
            ) -> ApiResult<Json<ExclusionOut>> {
                super::exclude(&state, &who, $kind, &key, None).await
            }

            /// Records why a breached clock breached, for the breach list (journaled).
            #[utoipa::path(put, path = concat!($base, "/{key}/sla/{clock_id}/breach-reason"), tag = $tag,
                params(("key" = String, Path, description = $example), ("clock_id" = i64, Path)), request_body = ReasonIn,
                responses((status = 200, body = ClockOut), (status = 403, body = Problem), (status = 404, body = Problem),
                    (status = 409, body = Problem), (status = 422, body = Problem)))]
            pub async fn breach_reason(
                State(state): State<AppState>,
                who: Principal,
                ApiPath((key, clock_id)): ApiPath<(String, i64)>,
                ApiJson(body): ApiJson<ReasonIn>,
            ) -> ApiResult<Json<ClockOut>> {
                super::breach_reason(&state, &who, $kind, &key, clock_id, &body.reason).await
            }
        }
    };
}

record_routes!(
    incident,
    RecordKind::Incident,
    "/incidents",
    "incidents",
    "INC-42 or the numeric id"
);
record_routes!(
    request,
    RecordKind::Request,
    "/requests",
    "requests",
    "REQ-5 or the numeric id"
);
