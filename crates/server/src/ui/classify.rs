//! A record's category and custom fields on forms and record pages; incidents, problems and
//! requests share them. Custom fields are posted as `custom.<name>`.

use super::requests::FieldView;
use super::{Opt, UiError, options};
use crate::AppState;
use crate::auth::Principal;
use serde_json::{Map, Value};
use std::collections::HashMap;
use steward_domain::access::Permission;
use steward_domain::request::FieldKind;
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
    extra
        .iter()
        .filter_map(|(k, v)| {
            let name = k.strip_prefix("custom.")?;
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
    custom
        .iter()
        .map(|(k, v)| (format!("custom.{k}"), shown(v)))
        .collect()
}

/// The `custom.<name>` pairs of a form's extra fields, for `FormState::with`.
pub fn custom_pairs(extra: &HashMap<String, String>) -> impl Iterator<Item = (&str, &str)> {
    extra
        .iter()
        .filter(|(k, _)| k.starts_with("custom."))
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
    Ok(state
        .store
        .custom_fields(tenant_id, kind)
        .await?
        .iter()
        .map(|f| {
            let mut view = FieldView::from(f);
            view.name = format!("custom.{}", f.name);
            if f.kind == FieldKind::User {
                view.users = users
                    .iter()
                    .map(|(id, name)| (id.to_string(), name.clone()))
                    .collect();
            }
            view
        })
        .collect())
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
    let mut rows = Vec::new();
    for f in &fields {
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
    Ok(rows)
}
