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
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::customer::{ContactDraft, CustomerDraft};
use steward_domain::relationship::RelationshipDraft;
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
    /// Relationship owner choices (8.3.2-b).
    owners: Vec<super::Opt>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct CustomerForm {
    name: String,
    notes: String,
    relationship_owner_id: String,
    review_frequency_months: String,
}

impl CustomerForm {
    fn state(&self) -> FormState {
        FormState::with(&[
            ("name", &self.name),
            ("notes", &self.notes),
            ("relationship_owner_id", &self.relationship_owner_id),
            ("review_frequency_months", &self.review_frequency_months),
        ])
    }

    fn draft(&self) -> CustomerDraft {
        CustomerDraft {
            name: self.name.clone(),
            notes: self.notes.clone(),
        }
    }

    /// Both drafts, every field's error at once.
    fn drafts(&self) -> Result<(CustomerDraft, RelationshipDraft), Invalid> {
        let relationship = super::customer_reviews::relationship_of(
            &self.relationship_owner_id,
            &self.review_frequency_months,
        );
        match (self.draft().validate(), relationship) {
            (Ok(c), Ok(r)) => Ok((c, r)),
            (Err(mut a), Err(b)) => {
                a.errors.extend(b.errors);
                Err(a)
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        }
    }
}

/// Writes a customer and its relationship from the form: the owner is checked before
/// anything is written, and the relationship set only when it differs.
async fn save_customer(
    state: &AppState,
    who: &Principal,
    id: Option<i64>,
    form: &CustomerForm,
) -> Result<Customer, StoreError> {
    let (draft, relationship) = form.drafts()?;
    let t = who.tenant_id();
    state
        .store
        .check_relationship_owner(t, relationship.relationship_owner_id)
        .await?;
    let saved = match id {
        None => state.store.create_customer(t, &draft, &who.actor()).await?,
        Some(id) => {
            state
                .store
                .update_customer(t, id, &draft, &who.actor())
                .await?
        }
    };
    if saved.relationship_owner_id == relationship.relationship_owner_id
        && saved.review_frequency_months == relationship.review_frequency_months
    {
        return Ok(saved);
    }
    state
        .store
        .set_customer_relationship(t, saved.id, &relationship, &who.actor())
        .await
}

async fn render_form(
    state: &AppState,
    who: &Principal,
    editing: Option<&Customer>,
    form: FormState,
    status: StatusCode,
) -> UiResult {
    let chrome = Chrome::new(state, who, "/customers").await;
    let owners = super::people::People::of(state, who.tenant_id())
        .await?
        .options("— nobody yet —", form.value("relationship_owner_id"));
    let page = match editing {
        None => FormPage {
            owners,
            chrome,
            heading: "New customer".into(),
            action: "/customers".into(),
            submit: "Create customer",
            cancel: "/customers".into(),
            form,
        },
        Some(c) => FormPage {
            owners,
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
    let blank = FormState::with(&[("review_frequency_months", "6")]);
    render_form(&state, &who, None, blank, StatusCode::OK).await
}

pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::CustomersWrite>,
    Form(form): Form<CustomerForm>,
) -> UiResult {
    let saved = save_customer(&state, &who, None, &form).await;
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
    /// Relationship owner, service reviews and complaints (8.3.2).
    relationship: super::customer_reviews::RelationshipPanel,
}

async fn render_view(
    state: &AppState,
    who: &Principal,
    id: i64,
    contact_form: FormState,
    done: Option<&str>,
    status: StatusCode,
) -> UiResult {
    render_view_with(
        state,
        who,
        id,
        contact_form,
        FormState::default(),
        done,
        status,
    )
    .await
}

/// The customer's page, with what was typed into the service review form kept.
pub async fn render_view_with(
    state: &AppState,
    who: &Principal,
    id: i64,
    contact_form: FormState,
    review_form: FormState,
    done: Option<&str>,
    status: StatusCode,
) -> UiResult {
    let customer = state.store.customer(who.tenant_id(), id).await?;
    let relationship = Box::pin(super::customer_reviews::RelationshipPanel::load(
        state,
        who,
        &customer,
        review_form,
    ))
    .await?;
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
        relationship,
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
        relationship_owner_id: c
            .relationship_owner_id
            .map(|o| o.to_string())
            .unwrap_or_default(),
        review_frequency_months: c.review_frequency_months.to_string(),
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
    let saved = save_customer(&state, &who, Some(id), &form).await;
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
