//! Major incidents through the real router: declaring, the communications log, and closure
//! held back until the post-incident review is complete.

use super::api::{app, is_problem};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use steward_domain::access::Role;
use steward_store::{Store, both_backends};

both_backends!(
    a_major_incident_closes_only_after_its_review,
    |store: Store| async move {
        let app = app(store).await;
        let created = app
            .post(
                "/api/v1/incidents",
                Role::Agent,
                json!({"title": "Mail down for everyone", "impact": "high", "urgency": "high"}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        assert_eq!(created.body["major"], false);
        let manager = app.user_id(Role::Manager).await;
        let requester = app.user_id(Role::Requester).await;

        let bad = app
            .post(
                "/api/v1/incidents/INC-1/major",
                Role::Agent,
                json!({"manager_id": requester}),
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
        assert_eq!(bad.body["errors"][0]["field"], "manager_id");
        assert_eq!(
            app.post(
                "/api/v1/incidents/INC-1/major",
                Role::Auditor,
                json!({"manager_id": manager})
            )
            .await
            .status,
            StatusCode::FORBIDDEN
        );
        let early = app
            .post(
                "/api/v1/incidents/INC-1/communications",
                Role::Agent,
                json!({"audience": "customers", "body": "We are on it"}),
            )
            .await;
        assert_eq!(early.status, StatusCode::CONFLICT, "declare first");

        let declared = app
            .post(
                "/api/v1/incidents/INC-1/major",
                Role::Agent,
                json!({"manager_id": manager}),
            )
            .await;
        assert_eq!(declared.status, StatusCode::OK, "{}", declared.text);
        assert_eq!(
            declared.body,
            json!({"key": "INC-1", "major": true, "manager_id": manager})
        );
        assert_eq!(
            app.get("/api/v1/incidents/INC-1", Role::Auditor).await.body["major"],
            true
        );
        let listed = app.get("/api/v1/incidents", Role::Agent).await;
        assert_eq!(listed.body["items"][0]["major"], true, "{}", listed.text);
        assert_eq!(
            app.get("/api/v1/incidents/INC-1/major", Role::Auditor)
                .await
                .body["manager_id"],
            manager
        );

        for (audience, body) in [
            ("customers", "We are on it"),
            ("executives", "Mail down, ETA 2 h"),
        ] {
            let posted = app
                .post(
                    "/api/v1/incidents/INC-1/communications",
                    Role::Agent,
                    json!({"audience": audience, "body": body}),
                )
                .await;
            assert_eq!(posted.status, StatusCode::CREATED, "{}", posted.text);
            assert_eq!(posted.body["author"], "agent@acme.test");
        }
        let blank = app
            .post(
                "/api/v1/incidents/INC-1/communications",
                Role::Agent,
                json!({"audience": "press", "body": "x"}),
            )
            .await;
        assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(blank.body["errors"][0]["field"], "audience");
        let log = app
            .get("/api/v1/incidents/INC-1/communications", Role::Auditor)
            .await;
        let lines: Vec<(&str, &str)> = log.body.as_array().map_or(vec![], |a| {
            a.iter()
                .filter_map(|c| Some((c["audience"].as_str()?, c["body"].as_str()?)))
                .collect()
        });
        assert_eq!(
            lines,
            [
                ("customers", "We are on it"),
                ("executives", "Mail down, ETA 2 h")
            ]
        );

        for patch in [
            json!({"status": "in_progress"}),
            json!({"status": "resolved", "resolution_code": "disk cleaned"}),
        ] {
            let moved = app
                .patch("/api/v1/incidents/INC-1", Role::Agent, patch)
                .await;
            assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
        }
        let refused = app
            .patch(
                "/api/v1/incidents/INC-1",
                Role::Agent,
                json!({"status": "closed"}),
            )
            .await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
        assert!(is_problem(&refused));
        assert_eq!(
            refused.body["detail"],
            "A major incident needs a completed post-incident review before it is closed"
        );

        let none_yet = app
            .get("/api/v1/incidents/INC-1/review", Role::Auditor)
            .await;
        assert_eq!(none_yet.status, StatusCode::OK);
        assert_eq!(none_yet.body["updated_at"], Value::Null);
        let partial = app
            .put(
                "/api/v1/incidents/INC-1/review",
                Role::Agent,
                json!({"summary": "Mail was down for 2 h", "completed": true}),
            )
            .await;
        assert_eq!(partial.status, StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<&str> = partial.body["errors"].as_array().map_or(vec![], |a| {
            a.iter().filter_map(|e| e["field"].as_str()).collect()
        });
        assert_eq!(fields, ["root_cause", "improvements"]);
        let draft = app
            .put(
                "/api/v1/incidents/INC-1/review",
                Role::Agent,
                json!({"summary": "Mail was down for 2 h", "root_cause": "Disk full"}),
            )
            .await;
        assert_eq!(draft.status, StatusCode::OK, "{}", draft.text);
        assert_eq!(draft.body["completed"], false);
        assert_eq!(
            app.patch(
                "/api/v1/incidents/INC-1",
                Role::Agent,
                json!({"status": "closed"})
            )
            .await
            .status,
            StatusCode::CONFLICT,
            "a draft review is not enough"
        );
        let done = app.put("/api/v1/incidents/INC-1/review",
            Role::Agent,
            json!({
                "summary": "Mail was down for 2 h", "root_cause": "Disk full",
                "went_well": "Customers were told within 10 minutes",
                "improvements": "Alert at 80 % disk", "actions": "Add the alert", "completed": true,
            }),
        )
        .await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.text);
        assert!(done.body["completed_at"].is_string());

        let closed = app
            .patch(
                "/api/v1/incidents/INC-1",
                Role::Agent,
                json!({"status": "closed"}),
            )
            .await;
        assert_eq!(closed.status, StatusCode::OK, "{}", closed.text);
        assert_eq!(closed.body["status"], "closed");
        assert_eq!(closed.body["major"], true);
        let frozen = app
            .put(
                "/api/v1/incidents/INC-1/review",
                Role::Agent,
                json!({"summary": "rewritten"}),
            )
            .await;
        assert_eq!(
            frozen.status,
            StatusCode::CONFLICT,
            "a closed incident's review stays as it was"
        );

        let journal = app
            .get("/api/v1/journal?record_type=incident_review", Role::Auditor)
            .await;
        assert_eq!(
            journal.body["items"].as_array().map(Vec::len),
            Some(2),
            "the draft and the completion are journaled"
        );
        assert!(app.store.verify_journal().await.expect("verify").is_ok());
    }
);

both_backends!(
    ordinary_incidents_close_freely_and_stand_down_works,
    |store: Store| async move {
        let app = app(store).await;
        app.post(
            "/api/v1/incidents",
            Role::Agent,
            json!({"title": "Printer jammed"}),
        )
        .await;
        for patch in [
            json!({"status": "resolved", "resolution_code": "fixed"}),
            json!({"status": "closed"}),
        ] {
            let moved = app
                .patch("/api/v1/incidents/INC-1", Role::Agent, patch)
                .await;
            assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
        }

        app.post(
            "/api/v1/incidents",
            Role::Agent,
            json!({"title": "VPN down"}),
        )
        .await;
        let agent = app.user_id(Role::Agent).await;
        assert_eq!(
            app.call(
                Method::DELETE,
                "/api/v1/incidents/INC-2/major",
                Some(app.token(Role::Agent)),
                None
            )
            .await
            .status,
            StatusCode::CONFLICT,
            "only a major incident stands down"
        );
        app.post(
            "/api/v1/incidents/INC-2/major",
            Role::Agent,
            json!({"manager_id": agent}),
        )
        .await;
        let down = app
            .delete("/api/v1/incidents/INC-2/major", Role::Agent)
            .await;
        assert_eq!(down.status, StatusCode::OK, "{}", down.text);
        assert_eq!(down.body["major"], false);
        for patch in [
            json!({"status": "resolved", "resolution_code": "fixed"}),
            json!({"status": "closed"}),
        ] {
            let moved = app
                .patch("/api/v1/incidents/INC-2", Role::Agent, patch)
                .await;
            assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
        }
        assert!(app.store.verify_journal().await.expect("verify").is_ok());
    }
);

both_backends!(
    requesters_and_outsiders_see_nothing_of_it,
    |store: Store| async move {
        let app = app(store).await;
        let own = app
            .post(
                "/api/v1/incidents",
                Role::Requester,
                json!({"title": "My mail is down"}),
            )
            .await;
        assert_eq!(own.status, StatusCode::CREATED, "{}", own.text);
        let manager = app.user_id(Role::Manager).await;
        app.post(
            "/api/v1/incidents/INC-1/major",
            Role::Manager,
            json!({"manager_id": manager}),
        )
        .await;
        app.post(
            "/api/v1/incidents/INC-1/communications",
            Role::Manager,
            json!({"audience": "executives", "body": "Board to be told"}),
        )
        .await;
        for path in [
            "/api/v1/incidents/INC-1/communications",
            "/api/v1/incidents/INC-1/review",
            "/api/v1/incidents/INC-1/major",
        ] {
            let seen = app.get(path, Role::Requester).await;
            assert_eq!(seen.status, StatusCode::FORBIDDEN, "{path}");
            assert!(!seen.text.contains("Board to be told"));
            let outsider = app
                .call(Method::GET, path, Some(&app.outsider.clone()), None)
                .await;
            assert_eq!(outsider.status, StatusCode::NOT_FOUND, "{path}");
        }
        assert_eq!(
            app.post(
                "/api/v1/incidents/INC-1/communications",
                Role::Requester,
                json!({"body": "hello?"})
            )
            .await
            .status,
            StatusCode::FORBIDDEN
        );
    }
);
