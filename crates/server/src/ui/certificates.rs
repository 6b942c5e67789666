//! The certificate register's pages: the list with its status filter and days to expiry, the
//! form that records and edits a certificate, and the certificate page with its status change
//! form and status history. The public page is `crate::verify`.
//!
//! The form reads text into the same draft the API uses (`api::certificates::draft_from`), so
//! the page refuses what the API refuses, with the same messages, and keeps what was typed.

use super::session::DoneQuery;
use super::{
    Chrome, FormState, HistoryRow, Id, ListFrame, Opt, UiResult, filter_choices, history, options,
    when,
};
use crate::AppState;
use crate::api::certificates::{Texts, draft_from};
use crate::api::date_out;
use crate::auth::{Can, Principal, perm};
use crate::verify::path_segment;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use std::collections::HashMap;
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::asset::days_until;
use steward_domain::certificate::{CertificateStatus, REMINDER_DAYS};
use steward_store::asset::today_utc;
use steward_store::certificate::{Certificate, CertificateFilter};
use steward_store::{PageRequest, StoreError};

/// Where the navigation points; every certificate page marks it.
pub const NAV_HREF: &str = "/certificates";

/// Days to expiry in words, and whether it is close (within the reminder lead time) or past.
pub struct Expiry {
    pub text: String,
    pub soon: bool,
    pub past: bool,
}

fn expiry(c: &Certificate) -> Expiry {
    let days = days_until(today_utc(), c.expiry_date);
    let text = match days {
        d if d < -1 => format!("expired {} days ago", -d),
        -1 => "expired yesterday".to_owned(),
        0 => "expires today".to_owned(),
        1 => "expires tomorrow".to_owned(),
        d => format!("{d} days to expiry"),
    };
    Expiry {
        text,
        soon: (0..=REMINDER_DAYS).contains(&days),
        past: days < 0,
    }
}

pub struct Row {
    pub id: i64,
    pub number: String,
    pub organisation: String,
    pub certification_body: String,
    pub status: &'static str,
    pub status_code: &'static str,
    pub expiry_date: String,
    pub expiry: Expiry,
    pub confidential: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "certificates/list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    statuses: Vec<Opt>,
    filtered: bool,
    next: Option<String>,
    can_write: bool,
    no_errors: FormState,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    status: String,
    cursor: Option<String>,
    done: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::CertificatesRead>,
    Query(q): Query<ListQuery>,
) -> UiResult {
    let filter = CertificateFilter {
        status: CertificateStatus::parse(q.status.trim()),
        sort: None,
    };
    let page = PageRequest {
        limit: Some(50),
        cursor: q.cursor.clone(),
    };
    let found = match state
        .store
        .certificates(who.tenant_id(), &filter, &page)
        .await
    {
        Err(StoreError::Invalid(_)) => return Ok(Redirect::to(NAV_HREF).into_response()),
        other => other?,
    };
    let rows = found
        .items
        .into_iter()
        .map(|c| Row {
            expiry: expiry(&c),
            status: c.status.label(),
            status_code: c.status.as_str(),
            expiry_date: date_out(c.expiry_date),
            id: c.id,
            number: c.number,
            organisation: c.organisation,
            certification_body: c.certification_body,
            confidential: c.confidential,
        })
        .collect();
    let params = [("status", q.status.as_str())];
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
        statuses: filter_choices(
            CertificateStatus::ALL,
            "— any status —",
            CertificateStatus::as_str,
            CertificateStatus::label,
            &q.status,
        ),
        filtered: frame.filtered,
        next: frame.next,
        can_write: who.can(Permission::CertificatesWrite),
        no_errors: FormState::default(),
    }
    .into_response())
}

/// The form's text fields.
const FIELDS: [&str; 13] = [
    "number",
    "standard",
    "scope",
    "organisation",
    "sites",
    "certification_body",
    "accreditation_body",
    "accreditation_number",
    "original_date",
    "issue_date",
    "expiry_date",
    "next_surveillance",
    "confidential",
];

/// What the certificate form posts, as typed.
#[derive(Debug, Default)]
struct CertificateForm {
    fields: HashMap<String, String>,
    /// The `updated_at` the edit form was drawn from.
    seen: Option<i64>,
}

impl CertificateForm {
    fn posted(pairs: Vec<(String, String)>) -> CertificateForm {
        let mut form = CertificateForm::default();
        for (k, v) in pairs {
            if k == "updated_at" {
                form.seen = v.trim().parse().ok();
            } else if FIELDS.contains(&k.as_str()) {
                form.fields.insert(k, v);
            }
        }
        form
    }

