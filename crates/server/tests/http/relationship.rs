//! Business relationship management (8.3.2) through the real router: complaints over the API
//! with their refusals as problem+json, surveys and reviews, a requester rating their own
//! resolved incident (and refused on someone else's), and the complaint, customer and portal
//! pages with forms that keep what was typed when they refuse it.

use super::api::app;
use super::cmdb_ui::page;
use super::sla_ui::sign_in;
use super::support::{assert_refused, assert_unprocessable, in_days, submit, tenant_with_people};
use axum::http::StatusCode;
use serde_json::json;
use steward_domain::access::Role;
use steward_domain::customer::CustomerDraft;
use steward_domain::incident::Status;
use steward_domain::relationship::complaint::{Channel, ComplaintDraft};
use steward_server::{AppState, ServerConfig, router};
use steward_store::asset::today_utc;
use steward_store::incident::{Incident, IncidentFields};
use steward_store::{Actor, Store, both_backends, now_micros};

async fn customer(store: &Store, t: i64, name: &str) -> i64 {
    store
        .create_customer(
            t,
            &CustomerDraft {
                name: name.into(),
                notes: String::new(),
            },
            &Actor::cli(),
        )
        .await
        .expect("customer")
        .id
}

/// An incident of `requester`, resolved.
async fn resolved_incident(store: &Store, t: i64, requester: i64, title: &str) -> Incident {
    let mut f = IncidentFields::new(title, now_micros());
    f.requester_user_id = Some(requester);
    let open = store
        .create_incident(t, &f, &Actor::cli())
        .await
        .expect("incident");
    let mut done = IncidentFields::from(&open);
    done.status = Status::Resolved;
    done.resolution_code = Some("fixed".into());
    done.resolution_notes = "Replaced the router".into();
    done.resolved_at = Some(now_micros());
    store
        .update_incident(t, open.id, open.updated_at, &done, &Actor::cli())
        .await
        .expect("resolved")
}

