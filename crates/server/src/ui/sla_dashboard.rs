//! The service owner's SLA dashboard (`/sla`): monthly attainment as a line chart against a
//! goal, attainment by service and target, a service-by-month grid, and the breaches behind
//! the figures with links to their records. The numbers are the store's attainment report
//! (`steward_store::sla::report`), the same the API's CSV downloads return.
//!
//! Agreements state target times, not an attainment goal, so the goal line is the one the
//! reader picks (95 % unless changed); cells below it are marked in words as well as colour.

use super::{Chrome, Opt, UiResult, html_attr, next_link, options, when};
use crate::AppState;
use crate::auth::{Can, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use serde::Deserialize;
use std::fmt::Write;
use steward_domain::sla::{AgreementKind, RecordKind};
use steward_store::PageRequest;
use steward_store::sla::report::{AttainmentRow, BreachRow, Group, Month, ReportQuery, humanize};
use steward_store::{StoreError, now_micros};

/// Periods the filter offers, in months up to and including the current one.
const PERIODS: [u32; 4] = [3, 6, 12, 24];
const DEFAULT_MONTHS: u32 = 12;
const DEFAULT_GOAL: f64 = 95.0;
/// Within this many points below the goal a figure is "near" it rather than "below".
const NEAR: f64 = 5.0;

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct DashboardQuery {
    service: String,
    customer: String,
    kind: String,
    months: String,
    goal: String,
    /// One month (`YYYY-MM`) the tables and the breach list narrow to.
    month: String,
    cursor: Option<String>,
}

/// An attainment figure as the tables show it.
pub struct Figure {
    pub met: i64,
    pub breached: i64,
    pub total: i64,
    pub percent: String,
    /// `ok`, `near` or `below`: the CSS class.
    pub class: &'static str,
    /// The same in words, for people who do not see the colour.
    pub verdict: &'static str,
}

pub struct TargetRow {
    pub service: String,
    pub target: String,
    pub figure: Figure,
}

pub struct GridRow {
    pub service: String,
    pub cells: Vec<Option<Figure>>,
}

pub struct MonthHead {
    pub label: String,
    pub href: String,
    pub current: bool,
}

pub struct BreachLine {
    pub key: String,
    pub href: String,
    pub title: String,
    pub target: String,
    pub agreement: String,
    pub service: String,
    pub customer: String,
    pub due: String,
    pub stopped: String,
    pub late_by: String,
    pub reason: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "sla_dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    services: Vec<Opt>,
    customers: Vec<Opt>,
    kinds: Vec<Opt>,
    periods: Vec<Opt>,
    goal: String,
    /// `January 2026` when narrowed to one month, else the whole period in words.
    scope: String,
    focus: Option<String>,
    clear_focus: String,
    chart: String,
    overall: Option<Figure>,
    by_target: Vec<TargetRow>,
    grid_months: Vec<MonthHead>,
    grid: Vec<GridRow>,
    breaches: Vec<BreachLine>,
    more_breaches: Option<String>,
    csv_targets: String,
    csv_months: String,
    csv_breaches: String,
}

/// The dashboard's filters, read leniently: anything unusable falls back to its default.
struct Filters {
    service_id: Option<i64>,
    customer_id: Option<i64>,
    kind: Option<AgreementKind>,
    months: u32,
    goal: f64,
    focus: Option<Month>,
}

impl Filters {
    fn read(q: &DashboardQuery, current: Month) -> Filters {
        let months = q
            .months
            .parse()
            .ok()
            .filter(|m| PERIODS.contains(m))
            .unwrap_or(DEFAULT_MONTHS);
        let first = current.plus(1 - months as i32);
        Filters {
            service_id: q.service.parse().ok(),
            customer_id: q.customer.parse().ok(),
            kind: match q.kind.as_str() {
                "all" => None,
                k => Some(AgreementKind::parse(k).unwrap_or(AgreementKind::Sla)),
            },
            months,
            goal: q
                .goal
                .trim()
                .trim_end_matches('%')
                .parse::<f64>()
                .ok()
                .filter(|g| (1.0..=100.0).contains(g))
                .unwrap_or(DEFAULT_GOAL),
            focus: Month::parse(&q.month).filter(|m| *m >= first && *m <= current),
        }
    }

    /// The dashboard's own query string, with `month` replaced.
    fn link(&self, month: Option<Month>) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(id) = self.service_id {
            pairs.push(("service", id.to_string()));
        }
        if let Some(id) = self.customer_id {
            pairs.push(("customer", id.to_string()));
        }
        pairs.push(("kind", kind_value(self.kind).to_owned()));
        pairs.push(("months", self.months.to_string()));
        pairs.push(("goal", trim_number(self.goal)));
        if let Some(m) = month {
            pairs.push(("month", m.to_string()));
        }
        format!(
            "/sla?{}",
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        )
    }

    fn query(&self, group: Group, from: i64, to: i64) -> ReportQuery {
        let mut q = ReportQuery::new(from, to, group);
        q.agreement_kind = self.kind;
        q.service_id = self.service_id;
        q.customer_id = self.customer_id;
        q
    }

    /// An API download of the same figures.
    fn csv(&self, path: &str, group: Option<&str>, from: Month, to: Month) -> String {
        let mut pairs: Vec<(&str, String)> = vec![("format", "csv".into())];
        if let Some(g) = group {
            pairs.push(("group", g.into()));
        }
        pairs.push(("from", from.to_string()));
        pairs.push(("to", to.to_string()));
        pairs.push(("agreement_kind", kind_value(self.kind).to_owned()));
        if let Some(id) = self.service_id {
            pairs.push(("service_id", id.to_string()));
        }
        if let Some(id) = self.customer_id {
            pairs.push(("customer_id", id.to_string()));
        }
        format!(
            "/api/v1/sla/{path}?{}",
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        )
    }

    fn figure(&self, met: i64, breached: i64, total: i64, percent: f64) -> Figure {
        let (class, verdict) = if percent >= self.goal {
            ("ok", "meets goal")
        } else if percent >= self.goal - NEAR {
            ("near", "near goal")
        } else {
            ("below", "below goal")
        };
        Figure {
            met,
            breached,
            total,
            percent: format!("{percent:.1} %"),
            class,
            verdict,
        }
    }

    fn figure_of(&self, r: &AttainmentRow) -> Figure {
        self.figure(r.met, r.breached, r.total, r.attainment_percent)
    }
}

