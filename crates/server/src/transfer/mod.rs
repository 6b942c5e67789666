//! Moving incidents, service requests and problems in from other tools and out again, as CSV:
//! the engine behind `steward import`/`steward export` (crates/cli/src/transfer.rs) and
//! `POST /api/v1/imports/{kind}` (`api/imports.rs`). Imported records keep their original
//! timestamps and their id from the old tool (`external_id`), so importing the same file again
//! updates instead of duplicating.
//!
//! The machinery is shared by every kind: checking every row of a file before anything is
//! written and naming each bad one by line ([`check_csv`]), writing the good rows
//! ([`import_rows`]) and the export writer ([`export_csv`]). A kind ([`Kind`]) only names its
//! columns, turns a row into what the store writes, and turns a record into a row. Reading
//! files, progress bars and messages belong to the callers.

mod cis;
#[doc(hidden)]
pub mod fuzzing;
mod incidents;
mod problems;
mod requests;

pub use cis::{
    ATTRIBUTE, CI_COLUMNS, CiKnown, CiPlan, Plan, RELATIONSHIP_COLUMNS, RelationshipPlan,
    check_cis, check_relationships, import_plans,
};
pub use incidents::Incidents;
pub use problems::Problems;
pub use requests::Requests;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::future::Future;
use std::io::Write;
use steward_domain::incident::PriorityMatrix;
use steward_store::external::Imported;
use steward_store::identity::UserFilter;
use steward_store::request::CatalogueItem;
use steward_store::service::ServiceFilter;
use steward_store::{Actor, Page, PageRequest, Store, StoreError, StoreResult};

/// What differs between the kinds of record that move as CSV.
///
/// The kinds are [`Incidents`], [`Requests`] and [`Problems`]; the futures are `Send` so that
/// the API's handlers can run them.
pub trait Kind {
    /// The record's name in messages: `incident`.
    const NAME: &'static str;
    const IMPORTED: Imported;
    /// The columns an export writes, in order. An import accepts the same columns and ignores
    /// those Steward works out itself (`key`, `priority`), so an export can be imported again.
    const EXPORTED: &'static [&'static str];
    /// What one good row becomes: the values the store writes.
    type Fields: Send + Sync;
    type Record: Send + Sync;

    /// Turns a row into the values to store, or every reason it cannot be imported. The
    /// shared part has already checked `external_id`.
    fn fields(row: &Row, known: &Known, now: i64) -> Result<Self::Fields, Vec<String>>;

    /// Creates the record imported under `external_id`, or updates it; `true` if it was new.
    fn upsert(
        store: &Store,
        tenant_id: i64,
        external_id: &str,
        fields: &Self::Fields,
        known: &Known,
        actor: &Actor,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// One page of the tenant's records, oldest first (`cursor` from the page before).
    fn page(
        store: &Store,
        tenant_id: i64,
        cursor: Option<String>,
    ) -> impl Future<Output = StoreResult<Page<Self::Record>>> + Send;

    fn id(record: &Self::Record) -> i64;

    /// A record's cells, in the order of `EXPORTED`.
    fn cells(record: &Self::Record, external_id: &str, known: &Known) -> Vec<String>;
}

/// One CSV row as read: every cell is text, so that each problem can be named.
#[derive(Debug, Default)]
pub struct Row(HashMap<String, String>);

impl Row {
    fn new<'a>(cells: impl IntoIterator<Item = (&'a str, &'a str)>) -> Row {
        Row(cells
            .into_iter()
            .map(|(column, cell)| (column.to_owned(), cell.to_owned()))
            .collect())
    }

    /// The cell of a column; empty when the file has no such column.
    fn get(&self, column: &str) -> &str {
        self.0.get(column).map_or("", String::as_str)
    }
}

/// The tenant's records that rows name, loaded once per run: by name for an import, by id for an
/// export.
pub struct Known {
    matrix: PriorityMatrix,
    services: Names,
    categories: Names,
    users: Names,
    item_names: Names,
    items: HashMap<i64, CatalogueItem>,
}

impl Known {
    pub async fn load(store: &Store, tenant_id: i64) -> StoreResult<Known> {
        let categories = store.category_tree(tenant_id).await?;
        let items = store.items(tenant_id, false).await?;
        Ok(Known {
            matrix: store.settings(tenant_id).await?.priority_matrix,
            services: service_names(store, tenant_id).await?,
            categories: Names::new(
                "no category",
                categories.into_iter().map(|c| (c.category.id, c.path)),
            ),
            users: user_names(store, tenant_id).await?,
            item_names: Names::new(
                "no catalogue item named",
                items.iter().map(|i| (i.id, i.name.clone())),
            ),
            items: items.into_iter().map(|i| (i.id, i)).collect(),
        })
    }

