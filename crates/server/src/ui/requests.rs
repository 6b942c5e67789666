//! Service request pages: ordering from the catalogue, the request page with approvals and
//! tasks, the desk's request queues, and catalogue administration.

use super::list_filters::{self, FilterBar, ListFilters};
use super::{Chrome, FormState, Opt, UiError, UiResult, after_save, classify, next_link, when};
use crate::AppState;
use crate::api::requests::{
    DecisionInput, RequestCreate, RequestOut, RequestPatch, change_request, decide, find_request,
    finish_task, raise, request_out,
};
use crate::auth::{Can, Principal, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::request::{
    Decision, FieldKind, FormField, ItemDraft, RequestStatus, TaskTemplate,
};
use steward_store::PageRequest;
use steward_store::request::{CatalogueItem, RequestFilter};

/// How people read a request status.
pub fn status_label(s: RequestStatus) -> &'static str {
    match s {
        RequestStatus::PendingApproval => "waiting for approval",
        RequestStatus::InFulfilment => "being fulfilled",
        RequestStatus::Fulfilled => "fulfilled",
        RequestStatus::Closed => "closed",
        RequestStatus::Rejected => "rejected",
        RequestStatus::Cancelled => "cancelled",
    }
}

/// A form field as the template needs it (kinds as text).
pub struct FieldView {
    pub name: String,
    pub label: String,
    pub kind: &'static str,
    pub required: bool,
    pub options: Vec<String>,
    /// Choices of a `user` field: (id, name).
    pub users: Vec<(String, String)>,
}

