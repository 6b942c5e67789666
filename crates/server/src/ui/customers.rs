//! Customer pages, with contacts managed on the customer's page.

use super::session::DoneQuery;
use super::{Chrome, FormState, HistoryRow, Id, UiResult, after_save, history, next_link, when};
use crate::AppState;
use crate::auth::{Can, Principal, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use steward_domain::access::Permission;
use steward_domain::customer::{ContactDraft, CustomerDraft};
use steward_store::customer::{Contact, Customer, CustomerFilter};
use steward_store::{PageRequest, StoreError};

pub struct Row {
    pub id: i64,
    pub name: String,
    pub notes: String,
    pub updated: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "customers_list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    q: String,
    next: Option<String>,
    can_write: bool,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    q: String,
    cursor: Option<String>,
    done: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::CustomersRead>,
    Query(q): Query<ListQuery>,
) -> UiResult {
    let filter = CustomerFilter {
        q: Some(q.q.clone()),
        sort: None,
    };
    let page = PageRequest {
        limit: Some(50),
        cursor: q.cursor,
    };
    let found = match state.store.customers(who.tenant_id(), &filter, &page).await {
        Err(StoreError::Invalid(_)) => return Ok(Redirect::to("/customers").into_response()),
        other => other?,
    };
    let rows = found
        .items
        .into_iter()
        .map(|c| Row {
            id: c.id,
            notes: c.notes.chars().take(80).collect(),
            updated: when(c.updated_at),
            name: c.name,
        })
        .collect();
    let chrome = Chrome::new(&state, &who, "/customers")
        .await
        .with_notice(q.done.as_deref());
    let next = next_link("/customers", &[("q", &q.q)], found.next_cursor);
    Ok(ListPage {
        chrome,
        rows,
        q: q.q,
        next,
        can_write: who.can(Permission::CustomersWrite),
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "customer_form.html")]
struct FormPage {
    chrome: Chrome,
    heading: String,
    action: String,
    submit: &'static str,
    cancel: String,
    form: FormState,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct CustomerForm {
    name: String,
    notes: String,
}

impl CustomerForm {
    fn state(&self) -> FormState {
        FormState::with(&[("name", &self.name), ("notes", &self.notes)])
    }

    fn draft(&self) -> CustomerDraft {
        CustomerDraft {
            name: self.name.clone(),
            notes: self.notes.clone(),
        }
    }
}

async fn render_form(
    state: &AppState,
    who: &Principal,
    editing: Option<&Customer>,
    form: FormState,
    status: StatusCode,
) -> UiResult {
    let chrome = Chrome::new(state, who, "/customers").await;
    let page = match editing {
        None => FormPage {
            chrome,
            heading: "New customer".into(),
            action: "/customers".into(),
            submit: "Create customer",
            cancel: "/customers".into(),
            form,
        },
        Some(c) => FormPage {
            chrome,
            heading: format!("Edit {}", c.name),
            action: format!("/customers/{}", c.id),
            submit: "Save",
            cancel: format!("/customers/{}", c.id),
            form,
        },
    };
    Ok((status, page).into_response())
}

pub async fn new_form(State(state): State<AppState>, who: Can<perm::CustomersWrite>) -> UiResult {
    render_form(&state, &who, None, FormState::default(), StatusCode::OK).await
}

pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::CustomersWrite>,
    Form(form): Form<CustomerForm>,
) -> UiResult {
    let saved = async {
        let draft = form.draft().validate()?;
        state
            .store
            .create_customer(who.tenant_id(), &draft, &who.actor())
            .await
    }
    .await;
    after_save(
        saved,
        |c| format!("/customers/{}?done=created", c.id),
        |invalid| {
            render_form(
                &state,
                &who,
                None,
                form.state().rejected(invalid),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        },
    )
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "customer_view.html")]
struct ViewPage {
    chrome: Chrome,
    customer: Customer,
    contacts: Vec<Contact>,
    contact_form: FormState,
    can_write: bool,
    history: Option<Vec<HistoryRow>>,
}

async fn render_view(
    state: &AppState,
    who: &Principal,
    id: i64,
    contact_form: FormState,
    done: Option<&str>,
    status: StatusCode,
) -> UiResult {
    let customer = state.store.customer(who.tenant_id(), id).await?;
    let contacts = state.store.contacts(who.tenant_id(), id).await?;
    let chrome = Chrome::new(state, who, "/customers")
        .await
        .with_notice(done);
    let page = ViewPage {
        chrome,
        customer,
        contacts,
        contact_form,
        can_write: who.can(Permission::CustomersWrite),
        history: history(state, who, "customer", id).await,
    };
    Ok((status, page).into_response())
}

pub async fn view(
    State(state): State<AppState>,
    who: Can<perm::CustomersRead>,
    Id(id): Id<i64>,
    Query(q): Query<DoneQuery>,
) -> UiResult {
    render_view(
        &state,
        &who,
        id,
        FormState::default(),
        q.done.as_deref(),
        StatusCode::OK,
    )
    .await
}

pub async fn edit_form(
    State(state): State<AppState>,
    who: Can<perm::CustomersWrite>,
    Id(id): Id<i64>,
) -> UiResult {
    let c = state.store.customer(who.tenant_id(), id).await?;
    let form = CustomerForm {
        name: c.name.clone(),
        notes: c.notes.clone(),
    }
    .state();
    render_form(&state, &who, Some(&c), form, StatusCode::OK).await
}

pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::CustomersWrite>,
    Id(id): Id<i64>,
    Form(form): Form<CustomerForm>,
) -> UiResult {
    let current = state.store.customer(who.tenant_id(), id).await?;
    let saved = async {
        let draft = form.draft().validate()?;
        state
            .store
            .update_customer(who.tenant_id(), id, &draft, &who.actor())
            .await
    }
    .await;
    after_save(
        saved,
        |_| format!("/customers/{id}?done=saved"),
        |invalid| {
            render_form(
                &state,
                &who,
                Some(&current),
                form.state().rejected(invalid),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        },
    )
    .await
}

pub async fn delete(
    State(state): State<AppState>,
    who: Can<perm::CustomersWrite>,
    Id(id): Id<i64>,
) -> UiResult {
    state
        .store
        .delete_customer(who.tenant_id(), id, &who.actor())
        .await?;
    Ok(Redirect::to("/customers?done=deleted").into_response())
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ContactForm {
    name: String,
    email: String,
    phone: String,
}

pub async fn add_contact(
    State(state): State<AppState>,
    who: Can<perm::CustomersWrite>,
    Id(id): Id<i64>,
    Form(form): Form<ContactForm>,
) -> UiResult {
    let draft = ContactDraft {
        name: form.name.clone(),
        email: form.email.clone(),
        phone: form.phone.clone(),
    };
    let saved = async {
        let draft = draft.validate()?;
        state
            .store
            .create_contact(who.tenant_id(), id, &draft, &who.actor())
            .await
    }
    .await;
    after_save(
        saved,
        |_| format!("/customers/{id}?done=saved"),
        |invalid| async move {
            let state_form = FormState::with(&[
                ("name", &form.name),
                ("email", &form.email),
                ("phone", &form.phone),
            ])
            .rejected(invalid);
            render_view(
                &state,
                &who,
                id,
                state_form,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        },
    )
    .await
}

pub async fn remove_contact(
    State(state): State<AppState>,
    who: Can<perm::CustomersWrite>,
    Id((id, contact_id)): Id<(i64, i64)>,
) -> UiResult {
    state
        .store
        .delete_contact(who.tenant_id(), id, contact_id, &who.actor())
        .await?;
    Ok(Redirect::to(&format!("/customers/{id}?done=deleted")).into_response())
}
