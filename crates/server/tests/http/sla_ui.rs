//! Service level pages through the real router: the agreements admin, and the clock panel of
//! incident and request pages with exclusions and breach reasons.

use super::support::tenant_with_people;
use super::ui::{cookie_value, get, hidden, send};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use steward_domain::access::Role;
use steward_domain::incident::Priority;
use steward_domain::request::ItemDraft;
use steward_domain::sla::{AgreementDraft, AgreementKind, ClockState, RecordKind, Target};
use steward_server::{AppState, ServerConfig, router};
use steward_store::incident::IncidentFields;
use steward_store::request::{CatalogueItem, RequestFields, ServiceRequest};
use steward_store::{Actor, Store, both_backends};

pub const PASSWORD: &str = "correct horse battery staple";
const MINUTE: i64 = 60_000_000;

struct Site {
    app: Router,
    store: Store,
    tenant_id: i64,
}

impl Site {
    /// A catalogue item without a form or tasks, approved by `approver_ids` (if any).
    async fn item(&self, name: &str, approver_ids: Vec<i64>) -> CatalogueItem {
        let draft = ItemDraft {
            name: name.into(),
            description: String::new(),
            category: String::new(),
            fields: vec![],
            approver_ids,
            tasks: vec![],
            active: true,
        };
        self.store
            .save_item(
                self.tenant_id,
                None,
                &draft.validate().expect("item"),
                &Actor::cli(),
            )
            .await
            .expect("item")
    }

    /// A request for `item` with no answers, raised from the command line.
    async fn request(&self, item: &CatalogueItem) -> ServiceRequest {
        let fields = RequestFields {
            category_id: None,
            custom: Default::default(),
        };
        self.store
            .create_request(
                self.tenant_id,
                item,
                &Default::default(),
                None,
                &fields,
                &Actor::cli(),
            )
            .await
            .expect("request")
    }
}

/// A tenant with a manager (`mia@`), an agent (`al@`), a requester (`rob@`) and an auditor
/// (`ada@`).
async fn site(store: Store) -> Site {
    let (tenant_id, _) = tenant_with_people(
        &store,
        "Acme",
        &[
            ("mia@acme.test", "Mia", Role::Manager),
            ("al@acme.test", "Al", Role::Agent),
            ("rob@acme.test", "Rob", Role::Requester),
            ("ada@acme.test", "Ada", Role::Auditor),
        ],
    )
    .await;
    Site {
        app: router(AppState::new(store.clone(), ServerConfig::default())),
        store,
        tenant_id,
    }
}

pub fn post(path: &str, cookie: &str, fields: &[(&str, &str)]) -> Request<Body> {
    Request::post(path)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(
            serde_urlencoded::to_string(fields).expect("form"),
        ))
        .expect("request")
}