    /// Nothing known but the default priority matrix (for tests).
    #[cfg(test)]
    fn empty() -> Known {
        Known {
            matrix: PriorityMatrix::default(),
            services: Names::new("no service named", []),
            categories: Names::new("no category", []),
            users: Names::new("no user with e-mail", []),
            item_names: Names::new("no catalogue item named", []),
            items: HashMap::new(),
        }
    }
}

/// The tenant's services by name.
async fn service_names(store: &Store, tenant_id: i64) -> StoreResult<Names> {
    let services = every(|page| async move {
        store
            .services(tenant_id, &ServiceFilter::default(), &page)
            .await
    })
    .await?;
    Ok(Names::new(
        "no service named",
        services.into_iter().map(|s| (s.id, s.name)),
    ))
}

/// The tenant's users by e-mail.
async fn user_names(store: &Store, tenant_id: i64) -> StoreResult<Names> {
    let users =
        every(|page| async move { store.users(tenant_id, &UserFilter::default(), &page).await })
            .await?;
    Ok(Names::new(
        "no user with e-mail",
        users.into_iter().map(|u| (u.id, u.email)),
    ))
}

/// Every page of a list. (`fetch` is a closure returning a future rather than an async
/// closure: the futures of async closures are not known to be `Send`, which the API needs.)
async fn every<T, F>(mut fetch: impl FnMut(PageRequest) -> F) -> StoreResult<Vec<T>>
where
    F: Future<Output = StoreResult<Page<T>>>,
{
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let page = fetch(PageRequest {
            limit: Some(500),
            cursor,
        })
        .await?;
        all.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(all),
        }
    }
}

/// Names of one kind of record, both ways. Names compare without case; a category's is its
/// path, whose levels a file may separate with `›` or `/`.
struct Names {
    /// Starts the message for a name that is not found: `no service named`.
    missing: &'static str,
    ids: HashMap<String, Vec<i64>>,
    names: HashMap<i64, String>,
}

impl Names {
    fn new(missing: &'static str, all: impl IntoIterator<Item = (i64, String)>) -> Names {
        let mut names = Names {
            missing,
            ids: HashMap::new(),
            names: HashMap::new(),
        };
        for (id, name) in all {
            names.ids.entry(comparable(&name)).or_default().push(id);
            names.names.insert(id, name);
        }
        names
    }

    /// The record a cell names; `None` for an empty cell.
    fn find(&self, text: &str) -> Result<Option<i64>, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let found = self.ids.get(&comparable(text)).or_else(|| {
            (!text.contains('›'))
                .then(|| self.ids.get(&comparable(&text.replace('/', "›"))))
                .flatten()
        });
        match found.map(Vec::as_slice) {
            Some([id]) => Ok(Some(*id)),
            Some(ids) if ids.len() > 1 => Err(format!(
                "`{text}` is ambiguous: {} records have that name",
                ids.len()
            )),
            _ => Err(format!("{} `{text}`", self.missing)),
        }
    }

    /// The name of a record, or nothing.
    fn name(&self, id: Option<i64>) -> String {
        id.and_then(|id| self.names.get(&id))
            .cloned()
            .unwrap_or_default()
    }
}

/// A name as names compare: each level of a path trimmed, without case.
fn comparable(name: &str) -> String {
    name.split('›')
        .map(|level| level.trim().to_lowercase())
        .collect::<Vec<_>>()
        .join("›")
}

/// A time cell: RFC 3339, or empty.
fn instant(column: &str, text: &str) -> Result<Option<i64>, String> {
    match text.trim() {
        "" => Ok(None),
        t => t
            .parse::<jiff::Timestamp>()
            .map(|ts| Some(ts.as_microsecond()))
            .map_err(|_| {
                format!("{column} `{t}` is not an RFC 3339 time such as 2024-03-01T09:30:00Z")
            }),
    }
}

/// A cell holding one of a fixed set of words; `default` when empty.
fn parsed<T>(
    column: &str,
    text: &str,
    default: T,
    parse: fn(&str) -> Option<T>,
) -> Result<T, String> {
    match text.trim() {
        "" => Ok(default),
        t => parse(t).ok_or_else(|| format!("{column} `{t}` is not allowed")),
    }
}

/// The `opened_at` cell, or `now` if it is empty, with the name `in_order` gives it.
fn opened_at(errors: &mut Vec<String>, row: &Row, now: i64) -> (i64, &'static str) {
    match take(errors, instant("opened_at", row.get("opened_at"))).flatten() {
        Some(at) => (at, "opened_at"),
        None => (now, "opened_at (now, as it is empty)"),
    }
}

