//! Competence (7.2): the matrix of current role holders against their roles' requirements,
//! with the form that adds a requirement to a role; and one person's page with their roles,
//! standings, records and actions, and the forms that record evidence, raise an action for a
//! gap, complete it and evaluate it.

use super::people::People;
use super::register_form::{chosen, picked};
use super::{Chrome, FormState, Id, Opt, UiResult, options, options_after_blank};
use crate::AppState;
use crate::api::competence::{RecordFields, action_draft, completion_date, record_draft};
use crate::api::date_out;
use crate::auth::{Can, Principal, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::sms::competence::{
    ActionDraft, ActionKind, ActionStage, Basis, CompetenceStanding, GapCell, RecordDraft,
    RequirementDraft,
};
use steward_store::StoreError;
use steward_store::asset::today_utc;
use steward_store::sms::competence::{CompetenceRecord, CompetenceRequirement, CompetenceRole};

pub const NAV_HREF: &str = "/competence";

/// How a standing shows: its words, its badge class, and the words for a screen reader.
fn shown(standing: CompetenceStanding) -> (String, &'static str) {
    match standing {
        CompetenceStanding::Competent { .. } => ("✓".into(), "sla-met"),
        CompetenceStanding::Expiring { expires_on } => (
            format!("expires {}", expires_on.strftime("%-d %b")),
            "sla-warning",
        ),
        CompetenceStanding::GapActioned {
            due_date, overdue, ..
        } => (
            format!(
                "gap · action {} {}",
                if overdue { "overdue since" } else { "due" },
                date_out(due_date)
            ),
            if overdue {
                "sla-breached"
            } else {
                "sla-warning"
            },
        ),
        CompetenceStanding::Gap => ("gap".into(), "sla-breached"),
    }
}

/// Where a gap's cell leads: the person's page with the action form filled for it.
fn raise_href(cell: &GapCell) -> Option<String> {
    (cell.standing == CompetenceStanding::Gap).then(|| {
        format!(
            "{NAV_HREF}/people/{}?requirement_id={}#raise",
            cell.user_id, cell.requirement_id
        )
    })
}

pub struct Column {
    pub id: i64,
    pub name: String,
    pub description: String,
}

pub struct Group {
    pub name: String,
    pub columns: Vec<Column>,
}

pub struct MatrixCell {
    /// Empty where the person does not hold the requirement's role.
    pub text: String,
    pub class: &'static str,
    pub label: String,
    pub href: Option<String>,
}

pub struct MatrixRow {
    pub user_id: i64,
    pub name: String,
    pub cells: Vec<MatrixCell>,
}

#[derive(Default)]
pub struct Counts {
    pub competent: usize,
    pub expiring: usize,
    pub actioned: usize,
    pub gaps: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "sms/competence_matrix.html")]
