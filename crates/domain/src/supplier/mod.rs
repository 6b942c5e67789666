//! Supplier management (ISO/IEC 20000-1 8.3.4.1 for external suppliers, 8.3.4.2 for internal
//! suppliers and customers acting as a supplier, 8.3.1-c for the named owner of each
//! relationship): the register of suppliers with their owner, interfaces and selection
//! evaluation; their contracts in approved versions (`contract`); the reviews of how they did
//! (`review`); and the disputes with them (`dispute`). `evidence` judges the register for the
//! readiness view and decides which reminders are due.
//!
//! Everything here is pure: the store reads the facts, these functions decide.

pub mod contract;
pub mod dispute;
pub mod evidence;
pub mod review;

use crate::validation::{Invalid, optional_text, required_text};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

pub const MAX_NAME: usize = 200;
pub const MAX_TEXT: usize = 10_000;

/// Who the supplier is to the organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", schema(as = SupplierKind))]
pub enum SupplierKind {
    /// Another organisation, under a contract (8.3.4.1).
    External,
    /// A part of the same organisation outside the SMS, under an agreement (8.3.4.2).
    Internal,
    /// A customer who also supplies something the services need (8.3.4.2).
    CustomerAsSupplier,
}

crate::service::text_enum!(SupplierKind {
    External => "external", Internal => "internal", CustomerAsSupplier => "customer_as_supplier",
});

impl SupplierKind {
    pub fn label(self) -> &'static str {
        match self {
            SupplierKind::External => "External supplier",
            SupplierKind::Internal => "Internal supplier",
            SupplierKind::CustomerAsSupplier => "Customer acting as a supplier",
        }
    }

    /// What the written terms are called: a contract with an external supplier, an agreement
    /// with the others (8.3.4.2 b).
    pub fn terms_word(self) -> &'static str {
        match self {
            SupplierKind::External => "contract",
            _ => "agreement",
        }
    }
}

/// Whether the organisation still works with the supplier. An ended supplier keeps its history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", schema(as = SupplierStatus))]
pub enum SupplierStatus {
    Active,
    Ended,
}

crate::service::text_enum!(SupplierStatus { Active => "active", Ended => "ended" });

impl SupplierStatus {
    pub fn label(self) -> &'static str {
        match self {
            SupplierStatus::Active => "Active",
            SupplierStatus::Ended => "Ended",
        }
    }
}

/// The outcome of a selection evaluation (8.3.4.1 b).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", schema(as = SupplierEvaluationResult))]
pub enum EvaluationResult {
    Approved,
    Rejected,
}

crate::service::text_enum!(EvaluationResult { Approved => "approved", Rejected => "rejected" });

impl EvaluationResult {
    pub fn label(self) -> &'static str {
        match self {
            EvaluationResult::Approved => "Approved",
            EvaluationResult::Rejected => "Rejected",
        }
    }
}

/// The editable fields of a supplier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplierDraft {
    pub name: String,
    pub kind: SupplierKind,
    /// What they supply.
    pub supplies: String,
    /// Who looks after the relationship, the contract and the follow-up (8.3.4.1 a).
    pub owner_id: Option<i64>,
    /// The people on both sides and how work is handed over (8.3.4.1 e).
    pub contacts: String,
    /// Who is called, in which order, when things go wrong (8.3.4.1 e).
    pub escalation: String,
    pub status: SupplierStatus,
    /// The services the supplier supports.
    pub service_ids: Vec<i64>,
    /// The selection criteria, fixed before the evaluation (8.3.4.1 b).
    pub evaluation_criteria: String,
    pub evaluation_result: Option<EvaluationResult>,
    pub evaluated_on: Option<Date>,
    pub evaluator_id: Option<i64>,
}

impl SupplierDraft {
    /// Trims and checks the fields; every problem is reported at once. An evaluation is all or
    /// nothing: criteria, result, date (not after `today`) and evaluator together, though the
    /// criteria may be written down before the evaluation takes place. That the owner and
    /// evaluator are active users of the tenant, the services the tenant's, and the name unique
    /// is the store's to check.
    pub fn validate(mut self, today: Date) -> Result<SupplierDraft, Invalid> {
        let mut errors = Invalid::new();
        self.name = required_text(&mut errors, "name", "Name", &self.name, MAX_NAME);
        self.supplies = required_text(
            &mut errors,
            "supplies",
            "What they supply",
            &self.supplies,
            MAX_TEXT,
        );
        if self.owner_id.is_none() {
            errors.add(
                "owner_id",
                "An owner is required: one person looks after each supplier",
            );
        }
        self.contacts = optional_text(
            &mut errors,
            "contacts",
            "Interface contacts",
            self.contacts.trim(),
            MAX_TEXT,
        );
        self.escalation = optional_text(
            &mut errors,
            "escalation",
            "Escalation route",
            self.escalation.trim(),
            MAX_TEXT,
        );
        self.evaluation_criteria = optional_text(
            &mut errors,
            "evaluation_criteria",
            "Evaluation criteria",
            self.evaluation_criteria.trim(),
            MAX_TEXT,
        );
        let evaluated = self.evaluation_result.is_some()
            || self.evaluated_on.is_some()
            || self.evaluator_id.is_some();
        if evaluated {
            if self.evaluation_criteria.is_empty() {
                errors.add(
                    "evaluation_criteria",
                    "An evaluation needs the criteria it was made against",
                );
            }
            if self.evaluation_result.is_none() {
                errors.add(
                    "evaluation_result",
                    "Say whether the evaluation approved or rejected the supplier",
                );
            }
            match self.evaluated_on {
                None => errors.add("evaluated_on", "Give the date of the evaluation"),
                Some(on) if on > today => errors.add(
                    "evaluated_on",
                    "The evaluation date cannot be in the future",
                ),
                Some(_) => {}
            }
            if self.evaluator_id.is_none() {
                errors.add("evaluator_id", "Name who evaluated the supplier");
            }
        }
        self.service_ids.sort_unstable();
        self.service_ids.dedup();
        errors.into_result(self)
    }
}