impl From<&FormField> for FieldView {
    fn from(f: &FormField) -> Self {
        let kind = match f.kind {
            FieldKind::Text => "text",
            FieldKind::Number => "number",
            FieldKind::Date => "date",
            FieldKind::Select => "select",
            FieldKind::User => "user",
        };
        FieldView {
            name: f.name.clone(),
            label: f.label.clone(),
            kind,
            required: f.required,
            options: f.options.clone(),
            users: Vec::new(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "portal_order.html")]
struct OrderPage {
    chrome: Chrome,
    item: CatalogueItem,
    needs_approval: bool,
    fields: Vec<FieldView>,
    form: FormState,
}

async fn render_order(
    state: &AppState,
    who: &Principal,
    id: i64,
    form: FormState,
    status: StatusCode,
) -> UiResult {
    let item = state.store.item(who.tenant_id(), id).await?;
    if !item.active {
        return Err(UiError::NotFound);
    }
    let page = OrderPage {
        chrome: Chrome::new(state, who, "/portal").await,
        needs_approval: !item.approver_ids.is_empty(),
        fields: item.fields.iter().map(FieldView::from).collect(),
        item,
        form,
    };
    Ok((status, page).into_response())
}

pub async fn order_form(
    State(state): State<AppState>,
    who: Can<perm::RecordsOwn>,
    Path(id): Path<i64>,
) -> UiResult {
    render_order(&state, &who, id, FormState::default(), StatusCode::OK).await
}

pub async fn order(
    State(state): State<AppState>,
    who: Can<perm::RecordsOwn>,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> UiResult {
    let answers: Map<String, Value> = fields
        .iter()
        .filter(|(k, _)| k != "_csrf")
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let saved = raise(
        &state,
        &who,
        RequestCreate {
            item_id: id,
            answers,
            category_id: None,
            custom: Map::new(),
        },
    )
    .await;
    match saved {
        Ok(r) => {
            Ok(Redirect::to(&format!("/portal/requests/{}?done=created", r.key())).into_response())
        }
        Err(e) if e.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            let pairs: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let form = FormState::with(&pairs).rejected(Invalid {
                errors: e.field_errors().to_vec(),
            });
            render_order(&state, &who, id, form, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "request_view.html")]
struct ViewPage {
    chrome: Chrome,
    r: RequestOut,
    status: &'static str,
    status_label: &'static str,
    opened: String,
    base: String,
    answers: Vec<(String, String)>,
    /// Approver name, decision, comment.
    approvals: Vec<(String, &'static str, String)>,
    manual: Vec<(&'static str, &'static str)>,
    can_decide: bool,
    can_work: bool,
    form: FormState,
    /// The desk's view: category and custom fields are shown (not in the portal).
    show_fields: bool,
    /// The category's path, or a dash.
    category: String,
    /// Custom field values as (label, shown value).
    custom: Vec<(String, String)>,
    /// Agents may change the category and custom fields (not once the request is over).
    can_classify: bool,
    categories: Vec<Opt>,
    custom_fields: Vec<FieldView>,
    fields_form: FormState,
    sla: super::sla::SlaPanel,
}

/// `fields_form` is the category and custom fields form as submitted, when it came back
/// refused; otherwise it shows the request's values.
async fn render_view(
    state: &AppState,
    who: &Principal,
    key: &str,
    portal: bool,
    form: FormState,
    fields_form: Option<FormState>,
    status: StatusCode,
) -> UiResult {
    let refused = Refused {
        form,
        fields_form,
        sla: super::sla::SlaForms::default(),
    };
    render_page(state, who, key, portal, refused, status).await
}

/// The desk's request page with the SLA panel's refused form.
pub(super) async fn render_with_sla(
    state: &AppState,
    who: &Principal,
    key: &str,
    sla: super::sla::SlaForms,
    status: StatusCode,
) -> UiResult {
    let refused = Refused {
        form: FormState::default(),
        fields_form: None,
        sla,
    };
    render_page(state, who, key, false, refused, status).await
}

/// Forms of the request page that came back refused.
struct Refused {
    form: FormState,
    fields_form: Option<FormState>,
    sla: super::sla::SlaForms,
}

async fn render_page(
    state: &AppState,
    who: &Principal,
    key: &str,
    portal: bool,
    refused: Refused,
    status: StatusCode,
) -> UiResult {
    let Refused {
        form,
        fields_form,
        sla,
    } = refused;
    let request = find_request(state, who, key).await?;
    if portal && request.requester_user_id != Some(who.user.id) && !who.can(Permission::RecordsRead)
    {
        return Err(UiError::NotFound);
    }
    let item = state.store.item(who.tenant_id(), request.item_id).await?;
    let labels: Vec<(String, String)> = item
        .fields
        .iter()
        .map(|f| (f.name.clone(), f.label.clone()))
        .collect();
    let answers = request
        .answers
        .iter()
        .map(|(k, v)| {
            let label = labels
                .iter()
                .find(|(n, _)| n == k)
                .map_or_else(|| k.clone(), |(_, l)| l.clone());
            let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            (label, text)
        })
        .collect();
    let opened = when(request.opened_at);
    let show_fields = !portal;
    let can_work = who.can(Permission::RecordsWrite) && !portal;
    let can_classify = can_work && !request.status.is_terminal();
    let users = if show_fields {
        classify::user_names(state, who).await?
    } else {
        Vec::new()
    };
    let (category, custom) = if show_fields {
        (
            classify::category_path(state, who.tenant_id(), request.category_id).await?,
            classify::custom_rows(state, who.tenant_id(), "request", &request.custom.0, &users)
                .await?,
        )
    } else {
        ("—".to_owned(), Vec::new())
    };
    let fields_form = fields_form.unwrap_or_else(|| FieldsForm::of(&request).state());
    let (categories, custom_fields) = if can_classify {
        (
            classify::category_choices(
                state,
                who.tenant_id(),
                request.category_id,
                fields_form.value("category_id"),
            )
            .await?,
            classify::custom_inputs(state, who.tenant_id(), "request", &users).await?,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let sla = if portal {
        super::sla::SlaPanel::hidden()
    } else {
        super::sla::panel(
            state,
            who,
            steward_domain::sla::RecordKind::Request,
            request.id,
            format!("/requests/{}", request.key()),
            sla,
        )
        .await?
    };
    let r = request_out(state, who.tenant_id(), request).await?;
    let can_decide = crate::api::requests::may_decide(who)
        && r.status == RequestStatus::PendingApproval
        && r.approvals
            .iter()
            .any(|a| a.approver_id == who.user.id && a.decision == Decision::Pending);
    let mut approvals = Vec::new();
    for a in &r.approvals {
        let name = state
            .store
            .user(who.tenant_id(), a.approver_id)
            .await
            .map(|u| u.name)
            .unwrap_or_default();
        approvals.push((name, a.decision.as_str(), a.comment.clone()));
    }
    let manual = if can_work {
        r.status
            .manual_next()
            .iter()
            .map(|s| {
                let label = match s {
                    RequestStatus::Cancelled => "Cancel request",
                    RequestStatus::Closed => "Close",
                    _ => "Reopen",
                };
                (s.as_str(), label)
            })
            .collect()
    } else {
        Vec::new()
    };
    let base = if portal {
        format!("/portal/requests/{}", r.key)
    } else {
        format!("/requests/{}", r.key)
    };
    let page = ViewPage {
        chrome: Chrome::new(state, who, if portal { "/portal" } else { "/requests" }).await,
        status: r.status.as_str(),
        status_label: status_label(r.status),
        opened,
        base,
        answers,
        approvals,
        manual,
        can_decide,
        can_work,
        form,
        show_fields,
        category,
        custom,
        can_classify,
        categories,
        custom_fields,
        fields_form,
        sla,
        r,
    };
    Ok((status, page).into_response())
}

pub async fn portal_view(
    State(state): State<AppState>,
    who: Can<perm::RecordsOwn>,
    Path(key): Path<String>,
) -> UiResult {
    render_view(
        &state,
        &who,
        &key,
        true,
        FormState::default(),
        None,
        StatusCode::OK,
    )
    .await
}

pub async fn view(
    State(state): State<AppState>,
    who: Principal,
    Path(key): Path<String>,
) -> UiResult {
    render_view(
        &state,
        &who,
        &key,
        false,
        FormState::default(),
        None,
        StatusCode::OK,
    )
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct DecisionForm {
    decision: String,
    comment: String,
}

pub async fn approval(
    State(state): State<AppState>,
    who: Principal,
    Path(key): Path<String>,
    Form(form): Form<DecisionForm>,
) -> UiResult {
    let Some(decision) = Decision::parse(&form.decision) else {
        return Err(UiError::NotFound);
    };
    match decide(
        &state,
        &who,
        &key,
        DecisionInput {
            decision,
            comment: form.comment.clone(),
        },
    )
    .await
    {
        Ok(r) => Ok(Redirect::to(&format!("/requests/{}", r.key())).into_response()),
        Err(e) => {
            let Some(invalid) = e.refusal("decision") else {
                return Err(e.into());
            };
            let values = FormState::with(&[("comment", &form.comment)]).rejected(invalid);
            render_view(&state, &who, &key, false, values, None, e.status()).await
        }
    }
}

pub async fn task_done(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Path((key, task)): Path<(String, i64)>,
) -> UiResult {
    let r = finish_task(&state, &who, &key, task).await?;
    Ok(Redirect::to(&format!("/requests/{}", r.key())).into_response())
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct StatusForm {
    status: String,
}

pub async fn set_status(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Path(key): Path<String>,
    Form(form): Form<StatusForm>,
) -> UiResult {
    let to = RequestStatus::parse(&form.status).ok_or(UiError::NotFound)?;
    let request = find_request(&state, &who, &key).await?;
    match state
        .store
        .set_request_status(who.tenant_id(), request.id, to, &who.actor())
        .await
    {
        Ok(r) => Ok(Redirect::to(&format!("/requests/{}", r.key())).into_response()),
        Err(steward_store::StoreError::Conflict(detail)) => {
            let form = FormState::default().rejected(Invalid::one("status", detail));
            render_view(&state, &who, &key, false, form, None, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The category and custom fields form of the request page.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct FieldsForm {
    category_id: String,
    /// Custom field values, posted as `custom.<name>`.
    #[serde(flatten)]
    extra: HashMap<String, String>,
}

impl FieldsForm {
    fn of(r: &steward_store::request::ServiceRequest) -> FieldsForm {
        FieldsForm {
            category_id: r.category_id.map(|c| c.to_string()).unwrap_or_default(),
            extra: classify::custom_form_values(&r.custom.0),
        }
    }

    fn state(&self) -> FormState {
        let mut values: Vec<(&str, &str)> = vec![("category_id", &self.category_id)];
        values.extend(classify::custom_pairs(&self.extra));
        FormState::with(&values)
    }

    fn patch(&self) -> Result<RequestPatch, Invalid> {
        let category_id = match self.category_id.trim() {
            "" => None,
            t => Some(
                t.parse()
                    .map_err(|_| Invalid::one("category_id", "Choose a category from the list"))?,
            ),
        };
        Ok(RequestPatch {
            status: None,
            category_id: Some(category_id),
            custom: Some(classify::posted_custom(&self.extra)),
        })
    }
}

/// Saves the category and custom fields from the request page; refusals come back on its form.
pub async fn set_fields(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Path(key): Path<String>,
    Form(form): Form<FieldsForm>,
) -> UiResult {
    let saved = match form.patch() {
        Ok(patch) => change_request(&state, &who, &key, patch)
            .await
            .map_err(|e| match e.refusal("category_id") {
                Some(invalid) => Ok((invalid, e.status())),
                None => Err(UiError::from(e)),
            }),
        Err(invalid) => Err(Ok((invalid, StatusCode::UNPROCESSABLE_ENTITY))),
    };
    match saved {
        Ok(r) => Ok(Redirect::to(&format!("/requests/{}", r.key())).into_response()),
        // A request that has since ended shows no form: its refusal goes on top of the page.
        Err(Ok((invalid, StatusCode::CONFLICT))) => {
            let refused = FormState::default().rejected(invalid);
            render_view(
                &state,
                &who,
                &key,
                false,
                refused,
                None,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(Ok((invalid, status))) => {
            let fields_form = form.state().rejected(invalid);
            render_view(
                &state,
                &who,
                &key,
                false,
                FormState::default(),
                Some(fields_form),
                status,
            )
            .await
        }
        Err(Err(e)) => Err(e),
    }
}

pub struct Row {
    pub key: String,
    pub title: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub progress: String,
    pub opened: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "requests_list.html")]
struct ListPage {
    chrome: Chrome,
    queues: Vec<(&'static str, &'static str)>,
    queue: String,
    rows: Vec<Row>,
    next: Option<String>,
    can_manage: bool,
    filters: FilterBar,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    queue: String,
    cursor: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    Query(q): Query<ListQuery>,
    RawQuery(raw): RawQuery,
) -> UiResult {
    let queue = if q.queue.is_empty() {
        "open".to_owned()
    } else {
        q.queue.clone()
    };
    let filter = match queue.as_str() {
        "approval" => RequestFilter {
            awaiting_approver: Some(who.user.id),
            ..Default::default()
        },
        "all" => RequestFilter::default(),
        _ => RequestFilter {
            statuses: vec![
                RequestStatus::PendingApproval,
                RequestStatus::InFulfilment,
                RequestStatus::Fulfilled,
            ],
            ..Default::default()
        },
    };
    let filtering = ListFilters::parse(raw.as_deref().unwrap_or_default());
    let filter = RequestFilter {
        category_id: filtering.category_id,
        custom: filtering.custom.clone(),
        ..filter
    };
    let page = PageRequest {
        limit: Some(50),
        cursor: q.cursor,
    };
    let found = state.store.requests(who.tenant_id(), &filter, &page).await;
    let (found, refused) = match list_filters::or_refused(found) {
        Err(steward_store::StoreError::Invalid(_)) => {
            return Ok(Redirect::to("/requests").into_response());
        }
        other => other?,
    };
    let users = classify::user_names(&state, &who).await?;
    let filters = FilterBar::load(
        &state,
        who.tenant_id(),
        "request",
        "/requests",
        &[("queue", queue.as_str())],
        &filtering,
        &users,
    )
    .await?
    .refused(refused);
    let mut link_pairs = vec![("queue".to_owned(), queue.clone())];
    link_pairs.extend(filtering.pairs());
    let mut rows = Vec::with_capacity(found.items.len());
    for r in found.items {
        let tasks = state.store.tasks(who.tenant_id(), r.id).await?;
        rows.push(Row {
            key: r.key(),
            status: r.status.as_str(),
            status_label: status_label(r.status),
            progress: format!(
                "{} of {}",
                tasks.iter().filter(|t| t.done).count(),
                tasks.len()
            ),
            opened: when(r.opened_at),
            title: r.title,
        });
    }
    let page = ListPage {
        chrome: Chrome::new(&state, &who, "/requests").await,
        queues: vec![
            ("open", "Open"),
            ("approval", "Waiting for my approval"),
            ("all", "All"),
        ],
        next: next_link(
            "/requests",
            &link_pairs
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
            found.next_cursor,
        ),
        queue,
        rows,
        can_manage: who.can(Permission::ServicesWrite),
        filters,
    };
    Ok(page.into_response())
}

pub struct Person {
    pub id: i64,
    pub label: String,
    pub selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "catalogue.html")]
struct CataloguePage {
    chrome: Chrome,
    items: Vec<CatalogueItem>,
    people: Vec<Person>,
    form_heading: String,
    form_action: String,
    form_submit: &'static str,
    form: FormState,
}

struct Editing {
    heading: String,
    action: String,
    submit: &'static str,
    approvers: Vec<i64>,
}

async fn render_catalogue(
    state: &AppState,
    who: &Principal,
    editing: Editing,
    form: FormState,
    status: StatusCode,
) -> UiResult {
    let items = state.store.items(who.tenant_id(), false).await?;
    let filter = steward_store::identity::UserFilter {
        active: Some(true),
        sort: Some("name".into()),
        ..Default::default()
    };
    let users = state
        .store
        .users(
            who.tenant_id(),
            &filter,
            &PageRequest {
                limit: Some(500),
                cursor: None,
            },
        )
        .await?;
    let people = users
        .items
        .into_iter()
        .filter(|u| u.role != steward_domain::access::Role::Requester)
        .map(|u| Person {
            selected: editing.approvers.contains(&u.id),
            id: u.id,
            label: format!("{} <{}>", u.name, u.email),
        })
        .collect();
    let page = CataloguePage {
        chrome: Chrome::new(state, who, "/requests").await,
        items,
        people,
        form_heading: editing.heading,
        form_action: editing.action,
        form_submit: editing.submit,
        form,
    };
    Ok((status, page).into_response())
}

fn new_item() -> Editing {
    Editing {
        heading: "New catalogue item".into(),
        action: "/catalogue".into(),
        submit: "Create item",
        approvers: Vec::new(),
    }
}

pub async fn catalogue(State(state): State<AppState>, who: Can<perm::ServicesWrite>) -> UiResult {
    render_catalogue(
        &state,
        &who,
        new_item(),
        FormState::with(&[("active", "true")]),
        StatusCode::OK,
    )
    .await
}

pub async fn edit_item(
    State(state): State<AppState>,
    who: Can<perm::ServicesWrite>,
    Path(id): Path<i64>,
) -> UiResult {
    let item = state.store.item(who.tenant_id(), id).await?;
    let tasks = item
        .tasks
        .iter()
        .map(|t| t.title.clone())
        .collect::<Vec<_>>()
        .join("\n");
    let fields = classify::fields_text(&item.fields);
    let form = FormState::with(&[
        ("name", &item.name),
        ("description", &item.description),
        ("category", &item.category),
        ("fields", &fields),
        ("tasks", &tasks),
        ("active", if item.active { "true" } else { "false" }),
    ]);
    let editing = Editing {
        heading: format!("Edit {}", item.name),
        action: format!("/catalogue/{id}"),
        submit: "Save item",
        approvers: item.approver_ids,
    };
    render_catalogue(&state, &who, editing, form, StatusCode::OK).await
}

/// Reads the catalogue form (repeated `approver` fields) into a draft and the values typed.
fn item_from(fields: &[(String, String)]) -> (Result<ItemDraft, Invalid>, FormState, Vec<i64>) {
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let approvers: Vec<i64> = fields
        .iter()
        .filter(|(k, _)| k == "approver")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    let values = FormState::with(&[
        ("name", get("name")),
        ("description", get("description")),
        ("category", get("category")),
        ("fields", get("fields")),
        ("tasks", get("tasks")),
        ("active", get("active")),
    ]);
    let draft = classify::parse_fields(get("fields"), "fields").and_then(|form_fields| {
        ItemDraft {
            name: get("name").to_owned(),
            description: get("description").to_owned(),
            category: get("category").to_owned(),
            fields: form_fields,
            approver_ids: approvers.clone(),
            tasks: get("tasks")
                .lines()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(|t| TaskTemplate {
                    title: t.to_owned(),
                    team_id: None,
                })
                .collect(),
            active: get("active") == "true",
        }
        .validate()
    });
    (draft, values, approvers)
}

async fn save(
    state: &AppState,
    who: &Principal,
    id: Option<i64>,
    fields: Vec<(String, String)>,
) -> UiResult {
    let (draft, values, approvers) = item_from(&fields);
    let saved = async {
        state
            .store
            .save_item(who.tenant_id(), id, &draft?, &who.actor())
            .await
    }
    .await;
    let editing = match id {
        Some(id) => Editing {
            heading: "Edit catalogue item".into(),
            action: format!("/catalogue/{id}"),
            submit: "Save item",
            approvers,
        },
        None => Editing {
            approvers,
            ..new_item()
        },
    };
    after_save(
        saved,
        |_| "/catalogue".to_owned(),
        |invalid| {
            render_catalogue(
                state,
                who,
                editing,
                values.rejected(invalid),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        },
    )
    .await
}

pub async fn create_item(
    State(state): State<AppState>,
    who: Can<perm::ServicesWrite>,
    Form(fields): Form<Vec<(String, String)>>,
) -> UiResult {
    save(&state, &who, None, fields).await
}

pub async fn update_item(
    State(state): State<AppState>,
    who: Can<perm::ServicesWrite>,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> UiResult {
    save(&state, &who, Some(id), fields).await
}
