//! Nonconformities through the real router: the API's lifecycle with its problem+json
//! refusals (audit source, unknown incident, owner verifying, closed), the auditor's read-only
//! access, the daily reminder job, and the pages with their forms, from the incident page's
//! "Raise nonconformity" link to the closing check.

use super::api::{Reply, app, is_problem};
use super::cmdb_ui::page;
use super::sla_ui::sign_in;
use super::support::{assert_refused, assert_unprocessable, submit, tenant_with_people};
use super::ui::{get, send};
use crate::support::in_days;
use axum::Router;
use axum::http::{Method, StatusCode};
use serde_json::json;
use steward_domain::access::Role;
use steward_server::{AppState, ServerConfig, router};
use steward_store::asset::today_utc;
use steward_store::incident::IncidentFields;
use steward_store::{Actor, Store, both_backends, now_micros};

fn assert_conflict(reply: &Reply, says: &str) {
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
    assert!(is_problem(reply), "{}", reply.text);
    assert!(reply.text.contains(says), "{says}: {}", reply.text);
}

both_backends!(
    the_api_runs_the_lifecycle_and_refuses_clearly,
    |store: Store| async move {
        let app = app(store).await;
        let manager = app.user_id(Role::Manager).await;
        let agent = app.user_id(Role::Agent).await;

        // Audit findings raise their own; an incident must exist; an unknown clause is refused.
        let audit = app
            .post(
                "/api/v1/nonconformities",
                Role::Manager,
                json!({"title": "x", "description": "x", "severity": "minor", "source": "audit", "source_ref": 1}),
            )
            .await;
        assert_unprocessable(&audit, "source");
        let missing = app
            .post(
                "/api/v1/nonconformities",
                Role::Manager,
                json!({"title": "x", "description": "x", "severity": "minor", "source": "incident", "source_ref": 999}),
            )
            .await;
        assert_unprocessable(&missing, "Incident 999 does not exist");
        let clause = app
            .post(
                "/api/v1/nonconformities",
                Role::Manager,
                json!({"title": "x", "description": "x", "severity": "major", "source": "other", "clause_id": "99"}),
            )
            .await;
        assert_unprocessable(&clause, "clause_id");

        let incident = app
            .post(
                "/api/v1/incidents",
                Role::Agent,
                json!({"title": "Payroll down for four hours"}),
            )
            .await;
        let incident_id = incident.body["id"].as_i64().expect("incident id");
        let raised = app
            .post(
                "/api/v1/nonconformities",
                Role::Manager,
                json!({"title": "Major incident breached its SLA", "description": "The restore took four hours against a two-hour target.",
                       "severity": "major", "source": "incident", "source_ref": incident_id,
                       "clause_id": "8.6.1", "owner_id": manager}),
            )
            .await;
        assert_eq!(raised.status, StatusCode::CREATED, "{}", raised.text);
        assert_eq!(raised.body["reference"], "NC-1");
        assert_eq!(raised.body["status"], "open");
        let id = raised.body["id"].as_i64().expect("id");
        let base = format!("/api/v1/nonconformities/{id}");

        // The auditor reads but writes nothing.
        assert_eq!(app.get(&base, Role::Auditor).await.status, StatusCode::OK);
        let denied = app
            .put(
                &base,
                Role::Auditor,
                json!({"updated_at": raised.body["updated_at"]}),
            )
            .await;
        assert_eq!(denied.status, StatusCode::FORBIDDEN);
        assert!(is_problem(&denied));
        assert_eq!(
            app.post(
                &format!("{base}/actions"),
                Role::Auditor,
                json!({"description": "x", "owner_id": agent, "due": in_days(5)})
            )
            .await
            .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.get(&base, Role::Agent).await.status,
            StatusCode::FORBIDDEN
        );

        // Analysis, then an action: actions planned.
        let no_method = app.put(&base, Role::Manager, json!({"updated_at": raised.body["updated_at"],
            "containment": "Payroll run moved to the standby cluster", "root_cause": "No failover runbook"})).await;
        assert_unprocessable(&no_method, "root_cause_method");
        let analysed = app.put(&base, Role::Manager, json!({"updated_at": raised.body["updated_at"],
            "containment": "Payroll run moved to the standby cluster", "root_cause": "No failover runbook",
            "root_cause_method": "five_whys"})).await;
        assert_eq!(analysed.status, StatusCode::OK, "{}", analysed.text);
        let stale = app
            .put(
                &base,
                Role::Manager,
                json!({"updated_at": raised.body["updated_at"], "title": "Again"}),
            )
            .await;
        assert_eq!(stale.status, StatusCode::CONFLICT);
        let past = app
            .post(
                &format!("{base}/actions"),
                Role::Manager,
                json!({"description": "Write the runbook", "owner_id": agent, "due": in_days(-1)}),
            )
            .await;
        assert_unprocessable(&past, "due");
        let action = app
            .post(&format!("{base}/actions"), Role::Manager, json!({"description": "Write the failover runbook", "owner_id": agent, "due": in_days(5)}))
            .await;
        assert_eq!(action.status, StatusCode::CREATED, "{}", action.text);
        let action_id = action.body["id"].as_i64().expect("action id");
        assert_eq!(
            app.get(&base, Role::Manager).await.body["status"],
            "actions_planned"
        );

        // Too early to verify.
        let early = app
            .post(
                &format!("{base}/verification"),
                Role::Admin,
                json!({"effective": true, "notes": "Fine"}),
            )
            .await;
        assert_conflict(&early, "every action is completed");
        let done = app
            .post(
                &format!("{base}/actions/{action_id}/complete"),
                Role::Manager,
                json!({"note": "Runbook published and rehearsed"}),
            )
            .await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.text);
        let waiting = app.get(&base, Role::Manager).await;
        assert_eq!(waiting.body["status"], "awaiting_verification");
        assert_eq!(waiting.body["check_due"], in_days(30));

        // The owner may not verify; the admin may. Not effective: back to actions planned.
        let own = app
            .post(
                &format!("{base}/verification"),
                Role::Manager,
                json!({"effective": true, "notes": "Fine"}),
            )
            .await;
        assert_conflict(&own, "owner");
        let ineffective = app
            .post(
                &format!("{base}/verification"),
                Role::Admin,
                json!({"effective": false, "notes": "Failover drill failed"}),
            )
            .await;
        assert_eq!(
            ineffective.status,
            StatusCode::CREATED,
            "{}",
            ineffective.text
        );
        assert_eq!(
            app.get(&base, Role::Manager).await.body["status"],
            "actions_planned"
        );
        let second = app
            .post(&format!("{base}/actions"), Role::Manager, json!({"description": "Automate the failover", "owner_id": agent, "due": in_days(10)}))
            .await;
        let second_id = second.body["id"].as_i64().expect("id");
        app.post(
            &format!("{base}/actions/{second_id}/complete"),
            Role::Manager,
            json!({"note": "Automated"}),
        )
        .await;
        let effective = app
            .post(
                &format!("{base}/verification"),
                Role::Admin,
                json!({"effective": true, "notes": "Three drills passed"}),
            )
            .await;
        assert_eq!(effective.status, StatusCode::CREATED);
        let closed = app.get(&base, Role::Auditor).await;
        assert_eq!(closed.body["status"], "closed");
        let checks = app
            .get(&format!("{base}/verification"), Role::Auditor)
            .await;
        assert_eq!(checks.body.as_array().map(Vec::len), Some(2));
        let history = app.get(&format!("{base}/history"), Role::Auditor).await;
        let statuses: Vec<&str> = history
            .body
            .as_array()
            .expect("history")
            .iter()
            .filter_map(|h| h["to"].as_str())
            .collect();
        assert_eq!(
            statuses,
            [
                "open",
                "actions_planned",
                "awaiting_verification",
                "actions_planned",
                "awaiting_verification",
                "closed"
            ]
        );
        let late = app
            .post(
                &format!("{base}/actions"),
                Role::Manager,
                json!({"description": "More", "owner_id": agent, "due": in_days(3)}),
            )
            .await;
        assert_conflict(&late, "closed");

        // Lists filter; another tenant sees nothing.
        let list = app
            .get(
                "/api/v1/nonconformities?status=closed&severity=major",
                Role::Auditor,
            )
            .await;
        assert_eq!(list.body["items"].as_array().map(Vec::len), Some(1));
        let mine = app
            .get("/api/v1/nonconformities?mine=true", Role::Manager)
            .await;
        assert_eq!(mine.body["items"].as_array().map(Vec::len), Some(1));
        let bad = app
            .get("/api/v1/nonconformities?status=nope", Role::Auditor)
            .await;
        assert!(bad.status.is_client_error());
        let outsider = app
            .call(Method::GET, &base, Some(&app.outsider), None)
            .await;
        assert_eq!(outsider.status, StatusCode::NOT_FOUND);
    }
);

