//! A customer's relationship on its page (8.3.2-b/c/d/e): the relationship owner, the review
//! frequency and when the next service review is due, the service reviews held with the SLA
//! attainment of the customer's services over each review's period, the form that records a
//! review (with the attainment since the last review beside it), and the open complaints.

use super::people::People;
use super::{FormState, UiResult};
use crate::AppState;
use crate::api::date_out;
use crate::auth::{Can, Principal, perm};
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::asset::parse_date;
use steward_domain::relationship::review::{CustomerReviewDraft, review_period};
use steward_domain::relationship::{RelationshipDraft, next_review_due};
use steward_store::PageRequest;
use steward_store::asset::today_utc;
use steward_store::customer::Customer;
use steward_store::relationship::complaint::ComplaintFilter;
use steward_store::sla::report::AttainmentRow;

/// The relationship fields as typed on the customer form.
pub fn relationship_of(owner: &str, frequency: &str) -> Result<RelationshipDraft, Invalid> {
    let mut errors = Invalid::new();
    let owner = owner.trim();
    let relationship_owner_id = if owner.is_empty() {
        None
    } else {
        let id = owner.parse().ok().filter(|id: &i64| *id > 0);
        if id.is_none() {
            errors.add("relationship_owner_id", "Choose someone from the list");
        }
        id
    };
    let review_frequency_months = match frequency.trim() {
        "" => steward_domain::relationship::DEFAULT_REVIEW_FREQUENCY_MONTHS,
        text => text.parse().unwrap_or_else(|_| {
            errors.add(
                "review_frequency_months",
                "Review frequency must be a whole number of months",
            );
            0
        }),
    };
    let draft = RelationshipDraft {
        relationship_owner_id,
        review_frequency_months,
    };
    if !errors.errors.is_empty() {
        return Err(errors);
    }
    draft.validate()
}

/// One service's attainment, as a line of the panel.
pub struct AttainmentLine {
    pub service: String,
    pub met: i64,
    pub total: i64,
    pub percent: String,
}

fn lines(rows: Vec<AttainmentRow>) -> Vec<AttainmentLine> {
    rows.into_iter()
        .map(|r| AttainmentLine {
            service: r.group.label,
            met: r.met,
            total: r.total,
            percent: format!("{:.1} %", r.attainment_percent),
        })
        .collect()
}

pub struct ReviewLine {
    pub held_on: String,
    pub period_from: String,
    pub attendees: String,
    pub performance: String,
    pub outcomes: String,
    pub requirement_changes: String,
    pub change_id: Option<i64>,
    pub improvement_id: Option<i64>,
    pub by: String,
    pub attainment: Vec<AttainmentLine>,
}

pub struct ComplaintLine {
    pub id: i64,
    pub key: String,
    pub summary: String,
    pub status: &'static str,
    pub overdue: bool,
}

/// What the customer's page shows of the relationship.
pub struct RelationshipPanel {
    pub customer_id: i64,
    pub owner: String,
    pub frequency: i64,
    pub last_review: String,
    /// The next review's due date, or `now` when none was held.
    pub next_due: String,
    pub review_overdue: bool,
    pub reviews: Vec<ReviewLine>,
    /// The period a review held today would look back on, and its attainment.
    pub period_from: String,
    pub today: String,
    pub attainment_now: Vec<AttainmentLine>,
    pub complaints: Vec<ComplaintLine>,
    pub can_write: bool,
    pub form: FormState,
}

