//! `/api/v1/sla/agreements` and the clocks they run on incidents and requests.

use super::api::{TestApp, app, is_problem};
use super::categories::field_of;
use axum::http::{Method, StatusCode};
use jiff::Timestamp;
use serde_json::{Value, json};
use steward_domain::access::Role;
use steward_server::jobs::Runner;
use steward_store::{Store, both_backends};

fn standard() -> Value {
    json!({
        "name": "Standard",
        "kind": "sla",
        "targets": [
            {"metric": "first_response", "minutes": 30},
            {"metric": "resolution", "priority": "P1", "minutes": 20},
            {"metric": "resolution", "minutes": 60}
        ]
    })
}

async fn create_standard(app: &TestApp, escalate_to_team: Option<i64>) -> i64 {
    let mut body = standard();
    if let Some(team) = escalate_to_team {
        body["escalations"] = json!([{"on": "breach", "reassign_team_id": team}]);
    }
    let created = app
        .post("/api/v1/sla/agreements", Role::Manager, body)
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    created.body["id"].as_i64().expect("id")
}

fn micros(rfc3339: &Value) -> i64 {
    rfc3339
        .as_str()
        .and_then(|s| s.parse::<Timestamp>().ok())
        .map(|t| t.as_microsecond())
        .expect("an RFC 3339 instant")
}

fn clock<'a>(incident: &'a Value, target: &str) -> &'a Value {
    incident["sla"]
        .as_array()
        .and_then(|clocks| clocks.iter().find(|c| c["target"] == target))
        .unwrap_or_else(|| panic!("no {target} clock in {incident}"))
}

