//! API bearer tokens: 256-bit random secrets, stored only as their SHA-256 and looked up by it.
//! (A slow password hash per API call would cap a node at a few requests a second.)

use crate::db::sql;
use crate::identity::User;
use crate::journal::{Record, RecordWrite};
use crate::{Actor, Store, StoreResult, now_micros};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use steward_domain::journal::Action;

const PREFIX: &str = "stw_";
/// `last_used_at` is refreshed at most this often, so reads do not turn into writes.
const LAST_USED_GRANULARITY_MICROS: i64 = 60_000_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    /// The first characters of the secret, so people can tell their tokens apart.
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl Record for ApiToken {
    const KIND: &'static str = "api_token";
    fn id(&self) -> i64 {
        self.id
    }
}

const COLUMNS: &str = "id, user_id, name, prefix, created_at, last_used_at, revoked_at";

/// SHA-256 of a secret, hex-encoded: how tokens and session ids are stored.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new random secret: 32 bytes from the OS generator, hex-encoded.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

impl Store {
    /// Creates a token for `user_id`; returns it with the secret, which is never shown again.
    pub async fn create_token(
        &self,
        tenant_id: i64,
        user_id: i64,
        name: &str,
        actor: &Actor,
    ) -> StoreResult<(ApiToken, String)> {
        self.user(tenant_id, user_id).await?;
        let secret = format!("{PREFIX}{}", new_secret());
        let prefix: String = secret.chars().take(PREFIX.len() + 8).collect();
        let token = self
            .write_record(RecordWrite {
                tenant_id,
                action: Action::Create,
                actor,
                before: None,
                write: sql(format!(
                    "INSERT INTO api_tokens (tenant_id, user_id, name, token_hash, prefix, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
                ))
                .bind(tenant_id)
                .bind(user_id)
                .bind(name.trim())
                .bind(hash_secret(&secret))
                .bind(prefix)
                .bind(now_micros()),
                unique: None,
            })
            .await?;
        Ok((token, secret))
    }

    /// Tokens of the tenant, optionally only one user's, newest first.
    pub async fn tokens(&self, tenant_id: i64, user_id: Option<i64>) -> StoreResult<Vec<ApiToken>> {
        let mut q = sql(format!(
            "SELECT {COLUMNS} FROM api_tokens WHERE tenant_id = $1"
        ))
        .bind(tenant_id);
        if let Some(user_id) = user_id {
            q = q.push_bound(" AND user_id = {}", user_id);
        }
        self.db
            .fetch_all(q.push(" ORDER BY created_at DESC, id DESC"))
            .await
    }

    pub async fn token(&self, tenant_id: i64, id: i64) -> StoreResult<ApiToken> {
        self.db
            .fetch_one(
                sql(format!(
                    "SELECT {COLUMNS} FROM api_tokens WHERE tenant_id = $1 AND id = $2"
                ))
                .bind(tenant_id)
                .bind(id),
            )
            .await
    }

    pub async fn revoke_token(
        &self,
        tenant_id: i64,
        id: i64,
        actor: &Actor,
    ) -> StoreResult<ApiToken> {
        self.write_record(RecordWrite {
            tenant_id,
            action: Action::Update,
            actor,
            before: Some(sql(format!("SELECT {COLUMNS} FROM api_tokens WHERE tenant_id = $1 AND id = $2")).bind(tenant_id).bind(id)),
            write: sql(format!(
                "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE tenant_id = $2 AND id = $3 RETURNING {COLUMNS}"
            ))
            .bind(now_micros())
            .bind(tenant_id)
            .bind(id),
            unique: None,
        })
        .await
    }

    /// The active user a presented secret belongs to, if the token is live.
    pub async fn authenticate_token(&self, secret: &str) -> StoreResult<Option<User>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            token_id: i64,
            last_used_at: Option<i64>,
            #[sqlx(flatten)]
            user: User,
        }
        let row: Option<Row> = self
            .db
            .fetch_optional(
                sql("SELECT t.id AS token_id, t.last_used_at, u.id, u.tenant_id, u.email, u.name, u.role, u.active, u.created_at, u.updated_at \
                     FROM api_tokens t JOIN users u ON u.id = t.user_id \
                     WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.active = TRUE")
                    .bind(hash_secret(secret)),
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        let now = now_micros();
        if row
            .last_used_at
            .is_none_or(|t| now - t > LAST_USED_GRANULARITY_MICROS)
        {
            let mut tx = self.db.begin().await?;
            tx.execute(
                sql("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(row.token_id),
            )
            .await?;
            tx.commit().await?;
        }
        Ok(Some(row.user))
    }
}
