//! The job runner every `steward serve` node runs: claims due jobs from the shared queue and
//! hands each to its handler by kind. Periodic work is enqueued with a dedupe key naming its
//! period, so however many nodes run, each period's job exists, and runs, once.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use steward_store::jobs::{Job, NewJob};
use steward_store::sla::report::Month;
use steward_store::{Store, now_micros};
use tokio::sync::watch;

pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
pub type Handler = Arc<dyn Fn(Store, Job) -> HandlerFuture + Send + Sync>;

pub const PURGE_KIND: &str = "housekeeping.purge";
/// How long a claimed job is its runner's before another node may take it over (the runner
/// may have died). The default; `Runner::lease` changes it.
pub const LEASE: Duration = Duration::from_secs(300);
const BATCH: u32 = 20;
const DAY: i64 = 86_400_000_000;
/// How long CMDB graph-log entries are kept: a node that has not caught up for longer reads its
/// graph whole instead.
const GRAPH_LOG_DAYS: i64 = 7;

pub struct Runner {
    store: Store,
    worker: String,
    handlers: HashMap<String, Handler>,
    idle_wait: Duration,
    lease: Duration,
}

impl Runner {
    /// A runner with Steward's built-in handlers.
    pub fn new(store: Store, worker: impl Into<String>) -> Runner {
        let mut runner = Runner {
            store,
            worker: worker.into(),
            handlers: HashMap::new(),
            idle_wait: Duration::from_secs(1),
            lease: LEASE,
        };
        runner.handle(PURGE_KIND, |store, _job| async move {
            let day_ago = now_micros() - DAY;
            store
                .purge_expired(day_ago)
                .await
                .map_err(|e| e.to_string())?;
            store
                .prune_graph_log(now_micros() - GRAPH_LOG_DAYS * DAY)
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        });
        crate::mail::outbound::register_from_env(&mut runner);
        crate::mail::sla_report::register(&mut runner);
        crate::sla::register(&mut runner);
        crate::asset_reminders::register(&mut runner);
        crate::certificate_reminders::register(&mut runner);
        crate::document_reminders::register(&mut runner);
        crate::nonconformity_reminders::register(&mut runner);
        crate::competence_reminders::register(&mut runner);
        crate::complaint_reminders::register(&mut runner);
        crate::supplier_reminders::register(&mut runner);
        crate::readiness_snapshots::register(&mut runner);
        runner
    }

    /// Sets how long a claimed job stays this runner's: a job whose runner died is run again
    /// by another node only after its lease expires, but a job still running when it expires
    /// may be taken over too (handlers must be idempotent anyway).
    pub fn lease(mut self, lease: Duration) -> Runner {
        self.lease = lease;
        self
    }

    pub fn handle<F, Fut>(&mut self, kind: &str, handler: F)
    where
        F: Fn(Store, Job) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.handlers.insert(
            kind.to_owned(),
            Arc::new(move |s, j| Box::pin(handler(s, j))),
        );
    }

    /// Claims and runs one batch; returns how many jobs it ran.
    ///
    /// Jobs run one after the other, so a batch can outlast its lease: past half the lease the
    /// runner renews its hold on the jobs it has not run yet, and skips any it lost meanwhile
    /// (another node may already be running it).
    pub async fn run_once(&self) -> Result<usize, steward_store::StoreError> {
        let jobs = self
            .store
            .claim_jobs(&self.worker, BATCH, self.lease)
            .await?;
        let mut held_since = Instant::now();
        let mut lost = Vec::new();
        for (n, job) in jobs.iter().enumerate() {
            if held_since.elapsed() > self.lease / 2 {
                let rest: Vec<i64> = jobs[n..].iter().map(|j| j.id).collect();
                let held = self
                    .store
                    .renew_jobs(&rest, &self.worker, self.lease)
                    .await?;
                held_since = Instant::now();
                lost.extend(rest.into_iter().filter(|id| !held.contains(id)));
            }
            if lost.contains(&job.id) {
                tracing::info!(job = job.id, kind = %job.kind, "lease lost before the job ran; left to its new runner");
                continue;
            }
            let outcome = match self.handlers.get(&job.kind) {
                Some(handler) => handler(self.store.clone(), job.clone()).await,
                None => Err(format!("no handler for job kind `{}`", job.kind)),
            };
            match outcome {
                Ok(()) => {
                    self.store.complete_job(job.id, &self.worker).await?;
                }
                Err(error) => {
                    tracing::warn!(job = job.id, kind = %job.kind, %error, "job failed");
                    self.store.fail_job(job, &self.worker, &error).await?;
                }
            }
        }
        Ok(jobs.len() - lost.len())
    }

    /// Runs until `shutdown` turns true, also enqueuing the periodic housekeeping.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut last_schedule = None;
        let mut last_month = None;
        let mut last_day = None;
        while !*shutdown.borrow() {
            let hour = now_micros() / 3_600_000_000;
            if last_schedule != Some(hour) {
                let job = NewJob::now(PURGE_KIND, serde_json::json!({}))
                    .dedupe(format!("{PURGE_KIND}:{hour}"));
                if self.store.enqueue(&job).await.is_ok() {
                    last_schedule = Some(hour);
                }
            }
            // The first run in a new month queues last month's service reports; the job's
            // dedupe key makes every node's attempt after the first a no-op.
            let month = Month::containing(now_micros());
            if last_month != Some(month)
                && crate::mail::sla_report::enqueue_month(&self.store, month.prev())
                    .await
                    .is_ok()
            {
                last_month = Some(month);
            }
            // Each day's first run queues the day's warranty and licence reminders, once.
            let day = steward_store::asset::today_utc();
            // ... and the day's certificate expiry and reminder run.
            if last_day != Some(day)
                && crate::asset_reminders::enqueue_day(&self.store, day)
                    .await
                    .is_ok()
                && crate::certificate_reminders::enqueue_day(&self.store, day)
                    .await
                    .is_ok()
                && crate::document_reminders::enqueue_day(&self.store, day)
                    .await
                    .is_ok()
                && crate::nonconformity_reminders::enqueue_day(&self.store, day)
                    .await
                    .is_ok()
                && crate::competence_reminders::enqueue_day(&self.store, day)
                    .await
                    .is_ok()
                && crate::complaint_reminders::enqueue_day(&self.store, day)
                    .await
                    .is_ok()
                && crate::supplier_reminders::enqueue_day(&self.store, day)
                    .await
                    .is_ok()
                && crate::readiness_snapshots::enqueue_day(&self.store, day)
                    .await
                    .is_ok()
            {
                last_day = Some(day);
            }
            let ran = match self.run_once().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "job queue unavailable");
                    0
                }
            };
            if ran == 0 {
                tokio::select! {
                    _ = tokio::time::sleep(self.idle_wait) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }
}
