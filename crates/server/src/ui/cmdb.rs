//! CMDB pages: the CI list with its filters, and the form that creates and edits a CI with its
//! class's typed attributes. The CI page is in `cmdb_view`, impact analysis in `cmdb_impact`,
//! classes and relationship types in `cmdb_schema`, the drawings in `cmdb_graph`.
//!
//! The form posts what the API's `CiIn` holds and goes through the same `ci_draft`, so the
//! page refuses exactly what the API refuses. Attributes are posted as `attributes.<name>`,
//! which is also where the domain files their errors.

use super::requests::FieldView;
use super::{
    Chrome, FormState, ListFrame, Names, Opt, UiError, UiResult, classify, filter_choices, options,
    ticked_options, when,
};
use crate::AppState;
use crate::api::cmdb::{CiIn, ci_draft};
use crate::auth::{Can, Principal, perm};
use crate::error::ApiError;
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
use steward_domain::cmdb::CiStatus;
use steward_store::cmdb::{Ci, CiClass, CiFilter};
use steward_store::{PageRequest, StoreError};

/// Where the navigation points; every CMDB page marks it.
pub const NAV_HREF: &str = "/cis";

/// Prefix of the attribute inputs of the CI form.
const ATTRIBUTE: &str = "attributes.";

/// The CI `text` names: `name #id` (as [`ci_suggestions`] offers them), an id, or a name that
/// only one CI has. Errors are filed under `field`. The CI page's relationship form and the
/// record pages' CI panel share it.
pub async fn ci_from_text(
    state: &AppState,
    tenant_id: i64,
    field: &str,
    text: &str,
) -> Result<i64, StoreError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Invalid::one(field, "Choose a CI").into());
    }
    let id = text
        .rsplit_once('#')
        .and_then(|(_, id)| id.trim().parse().ok())
        .or_else(|| text.parse().ok());
    if let Some(id) = id {
        return Ok(id);
    }
    let filter = CiFilter {
        q: Some(text.to_owned()),
        ..Default::default()
    };
    let page = PageRequest {
        limit: Some(20),
        cursor: None,
    };
    let found = state.store.cis(tenant_id, &filter, &page).await?.items;
    let exact: Vec<i64> = found
        .iter()
        .filter(|c| c.name.eq_ignore_ascii_case(text))
        .map(|c| c.id)
        .collect();
    let all: Vec<i64> = found.iter().map(|c| c.id).collect();
    match (exact.as_slice(), all.as_slice()) {
        ([one], _) | ([], [one]) => Ok(*one),
        (_, []) => Err(Invalid::one(field, format!("No CI is named “{text}”")).into()),
        _ => Err(Invalid::one(
            field,
            format!("Several CIs match “{text}”: pick one from the suggestions"),
        )
        .into()),
    }
}

/// "name #id" of the tenant's first 500 CIs by name but `except`, for a CI input's
/// suggestions.
pub async fn ci_suggestions(
    state: &AppState,
    tenant_id: i64,
    except: &[i64],
) -> Result<Vec<String>, StoreError> {
    let first = PageRequest {
        limit: Some(500),
        cursor: None,
    };
    Ok(state
        .store
        .cis(tenant_id, &CiFilter::default(), &first)
        .await?
        .items
        .into_iter()
        .filter(|c| !except.contains(&c.id))
        .map(|c| format!("{} #{}", c.name, c.id))
        .collect())
}

/// How people read a CI status.
pub fn status_label(s: CiStatus) -> &'static str {
    match s {
        CiStatus::Planned => "planned",
        CiStatus::InUse => "in use",
        CiStatus::Maintenance => "in maintenance",
        CiStatus::Retired => "retired",
    }
}

fn status_choices(statuses: &[CiStatus], current: &str) -> Vec<Opt> {
    options(
        statuses
            .iter()
            .map(|s| (s.as_str().to_owned(), status_label(*s).to_owned())),
        current,
    )
}

/// The tenant's classes by id.
pub async fn class_names(
    state: &AppState,
    tenant_id: i64,
) -> Result<HashMap<i64, String>, StoreError> {
    Ok(state
        .store
        .ci_classes(tenant_id)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect())
}

/// Names of the services in `ids`, joined for a list or a header.
pub fn service_list(names: &Names, ids: &[i64]) -> Vec<(i64, String)> {
    ids.iter()
        .map(|id| (*id, Names::of(&names.services, Some(*id))))
        .collect()
}

