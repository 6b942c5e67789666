//! Attainment reports (ISO/IEC 20000-1 9.4 service reporting, 8.3.3 service level management):
//! how many clocks met their target, grouped by service, customer, priority, month, target or
//! agreement, and the breaches behind the figures.
//!
//! A clock counts in the period its outcome was decided (`decided_at`: the stop when met, the
//! due time otherwise), once it is decided: met, breached, or still running or paused past its
//! due time. The last is a breach the breach job may not have acted on yet, so the report does
//! not wait for it. A running clock whose due time has not come is undecided and left out, as
//! are the clocks of cancelled or rejected records (`voided`) and of records excluded from
//! attainment. Because "decided by now" is the same as `decided_at < now`, the whole rule is
//! one range on `decided_at`, which the `sla_clocks_report` index serves without touching the
//! table; counting happens in the database (aggregates, GROUP BY), names come from a second
//! small query.
//!
//! Months are calendar months in UTC.

use crate::db::{Sql, sql};
use crate::page::{Cursor, CursorKey, finish};
use crate::{Backend, Page, PageRequest, Store, StoreError, StoreResult, now_micros};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use steward_domain::Invalid;
use steward_domain::incident::Priority;
use steward_domain::sla::{AgreementKind, RecordKind};

/// What attainment rows are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    Service,
    Customer,
    Priority,
    /// The calendar month (UTC) the clock was decided in, as `YYYY-MM`.
    Month,
    /// The metric: `first_response`, `resolution` or a milestone.
    Target,
    Agreement,
}

impl Group {
    pub const ALL: [Group; 6] = [
        Group::Service,
        Group::Customer,
        Group::Priority,
        Group::Month,
        Group::Target,
        Group::Agreement,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Group::Service => "service",
            Group::Customer => "customer",
            Group::Priority => "priority",
            Group::Month => "month",
            Group::Target => "target",
            Group::Agreement => "agreement",
        }
    }

    pub fn parse(text: &str) -> Option<Group> {
        Group::ALL.into_iter().find(|g| g.as_str() == text)
    }

    /// The column grouped by, NULL where the clock has none. Months come from
    /// `Store::attainment`: slices on SQLite, days on PostgreSQL.
    fn key_sql(self) -> &'static str {
        match self {
            Group::Service => "c.service_id",
            Group::Customer => "c.customer_id",
            Group::Priority => "c.priority",
            Group::Target => "c.metric",
            Group::Agreement => "c.agreement_id",
            Group::Month => DAY_SQL,
        }
    }

    /// The label of a group without a value: a record with no service, customer or priority.
    fn none_label(self) -> &'static str {
        match self {
            Group::Service => "No service",
            Group::Customer => "No customer",
            Group::Priority => "No priority",
            Group::Month => "No month",
            Group::Target => "No target",
            Group::Agreement => "No agreement",
        }
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which clocks a report covers and how it groups them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportQuery {
    /// Clocks decided at or after this instant (micros since the epoch)...
    pub from: i64,
    /// ...and before this one.
    pub to: i64,
    pub group: Group,
    /// A second grouping within the first (`service` then `target`).
    pub then: Option<Group>,
    /// `None` covers every kind; reports to customers use `Some(Sla)`.
    pub agreement_kind: Option<AgreementKind>,
    /// The metric, such as `resolution`.
    pub target: Option<String>,
    pub service_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub priority: Option<Priority>,
    pub record_kind: Option<RecordKind>,
}

impl ReportQuery {
    /// SLA clocks decided in `[from, to)`, grouped by `group`, without other filters.
    pub fn new(from: i64, to: i64, group: Group) -> ReportQuery {
        ReportQuery {
            from,
            to,
            group,
            then: None,
            agreement_kind: Some(AgreementKind::Sla),
            target: None,
            service_id: None,
            customer_id: None,
            priority: None,
            record_kind: None,
        }
    }

