//! The demo releases: last month's mail platform release, deployed to test and then
//! production, whose production deployment set the application's version in the CMDB and which
//! took in the known error of the delayed mail; the portal release waiting for the CAB's
//! approval of its change, in test with one acceptance criterion still unsigned; and the major
//! payroll release, planned. They name the
//! demo's changes, CIs and known errors by title or name, and skip any the demo lacks.

use super::Org;
use serde_json::{Map, Value};
use std::collections::HashMap;
use steward_domain::release::{
    CriterionDraft, DeploymentDraft, DeploymentOutcome, OutcomeDraft, ReleaseDraft, ReleaseKind,
    ReleaseStatus, SignOff, Verdict,
};
use steward_store::Store;
use steward_store::release::CiUpdate;
use steward_store::{PageRequest, now_micros};

const DAY: i64 = 86_400_000_000;

/// Indexes into the demo's users.
const MANAGER: usize = 1;
const SAM: usize = 2;

const ALL: PageRequest = PageRequest {
    limit: Some(500),
    cursor: None,
};

/// The ids of the demo's changes with these titles, those it has.
fn changes_titled(changes: &HashMap<&'static str, i64>, titles: &[&str]) -> Vec<i64> {
    titles
        .iter()
        .filter_map(|t| changes.get(t).copied())
        .collect()
}

fn deployment(environment: &str) -> anyhow::Result<DeploymentDraft> {
    Ok(DeploymentDraft {
        environment: environment.into(),
        planned_start: None,
        planned_end: None,
    }
    .validate()?)
}

fn succeeded(notes: &str) -> anyhow::Result<OutcomeDraft> {
    Ok(OutcomeDraft {
        outcome: DeploymentOutcome::Succeeded,
        verification_notes: notes.into(),
        rollback_notes: String::new(),
    }
    .validate()?)
}

pub(crate) async fn seed(
    store: &Store,
    org: &Org,
    cis: &HashMap<String, i64>,
    changes: &HashMap<&'static str, i64>,
) -> anyhow::Result<()> {
    let t = org.tenant_id;
    let manager = org.actor(MANAGER);
    let sam = org.actor(SAM);
    let now = now_micros();

    // Last month's mail release, tested, accepted and deployed to production.
    let mail = store
        .create_release(
            t,
            &ReleaseDraft {
                title: "Mail Platform 2025.3".into(),
                kind: ReleaseKind::Minor,
                description: "Security fixes and the queue handling that delayed mail.".into(),
                planned_start: Some(now - 22 * DAY),
                planned_end: Some(now - 21 * DAY),
                manager_id: manager.user_id,
            }
            .validate()?,
            &manager,
        )
        .await?;
    let linked = changes_titled(changes, &["Patch mail gateway to 2025.3"]);
    if !linked.is_empty() {
        store
            .set_release_changes(t, mail.id, &linked, &manager)
            .await?;
    }
    let known_errors = store.known_errors(t, None, true, &ALL).await?.items;
    if let Some(known_error) = known_errors.first() {
        store
            .set_release_known_errors(t, mail.id, &[known_error.id], &manager)
            .await?;
    }
    store
        .transition_release(t, mail.id, ReleaseStatus::Built, &sam)
        .await?;
    let with = store
        .add_release_criterion(
            t,
            mail.id,
            &CriterionDraft {
                text: "Regression suite passes in test".into(),
            }
            .validate()?,
            &manager,
        )
        .await?;
    store
        .transition_release(t, mail.id, ReleaseStatus::InTest, &sam)
        .await?;
    let (_, test) = store
        .add_release_deployment(t, mail.id, &deployment("test")?, &sam)
        .await?;
    store
        .record_deployment_outcome(
            t,
            mail.id,
            test,
            &succeeded("Mail flow tests green: internal, external, shared mailboxes")?,
            &[],
            &sam,
        )
        .await?;
    for criterion in &with.criteria {
        store
            .sign_off_release_criterion(
                t,
                mail.id,
                criterion.id,
                &SignOff {
                    verdict: Verdict::Accepted,
                    comment: "Checked the test report".into(),
                }
                .validate()?,
                &manager,
            )
            .await?;
    }
    for to in [ReleaseStatus::Accepted, ReleaseStatus::Deploying] {
        store.transition_release(t, mail.id, to, &manager).await?;
    }
    let (_, production) = store
        .add_release_deployment(t, mail.id, &deployment("production")?, &sam)
        .await?;
    let mut updates = Vec::new();
    if let Some(&ci_id) = cis.get("Mail Platform") {
        let mut attributes = Map::new();
        attributes.insert("version".into(), Value::String("2025.3".into()));
        updates.push(CiUpdate {
            ci_id,
            status: None,
            attributes: Some(attributes),
        });
    }
    store
        .record_deployment_outcome(
            t,
            mail.id,
            production,
            &succeeded("Sent and received test mail; the queue drains within a minute")?,
            &updates,
            &sam,
        )
        .await?;
    store
        .transition_release(t, mail.id, ReleaseStatus::Deployed, &manager)
        .await?;

    // The portal release in test, one criterion still unsigned, its change before the CAB.
    let portal_next = store
        .create_release(
            t,
            &ReleaseDraft {
                title: "Customer Portal 4.9".into(),
                kind: ReleaseKind::Minor,
                description: "Saved baskets and the new order history page.".into(),
                planned_start: Some(now + 5 * DAY),
                planned_end: Some(now + 6 * DAY),
                manager_id: manager.user_id,
            }
            .validate()?,
            &manager,
        )
        .await?;
    let linked = changes_titled(changes, &["Deploy Customer Portal 4.9"]);
    if !linked.is_empty() {
        store
            .set_release_changes(t, portal_next.id, &linked, &manager)
            .await?;
    }
    store
        .transition_release(t, portal_next.id, ReleaseStatus::Built, &sam)
        .await?;
    let mut with = portal_next;
    for text in [
        "Regression suite passes in test",
        "The product owner accepts the new order history page",
    ] {
        with = store
            .add_release_criterion(
                t,
                with.id,
                &CriterionDraft { text: text.into() }.validate()?,
                &manager,
            )
            .await?;
    }
    store
        .transition_release(t, with.id, ReleaseStatus::InTest, &sam)
        .await?;
    if let Some(first) = with.criteria.first() {
        store
            .sign_off_release_criterion(
                t,
                with.id,
                first.id,
                &SignOff {
                    verdict: Verdict::Accepted,
                    comment: "Regression suite green: 412 tests".into(),
                }
                .validate()?,
                &manager,
            )
            .await?;
    }
    store
        .add_release_deployment(t, with.id, &deployment("test")?, &sam)
        .await?;

    // The major payroll release, planned.
    let payroll = store
        .create_release(
            t,
            &ReleaseDraft {
                title: "Payroll 12".into(),
                kind: ReleaseKind::Major,
                description: "The new payroll engine with the collective agreement rules.".into(),
                planned_start: Some(now + 16 * DAY),
                planned_end: Some(now + 17 * DAY),
                manager_id: manager.user_id,
            }
            .validate()?,
            &manager,
        )
        .await?;
    let linked = changes_titled(changes, &["Payroll app update to 12.0"]);
    if !linked.is_empty() {
        store
            .set_release_changes(t, payroll.id, &linked, &manager)
            .await?;
    }
    store
        .add_release_criterion(
            t,
            payroll.id,
            &CriterionDraft {
                text: "A parallel payroll run matches last month's to the cent".into(),
            }
            .validate()?,
            &manager,
        )
        .await?;
    Ok(())
}
