//! `steward-nodes`: proof that two `steward serve` nodes on one PostgreSQL database share the
//! work, run every SLA timer exactly once, and survive losing one of them.
//!
//! Each run starts nodes A and B, both with the job runner and a short job lease, and has
//! writers (half on each node) open incidents that started 45 minutes ago under a 30-minute
//! first response and 60-minute resolution agreement. So every incident is created with two
//! timers due at once: its first response clock's breach and its resolution clock's warning
//! (a clock already breached is never warned; the resolution breach is 15 minutes away and not
//! awaited). After about two seconds node A is killed with SIGKILL, its writers carry on
//! against B (retrying the create A did not answer), and writing stops two seconds later.
//! Then, talking to B only, every acknowledged incident must show both timers acted on within
//! the lease plus a minute (jobs A held are B's once their lease expires), the journal must
//! record each action exactly once, and `steward audit verify` must pass.

use crate::crash::{Server, TIMEOUT, cli, prepare_tenant};
use crate::http::{Conn, Request, Target, describe};
use crate::scenarios::mix;
use anyhow::{Context, anyhow, bail};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// The job lease the nodes run with: how long a job claimed by the killed node stays stuck.
pub const LEASE_SECONDS: u64 = 5;
/// How long before its creation each incident was opened (see the module comment).
const OPENED_MINUTES_AGO: i64 = 45;

/// What one run found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunReport {
    pub run: u32,
    /// Acknowledged creates, and how many of them each node answered.
    pub incidents: usize,
    pub by_node_a: usize,
    pub by_node_b: usize,
    /// Clocks on the acknowledged incidents.
    pub clocks: usize,
    /// Threshold actions journaled on them, each exactly once.
    pub thresholds_acted: usize,
    pub killed_after_ms: u64,
    /// From the end of writing until every timer had been acted on.
    pub settled_after_ms: u64,
}

impl RunReport {
    pub fn to_json_line(&self) -> String {
        json!({
            "scenario": "nodes", "run": self.run, "incidents": self.incidents,
            "by_node_a": self.by_node_a, "by_node_b": self.by_node_b, "clocks": self.clocks,
            "thresholds_acted": self.thresholds_acted, "missing": 0, "duplicates": 0,
            "killed_after_ms": self.killed_after_ms, "settled_after_ms": self.settled_after_ms,
            "audit_verify": "ok",
        })
        .to_string()
    }
}

/// The database both nodes share, and an admin's token on it.
pub struct Harness {
    steward: PathBuf,
    database_url: String,
    token: String,
    writers: usize,
    seed: u64,
    agreement_created: bool,
}

impl Harness {
    /// Prepares the database (schema, a tenant, an admin and its API token). Refuses
    /// anything but PostgreSQL: SQLite is one process's database.
    pub async fn prepare(
        steward: &Path,
        database_url: &str,
        writers: usize,
        seed: u64,
    ) -> anyhow::Result<Harness> {
        if !(database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
            bail!(
                "steward-nodes needs a PostgreSQL database (postgres://...), not `{database_url}`: \
                 several nodes share one database only on PostgreSQL"
            );
        }
        // An admin: only admins may set `opened_at`, and they may create agreements.
        let token = prepare_tenant(steward, database_url, "nodes", "admin", seed).await?;
        Ok(Harness {
            steward: steward.to_owned(),
            database_url: database_url.to_owned(),
            token,
            writers: writers.max(2),
            seed,
            agreement_created: false,
        })
    }

