//! `/api/v1/releases` and the release pages through the router: the contract (REL-n
//! keys, 422 problems for bad input and failed guards), a minor release through test,
//! acceptance and a production deployment that updates a CI (journaled on the CI), tenant
//! isolation, and the pages with a form that keeps what was typed.

use super::api::{Reply, TestApp, app, is_problem};
use super::sla_ui::sign_in;
use super::support::{assert_refused, assert_unprocessable, submit, tenant_with_people};
use super::ui::{get, send};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use steward_domain::access::Role;
use steward_server::{AppState, ServerConfig, router};
use steward_store::{Store, both_backends};

async fn created(app: &TestApp, path: &str, body: Value) -> Value {
    let reply = app.post(path, Role::Agent, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{path}: {}", reply.text);
    reply.body
}

async fn ok(reply: Reply, what: &str) -> Value {
    assert_eq!(reply.status, StatusCode::OK, "{what}: {}", reply.text);
    reply.body
}

async fn move_to(app: &TestApp, key: &str, to: &str) -> Reply {
    app.post(
        &format!("/api/v1/releases/{key}/transitions"),
        Role::Agent,
        json!({ "to": to }),
    )
    .await
}

/// A CI of a class with a `version` attribute.
async fn versioned_ci(app: &TestApp) -> i64 {
    let class = app
        .post(
            "/api/v1/ci-classes",
            Role::Admin,
            json!({"name": "Web app", "attributes": [
                {"name": "version", "label": "Version", "kind": "text", "required": false}
            ]}),
        )
        .await;
    assert_eq!(class.status, StatusCode::CREATED, "{}", class.text);
    created(
        app,
        "/api/v1/cis",
        json!({"class": "Web app", "name": "Customer Portal Web", "attributes": {"version": "2.3.0"}}),
    )
    .await["id"]
        .as_i64()
        .expect("id")
}

both_backends!(
    a_release_is_created_as_rel_1_and_bad_input_is_a_problem,
    |store: Store| async move {
        let app = app(store).await;
        let release = created(
            &app,
            "/api/v1/releases",
            json!({"title": "Portal 2.4", "kind": "minor",
                   "planned_start": "2031-01-10T08:00:00Z", "planned_end": "2031-01-10T10:00:00Z"}),
        )
        .await;
        assert_eq!(release["key"], "REL-1");
        assert_eq!(release["status"], "planned");
        assert_eq!(release["next"], json!(["built", "cancelled"]));

        let backwards = app
            .post(
                "/api/v1/releases",
                Role::Agent,
                json!({"title": "Backwards", "kind": "major",
                       "planned_start": "2031-01-10T10:00:00Z", "planned_end": "2031-01-10T08:00:00Z"}),
            )
            .await;
        assert_unprocessable(&backwards, "planned_end");
        let wrong_kind = app
            .post(
                "/api/v1/releases",
                Role::Agent,
                json!({"title": "X", "kind": "huge"}),
            )
            .await;
        assert_eq!(wrong_kind.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(is_problem(&wrong_kind));

        // Optimistic concurrency: an edit over a stale read is refused.
        let seen = release["updated_at"]
            .as_str()
            .expect("updated_at")
            .to_owned();
        ok(
            app.patch(
                "/api/v1/releases/REL-1",
                Role::Agent,
                json!({"description": "First", "updated_at": seen}),
            )
            .await,
            "fresh edit",
        )
        .await;
        let stale = app
            .patch(
                "/api/v1/releases/REL-1",
                Role::Agent,
                json!({"description": "Second", "updated_at": seen}),
            )
            .await;
        assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.text);
        assert!(is_problem(&stale));

        // Accepting with a criterion not signed off.
        ok(move_to(&app, "REL-1", "built").await, "built").await;
        ok(move_to(&app, "REL-1", "in_test").await, "in test").await;
        let unsigned = move_to(&app, "REL-1", "accepted").await;
        assert_unprocessable(&unsigned, "criteria");
        created(
            &app,
            "/api/v1/releases/REL-1/criteria",
            json!({"text": "Checkout works end to end"}),
        )
        .await;
        assert_unprocessable(&move_to(&app, "REL-1", "accepted").await, "criteria");
        let skip = move_to(&app, "REL-1", "closed").await;
        assert_eq!(skip.status, StatusCode::CONFLICT, "{}", skip.text);

        // Production before acceptance.
        let early = app
            .post(
                "/api/v1/releases/REL-1/deployments",
                Role::Agent,
                json!({"environment": "Production"}),
            )
            .await;
        assert_unprocessable(&early, "environment");

        // Rolled back without notes.
        let test = created(
            &app,
            "/api/v1/releases/REL-1/deployments",
            json!({"environment": "test"}),
        )
        .await;
        let id = test["id"].as_i64().expect("id");
        let silent = app
            .post(
                &format!("/api/v1/releases/REL-1/deployments/{id}/outcome"),
                Role::Agent,
                json!({"outcome": "rolled_back"}),
            )
            .await;
        assert_unprocessable(&silent, "rollback_notes");
        let release = ok(
            app.post(
                &format!("/api/v1/releases/REL-1/deployments/{id}/outcome"),
                Role::Agent,
                json!({"outcome": "rolled_back", "rollback_notes": "Restored the previous image"}),
            )
            .await,
            "rolled back",
        )
        .await;
        assert_eq!(release["deployments"][0]["outcome"], "rolled_back");
    }
);

both_backends!(
    a_production_deployment_updates_the_ci_and_its_journal,
    |store: Store| async move {
        let app = app(store).await;
        let ci = versioned_ci(&app).await;
        let change = created(
            &app,
            "/api/v1/changes",
            json!({"title": "Upgrade the portal", "type": "normal"}),
        )
        .await;
        let change_id = change["id"].as_i64().expect("id");
        created(
            &app,
            "/api/v1/releases",
            json!({"title": "Portal 2.4", "kind": "minor"}),
        )
        .await;
        let linked = ok(
            app.call(
                Method::PUT,
                "/api/v1/releases/REL-1/changes",
                Some(app.token(Role::Agent)),
                Some(json!({"changes": [change_id, change_id]})),
            )
            .await,
            "changes",
        )
        .await;
        assert_eq!(linked["changes"], json!([change_id]));
        let missing = app
            .call(
                Method::PUT,
                "/api/v1/releases/REL-1/changes",
                Some(app.token(Role::Agent)),
                Some(json!({"changes": [999_999]})),
            )
            .await;
        assert_unprocessable(&missing, "changes");

        for to in ["built", "in_test"] {
            ok(move_to(&app, "REL-1", to).await, to).await;
        }
        let with = created(
            &app,
            "/api/v1/releases/REL-1/criteria",
            json!({"text": "Smoke tests pass"}),
        )
        .await;
        let criterion = with["criteria"][0]["id"].as_i64().expect("criterion");
        let refused = app
            .post(
                &format!("/api/v1/releases/REL-1/criteria/{criterion}/sign-off"),
                Role::Agent,
                json!({"verdict": "refused"}),
            )
            .await;
        assert_unprocessable(&refused, "comment");
        let signed = ok(
            app.post(
                &format!("/api/v1/releases/REL-1/criteria/{criterion}/sign-off"),
                Role::Manager,
                json!({"verdict": "accepted", "comment": "All green"}),
            )
            .await,
            "sign-off",
        )
        .await;
        assert_eq!(signed["criteria"][0]["verdict"], "accepted");
        assert!(signed["criteria"][0]["signed_by"].is_i64());
        ok(move_to(&app, "REL-1", "accepted").await, "accepted").await;
        ok(move_to(&app, "REL-1", "deploying").await, "deploying").await;

        let production = created(
            &app,
            "/api/v1/releases/REL-1/deployments",
            json!({"environment": "production"}),
        )
        .await;
        let id = production["id"].as_i64().expect("id");
        let outcome = |body: Value| {
            let path = format!("/api/v1/releases/REL-1/deployments/{id}/outcome");
            let app = &app;
            async move { app.post(&path, Role::Agent, body).await }
        };
        let bad_attribute = outcome(json!({"outcome": "succeeded",
            "ci_updates": [{"ci_id": ci, "attributes": {"colour": "blue"}}]}))
        .await;
        assert_unprocessable(&bad_attribute, "ci_updates");
        let unchanged = app.get(&format!("/api/v1/cis/{ci}"), Role::Agent).await;
        assert_eq!(
            unchanged.body["attributes"]["version"], "2.3.0",
            "nothing applied"
        );

        let done = ok(
            outcome(
                json!({"outcome": "succeeded", "verification_notes": "Checked the login page",
                "ci_updates": [{"ci_id": ci, "attributes": {"version": "2.4.0"}}]}),
            )
            .await,
            "succeeded",
        )
        .await;
        assert_eq!(done["deployments"][0]["ci_updates"][0]["ci_id"], ci);
        let updated = app.get(&format!("/api/v1/cis/{ci}"), Role::Agent).await;
        assert_eq!(updated.body["attributes"]["version"], "2.4.0");
        let journal = app
            .get(
                &format!("/api/v1/journal?record_type=ci&record_id={ci}"),
                Role::Admin,
            )
            .await;
        assert!(
            journal.text.contains("2.4.0") && journal.text.contains("2.3.0"),
            "the CI's journal shows the update: {}",
            journal.text
        );
        let again = outcome(json!({"outcome": "failed"})).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        ok(move_to(&app, "REL-1", "deployed").await, "deployed").await;
        let closed = ok(move_to(&app, "REL-1", "closed").await, "closed").await;
        assert!(closed["ended_at"].is_string());
        let list = app
            .get("/api/v1/releases?status=closed&kind=minor", Role::Auditor)
            .await;
        assert_eq!(list.body["items"].as_array().map(Vec::len), Some(1));
        let none = app.get("/api/v1/releases?kind=major", Role::Auditor).await;
        assert_eq!(none.body["items"].as_array().map(Vec::len), Some(0));
    }
);

both_backends!(releases_are_the_tenants_own, |store: Store| async move {
    let app = app(store).await;
    let release = created(
        &app,
        "/api/v1/releases",
        json!({"title": "Secret release", "kind": "emergency"}),
    )
    .await;
    let id = release["id"].as_i64().expect("id");
    let outsider = Some(app.outsider.as_str());
    for path in [
        format!("/api/v1/releases/{id}"),
        format!("/api/v1/releases/{id}/deployments"),
    ] {
        let reply = app.call(Method::GET, &path, outsider, None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
    }
    let theirs = app
        .call(Method::GET, "/api/v1/releases", outsider, None)
        .await;
    assert!(!theirs.text.contains("Secret release"));
    // Another tenant's change is no change of ours.
    let their_change = app
        .call(
            Method::POST,
            "/api/v1/changes",
            outsider,
            Some(json!({"title": "Theirs", "type": "normal"})),
        )
        .await;
    let their_id = their_change.body["id"].as_i64().expect("id");
    let refused = app
        .call(
            Method::PUT,
            &format!("/api/v1/releases/{id}/changes"),
            Some(app.token(Role::Agent)),
            Some(json!({"changes": [their_id]})),
        )
        .await;
    assert_unprocessable(&refused, "changes");
    // An emergency release may go to production once built.
    ok(move_to(&app, "REL-1", "built").await, "built").await;
    created(
        &app,
        "/api/v1/releases/REL-1/deployments",
        json!({"environment": "PRODUCTION"}),
    )
    .await;
    let requester = app.get("/api/v1/releases", Role::Requester).await;
    assert_eq!(requester.status, StatusCode::FORBIDDEN);
});

async fn tenant_of(store: &Store) -> i64 {
    store.tenant_by_slug("acme").await.expect("tenant").id
}

/// A web server CI with a `version` attribute, in the UI test's tenant.
async fn web_ci(store: &Store) -> i64 {
    use super::cmdb_ui::{attribute, ci, class};
    use steward_domain::request::FieldKind;
    let t = tenant_of(store).await;
    let version = attribute("version", "Version", FieldKind::Text, false);
    let server = class(store, t, "Server", vec![version]).await;
    ci(store, t, &server, "portal-web-01", vec![]).await
}

/// A tenant with an agent who signs in with a password, and the router.
async fn site(store: &Store) -> axum::Router {
    tenant_with_people(store, "Acme", &[("al@acme.test", "Al Agent", Role::Agent)]).await;
    router(AppState::new(store.clone(), ServerConfig::default()))
}

both_backends!(
    release_pages_render_and_the_form_keeps_input,
    |store: Store| async move {
        let app = site(&store).await;
        let (al, csrf) = sign_in(&app, "al@acme.test").await;
        let home = send(&app, get("/", &al)).await;
        assert!(home.html.contains("href=\"/releases\""), "nav entry");
        let list = send(&app, get("/releases", &al)).await;
        assert_eq!(list.status, StatusCode::OK);
        let form = send(&app, get("/releases/new", &al)).await;
        assert_eq!(form.status, StatusCode::OK);

        let bad = submit(
            &app,
            "/releases",
            &al,
            &[
                ("_csrf", &csrf),
                ("title", "Portal 2.5 typed in"),
                ("kind", "major"),
                ("planned_start", "2031-02-01T10:00"),
                ("planned_end", "2031-02-01T08:00"),
            ],
        )
        .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.html);
        assert!(bad.html.contains("Portal 2.5 typed in"), "keeps the title");
        assert!(bad.html.contains("must not be before"), "{}", bad.html);

        let good = submit(
            &app,
            "/releases",
            &al,
            &[
                ("_csrf", &csrf),
                ("title", "Portal 2.5"),
                ("kind", "major"),
                ("planned_start", ""),
                ("planned_end", ""),
            ],
        )
        .await;
        assert_eq!(good.status, StatusCode::SEE_OTHER, "{}", good.html);
        assert!(
            good.location.starts_with("/releases/REL-1"),
            "{}",
            good.location
        );
        let add = submit(
            &app,
            "/releases/REL-1/criteria",
            &al,
            &[("_csrf", &csrf), ("text", "Load test passes")],
        )
        .await;
        assert_eq!(add.status, StatusCode::SEE_OTHER, "{}", add.html);
        let page = send(&app, get("/releases/REL-1", &al)).await;
        assert_eq!(page.status, StatusCode::OK);
        for text in ["Portal 2.5", "Load test passes", "not signed off"] {
            assert!(page.html.contains(text), "{text}: {}", page.html);
        }
        let moved = submit(
            &app,
            "/releases/REL-1/transitions",
            &al,
            &[("_csrf", &csrf), ("to", "built")],
        )
        .await;
        assert_eq!(moved.status, StatusCode::SEE_OTHER);
        let early = submit(
            &app,
            "/releases/REL-1/deployments",
            &al,
            &[("_csrf", &csrf), ("environment", "production")],
        )
        .await;
        assert_refused(&early, "accepted release");
        // Signed off, accepted and deployed to production through the pages, updating a CI.
        let ci = web_ci(&store).await;
        let criterion = store
            .releases(
                tenant_of(&store).await,
                &Default::default(),
                &steward_store::PageRequest {
                    limit: Some(10),
                    cursor: None,
                },
            )
            .await
            .expect("releases")
            .items[0]
            .criteria[0]
            .id;
        let steps: Vec<(String, Vec<(&str, &str)>)> = vec![
            (
                format!("/releases/REL-1/criteria/{criterion}/sign-off"),
                vec![("verdict", "accepted"), ("comment", "Looks good")],
            ),
            (
                "/releases/REL-1/transitions".into(),
                vec![("to", "in_test")],
            ),
            (
                "/releases/REL-1/transitions".into(),
                vec![("to", "accepted")],
            ),
            (
                "/releases/REL-1/transitions".into(),
                vec![("to", "deploying")],
            ),
            (
                "/releases/REL-1/deployments".into(),
                vec![("environment", "production")],
            ),
        ];
        for (path, fields) in steps {
            let mut fields = fields;
            fields.push(("_csrf", &csrf));
            let reply = submit(&app, &path, &al, &fields).await;
            assert_eq!(
                reply.status,
                StatusCode::SEE_OTHER,
                "{path}: {}",
                reply.html
            );
        }
        let release = store
            .release_by_number(tenant_of(&store).await, 1)
            .await
            .expect("release");
        let deployment = release.deployments[0].id;
        let outcome = format!("/releases/REL-1/deployments/{deployment}/outcome");
        let silent = submit(
            &app,
            &outcome,
            &al,
            &[
                ("_csrf", &csrf),
                ("outcome", "rolled_back"),
                ("verification_notes", "typed"),
            ],
        )
        .await;
        assert_eq!(silent.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(silent.html.contains("rolled back") && silent.html.contains(">typed<"));
        let done = submit(
            &app,
            &outcome,
            &al,
            &[
                ("_csrf", &csrf),
                ("outcome", "succeeded"),
                ("ci", "portal-web-01"),
                ("ci_attributes", "version = 2.4.0"),
            ],
        )
        .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
        let page = send(&app, get("/releases/REL-1", &al)).await;
        for text in [
            format!("href=\"/cis/{ci}\""),
            "version = 2.4.0".to_owned(),
            "succeeded".to_owned(),
            "Looks good".to_owned(),
        ] {
            assert!(page.html.contains(&text), "{text}: {}", page.html);
        }
        let edit = send(&app, get("/releases/REL-1/edit", &al)).await;
        assert!(edit.html.contains("name=\"updated_at\""), "{}", edit.html);
        let stale = submit(
            &app,
            "/releases/REL-1",
            &al,
            &[
                ("_csrf", &csrf),
                ("title", "Portal 2.5 renamed"),
                ("kind", "major"),
                ("updated_at", "1"),
            ],
        )
        .await;
        assert_eq!(stale.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            stale.html.contains("changed by someone else")
                && stale.html.contains("Portal 2.5 renamed")
        );
        let missing = send(&app, get("/releases/REL-99", &al)).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
    }
);
