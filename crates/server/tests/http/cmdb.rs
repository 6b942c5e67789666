//! `/api/v1/ci-classes`, `/cis`, `/ci-relationships` and impact analysis, through the router.

use super::api::{TestApp, app, is_problem};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use steward_domain::access::Role;
use steward_store::{Store, both_backends};

pub(super) async fn create(app: &TestApp, path: &str, role: Role, body: Value) -> i64 {
    let reply = app.post(path, role, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{path}: {}", reply.text);
    reply.body["id"].as_i64().expect("id")
}

pub(super) async fn server(app: &TestApp, name: &str) -> i64 {
    create(
        app,
        "/api/v1/cis",
        Role::Agent,
        json!({"class": "Server", "name": name, "status": "in_use",
               "attributes": {"hostname": name.to_lowercase(), "ram_gb": 64}}),
    )
    .await
}

pub(super) async fn relate(app: &TestApp, source: i64, target: i64, kind: &str) {
    create(
        app,
        "/api/v1/ci-relationships",
        Role::Agent,
        json!({"source": source, "target": target, "type": kind}),
    )
    .await;
}

pub(super) async fn classes(app: &TestApp) {
    create(
        app,
        "/api/v1/ci-classes",
        Role::Admin,
        json!({"name": "Server", "attributes": [
            {"name": "hostname", "label": "Host name", "kind": "text", "required": true},
            {"name": "ram_gb", "label": "RAM (GB)", "kind": "number"}
        ]}),
    )
    .await;
    create(
        app,
        "/api/v1/ci-classes",
        Role::Admin,
        json!({"name": "Application"}),
    )
    .await;
}

both_backends!(the_contract_and_impact, |store: Store| async move {
    let app = app(store).await;
    classes(&app).await;
    let a = server(&app, "DB01").await;
    let x = create(
        &app,
        "/api/v1/cis",
        Role::Agent,
        json!({"class": "application", "name": "Payroll", "status": "in_use"}),
    )
    .await;
    let y = create(
        &app,
        "/api/v1/cis",
        Role::Agent,
        json!({"class": "Application", "name": "Payslips portal"}),
    )
    .await;
    // X depends on A; Y depends on X; a cycle back from A's replica does no harm.
    relate(&app, x, a, "depends_on").await;
    relate(&app, y, x, "depends_on").await;
    relate(&app, x, y, "connects_to").await;

    let impact = app
        .get(
            &format!("/api/v1/cis/{a}/impact?direction=downstream"),
            Role::Agent,
        )
        .await;
    assert_eq!(impact.status, StatusCode::OK, "{}", impact.text);
    let cis = impact.body["cis"].as_array().expect("cis");
    let found: Vec<(i64, &str, &str, i64)> = cis
        .iter()
        .map(|c| {
            (
                c["id"].as_i64().unwrap_or_default(),
                c["name"].as_str().unwrap_or_default(),
                c["class"].as_str().unwrap_or_default(),
                c["depth"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (x, "Payroll", "Application", 1),
            (y, "Payslips portal", "Application", 2)
        ]
    );
    assert_eq!(cis[1]["path"]["ci_ids"], json!([a, x, y]));
    assert_eq!(impact.body["total"], 2);

    let upstream = app
        .get(
            &format!("/api/v1/cis/{y}/impact?direction=upstream&depth=1"),
            Role::Auditor,
        )
        .await;
    assert_eq!(upstream.status, StatusCode::OK, "{}", upstream.text);
    assert_eq!(upstream.body["total"], 1);
    assert_eq!(upstream.body["cut_off"], true);

    let listed = app
        .get("/api/v1/cis?class_id=1&sort=name", Role::Auditor)
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    assert_eq!(listed.body["items"][0]["name"], "DB01");
    assert_eq!(listed.body["items"][0]["attributes"]["ram_gb"], json!(64.0));
    let rels = app
        .get(&format!("/api/v1/cis/{x}/relationships"), Role::Agent)
        .await;
    assert_eq!(rels.body.as_array().map(Vec::len), Some(3));
});

both_backends!(
    bad_input_and_access_are_refused,
    |store: Store| async move {
        let app = app(store).await;
        classes(&app).await;
        let a = server(&app, "DB01").await;
        // The schema is the admins'; CIs are everyone's who works records.
        let by_manager = app
            .post(
                "/api/v1/ci-classes",
                Role::Manager,
                json!({"name": "Switch"}),
            )
            .await;
        assert_eq!(by_manager.status, StatusCode::FORBIDDEN);
        let by_auditor = app
            .post(
                "/api/v1/cis",
                Role::Auditor,
                json!({"class": "Server", "name": "X", "attributes": {"hostname": "x"}}),
            )
            .await;
        assert_eq!(by_auditor.status, StatusCode::FORBIDDEN);
        let by_requester = app.get("/api/v1/cis", Role::Requester).await;
        assert_eq!(by_requester.status, StatusCode::FORBIDDEN);

        // A missing required attribute, an unknown one and an unknown class are named.
        let missing = app
            .post(
                "/api/v1/cis",
                Role::Agent,
                json!({"class": "Server", "name": "WEB01", "attributes": {"colour": "red"}}),
            )
            .await;
        assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(is_problem(&missing));
        assert!(
            missing.text.contains("attributes.hostname"),
            "{}",
            missing.text
        );
        assert!(
            missing.text.contains("attributes.colour"),
            "{}",
            missing.text
        );
        let unknown = app
            .post(
                "/api/v1/cis",
                Role::Agent,
                json!({"class": "Toaster", "name": "T"}),
            )
            .await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(unknown.text.contains("Toaster"), "{}", unknown.text);

        // Self-loops, unknown types and unknown CIs are refused; nothing is written.
        for body in [
            json!({"source": a, "target": a, "type": "depends_on"}),
            json!({"source": a, "target": a + 100, "type": "depends_on"}),
            json!({"source": a, "target": a, "type": "likes"}),
        ] {
            let r = app
                .post("/api/v1/ci-relationships", Role::Agent, body)
                .await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        }
        let rels = app
            .get(&format!("/api/v1/cis/{a}/relationships"), Role::Agent)
            .await;
        assert_eq!(rels.body, json!([]));

        // Retired is the end of a CI's life.
        let retire = app
            .call(
                Method::PUT,
                &format!("/api/v1/cis/{a}"),
                Some(app.token(Role::Agent)),
                Some(
                    json!({"class": "Server", "name": "DB01", "status": "retired",
                        "attributes": {"hostname": "db01"}}),
                ),
            )
            .await;
        assert_eq!(retire.status, StatusCode::OK, "{}", retire.text);
        let revive = app
            .call(
                Method::PUT,
                &format!("/api/v1/cis/{a}"),
                Some(app.token(Role::Agent)),
                Some(
                    json!({"class": "Server", "name": "DB01", "status": "in_use",
                        "attributes": {"hostname": "db01"}}),
                ),
            )
            .await;
        assert_eq!(revive.status, StatusCode::CONFLICT, "{}", revive.text);

        // Another tenant sees none of it.
        let outside = app
            .call(
                Method::GET,
                &format!("/api/v1/cis/{a}/impact"),
                Some(app.outsider.as_str()),
                None,
            )
            .await;
        assert_eq!(outside.status, StatusCode::NOT_FOUND);
        let bad_limit = app
            .get(&format!("/api/v1/cis/{a}/impact?limit=0"), Role::Agent)
            .await;
        assert_eq!(bad_limit.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
);

both_backends!(
    the_health_report_names_what_to_fix,
    |store: Store| async move {
        let app = app(store).await;
        classes(&app).await;
        let web = server(&app, "WEB01").await;
        // The same machine recorded twice, once by its full name.
        let twin = create(
            &app,
            "/api/v1/cis",
            Role::Agent,
            json!({"class": "Server", "name": "Web 1 (discovered)",
               "attributes": {"hostname": "WEB01.corp.example"}}),
        )
        .await;
        let app_ci = create(
            &app,
            "/api/v1/cis",
            Role::Agent,
            json!({"class": "Application", "name": "Intranet"}),
        )
        .await;
        relate(&app, app_ci, web, "runs_on").await;
        let verified = app
            .post(&format!("/api/v1/cis/{web}/verify"), Role::Agent, json!({}))
            .await;
        assert_eq!(verified.status, StatusCode::OK, "{}", verified.text);
        assert!(verified.body["verified_at"].is_string());
        // The Application class now requires an owner team name none of its CIs has.
        let class_id = app.get("/api/v1/ci-classes", Role::Agent).await.body[0]["id"]
            .as_i64()
            .expect("class id");
        let required = app
            .call(
                Method::PUT,
                &format!("/api/v1/ci-classes/{class_id}"),
                Some(app.token(Role::Admin)),
                Some(json!({"name": "Application", "attributes": [
                {"name": "vendor", "label": "Vendor", "kind": "text", "required": true}]})),
            )
            .await;
        assert_eq!(required.status, StatusCode::OK, "{}", required.text);

        let report = app.get("/api/v1/cmdb/health", Role::Auditor).await;
        assert_eq!(report.status, StatusCode::OK, "{}", report.text);
        let b = &report.body;
        let ids = |list: &Value, at: &str| -> Vec<i64> {
            list.as_array()
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|i| i.pointer(at).and_then(Value::as_i64))
                        .collect()
                })
                .unwrap_or_default()
        };
        assert_eq!(
            ids(&b["stale"], "/ci/id"),
            [twin, app_ci],
            "WEB01 was verified"
        );
        assert_eq!(ids(&b["orphans"], "/id"), [twin]);
        assert_eq!(b["duplicates"][0]["key"], "hostname");
        assert_eq!(ids(&b["duplicates"][0]["cis"], "/id"), [web, twin]);
        assert_eq!(ids(&b["missing_attributes"], "/ci/id"), [app_ci]);
        assert_eq!(b["missing_attributes"][0]["attributes"], json!(["vendor"]));
        assert_eq!(b["missing_attributes"][0]["ci"]["name"], "Intranet");
        assert_eq!(b["counts"]["stale"], 2);
        let none_stale = app
            .get("/api/v1/cmdb/health?stale_after_days=0", Role::Agent)
            .await;
        assert_eq!(none_stale.status, StatusCode::OK);
        let requester = app.get("/api/v1/cmdb/health", Role::Requester).await;
        assert_eq!(requester.status, StatusCode::FORBIDDEN);
    }
);
