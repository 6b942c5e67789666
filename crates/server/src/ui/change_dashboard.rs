//! The change dashboard (`/changes/dashboard`): success rate and emergency-change ratio over
//! the last 30 days and per month for six months (the figures `GET /changes/metrics` gives),
//! drawn as an SVG bar chart; how many changes are in each status; and the changes on the
//! schedule in the coming week.

use super::changes::{NAV_HREF, status_label, window_text};
use super::{Chrome, UiError, UiResult, html_attr};
use crate::AppState;
use crate::auth::{Can, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::IntoResponse;
use jiff::ToSpan;
use jiff::tz::TimeZone;
use std::fmt::Write as _;
use steward_domain::change::Window;
use steward_domain::change::metrics::ChangeMetrics;
use steward_store::now_micros;

const DAY: i64 = 86_400_000_000;
/// Months the chart shows, this one included.
const MONTHS: usize = 6;

pub struct MonthRow {
    /// `2031-03`.
    pub month: String,
    pub implemented: u32,
    pub successful: u32,
    pub failed: u32,
    pub emergency: u32,
    pub success: String,
    pub emergency_share: String,
}

pub struct Upcoming {
    pub key: String,
    pub title: String,
    pub window: String,
    pub status: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "change_dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    success: String,
    emergency: String,
    implemented: u32,
    not_implemented: u32,
    chart: String,
    months: Vec<MonthRow>,
    counts: Vec<(String, &'static str, i64)>,
    upcoming: Vec<Upcoming>,
}

/// A share as a percentage with one decimal, or a dash when nothing was implemented.
fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "—".to_owned(), |s| format!("{:.1}%", s * 100.0))
}

/// Success rate per month as bars (months with nothing implemented have none), with the
/// emergency share written under each.
fn chart(months: &[(String, ChangeMetrics)]) -> String {
    const W: f64 = 680.0;
    const H: f64 = 260.0;
    const LEFT: f64 = 56.0;
    const RIGHT: f64 = 16.0;
    const TOP: f64 = 28.0;
    const BOTTOM: f64 = 60.0;
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let y = |pct: f64| TOP + ph * (1.0 - pct / 100.0);
    let slot = pw / months.len().max(1) as f64;
    let bar = (slot * 0.6).min(60.0);
    let mut svg = format!(
        "<svg class=\"chart bar-chart change-success\" role=\"img\" aria-labelledby=\"chart-title chart-desc\" viewBox=\"0 0 {W} {H}\" width=\"100%\" preserveAspectRatio=\"xMinYMin meet\">\
         <title id=\"chart-title\">Change success rate per month</title>\
         <desc id=\"chart-desc\">Share of the changes implemented each month that closed successfully; the emergency share is written under each month. The table below has the numbers.</desc>"
    );
    for tick in [0, 25, 50, 75, 100] {
        let ty = y(f64::from(tick));
        let _ = write!(
            svg,
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{ty:.1}\" y2=\"{ty:.1}\"/><text class=\"tick\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{tick}%</text>",
            W - RIGHT,
            LEFT - 6.0,
            ty + 4.0
        );
    }
    let _ = write!(
        svg,
        "<text class=\"axis-title\" transform=\"translate(14 {:.1}) rotate(-90)\" text-anchor=\"middle\">Success rate (%)</text>\
         <text class=\"axis-title\" x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">Month (UTC)</text>",
        TOP + ph / 2.0,
        LEFT + pw / 2.0,
        H - 6.0
    );
    for (i, (month, m)) in months.iter().enumerate() {
        let cx = LEFT + slot * (i as f64 + 0.5);
        if let Some(rate) = m.success_rate {
            let pct = rate * 100.0;
            let top = y(pct);
            let _ = write!(
                svg,
                "<a href=\"/changes?status=failed\"><rect class=\"bar\" x=\"{:.1}\" y=\"{top:.1}\" width=\"{bar:.1}\" height=\"{:.1}\"><title>{}: {pct:.1}% successful ({} of {} implemented)</title></rect></a>\
                 <text class=\"value\" x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{pct:.0}%</text>",
                cx - bar / 2.0,
                (TOP + ph - top).max(0.0),
                html_attr(month),
                m.successful,
                m.implemented,
                top - 5.0
            );
        } else {
            let _ = write!(
                svg,
                "<text class=\"tick\" x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">none</text>",
                TOP + ph - 6.0
            );
        }
        let _ = write!(
            svg,
            "<text class=\"tick\" x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\
             <text class=\"tick\" x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">emerg. {}</text>",
            TOP + ph + 16.0,
            html_attr(month),
            TOP + ph + 32.0,
            percent(m.emergency_ratio)
        );
    }
    svg.push_str("</svg>");
    svg
}

pub async fn page(State(state): State<AppState>, who: Can<perm::ChangesRead>) -> UiResult {
    let t = who.tenant_id();
    let now = now_micros();
    let recent = state
        .store
        .change_metrics(
            t,
            &Window {
                start: now - 30 * DAY,
                end: now,
            },
        )
        .await?;
    let this_month = jiff::Timestamp::now()
        .to_zoned(TimeZone::UTC)
        .date()
        .first_of_month();
    let mut months = Vec::with_capacity(MONTHS);
    for back in (0..MONTHS as i64).rev() {
        let bad = |_| UiError::Internal;
        let first = this_month.checked_sub(back.months()).map_err(bad)?;
        let next = first.checked_add(1.month()).map_err(bad)?;
        let micros = |d: jiff::civil::Date| {
            d.to_zoned(TimeZone::UTC)
                .map(|z| z.timestamp().as_microsecond())
                .map_err(|_| UiError::Internal)
        };
        let period = Window {
            start: micros(first)?,
            end: micros(next)?,
        };
        let m = state.store.change_metrics(t, &period).await?;
        months.push((first.strftime("%Y-%m").to_string(), m));
    }
    let counts = state
        .store
        .change_counts_by_status(t)
        .await?
        .into_iter()
        .map(|(s, n)| (s.as_str().to_owned(), status_label(s), n))
        .collect();
    let upcoming = state
        .store
        .change_schedule(
            t,
            &Window {
                start: now,
                end: now + 7 * DAY,
            },
        )
        .await?
        .into_iter()
        .map(|e| Upcoming {
            key: steward_domain::change::key(e.number),
            window: window_text(Some(e.window)),
            status: status_label(e.status),
            title: e.title,
        })
        .collect();
    let page = DashboardPage {
        chrome: Chrome::new(&state, &who, NAV_HREF).await,
        success: percent(recent.success_rate),
        emergency: percent(recent.emergency_ratio),
        implemented: recent.implemented,
        not_implemented: recent.not_implemented,
        chart: chart(&months),
        months: months
            .into_iter()
            .map(|(month, m)| MonthRow {
                month,
                implemented: m.implemented,
                successful: m.successful,
                failed: m.failed,
                emergency: m.emergency,
                success: percent(m.success_rate),
                emergency_share: percent(m.emergency_ratio),
            })
            .collect(),
        counts,
        upcoming,
    };
    Ok(page.into_response())
}
