//! Configuration items: class, lifecycle status, owner, attributes, and the services they
//! serve.

use super::graph::{self, GraphOp};
use crate::db::{Sql, Tx, linked_ids, sql};
use crate::identity::like_pattern;
use crate::journal::{Change, Record};
use crate::page::{CursorKey, Page, PageRequest, Sort, finish, paginate};
use crate::refs::Ref;
use crate::{Actor, Store, StoreError, StoreResult, now_micros};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashMap;
use steward_domain::cmdb::{CiDraft, CiStatus};
use steward_domain::journal::Action;

/// A configuration item as stored (and as the journal keeps it, which `ci_as_of` reads back).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ci {
    pub id: i64,
    pub class_id: i64,
    pub name: String,
    pub status: CiStatus,
    pub description: String,
    pub owner_id: Option<i64>,
    pub team_id: Option<i64>,
    pub external_id: Option<String>,
    pub attributes: Map<String, Value>,
    /// The services it helps deliver, by id.
    pub service_ids: Vec<i64>,
    /// When someone last confirmed it matches reality.
    pub verified_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Record for Ci {
    const KIND: &'static str = "ci";
    fn id(&self) -> i64 {
        self.id
    }
}

impl Ci {
    /// Its fields as a draft, to edit and validate again for `update_ci`.
    pub fn draft(&self) -> CiDraft {
        CiDraft {
            name: self.name.clone(),
            class_id: self.class_id,
            status: self.status,
            description: self.description.clone(),
            owner_id: self.owner_id,
            team_id: self.team_id,
            external_id: self.external_id.clone(),
            service_ids: self.service_ids.clone(),
            attributes: self.attributes.clone(),
        }
    }
}

