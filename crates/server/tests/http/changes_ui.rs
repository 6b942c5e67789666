//! Change-management pages through the real router: the change form with the risk
//! questionnaire, the list and its filters, the CAB's approval page with a quorum, the change
//! page, the calendar with collisions and blackouts, and the dashboard's success rate.

use super::cmdb_ui::{ci, class, page};
use super::sla_ui::sign_in;
use super::support::{assert_refused, submit, tenant_with_people};
use super::ui::{get, send};
use axum::Router;
use axum::http::StatusCode;
use std::collections::BTreeMap;
use steward_domain::access::Role;
use steward_domain::change::approval::{ApprovalRule, ApprovalStage};
use steward_domain::change::schedule::BlackoutScope;
use steward_domain::change::{
    Blackout, ChangeDraft, ChangeStatus, ChangeType, Delegation, RiskLevel, Window,
};
use steward_server::{AppState, ServerConfig, router};
use steward_store::change::{Change, TemplateDraft};
use steward_store::{Actor, Store, both_backends};

/// 2031-03-01T22:00:00Z and four hours later.
const START: i64 = 1_930_168_800_000_000;
const HOUR: i64 = 3_600_000_000;

struct Site {
    app: Router,
    store: Store,
    tenant_id: i64,
    /// Ann (admin), Al (agent, raises changes), Mo and Max (managers), by id.
    ann: i64,
    al: i64,
    mo: i64,
    max: i64,
    db: i64,
}

/// Acme with Ann (admin), Al (agent), Mo and Max (managers), Ada (auditor), and a CI, DB01.
async fn site(store: Store) -> Site {
    let (tenant_id, ids) = tenant_with_people(
        &store,
        "Acme",
        &[
            ("ann@acme.test", "Ann", Role::Admin),
            ("al@acme.test", "Al", Role::Agent),
            ("mo@acme.test", "Mo", Role::Manager),
            ("max@acme.test", "Max", Role::Manager),
            ("ada@acme.test", "Ada", Role::Auditor),
        ],
    )
    .await;
    let server = class(&store, tenant_id, "Server", vec![]).await;
    let db = ci(&store, tenant_id, &server, "DB01", vec![]).await;
    Site {
        app: router(AppState::new(store.clone(), ServerConfig::default())),
        store,
        tenant_id,
        ann: ids[0],
        al: ids[1],
        mo: ids[2],
        max: ids[3],
        db,
    }
}

fn actor(user_id: i64) -> Actor {
    Actor {
        user_id: Some(user_id),
        ..Actor::cli()
    }
}

fn draft(
    title: &str,
    change_type: ChangeType,
    template_id: Option<i64>,
    ci: i64,
    start: i64,
) -> ChangeDraft {
    ChangeDraft {
        title: title.into(),
        change_type,
        template_id,
        reason: "Routine".into(),
        implementation_plan: "Do it".into(),
        backout_plan: "Undo it".into(),
        test_plan: String::new(),
        window: Some(Window {
            start,
            end: start + 4 * HOUR,
        }),
        ci_ids: vec![ci],
        service_ids: vec![],
        incident_ids: vec![],
        problem_ids: vec![],
    }
    .validate()
    .expect("draft")
}

/// Answers to the default questionnaire that score high (3 + 2 + ... = 9).
fn high_answers() -> BTreeMap<String, String> {
    [
        ("blast_radius", "several_services"),
        ("tested", "no"),
        ("backout_tested", "yes"),
        ("customer_facing", "no"),
        ("out_of_hours", "yes"),
    ]
    .into_iter()
    .map(|(q, a)| (q.to_owned(), a.to_owned()))
    .collect()
}

async fn move_to(s: &Site, change: &Change, to: ChangeStatus) -> Change {
    s.store
        .transition_change(s.tenant_id, change.id, to, &actor(s.al))
        .await
        .unwrap_or_else(|e| panic!("{} -> {to}: {e}", change.key()))
}

/// The CAB rule the approval tests use: Ann, Mo and Max decide on normal changes, two suffice.
fn cab_of_three(s: &Site) -> ApprovalRule {
    ApprovalRule {
        change_type: ChangeType::Normal,
        from_risk: RiskLevel::Low,
        stage: ApprovalStage::Cab {
            members: vec![s.ann, s.mo, s.max],
            quorum: 2,
        },
    }
}

/// "Patch DB01", raised by Al, assessed as high risk and waiting for authorisation.
async fn awaiting_authorisation(s: &Site) -> Change {
    let change = s
        .store
        .create_change(
            s.tenant_id,
            &draft("Patch DB01", ChangeType::Normal, None, s.db, START),
            None,
            &actor(s.al),
        )
        .await
        .expect("change");
    move_to(s, &change, ChangeStatus::Assessment).await;
    s.store
        .assess_change_risk(s.tenant_id, change.id, &high_answers(), &actor(s.al))
        .await
        .expect("risk");
    move_to(s, &change, ChangeStatus::Authorisation).await
}

