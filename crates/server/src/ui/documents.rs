//! Controlled documents' pages: the list with its filters and badges, the document form, the
//! document page (the banner naming the version in force, version history, reviews,
//! distribution with its reading progress, and the actions the viewer may take), and the version
//! page (its text with line breaks kept, files, and submit, approve and return forms) with its
//! editor.
//!
//! The forms read into the same drafts the API validates, and the store refuses what the API
//! refuses, so a page shows the API's messages beside its fields and keeps what was typed.

use super::attachments::{human_size, read_upload};
use super::session::DoneQuery;
use super::{
    Chrome, FormState, HistoryRow, Id, ListFrame, Opt, UiResult, filter_choices, history, options,
    when,
};
use crate::AppState;
use crate::api::date_out;
use crate::api::documents::{attach, download_response, on_distribution, reviewed_on};
use crate::auth::{Can, Principal, perm};
use crate::document_reminders::render_notice;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::multipart::Multipart;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::sms::document::{
    Classification, DEFAULT_RETENTION_YEARS, DEFAULT_REVIEW_MONTHS, DocumentDraft, DocumentKind,
    DocumentStatus, VersionDraft, VersionState, is_overdue,
};
use steward_store::asset::today_utc;
use steward_store::document::{
    Document, DocumentFilter, DocumentListing, DocumentVersion, VERSION_FILES,
};
use steward_store::mail::MailTarget;
use steward_store::{PageRequest, StoreError, now_micros};

/// Where the navigation points; every document page marks it.
pub const NAV_HREF: &str = "/documents";

/// The current approved version in words: "v3 approved 2026-03-02 by …".
fn current_text(d: &DocumentListing) -> Option<String> {
    d.approved.as_ref().map(|a| {
        format!(
            "v{} approved {} by {}",
            a.number,
            date_out(steward_store::document::date_of(a.approved_at)),
            a.approved_by
        )
    })
}

/// A newer version not yet approved, in words: "v4 in review".
fn pending_text(d: &DocumentListing) -> Option<String> {
    d.pending
        .as_ref()
        .map(|p| format!("v{} {}", p.number, p.state.label().to_lowercase()))
}

pub struct Row {
    pub id: i64,
    pub reference: String,
    pub title: String,
    pub kind: &'static str,
    pub status: &'static str,
    pub withdrawn: bool,
    pub owner: String,
    pub current: Option<String>,
    pub pending: Option<String>,
    pub review_due: String,
    pub overdue: bool,
    /// A version waits for the viewer's approval.
    pub awaiting_me: bool,
}

