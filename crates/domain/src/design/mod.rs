//! Design and transition of new or changed services (ISO/IEC 20000-1 8.5.2).
//!
//! A service design record (`SDR-n`) carries a new or changed service from its requirements to
//! going live: the requirements, the design, the acceptance criteria (each met or not, with its
//! evidence), the resources, the transition plan, and the **proposal** that acceptance carries
//! out: the service's fields, its catalogue entry, its SLA, the CIs to create and the existing
//! CIs to link to the service. Major changes (the tenant's change policy decides which) open
//! one; a design record may also be opened by hand.
//!
//! # Lifecycle
//!
//! ```text
//! draft ─▶ in_design ─▶ ready_for_acceptance ─▶ accepted
//!   │          ▲  │               │  └──────────▶ rejected
//!   │          └──┼───────────────┘
//!   └──────────┴──┴──────────────────────────────▶ cancelled
//! ```
//!
//! Going to `ready_for_acceptance` needs every section written and at least one acceptance
//! criterion; accepting needs every criterion met (with evidence) and a valid proposal.
//! Accepted, rejected and cancelled are terminal: a rejected design is opened again as a new
//! record, so the rejection stays on record.
//!
//! # The catalogue entry
//!
//! The service catalogue here is the set of live services together with the request-catalogue
//! items through which they are ordered. Acceptance makes the service `live` (it enters the
//! catalogue) and, when the proposal has one, creates (or, given `item_id`, updates) the
//! request-catalogue item that offers it.

use crate::cmdb::CiStatus;
use crate::service::{Criticality, ServiceDraft, ServiceStatus, text_enum};
use crate::sla::AgreementDraft;
use crate::validation::{Invalid, optional_text, required_text};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DesignStatus {
    #[default]
    Draft,
    InDesign,
    ReadyForAcceptance,
    /// Accepted for go-live: the proposal was carried out.
    Accepted,
    Rejected,
    Cancelled,
}

text_enum!(DesignStatus {
    Draft => "draft", InDesign => "in_design", ReadyForAcceptance => "ready_for_acceptance",
    Accepted => "accepted", Rejected => "rejected", Cancelled => "cancelled",
});

impl DesignStatus {
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            DesignStatus::Accepted | DesignStatus::Rejected | DesignStatus::Cancelled
        )
    }

    /// The statuses that may follow this one: the transition table.
    pub fn next(self) -> &'static [DesignStatus] {
        use DesignStatus::*;
        match self {
            Draft => &[InDesign, Cancelled],
            InDesign => &[ReadyForAcceptance, Draft, Cancelled],
            ReadyForAcceptance => &[Accepted, Rejected, InDesign, Cancelled],
            Accepted | Rejected | Cancelled => &[],
        }
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            DesignStatus::Draft => "Draft",
            DesignStatus::InDesign => "In design",
            DesignStatus::ReadyForAcceptance => "Ready for acceptance",
            DesignStatus::Accepted => "Accepted",
            DesignStatus::Rejected => "Rejected",
            DesignStatus::Cancelled => "Cancelled",
        }
    }
}

/// One acceptance criterion: what must be true before go-live, and the evidence that it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Criterion {
    pub text: String,
    #[serde(default)]
    pub met: bool,
    /// What shows it is met (a test report, a sign-off); required once it is marked met.
    #[serde(default)]
    pub evidence: String,
}

/// The service's fields as acceptance will write them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceProposal {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub criticality: Criticality,
    #[serde(default)]
    pub owner_id: Option<i64>,
}

impl ServiceProposal {
    /// The service draft acceptance writes: a service that passed acceptance is live.
    pub fn service_draft(&self) -> ServiceDraft {
        ServiceDraft {
            name: self.name.clone(),
            description: self.description.clone(),
            owner_id: self.owner_id,
            criticality: self.criticality,
            status: ServiceStatus::Live,
        }
    }
}

