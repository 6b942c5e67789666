//! The demo organisation's business relationships (8.3.2): each customer linked to the live
//! services it uses, with a relationship owner and a review frequency; a year of service
//! reviews; four quarterly satisfaction surveys; ratings on a share of the requester's resolved
//! incidents; and six complaints across the year in every state, one escalated, one raising a
//! nonconformity and one an improvement. Dates are counted back from today, so the demo looks
//! the same whenever it is loaded.

use super::Org;
use steward_domain::incident::{Source, Status};
use steward_domain::relationship::RelationshipDraft;
use steward_domain::relationship::complaint::{
    Channel, ComplaintDraft, ComplaintStep, EscalationDraft, StepInput,
};
use steward_domain::relationship::review::CustomerReviewDraft;
use steward_domain::relationship::satisfaction::{RatingDraft, SurveyDraft, can_rate};
use steward_domain::sms::improvement::{ImprovementDraft, ImprovementSource, Priority};
use steward_store::asset::today_utc;
use steward_store::incident::IncidentFields;
use steward_store::{PageRequest, Store, StoreError};

/// The day `days` from today.
fn day(days: i64) -> anyhow::Result<jiff::civil::Date> {
    Ok(today_utc().checked_add(jiff::Span::new().days(days))?)
}

/// Customer name, the live services it uses (indexes of `SERVICES`), its owner (index of
/// `USERS`) and months between reviews.
const RELATIONSHIPS: [(&str, &[usize], usize, i64); 3] = [
    ("Contoso Retail", &[0, 2], 1, 3),
    ("Globex Manufacturing", &[0, 1], 2, 6),
    ("Initech Finance", &[1, 3], 1, 3),
];

/// Days ago, customer index, complainant, channel, summary, details, how far it got.
type DemoComplaint = (
    i64,
    usize,
    &'static str,
    Channel,
    &'static str,
    &'static str,
    u8,
);

const COMPLAINTS: [DemoComplaint; 6] = [
    (
        300,
        0,
        "Dana Whitfield",
        Channel::Email,
        "Portal down on the first day of the sale",
        "The customer portal was unavailable for two hours on the morning of the autumn sale; \
         stores could not see their orders.",
        3,
    ),
    (
        200,
        1,
        "Hank Scorpio",
        Channel::Phone,
        "Payslips late for the night shift",
        "The night shift received their payslips a day late; the plant manager had to answer \
         the union's questions.",
        3,
    ),
    (
        120,
        2,
        "Bill Lumbergh",
        Channel::Meeting,
        "Audit evidence sent without the approval records",
        "The quarterly evidence pack lacked the change approvals the auditors asked for.",
        2,
    ),
    (
        45,
        1,
        "Hank Scorpio",
        Channel::Phone,
        "Repeated mail outages at plant 2",
        "Third mail outage at plant 2 in a month; shift reports are not getting through.",
        1,
    ),
    (
        6,
        0,
        "Lee Park",
        Channel::Portal,
        "Password resets take a day",
        "Store managers wait up to a day for password resets before the weekend rota.",
        1,
    ),
    (
        2,
        2,
        "Joanna Smith",
        Channel::Email,
        "Invoice portal slow at month end",
        "The invoice portal takes minutes to load at month end.",
        0,
    ),
];

