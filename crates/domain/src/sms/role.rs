//! Roles, responsibilities and authorities of the service management system (ISO/IEC 20000-1
//! clause 5.3): roles with their duties and powers, the people who hold them over time, and the
//! RACI matrix that says which role is responsible, accountable, consulted or informed for each
//! process of the SMS.
//!
//! Everything here is pure: the store reads roles and assignments, these functions decide.
//!
//! Two choices the standard leaves open:
//! - An assignment's end date is the first day the person no longer holds the role, so that a
//!   hand-over is "ends on 1 July, next holder from 1 July" with no day held twice or by no one.
//! - A RACI row holds one letter per role, so the accountable role also counts as responsible
//!   (the "A/R" of common practice): a small organisation need not invent a second role to do
//!   the work its owner answers for. A row therefore needs exactly one A, and any number of R.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::validation::{Invalid, required_text};

pub const MAX_NAME: usize = 200;
pub const MAX_TEXT: usize = 5_000;

/// The editable fields of a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleDraft {
    pub name: String,
    /// What the holder must do (5.3 a: duties).
    pub responsibilities: String,
    /// What the holder may decide or act on (5.3 a: powers).
    pub authorities: String,
    /// Answers for the SMS conforming to the standard (5.3 c).
    pub conformity_lead: bool,
    /// Reports the SMS's and the services' performance to top management (5.3 d).
    pub reports_performance: bool,
}

impl RoleDraft {
    /// Trims and checks the fields; every problem is reported at once. Duplicate names are the
    /// store's to refuse, since only it sees the other roles.
    pub fn validate(mut self) -> Result<RoleDraft, Invalid> {
        let mut errors = Invalid::new();
        self.name = required_text(&mut errors, "name", "Name", &self.name, MAX_NAME);
        self.responsibilities = required_text(
            &mut errors,
            "responsibilities",
            "Responsibilities",
            &self.responsibilities,
            MAX_TEXT,
        );
        self.authorities = required_text(
            &mut errors,
            "authorities",
            "Authorities",
            &self.authorities,
            MAX_TEXT,
        );
        errors.into_result(self)
    }
}

/// Longest note on an assignment.
pub const MAX_NOTE: usize = 2_000;

/// One period a person holds (or held) a role: from `from`, until the day before `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holding {
    pub user_id: i64,
    pub from: Date,
    /// The first day no longer held; `None` while it runs.
    pub to: Option<Date>,
}

impl Holding {
    /// Whether the role is held on `day`.
    pub fn holds_on(&self, day: Date) -> bool {
        self.from <= day && self.to.is_none_or(|to| day < to)
    }

    /// Whether it runs on at some day from `day` on (so an open-ended holding from `day` would
    /// hold the role twice at once).
    fn runs_into(&self, day: Date) -> bool {
        self.to.is_none_or(|to| to > day)
    }
}

/// Checks a new assignment of `user_id` from `from` to the role `role_name`, given whether the
/// role is retired and the role's holdings so far.
pub fn check_assignment(
    role_name: &str,
    retired: bool,
    holdings: &[Holding],
    user_id: i64,
    from: Date,
) -> Result<(), Invalid> {
    if retired {
        return Err(Invalid::one(
            "role_id",
            format!("The role {role_name} is retired and can no longer be assigned"),
        ));
    }
    let overlaps = holdings
        .iter()
        .any(|h| h.user_id == user_id && h.runs_into(from));
    if overlaps {
        return Err(Invalid::one(
            "user_id",
            format!(
                "This person already holds {role_name} on or after {from}: end that assignment first"
            ),
        ));
    }
    Ok(())
}

/// Checks the end of a holding on `to`: a running holding only, and not before it began.
pub fn check_end(holding: &Holding, to: Date) -> Result<(), Invalid> {
    if holding.to.is_some() {
        return Err(Invalid::one("to_date", "This assignment has already ended"));
    }
    if to < holding.from {
        return Err(Invalid::one(
            "to_date",
            format!(
                "The end date cannot be before the assignment began ({})",
                holding.from
            ),
        ));
    }
    Ok(())
}

