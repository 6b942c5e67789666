//! The supplier register (8.3.4): suppliers with the services they support and the SLA
//! engine's underpinning contracts linked to them (both kept as part of the supplier, so a
//! change to either is journaled on it); their contract versions (`contract`), performance
//! reviews (`review`), disputes (`dispute`); the daily reminders to owners (`reminders`); the
//! computed evidence rules and the management review's input (`evidence`).
//! `steward_domain::supplier` decides; every write here is journaled in its transaction.

pub mod contract;
pub mod dispute;
pub mod evidence;
pub mod reminders;
pub mod review;

use crate::db::{Sql, Tx, linked_ids, sql};
use crate::journal::Record;
use crate::page::{CursorKey, Page, PageRequest, Sort, finish, paginate};
use crate::sla::report::{Group, ReportQuery};
use crate::sms::{date_text, stored_optional_date};
use crate::{Actor, Store, StoreError, StoreResult, next_updated_at, now_micros};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use steward_domain::Invalid;
use steward_domain::sla::AgreementKind;
use steward_domain::supplier::evidence::{Flag, flags};
use steward_domain::supplier::{
    EvaluationResult, StepError, SupplierDraft, SupplierKind, SupplierStatus,
};

const STALE: &str = "The supplier was changed by someone else; reload it and try again";

/// A supplier as stored (and as the journal keeps it), with the services it supports and the
/// underpinning contracts linked to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supplier {
    pub id: i64,
    pub name: String,
    pub kind: SupplierKind,
    pub supplies: String,
    pub owner_id: Option<i64>,
    pub contacts: String,
    pub escalation: String,
    pub status: SupplierStatus,
    pub service_ids: Vec<i64>,
    pub uc_agreement_ids: Vec<i64>,
    pub evaluation_criteria: String,
    pub evaluation_result: Option<EvaluationResult>,
    pub evaluated_on: Option<Date>,
    pub evaluator_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Record for Supplier {
    const KIND: &'static str = "supplier";
    fn id(&self) -> i64 {
        self.id
    }
}

impl Supplier {
    pub fn draft(&self) -> SupplierDraft {
        SupplierDraft {
            name: self.name.clone(),
            kind: self.kind,
            supplies: self.supplies.clone(),
            owner_id: self.owner_id,
            contacts: self.contacts.clone(),
            escalation: self.escalation.clone(),
            status: self.status,
            service_ids: self.service_ids.clone(),
            evaluation_criteria: self.evaluation_criteria.clone(),
            evaluation_result: self.evaluation_result,
            evaluated_on: self.evaluated_on,
            evaluator_id: self.evaluator_id,
        }
    }
}

