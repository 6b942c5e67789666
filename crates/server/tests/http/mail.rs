//! E-mail out (and back in): notifications are queued by mail-in and by agents' public
//! replies, delivered by the `mail.send` job to a tiny SMTP server, and replies to them thread.

use super::api::app;
use axum::http::StatusCode;
use serde_json::json;
use steward_domain::access::Role;
use steward_domain::customer::{ContactDraft, CustomerDraft};
use steward_server::jobs::Runner;
use steward_server::mail::intake::{Intake, IntakeError, Received, receive};
use steward_server::mail::outbound;
use steward_store::{Actor, Store, both_backends};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// Accepts `connections` SMTP sessions, one after the other, and sends each message's DATA
/// (headers and body) down the channel. Speaks just enough SMTP for lettre.
async fn smtp_server(connections: usize) -> (String, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("smtp://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        for _ in 0..connections {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (read, mut write) = stream.into_split();
            let mut lines = BufReader::new(read).lines();
            let _ = write.write_all(b"220 test ESMTP\r\n").await;
            let mut data: Option<String> = None;
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(body) = data.as_mut() {
                    if line == "." {
                        let _ = tx.send(data.take().unwrap_or_default());
                        let _ = write.write_all(b"250 queued\r\n").await;
                    } else {
                        body.push_str(line.strip_prefix('.').unwrap_or(&line));
                        body.push('\n');
                    }
                    continue;
                }
                let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
                let reply: &[u8] = match verb.as_str() {
                    "EHLO" | "HELO" => b"250 test\r\n",
                    "DATA" => {
                        data = Some(String::new());
                        b"354 go ahead\r\n"
                    }
                    "QUIT" => {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        break;
                    }
                    _ => b"250 ok\r\n",
                };
                let _ = write.write_all(reply).await;
            }
        }
    });
    (url, rx)
}

/// The value of a header in a captured message (unfolded).
fn header(message: &str, name: &str) -> Option<String> {
    let head = message.split("\n\n").next().unwrap_or_default();
    let mut value: Option<String> = None;
    for line in head.lines() {
        if let Some(v) = value.as_mut() {
            if line.starts_with([' ', '\t']) {
                v.push(' ');
                v.push_str(line.trim());
                continue;
            }
            break;
        }
        if let Some((n, v)) = line.split_once(':')
            && n.eq_ignore_ascii_case(name)
        {
            value = Some(v.trim().to_owned());
        }
    }
    value
}

async fn requester(store: &Store, tenant_id: i64) {
    let globex = store
        .create_customer(
            tenant_id,
            &CustomerDraft {
                name: "Globex".into(),
                notes: String::new(),
            },
            &Actor::cli(),
        )
        .await
        .expect("customer");
    store
        .create_contact(
            tenant_id,
            globex.id,
            &ContactDraft {
                name: "Hank Scorpio".into(),
                email: "hank@globex.test".into(),
                phone: String::new(),
            },
            &Actor::cli(),
        )
        .await
        .expect("contact");
}

const FIRST: &str = "From: Hank Scorpio <hank@globex.test>\r\nTo: desk@acme.test\r\n\
    Subject: Printer on fire\r\nMessage-ID: <m1@globex.test>\r\n\r\nFloor 3, please hurry.\r\n";

