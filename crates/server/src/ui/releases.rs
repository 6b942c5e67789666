//! Release pages (ISO/IEC 20000-1 8.5.3): the release list with its filters, the form that
//! plans and edits a release, and the release page: its summary and lifecycle buttons, the
//! changes it groups, the known errors accepted into it, the acceptance criteria with their
//! sign-off, the deployments per environment as a timeline with the CIs each one updated, and
//! the journal history.
//!
//! Every form goes through the same domain validation and store calls as the API, so a page
//! refuses exactly what the API refuses; a refusal shows the page again with the message next
//! to the form that caused it and what was typed.

use super::cmdb::ci_from_text;
use super::session::DoneQuery;
use super::{
    Chrome, FormState, HistoryRow, Id, ListFrame, Names, Opt, UiError, UiResult, filter_choices,
    history, options, when,
};
use crate::AppState;
use crate::auth::{Can, Principal, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use serde_json::{Map, Value};
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::cmdb::CiStatus;
use steward_domain::release::{
    CriterionDraft, DeploymentDraft, DeploymentOutcome, OutcomeDraft, ReleaseDraft, ReleaseKind,
    ReleaseStatus, SignOff, Verdict,
};
use steward_store::release::{CiUpdate, Release, ReleaseFilter};
use steward_store::{PageRequest, StoreError};

/// Where the navigation points; every release page marks it.
pub const NAV_HREF: &str = "/releases";

/// How people read a release status.
fn status_label(s: ReleaseStatus) -> &'static str {
    match s {
        ReleaseStatus::Planned => "planned",
        ReleaseStatus::Built => "built",
        ReleaseStatus::InTest => "in test",
        ReleaseStatus::Accepted => "accepted",
        ReleaseStatus::Deploying => "deploying",
        ReleaseStatus::Deployed => "deployed",
        ReleaseStatus::Closed => "closed",
        ReleaseStatus::Cancelled => "cancelled",
    }
}

/// The button that moves a release to `s`.
fn action_label(s: ReleaseStatus) -> &'static str {
    match s {
        ReleaseStatus::Planned => "Plan",
        ReleaseStatus::Built => "Mark built",
        ReleaseStatus::InTest => "Start testing",
        ReleaseStatus::Accepted => "Accept",
        ReleaseStatus::Deploying => "Start deploying",
        ReleaseStatus::Deployed => "Mark deployed",
        ReleaseStatus::Closed => "Close",
        ReleaseStatus::Cancelled => "Cancel release",
    }
}

fn outcome_label(o: DeploymentOutcome) -> &'static str {
    match o {
        DeploymentOutcome::InProgress => "in progress",
        DeploymentOutcome::Succeeded => "succeeded",
        DeploymentOutcome::Failed => "failed",
        DeploymentOutcome::RolledBack => "rolled back",
    }
}

/// A `datetime-local` value (or RFC 3339) read as UTC; empty is none.
fn parse_local(errors: &mut Invalid, field: &str, text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Some(t.as_microsecond());
    }
    match text.parse::<jiff::civil::DateTime>() {
        Ok(dt) => match dt.to_zoned(jiff::tz::TimeZone::UTC) {
            Ok(z) => Some(z.timestamp().as_microsecond()),
            Err(_) => {
                errors.add(field, "Give a date and time");
                None
            }
        },
        Err(_) => {
            errors.add(field, "Give a date and time such as 2031-02-01T10:00");
            None
        }
    }
}