/// The change form for a standard change "Patch DB01" from the template `template_id`.
fn standard_patch<'a>(csrf: &'a str, template_id: &'a str) -> [(&'a str, &'a str); 6] {
    [
        ("_csrf", csrf),
        ("title", "Patch DB01"),
        ("type", "standard"),
        ("template_id", template_id),
        ("planned_start", "2031-03-10T22:00"),
        ("planned_end", "2031-03-10T23:00"),
    ]
}

/// An active template "Patch a server" with these plans.
fn patch_template(implementation_plan: &str, backout_plan: &str) -> TemplateDraft {
    TemplateDraft {
        name: "Patch a server".into(),
        description: String::new(),
        implementation_plan: implementation_plan.into(),
        backout_plan: backout_plan.into(),
        test_plan: String::new(),
        active: true,
    }
    .validate()
    .expect("template")
}

/// A standard change on DB01 in the schedule, from a template.
async fn scheduled_standard(s: &Site, title: &str, start: i64) -> Change {
    let templates = s
        .store
        .change_templates(s.tenant_id, false)
        .await
        .expect("templates");
    let template = match templates.first() {
        Some(t) => t.id,
        None => {
            let t = patch_template("Apply the patch", "Remove the patch");
            s.store
                .create_change_template(s.tenant_id, &t, &Actor::cli())
                .await
                .expect("template")
                .id
        }
    };
    let change = s
        .store
        .create_change(
            s.tenant_id,
            &draft(title, ChangeType::Standard, Some(template), s.db, start),
            None,
            &actor(s.al),
        )
        .await
        .expect("change");
    move_to(s, &change, ChangeStatus::Scheduled).await
}

both_backends!(
    the_change_form_keeps_input_and_sets_the_risk,
    |store: Store| async move {
        let s = site(store).await;
        let (al, csrf) = sign_in(&s.app, "al@acme.test").await;
        let home = page(&s.app, "/", &al).await;
        assert!(
            home.html.contains("href=\"/changes\""),
            "the nav has Changes"
        );
        let form = page(&s.app, "/changes/new", &al).await;
        assert!(
            form.html
                .contains("How much could break if this change goes wrong?")
        );
        assert!(form.html.contains("value=\"several_services\""));
        assert!(
            form.html.contains(&format!("DB01 #{}", s.db)),
            "the CI picker offers DB01"
        );

        let refused = submit(
            &s.app,
            "/changes",
            &al,
            &[
                ("_csrf", &csrf),
                ("title", ""),
                ("type", "normal"),
                ("reason", "End of support"),
                ("implementation_plan", "pg_upgrade"),
                ("planned_start", "next tuesday"),
                ("planned_end", "2031-03-02T02:00"),
                ("ci", "Mainframe"),
                ("incidents", "INC-99"),
                ("risk.blast_radius", "one_service"),
            ],
        )
        .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        for message in [
            "Title is required",
            "Give a date and time such as 2031-03-01 22:00 (UTC)",
            "No CI is named “Mainframe”",
            "There is no INC-99",
            "Answer “Was the change tested in a staging environment?”",
        ] {
            assert!(
                refused.html.contains(message),
                "{message}: {}",
                refused.html
            );
        }
        assert!(
            refused.html.contains("End of support") && refused.html.contains("value=\"Mainframe\"")
        );
        assert!(
            refused.html.contains("value=\"one_service\" checked"),
            "the answer given stays chosen"
        );
        assert!(
            s.store
                .changes(s.tenant_id, &Default::default(), &Default::default())
                .await
                .expect("changes")
                .items
                .is_empty(),
            "nothing was raised"
        );

        let db = format!("DB01 #{}", s.db);
        let mut fields = vec![
            ("_csrf", csrf.as_str()),
            ("title", "Upgrade the payroll database"),
            ("type", "normal"),
            ("reason", "End of support"),
            ("implementation_plan", "pg_upgrade"),
            ("backout_plan", "Restore the snapshot"),
            ("planned_start", "2031-03-01T22:00"),
            ("planned_end", "2031-03-02T02:00"),
            ("ci", db.as_str()),
            ("ci", ""),
        ];
        let answers = high_answers();
        let names: Vec<(String, String)> = answers
            .iter()
            .map(|(q, a)| (format!("risk.{q}"), a.clone()))
            .collect();
        fields.extend(names.iter().map(|(q, a)| (q.as_str(), a.as_str())));
        let created = submit(&s.app, "/changes", &al, &fields).await;
        assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.html);
        assert_eq!(created.location, "/changes/CHG-1?done=created");
        let change = s
            .store
            .change_by_number(s.tenant_id, 1)
            .await
            .expect("CHG-1");
        assert_eq!(change.risk.as_ref().map(|r| r.level), Some(RiskLevel::High));
        assert_eq!(change.ci_ids, vec![s.db]);
        assert_eq!(change.window.map(|w| w.start), Some(START));
        let view = page(&s.app, &created.location, &al).await;
        assert!(view.html.contains("risk: high") && view.html.contains("Change raised."));
        assert!(view.html.contains(">DB01</a>"));
        assert!(view.html.contains("Submit for assessment"));

        let list = page(&s.app, "/changes", &al).await;
        assert!(list.html.contains("Upgrade the payroll database"));
        let high = page(&s.app, "/changes?risk=high&type=normal", &al).await;
        assert!(high.html.contains("CHG-1"));
        let low = page(&s.app, "/changes?risk=low", &al).await;
        assert!(low.html.contains("No change matches these filters"));

        // Through the page: to assessment; the auditor sees it but may not move it.
        let moved = submit(
            &s.app,
            "/changes/CHG-1/transitions",
            &al,
            &[("_csrf", &csrf), ("to", "assessment")],
        )
        .await;
        assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.html);
        let (ada, _) = sign_in(&s.app, "ada@acme.test").await;
        let seen = page(&s.app, "/changes/CHG-1", &ada).await;
        assert!(
            seen.html.contains("in assessment") && !seen.html.contains("Submit for authorisation")
        );
        let new = send(&s.app, get("/changes/new", &ada)).await;
        assert_eq!(new.status, StatusCode::FORBIDDEN);
    }
);

