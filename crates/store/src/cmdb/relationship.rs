//! Relationship types (the built-in four and those an admin adds) and the relationships
//! between CIs. A relationship copies its type's dependency direction, so the impact graph and
//! its log never need to look the type up.

use super::graph::{self, GraphOp};
use crate::db::sql;
use crate::journal::{Change, Record};
use crate::refs::Ref;
use crate::{Actor, Store, StoreError, StoreResult, now_micros};
use serde::Serialize;
use steward_domain::Invalid;
use steward_domain::cmdb::relationship::check_relationship;
use steward_domain::cmdb::{BuiltinRelationship, Dependency, Edge, RelationshipTypeDraft};
use steward_domain::journal::Action;

/// A relationship type: built in (`id` is `None`) or the tenant's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RelationshipType {
    pub id: Option<i64>,
    pub name: String,
    /// How it reads from the source: "depends on".
    pub label: String,
    /// How it reads from the target: "is needed by".
    pub reverse_label: String,
    pub dependency: Dependency,
}

impl RelationshipType {
    fn builtin(b: BuiltinRelationship) -> RelationshipType {
        let (label, reverse_label) = b.labels();
        RelationshipType {
            id: None,
            name: b.as_str().to_owned(),
            label: label.to_owned(),
            reverse_label: reverse_label.to_owned(),
            dependency: b.dependency(),
        }
    }
}

impl Record for RelationshipType {
    const KIND: &'static str = "ci_relationship_type";
    fn id(&self) -> i64 {
        self.id.unwrap_or_default()
    }
}

#[derive(sqlx::FromRow)]
struct TypeRow {
    id: i64,
    name: String,
    label: String,
    reverse_label: String,
    dependency: String,
}

impl TryFrom<TypeRow> for RelationshipType {
    type Error = StoreError;
    fn try_from(r: TypeRow) -> StoreResult<Self> {
        Ok(RelationshipType {
            dependency: Dependency::parse(&r.dependency).ok_or_else(|| {
                StoreError::Corrupt(format!("relationship type {} dependency", r.id))
            })?,
            id: Some(r.id),
            name: r.name,
            label: r.label,
            reverse_label: r.reverse_label,
        })
    }
}

/// `source` relates to `target` as `type_name` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct CiRelationship {
    pub id: i64,
    pub source_id: i64,
    pub target_id: i64,
    pub type_name: String,
    #[sqlx(try_from = "String")]
    pub dependency: Dependency,
    pub created_at: i64,
}

impl CiRelationship {
    fn edge(&self) -> Edge {
        Edge {
            relationship_id: self.id,
            source_id: self.source_id,
            target_id: self.target_id,
            dependency: self.dependency,
        }
    }
}

impl Record for CiRelationship {
    const KIND: &'static str = "ci_relationship";
    fn id(&self) -> i64 {
        self.id
    }
}

const TYPE_COLUMNS: &str = "id, name, label, reverse_label, dependency";
const COLUMNS: &str = "id, source_id, target_id, type_name, dependency, created_at";

impl Store {
    /// The built-in types, then the tenant's own by name.
    pub async fn relationship_types(&self, tenant_id: i64) -> StoreResult<Vec<RelationshipType>> {
        let rows: Vec<TypeRow> = self
            .db
            .fetch_all(
                sql(format!(
                    "SELECT {TYPE_COLUMNS} FROM ci_relationship_types WHERE tenant_id = $1 ORDER BY name"
                ))
                .bind(tenant_id),
            )
            .await?;
        let own = rows
            .into_iter()
            .map(RelationshipType::try_from)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(BuiltinRelationship::ALL
            .iter()
            .map(|b| RelationshipType::builtin(*b))
            .chain(own)
            .collect())
    }

    /// Adds a validated relationship type of the tenant's own.
    pub async fn create_relationship_type(
        &self,
        tenant_id: i64,
        draft: &RelationshipTypeDraft,
        actor: &Actor,
    ) -> StoreResult<RelationshipType> {
        let write = sql(format!(
            "INSERT INTO ci_relationship_types (tenant_id, name, label, reverse_label, dependency, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {TYPE_COLUMNS}"
        ))
        .bind(tenant_id)
        .bind(&draft.name)
        .bind(&draft.label)
        .bind(&draft.reverse_label)
        .bind(draft.dependency.as_str())
        .bind(now_micros());
        let mut tx = self.db.begin().await?;
        let created: RelationshipType = tx
            .fetch_one::<TypeRow>(write)
            .await
            .map_err(|e| e.unique_as("name", "A relationship type with this name already exists"))?
            .try_into()?;
        self.commit_created(tx, tenant_id, actor, created).await
    }

