//! Competence (7.2) through the real router: requirements, records, actions and the gap
//! analysis over the API with their refusals as problem+json, and the matrix and person pages
//! with forms that keep what was typed when they refuse it.

use super::api::app;
use super::cmdb_ui::page;
use super::sla_ui::sign_in;
use super::support::{assert_refused, assert_unprocessable, submit, tenant_with_people};
use super::ui::{get, hidden, send};
use crate::support::in_days;
use axum::http::{Method, StatusCode};
use serde_json::json;
use steward_domain::access::Role;
use steward_domain::sms::role::RoleDraft;
use steward_server::{AppState, ServerConfig, router};
use steward_store::asset::today_utc;
use steward_store::{Actor, Store, both_backends};

/// A role of tenant `t` held by `holder` since a month ago; its id.
async fn held_role(store: &Store, t: i64, holder: i64) -> i64 {
    let role = store
        .create_sms_role(
            t,
            &RoleDraft {
                name: "Service desk analyst".into(),
                responsibilities: "Logs and resolves incidents".into(),
                authorities: "Assigns and escalates tickets".into(),
                conformity_lead: false,
                reports_performance: false,
            },
            &Actor::cli(),
        )
        .await
        .expect("role");
    let from = today_utc()
        .checked_add(jiff::Span::new().days(-30))
        .expect("date");
    store
        .assign_role(t, role.id, holder, from, "", &Actor::cli())
        .await
        .expect("assigned");
    role.id
}

