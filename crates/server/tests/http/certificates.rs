//! The certificate register through the real router: the API with its refusals, the public
//! verification page and JSON with signed statements that verify against the published keys,
//! the identical 404 for unknown and confidential numbers, the daily expiry job, and the
//! register's pages with their forms.

use super::api::{Reply, app, is_problem};
use super::cmdb_ui::page;
use super::sla_ui::sign_in;
use super::support::{assert_refused, submit, tenant_with_people};
use super::ui::{Page, get, send};
use crate::support::in_days;
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use steward_domain::access::Role;
use steward_domain::signing::{KeySet, Signed, verify_statement};
use steward_server::jobs::Runner;
use steward_server::{AppState, ServerConfig, router};
use steward_store::asset::today_utc;
use steward_store::{Store, both_backends};

fn certificate(number: &str) -> Value {
    json!({
        "number": number,
        "scope": "Managed hosting and the service desk for customers in the EU",
        "organisation": "Acme GmbH",
        "sites": "Berlin\nLisbon",
        "certification_body": "Example Certification GmbH",
        "accreditation_body": "DAkkS",
        "accreditation_number": "D-ZM-12345-01-00",
        "original_date": in_days(-700),
        "issue_date": in_days(-330),
        "expiry_date": in_days(765),
        "next_surveillance": in_days(30)
    })
}

/// A public request: no credentials, optionally asking for JSON.
async fn public(app: &super::api::TestApp, path: &str, json: bool) -> Reply {
    let mut request = Request::builder().method(Method::GET).uri(path);
    if json {
        request = request.header(header::ACCEPT, "application/json");
    }
    app.send(request.body(Body::empty()).expect("request"))
        .await
}

fn keys(reply: &Reply) -> KeySet {
    serde_json::from_value(reply.body.clone()).expect("keys file")
}

fn signed(m: &Value) -> Signed {
    serde_json::from_value(m["signed_statement"].clone()).expect("signed statement")
}

