//! Service design and transition pages (ISO/IEC 20000-1 8.5.2): the list of design records,
//! the form (which keeps what was typed and says what is wrong), and the record page with its
//! sections, the acceptance checklist, the proposal, the moves its lifecycle allows, the
//! "Accept and go live" button, and after acceptance the links to everything it created.
//!
//! The form is in `design_form`.

use super::{
    Chrome, FormState, HistoryRow, ListFrame, Opt, UiError, UiResult, filter_choices, history, when,
};
use crate::AppState;
use crate::auth::{Can, Principal, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use steward_domain::access::Permission;
use steward_domain::design::DesignStatus;
use steward_store::design::{DesignFilter, ServiceDesign};
use steward_store::{PageRequest, StoreError};

/// Where the navigation points; every design page marks it.
pub const NAV_HREF: &str = "/designs";

pub(super) async fn find(
    state: &AppState,
    who: &Principal,
    key: &str,
) -> Result<ServiceDesign, UiError> {
    let number = steward_domain::design::parse_key(key).ok_or(UiError::NotFound)?;
    Ok(state
        .store
        .service_design_by_number(who.tenant_id(), number)
        .await?)
}

fn service_name(services: &[(i64, String)], id: Option<i64>) -> String {
    match id {
        None => "A new service".to_owned(),
        Some(id) => services
            .iter()
            .find(|(s, _)| *s == id)
            .map_or_else(|| format!("Service {id}"), |(_, n)| n.clone()),
    }
}

pub struct Row {
    pub key: String,
    pub title: String,
    pub target: String,
    pub status: &'static str,
    pub status_code: &'static str,
    pub updated: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "designs/list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    statuses: Vec<Opt>,
    filtered: bool,
    next: Option<String>,
    can_write: bool,
    no_errors: FormState,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    status: String,
    cursor: Option<String>,
    done: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::DesignRead>,
    Query(q): Query<ListQuery>,
) -> UiResult {
    let filter = DesignFilter {
        status: DesignStatus::parse(q.status.trim()),
        sort: Some("-number".into()),
    };
    let page = PageRequest {
        limit: Some(50),
        cursor: q.cursor.clone(),
    };
    let found = match state
        .store
        .service_designs(who.tenant_id(), &filter, &page)
        .await
    {
        Err(StoreError::Invalid(_)) => return Ok(Redirect::to(NAV_HREF).into_response()),
        other => other?,
    };
    let services = super::service_names(&state, &who).await?;
    let frame = ListFrame::new(
        &state,
        &who,
        NAV_HREF,
        &[("status", q.status.as_str())],
        found.next_cursor,
        q.done.as_deref(),
    )
    .await;
    let statuses = filter_choices(
        DesignStatus::ALL,
        "— any status —",
        DesignStatus::as_str,
        DesignStatus::label,
        q.status.trim(),
    );
    Ok(ListPage {
        chrome: frame.chrome,
        rows: found
            .items
            .into_iter()
            .map(|d| Row {
                key: d.key(),
                target: service_name(&services, d.target_service_id),
                status: d.status.label(),
                status_code: d.status.as_str(),
                updated: when(d.updated_at),
                title: d.title,
            })
            .collect(),
        statuses,
        filtered: frame.filtered,
        next: frame.next,
        can_write: who.can(Permission::DesignWrite),
        no_errors: FormState::default(),
    }
    .into_response())
}

pub struct Move {
    pub to: &'static str,
    pub label: &'static str,
}

pub struct CiLine {
    pub class: String,
    pub name: String,
    pub attributes: String,
}

pub struct Link {
    pub label: String,
    pub href: String,
    pub action: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "designs/view.html")]
