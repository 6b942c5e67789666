//! Internal audit on SQLite and, when `STEWARD_TEST_DATABASE_URL` is set, PostgreSQL:
//! programmes and their coverage, audits planned with independent auditors, checklists made
//! from the clause catalogue, the lifecycle with reporting refused while rows are open,
//! findings that raise nonconformities in their own transaction, the two evidence rules, and
//! tenant isolation.

use jiff::civil::Date;
use steward_domain::access::Role;
use steward_domain::conformance::catalogue::catalogue;
use steward_domain::conformance::rules::{MachineStatus, RuleId};
use steward_domain::sms::audit::{
    AuditDraft, AuditStatus, ChecklistResult, FindingDraft, FindingKind, ProgrammeDraft,
};
use steward_domain::sms::improvement::{ImprovementSource, ImprovementStatus};
use steward_domain::sms::nonconformity::{Severity, Source};
use steward_domain::sms::role::{RaciLetter, RoleDraft};
use steward_store::asset::today_utc;
use steward_store::audit::{Audit, AuditFilter, ChecklistEntry, Programme};
use steward_store::conformance::Period;
use steward_store::journal::JournalFilter;
use steward_store::testing::in_days;
use steward_store::testing::{tenant_id as tenant, user_id as user};
use steward_store::{Actor, PageRequest, Store, StoreError, both_backends, now_micros};

fn last_year() -> Period {
    let now = now_micros();
    Period {
        from: now - 365 * 86_400_000_000,
        to: now + 1_000_000,
    }
}

struct People {
    lead: i64,
    other: i64,
    owner: i64,
}

async fn people(store: &Store, t: i64, domain: &str) -> People {
    People {
        lead: user(store, t, &format!("lead@{domain}"), Role::Manager).await,
        other: user(store, t, &format!("other@{domain}"), Role::Agent).await,
        owner: user(store, t, &format!("owner@{domain}"), Role::Agent).await,
    }
}

async fn programme(store: &Store, t: i64, start: Date) -> Programme {
    let draft = ProgrammeDraft {
        name: "Certification cycle".into(),
        cycle_start: start,
        owner_id: None,
        notes: String::new(),
    };
    store
        .create_programme(t, &draft, &Actor::cli())
        .await
        .expect("programme")
}

fn plan(p: &People, scope: &[&str], start: Date) -> AuditDraft {
    AuditDraft {
        title: "Incident management".into(),
        scope: scope.iter().map(|s| (*s).to_owned()).collect(),
        criteria: String::new(),
        planned_start: start,
        planned_end: start,
        lead_auditor_id: p.lead,
        auditor_ids: vec![p.other],
        auditee_ids: vec![p.owner],
    }
}

async fn planned(store: &Store, t: i64, programme: i64, draft: &AuditDraft) -> Audit {
    store
        .plan_audit(t, programme, draft, &Actor::cli())
        .await
        .expect("planned")
}

/// Starts an audit and gives every checklist row a result.
async fn run(store: &Store, t: i64, audit: &Audit) {
    store
        .start_audit(t, audit.id, in_days(-2), &Actor::cli())
        .await
        .expect("started");
    let rows = store.audit_checklist(t, audit.id).await.expect("checklist");
    for row in rows {
        let entry = ChecklistEntry {
            result: ChecklistResult::Conforming,
            notes: String::new(),
            evidence: "Records sampled".into(),
        };
        store
            .record_checklist_result(t, audit.id, &row.requirement_id, &entry, &Actor::cli())
            .await
            .expect("result");
    }
}

