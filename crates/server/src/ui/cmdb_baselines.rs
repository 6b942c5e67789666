//! CMDB baselines: the list with the "Take baseline" form (`/cmdb/baselines`), one baseline's
//! CIs, the diff of two baselines, and a CI as it was at a past moment (`/cis/{id}/as-of`).
//!
//! The store decides what a baseline holds and what differs; these pages name things (services,
//! users, teams, CIs) and say in words what the colours mark.

use super::cmdb::{NAV_HREF, service_list, status_label};
use super::{
    Chrome, FormState, Id, Names, Opt, UiError, UiResult, after_save, classify, next_link, options,
    when,
};
use crate::AppState;
use crate::api::cmdb_baselines::as_of_instant;
use crate::auth::{Can, Principal, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::Value;
use steward_domain::access::Permission;
use steward_domain::cmdb::baseline::{BaselineDraft, CiSnapshot, FieldChange};
use steward_store::cmdb::{BaselineHeader, Ci};
use steward_store::{PageRequest, StoreError};

const HREF: &str = "/cmdb/baselines";

/// A baseline as the pages list it.
pub struct BaselineRow {
    pub id: i64,
    pub name: String,
    /// The service's name, or "Whole CMDB".
    pub scope: String,
    pub taken: String,
    pub taken_by: String,
    pub ci_count: i64,
}

impl BaselineRow {
    fn new(b: BaselineHeader, names: &Names) -> BaselineRow {
        BaselineRow {
            scope: b.service_id.map_or_else(
                || "Whole CMDB".to_owned(),
                |id| Names::of(&names.services, Some(id)),
            ),
            taken: when(b.taken_at),
            id: b.id,
            name: b.name,
            taken_by: b.taken_by,
            ci_count: b.ci_count,
        }
    }

    /// "Q3 release (Payroll, 2026-11-25 09:30 UTC)", for pickers.
    fn label(&self) -> String {
        format!("{} ({}, {})", self.name, self.scope, self.taken)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "ci_baselines.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<BaselineRow>,
    next: Option<String>,
    can_write: bool,
    form: FormState,
    services: Vec<Opt>,
    before: Vec<Opt>,
    after: Vec<Opt>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    cursor: Option<String>,
    done: Option<String>,
}

/// What the "Take baseline" form posts.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct TakeForm {
    name: String,
    service_id: String,
}

impl TakeForm {
    fn state(&self) -> FormState {
        FormState::with(&[("name", &self.name), ("service_id", &self.service_id)])
    }
}

async fn render_list(
    state: &AppState,
    who: &Principal,
    cursor: Option<String>,
    form: FormState,
    status: StatusCode,
    done: Option<&str>,
) -> UiResult {
    let page = PageRequest {
        limit: Some(50),
        cursor,
    };
    let found = match state.store.baselines(who.tenant_id(), &page).await {
        Err(StoreError::Invalid(_)) => {
            return Ok(axum::response::Redirect::to(HREF).into_response());
        }
        other => other?,
    };
    let names = Names::load(state, who).await?;
    let rows: Vec<BaselineRow> = found
        .items
        .into_iter()
        .map(|b| BaselineRow::new(b, &names))
        .collect();
    // The two newest are what people compare most: older first, newer second.
    let choices: Vec<(String, String)> =
        rows.iter().map(|r| (r.id.to_string(), r.label())).collect();
    let pick = |index: usize| {
        rows.get(index)
            .map(|r| r.id.to_string())
            .unwrap_or_default()
    };
    let page = ListPage {
        chrome: Chrome::new(state, who, NAV_HREF).await.with_notice(done),
        next: next_link(HREF, &[], found.next_cursor),
        can_write: who.can(Permission::CmdbWrite),
        services: options(
            Names::choices(&names.services, "— whole CMDB —"),
            form.value("service_id"),
        ),
        before: options(choices.clone(), &pick(1)),
        after: options(choices, &pick(0)),
        form,
        rows,
    };
    Ok((status, page).into_response())
}

pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::CmdbRead>,
    Query(q): Query<ListQuery>,
) -> UiResult {
    let blank = FormState::default();
    let done = q.done.as_deref();
    render_list(&state, &who, q.cursor, blank, StatusCode::OK, done).await
}

pub async fn take(
    State(state): State<AppState>,
    who: Can<perm::CmdbWrite>,
    Form(form): Form<TakeForm>,
) -> UiResult {
    let saved = async {
        let draft = BaselineDraft {
            name: form.name.clone(),
            description: String::new(),
            service_id: form.service_id.trim().parse().ok(),
        }
        .validate()?;
        state
            .store
            .take_baseline(who.tenant_id(), &draft, &who.actor())
            .await
    }
    .await;
    after_save(
        saved,
        |b| format!("{HREF}/{}?done=saved", b.id),
        |invalid| {
            let again = form.state().rejected(invalid);
            render_list(
                &state,
                &who,
                None,
                again,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
            )
        },
    )
    .await
}

