//! The "Configuration items" panel of the incident and problem pages: the CIs the record is
//! about, the services they hit, and the form that adds ("name #id" with suggestions, an id,
//! or a unique name) and removes CIs. Reads and writes go through `api::record_cis`, so the
//! page allows exactly what the API allows.

use super::cmdb::{ci_from_text, ci_suggestions};
use super::{FormState, UiError, UiResult};
use crate::AppState;
use crate::api::cmdb::NamedOut;
use crate::api::record_cis::{LinkedCiOut, RecordType, record_cis, record_id, set_cis};
use crate::auth::{Can, Principal, perm};
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_store::StoreError;

/// What the panel shows; `shown` is false for those who may not read the CMDB.
#[derive(Default)]
pub struct CiPanel {
    pub shown: bool,
    pub can_write: bool,
    pub cis: Vec<LinkedCiOut>,
    pub services: Vec<NamedOut>,
    /// Where the add form posts; removal posts to `{action}/{id}/delete`.
    pub action: String,
    pub form: FormState,
    /// "name #id" of CIs not yet linked, for the input's suggestions.
    pub candidates: Vec<String>,
}

fn base(kind: RecordType, key: &str) -> String {
    match kind {
        RecordType::Incident => format!("/incidents/{key}"),
        RecordType::Problem => format!("/problems/{key}"),
    }
}

/// The panel of record `id` (`key` in links), with the add form as it came back.
pub async fn panel(
    state: &AppState,
    who: &Principal,
    kind: RecordType,
    key: &str,
    id: i64,
    form: FormState,
) -> Result<CiPanel, UiError> {
    if !who.can(Permission::CmdbRead) {
        return Ok(CiPanel::default());
    }
    let linked = record_cis(state, who.tenant_id(), kind, id).await?;
    let can_write = who.can(Permission::RecordsWrite);
    let candidates = if can_write {
        let ids: Vec<i64> = linked.cis.iter().map(|c| c.id).collect();
        ci_suggestions(state, who.tenant_id(), &ids).await?
    } else {
        Vec::new()
    };
    Ok(CiPanel {
        shown: true,
        can_write,
        cis: linked.cis,
        services: linked.services_hit,
        action: format!("{}/cis", base(kind, key)),
        form,
        candidates,
    })
}

/// What the add form posts.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct AddCiForm {
    /// `name #id` from the suggestions, an id, or a name.
    ci: String,
}

/// Adds the CI the form names; `Ok(None)` when saved, `Ok(Some(form))` with the errors to show
/// on the record page.
async fn add(
    state: &AppState,
    who: &Principal,
    kind: RecordType,
    key: &str,
    form: &AddCiForm,
) -> Result<Option<FormState>, UiError> {
    let id = record_id(state, who, kind, key).await?;
    let t = who.tenant_id();
    let saved: Result<(), StoreError> = async {
        let ci = ci_from_text(state, t, "ci", &form.ci).await?;
        state.store.ci(t, ci).await.map_err(|e| match e {
            StoreError::NotFound => Invalid::one("ci", format!("There is no CI {ci}")).into(),
            other => other,
        })?;
        let mut ids = state.store.cis_of_record(t, kind.as_str(), id).await?;
        ids.push(ci);
        state
            .store
            .set_record_cis(t, kind.as_str(), id, &ids, &who.actor())
            .await
    }
    .await;
    match saved {
        Ok(()) => Ok(None),
        Err(StoreError::Invalid(invalid)) => {
            Ok(Some(FormState::with(&[("ci", &form.ci)]).rejected(invalid)))
        }
        Err(e) => Err(e.into()),
    }
}

async fn remove(
    state: &AppState,
    who: &Principal,
    kind: RecordType,
    key: &str,
    ci: i64,
) -> Result<(), UiError> {
    let id = record_id(state, who, kind, key).await?;
    let mut ids = state
        .store
        .cis_of_record(who.tenant_id(), kind.as_str(), id)
        .await?;
    if !ids.contains(&ci) {
        return Err(UiError::NotFound);
    }
    ids.retain(|c| *c != ci);
    set_cis(state, who, kind, key, &ids).await?;
    Ok(())
}

fn saved(kind: RecordType, key: &str, done: &str) -> UiResult {
    Ok(Redirect::to(&format!("{}?done={done}#cis", base(kind, key))).into_response())
}

pub async fn add_to_incident(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Path(key): Path<String>,
    Form(form): Form<AddCiForm>,
) -> UiResult {
    let kind = RecordType::Incident;
    match add(&state, &who, kind, &key, &form).await? {
        None => saved(kind, &key, "saved"),
        Some(cis) => {
            let extras = super::incidents::ViewExtras {
                cis,
                ..Default::default()
            };
            super::incidents::render_view(
                &state,
                &who,
                &key,
                extras,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

pub async fn remove_from_incident(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Path((key, ci)): Path<(String, i64)>,
) -> UiResult {
    remove(&state, &who, RecordType::Incident, &key, ci).await?;
    saved(RecordType::Incident, &key, "saved")
}

pub async fn add_to_problem(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Path(key): Path<String>,
    Form(form): Form<AddCiForm>,
) -> UiResult {
    let kind = RecordType::Problem;
    match add(&state, &who, kind, &key, &form).await? {
        None => saved(kind, &key, "saved"),
        Some(cis) => super::problems::render_with_cis(&state, &who, &key, cis).await,
    }
}

pub async fn remove_from_problem(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Path((key, ci)): Path<(String, i64)>,
) -> UiResult {
    remove(&state, &who, RecordType::Problem, &key, ci).await?;
    saved(RecordType::Problem, &key, "saved")
}