/// The notice the new holder receives (5.3 b: the assignment is made known): subject, body.
pub fn assignment_notice(
    person: &str,
    role: &str,
    from: Date,
    responsibilities: &str,
    authorities: &str,
) -> (String, String) {
    let subject = format!("[SMS] You hold the role {role} from {from}");
    let body = format!(
        "Hello {},\n\nyou have been assigned the service management role {role}, from {from}.\n\n\
         Your responsibilities:\n{}\n\nYour authorities:\n{}\n\n\
         The role and its other holders are listed under Roles in Steward.\n",
        person.trim(),
        responsibilities.trim(),
        authorities.trim(),
    );
    (subject, body)
}

/// A process of the SMS: the catalogue clause (or heading) it answers to and its usual name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Process {
    pub id: &'static str,
    pub name: &'static str,
}

const fn p(id: &'static str, name: &'static str) -> Process {
    Process { id, name }
}

/// The processes of the SMS that need an owner, in the standard's order.
pub const PROCESSES: &[Process] = &[
    p("6.1", "Risks and opportunities"),
    p("7.5", "Documented information"),
    p("8.2", "Service portfolio and delivery"),
    p("8.2.4", "Service catalogue management"),
    p("8.2.5", "Asset management"),
    p("8.2.6", "Configuration management"),
    p("8.3.2", "Business relationship management"),
    p("8.3.3", "Service level management"),
    p("8.3.4", "Supplier management"),
    p("8.4.1", "Budgeting and accounting for services"),
    p("8.4.2", "Demand management"),
    p("8.4.3", "Capacity management"),
    p("8.5.1", "Change management"),
    p("8.5.2", "Service design and transition"),
    p("8.5.3", "Release and deployment management"),
    p("8.6.1", "Incident management"),
    p("8.6.2", "Service request management"),
    p("8.6.3", "Problem management"),
    p("8.7.1", "Service availability management"),
    p("8.7.2", "Service continuity management"),
    p("8.7.3", "Information security management"),
    p("9.2", "Internal audit"),
    p("9.3", "Management review"),
    p("9.4", "Service reporting"),
    p("10.1", "Nonconformity and corrective action"),
    p("10.2", "Continual improvement"),
];

/// The process with this clause id.
pub fn process(id: &str) -> Option<&'static Process> {
    PROCESSES.iter().find(|p| p.id == id)
}

impl Process {
    /// A number for the journal, which keys records by integer: each part of the clause id as
    /// two digits over three levels ("8.6.1" is 80601, "10.2" is 100200), so it never changes
    /// when processes are added to the list.
    pub fn number(&self) -> i64 {
        let mut parts = self.id.split('.').map(|s| s.parse::<i64>().unwrap_or(0));
        (0..3).fold(0, |n, _| n * 100 + parts.next().unwrap_or(0))
    }
}

/// A letter of the RACI matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RaciLetter {
    /// Does the work.
    #[serde(rename = "R")]
    Responsible,
    /// Answers for the process: its owner. Exactly one per process.
    #[serde(rename = "A")]
    Accountable,
    /// Asked before decisions.
    #[serde(rename = "C")]
    Consulted,
    /// Told of decisions and results.
    #[serde(rename = "I")]
    Informed,
}

crate::service::text_enum!(RaciLetter {
    Responsible => "R", Accountable => "A", Consulted => "C", Informed => "I",
});

impl RaciLetter {
    pub fn label(self) -> &'static str {
        match self {
            RaciLetter::Responsible => "Responsible",
            RaciLetter::Accountable => "Accountable",
            RaciLetter::Consulted => "Consulted",
            RaciLetter::Informed => "Informed",
        }
    }
}

/// What a RACI row's check needs to know of a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleFacts {
    pub id: i64,
    pub name: String,
    pub retired: bool,
}

