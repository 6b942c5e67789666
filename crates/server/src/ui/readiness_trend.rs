//! The readiness dashboard's trend: the daily counts of requirements met, open and with a gap
//! (see `steward_store::readiness_trend`) as three lines over the last days, drawn as SVG on the
//! server like the dashboard's other chart.

use super::html_attr;
use std::fmt::Write as _;
use steward_store::readiness_trend::Snapshot;

/// A line of the chart: its class, its legend, and the count it draws.
type Series = (&'static str, &'static str, fn(&Snapshot) -> usize);

/// How many days the trend shows.
pub const DAYS: i64 = 90;

const W: f64 = 720.0;
const H: f64 = 180.0;
const LEFT: f64 = 40.0;
const TOP: f64 = 24.0;
const BOTTOM: f64 = 24.0;

/// The chart, or `None` while fewer than two days were counted (a line needs two points).
pub fn chart(snaps: &[Snapshot]) -> Option<String> {
    let (first, last) = (snaps.first()?, snaps.last()?);
    if snaps.len() < 2 {
        return None;
    }
    let top = snaps
        .iter()
        .map(|s| s.counts.met.max(s.counts.open).max(s.counts.gap))
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let x = |i: usize| LEFT + (W - LEFT - 10.0) * i as f64 / (snaps.len() - 1) as f64;
    let y = |n: usize| TOP + (H - TOP - BOTTOM) * (1.0 - n as f64 / top);
    let mut svg = format!(
        "<svg class=\"chart trend-chart\" role=\"img\" aria-labelledby=\"trend-title trend-desc\" viewBox=\"0 0 {W} {H}\" width=\"100%\" preserveAspectRatio=\"xMinYMin meet\">\
         <title id=\"trend-title\">Requirements met, open and with a gap, day by day</title>\
         <desc id=\"trend-desc\">From {} ({} met, {} open, {} with a gap) to {} ({} met, {} open, {} with a gap).</desc>",
        first.day,
        first.counts.met,
        first.counts.open,
        first.counts.gap,
        last.day,
        last.counts.met,
        last.counts.open,
        last.counts.gap,
    );
    let series: [Series; 3] = [
        ("met", "Evidence complete", |s| s.counts.met),
        ("open", "Open", |s| s.counts.open),
        ("gap", "Gap", |s| s.counts.gap),
    ];
    for (i, (code, label, _)) in series.iter().enumerate() {
        let lx = LEFT + 150.0 * i as f64;
        let _ = write!(
            svg,
            "<rect class=\"seg seg-{code}\" x=\"{lx}\" y=\"4\" width=\"12\" height=\"12\"/><text class=\"tick\" x=\"{}\" y=\"14\">{label}</text>",
            lx + 16.0
        );
    }
    for (code, _, value) in series {
        let points: Vec<String> = snaps
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{:.1},{:.1}", x(i), y(value(s))))
            .collect();
        let _ = write!(
            svg,
            "<polyline class=\"trend trend-{code}\" fill=\"none\" points=\"{}\"/>",
            points.join(" ")
        );
    }
    for (n, anchor) in [(0usize, "end"), (top as usize, "end")] {
        let _ = write!(
            svg,
            "<text class=\"tick\" x=\"{}\" y=\"{:.1}\" text-anchor=\"{anchor}\">{n}</text>",
            LEFT - 6.0,
            y(n) + 4.0
        );
    }
    for (i, s, anchor) in [(0, first, "start"), (snaps.len() - 1, last, "end")] {
        let _ = write!(
            svg,
            "<text class=\"tick\" x=\"{:.1}\" y=\"{}\" text-anchor=\"{anchor}\">{}</text>",
            x(i),
            H - 6.0,
            html_attr(&s.day.to_string())
        );
    }
    svg.push_str("</svg>");
    Some(svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_domain::conformance::readiness::Counts;

    fn snap(day: &str, met: usize, gap: usize) -> Snapshot {
        Snapshot {
            day: day.parse().expect("day"),
            counts: Counts { met, open: 3, gap },
        }
    }

    #[test]
    fn one_day_is_not_a_trend() {
        assert!(chart(&[]).is_none());
        assert!(chart(&[snap("2026-12-01", 1, 1)]).is_none());
    }

    #[test]
    fn the_chart_names_its_ends_and_draws_three_lines() {
        let svg = chart(&[snap("2026-12-01", 10, 5), snap("2026-12-02", 12, 4)]).expect("chart");
        assert_eq!(svg.matches("<polyline").count(), 3);
        assert!(
            svg.contains("From 2026-12-01 (10 met, 3 open, 5 with a gap) to 2026-12-02 (12 met")
        );
    }
}