    fn check(&self) -> StoreResult<()> {
        let mut errors = Invalid::new();
        if self.to <= self.from {
            errors.add("to", "The end of the period must come after its start");
        }
        if self.then == Some(self.group) {
            errors.add("group", "Group by two different things");
        }
        if self.target.as_deref().is_some_and(|t| t.trim().is_empty()) {
            errors.add(
                "target",
                "Name a target such as resolution, or leave it out",
            );
        }
        errors.into_result(()).map_err(StoreError::from)
    }
}

/// One group's value in an attainment row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupValue {
    pub group: Group,
    /// The service, customer or agreement id, the priority (`P1`), the month (`2026-01`) or
    /// the metric; `None` for clocks without one (a request has no priority).
    pub key: Option<String>,
    /// What a person reads: the service's name, `No service`, `2026-01`, `First response`.
    pub label: String,
}

/// Attainment of one group: its decided clocks, how many met their target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttainmentRow {
    pub group: GroupValue,
    /// Present when the report was grouped twice.
    pub then: Option<GroupValue>,
    pub met: i64,
    pub breached: i64,
    pub total: i64,
    /// `met / total × 100`, rounded to two decimals. Groups without clocks have no row.
    pub attainment_percent: f64,
}

/// A breached clock, for the list behind the attainment figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BreachRow {
    pub clock_id: i64,
    pub record_kind: RecordKind,
    pub record_id: i64,
    /// `INC-42` or `REQ-7`.
    pub record_key: String,
    pub record_title: String,
    pub target: String,
    pub target_minutes: i64,
    pub agreement_id: i64,
    pub agreement: String,
    pub agreement_kind: AgreementKind,
    pub priority: Option<String>,
    pub service_id: Option<i64>,
    pub service: Option<String>,
    pub customer_id: Option<i64>,
    pub customer: Option<String>,
    pub due_at: i64,
    /// When the clock stopped, after its due time; `None` while the record is still open.
    pub stopped_at: Option<i64>,
    /// Why it breached, as an agent recorded it.
    pub breach_reason: Option<String>,
}

#[derive(sqlx::FromRow)]
struct CountRow {
    k1: Option<String>,
    k2: Option<String>,
    met: i64,
    total: i64,
}

#[derive(sqlx::FromRow)]
struct BreachDbRow {
    id: i64,
    record_kind: String,
    record_id: i64,
    record_key: String,
    title: Option<String>,
    metric: String,
    target_minutes: i64,
    agreement_id: i64,
    priority: Option<String>,
    service_id: Option<i64>,
    service: Option<String>,
    customer_id: Option<i64>,
    customer: Option<String>,
    decided_at: i64,
    stopped_at: Option<i64>,
    breach_reason: Option<String>,
}

