//! Browser sessions through the real router: sign-in, CSRF, throttling, sign-out.
//! (Page flows themselves are checked in real Chromium: see e2e/.)

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use steward_domain::access::Role;
use steward_server::{AppState, ServerConfig, router};
use steward_store::{Actor, Store, both_backends};
use tower::ServiceExt;

use super::sla_ui::PASSWORD;
use super::support::tenant_with_people;

async fn app(store: Store, role: Role) -> Router {
    tenant_with_people(&store, "Acme", &[("ann@acme.test", "Ann", role)]).await;
    router(AppState::new(store, ServerConfig::default()))
}

/// A UI response: what the tests look at.
pub struct Page {
    pub status: StatusCode,
    pub location: String,
    pub cookies: Vec<String>,
    pub html: String,
}

pub async fn send(app: &Router, request: Request<Body>) -> Page {
    let response = app.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let location = response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let cookies = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    Page {
        status,
        location,
        cookies,
        html: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

pub fn cookie_value(page: &Page, name: &str) -> Option<String> {
    page.cookies.iter().find_map(|c| {
        c.strip_prefix(&format!("{name}="))
            .map(|rest| rest.split(';').next().unwrap_or("").to_owned())
    })
}

pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    html.split(&marker)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned()
}

pub fn get(path: &str, cookie: &str) -> Request<Body> {
    Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .expect("request")
}

fn post_form(path: &str, cookie: &str, body: &str) -> Request<Body> {
    Request::post(path)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.to_owned()))
        .expect("request")
}

/// Signs in through the form; returns the session cookie header value.
async fn sign_in(app: &Router, password: &str) -> Result<String, Page> {
    let form = send(app, get("/login", "")).await;
    let login_csrf = cookie_value(&form, "steward_login_csrf").expect("login csrf cookie");
    assert_eq!(hidden(&form.html, "_csrf"), login_csrf);
    let body = serde_urlencoded::to_string([
        ("email", "ann@acme.test"),
        ("password", password),
        ("_csrf", &login_csrf),
        ("next", "/services"),
    ])
    .expect("form");
    let reply = send(
        app,
        post_form("/login", &format!("steward_login_csrf={login_csrf}"), &body),
    )
    .await;
    match cookie_value(&reply, "steward_session") {
        Some(session) if reply.status == StatusCode::SEE_OTHER => {
            assert_eq!(reply.location, "/services");
            let set = reply
                .cookies
                .iter()
                .find(|c| c.starts_with("steward_session="))
                .expect("cookie");
            assert!(
                set.contains("HttpOnly") && set.contains("SameSite=Lax"),
                "{set}"
            );
            Ok(format!("steward_session={session}"))
        }
        _ => Err(reply),
    }
}

both_backends!(sign_in_then_use_and_leave, |store: Store| async move {
    let app = app(store, Role::Admin).await;
    let anonymous = send(&app, get("/services", "")).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert!(
        anonymous.location.starts_with("/login?next="),
        "{}",
        anonymous.location
    );

    let session = sign_in(&app, PASSWORD)
        .await
        .unwrap_or_else(|p| panic!("sign-in failed: {} {}", p.status, p.html));
    let list = send(&app, get("/services", &session)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.html.contains("<h1>Services</h1>"));

    let no_csrf = send(
        &app,
        post_form(
            "/services",
            &session,
            "name=Payroll&criticality=high&status=live",
        ),
    )
    .await;
    assert_eq!(
        no_csrf.status,
        StatusCode::FORBIDDEN,
        "a form without the CSRF token is refused"
    );
    let csrf = hidden(
        &send(&app, get("/services/new", &session)).await.html,
        "_csrf",
    );
    let wrong = send(
        &app,
        post_form(
            "/services",
            &session,
            "name=Payroll&criticality=high&status=live&_csrf=forged",
        ),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let created = send(
        &app,
        post_form(
            "/services",
            &session,
            &format!("name=Payroll&criticality=high&status=live&owner_id=&_csrf={csrf}"),
        ),
    )
    .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.html);
    let view = send(&app, get(&created.location, &session)).await;
    assert!(view.html.contains("<h1>Payroll</h1>"));

    let invalid = send(
        &app,
        post_form(
            "/services",
            &session,
            &format!("name=&description=kept+text&criticality=high&status=live&_csrf={csrf}"),
        ),
    )
    .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(invalid.html.contains("Name is required") && invalid.html.contains("kept text"));

    // Session-authenticated API writes need the token as a header.
    let api = Request::post("/api/v1/services")
        .header(header::COOKIE, &session)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"name":"Mail"}"#))
        .expect("request");
    assert_eq!(send(&app, api).await.status, StatusCode::FORBIDDEN);
    let api = Request::post("/api/v1/services")
        .header(header::COOKIE, &session)
        .header("x-csrf-token", &csrf)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"name":"Mail"}"#))
        .expect("request");
    assert_eq!(send(&app, api).await.status, StatusCode::CREATED);

    let out = send(
        &app,
        post_form("/logout", &session, &format!("_csrf={csrf}")),
    )
    .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(
        send(&app, get("/services", &session)).await.status,
        StatusCode::SEE_OTHER,
        "the session is over"
    );
});

