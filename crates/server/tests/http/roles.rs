//! Roles and responsibilities (5.3) through the real router: the API records roles, assigns and
//! ends them, keeps the RACI matrix and refuses bad input as problem+json; the pages show what
//! was saved and keep what was typed when they refuse it.

use super::api::app;
use super::cmdb_ui::page;
use super::sla_ui::sign_in;
use super::support::{assert_refused, assert_unprocessable, submit, tenant_with_people};
use super::ui::{get, send};
use axum::http::{Method, StatusCode};
use serde_json::json;
use steward_domain::access::Role;
use steward_server::{AppState, ServerConfig, router};
use steward_store::asset::today_utc;
use steward_store::{Store, both_backends};

both_backends!(
    the_roles_api_records_assigns_and_refuses,
    |store: Store| async move {
        let app = app(store).await;
        let agent = app.user_id(Role::Agent).await;
        let made = app
            .post(
                "/api/v1/roles",
                Role::Manager,
                json!({"name": "Change manager", "responsibilities": "Runs the CAB",
                       "authorities": "Approves normal changes", "conformity_lead": true}),
            )
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
        assert_eq!(made.body["conformity_lead"], true);
        let id = made.body["id"].as_i64().expect("id");

        let blank = app
            .post(
                "/api/v1/roles",
                Role::Manager,
                json!({"name": " ", "responsibilities": "", "authorities": ""}),
            )
            .await;
        assert_unprocessable(&blank, "authorities");
        assert!(blank.text.contains("Responsibilities is required"));
        let twice = app
            .post(
                "/api/v1/roles",
                Role::Admin,
                json!({"name": "change manager", "responsibilities": "x", "authorities": "y"}),
            )
            .await;
        assert_unprocessable(&twice, "A role named change manager already exists");
        let read_only = app
            .post(
                "/api/v1/roles",
                Role::Auditor,
                json!({"name": "Auditor", "responsibilities": "x", "authorities": "y"}),
            )
            .await;
        assert_eq!(read_only.status, StatusCode::FORBIDDEN);

        // Assigned from a date, once at a time; ended, and kept.
        let path = format!("/api/v1/roles/{id}/assignments");
        let bad_date = app
            .post(
                &path,
                Role::Manager,
                json!({"user_id": agent, "from_date": "soon"}),
            )
            .await;
        assert_unprocessable(&bad_date, "from_date");
        let assigned = app
            .post(
                &path,
                Role::Manager,
                json!({"user_id": agent, "from_date": "2026-01-05", "note": "Covers CAB"}),
            )
            .await;
        assert_eq!(assigned.status, StatusCode::CREATED, "{}", assigned.text);
        assert_eq!(assigned.body["current"], true);
        let assignment = assigned.body["id"].as_i64().expect("id");
        let again = app
            .post(
                &path,
                Role::Manager,
                json!({"user_id": agent, "from_date": "2026-02-01"}),
            )
            .await;
        assert_unprocessable(&again, "already holds Change manager");
        let early = app
            .post(
                &format!("{path}/{assignment}/end"),
                Role::Manager,
                json!({"to_date": "2025-12-31"}),
            )
            .await;
        assert_unprocessable(&early, "to_date");
        let ended = app
            .post(
                &format!("{path}/{assignment}/end"),
                Role::Manager,
                json!({}),
            )
            .await;
        assert_eq!(ended.status, StatusCode::OK, "{}", ended.text);
        assert_eq!(ended.body["to_date"], today_utc().to_string());
        assert_eq!(ended.body["current"], false);
        let wrong_role = app
            .post(
                &format!("/api/v1/roles/{}/assignments/{assignment}/end", id + 1000),
                Role::Manager,
                json!({}),
            )
            .await;
        assert_eq!(wrong_role.status, StatusCode::NOT_FOUND);

        let one = app.get(&format!("/api/v1/roles/{id}"), Role::Auditor).await;
        assert_eq!(one.status, StatusCode::OK, "{}", one.text);
        assert_eq!(one.body["assignments"][0]["note"], "Covers CAB");
        assert_eq!(
            one.body["assignments"][0]["to_date"],
            today_utc().to_string()
        );

        // Edited as last read; a stale edit is a 409; another tenant sees nothing.
        let updated_at = one.body["role"]["updated_at"].as_str().expect("stamp");
        let edit = |stamp: &str, retired: bool| {
            json!({"updated_at": stamp, "name": "Change manager",
                   "responsibilities": "Runs the CAB weekly", "authorities": "Approves changes",
                   "retired": retired})
        };
        let saved = app
            .put(
                &format!("/api/v1/roles/{id}"),
                Role::Manager,
                edit(updated_at, true),
            )
            .await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
        assert_eq!(saved.body["role"]["retired"], true);
        assert_eq!(saved.body["role"]["conformity_lead"], false);
        let stale = app
            .put(
                &format!("/api/v1/roles/{id}"),
                Role::Manager,
                edit(updated_at, false),
            )
            .await;
        assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.text);
        let retired = app
            .post(
                &path,
                Role::Manager,
                json!({"user_id": agent, "from_date": "2026-03-01"}),
            )
            .await;
        assert_unprocessable(&retired, "is retired");
        let hidden = app
            .call(
                Method::GET,
                &format!("/api/v1/roles/{id}"),
                Some(app.outsider.as_str()),
                None,
            )
            .await;
        assert_eq!(hidden.status, StatusCode::NOT_FOUND);
        let list = app.get("/api/v1/roles", Role::Auditor).await;
        assert_eq!(list.body.as_array().map(Vec::len), Some(1));
    }
);

