//! The custom fields admin page (`/admin/custom-fields/{kind}`): the fields of incidents,
//! requests or problems in order, with forms to add, edit, remove and reorder them.
//!
//! Each form changes one field; the handler applies the change to the current list and saves
//! the whole list through the same call as `PUT /api/v1/custom-fields/{kind}` (domain
//! validation, then `Store::replace_custom_fields`), so a refused change saves nothing.

use super::{Chrome, FormState, Opt, UiError, UiResult, options};
use crate::AppState;
use crate::api::categories::replace_custom_fields;
use crate::auth::{Can, Principal, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use steward_domain::Invalid;
use steward_domain::request::{FieldKind, FormField};

/// The kinds of record with custom fields, as the page's tabs show them.
const KINDS: [(&str, &str); 3] = [
    ("incident", "Incidents"),
    ("request", "Requests"),
    ("problem", "Problems"),
];

/// Where the navigation points, so the entry is marked on every kind's page.
pub const NAV_HREF: &str = "/admin/custom-fields/incident";

fn kind_label(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Text => "Text",
        FieldKind::Number => "Number",
        FieldKind::Date => "Date",
        FieldKind::Select => "Select (one of a list)",
        FieldKind::User => "User",
    }
}

fn kind_choices(current: &str) -> Vec<Opt> {
    options(
        FieldKind::ALL
            .iter()
            .map(|k| (k.as_str().to_owned(), kind_label(*k).to_owned())),
        current,
    )
}

/// One field in the table, with its edit form.
pub struct Row {
    pub name: String,
    pub label: String,
    pub kind: &'static str,
    pub required: bool,
    pub options: String,
    pub first: bool,
    pub last: bool,
    /// Open the edit form (it came back with errors).
    pub editing: bool,
    pub form: FormState,
    pub kinds: Vec<Opt>,
}

#[derive(Template, WebTemplate)]
#[template(path = "custom_fields.html")]
struct Page {
    chrome: Chrome,
    kind: &'static str,
    kind_name: &'static str,
    kinds: Vec<(&'static str, &'static str, bool)>,
    rows: Vec<Row>,
    add_form: FormState,
    add_kinds: Vec<Opt>,
    /// Errors of a remove or a move.
    list_errors: FormState,
}

/// What came back refused, to show again with its errors.
enum Refused {
    Nothing,
    Add(FormState),
    Edit(String, FormState),
    List(Invalid),
}

fn known(kind: &str) -> Result<(&'static str, &'static str), UiError> {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .copied()
        .ok_or(UiError::NotFound)
}

/// What the add and edit forms post.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct FieldForm {
    name: String,
    label: String,
    kind: String,
    required: String,
    /// Choices of a select field, one per line.
    options: String,
}

impl FieldForm {
    fn of(f: &FormField) -> FieldForm {
        FieldForm {
            name: f.name.clone(),
            label: f.label.clone(),
            kind: f.kind.as_str().to_owned(),
            required: if f.required {
                "true".into()
            } else {
                String::new()
            },
            options: f.options.join("\n"),
        }
    }

    fn state(&self) -> FormState {
        FormState::with(&[
            ("name", &self.name),
            ("label", &self.label),
            ("kind", &self.kind),
            ("required", &self.required),
            ("options", &self.options),
        ])
    }

    /// The field as posted; the domain checks the rest when the list is saved.
    fn field(&self) -> Result<FormField, Invalid> {
        let kind = FieldKind::parse(self.kind.trim())
            .ok_or_else(|| Invalid::one("kind", "Choose a kind from the list"))?;
        Ok(FormField {
            name: self.name.clone(),
            label: self.label.clone(),
            kind,
            required: self.required == "true",
            options: self
                .options
                .lines()
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_owned)
                .collect(),
        })
    }
}

async fn render(
    state: &AppState,
    who: &Principal,
    kind: &str,
    refused: Refused,
    status: StatusCode,
    done: Option<&str>,
) -> UiResult {
    let (kind, kind_name) = known(kind)?;
    let fields = state.store.custom_fields(who.tenant_id(), kind).await?;
    let count = fields.len();
    let blank = || {
        FieldForm {
            kind: "text".into(),
            ..Default::default()
        }
        .state()
    };
    let (add_form, list_errors, mut editing) = match refused {
        Refused::Nothing => (blank(), FormState::default(), None),
        Refused::Add(form) => (form, FormState::default(), None),
        Refused::Edit(name, form) => (blank(), FormState::default(), Some((name, form))),
        Refused::List(invalid) => (blank(), FormState::default().rejected(invalid), None),
    };
    let rows = fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let again = editing
                .take_if(|(name, _)| *name == f.name)
                .map(|(_, form)| form);
            let is_editing = again.is_some();
            let form = again.unwrap_or_else(|| FieldForm::of(f).state());
            Row {
                kinds: kind_choices(form.value("kind")),
                name: f.name.clone(),
                label: f.label.clone(),
                kind: kind_label(f.kind),
                required: f.required,
                options: f.options.join(", "),
                first: i == 0,
                last: i + 1 == count,
                editing: is_editing,
                form,
            }
        })
        .collect();
    let page = Page {
        chrome: Chrome::new(state, who, NAV_HREF).await.with_notice(done),
        kind,
        kind_name,
        kinds: KINDS.iter().map(|&(k, l)| (k, l, k == kind)).collect(),
        rows,
        add_kinds: kind_choices(add_form.value("kind")),
        add_form,
        list_errors,
    };
    Ok((status, page).into_response())
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct PageQuery {
    done: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    who: Can<perm::UsersWrite>,
    Path(kind): Path<String>,
    Query(q): Query<PageQuery>,
) -> UiResult {
    render(
        &state,
        &who,
        &kind,
        Refused::Nothing,
        StatusCode::OK,
        q.done.as_deref(),
    )
    .await
}