both_backends!(login_needs_its_csrf_cookie, |store: Store| async move {
    let app = app(store, Role::Agent).await;
    let body = format!(
        "email=ann%40acme.test&password={}&_csrf=abc",
        PASSWORD.replace(' ', "+")
    );
    let reply = send(&app, post_form("/login", "steward_login_csrf=other", &body)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(cookie_value(&reply, "steward_session").is_none());
});

both_backends!(repeated_failures_are_throttled, |store: Store| async move {
    let app = app(store, Role::Agent).await;
    for _ in 0..5 {
        let reply = sign_in(&app, "wrong password")
            .await
            .expect_err("wrong password");
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert!(reply.html.contains("Invalid email or password"));
    }
    let throttled = sign_in(&app, PASSWORD)
        .await
        .expect_err("locked out even with the right password");
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(throttled.html.contains("Too many failed attempts"));
});

both_backends!(pages_respect_roles, |store: Store| async move {
    let app = app(store, Role::Requester).await;
    let session = sign_in(&app, PASSWORD)
        .await
        .unwrap_or_else(|p| panic!("sign-in failed: {}", p.status));
    assert_eq!(
        send(&app, get("/services", &session)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        send(&app, get("/customers", &session)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(&app, get("/journal", &session)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(&app, get("/services/new", &session)).await.status,
        StatusCode::FORBIDDEN
    );
    let home = send(&app, get("/", &session)).await;
    assert!(
        !home.html.contains("href=\"/users\""),
        "the navigation hides what the role cannot use"
    );
    assert_eq!(
        send(&app, get("/services/999999", &session)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&app, get("/static/steward.css", "")).await.status,
        StatusCode::OK
    );
});

both_backends!(
    admins_manage_teams_and_roles_in_pages,
    |store: Store| async move {
        let app = app(store.clone(), Role::Admin).await;
        let session = sign_in(&app, PASSWORD)
            .await
            .unwrap_or_else(|p| panic!("sign-in failed: {}", p.status));
        let csrf = hidden(&send(&app, get("/teams", &session)).await.html, "_csrf");
        let created = send(
            &app,
            post_form(
                "/teams",
                &session,
                &format!("name=Desk&description=&_csrf={csrf}"),
            ),
        )
        .await;
        assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.html);
        let team_path = created
            .location
            .split('?')
            .next()
            .unwrap_or_default()
            .to_owned();
        let blank = send(
            &app,
            post_form(&team_path, &session, &format!("name=&_csrf={csrf}")),
        )
        .await;
        assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(blank.html.contains("Name is required"));
        let renamed = send(
            &app,
            post_form(
                &team_path,
                &session,
                &format!("name=Service+Desk&description=First+line&_csrf={csrf}"),
            ),
        )
        .await;
        assert_eq!(renamed.status, StatusCode::SEE_OTHER);
        assert!(
            send(&app, get(&team_path, &session))
                .await
                .html
                .contains("<h1>Service Desk</h1>")
        );

        let added = send(
            &app,
            post_form(
                "/users",
                &session,
                &format!("email=bob%40acme.test&name=Bob&role=agent&password=&_csrf={csrf}"),
            ),
        )
        .await;
        assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
        let tenant = store.tenant_by_slug("acme").await.expect("tenant");
        let bob = store
            .user_by_email(tenant.id, "bob@acme.test")
            .await
            .expect("bob");
        let promoted = send(
            &app,
            post_form(
                &format!("/users/{}/role", bob.id),
                &session,
                &format!("role=manager&_csrf={csrf}"),
            ),
        )
        .await;
        assert_eq!(promoted.status, StatusCode::SEE_OTHER);
        assert_eq!(
            store.user(tenant.id, bob.id).await.expect("bob").role,
            Role::Manager
        );
        let members = send(
            &app,
            post_form(
                &format!("{team_path}/members"),
                &session,
                &format!("member={}&_csrf={csrf}", bob.id),
            ),
        )
        .await;
        assert_eq!(members.status, StatusCode::SEE_OTHER);
        let team_id: i64 = team_path
            .rsplit('/')
            .next()
            .and_then(|id| id.parse().ok())
            .expect("team id");
        assert_eq!(
            store
                .team_members(tenant.id, team_id)
                .await
                .expect("members"),
            vec![bob.id]
        );
    }
);

both_backends!(admins_edit_settings_in_a_page, |store: Store| async move {
    let app = app(store.clone(), Role::Admin).await;
    let session = sign_in(&app, PASSWORD)
        .await
        .unwrap_or_else(|p| panic!("sign-in failed: {}", p.status));
    let page = send(&app, get("/settings", &session)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("Priority matrix"));
    let csrf = hidden(&page.html, "_csrf");
    let cells = "m_low_low=P5&m_low_medium=P4&m_low_high=P3&m_medium_low=P4&m_medium_medium=P3&m_medium_high=P2&m_high_low=P2&m_high_medium=P2&m_high_high=P1";
    let bad = send(&app, post_form("/settings", &session, &format!("{cells}&reopen_window_days=soon&candidate_threshold=3&candidate_window_days=7&_csrf={csrf}"))).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.html.contains("must be a whole number") && bad.html.contains("value=\"soon\""),
        "keeps what was typed"
    );
    let ok = send(&app, post_form("/settings", &session, &format!("{cells}&reopen_window_days=14&candidate_threshold=4&candidate_window_days=10&_csrf={csrf}"))).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let tenant = store.tenant_by_slug("acme").await.expect("tenant");
    let saved = store.settings(tenant.id).await.expect("settings");
    assert_eq!(
        (saved.reopen_window_days, saved.candidate_threshold),
        (14, 4)
    );
    assert_eq!(saved.priority_matrix.cells[2][0].as_str(), "P2");
});

both_backends!(
    the_portal_search_suggests_public_answers,
    |store: Store| async move {
        use steward_domain::knowledge::{ArticleDraft, ArticleStatus};
        use steward_store::knowledge::ArticleChange;
        let app = app(store.clone(), Role::Requester).await;
        let tenant = store.tenant_by_slug("acme").await.expect("tenant");
        for (title, public) in [
            ("Reset your VPN token", true),
            ("VPN server runbook", false),
        ] {
            let draft = ArticleDraft {
                title: title.into(),
                body: "Steps for the VPN".into(),
                public,
                service_id: None,
            };
            let mut article = store
                .create_article(tenant.id, &draft, &Actor::cli())
                .await
                .expect("article");
            for status in [ArticleStatus::Review, ArticleStatus::Published] {
                let change = ArticleChange {
                    draft: draft.clone(),
                    status,
                    published_at: Some(1),
                };
                article = store
                    .update_article(
                        tenant.id,
                        article.id,
                        article.updated_at,
                        &change,
                        &Actor::cli(),
                    )
                    .await
                    .expect("publish");
            }
        }
        let session = sign_in(&app, PASSWORD)
            .await
            .unwrap_or_else(|p| panic!("sign-in failed: {}", p.status));
        let page = send(&app, get("/portal?q=vpn", &session)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.html.contains("Answers that may help")
                && page.html.contains("Reset your VPN token")
        );
        assert!(
            !page.html.contains("VPN server runbook"),
            "internal articles stay internal"
        );
    }
);

both_backends!(
    a_requester_reopens_a_resolution_from_the_portal,
    |store: Store| async move {
        use steward_domain::incident::Status;
        use steward_store::incident::IncidentFields;
        let app = app(store.clone(), Role::Requester).await;
        let tenant = store.tenant_by_slug("acme").await.expect("tenant");
        let session = sign_in(&app, PASSWORD)
            .await
            .unwrap_or_else(|p| panic!("sign-in failed: {}", p.status));
        let home = send(&app, get("/portal", &session)).await;
        let csrf = hidden(&home.html, "_csrf");
        let body = format!("title=Badge+reader+broken&description=&service_id=&_csrf={csrf}");
        let reported = send(&app, post_form("/portal", &session, &body)).await;
        assert_eq!(reported.status, StatusCode::SEE_OTHER, "{}", reported.html);
        let created = store.incident_by_number(tenant.id, 1).await.expect("INC-1");
        let mut resolved = IncidentFields::from(&created);
        resolved.status = Status::Resolved;
        resolved.resolved_at = Some(created.updated_at);
        store
            .update_incident(
                tenant.id,
                created.id,
                created.updated_at,
                &resolved,
                &Actor::cli(),
            )
            .await
            .expect("resolve");
        let page = send(&app, get("/portal/INC-1", &session)).await;
        assert!(
            page.html.contains("we will reopen it") && page.html.contains("Reply and reopen"),
            "{}",
            page.html
        );
        let sent = send(
            &app,
            post_form(
                "/incidents/INC-1/comments",
                &session,
                &format!("body=Still+broken&_csrf={csrf}"),
            ),
        )
        .await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER);
        let after = send(&app, get("/portal/INC-1", &session)).await;
        assert!(after.html.contains("Being worked on") && after.html.contains("Still broken"));
        let reopened = store.incident(tenant.id, created.id).await.expect("get");
        assert_eq!(reopened.status, Status::InProgress);
    }
);

/// Defines a required text field `asset_tag` for a kind of record, and a `Hardware` category.
async fn classification(store: &Store, tenant_id: i64, kind: &str) -> i64 {
    use steward_domain::request::{FieldKind, FormField};
    let fields = [FormField {
        name: "asset_tag".into(),
        label: "Asset tag".into(),
        kind: FieldKind::Text,
        required: true,
        options: vec![],
    }];
    store
        .replace_custom_fields(tenant_id, kind, &fields, &Actor::cli())
        .await
        .expect("custom fields");
    store
        .create_category(tenant_id, None, "Hardware", &Actor::cli())
        .await
        .expect("category")
        .id
}

both_backends!(
    problem_forms_carry_category_and_custom_fields,
    |store: Store| async move {
        let app = app(store.clone(), Role::Agent).await;
        let tenant = store.tenant_by_slug("acme").await.expect("tenant");
        let hw = classification(&store, tenant.id, "problem").await;
        let session = sign_in(&app, PASSWORD)
            .await
            .unwrap_or_else(|p| panic!("sign-in failed: {}", p.status));
        let form = send(&app, get("/problems/new", &session)).await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(
            form.html.contains("name=\"custom.asset_tag\"") && form.html.contains("Asset tag"),
            "{}",
            form.html
        );
        assert!(
            form.html
                .contains(&format!("<option value=\"{hw}\">Hardware</option>"))
        );
        let csrf = hidden(&form.html, "_csrf");
        let fill = |asset: &str| {
            serde_urlencoded::to_string([
                ("title", "Disk fills up nightly"),
                ("description", ""),
                ("impact", "medium"),
                ("urgency", "medium"),
                ("service_id", ""),
                ("incidents", ""),
                ("category_id", &hw.to_string()),
                ("custom.asset_tag", asset),
                ("_csrf", &csrf),
            ])
            .expect("form")
        };
        let missing = send(&app, post_form("/problems", &session, &fill(""))).await;
        assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            missing
                .html
                .contains("<p class=\"field-error\">Asset tag is required</p>"),
            "{}",
            missing.html
        );
        assert!(store.problem_by_number(tenant.id, 1).await.is_err());

        let created = send(&app, post_form("/problems", &session, &fill("SRV-9"))).await;
        assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.html);
        assert_eq!(created.location, "/problems/PRB-1?done=created");
        let page = send(&app, get("/problems/PRB-1", &session)).await;
        assert!(
            page.html.contains("<dt>Asset tag</dt><dd>SRV-9</dd>")
                && page.html.contains("<dt>Category</dt><dd>Hardware</dd>"),
            "{}",
            page.html
        );

        let edit = send(&app, get("/problems/PRB-1/edit", &session)).await;
        assert_eq!(edit.status, StatusCode::OK);
        assert!(edit.html.contains("SRV-9</textarea>"), "{}", edit.html);
        let saved = send(
            &app,
            post_form("/problems/PRB-1/edit", &session, &fill("SRV-10")),
        )
        .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
        let page = send(&app, get("/problems/PRB-1", &session)).await;
        assert!(page.html.contains("<dt>Asset tag</dt><dd>SRV-10</dd>"));
    }
);

