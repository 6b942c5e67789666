//! The demo's conformance judgements (ISO/IEC 20000-1 clauses 4 to 10): the service manager
//! assessed the context, leadership, support and planning clauses at the last internal review,
//! found most requirements conforming and one gap in the control of documents, so the
//! readiness view shows the three standings side by side with what the rules find.

use super::Org;
use steward_domain::conformance::catalogue::catalogue;
use steward_domain::conformance::readiness::{AssessmentDraft, Judgement};
use steward_store::Store;

/// Clauses whose manual requirements the manager judged conforming (the first two of each).
const ASSESSED: [&str; 10] = [
    "4.1", "4.2", "4.3", "4.4", "5.1", "5.2.1", "5.3", "7.1", "7.2", "8.1",
];
/// The clause where the review found a gap.
const GAP: &str = "7.5.3";

pub(crate) async fn seed(store: &Store, org: &Org) -> anyhow::Result<()> {
    let manager = org.actor(1);
    for id in ASSESSED {
        let Some(clause) = catalogue().clause(id) else {
            continue;
        };
        for r in clause
            .requirements
            .iter()
            .filter(|r| r.rule.is_none())
            .take(2)
        {
            let draft = AssessmentDraft {
                judgement: Judgement::Conforming,
                comment: format!("Seen at the internal review of clause {id}."),
                evidence: "Internal review notes, IR-2026-10".into(),
            };
            store.assess(org.tenant_id, &r.id, &draft, &manager).await?;
        }
    }
    if let Some(r) = catalogue()
        .clause(GAP)
        .and_then(|c| c.requirements.iter().find(|r| r.rule.is_none()))
    {
        let draft = AssessmentDraft {
            judgement: Judgement::Nonconforming,
            comment: "Two operating procedures are past their review date and the register \
                      does not show who approved the current versions."
                .into(),
            evidence: "Document register extract, 2026-10-14".into(),
        };
        store.assess(org.tenant_id, &r.id, &draft, &manager).await?;
    }
    Ok(())
}

/// Days of readiness counts the demo starts with, so the dashboard's trend has a line.
const TREND_DAYS: i64 = 30;

/// Counts the readiness for each of the last [`TREND_DAYS`] days, as the daily job does: each
/// day's count looks at the twelve months up to that day.
pub(crate) async fn seed_trend(store: &Store, org: &Org) -> anyhow::Result<()> {
    let today = steward_store::asset::today_utc();
    for back in (0..TREND_DAYS).rev() {
        let day = today.checked_sub(jiff::Span::new().days(back))?;
        store.record_readiness_snapshot(org.tenant_id, day).await?;
    }
    Ok(())
}
