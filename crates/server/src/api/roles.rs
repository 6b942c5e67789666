//! Roles, responsibilities and authorities (ISO/IEC 20000-1 5.3): `/roles` with their holders
//! over time, and the RACI matrix of the SMS's processes at `/raci`.
//!
//! Managers and admins keep them; auditors read them.

use super::{ApiJson, ApiPath, date_out, parse_time, time};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_domain::Invalid;
use steward_domain::asset::required_date_alone;
use steward_domain::sms::role::{RaciLetter, RoleDraft};
use steward_store::asset::today_utc;
use steward_store::sms::role::{RaciRow, RoleAssignment, SmsRole};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SmsRole)]
pub struct RoleOut {
    pub id: i64,
    pub name: String,
    /// What the holder must do.
    pub responsibilities: String,
    /// What the holder may decide or act on.
    pub authorities: String,
    /// Answers for the SMS conforming to the standard (5.3 c).
    pub conformity_lead: bool,
    /// Reports the SMS's and the services' performance to top management (5.3 d).
    pub reports_performance: bool,
    pub retired: bool,
    pub created_at: String,
    /// Send it back as `updated_at` in a PUT; an edit over someone else's is refused.
    pub updated_at: String,
}

impl From<SmsRole> for RoleOut {
    fn from(r: SmsRole) -> Self {
        RoleOut {
            id: r.id,
            name: r.name,
            responsibilities: r.responsibilities,
            authorities: r.authorities,
            conformity_lead: r.conformity_lead,
            reports_performance: r.reports_performance,
            retired: r.retired,
            created_at: time(r.created_at),
            updated_at: time(r.updated_at),
        }
    }
}

/// A role to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SmsRoleDraft)]
pub struct RoleIn {
    pub name: String,
    pub responsibilities: String,
    pub authorities: String,
    #[serde(default)]
    pub conformity_lead: bool,
    #[serde(default)]
    pub reports_performance: bool,
}

impl RoleIn {
    fn draft(self) -> Result<RoleDraft, Invalid> {
        RoleDraft {
            name: self.name,
            responsibilities: self.responsibilities,
            authorities: self.authorities,
            conformity_lead: self.conformity_lead,
            reports_performance: self.reports_performance,
        }
        .validate()
    }
}

/// A role's fields as they should now be.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SmsRoleUpdate)]
pub struct RoleUpdateIn {
    /// The `updated_at` you read: if the role changed since, the edit is refused (409).
    pub updated_at: String,
    pub name: String,
    pub responsibilities: String,
    pub authorities: String,
    #[serde(default)]
    pub conformity_lead: bool,
    #[serde(default)]
    pub reports_performance: bool,
    /// `true` retires the role (once nobody holds it and it has no part in the RACI matrix);
    /// `false` keeps it in use or reinstates it.
    #[serde(default)]
    pub retired: bool,
}

/// A person's holding of a role.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RoleAssignmentOut)]
pub struct AssignmentOut {
    pub id: i64,
    pub role_id: i64,
    pub user_id: i64,
    /// `YYYY-MM-DD`, the first day held.
    pub from_date: String,
    /// `YYYY-MM-DD`, the first day no longer held; absent while it runs.
    pub to_date: Option<String>,
    /// Held today.
    pub current: bool,
    pub note: String,
    pub assigned_by: Option<i64>,
    pub ended_by: Option<i64>,
    pub created_at: String,
}

impl From<RoleAssignment> for AssignmentOut {
    fn from(a: RoleAssignment) -> Self {
        AssignmentOut {
            current: a.holds_on(today_utc()),
            id: a.id,
            role_id: a.role_id,
            user_id: a.user_id,
            from_date: date_out(a.from_date),
            to_date: a.to_date.map(date_out),
            note: a.note,
            assigned_by: a.assigned_by,
            ended_by: a.ended_by,
            created_at: time(a.created_at),
        }
    }
}

/// A role with everyone who holds or held it, running assignments first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SmsRoleDetail)]
pub struct RoleDetailOut {
    pub role: RoleOut,
    pub assignments: Vec<AssignmentOut>,
}

#[utoipa::path(get, path = "/roles", tag = "roles",
    description = "Every role of the SMS, by name, the retired ones last.",
    responses((status = 200, body = Vec<RoleOut>), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
) -> ApiResult<Json<Vec<RoleOut>>> {
    let roles = state.store.sms_roles(who.tenant_id()).await?;
    Ok(Json(roles.into_iter().map(RoleOut::from).collect()))
}

