//! Notifications on the events a requester cares about, and the templates they are written
//! from: queued in the outbox (checked through the store), editable by admins.

use super::api::{TestApp, app};
use axum::http::{Method, StatusCode};
use serde_json::json;
use steward_domain::access::Role;
use steward_domain::customer::{ContactDraft, CustomerDraft};
use steward_server::mail::intake::{Intake, Received, receive};
use steward_store::mail::OutboxMessage;
use steward_store::{Actor, Store, both_backends};

/// A contact `hank@globex.test`; returns its id.
async fn contact(app: &TestApp) -> i64 {
    let globex = app
        .store
        .create_customer(
            app.tenant_id,
            &CustomerDraft {
                name: "Globex".into(),
                notes: String::new(),
            },
            &Actor::cli(),
        )
        .await
        .expect("customer");
    app.store
        .create_contact(
            app.tenant_id,
            globex.id,
            &ContactDraft {
                name: "Hank Scorpio".into(),
                email: "hank@globex.test".into(),
                phone: String::new(),
            },
            &Actor::cli(),
        )
        .await
        .expect("contact")
        .id
}

/// The outbox, oldest first.
async fn outbox(app: &TestApp) -> Vec<OutboxMessage> {
    let mut rows = app.store.outbox(app.tenant_id).await.expect("outbox");
    rows.reverse();
    rows
}

both_backends!(
    opening_resolving_and_assigning_notify,
    |store: Store| async move {
        let app = app(store).await;
        let hank = contact(&app).await;
        let opened = app
            .post(
                "/api/v1/incidents",
                Role::Agent,
                json!({"title": "Printer on fire", "requester_contact_id": hank}),
            )
            .await;
        assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.text);
        let rows = outbox(&app).await;
        assert_eq!(rows.len(), 1, "the acknowledgement");
        assert_eq!(rows[0].to_address, "hank@globex.test");
        assert_eq!(rows[0].subject, "[INC-1] Printer on fire");
        assert!(
            rows[0]
                .body
                .contains("recorded it as INC-1: Printer on fire"),
            "{}",
            rows[0].body
        );

        // A portal incident acknowledges to the requester's own address.
        let portal = app
            .post(
                "/api/v1/incidents",
                Role::Requester,
                json!({"title": "No VPN"}),
            )
            .await;
        assert_eq!(portal.status, StatusCode::CREATED, "{}", portal.text);
        let rows = outbox(&app).await;
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].to_address, "requester@acme.test");
        assert_eq!(rows[1].subject, "[INC-2] No VPN");

        // Assigning tells the assignee (an admin assigns the agent).
        let agent = app.get("/api/v1/me", Role::Agent).await;
        let agent_id = agent.body["id"].as_i64().expect("agent id");
        let assigned = app
            .patch(
                "/api/v1/incidents/INC-1",
                Role::Admin,
                json!({"assignee_id": agent_id}),
            )
            .await;
        assert_eq!(assigned.status, StatusCode::OK, "{}", assigned.text);
        let rows = outbox(&app).await;
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[2].to_address, "agent@acme.test");
        assert!(
            rows[2].body.contains("assigned to The agent"),
            "{}",
            rows[2].body
        );
        assert!(
            rows[2].body.contains("/incidents/INC-1"),
            "the link: {}",
            rows[2].body
        );
        // Saving again without a new assignee tells nobody.
        let same = app
            .patch(
                "/api/v1/incidents/INC-1",
                Role::Admin,
                json!({"assignee_id": agent_id, "title": "Printer on fire!"}),
            )
            .await;
        assert_eq!(same.status, StatusCode::OK, "{}", same.text);
        assert_eq!(outbox(&app).await.len(), 3);

        // Resolving tells the requester and the watchers, threaded like replies.
        let watch = app
            .post(
                "/api/v1/incidents/INC-1/watchers",
                Role::Agent,
                json!({"email": "boss@globex.test"}),
            )
            .await;
        assert_eq!(watch.status, StatusCode::CREATED, "{}", watch.text);
        let resolved = app
            .patch(
                "/api/v1/incidents/INC-1",
                Role::Agent,
                json!({"status": "resolved"}),
            )
            .await;
        assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.text);
        let rows = outbox(&app).await;
        assert_eq!(rows.len(), 5);
        let mut to: Vec<&str> = rows[3..].iter().map(|m| m.to_address.as_str()).collect();
        to.sort_unstable();
        assert_eq!(to, ["boss@globex.test", "hank@globex.test"]);
        for m in &rows[3..] {
            assert!(m.body.contains("has been resolved"), "{}", m.body);
            assert!(
                m.in_reply_to.is_some()
                    && m.references
                        .as_deref()
                        .is_some_and(|r| r.starts_with(&rows[0].message_id)),
                "threaded after the acknowledgement: {m:?}"
            );
        }
        assert!(app.store.verify_journal().await.expect("verify").is_ok());
    }
);

