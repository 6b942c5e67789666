//! Roles and responsibilities (5.3): the list of roles with their holders and the processes
//! they own, a role's page with its holders over time and the forms that assign, end and
//! retire, the shared register form that records and edits a role, and the RACI matrix with
//! the form that sets one process's row.

use super::people::People;
use super::register_form::{Field, Input, Posted, Register, chosen, form};
use super::{Chrome, FormState, Id, Opt, UiResult, options};
use crate::AppState;
use crate::api::date_out;
use crate::auth::{Can, Principal, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use std::collections::HashMap;
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::asset::required_date_alone;
use steward_domain::sms::role::{PROCESSES, RaciLetter, RoleDraft};
use steward_store::asset::today_utc;
use steward_store::mail::Delivery;
use steward_store::sms::role::{RaciRow, RoleAssignment, SmsRole};
use steward_store::{Actor, StoreError};

pub const NAV_HREF: &str = "/roles";
pub const RACI_HREF: &str = "/raci";

/// A role as the list shows it.
pub struct Row {
    pub id: i64,
    pub name: String,
    pub conformity_lead: bool,
    pub reports_performance: bool,
    pub retired: bool,
    pub holders: String,
    pub accountable_for: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "sms/roles_list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    can_write: bool,
}

/// The names of the processes `role_id` is accountable for, comma-separated, or a dash.
fn accountable_for(matrix: &[RaciRow], role_id: i64) -> String {
    let names: Vec<&str> = matrix
        .iter()
        .filter(|r| r.accountable() == Some(role_id))
        .map(|r| r.name.as_str())
        .collect();
    if names.is_empty() {
        "—".to_owned()
    } else {
        names.join(", ")
    }
}

pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    axum::extract::Query(q): axum::extract::Query<super::session::DoneQuery>,
) -> UiResult {
    let t = who.tenant_id();
    let people = People::of(&state, t).await?;
    let holders = state.store.current_role_holders(t, today_utc()).await?;
    let matrix = state.store.raci(t).await?;
    let rows = state
        .store
        .sms_roles(t)
        .await?
        .into_iter()
        .map(|r| {
            let held: Vec<i64> = holders
                .iter()
                .filter(|a| a.role_id == r.id)
                .map(|a| a.user_id)
                .collect();
            Row {
                holders: people.names(&held),
                accountable_for: accountable_for(&matrix, r.id),
                id: r.id,
                name: r.name,
                conformity_lead: r.conformity_lead,
                reports_performance: r.reports_performance,
                retired: r.retired,
            }
        })
        .collect();
    Ok(ListPage {
        chrome: Chrome::new(&state, &who, super::sms::NAV_HREF)
            .await
            .with_notice(q.done.as_deref()),
        rows,
        can_write: who.can(Permission::SmsWrite),
    }
    .into_response())
}

const FIELDS: [&str; 5] = [
    "name",
    "responsibilities",
    "authorities",
    "conformity_lead",
    "reports_performance",
];

fn yes_no(form: &FormState, name: &str, yes: &str) -> Vec<Opt> {
    options(
        [
            ("no".to_owned(), "No".to_owned()),
            ("yes".to_owned(), yes.to_owned()),
        ],
        form.value(name),
    )
}

fn fields(form: &FormState) -> Vec<Field> {
    vec![
        Field::new("name", "Name", Input::Text).required(),
        Field::new("responsibilities", "Responsibilities", Input::Area)
            .required()
            .hint("What the holder must do."),
        Field::new("authorities", "Authorities", Input::Area)
            .required()
            .hint("What the holder may decide or act on without asking."),
        Field::new(
            "conformity_lead",
            "Answers for conformity with the standard",
            Input::Select(yes_no(
                form,
                "conformity_lead",
                "Yes: keeps the SMS in line with ISO/IEC 20000-1 (5.3 c)",
            )),
        ),
        Field::new(
            "reports_performance",
            "Reports performance to top management",
            Input::Select(yes_no(
                form,
                "reports_performance",
                "Yes: tells top management how the SMS and the services are doing (5.3 d)",
            )),
        ),
    ]
}