impl Store {
    /// Attainment of the clocks `q` covers, one row per group (and sub-group), in the order a
    /// report reads: months in time order, everything else by name with "No ..." last.
    ///
    /// Counting takes an aggregate over every clock of the period, minus one over the clocks of
    /// excluded records (run only if the tenant excluded any): subtracting the few excluded
    /// clocks costs far less than checking every clock against the exclusions. Months are
    /// counted the way each backend does best, measured at two million clocks:
    /// - SQLite sorts every row it groups by anything but the index order, so a report by
    ///   month runs one aggregate per month, reading the `sla_clocks_report` index in order
    ///   (0.4 s, against 0.9 s for one GROUP BY over a computed month);
    /// - PostgreSQL groups by hashing, so one query groups by day (`decided_at` divided by a
    ///   day: integer arithmetic, 0.7 s, against 1.1 s for formatting a month per row) and the
    ///   days are added up into months here. Days and months both start at midnight UTC.
    ///
    /// Ids and instants are written into the SQL as numbers, not bound: PostgreSQL then plans
    /// each period with its real size, where a generic plan guesses a few rows and reads two
    /// million through the index one by one (5 s).
    pub async fn attainment(
        &self,
        tenant_id: i64,
        q: &ReportQuery,
    ) -> StoreResult<Vec<AttainmentRow>> {
        q.check()?;
        // Decided by now: a met clock stopped before now; any other clock is late once now is
        // past its due time (`domain::sla::read`), that is, when it fell due before now.
        // Nothing is decided before 1970, which keeps day numbers whole.
        let (from, until) = (q.from.max(0), q.to.min(now_micros()));
        let mut conn = self.db.read().await?;
        let Some(agreements) = agreement_ids(&mut conn, tenant_id, q.agreement_kind).await? else {
            return Ok(Vec::new());
        };
        let by_month = q.group == Group::Month || q.then == Some(Group::Month);
        let sliced = by_month && self.backend() == Backend::Sqlite;
        let groups: Vec<Group> = std::iter::once(q.group).chain(q.then).collect();
        // The keys SQL groups by: without the month when sliced, else the day for the month.
        let keys: Vec<&str> = groups
            .iter()
            .filter(|g| !(sliced && **g == Group::Month))
            .map(|g| g.key_sql())
            .collect();
        let slices: Vec<(i64, i64, Option<Month>)> = if sliced {
            let bound = |aggregate: &str| {
                sql(format!(
                    "SELECT {aggregate}(decided_at) FROM sla_clocks WHERE tenant_id = {tenant_id} \
                     AND decided_at >= {from} AND decided_at < {until}"
                ))
            };
            let first: Option<(Option<i64>,)> = conn.fetch_optional(bound("MIN")).await?;
            let last: Option<(Option<i64>,)> = conn.fetch_optional(bound("MAX")).await?;
            match (first.and_then(|r| r.0), last.and_then(|r| r.0)) {
                (Some(first), Some(last)) => {
                    let (mut month, last) = (Month::containing(first), Month::containing(last));
                    let mut slices = Vec::new();
                    while month <= last {
                        slices.push((month.start().max(from), month.end().min(until), Some(month)));
                        month = month.next();
                    }
                    slices
                }
                _ => Vec::new(),
            }
        } else {
            vec![(from, until, None)]
        };
        let excluding: Option<(i64,)> = conn
            .fetch_optional(
                sql("SELECT tenant_id FROM sla_exclusions WHERE tenant_id = $1 LIMIT 1")
                    .bind(tenant_id),
            )
            .await?;
        let mut counts: std::collections::BTreeMap<(Option<String>, Option<String>), (i64, i64)> =
            std::collections::BTreeMap::new();
        for (from, to, month) in slices {
            for excluded in [false, true] {
                if excluded && excluding.is_none() {
                    continue;
                }
                let query = count_query(tenant_id, q, &agreements, &keys, (from, to), excluded);
                let rows: Vec<CountRow> = conn.fetch_all(query).await?;
                for r in rows.into_iter().filter(|r| r.total > 0) {
                    let mut sql_keys = [r.k1, r.k2].into_iter();
                    let mut key = groups.iter().map(|g| match (g, month) {
                        (Group::Month, Some(m)) => Some(m.to_string()),
                        (Group::Month, None) => sql_keys
                            .next()
                            .flatten()
                            .and_then(|day| day.parse::<i64>().ok())
                            .map(|day| Month::containing(day * MICROS_PER_DAY).to_string()),
                        _ => sql_keys.next().flatten(),
                    });
                    let key = (key.next().flatten(), key.next().flatten());
                    let sign = if excluded { -1 } else { 1 };
                    let entry = counts.entry(key).or_default();
                    entry.0 += sign * r.met;
                    entry.1 += sign * r.total;
                }
            }
        }
        let mut names: HashMap<Group, HashMap<String, String>> = HashMap::new();
        for (i, group) in std::iter::once(q.group).chain(q.then).enumerate() {
            let keys: Vec<&str> = counts
                .keys()
                .filter_map(|(k1, k2)| if i == 0 { k1.as_deref() } else { k2.as_deref() })
                .collect();
            names.insert(group, names_of(&mut conn, tenant_id, group, &keys).await?);
        }
        let value = |group: Group, key: Option<String>| {
            let label = match &key {
                None => group.none_label().to_owned(),
                Some(k) => names
                    .get(&group)
                    .and_then(|n| n.get(k))
                    .cloned()
                    .unwrap_or_else(|| fallback_label(group, k)),
            };
            GroupValue { group, key, label }
        };
        let mut rows: Vec<AttainmentRow> = counts
            .into_iter()
            .filter(|(_, (_, total))| *total > 0)
            .map(|((k1, k2), (met, total))| AttainmentRow {
                group: value(q.group, k1),
                then: q.then.map(|g| value(g, k2)),
                met,
                breached: total - met,
                total,
                attainment_percent: percent(met, total),
            })
            .collect();
        rows.sort_by(|a, b| {
            order(&a.group)
                .cmp(&order(&b.group))
                .then_with(|| a.then.as_ref().map(order).cmp(&b.then.as_ref().map(order)))
        });
        Ok(rows)
    }