/// The value, or `None` with the reason noted.
fn take<T>(errors: &mut Vec<String>, result: Result<T, String>) -> Option<T> {
    result.map_err(|e| errors.push(e)).ok()
}

/// Checks a lifecycle time against the row's status: there if the status `needs` it, empty if
/// the status cannot have it (`allowed` false).
fn status_time(
    errors: &mut Vec<String>,
    column: &str,
    value: Option<i64>,
    status: &str,
    needs: bool,
    allowed: bool,
) {
    match value {
        None if needs => errors.push(format!("{column} is required when status is {status}")),
        Some(_) if !allowed => {
            errors.push(format!("{column} must be empty when status is {status}"));
        }
        _ => {}
    }
}

/// Checks that lifecycle times do not go back: each given one is no earlier than the one
/// before it.
fn in_order(errors: &mut Vec<String>, times: &[(&str, Option<i64>)]) {
    let mut latest: Option<(&str, i64)> = None;
    for (column, value) in times {
        let Some(value) = *value else { continue };
        match latest {
            Some((earlier, at)) if value < at => {
                errors.push(format!("{column} is before {earlier}"));
            }
            _ => latest = Some((column, value)),
        }
    }
}

fn rfc3339(micros: Option<i64>) -> String {
    micros
        .and_then(|m| jiff::Timestamp::from_microsecond(m).ok())
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// A good row: its line, its external id and what it becomes.
pub struct Good<F> {
    pub line: u64,
    pub external_id: String,
    pub fields: F,
}

/// A row that cannot be imported, or the header row (line 1): where it starts, its external
/// id (empty when it has none or cannot be read) and every reason. The API lists these in a
/// refused import's problem document (`rows`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RowError {
    /// The line of the file the row starts on (the header is line 1).
    pub line: u64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub external_id: String,
    pub reasons: Vec<String>,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reasons.join("; "))
    }
}

/// Where the lines of a file start, to name the line a byte is on. The CSV reader counts only
/// `\n`, so a file with old Mac line ends (`\r` alone) would be all "line 1".
struct LineStarts(Vec<u64>);

impl LineStarts {
    fn new(data: &[u8]) -> LineStarts {
        let mut starts = vec![0];
        for (i, &b) in data.iter().enumerate() {
            if b == b'\n' || (b == b'\r' && data.get(i + 1) != Some(&b'\n')) {
                starts.push(i as u64 + 1);
            }
        }
        LineStarts(starts)
    }

    /// The line (from 1) holding the byte at `offset`.
    fn line(&self, offset: u64) -> u64 {
        self.0.partition_point(|&start| start <= offset) as u64
    }
}

/// Checks a whole CSV file, header and every row, without writing anything: the good rows, or
/// every bad one. Pure once `known` is loaded; the file is held whole, as every good row is
/// kept until all are checked anyway.
pub fn check_csv<K: Kind>(
    data: &[u8],
    known: &Known,
    now: i64,
) -> Result<Vec<Good<K::Fields>>, Vec<RowError>> {
    let header = |header: &[&str]| {
        let columns = K::EXPORTED.join(", ");
        known_columns(header, |c| K::EXPORTED.contains(&c), &columns)
    };
    let key = |row: &Row| match row.get("external_id").trim() {
        "" => Err("external_id is required".to_owned()),
        id => Ok(id.to_owned()),
    };
    check_rows(data, header, "external_id", key, |row| {
        K::fields(row, known, now)
    })
}

/// Refuses a header with a column that `known` does not accept, saying which `columns` are.
fn known_columns(
    header: &[&str],
    known: impl Fn(&str) -> bool,
    columns: &str,
) -> Result<(), String> {
    let unknown: Vec<&str> = header.iter().copied().filter(|c| !known(c)).collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "unknown column(s) {}; the columns are {columns}",
            unknown.join(", ")
        ))
    }
}

