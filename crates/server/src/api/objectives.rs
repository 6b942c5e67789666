//! Service management objectives (ISO/IEC 20000-1 6.2): `/objectives`, their monthly readings
//! (computed from Steward's records, or measured by hand) and where each stands.
//!
//! Managers and admins keep them; auditors read them.

use super::date_out;
use super::{ApiJson, ApiPath, ApiQuery, ListOf, parse_time, time};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_domain::Invalid;
use steward_domain::asset::parse_date;
use steward_domain::sms::objective::{
    Direction, Kpi, ObjectiveDraft, ObjectiveStatus, Reading, Standing,
};
use steward_store::PageRequest;
use steward_store::asset::today_utc;
use steward_store::sla::report::Month;
use steward_store::sms::objective::{Measurement, Objective, ObjectiveFilter, last_months};
use utoipa::{IntoParams, ToSchema};

/// How many months of readings an objective shows.
pub const MONTHS_SHOWN: i32 = 12;

#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectiveOut {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub kpi: Kpi,
    /// Whether Steward computes the KPI from its own records.
    pub computed: bool,
    pub direction: Direction,
    pub target: f64,
    pub unit: String,
    pub owner_id: Option<i64>,
    /// `YYYY-MM-DD`.
    pub due_date: Option<String>,
    pub status: ObjectiveStatus,
    pub created_at: String,
    /// Send it back as `updated_at` in a PATCH; an edit over someone else's is refused.
    pub updated_at: String,
}

impl From<Objective> for ObjectiveOut {
    fn from(o: Objective) -> Self {
        ObjectiveOut {
            computed: o.kpi.is_computed(),
            id: o.id,
            title: o.title,
            description: o.description,
            kpi: o.kpi,
            direction: o.direction,
            target: o.target,
            unit: o.unit,
            owner_id: o.owner_id,
            due_date: o.due_date.map(date_out),
            status: o.status,
            created_at: time(o.created_at),
            updated_at: time(o.updated_at),
        }
    }
}

/// An objective to set.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectiveIn {
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub kpi: Kpi,
    pub direction: Direction,
    pub target: f64,
    /// The unit of a manual KPI; computed KPIs bring their own.
    #[serde(default)]
    pub unit: String,
    pub owner_id: Option<i64>,
    /// `YYYY-MM-DD`.
    pub due_date: Option<String>,
    /// `active` unless given.
    pub status: Option<ObjectiveStatus>,
}

/// A validated draft; the due date read with its own field error.
pub fn draft_from(mut draft: ObjectiveDraft, due: &str) -> Result<ObjectiveDraft, Invalid> {
    let mut errors = Invalid::new();
    draft.due_date = parse_date(&mut errors, "due_date", "Due date", due);
    match draft.validate() {
        Ok(draft) => errors.into_result(draft),
        Err(mut more) => {
            more.errors.extend(errors.errors);
            Err(more)
        }
    }
}

impl ObjectiveIn {
    fn draft(self) -> Result<ObjectiveDraft, Invalid> {
        draft_from(
            ObjectiveDraft {
                title: self.title,
                description: self.description,
                kpi: self.kpi,
                direction: self.direction,
                target: self.target,
                unit: self.unit,
                owner_id: self.owner_id,
                due_date: None,
                status: self.status.unwrap_or(ObjectiveStatus::Active),
            },
            self.due_date.as_deref().unwrap_or(""),
        )
    }
}

/// The fields to change; absent fields stay, `null` clears the due date.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectivePatch {
    /// The `updated_at` you read: if the objective changed since, the edit is refused (409).
    pub updated_at: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub kpi: Option<Kpi>,
    pub direction: Option<Direction>,
    pub target: Option<f64>,
    pub unit: Option<String>,
    pub owner_id: Option<i64>,
    #[serde(default, deserialize_with = "super::nullable")]
    #[schema(value_type = Option<String>)]
    pub due_date: Option<Option<String>>,
    pub status: Option<ObjectiveStatus>,
}