both_backends!(edited_templates_are_used, |store: Store| async move {
    let app = app(store).await;
    let hank = contact(&app).await;
    let listed = app.get("/api/v1/notification-templates", Role::Admin).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let events: Vec<&str> = listed
        .body
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|t| t["event"].as_str())
        .collect();
    assert_eq!(events, ["opened", "replied", "resolved", "assigned"]);
    assert_eq!(listed.body[0]["subject"], "[{{key}}] {{title}}");
    assert!(listed.body[0]["updated_at"].is_null());

    let saved = app
        .call(
            Method::PUT,
            "/api/v1/notification-templates/opened",
            Some(app.token(Role::Admin)),
            Some(json!({
                "subject": "Ticket {{key}}: {{ title }}",
                "body": "We got it ({{status}}). Follow it at {{link}}"
            })),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    assert!(saved.body["updated_at"].is_string());

    let opened = app
        .post(
            "/api/v1/incidents",
            Role::Agent,
            json!({"title": "Printer on fire", "requester_contact_id": hank}),
        )
        .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.text);
    let rows = outbox(&app).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].subject, "Ticket INC-1: Printer on fire");
    assert!(
        rows[0]
            .body
            .starts_with("We got it (new). Follow it at http"),
        "{}",
        rows[0].body
    );
    assert!(
        rows[0].body.ends_with("/incidents/INC-1"),
        "{}",
        rows[0].body
    );

    // Unknown placeholders are refused and named; nothing changes.
    let bad = app
        .call(
            Method::PUT,
            "/api/v1/notification-templates/resolved",
            Some(app.token(Role::Admin)),
            Some(json!({"subject": "{{key}}", "body": "Dear {{customer}}, {{key}}"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    assert_eq!(bad.body["errors"][0]["field"], "body");
    assert!(bad.text.contains("{{customer}}"), "{}", bad.text);
    let unknown_event = app
        .call(
            Method::PUT,
            "/api/v1/notification-templates/closed",
            Some(app.token(Role::Admin)),
            Some(json!({"subject": "x", "body": "y"})),
        )
        .await;
    assert_eq!(unknown_event.status, StatusCode::NOT_FOUND);

    // Only admins read or change templates.
    for role in [Role::Agent, Role::Manager, Role::Requester, Role::Auditor] {
        assert_eq!(
            app.get("/api/v1/notification-templates", role).await.status,
            StatusCode::FORBIDDEN,
            "{role}"
        );
        assert_eq!(
            app.call(
                Method::PUT,
                "/api/v1/notification-templates/opened",
                Some(app.token(role)),
                Some(json!({"subject": "x", "body": "y"})),
            )
            .await
            .status,
            StatusCode::FORBIDDEN,
            "{role}"
        );
    }
    let after = app.get("/api/v1/notification-templates", Role::Admin).await;
    assert_eq!(after.body[0]["subject"], "Ticket {{key}}: {{ title }}");
    assert!(after.body[2]["updated_at"].is_null());
    assert!(app.store.verify_journal().await.expect("verify").is_ok());
});

both_backends!(
    mailed_replies_reach_the_watchers,
    |store: Store| async move {
        let app = app(store).await;
        contact(&app).await;
        let first = "From: Hank Scorpio <hank@globex.test>\r\nTo: desk@acme.test\r\n\
        Subject: Printer on fire\r\nMessage-ID: <m1@globex.test>\r\n\r\nFloor 3.\r\n";
        let opened = receive(&app.store, "acme", first.as_bytes(), &Intake::default())
            .await
            .expect("taken in");
        assert!(matches!(opened, Received::Opened(_)), "{opened:?}");
        for email in ["boss@globex.test", "hank@globex.test"] {
            let added = app
                .post(
                    "/api/v1/incidents/INC-1/watchers",
                    Role::Agent,
                    json!({ "email": email }),
                )
                .await;
            assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
        }
        let reply = "From: hank@globex.test\r\nSubject: Re: [INC-1] Printer on fire\r\n\
        Message-ID: <m2@globex.test>\r\n\r\nNow it smokes too.\r\n";
        let replied = receive(&app.store, "acme", reply.as_bytes(), &Intake::default())
            .await
            .expect("taken in");
        assert!(matches!(replied, Received::Replied(_)), "{replied:?}");
        let rows = outbox(&app).await;
        assert_eq!(rows.len(), 2, "the acknowledgement and one copy");
        assert_eq!(rows[1].to_address, "boss@globex.test", "not the sender");
        assert!(
            rows[1].body.contains("Now it smokes too."),
            "{}",
            rows[1].body
        );
        assert_eq!(rows[1].in_reply_to.as_deref(), Some("m2@globex.test"));
    }
);

both_backends!(
    the_admin_page_lists_the_templates,
    |store: Store| async move {
        let app = app(store).await;
        let page = app
            .call(
                Method::GET,
                "/notifications",
                Some(app.token(Role::Admin)),
                None,
            )
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert_eq!(page.text.matches("Save template").count(), 4);
        assert!(page.text.contains("action=\"/notifications/assigned\""));
        assert!(
            page.text.contains("href=\"/notifications\""),
            "the nav entry"
        );
        let agent = app
            .call(
                Method::GET,
                "/notifications",
                Some(app.token(Role::Agent)),
                None,
            )
            .await;
        assert_eq!(agent.status, StatusCode::FORBIDDEN);
    }
);
