//! Backups: the whole database as one portable file, and restoring it into an empty database
//! of either backend.
//!
//! The file is JSON lines: a header (format, version, source backend, schema version, time),
//! then per table a line naming its columns and their portable types followed by one JSON
//! array per row, and last a trailer with every table's row count, so that a truncated file is
//! refused. Integers are numbers, text is strings, booleans are `true`/`false` (SQLite keeps
//! them as 0/1; the declared column type tells), bytes are hex strings, NULL is `null`.
//! Derived search data (SQLite's `*_fts` tables, PostgreSQL's `search` columns) is left out
//! and rebuilt by the restore.
//!
//! A backup reads every table inside one read-only snapshot, so it is consistent while the
//! server keeps writing. A restore is one transaction: all of the file or nothing.

use crate::db::{AnyRows, Arg, Sql, Tx, sql};
use crate::{Backend, Store, StoreError, StoreResult};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Write};

/// What the header's `format` says.
pub const FORMAT: &str = "steward-backup";
/// The file format's version; a restore refuses any other.
pub const VERSION: i64 = 1;

/// Every table of the schema, each after the tables its foreign keys point to (the order of a
/// restore). A migration that adds a table must add it here: a test compares this list with
/// the schema on both backends.
pub const TABLES: &[&str] = &[
    "tenants",
    "journal_heads",
    "journal",
    "tenant_settings",
    "users",
    "teams",
    "team_members",
    "services",
    "customers",
    "contacts",
    "api_tokens",
    "sessions",
    "login_failures",
    "jobs",
    "record_counters",
    "categories",
    "custom_fields",
    "incidents",
    "comments",
    "problems",
    "known_errors",
    "record_links",
    "articles",
    "article_versions",
    "mail_messages",
    "dead_letters",
    "outbox",
    "blobs",
    "attachments",
    "catalogue_items",
    "requests",
    "request_approvals",
    "request_tasks",
    "incident_communications",
    "incident_reviews",
    "watchers",
    "saved_views",
    "notification_templates",
    "calendars",
    "sla_agreements",
    "sla_clocks",
    "sla_exclusions",
    "ci_classes",
    "ci_relationship_types",
    "cis",
    "ci_services",
    "ci_relationships",
    "ci_graph_log",
    "service_customers",
    "record_cis",
    "change_templates",
    "changes",
    "change_cis",
    "change_services",
    "change_records",
    "change_decisions",
    "change_delegations",
    "change_blackouts",
    "change_policies",
    "ci_baselines",
    "ci_baseline_items",
    "assets",
    "asset_cis",
    "asset_reminders",
    "service_designs",
    "service_design_outputs",
    "conformance_assessments",
    "readiness_snapshots",
    "releases",
    "release_changes",
    "release_known_errors",
    "release_criteria",
    "release_deployments",
    "release_deployment_cis",
    "tenant_keys",
    "certificates",
    "certificate_status_history",
    "certificate_reminders",
    "risks",
    "risk_reviews",
    "objectives",
    "objective_measurements",
    "improvements",
    "improvement_steps",
    "management_reviews",
    "review_actions",
    "documents",
    "document_distribution",
    "document_versions",
    "document_reviews",
    "document_acknowledgements",
    "document_reminders",
    "nonconformities",
    "corrective_actions",
    "effectiveness_checks",
    "nonconformity_history",
    "nonconformity_reminders",
    "audit_programmes",
    "audits",
    "audit_members",
    "audit_checklist",
    "audit_findings",
    "sms_roles",
    "role_assignments",
    "raci_entries",
    "competence_requirements",
    "competence_records",
    "competence_actions",
    "competence_reminders",
    "customer_reviews",
    "satisfaction_surveys",
    "ticket_ratings",
    "complaints",
    "complaint_history",
    "complaint_escalations",
    "complaint_reminders",
    "suppliers",
    "supplier_services",
    "supplier_uc_links",
    "supplier_contracts",
    "supplier_contract_reviews",
    "supplier_reviews",
    "supplier_disputes",
    "supplier_dispute_steps",
    "supplier_reminders",
];

