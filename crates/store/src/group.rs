//! Group commit: writes that arrive together share one transaction.
//!
//! Every write transaction pays fixed costs: BEGIN, the tenant's journal head, COMMIT (a WAL
//! flush on PostgreSQL, during which the journal head stays locked). So one tenant's writes
//! cannot go faster than one commit at a time, however many arrive. Writers queue their item
//! and wait for the slot; whoever gets it writes everything queued so far in one go, and each
//! writer is answered only after that transaction committed.

use crate::{StoreError, StoreResult};
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::oneshot;

/// An item waiting for the next group, and where its result goes.
struct Waiting<T, R> {
    item: T,
    reply: oneshot::Sender<StoreResult<R>>,
}

/// What arrived since the last group was taken, and whether a writer is at work.
struct Queue<T, R> {
    waiting: Vec<Waiting<T, R>>,
    writing: bool,
}

/// The queue of one kind of grouped write.
pub(crate) struct Group<T, R> {
    queue: Mutex<Queue<T, R>>,
}

impl<T, R> Default for Group<T, R> {
    fn default() -> Self {
        Self {
            queue: Mutex::new(Queue {
                waiting: Vec::new(),
                writing: false,
            }),
        }
    }
}

impl<T, R> std::fmt::Debug for Group<T, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group").finish_non_exhaustive()
    }
}

impl<T: Send + 'static, R: Send + 'static> Group<T, R> {
    /// Writes `item` together with whatever else is queued. `write` gets the items in arrival
    /// order and answers one result per item, in the same order. Every caller of one group
    /// must pass the same `write`: whichever starts the writer, its `write` serves them all.
    ///
    /// The first caller to find no writer at work starts one: a task of its own that writes
    /// group after group until the queue is empty. So while one group commits, the next
    /// gathers; and a caller who goes away (a client that disconnects) cannot abandon the
    /// others' writes half-way.
    pub(crate) async fn submit<F, Fut>(self: &Arc<Self>, item: T, write: F) -> StoreResult<R>
    where
        F: Fn(Vec<T>) -> Fut + Send + 'static,
        Fut: Future<Output = Vec<StoreResult<R>>> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let start_writer = {
            let mut queue = self.lock_queue();
            queue.waiting.push(Waiting { item, reply });
            !std::mem::replace(&mut queue.writing, true)
        };
        if start_writer {
            tokio::spawn(Arc::clone(self).write_until_empty(write));
        }
        // A writer that panics drops the replies, which this reports.
        answer.await.unwrap_or_else(|_| {
            Err(StoreError::Corrupt(
                "a grouped write ended without an answer".into(),
            ))
        })
    }

    async fn write_until_empty<F, Fut>(self: Arc<Self>, write: F)
    where
        F: Fn(Vec<T>) -> Fut,
        Fut: Future<Output = Vec<StoreResult<R>>>,
    {
        loop {
            let waiting = {
                let mut queue = self.lock_queue();
                if queue.waiting.is_empty() {
                    queue.writing = false;
                    return;
                }
                std::mem::take(&mut queue.waiting)
            };
            let (items, replies): (Vec<T>, Vec<_>) =
                waiting.into_iter().map(|w| (w.item, w.reply)).unzip();
            let results = write(items).await;
            for (reply, result) in replies.into_iter().zip(results) {
                // The receiver is gone only if its caller gave up waiting.
                let _ = reply.send(result);
            }
        }
    }

    fn lock_queue(&self) -> std::sync::MutexGuard<'_, Queue<T, R>> {
        // The queue is pushed to and taken whole under the lock, so a poisoned lock still
        // holds a valid queue.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Concurrent submitters each get their own item's result.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_item_is_answered_once_with_its_own_result() {
        let group: Arc<Group<u32, u32>> = Arc::default();
        let groups = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for i in 0..200u32 {
            let (group, groups) = (Arc::clone(&group), Arc::clone(&groups));
            tasks.push(tokio::spawn(async move {
                group
                    .submit(i, move |items: Vec<u32>| {
                        let groups = Arc::clone(&groups);
                        async move {
                            groups.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                            items.into_iter().map(|n| Ok(n * 2)).collect()
                        }
                    })
                    .await
            }));
        }
        for (i, task) in tasks.into_iter().enumerate() {
            let got = task.await.expect("task").expect("result");
            assert_eq!(got, u32::try_from(i).expect("small") * 2);
        }
        // Those that arrive while a group is being written go together in the next.
        let ran = groups.load(Ordering::SeqCst);
        assert!((1..200).contains(&ran), "{ran} groups");
    }

    #[tokio::test]
    async fn a_missing_result_is_an_error_not_a_hang() {
        let group: Arc<Group<u32, u32>> = Arc::default();
        let got = group.submit(1, |_| async { Vec::new() }).await;
        assert!(matches!(got, Err(StoreError::Corrupt(_))), "{got:?}");
    }
}
