//! CMDB pages through the real router: the CI list and its filters, the CI form with class
//! attributes, the CI page with its relationship graph, impact analysis, the schema page, and
//! who may do what.

use super::sla_ui::{post, sign_in};
use super::support::tenant_with_people;
use super::ui::{Page, get, send};
use axum::Router;
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use steward_domain::access::Role;
use steward_domain::cmdb::{CiClassDraft, CiDraft, CiStatus};
use steward_domain::request::{FieldKind, FormField};
use steward_domain::service::{Criticality, ServiceDraft, ServiceStatus};
use steward_server::{AppState, ServerConfig, router};
use steward_store::cmdb::CiClass;
use steward_store::{Actor, Store, both_backends};

pub(super) struct Site {
    pub(super) app: Router,
    pub(super) store: Store,
    pub(super) tenant_id: i64,
    pub(super) server: CiClass,
    pub(super) app_class: CiClass,
    pub(super) payroll: i64,
    pub(super) db: i64,
    pub(super) payroll_app: i64,
}

pub(super) fn attribute(name: &str, label: &str, kind: FieldKind, required: bool) -> FormField {
    FormField {
        name: name.into(),
        label: label.into(),
        kind,
        required,
        options: vec![],
    }
}

pub(super) async fn class(
    store: &Store,
    tenant_id: i64,
    name: &str,
    attributes: Vec<FormField>,
) -> CiClass {
    let draft = CiClassDraft {
        name: name.into(),
        description: String::new(),
        attributes,
    }
    .validate()
    .expect("class");
    store
        .create_ci_class(tenant_id, &draft, &Actor::cli())
        .await
        .expect("class")
}

pub(super) async fn ci(
    store: &Store,
    tenant_id: i64,
    class: &CiClass,
    name: &str,
    services: Vec<i64>,
) -> i64 {
    let attributes: Map<String, Value> = class
        .attributes
        .iter()
        .filter(|a| a.required)
        .map(|a| (a.name.clone(), json!(name.to_lowercase())))
        .collect();
    let draft = CiDraft {
        name: name.into(),
        class_id: class.id,
        status: CiStatus::InUse,
        description: String::new(),
        owner_id: None,
        team_id: None,
        external_id: None,
        service_ids: services,
        attributes,
    }
    .validate(&class.name, &class.attributes)
    .expect("ci");
    store
        .create_ci(tenant_id, &draft, &Actor::cli())
        .await
        .expect("ci")
        .id
}

/// Acme with an admin (`ann@`), an agent (`al@`) and an auditor (`ada@`); a Server class
/// (host name required, RAM optional) and an Application class; DB01 and the Payroll app,
/// which depends on DB01 and delivers the Payroll service. Another tenant has an agent (`oz@`).
pub(super) async fn site(store: Store) -> Site {
    let (tenant_id, _) = tenant_with_people(
        &store,
        "Acme",
        &[
            ("ann@acme.test", "Ann", Role::Admin),
            ("al@acme.test", "Al", Role::Agent),
            ("ada@acme.test", "Ada", Role::Auditor),
        ],
    )
    .await;
    tenant_with_people(&store, "Other", &[("oz@other.test", "Oz", Role::Agent)]).await;
    let server = class(
        &store,
        tenant_id,
        "Server",
        vec![
            attribute("hostname", "Host name", FieldKind::Text, true),
            attribute("ram_gb", "RAM (GB)", FieldKind::Number, false),
        ],
    )
    .await;
    let app_class = class(&store, tenant_id, "Application", vec![]).await;
    let service = ServiceDraft {
        name: "Payroll".into(),
        description: String::new(),
        owner_id: None,
        criticality: Criticality::High,
        status: ServiceStatus::Live,
    }
    .validate()
    .expect("service");
    let payroll = store
        .create_service(tenant_id, &service, &Actor::cli())
        .await
        .expect("service")
        .id;
    let db = ci(&store, tenant_id, &server, "DB01", vec![]).await;
    let payroll_app = ci(&store, tenant_id, &app_class, "Payroll app", vec![payroll]).await;
    store
        .create_ci_relationship(tenant_id, payroll_app, db, "depends_on", &Actor::cli())
        .await
        .expect("relationship");
    Site {
        app: router(AppState::new(store.clone(), ServerConfig::default())),
        store,
        tenant_id,
        server,
        app_class,
        payroll,
        db,
        payroll_app,
    }
}

