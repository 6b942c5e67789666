//! The certificate register's daily run: once a day the job runner queues one job per tenant,
//! which moves valid certificates past their expiry date to expired (history row and journal
//! entry by the system) and reminds the tenant's managers [`REMINDER_DAYS`] days before a
//! certificate expires and before its next surveillance audit.
//!
//! Each happens once, however many nodes run and however often a job is retried:
//! - the job is enqueued with a dedupe key naming the tenant and the day
//!   (`certificate.daily:<tenant>:<YYYY-MM-DD>`), so it exists once a day;
//! - expiry re-reads each certificate in its transaction and moves only one still valid;
//! - the store claims each reminder (certificate, kind, date) in `certificate_reminders` in the
//!   same transaction as its mail, so a later run finds it taken; a moved date gets its own.

use crate::daily;
use crate::jobs::Runner;
use crate::mail::outbound::record_link;
use jiff::civil::Date;
use steward_domain::certificate::{REMINDER_DAYS, ReminderKind};
use steward_store::certificate::CertificateReminder;
use steward_store::{Store, StoreResult};

/// The job that runs one tenant's register for one day.
pub const DAILY_KIND: &str = "certificate.daily";

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
        let expired = store
            .expire_certificates(tenant_id, day)
            .await
            .map_err(|e| e.to_string())?;
        let sent = store
            .send_certificate_reminders(tenant_id, day, render)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(tenant = tenant_id, %day, expired = expired.len(), reminders = sent.len(), "certificate register run");
        Ok(())
    });
}

/// The reminder `name` receives: subject and body.
pub fn render(r: &CertificateReminder, name: &str) -> (String, String) {
    let c = &r.certificate;
    let when = match r.days_left {
        0 => "today".to_owned(),
        1 => "tomorrow".to_owned(),
        n => format!("in {n} days"),
    };
    let (subject, what, todo) = match r.kind {
        ReminderKind::Expiry => (
            format!("[Certificate] {} expires {when}", c.number),
            "expires",
            "Plan the recertification audit with the certification body before then; once \
             re-issued, record the new dates in Steward.",
        ),
        ReminderKind::Surveillance => (
            format!("[Certificate] {}: surveillance audit {when}", c.number),
            "has its next surveillance audit",
            "Prepare the evidence and the people the auditor will want to see; a missed \
             surveillance audit can lead to suspension.",
        ),
    };
    let body = format!(
        "Hello {},\n\ncertificate {} ({}, {}) {what} {when}, on {}.\n\n\
         Certification body: {}\nScope: {}\n\n{todo}\n{}\n\n\
         (Reminders go out {REMINDER_DAYS} days ahead.)\n",
        name.trim(),
        c.number,
        c.standard,
        c.organisation,
        r.due_on,
        c.certification_body,
        c.scope,
        record_link("certificates", &c.id.to_string()),
    );
    (subject, body)
}
