//! Internal audit through the real router: the API from programme to a reported audit with
//! its refusals (independence, open checklist rows, unknown clauses, moves the lifecycle does
//! not allow), a finding that raises a nonconformity, and the pages with their forms.

use super::api::app;
use super::cmdb_ui::page;
use super::sla_ui::sign_in;
use super::support::{assert_refused, assert_unprocessable, submit, tenant_with_people};
use super::ui::{get, hidden, send};
use crate::support::in_days;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use steward_domain::access::Role;
use steward_server::{AppState, ServerConfig, router};
use steward_store::{Store, both_backends};

both_backends!(
    the_api_runs_an_audit_from_plan_to_report,
    |store: Store| async move {
        let app = app(store).await;
        let manager = app.user_id(Role::Manager).await;
        let agent = app.user_id(Role::Agent).await;
        let programme = app
            .post(
                "/api/v1/audit-programmes",
                Role::Manager,
                json!({"name": "Cycle 2026", "cycle_start": in_days(-100)}),
            )
            .await;
        assert_eq!(programme.status, StatusCode::CREATED, "{}", programme.text);
        let pid = programme.body["id"].as_i64().expect("id");
        assert!(programme.body["cycle_end"].as_str().is_some());
        let bad_programme = app
            .post(
                "/api/v1/audit-programmes",
                Role::Manager,
                json!({"name": " ", "cycle_start": "soon"}),
            )
            .await;
        assert_unprocessable(&bad_programme, "cycle_start");

        let plan = |auditee: i64, scope: Value| {
            json!({"programme_id": pid, "title": "Service desk", "scope": scope,
               "planned_start": in_days(-5), "planned_end": in_days(-4),
               "lead_auditor_id": manager, "auditee_ids": [auditee]})
        };
        // The lead audits their own process: refused by name.
        let own = app
            .post(
                "/api/v1/audits",
                Role::Manager,
                plan(manager, json!(["8.6.1"])),
            )
            .await;
        assert_unprocessable(
            &own,
            "The manager is an auditee of this audit and cannot audit it",
        );
        let unknown = app
            .post(
                "/api/v1/audits",
                Role::Manager,
                plan(agent, json!(["8.5", "11"])),
            )
            .await;
        assert_unprocessable(&unknown, "Not a clause of the catalogue");
        let audit = app
            .post(
                "/api/v1/audits",
                Role::Manager,
                plan(agent, json!(["8.6.1"])),
            )
            .await;
        assert_eq!(audit.status, StatusCode::CREATED, "{}", audit.text);
        let id = audit.body["id"].as_i64().expect("id");
        assert_eq!(audit.body["status"], "planned");
        assert_eq!(
            audit.body["criteria"],
            "ISO/IEC 20000-1:2018 and the SMS's own documented information"
        );

        let checklist = app
            .get(&format!("/api/v1/audits/{id}/checklist"), Role::Auditor)
            .await;
        let rows = checklist.body.as_array().expect("rows").clone();
        assert!(rows.len() >= 3);
        assert_eq!(rows[0]["requirement_id"], "8.6.1-a");
        assert_eq!(rows[0]["clause_page"], "/conformance/8.6.1");
        assert_eq!(rows[0]["result"], "not_yet_audited");

        // Reporting before it started is a move the lifecycle does not allow.
        let early = app
            .post(
                &format!("/api/v1/audits/{id}/report"),
                Role::Manager,
                json!({"summary": "x"}),
            )
            .await;
        assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.text);
        let started = app
            .post(
                &format!("/api/v1/audits/{id}/start"),
                Role::Manager,
                json!({}),
            )
            .await;
        assert_eq!(started.body["status"], "in_progress", "{}", started.text);
        let open = app
            .post(
                &format!("/api/v1/audits/{id}/report"),
                Role::Manager,
                json!({"summary": "Done"}),
            )
            .await;
        assert_unprocessable(&open, "checklist");

        let finding = app
            .post(
                &format!("/api/v1/audits/{id}/findings"),
                Role::Manager,
                json!({"kind": "minor_nonconformity", "reference": "8.6.1-a",
                   "statement": "Two incidents had no category.", "evidence": "INC-4, INC-9"}),
            )
            .await;
        assert_eq!(finding.status, StatusCode::CREATED, "{}", finding.text);
        let nc = finding.body["nonconformity_id"].as_i64().expect("raised");
        assert_eq!(
            finding.body["nonconformity_page"],
            format!("/nonconformities/{nc}")
        );
        let nc_reply = app
            .get(&format!("/api/v1/nonconformities/{nc}"), Role::Manager)
            .await;
        assert_eq!(nc_reply.status, StatusCode::OK, "{}", nc_reply.text);
        assert_eq!(nc_reply.body["source"], "audit");

        for row in &rows {
            let requirement = row["requirement_id"].as_str().expect("id");
            let recorded = app
                .put(
                    &format!("/api/v1/audits/{id}/checklist/{requirement}"),
                    Role::Manager,
                    json!({"result": "conforming", "evidence": "Sampled"}),
                )
                .await;
            assert_eq!(recorded.status, StatusCode::OK, "{}", recorded.text);
        }
        let missing = app
            .put(
                &format!("/api/v1/audits/{id}/checklist/9.9-z"),
                Role::Manager,
                json!({"result": "conforming"}),
            )
            .await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        let reported = app
            .post(
                &format!("/api/v1/audits/{id}/report"),
                Role::Manager,
                json!({"summary": "Incident management works; one minor nonconformity."}),
            )
            .await;
        assert_eq!(reported.status, StatusCode::OK, "{}", reported.text);
        assert_eq!(reported.body["status"], "reported");
        assert_eq!(reported.body["next"], json!(["closed"]));
        let cancel = app
            .post(
                &format!("/api/v1/audits/{id}/cancel"),
                Role::Manager,
                json!({"reason": "x"}),
            )
            .await;
        assert_eq!(cancel.status, StatusCode::CONFLICT);

        let coverage = app
            .get(
                &format!("/api/v1/audit-programmes/{pid}/coverage"),
                Role::Auditor,
            )
            .await;
        assert_eq!(coverage.status, StatusCode::OK, "{}", coverage.text);
        let covered: Vec<&Value> = coverage.body["clauses"]
            .as_array()
            .expect("clauses")
            .iter()
            .filter(|c| c["covered"] == json!(true))
            .collect();
        assert_eq!(covered.len(), 1);
        assert_eq!(covered[0]["clause_id"], "8.6.1");
        assert!(
            coverage.body["uncovered"]
                .as_array()
                .expect("uncovered")
                .contains(&json!("9.2"))
        );
        let listed = app
            .get(
                &format!("/api/v1/audits?programme_id={pid}&status=reported"),
                Role::Auditor,
            )
            .await;
        assert_eq!(listed.body["items"][0]["id"], id);
        let findings = app
            .get(&format!("/api/v1/audits/{id}/findings"), Role::Auditor)
            .await;
        assert_eq!(findings.body["items"][0]["kind"], "minor_nonconformity");
        // The auditor reads but writes nothing; another tenant sees nothing.
        let refused = app
            .post(
                &format!("/api/v1/audits/{id}/close"),
                Role::Auditor,
                json!({}),
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let hidden = app
            .call(
                Method::GET,
                &format!("/api/v1/audits/{id}"),
                Some(&app.outsider),
                None,
            )
            .await;
        assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    }
);