struct ViewPage {
    chrome: Chrome,
    d: ServiceDesign,
    key: String,
    status: &'static str,
    target: String,
    change: Option<(String, String)>,
    missing: Vec<&'static str>,
    unmet: usize,
    moves: Vec<Move>,
    can_accept: bool,
    can_write: bool,
    service: Option<String>,
    catalogue: Option<String>,
    agreement: Option<String>,
    new_cis: Vec<CiLine>,
    link_cis: Vec<String>,
    outputs: Vec<Link>,
    accepted: Option<String>,
    error: Option<String>,
    notice: Option<&'static str>,
    history: Option<Vec<HistoryRow>>,
}

fn move_label(s: DesignStatus) -> &'static str {
    match s {
        DesignStatus::Draft => "Back to draft",
        DesignStatus::InDesign => "Start designing",
        DesignStatus::ReadyForAcceptance => "Ready for acceptance",
        DesignStatus::Accepted => "Accept and go live",
        DesignStatus::Rejected => "Reject",
        DesignStatus::Cancelled => "Cancel",
    }
}

fn notice(done: Option<&str>) -> Option<&'static str> {
    done.and_then(|d| match d {
        "created" => Some("Design record opened."),
        "saved" => Some("Saved."),
        "moved" => Some("Status changed."),
        "accepted" => Some("Accepted: the service is live, with everything listed below."),
        _ => None,
    })
}