pub(super) async fn page(app: &Router, path: &str, session: &str) -> Page {
    let page = send(app, get(path, session)).await;
    assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.html);
    page
}

/// The `<svg …>…</svg>` of a page with `class` among its classes.
fn svg<'a>(html: &'a str, class: &str) -> &'a str {
    let start = html
        .find(&format!("<svg class=\"chart {class}\""))
        .unwrap_or_else(|| panic!("no {class} drawing in {html}"));
    let end = html[start..].find("</svg>").expect("end of svg") + start;
    &html[start..end]
}

both_backends!(cis_are_listed_and_filtered, |store: Store| async move {
    let s = site(store).await;
    for i in 0..50 {
        ci(
            &s.store,
            s.tenant_id,
            &s.app_class,
            &format!("zz node {i:02}"),
            vec![],
        )
        .await;
    }
    let (al, _) = sign_in(&s.app, "al@acme.test").await;
    let home = page(&s.app, "/", &al).await;
    assert!(home.html.contains("href=\"/cis\""), "the nav has CMDB");

    let all = page(&s.app, "/cis", &al).await;
    assert!(all.html.contains("DB01") && all.html.contains("Payroll app"));
    assert!(all.html.contains("href=\"/cis/new\""), "agents create CIs");
    let next = all
        .html
        .split("<p class=\"pager\"><a href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a next page")
        .replace("&amp;", "&");
    assert!(!all.html.contains("zz node 49"));
    let second = page(&s.app, &next, &al).await;
    assert!(second.html.contains("zz node 49") && !second.html.contains(">DB01<"));

    let servers = page(&s.app, &format!("/cis?class_id={}", s.server.id), &al).await;
    assert!(servers.html.contains(">DB01<") && !servers.html.contains("Payroll app"));
    let words = page(&s.app, "/cis?q=payroll", &al).await;
    assert!(words.html.contains("Payroll app") && !words.html.contains(">DB01<"));
    let delivering = page(&s.app, &format!("/cis?service_id={}", s.payroll), &al).await;
    assert!(delivering.html.contains("Payroll app") && !delivering.html.contains(">DB01<"));
    let retired = page(&s.app, "/cis?status=retired", &al).await;
    assert!(retired.html.contains("No CI matches these filters"));
});

