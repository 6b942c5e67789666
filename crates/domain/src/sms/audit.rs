//! Internal audit (ISO/IEC 20000-1 clause 9.2): the audit programme over a three-year
//! certification cycle, the audits planned in it with their scope of clauses, the lifecycle of
//! an audit, auditor independence, the checklist drawn from the clause catalogue, findings, and
//! which clauses the programme covers in which year of its cycle.
//!
//! Everything here is pure: the store reads the records, these functions decide.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::role::{PROCESSES, Process};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::conformance::catalogue::{Catalogue, catalogue};
use crate::validation::{Invalid, optional_text, required_text};

/// What an audit is measured against unless the planner says otherwise.
pub const DEFAULT_CRITERIA: &str = "ISO/IEC 20000-1:2018 and the SMS's own documented information";
/// Longest name or title.
pub const MAX_TITLE: usize = 300;
/// Longest notes, criteria, summary, statement or evidence.
pub const MAX_TEXT: usize = 10_000;
/// How many years a certification cycle, and so a programme, runs.
pub const CYCLE_YEARS: usize = 3;

/// The last day of a cycle that starts on `start`: three years on, less a day.
pub fn cycle_end(start: Date) -> Date {
    start
        .checked_add(jiff::Span::new().years(3))
        .and_then(|d| d.checked_sub(jiff::Span::new().days(1)))
        .unwrap_or(Date::MAX)
}

/// Which year of the cycle starting on `start` `day` falls in (1 to 3); `None` outside it.
pub fn cycle_year(start: Date, day: Date) -> Option<usize> {
    if day < start || day > cycle_end(start) {
        return None;
    }
    (1..=CYCLE_YEARS).find(|&year| {
        let next = start.checked_add(jiff::Span::new().years(i64::try_from(year).unwrap_or(3)));
        next.is_ok_and(|next| day < next)
    })
}

/// The editable fields of an audit programme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgrammeDraft {
    pub name: String,
    /// The first day of the three-year cycle; the cycle ends on [`cycle_end`].
    pub cycle_start: Date,
    pub owner_id: Option<i64>,
    pub notes: String,
}

impl ProgrammeDraft {
    /// Trims and checks the fields; every problem is reported at once.
    pub fn validate(mut self) -> Result<ProgrammeDraft, Invalid> {
        let mut errors = Invalid::new();
        self.name = required_text(&mut errors, "name", "Name", &self.name, MAX_TITLE);
        self.notes = optional_text(&mut errors, "notes", "Notes", &self.notes, MAX_TEXT);
        errors.into_result(self)
    }
}

/// Where an audit stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuditStatus {
    Planned,
    InProgress,
    Reported,
    Closed,
    Cancelled,
}

crate::service::text_enum!(AuditStatus {
    Planned => "planned", InProgress => "in_progress", Reported => "reported",
    Closed => "closed", Cancelled => "cancelled",
});

/// Why an audit may not move as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an audit cannot go from {} to {}", from.label().to_lowercase(), to.label().to_lowercase())]
pub struct AuditRefusal {
    pub from: AuditStatus,
    pub to: AuditStatus,
}

impl AuditStatus {
    pub fn label(self) -> &'static str {
        match self {
            AuditStatus::Planned => "Planned",
            AuditStatus::InProgress => "In progress",
            AuditStatus::Reported => "Reported",
            AuditStatus::Closed => "Closed",
            AuditStatus::Cancelled => "Cancelled",
        }
    }

    /// The statuses the lifecycle allows from this one: planned → in progress → reported →
    /// closed, and planned → cancelled.
    pub fn next(self) -> &'static [AuditStatus] {
        use AuditStatus::*;
        match self {
            Planned => &[InProgress, Cancelled],
            InProgress => &[Reported],
            Reported => &[Closed],
            Closed | Cancelled => &[],
        }
    }

    pub fn transition(self, to: AuditStatus) -> Result<AuditStatus, AuditRefusal> {
        if self.next().contains(&to) {
            Ok(to)
        } else {
            Err(AuditRefusal { from: self, to })
        }
    }

    /// Whether the audit's plan (title, scope, dates, people) may still be edited.
    pub fn plan_editable(self) -> bool {
        matches!(self, AuditStatus::Planned | AuditStatus::InProgress)
    }

    /// Whether checklist results and findings may be recorded: only while it runs, so that a
    /// report, once issued, stays as it was issued.
    pub fn recording(self) -> bool {
        self == AuditStatus::InProgress
    }

    /// Whether it took place (and so counts as an audit held).
    pub fn held(self) -> bool {
        matches!(self, AuditStatus::Reported | AuditStatus::Closed)
    }
}

