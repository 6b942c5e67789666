//! The CI page (`/cis/{id}`): its header, attributes, relationships both ways with the graph
//! of its neighbours, the form that relates it to another CI, and its history.

use super::cmdb::{
    NAV_HREF, ci_from_text, ci_suggestions, class_names, service_list, status_label,
};
use super::cmdb_graph::{Neighbour, Node, Side, neighbour_graph};
use super::session::DoneQuery;
use super::{
    Chrome, FormState, HistoryRow, Id, Names, Opt, UiError, UiResult, after_save, classify,
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
use std::collections::HashMap;
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::cmdb::Dependency;
use steward_store::StoreError;
use steward_store::cmdb::{Ci, OpenRecord};

/// Most relationships the page lists (a hub CI can have thousands; the API pages them all).
const MAX_LISTED: usize = 200;

/// One relationship as the CI page reads it, from this CI's side.
pub struct RelRow {
    pub id: i64,
    /// "runs on" when this CI is the source, "hosts" when it is the target.
    pub reads: String,
    pub other_id: i64,
    pub other_name: String,
    pub other_class: String,
    /// upstream, downstream, both ways or no dependency.
    pub flow: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "ci_view.html")]
struct ViewPage {
    chrome: Chrome,
    ci: Ci,
    class: String,
    status: &'static str,
    owner: String,
    team: String,
    services: Vec<(i64, String)>,
    verified: String,
    created: String,
    updated: String,
    attributes: Vec<(String, String)>,
    relationships: Vec<RelRow>,
    /// Relationships beyond `MAX_LISTED`.
    unlisted: usize,
    graph: String,
    can_write: bool,
    add: FormState,
    types: Vec<Opt>,
    directions: Vec<Opt>,
    /// "name #id" of other CIs, for the other-CI input's suggestions.
    candidates: Vec<String>,
    /// Open incidents and problems that name this CI.
    open_records: Vec<OpenRecord>,
    /// Assets linked to this CI (none shown to readers without asset access).
    assets: Vec<super::asset_register::CiAsset>,
    can_assets: bool,
    history: Option<Vec<HistoryRow>>,
}

/// Which way dependency flows between this CI and the other end of a relationship.
fn side(dependency: Dependency, outgoing: bool) -> Side {
    match (dependency, outgoing) {
        (Dependency::SourceOnTarget, true) | (Dependency::TargetOnSource, false) => Side::Upstream,
        (Dependency::SourceOnTarget, false) | (Dependency::TargetOnSource, true) => {
            Side::Downstream
        }
        (Dependency::Mutual, _) => Side::Mutual,
        (Dependency::Informational, _) => Side::Informational,
    }
}

fn flow(side: Side) -> &'static str {
    match side {
        Side::Upstream => "it needs",
        Side::Downstream => "needs it",
        Side::Mutual => "both ways",
        Side::Informational => "no dependency",
    }
}

