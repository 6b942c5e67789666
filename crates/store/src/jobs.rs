//! The durable job queue: SLA timers, notifications and webhooks later ride on it.
//!
//! A job is claimed for a lease; if its runner dies, the lease runs out and another runner
//! takes it. On PostgreSQL, claims use `FOR UPDATE SKIP LOCKED` so that several nodes share the
//! queue without waiting on each other; SQLite has one writer, which serialises claims anyway.

use crate::db::{Tx, sql};
use crate::{Backend, Store, StoreResult, now_micros};
use std::time::Duration;
use steward_domain::jobs::{AfterFailure, DEFAULT_MAX_ATTEMPTS, after_failure};

#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    pub payload: serde_json::Value,
    pub tenant_id: Option<i64>,
    pub run_at_micros: i64,
    pub max_attempts: i32,
    /// Jobs with the same key are enqueued once: periodic work uses its period as the key.
    pub dedupe_key: Option<String>,
}

impl NewJob {
    pub fn now(kind: &str, payload: serde_json::Value) -> NewJob {
        NewJob {
            kind: kind.to_owned(),
            payload,
            tenant_id: None,
            run_at_micros: now_micros(),
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            dedupe_key: None,
        }
    }

    pub fn dedupe(mut self, key: impl Into<String>) -> NewJob {
        self.dedupe_key = Some(key.into());
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    pub tenant_id: Option<i64>,
    pub kind: String,
    pub payload: String,
    pub attempts: i32,
    pub max_attempts: i32,
}

const RETURNING: &str = "RETURNING id, tenant_id, kind, payload, attempts, max_attempts";

impl Store {
    /// Enqueues a job on its own; returns its id, or `None` if its dedupe key was taken.
    pub async fn enqueue(&self, job: &NewJob) -> StoreResult<Option<i64>> {
        let mut tx = self.db.begin().await?;
        let id = enqueue_in(&mut tx, job).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Claims up to `limit` due jobs (or jobs whose lease ran out) for `worker`.
    pub async fn claim_jobs(
        &self,
        worker: &str,
        limit: u32,
        lease: Duration,
    ) -> StoreResult<Vec<Job>> {
        let now = now_micros();
        let lock = match self.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let q = sql(format!(
            "UPDATE jobs SET state = 'running', locked_by = $1, locked_until = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM jobs WHERE (state = 'queued' AND run_at <= $3) \
                          OR (state = 'running' AND locked_until < $3) ORDER BY run_at, id LIMIT $4{lock}) {RETURNING}"
        ))
        .bind(worker)
        .bind(now + micros(lease))
        .bind(now)
        .bind(i64::from(limit));
        let mut tx = self.db.begin().await?;
        let mut jobs: Vec<Job> = tx.fetch_all(q).await?;
        tx.commit().await?;
        jobs.sort_by_key(|j| j.id);
        Ok(jobs)
    }

    /// Extends `worker`'s lease on the jobs `ids` by `lease` from now; returns the ids it still
    /// held (a job whose lease ran out may have gone to another runner, which then runs it).
    pub async fn renew_jobs(
        &self,
        ids: &[i64],
        worker: &str,
        lease: Duration,
    ) -> StoreResult<Vec<i64>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let q = sql(format!(
            "UPDATE jobs SET locked_until = $1 WHERE id IN ({list}) AND locked_by = $2 AND state = 'running' RETURNING id"
        ))
        .bind(now_micros() + micros(lease))
        .bind(worker);
        let mut tx = self.db.begin().await?;
        let held: Vec<(i64,)> = tx.fetch_all(q).await?;
        tx.commit().await?;
        Ok(held.into_iter().map(|(id,)| id).collect())
    }

    /// Marks a job done, if `worker` still holds it. Returns whether it did.
    pub async fn complete_job(&self, id: i64, worker: &str) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        let n = tx
            .execute(
                sql("UPDATE jobs SET state = 'done', finished_at = $1, locked_by = NULL, locked_until = NULL \
                     WHERE id = $2 AND locked_by = $3 AND state = 'running'")
                    .bind(now_micros())
                    .bind(id)
                    .bind(worker),
            )
            .await?;
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Records a failed run: the job is retried after a growing delay, or parked as dead.
    pub async fn fail_job(
        &self,
        job: &Job,
        worker: &str,
        error: &str,
    ) -> StoreResult<AfterFailure> {
        let outcome = after_failure(job.attempts, job.max_attempts);
        let now = now_micros();
        let (state, run_at, finished) = match outcome {
            AfterFailure::RetryIn(delay) => ("queued", now + micros(delay), None),
            AfterFailure::Dead => ("dead", now, Some(now)),
        };
        let mut tx = self.db.begin().await?;
        tx.execute(
            sql("UPDATE jobs SET state = $1, run_at = $2, finished_at = $3, last_error = $4, locked_by = NULL, locked_until = NULL \
                 WHERE id = $5 AND locked_by = $6 AND state = 'running'")
                .bind(state)
                .bind(run_at)
                .bind(finished)
                .bind(error.chars().take(2000).collect::<String>())
                .bind(job.id)
                .bind(worker),
        )
        .await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// Jobs per state, for `/metrics` and the admin view.
    pub async fn job_counts(&self) -> StoreResult<Vec<(String, i64)>> {
        self.db
            .fetch_all(sql(
                "SELECT state, COUNT(*) FROM jobs GROUP BY state ORDER BY state",
            ))
            .await
    }
}

pub(crate) async fn enqueue_in(tx: &mut Tx, job: &NewJob) -> StoreResult<Option<i64>> {
    let row: Option<(i64,)> = tx
        .fetch_optional(
            sql("INSERT INTO jobs (tenant_id, kind, payload, state, run_at, attempts, max_attempts, dedupe_key, created_at) \
                 VALUES ($1, $2, $3, 'queued', $4, 0, $5, $6, $7) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id")
                .bind(job.tenant_id)
                .bind(job.kind.clone())
                .bind(job.payload.to_string())
                .bind(job.run_at_micros)
                .bind(job.max_attempts)
                .bind(job.dedupe_key.clone())
                .bind(now_micros()),
        )
        .await?;
    Ok(row.map(|r| r.0))
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX / 2)
}