impl ObjectivePatch {
    fn apply(self, current: &Objective) -> Result<ObjectiveDraft, Invalid> {
        let old = current.draft();
        let due = match self.due_date {
            Some(given) => given.unwrap_or_default(),
            None => old.due_date.map(date_out).unwrap_or_default(),
        };
        draft_from(
            ObjectiveDraft {
                title: self.title.unwrap_or(old.title),
                description: self.description.unwrap_or(old.description),
                kpi: self.kpi.unwrap_or(old.kpi),
                direction: self.direction.unwrap_or(old.direction),
                target: self.target.unwrap_or(old.target),
                unit: self.unit.unwrap_or(old.unit),
                owner_id: self.owner_id.or(old.owner_id),
                due_date: None,
                status: self.status.unwrap_or(old.status),
            },
            &due,
        )
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ObjectiveQuery {
    pub status: Option<ObjectiveStatus>,
    /// Rows per page, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/objectives", tag = "objectives", params(ObjectiveQuery),
    description = "The service management objectives, newest first.",
    responses((status = 200, body = ListOf<ObjectiveOut>), (status = 400, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    ApiQuery(q): ApiQuery<ObjectiveQuery>,
) -> ApiResult<Json<ListOf<ObjectiveOut>>> {
    let filter = ObjectiveFilter { status: q.status };
    let page = PageRequest {
        limit: q.limit,
        cursor: q.cursor,
    };
    let found = state
        .store
        .objectives(who.tenant_id(), &filter, &page)
        .await?;
    Ok(Json(ListOf::from_page(found, ObjectiveOut::from)))
}

#[utoipa::path(post, path = "/objectives", tag = "objectives", request_body = ObjectiveIn,
    responses((status = 201, body = ObjectiveOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiJson(body): ApiJson<ObjectiveIn>,
) -> ApiResult<(StatusCode, Json<ObjectiveOut>)> {
    let draft = body.draft()?;
    let created = state
        .store
        .create_objective(who.tenant_id(), &draft, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(get, path = "/objectives/{id}", tag = "objectives", params(("id" = i64, Path)),
    responses((status = 200, body = ObjectiveOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_one(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ObjectiveOut>> {
    Ok(Json(
        state.store.objective(who.tenant_id(), id).await?.into(),
    ))
}

#[utoipa::path(patch, path = "/objectives/{id}", tag = "objectives", params(("id" = i64, Path)), request_body = ObjectivePatch,
    description = "Edits an objective, its status included (achieved, withdrawn). Its measure cannot change once values were recorded by hand. `updated_at` is the one you read: an edit over someone else's is refused with 409.",
    responses((status = 200, body = ObjectiveOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ObjectivePatch>,
) -> ApiResult<Json<ObjectiveOut>> {
    let current = state.store.objective(who.tenant_id(), id).await?;
    let seen = parse_time("updated_at", &body.updated_at)?;
    let draft = body.apply(&current)?;
    let saved = state
        .store
        .update_objective(who.tenant_id(), id, seen, &draft, &who.actor())
        .await?;
    Ok(Json(saved.into()))
}

/// An objective's readings and where it stands by the newest one.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadingsOut {
    pub standing: Standing,
    /// The last twelve months, oldest first; a month with nothing to measure has no value.
    pub readings: Vec<ReadingOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadingOut {
    /// `YYYY-MM`.
    pub month: String,
    pub value: Option<f64>,
    pub met: Option<bool>,
}

/// An objective's last twelve months of readings, and its standing.
pub async fn readings_of(
    state: &AppState,
    tenant_id: i64,
    o: &Objective,
) -> ApiResult<(Vec<Reading>, Standing)> {
    let (first, last) = last_months(today_utc(), MONTHS_SHOWN);
    let readings = state.store.readings(tenant_id, o, first, last).await?;
    let standing = Standing::of(&readings, o.direction, o.target);
    Ok((readings, standing))
}

#[utoipa::path(get, path = "/objectives/{id}/readings", tag = "objectives", params(("id" = i64, Path)),
    description = "The objective's value for each of the last twelve months, computed from Steward's records for SLA attainment, change success and major incidents, or as recorded by hand; and whether the newest value meets the target.",
    responses((status = 200, body = ReadingsOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn readings(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ReadingsOut>> {
    let objective = state.store.objective(who.tenant_id(), id).await?;
    let (readings, standing) = readings_of(&state, who.tenant_id(), &objective).await?;
    Ok(Json(ReadingsOut {
        standing,
        readings: readings
            .into_iter()
            .map(|r| ReadingOut {
                month: r.month.strftime("%Y-%m").to_string(),
                met: r
                    .value
                    .map(|v| objective.direction.met(v, objective.target)),
                value: r.value,
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasurementIn {
    /// `YYYY-MM`, not in the future. A value given again for a month replaces the first.
    pub month: String,
    pub value: f64,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeasurementOut {
    /// `YYYY-MM`.
    pub month: String,
    pub value: f64,
    pub note: String,
    pub by: String,
    pub at: String,
}

impl From<Measurement> for MeasurementOut {
    fn from(m: Measurement) -> Self {
        MeasurementOut {
            month: m.month.strftime("%Y-%m").to_string(),
            value: m.value,
            note: m.note,
            by: m.actor_label,
            at: time(m.at),
        }
    }
}

/// Reads `YYYY-MM` under `field`.
pub fn month_from(field: &str, text: &str) -> Result<Month, Invalid> {
    Month::parse(text)
        .ok_or_else(|| Invalid::one(field, "The month must look like 2026-11 (year-month)"))
}

#[utoipa::path(post, path = "/objectives/{id}/measurements", tag = "objectives", params(("id" = i64, Path)), request_body = MeasurementIn,
    description = "Records a hand-measured value for a month. An objective Steward computes refuses it with 409.",
    responses((status = 201, body = MeasurementOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn measure(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<MeasurementIn>,
) -> ApiResult<(StatusCode, Json<MeasurementOut>)> {
    let month = month_from("month", &body.month)?;
    let measured = state
        .store
        .record_measurement(
            who.tenant_id(),
            id,
            month,
            body.value,
            &body.note,
            &who.actor(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(measured.into())))
}

#[utoipa::path(get, path = "/objectives/{id}/measurements", tag = "objectives", params(("id" = i64, Path)),
    description = "The values recorded by hand, newest month first.",
    responses((status = 200, body = Vec<MeasurementOut>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn measurements(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<MeasurementOut>>> {
    let rows = state.store.measurements(who.tenant_id(), id).await?;
    Ok(Json(rows.into_iter().map(MeasurementOut::from).collect()))
}
