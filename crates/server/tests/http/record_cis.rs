//! Incidents and problems name the CIs they are about (`/incidents/{key}/cis`,
//! `/problems/{key}/cis`), with the services those CIs and everything downstream of them
//! serve; the record pages show and edit them, and the CI page lists the open records on it.

use super::api::{TestApp, app, is_problem};
use super::sla_ui::{PASSWORD, post, sign_in};
use super::ui::{get, send};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use steward_domain::access::Role;
use steward_domain::user::UserDraft;
use steward_server::{AppState, ServerConfig, router};
use steward_store::journal::JournalFilter;
use steward_store::{Actor, PageRequest, Store, both_backends};

async fn created(app: &TestApp, path: &str, body: Value) -> Value {
    let reply = app.post(path, Role::Admin, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{path}: {}", reply.text);
    reply.body
}

async fn id(app: &TestApp, path: &str, body: Value) -> i64 {
    created(app, path, body).await["id"].as_i64().expect("id")
}

/// DB01 (a server) is needed by the Payroll app, which delivers the Payroll service; the
/// Mail server delivers Mail and depends on nothing.
struct Estate {
    db: i64,
    app_ci: i64,
    mail: i64,
    payroll: i64,
    mail_service: i64,
}

async fn estate(app: &TestApp) -> Estate {
    id(app, "/api/v1/ci-classes", json!({"name": "Server"})).await;
    id(app, "/api/v1/ci-classes", json!({"name": "Application"})).await;
    let payroll = id(app, "/api/v1/services", json!({"name": "Payroll"})).await;
    let mail_service = id(app, "/api/v1/services", json!({"name": "Mail"})).await;
    let db = id(
        app,
        "/api/v1/cis",
        json!({"class": "Server", "name": "DB01"}),
    )
    .await;
    let app_ci = id(
        app,
        "/api/v1/cis",
        json!({"class": "Application", "name": "Payroll app", "service_ids": [payroll]}),
    )
    .await;
    let mail = id(
        app,
        "/api/v1/cis",
        json!({"class": "Server", "name": "Mail server", "service_ids": [mail_service]}),
    )
    .await;
    id(
        app,
        "/api/v1/ci-relationships",
        json!({"source": app_ci, "target": db, "type": "depends_on"}),
    )
    .await;
    Estate {
        db,
        app_ci,
        mail,
        payroll,
        mail_service,
    }
}

async fn put(app: &TestApp, path: &str, token: &str, body: Value) -> super::api::Reply {
    app.call(Method::PUT, path, Some(token), Some(body)).await
}

fn ids(body: &Value, list: &str) -> Vec<i64> {
    body[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list} in {body}"))
        .iter()
        .filter_map(|c| c["id"].as_i64())
        .collect()
}

both_backends!(
    records_name_cis_and_see_the_services_hit,
    |store: Store| async move {
        let app = app(store).await;
        let e = estate(&app).await;
        let incident = created(&app, "/api/v1/incidents", json!({"title": "Payroll slow"})).await;
        let key = incident["key"].as_str().expect("key").to_owned();
        let path = format!("/api/v1/incidents/{key}/cis");

        let empty = app.get(&path, Role::Agent).await;
        assert_eq!(empty.status, StatusCode::OK, "{}", empty.text);
        assert_eq!(empty.body, json!({"cis": [], "services_hit": []}));

        // DB01 serves nothing itself; the Payroll app downstream of it serves Payroll.
        let agent = app.token(Role::Agent).to_owned();
        let linked = put(&app, &path, &agent, json!({"ci_ids": [e.db, e.db]})).await;
        assert_eq!(linked.status, StatusCode::OK, "{}", linked.text);
        assert_eq!(
            linked.body["cis"],
            json!([{"id": e.db, "name": "DB01", "class": "Server", "status": "in_use"}])
        );
        assert_eq!(
            linked.body["services_hit"],
            json!([{"id": e.payroll, "name": "Payroll"}])
        );
        let read = app.get(&path, Role::Auditor).await;
        assert_eq!(read.status, StatusCode::OK, "the auditor reads");
        assert_eq!(read.body, linked.body);

        // The impact report of DB01 lists the incident as an open record on it.
        let impact = app
            .get(&format!("/api/v1/cis/{}/impact", e.db), Role::Agent)
            .await;
        assert_eq!(
            impact.body["open_records"],
            json!([{"record_type": "incident", "key": key, "title": "Payroll slow",
                    "status": "new", "ci_id": e.db}])
        );

        // PUT replaces.
        let replaced = put(&app, &path, &agent, json!({"ci_ids": [e.mail, e.app_ci]})).await;
        assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text);
        assert_eq!(ids(&replaced.body, "cis"), [e.mail, e.app_ci], "by name");
        assert_eq!(
            ids(&replaced.body, "services_hit"),
            [e.mail_service, e.payroll]
        );
        let db_impact = app
            .get(&format!("/api/v1/cis/{}/impact", e.db), Role::Agent)
            .await;
        assert_eq!(
            db_impact.body["open_records"]
                .as_array()
                .map(|records| records.iter().filter(|r| r["ci_id"] == e.db).count()),
            Some(0),
            "DB01 is no longer named: {}",
            db_impact.text
        );

        // An unknown CI changes nothing.
        let unknown = put(&app, &path, &agent, json!({"ci_ids": [e.db, 999_999]})).await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(is_problem(&unknown) && unknown.text.contains("999999"));
        assert_eq!(app.get(&path, Role::Agent).await.body, replaced.body);

        // Who may do what.
        let auditor = app.token(Role::Auditor).to_owned();
        let refused = put(&app, &path, &auditor, json!({"ci_ids": []})).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "auditors only read");
        let own = app
            .post(
                "/api/v1/incidents",
                Role::Requester,
                json!({"title": "My laptop"}),
            )
            .await;
        let own_key = own.body["key"].as_str().expect("key");
        let mine = app
            .get(&format!("/api/v1/incidents/{own_key}/cis"), Role::Requester)
            .await;
        assert_eq!(
            mine.status,
            StatusCode::FORBIDDEN,
            "requesters never see CIs, even of their own incidents"
        );
        let outsider = app.outsider.clone();
        let hidden = app
            .call(Method::GET, &path, Some(outsider.as_str()), None)
            .await;
        assert_eq!(hidden.status, StatusCode::NOT_FOUND);
        let foreign = put(&app, &path, &outsider, json!({"ci_ids": []})).await;
        assert_eq!(foreign.status, StatusCode::NOT_FOUND);

        // Every change of the CIs is journaled.
        let filter = JournalFilter {
            record_type: Some("record_cis".into()),
            ..Default::default()
        };
        let page = PageRequest {
            limit: Some(50),
            cursor: None,
        };
        let entries = app
            .store
            .journal_entries(app.tenant_id, &filter, &page)
            .await
            .expect("journal");
        assert_eq!(entries.items.len(), 2, "two saved changes, none refused");

        // Problems the same way; an incident may name its CIs when it is opened.
        let problem = created(&app, "/api/v1/problems", json!({"title": "DB01 leaks"})).await;
        let problem_path = format!(
            "/api/v1/problems/{}/cis",
            problem["key"].as_str().expect("key")
        );
        let on_problem = put(&app, &problem_path, &agent, json!({"ci_ids": [e.db]})).await;
        assert_eq!(on_problem.status, StatusCode::OK, "{}", on_problem.text);
        assert_eq!(ids(&on_problem.body, "services_hit"), [e.payroll]);
        let born = created(
            &app,
            "/api/v1/incidents",
            json!({"title": "Mail down", "cis": [e.mail]}),
        )
        .await;
        let born_cis = app
            .get(
                &format!(
                    "/api/v1/incidents/{}/cis",
                    born["key"].as_str().expect("key")
                ),
                Role::Agent,
            )
            .await;
        assert_eq!(ids(&born_cis.body, "cis"), [e.mail]);
        let bad_birth = app
            .post(
                "/api/v1/incidents",
                Role::Agent,
                json!({"title": "Ghost", "cis": [999_999]}),
            )
            .await;
        assert_eq!(bad_birth.status, StatusCode::UNPROCESSABLE_ENTITY);
        let requester_cis = app
            .post(
                "/api/v1/incidents",
                Role::Requester,
                json!({"title": "Mine", "cis": [e.mail]}),
            )
            .await;
        assert_eq!(requester_cis.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
);

both_backends!(
    the_record_pages_show_and_edit_cis,
    |store: Store| async move {
        let app = app(store.clone()).await;
        let e = estate(&app).await;
        let hash = steward_server::auth::hash_password(PASSWORD.into())
            .await
            .expect("hash");
        for (email, role) in [
            ("pat@acme.test", Role::Agent),
            ("aud@acme.test", Role::Auditor),
        ] {
            let draft = UserDraft {
                email: email.into(),
                name: email.into(),
                role,
                active: true,
            };
            store
                .create_user(app.tenant_id, &draft, Some(&hash), &Actor::cli())
                .await
                .expect("user");
        }
        let ui = router(AppState::new(store.clone(), ServerConfig::default()));
        let incident = created(&app, "/api/v1/incidents", json!({"title": "Payroll slow"})).await;
        let key = incident["key"].as_str().expect("key").to_owned();
        let (pat, csrf) = sign_in(&ui, "pat@acme.test").await;

        let db = format!("DB01 #{}", e.db);
        let add = format!("/incidents/{key}/cis");
        let added = send(&ui, post(&add, &pat, &[("_csrf", &csrf), ("ci", &db)])).await;
        assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
        let by_name = send(
            &ui,
            post(&add, &pat, &[("_csrf", &csrf), ("ci", "mail server")]),
        )
        .await;
        assert_eq!(
            by_name.status,
            StatusCode::SEE_OTHER,
            "a unique name will do"
        );
        let page = send(&ui, get(&format!("/incidents/{key}"), &pat)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.html.contains("Configuration items"));
        assert!(
            page.html
                .contains(&format!("<a href=\"/cis/{}\">DB01</a>", e.db)),
            "the CI links to its page"
        );
        assert!(
            page.html
                .contains(&format!("<a href=\"/services/{}\">Payroll</a>", e.payroll)),
            "the service DB01 hits through the Payroll app"
        );
        assert!(page.html.contains("Add CI"), "agents edit");

        let unknown = send(
            &ui,
            post(&add, &pat, &[("_csrf", &csrf), ("ci", "Nonexistent box")]),
        )
        .await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(unknown.html.contains("No CI is named"), "{}", unknown.html);
        assert!(unknown.html.contains("value=\"Nonexistent box\""), "kept");

        // The CI page lists the open incident on it.
        let ci_page = send(&ui, get(&format!("/cis/{}", e.db), &pat)).await;
        assert!(
            ci_page
                .html
                .contains(&format!("<a href=\"/incidents/{key}\">{key}</a>")),
            "{}",
            ci_page.html
        );

        // The auditor reads without the form.
        let (aud, _) = sign_in(&ui, "aud@acme.test").await;
        let seen = send(&ui, get(&format!("/incidents/{key}"), &aud)).await;
        assert!(seen.html.contains("DB01") && !seen.html.contains("Add CI"));

        let remove = format!("/incidents/{key}/cis/{}/delete", e.db);
        let removed = send(&ui, post(&remove, &pat, &[("_csrf", &csrf)])).await;
        assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.html);
        let after = send(&ui, get(&format!("/incidents/{key}"), &pat)).await;
        assert!(!after.html.contains(&format!("href=\"/cis/{}\"", e.db)));
        assert!(after.html.contains(&format!("href=\"/cis/{}\"", e.mail)));

        // The problem page has the same panel.
        let problem = created(&app, "/api/v1/problems", json!({"title": "Leak"})).await;
        let pkey = problem["key"].as_str().expect("key").to_owned();
        let on_problem = send(
            &ui,
            post(
                &format!("/problems/{pkey}/cis"),
                &pat,
                &[("_csrf", &csrf), ("ci", &db)],
            ),
        )
        .await;
        assert_eq!(
            on_problem.status,
            StatusCode::SEE_OTHER,
            "{}",
            on_problem.html
        );
        let problem_page = send(&ui, get(&format!("/problems/{pkey}"), &pat)).await;
        assert!(
            problem_page
                .html
                .contains(&format!("<a href=\"/cis/{}\">DB01</a>", e.db))
        );
        let refused = send(
            &ui,
            post(
                &format!("/problems/{pkey}/cis"),
                &pat,
                &[("_csrf", &csrf), ("ci", "")],
            ),
        )
        .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
);
