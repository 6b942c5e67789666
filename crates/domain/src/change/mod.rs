//! Change management (ISO/IEC 20000-1 8.5.1): changes, their lifecycle, risk, approvals, the
//! forward schedule of change and its calendar feed, and the change dashboard's figures.
//!
//! - [`lifecycle`]: change types and statuses, the transition table per type and its guards.
//! - [`risk`]: the admin-defined risk questionnaire and how answers give a risk level.
//! - [`approval`]: which approval stage a change needs, who may decide, and what the
//!   decisions add up to.
//! - [`schedule`]: planned windows, blackout (freeze) windows and collision detection.
//! - [`ical`]: the forward schedule as an iCalendar (RFC 5545) feed.
//! - [`metrics`]: change success rate and emergency-change ratio.
//! - [`policy`]: per tenant, what is under change control and what counts as a major change.
//!
//! Times are microseconds since the Unix epoch, UTC ([`crate::sla::clock::Micros`]), as the
//! store keeps instants. Nothing here reads a clock: "now" is always an argument.

pub mod approval;
pub mod ical;
pub mod lifecycle;
pub mod metrics;
pub mod policy;
pub mod risk;
pub mod schedule;

pub use approval::{
    ApprovalPolicy, ApprovalRule, ApprovalStage, ApprovalState, Board, Decision, Delegation,
    Verdict,
};
pub use lifecycle::{ChangeRefusal, ChangeStatus, ChangeType, Facts};
pub use policy::ChangePolicy;
pub use risk::{Questionnaire, RiskLevel};
pub use schedule::{Blackout, Conflict, ScheduleIndex, ScheduledChange, Window};

use crate::validation::{Invalid, optional_text, required_text};
use serde::{Deserialize, Serialize};

/// The editable fields of a change, validated. Status, risk and approvals move through their
/// own rules, not through edits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeDraft {
    pub title: String,
    pub change_type: ChangeType,
    /// The standard-change template this change follows; required for, and only for, a
    /// standard change: the template is what was pre-approved.
    pub template_id: Option<i64>,
    /// Why the change is needed.
    pub reason: String,
    pub implementation_plan: String,
    pub backout_plan: String,
    pub test_plan: String,
    pub window: Option<Window>,
    pub ci_ids: Vec<i64>,
    pub service_ids: Vec<i64>,
    pub incident_ids: Vec<i64>,
    pub problem_ids: Vec<i64>,
}

/// Most CIs or services one change may name; beyond that it is a programme, not a change.
pub const MAX_AFFECTED: usize = 10_000;

impl ChangeDraft {
    /// Checks the fields a person typed; text is trimmed where it is a one-liner, id lists are
    /// sorted and deduplicated so that collisions and journals compare them directly.
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.title = required_text(&mut errors, "title", "Title", &self.title, 300);
        self.reason = optional_text(&mut errors, "reason", "Reason", &self.reason, 50_000);
        for (field, label, text) in [
            (
                "implementation_plan",
                "Implementation plan",
                &mut self.implementation_plan,
            ),
            ("backout_plan", "Back-out plan", &mut self.backout_plan),
            ("test_plan", "Test plan", &mut self.test_plan),
        ] {
            *text = optional_text(&mut errors, field, label, text, 100_000);
        }
        match (self.change_type, self.template_id) {
            (ChangeType::Standard, None) => errors.add(
                "template_id",
                "A standard change follows a pre-approved template: choose one",
            ),
            (ChangeType::Normal | ChangeType::Emergency, Some(_)) => errors.add(
                "template_id",
                "Only standard changes follow a template; choose the standard type or remove it",
            ),
            _ => {}
        }
        if let Some(window) = self.window
            && let Err(e) = Window::new(window.start, window.end)
        {
            errors.errors.extend(e.errors);
        }
        for (field, label, ids) in [
            ("ci_ids", "Configuration items", &mut self.ci_ids),
            ("service_ids", "Services", &mut self.service_ids),
            ("incident_ids", "Incidents", &mut self.incident_ids),
            ("problem_ids", "Problems", &mut self.problem_ids),
        ] {
            ids.sort_unstable();
            ids.dedup();
            if ids.len() > MAX_AFFECTED {
                errors.add(field, format!("{label}: at most {MAX_AFFECTED} per change"));
            }
        }
        errors.into_result(self)
    }

    /// Whether both the implementation and the back-out plan are written, which a normal or
    /// emergency change needs before it leaves draft.
    pub fn has_plans(&self) -> bool {
        !self.implementation_plan.trim().is_empty() && !self.backout_plan.trim().is_empty()
    }
}

/// Reads `CHG-77` into its number.
pub fn parse_key(key: &str) -> Option<i64> {
    let (prefix, number) = key.trim().split_once('-')?;
    if !prefix.eq_ignore_ascii_case("CHG") {
        return None;
    }
    number.parse().ok().filter(|n: &i64| *n > 0)
}

/// The human-facing key of change number `n`.
pub fn key(number: i64) -> String {
    format!("CHG-{number}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> ChangeDraft {
        ChangeDraft {
            title: " Patch the payroll database ".into(),
            change_type: ChangeType::Normal,
            template_id: None,
            reason: "CVE fix".into(),
            implementation_plan: "apply patch".into(),
            backout_plan: "restore snapshot".into(),
            test_plan: String::new(),
            window: Some(Window { start: 10, end: 20 }),
            ci_ids: vec![3, 1, 3],
            service_ids: vec![],
            incident_ids: vec![],
            problem_ids: vec![],
        }
    }

    #[test]
    fn a_draft_is_trimmed_and_its_ids_deduplicated() {
        let ok = draft().validate().expect("valid");
        assert_eq!(ok.title, "Patch the payroll database");
        assert_eq!(ok.ci_ids, vec![1, 3]);
        assert!(ok.has_plans());
    }

    #[test]
    fn standard_changes_need_a_template_and_others_must_not_have_one() {
        let mut d = draft();
        d.change_type = ChangeType::Standard;
        let err = d.clone().validate().expect_err("no template");
        assert!(err.message_for("template_id").is_some());
        d.template_id = Some(4);
        assert!(d.validate().is_ok());
        let mut d = draft();
        d.template_id = Some(4);
        assert!(d.validate().is_err());
    }

    #[test]
    fn a_backwards_window_is_refused() {
        let mut d = draft();
        d.window = Some(Window { start: 20, end: 10 });
        let err = d.validate().expect_err("backwards");
        assert!(err.message_for("window").is_some());
    }

    #[test]
    fn keys() {
        assert_eq!(parse_key(" chg-77"), Some(77));
        assert_eq!(parse_key("INC-77"), None);
        assert_eq!(parse_key("CHG-0"), None);
        assert_eq!(key(12), "CHG-12");
    }
}