both_backends!(
    certificates_verify_publicly_with_signed_statements,
    |store: Store| async move {
        let app = app(store).await;
        let created = app
            .post(
                "/api/v1/certificates",
                Role::Manager,
                certificate("ITSM-2026-001"),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let id = created.body["id"].as_i64().expect("id");
        assert_eq!(created.body["status"], "valid");
        assert_eq!(created.body["standard"], "ISO/IEC 20000-1:2018");
        assert_eq!(created.body["days_to_expiry"], 765);

        // Anyone, without login, as JSON.
        let found = public(&app, "/verify/ITSM-2026-001", true).await;
        assert_eq!(found.status, StatusCode::OK, "{}", found.text);
        let m = &found.body["matches"][0];
        assert_eq!(m["status"], "valid");
        assert_eq!(m["organisation"], "Acme GmbH");
        assert_eq!(m["certification_body"], "Example Certification GmbH");
        assert_eq!(m["accreditation_body"], "DAkkS");
        assert_eq!(m["expiry_date"], in_days(765));
        assert_eq!(m["tenant"], "acme");
        assert!(m["last_updated"].is_string());
        let keys_file = public(&app, "/.well-known/steward/keys.json", false).await;
        assert_eq!(keys_file.status, StatusCode::OK);
        let published = keys(&keys_file);
        let checked = verify_statement(&signed(m), &published).expect("the signature verifies");
        assert_eq!(checked.tenant, "acme");
        assert_eq!(m["signed_statement"]["statement"]["status"], "valid");
        // One byte changed in the statement, and it no longer verifies.
        let mut altered = signed(m);
        altered.statement["expiry_date"] = json!("2099-12-31");
        assert!(verify_statement(&altered, &published).is_err());

        // And as a page, in words.
        let html = public(&app, "/verify/itsm-2026-001", false).await;
        assert_eq!(html.status, StatusCode::OK);
        assert!(
            html.text.contains("<strong>Valid</strong>"),
            "{}",
            html.text
        );
        assert!(html.text.contains("Example Certification GmbH"));
        assert!(html.text.contains("steward verify-statement"));
        // The form sends the browser on to the answer.
        let typed = public(&app, "/verify?number=ITSM-2026-001", false).await;
        assert_eq!(typed.status, StatusCode::SEE_OTHER);
        assert_eq!(
            typed.headers[header::LOCATION].to_str().expect("location"),
            "/verify/ITSM-2026-001"
        );
        assert_eq!(public(&app, "/verify", false).await.status, StatusCode::OK);

        // Suspended: the public answer says so at once.
        let suspended = app
            .post(
                &format!("/api/v1/certificates/{id}/status"),
                Role::Manager,
                json!({"to": "suspended", "reason": "Surveillance audit missed"}),
            )
            .await;
        assert_eq!(suspended.status, StatusCode::OK, "{}", suspended.text);
        let now = public(&app, "/verify/ITSM-2026-001", true).await;
        assert_eq!(now.body["matches"][0]["status"], "suspended");
        assert!(verify_statement(&signed(&now.body["matches"][0]), &published).is_ok());
        let page = public(&app, "/verify/ITSM-2026-001", false).await;
        assert!(page.text.contains("<strong>Suspended</strong>"));
        let history = app
            .get(&format!("/api/v1/certificates/{id}/history"), Role::Auditor)
            .await;
        assert_eq!(history.status, StatusCode::OK);
        assert_eq!(history.body[1]["to"], "suspended");
        assert_eq!(history.body[1]["reason"], "Surveillance audit missed");
        assert_eq!(history.body[1]["by"], "manager@acme.test");

        // Confidential and unknown answer the same 404, as JSON and as a page.
        let current = app
            .get(&format!("/api/v1/certificates/{id}"), Role::Manager)
            .await;
        let hidden = app
            .patch(
                &format!("/api/v1/certificates/{id}"),
                Role::Manager,
                json!({"updated_at": current.body["updated_at"], "confidential": true}),
            )
            .await;
        assert_eq!(hidden.status, StatusCode::OK, "{}", hidden.text);
        for json in [true, false] {
            let secret = public(&app, "/verify/ITSM-2026-001", json).await;
            let unknown = public(&app, "/verify/NO-SUCH-1", json).await;
            assert_eq!(secret.status, StatusCode::NOT_FOUND);
            assert_eq!(unknown.status, StatusCode::NOT_FOUND);
            assert_eq!(secret.raw, unknown.raw, "the two 404s differ");
            assert!(!secret.text.contains("Acme") && !secret.text.contains("acme"));
        }
        assert!(is_problem(&public(&app, "/verify/NO-SUCH-1", true).await));
    }
);

both_backends!(
    the_same_number_in_two_tenants_answers_both,
    |store: Store| async move {
        let app = app(store).await;
        let number = "ISO/2026-7";
        let mine = app
            .post("/api/v1/certificates", Role::Admin, certificate(number))
            .await;
        assert_eq!(mine.status, StatusCode::CREATED, "{}", mine.text);
        let theirs = app
            .call(
                Method::POST,
                "/api/v1/certificates",
                Some(&app.outsider.clone()),
                Some(certificate(number)),
            )
            .await;
        assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.text);
        let found = public(&app, "/verify/ISO%2F2026-7", true).await;
        assert_eq!(found.status, StatusCode::OK, "{}", found.text);
        let tenants: Vec<&str> = found.body["matches"]
            .as_array()
            .expect("matches")
            .iter()
            .filter_map(|m| m["tenant"].as_str())
            .collect();
        assert_eq!(tenants, ["acme", "other"]);
        let published = keys(&public(&app, "/.well-known/steward/keys.json", false).await);
        assert_eq!(published.keys.len(), 2);
        for m in found.body["matches"].as_array().expect("matches") {
            assert!(verify_statement(&signed(m), &published).is_ok());
        }
        // Signed by one tenant's key while naming the other's: refused as the wrong key.
        let mut swapped = signed(&found.body["matches"][0]);
        swapped.signature = signed(&found.body["matches"][1]).signature;
        assert!(verify_statement(&swapped, &published).is_err());
        let typed = public(&app, "/verify?number=ISO%2F2026-7", false).await;
        assert_eq!(
            typed.headers[header::LOCATION].to_str().expect("location"),
            "/verify/ISO%2F2026-7"
        );
    }
);