pub struct Row {
    pub id: i64,
    pub name: String,
    pub class: String,
    pub status: &'static str,
    pub status_code: &'static str,
    pub services: String,
    pub owner: String,
    pub verified: String,
    pub updated: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "ci_list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    q: String,
    classes: Vec<Opt>,
    statuses: Vec<Opt>,
    services: Vec<Opt>,
    filtered: bool,
    next: Option<String>,
    can_write: bool,
    has_classes: bool,
    /// The filter selects share the form macros, which look for errors.
    no_errors: FormState,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    q: String,
    class_id: String,
    status: String,
    service_id: String,
    cursor: Option<String>,
    done: Option<String>,
}

fn number(text: &str) -> Option<i64> {
    text.trim().parse().ok()
}

/// A select of `list` by id, with `none` first.
fn id_choices(list: &[(i64, String)], none: &str, current: &str) -> Vec<Opt> {
    options(Names::choices(list, none), current)
}

pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::CmdbRead>,
    Query(q): Query<ListQuery>,
) -> UiResult {
    let filter = CiFilter {
        q: Some(q.q.trim().to_owned()).filter(|t| !t.is_empty()),
        class_id: number(&q.class_id),
        status: CiStatus::parse(q.status.trim()),
        service_id: number(&q.service_id),
        sort: None,
    };
    let page = PageRequest {
        limit: Some(50),
        cursor: q.cursor.clone(),
    };
    let found = match state.store.cis(who.tenant_id(), &filter, &page).await {
        Err(StoreError::Invalid(_)) => return Ok(Redirect::to(NAV_HREF).into_response()),
        other => other?,
    };
    let classes = state.store.ci_classes(who.tenant_id()).await?;
    let class_list: Vec<(i64, String)> = classes.iter().map(|c| (c.id, c.name.clone())).collect();
    let names = Names::load(&state, &who).await?;
    let rows = found
        .items
        .into_iter()
        .map(|ci| Row {
            class: Names::of(&class_list, Some(ci.class_id)),
            status: status_label(ci.status),
            status_code: ci.status.as_str(),
            services: service_list(&names, &ci.service_ids)
                .into_iter()
                .map(|(_, n)| n)
                .collect::<Vec<_>>()
                .join(", "),
            owner: Names::of(&names.users, ci.owner_id),
            verified: ci.verified_at.map_or_else(|| "never".to_owned(), when),
            updated: when(ci.updated_at),
            id: ci.id,
            name: ci.name,
        })
        .collect();
    let params = [
        ("q", q.q.as_str()),
        ("class_id", q.class_id.as_str()),
        ("status", q.status.as_str()),
        ("service_id", q.service_id.as_str()),
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
        filtered: frame.filtered,
        classes: id_choices(&class_list, "— any class —", &q.class_id),
        statuses: filter_choices(
            CiStatus::ALL,
            "— any status —",
            CiStatus::as_str,
            status_label,
            &q.status,
        ),
        services: id_choices(&names.services, "— any service —", &q.service_id),
        q: q.q,
        next: frame.next,
        can_write: who.can(Permission::CmdbWrite),
        has_classes: !classes.is_empty(),
        no_errors: FormState::default(),
    }
    .into_response())
}

/// What the CI form posts: fixed fields, the chosen services, and `attributes.<name>`.
#[derive(Debug, Default)]
struct CiForm {
    fields: HashMap<String, String>,
    service_ids: Vec<String>,
}

const FIELDS: [&str; 7] = [
    "class_id",
    "name",
    "status",
    "description",
    "owner_id",
    "team_id",
    "external_id",
];

impl CiForm {
    fn posted(pairs: Vec<(String, String)>) -> CiForm {
        let mut form = CiForm::default();
        for (k, v) in pairs {
            if k == "service_ids" {
                form.service_ids.push(v);
            } else if FIELDS.contains(&k.as_str()) || k.starts_with(ATTRIBUTE) {
                form.fields.insert(k, v);
            }
        }
        form
    }

