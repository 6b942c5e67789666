//! Monthly service reports by mail (ISO/IEC 20000-1 9.4 service reporting): on its first run
//! in a new month, the job runner queues a report job per tenant, and the job mails each
//! customer's contacts the previous month's SLA attainment by service and target, with the
//! breaches behind it, as plain text. Customers with no decided SLA clock in the month, and
//! contacts without an e-mail address, get nothing.
//!
//! Each report goes out once, however many nodes run and however often a job is retried:
//! - the job is enqueued with a dedupe key naming the tenant and the month
//!   (`sla.monthly_report:<tenant>:<YYYY-MM>`), so it exists once;
//! - each message's Message-ID names the tenant, month and contact, and is claimed in the
//!   mail thread map in the same transaction as its outbox row (`Store::queue_mail_once`), so
//!   a job that runs again, after a failure or a lost lease, skips what it already queued.
//!
//! The outbox row names the customer (`record_type` `customer`, `record_id` its id): the
//! outbox and the thread map take any record type, and a reply to a report, which threads to
//! no incident, opens a new incident as any other mail to the desk does.

use crate::jobs::Runner;
use serde::{Deserialize, Serialize};
use std::fmt::Write;
use steward_store::jobs::NewJob;
use steward_store::mail::OutMail;
use steward_store::sla::report::{AttainmentRow, Group, Month, ReportQuery, humanize};
use steward_store::{PageRequest, Store, StoreError, StoreResult};

/// The job that sends one tenant's reports for one month.
pub const MONTHLY_KIND: &str = "sla.monthly_report";
/// The most breaches a report lists; it says how many more there were.
const MAX_LISTED: u32 = 50;

#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    tenant_id: i64,
    /// `YYYY-MM`: the month reported on.
    month: String,
}

/// The dedupe key of a tenant's report job for `month`.
pub fn job_key(tenant_id: i64, month: Month) -> String {
    format!("{MONTHLY_KIND}:{tenant_id}:{month}")
}

/// Enqueues the report job for `month` for every tenant; returns how many were new (the rest
/// were enqueued before, by this node or another).
pub async fn enqueue_month(store: &Store, month: Month) -> StoreResult<usize> {
    let mut added = 0;
    for tenant in store.tenants().await? {
        let payload = Payload {
            tenant_id: tenant.id,
            month: month.to_string(),
        };
        let mut job =
            NewJob::now(MONTHLY_KIND, serde_json::json!(payload)).dedupe(job_key(tenant.id, month));
        job.tenant_id = Some(tenant.id);
        if store.enqueue(&job).await?.is_some() {
            added += 1;
        }
    }
    Ok(added)
}

pub fn register(runner: &mut Runner) {
    runner.handle(MONTHLY_KIND, |store, job| async move {
        let payload: Payload =
            serde_json::from_str(&job.payload).map_err(|e| format!("bad payload: {e}"))?;
        let month =
            Month::parse(&payload.month).ok_or_else(|| format!("bad month `{}`", payload.month))?;
        let sent = send_month(&store, payload.tenant_id, month)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(tenant = payload.tenant_id, %month, sent, "monthly service reports queued");
        Ok(())
    });
}

/// Queues the reports on `month` of tenant `tenant_id`; returns how many messages this call
/// queued (none for those queued before).
pub async fn send_month(store: &Store, tenant_id: i64, month: Month) -> StoreResult<usize> {
    let tenant = store.tenant(tenant_id).await?;
    let customers = store
        .attainment(
            tenant_id,
            &ReportQuery::new(month.start(), month.end(), Group::Customer),
        )
        .await?;
    let mut queued = 0;
    for customer_id in customers
        .iter()
        .filter_map(|r| r.group.key.as_deref()?.parse::<i64>().ok())
    {
        let customer = match store.customer(tenant_id, customer_id).await {
            Ok(c) => c,
            // A customer deleted since is no longer sent anything.
            Err(StoreError::NotFound) => continue,
            Err(e) => return Err(e),
        };
        let contacts: Vec<_> = store
            .contacts(tenant_id, customer_id)
            .await?
            .into_iter()
            .filter(|c| !c.email.trim().is_empty())
            .collect();
        if contacts.is_empty() {
            continue;
        }
        let report = customer_report(store, tenant_id, customer_id, month).await?;
        for contact in contacts {
            let mail = OutMail {
                record_type: "customer".into(),
                record_id: customer_id,
                to_address: contact.email.trim().to_owned(),
                subject: format!("Service report for {}: {}", month.name(), customer.name),
                body: format!(
                    "Hello {},\n\n{}\n-- \n{} service desk (Steward)\n",
                    contact.name.trim(),
                    report.text(&customer.name, month),
                    tenant.name
                ),
                message_id: format!("sla-report.{tenant_id}.{month}.{}@steward", contact.id),
                in_reply_to: None,
                references: None,
            };
            if store.queue_mail_once(tenant_id, &mail).await? {
                queued += 1;
            }
        }
    }
    Ok(queued)
}