/// A CI of a baseline, as its page lists it.
pub struct ItemRow {
    pub ci: CiSnapshot,
    pub status: &'static str,
    /// Its services' names, joined.
    pub services: String,
    /// `name: value` of each attribute, joined.
    pub attributes: String,
}

/// Names of the services in `ids`, joined.
fn services_text(names: &Names, ids: &[i64]) -> String {
    let listed: Vec<String> = service_list(names, ids)
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    if listed.is_empty() {
        "—".to_owned()
    } else {
        listed.join(", ")
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "ci_baseline_view.html")]
struct ViewPage {
    chrome: Chrome,
    baseline: BaselineRow,
    rows: Vec<ItemRow>,
    next: Option<String>,
}

pub async fn view(
    State(state): State<AppState>,
    who: Can<perm::CmdbRead>,
    Id(id): Id<i64>,
    Query(q): Query<ListQuery>,
) -> UiResult {
    let t = who.tenant_id();
    let header = state.store.baseline(t, id).await?;
    let page = PageRequest {
        limit: Some(200),
        cursor: q.cursor,
    };
    let found = state.store.baseline_page(t, id, &page).await?;
    let names = Names::load(&state, &who).await?;
    let rows = found
        .items
        .into_iter()
        .map(|ci| ItemRow {
            status: status_label(ci.status),
            services: services_text(&names, &ci.service_ids),
            attributes: ci
                .attributes
                .iter()
                .map(|(k, v)| format!("{k}: {}", shown(v)))
                .collect::<Vec<_>>()
                .join(", "),
            ci,
        })
        .collect();
    let path = format!("{HREF}/{id}");
    Ok(ViewPage {
        chrome: Chrome::new(&state, &who, NAV_HREF)
            .await
            .with_notice(q.done.as_deref()),
        baseline: BaselineRow::new(header, &names),
        next: next_link(&path, &[], found.next_cursor),
        rows,
    }
    .into_response())
}

/// A value of a snapshot field for people: text as is, whole numbers without `.0`, lists
/// joined, nothing as "not set".
fn shown(v: &Value) -> String {
    match v {
        Value::Null => "not set".to_owned(),
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        },
        Value::Array(items) if items.is_empty() => "none".to_owned(),
        Value::Array(items) => items.iter().map(shown).collect::<Vec<_>>().join(", "),
        Value::Object(map) => match (map.get("type_name"), map.get("target_id")) {
            (Some(Value::String(kind)), Some(target)) => format!("{kind} CI #{target}"),
            _ => v.to_string(),
        },
        Value::Bool(b) => if *b { "yes" } else { "no" }.to_owned(),
    }
}

