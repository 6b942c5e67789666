//! The certificate register: `/certificates`, their status changes and status history.
//!
//! Managers and admins keep the register; agents and auditors read it. What the public sees of
//! it is served without login by `crate::verify`.

use super::date_out;
use super::{ApiJson, ApiPath, ApiQuery, ListOf, parse_time, time};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_domain::Invalid;
use steward_domain::asset::parse_date;
use steward_domain::certificate::{CertificateDraft, CertificateStatus};
use steward_store::PageRequest;
use steward_store::asset::today_utc;
use steward_store::certificate::{Certificate, CertificateFilter, StatusChange};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct CertificateOut {
    pub id: i64,
    pub number: String,
    pub standard: String,
    pub scope: String,
    pub organisation: String,
    /// One site per line.
    pub sites: String,
    pub certification_body: String,
    pub accreditation_body: String,
    pub accreditation_number: String,
    /// `YYYY-MM-DD`.
    pub original_date: String,
    pub issue_date: String,
    pub expiry_date: String,
    pub next_surveillance: Option<String>,
    /// Kept off the public register.
    pub confidential: bool,
    pub status: CertificateStatus,
    /// Why it has its current status.
    pub status_reason: String,
    /// The statuses it may move to next (valid only once its expiry date is not past).
    pub next: Vec<CertificateStatus>,
    /// Whole days from today (UTC) to the expiry date; negative once past.
    pub days_to_expiry: i64,
    pub created_at: String,
    /// Send it back as `updated_at` in a PATCH; an edit over someone else's is refused.
    pub updated_at: String,
}

impl From<Certificate> for CertificateOut {
    fn from(c: Certificate) -> Self {
        let today = today_utc();
        CertificateOut {
            next: c
                .status
                .next()
                .iter()
                .copied()
                .filter(|to| c.status.transition(*to, c.expiry_date, today).is_ok())
                .collect(),
            days_to_expiry: steward_domain::asset::days_until(today, c.expiry_date),
            id: c.id,
            number: c.number,
            standard: c.standard,
            scope: c.scope,
            organisation: c.organisation,
            sites: c.sites,
            certification_body: c.certification_body,
            accreditation_body: c.accreditation_body,
            accreditation_number: c.accreditation_number,
            original_date: date_out(c.original_date),
            issue_date: date_out(c.issue_date),
            expiry_date: date_out(c.expiry_date),
            next_surveillance: c.next_surveillance.map(date_out),
            confidential: c.confidential,
            status: c.status,
            status_reason: c.status_reason,
            created_at: time(c.created_at),
            updated_at: time(c.updated_at),
        }
    }
}

/// A certificate to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateIn {
    /// As the certification body prints it: letters, digits and `- . _ /`. Unique in the
    /// organisation, ignoring case.
    pub number: String,
    /// `ISO/IEC 20000-1:2018` unless given.
    #[serde(default)]
    pub standard: String,
    pub scope: String,
    pub organisation: String,
    #[serde(default)]
    pub sites: String,
    pub certification_body: String,
    #[serde(default)]
    pub accreditation_body: String,
    #[serde(default)]
    pub accreditation_number: String,
    /// `YYYY-MM-DD`.
    pub original_date: String,
    pub issue_date: String,
    pub expiry_date: String,
    pub next_surveillance: Option<String>,
    #[serde(default)]
    pub confidential: bool,
    /// Where it starts; `valid` unless given (an older certificate may be recorded as it
    /// stands).
    pub status: Option<CertificateStatus>,
}

/// Dates as given, each read with its own field error.
pub struct Dates {
    pub original: Option<jiff::civil::Date>,
    pub issue: Option<jiff::civil::Date>,
    pub expiry: Option<jiff::civil::Date>,
    pub surveillance: Option<jiff::civil::Date>,
}

/// Reads the four dates; a required one missing or unreadable is a field error.
pub fn read_dates(
    errors: &mut Invalid,
    original: &str,
    issue: &str,
    expiry: &str,
    surveillance: &str,
) -> Dates {
    let mut required = |field: &str, label: &str, text: &str| {
        let date = parse_date(errors, field, label, text);
        if text.trim().is_empty() {
            errors.add(field, format!("{label} is required"));
        }
        date
    };
    let original = required("original_date", "Original certification date", original);
    let issue = required("issue_date", "Issue date", issue);
    let expiry = required("expiry_date", "Expiry date", expiry);
    Dates {
        original,
        issue,
        expiry,
        surveillance: parse_date(
            errors,
            "next_surveillance",
            "Next surveillance audit",
            surveillance,
        ),
    }
}