/// The clause ids of a scope as typed: each must be a clause of the catalogue (headings such
/// as "8.5" are not), given once; returned in the standard's order.
pub fn checked_scope(errors: &mut Invalid, scope: &[String]) -> Vec<String> {
    let cat = catalogue();
    let wanted: HashSet<&str> = scope
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    let mut unknown: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|id| cat.clause(id).is_none())
        .collect();
    unknown.sort_unstable();
    if !unknown.is_empty() {
        errors.add(
            "scope",
            format!(
                "Not a clause of the catalogue: {} (use clause ids such as 8.6.1)",
                unknown.join(", ")
            ),
        );
    } else if wanted.is_empty() {
        errors.add("scope", "Choose at least one clause to audit");
    }
    cat.clauses
        .iter()
        .filter(|c| wanted.contains(c.id.as_str()))
        .map(|c| c.id.clone())
        .collect()
}

/// The plan of an audit, as typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditDraft {
    pub title: String,
    /// Clause ids of the catalogue, in the standard's order once validated.
    pub scope: Vec<String>,
    pub criteria: String,
    pub planned_start: Date,
    pub planned_end: Date,
    pub lead_auditor_id: i64,
    /// The other auditors (the lead is left out once validated).
    pub auditor_ids: Vec<i64>,
    /// The owners of the processes audited.
    pub auditee_ids: Vec<i64>,
}

fn unique(ids: &[i64]) -> Vec<i64> {
    let mut seen = BTreeSet::new();
    ids.iter().copied().filter(|id| seen.insert(*id)).collect()
}

impl AuditDraft {
    /// Checks the plan against the programme's cycle starting on `cycle_start`: a title, a
    /// scope of known clauses, criteria (the default when left empty), dates in order and
    /// within the cycle. Independence is checked separately ([`check_independence`]), since
    /// it needs people's names.
    pub fn validate(mut self, cycle_start: Date) -> Result<AuditDraft, Invalid> {
        let mut errors = Invalid::new();
        self.title = required_text(&mut errors, "title", "Title", &self.title, MAX_TITLE);
        self.scope = checked_scope(&mut errors, &self.scope);
        if self.criteria.trim().is_empty() {
            self.criteria = DEFAULT_CRITERIA.to_owned();
        }
        self.criteria = required_text(
            &mut errors,
            "criteria",
            "Criteria",
            &self.criteria,
            MAX_TEXT,
        );
        if self.planned_end < self.planned_start {
            errors.add(
                "planned_end",
                "The planned end cannot be before the planned start",
            );
        }
        let end = cycle_end(cycle_start);
        for (field, label, day) in [
            ("planned_start", "planned start", self.planned_start),
            ("planned_end", "planned end", self.planned_end),
        ] {
            if day < cycle_start || day > end {
                errors.add(
                    field,
                    format!(
                        "The {label} must fall within the programme's cycle, {cycle_start} to {end}"
                    ),
                );
            }
        }
        let lead = self.lead_auditor_id;
        self.auditor_ids = unique(&self.auditor_ids)
            .into_iter()
            .filter(|id| *id != lead)
            .collect();
        self.auditee_ids = unique(&self.auditee_ids);
        if self.auditee_ids.is_empty() {
            errors.add(
                "auditee_ids",
                "Name at least one auditee (the owner of a process audited)",
            );
        }
        errors.into_result(self)
    }

    /// Everyone who audits: the lead first, then the others.
    pub fn auditors(&self) -> Vec<i64> {
        std::iter::once(self.lead_auditor_id)
            .chain(self.auditor_ids.iter().copied())
            .collect()
    }
}

/// A person as the independence check names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: i64,
    pub name: String,
}

/// Someone whose role in the RACI matrix makes a process of the audit's scope their own work:
/// they hold a role accountable or responsible for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessOwner {
    pub person_id: i64,
    /// The process's name, as the refusal names it.
    pub process: String,
}