#[utoipa::path(post, path = "/roles", tag = "roles", request_body = RoleIn,
    description = "Records a role with its responsibilities and authorities; names are unique.",
    responses((status = 201, body = RoleOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiJson(body): ApiJson<RoleIn>,
) -> ApiResult<(StatusCode, Json<RoleOut>)> {
    let draft = body.draft()?;
    let created = state
        .store
        .create_sms_role(who.tenant_id(), &draft, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

async fn detail(state: &AppState, tenant_id: i64, role: SmsRole) -> ApiResult<RoleDetailOut> {
    let assignments = state.store.role_assignments(tenant_id, role.id).await?;
    Ok(RoleDetailOut {
        role: role.into(),
        assignments: assignments.into_iter().map(AssignmentOut::from).collect(),
    })
}

#[utoipa::path(get, path = "/roles/{id}", tag = "roles", params(("id" = i64, Path)),
    responses((status = 200, body = RoleDetailOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_one(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<RoleDetailOut>> {
    let role = state.store.sms_role(who.tenant_id(), id).await?;
    Ok(Json(detail(&state, who.tenant_id(), role).await?))
}

#[utoipa::path(put, path = "/roles/{id}", tag = "roles", params(("id" = i64, Path)), request_body = RoleUpdateIn,
    description = "Replaces a role's fields, and retires or reinstates it. `updated_at` is the one you read: an edit over someone else's is refused with 409.",
    responses((status = 200, body = RoleDetailOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RoleUpdateIn>,
) -> ApiResult<Json<RoleDetailOut>> {
    state.store.sms_role(who.tenant_id(), id).await?;
    let seen = parse_time("updated_at", &body.updated_at)?;
    let retired = body.retired;
    let draft = RoleIn {
        name: body.name,
        responsibilities: body.responsibilities,
        authorities: body.authorities,
        conformity_lead: body.conformity_lead,
        reports_performance: body.reports_performance,
    }
    .draft()?;
    let saved = state
        .store
        .update_sms_role(who.tenant_id(), id, seen, &draft, retired, &who.actor())
        .await?;
    Ok(Json(detail(&state, who.tenant_id(), saved).await?))
}

/// Who takes the role on, and from when.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RoleAssignmentIn)]
pub struct AssignIn {
    pub user_id: i64,
    /// `YYYY-MM-DD`, the first day held.
    pub from_date: String,
    #[serde(default)]
    pub note: String,
}

#[utoipa::path(post, path = "/roles/{id}/assignments", tag = "roles", params(("id" = i64, Path)), request_body = AssignIn,
    description = "Assigns the role to an active person from a date and sends them a notice of it. A person cannot hold the same role twice at once; a retired role cannot be assigned.",
    responses((status = 201, body = AssignmentOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn assign(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AssignIn>,
) -> ApiResult<(StatusCode, Json<AssignmentOut>)> {
    let from = required_date_alone("from_date", "The start date", &body.from_date)?;
    let created = state
        .store
        .assign_role(
            who.tenant_id(),
            id,
            body.user_id,
            from,
            &body.note,
            &who.actor(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// When an assignment ends.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RoleAssignmentEndIn)]
pub struct EndIn {
    /// `YYYY-MM-DD`, the first day no longer held; today if absent.
    #[serde(default)]
    pub to_date: Option<String>,
}

#[utoipa::path(post, path = "/roles/{id}/assignments/{assignment_id}/end", tag = "roles",
    params(("id" = i64, Path), ("assignment_id" = i64, Path)), request_body = EndIn,
    description = "Ends a running assignment; it stays in the role's history.",
    responses((status = 200, body = AssignmentOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn end(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath((id, assignment_id)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<EndIn>,
) -> ApiResult<Json<AssignmentOut>> {
    let to = match body.to_date.as_deref() {
        Some(text) => required_date_alone("to_date", "The end date", text)?,
        None => today_utc(),
    };
    let of_role = state.store.role_assignments(who.tenant_id(), id).await?;
    if !of_role.iter().any(|a| a.id == assignment_id) {
        return Err(ApiError::not_found());
    }
    let ended = state
        .store
        .end_role_assignment(who.tenant_id(), assignment_id, to, &who.actor())
        .await?;
    Ok(Json(ended.into()))
}

/// One role's letter in a process's row.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RaciCell)]
pub struct CellIo {
    pub role_id: i64,
    pub letter: RaciLetter,
}

/// One process of the SMS and the part each role has in it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RaciRow)]
pub struct RowOut {
    /// The catalogue clause (or heading) id of the process: `8.6.1`.
    pub process: String,
    pub name: String,
    /// The process's owner; absent while nobody is accountable.
    pub accountable_role_id: Option<i64>,
    pub cells: Vec<CellIo>,
}

impl From<RaciRow> for RowOut {
    fn from(r: RaciRow) -> Self {
        RowOut {
            accountable_role_id: r.accountable(),
            cells: r
                .cells
                .iter()
                .map(|c| CellIo {
                    role_id: c.role_id,
                    letter: c.letter,
                })
                .collect(),
            process: r.process,
            name: r.name,
        }
    }
}

/// A process's row as it should now be.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RaciRowIn)]
pub struct RowIn {
    /// Exactly one `A`; roles left out have no part in the process.
    pub cells: Vec<CellIo>,
}

#[utoipa::path(get, path = "/raci", tag = "roles",
    description = "The RACI matrix: one row per process of the SMS, in the standard's order, with each role's letter (R responsible, A accountable, C consulted, I informed).",
    responses((status = 200, body = Vec<RowOut>), (status = 403, body = Problem)))]
pub async fn raci(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
) -> ApiResult<Json<Vec<RowOut>>> {
    let rows = state.store.raci(who.tenant_id()).await?;
    Ok(Json(rows.into_iter().map(RowOut::from).collect()))
}

#[utoipa::path(put, path = "/raci/{process}", tag = "roles", params(("process" = String, Path)), request_body = RowIn,
    description = "Replaces one process's row: exactly one accountable role (which also counts as responsible), roles in use only.",
    responses((status = 200, body = RowOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn set_raci(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath(process): ApiPath<String>,
    ApiJson(body): ApiJson<RowIn>,
) -> ApiResult<Json<RowOut>> {
    let entries: Vec<(i64, RaciLetter)> =
        body.cells.iter().map(|c| (c.role_id, c.letter)).collect();
    let row = state
        .store
        .set_raci_row(who.tenant_id(), &process, &entries, &who.actor())
        .await?;
    Ok(Json(row.into()))
}
