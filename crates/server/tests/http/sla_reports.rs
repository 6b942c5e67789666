//! SLA attainment reports: `/api/v1/sla/attainment` and `/api/v1/sla/breaches` as JSON and
//! CSV, the `/sla` dashboard, and the monthly service report mail.
//!
//! The data set lies in last month (UTC), so the dashboard's default period holds it:
//! Payroll for Acme Ltd, one incident met and one breached twice (with a reason); Mail
//! without a customer, one incident answered in time and still open past its resolution
//! target. Standard SLA: first response in 30 minutes, resolution in 240.

use super::api::{Reply, TestApp, app, is_problem};
use super::categories::field_of;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use steward_domain::access::Role;
use steward_domain::customer::{ContactDraft, CustomerDraft};
use steward_domain::incident::Status;
use steward_domain::service::{Criticality, ServiceDraft, ServiceStatus};
use steward_domain::sla::{AgreementDraft, AgreementKind, RecordKind, Target};
use steward_server::jobs::Runner;
use steward_server::mail::sla_report::{MONTHLY_KIND, enqueue_month, send_month};
use steward_store::incident::IncidentFields;
use steward_store::sla::report::Month;
use steward_store::{Actor, Store, both_backends};

const MINUTE: i64 = 60_000_000;
const DAY: i64 = 1440 * MINUTE;

struct Data {
    month: Month,
    payroll: i64,
    mail: i64,
    acme: i64,
}

fn last_month() -> Month {
    Month::containing(steward_store::now_micros()).prev()
}

fn incident(title: &str, service_id: i64, customer_id: Option<i64>, opened: i64) -> IncidentFields {
    IncidentFields {
        status: Status::InProgress,
        service_id: Some(service_id),
        customer_id,
        ..IncidentFields::new(title, opened)
    }
}

fn resolved(mut f: IncidentFields, response: i64, resolution: i64) -> IncidentFields {
    f.first_response_at = Some(f.opened_at + response * MINUTE);
    f.status = Status::Resolved;
    f.resolution_code = Some("fixed".into());
    f.resolved_at = Some(f.opened_at + resolution * MINUTE);
    f
}

async fn data(store: &Store, t: i64) -> Data {
    let actor = Actor::cli();
    let service = |name: &str| ServiceDraft {
        name: name.into(),
        description: String::new(),
        owner_id: None,
        criticality: Criticality::Medium,
        status: ServiceStatus::Live,
    };
    let payroll = store
        .create_service(t, &service("Payroll"), &actor)
        .await
        .expect("service")
        .id;
    let mail = store
        .create_service(t, &service("Mail"), &actor)
        .await
        .expect("service")
        .id;
    let acme = store
        .create_customer(
            t,
            &CustomerDraft {
                name: "Acme Ltd".into(),
                notes: String::new(),
            },
            &actor,
        )
        .await
        .expect("customer")
        .id;
    for (name, email) in [
        ("Jane Doe", "jane@acme.test"),
        ("Raj Patel", "raj@acme.test"),
        ("Front desk", ""),
    ] {
        store
            .create_contact(
                t,
                acme,
                &ContactDraft {
                    name: name.into(),
                    email: email.into(),
                    phone: String::new(),
                },
                &actor,
            )
            .await
            .expect("contact");
    }
    let target = |metric: &str, minutes| Target {
        metric: metric.into(),
        priority: None,
        minutes,
    };
    let sla = AgreementDraft::new(
        "Standard",
        AgreementKind::Sla,
        RecordKind::Incident,
        vec![target("first_response", 30), target("resolution", 240)],
    );
    store
        .create_agreement(t, &sla.validate().expect("valid"), &actor)
        .await
        .expect("agreement");
    let month = last_month();
    // The 3rd at 09:00 UTC.
    let day = month.start() + 2 * DAY + 540 * MINUTE;
    let create = |f: IncidentFields| async move {
        store
            .create_incident(t, &f, &Actor::cli())
            .await
            .expect("incident")
    };
    // INC-1: both met. INC-2: both breached.
    create(resolved(
        incident("Payroll run stuck", payroll, Some(acme), day),
        10,
        60,
    ))
    .await;
    let late = create(resolved(
        incident("Payslips wrong", payroll, Some(acme), day + DAY),
        45,
        300,
    ))
    .await;
    // INC-3: answered in time, still open long after its resolution target.
    let mut open = incident("Mail bounces", mail, None, day + 2 * DAY);
    open.first_response_at = Some(open.opened_at + 5 * MINUTE);
    create(open).await;
    let clock = store
        .record_clocks(t, RecordKind::Incident, late.id)
        .await
        .expect("clocks")
        .into_iter()
        .find(|c| c.target == "resolution")
        .expect("resolution clock");
    store
        .set_breach_reason(
            t,
            RecordKind::Incident,
            late.id,
            clock.id,
            "=Supplier, late",
            &actor,
        )
        .await
        .expect("reason");
    Data {
        month,
        payroll,
        mail,
        acme,
    }
}

