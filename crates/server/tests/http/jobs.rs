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
