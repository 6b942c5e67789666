//! Steward's HTTP layer: the REST API under `/api/v1`, the HTML UI, authentication and access
//! control, health and metrics. The domain decides, the store remembers, this crate translates.

pub mod api;
pub mod asset_reminders;
pub mod auth;
pub mod certificate_reminders;
pub mod competence_reminders;
pub mod complaint_reminders;
mod daily;
pub mod document_reminders;
pub mod error;
pub mod evidence;
#[doc(hidden)]
pub mod fuzzing;
pub mod jobs;
pub mod mail;
pub mod nonconformity_reminders;
mod ops;
pub mod readiness_snapshots;
pub mod sla;
pub mod supplier_reminders;
pub mod transfer;
pub mod ui;
pub mod verify;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::{Duration, Instant};
use steward_store::Store;
use tower::ServiceBuilder;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Mark cookies `Secure`; turn on whenever Steward is reached over HTTPS.
    pub secure_cookies: bool,
    pub session_ttl: Duration,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Largest file accepted as an attachment, in bytes; only the upload routes take bodies
    /// this large.
    pub max_upload_bytes: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            session_ttl: Duration::from_secs(12 * 3600),
            max_body_bytes: 1024 * 1024,
            max_upload_bytes: 10 * 1024 * 1024,
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<ServerConfig>,
    pub metrics: ops::Metrics,
}

impl AppState {
    pub fn new(store: Store, config: ServerConfig) -> Self {
        Self {
            store,
            config: Arc::new(config),
            metrics: ops::Metrics::global(),
        }
    }
}

/// The whole application: API, UI, assets, health and metrics, with the shared middleware.
pub fn router(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let limit = state.config.max_body_bytes;
    // Two limits: every extractor (JSON, forms, multipart) reads at most `max_body_bytes`
    // (`DefaultBodyLimit`); the upload routes lift that and check `max_upload_bytes`
    // themselves. The hard cap on any body is therefore the larger of the two, plus room for a
    // multipart form's framing around the file.
    let hard_limit = limit.max(
        state
            .config
            .max_upload_bytes
            .saturating_add(MULTIPART_OVERHEAD),
    );
    Router::new()
        .nest("/api/v1", api::router())
        .merge(ui::router())
        .merge(ops::router())
        .merge(verify::router())
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .layer(middleware::from_fn(record_metrics))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(middleware::from_fn(too_large_as_problem))
                .layer(RequestBodyLimitLayer::new(hard_limit))
                .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
                .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
                .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(
                        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
                    ),
                )),
        )
        .with_state(state)
}

/// Room for the parts of a multipart upload form around the file itself.
const MULTIPART_OVERHEAD: usize = 64 * 1024;

/// The hard body limit answers in bare text; API clients get a problem document instead, and
/// people a page.
async fn too_large_as_problem(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let bare = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|v| v.as_bytes().starts_with(b"text/plain"));
    if response.status() != StatusCode::PAYLOAD_TOO_LARGE || !bare {
        return response;
    }
    if api {
        error::ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "The request body is too large.",
        )
        .into_response()
    } else {
        auth::plain_page(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Too large",
            "What you sent is larger than Steward accepts. Go back and send a smaller file.",
        )
    }
}

/// Counts requests and their latency by route template (never by raw path: ids would explode
/// the label set) and status.
async fn record_metrics(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().to_string();
    let start = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("steward_http_requests_total", &labels).increment(1);
    metrics::histogram!("steward_http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    response
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
