//! The conformance readiness pages through the real router: the dashboard with its banner and
//! chart, a clause page with failing records linked to their pages, assessing a requirement
//! (refused and kept, then recorded beside the machine's status), a reproducible sample, who
//! may read and who may assess, and tenant isolation.

use super::cmdb_ui::{ci, class};
use super::sla_ui::sign_in;
use super::support::{assert_refused, submit, tenant_with_people};
use super::ui::{Page, get, send};
use axum::Router;
use axum::http::StatusCode;
use steward_domain::access::Role;
use steward_domain::asset::{AssetDraft, AssetKind, AssetStatus};
use steward_domain::cmdb::baseline::BaselineDraft;
use steward_domain::service::{Criticality, ServiceDraft, ServiceStatus};
use steward_store::{Actor, Store, both_backends};

/// A live service with no owner: a failing record for 8.2.1-b.
async fn ownerless_service(store: &Store, tenant_id: i64, name: &str) -> i64 {
    let draft = ServiceDraft {
        name: name.into(),
        description: String::new(),
        owner_id: None,
        criticality: Criticality::Medium,
        status: ServiceStatus::Live,
    }
    .validate()
    .expect("service");
    store
        .create_service(tenant_id, &draft, &Actor::cli())
        .await
        .expect("service")
        .id
}

/// An asset with no owner: a failing record for 8.2.5.
async fn ownerless_asset(store: &Store, tenant_id: i64, tag: &str) -> i64 {
    let draft = AssetDraft {
        tag: tag.into(),
        name: format!("Laptop {tag}"),
        kind: AssetKind::Hardware,
        manufacturer: "Acme".into(),
        model: String::new(),
        serial_number: String::new(),
        owner_id: None,
        location: "Office".into(),
        supplier: String::new(),
        cost_minor: None,
        currency: None,
        purchase_date: None,
        warranty_expires: None,
        licence_seats: None,
        seats_in_use: None,
        licence_expires: None,
        notes: String::new(),
    }
    .validate()
    .expect("asset");
    store
        .create_asset(tenant_id, &draft, AssetStatus::InStock, &Actor::cli())
        .await
        .expect("asset")
        .id
}

/// What a site holds: the router, Acme's slug, and the ids of the records its rules find.
struct Site {
    app: Router,
    slug: String,
    service: i64,
    ci: i64,
    asset: i64,
    baseline: i64,
}

/// Acme with a manager (`mia@`), an agent (`al@`) and an auditor (`ada@`); a live service
/// without an owner, a CI and an asset without owners, and a baseline. Another tenant has a
/// manager (`oz@`) and its own ownerless service, "Hidden Payroll".
async fn site(store: Store) -> Site {
    let (t, _) = tenant_with_people(
        &store,
        "Acme",
        &[
            ("mia@acme.test", "Mia", Role::Manager),
            ("al@acme.test", "Al", Role::Agent),
            ("ada@acme.test", "Ada", Role::Auditor),
        ],
    )
    .await;
    let service = ownerless_service(&store, t, "Mail").await;
    let switch = class(&store, t, "Switch", vec![]).await;
    let ci = ci(&store, t, &switch, "core-sw", vec![]).await;
    let asset = ownerless_asset(&store, t, "LT-7").await;
    let draft = BaselineDraft {
        name: "Year end".into(),
        description: String::new(),
        service_id: None,
    }
    .validate()
    .expect("baseline");
    let baseline = store
        .take_baseline(t, &draft, &Actor::cli())
        .await
        .expect("baseline")
        .id;
    let slug = store.tenant(t).await.expect("tenant").slug;
    let (other, _) =
        tenant_with_people(&store, "Other", &[("oz@other.test", "Oz", Role::Manager)]).await;
    ownerless_service(&store, other, "Hidden Payroll").await;
    let app = steward_server::router(steward_server::AppState::new(
        store,
        steward_server::ServerConfig::default(),
    ));
    Site {
        app,
        slug,
        service,
        ci,
        asset,
        baseline,
    }
}

