//! Nonconformity pages (ISO/IEC 20000-1 10.1): the list with its filters and overdue flags, the
//! form that raises one (pre-filled from an incident), and the nonconformity page: its
//! timeline, the containment and root cause form, the corrective actions with their add and
//! complete forms, the effectiveness check once every action is done, and the next step.
//!
//! Every form goes through the same store calls as the API, so the pages refuse what the API
//! refuses, with the same messages, beside the field, keeping what was typed.

use super::people::People;
use super::session::DoneQuery;
use super::{
    Chrome, FormState, HistoryRow, Id, Opt, UiResult, filter_choices, history, next_link, options,
    options_after_blank, when,
};
use crate::AppState;
use crate::api::date_out;
use crate::api::nonconformities::{action_draft, refuse_audit_source};
use crate::auth::{Can, Principal, perm};
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
use steward_domain::asset::parse_date;
use steward_domain::sms::nonconformity::{
    NcStatus, NonconformityDraft, RootCauseMethod, Severity, Source,
};
use steward_store::asset::today_utc;
use steward_store::nonconformity::{Nonconformity, NonconformityFilter};
use steward_store::{PageRequest, StoreError};

/// The management system hub is where the navigation points for every register page.
pub const NAV_HREF: &str = super::sms::NAV_HREF;
/// Where the list lives.
const LIST_HREF: &str = "/nonconformities";

/// Reads an optional user id picked from a list.
fn picked_user(errors: &mut Invalid, field: &str, text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    match text.parse() {
        Ok(id) => Some(id),
        Err(_) => {
            errors.add(field, "Choose a person from the list");
            None
        }
    }
}

pub struct Row {
    pub id: i64,
    pub reference: String,
    pub title: String,
    pub severity: &'static str,
    pub severity_code: &'static str,
    pub source: &'static str,
    pub status: &'static str,
    pub status_code: &'static str,
    pub owner: String,
    pub raised: String,
    pub overdue_actions: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "nonconformities/list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    statuses: Vec<Opt>,
    severities: Vec<Opt>,
    sources: Vec<Opt>,
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
    status: String,
    severity: String,
    source: String,
    overdue: String,
    mine: String,
    cursor: Option<String>,
    done: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    Query(q): Query<ListQuery>,
) -> UiResult {
    let overdue = !q.overdue.trim().is_empty();
    let mine = !q.mine.trim().is_empty();
    let filter = NonconformityFilter {
        status: NcStatus::parse(q.status.trim()),
        severity: Severity::parse(q.severity.trim()),
        source: Source::parse(q.source.trim()),
        overdue,
        mine: mine.then_some(who.user.id),
        sort: Some("-number".into()),
    };
    let page = PageRequest {
        limit: Some(50),
        cursor: q.cursor.clone(),
    };
    let found = match state
        .store
        .nonconformities(who.tenant_id(), &filter, today_utc(), &page)
        .await
    {
        Err(StoreError::Invalid(_)) => return Ok(Redirect::to(LIST_HREF).into_response()),
        other => other?,
    };
    let people = People::of(&state, who.tenant_id()).await?;
    let rows = found
        .items
        .into_iter()
        .map(|i| {
            let nc = i.nonconformity;
            Row {
                reference: nc.reference(),
                severity: nc.severity.label(),
                severity_code: nc.severity.as_str(),
                source: nc.source.label(),
                status: nc.status.label(),
                status_code: nc.status.as_str(),
                owner: people.name(nc.owner_id),
                raised: when(nc.raised_at),
                overdue_actions: i.overdue_actions,
                id: nc.id,
                title: nc.title,
            }
        })
        .collect();
    let params = [
        ("status", q.status.as_str()),
        ("severity", q.severity.as_str()),
        ("source", q.source.as_str()),
        ("overdue", q.overdue.as_str()),
        ("mine", q.mine.as_str()),
    ];
    let filtered = params.iter().any(|(_, v)| !v.trim().is_empty());
    Ok(ListPage {
        chrome: Chrome::new(&state, &who, NAV_HREF)
            .await
            .with_notice(q.done.as_deref()),
        rows,
        statuses: filter_choices(
            NcStatus::ALL,
            "— any status —",
            NcStatus::as_str,
            NcStatus::label,
            &q.status,
        ),
        severities: filter_choices(
            Severity::ALL,
            "— any severity —",
            Severity::as_str,
            Severity::label,
            &q.severity,
        ),
        sources: filter_choices(
            Source::ALL,
            "— any source —",
            Source::as_str,
            Source::label,
            &q.source,
        ),
        overdue,
        mine,
        filtered,
        next: next_link(LIST_HREF, &params, found.next_cursor),
        can_write: who.can(Permission::SmsWrite),
        no_errors: FormState::default(),
    }
    .into_response())
}