/// Why a step was not taken: the record's state does not allow it, or its fields are wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Invalid(#[from] Invalid),
}

/// `day` plus `months` calendar months (the last day of a shorter month when the day is
/// missing from it), saturating at the end of the calendar.
pub fn add_months(day: Date, months: i64) -> Date {
    day.checked_add(jiff::Span::new().months(months))
        .unwrap_or(Date::MAX)
}

/// `day` plus `days` days, saturating.
pub fn add_days(day: Date, days: i64) -> Date {
    day.checked_add(jiff::Span::new().days(days))
        .unwrap_or(if days < 0 { Date::MIN } else { Date::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn day(text: &str) -> Date {
        Date::strptime("%Y-%m-%d", text).expect("date")
    }

    fn draft() -> SupplierDraft {
        SupplierDraft {
            name: " Northwind Carrier ".into(),
            kind: SupplierKind::External,
            supplies: "WAN links".into(),
            owner_id: Some(1),
            contacts: " NOC: noc@northwind.example ".into(),
            escalation: "Account manager, then director".into(),
            status: SupplierStatus::Active,
            service_ids: vec![3, 1, 3],
            evaluation_criteria: String::new(),
            evaluation_result: None,
            evaluated_on: None,
            evaluator_id: None,
        }
    }

    #[test]
    fn a_sound_draft_is_trimmed_and_its_services_deduplicated() {
        let d = draft().validate(day("2026-06-01")).expect("valid");
        assert_eq!(d.name, "Northwind Carrier");
        assert_eq!(d.contacts, "NOC: noc@northwind.example");
        assert_eq!(d.service_ids, vec![1, 3]);
    }

    #[test]
    fn name_supplies_and_owner_are_required() {
        let mut d = draft();
        d.name = " ".into();
        d.supplies = String::new();
        d.owner_id = None;
        let e = d.validate(day("2026-06-01")).expect_err("refused");
        assert_eq!(e.message_for("name"), Some("Name is required"));
        assert_eq!(
            e.message_for("supplies"),
            Some("What they supply is required")
        );
        assert!(e.message_for("owner_id").is_some());
    }

    #[test]
    fn an_evaluation_is_complete_and_not_in_the_future() {
        let mut d = draft();
        d.evaluation_criteria = "Price, coverage".into();
        assert!(
            d.clone().validate(day("2026-06-01")).is_ok(),
            "criteria first"
        );
        d.evaluation_result = Some(EvaluationResult::Approved);
        let e = d.clone().validate(day("2026-06-01")).expect_err("partial");
        assert!(e.message_for("evaluated_on").is_some());
        assert!(e.message_for("evaluator_id").is_some());
        d.evaluated_on = Some(day("2026-06-02"));
        d.evaluator_id = Some(2);
        let e = d.clone().validate(day("2026-06-01")).expect_err("future");
        assert_eq!(
            e.message_for("evaluated_on"),
            Some("The evaluation date cannot be in the future")
        );
        assert!(d.validate(day("2026-06-02")).is_ok());
    }

    #[test]
    fn months_are_added_by_the_calendar() {
        assert_eq!(add_months(day("2026-01-31"), 1), day("2026-02-28"));
        assert_eq!(add_months(day("2026-03-15"), 12), day("2027-03-15"));
        assert_eq!(add_days(day("2026-03-01"), -1), day("2026-02-28"));
    }

    #[test]
    fn kinds_and_statuses_read_back() {
        for k in SupplierKind::ALL {
            assert_eq!(SupplierKind::parse(k.as_str()), Some(*k));
        }
        assert_eq!(SupplierKind::Internal.terms_word(), "agreement");
        for s in SupplierStatus::ALL {
            assert_eq!(SupplierStatus::parse(s.as_str()), Some(*s));
        }
    }
}