both_backends!(
    a_ci_is_created_related_and_analysed,
    |store: Store| async move {
        let s = site(store).await;
        let (al, csrf) = sign_in(&s.app, "al@acme.test").await;

        let picker = page(&s.app, "/cis/new", &al).await;
        assert!(picker.html.contains("Continue") && !picker.html.contains("Host name"));
        let form = page(&s.app, &format!("/cis/new?class={}", s.server.id), &al).await;
        assert!(
            form.html.contains("Host name <abbr class=\"req\""),
            "required is marked"
        );

        let server = s.server.id.to_string();
        let payroll = s.payroll.to_string();
        let mut fields = vec![
            ("_csrf", csrf.as_str()),
            ("class_id", server.as_str()),
            ("name", "WEB01"),
            ("status", "in_use"),
            ("description", "Front end of payroll"),
            ("external_id", ""),
            ("owner_id", ""),
            ("team_id", ""),
            ("service_ids", payroll.as_str()),
            ("attributes.hostname", ""),
            ("attributes.ram_gb", "lots"),
        ];
        let refused = send(&s.app, post("/cis", &al, &fields)).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused.html.contains("Host name is required"),
            "{}",
            refused.html
        );
        assert!(refused.html.contains("RAM (GB) must be a number"));
        assert!(
            refused.html.contains("value=\"WEB01\"")
                && refused.html.contains("Front end of payroll")
        );
        assert!(
            refused.html.contains("value=\"lots\""),
            "what was typed stays"
        );
        assert!(
            refused
                .html
                .contains(&format!("<option value=\"{payroll}\" selected>Payroll")),
            "the chosen services stay chosen"
        );

        fields[9] = ("attributes.hostname", "web01.acme.test");
        fields[10] = ("attributes.ram_gb", "32");
        let created = send(&s.app, post("/cis", &al, &fields)).await;
        assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.html);
        assert!(
            created.location.ends_with("?done=created"),
            "{}",
            created.location
        );
        let web_path = created.location.split('?').next().expect("path").to_owned();
        let web: i64 = web_path.trim_start_matches("/cis/").parse().expect("id");
        let view = page(&s.app, &created.location, &al).await;
        assert!(view.html.contains("web01.acme.test") && view.html.contains(">Payroll</a>"));
        assert!(view.html.contains("Not related to any other CI yet"));

        // WEB01 runs on DB01 (picked from the suggestions); the Payroll app depends on WEB01
        // (typed by name).
        let db_choice = format!("DB01 #{}", s.db);
        let rel = format!("{web_path}/relationships");
        let related = send(
            &s.app,
            post(
                &rel,
                &al,
                &[
                    ("_csrf", &csrf),
                    ("type", "runs_on"),
                    ("direction", "out"),
                    ("other", &db_choice),
                ],
            ),
        )
        .await;
        assert_eq!(related.status, StatusCode::SEE_OTHER, "{}", related.html);
        let by_name = send(
            &s.app,
            post(
                &rel,
                &al,
                &[
                    ("_csrf", &csrf),
                    ("type", "depends_on"),
                    ("direction", "in"),
                    ("other", "payroll app"),
                ],
            ),
        )
        .await;
        assert_eq!(by_name.status, StatusCode::SEE_OTHER, "{}", by_name.html);
        let unknown = send(
            &s.app,
            post(
                &rel,
                &al,
                &[
                    ("_csrf", &csrf),
                    ("type", "depends_on"),
                    ("direction", "out"),
                    ("other", "Mainframe"),
                ],
            ),
        )
        .await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            unknown.html.contains("No CI is named “Mainframe”"),
            "{}",
            unknown.html
        );
        assert!(unknown.html.contains("value=\"Mainframe\""));

        let view = page(&s.app, &web_path, &al).await;
        let graph = svg(&view.html, "ci-graph");
        assert!(graph.contains("<title id=\"graph-title\">Relationships of WEB01</title>"));
        assert!(
            graph.contains("DB01") && graph.contains("Payroll app"),
            "{graph}"
        );
        assert!(graph.contains(&format!("href=\"/cis/{}\"", s.db)));
        assert!(graph.contains("<title>WEB01 runs on DB01</title>"));
        assert!(
            view.html.contains("<td>runs on</td>") && view.html.contains("<td>is needed by</td>")
        );

        // Impact: DB01 going down takes WEB01 and the Payroll app with it, and so the service.
        let impact = page(&s.app, &format!("/cis/{}/impact", s.db), &al).await;
        assert!(impact.html.contains("WEB01") && impact.html.contains("Payroll app"));
        assert!(
            impact
                .html
                .contains(&format!("<a href=\"/services/{}\">Payroll</a>", s.payroll))
        );
        assert!(svg(&impact.html, "bar-chart").contains("<title>Depth 1: 2 CIs</title>"));
        let upstream = page(
            &s.app,
            &format!("/cis/{}/impact?direction=upstream&depth=1", s.payroll_app),
            &al,
        )
        .await;
        assert!(upstream.html.contains(">DB01</a>") && upstream.html.contains(">WEB01</a>"));
        assert!(
            upstream
                .html
                .contains("<strong>2</strong> CIs reached upstream")
        );

        // Remove the relationship with DB01: the graph loses it.
        let runs_on = s
            .store
            .ci_relationships_of(s.tenant_id, web)
            .await
            .expect("relationships")
            .into_iter()
            .find(|r| r.type_name == "runs_on")
            .expect("runs on");
        let removed = send(
            &s.app,
            post(
                &format!("{web_path}/relationships/{}/delete", runs_on.id),
                &al,
                &[("_csrf", &csrf)],
            ),
        )
        .await;
        assert_eq!(removed.status, StatusCode::SEE_OTHER);
        let view = page(&s.app, &web_path, &al).await;
        assert!(!svg(&view.html, "ci-graph").contains("DB01"));

        // The lifecycle: editing offers only the statuses allowed from in use.
        let edit = page(&s.app, &format!("{web_path}/edit"), &al).await;
        assert!(
            edit.html.contains("value=\"maintenance\"") && !edit.html.contains("value=\"planned\"")
        );
        fields[3] = ("status", "planned");
        let refused = send(&s.app, post(&web_path, &al, &fields)).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused.html.contains("cannot go from in_use to planned"),
            "{}",
            refused.html
        );
        fields[3] = ("status", "maintenance");
        let saved = send(&s.app, post(&web_path, &al, &fields)).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);

        assert!(
            page(&s.app, &web_path, &al)
                .await
                .html
                .contains("<dt>Verified</dt><dd>never</dd>")
        );
        let verified = send(
            &s.app,
            post(&format!("{web_path}/verify"), &al, &[("_csrf", &csrf)]),
        )
        .await;
        assert_eq!(verified.status, StatusCode::SEE_OTHER);
        let view = page(&s.app, &web_path, &al).await;
        assert!(!view.html.contains("<dt>Verified</dt><dd>never</dd>"));
        assert!(view.html.contains("in maintenance"));
    }
);

