//! `steward-crash`: proof that a kill never loses an acknowledged write.
//!
//! Each run starts `steward serve` on the database, has several writers open incidents as
//! fast as the server takes them, and remembers every create the server acknowledged (a 201
//! with the new key). At a random moment it kills the server with SIGKILL, starts it again,
//! and reads back every write acknowledged so far, in this run and all earlier ones: each
//! must be there with its own title. Then `steward audit verify` must find the journal's hash
//! chain intact. Runs accumulate on the same database, so later runs restart a server that
//! has been killed several times already.

use crate::http::{Conn, Request, Target, describe};
use crate::scenarios::mix;
use anyhow::{Context, anyhow, bail};
use serde_json::{Value, json};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};
use tokio::task::JoinSet;

/// What one crash run found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunReport {
    pub run: u32,
    /// Creates acknowledged in this run before the kill.
    pub acknowledged: usize,
    /// Acknowledged creates (of every run so far) checked after the restart.
    pub checked: usize,
    pub killed_after_ms: u64,
}

impl RunReport {
    pub fn to_json_line(&self) -> String {
        json!({
            "scenario": "crash", "run": self.run, "acknowledged": self.acknowledged,
            "checked": self.checked, "missing": 0, "killed_after_ms": self.killed_after_ms,
            "audit_verify": "ok",
        })
        .to_string()
    }
}

/// How to reach the server under test.
pub struct Harness {
    steward: PathBuf,
    database_url: String,
    token: String,
    writers: usize,
    seed: u64,
    /// Every acknowledged create so far: key and title.
    acknowledged: Vec<(String, String)>,
}

impl Harness {
    /// Prepares the database (schema, a tenant, an agent and its API token) with the
    /// `steward` binary at `steward`.
    pub async fn prepare(
        steward: &Path,
        database_url: &str,
        writers: usize,
        seed: u64,
    ) -> anyhow::Result<Harness> {
        let token = prepare_tenant(steward, database_url, "crash", "agent", seed).await?;
        Ok(Harness {
            steward: steward.to_owned(),
            database_url: database_url.to_owned(),
            token,
            writers,
            seed,
            acknowledged: Vec::new(),
        })
    }

    /// One run: write, kill at a random moment, restart, check, verify.
    pub async fn run(&mut self, run: u32) -> anyhow::Result<RunReport> {
        let mut server = Server::start(&self.steward, &self.database_url, &[], &[]).await?;
        let target = Arc::new(Target::new(&server.base_url(), &self.token, TIMEOUT).await?);
        let acked = Arc::new(Mutex::new(Vec::new()));
        let killed = Arc::new(AtomicBool::new(false));
        let mut writers = JoinSet::new();
        for w in 0..self.writers {
            let (target, acked, killed) =
                (Arc::clone(&target), Arc::clone(&acked), Arc::clone(&killed));
            writers.spawn(write_until_killed(target, acked, killed, run, w));
        }
        // Kill only once writes flow, then after a random further delay.
        wait_for_acks(&acked, 20).await?;
        let delay_ms = 50 + mix(self.seed ^ u64::from(run)) % 1_200;
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        server.kill().await?;
        killed.store(true, Ordering::SeqCst);
        while let Some(done) = writers.join_next().await {
            done.context("a writer panicked")??;
        }
        let this_run = std::mem::take(&mut *acked.lock().unwrap_or_else(PoisonError::into_inner));
        let acknowledged = this_run.len();
        self.acknowledged.extend(this_run);

        let mut server = Server::start(&self.steward, &self.database_url, &[], &[]).await?;
        let target = Arc::new(Target::new(&server.base_url(), &self.token, TIMEOUT).await?);
        check_all(&target, &self.acknowledged, self.writers).await?;
        server.kill().await?;
        let verified = cli(
            &self.steward,
            &self.database_url,
            &["audit", "verify"],
            None,
        )
        .await;
        verified.context("`steward audit verify` after the restart")?;
        Ok(RunReport {
            run,
            acknowledged,
            checked: self.acknowledged.len(),
            killed_after_ms: delay_ms,
        })
    }
}

pub(crate) const TIMEOUT: Duration = Duration::from_secs(10);

/// Prepares the database: the schema, a tenant named after `label` and `seed`, a user with
/// `role` in it and an API token for them, which it returns.
pub(crate) async fn prepare_tenant(
    steward: &Path,
    database_url: &str,
    label: &str,
    role: &str,
    seed: u64,
) -> anyhow::Result<String> {
    cli(steward, database_url, &["init"], None).await?;
    let mut name = format!("{label} {seed}");
    name[..1].make_ascii_uppercase();
    let created = cli(
        steward,
        database_url,
        &["tenant", "create", "--name", &name],
        None,
    )
    .await?;
    let slug = last_line(&created)?;
    let email = format!("{label}-{seed}@{label}.test");
    cli(
        steward,
        database_url,
        &[
            "user",
            "create",
            "--tenant",
            &slug,
            "--email",
            &email,
            "--role",
            role,
            "--password-stdin",
        ],
        Some(&format!("{label}-password-123")),
    )
    .await?;
    let token = cli(
        steward,
        database_url,
        &[
            "token", "create", "--tenant", &slug, "--email", &email, "--name", label,
        ],
        None,
    )
    .await?;
    last_line(&token)
}