/// Columns that point into their own table (a category's parent may come after it): a restore
/// inserts them empty and sets them once the whole table is in.
const SELF_REFERENCES: &[(&str, &str)] = &[("categories", "parent_id")];

/// Rows read or inserted per statement.
const BATCH_ROWS: usize = 500;
/// Bound values per statement, under both backends' limits (SQLite 32766, PostgreSQL 65535).
const MAX_VALUES: usize = 30_000;

/// A column's portable type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Text,
    Bool,
    Bytes,
    /// Derived data that backups leave out (PostgreSQL's `tsvector` search columns).
    Skip,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Int => "int",
            Kind::Text => "text",
            Kind::Bool => "bool",
            Kind::Bytes => "bytes",
            Kind::Skip => "skip",
        }
    }

    /// From a column's declared type: SQLite's `pragma_table_info` or PostgreSQL's
    /// `information_schema.columns.data_type`.
    fn of(declared: &str) -> Option<Kind> {
        let t = declared.to_ascii_lowercase();
        Some(if t.contains("bool") {
            Kind::Bool
        } else if t.contains("int") {
            Kind::Int
        } else if t.contains("text") || t.contains("char") {
            Kind::Text
        } else if t == "blob" || t == "bytea" {
            Kind::Bytes
        } else if t == "tsvector" {
            Kind::Skip
        } else {
            return None;
        })
    }
}

#[derive(Debug, Clone)]
struct Column {
    name: String,
    kind: Kind,
}

/// What a backup or restore did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackupSummary {
    pub tables: usize,
    pub rows: u64,
    pub bytes: u64,
}

fn bad_file(message: impl std::fmt::Display) -> StoreError {
    StoreError::Config(format!("not a usable Steward backup: {message}"))
}

fn io_error(e: std::io::Error) -> StoreError {
    StoreError::Config(format!("cannot write the backup: {e}"))
}

/// The first line of a backup.
#[derive(serde::Serialize)]
struct Header {
    format: &'static str,
    version: i64,
    backend: &'static str,
    schema_version: i64,
    created_at: String,
}

/// The line before a table's rows.
#[derive(serde::Serialize)]
struct TableLine<'a> {
    table: &'a str,
    columns: Vec<&'a str>,
    types: Vec<&'static str>,
}

/// The last line: what a complete file holds.
#[derive(serde::Serialize)]
struct Trailer {
    end: bool,
    tables: serde_json::Map<String, Value>,
    rows: u64,
}

/// Counts the bytes written through it.
struct Counting<'a, W: Write> {
    inner: &'a mut W,
    bytes: u64,
}

impl<W: Write> Counting<'_, W> {
    fn line(&mut self, value: &impl serde::Serialize) -> StoreResult<()> {
        let mut text = serde_json::to_vec(value)
            .map_err(|e| StoreError::Config(format!("cannot encode a row: {e}")))?;
        text.push(b'\n');
        self.inner.write_all(&text).map_err(io_error)?;
        self.bytes += text.len() as u64;
        Ok(())
    }
}

