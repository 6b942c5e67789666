//! Tenants' signing keys (`tenant_keys`): what `steward_domain::signing` signs with, kept.
//!
//! A tenant gets its key the first time something asks for it. One current key per tenant is
//! enforced by a unique index on the rows not retired, so two nodes creating it at once end
//! with one: the loser's insert does nothing and it reads the winner's key. The secret stays
//! in this module and in `KeyPair`, which neither prints nor serialises it.

use crate::db::sql;
use crate::{Store, StoreError, StoreResult, now_micros};
use steward_domain::signing::{KeyPair, PublishedKey};

/// A tenant's current key.
#[derive(Debug, Clone)]
pub struct TenantKey {
    pub tenant_id: i64,
    pub key_id: String,
    pub pair: KeyPair,
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    key_id: String,
    secret_key: String,
    created_at: i64,
}

#[derive(sqlx::FromRow)]
struct PublicRow {
    slug: String,
    key_id: String,
    public_key: String,
    created_at: i64,
    retired_at: Option<i64>,
}

/// An instant as the keys file shows it: RFC 3339 in UTC.
fn rfc3339(micros: i64) -> String {
    jiff::Timestamp::from_microsecond(micros)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// A fresh key pair from the operating system's random generator.
fn new_key_pair() -> KeyPair {
    KeyPair::from_seed(rand::random::<[u8; 32]>())
}

impl Store {
    async fn current_key(&self, tenant_id: i64) -> StoreResult<Option<TenantKey>> {
        let row: Option<KeyRow> = self
            .db
            .fetch_optional(
                sql("SELECT key_id, secret_key, created_at FROM tenant_keys \
                     WHERE tenant_id = $1 AND retired_at IS NULL")
                .bind(tenant_id),
            )
            .await?;
        row.map(|row| {
            let pair = KeyPair::from_secret_base64(&row.secret_key).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "tenant {tenant_id}'s key {} is unreadable",
                    row.key_id
                ))
            })?;
            Ok(TenantKey {
                tenant_id,
                key_id: row.key_id,
                pair,
                created_at: row.created_at,
            })
        })
        .transpose()
    }

    /// The tenant's current signing key, created on first use.
    pub async fn signing_key(&self, tenant_id: i64) -> StoreResult<TenantKey> {
        if let Some(key) = self.current_key(tenant_id).await? {
            return Ok(key);
        }
        // Another node may insert first; its key is then the one, and ours is dropped unused.
        let pair = new_key_pair();
        let mut tx = self.db.begin().await?;
        tx.execute(
            sql(
                "INSERT INTO tenant_keys (tenant_id, key_id, public_key, secret_key, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(tenant_id)
            .bind(pair.key_id())
            .bind(pair.public_base64())
            .bind(pair.secret_base64())
            .bind(now_micros()),
        )
        .await?;
        tx.commit().await?;
        self.current_key(tenant_id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("tenant {tenant_id} has no current key")))
    }

    /// Retires the tenant's current key (the next signature makes a new one). What it signed
    /// still verifies: the key stays published, marked retired.
    pub async fn retire_signing_key(&self, tenant_id: i64) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        tx.execute(
            sql("UPDATE tenant_keys SET retired_at = $1 WHERE tenant_id = $2 AND retired_at IS NULL")
                .bind(now_micros())
                .bind(tenant_id),
        )
        .await?;
        tx.commit().await
    }

    /// Every tenant's public keys, current and retired, by tenant slug and age.
    pub async fn published_keys(&self) -> StoreResult<Vec<PublishedKey>> {
        let rows: Vec<PublicRow> = self
            .db
            .fetch_all(sql(
                "SELECT t.slug, k.key_id, k.public_key, k.created_at, k.retired_at \
                 FROM tenant_keys k JOIN tenants t ON t.id = k.tenant_id \
                 ORDER BY t.slug, k.created_at, k.id",
            ))
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| PublishedKey {
                tenant: r.slug,
                key_id: r.key_id,
                algorithm: steward_domain::signing::ALGORITHM.to_owned(),
                public_key: r.public_key,
                created_at: rfc3339(r.created_at),
                retired_at: r.retired_at.map(rfc3339),
            })
            .collect())
    }
}