#[derive(sqlx::FromRow)]
struct SupplierRow {
    id: i64,
    name: String,
    #[sqlx(try_from = "String")]
    kind: SupplierKind,
    supplies: String,
    owner_id: Option<i64>,
    contacts: String,
    escalation: String,
    #[sqlx(try_from = "String")]
    status: SupplierStatus,
    evaluation_criteria: String,
    evaluation_result: Option<String>,
    evaluated_on: Option<String>,
    evaluator_id: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl SupplierRow {
    fn into_supplier(
        self,
        service_ids: Vec<i64>,
        uc_agreement_ids: Vec<i64>,
    ) -> StoreResult<Supplier> {
        let id = self.id;
        let evaluation_result = match self.evaluation_result.as_deref() {
            None => None,
            Some(text) => Some(EvaluationResult::parse(text).ok_or_else(|| {
                StoreError::Corrupt(format!("supplier {id} evaluation result `{text}`"))
            })?),
        };
        Ok(Supplier {
            evaluated_on: stored_optional_date("supplier", id, self.evaluated_on.as_deref())?,
            id,
            name: self.name,
            kind: self.kind,
            supplies: self.supplies,
            owner_id: self.owner_id,
            contacts: self.contacts,
            escalation: self.escalation,
            status: self.status,
            service_ids,
            uc_agreement_ids,
            evaluation_criteria: self.evaluation_criteria,
            evaluation_result,
            evaluator_id: self.evaluator_id,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

const COLUMNS: &str = "id, name, kind, supplies, owner_id, contacts, escalation, status, \
                       evaluation_criteria, evaluation_result, evaluated_on, evaluator_id, \
                       created_at, updated_at";

fn select_one(tenant_id: i64, id: i64) -> Sql {
    sql(format!(
        "SELECT {COLUMNS} FROM suppliers WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
}

pub(crate) async fn read(tx: &mut Tx, tenant_id: i64, id: i64) -> StoreResult<Supplier> {
    let row: SupplierRow = tx.fetch_one(select_one(tenant_id, id)).await?;
    let services = linked_ids(tx, "supplier_services", "service_id", "supplier_id", id).await?;
    let ucs = linked_ids(tx, "supplier_uc_links", "agreement_id", "supplier_id", id).await?;
    row.into_supplier(services, ucs)
}

fn name_taken(name: &str) -> impl FnOnce(StoreError) -> StoreError {
    let message = format!("A supplier named {name} already exists");
    move |e| e.unique_as("name", &message)
}

fn bind_draft(q: Sql, d: &SupplierDraft) -> Sql {
    q.bind(&d.name)
        .bind(d.kind.as_str())
        .bind(&d.supplies)
        .bind(d.owner_id)
        .bind(&d.contacts)
        .bind(&d.escalation)
        .bind(d.status.as_str())
        .bind(&d.evaluation_criteria)
        .bind(d.evaluation_result.map(|r| r.as_str().to_owned()))
        .bind(d.evaluated_on.map(date_text))
        .bind(d.evaluator_id)
}

/// A domain refusal is a conflict; wrong fields are field errors.
pub(crate) fn step_error(e: StepError) -> StoreError {
    match e {
        StepError::Refused(message) => StoreError::Conflict(message),
        StepError::Invalid(invalid) => StoreError::Invalid(invalid),
    }
}

/// Which suppliers a list shows.
#[derive(Debug, Clone, Default)]
pub struct SupplierFilter {
    /// Words in the name or in what they supply.
    pub q: Option<String>,
    pub kind: Option<SupplierKind>,
    pub status: Option<SupplierStatus>,
    pub owner_id: Option<i64>,
}

/// Attainment of one linked underpinning contract's clocks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UcAttainment {
    pub agreement_id: i64,
    pub name: String,
    pub met: i64,
    pub total: i64,
    pub percent: Option<f64>,
}

/// The list's sort: suppliers by name.
const BY_NAME: Sort = Sort {
    column: "name",
    descending: false,
};

impl Store {
    /// Field errors unless the people are active users and the services the tenant's.
    async fn check_supplier_refs(&self, tenant_id: i64, d: &SupplierDraft) -> StoreResult<()> {
        let mut errors = Invalid::new();
        for (field, label, id) in [
            ("owner_id", "The owner", d.owner_id),
            ("evaluator_id", "The evaluator", d.evaluator_id),
        ] {
            let Some(id) = id else { continue };
            match self.user(tenant_id, id).await {
                Ok(u) if u.active => {}
                Ok(_) => errors.add(field, format!("{label} is no longer an active user")),
                Err(StoreError::NotFound) => errors.add(
                    field,
                    format!("{label} must be a user of this organisation"),
                ),
                Err(e) => return Err(e),
            }
        }
        for id in &d.service_ids {
            let found: Option<(i64,)> = self
                .db
                .fetch_optional(
                    sql("SELECT id FROM services WHERE tenant_id = $1 AND id = $2 \
                         AND deleted_at IS NULL")
                    .bind(tenant_id)
                    .bind(*id),
                )
                .await?;
            if found.is_none() {
                errors.add(
                    "service_ids",
                    format!("Service {id} is not a service of this organisation"),
                );
            }
        }
        Ok(errors.into_result(())?)
    }

    async fn write_services(tx: &mut Tx, tenant_id: i64, id: i64, ids: &[i64]) -> StoreResult<()> {
        tx.execute(sql("DELETE FROM supplier_services WHERE supplier_id = $1").bind(id))
            .await?;
        for service_id in ids {
            tx.execute(
                sql(
                    "INSERT INTO supplier_services (tenant_id, supplier_id, service_id) \
                     VALUES ($1, $2, $3)",
                )
                .bind(tenant_id)
                .bind(id)
                .bind(*service_id),
            )
            .await?;
        }
        Ok(())
    }

    /// Puts a supplier on the register from a validated draft.
    pub async fn create_supplier(
        &self,
        tenant_id: i64,
        draft: &SupplierDraft,
        actor: &Actor,
    ) -> StoreResult<Supplier> {
        self.check_supplier_refs(tenant_id, draft).await?;
        let mut tx = self.db.begin().await?;
        let write = sql(
            "INSERT INTO suppliers (tenant_id, name, kind, supplies, owner_id, contacts, \
             escalation, status, evaluation_criteria, evaluation_result, evaluated_on, \
             evaluator_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id",
        )
        .bind(tenant_id);
        let (id,): (i64,) = tx
            .fetch_one(bind_draft(write, draft).bind(now_micros()))
            .await
            .map_err(name_taken(&draft.name))?;
        Self::write_services(&mut tx, tenant_id, id, &draft.service_ids).await?;
        let created = read(&mut tx, tenant_id, id).await?;
        self.commit_created(tx, tenant_id, actor, created).await
    }

    /// Replaces a supplier's fields if it has not changed since `seen_updated_at`.
    pub async fn update_supplier(
        &self,
        tenant_id: i64,
        id: i64,
        seen_updated_at: i64,
        draft: &SupplierDraft,
        actor: &Actor,
    ) -> StoreResult<Supplier> {
        self.check_supplier_refs(tenant_id, draft).await?;
        let mut tx = self.db.begin().await?;
        let before = read(&mut tx, tenant_id, id).await?;
        if before.updated_at != seen_updated_at {
            return Err(StoreError::Conflict(STALE.into()));
        }
        let write = sql(
            "UPDATE suppliers SET name = $1, kind = $2, supplies = $3, owner_id = $4, \
             contacts = $5, escalation = $6, status = $7, evaluation_criteria = $8, \
             evaluation_result = $9, evaluated_on = $10, evaluator_id = $11, updated_at = $12 \
             WHERE tenant_id = $13 AND id = $14",
        );
        tx.execute(
            bind_draft(write, draft)
                .bind(next_updated_at(seen_updated_at))
                .bind(tenant_id)
                .bind(id),
        )
        .await
        .map_err(name_taken(&draft.name))?;
        Self::write_services(&mut tx, tenant_id, id, &draft.service_ids).await?;
        let after = read(&mut tx, tenant_id, id).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    /// Links the supplier to exactly these underpinning contracts (SLA agreements of kind UC).
    pub async fn set_supplier_ucs(
        &self,
        tenant_id: i64,
        id: i64,
        agreement_ids: &[i64],
        actor: &Actor,
    ) -> StoreResult<Supplier> {
        let mut ids = agreement_ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut errors = Invalid::new();
        for agreement_id in &ids {
            let found: Option<(String,)> = self
                .db
                .fetch_optional(
                    sql("SELECT kind FROM sla_agreements WHERE tenant_id = $1 AND id = $2")
                        .bind(tenant_id)
                        .bind(*agreement_id),
                )
                .await?;
            match found {
                Some((kind,)) if kind == AgreementKind::Uc.as_str() => {}
                Some(_) => errors.add(
                    "agreement_ids",
                    format!("Agreement {agreement_id} is not an underpinning contract (UC)"),
                ),
                None => errors.add(
                    "agreement_ids",
                    format!("Agreement {agreement_id} is not an agreement of this organisation"),
                ),
            }
        }
        errors.into_result(())?;
        let mut tx = self.db.begin().await?;
        let before = read(&mut tx, tenant_id, id).await?;
        tx.execute(sql("DELETE FROM supplier_uc_links WHERE supplier_id = $1").bind(id))
            .await?;
        for agreement_id in &ids {
            tx.execute(
                sql(
                    "INSERT INTO supplier_uc_links (tenant_id, supplier_id, agreement_id) \
                     VALUES ($1, $2, $3)",
                )
                .bind(tenant_id)
                .bind(id)
                .bind(*agreement_id),
            )
            .await?;
        }
        tx.execute(
            sql("UPDATE suppliers SET updated_at = $1 WHERE tenant_id = $2 AND id = $3")
                .bind(next_updated_at(before.updated_at))
                .bind(tenant_id)
                .bind(id),
        )
        .await?;
        let after = read(&mut tx, tenant_id, id).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    pub async fn supplier(&self, tenant_id: i64, id: i64) -> StoreResult<Supplier> {
        let mut tx = self.db.snapshot().await?;
        let supplier = read(&mut tx, tenant_id, id).await?;
        tx.commit().await?;
        Ok(supplier)
    }

    /// A page of suppliers by name.
    pub async fn suppliers(
        &self,
        tenant_id: i64,
        f: &SupplierFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Supplier>> {
        let mut q = sql(format!(
            "SELECT {COLUMNS} FROM suppliers WHERE tenant_id = $1"
        ))
        .bind(tenant_id);
        if let Some(words) = f.q.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
            let like = format!("%{}%", words.to_lowercase());
            q = q.push_bound(" AND (lower(name) LIKE {}", like.clone());
            q = q.push_bound(" OR lower(supplies) LIKE {})", like);
        }
        if let Some(kind) = f.kind {
            q = q.push_bound(" AND kind = {}", kind.as_str());
        }
        if let Some(status) = f.status {
            q = q.push_bound(" AND status = {}", status.as_str());
        }
        if let Some(owner) = f.owner_id {
            q = q.push_bound(" AND owner_id = {}", owner);
        }
        let rows: Vec<SupplierRow> = self.db.fetch_all(paginate(q, BY_NAME, page)?).await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let services = self
            .links_of("supplier_services", "service_id", tenant_id, &ids)
            .await?;
        let ucs = self
            .links_of("supplier_uc_links", "agreement_id", tenant_id, &ids)
            .await?;
        let items = rows
            .into_iter()
            .map(|r| {
                let id = r.id;
                r.into_supplier(
                    services.get(&id).cloned().unwrap_or_default(),
                    ucs.get(&id).cloned().unwrap_or_default(),
                )
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(finish(items, page, |s| {
            (CursorKey::Text(s.name.clone()), s.id)
        }))
    }

    /// The link rows of the listed suppliers, by supplier. `table` and `column` are constants.
    async fn links_of(
        &self,
        table: &str,
        column: &str,
        tenant_id: i64,
        ids: &[i64],
    ) -> StoreResult<HashMap<i64, Vec<i64>>> {
        let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let list = ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let rows: Vec<(i64, i64)> = self
            .db
            .fetch_all(
                sql(format!(
                    "SELECT supplier_id, {column} FROM {table} WHERE tenant_id = $1 \
                     AND supplier_id IN ({list}) ORDER BY supplier_id, {column}"
                ))
                .bind(tenant_id),
            )
            .await?;
        for (supplier, id) in rows {
            out.entry(supplier).or_default().push(id);
        }
        Ok(out)
    }

    /// Every supplier's markers on `today`, by supplier id (ended suppliers have none).
    pub async fn supplier_flags(
        &self,
        tenant_id: i64,
        today: Date,
    ) -> StoreResult<HashMap<i64, Vec<Flag>>> {
        Ok(self
            .supplier_facts(tenant_id)
            .await?
            .into_iter()
            .map(|(id, facts)| (id, flags(&facts, today)))
            .collect())
    }

    /// Attainment of each linked UC's clocks decided in the twelve months before `now`.
    pub async fn supplier_uc_attainment(
        &self,
        tenant_id: i64,
        supplier: &Supplier,
        from: i64,
        to: i64,
    ) -> StoreResult<Vec<UcAttainment>> {
        if supplier.uc_agreement_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = ReportQuery::new(from, to, Group::Agreement);
        q.agreement_kind = Some(AgreementKind::Uc);
        let rows = self.attainment(tenant_id, &q).await?;
        let mut out = Vec::new();
        for agreement_id in &supplier.uc_agreement_ids {
            let name = self.agreement(tenant_id, *agreement_id).await?.draft.name;
            let key = agreement_id.to_string();
            let row = rows.iter().find(|r| r.group.key.as_deref() == Some(&key));
            out.push(UcAttainment {
                agreement_id: *agreement_id,
                name,
                met: row.map_or(0, |r| r.met),
                total: row.map_or(0, |r| r.total),
                percent: row.map(|r| r.attainment_percent),
            });
        }
        Ok(out)
    }

    /// The tenant's suppliers that link `agreement_id`, by name: for the agreement's page.
    pub async fn suppliers_of_agreement(
        &self,
        tenant_id: i64,
        agreement_id: i64,
    ) -> StoreResult<Vec<(i64, String)>> {
        self.db
            .fetch_all(
                sql(
                    "SELECT s.id, s.name FROM suppliers s JOIN supplier_uc_links l \
                     ON l.supplier_id = s.id WHERE s.tenant_id = $1 AND l.agreement_id = $2 \
                     ORDER BY s.name, s.id",
                )
                .bind(tenant_id)
                .bind(agreement_id),
            )
            .await
    }
}
