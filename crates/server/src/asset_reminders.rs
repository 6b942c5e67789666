//! Reminders before warranties and licences end (ISO/IEC 20000-1 8.2.5): once a day the job
//! runner queues a reminder job per tenant, and the job mails each asset's owner (or, for an
//! asset without an active owner, the tenant's managers) about every warranty or licence that
//! ends within the lead time, [`DEFAULT_REMINDER_DAYS`] days.
//!
//! Each reminder goes out once per asset, term and end date, however many nodes run and however
//! often a job is retried:
//! - the job is enqueued with a dedupe key naming the tenant and the day
//!   (`asset.reminders:<tenant>:<YYYY-MM-DD>`), so it exists once a day;
//! - the store claims each reminder in `asset_reminders` in the same transaction as its mail,
//!   so a later run (the next day's, or a retry) finds it taken. An end date that moves gets a
//!   reminder of its own.

use crate::daily;
use crate::jobs::Runner;
use crate::mail::outbound::record_link;
use jiff::civil::Date;
use steward_domain::asset::DEFAULT_REMINDER_DAYS;
use steward_store::asset::Reminder;
use steward_store::{Store, StoreResult};

/// The job that sends one tenant's reminders for one day.
pub const REMINDER_KIND: &str = "asset.reminders";

/// The dedupe key of a tenant's run for `day`.
pub fn job_key(tenant_id: i64, day: Date) -> String {
    daily::job_key(REMINDER_KIND, tenant_id, day)
}

/// Enqueues the run for `day` for every tenant; returns how many were new.
pub async fn enqueue_day(store: &Store, day: Date) -> StoreResult<usize> {
    daily::enqueue(store, REMINDER_KIND, day).await
}

pub fn register(runner: &mut Runner) {
    runner.handle(REMINDER_KIND, |store, job| async move {
        let (tenant_id, day) = daily::tenant_and_day(&job)?;
        let sent = store
            .send_asset_reminders(tenant_id, day, DEFAULT_REMINDER_DAYS, render)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(tenant = tenant_id, %day, sent = sent.len(), "asset reminders queued");
        Ok(())
    });
}

/// The reminder `name` receives: subject and body.
pub fn render(r: &Reminder, name: &str) -> (String, String) {
    let a = &r.asset;
    let when = match r.days_left {
        0 => "today".to_owned(),
        1 => "tomorrow".to_owned(),
        n => format!("in {n} days"),
    };
    let subject = format!("[Asset] {} {}: {} ends {when}", a.tag, a.name, r.term);
    let mut body = format!(
        "Hello {},\n\nthe {} of asset {} ({}) ends {when}, on {}.\n\n",
        name.trim(),
        r.term,
        a.tag,
        a.name,
        r.ends_on
    );
    for (label, value) in [
        ("Manufacturer", &a.manufacturer),
        ("Model", &a.model),
        ("Serial number", &a.serial_number),
        ("Supplier", &a.supplier),
        ("Location", &a.location),
    ] {
        if !value.is_empty() {
            body.push_str(&format!("{label}: {value}\n"));
        }
    }
    if let Some(seats) = a.licence_seats {
        body.push_str(&format!(
            "Licence seats: {} in use of {seats}\n",
            a.seats_in_use.unwrap_or(0)
        ));
    }
    body.push_str(&format!(
        "\nRenew it, replace it or plan its retirement before then.\n{}\n",
        record_link("assets", &a.id.to_string())
    ));
    (subject, body)
}