/// The raise form's fields.
const RAISE_FIELDS: [&str; 7] = [
    "title",
    "description",
    "clause_id",
    "severity",
    "source",
    "source_ref",
    "owner_id",
];

fn posted(pairs: Vec<(String, String)>, names: &[&str]) -> HashMap<String, String> {
    pairs
        .into_iter()
        .filter(|(k, _)| names.contains(&k.as_str()))
        .collect()
}

fn state_of(fields: &HashMap<String, String>) -> FormState {
    let values: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    FormState::with(&values)
}

/// A raise draft from the typed fields; every field's error in one [`Invalid`].
fn raise_draft(fields: &HashMap<String, String>) -> Result<NonconformityDraft, Invalid> {
    let get = |name: &str| fields.get(name).map_or("", String::as_str);
    let mut errors = Invalid::new();
    let severity = Severity::parse(get("severity").trim());
    if severity.is_none() {
        errors.add("severity", "Choose major or minor");
    }
    let source = Source::parse(get("source").trim());
    match source {
        None => errors.add("source", "Choose where the nonconformity was found"),
        Some(s) => {
            if let Err(e) = refuse_audit_source(s) {
                errors.errors.extend(e.errors);
            }
        }
    }
    let source_ref = match get("source_ref").trim() {
        "" => None,
        text => match text.trim_start_matches("INC-").parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.add("source_ref", "The reference is a record number, such as 12");
                None
            }
        },
    };
    let owner_id = picked_user(&mut errors, "owner_id", get("owner_id"));
    let clause = get("clause_id").trim();
    let draft = NonconformityDraft {
        title: get("title").to_owned(),
        description: get("description").to_owned(),
        clause_id: (!clause.is_empty()).then(|| clause.to_owned()),
        severity: severity.unwrap_or(Severity::Minor),
        source: source.unwrap_or(Source::Other),
        source_ref,
        owner_id,
    };
    match draft.validate() {
        Ok(d) if errors.errors.is_empty() => Ok(d),
        Ok(_) => Err(errors),
        Err(more) => {
            for e in more.errors {
                if errors.message_for(&e.field).is_none() {
                    errors.errors.push(e);
                }
            }
            Err(errors)
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "nonconformities/form.html")]
struct RaisePage {
    chrome: Chrome,
    form: FormState,
    severities: Vec<Opt>,
    sources: Vec<Opt>,
    owners: Vec<Opt>,
    clauses: Vec<Opt>,
}

/// The clauses a nonconformity may be against, for the picker.
fn clause_options(current: &str) -> Vec<Opt> {
    options_after_blank(
        "— no particular clause —",
        steward_domain::conformance::catalogue::catalogue()
            .clauses
            .iter()
            .map(|c| (c.id.clone(), format!("{} {}", c.id, c.title))),
        current,
    )
}

