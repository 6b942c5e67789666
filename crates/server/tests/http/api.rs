//! HTTP behaviour through the real router (no sockets), on SQLite and PostgreSQL.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::collections::HashMap;
use steward_domain::access::Role;
use steward_domain::tenant::new_tenant;
use steward_domain::user::UserDraft;
use steward_server::{AppState, ServerConfig, router};
use steward_store::{Actor, Store, both_backends};
use tower::ServiceExt;

pub struct TestApp {
    router: Router,
    pub store: Store,
    pub tenant_id: i64,
    /// A token per role in tenant A.
    tokens: HashMap<Role, String>,
    /// An admin token of tenant B.
    pub outsider: String,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
    /// The body exactly as sent.
    pub raw: Vec<u8>,
}

pub async fn app(store: Store) -> TestApp {
    let config = ServerConfig {
        max_body_bytes: 64 * 1024,
        ..ServerConfig::default()
    };
    app_with(store, config).await
}

/// `app` with other server settings.
pub async fn app_with(store: Store, config: ServerConfig) -> TestApp {
    let tenant = store
        .create_tenant(&new_tenant("Acme").expect("name"), &Actor::cli())
        .await
        .expect("tenant");
    let mut tokens = HashMap::new();
    for role in Role::ALL {
        let draft = UserDraft {
            email: format!("{role}@acme.test"),
            name: format!("The {role}"),
            role,
            active: true,
        };
        let user = store
            .create_user(tenant.id, &draft, None, &Actor::cli())
            .await
            .expect("user");
        let (_, secret) = store
            .create_token(tenant.id, user.id, "test", &Actor::cli())
            .await
            .expect("token");
        tokens.insert(role, secret);
    }
    let other = store
        .create_tenant(&new_tenant("Other").expect("name"), &Actor::cli())
        .await
        .expect("tenant");
    let draft = UserDraft {
        email: "boss@other.test".into(),
        name: "Boss".into(),
        role: Role::Admin,
        active: true,
    };
    let boss = store
        .create_user(other.id, &draft, None, &Actor::cli())
        .await
        .expect("user");
    let (_, outsider) = store
        .create_token(other.id, boss.id, "test", &Actor::cli())
        .await
        .expect("token");
    TestApp {
        router: router(AppState::new(store.clone(), config)),
        store,
        tenant_id: tenant.id,
        tokens,
        outsider,
    }
}

impl TestApp {
    /// The id of the tenant A user who holds `role`.
    pub async fn user_id(&self, role: Role) -> i64 {
        self.get("/api/v1/me", role).await.body["id"]
            .as_i64()
            .expect("id")
    }

    pub fn token(&self, role: Role) -> &str {
        &self.tokens[&role]
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("response");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
            raw: bytes.to_vec(),
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(json) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        self.send(request.body(body).expect("request")).await
    }

    pub async fn get(&self, path: &str, role: Role) -> Reply {
        self.call(Method::GET, path, Some(self.token(role)), None)
            .await
    }

    pub async fn post(&self, path: &str, role: Role, body: Value) -> Reply {
        self.call(Method::POST, path, Some(self.token(role)), Some(body))
            .await
    }

    pub async fn put(&self, path: &str, role: Role, body: Value) -> Reply {
        self.call(Method::PUT, path, Some(self.token(role)), Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, role: Role, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(self.token(role)), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, role: Role) -> Reply {
        self.call(Method::DELETE, path, Some(self.token(role)), None)
            .await
    }

    async fn service_count(&self) -> usize {
        self.get("/api/v1/services?limit=500", Role::Admin)
            .await
            .body["items"]
            .as_array()
            .map_or(0, Vec::len)
    }
}

pub fn is_problem(reply: &Reply) -> bool {
    reply
        .headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v == "application/problem+json")
        && reply.body["status"].as_u64() == Some(u64::from(reply.status.as_u16()))
}

