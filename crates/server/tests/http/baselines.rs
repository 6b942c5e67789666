//! Baselines through the router: `/api/v1/ci-baselines` and `/cis/{id}/as-of` (take, list,
//! read, diff, a CI as it was), then the pages under `/cmdb/baselines` and the CI page's
//! "As it was" form.

use super::api::{TestApp, app, is_problem};
use super::cmdb::{classes, create, relate, server};
use super::cmdb_ui::{page, site};
use super::sla_ui::{post, sign_in};
use super::ui::send;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use steward_domain::access::Role;
use steward_store::{Store, both_backends};

async fn take(app: &TestApp, name: &str, service_id: i64) -> Value {
    let reply = app
        .post(
            "/api/v1/ci-baselines",
            Role::Agent,
            json!({"name": name, "service_id": service_id}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.body
}

both_backends!(
    baselines_are_taken_and_compared,
    |store: Store| async move {
        let app = app(store).await;
        classes(&app).await;
        let service = create(
            &app,
            "/api/v1/services",
            Role::Admin,
            json!({"name": "Payroll"}),
        )
        .await;
        let db = server(&app, "DB01").await;
        let payroll = create(
            &app,
            "/api/v1/cis",
            Role::Agent,
            json!({"class": "Application", "name": "Payroll", "service_ids": [service]}),
        )
        .await;
        relate(&app, payroll, db, "depends_on").await;
        // Not the service's: nothing it depends on.
        server(&app, "Spare01").await;

        let before = take(&app, "Before the upgrade", service).await;
        assert_eq!(before["ci_count"], 2, "{before}");
        assert_eq!(before["service_id"], service);
        let upgrade = app
            .call(
                Method::PUT,
                &format!("/api/v1/cis/{db}"),
                Some(app.token(Role::Agent)),
                Some(json!({"class": "Server", "name": "DB01",
                        "attributes": {"hostname": "db01", "ram_gb": 128}})),
            )
            .await;
        assert_eq!(upgrade.status, StatusCode::OK, "{}", upgrade.text);
        let after = take(&app, "After the upgrade", service).await;

        let diff = app
            .get(
                &format!("/api/v1/ci-baselines/{}/diff/{}", before["id"], after["id"]),
                Role::Auditor,
            )
            .await;
        assert_eq!(diff.status, StatusCode::OK, "{}", diff.text);
        assert_eq!(diff.body["added"], json!([]));
        assert_eq!(diff.body["removed"], json!([]));
        assert_eq!(
            diff.body["changed"],
            json!([{"ci_id": db, "name": "DB01", "changes": [
                {"field": "attributes.ram_gb", "before": 64.0, "after": 128.0}
            ]}])
        );
        assert_eq!(diff.body["before"]["name"], "Before the upgrade");

        let list = app.get("/api/v1/ci-baselines", Role::Auditor).await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.text);
        assert_eq!(list.body["items"][0]["id"], after["id"], "newest first");
        assert_eq!(list.body["items"][1]["id"], before["id"]);

        let first = app
            .get(
                &format!("/api/v1/ci-baselines/{}?limit=1", before["id"]),
                Role::Agent,
            )
            .await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.text);
        assert_eq!(first.body["baseline"]["ci_count"], 2);
        assert_eq!(first.body["items"][0]["id"], db);
        assert_eq!(first.body["items"][0]["attributes"]["ram_gb"], 64.0);
        let cursor = first.body["next_cursor"].as_str().expect("more CIs");
        let rest = app
            .get(
                &format!("/api/v1/ci-baselines/{}?cursor={cursor}", before["id"]),
                Role::Agent,
            )
            .await;
        assert_eq!(rest.body["items"][0]["id"], payroll, "{}", rest.text);
        assert_eq!(
            rest.body["items"][0]["relationships"],
            json!([{"type_name": "depends_on", "target_id": db}])
        );
        assert_eq!(rest.body["next_cursor"], Value::Null);

        // The CI as it was when the first baseline was taken, and now.
        let at = before["taken_at"].as_str().expect("taken_at");
        let then = app
            .get(
                &format!("/api/v1/cis/{db}/as-of?at={}", at.replace('+', "%2B")),
                Role::Auditor,
            )
            .await;
        assert_eq!(then.status, StatusCode::OK, "{}", then.text);
        assert_eq!(then.body["attributes"]["ram_gb"], 64.0);
        assert_eq!(then.body["class"], "Server");
        let now = app
            .get(&format!("/api/v1/cis/{db}/as-of"), Role::Auditor)
            .await;
        assert_eq!(now.body["attributes"]["ram_gb"], 128.0, "{}", now.text);
        let unborn = app
            .get(
                &format!("/api/v1/cis/{db}/as-of?at=2001-01-01T00:00:00Z"),
                Role::Auditor,
            )
            .await;
        assert_eq!(unborn.status, StatusCode::NOT_FOUND, "{}", unborn.text);
        assert!(is_problem(&unborn));
        let garbled = app
            .get(
                &format!("/api/v1/cis/{db}/as-of?at=yesterday"),
                Role::Auditor,
            )
            .await;
        assert_eq!(garbled.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(is_problem(&garbled));
    }
);

both_backends!(
    baselines_are_checked_and_guarded,
    |store: Store| async move {
        let app = app(store).await;
        classes(&app).await;
        server(&app, "DB01").await;
        for body in [
            json!({"name": ""}),
            json!({"name": "Gone", "service_id": 999_999}),
            json!({"name": "Odd", "colour": "red"}),
        ] {
            let r = app.post("/api/v1/ci-baselines", Role::Agent, body).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
            assert!(is_problem(&r));
        }
        let refused = app
            .post(
                "/api/v1/ci-baselines",
                Role::Auditor,
                json!({"name": "Mine"}),
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let whole = create(
            &app,
            "/api/v1/ci-baselines",
            Role::Manager,
            json!({"name": "Whole CMDB"}),
        )
        .await;
        let header = app
            .get(&format!("/api/v1/ci-baselines/{whole}"), Role::Auditor)
            .await;
        assert_eq!(header.body["baseline"]["service_id"], Value::Null);
        assert_eq!(header.body["baseline"]["ci_count"], 1);
        for path in [
            "/api/v1/ci-baselines/999999".to_owned(),
            format!("/api/v1/ci-baselines/{whole}/diff/999999"),
        ] {
            let r = app.get(&path, Role::Agent).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.text);
        }
    }
);

both_backends!(
    baselines_are_taken_and_compared_in_the_ui,
    |store: Store| async move {
        let s = site(store).await;
        let (al, csrf) = sign_in(&s.app, "al@acme.test").await;
        let (ada, _) = sign_in(&s.app, "ada@acme.test").await;
        let cis = page(&s.app, "/cis", &al).await;
        assert!(
            cis.html.contains("href=\"/cmdb/baselines\""),
            "the CMDB links to baselines"
        );
        let empty = page(&s.app, "/cmdb/baselines", &al).await;
        assert!(empty.html.contains("Take baseline") && empty.html.contains("No baselines yet"));
        let auditor = page(&s.app, "/cmdb/baselines", &ada).await;
        assert!(
            !auditor.html.contains("Take baseline</button>"),
            "auditors only look"
        );

        let payroll = s.payroll.to_string();
        let nameless = send(
            &s.app,
            post(
                "/cmdb/baselines",
                &al,
                &[("_csrf", &csrf), ("name", " "), ("service_id", &payroll)],
            ),
        )
        .await;
        assert_eq!(nameless.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            nameless.html.contains("Name is required"),
            "{}",
            nameless.html
        );
        assert!(
            nameless
                .html
                .contains(&format!("<option value=\"{payroll}\" selected>Payroll")),
            "the chosen service stays chosen"
        );

        let mut taken = Vec::new();
        for name in ["Before the upgrade", "After the upgrade"] {
            let reply = send(
                &s.app,
                post(
                    "/cmdb/baselines",
                    &al,
                    &[("_csrf", &csrf), ("name", name), ("service_id", &payroll)],
                ),
            )
            .await;
            assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.html);
            let view = page(&s.app, &reply.location, &al).await;
            assert!(view.html.contains(name) && view.html.contains(">DB01</a>"));
            assert!(view.html.contains(">Payroll app</a>"));
            let id = reply.location.trim_start_matches("/cmdb/baselines/");
            taken.push(id.split('?').next().unwrap_or_default().to_owned());
            if taken.len() == 1 {
                // DB01 gets more memory between the two baselines.
                let db = s.store.ci(s.tenant_id, s.db).await.expect("db01");
                let mut draft = db.draft();
                draft.attributes.insert("ram_gb".into(), json!(128));
                let draft = draft
                    .validate(&s.server.name, &s.server.attributes)
                    .expect("draft");
                s.store
                    .update_ci(s.tenant_id, s.db, &draft, &steward_store::Actor::cli())
                    .await
                    .expect("upgrade");
            }
        }
        let list = page(&s.app, "/cmdb/baselines", &ada).await;
        assert!(list.html.contains("Compare two baselines"));

        let diff = page(
            &s.app,
            &format!(
                "/cmdb/baselines/diff?before={}&after={}",
                taken[0], taken[1]
            ),
            &ada,
        )
        .await;
        assert!(diff.html.contains("0 added") && diff.html.contains("1 changed"));
        assert!(diff.html.contains("badge diff-changed\">changed</span>"));
        assert!(diff.html.contains(">DB01</a>"), "{}", diff.html);
        assert!(
            diff.html.contains("attribute “ram_gb”")
                && diff.html.contains("<del class=\"was\">not set</del>")
                && diff.html.contains("<ins class=\"now\">128</ins>"),
            "{}",
            diff.html
        );
        let same = page(
            &s.app,
            &format!("/cmdb/baselines/diff?before={0}&after={0}", taken[0]),
            &ada,
        )
        .await;
        assert!(
            same.html
                .contains("Nothing changed between these two baselines")
        );

        // The CI page's "As it was" form, and what it shows.
        let db_page = page(&s.app, &format!("/cis/{}", s.db), &ada).await;
        assert!(
            db_page
                .html
                .contains(&format!("action=\"/cis/{}/as-of\"", s.db))
        );
        let long_ago = page(
            &s.app,
            &format!("/cis/{}/as-of?at=2001-01-01T00:00", s.db),
            &ada,
        )
        .await;
        assert!(long_ago.html.contains("did not exist yet"));
        let now = page(&s.app, &format!("/cis/{}/as-of?at=", s.db), &ada).await;
        assert!(
            now.html.contains("Host name") && now.html.contains("128"),
            "{}",
            now.html
        );
        let garbled = page(&s.app, &format!("/cis/{}/as-of?at=soon", s.db), &ada).await;
        assert!(garbled.html.contains("Give a date and time"));
    }
);