pub async fn seed(store: &Store, org: &Org) -> anyhow::Result<()> {
    let t = org.tenant_id;
    let today = today_utc();
    let page = PageRequest {
        limit: Some(100),
        cursor: None,
    };
    let all = store.customers(t, &Default::default(), &page).await?.items;
    let mut customers = Vec::new();
    for (name, services, owner, months) in RELATIONSHIPS {
        let Some(c) = all.iter().find(|c| c.name == name) else {
            continue;
        };
        let manager = org.actor(1);
        for &s in services {
            let service = org.services[s];
            let mut linked = store.service_customers(t, service).await?;
            if !linked.contains(&c.id) {
                linked.push(c.id);
                store
                    .set_service_customers(t, service, &linked, &manager)
                    .await?;
            }
        }
        let draft = RelationshipDraft {
            relationship_owner_id: Some(org.users[owner].id),
            review_frequency_months: months,
        };
        store
            .set_customer_relationship(t, c.id, &draft, &manager)
            .await?;
        // A year of reviews, one per period, the last within the frequency.
        let mut held = Vec::new();
        let mut back = months;
        let mut at = day(-12)?;
        while back <= 12 {
            held.push(at);
            at = steward_domain::relationship::add_months(at, -months).unwrap_or(at);
            back += months;
        }
        held.reverse();
        for (i, held_on) in held.into_iter().enumerate() {
            let review = CustomerReviewDraft {
                held_on,
                attendees: format!("{}, {}", org.users[owner].name, contact_of(name)),
                performance: format!(
                    "Went through SLA attainment per service for the period and the incidents \
                     behind each breach. {}",
                    if i % 2 == 0 {
                        "Resolution attainment held steady; first responses improved."
                    } else {
                        "Two breaches on the payroll interface traced to one supplier outage."
                    }
                ),
                outcomes: "Agreed to keep the current targets; actions noted in the minutes."
                    .into(),
                requirement_changes: if i == 0 {
                    "Extended desk hours asked for the peak season.".into()
                } else {
                    String::new()
                },
                change_id: None,
                improvement_id: None,
            };
            store
                .record_customer_review(t, c.id, &review, today, &org.actor(owner))
                .await?;
        }
        customers.push(c.id);
    }
    if customers.len() < 3 {
        return Ok(());
    }

    // An improvement the second survey's analysis asked for.
    let resets = store
        .create_improvement(
            t,
            &ImprovementDraft {
                title: "Self-service password reset in the portal".into(),
                description: "Survey respondents named slow password resets as their first \
                              complaint."
                    .into(),
                source: ImprovementSource::Customer,
                source_ref: None,
                evaluation_criteria: "Effort under ten days; no new licence.".into(),
                expected_benefit: "A fifth fewer calls to the desk.".into(),
                priority: Priority::High,
                owner_id: Some(org.users[1].id),
                target_date: Some(day(60)?),
            }
            .validate()
            .map_err(|e| anyhow::anyhow!("{e}"))?,
            &org.actor(1),
        )
        .await?;
    let surveys = [
        (
            -330,
            60,
            31,
            3.8,
            "Mostly satisfied; the portal outage in the sale is remembered.",
            None,
        ),
        (
            -240,
            60,
            28,
            3.6,
            "Password resets are slow, and named first by store managers.",
            Some(resets.id),
        ),
        (
            -150,
            60,
            35,
            4.0,
            "Resets still slow; mail at plant 2 praised since the fix.",
            None,
        ),
        (
            -60,
            60,
            33,
            4.2,
            "Best score of the year; month-end invoice portal speed is the new theme.",
            None,
        ),
    ];
    for (days, sample, responses, score, analysis, improvement) in surveys {
        let draft = SurveyDraft {
            customer_id: None,
            service_id: None,
            conducted_on: day(days)?,
            sample_size: sample,
            responses,
            average_score: Some(score),
            analysis: analysis.into(),
            improvement_id: improvement,
        };
        store.record_survey(t, &draft, today, &org.actor(1)).await?;
    }

    rate_incidents(store, org).await?;

    for (n, (days, customer, who, channel, summary, details, reached)) in
        COMPLAINTS.into_iter().enumerate()
    {
        let owner = if n % 2 == 0 { 1 } else { 2 };
        let actor = org.actor(owner);
        let draft = ComplaintDraft {
            customer_id: Some(customers[customer]),
            service_id: None,
            complainant: who.into(),
            received_on: day(-days)?,
            channel,
            summary: summary.into(),
            details: details.into(),
            owner_id: Some(org.users[owner].id),
            target_date: None,
        };
        let c = store.create_complaint(t, &draft, today, &actor).await?;
        if reached >= 1 {
            store
                .transition_complaint(
                    t,
                    c.id,
                    ComplaintStep::Investigate,
                    StepInput::default(),
                    today,
                    &actor,
                )
                .await?;
        }
        if reached >= 2 {
            let input = StepInput {
                findings: "Traced to a change deployed without the customer's calendar checked."
                    .into(),
                action_taken: "Customer calendars added to the change calendar's blackouts.".into(),
                ..StepInput::default()
            };
            store
                .transition_complaint(t, c.id, ComplaintStep::Action, input, today, &actor)
                .await?;
        }
        if reached >= 3 {
            let input = StepInput {
                closed_on: Some(day(-days + 8)?),
                customer_informed: true,
                outcome: "Apologised by phone and in writing; explained what changed so it does \
                          not happen again."
                    .into(),
                ..StepInput::default()
            };
            store
                .transition_complaint(t, c.id, ComplaintStep::Close, input, today, &actor)
                .await?;
        }
        match n {
            0 => {
                store
                    .propose_improvement_from_complaint(t, c.id, &actor)
                    .await?;
            }
            2 => {
                store
                    .raise_nonconformity_from_complaint(t, c.id, &actor)
                    .await?;
            }
            3 => {
                let escalation = EscalationDraft {
                    escalated_to: "Maria Lopez (service owner)".into(),
                    reason: "Past its target with a third outage; needs a supplier decision."
                        .into(),
                };
                store
                    .escalate_complaint(t, c.id, &escalation, today, &actor)
                    .await?;
            }
            _ => {}
        }
    }
    Ok(())
}

