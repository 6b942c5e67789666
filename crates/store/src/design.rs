//! Design and transition of new or changed services (ISO/IEC 20000-1 8.5.2): what
//! `steward_domain::design` decided, kept.
//!
//! - service design records (`SDR-n`): create, edit (optimistic, on `updated_at`), read, list,
//!   move through the lifecycle;
//! - [`Store::accept_design`]: in one transaction, creates or updates the service, its
//!   catalogue entry, its SLA and its CIs (and their links to the service), and records on the
//!   design what it wrote (`service_design_outputs`); if any part is refused, nothing is
//!   written;
//! - the change hook: a change the tenant's policy calls major opens a draft design record
//!   (once), and may not be scheduled before that record is accepted (see
//!   `change::lifecycle`).
//!
//! Every write is journaled in its transaction.

use crate::change::{Change, policy::read_policy};
use crate::cmdb::ci::read_ci;
use crate::cmdb::{Ci, CiClass};
use crate::db::{Sql, Tx, sql};
use crate::incident::next_number;
use crate::journal::{Change as Entry, Record};
use crate::page::{CursorKey, Page, PageRequest, Sort, finish, paginate};
use crate::refs::missing_as_invalid;
use crate::request::CatalogueItem;
use crate::service::Service;
use crate::{Actor, Store, StoreError, StoreResult, next_updated_at, now_micros};
use serde::Serialize;
use std::collections::HashMap;
use steward_domain::Invalid;
use steward_domain::change::ChangeStatus;
use steward_domain::cmdb::CiDraft;
use steward_domain::design::{
    Criterion, DesignDraft, DesignStatus, Proposal, ServiceProposal, transition,
};
use steward_domain::journal::Action;
use steward_domain::request::ItemDraft;
use steward_domain::service::{ServiceDraft, ServiceStatus};

/// Something acceptance created, updated or linked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct DesignOutput {
    /// `service`, `catalogue_item`, `agreement`, `ci` (created) or `ci_link` (an existing CI
    /// now serving the service).
    pub kind: String,
    pub record_id: i64,
    /// `created`, `updated` or `linked`.
    pub action: String,
}

/// A service design record as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceDesign {
    pub id: i64,
    pub number: i64,
    pub status: DesignStatus,
    pub title: String,
    /// The change it came from; `None` for a record opened by hand.
    pub change_id: Option<i64>,
    pub target_service_id: Option<i64>,
    pub requirements: String,
    pub design: String,
    pub resources: String,
    pub transition_plan: String,
    pub criteria: Vec<Criterion>,
    pub proposal: Proposal,
    pub accepted_at: Option<i64>,
    pub accepted_by: Option<i64>,
    pub ended_at: Option<i64>,
    /// What acceptance wrote, for the auditor; empty until it is accepted.
    pub outputs: Vec<DesignOutput>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Record for ServiceDesign {
    const KIND: &'static str = "service_design";
    fn id(&self) -> i64 {
        self.id
    }
}

impl ServiceDesign {
    pub fn key(&self) -> String {
        steward_domain::design::key(self.number)
    }

    /// Its editable fields, to edit and validate again.
    pub fn draft(&self) -> DesignDraft {
        DesignDraft {
            title: self.title.clone(),
            target_service_id: self.target_service_id,
            requirements: self.requirements.clone(),
            design: self.design.clone(),
            resources: self.resources.clone(),
            transition_plan: self.transition_plan.clone(),
            criteria: self.criteria.clone(),
            proposal: self.proposal.clone(),
        }
    }

    /// The output ids of one kind.
    pub fn outputs_of(&self, kind: &str) -> Vec<i64> {
        self.outputs
            .iter()
            .filter(|o| o.kind == kind)
            .map(|o| o.record_id)
            .collect()
    }
}