    async fn relationship_type(&self, tenant_id: i64, name: &str) -> StoreResult<RelationshipType> {
        self.relationship_types(tenant_id)
            .await?
            .into_iter()
            .find(|t| t.name == name.trim())
            .ok_or_else(|| {
                Invalid::one(
                    "type",
                    format!("There is no relationship type `{}`", name.trim()),
                )
                .into()
            })
    }

    /// Relates `source` to `target` as `type_name` says. Both CIs must be the tenant's; the
    /// same relationship twice is refused.
    pub async fn create_ci_relationship(
        &self,
        tenant_id: i64,
        source_id: i64,
        target_id: i64,
        type_name: &str,
        actor: &Actor,
    ) -> StoreResult<CiRelationship> {
        check_relationship(source_id, target_id)?;
        let kind = self.relationship_type(tenant_id, type_name).await?;
        let refs: [Ref<'_>; 2] = [
            ("source".into(), "cis", Some(source_id), "CI"),
            ("target".into(), "cis", Some(target_id), "CI"),
        ];
        self.missing_refs(tenant_id, &refs).await?.into_result(())?;
        let mut tx = self.db.begin().await?;
        let write = sql(format!(
            "INSERT INTO ci_relationships (tenant_id, source_id, target_id, type_name, dependency, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
        ))
        .bind(tenant_id)
        .bind(source_id)
        .bind(target_id)
        .bind(&kind.name)
        .bind(kind.dependency.as_str())
        .bind(now_micros());
        let created: CiRelationship = tx
            .fetch_one(write)
            .await
            .map_err(|e| e.unique_as("type", "These CIs are already related this way"))?;
        graph::log(
            &mut tx,
            tenant_id,
            &[GraphOp::AddRelationship(created.edge())],
        )
        .await?;
        self.commit_created(tx, tenant_id, actor, created).await
    }

    /// Removes a relationship; the journal keeps what it was.
    pub async fn delete_ci_relationship(
        &self,
        tenant_id: i64,
        id: i64,
        actor: &Actor,
    ) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let before: CiRelationship = tx
            .fetch_one(
                sql(format!(
                    "SELECT {COLUMNS} FROM ci_relationships WHERE tenant_id = $1 AND id = $2"
                ))
                .bind(tenant_id)
                .bind(id),
            )
            .await?;
        tx.execute(
            sql("DELETE FROM ci_relationships WHERE tenant_id = $1 AND id = $2")
                .bind(tenant_id)
                .bind(id),
        )
        .await?;
        graph::log(
            &mut tx,
            tenant_id,
            &[GraphOp::RemoveRelationship(before.edge())],
        )
        .await?;
        self.journal(
            &mut tx,
            Change::of(tenant_id, actor, Action::Delete, Some(&before), None),
        )
        .await?;
        tx.commit().await
    }

    pub async fn ci_relationship(&self, tenant_id: i64, id: i64) -> StoreResult<CiRelationship> {
        self.db
            .fetch_one(
                sql(format!(
                    "SELECT {COLUMNS} FROM ci_relationships WHERE tenant_id = $1 AND id = $2"
                ))
                .bind(tenant_id)
                .bind(id),
            )
            .await
    }

    /// The relationship from `source` to `target` of type `type_name`, if there is one.
    pub async fn ci_relationship_between(
        &self,
        tenant_id: i64,
        source_id: i64,
        target_id: i64,
        type_name: &str,
    ) -> StoreResult<Option<CiRelationship>> {
        self.db
            .fetch_optional(
                sql(format!(
                    "SELECT {COLUMNS} FROM ci_relationships WHERE tenant_id = $1 AND source_id = $2 \
                     AND target_id = $3 AND type_name = $4"
                ))
                .bind(tenant_id)
                .bind(source_id)
                .bind(target_id)
                .bind(type_name),
            )
            .await
    }

    /// The relationships a CI is in, either end, oldest first.
    pub async fn ci_relationships_of(
        &self,
        tenant_id: i64,
        ci_id: i64,
    ) -> StoreResult<Vec<CiRelationship>> {
        self.db
            .fetch_all(
                sql(format!(
                    "SELECT {COLUMNS} FROM ci_relationships WHERE tenant_id = $1 AND source_id = $2 \
                     UNION ALL SELECT {COLUMNS} FROM ci_relationships WHERE tenant_id = $1 AND target_id = $2 \
                     ORDER BY id"
                ))
                .bind(tenant_id)
                .bind(ci_id),
            )
            .await
    }
}