/// The machinery under every check of a file: reads the header (`header` says whether its
/// columns will do), then every row, naming each by the line it starts on. `key` names a row
/// (its external id); two rows with the same key are refused, the second naming the first's
/// line as "`{what}` `{key}` is also on line n". `fields` turns a row into what is written.
fn check_rows<F>(
    data: &[u8],
    header: impl Fn(&[&str]) -> Result<(), String>,
    what: &str,
    key: impl Fn(&Row) -> Result<String, String>,
    mut fields: impl FnMut(&Row) -> Result<F, Vec<String>>,
) -> Result<Vec<Good<F>>, Vec<RowError>> {
    let header_error = |reason: String| {
        vec![RowError {
            line: 1,
            external_id: String::new(),
            reasons: vec![reason],
        }]
    };
    let mut csv = csv::ReaderBuilder::new()
        .trim(csv::Trim::Headers)
        .from_reader(data);
    let columns = csv
        .headers()
        .map_err(|e| header_error(format!("cannot read the header row: {e}")))?
        .clone();
    header(&columns.iter().collect::<Vec<_>>()).map_err(header_error)?;
    let line_of = LineStarts::new(data);
    let mut good = Vec::new();
    let mut bad = Vec::new();
    let mut lines: HashMap<String, u64> = HashMap::new();
    for (i, record) in csv.records().enumerate() {
        let fallback = u64::try_from(i).unwrap_or(u64::MAX).saturating_add(2);
        let line = |at: Option<&csv::Position>| at.map_or(fallback, |p| line_of.line(p.byte()));
        let checked = match record {
            Err(e) => {
                let line = line(e.position());
                Err(RowError {
                    line,
                    external_id: String::new(),
                    reasons: vec![format!("unreadable row: {e}")],
                })
            }
            Ok(record) => {
                let line = line(record.position());
                let row = Row::new(columns.iter().zip(record.iter()));
                let mut reasons = Vec::new();
                let external_id = match key(&row) {
                    Ok(id) => {
                        match lines.entry(id.clone()) {
                            Entry::Occupied(first) => reasons
                                .push(format!("{what} `{id}` is also on line {}", first.get())),
                            Entry::Vacant(slot) => {
                                slot.insert(line);
                            }
                        }
                        id
                    }
                    Err(reason) => {
                        reasons.push(reason);
                        String::new()
                    }
                };
                match fields(&row) {
                    Ok(fields) if reasons.is_empty() => Ok(Good {
                        line,
                        external_id,
                        fields,
                    }),
                    Ok(_) => Err(RowError {
                        line,
                        external_id,
                        reasons,
                    }),
                    Err(more) => {
                        reasons.extend(more);
                        Err(RowError {
                            line,
                            external_id,
                            reasons,
                        })
                    }
                }
            }
        };
        match checked {
            Ok(row) => good.push(row),
            Err(row) => bad.push(row),
        }
    }
    if bad.is_empty() { Ok(good) } else { Err(bad) }
}

/// What an import wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    pub created: usize,
    pub updated: usize,
    /// Rows that said what was already there (CIs and relationships only).
    pub unchanged: usize,
}

/// What writing one row did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// A row the store refused while importing: the rows before it are written, the rest not.
#[derive(Debug, thiserror::Error)]
#[error("line {line} ({external_id}): {error}")]
pub struct RowFailed {
    pub line: u64,
    pub external_id: String,
    #[source]
    pub error: StoreError,
}

/// Writes checked rows (from [`check_csv`]) in file order, each in its own transaction,
/// journaled as `actor`, calling `on_row` after each; stops at the first the store refuses.
pub async fn import_rows<K: Kind>(
    store: &Store,
    tenant_id: i64,
    good: &[Good<K::Fields>],
    known: &Known,
    actor: &Actor,
    on_row: impl FnMut() + Send,
) -> Result<Written, RowFailed> {
    write_rows(
        good,
        |row| async move {
            K::upsert(
                store,
                tenant_id,
                &row.external_id,
                &row.fields,
                known,
                actor,
            )
            .await
            .map(|new| {
                if new {
                    Outcome::Created
                } else {
                    Outcome::Updated
                }
            })
        },
        on_row,
    )
    .await
}