    fn of(ci: &Ci) -> CiForm {
        let id = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        let mut fields = classify::form_values(&ci.attributes, ATTRIBUTE);
        for (k, v) in [
            ("class_id", ci.class_id.to_string()),
            ("name", ci.name.clone()),
            ("status", ci.status.as_str().to_owned()),
            ("description", ci.description.clone()),
            ("owner_id", id(ci.owner_id)),
            ("team_id", id(ci.team_id)),
            ("external_id", ci.external_id.clone().unwrap_or_default()),
        ] {
            fields.insert(k.to_owned(), v);
        }
        CiForm {
            fields,
            service_ids: ci.service_ids.iter().map(i64::to_string).collect(),
        }
    }

    fn get(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }

    fn state(&self) -> FormState {
        FormState::with_services(&self.fields, &self.service_ids)
    }

    /// The API's body for `class`; ids that are not numbers are field errors.
    fn body(&self, class: &CiClass) -> Result<CiIn, Invalid> {
        let mut errors = Invalid::new();
        let mut id = |field: &str| match self.get(field).trim() {
            "" => None,
            t => t.parse().ok().or_else(|| {
                errors.add(field, "Choose from the list");
                None
            }),
        };
        let (owner_id, team_id) = (id("owner_id"), id("team_id"));
        let status = CiStatus::parse(self.get("status").trim());
        if status.is_none() {
            errors.add("status", "Choose a status from the list");
        }
        let service_ids = self
            .service_ids
            .iter()
            .filter_map(|s| {
                s.trim().parse().ok().or_else(|| {
                    errors.add("service_ids", "Choose services from the list");
                    None
                })
            })
            .collect();
        let body = CiIn {
            class: class.name.clone(),
            name: self.get("name").to_owned(),
            status,
            description: self.get("description").to_owned(),
            owner_id,
            team_id,
            external_id: Some(self.get("external_id").to_owned()),
            service_ids,
            attributes: classify::posted_values(&self.fields, ATTRIBUTE),
        };
        errors.into_result(body)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "ci_form.html")]
struct FormPage {
    chrome: Chrome,
    heading: String,
    action: String,
    submit: &'static str,
    cancel: String,
    /// Where the class picker reloads the form (a GET with `class`).
    picker: String,
    classes: Vec<Opt>,
    /// The chosen class; none while the person picks one.
    class: Option<CiClass>,
    form: FormState,
    statuses: Vec<Opt>,
    owners: Vec<Opt>,
    teams: Vec<Opt>,
    services: Vec<Opt>,
    attributes: Vec<FieldView>,
    can_schema: bool,
}

/// Where a form goes, and the CI it edits (if any).
struct Target<'a> {
    editing: Option<&'a Ci>,
}

impl Target<'_> {
    fn page(&self) -> (String, String, &'static str, String, String) {
        match self.editing {
            None => (
                "New CI".to_owned(),
                NAV_HREF.to_owned(),
                "Create CI",
                NAV_HREF.to_owned(),
                "/cis/new".to_owned(),
            ),
            Some(ci) => (
                format!("Edit {}", ci.name),
                format!("/cis/{}", ci.id),
                "Save",
                format!("/cis/{}", ci.id),
                format!("/cis/{}/edit", ci.id),
            ),
        }
    }

    /// The statuses the form offers: any but retired for a new CI; the current one and those
    /// the lifecycle allows from it when editing.
    fn statuses(&self) -> Vec<CiStatus> {
        match self.editing {
            None => vec![CiStatus::Planned, CiStatus::InUse, CiStatus::Maintenance],
            Some(ci) => std::iter::once(ci.status)
                .chain(ci.status.next().iter().copied())
                .collect(),
        }
    }
}

async fn render_form(
    state: &AppState,
    who: &Principal,
    target: Target<'_>,
    class: Option<CiClass>,
    form: FormState,
    status: StatusCode,
) -> UiResult {
    let (heading, action, submit, cancel, picker) = target.page();
    let classes = state.store.ci_classes(who.tenant_id()).await?;
    let class_list: Vec<(i64, String)> = classes.iter().map(|c| (c.id, c.name.clone())).collect();
    let chosen = class.as_ref().map(|c| c.id.to_string()).unwrap_or_default();
    let names = Names::load(state, who).await?;
    let services = ticked_options(&names.services, form.value("service_ids"));
    let attributes = class.as_ref().map_or_else(Vec::new, |c| {
        classify::field_inputs(&c.attributes, ATTRIBUTE, &names.users)
    });
    let page = FormPage {
        chrome: Chrome::new(state, who, NAV_HREF).await,
        heading,
        action,
        submit,
        cancel,
        picker,
        classes: id_choices(&class_list, "— choose a class —", &chosen),
        class,
        statuses: status_choices(&target.statuses(), form.value("status")),
        owners: id_choices(&names.users, "— nobody —", form.value("owner_id")),
        teams: id_choices(&names.teams, "— no team —", form.value("team_id")),
        services,
        attributes,
        can_schema: who.can(Permission::CmdbSchema),
        form,
    };
    Ok((status, page).into_response())
}

