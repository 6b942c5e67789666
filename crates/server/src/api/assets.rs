//! Asset management (ISO/IEC 20000-1 8.2.5): `/assets`, their lifecycle moves, the CIs each
//! asset is, and the warranties and licences about to run out.
//!
//! Agents, managers and admins keep the register; auditors read it.

use super::{ApiJson, ApiPath, ApiQuery, ListOf, nullable, time};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_domain::Invalid;
use steward_domain::asset::{AssetDraft, AssetKind, AssetStatus, Compliance, parse_date};
use steward_store::PageRequest;
use steward_store::asset::{Asset, AssetFilter, MAX_DAYS, today_utc};
use utoipa::{IntoParams, ToSchema};

/// Days ahead `GET /assets/expiring` looks by default.
const DEFAULT_EXPIRING_DAYS: i64 = 30;

#[derive(Debug, Serialize, ToSchema)]
pub struct AssetOut {
    pub id: i64,
    pub tag: String,
    pub name: String,
    pub kind: AssetKind,
    pub status: AssetStatus,
    /// The statuses it may move to next.
    pub next: Vec<AssetStatus>,
    pub manufacturer: String,
    pub model: String,
    pub serial_number: String,
    pub owner_id: Option<i64>,
    pub location: String,
    pub supplier: String,
    /// Purchase cost in minor units of `currency` (cents for EUR).
    pub cost_minor: Option<i64>,
    /// ISO 4217 code.
    pub currency: Option<String>,
    /// `YYYY-MM-DD`.
    pub purchase_date: Option<String>,
    pub warranty_expires: Option<String>,
    pub licence_seats: Option<i64>,
    pub seats_in_use: Option<i64>,
    pub licence_expires: Option<String>,
    /// Seats in use against seats licensed.
    pub compliance: Compliance,
    /// What is allowed but worth attention, such as more seats in use than licensed.
    pub warnings: Vec<String>,
    pub notes: String,
    pub ci_ids: Vec<i64>,
    pub created_at: String,
    pub updated_at: String,
}

fn date_out(date: Option<jiff::civil::Date>) -> Option<String> {
    date.map(|d| d.strftime("%Y-%m-%d").to_string())
}

impl From<Asset> for AssetOut {
    fn from(a: Asset) -> Self {
        let draft = a.draft();
        AssetOut {
            compliance: a.compliance(),
            warnings: draft.warnings(),
            next: a.status.next().to_vec(),
            id: a.id,
            tag: a.tag,
            name: a.name,
            kind: a.kind,
            status: a.status,
            manufacturer: a.manufacturer,
            model: a.model,
            serial_number: a.serial_number,
            owner_id: a.owner_id,
            location: a.location,
            supplier: a.supplier,
            cost_minor: a.cost_minor,
            currency: a.currency,
            purchase_date: date_out(a.purchase_date),
            warranty_expires: date_out(a.warranty_expires),
            licence_seats: a.licence_seats,
            seats_in_use: a.seats_in_use,
            licence_expires: date_out(a.licence_expires),
            notes: a.notes,
            ci_ids: a.ci_ids,
            created_at: time(a.created_at),
            updated_at: time(a.updated_at),
        }
    }
}

/// A new asset.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetIn {
    /// Unique in the organisation, ignoring case.
    pub tag: String,
    pub name: String,
    pub kind: AssetKind,
    /// Where it starts; `ordered` unless given.
    pub status: Option<AssetStatus>,
    #[serde(default)]
    pub manufacturer: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub serial_number: String,
    pub owner_id: Option<i64>,
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub supplier: String,
    /// Minor units (cents); not negative.
    pub cost_minor: Option<i64>,
    /// ISO 4217, such as `EUR`; required with a cost.
    pub currency: Option<String>,
    /// `YYYY-MM-DD`.
    pub purchase_date: Option<String>,
    pub warranty_expires: Option<String>,
    /// Software only; at least 1.
    pub licence_seats: Option<i64>,
    /// Software only; more than `licence_seats` is accepted and flagged.
    pub seats_in_use: Option<i64>,
    pub licence_expires: Option<String>,
    #[serde(default)]
    pub notes: String,
}

/// Dates as given, read with one field error each.
struct Dates {
    purchase: Option<jiff::civil::Date>,
    warranty: Option<jiff::civil::Date>,
    licence: Option<jiff::civil::Date>,
}

fn dates(
    purchase: Option<&str>,
    warranty: Option<&str>,
    licence: Option<&str>,
) -> Result<Dates, Invalid> {
    let mut errors = Invalid::new();
    let mut read = |field: &str, label: &str, text: Option<&str>| {
        text.and_then(|t| parse_date(&mut errors, field, label, t))
    };
    let dates = Dates {
        purchase: read("purchase_date", "Purchase date", purchase),
        warranty: read("warranty_expires", "Warranty end", warranty),
        licence: read("licence_expires", "Licence end", licence),
    };
    errors.into_result(dates)
}

