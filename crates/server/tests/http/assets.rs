//! Asset management through the real router: the API's answers and problems, tenant isolation,
//! links to CIs, the expiring list, and the register's pages with their form.

use super::api::{Reply, app};
use super::cmdb_ui::{page, site};
use super::sla_ui::sign_in;
use super::support::{assert_refused, submit};
use super::ui::{get, send};
use crate::support::in_days;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use steward_domain::access::Role;
use steward_store::asset::today_utc;
use steward_store::{Store, both_backends};

fn laptop(tag: &str) -> Value {
    json!({
        "tag": tag, "name": "ThinkPad T14", "kind": "hardware", "status": "in_stock",
        "manufacturer": "Lenovo", "serial_number": format!("SN-{tag}"),
        "location": "Berlin office", "supplier": "Bechtle",
        "cost_minor": 129_990, "currency": "eur",
        "purchase_date": "2025-01-10", "warranty_expires": in_days(12)
    })
}

/// The register's form for the ThinkPad LT-7; the tests vary what may be refused.
fn thinkpad_form<'a>(
    csrf: &'a str,
    cost: &'a str,
    currency: &'a str,
    warranty_expires: &'a str,
) -> [(&'a str, &'a str); 9] {
    [
        ("_csrf", csrf),
        ("tag", "LT-7"),
        ("name", "ThinkPad X1"),
        ("kind", "hardware"),
        ("status", "in_stock"),
        ("cost", cost),
        ("currency", currency),
        ("warranty_expires", warranty_expires),
        ("location", "Lisbon office"),
    ]
}

fn field_errors(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

both_backends!(
    assets_are_created_moved_and_listed,
    |store: Store| async move {
        let app = app(store).await;
        let created = app
            .post("/api/v1/assets", Role::Agent, laptop("LT-1"))
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let id = created.body["id"].as_i64().expect("id");
        assert_eq!(created.body["currency"], "EUR");
        assert_eq!(created.body["status"], "in_stock");
        assert_eq!(created.body["warranty_expires"], in_days(12));

        let licence = app
            .post(
                "/api/v1/assets",
                Role::Agent,
                json!({"tag": "SW-PAY", "name": "Payroll licence", "kind": "software",
                   "licence_seats": 50, "seats_in_use": 55, "licence_expires": in_days(200)}),
            )
            .await;
        assert_eq!(licence.status, StatusCode::CREATED, "{}", licence.text);
        assert_eq!(licence.body["status"], "ordered");
        assert_eq!(
            licence.body["compliance"],
            json!({"state": "over_deployed", "over": 5})
        );
        assert_eq!(licence.body["warnings"].as_array().map(Vec::len), Some(1));

        let moved = app
            .post(
                &format!("/api/v1/assets/{id}/transitions"),
                Role::Agent,
                json!({"to": "deployed"}),
            )
            .await;
        assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
        assert_eq!(moved.body["status"], "deployed");
        let patched = app
            .patch(
                &format!("/api/v1/assets/{id}"),
                Role::Agent,
                json!({"location": "Hamburg office", "cost_minor": null, "currency": null}),
            )
            .await;
        assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
        assert_eq!(patched.body["location"], "Hamburg office");
        assert_eq!(patched.body["cost_minor"], Value::Null);
        assert_eq!(patched.body["status"], "deployed");

        let listed = app.get("/api/v1/assets?kind=software", Role::Auditor).await;
        assert_eq!(listed.status, StatusCode::OK);
        assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));
        let expiring = app
            .get("/api/v1/assets/expiring?days=30", Role::Auditor)
            .await;
        assert_eq!(expiring.status, StatusCode::OK, "{}", expiring.text);
        let tags: Vec<&str> = expiring
            .body
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|a| a["tag"].as_str())
            .collect();
        assert_eq!(tags, ["LT-1"]);
        let bad_days = app
            .get("/api/v1/assets/expiring?days=-1", Role::Agent)
            .await;
        assert_eq!(bad_days.status, StatusCode::UNPROCESSABLE_ENTITY);

        // Auditors read, never write; requesters do not see the register.
        let auditor = app
            .post("/api/v1/assets", Role::Auditor, laptop("LT-9"))
            .await;
        assert_eq!(auditor.status, StatusCode::FORBIDDEN);
        let requester = app.get("/api/v1/assets", Role::Requester).await;
        assert_eq!(requester.status, StatusCode::FORBIDDEN);
    }
);

