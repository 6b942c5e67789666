//! Teams and their members.

use crate::db::sql;
use crate::journal::{Change, Record, RecordWrite};
use crate::page::{CursorKey, Page, PageRequest, Sort, finish, paginate};
use crate::{Actor, Store, StoreResult, now_micros};
use serde::Serialize;
use steward_domain::Invalid;
use steward_domain::journal::Action;
use steward_domain::team::TeamDraft;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Team {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Record for Team {
    const KIND: &'static str = "team";
    fn id(&self) -> i64 {
        self.id
    }
}

const COLUMNS: &str = "id, name, description, created_at, updated_at";
const NAME_TAKEN: (&str, &str) = ("name", "A team with this name already exists");

fn select_one(tenant_id: i64, id: i64) -> crate::db::Sql {
    sql(format!(
        "SELECT {COLUMNS} FROM teams WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL"
    ))
    .bind(tenant_id)
    .bind(id)
}

impl Store {
    pub async fn create_team(
        &self,
        tenant_id: i64,
        d: &TeamDraft,
        actor: &Actor,
    ) -> StoreResult<Team> {
        self.write_record(RecordWrite {
            tenant_id,
            action: Action::Create,
            actor,
            before: None,
            write: sql(format!(
                "INSERT INTO teams (tenant_id, name, description, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING {COLUMNS}"
            ))
            .bind(tenant_id)
            .bind(&d.name)
            .bind(&d.description)
            .bind(now_micros()),
            unique: Some(NAME_TAKEN),
        })
        .await
    }

    pub async fn team(&self, tenant_id: i64, id: i64) -> StoreResult<Team> {
        self.db.fetch_one(select_one(tenant_id, id)).await
    }

    pub async fn update_team(
        &self,
        tenant_id: i64,
        id: i64,
        d: &TeamDraft,
        actor: &Actor,
    ) -> StoreResult<Team> {
        self.write_record(RecordWrite {
            tenant_id,
            action: Action::Update,
            actor,
            before: Some(select_one(tenant_id, id)),
            write: sql(format!(
                "UPDATE teams SET name = $1, description = $2, updated_at = $3 WHERE tenant_id = $4 AND id = $5 AND deleted_at IS NULL RETURNING {COLUMNS}"
            ))
            .bind(&d.name)
            .bind(&d.description)
            .bind(now_micros())
            .bind(tenant_id)
            .bind(id),
            unique: Some(NAME_TAKEN),
        })
        .await
    }

    pub async fn delete_team(&self, tenant_id: i64, id: i64, actor: &Actor) -> StoreResult<()> {
        self.write_record::<Team>(RecordWrite {
            tenant_id,
            action: Action::Delete,
            actor,
            before: Some(select_one(tenant_id, id)),
            write: sql(format!(
                "UPDATE teams SET deleted_at = $1 WHERE tenant_id = $2 AND id = $3 AND deleted_at IS NULL RETURNING {COLUMNS}"
            ))
            .bind(now_micros())
            .bind(tenant_id)
            .bind(id),
            unique: None,
        })
        .await
        .map(drop)
    }

    pub async fn teams(
        &self,
        tenant_id: i64,
        sort: Option<&str>,
        page: &PageRequest,
    ) -> StoreResult<Page<Team>> {
        let sort = Sort::parse(sort, &["name", "created_at"]).ok_or_else(|| {
            Invalid::one(
                "sort",
                "sort must be name or created_at, optionally with a leading -",
            )
        })?;
        let q = sql(format!(
            "SELECT {COLUMNS} FROM teams WHERE tenant_id = $1 AND deleted_at IS NULL"
        ))
        .bind(tenant_id);
        let rows: Vec<Team> = self.db.fetch_all(paginate(q, sort, page)?).await?;
        Ok(finish(rows, page, |t| match sort.column {
            "created_at" => (CursorKey::Int(t.created_at), t.id),
            _ => (CursorKey::Text(t.name.clone()), t.id),
        }))
    }

    /// Member user ids of a team, in id order.
    pub async fn team_members(&self, tenant_id: i64, team_id: i64) -> StoreResult<Vec<i64>> {
        let rows: Vec<(i64,)> = self
            .db
            .fetch_all(
                sql("SELECT user_id FROM team_members WHERE tenant_id = $1 AND team_id = $2 ORDER BY user_id")
                    .bind(tenant_id)
                    .bind(team_id),
            )
            .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Replaces a team's membership. Every member must be a user of the same tenant.
    pub async fn set_team_members(
        &self,
        tenant_id: i64,
        team_id: i64,
        members: &[i64],
        actor: &Actor,
    ) -> StoreResult<Vec<i64>> {
        let mut wanted = members.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        let mut tx = self.db.begin().await?;
        tx.fetch_one::<Team>(select_one(tenant_id, team_id)).await?;
        for user_id in &wanted {
            let found: Option<(i64,)> = tx
                .fetch_optional(
                    sql("SELECT id FROM users WHERE tenant_id = $1 AND id = $2")
                        .bind(tenant_id)
                        .bind(*user_id),
                )
                .await?;
            if found.is_none() {
                return Err(Invalid::one(
                    "members",
                    format!("User {user_id} is not a user of this organisation"),
                )
                .into());
            }
        }
        let before: Vec<(i64,)> = tx
            .fetch_all(
                sql("SELECT user_id FROM team_members WHERE team_id = $1 ORDER BY user_id")
                    .bind(team_id),
            )
            .await?;
        let before: Vec<i64> = before.into_iter().map(|r| r.0).collect();
        if before == wanted {
            return Ok(wanted);
        }
        tx.execute(sql("DELETE FROM team_members WHERE team_id = $1").bind(team_id))
            .await?;
        for user_id in &wanted {
            tx.execute(
                sql("INSERT INTO team_members (tenant_id, team_id, user_id) VALUES ($1, $2, $3)")
                    .bind(tenant_id)
                    .bind(team_id)
                    .bind(*user_id),
            )
            .await?;
        }
        self.journal(
            &mut tx,
            Change {
                tenant_id,
                actor,
                action: Action::Update,
                record_type: Team::KIND,
                record_id: team_id,
                before: Some(serde_json::json!({ "members": before })),
                after: Some(serde_json::json!({ "members": wanted })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(wanted)
    }
}
