//! Conditions the lists of incidents, problems and requests share: "in this category or one of
//! its subcategories", and "this custom field holds this value".
//!
//! Custom values live in each record's `custom_json` (a JSON object in a TEXT column). A value
//! is compared by its text form, read with `json_extract` on SQLite and `->>` on PostgreSQL;
//! the field name and the value are bound, never spliced into the SQL.

use crate::db::Sql;
use crate::{Backend, Store, StoreResult};
use serde_json::{Map, Value};
use steward_domain::Invalid;
use steward_domain::request::{FieldKind, FormField, check_answers};

/// One custom-field condition, ready to append: the field, how to compare, the text to match.
struct CustomCondition {
    name: String,
    kind: FieldKind,
    text: String,
}

/// The text form of a stored value, as `json_extract` (cast to TEXT) and `->>` read it.
fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `AND category_id IN (category and its subcategories)`.
fn in_category(q: Sql, tenant_id: i64, category_id: i64) -> Sql {
    q.push_bound(
        " AND category_id IN (WITH RECURSIVE sub(id) AS (SELECT id FROM categories WHERE tenant_id = {}",
        tenant_id,
    )
    .push_bound(
        " AND id = {} UNION ALL SELECT c.id FROM categories c JOIN sub ON c.parent_id = sub.id) SELECT id FROM sub)",
        category_id,
    )
}

/// `AND <stored value of the field> = <text>`: text fields without regard to case (`LOWER` on
/// both sides, so each backend folds both the same way), every other kind exactly.
fn custom_condition(backend: Backend, q: Sql, c: CustomCondition) -> Sql {
    let (open, close) = if c.kind == FieldKind::Text {
        ("LOWER(", ")")
    } else {
        ("", "")
    };
    let q = match backend {
        Backend::Sqlite => q.push_bound(
            &format!(" AND {open}CAST(json_extract(custom_json, {{}}) AS TEXT){close}"),
            format!("$.\"{}\"", c.name),
        ),
        Backend::Postgres => q.push_bound(
            &format!(" AND {open}(custom_json::jsonb ->> {{}}::text){close}"),
            c.name,
        ),
    };
    q.push_bound(&format!(" = {open}{{}}{close}"), c.text)
}

impl Store {
    /// Narrows `q`, a list query over one kind of record (`kind`: `incident`, `problem` or
    /// `request`; its table has `tenant_id`, `category_id` and `custom_json`), to a category
    /// with its subcategories and to custom-field values. Each value is checked and normalised
    /// the way stored values are (numbers as numbers, dates as `YYYY-MM-DD`, select values
    /// among the options); an empty value adds no condition. A field the kind does not define,
    /// or a value it could never hold, is a field error named `custom.<name>`.
    pub(crate) async fn narrow_by_common_fields(
        &self,
        q: Sql,
        tenant_id: i64,
        kind: &str,
        category_id: Option<i64>,
        custom: &[(String, String)],
    ) -> StoreResult<Sql> {
        let mut q = q;
        if let Some(category) = category_id {
            q = in_category(q, tenant_id, category);
        }
        if custom.is_empty() {
            return Ok(q);
        }
        let fields = self.custom_fields(tenant_id, kind).await?;
        let mut errors = Invalid::new();
        let mut conditions = Vec::with_capacity(custom.len());
        for (name, value) in custom {
            let at = format!("custom.{name}");
            let Some(field) = fields.iter().find(|f| &f.name == name) else {
                errors.add(&at, format!("There is no custom field `{name}`"));
                continue;
            };
            let one = FormField {
                required: false,
                ..field.clone()
            };
            let mut answer = Map::new();
            answer.insert(name.clone(), Value::String(value.clone()));
            match check_answers(std::slice::from_ref(&one), &answer) {
                Ok(clean) => {
                    if let Some(v) = clean.get(name) {
                        conditions.push(CustomCondition {
                            name: name.clone(),
                            kind: field.kind,
                            text: text_of(v),
                        });
                    }
                }
                Err(e) => {
                    for fe in e.errors {
                        errors.add(&at, fe.message);
                    }
                }
            }
        }
        errors.into_result(())?;
        for c in conditions {
            q = custom_condition(self.backend(), q, c);
        }
        Ok(q)
    }
}
