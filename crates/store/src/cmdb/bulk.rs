//! Loading a whole estate at once (`steward bench cmdb`, large imports): CIs and relationships
//! in multi-row inserts, each journaled as a single create journals it, in one transaction per
//! batch. The graph version moves on once per batch without a log entry per change, so every
//! node reads the graph whole on its next question instead of replaying millions of entries.

use super::ci::Ci;
use super::graph;
use super::relationship::CiRelationship;
use crate::bulk::insert_rows;
use crate::journal::Change;
use crate::{Actor, Store, StoreResult, now_micros};
use steward_domain::cmdb::{CiDraft, Dependency};
use steward_domain::journal::Action;

const CI_COLUMNS: [&str; 11] = [
    "tenant_id",
    "class_id",
    "name",
    "status",
    "description",
    "owner_id",
    "team_id",
    "external_id",
    "attributes_json",
    "created_at",
    "updated_at",
];

const RELATIONSHIP_COLUMNS: [&str; 6] = [
    "tenant_id",
    "source_id",
    "target_id",
    "type_name",
    "dependency",
    "created_at",
];

/// A relationship to load: the CIs by id, the type by name, its dependency as the type says.
#[derive(Debug, Clone)]
pub struct NewRelationship {
    pub source_id: i64,
    pub target_id: i64,
    pub type_name: String,
    pub dependency: Dependency,
}

impl Store {
    /// Inserts CIs from drafts already validated against their classes (services are not
    /// linked); returns their ids in order.
    pub async fn load_cis(
        &self,
        tenant_id: i64,
        drafts: &[CiDraft],
        actor: &Actor,
    ) -> StoreResult<Vec<i64>> {
        let now = now_micros();
        let mut tx = self.db.begin().await?;
        let ids = insert_rows(&mut tx, "cis", &CI_COLUMNS, drafts, |q, _, d| {
            q.bind(tenant_id)
                .bind(d.class_id)
                .bind(d.name.clone())
                .bind(d.status.as_str())
                .bind(d.description.clone())
                .bind(d.owner_id)
                .bind(d.team_id)
                .bind(d.external_id.clone())
                .bind(serde_json::to_string(&d.attributes).unwrap_or_else(|_| "{}".into()))
                .bind(now)
                .bind(now)
        })
        .await?;
        let cis: Vec<Ci> = ids
            .iter()
            .zip(drafts)
            .map(|(&id, d)| Ci {
                id,
                class_id: d.class_id,
                name: d.name.clone(),
                status: d.status,
                description: d.description.clone(),
                owner_id: d.owner_id,
                team_id: d.team_id,
                external_id: d.external_id.clone(),
                attributes: d.attributes.clone(),
                service_ids: Vec::new(),
                verified_at: None,
                created_at: now,
                updated_at: now,
            })
            .collect();
        let changes = cis
            .iter()
            .map(|ci| Change::of(tenant_id, actor, Action::Create, None, Some(ci)))
            .collect();
        self.journal_many(&mut tx, changes).await?;
        graph::changed_wholesale(&mut tx, tenant_id).await?;
        tx.commit().await?;
        Ok(ids)
    }

    /// Inserts relationships between CIs already known to be the tenant's, of types already
    /// known to exist; returns their ids in order.
    pub async fn load_ci_relationships(
        &self,
        tenant_id: i64,
        rows: &[NewRelationship],
        actor: &Actor,
    ) -> StoreResult<Vec<i64>> {
        let now = now_micros();
        let mut tx = self.db.begin().await?;
        let ids = insert_rows(
            &mut tx,
            "ci_relationships",
            &RELATIONSHIP_COLUMNS,
            rows,
            |q, _, r| {
                q.bind(tenant_id)
                    .bind(r.source_id)
                    .bind(r.target_id)
                    .bind(r.type_name.clone())
                    .bind(r.dependency.as_str())
                    .bind(now)
            },
        )
        .await?;
        let created: Vec<CiRelationship> = ids
            .iter()
            .zip(rows)
            .map(|(&id, r)| CiRelationship {
                id,
                source_id: r.source_id,
                target_id: r.target_id,
                type_name: r.type_name.clone(),
                dependency: r.dependency,
                created_at: now,
            })
            .collect();
        let changes = created
            .iter()
            .map(|r| Change::of(tenant_id, actor, Action::Create, None, Some(r)))
            .collect();
        self.journal_many(&mut tx, changes).await?;
        graph::changed_wholesale(&mut tx, tenant_id).await?;
        tx.commit().await?;
        Ok(ids)
    }
}
