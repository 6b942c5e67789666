//! Major incidents: the flag and its manager, the communications log and the post-incident
//! review. The flag lives in two columns of `incidents` that `Incident` does not select; this
//! module is the only one that reads or writes them.

use crate::db::{Sql, sql};
use crate::journal::{Change, Record};
use crate::{Actor, Store, StoreError, StoreResult, now_micros};
use serde::Serialize;
use std::collections::HashSet;
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::incident::{Priority, Status};
use steward_domain::journal::Action;
use steward_domain::major::{Audience, ReviewDraft, UpdateDraft};

/// The major-incident state of one incident, as the journal records it (kind `incident`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct MajorFlag {
    pub id: i64,
    pub number: i64,
    pub major: bool,
    pub major_manager_id: Option<i64>,
}

impl Record for MajorFlag {
    const KIND: &'static str = "incident";
    fn id(&self) -> i64 {
        self.id
    }
}

/// One update in the communications log of a major incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Communication {
    pub id: i64,
    pub incident_id: i64,
    pub author_id: Option<i64>,
    pub author: String,
    #[sqlx(try_from = "String")]
    pub audience: Audience,
    pub body: String,
    pub created_at: i64,
}

impl Record for Communication {
    const KIND: &'static str = "incident_communication";
    fn id(&self) -> i64 {
        self.id
    }
}

/// The post-incident review of a major incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Review {
    pub id: i64,
    pub incident_id: i64,
    pub summary: String,
    pub root_cause: String,
    pub went_well: String,
    pub improvements: String,
    pub actions: String,
    pub completed: bool,
    pub completed_at: Option<i64>,
    pub updated_at: i64,
}

impl Record for Review {
    const KIND: &'static str = "incident_review";
    fn id(&self) -> i64 {
        self.id
    }
}

/// A line of the major-incident list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct MajorIncident {
    pub id: i64,
    pub number: i64,
    pub title: String,
    #[sqlx(try_from = "String")]
    pub status: Status,
    #[sqlx(try_from = "String")]
    pub priority: Priority,
    pub major_manager_id: Option<i64>,
    pub opened_at: i64,
    pub review_completed: bool,
}

impl MajorIncident {
    pub fn key(&self) -> String {
        format!("INC-{}", self.number)
    }
}

const FLAG_COLUMNS: &str = "id, number, major, major_manager_id";
const COMM_COLUMNS: &str = "id, incident_id, author_id, author, audience, body, created_at";
const REVIEW_COLUMNS: &str = "id, incident_id, summary, root_cause, went_well, improvements, actions, completed, \
     completed_at, updated_at";

