//! `/api/v1/problems`, `/known-errors` and links through the real router.

use super::api::{Reply, app, is_problem};
use super::categories::field_of;
use axum::http::StatusCode;
use serde_json::json;
use steward_domain::access::Role;
use steward_store::{Store, both_backends};

fn keys(r: &Reply, field: &str) -> Vec<String> {
    r.body.as_array().map_or(vec![], |a| {
        a.iter()
            .filter_map(|l| l[field].as_str().map(str::to_owned))
            .collect()
    })
}

both_backends!(from_incidents_to_a_known_error, |store: Store| async move {
    let app = app(store).await;
    for title in ["Mail slow", "Mail slow again"] {
        app.post("/api/v1/incidents", Role::Agent, json!({"title": title}))
            .await;
    }
    let created = app.post("/api/v1/problems", Role::Manager, json!({"title": "Mail server overloaded", "impact": "high", "incidents": ["INC-1", "INC-2"]})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(
        (
            created.body["key"].as_str(),
            created.body["status"].as_str()
        ),
        (Some("PRB-1"), Some("new"))
    );
    let linked = app.get("/api/v1/problems/PRB-1/links", Role::Auditor).await;
    assert_eq!(keys(&linked, "source"), ["INC-1", "INC-2"]);
    let from_incident = app.get("/api/v1/incidents/INC-1/links", Role::Agent).await;
    assert_eq!(from_incident.body[0]["kind"], "caused_by");
    assert_eq!(from_incident.body[0]["target"], "PRB-1");

    let skip = app
        .patch(
            "/api/v1/problems/PRB-1",
            Role::Agent,
            json!({"status": "resolved"}),
        )
        .await;
    assert_eq!(skip.status, StatusCode::CONFLICT);
    assert_eq!(skip.body["allowed"], json!(["investigating", "cancelled"]));
    app.patch(
        "/api/v1/problems/PRB-1",
        Role::Agent,
        json!({"status": "investigating"}),
    )
    .await;
    let no_workaround = app
        .patch(
            "/api/v1/problems/PRB-1",
            Role::Agent,
            json!({"status": "known_error", "root_cause": "Queue too small"}),
        )
        .await;
    assert_eq!(no_workaround.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(no_workaround.body["errors"][0]["field"], "workaround");
    let unchanged = app.get("/api/v1/problems/PRB-1", Role::Agent).await;
    assert_eq!(
        unchanged.body["root_cause"], "",
        "a refused change saves nothing"
    );
    let known = app.patch("/api/v1/problems/PRB-1", Role::Agent, json!({"status": "known_error", "root_cause": "Queue too small", "workaround": "Restart the queue service"})).await;
    assert_eq!(known.status, StatusCode::OK, "{}", known.text);
    assert_eq!(known.body["known_error"], "KE-1");

    let found = app
        .get("/api/v1/known-errors?q=queue+restart", Role::Agent)
        .await;
    assert_eq!(found.body["items"][0]["key"], "KE-1");
    let retired = app
        .patch(
            "/api/v1/known-errors/KE-1",
            Role::Agent,
            json!({"active": false}),
        )
        .await;
    assert_eq!(retired.body["active"], false);
    assert_eq!(
        app.get("/api/v1/known-errors", Role::Agent).await.body["items"],
        json!([])
    );
    assert_eq!(
        app.get("/api/v1/known-errors?all=true", Role::Agent)
            .await
            .body["items"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    assert_eq!(
        app.get("/api/v1/problems", Role::Requester).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post("/api/v1/problems", Role::Auditor, json!({"title": "x"}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let bad = app
        .post(
            "/api/v1/problems",
            Role::Agent,
            json!({"title": "x", "incidents": ["INC-99"]}),
        )
        .await;
    assert_eq!(bad.body["errors"][0]["field"], "incidents");
});

both_backends!(
    duplicates_merge_into_the_original,
    |store: Store| async move {
        let app = app(store).await;
        app.post(
            "/api/v1/incidents",
            Role::Agent,
            json!({"title": "Printer jammed"}),
        )
        .await;
        app.post(
            "/api/v1/incidents",
            Role::Agent,
            json!({"title": "Printer jammed (2)"}),
        )
        .await;
        app.post(
            "/api/v1/incidents/INC-2/comments",
            Role::Agent,
            json!({"body": "Same printer as INC-1"}),
        )
        .await;
        let merged = app
            .post(
                "/api/v1/incidents/INC-2/links",
                Role::Agent,
                json!({"kind": "duplicate_of", "target": "INC-1"}),
            )
            .await;
        assert_eq!(merged.status, StatusCode::CREATED, "{}", merged.text);
        let dup = app.get("/api/v1/incidents/INC-2", Role::Agent).await;
        assert_eq!(
            (
                dup.body["status"].as_str(),
                dup.body["resolution_code"].as_str()
            ),
            (Some("cancelled"), Some("duplicate"))
        );
        let moved = app
            .get("/api/v1/incidents/INC-1/comments", Role::Agent)
            .await;
        assert_eq!(moved.body[0]["body"], "Same printer as INC-1");
        let self_link = app
            .post(
                "/api/v1/incidents/INC-1/links",
                Role::Agent,
                json!({"kind": "related", "target": "INC-1"}),
            )
            .await;
        assert_eq!(self_link.status, StatusCode::UNPROCESSABLE_ENTITY);
        let wrong_way = app
            .post(
                "/api/v1/incidents/INC-1/links",
                Role::Agent,
                json!({"kind": "caused_by", "target": "INC-2"}),
            )
            .await;
        assert_eq!(wrong_way.status, StatusCode::UNPROCESSABLE_ENTITY);
        let nothing = app
            .post(
                "/api/v1/incidents/INC-1/links",
                Role::Agent,
                json!({"kind": "related", "target": "PRB-9"}),
            )
            .await;
        assert!(is_problem(&nothing) && nothing.status == StatusCode::UNPROCESSABLE_ENTITY);
    }
);

both_backends!(
    candidates_point_at_noisy_services,
    |store: Store| async move {
        let app = app(store).await;
        let svc = app
            .post(
                "/api/v1/services",
                Role::Admin,
                json!({"name": "VPN", "status": "live"}),
            )
            .await
            .body["id"]
            .as_i64()
            .expect("id");
        for i in 0..3 {
            app.post(
                "/api/v1/incidents",
                Role::Agent,
                json!({"title": format!("VPN down {i}"), "service_id": svc}),
            )
            .await;
        }
        let found = app.get("/api/v1/problems/candidates", Role::Manager).await;
        assert_eq!(found.body, json!([{"service_id": svc, "incidents": 3}]));
        assert_eq!(
            app.get("/api/v1/problems/candidates?threshold=4", Role::Manager)
                .await
                .body,
            json!([])
        );
    }
);

both_backends!(
    problems_carry_categories_and_custom_fields,
    |store: Store| async move {
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
        let foreign = app
            .call(
                Method::POST,
                "/api/v1/categories",
                Some(&app.outsider.clone()),
                Some(json!({"name": "Elsewhere"})),
            )
            .await
            .body["id"]
            .as_i64()
            .expect("id");
        let defs = app
            .call(
                Method::PUT,
                "/api/v1/custom-fields/problem",
                Some(app.token(Role::Admin)),
                Some(json!([
                    {"name": "asset_tag", "label": "Asset tag", "kind": "text", "required": true},
                    {"name": "floor", "label": "Floor", "kind": "number"},
                ])),
            )
            .await;
        assert_eq!(defs.status, StatusCode::OK, "{}", defs.text);

        for (body, field) in [
            (
                json!({"title": "Disk full", "custom": {"asset_tag": "A-1"}, "category_id": 999_999}),
                "category_id",
            ),
            (
                json!({"title": "Disk full", "custom": {"asset_tag": "A-1"}, "category_id": foreign}),
                "category_id",
            ),
            (json!({"title": "Disk full"}), "custom.asset_tag"),
            (
                json!({"title": "Disk full", "custom": {"asset_tag": "A-1", "floor": "third"}}),
                "custom.floor",
            ),
        ] {
            let refused = app.post("/api/v1/problems", Role::Manager, body).await;
            assert_eq!(
                refused.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{}",
                refused.text
            );
            assert!(is_problem(&refused), "{}", refused.text);
            assert_eq!(field_of(&refused.body), vec![field]);
        }
        let none = app.get("/api/v1/problems", Role::Agent).await;
        assert_eq!(
            none.body["items"].as_array().map(Vec::len),
            Some(0),
            "refused problems are not created"
        );

        let created = app
            .post(
                "/api/v1/problems",
                Role::Manager,
                json!({"title": "Disk full", "category_id": hw,
                       "custom": {"asset_tag": " A-1 ", "floor": "3"}}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        assert_eq!(created.body["category_id"], hw);
        assert_eq!(created.body["custom"]["asset_tag"], "A-1");
        assert_eq!(created.body["custom"]["floor"], json!(3.0));
        let key = created.body["key"].as_str().expect("key").to_owned();
        let read = app
            .get(&format!("/api/v1/problems/{key}"), Role::Auditor)
            .await;
        assert_eq!(read.body["custom"], created.body["custom"]);
        assert_eq!(read.body["category_id"], hw);

        for (patch, field) in [
            (json!({"custom": {"floor": "fourth"}}), "custom.floor"),
            (json!({"custom": {"asset_tag": null}}), "custom.asset_tag"),
            (json!({"category_id": 999_999}), "category_id"),
        ] {
            let refused = app
                .patch(&format!("/api/v1/problems/{key}"), Role::Agent, patch)
                .await;
            assert_eq!(
                refused.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{}",
                refused.text
            );
            assert!(is_problem(&refused));
            assert_eq!(field_of(&refused.body), vec![field]);
        }
        let unchanged = app
            .get(&format!("/api/v1/problems/{key}"), Role::Agent)
            .await;
        assert_eq!(unchanged.body["updated_at"], created.body["updated_at"]);
        assert_eq!(unchanged.body["custom"], created.body["custom"]);

        let patched = app
            .patch(
                &format!("/api/v1/problems/{key}"),
                Role::Agent,
                json!({"category_id": null, "custom": {"floor": null, "asset_tag": "A-2"}}),
            )
            .await;
        assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
        assert_eq!(patched.body["category_id"], json!(null));
        assert_eq!(patched.body["custom"], json!({"asset_tag": "A-2"}));
        assert_eq!(patched.body["title"], "Disk full", "the rest is untouched");

        let history = app
            .get(
                &format!(
                    "/api/v1/journal?record_type=problem&record_id={}",
                    created.body["id"]
                ),
                Role::Auditor,
            )
            .await;
        let newest = &history.body["items"][0];
        assert_eq!(
            newest["before"]["custom"]["asset_tag"], "A-1",
            "{}",
            history.text
        );
        assert_eq!(newest["before"]["category_id"], hw);
        assert_eq!(newest["after"]["custom"], json!({"asset_tag": "A-2"}));
        assert!(app.store.verify_journal().await.expect("verify").is_ok());
    }
);
