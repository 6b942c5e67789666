//! Change-management pages: the change list with its filters, and what the other change pages
//! share (labels, finding a change by key, reading a planned window from a form).
//!
//! The form is in `change_form`, the change page with its transitions, approvals and review
//! in `change_view`, the CAB's approval queue in `change_approvals`, the forward schedule in
//! `change_calendar` and the figures in `change_dashboard`. Every page calls the store as the
//! API does (`api/changes.rs`), so a page refuses exactly what the API refuses.

use super::{Chrome, FormState, ListFrame, Opt, UiError, UiResult, filter_choices, when};
use crate::AppState;
use crate::auth::{Can, Principal, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use steward_domain::access::Permission;
use steward_domain::change::{ChangeStatus, ChangeType, RiskLevel, Window};
use steward_store::change::{Change, ChangeFilter};
use steward_store::{PageRequest, StoreError};

/// Where the navigation points; every change page marks it.
pub const NAV_HREF: &str = "/changes";

/// How people read a change status.
pub fn status_label(s: ChangeStatus) -> &'static str {
    match s {
        ChangeStatus::Draft => "draft",
        ChangeStatus::Assessment => "in assessment",
        ChangeStatus::Authorisation => "awaiting authorisation",
        ChangeStatus::Scheduled => "scheduled",
        ChangeStatus::Implementing => "being implemented",
        ChangeStatus::Review => "in review",
        ChangeStatus::Closed => "closed",
        ChangeStatus::Rejected => "rejected",
        ChangeStatus::Cancelled => "cancelled",
        ChangeStatus::Failed => "failed",
    }
}

/// What the button that moves a change to `s` says.
pub fn action_label(s: ChangeStatus) -> &'static str {
    match s {
        ChangeStatus::Draft => "Back to draft",
        ChangeStatus::Assessment => "Submit for assessment",
        ChangeStatus::Authorisation => "Submit for authorisation",
        ChangeStatus::Scheduled => "Schedule",
        ChangeStatus::Implementing => "Start implementing",
        ChangeStatus::Review => "Implemented: review",
        ChangeStatus::Closed => "Close",
        ChangeStatus::Rejected => "Reject",
        ChangeStatus::Cancelled => "Cancel the change",
        ChangeStatus::Failed => "Close as failed",
    }
}

pub fn type_label(t: ChangeType) -> &'static str {
    match t {
        ChangeType::Standard => "standard",
        ChangeType::Normal => "normal",
        ChangeType::Emergency => "emergency",
    }
}

pub fn risk_label(r: Option<RiskLevel>) -> &'static str {
    r.map_or("not assessed", RiskLevel::as_str)
}

/// `2031-03-01 22:00 – 2031-03-02 02:00 UTC`, or a dash.
pub fn window_text(w: Option<Window>) -> String {
    match w {
        None => "—".to_owned(),
        Some(w) => format!(
            "{} – {}",
            when(w.start).trim_end_matches(" UTC"),
            when(w.end)
        ),
    }
}

/// The change a path names (`CHG-7`), 404 for anything else or another tenant's.
pub async fn find(state: &AppState, who: &Principal, key: &str) -> Result<Change, UiError> {
    let number = steward_domain::change::parse_key(key).ok_or(UiError::NotFound)?;
    Ok(state
        .store
        .change_by_number(who.tenant_id(), number)
        .await?)
}

/// A `datetime-local` value (`2031-03-01T22:00`, read as UTC like the other forms) or an
/// RFC 3339 instant; `None` when empty.
pub fn typed_instant(text: &str) -> Result<Option<i64>, ()> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Ok(Some(t.as_microsecond()));
    }
    text.parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| Some(z.timestamp().as_microsecond()))
        .ok_or(())
}

pub struct Row {
    pub key: String,
    pub title: String,
    pub change_type: &'static str,
    pub risk: &'static str,
    pub risk_code: &'static str,
    pub status: &'static str,
    pub status_code: &'static str,
    pub window: String,
}

impl From<Change> for Row {
    fn from(c: Change) -> Self {
        let risk = c.risk.as_ref().map(|r| r.level);
        Row {
            key: c.key(),
            change_type: type_label(c.change_type),
            risk: risk_label(risk),
            risk_code: risk.map_or("none", RiskLevel::as_str),
            status: status_label(c.status),
            status_code: c.status.as_str(),
            window: window_text(c.window),
            title: c.title,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "change_list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    statuses: Vec<Opt>,
    types: Vec<Opt>,
    risks: Vec<Opt>,
    filtered: bool,
    next: Option<String>,
    can_write: bool,
    no_errors: FormState,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    status: String,
    #[serde(rename = "type")]
    change_type: String,
    risk: String,
    cursor: Option<String>,
    done: Option<String>,
}

/// A filter select: `any` first, then each choice, shown by its code.
fn choices<T: Copy>(all: &[T], any: &str, code: fn(T) -> &'static str, current: &str) -> Vec<Opt> {
    filter_choices(all, any, code, code, current)
}

pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::ChangesRead>,
    Query(q): Query<ListQuery>,
) -> UiResult {
    let filter = ChangeFilter {
        status: ChangeStatus::parse(q.status.trim()),
        change_type: ChangeType::parse(q.change_type.trim()),
        risk: RiskLevel::parse(q.risk.trim()),
        sort: Some("-number".into()),
        ..Default::default()
    };
    let page = PageRequest {
        limit: Some(50),
        cursor: q.cursor.clone(),
    };
    let found = match state.store.changes(who.tenant_id(), &filter, &page).await {
        Err(StoreError::Invalid(_)) => return Ok(Redirect::to(NAV_HREF).into_response()),
        other => other?,
    };
    let params = [
        ("status", q.status.as_str()),
        ("type", q.change_type.as_str()),
        ("risk", q.risk.as_str()),
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
        rows: found.items.into_iter().map(Row::from).collect(),
        statuses: choices(
            ChangeStatus::ALL,
            "— any status —",
            ChangeStatus::as_str,
            &q.status,
        ),
        types: choices(
            ChangeType::ALL,
            "— any type —",
            ChangeType::as_str,
            &q.change_type,
        ),
        risks: choices(RiskLevel::ALL, "— any risk —", RiskLevel::as_str, &q.risk),
        filtered: frame.filtered,
        next: frame.next,
        can_write: who.can(Permission::ChangesWrite),
        no_errors: FormState::default(),
    }
    .into_response())
}
