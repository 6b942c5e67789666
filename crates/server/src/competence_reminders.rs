//! Competence's daily run: once a day the job runner queues one job per tenant, which mails a
//! role holder whose proof of a requirement of their role expires within 30 days, and the
//! person and owner of each competence action past its due date.
//!
//! Each mail goes out once to each recipient, however many nodes run and however often a job
//! is retried: the job is enqueued with a dedupe key naming the tenant and the day
//! (`competence.daily:<tenant>:<YYYY-MM-DD>`), and the store claims each reminder (kind,
//! subject, recipient, date) in `competence_reminders` in the same transaction as its mail.

use crate::daily;
use crate::jobs::Runner;
use crate::mail::outbound::record_link;
use jiff::civil::Date;
use steward_domain::sms::competence::ReminderKind;
use steward_store::sms::competence::CompetenceReminder;
use steward_store::{Store, StoreResult};

/// The job that runs one tenant's reminders for one day.
pub const DAILY_KIND: &str = "competence.daily";

/// The dedupe key of a tenant's run for `day`.
pub fn job_key(tenant_id: i64, day: Date) -> String {
    daily::job_key(DAILY_KIND, tenant_id, day)
}

/// Enqueues the run for `day` for every tenant; returns how many were new.
pub async fn enqueue_day(store: &Store, day: Date) -> StoreResult<usize> {
    daily::enqueue(store, DAILY_KIND, day).await
}

pub fn register(runner: &mut Runner) {
    runner.handle(DAILY_KIND, |store, job| async move {
        let (tenant_id, day) = daily::tenant_and_day(&job)?;
        let sent = store
            .send_competence_reminders(tenant_id, day, render)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(tenant = tenant_id, %day, reminders = sent.len(), "competence reminders run");
        Ok(())
    });
}

/// The reminder `name` receives: subject and body.
pub fn render(r: &CompetenceReminder, name: &str) -> (String, String) {
    let link = record_link("competence/people", &r.user_id.to_string());
    let yours = r.recipient_id == r.user_id;
    let (subject, text) = match r.kind {
        ReminderKind::RecordExpiring => (
            format!("Competence expiring on {}: {}", r.due_on, r.requirement),
            format!(
                "your proof of \"{}\", which a role you hold requires, stops counting on {}.\n\n\
                 Renew it before then and record the new certificate or course, or agree an \
                 action with your manager.",
                r.requirement, r.due_on
            ),
        ),
        ReminderKind::ActionOverdue => (
            format!(
                "Competence action overdue since {}: {}",
                r.due_on, r.requirement
            ),
            format!(
                "{} to close a gap in \"{}\" was due on {} and is still open:\n\n  {}\n\n\
                 Once it is done, mark it completed; then have its effect evaluated.",
                if yours {
                    "an action for you"
                } else {
                    "an action you own"
                },
                r.requirement,
                r.due_on,
                r.what
            ),
        ),
    };
    let body = format!("Hello {},\n\n{text}\n\n{link}\n", name.trim());
    (subject, body)
}