both_backends!(
    the_raci_api_sets_a_row_with_one_owner,
    |store: Store| async move {
        let app = app(store).await;
        let made = |name: &'static str| {
            let app = &app;
            async move {
                app.post(
                    "/api/v1/roles",
                    Role::Admin,
                    json!({"name": name, "responsibilities": "x", "authorities": "y"}),
                )
                .await
                .body["id"]
                    .as_i64()
                    .expect("id")
            }
        };
        let owner = made("Incident manager").await;
        let desk = made("Service desk").await;
        let matrix = app.get("/api/v1/raci", Role::Auditor).await;
        assert_eq!(matrix.status, StatusCode::OK, "{}", matrix.text);
        let rows = matrix.body.as_array().expect("rows");
        assert!(rows.iter().any(|r| r["process"] == "8.6.1"));
        assert!(rows.iter().all(|r| r["accountable_role_id"].is_null()));

        let none = app
            .put(
                "/api/v1/raci/8.6.1",
                Role::Manager,
                json!({"cells": [{"role_id": desk, "letter": "R"}]}),
            )
            .await;
        assert_unprocessable(
            &none,
            "Exactly one role must be accountable for Incident management",
        );
        assert!(none.text.contains("accountable"));
        let letter = app
            .put(
                "/api/v1/raci/8.6.1",
                Role::Manager,
                json!({"cells": [{"role_id": desk, "letter": "X"}]}),
            )
            .await;
        assert_eq!(
            letter.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            letter.text
        );
        let unknown = app
            .put(
                "/api/v1/raci/4.1",
                Role::Manager,
                json!({"cells": [{"role_id": owner, "letter": "A"}]}),
            )
            .await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        let set = app
            .put(
                "/api/v1/raci/8.6.1",
                Role::Manager,
                json!({"cells": [{"role_id": owner, "letter": "A"},
                                 {"role_id": desk, "letter": "R"}]}),
            )
            .await;
        assert_eq!(set.status, StatusCode::OK, "{}", set.text);
        assert_eq!(set.body["accountable_role_id"], owner);
        let matrix = app.get("/api/v1/raci", Role::Auditor).await;
        let row = matrix
            .body
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["process"] == "8.6.1")
            .cloned()
            .expect("row");
        assert_eq!(row["cells"].as_array().map(Vec::len), Some(2));
        let theirs = app
            .call(
                Method::GET,
                "/api/v1/raci",
                Some(app.outsider.as_str()),
                None,
            )
            .await;
        assert!(
            theirs
                .body
                .as_array()
                .expect("rows")
                .iter()
                .all(|r| r["cells"].as_array().is_some_and(Vec::is_empty))
        );
    }
);