both_backends!(
    the_cab_decides_on_the_approvals_page,
    |store: Store| async move {
        let s = site(store).await;
        let t = s.tenant_id;
        let mut policy = s.store.change_policy(t).await.expect("policy");
        policy.approvals.rules = vec![
            cab_of_three(&s),
            ApprovalRule {
                change_type: ChangeType::Emergency,
                from_risk: RiskLevel::Low,
                stage: ApprovalStage::ChangeManager,
            },
        ];
        s.store
            .save_change_policy(t, &policy, &Actor::cli())
            .await
            .expect("policy");
        let change = awaiting_authorisation(&s).await;

        let (al, _) = sign_in(&s.app, "al@acme.test").await;
        let mine = page(&s.app, "/changes/approvals", &al).await;
        assert!(
            mine.html.contains("Nothing awaits your decision"),
            "the requester never decides"
        );

        let (mo, mo_csrf) = sign_in(&s.app, "mo@acme.test").await;
        let queue = page(&s.app, "/changes/approvals", &mo).await;
        assert!(queue.html.contains("CHG-1") && queue.html.contains("Patch DB01"));
        assert!(queue.html.contains("0 of 3 approved, needs 2"));
        let refused = submit(
            &s.app,
            "/changes/CHG-1/approvals",
            &mo,
            &[
                ("_csrf", &mo_csrf),
                ("verdict", "reject"),
                ("comment", ""),
                ("back", "approvals"),
            ],
        )
        .await;
        assert_eq!(refused.status, StatusCode::CONFLICT);
        assert!(
            refused.html.contains("Say why you reject the change"),
            "{}",
            refused.html
        );
        let approved = submit(
            &s.app,
            "/changes/CHG-1/approvals",
            &mo,
            &[
                ("_csrf", &mo_csrf),
                ("verdict", "approve"),
                ("comment", "Fine by me"),
                ("back", "approvals"),
            ],
        )
        .await;
        assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.html);
        assert_eq!(approved.location, "/changes/approvals?done=approve");
        let after = page(&s.app, &approved.location, &mo).await;
        assert!(
            after.html.contains("Your approval is recorded") && !after.html.contains("Patch DB01")
        );
        let approvals = s
            .store
            .change_approvals(t, change.id)
            .await
            .expect("approvals");
        assert_eq!(approvals.decisions.len(), 1);
        assert_eq!(approvals.decisions[0].approver_id, s.mo);

        // Ann is away and lets Mo sit in her seat: the change awaits Mo again, for Ann.
        let now = steward_store::now_micros();
        s.store
            .create_delegation(
                t,
                &Delegation {
                    from: s.ann,
                    to: s.mo,
                    from_time: now - HOUR,
                    until: now + 24 * HOUR,
                },
                &actor(s.ann),
            )
            .await
            .expect("delegation");
        let again = page(&s.app, "/changes/approvals", &mo).await;
        assert!(again.html.contains("Patch DB01") && again.html.contains("for Ann"));
        assert!(
            again
                .html
                .contains(&format!("name=\"on_behalf_of\" value=\"{}\"", s.ann))
        );

        // On the change page, Max sees the progress and decides; the quorum is reached.
        let (max, max_csrf) = sign_in(&s.app, "max@acme.test").await;
        let view = page(&s.app, "/changes/CHG-1", &max).await;
        assert!(
            view.html.contains("1 of 3 approved, needs 2"),
            "{}",
            view.html
        );
        assert!(view.html.contains("Fine by me") && view.html.contains("Mo"));
        assert!(view.html.contains("value=\"approve\""), "Max may decide");
        let decided = submit(
            &s.app,
            "/changes/CHG-1/approvals",
            &max,
            &[
                ("_csrf", &max_csrf),
                ("verdict", "approve"),
                ("comment", ""),
            ],
        )
        .await;
        assert_eq!(decided.status, StatusCode::SEE_OTHER, "{}", decided.html);
        let view = page(&s.app, "/changes/CHG-1", &max).await;
        assert!(view.html.contains("Approved") && view.html.contains(">Schedule</button>"));
        let (ann, _) = sign_in(&s.app, "ann@acme.test").await;
        let queue = page(&s.app, "/changes/approvals", &ann).await;
        assert!(
            !queue.html.contains("Patch DB01"),
            "an approved change awaits nobody"
        );

        // Max schedules, implements and reviews it through the page, then closes it.
        let to = |status: &'static str| {
            let csrf = max_csrf.clone();
            let app = s.app.clone();
            let max = max.clone();
            async move {
                submit(
                    &app,
                    "/changes/CHG-1/transitions",
                    &max,
                    &[("_csrf", &csrf), ("to", status)],
                )
                .await
            }
        };
        for status in ["scheduled", "implementing", "review"] {
            let moved = to(status).await;
            assert_eq!(
                moved.status,
                StatusCode::SEE_OTHER,
                "{status}: {}",
                moved.html
            );
        }
        let early = to("closed").await;
        assert_eq!(early.status, StatusCode::CONFLICT);
        assert!(
            early
                .html
                .contains("Record the post-implementation review before closing the change")
        );
        let unreviewed = submit(
            &s.app,
            "/changes/CHG-1/review",
            &max,
            &[
                ("_csrf", &max_csrf),
                ("outcome", ""),
                ("notes", "Went well"),
            ],
        )
        .await;
        assert_eq!(unreviewed.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            unreviewed.html.contains("Choose how the change went")
                && unreviewed.html.contains("Went well")
        );
        let reviewed = submit(
            &s.app,
            "/changes/CHG-1/review",
            &max,
            &[
                ("_csrf", &max_csrf),
                ("outcome", "successful"),
                ("notes", "Went well"),
            ],
        )
        .await;
        assert_eq!(reviewed.status, StatusCode::SEE_OTHER, "{}", reviewed.html);
        assert_eq!(to("closed").await.status, StatusCode::SEE_OTHER);
        let closed = page(&s.app, "/changes/CHG-1", &max).await;
        assert!(
            closed.html.contains("Recorded: successful") && closed.html.contains(">closed</span>")
        );
    }
);

