//! Service level management: agreements, their targets and the clocks they run on records.
//!
//! An [`Agreement`] is an SLA with customers, an OLA with an internal team or an underpinning
//! contract (UC) with a supplier. All three use one engine: each target (first response,
//! resolution, or an admin-defined milestone) becomes a clock on the records the agreement
//! covers, counted in business time on the agreement's calendar.
//!
//! # Which agreements cover a record
//!
//! - **SLA**: exactly one, the most specific active SLA that matches the record: one for its
//!   customer *and* service, else one for its customer, else one for its service, else the
//!   default (neither). Ties go to the oldest agreement. Changing the record's customer or
//!   service may select another SLA; its clocks are then recounted from the record's original
//!   start under the new agreement's rules.
//! - **OLA**: every active OLA of a team the record has been assigned to. Its clocks start when
//!   the record first reaches the team and pause while the record is with another team.
//! - **UC**: every active UC that matches the record's service (and customer, if set). Its
//!   clocks run only while an incident is pending on a third party.
//!
//! A target applies to the record's priority, or to any priority when it names none; the
//! priority-specific target wins. Clocks are derived from the record's history ([`derive`])
//! by a pure function, so a live update and `steward sla recompute` give the same answer.

pub mod business_time;
pub mod clock;
pub mod rule;
#[cfg(test)]
mod tests;

use crate::incident::{PendingReason, Priority, Status};
use crate::request::RequestStatus;
use crate::validation::{Invalid, required_text};
use clock::{Micros, Track};
use rule::{Cond, Facts, Rule};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use clock::{ClockState, Reading, read};

/// Agreement names are at most this many characters.
pub const MAX_NAME: usize = 200;
/// Targets are at most ten years of business time.
pub const MAX_MINUTES: u32 = 10 * 365 * 24 * 60;
/// The warning threshold when none is given: three quarters of the target.
pub const DEFAULT_WARN_PERCENT: u8 = 75;
/// The metric every kind of record has: time to resolve (incidents) or fulfil (requests).
pub const RESOLUTION: &str = "resolution";
/// Time to an agent's first reply; incidents only.
pub const FIRST_RESPONSE: &str = "first_response";

/// Who the agreement is with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AgreementKind {
    /// Service level agreement with customers.
    Sla,
    /// Operational level agreement with an internal team.
    Ola,
    /// Underpinning contract with a supplier.
    Uc,
}

crate::service::text_enum!(AgreementKind { Sla => "sla", Ola => "ola", Uc => "uc" });

/// The kind of record an agreement's clocks run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Incident,
    Request,
}

crate::service::text_enum!(RecordKind { Incident => "incident", Request => "request" });

impl RecordKind {
    /// The statuses (and `pending:<reason>` for incidents) that conditions may name.
    pub fn status_tokens(self) -> Vec<String> {
        match self {
            RecordKind::Incident => Status::ALL
                .iter()
                .map(|s| s.as_str().to_owned())
                .chain(
                    PendingReason::ALL
                        .iter()
                        .map(|r| format!("pending:{}", r.as_str())),
                )
                .collect(),
            RecordKind::Request => RequestStatus::ALL
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
        }
    }

    /// Statuses in which the record's clocks pause unless the agreement says otherwise.
    pub fn default_pause(self) -> Vec<String> {
        match self {
            RecordKind::Incident => vec!["pending:awaiting_customer".into()],
            RecordKind::Request => vec![RequestStatus::PendingApproval.as_str().into()],
        }
    }

    /// Statuses that end the record's work, and with it the resolution clock.
    fn finished(self) -> Vec<String> {
        let done: &[&str] = match self {
            RecordKind::Incident => &["resolved", "closed", "cancelled"],
            RecordKind::Request => &["fulfilled", "closed", "rejected", "cancelled"],
        };
        done.iter().map(|s| (*s).to_owned()).collect()
    }
}

/// An admin-defined point a record must reach in time, such as "assigned" or "diagnosed".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Milestone {
    /// Lower case letters, digits and `_`, starting with a letter: what targets name.
    pub name: String,
    /// Reached when the record enters one of these statuses...
    #[serde(default)]
    pub reached_in: Vec<String>,
    /// ...or when an agent is assigned.
    #[serde(default)]
    pub reached_when_assigned: bool,
}

/// A time to meet for one metric, for one priority or for any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Target {
    /// `first_response`, `resolution` or a milestone's name.
    pub metric: String,
    /// `None`: any priority without a target of its own.
    #[serde(default)]
    pub priority: Option<Priority>,
    /// Business minutes on the agreement's calendar.
    pub minutes: u32,
}

/// When an escalation fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Threshold {
    Warning,
    Breach,
}

crate::service::text_enum!(Threshold { Warning => "warning", Breach => "breach" });

