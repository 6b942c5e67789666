//! The management system's registers through the real router: risks and opportunities with
//! their heat map and reviews, objectives with computed and hand-measured readings, and the
//! improvement register's steps; the API's refusals as problem+json, and the pages with their
//! forms, which keep what was typed when they refuse it.

use super::api::app;
use super::cmdb_ui::page;
use super::sla_ui::sign_in;
use super::support::{assert_refused, assert_unprocessable, submit, tenant_with_people};
use super::ui::{get, send};
use crate::support::in_days;
use axum::Router;
use axum::http::StatusCode;
use serde_json::json;
use steward_domain::access::Role;
use steward_server::{AppState, ServerConfig, router};
use steward_store::asset::today_utc;
use steward_store::{Store, both_backends};

both_backends!(
    the_registers_api_records_and_refuses,
    |store: Store| async move {
        let app = app(store).await;
        let review = in_days(90);
        let risk = app
            .post(
                "/api/v1/risks",
                Role::Manager,
                json!({"kind": "risk", "title": "Single data centre", "area": "Continuity",
                       "likelihood": 4, "impact": 5, "treatment": "mitigate",
                       "treatment_plan": "Second site", "residual_likelihood": 2,
                       "residual_impact": 5, "review_date": review}),
            )
            .await;
        assert_eq!(risk.status, StatusCode::CREATED, "{}", risk.text);
        assert_eq!(risk.body["score"], 20);
        assert_eq!(risk.body["level"], "very_high");
        assert_eq!(risk.body["residual_level"], "high");
        let id = risk.body["id"].as_i64().expect("id");

        // A treatment that does not fit, a plan missing, a residual half given: all named.
        let bad = app
            .post(
                "/api/v1/risks",
                Role::Manager,
                json!({"kind": "risk", "title": "x", "likelihood": 9, "impact": 1,
                       "treatment": "exploit", "residual_likelihood": 1,
                       "review_date": "2001-01-01"}),
            )
            .await;
        assert_unprocessable(&bad, "likelihood must be from 1 to 5");
        for needle in [
            "Exploit is not a treatment for a risk",
            "the plan is required",
            "Give both the residual likelihood and impact",
            "The review date cannot be in the past",
        ] {
            assert!(bad.text.contains(needle), "{needle}: {}", bad.text);
        }

        let reviewed = app
            .post(
                &format!("/api/v1/risks/{id}/reviews"),
                Role::Manager,
                json!({"note": "Contract signed", "review_date": in_days(120)}),
            )
            .await;
        assert_eq!(reviewed.status, StatusCode::OK, "{}", reviewed.text);
        let reviews = app
            .get(&format!("/api/v1/risks/{id}/reviews"), Role::Auditor)
            .await;
        assert_eq!(reviews.body.as_array().map(Vec::len), Some(2));
        let heat = app.get("/api/v1/risks/heat-map", Role::Auditor).await;
        assert_eq!(heat.body["risks"][3][4], 1, "{}", heat.text);

        // Objectives: a computed one reads Steward's records and refuses typed values.
        let manager = app.user_id(Role::Manager).await;
        let objective = app
            .post(
                "/api/v1/objectives",
                Role::Manager,
                json!({"title": "Meet our SLAs", "kpi": "sla_attainment",
                       "direction": "at_least", "target": 95, "owner_id": manager}),
            )
            .await;
        assert_eq!(objective.status, StatusCode::CREATED, "{}", objective.text);
        assert_eq!(objective.body["unit"], "%");
        let oid = objective.body["id"].as_i64().expect("id");
        let readings = app
            .get(&format!("/api/v1/objectives/{oid}/readings"), Role::Auditor)
            .await;
        assert_eq!(readings.body["readings"].as_array().map(Vec::len), Some(12));
        assert_eq!(readings.body["standing"], "unmeasured");
        let typed = app
            .post(
                &format!("/api/v1/objectives/{oid}/measurements"),
                Role::Manager,
                json!({"month": today_utc().strftime("%Y-%m").to_string(), "value": 99}),
            )
            .await;
        assert_eq!(typed.status, StatusCode::CONFLICT, "{}", typed.text);
        let no_owner = app
            .post(
                "/api/v1/objectives",
                Role::Manager,
                json!({"title": "x", "kpi": "manual", "direction": "at_most", "target": 1}),
            )
            .await;
        assert_unprocessable(&no_owner, "Every objective needs an owner");

        // Improvements: a step out of turn is a 409; a decision without a reason a 422.
        let improvement = app
            .post(
                "/api/v1/improvements",
                Role::Manager,
                json!({"title": "Password self-service", "source": "measurement", "priority": "high"}),
            )
            .await;
        assert_eq!(
            improvement.status,
            StatusCode::CREATED,
            "{}",
            improvement.text
        );
        let iid = improvement.body["id"].as_i64().expect("id");
        assert_eq!(
            improvement.body["next"],
            json!(["approve", "defer", "reject"])
        );
        let steps = format!("/api/v1/improvements/{iid}/steps");
        let early = app
            .post(&steps, Role::Manager, json!({"step": "close", "note": "x"}))
            .await;
        assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.text);
        let unreasoned = app
            .post(&steps, Role::Manager, json!({"step": "approve"}))
            .await;
        assert_unprocessable(&unreasoned, "The decision's reason is required");
        let approved = app
            .post(
                &steps,
                Role::Manager,
                json!({"step": "approve", "note": "Cheap"}),
            )
            .await;
        assert_eq!(approved.body["status"], "approved", "{}", approved.text);
        assert_eq!(approved.body["decision_reason"], "Cheap");

        // The auditor reads, never writes.
        let refused = app
            .post(
                "/api/v1/improvements",
                Role::Auditor,
                json!({"title": "x", "source": "staff"}),
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
    }
);