fn contact_of(customer: &str) -> &'static str {
    match customer {
        "Contoso Retail" => "Dana Whitfield",
        "Globex Manufacturing" => "Hank Scorpio",
        _ => "Bill Lumbergh",
    }
}

/// Rob's portal tickets over the year, each resolved within a few hours: title, days ago,
/// service index.
const PORTAL_TICKETS: [(&str, i64, usize); 8] = [
    ("Cannot open shared calendar", 340, 0),
    ("Payslip PDF will not download", 290, 1),
    ("Portal order history empty", 245, 2),
    ("Wi-Fi drops in meeting room 3", 200, 3),
    ("Mailbox full warning", 150, 0),
    ("Payroll portal password expired", 100, 1),
    ("Portal slow at month end", 55, 2),
    ("Guest Wi-Fi voucher not accepted", 20, 3),
];

/// The requester's resolved portal tickets of the year.
async fn portal_tickets(store: &Store, org: &Org) -> anyhow::Result<()> {
    let requester = &org.users[6];
    let now = steward_store::now_micros();
    for (title, days, service) in PORTAL_TICKETS {
        let opened_at = now - days * 86_400_000_000;
        let mut f = IncidentFields::new(title, opened_at);
        f.description = format!("Raised in the portal: {title}.");
        f.service_id = Some(org.services[service]);
        f.requester_user_id = Some(requester.id);
        f.source = Source::Portal;
        f.assignee_id = Some(org.users[3].id);
        f.status = Status::Resolved;
        f.resolution_code = Some("fixed".into());
        f.resolution_notes = "Fixed and confirmed with the requester.".into();
        f.resolved_at = Some(opened_at + 4 * 3_600_000_000);
        store
            .create_incident(org.tenant_id, &f, &org.actor(3))
            .await?;
    }
    Ok(())
}

/// Three of every four of the requester's resolved or closed incidents are rated, the score
/// following the incident's number.
async fn rate_incidents(store: &Store, org: &Org) -> anyhow::Result<()> {
    portal_tickets(store, org).await?;
    let t = org.tenant_id;
    let requester = &org.users[6];
    let actor = org.actor(6);
    const SCORES: [i64; 8] = [5, 4, 4, 3, 5, 2, 4, 5];
    for number in 1..=500 {
        let incident = match store.incident_by_number(t, number).await {
            Ok(i) => i,
            Err(StoreError::NotFound) => break,
            Err(e) => return Err(e.into()),
        };
        if incident.requester_user_id != Some(requester.id)
            || !can_rate(incident.status)
            || number % 4 == 1
        {
            continue;
        }
        let score = SCORES[(number % 8) as usize];
        let comment = match score {
            2 => "Took three days and I had to chase twice.",
            3 => "Fixed, but nobody told me it was done.",
            5 => "Quick and friendly, thank you.",
            _ => "",
        };
        let draft = RatingDraft {
            score,
            comment: comment.into(),
        };
        store
            .rate_incident(t, incident.id, requester.id, &draft, &actor)
            .await?;
    }
    Ok(())
}