impl Store {
    /// Writes the whole database to `out` as one consistent snapshot, while other connections
    /// keep writing. `progress` hears each table's name and the rows written so far in all.
    pub async fn backup(
        &self,
        out: &mut (impl Write + Send),
        mut progress: impl FnMut(&str, u64),
    ) -> StoreResult<BackupSummary> {
        let backend = self.backend();
        let mut tx = self.db.snapshot().await?;
        let schema_version: (Option<i64>,) = tx
            .fetch_one(sql(
                "SELECT MAX(version) FROM _sqlx_migrations WHERE success = TRUE",
            ))
            .await?;
        let mut out = Counting {
            inner: out,
            bytes: 0,
        };
        out.line(&Header {
            format: FORMAT,
            version: VERSION,
            backend: backend.name(),
            schema_version: schema_version.0.unwrap_or(0),
            created_at: jiff::Timestamp::now().to_string(),
        })?;
        let mut counts = serde_json::Map::new();
        let mut total = 0u64;
        for &table in TABLES {
            let columns: Vec<Column> = columns(&mut tx, table)
                .await?
                .into_iter()
                .filter(|c| c.kind != Kind::Skip)
                .collect();
            let key = primary_key(&mut tx, table).await?;
            let key_at: Vec<usize> = key
                .iter()
                .map(|k| {
                    columns.iter().position(|c| &c.name == k).ok_or_else(|| {
                        StoreError::Corrupt(format!("{table}: key column {k} not found"))
                    })
                })
                .collect::<StoreResult<_>>()?;
            out.line(&TableLine {
                table,
                columns: columns.iter().map(|c| c.name.as_str()).collect(),
                types: columns.iter().map(|c| c.kind.name()).collect(),
            })?;
            progress(table, total);
            let list = columns
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let order = key.join(", ");
            let mut after: Option<Vec<Value>> = None;
            let mut count = 0u64;
            loop {
                // Keyset pagination on the primary key: each batch costs the same.
                let mut q = sql(format!("SELECT {list} FROM {table}"));
                if let Some(last) = &after {
                    let mut placeholders = Vec::new();
                    for (i, &at) in key_at.iter().enumerate() {
                        placeholders.push(format!("${}", i + 1));
                        q = q.bind(arg(&columns[at], &last[at])?);
                    }
                    q = q.push(&format!(" WHERE ({order}) > ({})", placeholders.join(", ")));
                }
                q = q.push(&format!(" ORDER BY {order} LIMIT {BATCH_ROWS}"));
                let rows = decode(tx.fetch_any(q).await?, table, &columns)?;
                let n = rows.len();
                for row in &rows {
                    out.line(&Value::Array(row.clone()))?;
                }
                count += n as u64;
                total += n as u64;
                progress(table, total);
                after = rows.into_iter().last();
                if n < BATCH_ROWS {
                    break;
                }
            }
            counts.insert(table.to_owned(), json!(count));
        }
        out.line(&Trailer {
            end: true,
            tables: counts,
            rows: total,
        })?;
        out.inner.flush().map_err(io_error)?;
        // Ends the snapshot now (it wrote nothing), so SQLite can checkpoint past it.
        tx.commit().await?;
        Ok(BackupSummary {
            tables: TABLES.len(),
            rows: total,
            bytes: out.bytes,
        })
    }

    /// Loads a backup into this database, which must be migrated to the backup's schema version
    /// and empty. All of it or nothing: any problem, including a truncated file, rolls back.
    /// Search entries are rebuilt, and on PostgreSQL the id sequences continue after the
    /// restored ids. `progress` hears each table's name and the rows inserted so far in all.
    pub async fn restore(
        &self,
        input: impl BufRead,
        mut progress: impl FnMut(&str, u64),
    ) -> StoreResult<BackupSummary> {
        let backend = self.backend();
        if !self.is_migrated().await? {
            return Err(StoreError::Config(
                "the target database is not migrated: create it with `steward init` first".into(),
            ));
        }
        let mut lines = input.lines();
        let mut bytes = 0u64;
        let mut next_line = |what: &str| -> StoreResult<Option<String>> {
            match lines.next() {
                None => Ok(None),
                Some(Ok(line)) => {
                    bytes += line.len() as u64 + 1;
                    Ok(Some(line))
                }
                Some(Err(e)) => Err(bad_file(format!("cannot read {what}: {e}"))),
            }
        };

        let header = next_line("the header")?.ok_or_else(|| bad_file("the file is empty"))?;
        let header: Value = serde_json::from_str(&header)
            .map_err(|_| bad_file("the first line is not a backup header"))?;
        if header["format"] != FORMAT {
            return Err(bad_file("the first line is not a Steward backup header"));
        }
        if header["version"] != VERSION {
            return Err(bad_file(format!(
                "format version {} is not supported (this build reads version {VERSION})",
                header["version"]
            )));
        }
        let expected = self.schema_version();
        if header["schema_version"] != expected {
            return Err(StoreError::Config(format!(
                "the backup has schema version {} but this build's is {expected}: restore it with the Steward version that wrote it",
                header["schema_version"]
            )));
        }

        let mut tx = self.db.begin().await?;
        let (applied,): (Option<i64>,) = tx
            .fetch_one(sql(
                "SELECT MAX(version) FROM _sqlx_migrations WHERE success = TRUE",
            ))
            .await?;
        if applied != Some(expected) {
            return Err(StoreError::Config(format!(
                "the target database has schema version {} but this build's is {expected}: restore with the Steward version that manages it",
                applied.unwrap_or(0)
            )));
        }
        for &table in TABLES {
            let (found,): (i64,) = tx
                .fetch_one(sql(format!(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM {table} LIMIT 1) AS t"
                )))
                .await?;
            if found > 0 {
                return Err(StoreError::Conflict(format!(
                    "the target database is not empty (table {table} has rows): restore only into a new database created with `steward init`"
                )));
            }
        }
        let identity = identity_tables(&mut tx).await?;

