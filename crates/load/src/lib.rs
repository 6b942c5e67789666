//! `steward-load`: an HTTP load driver for Steward. It runs named scenarios
//! ([`scenarios`]) against a running server and summarises each figure — a scenario at one
//! concurrency — as one JSON line ([`stats::Summary`]).

pub mod crash;
pub mod harness;
pub mod http;
pub mod nodes;
pub mod options;
pub mod scenarios;
pub mod smtp;
pub mod stats;

use anyhow::bail;
use http::{API_PREFIX, Conn, Target, describe};
pub use options::Options;
use scenarios::{Scenario, ScenarioName};
use stats::Summary;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// When a figure stops: after `requests` requests or `duration`, whichever comes first.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub requests: u64,
    pub duration: Duration,
}

/// A figure with the first error seen, for the operator.
#[derive(Debug, Clone)]
pub struct Figure {
    pub summary: Summary,
    pub first_error: Option<String>,
}

/// What a whole run did.
#[derive(Debug, Default)]
pub struct Outcome {
    pub figures: Vec<Figure>,
    /// Scenarios that could not be set up, with the reason.
    pub setup_failures: Vec<(ScenarioName, String)>,
}

impl Outcome {
    /// No setup failed and no figure's error rate is above `max_error_rate`.
    pub fn passed(&self, max_error_rate: f64) -> bool {
        self.setup_failures.is_empty()
            && self
                .figures
                .iter()
                .all(|f| f.summary.error_rate() <= max_error_rate)
    }
}

/// Runs every chosen scenario at every concurrency level, handing each figure to `report` as
/// soon as it is measured. Fails only when the target itself is unusable.
pub async fn run(options: &Options, mut report: impl FnMut(&Figure)) -> anyhow::Result<Outcome> {
    let target = Arc::new(Target::new(&options.base_url, &options.token, options.timeout).await?);
    if !options.allow_remote && !target.addr().ip().is_loopback() {
        bail!(
            "{} is not a loopback address; pass --allow-remote to load another machine",
            target.addr()
        );
    }
    let limits = Limits {
        requests: options.requests,
        duration: options.duration,
    };
    let mut outcome = Outcome::default();
    let mut api = Conn::new(Arc::clone(&target));
    for name in options.scenarios() {
        let scenario: Arc<dyn Scenario> = match name.setup(&mut api).await {
            Ok(s) => Arc::from(s),
            Err(e) => {
                eprintln!("steward-load: {}: setup failed: {e:#}", name.as_str());
                outcome.setup_failures.push((name, format!("{e:#}")));
                continue;
            }
        };
        // Iterations continue across concurrency levels, so inputs (titles) do not repeat.
        let mut next_iteration = 0;
        for &concurrency in &options.concurrency {
            let figure = measure(
                &target,
                name.as_str(),
                Arc::clone(&scenario),
                concurrency,
                limits,
                next_iteration,
            )
            .await;
            next_iteration += figure.summary.requests;
            if let Some(error) = &figure.first_error {
                eprintln!(
                    "steward-load: {} at concurrency {}: {} errors; the first: {error}",
                    name.as_str(),
                    concurrency,
                    figure.summary.errors
                );
            }
            report(&figure);
            outcome.figures.push(figure);
        }
    }
    Ok(outcome)
}

/// What one worker saw.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    errors: u64,
    first_error: Option<String>,
}

/// One figure: `concurrency` workers, each on its own connection, take iteration numbers
/// from a shared counter until the limits are reached. Connections are opened before the
/// clock starts; a failed request is counted and the worker goes on (reconnecting if needed).
pub async fn measure(
    target: &Arc<Target>,
    name: &str,
    scenario: Arc<dyn Scenario>,
    concurrency: u32,
    limits: Limits,
    first_iteration: u64,
) -> Figure {
    let mut conns = Vec::new();
    for _ in 0..concurrency {
        let mut conn = Conn::new(Arc::clone(target));
        // A failure here shows up as errors on the worker's first request.
        let _ = conn.connect().await;
        conns.push(conn);
    }
    let issued = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + limits.duration;
    let mut workers = JoinSet::new();
    for mut conn in conns {
        let (issued, scenario) = (Arc::clone(&issued), Arc::clone(&scenario));
        workers.spawn(async move {
            let mut tally = Tally::default();
            while Instant::now() < deadline {
                let n = issued.fetch_add(1, Ordering::Relaxed);
                if n >= limits.requests {
                    break;
                }
                let request = scenario.request(first_iteration + n);
                let sent = Instant::now();
                let failure = match conn.send(&request).await {
                    Ok(reply) if reply.status.is_success() => {
                        tally.latencies_us.push(sent.elapsed().as_micros() as u64);
                        continue;
                    }
                    Ok(reply) => describe(&reply),
                    Err(e) => format!("{e:#}"),
                };
                tally.errors += 1;
                tally.first_error.get_or_insert_with(|| {
                    format!("{} {API_PREFIX}{}: {failure}", request.method, request.path)
                });
            }
            tally
        });
    }
    let mut all = Tally::default();
    while let Some(joined) = workers.join_next().await {
        match joined {
            Ok(t) => {
                all.latencies_us.extend(t.latencies_us);
                all.errors += t.errors;
                if all.first_error.is_none() {
                    all.first_error = t.first_error;
                }
            }
            Err(e) => {
                all.errors += 1;
                all.first_error
                    .get_or_insert_with(|| format!("a worker failed: {e}"));
            }
        }
    }
    let elapsed = started.elapsed();
    Figure {
        summary: Summary::new(
            name,
            concurrency,
            all.latencies_us,
            all.errors,
            elapsed,
            scenario.rows_per_request(),
        ),
        first_error: all.first_error,
    }
}