both_backends!(
    agents_classify_requests_on_the_request_page,
    |store: Store| async move {
        use steward_domain::request::ItemDraft;
        let app = app(store.clone(), Role::Agent).await;
        let tenant = store.tenant_by_slug("acme").await.expect("tenant");
        let hw = classification(&store, tenant.id, "request").await;
        let item = ItemDraft {
            name: "Desk phone".into(),
            description: String::new(),
            category: String::new(),
            fields: vec![],
            approver_ids: vec![],
            tasks: vec![],
            active: true,
        };
        let item = store
            .save_item(tenant.id, None, &item, &Actor::cli())
            .await
            .expect("item");
        store
            .create_request(
                tenant.id,
                &item,
                &Default::default(),
                None,
                &Default::default(),
                &Actor::cli(),
            )
            .await
            .expect("REQ-1");
        let session = sign_in(&app, PASSWORD)
            .await
            .unwrap_or_else(|p| panic!("sign-in failed: {}", p.status));
        let page = send(&app, get("/requests/REQ-1", &session)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.html.contains("action=\"/requests/REQ-1/fields\"")
                && page.html.contains("name=\"custom.asset_tag\""),
            "{}",
            page.html
        );
        let csrf = hidden(&page.html, "_csrf");
        let fill = |asset: &str| {
            serde_urlencoded::to_string([
                ("category_id", hw.to_string().as_str()),
                ("custom.asset_tag", asset),
                ("_csrf", &csrf),
            ])
            .expect("form")
        };
        let missing = send(
            &app,
            post_form("/requests/REQ-1/fields", &session, &fill("  ")),
        )
        .await;
        assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            missing
                .html
                .contains("<p class=\"field-error\">Asset tag is required</p>"),
            "{}",
            missing.html
        );
        let saved = send(
            &app,
            post_form("/requests/REQ-1/fields", &session, &fill("PH-4")),
        )
        .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
        let page = send(&app, get("/requests/REQ-1", &session)).await;
        assert!(
            page.html.contains("<dt>Asset tag</dt><dd>PH-4</dd>")
                && page.html.contains("<dt>Category</dt><dd>Hardware</dd>"),
            "{}",
            page.html
        );
    }
);

