//! Attachments and watchers on incidents, through the API and the incident page.

use super::api::{Reply, TestApp, app, app_with, is_problem};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;
use steward_domain::access::Role;
use steward_server::ServerConfig;
use steward_store::{Store, both_backends};

/// Uploads `bytes` as the raw body, the way curl's `--data-binary` does.
async fn upload(
    app: &TestApp,
    token: &str,
    path: &str,
    content_type: &str,
    bytes: Vec<u8>,
    with_length: bool,
) -> Reply {
    let mut request = Request::post(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, content_type);
    if with_length {
        request = request.header(header::CONTENT_LENGTH, bytes.len());
    }
    app.send(request.body(Body::from(bytes)).expect("request"))
        .await
}

async fn incident(app: &TestApp, role: Role, title: &str) -> String {
    let created = app
        .post("/api/v1/incidents", role, json!({ "title": title }))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    created.body["key"].as_str().expect("key").to_owned()
}

/// Every byte value, so that nothing on the way may treat the file as text.
fn binary(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 256) as u8).collect()
}

both_backends!(upload_list_download, |store: Store| async move {
    let app = app(store).await;
    let key = incident(&app, Role::Agent, "Screen flickers").await;
    let path = format!("/api/v1/incidents/{key}/attachments");
    let file = binary(3000);

    let created = upload(
        &app,
        app.token(Role::Agent),
        &format!("{path}?filename=C%3A%5Cshots%5Cscreen.png"),
        "image/png",
        file.clone(),
        true,
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(
        created.body["filename"], "screen.png",
        "folders are dropped"
    );
    assert_eq!(created.body["content_type"], "image/png");
    assert_eq!(created.body["size"], 3000);
    let sha = created.body["sha256"].as_str().expect("sha").to_owned();
    assert_eq!(sha.len(), 64);
    let id = created.body["id"].as_i64().expect("id");

    let again = upload(
        &app,
        app.token(Role::Agent),
        &format!("{path}?filename=copy%20%221%22.png"),
        "image/png",
        file.clone(),
        false,
    )
    .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    assert_eq!(
        again.body["sha256"],
        sha.as_str(),
        "same content, same hash"
    );
    assert_eq!(
        app.store.count_blobs().await.expect("count"),
        1,
        "identical content is stored once"
    );

    let listed = app.get(&path, Role::Auditor).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let names: Vec<&str> = listed
        .body
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|a| a["filename"].as_str())
        .collect();
    assert_eq!(names, ["screen.png", "copy \"1\".png"]);

    let got = app.get(&format!("{path}/{id}"), Role::Auditor).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.raw, file, "the download has exactly the uploaded bytes");
    assert_eq!(got.headers[header::CONTENT_TYPE], "image/png");
    assert_eq!(got.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(
        got.headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"screen.png\"; filename*=UTF-8''screen.png"
    );
    let second = app
        .get(&format!("{path}/{}", again.body["id"]), Role::Agent)
        .await;
    let disposition = second.headers[header::CONTENT_DISPOSITION]
        .to_str()
        .expect("ascii");
    assert!(
        disposition.starts_with("attachment; filename=\"copy _1_.png\";"),
        "quotes cannot break out of the header: {disposition}"
    );

    let empty = upload(
        &app,
        app.token(Role::Agent),
        &format!("{path}?filename=x.txt"),
        "text/plain",
        Vec::new(),
        true,
    )
    .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(is_problem(&empty));
    assert_eq!(empty.body["errors"][0]["field"], "file");
    let unnamed = upload(
        &app,
        app.token(Role::Agent),
        &path,
        "text/plain",
        b"x".to_vec(),
        true,
    )
    .await;
    assert_eq!(unnamed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unnamed.body["errors"][0]["field"], "filename");
    let curl_default = upload(
        &app,
        app.token(Role::Agent),
        &format!("{path}?filename=notes"),
        "application/x-www-form-urlencoded",
        b"a=b".to_vec(),
        true,
    )
    .await;
    assert_eq!(
        curl_default.body["content_type"],
        "application/octet-stream"
    );

    let auditor = upload(
        &app,
        app.token(Role::Auditor),
        &format!("{path}?filename=x.txt"),
        "text/plain",
        b"x".to_vec(),
        true,
    )
    .await;
    assert_eq!(auditor.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get(&format!("{path}/999999"), Role::Agent).await.status,
        StatusCode::NOT_FOUND
    );

    let journal = app
        .get("/api/v1/journal?record_type=attachment", Role::Auditor)
        .await;
    assert_eq!(journal.body["items"].as_array().map(Vec::len), Some(3));
    assert!(app.store.verify_journal().await.expect("verify").is_ok());

    let cancelled = app
        .patch(
            &format!("/api/v1/incidents/{key}"),
            Role::Agent,
            json!({"status": "cancelled"}),
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text);
    let frozen = upload(
        &app,
        app.token(Role::Agent),
        &format!("{path}?filename=late.txt"),
        "text/plain",
        b"late".to_vec(),
        true,
    )
    .await;
    assert_eq!(frozen.status, StatusCode::CONFLICT);
    assert_eq!(
        app.get(&format!("{path}/{id}"), Role::Agent).await.raw,
        file,
        "files stay readable"
    );
});