both_backends!(
    an_audit_is_planned_with_its_checklist_and_people,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let p = people(&store, t, "acme.example").await;
        let prog = programme(&store, t, in_days(-30)).await;
        assert_eq!(
            prog.cycle_end,
            in_days(-30)
                .checked_add(jiff::Span::new().years(3))
                .and_then(|d| d.checked_sub(jiff::Span::new().days(1)))
                .expect("date")
        );
        let audit = planned(
            &store,
            t,
            prog.id,
            &plan(&p, &["9.2", "8.6.1"], in_days(10)),
        )
        .await;
        assert_eq!(audit.status, AuditStatus::Planned);
        assert_eq!(audit.scope, vec!["8.6.1".to_owned(), "9.2".to_owned()]);
        assert_eq!(audit.auditor_ids, vec![p.other]);
        assert_eq!(audit.auditee_ids, vec![p.owner]);
        assert!(audit.criteria.starts_with("ISO/IEC 20000-1:2018"));
        // One row per requirement of the scoped clauses, in the standard's order.
        let rows = store.audit_checklist(t, audit.id).await.expect("checklist");
        let expected: Vec<String> = catalogue()
            .requirements()
            .filter(|(c, _)| c.id == "8.6.1" || c.id == "9.2")
            .map(|(_, r)| r.id.clone())
            .collect();
        let got: Vec<String> = rows.iter().map(|r| r.requirement_id.clone()).collect();
        assert_eq!(got, expected);
        assert!(
            rows.iter()
                .all(|r| r.result == ChecklistResult::NotYetAudited)
        );
        assert!(!rows[0].text.is_empty());
        // Unknown clauses and dates outside the cycle are refused, and nothing is kept.
        let mut bad = plan(&p, &["8.5", "42"], in_days(-40));
        bad.planned_end = in_days(-40);
        let e = store
            .plan_audit(t, prog.id, &bad, &Actor::cli())
            .await
            .expect_err("refused");
        let StoreError::Invalid(e) = e else {
            panic!("invalid expected: {e:?}")
        };
        assert!(e.message_for("scope").is_some() && e.message_for("planned_start").is_some());
        // A re-plan that narrows the scope drops the rows of the clause that left.
        let mut narrower = audit.draft();
        narrower.scope = vec!["9.2".into()];
        let replanned = store
            .update_audit(t, audit.id, audit.updated_at, &narrower, &Actor::cli())
            .await
            .expect("replanned");
        let rows = store.audit_checklist(t, audit.id).await.expect("checklist");
        assert!(rows.iter().all(|r| r.clause_id == "9.2"));
        // An edit over someone else's is a conflict.
        let stale = store
            .update_audit(t, audit.id, audit.updated_at, &narrower, &Actor::cli())
            .await
            .expect_err("stale");
        assert!(matches!(stale, StoreError::Conflict(_)));
        let listed = store
            .audits(
                t,
                &AuditFilter {
                    programme_id: Some(prog.id),
                    ..Default::default()
                },
                &PageRequest::default(),
            )
            .await
            .expect("list");
        assert_eq!(listed.items, vec![replanned]);
        let journal = store
            .journal_entries(t, &JournalFilter::default(), &PageRequest::default())
            .await
            .expect("journal");
        assert!(journal.items.iter().any(|e| e.record_type == "audit"));
        assert!(
            journal
                .items
                .iter()
                .any(|e| e.record_type == "audit_programme")
        );
    }
);