async fn render(
    state: &AppState,
    who: &Principal,
    id: i64,
    add: FormState,
    status: StatusCode,
    done: Option<&str>,
) -> UiResult {
    let t = who.tenant_id();
    let ci = state.store.ci(t, id).await?;
    let classes = class_names(state, t).await?;
    let class_of = |id: i64| classes.get(&id).cloned().unwrap_or_default();
    let names = Names::load(state, who).await?;
    let class = state.store.ci_class(t, ci.class_id).await?;
    let types = state.store.relationship_types(t).await?;
    let labels: HashMap<&str, (&str, &str)> = types
        .iter()
        .map(|k| {
            (
                k.name.as_str(),
                (k.label.as_str(), k.reverse_label.as_str()),
            )
        })
        .collect();
    let all = state.store.ci_relationships_of(t, id).await?;
    let unlisted = all.len().saturating_sub(MAX_LISTED);
    let mut relationships = Vec::new();
    let mut neighbours = Vec::new();
    for r in all.into_iter().take(MAX_LISTED) {
        let outgoing = r.source_id == id;
        let other_id = if outgoing { r.target_id } else { r.source_id };
        let other = match state.store.ci(t, other_id).await {
            Ok(other) => other,
            Err(StoreError::NotFound) => continue,
            Err(e) => return Err(e.into()),
        };
        let (label, reverse) = labels
            .get(r.type_name.as_str())
            .copied()
            .unwrap_or((r.type_name.as_str(), r.type_name.as_str()));
        let side = side(r.dependency, outgoing);
        relationships.push(RelRow {
            id: r.id,
            reads: if outgoing { label } else { reverse }.to_owned(),
            other_id,
            other_name: other.name.clone(),
            other_class: class_of(other.class_id),
            flow: flow(side),
        });
        neighbours.push(Neighbour {
            node: Node {
                id: other_id,
                class: class_of(other.class_id),
                name: other.name,
            },
            side,
            label: label.to_owned(),
            outgoing,
        });
    }
    let graph = if neighbours.is_empty() {
        String::new()
    } else {
        let centre = Node {
            id,
            name: ci.name.clone(),
            class: class.name.clone(),
        };
        neighbour_graph(&centre, &neighbours)
    };
    let can_write = who.can(Permission::CmdbWrite);
    let candidates = if can_write {
        ci_suggestions(state, t, &[id]).await?
    } else {
        Vec::new()
    };
    let type_choices = options(
        types
            .iter()
            .map(|k| (k.name.clone(), format!("{} / {}", k.label, k.reverse_label))),
        add.value("type"),
    );
    let directions = options(
        [
            ("out".to_owned(), format!("{} → the other CI", ci.name)),
            ("in".to_owned(), format!("the other CI → {}", ci.name)),
        ],
        add.value("direction"),
    );
    let page = ViewPage {
        chrome: Chrome::new(state, who, NAV_HREF).await.with_notice(done),
        class: class.name.clone(),
        status: status_label(ci.status),
        owner: Names::of(&names.users, ci.owner_id),
        team: Names::of(&names.teams, ci.team_id),
        services: service_list(&names, &ci.service_ids),
        verified: ci.verified_at.map_or_else(|| "never".to_owned(), when),
        created: when(ci.created_at),
        updated: when(ci.updated_at),
        attributes: classify::value_rows(&class.attributes, &ci.attributes, &names.users),
        relationships,
        unlisted,
        graph,
        can_write,
        add,
        types: type_choices,
        directions,
        candidates,
        open_records: state.store.open_records_of_ci(t, id).await?,
        assets: super::asset_register::of_ci(state, who, id).await?,
        can_assets: who.can(Permission::AssetsRead),
        history: history(state, who, "ci", id).await,
        ci,
    };
    Ok((status, page).into_response())
}

pub async fn view(
    State(state): State<AppState>,
    who: Can<perm::CmdbRead>,
    Id(id): Id<i64>,
    Query(q): Query<DoneQuery>,
) -> UiResult {
    let blank = FormState::with(&[("type", "depends_on"), ("direction", "out")]);
    render(&state, &who, id, blank, StatusCode::OK, q.done.as_deref()).await
}

/// What the add-relationship form posts.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct RelationshipForm {
    /// The relationship type's name.
    #[serde(rename = "type")]
    kind: String,
    /// `out`: this CI is the source; `in`: the other CI is.
    direction: String,
    /// The other CI: `name #id` from the suggestions, an id, or a name.
    other: String,
}

impl RelationshipForm {
    fn state(&self) -> FormState {
        FormState::with(&[
            ("type", &self.kind),
            ("direction", &self.direction),
            ("other", &self.other),
        ])
    }
}

/// The store names a relationship's ends `source`, `target` and `target_id`; the form has one
/// input for the other CI.
fn on_form(invalid: Invalid) -> Invalid {
    let mut errors = Invalid::new();
    for e in invalid.errors {
        let field = match e.field.as_str() {
            "source" | "target" | "target_id" => "other",
            "type" => "type",
            _ => "other",
        };
        errors.add(field, e.message);
    }
    errors
}

pub async fn add_relationship(
    State(state): State<AppState>,
    who: Can<perm::CmdbWrite>,
    Id(id): Id<i64>,
    Form(form): Form<RelationshipForm>,
) -> UiResult {
    let t = who.tenant_id();
    state.store.ci(t, id).await?;
    let saved = async {
        let other = ci_from_text(&state, t, "other", &form.other).await?;
        let (source, target) = if form.direction == "in" {
            (other, id)
        } else {
            (id, other)
        };
        state
            .store
            .create_ci_relationship(t, source, target, &form.kind, &who.actor())
            .await
    }
    .await;
    after_save(
        saved,
        |_| format!("/cis/{id}?done=saved#relationships"),
        |invalid| {
            render(
                &state,
                &who,
                id,
                form.state().rejected(on_form(invalid)),
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
            )
        },
    )
    .await
}

pub async fn remove_relationship(
    State(state): State<AppState>,
    who: Can<perm::CmdbWrite>,
    Id((id, rel)): Id<(i64, i64)>,
) -> UiResult {
    let t = who.tenant_id();
    let found = state.store.ci_relationship(t, rel).await?;
    if found.source_id != id && found.target_id != id {
        return Err(UiError::NotFound);
    }
    state
        .store
        .delete_ci_relationship(t, rel, &who.actor())
        .await?;
    Ok(Redirect::to(&format!("/cis/{id}?done=deleted#relationships")).into_response())
}
