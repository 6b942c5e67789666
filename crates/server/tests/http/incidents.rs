//! `/api/v1/incidents` through the real router.

use super::api::{Reply, app, is_problem};
use axum::http::StatusCode;
use serde_json::{Value, json};
use steward_domain::access::Role;
use steward_store::{Store, both_backends};

both_backends!(an_incident_from_new_to_closed, |store: Store| async move {
    let app = app(store).await;
    let created = app
        .post(
            "/api/v1/incidents",
            Role::Agent,
            json!({"title": "Mail is down", "impact": "high", "urgency": "high"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["key"], "INC-1");
    assert_eq!(created.body["status"], "new");
    assert_eq!(created.body["priority"], "P1");
    assert!(created.body["id"].as_i64().is_some());

    let illegal = app
        .patch(
            "/api/v1/incidents/INC-1",
            Role::Agent,
            json!({"status": "closed"}),
        )
        .await;
    assert_eq!(illegal.status, StatusCode::CONFLICT, "{}", illegal.text);
    assert!(is_problem(&illegal));
    assert_eq!(
        illegal.body["allowed"],
        json!(["in_progress", "pending", "resolved", "cancelled"])
    );

    let working = app
        .patch(
            "/api/v1/incidents/INC-1",
            Role::Agent,
            json!({"status": "in_progress", "urgency": "low"}),
        )
        .await;
    assert_eq!(working.body["status"], "in_progress");
    assert_eq!(
        working.body["priority"], "P3",
        "priority follows impact and urgency"
    );

    let no_reason = app
        .patch(
            "/api/v1/incidents/INC-1",
            Role::Agent,
            json!({"status": "pending"}),
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(no_reason.body["errors"][0]["field"], "pending_reason");
    let waiting = app
        .patch(
            "/api/v1/incidents/INC-1",
            Role::Agent,
            json!({"status": "pending", "pending_reason": "awaiting_customer"}),
        )
        .await;
    assert_eq!(waiting.body["pending_reason"], "awaiting_customer");

    let reply = app
        .post(
            "/api/v1/incidents/INC-1/comments",
            Role::Agent,
            json!({"body": "Please restart Outlook"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert!(
        app.get("/api/v1/incidents/INC-1", Role::Agent).await.body["first_response_at"].is_string()
    );

    let resolved = app
        .patch(
            "/api/v1/incidents/INC-1",
            Role::Agent,
            json!({"status": "resolved"}),
        )
        .await;
    assert_eq!(resolved.body["status"], "resolved");
    assert!(resolved.body["resolved_at"].is_string());
    assert_eq!(resolved.body["pending_reason"], Value::Null);
    let no_code = app
        .patch(
            "/api/v1/incidents/INC-1",
            Role::Agent,
            json!({"status": "closed"}),
        )
        .await;
    assert_eq!(no_code.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(no_code.body["errors"][0]["field"], "resolution_code");
    let closed = app
        .patch(
            "/api/v1/incidents/INC-1",
            Role::Agent,
            json!({"status": "closed", "resolution_code": "restarted"}),
        )
        .await;
    assert_eq!(closed.body["status"], "closed", "{}", closed.text);
    assert_eq!(closed.body["allowed_transitions"], json!([]));
    let frozen = app
        .patch(
            "/api/v1/incidents/INC-1",
            Role::Agent,
            json!({"title": "Changed"}),
        )
        .await;
    assert_eq!(frozen.status, StatusCode::CONFLICT);

    let journal = app
        .get("/api/v1/journal?record_type=incident", Role::Auditor)
        .await;
    assert!(
        journal.body["items"].as_array().map_or(0, Vec::len) >= 6,
        "every step is journaled"
    );
});

both_backends!(
    incidents_are_listed_searched_and_scoped,
    |store: Store| async move {
        let app = app(store).await;
        for (title, description) in [
            ("Printer jammed", "Third floor printer"),
            ("VPN drops", "Every hour"),
            ("Laptop broken", "Screen cracked"),
        ] {
            assert_eq!(
                app.post(
                    "/api/v1/incidents",
                    Role::Agent,
                    json!({"title": title, "description": description})
                )
                .await
                .status,
                StatusCode::CREATED
            );
        }
        let mine = app
            .post(
                "/api/v1/incidents",
                Role::Requester,
                json!({"title": "My printer jammed too"}),
            )
            .await;
        assert_eq!(mine.status, StatusCode::CREATED, "{}", mine.text);
        assert_eq!(mine.body["source"], "portal");
        let titles = |r: &Reply| {
            r.body["items"].as_array().map_or(vec![], |a| {
                a.iter()
                    .filter_map(|i| i["title"].as_str().map(str::to_owned))
                    .collect::<Vec<_>>()
            })
        };
        let found = app
            .get("/api/v1/incidents?q=printer&sort=number", Role::Auditor)
            .await;
        assert_eq!(titles(&found), ["Printer jammed", "My printer jammed too"]);
        let own = app.get("/api/v1/incidents", Role::Requester).await;
        assert_eq!(
            titles(&own),
            ["My printer jammed too"],
            "requesters see only their own"
        );
        assert_eq!(
            app.get("/api/v1/incidents/INC-1", Role::Requester)
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.get("/api/v1/incidents/INC-4", Role::Requester)
                .await
                .status,
            StatusCode::OK
        );
        assert_eq!(
            app.patch(
                "/api/v1/incidents/INC-4",
                Role::Requester,
                json!({"status": "cancelled"})
            )
            .await
            .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.post("/api/v1/incidents", Role::Auditor, json!({"title": "x"}))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        let assigned = app
            .post(
                "/api/v1/incidents",
                Role::Requester,
                json!({"title": "x", "assignee_id": 1}),
            )
            .await;
        assert_eq!(assigned.status, StatusCode::UNPROCESSABLE_ENTITY);

        let note = app
            .post(
                "/api/v1/incidents/INC-4/comments",
                Role::Agent,
                json!({"body": "internal only", "public": false}),
            )
            .await;
        assert_eq!(note.status, StatusCode::CREATED);
        app.post(
            "/api/v1/incidents/INC-4/comments",
            Role::Requester,
            json!({"body": "any news?", "public": false}),
        )
        .await;
        let seen = app
            .get("/api/v1/incidents/INC-4/comments", Role::Requester)
            .await;
        let bodies: Vec<&str> = seen.body.as_array().map_or(vec![], |a| {
            a.iter().filter_map(|c| c["body"].as_str()).collect()
        });
        assert_eq!(
            bodies,
            ["any news?"],
            "requesters never see internal notes, and their own messages are public"
        );
        assert_eq!(
            app.get("/api/v1/incidents/INC-4/comments", Role::Agent)
                .await
                .body
                .as_array()
                .map(Vec::len),
            Some(2)
        );

        let outsider = app
            .call(
                axum::http::Method::GET,
                "/api/v1/incidents/INC-1",
                Some(&app.outsider.clone()),
                None,
            )
            .await;
        assert_eq!(outsider.status, StatusCode::NOT_FOUND);
        let bad = app.get("/api/v1/incidents?status=open", Role::Agent).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        let migrated = app
            .post(
                "/api/v1/incidents",
                Role::Agent,
                json!({"title": "Old", "opened_at": "2020-01-01T00:00:00Z"}),
            )
            .await;
        assert_eq!(
            migrated.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "only admins backdate"
        );
        let migrated = app
            .post(
                "/api/v1/incidents",
                Role::Admin,
                json!({"title": "Old", "opened_at": "2020-01-01T00:00:00Z"}),
            )
            .await;
        assert_eq!(migrated.body["opened_at"], "2020-01-01T00:00:00Z");
    }
);