both_backends!(
    notifications_are_sent_and_replies_thread,
    |store: Store| async move {
        let app = app(store.clone()).await;
        requester(&store, app.tenant_id).await;
        let opened = receive(&store, "acme", FIRST.as_bytes(), &Intake::default())
            .await
            .expect("taken in");
        assert!(matches!(opened, Received::Opened(_)), "{opened:?}");
        let key = opened.incident().key();
        assert_eq!(key, "INC-1");
        assert_eq!(
            opened.incident().source,
            steward_domain::incident::Source::Email
        );

        let reply = app
            .post(
                "/api/v1/incidents/INC-1/comments",
                Role::Agent,
                json!({"body": "Try turning it off and on again."}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        let note = app
            .post(
                "/api/v1/incidents/INC-1/comments",
                Role::Agent,
                json!({"body": "Internal: it is the toner", "public": false}),
            )
            .await;
        assert_eq!(note.status, StatusCode::CREATED, "{}", note.text);
        let outbox = store.outbox(app.tenant_id).await.expect("outbox");
        assert_eq!(
            outbox.len(),
            2,
            "the acknowledgement and the public reply; no note"
        );

        // Without an SMTP server the job fails clearly and stays queued for a retry.
        let mut unconfigured = Runner::new(store.clone(), "no-smtp");
        outbound::register(&mut unconfigured, None, None);
        assert_eq!(unconfigured.run_once().await.expect("run"), 2);
        for row in store.outbox(app.tenant_id).await.expect("outbox") {
            assert_eq!((row.state.as_str(), row.attempts), ("queued", 1));
            assert!(
                row.last_error
                    .as_deref()
                    .is_some_and(|e| e.contains("STEWARD_SMTP_URL")),
                "{:?}",
                row.last_error
            );
        }
        store
            .execute_raw_for_tests("UPDATE jobs SET run_at = 0 WHERE state = 'queued'")
            .await
            .expect("make due");

        let (url, mut captured) = smtp_server(2).await;
        let mut runner = Runner::new(store.clone(), "with-smtp");
        outbound::register(&mut runner, Some(url), Some("Desk <desk@acme.test>".into()));
        assert_eq!(runner.run_once().await.expect("run"), 2);
        let ack = captured.recv().await.expect("first message");
        let answer = captured.recv().await.expect("second message");

        assert_eq!(
            header(&ack, "Subject").as_deref(),
            Some("[INC-1] Printer on fire")
        );
        assert_eq!(header(&ack, "To").as_deref(), Some("hank@globex.test"));
        assert_eq!(
            header(&ack, "In-Reply-To").as_deref(),
            Some("<m1@globex.test>")
        );
        assert_eq!(
            header(&ack, "References").as_deref(),
            Some("<m1@globex.test>")
        );
        let ack_id = header(&ack, "Message-ID").expect("message id");
        assert!(
            ack_id.starts_with("<inc-1.") && ack_id.ends_with("@steward>"),
            "{ack_id}"
        );
        assert!(ack.contains("recorded it as INC-1"), "{ack}");

        assert_eq!(
            header(&answer, "Subject").as_deref(),
            Some("[INC-1] Printer on fire")
        );
        assert_eq!(
            header(&answer, "In-Reply-To").as_deref(),
            Some("<m1@globex.test>"),
            "threads after the last message received"
        );
        assert_eq!(
            header(&answer, "References"),
            Some(format!("<m1@globex.test> {ack_id}"))
        );
        assert!(
            answer.contains("Try turning it off and on again."),
            "{answer}"
        );
        assert!(!answer.contains("toner"));
        for row in store.outbox(app.tenant_id).await.expect("outbox") {
            assert_eq!(row.state, "sent");
            assert!(row.sent_at.is_some());
        }

        // A reply without the key in its subject still finds INC-1 by In-Reply-To.
        let bare_ack = ack_id.trim_matches(['<', '>']);
        let answer_back = format!(
            "From: hank@globex.test\r\nSubject: Re: your printer\r\nMessage-ID: <m2@globex.test>\r\n\
             In-Reply-To: <{bare_ack}>\r\nReferences: <m1@globex.test> <{bare_ack}>\r\n\r\nIt works now, thanks!\r\n"
        );
        let threaded = receive(&store, "acme", answer_back.as_bytes(), &Intake::default())
            .await
            .expect("taken in");
        assert!(matches!(threaded, Received::Replied(_)), "{threaded:?}");
        assert_eq!(threaded.incident().key(), "INC-1");
        let comments = store
            .incident_comments(app.tenant_id, threaded.incident().id, true)
            .await
            .expect("comments");
        assert_eq!(
            comments
                .last()
                .map(|c| (c.author.as_str(), c.body.as_str())),
            Some(("hank@globex.test", "It works now, thanks!"))
        );
        assert!(store.verify_journal().await.expect("verify").is_ok());
    }
);

/// The fuzz target's seed corpus (`fuzz/corpus/mail_in`).
const SEEDS: &[&[u8]] = &[
    include_bytes!("../../../../fuzz/corpus/mail_in/plain.eml"),
    include_bytes!("../../../../fuzz/corpus/mail_in/reply.eml"),
    include_bytes!("../../../../fuzz/corpus/mail_in/html_only.eml"),
    include_bytes!("../../../../fuzz/corpus/mail_in/attachment.eml"),
    include_bytes!("../../../../fuzz/corpus/mail_in/nested.eml"),
    include_bytes!("../../../../fuzz/corpus/mail_in/no_from.eml"),
];

/// Damages a seed deterministically: overwrites a few bytes and may cut the tail off.
fn damaged(round: u64) -> Vec<u8> {
    let mut state = round
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
        usize::try_from(state >> 33).unwrap_or(0)
    };
    let mut raw = SEEDS[next() % SEEDS.len()].to_vec();
    for _ in 0..next() % 8 {
        let at = next() % raw.len();
        raw[at] = u8::try_from(next() % 256).unwrap_or(0);
    }
    if next() % 3 == 0 {
        raw.truncate(next() % raw.len());
    }
    raw
}

both_backends!(
    no_message_is_ever_lost_whatever_its_bytes,
    |store: Store| async move {
        let app = app(store.clone()).await;
        let opts = Intake::default();
        let (mut taken, mut dead) = (0, Vec::new());
        for round in 0..60 {
            let raw = damaged(round);
            match receive(&store, "acme", &raw, &opts).await {
                Ok(_) => taken += 1,
                Err(IntakeError::Dead { id, .. }) => dead.push((id, raw)),
                Err(other) => panic!("round {round}: the message was lost: {other}"),
            }
        }
        let kept = store
            .dead_letters(Some(app.tenant_id))
            .await
            .expect("dead letters");
        assert_eq!(kept.len(), dead.len());
        for (id, raw) in &dead {
            let letter = kept.iter().find(|d| d.id == *id).expect("kept");
            assert_eq!(&letter.raw, raw, "dead letters keep the exact bytes");
        }
        assert!(
            taken > 0 && !dead.is_empty(),
            "taken {taken}, dead {}",
            dead.len()
        );
        assert!(store.verify_journal().await.expect("verify").is_ok());
    }
);