/// An instant as a `datetime-local` value, in UTC.
fn local_value(micros: Option<i64>) -> String {
    micros
        .and_then(|m| jiff::Timestamp::from_microsecond(m).ok())
        .map(|t| t.strftime("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

/// The release a path names: `REL-n` or the id.
async fn find(state: &AppState, who: &Principal, key: &str) -> Result<Release, UiError> {
    Ok(crate::api::releases::find(state, who, key).await?)
}

pub struct Row {
    pub key: String,
    pub title: String,
    pub kind: &'static str,
    pub status: &'static str,
    pub status_code: &'static str,
    pub planned: String,
    pub manager: String,
    pub changes: usize,
    pub updated: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "releases/list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    statuses: Vec<Opt>,
    kinds: Vec<Opt>,
    filtered: bool,
    next: Option<String>,
    can_write: bool,
    no_errors: FormState,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    status: String,
    kind: String,
    cursor: Option<String>,
    done: Option<String>,
}

fn kind_choices(none: Option<&str>, current: &str) -> Vec<Opt> {
    options(
        none.map(|n| (String::new(), n.to_owned()))
            .into_iter()
            .chain(
                ReleaseKind::ALL
                    .iter()
                    .map(|k| (k.as_str().to_owned(), k.as_str().to_owned())),
            ),
        current,
    )
}

fn planned(r: &Release) -> String {
    match (r.planned_start, r.planned_end) {
        (Some(start), Some(end)) => format!("{} – {}", when(start), when(end)),
        _ => "—".to_owned(),
    }
}

pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::ReleasesRead>,
    Query(q): Query<ListQuery>,
) -> UiResult {
    let filter = ReleaseFilter {
        status: ReleaseStatus::parse(q.status.trim()),
        kind: ReleaseKind::parse(q.kind.trim()),
        sort: Some("-number".into()),
    };
    let page = PageRequest {
        limit: Some(50),
        cursor: q.cursor.clone(),
    };
    let found = match state.store.releases(who.tenant_id(), &filter, &page).await {
        Err(StoreError::Invalid(_)) => return Ok(Redirect::to(NAV_HREF).into_response()),
        other => other?,
    };
    let names = Names::load(&state, &who).await?;
    let rows = found
        .items
        .into_iter()
        .map(|r| Row {
            key: r.key(),
            planned: planned(&r),
            kind: r.kind.as_str(),
            status: status_label(r.status),
            status_code: r.status.as_str(),
            manager: Names::of(&names.users, r.manager_id),
            changes: r.change_ids.len(),
            updated: when(r.updated_at),
            title: r.title,
        })
        .collect();
    let params = [("status", q.status.as_str()), ("kind", q.kind.as_str())];
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
            ReleaseStatus::ALL,
            "— any status —",
            ReleaseStatus::as_str,
            status_label,
            &q.status,
        ),
        kinds: kind_choices(Some("— any kind —"), &q.kind),
        filtered: frame.filtered,
        next: frame.next,
        can_write: who.can(Permission::ReleasesWrite),
        no_errors: FormState::default(),
    }
    .into_response())
}

/// What the release form posts.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ReleaseForm {
    title: String,
    kind: String,
    description: String,
    planned_start: String,
    planned_end: String,
    manager_id: String,
    /// The `updated_at` of the release the form was filled from: an edit over someone
    /// else's is refused.
    updated_at: String,
}

impl ReleaseForm {
    fn of(r: &Release) -> ReleaseForm {
        ReleaseForm {
            title: r.title.clone(),
            kind: r.kind.as_str().to_owned(),
            description: r.description.clone(),
            planned_start: local_value(r.planned_start),
            planned_end: local_value(r.planned_end),
            manager_id: r.manager_id.map(|id| id.to_string()).unwrap_or_default(),
            updated_at: r.updated_at.to_string(),
        }
    }

    fn state(&self) -> FormState {
        FormState::with(&[
            ("title", &self.title),
            ("kind", &self.kind),
            ("description", &self.description),
            ("planned_start", &self.planned_start),
            ("planned_end", &self.planned_end),
            ("manager_id", &self.manager_id),
            ("updated_at", &self.updated_at),
        ])
    }

