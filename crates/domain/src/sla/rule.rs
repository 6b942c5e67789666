//! When a clock starts, pauses and stops: conditions on a record's facts.

use crate::incident::Priority;

/// What clocks look at in a record, after each change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// The record's status as stored (`pending`, `in_fulfilment`, ...).
    pub status: String,
    /// Why a pending incident waits (`awaiting_customer`, `third_party`).
    pub pending_reason: Option<String>,
    pub priority: Option<Priority>,
    pub service_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub team_id: Option<i64>,
    pub assignee_id: Option<i64>,
    /// Whether an agent has answered the requester.
    pub responded: bool,
}

impl Facts {
    /// Whether the record is in `token`: a status (`pending`) or a status with its reason
    /// (`pending:awaiting_customer`).
    pub fn is_in(&self, token: &str) -> bool {
        match token.split_once(':') {
            Some((status, reason)) => {
                status == self.status && self.pending_reason.as_deref() == Some(reason)
            }
            None => token == self.status,
        }
    }
}

/// A condition on a record's facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    Always,
    Never,
    /// The record is in one of these statuses (see [`Facts::is_in`]).
    StatusIn(Vec<String>),
    Responded,
    Assigned,
    /// The record is assigned to this team.
    WithTeam(i64),
    Not(Box<Cond>),
    Any(Vec<Cond>),
}

impl Cond {
    pub fn holds(&self, facts: &Facts) -> bool {
        match self {
            Cond::Always => true,
            Cond::Never => false,
            Cond::StatusIn(tokens) => tokens.iter().any(|t| facts.is_in(t)),
            Cond::Responded => facts.responded,
            Cond::Assigned => facts.assignee_id.is_some(),
            Cond::WithTeam(team) => facts.team_id == Some(*team),
            Cond::Not(inner) => !inner.holds(facts),
            Cond::Any(conds) => conds.iter().any(|c| c.holds(facts)),
        }
    }

    /// Why the condition holds for `facts`, in words for the record page.
    pub fn explain(&self, facts: &Facts) -> String {
        match self {
            Cond::StatusIn(_) => match &facts.pending_reason {
                Some(reason) if facts.status == "pending" => {
                    format!("pending: {}", reason.replace('_', " "))
                }
                _ => facts.status.replace('_', " "),
            },
            Cond::Responded => "responded".into(),
            Cond::Assigned => "assigned".into(),
            Cond::WithTeam(_) => "with the team".into(),
            Cond::Not(inner) => match inner.as_ref() {
                Cond::WithTeam(_) => "with another team".into(),
                Cond::StatusIn(tokens) => format!("not {}", describe(tokens)),
                other => format!("not {}", other.explain(facts)),
            },
            Cond::Any(conds) => conds
                .iter()
                .find(|c| c.holds(facts))
                .map_or_else(String::new, |c| c.explain(facts)),
            Cond::Always | Cond::Never => String::new(),
        }
    }

    /// The condition in words, for the agreement and record pages.
    pub fn describe(&self) -> String {
        match self {
            Cond::Always => "when the record is opened".into(),
            Cond::Never => "never".into(),
            Cond::StatusIn(tokens) if tokens.is_empty() => "never".into(),
            Cond::StatusIn(tokens) => describe(tokens),
            Cond::Responded => "an agent has replied".into(),
            Cond::Assigned => "an agent is assigned".into(),
            Cond::WithTeam(_) => "the record is with the team".into(),
            Cond::Not(inner) => format!("not ({})", inner.describe()),
            Cond::Any(conds) => conds
                .iter()
                .map(Cond::describe)
                .collect::<Vec<_>>()
                .join(" or "),
        }
    }
}

fn describe(tokens: &[String]) -> String {
    let words: Vec<String> = tokens.iter().map(|t| t.replace([':', '_'], " ")).collect();
    format!("status is {}", words.join(" or "))
}

/// The three conditions that drive one clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub start: Cond,
    pub pause: Cond,
    pub stop: Cond,
}

impl Rule {
    /// When the clock starts, to follow "Starts": `when the record is opened`,
    /// `when status is in fulfilment`.
    pub fn starts_in_words(&self) -> String {
        match &self.start {
            Cond::Always => self.start.describe(),
            other => format!("when {}", other.describe()),
        }
    }
}
