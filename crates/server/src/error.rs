//! Errors as the API shows them: RFC 9457 `application/problem+json`.
//!
//! Handlers return `ApiResult<T>`. Use the constructors (`ApiError::not_found()`, ...) for
//! expected outcomes; any `StoreError` converts with `?` into the right status, and anything
//! unexpected becomes a logged 500 whose body says nothing about the internals.

use crate::transfer::RowError;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use steward_domain::{FieldError, Invalid};
use steward_store::StoreError;
use utoipa::ToSchema;

/// A problem document (RFC 9457).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Field-level details for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<FieldErrorDoc>)]
    pub errors: Vec<FieldError>,
    /// For refused status changes: the statuses allowed from the current one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
    /// For refused imports: every bad row of the file, with its line, external id and reasons
    /// (`errors` says the same with `line <n>` as the field).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<Vec<RowError>>,
}

/// One rejected input field.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldErrorDoc {
    pub field: String,
    pub message: String,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    detail: String,
    errors: Vec<FieldError>,
    allowed: Option<Vec<String>>,
    rows: Option<Vec<RowError>>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, kind: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            detail: detail.into(),
            errors: Vec::new(),
            allowed: None,
            rows: None,
        }
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "No such record.")
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Sign in, or send an API token as `Authorization: Bearer <token>`.",
        )
    }

    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Your role does not allow this.",
        )
    }

    pub fn csrf() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "The request lacks a valid CSRF token; reload the page and try again.",
        )
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-request", detail)
    }

    pub fn invalid(invalid: Invalid) -> Self {
        let detail = invalid
            .errors
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            kind: "validation",
            detail,
            errors: invalid.errors,
            allowed: None,
            rows: None,
        }
    }

    /// A refused import: a 422 naming every bad row of the file; nothing was written.
    pub fn bad_rows(rows: Vec<RowError>) -> Self {
        let errors = rows
            .iter()
            .map(|row| FieldError {
                field: format!("line {}", row.line),
                message: row.reasons.join("; "),
            })
            .collect();
        let detail = format!("{} bad row(s); nothing was imported", rows.len());
        Self {
            errors,
            rows: Some(rows),
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", detail)
        }
    }

    /// A refused status change, naming the statuses that are allowed instead.
    pub fn transition(detail: impl Into<String>, allowed: Vec<String>) -> Self {
        Self {
            allowed: Some(allowed),
            ..Self::new(StatusCode::CONFLICT, "transition", detail)
        }
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", detail)
    }

    pub fn too_many(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "too-many-requests", detail)
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on our side; it has been logged.",
        )
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn field_errors(&self) -> &[FieldError] {
        &self.errors
    }

    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// A refusal a form can show: the field errors of a 422 (or its detail under `field` when
    /// it names none) and the detail of a 409 under `field`; `None` for anything else.
    pub fn refusal(&self, field: &str) -> Option<Invalid> {
        let refused =
            self.status == StatusCode::UNPROCESSABLE_ENTITY || self.status == StatusCode::CONFLICT;
        match (refused, self.errors.is_empty()) {
            (false, _) => None,
            (true, true) => Some(Invalid::one(field, self.detail.clone())),
            (true, false) => Some(Invalid {
                errors: self.errors.clone(),
            }),
        }
    }

    pub fn problem(&self) -> Problem {
        Problem {
            kind: format!("urn:steward:problem:{}", self.kind),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            errors: self.errors.clone(),
            allowed: self.allowed.clone(),
            rows: self.rows.clone(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found(),
            StoreError::Invalid(invalid) => ApiError::invalid(invalid),
            StoreError::Conflict(detail) => ApiError::conflict(detail),
            other => {
                tracing::error!(error = %other, "store failure");
                ApiError::internal()
            }
        }
    }
}

impl From<Invalid> for ApiError {
    fn from(invalid: Invalid) -> Self {
        ApiError::invalid(invalid)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        (
            self.status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response()
    }
}
