//! Contract versions of a supplier (`supplier_contracts`) and their reviews
//! (`supplier_contract_reviews`, written in the transaction that sets `reviewed_on`).

use super::step_error;
use crate::db::{Tx, sql};
use crate::journal::{Change, Record};
use crate::sms::{date_text, stored_date, stored_optional_date};
use crate::{Actor, Store, StoreError, StoreResult, next_updated_at, now_micros};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use steward_domain::journal::Action;
use steward_domain::supplier::contract::{
    ContractDraft, ContractFacts, ContractReviewDraft, ContractStatus, check_approval,
};

/// A version of a supplier's contract (or agreement).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplierContract {
    pub id: i64,
    pub supplier_id: i64,
    pub version: i64,
    pub reference: String,
    pub scope: String,
    pub requirements: String,
    pub obligations: String,
    pub responsibilities: String,
    pub starts_on: Date,
    pub ends_on: Option<Date>,
    pub review_months: i64,
    pub impact: String,
    pub status: ContractStatus,
    pub approved_by: Option<i64>,
    pub approved_on: Option<Date>,
    pub reviewed_on: Option<Date>,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Record for SupplierContract {
    const KIND: &'static str = "supplier_contract";
    fn id(&self) -> i64 {
        self.id
    }
}

impl SupplierContract {
    pub fn draft(&self) -> ContractDraft {
        ContractDraft {
            reference: self.reference.clone(),
            scope: self.scope.clone(),
            requirements: self.requirements.clone(),
            obligations: self.obligations.clone(),
            responsibilities: self.responsibilities.clone(),
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            review_months: self.review_months,
            impact: self.impact.clone(),
        }
    }

