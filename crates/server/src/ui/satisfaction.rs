//! Customer satisfaction (8.3.2-f) at `/satisfaction`: the surveys with a chart of their
//! average scores over time and the form that records one, the ticket ratings' average and
//! count per month for the last twelve months, and the lowest-rated recent tickets.

use super::register_form::number;
use super::{
    Chrome, FormState, Opt, UiResult, customer_names, html_attr, options_after_blank, service_names,
};
use crate::AppState;
use crate::api::date_out;
use crate::auth::{Can, Principal, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use std::fmt::Write as _;
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::asset::parse_date;
use steward_domain::relationship::satisfaction::{RatingDraft, SurveyDraft, can_rate};
use steward_store::asset::today_utc;
use steward_store::relationship::satisfaction::{RatingMonth, Survey};
use steward_store::{PageRequest, now_micros};

pub const NAV_HREF: &str = "/satisfaction";
/// How far back the lowest-rated tickets are looked for.
const LOW_RATED_DAYS: i64 = 90;

pub struct SurveyRow {
    pub conducted_on: String,
    pub customer: String,
    pub service: String,
    pub sample_size: i64,
    pub responses: i64,
    pub response_rate: i64,
    pub average: String,
    pub analysis: String,
    pub improvement_id: Option<i64>,
}

pub struct MonthRow {
    pub month: String,
    pub count: i64,
    pub average: String,
}

pub struct LowRow {
    pub key: String,
    pub title: String,
    pub score: i64,
    pub comment: String,
    pub rated: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "satisfaction.html")]
struct Page {
    chrome: Chrome,
    surveys: Vec<SurveyRow>,
    chart: Option<String>,
    months: Vec<MonthRow>,
    low: Vec<LowRow>,
    customers: Vec<Opt>,
    services: Vec<Opt>,
    can_write: bool,
    form: FormState,
}

fn name_of(list: &[(i64, String)], id: Option<i64>, none: &str) -> String {
    match id {
        None => none.to_owned(),
        Some(id) => list
            .iter()
            .find(|(i, _)| *i == id)
            .map_or_else(|| format!("#{id}"), |(_, n)| n.clone()),
    }
}

/// The surveys' average scores over time on a 1–5 axis, oldest on the left; `None` when
/// fewer than one survey has a score.
pub fn chart(surveys: &[Survey]) -> Option<String> {
    const W: f64 = 720.0;
    const H: f64 = 200.0;
    const LEFT: f64 = 40.0;
    const TOP: f64 = 20.0;
    const BOTTOM: f64 = 28.0;
    let mut points: Vec<(jiff::civil::Date, i64)> = surveys
        .iter()
        .filter_map(|s| s.average_tenths.map(|a| (s.conducted_on, a)))
        .collect();
    points.sort();
    let (first, last) = (*points.first()?, *points.last()?);
    let span = (last.0 - first.0).get_days().max(1) as f64;
    let x = |d: jiff::civil::Date| {
        if points.len() == 1 {
            LEFT + (W - LEFT - 20.0) / 2.0
        } else {
            LEFT + (W - LEFT - 20.0) * (d - first.0).get_days() as f64 / span
        }
    };
    let y = |tenths: i64| TOP + (H - TOP - BOTTOM) * (1.0 - (tenths as f64 - 10.0) / 40.0);
    let mut svg = format!(
        "<svg class=\"chart satisfaction-chart\" role=\"img\" aria-labelledby=\"sat-title sat-desc\" viewBox=\"0 0 {W} {H}\" width=\"100%\" preserveAspectRatio=\"xMinYMin meet\">\
         <title id=\"sat-title\">Average survey score over time (1 to 5)</title>\
         <desc id=\"sat-desc\">{} surveys with a score, from {} ({}) to {} ({}).</desc>",
        points.len(),
        first.0,
        tenths(first.1),
        last.0,
        tenths(last.1)
    );
    for score in 1..=5 {
        let yy = y(score * 10);
        let _ = write!(
            svg,
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\"/>\
             <text class=\"tick\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{score}</text>",
            W - 10.0,
            LEFT - 6.0,
            yy + 4.0
        );
    }
    let line: Vec<String> = points
        .iter()
        .map(|(d, a)| format!("{:.1},{:.1}", x(*d), y(*a)))
        .collect();
    if points.len() > 1 {
        let _ = write!(
            svg,
            "<polyline class=\"trend trend-met\" fill=\"none\" points=\"{}\"/>",
            line.join(" ")
        );
    }
    for (d, a) in &points {
        let _ = write!(
            svg,
            "<circle class=\"trend-met\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\"><title>{}: {}</title></circle>",
            x(*d),
            y(*a),
            html_attr(&d.to_string()),
            tenths(*a)
        );
    }
    for (d, anchor) in [(first.0, "start"), (last.0, "end")] {
        let _ = write!(
            svg,
            "<text class=\"tick\" x=\"{:.1}\" y=\"{}\" text-anchor=\"{anchor}\">{}</text>",
            x(d),
            H - 8.0,
            html_attr(&d.to_string())
        );
    }
    svg.push_str("</svg>");
    Some(svg)
}