/// Writes checked rows in file order with `write`, counting what each did and calling
/// `on_row` after each; stops at the first the store refuses.
async fn write_rows<'a, F, Fut>(
    good: &'a [Good<F>],
    mut write: impl FnMut(&'a Good<F>) -> Fut,
    mut on_row: impl FnMut(),
) -> Result<Written, RowFailed>
where
    Fut: Future<Output = StoreResult<Outcome>>,
{
    let mut written = Written::default();
    for row in good {
        let outcome = write(row).await.map_err(|error| RowFailed {
            line: row.line,
            external_id: row.external_id.clone(),
            error,
        })?;
        match outcome {
            Outcome::Created => written.created += 1,
            Outcome::Updated => written.updated += 1,
            Outcome::Unchanged => written.unchanged += 1,
        }
        on_row();
    }
    Ok(written)
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write CSV")]
    Write(#[from] csv::Error),
}

/// Writes every record of a kind of the tenant as CSV, header first, oldest first; the number
/// of records written.
pub async fn export_csv<K: Kind>(
    store: &Store,
    tenant_id: i64,
    out: impl Write,
) -> Result<usize, ExportError> {
    let mut csv = csv::Writer::from_writer(out);
    let known = Known::load(store, tenant_id).await?;
    let external_ids = store.external_ids(tenant_id, K::IMPORTED).await?;
    csv.write_record(K::EXPORTED)?;
    let mut cursor = None;
    let mut count = 0usize;
    loop {
        let page = K::page(store, tenant_id, cursor).await?;
        for record in &page.items {
            let external_id = external_ids.get(&K::id(record)).map_or("", String::as_str);
            let cells = K::cells(record, external_id, &known);
            debug_assert_eq!(cells.len(), K::EXPORTED.len());
            csv.write_record(&cells)?;
            count += 1;
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    csv.flush().map_err(csv::Error::from)?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_found_without_case_and_paths_by_either_separator() {
        let names = Names::new(
            "no category",
            [
                (1, "Hardware".to_owned()),
                (2, "Hardware › Laptops".to_owned()),
                (3, "I/O".to_owned()),
                (4, "Twice".to_owned()),
                (5, "twice".to_owned()),
            ],
        );
        assert_eq!(names.find(""), Ok(None));
        assert_eq!(names.find(" hardware "), Ok(Some(1)));
        assert_eq!(names.find("Hardware / Laptops"), Ok(Some(2)));
        assert_eq!(names.find("hardware›LAPTOPS"), Ok(Some(2)));
        assert_eq!(names.find("i/o"), Ok(Some(3)), "a name may hold a slash");
        assert_eq!(names.find("Fax"), Err("no category `Fax`".to_owned()));
        assert!(names.find("TWICE").is_err_and(|e| e.contains("ambiguous")));
        assert_eq!(names.name(Some(2)), "Hardware › Laptops");
        assert_eq!(names.name(None), "");
    }

    #[test]
    fn lifecycle_times_follow_the_status_and_each_other() {
        let mut errors = Vec::new();
        status_time(&mut errors, "closed_at", None, "closed", true, true);
        status_time(&mut errors, "closed_at", Some(1), "new", false, false);
        status_time(&mut errors, "resolved_at", Some(1), "new", false, true);
        in_order(
            &mut errors,
            &[
                ("opened_at", Some(5)),
                ("resolved_at", None),
                ("closed_at", Some(4)),
            ],
        );
        in_order(
            &mut errors,
            &[("opened_at", Some(5)), ("closed_at", Some(5))],
        );
        assert_eq!(
            errors,
            [
                "closed_at is required when status is closed",
                "closed_at must be empty when status is new",
                "closed_at is before opened_at",
            ]
        );
    }

    #[test]
    fn the_header_and_every_row_are_checked_before_anything_is_kept() {
        let known = Known::empty();
        let check = |csv: &str| check_csv::<incidents::Incidents>(csv.as_bytes(), &known, 0);
        let unknown = "external_id,title,opend_at\nX-1,Mail down,2024-03-01T09:00:00Z\n";
        let bad = check(unknown)
            .err()
            .expect("a misspelt column refuses the file");
        assert_eq!(bad.len(), 1);
        assert!(
            bad[0]
                .to_string()
                .starts_with("line 1: unknown column(s) opend_at;"),
            "{}",
            bad[0]
        );
        let duplicate = "external_id,title\nX-1,Mail down\nX-1,Mail slow\n";
        assert_eq!(
            check(duplicate)
                .err()
                .expect("an external id twice refuses the file"),
            [RowError {
                line: 3,
                external_id: "X-1".to_owned(),
                reasons: vec!["external_id `X-1` is also on line 2".to_owned()]
            }]
        );
        let good =
            "key,external_id,title,priority\nINC-9,X-1,Mail down,P1\n\"\",X-2,\"Two\nlines\",\n";
        let rows = check(good).expect("good rows");
        assert_eq!(
            rows.iter()
                .map(|r| (r.line, r.external_id.as_str()))
                .collect::<Vec<_>>(),
            [(2, "X-1"), (3, "X-2")],
            "exported columns are accepted, and a row is numbered by the line it starts on"
        );
        let old_mac = check("external_id,title\rX-1,One\rX-1,Two\r")
            .err()
            .expect("an external id twice");
        assert_eq!(
            old_mac[0].to_string(),
            "line 3: external_id `X-1` is also on line 2",
            "lines end with \\r alone too (found by fuzzing: every row was line 1)"
        );
        let ragged = check("external_id,title\nX-1\n\u{ff}")
            .err()
            .expect("unreadable rows");
        assert!(
            ragged[0].reasons[0].starts_with("unreadable row"),
            "{ragged:?}"
        );
    }
}