    pub fn facts(&self) -> ContractFacts {
        ContractFacts {
            id: self.id,
            version: self.version,
            status: self.status,
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            approved_on: self.approved_on,
            reviewed_on: self.reviewed_on,
            review_months: self.review_months,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ContractRow {
    id: i64,
    supplier_id: i64,
    version: i64,
    reference: String,
    scope: String,
    requirements: String,
    obligations: String,
    responsibilities: String,
    starts_on: String,
    ends_on: Option<String>,
    review_months: i64,
    impact: String,
    #[sqlx(try_from = "String")]
    status: ContractStatus,
    approved_by: Option<i64>,
    approved_on: Option<String>,
    reviewed_on: Option<String>,
    created_by: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl ContractRow {
    pub(crate) fn into_contract(self) -> StoreResult<SupplierContract> {
        let (id, what) = (self.id, "supplier contract");
        Ok(SupplierContract {
            starts_on: stored_date(what, id, &self.starts_on)?,
            ends_on: stored_optional_date(what, id, self.ends_on.as_deref())?,
            approved_on: stored_optional_date(what, id, self.approved_on.as_deref())?,
            reviewed_on: stored_optional_date(what, id, self.reviewed_on.as_deref())?,
            id,
            supplier_id: self.supplier_id,
            version: self.version,
            reference: self.reference,
            scope: self.scope,
            requirements: self.requirements,
            obligations: self.obligations,
            responsibilities: self.responsibilities,
            review_months: self.review_months,
            impact: self.impact,
            status: self.status,
            approved_by: self.approved_by,
            created_by: self.created_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

pub(crate) const CONTRACT_COLUMNS: &str = "id, supplier_id, version, reference, scope, \
     requirements, obligations, responsibilities, starts_on, ends_on, review_months, impact, \
     status, approved_by, approved_on, reviewed_on, created_by, created_at, updated_at";

/// A review of a contract version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractReview {
    pub id: i64,
    pub contract_id: i64,
    pub reviewed_on: Date,
    pub still_fits: bool,
    pub notes: String,
    pub reviewed_by: Option<i64>,
    pub created_at: i64,
}

impl Record for ContractReview {
    const KIND: &'static str = "supplier_contract_review";
    fn id(&self) -> i64 {
        self.id
    }
}

#[derive(sqlx::FromRow)]
struct ContractReviewRow {
    id: i64,
    contract_id: i64,
    reviewed_on: String,
    still_fits: bool,
    notes: String,
    reviewed_by: Option<i64>,
    created_at: i64,
}

async fn read_contract(
    tx: &mut Tx,
    tenant_id: i64,
    supplier_id: i64,
    id: i64,
) -> StoreResult<SupplierContract> {
    tx.fetch_one::<ContractRow>(
        sql(format!(
            "SELECT {CONTRACT_COLUMNS} FROM supplier_contracts \
             WHERE tenant_id = $1 AND supplier_id = $2 AND id = $3"
        ))
        .bind(tenant_id)
        .bind(supplier_id)
        .bind(id),
    )
    .await?
    .into_contract()
}

impl Store {
    /// Adds a draft version to a supplier's contracts; its number follows the latest. The draft
    /// is checked here against the versions already on file (an impact note from the second).
    pub async fn create_supplier_contract(
        &self,
        tenant_id: i64,
        supplier_id: i64,
        draft: ContractDraft,
        actor: &Actor,
    ) -> StoreResult<SupplierContract> {
        let mut tx = self.db.begin().await?;
        super::read(&mut tx, tenant_id, supplier_id).await?;
        let (earlier,): (i64,) = tx
            .fetch_one(
                sql("SELECT COALESCE(MAX(version), 0) FROM supplier_contracts \
                     WHERE tenant_id = $1 AND supplier_id = $2")
                .bind(tenant_id)
                .bind(supplier_id),
            )
            .await?;
        let d = draft.validate(earlier)?;
        let (id,): (i64,) = tx
            .fetch_one(
                sql(
                    "INSERT INTO supplier_contracts (tenant_id, supplier_id, version, reference, \
                     scope, requirements, obligations, responsibilities, starts_on, ends_on, \
                     review_months, impact, status, created_by, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15) \
                     RETURNING id",
                )
                .bind(tenant_id)
                .bind(supplier_id)
                .bind(earlier + 1)
                .bind(&d.reference)
                .bind(&d.scope)
                .bind(&d.requirements)
                .bind(&d.obligations)
                .bind(&d.responsibilities)
                .bind(date_text(d.starts_on))
                .bind(d.ends_on.map(date_text))
                .bind(d.review_months)
                .bind(&d.impact)
                .bind(ContractStatus::Draft.as_str())
                .bind(actor.user_id)
                .bind(now_micros()),
            )
            .await
            .map_err(|e| {
                if e.is_unique_violation() {
                    StoreError::Conflict(
                        "Another version was added at the same time; reload and try again".into(),
                    )
                } else {
                    e
                }
            })?;
        let created = read_contract(&mut tx, tenant_id, supplier_id, id).await?;
        self.commit_created(tx, tenant_id, actor, created).await
    }

    /// Approves a draft version on `approved_on` (not after `today`, not after it starts).
    pub async fn approve_supplier_contract(
        &self,
        tenant_id: i64,
        supplier_id: i64,
        id: i64,
        approved_on: Date,
        today: Date,
        actor: &Actor,
    ) -> StoreResult<SupplierContract> {
        let mut tx = self.db.begin().await?;
        let before = read_contract(&mut tx, tenant_id, supplier_id, id).await?;
        check_approval(before.status, &before.draft(), approved_on, today).map_err(step_error)?;
        tx.execute(
            sql(
                "UPDATE supplier_contracts SET status = $1, approved_by = $2, approved_on = $3, \
                 updated_at = $4 WHERE tenant_id = $5 AND id = $6",
            )
            .bind(ContractStatus::Approved.as_str())
            .bind(actor.user_id)
            .bind(date_text(approved_on))
            .bind(next_updated_at(before.updated_at))
            .bind(tenant_id)
            .bind(id),
        )
        .await?;
        let after = read_contract(&mut tx, tenant_id, supplier_id, id).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    /// Records a review of an approved version against today's service requirements and sets
    /// the version's `reviewed_on` (to the latest review's day).
    pub async fn review_supplier_contract(
        &self,
        tenant_id: i64,
        supplier_id: i64,
        id: i64,
        draft: ContractReviewDraft,
        today: Date,
        actor: &Actor,
    ) -> StoreResult<(SupplierContract, ContractReview)> {
        let mut tx = self.db.begin().await?;
        let before = read_contract(&mut tx, tenant_id, supplier_id, id).await?;
        let d = draft.validate(before.status, today).map_err(step_error)?;
        let reviewed_on = before
            .reviewed_on
            .map_or(d.reviewed_on, |r| r.max(d.reviewed_on));
        let (review_id,): (i64,) = tx
            .fetch_one(
                sql(
                    "INSERT INTO supplier_contract_reviews (tenant_id, contract_id, reviewed_on, \
                     still_fits, notes, reviewed_by, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(tenant_id)
                .bind(id)
                .bind(date_text(d.reviewed_on))
                .bind(d.still_fits)
                .bind(&d.notes)
                .bind(actor.user_id)
                .bind(now_micros()),
            )
            .await?;
        tx.execute(
            sql(
                "UPDATE supplier_contracts SET reviewed_on = $1, updated_at = $2 \
                 WHERE tenant_id = $3 AND id = $4",
            )
            .bind(date_text(reviewed_on))
            .bind(next_updated_at(before.updated_at))
            .bind(tenant_id)
            .bind(id),
        )
        .await?;
        let after = read_contract(&mut tx, tenant_id, supplier_id, id).await?;
        let review = ContractReview {
            id: review_id,
            contract_id: id,
            reviewed_on: d.reviewed_on,
            still_fits: d.still_fits,
            notes: d.notes,
            reviewed_by: actor.user_id,
            created_at: after.updated_at,
        };
        self.journal(
            &mut tx,
            Change::of(tenant_id, actor, Action::Create, None, Some(&review)),
        )
        .await?;
        let after = self
            .commit_update(tx, tenant_id, actor, &before, after)
            .await?;
        Ok((after, review))
    }

    pub async fn supplier_contract(
        &self,
        tenant_id: i64,
        supplier_id: i64,
        id: i64,
    ) -> StoreResult<SupplierContract> {
        self.db
            .fetch_one::<ContractRow>(
                sql(format!(
                    "SELECT {CONTRACT_COLUMNS} FROM supplier_contracts \
                     WHERE tenant_id = $1 AND supplier_id = $2 AND id = $3"
                ))
                .bind(tenant_id)
                .bind(supplier_id)
                .bind(id),
            )
            .await?
            .into_contract()
    }

    /// A supplier's versions, newest first.
    pub async fn supplier_contracts(
        &self,
        tenant_id: i64,
        supplier_id: i64,
    ) -> StoreResult<Vec<SupplierContract>> {
        let rows: Vec<ContractRow> = self
            .db
            .fetch_all(
                sql(format!(
                    "SELECT {CONTRACT_COLUMNS} FROM supplier_contracts \
                     WHERE tenant_id = $1 AND supplier_id = $2 ORDER BY version DESC LIMIT 1000"
                ))
                .bind(tenant_id)
                .bind(supplier_id),
            )
            .await?;
        rows.into_iter().map(ContractRow::into_contract).collect()
    }

    /// The reviews of a supplier's versions, newest first.
    pub async fn supplier_contract_reviews(
        &self,
        tenant_id: i64,
        supplier_id: i64,
    ) -> StoreResult<Vec<ContractReview>> {
        let rows: Vec<ContractReviewRow> = self
            .db
            .fetch_all(
                sql(
                    "SELECT r.id, r.contract_id, r.reviewed_on, r.still_fits, r.notes, \
                     r.reviewed_by, r.created_at FROM supplier_contract_reviews r \
                     JOIN supplier_contracts c ON c.id = r.contract_id \
                     WHERE r.tenant_id = $1 AND c.supplier_id = $2 \
                     ORDER BY r.reviewed_on DESC, r.id DESC LIMIT 1000",
                )
                .bind(tenant_id)
                .bind(supplier_id),
            )
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(ContractReview {
                    reviewed_on: stored_date("contract review", r.id, &r.reviewed_on)?,
                    id: r.id,
                    contract_id: r.contract_id,
                    still_fits: r.still_fits,
                    notes: r.notes,
                    reviewed_by: r.reviewed_by,
                    created_at: r.created_at,
                })
            })
            .collect()
    }
}
