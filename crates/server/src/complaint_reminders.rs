//! Complaints' daily run (8.3.2-h): once a day the job runner queues one job per tenant, which
//! mails the owner of each open complaint that has passed its target date.
//!
//! Each mail goes out once per complaint, owner and target date, however many nodes run and
//! however often a job is retried: the job is enqueued with a dedupe key naming the tenant and
//! the day (`complaints.daily:<tenant>:<YYYY-MM-DD>`), and the store claims each reminder in
//! `complaint_reminders` in the same transaction as its mail. A new target date reminds again.

use crate::daily;
use crate::jobs::Runner;
use crate::mail::outbound::record_link;
use jiff::civil::Date;
use steward_store::relationship::complaint::Complaint;
use steward_store::{Store, StoreResult};

/// The job that runs one tenant's reminders for one day.
pub const DAILY_KIND: &str = "complaints.daily";

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
            .send_complaint_reminders(tenant_id, day, render)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(tenant = tenant_id, %day, reminders = sent.len(), "complaint reminders run");
        Ok(())
    });
}

/// The reminder the owner `name` receives: subject and body.
pub fn render(c: &Complaint, name: &str) -> (String, String) {
    let link = record_link("complaints", &c.id.to_string());
    let subject = format!(
        "Complaint {} past its target date ({}): {}",
        c.key(),
        c.target_date,
        c.summary
    );
    let body = format!(
        "Hello {},\n\nthe complaint {} from {} that you own was due to be settled by {} and is \
         still {}.\n\n  {}\n\nMove it on, or escalate it to someone who can settle it, and \
         tell the complainant where it stands.\n\n{link}\n",
        name.trim(),
        c.key(),
        c.complainant,
        c.target_date,
        c.status.label().to_lowercase(),
        c.summary
    );
    (subject, body)
}
