//! `/api/v1/catalogue-items` and `/requests` through the real router.

use super::api::{app, is_problem};
use super::categories::field_of;
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

both_backends!(the_desk_classifies_requests, |store: Store| async move {
    use axum::http::Method;
    let app = app(store).await;
    let hw = app
        .post(
            "/api/v1/categories",
            Role::Admin,
            json!({"name": "Hardware"}),
        )
        .await
        .body["id"]
        .as_i64()
        .expect("id");
    let defs = app
        .call(
            Method::PUT,
            "/api/v1/custom-fields/request",
            Some(app.token(Role::Admin)),
            Some(json!([
                {"name": "asset_tag", "label": "Asset tag", "kind": "text", "required": true},
                {"name": "floor", "label": "Floor", "kind": "number"},
            ])),
        )
        .await;
    assert_eq!(defs.status, StatusCode::OK, "{}", defs.text);
    let item_id = app
        .post(
            "/api/v1/catalogue-items",
            Role::Manager,
            json!({"name": "Desk phone", "tasks": [{"title": "Deliver"}]}),
        )
        .await
        .body["id"]
        .as_i64()
        .expect("item");

    let ordered = app
        .post(
            "/api/v1/requests",
            Role::Requester,
            json!({"item_id": item_id}),
        )
        .await;
    assert_eq!(
        ordered.status,
        StatusCode::CREATED,
        "required custom fields do not hold up ordering: {}",
        ordered.text
    );
    assert_eq!(ordered.body["category_id"], json!(null));
    assert_eq!(ordered.body["custom"], json!({}));
    let key = ordered.body["key"].as_str().expect("key").to_owned();
    let path = format!("/api/v1/requests/{key}");
    let classifying = app
        .post(
            "/api/v1/requests",
            Role::Requester,
            json!({"item_id": item_id, "category_id": hw, "custom": {"asset_tag": "A-1"}}),
        )
        .await;
    assert_eq!(classifying.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_of(&classifying.body), vec!["category_id", "custom"]);

    let by_agent = app
        .post(
            "/api/v1/requests",
            Role::Agent,
            json!({"item_id": item_id, "category_id": hw, "custom": {"floor": "2"}}),
        )
        .await;
    assert_eq!(by_agent.status, StatusCode::CREATED, "{}", by_agent.text);
    assert_eq!(by_agent.body["category_id"], hw);
    assert_eq!(by_agent.body["custom"], json!({"floor": 2.0}));
    let bad_value = app
        .post(
            "/api/v1/requests",
            Role::Agent,
            json!({"item_id": item_id, "custom": {"floor": "two"}}),
        )
        .await;
    assert_eq!(bad_value.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_of(&bad_value.body), vec!["custom.floor"]);

    let by_requester = app
        .patch(
            &path,
            Role::Requester,
            json!({"custom": {"asset_tag": "A-1"}}),
        )
        .await;
    assert_eq!(by_requester.status, StatusCode::FORBIDDEN);
    assert!(is_problem(&by_requester));

    for (patch, fields) in [
        (
            json!({"custom": {"asset_tag": "A-1", "floor": "two"}}),
            vec!["custom.floor"],
        ),
        (json!({"custom": {"floor": "1"}}), vec!["custom.asset_tag"]),
        (
            json!({"category_id": 999_999, "custom": {"asset_tag": "A-1"}}),
            vec!["category_id"],
        ),
        (
            json!({"status": "cancelled", "custom": {"asset_tag": "A-1", "floor": "x"}}),
            vec!["custom.floor"],
        ),
    ] {
        let refused = app.patch(&path, Role::Agent, patch).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.text
        );
        assert!(is_problem(&refused));
        assert_eq!(field_of(&refused.body), fields);
    }
    let unchanged = app.get(&path, Role::Agent).await;
    assert_eq!(unchanged.body["custom"], json!({}));
    assert_eq!(unchanged.body["status"], ordered.body["status"]);
    assert_eq!(unchanged.body["updated_at"], ordered.body["updated_at"]);

    let classified = app
        .patch(
            &path,
            Role::Agent,
            json!({"category_id": hw, "custom": {"asset_tag": " A-1 ", "floor": "4"}}),
        )
        .await;
    assert_eq!(classified.status, StatusCode::OK, "{}", classified.text);
    assert_eq!(classified.body["category_id"], hw);
    assert_eq!(
        classified.body["custom"],
        json!({"asset_tag": "A-1", "floor": 4.0})
    );
    assert_eq!(classified.body["status"], ordered.body["status"]);
    let mine = app.get(&path, Role::Requester).await;
    assert_eq!(mine.body["custom"]["asset_tag"], "A-1");

    let history = app
        .get(
            &format!(
                "/api/v1/journal?record_type=request&record_id={}",
                ordered.body["id"]
            ),
            Role::Auditor,
        )
        .await;
    let newest = &history.body["items"][0];
    assert_eq!(newest["before"]["custom"], json!({}), "{}", history.text);
    assert_eq!(newest["after"]["custom"]["asset_tag"], "A-1");
    assert_eq!(newest["after"]["category_id"], hw);

    let cancelled = app
        .patch(
            &path,
            Role::Agent,
            json!({"status": "cancelled", "custom": {"floor": null}}),
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text);
    assert_eq!(cancelled.body["status"], "cancelled");
    assert_eq!(cancelled.body["custom"], json!({"asset_tag": "A-1"}));
    let after_cancel = app
        .get(
            &format!(
                "/api/v1/journal?record_type=request&record_id={}",
                ordered.body["id"]
            ),
            Role::Auditor,
        )
        .await;
    let items = after_cancel.body["items"].as_array().map_or(0, Vec::len);
    let both = &after_cancel.body["items"][0];
    assert_eq!(
        items,
        history.body["items"].as_array().map_or(0, Vec::len) + 1
    );
    assert_eq!(
        (
            both["after"]["status"].as_str(),
            both["after"]["custom"].clone()
        ),
        (Some("cancelled"), json!({"asset_tag": "A-1"})),
        "status and classification change in one journaled write"
    );
    assert!(both["after"]["closed_at"].is_i64());
    let frozen = app
        .patch(&path, Role::Agent, json!({"custom": {"asset_tag": "A-2"}}))
        .await;
    assert_eq!(frozen.status, StatusCode::CONFLICT, "{}", frozen.text);
    assert!(app.store.verify_journal().await.expect("verify").is_ok());
});