fn select_flag(tenant_id: i64, incident_id: i64) -> Sql {
    sql(format!(
        "SELECT {FLAG_COLUMNS} FROM incidents WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(incident_id)
}

fn select_review(tenant_id: i64, incident_id: i64) -> Sql {
    sql(format!(
        "SELECT {REVIEW_COLUMNS} FROM incident_reviews WHERE tenant_id = $1 AND incident_id = $2"
    ))
    .bind(tenant_id)
    .bind(incident_id)
}

fn not_major(number: i64) -> StoreError {
    StoreError::Conflict(format!(
        "INC-{number} is not a major incident; declare it major first"
    ))
}

impl Store {
    /// Whether the incident is major, and who manages it.
    pub async fn is_major(
        &self,
        tenant_id: i64,
        incident_id: i64,
    ) -> StoreResult<(bool, Option<i64>)> {
        let flag: MajorFlag = self
            .db
            .fetch_one(select_flag(tenant_id, incident_id))
            .await?;
        Ok((flag.major, flag.major_manager_id))
    }

    /// Which of `incident_ids` are major, in one query (for lists).
    pub async fn majors_among(
        &self,
        tenant_id: i64,
        incident_ids: &[i64],
    ) -> StoreResult<HashSet<i64>> {
        if incident_ids.is_empty() {
            return Ok(HashSet::new());
        }
        let mut q =
            sql("SELECT id FROM incidents WHERE tenant_id = $1 AND major = TRUE AND id IN (")
                .bind(tenant_id);
        for (n, id) in incident_ids.iter().enumerate() {
            q = q.push_bound(if n == 0 { "{}" } else { ", {}" }, *id);
        }
        let rows: Vec<(i64,)> = self.db.fetch_all(q.push(")")).await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// The manager must be an active user of the tenant who works incidents.
    async fn check_manager(&self, tenant_id: i64, manager_id: i64) -> StoreResult<()> {
        let message = match self.user(tenant_id, manager_id).await {
            Err(StoreError::NotFound) => {
                format!("User {manager_id} does not exist in this organisation")
            }
            Err(e) => return Err(e),
            Ok(u) if !u.active => format!("{} is deactivated", u.name),
            Ok(u) if !u.role.can(Permission::RecordsWrite) => {
                format!(
                    "{} cannot work incidents, so cannot manage a major one",
                    u.name
                )
            }
            Ok(_) => return Ok(()),
        };
        Err(Invalid::one("manager_id", message).into())
    }

    /// Declares the incident major under `manager_id`, or hands it to another manager.
    pub async fn declare_major(
        &self,
        tenant_id: i64,
        incident_id: i64,
        manager_id: i64,
        actor: &Actor,
    ) -> StoreResult<MajorFlag> {
        self.check_manager(tenant_id, manager_id).await?;
        self.set_major(tenant_id, incident_id, Some(manager_id), actor)
            .await
    }

    /// Ends the major-incident procedure; the log and the review stay.
    pub async fn stand_down(
        &self,
        tenant_id: i64,
        incident_id: i64,
        actor: &Actor,
    ) -> StoreResult<MajorFlag> {
        self.set_major(tenant_id, incident_id, None, actor).await
    }

    async fn set_major(
        &self,
        tenant_id: i64,
        incident_id: i64,
        manager_id: Option<i64>,
        actor: &Actor,
    ) -> StoreResult<MajorFlag> {
        let mut tx = self.db.begin().await?;
        let before: MajorFlag = tx.fetch_one(select_flag(tenant_id, incident_id)).await?;
        if manager_id.is_none() && !before.major {
            return Err(not_major(before.number));
        }
        let after: MajorFlag = tx
            .fetch_one(
                sql(format!(
                    "UPDATE incidents SET major = $1, major_manager_id = $2, updated_at = $3 \
                     WHERE tenant_id = $4 AND id = $5 RETURNING {FLAG_COLUMNS}"
                ))
                .bind(manager_id.is_some())
                .bind(manager_id)
                .bind(now_micros())
                .bind(tenant_id)
                .bind(incident_id),
            )
            .await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    /// Adds an update to the communications log of a major incident.
    pub async fn add_communication(
        &self,
        tenant_id: i64,
        incident_id: i64,
        update: &UpdateDraft,
        actor: &Actor,
    ) -> StoreResult<Communication> {
        let mut tx = self.db.begin().await?;
        let flag: MajorFlag = tx.fetch_one(select_flag(tenant_id, incident_id)).await?;
        if !flag.major {
            return Err(not_major(flag.number));
        }
        let saved: Communication = tx
            .fetch_one(
                sql(format!(
                    "INSERT INTO incident_communications (tenant_id, incident_id, author_id, author, audience, body, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COMM_COLUMNS}"
                ))
                .bind(tenant_id)
                .bind(incident_id)
                .bind(actor.user_id)
                .bind(actor.label.clone())
                .bind(update.audience.as_str())
                .bind(update.body.clone())
                .bind(now_micros()),
            )
            .await?;
        self.commit_created(tx, tenant_id, actor, saved).await
    }

    /// The communications log, oldest first.
    pub async fn communications(
        &self,
        tenant_id: i64,
        incident_id: i64,
    ) -> StoreResult<Vec<Communication>> {
        self.db
            .fetch_all(
                sql(format!(
                    "SELECT {COMM_COLUMNS} FROM incident_communications WHERE tenant_id = $1 AND incident_id = $2 ORDER BY id"
                ))
                .bind(tenant_id)
                .bind(incident_id),
            )
            .await
    }

    /// Writes the post-incident review of a major incident (the first save creates it).
    /// `completed_at` is stamped when the review is first completed and cleared if it is reopened.
    pub async fn save_review(
        &self,
        tenant_id: i64,
        incident_id: i64,
        draft: &ReviewDraft,
        actor: &Actor,
    ) -> StoreResult<Review> {
        let now = now_micros();
        let mut tx = self.db.begin().await?;
        let flag: MajorFlag = tx.fetch_one(select_flag(tenant_id, incident_id)).await?;
        if !flag.major {
            return Err(not_major(flag.number));
        }
        let before: Option<Review> = tx
            .fetch_optional(select_review(tenant_id, incident_id))
            .await?;
        let completed = draft.completed && draft.is_complete();
        let completed_at = match (&before, completed) {
            (_, false) => None,
            (
                Some(Review {
                    completed_at: Some(at),
                    ..
                }),
                true,
            ) => Some(*at),
            (_, true) => Some(now),
        };
        let write = match &before {
            None => sql(format!(
                "INSERT INTO incident_reviews (summary, root_cause, went_well, improvements, actions, completed, \
                 completed_at, updated_at, tenant_id, incident_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 RETURNING {REVIEW_COLUMNS}"
            )),
            Some(_) => sql(format!(
                "UPDATE incident_reviews SET summary = $1, root_cause = $2, went_well = $3, improvements = $4, \
                 actions = $5, completed = $6, completed_at = $7, updated_at = $8 \
                 WHERE tenant_id = $9 AND incident_id = $10 RETURNING {REVIEW_COLUMNS}"
            )),
        };
        let after: Review = tx
            .fetch_one(
                write
                    .bind(&draft.summary)
                    .bind(&draft.root_cause)
                    .bind(&draft.went_well)
                    .bind(&draft.improvements)
                    .bind(&draft.actions)
                    .bind(completed)
                    .bind(completed_at)
                    .bind(now)
                    .bind(tenant_id)
                    .bind(incident_id),
            )
            .await?;
        let action = if before.is_some() {
            Action::Update
        } else {
            Action::Create
        };
        self.journal(
            &mut tx,
            Change::of(tenant_id, actor, action, before.as_ref(), Some(&after)),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The post-incident review, if one was started.
    pub async fn review(&self, tenant_id: i64, incident_id: i64) -> StoreResult<Option<Review>> {
        self.db
            .fetch_optional(select_review(tenant_id, incident_id))
            .await
    }

    /// Major incidents, newest first; `open_only` leaves out closed and cancelled ones.
    pub async fn major_incidents(
        &self,
        tenant_id: i64,
        open_only: bool,
    ) -> StoreResult<Vec<MajorIncident>> {
        let mut q = sql(
            "SELECT i.id, i.number, i.title, i.status, i.priority, i.major_manager_id, i.opened_at, \
             COALESCE(r.completed, FALSE) AS review_completed \
             FROM incidents i LEFT JOIN incident_reviews r ON r.tenant_id = i.tenant_id AND r.incident_id = i.id \
             WHERE i.tenant_id = $1 AND i.major = TRUE",
        )
        .bind(tenant_id);
        if open_only {
            q = q.push(" AND i.status NOT IN ('closed', 'cancelled')");
        }
        self.db
            .fetch_all(q.push(" ORDER BY i.number DESC LIMIT 500"))
            .await
    }
}
