//! `steward-nodes`: proof that two `steward serve` nodes on one PostgreSQL database share the
//! work, run every SLA timer and notification job exactly once, and survive losing one of them.
//!
//! Each run starts nodes A and B, both with the job runner and a short job lease, and has
//! writers (half on each node) open incidents that started 45 minutes ago under a 30-minute
//! first response and 60-minute resolution agreement. So every incident is created with two
//! timers due at once: its first response clock's breach and its resolution clock's warning
//! (a clock already breached is never warned; the resolution breach is 15 minutes away and not
//! awaited). After about two seconds node A is killed with SIGKILL, its writers carry on
//! against B (retrying the create A did not answer), and writing stops two seconds later.
//! Then, talking to B only, every acknowledged incident must show both timers acted on within
//! [`SETTLE_SECONDS`] (jobs A held are B's once their lease expires), the journal must
//! record each action exactly once, and `steward audit verify` must pass.
//!
//! Every incident also names a requester contact, so its creation queues an "opened"
//! notification, sent by a `mail.send` job to a mail sink ([`crate::smtp`]). Each node sends as
//! its own From address. Every acknowledged incident's notification must arrive, and no message
//! may arrive twice, except one that node A had handed to the sink when it was killed, before it
//! could mark it sent: B sends that one again once A's lease expires. A node runs one job at a
//! time, so there is at most one such message, and it must have come from A first.

use crate::crash::{Server, TIMEOUT, cli, prepare_tenant};
use crate::http::{Conn, Request, Target, describe};
use crate::scenarios::mix;
use crate::smtp::{Delivered, Sink};
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
/// How long after writing stops every timer and notification must have been acted on: the
/// lease, then B working through some two thousand jobs alone (a debug build on two shared
/// cores took under a minute), with room to spare. A correctness bound, not a speed figure.
pub const SETTLE_SECONDS: u64 = LEASE_SECONDS + 180;
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
    /// Notifications that reached the mail sink (each acknowledged incident's at least).
    pub notifications: usize,
    /// Messages node A delivered but was killed before marking sent, and B sent again (0 or 1).
    pub resent_after_kill: usize,
    pub killed_after_ms: u64,
    /// From the end of writing until every timer had been acted on.
    pub settled_after_ms: u64,
}

impl RunReport {
    pub fn to_json_line(&self) -> String {
        json!({
            "scenario": "nodes", "run": self.run, "incidents": self.incidents,
            "by_node_a": self.by_node_a, "by_node_b": self.by_node_b, "clocks": self.clocks,
            "thresholds_acted": self.thresholds_acted, "notifications": self.notifications,
            "resent_after_kill": self.resent_after_kill, "missing": 0, "duplicates": 0,
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
    /// The requester every incident names, once the first run has created it.
    contact: Option<Requester>,
}

/// A customer and its contact with an e-mail address.
#[derive(Debug, Clone, Copy)]
struct Requester {
    customer_id: i64,
    contact_id: i64,
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
            contact: None,
        })
    }

    /// One run: two nodes, write to both, kill A, check every timer on B, verify.
    pub async fn run(&mut self, run: u32) -> anyhow::Result<RunReport> {
        let started = jiff::Timestamp::now();
        let lease = LEASE_SECONDS.to_string();
        let node_args = ["--job-lease", lease.as_str()];
        let sink = Sink::start().await?;
        let mut node_a = self.node(&node_args, &sink, NODE_A_FROM).await?;
        let mut node_b = self.node(&node_args, &sink, NODE_B_FROM).await?;
        let a = Arc::new(Target::new(&node_a.base_url(), &self.token, TIMEOUT).await?);
        let b = Arc::new(Target::new(&node_b.base_url(), &self.token, TIMEOUT).await?);
        let requester = match self.contact {
            Some(requester) => requester,
            None => {
                create_agreement(&b).await?;
                let requester = create_requester(&b).await?;
                self.contact = Some(requester);
                requester
            }
        };

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
                requester,
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
        let deadline = written + Duration::from_secs(SETTLE_SECONDS);
        let clocks = await_timers(&b, &keys, self.writers, deadline).await?;
        let thresholds_acted = check_journal(&b, &clocks, started).await?;
        let notifications = await_notifications(&sink, &keys, deadline).await?;
        let settled_after_ms = written.elapsed().as_millis() as u64;
        let resent_after_kill = check_deliveries(&sink.delivered())?;
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
            notifications,
            resent_after_kill,
            killed_after_ms: kill_ms,
            settled_after_ms,
        })
    }

    /// A node with the job runner, sending mail to `sink` as `from`.
    async fn node(&self, args: &[&str], sink: &Sink, from: &str) -> anyhow::Result<Server> {
        let env = [
            ("STEWARD_SMTP_URL", sink.url()),
            ("STEWARD_MAIL_FROM", from),
        ];
        Server::start(&self.steward, &self.database_url, args, &env).await
    }
}

/// The From addresses the nodes send as, which tell the sink who delivered a message.
const NODE_A_FROM: &str = "Node A <node-a@steward.test>";
const NODE_B_FROM: &str = "Node B <node-b@steward.test>";

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