fn tenths(t: i64) -> String {
    steward_domain::relationship::satisfaction::tenths_text(t)
}

fn month_rows(months: Vec<RatingMonth>) -> Vec<MonthRow> {
    months
        .into_iter()
        .map(|m| MonthRow {
            average: m
                .average
                .map_or_else(|| "—".to_owned(), |a| format!("{a:.2}")),
            month: m.month,
            count: m.count,
        })
        .collect()
}

async fn page(
    state: &AppState,
    who: &Principal,
    form: FormState,
    status: StatusCode,
    done: Option<&str>,
) -> UiResult {
    let t = who.tenant_id();
    let customers = customer_names(state, who).await?;
    let services = service_names(state, who).await?;
    let found = state
        .store
        .surveys(
            t,
            None,
            &PageRequest {
                limit: Some(100),
                cursor: None,
            },
        )
        .await?;
    let chart = chart(&found.items);
    let surveys = found
        .items
        .into_iter()
        .map(|s| SurveyRow {
            conducted_on: date_out(s.conducted_on),
            customer: name_of(&customers, s.customer_id, "All customers"),
            service: name_of(&services, s.service_id, "—"),
            response_rate: s.response_rate(),
            average: s.average_text(),
            sample_size: s.sample_size,
            responses: s.responses,
            analysis: s.analysis,
            improvement_id: s.improvement_id,
        })
        .collect();
    let now = now_micros();
    let months = month_rows(state.store.rating_months(t, now).await?);
    let low = state
        .store
        .lowest_rated(t, now - LOW_RATED_DAYS * 86_400_000_000, 10)
        .await?
        .into_iter()
        .filter(|r| r.score <= 3)
        .map(|r| LowRow {
            key: r.key(),
            rated: super::when(r.updated_at),
            title: r.title,
            score: r.score,
            comment: r.comment,
        })
        .collect();
    let ids = |list: &[(i64, String)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(i, n)| (i.to_string(), n.clone()))
            .collect()
    };
    let p = Page {
        chrome: Chrome::new(state, who, super::complaints::NAV_HREF)
            .await
            .with_notice(done),
        surveys,
        chart,
        months,
        low,
        customers: options_after_blank("All customers", ids(&customers), form.value("customer_id")),
        services: options_after_blank("— all services —", ids(&services), form.value("service_id")),
        can_write: who.can(Permission::CustomersWrite),
        form,
    };
    Ok((status, p).into_response())
}