/// The text fields of a certificate, as typed (the form and the API share them).
pub struct Texts {
    pub number: String,
    pub standard: String,
    pub scope: String,
    pub organisation: String,
    pub sites: String,
    pub certification_body: String,
    pub accreditation_body: String,
    pub accreditation_number: String,
}

/// A validated draft from typed fields, with every field's error in one [`Invalid`].
pub fn draft_from(
    texts: Texts,
    dates: &[&str; 4],
    confidential: bool,
) -> Result<CertificateDraft, Invalid> {
    let mut errors = Invalid::new();
    let d = read_dates(&mut errors, dates[0], dates[1], dates[2], dates[3]);
    let (Some(original_date), Some(issue_date), Some(expiry_date)) =
        (d.original, d.issue, d.expiry)
    else {
        return Err(errors);
    };
    let draft = CertificateDraft {
        number: texts.number,
        standard: texts.standard,
        scope: texts.scope,
        organisation: texts.organisation,
        sites: texts.sites,
        certification_body: texts.certification_body,
        accreditation_body: texts.accreditation_body,
        accreditation_number: texts.accreditation_number,
        original_date,
        issue_date,
        expiry_date,
        next_surveillance: d.surveillance,
        confidential,
    };
    match draft.validate() {
        Ok(draft) if errors.errors.is_empty() => Ok(draft),
        Ok(_) => Err(errors),
        Err(more) => {
            errors.errors.extend(more.errors);
            Err(errors)
        }
    }
}

impl CertificateIn {
    fn draft(self) -> Result<(CertificateDraft, CertificateStatus), Invalid> {
        let dates = [
            self.original_date.as_str(),
            self.issue_date.as_str(),
            self.expiry_date.as_str(),
            self.next_surveillance.as_deref().unwrap_or(""),
        ];
        let draft = draft_from(
            Texts {
                number: self.number,
                standard: self.standard,
                scope: self.scope,
                organisation: self.organisation,
                sites: self.sites,
                certification_body: self.certification_body,
                accreditation_body: self.accreditation_body,
                accreditation_number: self.accreditation_number,
            },
            &dates,
            self.confidential,
        )?;
        Ok((draft, self.status.unwrap_or(CertificateStatus::Valid)))
    }
}

/// The fields to change; absent fields stay, `null` clears the surveillance date. The status
/// moves only through `/certificates/{id}/status`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificatePatch {
    /// The `updated_at` you read: if the certificate changed since, the edit is refused (409).
    pub updated_at: String,
    pub number: Option<String>,
    pub standard: Option<String>,
    pub scope: Option<String>,
    pub organisation: Option<String>,
    pub sites: Option<String>,
    pub certification_body: Option<String>,
    pub accreditation_body: Option<String>,
    pub accreditation_number: Option<String>,
    pub original_date: Option<String>,
    pub issue_date: Option<String>,
    pub expiry_date: Option<String>,
    #[serde(default, deserialize_with = "super::nullable")]
    #[schema(value_type = Option<String>)]
    pub next_surveillance: Option<Option<String>>,
    pub confidential: Option<bool>,
}

