//! The authorisation matrix: every operation of the OpenAPI document, called as every role of
//! tenant A, as the admin of tenant B and without credentials, against the expected-access
//! table in `access.tsv`. An operation missing from the table fails the test, so a new route
//! cannot ship without someone deciding who may call it.
//!
//! Besides the status, the test checks that a refused write changes nothing (tenant A's journal
//! does not move), that tenant B never sees a byte of tenant A's records, and that requesters
//! never see records that are not theirs.
//!
//! `AUTHZ_DUMP=1 cargo test -p steward-server --test http authz -- --nocapture` prints every
//! call and its status.

use super::api::{Reply, TestApp, app};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::time::Instant;
use steward_domain::access::Role;
use steward_store::journal::JournalFilter;
use steward_store::{Actor, PageRequest, Store, both_backends};

const TABLE: &str = include_str!("access.tsv");

/// In the name of every tenant-A fixture: tenant B must never read it.
const SECRET: &str = "Zanzibar";
/// In the name of tenant-A records the requester neither raised nor may read.
const NOT_YOURS: &str = "Kilimanjaro";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Role(Role),
    Other,
    Anon,
}

impl Caller {
    const ALL: [Caller; 7] = [
        Caller::Role(Role::Admin),
        Caller::Role(Role::Manager),
        Caller::Role(Role::Agent),
        Caller::Role(Role::Auditor),
        Caller::Role(Role::Requester),
        Caller::Other,
        Caller::Anon,
    ];

    fn name(self) -> &'static str {
        match self {
            Caller::Role(role) => role.as_str(),
            Caller::Other => "other",
            Caller::Anon => "anon",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Past authorisation: anything but 401, 403, 404, 405 or a server error.
    Ok,
    Status(u16),
}

impl Outcome {
    fn parse(text: &str) -> Option<Outcome> {
        match text {
            "ok" => Some(Outcome::Ok),
            "401" | "403" | "404" => text.parse().ok().map(Outcome::Status),
            _ => None,
        }
    }

    fn matches(self, status: StatusCode) -> bool {
        match self {
            Outcome::Ok => {
                !matches!(status.as_u16(), 401 | 403 | 404 | 405) && !status.is_server_error()
            }
            Outcome::Status(code) => status.as_u16() == code,
        }
    }