both_backends!(
    the_competence_api_records_and_refuses,
    |store: Store| async move {
        let app = app(store).await;
        let agent = app.user_id(Role::Agent).await;
        let role = held_role(&app.store, app.tenant_id, agent).await;

        let bad = app
            .post(
                "/api/v1/competence/requirements",
                Role::Manager,
                json!({"role_id": role, "name": " "}),
            )
            .await;
        assert_unprocessable(&bad, "Name is required");
        let foreign = app
            .post(
                "/api/v1/competence/requirements",
                Role::Manager,
                json!({"role_id": 999_999, "name": "ITIL"}),
            )
            .await;
        assert_unprocessable(&foreign, "role_id");
        let itil = app
            .post(
                "/api/v1/competence/requirements",
                Role::Manager,
                json!({"role_id": role, "name": "ITIL 4 Foundation"}),
            )
            .await;
        assert_eq!(itil.status, StatusCode::CREATED, "{}", itil.text);
        let itil_id = itil.body["id"].as_i64().expect("id");
        let tools = app
            .post(
                "/api/v1/competence/requirements",
                Role::Manager,
                json!({"role_id": role, "name": "Service desk tooling"}),
            )
            .await;
        let tools_id = tools.body["id"].as_i64().expect("id");
        let put = format!("/api/v1/competence/requirements/{itil_id}");
        let stale = app
            .put(
                &put,
                Role::Manager,
                json!({"updated_at": "2000-01-01T00:00:00Z", "role_id": role, "name": "ITIL 4"}),
            )
            .await;
        assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.text);
        let renamed = app
            .put(
                &put,
                Role::Manager,
                json!({"updated_at": itil.body["updated_at"], "role_id": role,
                       "name": "ITIL 4 Foundation certificate"}),
            )
            .await;
        assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);

        // Records: dates that make no sense are named; a sound one is on file.
        let bad = app
            .post(
                "/api/v1/competence/records",
                Role::Manager,
                json!({"user_id": agent, "requirement_id": itil_id, "basis": "qualification",
                       "title": "ITIL 4 Foundation", "achieved_on": in_days(5),
                       "expires_on": in_days(1), "evidence": ""}),
            )
            .await;
        for needle in ["achieved_on", "expires_on", "The evidence is required"] {
            assert_unprocessable(&bad, needle);
        }
        let record = app
            .post(
                "/api/v1/competence/records",
                Role::Manager,
                json!({"user_id": agent, "requirement_id": itil_id, "basis": "qualification",
                       "title": "ITIL 4 Foundation", "provider": "PeopleCert",
                       "achieved_on": in_days(-300), "expires_on": in_days(20),
                       "evidence": "Certificate GR671234"}),
            )
            .await;
        assert_eq!(record.status, StatusCode::CREATED, "{}", record.text);
        assert_eq!(record.body["valid_today"], true);
        let rid = record.body["id"].as_i64().expect("id");
        let stale = app
            .put(
                &format!("/api/v1/competence/records/{rid}"),
                Role::Manager,
                json!({"updated_at": "2000-01-01T00:00:00Z", "user_id": agent,
                       "requirement_id": itil_id, "basis": "training", "title": "x",
                       "achieved_on": in_days(-3), "evidence": "x"}),
            )
            .await;
        assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.text);
        let listed = app
            .get(
                &format!("/api/v1/competence/records?user_id={agent}"),
                Role::Auditor,
            )
            .await;
        assert_eq!(listed.body.as_array().expect("list").len(), 1);

        // The gaps: expiring for one requirement, a bare gap for the other.
        let gaps = app.get("/api/v1/competence/gaps", Role::Auditor).await;
        assert_eq!(gaps.status, StatusCode::OK, "{}", gaps.text);
        let standing = |id: i64| {
            gaps.body
                .as_array()
                .expect("gaps")
                .iter()
                .find(|g| g["requirement_id"] == id)
                .map(|g| g["standing"].clone())
        };
        assert_eq!(standing(itil_id), Some(json!("expiring")));
        assert_eq!(standing(tools_id), Some(json!("gap")));

        // An action: completed, then evaluated, and nothing out of turn.
        let action = app
            .post(
                "/api/v1/competence/actions",
                Role::Manager,
                json!({"user_id": agent, "requirement_id": tools_id, "kind": "mentoring",
                       "description": "Shadow a senior analyst for two weeks",
                       "due_date": in_days(14)}),
            )
            .await;
        assert_eq!(action.status, StatusCode::CREATED, "{}", action.text);
        let aid = action.body["id"].as_i64().expect("id");
        let evaluate = format!("/api/v1/competence/actions/{aid}/evaluate");
        let complete = format!("/api/v1/competence/actions/{aid}/complete");
        let early = app
            .post(
                &evaluate,
                Role::Manager,
                json!({"effective": true, "evaluation": "Fine"}),
            )
            .await;
        assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.text);
        let future = app
            .post(
                &complete,
                Role::Manager,
                json!({"completed_on": in_days(3)}),
            )
            .await;
        assert_unprocessable(&future, "completed_on");
        let done = app.post(&complete, Role::Manager, json!({})).await;
        assert_eq!(done.body["status"], "completed", "{}", done.text);
        let unexplained = app
            .post(
                &evaluate,
                Role::Manager,
                json!({"effective": false, "evaluation": ""}),
            )
            .await;
        assert_unprocessable(&unexplained, "The evaluation is required");
        let judged = app
            .post(
                &evaluate,
                Role::Manager,
                json!({"effective": false, "evaluation": "Still unsure of the tooling"}),
            )
            .await;
        assert_eq!(judged.body["status"], "evaluated", "{}", judged.text);
        assert_eq!(judged.body["effective"], false);

        // Another tenant sees nothing and reaches nothing.
        let outsider = Some(app.outsider.as_str());
        for (method, path, body) in [
            (
                Method::PUT,
                put.clone(),
                json!({"updated_at": "2000-01-01T00:00:00Z", "role_id": role, "name": "x"}),
            ),
            (Method::POST, complete.clone(), json!({})),
            (
                Method::POST,
                evaluate.clone(),
                json!({"effective": true, "evaluation": "x"}),
            ),
        ] {
            let reply = app.call(method, &path, outsider, Some(body)).await;
            assert_eq!(
                reply.status,
                StatusCode::NOT_FOUND,
                "{path}: {}",
                reply.text
            );
        }
        let theirs = app
            .call(Method::GET, "/api/v1/competence/records", outsider, None)
            .await;
        assert_eq!(theirs.body, json!([]));
        // The auditor reads, never writes.
        let refused = app
            .post(
                "/api/v1/competence/requirements",
                Role::Auditor,
                json!({"role_id": role, "name": "x"}),
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
    }
);