both_backends!(
    the_api_refuses_as_problem_documents,
    |store: Store| async move {
        let app = app(store).await;
        let refused = app
            .post("/api/v1/certificates", Role::Agent, certificate("C-1"))
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(is_problem(&refused));
        let mut bad = certificate("C 1");
        bad["expiry_date"] = json!(in_days(-400));
        bad["scope"] = json!("");
        let invalid = app.post("/api/v1/certificates", Role::Manager, bad).await;
        assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(is_problem(&invalid));
        for field in ["number", "scope", "expiry_date"] {
            assert!(invalid.text.contains(field), "{field}: {}", invalid.text);
        }
        let created = app
            .post("/api/v1/certificates", Role::Manager, certificate("C-1"))
            .await;
        let id = created.body["id"].as_i64().expect("id");
        let taken = app
            .post("/api/v1/certificates", Role::Manager, certificate("c-1"))
            .await;
        assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(taken.text.contains("number"));
        // A move the lifecycle lacks: 409 naming what is allowed.
        let frozen = app
            .post(
                &format!("/api/v1/certificates/{id}/status"),
                Role::Manager,
                json!({"to": "valid", "reason": "Again"}),
            )
            .await;
        assert_eq!(frozen.status, StatusCode::CONFLICT, "{}", frozen.text);
        assert!(is_problem(&frozen));
        assert!(frozen.text.contains("suspended"));
        let no_reason = app
            .post(
                &format!("/api/v1/certificates/{id}/status"),
                Role::Manager,
                json!({"to": "suspended", "reason": " "}),
            )
            .await;
        assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(no_reason.text.contains("reason"));
        // An edit over someone else's.
        let stale = app
            .patch(
                &format!("/api/v1/certificates/{id}"),
                Role::Manager,
                json!({"updated_at": "2000-01-01T00:00:00Z", "scope": "Less"}),
            )
            .await;
        assert_eq!(stale.status, StatusCode::CONFLICT);
        assert!(is_problem(&stale));
        // Another tenant's certificate is not found.
        let elsewhere = app
            .call(
                Method::GET,
                &format!("/api/v1/certificates/{id}"),
                Some(&app.outsider.clone()),
                None,
            )
            .await;
        assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
        let listed = app
            .get("/api/v1/certificates?status=valid", Role::Auditor)
            .await;
        assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));
        let bad_filter = app
            .get("/api/v1/certificates?status=lapsed", Role::Auditor)
            .await;
        assert_eq!(bad_filter.status, StatusCode::BAD_REQUEST);
    }
);

both_backends!(
    the_daily_job_expires_and_reminds_once,
    |store: Store| async move {
        let app = app(store.clone()).await;
        let mut soon = certificate("SOON-1");
        soon["original_date"] = json!(in_days(-1000));
        soon["issue_date"] = json!(in_days(-1000));
        soon["expiry_date"] = json!(in_days(1));
        soon["next_surveillance"] = Value::Null;
        let created = app.post("/api/v1/certificates", Role::Manager, soon).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let id = created.body["id"].as_i64().expect("id");
        let runner = Runner::new(store.clone(), "test-node");
        // Today: the expiry is tomorrow, so the managers are reminded.
        steward_server::certificate_reminders::enqueue_day(&store, today_utc())
            .await
            .expect("enqueue");
        runner.run_once().await.expect("run");
        let outbox = store.outbox(app.tenant_id).await.expect("outbox");
        assert_eq!(outbox.len(), 1, "{outbox:?}");
        assert_eq!(outbox[0].to_address, "manager@acme.test");
        assert!(outbox[0].subject.contains("SOON-1 expires tomorrow"));
        // Two days on, it has expired.
        let later = today_utc()
            .checked_add(jiff::Span::new().days(2))
            .expect("date");
        for _ in 0..2 {
            steward_server::certificate_reminders::enqueue_day(&store, later)
                .await
                .expect("enqueue");
            runner.run_once().await.expect("run");
        }
        let now = app
            .get(&format!("/api/v1/certificates/{id}"), Role::Auditor)
            .await;
        assert_eq!(now.body["status"], "expired");
        let history = app
            .get(&format!("/api/v1/certificates/{id}/history"), Role::Auditor)
            .await;
        assert_eq!(history.body.as_array().map(Vec::len), Some(2));
        assert_eq!(history.body[1]["by"], "system");
        assert_eq!(store.outbox(app.tenant_id).await.expect("outbox").len(), 1);
    }
);

