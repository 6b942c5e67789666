//! `/sla/attainment` and `/sla/breaches`: service level reports (ISO/IEC 20000-1 9.4 service
//! reporting, 8.3.3 service level management) as JSON or CSV.
//!
//! Both answer for a period, `from` (inclusive) to `to` (exclusive), each a month
//! (`2026-01`: its first day), a date (`2026-01-15`: midnight UTC) or an RFC 3339 instant.
//! Without either, the period is the last 12 whole months (UTC); with `from` only, it runs
//! from there up to now. A clock counts in the period its outcome was decided, see
//! `steward_store::sla::report`. SLA clocks are reported unless `agreement_kind` says `ola`,
//! `uc` or `all`.
//!
//! Agents, managers, admins and auditors read them (they read every record behind the
//! figures); requesters do not. CSV comes with `format=csv` or `Accept: text/csv`; its cells
//! never start with `=`, `+`, `-` or `@`, so a spreadsheet does not run a name as a formula.

use super::{ApiQuery, ListOf, opt_time, time};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use steward_domain::Invalid;
use steward_domain::incident::Priority;
use steward_domain::sla::{AgreementKind, RecordKind};
use steward_store::PageRequest;
use steward_store::sla::report::{AttainmentRow, BreachRow, Group, GroupValue, Month, ReportQuery};
use utoipa::{IntoParams, ToSchema};