/// Signs `email` in through the form; returns the session cookie and the CSRF token.
pub async fn sign_in(app: &Router, email: &str) -> (String, String) {
    let form = send(app, get("/login", "")).await;
    let login_csrf = cookie_value(&form, "steward_login_csrf").expect("login csrf cookie");
    let reply = send(
        app,
        post(
            "/login",
            &format!("steward_login_csrf={login_csrf}"),
            &[
                ("email", email),
                ("password", PASSWORD),
                ("_csrf", &login_csrf),
                ("next", "/"),
            ],
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "sign-in of {email}");
    let session = format!(
        "steward_session={}",
        cookie_value(&reply, "steward_session").expect("session")
    );
    let mut home = send(app, get("/", &session)).await;
    if home.status == StatusCode::SEE_OTHER {
        home = send(app, get(&home.location, &session)).await;
    }
    let csrf = hidden(&home.html, "_csrf");
    assert!(!csrf.is_empty(), "{}", home.html);
    (session, csrf)
}

/// A redirect's target without its `#fragment`, which a request line does not carry.
fn without_fragment(location: &str) -> String {
    location.split('#').next().unwrap_or_default().to_owned()
}

/// `2026-11-25 09:30 UTC`, as the pages show instants.
fn shown(micros: i64) -> String {
    jiff::Timestamp::from_microsecond(micros)
        .expect("instant")
        .strftime("%Y-%m-%d %H:%M UTC")
        .to_string()
}

fn target(metric: &str, priority: Option<Priority>, minutes: u32) -> Target {
    Target {
        metric: metric.into(),
        priority,
        minutes,
    }
}

fn draft(name: &str, record_kind: RecordKind, targets: Vec<Target>) -> AgreementDraft {
    AgreementDraft::new(name, AgreementKind::Sla, record_kind, targets)
}

fn incident_fields(title: &str, opened_at: i64) -> IncidentFields {
    IncidentFields::new(title, opened_at)
}

/// The fields of a good incident SLA as the form posts them, with `extra` after.
fn gold<'a>(csrf: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("_csrf", csrf),
        ("name", "Gold"),
        ("kind", "sla"),
        ("record_kind", "incident"),
        ("customer_id", ""),
        ("service_id", ""),
        ("team_id", ""),
        ("supplier", ""),
        ("calendar_id", ""),
        ("warn_percent", "75"),
        ("pause_in.incident", "pending:awaiting_customer"),
        ("pause_in.request", "pending_approval"),
        ("milestones[0].name", ""),
        ("targets[0].metric", "first_response"),
        ("targets[0].priority", "any"),
        ("targets[0].hours", "0"),
        ("targets[0].minutes", "30"),
        ("targets[1].metric", "resolution"),
        ("targets[1].priority", "any"),
        ("targets[1].hours", "8"),
        ("targets[1].minutes", ""),
        ("targets[2].metric", "resolution"),
        ("targets[2].priority", "P1"),
        ("targets[2].hours", "2"),
        ("targets[2].minutes", "0"),
        ("targets[3].metric", "resolution"),
        ("targets[3].priority", "any"),
        ("targets[3].hours", ""),
        ("targets[3].minutes", ""),
        ("escalations[0].on", "breach"),
        ("escalations[0].notify_user_id", ""),
        ("escalations[0].reassign_team_id", ""),
        ("active", "true"),
    ];
    fields.extend_from_slice(extra);
    fields
}

