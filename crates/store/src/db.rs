//! One small query layer over both backends.
//!
//! Store code writes each statement once, with `$1` placeholders that SQLite and PostgreSQL
//! both accept, and binds plain values. `Db` and `Tx` dispatch to the backend's pool; rows
//! decode into structs deriving `sqlx::FromRow`, which work for both. SQL that only one
//! backend understands is chosen with `Db::backend()` at the few places that need it.

use crate::error::{StoreError, StoreResult};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, FromRow, Postgres, Sqlite, Transaction};
use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;
use steward_domain::Invalid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A value bound to a placeholder.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Int(Option<i64>),
    Text(Option<String>),
    Bool(bool),
    /// BLOB on SQLite, BYTEA on PostgreSQL.
    Bytes(Option<Vec<u8>>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}
impl From<i32> for Arg {
    fn from(v: i32) -> Self {
        Arg::Int(Some(i64::from(v)))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_owned()))
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(Some(v))
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(Some(v.clone()))
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v)
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}
impl From<Vec<u8>> for Arg {
    fn from(v: Vec<u8>) -> Self {
        Arg::Bytes(Some(v))
    }
}
impl From<&[u8]> for Arg {
    fn from(v: &[u8]) -> Self {
        Arg::Bytes(Some(v.to_vec()))
    }
}
impl From<Option<Vec<u8>>> for Arg {
    fn from(v: Option<Vec<u8>>) -> Self {
        Arg::Bytes(v)
    }
}

/// A statement and its bound values. Values are always bound, never spliced into the text.
#[derive(Debug, Clone)]
pub(crate) struct Sql {
    text: Cow<'static, str>,
    args: Vec<Arg>,
}

pub(crate) fn sql(text: impl Into<Cow<'static, str>>) -> Sql {
    Sql {
        text: text.into(),
        args: Vec::new(),
    }
}

/// The ids in `column` of the link rows of `table` whose `owner_column` is `owner_id`, in
/// order: a record's links (an asset's CIs, a release's changes) as its state lists them.
/// The names are the callers' constants, never input.
pub(crate) async fn linked_ids(
    tx: &mut Tx,
    table: &str,
    column: &str,
    owner_column: &str,
    owner_id: i64,
) -> StoreResult<Vec<i64>> {
    let rows: Vec<(i64,)> = tx
        .fetch_all(
            sql(format!(
                "SELECT {column} FROM {table} WHERE {owner_column} = $1 ORDER BY {column}"
            ))
            .bind(owner_id),
        )
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

impl Sql {
    pub fn bind(mut self, value: impl Into<Arg>) -> Self {
        self.args.push(value.into());
        self
    }

    /// The statement text for sqlx, once the values are known to fit both backends: text with
    /// U+0000 in it is refused as invalid input, because PostgreSQL cannot store it (SQLite
    /// can), and a record must not be storable on one backend and not the other.
    fn prepared(&self) -> StoreResult<AssertSqlSafe<Cow<'static, str>>> {
        let nul = |arg: &Arg| matches!(arg, Arg::Text(Some(t)) if t.contains('\0'));
        if self.args.iter().any(nul) {
            return Err(StoreError::Invalid(Invalid::one(
                "text",
                "Text may not contain NUL characters (U+0000).",
            )));
        }
        Ok(AssertSqlSafe(self.text.clone()))
    }

    /// The next placeholder's number, for statements assembled from optional filters.
    pub fn next_placeholder(&self) -> String {
        format!("${}", self.args.len() + 1)
    }

    /// Appends text and one bound value; `{}` in `fragment` becomes that value's placeholder.
    pub fn push_bound(mut self, fragment: &str, value: impl Into<Arg>) -> Self {
        let placeholder = self.next_placeholder();
        self.text
            .to_mut()
            .push_str(&fragment.replace("{}", &placeholder));
        self.bind(value)
    }

    pub fn push(mut self, fragment: &str) -> Self {
        self.text.to_mut().push_str(fragment);
        self
    }
}

/// Rows that decode on both backends (any `#[derive(sqlx::FromRow)]` struct of portable types).
pub(crate) trait Row:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}
impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{}

macro_rules! bound {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                Arg::Int(v) => query.bind(*v),
                Arg::Text(v) => query.bind(v.clone()),
                Arg::Bool(v) => query.bind(*v),
                Arg::Bytes(v) => query.bind(v.clone()),
            };
        }
        query
    }};
}

