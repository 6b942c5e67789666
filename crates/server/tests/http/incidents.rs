//! `/api/v1/incidents` through the real router.

use super::api::{Reply, app, is_problem};
use axum::http::{Method, StatusCode};
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

both_backends!(
    bulk_changes_report_each_incident,
    |store: Store| async move {
        let app = app(store).await;
        for title in ["One", "Two", "Three"] {
            app.post("/api/v1/incidents", Role::Agent, json!({"title": title}))
                .await;
        }
        app.patch(
            "/api/v1/incidents/INC-3",
            Role::Agent,
            json!({"status": "cancelled"}),
        )
        .await;
        let agent = app.get("/api/v1/me", Role::Agent).await.body["id"]
            .as_i64()
            .expect("id");
        let bulk = app
        .post("/api/v1/incidents/bulk", Role::Manager, json!({"keys": ["INC-1", "INC-2", "INC-3", "INC-99"], "changes": {"status": "in_progress", "assignee_id": agent}}))
        .await;
        assert_eq!(bulk.status, StatusCode::OK, "{}", bulk.text);
        assert_eq!(
            (bulk.body["changed"].as_u64(), bulk.body["refused"].as_u64()),
            (Some(2), Some(2))
        );
        let statuses: Vec<u64> = bulk.body["results"].as_array().map_or(vec![], |r| {
            r.iter().filter_map(|i| i["status"].as_u64()).collect()
        });
        assert_eq!(statuses, [200, 200, 409, 404]);
        let one = app.get("/api/v1/incidents/INC-1", Role::Agent).await;
        assert_eq!(
            (
                one.body["status"].as_str(),
                one.body["assignee_id"].as_i64()
            ),
            (Some("in_progress"), Some(agent))
        );
        assert_eq!(
            app.get("/api/v1/incidents/INC-3", Role::Agent).await.body["status"],
            "cancelled",
            "a refusal changes nothing"
        );
        assert_eq!(
            app.post(
                "/api/v1/incidents/bulk",
                Role::Auditor,
                json!({"keys": ["INC-1"], "changes": {}})
            )
            .await
            .status,
            StatusCode::FORBIDDEN
        );
        let empty = app
            .post(
                "/api/v1/incidents/bulk",
                Role::Agent,
                json!({"keys": [], "changes": {}}),
            )
            .await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
);

async fn requester_replies(app: &super::api::TestApp, text: &str) -> Value {
    let r = app
        .post(
            "/api/v1/incidents/INC-1/comments",
            Role::Requester,
            json!({"body": text}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    app.get("/api/v1/incidents/INC-1", Role::Agent).await.body
}

both_backends!(
    a_requester_reply_resumes_or_reopens,
    |store: Store| async move {
        let app = app(store).await;
        let created = app
            .post(
                "/api/v1/incidents",
                Role::Requester,
                json!({"title": "Scanner offline"}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED);
        let waiting = json!({"status": "pending", "pending_reason": "awaiting_customer"});
        let patched = app
            .patch("/api/v1/incidents/INC-1", Role::Agent, waiting)
            .await;
        assert_eq!(patched.status, StatusCode::OK);
        let resumed = requester_replies(&app, "It is the one on floor 3").await;
        assert_eq!(
            resumed["status"], "in_progress",
            "the answer resumes the work"
        );
        let resolved = app
            .patch(
                "/api/v1/incidents/INC-1",
                Role::Agent,
                json!({"status": "resolved"}),
            )
            .await;
        assert_eq!(resolved.status, StatusCode::OK);
        let reopened = requester_replies(&app, "Still offline, sorry").await;
        assert_eq!(
            reopened["status"], "in_progress",
            "the requester reopened it"
        );
        assert!(reopened["resolved_at"].is_null());
    }
);

both_backends!(one_search_finds_every_kind, |store: Store| async move {
    let app = app(store).await;
    app.post(
        "/api/v1/services",
        Role::Admin,
        json!({"name": "Printer fleet", "status": "live"}),
    )
    .await;
    app.post(
        "/api/v1/customers",
        Role::Agent,
        json!({"name": "Printers Unlimited"}),
    )
    .await;
    app.post(
        "/api/v1/incidents",
        Role::Agent,
        json!({"title": "Printer jammed on floor 3"}),
    )
    .await;
    app.post(
        "/api/v1/incidents",
        Role::Requester,
        json!({"title": "My printer is jammed"}),
    )
    .await;
    let kinds = |r: &Reply| {
        r.body["hits"].as_array().map_or(vec![], |h| {
            h.iter()
                .map(|x| {
                    format!(
                        "{}:{}",
                        x["kind"].as_str().unwrap_or(""),
                        x["key"].as_str().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
        })
    };
    let agent = app.get("/api/v1/search?q=printer", Role::Agent).await;
    assert_eq!(agent.status, StatusCode::OK, "{}", agent.text);
    let found = kinds(&agent);
    assert!(
        found.contains(&"incident:INC-1".to_owned())
            && found.contains(&"incident:INC-2".to_owned()),
        "{found:?}"
    );
    assert!(
        found.iter().any(|k| k.starts_with("service:"))
            && found.iter().any(|k| k.starts_with("customer:")),
        "{found:?}"
    );
    let by_key = app.get("/api/v1/search?q=inc-2", Role::Agent).await;
    assert_eq!(
        kinds(&by_key).first().map(String::as_str),
        Some("incident:INC-2"),
        "an exact key ranks first"
    );
    let requester = kinds(&app.get("/api/v1/search?q=printer", Role::Requester).await);
    assert!(
        requester.contains(&"incident:INC-2".to_owned())
            && !requester.contains(&"incident:INC-1".to_owned()),
        "{requester:?}"
    );
    assert!(
        !requester.iter().any(|k| k.starts_with("customer:")),
        "requesters never see customers: {requester:?}"
    );
    assert!(
        kinds(&app.get("/api/v1/search?q=INC-1", Role::Requester).await).is_empty(),
        "nor others' incidents by key"
    );
    let outsider = app
        .call(
            axum::http::Method::GET,
            "/api/v1/search?q=printer",
            Some(&app.outsider.clone()),
            None,
        )
        .await;
    assert_eq!(outsider.body["hits"], json!([]));
});

both_backends!(
    views_are_saved_per_user_or_shared,
    |store: Store| async move {
        let app = app(store).await;
        let mine = app
            .post(
                "/api/v1/views",
                Role::Agent,
                json!({"kind": "incidents", "name": "Printers", "query": "queue=open&q=printer"}),
            )
            .await;
        assert_eq!(mine.status, StatusCode::CREATED, "{}", mine.text);
        assert_eq!(mine.body["shared"], false);
        let not_allowed = app
            .post(
                "/api/v1/views",
                Role::Agent,
                json!({"kind": "incidents", "name": "Team", "shared": true}),
            )
            .await;
        assert_eq!(not_allowed.body["errors"][0]["field"], "shared");
        let shared = app.post("/api/v1/views", Role::Manager, json!({"kind": "incidents", "name": "All P1", "query": "queue=all", "shared": true})).await;
        assert_eq!(shared.body["shared"], true);
        let names = |r: &Reply| {
            r.body.as_array().map_or(vec![], |v| {
                v.iter()
                    .filter_map(|x| x["name"].as_str().map(str::to_owned))
                    .collect::<Vec<_>>()
            })
        };
        assert_eq!(
            names(&app.get("/api/v1/views", Role::Agent).await),
            ["All P1", "Printers"]
        );
        assert_eq!(
            names(&app.get("/api/v1/views", Role::Auditor).await),
            ["All P1"],
            "others see only the shared views"
        );
        let id = mine.body["id"].as_i64().expect("id");
        assert_eq!(
            app.delete(&format!("/api/v1/views/{id}"), Role::Manager)
                .await
                .status,
            StatusCode::NOT_FOUND,
            "not theirs"
        );
        assert_eq!(
            app.delete(&format!("/api/v1/views/{id}"), Role::Agent)
                .await
                .status,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            app.post(
                "/api/v1/views",
                Role::Requester,
                json!({"kind": "incidents", "name": "x"})
            )
            .await
            .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.post(
                "/api/v1/views",
                Role::Agent,
                json!({"kind": "cmdb", "name": "x"})
            )
            .await
            .status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
);

both_backends!(
    settings_shape_priorities_and_windows,
    |store: Store| async move {
        let app = app(store).await;
        let current = app.get("/api/v1/settings", Role::Agent).await;
        assert_eq!(current.body["reopen_window_days"], 7);
        assert_eq!(current.body["priority_matrix"][2][2], "P1");
        let mut wanted = current.body.clone();
        wanted["priority_matrix"][2] = json!(["P1", "P1", "P1"]);
        wanted["reopen_window_days"] = json!(0);
        assert_eq!(
            app.call(
                axum::http::Method::PUT,
                "/api/v1/settings",
                Some(app.token(Role::Manager)),
                Some(wanted.clone())
            )
            .await
            .status,
            StatusCode::FORBIDDEN
        );
        let mut inverted = wanted.clone();
        inverted["priority_matrix"][0][0] = json!("P1");
        inverted["priority_matrix"][0][1] = json!("P5");
        let refused = app
            .call(
                axum::http::Method::PUT,
                "/api/v1/settings",
                Some(app.token(Role::Admin)),
                Some(inverted),
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.text
        );
        let saved = app
            .call(
                axum::http::Method::PUT,
                "/api/v1/settings",
                Some(app.token(Role::Admin)),
                Some(wanted),
            )
            .await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);

        let inc = app
            .post(
                "/api/v1/incidents",
                Role::Agent,
                json!({"title": "Data centre flooded", "impact": "high", "urgency": "low"}),
            )
            .await;
        assert_eq!(inc.body["priority"], "P1", "the tenant's matrix decides");
        app.patch(
            "/api/v1/incidents/INC-1",
            Role::Agent,
            json!({"status": "resolved"}),
        )
        .await;
        let reopen = app
            .patch(
                "/api/v1/incidents/INC-1",
                Role::Agent,
                json!({"status": "in_progress"}),
            )
            .await;
        assert_eq!(
            reopen.status,
            StatusCode::CONFLICT,
            "a zero-day window allows no reopening: {}",
            reopen.text
        );
        let journal = app
            .get("/api/v1/journal?record_type=settings", Role::Auditor)
            .await;
        assert_eq!(journal.body["items"].as_array().map(Vec::len), Some(1));
    }
);

both_backends!(
    integrations_poll_for_changed_incidents,
    |store: Store| async move {
        let app = app(store).await;
        let created = app
            .post(
                "/api/v1/incidents",
                Role::Agent,
                json!({"title": "Disk full"}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED);
        let count = |body: &Value| body["items"].as_array().map_or(0, Vec::len);
        let before = app
            .get(
                "/api/v1/incidents?changed_after=2000-01-01T00:00:00Z",
                Role::Agent,
            )
            .await;
        assert_eq!(count(&before.body), 1);
        let after = app
            .get(
                "/api/v1/incidents?changed_after=2999-01-01T00:00:00Z",
                Role::Agent,
            )
            .await;
        assert_eq!(count(&after.body), 0);
        let bad = app
            .get("/api/v1/incidents?changed_after=yesterday", Role::Agent)
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
        assert!(is_problem(&bad));
    }
);

both_backends!(
    hostile_list_queries_are_answered_never_500,
    |store: Store| async move {
        let app = app(store).await;
        for title in ["Printer jammed", "VPN drops", "Laptop broken"] {
            let created = app
                .post("/api/v1/incidents", Role::Agent, json!({"title": title}))
                .await;
            assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        }
        // Full-text syntax of FTS5 and tsquery, and bytes PostgreSQL text cannot hold: the
        // words are taken, the syntax is not.
        for q in [
            "%22printer%22%20OR%20NEAR(vpn%2C%202)%20AND%20NOT%20*%20%5E%3Ax%20-laptop",
            "printer%22",
            "(((",
            "%22%22",
            "vpn%3A*%20%26%20!laptop%20%7C%20%3C-%3E",
            "printer%00",
            "%C4%B0stanbul",
            "NEAR%2FAND%2FOR",
        ] {
            let r = app
                .get(&format!("/api/v1/incidents?q={q}"), Role::Agent)
                .await;
            assert_eq!(r.status, StatusCode::OK, "q={q}: {}", r.text);
        }
        let found = app
            .get("/api/v1/incidents?q=%22printer%22%20OR%20(x", Role::Agent)
            .await;
        assert_eq!(
            found.body["items"].as_array().map_or(0, Vec::len),
            0,
            "every word must match, `or` and `x` included: {}",
            found.text
        );
        // A cursor from one sort handed to another, and forged cursors, are refused as a
        // 422, not a database error.
        let first = app
            .get("/api/v1/incidents?sort=priority&limit=1", Role::Agent)
            .await;
        let by_priority = first.body["next_cursor"].as_str().expect("cursor");
        let by_time = app
            .get("/api/v1/incidents?sort=opened_at&limit=1", Role::Agent)
            .await;
        let by_time = by_time.body["next_cursor"].as_str().expect("cursor");
        let hex = |json: &str| json.bytes().map(|b| format!("{b:02x}")).collect::<String>();
        for (sort, cursor) in [
            ("opened_at", by_priority.to_owned()),
            ("-number", by_priority.to_owned()),
            ("priority", by_time.to_owned()),
            ("priority", hex(r#"{"key":"P1\u0000","id":1}"#)),
            ("priority", hex(r#"{"key":9223372036854775807,"id":-1}"#)),
            ("number", hex(r#"{"key":"x","id":1}"#)),
            ("number", "zz".to_owned()),
        ] {
            let r = app
                .get(
                    &format!("/api/v1/incidents?sort={sort}&cursor={cursor}"),
                    Role::Agent,
                )
                .await;
            assert!(
                r.status == StatusCode::OK || r.status == StatusCode::UNPROCESSABLE_ENTITY,
                "sort={sort} cursor={cursor}: {} {}",
                r.status,
                r.text
            );
        }
    }
);

both_backends!(
    nul_characters_are_refused_on_every_backend,
    |store: Store| async move {
        // PostgreSQL text cannot hold U+0000; SQLite can. Either way the answer is a 4xx
        // naming the problem, the same on both, never a database error.
        let app = app(store).await;
        let fields = json!([{"name": "site", "label": "Site", "kind": "text"}]);
        let defined = app
            .call(
                Method::PUT,
                "/api/v1/custom-fields/incident",
                Some(app.token(Role::Admin)),
                Some(fields),
            )
            .await;
        assert_eq!(defined.status, StatusCode::OK, "{}", defined.text);
        let created = app
            .post(
                "/api/v1/incidents",
                Role::Agent,
                json!({"title": "Printer\u{0}jammed", "description": "x"}),
            )
            .await;
        assert_eq!(
            created.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            created.text
        );
        assert!(created.text.contains("NUL"), "{}", created.text);
        let listed = app
            .get("/api/v1/incidents?custom.site=Ber%00lin", Role::Agent)
            .await;
        assert_eq!(
            listed.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            listed.text
        );
        let none = app.get("/api/v1/incidents", Role::Agent).await;
        assert_eq!(none.body["items"].as_array().map(Vec::len), Some(0));
    }
);