both_backends!(
    admins_edit_custom_fields_in_a_page,
    |store: Store| async move {
        let app = app(store.clone(), Role::Admin).await;
        let tenant = store.tenant_by_slug("acme").await.expect("tenant");
        let session = sign_in(&app, PASSWORD)
            .await
            .unwrap_or_else(|p| panic!("sign-in failed: {}", p.status));
        let home = send(&app, get("/", &session)).await;
        assert!(
            home.html.contains("href=\"/admin/custom-fields/incident\""),
            "the admin navigation links the page"
        );
        let page = send(&app, get("/admin/custom-fields/incident", &session)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.html.contains("No custom fields for incidents yet"));
        let csrf = hidden(&page.html, "_csrf");
        let names = |kind: &'static str| {
            let store = store.clone();
            async move {
                store
                    .custom_fields(tenant.id, kind)
                    .await
                    .expect("fields")
                    .into_iter()
                    .map(|f| f.name)
                    .collect::<Vec<_>>()
            }
        };

        let no_token = send(
            &app,
            post_form(
                "/admin/custom-fields/incident/add",
                &session,
                "name=os&label=OS&kind=text",
            ),
        )
        .await;
        assert_eq!(no_token.status, StatusCode::FORBIDDEN, "CSRF");
        assert!(names("incident").await.is_empty());

        let invalid = send(
            &app,
            post_form(
                "/admin/custom-fields/incident/add",
                &session,
                &format!("name=operating+system&label=&kind=select&options=&_csrf={csrf}"),
            ),
        )
        .await;
        assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            invalid.html.contains("Field names use letters")
                && invalid.html.contains("A select field needs options")
                && invalid.html.contains("value=\"operating system\""),
            "errors shown with what was typed: {}",
            invalid.html
        );
        assert!(names("incident").await.is_empty(), "nothing saved");

        let added = send(
            &app,
            post_form(
                "/admin/custom-fields/incident/add",
                &session,
                &format!(
                    "name=os&label=Operating+system&kind=select&required=true&options=Linux%0D%0AWindows%0D%0A&_csrf={csrf}"
                ),
            ),
        )
        .await;
        assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
        assert_eq!(added.location, "/admin/custom-fields/incident?done=saved");
        let saved = store
            .custom_fields(tenant.id, "incident")
            .await
            .expect("fields");
        assert_eq!(saved.len(), 1);
        assert_eq!(
            (
                saved[0].kind.as_str(),
                saved[0].required,
                saved[0].options.clone()
            ),
            (
                "select",
                true,
                vec!["Linux".to_owned(), "Windows".to_owned()]
            )
        );
        let form = send(&app, get("/incidents/new", &session)).await;
        assert!(
            form.html.contains("name=\"custom.os\"")
                && form.html.contains("Operating system")
                && form.html.contains(">Windows</option>"),
            "the incident form shows the new field"
        );
        assert!(names("problem").await.is_empty(), "only incidents changed");

        let second = send(
            &app,
            post_form(
                "/admin/custom-fields/incident/add",
                &session,
                &format!("name=site&label=Site&kind=text&_csrf={csrf}"),
            ),
        )
        .await;
        assert_eq!(second.status, StatusCode::SEE_OTHER, "{}", second.html);
        let twin = send(
            &app,
            post_form(
                "/admin/custom-fields/incident/add",
                &session,
                &format!("name=site&label=Again&kind=text&_csrf={csrf}"),
            ),
        )
        .await;
        assert_eq!(twin.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(twin.html.contains("is used twice"), "{}", twin.html);
        assert_eq!(names("incident").await, vec!["os", "site"]);

        let moved = send(
            &app,
            post_form(
                "/admin/custom-fields/incident/site/move",
                &session,
                &format!("direction=up&_csrf={csrf}"),
            ),
        )
        .await;
        assert_eq!(moved.status, StatusCode::SEE_OTHER);
        assert_eq!(names("incident").await, vec!["site", "os"]);

        let bad_edit = send(
            &app,
            post_form(
                "/admin/custom-fields/incident/os/edit",
                &session,
                &format!("label=OS&kind=select&options=&_csrf={csrf}"),
            ),
        )
        .await;
        assert_eq!(bad_edit.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad_edit.html.contains("A select field needs options"));
        assert_eq!(
            store
                .custom_fields(tenant.id, "incident")
                .await
                .expect("fields")[1]
                .label,
            "Operating system",
            "a refused edit changes nothing"
        );
        let edited = send(
            &app,
            post_form(
                "/admin/custom-fields/incident/os/edit",
                &session,
                &format!("label=OS&kind=text&options=ignored&_csrf={csrf}"),
            ),
        )
        .await;
        assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.html);
        let os = store
            .custom_fields(tenant.id, "incident")
            .await
            .expect("fields")[1]
            .clone();
        assert_eq!(
            (
                os.name.as_str(),
                os.label.as_str(),
                os.kind.as_str(),
                os.required,
                os.options.len()
            ),
            ("os", "OS", "text", false, 0)
        );

        let removed = send(
            &app,
            post_form(
                "/admin/custom-fields/incident/site/remove",
                &session,
                &format!("_csrf={csrf}"),
            ),
        )
        .await;
        assert_eq!(removed.status, StatusCode::SEE_OTHER);
        assert_eq!(names("incident").await, vec!["os"]);

        let problems = send(
            &app,
            post_form(
                "/admin/custom-fields/problem/add",
                &session,
                &format!("name=vendor&label=Vendor&kind=text&_csrf={csrf}"),
            ),
        )
        .await;
        assert_eq!(problems.status, StatusCode::SEE_OTHER);
        assert_eq!(names("problem").await, vec!["vendor"]);
        assert_eq!(
            send(&app, get("/admin/custom-fields/nothing", &session))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert!(store.verify_journal().await.expect("verify").is_ok());
    }
);