/// Runs `$body` with `$conn` bound to the backend's executor, for each variant of `$on`.
macro_rules! dispatch {
    ($on:expr, $sqlite:pat => $sbody:expr, $pg:pat => $pbody:expr) => {
        match $on {
            $sqlite => $sbody,
            $pg => $pbody,
        }
    };
}

macro_rules! run_methods {
    () => {
        pub async fn execute(&mut self, q: Sql) -> StoreResult<u64> {
            let text = q.prepared()?;
            Ok(dispatch!(self.conn(),
                Conn::Sqlite(c) => bound!(sqlx::query::<Sqlite>(text), &q.args).execute(c).await?.rows_affected(),
                Conn::Postgres(c) => bound!(sqlx::query::<Postgres>(text), &q.args).execute(c).await?.rows_affected()))
        }

        pub async fn fetch_all<T: Row>(&mut self, q: Sql) -> StoreResult<Vec<T>> {
            let text = q.prepared()?;
            Ok(dispatch!(self.conn(),
                Conn::Sqlite(c) => bound!(sqlx::query_as::<Sqlite, T>(text), &q.args).fetch_all(c).await?,
                Conn::Postgres(c) => bound!(sqlx::query_as::<Postgres, T>(text), &q.args).fetch_all(c).await?))
        }

        pub async fn fetch_optional<T: Row>(&mut self, q: Sql) -> StoreResult<Option<T>> {
            let text = q.prepared()?;
            Ok(dispatch!(self.conn(),
                Conn::Sqlite(c) => bound!(sqlx::query_as::<Sqlite, T>(text), &q.args).fetch_optional(c).await?,
                Conn::Postgres(c) => bound!(sqlx::query_as::<Postgres, T>(text), &q.args).fetch_optional(c).await?))
        }

        pub async fn fetch_one<T: Row>(&mut self, q: Sql) -> StoreResult<T> {
            self.fetch_optional(q).await?.ok_or(StoreError::NotFound)
        }
    };
}

/// Rows whose columns the caller decodes one by one, by position.
pub(crate) enum AnyRows {
    Sqlite(Vec<SqliteRow>),
    Postgres(Vec<PgRow>),
}

enum Conn<'a> {
    Sqlite(&'a mut sqlx::SqliteConnection),
    Postgres(&'a mut sqlx::PgConnection),
}

/// A write transaction. Dropping it without `commit` rolls everything back.
pub(crate) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(tx) => Conn::Sqlite(tx),
            Tx::Postgres(tx) => Conn::Postgres(tx),
        }
    }

    run_methods!();

    /// Rows of any shape, for code that reads tables generically (backups).
    pub async fn fetch_any(&mut self, q: Sql) -> StoreResult<AnyRows> {
        let text = q.prepared()?;
        Ok(dispatch!(self.conn(),
            Conn::Sqlite(c) => AnyRows::Sqlite(bound!(sqlx::query::<Sqlite>(text), &q.args).fetch_all(c).await?),
            Conn::Postgres(c) => AnyRows::Postgres(bound!(sqlx::query::<Postgres>(text), &q.args).fetch_all(c).await?)))
    }

    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn commit(self) -> StoreResult<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

/// A connection checked out of the read pool, for several reads in a row.
pub(crate) enum ReadConn {
    Sqlite(sqlx::pool::PoolConnection<Sqlite>),
    Postgres(sqlx::pool::PoolConnection<Postgres>),
}

impl ReadConn {
    fn conn(&mut self) -> Conn<'_> {
        match self {
            ReadConn::Sqlite(c) => Conn::Sqlite(c),
            ReadConn::Postgres(c) => Conn::Postgres(c),
        }
    }

    run_methods!();
}

/// The connection pools. SQLite gets one writer (SQLite allows one at a time; queueing in our
/// pool is cheaper than busy retries) and a pool of readers, which WAL lets run alongside it.
#[derive(Clone, Debug)]
pub(crate) enum Db {
    Sqlite {
        writer: SqlitePool,
        reader: SqlitePool,
    },
    Postgres(PgPool),
}

