//! Management reviews through the real router: the API's lifecycle with its refusals as
//! problem+json, inputs compiled from real records and frozen once held, actions completed
//! after closure; the pages with the compiled inputs, the forms that keep what was typed when
//! they refuse it, and who may do what (auditors read, agents see nothing).

use super::api::app;
use super::cmdb_ui::page;
use super::sla_ui::sign_in;
use super::support::{assert_refused, assert_unprocessable, submit, tenant_with_people};
use super::ui::{get, send};
use crate::support::in_days;
use axum::http::StatusCode;
use serde_json::json;
use steward_domain::access::Role;
use steward_server::{AppState, ServerConfig, router};
use steward_store::{Store, both_backends};

both_backends!(
    the_review_api_compiles_holds_and_tracks_actions,
    |store: Store| async move {
        let app = app(store).await;
        let bad = app
            .post(
                "/api/v1/management-reviews",
                Role::Manager,
                json!({"title": " ", "planned_on": "next week"}),
            )
            .await;
        assert_unprocessable(&bad, "Planned date must be a date");
        let review = app
            .post(
                "/api/v1/management-reviews",
                Role::Manager,
                json!({"title": "Annual review", "planned_on": in_days(10),
                       "attendees": "Director\n\nService manager"}),
            )
            .await;
        assert_eq!(review.status, StatusCode::CREATED, "{}", review.text);
        assert_eq!(review.body["period_to"], in_days(9));
        assert_eq!(review.body["next"], json!(["hold", "cancel"]));
        let id = review.body["id"].as_i64().expect("id");
        let base = format!("/api/v1/management-reviews/{id}");

        // Not compiled yet: nothing to read, and holding is refused.
        assert_eq!(
            app.get(&format!("{base}/inputs"), Role::Auditor)
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        let early = app
            .post(
                &format!("{base}/hold"),
                Role::Manager,
                json!({"minutes": "Met"}),
            )
            .await;
        assert_unprocessable(&early, "Compile the review");

        let incident = app
            .post(
                "/api/v1/incidents",
                Role::Manager,
                json!({"title": "Mail down"}),
            )
            .await;
        assert_eq!(incident.status, StatusCode::CREATED, "{}", incident.text);
        let compiled = app
            .post(&format!("{base}/inputs"), Role::Manager, json!({}))
            .await;
        assert_eq!(compiled.status, StatusCode::OK, "{}", compiled.text);
        assert!(compiled.body["inputs_compiled_at"].is_string());
        let inputs = app.get(&format!("{base}/inputs"), Role::Auditor).await;
        assert_eq!(inputs.body["incidents"]["raised"], 1, "{}", inputs.text);
        // Complaints and satisfaction are compiled now (8.3.2), nothing is left unrecorded.
        assert_eq!(inputs.body["complaints"]["received"], 0, "{}", inputs.text);
        assert!(inputs.body["satisfaction"]["surveys"].is_array());
        assert_eq!(inputs.body["not_recorded"], serde_json::json!([]));

        let not_yet = app
            .post(
                &format!("{base}/hold"),
                Role::Manager,
                json!({"minutes": "Met for an hour", "held_on": in_days(2)}),
            )
            .await;
        assert_unprocessable(&not_yet, "held_on");
        let held = app
            .post(
                &format!("{base}/hold"),
                Role::Manager,
                json!({"minutes": "Met for an hour", "held_on": in_days(-1)}),
            )
            .await;
        assert_eq!(held.body["status"], "held", "{}", held.text);
        let held_on = held.body["held_at"].as_str().unwrap_or_default();
        assert!(held_on.starts_with(&in_days(-1)), "{}", held.text);
        let again = app
            .post(&format!("{base}/inputs"), Role::Manager, json!({}))
            .await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
        let action = app
            .post(
                &format!("{base}/actions"),
                Role::Manager,
                json!({"description": "Fund the second site", "due_on": in_days(-1)}),
            )
            .await;
        assert_eq!(action.status, StatusCode::CREATED, "{}", action.text);
        assert_eq!(action.body["overdue"], true);
        let aid = action.body["id"].as_i64().expect("id");
        let no_decisions = app
            .post(
                &format!("{base}/close"),
                Role::Manager,
                json!({"decisions": ""}),
            )
            .await;
        assert_unprocessable(&no_decisions, "decisions");
        let closed = app
            .post(
                &format!("{base}/close"),
                Role::Manager,
                json!({"decisions": "Second site funded"}),
            )
            .await;
        assert_eq!(closed.body["status"], "closed", "{}", closed.text);
        let done = app
            .post(
                &format!("{base}/actions/{aid}/complete"),
                Role::Manager,
                json!({"note": "Signed"}),
            )
            .await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.text);
        assert_eq!(done.body["overdue"], false);
        let actions = app.get(&format!("{base}/actions"), Role::Auditor).await;
        assert_eq!(actions.body[0]["done_note"], "Signed", "{}", actions.text);

        // The auditor reads, never writes; the agent sees nothing.
        let refused = app
            .post(
                &format!("{base}/actions"),
                Role::Auditor,
                json!({"description": "x", "due_on": in_days(1)}),
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert_eq!(
            app.get("/api/v1/management-reviews", Role::Agent)
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        let list = app.get("/api/v1/management-reviews", Role::Auditor).await;
        assert_eq!(
            list.body["items"].as_array().map(Vec::len),
            Some(1),
            "{}",
            list.text
        );
    }
);

both_backends!(the_review_pages_work, |store: Store| async move {
    let (_, people) = tenant_with_people(
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
    let max_id = people[0].to_string();
    let (max, csrf) = sign_in(&app, "max@acme.test").await;
    let hub = page(&app, "/sms", &max).await;
    assert!(hub.html.contains("href=\"/management-reviews\""));
    page(&app, "/management-reviews/new", &max).await;

    let planned = in_days(14);
    let mut fields = vec![
        ("_csrf", csrf.as_str()),
        ("title", "Spring review"),
        ("planned_on", planned.as_str()),
        ("period_from", "2026-05-01"),
        ("period_to", "2026-01-01"),
        ("chair_id", max_id.as_str()),
        ("attendees", "Max\nAda"),
    ];
    let bad = submit(&app, "/management-reviews", &max, &fields).await;
    assert_refused(&bad, "must not come before its start");
    assert!(bad.html.contains("value=\"Spring review\""), "keeps input");
    fields.retain(|(k, _)| !k.starts_with("period_"));
    let made = submit(&app, "/management-reviews", &max, &fields).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.html);
    let path = made.location.split('?').next().expect("path").to_owned();
    let view = page(&app, &path, &max).await;
    assert!(view.html.contains("Not compiled yet"), "{}", view.html);

    let hold = format!("{path}/steps");
    let refused = submit(
        &app,
        &hold,
        &max,
        &[("_csrf", &csrf), ("step", "hold"), ("text", "Minutes")],
    )
    .await;
    assert_refused(&refused, "Compile the review");
    let compiled = submit(&app, &format!("{path}/inputs"), &max, &[("_csrf", &csrf)]).await;
    assert_eq!(compiled.status, StatusCode::SEE_OTHER, "{}", compiled.html);
    let view = page(&app, &path, &max).await;
    for needle in [
        "Actions from earlier reviews",
        "Changes in context",
        "Service levels",
        "Conformance readiness",
        "Customer complaints",
        "Customer satisfaction",
    ] {
        assert!(view.html.contains(needle), "{needle}: {}", view.html);
    }
    let no_minutes = submit(
        &app,
        &hold,
        &max,
        &[("_csrf", &csrf), ("step", "hold"), ("text", " ")],
    )
    .await;
    assert_refused(&no_minutes, "The minutes is required");
    let not_a_date = submit(
        &app,
        &hold,
        &max,
        &[
            ("_csrf", &csrf),
            ("step", "hold"),
            ("text", "Reviewed every input"),
            ("held_on", "last Tuesday"),
        ],
    )
    .await;
    assert_refused(&not_a_date, "Held on must be a date");
    assert!(
        not_a_date.html.contains("value=\"last Tuesday\""),
        "keeps input"
    );
    let held = submit(
        &app,
        &hold,
        &max,
        &[
            ("_csrf", &csrf),
            ("step", "hold"),
            ("text", "Reviewed every input"),
        ],
    )
    .await;
    assert_eq!(held.status, StatusCode::SEE_OTHER, "{}", held.html);

    let no_due = submit(
        &app,
        &format!("{path}/actions"),
        &max,
        &[
            ("_csrf", &csrf),
            ("description", "Hire a second analyst"),
            ("owner_id", ""),
            ("due_on", ""),
        ],
    )
    .await;
    assert_refused(&no_due, "Due date is required");
    assert!(no_due.html.contains("Hire a second analyst"), "keeps input");
    let yesterday = in_days(-1);
    let added = submit(
        &app,
        &format!("{path}/actions"),
        &max,
        &[
            ("_csrf", &csrf),
            ("description", "Hire a second analyst"),
            ("owner_id", &max_id),
            ("due_on", &yesterday),
        ],
    )
    .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
    let view = page(&app, &path, &max).await;
    assert!(view.html.contains("Overdue"), "{}", view.html);
    assert!(view.html.contains("Reviewed every input"));

    // The auditor reads the page without forms; the agent is refused.
    let (ada, _) = sign_in(&app, "ada@acme.test").await;
    let seen = page(&app, &path, &ada).await;
    assert!(!seen.html.contains("Add an action"));
    let (gus, _) = sign_in(&app, "gus@acme.test").await;
    let refused = send(&app, get(&path, &gus)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let list = page(&app, "/management-reviews", &max).await;
    assert!(list.html.contains("Spring review"));
});