both_backends!(
    auditors_read_and_other_tenants_see_nothing,
    |store: Store| async move {
        let s = site(store).await;
        let (ada, csrf) = sign_in(&s.app, "ada@acme.test").await;
        let db = format!("/cis/{}", s.db);
        let list = page(&s.app, "/cis", &ada).await;
        assert!(list.html.contains("DB01") && !list.html.contains("New CI"));
        let view = page(&s.app, &db, &ada).await;
        assert!(svg(&view.html, "ci-graph").contains("Payroll app"));
        for button in ["Mark verified", "Add relationship", ">Remove<", ">Edit<"] {
            assert!(!view.html.contains(button), "an auditor sees no {button}");
        }
        page(&s.app, &format!("{db}/impact"), &ada).await;
        let classes = page(&s.app, "/cmdb/classes", &ada).await;
        assert!(classes.html.contains("Server") && !classes.html.contains("New class"));
        for path in [
            "/cis".to_owned(),
            format!("{db}/verify"),
            format!("{db}/relationships"),
            "/cmdb/classes".to_owned(),
        ] {
            let refused = send(
                &s.app,
                post(&path, &ada, &[("_csrf", &csrf), ("name", "x")]),
            )
            .await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
        }
        assert_eq!(
            send(&s.app, get("/cis/new", &ada)).await.status,
            StatusCode::FORBIDDEN
        );

        let (oz, oz_csrf) = sign_in(&s.app, "oz@other.test").await;
        assert!(!page(&s.app, "/cis", &oz).await.html.contains("DB01"));
        for path in [db.clone(), format!("{db}/impact"), format!("{db}/edit")] {
            assert_eq!(
                send(&s.app, get(&path, &oz)).await.status,
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }
        let other = format!("{} #{}", "Payroll app", s.payroll_app);
        let refused = send(
            &s.app,
            post(
                &format!("{db}/relationships"),
                &oz,
                &[
                    ("_csrf", &oz_csrf),
                    ("type", "depends_on"),
                    ("direction", "out"),
                    ("other", &other),
                ],
            ),
        )
        .await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND);
        assert_eq!(
            send(
                &s.app,
                post(&format!("{db}/verify"), &oz, &[("_csrf", &oz_csrf)])
            )
            .await
            .status,
            StatusCode::NOT_FOUND
        );
    }
);