both_backends!(
    the_calendar_shows_collisions_and_blackouts,
    |store: Store| async move {
        let s = site(store).await;
        let first = scheduled_standard(&s, "Patch DB01", START).await;
        let second = scheduled_standard(&s, "Reboot DB01", START + HOUR).await;
        let later = scheduled_standard(&s, "Tune DB01", START + 72 * HOUR).await;
        s.store
            .create_blackout(
                s.tenant_id,
                &Blackout {
                    id: 0,
                    name: "Quarter close".into(),
                    window: Window {
                        start: START + 48 * HOUR,
                        end: START + 60 * HOUR,
                    },
                    scope: BlackoutScope::All,
                },
                &Actor::cli(),
            )
            .await
            .expect("blackout");
        let (al, _) = sign_in(&s.app, "al@acme.test").await;
        let month = page(&s.app, "/changes/calendar?view=month&date=2031-03-10", &al).await;
        assert!(month.html.contains("March 2031"));
        let day = |html: &str, date: &str| -> String {
            let start = html
                .find(&format!("data-date=\"{date}\""))
                .unwrap_or_else(|| panic!("no {date} in {html}"));
            let end = html[start..].find("</td>").expect("end of day") + start;
            html[start..end].to_owned()
        };
        let march_1 = day(&month.html, "2031-03-01");
        assert!(march_1.contains(&first.key()) && march_1.contains(&second.key()));
        assert!(march_1.contains("22:00–02:00"));
        assert!(
            march_1.contains(&format!(
                "⚠ collides with <a href=\"/changes/{}\">",
                second.key()
            )),
            "{march_1}"
        );
        let march_4 = day(&month.html, "2031-03-04");
        assert!(march_4.contains(&later.key()) && !march_4.contains("collides"));
        let march_3 = day(&month.html, "2031-03-03");
        assert!(march_3.contains("in-blackout") && march_3.contains("Blackout: Quarter close"));
        let week = page(&s.app, "/changes/calendar?view=week&date=2031-03-01", &al).await;
        assert!(week.html.contains("Week of 24 February 2031"));
        assert!(day(&week.html, "2031-03-01").contains(&first.key()));
        assert!(
            week.html.contains("date=2031-03-03\" rel=\"next\""),
            "next week is a link"
        );
        let bad = page(&s.app, "/changes/calendar?date=someday", &al).await;
        assert!(bad.html.contains("is not a date"));

        let view = page(&s.app, &format!("/changes/{}", first.key()), &al).await;
        assert!(
            view.html.contains("Collision:")
                && view
                    .html
                    .contains(&format!("href=\"/changes/{}\"", second.key()))
        );
    }
);