impl RelationshipPanel {
    pub async fn load(
        state: &AppState,
        who: &Principal,
        customer: &Customer,
        form: FormState,
    ) -> Result<RelationshipPanel, super::UiError> {
        let t = who.tenant_id();
        let people = People::of(state, t).await?;
        let today = today_utc();
        let reviews = state.store.customer_reviews(t, customer.id).await?;
        let last = reviews.first().map(|r| r.held_on);
        let due = next_review_due(last, customer.review_frequency_months);
        let mut lines_out = Vec::new();
        for r in reviews {
            let attainment = lines(
                state
                    .store
                    .customer_attainment(t, customer.id, r.period_from, r.held_on)
                    .await?,
            );
            lines_out.push(ReviewLine {
                held_on: date_out(r.held_on),
                period_from: date_out(r.period_from),
                attendees: r.attendees,
                performance: r.performance,
                outcomes: r.outcomes,
                requirement_changes: r.requirement_changes,
                change_id: r.change_id,
                improvement_id: r.improvement_id,
                by: r.recorded_by_label,
                attainment,
            });
        }
        let (from, _) = review_period(today, customer.review_frequency_months);
        let attainment_now = lines(
            state
                .store
                .customer_attainment(t, customer.id, from, today)
                .await?,
        );
        let complaints = state
            .store
            .complaints(
                t,
                &ComplaintFilter {
                    open_only: true,
                    customer_id: Some(customer.id),
                    overdue_on: None,
                },
                &PageRequest {
                    limit: Some(20),
                    cursor: None,
                },
            )
            .await?
            .items
            .into_iter()
            .map(|c| ComplaintLine {
                key: c.key(),
                overdue: c.overdue(today),
                status: c.status.label(),
                id: c.id,
                summary: c.summary,
            })
            .collect();
        let form = if form.value("held_on").is_empty() && !form.has_errors() {
            let day = date_out(today);
            FormState::with(&[("held_on", day.as_str())])
        } else {
            form
        };
        Ok(RelationshipPanel {
            customer_id: customer.id,
            owner: people.name(customer.relationship_owner_id),
            frequency: customer.review_frequency_months,
            last_review: last.map(date_out).unwrap_or_else(|| "never".to_owned()),
            next_due: due.map(date_out).unwrap_or_else(|| "now".to_owned()),
            review_overdue: due.is_none_or(|d| d < today),
            reviews: lines_out,
            period_from: date_out(from),
            today: date_out(today),
            attainment_now,
            complaints,
            can_write: who.can(Permission::CustomersWrite),
            form,
        })
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ReviewForm {
    held_on: String,
    attendees: String,
    performance: String,
    outcomes: String,
    requirement_changes: String,
    change_id: String,
    improvement_id: String,
}

fn linked(errors: &mut Invalid, field: &str, prefix: &str, text: &str) -> Option<i64> {
    let text = text.trim();
    let text = text.strip_prefix(prefix).unwrap_or(text);
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

fn review_of(f: &ReviewForm) -> Result<CustomerReviewDraft, Invalid> {
    let mut errors = Invalid::new();
    let held_on = parse_date(&mut errors, "held_on", "Review date", &f.held_on);
    if held_on.is_none() && errors.errors.is_empty() {
        errors.add("held_on", "Review date is required");
    }
    let draft = CustomerReviewDraft {
        held_on: held_on.unwrap_or_else(today_utc),
        attendees: f.attendees.clone(),
        performance: f.performance.clone(),
        outcomes: f.outcomes.clone(),
        requirement_changes: f.requirement_changes.clone(),
        change_id: linked(&mut errors, "change_id", "CHG-", &f.change_id),
        improvement_id: linked(&mut errors, "improvement_id", "IMP-", &f.improvement_id),
    };
    match draft.clone().validate(today_utc()) {
        Ok(_) => errors.into_result(draft),
        Err(more) => {
            errors.errors.extend(more.errors);
            Err(errors)
        }
    }
}

/// Records a service review held with the customer, from its page.
pub async fn record_review(
    State(state): State<AppState>,
    who: Can<perm::CustomersWrite>,
    super::Id(id): super::Id<i64>,
    Form(f): Form<ReviewForm>,
) -> UiResult {
    let refusal = match review_of(&f) {
        Err(invalid) => invalid,
        Ok(draft) => match state
            .store
            .record_customer_review(who.tenant_id(), id, &draft, today_utc(), &who.actor())
            .await
        {
            Ok(_) => {
                return Ok(
                    Redirect::to(&format!("/customers/{id}?done=saved#reviews")).into_response()
                );
            }
            Err(e) => super::refusal(e, "held_on")?,
        },
    };
    let form = FormState::with(&[
        ("held_on", f.held_on.as_str()),
        ("attendees", f.attendees.as_str()),
        ("performance", f.performance.as_str()),
        ("outcomes", f.outcomes.as_str()),
        ("requirement_changes", f.requirement_changes.as_str()),
        ("change_id", f.change_id.as_str()),
        ("improvement_id", f.improvement_id.as_str()),
    ])
    .rejected(refusal);
    super::customers::render_view_with(
        &state,
        &who,
        id,
        FormState::default(),
        form,
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}