both_backends!(only_admins_edit_custom_fields, |store: Store| async move {
    let app = app(store.clone(), Role::Manager).await;
    let tenant = store.tenant_by_slug("acme").await.expect("tenant");
    let session = sign_in(&app, PASSWORD)
        .await
        .unwrap_or_else(|p| panic!("sign-in failed: {}", p.status));
    let home = send(&app, get("/", &session)).await;
    assert!(!home.html.contains("/admin/custom-fields"));
    let csrf = hidden(&home.html, "_csrf");
    assert_eq!(
        send(&app, get("/admin/custom-fields/incident", &session))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let add = send(
        &app,
        post_form(
            "/admin/custom-fields/incident/add",
            &session,
            &format!("name=os&label=OS&kind=text&_csrf={csrf}"),
        ),
    )
    .await;
    assert_eq!(add.status, StatusCode::FORBIDDEN);
    assert!(
        store
            .custom_fields(tenant.id, "incident")
            .await
            .expect("fields")
            .is_empty()
    );
});

both_backends!(
    the_incident_list_filters_on_category_and_custom_fields,
    |store: Store| async move {
        let app = app(store.clone(), Role::Admin).await;
        let tenant = store.tenant_by_slug("acme").await.expect("tenant");
        let cli = Actor::cli();
        let hw = store
            .create_category(tenant.id, None, "Hardware", &cli)
            .await
            .expect("hw");
        let laptops = store
            .create_category(tenant.id, Some(hw.id), "Laptops", &cli)
            .await
            .expect("laptops");
        let access = store
            .create_category(tenant.id, None, "Access", &cli)
            .await
            .expect("access");
        let session = sign_in(&app, PASSWORD)
            .await
            .unwrap_or_else(|p| panic!("sign-in failed: {}", p.status));
        let csrf = hidden(&send(&app, get("/incidents", &session)).await.html, "_csrf");
        let added = send(
            &app,
            post_form(
                "/admin/custom-fields/incident/add",
                &session,
                &format!("name=site&label=Site&kind=text&_csrf={csrf}"),
            ),
        )
        .await;
        assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
        for (title, category, site) in [
            ("Laptop+screen+cracked", laptops.id, "Berlin"),
            ("Server+rack+fan", hw.id, "Paris"),
            ("Cannot+sign+in", access.id, "berlin"),
        ] {
            let created = send(
                &app,
                post_form(
                    "/incidents",
                    &session,
                    &format!(
                        "title={title}&description=&impact=medium&urgency=medium&category_id={category}&custom.site={site}&_csrf={csrf}"
                    ),
                ),
            )
            .await;
            assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.html);
        }

        let under_hw = send(
            &app,
            get(
                &format!("/incidents?queue=all&category_id={}", hw.id),
                &session,
            ),
        )
        .await;
        assert_eq!(under_hw.status, StatusCode::OK);
        assert!(
            under_hw.html.contains("Laptop screen cracked")
                && under_hw.html.contains("Server rack fan")
                && !under_hw.html.contains("Cannot sign in"),
            "the category and its subcategories only"
        );
        assert!(
            under_hw.html.contains("Category: Hardware"),
            "the active filter is shown"
        );
        assert!(
            under_hw.html.contains(&format!(
                "href=\"/incidents?queue=all&#38;category_id={}&#38;sort=number\"",
                hw.id
            )),
            "sort links keep the filter: {}",
            under_hw.html
        );
        let leaf = send(
            &app,
            get(
                &format!("/incidents?queue=all&category_id={}", laptops.id),
                &session,
            ),
        )
        .await;
        assert!(
            leaf.html.contains("Laptop screen cracked") && !leaf.html.contains("Server rack fan")
        );

        let berlin = send(
            &app,
            get("/incidents?queue=all&custom.site=BERLIN", &session),
        )
        .await;
        assert!(
            berlin.html.contains("Laptop screen cracked")
                && berlin.html.contains("Cannot sign in")
                && !berlin.html.contains("Server rack fan"),
            "custom text ignores case"
        );
        assert!(
            berlin
                .html
                .contains("name=\"custom.site\" value=\"BERLIN\"")
        );
        let unknown = send(&app, get("/incidents?queue=all&custom.nope=x", &session)).await;
        assert_eq!(unknown.status, StatusCode::OK);
        assert!(
            unknown.html.contains("There is no custom field `nope`")
                && !unknown.html.contains("Laptop screen cracked")
        );

        // A saved view keeps the filters, and its count is the list's.
        let view = send(
            &app,
            post_form(
                "/incidents/views",
                &session,
                &format!("name=Berlin&query=queue%3Dall%26custom.site%3Dberlin&_csrf={csrf}"),
            ),
        )
        .await;
        assert_eq!(view.status, StatusCode::SEE_OTHER, "{}", view.html);
        let list = send(&app, get("/incidents", &session)).await;
        assert!(
            list.html.contains("Berlin <span class=\"count\">2</span>"),
            "{}",
            list.html
        );

        let problems = send(
            &app,
            get(&format!("/problems?category_id={}", hw.id), &session),
        )
        .await;
        assert_eq!(problems.status, StatusCode::OK);
        assert!(problems.html.contains("id=\"filter-category\""));
        let requests = send(
            &app,
            get(
                &format!("/requests?queue=all&category_id={}", hw.id),
                &session,
            ),
        )
        .await;
        assert_eq!(requests.status, StatusCode::OK);
        assert!(requests.html.contains("id=\"filter-category\""));
    }
);

