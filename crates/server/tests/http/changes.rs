//! `/api/v1/changes` and the change policy, blackouts, templates and delegations, through the
//! router: the contract, a normal change through a CAB quorum to closure, conflicts,
//! the calendar feed and who may see what.

use super::api::{Reply, TestApp, app, is_problem};
use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};
use steward_domain::access::Role;
use steward_store::{Store, both_backends};

const START: &str = "2031-03-01T22:00:00Z";
const END: &str = "2031-03-02T02:00:00Z";

async fn created(app: &TestApp, path: &str, role: Role, body: Value) -> Value {
    let reply = app.post(path, role, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{path}: {}", reply.text);
    reply.body
}

/// A CI to change.
async fn ci(app: &TestApp, name: &str) -> i64 {
    let class = app.get("/api/v1/ci-classes", Role::Admin).await;
    if class.body.as_array().is_none_or(Vec::is_empty) {
        created(
            app,
            "/api/v1/ci-classes",
            Role::Admin,
            json!({"name": "Server"}),
        )
        .await;
    }
    created(
        app,
        "/api/v1/cis",
        Role::Agent,
        json!({"class": "Server", "name": name}),
    )
    .await["id"]
        .as_i64()
        .expect("id")
}

/// Moves a change on, expecting success.
async fn move_to(app: &TestApp, key: &str, to: &str) -> Value {
    let reply = app
        .post(
            &format!("/api/v1/changes/{key}/transitions"),
            Role::Agent,
            json!({ "to": to }),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{key} -> {to}: {}",
        reply.text
    );
    reply.body
}

async fn decide(app: &TestApp, key: &str, role: Role, body: Value) -> Reply {
    app.post(&format!("/api/v1/changes/{key}/approvals"), role, body)
        .await
}

fn high_risk() -> Value {
    json!({"answers": {"blast_radius": "several_services", "tested": "no", "backout_tested": "yes",
                       "customer_facing": "no", "out_of_hours": "yes"}})
}

both_backends!(
    a_normal_change_through_the_cab_to_closure,
    |store: Store| async move {
        let app = app(store).await;
        let db = ci(&app, "db01").await;
        // The contract.
        let change = created(
        &app,
        "/api/v1/changes",
        Role::Agent,
        json!({"title": "Upgrade the payroll database", "type": "normal", "planned_start": START,
               "planned_end": END, "cis": [db], "reason": "End of support",
               "implementation_plan": "pg_upgrade", "backout_plan": "Restore the snapshot"}),
    )
    .await;
        assert_eq!(change["key"], "CHG-1");
        assert_eq!(change["status"], "draft");
        assert_eq!(change["cis"], json!([db]));
        assert_eq!(change["planned_start"], START);

        // High risk goes to a CAB of three with a quorum of two.
        let (admin, manager, auditor) = (
            app.user_id(Role::Admin).await,
            app.user_id(Role::Manager).await,
            app.user_id(Role::Auditor).await,
        );
        let mut policy = app.get("/api/v1/change-policy", Role::Agent).await.body;
        policy["approvals"]["rules"] = json!([
            {"change_type": "normal", "from_risk": "low", "stage": {"kind": "change_manager"}},
            {"change_type": "normal", "from_risk": "high",
             "stage": {"kind": "cab", "members": [admin, manager, auditor], "quorum": 2}},
            {"change_type": "emergency", "from_risk": "low", "stage": {"kind": "change_manager"}}
        ]);
        let saved = app
            .put("/api/v1/change-policy", Role::Manager, policy.clone())
            .await;
        assert_eq!(saved.status, StatusCode::FORBIDDEN, "{}", saved.text);
        let saved = app.put("/api/v1/change-policy", Role::Admin, policy).await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);

        move_to(&app, "CHG-1", "assessment").await;
        let refused = app
            .post(
                "/api/v1/changes/CHG-1/transitions",
                Role::Agent,
                json!({"to": "authorisation"}),
            )
            .await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
        assert!(is_problem(&refused));
        assert!(
            refused.text.contains("risk questionnaire"),
            "{}",
            refused.text
        );
        let risk = app
            .put("/api/v1/changes/CHG-1/risk", Role::Agent, high_risk())
            .await;
        assert_eq!(risk.status, StatusCode::OK, "{}", risk.text);
        assert_eq!(risk.body["level"], "high");
        move_to(&app, "CHG-1", "authorisation").await;

        // The requester (the agent) may not approve; nor may an auditor, even on the board.
        let own = decide(&app, "CHG-1", Role::Agent, json!({"verdict": "approve"})).await;
        assert_eq!(own.status, StatusCode::CONFLICT, "{}", own.text);
        let auditor_says =
            decide(&app, "CHG-1", Role::Auditor, json!({"verdict": "approve"})).await;
        assert_eq!(
            auditor_says.status,
            StatusCode::FORBIDDEN,
            "{}",
            auditor_says.text
        );

        let first = decide(
            &app,
            "CHG-1",
            Role::Admin,
            json!({"verdict": "approve", "comment": "Fine"}),
        )
        .await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.text);
        assert_eq!(first.body["state"]["state"], "pending");
        assert_eq!(first.body["state"]["approved"], 1);
        // The manager is away and lets the admin sit in their seat.
        let undelegated = decide(
            &app,
            "CHG-1",
            Role::Admin,
            json!({"verdict": "approve", "on_behalf_of": manager}),
        )
        .await;
        assert_eq!(
            undelegated.status,
            StatusCode::CONFLICT,
            "{}",
            undelegated.text
        );
        created(
            &app,
            "/api/v1/change-delegations",
            Role::Manager,
            json!({"to": admin, "until": "2099-01-01T00:00:00Z"}),
        )
        .await;
        let second = decide(
            &app,
            "CHG-1",
            Role::Admin,
            json!({"verdict": "approve", "on_behalf_of": manager}),
        )
        .await;
        assert_eq!(second.status, StatusCode::OK, "{}", second.text);
        assert_eq!(second.body["state"]["state"], "approved");
        let approvals = app
            .get("/api/v1/changes/CHG-1/approvals", Role::Auditor)
            .await;
        assert_eq!(approvals.body["stage"]["kind"], "cab");
        assert_eq!(approvals.body["decisions"][1]["on_behalf_of"], manager);

        // Approval does not schedule; the implementer does.
        let still = app.get("/api/v1/changes/CHG-1", Role::Agent).await;
        assert_eq!(still.body["status"], "authorisation");
        for to in ["scheduled", "implementing", "review"] {
            move_to(&app, "CHG-1", to).await;
        }
        let early = app
            .post(
                "/api/v1/changes/CHG-1/transitions",
                Role::Agent,
                json!({"to": "closed"}),
            )
            .await;
        assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.text);
        assert!(
            early.text.contains("post-implementation review"),
            "{}",
            early.text
        );
        let review = app
            .put(
                "/api/v1/changes/CHG-1/review",
                Role::Manager,
                json!({"outcome": "successful", "notes": "Smooth"}),
            )
            .await;
        assert_eq!(review.status, StatusCode::OK, "{}", review.text);
        let closed = move_to(&app, "CHG-1", "closed").await;
        assert_eq!(closed["status"], "closed");
        assert_eq!(closed["review"]["outcome"], "successful");

        let metrics = app.get("/api/v1/changes/metrics", Role::Auditor).await;
        assert_eq!(metrics.status, StatusCode::OK, "{}", metrics.text);
        assert_eq!(metrics.body["implemented"], 1);
        assert_eq!(metrics.body["success_rate"], 1.0);
        assert_eq!(metrics.body["emergency_ratio"], 0.0);
        let listed = app
            .get("/api/v1/changes?status=closed&type=normal", Role::Auditor)
            .await;
        assert_eq!(listed.body["items"][0]["key"], "CHG-1");
        let verified = app.store.verify_journal().await.expect("verify");
        assert!(verified.is_ok(), "{verified:?}");
    }
);