    /// One run: two nodes, write to both, kill A, check every timer on B, verify.
    pub async fn run(&mut self, run: u32) -> anyhow::Result<RunReport> {
        let started = jiff::Timestamp::now();
        let lease = LEASE_SECONDS.to_string();
        let node_args = ["--job-lease", lease.as_str()];
        let mut node_a = Server::start(&self.steward, &self.database_url, &node_args).await?;
        let mut node_b = Server::start(&self.steward, &self.database_url, &node_args).await?;
        let a = Arc::new(Target::new(&node_a.base_url(), &self.token, TIMEOUT).await?);
        let b = Arc::new(Target::new(&node_b.base_url(), &self.token, TIMEOUT).await?);
        if !self.agreement_created {
            create_agreement(&b).await?;
            self.agreement_created = true;
        }

        let acked = Arc::new(Mutex::new(Vec::new()));
        let killed = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let mut writers = JoinSet::new();
        for w in 0..self.writers {
            let on_a = w % 2 == 0;
            let writer = Writer {
                home: Arc::clone(if on_a { &a } else { &b }),
                fallback: on_a.then(|| Arc::clone(&b)),
                acked: Arc::clone(&acked),
                killed: Arc::clone(&killed),
                stop: Arc::clone(&stop),
                run,
                writer: w,
            };
            writers.spawn(writer.write());
        }
        wait_for_acks(&acked, 20).await?;
        let kill_ms = 1_500 + mix(self.seed ^ u64::from(run)) % 1_000;
        tokio::time::sleep(Duration::from_millis(kill_ms)).await;
        node_a.kill().await?;
        killed.store(true, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(2)).await;
        stop.store(true, Ordering::SeqCst);
        while let Some(done) = writers.join_next().await {
            done.context("a writer panicked")??;
        }
        let acked = std::mem::take(&mut *acked.lock().unwrap_or_else(PoisonError::into_inner));
        let by_node_a = acked.iter().filter(|(_, on_a)| *on_a).count();
        let by_node_b = acked.len() - by_node_a;
        if by_node_a == 0 || by_node_b == 0 {
            bail!("requests did not spread: node A acknowledged {by_node_a}, node B {by_node_b}");
        }
        let keys: Vec<String> = acked.into_iter().map(|(key, _)| key).collect();

        let written = Instant::now();
        let deadline = written + Duration::from_secs(LEASE_SECONDS + 60);
        let clocks = await_timers(&b, &keys, self.writers, deadline).await?;
        let settled_after_ms = written.elapsed().as_millis() as u64;
        let thresholds_acted = check_journal(&b, &clocks, started).await?;
        node_b.kill().await?;
        let verified = cli(
            &self.steward,
            &self.database_url,
            &["audit", "verify"],
            None,
        )
        .await;
        verified.context("`steward audit verify` after the run")?;
        Ok(RunReport {
            run,
            incidents: keys.len(),
            by_node_a,
            by_node_b,
            clocks: clocks.len(),
            thresholds_acted,
            killed_after_ms: kill_ms,
            settled_after_ms,
        })
    }
}

/// 30 minutes to first response, 60 to resolution, around the clock.
async fn create_agreement(target: &Arc<Target>) -> anyhow::Result<()> {
    let body = json!({
        "name": "Nodes", "kind": "sla", "warn_percent": 50,
        "targets": [
            {"metric": "first_response", "minutes": 30},
            {"metric": "resolution", "minutes": 60}
        ]
    });
    let reply = Conn::new(Arc::clone(target))
        .send(&Request::post_json("/sla/agreements", &body))
        .await?;
    if reply.status.as_u16() != 201 {
        bail!("creating the SLA agreement: {}", describe(&reply));
    }
    Ok(())
}

/// One writer: opens incidents on its home node until told to stop; a writer on node A moves
/// to B once A is killed, retrying there the create A did not answer.
struct Writer {
    home: Arc<Target>,
    fallback: Option<Arc<Target>>,
    /// Acknowledged keys, and whether node A acknowledged them.
    acked: Arc<Mutex<Vec<(String, bool)>>>,
    killed: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    run: u32,
    writer: usize,
}

