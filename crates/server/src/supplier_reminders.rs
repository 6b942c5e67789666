//! Supplier management's daily run: once a day the job runner queues one job per tenant, which
//! mails each active supplier's owner when the current contract ends within 60 days, or when a
//! contract review or a performance review is due within 14 days or overdue.
//!
//! Each mail goes out once: the job is enqueued with a dedupe key naming the tenant and the day
//! (`supplier.daily:<tenant>:<YYYY-MM-DD>`), and the store claims each reminder (kind,
//! subject, recipient, date) in `supplier_reminders` in the same transaction as its mail.

use crate::daily;
use crate::jobs::Runner;
use crate::mail::outbound::record_link;
use jiff::civil::Date;
use steward_domain::supplier::evidence::ReminderKind;
use steward_store::supplier::reminders::SupplierReminder;
use steward_store::{Store, StoreResult};

/// The job that runs one tenant's reminders for one day.
pub const DAILY_KIND: &str = "supplier.daily";

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
            .send_supplier_reminders(tenant_id, day, render)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(tenant = tenant_id, %day, reminders = sent.len(), "supplier reminders run");
        Ok(())
    });
}

/// The reminder's subject and body.
pub fn render(r: &SupplierReminder) -> (String, String) {
    let link = record_link("suppliers", &r.supplier_id.to_string());
    let (subject, text) = match r.kind {
        ReminderKind::ContractEnding => (
            format!("Supplier contract ending on {}: {}", r.due_on, r.supplier),
            format!(
                "the current contract with {} ends on {}.\n\nDecide whether to renew it, \
                 replace the supplier or let it end, and record the new version (with its impact \
                 assessment and approval) before then.",
                r.supplier, r.due_on
            ),
        ),
        ReminderKind::ContractReviewDue => (
            format!("Supplier contract review due {}: {}", r.due_on, r.supplier),
            format!(
                "the contract with {} is due for its review on {}: check that it still fits the \
                 current service requirements and record the review.",
                r.supplier, r.due_on
            ),
        ),
        ReminderKind::PerformanceReviewDue => (
            format!(
                "Supplier performance review due {}: {}",
                r.due_on, r.supplier
            ),
            format!(
                "the performance review of {} is due on {}: compare what they delivered with \
                 their commitments, record the rating and raise an improvement for anything \
                 missed.",
                r.supplier, r.due_on
            ),
        ),
    };
    let body = format!(
        "Hello {},\n\nyou own the relationship with {}: {text}\n\n{link}\n",
        r.recipient.0.trim(),
        r.supplier
    );
    (subject, body)
}
