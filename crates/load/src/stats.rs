//! Percentiles and the one-line summary of a figure.

use serde::Serialize;
use std::time::Duration;

/// The value at percentile `p` (0 to 100) of ascending samples, by the nearest-rank method:
/// the smallest sample with at least `p` % of the samples at or below it. 0 when empty.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let n = sorted.len();
    let rank = (p.clamp(0.0, 100.0) / 100.0 * n as f64).ceil() as usize;
    sorted[rank.clamp(1, n) - 1]
}

/// Rounds to three decimals, so the JSON stays readable.
fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// One figure: a scenario at one concurrency. Printed as one JSON line, in this field order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub scenario: String,
    pub concurrency: u32,
    /// Requests made, failed ones included.
    pub requests: u64,
    /// Requests answered with a non-2xx status, or not answered at all.
    pub errors: u64,
    /// Wall time from the first request to the last answer.
    pub seconds: f64,
    /// Successful requests per second.
    pub throughput_per_s: f64,
    /// Latency percentiles of the successful requests, in milliseconds.
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// Rows per second, for scenarios whose requests each carry several rows (an import):
    /// successful requests times rows per request, per second. Absent when a request is one
    /// row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_per_s: Option<f64>,
}

impl Summary {
    /// Summarises a run from the latencies of its successful requests (in microseconds, any
    /// order), its error count and how many rows each request carries (1 for most scenarios).
    pub fn new(
        scenario: &str,
        concurrency: u32,
        mut latencies_us: Vec<u64>,
        errors: u64,
        elapsed: Duration,
        rows_per_request: u64,
    ) -> Summary {
        latencies_us.sort_unstable();
        let ok = latencies_us.len() as u64;
        let seconds = elapsed.as_secs_f64();
        let ms = |p| round3(percentile(&latencies_us, p) as f64 / 1000.0);
        let per_second = |n: u64| {
            if seconds > 0.0 {
                round3(n as f64 / seconds)
            } else {
                0.0
            }
        };
        Summary {
            scenario: scenario.to_owned(),
            concurrency,
            requests: ok + errors,
            errors,
            seconds: round3(seconds),
            throughput_per_s: per_second(ok),
            p50_ms: ms(50.0),
            p95_ms: ms(95.0),
            p99_ms: ms(99.0),
            rows_per_s: (rows_per_request != 1)
                .then(|| per_second(ok.saturating_mul(rows_per_request))),
        }
    }

    /// Errors as a fraction of requests (0 when nothing was sent).
    pub fn error_rate(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.errors as f64 / self.requests as f64
        }
    }

    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let hundred: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&hundred, 50.0), 50);
        assert_eq!(percentile(&hundred, 95.0), 95);
        assert_eq!(percentile(&hundred, 99.0), 99);
        assert_eq!(percentile(&hundred, 100.0), 100);
        assert_eq!(percentile(&hundred, 0.0), 1);
        let four = [10, 20, 30, 40];
        assert_eq!(percentile(&four, 50.0), 20);
        assert_eq!(percentile(&four, 51.0), 30);
        assert_eq!(percentile(&four, 99.0), 40);
        assert_eq!(percentile(&[7], 99.0), 7);
        assert_eq!(percentile(&[], 50.0), 0);
        // Out-of-range percentiles are clamped rather than panicking.
        assert_eq!(percentile(&four, 250.0), 40);
        assert_eq!(percentile(&four, -5.0), 10);
    }

    #[test]
    fn a_summary_counts_errors_and_reports_milliseconds() {
        // 1 ms .. 100 ms, shuffled: the summary sorts them itself.
        let mut latencies: Vec<u64> = (1..=100).map(|ms| ms * 1000).collect();
        latencies.reverse();
        latencies.swap(3, 70);
        let s = Summary::new("x", 16, latencies, 25, Duration::from_millis(2500), 1);
        assert_eq!(s.requests, 125);
        assert_eq!(s.errors, 25);
        assert_eq!(s.seconds, 2.5);
        assert_eq!(s.throughput_per_s, 40.0);
        assert_eq!((s.p50_ms, s.p95_ms, s.p99_ms), (50.0, 95.0, 99.0));
        assert_eq!(s.error_rate(), 0.2);
    }

    #[test]
    fn microseconds_are_kept_to_three_decimals() {
        let s = Summary::new(
            "x",
            1,
            vec![1234, 1234, 1234],
            0,
            Duration::from_micros(3702),
            1,
        );
        assert_eq!(s.p50_ms, 1.234);
        assert_eq!(s.throughput_per_s, 810.373);
        assert_eq!(s.seconds, 0.004);
    }

    #[test]
    fn an_empty_run_is_all_zeros() {
        let s = Summary::new("x", 1, Vec::new(), 0, Duration::ZERO, 100);
        assert_eq!((s.requests, s.errors), (0, 0));
        assert_eq!((s.throughput_per_s, s.p50_ms, s.p99_ms), (0.0, 0.0, 0.0));
        assert_eq!(s.error_rate(), 0.0);
        assert_eq!(s.rows_per_s, Some(0.0));
    }

    #[test]
    fn the_json_line_has_the_fields_in_order() {
        let s = Summary::new(
            "incident.view",
            16,
            vec![2000],
            1,
            Duration::from_secs(1),
            1,
        );
        assert_eq!(
            s.to_json_line(),
            r#"{"scenario":"incident.view","concurrency":16,"requests":2,"errors":1,"seconds":1.0,"throughput_per_s":1.0,"p50_ms":2.0,"p95_ms":2.0,"p99_ms":2.0}"#
        );
    }

    #[test]
    fn requests_of_many_rows_report_rows_per_second_last() {
        // 3 of 4 requests succeed in 2 s, 100 rows each: 1.5 requests and 150 rows a second.
        let s = Summary::new(
            "incident.import",
            4,
            vec![5000, 6000, 7000],
            1,
            Duration::from_secs(2),
            100,
        );
        assert_eq!((s.throughput_per_s, s.rows_per_s), (1.5, Some(150.0)));
        assert_eq!(
            s.to_json_line(),
            r#"{"scenario":"incident.import","concurrency":4,"requests":4,"errors":1,"seconds":2.0,"throughput_per_s":1.5,"p50_ms":6.0,"p95_ms":7.0,"p99_ms":7.0,"rows_per_s":150.0}"#
        );
    }
}