#[derive(sqlx::FromRow)]
struct DesignRow {
    id: i64,
    number: i64,
    #[sqlx(try_from = "String")]
    status: DesignStatus,
    title: String,
    change_id: Option<i64>,
    target_service_id: Option<i64>,
    requirements: String,
    design: String,
    resources: String,
    transition_plan: String,
    criteria_json: String,
    proposal_json: String,
    accepted_at: Option<i64>,
    accepted_by: Option<i64>,
    ended_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl DesignRow {
    fn into_design(self, outputs: Vec<DesignOutput>) -> StoreResult<ServiceDesign> {
        let corrupt = |what: &str, e: serde_json::Error| {
            StoreError::Corrupt(format!("service design {} {what}: {e}", self.id))
        };
        Ok(ServiceDesign {
            criteria: serde_json::from_str(&self.criteria_json)
                .map_err(|e| corrupt("criteria", e))?,
            proposal: serde_json::from_str(&self.proposal_json)
                .map_err(|e| corrupt("proposal", e))?,
            id: self.id,
            number: self.number,
            status: self.status,
            title: self.title,
            change_id: self.change_id,
            target_service_id: self.target_service_id,
            requirements: self.requirements,
            design: self.design,
            resources: self.resources,
            transition_plan: self.transition_plan,
            accepted_at: self.accepted_at,
            accepted_by: self.accepted_by,
            ended_at: self.ended_at,
            outputs,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

const COLUMNS: &str = "id, number, status, title, change_id, target_service_id, requirements, design, \
    resources, transition_plan, criteria_json, proposal_json, accepted_at, accepted_by, ended_at, \
    created_at, updated_at";

/// Which design records a list shows.
#[derive(Debug, Clone, Default)]
pub struct DesignFilter {
    pub status: Option<DesignStatus>,
    /// `number` (default) or `updated_at`; a leading `-` sorts descending.
    pub sort: Option<String>,
}

/// What acceptance wrote, by kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Accepted {
    pub service_id: i64,
    /// Whether the service was created (a new service) or updated (a changed one).
    pub service_created: bool,
    pub catalogue_item_id: Option<i64>,
    pub agreement_id: Option<i64>,
    /// CIs created, in the proposal's order.
    pub ci_ids: Vec<i64>,
    /// Existing CIs now linked to the service.
    pub linked_ci_ids: Vec<i64>,
}

/// Where a change stands with design and transition: whether the policy calls it major, and
/// its design record if it has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeDesign {
    pub major: bool,
    /// `(id, key, status)` of its design record.
    pub design: Option<(i64, String, DesignStatus)>,
}

fn select(tenant_id: i64) -> Sql {
    sql(format!(
        "SELECT {COLUMNS} FROM service_designs WHERE tenant_id = $1"
    ))
    .bind(tenant_id)
}

async fn outputs_of(tx: &mut Tx, design_id: i64) -> StoreResult<Vec<DesignOutput>> {
    tx.fetch_all(
        sql("SELECT kind, record_id, action FROM service_design_outputs WHERE design_id = $1 ORDER BY id")
            .bind(design_id),
    )
    .await
}

async fn finish_row(tx: &mut Tx, row: DesignRow) -> StoreResult<ServiceDesign> {
    let outputs = outputs_of(tx, row.id).await?;
    row.into_design(outputs)
}

pub(crate) async fn read_design(
    tx: &mut Tx,
    tenant_id: i64,
    id: i64,
) -> StoreResult<ServiceDesign> {
    let row: DesignRow = tx
        .fetch_one(select(tenant_id).push_bound(" AND id = {}", id))
        .await?;
    finish_row(tx, row).await
}

fn json<T: Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Binds a draft's editable fields in the order the design writes list them: title,
/// target_service_id, requirements, design, resources, transition_plan, criteria_json,
/// proposal_json.
fn bind_draft(q: Sql, draft: &DesignDraft) -> StoreResult<Sql> {
    Ok(q.bind(&draft.title)
        .bind(draft.target_service_id)
        .bind(&draft.requirements)
        .bind(&draft.design)
        .bind(&draft.resources)
        .bind(&draft.transition_plan)
        .bind(json(&draft.criteria)?)
        .bind(json(&draft.proposal)?))
}

/// Moves the errors of a part under `prefix.`.
fn nested(prefix: &str, errors: Invalid) -> StoreError {
    let mut out = Invalid::new();
    for f in errors.errors {
        out.add(&format!("{prefix}.{}", f.field), f.message);
    }
    out.into()
}

/// Moves the field errors of a refused write of a part under `prefix.`; any other error
/// passes through.
fn nested_invalid(prefix: &str) -> impl FnOnce(StoreError) -> StoreError {
    move |e| match e {
        StoreError::Invalid(errors) => nested(prefix, errors),
        other => other,
    }
}

/// The design record a change opened, if any.
async fn design_of_change(
    tx: &mut Tx,
    tenant_id: i64,
    change_id: i64,
) -> StoreResult<Option<DesignRow>> {
    // The newest: an earlier record may have been rejected or cancelled and a new one opened.
    tx.fetch_optional(
        select(tenant_id)
            .push_bound(" AND change_id = {}", change_id)
            .push(" ORDER BY number DESC LIMIT 1"),
    )
    .await
}

/// Refuses a service id that is not a live service of the tenant.
async fn check_target(tx: &mut Tx, tenant_id: i64, target: Option<i64>) -> StoreResult<()> {
    let ids: Vec<i64> = target.into_iter().collect();
    crate::change::check_ids(
        tx,
        tenant_id,
        ("services", true),
        ("target_service_id", "Services"),
        &ids,
    )
    .await
}

impl Store {
    /// Opens a design record, numbered `SDR-n`, as a draft; `change_id` names the change it
    /// comes from (a change opens at most one).
    pub async fn create_design(
        &self,
        tenant_id: i64,
        draft: &DesignDraft,
        change_id: Option<i64>,
        actor: &Actor,
    ) -> StoreResult<ServiceDesign> {
        let mut tx = self.db.begin().await?;
        if let Some(change_id) = change_id {
            let ids = [change_id];
            crate::change::check_ids(
                &mut tx,
                tenant_id,
                ("changes", false),
                ("change_id", "Changes"),
                &ids,
            )
            .await?;
        }
        let created = self
            .create_design_in(&mut tx, tenant_id, draft, change_id, actor)
            .await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn create_design_in(
        &self,
        tx: &mut Tx,
        tenant_id: i64,
        draft: &DesignDraft,
        change_id: Option<i64>,
        actor: &Actor,
    ) -> StoreResult<ServiceDesign> {
        check_target(tx, tenant_id, draft.target_service_id).await?;
        let number = next_number(tx, tenant_id, "service_design").await?;
        let write = sql(
            "INSERT INTO service_designs (tenant_id, number, status, change_id, title, target_service_id, \
             requirements, design, resources, transition_plan, criteria_json, proposal_json, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id",
        )
        .bind(tenant_id)
        .bind(number)
        .bind(DesignStatus::Draft.as_str())
        .bind(change_id);
        let write = bind_draft(write, draft)?.bind(now_micros());
        let (id,): (i64,) = tx
            .fetch_one(write)
            .await
            .map_err(|e| {
                e.unique_as(
                    "change_id",
                    "This change already has an open design record (a new one may be opened once it is rejected or cancelled)",
                )
            })?;
        let created = read_design(tx, tenant_id, id).await?;
        self.journal(
            tx,
            Entry::of(tenant_id, actor, Action::Create, None, Some(&created)),
        )
        .await?;
        Ok(created)
    }

    /// Replaces a record's editable fields if it has not changed since `seen_updated_at`
    /// (`Conflict` otherwise). An accepted, rejected or cancelled record no longer changes.
    pub async fn update_design(
        &self,
        tenant_id: i64,
        id: i64,
        seen_updated_at: i64,
        draft: &DesignDraft,
        actor: &Actor,
    ) -> StoreResult<ServiceDesign> {
        let mut tx = self.db.begin().await?;
        let before = read_design(&mut tx, tenant_id, id).await?;
        if before.status.is_terminal() {
            return Err(StoreError::Conflict(format!(
                "{} is {}: it no longer changes",
                before.key(),
                before.status.label().to_lowercase()
            )));
        }
        if before.updated_at != seen_updated_at {
            return Err(StoreError::Conflict(format!(
                "{} was changed by someone else; reload it and try again",
                before.key()
            )));
        }
        check_target(&mut tx, tenant_id, draft.target_service_id).await?;
        let write = sql(
            "UPDATE service_designs SET title = $1, target_service_id = $2, requirements = $3, design = $4, \
             resources = $5, transition_plan = $6, criteria_json = $7, proposal_json = $8, updated_at = $9 \
             WHERE tenant_id = $10 AND id = $11 AND updated_at = $12",
        );
        tx.execute(
            bind_draft(write, draft)?
                .bind(next_updated_at(before.updated_at))
                .bind(tenant_id)
                .bind(id)
                .bind(seen_updated_at),
        )
        .await?;
        self.finish_design_write(tx, tenant_id, &before, actor)
            .await
    }

    async fn finish_design_write(
        &self,
        mut tx: Tx,
        tenant_id: i64,
        before: &ServiceDesign,
        actor: &Actor,
    ) -> StoreResult<ServiceDesign> {
        let after = read_design(&mut tx, tenant_id, before.id).await?;
        self.commit_update(tx, tenant_id, actor, before, after)
            .await
    }

    pub async fn service_design(&self, tenant_id: i64, id: i64) -> StoreResult<ServiceDesign> {
        let mut conn = self.db.snapshot().await?;
        let design = read_design(&mut conn, tenant_id, id).await?;
        conn.commit().await?;
        Ok(design)
    }

    pub async fn service_design_by_number(
        &self,
        tenant_id: i64,
        number: i64,
    ) -> StoreResult<ServiceDesign> {
        let mut conn = self.db.snapshot().await?;
        let row: DesignRow = conn
            .fetch_one(select(tenant_id).push_bound(" AND number = {}", number))
            .await?;
        let design = finish_row(&mut conn, row).await?;
        conn.commit().await?;
        Ok(design)
    }

    /// A page of design records, by number unless asked otherwise.
    pub async fn service_designs(
        &self,
        tenant_id: i64,
        f: &DesignFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<ServiceDesign>> {
        let sort = Sort::parse_or_invalid(f.sort.as_deref(), &["number", "updated_at"])?;
        let mut q = select(tenant_id);
        if let Some(status) = f.status {
            q = q.push_bound(" AND status = {}", status.as_str());
        }
        let mut conn = self.db.snapshot().await?;
        let rows: Vec<DesignRow> = conn.fetch_all(paginate(q, sort, page)?).await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            items.push(finish_row(&mut conn, row).await?);
        }
        conn.commit().await?;
        Ok(finish(items, page, |d| match sort.column {
            "updated_at" => (CursorKey::Int(d.updated_at), d.id),
            _ => (CursorKey::Int(d.number), d.id),
        }))
    }

    /// Moves a record through its lifecycle. Acceptance is not a move but [`accept_design`]
    /// (it carries out the proposal); a refusal is a `Conflict` saying what is missing.
    ///
    /// [`accept_design`]: Store::accept_design
    pub async fn transition_design(
        &self,
        tenant_id: i64,
        id: i64,
        to: DesignStatus,
        actor: &Actor,
    ) -> StoreResult<ServiceDesign> {
        let mut tx = self.db.begin().await?;
        let before = read_design(&mut tx, tenant_id, id).await?;
        if to == DesignStatus::Accepted {
            return Err(StoreError::Conflict(format!(
                "{} is accepted with “Accept and go live”, which carries out its proposal",
                before.key()
            )));
        }
        let facts = before.draft().facts(true);
        let next = transition(before.status, to, &facts).map_err(|r| {
            StoreError::Conflict(crate::change::lifecycle::capitalised(&r.to_string()))
        })?;
        let now = next_updated_at(before.updated_at);
        tx.execute(
            sql("UPDATE service_designs SET status = $1, ended_at = $2, updated_at = $3 WHERE tenant_id = $4 AND id = $5")
                .bind(next.as_str())
                .bind(next.is_terminal().then_some(now))
                .bind(now)
                .bind(tenant_id)
                .bind(id),
        )
        .await?;
        self.finish_design_write(tx, tenant_id, &before, actor)
            .await
    }

    /// Accepts a record ready for acceptance and carries out its proposal in one transaction:
    /// creates (or updates, for a changed service) the service and makes it live, creates or
    /// updates its catalogue item, creates its SLA, creates its CIs serving it and links the
    /// existing ones; then records what it wrote on the design and marks it accepted. Each
    /// write is journaled; if any part is refused (an attribute its class does not allow, an
    /// agreement name already taken...), nothing is written and the error names the part
    /// (`proposal.new_cis[0].attributes.ram`).
    pub async fn accept_design(
        &self,
        tenant_id: i64,
        id: i64,
        actor: &Actor,
    ) -> StoreResult<(ServiceDesign, Accepted)> {
        let current = self.service_design(tenant_id, id).await?;
        let proposal = current
            .proposal
            .clone()
            .validate(current.target_service_id)
            .map_err(|e| nested("proposal", e))?;
        // References to committed records are checked before the transaction, as the plain
        // writes do; what the transaction itself creates is checked inside it.
        if let Some(service) = &proposal.service {
            self.check_owner(tenant_id, service.owner_id)
                .await
                .map_err(nested_invalid("proposal.service"))?;
        }
        if let Some(agreement) = &proposal.agreement {
            let mut refs = agreement.clone();
            refs.service_id = None;
            self.check_agreement_refs(tenant_id, &refs)
                .await
                .map_err(nested_invalid("proposal.agreement"))?;
        }
        let mut classes: HashMap<i64, CiClass> = HashMap::new();
        for (i, ci) in proposal.new_cis.iter().enumerate() {
            if classes.contains_key(&ci.class_id) {
                continue;
            }
            match self.ci_class(tenant_id, ci.class_id).await {
                Ok(class) => {
                    classes.insert(ci.class_id, class);
                }
                Err(StoreError::NotFound) => {
                    return Err(Invalid::one(
                        &format!("proposal.new_cis[{i}].class_id"),
                        format!(
                            "CI class {} does not exist in this organisation",
                            ci.class_id
                        ),
                    )
                    .into());
                }
                Err(e) => return Err(e),
            }
        }
        let existing_item = match proposal.catalogue.as_ref().and_then(|c| c.item_id) {
            Some(item_id) => Some(self.item(tenant_id, item_id).await.map_err(
                missing_as_invalid("proposal.catalogue.item_id", "Catalogue item", item_id),
            )?),
            None => None,
        };

        let mut tx = self.db.begin().await?;
        let before = read_design(&mut tx, tenant_id, id).await?;
        let facts = before.draft().facts(true);
        transition(before.status, DesignStatus::Accepted, &facts).map_err(|r| {
            StoreError::Conflict(crate::change::lifecycle::capitalised(&r.to_string()))
        })?;
        let mut outputs: Vec<(&str, i64, &str)> = Vec::new();

        // The service, live from now on.
        let (service, service_created) =
            accept_service(self, &mut tx, tenant_id, &before, &proposal, actor).await?;
        outputs.push((
            "service",
            service.id,
            if service_created {
                "created"
            } else {
                "updated"
            },
        ));

        // Its catalogue item.
        let mut catalogue_item_id = None;
        if let Some(entry) = &proposal.catalogue {
            let draft = ItemDraft {
                name: entry.name.clone(),
                description: entry.description.clone(),
                category: entry.category.clone(),
                fields: existing_item
                    .as_ref()
                    .map(|i| i.fields.clone())
                    .unwrap_or_default(),
                approver_ids: existing_item
                    .as_ref()
                    .map(|i| i.approver_ids.clone())
                    .unwrap_or_default(),
                tasks: existing_item
                    .as_ref()
                    .map(|i| i.tasks.clone())
                    .unwrap_or_default(),
                active: true,
            }
            .validate()
            .map_err(|e| nested("proposal.catalogue", e))?;
            let item: CatalogueItem = self
                .save_item_in(&mut tx, tenant_id, entry.item_id, &draft, actor)
                .await?;
            catalogue_item_id = Some(item.id);
            outputs.push((
                "catalogue_item",
                item.id,
                if entry.item_id.is_some() {
                    "updated"
                } else {
                    "created"
                },
            ));
        }

        // Its SLA.
        let mut agreement_id = None;
        if let Some(agreement) = &proposal.agreement {
            let mut draft = agreement.clone();
            draft.service_id = Some(service.id);
            let agreement = draft
                .validate()
                .map_err(|e| nested("proposal.agreement", e))?;
            let stored = self
                .create_agreement_in(&mut tx, tenant_id, &agreement, actor)
                .await
                .map_err(nested_invalid("proposal.agreement"))?;
            agreement_id = Some(stored.id);
            outputs.push(("agreement", stored.id, "created"));
        }

        // Its new CIs, each serving it.
        let mut ci_ids = Vec::with_capacity(proposal.new_cis.len());
        for (i, ci) in proposal.new_cis.iter().enumerate() {
            let class = classes
                .get(&ci.class_id)
                .ok_or_else(|| StoreError::Corrupt(format!("class {} vanished", ci.class_id)))?;
            let draft = CiDraft {
                name: ci.name.clone(),
                class_id: ci.class_id,
                status: ci.status,
                description: String::new(),
                owner_id: None,
                team_id: None,
                external_id: None,
                service_ids: vec![service.id],
                attributes: ci.attributes.clone(),
            }
            .validate(&class.name, &class.attributes)
            .map_err(|e| nested(&format!("proposal.new_cis[{i}]"), e))?;
            let created = self.create_ci_in(&mut tx, tenant_id, &draft, actor).await?;
            ci_ids.push(created.id);
            outputs.push(("ci", created.id, "created"));
        }

        // Existing CIs, linked to it.
        let mut linked_ci_ids = Vec::with_capacity(proposal.link_ci_ids.len());
        for ci_id in &proposal.link_ci_ids {
            let ci: Ci = read_ci(&mut tx, tenant_id, *ci_id)
                .await
                .map_err(missing_as_invalid("proposal.link_ci_ids", "CI", *ci_id))?;
            if !ci.service_ids.contains(&service.id) {
                let mut draft = ci.draft();
                draft.service_ids.push(service.id);
                draft.service_ids.sort_unstable();
                self.update_ci_in(&mut tx, tenant_id, &ci, &draft, actor)
                    .await?;
            }
            linked_ci_ids.push(ci.id);
            outputs.push(("ci_link", ci.id, "linked"));
        }

        for (kind, record_id, action) in &outputs {
            tx.execute(
                sql("INSERT INTO service_design_outputs (tenant_id, design_id, kind, record_id, action) \
                     VALUES ($1, $2, $3, $4, $5)")
                .bind(tenant_id)
                .bind(id)
                .bind(*kind)
                .bind(*record_id)
                .bind(*action),
            )
            .await?;
        }
        let now = next_updated_at(before.updated_at);
        tx.execute(
            sql("UPDATE service_designs SET status = $1, target_service_id = $2, accepted_at = $3, accepted_by = $4, \
                 ended_at = $3, updated_at = $3 WHERE tenant_id = $5 AND id = $6")
            .bind(DesignStatus::Accepted.as_str())
            .bind(service.id)
            .bind(now)
            .bind(actor.user_id)
            .bind(tenant_id)
            .bind(id),
        )
        .await?;
        let after = self
            .finish_design_write(tx, tenant_id, &before, actor)
            .await?;
        Ok((
            after,
            Accepted {
                service_id: service.id,
                service_created,
                catalogue_item_id,
                agreement_id,
                ci_ids,
                linked_ci_ids,
            },
        ))
    }

    /// Whether the tenant's policy calls `change` major, and its design record.
    pub async fn change_design(
        &self,
        tenant_id: i64,
        change: &Change,
    ) -> StoreResult<ChangeDesign> {
        let mut conn = self.db.snapshot().await?;
        let policy = read_policy(&mut conn, tenant_id).await?;
        let design = design_of_change(&mut conn, tenant_id, change.id).await?;
        conn.commit().await?;
        Ok(ChangeDesign {
            major: policy.is_major(change.risk.as_ref().map(|r| r.level), &change.service_ids),
            design: design.map(|d| (d.id, steward_domain::design::key(d.number), d.status)),
        })
    }

    /// The change hook: a live change the policy calls major and that has no design record
    /// yet opens one as a draft, for the service it names (when it names exactly one) or a new
    /// one, with the change's reason as its first requirements.
    pub(crate) async fn open_design_for_major_change(
        &self,
        tx: &mut Tx,
        tenant_id: i64,
        change: &Change,
        actor: &Actor,
    ) -> StoreResult<()> {
        if change.status.is_terminal() {
            return Ok(());
        }
        let policy = read_policy(tx, tenant_id).await?;
        if !policy.is_major(change.risk.as_ref().map(|r| r.level), &change.service_ids)
            || design_of_change(tx, tenant_id, change.id).await?.is_some()
        {
            return Ok(());
        }
        let title: String = format!("Design and transition: {}", change.title)
            .chars()
            .take(300)
            .collect();
        let draft = DesignDraft {
            title,
            target_service_id: match change.service_ids.as_slice() {
                [one] => Some(*one),
                _ => None,
            },
            requirements: change.reason.chars().take(100_000).collect(),
            design: String::new(),
            resources: String::new(),
            transition_plan: String::new(),
            criteria: Vec::new(),
            proposal: Proposal::default(),
        };
        self.create_design_in(tx, tenant_id, &draft, Some(change.id), actor)
            .await
            .map(drop)
    }

    /// The scheduling rule: a major change (or one with a design record) moves past
    /// authorisation only once its design record is accepted. `Invalid` (a 422) otherwise.
    pub(crate) async fn check_design_accepted(
        &self,
        tx: &mut Tx,
        tenant_id: i64,
        change: &Change,
        to: ChangeStatus,
    ) -> StoreResult<()> {
        let past_authorisation = to == ChangeStatus::Scheduled
            || (to == ChangeStatus::Implementing && change.status == ChangeStatus::Authorisation);
        if !past_authorisation {
            return Ok(());
        }
        let message = match design_of_change(tx, tenant_id, change.id).await? {
            Some(d) if d.status == DesignStatus::Accepted => return Ok(()),
            Some(d) => format!(
                "{} is a major change: its service design record {} must be accepted before it is scheduled (it is {})",
                change.key(),
                steward_domain::design::key(d.number),
                d.status.label().to_lowercase()
            ),
            None => {
                let policy = read_policy(tx, tenant_id).await?;
                if !policy.is_major(change.risk.as_ref().map(|r| r.level), &change.service_ids) {
                    return Ok(());
                }
                format!(
                    "{} is a major change: open and accept its service design record before it is scheduled",
                    change.key()
                )
            }
        };
        Err(Invalid::one("to", message).into())
    }
}

/// Creates the proposed service, or updates the target with the proposed fields; either way
/// it is live afterwards.
async fn accept_service(
    store: &Store,
    tx: &mut Tx,
    tenant_id: i64,
    design: &ServiceDesign,
    proposal: &Proposal,
    actor: &Actor,
) -> StoreResult<(Service, bool)> {
    let invalid = |e: Invalid| nested("proposal.service", e);
    match design.target_service_id {
        None => {
            let draft = proposal
                .service
                .as_ref()
                .map(ServiceProposal::service_draft)
                .ok_or_else(|| {
                    Invalid::one(
                        "proposal.service",
                        "A new service needs its name and fields",
                    )
                })?
                .validate()
                .map_err(invalid)?;
            let created = store
                .create_service_in(tx, tenant_id, &draft, actor)
                .await?;
            Ok((created, true))
        }
        Some(target) => {
            let current: Service = tx
                .fetch_one(
                    sql("SELECT id, name, description, owner_id, criticality, status, created_at, updated_at \
                         FROM services WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL")
                    .bind(tenant_id)
                    .bind(target),
                )
                .await
                .map_err(missing_as_invalid("target_service_id", "Service", target))?;
            let draft = match &proposal.service {
                Some(p) => p.service_draft(),
                None => ServiceDraft {
                    name: current.name.clone(),
                    description: current.description.clone(),
                    owner_id: current.owner_id,
                    criticality: current.criticality,
                    status: ServiceStatus::Live,
                },
            }
            .validate()
            .map_err(invalid)?;
            let updated = store
                .update_service_in(tx, tenant_id, target, &draft, actor)
                .await?;
            Ok((updated, false))
        }
    }
}