both_backends!(
    the_dashboard_shows_the_success_rate,
    |store: Store| async move {
        let s = site(store).await;
        let now = steward_store::now_micros();
        for (title, end) in [
            ("Done", ChangeStatus::Closed),
            ("Broke", ChangeStatus::Failed),
        ] {
            let change = scheduled_standard(&s, title, now + HOUR).await;
            let change = move_to(&s, &change, ChangeStatus::Implementing).await;
            move_to(&s, &change, end).await;
        }
        scheduled_standard(&s, "Next week's patch", now + 48 * HOUR).await;
        let (al, _) = sign_in(&s.app, "al@acme.test").await;
        let dashboard = page(&s.app, "/changes/dashboard", &al).await;
        assert!(
            dashboard
                .html
                .contains("<dd class=\"figure\" id=\"success-rate\">50.0%</dd>"),
            "{}",
            dashboard.html
        );
        assert!(
            dashboard
                .html
                .contains("<dd class=\"figure\" id=\"emergency-ratio\">0.0%</dd>")
        );
        assert!(
            dashboard
                .html
                .contains("<svg class=\"chart bar-chart change-success\"")
        );
        assert!(
            dashboard
                .html
                .contains("50.0% successful (1 of 2 implemented)")
        );
        assert!(
            dashboard.html.contains("Next week&#39;s patch")
                || dashboard.html.contains("Next week's patch")
        );
        assert!(dashboard.html.contains(">closed</a></th><td>1</td>"));
    }
);

both_backends!(
    blackouts_and_templates_are_set_up_by_admins,
    |store: Store| async move {
        let s = site(store).await;
        let (al, al_csrf) = sign_in(&s.app, "al@acme.test").await;
        let seen = page(&s.app, "/changes/setup", &al).await;
        assert!(seen.html.contains("No blackout windows") && !seen.html.contains("Add blackout"));
        let refused = submit(
            &s.app,
            "/changes/setup/templates",
            &al,
            &[("_csrf", &al_csrf), ("name", "x")],
        )
        .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);

        let (ann, csrf) = sign_in(&s.app, "ann@acme.test").await;
        let bad = submit(
            &s.app,
            "/changes/setup/blackouts",
            &ann,
            &[
                ("_csrf", &csrf),
                ("name", "Quarter close"),
                ("start", "2031-03-03T22:00"),
                ("end", "2031-03-03T20:00"),
            ],
        )
        .await;
        assert_refused(&bad, "The window must end after it starts");
        assert!(bad.html.contains("value=\"Quarter close\""));
        let added = submit(
            &s.app,
            "/changes/setup/blackouts",
            &ann,
            &[
                ("_csrf", &csrf),
                ("name", "Quarter close"),
                ("start", "2031-03-03T22:00"),
                ("end", "2031-03-04T10:00"),
            ],
        )
        .await;
        assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
        let blackouts = s
            .store
            .blackouts(s.tenant_id, None)
            .await
            .expect("blackouts");
        assert_eq!(blackouts.len(), 1);
        let listed = page(&s.app, "/changes/setup", &ann).await;
        assert!(listed.html.contains("Quarter close") && listed.html.contains("every change"));

        let missing = submit(
            &s.app,
            "/changes/setup/templates",
            &ann,
            &[
                ("_csrf", &csrf),
                ("name", "Patch a server"),
                ("implementation_plan", "Patch"),
            ],
        )
        .await;
        assert_refused(&missing, "Back-out plan is required");
        let template = submit(
            &s.app,
            "/changes/setup/templates",
            &ann,
            &[
                ("_csrf", &csrf),
                ("name", "Patch a server"),
                ("implementation_plan", "Patch"),
                ("backout_plan", "Unpatch"),
            ],
        )
        .await;
        assert_eq!(template.status, StatusCode::SEE_OTHER, "{}", template.html);
        let form = page(&s.app, "/changes/new", &al).await;
        assert!(form.html.contains(">Patch a server</option>"));
        // A standard change from the template goes straight onto the schedule.
        let template_id = s
            .store
            .change_templates(s.tenant_id, false)
            .await
            .expect("templates")[0]
            .id
            .to_string();
        let raised = submit(
            &s.app,
            "/changes",
            &al,
            &standard_patch(&al_csrf, &template_id),
        )
        .await;
        assert_eq!(raised.status, StatusCode::SEE_OTHER, "{}", raised.html);
        assert_eq!(raised.location, "/changes/CHG-1?done=scheduled");
        let standard = s
            .store
            .change_by_number(s.tenant_id, 1)
            .await
            .expect("CHG-1");
        assert_eq!(standard.status, ChangeStatus::Scheduled);
        assert_eq!(
            standard.implementation_plan, "Patch",
            "the template's plans fill in"
        );

        let lifted = submit(
            &s.app,
            &format!("/changes/setup/blackouts/{}/lift", blackouts[0].id),
            &ann,
            &[("_csrf", &csrf)],
        )
        .await;
        assert_eq!(lifted.status, StatusCode::SEE_OTHER);
        assert!(
            s.store
                .blackouts(s.tenant_id, None)
                .await
                .expect("blackouts")
                .is_empty()
        );
    }
);

