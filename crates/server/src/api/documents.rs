//! Controlled documents (ISO/IEC 20000-1 7.5): `/documents`, their versions with review and
//! approval, periodic reviews, acknowledgements by the distribution, and files on versions.
//!
//! Admins and managers write and approve; agents and auditors read. Acknowledging needs only
//! read access and a place on the document's distribution (auditors read but are not on it).

use super::attachments::{
    AttachmentOut, UploadQuery, clean_content_type, clean_filename, content_disposition,
};
use super::date_out;
use super::{ApiJson, ApiPath, ApiQuery, ListOf, parse_time, time};
use crate::AppState;
use crate::auth::{Can, Principal, perm};
use crate::document_reminders::render_notice;
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use steward_domain::Invalid;
use steward_domain::asset::parse_date;
use steward_domain::sms::document::{
    Classification, DEFAULT_RETENTION_YEARS, DEFAULT_REVIEW_MONTHS, DocumentDraft, DocumentKind,
    DocumentStatus, VersionDraft, VersionState, is_overdue,
};
use steward_store::asset::today_utc;
use steward_store::document::{
    Acknowledgement, Document, DocumentFilter, DocumentListing, DocumentReview, DocumentVersion,
    Reader,
};
use steward_store::mail::{Attachment, NewAttachment};
use steward_store::{PageRequest, now_micros};
use utoipa::{IntoParams, ToSchema};

/// The version in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct CurrentOut {
    pub number: i64,
    pub approved_at: String,
    pub approved_by: String,
}

/// The version not yet approved.
#[derive(Debug, Serialize, ToSchema)]
pub struct PendingOut {
    pub number: i64,
    pub state: VersionState,
    pub reviewer_id: Option<i64>,
}

/// A document in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentSummaryOut {
    pub id: i64,
    pub reference: String,
    pub title: String,
    pub kind: DocumentKind,
    pub status: DocumentStatus,
    pub classification: Classification,
    pub owner_id: i64,
    pub owner_name: String,
    /// `YYYY-MM-DD`; absent until a version is approved.
    pub review_due: Option<String>,
    pub review_overdue: bool,
    /// The current approved version; absent while none is.
    pub current: Option<CurrentOut>,
    /// A newer version not yet approved.
    pub pending: Option<PendingOut>,
}