both_backends!(
    admins_define_classes_and_relationship_types,
    |store: Store| async move {
        let s = site(store).await;
        let (ann, csrf) = sign_in(&s.app, "ann@acme.test").await;
        let list = page(&s.app, "/cmdb/classes", &ann).await;
        assert!(
            list.html
                .contains("Host name (text, required), RAM (GB) (number)")
        );
        assert!(
            list.html.contains("<code>runs_on</code>"),
            "built-in types are listed"
        );
        page(&s.app, "/cmdb/classes/new", &ann).await;

        let lines = "ports | Ports | number | required\nbad name | Bad";
        let refused = send(
            &s.app,
            post(
                "/cmdb/classes",
                &ann,
                &[
                    ("_csrf", &csrf),
                    ("name", "Switch"),
                    ("description", ""),
                    ("attributes", lines),
                ],
            ),
        )
        .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.html.contains("Line 2: "), "{}", refused.html);
        assert!(
            refused.html.contains("bad name | Bad") && refused.html.contains("value=\"Switch\"")
        );

        let good = "ports | Ports | number | required\nmodel | Model | select | optional | 24-port, 48-port";
        let created = send(
            &s.app,
            post(
                "/cmdb/classes",
                &ann,
                &[
                    ("_csrf", &csrf),
                    ("name", "Switch"),
                    ("description", "Network switches"),
                    ("attributes", good),
                ],
            ),
        )
        .await;
        assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.html);
        let list = page(&s.app, "/cmdb/classes", &ann).await;
        assert!(
            list.html
                .contains("Ports (number, required), Model (select)")
        );
        let switch = s
            .store
            .ci_class_named(s.tenant_id, "Switch")
            .await
            .expect("switch");
        let edit = page(&s.app, &format!("/cmdb/classes/{}", switch.id), &ann).await;
        assert!(
            edit.html
                .contains("model | Model | select | optional | 24-port, 48-port")
        );
        let form = page(&s.app, &format!("/cis/new?class={}", switch.id), &ann).await;
        assert!(
            form.html.contains("<option value=\"48-port\""),
            "select attributes offer their options"
        );

        let typed = send(
            &s.app,
            post(
                "/cmdb/relationship-types",
                &ann,
                &[
                    ("_csrf", &csrf),
                    ("name", "replicates_to"),
                    ("label", "replicates to"),
                    ("reverse_label", "is replicated from"),
                    ("dependency", "informational"),
                ],
            ),
        )
        .await;
        assert_eq!(typed.status, StatusCode::SEE_OTHER, "{}", typed.html);
        let list = page(&s.app, "/cmdb/classes", &ann).await;
        assert!(list.html.contains("<code>replicates_to</code>") && list.html.contains("your own"));
        let duplicate = send(
            &s.app,
            post(
                "/cmdb/relationship-types",
                &ann,
                &[
                    ("_csrf", &csrf),
                    ("name", "runs_on"),
                    ("label", "x"),
                    ("reverse_label", "y"),
                    ("dependency", "mutual"),
                ],
            ),
        )
        .await;
        assert_eq!(duplicate.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(duplicate.html.contains("is a built-in type"));

        let (al, al_csrf) = sign_in(&s.app, "al@acme.test").await;
        assert!(
            !page(&s.app, "/cmdb/classes", &al)
                .await
                .html
                .contains("New class")
        );
        let refused = send(
            &s.app,
            post(
                "/cmdb/classes",
                &al,
                &[("_csrf", &al_csrf), ("name", "Router")],
            ),
        )
        .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
    }
);