both_backends!(
    the_incident_list_tells_when_its_view_changes,
    |store: Store| async move {
        let app = app(store.clone(), Role::Agent).await;
        let session = sign_in(&app, PASSWORD)
            .await
            .unwrap_or_else(|p| panic!("sign-in failed: {}", p.status));
        let list = send(&app, get("/incidents?queue=open", &session)).await;
        let poll = list
            .html
            .split("hx-get=\"")
            .find(|s| s.starts_with("/incidents/changes"))
            .and_then(|s| s.split('"').next())
            .expect("the list polls for changes")
            .replace("&amp;", "&");
        let quiet = send(&app, get(&poll, &session)).await;
        assert_eq!(quiet.status, StatusCode::OK);
        assert_eq!(quiet.html.trim(), "", "nothing changed yet");
        let csrf = hidden(&list.html, "_csrf");
        let body =
            format!("title=Wi-Fi+down+in+the+lobby&impact=medium&urgency=medium&_csrf={csrf}");
        let created = send(&app, post_form("/incidents", &session, &body)).await;
        assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.html);
        let changed = send(&app, get(&poll, &session)).await;
        assert!(
            changed.html.contains("1 incident in this view changed")
                && changed.html.contains("href=\"/incidents?"),
            "{}",
            changed.html
        );
        let elsewhere = poll.replace("queue=open", "queue=resolved");
        let other_view = send(&app, get(&elsewhere, &session)).await;
        assert_eq!(
            other_view.html.trim(),
            "",
            "only the list's own view counts"
        );
    }
);