both_backends!(
    an_edit_keeps_input_when_stale_or_invalid_and_saves_a_valid_one,
    |store: Store| async move {
        let s = site(store).await;
        let change = s
            .store
            .create_change(
                s.tenant_id,
                &draft("Patch DB01", ChangeType::Normal, None, s.db, START),
                None,
                &actor(s.al),
            )
            .await
            .expect("change");
        let (al, csrf) = sign_in(&s.app, "al@acme.test").await;
        let view = page(&s.app, "/changes/CHG-1", &al).await;
        assert!(view.html.contains("href=\"/changes/CHG-1/edit\""));
        let form = page(&s.app, "/changes/CHG-1/edit", &al).await;
        assert!(form.html.contains("Edit CHG-1") && form.html.contains("value=\"Patch DB01\""));
        assert!(form.html.contains(&format!(
            "name=\"updated_at\" value=\"{}\"",
            change.updated_at
        )));
        assert!(form.html.contains("value=\"2031-03-01T22:00\""));
        assert!(form.html.contains(&format!("value=\"DB01 #{}\"", s.db)));

        let seen = change.updated_at.to_string();
        let db = format!("DB01 #{}", s.db);
        let fields = |title: &'static str, updated_at: &str| -> Vec<(String, String)> {
            [
                ("_csrf", csrf.as_str()),
                ("updated_at", updated_at),
                ("title", title),
                ("type", "normal"),
                ("reason", "Security fix"),
                ("implementation_plan", "Apply the patch"),
                ("backout_plan", "Remove the patch"),
                ("planned_start", "2031-03-08T22:00"),
                ("planned_end", "2031-03-09T01:00"),
                ("ci", db.as_str()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
        };
        let edit = |fields: Vec<(String, String)>| {
            let app = s.app.clone();
            let al = al.clone();
            async move {
                let pairs: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                submit(&app, "/changes/CHG-1/edit", &al, &pairs).await
            }
        };
        let invalid = edit(fields("", &seen)).await;
        assert_refused(&invalid, "Title is required");
        assert!(invalid.html.contains("Security fix") && invalid.html.contains("2031-03-08T22:00"));

        // Someone else saved it meanwhile: the input stays and nothing is overwritten.
        let stale = edit(fields("Patch DB01 and DB02", "1")).await;
        assert_refused(
            &stale,
            "Someone else saved CHG-1 after you opened this form",
        );
        assert!(stale.html.contains("value=\"Patch DB01 and DB02\""));
        let kept = s
            .store
            .change(s.tenant_id, change.id)
            .await
            .expect("change");
        assert_eq!(kept.title, "Patch DB01");
        assert_eq!(kept.updated_at, change.updated_at);

        let saved = edit(fields("Patch DB01 and DB02", &seen)).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
        assert_eq!(saved.location, "/changes/CHG-1?done=saved");
        let after = s
            .store
            .change(s.tenant_id, change.id)
            .await
            .expect("change");
        assert_eq!(after.title, "Patch DB01 and DB02");
        assert_eq!(after.reason, "Security fix");
        assert_eq!(after.window.map(|w| w.start), Some(START + 7 * 24 * HOUR));
        assert_eq!(after.ci_ids, vec![s.db]);
        let view = page(&s.app, &saved.location, &al).await;
        assert!(view.html.contains("Change saved."));

        // A cancelled change is no longer editable: no button, and the form says why.
        move_to(&s, &after, ChangeStatus::Cancelled).await;
        let view = page(&s.app, "/changes/CHG-1", &al).await;
        assert!(!view.html.contains("/changes/CHG-1/edit"));
        let refused = send(&s.app, get("/changes/CHG-1/edit", &al)).await;
        assert_eq!(refused.status, StatusCode::CONFLICT);
        assert!(
            refused
                .html
                .contains("only a draft or a change in assessment can be edited")
        );
        let (ada, _) = sign_in(&s.app, "ada@acme.test").await;
        let forbidden = send(&s.app, get("/changes/CHG-1/edit", &ada)).await;
        assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    }
);

both_backends!(
    a_delegation_made_on_the_page_lets_the_delegate_decide,
    |store: Store| async move {
        let s = site(store).await;
        let t = s.tenant_id;
        let mut policy = s.store.change_policy(t).await.expect("policy");
        policy.approvals.rules[0] = cab_of_three(&s);
        s.store
            .save_change_policy(t, &policy, &Actor::cli())
            .await
            .expect("policy");
        let change = awaiting_authorisation(&s).await;

        let (max, max_csrf) = sign_in(&s.app, "max@acme.test").await;
        let queue = page(&s.app, "/changes/approvals", &max).await;
        assert!(queue.html.contains("You have not delegated"));
        assert!(
            queue
                .html
                .contains(&format!("<option value=\"{}\">Mo</option>", s.mo))
        );
        let mo_id = s.mo.to_string();
        let bad = submit(
            &s.app,
            "/changes/approvals/delegations",
            &max,
            &[
                ("_csrf", &max_csrf),
                ("to", &mo_id),
                ("from_time", "2031-03-02T00:00"),
                ("until", "2031-03-01T00:00"),
            ],
        )
        .await;
        assert_refused(&bad, "The delegation must end after it starts");
        assert!(bad.html.contains("value=\"2031-03-02T00:00\""));
        let made = submit(
            &s.app,
            "/changes/approvals/delegations",
            &max,
            &[
                ("_csrf", &max_csrf),
                ("to", &mo_id),
                ("from_time", ""),
                ("until", "2099-01-01T00:00"),
            ],
        )
        .await;
        assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.html);
        let given = page(&s.app, &made.location, &max).await;
        assert!(given.html.contains("Delegation saved.") && given.html.contains(">active</span>"));

        // Mo now sits in Max's seat too, and decides in it.
        let (mo, mo_csrf) = sign_in(&s.app, "mo@acme.test").await;
        let queue = page(&s.app, "/changes/approvals", &mo).await;
        assert!(queue.html.contains("Delegations to me") && queue.html.contains("for Max"));
        let max_id = s.max.to_string();
        let decided = submit(
            &s.app,
            "/changes/CHG-1/approvals",
            &mo,
            &[
                ("_csrf", &mo_csrf),
                ("verdict", "approve"),
                ("comment", "For Max"),
                ("on_behalf_of", &max_id),
                ("back", "approvals"),
            ],
        )
        .await;
        assert_eq!(decided.status, StatusCode::SEE_OTHER, "{}", decided.html);
        let approvals = s
            .store
            .change_approvals(t, change.id)
            .await
            .expect("approvals");
        assert_eq!(approvals.decisions.len(), 1);
        assert_eq!(approvals.decisions[0].approver_id, s.mo);
        assert_eq!(approvals.decisions[0].on_behalf_of, Some(s.max));

        // Only the giver ends it; then it shows as ended and Mo no longer sits for Max.
        let id = s.store.delegations_of(t, s.max).await.expect("delegations")[0].id;
        let end = format!("/changes/approvals/delegations/{id}/end");
        let not_mine = submit(&s.app, &end, &mo, &[("_csrf", &mo_csrf)]).await;
        assert_eq!(not_mine.status, StatusCode::NOT_FOUND);
        let ended = submit(&s.app, &end, &max, &[("_csrf", &max_csrf)]).await;
        assert_eq!(ended.status, StatusCode::SEE_OTHER, "{}", ended.html);
        let after = page(&s.app, "/changes/approvals", &max).await;
        assert!(after.html.contains(">ended</span>") && !after.html.contains("End now"));
    }
);

