//! What the register says in one read per table: each supplier's facts for the markers,
//! reminders and the interval-based evidence rules, and the management review's input on
//! supplier performance (9.3).

use super::contract::{CONTRACT_COLUMNS, ContractRow};
use super::dispute::{DISPUTE_COLUMNS, DisputeRow};
use super::review::{REVIEW_COLUMNS, ReviewRow};
use crate::conformance::Period;
use crate::db::sql;
use crate::sla::report::{Group, ReportQuery};
use crate::sms::{date_text, stored_date, stored_optional_date};
use crate::{Store, StoreResult};
use jiff::civil::Date;
use std::collections::{BTreeMap, HashMap};
use steward_domain::conformance::rules::{Found, RecordRef, RuleId};
use steward_domain::sla::AgreementKind;
use steward_domain::sms::review::{SupplierInputs, SupplierPerformance};
use steward_domain::supplier::evidence::{
    SupplierFacts, contract_review_late, performance_review_late,
};
use steward_domain::supplier::{SupplierKind, SupplierStatus, add_days};

/// A contract ending within this many days of the review period's end is reported to it.
const EXPIRING_WITHIN_DAYS: i64 = 90;

/// A supplier's identity beside its facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplierHeading {
    pub id: i64,
    pub name: String,
    pub owner_id: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct HeadRow {
    id: i64,
    name: String,
    #[sqlx(try_from = "String")]
    kind: SupplierKind,
    #[sqlx(try_from = "String")]
    status: SupplierStatus,
    owner_id: Option<i64>,
}

impl Store {
    /// Every supplier of the tenant with its facts, by name.
    pub(crate) async fn supplier_facts_named(
        &self,
        tenant_id: i64,
    ) -> StoreResult<Vec<(SupplierHeading, SupplierFacts)>> {
        let heads: Vec<HeadRow> = self
            .db
            .fetch_all(
                sql("SELECT id, name, kind, status, owner_id FROM suppliers \
                     WHERE tenant_id = $1 ORDER BY name, id")
                .bind(tenant_id),
            )
            .await?;
        let contracts: Vec<ContractRow> = self
            .db
            .fetch_all(
                sql(format!(
                    "SELECT {CONTRACT_COLUMNS} FROM supplier_contracts WHERE tenant_id = $1"
                ))
                .bind(tenant_id),
            )
            .await?;
        let mut by_supplier: HashMap<i64, Vec<_>> = HashMap::new();
        for row in contracts {
            let c = row.into_contract()?;
            by_supplier
                .entry(c.supplier_id)
                .or_default()
                .push(c.facts());
        }
        let reviewed: Vec<(i64, Option<String>)> = self
            .db
            .fetch_all(
                sql("SELECT supplier_id, MAX(held_on) FROM supplier_reviews \
                     WHERE tenant_id = $1 GROUP BY supplier_id")
                .bind(tenant_id),
            )
            .await?;
        let mut last_review = HashMap::new();
        for (supplier_id, held_on) in reviewed {
            let day = stored_optional_date("supplier review", supplier_id, held_on.as_deref())?;
            last_review.insert(supplier_id, day);
        }
        let disputes: Vec<(i64, i64, String, String)> = self
            .db
            .fetch_all(
                sql(
                    "SELECT id, supplier_id, state, raised_on FROM supplier_disputes \
                     WHERE tenant_id = $1",
                )
                .bind(tenant_id),
            )
            .await?;
        let mut disputes_of: HashMap<i64, Vec<_>> = HashMap::new();
        for (id, supplier_id, state, raised_on) in disputes {
            let state = steward_domain::supplier::dispute::DisputeState::parse(&state).ok_or_else(
                || crate::StoreError::Corrupt(format!("supplier dispute {id} state `{state}`")),
            )?;
            disputes_of
                .entry(supplier_id)
                .or_default()
                .push((state, stored_date("supplier dispute", id, &raised_on)?));
        }
        Ok(heads
            .into_iter()
            .map(|h| {
                let facts = SupplierFacts {
                    kind: h.kind,
                    status: h.status,
                    contracts: by_supplier.remove(&h.id).unwrap_or_default(),
                    last_review: last_review.get(&h.id).copied().flatten(),
                    disputes: disputes_of.remove(&h.id).unwrap_or_default(),
                };
                let head = SupplierHeading {
                    id: h.id,
                    name: h.name,
                    owner_id: h.owner_id,
                };
                (head, facts)
            })
            .collect())
    }

    /// Every supplier's facts, by id.
    pub(crate) async fn supplier_facts(
        &self,
        tenant_id: i64,
    ) -> StoreResult<HashMap<i64, SupplierFacts>> {
        Ok(self
            .supplier_facts_named(tenant_id)
            .await?
            .into_iter()
            .map(|(h, f)| (h.id, f))
            .collect())
    }