/// The class a form asks for (`?class=ID` or the posted `class_id`), if it is the tenant's.
async fn chosen_class(
    state: &AppState,
    who: &Principal,
    id: &str,
) -> Result<Option<CiClass>, UiError> {
    let Some(id) = number(id) else {
        return Ok(None);
    };
    match state.store.ci_class(who.tenant_id(), id).await {
        Ok(class) => Ok(Some(class)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ClassQuery {
    class: String,
}

pub async fn new_form(
    State(state): State<AppState>,
    who: Can<perm::CmdbWrite>,
    Query(q): Query<ClassQuery>,
) -> UiResult {
    let class = chosen_class(&state, &who, &q.class).await?;
    let blank = FormState::with(&[("status", CiStatus::InUse.as_str())]);
    let target = Target { editing: None };
    render_form(&state, &who, target, class, blank, StatusCode::OK).await
}

pub async fn edit_form(
    State(state): State<AppState>,
    who: Can<perm::CmdbWrite>,
    super::Id(id): super::Id<i64>,
    Query(q): Query<ClassQuery>,
) -> UiResult {
    let ci = state.store.ci(who.tenant_id(), id).await?;
    let mut form = CiForm::of(&ci);
    let class = match chosen_class(&state, &who, &q.class).await? {
        Some(other) => {
            form.fields.insert("class_id".into(), other.id.to_string());
            Some(other)
        }
        None => Some(state.store.ci_class(who.tenant_id(), ci.class_id).await?),
    };
    let target = Target { editing: Some(&ci) };
    render_form(&state, &who, target, class, form.state(), StatusCode::OK).await
}

/// Checks and saves the posted form: the CI page on success, the form again with the errors
/// and what was typed otherwise.
async fn save(state: &AppState, who: &Principal, current: Option<&Ci>, form: CiForm) -> UiResult {
    let target = Target { editing: current };
    let Some(class) = chosen_class(state, who, form.get("class_id")).await? else {
        let again = form
            .state()
            .rejected(Invalid::one("class_id", "Choose a class"));
        return render_form(
            state,
            who,
            target,
            None,
            again,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let saved: Result<Ci, ApiError> = async {
        let body = form.body(&class)?;
        let (_, draft) = ci_draft(state, who, body, current.map(|c| c.status)).await?;
        let t = who.tenant_id();
        Ok(match current {
            None => state.store.create_ci(t, &draft, &who.actor()).await?,
            Some(ci) => {
                state
                    .store
                    .update_ci(t, ci.id, &draft, &who.actor())
                    .await?
            }
        })
    }
    .await;
    match saved {
        Ok(ci) => {
            let done = if current.is_some() {
                "saved"
            } else {
                "created"
            };
            Ok(Redirect::to(&format!("/cis/{}?done={done}", ci.id)).into_response())
        }
        Err(e) => match e.refusal("status") {
            Some(invalid) => {
                render_form(
                    state,
                    who,
                    target,
                    Some(class),
                    form.state().rejected(invalid),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            None => Err(e.into()),
        },
    }
}

pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::CmdbWrite>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> UiResult {
    save(&state, &who, None, CiForm::posted(pairs)).await
}

pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::CmdbWrite>,
    super::Id(id): super::Id<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> UiResult {
    let ci = state.store.ci(who.tenant_id(), id).await?;
    save(&state, &who, Some(&ci), CiForm::posted(pairs)).await
}

/// `POST /cis/{id}/verify`: someone checked the CI against reality now.
pub async fn verify(
    State(state): State<AppState>,
    who: Can<perm::CmdbWrite>,
    super::Id(id): super::Id<i64>,
) -> UiResult {
    state
        .store
        .verify_ci(who.tenant_id(), id, &who.actor())
        .await?;
    Ok(Redirect::to(&format!("/cis/{id}?done=saved")).into_response())
}
