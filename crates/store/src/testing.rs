//! Fresh databases for tests, on either backend.
//!
//! `TestDb::sqlite()` makes a file in a new temporary folder; `TestDb::postgres()` creates a
//! new database next to the one `STEWARD_TEST_DATABASE_URL` names, so tests run in parallel
//! without seeing each other. Call `finish` at the end to drop it.

use crate::{PoolConfig, Store, StoreResult};
use rand::RngCore;

/// Today (UTC) moved by `days`: what dated test records are planned and due on.
pub fn in_days(days: i64) -> jiff::civil::Date {
    crate::asset::today_utc()
        .checked_add(jiff::Span::new().days(days))
        .expect("a date in range")
}

/// How many journal entries record `id` of `kind` has.
pub async fn journaled(store: &Store, t: i64, kind: &str, id: i64) -> usize {
    let filter = crate::journal::JournalFilter {
        record_type: Some(kind.into()),
        record_id: Some(id),
        ..Default::default()
    };
    store
        .journal_entries(t, &filter, &crate::PageRequest::default())
        .await
        .expect("journal")
        .items
        .len()
}

/// A new tenant named `name`, created by the CLI actor; its id.
pub async fn tenant_id(store: &Store, name: &str) -> i64 {
    let draft = steward_domain::tenant::new_tenant(name).expect("a valid tenant name");
    store
        .create_tenant(&draft, &crate::Actor::cli())
        .await
        .expect("tenant")
        .id
}

/// A new active user of tenant `t` with `role`, named after the e-mail's local part; its id.
pub async fn user_id(
    store: &Store,
    t: i64,
    email: &str,
    role: steward_domain::access::Role,
) -> i64 {
    let draft = steward_domain::user::UserDraft {
        email: email.into(),
        name: email.split('@').next().unwrap_or("someone").into(),
        role,
        active: true,
    }
    .validate()
    .expect("a valid user");
    store
        .create_user(t, &draft, None, &crate::Actor::cli())
        .await
        .expect("user")
        .id
}

/// The environment variable that turns on the PostgreSQL half of the test suites.
pub const POSTGRES_ENV: &str = "STEWARD_TEST_DATABASE_URL";

pub struct TestDb {
    pub store: Store,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(std::path::PathBuf),
    Database { admin_url: String, name: String },
}

fn unique_name() -> String {
    format!(
        "steward_test_{}_{:08x}",
        std::process::id(),
        rand::rng().next_u32()
    )
}

impl TestDb {
    pub async fn sqlite() -> StoreResult<TestDb> {
        let dir = std::env::temp_dir().join(unique_name());
        std::fs::create_dir_all(&dir).map_err(|e| crate::StoreError::Config(e.to_string()))?;
        let url = format!("sqlite://{}", dir.join("steward.db").display());
        let store = Store::open(&url).await?;
        Ok(TestDb {
            store,
            url,
            cleanup: Cleanup::Dir(dir),
        })
    }

    /// `None` when `STEWARD_TEST_DATABASE_URL` is not set.
    pub async fn postgres() -> StoreResult<Option<TestDb>> {
        let Ok(admin_url) = std::env::var(POSTGRES_ENV) else {
            return Ok(None);
        };
        let name = unique_name();
        let admin = Store::connect(
            &admin_url,
            PoolConfig {
                max_connections: 1,
                ..PoolConfig::default()
            },
        )
        .await?;
        admin
            .execute_admin(&format!("CREATE DATABASE {name}"))
            .await?;
        admin.close().await;
        let url = with_database(&admin_url, &name);
        let store = Store::open(&url).await?;
        Ok(Some(TestDb {
            store,
            url,
            cleanup: Cleanup::Database { admin_url, name },
        }))
    }

    pub async fn finish(self) {
        self.store.close().await;
        match self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Database { admin_url, name } => {
                if let Ok(admin) = Store::connect(
                    &admin_url,
                    PoolConfig {
                        max_connections: 1,
                        ..PoolConfig::default()
                    },
                )
                .await
                {
                    let _ = admin
                        .execute_admin(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                    admin.close().await;
                }
            }
        }
    }
}

/// Replaces the database name in a PostgreSQL URL.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[authority_end..].find('/').map(|i| i + authority_end);
    let root = path_start.map_or(base, |i| &base[..i]);
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

impl Store {
    /// Runs a statement behind the store's back, as an intruder with database access would:
    /// tests use it to tamper with the journal.
    pub async fn execute_raw_for_tests(&self, statement: &str) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        tx.execute(crate::db::sql(statement.to_owned())).await?;
        tx.commit().await
    }

    /// Runs one administrative statement (test databases only; never with user input).
    async fn execute_admin(&self, statement: &str) -> StoreResult<()> {
        self.db
            .read()
            .await?
            .execute(crate::db::sql(statement.to_owned()))
            .await
            .map(drop)
    }
}

/// Runs a test body once on SQLite and, when configured, once on PostgreSQL.
///
/// ```ignore
/// both_backends!(creates_a_service, |store: Store| async move { ... });
/// ```
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                let db = $crate::testing::TestDb::sqlite()
                    .await
                    .expect("sqlite test database");
                ($body)(db.store.clone()).await;
                db.finish().await;
            }
            #[tokio::test]
            async fn postgres() {
                let Some(db) = $crate::testing::TestDb::postgres()
                    .await
                    .expect("postgres test database")
                else {
                    return;
                };
                ($body)(db.store.clone()).await;
                db.finish().await;
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_swapped() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "t2"),
            "postgres://u:p@h/t2?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "t3"), "postgres://h/t3");
    }
}