/// What happens when a clock reaches a threshold, besides notifying the assignee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Escalation {
    pub on: Threshold,
    /// Notify this user (a team lead or service manager).
    #[serde(default)]
    pub notify_user_id: Option<i64>,
    /// Hand the record to this team.
    #[serde(default)]
    pub reassign_team_id: Option<i64>,
}

/// An agreement as a person types it; [`AgreementDraft::validate`] checks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgreementDraft {
    pub name: String,
    pub kind: AgreementKind,
    #[serde(default = "incident")]
    pub record_kind: RecordKind,
    /// Narrows an SLA or UC to one customer's records.
    #[serde(default)]
    pub customer_id: Option<i64>,
    /// Narrows an SLA or UC to one service's records.
    #[serde(default)]
    pub service_id: Option<i64>,
    /// The team an OLA binds.
    #[serde(default)]
    pub team_id: Option<i64>,
    /// The supplier a UC binds.
    #[serde(default)]
    pub supplier: String,
    /// The business calendar clocks count on; `None` counts every hour of every day.
    #[serde(default)]
    pub calendar_id: Option<i64>,
    #[serde(default = "default_warn")]
    pub warn_percent: u8,
    /// Statuses in which clocks pause; absent means the record kind's default.
    #[serde(default)]
    pub pause_in: Option<Vec<String>>,
    /// An SLA's clocks start when the record first enters one of these statuses; empty (the
    /// default) starts them when it is opened. OLAs and UCs start on their own terms.
    #[serde(default)]
    pub start_in: Vec<String>,
    #[serde(default)]
    pub milestones: Vec<Milestone>,
    pub targets: Vec<Target>,
    #[serde(default)]
    pub escalations: Vec<Escalation>,
    #[serde(default = "yes")]
    pub active: bool,
}

impl AgreementDraft {
    /// An active agreement with these targets and every other setting at its default: no
    /// scope, 24×7, warning at 75 %, the record kind's pause statuses, starting at opening.
    pub fn new(
        name: &str,
        kind: AgreementKind,
        record_kind: RecordKind,
        targets: Vec<Target>,
    ) -> AgreementDraft {
        AgreementDraft {
            name: name.to_owned(),
            kind,
            record_kind,
            customer_id: None,
            service_id: None,
            team_id: None,
            supplier: String::new(),
            calendar_id: None,
            warn_percent: DEFAULT_WARN_PERCENT,
            pause_in: None,
            start_in: Vec::new(),
            milestones: Vec::new(),
            targets,
            escalations: Vec::new(),
            active: true,
        }
    }
}

fn incident() -> RecordKind {
    RecordKind::Incident
}
fn default_warn() -> u8 {
    DEFAULT_WARN_PERCENT
}
fn yes() -> bool {
    true
}

/// A validated agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Agreement {
    draft: AgreementDraft,
    pause_in: Vec<String>,
}

impl AgreementDraft {
    /// Checks the agreement and fills in defaults (pause statuses).
    pub fn validate(mut self) -> Result<Agreement, Invalid> {
        let mut errors = Invalid::new();
        self.name = required_text(&mut errors, "name", "Name", &self.name, MAX_NAME);
        self.supplier = self.supplier.trim().to_owned();
        self.check_scope(&mut errors);
        if !(1..=99).contains(&self.warn_percent) {
            errors.add(
                "warn_percent",
                "The warning threshold is a percentage from 1 to 99",
            );
        }
        let tokens = self.record_kind.status_tokens();
        let pause_in = self
            .pause_in
            .clone()
            .unwrap_or_else(|| self.record_kind.default_pause());
        check_tokens(&mut errors, "pause_in", &pause_in, &tokens);
        check_tokens(&mut errors, "start_in", &self.start_in, &tokens);
        if self.kind != AgreementKind::Sla && !self.start_in.is_empty() {
            errors.add(
                "start_in",
                "Only an SLA says when its clocks start: an OLA's start when its team has the record, a UC's when the record waits on the supplier",
            );
        }
        self.check_milestones(&mut errors, &tokens);
        self.check_targets(&mut errors);
        self.check_escalations(&mut errors);
        self.pause_in = Some(pause_in.clone());
        errors.into_result(Agreement {
            draft: self,
            pause_in,
        })
    }