/// `/admin/custom-fields`: the first kind's page.
pub async fn index(_who: Can<perm::UsersWrite>) -> Redirect {
    Redirect::to(NAV_HREF)
}

/// Saves the changed list; on success back to the page, on refusal the page again with the
/// errors where `refused` puts them. Nothing is saved when anything is wrong.
async fn save(
    state: &AppState,
    who: &Principal,
    kind: &str,
    fields: Vec<FormField>,
    refused: impl FnOnce(Invalid) -> Refused,
) -> UiResult {
    let (kind, _) = known(kind)?;
    match replace_custom_fields(state, who, kind, fields).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/admin/custom-fields/{kind}?done=saved")).into_response())
        }
        Err(e) => match e.refusal("fields") {
            Some(invalid) => {
                render(
                    state,
                    who,
                    kind,
                    refused(invalid),
                    StatusCode::UNPROCESSABLE_ENTITY,
                    None,
                )
                .await
            }
            None => Err(e.into()),
        },
    }
}

/// The current fields of a kind, and the position of `name` among them.
async fn current(
    state: &AppState,
    who: &Principal,
    kind: &str,
    name: &str,
) -> Result<(Vec<FormField>, usize), UiError> {
    let (kind, _) = known(kind)?;
    let fields = state.store.custom_fields(who.tenant_id(), kind).await?;
    let at = fields
        .iter()
        .position(|f| f.name == name)
        .ok_or(UiError::NotFound)?;
    Ok((fields, at))
}

pub async fn add(
    State(state): State<AppState>,
    who: Can<perm::UsersWrite>,
    Path(kind): Path<String>,
    Form(form): Form<FieldForm>,
) -> UiResult {
    let (kind, _) = known(&kind)?;
    let again = |invalid: Invalid| Refused::Add(form.state().rejected(invalid));
    let field = match form.field() {
        Ok(f) => f,
        Err(invalid) => {
            return render(
                &state,
                &who,
                kind,
                again(invalid),
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
            )
            .await;
        }
    };
    let mut fields = state.store.custom_fields(who.tenant_id(), kind).await?;
    fields.push(field);
    save(&state, &who, kind, fields, again).await
}

pub async fn edit(
    State(state): State<AppState>,
    who: Can<perm::UsersWrite>,
    Path((kind, name)): Path<(String, String)>,
    Form(mut form): Form<FieldForm>,
) -> UiResult {
    let (mut fields, at) = current(&state, &who, &kind, &name).await?;
    // The name is what records store values under; it is not edited here.
    form.name.clone_from(&name);
    let again = |invalid: Invalid| Refused::Edit(name.clone(), form.state().rejected(invalid));
    match form.field() {
        Ok(field) => {
            fields[at] = field;
            save(&state, &who, &kind, fields, again).await
        }
        Err(invalid) => {
            render(
                &state,
                &who,
                &kind,
                again(invalid),
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
            )
            .await
        }
    }
}

pub async fn remove(
    State(state): State<AppState>,
    who: Can<perm::UsersWrite>,
    Path((kind, name)): Path<(String, String)>,
) -> UiResult {
    let (mut fields, at) = current(&state, &who, &kind, &name).await?;
    fields.remove(at);
    save(&state, &who, &kind, fields, Refused::List).await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct MoveForm {
    /// `up` or `down`.
    direction: String,
}

pub async fn move_field(
    State(state): State<AppState>,
    who: Can<perm::UsersWrite>,
    Path((kind, name)): Path<(String, String)>,
    Form(form): Form<MoveForm>,
) -> UiResult {
    let (mut fields, at) = current(&state, &who, &kind, &name).await?;
    let to = match form.direction.as_str() {
        "up" => at.checked_sub(1),
        "down" => Some(at + 1).filter(|to| *to < fields.len()),
        _ => None,
    };
    match to {
        Some(to) => {
            fields.swap(at, to);
            save(&state, &who, &kind, fields, Refused::List).await
        }
        // Already at that end: nothing to change.
        None => {
            Ok(Redirect::to(&format!("/admin/custom-fields/{}", known(&kind)?.0)).into_response())
        }
    }
}