    fn draft(&self) -> Result<ReleaseDraft, Invalid> {
        let mut errors = Invalid::new();
        let kind = ReleaseKind::parse(self.kind.trim());
        if kind.is_none() {
            errors.add("kind", "Choose major, minor or emergency");
        }
        let manager_id = match self.manager_id.trim() {
            "" => None,
            t => t.parse().ok().or_else(|| {
                errors.add("manager_id", "Choose the release manager from the list");
                None
            }),
        };
        let planned_start = parse_local(&mut errors, "planned_start", &self.planned_start);
        let planned_end = parse_local(&mut errors, "planned_end", &self.planned_end);
        let draft = ReleaseDraft {
            title: self.title.clone(),
            kind: kind.unwrap_or(ReleaseKind::Minor),
            description: self.description.clone(),
            planned_start,
            planned_end,
            manager_id,
        };
        match draft.validate() {
            Ok(draft) => errors.into_result(draft),
            Err(more) => {
                errors.errors.extend(more.errors);
                Err(errors)
            }
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "releases/form.html")]
struct FormPage {
    chrome: Chrome,
    heading: String,
    action: String,
    submit: &'static str,
    cancel: String,
    form: FormState,
    kinds: Vec<Opt>,
    managers: Vec<Opt>,
}

async fn render_form(
    state: &AppState,
    who: &Principal,
    editing: Option<&Release>,
    form: FormState,
    status: StatusCode,
) -> UiResult {
    let names = Names::load(state, who).await?;
    let (heading, action, submit, cancel) = match editing {
        None => (
            "New release".to_owned(),
            NAV_HREF.to_owned(),
            "Plan release",
            NAV_HREF.to_owned(),
        ),
        Some(r) => (
            format!("Edit {}", r.key()),
            format!("/releases/{}", r.key()),
            "Save",
            format!("/releases/{}", r.key()),
        ),
    };
    let page = FormPage {
        chrome: Chrome::new(state, who, NAV_HREF).await,
        heading,
        action,
        submit,
        cancel,
        kinds: kind_choices(None, form.value("kind")),
        managers: options(
            Names::choices(&names.users, "— nobody yet —"),
            form.value("manager_id"),
        ),
        form,
    };
    Ok((status, page).into_response())
}

pub async fn new_form(State(state): State<AppState>, who: Can<perm::ReleasesWrite>) -> UiResult {
    let blank = FormState::with(&[("kind", "minor")]);
    render_form(&state, &who, None, blank, StatusCode::OK).await
}

pub async fn edit_form(
    State(state): State<AppState>,
    who: Can<perm::ReleasesWrite>,
    Id(key): Id<String>,
) -> UiResult {
    let release = find(&state, &who, &key).await?;
    let form = ReleaseForm::of(&release).state();
    render_form(&state, &who, Some(&release), form, StatusCode::OK).await
}

/// A refusal a person can act on: field errors as they are, a conflict as a message on
/// `field`; anything else is an error page.
fn refusal(e: StoreError, field: &str) -> Result<Invalid, UiError> {
    match e {
        StoreError::Invalid(invalid) => Ok(invalid),
        StoreError::Conflict(message) => Ok(Invalid::one(field, message)),
        other => Err(other.into()),
    }
}

async fn save(
    state: &AppState,
    who: &Principal,
    current: Option<&Release>,
    form: ReleaseForm,
) -> UiResult {
    let saved = match form.draft() {
        Err(invalid) => Err(StoreError::Invalid(invalid)),
        Ok(draft) => match current {
            None => {
                state
                    .store
                    .create_release(who.tenant_id(), &draft, &who.actor())
                    .await
            }
            Some(r) => {
                state
                    .store
                    .update_release(
                        who.tenant_id(),
                        r.id,
                        &draft,
                        form.updated_at.trim().parse().ok(),
                        &who.actor(),
                    )
                    .await
            }
        },
    };
    match saved {
        Ok(r) => {
            let done = if current.is_some() {
                "saved"
            } else {
                "created"
            };
            Ok(Redirect::to(&format!("/releases/{}?done={done}", r.key())).into_response())
        }
        Err(e) => {
            let invalid = refusal(e, "title")?;
            let again = form.state().rejected(invalid);
            render_form(state, who, current, again, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::ReleasesWrite>,
    Form(form): Form<ReleaseForm>,
) -> UiResult {
    save(&state, &who, None, form).await
}

pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::ReleasesWrite>,
    Id(key): Id<String>,
    Form(form): Form<ReleaseForm>,
) -> UiResult {
    let release = find(&state, &who, &key).await?;
    save(&state, &who, Some(&release), form).await
}

/// A change the release groups, as its page lists it.
pub struct ChangeRow {
    pub key: String,
    pub title: String,
    pub status: String,
}

pub struct KnownErrorRow {
    pub key: String,
    pub title: String,
    pub workaround: String,
}

pub struct CriterionRow {
    pub id: i64,
    pub text: String,
    /// `accepted`, `refused` or `pending`.
    pub verdict: &'static str,
    pub signed: String,
    pub comment: String,
}

pub struct CiRow {
    pub id: i64,
    pub name: String,
    pub change: String,
}

pub struct DeploymentRow {
    pub id: i64,
    pub environment: String,
    pub outcome: &'static str,
    pub outcome_code: &'static str,
    pub in_progress: bool,
    pub planned: String,
    pub started: String,
    pub ended: String,
    pub verification_notes: String,
    pub rollback_notes: String,
    pub cis: Vec<CiRow>,
}

/// Which of the page's forms a refusal belongs to.
#[derive(Default)]
struct Section {
    name: &'static str,
    form: FormState,
}

#[derive(Template, WebTemplate)]
#[template(path = "releases/view.html")]
struct ViewPage {
    chrome: Chrome,
    key: String,
    release: Release,
    kind: &'static str,
    status: &'static str,
    planned: String,
    manager: String,
    created: String,
    updated: String,
    moves: Vec<(String, &'static str)>,
    changes: Vec<ChangeRow>,
    known_errors: Vec<KnownErrorRow>,
    criteria: Vec<CriterionRow>,
    deployments: Vec<DeploymentRow>,
    can_write: bool,
    criteria_open: bool,
    takes_deployments: bool,
    /// The section whose form was refused ("" for none) and its state.
    section: &'static str,
    form: FormState,
    no_errors: FormState,
    changes_text: String,
    known_errors_text: String,
    ci_statuses: Vec<Opt>,
    outcomes: Vec<Opt>,
    history: Option<Vec<HistoryRow>>,
}

fn attributes_text(attributes: Option<&Map<String, Value>>) -> String {
    attributes
        .map(|a| {
            a.iter()
                .map(|(k, v)| match v {
                    Value::String(s) => format!("{k} = {s}"),
                    Value::Null => format!("{k} removed"),
                    other => format!("{k} = {other}"),
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

async fn render(
    state: &AppState,
    who: &Principal,
    release: Release,
    section: Section,
    status: StatusCode,
    done: Option<&str>,
) -> UiResult {
    let t = who.tenant_id();
    let names = Names::load(state, who).await?;
    let can_read_changes = who.can(Permission::ChangesRead);
    let mut changes = Vec::new();
    for id in &release.change_ids {
        let row = if can_read_changes {
            match state.store.change(t, *id).await {
                Ok(c) => ChangeRow {
                    key: c.key(),
                    title: c.title,
                    status: c.status.as_str().to_owned(),
                },
                Err(StoreError::NotFound) => continue,
                Err(e) => return Err(e.into()),
            }
        } else {
            ChangeRow {
                key: steward_domain::change::key(*id),
                title: String::new(),
                status: String::new(),
            }
        };
        changes.push(row);
    }
    let known_errors = state
        .store
        .known_errors_by_id(t, &release.known_error_ids)
        .await?
        .into_iter()
        .map(|k| KnownErrorRow {
            key: k.key(),
            title: k.title,
            workaround: k.workaround,
        })
        .collect::<Vec<_>>();
    let criteria = release
        .criteria
        .iter()
        .map(|c| CriterionRow {
            id: c.id,
            text: c.text.clone(),
            verdict: c.verdict.map_or("pending", Verdict::as_str),
            signed: match (c.signed_by, c.signed_at) {
                (_, None) => "not signed off".to_owned(),
                (by, Some(at)) => format!("{} on {}", Names::of(&names.users, by), when(at)),
            },
            comment: c.comment.clone(),
        })
        .collect();
    let mut deployments = Vec::new();
    for d in release.deployments.iter().rev() {
        let mut cis = Vec::new();
        for u in &d.ci_updates {
            let name = match state.store.ci(t, u.ci_id).await {
                Ok(ci) => ci.name,
                Err(StoreError::NotFound) => format!("CI {}", u.ci_id),
                Err(e) => return Err(e.into()),
            };
            let mut change = attributes_text(u.attributes.as_ref());
            if let Some(s) = u.status {
                let status = format!("status {}", super::cmdb::status_label(s));
                change = if change.is_empty() {
                    status
                } else {
                    format!("{status}; {change}")
                };
            }
            cis.push(CiRow {
                id: u.ci_id,
                name,
                change,
            });
        }
        deployments.push(DeploymentRow {
            id: d.id,
            environment: d.environment.clone(),
            outcome: outcome_label(d.outcome),
            outcome_code: d.outcome.as_str(),
            in_progress: !d.outcome.is_final(),
            planned: match (d.planned_start, d.planned_end) {
                (Some(s), Some(e)) => format!("{} – {}", when(s), when(e)),
                (Some(s), None) => when(s),
                _ => String::new(),
            },
            started: when(d.started_at),
            ended: d.ended_at.map(when).unwrap_or_default(),
            verification_notes: d.verification_notes.clone(),
            rollback_notes: d.rollback_notes.clone(),
            cis,
        });
    }
    let changes_text = if section.name == "changes" {
        section.form.value("changes").to_owned()
    } else {
        changes
            .iter()
            .map(|c| c.key.clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let known_errors_text = if section.name == "known_errors" {
        section.form.value("known_errors").to_owned()
    } else {
        known_errors
            .iter()
            .map(|k| k.key.clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let moves = release
        .kind
        .next(release.status)
        .iter()
        .map(|s| (s.as_str().to_owned(), action_label(*s)))
        .collect();
    let page = ViewPage {
        chrome: Chrome::new(state, who, NAV_HREF).await.with_notice(done),
        key: release.key(),
        kind: release.kind.as_str(),
        status: status_label(release.status),
        planned: planned(&release),
        manager: Names::of(&names.users, release.manager_id),
        created: when(release.created_at),
        updated: when(release.updated_at),
        moves,
        changes,
        known_errors,
        criteria,
        deployments,
        can_write: who.can(Permission::ReleasesWrite),
        criteria_open: release.status.criteria_open(),
        takes_deployments: release.status.takes_deployments(),
        section: section.name,
        ci_statuses: filter_choices(
            CiStatus::ALL,
            "— unchanged —",
            CiStatus::as_str,
            super::cmdb::status_label,
            section.form.value("ci_status"),
        ),
        outcomes: options(
            [
                DeploymentOutcome::Succeeded,
                DeploymentOutcome::Failed,
                DeploymentOutcome::RolledBack,
            ]
            .iter()
            .map(|o| (o.as_str().to_owned(), outcome_label(*o).to_owned())),
            section.form.value("outcome"),
        ),
        form: section.form,
        no_errors: FormState::default(),
        changes_text,
        known_errors_text,
        history: history(state, who, "release", release.id).await,
        release,
    };
    Ok((status, page).into_response())
}

pub async fn view(
    State(state): State<AppState>,
    who: Can<perm::ReleasesRead>,
    Id(key): Id<String>,
    Query(q): Query<DoneQuery>,
) -> UiResult {
    let release = find(&state, &who, &key).await?;
    render(
        &state,
        &who,
        release,
        Section::default(),
        StatusCode::OK,
        q.done.as_deref(),
    )
    .await
}

/// The end of every form on the release page: back to the page on success; the page again
/// with the refusal by the form that caused it otherwise.
async fn after(
    state: &AppState,
    who: &Principal,
    key: &str,
    saved: Result<Release, StoreError>,
    name: &'static str,
    field: &str,
    typed: FormState,
) -> UiResult {
    match saved {
        Ok(r) => {
            Ok(Redirect::to(&format!("/releases/{}?done=saved#{name}", r.key())).into_response())
        }
        Err(e) => {
            let status = if matches!(e, StoreError::Conflict(_)) {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let invalid = refusal(e, field)?;
            let release = find(state, who, key).await?;
            let section = Section {
                name,
                form: typed.rejected(invalid),
            };
            render(state, who, release, section, status, None).await
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct TransitionForm {
    to: String,
}

pub async fn transition(
    State(state): State<AppState>,
    who: Can<perm::ReleasesWrite>,
    Id(key): Id<String>,
    Form(form): Form<TransitionForm>,
) -> UiResult {
    let release = find(&state, &who, &key).await?;
    let saved = match ReleaseStatus::parse(form.to.trim()) {
        None => Err(Invalid::one("status", "Choose a status").into()),
        Some(to) => {
            state
                .store
                .transition_release(who.tenant_id(), release.id, to, &who.actor())
                .await
        }
    };
    after(
        &state,
        &who,
        &key,
        saved,
        "summary",
        "status",
        FormState::default(),
    )
    .await
}

/// Keys such as `CHG-3, CHG-7` (or ids) read into numbers, each looked up by `lookup`.
fn keys_in(text: &str, prefix: &str, field: &str) -> Result<Vec<(bool, i64)>, Invalid> {
    let mut errors = Invalid::new();
    let mut out = Vec::new();
    for part in text.split([',', ' ', '\n', ';']).map(str::trim) {
        if part.is_empty() {
            continue;
        }
        let (by_number, digits) = match part.split_once('-') {
            Some((p, n)) if p.eq_ignore_ascii_case(prefix) => (true, n),
            _ => (false, part),
        };
        match digits.parse::<i64>() {
            Ok(n) if n > 0 => out.push((by_number, n)),
            _ => errors.add(
                field,
                format!("“{part}” is not a {prefix} key such as {prefix}-3"),
            ),
        }
    }
    errors.into_result(out)
}

/// A record typed into a form that does not exist is the form's mistake, not a 404 for the page.
fn missing_as_invalid<T>(
    found: Result<T, StoreError>,
    field: &str,
    missing: impl FnOnce() -> String,
) -> Result<T, StoreError> {
    match found {
        Err(StoreError::NotFound) => Err(Invalid::one(field, missing()).into()),
        other => other,
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ChangesForm {
    changes: String,
}

pub async fn set_changes(
    State(state): State<AppState>,
    who: Can<perm::ReleasesWrite>,
    Id(key): Id<String>,
    Form(form): Form<ChangesForm>,
) -> UiResult {
    let release = find(&state, &who, &key).await?;
    let t = who.tenant_id();
    let saved = async {
        let mut ids = Vec::new();
        for (by_number, n) in keys_in(&form.changes, "CHG", "changes")? {
            let change = if by_number {
                state.store.change_by_number(t, n).await
            } else {
                state.store.change(t, n).await
            };
            let change = missing_as_invalid(change, "changes", || {
                format!("There is no change {}", steward_domain::change::key(n))
            })?;
            ids.push(change.id);
        }
        state
            .store
            .set_release_changes(t, release.id, &ids, &who.actor())
            .await
    }
    .await;
    let typed = FormState::with(&[("changes", &form.changes)]);
    after(&state, &who, &key, saved, "changes", "changes", typed).await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct KnownErrorsForm {
    known_errors: String,
}

pub async fn set_known_errors(
    State(state): State<AppState>,
    who: Can<perm::ReleasesWrite>,
    Id(key): Id<String>,
    Form(form): Form<KnownErrorsForm>,
) -> UiResult {
    let release = find(&state, &who, &key).await?;
    let t = who.tenant_id();
    let saved = async {
        let mut ids = Vec::new();
        for (by_number, n) in keys_in(&form.known_errors, "KE", "known_errors")? {
            let found = if by_number {
                state.store.known_error_by_number(t, n).await
            } else {
                match state.store.known_errors_by_id(t, &[n]).await {
                    Ok(mut found) => found.pop().ok_or(StoreError::NotFound),
                    Err(e) => Err(e),
                }
            };
            let known_error = missing_as_invalid(found, "known_errors", || {
                format!("There is no known error KE-{n}")
            })?;
            ids.push(known_error.id);
        }
        state
            .store
            .set_release_known_errors(t, release.id, &ids, &who.actor())
            .await
    }
    .await;
    let typed = FormState::with(&[("known_errors", &form.known_errors)]);
    after(
        &state,
        &who,
        &key,
        saved,
        "known_errors",
        "known_errors",
        typed,
    )
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct CriterionForm {
    text: String,
}

pub async fn add_criterion(
    State(state): State<AppState>,
    who: Can<perm::ReleasesWrite>,
    Id(key): Id<String>,
    Form(form): Form<CriterionForm>,
) -> UiResult {
    let release = find(&state, &who, &key).await?;
    let saved = match (CriterionDraft {
        text: form.text.clone(),
    })
    .validate()
    {
        Err(invalid) => Err(invalid.into()),
        Ok(draft) => {
            state
                .store
                .add_release_criterion(who.tenant_id(), release.id, &draft, &who.actor())
                .await
        }
    };
    let typed = FormState::with(&[("text", &form.text)]);
    after(&state, &who, &key, saved, "criteria", "text", typed).await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct SignOffForm {
    verdict: String,
    comment: String,
}

pub async fn sign_off(
    State(state): State<AppState>,
    who: Can<perm::ReleasesWrite>,
    Id((key, id)): Id<(String, i64)>,
    Form(form): Form<SignOffForm>,
) -> UiResult {
    let release = find(&state, &who, &key).await?;
    let saved = match Verdict::parse(form.verdict.trim()) {
        None => Err(Invalid::one("comment", "Accept or refuse the criterion").into()),
        Some(verdict) => match (SignOff {
            verdict,
            comment: form.comment.clone(),
        })
        .validate()
        {
            Err(invalid) => Err(invalid.into()),
            Ok(sign_off) => {
                state
                    .store
                    .sign_off_release_criterion(
                        who.tenant_id(),
                        release.id,
                        id,
                        &sign_off,
                        &who.actor(),
                    )
                    .await
            }
        },
    };
    let typed = FormState::with(&[("comment", &form.comment)]);
    after(&state, &who, &key, saved, "criteria", "comment", typed).await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct DeploymentForm {
    environment: String,
    planned_start: String,
    planned_end: String,
}

pub async fn add_deployment(
    State(state): State<AppState>,
    who: Can<perm::ReleasesWrite>,
    Id(key): Id<String>,
    Form(form): Form<DeploymentForm>,
) -> UiResult {
    let release = find(&state, &who, &key).await?;
    let mut errors = Invalid::new();
    let planned_start = parse_local(&mut errors, "planned_start", &form.planned_start);
    let planned_end = parse_local(&mut errors, "planned_end", &form.planned_end);
    let draft = DeploymentDraft {
        environment: form.environment.clone(),
        planned_start,
        planned_end,
    }
    .validate();
    let saved = match (errors.into_result(()), draft) {
        (Err(invalid), _) | (_, Err(invalid)) => Err(invalid.into()),
        (Ok(()), Ok(draft)) => state
            .store
            .add_release_deployment(who.tenant_id(), release.id, &draft, &who.actor())
            .await
            .map(|(r, _)| r),
    };
    let typed = FormState::with(&[
        ("environment", &form.environment),
        ("planned_start", &form.planned_start),
        ("planned_end", &form.planned_end),
    ]);
    after(
        &state,
        &who,
        &key,
        saved,
        "deployments",
        "environment",
        typed,
    )
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct OutcomeForm {
    outcome: String,
    verification_notes: String,
    rollback_notes: String,
    /// The CI the deployment updated: `name #id`, an id, or a unique name; empty for none.
    ci: String,
    ci_status: String,
    /// `name = value` pairs, one per line or separated by commas.
    ci_attributes: String,
}

impl OutcomeForm {
    fn state(&self) -> FormState {
        FormState::with(&[
            ("outcome", &self.outcome),
            ("verification_notes", &self.verification_notes),
            ("rollback_notes", &self.rollback_notes),
            ("ci", &self.ci),
            ("ci_status", &self.ci_status),
            ("ci_attributes", &self.ci_attributes),
        ])
    }
}

/// `version = 2.4.0, build = 117` into attribute values.
fn attribute_pairs(text: &str) -> Result<Option<Map<String, Value>>, Invalid> {
    let mut map = Map::new();
    for part in text.split(['\n', ',']).map(str::trim) {
        if part.is_empty() {
            continue;
        }
        let Some((name, value)) = part.split_once('=') else {
            return Err(Invalid::one(
                "ci_attributes",
                format!("“{part}” is not a name = value pair"),
            ));
        };
        map.insert(
            name.trim().to_owned(),
            Value::String(value.trim().to_owned()),
        );
    }
    Ok((!map.is_empty()).then_some(map))
}

pub async fn record_outcome(
    State(state): State<AppState>,
    who: Can<perm::ReleasesWrite>,
    Id((key, id)): Id<(String, i64)>,
    Form(form): Form<OutcomeForm>,
) -> UiResult {
    let release = find(&state, &who, &key).await?;
    let t = who.tenant_id();
    let saved = async {
        let outcome = DeploymentOutcome::parse(form.outcome.trim())
            .ok_or_else(|| Invalid::one("outcome", "Choose how the deployment ended"))?;
        let outcome = OutcomeDraft {
            outcome,
            verification_notes: form.verification_notes.clone(),
            rollback_notes: form.rollback_notes.clone(),
        }
        .validate()?;
        let mut updates = Vec::new();
        if !form.ci.trim().is_empty() {
            let ci_id = ci_from_text(&state, t, "ci", &form.ci).await?;
            let status = match form.ci_status.trim() {
                "" => None,
                s => Some(
                    CiStatus::parse(s)
                        .ok_or_else(|| Invalid::one("ci_status", "Choose a status"))?,
                ),
            };
            updates.push(CiUpdate {
                ci_id,
                status,
                attributes: attribute_pairs(&form.ci_attributes)?,
            });
        }
        state
            .store
            .record_deployment_outcome(t, release.id, id, &outcome, &updates, &who.actor())
            .await
    }
    .await;
    after(
        &state,
        &who,
        &key,
        saved,
        "deployments",
        "outcome",
        form.state(),
    )
    .await
}
