//! One form for the management system's registers (risks, objectives, improvements): a list of
//! fields drawn by one template, what was posted kept as text, and the outcome of a save, either
//! the record's page or the form again with the refusal beside the fields.
//!
//! Each register says which fields it has and how they become its domain draft; parsing,
//! validation and the store stay its own, so the form refuses what the API refuses.

use super::people::People;
use super::{Chrome, FormState, Opt, UiResult};
use crate::AppState;
use crate::auth::Principal;
use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use std::collections::HashMap;
use steward_domain::Invalid;
use steward_store::Actor;
use steward_store::StoreError;

/// How a field is typed in.
pub enum Input {
    Text,
    Area,
    Date,
    Number,
    Select(Vec<Opt>),
}

/// One field of a register's form.
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub input: Input,
    pub required: bool,
    /// A line under the field saying what it is for; empty for none.
    pub hint: &'static str,
}

impl Field {
    pub fn new(name: &'static str, label: &'static str, input: Input) -> Field {
        Field {
            name,
            label,
            input,
            required: false,
            hint: "",
        }
    }

    pub fn required(mut self) -> Field {
        self.required = true;
        self
    }

    pub fn hint(mut self, hint: &'static str) -> Field {
        self.hint = hint;
        self
    }

    /// The HTML input type of a one-line field.
    pub fn input_type(&self) -> &'static str {
        match self.input {
            Input::Date => "date",
            Input::Number => "number",
            _ => "text",
        }
    }

    pub fn is_area(&self) -> bool {
        matches!(self.input, Input::Area)
    }

    pub fn choices(&self) -> Option<&[Opt]> {
        match &self.input {
            Input::Select(options) => Some(options),
            _ => None,
        }
    }
}

/// What a form posted, as typed: the fields by name and the `updated_at` an edit was drawn from.
#[derive(Debug, Default)]
pub struct Posted {
    fields: HashMap<String, String>,
    pub seen: Option<i64>,
}

impl Posted {
    /// Keeps the posted pairs named in `names` (anything else, `_csrf` included, is dropped).
    pub fn parse(pairs: Vec<(String, String)>, names: &[&str]) -> Posted {
        let mut posted = Posted::default();
        for (k, v) in pairs {
            if k == "updated_at" {
                posted.seen = v.trim().parse().ok();
            } else if names.contains(&k.as_str()) {
                posted.fields.insert(k, v);
            }
        }
        posted
    }

    /// A record's fields as an edit form starts them.
    pub fn of(values: Vec<(&str, String)>, seen: Option<i64>) -> Posted {
        Posted {
            fields: values.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            seen,
        }
    }

    pub fn get(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }

    pub fn state(&self) -> FormState {
        let values: Vec<(&str, &str)> = self
            .fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        FormState::with(&values)
    }
}

/// Reads an optional number field; anything but a number is a field error.
pub fn number(errors: &mut Invalid, field: &str, label: &str, text: &str) -> Option<f64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    match text.replace(',', ".").parse::<f64>() {
        Ok(v) if v.is_finite() => Some(v),
        _ => {
            errors.add(field, format!("{label} must be a number"));
            None
        }
    }
}

/// Reads an optional id picked from a list.
pub fn picked(errors: &mut Invalid, field: &str, text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let id = text.parse().ok().filter(|id: &i64| *id > 0);
    if id.is_none() {
        errors.add(field, "Choose someone from the list");
    }
    id
}

/// Reads a select's value as one of an enum's, by its text.
pub fn chosen<T>(
    errors: &mut Invalid,
    field: &str,
    text: &str,
    parse: fn(&str) -> Option<T>,
) -> Option<T> {
    let value = parse(text.trim());
    if value.is_none() {
        errors.add(field, "Choose one of the listed values");
    }
    value
}