/// Pool sizes and timeouts; the defaults suit one node on a small machine.
#[derive(Debug, Clone, Copy)]
pub struct PoolConfig {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

impl Db {
    pub async fn connect(url: &str, config: PoolConfig) -> StoreResult<Db> {
        if let Some(rest) = url.strip_prefix("sqlite:") {
            Self::connect_sqlite(rest.trim_start_matches("//"), config).await
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)
                .map_err(|e| StoreError::Config(format!("bad PostgreSQL URL: {e}")))?;
            let pool = PgPoolOptions::new()
                .max_connections(config.max_connections)
                .acquire_timeout(config.acquire_timeout)
                .connect_with(options)
                .await?;
            Ok(Db::Postgres(pool))
        } else {
            Err(StoreError::Config(format!(
                "unsupported database URL `{}`: use sqlite://PATH or postgres://...",
                redact_url(url)
            )))
        }
    }

    async fn connect_sqlite(path: &str, config: PoolConfig) -> StoreResult<Db> {
        if path.is_empty() {
            return Err(StoreError::Config("sqlite:// URL needs a file path".into()));
        }
        if let Some(dir) = std::path::Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Config(format!("cannot create folder {}: {e}", dir.display()))
            })?;
        }
        // WAL with synchronous=NORMAL: a committed transaction is in the WAL file before
        // COMMIT returns, so killing the process never loses it.
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        // A connection to a local file cannot go stale, so skip the ping sqlx makes on every
        // checkout: it costs a hop to the connection's worker thread, as much as a query.
        let writer = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(1)
            .acquire_timeout(config.acquire_timeout.max(Duration::from_secs(30)))
            .connect_with(options.clone())
            .await?;
        let reader = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(config.max_connections.clamp(1, 8))
            .acquire_timeout(config.acquire_timeout)
            .connect_with(options)
            .await?;
        Ok(Db::Sqlite { writer, reader })
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn begin(&self) -> StoreResult<Tx> {
        Ok(match self {
            Db::Sqlite { writer, .. } => Tx::Sqlite(writer.begin().await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// A read-only transaction that sees one consistent snapshot of the whole database while
    /// writers carry on: `REPEATABLE READ, READ ONLY` on PostgreSQL; on SQLite a transaction on
    /// a reader connection, which WAL pins to the snapshot of its first read. Dropping it ends it.
    pub async fn snapshot(&self) -> StoreResult<Tx> {
        Ok(match self {
            Db::Sqlite { reader, .. } => Tx::Sqlite(reader.begin().await?),
            Db::Postgres(pool) => Tx::Postgres(
                pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .await?,
            ),
        })
    }

    pub async fn read(&self) -> StoreResult<ReadConn> {
        Ok(match self {
            Db::Sqlite { reader, .. } => ReadConn::Sqlite(reader.acquire().await?),
            Db::Postgres(pool) => ReadConn::Postgres(pool.acquire().await?),
        })
    }

    pub async fn fetch_all<T: Row>(&self, q: Sql) -> StoreResult<Vec<T>> {
        self.read().await?.fetch_all(q).await
    }

    pub async fn fetch_optional<T: Row>(&self, q: Sql) -> StoreResult<Option<T>> {
        self.read().await?.fetch_optional(q).await
    }

    pub async fn fetch_one<T: Row>(&self, q: Sql) -> StoreResult<T> {
        self.read().await?.fetch_one(q).await
    }

    /// Connections in use and idle, for `/metrics`.
    pub fn pool_stats(&self) -> (u32, usize) {
        match self {
            Db::Sqlite { writer, reader } => (
                writer.size() + reader.size(),
                writer.num_idle() + reader.num_idle(),
            ),
            Db::Postgres(pool) => (pool.size(), pool.num_idle()),
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite { writer, reader } => {
                writer.close().await;
                reader.close().await;
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

/// The URL with any password replaced, safe for logs and error messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_leave_in_urls() {
        assert_eq!(
            redact_url("postgres://steward:s3cret@db:5432/steward"),
            "postgres://steward:***@db:5432/steward"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1/x"),
            "postgres://postgres@127.0.0.1/x"
        );
        assert_eq!(redact_url("sqlite://./a.db"), "sqlite://./a.db");
    }

    #[test]
    fn filters_number_their_placeholders() {
        let q = sql("SELECT 1 WHERE a = $1")
            .bind(1)
            .push_bound(" AND b = {}", "x")
            .push_bound(" AND c > {}", 3);
        assert_eq!(q.text, "SELECT 1 WHERE a = $1 AND b = $2 AND c > $3");
        assert_eq!(q.args.len(), 3);
    }
}
