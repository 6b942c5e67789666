//! Jobs that run once per tenant and day (reminders, expiry): one job per tenant, enqueued with
//! a dedupe key naming the job's kind, the tenant and the day (`<kind>:<tenant>:<YYYY-MM-DD>`),
//! so however many nodes enqueue it, it exists once.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use steward_store::jobs::{Job, NewJob};
use steward_store::{Store, StoreResult};

#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    tenant_id: i64,
    /// `YYYY-MM-DD` (UTC): the day the run is for.
    day: String,
}

/// The dedupe key of `kind`'s run for `tenant_id` and `day`.
pub fn job_key(kind: &str, tenant_id: i64, day: Date) -> String {
    format!("{kind}:{tenant_id}:{day}")
}

/// Enqueues `kind`'s run for `day` for every tenant; returns how many were new.
pub async fn enqueue(store: &Store, kind: &str, day: Date) -> StoreResult<usize> {
    let mut added = 0;
    for tenant in store.tenants().await? {
        let payload = Payload {
            tenant_id: tenant.id,
            day: day.to_string(),
        };
        let mut job =
            NewJob::now(kind, serde_json::json!(payload)).dedupe(job_key(kind, tenant.id, day));
        job.tenant_id = Some(tenant.id);
        if store.enqueue(&job).await?.is_some() {
            added += 1;
        }
    }
    Ok(added)
}

/// The tenant and day a daily job is for.
pub fn tenant_and_day(job: &Job) -> Result<(i64, Date), String> {
    let payload: Payload =
        serde_json::from_str(&job.payload).map_err(|e| format!("bad payload: {e}"))?;
    let day = Date::strptime("%Y-%m-%d", &payload.day)
        .map_err(|e| format!("bad day `{}`: {e}", payload.day))?;
    Ok((payload.tenant_id, day))
}