both_backends!(
    managers_keep_agreements_in_pages,
    |store: Store| async move {
        let site = site(store).await;
        let (session, csrf) = sign_in(&site.app, "mia@acme.test").await;
        let agreements = || {
            let store = site.store.clone();
            let tenant = site.tenant_id;
            async move { store.agreements(tenant).await.expect("agreements") }
        };

        let list = send(&site.app, get("/agreements", &session)).await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(
            list.html.contains("<h1>Agreements</h1>")
                && list.html.contains("href=\"/agreements\"")
                && list.html.contains("href=\"/agreements/new\""),
            "the page, its navigation entry and the way to add one"
        );
        let blank = send(&site.app, get("/agreements/new", &session)).await;
        assert_eq!(blank.status, StatusCode::OK);
        assert!(
            blank
                .html
                .contains("<option value=\"\" selected>24×7 (no calendar)</option>")
                && blank.html.contains(
                    "name=\"pause_in.incident\" value=\"pending:awaiting_customer\" checked"
                )
                && blank.html.contains("name=\"targets[2].hours\""),
            "a new agreement counts around the clock, pauses by default and has rows to fill: {}",
            blank.html
        );

        // No time on any target row: the rows are ignored and the agreement has no target.
        let no_targets = gold(
            &csrf,
            &[
                ("targets[0].hours", ""),
                ("targets[0].minutes", ""),
                ("targets[1].hours", ""),
                ("targets[2].hours", ""),
                ("targets[2].minutes", ""),
            ],
        );
        // A later value for the same name wins, as it does for a browser's last input.
        let refused = send(&site.app, post("/agreements", &session, &no_targets)).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused
                .html
                .contains("<p class=\"field-error\" id=\"e-targets\">An agreement needs at least one target</p>")
                && refused.html.contains("name=\"name\" value=\"Gold\""),
            "the error at the targets, with what was typed: {}",
            refused.html
        );
        let zero = gold(
            &csrf,
            &[("targets[2].hours", "0"), ("targets[2].minutes", "0")],
        );
        let refused = send(&site.app, post("/agreements", &session, &zero)).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused.html.contains(
                "name=\"targets[2].minutes\" value=\"0\" type=\"number\" min=\"0\" step=\"1\" size=\"4\" inputmode=\"numeric\" aria-label=\"Minutes, target 3\" aria-invalid=\"true\""
            ) && refused
                .html
                .contains("<p class=\"field-error\">A target is from 1 to"),
            "the error is shown at its row: {}",
            refused.html
        );
        let ola = gold(&csrf, &[("kind", "ola")]);
        let refused = send(&site.app, post("/agreements", &session, &ola)).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.html.contains("An OLA needs the team it binds"));
        assert!(agreements().await.is_empty(), "nothing was saved");

        let grown = send(
            &site.app,
            post(
                "/agreements",
                &session,
                &gold(
                    &csrf,
                    &[("_add", "milestones"), ("milestones[0].name", "diagnosed")],
                ),
            ),
        )
        .await;
        assert_eq!(grown.status, StatusCode::OK);
        assert!(
            grown.html.contains("name=\"milestones[1].name\"")
                && grown.html.contains("name=\"milestones[2].name\"")
                && grown
                    .html
                    .contains("<option value=\"diagnosed\">Diagnosed</option>"),
            "two blank rows, and targets may name the new milestone: {}",
            grown.html
        );
        assert!(agreements().await.is_empty(), "adding a row saves nothing");

        let created = send(&site.app, post("/agreements", &session, &gold(&csrf, &[]))).await;
        assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.html);
        let saved = agreements().await;
        assert_eq!(saved.len(), 1);
        let d = &saved[0].draft;
        assert_eq!(
            d.targets,
            vec![
                target("first_response", None, 30),
                target("resolution", None, 480),
                target("resolution", Some(Priority::P1), 120),
            ],
            "the blank row is ignored, hours and minutes are added up"
        );
        assert_eq!(
            d.pause_in,
            Some(vec!["pending:awaiting_customer".to_owned()]),
            "only the incident statuses are read"
        );
        assert!(d.escalations.is_empty() && d.active);
        let path = format!("/agreements/{}", saved[0].id);
        assert_eq!(created.location, format!("{path}?done=created"));

        let page = send(&site.app, get(&created.location, &session)).await;
        assert_eq!(page.status, StatusCode::OK);
        for part in [
            "<h1>Gold</h1>",
            "<th scope=\"col\" class=\"num\">Any priority</th><th scope=\"col\" class=\"num\">P1</th>",
            "<th scope=\"row\">Resolution</th><td class=\"num\">8 h</td><td class=\"num\">2 h</td>",
            "<td class=\"num muted\" title=\"from any priority\">30 min</td>",
            "<td>when the record is opened</td><td>status is pending awaiting customer</td>",
            "an agent has replied or status is resolved or closed or cancelled",
            "24×7 (no calendar)",
        ] {
            assert!(page.html.contains(part), "{part}: {}", page.html);
        }

        let list = send(&site.app, get("/agreements", &session)).await;
        assert!(
            list.html.contains(&format!("<a href=\"{path}\">Gold</a>"))
                && list
                    .html
                    .contains("First response 30 min · Resolution 8 h (P1 2 h)")
                && list.html.contains("<td>All incidents</td>")
                && list
                    .html
                    .contains("<span class=\"badge status-active\">active</span>"),
            "{}",
            list.html
        );

        let edit = send(&site.app, get(&format!("{path}/edit"), &session)).await;
        assert_eq!(edit.status, StatusCode::OK);
        assert!(
            edit.html.contains("name=\"targets[1].hours\" value=\"8\"")
                && edit.html.contains("name=\"targets[2].priority\""),
            "{}",
            edit.html
        );
        let version = hidden(&edit.html, "version");
        let stale = send(
            &site.app,
            post(
                &path,
                &session,
                &gold(&csrf, &[("version", "1"), ("warn_percent", "80")]),
            ),
        )
        .await;
        assert_eq!(stale.status, StatusCode::CONFLICT);
        assert!(
            stale.html.contains("changed by someone else"),
            "{}",
            stale.html
        );
        assert_eq!(
            agreements().await[0].draft.warn_percent,
            75,
            "nothing changed"
        );

        let mut changed = gold(&csrf, &[("warn_percent", "80")]);
        changed.retain(|(k, _)| *k != "active");
        changed.push(("version", &version));
        let saved = send(&site.app, post(&path, &session, &changed)).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
        assert_eq!(saved.location, format!("{path}?done=saved"));
        let after = &agreements().await[0].draft;
        assert_eq!(after.warn_percent, 80);
        assert!(!after.active, "an unticked box deactivates");
        let list = send(&site.app, get("/agreements", &session)).await;
        assert!(
            list.html
                .contains("<span class=\"badge status-disabled\">inactive</span>")
        );
    }
);

