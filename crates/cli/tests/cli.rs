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

/// In a JSON list page (`{"items": [...]}`, after the response's headers), the `want` field
/// of the item whose `key` is `value`.
fn field_of(response: &str, key: &str, value: &str, want: &str) -> String {
    let page = response.find('{').map_or(response, |at| &response[at..]);
    let page: serde_json::Value =
        serde_json::from_str(page).unwrap_or_else(|e| panic!("{e}: {page}"));
    let item = page["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i[key] == value))
        .unwrap_or_else(|| panic!("no item with {key} {value} in {page}"));
    match &item[want] {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
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
        vec!["mail-in", "--help"],
        vec!["sla", "recompute", "--help"],
        vec!["backup", "--help"],
        vec!["restore", "--help"],
    ] {
        let out = s.ok(&args);
        assert!(out.contains("Usage:"), "{args:?}: {out}");
    }
    assert!(s.ok(&["--help"]).contains("STEWARD_DATABASE_URL"));
}

#[test]
fn a_backup_restores_into_a_new_database() {
    let s = Sandbox::new("backup");
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
    let help = s.ok(&["backup", "--help"]);
    assert!(
        help.contains("online") && help.contains("consistent"),
        "{help}"
    );
    let help = s.ok(&["restore", "--help"]);
    assert!(help.contains("empty database of either backend"), "{help}");
    assert!(help.contains("steward init"), "{help}");

    let out = s.ok(&["backup", "--out", "acme.backup"]);
    let tables = steward_store::backup::TABLES.len();
    assert!(
        last_line(&out).starts_with(&format!("backed up {tables} tables, ")),
        "{out}"
    );
    assert!(s.dir.join("acme.backup").is_file());
    assert!(!s.dir.join("acme.backup.tmp").exists());

    let restored = format!("sqlite://{}", s.dir.join("restored.db").display());
    let run = |args: &[&str]| {
        s.command(args)
            .env("STEWARD_DATABASE_URL", &restored)
            .stdin(Stdio::null())
            .output()
            .expect("run steward")
    };
    assert!(run(&["init"]).status.success());
    let out = run(&["restore", "acme.backup"]);
    assert!(out.status.success(), "restore: {}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        last_line(&text).starts_with(&format!("restored {tables} tables, ")),
        "{text}"
    );
    let out = run(&["audit", "verify"]);
    assert!(out.status.success(), "verify: {}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 entries checked"));
    let out = run(&["tenant", "list"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("acme-it"));

    // A second restore into the now filled database is refused.
    let out = run(&["restore", "acme.backup"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not empty"), "{}", stderr(&out));
    // A missing file is named.
    let out = s.run(&["restore", "missing.backup"]);
    assert!(stderr(&out).contains("cannot open"), "{}", stderr(&out));
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
        // Ten on the desk now, and the requester's eight portal tickets of the year (8.3.2-f).
        18,
        "{incidents}"
    );
    let problems = http_get_as(&addr, "/api/v1/problems", Some(token));
    assert!(problems.contains("\"known_error\":\"KE-1\""), "{problems}");
    let requests = http_get_as(&addr, "/api/v1/requests", Some(token));
    assert!(requests.contains("\"key\":\"REQ-2\""), "{requests}");
    let articles = http_get_as(&addr, "/api/v1/knowledge?status=published", Some(token));
    assert_eq!(articles.matches("\"key\":\"KB-").count(), 3, "{articles}");
    let cis = http_get_as(&addr, "/api/v1/cis?limit=100&q=core-sw-01", Some(token));
    let core = field_of(&cis, "name", "core-sw-01", "id");
    let impact = http_get_as(
        &addr,
        &format!("/api/v1/cis/{core}/impact?direction=downstream"),
        Some(token),
    );
    for hit in ["Customer Portal Web", "Payroll App", "Mail Platform"] {
        assert!(
            impact.contains(hit),
            "the core switch's impact lacks {hit}: {impact}"
        );
    }
    let changes = http_get_as(&addr, "/api/v1/changes?limit=100", Some(token));
    assert_eq!(changes.matches("\"key\":\"CHG-").count(), 8, "{changes}");
    let ncs = http_get_as(&addr, "/api/v1/nonconformities", Some(token));
    assert!(ncs.contains("\"reference\":\"NC-5\""), "{ncs}");
    assert!(ncs.contains("\"status\":\"closed\""), "{ncs}");
    assert!(ncs.contains("\"overdue_actions\":1"), "{ncs}");
    let gaps = http_get_as(&addr, "/api/v1/competence/gaps", Some(token));
    for standing in ["competent", "expiring", "gap_actioned"] {
        assert!(
            gaps.contains(&format!("\"standing\":\"{standing}\"")),
            "the demo's competence lacks {standing}: {gaps}"
        );
    }
    let designs = http_get_as(&addr, "/api/v1/service-designs", Some(token));
    assert!(designs.contains("\"status\":\"accepted\""), "{designs}");
    assert!(designs.contains("\"status\":\"in_design\""), "{designs}");
    let video = http_get_as(&addr, "/api/v1/services?q=video", Some(token));
    assert!(video.contains("\"status\":\"live\""), "{video}");
    let expiring = http_get_as(&addr, "/api/v1/assets/expiring?days=30", Some(token));
    assert!(expiring.contains("\"tag\":\"LT-0102\""), "{expiring}");
    let server = http_get_as(&addr, "/api/v1/assets?q=SRV-0003", Some(token));
    assert!(
        !server.contains("\"ci_ids\":[]"),
        "the db server is linked to db-01: {server}"
    );
    let releases = http_get_as(&addr, "/api/v1/releases", Some(token));
    assert_eq!(
        field_of(&releases, "title", "Mail Platform 2025.3", "status"),
        "deployed",
        "{releases}"
    );
    assert_eq!(
        field_of(&releases, "title", "Customer Portal 4.9", "status"),
        "in_test",
        "{releases}"
    );
    let mail = http_get_as(&addr, "/api/v1/cis?q=Mail%20Platform", Some(token));
    assert!(
        mail.contains("\"version\":\"2025.3\""),
        "the production deployment set the version: {mail}"
    );
    let certificates = http_get_as(&addr, "/api/v1/certificates", Some(token));
    assert_eq!(
        field_of(&certificates, "number", "ITSM-20K-2026-0417", "status"),
        "valid",
        "{certificates}"
    );
    assert_eq!(
        field_of(&certificates, "number", "ITSM-20K-2022-0112", "status"),
        "expired",
        "{certificates}"
    );
    let documents = http_get_as(&addr, "/api/v1/documents?kind=scope", Some(token));
    assert!(
        documents.contains("\"reference\":\"SMS-SCOPE-01\"") && documents.contains("\"number\":2"),
        "the scope is in force at v2: {documents}"
    );
    let overdue = http_get_as(&addr, "/api/v1/documents?overdue=true", Some(token));
    assert!(overdue.contains("PRC-PRB-01"), "{overdue}");
    let public = http_get(&addr, "/verify/ITSM-20K-2026-0417");
    assert!(public.contains("<strong>Valid</strong>"), "{public}");
    assert!(public.contains("Nordcert Audit GmbH"), "{public}");
    let raci = http_get_as(&addr, "/api/v1/raci", Some(token));
    assert!(
        raci.contains("\"accountable_role_id\":") && !raci.contains("\"accountable_role_id\":null"),
        "every process of the demo has an owner: {raci}"
    );
    let readiness = http_get_as(&addr, "/api/v1/conformance/clauses", Some(token));
    assert!(
        readiness.contains("\"judgement\":\"nonconforming\""),
        "the review's gap: {readiness}"
    );
    assert!(
        readiness.contains("\"machine\":\"met\""),
        "rules the demo's records meet"
    );
    let schedule = http_get_as(&addr, "/api/v1/changes/schedule", Some(token));
    assert!(
        schedule.contains("Kernel update on portal web servers"),
        "{schedule}"
    );
    let portal = field_of(&changes, "title", "Deploy Customer Portal 4.9", "key");
    let conflicts = http_get_as(
        &addr,
        &format!("/api/v1/changes/{portal}/conflicts"),
        Some(token),
    );
    assert!(
        conflicts.contains("Kernel update"),
        "the portal deploy collides: {conflicts}"
    );
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

/// Opens the sandbox's database directly, to look at what the binary stored.
fn inspect<T>(s: &Sandbox, look: impl AsyncFnOnce(&steward_store::Store) -> T) -> T {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let store = steward_store::Store::connect(&s.url, steward_store::PoolConfig::default())
            .await
            .expect("connect");
        let found = look(&store).await;
        store.close().await;
        found
    })
}

#[test]
fn mail_in_opens_replies_and_keeps_what_it_cannot_read() {
    let s = Sandbox::new("mailin");
    s.ok(&["init"]);
    s.ok(&["tenant", "create", "--name", "Acme IT"]);
    let mail_in = |input: &str, extra: &[&str]| {
        let mut args = vec!["mail-in", "--tenant", "acme-it"];
        args.extend_from_slice(extra);
        s.run_with_input(&args, input)
    };
    let first = mail_in(
        "From: Hank Scorpio <hank@globex.test>\r\nTo: desk@acme.test\r\nSubject: Printer on fire\r\n\
         Message-ID: <m1@globex.test>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n\
         --B\r\nContent-Type: text/plain\r\n\r\nFloor 3, please hurry.\r\n\
         --B\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=\"fire.png\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--B--\r\n",
        &[],
    );
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(last_line(&String::from_utf8_lossy(&first.stdout)), "INC-1");

    let reply = mail_in(
        "From: hank@globex.test\r\nSubject: Re: [INC-1] Printer on fire\r\n\
         Message-ID: <m2@globex.test>\r\n\r\nIt is out now.\r\n",
        &[],
    );
    assert!(reply.status.success(), "{}", stderr(&reply));
    assert_eq!(last_line(&String::from_utf8_lossy(&reply.stdout)), "INC-1");

    let stranger = mail_in(
        "From: eve@elsewhere.test\r\nSubject: Let me in\r\n\r\nhi\r\n",
        &["--unknown-sender", "reject"],
    );
    assert_eq!(stranger.status.code(), Some(1));
    assert!(
        stderr(&stranger).contains("eve@elsewhere.test is not a contact"),
        "{}",
        stderr(&stranger)
    );

    let garbage = "this is not an e-mail\n\u{1}\u{2}binary junk\n";
    let out = mail_in(garbage, &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("not an e-mail message"),
        "{err}"
    );

    let (comments, attachments, dead, contact) = inspect(&s, async |store| {
        let tenant = store.tenant_by_slug("acme-it").await.expect("tenant");
        let incident = store.incident_by_number(tenant.id, 1).await.expect("INC-1");
        let comments = store
            .incident_comments(tenant.id, incident.id, true)
            .await
            .expect("comments");
        let target = steward_store::mail::MailTarget {
            record_type: "incident".into(),
            record_id: incident.id,
        };
        let attachments = store.attachments(tenant.id, &target).await.expect("files");
        let dead = store.dead_letters(Some(tenant.id)).await.expect("dead");
        let contact = store
            .contact_by_email(tenant.id, "hank@globex.test")
            .await
            .expect("contact");
        assert_eq!(
            incident.requester_contact_id,
            contact.as_ref().map(|c| c.id)
        );
        assert_eq!(incident.title, "Printer on fire");
        assert_eq!(incident.description, "Floor 3, please hurry.");
        (comments, attachments, dead, contact)
    });
    assert_eq!(
        comments
            .iter()
            .map(|c| (c.author.as_str(), c.body.as_str(), c.public))
            .collect::<Vec<_>>(),
        [("hank@globex.test", "It is out now.", true)]
    );
    assert_eq!(
        attachments
            .iter()
            .map(|a| (a.filename.as_str(), a.content_type.as_str(), a.size))
            .collect::<Vec<_>>(),
        [("fire.png", "image/png", 8)]
    );
    assert_eq!(dead.len(), 2, "the stranger and the garbage are both kept");
    assert_eq!(dead[0].raw, garbage.as_bytes());
    assert!(dead[1].reason.contains("eve@elsewhere.test"));
    assert_eq!(
        contact.map(|c| c.name),
        Some("Hank Scorpio".to_owned()),
        "an unknown sender becomes a contact"
    );
    assert!(s.ok(&["audit", "verify"]).contains("journal intact"));
}

#[test]
fn incidents_move_in_and_out_as_csv() {
    let s = Sandbox::new("csv");
    s.ok(&["init"]);
    s.ok(&["tenant", "create", "--name", "Acme IT"]);
    let rows = "external_id,title,status,impact,urgency,service,opened_at,resolved_at,closed_at,resolution_code\n\
                OLD-1,Mail down,closed,high,high,,2024-03-01T09:00:00Z,2024-03-01T11:00:00Z,2024-03-02T09:00:00Z,restarted\n\
                OLD-2,VPN slow,new,low,medium,,2024-04-01T09:00:00Z,,,\n";
    let good = s.dir.join("good.csv");
    std::fs::write(&good, rows).expect("write");
    let bad = s.dir.join("bad.csv");
    std::fs::write(&bad, format!("{rows}OLD-3,,done,,,Fax,yesterday,,,\n")).expect("write");

    let out = s.run(&[
        "import",
        "incidents",
        "--tenant",
        "acme-it",
        "--file",
        bad.to_str().expect("path"),
        "--dry-run",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("line 4:")
            && err.contains("Title is required")
            && err.contains("no service named `Fax`"),
        "{err}"
    );
    let out = s.run(&[
        "import",
        "incidents",
        "--tenant",
        "acme-it",
        "--file",
        bad.to_str().expect("path"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a file with bad rows imports nothing"
    );
    assert!(
        s.ok(&[
            "import",
            "incidents",
            "--tenant",
            "acme-it",
            "--file",
            good.to_str().expect("path"),
            "--dry-run"
        ])
        .contains("2 row(s) valid")
    );
    assert!(
        s.ok(&[
            "import",
            "incidents",
            "--tenant",
            "acme-it",
            "--file",
            good.to_str().expect("path")
        ])
        .contains("2 created, 0 updated")
    );
    assert!(
        s.ok(&[
            "import",
            "incidents",
            "--tenant",
            "acme-it",
            "--file",
            good.to_str().expect("path")
        ])
        .contains("0 created, 2 updated")
    );

    let exported = s.ok(&["export", "incidents", "--tenant", "acme-it"]);
    let lines: Vec<&str> = exported.lines().collect();
    assert_eq!(lines.len(), 3, "{exported}");
    assert!(lines[0].starts_with("key,external_id,title"));
    assert!(
        lines[1].starts_with("INC-1,OLD-1,Mail down,,closed,P1"),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].contains("2024-03-01T09:00:00Z") && lines[1].contains("restarted"),
        "{}",
        lines[1]
    );
    assert!(s.ok(&["audit", "verify"]).contains("entries checked"));
}

/// Gives a tenant what request and problem rows name: a user, a service, a category and a
/// catalogue item whose form requires an answer.
fn furnish(s: &Sandbox, slug: &str) {
    use steward_domain::request::{FieldKind, FormField, ItemDraft, TaskTemplate};
    use steward_domain::service::{Criticality, ServiceDraft, ServiceStatus};
    s.ok(&[
        "user",
        "create",
        "--tenant",
        slug,
        "--email",
        "ann@acme.test",
        "--role",
        "agent",
    ]);
    inspect(s, async |store| {
        let cli = steward_store::Actor::cli();
        let tenant = store.tenant_by_slug(slug).await.expect("tenant");
        let service = ServiceDraft {
            name: "Mail".into(),
            description: String::new(),
            owner_id: None,
            criticality: Criticality::High,
            status: ServiceStatus::Live,
        };
        store
            .create_service(tenant.id, &service, &cli)
            .await
            .expect("service");
        let hardware = store
            .create_category(tenant.id, None, "Hardware", &cli)
            .await
            .expect("category");
        store
            .create_category(tenant.id, Some(hardware.id), "Laptops", &cli)
            .await
            .expect("subcategory");
        let laptop = ItemDraft {
            name: "Laptop".into(),
            description: String::new(),
            category: "Hardware".into(),
            fields: vec![
                FormField {
                    name: "model".into(),
                    label: "Model".into(),
                    kind: FieldKind::Select,
                    required: true,
                    options: vec!["X1".into(), "T14".into()],
                },
                FormField {
                    name: "manager".into(),
                    label: "Manager".into(),
                    kind: FieldKind::User,
                    required: false,
                    options: vec![],
                },
            ],
            approver_ids: vec![],
            tasks: vec![TaskTemplate {
                title: "Order".into(),
                team_id: None,
            }],
            active: true,
        };
        store
            .save_item(tenant.id, None, &laptop, &cli)
            .await
            .expect("item");
    });
}

/// Checks the import contract for one kind: a file with a bad row is refused whole (dry run or
/// not) naming the line; a good file imports once and updates on the second run; an export
/// imported into another tenant exports the same again. Returns the first export.
fn import_contract(
    s: &Sandbox,
    kind: &str,
    good_rows: &str,
    bad_row: &str,
    reasons: &[&str],
) -> String {
    let good = s.dir.join(format!("{kind}.csv"));
    std::fs::write(&good, good_rows).expect("write");
    let bad = s.dir.join(format!("{kind}-bad.csv"));
    std::fs::write(&bad, format!("{good_rows}{bad_row}")).expect("write");
    let import = |tenant: &str, file: &Path, extra: &[&str]| {
        let mut args = vec![
            "import",
            kind,
            "--tenant",
            tenant,
            "--file",
            file.to_str().expect("path"),
        ];
        args.extend_from_slice(extra);
        s.run(&args)
    };
    let exported = |tenant: &str| s.ok(&["export", kind, "--tenant", tenant]);
    let header_only = exported("acme-it");
    assert_eq!(header_only.lines().count(), 1, "{header_only}");

    for extra in [&["--dry-run"][..], &[]] {
        let out = import("acme-it", &bad, extra);
        assert_eq!(out.status.code(), Some(1), "{kind} {extra:?}");
        let err = stderr(&out);
        assert!(err.contains("line 4: "), "{err}");
        for reason in reasons {
            assert!(err.contains(reason), "{reason} missing from {err}");
        }
        assert_eq!(exported("acme-it"), header_only, "nothing imported");
    }
    let out = import("acme-it", &good, &["--dry-run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 row(s) valid"));
    assert_eq!(
        exported("acme-it"),
        header_only,
        "a dry run imports nothing"
    );

    for summary in ["2 created, 0 updated", "0 created, 2 updated"] {
        let out = import("acme-it", &good, &[]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(summary),
            "{summary}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let first = exported("acme-it");
    assert_eq!(first.lines().count(), 3, "updated, not duplicated: {first}");

    let file = s.dir.join(format!("{kind}-export.csv"));
    let written = s.ok(&[
        "export",
        kind,
        "--tenant",
        "acme-it",
        "--out",
        file.to_str().expect("path"),
    ]);
    assert!(written.contains("exported 2"), "{written}");
    let out = import("globex", &file, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        exported("globex"),
        first,
        "an export imported elsewhere exports the same"
    );
    first
}

#[test]
fn requests_and_problems_move_in_and_out_as_csv() {
    let s = Sandbox::new("csv-more");
    s.ok(&["init"]);
    s.ok(&["tenant", "create", "--name", "Acme IT"]);
    s.ok(&["tenant", "create", "--name", "Globex"]);
    furnish(&s, "acme-it");
    furnish(&s, "globex");

    let requests = import_contract(
        &s,
        "requests",
        "external_id,item,title,status,requester,answers,category,opened_at,fulfilled_at,closed_at\n\
         SN-1,Laptop,Laptop for Ann,closed,ann@acme.test,\"{\"\"model\"\": \"\"X1\"\", \"\"manager\"\": \"\"ann@acme.test\"\"}\",\
         Hardware / Laptops,2024-03-01T09:00:00Z,2024-03-02T09:00:00Z,2024-03-03T09:00:00Z\n\
         SN-2,Laptop,,in_fulfilment,,,,2024-04-01T09:00:00Z,,\n",
        "SN-3,Fax machine,,fulfilled,bob@acme.test,,,2024-05-01T09:00:00Z,,\n",
        &[
            "no catalogue item named `Fax machine`",
            "no user with e-mail `bob@acme.test`",
        ],
    );
    let lines: Vec<&str> = requests.lines().collect();
    assert_eq!(
        lines[0],
        "key,external_id,item,title,status,requester,answers,category,opened_at,fulfilled_at,closed_at"
    );
    assert!(
        lines[1].starts_with("REQ-1,SN-1,Laptop,Laptop for Ann,closed,ann@acme.test,")
            && lines[1].contains("Hardware › Laptops,2024-03-01T09:00:00Z,2024-03-02T09:00:00Z"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("REQ-2,SN-2,Laptop,Laptop,in_fulfilment,"),
        "{}",
        lines[2]
    );

    let problems = import_contract(
        &s,
        "problems",
        "external_id,title,description,status,impact,urgency,service,root_cause,workaround,category,opened_at,resolved_at,closed_at\n\
         P-1,Mail queue stalls,Since the upgrade,closed,high,high,Mail,A full disk,,Hardware,2024-03-01T09:00:00Z,2024-03-01T11:00:00Z,2024-03-02T09:00:00Z\n\
         P-2,VPN drops,,known_error,low,medium,,Old firmware,Reconnect,,2024-04-01T09:00:00Z,,\n",
        "P-3,,,resolved,,,Fax,,,,,,\n",
        &[
            "Title is required",
            "no service named `Fax`",
            "root_cause is required when status is resolved",
            "resolved_at is required when status is resolved",
        ],
    );
    let lines: Vec<&str> = problems.lines().collect();
    assert!(
        lines[1].starts_with("PRB-1,P-1,Mail queue stalls,Since the upgrade,closed,P1,high,high,Mail,A full disk,,Hardware,2024-03-01T09:00:00Z"),
        "{}",
        lines[1]
    );

    let (request, tasks, known_error) = inspect(&s, async |store| {
        let tenant = store.tenant_by_slug("acme-it").await.expect("tenant");
        let request = store.request_by_number(tenant.id, 1).await.expect("REQ-1");
        let second = store.request_by_number(tenant.id, 2).await.expect("REQ-2");
        let tasks = store.tasks(tenant.id, second.id).await.expect("tasks");
        let vpn = store.problem_by_number(tenant.id, 2).await.expect("PRB-2");
        let known_error = store.known_error_of(tenant.id, vpn.id).await.expect("read");
        (request, tasks.len(), known_error.map(|k| k.workaround))
    });
    assert_eq!(request.opened_at, 1_709_283_600_000_000, "history kept");
    assert_eq!(request.answers["model"], "X1");
    assert_eq!(tasks, 1, "a request in fulfilment has its tasks");
    assert_eq!(known_error.as_deref(), Some("Reconnect"));
    assert!(s.ok(&["audit", "verify"]).contains("entries checked"));
}

#[test]
fn sla_recompute_reports_what_an_agreement_edit_changed() {
    use steward_domain::sla::{AgreementDraft, AgreementKind, RecordKind, Target};
    let s = Sandbox::new("sla");
    s.ok(&["init"]);
    s.ok(&["tenant", "create", "--name", "Acme IT"]);
    let draft = |minutes| {
        let target = Target {
            metric: "resolution".into(),
            priority: None,
            minutes,
        };
        AgreementDraft::new(
            "Standard",
            AgreementKind::Sla,
            RecordKind::Incident,
            vec![target],
        )
    };
    let key = inspect(&s, async |store| {
        let actor = steward_store::Actor::cli();
        let tenant = store.tenant_by_slug("acme-it").await.expect("tenant");
        let agreement = store
            .create_agreement(tenant.id, &draft(60).validate().expect("valid"), &actor)
            .await
            .expect("agreement");
        store
            .create_incident(tenant.id, &incident_fields("Mail down"), &actor)
            .await
            .expect("incident");
        store
            .update_agreement(
                tenant.id,
                agreement.id,
                agreement.updated_at,
                &draft(90).validate().expect("valid"),
                &actor,
            )
            .await
            .expect("edit");
        "INC-1".to_owned()
    });
    let out = s.ok(&["sla", "recompute", "--since", "2020-01-01"]);
    assert!(
        out.contains("recomputed the clocks of 1 records: 1 clock changed"),
        "{out}"
    );
    assert!(out.contains(&format!("{key} resolution: running")), "{out}");
    assert!(out.contains("60 min → running"), "{out}");
    assert!(out.contains("90 min"), "{out}");
    let again = s.ok(&["sla", "recompute"]);
    assert!(again.contains("0 clocks changed"), "{again}");
    let json = s.ok(&["sla", "recompute", "--json"]);
    assert!(json.contains("\"records\": 1"), "{json}");
    let bad = s.run(&["sla", "recompute", "--since", "last week"]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("YYYY-MM-DD"), "{}", stderr(&bad));
}

fn incident_fields(title: &str) -> steward_store::incident::IncidentFields {
    steward_store::incident::IncidentFields::new(title, steward_store::now_micros())
}

#[test]
fn cis_and_relationships_import_check_first_and_update_by_external_id() {
    use steward_domain::cmdb::{CiClassDraft, Direction};
    use steward_domain::request::{FieldKind, FormField};
    use steward_domain::service::{Criticality, ServiceDraft, ServiceStatus};
    use steward_store::cmdb::{CiFilter, ImpactRequest};
    let s = Sandbox::new("cmdb-csv");
    s.ok(&["init"]);
    s.ok(&["tenant", "create", "--name", "Acme IT"]);
    s.ok(&[
        "user",
        "create",
        "--tenant",
        "acme-it",
        "--email",
        "ann@acme.test",
        "--role",
        "agent",
    ]);
    let tenant_id = inspect(&s, async |store| {
        let cli = steward_store::Actor::cli();
        let tenant = store.tenant_by_slug("acme-it").await.expect("tenant");
        let hostname = FormField {
            name: "hostname".into(),
            label: "Host name".into(),
            kind: FieldKind::Text,
            required: true,
            options: vec![],
        };
        for (name, attributes) in [("Server", vec![hostname]), ("Application", vec![])] {
            let class = CiClassDraft {
                name: name.into(),
                description: String::new(),
                attributes,
            };
            store
                .create_ci_class(tenant.id, &class.validate().expect("class"), &cli)
                .await
                .expect("class");
        }
        let service = ServiceDraft {
            name: "Payroll".into(),
            description: String::new(),
            owner_id: None,
            criticality: Criticality::High,
            status: ServiceStatus::Live,
        };
        store
            .create_service(tenant.id, &service, &cli)
            .await
            .expect("service");
        tenant.id
    });
    let cis = |s: &Sandbox| {
        inspect(s, async |store| {
            let page = steward_store::PageRequest {
                limit: Some(50),
                cursor: None,
            };
            let found = store.cis(tenant_id, &CiFilter::default(), &page).await;
            let mut names: Vec<(String, Option<String>)> = found
                .expect("cis")
                .items
                .into_iter()
                .map(|c| (c.name, c.external_id))
                .collect();
            names.sort();
            names
        })
    };
    let file = |name: &str, rows: &str| {
        let path = s.dir.join(name);
        std::fs::write(&path, rows).expect("write");
        path.to_str().expect("path").to_owned()
    };
    let import = |what: &str, path: &str, extra: &[&str]| {
        let mut args = vec!["import", what, "--tenant", "acme-it", "--file", path];
        args.extend_from_slice(extra);
        s.run(&args)
    };
    let stdout = |out: &Output| String::from_utf8_lossy(&out.stdout).into_owned();

    let good_rows = "external_id,class,name,status,owner,services,attr.hostname\n\
                     SRV-1,Server,db01,in_use,ann@acme.test,,db01.acme.test\n\
                     APP-1,application,Payroll app,,,Payroll,\n";
    let good = file("cis.csv", good_rows);
    let bad = file(
        "cis-bad.csv",
        &format!("{good_rows}SRV-2,Mainframe,mf01,,,,\nSRV-3,Server,web01,,,,\n"),
    );
    for extra in [&["--dry-run"][..], &[]] {
        let out = import("cis", &bad, extra);
        assert_eq!(out.status.code(), Some(1), "{extra:?}");
        let err = stderr(&out);
        assert!(
            err.contains("line 4: no CI class named `Mainframe`"),
            "{err}"
        );
        assert!(
            err.contains("line 5: attr.hostname: Host name is required"),
            "{err}"
        );
        assert!(err.contains("2 bad row(s); nothing was imported"), "{err}");
    }
    let dry = import("cis", &good, &["--dry-run"]);
    assert!(stdout(&dry).contains("2 row(s) valid"), "{}", stderr(&dry));
    assert!(cis(&s).is_empty(), "checks and dry runs write nothing");

    let first = import("cis", &good, &[]);
    assert!(
        stdout(&first).contains("2 created, 0 updated, 0 unchanged"),
        "{}{}",
        stdout(&first),
        stderr(&first)
    );
    let renamed = file(
        "cis-renamed.csv",
        &good_rows.replace(",db01,", ",db01-primary,"),
    );
    let again = import("cis", &renamed, &[]);
    assert!(
        stdout(&again).contains("0 created, 1 updated, 1 unchanged"),
        "{}{}",
        stdout(&again),
        stderr(&again)
    );
    assert_eq!(
        cis(&s),
        [
            ("Payroll app".to_owned(), Some("APP-1".to_owned())),
            ("db01-primary".to_owned(), Some("SRV-1".to_owned()))
        ],
        "a re-import updates by external id and creates nothing"
    );
    let backwards = file("cis-planned.csv", "external_id,status\nSRV-1,planned\n");
    let refused = import("cis", &backwards, &[]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("line 2: status: a CI cannot go from in_use to planned"),
        "{}",
        stderr(&refused)
    );

    // APP-1 depends on SRV-1.
    let rel_rows = "source,target,type\nAPP-1,SRV-1,depends_on\n";
    let rels = file("rels.csv", rel_rows);
    let rels_bad = file(
        "rels-bad.csv",
        &format!("{rel_rows}APP-1,NOPE-9,depends_on\nSRV-1,APP-1,feeds\n"),
    );
    let out = import("ci-relationships", &rels_bad, &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("line 3: target: no CI with external id `NOPE-9`")
            && err.contains("line 4: type: no relationship type `feeds`"),
        "{err}"
    );
    let dry = import("ci-relationships", &rels, &["--dry-run"]);
    assert!(stdout(&dry).contains("1 row(s) valid"), "{}", stderr(&dry));
    for summary in [
        "1 created, 0 updated, 0 unchanged",
        "0 created, 0 updated, 1 unchanged",
    ] {
        let out = import("ci-relationships", &rels, &[]);
        assert!(
            stdout(&out).contains(summary),
            "{summary}: {}{}",
            stdout(&out),
            stderr(&out)
        );
    }
    let (reached, services) = inspect(&s, async |store| {
        let page = steward_store::PageRequest {
            limit: Some(50),
            cursor: None,
        };
        let filter = CiFilter {
            q: Some("db01".into()),
            ..Default::default()
        };
        let db = store
            .cis(tenant_id, &filter, &page)
            .await
            .expect("cis")
            .items[0]
            .id;
        let request = ImpactRequest {
            ci_id: db,
            direction: Direction::Downstream,
            depth: None,
            limit: 10,
        };
        let report = store.ci_impact(tenant_id, request).await.expect("impact");
        let reached: Vec<String> = report.items.into_iter().map(|i| i.name).collect();
        let hit = store
            .services_hit(tenant_id, &[db])
            .await
            .expect("services");
        (reached, hit.into_iter().map(|n| n.name).collect::<Vec<_>>())
    });
    assert_eq!(reached, ["Payroll app"], "the impact graph sees the import");
    assert_eq!(services, ["Payroll"]);
    assert!(s.ok(&["audit", "verify"]).contains("entries checked"));
}

#[test]
fn cmdb_benches_build_an_estate_and_time_impact_and_collisions() {
    let s = Sandbox::new("bench-cmdb");
    s.ok(&["tenant", "create", "--name", "Bench"]);
    let built = s.ok(&["bench", "cmdb", "--tenant", "bench", "--cis", "300"]);
    assert!(built.contains("\"cis\":300"), "{built}");
    let impact = s.ok(&["bench", "impact", "--tenant", "bench", "--samples", "2"]);
    assert!(
        impact.contains("\"query\":\"impact.downstream.core_switch\""),
        "{impact}"
    );
    let timed = s.ok(&[
        "bench",
        "collisions",
        "--tenant",
        "bench",
        "--changes",
        "40",
        "--samples",
        "5",
    ]);
    let line: serde_json::Value =
        serde_json::from_str(last_line(&timed)).unwrap_or_else(|e| panic!("{e}: {timed}"));
    assert_eq!(line["query"], "change.conflicts", "{timed}");
    assert_eq!(line["scheduled"], 40, "{timed}");
    assert_eq!(line["cis"], 300, "{timed}");
    assert!(line["p99_ms"].as_f64().is_some(), "{timed}");
}

#[test]
fn verify_statement_checks_offline_and_says_why() {
    use steward_domain::signing::{ALGORITHM, KeyPair, KeySet, PublishedKey, Signed};
    let s = Sandbox::new("verify-statement");
    let ours = KeyPair::from_seed([7; 32]);
    let theirs = KeyPair::from_seed([9; 32]);
    let published = |tenant: &str, key: &KeyPair| PublishedKey {
        tenant: tenant.into(),
        key_id: key.key_id(),
        algorithm: ALGORITHM.into(),
        public_key: key.public_base64(),
        created_at: "2026-01-01T00:00:00Z".into(),
        retired_at: None,
    };
    let keys = KeySet {
        keys: vec![published("acme", &ours), published("other", &theirs)],
    };
    let statement = serde_json::json!({
        "certificate_number": "ITSM-1", "organisation": "Acme GmbH", "status": "valid",
        "expiry_date": "2029-01-01", "issued_at": "2026-12-01T10:00:00Z",
        "tenant": "acme", "key_id": ours.key_id(),
    });
    let write = |name: &str, value: serde_json::Value| {
        let path = s.dir.join(name);
        std::fs::write(&path, value.to_string()).expect("write");
        path.display().to_string()
    };
    let keys_file = write("keys.json", serde_json::to_value(&keys).expect("json"));
    let good = Signed::new(&statement, &ours).expect("signed");
    let file = write("statement.json", serde_json::to_value(&good).expect("json"));
    let out = s.ok(&["verify-statement", &file, "--keys", &keys_file]);
    assert!(
        out.starts_with("valid: certificate ITSM-1 (Acme GmbH) is valid"),
        "{out}"
    );
    // A whole answer of the public endpoint, with its matches.
    let answer = serde_json::json!({"matches": [{"signed_statement": good}]});
    let file = write("answer.json", serde_json::to_value(&answer).expect("json"));
    assert!(
        s.ok(&["verify-statement", &file, "--keys", &keys_file])
            .starts_with("valid")
    );

    let refused = |file: &str, keys: &str, why: &str| {
        let out = s.run(&["verify-statement", file, "--keys", keys]);
        assert!(!out.status.success(), "{why}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.starts_with("invalid:") && text.contains(why),
            "{why}: {text}"
        );
    };
    let mut altered = good.clone();
    altered.statement["status"] = serde_json::json!("suspended");
    refused(
        &write(
            "altered.json",
            serde_json::to_value(&altered).expect("json"),
        ),
        &keys_file,
        "altered",
    );
    let forged = Signed::new(&statement, &theirs).expect("signed");
    refused(
        &write("forged.json", serde_json::to_value(&forged).expect("json")),
        &keys_file,
        "wrong key",
    );
    let elsewhere = KeySet {
        keys: vec![published("acme", &KeyPair::from_seed([1; 32]))],
    };
    let file = write("statement.json", serde_json::to_value(&good).expect("json"));
    refused(
        &file,
        &write(
            "other-keys.json",
            serde_json::to_value(&elsewhere).expect("json"),
        ),
        "not in the keys file",
    );
    // A file that is not a statement is an error on one line.
    let out = s.run(&["verify-statement", &keys_file, "--keys", &keys_file]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("not a signed statement"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn audit_sample_draws_the_same_records_for_the_same_seed() {
    let s = Sandbox::new("sample");
    s.ok(&["init"]);
    s.ok(&["tenant", "create", "--name", "Acme IT"]);
    inspect(&s, async |store| {
        let t = store.tenant_by_slug("acme-it").await.expect("tenant").id;
        for n in 0..15 {
            let draft = steward_domain::service::ServiceDraft {
                name: format!("Service {n:02}"),
                description: String::new(),
                owner_id: None,
                criticality: steward_domain::service::Criticality::Low,
                status: steward_domain::service::ServiceStatus::Live,
            }
            .validate()
            .expect("service");
            store
                .create_service(t, &draft, &steward_store::Actor::cli())
                .await
                .expect("service");
        }
    });
    let args = [
        "audit", "sample", "--tenant", "acme-it", "--clause", "8.2.1", "--size", "4", "--seed",
        "2026",
    ];
    let first = s.ok(&args);
    assert!(first.starts_with("8.2.1 "), "{first}");
    assert!(first.contains("4 of 15 records, seed 2026"), "{first}");
    assert_eq!(
        first.lines().filter(|l| l.starts_with("service")).count(),
        4
    );
    assert_eq!(first, s.ok(&args), "same seed, same records");
    let json = s.ok(&[
        "audit", "sample", "--tenant", "acme-it", "--clause", "8.2.1", "--seed", "2026", "--json",
    ]);
    let parsed: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(parsed["population"], 15);
    assert_eq!(parsed["records"].as_array().map(Vec::len), Some(10));

    let unknown = s.run(&[
        "audit", "sample", "--tenant", "acme-it", "--clause", "99.9", "--seed", "1",
    ]);
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains("no clause 99.9"),
        "{}",
        stderr(&unknown)
    );
    let backwards = s.run(&[
        "audit",
        "sample",
        "--tenant",
        "acme-it",
        "--clause",
        "8.2.1",
        "--seed",
        "1",
        "--from",
        "2026-05-01",
        "--to",
        "2026-04-01",
    ]);
    assert!(!backwards.status.success());
    assert!(stderr(&backwards).contains("ends before it begins"));
}

#[test]
fn an_evidence_pack_is_signed_and_checked_offline() {
    let s = Sandbox::new("pack");
    s.ok(&["init"]);
    s.ok(&["tenant", "create", "--name", "Acme IT"]);
    let out = s.dir.join("pack");
    let out_arg = out.to_string_lossy().into_owned();
    let wrote = s.ok(&["evidence-pack", "--tenant", "acme-it", "--out", &out_arg]);
    assert!(wrote.contains("wrote 5 files"), "{wrote}");
    let report = std::fs::read_to_string(out.join("report.html")).expect("report");
    assert!(report.contains("Evidence pack: Acme IT"));
    assert!(report.contains("it is not a certification"));
    assert!(report.contains("8.5.1.1"), "every clause is in the report");
    let intact = s.ok(&["evidence-pack", "verify", &out_arg]);
    assert!(
        intact.contains("signature: good, signed by acme-it"),
        "{intact}"
    );
    assert!(intact.contains("pack intact"));
    // Against the keys the organisation publishes, kept apart from the pack.
    let published = s.dir.join("published-keys.json");
    std::fs::copy(out.join("keys.json"), &published).expect("copy keys");
    let keys_arg = published.to_string_lossy().into_owned();
    assert!(
        s.ok(&["evidence-pack", "verify", &out_arg, "--keys", &keys_arg])
            .contains("pack intact")
    );

    // A second pack into the same folder is refused.
    let again = s.run(&["evidence-pack", "--tenant", "acme-it", "--out", &out_arg]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("is not empty"),
        "{}",
        stderr(&again)
    );

    // Altered, missing and added files are each named, and the check fails.
    std::fs::write(out.join("report.html"), "<h1>All conforming</h1>").expect("alter");
    std::fs::remove_file(out.join("samples.json")).expect("remove");
    std::fs::write(out.join("extra.txt"), "slipped in").expect("add");
    let broken = s.run(&["evidence-pack", "verify", &out_arg, "--keys", &keys_arg]);
    assert_eq!(broken.status.code(), Some(1));
    let said = String::from_utf8_lossy(&broken.stdout).into_owned();
    for line in [
        "altered: report.html",
        "missing: samples.json",
        "added: extra.txt",
        "pack NOT intact",
    ] {
        assert!(said.contains(line), "{line}: {said}");
    }
    assert!(
        said.contains("signature: good"),
        "the manifest itself is genuine: {said}"
    );
}