struct MatrixPage {
    chrome: Chrome,
    groups: Vec<Group>,
    rows: Vec<MatrixRow>,
    counts: Counts,
    /// Held roles with no requirement yet (what 7.2 a asks for is missing).
    unprofiled: Vec<String>,
    roles: Vec<Opt>,
    can_write: bool,
    form: FormState,
    /// The requirement the form edits, with the `updated_at` it was read at; none to add one.
    editing: Option<(i64, i64)>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct MatrixQuery {
    done: Option<String>,
    /// A requirement to edit in the form below the matrix.
    edit: Option<i64>,
}

pub async fn matrix(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    Query(q): Query<MatrixQuery>,
) -> UiResult {
    if let Some(id) = q.edit.filter(|_| who.can(Permission::SmsWrite)) {
        let r = state
            .store
            .competence_requirement(who.tenant_id(), id)
            .await?;
        let role_id = r.role_id.to_string();
        let form = FormState::with(&[
            ("role_id", role_id.as_str()),
            ("name", r.name.as_str()),
            ("description", r.description.as_str()),
        ]);
        let editing = Some((r.id, r.updated_at));
        return matrix_page(&state, &who, None, form, editing, StatusCode::OK).await;
    }
    matrix_page(
        &state,
        &who,
        q.done.as_deref(),
        FormState::default(),
        None,
        StatusCode::OK,
    )
    .await
}

async fn matrix_page(
    state: &AppState,
    who: &Principal,
    done: Option<&str>,
    form: FormState,
    editing: Option<(i64, i64)>,
    status: StatusCode,
) -> UiResult {
    let t = who.tenant_id();
    let roles = state.store.competence_roles(t).await?;
    let requirements = state.store.competence_requirements(t).await?;
    let cells = state.store.competence_gaps(t, today_utc()).await?;
    let people = People::of(state, t).await?;
    let holders = state.store.competence_holders(t, today_utc()).await?;

    let profiled: BTreeSet<i64> = requirements.iter().map(|r| r.role_id).collect();
    let held: BTreeSet<i64> = holders.iter().map(|h| h.role_id).collect();
    let unprofiled = roles
        .iter()
        .filter(|r| held.contains(&r.id) && !profiled.contains(&r.id))
        .map(|r| r.name.clone())
        .collect();
    // Columns: the roles in use by name, each with its requirements in the order added.
    let order: Vec<&CompetenceRequirement> = roles
        .iter()
        .flat_map(|role| requirements.iter().filter(move |r| r.role_id == role.id))
        .collect();
    let groups = roles
        .iter()
        .filter(|role| profiled.contains(&role.id))
        .map(|role| Group {
            name: role.name.clone(),
            columns: order
                .iter()
                .filter(|r| r.role_id == role.id)
                .map(|r| Column {
                    id: r.id,
                    name: r.name.clone(),
                    description: r.description.clone(),
                })
                .collect(),
        })
        .collect();
    let mut counts = Counts::default();
    let mut by_person: BTreeMap<i64, HashMap<i64, &GapCell>> = BTreeMap::new();
    for c in &cells {
        match c.standing {
            CompetenceStanding::Competent { .. } => counts.competent += 1,
            CompetenceStanding::Expiring { .. } => counts.expiring += 1,
            CompetenceStanding::GapActioned { .. } => counts.actioned += 1,
            CompetenceStanding::Gap => counts.gaps += 1,
        }
        by_person
            .entry(c.user_id)
            .or_default()
            .insert(c.requirement_id, c);
    }
    let mut rows: Vec<MatrixRow> = by_person
        .into_iter()
        .map(|(user_id, theirs)| MatrixRow {
            name: people.name(Some(user_id)),
            cells: order
                .iter()
                .map(|r| match theirs.get(&r.id) {
                    Some(cell) => {
                        let (text, class) = shown(cell.standing);
                        MatrixCell {
                            label: format!("{}: {}", r.name, cell.standing.label()),
                            href: raise_href(cell),
                            text,
                            class,
                        }
                    }
                    None => MatrixCell {
                        text: String::new(),
                        class: "",
                        label: format!("{}: not a requirement of their roles", r.name),
                        href: None,
                    },
                })
                .collect(),
            user_id,
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    let page = MatrixPage {
        chrome: Chrome::new(state, who, super::sms::NAV_HREF)
            .await
            .with_notice(done),
        groups,
        rows,
        counts,
        unprofiled,
        roles: role_options(&roles, form.value("role_id")),
        can_write: who.can(Permission::SmsWrite),
        form,
        editing,
    };
    Ok((status, page).into_response())
}

fn role_options(roles: &[CompetenceRole], current: &str) -> Vec<Opt> {
    options_after_blank(
        "— choose a role —",
        roles.iter().map(|r| (r.id.to_string(), r.name.clone())),
        current,
    )
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct RequirementForm {
    /// When editing: the requirement's `updated_at` as read.
    updated_at: String,
    role_id: String,
    name: String,
    description: String,
}

impl RequirementForm {
    fn draft(&self) -> Result<RequirementDraft, Invalid> {
        let mut errors = Invalid::new();
        let role_id = required_pick(&mut errors, "role_id", &self.role_id, "role it belongs to");
        let draft = RequirementDraft {
            role_id,
            name: self.name.clone(),
            description: self.description.clone(),
        };
        super::register_form::joined(errors, draft.validate())
    }
}

pub async fn add_requirement(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Form(f): Form<RequirementForm>,
) -> UiResult {
    let result = match f.draft() {
        Ok(draft) => state
            .store
            .create_competence_requirement(who.tenant_id(), &draft, &who.actor())
            .await
            .map(|_| ()),
        Err(invalid) => Err(StoreError::Invalid(invalid)),
    };
    requirement_saved(&state, &who, &f, result, None).await
}

/// `POST /competence/requirements/{id}`: edits a role's requirement; an edit over someone
/// else's is refused with what was typed kept.
pub async fn update_requirement(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id(id): Id<i64>,
    Form(f): Form<RequirementForm>,
) -> UiResult {
    let t = who.tenant_id();
    let current = state.store.competence_requirement(t, id).await?;
    let seen = f.updated_at.trim().parse().unwrap_or(current.updated_at);
    let result = match f.draft() {
        Ok(draft) => state
            .store
            .update_competence_requirement(t, id, seen, &draft, &who.actor())
            .await
            .map(|_| ()),
        Err(invalid) => Err(StoreError::Invalid(invalid)),
    };
    requirement_saved(&state, &who, &f, result, Some((id, seen))).await
}

/// Back to the matrix with a notice, or with the refused form kept as typed.
async fn requirement_saved(
    state: &AppState,
    who: &Principal,
    f: &RequirementForm,
    result: Result<(), StoreError>,
    editing: Option<(i64, i64)>,
) -> UiResult {
    let refusal = match result {
        Ok(()) => {
            let done = if editing.is_some() {
                "saved"
            } else {
                "created"
            };
            return Ok(Redirect::to(&format!("{NAV_HREF}?done={done}")).into_response());
        }
        Err(e) => super::refusal(e, "name")?,
    };
    let typed = [
        ("role_id", f.role_id.as_str()),
        ("name", f.name.as_str()),
        ("description", f.description.as_str()),
    ];
    let form = FormState::with(&typed).rejected(refusal);
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    matrix_page(state, who, None, form, editing, status).await
}

pub struct StandingLine {
    pub role: String,
    pub requirement: String,
    pub text: String,
    pub class: &'static str,
    pub href: Option<String>,
}

pub struct RecordLine {
    pub id: i64,
    pub requirement: String,
    pub basis: &'static str,
    pub title: String,
    pub provider: String,
    pub achieved_on: String,
    pub expires_on: String,
    pub evidence: String,
    pub valid: bool,
}

pub struct ActionLine {
    pub id: i64,
    pub requirement: String,
    pub kind: &'static str,
    pub description: String,
    pub owner: String,
    pub due_date: String,
    pub status: &'static str,
    pub overdue: bool,
    pub open: bool,
    pub awaiting_evaluation: bool,
    pub completed_on: String,
    /// "Effective" or "Not effective" once evaluated.
    pub verdict: String,
    pub evaluation: String,
    /// The step form of this action is the one that was refused: show its errors and input.
    pub refused: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "sms/competence_person.html")]
struct PersonPage {
    chrome: Chrome,
    user_id: i64,
    name: String,
    roles: Vec<String>,
    standings: Vec<StandingLine>,
    records: Vec<RecordLine>,
    actions: Vec<ActionLine>,
    requirements: Vec<Opt>,
    action_requirements: Vec<Opt>,
    bases: Vec<Opt>,
    kinds: Vec<Opt>,
    owners: Vec<Opt>,
    can_write: bool,
    record_form: FormState,
    /// The record the record form edits, with the `updated_at` it was read at.
    editing_record: Option<(i64, i64)>,
    action_form: FormState,
    step_form: FormState,
}

/// What a refused form on the person's page carries back to it.
#[derive(Default)]
struct Refused {
    record: FormState,
    editing_record: Option<(i64, i64)>,
    action: FormState,
    step: FormState,
    step_action: Option<i64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct PersonQuery {
    done: Option<String>,
    /// The gap an action is raised for (the matrix's link).
    requirement_id: String,
    /// A record to correct in the record form.
    edit_record: Option<i64>,
}

pub async fn person(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    Id(user_id): Id<i64>,
    Query(q): Query<PersonQuery>,
) -> UiResult {
    let mut refused = Refused {
        action: FormState::with(&[("requirement_id", q.requirement_id.as_str())]),
        ..Refused::default()
    };
    if let Some(id) = q.edit_record {
        let r = owned_record(&state, &who, user_id, id).await?;
        refused.record = FormState::with(&[
            ("requirement_id", &r.requirement_id.to_string()),
            ("basis", r.basis.as_str()),
            ("title", &r.title),
            ("provider", &r.provider),
            ("achieved_on", &date_out(r.achieved_on)),
            (
                "expires_on",
                &r.expires_on.map(date_out).unwrap_or_default(),
            ),
            ("evidence", &r.evidence),
        ]);
        refused.editing_record = Some((r.id, r.updated_at));
    }
    person_page(
        &state,
        &who,
        user_id,
        q.done.as_deref(),
        refused,
        StatusCode::OK,
    )
    .await
}

fn requirement_options(
    requirements: &[CompetenceRequirement],
    role_names: &HashMap<i64, String>,
    current: &str,
) -> Vec<Opt> {
    options_after_blank(
        "— choose a requirement —",
        requirements.iter().map(|r| {
            let role = role_names
                .get(&r.role_id)
                .map_or("retired role", String::as_str);
            (r.id.to_string(), format!("{role}: {}", r.name))
        }),
        current,
    )
}

async fn person_page(
    state: &AppState,
    who: &Principal,
    user_id: i64,
    done: Option<&str>,
    refused: Refused,
    status: StatusCode,
) -> UiResult {
    let t = who.tenant_id();
    let today = today_utc();
    let user = state.store.user(t, user_id).await?;
    let people = People::of(state, t).await?;
    let roles = state.store.competence_roles(t).await?;
    let role_names: HashMap<i64, String> = roles.iter().map(|r| (r.id, r.name.clone())).collect();
    let requirements = state.store.competence_requirements(t).await?;
    let names: HashMap<i64, &str> = requirements
        .iter()
        .map(|r| (r.id, r.name.as_str()))
        .collect();
    let requirement_name = |id: i64| names.get(&id).copied().unwrap_or_default().to_owned();
    let role_of = |role_id: i64| role_names.get(&role_id).cloned().unwrap_or_default();
    let held: BTreeSet<i64> = state
        .store
        .competence_holders(t, today)
        .await?
        .into_iter()
        .filter(|h| h.user_id == user_id)
        .map(|h| h.role_id)
        .collect();
    let standings = state
        .store
        .competence_gaps(t, today)
        .await?
        .into_iter()
        .filter(|c| c.user_id == user_id)
        .map(|c| {
            let (text, class) = shown(c.standing);
            StandingLine {
                role: role_of(c.role_id),
                requirement: requirement_name(c.requirement_id),
                href: raise_href(&c),
                text,
                class,
            }
        })
        .collect();
    let records = state
        .store
        .competence_records(t, Some(user_id))
        .await?
        .into_iter()
        .map(|r| RecordLine {
            id: r.id,
            valid: r.valid_on(today),
            requirement: requirement_name(r.requirement_id),
            basis: r.basis.label(),
            title: r.title,
            provider: r.provider,
            achieved_on: date_out(r.achieved_on),
            expires_on: r.expires_on.map(date_out).unwrap_or_else(|| "—".into()),
            evidence: r.evidence,
        })
        .collect();
    let actions = state
        .store
        .competence_actions(t, Some(user_id))
        .await?
        .into_iter()
        .map(|a| ActionLine {
            overdue: a.overdue(today),
            open: a.stage == ActionStage::Open,
            awaiting_evaluation: matches!(a.stage, ActionStage::Completed { .. }),
            status: a.stage.status().label(),
            completed_on: a.stage.completed_on().map(date_out).unwrap_or_default(),
            verdict: match a.stage.effective() {
                Some(true) => "Effective".into(),
                Some(false) => "Not effective: the gap stays open".into(),
                None => String::new(),
            },
            evaluation: a.stage.evaluation().to_owned(),
            refused: refused.step_action == Some(a.id),
            id: a.id,
            requirement: requirement_name(a.requirement_id),
            kind: a.kind.label(),
            description: a.description,
            owner: people.name(a.owner_id),
            due_date: date_out(a.due_date),
        })
        .collect();
    let mut action_form = refused.action;
    if action_form.value("due_date").is_empty() && !action_form.has_errors() {
        let due = date_out(today.saturating_add(jiff::Span::new().days(60)));
        action_form = FormState::with(&[
            ("requirement_id", action_form.value("requirement_id")),
            ("kind", "training"),
            ("due_date", due.as_str()),
        ]);
    }
    let page = PersonPage {
        chrome: Chrome::new(state, who, super::sms::NAV_HREF)
            .await
            .with_notice(done),
        user_id,
        name: user.name,
        roles: held.iter().map(|id| role_of(*id)).collect(),
        standings,
        records,
        actions,
        requirements: requirement_options(
            &requirements,
            &role_names,
            refused.record.value("requirement_id"),
        ),
        action_requirements: requirement_options(
            &requirements,
            &role_names,
            action_form.value("requirement_id"),
        ),
        bases: options(
            Basis::ALL
                .iter()
                .map(|b| (b.as_str().to_owned(), b.label().to_owned())),
            refused.record.value("basis"),
        ),
        kinds: options(
            ActionKind::ALL
                .iter()
                .map(|k| (k.as_str().to_owned(), k.label().to_owned())),
            action_form.value("kind"),
        ),
        owners: people.options("— nobody yet —", action_form.value("owner_id")),
        can_write: who.can(Permission::SmsWrite),
        record_form: refused.record,
        editing_record: refused.editing_record,
        action_form,
        step_form: refused.step,
    };
    Ok((status, page).into_response())
}

/// Reads a required id picked from a list under `field`.
fn required_pick(errors: &mut Invalid, field: &str, text: &str, what: &str) -> i64 {
    let id = picked(errors, field, text);
    if id.is_none() && text.trim().is_empty() {
        errors.add(field, format!("Choose the {what}"));
    }
    id.unwrap_or_default()
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct RecordForm {
    /// When editing: the record's `updated_at` as read.
    updated_at: String,
    requirement_id: String,
    basis: String,
    title: String,
    provider: String,
    achieved_on: String,
    expires_on: String,
    evidence: String,
}

impl RecordForm {
    /// The record typed for `user_id`, refused as the API refuses it.
    fn draft(&self, user_id: i64) -> Result<RecordDraft, Invalid> {
        let mut errors = Invalid::new();
        let requirement_id = required_pick(
            &mut errors,
            "requirement_id",
            &self.requirement_id,
            "requirement",
        );
        let Some(basis) = chosen(&mut errors, "basis", &self.basis, Basis::parse) else {
            return Err(errors);
        };
        let draft = record_draft(RecordFields {
            user_id,
            requirement_id,
            basis,
            title: self.title.clone(),
            provider: self.provider.clone(),
            achieved_on: &self.achieved_on,
            expires_on: &self.expires_on,
            evidence: self.evidence.clone(),
        });
        super::register_form::joined(errors, draft)
    }

    fn typed(&self) -> FormState {
        FormState::with(&[
            ("requirement_id", self.requirement_id.as_str()),
            ("basis", self.basis.as_str()),
            ("title", self.title.as_str()),
            ("provider", self.provider.as_str()),
            ("achieved_on", self.achieved_on.as_str()),
            ("expires_on", self.expires_on.as_str()),
            ("evidence", self.evidence.as_str()),
        ])
    }
}

pub async fn add_record(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id(user_id): Id<i64>,
    Form(f): Form<RecordForm>,
) -> UiResult {
    let result = match f.draft(user_id) {
        Ok(draft) => state
            .store
            .create_competence_record(who.tenant_id(), &draft, &who.actor())
            .await
            .map(|_| ()),
        Err(invalid) => Err(StoreError::Invalid(invalid)),
    };
    let back = |refusal: Invalid| Refused {
        record: f.typed().rejected(refusal),
        ..Refused::default()
    };
    after(&state, &who, user_id, result, back).await
}

/// Record `id`, which must be `user_id`'s: a record reached under someone else is not found.
async fn owned_record(
    state: &AppState,
    who: &Principal,
    user_id: i64,
    id: i64,
) -> Result<CompetenceRecord, StoreError> {
    let r = state.store.competence_record(who.tenant_id(), id).await?;
    if r.user_id == user_id {
        Ok(r)
    } else {
        Err(StoreError::NotFound)
    }
}

/// `POST /competence/records/{id}`: corrects a record on file; an edit over someone else's is
/// refused with what was typed kept.
pub async fn update_record(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id(id): Id<i64>,
    Form(f): Form<RecordForm>,
) -> UiResult {
    let t = who.tenant_id();
    let current = state.store.competence_record(t, id).await?;
    let seen = f.updated_at.trim().parse().unwrap_or(current.updated_at);
    let result = match f.draft(current.user_id) {
        Ok(draft) => state
            .store
            .update_competence_record(t, id, seen, &draft, &who.actor())
            .await
            .map(|_| ()),
        Err(invalid) => Err(StoreError::Invalid(invalid)),
    };
    let back = |refusal: Invalid| Refused {
        record: f.typed().rejected(refusal),
        editing_record: Some((id, seen)),
        ..Refused::default()
    };
    after(&state, &who, current.user_id, result, back).await
}

/// Back to the person's page: with a notice when the write went through, or again with the
/// refused form's input and errors (a lifecycle refusal shows beside `field`).
async fn after(
    state: &AppState,
    who: &Principal,
    user_id: i64,
    result: Result<(), StoreError>,
    back: impl FnOnce(Invalid) -> Refused,
) -> UiResult {
    let refusal = match result {
        Ok(()) => {
            let people = format!("{NAV_HREF}/people");
            return Ok(super::saved_page(&people, user_id, true));
        }
        Err(e) => super::refusal(e, "step")?,
    };
    person_page(
        state,
        who,
        user_id,
        None,
        back(refusal),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ActionForm {
    requirement_id: String,
    kind: String,
    description: String,
    owner_id: String,
    due_date: String,
}

pub async fn add_action(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id(user_id): Id<i64>,
    Form(f): Form<ActionForm>,
) -> UiResult {
    let mut errors = Invalid::new();
    let requirement_id = required_pick(
        &mut errors,
        "requirement_id",
        &f.requirement_id,
        "requirement",
    );
    let owner_id = picked(&mut errors, "owner_id", &f.owner_id);
    let kind = chosen(&mut errors, "kind", &f.kind, ActionKind::parse);
    let draft = kind.map(|kind| {
        action_draft(
            ActionDraft {
                user_id,
                requirement_id,
                kind,
                description: f.description.clone(),
                owner_id,
                due_date: today_utc(),
            },
            &f.due_date,
        )
    });
    let result = match draft.map(|d| super::register_form::joined(errors.clone(), d)) {
        Some(Ok(draft)) => state
            .store
            .create_competence_action(who.tenant_id(), &draft, &who.actor())
            .await
            .map(|_| ()),
        Some(Err(invalid)) => Err(StoreError::Invalid(invalid)),
        None => Err(StoreError::Invalid(errors)),
    };
    let typed = [
        ("requirement_id", f.requirement_id.as_str()),
        ("kind", f.kind.as_str()),
        ("description", f.description.as_str()),
        ("owner_id", f.owner_id.as_str()),
        ("due_date", f.due_date.as_str()),
    ];
    let back = |refusal: Invalid| Refused {
        action: FormState::with(&typed).rejected(refusal),
        ..Refused::default()
    };
    after(&state, &who, user_id, result, back).await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct CompleteForm {
    completed_on: String,
}

pub async fn complete(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id(id): Id<i64>,
    Form(f): Form<CompleteForm>,
) -> UiResult {
    let t = who.tenant_id();
    let action = state.store.competence_action(t, id).await?;
    let result = match completion_date(&f.completed_on) {
        Ok(on) => state
            .store
            .complete_competence_action(t, id, on, today_utc(), &who.actor())
            .await
            .map(|_| ()),
        Err(invalid) => Err(StoreError::Invalid(invalid)),
    };
    let typed = [("completed_on", f.completed_on.as_str())];
    let back = |refusal: Invalid| Refused {
        step: FormState::with(&typed).rejected(refusal),
        step_action: Some(id),
        ..Refused::default()
    };
    after(&state, &who, action.user_id, result, back).await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct EvaluateForm {
    effective: String,
    evaluation: String,
}

/// The verdict picked: yes or no, nothing else.
fn verdict(errors: &mut Invalid, text: &str) -> Option<bool> {
    match text.trim() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => {
            errors.add("effective", "Say whether the gap closed: yes or no");
            None
        }
    }
}

pub async fn evaluate(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id(id): Id<i64>,
    Form(f): Form<EvaluateForm>,
) -> UiResult {
    let t = who.tenant_id();
    let action = state.store.competence_action(t, id).await?;
    let mut errors = Invalid::new();
    let result = match verdict(&mut errors, &f.effective) {
        Some(effective) => state
            .store
            .evaluate_competence_action(t, id, effective, &f.evaluation, &who.actor())
            .await
            .map(|_| ()),
        None => Err(StoreError::Invalid(errors)),
    };
    let typed = [
        ("effective", f.effective.as_str()),
        ("evaluation", f.evaluation.as_str()),
    ];
    let back = |refusal: Invalid| Refused {
        step: FormState::with(&typed).rejected(refusal),
        step_action: Some(id),
        ..Refused::default()
    };
    after(&state, &who, action.user_id, result, back).await
}
