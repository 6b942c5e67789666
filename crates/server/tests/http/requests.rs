//! `/api/v1/catalogue-items` and `/requests` through the real router.

use super::api::app;
use axum::http::StatusCode;
use serde_json::json;
use steward_domain::access::Role;
use steward_store::{Store, both_backends};

both_backends!(
    a_requester_orders_and_the_desk_fulfils,
    |store: Store| async move {
        let app = app(store).await;
        let manager = app.get("/api/v1/me", Role::Manager).await.body["id"]
            .as_i64()
            .expect("id");
        let item = app
        .post(
            "/api/v1/catalogue-items",
            Role::Manager,
            json!({
                "name": "New laptop", "category": "Hardware", "approver_ids": [manager],
                "fields": [
                    {"name": "model", "label": "Model", "kind": "select", "required": true, "options": ["13-inch", "15-inch"]},
                    {"name": "needed_by", "label": "Needed by", "kind": "date"}
                ],
                "tasks": [{"title": "Order the laptop"}, {"title": "Install and hand over"}]
            }),
        )
        .await;
        assert_eq!(item.status, StatusCode::CREATED, "{}", item.text);
        let item_id = item.body["id"].as_i64().expect("id");
        assert_eq!(
            app.post("/api/v1/catalogue-items", Role::Agent, json!({"name": "x"}))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        let bad_form = app
            .post(
                "/api/v1/catalogue-items",
                Role::Manager,
                json!({"name": "x", "fields": [{"name": "a b", "label": "", "kind": "text"}]}),
            )
            .await;
        assert_eq!(bad_form.status, StatusCode::UNPROCESSABLE_ENTITY);

        let catalogue = app.get("/api/v1/catalogue-items", Role::Requester).await;
        assert_eq!(catalogue.body[0]["name"], "New laptop");
        let wrong = app
            .post(
                "/api/v1/requests",
                Role::Requester,
                json!({"item_id": item_id, "answers": {"model": "17-inch", "needed_by": "soon"}}),
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<&str> = wrong.body["errors"].as_array().map_or(vec![], |e| {
            e.iter().filter_map(|x| x["field"].as_str()).collect()
        });
        assert_eq!(fields, ["model", "needed_by"]);

        let ordered = app
            .post(
                "/api/v1/requests",
                Role::Requester,
                json!({"item_id": item_id, "answers": {"model": "13-inch"}}),
            )
            .await;
        assert_eq!(ordered.status, StatusCode::CREATED, "{}", ordered.text);
        assert_eq!(
            (
                ordered.body["key"].as_str(),
                ordered.body["status"].as_str()
            ),
            (Some("REQ-1"), Some("pending_approval"))
        );
        assert_eq!(ordered.body["approvals"][0]["decision"], "pending");

        let waiting = app
            .get("/api/v1/requests?awaiting_me=true", Role::Manager)
            .await;
        assert_eq!(waiting.body["items"][0]["key"], "REQ-1");
        let not_mine = app
            .post(
                "/api/v1/requests/REQ-1/approvals",
                Role::Agent,
                json!({"decision": "approved"}),
            )
            .await;
        assert_eq!(
            not_mine.status,
            StatusCode::CONFLICT,
            "only listed approvers decide"
        );
        let no_reason = app
            .post(
                "/api/v1/requests/REQ-1/approvals",
                Role::Manager,
                json!({"decision": "rejected"}),
            )
            .await;
        assert_eq!(no_reason.body["errors"][0]["field"], "comment");
        let approved = app
            .post(
                "/api/v1/requests/REQ-1/approvals",
                Role::Manager,
                json!({"decision": "approved", "comment": "Budget ok"}),
            )
            .await;
        assert_eq!(
            approved.body["status"], "in_fulfilment",
            "{}",
            approved.text
        );
        let tasks: Vec<i64> = approved.body["tasks"].as_array().map_or(vec![], |t| {
            t.iter().filter_map(|t| t["id"].as_i64()).collect()
        });
        assert_eq!(tasks.len(), 2);
        for (i, task) in tasks.iter().enumerate() {
            let done = app
                .post(
                    &format!("/api/v1/requests/REQ-1/tasks/{task}/complete"),
                    Role::Agent,
                    json!({}),
                )
                .await;
            let expected = if i == 0 { "in_fulfilment" } else { "fulfilled" };
            assert_eq!(done.body["status"], expected, "{}", done.text);
        }
        let mine = app.get("/api/v1/requests", Role::Requester).await;
        assert_eq!(mine.body["items"][0]["status"], "fulfilled");
        let reopen_by_requester = app
            .patch(
                "/api/v1/requests/REQ-1",
                Role::Requester,
                json!({"status": "closed"}),
            )
            .await;
        assert_eq!(reopen_by_requester.status, StatusCode::FORBIDDEN);
        let closed = app
            .patch(
                "/api/v1/requests/REQ-1",
                Role::Agent,
                json!({"status": "closed"}),
            )
            .await;
        assert_eq!(closed.body["status"], "closed");
        let again = app
            .patch(
                "/api/v1/requests/REQ-1",
                Role::Agent,
                json!({"status": "cancelled"}),
            )
            .await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert_eq!(again.body["allowed"], json!([]));
        let outsider = app
            .call(
                axum::http::Method::GET,
                "/api/v1/requests/REQ-1",
                Some(&app.outsider.clone()),
                None,
            )
            .await;
        assert_eq!(outsider.status, StatusCode::NOT_FOUND);
    }
);
