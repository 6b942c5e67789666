//! Users, browser sessions and failed-login records.

use crate::db::sql;
use crate::journal::{Change, snapshot};
use crate::page::{CursorKey, Page, PageRequest, Sort, finish, paginate};
use crate::{Actor, Store, StoreError, StoreResult, now_micros};
use serde::Serialize;
use steward_domain::access::Role;
use steward_domain::journal::Action;
use steward_domain::user::UserDraft;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub tenant_id: i64,
    pub email: String,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

const USER_COLUMNS: &str = "id, tenant_id, email, name, role, active, created_at, updated_at";
const EMAIL_TAKEN: &str = "A user with this email already exists";

/// A user together with the password hash, for sign-in only.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub active: Option<bool>,
    pub q: Option<String>,
    pub sort: Option<String>,
}

/// A signed-in browser session.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Session {
    pub tenant_id: i64,
    pub user_id: i64,
    pub csrf_token: String,
    pub expires_at: i64,
}

impl Store {
    pub async fn create_user(
        &self,
        tenant_id: i64,
        draft: &UserDraft,
        password_hash: Option<&str>,
        actor: &Actor,
    ) -> StoreResult<User> {
        let now = now_micros();
        let mut tx = self.db.begin().await?;
        let user: User = tx
            .fetch_one(
                sql(format!(
                    "INSERT INTO users (tenant_id, email, name, role, active, password_hash, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING {USER_COLUMNS}"
                ))
                .bind(tenant_id)
                .bind(&draft.email)
                .bind(&draft.name)
                .bind(draft.role.as_str())
                .bind(draft.active)
                .bind(password_hash.map(str::to_owned))
                .bind(now),
            )
            .await
            .map_err(|e| e.unique_as("email", EMAIL_TAKEN))?;
        self.journal(
            &mut tx,
            Change {
                tenant_id,
                actor,
                action: Action::Create,
                record_type: "user",
                record_id: user.id,
                before: None,
                after: snapshot(&user),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    pub async fn user(&self, tenant_id: i64, id: i64) -> StoreResult<User> {
        let user: User = self
            .db
            .fetch_one(
                sql(format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND id = $2"
                ))
                .bind(tenant_id)
                .bind(id),
            )
            .await?;
        Ok(user)
    }

    pub async fn user_by_email(&self, tenant_id: i64, email: &str) -> StoreResult<User> {
        let user: User = self
            .db
            .fetch_one(
                sql(format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND email = $2"
                ))
                .bind(tenant_id)
                .bind(email.trim().to_lowercase()),
            )
            .await?;
        Ok(user)
    }

    pub async fn users(
        &self,
        tenant_id: i64,
        filter: &UserFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<User>> {
        let sort = Sort::parse(filter.sort.as_deref(), &["email", "name", "created_at"])
            .ok_or_else(|| {
                steward_domain::Invalid::one(
                    "sort",
                    "sort must be email, name or created_at, optionally with a leading -",
                )
            })?;
        let mut q = sql(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1"
        ))
        .bind(tenant_id);
        if let Some(role) = filter.role {
            q = q.push_bound(" AND role = {}", role.as_str());
        }
        if let Some(active) = filter.active {
            q = q.push_bound(" AND active = {}", active);
        }
        if let Some(text) = filter.q.as_deref().filter(|t| !t.is_empty()) {
            let pattern = like_pattern(text);
            q = q
                .push_bound(" AND (lower(email) LIKE {}", pattern.clone())
                .push_bound(" OR lower(name) LIKE {})", pattern);
        }
        let users: Vec<User> = self.db.fetch_all(paginate(q, sort, page)?).await?;
        Ok(finish(users, page, |u| match sort.column {
            "name" => (CursorKey::Text(u.name.clone()), u.id),
            "created_at" => (CursorKey::Int(u.created_at), u.id),
            _ => (CursorKey::Text(u.email.clone()), u.id),
        }))
    }

    /// Every user in any tenant with this e-mail, for sign-in without a tenant given.
    pub async fn credentials_by_email(&self, email: &str) -> StoreResult<Vec<Credentials>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            user: User,
            password_hash: Option<String>,
        }
        let rows: Vec<Row> = self
            .db
            .fetch_all(
                sql(format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1 ORDER BY tenant_id"))
                    .bind(email.trim().to_lowercase()),
            )
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(Credentials {
                    user: r.user,
                    password_hash: r.password_hash,
                })
            })
            .collect()
    }

    pub async fn password_hash(&self, tenant_id: i64, user_id: i64) -> StoreResult<Option<String>> {
        let row: (Option<String>,) = self
            .db
            .fetch_one(
                sql("SELECT password_hash FROM users WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant_id)
                    .bind(user_id),
            )
            .await?;
        Ok(row.0)
    }

    /// Applies new field values; the journal keeps the before and after.
    pub async fn update_user(
        &self,
        tenant_id: i64,
        id: i64,
        draft: &UserDraft,
        actor: &Actor,
    ) -> StoreResult<User> {
        let mut tx = self.db.begin().await?;
        let before: User = tx
            .fetch_one::<User>(
                sql(format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND id = $2"
                ))
                .bind(tenant_id)
                .bind(id),
            )
            .await?;
        let after: User = tx
            .fetch_one::<User>(
                sql(format!(
                    "UPDATE users SET email = $1, name = $2, role = $3, active = $4, updated_at = $5 \
                     WHERE tenant_id = $6 AND id = $7 RETURNING {USER_COLUMNS}"
                ))
                .bind(&draft.email)
                .bind(&draft.name)
                .bind(draft.role.as_str())
                .bind(draft.active)
                .bind(now_micros())
                .bind(tenant_id)
                .bind(id),
            )
            .await
            .map_err(|e| e.unique_as("email", EMAIL_TAKEN))?
            ;
        if !after.active {
            tx.execute(sql("DELETE FROM sessions WHERE user_id = $1").bind(id))
                .await?;
        }
        self.journal(
            &mut tx,
            Change {
                tenant_id,
                actor,
                action: Action::Update,
                record_type: "user",
                record_id: id,
                before: snapshot(&before),
                after: snapshot(&after),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Stores a new password hash and signs the user out everywhere else. The journal records
    /// that the password changed, never the hash.
    pub async fn set_password(
        &self,
        tenant_id: i64,
        user_id: i64,
        password_hash: &str,
        keep_session_hash: Option<&str>,
        actor: &Actor,
    ) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let changed = tx
            .execute(
                sql("UPDATE users SET password_hash = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4")
                    .bind(password_hash)
                    .bind(now_micros())
                    .bind(tenant_id)
                    .bind(user_id),
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        tx.execute(
            sql("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
                .bind(user_id)
                .bind(keep_session_hash.unwrap_or_default()),
        )
        .await?;
        self.journal(
            &mut tx,
            Change {
                tenant_id,
                actor,
                action: Action::Update,
                record_type: "user",
                record_id: user_id,
                before: None,
                after: Some(serde_json::json!({ "password": "changed" })),
            },
        )
        .await?;
        tx.commit().await
    }

    pub async fn create_session(
        &self,
        id_hash: &str,
        tenant_id: i64,
        user_id: i64,
        csrf_token: &str,
        expires_at: i64,
    ) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        tx.execute(
            sql("INSERT INTO sessions (id_hash, tenant_id, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(id_hash)
                .bind(tenant_id)
                .bind(user_id)
                .bind(csrf_token)
                .bind(now_micros())
                .bind(expires_at),
        )
        .await?;
        tx.commit().await
    }

    /// The live session for a cookie's hash; expired sessions and inactive users count as none.
    pub async fn session(&self, id_hash: &str) -> StoreResult<Option<Session>> {
        self.db
            .fetch_optional(
                sql("SELECT s.tenant_id, s.user_id, s.csrf_token, s.expires_at FROM sessions s \
                     JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1 AND s.expires_at > $2 AND u.active = TRUE")
                    .bind(id_hash)
                    .bind(now_micros()),
            )
            .await
    }

    pub async fn delete_session(&self, id_hash: &str) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        tx.execute(sql("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash))
            .await?;
        tx.commit().await
    }

    pub async fn record_login_failure(&self, email: &str) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        tx.execute(
            sql("INSERT INTO login_failures (email, at) VALUES ($1, $2)")
                .bind(email.trim().to_lowercase())
                .bind(now_micros()),
        )
        .await?;
        tx.commit().await
    }

    /// Failures for `email` since `since_micros`: how many, and when the newest was.
    pub async fn login_failures(
        &self,
        email: &str,
        since_micros: i64,
    ) -> StoreResult<(i64, Option<i64>)> {
        self.db
            .fetch_one(
                sql("SELECT COUNT(*), MAX(at) FROM login_failures WHERE email = $1 AND at >= $2")
                    .bind(email.trim().to_lowercase())
                    .bind(since_micros),
            )
            .await
    }

    pub async fn clear_login_failures(&self, email: &str) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        tx.execute(
            sql("DELETE FROM login_failures WHERE email = $1").bind(email.trim().to_lowercase()),
        )
        .await?;
        tx.commit().await
    }

    /// Removes expired sessions and old failed-login records; run by a periodic job.
    pub async fn purge_expired(&self, failures_before_micros: i64) -> StoreResult<u64> {
        let mut tx = self.db.begin().await?;
        let sessions = tx
            .execute(sql("DELETE FROM sessions WHERE expires_at <= $1").bind(now_micros()))
            .await?;
        let failures = tx
            .execute(sql("DELETE FROM login_failures WHERE at < $1").bind(failures_before_micros))
            .await?;
        tx.commit().await?;
        Ok(sessions + failures)
    }
}

/// A case-insensitive `LIKE` pattern matching `text` anywhere, with wildcards escaped away.
pub(crate) fn like_pattern(text: &str) -> String {
    let cleaned: String = text
        .to_lowercase()
        .chars()
        .filter(|c| *c != '%' && *c != '_' && *c != '\\')
        .collect();
    format!("%{cleaned}%")
}