both_backends!(no_one_audits_their_own_process, |store: Store| async move {
    let t = tenant(&store, "Acme").await;
    let p = people(&store, t, "acme.example").await;
    let prog = programme(&store, t, in_days(-30)).await;
    let mut conflicted = plan(&p, &["8.6.1"], in_days(5));
    conflicted.auditee_ids = vec![p.owner, p.other];
    let e = store
        .plan_audit(t, prog.id, &conflicted, &Actor::cli())
        .await
        .expect_err("refused");
    let StoreError::Invalid(e) = e else {
        panic!("invalid expected: {e:?}")
    };
    assert_eq!(
        e.message_for("auditor_ids"),
        Some("other is an auditee of this audit and cannot audit it")
    );
    // The RACI matrix makes incident management the lead's own work: he may not audit it,
    // even when not named as an auditee, but may audit internal audit's neighbour, 9.3.
    let role = RoleDraft {
        name: "Incident manager".into(),
        responsibilities: "Runs incident management".into(),
        authorities: "Assigns incidents".into(),
        conformity_lead: false,
        reports_performance: false,
    }
    .validate()
    .expect("valid role");
    let role = store
        .create_sms_role(t, &role, &Actor::cli())
        .await
        .expect("role");
    store
        .assign_role(t, role.id, p.lead, in_days(-10), "", &Actor::cli())
        .await
        .expect("assigned");
    store
        .set_raci_row(
            t,
            "8.6.1",
            &[(role.id, RaciLetter::Accountable)],
            &Actor::cli(),
        )
        .await
        .expect("raci");
    let own = store
        .plan_audit(t, prog.id, &plan(&p, &["8.6.1"], in_days(5)), &Actor::cli())
        .await
        .expect_err("refused");
    assert!(
        matches!(own, StoreError::Invalid(ref i) if i.message_for("lead_auditor_id")
            == Some("lead holds a role responsible for Incident management (8.6.1), which this \
                     audit covers, and cannot audit it")),
        "{own:?}"
    );
    store
        .plan_audit(t, prog.id, &plan(&p, &["9.3"], in_days(5)), &Actor::cli())
        .await
        .expect("another process is not his own");
    // Someone from another organisation cannot be named.
    let elsewhere = tenant(&store, "Other").await;
    let stranger = user(&store, elsewhere, "x@other.example", Role::Manager).await;
    let mut foreign = plan(&p, &["8.6.1"], in_days(5));
    foreign.lead_auditor_id = stranger;
    let e = store
        .plan_audit(t, prog.id, &foreign, &Actor::cli())
        .await
        .expect_err("refused");
    assert!(matches!(e, StoreError::Invalid(ref i) if i.message_for("lead_auditor_id").is_some()));
    let planned = store
        .audits(t, &AuditFilter::default(), &PageRequest::default())
        .await
        .expect("list");
    assert_eq!(planned.items.len(), 1, "only the audit of 9.3");
});

both_backends!(
    reporting_waits_for_every_row_and_the_lifecycle_holds,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let p = people(&store, t, "acme.example").await;
        let prog = programme(&store, t, in_days(-30)).await;
        let audit = planned(&store, t, prog.id, &plan(&p, &["9.2"], in_days(-3))).await;
        // Not started: no results, no report.
        let entry = ChecklistEntry {
            result: ChecklistResult::Conforming,
            notes: String::new(),
            evidence: String::new(),
        };
        let early = store
            .record_checklist_result(t, audit.id, "9.2-a", &entry, &Actor::cli())
            .await
            .expect_err("not in progress");
        assert!(matches!(early, StoreError::Conflict(_)));
        let early = store
            .report_audit(t, audit.id, "Done", today_utc(), &Actor::cli())
            .await
            .expect_err("planned");
        assert!(matches!(early, StoreError::Conflict(_)));
        store
            .start_audit(t, audit.id, in_days(-2), &Actor::cli())
            .await
            .expect("started");
        let missing = store
            .record_checklist_result(t, audit.id, "8.6.1-a", &entry, &Actor::cli())
            .await
            .expect_err("not on the checklist");
        assert!(matches!(missing, StoreError::NotFound));
        store
            .record_checklist_result(t, audit.id, "9.2-a", &entry, &Actor::cli())
            .await
            .expect("result");
        let open = store
            .report_audit(t, audit.id, "Done", today_utc(), &Actor::cli())
            .await
            .expect_err("rows open");
        let StoreError::Invalid(open) = open else {
            panic!("invalid expected: {open:?}")
        };
        let message = open.message_for("checklist").expect("checklist");
        assert!(
            message.contains("9.2-b") && !message.contains("9.2-a,"),
            "{message}"
        );
        assert_eq!(
            store.audit(t, audit.id).await.expect("audit").status,
            AuditStatus::InProgress
        );
        run_rest(&store, t, audit.id).await;
        let reported = store
            .report_audit(t, audit.id, " Effective. ", today_utc(), &Actor::cli())
            .await
            .expect("reported");
        assert_eq!(reported.status, AuditStatus::Reported);
        assert_eq!(reported.summary, "Effective.");
        assert_eq!(reported.actual_end, Some(today_utc()));
        // Once reported the checklist is fixed; the audit can only close.
        let fixed = store
            .record_checklist_result(t, audit.id, "9.2-a", &entry, &Actor::cli())
            .await
            .expect_err("fixed");
        assert!(matches!(fixed, StoreError::Conflict(_)));
        let cancel = store
            .cancel_audit(t, audit.id, "No longer needed", &Actor::cli())
            .await
            .expect_err("too late");
        assert!(matches!(cancel, StoreError::Conflict(_)));
        let closed = store
            .close_audit(t, audit.id, &Actor::cli())
            .await
            .expect("closed");
        assert_eq!(closed.status, AuditStatus::Closed);
        // A planned audit may be cancelled, with a reason.
        let other = planned(&store, t, prog.id, &plan(&p, &["8.6.1"], in_days(40))).await;
        let e = store
            .cancel_audit(t, other.id, " ", &Actor::cli())
            .await
            .expect_err("no reason");
        assert!(matches!(e, StoreError::Invalid(_)));
        let cancelled = store
            .cancel_audit(t, other.id, "Merged into the next audit", &Actor::cli())
            .await
            .expect("cancelled");
        assert_eq!(cancelled.status, AuditStatus::Cancelled);
    }
);

