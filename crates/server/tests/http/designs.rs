//! `/api/v1/service-designs` through the router: a design for a new service accepted into live
//! operation in one step, problem+json refusals, a major change waiting for its design, and
//! the design pages.

use super::api::{TestApp, app, is_problem};
use super::cmdb_ui::{attribute, ci, class};
use super::sla_ui::sign_in;
use super::support::{assert_unprocessable, submit, tenant_with_people};
use super::ui::{get, send};
use axum::http::StatusCode;
use serde_json::{Value, json};
use steward_domain::access::Role;
use steward_domain::request::FieldKind;
use steward_store::{Store, both_backends};

async fn created(app: &TestApp, path: &str, role: Role, body: Value) -> Value {
    let reply = app.post(path, role, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{path}: {}", reply.text);
    reply.body
}

/// A CI class whose `ram` must be a number.
async fn server_class(app: &TestApp) -> i64 {
    created(
        app,
        "/api/v1/ci-classes",
        Role::Admin,
        json!({"name": "Server", "attributes": [
            {"name": "ram", "label": "RAM (GB)", "kind": "number", "required": true}]}),
    )
    .await["id"]
        .as_i64()
        .expect("id")
}

fn design_body(class_id: i64, ram: Value) -> Value {
    json!({
        "title": "Video Conferencing",
        "requirements": "Meetings of up to 200 people",
        "design": "Hosted platform with SSO",
        "resources": "Two engineers",
        "transition_plan": "Pilot, then everyone",
        "criteria": [{"text": "Load test passes", "met": true, "evidence": "TR-7"}],
        "proposal": {
            "service": {"name": "Video Conferencing", "criticality": "high"},
            "catalogue": {"name": "Video account", "category": "Collaboration"},
            "agreement": {"name": "Video SLA", "kind": "sla",
                          "targets": [{"metric": "resolution", "minutes": 480}]},
            "new_cis": [{"class_id": class_id, "name": "video01", "attributes": {"ram": ram}}]
        }
    })
}

async fn ready(app: &TestApp, body: Value) -> String {
    let design = created(app, "/api/v1/service-designs", Role::Manager, body).await;
    let key = design["key"].as_str().expect("key").to_owned();
    for to in ["in_design", "ready_for_acceptance"] {
        let reply = app
            .post(
                &format!("/api/v1/service-designs/{key}/transitions"),
                Role::Manager,
                json!({ "to": to }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{to}: {}", reply.text);
    }
    key
}

both_backends!(a_design_goes_live_in_one_step, |store: Store| async move {
    let app = app(store).await;
    let class = server_class(&app).await;
    let key = ready(&app, design_body(class, json!(64))).await;
    assert_eq!(key, "SDR-1");
    // Agents read designs but do not accept them.
    let agent = app
        .post(
            &format!("/api/v1/service-designs/{key}/accept"),
            Role::Agent,
            json!({}),
        )
        .await;
    assert_eq!(agent.status, StatusCode::FORBIDDEN);
    let reply = app
        .post(
            &format!("/api/v1/service-designs/{key}/accept"),
            Role::Manager,
            json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let done = reply.body;
    assert_eq!(done["design"]["status"], "accepted");
    assert_eq!(done["service_created"], true);
    let service_id = done["service_id"].as_i64().expect("service");
    let service = app
        .get(&format!("/api/v1/services/{service_id}"), Role::Agent)
        .await;
    assert_eq!(service.body["status"], "live", "{}", service.text);
    let agreement = done["agreement_id"].as_i64().expect("agreement");
    let sla = app
        .get(&format!("/api/v1/sla/agreements/{agreement}"), Role::Agent)
        .await;
    assert_eq!(sla.body["service_id"], service_id, "{}", sla.text);
    assert_eq!(done["ci_ids"].as_array().map(Vec::len), Some(1));
    assert!(done["catalogue_item_id"].as_i64().is_some());
    let outputs = done["design"]["outputs"].as_array().expect("outputs");
    assert_eq!(outputs.len(), 4, "{outputs:?}");
    let read = app
        .get(&format!("/api/v1/service-designs/{key}"), Role::Auditor)
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["target_service_id"], service_id);
    let list = app
        .get("/api/v1/service-designs?status=accepted", Role::Agent)
        .await;
    assert_eq!(
        list.body["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        list.text
    );
    // Another tenant sees nothing.
    let other = app
        .call(
            axum::http::Method::GET,
            &format!("/api/v1/service-designs/{key}"),
            Some(&app.outsider),
            None,
        )
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
});

both_backends!(refusals_are_problems, |store: Store| async move {
    let app = app(store).await;
    let class = server_class(&app).await;
    // A title is required; a met criterion needs evidence.
    let mut body = design_body(class, json!(64));
    body["title"] = json!(" ");
    body["criteria"][0]["evidence"] = json!("");
    let reply = app.post("/api/v1/service-designs", Role::Admin, body).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(is_problem(&reply), "{}", reply.text);
    let fields: Vec<&str> = reply.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert!(fields.contains(&"title"), "{fields:?}");
    assert!(fields.contains(&"criteria[0].evidence"), "{fields:?}");
    // An attribute the class refuses: a 422 naming it, and no service behind.
    let key = ready(&app, design_body(class, json!("lots"))).await;
    let reply = app
        .post(
            &format!("/api/v1/service-designs/{key}/accept"),
            Role::Admin,
            json!({}),
        )
        .await;
    assert_unprocessable(&reply, "proposal.new_cis[0].attributes.ram");
    let services = app.get("/api/v1/services", Role::Admin).await;
    assert_eq!(
        services.body["items"].as_array().map(Vec::len),
        Some(0),
        "{}",
        services.text
    );
    // A record not ready is a 409; a stale edit is a 409.
    let draft = created(
        &app,
        "/api/v1/service-designs",
        Role::Admin,
        json!({"title": "Half done"}),
    )
    .await;
    let draft_key = draft["key"].as_str().expect("key");
    let reply = app
        .post(
            &format!("/api/v1/service-designs/{draft_key}/transitions"),
            Role::Admin,
            json!({"to": "ready_for_acceptance"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
    assert!(is_problem(&reply));
    let reply = app
        .patch(
            &format!("/api/v1/service-designs/{draft_key}"),
            Role::Admin,
            json!({"design": "x", "updated_at": "2001-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
    let reply = app
        .patch(
            &format!("/api/v1/service-designs/{draft_key}"),
            Role::Admin,
            json!({"design": "x", "updated_at": draft["updated_at"]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["design"], "x");
});

both_backends!(
    a_major_change_waits_for_its_design,
    |store: Store| async move {
        let app = app(store).await;
        let portal = created(
            &app,
            "/api/v1/services",
            Role::Admin,
            json!({"name": "Customer Portal", "status": "live"}),
        )
        .await["id"]
            .as_i64()
            .expect("id");
        let mut policy = app.get("/api/v1/change-policy", Role::Admin).await.body;
        policy["major"]["service_ids"] = json!([portal]);
        let reply = app
            .call(
                axum::http::Method::PUT,
                "/api/v1/change-policy",
                Some(app.token(Role::Admin)),
                Some(policy),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let change = created(
            &app,
            "/api/v1/changes",
            Role::Agent,
            json!({"title": "New portal cluster", "type": "normal", "services": [portal],
                   "planned_start": "2031-03-01T22:00:00Z", "planned_end": "2031-03-02T02:00:00Z",
                   "implementation_plan": "Deploy", "backout_plan": "Roll back"}),
        )
        .await;
        let key = change["key"].as_str().expect("key");
        let read = app
            .get(&format!("/api/v1/changes/{key}"), Role::Agent)
            .await;
        assert_eq!(read.body["major"], true, "{}", read.text);
        assert_eq!(read.body["design_key"], "SDR-1");
        for to in ["assessment"] {
            app.post(
                &format!("/api/v1/changes/{key}/transitions"),
                Role::Agent,
                json!({ "to": to }),
            )
            .await;
        }
        let risk = app
            .call(
                axum::http::Method::PUT,
                &format!("/api/v1/changes/{key}/risk"),
                Some(app.token(Role::Agent)),
                Some(
                    json!({"answers": {"blast_radius": "one_ci", "tested": "yes",
                    "backout_tested": "yes", "customer_facing": "no", "out_of_hours": "yes"}}),
                ),
            )
            .await;
        assert_eq!(risk.status, StatusCode::OK, "{}", risk.text);
        let reply = app
            .post(
                &format!("/api/v1/changes/{key}/transitions"),
                Role::Agent,
                json!({"to": "authorisation"}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let reply = app
            .post(
                &format!("/api/v1/changes/{key}/approvals"),
                Role::Manager,
                json!({"verdict": "approve"}),
            )
            .await;
        assert!(reply.status.is_success(), "{}", reply.text);
        let reply = app
            .post(
                &format!("/api/v1/changes/{key}/transitions"),
                Role::Agent,
                json!({"to": "scheduled"}),
            )
            .await;
        assert_unprocessable(&reply, "SDR-1");
    }
);

/// A tenant with a manager (`mia@`) and an agent (`al@`) who sign in through the form, a
/// Server class (`ram` a required number) and the CI `core-sw`; answers the class's id.
async fn ui_site(store: Store) -> (axum::Router, i64) {
    let (tenant_id, _) = tenant_with_people(
        &store,
        "Acme",
        &[
            ("mia@acme.test", "mia@acme.test", Role::Manager),
            ("al@acme.test", "al@acme.test", Role::Agent),
        ],
    )
    .await;
    let ram = attribute("ram", "RAM (GB)", FieldKind::Number, true);
    let server = class(&store, tenant_id, "Server", vec![ram]).await;
    let switch = class(&store, tenant_id, "Switch", vec![]).await;
    ci(&store, tenant_id, &switch, "core-sw", vec![]).await;
    let app = steward_server::router(steward_server::AppState::new(
        store,
        steward_server::ServerConfig::default(),
    ));
    (app, server.id)
}

both_backends!(the_design_pages, |store: Store| async move {
    let (app, server) = ui_site(store).await;
    let server = server.to_string();
    let (cookie, csrf) = sign_in(&app, "mia@acme.test").await;
    let list = send(&app, get("/designs", &cookie)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.html.contains("Service design and transition"));
    assert!(list.html.contains("href=\"/designs\""), "nav entry");
    let blank = send(&app, get("/designs/new", &cookie)).await;
    assert_eq!(blank.status, StatusCode::OK);
    for field in [
        "service.name",
        "sla.resolution.P1",
        "new_ci.0.class_id",
        "link_ci",
    ] {
        assert!(blank.html.contains(&format!("name=\"{field}\"")), "{field}");
    }
    assert!(blank.html.contains("core-sw #"), "CI suggestions");
    // A bad form keeps what was typed and puts each error by its field.
    let bad = submit(
        &app,
        "/designs",
        &cookie,
        &[
            ("_csrf", &csrf),
            ("title", ""),
            ("requirements", "Meetings for 200 people"),
            ("criterion.0.text", "Load test passes"),
            ("criterion.0.met", "on"),
            ("sla.name", "Video SLA"),
            ("sla.record_kind", "incident"),
            ("sla.resolution.P2", "eight hours"),
            ("new_ci.0.class_id", ""),
            ("new_ci.0.name", "video01"),
            ("new_ci.0.status", "in_use"),
            ("link_ci", "no-such-ci"),
        ],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.html.contains("Meetings for 200 people"), "kept input");
    assert!(bad.html.contains("value=\"eight hours\""), "kept target");
    assert!(bad.html.contains("value=\"video01\""), "kept CI row");
    assert!(bad.html.contains("Say what shows the criterion is met"));
    assert!(
        bad.html.contains("write a time such as 4 h"),
        "{}",
        bad.html
    );
    assert!(bad.html.contains("Choose a class"));
    assert!(bad.html.contains("No CI is named “no-such-ci”"));
    let made = submit(
        &app,
        "/designs",
        &cookie,
        &[
            ("_csrf", &csrf),
            ("title", "Video Conferencing"),
            ("requirements", "Meetings for 200 people"),
            ("design", "Hosted"),
            ("resources", "Two engineers"),
            ("transition_plan", "Pilot first"),
            ("criterion.0.text", ""),
            ("criterion.1.text", "Load test passes"),
            ("criterion.1.met", "on"),
            ("criterion.1.evidence", "TR-7"),
            ("service.name", "Video Conferencing"),
            ("service.criticality", "high"),
            ("catalogue.item_id", ""),
            ("catalogue.name", "Video account"),
            ("catalogue.category", "Collaboration"),
            ("sla.name", "Video SLA"),
            ("sla.record_kind", "incident"),
            ("sla.first_response.P1", "15 min"),
            ("sla.resolution.any", "8 h"),
            ("new_ci.0.class_id", &server),
            ("new_ci.0.name", "video01"),
            ("new_ci.0.status", "in_use"),
            ("new_ci.0.attributes", "ram: 64"),
            ("link_ci", "core-sw"),
            ("link_ci", ""),
        ],
    )
    .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.html);
    assert_eq!(made.location, "/designs/SDR-1?done=created");
    // The edit form shows the record as it was written, field by field.
    let edit = send(&app, get("/designs/SDR-1/edit", &cookie)).await;
    assert_eq!(edit.status, StatusCode::OK);
    assert!(edit.html.contains("value=\"Load test passes\""));
    assert!(
        edit.html.contains("value=\"15 min\""),
        "first response target"
    );
    assert!(edit.html.contains("value=\"8 h\""), "resolution target");
    assert!(edit.html.contains(">ram: 64</textarea>"), "attributes");
    assert!(edit.html.contains("value=\"core-sw #"), "linked CI");
    for to in ["in_design", "ready_for_acceptance"] {
        let moved = submit(
            &app,
            "/designs/SDR-1/transitions",
            &cookie,
            &[("_csrf", &csrf), ("to", to)],
        )
        .await;
        assert_eq!(moved.status, StatusCode::SEE_OTHER, "{to}: {}", moved.html);
    }
    let page = send(&app, get("/designs/SDR-1", &cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("Accept and go live"));
    assert!(page.html.contains("Load test passes"));
    assert!(page.html.contains("Video SLA"));
    assert!(
        page.html.contains("First response for P1 in 15 min"),
        "{}",
        page.html
    );
    assert!(page.html.contains("core-sw #"), "CI to link by name");
    let accepted = submit(&app, "/designs/SDR-1/accept", &cookie, &[("_csrf", &csrf)]).await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.html);
    let page = send(&app, get("/designs/SDR-1?done=accepted", &cookie)).await;
    assert!(page.html.contains("What acceptance did"));
    assert!(
        page.html.contains("href=\"/services/"),
        "link to the service"
    );
    assert!(page.html.contains("href=\"/agreements/"), "link to the SLA");
    assert!(page.html.contains("href=\"/cis/"), "link to the new CI");
    assert!(!page.html.contains(">Accept and go live<"));
    // Agents read but do not accept.
    let (agent, agent_csrf) = sign_in(&app, "al@acme.test").await;
    let read = send(&app, get("/designs/SDR-1", &agent)).await;
    assert_eq!(read.status, StatusCode::OK);
    let refused = submit(
        &app,
        "/designs/SDR-1/accept",
        &agent,
        &[("_csrf", &agent_csrf)],
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
});
