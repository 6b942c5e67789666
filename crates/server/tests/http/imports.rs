//! `POST /api/v1/imports/{kind}`: CSV files from other tools, through the real router.

use super::api::{Reply, TestApp, app, app_with, is_problem};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;
use steward_domain::access::Role;
use steward_server::ServerConfig;
use steward_store::{Store, both_backends};

const INCIDENTS: &str = "\
external_id,title,description,status,impact,urgency,source,opened_at,resolved_at,closed_at,resolution_code
OLD-1,Mail queue stuck,Zephyrine relay refused mail,resolved,high,high,email,2023-02-01T09:00:00Z,2023-02-01T11:30:00Z,,
OLD-2,Printer jammed on floor 3,,closed,low,low,phone,2023-03-05T14:00:00Z,2023-03-05T15:00:00Z,2023-03-06T09:00:00Z,fixed
OLD-3,VPN drops every hour,,new,,,,2023-04-10T08:15:00Z,,,
";

/// Posts `body` as the file, with `content_type`, as `token`.
async fn send_file(
    app: &TestApp,
    token: &str,
    path: &str,
    content_type: &str,
    body: impl Into<Body>,
) -> Reply {
    let request = Request::post(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, content_type)
        .body(body.into())
        .expect("request");
    app.send(request).await
}

async fn import(app: &TestApp, kind: &str, query: &str, csv: &str) -> Reply {
    send_file(
        app,
        app.token(Role::Admin),
        &format!("/api/v1/imports/{kind}{query}"),
        "text/csv; charset=utf-8",
        csv.to_owned(),
    )
    .await
}

async fn incident_count(app: &TestApp) -> usize {
    app.get("/api/v1/incidents?limit=500", Role::Admin)
        .await
        .body["items"]
        .as_array()
        .map_or(0, Vec::len)
}

both_backends!(
    incidents_import_with_their_history,
    |store: Store| async move {
        let app = app(store).await;
        let dry = import(&app, "incidents", "?dry_run=true", INCIDENTS).await;
        assert_eq!(dry.status, StatusCode::OK, "{}", dry.text);
        assert_eq!(
            dry.body,
            json!({"kind": "incidents", "rows": 3, "created": 0, "updated": 0, "dry_run": true})
        );
        assert_eq!(incident_count(&app).await, 0, "a dry run writes nothing");

        let first = import(&app, "incidents", "", INCIDENTS).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.text);
        assert_eq!(
            first.body,
            json!({"kind": "incidents", "rows": 3, "created": 3, "updated": 0, "dry_run": false})
        );
        let list = app
            .get("/api/v1/incidents?sort=opened_at&limit=50", Role::Agent)
            .await;
        let items = list.body["items"].as_array().expect("items");
        let seen: Vec<(&str, &str, &str)> = items
            .iter()
            .map(|i| {
                (
                    i["title"].as_str().unwrap_or_default(),
                    i["status"].as_str().unwrap_or_default(),
                    i["opened_at"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("Mail queue stuck", "resolved", "2023-02-01T09:00:00Z"),
                (
                    "Printer jammed on floor 3",
                    "closed",
                    "2023-03-05T14:00:00Z"
                ),
                ("VPN drops every hour", "new", "2023-04-10T08:15:00Z"),
            ],
            "{}",
            list.text
        );
        let found = app.get("/api/v1/incidents?q=zephyrine", Role::Agent).await;
        assert_eq!(found.status, StatusCode::OK, "{}", found.text);
        assert_eq!(found.body["items"][0]["title"], "Mail queue stuck");

        // The journal names the admin who imported, not a process.
        let id = items[0]["id"].as_i64().expect("id");
        let admin = app.get("/api/v1/me", Role::Admin).await.body["id"].clone();
        let journal = app
            .get(
                &format!("/api/v1/journal?record_type=incident&record_id={id}"),
                Role::Admin,
            )
            .await;
        let entries = journal.body["items"].as_array().expect("journal entries");
        assert!(!entries.is_empty(), "{}", journal.text);
        assert!(
            entries.iter().all(|e| e["actor_id"] == admin),
            "{}",
            journal.text
        );

        let again = import(&app, "incidents", "?dry_run=false", INCIDENTS).await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.text);
        assert_eq!(
            (
                again.body["created"].as_u64(),
                again.body["updated"].as_u64()
            ),
            (Some(0), Some(3)),
            "the same file again updates: {}",
            again.text
        );
        assert_eq!(incident_count(&app).await, 3);
    }
);