fn flag(errors: &mut Invalid, field: &str, text: &str) -> bool {
    chosen(errors, field, text, |v| match v {
        "yes" => Some(true),
        "no" | "" => Some(false),
        _ => None,
    })
    .unwrap_or(false)
}

fn draft_of(p: &Posted) -> Result<RoleDraft, Invalid> {
    let mut errors = Invalid::new();
    let conformity_lead = flag(&mut errors, "conformity_lead", p.get("conformity_lead"));
    let reports_performance = flag(
        &mut errors,
        "reports_performance",
        p.get("reports_performance"),
    );
    let draft = RoleDraft {
        name: p.get("name").to_owned(),
        responsibilities: p.get("responsibilities").to_owned(),
        authorities: p.get("authorities").to_owned(),
        conformity_lead,
        reports_performance,
    };
    super::register_form::joined(errors, draft.validate())
}

fn word(yes: bool) -> String {
    if yes { "yes" } else { "no" }.to_owned()
}

/// The roles as `register_form` drives their form.
pub struct Roles;

impl Register for Roles {
    type Record = SmsRole;
    type Draft = RoleDraft;
    const HREF: &'static str = NAV_HREF;
    const FIELDS: &'static [&'static str] = &FIELDS;
    const NEW: (&'static str, &'static str, &'static str) = (
        "New role",
        "Write down what the role must do and what it may decide; assign people to it on its page.",
        "Create",
    );

    fn id(r: &SmsRole) -> i64 {
        r.id
    }

    fn updated_at(r: &SmsRole) -> i64 {
        r.updated_at
    }

    fn editing(r: &SmsRole) -> (String, &'static str) {
        (
            format!("Edit role {}", r.name),
            "Its holders keep the role; they are not told of edits.",
        )
    }

    fn values(r: &SmsRole) -> Vec<(&'static str, String)> {
        vec![
            ("name", r.name.clone()),
            ("responsibilities", r.responsibilities.clone()),
            ("authorities", r.authorities.clone()),
            ("conformity_lead", word(r.conformity_lead)),
            ("reports_performance", word(r.reports_performance)),
        ]
    }

    fn fields(form: &FormState, _people: &People) -> Vec<Field> {
        fields(form)
    }

    async fn load(state: &AppState, tenant_id: i64, id: i64) -> Result<SmsRole, StoreError> {
        state.store.sms_role(tenant_id, id).await
    }

    fn draft(posted: &Posted) -> Result<RoleDraft, Invalid> {
        draft_of(posted)
    }

    async fn create(
        state: &AppState,
        tenant_id: i64,
        draft: &RoleDraft,
        actor: &Actor,
    ) -> Result<SmsRole, StoreError> {
        state.store.create_sms_role(tenant_id, draft, actor).await
    }

    /// An edit keeps the role in use or retired as it is; retiring has its own button.
    async fn update(
        state: &AppState,
        tenant_id: i64,
        id: i64,
        seen: i64,
        draft: &RoleDraft,
        actor: &Actor,
    ) -> Result<SmsRole, StoreError> {
        let retired = state.store.sms_role(tenant_id, id).await?.retired;
        state
            .store
            .update_sms_role(tenant_id, id, seen, draft, retired, actor)
            .await
    }

    async fn page(state: &AppState, who: &Principal, id: i64, done: Option<&str>) -> UiResult {
        view_page(state, who, id, done, FormState::default(), StatusCode::OK).await
    }
}

pub async fn new_form(State(state): State<AppState>, who: Can<perm::SmsWrite>) -> UiResult {
    let blank = FormState::with(&[("conformity_lead", "no"), ("reports_performance", "no")]);
    form::<Roles>(&state, &who, None, blank, None, StatusCode::OK).await
}