    /// The breached clocks `q` covers (its grouping aside), the most recently decided first.
    pub async fn breaches(
        &self,
        tenant_id: i64,
        q: &ReportQuery,
        page: &PageRequest,
    ) -> StoreResult<Page<BreachRow>> {
        q.check()?;
        let select = sql(
            "SELECT c.id, c.record_kind, c.record_id, c.record_key, COALESCE(i.title, r.title) AS title, c.metric, \
             c.target_minutes, c.agreement_id, c.priority, c.service_id, s.name AS service, c.customer_id, \
             cu.name AS customer, c.decided_at, c.stopped_at, c.breach_reason \
             FROM sla_clocks c \
             LEFT JOIN incidents i ON c.record_kind = 'incident' AND i.id = c.record_id \
             LEFT JOIN requests r ON c.record_kind = 'request' AND r.id = c.record_id \
             LEFT JOIN services s ON s.id = c.service_id \
             LEFT JOIN customers cu ON cu.id = c.customer_id \
             WHERE c.tenant_id = $1",
        )
        .bind(tenant_id);
        // Decided by now, as in `attainment`; the first page stops after a few rows in the
        // index, so here the exclusions are checked row by row.
        let until = q.to.min(now_micros());
        let mut conn = self.db.read().await?;
        let Some(agreements) = agreement_ids(&mut conn, tenant_id, q.agreement_kind).await? else {
            return Ok(Page {
                items: Vec::new(),
                next_cursor: None,
            });
        };
        let mut select = filtered(select, q, &agreements, (q.from.max(0), until)).push(
            " AND c.state <> 'met' AND NOT EXISTS (SELECT 1 FROM sla_exclusions e WHERE e.tenant_id = c.tenant_id \
             AND e.record_kind = c.record_kind AND e.record_id = c.record_id)",
        );
        if let Some(text) = &page.cursor {
            let cursor = Cursor::decode(text)
                .ok_or_else(|| Invalid::one("cursor", "cursor is not valid"))?;
            let CursorKey::Int(decided) = cursor.key else {
                return Err(Invalid::one("cursor", "cursor is not valid").into());
            };
            select = select
                .push_bound(" AND (c.decided_at < {}", decided)
                .push_bound(" OR (c.decided_at = {}", decided)
                .push_bound(" AND c.id < {}))", cursor.id);
        }
        let select = select
            .push(" ORDER BY c.decided_at DESC, c.id DESC")
            .push_bound(" LIMIT {}", i64::from(page.limit()) + 1);
        let rows: Vec<BreachDbRow> = conn.fetch_all(select).await?;
        // Agreements are named here rather than joined: with only outer joins, both backends
        // walk the clocks in index order and stop after a page.
        let names: Vec<(i64, String, String)> = conn
            .fetch_all(
                sql("SELECT id, name, kind FROM sla_agreements WHERE tenant_id = $1")
                    .bind(tenant_id),
            )
            .await?;
        let rows = rows
            .into_iter()
            .map(|r| {
                let (name, kind) = names
                    .iter()
                    .find(|(id, ..)| *id == r.agreement_id)
                    .map(|(_, n, k)| (n.clone(), k.clone()))
                    .ok_or_else(|| {
                        StoreError::Corrupt(format!(
                            "clock {} names missing agreement {}",
                            r.id, r.agreement_id
                        ))
                    })?;
                breach_row(r, name, &kind)
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(finish(rows, page, |b| {
            (CursorKey::Int(b.due_at), b.clock_id)
        }))
    }
}

/// A breach as read, with its agreement's name and kind.
fn breach_row(r: BreachDbRow, agreement: String, kind: &str) -> StoreResult<BreachRow> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("clock {}: {what}", r.id));
    Ok(BreachRow {
        clock_id: r.id,
        record_kind: RecordKind::parse(&r.record_kind)
            .ok_or_else(|| corrupt("unknown record kind"))?,
        agreement_kind: AgreementKind::parse(kind)
            .ok_or_else(|| corrupt("unknown agreement kind"))?,
        record_id: r.record_id,
        record_key: r.record_key,
        record_title: r.title.unwrap_or_default(),
        target: r.metric,
        target_minutes: r.target_minutes,
        agreement_id: r.agreement_id,
        agreement,
        priority: r.priority,
        service_id: r.service_id,
        service: r.service,
        customer_id: r.customer_id,
        customer: r.customer,
        // A breached clock was decided at its due time.
        due_at: r.decided_at,
        stopped_at: r.stopped_at,
        breach_reason: r.breach_reason,
    })
}