impl AssetIn {
    /// The validated draft and the starting status.
    pub fn draft(self) -> Result<(AssetDraft, AssetStatus), Invalid> {
        let d = dates(
            self.purchase_date.as_deref(),
            self.warranty_expires.as_deref(),
            self.licence_expires.as_deref(),
        )?;
        let draft = AssetDraft {
            tag: self.tag,
            name: self.name,
            kind: self.kind,
            manufacturer: self.manufacturer,
            model: self.model,
            serial_number: self.serial_number,
            owner_id: self.owner_id,
            location: self.location,
            supplier: self.supplier,
            cost_minor: self.cost_minor,
            currency: self.currency,
            purchase_date: d.purchase,
            warranty_expires: d.warranty,
            licence_seats: self.licence_seats,
            seats_in_use: self.seats_in_use,
            licence_expires: d.licence,
            notes: self.notes,
        }
        .validate()?;
        Ok((draft, self.status.unwrap_or(AssetStatus::Ordered)))
    }
}

/// The fields to change; absent fields stay, `null` clears an optional one. The status moves
/// only through `/assets/{id}/transitions`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetPatch {
    pub tag: Option<String>,
    pub name: Option<String>,
    pub kind: Option<AssetKind>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub serial_number: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub owner_id: Option<Option<i64>>,
    pub location: Option<String>,
    pub supplier: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub cost_minor: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub currency: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub purchase_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub warranty_expires: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub licence_seats: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub seats_in_use: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub licence_expires: Option<Option<String>>,
    pub notes: Option<String>,
}