both_backends!(
    uploads_over_the_limit_are_refused,
    |store: Store| async move {
        let config = ServerConfig {
            max_body_bytes: 64 * 1024,
            max_upload_bytes: 1024,
            ..ServerConfig::default()
        };
        let app = app_with(store, config).await;
        let key = incident(&app, Role::Agent, "Logs").await;
        let path = format!("/api/v1/incidents/{key}/attachments?filename=app.log");
        let token = app.token(Role::Agent).to_owned();

        let fits = upload(&app, &token, &path, "text/plain", binary(1024), true).await;
        assert_eq!(fits.status, StatusCode::CREATED, "{}", fits.text);
        for (len, with_length) in [
            (1025, true),
            (1025, false),
            (2000, false),
            (200_000, true),
            (200_000, false),
        ] {
            let refused = upload(&app, &token, &path, "text/plain", binary(len), with_length).await;
            assert_eq!(
                refused.status,
                StatusCode::PAYLOAD_TOO_LARGE,
                "{len} bytes, length given: {with_length}"
            );
            assert!(is_problem(&refused), "{len} bytes: {}", refused.text);
        }
        let listed = app
            .get(&format!("/api/v1/incidents/{key}/attachments"), Role::Agent)
            .await;
        assert_eq!(listed.body.as_array().map(Vec::len), Some(1));
        assert_eq!(app.store.count_blobs().await.expect("count"), 1);

        let (cookie, csrf) = session(&app, "agent@acme.test").await;
        let page = app
            .send(multipart(
                &format!("/incidents/{key}/attachments?_csrf={csrf}"),
                &cookie,
                "big.log",
                &binary(2000),
            ))
            .await;
        assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(
            page.text.contains("larger than the limit of 1.0 KB"),
            "the page says why"
        );

        // Other routes keep the small limit, however large uploads may be.
        let big = json!({"name": "X", "description": "a".repeat(100 * 1024)});
        assert_eq!(
            app.post("/api/v1/services", Role::Admin, big).await.status,
            StatusCode::PAYLOAD_TOO_LARGE
        );
    }
);

both_backends!(
    tenants_and_requesters_see_only_theirs,
    |store: Store| async move {
        let app = app(store).await;
        let agents = incident(&app, Role::Agent, "Printer").await;
        let own = incident(&app, Role::Requester, "My laptop").await;
        let path = |key: &str| format!("/api/v1/incidents/{key}/attachments");
        let requester = app.token(Role::Requester).to_owned();

        let mine = upload(
            &app,
            &requester,
            &format!("{}?filename=photo.jpg", path(&own)),
            "image/jpeg",
            binary(10),
            true,
        )
        .await;
        assert_eq!(mine.status, StatusCode::CREATED, "{}", mine.text);
        let id = mine.body["id"].as_i64().expect("id");
        let theirs = upload(
            &app,
            &requester,
            &format!("{}?filename=photo.jpg", path(&agents)),
            "image/jpeg",
            binary(10),
            true,
        )
        .await;
        assert_eq!(
            theirs.status,
            StatusCode::NOT_FOUND,
            "requesters cannot touch others' incidents"
        );
        assert_eq!(
            app.get(&path(&own), Role::Requester).await.status,
            StatusCode::OK
        );
        assert_eq!(
            app.get(&path(&agents), Role::Requester).await.status,
            StatusCode::NOT_FOUND
        );
        let download = format!("{}/{id}", path(&own));
        assert_eq!(app.get(&download, Role::Requester).await.raw, binary(10));
        assert_eq!(
            app.get(&format!("{}/{id}", path(&agents)), Role::Agent)
                .await
                .status,
            StatusCode::NOT_FOUND,
            "an attachment is only found through its own incident"
        );

        let outsider = app.outsider.clone();
        for reply in [
            app.call(Method::GET, &path(&own), Some(&outsider), None)
                .await,
            app.call(Method::GET, &download, Some(&outsider), None)
                .await,
            upload(
                &app,
                &outsider,
                &format!("{}?filename=x", path(&own)),
                "text/plain",
                b"x".to_vec(),
                true,
            )
            .await,
            app.call(
                Method::GET,
                &format!("/api/v1/incidents/{own}/watchers"),
                Some(&outsider),
                None,
            )
            .await,
        ] {
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
        }
    }
);