/// The request-catalogue item that offers the service (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CatalogueProposal {
    /// An existing item to update; `None` creates one.
    #[serde(default)]
    pub item_id: Option<i64>,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub category: String,
}

/// A CI acceptance creates, serving the service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CiProposal {
    pub class_id: i64,
    pub name: String,
    #[serde(default = "in_use")]
    pub status: CiStatus,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub attributes: Map<String, Value>,
}

fn in_use() -> CiStatus {
    CiStatus::InUse
}

/// What acceptance carries out, in one step.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Proposal {
    /// The service's fields; required for a new service, `None` leaves an existing one as it
    /// is (it still goes live).
    #[serde(default)]
    pub service: Option<ServiceProposal>,
    #[serde(default)]
    pub catalogue: Option<CatalogueProposal>,
    /// The SLA to create for the service, in the shape agreements are created with; its
    /// `service_id` is set to the service on acceptance.
    #[serde(default)]
    pub agreement: Option<AgreementDraft>,
    #[serde(default)]
    pub new_cis: Vec<CiProposal>,
    /// Existing CIs to link to the service.
    #[serde(default)]
    pub link_ci_ids: Vec<i64>,
}

/// The editable fields of a design record, validated. Status moves through its own rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DesignDraft {
    pub title: String,
    /// The existing service this design changes; `None` designs a new service.
    #[serde(default)]
    pub target_service_id: Option<i64>,
    #[serde(default)]
    pub requirements: String,
    #[serde(default)]
    pub design: String,
    #[serde(default)]
    pub resources: String,
    #[serde(default)]
    pub transition_plan: String,
    #[serde(default)]
    pub criteria: Vec<Criterion>,
    #[serde(default)]
    pub proposal: Proposal,
}

/// Most acceptance criteria, CIs to create and CIs to link one record may hold.
pub const MAX_ITEMS: usize = 200;
const MAX_SECTION: usize = 100_000;

/// Moves `errors` of a part under `prefix.`.
fn nest(into: &mut Invalid, prefix: &str, errors: Invalid) {
    for mut f in errors.errors {
        f.field = format!("{prefix}.{}", f.field);
        into.errors.push(f);
    }
}

impl DesignDraft {
    /// Checks what a person typed: the title, the sections' lengths, each criterion and the
    /// proposal's shape. Sections may still be empty (a record is written bit by bit); the
    /// lifecycle asks for them later ([`Facts`]).
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.title = required_text(&mut errors, "title", "Title", &self.title, 300);
        for (field, label, text) in [
            ("requirements", "Requirements", &mut self.requirements),
            ("design", "Design", &mut self.design),
            ("resources", "Resources", &mut self.resources),
            (
                "transition_plan",
                "Transition plan",
                &mut self.transition_plan,
            ),
        ] {
            *text = optional_text(&mut errors, field, label, text, MAX_SECTION);
        }
        if self.target_service_id.is_some_and(|id| id <= 0) {
            errors.add(
                "target_service_id",
                "Choose a service, or none for a new one",
            );
        }
        if self.criteria.len() > MAX_ITEMS {
            errors.add(
                "criteria",
                format!("At most {MAX_ITEMS} acceptance criteria"),
            );
        }
        for (i, c) in self.criteria.iter_mut().enumerate() {
            let at = format!("criteria[{i}]");
            c.text = required_text(
                &mut errors,
                &format!("{at}.text"),
                "The criterion",
                &c.text,
                2_000,
            );
            c.evidence = optional_text(
                &mut errors,
                &format!("{at}.evidence"),
                "Evidence",
                &c.evidence,
                10_000,
            );
            if c.met && c.evidence.is_empty() {
                errors.add(
                    &format!("{at}.evidence"),
                    "Say what shows the criterion is met",
                );
            }
        }
        match self.proposal.clone().validate(self.target_service_id) {
            Ok(p) => self.proposal = p,
            Err(e) => nest(&mut errors, "proposal", e),
        }
        errors.into_result(self)
    }

    /// The sections still empty, by field name.
    pub fn missing_sections(&self) -> Vec<&'static str> {
        let mut missing: Vec<&'static str> = [
            ("requirements", &self.requirements),
            ("design", &self.design),
            ("resources", &self.resources),
            ("transition_plan", &self.transition_plan),
        ]
        .into_iter()
        .filter(|(_, text)| text.trim().is_empty())
        .map(|(field, _)| field)
        .collect();
        if self.criteria.is_empty() {
            missing.push("criteria");
        }
        missing
    }

    /// What the lifecycle's guards need to know about this record; `proposal_valid` is the
    /// store's word on the parts only it can check (classes and their schemas).
    pub fn facts(&self, proposal_valid: bool) -> Facts {
        Facts {
            missing_sections: self.missing_sections(),
            unmet_criteria: self.criteria.iter().filter(|c| !c.met).count(),
            proposal_valid: proposal_valid && self.proposal.is_complete(self.target_service_id),
        }
    }
}