/// The processes of the SMS an audit's scope touches: for each clause, the most specific
/// process it belongs to (clause 8.2.4 is catalogue management, 8.2.1 the wider portfolio).
pub fn scope_processes(scope: &[String]) -> Vec<&'static Process> {
    let mut found: Vec<&'static Process> = Vec::new();
    for clause in scope {
        let owner = PROCESSES
            .iter()
            .filter(|p| clause == p.id || clause.starts_with(&format!("{}.", p.id)))
            .max_by_key(|p| p.id.len());
        if let Some(p) = owner
            && !found.contains(&p)
        {
            found.push(p);
        }
    }
    found
}

/// Auditor independence (9.2): no one audits their own process. Every auditor (the lead under
/// `lead_auditor_id`, the others under `auditor_ids`) who is also an auditee, or who holds a role
/// accountable or responsible for a process in the scope, is refused by name.
pub fn check_independence(
    lead: &Person,
    others: &[Person],
    auditees: &[i64],
    owners: &[ProcessOwner],
) -> Result<(), Invalid> {
    let mut errors = Invalid::new();
    let refusal = |p: &Person| {
        if auditees.contains(&p.id) {
            return Some(format!(
                "{} is an auditee of this audit and cannot audit it",
                p.name
            ));
        }
        owners.iter().find(|o| o.person_id == p.id).map(|o| {
            format!(
                "{} holds a role responsible for {}, which this audit covers, and cannot audit it",
                p.name, o.process
            )
        })
    };
    if let Some(message) = refusal(lead) {
        errors.add("lead_auditor_id", message);
    }
    for message in others.iter().filter_map(refusal) {
        errors.add("auditor_ids", message);
    }
    errors.into_result(())
}

/// What an auditor concluded about one checklist row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChecklistResult {
    NotYetAudited,
    Conforming,
    Nonconforming,
    Observation,
    NotApplicable,
}

crate::service::text_enum!(ChecklistResult {
    NotYetAudited => "not_yet_audited", Conforming => "conforming",
    Nonconforming => "nonconforming", Observation => "observation",
    NotApplicable => "not_applicable",
});

impl ChecklistResult {
    pub fn label(self) -> &'static str {
        match self {
            ChecklistResult::NotYetAudited => "Not yet audited",
            ChecklistResult::Conforming => "Conforming",
            ChecklistResult::Nonconforming => "Nonconforming",
            ChecklistResult::Observation => "Observation",
            ChecklistResult::NotApplicable => "Not applicable",
        }
    }

    pub fn is_open(self) -> bool {
        self == ChecklistResult::NotYetAudited
    }
}

/// One row of a checklist as the catalogue gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChecklistItem {
    pub requirement_id: String,
    pub clause_id: String,
    /// The catalogue's paraphrase of the requirement.
    pub text: String,
}

/// The checklist of a scope: one row per requirement of each scoped clause, in the
/// standard's order. Unknown clause ids give no rows.
pub fn checklist(cat: &Catalogue, scope: &[String]) -> Vec<ChecklistItem> {
    cat.requirements()
        .filter(|(c, _)| scope.contains(&c.id))
        .map(|(c, r)| ChecklistItem {
            requirement_id: r.id.clone(),
            clause_id: c.id.clone(),
            text: r.text.clone(),
        })
        .collect()
}

/// What reporting an audit needs: every checklist row audited and a summary with the
/// conclusion. `open` names the rows still not audited.
pub fn check_report(open: &[String], summary: &str) -> Result<String, Invalid> {
    let mut errors = Invalid::new();
    let summary = required_text(
        &mut errors,
        "summary",
        "Summary and conclusion",
        summary,
        MAX_TEXT,
    );
    if !open.is_empty() {
        let shown: Vec<&str> = open.iter().take(10).map(String::as_str).collect();
        let more = open.len().saturating_sub(shown.len());
        errors.add(
            "checklist",
            format!(
                "Every checklist row needs a result before the audit is reported; still open: {}{}",
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ),
        );
    }
    errors.into_result(summary)
}

/// What a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    MajorNonconformity,
    MinorNonconformity,
    Observation,
    OpportunityForImprovement,
}

crate::service::text_enum!(FindingKind {
    MajorNonconformity => "major_nonconformity", MinorNonconformity => "minor_nonconformity",
    Observation => "observation", OpportunityForImprovement => "opportunity_for_improvement",
});