async fn render_raise(
    state: &AppState,
    who: &Principal,
    form: FormState,
    status: StatusCode,
) -> UiResult {
    let people = People::of(state, who.tenant_id()).await?;
    let sources = options(
        Source::ALL
            .iter()
            .filter(|s| **s != Source::Audit)
            .map(|s| (s.as_str().to_owned(), s.label().to_owned())),
        form.value("source"),
    );
    let page = RaisePage {
        chrome: Chrome::new(state, who, NAV_HREF).await,
        severities: options(
            Severity::ALL
                .iter()
                .map(|s| (s.as_str().to_owned(), s.label().to_owned())),
            form.value("severity"),
        ),
        sources,
        owners: people.options("— nobody yet —", form.value("owner_id")),
        clauses: clause_options(form.value("clause_id")),
        form,
    };
    Ok((status, page).into_response())
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct RaiseQuery {
    source: String,
    source_ref: String,
    title: String,
}

/// `GET /nonconformities/new`, pre-filled from `?source=incident&source_ref=<id>` when raised
/// from an incident's page.
pub async fn new_form(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Query(q): Query<RaiseQuery>,
) -> UiResult {
    let source = Source::parse(q.source.trim())
        .filter(|s| *s != Source::Audit)
        .map_or("other", Source::as_str);
    let mut title = q.title.clone();
    if source == "incident"
        && let Ok(id) = q.source_ref.trim().parse::<i64>()
        && let Ok(incident) = state.store.incident(who.tenant_id(), id).await
        && title.is_empty()
    {
        title = format!("{}: {}", incident.key(), incident.title);
    }
    let form = FormState::with(&[
        ("severity", "minor"),
        ("source", source),
        ("source_ref", q.source_ref.trim()),
        ("title", title.as_str()),
    ]);
    render_raise(&state, &who, form, StatusCode::OK).await
}

/// `POST /nonconformities`: raises it and goes to its page, or shows the form again.
pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> UiResult {
    let fields = posted(pairs, &RAISE_FIELDS);
    let raised: Result<Nonconformity, StoreError> = async {
        let draft = raise_draft(&fields)?;
        state
            .store
            .raise_nonconformity(who.tenant_id(), &draft, &who.actor())
            .await
    }
    .await;
    let refusal = match raised {
        Ok(nc) => {
            return Ok(
                Redirect::to(&format!("/nonconformities/{}?done=created", nc.id)).into_response(),
            );
        }
        Err(StoreError::Invalid(invalid)) => invalid,
        Err(e) => return Err(e.into()),
    };
    render_raise(
        &state,
        &who,
        state_of(&fields).rejected(refusal),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

/// One corrective action as the page shows it.
pub struct ActionRow {
    pub id: i64,
    pub description: String,
    pub owner: String,
    pub due: String,
    pub overdue: bool,
    pub completed: Option<String>,
    pub note: String,
}

/// One effectiveness check as the page shows it.
pub struct CheckRow {
    pub effective: bool,
    pub notes: String,
    pub by: String,
    pub at: String,
}

/// One step of the timeline.
pub struct TimelineRow {
    pub at: String,
    pub to: &'static str,
    pub to_code: String,
    pub note: String,
    pub by: String,
}

/// Where the nonconformity came from, in words, with a link when there is a page for it.
pub struct SourceView {
    pub text: String,
    pub href: Option<String>,
}

async fn source_view(state: &AppState, who: &Principal, nc: &Nonconformity) -> SourceView {
    match (nc.source, nc.source_ref) {
        (Source::Incident, Some(id)) => match state.store.incident(who.tenant_id(), id).await {
            Ok(incident) => SourceView {
                href: Some(format!("/incidents/{}", incident.key())),
                text: format!("Incident {}: {}", incident.key(), incident.title),
            },
            Err(_) => SourceView {
                text: format!("Incident {id}"),
                href: None,
            },
        },
        (Source::Audit, Some(id)) => {
            match super::audits::finding_link(state, who.tenant_id(), id).await {
                Some((href, text)) => SourceView {
                    text,
                    href: Some(href),
                },
                None => SourceView {
                    text: format!("Audit finding #{id}"),
                    href: None,
                },
            }
        }
        (Source::Complaint, _) => {
            match super::complaints::raised_nonconformity_link(state, who.tenant_id(), nc.id).await
            {
                Some((href, text)) => SourceView {
                    text,
                    href: Some(href),
                },
                None => SourceView {
                    text: Source::Complaint.label().to_owned(),
                    href: None,
                },
            }
        }
        (source, _) => SourceView {
            text: source.label().to_owned(),
            href: None,
        },
    }
}

/// The forms of the nonconformity page, each as typed with its errors.
#[derive(Default)]
pub struct Forms {
    pub edit: Option<FormState>,
    pub action: FormState,
    /// The action whose completion form was refused, and that form.
    pub complete: Option<(i64, FormState)>,
    pub check: FormState,
}

#[derive(Template, WebTemplate)]
#[template(path = "nonconformities/view.html")]
struct ViewPage {
    chrome: Chrome,
    nc: Nonconformity,
    reference: String,
    status: &'static str,
    severity: &'static str,
    source: SourceView,
    clause_title: String,
    owner: String,
    raised: String,
    method: String,
    next_step: String,
    can_write: bool,
    closed: bool,
    awaiting: bool,
    edit_form: FormState,
    owners: Vec<Opt>,
    methods: Vec<Opt>,
    action_form: FormState,
    action_owners: Vec<Opt>,
    complete_for: i64,
    complete_form: FormState,
    check_form: FormState,
    check_due: String,
    actions: Vec<ActionRow>,
    checks: Vec<CheckRow>,
    timeline: Vec<TimelineRow>,
    history: Option<Vec<HistoryRow>>,
}

fn edit_state(nc: &Nonconformity) -> FormState {
    let owner = nc.owner_id.map(|i| i.to_string()).unwrap_or_default();
    let due = nc.check_due.map(date_out).unwrap_or_default();
    FormState::with(&[
        ("title", nc.title.as_str()),
        ("description", nc.description.as_str()),
        ("owner_id", owner.as_str()),
        ("containment", nc.containment.as_str()),
        ("root_cause", nc.root_cause.as_str()),
        (
            "root_cause_method",
            nc.root_cause_method.map_or("", RootCauseMethod::as_str),
        ),
        ("check_due", due.as_str()),
        ("updated_at", &nc.updated_at.to_string()),
    ])
}

async fn render_view(
    state: &AppState,
    who: &Principal,
    id: i64,
    forms: Forms,
    status: StatusCode,
    done: Option<&str>,
) -> UiResult {
    let t = who.tenant_id();
    let nc = state.store.nonconformity(t, id).await?;
    let people = People::of(state, who.tenant_id()).await?;
    let today = today_utc();
    let facts = state.store.nonconformity_facts(t, &nc).await?;
    let actions = state
        .store
        .corrective_actions(t, id)
        .await?
        .into_iter()
        .map(|a| ActionRow {
            overdue: a.is_overdue(today),
            owner: people.name(a.owner_id),
            due: date_out(a.due),
            completed: a.completed_on.map(date_out),
            id: a.id,
            description: a.description,
            note: a.completion_note,
        })
        .collect();
    let checks = state
        .store
        .effectiveness_checks(t, id)
        .await?
        .into_iter()
        .map(|c| CheckRow {
            by: people.name(c.checked_by),
            at: when(c.checked_at),
            effective: c.effective,
            notes: c.notes,
        })
        .collect();
    let timeline = state
        .store
        .nonconformity_history(t, id)
        .await?
        .into_iter()
        .map(|h| TimelineRow {
            at: when(h.at),
            to: NcStatus::parse(&h.to_status).map_or("", NcStatus::label),
            to_code: h.to_status,
            note: h.note,
            by: h.actor_label,
        })
        .collect();
    let edit_form = forms.edit.unwrap_or_else(|| edit_state(&nc));
    let (complete_for, complete_form) = forms.complete.unwrap_or_default();
    let page = ViewPage {
        chrome: Chrome::new(state, who, NAV_HREF).await.with_notice(done),
        reference: nc.reference(),
        status: nc.status.label(),
        severity: nc.severity.label(),
        source: source_view(state, who, &nc).await,
        clause_title: nc
            .clause_id
            .as_deref()
            .and_then(|c| steward_domain::conformance::catalogue::catalogue().clause(c))
            .map(|c| c.title.clone())
            .unwrap_or_default(),
        owner: people.name(nc.owner_id),
        raised: format!("{} by {}", when(nc.raised_at), nc.raised_by_label),
        method: nc
            .root_cause_method
            .map_or_else(String::new, |m| m.label().to_owned()),
        next_step: nc.status.next_step(&facts, nc.check_due),
        can_write: who.can(Permission::SmsWrite),
        closed: nc.status == NcStatus::Closed,
        awaiting: nc.status == NcStatus::AwaitingVerification,
        owners: people.options("— nobody yet —", edit_form.value("owner_id")),
        methods: options_after_blank(
            "— not analysed yet —",
            RootCauseMethod::ALL
                .iter()
                .map(|m| (m.as_str().to_owned(), m.label().to_owned())),
            edit_form.value("root_cause_method"),
        ),
        action_owners: people.options("— choose —", forms.action.value("owner_id")),
        action_form: forms.action,
        complete_for,
        complete_form,
        check_form: forms.check,
        check_due: nc.check_due.map(date_out).unwrap_or_default(),
        edit_form,
        actions,
        checks,
        timeline,
        history: history(state, who, "nonconformity", id).await,
        nc,
    };
    Ok((status, page).into_response())
}

pub async fn view(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    Id(id): Id<i64>,
    Query(q): Query<DoneQuery>,
) -> UiResult {
    render_view(
        &state,
        &who,
        id,
        Forms::default(),
        StatusCode::OK,
        q.done.as_deref(),
    )
    .await
}

/// Shows the page again with a refused form, or goes back to it when the write succeeded.
async fn after_write<T>(
    state: &AppState,
    who: &Principal,
    id: i64,
    written: Result<T, StoreError>,
    forms: impl FnOnce(Invalid) -> Forms,
) -> UiResult {
    let refusal = match written {
        Ok(_) => return Ok(super::saved_page("/nonconformities", id, true)),
        Err(e) => super::refusal(e, "form")?,
    };
    render_view(
        state,
        who,
        id,
        forms(refusal),
        StatusCode::UNPROCESSABLE_ENTITY,
        None,
    )
    .await
}

const EDIT_FIELDS: [&str; 8] = [
    "title",
    "description",
    "owner_id",
    "containment",
    "root_cause",
    "root_cause_method",
    "check_due",
    "updated_at",
];

/// `POST /nonconformities/{id}`: the details, containment and root cause form.
pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id(id): Id<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> UiResult {
    let fields = posted(pairs, &EDIT_FIELDS);
    let get = |name: &str| fields.get(name).map_or("", String::as_str);
    let current = state.store.nonconformity(who.tenant_id(), id).await?;
    let written = async {
        let mut errors = Invalid::new();
        let mut edit = current.edit();
        edit.title = get("title").to_owned();
        edit.description = get("description").to_owned();
        edit.owner_id = picked_user(&mut errors, "owner_id", get("owner_id"));
        edit.containment = get("containment").to_owned();
        edit.root_cause = get("root_cause").to_owned();
        edit.root_cause_method = match get("root_cause_method").trim() {
            "" => None,
            text => {
                let method = RootCauseMethod::parse(text);
                if method.is_none() {
                    errors.add("root_cause_method", "Choose a method from the list");
                }
                method
            }
        };
        edit.check_due = parse_date(&mut errors, "check_due", "Check date", get("check_due"));
        errors.into_result(())?;
        let seen = get("updated_at")
            .trim()
            .parse()
            .unwrap_or(current.updated_at);
        state
            .store
            .update_nonconformity(who.tenant_id(), id, seen, &edit, today_utc(), &who.actor())
            .await
    }
    .await;
    let typed = state_of(&fields);
    after_write(&state, &who, id, written, |refusal| Forms {
        edit: Some(typed.rejected(refusal)),
        ..Forms::default()
    })
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ActionForm {
    description: String,
    owner_id: String,
    due: String,
}

/// `POST /nonconformities/{id}/actions`: plans a corrective action.
pub async fn add_action(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id(id): Id<i64>,
    Form(form): Form<ActionForm>,
) -> UiResult {
    let written = async {
        let mut errors = Invalid::new();
        let owner = picked_user(&mut errors, "owner_id", &form.owner_id);
        errors.into_result(())?;
        let draft = action_draft(form.description.clone(), owner, &form.due)?;
        state
            .store
            .add_corrective_action(who.tenant_id(), id, &draft, today_utc(), &who.actor())
            .await
    }
    .await;
    let typed = FormState::with(&[
        ("description", &form.description),
        ("owner_id", &form.owner_id),
        ("due", &form.due),
    ]);
    after_write(&state, &who, id, written, |refusal| Forms {
        action: typed.rejected(refusal),
        ..Forms::default()
    })
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct CompleteForm {
    completion_note: String,
}

/// `POST /nonconformities/{id}/actions/{action_id}/complete`.
pub async fn complete_action(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id((id, action_id)): Id<(i64, i64)>,
    Form(form): Form<CompleteForm>,
) -> UiResult {
    let written = state
        .store
        .complete_corrective_action(
            who.tenant_id(),
            id,
            action_id,
            &form.completion_note,
            today_utc(),
            &who.actor(),
        )
        .await;
    let typed = FormState::with(&[("completion_note", &form.completion_note)]);
    after_write(&state, &who, id, written, |refusal| Forms {
        complete: Some((action_id, typed.rejected(refusal))),
        ..Forms::default()
    })
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct CheckForm {
    effective: String,
    notes: String,
}

/// `POST /nonconformities/{id}/verification`: records the effectiveness check.
pub async fn verify(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id(id): Id<i64>,
    Form(form): Form<CheckForm>,
) -> UiResult {
    let written = async {
        let effective = match form.effective.trim() {
            "yes" => true,
            "no" => false,
            _ => {
                return Err(StoreError::Invalid(Invalid::one(
                    "effective",
                    "Say whether the actions were effective",
                )));
            }
        };
        state
            .store
            .record_effectiveness_check(who.tenant_id(), id, effective, &form.notes, &who.actor())
            .await
    }
    .await;
    let typed = FormState::with(&[("effective", &form.effective), ("notes", &form.notes)]);
    after_write(&state, &who, id, written, |refusal| Forms {
        check: typed.rejected(refusal),
        ..Forms::default()
    })
    .await
}