both_backends!(
    agents_read_agreements_and_requesters_do_not,
    |store: Store| async move {
        let site = site(store).await;
        site.store
            .create_agreement(
                site.tenant_id,
                &draft(
                    "Standard",
                    RecordKind::Incident,
                    vec![target("resolution", None, 60)],
                )
                .validate()
                .expect("valid"),
                &Actor::cli(),
            )
            .await
            .expect("agreement");
        let (agent, _) = sign_in(&site.app, "al@acme.test").await;
        let list = send(&site.app, get("/agreements", &agent)).await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(list.html.contains("Standard") && !list.html.contains("/agreements/new"));
        assert_eq!(
            send(&site.app, get("/agreements/new", &agent)).await.status,
            StatusCode::FORBIDDEN
        );

        let (requester, csrf) = sign_in(&site.app, "rob@acme.test").await;
        for path in ["/agreements", "/agreements/new", "/agreements/1"] {
            assert_eq!(
                send(&site.app, get(path, &requester)).await.status,
                StatusCode::FORBIDDEN,
                "{path}"
            );
        }
        let refused = send(
            &site.app,
            post("/agreements", &requester, &gold(&csrf, &[])),
        )
        .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let home = send(&site.app, get("/", &requester)).await;
        assert!(
            !home.html.contains("href=\"/agreements\""),
            "the navigation hides it"
        );
        assert_eq!(
            site.store
                .agreements(site.tenant_id)
                .await
                .expect("list")
                .len(),
            1
        );
    }
);