both_backends!(bad_input_is_a_problem, |store: Store| async move {
    let app = app(store).await;
    let problem = |reply: &Reply| {
        reply
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    for (body, field) in [
        (json!({"currency": "EURO"}), "currency"),
        (json!({"cost_minor": -1}), "cost_minor"),
        (
            json!({"warranty_expires": "31.12.2027"}),
            "warranty_expires",
        ),
        (json!({"tag": " "}), "tag"),
    ] {
        let mut input = laptop("LT-BAD");
        for (k, v) in body.as_object().expect("object") {
            input[k] = v.clone();
        }
        let reply = app.post("/api/v1/assets", Role::Agent, input).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            reply.text
        );
        assert_eq!(problem(&reply).as_deref(), Some("application/problem+json"));
        assert!(
            field_errors(&reply.body).contains(&field.to_owned()),
            "{field}: {}",
            reply.text
        );
    }
    let zero_seats = app
        .post(
            "/api/v1/assets",
            Role::Agent,
            json!({"tag": "SW-0", "name": "Zero", "kind": "software", "licence_seats": 0}),
        )
        .await;
    assert_eq!(zero_seats.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_errors(&zero_seats.body).contains(&"licence_seats".to_owned()));

    let created = app
        .post("/api/v1/assets", Role::Agent, laptop("LT-1"))
        .await;
    let id = created.body["id"].as_i64().expect("id");
    let taken = app
        .post("/api/v1/assets", Role::Agent, laptop("lt-1"))
        .await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_errors(&taken.body).contains(&"tag".to_owned()));
    // An unknown status is a body it cannot take; a move the lifecycle lacks is a 409 naming
    // the moves it allows, like every other lifecycle in the API.
    let unknown = app
        .post(
            &format!("/api/v1/assets/{id}/transitions"),
            Role::Agent,
            json!({"to": "lost"}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    let illegal = app
        .post(
            &format!("/api/v1/assets/{id}/transitions"),
            Role::Agent,
            json!({"to": "disposed"}),
        )
        .await;
    assert_eq!(illegal.status, StatusCode::CONFLICT, "{}", illegal.text);
    assert_eq!(
        problem(&illegal).as_deref(),
        Some("application/problem+json")
    );
    assert_eq!(illegal.body["allowed"], json!(["deployed", "retired"]));
    let still = app.get(&format!("/api/v1/assets/{id}"), Role::Agent).await;
    assert_eq!(still.body["status"], "in_stock");
});

both_backends!(other_tenants_get_404, |store: Store| async move {
    let app = app(store).await;
    let created = app
        .post("/api/v1/assets", Role::Agent, laptop("LT-1"))
        .await;
    let id = created.body["id"].as_i64().expect("id");
    let outsider = Some(app.outsider.as_str());
    for (method, path, body) in [
        (Method::GET, format!("/api/v1/assets/{id}"), None),
        (
            Method::PATCH,
            format!("/api/v1/assets/{id}"),
            Some(json!({"name": "Mine now"})),
        ),
        (
            Method::POST,
            format!("/api/v1/assets/{id}/transitions"),
            Some(json!({"to": "deployed"})),
        ),
        (Method::GET, format!("/api/v1/assets/{id}/cis"), None),
        (
            Method::PUT,
            format!("/api/v1/assets/{id}/cis"),
            Some(json!({"ci_ids": []})),
        ),
    ] {
        let reply = app.call(method.clone(), &path, outsider, body).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    let theirs = app
        .call(Method::GET, "/api/v1/assets", outsider, None)
        .await;
    assert_eq!(theirs.body["items"], json!([]));
});

both_backends!(assets_link_to_cis, |store: Store| async move {
    let app = app(store).await;
    let class = app
        .post("/api/v1/ci-classes", Role::Admin, json!({"name": "Server"}))
        .await;
    assert_eq!(class.status, StatusCode::CREATED, "{}", class.text);
    let ci = app
        .post(
            "/api/v1/cis",
            Role::Admin,
            json!({"class": "Server", "name": "db-01"}),
        )
        .await;
    let ci_id = ci.body["id"].as_i64().expect("ci id");
    let asset = app
        .post("/api/v1/assets", Role::Agent, laptop("SRV-1"))
        .await;
    let id = asset.body["id"].as_i64().expect("id");
    let linked = app
        .call(
            Method::PUT,
            &format!("/api/v1/assets/{id}/cis"),
            Some(app.token(Role::Agent)),
            Some(json!({"ci_ids": [ci_id]})),
        )
        .await;
    assert_eq!(linked.status, StatusCode::OK, "{}", linked.text);
    assert_eq!(linked.body[0]["name"], "db-01");
    assert_eq!(linked.body[0]["class"], "Server");
    let read = app
        .get(&format!("/api/v1/assets/{id}/cis"), Role::Auditor)
        .await;
    assert_eq!(read.body[0]["id"], ci_id);
    let missing = app
        .call(
            Method::PUT,
            &format!("/api/v1/assets/{id}/cis"),
            Some(app.token(Role::Agent)),
            Some(json!({"ci_ids": [987_654]})),
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
});

both_backends!(the_register_pages_work, |store: Store| async move {
    let s = site(store).await;
    let (al, csrf) = sign_in(&s.app, "al@acme.test").await;
    let home = page(&s.app, "/", &al).await;
    assert!(home.html.contains("href=\"/assets\""), "the nav has Assets");
    let empty = page(&s.app, "/assets", &al).await;
    assert!(empty.html.contains("No assets yet"));
    page(&s.app, "/assets/new", &al).await;

    // Bad input: the form comes back with readable messages and what was typed.
    let bad = submit(
        &s.app,
        "/assets",
        &al,
        &thinkpad_form(&csrf, "-12", "EURO", &in_days(10)),
    )
    .await;
    assert_refused(&bad, "Cost cannot be negative");
    assert!(bad.html.contains("three-letter ISO 4217 code"));
    assert!(bad.html.contains("value=\"Lisbon office\""), "keeps input");
    assert!(bad.html.contains("value=\"ThinkPad X1\""));

    let good = submit(
        &s.app,
        "/assets",
        &al,
        &thinkpad_form(&csrf, "1299.90", "eur", &in_days(12)),
    )
    .await;
    assert_eq!(good.status, StatusCode::SEE_OTHER, "{}", good.html);
    let view_path = good.location.split('?').next().expect("path").to_owned();
    let view = page(&s.app, &good.location, &al).await;
    assert!(view.html.contains("1299.90 EUR"), "{}", view.html);
    assert!(view.html.contains("warranty ends in 12 days"));
    assert!(view.html.contains("Mark deployed"));
    let list = page(&s.app, "/assets?expiring_within=30", &al).await;
    assert!(list.html.contains("LT-7") && list.html.contains("warranty ends in 12 days"));

    // A lifecycle button, then a CI link shown on both pages.
    let moved = submit(
        &s.app,
        &format!("{view_path}/transitions"),
        &al,
        &[("_csrf", &csrf), ("to", "deployed")],
    )
    .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.html);
    let refused = submit(
        &s.app,
        &format!("{view_path}/transitions"),
        &al,
        &[("_csrf", &csrf), ("to", "disposed")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(
        refused
            .html
            .contains("an asset cannot go from deployed to disposed")
    );
    let db = s.db.to_string();
    let linked = submit(
        &s.app,
        &format!("{view_path}/cis"),
        &al,
        &[("_csrf", &csrf), ("ci", db.as_str())],
    )
    .await;
    assert_eq!(linked.status, StatusCode::SEE_OTHER, "{}", linked.html);
    let after = page(&s.app, &view_path, &al).await;
    assert!(after.html.contains("href=\"/cis/") && after.html.contains("DB01"));
    let ci_page = page(&s.app, &format!("/cis/{}", s.db), &al).await;
    assert!(
        ci_page.html.contains("LT-7"),
        "the CI page lists its assets"
    );
    let nowhere = submit(
        &s.app,
        &format!("{view_path}/cis"),
        &al,
        &[("_csrf", &csrf), ("ci", "no such ci")],
    )
    .await;
    assert_refused(&nowhere, "No CI is named");

    // Auditors read without buttons; another organisation finds nothing.
    let (ada, _) = sign_in(&s.app, "ada@acme.test").await;
    let read = page(&s.app, &view_path, &ada).await;
    assert!(!read.html.contains("Mark retired"));
    assert!(read.html.contains("History") && read.html.contains("in_stock → deployed"));
    let (oz, _) = sign_in(&s.app, "oz@other.test").await;
    let hidden = send(&s.app, get(&view_path, &oz)).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
});

both_backends!(the_daily_job_reminds_once, |store: Store| async move {
    let app = app(store.clone()).await;
    let mut soon = laptop("LT-SOON");
    soon["warranty_expires"] = json!(in_days(10));
    soon["owner_id"] = json!(null);
    let mut later = laptop("LT-LATER");
    later["warranty_expires"] = json!(in_days(90));
    for body in [soon, later] {
        let reply = app.post("/api/v1/assets", Role::Agent, body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    }
    let runner = steward_server::jobs::Runner::new(store.clone(), "test-node");
    let today = today_utc();
    // Two nodes' schedulers on the same day, then a job that runs again (a retry).
    assert_eq!(
        steward_server::asset_reminders::enqueue_day(&store, today)
            .await
            .expect("enqueue"),
        2,
        "one job per tenant"
    );
    assert_eq!(
        steward_server::asset_reminders::enqueue_day(&store, today)
            .await
            .expect("enqueue again"),
        0
    );
    runner.run_once().await.expect("run");
    let sent = store
        .send_asset_reminders(
            app.tenant_id,
            today,
            30,
            steward_server::asset_reminders::render,
        )
        .await
        .expect("second run");
    assert!(sent.is_empty());
    let outbox = store.outbox(app.tenant_id).await.expect("outbox");
    // No owner: the tenant's one manager hears of the laptop ending in 10 days, once; the one
    // ending in 90 days is no one's concern yet.
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    assert_eq!(outbox[0].to_address, "manager@acme.test");
    assert!(
        outbox[0].subject.contains("LT-SOON") && outbox[0].subject.contains("in 10 days"),
        "{}",
        outbox[0].subject
    );
});