        let mut counted: BTreeMap<String, u64> = BTreeMap::new();
        let mut total = 0u64;
        let mut current: Option<Target> = None;
        let mut batch: Vec<Vec<Value>> = Vec::new();
        let trailer = loop {
            let Some(line) = next_line("a row")? else {
                let after = current
                    .as_ref()
                    .map_or_else(|| "the header".to_owned(), |t| format!("table {}", t.table));
                return Err(bad_file(format!(
                    "the file is truncated (it ends in {after}, without the end marker)"
                )));
            };
            if line.trim().is_empty() {
                continue;
            }
            let value: Value = serde_json::from_str(&line).map_err(|e| {
                bad_file(format!(
                    "a line of {} is not JSON ({e})",
                    current.as_ref().map_or("the file", |t| t.table.as_str())
                ))
            })?;
            match value {
                Value::Array(row) => {
                    let target = current
                        .as_mut()
                        .ok_or_else(|| bad_file("a row comes before any table"))?;
                    if row.len() != target.from_file.len() {
                        return Err(bad_file(format!(
                            "a row of {} has {} values for {} columns",
                            target.table,
                            row.len(),
                            target.from_file.len()
                        )));
                    }
                    batch.push(row);
                    *counted.entry(target.table.clone()).or_default() += 1;
                    total += 1;
                    if batch.len() >= target.batch_rows() {
                        target.insert(&mut tx, &mut batch).await?;
                        progress(&target.table, total);
                    }
                }
                Value::Object(object) => {
                    if let Some(mut target) = current.take() {
                        target.insert(&mut tx, &mut batch).await?;
                        target.finish(&mut tx).await?;
                        progress(&target.table, total);
                    }
                    if object.get("end") == Some(&Value::Bool(true)) {
                        break object;
                    }
                    let name = object
                        .get("table")
                        .and_then(Value::as_str)
                        .ok_or_else(|| bad_file("a line is neither a table, a row nor the end"))?;
                    let Some(&table) = TABLES.iter().find(|t| **t == name) else {
                        return Err(bad_file(format!("unknown table {name}")));
                    };
                    if counted.contains_key(table) {
                        return Err(bad_file(format!("table {table} appears twice")));
                    }
                    counted.insert(table.to_owned(), 0);
                    let target =
                        Target::new(&mut tx, table, &object, identity.contains_key(table)).await?;
                    current = Some(target);
                }
                _ => return Err(bad_file("a line is neither a table, a row nor the end")),
            }
        };

        while let Some(line) = next_line("the end")? {
            if !line.trim().is_empty() {
                return Err(bad_file("there is more after the end marker"));
            }
        }
        // The trailer must account for every table and row, or the file was cut or edited.
        let claimed = trailer
            .get("tables")
            .and_then(Value::as_object)
            .ok_or_else(|| bad_file("the end marker has no table counts"))?;
        for &table in TABLES {
            let got = counted.get(table).copied();
            let want = claimed.get(table).and_then(Value::as_u64);
            match (got, want) {
                (Some(got), Some(want)) if got == want => {}
                (None, _) => return Err(bad_file(format!("table {table} is missing"))),
                (Some(got), want) => {
                    return Err(bad_file(format!(
                        "table {table} has {got} rows but the end marker says {}",
                        want.map_or("nothing".to_owned(), |w| w.to_string())
                    )));
                }
            }
        }

