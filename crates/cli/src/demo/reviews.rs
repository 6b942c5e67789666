//! The demo organisation's management reviews (9.3): last half-year's review, held on inputs
//! Steward compiled, with its minutes, decisions and three actions (two done, one overdue), and
//! the next review planned in a few weeks with its inputs compiled already.

use super::Org;
use steward_domain::sms::review::{ActionDraft, ReviewDraft, ReviewStep};
use steward_store::Store;
use steward_store::asset::today_utc;

fn in_days(days: i64) -> anyhow::Result<jiff::civil::Date> {
    Ok(today_utc().checked_add(jiff::Span::new().days(days))?)
}

/// Description, owner index, due in days from today, done note (none for an open action).
const ACTIONS: [(&str, usize, i64, Option<&str>); 3] = [
    (
        "Contract the second power feed for the hosting halls.",
        1,
        -120,
        Some("Contract signed with the grid operator; switch-over tested."),
    ),
    (
        "Add supplier performance figures to the quarterly supplier reviews.",
        1,
        -60,
        Some("Quarterly template now carries SLA figures per supplier."),
    ),
    (
        "Train two more agents on the major incident procedure.",
        4,
        -14,
        None,
    ),
];

/// Seeds the two reviews as the service manager.
pub async fn seed(store: &Store, org: &Org) -> anyhow::Result<()> {
    let manager = org.actor(1);
    let t = org.tenant_id;
    let held = ReviewDraft {
        title: "Half-yearly management review".into(),
        planned_on: in_days(-182)?,
        period_from: None,
        period_to: None,
        chair_id: Some(org.users[0].id),
        attendees: "Alex Admin (managing director, chair)\nMaria Lopez (service manager)\n\
                    Ann Becker (internal auditor)"
            .into(),
    }
    .validate()?;
    let review = store.create_management_review(t, &held, &manager).await?;
    store.compile_review_inputs(t, review.id, &manager).await?;
    store
        .hold_management_review(
            t,
            review.id,
            "Worked through every input. SLA attainment held above target except in the month \
             of the power outage; the outage showed the single power feed as the largest risk. \
             Supplier reviews lack figures (audit finding).",
            Some(in_days(-180)?),
            &manager,
        )
        .await?;
    store
        .step_management_review(
            t,
            review.id,
            ReviewStep::Close,
            "Fund a second power feed. Supplier reviews to carry SLA figures. Widen the major \
             incident rota. No change to the SMS scope or policy.",
            &manager,
        )
        .await?;
    for (description, owner, due, done) in ACTIONS {
        let draft = ActionDraft {
            description: description.into(),
            owner_id: Some(org.users[owner].id),
            due_on: in_days(due)?,
        }
        .validate()?;
        let action = store
            .add_review_action(t, review.id, &draft, &manager)
            .await?;
        if let Some(note) = done {
            store
                .complete_review_action(t, review.id, action.id, note, &manager)
                .await?;
        }
    }

    let next = ReviewDraft {
        title: "Annual management review".into(),
        planned_on: in_days(21)?,
        period_from: None,
        period_to: None,
        chair_id: Some(org.users[0].id),
        attendees: "Alex Admin (managing director, chair)\nMaria Lopez (service manager)".into(),
    }
    .validate()?;
    let next = store.create_management_review(t, &next, &manager).await?;
    store.compile_review_inputs(t, next.id, &manager).await?;
    Ok(())
}