pub async fn view(
    State(state): State<AppState>,
    who: Can<perm::CustomersRead>,
    Query(q): Query<super::session::DoneQuery>,
) -> UiResult {
    let today = date_out(today_utc());
    let blank = FormState::with(&[("conducted_on", today.as_str())]);
    page(&state, &who, blank, StatusCode::OK, q.done.as_deref()).await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct SurveyForm {
    customer_id: String,
    service_id: String,
    conducted_on: String,
    sample_size: String,
    responses: String,
    average_score: String,
    analysis: String,
    improvement_id: String,
}

fn whole(errors: &mut Invalid, field: &str, label: &str, text: &str) -> i64 {
    match text.trim().parse::<i64>() {
        Ok(n) => n,
        Err(_) => {
            errors.add(field, format!("{label} must be a whole number"));
            0
        }
    }
}

fn optional_id(errors: &mut Invalid, field: &str, text: &str) -> Option<i64> {
    let text = text.trim().trim_start_matches("IMP-");
    if text.is_empty() {
        return None;
    }
    match text.parse::<i64>() {
        Ok(n) if n > 0 => Some(n),
        _ => {
            errors.add(field, "Give the record's number, or leave it empty");
            None
        }
    }
}

fn survey_of(f: &SurveyForm) -> Result<SurveyDraft, Invalid> {
    let mut errors = Invalid::new();
    let conducted_on = parse_date(&mut errors, "conducted_on", "Survey date", &f.conducted_on);
    if conducted_on.is_none() && errors.errors.is_empty() {
        errors.add("conducted_on", "Survey date is required");
    }
    let draft = SurveyDraft {
        customer_id: optional_id(&mut errors, "customer_id", &f.customer_id),
        service_id: optional_id(&mut errors, "service_id", &f.service_id),
        conducted_on: conducted_on.unwrap_or_else(today_utc),
        sample_size: whole(&mut errors, "sample_size", "People asked", &f.sample_size),
        responses: whole(&mut errors, "responses", "Responses", &f.responses),
        average_score: number(
            &mut errors,
            "average_score",
            "Average score",
            &f.average_score,
        ),
        analysis: f.analysis.clone(),
        improvement_id: optional_id(&mut errors, "improvement_id", &f.improvement_id),
    };
    match draft.clone().validate(today_utc()) {
        Ok(_) => errors.into_result(draft),
        Err(more) => {
            errors.errors.extend(more.errors);
            Err(errors)
        }
    }
}

pub async fn record_survey(
    State(state): State<AppState>,
    who: Can<perm::CustomersWrite>,
    Form(f): Form<SurveyForm>,
) -> UiResult {
    let refusal = match survey_of(&f) {
        Err(invalid) => invalid,
        Ok(draft) => match state
            .store
            .record_survey(who.tenant_id(), &draft, today_utc(), &who.actor())
            .await
        {
            Ok(_) => return Ok(Redirect::to(&format!("{NAV_HREF}?done=created")).into_response()),
            Err(e) => super::refusal(e, "analysis")?,
        },
    };
    let form = FormState::with(&[
        ("customer_id", f.customer_id.as_str()),
        ("service_id", f.service_id.as_str()),
        ("conducted_on", f.conducted_on.as_str()),
        ("sample_size", f.sample_size.as_str()),
        ("responses", f.responses.as_str()),
        ("average_score", f.average_score.as_str()),
        ("analysis", f.analysis.as_str()),
        ("improvement_id", f.improvement_id.as_str()),
    ])
    .rejected(refusal);
    page(&state, &who, form, StatusCode::UNPROCESSABLE_ENTITY, None).await
}

/// A rating as the agent's incident page shows it: `4 / 5 — "comment"`.
pub async fn rating_line(
    state: &AppState,
    tenant_id: i64,
    incident_id: i64,
) -> Result<Option<String>, super::UiError> {
    Ok(state
        .store
        .incident_rating(tenant_id, incident_id)
        .await?
        .map(|r| {
            if r.comment.is_empty() {
                format!("{} / 5", r.score)
            } else {
                format!("{} / 5 — “{}”", r.score, r.comment)
            }
        }))
}

/// The portal's rating form on a requester's own incident.
pub struct PortalRating {
    /// Resolved or closed: there is a service to judge.
    pub can_rate: bool,
    /// The rating given, as `4 / 5`.
    pub current: Option<String>,
    pub scores: [i64; 5],
    pub form: FormState,
}

impl PortalRating {
    pub async fn of(
        state: &AppState,
        who: &Principal,
        incident: &steward_store::incident::Incident,
        form: FormState,
    ) -> Result<PortalRating, super::UiError> {
        let given = state
            .store
            .incident_rating(who.tenant_id(), incident.id)
            .await?;
        let form = match (&given, form.has_errors()) {
            (Some(r), false) => {
                let score = r.score.to_string();
                FormState::with(&[("score", score.as_str()), ("comment", r.comment.as_str())])
            }
            _ => form,
        };
        Ok(PortalRating {
            can_rate: can_rate(incident.status),
            current: given.map(|r| format!("{} / 5", r.score)),
            scores: [1, 2, 3, 4, 5],
            form,
        })
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct RatingForm {
    score: String,
    comment: String,
}

/// A requester rates their own resolved incident from the portal.
pub async fn rate(
    State(state): State<AppState>,
    who: Can<perm::RecordsOwn>,
    axum::extract::Path(key): axum::extract::Path<String>,
    Form(f): Form<RatingForm>,
) -> UiResult {
    let incident = crate::api::incidents::find(&state, &who, &key).await?;
    if incident.requester_user_id != Some(who.user.id) {
        return Err(super::UiError::NotFound);
    }
    let (refusal, status) = match f.score.trim().parse::<i64>() {
        Err(_) => (
            Invalid::one("score", "Choose a rating from 1 to 5"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Ok(score) => {
            let draft = RatingDraft {
                score,
                comment: f.comment.clone(),
            };
            match state
                .store
                .rate_incident(
                    who.tenant_id(),
                    incident.id,
                    who.user.id,
                    &draft,
                    &who.actor(),
                )
                .await
            {
                Ok(_) => {
                    return Ok(
                        Redirect::to(&format!("/portal/{}?done=saved", incident.key()))
                            .into_response(),
                    );
                }
                Err(steward_store::StoreError::Conflict(m)) => {
                    (Invalid::one("score", m), StatusCode::CONFLICT)
                }
                Err(e) => (
                    super::refusal(e, "score")?,
                    StatusCode::UNPROCESSABLE_ENTITY,
                ),
            }
        }
    };
    let form = FormState::with(&[("score", f.score.as_str()), ("comment", f.comment.as_str())])
        .rejected(refusal);
    super::portal::render_record_rated(&state, &who, &key, FormState::default(), form, status).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn survey(id: i64, day: &str, tenths: Option<i64>) -> Survey {
        Survey {
            id,
            customer_id: None,
            service_id: None,
            conducted_on: day.parse().expect("day"),
            sample_size: 10,
            responses: 5,
            average_tenths: tenths,
            analysis: "ok".into(),
            improvement_id: None,
            recorded_by: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn the_chart_draws_each_scored_survey_in_time_order() {
        assert!(chart(&[survey(1, "2026-01-01", None)]).is_none());
        let svg = chart(&[
            survey(2, "2026-06-30", Some(42)),
            survey(1, "2026-03-31", Some(38)),
        ])
        .expect("chart");
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(svg.contains("from 2026-03-31 (3.8) to 2026-06-30 (4.2)"));
    }
}
