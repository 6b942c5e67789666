//! The `steward` binary as an operator uses it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

struct Sandbox {
    dir: PathBuf,
    url: String,
}

impl Sandbox {
    fn new(name: &str) -> Sandbox {
        let dir = std::env::temp_dir().join(format!("steward-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let url = format!("sqlite://{}", dir.join("steward.db").display());
        Sandbox { dir, url }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_steward"));
        cmd.args(args)
            .current_dir(&self.dir)
            .env("STEWARD_DATABASE_URL", &self.url)
            .env_remove("STEWARD_CONFIG");
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args)
            .stdin(Stdio::null())
            .output()
            .expect("run steward")
    }

    fn run_with_input(&self, args: &[&str], input: &str) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write");
        child.wait_with_output().expect("wait")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "steward {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn last_line(text: &str) -> &str {
    text.trim_end().lines().last().unwrap_or_default()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn administration_from_the_command_line() {
    let s = Sandbox::new("admin");
    s.ok(&["init"]);
    s.ok(&["init"]);
    assert_eq!(
        last_line(&s.ok(&["tenant", "create", "--name", "Acme IT"])),
        "acme-it"
    );
    let created = s.run_with_input(
        &[
            "user",
            "create",
            "--tenant",
            "acme-it",
            "--email",
            "ann@acme.test",
            "--role",
            "admin",
            "--password-stdin",
        ],
        "correct horse battery staple\n",
    );
    assert!(created.status.success(), "{}", stderr(&created));
    s.ok(&[
        "user",
        "create",
        "--tenant",
        "acme-it",
        "--email",
        "bob@acme.test",
        "--role",
        "auditor",
    ]);
    assert!(
        s.ok(&["user", "list", "--tenant", "acme-it"])
            .contains("bob@acme.test\tauditor")
    );
    let token = last_line(&s.ok(&[
        "token",
        "create",
        "--tenant",
        "acme-it",
        "--email",
        "ann@acme.test",
        "--name",
        "ci",
    ]))
    .to_owned();
    assert!(token.starts_with("stw_") && token.len() == 68, "{token}");
    let listed = s.ok(&["token", "list", "--tenant", "acme-it"]);
    assert!(
        listed.contains("ci") && !listed.contains(&token),
        "tokens are listed without their secret"
    );
    let id = listed.split('\t').next().unwrap_or_default().to_owned();
    assert!(
        s.ok(&["token", "revoke", "--tenant", "acme-it", "--id", &id])
            .contains("revoked")
    );
    let verified = s.ok(&["audit", "verify"]);
    // tenant, two users, the token, its revocation
    assert!(verified.contains("5 entries checked"), "{verified}");
}

#[test]
fn mistakes_get_one_clear_line() {
    let s = Sandbox::new("mistakes");
    s.ok(&["init"]);
    s.ok(&["tenant", "create", "--name", "Acme IT"]);
    let cases: [(&[&str], &str); 5] = [
        (
            &[
                "user",
                "create",
                "--tenant",
                "acme-it",
                "--email",
                "x@acme.test",
                "--role",
                "root",
            ],
            "unknown role `root`",
        ),
        (
            &[
                "user",
                "create",
                "--tenant",
                "nope",
                "--email",
                "x@acme.test",
                "--role",
                "agent",
            ],
            "no tenant with slug `nope`",
        ),
        (
            &[
                "user",
                "create",
                "--tenant",
                "acme-it",
                "--email",
                "not-an-email",
                "--role",
                "agent",
            ],
            "e-mail address",
        ),
        (&["tenant", "create", "--name", "Acme IT"], "already exists"),
        (
            &[
                "token",
                "create",
                "--tenant",
                "acme-it",
                "--email",
                "ghost@acme.test",
            ],
            "no user ghost@acme.test",
        ),
    ];
    for (args, message) in cases {
        let out = s.run(args);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = stderr(&out);
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains(message),
            "{args:?}: {err}"
        );
        assert!(
            !err.contains("panicked") && !err.contains("backtrace"),
            "{err}"
        );
    }
    let weak = s.run_with_input(
        &[
            "user",
            "create",
            "--tenant",
            "acme-it",
            "--email",
            "w@acme.test",
            "--role",
            "agent",
            "--password-stdin",
        ],
        "short\n",
    );
    assert!(
        stderr(&weak).contains("at least 10 characters"),
        "{}",
        stderr(&weak)
    );
    let bad_url = Sandbox::new("badurl");
    let out = bad_url
        .command(&["init", "--database", "mysql://x"])
        .output()
        .expect("run");
    assert!(
        stderr(&out).contains("unsupported database URL"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn every_command_explains_itself() {
    let s = Sandbox::new("help");
    for args in [
        vec!["--help"],
        vec!["init", "--help"],
        vec!["serve", "--help"],
        vec!["demo", "--help"],
        vec!["tenant", "create", "--help"],
        vec!["user", "create", "--help"],
        vec!["user", "password", "--help"],
        vec!["token", "create", "--help"],
        vec!["token", "revoke", "--help"],
        vec!["audit", "verify", "--help"],
    ] {
        let out = s.ok(&args);
        assert!(out.contains("Usage:"), "{args:?}: {out}");
    }
    assert!(s.ok(&["--help"]).contains("STEWARD_DATABASE_URL"));
}

#[test]
fn audit_verify_names_the_tampered_entry() {
    let s = Sandbox::new("tamper");
    s.ok(&["init"]);
    s.ok(&["tenant", "create", "--name", "Acme IT"]);
    s.ok(&[
        "user",
        "create",
        "--tenant",
        "acme-it",
        "--email",
        "a@acme.test",
        "--role",
        "agent",
    ]);
    s.ok(&[
        "user",
        "create",
        "--tenant",
        "acme-it",
        "--email",
        "b@acme.test",
        "--role",
        "agent",
    ]);
    assert!(s.ok(&["audit", "verify"]).contains("3 entries checked"));
    tamper(
        &s.dir.join("steward.db"),
        "UPDATE journal SET actor = 'someone else' WHERE seq = 2",
    );
    let out = s.run(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("entry 2"), "{}", stderr(&out));
}

/// Edits the database behind Steward's back, as an intruder would.
fn tamper(db: &Path, statement: &str) {
    let url = format!("sqlite://{}", db.display());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let store = steward_store::Store::connect(&url, steward_store::PoolConfig::default())
            .await
            .expect("connect");
        store
            .execute_raw_for_tests(statement)
            .await
            .expect("tamper");
        store.close().await;
    });
}

fn http_get(addr: &str, path: &str) -> String {
    http_get_as(addr, path, None)
}

fn http_get_as(addr: &str, path: &str, token: Option<&str>) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"
    )
    .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    response
}