/// One field change, named and shown for people.
pub struct FieldRow {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// A CI added, removed or changed between two baselines.
pub struct DiffRow {
    pub id: i64,
    pub name: String,
    pub class: String,
    pub fields: Vec<FieldRow>,
}

impl DiffRow {
    fn whole(ci: CiSnapshot) -> DiffRow {
        DiffRow {
            id: ci.id,
            name: ci.name,
            class: ci.class_name,
            fields: Vec::new(),
        }
    }
}

/// A field's name for people: `attributes.ram_gb` is the attribute "ram_gb".
fn field_label(field: &str) -> String {
    match field.strip_prefix("attributes.") {
        Some(name) => format!("attribute “{name}”"),
        None => match field {
            "class_id" => "class id".to_owned(),
            "class_name" => "class".to_owned(),
            "owner_id" => "owner".to_owned(),
            "team_id" => "team".to_owned(),
            "external_id" => "external id".to_owned(),
            "service_ids" => "services".to_owned(),
            other => other.replace('_', " "),
        },
    }
}

/// A changed value, with ids of services, owners and teams named.
fn value_text(field: &str, v: &Value, names: &Names) -> String {
    let named = |list: &[(i64, String)], id: &Value| match id.as_i64() {
        Some(id) => Names::of(list, Some(id)),
        None => shown(id),
    };
    match (field, v) {
        ("owner_id", id @ Value::Number(_)) => named(&names.users, id),
        ("team_id", id @ Value::Number(_)) => named(&names.teams, id),
        ("status", Value::String(s)) => steward_domain::cmdb::CiStatus::parse(s)
            .map_or_else(|| s.clone(), |s| status_label(s).to_owned()),
        ("service_ids", Value::Array(ids)) if !ids.is_empty() => ids
            .iter()
            .map(|id| named(&names.services, id))
            .collect::<Vec<_>>()
            .join(", "),
        _ => shown(v),
    }
}

fn field_rows(changes: Vec<FieldChange>, names: &Names) -> Vec<FieldRow> {
    changes
        .into_iter()
        .map(|c| FieldRow {
            before: value_text(&c.field, &c.before, names),
            after: value_text(&c.field, &c.after, names),
            field: field_label(&c.field),
        })
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "ci_baseline_diff.html")]
struct DiffPage {
    chrome: Chrome,
    before: Vec<Opt>,
    after: Vec<Opt>,
    /// The two baselines compared, once both are chosen.
    compared: Option<(BaselineRow, BaselineRow)>,
    added: Vec<DiffRow>,
    removed: Vec<DiffRow>,
    changed: Vec<DiffRow>,
    /// The selects share the form macros, which look for errors.
    no_errors: FormState,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct DiffQuery {
    before: String,
    after: String,
}

pub async fn diff(
    State(state): State<AppState>,
    who: Can<perm::CmdbRead>,
    Query(q): Query<DiffQuery>,
) -> UiResult {
    let t = who.tenant_id();
    let names = Names::load(&state, &who).await?;
    let recent = PageRequest {
        limit: Some(500),
        cursor: None,
    };
    let choices: Vec<(String, String)> = state
        .store
        .baselines(t, &recent)
        .await?
        .items
        .into_iter()
        .map(|b| {
            let row = BaselineRow::new(b, &names);
            (row.id.to_string(), row.label())
        })
        .collect();
    let mut page = DiffPage {
        chrome: Chrome::new(&state, &who, NAV_HREF).await,
        before: options(choices.clone(), q.before.trim()),
        after: options(choices, q.after.trim()),
        compared: None,
        added: Vec::new(),
        removed: Vec::new(),
        changed: Vec::new(),
        no_errors: FormState::default(),
    };
    let (Ok(before), Ok(after)) = (q.before.trim().parse(), q.after.trim().parse()) else {
        return Ok(page.into_response());
    };
    let diff = state.store.diff_baselines(t, before, after).await?;
    page.compared = Some((
        BaselineRow::new(state.store.baseline(t, before).await?, &names),
        BaselineRow::new(state.store.baseline(t, after).await?, &names),
    ));
    page.added = diff.added.into_iter().map(DiffRow::whole).collect();
    page.removed = diff.removed.into_iter().map(DiffRow::whole).collect();
    let ids: Vec<i64> = diff.changed.iter().map(|c| c.ci_id).collect();
    let labels = state.store.ci_labels(t, &ids).await?;
    page.changed = diff
        .changed
        .into_iter()
        .map(|c| DiffRow {
            class: labels
                .get(&c.ci_id)
                .map(|l| l.class.clone())
                .unwrap_or_default(),
            id: c.ci_id,
            name: c.name,
            fields: field_rows(c.changes, &names),
        })
        .collect();
    Ok(page.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "ci_as_of.html")]
struct AsOfPage {
    chrome: Chrome,
    id: i64,
    /// What was asked, for the form.
    at: String,
    /// The moment shown, for people.
    moment: String,
    /// The CI then; `None` if it did not exist yet.
    then: Option<Ci>,
    class: String,
    status: &'static str,
    owner: String,
    team: String,
    services: String,
    updated: String,
    attributes: Vec<(String, String)>,
    /// What was wrong with `at`.
    error: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct AsOfQuery {
    at: String,
}

/// A `datetime-local` value (`2026-11-25T09:30`, read as UTC) or an RFC 3339 instant.
fn instant(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(civil) = text.parse::<jiff::civil::DateTime>() {
        return civil
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp().as_microsecond())
            .map_err(|e| e.to_string());
    }
    as_of_instant(Some(text)).map_err(|_| {
        "Give a date and time such as 2026-11-25T09:30 (UTC), or leave it empty for now".to_owned()
    })
}

pub async fn as_of(
    State(state): State<AppState>,
    who: Can<perm::CmdbRead>,
    Id(id): Id<i64>,
    Query(q): Query<AsOfQuery>,
) -> UiResult {
    let t = who.tenant_id();
    // The CI must be the tenant's now: a CI never leaves the CMDB once recorded.
    let current = state.store.ci(t, id).await?;
    let (at, error) = match instant(&q.at) {
        Ok(at) => (at, None),
        Err(e) => (steward_store::now_micros(), Some(e)),
    };
    let then = state.store.ci_as_of(t, id, at).await?;
    let names = Names::load(&state, &who).await?;
    let shown_ci = then.as_ref().unwrap_or(&current);
    let class = match state.store.ci_class(t, shown_ci.class_id).await {
        Ok(class) => class,
        Err(StoreError::NotFound) => return Err(UiError::NotFound),
        Err(e) => return Err(e.into()),
    };
    let page = AsOfPage {
        chrome: Chrome::new(&state, &who, NAV_HREF).await,
        id,
        at: q.at.trim().to_owned(),
        moment: when(at),
        class: class.name.clone(),
        status: status_label(shown_ci.status),
        owner: Names::of(&names.users, shown_ci.owner_id),
        team: Names::of(&names.teams, shown_ci.team_id),
        services: services_text(&names, &shown_ci.service_ids),
        updated: when(shown_ci.updated_at),
        attributes: classify::value_rows(&class.attributes, &shown_ci.attributes, &names.users),
        error,
        then,
    };
    Ok(page.into_response())
}
