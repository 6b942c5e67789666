//! The job runner: handlers by kind, failures retried, unknown kinds parked.

use steward_server::jobs::{PURGE_KIND, Runner};
use steward_store::jobs::NewJob;
use steward_store::{Store, both_backends};

both_backends!(runner_dispatches_by_kind, |store: Store| async move {
    let mut runner = Runner::new(store.clone(), "test-node");
    runner.handle("test.flaky", |_store, job| async move {
        if job.attempts < 2 {
            Err("not yet".to_owned())
        } else {
            Ok(())
        }
    });
    store
        .enqueue(&NewJob::now(PURGE_KIND, serde_json::json!({})))
        .await
        .expect("enqueue");
    store
        .enqueue(&NewJob::now("test.flaky", serde_json::json!({})))
        .await
        .expect("enqueue");
    store
        .enqueue(&NewJob::now("test.unknown", serde_json::json!({})))
        .await
        .expect("enqueue");
    assert_eq!(runner.run_once().await.expect("run"), 3);
    let counts: std::collections::HashMap<String, i64> = store
        .job_counts()
        .await
        .expect("counts")
        .into_iter()
        .collect();
    assert_eq!(counts.get("done"), Some(&1), "the purge ran");
    assert_eq!(
        counts.get("queued"),
        Some(&2),
        "the failures wait for a retry"
    );
    assert_eq!(
        runner.run_once().await.expect("run"),
        0,
        "retries wait for their backoff"
    );
});

type Runs = std::sync::Arc<std::sync::Mutex<Vec<(i64, &'static str)>>>;

/// A runner `name` with a `test.slow` handler that sleeps the payload's `sleep_ms` and notes
/// which job it ran.
fn slow_runner(store: &Store, name: &'static str, lease_ms: u64, runs: &Runs) -> Runner {
    let mut runner =
        Runner::new(store.clone(), name).lease(std::time::Duration::from_millis(lease_ms));
    let runs = runs.clone();
    runner.handle("test.slow", move |_store, job| {
        let runs = runs.clone();
        async move {
            let payload: serde_json::Value = serde_json::from_str(&job.payload).expect("payload");
            let ms = payload["sleep_ms"].as_u64().unwrap_or(0);
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            runs.lock().expect("runs").push((job.id, name));
            Ok(())
        }
    });
    runner
}

async fn enqueue_slow(store: &Store, sleeps_ms: &[u64]) -> Vec<i64> {
    let mut ids = Vec::new();
    for ms in sleeps_ms {
        let job = NewJob::now("test.slow", serde_json::json!({"sleep_ms": ms}));
        ids.push(store.enqueue(&job).await.expect("enqueue").expect("id"));
    }
    ids
}

both_backends!(
    a_batch_longer_than_its_lease_keeps_its_jobs,
    |store: Store| async move {
        let runs = Runs::default();
        let a = slow_runner(&store, "node-a", 1_000, &runs);
        let b = slow_runner(&store, "node-b", 1_000, &runs);
        let ids = enqueue_slow(&store, &[600, 600, 600]).await;
        let batch = tokio::spawn(async move { a.run_once().await.expect("run") });
        // Once A holds the batch, node B keeps trying to take over jobs whose lease ran out.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        while !batch.is_finished() {
            b.run_once().await.expect("run");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(batch.await.expect("join"), 3);
        let runs = runs.lock().expect("runs").clone();
        let expected: Vec<(i64, &str)> = ids.iter().map(|id| (*id, "node-a")).collect();
        assert_eq!(runs, expected, "A renewed its lease; B took nothing");
    }
);

both_backends!(
    a_job_lost_to_another_runner_is_left_to_it,
    |store: Store| async move {
        let runs = Runs::default();
        let a = slow_runner(&store, "node-a", 300, &runs);
        let b = slow_runner(&store, "node-b", 300, &runs);
        let ids = enqueue_slow(&store, &[500, 0]).await;
        let batch = tokio::spawn(async move { a.run_once().await.expect("run") });
        // A is stuck in its first job past its lease: B takes both jobs over.
        tokio::time::sleep(std::time::Duration::from_millis(350)).await;
        assert_eq!(b.run_once().await.expect("run"), 2);
        assert_eq!(
            batch.await.expect("join"),
            1,
            "A ran only the job it was in"
        );
        let runs = runs.lock().expect("runs").clone();
        let second: Vec<&str> = runs
            .iter()
            .filter(|(id, _)| *id == ids[1])
            .map(|(_, node)| *node)
            .collect();
        assert_eq!(
            second,
            ["node-b"],
            "the second job ran once, on B: {runs:?}"
        );
    }
);