/// One holding of the role, as its page lists it.
pub struct HolderLine {
    pub id: i64,
    pub person: String,
    pub from: String,
    pub to: String,
    pub note: String,
    /// Not ended: it can be ended (it may start later).
    pub running: bool,
    pub current: bool,
    /// What became of the mail that told them, and its badge class.
    pub notice: (String, &'static str),
}

/// The assignment notice's fate as the holders' table shows it.
fn notice_shown(delivery: Option<&Delivery>) -> (String, &'static str) {
    match delivery {
        Some(Delivery::Sent { at }) => (format!("sent {}", super::when(*at)), "status-active"),
        Some(Delivery::Queued { last_error: None }) => ("waiting to go out".into(), ""),
        Some(Delivery::Queued {
            last_error: Some(e),
        }) => (format!("retrying: {e}"), "status-pending"),
        Some(Delivery::Failed { error }) => (format!("not delivered: {error}"), "status-failed"),
        None => ("none".into(), ""),
    }
}

fn holder_line(a: RoleAssignment, people: &People, notices: &HashMap<i64, Delivery>) -> HolderLine {
    HolderLine {
        notice: notice_shown(notices.get(&a.id)),
        current: a.holds_on(today_utc()),
        running: a.to_date.is_none(),
        id: a.id,
        person: people.name(Some(a.user_id)),
        from: date_out(a.from_date),
        to: a.to_date.map(date_out).unwrap_or_default(),
        note: a.note,
    }
}

/// A process the role has a part in, and which.
pub struct Part {
    pub process: String,
    pub letter: &'static str,
    pub label: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "sms/role_view.html")]
struct ViewPage {
    chrome: Chrome,
    r: SmsRole,
    holders: Vec<HolderLine>,
    parts: Vec<Part>,
    people: Vec<Opt>,
    can_write: bool,
    form: FormState,
    today: String,
}

async fn view_page(
    state: &AppState,
    who: &Principal,
    id: i64,
    done: Option<&str>,
    form: FormState,
    status: StatusCode,
) -> UiResult {
    let t = who.tenant_id();
    let r = state.store.sms_role(t, id).await?;
    let people = People::of(state, t).await?;
    let notices = state.store.assignment_notices(t).await?;
    let holders = state
        .store
        .role_assignments(t, id)
        .await?
        .into_iter()
        .map(|a| holder_line(a, &people, &notices))
        .collect();
    let parts = state
        .store
        .raci(t)
        .await?
        .into_iter()
        .filter_map(|row| {
            row.letter_of(id).map(|l| Part {
                process: format!("{} {}", row.process, row.name),
                letter: l.as_str(),
                label: l.label(),
            })
        })
        .collect();
    let today = date_out(today_utc());
    let form = if form.has_errors() {
        form
    } else {
        FormState::with(&[("from_date", today.as_str())])
    };
    let page = ViewPage {
        chrome: Chrome::new(state, who, super::sms::NAV_HREF)
            .await
            .with_notice(done),
        people: people.options("— choose a person —", form.value("user_id")),
        holders,
        parts,
        can_write: who.can(Permission::SmsWrite),
        form,
        today,
        r,
    };
    Ok((status, page).into_response())
}

/// Goes back to the role's page, or shows it again with the refusal and what was typed.
async fn after_action<T>(
    state: &AppState,
    who: &Principal,
    id: i64,
    result: Result<T, StoreError>,
    typed: &[(&str, &str)],
    field: &str,
) -> UiResult {
    let refusal = match result {
        Ok(_) => return Ok(Redirect::to(&format!("{NAV_HREF}/{id}?done=saved")).into_response()),
        Err(e) => super::refusal(e, field)?,
    };
    let form = FormState::with(typed).rejected(refusal);
    view_page(state, who, id, None, form, StatusCode::UNPROCESSABLE_ENTITY).await
}

#[derive(Debug, Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    from_date: String,
    #[serde(default)]
    note: String,
}

