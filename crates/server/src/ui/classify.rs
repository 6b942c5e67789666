//! A record's category and custom fields on forms and record pages; incidents, problems and
//! requests share them. Custom fields are posted as `custom.<name>`.

use super::requests::FieldView;
use super::{Opt, UiError, options};
use crate::AppState;
use crate::auth::Principal;
use serde_json::{Map, Value};
use std::collections::HashMap;
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::request::{FieldKind, FormField};
use steward_store::PageRequest;

/// How a stored custom value reads on a page or in a form.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The posted `custom.<name>` values among a form's fields; an empty value clears the field.
pub fn posted_custom(extra: &HashMap<String, String>) -> Map<String, Value> {
    posted_values(extra, "custom.")
}

/// The posted `<prefix><name>` values among a form's fields, by name; empty ones are null.
pub fn posted_values(extra: &HashMap<String, String>, prefix: &str) -> Map<String, Value> {
    extra
        .iter()
        .filter_map(|(k, v)| {
            let name = k.strip_prefix(prefix)?;
            let value = match v.trim() {
                "" => Value::Null,
                t => Value::String(t.to_owned()),
            };
            Some((name.to_owned(), value))
        })
        .collect()
}

/// A record's custom values as form fields named `custom.<name>`.
pub fn custom_form_values(custom: &Map<String, Value>) -> HashMap<String, String> {
    form_values(custom, "custom.")
}

/// Stored values as form fields named `<prefix><name>`.
pub fn form_values(values: &Map<String, Value>, prefix: &str) -> HashMap<String, String> {
    values
        .iter()
        .map(|(k, v)| (format!("{prefix}{k}"), shown(v)))
        .collect()
}

/// The `custom.<name>` pairs of a form's extra fields, for `FormState::with`.
pub fn custom_pairs(extra: &HashMap<String, String>) -> impl Iterator<Item = (&str, &str)> {
    prefixed_pairs(extra, "custom.")
}

/// The `<prefix><name>` pairs of a form's extra fields, for `FormState::with`.
pub fn prefixed_pairs<'a>(
    extra: &'a HashMap<String, String>,
    prefix: &'a str,
) -> impl Iterator<Item = (&'a str, &'a str)> {
    extra
        .iter()
        .filter(move |(k, _)| k.starts_with(prefix))
        .map(|(k, v)| (k.as_str(), v.as_str()))
}

/// The tenant's users by name, for `user` custom fields; empty for roles that may not list users.
pub async fn user_names(state: &AppState, who: &Principal) -> Result<Vec<(i64, String)>, UiError> {
    if !who.can(Permission::UsersRead) {
        return Ok(Vec::new());
    }
    let filter = steward_store::identity::UserFilter {
        sort: Some("name".into()),
        ..Default::default()
    };
    let all = PageRequest {
        limit: Some(500),
        cursor: None,
    };
    Ok(state
        .store
        .users(who.tenant_id(), &filter, &all)
        .await?
        .items
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect())
}

/// The category select: "none", then the live categories in tree order, plus the record's
/// current one (`keep`) even if it has since been retired.
pub async fn category_choices(
    state: &AppState,
    tenant_id: i64,
    keep: Option<i64>,
    selected: &str,
) -> Result<Vec<Opt>, UiError> {
    let tree = state.store.category_tree(tenant_id).await?;
    Ok(options(
        std::iter::once((String::new(), "— none —".to_owned())).chain(
            tree.into_iter()
                .filter(|c| !c.category.retired || keep == Some(c.category.id))
                .map(|c| (c.category.id.to_string(), c.path)),
        ),
        selected,
    ))
}

/// A category's path (`Hardware › Laptops`), or a dash.
pub async fn category_path(
    state: &AppState,
    tenant_id: i64,
    category_id: Option<i64>,
) -> Result<String, UiError> {
    let Some(id) = category_id else {
        return Ok("—".into());
    };
    Ok(state
        .store
        .category_tree(tenant_id)
        .await?
        .into_iter()
        .find(|c| c.category.id == id)
        .map_or_else(|| "—".into(), |c| c.path))
}

