//! Controlled documents through the real router: the API's review and approval with its
//! refusals as problem documents, acknowledgements by the distribution, files on versions, the
//! daily review reminders, and the pages with their forms.

use super::api::{app, is_problem};
use super::sla_ui::sign_in;
use super::support::{assert_refused, assert_unprocessable, submit, tenant_with_people};
use super::ui::{get, send};
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use steward_domain::access::Role;
use steward_server::jobs::Runner;
use steward_server::{AppState, ServerConfig, router};
use steward_store::asset::today_utc;
use steward_store::{Actor, Store, both_backends, now_micros};

fn document(reference: &str, kind: &str, owner: i64, readers: &[i64]) -> Value {
    json!({"reference": reference, "title": format!("The {kind}"), "kind": kind,
           "owner_id": owner, "distribution_users": readers})
}

both_backends!(
    versions_are_reviewed_approved_and_read,
    |store: Store| async move {
        let app = app(store.clone()).await;
        let manager = app.user_id(Role::Manager).await;
        let admin = app.user_id(Role::Admin).await;
        let agent = app.user_id(Role::Agent).await;
        let created = app
            .post(
                "/api/v1/documents",
                Role::Manager,
                document("SMS-POL-01", "policy", manager, &[agent]),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let id = created.body["id"].as_i64().expect("id");
        assert_eq!(created.body["current"], Value::Null);
        assert_eq!(created.body["review_months"], 12);
        assert_eq!(created.body["classification"], "internal");
        let base = format!("/api/v1/documents/{id}");

        // A second active policy is refused beside the kind.
        let second = app
            .post(
                "/api/v1/documents",
                Role::Manager,
                document("SMS-POL-02", "policy", manager, &[]),
            )
            .await;
        assert_unprocessable(&second, "already has an active");
        // Auditors read but never write; requesters see nothing.
        let audit = app
            .post(
                "/api/v1/documents",
                Role::Auditor,
                document("X-1", "other", manager, &[]),
            )
            .await;
        assert_eq!(audit.status, StatusCode::FORBIDDEN);
        assert!(is_problem(&audit));
        assert_eq!(app.get(&base, Role::Auditor).await.status, StatusCode::OK);
        assert_eq!(
            app.get(&base, Role::Requester).await.status,
            StatusCode::FORBIDDEN
        );

        // v1: written by the manager, sent to the admin, approved.
        let v1 = app
            .post(
                &format!("{base}/versions"),
                Role::Manager,
                json!({"body": "1. Purpose\n2. Commitments", "change_summary": "First issue"}),
            )
            .await;
        assert_eq!(v1.status, StatusCode::CREATED, "{}", v1.text);
        assert_eq!(v1.body["state"], "draft");
        let v = format!("{base}/versions/1");
        let empty = app
            .put(
                &v,
                Role::Manager,
                json!({"body": " ", "change_summary": "x"}),
            )
            .await;
        assert_unprocessable(&empty, "body");
        let own_review = app
            .post(
                &format!("{v}/submit"),
                Role::Manager,
                json!({"reviewer_id": manager}),
            )
            .await;
        assert_eq!(
            own_review.status,
            StatusCode::CONFLICT,
            "{}",
            own_review.text
        );
        let submitted = app
            .post(
                &format!("{v}/submit"),
                Role::Manager,
                json!({"reviewer_id": admin}),
            )
            .await;
        assert_eq!(submitted.body["state"], "in_review", "{}", submitted.text);
        let awaiting = app
            .get("/api/v1/documents?awaiting_me=true", Role::Admin)
            .await;
        assert_eq!(awaiting.body["items"].as_array().map(Vec::len), Some(1));
        let own = app
            .post(&format!("{v}/approve"), Role::Manager, json!({}))
            .await;
        assert_eq!(own.status, StatusCode::CONFLICT);
        assert!(is_problem(&own));
        assert!(
            own.text.contains("cannot approve their own"),
            "{}",
            own.text
        );
        let approved = app
            .post(&format!("{v}/approve"), Role::Admin, json!({}))
            .await;
        assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
        assert_eq!(approved.body["state"], "approved");
        assert_eq!(approved.body["approved_by"], "admin@acme.test");
        // The distribution was told.
        let outbox = store.outbox(app.tenant_id).await.expect("outbox");
        assert_eq!(outbox.len(), 1);
        assert_eq!(outbox[0].to_address, "agent@acme.test");
        assert!(outbox[0].subject.contains("version 1 approved"));
        // The approved text never changes.
        let frozen = app
            .put(
                &v,
                Role::Manager,
                json!({"body": "Changed", "change_summary": "x"}),
            )
            .await;
        assert_eq!(frozen.status, StatusCode::CONFLICT);
        let now = app.get(&base, Role::Agent).await;
        assert_eq!(now.body["current"]["number"], 1);
        assert_eq!(now.body["pending"], Value::Null);
        assert!(now.body["review_due"].is_string());

        // Reading: the agent is on the distribution, the auditor is not.
        let before = app
            .get(&format!("{base}/acknowledgements"), Role::Auditor)
            .await;
        assert_eq!(before.body["acknowledged"], 0);
        assert_eq!(before.body["readers"].as_array().map(Vec::len), Some(1));
        let read = app
            .post(&format!("{base}/acknowledgements"), Role::Agent, json!({}))
            .await;
        assert_eq!(read.status, StatusCode::CREATED, "{}", read.text);
        let not_listed = app
            .post(
                &format!("{base}/acknowledgements"),
                Role::Auditor,
                json!({}),
            )
            .await;
        assert_eq!(not_listed.status, StatusCode::FORBIDDEN);
        let after = app
            .get(&format!("{base}/acknowledgements"), Role::Manager)
            .await;
        assert_eq!(after.body["acknowledged"], 1);
        assert_eq!(after.body["current_version"], 1);

        // v2 with a file; approving it supersedes v1.
        app.post(&format!("{base}/versions"), Role::Manager,
                 json!({"body": "1. Purpose\n2. Commitments\n3. Review", "change_summary": "Adds review"}))
            .await;
        let upload = app
            .send(
                Request::builder()
                    .method(Method::POST)
                    .uri(format!("{base}/versions/2/files?filename=..%2Fsigned.pdf"))
                    .header(
                        header::AUTHORIZATION,
                        format!("Bearer {}", app.token(Role::Manager)),
                    )
                    .header(header::CONTENT_TYPE, "application/pdf")
                    .body(Body::from("%PDF-1.7 signed"))
                    .expect("request"),
            )
            .await;
        assert_eq!(upload.status, StatusCode::CREATED, "{}", upload.text);
        assert_eq!(upload.body["filename"], "signed.pdf");
        let file_id = upload.body["id"].as_i64().expect("file id");
        let file = app
            .get(&format!("{base}/versions/2/files/{file_id}"), Role::Agent)
            .await;
        assert_eq!(file.status, StatusCode::OK);
        assert_eq!(file.raw, b"%PDF-1.7 signed");
        assert!(
            file.headers[header::CONTENT_DISPOSITION]
                .to_str()
                .expect("header")
                .contains("signed.pdf")
        );
        let listing = app.get("/api/v1/documents", Role::Agent).await;
        assert_eq!(listing.body["items"][0]["pending"]["number"], 2);
        app.post(
            &format!("{base}/versions/2/submit"),
            Role::Manager,
            json!({"reviewer_id": admin}),
        )
        .await;
        let returned = app
            .post(
                &format!("{base}/versions/2/return"),
                Role::Admin,
                json!({"reason": " "}),
            )
            .await;
        assert_unprocessable(&returned, "reason");
        app.post(
            &format!("{base}/versions/2/approve"),
            Role::Admin,
            json!({}),
        )
        .await;
        let versions = app.get(&format!("{base}/versions"), Role::Auditor).await;
        assert_eq!(versions.body[0]["state"], "approved");
        assert_eq!(versions.body[1]["state"], "superseded");
        // The approved version's files are frozen.
        let late = app
            .send(
                Request::builder()
                    .method(Method::POST)
                    .uri(format!("{base}/versions/2/files?filename=late.txt"))
                    .header(
                        header::AUTHORIZATION,
                        format!("Bearer {}", app.token(Role::Manager)),
                    )
                    .header(header::CONTENT_TYPE, "text/plain")
                    .body(Body::from("late"))
                    .expect("request"),
            )
            .await;
        assert_eq!(late.status, StatusCode::CONFLICT);
        // The agent has not read v2 yet.
        let after = app
            .get(&format!("{base}/acknowledgements"), Role::Manager)
            .await;
        assert_eq!(after.body["acknowledged"], 0);

        // A review moves nothing but the date; another tenant sees nothing.
        let review = app
            .post(
                &format!("{base}/reviews"),
                Role::Manager,
                json!({"note": "Still fit"}),
            )
            .await;
        assert_eq!(review.status, StatusCode::CREATED, "{}", review.text);
        let future = app
            .post(
                &format!("{base}/reviews"),
                Role::Manager,
                json!({"reviewed_on": "2999-01-01"}),
            )
            .await;
        assert_unprocessable(&future, "reviewed_on");
        let elsewhere = app
            .call(Method::GET, &base, Some(&app.outsider.clone()), None)
            .await;
        assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
        assert!(is_problem(&elsewhere));
        // Stale edits and withdrawal.
        let stale = app
            .put(
                &base,
                Role::Manager,
                json!({"reference": "SMS-POL-01", "title": "Policy",
            "kind": "policy", "owner_id": manager, "updated_at": "2000-01-01T00:00:00Z"}),
            )
            .await;
        assert_eq!(stale.status, StatusCode::CONFLICT);
        let current = app.get(&base, Role::Manager).await;
        let edited = app.put(&base, Role::Manager, json!({"reference": "SMS-POL-01", "title": "Policy",
            "kind": "policy", "owner_id": manager, "review_months": 6, "updated_at": current.body["updated_at"]})).await;
        assert_eq!(edited.status, StatusCode::OK, "{}", edited.text);
        assert_eq!(edited.body["review_months"], 6);
        let withdrawn = app
            .post(
                &format!("{base}/withdraw"),
                Role::Manager,
                json!({"reason": "Superseded by the group policy"}),
            )
            .await;
        assert_eq!(withdrawn.body["status"], "withdrawn", "{}", withdrawn.text);
        assert!(withdrawn.body["retained_until"].is_string());
    }
);

both_backends!(
    the_daily_job_reminds_owners_once,
    |store: Store| async move {
        let app = app(store.clone()).await;
        let manager = app.user_id(Role::Manager).await;
        let created = app
            .post(
                "/api/v1/documents",
                Role::Admin,
                json!({"reference": "PRC-1", "title": "Incident procedure", "kind": "procedure",
                         "owner_id": manager, "review_months": 1}),
            )
            .await;
        let id = created.body["id"].as_i64().expect("id");
        let base = format!("/api/v1/documents/{id}");
        app.post(
            &format!("{base}/versions"),
            Role::Admin,
            json!({"body": "Steps", "change_summary": "First"}),
        )
        .await;
        app.post(
            &format!("{base}/versions/1/submit"),
            Role::Admin,
            json!({"reviewer_id": manager}),
        )
        .await;
        // Approved ten days ago with a monthly review: due within the lead time.
        store
            .approve_document_version(
                app.tenant_id,
                id,
                1,
                now_micros() - 10 * 86_400_000_000,
                &Actor::user(manager, "manager@acme.test"),
                &steward_server::document_reminders::render_notice,
            )
            .await
            .expect("approve");
        let runner = Runner::new(store.clone(), "test-node");
        for _ in 0..2 {
            steward_server::document_reminders::enqueue_day(&store, today_utc())
                .await
                .expect("enqueue");
            runner.run_once().await.expect("run");
        }
        let reminders: Vec<_> = store
            .outbox(app.tenant_id)
            .await
            .expect("outbox")
            .into_iter()
            .filter(|m| m.subject.contains("review due"))
            .collect();
        assert_eq!(reminders.len(), 1, "{reminders:?}");
        assert_eq!(reminders[0].to_address, "manager@acme.test");
        assert!(
            reminders[0].body.contains("/documents/"),
            "{}",
            reminders[0].body
        );
    }
);

async fn site(store: &Store) -> (Router, Vec<i64>) {
    let (_, ids) = tenant_with_people(
        store,
        "Acme",
        &[
            ("max@acme.test", "Max", Role::Manager),
            ("ann@acme.test", "Ann", Role::Admin),
            ("gus@acme.test", "Gus", Role::Agent),
            ("ada@acme.test", "Ada", Role::Auditor),
            ("rae@acme.test", "Rae", Role::Requester),
        ],
    )
    .await;
    (
        router(AppState::new(store.clone(), ServerConfig::default())),
        ids,
    )
}

async fn open(app: &Router, path: &str, session: &str) -> String {
    let page = send(app, get(path, session)).await;
    assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.html);
    page.html
}