        crate::search::reindex_everything(&mut tx).await?;
        if backend == Backend::Postgres {
            for (table, column) in &identity {
                let _: (i64,) = tx
                    .fetch_one(
                        sql(format!(
                            "SELECT setval(pg_get_serial_sequence($1, $2), \
                             COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
                        ))
                        .bind(table.as_str())
                        .bind(column.as_str()),
                    )
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(BackupSummary {
            tables: TABLES.len(),
            rows: total,
            bytes,
        })
    }
}

/// A table being restored: how the file's columns map onto the target's.
struct Target {
    table: String,
    /// The file's columns, as the target types them.
    from_file: Vec<Column>,
    /// Whether PostgreSQL needs `OVERRIDING SYSTEM VALUE` to take the file's ids.
    identity: bool,
    /// Positions of self-referencing columns (inserted empty, set afterwards), and the
    /// (id, value) pairs to set.
    deferred: Vec<usize>,
    id_at: Option<usize>,
    pending: Vec<(String, Arg, Arg)>,
}

impl Target {
    async fn new(
        tx: &mut Tx,
        table: &str,
        line: &serde_json::Map<String, Value>,
        identity: bool,
    ) -> StoreResult<Target> {
        let strings = |field: &str| -> StoreResult<Vec<String>> {
            line.get(field)
                .and_then(Value::as_array)
                .and_then(|a| {
                    a.iter()
                        .map(|v| v.as_str().map(str::to_owned))
                        .collect::<Option<Vec<_>>>()
                })
                .ok_or_else(|| bad_file(format!("table {table} does not list its {field}")))
        };
        let names = strings("columns")?;
        let types = strings("types")?;
        if names.len() != types.len() {
            return Err(bad_file(format!("table {table}: columns and types differ")));
        }
        let target: HashMap<String, Kind> = columns(tx, table)
            .await?
            .into_iter()
            .filter(|c| c.kind != Kind::Skip)
            .map(|c| (c.name, c.kind))
            .collect();
        let distinct: std::collections::HashSet<&String> = names.iter().collect();
        if distinct.len() != names.len() {
            return Err(bad_file(format!("table {table} lists a column twice")));
        }
        if target.len() != names.len() {
            return Err(bad_file(format!(
                "table {table} has {} columns in the backup but {} here",
                names.len(),
                target.len()
            )));
        }
        let mut from_file = Vec::new();
        for (name, ty) in names.iter().zip(&types) {
            let kind = *target.get(name).ok_or_else(|| {
                bad_file(format!(
                    "column {table}.{name} does not exist in this database"
                ))
            })?;
            if kind.name() != ty {
                return Err(bad_file(format!(
                    "column {table}.{name} is {ty} in the backup but {} here",
                    kind.name()
                )));
            }
            from_file.push(Column {
                name: name.clone(),
                kind,
            });
        }
        let deferred = from_file
            .iter()
            .enumerate()
            .filter(|(_, c)| SELF_REFERENCES.contains(&(table, c.name.as_str())))
            .map(|(i, _)| i)
            .collect::<Vec<_>>();
        let id_at = from_file.iter().position(|c| c.name == "id");
        if !deferred.is_empty() && id_at.is_none() {
            return Err(bad_file(format!("table {table} has no id column")));
        }
        Ok(Target {
            table: table.to_owned(),
            from_file,
            identity,
            deferred,
            id_at,
            pending: Vec::new(),
        })
    }

    fn batch_rows(&self) -> usize {
        (MAX_VALUES / self.from_file.len().max(1)).clamp(1, BATCH_ROWS)
    }

    /// Inserts the rows of `batch` (emptying it) in one statement.
    async fn insert(&mut self, tx: &mut Tx, batch: &mut Vec<Vec<Value>>) -> StoreResult<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let list = self
            .from_file
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let overriding = if self.identity && tx.backend() == Backend::Postgres {
            " OVERRIDING SYSTEM VALUE"
        } else {
            ""
        };
        let mut q: Sql = sql(format!(
            "INSERT INTO {} ({list}){overriding} VALUES ",
            self.table
        ));
        for (r, row) in batch.drain(..).enumerate() {
            q = q.push(if r == 0 { "(" } else { ", (" });
            for (i, (column, value)) in self.from_file.iter().zip(&row).enumerate() {
                let mut bound = arg(column, value)
                    .map_err(|e| bad_file(format!("table {}: {e}", self.table)))?;
                if self.deferred.contains(&i) && !value.is_null() {
                    if let Some(id_at) = self.id_at {
                        let id = arg(&self.from_file[id_at], &row[id_at])?;
                        self.pending.push((column.name.clone(), id, bound));
                    }
                    bound = Arg::Int(None);
                }
                q = q.push_bound(if i == 0 { "{}" } else { ", {}" }, bound);
            }
            q = q.push(")");
        }
        tx.execute(q).await?;
        Ok(())
    }