both_backends!(the_daily_job_reminds_once, |store: Store| async move {
    let app = app(store).await;
    let agent = app.user_id(Role::Agent).await;
    let raised = app
        .post(
            "/api/v1/nonconformities",
            Role::Manager,
            json!({"title": "Complaint about late reports", "description": "A customer complained the monthly report came late.",
                   "severity": "minor", "source": "complaint"}),
        )
        .await;
    let id = raised.body["id"].as_i64().expect("id");
    app.post(
        &format!("/api/v1/nonconformities/{id}/actions"),
        Role::Manager,
        json!({"description": "Schedule the report job", "owner_id": agent, "due": in_days(0)}),
    )
    .await;
    let day = today_utc();
    let sent = app
        .store
        .send_nonconformity_reminders(
            app.tenant_id,
            day,
            steward_server::nonconformity_reminders::render,
        )
        .await
        .expect("run");
    assert_eq!(sent.len(), 1);
    let again = app
        .store
        .send_nonconformity_reminders(
            app.tenant_id,
            day,
            steward_server::nonconformity_reminders::render,
        )
        .await
        .expect("again");
    assert!(again.is_empty());
    let outbox = app.store.outbox(app.tenant_id).await.expect("outbox");
    assert_eq!(outbox.len(), 1);
    assert!(outbox[0].subject.contains("NC-1"), "{}", outbox[0].subject);
    assert!(
        outbox[0].subject.contains("due today"),
        "{}",
        outbox[0].subject
    );
    assert_eq!(outbox[0].to_address, "agent@acme.test");
});

