//! Supplier management (8.3.4) through the real router: the API keeps suppliers, contract
//! versions, performance reviews, disputes and UC links, refuses bad input as problem+json and
//! lets agents read but not write; the pages show what was saved and keep what was typed when
//! they refuse it.

use super::api::{TestApp, app};
use super::cmdb_ui::page;
use super::sla_ui::sign_in;
use super::support::{assert_refused, assert_unprocessable, in_days, submit, tenant_with_people};
use super::ui::{get, send};
use axum::http::{Method, StatusCode};
use serde_json::json;
use steward_domain::access::Role;
use steward_domain::sla::{AgreementDraft, AgreementKind, RecordKind, Target};
use steward_server::{AppState, ServerConfig, router};
use steward_store::{Actor, Store, both_backends};

both_backends!(
    the_suppliers_api_keeps_the_register_and_refuses,
    |store: Store| async move {
        let app = app(store).await;
        let manager = app.user_id(Role::Manager).await;
        let made = app
            .post(
                "/api/v1/suppliers",
                Role::Manager,
                json!({"name": "Northwind Carrier", "kind": "external", "supplies": "WAN links",
                       "owner_id": manager, "contacts": "NOC 24/7",
                       "escalation": "NOC, account manager, director"}),
            )
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
        assert_eq!(made.body["flags"][0]["flag"], "no_current_contract");
        let id = made.body["id"].as_i64().expect("id");

        let blank = app
            .post(
                "/api/v1/suppliers",
                Role::Manager,
                json!({"name": " ", "kind": "external", "supplies": "", "evaluation_result": "approved"}),
            )
            .await;
        assert_unprocessable(&blank, "owner_id");
        assert!(blank.text.contains("What they supply is required"));
        assert!(blank.text.contains("evaluated_on"));
        let kind = app
            .post(
                "/api/v1/suppliers",
                Role::Manager,
                json!({"name": "X", "kind": "partner", "supplies": "x", "owner_id": manager}),
            )
            .await;
        assert_eq!(
            kind.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            kind.text
        );
        let twice = app
            .post(
                "/api/v1/suppliers",
                Role::Admin,
                json!({"name": "northwind carrier", "kind": "internal", "supplies": "x",
                       "owner_id": manager}),
            )
            .await;
        assert_unprocessable(&twice, "A supplier named northwind carrier already exists");

        Box::pin(agents_read_only(&app, id, manager)).await;
        Box::pin(contract_versions(&app, id)).await;
        Box::pin(performance_reviews(&app, id)).await;
        Box::pin(disputes(&app, id)).await;
        Box::pin(uc_links(&app, id)).await;
        Box::pin(edits_and_tenants(&app, id, manager)).await;
    }
);