impl From<DocumentListing> for DocumentSummaryOut {
    fn from(d: DocumentListing) -> Self {
        DocumentSummaryOut {
            review_overdue: d.status == DocumentStatus::Active
                && is_overdue(d.review_due, today_utc()),
            review_due: d.review_due.map(date_out),
            current: d.approved.map(|a| CurrentOut {
                number: a.number,
                approved_at: time(a.approved_at),
                approved_by: a.approved_by,
            }),
            pending: d.pending.map(|p| PendingOut {
                number: p.number,
                state: p.state,
                reviewer_id: p.reviewer_id,
            }),
            id: d.id,
            reference: d.reference,
            title: d.title,
            kind: d.kind,
            status: d.status,
            classification: d.classification,
            owner_id: d.owner_id,
            owner_name: d.owner_name,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentOut {
    #[serde(flatten)]
    pub summary: DocumentSummaryOut,
    pub review_months: i64,
    pub retention_years: i64,
    pub distribution_users: Vec<i64>,
    pub distribution_teams: Vec<i64>,
    pub withdrawn_at: Option<String>,
    pub withdrawn_reason: String,
    /// `YYYY-MM-DD`: when its retention ends, once withdrawn.
    pub retained_until: Option<String>,
    pub created_at: String,
    /// Send it back as `updated_at` in a PUT; an edit over someone else's is refused.
    pub updated_at: String,
}

fn document_out(d: Document, listing: DocumentListing) -> DocumentOut {
    DocumentOut {
        summary: listing.into(),
        review_months: d.review_months,
        retention_years: d.retention_years,
        retained_until: d.retained_until().map(date_out),
        distribution_users: d.distribution_users,
        distribution_teams: d.distribution_teams,
        withdrawn_at: d.withdrawn_at.map(time),
        withdrawn_reason: d.withdrawn_reason,
        created_at: time(d.created_at),
        updated_at: time(d.updated_at),
    }
}

async fn full(state: &AppState, tenant_id: i64, d: Document) -> ApiResult<DocumentOut> {
    let listing = state.store.document_listing(tenant_id, d.id).await?;
    Ok(document_out(d, listing))
}

/// A document to record (or, with `updated_at`, its new fields).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentIn {
    /// Letters, digits and `- . _ /`, e.g. `SMS-POL-01`; unique in the organisation, ignoring
    /// case.
    pub reference: String,
    pub title: String,
    /// One active document of each of `scope`, `policy`, `plan` and `communication_plan`.
    pub kind: DocumentKind,
    /// An active admin, manager or agent.
    pub owner_id: i64,
    /// 1 to 36; 12 unless given.
    pub review_months: Option<i64>,
    /// Years kept after it is withdrawn or superseded, 1 to 50; 6 unless given.
    pub retention_years: Option<i64>,
    /// `internal` unless given.
    pub classification: Option<Classification>,
    /// People who must receive and read it.
    #[serde(default)]
    pub distribution_users: Vec<i64>,
    /// Teams whose members must receive and read it.
    #[serde(default)]
    pub distribution_teams: Vec<i64>,
    /// Only in a PUT: the `updated_at` you read.
    pub updated_at: Option<String>,
}

impl DocumentIn {
    fn draft(&self) -> Result<DocumentDraft, Invalid> {
        DocumentDraft {
            reference: self.reference.clone(),
            title: self.title.clone(),
            kind: self.kind,
            owner_id: self.owner_id,
            review_months: self.review_months.unwrap_or(DEFAULT_REVIEW_MONTHS),
            retention_years: self.retention_years.unwrap_or(DEFAULT_RETENTION_YEARS),
            classification: self.classification.unwrap_or(Classification::Internal),
            distribution_users: self.distribution_users.clone(),
            distribution_teams: self.distribution_teams.clone(),
        }
        .validate()
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DocumentQuery {
    pub kind: Option<DocumentKind>,
    pub status: Option<DocumentStatus>,
    /// Only active documents whose review is overdue.
    #[serde(default)]
    pub overdue: bool,
    /// Only documents with a version waiting for the caller's approval.
    #[serde(default)]
    pub awaiting_me: bool,
    /// `title` (default) or `updated_at`; a leading `-` sorts descending.
    pub sort: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/documents", tag = "documents", params(DocumentQuery),
    responses((status = 200, body = ListOf<DocumentSummaryOut>), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::DocumentsRead>,
    ApiQuery(q): ApiQuery<DocumentQuery>,
) -> ApiResult<Json<ListOf<DocumentSummaryOut>>> {
    let filter = DocumentFilter {
        kind: q.kind,
        status: q.status,
        overdue_on: q.overdue.then(today_utc),
        awaiting: q.awaiting_me.then_some(who.user.id),
        sort: q.sort,
    };
    let page = PageRequest {
        limit: q.limit,
        cursor: q.cursor,
    };
    let found = state
        .store
        .documents(who.tenant_id(), &filter, &page)
        .await?;
    Ok(Json(ListOf::from_page(found, DocumentSummaryOut::from)))
}

#[utoipa::path(post, path = "/documents", tag = "documents", request_body = DocumentIn,
    responses((status = 201, body = DocumentOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::DocumentsWrite>,
    ApiJson(body): ApiJson<DocumentIn>,
) -> ApiResult<(StatusCode, Json<DocumentOut>)> {
    let draft = body.draft()?;
    let t = who.tenant_id();
    let created = state.store.create_document(t, &draft, &who.actor()).await?;
    Ok((StatusCode::CREATED, Json(full(&state, t, created).await?)))
}

#[utoipa::path(get, path = "/documents/{id}", tag = "documents", params(("id" = i64, Path)),
    responses((status = 200, body = DocumentOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_one(
    State(state): State<AppState>,
    who: Can<perm::DocumentsRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<DocumentOut>> {
    let t = who.tenant_id();
    let d = state.store.document(t, id).await?;
    Ok(Json(full(&state, t, d).await?))
}

#[utoipa::path(put, path = "/documents/{id}", tag = "documents", params(("id" = i64, Path)), request_body = DocumentIn,
    description = "Replaces a document's fields (not its text: that is in versions). `updated_at` is required and is the one you read: an edit over someone else's is refused with 409.",
    responses((status = 200, body = DocumentOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::DocumentsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<DocumentIn>,
) -> ApiResult<Json<DocumentOut>> {
    let t = who.tenant_id();
    state.store.document(t, id).await?;
    let Some(seen) = body.updated_at.as_deref() else {
        return Err(Invalid::one("updated_at", "Send the updated_at you read").into());
    };
    let seen = parse_time("updated_at", seen)?;
    let draft = body.draft()?;
    let saved = state
        .store
        .update_document(t, id, seen, &draft, &who.actor())
        .await?;
    Ok(Json(full(&state, t, saved).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonIn {
    pub reason: String,
}

#[utoipa::path(post, path = "/documents/{id}/withdraw", tag = "documents", params(("id" = i64, Path)), request_body = ReasonIn,
    description = "Withdraws the document: it is kept with its history, its retention runs from now, and a core document's kind is free for a successor.",
    responses((status = 200, body = DocumentOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn withdraw(
    State(state): State<AppState>,
    who: Can<perm::DocumentsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ReasonIn>,
) -> ApiResult<Json<DocumentOut>> {
    let t = who.tenant_id();
    state.store.document(t, id).await?;
    let saved = state
        .store
        .withdraw_document(t, id, &body.reason, &who.actor())
        .await?;
    Ok(Json(full(&state, t, saved).await?))
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DocumentVersionOut)]
pub struct VersionOut {
    pub number: i64,
    pub state: VersionState,
    /// Plain text; keep its line breaks when showing it.
    pub body: String,
    pub change_summary: String,
    pub author_id: Option<i64>,
    pub author: String,
    pub reviewer_id: Option<i64>,
    pub submitted_at: Option<String>,
    /// Why it was last returned.
    pub returned_reason: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<String>,
    pub superseded_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<DocumentVersion> for VersionOut {
    fn from(v: DocumentVersion) -> Self {
        VersionOut {
            number: v.number,
            state: v.state,
            body: v.body,
            change_summary: v.change_summary,
            author_id: v.author_id,
            author: v.author_label,
            reviewer_id: v.reviewer_id,
            submitted_at: v.submitted_at.map(time),
            returned_reason: v.returned_reason,
            approved_by: v.approved_at.map(|_| v.approved_by_label),
            approved_at: v.approved_at.map(time),
            superseded_at: v.superseded_at.map(time),
            created_at: time(v.created_at),
            updated_at: time(v.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionIn {
    /// Plain text, up to 200 000 characters.
    pub body: String,
    pub change_summary: String,
}

impl VersionIn {
    fn draft(self) -> Result<VersionDraft, Invalid> {
        VersionDraft {
            body: self.body,
            change_summary: self.change_summary,
        }
        .validate()
    }
}

#[utoipa::path(get, path = "/documents/{id}/versions", tag = "documents", params(("id" = i64, Path)),
    description = "The document's versions, newest first.",
    responses((status = 200, body = Vec<VersionOut>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn versions(
    State(state): State<AppState>,
    who: Can<perm::DocumentsRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<VersionOut>>> {
    let found = state.store.document_versions(who.tenant_id(), id).await?;
    Ok(Json(found.into_iter().map(VersionOut::from).collect()))
}

#[utoipa::path(post, path = "/documents/{id}/versions", tag = "documents", params(("id" = i64, Path)), request_body = VersionIn,
    description = "Starts the next version as a draft by the caller. Refused with 409 while another version is not yet approved.",
    responses((status = 201, body = VersionOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_version(
    State(state): State<AppState>,
    who: Can<perm::DocumentsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<VersionIn>,
) -> ApiResult<(StatusCode, Json<VersionOut>)> {
    let t = who.tenant_id();
    state.store.document(t, id).await?;
    let draft = body.draft()?;
    let created = state
        .store
        .create_document_version(t, id, &draft, now_micros(), &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(get, path = "/documents/{id}/versions/{number}", tag = "documents",
    params(("id" = i64, Path), ("number" = i64, Path, description = "1, 2, 3…")),
    responses((status = 200, body = VersionOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_version(
    State(state): State<AppState>,
    who: Can<perm::DocumentsRead>,
    ApiPath((id, number)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<VersionOut>> {
    let v = state
        .store
        .document_version(who.tenant_id(), id, number)
        .await?;
    Ok(Json(v.into()))
}

#[utoipa::path(put, path = "/documents/{id}/versions/{number}", tag = "documents",
    params(("id" = i64, Path), ("number" = i64, Path)), request_body = VersionIn,
    description = "Replaces the text of a draft or returned version; only its author may. Approved and superseded versions never change (409).",
    responses((status = 200, body = VersionOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update_version(
    State(state): State<AppState>,
    who: Can<perm::DocumentsWrite>,
    ApiPath((id, number)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<VersionIn>,
) -> ApiResult<Json<VersionOut>> {
    let t = who.tenant_id();
    state.store.document_version(t, id, number).await?;
    let draft = body.draft()?;
    let saved = state
        .store
        .update_document_version(t, id, number, &draft, &who.actor())
        .await?;
    Ok(Json(saved.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitIn {
    /// Who reviews and approves it: an active admin or manager other than the author.
    pub reviewer_id: i64,
}

#[utoipa::path(post, path = "/documents/{id}/versions/{number}/submit", tag = "documents",
    params(("id" = i64, Path), ("number" = i64, Path)), request_body = SubmitIn,
    description = "The author sends a draft or returned version for review and approval.",
    responses((status = 200, body = VersionOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn submit(
    State(state): State<AppState>,
    who: Can<perm::DocumentsWrite>,
    ApiPath((id, number)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<SubmitIn>,
) -> ApiResult<Json<VersionOut>> {
    let t = who.tenant_id();
    state.store.document_version(t, id, number).await?;
    let saved = state
        .store
        .submit_document_version(t, id, number, body.reviewer_id, now_micros(), &who.actor())
        .await?;
    Ok(Json(saved.into()))
}

#[utoipa::path(post, path = "/documents/{id}/versions/{number}/approve", tag = "documents",
    params(("id" = i64, Path), ("number" = i64, Path)),
    description = "Approves a version in review. The author may not approve their own version (409). The version approved before it is superseded, the review date moves, and everyone on the distribution is mailed a notice.",
    responses((status = 200, body = VersionOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
pub async fn approve(
    State(state): State<AppState>,
    who: Can<perm::DocumentsWrite>,
    ApiPath((id, number)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<VersionOut>> {
    let t = who.tenant_id();
    state.store.document_version(t, id, number).await?;
    let saved = state
        .store
        .approve_document_version(t, id, number, now_micros(), &who.actor(), &render_notice)
        .await?;
    Ok(Json(saved.into()))
}

#[utoipa::path(post, path = "/documents/{id}/versions/{number}/return", tag = "documents",
    params(("id" = i64, Path), ("number" = i64, Path)), request_body = ReasonIn,
    description = "Sends a version in review back to its author with a reason.",
    responses((status = 200, body = VersionOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn return_version(
    State(state): State<AppState>,
    who: Can<perm::DocumentsWrite>,
    ApiPath((id, number)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<ReasonIn>,
) -> ApiResult<Json<VersionOut>> {
    let t = who.tenant_id();
    state.store.document_version(t, id, number).await?;
    let saved = state
        .store
        .return_document_version(t, id, number, &body.reason, &who.actor())
        .await?;
    Ok(Json(saved.into()))
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DocumentReviewOut)]
pub struct ReviewOut {
    pub id: i64,
    /// `YYYY-MM-DD`.
    pub reviewed_on: String,
    pub note: String,
    pub reviewer: String,
    pub created_at: String,
}

impl From<DocumentReview> for ReviewOut {
    fn from(r: DocumentReview) -> Self {
        ReviewOut {
            id: r.id,
            reviewed_on: r.reviewed_on,
            note: r.note,
            reviewer: r.reviewer_label,
            created_at: time(r.created_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = DocumentReviewIn)]
pub struct ReviewIn {
    /// `YYYY-MM-DD`, not in the future; today unless given.
    pub reviewed_on: Option<String>,
    #[serde(default)]
    pub note: String,
}

/// The review date as typed: today when empty.
pub fn reviewed_on(text: &str) -> Result<jiff::civil::Date, Invalid> {
    let mut errors = Invalid::new();
    let date = parse_date(&mut errors, "reviewed_on", "Review date", text);
    errors.into_result(date.unwrap_or_else(today_utc))
}

#[utoipa::path(get, path = "/documents/{id}/reviews", tag = "documents", params(("id" = i64, Path)),
    description = "Periodic reviews that found the document still fit for purpose, newest first.",
    responses((status = 200, body = Vec<ReviewOut>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn reviews(
    State(state): State<AppState>,
    who: Can<perm::DocumentsRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<ReviewOut>>> {
    let found = state.store.document_reviews(who.tenant_id(), id).await?;
    Ok(Json(found.into_iter().map(ReviewOut::from).collect()))
}

#[utoipa::path(post, path = "/documents/{id}/reviews", tag = "documents", params(("id" = i64, Path)), request_body = ReviewIn,
    description = "Records a review without a new version (\"reviewed, still fit for purpose\"); the next review falls due one interval after it. Needs an approved version (409 otherwise).",
    responses((status = 201, body = ReviewOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn record_review(
    State(state): State<AppState>,
    who: Can<perm::DocumentsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ReviewIn>,
) -> ApiResult<(StatusCode, Json<ReviewOut>)> {
    let t = who.tenant_id();
    state.store.document(t, id).await?;
    let on = reviewed_on(body.reviewed_on.as_deref().unwrap_or_default())?;
    let review = state
        .store
        .record_document_review(t, id, on, today_utc(), &body.note, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(review.into())))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReaderOut {
    pub user_id: i64,
    pub name: String,
    /// When they confirmed reading the current approved version; absent if not yet.
    pub acknowledged_at: Option<String>,
}

impl From<Reader> for ReaderOut {
    fn from(r: Reader) -> Self {
        ReaderOut {
            user_id: r.user_id,
            name: r.name,
            acknowledged_at: r.acknowledged_at.map(time),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AwarenessOut {
    /// The current approved version's number; absent while none is.
    pub current_version: Option<i64>,
    /// Everyone on the distribution.
    pub readers: Vec<ReaderOut>,
    pub acknowledged: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AcknowledgementOut {
    pub id: i64,
    pub version_id: i64,
    pub user_id: i64,
    pub at: String,
}

impl From<Acknowledgement> for AcknowledgementOut {
    fn from(a: Acknowledgement) -> Self {
        AcknowledgementOut {
            id: a.id,
            version_id: a.version_id,
            user_id: a.user_id,
            at: time(a.at),
        }
    }
}

#[utoipa::path(get, path = "/documents/{id}/acknowledgements", tag = "documents", params(("id" = i64, Path)),
    description = "Who on the distribution has and has not confirmed reading the current approved version.",
    responses((status = 200, body = AwarenessOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn awareness(
    State(state): State<AppState>,
    who: Can<perm::DocumentsRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<AwarenessOut>> {
    let t = who.tenant_id();
    let readers = state.store.document_readers(t, id).await?;
    let listing = state.store.document_listing(t, id).await?;
    Ok(Json(AwarenessOut {
        current_version: listing.approved.map(|a| a.number),
        acknowledged: readers
            .iter()
            .filter(|r| r.acknowledged_at.is_some())
            .count(),
        readers: readers.into_iter().map(ReaderOut::from).collect(),
    }))
}

/// Whether `who` is on the document's distribution (a `NotFound` for another tenant's).
pub async fn on_distribution(state: &AppState, who: &Principal, id: i64) -> ApiResult<bool> {
    let readers = state.store.document_readers(who.tenant_id(), id).await?;
    Ok(readers.iter().any(|r| r.user_id == who.user.id))
}

#[utoipa::path(post, path = "/documents/{id}/acknowledgements", tag = "documents", params(("id" = i64, Path)),
    description = "The caller confirms having read the current approved version. Only people on the distribution may (403 otherwise); confirming again keeps the first.",
    responses((status = 201, body = AcknowledgementOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
pub async fn acknowledge(
    State(state): State<AppState>,
    who: Can<perm::DocumentsRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<(StatusCode, Json<AcknowledgementOut>)> {
    if !on_distribution(&state, &who, id).await? {
        return Err(ApiError::forbidden());
    }
    let ack = state
        .store
        .acknowledge_document(who.tenant_id(), id, who.user.id, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(ack.into())))
}

fn too_large(max: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too-large",
        format!("The file is larger than the limit of {max} bytes."),
    )
}

/// Checks and stores a file on a version; shared by API and UI.
pub async fn attach(
    state: &AppState,
    who: &Principal,
    (id, number): (i64, i64),
    filename: &str,
    content_type: Option<&str>,
    bytes: &[u8],
) -> ApiResult<Attachment> {
    let max = state.config.max_upload_bytes;
    if bytes.len() > max {
        return Err(too_large(max));
    }
    let filename = clean_filename(filename);
    let mut errors = Invalid::new();
    if filename.is_empty() {
        errors.add("filename", "Name the file, e.g. ?filename=signed.pdf");
    }
    if bytes.is_empty() {
        errors.add("file", "The file is empty");
    }
    errors.into_result(())?;
    let content_type = clean_content_type(content_type);
    let file = NewAttachment {
        filename: &filename,
        content_type: &content_type,
        bytes,
    };
    Ok(state
        .store
        .attach_document_file(who.tenant_id(), id, number, file, &who.actor())
        .await?)
}

#[utoipa::path(get, path = "/documents/{id}/versions/{number}/files", tag = "documents",
    params(("id" = i64, Path), ("number" = i64, Path)),
    responses((status = 200, body = Vec<AttachmentOut>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn files(
    State(state): State<AppState>,
    who: Can<perm::DocumentsRead>,
    ApiPath((id, number)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<Vec<AttachmentOut>>> {
    let t = who.tenant_id();
    let target = state.store.document_files_target(t, id, number).await?;
    let found = state.store.attachments(t, &target).await?;
    Ok(Json(found.into_iter().map(AttachmentOut::from).collect()))
}

#[utoipa::path(post, path = "/documents/{id}/versions/{number}/files", tag = "documents",
    params(("id" = i64, Path), ("number" = i64, Path), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "The file itself; send its own media type as Content-Type"),
    description = "Attaches a file (a signed PDF, a diagram) to a draft or returned version; an approved version's files never change (409).",
    responses((status = 201, body = AttachmentOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)))]
pub async fn upload(
    State(state): State<AppState>,
    who: Can<perm::DocumentsWrite>,
    ApiPath((id, number)): ApiPath<(i64, i64)>,
    ApiQuery(q): ApiQuery<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<AttachmentOut>)> {
    state
        .store
        .document_version(who.tenant_id(), id, number)
        .await?;
    let max = state.config.max_upload_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large(max));
    }
    let bytes = axum::body::to_bytes(body, max)
        .await
        .map_err(|_| too_large(max))?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let saved = attach(
        &state,
        &who,
        (id, number),
        q.filename.as_deref().unwrap_or_default(),
        content_type,
        &bytes,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(saved.into())))
}

/// A version's file as a download; shared by API and UI.
pub async fn download_response(
    state: &AppState,
    tenant_id: i64,
    (id, number, file_id): (i64, i64, i64),
) -> ApiResult<Response> {
    let target = state
        .store
        .document_files_target(tenant_id, id, number)
        .await?;
    let file = state.store.attachment(tenant_id, &target, file_id).await?;
    let bytes = state.store.attachment_bytes(tenant_id, file.id).await?;
    let content_type = HeaderValue::from_str(&file.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let disposition = HeaderValue::from_str(&content_disposition(&file.filename))
        .unwrap_or(HeaderValue::from_static("attachment"));
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            // Never run as a page, even if a browser were talked into showing it.
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; sandbox"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("private")),
        ],
        bytes,
    )
        .into_response())
}

#[utoipa::path(get, path = "/documents/{id}/versions/{number}/files/{file_id}", tag = "documents",
    params(("id" = i64, Path), ("number" = i64, Path), ("file_id" = i64, Path)),
    responses((status = 200, description = "The file, as a download", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn download(
    State(state): State<AppState>,
    who: Can<perm::DocumentsRead>,
    ApiPath((id, number, file_id)): ApiPath<(i64, i64, i64)>,
) -> ApiResult<Response> {
    download_response(&state, who.tenant_id(), (id, number, file_id)).await
}