#[derive(sqlx::FromRow)]
struct CiRow {
    id: i64,
    class_id: i64,
    name: String,
    #[sqlx(try_from = "String")]
    status: CiStatus,
    description: String,
    owner_id: Option<i64>,
    team_id: Option<i64>,
    external_id: Option<String>,
    attributes_json: String,
    verified_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl CiRow {
    fn into_ci(self, service_ids: Vec<i64>) -> StoreResult<Ci> {
        let attributes = serde_json::from_str(&self.attributes_json)
            .map_err(|e| StoreError::Corrupt(format!("ci {} attributes: {e}", self.id)))?;
        Ok(Ci {
            id: self.id,
            class_id: self.class_id,
            name: self.name,
            status: self.status,
            description: self.description,
            owner_id: self.owner_id,
            team_id: self.team_id,
            external_id: self.external_id,
            attributes,
            service_ids,
            verified_at: self.verified_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

const COLUMNS: &str = "id, class_id, name, status, description, owner_id, team_id, external_id, \
                       attributes_json, verified_at, created_at, updated_at";
const EXTERNAL_TAKEN: (&str, &str) = ("external_id", "Another CI has this external id");

/// Which CIs a list shows.
#[derive(Debug, Clone, Default)]
pub struct CiFilter {
    /// Words in the name.
    pub q: Option<String>,
    pub class_id: Option<i64>,
    pub status: Option<CiStatus>,
    pub service_id: Option<i64>,
    /// `name` (default), `created_at` or `updated_at`; a leading `-` sorts descending.
    pub sort: Option<String>,
}

fn select_one(tenant_id: i64, id: i64) -> Sql {
    sql(format!(
        "SELECT {COLUMNS} FROM cis WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
}

fn attributes_json(attributes: &Map<String, Value>) -> String {
    serde_json::to_string(attributes).unwrap_or_else(|_| "{}".to_owned())
}

async fn set_services(tx: &mut Tx, tenant_id: i64, ci_id: i64, ids: &[i64]) -> StoreResult<()> {
    tx.execute(sql("DELETE FROM ci_services WHERE ci_id = $1").bind(ci_id))
        .await?;
    for id in ids {
        tx.execute(
            sql("INSERT INTO ci_services (tenant_id, ci_id, service_id) VALUES ($1, $2, $3)")
                .bind(tenant_id)
                .bind(ci_id)
                .bind(*id),
        )
        .await?;
    }
    Ok(())
}

async fn services_of(tx: &mut Tx, ci_id: i64) -> StoreResult<Vec<i64>> {
    linked_ids(tx, "ci_services", "service_id", "ci_id", ci_id).await
}

pub(crate) async fn read_ci(tx: &mut Tx, tenant_id: i64, id: i64) -> StoreResult<Ci> {
    let row: CiRow = tx.fetch_one(select_one(tenant_id, id)).await?;
    let services = services_of(tx, id).await?;
    row.into_ci(services)
}

impl Store {
    /// Checks that the draft's class, owner, team and services are the tenant's.
    async fn check_ci_refs(&self, tenant_id: i64, draft: &CiDraft) -> StoreResult<()> {
        let mut refs: Vec<Ref<'_>> = vec![
            (
                "class_id".into(),
                "ci_classes",
                Some(draft.class_id),
                "CI class",
            ),
            ("owner_id".into(), "users", draft.owner_id, "User"),
            ("team_id".into(), "teams", draft.team_id, "Team"),
        ];
        refs.extend(
            draft
                .service_ids
                .iter()
                .map(|id| ("service_ids".into(), "services", Some(*id), "Service")),
        );
        Ok(self.missing_refs(tenant_id, &refs).await?.into_result(())?)
    }

    /// Creates a CI from a draft validated against its class.
    pub async fn create_ci(
        &self,
        tenant_id: i64,
        draft: &CiDraft,
        actor: &Actor,
    ) -> StoreResult<Ci> {
        self.check_ci_refs(tenant_id, draft).await?;
        let mut tx = self.db.begin().await?;
        let created = self.create_ci_in(&mut tx, tenant_id, draft, actor).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// `create_ci` inside `tx`, journaled there; the caller has checked the draft's references.
    pub(crate) async fn create_ci_in(
        &self,
        tx: &mut Tx,
        tenant_id: i64,
        draft: &CiDraft,
        actor: &Actor,
    ) -> StoreResult<Ci> {
        let write = sql(
            "INSERT INTO cis (tenant_id, class_id, name, status, description, owner_id, team_id, external_id, \
             attributes_json, verified_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10, $10) RETURNING id",
        )
        .bind(tenant_id)
        .bind(draft.class_id)
        .bind(&draft.name)
        .bind(draft.status.as_str())
        .bind(&draft.description)
        .bind(draft.owner_id)
        .bind(draft.team_id)
        .bind(draft.external_id.clone())
        .bind(attributes_json(&draft.attributes))
        .bind(now_micros());
        let (id,): (i64,) = tx
            .fetch_one(write)
            .await
            .map_err(|e| e.unique_as(EXTERNAL_TAKEN.0, EXTERNAL_TAKEN.1))?;
        set_services(tx, tenant_id, id, &draft.service_ids).await?;
        let created = read_ci(tx, tenant_id, id).await?;
        graph::log(tx, tenant_id, &[GraphOp::AddCi(id)]).await?;
        self.journal(
            tx,
            Change::of(tenant_id, actor, Action::Create, None, Some(&created)),
        )
        .await?;
        Ok(created)
    }

    /// Replaces a CI's fields with a validated draft. A change of status must be one the
    /// lifecycle allows (`Conflict` otherwise, naming the allowed ones).
    pub async fn update_ci(
        &self,
        tenant_id: i64,
        id: i64,
        draft: &CiDraft,
        actor: &Actor,
    ) -> StoreResult<Ci> {
        let mut tx = self.db.begin().await?;
        let before = read_ci(&mut tx, tenant_id, id).await?;
        if before.status != draft.status {
            before
                .status
                .transition(draft.status)
                .map_err(|refusal| StoreError::Conflict(refusal.to_string()))?;
        }
        self.check_ci_refs(tenant_id, draft).await?;
        let after = self
            .update_ci_in(&mut tx, tenant_id, &before, draft, actor)
            .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Writes `draft` over `before` inside `tx`, journaled there; the caller has checked the
    /// status move and the draft's references.
    pub(crate) async fn update_ci_in(
        &self,
        tx: &mut Tx,
        tenant_id: i64,
        before: &Ci,
        draft: &CiDraft,
        actor: &Actor,
    ) -> StoreResult<Ci> {
        let id = before.id;
        tx.execute(
            sql("UPDATE cis SET class_id = $1, name = $2, status = $3, description = $4, owner_id = $5, \
                 team_id = $6, external_id = $7, attributes_json = $8, updated_at = $9 \
                 WHERE tenant_id = $10 AND id = $11")
            .bind(draft.class_id)
            .bind(&draft.name)
            .bind(draft.status.as_str())
            .bind(&draft.description)
            .bind(draft.owner_id)
            .bind(draft.team_id)
            .bind(draft.external_id.clone())
            .bind(attributes_json(&draft.attributes))
            .bind(now_micros().max(before.updated_at + 1))
            .bind(tenant_id)
            .bind(id),
        )
        .await
        .map_err(|e| e.unique_as(EXTERNAL_TAKEN.0, EXTERNAL_TAKEN.1))?;
        set_services(tx, tenant_id, id, &draft.service_ids).await?;
        let after = read_ci(tx, tenant_id, id).await?;
        self.journal(
            tx,
            Change::of(tenant_id, actor, Action::Update, Some(before), Some(&after)),
        )
        .await?;
        Ok(after)
    }

    /// Records that someone checked the CI against reality now.
    pub async fn verify_ci(&self, tenant_id: i64, id: i64, actor: &Actor) -> StoreResult<Ci> {
        let mut tx = self.db.begin().await?;
        let before = read_ci(&mut tx, tenant_id, id).await?;
        let now = now_micros().max(before.updated_at + 1);
        tx.execute(
            sql(
                "UPDATE cis SET verified_at = $1, updated_at = $1 WHERE tenant_id = $2 AND id = $3",
            )
            .bind(now)
            .bind(tenant_id)
            .bind(id),
        )
        .await?;
        let after = read_ci(&mut tx, tenant_id, id).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    pub async fn ci(&self, tenant_id: i64, id: i64) -> StoreResult<Ci> {
        let mut conn = self.db.snapshot().await?;
        let ci = read_ci(&mut conn, tenant_id, id).await?;
        conn.commit().await?;
        Ok(ci)
    }

    /// A page of CIs, by name unless asked otherwise.
    pub async fn cis(
        &self,
        tenant_id: i64,
        f: &CiFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Ci>> {
        let sort =
            Sort::parse_or_invalid(f.sort.as_deref(), &["name", "created_at", "updated_at"])?;
        let mut q = sql(format!("SELECT {COLUMNS} FROM cis WHERE tenant_id = $1")).bind(tenant_id);
        if let Some(text) = f.q.as_deref().filter(|t| !t.trim().is_empty()) {
            q = q.push_bound(" AND lower(name) LIKE {}", like_pattern(text.trim()));
        }
        if let Some(class_id) = f.class_id {
            q = q.push_bound(" AND class_id = {}", class_id);
        }
        if let Some(status) = f.status {
            q = q.push_bound(" AND status = {}", status.as_str());
        }
        if let Some(service_id) = f.service_id {
            q = q.push_bound(
                " AND id IN (SELECT ci_id FROM ci_services WHERE service_id = {})",
                service_id,
            );
        }
        let mut conn = self.db.snapshot().await?;
        let rows: Vec<CiRow> = conn.fetch_all(paginate(q, sort, page)?).await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            let services = services_of(&mut conn, row.id).await?;
            items.push(row.into_ci(services)?);
        }
        conn.commit().await?;
        Ok(finish(items, page, |c| match sort.column {
            "created_at" => (CursorKey::Int(c.created_at), c.id),
            "updated_at" => (CursorKey::Int(c.updated_at), c.id),
            _ => (CursorKey::Text(c.name.clone()), c.id),
        }))
    }

    /// Every CI of the tenant that has an external id, by it: what a re-import updates. Two
    /// queries whatever the size of the estate.
    pub async fn cis_by_external_id(&self, tenant_id: i64) -> StoreResult<HashMap<String, Ci>> {
        let mut conn = self.db.snapshot().await?;
        let rows: Vec<CiRow> = conn
            .fetch_all(
                sql(format!(
                    "SELECT {COLUMNS} FROM cis WHERE tenant_id = $1 AND external_id IS NOT NULL"
                ))
                .bind(tenant_id),
            )
            .await?;
        let links: Vec<(i64, i64)> = conn
            .fetch_all(
                sql(
                    "SELECT ci_id, service_id FROM ci_services WHERE tenant_id = $1 \
                     ORDER BY ci_id, service_id",
                )
                .bind(tenant_id),
            )
            .await?;
        conn.commit().await?;
        let mut services: HashMap<i64, Vec<i64>> = HashMap::new();
        for (ci_id, service_id) in links {
            services.entry(ci_id).or_default().push(service_id);
        }
        let mut out = HashMap::with_capacity(rows.len());
        for row in rows {
            let ids = services.remove(&row.id).unwrap_or_default();
            let ci = row.into_ci(ids)?;
            if let Some(external_id) = ci.external_id.clone() {
                out.insert(external_id, ci);
            }
        }
        Ok(out)
    }

    /// Name, class name and status of the tenant's CIs among `ids`, for reports that list CIs.
    pub async fn ci_labels(
        &self,
        tenant_id: i64,
        ids: &[i64],
    ) -> StoreResult<HashMap<i64, CiLabel>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(super::CHUNK) {
            // `+tenant_id`: SQLite would otherwise walk the tenant's whole index (a million
            // entries) instead of looking the ids up by primary key.
            let q = sql("SELECT c.id, c.name, k.name AS class, c.status FROM cis c \
                 JOIN ci_classes k ON k.id = c.class_id WHERE +c.tenant_id = $1")
            .bind(tenant_id);
            let rows: Vec<CiLabel> = self.db.fetch_all(super::with_ids(q, "c.id", chunk)).await?;
            out.extend(rows.into_iter().map(|r| (r.id, r)));
        }
        Ok(out)
    }
}

/// How a CI is named in lists: its name, its class's name and its status.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CiLabel {
    pub id: i64,
    pub name: String,
    pub class: String,
    pub status: String,
}