both_backends!(
    the_complaint_api_moves_and_refuses,
    |store: Store| async move {
        let app = app(store).await;
        let manager = app.user_id(Role::Manager).await;
        let globex = customer(&app.store, app.tenant_id, "Globex").await;

        let bad = app
            .post(
                "/api/v1/complaints",
                Role::Agent,
                json!({"customer_id": globex, "complainant": "Hank", "received_on": in_days(1),
                       "channel": "phone", "summary": " ", "owner_id": manager}),
            )
            .await;
        assert_unprocessable(&bad, "received_on");
        assert!(bad.text.contains("Summary is required"), "{}", bad.text);

        let created = app
            .post(
                "/api/v1/complaints",
                Role::Agent,
                json!({"customer_id": globex, "complainant": "Hank", "received_on": in_days(-20),
                       "channel": "phone", "summary": "Payroll outage unexplained",
                       "owner_id": manager}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let id = created.body["id"].as_i64().expect("id");
        assert_eq!(created.body["status"], "received");
        assert_eq!(created.body["overdue"], true);
        assert_eq!(created.body["target_date"], in_days(-10));

        let listed = app
            .get("/api/v1/complaints?overdue=true", Role::Auditor)
            .await;
        assert_eq!(listed.body["items"][0]["id"], id);

        let skip = app
            .post(
                &format!("/api/v1/complaints/{id}/transitions"),
                Role::Agent,
                json!({"step": "close", "outcome": "x", "customer_informed": true,
                       "closed_on": in_days(0)}),
            )
            .await;
        assert_eq!(skip.status, StatusCode::CONFLICT, "{}", skip.text);
        let moved = app
            .post(
                &format!("/api/v1/complaints/{id}/transitions"),
                Role::Agent,
                json!({"step": "investigate"}),
            )
            .await;
        assert_eq!(moved.body["status"], "investigating", "{}", moved.text);
        let empty = app
            .post(
                &format!("/api/v1/complaints/{id}/transitions"),
                Role::Agent,
                json!({"step": "action"}),
            )
            .await;
        assert_unprocessable(&empty, "findings");

        let escalated = app
            .post(
                &format!("/api/v1/complaints/{id}/escalations"),
                Role::Agent,
                json!({"escalated_to": "Head of service", "reason": "Three weeks, no answer"}),
            )
            .await;
        assert_eq!(escalated.status, StatusCode::CREATED, "{}", escalated.text);
        let history = app
            .get(&format!("/api/v1/complaints/{id}/history"), Role::Auditor)
            .await;
        assert_eq!(history.body.as_array().map(Vec::len), Some(2));

        let nc = app
            .post(
                &format!("/api/v1/complaints/{id}/nonconformity"),
                Role::Agent,
                json!(null),
            )
            .await;
        assert!(
            nc.body["nonconformity_id"].as_i64().is_some(),
            "{}",
            nc.text
        );
        let again = app
            .post(
                &format!("/api/v1/complaints/{id}/nonconformity"),
                Role::Agent,
                json!(null),
            )
            .await;
        assert_eq!(again.status, StatusCode::CONFLICT);

        let survey = app
            .post(
                "/api/v1/satisfaction/surveys",
                Role::Agent,
                json!({"conducted_on": in_days(-3), "sample_size": 10, "responses": 12,
                       "average_score": 4.2, "analysis": "Happy"}),
            )
            .await;
        assert_unprocessable(&survey, "responses");
        let forbidden = app
            .post(
                "/api/v1/satisfaction/surveys",
                Role::Auditor,
                json!({"conducted_on": in_days(-3), "sample_size": 10, "responses": 2,
                       "average_score": 4.2, "analysis": "Happy"}),
            )
            .await;
        assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    }
);

both_backends!(
    a_requester_rates_their_own_resolved_incident,
    |store: Store| async move {
        let app = app(store).await;
        let requester = app.user_id(Role::Requester).await;
        let agent = app.user_id(Role::Agent).await;
        let mine = resolved_incident(&app.store, app.tenant_id, requester, "VPN drops").await;
        let theirs = resolved_incident(&app.store, app.tenant_id, agent, "Printer").await;

        let rated = app
            .post(
                &format!("/api/v1/incidents/{}/rating", mine.key()),
                Role::Requester,
                json!({"score": 2, "comment": "Took three days"}),
            )
            .await;
        assert_eq!(rated.status, StatusCode::OK, "{}", rated.text);
        let bad = app
            .post(
                &format!("/api/v1/incidents/{}/rating", mine.key()),
                Role::Requester,
                json!({"score": 7}),
            )
            .await;
        assert_unprocessable(&bad, "score");
        let others = app
            .post(
                &format!("/api/v1/incidents/{}/rating", theirs.key()),
                Role::Requester,
                json!({"score": 5}),
            )
            .await;
        assert_eq!(others.status, StatusCode::NOT_FOUND, "{}", others.text);
        let staff = app
            .post(
                &format!("/api/v1/incidents/{}/rating", mine.key()),
                Role::Agent,
                json!({"score": 5}),
            )
            .await;
        assert_eq!(staff.status, StatusCode::FORBIDDEN);
        let read = app
            .get(
                &format!("/api/v1/incidents/{}/rating", mine.key()),
                Role::Agent,
            )
            .await;
        assert_eq!(read.body["rating"]["score"], 2, "{}", read.text);
        assert_eq!(read.body["can_rate"], true);
    }
);

both_backends!(the_complaint_pages_work, |store: Store| async move {
    let (t, people) = tenant_with_people(
        &store,
        "Acme",
        &[
            ("max@acme.test", "Max", Role::Manager),
            ("ada@acme.test", "Ada", Role::Auditor),
        ],
    )
    .await;
    let max_id = people[0];
    let globex = customer(&store, t, "Globex").await;
    let app = router(AppState::new(store.clone(), ServerConfig::default()));
    let (max, csrf) = sign_in(&app, "max@acme.test").await;
    let globex_text = globex.to_string();
    let max_text = max_id.to_string();
    let today = in_days(0);

    // Bad input keeps the form.
    let mut fields = vec![
        ("_csrf", csrf.as_str()),
        ("customer_id", globex_text.as_str()),
        ("service_id", ""),
        ("complainant", "Hank Scorpio"),
        ("received_on", today.as_str()),
        ("channel", "phone"),
        ("summary", ""),
        ("details", "Nobody told finance"),
        ("owner_id", max_text.as_str()),
        ("target_date", ""),
    ];
    let bad = submit(&app, "/complaints", &max, &fields).await;
    assert_refused(&bad, "Summary is required");
    assert!(bad.html.contains("Hank Scorpio") && bad.html.contains("Nobody told finance"));
    fields[6] = ("summary", "Payroll outage unexplained");
    let created = submit(&app, "/complaints", &max, &fields).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.html);
    let url = created
        .location
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    let view = page(&app, &url, &max).await;
    assert!(view.html.contains("Received") && view.html.contains("Start investigating"));

    // Through the lifecycle by its forms; each step asks for what it needs.
    let step = format!("{url}/transition");
    let investigated = submit(
        &app,
        &step,
        &max,
        &[("_csrf", csrf.as_str()), ("step", "investigate")],
    )
    .await;
    assert_eq!(investigated.status, StatusCode::SEE_OTHER);
    let no_findings = submit(
        &app,
        &step,
        &max,
        &[
            ("_csrf", csrf.as_str()),
            ("step", "action"),
            ("findings", ""),
            ("action_taken", "Rota changed"),
        ],
    )
    .await;
    assert_refused(&no_findings, "findings is required");
    assert!(no_findings.html.contains("Rota changed"));
    let actioned = submit(
        &app,
        &step,
        &max,
        &[
            ("_csrf", csrf.as_str()),
            ("step", "action"),
            ("findings", "Status page not updated"),
            ("action_taken", "Rota changed"),
        ],
    )
    .await;
    assert_eq!(actioned.status, StatusCode::SEE_OTHER);
    let uninformed = submit(
        &app,
        &step,
        &max,
        &[
            ("_csrf", csrf.as_str()),
            ("step", "close"),
            ("closed_on", today.as_str()),
            ("outcome", "Apologised"),
        ],
    )
    .await;
    assert_refused(&uninformed, "Tell the complainant the outcome");
    let closed = submit(
        &app,
        &step,
        &max,
        &[
            ("_csrf", csrf.as_str()),
            ("step", "close"),
            ("closed_on", today.as_str()),
            ("outcome", "Apologised"),
            ("customer_informed", "on"),
        ],
    )
    .await;
    assert_eq!(closed.status, StatusCode::SEE_OTHER);
    let view = page(&app, &url, &max).await;
    assert!(view.html.contains("Closed") && view.html.contains("complainant informed"));

    // An overdue complaint is marked on the list, escalated, and raises a nonconformity.
    let late = store
        .create_complaint(
            t,
            &ComplaintDraft {
                customer_id: Some(globex),
                service_id: None,
                complainant: "Ivy".into(),
                received_on: steward_store::testing::in_days(-30),
                channel: Channel::Email,
                summary: "Invoices wrong again".into(),
                details: String::new(),
                owner_id: Some(max_id),
                target_date: None,
            },
            today_utc(),
            &Actor::cli(),
        )
        .await
        .expect("late");
    let list = page(&app, "/complaints", &max).await;
    assert!(list.html.contains("Invoices wrong again") && list.html.contains("Overdue"));
    assert!(
        !list.html.contains("Payroll outage unexplained"),
        "closed ones hide"
    );
    let escalate = format!("/complaints/{}/escalate", late.id);
    let no_reason = submit(
        &app,
        &escalate,
        &max,
        &[
            ("_csrf", csrf.as_str()),
            ("escalated_to", "Head of service"),
            ("reason", ""),
        ],
    )
    .await;
    assert_refused(&no_reason, "Reason is required");
    assert!(no_reason.html.contains("Head of service"));
    let escalated = submit(
        &app,
        &escalate,
        &max,
        &[
            ("_csrf", csrf.as_str()),
            ("escalated_to", "Head of service"),
            ("reason", "A month without an answer"),
        ],
    )
    .await;
    assert_eq!(escalated.status, StatusCode::SEE_OTHER);
    let raised = submit(
        &app,
        &format!("/complaints/{}/nonconformity", late.id),
        &max,
        &[("_csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(raised.status, StatusCode::SEE_OTHER);
    let nc_page = page(&app, &raised.location, &max).await;
    assert!(
        nc_page.html.contains(&format!("/complaints/{}", late.id)),
        "{}",
        nc_page.html
    );
    let view = page(&app, &format!("/complaints/{}", late.id), &max).await;
    assert!(view.html.contains("A month without an answer") && view.html.contains("NC-"));

    // The auditor reads but is offered no forms.
    let (ada, _) = sign_in(&app, "ada@acme.test").await;
    let read_only = page(&app, &format!("/complaints/{}", late.id), &ada).await;
    assert_eq!(read_only.status, StatusCode::OK);
    assert!(!read_only.html.contains("/escalate"));

    // The customer's page: relationship owner, review frequency and a service review.
    let customer_url = format!("/customers/{globex}");
    let edited = submit(
        &app,
        &customer_url,
        &max,
        &[
            ("_csrf", csrf.as_str()),
            ("name", "Globex"),
            ("notes", ""),
            ("relationship_owner_id", max_text.as_str()),
            ("review_frequency_months", "30"),
        ],
    )
    .await;
    assert_refused(&edited, "between 1 and 24 months");
    let edited = submit(
        &app,
        &customer_url,
        &max,
        &[
            ("_csrf", csrf.as_str()),
            ("name", "Globex"),
            ("notes", ""),
            ("relationship_owner_id", max_text.as_str()),
            ("review_frequency_months", "3"),
        ],
    )
    .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.html);
    let reviews = format!("{customer_url}/reviews");
    let tomorrow = in_days(1);
    let future = submit(
        &app,
        &reviews,
        &max,
        &[
            ("_csrf", csrf.as_str()),
            ("held_on", tomorrow.as_str()),
            ("attendees", "Max, Hank"),
            ("performance", "Attainment up"),
            ("outcomes", "Keep going"),
        ],
    )
    .await;
    assert_refused(&future, "cannot be after today");
    assert!(future.html.contains("Attainment up"));
    let held = submit(
        &app,
        &reviews,
        &max,
        &[
            ("_csrf", csrf.as_str()),
            ("held_on", today.as_str()),
            ("attendees", "Max, Hank"),
            ("performance", "Attainment up"),
            ("outcomes", "Keep going"),
        ],
    )
    .await;
    assert_eq!(held.status, StatusCode::SEE_OTHER, "{}", held.html);
    let customer_page = page(&app, &customer_url, &max).await;
    assert!(customer_page.html.contains("Every 3") || customer_page.html.contains("3 months"));
    assert!(customer_page.html.contains(&in_days(0)));
    assert!(customer_page.html.contains("Next service review due"));
    assert!(customer_page.html.contains("Invoices wrong again"));
});

both_backends!(
    the_portal_takes_a_rating_once_resolved,
    |store: Store| async move {
        let (t, people) = tenant_with_people(
            &store,
            "Acme",
            &[
                ("max@acme.test", "Max", Role::Manager),
                ("hank@acme.test", "Hank", Role::Requester),
                ("ivy@acme.test", "Ivy", Role::Requester),
            ],
        )
        .await;
        let incident = resolved_incident(&store, t, people[1], "VPN drops").await;
        let app = router(AppState::new(store.clone(), ServerConfig::default()));
        let (hank, csrf) = sign_in(&app, "hank@acme.test").await;
        let url = format!("/portal/{}", incident.key());
        let view = page(&app, &url, &hank).await;
        assert!(view.html.contains("How did we do?"), "{}", view.html);
        let rate = format!("{url}/rating");
        let none = submit(
            &app,
            &rate,
            &hank,
            &[("_csrf", csrf.as_str()), ("comment", "Slow")],
        )
        .await;
        assert_refused(&none, "Choose a rating from 1 to 5");
        assert!(none.html.contains("Slow"));
        let rated = submit(
            &app,
            &rate,
            &hank,
            &[
                ("_csrf", csrf.as_str()),
                ("score", "2"),
                ("comment", "Slow"),
            ],
        )
        .await;
        assert_eq!(rated.status, StatusCode::SEE_OTHER, "{}", rated.html);
        let changed = submit(
            &app,
            &rate,
            &hank,
            &[("_csrf", csrf.as_str()), ("score", "4"), ("comment", "")],
        )
        .await;
        assert_eq!(changed.status, StatusCode::SEE_OTHER);
        let view = page(&app, &url, &hank).await;
        assert!(view.html.contains("You rated this 4 / 5"));

        // Someone else's incident: not found, nothing rated.
        let (ivy, ivy_csrf) = sign_in(&app, "ivy@acme.test").await;
        let refused = submit(
            &app,
            &rate,
            &ivy,
            &[("_csrf", ivy_csrf.as_str()), ("score", "1")],
        )
        .await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND);

        // The agent's page shows the rating; the satisfaction page counts it.
        let (max, _) = sign_in(&app, "max@acme.test").await;
        let agent_view = page(&app, &format!("/incidents/{}", incident.key()), &max).await;
        assert!(
            agent_view.html.contains("Requester&#x27;s rating")
                || agent_view.html.contains("Requester's rating")
        );
        assert!(agent_view.html.contains("4 / 5"));
        let satisfaction = page(&app, "/satisfaction", &max).await;
        assert_eq!(satisfaction.status, StatusCode::OK);
        assert!(
            satisfaction
                .html
                .contains("Ticket ratings, last twelve months")
        );
        assert!(satisfaction.html.contains("4.00"));
    }
);