pub async fn assign(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id(id): Id<i64>,
    Form(f): Form<AssignForm>,
) -> UiResult {
    let person = super::register_form::picked(&mut Invalid::new(), "user_id", &f.user_id);
    let result = match (
        person,
        required_date_alone("from_date", "The start date", &f.from_date),
    ) {
        (None, _) => Err(StoreError::Invalid(Invalid::one(
            "user_id",
            "Choose the person who takes the role on",
        ))),
        (_, Err(invalid)) => Err(StoreError::Invalid(invalid)),
        (Some(user), Ok(from)) => {
            state
                .store
                .assign_role(who.tenant_id(), id, user, from, &f.note, &who.actor())
                .await
        }
    };
    let typed = [
        ("user_id", f.user_id.as_str()),
        ("from_date", f.from_date.as_str()),
        ("note", f.note.as_str()),
    ];
    after_action(&state, &who, id, result, &typed, "user_id").await
}

#[derive(Debug, Deserialize)]
pub struct EndForm {
    #[serde(default)]
    to_date: String,
}

pub async fn end(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id((id, assignment_id)): Id<(i64, i64)>,
    Form(f): Form<EndForm>,
) -> UiResult {
    let t = who.tenant_id();
    if !state
        .store
        .role_assignments(t, id)
        .await?
        .iter()
        .any(|a| a.id == assignment_id)
    {
        return Err(StoreError::NotFound.into());
    }
    let result = match required_date_alone("to_date", "The end date", &f.to_date) {
        Ok(to) => {
            state
                .store
                .end_role_assignment(t, assignment_id, to, &who.actor())
                .await
        }
        Err(invalid) => Err(StoreError::Invalid(invalid)),
    };
    after_action(&state, &who, id, result, &[], "to_date").await
}

#[derive(Debug, Deserialize)]
pub struct RetireForm {
    #[serde(default)]
    updated_at: String,
}

/// Retires a role in use, or puts a retired one back in use.
pub async fn retire(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id(id): Id<i64>,
    Form(f): Form<RetireForm>,
) -> UiResult {
    let t = who.tenant_id();
    let role = state.store.sms_role(t, id).await?;
    let seen = f.updated_at.trim().parse().unwrap_or(role.updated_at);
    let result = state
        .store
        .update_sms_role(t, id, seen, &role.draft(), !role.retired, &who.actor())
        .await;
    after_action(&state, &who, id, result, &[], "retired").await
}

/// One process's row as the matrix shows it: a letter per role column.
pub struct MatrixRow {
    pub process: String,
    pub name: String,
    pub cells: Vec<&'static str>,
    pub owned: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "sms/raci.html")]
struct RaciPage {
    chrome: Chrome,
    roles: Vec<SmsRole>,
    rows: Vec<MatrixRow>,
    can_write: bool,
}

pub async fn raci(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    axum::extract::Query(q): axum::extract::Query<super::session::DoneQuery>,
) -> UiResult {
    let t = who.tenant_id();
    let roles: Vec<SmsRole> = state
        .store
        .sms_roles(t)
        .await?
        .into_iter()
        .filter(|r| !r.retired)
        .collect();
    let rows = state
        .store
        .raci(t)
        .await?
        .into_iter()
        .map(|row| MatrixRow {
            cells: roles
                .iter()
                .map(|r| row.letter_of(r.id).map_or("", RaciLetter::as_str))
                .collect(),
            owned: row.accountable().is_some(),
            process: row.process,
            name: row.name,
        })
        .collect();
    Ok(RaciPage {
        chrome: Chrome::new(&state, &who, super::sms::NAV_HREF)
            .await
            .with_notice(q.done.as_deref()),
        roles,
        rows,
        can_write: who.can(Permission::SmsWrite),
    }
    .into_response())
}

/// One role's select in a row's form.
pub struct RoleChoice {
    pub field: String,
    pub name: String,
    pub options: Vec<Opt>,
}

#[derive(Template, WebTemplate)]
#[template(path = "sms/raci_row.html")]
struct RowPage {
    chrome: Chrome,
    process: String,
    name: String,
    choices: Vec<RoleChoice>,
    form: FormState,
}

