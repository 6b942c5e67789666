//! Per-tenant settings, stored as JSON and journaled like any record.

use crate::db::sql;
use crate::journal::Change;
use crate::{Actor, Store, StoreError, StoreResult, now_micros};
use steward_domain::journal::Action;
use steward_domain::settings::TenantSettings;

impl Store {
    /// The tenant's settings, or the defaults if none were saved.
    pub async fn settings(&self, tenant_id: i64) -> StoreResult<TenantSettings> {
        let row: Option<(String,)> = self
            .db
            .fetch_optional(
                sql("SELECT settings_json FROM tenant_settings WHERE tenant_id = $1")
                    .bind(tenant_id),
            )
            .await?;
        match row {
            Some((json,)) => serde_json::from_str(&json)
                .map_err(|e| StoreError::Corrupt(format!("tenant settings: {e}"))),
            None => Ok(TenantSettings::default()),
        }
    }

    /// Replaces the tenant's settings (already validated by the domain).
    pub async fn save_settings(
        &self,
        tenant_id: i64,
        settings: &TenantSettings,
        actor: &Actor,
    ) -> StoreResult<()> {
        let before = self.settings(tenant_id).await?;
        let json =
            serde_json::to_string(settings).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.db.begin().await?;
        tx.execute(
            sql("INSERT INTO tenant_settings (tenant_id, settings_json, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (tenant_id) DO UPDATE SET settings_json = excluded.settings_json, updated_at = excluded.updated_at")
                .bind(tenant_id)
                .bind(json)
                .bind(now_micros()),
        )
        .await?;
        let change = Change {
            tenant_id,
            actor,
            action: Action::Update,
            record_type: "settings",
            record_id: tenant_id,
            before: serde_json::to_value(&before).ok(),
            after: serde_json::to_value(settings).ok(),
        };
        self.journal(&mut tx, change).await?;
        tx.commit().await
    }
}