both_backends!(
    record_pages_show_clocks_exclusions_and_breach_reasons,
    |store: Store| async move {
        let site = site(store).await;
        let (t, actor) = (site.tenant_id, Actor::cli());
        let agreement = site
            .store
            .create_agreement(
                t,
                &draft(
                    "Standard",
                    RecordKind::Incident,
                    vec![
                        target("first_response", None, 30),
                        target("resolution", None, 480),
                    ],
                )
                .validate()
                .expect("valid"),
                &actor,
            )
            .await
            .expect("agreement");
        let now = steward_store::now_micros();
        let fresh = site
            .store
            .create_incident(t, &incident_fields("Mail down", now), &actor)
            .await
            .expect("incident");
        let late = site
            .store
            .create_incident(
                t,
                &incident_fields("Printer on fire", now - 600 * MINUTE),
                &actor,
            )
            .await
            .expect("incident");
        let (session, csrf) = sign_in(&site.app, "al@acme.test").await;

        let page = send(
            &site.app,
            get(&format!("/incidents/{}", fresh.key()), &session),
        )
        .await;
        assert_eq!(page.status, StatusCode::OK);
        for part in [
            "<h2 id=\"sla-heading\">Service levels</h2>".to_owned(),
            "<strong>Resolution</strong>".to_owned(),
            "<span class=\"badge sla-running\">running</span>".to_owned(),
            format!(
                "Due <strong>{}</strong>",
                shown(fresh.opened_at + 480 * MINUTE)
            ),
            format!(
                "<a href=\"/agreements/{}\">Standard</a> (SLA)",
                agreement.id
            ),
            "<rect class=\"sla-fill\" x=\"0\" y=\"0\" width=\"0\" height=\"6\">".to_owned(),
            "<line class=\"sla-mark\" x1=\"75\" x2=\"75\"".to_owned(),
            "Starts when the record is opened; pauses while status is pending awaiting customer"
                .to_owned(),
            "Exclude from attainment".to_owned(),
        ] {
            assert!(page.html.contains(&part), "{part}: {}", page.html);
        }
        assert!(page.html.contains("7 h 59 min left") || page.html.contains("8 h left"));

        let exclusion = format!("/incidents/{}/sla/exclusion", fresh.key());
        let refused = send(
            &site.app,
            post(&exclusion, &session, &[("_csrf", &csrf), ("reason", "  ")]),
        )
        .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused.html.contains(
                "<p class=\"field-error\" id=\"e-exclusion\">Say why the record should not count towards attainment</p>"
            ) && refused.html.contains("<details class=\"sla-exclude\" open>"),
            "{}",
            refused.html
        );
        let excluded = || {
            let store = site.store.clone();
            async move {
                store
                    .sla_exclusion(t, RecordKind::Incident, fresh.id)
                    .await
                    .expect("exclusion")
            }
        };
        assert_eq!(excluded().await, None);
        let done = send(
            &site.app,
            post(
                &exclusion,
                &session,
                &[("_csrf", &csrf), ("reason", "Duplicate of INC-7")],
            ),
        )
        .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
        assert_eq!(
            done.location,
            format!("/incidents/{}?done=saved#sla", fresh.key())
        );
        assert_eq!(excluded().await.as_deref(), Some("Duplicate of INC-7"));
        let page = send(&site.app, get(&without_fragment(&done.location), &session)).await;
        assert!(
            page.html
                .contains("Not counted towards attainment: Duplicate of INC-7")
                && page.html.contains("Count it again"),
            "{}",
            page.html
        );
        let back = send(
            &site.app,
            post(
                &exclusion,
                &session,
                &[("_csrf", &csrf), ("include", "true")],
            ),
        )
        .await;
        assert_eq!(back.status, StatusCode::SEE_OTHER);
        assert_eq!(excluded().await, None);

        let clocks = site
            .store
            .record_clocks(t, RecordKind::Incident, late.id)
            .await
            .expect("clocks");
        let resolution = clocks
            .iter()
            .find(|c| c.target == "resolution")
            .expect("resolution clock");
        assert_eq!(resolution.state, ClockState::Breached);
        let page = send(
            &site.app,
            get(&format!("/incidents/{}", late.key()), &session),
        )
        .await;
        assert!(
            page.html
                .contains("<span class=\"badge sla-breached\">breached</span>")
                && page.html.contains("overdue by 2 h")
                && page
                    .html
                    .contains("<rect class=\"sla-fill\" x=\"0\" y=\"0\" width=\"100\"")
                && page.html.contains(&format!(
                    "action=\"/incidents/{}/sla/{}/reason\"",
                    late.key(),
                    resolution.id
                )),
            "{}",
            page.html
        );
        let reason = format!("/incidents/{}/sla/{}/reason", late.key(), resolution.id);
        let empty = send(
            &site.app,
            post(&reason, &session, &[("_csrf", &csrf), ("reason", "")]),
        )
        .await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            empty.html.contains(&format!(
                "<p class=\"field-error\" id=\"e-breach-{}\">Give the reason in 1 to 2000 characters</p>",
                resolution.id
            )),
            "{}",
            empty.html
        );
        let given = send(
            &site.app,
            post(
                &reason,
                &session,
                &[("_csrf", &csrf), ("reason", "Waited for the supplier")],
            ),
        )
        .await;
        assert_eq!(given.status, StatusCode::SEE_OTHER, "{}", given.html);
        let page = send(&site.app, get(&without_fragment(&given.location), &session)).await;
        assert!(
            page.html
                .contains("<dt>Breach reason</dt><dd class=\"prose\">Waited for the supplier</dd>")
                && page.html.contains("Change the reason"),
            "{}",
            page.html
        );
        let stored = site
            .store
            .record_clocks(t, RecordKind::Incident, late.id)
            .await
            .expect("clocks");
        assert_eq!(
            stored
                .iter()
                .find(|c| c.id == resolution.id)
                .and_then(|c| c.breach_reason.as_deref()),
            Some("Waited for the supplier")
        );

        // A clock that has not breached takes no reason; the page says so.
        let running = site
            .store
            .record_clocks(t, RecordKind::Incident, fresh.id)
            .await
            .expect("clocks")
            .remove(0);
        let refused = send(
            &site.app,
            post(
                &format!("/incidents/{}/sla/{}/reason", fresh.key(), running.id),
                &session,
                &[("_csrf", &csrf), ("reason", "Too early")],
            ),
        )
        .await;
        assert_eq!(refused.status, StatusCode::CONFLICT);
        assert!(
            refused.html.contains("has not breached"),
            "{}",
            refused.html
        );
        let foreign = send(
            &site.app,
            post(
                &format!("/incidents/{}/sla/{}/reason", fresh.key(), resolution.id),
                &session,
                &[("_csrf", &csrf), ("reason", "Not this record's clock")],
            ),
        )
        .await;
        assert_eq!(foreign.status, StatusCode::NOT_FOUND);

        // Requests: no agreement yet, then one with a clock and an exclusion of their own.
        let item = site.item("New laptop", vec![]).await;
        let uncovered = site.request(&item).await;
        let page = send(
            &site.app,
            get(&format!("/requests/{}", uncovered.key()), &session),
        )
        .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.html.contains("No agreement covers this record."),
            "{}",
            page.html
        );
        let fulfil = draft(
            "Laptops",
            RecordKind::Request,
            vec![target("resolution", None, 2400)],
        );
        site.store
            .create_agreement(t, &fulfil.validate().expect("valid"), &actor)
            .await
            .expect("agreement");
        let covered = site.request(&item).await;
        let page = send(
            &site.app,
            get(&format!("/requests/{}", covered.key()), &session),
        )
        .await;
        assert!(
            page.html.contains("<strong>Resolution</strong>")
                && page.html.contains(&format!(
                    "Due <strong>{}</strong>",
                    shown(covered.opened_at + 2400 * MINUTE)
                ))
                && page.html.contains("40 h left"),
            "{}",
            page.html
        );
        let done = send(
            &site.app,
            post(
                &format!("/requests/{}/sla/exclusion", covered.key()),
                &session,
                &[("_csrf", &csrf), ("reason", "Test order")],
            ),
        )
        .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
        assert_eq!(
            site.store
                .sla_exclusion(t, RecordKind::Request, covered.id)
                .await
                .expect("exclusion")
                .as_deref(),
            Some("Test order")
        );
    }
);

// Named approvers see the approval form on the request page, unless their role may not
// decide: an auditor reviews, and the API would refuse the decision anyway.
both_backends!(
    an_auditor_approver_is_not_offered_the_decision,
    |store: Store| async move {
        let site = site(store).await;
        let t = site.tenant_id;
        let users = site
            .store
            .users(t, &Default::default(), &Default::default())
            .await
            .expect("users");
        let id_of = |email: &str| {
            users
                .items
                .iter()
                .find(|u| u.email == email)
                .map(|u| u.id)
                .expect("user")
        };
        let approvers = vec![id_of("al@acme.test"), id_of("ada@acme.test")];
        let item = site.item("Software licence", approvers).await;
        let request = site.request(&item).await;
        let path = format!("/requests/{}", request.key());
        for (email, offered) in [("al@acme.test", true), ("ada@acme.test", false)] {
            let (session, _) = sign_in(&site.app, email).await;
            let page = send(&site.app, get(&path, &session)).await;
            assert_eq!(page.status, StatusCode::OK, "{email}");
            assert_eq!(
                page.html.contains("Your approval"),
                offered,
                "{email}: {}",
                page.html
            );
        }
    }
);
