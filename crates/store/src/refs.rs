//! Checks that the records a write refers to exist in the writer's tenant.

use crate::db::sql;
use crate::{Store, StoreError, StoreResult};
use steward_domain::Invalid;

/// A reference to check: the input field, the table it points into, the id given (if any) and
/// what to call the record in the message.
pub(crate) type Ref<'a> = (String, &'a str, Option<i64>, &'a str);

/// Turns `NotFound` for a referenced record into `Invalid` on the input `field` that named it
/// (`{label} {id} does not exist in this organisation`, as [`Store::missing_refs`] says it);
/// any other error passes through. For references read inside the write's own transaction.
pub(crate) fn missing_as_invalid(
    field: &str,
    label: &str,
    id: i64,
) -> impl FnOnce(StoreError) -> StoreError {
    move |e| match e {
        StoreError::NotFound => Invalid::one(
            field,
            format!("{label} {id} does not exist in this organisation"),
        )
        .into(),
        other => other,
    }
}

/// Tables whose rows are never soft-deleted.
const WITHOUT_DELETION: &[&str] = &["users", "categories", "cis"];

impl Store {
    /// One field error for each given id that names no live record of the tenant.
    pub(crate) async fn missing_refs(
        &self,
        tenant_id: i64,
        refs: &[Ref<'_>],
    ) -> StoreResult<Invalid> {
        let mut errors = Invalid::new();
        for (field, table, id, label) in refs {
            let Some(id) = *id else { continue };
            let live = if WITHOUT_DELETION.contains(table) {
                ""
            } else {
                " AND deleted_at IS NULL"
            };
            let found: Option<(i64,)> = self
                .db
                .fetch_optional(
                    sql(format!(
                        "SELECT id FROM {table} WHERE tenant_id = $1 AND id = $2{live}"
                    ))
                    .bind(tenant_id)
                    .bind(id),
                )
                .await?;
            if found.is_none() {
                errors.add(
                    field,
                    format!("{label} {id} does not exist in this organisation"),
                );
            }
        }
        Ok(errors)
    }
}