    /// The evidence of the interval rules on the period's last day: performance reviewed
    /// (external suppliers, or the others) and current contracts reviewed.
    pub(crate) async fn supplier_found(
        &self,
        tenant_id: i64,
        rule: RuleId,
        last_day: &str,
    ) -> StoreResult<Found> {
        let day = stored_date("period end", 0, last_day)?;
        let mut found = Found::default();
        for (head, facts) in self.supplier_facts_named(tenant_id).await? {
            let external = facts.kind == SupplierKind::External;
            let late = match rule {
                RuleId::SupplierPerformanceReviewed if external => {
                    performance_review_late(&facts, day)
                }
                RuleId::InternalSupplierPerformanceReviewed if !external => {
                    performance_review_late(&facts, day)
                }
                RuleId::SupplierContractsReviewed => contract_review_late(&facts, day),
                _ => None,
            };
            let Some(late) = late else { continue };
            let reference = RecordRef {
                kind: "supplier".into(),
                id: head.id,
                label: head.name,
            };
            if late {
                found.failing.push(reference.clone());
            }
            found.population.push(reference);
        }
        Ok(found)
    }

    /// Supplier performance for a management review of `from..=to` (`period`, the same days).
    pub(crate) async fn supplier_inputs(
        &self,
        tenant_id: i64,
        from: Date,
        to: Date,
        period: Period,
    ) -> StoreResult<SupplierInputs> {
        let heads = self.supplier_facts_named(tenant_id).await?;
        let (from_text, to_text) = (date_text(from), date_text(to));
        let reviews: Vec<ReviewRow> = self
            .db
            .fetch_all(
                sql(format!(
                    "SELECT {REVIEW_COLUMNS} FROM supplier_reviews WHERE tenant_id = $1 \
                     AND held_on >= $2 AND held_on <= $3 ORDER BY held_on, id"
                ))
                .bind(tenant_id)
                .bind(from_text.clone())
                .bind(to_text.clone()),
            )
            .await?;
        let mut latest = HashMap::new();
        for row in reviews {
            let r = row.into_review()?;
            latest.insert(r.supplier_id, r);
        }
        let disputes: Vec<DisputeRow> = self
            .db
            .fetch_all(
                sql(format!(
                    "SELECT {DISPUTE_COLUMNS} FROM supplier_disputes WHERE tenant_id = $1 \
                     AND raised_on <= $2"
                ))
                .bind(tenant_id)
                .bind(to_text),
            )
            .await?;
        let mut raised: BTreeMap<i64, i64> = BTreeMap::new();
        let mut open: BTreeMap<i64, i64> = BTreeMap::new();
        for row in disputes {
            let d = row.into_dispute()?;
            if d.raised_on >= from {
                *raised.entry(d.supplier_id).or_default() += 1;
            }
            if d.state.unsettled() {
                *open.entry(d.supplier_id).or_default() += 1;
            }
        }
        let uc = self.uc_attainment_by_supplier(tenant_id, period).await?;
        let horizon = add_days(to, EXPIRING_WITHIN_DAYS);
        let mut suppliers = Vec::new();
        for (head, facts) in heads {
            if facts.status != SupplierStatus::Active {
                continue;
            }
            let review = latest.remove(&head.id);
            let contract_ends_on = facts
                .current(to)
                .and_then(|c| c.ends_on)
                .filter(|end| *end <= horizon);
            suppliers.push(SupplierPerformance {
                supplier_id: head.id,
                name: head.name,
                kind: facts.kind,
                reviewed_on: review.as_ref().map(|r| r.held_on),
                rating: review.as_ref().map(|r| r.rating),
                targets_missed: review.map(|r| r.targets_missed).unwrap_or_default(),
                disputes_raised: raised.get(&head.id).copied().unwrap_or(0),
                disputes_open: open.get(&head.id).copied().unwrap_or(0),
                contract_ends_on,
                uc_percent: uc.get(&head.id).copied(),
            });
        }
        Ok(SupplierInputs { suppliers })
    }

    /// Attainment of each supplier's linked UCs together, over `period`: one report grouped by
    /// agreement, summed per supplier.
    async fn uc_attainment_by_supplier(
        &self,
        tenant_id: i64,
        period: Period,
    ) -> StoreResult<HashMap<i64, f64>> {
        let links: Vec<(i64, i64)> = self
            .db
            .fetch_all(
                sql("SELECT supplier_id, agreement_id FROM supplier_uc_links WHERE tenant_id = $1")
                    .bind(tenant_id),
            )
            .await?;
        if links.is_empty() {
            return Ok(HashMap::new());
        }
        let mut q = ReportQuery::new(period.from, period.to, Group::Agreement);
        q.agreement_kind = Some(AgreementKind::Uc);
        let rows = self.attainment(tenant_id, &q).await?;
        let mut sums: HashMap<i64, (i64, i64)> = HashMap::new();
        for (supplier_id, agreement_id) in links {
            let key = agreement_id.to_string();
            if let Some(row) = rows.iter().find(|r| r.group.key.as_deref() == Some(&key)) {
                let e = sums.entry(supplier_id).or_default();
                e.0 += row.met;
                e.1 += row.total;
            }
        }
        Ok(sums
            .into_iter()
            .filter(|(_, (_, total))| *total > 0)
            .map(|(id, (met, total))| {
                let percent = (met as f64 * 10_000.0 / total as f64).round() / 100.0;
                (id, percent)
            })
            .collect())
    }
}
