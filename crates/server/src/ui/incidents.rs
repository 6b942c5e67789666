//! The agent console for incidents: queues, the record page with its timeline, forms.

use super::list_filters::{self, FilterBar, ListFilters};
use super::{
    Chrome, FormState, Names, Opt, UiError, UiResult, classify, next_link, options, summarize, when,
};
use crate::AppState;
use crate::api::incidents::{
    CommentCreate, IncidentCreate, IncidentPatch, change_incident, comment, find, open_incident,
};
use crate::auth::{Can, Principal, perm};
use crate::error::ApiError;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::collections::HashMap;
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::incident::{Level, PendingReason, Status};
use steward_store::PageRequest;
use steward_store::incident::{Incident, IncidentFilter};
use steward_store::journal::JournalFilter;

/// How people read a status.
pub fn status_label(s: Status) -> &'static str {
    match s {
        Status::New => "new",
        Status::InProgress => "in progress",
        Status::Pending => "pending",
        Status::Resolved => "resolved",
        Status::Closed => "closed",
        Status::Cancelled => "cancelled",
    }
}

pub struct Row {
    pub key: String,
    pub priority: String,
    pub title: String,
    pub service: String,
    pub assignee: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub age: String,
}

pub struct Queue {
    pub id: &'static str,
    pub label: &'static str,
    pub count: i64,
    pub current: bool,
}

pub struct SortLinks {
    pub number: String,
    pub priority: String,
    pub opened: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "incidents_list.html")]
struct ListPage {
    chrome: Chrome,
    queues: Vec<Queue>,
    queue: String,
    rows: Vec<Row>,
    q: String,
    next: Option<String>,
    sort_links: SortLinks,
    can_write: bool,
    /// People work can be assigned to, for the bulk bar.
    agents: Vec<(i64, String)>,
    views: Vec<ViewChip>,
    current_query: String,
    /// When the page was rendered, for polling `changes`.
    loaded_at: i64,
    may_share: bool,
    bulk_outcome: Option<String>,
    filters: FilterBar,
    /// The active filters as query pairs, kept by the search form.
    filter_pairs: Vec<(String, String)>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    queue: String,
    q: String,
    sort: String,
    cursor: Option<String>,
    done: Option<String>,
    /// `category_id` and `custom.<name>`, read from the raw query (`ListQuery::parse`).
    #[serde(skip)]
    filters: ListFilters,
}

impl ListQuery {
    /// A list query string, as a saved view keeps it.
    fn parse(query: &str) -> ListQuery {
        ListQuery {
            filters: ListFilters::parse(query),
            ..serde_urlencoded::from_str(query).unwrap_or_default()
        }
    }

    /// The store filter: the queue's, narrowed by search and the list filters.
    fn filter(&self, queue: &str, me: i64) -> IncidentFilter {
        IncidentFilter {
            q: Some(self.q.clone()).filter(|t| !t.trim().is_empty()),
            sort: Some(self.sort.clone()).filter(|s| !s.is_empty()),
            category_id: self.filters.category_id,
            custom: self.filters.custom.clone(),
            ..queue_filter(queue, me)
        }
    }
}

/// "3 h", "2 d": how long ago, at a glance.
fn age(opened_micros: i64) -> String {
    let minutes = (steward_store::now_micros() - opened_micros).max(0) / 60_000_000;
    match minutes {
        m if m < 60 => format!("{m} min"),
        m if m < 48 * 60 => format!("{} h", m / 60),
        m => format!("{} d", m / (24 * 60)),
    }
}

fn queue_filter(queue: &str, me: i64) -> IncidentFilter {
    match queue {
        "mine" => IncidentFilter {
            open: true,
            assignee_id: Some(me),
            ..Default::default()
        },
        "unassigned" => IncidentFilter {
            open: true,
            unassigned: true,
            ..Default::default()
        },
        "pending" => IncidentFilter {
            statuses: vec![Status::Pending],
            ..Default::default()
        },
        "resolved" => IncidentFilter {
            statuses: vec![Status::Resolved],
            ..Default::default()
        },
        "all" => IncidentFilter::default(),
        _ => IncidentFilter {
            open: true,
            ..Default::default()
        },
    }
}

pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    Query(mut q): Query<ListQuery>,
    RawQuery(raw): RawQuery,
) -> UiResult {
    q.filters = ListFilters::parse(raw.as_deref().unwrap_or_default());
    render_list(&state, &who, q, None).await
}

#[derive(Template, WebTemplate)]
#[template(
    source = "{% if count > 0 %}<a class=\"notice fresh\" href=\"/incidents?{{ query }}\">{{ count }} {% if count == 1 %}incident{% else %}incidents{% endif %} in this view changed since you opened it: show</a>{% endif %}",
    ext = "html"
)]
struct Changes {
    count: i64,
    query: String,
}

/// How many incidents of a list's view changed since the page was rendered (`since`, in
/// microseconds). The list polls it, so an agent sees new work arrive without reloading and
/// without the rows jumping under the cursor.
pub async fn changes(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    RawQuery(raw): RawQuery,
) -> UiResult {
    let raw = raw.unwrap_or_default();
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&raw).unwrap_or_default();
    let (since, rest): (Vec<_>, Vec<_>) = pairs.into_iter().partition(|(k, _)| k == "since");
    let since = since.first().and_then(|(_, v)| v.parse::<i64>().ok());
    let query = serde_urlencoded::to_string(&rest).unwrap_or_default();
    let q = ListQuery::parse(&query);
    let queue = if q.queue.is_empty() {
        "open"
    } else {
        q.queue.as_str()
    };
    let filter = IncidentFilter {
        changed_after: Some(since.unwrap_or_else(steward_store::now_micros)),
        ..q.filter(queue, who.user.id)
    };
    // A filter the list itself refuses has nothing to report; the list shows the reason.
    let count = match state.store.count_incidents(who.tenant_id(), &filter).await {
        Err(steward_store::StoreError::Invalid(_)) => 0,
        other => other?,
    };
    Ok(Changes { count, query }.into_response())
}

async fn render_list(
    state: &AppState,
    who: &Principal,
    q: ListQuery,
    bulk_outcome: Option<String>,
) -> UiResult {
    let queue = if q.queue.is_empty() {
        "open".to_owned()
    } else {
        q.queue.clone()
    };
    let filter = q.filter(&queue, who.user.id);
    let page = PageRequest {
        limit: Some(50),
        cursor: q.cursor.clone(),
    };
    let found = state.store.incidents(who.tenant_id(), &filter, &page).await;
    let (found, refused) = match list_filters::or_refused(found) {
        Err(steward_store::StoreError::Invalid(_)) => {
            return Ok(Redirect::to("/incidents").into_response());
        }
        other => other?,
    };
    let names = Names::load(state, who).await?;
    let filter_pairs = q.filters.pairs();
    let filters = FilterBar::load(
        state,
        who.tenant_id(),
        "incident",
        "/incidents",
        &[
            ("queue", queue.as_str()),
            ("q", q.q.as_str()),
            ("sort", q.sort.as_str()),
        ],
        &q.filters,
        &names.users,
    )
    .await?
    .refused(refused);
    let rows = found
        .items
        .iter()
        .map(|i| Row {
            key: i.key(),
            priority: i.priority.to_string(),
            title: i.title.clone(),
            service: Names::of(&names.services, i.service_id),
            assignee: Names::of(&names.users, i.assignee_id),
            status: i.status.as_str(),
            status_label: status_label(i.status),
            age: age(i.opened_at),
        })
        .collect();
    let counts: HashMap<String, i64> = state
        .store
        .incident_counts(who.tenant_id())
        .await?
        .into_iter()
        .collect();
    let (mine, unassigned) = state
        .store
        .incident_queue_counts(who.tenant_id(), who.user.id)
        .await?;
    let count = |s: &str| counts.get(s).copied().unwrap_or(0);
    let open = count("new") + count("in_progress") + count("pending");
    let queues = [
        ("mine", "Assigned to me", mine),
        ("unassigned", "Unassigned", unassigned),
        ("open", "All open", open),
        ("pending", "Pending", count("pending")),
        ("resolved", "Resolved", count("resolved")),
        ("all", "All", counts.values().sum()),
    ]
    .into_iter()
    .map(|(id, label, count)| Queue {
        id,
        label,
        count,
        current: id == queue,
    })
    .collect();
    // Every link the list makes keeps its search and filters.
    let base: Vec<(String, String)> = [("queue", queue.as_str()), ("q", q.q.as_str())]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .chain(filter_pairs.iter().cloned())
        .collect();
    let sort_link = |column: &str| {
        let next = if q.sort == column {
            format!("-{column}")
        } else {
            column.to_owned()
        };
        let mut pairs = base.clone();
        pairs.push(("sort".to_owned(), next));
        list_filters::href("/incidents", &pairs)
    };
    let sort_links = SortLinks {
        number: sort_link("number"),
        priority: sort_link("priority"),
        opened: sort_link("opened_at"),
    };
    let mut with_sort = base.clone();
    with_sort.push(("sort".to_owned(), q.sort.clone()));
    let next = next_link(
        "/incidents",
        &with_sort
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect::<Vec<_>>(),
        found.next_cursor,
    );
    let chrome = Chrome::new(state, who, "/incidents")
        .await
        .with_notice(q.done.as_deref());
    let views = view_chips(state, who).await?;
    let current_query = {
        let pairs: Vec<&(String, String)> =
            with_sort.iter().filter(|(_, v)| !v.is_empty()).collect();
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    };
    Ok(ListPage {
        chrome,
        queues,
        queue,
        rows,
        q: q.q,
        next,
        sort_links,
        can_write: who.can(Permission::RecordsWrite),
        agents: names.users.clone(),
        views,
        current_query,
        loaded_at: steward_store::now_micros(),
        may_share: crate::api::views::may_share(who),
        bulk_outcome,
        filters,
        filter_pairs,
    }
    .into_response())
}