    fn of(c: &Certificate) -> CertificateForm {
        let fields = [
            ("number", c.number.clone()),
            ("standard", c.standard.clone()),
            ("scope", c.scope.clone()),
            ("organisation", c.organisation.clone()),
            ("sites", c.sites.clone()),
            ("certification_body", c.certification_body.clone()),
            ("accreditation_body", c.accreditation_body.clone()),
            ("accreditation_number", c.accreditation_number.clone()),
            ("original_date", date_out(c.original_date)),
            ("issue_date", date_out(c.issue_date)),
            ("expiry_date", date_out(c.expiry_date)),
            (
                "next_surveillance",
                c.next_surveillance.map(date_out).unwrap_or_default(),
            ),
            (
                "confidential",
                if c.confidential { "on" } else { "" }.to_owned(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        CertificateForm {
            fields,
            seen: Some(c.updated_at),
        }
    }

    fn get(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }

    fn state(&self) -> FormState {
        let values: Vec<(&str, &str)> = self
            .fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        FormState::with(&values)
    }

    fn draft(&self) -> Result<steward_domain::certificate::CertificateDraft, Invalid> {
        let text = |name: &str| self.get(name).to_owned();
        draft_from(
            Texts {
                number: text("number"),
                standard: text("standard"),
                scope: text("scope"),
                organisation: text("organisation"),
                sites: text("sites"),
                certification_body: text("certification_body"),
                accreditation_body: text("accreditation_body"),
                accreditation_number: text("accreditation_number"),
            },
            &[
                self.get("original_date"),
                self.get("issue_date"),
                self.get("expiry_date"),
                self.get("next_surveillance"),
            ],
            !self.get("confidential").is_empty(),
        )
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "certificates/form.html")]
struct FormPage {
    chrome: Chrome,
    heading: String,
    action: String,
    submit: &'static str,
    cancel: String,
    form: FormState,
    seen: Option<i64>,
    confidential: bool,
}

async fn render_form(
    state: &AppState,
    who: &Principal,
    editing: Option<&Certificate>,
    form: FormState,
    seen: Option<i64>,
    status: StatusCode,
) -> UiResult {
    let (heading, action, submit, cancel) = match editing {
        None => (
            "Record a certificate".to_owned(),
            NAV_HREF.to_owned(),
            "Record certificate",
            NAV_HREF.to_owned(),
        ),
        Some(c) => (
            format!("Edit certificate {}", c.number),
            format!("/certificates/{}", c.id),
            "Save",
            format!("/certificates/{}", c.id),
        ),
    };
    let page = FormPage {
        chrome: Chrome::new(state, who, NAV_HREF).await,
        heading,
        action,
        submit,
        cancel,
        confidential: !form.value("confidential").is_empty(),
        form,
        seen,
    };
    Ok((status, page).into_response())
}

pub async fn new_form(
    State(state): State<AppState>,
    who: Can<perm::CertificatesWrite>,
) -> UiResult {
    let blank = FormState::with(&[("standard", steward_domain::certificate::DEFAULT_STANDARD)]);
    render_form(&state, &who, None, blank, None, StatusCode::OK).await
}

pub async fn edit_form(
    State(state): State<AppState>,
    who: Can<perm::CertificatesWrite>,
    Id(id): Id<i64>,
) -> UiResult {
    let c = state.store.certificate(who.tenant_id(), id).await?;
    let form = CertificateForm::of(&c);
    render_form(
        &state,
        &who,
        Some(&c),
        form.state(),
        form.seen,
        StatusCode::OK,
    )
    .await
}

/// Checks and saves the posted form: the certificate page on success, the form again with the
/// errors and what was typed otherwise.
async fn save(
    state: &AppState,
    who: &Principal,
    current: Option<&Certificate>,
    form: CertificateForm,
) -> UiResult {
    let t = who.tenant_id();
    let saved: Result<Certificate, StoreError> = async {
        let draft = form.draft()?;
        match current {
            None => {
                state
                    .store
                    .create_certificate(
                        t,
                        &draft,
                        CertificateStatus::Valid,
                        "Recorded",
                        today_utc(),
                        &who.actor(),
                    )
                    .await
            }
            Some(c) => {
                let seen = form.seen.unwrap_or(c.updated_at);
                state
                    .store
                    .update_certificate(t, c.id, seen, &draft, &who.actor())
                    .await
            }
        }
    }
    .await;
    let refusal = match saved {
        Ok(c) => return Ok(super::saved_page("/certificates", c.id, current.is_some())),
        Err(e) => super::refusal(e, "form")?,
    };
    let seen = form.seen;
    render_form(
        state,
        who,
        current,
        form.state().rejected(refusal),
        seen,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::CertificatesWrite>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> UiResult {
    save(&state, &who, None, CertificateForm::posted(pairs)).await
}

pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::CertificatesWrite>,
    Id(id): Id<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> UiResult {
    let c = state.store.certificate(who.tenant_id(), id).await?;
    save(&state, &who, Some(&c), CertificateForm::posted(pairs)).await
}

/// One row of the status history as the page shows it.
pub struct HistoryLine {
    pub at: String,
    pub from: String,
    pub to: String,
    pub reason: String,
    pub by: String,
}

fn status_words(code: &str) -> String {
    CertificateStatus::parse(code).map_or_else(|| code.to_owned(), |s| s.label().to_owned())
}

#[derive(Template, WebTemplate)]
#[template(path = "certificates/view.html")]
struct ViewPage {
    chrome: Chrome,
    c: Certificate,
    status: &'static str,
    expiry: Expiry,
    sites: Vec<String>,
    /// The moves the status form offers: (status, label).
    moves: Vec<Opt>,
    /// Where the public page is (shown unless confidential).
    public_href: String,
    can_write: bool,
    /// The status form as typed, with its errors.
    status_form: FormState,
    lines: Vec<HistoryLine>,
    created: String,
    updated: String,
    history: Option<Vec<HistoryRow>>,
}

async fn render_view(
    state: &AppState,
    who: &Principal,
    id: i64,
    status_form: FormState,
    status: StatusCode,
    done: Option<&str>,
) -> UiResult {
    let t = who.tenant_id();
    let c = state.store.certificate(t, id).await?;
    let today = today_utc();
    let lines = state
        .store
        .certificate_history(t, id)
        .await?
        .into_iter()
        .rev()
        .map(|h| HistoryLine {
            at: when(h.at),
            from: h
                .from_status
                .as_deref()
                .map_or_else(|| "—".to_owned(), status_words),
            to: status_words(&h.to_status),
            reason: h.reason,
            by: h.actor_label,
        })
        .collect();
    let moves = options(
        c.status
            .next()
            .iter()
            .filter(|to| c.status.transition(**to, c.expiry_date, today).is_ok())
            .map(|s| (s.as_str().to_owned(), s.label().to_owned())),
        status_form.value("to"),
    );
    let page = ViewPage {
        chrome: Chrome::new(state, who, NAV_HREF).await.with_notice(done),
        status: c.status.label(),
        expiry: expiry(&c),
        sites: c
            .sites
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        moves,
        public_href: format!("/verify/{}", path_segment(&c.number)),
        can_write: who.can(Permission::CertificatesWrite),
        status_form,
        lines,
        created: when(c.created_at),
        updated: when(c.updated_at),
        history: history(state, who, "certificate", id).await,
        c,
    };
    Ok((status, page).into_response())
}

pub async fn view(
    State(state): State<AppState>,
    who: Can<perm::CertificatesRead>,
    Id(id): Id<i64>,
    Query(q): Query<DoneQuery>,
) -> UiResult {
    render_view(
        &state,
        &who,
        id,
        FormState::default(),
        StatusCode::OK,
        q.done.as_deref(),
    )
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct StatusForm {
    to: String,
    reason: String,
}

/// `POST /certificates/{id}/status`: the status change form.
pub async fn change_status(
    State(state): State<AppState>,
    who: Can<perm::CertificatesWrite>,
    Id(id): Id<i64>,
    Form(form): Form<StatusForm>,
) -> UiResult {
    let typed = FormState::with(&[("to", &form.to), ("reason", &form.reason)]);
    let refusal = match CertificateStatus::parse(form.to.trim()) {
        None => Invalid::one("to", "Choose the new status"),
        Some(to) => match state
            .store
            .change_certificate_status(
                who.tenant_id(),
                id,
                to,
                &form.reason,
                today_utc(),
                &who.actor(),
            )
            .await
        {
            Ok(_) => {
                return Ok(Redirect::to(&format!("/certificates/{id}?done=saved")).into_response());
            }
            Err(StoreError::Invalid(invalid)) => invalid,
            Err(StoreError::Conflict(message)) => Invalid::one("to", message),
            Err(e) => return Err(e.into()),
        },
    };
    render_view(
        &state,
        &who,
        id,
        typed.rejected(refusal),
        StatusCode::UNPROCESSABLE_ENTITY,
        None,
    )
    .await
}