async fn render(
    state: &AppState,
    who: &Principal,
    key: &str,
    error: Option<String>,
    done: Option<&str>,
    status: StatusCode,
) -> UiResult {
    let t = who.tenant_id();
    let d = find(state, who, key).await?;
    let services = super::service_names(state, who).await?;
    let change = match d.change_id {
        Some(id) => match state.store.change(t, id).await {
            Ok(c) => Some((c.key(), c.title)),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let classes: Vec<(i64, String)> = state
        .store
        .ci_classes(t)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let draft = d.draft();
    let can_write = who.can(Permission::DesignWrite);
    let moves = if can_write {
        d.status
            .next()
            .iter()
            .filter(|s| **s != DesignStatus::Accepted)
            .map(|s| Move {
                to: s.as_str(),
                label: move_label(*s),
            })
            .collect()
    } else {
        Vec::new()
    };
    let p = &d.proposal;
    let service = p.service.as_ref().map(|s| {
        format!(
            "{} ({} criticality){}",
            s.name,
            s.criticality.as_str(),
            if s.description.is_empty() {
                String::new()
            } else {
                format!(": {}", s.description)
            }
        )
    });
    let catalogue = p.catalogue.as_ref().map(|c| {
        let what = if c.item_id.is_some() {
            "updates"
        } else {
            "creates"
        };
        format!("{what} the catalogue item “{}” in {}", c.name, c.category)
    });
    let agreement = p.agreement.as_ref().map(|a| {
        let targets: Vec<String> = a
            .targets
            .iter()
            .map(|t| {
                let priority = t.priority.map_or("any priority", |p| p.as_str());
                format!(
                    "{} for {priority} in {}",
                    super::agreements::metric_label(&t.metric),
                    super::agreements::business_time(i64::from(t.minutes))
                )
            })
            .collect();
        format!("“{}” ({}): {}", a.name, a.kind.as_str(), targets.join(", "))
    });
    let class_name = |id: i64| {
        classes
            .iter()
            .find(|(c, _)| *c == id)
            .map_or_else(|| format!("class {id}"), |(_, n)| n.clone())
    };
    let new_cis = p
        .new_cis
        .iter()
        .map(|c| CiLine {
            class: class_name(c.class_id),
            name: c.name.clone(),
            attributes: c
                .attributes
                .iter()
                .map(|(k, v)| format!("{k} = {v}"))
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let mut link_cis = Vec::new();
    for id in &p.link_ci_ids {
        link_cis.push(match state.store.ci(t, *id).await {
            Ok(ci) => format!("{} #{id}", ci.name),
            Err(StoreError::NotFound) => format!("CI {id} (gone)"),
            Err(e) => return Err(e.into()),
        });
    }
    let outputs = d
        .outputs
        .iter()
        .map(|o| {
            let (label, href) = match o.kind.as_str() {
                "service" => (
                    format!("Service: {}", service_name(&services, Some(o.record_id))),
                    format!("/services/{}", o.record_id),
                ),
                "catalogue_item" => (
                    format!("Catalogue item {}", o.record_id),
                    "/portal".to_owned(),
                ),
                "agreement" => (
                    format!("Agreement {}", o.record_id),
                    format!("/agreements/{}", o.record_id),
                ),
                "ci" => (
                    format!("CI {}", o.record_id),
                    format!("/cis/{}", o.record_id),
                ),
                _ => (
                    format!("Linked CI {}", o.record_id),
                    format!("/cis/{}", o.record_id),
                ),
            };
            Link {
                label,
                href,
                action: o.action.clone(),
            }
        })
        .collect();
    let accepted = d.accepted_at.map(when);
    let history = history(state, who, "service_design", d.id).await;
    let chrome = Chrome::new(state, who, NAV_HREF).await;
    Ok((
        status,
        ViewPage {
            chrome,
            key: d.key(),
            status: d.status.label(),
            target: service_name(&services, d.target_service_id),
            change,
            missing: draft.missing_sections(),
            unmet: d.criteria.iter().filter(|c| !c.met).count(),
            can_accept: can_write && d.status == DesignStatus::ReadyForAcceptance,
            moves,
            can_write: can_write && !d.status.is_terminal(),
            service,
            catalogue,
            agreement,
            new_cis,
            link_cis,
            outputs,
            accepted,
            error,
            notice: notice(done),
            history,
            d,
        },
    )
        .into_response())
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ViewQuery {
    done: Option<String>,
}

pub async fn view(
    State(state): State<AppState>,
    who: Can<perm::DesignRead>,
    Path(key): Path<String>,
    Query(q): Query<ViewQuery>,
) -> UiResult {
    render(&state, &who, &key, None, q.done.as_deref(), StatusCode::OK).await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct TransitionForm {
    to: String,
}

/// A refusal in words for the page.
fn refusal(e: StoreError) -> Result<String, UiError> {
    match e {
        StoreError::Conflict(message) => Ok(message),
        StoreError::Invalid(invalid) => Ok(invalid
            .errors
            .into_iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; ")),
        other => Err(other.into()),
    }
}

pub async fn transition(
    State(state): State<AppState>,
    who: Can<perm::DesignWrite>,
    Path(key): Path<String>,
    Form(form): Form<TransitionForm>,
) -> UiResult {
    let d = find(&state, &who, &key).await?;
    let Some(to) = DesignStatus::parse(form.to.trim()) else {
        let error = Some("Choose one of the moves offered".to_owned());
        return render(
            &state,
            &who,
            &key,
            error,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    match state
        .store
        .transition_design(who.tenant_id(), d.id, to, &who.actor())
        .await
    {
        Ok(moved) => {
            Ok(Redirect::to(&format!("/designs/{}?done=moved", moved.key())).into_response())
        }
        Err(e) => {
            let error = Some(format!("{} could not move on: {}", d.key(), refusal(e)?));
            render(&state, &who, &key, error, None, StatusCode::CONFLICT).await
        }
    }
}

pub async fn accept(
    State(state): State<AppState>,
    who: Can<perm::DesignWrite>,
    Path(key): Path<String>,
) -> UiResult {
    let d = find(&state, &who, &key).await?;
    match state
        .store
        .accept_design(who.tenant_id(), d.id, &who.actor())
        .await
    {
        Ok((accepted, _)) => {
            Ok(Redirect::to(&format!("/designs/{}?done=accepted", accepted.key())).into_response())
        }
        Err(e) => {
            let error = Some(format!(
                "{} was not accepted and nothing was written: {}",
                d.key(),
                refusal(e)?
            ));
            render(&state, &who, &key, error, None, StatusCode::CONFLICT).await
        }
    }
}