/// Grouping by day on PostgreSQL, added up into months by `Store::attainment`. The
/// PostgreSQL migration keeps statistics on exactly this expression (`sla_clocks_day`), so the
/// planner knows a year has a few hundred days and aggregates in parallel.
const DAY_SQL: &str = "c.decided_at / 86400000000";

/// The ids of the tenant's agreements of `kind`: `Some(None)` for every kind, `None` when the
/// tenant has none of that kind (so no clock can count).
async fn agreement_ids(
    conn: &mut crate::db::ReadConn,
    tenant_id: i64,
    kind: Option<AgreementKind>,
) -> StoreResult<Option<Option<Vec<i64>>>> {
    let Some(kind) = kind else {
        return Ok(Some(None));
    };
    let ids: Vec<(i64,)> = conn
        .fetch_all(
            sql("SELECT id FROM sla_agreements WHERE tenant_id = $1 AND kind = $2 ORDER BY id")
                .bind(tenant_id)
                .bind(kind.as_str()),
        )
        .await?;
    Ok((!ids.is_empty()).then(|| Some(ids.into_iter().map(|(id,)| id).collect())))
}

/// Counts met and all clocks decided in `from..to` that `q`'s filters select, grouped by
/// `keys` (none, one or two SQL expressions); with `excluded`, only the clocks of excluded
/// records.
fn count_query(
    tenant_id: i64,
    q: &ReportQuery,
    agreements: &Option<Vec<i64>>,
    keys: &[&str],
    range: (i64, i64),
    excluded: bool,
) -> Sql {
    let key = |i: usize| keys.get(i).copied().unwrap_or("NULL");
    let source = if excluded {
        // CROSS JOIN makes SQLite start from the few exclusions (and find their clocks by
        // `sla_clocks_slot`) instead of walking the period's clocks; PostgreSQL plans it freely.
        format!(
            "sla_exclusions e CROSS JOIN sla_clocks c WHERE e.tenant_id = {tenant_id} AND c.tenant_id = e.tenant_id \
             AND c.record_kind = e.record_kind AND c.record_id = e.record_id"
        )
    } else {
        format!("sla_clocks c WHERE c.tenant_id = {tenant_id}")
    };
    // Grouped by the bare columns and expressions, made text outside: a cast inside would
    // hide from PostgreSQL's planner how many groups to expect.
    let select = sql(format!(
        "SELECT CAST(g.k1 AS TEXT) AS k1, CAST(g.k2 AS TEXT) AS k2, g.met, g.total FROM (SELECT {} AS k1, {} AS k2, \
         COUNT(*) FILTER (WHERE c.state = 'met') AS met, COUNT(*) AS total FROM {source}",
        key(0),
        key(1)
    ));
    let s = filtered(select, q, agreements, range);
    match keys.len() {
        0 => s.push(") g"),
        1 => s.push(" GROUP BY 1) g"),
        _ => s.push(" GROUP BY 1, 2) g"),
    }
}

