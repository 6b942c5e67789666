//! Public certificate verification, without login (IAF CertSearch style):
//!
//! - `GET /verify` asks for a number and sends the browser on to `/verify/{number}`;
//! - `GET /verify/{number}` answers every tenant's non-confidential certificate under that
//!   number (numbers are unique per certification body, not across Steward), as a printable
//!   page or, on `Accept: application/json`, as JSON; each with a statement signed by the
//!   tenant's Ed25519 key that anyone can check offline;
//! - `GET /.well-known/steward/keys.json` publishes every tenant's public keys.
//!
//! An unknown number and a confidential certificate get the same 404, which names nothing.
//! The routes take no `Can<_>` extractor and only GET, so the authentication middleware lets
//! anonymous callers through and CSRF does not apply. A request costs one indexed lookup and a
//! key read and an Ed25519 signature per match (microseconds), so it stays cheap to serve and to
//! rate-limit in front.

use crate::AppState;
use crate::api::date_out;
use crate::api::time;
use crate::error::ApiError;
use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use steward_domain::certificate::CertificateStatus;
use steward_domain::signing::{KeySet, Signed};
use steward_store::StoreError;
use steward_store::certificate::PublicCertificate;

pub const KEYS_PATH: &str = "/.well-known/steward/keys.json";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/verify", get(form))
        .route("/verify/{number}", get(lookup))
        .route(KEYS_PATH, get(keys))
}

/// What the register vouches for: the public fields, the signer and the moment.
#[derive(Debug, Clone, Serialize)]
pub struct Statement {
    pub certificate_number: String,
    pub status: CertificateStatus,
    pub standard: String,
    pub scope: String,
    pub organisation: String,
    pub sites: String,
    pub certification_body: String,
    pub accreditation_body: String,
    pub accreditation_number: String,
    pub original_certification_date: String,
    pub issue_date: String,
    pub expiry_date: String,
    /// When the register's record last changed (RFC 3339).
    pub last_updated: String,
    /// The slug of the organisation's Steward tenant: whose key signed.
    pub tenant: String,
    pub key_id: String,
    /// When this statement was signed (RFC 3339).
    pub issued_at: String,
}

/// One certificate as the public sees it.
#[derive(Debug, Serialize)]
pub struct Match {
    #[serde(flatten)]
    pub statement: Statement,
    /// The statement again, with its signature: save it to check offline with
    /// `steward verify-statement FILE --keys keys.json`.
    pub signed_statement: Signed,
}

#[derive(Debug, Serialize)]
pub struct Answer {
    pub certificate_number: String,
    pub matches: Vec<Match>,
    /// Where the public keys are.
    pub keys: &'static str,
}

async fn signed(state: &AppState, found: PublicCertificate) -> Result<Match, StoreError> {
    let key = state.store.signing_key(found.tenant_id).await?;
    let c = found.certificate;
    let statement = Statement {
        certificate_number: c.number,
        status: c.status,
        standard: c.standard,
        scope: c.scope,
        organisation: c.organisation,
        sites: c.sites,
        certification_body: c.certification_body,
        accreditation_body: c.accreditation_body,
        accreditation_number: c.accreditation_number,
        original_certification_date: date_out(c.original_date),
        issue_date: date_out(c.issue_date),
        expiry_date: date_out(c.expiry_date),
        last_updated: time(c.updated_at),
        tenant: found.tenant,
        key_id: key.key_id.clone(),
        issued_at: time(steward_store::now_micros()),
    };
    let signed = Signed::new(&statement, &key.pair)
        .map_err(|e| StoreError::Corrupt(format!("statement not serialisable: {e}")))?;
    Ok(Match {
        statement,
        signed_statement: signed,
    })
}

/// Whether the caller asked for JSON rather than a page.
fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json") && !accept.contains("text/html"))
}

const NOT_FOUND_DETAIL: &str = "No certificate with this number is in the public register. \
    That does not prove it invalid: it may be confidential, unaccredited or not yet recorded; \
    ask the certification body that issued it.";

