//! The CMDB's schema (`/cmdb/classes`): CI classes with their typed attributes, and the
//! relationship types (the built-in four and the tenant's own). Everyone who reads the CMDB
//! sees them; admins create and edit classes and add relationship types.
//!
//! A class's attributes are edited as lines, the same format the catalogue uses for its
//! forms: `name | Label | kind | required | option, option`.

use super::cmdb::NAV_HREF;
use super::session::DoneQuery;
use super::{Chrome, FormState, Id, Opt, UiResult, after_save, classify, options};
use crate::AppState;
use crate::auth::{Can, Principal, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::cmdb::{CiClassDraft, Dependency, RelationshipTypeDraft};
use steward_domain::request::FormField;
use steward_store::cmdb::{CiClass, RelationshipType};

const CLASSES: &str = "/cmdb/classes";

fn dependency_label(d: Dependency) -> &'static str {
    match d {
        Dependency::SourceOnTarget => "the source depends on the target",
        Dependency::TargetOnSource => "the target depends on the source",
        Dependency::Mutual => "each depends on the other",
        Dependency::Informational => "no dependency (for information)",
    }
}

/// A class's attributes in a few words: `hostname (text, required), cores (number)`.
fn attribute_summary(fields: &[FormField]) -> String {
    fields
        .iter()
        .map(|f| {
            let required = if f.required { ", required" } else { "" };
            format!("{} ({}{required})", f.label, f.kind.as_str())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub struct TypeRow {
    pub name: String,
    pub label: String,
    pub reverse_label: String,
    pub dependency: &'static str,
    pub builtin: bool,
}

impl From<RelationshipType> for TypeRow {
    fn from(t: RelationshipType) -> Self {
        TypeRow {
            builtin: t.id.is_none(),
            dependency: dependency_label(t.dependency),
            name: t.name,
            label: t.label,
            reverse_label: t.reverse_label,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "cmdb_classes.html")]
struct ClassesPage {
    chrome: Chrome,
    classes: Vec<(CiClass, String)>,
    types: Vec<TypeRow>,
    can_schema: bool,
    type_form: FormState,
    dependencies: Vec<Opt>,
}

async fn render_classes(
    state: &AppState,
    who: &Principal,
    type_form: FormState,
    status: StatusCode,
    done: Option<&str>,
) -> UiResult {
    let t = who.tenant_id();
    let classes = state
        .store
        .ci_classes(t)
        .await?
        .into_iter()
        .map(|c| {
            let summary = attribute_summary(&c.attributes);
            (c, summary)
        })
        .collect();
    let types = state
        .store
        .relationship_types(t)
        .await?
        .into_iter()
        .map(TypeRow::from)
        .collect();
    let page = ClassesPage {
        chrome: Chrome::new(state, who, NAV_HREF).await.with_notice(done),
        classes,
        types,
        can_schema: who.can(Permission::CmdbSchema),
        dependencies: options(
            Dependency::ALL
                .iter()
                .map(|d| (d.as_str().to_owned(), dependency_label(*d).to_owned())),
            type_form.value("dependency"),
        ),
        type_form,
    };
    Ok((status, page).into_response())
}

pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::CmdbRead>,
    Query(q): Query<DoneQuery>,
) -> UiResult {
    let blank = FormState::with(&[("dependency", Dependency::SourceOnTarget.as_str())]);
    render_classes(&state, &who, blank, StatusCode::OK, q.done.as_deref()).await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct TypeForm {
    name: String,
    label: String,
    reverse_label: String,
    dependency: String,
}

pub async fn create_type(
    State(state): State<AppState>,
    who: Can<perm::CmdbSchema>,
    Form(form): Form<TypeForm>,
) -> UiResult {
    let saved = async {
        let dependency = Dependency::parse(form.dependency.trim())
            .ok_or_else(|| Invalid::one("dependency", "Choose how dependency flows"))?;
        let draft = RelationshipTypeDraft {
            name: form.name.clone(),
            label: form.label.clone(),
            reverse_label: form.reverse_label.clone(),
            dependency,
        }
        .validate()?;
        state
            .store
            .create_relationship_type(who.tenant_id(), &draft, &who.actor())
            .await
    }
    .await;
    after_save(
        saved,
        |_| format!("{CLASSES}?done=created#types"),
        |invalid| {
            let again = FormState::with(&[
                ("name", &form.name),
                ("label", &form.label),
                ("reverse_label", &form.reverse_label),
                ("dependency", &form.dependency),
            ]);
            render_classes(
                &state,
                &who,
                again.rejected(invalid),
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
            )
        },
    )
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "cmdb_class_form.html")]
struct ClassFormPage {
    chrome: Chrome,
    heading: String,
    action: String,
    submit: &'static str,
    form: FormState,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ClassForm {
    name: String,
    description: String,
    /// One attribute per line.
    attributes: String,
}

impl ClassForm {
    fn of(c: &CiClass) -> ClassForm {
        ClassForm {
            name: c.name.clone(),
            description: c.description.clone(),
            attributes: classify::fields_text(&c.attributes),
        }
    }

    fn state(&self) -> FormState {
        FormState::with(&[
            ("name", &self.name),
            ("description", &self.description),
            ("attributes", &self.attributes),
        ])
    }

    fn draft(&self) -> Result<CiClassDraft, Invalid> {
        CiClassDraft {
            name: self.name.clone(),
            description: self.description.clone(),
            attributes: classify::parse_fields(&self.attributes, "attributes")?,
        }
        .validate()
    }
}

/// The domain names an attribute's error `attributes[i]`; the form shows it on the textarea,
/// with the line it is on.
fn on_lines(invalid: Invalid) -> Invalid {
    let mut errors = Invalid::new();
    for e in invalid.errors {
        match e
            .field
            .strip_prefix("attributes[")
            .and_then(|rest| rest.split(']').next())
            .and_then(|i| i.parse::<usize>().ok())
        {
            Some(i) => errors.add("attributes", format!("Line {}: {}", i + 1, e.message)),
            None => errors.add(&e.field, e.message),
        }
    }
    errors
}

async fn render_class_form(
    state: &AppState,
    who: &Principal,
    editing: Option<&CiClass>,
    form: FormState,
    status: StatusCode,
) -> UiResult {
    let (heading, action, submit) = match editing {
        None => (
            "New CI class".to_owned(),
            CLASSES.to_owned(),
            "Create class",
        ),
        Some(c) => (
            format!("Edit {}", c.name),
            format!("{CLASSES}/{}", c.id),
            "Save",
        ),
    };
    let page = ClassFormPage {
        chrome: Chrome::new(state, who, NAV_HREF).await,
        heading,
        action,
        submit,
        form,
    };
    Ok((status, page).into_response())
}

pub async fn new_class(State(state): State<AppState>, who: Can<perm::CmdbSchema>) -> UiResult {
    render_class_form(&state, &who, None, FormState::default(), StatusCode::OK).await
}

pub async fn edit_class(
    State(state): State<AppState>,
    who: Can<perm::CmdbSchema>,
    Id(id): Id<i64>,
) -> UiResult {
    let class = state.store.ci_class(who.tenant_id(), id).await?;
    let form = ClassForm::of(&class).state();
    render_class_form(&state, &who, Some(&class), form, StatusCode::OK).await
}

/// Saves a new class (`current` none) or changes one; back to the list, or the form again.
async fn save_class(
    state: &AppState,
    who: &Principal,
    current: Option<&CiClass>,
    form: &ClassForm,
) -> UiResult {
    let saved = async {
        let draft = form.draft()?;
        let (t, actor) = (who.tenant_id(), who.actor());
        match current {
            None => state.store.create_ci_class(t, &draft, &actor).await,
            Some(c) => state.store.update_ci_class(t, c.id, &draft, &actor).await,
        }
    }
    .await;
    let done = if current.is_some() {
        "saved"
    } else {
        "created"
    };
    after_save(
        saved,
        |_| format!("{CLASSES}?done={done}"),
        |invalid| {
            render_class_form(
                state,
                who,
                current,
                form.state().rejected(on_lines(invalid)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        },
    )
    .await
}

pub async fn create_class(
    State(state): State<AppState>,
    who: Can<perm::CmdbSchema>,
    Form(form): Form<ClassForm>,
) -> UiResult {
    save_class(&state, &who, None, &form).await
}

pub async fn update_class(
    State(state): State<AppState>,
    who: Can<perm::CmdbSchema>,
    Id(id): Id<i64>,
    Form(form): Form<ClassForm>,
) -> UiResult {
    let class = state.store.ci_class(who.tenant_id(), id).await?;
    save_class(&state, &who, Some(&class), &form).await
}