fn refs(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
    pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

both_backends!(the_pages_plan_and_run_an_audit, |store: Store| async move {
    let (_, ids) = tenant_with_people(
        &store,
        "Acme",
        &[
            ("max@acme.test", "Max Moss", Role::Manager),
            ("ann@acme.test", "Ann Lee", Role::Agent),
            ("ada@acme.test", "Ada", Role::Auditor),
            ("rae@acme.test", "Rae", Role::Requester),
        ],
    )
    .await;
    let (max_id, ann_id) = (ids[0].to_string(), ids[1].to_string());
    let app = router(AppState::new(store.clone(), ServerConfig::default()));
    let (max, csrf) = sign_in(&app, "max@acme.test").await;
    let hub = page(&app, "/sms", &max).await;
    assert!(hub.html.contains("href=\"/audits\""), "the hub links it");
    let empty = page(&app, "/audits", &max).await;
    assert!(empty.html.contains("No audit programme yet"));
    page(&app, "/audit-programmes/new", &max).await;

    let bad = submit(
        &app,
        "/audit-programmes",
        &max,
        &[("_csrf", &csrf), ("name", "Cycle"), ("cycle_start", "")],
    )
    .await;
    assert_refused(&bad, "Cycle start is required");
    assert!(bad.html.contains("value=\"Cycle\""), "keeps input");
    let start = in_days(-60);
    let made = submit(
        &app,
        "/audit-programmes",
        &max,
        &[
            ("_csrf", &csrf),
            ("name", "Cycle"),
            ("cycle_start", &start),
            ("owner_id", &max_id),
        ],
    )
    .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.html);
    let programme_path = made.location.split('?').next().expect("path").to_owned();
    let programme = page(&app, &made.location, &max).await;
    assert!(programme.html.contains("Calendar") && programme.html.contains("cal-month today"));
    assert!(programme.html.contains("Clauses no audit covers yet"));
    assert!(programme.html.contains("href=\"/conformance/9.2\""));

    // The programme is edited on the registers' form; a cycle start left out is refused.
    let edit = page(&app, &format!("{programme_path}/edit"), &max).await;
    assert!(edit.html.contains("value=\"Cycle\""), "{}", edit.html);
    let seen = hidden(&edit.html, "updated_at");
    let blank = submit(
        &app,
        &programme_path,
        &max,
        &[
            ("_csrf", &csrf),
            ("updated_at", &seen),
            ("name", "Cycle 2026"),
            ("cycle_start", ""),
        ],
    )
    .await;
    assert_refused(&blank, "Cycle start is required");
    let renamed = submit(
        &app,
        &programme_path,
        &max,
        &[
            ("_csrf", &csrf),
            ("updated_at", &seen),
            ("name", "Cycle 2026"),
            ("cycle_start", &start),
            ("owner_id", &max_id),
        ],
    )
    .await;
    assert_eq!(renamed.status, StatusCode::SEE_OTHER, "{}", renamed.html);
    assert!(
        page(&app, &renamed.location, &max)
            .await
            .html
            .contains("<h1>Cycle 2026</h1>")
    );

    let plan_path = format!("{programme_path}/audits");
    let new_plan = page(&app, &format!("{plan_path}/new"), &max).await;
    assert!(
        new_plan.html.contains("value=\"8.6.1\""),
        "scope checkboxes"
    );
    let day = in_days(-1);
    // Ann audits her own process: refused beside the field, with what was typed kept.
    let own = submit(
        &app,
        &plan_path,
        &max,
        &[
            ("_csrf", &csrf),
            ("title", "Incident management"),
            ("planned_start", &day),
            ("planned_end", &day),
            ("lead_auditor_id", &ann_id),
            ("auditee_ids", &ann_id),
            ("scope", "8.6.1"),
        ],
    )
    .await;
    assert_refused(
        &own,
        "Ann Lee is an auditee of this audit and cannot audit it",
    );
    assert!(
        own.html.contains("value=\"8.6.1\" checked"),
        "keeps the scope"
    );
    let planned = submit(
        &app,
        &plan_path,
        &max,
        &[
            ("_csrf", &csrf),
            ("title", "Incident management"),
            ("planned_start", &day),
            ("planned_end", &day),
            ("lead_auditor_id", &max_id),
            ("auditee_ids", &ann_id),
            ("scope", "8.6.1"),
        ],
    )
    .await;
    assert_eq!(planned.status, StatusCode::SEE_OTHER, "{}", planned.html);
    let audit_path = planned.location.split('?').next().expect("path").to_owned();
    let view = page(&app, &planned.location, &max).await;
    assert!(view.html.contains("Start audit") && view.html.contains("8.6.1-a"));
    assert!(view.html.contains(&format!("href=\"{audit_path}/edit\"")));

    // The plan is edited on the same form: the scope grows while the audit is planned, and an
    // edit over someone else's is refused with what was typed kept.
    let edit = page(&app, &format!("{audit_path}/edit"), &max).await;
    assert!(
        edit.html.contains("value=\"8.6.1\" checked"),
        "{}",
        edit.html
    );
    let seen = hidden(&edit.html, "updated_at");
    let plan = |title: &'static str, seen: String| {
        let mut fields = vec![
            ("_csrf".to_owned(), csrf.clone()),
            ("updated_at".to_owned(), seen),
            ("title".to_owned(), title.to_owned()),
            ("planned_start".to_owned(), day.clone()),
            ("planned_end".to_owned(), day.clone()),
            ("lead_auditor_id".to_owned(), max_id.clone()),
            ("auditee_ids".to_owned(), ann_id.clone()),
        ];
        fields.push(("scope".to_owned(), "8.6.1".to_owned()));
        fields.push(("scope".to_owned(), "8.6.2".to_owned()));
        fields
    };
    let stale = submit(&app, &audit_path, &max, &refs(&plan("Stale", "1".into()))).await;
    assert_refused(&stale, "changed");
    assert!(stale.html.contains("value=\"Stale\""), "keeps input");
    let saved = submit(
        &app,
        &audit_path,
        &max,
        &refs(&plan("Incident and request management", seen)),
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    let view = page(&app, &saved.location, &max).await;
    assert!(view.html.contains("Incident and request management"));
    assert!(
        view.html.contains("8.6.2-a"),
        "the checklist follows the scope"
    );
    let started = submit(
        &app,
        &format!("{audit_path}/start"),
        &max,
        &[("_csrf", &csrf)],
    )
    .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.html);
    let started_edit = page(&app, &format!("{audit_path}/edit"), &max).await;
    assert!(started_edit.html.contains("stays as planned"));

    let row = submit(
        &app,
        &format!("{audit_path}/checklist/8.6.1-a"),
        &max,
        &[
            ("_csrf", &csrf),
            ("result", "nonconforming"),
            ("notes", "Two uncategorised"),
            ("evidence", "INC-4"),
        ],
    )
    .await;
    assert_eq!(row.status, StatusCode::SEE_OTHER, "{}", row.html);
    let no_report = submit(
        &app,
        &format!("{audit_path}/report"),
        &max,
        &[("_csrf", &csrf), ("summary", "")],
    )
    .await;
    assert_refused(&no_report, "Every checklist row needs a result");
    let no_evidence = submit(
        &app,
        &format!("{audit_path}/findings"),
        &max,
        &[
            ("_csrf", &csrf),
            ("kind", "minor_nonconformity"),
            ("reference", "8.6.1-a"),
            ("statement", "Two incidents had no category"),
            ("evidence", ""),
        ],
    )
    .await;
    assert_refused(&no_evidence, "Evidence is required");
    assert!(
        no_evidence.html.contains("Two incidents had no category"),
        "keeps input"
    );
    let finding = submit(
        &app,
        &format!("{audit_path}/findings"),
        &max,
        &[
            ("_csrf", &csrf),
            ("kind", "minor_nonconformity"),
            ("reference", "8.6.1-a"),
            ("statement", "Two incidents had no category"),
            ("evidence", "INC-4, INC-9"),
        ],
    )
    .await;
    assert_eq!(finding.status, StatusCode::SEE_OTHER, "{}", finding.html);
    let view = page(&app, &audit_path, &max).await;
    assert!(
        view.html.contains("href=\"/nonconformities/"),
        "links the nonconformity"
    );
    assert!(view.html.contains("NC-1"));
    // An opportunity for improvement proposes an improvement, which links back to the audit.
    let ofi = submit(
        &app,
        &format!("{audit_path}/findings"),
        &max,
        &[
            ("_csrf", &csrf),
            ("kind", "opportunity_for_improvement"),
            ("reference", "8.6.1-a"),
            (
                "statement",
                "Categories could be suggested from the subject",
            ),
            ("evidence", "INC-4"),
        ],
    )
    .await;
    assert_eq!(ofi.status, StatusCode::SEE_OTHER, "{}", ofi.html);
    let view = page(&app, &audit_path, &max).await;
    let improvement = view
        .html
        .split("href=\"/improvements/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("links the improvement")
        .to_owned();
    let proposed = page(&app, &format!("/improvements/{improvement}"), &max).await;
    assert!(proposed.html.contains("Categories could be suggested"));
    assert!(
        proposed
            .html
            .contains(&format!("href=\"{audit_path}#findings\"")),
        "links back to the audit: {}",
        proposed.html
    );

    // The auditor reads without the forms; the requester does not get in.
    let (ada, ada_csrf) = sign_in(&app, "ada@acme.test").await;
    let read = page(&app, &audit_path, &ada).await;
    assert!(!read.html.contains("Record a finding") && read.html.contains("Nonconforming"));
    page(&app, &programme_path, &ada).await;
    let (rae, _) = sign_in(&app, "rae@acme.test").await;
    let barred = send(&app, get("/audits", &rae)).await;
    assert_eq!(barred.status, StatusCode::FORBIDDEN);
    let ada_write = submit(
        &app,
        &format!("{audit_path}/close"),
        &ada,
        &[("_csrf", &ada_csrf)],
    )
    .await;
    assert_eq!(ada_write.status, StatusCode::FORBIDDEN);
});
