//! The start page: a glance at the catalogue and the customer base.

use super::session::DoneQuery;
use super::{Chrome, UiResult};
use crate::AppState;
use crate::auth::Principal;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use steward_domain::access::Permission;
use steward_domain::service::ServiceStatus;

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    services_chart: Option<String>,
    customers: Option<i64>,
}

pub async fn page(
    State(state): State<AppState>,
    who: Principal,
    Query(q): Query<DoneQuery>,
) -> UiResult {
    if !who.can(Permission::RecordsRead) && who.can(Permission::RecordsOwn) {
        return Ok(axum::response::Redirect::to("/portal").into_response());
    }
    let chrome = Chrome::new(&state, &who, "/")
        .await
        .with_notice(q.done.as_deref());
    let services_chart = if who.can(Permission::ServicesRead) {
        let counts = state
            .store
            .service_counts_by_status(who.tenant_id())
            .await?;
        let bars: Vec<(&str, i64)> = ServiceStatus::ALL
            .iter()
            .map(|s| {
                (
                    s.as_str(),
                    counts
                        .iter()
                        .find(|(k, _)| k == s.as_str())
                        .map_or(0, |(_, n)| *n),
                )
            })
            .collect();
        Some(bar_chart("Services by status", &bars))
    } else {
        None
    };
    let customers = if who.can(Permission::CustomersRead) {
        Some(state.store.count_customers(who.tenant_id()).await?)
    } else {
        None
    };
    Ok(HomePage {
        chrome,
        services_chart,
        customers,
    }
    .into_response())
}

/// A horizontal bar chart as inline SVG, with a title and value labels.
pub fn bar_chart(title: &str, bars: &[(&str, i64)]) -> String {
    let max = bars.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let row = 28;
    let height = bars.len() * row + 10;
    let mut svg = format!(
        "<svg class=\"chart\" role=\"img\" aria-label=\"{title}\" viewBox=\"0 0 360 {height}\" width=\"360\" height=\"{height}\"><title>{title}</title>"
    );
    for (i, (label, n)) in bars.iter().enumerate() {
        let y = i * row + 5;
        let width = 200 * n / max;
        svg.push_str(&format!(
            "<text x=\"0\" y=\"{}\" class=\"label\">{label}</text><rect x=\"90\" y=\"{y}\" width=\"{width}\" height=\"18\" class=\"bar\"/><text x=\"{}\" y=\"{}\" class=\"value\">{n}</text>",
            y + 14,
            95 + width,
            y + 14
        ));
    }
    svg.push_str("</svg>");
    svg
}