fn row(d: DocumentListing, me: i64) -> Row {
    let today = today_utc();
    Row {
        current: current_text(&d),
        pending: pending_text(&d),
        overdue: d.status == DocumentStatus::Active && is_overdue(d.review_due, today),
        awaiting_me: d
            .pending
            .as_ref()
            .is_some_and(|p| p.state == VersionState::InReview && p.reviewer_id == Some(me)),
        review_due: d.review_due.map(date_out).unwrap_or_else(|| "—".into()),
        kind: d.kind.label(),
        status: d.status.label(),
        withdrawn: d.status == DocumentStatus::Withdrawn,
        id: d.id,
        reference: d.reference,
        title: d.title,
        owner: d.owner_name,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "documents/list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    kinds: Vec<Opt>,
    statuses: Vec<Opt>,
    overdue: bool,
    mine: bool,
    filtered: bool,
    next: Option<String>,
    can_write: bool,
    no_errors: FormState,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    kind: String,
    status: String,
    overdue: String,
    mine: String,
    cursor: Option<String>,
    done: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::DocumentsRead>,
    Query(q): Query<ListQuery>,
) -> UiResult {
    let overdue = !q.overdue.is_empty();
    let mine = !q.mine.is_empty();
    let filter = DocumentFilter {
        kind: DocumentKind::parse(q.kind.trim()),
        status: DocumentStatus::parse(q.status.trim()),
        overdue_on: overdue.then(today_utc),
        awaiting: mine.then_some(who.user.id),
        sort: None,
    };
    let page = PageRequest {
        limit: Some(50),
        cursor: q.cursor.clone(),
    };
    let found = match state.store.documents(who.tenant_id(), &filter, &page).await {
        Err(StoreError::Invalid(_)) => return Ok(Redirect::to(NAV_HREF).into_response()),
        other => other?,
    };
    let me = who.user.id;
    let rows = found.items.into_iter().map(|d| row(d, me)).collect();
    let params = [
        ("kind", q.kind.as_str()),
        ("status", q.status.as_str()),
        ("overdue", q.overdue.as_str()),
        ("mine", q.mine.as_str()),
    ];
    let frame = ListFrame::new(
        &state,
        &who,
        NAV_HREF,
        &params,
        found.next_cursor,
        q.done.as_deref(),
    )
    .await;
    Ok(ListPage {
        chrome: frame.chrome,
        rows,
        kinds: filter_choices(
            DocumentKind::ALL,
            "— any kind —",
            DocumentKind::as_str,
            DocumentKind::label,
            &q.kind,
        ),
        statuses: filter_choices(
            DocumentStatus::ALL,
            "— any status —",
            DocumentStatus::as_str,
            DocumentStatus::label,
            &q.status,
        ),
        overdue,
        mine,
        filtered: frame.filtered,
        next: frame.next,
        can_write: who.can(Permission::DocumentsWrite),
        no_errors: FormState::default(),
    }
    .into_response())
}

/// A person or team the distribution may list, ticked or not.
pub struct Tick {
    pub id: i64,
    pub name: String,
    pub ticked: bool,
}

/// What the document form posts, as typed.
#[derive(Debug, Default)]
struct DocumentForm {
    fields: Vec<(String, String)>,
    users: Vec<i64>,
    teams: Vec<i64>,
    seen: Option<i64>,
}

const FIELDS: [&str; 7] = [
    "reference",
    "title",
    "kind",
    "owner_id",
    "review_months",
    "retention_years",
    "classification",
];

impl DocumentForm {
    fn posted(pairs: Vec<(String, String)>) -> DocumentForm {
        let mut form = DocumentForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "updated_at" => form.seen = v.trim().parse().ok(),
                "distribution_users" => form.users.extend(v.trim().parse::<i64>().ok()),
                "distribution_teams" => form.teams.extend(v.trim().parse::<i64>().ok()),
                name if FIELDS.contains(&name) => form.fields.push((k, v)),
                _ => {}
            }
        }
        form
    }

    fn of(d: &Document) -> DocumentForm {
        let fields = [
            ("reference", d.reference.clone()),
            ("title", d.title.clone()),
            ("kind", d.kind.as_str().to_owned()),
            ("owner_id", d.owner_id.to_string()),
            ("review_months", d.review_months.to_string()),
            ("retention_years", d.retention_years.to_string()),
            ("classification", d.classification.as_str().to_owned()),
        ];
        DocumentForm {
            fields: fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            users: d.distribution_users.clone(),
            teams: d.distribution_teams.clone(),
            seen: Some(d.updated_at),
        }
    }

    fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    fn state(&self) -> FormState {
        let values: Vec<(&str, &str)> = self
            .fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        FormState::with(&values)
    }

    /// A validated draft, with every field's error in one [`Invalid`].
    fn draft(&self) -> Result<DocumentDraft, Invalid> {
        let mut errors = Invalid::new();
        let mut number = |field: &str, label: &str, default: i64| match self.get(field).trim() {
            "" => default,
            text => text.parse().unwrap_or_else(|_| {
                errors.add(field, format!("{label} must be a whole number"));
                default
            }),
        };
        let review_months = number("review_months", "Review interval", DEFAULT_REVIEW_MONTHS);
        let retention_years = number("retention_years", "Retention", DEFAULT_RETENTION_YEARS);
        let owner_id = number("owner_id", "Owner", 0);
        let kind = DocumentKind::parse(self.get("kind").trim());
        if kind.is_none() {
            errors.add("kind", "Choose the kind of document");
        }
        if owner_id == 0 {
            errors.add("owner_id", "Choose the owner");
        }
        let draft = DocumentDraft {
            reference: self.get("reference").to_owned(),
            title: self.get("title").to_owned(),
            kind: kind.unwrap_or(DocumentKind::Other),
            owner_id,
            review_months,
            retention_years,
            classification: Classification::parse(self.get("classification").trim())
                .unwrap_or(Classification::Internal),
            distribution_users: self.users.clone(),
            distribution_teams: self.teams.clone(),
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
}

#[derive(Template, WebTemplate)]
#[template(path = "documents/form.html")]
struct FormPage {
    chrome: Chrome,
    heading: String,
    action: String,
    cancel: String,
    form: FormState,
    seen: Option<i64>,
    kinds: Vec<Opt>,
    owners: Vec<Opt>,
    classifications: Vec<Opt>,
    users: Vec<Tick>,
    teams: Vec<Tick>,
}

async fn render_form(
    state: &AppState,
    who: &Principal,
    editing: Option<&Document>,
    form: &DocumentForm,
    invalid: Option<Invalid>,
) -> UiResult {
    let t = who.tenant_id();
    let (heading, action, cancel) = match editing {
        None => (
            "New document".to_owned(),
            NAV_HREF.to_owned(),
            NAV_HREF.to_owned(),
        ),
        Some(d) => (
            format!("Edit {} {}", d.reference, d.title),
            format!("/documents/{}", d.id),
            format!("/documents/{}", d.id),
        ),
    };
    let people = state.store.document_people(t).await?;
    let teams = state
        .store
        .teams(
            t,
            None,
            &PageRequest {
                limit: Some(500),
                cursor: None,
            },
        )
        .await?
        .items;
    let status = if invalid.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let state_form = match invalid {
        Some(invalid) => form.state().rejected(invalid),
        None => form.state(),
    };
    let page = FormPage {
        chrome: Chrome::new(state, who, NAV_HREF).await,
        heading,
        action,
        cancel,
        seen: form.seen,
        kinds: options(
            DocumentKind::ALL
                .iter()
                .map(|k| (k.as_str().to_owned(), k.label().to_owned())),
            form.get("kind"),
        ),
        owners: super::options_after_blank(
            "— choose —",
            people
                .iter()
                .map(|(id, name)| (id.to_string(), name.clone())),
            form.get("owner_id"),
        ),
        classifications: options(
            Classification::ALL
                .iter()
                .map(|c| (c.as_str().to_owned(), c.label().to_owned())),
            match form.get("classification") {
                "" => "internal",
                c => c,
            },
        ),
        users: people
            .into_iter()
            .map(|(id, name)| Tick {
                ticked: form.users.contains(&id),
                id,
                name,
            })
            .collect(),
        teams: teams
            .into_iter()
            .map(|team| Tick {
                ticked: form.teams.contains(&team.id),
                id: team.id,
                name: team.name,
            })
            .collect(),
        form: state_form,
    };
    Ok((status, page).into_response())
}

pub async fn new_form(State(state): State<AppState>, who: Can<perm::DocumentsWrite>) -> UiResult {
    let blank = DocumentForm {
        fields: vec![
            ("review_months".into(), DEFAULT_REVIEW_MONTHS.to_string()),
            (
                "retention_years".into(),
                DEFAULT_RETENTION_YEARS.to_string(),
            ),
            ("classification".into(), "internal".into()),
            ("owner_id".into(), who.user.id.to_string()),
        ],
        ..Default::default()
    };
    render_form(&state, &who, None, &blank, None).await
}

pub async fn edit_form(
    State(state): State<AppState>,
    who: Can<perm::DocumentsWrite>,
    Id(id): Id<i64>,
) -> UiResult {
    let d = state.store.document(who.tenant_id(), id).await?;
    render_form(&state, &who, Some(&d), &DocumentForm::of(&d), None).await
}

/// Checks and saves the posted form: the document page on success, the form again with the
/// errors and what was typed otherwise.
async fn save(
    state: &AppState,
    who: &Principal,
    current: Option<&Document>,
    form: DocumentForm,
) -> UiResult {
    let t = who.tenant_id();
    let saved: Result<Document, StoreError> = async {
        let draft = form.draft()?;
        match current {
            None => state.store.create_document(t, &draft, &who.actor()).await,
            Some(d) => {
                let seen = form.seen.unwrap_or(d.updated_at);
                state
                    .store
                    .update_document(t, d.id, seen, &draft, &who.actor())
                    .await
            }
        }
    }
    .await;
    let refusal = match saved {
        Ok(d) => return Ok(super::saved_page("/documents", d.id, current.is_some())),
        Err(e) => super::refusal(e, "form")?,
    };
    render_form(state, who, current, &form, Some(refusal)).await
}

pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::DocumentsWrite>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> UiResult {
    save(&state, &who, None, DocumentForm::posted(pairs)).await
}

pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::DocumentsWrite>,
    Id(id): Id<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> UiResult {
    let d = state.store.document(who.tenant_id(), id).await?;
    save(&state, &who, Some(&d), DocumentForm::posted(pairs)).await
}

/// One version in the history table.
pub struct VersionLine {
    pub number: i64,
    pub state: &'static str,
    pub state_code: &'static str,
    pub summary: String,
    pub author: String,
    pub created: String,
    pub approved: String,
}

pub struct ReviewLine {
    pub on: String,
    pub by: String,
    pub note: String,
}

pub struct ReaderLine {
    pub name: String,
    pub read_at: Option<String>,
}

/// The forms of the document page, as typed, with their errors.
#[derive(Default)]
pub struct ViewForms {
    review: FormState,
    withdraw: FormState,
    ack: FormState,
}

#[derive(Template, WebTemplate)]
#[template(path = "documents/view.html")]
struct ViewPage {
    chrome: Chrome,
    d: Document,
    kind: &'static str,
    classification: &'static str,
    owner: String,
    withdrawn: bool,
    withdrawn_on: String,
    retained_until: String,
    current: Option<String>,
    current_number: Option<i64>,
    pending: Option<String>,
    pending_number: Option<i64>,
    review_due: String,
    overdue: bool,
    versions: Vec<VersionLine>,
    reviews: Vec<ReviewLine>,
    readers: Vec<ReaderLine>,
    read_count: usize,
    /// The viewer is on the distribution and has not yet confirmed the current version.
    may_acknowledge: bool,
    can_write: bool,
    may_start_version: bool,
    today: String,
    forms: ViewForms,
    history: Option<Vec<HistoryRow>>,
}

async fn render_view(
    state: &AppState,
    who: &Principal,
    id: i64,
    forms: ViewForms,
    status: StatusCode,
    done: Option<&str>,
) -> UiResult {
    let t = who.tenant_id();
    let d = state.store.document(t, id).await?;
    let listing = state.store.document_listing(t, id).await?;
    let versions = state.store.document_versions(t, id).await?;
    let reviews = state.store.document_reviews(t, id).await?;
    let readers = state.store.document_readers(t, id).await?;
    let me = readers.iter().find(|r| r.user_id == who.user.id);
    let withdrawn = d.status == DocumentStatus::Withdrawn;
    let page = ViewPage {
        chrome: Chrome::new(state, who, NAV_HREF).await.with_notice(done),
        kind: d.kind.label(),
        classification: d.classification.label(),
        owner: listing.owner_name.clone(),
        withdrawn,
        withdrawn_on: d.withdrawn_at.map(when).unwrap_or_default(),
        retained_until: d.retained_until().map(date_out).unwrap_or_default(),
        current: current_text(&listing),
        current_number: listing.approved.as_ref().map(|a| a.number),
        pending: pending_text(&listing),
        pending_number: listing.pending.as_ref().map(|p| p.number),
        review_due: d
            .review_due
            .map(date_out)
            .unwrap_or_else(|| "— (set when a version is approved)".into()),
        overdue: !withdrawn && is_overdue(d.review_due, today_utc()),
        versions: versions
            .into_iter()
            .map(|v| VersionLine {
                number: v.number,
                state: v.state.label(),
                state_code: v.state.as_str(),
                summary: v.change_summary,
                author: v.author_label,
                created: when(v.created_at),
                approved: match v.approved_at {
                    Some(at) => format!("{} by {}", when(at), v.approved_by_label),
                    None => "—".into(),
                },
            })
            .collect(),
        reviews: reviews
            .into_iter()
            .map(|r| ReviewLine {
                on: r.reviewed_on,
                by: r.reviewer_label,
                note: r.note,
            })
            .collect(),
        read_count: readers
            .iter()
            .filter(|r| r.acknowledged_at.is_some())
            .count(),
        may_acknowledge: !withdrawn
            && listing.approved.is_some()
            && me.is_some_and(|r| r.acknowledged_at.is_none()),
        readers: readers
            .iter()
            .map(|r| ReaderLine {
                name: r.name.clone(),
                read_at: r.acknowledged_at.map(when),
            })
            .collect(),
        can_write: who.can(Permission::DocumentsWrite),
        may_start_version: !withdrawn && listing.pending.is_none(),
        today: date_out(today_utc()),
        forms,
        history: history(state, who, "document", id).await,
        d,
    };
    Ok((status, page).into_response())
}

pub async fn view(
    State(state): State<AppState>,
    who: Can<perm::DocumentsRead>,
    Id(id): Id<i64>,
    Query(q): Query<DoneQuery>,
) -> UiResult {
    render_view(
        &state,
        &who,
        id,
        ViewForms::default(),
        StatusCode::OK,
        q.done.as_deref(),
    )
    .await
}

/// A refusal the page shows beside `field`: field errors as they are, a refused move as one
/// message; anything else is an error page.
fn refusal(e: StoreError, field: &str) -> Result<Invalid, StoreError> {
    match e {
        StoreError::Invalid(invalid) => Ok(invalid),
        StoreError::Conflict(message) => Ok(Invalid::one(field, message)),
        other => Err(other),
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ReasonForm {
    reason: String,
}

pub async fn withdraw(
    State(state): State<AppState>,
    who: Can<perm::DocumentsWrite>,
    Id(id): Id<i64>,
    Form(form): Form<ReasonForm>,
) -> UiResult {
    state.store.document(who.tenant_id(), id).await?;
    match state
        .store
        .withdraw_document(who.tenant_id(), id, &form.reason, &who.actor())
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/documents/{id}?done=saved")).into_response()),
        Err(e) => {
            let withdraw =
                FormState::with(&[("reason", &form.reason)]).rejected(refusal(e, "reason")?);
            let forms = ViewForms {
                withdraw,
                ..Default::default()
            };
            render_view(
                &state,
                &who,
                id,
                forms,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
            )
            .await
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ReviewForm {
    reviewed_on: String,
    note: String,
}

pub async fn record_review(
    State(state): State<AppState>,
    who: Can<perm::DocumentsWrite>,
    Id(id): Id<i64>,
    Form(form): Form<ReviewForm>,
) -> UiResult {
    let t = who.tenant_id();
    state.store.document(t, id).await?;
    let saved = match reviewed_on(&form.reviewed_on) {
        Ok(on) => {
            state
                .store
                .record_document_review(t, id, on, today_utc(), &form.note, &who.actor())
                .await
        }
        Err(invalid) => Err(invalid.into()),
    };
    match saved {
        Ok(_) => Ok(Redirect::to(&format!("/documents/{id}?done=saved")).into_response()),
        Err(e) => {
            let review =
                FormState::with(&[("reviewed_on", &form.reviewed_on), ("note", &form.note)])
                    .rejected(refusal(e, "note")?);
            let forms = ViewForms {
                review,
                ..Default::default()
            };
            render_view(
                &state,
                &who,
                id,
                forms,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
            )
            .await
        }
    }
}

pub async fn acknowledge(
    State(state): State<AppState>,
    who: Can<perm::DocumentsRead>,
    Id(id): Id<i64>,
) -> UiResult {
    state.store.document(who.tenant_id(), id).await?;
    let refused = if on_distribution(&state, &who, id).await? {
        match state
            .store
            .acknowledge_document(who.tenant_id(), id, who.user.id, &who.actor())
            .await
        {
            Ok(_) => {
                return Ok(Redirect::to(&format!("/documents/{id}?done=saved")).into_response());
            }
            Err(e) => refusal(e, "ack")?,
        }
    } else {
        Invalid::one(
            "ack",
            "Only people on this document's distribution confirm reading it",
        )
    };
    let forms = ViewForms {
        ack: FormState::default().rejected(refused),
        ..Default::default()
    };
    render_view(
        &state,
        &who,
        id,
        forms,
        StatusCode::UNPROCESSABLE_ENTITY,
        None,
    )
    .await
}

/// A version's file as the page lists it.
pub struct FileLine {
    pub href: String,
    pub filename: String,
    pub size: String,
}

/// The forms of the version page, as typed, with their errors.
#[derive(Default)]
pub struct VersionForms {
    submit: FormState,
    review: FormState,
    file: FormState,
}

#[derive(Template, WebTemplate)]
#[template(path = "documents/version.html")]
struct VersionPage {
    chrome: Chrome,
    d: Document,
    v: DocumentVersion,
    state: &'static str,
    is_current: bool,
    is_draft: bool,
    reviewer: String,
    created: String,
    submitted: String,
    approved: String,
    superseded: String,
    files: Vec<FileLine>,
    upload_action: String,
    /// What the viewer may do to it.
    may_edit: bool,
    may_review: bool,
    approvers: Vec<Opt>,
    forms: VersionForms,
}

async fn render_version(
    state: &AppState,
    who: &Principal,
    (id, number): (i64, i64),
    forms: VersionForms,
    status: StatusCode,
    done: Option<&str>,
) -> UiResult {
    let t = who.tenant_id();
    let d = state.store.document(t, id).await?;
    let v = state.store.document_version(t, id, number).await?;
    let target = MailTarget {
        record_type: VERSION_FILES.into(),
        record_id: v.id,
    };
    let files = state
        .store
        .attachments(t, &target)
        .await?
        .into_iter()
        .map(|a| FileLine {
            href: format!("/documents/{id}/versions/{number}/files/{}", a.id),
            size: human_size(a.size),
            filename: a.filename,
        })
        .collect();
    let approvers = state.store.document_approvers(t).await?;
    let reviewer = v
        .reviewer_id
        .and_then(|r| {
            approvers
                .iter()
                .find(|(id, _)| *id == r)
                .map(|(_, n)| n.clone())
        })
        .unwrap_or_else(|| "—".into());
    let can_write = who.can(Permission::DocumentsWrite) && d.status == DocumentStatus::Active;
    let mine = v.author_id == Some(who.user.id);
    let page = VersionPage {
        chrome: Chrome::new(state, who, NAV_HREF).await.with_notice(done),
        state: v.state.label(),
        is_current: v.state == VersionState::Approved,
        is_draft: v.state.is_unapproved(),
        reviewer,
        created: when(v.created_at),
        submitted: v.submitted_at.map(when).unwrap_or_default(),
        approved: v.approved_at.map(when).unwrap_or_default(),
        superseded: v.superseded_at.map(when).unwrap_or_default(),
        files,
        upload_action: format!(
            "/documents/{id}/versions/{number}/files?{}",
            serde_urlencoded::to_string([("_csrf", who.csrf_token())]).unwrap_or_default()
        ),
        may_edit: can_write && mine && v.state.is_editable(),
        may_review: can_write && v.state == VersionState::InReview,
        approvers: super::options_after_blank(
            "— choose the reviewer —",
            approvers
                .into_iter()
                .filter(|(id, _)| Some(*id) != v.author_id)
                .map(|(id, name)| (id.to_string(), name)),
            forms.submit.value("reviewer_id"),
        ),
        forms,
        d,
        v,
    };
    Ok((status, page).into_response())
}

pub async fn version(
    State(state): State<AppState>,
    who: Can<perm::DocumentsRead>,
    Id((id, number)): Id<(i64, i64)>,
    Query(q): Query<DoneQuery>,
) -> UiResult {
    render_version(
        &state,
        &who,
        (id, number),
        VersionForms::default(),
        StatusCode::OK,
        q.done.as_deref(),
    )
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "documents/editor.html")]
struct EditorPage {
    chrome: Chrome,
    d: Document,
    heading: String,
    action: String,
    cancel: String,
    form: FormState,
}

async fn render_editor(
    state: &AppState,
    who: &Principal,
    d: Document,
    number: Option<i64>,
    form: FormState,
    status: StatusCode,
) -> UiResult {
    let (heading, action, cancel) = match number {
        None => (
            format!("New version of {}", d.reference),
            format!("/documents/{}/versions", d.id),
            format!("/documents/{}", d.id),
        ),
        Some(n) => (
            format!("Edit version {n} of {}", d.reference),
            format!("/documents/{}/versions/{n}", d.id),
            format!("/documents/{}/versions/{n}", d.id),
        ),
    };
    let page = EditorPage {
        chrome: Chrome::new(state, who, NAV_HREF).await,
        d,
        heading,
        action,
        cancel,
        form,
    };
    Ok((status, page).into_response())
}

pub async fn new_version_form(
    State(state): State<AppState>,
    who: Can<perm::DocumentsWrite>,
    Id(id): Id<i64>,
) -> UiResult {
    let t = who.tenant_id();
    let d = state.store.document(t, id).await?;
    // A new version starts from the text in force, which is what revisions usually change.
    let current = state
        .store
        .document_versions(t, id)
        .await?
        .into_iter()
        .find(|v| v.state == VersionState::Approved);
    let body = current.map(|v| v.body).unwrap_or_default();
    render_editor(
        &state,
        &who,
        d,
        None,
        FormState::with(&[("body", &body)]),
        StatusCode::OK,
    )
    .await
}

pub async fn edit_version_form(
    State(state): State<AppState>,
    who: Can<perm::DocumentsWrite>,
    Id((id, number)): Id<(i64, i64)>,
) -> UiResult {
    let t = who.tenant_id();
    let d = state.store.document(t, id).await?;
    let v = state.store.document_version(t, id, number).await?;
    let form = FormState::with(&[("body", &v.body), ("change_summary", &v.change_summary)]);
    render_editor(&state, &who, d, Some(number), form, StatusCode::OK).await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct VersionForm {
    body: String,
    change_summary: String,
}

async fn save_version(
    state: &AppState,
    who: &Principal,
    id: i64,
    number: Option<i64>,
    form: VersionForm,
) -> UiResult {
    let t = who.tenant_id();
    let d = state.store.document(t, id).await?;
    let typed = FormState::with(&[
        ("body", &form.body),
        ("change_summary", &form.change_summary),
    ]);
    let draft = VersionDraft {
        body: form.body,
        change_summary: form.change_summary,
    }
    .validate();
    let saved = match draft {
        Err(invalid) => Err(StoreError::Invalid(invalid)),
        Ok(draft) => match number {
            None => {
                state
                    .store
                    .create_document_version(t, id, &draft, now_micros(), &who.actor())
                    .await
            }
            Some(n) => {
                state
                    .store
                    .update_document_version(t, id, n, &draft, &who.actor())
                    .await
            }
        },
    };
    match saved {
        Ok(v) => Ok(
            Redirect::to(&format!("/documents/{id}/versions/{}?done=saved", v.number))
                .into_response(),
        ),
        Err(e) => {
            let form = typed.rejected(refusal(e, "body")?);
            render_editor(
                state,
                who,
                d,
                number,
                form,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

pub async fn create_version(
    State(state): State<AppState>,
    who: Can<perm::DocumentsWrite>,
    Id(id): Id<i64>,
    Form(form): Form<VersionForm>,
) -> UiResult {
    save_version(&state, &who, id, None, form).await
}

pub async fn update_version(
    State(state): State<AppState>,
    who: Can<perm::DocumentsWrite>,
    Id((id, number)): Id<(i64, i64)>,
    Form(form): Form<VersionForm>,
) -> UiResult {
    save_version(&state, &who, id, Some(number), form).await
}

/// The end of a version action: the version page on success, with the refusal beside the
/// form's field otherwise.
async fn after_action(
    state: &AppState,
    who: &Principal,
    at: (i64, i64),
    saved: Result<DocumentVersion, StoreError>,
    forms: impl FnOnce(Invalid) -> VersionForms,
    field: &str,
) -> UiResult {
    match saved {
        Ok(_) => Ok(
            Redirect::to(&format!("/documents/{}/versions/{}?done=saved", at.0, at.1))
                .into_response(),
        ),
        Err(e) => {
            let invalid = refusal(e, field)?;
            render_version(
                state,
                who,
                at,
                forms(invalid),
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
            )
            .await
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct SubmitForm {
    reviewer_id: String,
}

pub async fn submit(
    State(state): State<AppState>,
    who: Can<perm::DocumentsWrite>,
    Id((id, number)): Id<(i64, i64)>,
    Form(form): Form<SubmitForm>,
) -> UiResult {
    let t = who.tenant_id();
    state.store.document_version(t, id, number).await?;
    let saved = match form.reviewer_id.trim().parse::<i64>() {
        Ok(reviewer) => {
            state
                .store
                .submit_document_version(t, id, number, reviewer, now_micros(), &who.actor())
                .await
        }
        Err(_) => Err(Invalid::one("reviewer_id", "Choose who reviews and approves it").into()),
    };
    let typed = form.reviewer_id.clone();
    after_action(
        &state,
        &who,
        (id, number),
        saved,
        |invalid| VersionForms {
            submit: FormState::with(&[("reviewer_id", &typed)]).rejected(invalid),
            ..Default::default()
        },
        "reviewer_id",
    )
    .await
}

pub async fn approve(
    State(state): State<AppState>,
    who: Can<perm::DocumentsWrite>,
    Id((id, number)): Id<(i64, i64)>,
) -> UiResult {
    let t = who.tenant_id();
    state.store.document_version(t, id, number).await?;
    let saved = state
        .store
        .approve_document_version(t, id, number, now_micros(), &who.actor(), &render_notice)
        .await;
    after_action(
        &state,
        &who,
        (id, number),
        saved,
        |invalid| VersionForms {
            review: FormState::default().rejected(invalid),
            ..Default::default()
        },
        "review",
    )
    .await
}

pub async fn return_version(
    State(state): State<AppState>,
    who: Can<perm::DocumentsWrite>,
    Id((id, number)): Id<(i64, i64)>,
    Form(form): Form<ReasonForm>,
) -> UiResult {
    let t = who.tenant_id();
    state.store.document_version(t, id, number).await?;
    let saved = state
        .store
        .return_document_version(t, id, number, &form.reason, &who.actor())
        .await;
    let typed = form.reason.clone();
    after_action(
        &state,
        &who,
        (id, number),
        saved,
        |invalid| VersionForms {
            review: FormState::with(&[("reason", &typed)]).rejected(invalid),
            ..Default::default()
        },
        "reason",
    )
    .await
}

pub async fn upload(
    State(state): State<AppState>,
    who: Can<perm::DocumentsWrite>,
    Id((id, number)): Id<(i64, i64)>,
    mut multipart: Multipart,
) -> UiResult {
    state
        .store
        .document_version(who.tenant_id(), id, number)
        .await?;
    let saved = match read_upload(&mut multipart, state.config.max_upload_bytes).await {
        Ok(Some(file)) => {
            attach(
                &state,
                &who,
                (id, number),
                &file.filename,
                file.content_type.as_deref(),
                &file.bytes,
            )
            .await
        }
        Ok(None) => Err(Invalid::one("file", "Choose a file to upload").into()),
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => Ok(
            Redirect::to(&format!("/documents/{id}/versions/{number}?done=saved")).into_response(),
        ),
        Err(e) => {
            let status = e.status();
            if !matches!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY
                    | StatusCode::CONFLICT
                    | StatusCode::PAYLOAD_TOO_LARGE
            ) {
                return Err(e.into());
            }
            let invalid = if e.field_errors().is_empty() {
                Invalid::one("file", e.detail())
            } else {
                Invalid {
                    errors: e.field_errors().to_vec(),
                }
            };
            let forms = VersionForms {
                file: FormState::default().rejected(invalid),
                ..Default::default()
            };
            render_version(&state, &who, (id, number), forms, status, None).await
        }
    }
}

pub async fn download(
    State(state): State<AppState>,
    who: Can<perm::DocumentsRead>,
    Id((id, number, file_id)): Id<(i64, i64, i64)>,
) -> UiResult {
    Ok(download_response(&state, who.tenant_id(), (id, number, file_id)).await?)
}