both_backends!(the_competence_pages_work, |store: Store| async move {
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
    let gus = people[2];
    let role = held_role(&store, t, gus).await;
    let app = router(AppState::new(store.clone(), ServerConfig::default()));
    let (max, csrf) = sign_in(&app, "max@acme.test").await;
    assert!(
        page(&app, "/sms", &max)
            .await
            .html
            .contains("href=\"/competence\"")
    );
    let first = page(&app, "/competence", &max).await;
    assert!(
        first
            .html
            .contains("Roles held without a competence profile: Service desk analyst")
    );

    // A requirement: refused without a name, keeping what was typed; then added.
    let role_text = role.to_string();
    let mut fields = vec![
        ("_csrf", csrf.as_str()),
        ("role_id", role_text.as_str()),
        ("name", ""),
        ("description", "Foundation-level service management"),
    ];
    let bad = submit(&app, "/competence/requirements", &max, &fields).await;
    assert_refused(&bad, "Name is required");
    assert!(bad.html.contains("Foundation-level service management"));
    fields[2] = ("name", "ITIL 4 Foundation");
    let added = submit(&app, "/competence/requirements", &max, &fields).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
    let requirement = store.competence_requirements(t).await.expect("list")[0].id;

    // The matrix shows Gus's gap, linking to the action form filled in for it.
    let matrix = page(&app, "/competence", &max).await;
    let raise = format!("/competence/people/{gus}?requirement_id={requirement}#raise");
    assert!(matrix.html.contains(&raise), "{}", matrix.html);
    assert!(
        matrix
            .html
            .contains("<strong>1</strong> gap without action")
    );
    let without_fragment = raise.split('#').next().expect("path");
    let person = page(&app, without_fragment, &max).await;
    assert!(
        person
            .html
            .contains(&format!("<option value=\"{requirement}\" selected>")),
        "{}",
        person.html
    );

    // The requirement is edited in the same form, opened from the role profiles; an edit over
    // someone else's is refused with what was typed kept.
    let edit = page(&app, &format!("/competence?edit={requirement}"), &max).await;
    let action_url = format!("/competence/requirements/{requirement}");
    assert!(
        edit.html.contains(&format!("action=\"{action_url}\"")),
        "{}",
        edit.html
    );
    assert!(edit.html.contains("Edit requirement"));
    assert!(edit.html.contains("value=\"ITIL 4 Foundation\""));
    let seen = store
        .competence_requirement(t, requirement)
        .await
        .expect("requirement")
        .updated_at
        .to_string();
    let mut edited = vec![
        ("_csrf", csrf.as_str()),
        ("updated_at", "1"),
        ("role_id", role_text.as_str()),
        ("name", "ITIL 4 Foundation certificate"),
        ("description", "Foundation-level service management"),
    ];
    let stale = submit(&app, &action_url, &max, &edited).await;
    assert_refused(&stale, "changed by someone else");
    assert!(stale.html.contains("ITIL 4 Foundation certificate"));
    edited[1] = ("updated_at", seen.as_str());
    let saved = submit(&app, &action_url, &max, &edited).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    let renamed = store
        .competence_requirement(t, requirement)
        .await
        .expect("requirement");
    assert_eq!(renamed.name, "ITIL 4 Foundation certificate");
    let (ada, _) = sign_in(&app, "ada@acme.test").await;
    let read_only = page(&app, &format!("/competence?edit={requirement}"), &ada).await;
    assert!(read_only.html.contains("ITIL 4 Foundation certificate"));
    assert!(!read_only.html.contains("Edit requirement"));

    // An action for it: refused with a past due date, keeping the description; then raised.
    let requirement_text = requirement.to_string();
    let actions = format!("/competence/people/{gus}/actions");
    let past = in_days(-1);
    let mut action = vec![
        ("_csrf", csrf.as_str()),
        ("requirement_id", requirement_text.as_str()),
        ("kind", "training"),
        ("description", "Two-day course with the exam"),
        ("owner_id", ""),
        ("due_date", past.as_str()),
    ];
    let bad = submit(&app, &actions, &max, &action).await;
    assert_refused(&bad, "The due date cannot be in the past");
    assert!(bad.html.contains("Two-day course with the exam"));
    let due = in_days(30);
    action[5] = ("due_date", due.as_str());
    let raised = submit(&app, &actions, &max, &action).await;
    assert_eq!(raised.status, StatusCode::SEE_OTHER, "{}", raised.html);
    let matrix = page(&app, "/competence", &max).await;
    assert!(matrix.html.contains(&format!("gap · action due {due}")));

    // Completed, then evaluated: a missing verdict is refused beside that action's form.
    let aid = store.competence_actions(t, Some(gus)).await.expect("list")[0].id;
    let completed = submit(
        &app,
        &format!("/competence/actions/{aid}/complete"),
        &max,
        &[("_csrf", &csrf), ("completed_on", "")],
    )
    .await;
    assert_eq!(
        completed.status,
        StatusCode::SEE_OTHER,
        "{}",
        completed.html
    );
    let evaluate = format!("/competence/actions/{aid}/evaluate");
    let unsure = submit(
        &app,
        &evaluate,
        &max,
        &[
            ("_csrf", &csrf),
            ("effective", ""),
            ("evaluation", "Passed with 80%"),
        ],
    )
    .await;
    assert_refused(&unsure, "Say whether the gap closed");
    assert!(unsure.html.contains("Passed with 80%"));
    let judged = submit(
        &app,
        &evaluate,
        &max,
        &[
            ("_csrf", &csrf),
            ("effective", "yes"),
            ("evaluation", "Passed with 80%"),
        ],
    )
    .await;
    assert_eq!(judged.status, StatusCode::SEE_OTHER, "{}", judged.html);

    // The certificate on file: refused without evidence, keeping the title; then recorded.
    let records = format!("/competence/people/{gus}/records");
    let achieved = in_days(-2);
    let mut record = vec![
        ("_csrf", csrf.as_str()),
        ("requirement_id", requirement_text.as_str()),
        ("basis", "qualification"),
        ("title", "ITIL 4 Foundation certificate"),
        ("provider", "PeopleCert"),
        ("achieved_on", achieved.as_str()),
        ("expires_on", ""),
        ("evidence", ""),
    ];
    let bad = submit(&app, &records, &max, &record).await;
    assert_refused(&bad, "The evidence is required");
    assert!(bad.html.contains("value=\"ITIL 4 Foundation certificate\""));
    record[7] = ("evidence", "Certificate GR671234, checked by Max");
    let recorded = submit(&app, &records, &max, &record).await;
    assert_eq!(recorded.status, StatusCode::SEE_OTHER, "{}", recorded.html);
    let person = page(&app, &format!("/competence/people/{gus}"), &max).await;
    for needle in [
        "Certificate GR671234, checked by Max",
        "PeopleCert",
        "Effective",
    ] {
        assert!(person.html.contains(needle), "{needle}");
    }
    let matrix = page(&app, "/competence", &max).await;
    assert!(matrix.html.contains("<strong>1</strong> competent"));

    // A record on file is corrected in the same form; a stale edit is refused, keeping input.
    let edit_link = person
        .html
        .split("?edit_record=")
        .nth(1)
        .and_then(|rest| rest.split('#').next())
        .expect("an edit link")
        .to_owned();
    let editing = page(
        &app,
        &format!("/competence/people/{gus}?edit_record={edit_link}"),
        &max,
    )
    .await;
    assert!(editing.html.contains("Correct competence record"));
    assert!(editing.html.contains("value=\"PeopleCert\""));
    let seen = hidden(&editing.html, "updated_at");
    let target = format!("/competence/records/{edit_link}");
    record[4] = ("provider", "PeopleCert Ltd");
    let mut stale = record.clone();
    stale.push(("updated_at", "1"));
    let refused = submit(&app, &target, &max, &stale).await;
    assert_refused(&refused, "changed by someone else");
    assert!(refused.html.contains("value=\"PeopleCert Ltd\""));
    record.push(("updated_at", seen.as_str()));
    let corrected = submit(&app, &target, &max, &record).await;
    assert_eq!(
        corrected.status,
        StatusCode::SEE_OTHER,
        "{}",
        corrected.html
    );
    let person = page(&app, &corrected.location, &max).await;
    assert!(person.html.contains("PeopleCert Ltd"));
    let elsewhere = send(
        &app,
        get(
            &format!("/competence/people/{}?edit_record={edit_link}", people[0]),
            &max,
        ),
    )
    .await;
    assert_eq!(
        elsewhere.status,
        StatusCode::NOT_FOUND,
        "another person's record"
    );

    // The auditor reads without forms; an agent is kept out; another tenant's person is 404.
    let (ada, _) = sign_in(&app, "ada@acme.test").await;
    let read = page(&app, "/competence", &ada).await;
    assert!(!read.html.contains("Add requirement"));
    let (gus_session, _) = sign_in(&app, "gus@acme.test").await;
    let kept_out = send(&app, get("/competence", &gus_session)).await;
    assert_eq!(kept_out.status, StatusCode::FORBIDDEN);
    let missing = send(&app, get("/competence/people/999999", &max)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
});