/// A standard change on `ci` in `window` (RFC 3339 start and end), scheduled.
async fn scheduled_standard(app: &TestApp, title: &str, ci: i64, window: (&str, &str)) -> String {
    let templates = app.get("/api/v1/change-templates", Role::Agent).await;
    let template = match templates.body[0]["id"].as_i64() {
        Some(id) => id,
        None => created(
            app,
            "/api/v1/change-templates",
            Role::Admin,
            json!({"name": "Patch a server", "implementation_plan": "Patch", "backout_plan": "Roll back"}),
        )
        .await["id"]
            .as_i64()
            .expect("id"),
    };
    let change = created(
        app,
        "/api/v1/changes",
        Role::Agent,
        json!({"title": title, "type": "standard", "template_id": template,
               "planned_start": window.0, "planned_end": window.1, "cis": [ci]}),
    )
    .await;
    let key = change["key"].as_str().expect("key").to_owned();
    move_to(app, &key, "scheduled").await;
    key
}

both_backends!(
    conflicts_name_the_other_change_and_the_ci,
    |store: Store| async move {
        let app = app(store).await;
        let (app01, db01) = (ci(&app, "app01").await, ci(&app, "db01").await);
        created(
            &app,
            "/api/v1/ci-relationships",
            Role::Agent,
            json!({"source": app01, "target": db01, "type": "runs_on"}),
        )
        .await;
        let theirs = scheduled_standard(&app, "Patch db01", db01, (START, END)).await;
        assert_eq!(theirs, "CHG-1");
        // The application server runs on db01: it is what breaks if db01 does.
        let impact = app.get("/api/v1/changes/CHG-1/impact", Role::Auditor).await;
        assert_eq!(impact.status, StatusCode::OK, "{}", impact.text);
        assert_eq!(impact.body["dependent_cis"], 1, "{}", impact.text);
        let mine = created(
            &app,
            "/api/v1/changes",
            Role::Agent,
            json!({"title": "Mine", "type": "normal", "planned_start": "2031-03-02T01:00:00Z",
               "planned_end": "2031-03-02T03:00:00Z", "cis": [db01]}),
        )
        .await;
        let found = app
            .get("/api/v1/changes/CHG-2/conflicts", Role::Auditor)
            .await;
        assert_eq!(found.status, StatusCode::OK, "{}", found.text);
        assert_eq!(
            found.body,
            json!([{"kind": "same_ci", "message": format!("CHG-1 changes CI {db01} at an overlapping time"),
                "change": "CHG-1", "change_title": "Patch db01", "ci_id": db01, "other_ci_id": null,
                "blackout_id": null, "blackout_name": null}])
        );
        // On the application server instead: one dependency away.
        let patched = app
            .patch(
                "/api/v1/changes/CHG-2",
                Role::Agent,
                json!({"cis": [app01]}),
            )
            .await;
        assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
        assert_eq!(patched.body["planned_start"], mine["planned_start"]);
        // An edit made from what was read before that one is refused, and changes nothing.
        let stale = app
            .patch(
                "/api/v1/changes/CHG-2",
                Role::Agent,
                json!({"title": "Overwrite", "updated_at": mine["updated_at"]}),
            )
            .await;
        assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.text);
        let current = app
            .patch(
                "/api/v1/changes/CHG-2",
                Role::Agent,
                json!({"title": "Mine", "updated_at": patched.body["updated_at"]}),
            )
            .await;
        assert_eq!(current.status, StatusCode::OK, "{}", current.text);
        let found = app
            .get("/api/v1/changes/CHG-2/conflicts", Role::Agent)
            .await;
        assert_eq!(found.body[0]["kind"], "dependent_ci", "{}", found.text);
        assert_eq!(found.body[0]["ci_id"], app01);
        assert_eq!(found.body[0]["other_ci_id"], db01);

        // A freeze over the window is a conflict too, and blocks scheduling.
        let freeze = created(
        &app,
        "/api/v1/change-blackouts",
        Role::Admin,
        json!({"name": "Quarter end", "start": "2031-03-01T00:00:00Z", "end": "2031-03-03T00:00:00Z"}),
    )
    .await;
        let found = app
            .get("/api/v1/changes/CHG-2/conflicts", Role::Agent)
            .await;
        assert_eq!(found.body[0]["kind"], "blackout", "{}", found.text);
        assert_eq!(found.body[0]["blackout_name"], "Quarter end");
        let blackouts = app
            .get(
                "/api/v1/change-blackouts?from=2031-01-01T00:00:00Z",
                Role::Auditor,
            )
            .await;
        assert_eq!(blackouts.body[0]["id"], freeze["id"]);

        let schedule = app
            .get(
                "/api/v1/changes/schedule?from=2031-03-01T00:00:00Z&to=2031-03-03T00:00:00Z",
                Role::Auditor,
            )
            .await;
        assert_eq!(schedule.status, StatusCode::OK, "{}", schedule.text);
        assert_eq!(
            schedule.body.as_array().map(Vec::len),
            Some(1),
            "{}",
            schedule.text
        );
        assert_eq!(schedule.body[0]["key"], "CHG-1");
        assert_eq!(schedule.body[0]["cis"], json!([db01]));
    }
);