both_backends!(admins_keep_calendars_in_pages, |store: Store| async move {
    use steward_store::PageRequest;
    use steward_store::calendar::CalendarFilter;
    let app = app(store.clone(), Role::Admin).await;
    let tenant = store.tenant_by_slug("acme").await.expect("tenant");
    let session = sign_in(&app, PASSWORD)
        .await
        .unwrap_or_else(|p| panic!("sign-in failed: {}", p.status));
    let calendars = || {
        let store = store.clone();
        async move {
            store
                .calendars(
                    tenant.id,
                    &CalendarFilter::default(),
                    &PageRequest::default(),
                )
                .await
                .expect("calendars")
                .items
        }
    };
    let list = send(&app, get("/calendars", &session)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.html.contains("<h1>Calendars</h1>") && list.html.contains("href=\"/calendars\""),
        "the page and its navigation entry"
    );
    let blank = send(&app, get("/calendars/new", &session)).await;
    assert_eq!(blank.status, StatusCode::OK);
    assert!(
        blank
            .html
            .contains("name=\"hours[4].start\" value=\"09:00\""),
        "a new calendar starts as Monday to Friday"
    );
    let csrf = hidden(&blank.html, "_csrf");

    let typo = serde_urlencoded::to_string([
        ("_csrf", csrf.as_str()),
        ("name", "Service desk"),
        ("timezone", "Europe/London"),
        ("hours[0].weekday", "mon"),
        ("hours[0].start", "09:00"),
        ("hours[0].end", "17:00"),
        ("hours[1].weekday", "tue"),
        ("hours[1].start", "25:00"),
        ("hours[1].end", "17:00"),
    ])
    .expect("form");
    let refused = send(&app, post_form("/calendars", &session, &typo)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .html
            .contains("name=\"hours[1].start\" value=\"25:00\" placeholder=\"09:00\" size=\"6\" aria-label=\"From, row 2\" aria-invalid=\"true\"")
            && refused.html.contains("<p class=\"field-error\">Use a time like 09:00"),
        "the error is shown at the row, with what was typed: {}",
        refused.html
    );
    assert!(calendars().await.is_empty(), "nothing was saved");

    let more = format!("{typo}&_add=holidays");
    let grown = send(&app, post_form("/calendars", &session, &more)).await;
    assert_eq!(grown.status, StatusCode::OK);
    assert!(grown.html.contains("name=\"holidays[1].date\""));
    assert!(calendars().await.is_empty(), "adding a row saves nothing");

    let mut fields: Vec<(String, String)> = vec![
        ("_csrf".into(), csrf.clone()),
        ("name".into(), "Service desk".into()),
        ("timezone".into(), "Europe/London".into()),
    ];
    for (i, day) in ["mon", "tue", "wed", "thu", "fri"].iter().enumerate() {
        fields.push((format!("hours[{i}].weekday"), (*day).into()));
        fields.push((format!("hours[{i}].start"), "09:00".into()));
        fields.push((format!("hours[{i}].end"), "17:00".into()));
    }
    fields.extend(
        [
            ("hours[5].weekday", "sun"),
            ("hours[5].start", ""),
            ("hours[5].end", ""),
            ("holidays[0].date", "2026-12-25"),
            ("holidays[0].name", "Christmas Day"),
            ("holidays[1].date", "2020-01-01"),
            ("holidays[1].name", "New Year's Day"),
            ("holidays[1].yearly", "true"),
            ("exceptions[0].date", ""),
            ("exceptions[0].start", ""),
            ("exceptions[0].end", ""),
            ("exceptions[0].working", "false"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let body = serde_urlencoded::to_string(&fields).expect("form");
    let created = send(&app, post_form("/calendars", &session, &body)).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.html);
    let saved = calendars().await;
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].hours.len(), 5, "the blank row is ignored");
    assert!(saved[0].holidays[1].yearly);
    let path = format!("/calendars/{}", saved[0].id);
    assert_eq!(created.location, format!("{path}?done=created"));

    let page = send(&app, get(&created.location, &session)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("<h1>Service desk</h1>"));
    assert_eq!(
        page.html.matches("<td class=\"work\"").count(),
        40,
        "eight shaded hours on five days"
    );
    assert!(
        page.html
            .contains("<td class=\"work\" title=\"Mon 09:00–10:00: working\">")
            && page.html.contains("<td title=\"Sat 09:00–10:00: closed\">"),
        "{}",
        page.html
    );
    assert!(page.html.contains("<dd>40 h</dd>"));
    assert!(
        page.html.contains("New Year&#39;s Day") || page.html.contains("New Year&#x27;s Day"),
        "a yearly holiday is always upcoming"
    );

    let tried = send(
        &app,
        get(
            &format!("{path}?start=2026-12-24T16%3A00&minutes=120"),
            &session,
        ),
    )
    .await;
    assert!(
        tried.html.contains("Mon 28 Dec 2026 10:00 GMT")
            && tried.html.contains("2026-12-28T10:00:00Z"),
        "the same answer as the API: {}",
        tried.html
    );
    let negative = send(
        &app,
        get(
            &format!("{path}?start=2026-12-24T16%3A00&minutes=-5"),
            &session,
        ),
    )
    .await;
    assert!(negative.html.contains("minutes cannot be negative"));

    let multipart = |text: &str| {
        let boundary = "steward-test-boundary";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"ics\"\r\n\r\n{text}\r\n--{boundary}--\r\n"
        );
        Request::post(format!("{path}/holidays?_csrf={csrf}"))
            .header(header::COOKIE, &session)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .expect("request")
    };
    let bad = send(&app, multipart("not a calendar")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.html.contains("line 1: this is not an iCalendar file"));
    assert_eq!(calendars().await[0].holidays.len(), 2, "nothing changed");
    let ics = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261228\r\nSUMMARY:Substitute day\r\nEND:VEVENT\r\nEND:VCALENDAR";
    let imported = send(&app, multipart(ics)).await;
    assert_eq!(imported.status, StatusCode::SEE_OTHER, "{}", imported.html);
    assert_eq!(imported.location, format!("{path}?done=imported"));
    assert_eq!(calendars().await[0].holidays[2].name, "Substitute day");

    let edit = send(&app, get(&format!("{path}/edit"), &session)).await;
    assert!(
        edit.html
            .contains("name=\"holidays[2].name\" value=\"Substitute day\"")
    );
    let stale = serde_urlencoded::to_string(
        fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain([("version", "1")])
            .collect::<Vec<_>>(),
    )
    .expect("form");
    let conflict = send(&app, post_form(&path, &session, &stale)).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    assert!(conflict.html.contains("changed by someone else"));
    assert_eq!(calendars().await[0].holidays.len(), 3, "nothing changed");

    let deleted = send(
        &app,
        post_form(
            &format!("{path}/delete"),
            &session,
            &format!("_csrf={csrf}"),
        ),
    )
    .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert!(calendars().await.is_empty());
});