/// The one answer for an unknown number and a confidential certificate alike: the same bytes
/// whatever the number, so the answer cannot tell the two apart.
fn not_found(json: bool) -> Response {
    if json {
        ApiError::new(StatusCode::NOT_FOUND, "not-found", NOT_FOUND_DETAIL).into_response()
    } else {
        let page = VerifyPage {
            number: String::new(),
            matches: Vec::new(),
            keys: KEYS_PATH,
            not_found: NOT_FOUND_DETAIL,
        };
        (StatusCode::NOT_FOUND, page).into_response()
    }
}

fn failed(json: bool, e: StoreError) -> Response {
    tracing::error!(error = %e, "public verification failed");
    if json {
        ApiError::internal().into_response()
    } else {
        crate::auth::plain_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "The register could not be read just now; please try again.",
        )
    }
}

/// A match as the page shows it.
pub struct Shown {
    pub s: Statement,
    pub status_label: &'static str,
    pub status_code: &'static str,
    pub sites: Vec<String>,
    /// The signed statement as pretty JSON, to copy and keep.
    pub signed_json: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "certificates/verify.html")]
struct VerifyPage {
    number: String,
    matches: Vec<Shown>,
    keys: &'static str,
    not_found: &'static str,
}

/// `GET /verify/{number}`.
async fn lookup(
    State(state): State<AppState>,
    Path(number): Path<String>,
    headers: HeaderMap,
) -> Response {
    let json = wants_json(&headers);
    let number = number.trim().to_owned();
    let found = match state.store.public_certificates(&number).await {
        Ok(found) if !found.is_empty() => found,
        Ok(_) => return not_found(json),
        Err(e) => return failed(json, e),
    };
    let mut matches = Vec::with_capacity(found.len());
    for f in found {
        match signed(&state, f).await {
            Ok(m) => matches.push(m),
            Err(e) => return failed(json, e),
        }
    }
    if json {
        return Json(Answer {
            certificate_number: number,
            matches,
            keys: KEYS_PATH,
        })
        .into_response();
    }
    let shown = matches
        .into_iter()
        .map(|m| Shown {
            status_label: m.statement.status.label(),
            status_code: m.statement.status.as_str(),
            sites: m
                .statement
                .sites
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            signed_json: serde_json::to_string_pretty(&m.signed_statement).unwrap_or_default(),
            s: m.statement,
        })
        .collect();
    VerifyPage {
        number,
        matches: shown,
        keys: KEYS_PATH,
        not_found: NOT_FOUND_DETAIL,
    }
    .into_response()
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct FormQuery {
    number: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "certificates/verify_form.html")]
struct FormPage {
    number: String,
    error: Option<&'static str>,
}

/// `GET /verify`: the form; with `?number=` the answer's address.
async fn form(Query(q): Query<FormQuery>) -> Response {
    let number = q.number.trim();
    if number.is_empty() {
        return FormPage {
            number: String::new(),
            error: None,
        }
        .into_response();
    }
    if !steward_domain::certificate::is_plausible_number(number) {
        let page = FormPage {
            number: number.to_owned(),
            error: Some(
                "A certificate number holds letters, digits and - . _ / between them; check it against the certificate.",
            ),
        };
        return (StatusCode::UNPROCESSABLE_ENTITY, page).into_response();
    }
    Redirect::to(&format!("/verify/{}", path_segment(number))).into_response()
}

/// A number as one path segment: `/` becomes `%2F`, so `A/1` stays one segment.
pub fn path_segment(number: &str) -> String {
    number.replace('/', "%2F")
}

/// `GET /.well-known/steward/keys.json`.
async fn keys(State(state): State<AppState>) -> Response {
    match state.store.published_keys().await {
        Ok(keys) => Json(KeySet { keys }).into_response(),
        Err(e) => failed(true, e),
    }
}