both_backends!(
    a_retired_template_is_not_offered_and_cannot_be_followed,
    |store: Store| async move {
        let s = site(store).await;
        let template = s
            .store
            .create_change_template(
                s.tenant_id,
                &patch_template("Patch", "Unpatch"),
                &Actor::cli(),
            )
            .await
            .expect("template");
        let (ann, csrf) = sign_in(&s.app, "ann@acme.test").await;
        let setup = page(&s.app, "/changes/setup", &ann).await;
        assert!(
            setup
                .html
                .contains(&format!("/changes/setup?template={}", template.id))
        );
        let form = page(
            &s.app,
            &format!("/changes/setup?template={}", template.id),
            &ann,
        )
        .await;
        assert!(form.html.contains("Edit the template") && form.html.contains("Save template"));
        let edit = format!("/changes/setup/templates/{}", template.id);
        let missing = submit(
            &s.app,
            &edit,
            &ann,
            &[
                ("_csrf", &csrf),
                ("name", "Patch a Linux server"),
                ("implementation_plan", "apt upgrade"),
                ("backout_plan", ""),
            ],
        )
        .await;
        assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            missing.html.contains("Back-out plan is required")
                && missing.html.contains("value=\"Patch a Linux server\"")
        );
        let saved = submit(
            &s.app,
            &edit,
            &ann,
            &[
                ("_csrf", &csrf),
                ("name", "Patch a Linux server"),
                ("implementation_plan", "apt upgrade"),
                ("backout_plan", "apt rollback"),
            ],
        )
        .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
        let (al, al_csrf) = sign_in(&s.app, "al@acme.test").await;
        let offered = page(&s.app, "/changes/new", &al).await;
        assert!(offered.html.contains(">Patch a Linux server</option>"));

        let active = format!("/changes/setup/templates/{}/active", template.id);
        let forbidden = submit(
            &s.app,
            &active,
            &al,
            &[("_csrf", &al_csrf), ("active", "false")],
        )
        .await;
        assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
        let retired = submit(
            &s.app,
            &active,
            &ann,
            &[("_csrf", &csrf), ("active", "false")],
        )
        .await;
        assert_eq!(retired.status, StatusCode::SEE_OTHER, "{}", retired.html);
        let setup = page(&s.app, "/changes/setup", &ann).await;
        assert!(setup.html.contains(">retired</td>") && setup.html.contains(">Reinstate</button>"));
        let offered = page(&s.app, "/changes/new", &al).await;
        assert!(!offered.html.contains("Patch a Linux server"));
        let id = template.id.to_string();
        let refused = submit(&s.app, "/changes", &al, &standard_patch(&al_csrf, &id)).await;
        assert_refused(&refused, "The template “Patch a Linux server” is retired");
        assert!(
            s.store
                .changes(s.tenant_id, &Default::default(), &Default::default())
                .await
                .expect("changes")
                .items
                .is_empty()
        );
    }
);