fn period(month: Month) -> String {
    format!("from={month}&to={}", month.next())
}

fn assert_invalid(reply: &Reply, field: &str) {
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    assert!(is_problem(reply), "{}", reply.text);
    assert_eq!(
        field_of(&reply.body),
        vec![field.to_owned()],
        "{}",
        reply.text
    );
}

async fn get_accepting(app: &TestApp, path: &str, accept: &str) -> Reply {
    let request = Request::get(path)
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", app.token(Role::Agent)),
        )
        .header(header::ACCEPT, accept)
        .body(Body::empty())
        .expect("request");
    app.send(request).await
}

both_backends!(attainment_as_json_and_csv, |store: Store| async move {
    let app = app(store).await;
    let d = data(&app.store, app.tenant_id).await;
    let m = d.month;
    let reply = app
        .get(
            &format!("/api/v1/sla/attainment?{}&group=service", period(m)),
            Role::Agent,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["from"], json!(format!("{m}-01T00:00:00Z")));
    assert_eq!(reply.body["group"], json!(["service"]));
    assert_eq!(reply.body["agreement_kind"], "sla");
    assert_eq!(
        reply.body["rows"],
        json!([
            {"group": {"group": "service", "key": d.mail.to_string(), "label": "Mail"}, "then": null,
             "met": 1, "breached": 1, "total": 2, "attainment_percent": 50.0},
            {"group": {"group": "service", "key": d.payroll.to_string(), "label": "Payroll"}, "then": null,
             "met": 2, "breached": 2, "total": 4, "attainment_percent": 50.0}
        ])
    );

    let csv = app
        .get(
            &format!(
                "/api/v1/sla/attainment?{}&group=customer,target&format=csv",
                period(m)
            ),
            Role::Auditor,
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
    assert_eq!(
        csv.headers.get(header::CONTENT_TYPE).expect("type"),
        "text/csv; charset=utf-8"
    );
    let disposition = csv
        .headers
        .get(header::CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .expect("disposition");
    assert!(
        disposition.contains(&format!("sla-attainment-{m}-01-")),
        "{disposition}"
    );
    let acme = d.acme;
    assert_eq!(
        csv.text,
        format!(
            "customer_key,customer,target_key,target,met,breached,total,attainment_percent\n\
             {acme},Acme Ltd,first_response,First response,1,1,2,50.00\n\
             {acme},Acme Ltd,resolution,Resolution,1,1,2,50.00\n\
             ,No customer,first_response,First response,1,0,1,100.00\n\
             ,No customer,resolution,Resolution,0,1,1,0.00\n"
        )
    );
    let by_accept = get_accepting(
        &app,
        &format!("/api/v1/sla/attainment?{}&group=target", period(m)),
        "text/csv;q=0.9, application/json;q=0.5",
    )
    .await;
    assert_eq!(
        by_accept.text,
        "target_key,target,met,breached,total,attainment_percent\n\
         first_response,First response,2,1,3,66.67\n\
         resolution,Resolution,1,2,3,33.33\n"
    );
    let month_rows = app
        .get(
            &format!(
                "/api/v1/sla/attainment?from={m}-01&to={}-01&group=month&customer_id={acme}&target=resolution",
                m.next()
            ),
            Role::Manager,
        )
        .await;
    assert_eq!(
        month_rows.body["rows"],
        json!([{"group": {"group": "month", "key": m.to_string(), "label": m.to_string()}, "then": null,
                "met": 1, "breached": 1, "total": 2, "attainment_percent": 50.0}])
    );
    let ola = app
        .get(
            &format!("/api/v1/sla/attainment?{}&agreement_kind=ola", period(m)),
            Role::Agent,
        )
        .await;
    assert_eq!(ola.body["rows"], json!([]));

    // The default period: the last 12 whole months.
    let default = app.get("/api/v1/sla/attainment", Role::Agent).await;
    let this_month = m.next();
    assert_eq!(
        (default.body["from"].as_str(), default.body["to"].as_str()),
        (
            Some(format!("{}-01T00:00:00Z", this_month.plus(-12)).as_str()),
            Some(format!("{this_month}-01T00:00:00Z").as_str())
        )
    );
    assert_eq!(default.body["rows"].as_array().map(Vec::len), Some(2));

    let requester = app.get("/api/v1/sla/attainment", Role::Requester).await;
    assert_eq!(requester.status, StatusCode::FORBIDDEN);
    assert!(is_problem(&requester));
    let outsider = app
        .call(
            axum::http::Method::GET,
            &format!("/api/v1/sla/attainment?{}", period(m)),
            Some(&app.outsider),
            None,
        )
        .await;
    assert_eq!(
        outsider.body["rows"],
        json!([]),
        "another tenant sees nothing"
    );
    for (query, field) in [
        ("group=week", "group"),
        ("group=service,service", "group"),
        ("group=service,target,month", "group"),
        ("from=last%20week", "from"),
        ("from=2026-02&to=2026-01", "to"),
        ("service_id=abc", "service_id"),
        ("priority=P9", "priority"),
        ("agreement_kind=xla", "agreement_kind"),
        ("record_kind=change", "record_kind"),
        ("format=xml", "format"),
    ] {
        let bad = app
            .get(&format!("/api/v1/sla/attainment?{query}"), Role::Agent)
            .await;
        assert_invalid(&bad, field);
    }
    let unknown = app
        .get("/api/v1/sla/attainment?grup=service", Role::Agent)
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(is_problem(&unknown));
});

both_backends!(breaches_as_json_and_csv, |store: Store| async move {
    let app = app(store).await;
    let d = data(&app.store, app.tenant_id).await;
    let m = d.month;
    let first = app
        .get(
            &format!("/api/v1/sla/breaches?{}&limit=2", period(m)),
            Role::Agent,
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let keys = |r: &Reply| -> Vec<(String, String)> {
        r.body["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|b| {
                        (
                            b["record_key"].as_str().unwrap_or_default().to_owned(),
                            b["target"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(
        keys(&first),
        [
            ("INC-3".to_owned(), "resolution".to_owned()),
            ("INC-2".to_owned(), "resolution".to_owned())
        ]
    );
    let open = &first.body["items"][0];
    assert_eq!(open["stopped_at"], Value::Null);
    assert_eq!(open["record_title"], "Mail bounces");
    assert_eq!(open["customer"], Value::Null);
    let late = &first.body["items"][1];
    assert_eq!(late["breach_reason"], "=Supplier, late");
    assert_eq!(late["agreement"], "Standard");
    assert_eq!(late["record_kind"], "incident");
    assert_eq!(late["customer"], "Acme Ltd");
    let day = m.start() + 3 * DAY + 540 * MINUTE;
    let rfc = |micros: i64| {
        jiff::Timestamp::from_microsecond(micros)
            .expect("time")
            .to_string()
    };
    assert_eq!(late["due_at"], json!(rfc(day + 240 * MINUTE)));
    assert_eq!(late["stopped_at"], json!(rfc(day + 300 * MINUTE)));
    let cursor = first.body["next_cursor"].as_str().expect("more");
    let second = app
        .get(
            &format!("/api/v1/sla/breaches?{}&limit=2&cursor={cursor}", period(m)),
            Role::Agent,
        )
        .await;
    assert_eq!(
        keys(&second),
        [("INC-2".to_owned(), "first_response".to_owned())]
    );
    assert_eq!(second.body["next_cursor"], Value::Null);

    let csv = app
        .get(
            &format!("/api/v1/sla/breaches?{}&format=csv&limit=1", period(m)),
            Role::Agent,
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
    let lines: Vec<&str> = csv.text.lines().collect();
    assert_eq!(
        lines[0],
        "record_key,record_title,target,target_minutes,agreement,agreement_kind,priority,service,customer,due_at,stopped_at,breach_reason"
    );
    assert_eq!(
        lines.len(),
        4,
        "every breach, whatever the limit: {}",
        csv.text
    );
    assert_eq!(
        lines[2],
        format!(
            "INC-2,Payslips wrong,resolution,240,Standard,sla,P3,Payroll,Acme Ltd,{},{},\"'=Supplier, late\"",
            rfc(day + 240 * MINUTE),
            rfc(day + 300 * MINUTE)
        ),
        "a reason that looks like a formula is defused"
    );
    assert!(lines[1].starts_with("INC-3,Mail bounces,resolution,240,Standard,sla,P3,Mail,,"));

    let filtered = app
        .get(
            &format!(
                "/api/v1/sla/breaches?{}&service_id={}&target=first_response",
                period(m),
                d.payroll
            ),
            Role::Agent,
        )
        .await;
    assert_eq!(
        keys(&filtered),
        [("INC-2".to_owned(), "first_response".to_owned())]
    );
    let requester = app.get("/api/v1/sla/breaches", Role::Requester).await;
    assert_eq!(requester.status, StatusCode::FORBIDDEN);
    assert_invalid(
        &app.get("/api/v1/sla/breaches?to=yesterday", Role::Agent)
            .await,
        "to",
    );
    let bad_cursor = app.get("/api/v1/sla/breaches?cursor=zz", Role::Agent).await;
    assert_invalid(&bad_cursor, "cursor");
});

both_backends!(the_dashboard_shows_the_figures, |store: Store| async move {
    let app = app(store).await;
    let d = data(&app.store, app.tenant_id).await;
    let m = d.month;
    let page = app.get("/sla", Role::Agent).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let html = &page.text;
    assert!(html.contains("<title>SLA dashboard"), "{html}");
    assert!(html.contains("<a href=\"/sla\" aria-current=\"page\">SLA dashboard</a>"));
    // Overall: 3 of 6 clocks met.
    assert!(
        html.contains("3 of 6 clocks met their target; 3 breached."),
        "{html}"
    );
    // By service and target: Payroll's first response, 1 met and 1 breached.
    let payroll_row = html
        .split("<tr>")
        .find(|row| row.contains("<td>Payroll</td>") && row.contains("<td>First response</td>"))
        .expect("Payroll first response row");
    assert!(payroll_row.contains("<td class=\"num\">1</td>"));
    assert!(payroll_row.contains("50.0 %"));
    assert!(payroll_row.contains("below goal"));
    // The chart: last month's point, 50 %, links to the month.
    assert!(html.contains("<svg class=\"chart line-chart\""));
    assert!(
        html.contains(&format!("{}: 50.0% (3 of 6 met)", m.name())),
        "{html}"
    );
    assert!(html.contains(&format!("month={m}")));
    assert!(html.contains("Goal 95%"));
    // Breaches link to their records, with the reason.
    assert!(html.contains("<a href=\"/incidents/INC-2\">INC-2</a> Payslips wrong"));
    assert!(html.contains("=Supplier, late"));
    assert!(html.contains("<a href=\"/incidents/INC-3\">INC-3</a> Mail bounces"));
    assert!(html.contains("Still open"));
    // CSV downloads come from the API with the same filters.
    assert!(
        html.contains(&format!(
            "/api/v1/sla/attainment?format=csv&#38;group=service%2Ctarget&#38;from={}&#38;to={}",
            m.plus(-10),
            m.plus(2)
        )),
        "{html}"
    );

    // Narrowed to one service and to last month, with another goal.
    let narrowed = app
        .get(
            &format!("/sla?service={}&month={m}&goal=40&months=3", d.payroll),
            Role::Agent,
        )
        .await;
    assert_eq!(narrowed.status, StatusCode::OK);
    let html = &narrowed.text;
    assert!(html.contains(&format!("<h2>{}</h2>", m.name())), "{html}");
    assert!(
        html.contains("2 of 4 clocks met their target; 2 breached."),
        "{html}"
    );
    assert!(html.contains("meets goal"));
    assert!(!html.contains("INC-3"), "Mail's breach is filtered out");
    assert!(html.contains("Goal 40%"));

    let requester = app.get("/sla", Role::Requester).await;
    assert_eq!(requester.status, StatusCode::FORBIDDEN);
});

both_backends!(monthly_reports_are_mailed_once, |store: Store| async move {
    let app = app(store).await;
    let d = data(&app.store, app.tenant_id).await;
    let t = app.tenant_id;
    let store = &app.store;
    // Two nodes at once, then a rerun: each contact with an address gets one message.
    let (a, b) = tokio::join!(send_month(store, t, d.month), send_month(store, t, d.month));
    assert_eq!(a.expect("send") + b.expect("send"), 2);
    assert_eq!(send_month(store, t, d.month).await.expect("again"), 0);
    let outbox = store.outbox(t).await.expect("outbox");
    assert_eq!(outbox.len(), 2);
    let mut to: Vec<&str> = outbox.iter().map(|m| m.to_address.as_str()).collect();
    to.sort_unstable();
    assert_eq!(to, ["jane@acme.test", "raj@acme.test"]);
    let jane = outbox
        .iter()
        .find(|m| m.to_address == "jane@acme.test")
        .expect("jane");
    assert_eq!(
        jane.subject,
        format!("Service report for {}: Acme Ltd", d.month.name())
    );
    assert_eq!(
        (jane.record_type.as_str(), jane.record_id),
        ("customer", d.acme)
    );
    let body = &jane.body;
    assert!(
        body.starts_with("Hello Jane Doe,\n\nthis is the service level report of Acme Ltd for "),
        "{body}"
    );
    for line in [
        "Service       Target          Met  Breached  Attainment",
        "Payroll       First response    1         1      50.0 %",
        "Payroll       Resolution        1         1      50.0 %",
        "All services  All targets       2         2      50.0 %",
    ] {
        assert!(body.contains(line), "{line}\n{body}");
    }
    assert!(
        body.contains("- INC-2 Payslips wrong: resolution due "),
        "{body}"
    );
    assert!(body.contains("Reason: =Supplier, late"), "{body}");
    assert!(!body.contains("INC-3"), "another customer's record: {body}");
    assert!(
        body.ends_with("-- \nAcme service desk (Steward)\n"),
        "{body}"
    );

    // The runner's path: one job per tenant and month, however often it is enqueued.
    let next = d.month.next();
    assert_eq!(enqueue_month(store, d.month).await.expect("enqueue"), 2);
    assert_eq!(enqueue_month(store, d.month).await.expect("enqueue"), 0);
    let runner = Runner::new(store.clone(), "node-a");
    runner.run_once().await.expect("run");
    assert_eq!(
        store.outbox(t).await.expect("outbox").len(),
        2,
        "the job found its messages already queued"
    );
    let counts: std::collections::HashMap<String, i64> = store
        .job_counts()
        .await
        .expect("counts")
        .into_iter()
        .collect();
    assert!(counts.get("done").copied().unwrap_or(0) >= 2, "{counts:?}");
    assert_eq!(send_month(store, t, next).await.expect("empty month"), 0);
    assert!(MONTHLY_KIND.starts_with("sla."));
});
