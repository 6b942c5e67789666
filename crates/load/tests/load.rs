//! The driver against the real server on a loopback socket, over a fresh SQLite database.

use steward_domain::access::Role;
use steward_domain::service::{Criticality, ServiceDraft, ServiceStatus};
use steward_domain::tenant::new_tenant;
use steward_domain::user::UserDraft;
use steward_load::Options;
use steward_load::scenarios::ScenarioName;
use steward_server::{AppState, ServerConfig};
use steward_store::Actor;
use steward_store::incident::IncidentFilter;
use steward_store::testing::TestDb;

#[tokio::test]
async fn create_then_view_against_a_real_server() {
    let db = TestDb::sqlite().await.expect("database");
    let store = db.store.clone();
    let tenant = store
        .create_tenant(&new_tenant("Load").expect("name"), &Actor::cli())
        .await
        .expect("tenant");
    let agent = UserDraft {
        email: "agent@load.test".into(),
        name: "Load agent".into(),
        role: Role::Agent,
        active: true,
    };
    let user = store
        .create_user(tenant.id, &agent, None, &Actor::cli())
        .await
        .expect("user");
    let (_, token) = store
        .create_token(tenant.id, user.id, "load", &Actor::cli())
        .await
        .expect("token");
    let service = ServiceDraft {
        name: "Printing".into(),
        description: String::new(),
        owner_id: None,
        criticality: Criticality::Medium,
        status: ServiceStatus::Live,
    };
    let service = store
        .create_service(tenant.id, &service, &Actor::cli())
        .await
        .expect("service");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listener");
    let addr = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = AppState::new(store.clone(), ServerConfig::default());
    let server = tokio::spawn(steward_server::serve(listener, state, async {
        let _ = stopped.await;
    }));

    let base_url = format!("http://{addr}");
    let options = Options::from_args([
        "steward-load",
        "--base-url",
        &base_url,
        "--token",
        &token,
        "--scenario",
        "incident.create,incident.view",
        "--concurrency",
        "4",
        "--requests",
        "50",
        "--duration",
        "60",
    ])
    .expect("options");
    let mut lines = Vec::new();
    let outcome = steward_load::run(&options, |f| lines.push(f.summary.to_json_line()))
        .await
        .expect("run");

    assert!(
        outcome.setup_failures.is_empty(),
        "{:?}",
        outcome.setup_failures
    );
    assert_eq!(lines.len(), 2);
    let names: Vec<&str> = outcome
        .figures
        .iter()
        .map(|f| f.summary.scenario.as_str())
        .collect();
    assert_eq!(
        names,
        [
            ScenarioName::IncidentCreate.as_str(),
            ScenarioName::IncidentView.as_str()
        ]
    );
    for f in &outcome.figures {
        let s = &f.summary;
        assert_eq!(
            (s.requests, s.errors),
            (50, 0),
            "{}: {:?}",
            s.scenario,
            f.first_error
        );
        assert_eq!(s.concurrency, 4);
        assert!(s.throughput_per_s > 0.0 && s.p50_ms > 0.0 && s.p50_ms <= s.p99_ms);
    }
    assert!(outcome.passed(0.0));

    // The 50 incidents exist, each with its own title, on the tenant's service.
    let filter = IncidentFilter::default();
    assert_eq!(
        store
            .count_incidents(tenant.id, &filter)
            .await
            .expect("count"),
        50
    );
    let mut titles = std::collections::BTreeSet::new();
    for n in 1..=50 {
        let incident = store
            .incident_by_number(tenant.id, n)
            .await
            .expect("incident");
        assert!(
            incident.title.starts_with("Load test "),
            "{}",
            incident.title
        );
        assert_eq!(incident.service_id, Some(service.id));
        titles.insert(incident.title);
    }
    assert_eq!(titles.len(), 50);

    let _ = stop.send(());
    server.await.expect("server task").expect("server");
    db.finish().await;
}

#[tokio::test]
async fn errors_are_counted_and_a_remote_target_is_refused() {
    // Nothing listens on this port: every request fails, none is fatal.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let addr = listener.local_addr().expect("address");
    drop(listener);
    let base_url = format!("http://{addr}");
    let options = Options::from_args([
        "steward-load",
        "--base-url",
        &base_url,
        "--token",
        "stw_nothing",
        "--scenario",
        "incident.search",
        "--requests",
        "5",
    ])
    .expect("options");
    let outcome = steward_load::run(&options, |_| {}).await.expect("run");
    let s = &outcome.figures[0].summary;
    assert_eq!((s.requests, s.errors), (5, 5));
    assert!(!outcome.passed(options.max_error_rate));

    let remote = Options::from_args([
        "steward-load",
        "--base-url",
        "http://192.0.2.1:8080",
        "--token",
        "t",
    ])
    .expect("options");
    let refused = steward_load::run(&remote, |_| {}).await;
    assert!(
        refused.is_err(),
        "a non-loopback target needs --allow-remote"
    );
}
