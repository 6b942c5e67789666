//! `/api/v1/calendars`: business calendars, their working-time arithmetic and holiday imports.

use super::api::{Reply, TestApp, app, is_problem};
use super::categories::field_of;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use steward_domain::access::Role;
use steward_store::{Store, both_backends};

/// Monday to Friday, 09:00 to 17:00 in London, closed for Christmas: the shape.
fn london() -> Value {
    let hours: Vec<Value> = ["mon", "tue", "wed", "thu", "fri"]
        .iter()
        .map(|d| json!({"weekday": d, "start": "09:00", "end": "17:00"}))
        .collect();
    json!({
        "name": "London office",
        "timezone": "Europe/London",
        "hours": hours,
        "holidays": [
            {"date": "2026-12-25", "name": "Christmas Day"},
            {"date": "2026-12-26", "name": "Boxing Day"}
        ]
    })
}

async fn create_london(app: &TestApp) -> i64 {
    let created = app.post("/api/v1/calendars", Role::Manager, london()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    created.body["id"].as_i64().expect("id")
}

async fn add(app: &TestApp, id: i64, start: &str, minutes: i64) -> Reply {
    app.post(
        &format!("/api/v1/calendars/{id}/add"),
        Role::Agent,
        json!({"start": start, "minutes": minutes}),
    )
    .await
}

async fn between(app: &TestApp, id: i64, start: &str, end: &str) -> Reply {
    app.post(
        &format!("/api/v1/calendars/{id}/between"),
        Role::Agent,
        json!({"start": start, "end": end}),
    )
    .await
}

async fn send_ics(app: &TestApp, id: i64, role: Role, content_type: &str, ics: &str) -> Reply {
    let request = Request::post(format!("/api/v1/calendars/{id}/holidays/ics"))
        .header(header::AUTHORIZATION, format!("Bearer {}", app.token(role)))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(ics.to_owned()))
        .expect("request");
    app.send(request).await
}

fn assert_invalid(reply: &Reply, field: &str) {
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    assert!(is_problem(reply), "{}", reply.text);
    let mut fields = field_of(&reply.body);
    fields.dedup();
    assert_eq!(fields, vec![field.to_owned()], "{}", reply.text);
}

both_backends!(calendars_round_trip, |store: Store| async move {
    let app = app(store).await;
    let created = app.post("/api/v1/calendars", Role::Manager, london()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.body["id"].as_i64().expect("id");
    assert_eq!(created.body["name"], "London office");
    assert_eq!(created.body["timezone"], "Europe/London");
    assert_eq!(
        created.body["hours"][0],
        json!({"weekday": "mon", "start": "09:00", "end": "17:00"})
    );
    assert_eq!(
        created.body["holidays"],
        json!([
            {"date": "2026-12-25", "name": "Christmas Day", "yearly": false},
            {"date": "2026-12-26", "name": "Boxing Day", "yearly": false}
        ])
    );
    assert_eq!(created.body["exceptions"], json!([]));

    let got = app
        .get(&format!("/api/v1/calendars/{id}"), Role::Agent)
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, created.body);
    let listed = app.get("/api/v1/calendars", Role::Auditor).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["items"][0]["id"], id);

    let twin = app
        .post(
            "/api/v1/calendars",
            Role::Admin,
            json!({"name": "LONDON OFFICE", "timezone": "UTC", "hours": [{"weekday": "sat", "start": "10:00", "end": "12:00"}]}),
        )
        .await;
    assert_invalid(&twin, "name");

    let mut changed = london();
    changed["hours"] = json!([
        {"weekday": "mon", "start": "8:00", "end": "12:00"}
    ]);
    let bad = app
        .put(&format!("/api/v1/calendars/{id}"), Role::Admin, changed)
        .await;
    assert_invalid(&bad, "hours[0].start");
    let mut changed = london();
    changed["hours"] = json!([{"weekday": "sun", "start": "22:00", "end": "06:00"}]);
    changed["exceptions"] =
        json!([{"date": "2026-12-31", "start": "12:00", "end": "24:00", "working": false}]);
    changed["holidays"][0]["yearly"] = json!(true);
    let replaced = app
        .put(&format!("/api/v1/calendars/{id}"), Role::Admin, changed)
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text);
    assert_eq!(
        replaced.body["hours"],
        json!([{"weekday": "sun", "start": "22:00", "end": "06:00"}])
    );
    assert_eq!(replaced.body["holidays"][0]["yearly"], true);
    assert_eq!(replaced.body["exceptions"][0]["end"], "24:00");

    let deleted = app
        .delete(&format!("/api/v1/calendars/{id}"), Role::Manager)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = app
        .get(&format!("/api/v1/calendars/{id}"), Role::Agent)
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert!(is_problem(&gone));

    let journal = app
        .get(
            &format!("/api/v1/journal?record_type=calendar&record_id={id}"),
            Role::Auditor,
        )
        .await;
    let actions: Vec<&str> = journal.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, ["delete", "update", "create"]);
});

