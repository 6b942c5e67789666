//! Controlled documents' mail: the notice everyone on a document's distribution receives when a
//! version is approved, and the daily run that reminds each document's owner once
//! [`REVIEW_LEAD_DAYS`] days before its review is due and once when it is overdue.
//!
//! Each reminder goes out once, however many nodes run and however often a job is retried: the
//! job exists once per tenant and day (dedupe key `document.daily:<tenant>:<YYYY-MM-DD>`), and
//! the store claims each reminder (document, kind, due date) in `document_reminders` in the
//! same transaction as its mail; a review that moves the due date gets reminders of its own.

use crate::daily;
use crate::jobs::Runner;
use crate::mail::outbound::record_link;
use jiff::civil::Date;
use steward_domain::sms::document::{REVIEW_LEAD_DAYS, ReviewReminder};
use steward_store::document::{Document, DocumentReminder, DocumentVersion};
use steward_store::{Store, StoreResult};

/// The job that runs one tenant's review reminders for one day.
pub const DAILY_KIND: &str = "document.daily";

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
            .send_document_reminders(tenant_id, day, render_reminder)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(tenant = tenant_id, %day, reminders = sent.len(), "document review reminders");
        Ok(())
    });
}

/// The review reminder for the document's owner: subject and body.
pub fn render_reminder(r: &DocumentReminder) -> (String, String) {
    let d = &r.document;
    let (subject, what) = match r.kind {
        ReviewReminder::Upcoming => (
            format!(
                "[Document] {} {}: review due on {}",
                d.reference, d.title, r.due_on
            ),
            match r.days_left {
                0 => "is due for review today".to_owned(),
                1 => "is due for review tomorrow".to_owned(),
                n => format!("is due for review in {n} days"),
            },
        ),
        ReviewReminder::Overdue => (
            format!(
                "[Document] {} {}: review overdue since {}",
                d.reference, d.title, r.due_on
            ),
            format!("was due for review on {} and is overdue", r.due_on),
        ),
    };
    let body = format!(
        "Hello {},\n\nthe document {} \"{}\", which you own, {what}.\n\n\
         Read it through: if it is still fit for purpose, record the review in Steward; if not, \
         start a new version and send it for approval.\n{}\n\n\
         (Owners are reminded {REVIEW_LEAD_DAYS} days ahead and once a review is overdue.)\n",
        r.owner.0.trim(),
        d.reference,
        d.title,
        record_link("documents", &d.id.to_string()),
    );
    (subject, body)
}

/// The notice `name`, on the distribution, receives when `version` is approved.
pub fn render_notice(d: &Document, version: &DocumentVersion, name: &str) -> (String, String) {
    let subject = format!(
        "[Document] {} {}: version {} approved",
        d.reference, d.title, version.number
    );
    let body = format!(
        "Hello {},\n\nversion {} of {} \"{}\" has been approved by {} and is now in force.\n\n\
         What changed: {}\n\n\
         You are on this document's distribution: please read it and confirm that you have \
         (\"I have read v{}\" on the document's page).\n{}\n",
        name.trim(),
        version.number,
        d.reference,
        d.title,
        version.approved_by_label,
        version.change_summary,
        version.number,
        record_link("documents", &d.id.to_string()),
    );
    (subject, body)
}