/// Folds the field errors read from text with those the domain found in the draft.
pub fn joined<T>(mut read: Invalid, draft: Result<T, Invalid>) -> Result<T, Invalid> {
    match draft {
        Ok(draft) => read.into_result(draft),
        Err(more) => {
            read.errors.extend(more.errors);
            Err(read)
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "sms/form.html")]
pub struct FormPage {
    pub chrome: Chrome,
    pub heading: String,
    pub intro: &'static str,
    pub action: String,
    pub submit: &'static str,
    pub cancel: String,
    pub form: FormState,
    pub seen: Option<i64>,
    pub fields: Vec<Field>,
}

/// A register edited through the shared form: how a record is loaded, shown in the form,
/// checked and stored. The page handlers of each register are then one line each.
pub trait Register {
    type Record: Send + Sync;
    /// What the form is read into and the store checks and keeps.
    type Draft: Send + Sync;
    /// Where its list lives; a record's page is `{HREF}/{id}`.
    const HREF: &'static str;
    /// The names of the form's fields (anything else posted is dropped).
    const FIELDS: &'static [&'static str];
    /// The new form's heading, introduction and button.
    const NEW: (&'static str, &'static str, &'static str);

    fn id(record: &Self::Record) -> i64;
    fn updated_at(record: &Self::Record) -> i64;
    /// The edit form's heading and introduction.
    fn editing(record: &Self::Record) -> (String, &'static str);
    /// A record's fields as the edit form starts them.
    fn values(record: &Self::Record) -> Vec<(&'static str, String)>;
    /// The form's fields, with `form`'s values selected in its pickers.
    fn fields(form: &FormState, people: &People) -> Vec<Field>;
    fn load(
        state: &AppState,
        tenant_id: i64,
        id: i64,
    ) -> impl Future<Output = Result<Self::Record, StoreError>> + Send;
    /// Reads what was posted into the register's draft: what the API would refuse is refused.
    fn draft(posted: &Posted) -> Result<Self::Draft, Invalid>;
    fn create(
        state: &AppState,
        tenant_id: i64,
        draft: &Self::Draft,
        actor: &Actor,
    ) -> impl Future<Output = Result<Self::Record, StoreError>> + Send;
    /// Replaces the record's fields if it has not changed since `seen` (its `updated_at`).
    fn update(
        state: &AppState,
        tenant_id: i64,
        id: i64,
        seen: i64,
        draft: &Self::Draft,
        actor: &Actor,
    ) -> impl Future<Output = Result<Self::Record, StoreError>> + Send;
    /// The record's page, with `done`'s notice.
    fn page(
        state: &AppState,
        who: &Principal,
        id: i64,
        done: Option<&str>,
    ) -> impl Future<Output = UiResult> + Send;
}

/// Checks what was posted and creates the record (no `current`) or updates it; its id.
async fn store<R: Register>(
    state: &AppState,
    who: &Principal,
    current: Option<&R::Record>,
    posted: &Posted,
) -> Result<i64, StoreError> {
    let draft = R::draft(posted)?;
    let (t, actor) = (who.tenant_id(), who.actor());
    let saved = match current {
        None => R::create(state, t, &draft, &actor).await?,
        Some(record) => {
            let seen = posted.seen.unwrap_or(R::updated_at(record));
            R::update(state, t, R::id(record), seen, &draft, &actor).await?
        }
    };
    Ok(R::id(&saved))
}

/// The register's form: blank or as typed for a new record, or editing `editing`.
pub async fn form<R: Register>(
    state: &AppState,
    who: &Principal,
    editing: Option<&R::Record>,
    form: FormState,
    seen: Option<i64>,
    status: StatusCode,
) -> UiResult {
    let people = People::of(state, who.tenant_id()).await?;
    let (heading, intro, submit, action) = match editing {
        None => {
            let (heading, intro, submit) = R::NEW;
            (heading.to_owned(), intro, submit, R::HREF.to_owned())
        }
        Some(record) => {
            let (heading, intro) = R::editing(record);
            (
                heading,
                intro,
                "Save",
                format!("{}/{}", R::HREF, R::id(record)),
            )
        }
    };
    let page = FormPage {
        chrome: Chrome::new(state, who, super::sms::NAV_HREF).await,
        fields: R::fields(&form, &people),
        heading,
        intro,
        cancel: action.clone(),
        action,
        submit,
        form,
        seen,
    };
    Ok((status, page).into_response())
}

/// The edit form of record `id`.
pub async fn edit<R: Register>(state: &AppState, who: &Principal, id: i64) -> UiResult {
    let record = R::load(state, who.tenant_id(), id).await?;
    let posted = Posted::of(R::values(&record), Some(R::updated_at(&record)));
    form::<R>(
        state,
        who,
        Some(&record),
        posted.state(),
        posted.seen,
        StatusCode::OK,
    )
    .await
}

/// Saves a posted form as a new record (no `id`) or over record `id`: the record's page with a
/// notice, or the form again with the refusal beside the fields and what was typed (an edit
/// over someone else's becomes a form-level message).
pub async fn save<R: Register>(
    state: &AppState,
    who: &Principal,
    id: Option<i64>,
    pairs: Vec<(String, String)>,
) -> UiResult {
    let current = match id {
        Some(id) => Some(R::load(state, who.tenant_id(), id).await?),
        None => None,
    };
    let posted = Posted::parse(pairs, R::FIELDS);
    let refusal = match store::<R>(state, who, current.as_ref(), &posted).await {
        Ok(id) => return Ok(super::saved_page(R::HREF, id, current.is_some())),
        Err(e) => super::refusal(e, "form")?,
    };
    form::<R>(
        state,
        who,
        current.as_ref(),
        posted.state().rejected(refusal),
        posted.seen,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

/// The page handlers every register shares; its module keeps only the blank new form.
pub async fn edit_form<R: Register>(
    axum::extract::State(state): axum::extract::State<AppState>,
    who: crate::auth::Can<crate::auth::perm::SmsWrite>,
    super::Id(id): super::Id<i64>,
) -> UiResult {
    edit::<R>(&state, &who, id).await
}

pub async fn create<R: Register>(
    axum::extract::State(state): axum::extract::State<AppState>,
    who: crate::auth::Can<crate::auth::perm::SmsWrite>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> UiResult {
    save::<R>(&state, &who, None, pairs).await
}

/// A record's page.
pub async fn view<R: Register>(
    axum::extract::State(state): axum::extract::State<AppState>,
    who: crate::auth::Can<crate::auth::perm::SmsRead>,
    super::Id(id): super::Id<i64>,
    axum::extract::Query(q): axum::extract::Query<super::session::DoneQuery>,
) -> UiResult {
    R::page(&state, &who, id, q.done.as_deref()).await
}

pub async fn update<R: Register>(
    axum::extract::State(state): axum::extract::State<AppState>,
    who: crate::auth::Can<crate::auth::perm::SmsWrite>,
    super::Id(id): super::Id<i64>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> UiResult {
    save::<R>(&state, &who, Some(id), pairs).await
}