/// One customer's figures for a month.
struct Report {
    rows: Vec<AttainmentRow>,
    breaches: Vec<steward_store::sla::report::BreachRow>,
}

async fn customer_report(
    store: &Store,
    tenant_id: i64,
    customer_id: i64,
    month: Month,
) -> StoreResult<Report> {
    let mut q = ReportQuery::new(month.start(), month.end(), Group::Service);
    q.then = Some(Group::Target);
    q.customer_id = Some(customer_id);
    let rows = store.attainment(tenant_id, &q).await?;
    let page = PageRequest {
        limit: Some(MAX_LISTED),
        cursor: None,
    };
    let breaches = store.breaches(tenant_id, &q, &page).await?.items;
    Ok(Report { rows, breaches })
}

impl Report {
    /// The body between greeting and signature: a table, the breaches, and what counts.
    fn text(&self, customer: &str, month: Month) -> String {
        let mut out = format!(
            "this is the service level report of {customer} for {} (UTC): how many of your \
             records met the times agreed in your service level agreements.\n\n",
            month.name()
        );
        let head = ["Service", "Target", "Met", "Breached", "Attainment"];
        let mut lines: Vec<[String; 5]> = self
            .rows
            .iter()
            .map(|r| {
                [
                    r.group.label.clone(),
                    r.then.as_ref().map(|v| v.label.clone()).unwrap_or_default(),
                    r.met.to_string(),
                    r.breached.to_string(),
                    format!("{:.1} %", r.attainment_percent),
                ]
            })
            .collect();
        let (met, total) = self
            .rows
            .iter()
            .fold((0, 0), |(m, t), r| (m + r.met, t + r.total));
        let overall = if total == 0 {
            0.0
        } else {
            met as f64 * 100.0 / total as f64
        };
        lines.push([
            "All services".into(),
            "All targets".into(),
            met.to_string(),
            (total - met).to_string(),
            format!("{overall:.1} %"),
        ]);
        let width = |i: usize| {
            lines
                .iter()
                .map(|l| l[i].chars().count())
                .chain(std::iter::once(head[i].len()))
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..5).map(width).collect();
        let mut row = |cells: [&str; 5]| {
            let _ = writeln!(
                out,
                "{:<w0$}  {:<w1$}  {:>w2$}  {:>w3$}  {:>w4$}",
                cells[0],
                cells[1],
                cells[2],
                cells[3],
                cells[4],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2],
                w3 = widths[3],
                w4 = widths[4],
            );
        };
        row(head);
        for l in &lines {
            row([&l[0], &l[1], &l[2], &l[3], &l[4]]);
        }
        let breached = total - met;
        if breached > 0 {
            let _ = writeln!(out, "\nBreaches:");
            for b in &self.breaches {
                let reached = match b.stopped_at {
                    Some(at) => format!("reached {}", when(at)),
                    None => "still open".to_owned(),
                };
                let _ = write!(
                    out,
                    "- {} {}: {} due {}, {reached}.",
                    b.record_key,
                    b.record_title,
                    humanize(&b.target).to_lowercase(),
                    when(b.due_at)
                );
                if let Some(reason) = &b.breach_reason {
                    let _ = write!(out, " Reason: {}", reason.trim());
                }
                out.push('\n');
            }
            let unlisted = breached - self.breaches.len() as i64;
            if unlisted > 0 {
                let _ = writeln!(out, "... and {unlisted} more.");
            }
        }
        out.push_str(
            "\nA target is met when the record reached it within the agreed business time. \
             Records that were cancelled, rejected or excluded by agreement do not count. A \
             record counts in the month its outcome was decided: when it met the target, or \
             when the target fell due.\n",
        );
        out
    }
}

/// `2026-01-31 09:30 UTC`.
fn when(micros: i64) -> String {
    jiff::Timestamp::from_microsecond(micros)
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}