impl Writer {
    async fn write(self) -> anyhow::Result<()> {
        let mut on_a = self.fallback.is_some();
        let mut conn = Conn::new(Arc::clone(&self.home));
        let mut n = 0u64;
        while !self.stop.load(Ordering::SeqCst) {
            let opened =
                jiff::Timestamp::now() - jiff::SignedDuration::from_mins(OPENED_MINUTES_AGO);
            let body = json!({
                "title": format!("Nodes run {} writer {} write {n}", self.run, self.writer),
                "opened_at": opened.to_string(),
            });
            let reply = conn.send(&Request::post_json("/incidents", &body)).await;
            match reply {
                Ok(reply) if reply.status.as_u16() == 201 => {
                    let body: Value = serde_json::from_slice(&reply.body)?;
                    let key = body["key"]
                        .as_str()
                        .ok_or_else(|| anyhow!("a 201 without a key"))?;
                    self.acked
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push((key.to_owned(), on_a));
                    n += 1;
                    continue;
                }
                Ok(reply) if !on_a || !self.killed.load(Ordering::SeqCst) => {
                    bail!(
                        "create refused by node {}: {}",
                        if on_a { "A" } else { "B" },
                        describe(&reply)
                    )
                }
                Err(e) if !on_a => bail!("node B failed a create: {e:#}"),
                _ => {}
            }
            // Node A is dying or dead: once the killer says so, retry this create on B.
            if self.killed.load(Ordering::SeqCst) {
                let b = self.fallback.as_ref().context("a writer without node B")?;
                conn = Conn::new(Arc::clone(b));
                on_a = false;
            } else {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        Ok(())
    }
}

async fn wait_for_acks(acked: &Mutex<Vec<(String, bool)>>, at_least: usize) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap_or_else(PoisonError::into_inner).len() < at_least {
        if Instant::now() > deadline {
            bail!("fewer than {at_least} creates acknowledged within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

/// A clock on an acknowledged incident, and the threshold it must have been acted on.
#[derive(Debug, Clone)]
struct Clock {
    key: String,
    target: String,
    threshold: &'static str,
}

/// The threshold each clock target reaches at once (see the module comment).
fn due_threshold(target: &str) -> Option<&'static str> {
    match target {
        "first_response" => Some("breach"),
        "resolution" => Some("warning"),
        _ => None,
    }
}

/// Polls every incident's clocks until each shows its timer acted on (and not the other one);
/// returns the clocks by id, or fails at `deadline` naming what is still missing.
async fn await_timers(
    target: &Arc<Target>,
    keys: &[String],
    parallel: usize,
    deadline: Instant,
) -> anyhow::Result<HashMap<i64, Clock>> {
    let mut pending = keys.to_vec();
    let mut clocks = HashMap::new();
    loop {
        let chunk = pending.len().div_ceil(parallel.max(1)).max(1);
        let mut polls = JoinSet::new();
        for part in pending.chunks(chunk) {
            let (target, part) = (Arc::clone(target), part.to_vec());
            polls.spawn(async move {
                let mut conn = Conn::new(target);
                let mut seen = Vec::new();
                for key in part {
                    let reply = conn
                        .send(&Request::get(format!("/incidents/{key}/sla")))
                        .await?;
                    if reply.status.as_u16() != 200 {
                        bail!("acknowledged {key}'s clocks: {}", describe(&reply));
                    }
                    let body: Value = serde_json::from_slice(&reply.body)?;
                    seen.push((key, read_clocks(&body)?));
                }
                anyhow::Ok(seen)
            });
        }
        let mut still = Vec::new();
        let mut why = Vec::new();
        while let Some(done) = polls.join_next().await {
            for (key, found) in done.context("a poller panicked")?? {
                let problems = clock_problems(&key, &found);
                if problems.is_empty() {
                    for (id, target, threshold, _) in found {
                        clocks.insert(
                            id,
                            Clock {
                                key: key.clone(),
                                target,
                                threshold,
                            },
                        );
                    }
                } else {
                    why.extend(problems);
                    still.push(key);
                }
            }
        }
        if still.is_empty() {
            return Ok(clocks);
        }
        if Instant::now() > deadline {
            why.sort();
            let shown = why.iter().take(20).cloned().collect::<Vec<_>>().join("; ");
            bail!(
                "{} of {} incidents still lack timer actions {} s after writing stopped: {shown}",
                still.len(),
                keys.len(),
                LEASE_SECONDS + 60
            );
        }
        pending = still;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// (id, target, the threshold due, whether the clock shows it acted on and nothing else).
type ClockState = (i64, String, &'static str, Result<(), String>);

fn read_clocks(body: &Value) -> anyhow::Result<Vec<ClockState>> {
    let items = body
        .as_array()
        .ok_or_else(|| anyhow!("clocks are not a list: {body}"))?;
    items
        .iter()
        .map(|c| {
            let id = c["id"]
                .as_i64()
                .ok_or_else(|| anyhow!("a clock without id"))?;
            let target = c["target"].as_str().unwrap_or_default().to_owned();
            let threshold = due_threshold(&target)
                .ok_or_else(|| anyhow!("clock {id} has unexpected target `{target}`"))?;
            let (warned, breached) = (!c["warned_at"].is_null(), !c["breach_noted_at"].is_null());
            let state = c["state"].as_str().unwrap_or_default();
            let verdict = match threshold {
                "breach" if breached && !warned && state == "breached" => Ok(()),
                "warning" if warned && !breached && state == "running" => Ok(()),
                _ => Err(format!(
                    "clock {id} ({target}, {state}): warned_at {}, breach_noted_at {}",
                    c["warned_at"], c["breach_noted_at"]
                )),
            };
            Ok((id, target, threshold, verdict))
        })
        .collect()
}

fn clock_problems(key: &str, found: &[ClockState]) -> Vec<String> {
    let mut problems: Vec<String> = found
        .iter()
        .filter_map(|(_, _, _, v)| v.as_ref().err().map(|e| format!("{key} {e}")))
        .collect();
    if found.len() != 2 {
        problems.push(format!("{key} has {} clocks, not 2", found.len()));
    }
    problems
}

/// Counts the threshold actions journaled since `since` per clock: each clock of `clocks`
/// must have exactly one, for its due threshold, and no clock at all may have two. Returns how
/// many actions were counted on `clocks`.
async fn check_journal(
    target: &Arc<Target>,
    clocks: &HashMap<i64, Clock>,
    since: jiff::Timestamp,
) -> anyhow::Result<usize> {
    let mut conn = Conn::new(Arc::clone(target));
    let mut counts: BTreeMap<(i64, String), usize> = BTreeMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/journal?record_type=sla_clock&limit=500&since={since}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let reply = conn.send(&Request::get(path)).await?;
        if reply.status.as_u16() != 200 {
            bail!("reading the journal: {}", describe(&reply));
        }
        let page: Value = serde_json::from_slice(&reply.body)?;
        let items = page["items"]
            .as_array()
            .ok_or_else(|| anyhow!("a journal page without items"))?;
        for entry in items {
            let id = entry["record_id"].as_i64().unwrap_or_default();
            for threshold in ["warning", "breach"] {
                if !entry["after"][threshold].is_null() {
                    *counts.entry((id, threshold.to_owned())).or_default() += 1;
                }
            }
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let mut problems = Vec::new();
    for ((id, threshold), n) in &counts {
        if *n > 1 {
            problems.push(format!("clock {id}: {threshold} journaled {n} times"));
        }
        if let Some(clock) = clocks.get(id)
            && clock.threshold != threshold
        {
            problems.push(format!(
                "clock {id} ({} {}): unexpected {threshold}",
                clock.key, clock.target
            ));
        }
    }
    let mut acted = 0;
    for (id, clock) in clocks {
        match counts.get(&(*id, clock.threshold.to_owned())) {
            Some(1) => acted += 1,
            Some(_) => {}
            None => problems.push(format!(
                "clock {id} ({} {}): {} never journaled",
                clock.key, clock.target, clock.threshold
            )),
        }
    }
    if !problems.is_empty() {
        problems.sort();
        let shown = problems
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ");
        bail!(
            "{} timer actions not journaled exactly once: {shown}",
            problems.len()
        );
    }
    Ok(acted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_target_has_the_threshold_it_reaches_at_once() {
        assert_eq!(due_threshold("first_response"), Some("breach"));
        assert_eq!(due_threshold("resolution"), Some("warning"));
        assert_eq!(due_threshold("fulfilment"), None);
    }

    #[test]
    fn a_clock_must_show_only_its_own_threshold() {
        let clocks = json!([
            {"id": 1, "target": "first_response", "state": "breached",
             "warned_at": null, "breach_noted_at": "2026-01-01T00:00:00Z"},
            {"id": 2, "target": "resolution", "state": "running",
             "warned_at": null, "breach_noted_at": null}
        ]);
        let found = read_clocks(&clocks).expect("clocks");
        assert!(found[0].3.is_ok());
        assert!(found[1].3.is_err());
        assert_eq!(clock_problems("INC-1", &found).len(), 1);
    }
}
