//! Admin-defined custom fields per kind of record (incidents, requests, problems), and the
//! checking of the values records carry for them.

use crate::db::sql;
use crate::journal::Change;
use crate::{Actor, Store, StoreError, StoreResult};
use serde::Serialize;
use serde_json::{Map, Value};
use steward_domain::Invalid;
use steward_domain::journal::Action;
use steward_domain::request::{FieldKind, FormField, check_answers};

/// The kinds of record that carry custom fields.
pub const KINDS: &[&str] = &["incident", "request", "problem"];

/// A record's custom field values as stored in its `custom_json` column (a JSON object);
/// incidents, requests and problems all carry one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct CustomValues(pub Map<String, Value>);

impl TryFrom<String> for CustomValues {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        serde_json::from_str(&text)
            .map(CustomValues)
            .map_err(|e| format!("custom values: {e}"))
    }
}

impl CustomValues {
    /// The text stored in `custom_json` for already-checked values.
    pub(crate) fn encode(values: &Map<String, Value>) -> String {
        serde_json::to_string(values).unwrap_or_else(|_| "{}".to_owned())
    }
}

#[derive(sqlx::FromRow)]
struct FieldRow {
    name: String,
    label: String,
    field_kind: String,
    required: bool,
    options_json: String,
}

impl FieldRow {
    fn into_field(self) -> StoreResult<FormField> {
        Ok(FormField {
            kind: FieldKind::parse(&self.field_kind).ok_or_else(|| {
                StoreError::Corrupt(format!("custom field kind `{}`", self.field_kind))
            })?,
            options: serde_json::from_str(&self.options_json)
                .map_err(|e| StoreError::Corrupt(format!("custom field options: {e}")))?,
            name: self.name,
            label: self.label,
            required: self.required,
        })
    }
}

fn known_kind(kind: &str) -> StoreResult<&'static str> {
    KINDS
        .iter()
        .find(|k| **k == kind)
        .copied()
        .ok_or(StoreError::NotFound)
}

impl Store {
    /// The custom fields of a kind of record, in order.
    pub async fn custom_fields(&self, tenant_id: i64, kind: &str) -> StoreResult<Vec<FormField>> {
        let kind = known_kind(kind)?;
        let rows: Vec<FieldRow> = self
            .db
            .fetch_all(
                sql(
                    "SELECT name, label, field_kind, required, options_json FROM custom_fields \
                     WHERE tenant_id = $1 AND kind = $2 ORDER BY position, id",
                )
                .bind(tenant_id)
                .bind(kind),
            )
            .await?;
        rows.into_iter().map(FieldRow::into_field).collect()
    }

    /// Replaces the whole list of custom fields of a kind (already validated by the domain).
    /// Values records hold for removed fields stay on the records.
    pub async fn replace_custom_fields(
        &self,
        tenant_id: i64,
        kind: &str,
        fields: &[FormField],
        actor: &Actor,
    ) -> StoreResult<Vec<FormField>> {
        let kind = known_kind(kind)?;
        let before = self.custom_fields(tenant_id, kind).await?;
        let mut tx = self.db.begin().await?;
        tx.execute(
            sql("DELETE FROM custom_fields WHERE tenant_id = $1 AND kind = $2")
                .bind(tenant_id)
                .bind(kind),
        )
        .await?;
        for (position, f) in fields.iter().enumerate() {
            let options = serde_json::to_string(&f.options)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            tx.execute(
                sql("INSERT INTO custom_fields (tenant_id, kind, name, label, field_kind, required, options_json, position) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(tenant_id)
                .bind(kind)
                .bind(&f.name)
                .bind(&f.label)
                .bind(f.kind.as_str())
                .bind(f.required)
                .bind(options)
                .bind(i64::try_from(position).unwrap_or(i64::MAX)),
            )
            .await
            .map_err(|e| e.unique_as("fields", "Field names must be unique"))?;
        }
        let change = Change {
            tenant_id,
            actor,
            action: Action::Update,
            record_type: "custom_fields",
            record_id: tenant_id,
            before: serde_json::to_value(serde_json::json!({ "kind": kind, "fields": before }))
                .ok(),
            after: serde_json::to_value(serde_json::json!({ "kind": kind, "fields": fields })).ok(),
        };
        self.journal(&mut tx, change).await?;
        tx.commit().await?;
        Ok(fields.to_vec())
    }

    /// Checks custom values against the kind's fields: types, required fields, select options,
    /// and that `user` values are users of the tenant. Errors name the field as `custom.<name>`.
    /// Without `enforce_required`, required fields may be left empty (requesters in the portal
    /// cannot see them).
    pub async fn check_custom_values(
        &self,
        tenant_id: i64,
        kind: &str,
        values: &Map<String, Value>,
        enforce_required: bool,
    ) -> StoreResult<Map<String, Value>> {
        let mut fields = self.custom_fields(tenant_id, kind).await?;
        if !enforce_required {
            for f in &mut fields {
                f.required = false;
            }
        }
        let prefixed = |e: Invalid| {
            let mut out = Invalid::new();
            for fe in e.errors {
                out.add(&format!("custom.{}", fe.field), fe.message);
            }
            StoreError::Invalid(out)
        };
        let clean = check_answers(&fields, values).map_err(prefixed)?;
        let mut errors = Invalid::new();
        for f in fields.iter().filter(|f| f.kind == FieldKind::User) {
            let Some(id) = clean.get(&f.name).and_then(Value::as_i64) else {
                continue;
            };
            let found: Option<(i64,)> = self
                .db
                .fetch_optional(
                    sql("SELECT id FROM users WHERE tenant_id = $1 AND id = $2")
                        .bind(tenant_id)
                        .bind(id),
                )
                .await?;
            if found.is_none() {
                errors.add(
                    &format!("custom.{}", f.name),
                    format!("{}: user {id} does not exist in this organisation", f.label),
                );
            }
        }
        Ok(errors.into_result(clean)?)
    }
}
