//! `POST /imports/{kind}`: incidents, service requests or problems from another tool, as a CSV
//! file, the same file `steward import` reads and `steward export` writes (the engine is
//! `crate::transfer`). Every row is checked before anything is written; a file with a bad row
//! is refused whole. Admins only: imported records keep the timestamps the file gives them.

use super::{ApiQuery, file_body};
use crate::AppState;
use crate::auth::{Can, Principal, perm};
use crate::error::{ApiError, ApiResult, Problem};
use crate::transfer::{
    Incidents, Kind, Known, Problems, Requests, Written, check_csv, import_rows,
};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `true`: check every row and answer the counts, writing nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportOut {
    /// `incidents`, `requests` or `problems`.
    pub kind: String,
    /// Data rows in the file (all good, or the import is refused).
    pub rows: usize,
    /// Records created: rows whose `external_id` was new to the tenant (0 in a dry run).
    pub created: usize,
    /// Records updated: rows whose `external_id` an earlier import brought in (0 in a dry run).
    pub updated: usize,
    pub dry_run: bool,
}

#[utoipa::path(post, path = "/imports/{kind}", tag = "imports",
    params(("kind" = String, Path, description = "What the file holds: `incidents`, `requests` or `problems`"),
        ImportQuery),
    request_body(content = String, content_type = "text/csv",
        description = "The CSV file itself, with a header row, as `Content-Type: text/csv` (a `charset` parameter \
                       is ignored; the file is read as UTF-8). The columns are those of `steward export`: for \
                       incidents external_id, title, description, status, impact, urgency, service (by name), \
                       category (path), source, opened_at, resolved_at, closed_at, resolution_code; for requests \
                       external_id, item, title, status, requester (e-mail), answers (JSON), category, opened_at, \
                       fulfilled_at, closed_at; for problems external_id, title, description, status, impact, \
                       urgency, service, root_cause, workaround, category, opened_at, resolved_at, closed_at \
                       (times in RFC 3339; `key` and `priority` are accepted and ignored). A row whose external_id \
                       an earlier import brought in updates that record. Records keep the file's timestamps and \
                       are journaled as the caller. At most the attachment size limit (10 MiB by default)."),
    responses((status = 200, body = ImportOut),
        (status = 403, body = Problem, description = "Only admins import"),
        (status = 404, body = Problem, description = "Not a kind that imports"),
        (status = 413, body = Problem), (status = 415, body = Problem),
        (status = 422, body = Problem, description = "Bad rows: `rows` lists each with its line, external id and \
                                                     reasons (and `errors` with `line <n>` as the field); nothing \
                                                     was imported")))]
pub async fn import(
    State(state): State<AppState>,
    who: Can<perm::RecordsImport>,
    super::ApiPath(kind): super::ApiPath<String>,
    ApiQuery(query): ApiQuery<ImportQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<ImportOut>> {
    let file = File {
        headers: &headers,
        body,
        dry_run: query.dry_run,
    };
    let written = match kind.as_str() {
        "incidents" => import_kind::<Incidents>(&state, &who, file).await?,
        "requests" => import_kind::<Requests>(&state, &who, file).await?,
        "problems" => import_kind::<Problems>(&state, &who, file).await?,
        _ => return Err(ApiError::not_found()),
    };
    let (rows, written) = written;
    Ok(Json(ImportOut {
        kind,
        rows,
        created: written.created,
        updated: written.updated,
        dry_run: query.dry_run,
    }))
}

/// The request's file and what to do with it.
struct File<'a> {
    headers: &'a HeaderMap,
    body: Body,
    dry_run: bool,
}

/// Reads, checks and (unless a dry run) writes one file: its row count and what was written.
async fn import_kind<K: Kind + 'static>(
    state: &AppState,
    who: &Principal,
    file: File<'_>,
) -> ApiResult<(usize, Written)>
where
    K::Fields: 'static,
{
    let data = file_body(
        file.headers,
        file.body,
        &["text/csv"],
        "Send the CSV file itself as the body with `Content-Type: text/csv`.",
        state.config.max_upload_bytes,
    )
    .await?;
    let tenant_id = who.tenant_id();
    let known = Known::load(&state.store, tenant_id).await?;
    let now = steward_store::now_micros();
    // A large file takes a while to check: off the async threads.
    let (known, checked) = tokio::task::spawn_blocking(move || {
        let checked = check_csv::<K>(&data, &known, now);
        (known, checked)
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "checking an import failed");
        ApiError::internal()
    })?;
    let good = checked.map_err(ApiError::bad_rows)?;
    if file.dry_run {
        return Ok((good.len(), Written::default()));
    }
    let written = import_rows::<K>(&state.store, tenant_id, &good, &known, &who.actor(), || {})
        .await
        .map_err(|failed| {
            tracing::warn!(
                line = failed.line,
                external_id = %failed.external_id,
                "an import stopped at a row the store refused; the rows before it are written"
            );
            ApiError::from(failed.error)
        })?;
    Ok((good.len(), written))
}