async fn site(store: &Store) -> (Router, i64) {
    let (tenant, _) = tenant_with_people(
        store,
        "Acme",
        &[
            ("max@acme.test", "Max", Role::Manager),
            ("kim@acme.test", "Kim", Role::Admin),
            ("ada@acme.test", "Ada", Role::Auditor),
            ("rae@acme.test", "Rae", Role::Requester),
        ],
    )
    .await;
    (
        router(AppState::new(store.clone(), ServerConfig::default())),
        tenant,
    )
}

/// The value of the `<option>` whose label starts with `label`.
fn option_value(html: &str, label: &str) -> String {
    let at = html
        .find(&format!("\">{label}</option>"))
        .unwrap_or_else(|| panic!("no option {label}"));
    let start = html[..at].rfind("value=\"").expect("value") + 7;
    html[start..at].to_owned()
}

both_backends!(
    the_pages_take_it_from_incident_to_closed,
    |store: Store| async move {
        let (app, tenant) = site(&store).await;
        let (max, csrf) = sign_in(&app, "max@acme.test").await;

        // From an incident's page.
        store
            .create_incident(
                tenant,
                &IncidentFields::new("Mail outage breached its SLA", now_micros()),
                &Actor::cli(),
            )
            .await
            .expect("incident");
        let incident_page = page(&app, "/incidents/INC-1", &max).await;
        let link_at = incident_page
            .html
            .find("/nonconformities/new?source=incident&amp;source_ref=")
            .expect("raise link");
        let link = incident_page.html[link_at..]
            .split('"')
            .next()
            .expect("href")
            .replace("&amp;", "&");
        let form = page(&app, &link, &max).await;
        assert!(
            form.html.contains("Mail outage breached its SLA"),
            "pre-filled title"
        );
        let incident_id = link.rsplit('=').next().expect("id").to_owned();

        // Bad input comes back beside the fields, keeping what was typed.
        let bad = submit(
            &app,
            "/nonconformities",
            &max,
            &[
                ("_csrf", &csrf),
                ("title", "Mail outage breached its SLA"),
                ("description", ""),
                ("severity", "major"),
                ("source", "incident"),
                ("source_ref", "999999"),
                ("clause_id", ""),
                ("owner_id", ""),
            ],
        )
        .await;
        assert_refused(&bad, "Description is required");
        assert!(bad.html.contains("value=\"Mail outage breached its SLA\""));
        let owner = option_value(&form.html, "Max");
        let raised = submit(
            &app,
            "/nonconformities",
            &max,
            &[
                ("_csrf", &csrf),
                ("title", "Mail outage breached its SLA"),
                ("description", "Restore took 5 hours against 2."),
                ("severity", "major"),
                ("source", "incident"),
                ("source_ref", &incident_id),
                ("clause_id", "8.6.1"),
                ("owner_id", &owner),
            ],
        )
        .await;
        assert_eq!(raised.status, StatusCode::SEE_OTHER, "{}", raised.html);
        let path = raised.location.split('?').next().expect("path").to_owned();
        let view = page(&app, &path, &max).await;
        assert!(view.html.contains("NC-1"));
        assert!(view.html.contains("Next: record the containment"));
        assert!(
            view.html.contains("href=\"/incidents/INC-1\""),
            "links its incident"
        );

        // Containment and root cause, beside the fields when incomplete.
        let updated_at = {
            let at = view
                .html
                .find("name=\"updated_at\" value=\"")
                .expect("updated_at")
                + 25;
            view.html[at..].split('"').next().expect("value").to_owned()
        };
        let half = submit(
            &app,
            &path,
            &max,
            &[
                ("_csrf", &csrf),
                ("updated_at", &updated_at),
                ("title", "Mail outage breached its SLA"),
                ("description", "Restore took 5 hours against 2."),
                ("owner_id", &owner),
                ("containment", "Mail routed through the backup relay"),
                ("root_cause", "Expired certificate on the relay"),
                ("root_cause_method", ""),
            ],
        )
        .await;
        assert_refused(&half, "Say how the root cause was analysed");
        assert!(half.html.contains("Expired certificate on the relay"));
        let saved = submit(
            &app,
            &path,
            &max,
            &[
                ("_csrf", &csrf),
                ("updated_at", &updated_at),
                ("title", "Mail outage breached its SLA"),
                ("description", "Restore took 5 hours against 2."),
                ("owner_id", &owner),
                ("containment", "Mail routed through the backup relay"),
                ("root_cause", "Expired certificate on the relay"),
                ("root_cause_method", "fishbone"),
            ],
        )
        .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
        assert!(
            page(&app, &path, &max)
                .await
                .html
                .contains("Next: plan a corrective action")
        );

        // An action, refused without a date, then planned and completed.
        let kim = option_value(&view.html, "Kim");
        let undated = submit(
            &app,
            &format!("{path}/actions"),
            &max,
            &[
                ("_csrf", &csrf),
                ("description", "Monitor certificate expiry"),
                ("owner_id", &kim),
                ("due", ""),
            ],
        )
        .await;
        assert_refused(&undated, "Due date is required");
        let due = in_days(7);
        let planned = submit(
            &app,
            &format!("{path}/actions"),
            &max,
            &[
                ("_csrf", &csrf),
                ("description", "Monitor certificate expiry"),
                ("owner_id", &kim),
                ("due", &due),
            ],
        )
        .await;
        assert_eq!(planned.status, StatusCode::SEE_OTHER, "{}", planned.html);
        let view = page(&app, &path, &max).await;
        assert!(view.html.contains("Next: complete the corrective actions"));
        let complete_at = view.html.find("/complete\"").expect("complete form");
        let complete = view.html[..complete_at]
            .rsplit("action=\"")
            .next()
            .expect("action")
            .to_owned()
            + "/complete";
        let empty_note = submit(
            &app,
            &complete,
            &max,
            &[("_csrf", &csrf), ("completion_note", "")],
        )
        .await;
        assert_refused(&empty_note, "Completion note is required");
        let completed = submit(
            &app,
            &complete,
            &max,
            &[
                ("_csrf", &csrf),
                ("completion_note", "Expiry alerts at 30 and 7 days"),
            ],
        )
        .await;
        assert_eq!(
            completed.status,
            StatusCode::SEE_OTHER,
            "{}",
            completed.html
        );
        let view = page(&app, &path, &max).await;
        assert!(
            view.html
                .contains(&format!("Next: verify effectiveness by {}", in_days(30))),
            "{}",
            view.html
        );

        // Max owns it and may not verify; Kim may.
        let own = submit(
            &app,
            &format!("{path}/verification"),
            &max,
            &[
                ("_csrf", &csrf),
                ("effective", "yes"),
                ("notes", "Looks good"),
            ],
        )
        .await;
        assert_refused(&own, "owner of a nonconformity cannot verify it");
        let (kim_session, kim_csrf) = sign_in(&app, "kim@acme.test").await;
        let unsaid = submit(
            &app,
            &format!("{path}/verification"),
            &kim_session,
            &[("_csrf", &kim_csrf), ("notes", "Looks good")],
        )
        .await;
        assert_refused(&unsaid, "Say whether the actions were effective");
        let checked = submit(
            &app,
            &format!("{path}/verification"),
            &kim_session,
            &[
                ("_csrf", &kim_csrf),
                ("effective", "yes"),
                ("notes", "No expiry incident in 30 days"),
            ],
        )
        .await;
        assert_eq!(checked.status, StatusCode::SEE_OTHER, "{}", checked.html);
        let view = page(&app, &path, &max).await;
        assert!(view.html.contains("status-closed"));
        assert!(!view.html.contains("Plan a corrective action"));

        // The list, its filters and the hub; the auditor reads without forms; the requester stays out.
        let list = page(&app, "/nonconformities?status=closed&severity=major", &max).await;
        assert!(list.html.contains("NC-1"));
        let none = page(&app, "/nonconformities?status=open", &max).await;
        assert!(!none.html.contains("NC-1"));
        let hub = page(&app, "/sms", &max).await;
        assert!(hub.html.contains("href=\"/nonconformities\""));
        let (ada, _) = sign_in(&app, "ada@acme.test").await;
        let read = page(&app, &path, &ada).await;
        assert!(!read.html.contains("Record the effectiveness check"));
        assert!(
            !page(&app, "/nonconformities", &ada)
                .await
                .html
                .contains("Raise nonconformity")
        );
        let (rae, _) = sign_in(&app, "rae@acme.test").await;
        assert_eq!(
            send(&app, get("/nonconformities", &rae)).await.status,
            StatusCode::FORBIDDEN
        );
    }
);