impl Proposal {
    /// Checks the proposal's shape for a design of `target` (an existing service, or a new
    /// one when `None`). A proposal may be incomplete while it is written; see `is_complete`.
    pub fn validate(mut self, target: Option<i64>) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        if let Some(service) = self.service.as_mut() {
            match service.service_draft().validate() {
                Ok(d) => {
                    service.name = d.name;
                    service.description = d.description;
                }
                Err(e) => nest(&mut errors, "service", e),
            }
        }
        if let Some(item) = self.catalogue.as_mut() {
            item.name = required_text(&mut errors, "catalogue.name", "Name", &item.name, 200);
            item.description = optional_text(
                &mut errors,
                "catalogue.description",
                "Description",
                &item.description,
                10_000,
            );
            item.category = optional_text(
                &mut errors,
                "catalogue.category",
                "Category",
                item.category.trim(),
                200,
            );
        }
        if let Some(agreement) = self.agreement.as_mut() {
            agreement.service_id = target;
            if let Err(e) = agreement.clone().validate() {
                nest(&mut errors, "agreement", e);
            }
        }
        if self.new_cis.len() > MAX_ITEMS {
            errors.add("new_cis", format!("At most {MAX_ITEMS} new CIs"));
        }
        for (i, ci) in self.new_cis.iter_mut().enumerate() {
            let at = format!("new_cis[{i}]");
            ci.name = required_text(&mut errors, &format!("{at}.name"), "Name", &ci.name, 300);
            if ci.class_id <= 0 {
                errors.add(&format!("{at}.class_id"), "Choose a class");
            }
        }
        self.link_ci_ids.sort_unstable();
        self.link_ci_ids.dedup();
        if self.link_ci_ids.len() > MAX_ITEMS {
            errors.add("link_ci_ids", format!("At most {MAX_ITEMS} CIs to link"));
        }
        if self.link_ci_ids.iter().any(|id| *id <= 0) {
            errors.add("link_ci_ids", "CI ids are positive numbers");
        }
        errors.into_result(self)
    }

    /// Whether acceptance has what it needs: a new service needs its fields.
    pub fn is_complete(&self, target: Option<i64>) -> bool {
        target.is_some() || self.service.is_some()
    }
}

/// What the lifecycle's guards need to know about a record.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Facts {
    /// Sections (and `criteria` when there are none) still empty.
    pub missing_sections: Vec<&'static str>,
    pub unmet_criteria: usize,
    pub proposal_valid: bool,
}

/// Why a transition was refused, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DesignRefusal {
    #[error("a design record that is {from} cannot become {to}")]
    NotAllowed {
        from: DesignStatus,
        to: DesignStatus,
    },
    #[error("write every section before asking for acceptance; still empty: {}", .0.join(", "))]
    SectionsMissing(Vec<&'static str>),
    #[error("{0} acceptance criteria are not met yet: mark each met with its evidence first")]
    CriteriaUnmet(usize),
    #[error(
        "the proposal is not complete: a new service needs its name, and every part must be valid"
    )]
    ProposalInvalid,
}