both_backends!(
    calendars_add_and_measure_working_time,
    |store: Store| async move {
        let app = app(store).await;
        let id = create_london(&app).await;

        // Thursday 24 December 2026, 16:00 in London (UTC+0 in winter): one hour that day,
        // Christmas and Boxing Day off, the weekend, then one hour on Monday.
        let due = add(&app, id, "2026-12-24T16:00:00Z", 120).await;
        assert_eq!(due.status, StatusCode::OK, "{}", due.text);
        assert_eq!(due.body, json!({"end": "2026-12-28T10:00:00Z"}));
        let spent = between(&app, id, "2026-12-24T16:00:00Z", "2026-12-28T10:00:00Z").await;
        assert_eq!(spent.status, StatusCode::OK, "{}", spent.text);
        assert_eq!(spent.body, json!({"minutes": 120, "seconds": 7200}));

        // Summer time: 07:30Z on Monday 1 June 2026 is 08:30 in London.
        let summer = add(&app, id, "2026-06-01T07:30:00Z", 60).await;
        assert_eq!(
            summer.body["end"], "2026-06-01T09:00:00Z",
            "{}",
            summer.text
        );
        let offset = add(&app, id, "2026-06-01T09:30:00+01:00", 30).await;
        assert_eq!(
            offset.body["end"], "2026-06-01T09:00:00Z",
            "{}",
            offset.text
        );
        let friday = add(&app, id, "2026-06-05T08:00:00Z", 480).await;
        assert_eq!(
            friday.body["end"], "2026-06-05T16:00:00Z",
            "a working day's end is where eight hours end, not Monday"
        );
        let zero = add(&app, id, "2026-12-25T12:00:00Z", 0).await;
        assert_eq!(zero.body["end"], "2026-12-25T12:00:00Z");

        let partial = between(&app, id, "2026-12-24T16:00:00Z", "2026-12-24T16:01:59.5Z").await;
        assert_eq!(
            partial.body,
            json!({"minutes": 1, "seconds": 119}),
            "rounded down"
        );
        let holiday = between(&app, id, "2026-12-25T00:00:00Z", "2026-12-27T00:00:00Z").await;
        assert_eq!(holiday.body, json!({"minutes": 0, "seconds": 0}));

        assert_invalid(&add(&app, id, "2026-12-24T16:00:00Z", -1).await, "minutes");
        assert_invalid(
            &add(&app, id, "2026-12-24T16:00:00Z", 10 * 366 * 24 * 60 + 1).await,
            "minutes",
        );
        assert_invalid(&add(&app, id, "2026-12-24 16:00", 10).await, "start");
        let fractional = app
            .post(
                &format!("/api/v1/calendars/{id}/add"),
                Role::Agent,
                json!({"start": "2026-12-24T16:00:00Z", "minutes": 1.5}),
            )
            .await;
        assert_invalid(&fractional, "minutes");
        let unknown = app
            .post(
                &format!("/api/v1/calendars/{id}/add"),
                Role::Agent,
                json!({"start": "2026-12-24T16:00:00Z", "minutes": 1, "hours": 2}),
            )
            .await;
        assert_invalid(&unknown, "hours");
        assert_invalid(
            &between(&app, id, "2026-12-28T10:00:00Z", "2026-12-24T16:00:00Z").await,
            "end",
        );
        assert_invalid(
            &between(&app, id, "2026-01-01T00:00:00Z", "2040-01-01T00:00:00Z").await,
            "end",
        );
        assert_invalid(
            &between(&app, id, "soon", "2026-12-24T16:00:00Z").await,
            "start",
        );
        assert_eq!(
            add(&app, id + 1000, "2026-12-24T16:00:00Z", 1).await.status,
            StatusCode::NOT_FOUND
        );
    }
);

both_backends!(calendars_are_validated, |store: Store| async move {
    let app = app(store).await;
    let mut mars = london();
    mars["timezone"] = json!("Mars/Olympus_Mons");
    let reply = app.post("/api/v1/calendars", Role::Manager, mars).await;
    assert_invalid(&reply, "timezone");

    let mut bad_day = london();
    bad_day["hours"][1]["weekday"] = json!("monday");
    assert_invalid(
        &app.post("/api/v1/calendars", Role::Manager, bad_day).await,
        "hours[1].weekday",
    );
    let mut bad_date = london();
    bad_date["holidays"][1]["date"] = json!("26/12/2026");
    assert_invalid(
        &app.post("/api/v1/calendars", Role::Manager, bad_date).await,
        "holidays[1].date",
    );
    let mut misspelt = london();
    misspelt["holidays"][0] = json!({"date": "2026-12-25", "nmae": "Christmas"});
    let reply = app.post("/api/v1/calendars", Role::Manager, misspelt).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    let mut idle = london();
    idle["hours"] = json!([]);
    assert_invalid(
        &app.post("/api/v1/calendars", Role::Manager, idle).await,
        "hours",
    );
    let listed = app.get("/api/v1/calendars", Role::Admin).await;
    assert_eq!(listed.body["items"], json!([]), "nothing was saved");
});

