//! Conformance with ISO/IEC 20000-1 (clauses 4 to 10): `/conformance/clauses` with each
//! requirement's status from Steward's own records beside the assessor's judgement, record
//! samples an auditor can reproduce, and the assessors' judgements.
//!
//! Managers, admins and auditors read; managers and admins assess. The answers describe
//! readiness from the records; they are not a certification.

use super::{ApiJson, ApiPath, ApiQuery, time};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_domain::Invalid;
use steward_domain::asset::parse_date;
use steward_domain::conformance::readiness::{AssessmentDraft, ClauseReadiness, Judgement};
use steward_domain::conformance::rules::RecordRef;
use steward_domain::conformance::sample::sample;
use steward_store::conformance::{Period, StoredAssessment};
use steward_store::now_micros;
use utoipa::{IntoParams, ToSchema};

/// Most records one sample may draw.
pub const MAX_SAMPLE: usize = 100;
const DEFAULT_SAMPLE: usize = 10;

#[derive(Debug, Deserialize, IntoParams)]
pub struct PeriodQuery {
    /// First day of the period, `YYYY-MM-DD` (UTC); default a year before `to`.
    pub from: Option<String>,
    /// Last day of the period, included; default today.
    pub to: Option<String>,
}

/// The period a query names: whole UTC days, by default the last twelve months.
pub fn period_of(from: Option<&str>, to: Option<&str>) -> Result<Period, Invalid> {
    let mut errors = Invalid::new();
    let day = |errors: &mut Invalid, field: &str, label: &str, text: Option<&str>| {
        text.filter(|t| !t.trim().is_empty())
            .and_then(|t| parse_date(errors, field, label, t))
    };
    let from_day = day(&mut errors, "from", "From", from);
    let to_day = day(&mut errors, "to", "To", to);
    errors.into_result(())?;
    let now = now_micros();
    let today = || {
        jiff::Timestamp::now()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date()
    };
    let period = match (from_day, to_day) {
        (None, None) => return Ok(Period::year_to(now)),
        (Some(f), None) => Period::days(f, today()),
        (None, Some(t)) => t
            .checked_sub(jiff::Span::new().days(365))
            .ok()
            .and_then(|f| Period::days(f, t)),
        (Some(f), Some(t)) => Period::days(f, t),
    };
    period.ok_or_else(|| Invalid::one("to", "The period ends before it begins"))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodOut {
    pub from: String,
    /// The end, excluded.
    pub to: String,
}

impl From<Period> for PeriodOut {
    fn from(p: Period) -> Self {
        PeriodOut {
            from: time(p.from),
            to: time(p.to),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClausesOut {
    /// Always says what this is: readiness from Steward's records, not a certification.
    pub note: &'static str,
    pub period: PeriodOut,
    pub clauses: Vec<ClauseReadiness>,
}

const NOTE: &str = "Readiness from the organisation's own records in Steward, for preparing \
                    an audit; it is not a certification.";

#[utoipa::path(get, path = "/conformance/clauses", tag = "conformance", params(PeriodQuery),
    description = "Every clause of ISO/IEC 20000-1 from 4 to 10 with its requirements: the machine's status from its evidence rule (met, gap, not_yet_evaluable, or manual), the records behind it, the assessor's latest judgement kept apart, and the two taken together (`standing`).",
    responses((status = 200, body = ClausesOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn clauses(
    State(state): State<AppState>,
    who: Can<perm::ConformanceRead>,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> ApiResult<Json<ClausesOut>> {
    let period = period_of(q.from.as_deref(), q.to.as_deref())?;
    let clauses = state.store.readiness(who.tenant_id(), period).await?;
    Ok(Json(ClausesOut {
        note: NOTE,
        period: period.into(),
        clauses,
    }))
}

#[utoipa::path(get, path = "/conformance/clauses/{id}", tag = "conformance",
    params(("id" = String, Path, description = "The clause number, such as `8.5.1.1`"), PeriodQuery),
    responses((status = 200, body = ClauseReadiness), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn clause(
    State(state): State<AppState>,
    who: Can<perm::ConformanceRead>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> ApiResult<Json<ClauseReadiness>> {
    let period = period_of(q.from.as_deref(), q.to.as_deref())?;
    let clause = state
        .store
        .clause_readiness(who.tenant_id(), &id, period)
        .await?;
    Ok(Json(clause))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SampleQuery {
    /// How many records, 1 to 100 (default 10).
    pub size: Option<usize>,
    /// The seed: the same seed, period and records always draw the same sample.
    pub seed: u64,
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SampleOut {
    pub clause: String,
    pub period: PeriodOut,
    pub size: usize,
    pub seed: u64,
    /// How many records the sample was drawn from.
    pub population: usize,
    pub records: Vec<RecordRef>,
    /// How the draw is made, so an auditor can redo it without Steward.
    pub method: &'static str,
}

const METHOD: &str = "The population (the records the clause's evidence rules looked at in the \
                      period) is ordered by kind, then id; a Fisher-Yates shuffle driven by \
                      SplitMix64 from the seed picks the first `size` records.";

#[utoipa::path(get, path = "/conformance/clauses/{id}/sample", tag = "conformance",
    params(("id" = String, Path), SampleQuery),
    description = "A reproducible sample of the records that serve as evidence for the clause: the same seed and data always give the same records (also `steward audit sample`).",
    responses((status = 200, body = SampleOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn clause_sample(
    State(state): State<AppState>,
    who: Can<perm::ConformanceRead>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<SampleQuery>,
) -> ApiResult<Json<SampleOut>> {
    let size = q.size.unwrap_or(DEFAULT_SAMPLE);
    if !(1..=MAX_SAMPLE).contains(&size) {
        return Err(
            Invalid::one("size", format!("A sample holds 1 to {MAX_SAMPLE} records")).into(),
        );
    }
    let period = period_of(q.from.as_deref(), q.to.as_deref())?;
    let population = state
        .store
        .clause_population(who.tenant_id(), &id, period)
        .await?;
    Ok(Json(SampleOut {
        records: sample(&population, size, q.seed),
        population: population.len(),
        clause: id,
        period: period.into(),
        size,
        seed: q.seed,
        method: METHOD,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentOut {
    pub id: i64,
    pub requirement_id: String,
    pub judgement: Judgement,
    pub comment: String,
    pub evidence: String,
    pub assessed_by: String,
    pub assessed_by_id: Option<i64>,
    pub assessed_at: String,
}

impl From<StoredAssessment> for AssessmentOut {
    fn from(a: StoredAssessment) -> Self {
        AssessmentOut {
            id: a.id,
            requirement_id: a.requirement_id,
            judgement: a.assessment.judgement,
            comment: a.assessment.comment,
            evidence: a.assessment.evidence,
            assessed_by: a.assessment.assessed_by,
            assessed_by_id: a.assessed_by_id,
            assessed_at: time(a.assessment.assessed_at),
        }
    }
}

#[utoipa::path(post, path = "/conformance/requirements/{id}/assessments", tag = "conformance",
    params(("id" = String, Path, description = "The requirement, such as `8.5.1.1-a`")), request_body = AssessmentDraft,
    description = "Records an assessor's judgement; a nonconforming one says why. Earlier judgements stay on record; the newest is shown.",
    responses((status = 201, body = AssessmentOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn assess(
    State(state): State<AppState>,
    who: Can<perm::ConformanceAssess>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<AssessmentDraft>,
) -> ApiResult<(StatusCode, Json<AssessmentOut>)> {
    let draft = body.validate()?;
    let saved = state
        .store
        .assess(who.tenant_id(), &id, &draft, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(saved.into())))
}

#[utoipa::path(get, path = "/conformance/requirements/{id}/assessments", tag = "conformance",
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<AssessmentOut>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn assessments(
    State(state): State<AppState>,
    who: Can<perm::ConformanceRead>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Vec<AssessmentOut>>> {
    if steward_domain::conformance::catalogue::catalogue()
        .requirement(&id)
        .is_none()
    {
        return Err(ApiError::not_found());
    }
    let history = state.store.assessment_history(who.tenant_id(), &id).await?;
    Ok(Json(history.into_iter().map(AssessmentOut::from).collect()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PackFileOut {
    /// The file's path in the pack's folder.
    pub path: String,
    /// Its content, base64.
    pub content_base64: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EvidencePackOut {
    /// Write each file to a folder; `steward evidence-pack verify DIR` checks them offline.
    pub files: Vec<PackFileOut>,
}

#[utoipa::path(get, path = "/conformance/evidence-pack", tag = "conformance", params(PeriodQuery),
    description = "The signed evidence pack for the period (as `steward evidence-pack` writes it): report.html, readiness.json, samples.json, keys.json and manifest.json, which lists every other file with its SHA-256 and is signed with the organisation's Ed25519 key.",
    responses((status = 200, body = EvidencePackOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn evidence_pack(
    State(state): State<AppState>,
    who: Can<perm::ConformanceRead>,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> ApiResult<Json<EvidencePackOut>> {
    let period = period_of(q.from.as_deref(), q.to.as_deref())?;
    let tenant = state.store.tenant(who.tenant_id()).await?;
    let files = crate::evidence::build(&state.store, &tenant, period)
        .await
        .map_err(|e| match e {
            crate::evidence::PackError::Store(s) => ApiError::from(s),
            other => {
                tracing::error!(error = %other, "evidence pack");
                ApiError::internal()
            }
        })?;
    Ok(Json(EvidencePackOut {
        files: files
            .into_iter()
            .map(|f| PackFileOut {
                path: f.path,
                content_base64: steward_domain::signing::to_base64(&f.content),
            })
            .collect(),
    }))
}

/// One day's readiness count.
#[derive(Debug, Serialize, ToSchema)]
pub struct SnapshotOut {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    pub met: usize,
    pub open: usize,
    pub gap: usize,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TrendQuery {
    /// How many days back, 1 to 730 (default 90).
    pub days: Option<i64>,
}

#[utoipa::path(get, path = "/conformance/trend", tag = "conformance", params(TrendQuery),
    description = "The readiness counted once a day (requirements met, open and with a gap over the twelve months up to each day), oldest first: whether the management system is getting closer to certification.",
    responses((status = 200, body = Vec<SnapshotOut>), (status = 400, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn trend(
    State(state): State<AppState>,
    who: Can<perm::ConformanceRead>,
    ApiQuery(q): ApiQuery<TrendQuery>,
) -> ApiResult<Json<Vec<SnapshotOut>>> {
    let days = q.days.unwrap_or(90);
    if !(1..=730).contains(&days) {
        return Err(Invalid::one("days", "days must be from 1 to 730").into());
    }
    let since = steward_store::asset::today_utc()
        .checked_sub(jiff::Span::new().days(days - 1))
        .map_err(|_| Invalid::one("days", "days must be from 1 to 730"))?;
    let snaps = state.store.readiness_trend(who.tenant_id(), since).await?;
    Ok(Json(
        snaps
            .into_iter()
            .map(|s| SnapshotOut {
                day: s.day.to_string(),
                met: s.counts.met,
                open: s.counts.open,
                gap: s.counts.gap,
            })
            .collect(),
    ))
}