/// Moves a record from `from` to `to` if the table allows it and the facts satisfy the guards.
pub fn transition(
    from: DesignStatus,
    to: DesignStatus,
    facts: &Facts,
) -> Result<DesignStatus, DesignRefusal> {
    if !from.next().contains(&to) {
        return Err(DesignRefusal::NotAllowed { from, to });
    }
    match to {
        DesignStatus::ReadyForAcceptance | DesignStatus::Accepted
            if !facts.missing_sections.is_empty() =>
        {
            Err(DesignRefusal::SectionsMissing(
                facts.missing_sections.clone(),
            ))
        }
        DesignStatus::Accepted if facts.unmet_criteria > 0 => {
            Err(DesignRefusal::CriteriaUnmet(facts.unmet_criteria))
        }
        DesignStatus::Accepted if !facts.proposal_valid => Err(DesignRefusal::ProposalInvalid),
        _ => Ok(to),
    }
}

/// Parses `SDR-12` (any case) into 12.
pub fn parse_key(key: &str) -> Option<i64> {
    let (prefix, number) = key.trim().split_once('-')?;
    if !prefix.eq_ignore_ascii_case("SDR") {
        return None;
    }
    number.parse().ok().filter(|n: &i64| *n > 0)
}

/// The human-facing key of design record number `n`.
pub fn key(number: i64) -> String {
    format!("SDR-{number}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn draft() -> DesignDraft {
        DesignDraft {
            title: " Video conferencing ".into(),
            target_service_id: None,
            requirements: "Meetings for 200 people".into(),
            design: "Hosted platform".into(),
            resources: "Two engineers".into(),
            transition_plan: "Pilot, then everyone".into(),
            criteria: vec![Criterion {
                text: "Load test passes".into(),
                met: true,
                evidence: "Report 7".into(),
            }],
            proposal: Proposal {
                service: Some(ServiceProposal {
                    name: "Video Conferencing".into(),
                    description: String::new(),
                    criticality: Criticality::High,
                    owner_id: None,
                }),
                ..Proposal::default()
            },
        }
    }

    #[test]
    fn a_valid_draft_is_trimmed() {
        let d = draft().validate().expect("valid");
        assert_eq!(d.title, "Video conferencing");
        assert!(d.missing_sections().is_empty());
    }

    #[test]
    fn errors_name_the_field() {
        let mut d = draft();
        d.title = " ".into();
        d.criteria[0].evidence.clear();
        d.proposal.service = Some(ServiceProposal {
            name: String::new(),
            description: String::new(),
            criticality: Criticality::Low,
            owner_id: None,
        });
        d.proposal.new_cis.push(CiProposal {
            class_id: 0,
            name: "x".into(),
            status: CiStatus::InUse,
            attributes: Map::new(),
        });
        d.proposal.link_ci_ids = vec![-1];
        let e = d.validate().expect_err("invalid");
        for field in [
            "title",
            "criteria[0].evidence",
            "proposal.service.name",
            "proposal.new_cis[0].class_id",
            "proposal.link_ci_ids",
        ] {
            assert!(e.message_for(field).is_some(), "{field}: {e:?}");
        }
    }

    #[test]
    fn the_agreement_is_for_the_target() {
        let mut d = draft();
        d.target_service_id = Some(4);
        d.proposal.agreement = Some(AgreementDraft::new(
            "Video SLA",
            crate::sla::AgreementKind::Sla,
            crate::sla::RecordKind::Incident,
            Vec::new(),
        ));
        match d.validate() {
            Ok(d) => assert_eq!(d.proposal.agreement.and_then(|a| a.service_id), Some(4)),
            Err(e) => assert!(e.message_for("proposal.agreement.targets").is_some()),
        }
    }

    #[test]
    fn readiness_needs_every_section_and_acceptance_every_criterion() {
        let mut d = draft();
        d.design.clear();
        let facts = d.facts(true);
        assert_eq!(
            transition(
                DesignStatus::InDesign,
                DesignStatus::ReadyForAcceptance,
                &facts
            ),
            Err(DesignRefusal::SectionsMissing(vec!["design"]))
        );
        let mut d = draft();
        d.criteria[0].met = false;
        let facts = d.facts(true);
        assert_eq!(
            transition(
                DesignStatus::InDesign,
                DesignStatus::ReadyForAcceptance,
                &facts
            ),
            Ok(DesignStatus::ReadyForAcceptance)
        );
        assert_eq!(
            transition(
                DesignStatus::ReadyForAcceptance,
                DesignStatus::Accepted,
                &facts
            ),
            Err(DesignRefusal::CriteriaUnmet(1))
        );
        let mut d = draft();
        d.proposal.service = None;
        assert_eq!(
            transition(
                DesignStatus::ReadyForAcceptance,
                DesignStatus::Accepted,
                &d.facts(true)
            ),
            Err(DesignRefusal::ProposalInvalid)
        );
        d.target_service_id = Some(3);
        assert_eq!(
            transition(
                DesignStatus::ReadyForAcceptance,
                DesignStatus::Accepted,
                &d.facts(true)
            ),
            Ok(DesignStatus::Accepted)
        );
        assert!(transition(DesignStatus::Draft, DesignStatus::Accepted, &d.facts(true)).is_err());
    }

    #[test]
    fn keys_round_trip() {
        assert_eq!(parse_key(&key(12)), Some(12));
        assert_eq!(parse_key("sdr-3"), Some(3));
        assert_eq!(parse_key("CHG-3"), None);
        assert_eq!(parse_key("SDR-0"), None);
        for s in DesignStatus::ALL {
            assert_eq!(DesignStatus::parse(s.as_str()), Some(*s));
        }
    }

    fn status() -> impl Strategy<Value = DesignStatus> {
        prop::sample::select(DesignStatus::ALL.to_vec())
    }

    fn facts() -> impl Strategy<Value = Facts> {
        (any::<bool>(), 0usize..3, any::<bool>()).prop_map(|(missing, unmet, valid)| Facts {
            missing_sections: if missing { vec!["design"] } else { Vec::new() },
            unmet_criteria: unmet,
            proposal_valid: valid,
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// Every walk stays on the table, terminal statuses never move, and a record reaches
        /// `accepted` only through readiness, with every section, criterion and the proposal.
        #[test]
        fn walks_obey_the_table(steps in prop::collection::vec((status(), facts()), 0..40)) {
            let mut at = DesignStatus::Draft;
            let mut was_ready = false;
            for (to, facts) in steps {
                if let Ok(next) = transition(at, to, &facts) {
                    prop_assert!(!at.is_terminal());
                    prop_assert!(at.next().contains(&next));
                    if next == DesignStatus::Accepted {
                        prop_assert!(was_ready);
                        prop_assert!(facts.missing_sections.is_empty());
                        prop_assert_eq!(facts.unmet_criteria, 0);
                        prop_assert!(facts.proposal_valid);
                    }
                    if next == DesignStatus::ReadyForAcceptance {
                        prop_assert!(facts.missing_sections.is_empty());
                    }
                    was_ready = next == DesignStatus::ReadyForAcceptance;
                    at = next;
                }
            }
        }

        #[test]
        fn every_status_reaches_an_end(start in status()) {
            // From any non-terminal status, cancelling is always allowed.
            if !start.is_terminal() {
                prop_assert_eq!(
                    transition(start, DesignStatus::Cancelled, &Facts::default()),
                    Ok(DesignStatus::Cancelled)
                );
            } else {
                prop_assert!(start.next().is_empty());
            }
        }
    }
}
