//! Operations endpoints: liveness, readiness and Prometheus metrics.

use crate::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

/// The process-wide Prometheus recorder (the `metrics` facade allows one per process).
#[derive(Clone)]
pub struct Metrics(Option<PrometheusHandle>);

impl Metrics {
    pub fn global() -> Metrics {
        static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
        Metrics(
            HANDLE
                .get_or_init(|| {
                    let recorder = PrometheusBuilder::new()
                        .set_buckets_for_metric(
                            Matcher::Suffix("duration_seconds".into()),
                            &[
                                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                                5.0,
                            ],
                        )
                        .ok()?
                        .build_recorder();
                    let handle = recorder.handle();
                    metrics::set_global_recorder(recorder).ok()?;
                    Some(handle)
                })
                .clone(),
        )
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// The database answers and its schema is current: safe to send traffic here.
async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.is_migrated().await {
        Ok(true) => (StatusCode::OK, "ready").into_response(),
        Ok(false) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "database schema is not up to date",
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    let (open, idle) = state.store.pool_stats();
    metrics::gauge!("steward_db_connections", "state" => "open").set(f64::from(open));
    metrics::gauge!("steward_db_connections", "state" => "idle").set(idle as f64);
    if let Ok(counts) = state.store.job_counts().await {
        for state in ["queued", "running", "done", "dead"] {
            let n = counts
                .iter()
                .find(|(s, _)| s == state)
                .map_or(0, |(_, n)| *n);
            metrics::gauge!("steward_jobs", "state" => state).set(n as f64);
        }
    }
    let body = state
        .metrics
        .0
        .as_ref()
        .map(PrometheusHandle::render)
        .unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