    /// Sets the self-references once every row of the table is in.
    async fn finish(&self, tx: &mut Tx) -> StoreResult<()> {
        for (column, id, value) in &self.pending {
            tx.execute(
                sql(format!(
                    "UPDATE {} SET {column} = $1 WHERE id = $2",
                    self.table
                ))
                .bind(value.clone())
                .bind(id.clone()),
            )
            .await?;
        }
        Ok(())
    }
}

/// A JSON value from a backup as the value bound to a column of `kind`.
fn arg(column: &Column, value: &Value) -> StoreResult<Arg> {
    let wrong = || {
        bad_file(format!(
            "column {} holds {value}, not {}",
            column.name,
            column.kind.name()
        ))
    };
    Ok(match (column.kind, value) {
        (Kind::Int, Value::Null) => Arg::Int(None),
        (Kind::Int, Value::Number(n)) => Arg::Int(Some(n.as_i64().ok_or_else(wrong)?)),
        (Kind::Text, Value::Null) => Arg::Text(None),
        (Kind::Text, Value::String(s)) => Arg::Text(Some(s.clone())),
        (Kind::Bool, Value::Bool(b)) => Arg::Bool(*b),
        (Kind::Bytes, Value::Null) => Arg::Bytes(None),
        (Kind::Bytes, Value::String(s)) => Arg::Bytes(Some(hex::decode(s).map_err(|_| wrong())?)),
        _ => return Err(wrong()),
    })
}

/// Rows read generically, as portable JSON values.
fn decode(rows: AnyRows, table: &str, columns: &[Column]) -> StoreResult<Vec<Vec<Value>>> {
    fn one<R>(row: &R, i: usize, kind: Kind) -> Result<Value, sqlx::Error>
    where
        R: sqlx::Row,
        usize: sqlx::ColumnIndex<R>,
        for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        for<'r> Option<i32>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        for<'r> Option<bool>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        for<'r> Option<Vec<u8>>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    {
        Ok(match kind {
            Kind::Int => match row.try_get::<Option<i64>, _>(i) {
                Ok(v) => json!(v),
                // PostgreSQL's INTEGER columns are 32-bit.
                Err(_) => json!(row.try_get::<Option<i32>, _>(i)?),
            },
            Kind::Text => json!(row.try_get::<Option<String>, _>(i)?),
            Kind::Bool => json!(row.try_get::<Option<bool>, _>(i)?),
            Kind::Bytes => json!(row.try_get::<Option<Vec<u8>>, _>(i)?.map(hex::encode)),
            Kind::Skip => Value::Null,
        })
    }
    fn all<R>(rows: Vec<R>, table: &str, columns: &[Column]) -> StoreResult<Vec<Vec<Value>>>
    where
        R: sqlx::Row,
        usize: sqlx::ColumnIndex<R>,
        for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        for<'r> Option<i32>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        for<'r> Option<bool>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        for<'r> Option<Vec<u8>>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    {
        rows.iter()
            .map(|row| {
                columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        one(row, i, c.kind).map_err(|e| {
                            StoreError::Corrupt(format!(
                                "cannot read {table}.{} as {}: {e}",
                                c.name,
                                c.kind.name()
                            ))
                        })
                    })
                    .collect()
            })
            .collect()
    }
    match rows {
        AnyRows::Sqlite(rows) => all(rows, table, columns),
        AnyRows::Postgres(rows) => all(rows, table, columns),
    }
}