/// Narrows `select` (over `sla_clocks c`, its tenant chosen) to the clocks decided in
/// `from..to`, not voided, of `agreements` (all if `None`), that `q`'s filters select.
/// Exclusions are the caller's business. Numbers are written in, text is bound.
fn filtered(
    select: Sql,
    q: &ReportQuery,
    agreements: &Option<Vec<i64>>,
    (from, to): (i64, i64),
) -> Sql {
    let mut s = select.push(&format!(
        " AND c.decided_at >= {from} AND c.decided_at < {to} AND NOT c.voided"
    ));
    if let Some(ids) = agreements {
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        s = s.push(&format!(" AND c.agreement_id IN ({})", list.join(", ")));
    }
    if let Some(target) = &q.target {
        s = s.push_bound(" AND c.metric = {}", target.trim());
    }
    if let Some(id) = q.service_id {
        s = s.push(&format!(" AND c.service_id = {id}"));
    }
    if let Some(id) = q.customer_id {
        s = s.push(&format!(" AND c.customer_id = {id}"));
    }
    if let Some(p) = q.priority {
        s = s.push_bound(" AND c.priority = {}", p.as_str());
    }
    if let Some(kind) = q.record_kind {
        s = s.push_bound(" AND c.record_kind = {}", kind.as_str());
    }
    s
}

/// Names for the ids among `keys` (services, customers, agreements), deleted ones included:
/// a report names what the clock counted towards then.
async fn names_of(
    conn: &mut crate::db::ReadConn,
    tenant_id: i64,
    group: Group,
    keys: &[&str],
) -> StoreResult<HashMap<String, String>> {
    let table = match group {
        Group::Service => "services",
        Group::Customer => "customers",
        Group::Agreement => "sla_agreements",
        Group::Priority | Group::Month | Group::Target => return Ok(HashMap::new()),
    };
    let ids: Vec<i64> = keys.iter().filter_map(|k| k.parse().ok()).collect();
    let mut names = HashMap::new();
    for chunk in ids.chunks(500) {
        let mut q = sql(format!(
            "SELECT id, name FROM {table} WHERE tenant_id = $1 AND id IN ("
        ))
        .bind(tenant_id);
        for (i, id) in chunk.iter().enumerate() {
            q = q.push_bound(if i == 0 { "{}" } else { ", {}" }, *id);
        }
        let rows: Vec<(i64, String)> = conn.fetch_all(q.push(")")).await?;
        names.extend(rows.into_iter().map(|(id, name)| (id.to_string(), name)));
    }
    Ok(names)
}

fn fallback_label(group: Group, key: &str) -> String {
    match group {
        Group::Target => humanize(key),
        Group::Service | Group::Customer | Group::Agreement => format!("{group} #{key}"),
        Group::Priority | Group::Month => key.to_owned(),
    }
}

/// `first_response` → `First response`.
pub fn humanize(metric: &str) -> String {
    let words = metric.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => words,
    }
}

fn percent(met: i64, total: i64) -> f64 {
    if total == 0 {
        return 0.0;
    }
    (met as f64 * 10_000.0 / total as f64).round() / 100.0
}