/// Opens incidents until the server dies; records each acknowledged one.
async fn write_until_killed(
    target: Arc<Target>,
    acked: Arc<Mutex<Vec<(String, String)>>>,
    killed: Arc<AtomicBool>,
    run: u32,
    writer: usize,
) -> anyhow::Result<()> {
    let mut conn = Conn::new(target);
    for n in 0u64.. {
        let title = format!("Crash run {run} writer {writer} write {n}");
        let request = Request::post_json("/incidents", &json!({ "title": title }));
        match conn.send(&request).await {
            Ok(reply) if reply.status.as_u16() == 201 => {
                let body: Value = serde_json::from_slice(&reply.body)?;
                let key = body["key"]
                    .as_str()
                    .ok_or_else(|| anyhow!("a 201 without a key"))?;
                acked
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push((key.to_owned(), title));
            }
            // Refused writes were not acknowledged; the server must not answer them at all.
            Ok(reply) if !killed.load(Ordering::SeqCst) => {
                bail!("create refused before the kill: {}", describe(&reply))
            }
            Ok(_) | Err(_) if killed.load(Ordering::SeqCst) => return Ok(()),
            Ok(_) => {}
            // The connection died with the server; wait for the killer to say so.
            Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
    Ok(())
}

async fn wait_for_acks(
    acked: &Mutex<Vec<(String, String)>>,
    at_least: usize,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap_or_else(PoisonError::into_inner).len() < at_least {
        if Instant::now() > deadline {
            bail!("fewer than {at_least} creates acknowledged within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

/// Reads every acknowledged incident back, `parallel` at a time; fails on the first missing.
async fn check_all(
    target: &Arc<Target>,
    acknowledged: &[(String, String)],
    parallel: usize,
) -> anyhow::Result<()> {
    let chunk = acknowledged.len().div_ceil(parallel.max(1)).max(1);
    let mut checks = JoinSet::new();
    for part in acknowledged.chunks(chunk) {
        let (target, part) = (Arc::clone(target), part.to_vec());
        checks.spawn(async move {
            let mut conn = Conn::new(target);
            for (key, title) in part {
                let reply = conn
                    .send(&Request::get(format!("/incidents/{key}")))
                    .await?;
                if reply.status.as_u16() != 200 {
                    bail!("acknowledged {key} is lost: {}", describe(&reply));
                }
                let body: Value = serde_json::from_slice(&reply.body)?;
                if body["title"] != title.as_str() {
                    bail!("acknowledged {key} came back as {}", body["title"]);
                }
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = checks.join_next().await {
        done.context("a checker panicked")??;
    }
    Ok(())
}

/// A `steward serve` child process on a free local port.
pub(crate) struct Server {
    child: Child,
    port: u16,
}

impl Server {
    /// Starts `steward serve` with `extra` arguments and environment `env`, and waits until it
    /// listens.
    pub(crate) async fn start(
        steward: &Path,
        database_url: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> anyhow::Result<Server> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(steward)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(extra)
            .env("STEWARD_DATABASE_URL", database_url)
            .env("STEWARD_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", steward.display()))?;
        let mut server = Server { child, port };
        server.wait_until_ready().await?;
        Ok(server)
    }

    pub(crate) fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn wait_until_ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("steward serve exited at start: {status}");
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("steward serve did not listen within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL: no shutdown hook runs, nothing is flushed on the way out.
    pub(crate) async fn kill(&mut self) -> anyhow::Result<()> {
        self.child.kill().await.context("killing the server")
    }
}

/// Runs a `steward` command on the database; its standard output, or why it failed.
pub(crate) async fn cli(
    steward: &Path,
    database_url: &str,
    args: &[&str],
    stdin: Option<&str>,
) -> anyhow::Result<String> {
    use tokio::io::AsyncWriteExt;
    let mut child = Command::new(steward)
        .args(args)
        .env("STEWARD_DATABASE_URL", database_url)
        .env("STEWARD_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", steward.display()))?;
    if let (Some(text), Some(mut input)) = (stdin, child.stdin.take()) {
        input.write_all(text.as_bytes()).await?;
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().await?;
    if !out.status.success() {
        bail!(
            "steward {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn last_line(text: &str) -> anyhow::Result<String> {
    text.lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("the command printed nothing"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slug_is_the_last_printed_line() {
        assert_eq!(
            last_line("created tenant Crash 1 (3)\ncrash-1\n\n").ok(),
            Some("crash-1".to_owned())
        );
        assert!(last_line("\n").is_err());
    }
}