/// Starts `steward ARGS --listen 127.0.0.1:0`; returns the process, its address and the
/// next `extra` lines it printed.
fn start(s: &Sandbox, args: &[&str], extra: usize) -> (std::process::Child, String, Vec<String>) {
    let mut full = args.to_vec();
    full.extend(["--listen", "127.0.0.1:0"]);
    let mut child = s
        .command(&full)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = lines.next().expect("a line").expect("utf-8");
    let addr = first
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected: {first}"))
        .to_owned();
    let rest = lines
        .by_ref()
        .take(extra)
        .map(|l| l.expect("utf-8"))
        .collect();
    (child, addr, rest)
}

/// Sends SIGTERM and waits for a clean exit.
fn stop(mut child: std::process::Child) {
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill")
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "exit status {status}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serve_answers_and_stops_cleanly_on_sigterm() {
    let s = Sandbox::new("serve");
    s.ok(&["init"]);
    let (child, addr, _) = start(&s, &["serve"], 0);
    let health = http_get(&addr, "/healthz");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(http_get(&addr, "/readyz").starts_with("HTTP/1.1 200"));
    stop(child);
}

#[test]
fn demo_seeds_once_and_serves() {
    let s = Sandbox::new("demo");
    let (child, addr, logins) = start(&s, &["demo"], 8);
    let text = logins.join("\n");
    for role in ["admin", "manager", "agent", "auditor", "requester"] {
        assert!(text.contains(role), "demo logins lack {role}: {text}");
    }
    assert!(text.contains("steward-demo"), "{text}");
    assert!(http_get(&addr, "/login").contains("Sign in"));
    let token_out = s.ok(&[
        "token",
        "create",
        "--tenant",
        "meridian-it",
        "--email",
        "admin@meridian.test",
    ]);
    let token = last_line(&token_out);
    let incidents = http_get_as(&addr, "/api/v1/incidents?limit=100", Some(token));
    assert_eq!(
        incidents.matches("\"key\":\"INC-").count(),
        10,
        "{incidents}"
    );
    let problems = http_get_as(&addr, "/api/v1/problems", Some(token));
    assert!(problems.contains("\"known_error\":\"KE-1\""), "{problems}");
    let requests = http_get_as(&addr, "/api/v1/requests", Some(token));
    assert!(requests.contains("\"key\":\"REQ-2\""), "{requests}");
    stop(child);
    let entries = s.ok(&["audit", "verify"]);
    let (again, _, _) = start(&s, &["demo"], 0);
    stop(again);
    assert_eq!(
        s.ok(&["tenant", "list"]).lines().count(),
        1,
        "a second demo reuses the organisation"
    );
    assert_eq!(
        s.ok(&["audit", "verify"]),
        entries,
        "and adds nothing to it"
    );
}