fn kind_value(kind: Option<AgreementKind>) -> &'static str {
    kind.map_or("all", AgreementKind::as_str)
}

/// `95` rather than `95.0`; `99.5` stays.
fn trim_number(v: f64) -> String {
    let text = format!("{v:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

pub async fn page(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    Query(q): Query<DashboardQuery>,
) -> UiResult {
    let t = who.tenant_id();
    let now = now_micros();
    let current = Month::containing(now);
    let f = Filters::read(&q, current);
    let first = current.plus(1 - f.months as i32);
    let months: Vec<Month> = (0..f.months as i32).map(|i| first.plus(i)).collect();
    let (from, to) = (first.start(), current.end());
    let (focus_from, focus_to) = f.focus.map_or((from, to), |m| (m.start(), m.end()));

    let store = &state.store;
    let by_month = f.query(Group::Month, from, to);
    let mut by_service_target = f.query(Group::Service, focus_from, focus_to);
    by_service_target.then = Some(Group::Target);
    let mut by_service_month = f.query(Group::Service, from, to);
    by_service_month.then = Some(Group::Month);
    let page = PageRequest {
        limit: Some(50),
        cursor: q.cursor.clone(),
    };
    let focus_query = f.query(Group::Service, focus_from, focus_to);
    let monthly = store.attainment(t, &by_month).await?;
    let by_target = store.attainment(t, &by_service_target).await?;
    let grid_rows = store.attainment(t, &by_service_month).await?;
    let breaches = store.breaches(t, &focus_query, &page).await;
    let breaches = match breaches {
        // A stale or edited cursor shows the first page rather than an error.
        Err(StoreError::Invalid(_)) => {
            store
                .breaches(t, &focus_query, &PageRequest::default())
                .await?
        }
        other => other?,
    };

    let points: Vec<Point> = months
        .iter()
        .map(|m| Point {
            month: *m,
            row: monthly
                .iter()
                .find(|r| r.group.key.as_deref() == Some(m.to_string().as_str())),
            href: f.link(Some(*m)),
        })
        .collect();
    let chart = line_chart(&points, f.goal, current);
    let overall = {
        let (met, total) = monthly
            .iter()
            .filter(|r| {
                f.focus
                    .is_none_or(|m| r.group.key.as_deref() == Some(m.to_string().as_str()))
            })
            .fold((0, 0), |(m, t), r| (m + r.met, t + r.total));
        (total > 0).then(|| {
            let percent = (met as f64 * 10_000.0 / total as f64).round() / 100.0;
            f.figure(met, total - met, total, percent)
        })
    };
    let by_target = by_target
        .iter()
        .map(|r| TargetRow {
            service: r.group.label.clone(),
            target: r.then.as_ref().map(|v| v.label.clone()).unwrap_or_default(),
            figure: f.figure_of(r),
        })
        .collect();
    let mut grid: Vec<GridRow> = Vec::new();
    for r in &grid_rows {
        let Some(month) = r.then.as_ref().and_then(|v| v.key.as_deref()) else {
            continue;
        };
        let Some(column) = months.iter().position(|m| m.to_string() == month) else {
            continue;
        };
        if grid.last().is_none_or(|g| g.service != r.group.label) {
            grid.push(GridRow {
                service: r.group.label.clone(),
                cells: months.iter().map(|_| None).collect(),
            });
        }
        if let Some(row) = grid.last_mut() {
            row.cells[column] = Some(f.figure_of(r));
        }
    }
    let grid_months = months
        .iter()
        .map(|m| MonthHead {
            label: format!("{} {}", m.short_name(), m.year()),
            href: f.link(Some(*m)),
            current: Some(*m) == f.focus,
        })
        .collect();
    let more_breaches = next_link(
        "/sla",
        &[
            ("service", &q.service),
            ("customer", &q.customer),
            ("kind", kind_value(f.kind)),
            ("months", &f.months.to_string()),
            ("goal", &trim_number(f.goal)),
            ("month", &f.focus.map(|m| m.to_string()).unwrap_or_default()),
        ],
        breaches.next_cursor,
    );
    let breaches = breaches
        .items
        .into_iter()
        .map(|b| breach_line(b, now))
        .collect();

    let (csv_from, csv_to) = f.focus.map_or((first, current.next()), |m| (m, m.next()));
    let csv_targets = f.csv("attainment", Some("service,target"), csv_from, csv_to);
    let csv_months = f.csv("attainment", Some("service,month"), first, current.next());
    let csv_breaches = f.csv("breaches", None, csv_from, csv_to);

    let names = filter_names(&state, &who).await?;
    let service_choices = std::iter::once((String::new(), "All services".to_owned()))
        .chain(names.0.into_iter().map(|(id, n)| (id.to_string(), n)));
    let customer_choices = std::iter::once((String::new(), "All customers".to_owned()))
        .chain(names.1.into_iter().map(|(id, n)| (id.to_string(), n)));
    let kinds = [
        ("sla", "SLA: with customers"),
        ("ola", "OLA: with internal teams"),
        ("uc", "UC: with suppliers"),
        ("all", "All agreements"),
    ]
    .iter()
    .map(|(v, l)| ((*v).to_owned(), (*l).to_owned()));
    let periods = PERIODS
        .iter()
        .map(|m| (m.to_string(), format!("Last {m} months")));
    let scope = match f.focus {
        Some(m) => m.name(),
        None => format!(
            "{} to {} (this month to date)",
            first.name(),
            current.name()
        ),
    };
    let chrome = Chrome::new(&state, &who, "/sla").await;
    Ok(DashboardPage {
        chrome,
        services: options(
            service_choices,
            &f.service_id.map(|i| i.to_string()).unwrap_or_default(),
        ),
        customers: options(
            customer_choices,
            &f.customer_id.map(|i| i.to_string()).unwrap_or_default(),
        ),
        kinds: options(kinds, kind_value(f.kind)),
        periods: options(periods, &f.months.to_string()),
        goal: trim_number(f.goal),
        scope,
        focus: f.focus.map(Month::name),
        clear_focus: f.link(None),
        chart,
        overall,
        by_target,
        grid_months,
        grid,
        breaches,
        more_breaches,
        csv_targets,
        csv_months,
        csv_breaches,
    }
    .into_response())
}

/// The services and customers to filter by (the first 500 of each, by name).
async fn filter_names(
    state: &AppState,
    who: &Can<perm::RecordsRead>,
) -> Result<(Vec<(i64, String)>, Vec<(i64, String)>), super::UiError> {
    Ok((
        super::service_names(state, who).await?,
        super::customer_names(state, who).await?,
    ))
}

fn breach_line(b: BreachRow, now: i64) -> BreachLine {
    let href = match b.record_kind {
        RecordKind::Incident => format!("/incidents/{}", b.record_key),
        RecordKind::Request => format!("/requests/{}", b.record_key),
    };
    BreachLine {
        href,
        key: b.record_key,
        title: b.record_title,
        target: humanize(&b.target),
        agreement: b.agreement,
        service: b.service.unwrap_or_else(|| "No service".into()),
        customer: b.customer.unwrap_or_else(|| "No customer".into()),
        due: when(b.due_at),
        stopped: b.stopped_at.map_or_else(|| "Still open".into(), when),
        late_by: duration(b.stopped_at.unwrap_or(now) - b.due_at),
        reason: b.breach_reason,
    }
}

/// `3 d 4 h`, `2 h 5 min`, `12 min`: how late, to the minute.
fn duration(micros: i64) -> String {
    let minutes = (micros.max(0) + 59_999_999) / 60_000_000;
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    match (days, hours) {
        (0, 0) => format!("{mins} min"),
        (0, h) => format!("{h} h {mins} min"),
        (d, h) => format!("{d} d {h} h"),
    }
}

/// One month on the chart and its figures, if any clock was decided in it.
struct Point<'a> {
    month: Month,
    row: Option<&'a AttainmentRow>,
    href: String,
}

/// Monthly attainment as an inline SVG line chart with the goal as a dashed line. Each point
/// links to the dashboard narrowed to its month (the records behind it); months without
/// decided clocks leave a gap rather than a fake zero.
fn line_chart(points: &[Point<'_>], goal: f64, current: Month) -> String {
    const W: f64 = 680.0;
    const H: f64 = 260.0;
    const LEFT: f64 = 56.0;
    const RIGHT: f64 = 16.0;
    const TOP: f64 = 28.0;
    const BOTTOM: f64 = 48.0;
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let lowest = points
        .iter()
        .filter_map(|p| p.row.map(|r| r.attainment_percent))
        .fold(goal, f64::min);
    let floor = (((lowest - 5.0) / 10.0).floor() * 10.0).clamp(0.0, 90.0);
    let step = match 100.0 - floor {
        r if r <= 20.0 => 5.0,
        r if r <= 50.0 => 10.0,
        _ => 20.0,
    };
    let y = |v: f64| TOP + ph * (100.0 - v) / (100.0 - floor);
    let n = points.len().max(1) as f64;
    let x = |i: usize| LEFT + pw * (i as f64 + 0.5) / n;
    let title = "Monthly SLA attainment";
    let mut svg = format!(
        "<svg class=\"chart line-chart\" role=\"img\" aria-labelledby=\"chart-title chart-desc\" viewBox=\"0 0 {W} {H}\" width=\"100%\" preserveAspectRatio=\"xMinYMin meet\">\
         <title id=\"chart-title\">{title}</title>\
         <desc id=\"chart-desc\">Percentage of clocks that met their target, per month, against a goal of {}%. The table below holds the same figures.</desc>",
        trim_number(goal)
    );
    let mut tick = floor;
    while tick <= 100.0 + f64::EPSILON {
        let _ = write!(
            svg,
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/><text class=\"tick\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{tick}%</text>",
            W - RIGHT,
            LEFT - 6.0,
            y(tick) + 4.0,
            y = y(tick)
        );
        tick += step;
    }
    let _ = write!(
        svg,
        "<text class=\"axis-title\" transform=\"translate(14 {:.1}) rotate(-90)\" text-anchor=\"middle\">Attainment (%)</text>\
         <text class=\"axis-title\" x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">Month (UTC)</text>",
        TOP + ph / 2.0,
        LEFT + pw / 2.0,
        H - 6.0
    );
    for (i, p) in points.iter().enumerate() {
        let label = if p.month == current {
            format!("{}*", p.month.short_name())
        } else {
            p.month.short_name().to_owned()
        };
        let _ = write!(
            svg,
            "<text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{label}</text>",
            x(i),
            TOP + ph + 16.0
        );
        if i == 0 || p.month.month() == 1 {
            let _ = write!(
                svg,
                "<text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                x(i),
                TOP + ph + 29.0,
                p.month.year()
            );
        }
    }
    let goal_y = y(goal);
    let _ = write!(
        svg,
        "<line class=\"goal\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{goal_y:.1}\" y2=\"{goal_y:.1}\"/>",
        W - RIGHT
    );
    let mut path = String::new();
    let mut pen_down = false;
    for (i, p) in points.iter().enumerate() {
        match p.row {
            Some(r) => {
                let _ = write!(
                    path,
                    "{}{:.1} {:.1} ",
                    if pen_down { "L" } else { "M" },
                    x(i),
                    y(r.attainment_percent)
                );
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    if !path.is_empty() {
        let _ = write!(svg, "<path class=\"line\" d=\"{}\"/>", path.trim_end());
    }
    for (i, p) in points.iter().enumerate() {
        let Some(r) = p.row else { continue };
        let below = if r.attainment_percent < goal {
            " below"
        } else {
            ""
        };
        let _ = write!(
            svg,
            "<a href=\"{}\"><circle class=\"point{below}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\"><title>{}: {:.1}% ({} of {} met)</title></circle></a>",
            html_attr(&p.href),
            x(i),
            y(r.attainment_percent),
            p.month.name(),
            r.attainment_percent,
            r.met,
            r.total
        );
        if points.len() <= 12 {
            let _ = write!(
                svg,
                "<text class=\"value\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{:.1}</text>",
                x(i),
                y(r.attainment_percent) - 9.0,
                r.attainment_percent
            );
        }
    }
    let _ = write!(
        svg,
        "<g class=\"legend\" transform=\"translate({} 12)\">\
         <line class=\"line\" x1=\"0\" x2=\"18\" y1=\"0\" y2=\"0\"/><text x=\"24\" y=\"4\">Attainment</text>\
         <line class=\"goal\" x1=\"104\" x2=\"122\" y1=\"0\" y2=\"0\"/><text x=\"128\" y=\"4\">Goal {}%</text></g>",
        W - RIGHT - 190.0,
        trim_number(goal)
    );
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lateness_reads_in_days_hours_and_minutes() {
        assert_eq!(duration(60_000_000), "1 min");
        assert_eq!(duration(125 * 60_000_000), "2 h 5 min");
        assert_eq!(duration((3 * 1440 + 250) * 60_000_000), "3 d 4 h");
        assert_eq!(trim_number(95.0), "95");
        assert_eq!(trim_number(99.5), "99.5");
    }

    #[test]
    fn the_chart_breaks_its_line_where_a_month_has_no_clocks() {
        let jan = Month::parse("2026-01").expect("month");
        let row = |p: f64| AttainmentRow {
            group: steward_store::sla::report::GroupValue {
                group: Group::Month,
                key: None,
                label: String::new(),
            },
            then: None,
            met: 1,
            breached: 0,
            total: 1,
            attainment_percent: p,
        };
        let (a, b) = (row(90.0), row(100.0));
        let points = [
            Point {
                month: jan,
                row: Some(&a),
                href: "/sla?month=2026-01&x=1".into(),
            },
            Point {
                month: jan.next(),
                row: None,
                href: String::new(),
            },
            Point {
                month: jan.plus(2),
                row: Some(&b),
                href: String::new(),
            },
        ];
        let svg = line_chart(&points, 95.0, jan.plus(2));
        let path = svg
            .split("class=\"line\" d=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("path");
        assert_eq!(path.matches('M').count(), 2, "{path}");
        assert!(svg.contains("Goal 95%"));
        assert!(svg.contains("href=\"/sla?month=2026-01&amp;x=1\""));
        assert!(svg.contains("class=\"point below\""));
        assert!(svg.contains("Mar*"));
    }
}
