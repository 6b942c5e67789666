//! Service level agreements as stored, and the clocks they run on records.
//!
//! An agreement is one JSON document (`domain::sla::AgreementDraft`, validated before every
//! write) beside the columns queries select by. Agreements are never deleted: an agreement
//! that no longer applies is deactivated, so the clocks and reports that name it stay readable.

mod clocks;
mod escalate;
mod generate;
mod history;
mod recompute;
pub mod report;

pub use clocks::THRESHOLD_KIND;
pub use clocks::{ClockView, RuleWords, Threshold};
pub use escalate::{Acted, Notice, Rendered};
pub use generate::Generated;
pub use recompute::{ClockSummary, RecomputeChange, Recomputed};

use crate::calendar::StoredCalendar;
use crate::db::sql;
use crate::journal::{Change, Record};
use crate::{Actor, Store, StoreError, StoreResult, now_micros};
use serde::Serialize;
use steward_domain::calendar::Calendar;
use steward_domain::journal::Action;
use steward_domain::sla::{Agreement, AgreementDraft, Numbered};

/// An agreement as stored: the validated draft with its id and times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredAgreement {
    pub id: i64,
    #[serde(flatten)]
    pub draft: AgreementDraft,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Record for StoredAgreement {
    const KIND: &'static str = "sla_agreement";
    fn id(&self) -> i64 {
        self.id
    }
}

impl StoredAgreement {
    /// The agreement, ready to run clocks; `Corrupt` if the stored document no longer validates.
    pub fn agreement(&self) -> StoreResult<Agreement> {
        self.draft
            .clone()
            .validate()
            .map_err(|invalid| StoreError::Corrupt(format!("agreement {}: {invalid}", self.id)))
    }
}