/// How rows sort: groups without a value last, months by key, the rest by label.
fn order(v: &GroupValue) -> (bool, String) {
    let text = match v.group {
        Group::Month | Group::Priority => v.key.clone().unwrap_or_default(),
        _ => v.label.to_lowercase(),
    };
    (v.key.is_none(), text)
}

/// A calendar month in UTC: the period monthly reports and the dashboard count in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i32,
    /// 1 to 12.
    month: u32,
}

const MICROS_PER_DAY: i64 = 86_400_000_000;
const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

impl Month {
    /// `None` unless `month` is 1 to 12 and the year has four digits.
    pub fn new(year: i32, month: u32) -> Option<Month> {
        ((1..=12).contains(&month) && (1000..=9999).contains(&year))
            .then_some(Month { year, month })
    }

    /// Reads `YYYY-MM`.
    pub fn parse(text: &str) -> Option<Month> {
        let (y, m) = text.trim().split_once('-')?;
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        Month::new(y.parse().ok()?, m.parse().ok()?)
    }

    /// The month an instant (micros since the epoch) falls in.
    pub fn containing(micros: i64) -> Month {
        let (year, month, _) = civil_from_days(micros.div_euclid(MICROS_PER_DAY));
        Month { year, month }
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u32 {
        self.month
    }

    /// Its first instant: the 1st at 00:00 UTC, in micros since the epoch.
    pub fn start(self) -> i64 {
        days_from_civil(self.year, self.month, 1) * MICROS_PER_DAY
    }

    /// The first instant after it.
    pub fn end(self) -> i64 {
        self.next().start()
    }

    pub fn next(self) -> Month {
        self.plus(1)
    }

    pub fn prev(self) -> Month {
        self.plus(-1)
    }

    /// The month `n` months later (earlier for negative `n`).
    pub fn plus(self, n: i32) -> Month {
        let index = self.year * 12 + (self.month as i32 - 1) + n;
        Month {
            year: index.div_euclid(12),
            month: index.rem_euclid(12) as u32 + 1,
        }
    }

    /// `January 2026`.
    pub fn name(self) -> String {
        format!("{} {}", MONTH_NAMES[(self.month - 1) as usize], self.year)
    }

    /// `Jan`.
    pub fn short_name(self) -> &'static str {
        let name = MONTH_NAMES[(self.month - 1) as usize];
        &name[..3]
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm): plain
/// arithmetic, so month bounds cannot fail the way a checked date library call may.
fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01: the inverse of `days_from_civil`.
fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_have_utc_bounds() {
        let jan = Month::parse("2026-01").expect("month");
        assert_eq!(jan.start(), 1_767_225_600_000_000);
        assert_eq!(jan.prev().to_string(), "2025-12");
        assert_eq!(jan.plus(13).to_string(), "2027-02");
        assert_eq!(Month::containing(jan.start()), jan);
        assert_eq!(Month::containing(jan.start() - 1), jan.prev());
        assert_eq!(Month::containing(jan.end() - 1), jan);
        assert_eq!(jan.name(), "January 2026");
        assert_eq!(jan.short_name(), "Jan");
        let feb_2024 = Month::parse("2024-02").expect("leap February");
        assert_eq!((feb_2024.end() - feb_2024.start()) / MICROS_PER_DAY, 29);
        assert_eq!(Month::containing(0).to_string(), "1970-01");
        for bad in ["2026-13", "2026-1", "26-01", "2026/01", "", "2026-00"] {
            assert_eq!(Month::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn percentages_round_to_two_decimals() {
        assert_eq!(percent(2, 3), 66.67);
        assert_eq!(percent(3, 3), 100.0);
        assert_eq!(percent(0, 5), 0.0);
        assert_eq!(humanize("first_response"), "First response");
        assert_eq!(Group::parse("month"), Some(Group::Month));
        assert_eq!(Group::parse("week"), None);
    }
}