    fn check_scope(&self, errors: &mut Invalid) {
        let request = self.record_kind == RecordKind::Request;
        match self.kind {
            AgreementKind::Sla if self.team_id.is_some() => {
                errors.add("team_id", "Only an OLA binds a team")
            }
            AgreementKind::Ola if self.team_id.is_none() => {
                errors.add("team_id", "An OLA needs the team it binds")
            }
            AgreementKind::Uc if self.supplier.is_empty() => {
                errors.add("supplier", "An underpinning contract needs its supplier")
            }
            _ => {}
        }
        if self.kind != AgreementKind::Uc && !self.supplier.is_empty() {
            errors.add("supplier", "Only an underpinning contract names a supplier");
        }
        if request && self.kind != AgreementKind::Sla {
            errors.add(
                "kind",
                "Requests carry SLAs only: their fulfilment tasks, not the request, go to teams and suppliers",
            );
        }
        if request && (self.customer_id.is_some() || self.service_id.is_some()) {
            errors.add(
                "service_id",
                "Requests have no customer or service to narrow by: leave both empty",
            );
        }
    }

    fn check_milestones(&self, errors: &mut Invalid, tokens: &[String]) {
        for (i, m) in self.milestones.iter().enumerate() {
            let field = format!("milestones[{i}]");
            if !is_metric_name(&m.name) || m.name == FIRST_RESPONSE || m.name == RESOLUTION {
                errors.add(
                    &format!("{field}.name"),
                    "A milestone name is 1 to 40 lower case letters, digits or _, starting with a letter, and not first_response or resolution",
                );
            }
            if self.milestones[..i].iter().any(|o| o.name == m.name) {
                errors.add(
                    &format!("{field}.name"),
                    format!("Milestone `{}` is defined twice", m.name),
                );
            }
            if m.reached_in.is_empty() && !m.reached_when_assigned {
                errors.add(
                    &format!("{field}.reached_in"),
                    "Say when the milestone is reached: a status, or when an agent is assigned",
                );
            }
            check_tokens(
                errors,
                &format!("{field}.reached_in"),
                &m.reached_in,
                tokens,
            );
        }
    }

    fn check_targets(&self, errors: &mut Invalid) {
        if self.targets.is_empty() {
            errors.add("targets", "An agreement needs at least one target");
        }
        for (i, t) in self.targets.iter().enumerate() {
            let field = format!("targets[{i}]");
            let known = t.metric == RESOLUTION
                || (t.metric == FIRST_RESPONSE && self.record_kind == RecordKind::Incident)
                || self.milestones.iter().any(|m| m.name == t.metric);
            if !known {
                errors.add(
                    &format!("{field}.metric"),
                    format!(
                        "Unknown metric `{}`: use {}, or a milestone defined on this agreement",
                        t.metric,
                        match self.record_kind {
                            RecordKind::Incident => "first_response, resolution",
                            RecordKind::Request => "resolution",
                        }
                    ),
                );
            }
            if !(1..=MAX_MINUTES).contains(&t.minutes) {
                errors.add(
                    &format!("{field}.minutes"),
                    format!("A target is from 1 to {MAX_MINUTES} business minutes"),
                );
            }
            if self.record_kind == RecordKind::Request && t.priority.is_some() {
                errors.add(
                    &format!("{field}.priority"),
                    "Requests have no priority: leave it empty",
                );
            }
            if self.targets[..i]
                .iter()
                .any(|o| o.metric == t.metric && o.priority == t.priority)
            {
                errors.add(
                    &format!("{field}.priority"),
                    format!(
                        "`{}` has two targets for {}",
                        t.metric,
                        t.priority.map_or("any priority", Priority::as_str)
                    ),
                );
            }
        }
    }

    fn check_escalations(&self, errors: &mut Invalid) {
        for (i, e) in self.escalations.iter().enumerate() {
            if e.notify_user_id.is_none() && e.reassign_team_id.is_none() {
                errors.add(
                    &format!("escalations[{i}]"),
                    "An escalation notifies someone, reassigns the record, or both",
                );
            }
        }
    }
}

fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && name.len() <= 40
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn check_tokens(errors: &mut Invalid, field: &str, given: &[String], known: &[String]) {
    for token in given {
        if !known.contains(token) {
            errors.add(
                field,
                format!("Unknown status `{token}`: use one of {}", known.join(", ")),
            );
        }
    }
}

impl Agreement {
    pub fn draft(&self) -> &AgreementDraft {
        &self.draft
    }

    pub fn name(&self) -> &str {
        &self.draft.name
    }

    pub fn kind(&self) -> AgreementKind {
        self.draft.kind
    }

    pub fn warn_percent(&self) -> u8 {
        self.draft.warn_percent
    }

    /// Whether the agreement covers a record of `kind` with these facts, team aside.
    fn covers(&self, kind: RecordKind, facts: &Facts) -> bool {
        let d = &self.draft;
        d.active
            && d.record_kind == kind
            && d.customer_id.is_none_or(|c| facts.customer_id == Some(c))
            && d.service_id.is_none_or(|s| facts.service_id == Some(s))
    }

    /// SLA precedence: customer and service, customer, service, default.
    fn specificity(&self) -> u8 {
        2 * u8::from(self.draft.customer_id.is_some()) + u8::from(self.draft.service_id.is_some())
    }