async fn site(store: &Store) -> (Router, Vec<i64>) {
    let (_, people) = tenant_with_people(
        store,
        "Acme",
        &[
            ("max@acme.test", "Max", Role::Manager),
            ("ada@acme.test", "Ada", Role::Auditor),
            ("gus@acme.test", "Gus", Role::Agent),
        ],
    )
    .await;
    let app = router(AppState::new(store.clone(), ServerConfig::default()));
    (app, people)
}

both_backends!(the_register_pages_work, |store: Store| async move {
    let (app, people) = site(&store).await;
    let max_id = people[0].to_string();
    let (max, csrf) = sign_in(&app, "max@acme.test").await;
    let hub = page(&app, "/sms", &max).await;
    for href in ["/risks", "/objectives", "/improvements"] {
        assert!(hub.html.contains(&format!("href=\"{href}\"")), "{href}");
    }
    assert!(page(&app, "/", &max).await.html.contains("href=\"/sms\""));

    // A risk: refused with the reasons beside the fields, then recorded.
    page(&app, "/risks/new", &max).await;
    let review = in_days(60);
    let mut risk = vec![
        ("_csrf", csrf.as_str()),
        ("kind", "risk"),
        ("title", "Key supplier insolvency"),
        ("area", "Suppliers"),
        ("likelihood", "2"),
        ("impact", "4"),
        ("treatment", "transfer"),
        ("treatment_plan", ""),
        ("residual_likelihood", ""),
        ("residual_impact", ""),
        ("owner_id", ""),
        ("review_date", review.as_str()),
    ];
    let bad = submit(&app, "/risks", &max, &risk).await;
    assert_refused(&bad, "the plan is required");
    assert!(bad.html.contains("value=\"Key supplier insolvency\""));
    risk.retain(|(k, _)| *k != "treatment_plan");
    risk.push(("treatment_plan", "Second supplier under contract"));
    let made = submit(&app, "/risks", &max, &risk).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.html);
    let risk_path = made.location.split('?').next().expect("path").to_owned();
    let view = page(&app, &made.location, &max).await;
    assert!(view.html.contains("2×4 = 8 (Medium)"), "{}", view.html);
    let list = page(&app, "/risks", &max).await;
    assert!(list.html.contains("Key supplier insolvency"));
    assert!(
        list.html.contains("1 open with likelihood 2 and impact 4"),
        "the heat map counts it"
    );
    let no_note = submit(
        &app,
        &format!("{risk_path}/review"),
        &max,
        &[("_csrf", &csrf), ("note", ""), ("review_date", &review)],
    )
    .await;
    assert_refused(&no_note, "s note is required");
    let reviewed = submit(
        &app,
        &format!("{risk_path}/review"),
        &max,
        &[
            ("_csrf", &csrf),
            ("note", "Insurance renewed"),
            ("review_date", &in_days(200)),
        ],
    )
    .await;
    assert_eq!(reviewed.status, StatusCode::SEE_OTHER, "{}", reviewed.html);
    assert!(
        page(&app, &risk_path, &max)
            .await
            .html
            .contains("Insurance renewed")
    );

    // An objective measured by hand, with its chart.
    let objective = submit(
        &app,
        "/objectives",
        &max,
        &[
            ("_csrf", &csrf),
            ("title", "Customer satisfaction"),
            ("kpi", "manual"),
            ("direction", "at_least"),
            ("target", "4,2"),
            ("unit", "points"),
            ("owner_id", ""),
            ("due_date", ""),
            ("status", "active"),
        ],
    )
    .await;
    assert_refused(&objective, "Every objective needs an owner");
    assert!(objective.html.contains("value=\"4,2\""), "keeps input");
    let objective = submit(
        &app,
        "/objectives",
        &max,
        &[
            ("_csrf", &csrf),
            ("title", "Customer satisfaction"),
            ("kpi", "manual"),
            ("direction", "at_least"),
            ("target", "4,2"),
            ("unit", "points"),
            ("owner_id", &max_id),
            ("due_date", ""),
            ("status", "active"),
        ],
    )
    .await;
    assert_eq!(
        objective.status,
        StatusCode::SEE_OTHER,
        "{}",
        objective.html
    );
    let objective_path = objective
        .location
        .split('?')
        .next()
        .expect("path")
        .to_owned();
    let this_month = today_utc().strftime("%Y-%m").to_string();
    let wrong = submit(
        &app,
        &format!("{objective_path}/measurements"),
        &max,
        &[("_csrf", &csrf), ("month", &this_month), ("value", "lots")],
    )
    .await;
    assert_refused(&wrong, "The value must be a number");
    let measured = submit(
        &app,
        &format!("{objective_path}/measurements"),
        &max,
        &[
            ("_csrf", &csrf),
            ("month", &this_month),
            ("value", "4.4"),
            ("note", "Survey"),
        ],
    )
    .await;
    assert_eq!(measured.status, StatusCode::SEE_OTHER, "{}", measured.html);
    let view = page(&app, &objective_path, &max).await;
    assert!(view.html.contains("standing-on_target"), "{}", view.html);
    assert!(view.html.contains("class=\"bar-met\""));
    assert!(view.html.contains("at least 4.2 points"));
    let list = page(&app, "/objectives", &max).await;
    assert!(list.html.contains("On target"));

    // An improvement decided and worked through its steps.
    let improvement = submit(
        &app,
        "/improvements",
        &max,
        &[
            ("_csrf", &csrf),
            ("title", "Chat channel for the desk"),
            ("source", "customer"),
            ("priority", "medium"),
        ],
    )
    .await;
    assert_eq!(
        improvement.status,
        StatusCode::SEE_OTHER,
        "{}",
        improvement.html
    );
    let improvement_path = improvement
        .location
        .split('?')
        .next()
        .expect("path")
        .to_owned();
    let steps = format!("{improvement_path}/steps");
    let no_reason = submit(
        &app,
        &steps,
        &max,
        &[("_csrf", &csrf), ("step", "approve"), ("note", " ")],
    )
    .await;
    assert_refused(&no_reason, "s reason is required");
    let approved = submit(
        &app,
        &steps,
        &max,
        &[
            ("_csrf", &csrf),
            ("step", "approve"),
            ("note", "Customers asked twice"),
        ],
    )
    .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.html);
    let view = page(&app, &improvement_path, &max).await;
    assert!(view.html.contains("Customers asked twice"));
    assert!(view.html.contains(">Start work</button>"));

    // The auditor reads without forms; an agent does not get in.
    let (ada, _) = sign_in(&app, "ada@acme.test").await;
    let read = page(&app, &improvement_path, &ada).await;
    assert!(!read.html.contains(">Start work</button>"));
    assert!(!page(&app, "/risks", &ada).await.html.contains("/risks/new"));
    let (gus, _) = sign_in(&app, "gus@acme.test").await;
    for path in ["/sms", "/risks", "/objectives", "/improvements"] {
        let barred = send(&app, get(path, &gus)).await;
        assert_eq!(barred.status, StatusCode::FORBIDDEN, "{path}");
    }
});