/// A saved view in the queue bar, with its live count.
pub struct ViewChip {
    pub id: i64,
    pub name: String,
    pub query: String,
    pub count: i64,
    pub removable: bool,
}

/// The saved views a person sees above the incident list, each counted with its own filter.
async fn view_chips(state: &AppState, who: &Principal) -> Result<Vec<ViewChip>, UiError> {
    let mut chips = Vec::new();
    for v in state
        .store
        .views(who.tenant_id(), who.user.id, "incidents")
        .await?
    {
        let q = ListQuery::parse(&v.query);
        let filter = q.filter(
            if q.queue.is_empty() { "open" } else { &q.queue },
            who.user.id,
        );
        // A view whose custom field has since been removed matches nothing.
        let count = match state.store.count_incidents(who.tenant_id(), &filter).await {
            Err(e) if list_filters::refused_filter(&e).is_some() => 0,
            other => other?,
        };
        let removable = v.owner_id == Some(who.user.id)
            || (v.owner_id.is_none() && crate::api::views::may_share(who));
        chips.push(ViewChip {
            id: v.id,
            name: v.name,
            query: v.query,
            count,
            removable,
        });
    }
    Ok(chips)
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ViewForm {
    name: String,
    query: String,
    shared: bool,
}

pub async fn save_view(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    Form(form): Form<ViewForm>,
) -> UiResult {
    let body = crate::api::views::ViewCreate {
        kind: "incidents".into(),
        name: form.name,
        query: form.query.clone(),
        shared: form.shared,
    };
    match crate::api::views::save(&state, &who, body).await {
        Ok(_) => Ok(Redirect::to(&format!("/incidents?{}", form.query)).into_response()),
        Err(e) if e.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            render_list(
                &state,
                &who,
                ListQuery::default(),
                Some(format!("The view was not saved: {}", e.detail())),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn delete_view(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    Path(id): Path<i64>,
) -> UiResult {
    state
        .store
        .delete_view(
            who.tenant_id(),
            id,
            who.user.id,
            crate::api::views::may_share(&who),
            &who.actor(),
        )
        .await?;
    Ok(Redirect::to("/incidents").into_response())
}

/// Applies the bulk bar's changes to the selected incidents, then shows the list with the outcome.
pub async fn bulk(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Form(fields): Form<Vec<(String, String)>>,
) -> UiResult {
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    };
    let keys: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k == "key")
        .map(|(_, v)| v.clone())
        .collect();
    let changes = IncidentPatch {
        assignee_id: get("assignee_id").and_then(|v| v.parse().ok()).map(Some),
        status: get("status").and_then(Status::parse),
        urgency: get("urgency").and_then(Level::parse),
        ..Default::default()
    };
    let outcome = if keys.is_empty() {
        "Select at least one incident first.".to_owned()
    } else {
        let result = crate::api::bulk::apply(&state, &who, &keys, &changes).await?;
        let refused: Vec<String> = result
            .results
            .iter()
            .filter(|r| r.status != 200)
            .map(|r| format!("{} ({})", r.key, r.detail.as_deref().unwrap_or("refused")))
            .collect();
        if refused.is_empty() {
            format!("{} incident(s) changed.", result.changed)
        } else {
            format!(
                "{} incident(s) changed; refused: {}",
                result.changed,
                refused.join("; ")
            )
        }
    };
    render_list(&state, &who, ListQuery::default(), Some(outcome)).await
}

/// The select choices of the incident form.
pub struct Choices {
    pub impact: Vec<Opt>,
    pub urgency: Vec<Opt>,
    pub services: Vec<Opt>,
    pub customers: Vec<Opt>,
    pub teams: Vec<Opt>,
    pub agents: Vec<Opt>,
    pub categories: Vec<Opt>,
}

#[derive(Template, WebTemplate)]
#[template(path = "incident_form.html")]
struct FormPage {
    chrome: Chrome,
    heading: String,
    action: String,
    submit: &'static str,
    cancel: String,
    form: FormState,
    choices: Choices,
    custom_fields: Vec<super::requests::FieldView>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
pub struct IncidentForm {
    title: String,
    description: String,
    impact: String,
    urgency: String,
    service_id: String,
    customer_id: String,
    assignee_team_id: String,
    assignee_id: String,
    category_id: String,
    /// Custom field values, posted as `custom.<name>`.
    #[serde(flatten)]
    extra: std::collections::HashMap<String, String>,
}

impl IncidentForm {
    fn of(i: &Incident) -> IncidentForm {
        let id = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        IncidentForm {
            title: i.title.clone(),
            description: i.description.clone(),
            impact: i.impact.to_string(),
            urgency: i.urgency.to_string(),
            service_id: id(i.service_id),
            customer_id: id(i.customer_id),
            assignee_team_id: id(i.assignee_team_id),
            assignee_id: id(i.assignee_id),
            category_id: id(i.category_id),
            extra: classify::custom_form_values(&i.custom.0),
        }
    }

    fn state(&self) -> FormState {
        let mut values: Vec<(&str, &str)> = vec![
            ("title", &self.title),
            ("description", &self.description),
            ("impact", &self.impact),
            ("urgency", &self.urgency),
            ("service_id", &self.service_id),
            ("customer_id", &self.customer_id),
            ("assignee_team_id", &self.assignee_team_id),
            ("assignee_id", &self.assignee_id),
            ("category_id", &self.category_id),
        ];
        values.extend(classify::custom_pairs(&self.extra));
        FormState::with(&values)
    }

    fn level(&self, field: &str, text: &str, errors: &mut Invalid) -> Level {
        Level::parse(text).unwrap_or_else(|| {
            errors.add(field, "Choose high, medium or low");
            Level::Medium
        })
    }

    fn id(field: &str, text: &str, errors: &mut Invalid) -> Option<i64> {
        match text.trim() {
            "" => None,
            t => t.parse().ok().or_else(|| {
                errors.add(field, "Choose from the list");
                None
            }),
        }
    }

    fn create(&self) -> Result<IncidentCreate, Invalid> {
        let mut e = Invalid::new();
        let body = IncidentCreate {
            title: self.title.clone(),
            description: self.description.clone(),
            impact: self.level("impact", &self.impact, &mut e),
            urgency: self.level("urgency", &self.urgency, &mut e),
            service_id: Self::id("service_id", &self.service_id, &mut e),
            customer_id: Self::id("customer_id", &self.customer_id, &mut e),
            requester_contact_id: None,
            assignee_team_id: Self::id("assignee_team_id", &self.assignee_team_id, &mut e),
            assignee_id: Self::id("assignee_id", &self.assignee_id, &mut e),
            source: Some(steward_domain::incident::Source::Phone),
            opened_at: None,
            category_id: Self::id("category_id", &self.category_id, &mut e),
            custom: classify::posted_custom(&self.extra),
            cis: Vec::new(),
        };
        e.into_result(body)
    }

    fn patch(&self) -> Result<IncidentPatch, Invalid> {
        let c = self.create()?;
        Ok(IncidentPatch {
            title: Some(c.title),
            description: Some(c.description),
            impact: Some(c.impact),
            urgency: Some(c.urgency),
            status: None,
            pending_reason: None,
            service_id: Some(c.service_id),
            customer_id: Some(c.customer_id),
            requester_contact_id: None,
            assignee_team_id: Some(c.assignee_team_id),
            assignee_id: Some(c.assignee_id),
            resolution_code: None,
            resolution_notes: None,
            category_id: Some(c.category_id),
            custom: Some(c.custom),
        })
    }
}

async fn render_form(
    state: &AppState,
    who: &Principal,
    editing: Option<&Incident>,
    form: FormState,
    status: StatusCode,
) -> UiResult {
    let names = Names::load(state, who).await?;
    let levels = || {
        Level::ALL
            .iter()
            .rev()
            .map(|l| (l.to_string(), l.to_string()))
    };
    let choices = Choices {
        impact: options(levels(), form.value("impact")),
        urgency: options(levels(), form.value("urgency")),
        services: options(
            Names::choices(&names.services, "— none —"),
            form.value("service_id"),
        ),
        customers: options(
            Names::choices(&names.customers, "— none —"),
            form.value("customer_id"),
        ),
        teams: options(
            Names::choices(&names.teams, "— no team —"),
            form.value("assignee_team_id"),
        ),
        agents: options(
            Names::choices(&names.users, "— nobody —"),
            form.value("assignee_id"),
        ),
        categories: classify::category_choices(
            state,
            who.tenant_id(),
            editing.and_then(|i| i.category_id),
            form.value("category_id"),
        )
        .await?,
    };
    let custom_fields =
        classify::custom_inputs(state, who.tenant_id(), "incident", &names.users).await?;
    let (heading, action, submit, cancel) = match editing {
        None => (
            "New incident".to_owned(),
            "/incidents".to_owned(),
            "Create incident",
            "/incidents".to_owned(),
        ),
        Some(i) => (
            format!("Edit {}", i.key()),
            format!("/incidents/{}/edit", i.key()),
            "Save",
            format!("/incidents/{}", i.key()),
        ),
    };
    let chrome = Chrome::new(state, who, "/incidents").await;
    Ok((
        status,
        FormPage {
            chrome,
            heading,
            action,
            submit,
            cancel,
            form,
            choices,
            custom_fields,
        },
    )
        .into_response())
}

pub async fn new_form(State(state): State<AppState>, who: Can<perm::RecordsWrite>) -> UiResult {
    let blank = IncidentForm {
        impact: "medium".into(),
        urgency: "medium".into(),
        ..Default::default()
    };
    render_form(&state, &who, None, blank.state(), StatusCode::OK).await
}

/// Field errors from an API-level failure, or the failure itself for anything else.
fn field_errors(e: ApiError) -> Result<Invalid, UiError> {
    if e.status() == StatusCode::UNPROCESSABLE_ENTITY {
        Ok(Invalid {
            errors: e.field_errors().to_vec(),
        })
    } else {
        Err(e.into())
    }
}

pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Form(form): Form<IncidentForm>,
) -> UiResult {
    let created = match form.create() {
        Ok(body) => open_incident(&state, &who, body)
            .await
            .map_err(field_errors),
        Err(invalid) => Err(Ok(invalid)),
    };
    match created {
        Ok(i) => Ok(Redirect::to(&format!("/incidents/{}?done=created", i.key())).into_response()),
        Err(Ok(invalid)) => {
            render_form(
                &state,
                &who,
                None,
                form.state().rejected(invalid),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(Err(e)) => Err(e),
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Path(key): Path<String>,
) -> UiResult {
    let incident = find(&state, &who, &key).await?;
    render_form(
        &state,
        &who,
        Some(&incident),
        IncidentForm::of(&incident).state(),
        StatusCode::OK,
    )
    .await
}

pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Path(key): Path<String>,
    Form(form): Form<IncidentForm>,
) -> UiResult {
    let incident = find(&state, &who, &key).await?;
    let saved = match form.patch() {
        Ok(patch) => change_incident(&state, &who, &key, patch)
            .await
            .map_err(field_errors),
        Err(invalid) => Err(Ok(invalid)),
    };
    match saved {
        Ok(i) => Ok(Redirect::to(&format!("/incidents/{}?done=saved", i.key())).into_response()),
        Err(Ok(invalid)) => {
            render_form(
                &state,
                &who,
                Some(&incident),
                form.state().rejected(invalid),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(Err(e)) => Err(e),
    }
}

/// A button offered by the lifecycle.
pub struct Offer {
    pub status: &'static str,
    pub label: &'static str,
    pub primary: bool,
}

fn offer(from: Status, to: Status) -> Offer {
    let label = match (from, to) {
        (Status::Resolved, Status::InProgress) => "Reopen",
        (_, Status::InProgress) => "Start work",
        (_, Status::Pending) => "Wait",
        (_, Status::Resolved) => "Resolve",
        (_, Status::Closed) => "Close",
        (_, Status::Cancelled) => "Cancel incident",
        (_, Status::New) => "New",
    };
    Offer {
        status: to.as_str(),
        label,
        primary: matches!(to, Status::Resolved | Status::Closed | Status::InProgress)
            && from != Status::Resolved,
    }
}

pub struct TimelineItem {
    pub at_micros: i64,
    pub at: String,
    pub who: String,
    pub kind: &'static str,
    pub label: &'static str,
    pub text: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "incident_view.html")]
struct ViewPage {
    chrome: Chrome,
    key: String,
    incident: Incident,
    status_label: &'static str,
    terminal: bool,
    transitions: Vec<Offer>,
    resolution_code: String,
    action_form: FormState,
    reply_form: FormState,
    can_write: bool,
    can_comment: bool,
    /// Whether the "Raise nonconformity" link shows (ISO/IEC 20000-1 10.1).
    can_raise_nonconformity: bool,
    timeline: Vec<TimelineItem>,
    service: String,
    customer: String,
    requester: String,
    team: String,
    assignee: String,
    opened: String,
    first_response: String,
    resolved: String,
    links: Vec<super::problems::LinkRow>,
    link_action: String,
    link_kinds: Vec<Opt>,
    link_form: FormState,
    ke_q: String,
    ke_rows: Vec<super::problems::KnownErrorRow>,
    major: super::major::MajorPanel,
    attachments: Vec<super::attachments::AttachmentRow>,
    upload_action: String,
    attach_form: FormState,
    watchers: Vec<super::attachments::WatcherRow>,
    watch_form: FormState,
    sla: super::sla::SlaPanel,
    category: String,
    /// Custom field values as (label, shown value).
    custom: Vec<(String, String)>,
    /// The CIs the incident is about and the services they hit.
    cis: super::record_cis::CiPanel,
    /// The requester's rating (8.3.2-f), as `4 / 5 — comment`.
    rating: Option<String>,
}

/// What else the record page shows besides the record: forms that came back, lookups asked for.
#[derive(Default)]
pub struct ViewExtras {
    pub action_form: FormState,
    pub reply_form: FormState,
    pub link_form: FormState,
    pub ke_q: String,
    pub major: super::major::MajorForms,
    pub attach_form: FormState,
    pub watch_form: FormState,
    pub sla: super::sla::SlaForms,
    /// The add-a-CI form, as it came back.
    pub cis: FormState,
}

/// Conversation and journal, merged newest first.
async fn timeline(
    state: &AppState,
    who: &Principal,
    incident: &Incident,
) -> Result<Vec<TimelineItem>, UiError> {
    let internal = who.can(Permission::RecordsRead);
    let comments = state
        .store
        .incident_comments(who.tenant_id(), incident.id, !internal)
        .await?;
    let mut items: Vec<TimelineItem> = comments
        .into_iter()
        .map(|c| TimelineItem {
            at_micros: c.created_at,
            at: when(c.created_at),
            who: c.author,
            kind: if c.public { "reply" } else { "note" },
            label: if c.public {
                "public reply"
            } else {
                "internal note"
            },
            text: c.body,
        })
        .collect();
    if internal {
        let filter = JournalFilter {
            record_type: Some("incident".into()),
            record_id: Some(incident.id),
            ..Default::default()
        };
        let page = PageRequest {
            limit: Some(200),
            cursor: None,
        };
        for e in state
            .store
            .journal_entries(who.tenant_id(), &filter, &page)
            .await?
            .items
        {
            items.push(TimelineItem {
                at_micros: e.at_micros,
                at: when(e.at_micros),
                who: e.actor,
                kind: "change",
                label: if e.action == steward_domain::journal::Action::Create {
                    "opened"
                } else {
                    "changed"
                },
                text: summarize(e.before.as_ref(), e.after.as_ref()),
            });
        }
    }
    items.sort_by_key(|i| std::cmp::Reverse(i.at_micros));
    Ok(items)
}

pub(super) async fn render_view(
    state: &AppState,
    who: &Principal,
    key: &str,
    extras: ViewExtras,
    done: Option<&str>,
    status: StatusCode,
) -> UiResult {
    let ViewExtras {
        action_form,
        reply_form,
        link_form,
        ke_q,
        attach_form,
        watch_form,
        major,
        sla,
        cis,
    } = extras;
    let incident = find(state, who, key).await?;
    let ke_rows = if ke_q.trim().is_empty() {
        Vec::new()
    } else {
        let page = PageRequest {
            limit: Some(10),
            cursor: None,
        };
        super::problems::known_error_rows(state, who, &ke_q, &page)
            .await?
            .0
    };
    let names = Names::load(state, who).await?;
    let requester = match (incident.requester_user_id, incident.requester_contact_id) {
        (Some(id), _) => state
            .store
            .user(who.tenant_id(), id)
            .await
            .map(|u| u.name)
            .unwrap_or_default(),
        (None, Some(id)) if who.can(Permission::CustomersRead) => match incident.customer_id {
            Some(customer) => state
                .store
                .contact(who.tenant_id(), customer, id)
                .await
                .map(|c| c.name)
                .unwrap_or_default(),
            None => "—".into(),
        },
        _ => "—".into(),
    };
    let category = classify::category_path(state, who.tenant_id(), incident.category_id).await?;
    let custom = classify::custom_rows(
        state,
        who.tenant_id(),
        "incident",
        &incident.custom.0,
        &names.users,
    )
    .await?;
    let cis = super::record_cis::panel(
        state,
        who,
        crate::api::record_cis::RecordType::Incident,
        &incident.key(),
        incident.id,
        cis,
    )
    .await?;
    // Boxed: the page's future is large already, and tests poll it on a 2 MB stack.
    let rating = Box::pin(super::satisfaction::rating_line(
        state,
        who.tenant_id(),
        incident.id,
    ))
    .await?;
    let page = ViewPage {
        category,
        custom,
        cis,
        rating,
        chrome: Chrome::new(state, who, "/incidents")
            .await
            .with_notice(done),
        key: incident.key(),
        status_label: status_label(incident.status),
        terminal: incident.status.is_terminal(),
        transitions: incident
            .status
            .next()
            .iter()
            .map(|to| offer(incident.status, *to))
            .collect(),
        resolution_code: incident.resolution_code.clone().unwrap_or_default(),
        action_form,
        reply_form,
        can_write: who.can(Permission::RecordsWrite),
        can_comment: !incident.status.is_terminal(),
        can_raise_nonconformity: who.can(Permission::SmsWrite),
        timeline: timeline(state, who, &incident).await?,
        service: Names::of(&names.services, incident.service_id),
        customer: Names::of(&names.customers, incident.customer_id),
        requester,
        team: Names::of(&names.teams, incident.assignee_team_id),
        assignee: Names::of(&names.users, incident.assignee_id),
        opened: when(incident.opened_at),
        first_response: incident.first_response_at.map_or_else(|| "—".into(), when),
        resolved: incident.resolved_at.map_or_else(|| "—".into(), when),
        links: super::problems::link_rows(
            state,
            who,
            steward_domain::problem::RecordKind::Incident,
            &incident.key(),
        )
        .await?,
        link_action: format!("/incidents/{}/links", incident.key()),
        link_kinds: super::problems::link_kinds(link_form.value("kind")),
        link_form,
        ke_q,
        ke_rows,
        major: super::major::panel(state, who, &incident, major).await?,
        attachments: super::attachments::attachment_rows(state, who, &incident).await?,
        upload_action: super::attachments::upload_action(&incident.key(), who.csrf_token()),
        attach_form,
        watchers: super::attachments::watcher_rows(state, who, &incident).await?,
        watch_form,
        sla: super::sla::panel(
            state,
            who,
            steward_domain::sla::RecordKind::Incident,
            incident.id,
            format!("/incidents/{}", incident.key()),
            sla,
        )
        .await?,
        incident,
    };
    Ok((status, page).into_response())
}

pub async fn view(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    Path(key): Path<String>,
    Query(q): Query<ViewQuery>,
) -> UiResult {
    let extras = ViewExtras {
        ke_q: q.ke,
        ..Default::default()
    };
    render_view(
        &state,
        &who,
        &key,
        extras,
        q.done.as_deref(),
        StatusCode::OK,
    )
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ViewQuery {
    done: Option<String>,
    /// Words to look up among the known errors.
    ke: String,
}

pub async fn link(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Path(key): Path<String>,
    Form(form): Form<super::problems::LinkForm>,
) -> UiResult {
    use steward_domain::problem::RecordKind;
    match super::problems::link_from_form(&state, &who, RecordKind::Incident, &key, &form).await {
        Ok(()) => Ok(Redirect::to(&format!("/incidents/{key}?done=saved")).into_response()),
        Err(Ok(link_form)) => {
            let extras = ViewExtras {
                link_form,
                ..Default::default()
            };
            render_view(
                &state,
                &who,
                &key,
                extras,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(Err(e)) => Err(e),
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct StatusForm {
    status: String,
    pending_reason: String,
    resolution_code: String,
}

pub async fn set_status(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Path(key): Path<String>,
    Form(form): Form<StatusForm>,
) -> UiResult {
    let Some(status) = Status::parse(&form.status) else {
        return Err(UiError::NotFound);
    };
    let patch = IncidentPatch {
        title: None,
        description: None,
        impact: None,
        urgency: None,
        status: Some(status),
        pending_reason: PendingReason::parse(&form.pending_reason),
        service_id: None,
        customer_id: None,
        requester_contact_id: None,
        assignee_team_id: None,
        assignee_id: None,
        resolution_code: Some(form.resolution_code.clone()).filter(|c| !c.trim().is_empty()),
        resolution_notes: None,
        category_id: None,
        custom: None,
    };
    match change_incident(&state, &who, &key, patch).await {
        Ok(i) => Ok(Redirect::to(&format!("/incidents/{}?done=saved", i.key())).into_response()),
        Err(e) => {
            let Some(invalid) = e.refusal("status") else {
                return Err(e.into());
            };
            let status = e.status();
            let extras = ViewExtras {
                action_form: FormState::default().rejected(invalid),
                ..Default::default()
            };
            render_view(&state, &who, &key, extras, None, status).await
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ReplyForm {
    body: String,
    public: String,
}

/// Replies from the record page; requesters reply from the portal's copy of the page.
pub async fn reply(
    State(state): State<AppState>,
    who: Principal,
    Path(key): Path<String>,
    Form(form): Form<ReplyForm>,
) -> Result<Response, UiError> {
    let body = CommentCreate {
        body: form.body.clone(),
        public: form.public != "false",
    };
    match comment(&state, &who, &key, body).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("{}?done=saved", record_path(&who, &key))).into_response())
        }
        Err(e) => {
            let invalid = field_errors(e)?;
            let reply_form = FormState::with(&[("body", &form.body)]).rejected(invalid);
            if who.can(Permission::RecordsRead) {
                let extras = ViewExtras {
                    reply_form,
                    ..Default::default()
                };
                render_view(
                    &state,
                    &who,
                    &key,
                    extras,
                    None,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            } else {
                super::portal::render_record(
                    &state,
                    &who,
                    &key,
                    reply_form,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
        }
    }
}

/// Where a person reads a record: the console for agents, the portal for requesters.
pub fn record_path(who: &Principal, key: &str) -> String {
    if who.can(Permission::RecordsRead) {
        format!("/incidents/{key}")
    } else {
        format!("/portal/{key}")
    }
}