both_backends!(the_role_pages_work, |store: Store| async move {
    let (t, people) = tenant_with_people(
        &store,
        "Acme",
        &[
            ("max@acme.test", "Max", Role::Manager),
            ("ada@acme.test", "Ada", Role::Auditor),
            ("gus@acme.test", "Gus", Role::Agent),
        ],
    )
    .await;
    let app = router(AppState::new(store.clone(), ServerConfig::default()));
    let gus_id = people[2].to_string();
    let (max, csrf) = sign_in(&app, "max@acme.test").await;
    assert!(
        page(&app, "/sms", &max)
            .await
            .html
            .contains("href=\"/roles\"")
    );

    // A role: refused with the reasons beside the fields and the input kept, then created.
    page(&app, "/roles/new", &max).await;
    let mut role = vec![
        ("_csrf", csrf.as_str()),
        ("name", "Problem manager"),
        ("responsibilities", ""),
        ("authorities", "Raises known errors"),
        ("conformity_lead", "no"),
        ("reports_performance", "yes"),
    ];
    let bad = submit(&app, "/roles", &max, &role).await;
    assert_refused(&bad, "Responsibilities is required");
    assert!(bad.html.contains("value=\"Problem manager\""));
    assert!(bad.html.contains("Raises known errors"));
    role.retain(|(k, _)| *k != "responsibilities");
    role.push(("responsibilities", "Finds root causes"));
    let made = submit(&app, "/roles", &max, &role).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.html);
    let role_path = made.location.split('?').next().expect("path").to_owned();
    let view = page(&app, &made.location, &max).await;
    assert!(view.html.contains("Finds root causes"));
    assert!(view.html.contains("Reports performance to top management"));

    // Assigned: a person is required, then shown as the current holder in the list.
    let today = today_utc().to_string();
    let nobody = submit(
        &app,
        &format!("{role_path}/assignments"),
        &max,
        &[
            ("_csrf", &csrf),
            ("user_id", ""),
            ("from_date", &today),
            ("note", "Hand-over"),
        ],
    )
    .await;
    assert_refused(&nobody, "Choose the person who takes the role on");
    assert!(nobody.html.contains("Hand-over"), "keeps the note");
    let assigned = submit(
        &app,
        &format!("{role_path}/assignments"),
        &max,
        &[
            ("_csrf", &csrf),
            ("user_id", &gus_id),
            ("from_date", &today),
            ("note", ""),
        ],
    )
    .await;
    assert_eq!(assigned.status, StatusCode::SEE_OTHER, "{}", assigned.html);
    let list = page(&app, "/roles", &max).await;
    assert!(list.html.contains("Problem manager"));
    assert!(list.html.contains("Gus"), "{}", list.html);
    let view = page(&app, &role_path, &max).await;
    assert!(view.html.contains("current"));
    // The notice mailed to Gus: waiting, then what became of it.
    assert!(view.html.contains("waiting to go out"), "{}", view.html);
    let notice = store.outbox(t).await.expect("outbox")[0].id;
    store
        .outbox_attempted(notice, Some("550 mailbox unavailable"), true)
        .await
        .expect("failed");
    let view = page(&app, &role_path, &max).await;
    assert!(view.html.contains("not delivered: 550 mailbox unavailable"));
    let retire = submit(
        &app,
        &format!("{role_path}/retire"),
        &max,
        &[("_csrf", &csrf)],
    )
    .await;
    assert_refused(&retire, "is still held");

    // The RACI row: no owner refused, readable, selections kept; then saved and shown.
    let role_id = role_path.rsplit('/').next().expect("id").to_owned();
    let field = format!("role_{role_id}");
    let matrix = page(&app, "/raci", &max).await;
    assert!(matrix.html.contains("no owner"));
    page(&app, "/raci/8.6.3", &max).await;
    let refused = submit(
        &app,
        "/raci/8.6.3",
        &max,
        &[("_csrf", &csrf), (&field, "R")],
    )
    .await;
    assert_refused(
        &refused,
        "Exactly one role must be accountable for Problem management",
    );
    assert!(
        refused.html.contains("value=\"R\" selected"),
        "{}",
        refused.html
    );
    let saved = submit(
        &app,
        "/raci/8.6.3",
        &max,
        &[("_csrf", &csrf), (&field, "A")],
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    let matrix = page(&app, "/raci", &max).await;
    assert!(matrix.html.contains("letter-A"), "{}", matrix.html);
    let list = page(&app, "/roles", &max).await;
    assert!(list.html.contains("Problem management"));

    // The auditor reads without forms; an agent does not get in.
    let (ada, _) = sign_in(&app, "ada@acme.test").await;
    let read = page(&app, &role_path, &ada).await;
    assert!(!read.html.contains(">Assign</button>"));
    assert!(
        !page(&app, "/raci", &ada)
            .await
            .html
            .contains("/raci/8.6.3\"")
    );
    let (gus, _) = sign_in(&app, "gus@acme.test").await;
    for path in ["/roles", "/raci", role_path.as_str()] {
        let barred = send(&app, get(path, &gus)).await;
        assert_eq!(barred.status, StatusCode::FORBIDDEN, "{path}");
    }
});