both_backends!(
    the_readiness_trend_shows_once_two_days_are_counted,
    |store: Store| async move {
        let app = app(store.clone()).await;
        let page_path = "/conformance";
        let (beta, _) =
            tenant_with_people(&store, "Beta", &[("max@beta.test", "Max", Role::Manager)]).await;
        let site = router(AppState::new(store.clone(), ServerConfig::default()));
        let (max, _) = sign_in(&site, "max@beta.test").await;
        let first = page(&site, page_path, &max).await;
        assert!(
            first
                .html
                .contains("the trend appears once two days have been counted")
        );
        let today = today_utc();
        for day in [today.yesterday().expect("yesterday"), today] {
            store
                .record_readiness_snapshot(beta, day)
                .await
                .expect("counted");
            store
                .record_readiness_snapshot(app.tenant_id, day)
                .await
                .expect("counted");
        }
        let drawn = page(&site, page_path, &max).await;
        assert!(drawn.html.contains("trend-chart"), "{}", drawn.html);
        assert_eq!(drawn.html.matches("<polyline").count(), 3);

        let trend = app
            .get("/api/v1/conformance/trend?days=7", Role::Auditor)
            .await;
        assert_eq!(
            trend.body.as_array().map(Vec::len),
            Some(2),
            "{}",
            trend.text
        );
        assert_eq!(trend.body[1]["day"], today.to_string());
        let refused = app
            .get("/api/v1/conformance/trend?days=0", Role::Auditor)
            .await;
        assert_unprocessable(&refused, "days must be from 1 to 730");
    }
);
