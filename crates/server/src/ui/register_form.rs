//! One form for the management system's registers (risks, objectives, improvements): a list of
//! fields drawn by one template, what was posted kept as text, and the outcome of a save, either
//! the record's page or the form again with the refusal beside the fields.
//!
//! Each register says which fields it has and how they become its domain draft; parsing,
//! validation and the store stay its own, so the form refuses what the API refuses.

use super::{Chrome, FormState, Opt, UiResult};
use crate::AppState;
use crate::auth::Principal;
use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;
use steward_domain::Invalid;
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

/// What a register's page needs to draw its form.
pub struct Frame {
    pub nav: &'static str,
    pub heading: String,
    pub intro: &'static str,
    pub action: String,
    pub submit: &'static str,
    pub cancel: String,
}

pub async fn render(
    state: &AppState,
    who: &Principal,
    frame: Frame,
    fields: Vec<Field>,
    form: FormState,
    seen: Option<i64>,
    status: StatusCode,
) -> UiResult {
    let page = FormPage {
        chrome: Chrome::new(state, who, frame.nav).await,
        heading: frame.heading,
        intro: frame.intro,
        action: frame.action,
        submit: frame.submit,
        cancel: frame.cancel,
        form,
        seen,
        fields,
    };
    Ok((status, page).into_response())
}

/// Where a save ends: the record's page at `{base}/{id}` with a notice, or the refusal to show
/// beside the fields (an edit over someone else's becomes a form-level message).
pub fn saved(
    result: Result<i64, StoreError>,
    base: &str,
    created: bool,
) -> Result<Response, Result<Invalid, StoreError>> {
    match result {
        Ok(id) => {
            let done = if created { "created" } else { "saved" };
            Ok(Redirect::to(&format!("{base}/{id}?done={done}")).into_response())
        }
        Err(StoreError::Invalid(invalid)) => Err(Ok(invalid)),
        Err(StoreError::Conflict(message)) => Err(Ok(Invalid::one("form", message))),
        Err(e) => Err(Err(e)),
    }
}