    /// The target for `metric` at `priority`, in business minutes.
    pub fn target(&self, metric: &str, priority: Option<Priority>) -> Option<u32> {
        let for_metric = || {
            self.draft
                .targets
                .iter()
                .filter(move |t| t.metric == metric)
        };
        for_metric()
            .find(|t| t.priority.is_some() && t.priority == priority)
            .or_else(|| for_metric().find(|t| t.priority.is_none()))
            .map(|t| t.minutes)
    }

    /// The metrics this agreement has targets for, in the order first named.
    pub fn metrics(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for t in &self.draft.targets {
            if !out.contains(&t.metric.as_str()) {
                out.push(&t.metric);
            }
        }
        out
    }

    /// When the clock for `metric` starts, pauses and stops.
    pub fn rule(&self, metric: &str) -> Rule {
        let kind = self.draft.record_kind;
        let stop = match metric {
            FIRST_RESPONSE => Cond::Any(vec![Cond::Responded, Cond::StatusIn(kind.finished())]),
            RESOLUTION => Cond::StatusIn(kind.finished()),
            name => match self.draft.milestones.iter().find(|m| m.name == name) {
                Some(m) => {
                    let mut any = vec![Cond::StatusIn(m.reached_in.clone())];
                    if m.reached_when_assigned {
                        any.push(Cond::Assigned);
                    }
                    Cond::Any(any)
                }
                None => Cond::Always,
            },
        };
        let paused = Cond::StatusIn(self.pause_in.clone());
        let (start, pause) = match (self.draft.kind, self.draft.team_id) {
            (AgreementKind::Ola, Some(team)) => (
                Cond::WithTeam(team),
                Cond::Any(vec![paused, Cond::Not(Box::new(Cond::WithTeam(team)))]),
            ),
            (AgreementKind::Uc, _) => {
                let waiting = Cond::StatusIn(vec!["pending:third_party".into()]);
                (waiting.clone(), Cond::Not(Box::new(waiting)))
            }
            _ if self.draft.start_in.is_empty() => (Cond::Always, paused),
            _ => (Cond::StatusIn(self.draft.start_in.clone()), paused),
        };
        Rule { start, pause, stop }
    }
}

/// An agreement with its id, as the store hands it over.
#[derive(Debug, Clone)]
pub struct Numbered<'a> {
    pub id: i64,
    pub agreement: &'a Agreement,
}

/// A clock a record should carry, as derived from its history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    /// `sla`, `ola:<agreement id>` or `uc:<agreement id>`: which of the record's agreements.
    pub slot: String,
    pub metric: String,
    pub agreement_id: i64,
    pub minutes: u32,
    pub track: Track,
}

/// The clocks a record of `kind` carries, given its history: the facts after each change, in
/// time order, the last being how it is now.
pub fn derive(
    kind: RecordKind,
    history: &[(Micros, Facts)],
    agreements: &[Numbered<'_>],
) -> Vec<Derived> {
    let Some((_, now)) = history.last() else {
        return Vec::new();
    };
    let mut chosen: BTreeMap<String, &Numbered<'_>> = BTreeMap::new();
    if let Some(sla) = best_sla(kind, now, agreements) {
        chosen.insert("sla".into(), sla);
    }
    for (_, facts) in history {
        for a in agreements
            .iter()
            .filter(|a| a.agreement.covers(kind, facts))
        {
            let d = a.agreement.draft();
            let slot = match d.kind {
                AgreementKind::Sla => continue,
                AgreementKind::Ola if d.team_id != facts.team_id => continue,
                AgreementKind::Ola => format!("ola:{}", a.id),
                AgreementKind::Uc => format!("uc:{}", a.id),
            };
            chosen.entry(slot).or_insert(a);
        }
    }
    let mut out = Vec::new();
    for (slot, a) in chosen {
        for metric in a.agreement.metrics() {
            let Some(minutes) = a.agreement.target(metric, now.priority) else {
                continue;
            };
            let rule = a.agreement.rule(metric);
            let track = Track::replay(&rule, history.iter().map(|(at, f)| (*at, f)));
            if track.started_at.is_some() {
                out.push(Derived {
                    slot: slot.clone(),
                    metric: metric.to_owned(),
                    agreement_id: a.id,
                    minutes,
                    track,
                });
            }
        }
    }
    out
}

fn best_sla<'a, 'b>(
    kind: RecordKind,
    facts: &Facts,
    agreements: &'b [Numbered<'a>],
) -> Option<&'b Numbered<'a>> {
    agreements
        .iter()
        .filter(|a| a.agreement.kind() == AgreementKind::Sla && a.agreement.covers(kind, facts))
        .max_by_key(|a| (a.agreement.specificity(), std::cmp::Reverse(a.id)))
}
