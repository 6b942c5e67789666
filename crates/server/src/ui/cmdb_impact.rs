//! Impact analysis of a CI (`/cis/{id}/impact`): what breaks if it breaks (downstream) or what
//! it needs (upstream), to a chosen depth; the CIs reached with the path to each, the services
//! and customers hit, the open records on the way, and a chart of CIs per depth. The figures
//! come from the same `api::cmdb::impact` as `GET /api/v1/cis/{id}/impact`.

use super::cmdb::{NAV_HREF, class_names};
use super::cmdb_graph::depth_chart;
use super::{Chrome, Id, Opt, UiResult, options};
use crate::AppState;
use crate::api::cmdb::{DirectionIn, ImpactQuery, NamedOut, OpenRecordOut, impact};
use crate::auth::{Can, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use serde::Deserialize;
use std::collections::HashMap;
use steward_domain::access::Permission;
use steward_store::cmdb::Ci;

pub struct ReachedRow {
    pub id: i64,
    pub name: String,
    pub class: String,
    pub status: String,
    pub depth: u32,
    /// The CIs from the analysed one to this one, as (id, name).
    pub path: Vec<(i64, String)>,
    /// `depth-N` on the first row of each depth, for the chart's links.
    pub anchor: Option<String>,
}

pub struct RecordRow {
    pub href: String,
    pub key: String,
    pub title: String,
    pub status: String,
    pub kind: &'static str,
    pub ci: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "ci_impact.html")]
struct ImpactPage {
    chrome: Chrome,
    ci: Ci,
    class: String,
    downstream: bool,
    depths: Vec<Opt>,
    total: usize,
    cut_off: bool,
    rows: Vec<ReachedRow>,
    services: Vec<NamedOut>,
    customers: Vec<NamedOut>,
    link_customers: bool,
    records: Vec<RecordRow>,
    chart: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ImpactForm {
    /// `downstream` (default) or `upstream`.
    direction: String,
    /// `1`, `2`, `3` or empty for no limit.
    depth: String,
}

fn record_row(r: OpenRecordOut, names: &HashMap<i64, String>) -> RecordRow {
    let (kind, base) = match r.record_type.as_str() {
        "problem" => ("problem", "/problems"),
        _ => ("incident", "/incidents"),
    };
    RecordRow {
        href: format!("{base}/{}", r.key),
        ci: names.get(&r.ci_id).cloned().unwrap_or_default(),
        key: r.key,
        title: r.title,
        status: r.status.replace('_', " "),
        kind,
    }
}

pub async fn page(
    State(state): State<AppState>,
    who: Can<perm::CmdbRead>,
    Id(id): Id<i64>,
    Query(q): Query<ImpactForm>,
) -> UiResult {
    let t = who.tenant_id();
    let ci = state.store.ci(t, id).await?;
    let downstream = q.direction != "upstream";
    let depth = q.depth.trim().parse::<u32>().ok().filter(|d| *d >= 1);
    let query = ImpactQuery {
        direction: Some(if downstream {
            DirectionIn::Downstream
        } else {
            DirectionIn::Upstream
        }),
        depth,
        limit: None,
    };
    let report = impact(&state, &who, id, &query).await?;
    let classes = class_names(&state, t).await?;
    let class = classes.get(&ci.class_id).cloned().unwrap_or_default();
    let mut names: HashMap<i64, String> =
        report.cis.iter().map(|c| (c.id, c.name.clone())).collect();
    names.insert(ci.id, ci.name.clone());
    let mut counts: Vec<(u32, usize)> = Vec::new();
    let rows = report
        .cis
        .into_iter()
        .map(|c| {
            let anchor = match counts.last_mut() {
                Some((d, n)) if *d == c.depth => {
                    *n += 1;
                    None
                }
                _ => {
                    counts.push((c.depth, 1));
                    Some(format!("depth-{}", c.depth))
                }
            };
            ReachedRow {
                path: c
                    .path
                    .ci_ids
                    .iter()
                    .map(|id| {
                        (
                            *id,
                            names.get(id).cloned().unwrap_or_else(|| format!("#{id}")),
                        )
                    })
                    .collect(),
                anchor,
                id: c.id,
                name: c.name,
                class: c.class,
                status: c.status.replace('_', " "),
                depth: c.depth,
            }
        })
        .collect();
    let which = if downstream { "Downstream" } else { "Upstream" };
    let chart = if counts.is_empty() {
        String::new()
    } else {
        depth_chart(
            &format!("{which} of {}: CIs reached per depth", ci.name),
            &counts,
        )
    };
    let page = ImpactPage {
        chrome: Chrome::new(&state, &who, NAV_HREF).await,
        class,
        downstream,
        depths: options(
            [
                ("1", "1 relationship"),
                ("2", "2 relationships"),
                ("3", "3 relationships"),
                ("", "no limit"),
            ]
            .map(|(v, l)| (v.to_owned(), l.to_owned())),
            &depth.map(|d| d.to_string()).unwrap_or_default(),
        ),
        total: report.total,
        cut_off: report.cut_off,
        rows,
        services: report.services,
        customers: report.customers,
        link_customers: who.can(Permission::CustomersRead),
        records: report
            .open_records
            .into_iter()
            .map(|r| record_row(r, &names))
            .collect(),
        chart,
        ci,
    };
    Ok(page.into_response())
}