fn letter_options(current: &str) -> Vec<Opt> {
    let letters = RaciLetter::ALL.iter().map(|l| {
        (
            l.as_str().to_owned(),
            format!("{} · {}", l.as_str(), l.label()),
        )
    });
    super::options_after_blank("—", letters, current)
}

/// The form of one process's row: `typed` holds each role's letter by `role_{id}`.
async fn row_page(
    state: &AppState,
    who: &Principal,
    process: &str,
    typed: Option<Vec<(String, String)>>,
    refusal: Option<Invalid>,
) -> UiResult {
    let Some(p) = PROCESSES.iter().find(|p| p.id == process) else {
        return Err(StoreError::NotFound.into());
    };
    let t = who.tenant_id();
    let roles: Vec<SmsRole> = state
        .store
        .sms_roles(t)
        .await?
        .into_iter()
        .filter(|r| !r.retired)
        .collect();
    let values: Vec<(String, String)> = match typed {
        Some(typed) => typed,
        None => {
            let row = state
                .store
                .raci(t)
                .await?
                .into_iter()
                .find(|r| r.process == p.id);
            roles
                .iter()
                .map(|r| {
                    let letter = row
                        .as_ref()
                        .and_then(|row| row.letter_of(r.id))
                        .map_or("", RaciLetter::as_str);
                    (format!("role_{}", r.id), letter.to_owned())
                })
                .collect()
        }
    };
    let pairs: Vec<(&str, &str)> = values
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut form = FormState::with(&pairs);
    if let Some(refusal) = refusal {
        form = form.rejected(refusal);
    }
    let choices = roles
        .iter()
        .map(|r| {
            let field = format!("role_{}", r.id);
            RoleChoice {
                options: letter_options(form.value(&field)),
                name: r.name.clone(),
                field,
            }
        })
        .collect();
    let status = if form.has_errors() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = RowPage {
        chrome: Chrome::new(state, who, super::sms::NAV_HREF).await,
        process: p.id.to_owned(),
        name: p.name.to_owned(),
        choices,
        form,
    };
    Ok((status, page).into_response())
}

pub async fn row_form(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id(process): Id<String>,
) -> UiResult {
    row_page(&state, &who, &process, None, None).await
}

/// Reads the posted `role_{id}` selects into a row; a letter not on the list is a field error.
fn posted_row(pairs: &[(String, String)]) -> Result<Vec<(i64, RaciLetter)>, Invalid> {
    let mut errors = Invalid::new();
    let mut row = Vec::new();
    for (key, value) in pairs {
        let Some(id) = key.strip_prefix("role_").and_then(|id| id.parse().ok()) else {
            continue;
        };
        if value.trim().is_empty() {
            continue;
        }
        if let Some(letter) = chosen(&mut errors, key, value, RaciLetter::parse) {
            row.push((id, letter));
        }
    }
    errors.into_result(row)
}

pub async fn save_row(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id(process): Id<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> UiResult {
    let result = match posted_row(&pairs) {
        Ok(row) => {
            state
                .store
                .set_raci_row(who.tenant_id(), &process, &row, &who.actor())
                .await
        }
        Err(invalid) => Err(StoreError::Invalid(invalid)),
    };
    let refusal = match result {
        Ok(_) => return Ok(Redirect::to(&format!("{RACI_HREF}?done=saved")).into_response()),
        Err(e) => super::refusal(e, "accountable")?,
    };
    let typed = pairs
        .into_iter()
        .filter(|(k, _)| k.starts_with("role_"))
        .collect();
    row_page(&state, &who, &process, Some(typed), Some(refusal)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_posted_row_reads_letters_and_skips_blanks() {
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let row = posted_row(&pairs(&[
            ("_csrf", "x"),
            ("role_3", "A"),
            ("role_4", ""),
            ("role_5", "I"),
        ]))
        .expect("row");
        assert_eq!(
            row,
            vec![(3, RaciLetter::Accountable), (5, RaciLetter::Informed)]
        );
        let e = posted_row(&pairs(&[("role_3", "Z")])).expect_err("unknown letter");
        assert!(e.message_for("role_3").is_some());
    }
}