both_backends!(the_document_pages_work, |store: Store| async move {
    let (app, ids) = site(&store).await;
    let (max_id, ann_id, gus_id) = (ids[0].to_string(), ids[1].to_string(), ids[2].to_string());
    let (max, csrf) = sign_in(&app, "max@acme.test").await;
    assert!(
        open(&app, "/", &max).await.contains("href=\"/documents\""),
        "the nav has it"
    );
    assert!(
        open(&app, "/sms", &max)
            .await
            .contains("href=\"/documents\""),
        "the hub has it"
    );
    assert!(
        open(&app, "/documents", &max)
            .await
            .contains("No documents yet")
    );
    open(&app, "/documents/new", &max).await;

    // Bad input: the form comes back with its messages and what was typed.
    let bad = submit(
        &app,
        "/documents",
        &max,
        &[
            ("_csrf", &csrf),
            ("reference", "SMS SCOPE"),
            ("title", "Scope of the SMS"),
            ("kind", "scope"),
            ("owner_id", &max_id),
            ("review_months", "40"),
            ("retention_years", "6"),
            ("classification", "internal"),
        ],
    )
    .await;
    assert_refused(&bad, "Review interval must be from 1 to 36 months");
    assert!(bad.html.contains("letters, digits"));
    assert!(
        bad.html.contains("value=\"Scope of the SMS\""),
        "keeps input"
    );

    let good = submit(
        &app,
        "/documents",
        &max,
        &[
            ("_csrf", &csrf),
            ("reference", "SMS-SCOPE"),
            ("title", "Scope of the SMS"),
            ("kind", "scope"),
            ("owner_id", &max_id),
            ("review_months", "12"),
            ("retention_years", "6"),
            ("classification", "internal"),
            ("distribution_users", &gus_id),
        ],
    )
    .await;
    assert_eq!(good.status, StatusCode::SEE_OTHER, "{}", good.html);
    let doc = good.location.split('?').next().expect("path").to_owned();
    let view = open(&app, &doc, &max).await;
    assert!(view.contains("No approved version yet"), "{view}");

    // A version: bad, then good; then sent to Ann.
    open(&app, &format!("{doc}/versions/new"), &max).await;
    let empty = submit(
        &app,
        &format!("{doc}/versions"),
        &max,
        &[("_csrf", &csrf), ("body", ""), ("change_summary", "First")],
    )
    .await;
    assert_refused(&empty, "Text is required");
    let saved = submit(
        &app,
        &format!("{doc}/versions"),
        &max,
        &[
            ("_csrf", &csrf),
            (
                "body",
                "The SMS covers:\n- the service desk\n- managed hosting",
            ),
            ("change_summary", "First issue"),
        ],
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    let version = format!("{doc}/versions/1");
    let page = open(&app, &version, &max).await;
    assert!(page.contains("DRAFT"), "{page}");
    assert!(
        page.contains("The SMS covers:\n- the service desk"),
        "line breaks kept"
    );
    let no_reviewer = submit(
        &app,
        &format!("{version}/submit"),
        &max,
        &[("_csrf", &csrf), ("reviewer_id", "")],
    )
    .await;
    assert_refused(&no_reviewer, "Choose who reviews and approves it");
    let sent = submit(
        &app,
        &format!("{version}/submit"),
        &max,
        &[("_csrf", &csrf), ("reviewer_id", &ann_id)],
    )
    .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.html);
    // Max cannot approve his own text: the refusal is shown on the page.
    let own = submit(
        &app,
        &format!("{version}/approve"),
        &max,
        &[("_csrf", &csrf)],
    )
    .await;
    assert_refused(&own, "cannot approve their own");
    // Ann sees it awaiting her approval, returns it without a reason (refused), then approves.
    let (ann, ann_csrf) = sign_in(&app, "ann@acme.test").await;
    assert!(
        open(&app, "/documents?mine=1", &ann)
            .await
            .contains("Awaiting your approval")
    );
    let no_reason = submit(
        &app,
        &format!("{version}/return"),
        &ann,
        &[("_csrf", &ann_csrf), ("reason", "")],
    )
    .await;
    assert_refused(&no_reason, "Reason is required");
    let approved = submit(
        &app,
        &format!("{version}/approve"),
        &ann,
        &[("_csrf", &ann_csrf)],
    )
    .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.html);
    let view = open(&app, &doc, &max).await;
    assert!(view.contains("In force: v1 approved"), "{view}");
    assert!(view.contains("0 of 1 have confirmed reading v1"));
    assert!(open(&app, "/documents", &max).await.contains("v1 approved"));

    // Gus, on the distribution, confirms reading it.
    let (gus, gus_csrf) = sign_in(&app, "gus@acme.test").await;
    let page = open(&app, &doc, &gus).await;
    assert!(page.contains("I have read v1"));
    assert!(!page.contains("Record review"), "agents do not write");
    let read = submit(
        &app,
        &format!("{doc}/acknowledgements"),
        &gus,
        &[("_csrf", &gus_csrf)],
    )
    .await;
    assert_eq!(read.status, StatusCode::SEE_OTHER, "{}", read.html);
    assert!(
        open(&app, &doc, &max)
            .await
            .contains("1 of 1 have confirmed reading v1")
    );

    // A review in the future is refused beside its field; today's is recorded.
    let future = submit(
        &app,
        &format!("{doc}/reviews"),
        &max,
        &[
            ("_csrf", &csrf),
            ("reviewed_on", "2999-01-01"),
            ("note", ""),
        ],
    )
    .await;
    assert_refused(&future, "cannot be in the future");
    let reviewed = submit(
        &app,
        &format!("{doc}/reviews"),
        &max,
        &[
            ("_csrf", &csrf),
            ("reviewed_on", ""),
            ("note", "Still fit for purpose"),
        ],
    )
    .await;
    assert_eq!(reviewed.status, StatusCode::SEE_OTHER, "{}", reviewed.html);
    assert!(
        open(&app, &doc, &max)
            .await
            .contains("Still fit for purpose")
    );

    // The auditor reads without the forms; the requester does not get in.
    let (ada, _) = sign_in(&app, "ada@acme.test").await;
    let read = open(&app, &doc, &ada).await;
    assert!(!read.contains("Withdraw document") && !read.contains("I have read"));
    let (rae, _) = sign_in(&app, "rae@acme.test").await;
    assert_eq!(
        send(&app, get("/documents", &rae)).await.status,
        StatusCode::FORBIDDEN
    );
});