both_backends!(the_calendar_feed_takes_a_token, |store: Store| async move {
    let app = app(store).await;
    let db = ci(&app, "db01").await;
    // A week from now, on the hour: the feed shows the coming year.
    let start = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(24 * 7))
        .expect("time")
        .round(jiff::Unit::Hour)
        .expect("rounded");
    let end = start
        .checked_add(jiff::SignedDuration::from_hours(2))
        .expect("time");
    let window = (start.to_string(), end.to_string());
    scheduled_standard(
        &app,
        "Patch db01; reboot, then check",
        db,
        (&window.0, &window.1),
    )
    .await;
    let dtstart = format!("DTSTART:{}", start.strftime("%Y%m%dT%H%M%SZ"));
    let anonymous = app
        .call(Method::GET, "/api/v1/changes.ics", None, None)
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let forged = app
        .call(Method::GET, "/api/v1/changes.ics?token=nope", None, None)
        .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    let token = app.token(Role::Auditor).to_owned();
    let feed = app
        .call(
            Method::GET,
            &format!("/api/v1/changes.ics?token={token}"),
            None,
            None,
        )
        .await;
    assert_eq!(feed.status, StatusCode::OK, "{}", feed.text);
    assert!(
        feed.headers[header::CONTENT_TYPE]
            .to_str()
            .is_ok_and(|v| v.starts_with("text/calendar"))
    );
    let lines: Vec<&str> = feed.text.split("\r\n").collect();
    assert_eq!(lines[0], "BEGIN:VCALENDAR");
    assert!(
        lines.contains(&"SUMMARY:CHG-1 Patch db01\\; reboot\\, then check"),
        "{}",
        feed.text
    );
    assert!(lines.contains(&dtstart.as_str()), "{}", feed.text);
    assert!(lines.contains(&"STATUS:CONFIRMED"), "{}", feed.text);
    assert!(lines.iter().all(|l| l.len() <= 75), "{}", feed.text);
    assert!(!feed.text.contains(&token));
    // The bearer header works too; the query token works on the feed only.
    let by_header = app.get("/api/v1/changes.ics", Role::Agent).await;
    assert_eq!(by_header.status, StatusCode::OK);
    let elsewhere = app
        .call(
            Method::GET,
            &format!("/api/v1/changes?token={token}"),
            None,
            None,
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::UNAUTHORIZED);
    // Requesters have no business with the change calendar.
    let requester = app.token(Role::Requester).to_owned();
    let refused = app
        .call(
            Method::GET,
            &format!("/api/v1/changes.ics?token={requester}"),
            None,
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
});

