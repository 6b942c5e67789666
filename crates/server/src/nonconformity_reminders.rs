//! Nonconformities' daily run: once a day the job runner queues one job per tenant, which
//! mails a corrective action's owner on the action's due date and once it is overdue, and a
//! nonconformity's owner when its effectiveness check falls due.
//!
//! Each mail goes out once, however many nodes run and however often a job is retried: the job
//! is enqueued with a dedupe key naming the tenant and the day
//! (`nonconformity.daily:<tenant>:<YYYY-MM-DD>`), and the store claims each reminder (kind,
//! action or nonconformity, date) in `nonconformity_reminders` in the same transaction as its
//! mail, so a later run finds it taken.

use crate::daily;
use crate::jobs::Runner;
use crate::mail::outbound::record_link;
use jiff::civil::Date;
use steward_domain::sms::nonconformity::NcReminderKind;
use steward_store::nonconformity::NcReminder;
use steward_store::{Store, StoreResult};

/// The job that runs one tenant's reminders for one day.
pub const DAILY_KIND: &str = "nonconformity.daily";

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
            .send_nonconformity_reminders(tenant_id, day, render)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(tenant = tenant_id, %day, reminders = sent.len(), "nonconformity reminders run");
        Ok(())
    });
}

/// The reminder `name` receives: subject and body.
pub fn render(r: &NcReminder, name: &str) -> (String, String) {
    let nc = &r.nonconformity;
    let reference = nc.reference();
    let link = record_link("nonconformities", &nc.id.to_string());
    let (subject, text) = match (&r.kind, &r.action) {
        (NcReminderKind::CheckDue, _) => (
            format!("[{reference}] Effectiveness check due: {}", nc.title),
            format!(
                "the corrective actions of {reference} ({}) are complete and the check of \
                 their effectiveness is due on {}.\n\nAsk someone other than yourself, as the \
                 nonconformity's owner, to look at the evidence and record whether the actions \
                 removed the cause.",
                nc.title, r.due_on
            ),
        ),
        (kind, Some(action)) => {
            let when = if *kind == NcReminderKind::ActionDue {
                "is due today".to_owned()
            } else {
                format!("was due on {} and is overdue", r.due_on)
            };
            (
                format!("[{reference}] Corrective action {when}"),
                format!(
                    "a corrective action you carry out for {reference} ({}) {when}:\n\n  {}\n\n\
                     Once it is done, mark it completed with a note of what was done.",
                    nc.title, action.description
                ),
            )
        }
        (_, None) => (
            format!("[{reference}] Reminder"),
            format!("{reference} ({}) needs your attention.", nc.title),
        ),
    };
    let body = format!("Hello {},\n\n{text}\n\n{link}\n", name.trim());
    (subject, body)
}