/// Checks one process's row: a known process, known roles each named once, none retired, and
/// exactly one accountable (which also counts as responsible, see the module documentation).
/// The row comes back ordered by role id.
pub fn check_raci_row(
    process_id: &str,
    entries: &[(i64, RaciLetter)],
    roles: &[RoleFacts],
) -> Result<Vec<(i64, RaciLetter)>, Invalid> {
    let Some(process) = process(process_id) else {
        return Err(Invalid::one(
            "process",
            format!("{process_id} is not a process of the SMS"),
        ));
    };
    let mut errors = Invalid::new();
    let mut row: Vec<(i64, RaciLetter)> = entries.to_vec();
    row.sort_by_key(|(id, _)| *id);
    if row.windows(2).any(|w| w[0].0 == w[1].0) {
        errors.add("entries", "Each role may have only one letter in a row");
    }
    for (id, _) in &row {
        match roles.iter().find(|r| r.id == *id) {
            None => errors.add("entries", format!("Role {id} is not a role of the SMS")),
            Some(r) if r.retired => errors.add(
                "entries",
                format!("{} is retired and cannot take part in a process", r.name),
            ),
            Some(_) => {}
        }
    }
    let accountable = row
        .iter()
        .filter(|(_, l)| *l == RaciLetter::Accountable)
        .count();
    if accountable != 1 {
        errors.add(
            "accountable",
            format!("Exactly one role must be accountable for {}", process.name),
        );
    }
    errors.into_result(row)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::catalogue::catalogue;
    use proptest::prelude::*;

    fn day(text: &str) -> Date {
        Date::strptime("%Y-%m-%d", text).expect("date")
    }

    fn draft() -> RoleDraft {
        RoleDraft {
            name: " SMS manager ".into(),
            responsibilities: "Runs the SMS".into(),
            authorities: "Stops changes that break policy".into(),
            conformity_lead: true,
            reports_performance: false,
        }
    }

    #[test]
    fn a_sound_draft_passes_trimmed() {
        assert_eq!(draft().validate().expect("valid").name, "SMS manager");
    }

    #[test]
    fn duties_and_powers_are_required() {
        let mut d = draft();
        d.name = " ".into();
        d.responsibilities = String::new();
        d.authorities = "\n".into();
        let e = d.validate().expect_err("refused");
        assert_eq!(e.message_for("name"), Some("Name is required"));
        assert_eq!(
            e.message_for("responsibilities"),
            Some("Responsibilities is required")
        );
        assert_eq!(
            e.message_for("authorities"),
            Some("Authorities is required")
        );
    }

    #[test]
    fn a_person_holds_a_role_once_at_a_time() {
        let held = [Holding {
            user_id: 7,
            from: day("2026-01-01"),
            to: Some(day("2026-07-01")),
        }];
        let check = |user, from| check_assignment("Change manager", false, &held, user, day(from));
        assert!(check(7, "2026-06-30").is_err());
        assert!(
            check(7, "2025-06-01").is_err(),
            "would run into the holding"
        );
        assert!(check(7, "2026-07-01").is_ok(), "the end day is free");
        assert!(
            check(8, "2026-03-01").is_ok(),
            "another person may hold it too"
        );
        let e = check_assignment("Change manager", true, &[], 7, day("2026-01-01"))
            .expect_err("retired");
        assert_eq!(
            e.message_for("role_id"),
            Some("The role Change manager is retired and can no longer be assigned")
        );
    }

    #[test]
    fn an_end_is_not_before_the_start_and_comes_once() {
        let mut h = Holding {
            user_id: 1,
            from: day("2026-03-01"),
            to: None,
        };
        assert!(check_end(&h, day("2026-02-28")).is_err());
        assert!(check_end(&h, day("2026-03-01")).is_ok());
        h.to = Some(day("2026-04-01"));
        assert!(check_end(&h, day("2026-05-01")).is_err());
        assert!(h.holds_on(day("2026-03-31")) && !h.holds_on(day("2026-04-01")));
    }

    #[test]
    fn every_process_is_in_the_catalogue_once() {
        let cat = catalogue();
        let mut numbers = std::collections::HashSet::new();
        for p in PROCESSES {
            let known = cat.clause(p.id).is_some() || cat.headings.iter().any(|h| h.id == p.id);
            assert!(known, "{} is not in the catalogue", p.id);
            assert!(numbers.insert(p.number()), "{} twice", p.id);
        }
        assert_eq!(process("8.6.1").map(|p| p.number()), Some(80_601));
        assert_eq!(process("10.2").map(|p| p.number()), Some(100_200));
    }

    fn roles() -> Vec<RoleFacts> {
        (1..=4)
            .map(|id| RoleFacts {
                id,
                name: format!("Role {id}"),
                retired: id == 4,
            })
            .collect()
    }

    #[test]
    fn a_row_needs_one_owner_and_live_roles() {
        use RaciLetter::*;
        let ok = check_raci_row("8.6.1", &[(2, Responsible), (1, Accountable)], &roles())
            .expect("valid");
        assert_eq!(ok, vec![(1, Accountable), (2, Responsible)]);
        assert!(check_raci_row("8.6.1", &[(1, Accountable)], &roles()).is_ok());
        let e = check_raci_row("8.6.1", &[(1, Responsible), (2, Informed)], &roles())
            .expect_err("no owner");
        assert_eq!(
            e.message_for("accountable"),
            Some("Exactly one role must be accountable for Incident management")
        );
        assert!(check_raci_row("8.6.1", &[(1, Accountable), (2, Accountable)], &roles()).is_err());
        let e = check_raci_row("8.6.1", &[(1, Accountable), (4, Informed)], &roles())
            .expect_err("retired");
        assert_eq!(
            e.message_for("entries"),
            Some("Role 4 is retired and cannot take part in a process")
        );
        assert!(check_raci_row("8.6.1", &[(1, Accountable), (9, Informed)], &roles()).is_err());
        assert!(check_raci_row("8.6.1", &[(1, Accountable), (1, Informed)], &roles()).is_err());
        let e = check_raci_row("4.1", &[(1, Accountable)], &roles()).expect_err("process");
        assert_eq!(
            e.message_for("process"),
            Some("4.1 is not a process of the SMS")
        );
    }

    #[test]
    fn letters_read_back() {
        for l in RaciLetter::ALL {
            assert_eq!(RaciLetter::parse(l.as_str()), Some(*l));
            assert!(l.label().starts_with(l.as_str()));
        }
    }

    fn letter() -> impl Strategy<Value = RaciLetter> {
        prop::sample::select(RaciLetter::ALL.to_vec())
    }

    proptest! {
        /// Whatever is typed, a row that passes has exactly one accountable role.
        #[test]
        fn a_valid_row_has_exactly_one_a(
            entries in proptest::collection::vec((0i64..6, letter()), 0..8),
            which in 0usize..26,
        ) {
            let process = PROCESSES[which % PROCESSES.len()].id;
            if let Ok(row) = check_raci_row(process, &entries, &roles()) {
                let a = row.iter().filter(|(_, l)| *l == RaciLetter::Accountable).count();
                prop_assert_eq!(a, 1);
                prop_assert!(row.iter().all(|(id, _)| (1..=3).contains(id)));
            }
        }

        /// An open assignment never holds a role twice at once: if it is accepted, no holding
        /// of the same person is running on any day from its start.
        #[test]
        fn an_accepted_assignment_overlaps_nothing(
            spans in proptest::collection::vec((0i64..400, proptest::option::of(0i64..400)), 0..6),
            from in 0i64..400,
        ) {
            let base = day("2026-01-01");
            let at = |n: i64| base.checked_add(jiff::Span::new().days(n)).expect("day");
            let holdings: Vec<Holding> = spans
                .iter()
                .map(|&(f, len)| Holding { user_id: 1, from: at(f), to: len.map(|l| at(f + l)) })
                .collect();
            if check_assignment("R", false, &holdings, 1, at(from)).is_ok() {
                for h in &holdings {
                    for d in from..from + 400 {
                        prop_assert!(!h.holds_on(at(d)));
                    }
                }
            }
        }
    }
}