impl CertificatePatch {
    /// `current` with the patch applied, validated.
    fn apply(self, current: &Certificate) -> Result<CertificateDraft, Invalid> {
        let or = |new: Option<String>, old: &str| new.unwrap_or_else(|| old.to_owned());
        let date_or =
            |new: Option<String>, old: jiff::civil::Date| new.unwrap_or_else(|| date_out(old));
        let surveillance = match self.next_surveillance {
            Some(given) => given.unwrap_or_default(),
            None => current.next_surveillance.map(date_out).unwrap_or_default(),
        };
        let original = date_or(self.original_date, current.original_date);
        let issue = date_or(self.issue_date, current.issue_date);
        let expiry = date_or(self.expiry_date, current.expiry_date);
        draft_from(
            Texts {
                number: or(self.number, &current.number),
                standard: or(self.standard, &current.standard),
                scope: or(self.scope, &current.scope),
                organisation: or(self.organisation, &current.organisation),
                sites: or(self.sites, &current.sites),
                certification_body: or(self.certification_body, &current.certification_body),
                accreditation_body: or(self.accreditation_body, &current.accreditation_body),
                accreditation_number: or(self.accreditation_number, &current.accreditation_number),
            },
            &[&original, &issue, &expiry, &surveillance],
            self.confidential.unwrap_or(current.confidential),
        )
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CertificateQuery {
    pub status: Option<CertificateStatus>,
    /// `expiry_date` (default) or `updated_at`; a leading `-` sorts descending.
    pub sort: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/certificates", tag = "certificates", params(CertificateQuery),
    responses((status = 200, body = ListOf<CertificateOut>), (status = 400, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::CertificatesRead>,
    ApiQuery(q): ApiQuery<CertificateQuery>,
) -> ApiResult<Json<ListOf<CertificateOut>>> {
    let filter = CertificateFilter {
        status: q.status,
        sort: q.sort,
    };
    let page = PageRequest {
        limit: q.limit,
        cursor: q.cursor,
    };
    let found = state
        .store
        .certificates(who.tenant_id(), &filter, &page)
        .await?;
    Ok(Json(ListOf::from_page(found, CertificateOut::from)))
}

#[utoipa::path(post, path = "/certificates", tag = "certificates", request_body = CertificateIn,
    responses((status = 201, body = CertificateOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::CertificatesWrite>,
    ApiJson(body): ApiJson<CertificateIn>,
) -> ApiResult<(StatusCode, Json<CertificateOut>)> {
    let (draft, status) = body.draft()?;
    let certificate = state
        .store
        .create_certificate(
            who.tenant_id(),
            &draft,
            status,
            "Recorded",
            today_utc(),
            &who.actor(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(certificate.into())))
}

#[utoipa::path(get, path = "/certificates/{id}", tag = "certificates", params(("id" = i64, Path)),
    responses((status = 200, body = CertificateOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_one(
    State(state): State<AppState>,
    who: Can<perm::CertificatesRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CertificateOut>> {
    Ok(Json(
        state.store.certificate(who.tenant_id(), id).await?.into(),
    ))
}

#[utoipa::path(patch, path = "/certificates/{id}", tag = "certificates", params(("id" = i64, Path)), request_body = CertificatePatch,
    description = "Edits a certificate's fields (a re-issue moves its dates). `updated_at` is the one you read: an edit over someone else's is refused with 409.",
    responses((status = 200, body = CertificateOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::CertificatesWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CertificatePatch>,
) -> ApiResult<Json<CertificateOut>> {
    let current = state.store.certificate(who.tenant_id(), id).await?;
    let seen = parse_time("updated_at", &body.updated_at)?;
    let draft = body.apply(&current)?;
    let saved = state
        .store
        .update_certificate(who.tenant_id(), id, seen, &draft, &who.actor())
        .await?;
    Ok(Json(saved.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusIn {
    pub to: CertificateStatus,
    /// Why: kept in the status history and shown with the status.
    pub reason: String,
}

#[utoipa::path(post, path = "/certificates/{id}/status", tag = "certificates", params(("id" = i64, Path)), request_body = StatusIn,
    description = "Changes the certificate's status: valid ↔ suspended; valid or suspended → withdrawn or expired; expired → valid once re-issued with a later expiry date. Withdrawn is final. A move the lifecycle does not allow is a 409 naming the allowed ones, and changes nothing.",
    responses((status = 200, body = CertificateOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn change_status(
    State(state): State<AppState>,
    who: Can<perm::CertificatesWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<StatusIn>,
) -> ApiResult<Json<CertificateOut>> {
    let current = state.store.certificate(who.tenant_id(), id).await?;
    let today = today_utc();
    if let Err(refusal) = current
        .status
        .transition(body.to, current.expiry_date, today)
    {
        let allowed = CertificateOut::from(current)
            .next
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect();
        return Err(ApiError::transition(refusal.to_string(), allowed));
    }
    let moved = state
        .store
        .change_certificate_status(
            who.tenant_id(),
            id,
            body.to,
            &body.reason,
            today,
            &who.actor(),
        )
        .await?;
    Ok(Json(moved.into()))
}

/// One status a certificate had.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusChangeOut {
    /// Absent for the status it was recorded with.
    pub from: Option<String>,
    pub to: String,
    pub reason: String,
    /// The user, or `system` for the daily expiry job.
    pub by: String,
    pub at: String,
}

impl From<StatusChange> for StatusChangeOut {
    fn from(h: StatusChange) -> Self {
        StatusChangeOut {
            from: h.from_status,
            to: h.to_status,
            reason: h.reason,
            by: h.actor_label,
            at: time(h.at),
        }
    }
}

#[utoipa::path(get, path = "/certificates/{id}/history", tag = "certificates", params(("id" = i64, Path)),
    description = "Every status the certificate has had, oldest first.",
    responses((status = 200, body = Vec<StatusChangeOut>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn history(
    State(state): State<AppState>,
    who: Can<perm::CertificatesRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<StatusChangeOut>>> {
    let rows = state.store.certificate_history(who.tenant_id(), id).await?;
    Ok(Json(rows.into_iter().map(StatusChangeOut::from).collect()))
}