    fn label(self) -> String {
        match self {
            Outcome::Ok => "ok".into(),
            Outcome::Status(code) => code.to_string(),
        }
    }
}

struct Row {
    line: usize,
    method: Method,
    path: String,
    outcomes: [Outcome; 7],
}

fn parse_table() -> Result<Vec<Row>, Vec<String>> {
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in TABLE.lines().enumerate() {
        let line_no = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cells: Vec<&str> = line.split_whitespace().collect();
        if cells.len() != 2 + Caller::ALL.len() {
            errors.push(format!(
                "access.tsv:{line_no}: expected {} columns, found {}",
                2 + Caller::ALL.len(),
                cells.len()
            ));
            continue;
        }
        let Ok(method) = cells[0].parse::<Method>() else {
            errors.push(format!("access.tsv:{line_no}: bad method `{}`", cells[0]));
            continue;
        };
        let mut outcomes = [Outcome::Ok; 7];
        let mut bad = false;
        for (j, cell) in cells[2..].iter().enumerate() {
            match Outcome::parse(cell) {
                Some(o) => outcomes[j] = o,
                None => {
                    errors.push(format!(
                        "access.tsv:{line_no}: bad outcome `{cell}` for {} (use ok, 401, 403 or 404)",
                        Caller::ALL[j].name()
                    ));
                    bad = true;
                }
            }
        }
        if !bad {
            rows.push(Row {
                line: line_no,
                method,
                path: cells[1].to_owned(),
                outcomes,
            });
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// Every (METHOD, path) of the OpenAPI document.
fn documented_operations() -> BTreeSet<(String, String)> {
    let doc = steward_server::api::openapi();
    let json = serde_json::to_value(&*doc).expect("json");
    let mut ops = BTreeSet::new();
    for (path, item) in json["paths"].as_object().expect("paths") {
        for method in [
            "get", "put", "post", "delete", "options", "head", "patch", "trace",
        ] {
            if item.get(method).is_some() {
                ops.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

/// (a) operations of the OpenAPI document missing from the table, (b) rows of the table no
/// longer in the document, and rows listed twice.
fn coverage_problems(rows: &[Row]) -> Vec<String> {
    let documented = documented_operations();
    let mut listed = BTreeSet::new();
    let mut problems = Vec::new();
    for row in rows {
        let op = (row.method.to_string(), row.path.clone());
        if !listed.insert(op.clone()) {
            problems.push(format!(
                "access.tsv:{}: {} {} is listed twice",
                row.line, op.0, op.1
            ));
        }
    }
    for (method, path) in documented.difference(&listed) {
        problems.push(format!(
            "{method} {path} is in the OpenAPI document but not in access.tsv: decide who may call it"
        ));
    }
    for (method, path) in listed.difference(&documented) {
        problems.push(format!(
            "access.tsv: {method} {path} is no longer in the OpenAPI document"
        ));
    }
    problems
}

/// The same check without a database, for quick feedback when adding a route.
#[test]
fn the_access_table_names_every_operation_once() {
    let rows = parse_table().unwrap_or_else(|e| panic!("{}", e.join("\n")));
    let problems = coverage_problems(&rows);
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// The records the calls address, all in tenant A: a key or id per kind for tenant A's users
/// (`key`) and the numeric id for tenant B's admin (`id`), so that B's own `INC-1` is never
/// mistaken for A's.
#[derive(Clone)]
struct Fixtures {
    key: HashMap<&'static str, String>,
    id: HashMap<&'static str, String>,
    manager_id: i64,
    incident2_key: String,
    incident2_id: i64,
    request2_key: String,
    item_id: i64,
    settings: Value,
    change_policy: Value,
}

impl Fixtures {
    fn set(&mut self, name: &'static str, key: impl ToString, id: impl ToString) {
        self.key.insert(name, key.to_string());
        self.id.insert(name, id.to_string());
    }

    fn both(&mut self, name: &'static str, id: impl ToString) {
        let id = id.to_string();
        self.set(name, &id, &id);
    }
}

fn created(reply: &Reply, what: &str) -> Value {
    assert!(
        reply.status.is_success(),
        "creating the {what} fixture: {} {}",
        reply.status,
        reply.text
    );
    reply.body.clone()
}

fn id_of(body: &Value) -> i64 {
    body["id"].as_i64().expect("id")
}

async fn fixtures(app: &TestApp) -> Fixtures {
    let admin = Role::Admin;
    let mut fx = Fixtures {
        key: HashMap::new(),
        id: HashMap::new(),
        manager_id: app.user_id(Role::Manager).await,
        incident2_key: String::new(),
        incident2_id: 0,
        request2_key: String::new(),
        item_id: 0,
        settings: app.get("/api/v1/settings", admin).await.body,
        change_policy: app.get("/api/v1/change-policy", admin).await.body,
    };
    fx.set("kind", "incident", "incident");
    fx.set("import_kind", "incidents", "incidents");
    fx.set("event", "opened", "opened");

    // An agreement first, so the incident and the request get clocks.
    let agreement = app
        .post(
            "/api/v1/sla/agreements",
            admin,
            agreement_body(&format!("{SECRET} standard")),
        )
        .await;
    fx.both("agreement", id_of(&created(&agreement, "agreement")));
    let for_requests = app
        .post(
            "/api/v1/sla/agreements",
            admin,
            json!({"name": format!("{SECRET} requests"), "kind": "sla", "record_kind": "request",
                   "targets": [{"metric": "resolution", "minutes": 480}]}),
        )
        .await;
    created(&for_requests, "request agreement");

    let service = app
        .post(
            "/api/v1/services",
            admin,
            json!({"name": format!("{SECRET} payroll")}),
        )
        .await;
    fx.both("service", id_of(&created(&service, "service")));
    let customer = app
        .post(
            "/api/v1/customers",
            admin,
            json!({"name": format!("{SECRET} Corp")}),
        )
        .await;
    let customer = id_of(&created(&customer, "customer"));
    fx.both("customer", customer);
    let contact = app
        .post(
            &format!("/api/v1/customers/{customer}/contacts"),
            admin,
            json!({"name": format!("{SECRET} Contact"), "email": "contact@zanzibar.test"}),
        )
        .await;
    fx.both("contact", id_of(&created(&contact, "contact")));
    let team = app
        .post(
            "/api/v1/teams",
            admin,
            json!({"name": format!("{SECRET} team")}),
        )
        .await;
    fx.both("team", id_of(&created(&team, "team")));
    let user = app
        .post(
            "/api/v1/users",
            admin,
            json!({"email": "fixture@zanzibar.test", "name": format!("{SECRET} fixture"), "role": "agent"}),
        )
        .await;
    let user = id_of(&created(&user, "user"));
    fx.both("user", user);
    let (token, _) = app
        .store
        .create_token(app.tenant_id, user, "fixture", &Actor::cli())
        .await
        .expect("token");
    fx.both("token", token.id);
    let category = app
        .post(
            "/api/v1/categories",
            admin,
            json!({"name": format!("{SECRET} hardware")}),
        )
        .await;
    fx.both("category", id_of(&created(&category, "category")));
    let calendar = app
        .post(
            "/api/v1/calendars",
            admin,
            calendar_body(&format!("{SECRET} office")),
        )
        .await;
    fx.both("calendar", id_of(&created(&calendar, "calendar")));
    cmdb_fixtures(app, &mut fx).await;
    change_fixtures(app, &mut fx).await;
    design_fixtures(app, &mut fx).await;
    // The catalogue is the same for every tenant; what differs is each tenant's evidence.
    fx.both("clause", "8.2.1");
    fx.both("requirement", "8.2.1-a");
    release_fixtures(app, &mut fx).await;
    asset_fixtures(app, &mut fx).await;
    certificate_fixtures(app, &mut fx).await;
    register_fixtures(app, &mut fx).await;
    role_fixtures(app, &mut fx).await;
    competence_fixtures(app, &mut fx).await;
    Box::pin(relationship_fixtures(app, &mut fx)).await;
    document_fixtures(app, &mut fx).await;
    audit_fixtures(app, &mut fx).await;
    nonconformity_fixtures(app, &mut fx).await;
    review_fixtures(app, &mut fx).await;
    Box::pin(supplier_fixtures(app, &mut fx)).await;
    let view = app
        .post(
            "/api/v1/views",
            Role::Manager,
            json!({"kind": "incidents", "name": format!("{SECRET} shared"), "shared": true}),
        )
        .await;
    fx.both("view", id_of(&created(&view, "view")));

    // The requester's own incident, and one of someone else's.
    let incident = app
        .post(
            "/api/v1/incidents",
            Role::Requester,
            json!({"title": format!("{SECRET} printer")}),
        )
        .await;
    let incident = created(&incident, "incident");
    let incident_key = incident["key"].as_str().expect("key").to_owned();
    fx.set("incident", &incident_key, id_of(&incident));
    let other = app
        .post(
            "/api/v1/incidents",
            Role::Agent,
            json!({"title": format!("{SECRET} {NOT_YOURS} outage")}),
        )
        .await;
    let other = created(&other, "second incident");
    fx.incident2_key = other["key"].as_str().expect("key").to_owned();
    fx.incident2_id = id_of(&other);

    let upload = Request::post(format!(
        "/api/v1/incidents/{incident_key}/attachments?filename=zanzibar.log"
    ))
    .header(
        header::AUTHORIZATION,
        format!("Bearer {}", app.token(admin)),
    )
    .header(header::CONTENT_TYPE, "text/plain")
    .body(Body::from(format!("{SECRET} log")))
    .expect("request");
    let attachment = app.send(upload).await;
    fx.both("attachment", id_of(&created(&attachment, "attachment")));
    let watcher = watcher(app, &incident_key, 0).await;
    fx.both("watcher", watcher);
    let sla = app
        .get(&format!("/api/v1/incidents/{incident_key}/sla"), admin)
        .await;
    fx.both(
        "incident_clock",
        sla.body[0]["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("the incident has no clock: {}", sla.text)),
    );

    // A catalogue item without approvers: its requests go straight to fulfilment, with a task.
    let item = app
        .post(
            "/api/v1/catalogue-items",
            admin,
            json!({"name": format!("{SECRET} laptop"), "tasks": [{"title": format!("{SECRET} hand over")}]}),
        )
        .await;
    fx.item_id = id_of(&created(&item, "catalogue item"));
    fx.both("item", fx.item_id);
    let request = app
        .post(
            "/api/v1/requests",
            Role::Requester,
            json!({"item_id": fx.item_id}),
        )
        .await;
    let request = created(&request, "request");
    let request_key = request["key"].as_str().expect("key").to_owned();
    fx.set("request", &request_key, id_of(&request));
    let request = app
        .get(&format!("/api/v1/requests/{request_key}"), admin)
        .await;
    fx.both(
        "task",
        request.body["tasks"][0]["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("the request has no task: {}", request.text)),
    );
    fx.both(
        "request_clock",
        request.body["sla"][0]["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("the request has no clock: {}", request.text)),
    );
    let agents_request = app
        .post(
            "/api/v1/requests",
            Role::Agent,
            json!({"item_id": fx.item_id}),
        )
        .await;
    let agents_request = created(&agents_request, "agent's request");
    fx.request2_key = agents_request["key"].as_str().expect("key").to_owned();
    let retired = app
        .post(
            "/api/v1/catalogue-items",
            admin,
            json!({"name": format!("{SECRET} {NOT_YOURS} retired"), "active": false}),
        )
        .await;
    created(&retired, "retired catalogue item");
    let note = app
        .post(
            &format!("/api/v1/incidents/{incident_key}/comments"),
            admin,
            json!({"body": format!("{SECRET} {NOT_YOURS} internal note"), "public": false}),
        )
        .await;
    created(&note, "internal note");

    // A problem that became a known error.
    let problem = app
        .post(
            "/api/v1/problems",
            admin,
            json!({"title": format!("{SECRET} {NOT_YOURS} queue"), "incidents": [incident_key]}),
        )
        .await;
    let problem = created(&problem, "problem");
    let problem_key = problem["key"].as_str().expect("key").to_owned();
    fx.set("problem", &problem_key, id_of(&problem));
    let investigating = app
        .patch(
            &format!("/api/v1/problems/{problem_key}"),
            admin,
            json!({"status": "investigating"}),
        )
        .await;
    created(&investigating, "problem under investigation");
    let known = app
        .patch(
            &format!("/api/v1/problems/{problem_key}"),
            admin,
            json!({"status": "known_error", "root_cause": format!("{SECRET} queue too small"), "workaround": "Restart it"}),
        )
        .await;
    created(&known, "known error");
    let known = app.get("/api/v1/known-errors", admin).await;
    let known = &known.body["items"][0];
    fx.set(
        "known_error",
        known["key"].as_str().expect("key"),
        id_of(known),
    );

    // A published public article (requesters may read it) and an internal draft (they may not).
    let article = app
        .post(
            "/api/v1/knowledge",
            admin,
            json!({"title": format!("{SECRET} printing guide"), "body": "Turn it off and on.", "public": true}),
        )
        .await;
    let article = created(&article, "article");
    let article_key = article["key"].as_str().expect("key").to_owned();
    for status in ["review", "published"] {
        let moved = app
            .patch(
                &format!("/api/v1/knowledge/{article_key}"),
                admin,
                json!({ "status": status }),
            )
            .await;
        created(&moved, "published article");
    }
    fx.set("article", &article_key, id_of(&article));
    let internal = app
        .post(
            "/api/v1/knowledge",
            admin,
            json!({"title": format!("{SECRET} {NOT_YOURS} runbook"), "body": "Internal.", "public": false}),
        )
        .await;
    created(&internal, "internal article");
    fx
}

fn agreement_body(name: &str) -> Value {
    json!({
        "name": name,
        "kind": "sla",
        "targets": [
            {"metric": "first_response", "minutes": 30},
            {"metric": "resolution", "minutes": 60}
        ]
    })
}

fn calendar_body(name: &str) -> Value {
    json!({
        "name": name,
        "timezone": "Europe/London",
        "hours": [{"weekday": "mon", "start": "09:00", "end": "17:00"}],
        "holidays": [{"date": "2026-12-25", "name": "Christmas Day"}]
    })
}

async fn watcher(app: &TestApp, incident_key: &str, n: usize) -> i64 {
    let reply = app
        .post(
            &format!("/api/v1/incidents/{incident_key}/watchers"),
            Role::Admin,
            json!({"email": format!("watcher{n}@zanzibar.test")}),
        )
        .await;
    id_of(&created(&reply, "watcher"))
}

/// A CI class, two CIs of it and a relationship between them.
async fn cmdb_fixtures(app: &TestApp, fx: &mut Fixtures) {
    let class = app
        .post("/api/v1/ci-classes", Role::Admin, ci_class_body())
        .await;
    fx.both("ci_class", id_of(&created(&class, "ci class")));
    let ci = app.post("/api/v1/cis", Role::Admin, ci_body("db01")).await;
    fx.both("ci", id_of(&created(&ci, "ci")));
    let host = app
        .post("/api/v1/cis", Role::Admin, ci_body("host01"))
        .await;
    fx.both("ci_host", id_of(&created(&host, "ci")));
    let relationship = app
        .post(
            "/api/v1/ci-relationships",
            Role::Admin,
            relationship_body(fx),
        )
        .await;
    fx.both(
        "ci_relationship",
        id_of(&created(&relationship, "ci relationship")),
    );
    let baseline = app
        .post(
            "/api/v1/ci-baselines",
            Role::Admin,
            json!({"name": format!("{SECRET} baseline")}),
        )
        .await;
    fx.both("ci_baseline", id_of(&created(&baseline, "ci baseline")));
}

/// A draft change on the fixture CI, a blackout, and the admin's delegation to the fixture user.
async fn change_fixtures(app: &TestApp, fx: &mut Fixtures) {
    let change = app
        .post(
            "/api/v1/changes",
            Role::Admin,
            json!({"title": format!("{SECRET} upgrade"), "type": "normal",
                   "planned_start": "2030-01-01T00:00:00Z", "planned_end": "2030-01-01T02:00:00Z",
                   "cis": [fx.id["ci"].parse::<i64>().unwrap_or_default()],
                   "implementation_plan": "Upgrade", "backout_plan": "Downgrade"}),
        )
        .await;
    let change = created(&change, "change");
    fx.set(
        "change",
        change["key"].as_str().expect("key"),
        id_of(&change),
    );
    let blackout = app
        .post(
            "/api/v1/change-blackouts",
            Role::Admin,
            blackout_body(&format!("{SECRET} freeze")),
        )
        .await;
    fx.both("blackout", id_of(&created(&blackout, "blackout")));
    let delegation = app
        .post(
            "/api/v1/change-delegations",
            Role::Admin,
            delegation_body(fx),
        )
        .await;
    fx.both("delegation", id_of(&created(&delegation, "delegation")));
    let template = app
        .post(
            "/api/v1/change-templates",
            Role::Admin,
            json!({"name": format!("{SECRET} template"), "implementation_plan": "Do", "backout_plan": "Undo"}),
        )
        .await;
    fx.both("template", id_of(&created(&template, "template")));
}

/// A built release with one criterion and a test deployment in progress.
async fn release_fixtures(app: &TestApp, fx: &mut Fixtures) {
    let release = app
        .post(
            "/api/v1/releases",
            Role::Admin,
            json!({"title": format!("{SECRET} portal 2.0"), "kind": "minor"}),
        )
        .await;
    let release = created(&release, "release");
    let key = release["key"].as_str().expect("key").to_owned();
    fx.set("release", &key, id_of(&release));
    let built = app
        .post(
            &format!("/api/v1/releases/{key}/transitions"),
            Role::Admin,
            json!({"to": "built"}),
        )
        .await;
    created(&built, "built release");
    let with_criterion = app
        .post(
            &format!("/api/v1/releases/{key}/criteria"),
            Role::Admin,
            json!({"text": format!("{SECRET} smoke tests pass")}),
        )
        .await;
    let criteria = created(&with_criterion, "release criterion")["criteria"].clone();
    fx.both(
        "criterion",
        criteria[0]["id"].as_i64().expect("criterion id"),
    );
    let deployment = app
        .post(
            &format!("/api/v1/releases/{key}/deployments"),
            Role::Admin,
            json!({"environment": "test"}),
        )
        .await;
    fx.both("deployment", id_of(&created(&deployment, "deployment")));
}

/// An ordered laptop.
async fn asset_fixtures(app: &TestApp, fx: &mut Fixtures) {
    let asset = app
        .post(
            "/api/v1/assets",
            Role::Admin,
            json!({"tag": "LT-FIXTURE", "name": format!("{SECRET} laptop"), "kind": "hardware"}),
        )
        .await;
    fx.both("asset", id_of(&created(&asset, "asset")));
}

/// An open risk, a hand-measured objective and a proposed improvement.
async fn register_fixtures(app: &TestApp, fx: &mut Fixtures) {
    let risk = app
        .post(
            "/api/v1/risks",
            Role::Admin,
            json!({"kind": "risk", "title": format!("{SECRET} risk"), "likelihood": 3, "impact": 4,
                   "treatment": "accept", "review_date": "2099-01-01"}),
        )
        .await;
    fx.both("risk", id_of(&created(&risk, "risk")));
    let objective = app
        .post(
            "/api/v1/objectives",
            Role::Admin,
            json!({"title": format!("{SECRET} objective"), "kpi": "manual", "direction": "at_least",
                   "target": 4, "unit": "points", "owner_id": fx.manager_id}),
        )
        .await;
    fx.both("objective", id_of(&created(&objective, "objective")));
    let improvement = app
        .post(
            "/api/v1/improvements",
            Role::Admin,
            json!({"title": format!("{SECRET} improvement"), "source": "staff"}),
        )
        .await;
    fx.both("improvement", id_of(&created(&improvement, "improvement")));
}

/// A received complaint of the customer, owned by the manager, and a satisfaction survey.
async fn relationship_fixtures(app: &TestApp, fx: &mut Fixtures) {
    let complaint = app
        .post(
            "/api/v1/complaints",
            Role::Admin,
            json!({"customer_id": fx.id["customer"].parse::<i64>().unwrap_or_default(),
                   "complainant": "Matrix", "received_on": "2026-01-05", "channel": "email",
                   "summary": format!("{SECRET} complaint"), "owner_id": fx.manager_id,
                   "target_date": "2027-12-31"}),
        )
        .await;
    fx.both("complaint", id_of(&created(&complaint, "complaint")));
    let survey = app
        .post(
            "/api/v1/satisfaction/surveys",
            Role::Admin,
            json!({"conducted_on": "2026-01-05", "sample_size": 10, "responses": 4,
                   "average_score": 4.2, "analysis": format!("{SECRET} survey")}),
        )
        .await;
    fx.both("survey", id_of(&created(&survey, "survey")));
}

/// A requirement of the role, the manager's record of it and an open action.
async fn competence_fixtures(app: &TestApp, fx: &mut Fixtures) {
    let requirement = app
        .post(
            "/api/v1/competence/requirements",
            Role::Admin,
            json!({"role_id": fx.id["sms_role"].parse::<i64>().unwrap_or_default(),
                   "name": format!("{SECRET} requirement")}),
        )
        .await;
    let requirement_id = id_of(&created(&requirement, "competence requirement"));
    fx.both("competence_requirement", requirement_id);
    let record = app
        .post(
            "/api/v1/competence/records",
            Role::Admin,
            json!({"user_id": fx.manager_id, "requirement_id": requirement_id,
                   "basis": "training", "title": format!("{SECRET} course"),
                   "achieved_on": "2026-01-01", "evidence": "Matrix"}),
        )
        .await;
    fx.both(
        "competence_record",
        id_of(&created(&record, "competence record")),
    );
    let action = app
        .post(
            "/api/v1/competence/actions",
            Role::Admin,
            json!({"user_id": fx.manager_id, "requirement_id": requirement_id,
                   "kind": "mentoring", "description": format!("{SECRET} mentoring"),
                   "due_date": "2099-01-01"}),
        )
        .await;
    fx.both(
        "competence_action",
        id_of(&created(&action, "competence action")),
    );
}

fn competence_requirement_id(fx: &Fixtures) -> i64 {
    fx.id["competence_requirement"].parse().unwrap_or_default()
}

/// A supplier owned by the manager, with a draft contract and an open dispute.
async fn supplier_fixtures(app: &TestApp, fx: &mut Fixtures) {
    let supplier = app
        .post(
            "/api/v1/suppliers",
            Role::Admin,
            json!({"name": format!("{SECRET} carrier"), "kind": "external",
                   "supplies": "Matrix links", "owner_id": fx.manager_id}),
        )
        .await;
    let id = id_of(&created(&supplier, "supplier"));
    fx.both("supplier", id);
    let contract = app
        .post(
            &format!("/api/v1/suppliers/{id}/contracts"),
            Role::Admin,
            json!({"reference": "UC-MATRIX", "scope": format!("{SECRET} scope"),
                   "requirements": "Matrix", "obligations": "Matrix", "responsibilities": "Matrix",
                   "starts_on": "2099-01-01"}),
        )
        .await;
    fx.both(
        "supplier_contract",
        id_of(&created(&contract, "supplier contract")),
    );
    let dispute = app
        .post(
            &format!("/api/v1/suppliers/{id}/disputes"),
            Role::Admin,
            json!({"subject": format!("{SECRET} invoice")}),
        )
        .await;
    fx.both(
        "supplier_dispute",
        id_of(&created(&dispute, "supplier dispute")),
    );
}

/// A role held by the manager; the process is the same in every tenant.
async fn role_fixtures(app: &TestApp, fx: &mut Fixtures) {
    let role = app
        .post(
            "/api/v1/roles",
            Role::Admin,
            json!({"name": format!("{SECRET} role"), "responsibilities": "Matrix",
                   "authorities": "Matrix"}),
        )
        .await;
    let role_id = id_of(&created(&role, "role"));
    fx.both("sms_role", role_id);
    let assignment = app
        .post(
            &format!("/api/v1/roles/{role_id}/assignments"),
            Role::Admin,
            json!({"user_id": fx.manager_id, "from_date": "2026-01-01"}),
        )
        .await;
    fx.both(
        "role_assignment",
        id_of(&created(&assignment, "role assignment")),
    );
    fx.both("process", "8.6.1");
}

/// A valid certificate.
async fn certificate_fixtures(app: &TestApp, fx: &mut Fixtures) {
    let certificate = app
        .post(
            "/api/v1/certificates",
            Role::Admin,
            json!({"number": "CERT-FIXTURE", "scope": format!("{SECRET} hosting"),
                   "organisation": format!("{SECRET} Ltd"), "certification_body": "Matrix CB",
                   "original_date": "2026-01-10", "issue_date": "2026-01-10", "expiry_date": "2099-01-09"}),
        )
        .await;
    fx.both("certificate", id_of(&created(&certificate, "certificate")));
}

/// An open nonconformity raised by the admin, with one corrective action for the manager.
async fn nonconformity_fixtures(app: &TestApp, fx: &mut Fixtures) {
    let nc = app
        .post(
            "/api/v1/nonconformities",
            Role::Admin,
            json!({"title": format!("{SECRET} nonconformity"), "description": "Matrix",
                   "severity": "minor", "source": "other"}),
        )
        .await;
    let id = id_of(&created(&nc, "nonconformity"));
    fx.both("nonconformity", id);
    let action = app
        .post(
            &format!("/api/v1/nonconformities/{id}/actions"),
            Role::Admin,
            json!({"description": format!("{SECRET} action"), "owner_id": fx.manager_id,
                   "due": "2099-01-01"}),
        )
        .await;
    fx.both("nc_action", id_of(&created(&action, "corrective action")));
}

/// A planned management review with one action for the manager.
async fn review_fixtures(app: &TestApp, fx: &mut Fixtures) {
    let review = app
        .post(
            "/api/v1/management-reviews",
            Role::Admin,
            json!({"title": format!("{SECRET} review"), "planned_on": "2099-01-01"}),
        )
        .await;
    let id = id_of(&created(&review, "management review"));
    fx.both("management_review", id);
    let action = app
        .post(
            &format!("/api/v1/management-reviews/{id}/actions"),
            Role::Admin,
            json!({"description": format!("{SECRET} action"), "owner_id": fx.manager_id,
                   "due_on": "2099-02-01"}),
        )
        .await;
    fx.both("review_action", id_of(&created(&action, "review action")));
}

/// A programme and a planned audit of clause 9.2, led by the manager, of the fixture user's
/// process.
async fn audit_fixtures(app: &TestApp, fx: &mut Fixtures) {
    let programme = app
        .post(
            "/api/v1/audit-programmes",
            Role::Admin,
            json!({"name": format!("{SECRET} programme"), "cycle_start": "2026-01-01"}),
        )
        .await;
    let programme = id_of(&created(&programme, "audit programme"));
    fx.both("audit_programme", programme);
    let audit = app
        .post(
            "/api/v1/audits",
            Role::Admin,
            json!({"programme_id": programme, "title": format!("{SECRET} audit"), "scope": ["9.2"],
                   "planned_start": "2026-06-01", "planned_end": "2026-06-02",
                   "lead_auditor_id": fx.manager_id,
                   "auditee_ids": [fx.id["user"].parse::<i64>().unwrap_or_default()]}),
        )
        .await;
    fx.both("audit", id_of(&created(&audit, "audit")));
    fx.both("audit_requirement", "9.2-a");
}

/// A procedure owned by the manager, with one draft version by the admin carrying one file,
/// and nobody on its distribution.
async fn document_fixtures(app: &TestApp, fx: &mut Fixtures) {
    let document = app
        .post(
            "/api/v1/documents",
            Role::Admin,
            json!({"reference": "DOC-FIXTURE", "title": format!("{SECRET} procedure"),
                   "kind": "procedure", "owner_id": fx.manager_id}),
        )
        .await;
    let id = id_of(&created(&document, "document"));
    fx.both("document", id);
    let version = app
        .post(
            &format!("/api/v1/documents/{id}/versions"),
            Role::Admin,
            json!({"body": format!("{SECRET} steps"), "change_summary": "First"}),
        )
        .await;
    let number = created(&version, "document version")["number"].clone();
    fx.both("document_version", number);
    let upload = app
        .send(
            Request::builder()
                .method(Method::POST)
                .uri(format!(
                    "/api/v1/documents/{id}/versions/1/files?filename=steps.txt"
                ))
                .header(
                    header::AUTHORIZATION,
                    format!("Bearer {}", app.token(Role::Admin)),
                )
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from(format!("{SECRET} file")))
                .expect("request"),
        )
        .await;
    fx.both("document_file", id_of(&created(&upload, "document file")));
}

/// A draft service design record for a new service.
async fn design_fixtures(app: &TestApp, fx: &mut Fixtures) {
    let design = app
        .post(
            "/api/v1/service-designs",
            Role::Admin,
            json!({"title": format!("{SECRET} video"), "requirements": "Meetings"}),
        )
        .await;
    let design = created(&design, "service design");
    fx.set(
        "design",
        design["key"].as_str().expect("key"),
        id_of(&design),
    );
}

fn blackout_body(name: &str) -> Value {
    json!({"name": name, "start": "2030-06-01T00:00:00Z", "end": "2030-06-02T00:00:00Z"})
}

fn delegation_body(fx: &Fixtures) -> Value {
    json!({"to": fx.id["user"].parse::<i64>().unwrap_or_default(), "until": "2099-01-01T00:00:00Z"})
}

fn ci_class_body() -> Value {
    json!({"name": format!("{SECRET} server")})
}

fn ci_body(name: &str) -> Value {
    json!({"class": format!("{SECRET} server"), "name": format!("{SECRET} {name}")})
}

fn relationship_body(fx: &Fixtures) -> Value {
    json!({"source": fx.id["ci"].parse::<i64>().unwrap_or_default(),
           "target": fx.id["ci_host"].parse::<i64>().unwrap_or_default(), "type": "runs_on"})
}

/// Which fixture a path parameter names: the literal segment before it says.
fn fixture_name(path: &str, before: &str) -> Option<&'static str> {
    Some(match before {
        "services" => "service",
        "customers" => "customer",
        "contacts" => "contact",
        "teams" => "team",
        "users" => "user",
        "tokens" => "token",
        "incidents" => "incident",
        "attachments" => "attachment",
        "watchers" => "watcher",
        "catalogue-items" => "item",
        "requests" => "request",
        "tasks" => "task",
        "problems" => "problem",
        "known-errors" => "known_error",
        "knowledge" => "article",
        "custom-fields" => "kind",
        "imports" => "import_kind",
        "notification-templates" => "event",
        "calendars" => "calendar",
        "ci-classes" => "ci_class",
        "cis" => "ci",
        "ci-relationships" => "ci_relationship",
        "ci-baselines" | "diff" => "ci_baseline",
        "agreements" => "agreement",
        "changes" => "change",
        "releases" => "release",
        "assets" => "asset",
        "certificates" => "certificate",
        "risks" => "risk",
        "roles" => "sms_role",
        "suppliers" => "supplier",
        "contracts" if path.starts_with("/suppliers/") => "supplier_contract",
        "disputes" if path.starts_with("/suppliers/") => "supplier_dispute",
        "assignments" if path.starts_with("/roles/") => "role_assignment",
        "raci" => "process",
        "objectives" => "objective",
        "improvements" => "improvement",
        "complaints" => "complaint",
        "surveys" => "survey",
        "documents" => "document",
        "versions" => "document_version",
        "files" => "document_file",
        "audit-programmes" => "audit_programme",
        "audits" => "audit",
        "nonconformities" => "nonconformity",
        "actions" if path.starts_with("/nonconformities/") => "nc_action",
        "management-reviews" => "management_review",
        "actions" if path.starts_with("/management-reviews/") => "review_action",
        "checklist" => "audit_requirement",
        "criteria" => "criterion",
        "deployments" => "deployment",
        "change-blackouts" => "blackout",
        "change-delegations" => "delegation",
        "change-templates" => "template",
        "service-designs" => "design",
        "clauses" => "clause",
        "requirements" if path.starts_with("/competence/") => "competence_requirement",
        "records" if path.starts_with("/competence/") => "competence_record",
        "actions" if path.starts_with("/competence/") => "competence_action",
        "requirements" => "requirement",
        "categories" => "category",
        "views" => "view",
        "sla" if path.starts_with("/incidents/") => "incident_clock",
        "sla" if path.starts_with("/requests/") => "request_clock",
        _ => return None,
    })
}

/// The path with every parameter replaced by a fixture, and the fixture the last one names.
fn fill(
    path: &str,
    values: &HashMap<&'static str, String>,
) -> Result<(String, Option<&'static str>), String> {
    let mut out = String::from("/api/v1");
    let mut before = "";
    let mut last = None;
    for segment in path.split('/').skip(1) {
        out.push('/');
        if segment.starts_with('{') {
            let name = fixture_name(path, before)
                .ok_or_else(|| format!("no fixture for {segment} after `{before}`"))?;
            let value = values
                .get(name)
                .ok_or_else(|| format!("fixture `{name}` was not created"))?;
            out.push_str(value);
            last = Some(name);
        } else {
            out.push_str(segment);
            before = segment;
        }
    }
    Ok((out, last))
}

/// The request body of an operation: well formed, so that a refusal is about who calls, never
/// about what they sent.
enum Payload {
    None,
    Json(Value),
    Raw(&'static str, String),
}

fn payload(method: &Method, path: &str, fx: &Fixtures, caller: Caller) -> Payload {
    let target = match caller {
        Caller::Other => fx.incident2_id.to_string(),
        _ => fx.incident2_key.clone(),
    };
    let json = match (method.as_str(), path) {
        ("GET", _) | ("DELETE", _) => return Payload::None,
        ("POST", "/requests/{key}/tasks/{task_id}/complete") => return Payload::None,
        ("POST", "/incidents/{key}/attachments") => {
            return Payload::Raw("text/plain", "matrix log".into());
        }
        ("POST", "/documents/{id}/versions/{number}/files") => {
            return Payload::Raw("text/plain", "matrix notes".into());
        }
        ("POST", "/documents/{id}/versions/{number}/approve")
        | ("POST", "/documents/{id}/acknowledgements") => return Payload::None,
        ("POST", "/imports/{kind}") => {
            return Payload::Raw(
                "text/csv",
                "external_id,title\nMATRIX-1,Matrix import\n".into(),
            );
        }
        ("POST", "/calendars/{id}/holidays/ics") => {
            return Payload::Raw(
                "text/calendar",
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270101\r\n\
                 SUMMARY:New Year\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
                    .into(),
            );
        }
        ("POST", "/services") => json!({"name": "Matrix service"}),
        ("PATCH", "/services/{id}") => json!({"description": "Matrix"}),
        ("POST", "/customers") => json!({"name": "Matrix customer"}),
        ("PATCH", "/customers/{id}") => json!({"notes": "Matrix"}),
        ("POST", "/customers/{id}/contacts") => {
            json!({"name": "Matrix contact", "email": "matrix@example.org"})
        }
        ("PATCH", "/customers/{id}/contacts/{contact_id}") => json!({"phone": "0123"}),
        ("POST", "/teams") => json!({"name": "Matrix team"}),
        ("PATCH", "/teams/{id}") => json!({"description": "Matrix"}),
        ("POST", "/users") => json!({"email": "matrix@example.org", "role": "agent"}),
        ("PATCH", "/users/{id}") => json!({"name": format!("{SECRET} fixture")}),
        ("POST", "/tokens") => json!({"name": "Matrix"}),
        ("POST", "/incidents") => json!({"title": "Matrix incident"}),
        ("POST", "/incidents/bulk") => {
            json!({"keys": [target], "changes": {"urgency": "low"}})
        }
        ("PATCH", "/incidents/{key}") => json!({"urgency": "low"}),
        ("PUT", "/incidents/{key}/sla/exclusion") | ("PUT", "/requests/{key}/sla/exclusion") => {
            json!({"reason": "Matrix"})
        }
        ("PUT", "/incidents/{key}/sla/{clock_id}/breach-reason")
        | ("PUT", "/requests/{key}/sla/{clock_id}/breach-reason") => json!({"reason": "Matrix"}),
        ("POST", "/incidents/{key}/comments") => json!({"body": "Matrix comment"}),
        ("POST", "/incidents/{key}/watchers") => json!({"email": "matrix@example.org"}),
        ("POST", "/incidents/{key}/major") => json!({"manager_id": fx.manager_id}),
        ("POST", "/incidents/{key}/communications") => {
            json!({"audience": "internal", "body": "Matrix update"})
        }
        ("PUT", "/incidents/{key}/review") => json!({"summary": "Matrix"}),
        ("POST", "/incidents/{key}/links") | ("POST", "/problems/{key}/links") => {
            json!({"kind": "related", "target": target})
        }
        ("POST", "/catalogue-items") => json!({"name": "Matrix item"}),
        ("PUT", "/catalogue-items/{id}") => {
            json!({"name": format!("{SECRET} laptop"), "tasks": [{"title": format!("{SECRET} hand over")}]})
        }
        ("POST", "/requests") => json!({"item_id": fx.item_id}),
        ("PATCH", "/requests/{key}") => json!({}),
        ("POST", "/requests/{key}/approvals") => json!({"decision": "approved"}),
        ("POST", "/problems") => json!({"title": "Matrix problem"}),
        ("PATCH", "/problems/{key}") => json!({"urgency": "low"}),
        ("PATCH", "/known-errors/{key}") => json!({"active": true}),
        ("POST", "/knowledge") => json!({"title": "Matrix article", "body": "Text"}),
        ("PATCH", "/knowledge/{key}") => json!({"public": true}),
        ("PUT", "/settings") => fx.settings.clone(),
        ("PUT", "/notification-templates/{event}") => {
            json!({"subject": "Matrix", "body": "Matrix"})
        }
        ("POST", "/categories") => json!({"name": "Matrix category"}),
        ("PATCH", "/categories/{id}") => json!({"retired": false}),
        ("PUT", "/custom-fields/{kind}") => json!([]),
        ("POST", "/calendars") => calendar_body("Matrix office"),
        ("PUT", "/calendars/{id}") => calendar_body(&format!("{SECRET} office")),
        ("POST", "/calendars/{id}/add") => json!({"start": "2026-12-01T09:00:00Z", "minutes": 60}),
        ("POST", "/calendars/{id}/between") => {
            json!({"start": "2026-12-01T09:00:00Z", "end": "2026-12-02T09:00:00Z"})
        }
        ("PUT", "/services/{id}/customers") => {
            json!({"customer_ids": [fx.id["customer"].parse::<i64>().unwrap_or_default()]})
        }
        ("POST", "/ci-classes") => json!({"name": "Matrix class"}),
        ("PUT", "/ci-classes/{id}") => ci_class_body(),
        ("POST", "/ci-relationship-types") => {
            json!({"name": "matrix_of", "label": "matrix of", "reverse_label": "has matrix", "dependency": "informational"})
        }
        // The class every caller made in its own tenant in the `POST /ci-classes` row.
        ("POST", "/cis") => json!({"class": "Matrix class", "name": "Matrix CI"}),
        ("PUT", "/cis/{id}") => ci_body("db01"),
        ("POST", "/ci-relationships") => relationship_body(fx),
        ("POST", "/ci-baselines") => json!({"name": "Matrix baseline"}),
        ("PUT", "/incidents/{key}/cis") | ("PUT", "/problems/{key}/cis") => {
            json!({"ci_ids": [fx.id["ci"].parse::<i64>().unwrap_or_default()]})
        }
        ("POST", "/sla/agreements") => agreement_body("Matrix agreement"),
        ("POST", "/changes") => json!({"title": "Matrix change", "type": "normal"}),
        ("PATCH", "/changes/{key}") => json!({"reason": "Matrix"}),
        ("PUT", "/changes/{key}/risk") => {
            json!({"answers": {"blast_radius": "one_ci", "tested": "yes",
            "backout_tested": "yes", "customer_facing": "no", "out_of_hours": "yes"}})
        }
        // Never allowed from draft: a 409 past the permission check, and the fixture stays.
        ("POST", "/changes/{key}/transitions") => json!({"to": "rejected"}),
        ("POST", "/changes/{key}/approvals") => json!({"verdict": "approve"}),
        ("PUT", "/changes/{key}/review") => json!({"outcome": "successful"}),
        ("PUT", "/change-policy") => fx.change_policy.clone(),
        ("POST", "/change-blackouts") => blackout_body("Matrix freeze"),
        ("POST", "/service-designs") => json!({"title": "Matrix design"}),
        ("POST", "/conformance/requirements/{id}/assessments") => {
            json!({"judgement": "conforming", "comment": "Matrix"})
        }
        ("PATCH", "/service-designs/{key}") => json!({"resources": "Matrix"}),
        // Never allowed from draft (and a draft is never accepted): a 409 past the permission
        // check, and the fixture stays.
        ("POST", "/service-designs/{key}/transitions") => json!({"to": "rejected"}),
        ("POST", "/change-templates") => {
            json!({"name": "Matrix template", "implementation_plan": "Do", "backout_plan": "Undo"})
        }
        ("POST", "/change-delegations") => delegation_body(fx),
        ("PATCH", "/change-templates/{id}") => json!({"description": "Matrix"}),
        ("POST", "/assets") => {
            json!({"tag": "MATRIX-1", "name": "Matrix asset", "kind": "hardware"})
        }
        ("PATCH", "/assets/{id}") => json!({"notes": "Matrix"}),
        ("POST", "/certificates") => json!({"number": "MATRIX-1", "scope": "Matrix",
            "organisation": "Matrix", "certification_body": "Matrix CB",
            "original_date": "2026-01-10", "issue_date": "2026-01-10", "expiry_date": "2099-01-09"}),
        // An edit over a long-gone version: a 409 past the permission check, and the fixture
        // stays as it was.
        ("PATCH", "/certificates/{id}") => {
            json!({"updated_at": "2000-01-01T00:00:00Z", "scope": "Matrix"})
        }
        // Valid to valid is no move: a 409 past the permission check.
        ("POST", "/certificates/{id}/status") => json!({"to": "valid", "reason": "Matrix"}),
        ("POST", "/risks") => json!({"kind": "opportunity", "title": "Matrix", "likelihood": 2,
            "impact": 2, "treatment": "accept", "review_date": "2099-01-01"}),
        // Edits over a long-gone version: a 409 past the permission check.
        ("PATCH", "/risks/{id}" | "/objectives/{id}" | "/improvements/{id}") => {
            json!({"updated_at": "2000-01-01T00:00:00Z", "title": "Matrix"})
        }
        ("POST", "/risks/{id}/reviews") => json!({"note": "Matrix", "review_date": "2099-06-01"}),
        ("POST", "/competence/requirements") => json!({"name": "Matrix",
            "role_id": fx.id["sms_role"].parse::<i64>().unwrap_or_default()}),
        // Edits over a long-gone version: a 409 past the permission check.
        ("PUT", "/competence/requirements/{id}") => json!({"updated_at": "2000-01-01T00:00:00Z",
            "name": "Matrix", "role_id": fx.id["sms_role"].parse::<i64>().unwrap_or_default()}),
        ("POST", "/competence/records") => json!({"user_id": fx.manager_id,
            "requirement_id": competence_requirement_id(fx), "basis": "experience",
            "title": "Matrix", "achieved_on": "2026-01-01", "evidence": "Matrix"}),
        ("PUT", "/competence/records/{id}") => json!({"updated_at": "2000-01-01T00:00:00Z",
            "user_id": fx.manager_id, "requirement_id": competence_requirement_id(fx),
            "basis": "experience", "title": "Matrix", "achieved_on": "2026-01-01",
            "evidence": "Matrix"}),
        ("POST", "/competence/actions") => json!({"user_id": fx.manager_id,
            "requirement_id": competence_requirement_id(fx), "kind": "training",
            "description": "Matrix", "due_date": "2099-01-01"}),
        // The first caller completes and evaluates the fixture; after that, a 409.
        ("POST", "/competence/actions/{id}/evaluate") => {
            json!({"effective": true, "evaluation": "Matrix"})
        }
        // Closing comes last in the table, so the fixture stays open for the rows before.
        ("POST", "/risks/{id}/close") => json!({"reason": "Matrix"}),
        // The manager's second role of the name is refused (422) past the permission check.
        ("POST", "/suppliers") => {
            json!({"name": "Matrix supplier", "kind": "internal", "supplies": "Matrix",
                   "owner_id": fx.manager_id})
        }
        ("PUT", "/suppliers/{id}") => {
            json!({"updated_at": "2000-01-01T00:00:00Z", "name": "Matrix", "kind": "external",
                   "supplies": "Matrix", "owner_id": fx.manager_id, "status": "active"})
        }
        ("POST", "/suppliers/{id}/contracts") => {
            json!({"reference": "Matrix", "scope": "Matrix", "starts_on": "2099-02-01",
                   "impact": "Matrix"})
        }
        ("POST", "/suppliers/{id}/contracts/{contract_id}/approve") => {
            json!({"approved_on": "2026-01-01"})
        }
        ("POST", "/suppliers/{id}/contracts/{contract_id}/reviews") => {
            json!({"still_fits": true, "notes": "Matrix"})
        }
        ("POST", "/suppliers/{id}/reviews") => {
            json!({"held_on": "2026-01-10", "period_from": "2025-10-01", "period_to": "2025-12-31",
                   "rating": "meets"})
        }
        ("POST", "/suppliers/{id}/disputes") => json!({"subject": "Matrix dispute"}),
        ("POST", "/suppliers/{id}/disputes/{dispute_id}/steps") => {
            json!({"step": "escalate", "escalated_to": "Matrix", "note": "Matrix"})
        }
        ("PUT", "/suppliers/{id}/ucs") => json!({"agreement_ids": []}),
        ("POST", "/roles") => json!({"name": "Matrix role",
            "responsibilities": "Matrix", "authorities": "Matrix"}),
        // An edit over a long-gone version: a 409 past the permission check.
        ("PUT", "/roles/{id}") => json!({"updated_at": "2000-01-01T00:00:00Z", "name": "Matrix",
            "responsibilities": "Matrix", "authorities": "Matrix"}),
        // The manager already holds the role: a 422 past the permission check.
        ("POST", "/roles/{id}/assignments") => {
            json!({"user_id": fx.manager_id, "from_date": "2026-02-01"})
        }
        // Ended by the first caller; an end after that is a 422.
        ("POST", "/roles/{id}/assignments/{assignment_id}/end") => json!({"to_date": "2099-01-01"}),
        ("PUT", "/raci/{process}") => json!({"cells": [{"role_id":
            fx.id["sms_role"].parse::<i64>().unwrap_or_default(), "letter": "A"}]}),
        ("POST", "/objectives") => json!({"title": "Matrix", "kpi": "sla_attainment",
            "direction": "at_least", "target": 90, "owner_id": fx.manager_id}),
        ("POST", "/objectives/{id}/measurements") => json!({"month": "2026-01", "value": 4}),
        ("POST", "/improvements") => json!({"title": "Matrix", "source": "staff"}),
        ("POST", "/complaints") => json!({"customer_id":
            fx.id["customer"].parse::<i64>().unwrap_or_default(), "complainant": "Matrix",
            "received_on": "2026-01-05", "channel": "phone", "summary": "Matrix",
            "owner_id": fx.manager_id}),
        // An edit over a long-gone version: a 409 past the permission check.
        ("PATCH", "/complaints/{id}") => {
            json!({"updated_at": "2000-01-01T00:00:00Z", "summary": "Matrix"})
        }
        // Closing a received complaint is out of order: a 409, and the fixture stays received.
        ("POST", "/complaints/{id}/transitions") => json!({"step": "close"}),
        // Not past its target date: a 422 past the permission check.
        ("POST", "/complaints/{id}/escalations") => {
            json!({"escalated_to": "Matrix", "reason": "Matrix"})
        }
        // Raised by the first caller; a 409 for the next ones.
        ("POST", "/complaints/{id}/nonconformity") | ("POST", "/complaints/{id}/improvement") => {
            return Payload::None;
        }
        ("POST", "/satisfaction/surveys") => json!({"conducted_on": "2026-01-05",
            "sample_size": 5, "responses": 0, "analysis": "Matrix"}),
        // Held in the future: a 422 past the permission check.
        ("POST", "/customers/{id}/reviews") => json!({"held_on": "2099-01-01",
            "attendees": "Matrix", "performance": "Matrix", "outcomes": "Matrix"}),
        // The requester's own incident is not resolved: a 409 past the permission check.
        ("POST", "/incidents/{key}/rating") => json!({"score": 4}),
        ("POST", "/management-reviews") => json!({"title": "Matrix", "planned_on": "2099-03-01"}),
        // An edit over a long-gone version: a 409 past the permission check.
        ("PATCH", "/management-reviews/{id}") => {
            json!({"updated_at": "2000-01-01T00:00:00Z", "title": "Matrix"})
        }
        // No minutes, no reason: a 422; closing a planned review: a 409. The fixture stays
        // planned for the rows after.
        ("POST", "/management-reviews/{id}/hold") => json!({"minutes": " "}),
        ("POST", "/management-reviews/{id}/close") => json!({"decisions": "Matrix"}),
        ("POST", "/management-reviews/{id}/cancel") => json!({"reason": " "}),
        ("POST", "/management-reviews/{id}/actions") => json!({"description": "Matrix",
            "due_on": "2099-02-01"}),
        // Done by the first caller; a 409 for the next ones.
        ("POST", "/management-reviews/{id}/actions/{action_id}/complete") => {
            json!({"note": "Matrix"})
        }
        // Closing a proposed improvement is never allowed: a 409 past the permission check.
        ("POST", "/improvements/{id}/steps") => json!({"step": "close", "note": "Matrix"}),
        ("POST", "/documents") => json!({"reference": "MATRIX-DOC", "title": "Matrix",
            "kind": "other", "owner_id": fx.manager_id}),
        // An edit over a long-gone version: a 409 past the permission check.
        ("PUT", "/documents/{id}") => json!({"reference": "DOC-FIXTURE", "title": "Matrix",
            "kind": "procedure", "owner_id": fx.manager_id, "updated_at": "2000-01-01T00:00:00Z"}),
        // No reason: a 422 past the permission check, and the fixture stays active.
        ("POST", "/documents/{id}/withdraw")
        | ("POST", "/documents/{id}/versions/{number}/return") => {
            json!({"reason": " "})
        }
        // The draft is still open: a 409.
        ("POST", "/documents/{id}/versions") => {
            json!({"body": "Matrix", "change_summary": "Matrix"})
        }
        // Empty text: a 422.
        ("PUT", "/documents/{id}/versions/{number}") => {
            json!({"body": "", "change_summary": "Matrix"})
        }
        // Nobody: a 422 for the author, a 409 for anyone else.
        ("POST", "/documents/{id}/versions/{number}/submit") => json!({"reviewer_id": 0}),
        // Nothing approved to review yet: a 409.
        ("POST", "/documents/{id}/reviews") => json!({"note": "Matrix"}),
        ("POST", "/audit-programmes") => {
            json!({"name": "Matrix programme", "cycle_start": "2026-01-01"})
        }
        // An edit over a long-gone version: a 409 past the permission check.
        ("PUT", "/audit-programmes/{id}") => json!({"name": "Matrix", "cycle_start": "2026-01-01",
            "updated_at": "2000-01-01T00:00:00Z"}),
        // No such lead auditor: a 422 past the permission check.
        ("POST", "/audits") | ("PUT", "/audits/{id}") => json!({
            "programme_id": fx.id["audit_programme"].parse::<i64>().unwrap_or_default(),
            "title": "Matrix audit", "scope": ["9.2"], "planned_start": "2026-02-01",
            "planned_end": "2026-02-01", "lead_auditor_id": 0, "auditee_ids": [0],
            "updated_at": "2000-01-01T00:00:00Z"}),
        ("PUT", "/audits/{id}/checklist/{requirement_id}") => json!({"result": "conforming"}),
        ("POST", "/audits/{id}/findings") => {
            json!({"kind": "observation", "reference": "9.2", "statement": "Matrix"})
        }
        ("POST", "/audits/{id}/report") => json!({"summary": "Matrix"}),
        ("POST", "/audits/{id}/cancel") => json!({"reason": "Matrix"}),
        ("POST", "/nonconformities") => json!({"title": "Matrix", "description": "Matrix",
            "severity": "minor", "source": "complaint"}),
        // An edit over a long-gone version: a 409 past the permission check.
        ("PUT", "/nonconformities/{id}") => json!({"updated_at": "2000-01-01T00:00:00Z"}),
        ("POST", "/nonconformities/{id}/actions") => json!({"description": "Matrix",
            "owner_id": fx.manager_id, "due": "2099-01-01"}),
        // The first caller completes the fixture's action; for the later ones it is a 409.
        ("POST", "/nonconformities/{id}/actions/{action_id}/complete") => json!({"note": "Matrix"}),
        // Not every action is done: a 409 past the permission check.
        ("POST", "/nonconformities/{id}/verification") => {
            json!({"effective": true, "notes": "Matrix"})
        }
        // Never allowed from ordered: a 409 past the permission check.
        ("POST", "/assets/{id}/transitions") => json!({"to": "disposed"}),
        ("PUT", "/assets/{id}/cis") => {
            json!({"ci_ids": [fx.id["ci"].parse::<i64>().unwrap_or_default()]})
        }
        ("POST", "/releases") => json!({"title": "Matrix release", "kind": "minor"}),
        ("PATCH", "/releases/{key}") => json!({"description": "Matrix"}),
        // Never allowed from built: a 409 past the permission check.
        ("POST", "/releases/{key}/transitions") => json!({"to": "closed"}),
        ("PUT", "/releases/{key}/changes") => json!({"changes": []}),
        ("PUT", "/releases/{key}/known-errors") => json!({"known_errors": []}),
        ("POST", "/releases/{key}/criteria") => json!({"text": "Matrix criterion"}),
        ("POST", "/releases/{key}/criteria/{id}/sign-off") => json!({"verdict": "accepted"}),
        ("POST", "/releases/{key}/deployments") => json!({"environment": "test"}),
        ("POST", "/releases/{key}/deployments/{id}/outcome") => json!({"outcome": "failed"}),
        ("PUT", "/sla/agreements/{id}") => agreement_body(&format!("{SECRET} standard")),
        ("POST", "/views") => json!({"kind": "incidents", "name": "Matrix view"}),
        ("POST", "/me/password") => {
            json!({"current_password": "not the password", "new_password": "a long enough password"})
        }
        _ => json!({}),
    };
    Payload::Json(json)
}

/// Query strings that make a read meaningful.
fn query(method: &Method, path: &str) -> &'static str {
    match (method.as_str(), path) {
        ("GET", "/search") => "?q=Kilimanjaro",
        ("POST", "/incidents/{key}/attachments") => "?filename=matrix.log",
        ("POST", "/documents/{id}/versions/{number}/files") => "?filename=matrix.txt",
        _ => "",
    }
}

/// A fresh record for a delete to consume, so every caller deletes something that exists.
async fn fresh(app: &TestApp, fx: &Fixtures, name: &str, n: usize) -> Option<i64> {
    let admin = Role::Admin;
    let reply = match name {
        "service" => {
            app.post(
                "/api/v1/services",
                admin,
                json!({"name": format!("{SECRET} doomed {n}")}),
            )
            .await
        }
        "customer" => {
            app.post(
                "/api/v1/customers",
                admin,
                json!({"name": format!("{SECRET} doomed {n}")}),
            )
            .await
        }
        "contact" => {
            app.post(
                &format!("/api/v1/customers/{}/contacts", fx.key["customer"]),
                admin,
                json!({"name": format!("{SECRET} doomed {n}"), "email": format!("doomed{n}@zanzibar.test")}),
            )
            .await
        }
        "team" => {
            app.post(
                "/api/v1/teams",
                admin,
                json!({"name": format!("{SECRET} doomed {n}")}),
            )
            .await
        }
        "user" => {
            app.post(
                "/api/v1/users",
                admin,
                json!({"email": format!("doomed{n}@zanzibar.test"), "name": format!("{SECRET} doomed {n}"), "role": "agent"}),
            )
            .await
        }
        "calendar" => {
            app.post(
                "/api/v1/calendars",
                admin,
                calendar_body(&format!("{SECRET} doomed {n}")),
            )
            .await
        }
        "view" => {
            app.post(
                "/api/v1/views",
                Role::Manager,
                json!({"kind": "incidents", "name": format!("{SECRET} doomed {n}"), "shared": true}),
            )
            .await
        }
        "ci_relationship" => {
            let ci = app
                .post("/api/v1/cis", admin, ci_body(&format!("doomed {n}")))
                .await;
            let source = id_of(&created(&ci, "ci"));
            app.post(
                "/api/v1/ci-relationships",
                admin,
                json!({"source": source, "target": fx.id["ci"].parse::<i64>().unwrap_or_default(), "type": "depends_on"}),
            )
            .await
        }
        "blackout" => {
            let body = blackout_body(&format!("{SECRET} doomed {n}"));
            app.post("/api/v1/change-blackouts", admin, body).await
        }
        "delegation" => {
            let body = delegation_body(fx);
            app.post("/api/v1/change-delegations", admin, body).await
        }
        "watcher" => return Some(watcher(app, &fx.key["incident"], n + 1).await),
        "token" => {
            let owner = fx.id["user"].parse().expect("user id");
            let (token, _) = app
                .store
                .create_token(app.tenant_id, owner, "doomed", &Actor::cli())
                .await
                .expect("token");
            return Some(token.id);
        }
        _ => return None,
    };
    Some(id_of(&created(&reply, name)))
}

/// Tenant A's journal head: it moves with every change made in tenant A.
async fn journal_head(app: &TestApp) -> i64 {
    let page = PageRequest {
        limit: Some(1),
        cursor: None,
    };
    app.store
        .journal_entries(app.tenant_id, &JournalFilter::default(), &page)
        .await
        .expect("journal")
        .items
        .first()
        .map_or(0, |e| e.seq)
}

async fn send(
    app: &TestApp,
    method: &Method,
    uri: &str,
    token: Option<&str>,
    payload: Payload,
) -> Reply {
    let mut request = Request::builder().method(method.clone()).uri(uri);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = match payload {
        Payload::None => Body::empty(),
        Payload::Json(json) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(json.to_string())
        }
        Payload::Raw(content_type, text) => {
            request = request.header(header::CONTENT_TYPE, content_type);
            Body::from(text)
        }
    };
    app.send(request.body(body).expect("request")).await
}

async fn matrix(store: Store) {
    let started = Instant::now();
    let app = app(store).await;
    let rows = parse_table().unwrap_or_else(|e| panic!("{}", e.join("\n")));
    let documented = documented_operations();
    let fx = Box::pin(fixtures(&app)).await;
    let mut failures = coverage_problems(&rows);
    let mut checked = 0;
    let mut fresh_count = 0;
    for row in &rows {
        if !documented.contains(&(row.method.to_string(), row.path.clone())) {
            continue; // reported by coverage_problems
        }
        let write = row.method != Method::GET;
        for (caller, expected) in Caller::ALL.into_iter().zip(row.outcomes) {
            let mut fixtures = fx.clone();
            // Deletes consume their record: give each caller its own.
            if row.method == Method::DELETE
                && let Ok((_, Some(last))) = fill(&row.path, &fixtures.key)
            {
                fresh_count += 1;
                if let Some(id) = fresh(&app, &fx, last, fresh_count).await {
                    fixtures.both(last, id);
                }
            }
            let values = match caller {
                Caller::Other => &fixtures.id,
                _ => &fixtures.key,
            };
            let (uri, _) = match fill(&row.path, values) {
                Ok(filled) => filled,
                Err(e) => {
                    failures.push(format!("{} {}: {e}", row.method, row.path));
                    break;
                }
            };
            let uri = format!("{uri}{}", query(&row.method, &row.path));
            let token = match caller {
                Caller::Role(role) => Some(app.token(role)),
                Caller::Other => Some(app.outsider.as_str()),
                Caller::Anon => None,
            };
            let before = journal_head(&app).await;
            let body = payload(&row.method, &row.path, &fixtures, caller);
            let reply = send(&app, &row.method, &uri, token, body).await;
            checked += 1;
            if std::env::var_os("AUTHZ_DUMP").is_some() {
                eprintln!(
                    "{} {uri} {} -> {}",
                    row.method,
                    caller.name(),
                    reply.status.as_u16()
                );
            }
            let label = format!("{} {} as {}", row.method, row.path, caller.name());
            if !expected.matches(reply.status) {
                failures.push(format!(
                    "{label}: expected {}, got {} {}",
                    expected.label(),
                    reply.status.as_u16(),
                    reply.text.chars().take(200).collect::<String>()
                ));
            }
            let refused = matches!(expected, Outcome::Status(_));
            if write && (refused || caller == Caller::Other) {
                let after = journal_head(&app).await;
                if after != before {
                    failures.push(format!(
                        "{label}: answered {} but tenant A's journal moved from {before} to {after}",
                        reply.status.as_u16()
                    ));
                }
            }
            if caller == Caller::Other
                && (reply.text.contains(SECRET) || reply.text.contains(NOT_YOURS))
            {
                failures.push(format!(
                    "{label}: tenant B read tenant A's data: {}",
                    reply.text.chars().take(300).collect::<String>()
                ));
            }
            if caller == Caller::Role(Role::Requester) && reply.text.contains(NOT_YOURS) {
                failures.push(format!(
                    "{label}: the requester read a record that is not theirs: {}",
                    reply.text.chars().take(300).collect::<String>()
                ));
            }
        }
    }
    let matrix_calls = checked;
    // Requesters reach other people's records by no key at all.
    for path in [
        format!("/api/v1/incidents/{}", fx.incident2_key),
        format!("/api/v1/incidents/{}", fx.incident2_id),
        format!("/api/v1/incidents/{}/comments", fx.incident2_key),
        format!("/api/v1/incidents/{}/attachments", fx.incident2_key),
        format!("/api/v1/requests/{}", fx.request2_key),
    ] {
        let reply = app.get(&path, Role::Requester).await;
        checked += 1;
        if reply.status != StatusCode::NOT_FOUND {
            failures.push(format!(
                "GET {path} as requester (not theirs): expected 404, got {}",
                reply.status.as_u16()
            ));
        }
    }
    // ... nor by asking lists for more than they may see.
    let by_key = [
        fx.incident2_key.clone(),
        fx.request2_key.clone(),
        fx.key["problem"].clone(),
        "queue".to_owned(),
        "KB-2".to_owned(),
    ]
    .map(|key| format!("/api/v1/search?q={key}"));
    // The probes find what they look for when the caller may see it.
    for path in &by_key {
        let reply = app.get(path, Role::Admin).await;
        if !reply.text.contains(NOT_YOURS) && !reply.text.contains(&fx.request2_key) {
            failures.push(format!(
                "GET {path} as admin finds nothing, so the requester's probe proves nothing: {}",
                reply.text
            ));
        }
    }
    for path in [
        "/api/v1/incidents?q=Kilimanjaro",
        "/api/v1/requests?status=in_fulfilment&limit=500",
        "/api/v1/knowledge?status=draft",
        "/api/v1/knowledge?public=false",
        "/api/v1/catalogue-items?all=true",
        "/api/v1/search?q=runbook",
    ]
    .into_iter()
    .chain(by_key.iter().map(String::as_str))
    {
        let reply = app.get(path, Role::Requester).await;
        checked += 1;
        if reply.text.contains(NOT_YOURS) || reply.text.contains(&fx.request2_key) {
            failures.push(format!(
                "GET {path} as requester shows what is not theirs: {}",
                reply.text.chars().take(300).collect::<String>()
            ));
        }
    }
    // What the table may mark public: the API's own description.
    let doc = app
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    checked += 1;
    if doc.status != StatusCode::OK {
        failures.push(format!(
            "GET /api/v1/openapi.json without credentials: expected 200, got {}",
            doc.status.as_u16()
        ));
    }
    cross_tenant_references(&app, &fx, &mut failures, &mut checked).await;
    approvers_by_role(&app, &mut failures, &mut checked).await;
    let verified = app.store.verify_journal().await.expect("verify");
    assert!(verified.is_ok(), "journal broken: {verified:?}");
    let mut report = String::new();
    for failure in &failures {
        let _ = writeln!(report, "  {failure}");
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} calls broke the access table:\n{report}",
        failures.len()
    );
    eprintln!(
        "authz: {} operations x {} callers = {matrix_calls} calls, plus {} probes, in {:.1?}",
        rows.len(),
        Caller::ALL.len(),
        checked - matrix_calls,
        started.elapsed()
    );
}

/// Being named an approver lets a user decide, but never more than their role allows: an
/// auditor changes nothing, not even by approving.
async fn approvers_by_role(app: &TestApp, failures: &mut Vec<String>, checked: &mut usize) {
    for (role, allowed) in [
        (Role::Requester, true),
        (Role::Agent, true),
        (Role::Auditor, false),
    ] {
        let approver = app.user_id(role).await;
        let item = app
            .post(
                "/api/v1/catalogue-items",
                Role::Manager,
                json!({"name": format!("Approved by {role}"), "approver_ids": [approver]}),
            )
            .await;
        let item = id_of(&created(&item, "catalogue item with an approver"));
        let request = app
            .post("/api/v1/requests", Role::Agent, json!({"item_id": item}))
            .await;
        let key = created(&request, "request awaiting approval")["key"]
            .as_str()
            .expect("key")
            .to_owned();
        let before = journal_head(app).await;
        let reply = app
            .post(
                &format!("/api/v1/requests/{key}/approvals"),
                role,
                json!({"decision": "approved"}),
            )
            .await;
        *checked += 1;
        let moved = journal_head(app).await != before;
        let label = format!("POST /requests/{key}/approvals as {role}, its named approver");
        if allowed && (!reply.status.is_success() || !moved) {
            failures.push(format!(
                "{label}: expected the approval to be recorded, got {} {}",
                reply.status.as_u16(),
                reply.text
            ));
        }
        if !allowed && (reply.status != StatusCode::FORBIDDEN || moved) {
            failures.push(format!(
                "{label}: expected 403 and no change, got {} (journal moved: {moved}) {}",
                reply.status.as_u16(),
                reply.text.chars().take(200).collect::<String>()
            ));
        }
    }
}

/// Tenant B cannot point its own records at tenant A's: every reference to one of A's records
/// in a body is refused, and A's journal does not move.
async fn cross_tenant_references(
    app: &TestApp,
    fx: &Fixtures,
    failures: &mut Vec<String>,
    checked: &mut usize,
) {
    let outsider = Some(app.outsider.as_str());
    let own = app
        .call(
            Method::POST,
            "/api/v1/incidents",
            outsider,
            Some(json!({"title": "B's own"})),
        )
        .await;
    let own = created(&own, "tenant B's incident")["key"]
        .as_str()
        .expect("key")
        .to_owned();
    let id = |name: &str| -> i64 { fx.id[name].parse().expect("id") };
    let a_user = id("user");
    let a_incident = fx.id["incident"].clone();
    let mut cases: Vec<(Method, String, Value)> = vec![
        (
            Method::POST,
            "/incidents".into(),
            json!({"title": "x", "service_id": id("service")}),
        ),
        (
            Method::POST,
            "/incidents".into(),
            json!({"title": "x", "customer_id": id("customer")}),
        ),
        (
            Method::POST,
            "/incidents".into(),
            json!({"title": "x", "requester_contact_id": id("contact")}),
        ),
        (
            Method::POST,
            "/incidents".into(),
            json!({"title": "x", "assignee_team_id": id("team")}),
        ),
        (
            Method::POST,
            "/incidents".into(),
            json!({"title": "x", "assignee_id": a_user}),
        ),
        (
            Method::POST,
            "/incidents".into(),
            json!({"title": "x", "category_id": id("category")}),
        ),
        (
            Method::PATCH,
            format!("/incidents/{own}"),
            json!({"service_id": id("service")}),
        ),
        (
            Method::PATCH,
            format!("/incidents/{own}"),
            json!({"assignee_id": a_user}),
        ),
        (
            Method::PATCH,
            format!("/incidents/{own}"),
            json!({"assignee_team_id": id("team")}),
        ),
        (
            Method::POST,
            "/incidents/bulk".into(),
            json!({"keys": [own], "changes": {"assignee_id": a_user}}),
        ),
        (
            Method::POST,
            format!("/incidents/{own}/links"),
            json!({"kind": "related", "target": a_incident}),
        ),
        (
            Method::POST,
            format!("/incidents/{own}/major"),
            json!({"manager_id": fx.manager_id}),
        ),
        (
            Method::POST,
            "/problems".into(),
            json!({"title": "x", "incidents": [a_incident]}),
        ),
        (
            Method::POST,
            "/problems".into(),
            json!({"title": "x", "service_id": id("service")}),
        ),
        (
            Method::POST,
            "/problems".into(),
            json!({"title": "x", "assignee_id": a_user}),
        ),
        (
            Method::POST,
            "/knowledge".into(),
            json!({"title": "x", "body": "x", "service_id": id("service")}),
        ),
        (
            Method::POST,
            "/services".into(),
            json!({"name": "B owned", "owner_id": a_user}),
        ),
        (
            Method::POST,
            "/teams".into(),
            json!({"name": "B team", "members": [a_user]}),
        ),
        (
            Method::POST,
            "/catalogue-items".into(),
            json!({"name": "B item", "approver_ids": [a_user]}),
        ),
        (
            Method::POST,
            "/categories".into(),
            json!({"name": "B child", "parent_id": id("category")}),
        ),
        (
            Method::POST,
            "/requests".into(),
            json!({"item_id": fx.item_id}),
        ),
        (
            Method::POST,
            "/changes".into(),
            json!({"title": "x", "type": "normal", "cis": [id("ci")]}),
        ),
        (
            Method::POST,
            "/changes".into(),
            json!({"title": "x", "type": "normal", "services": [id("service")],
                   "incidents": [id("incident")]}),
        ),
        (
            Method::POST,
            "/changes".into(),
            json!({"title": "x", "type": "normal", "assignee_id": a_user}),
        ),
        (
            Method::POST,
            "/change-delegations".into(),
            json!({"to": a_user, "until": "2099-01-01T00:00:00Z"}),
        ),
    ];
    for (field, value) in [
        ("customer_id", id("customer")),
        ("service_id", id("service")),
        ("team_id", id("team")),
        ("calendar_id", id("calendar")),
    ] {
        let mut body = agreement_body("B agreement");
        body[field] = json!(value);
        cases.push((Method::POST, "/sla/agreements".into(), body));
    }
    for escalation in [
        json!({"on": "breach", "reassign_team_id": id("team")}),
        json!({"on": "breach", "notify_user_id": a_user}),
    ] {
        let mut body = agreement_body("B agreement");
        body["escalations"] = json!([escalation]);
        cases.push((Method::POST, "/sla/agreements".into(), body));
    }
    for (method, path, body) in cases {
        let before = journal_head(app).await;
        let reply = app
            .call(
                method.clone(),
                &format!("/api/v1{path}"),
                outsider,
                Some(body.clone()),
            )
            .await;
        *checked += 1;
        if std::env::var_os("AUTHZ_DUMP").is_some() {
            eprintln!("{method} {path} {body} other -> {}", reply.status.as_u16());
        }
        let label = format!("{method} {path} as other with {body}");
        // A bulk change answers 200 and reports each refusal in its results.
        let used = if reply.body.get("changed").is_some() {
            reply.body["changed"] != 0
        } else {
            reply.status.is_success()
        };
        if used || reply.status.is_server_error() {
            failures.push(format!(
                "{label}: tenant B used tenant A's record: {} {}",
                reply.status.as_u16(),
                reply.text.chars().take(300).collect::<String>()
            ));
        }
        if reply.text.contains(SECRET) {
            failures.push(format!(
                "{label}: tenant B read tenant A's data: {}",
                reply.text
            ));
        }
        let after = journal_head(app).await;
        if after != before {
            failures.push(format!(
                "{label}: tenant A's journal moved from {before} to {after}"
            ));
        }
    }
}

both_backends!(
    every_route_answers_as_the_table_says,
    |store: Store| async move {
        matrix(store).await;
    }
);