both_backends!(agreements_round_trip, |store: Store| async move {
    let app = app(store).await;
    let id = create_standard(&app, None).await;
    let got = app
        .get(&format!("/api/v1/sla/agreements/{id}"), Role::Agent)
        .await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    assert_eq!(got.body["name"], "Standard");
    assert_eq!(got.body["warn_percent"], 75);
    assert_eq!(got.body["pause_in"], json!(["pending:awaiting_customer"]));
    assert_eq!(got.body["start_in"], json!([]));
    let list = app.get("/api/v1/sla/agreements", Role::Agent).await;
    assert_eq!(list.body["items"].as_array().map(Vec::len), Some(1));

    let mut changed = standard();
    changed["warn_percent"] = json!(50);
    let replaced = app
        .put(
            &format!("/api/v1/sla/agreements/{id}"),
            Role::Manager,
            changed.clone(),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text);
    assert_eq!(replaced.body["warn_percent"], 50);

    let refused = app
        .put(
            &format!("/api/v1/sla/agreements/{id}"),
            Role::Agent,
            changed,
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let hidden = app.get("/api/v1/sla/agreements", Role::Requester).await;
    assert_eq!(hidden.status, StatusCode::FORBIDDEN);
    let other = app
        .call(
            Method::GET,
            &format!("/api/v1/sla/agreements/{id}"),
            Some(&app.outsider),
            None,
        )
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);

    let bad = app
        .post(
            "/api/v1/sla/agreements",
            Role::Manager,
            json!({"name": "Empty", "kind": "sla", "targets": []}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    assert!(is_problem(&bad));
    assert_eq!(field_of(&bad.body), vec!["targets".to_owned()]);
    let unknown_team = app
        .post(
            "/api/v1/sla/agreements",
            Role::Manager,
            json!({"name": "Desk OLA", "kind": "ola", "team_id": 999, "targets": [{"metric": "resolution", "minutes": 5}]}),
        )
        .await;
    assert_eq!(
        field_of(&unknown_team.body),
        vec!["team_id".to_owned()],
        "{}",
        unknown_team.text
    );
    assert_eq!(
        app.get("/api/v1/sla/agreements", Role::Agent).await.body["items"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "refused agreements change nothing"
    );
});

both_backends!(incidents_carry_their_clocks, |store: Store| async move {
    let app = app(store).await;
    create_standard(&app, None).await;
    let created = app
        .post(
            "/api/v1/incidents",
            Role::Agent,
            json!({"title": "VPN down", "urgency": "high", "impact": "high"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let key = created.body["key"].as_str().expect("key").to_owned();
    let got = app
        .get(&format!("/api/v1/incidents/{key}"), Role::Agent)
        .await;
    let opened = micros(&got.body["opened_at"]);
    let resolution = clock(&got.body, "resolution");
    assert_eq!(resolution["state"], "running");
    assert_eq!(resolution["target_minutes"], 20, "high × high is P1");
    assert_eq!(micros(&resolution["due_at"]), opened + 20 * 60_000_000);
    assert_eq!(resolution["agreement"], "Standard");
    assert_eq!(resolution["calendar"], "24×7");
    assert!(
        resolution["remaining_minutes"]
            .as_i64()
            .is_some_and(|m| (19..=20).contains(&m))
    );
    assert_eq!(
        resolution["rule"]["pauses"],
        "status is pending awaiting customer"
    );

    let paused = app
        .patch(
            &format!("/api/v1/incidents/{key}"),
            Role::Agent,
            json!({"status": "pending", "pending_reason": "awaiting_customer"}),
        )
        .await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.text);
    let clocks = app
        .get(&format!("/api/v1/incidents/{key}/sla"), Role::Agent)
        .await;
    let resolution = clocks
        .body
        .as_array()
        .and_then(|c| c.iter().find(|c| c["target"] == "resolution"))
        .expect("clock");
    assert_eq!(resolution["state"], "paused");
    assert_eq!(resolution["due_at"], Value::Null);
    assert_eq!(resolution["pauses"][0]["why"], "pending: awaiting customer");

    let mine = app
        .post(
            "/api/v1/incidents",
            Role::Requester,
            json!({"title": "My laptop"}),
        )
        .await;
    let own = app
        .get(
            &format!(
                "/api/v1/incidents/{}",
                mine.body["key"].as_str().expect("key")
            ),
            Role::Requester,
        )
        .await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(
        own.body.get("sla").is_none(),
        "requesters do not see clocks: {}",
        own.text
    );
    let list = app.get("/api/v1/incidents", Role::Agent).await;
    assert!(
        list.body["items"][0].get("sla").is_none(),
        "lists stay lean"
    );
});

both_backends!(
    breaches_are_explained_excluded_and_escalated,
    |store: Store| async move {
        let app = app(store).await;
        let team = app
            .post(
                "/api/v1/teams",
                Role::Admin,
                json!({"name": "Major incidents"}),
            )
            .await;
        let team_id = team.body["id"].as_i64().expect("team");
        create_standard(&app, Some(team_id)).await;
        let two_hours_ago = Timestamp::now() - jiff::SignedDuration::from_hours(2);
        let created = app
            .post(
                "/api/v1/incidents",
                Role::Admin,
                json!({"title": "Payroll run failed", "opened_at": two_hours_ago.to_string()}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let key = created.body["key"].as_str().expect("key").to_owned();
        let got = app
            .get(&format!("/api/v1/incidents/{key}"), Role::Agent)
            .await;
        let resolution = clock(&got.body, "resolution");
        assert_eq!(resolution["state"], "breached");
        assert!(
            resolution["remaining_minutes"]
                .as_i64()
                .is_some_and(|m| m <= -60)
        );
        let clock_id = resolution["id"].as_i64().expect("clock id");

        let ran = Runner::new(app.store.clone(), "test-node")
            .run_once()
            .await
            .expect("jobs");
        assert!(ran >= 1);
        let after = app
            .get(&format!("/api/v1/incidents/{key}"), Role::Agent)
            .await;
        assert_eq!(
            after.body["assignee_team_id"], team_id,
            "the breach escalated: {}",
            after.text
        );
        assert!(clock(&after.body, "resolution")["breach_noted_at"].is_string());

        let path = format!("/api/v1/incidents/{key}/sla/{clock_id}/breach-reason");
        let reasoned = app
            .put(&path, Role::Agent, json!({"reason": "Bank interface down"}))
            .await;
        assert_eq!(reasoned.status, StatusCode::OK, "{}", reasoned.text);
        assert_eq!(reasoned.body["breach_reason"], "Bank interface down");
        let by_requester = app
            .put(&path, Role::Requester, json!({"reason": "x"}))
            .await;
        assert_eq!(by_requester.status, StatusCode::FORBIDDEN);

        let exclusion = format!("/api/v1/incidents/{key}/sla/exclusion");
        let blank = app
            .put(&exclusion, Role::Agent, json!({"reason": " "}))
            .await;
        assert_eq!(
            blank.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            blank.text
        );
        let excluded = app
            .put(
                &exclusion,
                Role::Agent,
                json!({"reason": "Bank-wide outage"}),
            )
            .await;
        assert_eq!(excluded.body["excluded"], "Bank-wide outage");
        assert_eq!(
            clock(
                &app.get(&format!("/api/v1/incidents/{key}"), Role::Agent)
                    .await
                    .body,
                "resolution"
            )["excluded"],
            "Bank-wide outage"
        );
        let included = app.delete(&exclusion, Role::Agent).await;
        assert_eq!(included.status, StatusCode::OK, "{}", included.text);
        assert_eq!(included.body["excluded"], Value::Null);
        let missing = app
            .put(
                "/api/v1/incidents/INC-999/sla/exclusion",
                Role::Agent,
                json!({"reason": "x"}),
            )
            .await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
    }
);

both_backends!(requests_run_fulfilment_clocks, |store: Store| async move {
    let app = app(store).await;
    let agreement = app
        .post(
            "/api/v1/sla/agreements",
            Role::Manager,
            json!({"name": "Requests", "kind": "sla", "record_kind": "request",
                   "targets": [{"metric": "resolution", "minutes": 480}]}),
        )
        .await;
    assert_eq!(agreement.status, StatusCode::CREATED, "{}", agreement.text);
    let item = app
        .post(
            "/api/v1/catalogue-items",
            Role::Admin,
            json!({"name": "New laptop", "fields": []}),
        )
        .await;
    assert_eq!(item.status, StatusCode::CREATED, "{}", item.text);
    let request = app
        .post(
            "/api/v1/requests",
            Role::Requester,
            json!({"item_id": item.body["id"], "answers": {}}),
        )
        .await;
    assert_eq!(request.status, StatusCode::CREATED, "{}", request.text);
    let key = request.body["key"].as_str().expect("key");
    let got = app
        .get(&format!("/api/v1/requests/{key}"), Role::Agent)
        .await;
    let fulfilment = clock(&got.body, "resolution");
    assert_eq!(fulfilment["state"], "running");
    assert_eq!(fulfilment["target_minutes"], 480);
    let own = app
        .get(&format!("/api/v1/requests/{key}"), Role::Requester)
        .await;
    assert!(own.body.get("sla").is_none());
});