async fn site(store: &Store) -> Router {
    tenant_with_people(
        store,
        "Acme",
        &[
            ("max@acme.test", "Max", Role::Manager),
            ("ada@acme.test", "Ada", Role::Auditor),
            ("rae@acme.test", "Rae", Role::Requester),
        ],
    )
    .await;
    router(AppState::new(store.clone(), ServerConfig::default()))
}

fn form<'a>(csrf: &'a str, number: &'a str, expiry: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("_csrf", csrf),
        ("number", number),
        ("standard", "ISO/IEC 20000-1:2018"),
        ("organisation", "Acme GmbH"),
        ("scope", "Managed hosting"),
        ("sites", "Berlin"),
        ("certification_body", "Example Certification GmbH"),
        ("accreditation_body", "DAkkS"),
        ("accreditation_number", "D-ZM-1"),
        ("original_date", "2024-03-01"),
        ("issue_date", "2027-03-01"),
        ("expiry_date", expiry),
        ("next_surveillance", ""),
    ]
}

async fn open(app: &Router, path: &str, session: &str) -> Page {
    page(app, path, session).await
}

both_backends!(the_register_pages_work, |store: Store| async move {
    let app = site(&store).await;
    let (max, csrf) = sign_in(&app, "max@acme.test").await;
    let home = open(&app, "/", &max).await;
    assert!(
        home.html.contains("href=\"/certificates\""),
        "the nav has it"
    );
    let empty = open(&app, "/certificates", &max).await;
    assert!(empty.html.contains("No certificates yet"));
    open(&app, "/certificates/new", &max).await;

    // Bad input: the form comes back with its messages and what was typed.
    let bad = submit(
        &app,
        "/certificates",
        &max,
        &form(&csrf, "C 1", "2027-01-01"),
    )
    .await;
    assert_refused(&bad, "The expiry date must be after the issue date");
    assert!(bad.html.contains("letters, digits"));
    assert!(
        bad.html.contains("value=\"Example Certification GmbH\""),
        "keeps input"
    );

    let expiry = in_days(700);
    let mut good_form = form(&csrf, "ITSM-9", &expiry);
    good_form.retain(|(k, _)| *k != "issue_date");
    let issue = in_days(-30);
    good_form.push(("issue_date", &issue));
    let good = submit(&app, "/certificates", &max, &good_form).await;
    assert_eq!(good.status, StatusCode::SEE_OTHER, "{}", good.html);
    let view_path = good.location.split('?').next().expect("path").to_owned();
    let view = open(&app, &good.location, &max).await;
    assert!(view.html.contains("status-valid\">Valid"), "{}", view.html);
    assert!(view.html.contains("700 days to expiry"));
    assert!(view.html.contains("/verify/ITSM-9"));

    // A status change needs a reason.
    let status_path = format!("{view_path}/status");
    let no_reason = submit(
        &app,
        &status_path,
        &max,
        &[("_csrf", &csrf), ("to", "suspended"), ("reason", "")],
    )
    .await;
    assert_refused(&no_reason, "Reason is required");
    let moved = submit(
        &app,
        &status_path,
        &max,
        &[
            ("_csrf", &csrf),
            ("to", "suspended"),
            ("reason", "Open major nonconformity"),
        ],
    )
    .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.html);
    let view = open(&app, &view_path, &max).await;
    assert!(view.html.contains("status-suspended\">Suspended"));
    assert!(view.html.contains("Open major nonconformity"));
    let list = open(&app, "/certificates?status=suspended", &max).await;
    assert!(list.html.contains("ITSM-9"));
    let none = open(&app, "/certificates?status=withdrawn", &max).await;
    assert!(!none.html.contains("ITSM-9"));

    // The auditor reads without the forms; the requester does not get in.
    let (ada, _) = sign_in(&app, "ada@acme.test").await;
    let read = open(&app, &view_path, &ada).await;
    assert!(!read.html.contains("Change status"));
    assert!(
        !open(&app, "/certificates", &ada)
            .await
            .html
            .contains("Record certificate")
    );
    let (rae, _) = sign_in(&app, "rae@acme.test").await;
    let barred = send(&app, get("/certificates", &rae)).await;
    assert_eq!(barred.status, StatusCode::FORBIDDEN);
});