both_backends!(
    a_bad_row_refuses_the_whole_file,
    |store: Store| async move {
        let app = app(store).await;
        let bad = INCIDENTS.replace(
            "OLD-3,VPN drops every hour,,new,,,,2023-04-10T08:15:00Z",
            "OLD-3,VPN drops every hour,,done,,,,yesterday",
        );
        for query in ["", "?dry_run=true"] {
            let refused = import(&app, "incidents", query, &bad).await;
            assert_eq!(
                refused.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{}",
                refused.text
            );
            assert!(is_problem(&refused), "{}", refused.text);
            let rows = refused.body["rows"].as_array().expect("rows");
            assert_eq!(rows.len(), 1, "{}", refused.text);
            assert_eq!(rows[0]["line"], 4);
            assert_eq!(rows[0]["external_id"], "OLD-3");
            let reasons = rows[0]["reasons"].to_string();
            assert!(
                reasons.contains("status `done`") && reasons.contains("opened_at `yesterday`"),
                "{reasons}"
            );
            assert_eq!(refused.body["errors"][0]["field"], "line 4");
        }
        assert_eq!(incident_count(&app).await, 0, "nothing is written");

        let unknown = import(&app, "incidents", "", "external_id,titel\nX-1,Typo\n").await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(unknown.body["rows"][0]["line"], 1, "{}", unknown.text);
    }
);

both_backends!(requests_and_problems_import, |store: Store| async move {
    let app = app(store).await;
    let item = app
        .post(
            "/api/v1/catalogue-items",
            Role::Admin,
            json!({"name": "Laptop"}),
        )
        .await;
    assert_eq!(item.status, StatusCode::CREATED, "{}", item.text);
    let requests = "external_id,item,title,status,requester,opened_at,fulfilled_at,closed_at\n\
        REQ-OLD-1,Laptop,New laptop for Ann,fulfilled,agent@acme.test,2023-05-01T09:00:00Z,2023-05-03T09:00:00Z,\n";
    let imported = import(&app, "requests", "", requests).await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.text);
    assert_eq!(
        imported.body,
        json!({"kind": "requests", "rows": 1, "created": 1, "updated": 0, "dry_run": false})
    );
    let listed = app.get("/api/v1/requests", Role::Admin).await;
    assert_eq!(listed.body["items"][0]["title"], "New laptop for Ann");
    assert_eq!(listed.body["items"][0]["status"], "fulfilled");

    let problems = "external_id,title,status,root_cause,opened_at,resolved_at\n\
        PRB-OLD-1,Relay drops mail,resolved,Disk full,2023-01-10T09:00:00Z,2023-01-20T09:00:00Z\n";
    let imported = import(&app, "problems", "", problems).await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.text);
    assert_eq!(imported.body["created"], 1);
    let listed = app.get("/api/v1/problems", Role::Admin).await;
    assert_eq!(listed.body["items"][0]["title"], "Relay drops mail");
    assert_eq!(
        listed.body["items"][0]["created_at"],
        "2023-01-10T09:00:00Z"
    );

    let nothing = import(&app, "changes", "", problems).await;
    assert_eq!(nothing.status, StatusCode::NOT_FOUND);
});

both_backends!(
    only_admins_import_csv_within_the_limit,
    |store: Store| async move {
        let config = ServerConfig {
            max_body_bytes: 64 * 1024,
            max_upload_bytes: 4096,
            ..ServerConfig::default()
        };
        let app = app_with(store, config).await;
        let path = "/api/v1/imports/incidents";
        for role in [Role::Manager, Role::Agent] {
            let refused = send_file(&app, app.token(role), path, "text/csv", INCIDENTS).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{role}");
        }
        let json = send_file(
            &app,
            app.token(Role::Admin),
            path,
            "application/json",
            json!({"title": "x"}).to_string(),
        )
        .await;
        assert_eq!(
            json.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{}",
            json.text
        );
        assert!(is_problem(&json), "{}", json.text);

        // Beyond the import limit, and beyond the hard limit every request has.
        let header = "external_id,title\n";
        for rows in [200, 5000] {
            let big: String = (0..rows).fold(header.to_owned(), |mut csv, i| {
                csv.push_str(&format!("BIG-{i},A row long enough to add up\n"));
                csv
            });
            let refused = send_file(&app, app.token(Role::Admin), path, "text/csv", big).await;
            assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE, "{rows} rows");
            assert!(is_problem(&refused), "{}", refused.text);
        }
        assert_eq!(incident_count(&app).await, 0);
    }
);