/// Gives every row still open a result.
async fn run_rest(store: &Store, t: i64, audit: i64) {
    for row in store.audit_checklist(t, audit).await.expect("checklist") {
        if row.result.is_open() {
            let entry = ChecklistEntry {
                result: ChecklistResult::NotApplicable,
                notes: "Out of the SMS's scope".into(),
                evidence: String::new(),
            };
            store
                .record_checklist_result(t, audit, &row.requirement_id, &entry, &Actor::cli())
                .await
                .expect("result");
        }
    }
}

both_backends!(
    a_nonconformity_finding_raises_a_nonconformity,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let p = people(&store, t, "acme.example").await;
        let prog = programme(&store, t, in_days(-30)).await;
        let audit = planned(
            &store,
            t,
            prog.id,
            &plan(&p, &["9.2", "8.6.1"], in_days(-3)),
        )
        .await;
        let finding = |kind, reference: &str| FindingDraft {
            kind,
            reference: reference.into(),
            statement: "The audit of 8.6.1 was run by the process owner.".into(),
            evidence: "Audit plan AUD-3, staff list".into(),
        };
        let early = store
            .record_finding(
                t,
                audit.id,
                &finding(FindingKind::Observation, "9.2"),
                &Actor::cli(),
            )
            .await
            .expect_err("not started");
        assert!(matches!(early, StoreError::Conflict(_)));
        store
            .start_audit(t, audit.id, in_days(-2), &Actor::cli())
            .await
            .expect("started");
        let minor = store
            .record_finding(
                t,
                audit.id,
                &finding(FindingKind::MinorNonconformity, "9.2-f"),
                &Actor::cli(),
            )
            .await
            .expect("finding");
        assert_eq!(minor.requirement_id.as_deref(), Some("9.2-f"));
        let nc_id = minor.nonconformity_id.expect("raised a nonconformity");
        let nc = store.nonconformity(t, nc_id).await.expect("nonconformity");
        assert_eq!(nc.severity, Severity::Minor);
        assert_eq!(nc.source, Source::Audit);
        assert_eq!(nc.source_ref, Some(minor.id));
        assert_eq!(nc.clause_id.as_deref(), Some("9.2"));
        assert_eq!(nc.owner_id, Some(p.owner));
        let ofi = store
            .record_finding(
                t,
                audit.id,
                &finding(FindingKind::OpportunityForImprovement, "8.6.1"),
                &Actor::cli(),
            )
            .await
            .expect("finding");
        assert_eq!(ofi.nonconformity_id, None);
        // An opportunity for improvement is proposed to the improvement register (10.2), owned
        // by the process owner, and found again from its finding.
        let proposed = store
            .improvement_of_finding(t, ofi.id)
            .await
            .expect("read")
            .expect("an improvement was proposed");
        assert_eq!(proposed.source, ImprovementSource::Audit);
        assert_eq!(proposed.source_ref, Some(ofi.id));
        assert_eq!(proposed.status, ImprovementStatus::Proposed);
        assert_eq!(proposed.owner_id, Some(p.owner));
        assert!(proposed.title.starts_with("Audit opportunity at 8.6.1"));
        assert_eq!(
            store
                .improvement_of_finding(t, minor.id)
                .await
                .expect("read"),
            None,
            "a nonconformity raises no improvement"
        );
        // Outside the scope, or a nonconformity without evidence: refused, nothing raised.
        let outside = store
            .record_finding(
                t,
                audit.id,
                &finding(FindingKind::Observation, "7.1"),
                &Actor::cli(),
            )
            .await
            .expect_err("outside");
        assert!(
            matches!(outside, StoreError::Invalid(ref i) if i.message_for("reference").is_some())
        );
        let mut bare = finding(FindingKind::MajorNonconformity, "9.2");
        bare.evidence = String::new();
        let bare = store
            .record_finding(t, audit.id, &bare, &Actor::cli())
            .await
            .expect_err("no evidence");
        assert!(matches!(bare, StoreError::Invalid(ref i) if i.message_for("evidence").is_some()));
        let listed = store
            .audit_findings(t, audit.id, &PageRequest::default())
            .await
            .expect("findings");
        assert_eq!(listed.items, vec![minor, ofi]);
        // A page of one leads on to the next.
        let first = store
            .audit_findings(
                t,
                audit.id,
                &PageRequest {
                    limit: Some(1),
                    cursor: None,
                },
            )
            .await
            .expect("page");
        assert_eq!(first.items.len(), 1);
        let second = store
            .audit_findings(
                t,
                audit.id,
                &PageRequest {
                    limit: Some(1),
                    cursor: first.next_cursor,
                },
            )
            .await
            .expect("page");
        assert_eq!(second.items[0].kind, FindingKind::OpportunityForImprovement);
        let journal = store
            .journal_entries(t, &JournalFilter::default(), &PageRequest::default())
            .await
            .expect("journal");
        assert!(
            journal
                .items
                .iter()
                .any(|e| e.record_type == "audit_finding")
        );
    }
);