both_backends!(
    the_policy_form_saves_a_cab_rule_and_refuses_a_quorum_too_large,
    |store: Store| async move {
        let s = site(store).await;
        let (al, _) = sign_in(&s.app, "al@acme.test").await;
        let seen = page(&s.app, "/changes/setup", &al).await;
        assert!(!seen.html.contains("Save the policy"));
        let (ann, csrf) = sign_in(&s.app, "ann@acme.test").await;
        let form = page(&s.app, "/changes/setup", &ann).await;
        assert!(form.html.contains("Save the policy"));
        assert!(
            form.html.contains("name=\"rule.1.type\"")
                && form
                    .html
                    .contains("<option value=\"emergency\" selected>emergency</option>"),
            "the saved rules fill the form"
        );
        let (mo, max) = (s.mo.to_string(), s.max.to_string());
        let post_policy = |quorum: &'static str| {
            let app = s.app.clone();
            let ann = ann.clone();
            let (csrf, mo, max) = (csrf.clone(), mo.clone(), max.clone());
            async move {
                submit(
                    &app,
                    "/changes/setup/policy",
                    &ann,
                    &[
                        ("_csrf", &csrf),
                        ("control", "everything"),
                        ("major_from_risk", "high"),
                        ("major_from_services", ""),
                        ("rule.0.type", "normal"),
                        ("rule.0.from_risk", "low"),
                        ("rule.0.stage", "change_manager"),
                        ("rule.0.quorum", ""),
                        ("rule.1.type", "normal"),
                        ("rule.1.from_risk", "high"),
                        ("rule.1.stage", "cab"),
                        ("rule.1.members", &mo),
                        ("rule.1.members", &max),
                        ("rule.1.quorum", quorum),
                        ("rule.2.type", "emergency"),
                        ("rule.2.from_risk", "low"),
                        ("rule.2.stage", "change_manager"),
                        ("rule.3.type", ""),
                        ("rule.3.from_risk", "low"),
                        ("rule.3.stage", "change_manager"),
                    ],
                )
                .await
            }
        };
        let refused = post_policy("3").await;
        assert_refused(
            &refused,
            "The quorum must be between 1 and the number of members (2)",
        );
        assert!(
            refused.html.contains(
                "name=\"rule.1.quorum\" inputmode=\"numeric\" value=\"3\" aria-invalid=\"true\""
            ),
            "the input stays, marked: {}",
            refused.html
        );
        let unchanged = s.store.change_policy(s.tenant_id).await.expect("policy");
        assert_eq!(unchanged.approvals.rules.len(), 2);

        let saved = post_policy("2").await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
        let policy = s.store.change_policy(s.tenant_id).await.expect("policy");
        assert_eq!(policy.approvals.rules.len(), 3);
        assert_eq!(
            policy.approvals.rules[1].stage,
            ApprovalStage::Cab {
                members: vec![s.mo, s.max],
                quorum: 2
            }
        );
        assert_eq!(policy.major.from_risk, Some(RiskLevel::High));
        assert_eq!(
            policy.questionnaire, unchanged.questionnaire,
            "the questionnaire is kept"
        );
        let shown = page(&s.app, &saved.location, &ann).await;
        assert!(shown.html.contains("Change policy saved."));
        assert!(
            shown
                .html
                .contains("name=\"rule.1.quorum\" inputmode=\"numeric\" value=\"2\"")
        );
    }
);

both_backends!(
    the_api_edits_and_retires_a_template,
    |store: Store| async move {
        let app = crate::api::app(store).await;
        let created = app
            .post(
                "/api/v1/change-templates",
                Role::Admin,
                serde_json::json!({"name": "Patch", "implementation_plan": "Do", "backout_plan": "Undo"}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let path = format!("/api/v1/change-templates/{}", created.body["id"]);
        let refused = app
            .patch(&path, Role::Admin, serde_json::json!({"backout_plan": " "}))
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(crate::api::is_problem(&refused), "{}", refused.text);
        let agent = app
            .patch(&path, Role::Agent, serde_json::json!({"active": false}))
            .await;
        assert_eq!(agent.status, StatusCode::FORBIDDEN);
        let retired = app
            .patch(
                &path,
                Role::Admin,
                serde_json::json!({"name": "Patch a server", "active": false}),
            )
            .await;
        assert_eq!(retired.status, StatusCode::OK, "{}", retired.text);
        assert_eq!(retired.body["name"], "Patch a server");
        assert_eq!(retired.body["active"], false);
        assert_eq!(retired.body["backout_plan"], "Undo");
        let listed = app.get("/api/v1/change-templates", Role::Agent).await;
        assert_eq!(listed.body.as_array().map(Vec::len), Some(0));
        let missing = app
            .patch(
                "/api/v1/change-templates/999999",
                Role::Admin,
                serde_json::json!({"active": true}),
            )
            .await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert!(crate::api::is_problem(&missing));
    }
);
