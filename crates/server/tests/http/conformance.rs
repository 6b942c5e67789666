//! `/api/v1/conformance` through the router: every clause with its requirements' status from
//! the tenant's records, the assessor's judgement kept apart, reproducible samples, and
//! problem+json refusals.

use super::api::{TestApp, app, is_problem};
use axum::http::StatusCode;
use serde_json::{Value, json};
use steward_domain::access::Role;
use steward_store::{Store, both_backends};

/// The requirement of `clause` in `all` whose rule is `rule`.
fn requirement<'a>(all: &'a Value, clause: &str, rule: &str) -> &'a Value {
    all["clauses"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["id"] == clause))
        .and_then(|c| c["requirements"].as_array())
        .and_then(|rs| rs.iter().find(|r| r["rule"] == rule))
        .unwrap_or_else(|| panic!("{clause} has no requirement checked by {rule}"))
}

async fn live_service(app: &TestApp, name: &str) -> i64 {
    let reply = app
        .post(
            "/api/v1/services",
            Role::Admin,
            json!({"name": name, "status": "live"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.body["id"].as_i64().expect("id")
}

both_backends!(
    clauses_show_what_the_records_show,
    |store: Store| async move {
        let app = app(store).await;
        let mail = live_service(&app, "Mail").await;
        let all = app.get("/api/v1/conformance/clauses", Role::Auditor).await;
        assert_eq!(all.status, StatusCode::OK, "{}", all.text);
        assert!(
            all.body["note"]
                .as_str()
                .expect("note")
                .contains("not a certification")
        );
        let clauses = all.body["clauses"].as_array().expect("clauses");
        assert!(clauses.len() >= 57);
        assert_eq!(clauses[0]["id"], "4.1");

        // A live service without an owner is a gap, and the record behind it is named.
        let owners = requirement(&all.body, "8.2.1", "live_services_have_owner");
        assert_eq!(owners["machine"], "gap");
        assert_eq!(owners["standing"], "gap");
        assert_eq!(owners["found"]["failing"][0]["id"], mail);
        assert_eq!(owners["found"]["failing"][0]["label"], "Mail");

        // One clause on its own.
        let one = app
            .get("/api/v1/conformance/clauses/8.2.1", Role::Manager)
            .await;
        assert_eq!(one.status, StatusCode::OK);
        assert_eq!(one.body["id"], "8.2.1");
        assert_eq!(one.body["standing"], "gap");
        let unknown = app
            .get("/api/v1/conformance/clauses/99.1", Role::Manager)
            .await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        assert!(is_problem(&unknown));

        // A period that ends before it begins is refused.
        let backwards = app
            .get(
                "/api/v1/conformance/clauses?from=2026-05-01&to=2026-04-01",
                Role::Manager,
            )
            .await;
        assert_eq!(backwards.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(is_problem(&backwards));
        let bad_date = app
            .get("/api/v1/conformance/clauses?from=yesterday", Role::Manager)
            .await;
        assert_eq!(bad_date.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
);

both_backends!(judgements_are_kept_apart, |store: Store| async move {
    let app = app(store).await;
    let path = "/api/v1/conformance/requirements/4.1-a/assessments";
    let why_not = app
        .post(path, Role::Manager, json!({"judgement": "nonconforming"}))
        .await;
    assert_eq!(why_not.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(is_problem(&why_not));
    assert!(why_not.text.contains("Say what does not conform"));
    let made = app
        .post(
            path,
            Role::Manager,
            json!({"judgement": "conforming", "comment": "Context list reviewed", "evidence": "MR-3"}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    assert_eq!(made.body["judgement"], "conforming");
    let unknown = app
        .post(
            "/api/v1/conformance/requirements/4.1-zz/assessments",
            Role::Manager,
            json!({"judgement": "conforming"}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    let history = app.get(path, Role::Auditor).await;
    assert_eq!(history.body.as_array().map(Vec::len), Some(1));
    let clause = app
        .get("/api/v1/conformance/clauses/4.1", Role::Auditor)
        .await;
    let req = clause.body["requirements"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["id"] == "4.1-a"))
        .expect("4.1-a");
    assert_eq!(req["machine"], "manual", "the machine's view stays its own");
    assert_eq!(req["assessment"]["judgement"], "conforming");
    assert_eq!(req["standing"], "met");
    // Auditors read; they do not judge through this door.
    let refused = app
        .post(path, Role::Auditor, json!({"judgement": "conforming"}))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
});

both_backends!(samples_are_reproducible, |store: Store| async move {
    let app = app(store).await;
    for n in 0..12 {
        live_service(&app, &format!("Service {n:02}")).await;
    }
    let path = "/api/v1/conformance/clauses/8.2.1/sample?size=5&seed=2026";
    let first = app.get(path, Role::Auditor).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.body["population"], 12);
    assert_eq!(first.body["records"].as_array().map(Vec::len), Some(5));
    let again = app.get(path, Role::Manager).await;
    assert_eq!(
        first.body["records"], again.body["records"],
        "same seed, same records"
    );
    let other_seed = app
        .get(
            "/api/v1/conformance/clauses/8.2.1/sample?size=5&seed=7",
            Role::Auditor,
        )
        .await;
    assert_ne!(first.body["records"], other_seed.body["records"]);
    let too_big = app
        .get(
            "/api/v1/conformance/clauses/8.2.1/sample?size=1000&seed=1",
            Role::Auditor,
        )
        .await;
    assert_eq!(too_big.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(is_problem(&too_big));
    let no_seed = app
        .get("/api/v1/conformance/clauses/8.2.1/sample", Role::Auditor)
        .await;
    assert!(no_seed.status.is_client_error());
});

both_backends!(the_evidence_pack_is_signed, |store: Store| async move {
    use steward_domain::conformance::pack::{check, sha256_hex};
    use steward_domain::signing::{KeySet, Signed, from_base64};
    let app = app(store).await;
    live_service(&app, "Mail").await;
    let reply = app
        .get("/api/v1/conformance/evidence-pack", Role::Auditor)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let files: std::collections::BTreeMap<String, Vec<u8>> = reply.body["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| {
            let content = f["content_base64"]
                .as_str()
                .and_then(from_base64)
                .expect("base64");
            (f["path"].as_str().expect("path").to_owned(), content)
        })
        .collect();
    let manifest: Signed = serde_json::from_slice(&files["manifest.json"]).expect("manifest");
    let published = app
        .send(
            axum::http::Request::get("/.well-known/steward/keys.json")
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await;
    let keys: KeySet = serde_json::from_str(&published.text).expect("keys");
    let on_disk = files
        .iter()
        .filter(|(p, _)| p.as_str() != "manifest.json")
        .map(|(p, c)| (p.clone(), sha256_hex(c)))
        .collect();
    let found = check(&manifest, &keys, &on_disk).expect("readable");
    assert!(found.is_intact(), "{found:?}");
    let report = String::from_utf8_lossy(&files["report.html"]).into_owned();
    assert!(report.contains("Mail"), "the gap's record is in the report");
    let refused = app
        .get("/api/v1/conformance/evidence-pack", Role::Agent)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
});