/// The custom fields of a kind of record as form inputs named `custom.<name>`; `user` fields
/// offer `users`.
pub async fn custom_inputs(
    state: &AppState,
    tenant_id: i64,
    kind: &str,
    users: &[(i64, String)],
) -> Result<Vec<FieldView>, UiError> {
    let fields = state.store.custom_fields(tenant_id, kind).await?;
    Ok(field_inputs(&fields, "custom.", users))
}

/// Typed fields as form inputs named `<prefix><name>`; `user` fields offer `users`.
pub fn field_inputs(fields: &[FormField], prefix: &str, users: &[(i64, String)]) -> Vec<FieldView> {
    fields
        .iter()
        .map(|f| {
            let mut view = FieldView::from(f);
            view.name = format!("{prefix}{}", f.name);
            if f.kind == FieldKind::User {
                view.users = users
                    .iter()
                    .map(|(id, name)| (id.to_string(), name.clone()))
                    .collect();
            }
            view
        })
        .collect()
}

/// A record's custom values as (label, shown value): in the order of the kind's fields, then
/// values of fields since removed; `user` values are shown by name.
pub async fn custom_rows(
    state: &AppState,
    tenant_id: i64,
    kind: &str,
    values: &Map<String, Value>,
    users: &[(i64, String)],
) -> Result<Vec<(String, String)>, UiError> {
    let fields = state.store.custom_fields(tenant_id, kind).await?;
    Ok(value_rows(&fields, values, users))
}

/// Typed values as (label, shown value): in the order of `fields`, then values no field
/// describes (any more); `user` values are shown by name.
pub fn value_rows(
    fields: &[FormField],
    values: &Map<String, Value>,
    users: &[(i64, String)],
) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    for f in fields {
        let Some(v) = values.get(&f.name) else {
            continue;
        };
        let text = match (f.kind, v.as_i64()) {
            (FieldKind::User, Some(id)) => users
                .iter()
                .find(|(u, _)| *u == id)
                .map_or_else(|| "—".to_owned(), |(_, n)| n.clone()),
            _ => shown(v),
        };
        rows.push((f.label.clone(), text));
    }
    for (name, v) in values {
        if !fields.iter().any(|f| &f.name == name) {
            rows.push((name.clone(), shown(v)));
        }
    }
    rows
}

/// Typed fields as the lines an admin edits: `name | Label | kind | required | a, b`.
pub fn fields_text(fields: &[FormField]) -> String {
    fields
        .iter()
        .map(|f| {
            let required = if f.required { "required" } else { "optional" };
            format!(
                "{} | {} | {} | {required} | {}",
                f.name,
                f.label,
                f.kind.as_str(),
                f.options.join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The lines of `fields_text` back as fields; an unknown kind is an error on `field`. The
/// domain checks the rest (names, labels, options).
pub fn parse_fields(text: &str, field: &str) -> Result<Vec<FormField>, Invalid> {
    let mut fields = Vec::new();
    for (n, line) in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        let kind = match parts.get(2).copied().unwrap_or_default() {
            "" => FieldKind::Text,
            other => FieldKind::parse(other).ok_or_else(|| {
                Invalid::one(field, format!("Line {}: unknown kind `{other}`", n + 1))
            })?,
        };
        fields.push(FormField {
            name: parts.first().copied().unwrap_or_default().to_owned(),
            label: parts.get(1).copied().unwrap_or_default().to_owned(),
            kind,
            required: parts.get(3).is_some_and(|r| *r == "required"),
            options: parts
                .get(4)
                .map(|o| {
                    o.split(',')
                        .map(str::trim)
                        .filter(|o| !o.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_lines_round_trip() {
        let text = "model | Model | select | required | 13-inch, 15-inch\nnotes | Notes\nboss | Boss | user";
        let fields = parse_fields(text, "fields").expect("parse");
        assert_eq!(fields.len(), 3);
        assert_eq!(fields[0].options, ["13-inch", "15-inch"]);
        assert!(fields[0].required && !fields[1].required);
        assert_eq!(fields[2].kind, FieldKind::User);
        assert_eq!(
            parse_fields(&fields_text(&fields), "fields").expect("again"),
            fields
        );
        let bad = parse_fields("a | A | colour", "attributes").expect_err("unknown kind");
        assert_eq!(
            bad.message_for("attributes"),
            Some("Line 1: unknown kind `colour`")
        );
    }
}
