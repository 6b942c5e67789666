//! A record's history as clocks see it: the facts after each journaled change.
//!
//! The journal keeps every incident and request as it was after each change, so clocks are
//! derived from it rather than from a second history. A record created with its past already
//! written (an import of a resolved incident) is unfolded into the steps its own timestamps
//! tell: opened, first response, resolved, closed.

use crate::StoreResult;
use crate::db::{Tx, sql};
use serde::Deserialize;
use serde_json::Value;
use steward_domain::incident::Priority;
use steward_domain::sla::RecordKind;
use steward_domain::sla::clock::Micros;
use steward_domain::sla::rule::Facts;

/// The fields of an incident or request snapshot that clocks read.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Snapshot {
    pub number: i64,
    pub status: String,
    #[serde(default)]
    pending_reason: Option<String>,
    #[serde(default)]
    priority: Option<Priority>,
    #[serde(default)]
    pub service_id: Option<i64>,
    #[serde(default)]
    pub customer_id: Option<i64>,
    #[serde(default)]
    assignee_team_id: Option<i64>,
    #[serde(default)]
    assignee_id: Option<i64>,
    #[serde(default)]
    first_response_at: Option<i64>,
    pub opened_at: i64,
    #[serde(default)]
    resolved_at: Option<i64>,
    #[serde(default)]
    fulfilled_at: Option<i64>,
    #[serde(default)]
    closed_at: Option<i64>,
}

impl Snapshot {
    pub fn parse(value: &Value) -> Option<Snapshot> {
        Snapshot::deserialize(value).ok()
    }

    pub fn key(&self, kind: RecordKind) -> String {
        match kind {
            RecordKind::Incident => format!("INC-{}", self.number),
            RecordKind::Request => format!("REQ-{}", self.number),
        }
    }

    pub fn priority(&self) -> Option<Priority> {
        self.priority
    }

    pub fn facts(&self) -> Facts {
        Facts {
            status: self.status.clone(),
            pending_reason: self.pending_reason.clone(),
            priority: self.priority,
            service_id: self.service_id,
            customer_id: self.customer_id,
            team_id: self.assignee_team_id,
            assignee_id: self.assignee_id,
            responded: self.first_response_at.is_some(),
        }
    }

    /// Whether the record ended without its work being done: its clocks do not count.
    pub fn voided(&self) -> bool {
        matches!(self.status.as_str(), "cancelled" | "rejected")
    }

    /// The steps a record created as this snapshot went through, by its own timestamps.
    fn unfold(&self, kind: RecordKind) -> Vec<(Micros, Facts)> {
        let last = self.facts();
        let (open_status, done_status, done_at) = match kind {
            RecordKind::Incident => ("new", "resolved", self.resolved_at),
            RecordKind::Request => ("in_fulfilment", "fulfilled", self.fulfilled_at),
        };
        let settled = ["resolved", "closed", "cancelled", "fulfilled", "rejected"];
        let mut facts = Facts {
            responded: self.first_response_at.is_some_and(|t| t <= self.opened_at),
            ..last.clone()
        };
        if settled.contains(&self.status.as_str()) {
            facts.status = open_status.into();
            facts.pending_reason = None;
        }
        let mut steps = vec![(self.opened_at, facts.clone())];
        let mut marks: Vec<(Micros, u8)> = [
            (self.first_response_at, 0),
            (done_at, 1),
            (self.closed_at, 2),
        ]
        .into_iter()
        .filter_map(|(t, what)| t.filter(|t| *t > self.opened_at).map(|t| (t, what)))
        .collect();
        marks.sort();
        for (t, what) in marks {
            match what {
                0 => facts.responded = true,
                1 => facts.status = done_status.into(),
                _ => facts.status = "closed".into(),
            }
            steps.push((t, facts.clone()));
        }
        let at = steps.last().map_or(self.opened_at, |s| s.0);
        if steps.last().map(|s| &s.1) != Some(&last) {
            steps.push((at, last));
        }
        steps
    }
}

/// A record's history and how it is now.
pub(crate) struct Past {
    pub steps: Vec<(Micros, Facts)>,
    pub now: Snapshot,
}

/// The record's history from the journal inside `tx` (so it includes this transaction's own
/// entries): the snapshot it was created as, unfolded, then the facts after each change.
/// `None` for a record the journal does not know.
pub(crate) async fn load(
    tx: &mut Tx,
    tenant_id: i64,
    kind: RecordKind,
    record_id: i64,
) -> StoreResult<Option<Past>> {
    let rows: Vec<(i64, String, Option<String>)> = tx
        .fetch_all(
            sql("SELECT at, action, after_json FROM journal \
                 WHERE tenant_id = $1 AND record_type = $2 AND record_id = $3 ORDER BY seq")
            .bind(tenant_id)
            .bind(kind.as_str())
            .bind(record_id),
        )
        .await?;
    let entries: Vec<(Micros, bool, Snapshot)> = rows
        .into_iter()
        .filter_map(|(at, action, after)| {
            let value: Value = serde_json::from_str(&after?).ok()?;
            Some((at, action == "create", Snapshot::parse(&value)?))
        })
        .collect();
    let Some(now) = entries.last().map(|e| e.2.clone()) else {
        return Ok(None);
    };
    Ok(Some(Past {
        steps: steps(kind, entries),
        now,
    }))
}

/// Folds journal entries (instant, whether it created the record, snapshot) into history.
pub(crate) fn steps(
    kind: RecordKind,
    entries: impl IntoIterator<Item = (Micros, bool, Snapshot)>,
) -> Vec<(Micros, Facts)> {
    let mut out: Vec<(Micros, Facts)> = Vec::new();
    for (at, created, snapshot) in entries {
        if created && out.is_empty() {
            out.extend(snapshot.unfold(kind));
        } else {
            out.push((at, snapshot.facts()));
        }
    }
    out
}