impl FindingKind {
    pub fn label(self) -> &'static str {
        match self {
            FindingKind::MajorNonconformity => "Major nonconformity",
            FindingKind::MinorNonconformity => "Minor nonconformity",
            FindingKind::Observation => "Observation",
            FindingKind::OpportunityForImprovement => "Opportunity for improvement",
        }
    }

    /// Whether the finding is a nonconformity, which is then handled as one (clause 10.1).
    pub fn is_nonconformity(self) -> bool {
        matches!(
            self,
            FindingKind::MajorNonconformity | FindingKind::MinorNonconformity
        )
    }
}

/// A finding as typed: its kind, the requirement or clause it is about, what was found and
/// the evidence for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingDraft {
    pub kind: FindingKind,
    /// A requirement id ("9.2-f") or a clause id ("9.2").
    pub reference: String,
    pub statement: String,
    pub evidence: String,
}

/// A finding checked against the audit's scope: the clause it is about and, when a
/// requirement was named, that requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckedFinding {
    pub kind: FindingKind,
    pub clause_id: String,
    pub requirement_id: Option<String>,
    pub statement: String,
    pub evidence: String,
}

impl FindingDraft {
    /// Checks a finding of an audit whose scope is `scope`: the reference names a requirement
    /// or clause of the catalogue within the scope, and there is a statement; a nonconformity
    /// also needs its evidence.
    pub fn validate(self, scope: &[String]) -> Result<CheckedFinding, Invalid> {
        let mut errors = Invalid::new();
        let cat = catalogue();
        let reference = self.reference.trim();
        let (clause_id, requirement_id) = match cat.requirement(reference) {
            Some((c, r)) => (c.id.clone(), Some(r.id.clone())),
            None => (reference.to_owned(), None),
        };
        if reference.is_empty() {
            errors.add(
                "reference",
                "Name the requirement or clause the finding is about",
            );
        } else if cat.clause(&clause_id).is_none() {
            errors.add(
                "reference",
                format!("{reference} is neither a requirement nor a clause of the catalogue"),
            );
        } else if !scope.contains(&clause_id) {
            errors.add(
                "reference",
                format!("Clause {clause_id} is not in this audit's scope"),
            );
        }
        let statement = required_text(
            &mut errors,
            "statement",
            "Statement",
            &self.statement,
            MAX_TEXT,
        );
        let evidence = if self.kind.is_nonconformity() {
            required_text(
                &mut errors,
                "evidence",
                "Evidence",
                &self.evidence,
                MAX_TEXT,
            )
        } else {
            optional_text(
                &mut errors,
                "evidence",
                "Evidence",
                self.evidence.trim(),
                MAX_TEXT,
            )
        };
        errors.into_result(CheckedFinding {
            kind: self.kind,
            clause_id,
            requirement_id,
            statement,
            evidence,
        })
    }
}

/// An audit as coverage sees it: when it was planned to start, what it covers, where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedAudit {
    pub planned_start: Date,
    pub scope: Vec<String>,
    pub status: AuditStatus,
}

/// One clause of the coverage matrix: how many audits name it in each year of the cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClauseCoverage {
    pub clause_id: String,
    pub title: String,
    /// Audits naming the clause in years 1, 2 and 3 of the cycle.
    pub years: [u32; CYCLE_YEARS],
}

impl ClauseCoverage {
    pub fn covered(&self) -> bool {
        self.years.iter().any(|n| *n > 0)
    }
}

/// Which clauses of the catalogue a programme's audits cover in which year of its cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// Every clause of the catalogue, in the standard's order.
    pub clauses: Vec<ClauseCoverage>,
    /// The clause ids no audit of the cycle names.
    pub uncovered: Vec<String>,
}

