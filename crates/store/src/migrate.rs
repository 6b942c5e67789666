//! Embedded schema migrations, one set per backend.

use crate::db::Db;
use crate::{Store, StoreResult};
use sqlx::migrate::Migrator;

static SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Applies any migration not yet applied. Safe to run again and from several nodes at once
    /// (sqlx takes an advisory lock on PostgreSQL).
    pub async fn migrate(&self) -> StoreResult<()> {
        match &self.db {
            Db::Sqlite { writer, .. } => SQLITE.run(writer).await?,
            Db::Postgres(pool) => POSTGRES.run(pool).await?,
        }
        Ok(())
    }

    /// The version of the newest migration this build embeds for the store's backend.
    pub fn schema_version(&self) -> i64 {
        let migrator = match &self.db {
            Db::Sqlite { .. } => &SQLITE,
            Db::Postgres(_) => &POSTGRES,
        };
        migrator.iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// Whether every embedded migration has been applied: what `/readyz` reports.
    pub async fn is_migrated(&self) -> StoreResult<bool> {
        let expected = match &self.db {
            Db::Sqlite { .. } => SQLITE.iter().count(),
            Db::Postgres(_) => POSTGRES.iter().count(),
        };
        let applied: (i64,) = self
            .db
            .fetch_one(crate::db::sql(
                "SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE",
            ))
            .await?;
        Ok(usize::try_from(applied.0).unwrap_or(0) >= expected)
    }

    /// Table and column names, sorted, for the test that both backends' schemas agree.
    /// Full-text search structures are backend-specific and left out.
    pub async fn schema_outline(&self) -> StoreResult<Vec<(String, String)>> {
        let q = match self.backend() {
            crate::Backend::Sqlite => crate::db::sql(
                "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%' \
                 AND m.name NOT LIKE '%fts%' \
                 ORDER BY 1, 2",
            ),
            crate::Backend::Postgres => crate::db::sql(
                "SELECT table_name::TEXT, column_name::TEXT FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name NOT LIKE '_sqlx%' AND column_name <> 'search' \
                 ORDER BY 1, 2",
            ),
        };
        self.db.fetch_all(q).await
    }
}
