//! The daily count of each tenant's conformance readiness, for the dashboard's trend: one job
//! per tenant and day (see `daily`), whose count the store keeps once however often it runs.

use crate::daily;
use crate::jobs::Runner;
use jiff::civil::Date;
use steward_store::{Store, StoreResult};

/// The job that counts one tenant's readiness for one day.
pub const DAILY_KIND: &str = "conformance.snapshot";

/// Enqueues the count for `day` for every tenant; returns how many were new.
pub async fn enqueue_day(store: &Store, day: Date) -> StoreResult<usize> {
    daily::enqueue(store, DAILY_KIND, day).await
}

pub fn register(runner: &mut Runner) {
    runner.handle(DAILY_KIND, |store, job| async move {
        let (tenant_id, day) = daily::tenant_and_day(&job)?;
        let kept = store
            .record_readiness_snapshot(tenant_id, day)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(tenant = tenant_id, %day, kept, "readiness snapshot");
        Ok(())
    });
}