both_backends!(watchers_receive_public_replies, |store: Store| async move {
    let app = app(store).await;
    let key = incident(&app, Role::Agent, "VPN drops").await;
    let path = format!("/api/v1/incidents/{key}/watchers");

    let added = app
        .post(&path, Role::Agent, json!({"email": " Boss@Example.ORG "}))
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    assert_eq!(added.body["email"], "boss@example.org");
    assert_eq!(added.body["user_id"], serde_json::Value::Null);
    let boss = added.body["id"].as_i64().expect("id");
    let user = app
        .post(&path, Role::Agent, json!({"email": "manager@acme.test"}))
        .await;
    assert!(
        user.body["user_id"].is_i64(),
        "a user's address is linked to the user"
    );
    let author = app
        .post(&path, Role::Agent, json!({"email": "agent@acme.test"}))
        .await;
    assert_eq!(author.status, StatusCode::CREATED);

    let twice = app
        .post(&path, Role::Agent, json!({"email": "boss@example.org"}))
        .await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(twice.body["errors"][0]["field"], "email");
    let bad = app
        .post(&path, Role::Agent, json!({"email": "not an address"}))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.post(&path, Role::Auditor, json!({"email": "a@b.org"}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(&path, Role::Requester).await.status,
        StatusCode::FORBIDDEN
    );
    let listed = app.get(&path, Role::Auditor).await;
    assert_eq!(listed.body.as_array().map(Vec::len), Some(3));

    let note = app
        .post(
            &format!("/api/v1/incidents/{key}/comments"),
            Role::Agent,
            json!({"body": "Internal only", "public": false}),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED);
    assert!(
        app.store
            .outbox(app.tenant_id)
            .await
            .expect("outbox")
            .is_empty(),
        "notes notify nobody"
    );
    let reply = app
        .post(
            &format!("/api/v1/incidents/{key}/comments"),
            Role::Agent,
            json!({"body": "Please reconnect"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let outbox = app.store.outbox(app.tenant_id).await.expect("outbox");
    let mut to: Vec<&str> = outbox.iter().map(|m| m.to_address.as_str()).collect();
    to.sort_unstable();
    assert_eq!(
        to,
        ["boss@example.org", "manager@acme.test"],
        "every watcher but the author"
    );
    for message in &outbox {
        assert_eq!(message.subject, format!("[{key}] VPN drops"));
        assert!(
            message.body.contains("Please reconnect"),
            "{}",
            message.body
        );
        assert_eq!(message.state, "queued");
    }
    assert_ne!(outbox[0].message_id, outbox[1].message_id);

    let removed = app.delete(&format!("{path}/{boss}"), Role::Agent).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.text);
    assert_eq!(
        app.delete(&format!("{path}/{boss}"), Role::Agent)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&path, Role::Agent)
            .await
            .body
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let journal = app
        .get("/api/v1/journal?record_type=watcher", Role::Auditor)
        .await;
    let actions: Vec<&str> = journal.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, ["delete", "create", "create", "create"]);
});

/// A signed-in browser session for `email`: its cookie and CSRF token.
async fn session(app: &TestApp, email: &str) -> (String, String) {
    let user = app
        .store
        .user_by_email(app.tenant_id, email)
        .await
        .expect("user");
    let secret = steward_store::token::new_secret();
    let csrf = steward_store::token::new_secret();
    let expires = steward_store::now_micros() + 3_600_000_000;
    app.store
        .create_session(
            &steward_store::token::hash_secret(&secret),
            app.tenant_id,
            user.id,
            &csrf,
            expires,
        )
        .await
        .expect("session");
    (format!("steward_session={secret}"), csrf)
}

const BOUNDARY: &str = "stewardtestboundary";

fn multipart(path: &str, cookie: &str, filename: &str, bytes: &[u8]) -> Request<Body> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    Request::post(path)
        .header(header::COOKIE, cookie)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from(body))
        .expect("request")
}