impl AssetPatch {
    /// `current` with the patch applied, validated.
    pub fn apply(self, current: &Asset) -> Result<AssetDraft, Invalid> {
        let d = dates(
            self.purchase_date.as_ref().and_then(|d| d.as_deref()),
            self.warranty_expires.as_ref().and_then(|d| d.as_deref()),
            self.licence_expires.as_ref().and_then(|d| d.as_deref()),
        )?;
        let mut draft = current.draft();
        let keep = |new: Option<String>, old: &mut String| {
            if let Some(new) = new {
                *old = new;
            }
        };
        keep(self.tag, &mut draft.tag);
        keep(self.name, &mut draft.name);
        keep(self.manufacturer, &mut draft.manufacturer);
        keep(self.model, &mut draft.model);
        keep(self.serial_number, &mut draft.serial_number);
        keep(self.location, &mut draft.location);
        keep(self.supplier, &mut draft.supplier);
        keep(self.notes, &mut draft.notes);
        if let Some(kind) = self.kind {
            draft.kind = kind;
        }
        if let Some(v) = self.owner_id {
            draft.owner_id = v;
        }
        if let Some(v) = self.cost_minor {
            draft.cost_minor = v;
        }
        if let Some(v) = self.currency {
            draft.currency = v;
        }
        if self.purchase_date.is_some() {
            draft.purchase_date = d.purchase;
        }
        if self.warranty_expires.is_some() {
            draft.warranty_expires = d.warranty;
        }
        if self.licence_expires.is_some() {
            draft.licence_expires = d.licence;
        }
        if let Some(v) = self.licence_seats {
            draft.licence_seats = v;
        }
        if let Some(v) = self.seats_in_use {
            draft.seats_in_use = v;
        }
        draft.validate()
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AssetQuery {
    /// Words in the tag, name or serial number.
    pub q: Option<String>,
    pub kind: Option<AssetKind>,
    pub status: Option<AssetStatus>,
    pub owner_id: Option<i64>,
    /// Words in the location.
    pub location: Option<String>,
    /// Only assets whose warranty or licence ends within this many days from today (UTC).
    pub expiring_within: Option<i64>,
    /// `tag` (default), `name`, `created_at` or `updated_at`; a leading `-` sorts descending.
    pub sort: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/assets", tag = "assets", params(AssetQuery),
    responses((status = 200, body = ListOf<AssetOut>), (status = 400, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::AssetsRead>,
    ApiQuery(q): ApiQuery<AssetQuery>,
) -> ApiResult<Json<ListOf<AssetOut>>> {
    let filter = AssetFilter {
        q: q.q,
        kind: q.kind,
        status: q.status,
        owner_id: q.owner_id,
        location: q.location,
        expiring_within: q.expiring_within,
        sort: q.sort,
    };
    let page = PageRequest {
        limit: q.limit,
        cursor: q.cursor,
    };
    let found = state.store.assets(who.tenant_id(), &filter, &page).await?;
    Ok(Json(ListOf::from_page(found, AssetOut::from)))
}

#[utoipa::path(post, path = "/assets", tag = "assets", request_body = AssetIn,
    responses((status = 201, body = AssetOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::AssetsWrite>,
    ApiJson(body): ApiJson<AssetIn>,
) -> ApiResult<(StatusCode, Json<AssetOut>)> {
    let (draft, status) = body.draft()?;
    let asset = state
        .store
        .create_asset(who.tenant_id(), &draft, status, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(asset.into())))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ExpiringQuery {
    /// Days ahead of today (UTC), 0 to 3650; 30 unless given.
    pub days: Option<i64>,
}

#[utoipa::path(get, path = "/assets/expiring", tag = "assets", params(ExpiringQuery),
    description = "Assets still held (not retired or disposed) whose warranty or licence ends between today and `days` days from now, by tag; at most 1,000.",
    responses((status = 200, body = Vec<AssetOut>), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn expiring(
    State(state): State<AppState>,
    who: Can<perm::AssetsRead>,
    ApiQuery(q): ApiQuery<ExpiringQuery>,
) -> ApiResult<Json<Vec<AssetOut>>> {
    let days = q.days.unwrap_or(DEFAULT_EXPIRING_DAYS);
    if !(0..=MAX_DAYS).contains(&days) {
        return Err(Invalid::one(
            "days",
            format!("days must be a whole number from 0 to {MAX_DAYS}"),
        )
        .into());
    }
    let found = state
        .store
        .expiring_assets(who.tenant_id(), today_utc(), days)
        .await?;
    Ok(Json(found.into_iter().map(AssetOut::from).collect()))
}

#[utoipa::path(get, path = "/assets/{id}", tag = "assets", params(("id" = i64, Path)),
    responses((status = 200, body = AssetOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_one(
    State(state): State<AppState>,
    who: Can<perm::AssetsRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<AssetOut>> {
    Ok(Json(state.store.asset(who.tenant_id(), id).await?.into()))
}

#[utoipa::path(patch, path = "/assets/{id}", tag = "assets", params(("id" = i64, Path)), request_body = AssetPatch,
    responses((status = 200, body = AssetOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::AssetsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AssetPatch>,
) -> ApiResult<Json<AssetOut>> {
    let current = state.store.asset(who.tenant_id(), id).await?;
    let draft = body.apply(&current)?;
    let saved = state
        .store
        .update_asset(
            who.tenant_id(),
            id,
            current.updated_at,
            &draft,
            &who.actor(),
        )
        .await?;
    Ok(Json(saved.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionIn {
    pub to: AssetStatus,
}

#[utoipa::path(post, path = "/assets/{id}/transitions", tag = "assets", params(("id" = i64, Path)), request_body = TransitionIn,
    description = "Moves the asset along its lifecycle: ordered → in stock → deployed ↔ in repair (either back to stock) → retired → disposed. A move the lifecycle does not allow is a 409 naming the allowed ones, and changes nothing.",
    responses((status = 200, body = AssetOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn transition(
    State(state): State<AppState>,
    who: Can<perm::AssetsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<TransitionIn>,
) -> ApiResult<Json<AssetOut>> {
    let current = state.store.asset(who.tenant_id(), id).await?;
    if let Err(refusal) = current.status.transition(body.to) {
        let allowed = current
            .status
            .next()
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect();
        return Err(ApiError::transition(refusal.to_string(), allowed));
    }
    let moved = state
        .store
        .move_asset(who.tenant_id(), id, body.to, &who.actor())
        .await?;
    Ok(Json(moved.into()))
}

/// A CI an asset is linked to.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssetCiOut {
    pub id: i64,
    pub name: String,
    /// The class's name.
    pub class: String,
    pub status: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetCisIn {
    /// The CIs the asset is, replacing those before; `[]` unlinks them all.
    pub ci_ids: Vec<i64>,
}

async fn linked(state: &AppState, tenant_id: i64, asset: &Asset) -> ApiResult<Vec<AssetCiOut>> {
    let labels = state.store.ci_labels(tenant_id, &asset.ci_ids).await?;
    let mut out: Vec<AssetCiOut> = asset
        .ci_ids
        .iter()
        .filter_map(|id| labels.get(id))
        .map(|l| AssetCiOut {
            id: l.id,
            name: l.name.clone(),
            class: l.class.clone(),
            status: l.status.clone(),
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    Ok(out)
}

#[utoipa::path(get, path = "/assets/{id}/cis", tag = "assets", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<AssetCiOut>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_cis(
    State(state): State<AppState>,
    who: Can<perm::AssetsRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<AssetCiOut>>> {
    let asset = state.store.asset(who.tenant_id(), id).await?;
    Ok(Json(linked(&state, who.tenant_id(), &asset).await?))
}

#[utoipa::path(put, path = "/assets/{id}/cis", tag = "assets", params(("id" = i64, Path)), request_body = AssetCisIn,
    responses((status = 200, body = Vec<AssetCiOut>), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn put_cis(
    State(state): State<AppState>,
    who: Can<perm::AssetsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AssetCisIn>,
) -> ApiResult<Json<Vec<AssetCiOut>>> {
    let asset = state
        .store
        .set_asset_cis(who.tenant_id(), id, &body.ci_ids, &who.actor())
        .await?;
    Ok(Json(linked(&state, who.tenant_id(), &asset).await?))
}
