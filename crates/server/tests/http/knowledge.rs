//! `/api/v1/knowledge` (and the knowledge pages) through the real router.

use super::api::{Reply, app, is_problem};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use steward_domain::access::Role;
use steward_store::{Store, both_backends};

fn keys(reply: &Reply) -> Vec<String> {
    reply.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|a| a["key"].as_str().map(str::to_owned))
        .collect()
}

both_backends!(
    an_article_from_draft_to_retired,
    |store: Store| async move {
        let app = app(store).await;
        let service = app
            .post("/api/v1/services", Role::Manager, json!({"name": "Mail"}))
            .await;
        let service_id = service.body["id"].as_i64().expect("service");
        let created = app
        .post(
            "/api/v1/knowledge",
            Role::Agent,
            json!({"title": "Mailbox full", "body": "Empty the trash.", "service_id": service_id}),
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        assert_eq!(created.body["key"], "KB-1");
        assert_eq!(created.body["status"], "draft");
        assert_eq!(created.body["version"], 1);
        assert_eq!(created.body["public"], false);
        assert_eq!(created.body["service_id"], service_id);
        assert_eq!(created.body["allowed_transitions"], json!(["review"]));

        let illegal = app
            .patch(
                "/api/v1/knowledge/KB-1",
                Role::Agent,
                json!({"status": "published"}),
            )
            .await;
        assert_eq!(illegal.status, StatusCode::CONFLICT, "{}", illegal.text);
        assert!(is_problem(&illegal));
        assert_eq!(illegal.body["allowed"], json!(["review"]));

        let review = app
            .patch(
                "/api/v1/knowledge/KB-1",
                Role::Agent,
                json!({"status": "review"}),
            )
            .await;
        assert_eq!(review.body["status"], "review", "{}", review.text);
        assert_eq!(
            review.body["allowed_transitions"],
            json!(["published", "draft"])
        );
        let id = created.body["id"].as_i64().expect("id");
        let published = app
            .patch(
                &format!("/api/v1/knowledge/{id}"),
                Role::Manager,
                json!({"status": "published", "public": true}),
            )
            .await;
        assert_eq!(published.body["status"], "published", "{}", published.text);
        assert!(published.body["published_at"].is_string());
        assert_eq!(published.body["version"], 1, "no new text, no new version");

        let edited = app
            .patch(
                "/api/v1/knowledge/KB-1",
                Role::Agent,
                json!({"body": "Empty the trash, then archive old mail."}),
            )
            .await;
        assert_eq!(edited.status, StatusCode::OK, "{}", edited.text);
        assert_eq!(edited.body["version"], 2);
        assert_eq!(
            edited.body["status"], "published",
            "an edit stays published"
        );

        let versions = app
            .get("/api/v1/knowledge/KB-1/versions", Role::Auditor)
            .await;
        assert_eq!(versions.status, StatusCode::OK, "{}", versions.text);
        let listed: Vec<(i64, &str)> = versions
            .body
            .as_array()
            .expect("versions")
            .iter()
            .map(|v| {
                (
                    v["version"].as_i64().unwrap_or_default(),
                    v["author"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(listed, [(1, "agent@acme.test"), (2, "agent@acme.test")]);
        assert!(versions.body[0]["created_at"].is_string());

        let retired = app
            .patch(
                "/api/v1/knowledge/KB-1",
                Role::Agent,
                json!({"status": "retired"}),
            )
            .await;
        assert_eq!(retired.body["allowed_transitions"], json!([]));
        let frozen = app
            .patch(
                "/api/v1/knowledge/KB-1",
                Role::Agent,
                json!({"title": "Changed"}),
            )
            .await;
        assert_eq!(frozen.status, StatusCode::CONFLICT);
        assert!(is_problem(&frozen));

        let invalid = app
            .post("/api/v1/knowledge", Role::Agent, json!({"title": " "}))
            .await;
        assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(invalid.body["errors"][0]["field"], "title");
        let unknown = app
            .post(
                "/api/v1/knowledge",
                Role::Agent,
                json!({"title": "x", "colour": "red"}),
            )
            .await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(unknown.body["errors"][0]["field"], "colour");
        let bad_service = app
            .post(
                "/api/v1/knowledge",
                Role::Agent,
                json!({"title": "x", "service_id": 99_999}),
            )
            .await;
        assert_eq!(bad_service.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad_service.body["errors"][0]["field"], "service_id");

        for role in [Role::Auditor, Role::Requester] {
            let refused = app
                .post("/api/v1/knowledge", role, json!({"title": "Mine"}))
                .await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{role}");
        }
        let outsider = app
            .call(
                Method::GET,
                "/api/v1/knowledge/KB-1",
                Some(&app.outsider),
                None,
            )
            .await;
        assert_eq!(outsider.status, StatusCode::NOT_FOUND);

        let journal = app
            .get("/api/v1/journal?record_type=article", Role::Auditor)
            .await;
        assert_eq!(
            journal.body["items"].as_array().map_or(0, Vec::len),
            5,
            "create, review, publish, edit, retire"
        );
    }
);

both_backends!(
    requesters_read_only_published_public_articles,
    |store: Store| async move {
        let app = app(store).await;
        // KB-1 public and published, KB-2 published but internal, KB-3 a public draft.
        for (title, public, publish) in [
            ("Printer jams", true, true),
            ("Server room door code", false, true),
            ("New laptop policy", true, false),
        ] {
            let created = app
                .post(
                    "/api/v1/knowledge",
                    Role::Agent,
                    json!({"title": title, "body": format!("About {title}"), "public": public}),
                )
                .await;
            let key = created.body["key"].as_str().expect("key").to_owned();
            if publish {
                for status in ["review", "published"] {
                    let moved = app
                        .patch(
                            &format!("/api/v1/knowledge/{key}"),
                            Role::Agent,
                            json!({"status": status}),
                        )
                        .await;
                    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
                }
            }
        }
        let everyone = app.get("/api/v1/knowledge?sort=title", Role::Auditor).await;
        assert_eq!(keys(&everyone), ["KB-3", "KB-1", "KB-2"]);
        let mine = app.get("/api/v1/knowledge", Role::Requester).await;
        assert_eq!(mine.status, StatusCode::OK);
        assert_eq!(keys(&mine), ["KB-1"]);
        let asked_for_drafts = app
            .get(
                "/api/v1/knowledge?status=draft&public=false",
                Role::Requester,
            )
            .await;
        assert_eq!(
            keys(&asked_for_drafts),
            Vec::<String>::new(),
            "filters cannot widen a requester's view"
        );
        assert_eq!(
            app.get("/api/v1/knowledge/KB-1", Role::Requester)
                .await
                .body["title"],
            "Printer jams"
        );
        for key in ["KB-2", "KB-3", "KB-9", "nonsense"] {
            let hidden = app
                .get(&format!("/api/v1/knowledge/{key}"), Role::Requester)
                .await;
            assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{key}");
            assert!(is_problem(&hidden));
        }
        assert_eq!(
            app.get("/api/v1/knowledge/KB-1/versions", Role::Requester)
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        let filtered = app
            .get(
                "/api/v1/knowledge?status=published&public=false",
                Role::Agent,
            )
            .await;
        assert_eq!(keys(&filtered), ["KB-2"]);
        let bad = app.get("/api/v1/knowledge?status=gone", Role::Agent).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(is_problem(&bad));
    }
);

both_backends!(articles_are_searched_by_words, |store: Store| async move {
    let app = app(store).await;
    for (title, body) in [
        ("Connecting to the VPN", "Install the client, then sign in."),
        ("Printer jams", "Open tray 2 and remove the jammed paper."),
    ] {
        let created = app
            .post(
                "/api/v1/knowledge",
                Role::Agent,
                json!({"title": title, "body": body}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    }
    for (q, expected) in [
        ("vpn", vec!["KB-1"]),
        ("installing", vec!["KB-1"]),
        ("jammed%20printers", vec!["KB-2"]),
        ("tray%20vpn", vec![]),
    ] {
        let found = app
            .get(&format!("/api/v1/knowledge?q={q}"), Role::Agent)
            .await;
        assert_eq!(found.status, StatusCode::OK, "{}", found.text);
        assert_eq!(keys(&found), expected, "q={q}");
    }
    let paged = app
        .get("/api/v1/knowledge?sort=title&limit=1", Role::Agent)
        .await;
    assert_eq!(keys(&paged), ["KB-1"]);
    let cursor = paged.body["next_cursor"].as_str().expect("cursor");
    let next = app
        .get(
            &format!("/api/v1/knowledge?sort=title&limit=1&cursor={cursor}"),
            Role::Agent,
        )
        .await;
    assert_eq!(keys(&next), ["KB-2"]);
    assert_eq!(next.body["next_cursor"], Value::Null);
    let bad_sort = app.get("/api/v1/knowledge?sort=body", Role::Agent).await;
    assert_eq!(bad_sort.status, StatusCode::UNPROCESSABLE_ENTITY);
});

both_backends!(knowledge_pages_render, |store: Store| async move {
    let app = app(store).await;
    let page = |path: &str, role: Role| {
        let request = Request::builder()
            .method(Method::GET)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {}", app.token(role)))
            .body(Body::empty())
            .expect("request");
        app.send(request)
    };
    let created = app
        .post(
            "/api/v1/knowledge",
            Role::Agent,
            json!({"title": "Printer <jams>", "body": "First step.\n\nSecond <script>step</script>.", "public": true}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);

    let list = page("/knowledge?q=printer", Role::Agent).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert!(list.text.contains("KB-1"));
    assert!(list.text.contains("href=\"/knowledge\""), "nav entry");
    let view = page("/knowledge/KB-1", Role::Agent).await;
    assert_eq!(view.status, StatusCode::OK, "{}", view.text);
    assert!(
        view.text.contains("Printer &#60;jams&#62;") || view.text.contains("Printer &lt;jams&gt;")
    );
    assert!(!view.text.contains("<script>step"), "the body is escaped");
    assert_eq!(view.text.matches("<p class=\"prose\">").count(), 2);
    assert!(view.text.contains("Submit for review"));
    assert!(view.text.contains("Versions"));
    assert_eq!(
        page("/knowledge/new", Role::Agent).await.status,
        StatusCode::OK
    );
    assert_eq!(
        page("/knowledge/KB-1/edit", Role::Agent).await.status,
        StatusCode::OK
    );

    // The auditor reads (and sees the nav entry) but does not write.
    let audit = page("/knowledge", Role::Auditor).await;
    assert!(audit.text.contains("href=\"/knowledge\""));
    assert!(!audit.text.contains("New article"));

    // Requesters: the draft is not there for them yet.
    let portal = page("/knowledge", Role::Requester).await;
    assert_eq!(portal.status, StatusCode::OK);
    assert!(portal.text.contains("href=\"/knowledge\""));
    assert!(!portal.text.contains("KB-1"));
    assert_eq!(
        page("/knowledge/KB-1", Role::Requester).await.status,
        StatusCode::NOT_FOUND
    );

    let form = |path: &str, body: &str| {
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(
                header::AUTHORIZATION,
                format!("Bearer {}", app.token(Role::Agent)),
            )
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.to_owned()))
            .expect("request");
        app.send(request)
    };
    let refused = form("/knowledge/KB-1/status", "status=published").await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.text.contains("allowed: review"), "{}", refused.text);
    for status in ["review", "published"] {
        let moved = form("/knowledge/KB-1/status", &format!("status={status}")).await;
        assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.text);
    }
    let edited = form(
        "/knowledge/KB-1/edit",
        "title=Printer+jams&body=Open+tray+2.&public=on&service_id=",
    )
    .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.text);
    let blank = form("/knowledge", "title=&body=x").await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(blank.text.contains("Title is required"));
    let made = form("/knowledge", "title=Second&body=x").await;
    assert_eq!(made.status, StatusCode::SEE_OTHER);

    let api = app.get("/api/v1/knowledge/KB-1", Role::Agent).await;
    assert_eq!(
        (api.body["version"].as_i64(), api.body["public"].as_bool()),
        (Some(2), Some(true))
    );
    let readable = page("/knowledge/KB-1", Role::Requester).await;
    assert_eq!(readable.status, StatusCode::OK);
    assert!(readable.text.contains("Open tray 2."));
    assert!(!readable.text.contains("Versions"), "writers' history only");
});