async fn agents_read_only(app: &TestApp, id: i64, manager: i64) {
    // Agents and auditors read; they do not write.
    let read = app
        .get(&format!("/api/v1/suppliers/{id}"), Role::Agent)
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert_eq!(read.body["supplier"]["name"], "Northwind Carrier");
    let refused = app
        .post(
            &format!("/api/v1/suppliers/{id}/disputes"),
            Role::Agent,
            json!({"subject": "Invoice"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let refused = app
        .post(
            "/api/v1/suppliers",
            Role::Auditor,
            json!({"name": "Y", "kind": "internal", "supplies": "y", "owner_id": manager}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

async fn contract_versions(app: &TestApp, id: i64) {
    // A contract version, approved only on or before its start.
    let contracts = format!("/api/v1/suppliers/{id}/contracts");
    let v1 = app
        .post(
            &contracts,
            Role::Manager,
            json!({"reference": "UC-NET-01", "scope": "Both offices", "requirements": "99.9 %",
                   "obligations": "Restore in 4 h", "responsibilities": "They run the links",
                   "starts_on": in_days(-30), "review_months": 6}),
        )
        .await;
    assert_eq!(v1.status, StatusCode::CREATED, "{}", v1.text);
    assert_eq!(v1.body["status"], "draft");
    let v1_id = v1.body["id"].as_i64().expect("id");
    let late = app
        .post(
            &format!("{contracts}/{v1_id}/approve"),
            Role::Manager,
            json!({}),
        )
        .await;
    assert_unprocessable(&late, "on or before the day the version starts");
    let approved = app
        .post(
            &format!("{contracts}/{v1_id}/approve"),
            Role::Manager,
            json!({"approved_on": in_days(-31)}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    assert_eq!(approved.body["current"], true);
    let again = app
        .post(
            &format!("{contracts}/{v1_id}/approve"),
            Role::Manager,
            json!({"approved_on": in_days(-31)}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    let no_impact = app
        .post(
            &contracts,
            Role::Manager,
            json!({"reference": "UC-NET-02", "scope": "Three offices", "starts_on": in_days(30)}),
        )
        .await;
    assert_unprocessable(&no_impact, "impact");
    let bad_date = app
        .post(
            &contracts,
            Role::Manager,
            json!({"reference": "UC-NET-02", "scope": "x", "starts_on": "next month"}),
        )
        .await;
    assert_unprocessable(&bad_date, "starts_on");
    let reviewed = app
        .post(
            &format!("{contracts}/{v1_id}/reviews"),
            Role::Manager,
            json!({"still_fits": true, "notes": "Matches the network SLA"}),
        )
        .await;
    assert_eq!(reviewed.status, StatusCode::CREATED, "{}", reviewed.text);
}

async fn performance_reviews(app: &TestApp, id: i64) {
    // A performance review below "meets" raises an improvement.
    let reviews = format!("/api/v1/suppliers/{id}/reviews");
    let missing = app
        .post(
            &reviews,
            Role::Manager,
            json!({"held_on": in_days(-1), "period_from": in_days(-30), "period_to": in_days(-2),
                   "rating": "partly_meets"}),
        )
        .await;
    assert_unprocessable(&missing, "improvement");
    let future = app
        .post(
            &reviews,
            Role::Manager,
            json!({"held_on": in_days(3), "period_from": in_days(-30), "period_to": in_days(-2),
                   "rating": "meets"}),
        )
        .await;
    assert_unprocessable(&future, "held_on");
    let review = app
        .post(
            &reviews,
            Role::Manager,
            json!({"held_on": in_days(-1), "period_from": in_days(-30), "period_to": in_days(-2),
                   "rating": "partly_meets", "targets_missed": "Restore time twice",
                   "raise_improvement": true}),
        )
        .await;
    assert_eq!(review.status, StatusCode::CREATED, "{}", review.text);
    let improvement = review.body["improvement_id"].as_i64().expect("raised");
    let raised = app
        .get(
            &format!("/api/v1/improvements/{improvement}"),
            Role::Manager,
        )
        .await;
    assert_eq!(raised.body["source"], "supplier");
}

async fn disputes(app: &TestApp, id: i64) {
    // A dispute: open, escalated with who and why, resolved, closed.
    let disputes = format!("/api/v1/suppliers/{id}/disputes");
    let dispute = app
        .post(
            &disputes,
            Role::Manager,
            json!({"subject": "Invoice for unused circuits"}),
        )
        .await;
    assert_eq!(dispute.status, StatusCode::CREATED, "{}", dispute.text);
    assert_eq!(dispute.body["next"], json!(["escalate", "resolve"]));
    let steps = format!("{disputes}/{}/steps", dispute.body["id"]);
    let why = app
        .post(
            &steps,
            Role::Manager,
            json!({"step": "escalate", "escalated_to": "Director"}),
        )
        .await;
    assert_unprocessable(&why, "Why it is escalated is required");
    let close = app
        .post(&steps, Role::Manager, json!({"step": "close"}))
        .await;
    assert_eq!(close.status, StatusCode::CONFLICT, "{}", close.text);
    for body in [
        json!({"step": "escalate", "escalated_to": "Director", "note": "No answer"}),
        json!({"step": "resolve", "note": "Credit note"}),
        json!({"step": "close"}),
    ] {
        let moved = app.post(&steps, Role::Manager, body).await;
        assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    }
}

async fn uc_links(app: &TestApp, id: i64) {
    // UC links: only underpinning contracts.
    let sla = app
        .post(
            "/api/v1/sla/agreements",
            Role::Admin,
            json!({"name": "Standard", "kind": "sla",
                   "targets": [{"metric": "resolution", "minutes": 480}]}),
        )
        .await;
    assert_eq!(sla.status, StatusCode::CREATED, "{}", sla.text);
    let uc = app
        .post(
            "/api/v1/sla/agreements",
            Role::Admin,
            json!({"name": "Carrier restore", "kind": "uc", "supplier": "Northwind",
                   "targets": [{"metric": "resolution", "minutes": 240}]}),
        )
        .await;
    assert_eq!(uc.status, StatusCode::CREATED, "{}", uc.text);
    let ucs = format!("/api/v1/suppliers/{id}/ucs");
    let wrong = app
        .put(
            &ucs,
            Role::Manager,
            json!({"agreement_ids": [sla.body["id"]]}),
        )
        .await;
    assert_unprocessable(&wrong, "is not an underpinning contract");
    let linked = app
        .put(
            &ucs,
            Role::Manager,
            json!({"agreement_ids": [uc.body["id"]]}),
        )
        .await;
    assert_eq!(linked.status, StatusCode::OK, "{}", linked.text);
    assert_eq!(linked.body[0]["name"], "Carrier restore");

    let detail = app
        .get(&format!("/api/v1/suppliers/{id}"), Role::Auditor)
        .await;
    assert_eq!(detail.body["contracts"][0]["reviewed_on"], in_days(0));
    assert_eq!(detail.body["reviews"][0]["rating"], "partly_meets");
    assert_eq!(detail.body["disputes"][0]["state"], "closed");
    assert_eq!(
        detail.body["dispute_steps"].as_array().map(Vec::len),
        Some(3)
    );
    assert_eq!(detail.body["uc_attainment"][0]["total"], 0);
}

async fn edits_and_tenants(app: &TestApp, id: i64, manager: i64) {
    // Edited as last read; stale is a 409; another tenant sees nothing.
    let detail = app
        .get(&format!("/api/v1/suppliers/{id}"), Role::Manager)
        .await;
    let stamp = detail.body["supplier"]["updated_at"]
        .as_str()
        .expect("stamp");
    let edit = |stamp: &str| {
        json!({"updated_at": stamp, "name": "Northwind Carrier", "kind": "external",
               "supplies": "WAN links", "owner_id": manager, "status": "ended"})
    };
    let saved = app
        .put(
            &format!("/api/v1/suppliers/{id}"),
            Role::Manager,
            edit(stamp),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    assert_eq!(saved.body["status"], "ended");
    let stale = app
        .put(
            &format!("/api/v1/suppliers/{id}"),
            Role::Manager,
            edit(stamp),
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.text);
    let hidden = app
        .call(
            Method::GET,
            &format!("/api/v1/suppliers/{id}"),
            Some(app.outsider.as_str()),
            None,
        )
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let list = app.get("/api/v1/suppliers?status=ended", Role::Agent).await;
    assert_eq!(list.body["items"].as_array().map(Vec::len), Some(1));
    let paged = app
        .get("/api/v1/suppliers?limit=1&cursor=zz", Role::Agent)
        .await;
    assert_unprocessable(&paged, "cursor");
}

both_backends!(the_supplier_pages_work, |store: Store| async move {
    let (t, _) = tenant_with_people(
        &store,
        "Acme",
        &[
            ("max@acme.test", "Max", Role::Manager),
            ("gus@acme.test", "Gus", Role::Agent),
        ],
    )
    .await;
    let app = router(AppState::new(store.clone(), ServerConfig::default()));
    let (max, csrf) = sign_in(&app, "max@acme.test").await;
    let people = page(&app, "/suppliers/new", &max).await;
    let max_id = people
        .html
        .split("<option value=\"")
        .find_map(max_option)
        .expect("Max in the owner picker");

    // Refused with the reasons beside the fields and the input kept, then created.
    let mut form = vec![
        ("_csrf", csrf.clone()),
        ("name", "Northwind Carrier".to_owned()),
        ("kind", "external".to_owned()),
        ("supplies", "".to_owned()),
        ("owner_id", max_id.clone()),
        ("status", "active".to_owned()),
        ("contacts", "NOC 24/7 on +44 20 7946 0000".to_owned()),
        ("escalation", "".to_owned()),
    ];
    let as_refs = |form: &[(&str, String)]| -> Vec<(String, String)> {
        form.iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    };
    let post = |path: &str, form: Vec<(String, String)>| {
        let app = app.clone();
        let max = max.clone();
        let path = path.to_owned();
        async move {
            let pairs: Vec<(&str, &str)> =
                form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            submit(&app, &path, &max, &pairs).await
        }
    };
    let bad = post("/suppliers", as_refs(&form)).await;
    assert_refused(&bad, "What they supply is required");
    assert!(bad.html.contains("value=\"Northwind Carrier\""));
    assert!(bad.html.contains("NOC 24/7 on +44 20 7946 0000"));
    form.retain(|(k, _)| *k != "supplies");
    form.push(("supplies", "WAN links".to_owned()));
    let made = post("/suppliers", as_refs(&form)).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.html);
    let path = made.location.split('?').next().expect("path").to_owned();
    let view = page(&app, &made.location, &max).await;
    assert!(view.html.contains("WAN links"));
    assert!(view.html.contains("No current contract"));
    assert!(
        view.html.contains("not recorded"),
        "no escalation route yet"
    );

    // A contract version refused without its start, then added and approved.
    let c = |start: &str| {
        vec![
            ("_csrf".to_owned(), csrf.clone()),
            ("reference".to_owned(), "UC-NET-01".to_owned()),
            ("scope".to_owned(), "Both office links".to_owned()),
            ("requirements".to_owned(), "99.9 % availability".to_owned()),
            (
                "obligations".to_owned(),
                "Restore within 4 hours".to_owned(),
            ),
            (
                "responsibilities".to_owned(),
                "They run the links".to_owned(),
            ),
            ("starts_on".to_owned(), start.to_owned()),
            ("ends_on".to_owned(), String::new()),
            ("review_months".to_owned(), "12".to_owned()),
            ("impact".to_owned(), String::new()),
        ]
    };
    let refused = post(&format!("{path}/contracts"), c("")).await;
    assert_refused(&refused, "The start date is required");
    assert!(
        refused.html.contains("Restore within 4 hours"),
        "keeps the typing"
    );
    let added = post(&format!("{path}/contracts"), c(&in_days(-10))).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
    let view = page(&app, &path, &max).await;
    let contract_id = view
        .html
        .split("/contracts/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .expect("contract id")
        .to_owned();
    let late = post(
        &format!("{path}/contracts/{contract_id}/approve"),
        vec![
            ("_csrf".to_owned(), csrf.clone()),
            ("approved_on".to_owned(), in_days(0)),
        ],
    )
    .await;
    assert_refused(&late, "on or before the day the version starts");
    let approved = post(
        &format!("{path}/contracts/{contract_id}/approve"),
        vec![
            ("_csrf".to_owned(), csrf.clone()),
            ("approved_on".to_owned(), in_days(-11)),
        ],
    )
    .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.html);
    let view = page(&app, &path, &max).await;
    assert!(view.html.contains("current"));
    assert!(!view.html.contains("No current contract"));

    // A review below "meets" without an improvement is refused, the rating kept.
    let review = |raise: &str| {
        vec![
            ("_csrf".to_owned(), csrf.clone()),
            ("held_on".to_owned(), in_days(-1)),
            ("period_from".to_owned(), in_days(-10)),
            ("period_to".to_owned(), in_days(-2)),
            ("rating".to_owned(), "fails".to_owned()),
            (
                "targets_missed".to_owned(),
                "Restore time missed twice".to_owned(),
            ),
            ("notes".to_owned(), String::new()),
            ("raise_improvement".to_owned(), raise.to_owned()),
            ("improvement_id".to_owned(), String::new()),
        ]
    };
    let refused = post(&format!("{path}/reviews"), review("")).await;
    assert_refused(&refused, "needs an improvement");
    assert!(
        refused.html.contains("value=\"fails\" selected"),
        "{}",
        refused.html
    );
    assert!(refused.html.contains("Restore time missed twice"));
    let saved = post(&format!("{path}/reviews"), review("yes")).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    let view = page(&app, &path, &max).await;
    assert!(view.html.contains("Fails commitments"));
    assert!(
        view.html.contains("/improvements/"),
        "links the improvement"
    );

    // A dispute, escalated only with who and why.
    let logged = post(
        &format!("{path}/disputes"),
        vec![
            ("_csrf".to_owned(), csrf.clone()),
            ("raised_on".to_owned(), in_days(-45)),
            (
                "subject".to_owned(),
                "Invoice for unused circuits".to_owned(),
            ),
            ("details".to_owned(), String::new()),
        ],
    )
    .await;
    assert_eq!(logged.status, StatusCode::SEE_OTHER, "{}", logged.html);
    let view = page(&app, &path, &max).await;
    assert!(view.html.contains("open over 30 days"));
    let dispute_id = view
        .html
        .split("/disputes/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .expect("dispute id")
        .to_owned();
    let steps = format!("{path}/disputes/{dispute_id}/steps");
    let refused = post(
        &steps,
        vec![
            ("_csrf".to_owned(), csrf.clone()),
            ("step".to_owned(), "escalate".to_owned()),
            ("escalated_to".to_owned(), "Account director".to_owned()),
            ("note".to_owned(), String::new()),
        ],
    )
    .await;
    assert_refused(&refused, "Why it is escalated is required");
    assert!(refused.html.contains("value=\"Account director\""));
    let escalated = post(
        &steps,
        vec![
            ("_csrf".to_owned(), csrf.clone()),
            ("step".to_owned(), "escalate".to_owned()),
            ("escalated_to".to_owned(), "Account director".to_owned()),
            ("note".to_owned(), "No answer for six weeks".to_owned()),
        ],
    )
    .await;
    assert_eq!(
        escalated.status,
        StatusCode::SEE_OTHER,
        "{}",
        escalated.html
    );
    // A UC linked on the page, and the agreement's page names its supplier.
    let mut uc = AgreementDraft::new(
        "Carrier restore",
        AgreementKind::Uc,
        RecordKind::Incident,
        vec![Target {
            metric: "resolution".into(),
            priority: None,
            minutes: 240,
        }],
    );
    uc.supplier = "Northwind".into();
    let uc = store
        .create_agreement(t, &uc.validate().expect("uc"), &Actor::cli())
        .await
        .expect("uc");
    let linked = post(
        &format!("{path}/ucs"),
        vec![
            ("_csrf".to_owned(), csrf.clone()),
            ("agreement_ids".to_owned(), uc.id.to_string()),
        ],
    )
    .await;
    assert_eq!(linked.status, StatusCode::SEE_OTHER, "{}", linked.html);
    let view = page(&app, &path, &max).await;
    assert!(
        view.html
            .contains(&format!("href=\"/agreements/{}\"", uc.id))
    );
    let agreement = page(&app, &format!("/agreements/{}", uc.id), &max).await;
    assert!(
        agreement.html.contains("On the supplier register"),
        "{}",
        agreement.html
    );
    assert!(agreement.html.contains(&format!("href=\"{path}\"")));
    let list = page(&app, "/suppliers", &max).await;
    assert!(list.html.contains("Northwind Carrier"));
    assert!(list.html.contains("External supplier"));

    // The agent reads without forms and cannot post.
    let (gus, gus_csrf) = sign_in(&app, "gus@acme.test").await;
    let read = page(&app, &path, &gus).await;
    assert!(read.html.contains("Invoice for unused circuits"));
    assert!(!read.html.contains("Log dispute"));
    let barred = send(&app, get("/suppliers/new", &gus)).await;
    assert_eq!(barred.status, StatusCode::FORBIDDEN);
    let barred = submit(
        &app,
        &format!("{path}/disputes"),
        &gus,
        &[
            ("_csrf", &gus_csrf),
            ("raised_on", &in_days(0)),
            ("subject", "x"),
        ],
    )
    .await;
    assert_eq!(barred.status, StatusCode::FORBIDDEN);
});

/// The id in an `<option value="…">` whose label is Max.
fn max_option(option: &str) -> Option<String> {
    let (value, rest) = option.split_once("\">")?;
    rest.starts_with("Max<").then(|| value.to_owned())
}