const BANK_HOLIDAYS: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n\
BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261225\r\nDTEND;VALUE=DATE:20261226\r\nSUMMARY:Christmas Day\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261228\r\nSUMMARY:Boxing Day (substitute day)\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270101\r\nSUMMARY:New Year\\, at last\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";

both_backends!(calendars_import_ics_holidays, |store: Store| async move {
    let app = app(store).await;
    let id = create_london(&app).await;
    let before = app
        .get(&format!("/api/v1/calendars/{id}"), Role::Agent)
        .await;

    let bad =
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:2026-13-45\nEND:VEVENT\nEND:VCALENDAR\n";
    let refused = send_ics(&app, id, Role::Manager, "text/calendar", bad).await;
    assert_invalid(&refused, "ics");
    assert!(
        refused.body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("line 3:")),
        "{}",
        refused.text
    );
    let not_ics = send_ics(&app, id, Role::Manager, "text/calendar", "hello").await;
    assert_invalid(&not_ics, "ics");
    let json_body = send_ics(&app, id, Role::Manager, "application/json", BANK_HOLIDAYS).await;
    assert_eq!(json_body.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        send_ics(&app, id, Role::Agent, "text/calendar", BANK_HOLIDAYS)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let unchanged = app
        .get(&format!("/api/v1/calendars/{id}"), Role::Agent)
        .await;
    assert_eq!(unchanged.body, before.body, "nothing changed");

    let imported = send_ics(
        &app,
        id,
        Role::Manager,
        "text/calendar; charset=utf-8",
        BANK_HOLIDAYS,
    )
    .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.text);
    assert_eq!(imported.body["added"], 2);
    let dates: Vec<(&str, &str)> = imported.body["calendar"]["holidays"]
        .as_array()
        .expect("holidays")
        .iter()
        .filter_map(|h| Some((h["date"].as_str()?, h["name"].as_str()?)))
        .collect();
    assert_eq!(
        dates,
        [
            ("2026-12-25", "Christmas Day"),
            ("2026-12-26", "Boxing Day"),
            ("2026-12-28", "Boxing Day (substitute day)"),
            ("2027-01-01", "New Year, at last"),
        ],
        "25 December is kept once"
    );
    let due = add(&app, id, "2026-12-24T16:00:00Z", 120).await;
    assert_eq!(
        due.body["end"], "2026-12-29T10:00:00Z",
        "the imported substitute day counts"
    );
    let again = send_ics(&app, id, Role::Admin, "text/calendar", BANK_HOLIDAYS).await;
    assert_eq!(again.body["added"], 0);

    let journal = app
        .get(
            &format!("/api/v1/journal?record_type=calendar&record_id={id}"),
            Role::Auditor,
        )
        .await;
    let actions: Vec<&str> = journal.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        ["update", "create"],
        "one journaled update; refused and empty imports write nothing"
    );
});

both_backends!(
    calendars_respect_roles_and_tenants,
    |store: Store| async move {
        let app = app(store).await;
        let id = create_london(&app).await;
        let path = format!("/api/v1/calendars/{id}");

        assert_eq!(
            app.get("/api/v1/calendars", Role::Requester).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.get(&path, Role::Requester).await.status,
            StatusCode::FORBIDDEN
        );
        let requester_add = app
            .post(
                &format!("{path}/add"),
                Role::Requester,
                json!({"start": "2026-12-24T16:00:00Z", "minutes": 1}),
            )
            .await;
        assert_eq!(requester_add.status, StatusCode::FORBIDDEN);
        assert!(is_problem(&requester_add));
        assert_eq!(app.get(&path, Role::Auditor).await.status, StatusCode::OK);
        assert_eq!(
            app.post("/api/v1/calendars", Role::Agent, london())
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.put(&path, Role::Auditor, london()).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.delete(&path, Role::Agent).await.status,
            StatusCode::FORBIDDEN
        );

        let call = |method: Method, uri: String, body: Option<Value>| {
            let app = &app;
            async move {
                app.call(method, &uri, Some(app.outsider.as_str()), body)
                    .await
            }
        };
        assert_eq!(
            call(Method::GET, path.clone(), None).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            call(Method::PUT, path.clone(), Some(london())).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            call(
                Method::POST,
                format!("{path}/add"),
                Some(json!({"start": "2026-12-24T16:00:00Z", "minutes": 1}))
            )
            .await
            .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            call(
                Method::POST,
                format!("{path}/between"),
                Some(json!({"start": "2026-12-24T16:00:00Z", "end": "2026-12-28T10:00:00Z"}))
            )
            .await
            .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            call(Method::DELETE, path.clone(), None).await.status,
            StatusCode::NOT_FOUND
        );
        let theirs = call(Method::GET, "/api/v1/calendars".into(), None).await;
        assert_eq!(theirs.body["items"], json!([]));
        let created = call(Method::POST, "/api/v1/calendars".into(), Some(london())).await;
        assert_eq!(
            created.status,
            StatusCode::CREATED,
            "names are unique per tenant only"
        );
        assert_eq!(app.get(&path, Role::Agent).await.status, StatusCode::OK);
    }
);