both_backends!(
    the_incident_page_uploads_and_adds_watchers,
    |store: Store| async move {
        let app = app(store).await;
        let key = incident(&app, Role::Agent, "Scanner jams").await;
        let (cookie, csrf) = session(&app, "agent@acme.test").await;
        let page = |cookie: &str| {
            Request::get(format!("/incidents/{key}"))
                .header(header::COOKIE, cookie)
                .body(Body::empty())
                .expect("request")
        };
        let shown = app.send(page(&cookie)).await;
        assert_eq!(shown.status, StatusCode::OK);
        for text in [
            "<h2>Attachments</h2>",
            "enctype=\"multipart/form-data\"",
            &format!("action=\"/incidents/{key}/attachments?_csrf={csrf}\""),
            "<label for=\"f-file\">File</label>",
            ">Upload</button>",
            "<h2>Watchers</h2>",
            "Watcher email",
            ">Add watcher</button>",
        ] {
            assert!(shown.text.contains(text), "{text} missing");
        }

        let upload_path = format!("/incidents/{key}/attachments");
        let file = binary(700);
        let no_token = app
            .send(multipart(&upload_path, &cookie, "scan.pdf", &file))
            .await;
        assert_eq!(
            no_token.status,
            StatusCode::FORBIDDEN,
            "a multipart upload without the token is refused"
        );
        let forged = app
            .send(multipart(
                &format!("{upload_path}?_csrf=forged"),
                &cookie,
                "scan.pdf",
                &file,
            ))
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert_eq!(app.store.count_blobs().await.expect("count"), 0);
        // The query only stands in for the token on multipart bodies.
        let form_with_query = Request::post(format!("/incidents/{key}/watchers?_csrf={csrf}"))
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("email=x%40y.org"))
            .expect("request");
        assert_eq!(
            app.send(form_with_query).await.status,
            StatusCode::FORBIDDEN
        );

        let uploaded = app
            .send(multipart(
                &format!("{upload_path}?_csrf={csrf}"),
                &cookie,
                "scan.pdf",
                &file,
            ))
            .await;
        assert_eq!(uploaded.status, StatusCode::SEE_OTHER, "{}", uploaded.text);
        let shown = app.send(page(&cookie)).await;
        assert!(shown.text.contains(">scan.pdf</a>"), "the file is listed");
        let listed = app
            .get(&format!("/api/v1/incidents/{key}/attachments"), Role::Agent)
            .await;
        let id = listed.body[0]["id"].as_i64().expect("id");
        assert!(
            shown
                .text
                .contains(&format!("href=\"/incidents/{key}/attachments/{id}\""))
        );
        let download = app
            .send(
                Request::get(format!("/incidents/{key}/attachments/{id}"))
                    .header(header::COOKIE, &cookie)
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        assert_eq!(download.status, StatusCode::OK);
        assert_eq!(download.raw, file);
        assert!(
            download.headers[header::CONTENT_DISPOSITION]
                .to_str()
                .expect("ascii")
                .contains("scan.pdf")
        );

        let empty = app
            .send(multipart(
                &format!("{upload_path}?_csrf={csrf}"),
                &cookie,
                "empty.txt",
                b"",
            ))
            .await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(empty.text.contains("The file is empty"));

        let watch = |body: String| {
            Request::post(format!("/incidents/{key}/watchers"))
                .header(header::COOKIE, &cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .expect("request")
        };
        let added = app
            .send(watch(format!("email=cio%40acme.test&_csrf={csrf}")))
            .await;
        assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text);
        let invalid = app.send(watch(format!("email=nobody&_csrf={csrf}"))).await;
        assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            invalid.text.contains("e-mail address"),
            "the field error is shown"
        );
        let shown = app.send(page(&cookie)).await;
        assert!(shown.text.contains("cio@acme.test"));
        let watcher = app
            .get(&format!("/api/v1/incidents/{key}/watchers"), Role::Agent)
            .await
            .body[0]["id"]
            .as_i64()
            .expect("id");
        let removed = app
            .send(
                Request::post(format!("/incidents/{key}/watchers/{watcher}/delete"))
                    .header(header::COOKIE, &cookie)
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(format!("_csrf={csrf}")))
                    .expect("request"),
            )
            .await;
        assert_eq!(removed.status, StatusCode::SEE_OTHER);
        assert!(!app.send(page(&cookie)).await.text.contains("cio@acme.test"));
    }
);