both_backends!(services_round_trip, |store: Store| async move {
    let app = app(store).await;
    let created = app
        .post(
            "/api/v1/services",
            Role::Manager,
            json!({"name": "Payroll", "criticality": "high"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["criticality"], "high");
    assert_eq!(created.body["status"], "pipeline");
    let id = created.body["id"].as_i64().expect("id");

    let got = app
        .get(&format!("/api/v1/services/{id}"), Role::Requester)
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body["name"], "Payroll");
    assert!(
        got.body["created_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );

    let patched = app
        .patch(
            &format!("/api/v1/services/{id}"),
            Role::Admin,
            json!({"status": "live", "description": "Monthly run"}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(patched.body["status"], "live");
    assert_eq!(patched.body["name"], "Payroll");

    let owner = app.get("/api/v1/me", Role::Manager).await.body["id"]
        .as_i64()
        .expect("me");
    let owned = app
        .patch(
            &format!("/api/v1/services/{id}"),
            Role::Admin,
            json!({"owner_id": owner}),
        )
        .await;
    assert_eq!(owned.body["owner_id"], owner);
    let cleared = app
        .patch(
            &format!("/api/v1/services/{id}"),
            Role::Admin,
            json!({"owner_id": null}),
        )
        .await;
    assert_eq!(cleared.body["owner_id"], Value::Null);

    assert_eq!(
        app.delete(&format!("/api/v1/services/{id}"), Role::Manager)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let gone = app
        .get(&format!("/api/v1/services/{id}"), Role::Admin)
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert!(is_problem(&gone));

    let journal = app
        .get(
            &format!("/api/v1/journal?record_type=service&record_id={id}"),
            Role::Auditor,
        )
        .await;
    let actions: Vec<&str> = journal.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, ["delete", "update", "update", "update", "create"]);
    assert_eq!(journal.body["items"][4]["actor"], "manager@acme.test");
});

both_backends!(lists_are_paged_and_filtered, |store: Store| async move {
    let app = app(store).await;
    for (name, criticality) in [
        ("Alpha", "high"),
        ("Bravo", "low"),
        ("Charlie", "high"),
        ("Delta", "high"),
        ("Echo", "medium"),
    ] {
        let r = app
            .post(
                "/api/v1/services",
                Role::Admin,
                json!({"name": name, "criticality": criticality}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let first = app.get("/api/v1/services?limit=2", Role::Agent).await;
    let names = |r: &Reply| {
        r.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|s| s["name"].as_str().unwrap_or("").to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&first), ["Alpha", "Bravo"]);
    let cursor = first.body["next_cursor"]
        .as_str()
        .expect("cursor")
        .to_owned();
    let second = app
        .get(
            &format!("/api/v1/services?limit=2&cursor={cursor}"),
            Role::Agent,
        )
        .await;
    assert_eq!(names(&second), ["Charlie", "Delta"]);
    let high = app
        .get("/api/v1/services?criticality=high&sort=-name", Role::Agent)
        .await;
    assert_eq!(names(&high), ["Delta", "Charlie", "Alpha"]);
    assert_eq!(high.body["next_cursor"], Value::Null);
    for bad in [
        "/api/v1/services?limit=abc",
        "/api/v1/services?criticality=urgent",
        "/api/v1/services?cursor=zz",
        "/api/v1/services?sort=secret",
    ] {
        let r = app.get(bad, Role::Agent).await;
        assert!(r.status.is_client_error(), "{bad}: {}", r.status);
        assert!(is_problem(&r), "{bad}");
    }
});

both_backends!(
    bad_input_is_rejected_and_changes_nothing,
    |store: Store| async move {
        let app = app(store).await;
        let cases = [
            (json!({"name": "  "}), "name"),
            (json!({"description": "no name"}), "name"),
            (json!({"name": "X", "colour": "red"}), "colour"),
            (json!({"name": 5}), "name"),
            (json!({"name": "X", "criticality": "urgent"}), "criticality"),
            (json!({"name": "X", "owner_id": 999_999}), "owner_id"),
        ];
        for (body, field) in cases {
            let r = app
                .post("/api/v1/services", Role::Admin, body.clone())
                .await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{body}: {}",
                r.text
            );
            assert!(is_problem(&r));
            assert_eq!(r.body["errors"][0]["field"], field, "{body}: {}", r.text);
        }
        let malformed = app
            .send(
                Request::post("/api/v1/services")
                    .header(
                        header::AUTHORIZATION,
                        format!("Bearer {}", app.token(Role::Admin)),
                    )
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from("{\"name\": "))
                    .expect("request"),
            )
            .await;
        assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
        let wrong_type = app
            .send(
                Request::post("/api/v1/services")
                    .header(
                        header::AUTHORIZATION,
                        format!("Bearer {}", app.token(Role::Admin)),
                    )
                    .header(header::CONTENT_TYPE, "text/plain")
                    .body(Body::from("name=x"))
                    .expect("request"),
            )
            .await;
        assert_eq!(wrong_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let huge = json!({"name": "X", "description": "a".repeat(100 * 1024)});
        let too_big = app.post("/api/v1/services", Role::Admin, huge).await;
        assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            app.service_count().await,
            0,
            "nothing may have been created"
        );
        let journal = app
            .get("/api/v1/journal?record_type=service", Role::Auditor)
            .await;
        assert_eq!(journal.body["items"].as_array().map(Vec::len), Some(0));
    }
);

both_backends!(other_tenants_get_404, |store: Store| async move {
    let app = app(store).await;
    let created = app
        .post("/api/v1/services", Role::Admin, json!({"name": "Secret"}))
        .await;
    let id = created.body["id"].as_i64().expect("id");
    let path = format!("/api/v1/services/{id}");
    let outsider = Some(app.outsider.as_str());
    assert_eq!(
        app.call(Method::GET, &path, outsider, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.call(
            Method::PATCH,
            &path,
            outsider,
            Some(json!({"name": "Mine"}))
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.call(Method::DELETE, &path, outsider, None).await.status,
        StatusCode::NOT_FOUND
    );
    let listed = app
        .call(Method::GET, "/api/v1/services", outsider, None)
        .await;
    assert_eq!(listed.body["items"], json!([]));
    let journal = app
        .call(Method::GET, "/api/v1/journal", outsider, None)
        .await;
    assert!(
        journal.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|e| e["record_type"] != "service")
    );
    assert_eq!(app.get(&path, Role::Admin).await.body["name"], "Secret");
});

both_backends!(roles_are_enforced, |store: Store| async move {
    let app = app(store).await;
    let expectations: [(Method, &str, Role, StatusCode); 12] = [
        (
            Method::POST,
            "/api/v1/services",
            Role::Auditor,
            StatusCode::FORBIDDEN,
        ),
        (
            Method::POST,
            "/api/v1/services",
            Role::Agent,
            StatusCode::FORBIDDEN,
        ),
        (
            Method::POST,
            "/api/v1/services",
            Role::Requester,
            StatusCode::FORBIDDEN,
        ),
        (
            Method::GET,
            "/api/v1/customers",
            Role::Requester,
            StatusCode::FORBIDDEN,
        ),
        (
            Method::GET,
            "/api/v1/journal",
            Role::Agent,
            StatusCode::FORBIDDEN,
        ),
        (
            Method::GET,
            "/api/v1/journal",
            Role::Auditor,
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/users",
            Role::Requester,
            StatusCode::FORBIDDEN,
        ),
        (
            Method::POST,
            "/api/v1/users",
            Role::Manager,
            StatusCode::FORBIDDEN,
        ),
        (
            Method::POST,
            "/api/v1/teams",
            Role::Agent,
            StatusCode::FORBIDDEN,
        ),
        (
            Method::POST,
            "/api/v1/customers",
            Role::Auditor,
            StatusCode::FORBIDDEN,
        ),
        (
            Method::POST,
            "/api/v1/customers",
            Role::Agent,
            StatusCode::CREATED,
        ),
        (
            Method::GET,
            "/api/v1/services",
            Role::Requester,
            StatusCode::OK,
        ),
    ];
    for (method, path, role, expected) in expectations {
        let body = match (method == Method::POST, path) {
            (false, _) => None,
            (true, "/api/v1/users") => Some(json!({"email": "new@acme.test", "role": "agent"})),
            (true, _) => Some(json!({"name": "Thing"})),
        };
        let r = app
            .call(method.clone(), path, Some(app.token(role)), body)
            .await;
        assert_eq!(r.status, expected, "{method} {path} as {role}: {}", r.text);
        if expected == StatusCode::FORBIDDEN {
            assert!(is_problem(&r));
        }
    }
    let anonymous = app.call(Method::GET, "/api/v1/services", None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert!(is_problem(&anonymous));
    let forged = app
        .call(Method::GET, "/api/v1/services", Some("stw_forged"), None)
        .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
});

both_backends!(customers_and_contacts, |store: Store| async move {
    let app = app(store).await;
    let c = app
        .post(
            "/api/v1/customers",
            Role::Agent,
            json!({"name": "Globex", "notes": "Big"}),
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED);
    let id = c.body["id"].as_i64().expect("id");
    let contact = app
        .post(
            &format!("/api/v1/customers/{id}/contacts"),
            Role::Agent,
            json!({"name": "Hank", "email": "HANK@globex.test"}),
        )
        .await;
    assert_eq!(contact.status, StatusCode::CREATED, "{}", contact.text);
    assert_eq!(contact.body["email"], "hank@globex.test");
    let cid = contact.body["id"].as_i64().expect("id");
    let bad = app
        .post(
            &format!("/api/v1/customers/{id}/contacts"),
            Role::Agent,
            json!({"name": "X", "email": "nope"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.body["errors"][0]["field"], "email");
    let renamed = app
        .patch(
            &format!("/api/v1/customers/{id}/contacts/{cid}"),
            Role::Agent,
            json!({"name": "Hank Scorpio"}),
        )
        .await;
    assert_eq!(renamed.body["name"], "Hank Scorpio");
    let listed = app
        .get(&format!("/api/v1/customers/{id}/contacts"), Role::Auditor)
        .await;
    assert_eq!(listed.body.as_array().map(Vec::len), Some(1));
    assert_eq!(
        app.get(
            &format!("/api/v1/customers/{id}/contacts/{cid}"),
            Role::Auditor
        )
        .await
        .body["name"],
        "Hank Scorpio"
    );
    assert_eq!(
        app.delete(
            &format!("/api/v1/customers/{id}/contacts/{cid}"),
            Role::Agent
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.patch(
            &format!("/api/v1/customers/{id}"),
            Role::Agent,
            json!({"name": "Globex Corp"})
        )
        .await
        .body["name"],
        "Globex Corp"
    );
    assert_eq!(
        app.delete(&format!("/api/v1/customers/{id}"), Role::Manager)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&format!("/api/v1/customers/{id}"), Role::Agent)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
});

both_backends!(teams_and_users, |store: Store| async move {
    let app = app(store).await;
    let created = app.post("/api/v1/users", Role::Admin, json!({"email": "New.Person@acme.test", "role": "agent", "password": "long enough password"})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["email"], "new.person@acme.test");
    assert_eq!(created.body["name"], "New Person");
    let uid = created.body["id"].as_i64().expect("id");
    let dup = app
        .post(
            "/api/v1/users",
            Role::Admin,
            json!({"email": "new.person@acme.test", "role": "agent"}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::UNPROCESSABLE_ENTITY);
    let short = app
        .post(
            "/api/v1/users",
            Role::Admin,
            json!({"email": "x@acme.test", "role": "agent", "password": "short"}),
        )
        .await;
    assert_eq!(short.body["errors"][0]["field"], "password");
    let bad_role = app
        .post(
            "/api/v1/users",
            Role::Admin,
            json!({"email": "y@acme.test", "role": "root"}),
        )
        .await;
    assert_eq!(bad_role.status, StatusCode::UNPROCESSABLE_ENTITY);

    let team = app
        .post(
            "/api/v1/teams",
            Role::Manager,
            json!({"name": "Service Desk", "members": [uid]}),
        )
        .await;
    assert_eq!(team.status, StatusCode::CREATED, "{}", team.text);
    assert_eq!(team.body["members"], json!([uid]));
    let tid = team.body["id"].as_i64().expect("id");
    let cleared = app
        .patch(
            &format!("/api/v1/teams/{tid}"),
            Role::Manager,
            json!({"members": []}),
        )
        .await;
    assert_eq!(cleared.body["members"], json!([]));
    let foreign = app
        .patch(
            &format!("/api/v1/teams/{tid}"),
            Role::Manager,
            json!({"members": [999_999]}),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::UNPROCESSABLE_ENTITY);

    let me = app.get("/api/v1/me", Role::Admin).await.body["id"]
        .as_i64()
        .expect("me");
    let demote = app
        .patch(
            &format!("/api/v1/users/{me}"),
            Role::Admin,
            json!({"role": "agent"}),
        )
        .await;
    assert_eq!(
        demote.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "admins cannot lock themselves out"
    );
    assert_eq!(
        app.delete(&format!("/api/v1/users/{uid}"), Role::Admin)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&format!("/api/v1/users/{uid}"), Role::Agent)
            .await
            .body["active"],
        false
    );
    let filtered = app.get("/api/v1/users?role=auditor", Role::Auditor).await;
    assert_eq!(filtered.body["items"].as_array().map(Vec::len), Some(1));
});

both_backends!(
    tokens_can_be_created_and_revoked,
    |store: Store| async move {
        let app = app(store).await;
        let created = app
            .post("/api/v1/tokens", Role::Agent, json!({"name": "script"}))
            .await;
        assert_eq!(created.status, StatusCode::CREATED);
        let secret = created.body["secret"].as_str().expect("secret").to_owned();
        let id = created.body["token"]["id"].as_i64().expect("id");
        assert_eq!(
            app.call(Method::GET, "/api/v1/me", Some(&secret), None)
                .await
                .body["email"],
            "agent@acme.test"
        );
        let mine = app.get("/api/v1/tokens", Role::Agent).await;
        assert_eq!(
            mine.body.as_array().map(Vec::len),
            Some(2),
            "agents see only their own tokens"
        );
        assert!(!mine.text.contains(&secret), "secrets are never listed");
        let all = app.get("/api/v1/tokens", Role::Admin).await;
        assert_eq!(all.body.as_array().map(Vec::len), Some(6));
        assert_eq!(
            app.delete(&format!("/api/v1/tokens/{id}"), Role::Auditor)
                .await
                .status,
            StatusCode::NOT_FOUND,
            "not their token"
        );
        assert_eq!(
            app.delete(&format!("/api/v1/tokens/{id}"), Role::Agent)
                .await
                .status,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            app.call(Method::GET, "/api/v1/me", Some(&secret), None)
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
);

both_backends!(
    password_change_checks_the_current_one,
    |store: Store| async move {
        let app = app(store).await;
        let set = app
            .post(
                "/api/v1/me/password",
                Role::Agent,
                json!({"current_password": "", "new_password": "a brand new secret"}),
            )
            .await;
        assert_eq!(
            set.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "no password yet, so no current one matches"
        );
        let user = app
            .store
            .user_by_email(app.tenant_id, "agent@acme.test")
            .await
            .expect("user");
        let hash = steward_server::auth::hash_password("first password here".into())
            .await
            .expect("hash");
        app.store
            .set_password(app.tenant_id, user.id, &hash, None, &Actor::cli())
            .await
            .expect("set");
        let wrong = app
            .post(
                "/api/v1/me/password",
                Role::Agent,
                json!({"current_password": "nope", "new_password": "a brand new secret"}),
            )
            .await;
        assert_eq!(wrong.body["errors"][0]["field"], "current_password");
        let weak = app
            .post(
                "/api/v1/me/password",
                Role::Agent,
                json!({"current_password": "first password here", "new_password": "short"}),
            )
            .await;
        assert_eq!(weak.body["errors"][0]["field"], "new_password");
        let ok = app.post("/api/v1/me/password", Role::Agent, json!({"current_password": "first password here", "new_password": "a brand new secret"})).await;
        assert_eq!(ok.status, StatusCode::NO_CONTENT);
    }
);

both_backends!(operations_endpoints, |store: Store| async move {
    let app = app(store).await;
    let health = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert!(
        health.headers.get("x-request-id").is_some(),
        "every response carries a request id"
    );
    assert_eq!(
        health
            .headers
            .get(header::X_CONTENT_TYPE_OPTIONS)
            .map(|v| v.to_str().unwrap_or("")),
        Some("nosniff")
    );
    assert!(
        health
            .headers
            .get(header::CONTENT_SECURITY_POLICY)
            .is_some()
    );
    assert_eq!(
        app.call(Method::GET, "/readyz", None, None).await.status,
        StatusCode::OK
    );
    app.get("/api/v1/services", Role::Agent).await;
    let metrics = app.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(metrics.status, StatusCode::OK);
    for needle in [
        "steward_http_requests_total",
        "steward_http_request_duration_seconds_bucket",
        "route=\"/api/v1/services\"",
        "steward_jobs",
        "steward_db_connections",
    ] {
        assert!(metrics.text.contains(needle), "metrics lack {needle}");
    }
    let missing = app.get("/api/v1/nothing-here", Role::Admin).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(is_problem(&missing));
});

#[tokio::test]
async fn openapi_covers_every_route() {
    let doc = steward_server::api::openapi();
    let json = serde_json::to_value(&*doc).expect("json");
    assert!(
        json["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1"))
    );
    let paths = json["paths"].as_object().expect("paths");
    let expected = [
        ("/services", vec!["get", "post"]),
        ("/services/{id}", vec!["get", "patch", "delete"]),
        ("/customers", vec!["get", "post"]),
        ("/customers/{id}", vec!["get", "patch", "delete"]),
        ("/customers/{id}/contacts", vec!["get", "post"]),
        (
            "/customers/{id}/contacts/{contact_id}",
            vec!["get", "patch", "delete"],
        ),
        ("/teams", vec!["get", "post"]),
        ("/teams/{id}", vec!["get", "patch", "delete"]),
        ("/users", vec!["get", "post"]),
        ("/users/{id}", vec!["get", "patch", "delete"]),
        ("/tokens", vec!["get", "post"]),
        ("/tokens/{id}", vec!["delete"]),
        ("/incidents", vec!["get", "post"]),
        ("/incidents/bulk", vec!["post"]),
        ("/incidents/{key}", vec!["get", "patch"]),
        ("/sla/agreements", vec!["get", "post"]),
        ("/sla/agreements/{id}", vec!["get", "put"]),
        ("/incidents/{key}/sla", vec!["get"]),
        ("/incidents/{key}/sla/exclusion", vec!["put", "delete"]),
        ("/incidents/{key}/sla/{clock_id}/breach-reason", vec!["put"]),
        ("/requests/{key}/sla", vec!["get"]),
        ("/requests/{key}/sla/exclusion", vec!["put", "delete"]),
        ("/requests/{key}/sla/{clock_id}/breach-reason", vec!["put"]),
        ("/incidents/{key}/comments", vec!["get", "post"]),
        ("/incidents/{key}/attachments", vec!["get", "post"]),
        ("/incidents/{key}/attachments/{id}", vec!["get"]),
        ("/incidents/{key}/watchers", vec!["get", "post"]),
        ("/incidents/{key}/watchers/{id}", vec!["delete"]),
        ("/incidents/{key}/major", vec!["get", "post", "delete"]),
        ("/incidents/{key}/communications", vec!["get", "post"]),
        ("/incidents/{key}/review", vec!["get", "put"]),
        ("/incidents/{key}/links", vec!["get", "post"]),
        ("/incidents/{key}/cis", vec!["get", "put"]),
        ("/catalogue-items", vec!["get", "post"]),
        ("/catalogue-items/{id}", vec!["get", "put"]),
        ("/requests", vec!["get", "post"]),
        ("/requests/{key}", vec!["get", "patch"]),
        ("/requests/{key}/approvals", vec!["post"]),
        ("/requests/{key}/tasks/{task_id}/complete", vec!["post"]),
        ("/problems", vec!["get", "post"]),
        ("/problems/candidates", vec!["get"]),
        ("/problems/{key}", vec!["get", "patch"]),
        ("/problems/{key}/links", vec!["get", "post"]),
        ("/problems/{key}/cis", vec!["get", "put"]),
        ("/known-errors", vec!["get"]),
        ("/known-errors/{key}", vec!["get", "patch"]),
        ("/imports/{kind}", vec!["post"]),
        ("/knowledge", vec!["get", "post"]),
        ("/knowledge/{key}", vec!["get", "patch"]),
        ("/knowledge/{key}/versions", vec!["get"]),
        ("/search", vec!["get"]),
        ("/settings", vec!["get", "put"]),
        ("/notification-templates", vec!["get"]),
        ("/notification-templates/{event}", vec!["put"]),
        ("/categories", vec!["get", "post"]),
        ("/categories/{id}", vec!["patch"]),
        ("/custom-fields/{kind}", vec!["get", "put"]),
        ("/services/{id}/customers", vec!["get", "put"]),
        ("/ci-classes", vec!["get", "post"]),
        ("/ci-classes/{id}", vec!["get", "put"]),
        ("/ci-relationship-types", vec!["get", "post"]),
        ("/cis", vec!["get", "post"]),
        ("/assets", vec!["get", "post"]),
        ("/assets/expiring", vec!["get"]),
        ("/assets/{id}", vec!["get", "patch"]),
        ("/assets/{id}/transitions", vec!["post"]),
        ("/assets/{id}/cis", vec!["get", "put"]),
        ("/certificates", vec!["get", "post"]),
        ("/certificates/{id}", vec!["get", "patch"]),
        ("/certificates/{id}/status", vec!["post"]),
        ("/certificates/{id}/history", vec!["get"]),
        ("/risks", vec!["get", "post"]),
        ("/risks/heat-map", vec!["get"]),
        ("/risks/{id}", vec!["get", "patch"]),
        ("/risks/{id}/reviews", vec!["get", "post"]),
        ("/risks/{id}/close", vec!["post"]),
        ("/competence/requirements", vec!["get", "post"]),
        ("/competence/requirements/{id}", vec!["put"]),
        ("/competence/records", vec!["get", "post"]),
        ("/competence/records/{id}", vec!["put"]),
        ("/competence/actions", vec!["get", "post"]),
        ("/competence/actions/{id}/complete", vec!["post"]),
        ("/competence/actions/{id}/evaluate", vec!["post"]),
        ("/competence/gaps", vec!["get"]),
        ("/suppliers", vec!["get", "post"]),
        ("/suppliers/{id}", vec!["get", "put"]),
        ("/suppliers/{id}/contracts", vec!["get", "post"]),
        (
            "/suppliers/{id}/contracts/{contract_id}/approve",
            vec!["post"],
        ),
        (
            "/suppliers/{id}/contracts/{contract_id}/reviews",
            vec!["post"],
        ),
        ("/suppliers/{id}/reviews", vec!["get", "post"]),
        ("/suppliers/{id}/disputes", vec!["get", "post"]),
        ("/suppliers/{id}/disputes/{dispute_id}/steps", vec!["post"]),
        ("/suppliers/{id}/ucs", vec!["get", "put"]),
        ("/roles", vec!["get", "post"]),
        ("/roles/{id}", vec!["get", "put"]),
        ("/roles/{id}/assignments", vec!["post"]),
        ("/roles/{id}/assignments/{assignment_id}/end", vec!["post"]),
        ("/raci", vec!["get"]),
        ("/raci/{process}", vec!["put"]),
        ("/objectives", vec!["get", "post"]),
        ("/objectives/{id}", vec!["get", "patch"]),
        ("/objectives/{id}/readings", vec!["get"]),
        ("/objectives/{id}/measurements", vec!["get", "post"]),
        ("/improvements", vec!["get", "post"]),
        ("/improvements/{id}", vec!["get", "patch"]),
        ("/improvements/{id}/steps", vec!["get", "post"]),
        ("/complaints", vec!["get", "post"]),
        ("/complaints/{id}", vec!["get", "patch"]),
        ("/complaints/{id}/transitions", vec!["post"]),
        ("/complaints/{id}/history", vec!["get"]),
        ("/complaints/{id}/escalations", vec!["get", "post"]),
        ("/complaints/{id}/nonconformity", vec!["post"]),
        ("/complaints/{id}/improvement", vec!["post"]),
        ("/satisfaction/surveys", vec!["get", "post"]),
        ("/satisfaction/surveys/{id}", vec!["get"]),
        ("/customers/{id}/reviews", vec!["get", "post"]),
        ("/incidents/{key}/rating", vec!["get", "post"]),
        ("/management-reviews", vec!["get", "post"]),
        ("/management-reviews/{id}", vec!["get", "patch"]),
        ("/management-reviews/{id}/inputs", vec!["get", "post"]),
        ("/management-reviews/{id}/hold", vec!["post"]),
        ("/management-reviews/{id}/close", vec!["post"]),
        ("/management-reviews/{id}/cancel", vec!["post"]),
        ("/management-reviews/{id}/actions", vec!["get", "post"]),
        (
            "/management-reviews/{id}/actions/{action_id}/complete",
            vec!["post"],
        ),
        ("/documents", vec!["get", "post"]),
        ("/documents/{id}", vec!["get", "put"]),
        ("/documents/{id}/withdraw", vec!["post"]),
        ("/documents/{id}/versions", vec!["get", "post"]),
        ("/documents/{id}/versions/{number}", vec!["get", "put"]),
        ("/documents/{id}/versions/{number}/submit", vec!["post"]),
        ("/documents/{id}/versions/{number}/approve", vec!["post"]),
        ("/documents/{id}/versions/{number}/return", vec!["post"]),
        (
            "/documents/{id}/versions/{number}/files",
            vec!["get", "post"],
        ),
        (
            "/documents/{id}/versions/{number}/files/{file_id}",
            vec!["get"],
        ),
        ("/documents/{id}/reviews", vec!["get", "post"]),
        ("/documents/{id}/acknowledgements", vec!["get", "post"]),
        ("/audit-programmes", vec!["get", "post"]),
        ("/audit-programmes/{id}", vec!["get", "put"]),
        ("/audit-programmes/{id}/coverage", vec!["get"]),
        ("/audits", vec!["get", "post"]),
        ("/audits/{id}", vec!["get", "put"]),
        ("/audits/{id}/start", vec!["post"]),
        ("/audits/{id}/report", vec!["post"]),
        ("/audits/{id}/close", vec!["post"]),
        ("/audits/{id}/cancel", vec!["post"]),
        ("/audits/{id}/checklist", vec!["get"]),
        ("/audits/{id}/checklist/{requirement_id}", vec!["put"]),
        ("/audits/{id}/findings", vec!["get", "post"]),
        ("/nonconformities", vec!["get", "post"]),
        ("/nonconformities/{id}", vec!["get", "put"]),
        ("/nonconformities/{id}/actions", vec!["get", "post"]),
        (
            "/nonconformities/{id}/actions/{action_id}/complete",
            vec!["post"],
        ),
        ("/nonconformities/{id}/verification", vec!["get", "post"]),
        ("/nonconformities/{id}/history", vec!["get"]),
        ("/cis/{id}", vec!["get", "put"]),
        ("/cis/{id}/verify", vec!["post"]),
        ("/cis/{id}/relationships", vec!["get"]),
        ("/cis/{id}/impact", vec!["get"]),
        ("/cmdb/health", vec!["get"]),
        ("/ci-relationships", vec!["post"]),
        ("/ci-relationships/{id}", vec!["get", "delete"]),
        ("/ci-baselines", vec!["get", "post"]),
        ("/ci-baselines/{id}", vec!["get"]),
        ("/ci-baselines/{id}/diff/{other_id}", vec!["get"]),
        ("/cis/{id}/as-of", vec!["get"]),
        ("/changes", vec!["get", "post"]),
        ("/changes/schedule", vec!["get"]),
        ("/changes/metrics", vec!["get"]),
        ("/changes.ics", vec!["get"]),
        ("/changes/{key}", vec!["get", "patch"]),
        ("/changes/{key}/transitions", vec!["post"]),
        ("/changes/{key}/risk", vec!["put"]),
        ("/changes/{key}/approvals", vec!["get", "post"]),
        ("/changes/{key}/conflicts", vec!["get"]),
        ("/changes/{key}/impact", vec!["get"]),
        ("/changes/{key}/review", vec!["put"]),
        ("/change-policy", vec!["get", "put"]),
        ("/change-blackouts", vec!["get", "post"]),
        ("/change-blackouts/{id}", vec!["delete"]),
        ("/change-templates", vec!["get", "post"]),
        ("/change-templates/{id}", vec!["patch"]),
        ("/change-delegations", vec!["get", "post"]),
        ("/change-delegations/{id}", vec!["delete"]),
        ("/releases", vec!["get", "post"]),
        ("/releases/{key}", vec!["get", "patch"]),
        ("/releases/{key}/transitions", vec!["post"]),
        ("/releases/{key}/changes", vec!["put"]),
        ("/releases/{key}/known-errors", vec!["put"]),
        ("/releases/{key}/criteria", vec!["post"]),
        ("/releases/{key}/criteria/{id}/sign-off", vec!["post"]),
        ("/releases/{key}/deployments", vec!["get", "post"]),
        ("/releases/{key}/deployments/{id}/outcome", vec!["post"]),
        ("/service-designs", vec!["get", "post"]),
        ("/service-designs/{key}", vec!["get", "patch"]),
        ("/service-designs/{key}/transitions", vec!["post"]),
        ("/service-designs/{key}/accept", vec!["post"]),
        ("/conformance/trend", vec!["get"]),
        ("/conformance/clauses", vec!["get"]),
        ("/conformance/clauses/{id}", vec!["get"]),
        ("/conformance/clauses/{id}/sample", vec!["get"]),
        (
            "/conformance/requirements/{id}/assessments",
            vec!["get", "post"],
        ),
        ("/conformance/evidence-pack", vec!["get"]),
        ("/calendars", vec!["get", "post"]),
        ("/calendars/{id}", vec!["get", "put", "delete"]),
        ("/calendars/{id}/add", vec!["post"]),
        ("/calendars/{id}/between", vec!["post"]),
        ("/calendars/{id}/holidays/ics", vec!["post"]),
        ("/sla/attainment", vec!["get"]),
        ("/sla/breaches", vec!["get"]),
        ("/views", vec!["get", "post"]),
        ("/views/{id}", vec!["delete"]),
        ("/journal", vec!["get"]),
        ("/me", vec!["get"]),
        ("/me/password", vec!["post"]),
    ];
    assert_eq!(
        paths.len(),
        expected.len(),
        "a route is missing from this list or the document: {:?}",
        paths.keys().collect::<Vec<_>>()
    );
    for (path, methods) in expected {
        let item = paths.get(path).unwrap_or_else(|| panic!("{path} missing"));
        for method in methods {
            assert!(item.get(method).is_some(), "{method} {path} missing");
        }
    }
    assert!(json["components"]["securitySchemes"]["bearer"].is_object());
}

both_backends!(openapi_is_served, |store: Store| async move {
    let app = app(store).await;
    let r = app
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["info"]["title"], "Steward API");
});
