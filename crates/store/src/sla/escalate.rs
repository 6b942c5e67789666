//! What happens when a clock reaches its warning or breach: once, in one transaction, the
//! mark on the clock, a journal entry on it, the notices by mail and the agreement's
//! escalations (notify a manager, hand the record to another team).

use super::clocks::{ClockView, Threshold};
use crate::db::sql;
use crate::incident::Incident;
use crate::journal::{Actor, Change};
use crate::mail::{OutMail, queue_mail_in};
use crate::{Store, StoreResult, now_micros};
use serde_json::json;
use steward_domain::journal::Action;
use steward_domain::sla::RecordKind;

/// What a notice about a threshold says; the server renders it.
#[derive(Debug, Clone)]
pub struct Notice {
    pub threshold: Threshold,
    pub record_kind: RecordKind,
    pub record_key: String,
    pub record_title: String,
    pub clock: ClockView,
    /// The team the record was handed to, if an escalation did that.
    pub reassigned_to: Option<String>,
}

/// A rendered notice: subject and body.
pub type Rendered = (String, String);

/// What acting on a threshold did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acted {
    pub record_key: String,
    pub notified: Vec<String>,
    pub reassigned_to_team: Option<i64>,
}

impl Store {
    /// Acts on clock `clock_id` reaching `threshold`, unless it has not (its due time moved,
    /// it stopped in time) or it was already acted on. Returns `None` when there was nothing
    /// to do, so job retries and several nodes never act twice.
    pub async fn act_on_threshold(
        &self,
        tenant_id: i64,
        clock_id: i64,
        threshold: Threshold,
        render: impl Fn(&Notice) -> Rendered,
    ) -> StoreResult<Option<Acted>> {
        let mut tx = self.db.begin().await?;
        let Some((row, clock, escalations)) = self
            .claim_threshold(&mut tx, tenant_id, clock_id, threshold)
            .await?
        else {
            return Ok(None);
        };
        let kind = RecordKind::parse(&row.record_kind).unwrap_or(RecordKind::Incident);
        let actor = Actor::system();
        let (title, mut recipients, open_incident) = match kind {
            RecordKind::Incident => {
                let incident: Incident = tx
                    .fetch_one(crate::incident::select_by_id(tenant_id, row.record_id))
                    .await?;
                let people = self
                    .people_on(
                        &mut tx,
                        tenant_id,
                        incident.assignee_id,
                        incident.assignee_team_id,
                    )
                    .await?;
                let open = incident.status.is_open().then_some(incident.clone());
                (incident.title, people, open)
            }
            RecordKind::Request => {
                let (title,): (String,) = tx
                    .fetch_one(
                        sql("SELECT title FROM requests WHERE tenant_id = $1 AND id = $2")
                            .bind(tenant_id)
                            .bind(row.record_id),
                    )
                    .await?;
                (title, Vec::new(), None)
            }
        };
        for e in &escalations {
            if let Some(user) = e.notify_user_id {
                recipients.extend(self.people_on(&mut tx, tenant_id, Some(user), None).await?);
            }
        }
        let mut reassigned = None;
        if let (Some(team), Some(before)) = (
            escalations.iter().find_map(|e| e.reassign_team_id),
            open_incident,
        ) && before.assignee_team_id != Some(team)
        {
            let after: Incident = tx
                .fetch_one(
                    sql(format!(
                        "UPDATE incidents SET assignee_team_id = $1, assignee_id = NULL, updated_at = $2 \
                         WHERE id = $3 RETURNING {}",
                        crate::incident::COLUMNS
                    ))
                    .bind(team)
                    .bind(now_micros().max(before.updated_at + 1))
                    .bind(before.id),
                )
                .await?;
            self.journal(
                &mut tx,
                Change::of(
                    tenant_id,
                    &actor,
                    Action::Update,
                    Some(&before),
                    Some(&after),
                ),
            )
            .await?;
            reassigned = Some(team);
        }
        let team_name = match reassigned {
            Some(team) => tx
                .fetch_optional::<(String,)>(sql("SELECT name FROM teams WHERE id = $1").bind(team))
                .await?
                .map(|(n,)| n),
            None => None,
        };
        let notice = Notice {
            threshold,
            record_kind: kind,
            record_key: row.record_key.clone(),
            record_title: title,
            clock,
            reassigned_to: team_name,
        };
        let (subject, body) = render(&notice);
        recipients.sort_by_key(|a| a.to_ascii_lowercase());
        recipients.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        for (i, to) in recipients.iter().enumerate() {
            let mail = OutMail {
                record_type: kind.as_str().into(),
                record_id: row.record_id,
                to_address: to.clone(),
                subject: subject.clone(),
                body: body.clone(),
                message_id: format!(
                    "{}.sla{clock_id}.{}.{i}@steward",
                    row.record_key.to_ascii_lowercase(),
                    threshold.as_str()
                ),
                in_reply_to: None,
                references: None,
            };
            queue_mail_in(&mut tx, tenant_id, &mail).await?;
        }
        self.journal(
            &mut tx,
            Change {
                tenant_id,
                actor: &actor,
                action: Action::Update,
                record_type: "sla_clock",
                record_id: clock_id,
                before: Some(json!({ "record": row.record_key, "target": row.metric, threshold.as_str(): null })),
                after: Some(json!({
                    "record": row.record_key, "target": row.metric, threshold.as_str(): now_micros(),
                    "due_at": notice.clock.due_at, "notified": recipients, "reassigned_to_team": reassigned,
                })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Some(Acted {
            record_key: row.record_key,
            notified: recipients,
            reassigned_to_team: reassigned,
        }))
    }

    /// The e-mail addresses of a user, or else of a team's members.
    async fn people_on(
        &self,
        tx: &mut crate::db::Tx,
        tenant_id: i64,
        user: Option<i64>,
        team: Option<i64>,
    ) -> StoreResult<Vec<String>> {
        let q = match (user, team) {
            (Some(user), _) => {
                sql("SELECT email FROM users WHERE tenant_id = $1 AND id = $2 AND active")
                    .bind(tenant_id)
                    .bind(user)
            }
            (None, Some(team)) => sql(
                "SELECT u.email FROM users u JOIN team_members m ON m.user_id = u.id \
                 WHERE u.tenant_id = $1 AND m.team_id = $2 AND u.active",
            )
            .bind(tenant_id)
            .bind(team),
            (None, None) => return Ok(Vec::new()),
        };
        let rows: Vec<(String,)> = tx.fetch_all(q).await?;
        Ok(rows
            .into_iter()
            .map(|(e,)| e)
            .filter(|e| !e.trim().is_empty())
            .collect())
    }
}