both_backends!(coverage_and_the_evidence_rules, |store: Store| async move {
    let t = tenant(&store, "Acme").await;
    let p = people(&store, t, "acme.example").await;
    let rule = |results: &std::collections::HashMap<RuleId, _>, id| {
        let r: &steward_domain::conformance::readiness::RuleResult = &results[&id];
        r.clone()
    };
    // Nothing yet: both rules are gaps, every clause uncovered.
    let results = store.rule_results(t, last_year()).await.expect("rules");
    assert_eq!(
        rule(&results, RuleId::InternalAuditHeld).status,
        MachineStatus::Gap
    );
    let cov = rule(&results, RuleId::AuditProgrammeCoversClauses);
    assert_eq!(cov.status, MachineStatus::Gap);
    assert_eq!(cov.failing_count, catalogue().clauses.len());

    let prog = programme(&store, t, in_days(-200)).await;
    let held = planned(&store, t, prog.id, &plan(&p, &["9.2"], in_days(-10))).await;
    run(&store, t, &held).await;
    store
        .report_audit(t, held.id, "Effective", in_days(-1), &Actor::cli())
        .await
        .expect("reported");
    // The rest of the catalogue, split over the next two years; one cancelled audit
    // covers nothing.
    let rest: Vec<&str> = catalogue()
        .clauses
        .iter()
        .map(|c| c.id.as_str())
        .filter(|id| *id != "9.2")
        .collect();
    let (year2, year3) = rest.split_at(rest.len() / 2);
    planned(&store, t, prog.id, &plan(&p, year2, in_days(300))).await;
    let last = planned(&store, t, prog.id, &plan(&p, year3, in_days(700))).await;
    let coverage = store
        .programme_coverage(t, prog.id)
        .await
        .expect("coverage");
    assert!(coverage.uncovered.is_empty(), "{:?}", coverage.uncovered);
    let row = |id: &str| {
        coverage
            .clauses
            .iter()
            .find(|c| c.clause_id == id)
            .expect("clause")
            .years
    };
    assert_eq!(row("9.2"), [1, 0, 0]);
    assert_eq!(row(year3[0]), [0, 0, 1]);
    let results = store.rule_results(t, last_year()).await.expect("rules");
    let held_rule = rule(&results, RuleId::InternalAuditHeld);
    assert_eq!(held_rule.status, MachineStatus::Met);
    assert_eq!(held_rule.records[0].id, held.id);
    assert_eq!(
        rule(&results, RuleId::AuditProgrammeCoversClauses).status,
        MachineStatus::Met
    );

    store
        .cancel_audit(t, last.id, "Replanned", &Actor::cli())
        .await
        .expect("cancelled");
    let results = store.rule_results(t, last_year()).await.expect("rules");
    let gap = rule(&results, RuleId::AuditProgrammeCoversClauses);
    assert_eq!(gap.status, MachineStatus::Gap);
    assert_eq!(gap.failing_count, year3.len());
    assert!(gap.failing[0].label.starts_with(year3[0]));
    assert_eq!(gap.failing[0].kind, "clause");
    // Sampling leaves the clauses out: they are not records to sample.
    let sampled = store
        .clause_population(t, "9.2", last_year())
        .await
        .expect("population");
    assert!(sampled.iter().all(|r| r.kind != "clause"));
    // An audit reported long ago is not one held in this period.
    let long_ago = Period {
        from: now_micros() - 5 * 365 * 86_400_000_000,
        to: now_micros() - 4 * 365 * 86_400_000_000,
    };
    let results = store.rule_results(t, long_ago).await.expect("rules");
    assert_eq!(
        rule(&results, RuleId::InternalAuditHeld).status,
        MachineStatus::Gap
    );
});