/// A customer with one contact, the requester of every incident: its notifications go to the
/// contact's address.
async fn create_requester(target: &Arc<Target>) -> anyhow::Result<Requester> {
    let mut conn = Conn::new(Arc::clone(target));
    let customer_id = created_id(
        &mut conn,
        "/customers",
        &json!({"name": "Nodes Customer"}),
        "the customer",
    )
    .await?;
    let contact = json!({"name": "Nora Nodes", "email": "nora@nodes.test"});
    let path = format!("/customers/{customer_id}/contacts");
    let contact_id = created_id(&mut conn, &path, &contact, "the contact").await?;
    Ok(Requester {
        customer_id,
        contact_id,
    })
}

/// POSTs `body` to `path` and answers the new record's `id`.
async fn created_id(conn: &mut Conn, path: &str, body: &Value, what: &str) -> anyhow::Result<i64> {
    let reply = conn.send(&Request::post_json(path, body)).await?;
    if reply.status.as_u16() != 201 {
        bail!("creating {what}: {}", describe(&reply));
    }
    let created: Value = serde_json::from_slice(&reply.body)?;
    created["id"]
        .as_i64()
        .ok_or_else(|| anyhow!("{what} came back without an id: {created}"))
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
    requester: Requester,
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
                "customer_id": self.requester.customer_id,
                "requester_contact_id": self.requester.contact_id,
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

/// Waits until every incident of `keys` has had a notification delivered (its subject starts
/// `[KEY]`); answers how many messages arrived in all, or fails at `deadline` naming the
/// incidents still waiting.
async fn await_notifications(
    sink: &Sink,
    keys: &[String],
    deadline: Instant,
) -> anyhow::Result<usize> {
    loop {
        let delivered = sink.delivered();
        let missing = without_notification(keys, &delivered);
        if missing.is_empty() {
            return Ok(delivered.len());
        }
        if Instant::now() > deadline {
            let shown = missing.iter().take(20).cloned().collect::<Vec<_>>();
            bail!(
                "{} of {} incidents never had their notification delivered: {}",
                missing.len(),
                keys.len(),
                shown.join(", ")
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The keys no delivered message is about.
fn without_notification(keys: &[String], delivered: &[Delivered]) -> Vec<String> {
    let about: std::collections::HashSet<&str> = delivered
        .iter()
        .filter_map(|d| d.subject.strip_prefix('[')?.split_once(']'))
        .map(|(key, _)| key)
        .collect();
    keys.iter()
        .filter(|k| !about.contains(k.as_str()))
        .cloned()
        .collect()
}

/// Which node sent a message, from its From address.
fn sender(message: &Delivered) -> &'static str {
    if message.from.contains("node-a@") {
        "A"
    } else if message.from.contains("node-b@") {
        "B"
    } else {
        "?"
    }
}

/// Checks that no message arrived twice, except at most one that A delivered and B sent again
/// after A was killed; answers how many of those there were.
fn check_deliveries(delivered: &[Delivered]) -> anyhow::Result<usize> {
    let mut senders: BTreeMap<&str, Vec<&'static str>> = BTreeMap::new();
    for message in delivered {
        senders
            .entry(message.message_id.as_str())
            .or_default()
            .push(sender(message));
    }
    let mut resent = 0;
    let mut problems = Vec::new();
    for (id, by) in &senders {
        match by.as_slice() {
            [_] => {}
            ["A", "B"] => resent += 1,
            _ => problems.push(format!("{id} delivered by {}", by.join(", then "))),
        }
    }
    if resent > 1 {
        problems.push(format!(
            "{resent} messages sent again after the kill; node A runs one job at a time, so at \
             most one can have been in flight"
        ));
    }
    if !problems.is_empty() {
        let shown = problems.iter().take(20).cloned().collect::<Vec<_>>();
        bail!("notification jobs ran more than once: {}", shown.join("; "));
    }
    Ok(resent)
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
                SETTLE_SECONDS
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

    fn message(id: &str, from: &str, subject: &str) -> Delivered {
        Delivered {
            message_id: id.into(),
            from: from.into(),
            subject: subject.into(),
        }
    }

    #[test]
    fn an_incident_without_a_message_about_it_is_missing() {
        let delivered = [message("m1", NODE_A_FROM, "[INC-1] Nodes run 1")];
        let keys = ["INC-1".to_owned(), "INC-10".to_owned()];
        assert_eq!(without_notification(&keys, &delivered), ["INC-10"]);
    }

    #[test]
    fn only_a_message_a_delivered_before_the_kill_may_arrive_twice() {
        let once = [
            message("m1", NODE_A_FROM, "[INC-1] x"),
            message("m2", NODE_B_FROM, "[INC-2] x"),
        ];
        assert_eq!(check_deliveries(&once).expect("fine"), 0);
        let resent = [
            once[0].clone(),
            once[1].clone(),
            message("m1", NODE_B_FROM, "[INC-1] x"),
        ];
        assert_eq!(check_deliveries(&resent).expect("fine"), 1);
        let by_b_twice = [once[1].clone(), once[1].clone()];
        assert!(check_deliveries(&by_b_twice).is_err());
        let b_then_a = [once[1].clone(), message("m2", NODE_A_FROM, "[INC-2] x")];
        assert!(check_deliveries(&b_then_a).is_err());
        let two_resent = [
            once[0].clone(),
            message("m3", NODE_A_FROM, "[INC-3] x"),
            message("m1", NODE_B_FROM, "[INC-1] x"),
            message("m3", NODE_B_FROM, "[INC-3] x"),
        ];
        assert!(check_deliveries(&two_resent).is_err());
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