/// The drawn records of a clause page's sample.
fn sample_list(page: &Page) -> String {
    page.html
        .split("<ol class=\"sample\">")
        .nth(1)
        .and_then(|rest| rest.split("</ol>").next())
        .unwrap_or_default()
        .to_owned()
}

both_backends!(the_readiness_pages, |store: Store| async move {
    let site = site(store).await;
    let app = &site.app;
    let (cookie, csrf) = sign_in(app, "mia@acme.test").await;

    // The dashboard: banner, chart, counts, a table row per clause.
    let board = send(app, get("/conformance", &cookie)).await;
    assert_eq!(board.status, StatusCode::OK);
    assert!(board.html.contains("href=\"/conformance\""), "nav entry");
    assert!(board.html.contains("not a certification"));
    assert!(board.html.contains("<svg class=\"chart readiness-chart\""));
    assert!(board.html.contains("<title id=\"readiness-title\">"));
    assert!(board.html.contains("Clauses with gaps"));
    assert!(
        board.html.contains("/conformance/8.2.1?from="),
        "clause link"
    );
    assert!(
        board.html.contains("standing-gap\">Gap</span>"),
        "standing in words"
    );
    // Bad dates: a message, and the last twelve months.
    let bad = send(app, get("/conformance?from=2026-13-01&to=soon", &cookie)).await;
    assert_eq!(bad.status, StatusCode::OK);
    assert!(bad.html.contains("Give both dates as YYYY-MM-DD"));
    let backwards = send(
        app,
        get("/conformance?from=2026-06-01&to=2026-01-01", &cookie),
    )
    .await;
    assert!(backwards.html.contains("ends before it starts"));

    // The clause page: requirements, the rule, counts, the failing service linked.
    let clause = send(app, get("/conformance/8.2.1", &cookie)).await;
    assert_eq!(clause.status, StatusCode::OK);
    assert!(clause.html.contains("8.2.1-a"));
    assert!(clause.html.contains("8.2.1-b"));
    assert!(clause.html.contains("Every live service has an owner."));
    assert!(clause.html.contains("An auditor asks for"));
    assert!(clause.html.contains("1 of 1 fail."), "{}", clause.html);
    assert!(
        clause.html.contains("Assessed by a person"),
        "manual requirement"
    );
    let service_href = format!("<a href=\"/services/{}\">Mail</a>", site.service);
    assert!(clause.html.contains(&service_href), "{}", clause.html);
    assert!(
        !clause.html.contains("Hidden Payroll"),
        "another tenant's record"
    );
    let unknown = send(app, get("/conformance/99.9", &cookie)).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // Every kind of link the pages emit here leads to a page.
    let cmdb = send(app, get("/conformance/8.2.6", &cookie)).await;
    let assets = send(app, get("/conformance/8.2.5", &cookie)).await;
    let links = [
        (&clause, format!("/services/{}", site.service)),
        (&cmdb, format!("/cis/{}", site.ci)),
        (&cmdb, format!("/cmdb/baselines/{}", site.baseline)),
        (&assets, format!("/assets/{}", site.asset)),
    ];
    for (page, href) in &links {
        assert!(page.html.contains(&format!("href=\"{href}\"")), "{href}");
        let target = send(app, get(href, &cookie)).await;
        assert_eq!(target.status, StatusCode::OK, "{href}");
    }

    // A nonconforming judgement must say why: refused, the input kept by the field.
    let path = "/conformance/8.2.1/requirements/8.2.1-b/assessments";
    let refused = submit(
        app,
        path,
        &cookie,
        &[
            ("_csrf", &csrf),
            ("judgement", "nonconforming"),
            ("comment", ""),
            ("evidence", "Service list seen on screen"),
        ],
    )
    .await;
    assert_refused(&refused, "Say what does not conform");
    assert!(
        refused
            .html
            .contains(">Service list seen on screen</textarea>")
    );
    assert!(refused.html.contains("value=\"nonconforming\" selected"));
    let unknown_req = submit(
        app,
        "/conformance/8.2.1/requirements/8.2.6-a/assessments",
        &cookie,
        &[("_csrf", &csrf), ("judgement", "conforming")],
    )
    .await;
    assert_eq!(
        unknown_req.status,
        StatusCode::NOT_FOUND,
        "not this clause's"
    );

    // A conforming judgement is recorded and shown apart from the machine's gap.
    let judged = submit(
        app,
        path,
        &cookie,
        &[
            ("_csrf", &csrf),
            ("judgement", "conforming"),
            ("comment", "An owner is being appointed"),
            ("evidence", "Board minutes"),
        ],
    )
    .await;
    assert_eq!(judged.status, StatusCode::SEE_OTHER, "{}", judged.html);
    assert!(
        judged
            .location
            .starts_with("/conformance/8.2.1?done=assessed")
    );
    let after = send(app, get(&judged.location, &cookie)).await;
    assert!(after.html.contains("Judgement recorded."));
    assert!(
        after
            .html
            .contains("judgement-conforming\">Conforming</span> by mia@acme.test")
    );
    assert!(after.html.contains("An owner is being appointed"));
    assert!(after.html.contains("Judgement history (1)"));
    assert!(
        after.html.contains("machine-gap\">Gap</span>"),
        "machine still shown"
    );
    assert!(after.html.contains("1 of 1 fail."));

    // The same seed draws the same records, and the page gives the command.
    let url = "/conformance/8.2.6?size=2&seed=7";
    let first = send(app, get(url, &cookie)).await;
    let second = send(app, get(url, &cookie)).await;
    assert_eq!(first.status, StatusCode::OK);
    let drawn = sample_list(&first);
    assert!(drawn.contains("<li>"), "{}", first.html);
    assert_eq!(drawn, sample_list(&second));
    let command = format!(
        "steward audit sample --tenant {} --clause 8.2.6 --size 2 --seed 7 --from ",
        site.slug
    );
    assert!(first.html.contains(&command), "{}", first.html);
    let bad_size = send(app, get("/conformance/8.2.6?size=0&seed=7", &cookie)).await;
    assert!(bad_size.html.contains("from 1 to 100"));
    assert!(!bad_size.html.contains("<ol class=\"sample\">"));
    let bad_seed = send(app, get("/conformance/8.2.6?size=3&seed=x", &cookie)).await;
    assert!(bad_seed.html.contains("The seed is a whole number"));

    // An agent may not read it; an auditor reads but may not assess.
    let (agent, _) = sign_in(app, "al@acme.test").await;
    for href in ["/conformance", "/conformance/8.2.1"] {
        let page = send(app, get(href, &agent)).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{href}");
    }
    let (auditor, auditor_csrf) = sign_in(app, "ada@acme.test").await;
    let read = send(app, get("/conformance/8.2.1", &auditor)).await;
    assert_eq!(read.status, StatusCode::OK);
    assert!(read.html.contains("An owner is being appointed"));
    assert!(!read.html.contains("Record judgement"), "no assess form");
    let post = submit(
        app,
        path,
        &auditor,
        &[("_csrf", &auditor_csrf), ("judgement", "conforming")],
    )
    .await;
    assert_eq!(post.status, StatusCode::FORBIDDEN);

    // The other tenant sees none of Acme's records or judgements.
    let (oz, _) = sign_in(app, "oz@other.test").await;
    let theirs = send(app, get("/conformance/8.2.1", &oz)).await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert!(theirs.html.contains("Hidden Payroll"));
    assert!(!theirs.html.contains(">Mail</a>"));
    assert!(!theirs.html.contains("An owner is being appointed"));
    let their_cmdb = send(app, get("/conformance/8.2.6?size=5&seed=7", &oz)).await;
    assert!(!their_cmdb.html.contains("core-sw"));
});