/// The most rows a CSV export of breaches holds; a longer period is refused, not cut short.
pub const MAX_CSV_ROWS: usize = 100_000;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AttainmentParams {
    /// Start of the period, inclusive: `YYYY-MM`, `YYYY-MM-DD` (UTC) or RFC 3339. Default: 12
    /// months before `to`.
    pub from: Option<String>,
    /// End of the period, exclusive, in the same forms. Default: the first day of the current
    /// month (UTC), or of the next month when `from` is given.
    pub to: Option<String>,
    /// What rows are grouped by: `service` (default), `customer`, `priority`, `month`,
    /// `target` or `agreement`; two separated by a comma (`service,target`) group twice.
    pub group: Option<String>,
    /// `sla` (default), `ola`, `uc` or `all`.
    pub agreement_kind: Option<String>,
    /// Only this metric: `first_response`, `resolution` or a milestone.
    pub target: Option<String>,
    #[param(value_type = Option<i64>)]
    pub service_id: Option<String>,
    #[param(value_type = Option<i64>)]
    pub customer_id: Option<String>,
    /// `P1` to `P5`.
    pub priority: Option<String>,
    /// `incident` or `request`.
    pub record_kind: Option<String>,
    /// `json` (default) or `csv`; without it, `Accept: text/csv` asks for CSV.
    pub format: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BreachParams {
    /// Start of the period, inclusive: `YYYY-MM`, `YYYY-MM-DD` (UTC) or RFC 3339. Default: 12
    /// months before `to`.
    pub from: Option<String>,
    /// End of the period, exclusive, in the same forms. Default: the first day of the current
    /// month (UTC), or of the next month when `from` is given.
    pub to: Option<String>,
    /// `sla` (default), `ola`, `uc` or `all`.
    pub agreement_kind: Option<String>,
    pub target: Option<String>,
    #[param(value_type = Option<i64>)]
    pub service_id: Option<String>,
    #[param(value_type = Option<i64>)]
    pub customer_id: Option<String>,
    pub priority: Option<String>,
    pub record_kind: Option<String>,
    /// `json` (default) or `csv`. CSV holds every breach of the period (up to 100,000);
    /// `limit` and `cursor` page the JSON.
    pub format: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One group's value in a row.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupValueOut {
    /// `service`, `customer`, `priority`, `month`, `target` or `agreement`.
    pub group: String,
    /// The service, customer or agreement id (as text), the priority, the month (`2026-01`)
    /// or the metric; `null` for clocks without one.
    pub key: Option<String>,
    /// The name a person reads, such as `Payroll`, `No service` or `First response`.
    pub label: String,
}

impl From<GroupValue> for GroupValueOut {
    fn from(v: GroupValue) -> Self {
        GroupValueOut {
            group: v.group.as_str().to_owned(),
            key: v.key,
            label: v.label,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttainmentRowOut {
    pub group: GroupValueOut,
    /// The second grouping's value, when the report groups twice.
    pub then: Option<GroupValueOut>,
    /// Clocks that met their target.
    pub met: i64,
    /// Clocks that breached it, including running ones past their due time.
    pub breached: i64,
    pub total: i64,
    /// `met / total × 100`, two decimals.
    pub attainment_percent: f64,
}

impl From<AttainmentRow> for AttainmentRowOut {
    fn from(r: AttainmentRow) -> Self {
        AttainmentRowOut {
            group: r.group.into(),
            then: r.then.map(GroupValueOut::from),
            met: r.met,
            breached: r.breached,
            total: r.total,
            attainment_percent: r.attainment_percent,
        }
    }
}

/// An attainment report: the period and grouping it answers for, and one row per group.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttainmentOut {
    pub from: String,
    pub to: String,
    pub group: Vec<String>,
    /// `sla`, `ola`, `uc` or `all`.
    pub agreement_kind: String,
    pub rows: Vec<AttainmentRowOut>,
}

/// A breached clock and the record it ran on.
#[derive(Debug, Serialize, ToSchema)]
pub struct BreachOut {
    pub clock_id: i64,
    pub record_kind: RecordKind,
    pub record_id: i64,
    /// `INC-42` or `REQ-7`.
    pub record_key: String,
    pub record_title: String,
    /// `first_response`, `resolution` or a milestone.
    pub target: String,
    /// The target in business minutes.
    pub target_minutes: i64,
    pub agreement_id: i64,
    pub agreement: String,
    pub agreement_kind: AgreementKind,
    pub priority: Option<String>,
    pub service_id: Option<i64>,
    pub service: Option<String>,
    pub customer_id: Option<i64>,
    pub customer: Option<String>,
    pub due_at: String,
    /// When the clock stopped, late; `null` while the record is still open.
    pub stopped_at: Option<String>,
    /// Why it breached, as an agent recorded it.
    pub breach_reason: Option<String>,
}

impl From<BreachRow> for BreachOut {
    fn from(b: BreachRow) -> Self {
        BreachOut {
            clock_id: b.clock_id,
            record_kind: b.record_kind,
            record_id: b.record_id,
            record_key: b.record_key,
            record_title: b.record_title,
            target: b.target,
            target_minutes: b.target_minutes,
            agreement_id: b.agreement_id,
            agreement: b.agreement,
            agreement_kind: b.agreement_kind,
            priority: b.priority,
            service_id: b.service_id,
            service: b.service,
            customer_id: b.customer_id,
            customer: b.customer,
            due_at: time(b.due_at),
            stopped_at: opt_time(b.stopped_at),
            breach_reason: b.breach_reason,
        }
    }
}

#[utoipa::path(get, path = "/sla/attainment", tag = "sla", params(AttainmentParams),
    responses(
        (status = 200, description = "Attainment per group", content((AttainmentOut = "application/json"), (String = "text/csv"))),
        (status = 400, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn attainment(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    headers: HeaderMap,
    ApiQuery(p): ApiQuery<AttainmentParams>,
) -> ApiResult<Response> {
    let mut errors = Invalid::new();
    let groups = groups(&mut errors, p.group.as_deref());
    let filters = Filters {
        from: p.from.as_deref(),
        to: p.to.as_deref(),
        agreement_kind: p.agreement_kind.as_deref(),
        target: p.target.as_deref(),
        service_id: p.service_id.as_deref(),
        customer_id: p.customer_id.as_deref(),
        priority: p.priority.as_deref(),
        record_kind: p.record_kind.as_deref(),
    };
    let query = filters.query(
        &mut errors,
        groups.first().copied().unwrap_or(Group::Service),
    );
    let csv = wants_csv(&mut errors, p.format.as_deref(), &headers);
    errors.into_result(())?;
    let query = ReportQuery {
        then: groups.get(1).copied(),
        ..query
    };
    let rows = state.store.attainment(who.tenant_id(), &query).await?;
    if csv {
        let body = attainment_csv(&groups, &rows)?;
        return Ok(csv_response(body, &file_name("sla-attainment", &query)));
    }
    Ok(Json(AttainmentOut {
        from: time(query.from),
        to: time(query.to),
        group: groups.iter().map(|g| g.as_str().to_owned()).collect(),
        agreement_kind: kind_name(query.agreement_kind).to_owned(),
        rows: rows.into_iter().map(AttainmentRowOut::from).collect(),
    })
    .into_response())
}

#[utoipa::path(get, path = "/sla/breaches", tag = "sla", params(BreachParams),
    responses(
        (status = 200, description = "Breached clocks, the most recently decided first",
            content((ListOf<BreachOut> = "application/json"), (String = "text/csv"))),
        (status = 400, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn breaches(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    headers: HeaderMap,
    ApiQuery(p): ApiQuery<BreachParams>,
) -> ApiResult<Response> {
    let mut errors = Invalid::new();
    let filters = Filters {
        from: p.from.as_deref(),
        to: p.to.as_deref(),
        agreement_kind: p.agreement_kind.as_deref(),
        target: p.target.as_deref(),
        service_id: p.service_id.as_deref(),
        customer_id: p.customer_id.as_deref(),
        priority: p.priority.as_deref(),
        record_kind: p.record_kind.as_deref(),
    };
    let query = filters.query(&mut errors, Group::Service);
    let csv = wants_csv(&mut errors, p.format.as_deref(), &headers);
    errors.into_result(())?;
    let t = who.tenant_id();
    if !csv {
        let page = PageRequest {
            limit: p.limit,
            cursor: p.cursor,
        };
        let found = state.store.breaches(t, &query, &page).await?;
        return Ok(Json(ListOf::from_page(found, BreachOut::from)).into_response());
    }
    let mut rows = Vec::new();
    let mut cursor = None;
    loop {
        let page = PageRequest {
            limit: Some(steward_store::page::MAX_LIMIT),
            cursor,
        };
        let found = state.store.breaches(t, &query, &page).await?;
        rows.extend(found.items);
        if rows.len() > MAX_CSV_ROWS {
            return Err(Invalid::one(
                "to",
                format!("The period holds more than {MAX_CSV_ROWS} breaches: export a shorter one"),
            )
            .into());
        }
        match found.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let body = breaches_csv(&rows)?;
    Ok(csv_response(body, &file_name("sla-breaches", &query)))
}

/// The filters both reports share, as given.
struct Filters<'a> {
    from: Option<&'a str>,
    to: Option<&'a str>,
    agreement_kind: Option<&'a str>,
    target: Option<&'a str>,
    service_id: Option<&'a str>,
    customer_id: Option<&'a str>,
    priority: Option<&'a str>,
    record_kind: Option<&'a str>,
}

impl Filters<'_> {
    /// The store query, with every bad parameter recorded in `errors` under its own name.
    fn query(&self, errors: &mut Invalid, group: Group) -> ReportQuery {
        let from = given(self.from).and_then(|t| record(errors, "from", instant("from", t)));
        let to = given(self.to).and_then(|t| record(errors, "to", instant("to", t)));
        let (from, to) = period(
            from,
            to,
            given(self.from).is_some(),
            steward_store::now_micros(),
        );
        if from >= to && errors.errors.is_empty() {
            errors.add("to", "to must come after from");
        }
        let mut q = ReportQuery::new(from, to, group);
        q.agreement_kind = match given(self.agreement_kind) {
            None => Some(AgreementKind::Sla),
            Some("all") => None,
            Some(k) => {
                let kind = AgreementKind::parse(k);
                if kind.is_none() {
                    errors.add(
                        "agreement_kind",
                        "agreement_kind must be sla, ola, uc or all",
                    );
                }
                kind
            }
        };
        q.target = given(self.target).map(str::to_owned);
        q.service_id = given(self.service_id).and_then(|v| id(errors, "service_id", v));
        q.customer_id = given(self.customer_id).and_then(|v| id(errors, "customer_id", v));
        q.priority = given(self.priority).and_then(|v| {
            let p = Priority::parse(&v.to_ascii_uppercase());
            if p.is_none() {
                errors.add("priority", "priority must be P1, P2, P3, P4 or P5");
            }
            p
        });
        q.record_kind = given(self.record_kind).and_then(|v| {
            let k = RecordKind::parse(v);
            if k.is_none() {
                errors.add("record_kind", "record_kind must be incident or request");
            }
            k
        });
        q
    }
}

/// The period for the given ends: without `from`, the 12 whole months before `to` (which
/// defaults to the start of the current month); with `from` only, up to the end of the
/// current month, since a report counts nothing after now anyway.
pub fn period(from: Option<i64>, to: Option<i64>, from_given: bool, now: i64) -> (i64, i64) {
    let this_month = Month::containing(now);
    let to = to.unwrap_or_else(|| {
        if from_given {
            this_month.end()
        } else {
            this_month.start()
        }
    });
    let from = from.unwrap_or_else(|| Month::containing(to - 1).plus(-11).start());
    (from, to)
}

/// A parameter's text, unless absent or blank.
fn given(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

fn record(errors: &mut Invalid, field: &str, parsed: Result<i64, String>) -> Option<i64> {
    parsed.map_err(|message| errors.add(field, message)).ok()
}

/// Reads `2026-01` (the month's first instant), `2026-01-15` (midnight UTC) or RFC 3339.
pub fn instant(field: &str, text: &str) -> Result<i64, String> {
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Ok(t.as_microsecond());
    }
    if let Ok(d) = text.parse::<jiff::civil::Date>()
        && let Ok(z) = d.to_zoned(jiff::tz::TimeZone::UTC)
    {
        return Ok(z.timestamp().as_microsecond());
    }
    Month::parse(text).map(Month::start).ok_or_else(|| {
        format!("{field} must be a month (2026-01), a date (2026-01-31) or an RFC 3339 time")
    })
}

fn id(errors: &mut Invalid, field: &str, text: &str) -> Option<i64> {
    let parsed = text.parse::<i64>().ok();
    if parsed.is_none() {
        errors.add(field, format!("{field} must be a number"));
    }
    parsed
}

fn groups(errors: &mut Invalid, text: Option<&str>) -> Vec<Group> {
    let text = text
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or("service");
    let parsed: Option<Vec<Group>> = text.split(',').map(|g| Group::parse(g.trim())).collect();
    match parsed {
        Some(gs) if (1..=2).contains(&gs.len()) && gs.first() != gs.get(1) => gs,
        _ => {
            errors.add(
                "group",
                "group must be one or two different ones of service, customer, priority, month, target and agreement, separated by a comma",
            );
            Vec::new()
        }
    }
}

fn wants_csv(errors: &mut Invalid, format: Option<&str>, headers: &HeaderMap) -> bool {
    match format.map(str::trim).filter(|f| !f.is_empty()) {
        Some("csv") => true,
        Some("json") => false,
        Some(_) => {
            errors.add("format", "format must be json or csv");
            false
        }
        None => headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|v| v.split(';').next().is_some_and(|t| t.trim() == "text/csv")),
    }
}

fn kind_name(kind: Option<AgreementKind>) -> &'static str {
    kind.map_or("all", AgreementKind::as_str)
}

/// `sla-attainment-2026-01-01-2027-01-01.csv`: the period in the name, so downloads differ.
fn file_name(stem: &str, q: &ReportQuery) -> String {
    let day = |micros: i64| time(micros).chars().take(10).collect::<String>();
    format!("{stem}-{}-{}.csv", day(q.from), day(q.to))
}

fn csv_response(body: Vec<u8>, file_name: &str) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

/// A cell as a spreadsheet should see it: text that a spreadsheet would read as a formula
/// gets a leading apostrophe.
fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn write_csv(header: &[String], rows: impl Iterator<Item = Vec<String>>) -> ApiResult<Vec<u8>> {
    let failed = |e: csv::Error| {
        tracing::error!(error = %e, "csv");
        ApiError::internal()
    };
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(header).map_err(failed)?;
    for row in rows {
        out.write_record(row.iter().map(|c| cell(c)))
            .map_err(failed)?;
    }
    out.into_inner().map_err(|e| {
        tracing::error!(error = %e, "csv");
        ApiError::internal()
    })
}

/// `service_key,service,met,breached,total,attainment_percent` (and a second key and label
/// when grouped twice).
pub fn attainment_csv(groups: &[Group], rows: &[AttainmentRow]) -> ApiResult<Vec<u8>> {
    let mut header = Vec::new();
    for g in groups {
        header.push(format!("{g}_key"));
        header.push(g.as_str().to_owned());
    }
    header.extend(
        ["met", "breached", "total", "attainment_percent"]
            .iter()
            .map(|h| (*h).to_owned()),
    );
    write_csv(
        &header,
        rows.iter().map(|r| {
            let mut cells = Vec::new();
            for v in std::iter::once(&r.group).chain(&r.then) {
                cells.push(v.key.clone().unwrap_or_default());
                cells.push(v.label.clone());
            }
            cells.push(r.met.to_string());
            cells.push(r.breached.to_string());
            cells.push(r.total.to_string());
            cells.push(format!("{:.2}", r.attainment_percent));
            cells
        }),
    )
}

fn breaches_csv(rows: &[BreachRow]) -> ApiResult<Vec<u8>> {
    let header: Vec<String> = [
        "record_key",
        "record_title",
        "target",
        "target_minutes",
        "agreement",
        "agreement_kind",
        "priority",
        "service",
        "customer",
        "due_at",
        "stopped_at",
        "breach_reason",
    ]
    .iter()
    .map(|h| (*h).to_owned())
    .collect();
    write_csv(
        &header,
        rows.iter().map(|b| {
            vec![
                b.record_key.clone(),
                b.record_title.clone(),
                b.target.clone(),
                b.target_minutes.to_string(),
                b.agreement.clone(),
                b.agreement_kind.as_str().to_owned(),
                b.priority.clone().unwrap_or_default(),
                b.service.clone().unwrap_or_default(),
                b.customer.clone().unwrap_or_default(),
                time(b.due_at),
                opt_time(b.stopped_at).unwrap_or_default(),
                b.breach_reason.clone().unwrap_or_default(),
            ]
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_default_to_the_last_twelve_whole_months() {
        let now = instant("now", "2026-03-15T10:00:00Z").expect("now");
        let jan = |t: &str| instant("t", t).expect("instant");
        assert_eq!(
            period(None, None, false, now),
            (jan("2025-03"), jan("2026-03"))
        );
        assert_eq!(
            period(Some(jan("2026-01")), None, true, now),
            (jan("2026-01"), jan("2026-04"))
        );
        assert_eq!(
            period(None, Some(jan("2026-01-01")), false, now),
            (jan("2025-01-01"), jan("2026-01-01"))
        );
        assert_eq!(jan("2026-01"), jan("2026-01-01T00:00:00Z"));
        assert!(instant("from", "last week").is_err());
    }

    #[test]
    fn spreadsheets_never_see_a_formula() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(cell("Payroll"), "Payroll");
    }
}