/// The coverage of the cycle starting on `cycle_start` by `audits`: the union of their
/// scopes, counted per year of the cycle by each audit's planned start. A cancelled audit
/// covers nothing; neither does one planned outside the cycle or a clause id the catalogue
/// does not have.
pub fn coverage(cat: &Catalogue, cycle_start: Date, audits: &[PlannedAudit]) -> Coverage {
    let mut counts: BTreeMap<&str, [u32; CYCLE_YEARS]> = BTreeMap::new();
    for audit in audits.iter().filter(|a| a.status != AuditStatus::Cancelled) {
        let Some(year) = cycle_year(cycle_start, audit.planned_start) else {
            continue;
        };
        let named: BTreeSet<&str> = audit.scope.iter().map(String::as_str).collect();
        for clause in named {
            counts.entry(clause).or_default()[year - 1] += 1;
        }
    }
    let clauses: Vec<ClauseCoverage> = cat
        .clauses
        .iter()
        .map(|c| ClauseCoverage {
            clause_id: c.id.clone(),
            title: c.title.clone(),
            years: counts.get(c.id.as_str()).copied().unwrap_or_default(),
        })
        .collect();
    let uncovered = clauses
        .iter()
        .filter(|c| !c.covered())
        .map(|c| c.clause_id.clone())
        .collect();
    Coverage { clauses, uncovered }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AuditStatus::*;
    use proptest::prelude::*;

    fn day(text: &str) -> Date {
        Date::strptime("%Y-%m-%d", text).expect("date")
    }

    fn draft() -> AuditDraft {
        AuditDraft {
            title: " Incident and problem management ".into(),
            scope: vec!["8.6.3".into(), "8.6.1".into(), "8.6.1".into()],
            criteria: String::new(),
            planned_start: day("2026-03-02"),
            planned_end: day("2026-03-04"),
            lead_auditor_id: 1,
            auditor_ids: vec![1, 2, 2],
            auditee_ids: vec![3, 3],
        }
    }

    #[test]
    fn a_cycle_runs_three_years_less_a_day() {
        assert_eq!(cycle_end(day("2026-01-01")), day("2028-12-31"));
        assert_eq!(cycle_end(day("2024-02-29")), day("2027-02-27"));
        let start = day("2026-04-01");
        assert_eq!(cycle_year(start, day("2026-04-01")), Some(1));
        assert_eq!(cycle_year(start, day("2027-03-31")), Some(1));
        assert_eq!(cycle_year(start, day("2027-04-01")), Some(2));
        assert_eq!(cycle_year(start, day("2029-03-31")), Some(3));
        assert_eq!(cycle_year(start, day("2029-04-01")), None);
        assert_eq!(cycle_year(start, day("2026-03-31")), None);
    }

    #[test]
    fn a_programme_needs_a_name() {
        let d = ProgrammeDraft {
            name: "  ".into(),
            cycle_start: day("2026-01-01"),
            owner_id: None,
            notes: String::new(),
        };
        assert!(
            d.validate()
                .expect_err("refused")
                .message_for("name")
                .is_some()
        );
    }

    #[test]
    fn a_plan_is_tidied_and_gets_the_default_criteria() {
        let d = draft().validate(day("2026-01-01")).expect("valid");
        assert_eq!(d.title, "Incident and problem management");
        assert_eq!(d.scope, vec!["8.6.1".to_owned(), "8.6.3".to_owned()]);
        assert_eq!(d.criteria, DEFAULT_CRITERIA);
        assert_eq!(d.auditor_ids, vec![2]);
        assert_eq!(d.auditee_ids, vec![3]);
        assert_eq!(d.auditors(), vec![1, 2]);
    }

    #[test]
    fn a_plan_refuses_unknown_clauses_and_dates_outside_the_cycle() {
        let mut d = draft();
        d.scope = vec!["8.5".into(), "99.1".into(), "8.6.1".into()];
        d.planned_start = day("2025-12-31");
        d.planned_end = day("2025-12-30");
        d.auditee_ids.clear();
        let e = d.validate(day("2026-01-01")).expect_err("refused");
        let scope = e.message_for("scope").expect("scope");
        assert!(scope.contains("8.5") && scope.contains("99.1"), "{scope}");
        for field in ["planned_start", "planned_end", "auditee_ids"] {
            assert!(e.message_for(field).is_some(), "{field}");
        }
        let mut empty = draft();
        empty.scope.clear();
        assert!(empty.validate(day("2026-01-01")).is_err());
    }

    #[test]
    fn no_one_audits_their_own_process() {
        let ann = Person {
            id: 3,
            name: "Ann Lee".into(),
        };
        let bob = Person {
            id: 2,
            name: "Bob Ray".into(),
        };
        assert!(check_independence(&bob, &[], &[3], &[]).is_ok());
        let e =
            check_independence(&ann, std::slice::from_ref(&bob), &[3], &[]).expect_err("refused");
        assert_eq!(
            e.message_for("lead_auditor_id"),
            Some("Ann Lee is an auditee of this audit and cannot audit it")
        );
        let e =
            check_independence(&bob, std::slice::from_ref(&ann), &[3], &[]).expect_err("refused");
        assert_eq!(
            e.message_for("auditor_ids"),
            Some("Ann Lee is an auditee of this audit and cannot audit it")
        );
        // Bob is not named as an auditee, but the RACI makes incident management his work.
        let owners = [ProcessOwner {
            person_id: 2,
            process: "Incident management".into(),
        }];
        let e = check_independence(&bob, &[], &[3], &owners).expect_err("refused");
        assert_eq!(
            e.message_for("lead_auditor_id"),
            Some(
                "Bob Ray holds a role responsible for Incident management, which this audit \
                 covers, and cannot audit it"
            )
        );
        let e = check_independence(&ann, std::slice::from_ref(&bob), &[4], &owners)
            .expect_err("refused");
        assert!(
            e.message_for("auditor_ids")
                .is_some_and(|m| m.starts_with("Bob Ray holds"))
        );
        assert!(check_independence(&ann, &[], &[4], &owners).is_ok());
    }

    #[test]
    fn a_scope_touches_the_most_specific_processes() {
        let scope: Vec<String> = [
            "8.2.1", "8.2.4", "8.6.1", "8.5.1.3", "7.5.2", "5.3", "8.6.1",
        ]
        .map(String::from)
        .to_vec();
        let ids: Vec<&str> = scope_processes(&scope).iter().map(|p| p.id).collect();
        assert_eq!(ids, ["8.2", "8.2.4", "8.6.1", "8.5.1", "7.5"]);
    }

    #[test]
    fn the_lifecycle_is_planned_started_reported_closed() {
        assert_eq!(Planned.transition(InProgress), Ok(InProgress));
        assert_eq!(Planned.transition(Cancelled), Ok(Cancelled));
        assert_eq!(InProgress.transition(Reported), Ok(Reported));
        assert_eq!(Reported.transition(Closed), Ok(Closed));
        let refused = Planned.transition(Reported).expect_err("refused");
        assert_eq!(
            refused.to_string(),
            "an audit cannot go from planned to reported"
        );
        assert!(InProgress.transition(Cancelled).is_err());
        assert!(Closed.next().is_empty() && Cancelled.next().is_empty());
        assert!(InProgress.recording() && !Reported.recording());
        assert!(Reported.held() && Closed.held() && !Cancelled.held());
    }

    #[test]
    fn the_checklist_has_one_row_per_requirement_of_the_scope() {
        let cat = catalogue();
        let rows = checklist(cat, &["9.2".into(), "8.6.1".into()]);
        let expected = cat.clause("9.2").map_or(0, |c| c.requirements.len())
            + cat.clause("8.6.1").map_or(0, |c| c.requirements.len());
        assert_eq!(rows.len(), expected);
        assert_eq!(rows[0].clause_id, "8.6.1", "in the standard's order");
        assert!(rows.iter().any(|r| r.requirement_id == "9.2-f"));
        assert!(checklist(cat, &["8.5".into()]).is_empty());
    }

    #[test]
    fn reporting_needs_every_row_audited_and_a_summary() {
        assert_eq!(check_report(&[], " Fine. "), Ok("Fine.".to_owned()));
        let open: Vec<String> = (0..12).map(|i| format!("9.2-{i}")).collect();
        let e = check_report(&open, "").expect_err("refused");
        assert!(e.message_for("summary").is_some());
        let msg = e.message_for("checklist").expect("checklist");
        assert!(msg.ends_with("and 2 more"), "{msg}");
    }

    #[test]
    fn findings_name_something_in_scope() {
        let scope = vec!["9.2".to_owned()];
        let f = |kind, reference: &str, evidence: &str| FindingDraft {
            kind,
            reference: reference.into(),
            statement: "Two audits were run by the owner of the process.".into(),
            evidence: evidence.into(),
        };
        let ok = f(FindingKind::MinorNonconformity, "9.2-f", "AUD-3 plan")
            .validate(&scope)
            .expect("valid");
        assert_eq!(ok.clause_id, "9.2");
        assert_eq!(ok.requirement_id.as_deref(), Some("9.2-f"));
        let clause = f(FindingKind::Observation, " 9.2 ", "")
            .validate(&scope)
            .expect("valid");
        assert_eq!(clause.requirement_id, None);
        for (bad, kind) in [
            ("8.6.1", FindingKind::Observation),
            ("9.2-zz", FindingKind::Observation),
            ("", FindingKind::Observation),
        ] {
            let e = f(kind, bad, "").validate(&scope).expect_err("refused");
            assert!(e.message_for("reference").is_some(), "{bad}");
        }
        let e = f(FindingKind::MajorNonconformity, "9.2", " ")
            .validate(&scope)
            .expect_err("a nonconformity needs evidence");
        assert!(e.message_for("evidence").is_some());
        assert!(FindingKind::MajorNonconformity.is_nonconformity());
        assert!(!FindingKind::OpportunityForImprovement.is_nonconformity());
    }

    #[test]
    fn coverage_counts_audits_per_year_and_lists_the_rest() {
        let cat = catalogue();
        let start = day("2026-01-01");
        let audit = |on: &str, scope: &[&str], status| PlannedAudit {
            planned_start: day(on),
            scope: scope.iter().map(|s| (*s).to_owned()).collect(),
            status,
        };
        let audits = [
            audit("2026-03-01", &["8.6.1", "9.2"], Closed),
            audit("2027-03-01", &["8.6.1"], Planned),
            audit("2028-03-01", &["10.1"], Cancelled),
            audit("2030-03-01", &["10.2"], Planned),
        ];
        let cov = coverage(cat, start, &audits);
        let row = |id: &str| cov.clauses.iter().find(|c| c.clause_id == id).expect(id);
        assert_eq!(row("8.6.1").years, [1, 1, 0]);
        assert_eq!(row("9.2").years, [1, 0, 0]);
        assert!(cov.uncovered.contains(&"10.1".to_owned()), "cancelled");
        assert!(
            cov.uncovered.contains(&"10.2".to_owned()),
            "outside the cycle"
        );
        assert_eq!(cov.clauses.len(), cat.clauses.len());
        assert_eq!(cov.uncovered.len(), cat.clauses.len() - 2);
    }

    fn clause_ids() -> Vec<String> {
        catalogue().clauses.iter().map(|c| c.id.clone()).collect()
    }

    fn any_status() -> impl Strategy<Value = AuditStatus> {
        prop::sample::select(AuditStatus::ALL.to_vec())
    }

    fn any_audit() -> impl Strategy<Value = PlannedAudit> {
        (
            0i64..(4 * 365),
            prop::sample::subsequence(clause_ids(), 0..6),
            any_status(),
        )
            .prop_map(|(offset, scope, status)| PlannedAudit {
                planned_start: day("2026-01-01")
                    .checked_add(jiff::Span::new().days(offset))
                    .expect("date"),
                scope,
                status,
            })
    }

    proptest! {
        #[test]
        fn coverage_is_the_union_of_the_scopes_in_the_cycle(
            audits in prop::collection::vec(any_audit(), 0..8),
        ) {
            let start = day("2026-01-01");
            let cov = coverage(catalogue(), start, &audits);
            let named: BTreeSet<&str> = audits
                .iter()
                .filter(|a| a.status != Cancelled && cycle_year(start, a.planned_start).is_some())
                .flat_map(|a| a.scope.iter().map(String::as_str))
                .collect();
            for c in &cov.clauses {
                prop_assert_eq!(c.covered(), named.contains(c.clause_id.as_str()));
                prop_assert_eq!(
                    cov.uncovered.contains(&c.clause_id),
                    !named.contains(c.clause_id.as_str())
                );
            }
            let total: u32 = cov.clauses.iter().flat_map(|c| c.years).sum();
            let expected: usize = audits
                .iter()
                .filter(|a| a.status != Cancelled && cycle_year(start, a.planned_start).is_some())
                .map(|a| a.scope.len())
                .sum();
            prop_assert_eq!(total as usize, expected);
        }

        #[test]
        fn the_lifecycle_never_leaves_an_end_and_reports_only_what_ran(
            path in prop::collection::vec(any_status(), 0..12),
        ) {
            let mut at = Planned;
            for to in path {
                match at.transition(to) {
                    Ok(next) => {
                        prop_assert!(!matches!(at, Closed | Cancelled));
                        prop_assert!(next != Reported || at == InProgress);
                        prop_assert!(next != Cancelled || at == Planned);
                        at = next;
                    }
                    Err(refusal) => prop_assert_eq!(refusal, AuditRefusal { from: at, to }),
                }
            }
        }

        #[test]
        fn every_day_of_the_cycle_is_in_exactly_one_year(offset in -10i64..(3 * 366 + 10)) {
            let start = day("2027-02-28");
            let d = start.checked_add(jiff::Span::new().days(offset)).expect("date");
            let inside = d >= start && d <= cycle_end(start);
            prop_assert_eq!(cycle_year(start, d).is_some(), inside);
        }
    }
}