both_backends!(
    other_tenants_and_requesters_see_nothing,
    |store: Store| async move {
        let app = app(store).await;
        let change = created(
            &app,
            "/api/v1/changes",
            Role::Manager,
            json!({"title": "Secret change", "type": "normal"}),
        )
        .await;
        let id = change["id"].as_i64().expect("id");
        for path in [
            "/api/v1/changes/CHG-1".to_owned(),
            format!("/api/v1/changes/{id}"),
            format!("/api/v1/changes/{id}/conflicts"),
        ] {
            let reply = app
                .call(Method::GET, &path, Some(&app.outsider), None)
                .await;
            assert_eq!(
                reply.status,
                StatusCode::NOT_FOUND,
                "{path}: {}",
                reply.text
            );
        }
        let theirs = app
            .call(Method::GET, "/api/v1/changes", Some(&app.outsider), None)
            .await;
        assert_eq!(theirs.body["items"], json!([]));
        for reply in [
            app.get("/api/v1/changes", Role::Requester).await,
            app.get("/api/v1/changes/CHG-1", Role::Requester).await,
            app.post(
                "/api/v1/changes",
                Role::Requester,
                json!({"title": "Mine", "type": "normal"}),
            )
            .await,
        ] {
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
        }
        let auditor = app
            .post(
                "/api/v1/changes",
                Role::Auditor,
                json!({"title": "Mine", "type": "normal"}),
            )
            .await;
        assert_eq!(auditor.status, StatusCode::FORBIDDEN);
        let standard_without_template = app
            .post(
                "/api/v1/changes",
                Role::Agent,
                json!({"title": "Mine", "type": "standard"}),
            )
            .await;
        assert_eq!(
            standard_without_template.status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
);