#[derive(sqlx::FromRow)]
struct AgreementRow {
    id: i64,
    definition_json: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<AgreementRow> for StoredAgreement {
    type Error = StoreError;
    fn try_from(r: AgreementRow) -> StoreResult<Self> {
        Ok(StoredAgreement {
            draft: serde_json::from_str(&r.definition_json)
                .map_err(|e| StoreError::Corrupt(format!("agreement {}: {e}", r.id)))?,
            id: r.id,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const COLUMNS: &str = "id, definition_json, created_at, updated_at";
const NAME_TAKEN: (&str, &str) = ("name", "An agreement with this name already exists");

/// Every agreement of a tenant, validated, each with the calendar it counts on: what clocks
/// are derived and read with.
pub(crate) struct Agreements {
    pub list: Vec<(StoredAgreement, Agreement, Calendar)>,
}

impl Agreements {
    pub fn numbered(&self) -> Vec<Numbered<'_>> {
        self.list
            .iter()
            .map(|(s, a, _)| Numbered {
                id: s.id,
                agreement: a,
            })
            .collect()
    }

    pub fn get(&self, id: i64) -> Option<&(StoredAgreement, Agreement, Calendar)> {
        self.list.iter().find(|(s, _, _)| s.id == id)
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

impl Store {
    pub async fn create_agreement(
        &self,
        tenant_id: i64,
        agreement: &Agreement,
        actor: &Actor,
    ) -> StoreResult<StoredAgreement> {
        self.check_agreement_refs(tenant_id, agreement.draft())
            .await?;
        let mut tx = self.db.begin().await?;
        let after = self
            .create_agreement_in(&mut tx, tenant_id, agreement, actor)
            .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// `create_agreement` inside `tx`, journaled there; the caller has checked its references.
    pub(crate) async fn create_agreement_in(
        &self,
        tx: &mut crate::db::Tx,
        tenant_id: i64,
        agreement: &Agreement,
        actor: &Actor,
    ) -> StoreResult<StoredAgreement> {
        let d = agreement.draft();
        let write = sql(format!(
            "INSERT INTO sla_agreements (tenant_id, name, kind, record_kind, calendar_id, active, definition_json, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING {COLUMNS}"
        ))
        .bind(tenant_id)
        .bind(&d.name)
        .bind(d.kind.as_str())
        .bind(d.record_kind.as_str())
        .bind(d.calendar_id)
        .bind(d.active)
        .bind(document(d)?)
        .bind(now_micros());
        let after: StoredAgreement = tx
            .fetch_one::<AgreementRow>(write)
            .await
            .map_err(|e| e.unique_as(NAME_TAKEN.0, NAME_TAKEN.1))?
            .try_into()?;
        self.journal(
            tx,
            Change::of(tenant_id, actor, Action::Create, None, Some(&after)),
        )
        .await?;
        Ok(after)
    }

    pub async fn agreement(&self, tenant_id: i64, id: i64) -> StoreResult<StoredAgreement> {
        self.db
            .fetch_one::<AgreementRow>(select_one(tenant_id, id))
            .await?
            .try_into()
    }

    /// Every agreement of the tenant, active first, then by name.
    pub async fn agreements(&self, tenant_id: i64) -> StoreResult<Vec<StoredAgreement>> {
        let rows: Vec<AgreementRow> = self
            .db
            .fetch_all(
                sql(format!(
                    "SELECT {COLUMNS} FROM sla_agreements WHERE tenant_id = $1 ORDER BY active DESC, lower(name), id"
                ))
                .bind(tenant_id),
            )
            .await?;
        rows.into_iter().map(StoredAgreement::try_from).collect()
    }

    /// Replaces an agreement if it has not changed since `seen_updated_at` (else `Conflict`).
    /// Records' clocks follow the new terms as each record next changes, or all at once with
    /// `steward sla recompute`.
    pub async fn update_agreement(
        &self,
        tenant_id: i64,
        id: i64,
        seen_updated_at: i64,
        agreement: &Agreement,
        actor: &Actor,
    ) -> StoreResult<StoredAgreement> {
        self.check_agreement_refs(tenant_id, agreement.draft())
            .await?;
        let d = agreement.draft();
        let write = sql(format!(
            "UPDATE sla_agreements SET name = $1, kind = $2, record_kind = $3, calendar_id = $4, active = $5, \
             definition_json = $6, updated_at = $7 WHERE tenant_id = $8 AND id = $9 AND updated_at = $10 RETURNING {COLUMNS}"
        ))
        .bind(&d.name)
        .bind(d.kind.as_str())
        .bind(d.record_kind.as_str())
        .bind(d.calendar_id)
        .bind(d.active)
        .bind(document(d)?)
        .bind(now_micros().max(seen_updated_at + 1))
        .bind(tenant_id)
        .bind(id)
        .bind(seen_updated_at);
        let mut tx = self.db.begin().await?;
        let before: StoredAgreement = tx
            .fetch_one::<AgreementRow>(select_one(tenant_id, id))
            .await?
            .try_into()?;
        if before.updated_at != seen_updated_at {
            return Err(StoreError::Conflict(
                "The agreement was changed by someone else; reload it and try again".into(),
            ));
        }
        let after: StoredAgreement = tx
            .fetch_one::<AgreementRow>(write)
            .await
            .map_err(|e| e.unique_as(NAME_TAKEN.0, NAME_TAKEN.1))?
            .try_into()?;
        self.journal(
            &mut tx,
            Change::of(
                tenant_id,
                actor,
                Action::Update,
                Some(&before),
                Some(&after),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Names of the active agreements that count on calendar `id`: a calendar in use cannot go.
    pub async fn agreements_on_calendar(
        &self,
        tenant_id: i64,
        id: i64,
    ) -> StoreResult<Vec<String>> {
        let rows: Vec<(String,)> = self
            .db
            .fetch_all(
                sql("SELECT name FROM sla_agreements WHERE tenant_id = $1 AND calendar_id = $2 AND active ORDER BY name")
                    .bind(tenant_id)
                    .bind(id),
            )
            .await?;
        Ok(rows.into_iter().map(|(n,)| n).collect())
    }

    pub(crate) async fn check_agreement_refs(
        &self,
        tenant_id: i64,
        d: &AgreementDraft,
    ) -> StoreResult<()> {
        let mut refs = vec![
            (
                "customer_id".to_owned(),
                "customers",
                d.customer_id,
                "Customer",
            ),
            ("service_id".to_owned(), "services", d.service_id, "Service"),
            ("team_id".to_owned(), "teams", d.team_id, "Team"),
            (
                "calendar_id".to_owned(),
                "calendars",
                d.calendar_id,
                "Calendar",
            ),
        ];
        for (i, e) in d.escalations.iter().enumerate() {
            refs.push((
                format!("escalations[{i}].notify_user_id"),
                "users",
                e.notify_user_id,
                "User",
            ));
            refs.push((
                format!("escalations[{i}].reassign_team_id"),
                "teams",
                e.reassign_team_id,
                "Team",
            ));
        }
        let errors = self.missing_refs(tenant_id, &refs).await?;
        errors.into_result(()).map_err(StoreError::from)
    }

    /// Every agreement of the tenant with its calendar, for deriving and reading clocks.
    pub(crate) async fn load_agreements(
        &self,
        tx: Option<&mut crate::db::Tx>,
        tenant_id: i64,
    ) -> StoreResult<Agreements> {
        let agreements = sql(format!(
            "SELECT {COLUMNS} FROM sla_agreements WHERE tenant_id = $1 ORDER BY id"
        ))
        .bind(tenant_id);
        let calendars = sql(format!(
            "SELECT {} FROM calendars WHERE tenant_id = $1 AND id IN (SELECT calendar_id FROM sla_agreements WHERE tenant_id = $1)",
            crate::calendar::COLUMNS
        ))
        .bind(tenant_id);
        let (rows, calendar_rows): (Vec<AgreementRow>, Vec<crate::calendar::CalendarRow>) = match tx
        {
            Some(tx) => {
                let rows = tx.fetch_all(agreements).await?;
                let cals = if rows.is_empty() {
                    Vec::new()
                } else {
                    tx.fetch_all(calendars).await?
                };
                (rows, cals)
            }
            None => {
                let rows = self.db.fetch_all(agreements).await?;
                let cals = if rows.is_empty() {
                    Vec::new()
                } else {
                    self.db.fetch_all(calendars).await?
                };
                (rows, cals)
            }
        };
        let calendars = calendar_rows
            .into_iter()
            .map(|r| StoredCalendar::try_from(r).and_then(|c| Ok((c.id, c.calendar()?))))
            .collect::<StoreResult<Vec<(i64, Calendar)>>>()?;
        let mut list = Vec::with_capacity(rows.len());
        for row in rows {
            let stored = StoredAgreement::try_from(row)?;
            let agreement = stored.agreement()?;
            let calendar = match stored.draft.calendar_id {
                None => Calendar::around_the_clock(),
                Some(id) => calendars
                    .iter()
                    .find(|(cid, _)| *cid == id)
                    .map(|(_, c)| c.clone())
                    .ok_or_else(|| {
                        StoreError::Corrupt(format!(
                            "agreement {} counts on missing calendar {id}",
                            stored.id
                        ))
                    })?,
            };
            list.push((stored, agreement, calendar));
        }
        Ok(Agreements { list })
    }
}

fn select_one(tenant_id: i64, id: i64) -> crate::db::Sql {
    sql(format!(
        "SELECT {COLUMNS} FROM sla_agreements WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
}

fn document(d: &AgreementDraft) -> StoreResult<String> {
    serde_json::to_string(d).map_err(|e| StoreError::Corrupt(e.to_string()))
}