/// A table's columns in their declared order, with their portable types.
async fn columns(tx: &mut Tx, table: &str) -> StoreResult<Vec<Column>> {
    let q = match tx.backend() {
        Backend::Sqlite => {
            sql("SELECT name, type FROM pragma_table_info($1) ORDER BY cid").bind(table)
        }
        Backend::Postgres => sql(
            "SELECT column_name::TEXT, data_type::TEXT FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        )
        .bind(table),
    };
    let found: Vec<(String, String)> = tx.fetch_all(q).await?;
    if found.is_empty() {
        return Err(StoreError::Corrupt(format!(
            "table {table} does not exist: is the database migrated?"
        )));
    }
    found
        .into_iter()
        .map(|(name, declared)| {
            let kind = Kind::of(&declared).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "column {table}.{name} has type {declared}, which backups do not know"
                ))
            })?;
            Ok(Column { name, kind })
        })
        .collect()
}

/// A table's primary key columns, in key order.
async fn primary_key(tx: &mut Tx, table: &str) -> StoreResult<Vec<String>> {
    let q = match tx.backend() {
        Backend::Sqlite => {
            sql("SELECT name FROM pragma_table_info($1) WHERE pk > 0 ORDER BY pk").bind(table)
        }
        Backend::Postgres => sql("SELECT a.attname::TEXT FROM pg_index i \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
             WHERE i.indrelid = $1::regclass AND i.indisprimary \
             ORDER BY array_position(i.indkey::int2[], a.attnum)")
        .bind(table),
    };
    let key: Vec<(String,)> = tx.fetch_all(q).await?;
    if key.is_empty() {
        return Err(StoreError::Corrupt(format!(
            "table {table} has no primary key, which backups need"
        )));
    }
    Ok(key.into_iter().map(|(k,)| k).collect())
}

/// Tables with an identity or serial column on PostgreSQL, and that column; none on SQLite,
/// where an inserted id moves the rowid counter by itself.
async fn identity_tables(tx: &mut Tx) -> StoreResult<BTreeMap<String, String>> {
    if tx.backend() == Backend::Sqlite {
        return Ok(BTreeMap::new());
    }
    let rows: Vec<(String, String)> = tx
        .fetch_all(sql(
            "SELECT table_name::TEXT, column_name::TEXT FROM information_schema.columns \
             WHERE table_schema = current_schema() \
             AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')",
        ))
        .await?;
    Ok(rows.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every foreign key points to a table listed earlier, or to its own table through a
    /// column that restores set afterwards: the order `restore` inserts in.
    #[tokio::test]
    async fn tables_come_after_what_they_reference() {
        let db = crate::testing::TestDb::sqlite().await.expect("sqlite");
        let keys: Vec<(String, String, String)> = db
            .store
            .db
            .fetch_all(sql(
                "SELECT m.name, f.\"table\", f.\"from\" FROM sqlite_master m, \
                 pragma_foreign_key_list(m.name) f WHERE m.type = 'table'",
            ))
            .await
            .expect("foreign keys");
        assert!(keys.len() > 50);
        let at = |t: &str| TABLES.iter().position(|x| *x == t);
        for (table, target, column) in keys {
            let (Some(from), Some(to)) = (at(&table), at(&target)) else {
                panic!("{table} or {target} is not in TABLES");
            };
            if from == to {
                assert!(
                    SELF_REFERENCES.contains(&(table.as_str(), column.as_str())),
                    "{table}.{column} refers to its own table: list it in SELF_REFERENCES"
                );
            } else {
                assert!(to < from, "{table} must come after {target} in TABLES");
            }
        }
        db.finish().await;
    }

    #[test]
    fn declared_types_map_to_portable_kinds() {
        assert_eq!(Kind::of("INTEGER"), Some(Kind::Int));
        assert_eq!(Kind::of("bigint"), Some(Kind::Int));
        assert_eq!(Kind::of("BOOLEAN"), Some(Kind::Bool));
        assert_eq!(Kind::of("boolean"), Some(Kind::Bool));
        assert_eq!(Kind::of("TEXT"), Some(Kind::Text));
        assert_eq!(Kind::of("BLOB"), Some(Kind::Bytes));
        assert_eq!(Kind::of("bytea"), Some(Kind::Bytes));
        assert_eq!(Kind::of("tsvector"), Some(Kind::Skip));
        assert_eq!(Kind::of("REAL"), None);
    }
}
