//! SLA warnings and breaches as jobs: the store decides whether a clock really reached its
//! threshold and acts once; this module registers the handler and says what the notice reads.

use crate::jobs::Runner;
use crate::mail::outbound::record_link;
use jiff::Timestamp;
use serde::Deserialize;
use steward_domain::sla::{RecordKind, Threshold};
use steward_store::Store;
use steward_store::jobs::Job;
use steward_store::sla::{Notice, Rendered, THRESHOLD_KIND};

#[derive(Deserialize)]
struct Payload {
    tenant_id: i64,
    clock_id: i64,
    threshold: String,
}

pub fn register(runner: &mut Runner) {
    runner.handle(THRESHOLD_KIND, |store, job| async move {
        run(&store, &job).await
    });
}

async fn run(store: &Store, job: &Job) -> Result<(), String> {
    let payload: Payload =
        serde_json::from_str(&job.payload).map_err(|e| format!("bad payload: {e}"))?;
    let threshold = Threshold::parse(&payload.threshold)
        .ok_or_else(|| format!("unknown threshold `{}`", payload.threshold))?;
    let acted = store
        .act_on_threshold(payload.tenant_id, payload.clock_id, threshold, render)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(acted) = acted {
        tracing::info!(record = %acted.record_key, threshold = %threshold, notified = acted.notified.len(), "SLA threshold acted on");
    }
    Ok(())
}

/// The notice agents and managers receive.
pub fn render(n: &Notice) -> Rendered {
    let target = n.clock.target.replace('_', " ");
    let due = n
        .clock
        .due_at
        .map_or_else(|| "not set (paused)".to_owned(), when);
    let (subject, headline) = match n.threshold {
        Threshold::Warning => (
            format!("[SLA warning] {} {target} due {due}", n.record_key),
            format!(
                "{} of the {target} target has elapsed on {}.",
                percent(n.clock.elapsed_minutes, n.clock.target_minutes),
                n.record_key
            ),
        ),
        Threshold::Breach => (
            format!("[SLA breach] {} {target} overdue", n.record_key),
            format!(
                "The {target} target on {} was due {due} and has not been met.",
                n.record_key
            ),
        ),
    };
    let mut body = format!(
        "{headline}\n\n{}: {}\nAgreement: {} ({})\nTarget: {} business minutes on {}\nRemaining: {} business minutes\n",
        n.record_key,
        n.record_title,
        n.clock.agreement,
        n.clock.agreement_kind.as_str().to_uppercase(),
        n.clock.target_minutes,
        n.clock.calendar,
        n.clock.remaining_minutes,
    );
    if let Some(team) = &n.reassigned_to {
        body.push_str(&format!("Escalated: handed to {team}.\n"));
    }
    let link = match n.record_kind {
        RecordKind::Incident => record_link("incidents", &n.record_key),
        RecordKind::Request => record_link("requests", &n.record_key),
    };
    body.push_str(&format!("\n{link}\n"));
    (subject, body)
}

fn when(micros: i64) -> String {
    Timestamp::from_microsecond(micros)
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

fn percent(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return "All".into();
    }
    format!("{}%", part * 100 / whole)
}