both_backends!(
    another_tenants_audits_are_not_found,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let p = people(&store, t, "acme.example").await;
        let prog = programme(&store, t, in_days(-30)).await;
        let audit = planned(&store, t, prog.id, &plan(&p, &["9.2"], in_days(3))).await;
        let other = tenant(&store, "Other").await;
        let q = people(&store, other, "other.example").await;
        assert!(matches!(
            store.programme(other, prog.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.audit(other, audit.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.audit_checklist(other, audit.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store
                .start_audit(other, audit.id, today_utc(), &Actor::cli())
                .await,
            Err(StoreError::NotFound)
        ));
        // Planning into another tenant's programme names no programme.
        let e = store
            .plan_audit(
                other,
                prog.id,
                &plan(&q, &["9.2"], in_days(3)),
                &Actor::cli(),
            )
            .await
            .expect_err("refused");
        assert!(matches!(e, StoreError::Invalid(ref i) if i.message_for("programme_id").is_some()));
        let theirs = store
            .programmes(other, &PageRequest::default())
            .await
            .expect("list");
        assert!(theirs.items.is_empty());
        let results = store.rule_results(other, last_year()).await.expect("rules");
        assert_eq!(
            results[&RuleId::InternalAuditHeld].status,
            MachineStatus::Gap
        );
    }
);
