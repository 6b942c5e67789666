//! Release and deployment management (ISO/IEC 20000-1 8.5.3): what `steward_domain::release`
//! decided, kept.
//!
//! A release (`REL-n`, numbered per tenant like changes) groups changes, lists the known errors
//! it ships with, carries its acceptance criteria with their sign-off, and its deployments per
//! environment. The release's journal entry holds all of that, so every write below (a sign-off,
//! a deployment, its outcome) is one journaled update of the release, in its transaction.
//!
//! A deployment that ends `succeeded` may carry CI updates (`status`, attribute values such as a
//! new `version`): they go through the CMDB's own update path (`update_ci_in`) in the same
//! transaction as the outcome, validated against the CI's class schema and journaled per CI.
//! Status and attributes leave the dependency graph untouched, and the health report reads the
//! database afresh, so no CMDB cache can fall behind.

use crate::change::check_ids;
use crate::cmdb::ci::read_ci;
use crate::db::{Sql, Tx, linked_ids, sql};
use crate::incident::next_number;
use crate::journal::Record;
use crate::page::{CursorKey, Page, PageRequest, Sort, finish, paginate};
use crate::refs::Ref;
use crate::{Actor, Store, StoreError, StoreResult, next_updated_at, now_micros};
use serde::Serialize;
use serde_json::{Map, Value};
use steward_domain::Invalid;
use steward_domain::cmdb::CiStatus;
use steward_domain::release::{
    CriterionDraft, DeploymentDraft, DeploymentOutcome, Facts, OutcomeDraft, ReleaseDraft,
    ReleaseKind, ReleaseRefusal, ReleaseStatus, SignOff, Verdict, all_accepted, may_deploy,
    transition,
};

/// Most changes or known errors one release may list.
pub const MAX_LINKED: usize = 1_000;
/// Most CIs one deployment may update.
pub const MAX_CI_UPDATES: usize = 500;

/// A release as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Release {
    pub id: i64,
    pub number: i64,
    pub kind: ReleaseKind,
    pub status: ReleaseStatus,
    pub title: String,
    pub description: String,
    pub planned_start: Option<i64>,
    pub planned_end: Option<i64>,
    pub manager_id: Option<i64>,
    /// The changes it groups, by id.
    pub change_ids: Vec<i64>,
    /// The known errors accepted into it (shipped with it, and listed in its notes), by id.
    pub known_error_ids: Vec<i64>,
    pub criteria: Vec<Criterion>,
    pub deployments: Vec<Deployment>,
    pub ended_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Release {
    pub fn key(&self) -> String {
        steward_domain::release::key(self.number)
    }

    pub fn draft(&self) -> ReleaseDraft {
        ReleaseDraft {
            title: self.title.clone(),
            kind: self.kind,
            description: self.description.clone(),
            planned_start: self.planned_start,
            planned_end: self.planned_end,
            manager_id: self.manager_id,
        }
    }

    /// What the lifecycle's guards need to know.
    pub fn facts(&self) -> Facts {
        let verdicts: Vec<Option<Verdict>> = self.criteria.iter().map(|c| c.verdict).collect();
        Facts {
            criteria_accepted: all_accepted(&verdicts),
            deployment_succeeded: self
                .deployments
                .iter()
                .any(|d| d.outcome == DeploymentOutcome::Succeeded),
            deployment_in_progress: self
                .deployments
                .iter()
                .any(|d| d.outcome == DeploymentOutcome::InProgress),
        }
    }
}

impl Record for Release {
    const KIND: &'static str = "release";
    fn id(&self) -> i64 {
        self.id
    }
}

/// An acceptance criterion and its sign-off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Criterion {
    pub id: i64,
    pub text: String,
    pub verdict: Option<Verdict>,
    pub signed_by: Option<i64>,
    pub signed_at: Option<i64>,
    pub comment: String,
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
struct CriterionRow {
    id: i64,
    text: String,
    verdict: Option<String>,
    signed_by: Option<i64>,
    signed_at: Option<i64>,
    comment: String,
    created_at: i64,
}

impl CriterionRow {
    fn into_criterion(self) -> StoreResult<Criterion> {
        let verdict = match self.verdict.as_deref() {
            None => None,
            Some(text) => Some(Verdict::parse(text).ok_or_else(|| {
                StoreError::Corrupt(format!("release criterion {} verdict", self.id))
            })?),
        };
        Ok(Criterion {
            id: self.id,
            text: self.text,
            verdict,
            signed_by: self.signed_by,
            signed_at: self.signed_at,
            comment: self.comment,
            created_at: self.created_at,
        })
    }
}

/// A deployment of the release to one environment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deployment {
    pub id: i64,
    pub environment: String,
    pub planned_start: Option<i64>,
    pub planned_end: Option<i64>,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub outcome: DeploymentOutcome,
    pub verification_notes: String,
    pub rollback_notes: String,
    pub created_by: Option<i64>,
    /// What its completion changed on the CIs it touched.
    pub ci_updates: Vec<CiUpdate>,
}

/// What a deployment changes on one CI: a new status and/or attribute values (merged over the
/// CI's; a `null` value removes the attribute). Absent fields leave the CI as it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CiUpdate {
    pub ci_id: i64,
    pub status: Option<CiStatus>,
    pub attributes: Option<Map<String, Value>>,
}

#[derive(sqlx::FromRow)]
struct ReleaseRow {
    id: i64,
    number: i64,
    #[sqlx(try_from = "String")]
    kind: ReleaseKind,
    #[sqlx(try_from = "String")]
    status: ReleaseStatus,
    title: String,
    description: String,
    planned_start: Option<i64>,
    planned_end: Option<i64>,
    manager_id: Option<i64>,
    ended_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct DeploymentRow {
    id: i64,
    environment: String,
    planned_start: Option<i64>,
    planned_end: Option<i64>,
    started_at: i64,
    ended_at: Option<i64>,
    #[sqlx(try_from = "String")]
    outcome: DeploymentOutcome,
    verification_notes: String,
    rollback_notes: String,
    created_by: Option<i64>,
}

const COLUMNS: &str = "id, number, kind, status, title, description, planned_start, planned_end, \
    manager_id, ended_at, created_at, updated_at";

/// Which releases a list shows.
#[derive(Debug, Clone, Default)]
pub struct ReleaseFilter {
    pub status: Option<ReleaseStatus>,
    pub kind: Option<ReleaseKind>,
    /// `number` (default) or `updated_at`; a leading `-` sorts descending.
    pub sort: Option<String>,
}

fn select(tenant_id: i64) -> Sql {
    sql(format!(
        "SELECT {COLUMNS} FROM releases WHERE tenant_id = $1"
    ))
    .bind(tenant_id)
}

async fn deployments_of(tx: &mut Tx, release_id: i64) -> StoreResult<Vec<Deployment>> {
    let rows: Vec<DeploymentRow> = tx
        .fetch_all(
            sql("SELECT id, environment, planned_start, planned_end, started_at, ended_at, outcome, \
                 verification_notes, rollback_notes, created_by FROM release_deployments \
                 WHERE release_id = $1 ORDER BY id")
            .bind(release_id),
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let updates: Vec<(i64, Option<String>, Option<String>)> = tx
            .fetch_all(
                sql(
                    "SELECT ci_id, status, attributes_json FROM release_deployment_cis \
                     WHERE deployment_id = $1 ORDER BY ci_id",
                )
                .bind(r.id),
            )
            .await?;
        let corrupt = |what: &str| StoreError::Corrupt(format!("deployment {} {what}", r.id));
        let mut ci_updates = Vec::with_capacity(updates.len());
        for (ci_id, status, attributes) in updates {
            ci_updates.push(CiUpdate {
                ci_id,
                status: status
                    .map(|s| CiStatus::parse(&s).ok_or_else(|| corrupt("CI status")))
                    .transpose()?,
                attributes: attributes
                    .map(|a| serde_json::from_str(&a).map_err(|_| corrupt("CI attributes")))
                    .transpose()?,
            });
        }
        out.push(Deployment {
            id: r.id,
            environment: r.environment,
            planned_start: r.planned_start,
            planned_end: r.planned_end,
            started_at: r.started_at,
            ended_at: r.ended_at,
            outcome: r.outcome,
            verification_notes: r.verification_notes,
            rollback_notes: r.rollback_notes,
            created_by: r.created_by,
            ci_updates,
        });
    }
    Ok(out)
}

async fn complete(tx: &mut Tx, row: ReleaseRow) -> StoreResult<Release> {
    let id = row.id;
    let criteria: Vec<CriterionRow> = tx
        .fetch_all(
            sql(
                "SELECT id, text, verdict, signed_by, signed_at, comment, created_at \
                 FROM release_criteria WHERE release_id = $1 ORDER BY id",
            )
            .bind(id),
        )
        .await?;
    Ok(Release {
        id,
        number: row.number,
        kind: row.kind,
        status: row.status,
        title: row.title,
        description: row.description,
        planned_start: row.planned_start,
        planned_end: row.planned_end,
        manager_id: row.manager_id,
        change_ids: linked_ids(tx, "release_changes", "change_id", "release_id", id).await?,
        known_error_ids: linked_ids(
            tx,
            "release_known_errors",
            "known_error_id",
            "release_id",
            id,
        )
        .await?,
        criteria: criteria
            .into_iter()
            .map(CriterionRow::into_criterion)
            .collect::<StoreResult<_>>()?,
        deployments: deployments_of(tx, id).await?,
        ended_at: row.ended_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

pub(crate) async fn read_release(tx: &mut Tx, tenant_id: i64, id: i64) -> StoreResult<Release> {
    let row: ReleaseRow = tx
        .fetch_one(select(tenant_id).push_bound(" AND id = {}", id))
        .await?;
    complete(tx, row).await
}

/// Binds a draft's fields in the order the release writes list them: kind, title,
/// description, planned_start, planned_end, manager_id.
fn bind_draft(q: Sql, draft: &ReleaseDraft) -> Sql {
    q.bind(draft.kind.as_str())
        .bind(&draft.title)
        .bind(&draft.description)
        .bind(draft.planned_start)
        .bind(draft.planned_end)
        .bind(draft.manager_id)
}

/// Refuses any write to a release that has ended.
fn check_open(release: &Release) -> StoreResult<()> {
    if release.status.is_terminal() {
        return Err(StoreError::Conflict(format!(
            "{} is {} and can no longer change",
            release.key(),
            release.status
        )));
    }
    Ok(())
}

async fn touch(tx: &mut Tx, before: &Release) -> StoreResult<i64> {
    let now = next_updated_at(before.updated_at);
    tx.execute(
        sql("UPDATE releases SET updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(before.id),
    )
    .await?;
    Ok(now)
}

/// Sorted, deduplicated ids, at most [`MAX_LINKED`].
fn clean_ids(field: &str, label: &str, ids: &[i64]) -> StoreResult<Vec<i64>> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() > MAX_LINKED {
        return Err(
            Invalid::one(field, format!("{label}: at most {MAX_LINKED} per release")).into(),
        );
    }
    Ok(ids)
}

impl Store {
    async fn check_release_manager(&self, tenant_id: i64, draft: &ReleaseDraft) -> StoreResult<()> {
        let refs: Vec<Ref<'_>> = vec![("manager_id".into(), "users", draft.manager_id, "User")];
        Ok(self.missing_refs(tenant_id, &refs).await?.into_result(())?)
    }

    /// Reads the release again, journals it against `before` and commits.
    async fn finish_release_write(
        &self,
        mut tx: Tx,
        tenant_id: i64,
        before: &Release,
        actor: &Actor,
    ) -> StoreResult<Release> {
        let after = read_release(&mut tx, tenant_id, before.id).await?;
        self.commit_update(tx, tenant_id, actor, before, after)
            .await
    }

    /// Plans a release, numbered `REL-n`.
    pub async fn create_release(
        &self,
        tenant_id: i64,
        draft: &ReleaseDraft,
        actor: &Actor,
    ) -> StoreResult<Release> {
        self.check_release_manager(tenant_id, draft).await?;
        let mut tx = self.db.begin().await?;
        let number = next_number(&mut tx, tenant_id, "release").await?;
        let write = sql(
            "INSERT INTO releases (tenant_id, number, status, kind, title, description, \
             planned_start, planned_end, manager_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
        )
        .bind(tenant_id)
        .bind(number)
        .bind(ReleaseStatus::Planned.as_str());
        let (id,): (i64,) = tx
            .fetch_one(bind_draft(write, draft).bind(now_micros()))
            .await?;
        let created = read_release(&mut tx, tenant_id, id).await?;
        self.commit_created(tx, tenant_id, actor, created).await
    }

    /// Replaces a release's editable fields. `expected_updated_at`, when given, is the
    /// `updated_at` the editor read: if the release changed since, nothing is written and the
    /// answer is a `Conflict` (optimistic concurrency). Its kind may change only while planned.
    pub async fn update_release(
        &self,
        tenant_id: i64,
        id: i64,
        draft: &ReleaseDraft,
        expected_updated_at: Option<i64>,
        actor: &Actor,
    ) -> StoreResult<Release> {
        self.check_release_manager(tenant_id, draft).await?;
        let mut tx = self.db.begin().await?;
        let before = read_release(&mut tx, tenant_id, id).await?;
        check_open(&before)?;
        if expected_updated_at.is_some_and(|seen| seen != before.updated_at) {
            return Err(StoreError::Conflict(format!(
                "{} was changed by someone else since you read it: reload it and try again",
                before.key()
            )));
        }
        if draft.kind != before.kind && before.status != ReleaseStatus::Planned {
            return Err(StoreError::Conflict(format!(
                "{} is {}: its kind can change only while it is planned",
                before.key(),
                before.status
            )));
        }
        let write = sql(
            "UPDATE releases SET kind = $1, title = $2, description = $3, planned_start = $4, \
             planned_end = $5, manager_id = $6, updated_at = $7 WHERE tenant_id = $8 AND id = $9",
        );
        tx.execute(
            bind_draft(write, draft)
                .bind(next_updated_at(before.updated_at))
                .bind(tenant_id)
                .bind(id),
        )
        .await?;
        self.finish_release_write(tx, tenant_id, &before, actor)
            .await
    }

    pub async fn release(&self, tenant_id: i64, id: i64) -> StoreResult<Release> {
        let mut conn = self.db.snapshot().await?;
        let release = read_release(&mut conn, tenant_id, id).await?;
        conn.commit().await?;
        Ok(release)
    }

    pub async fn release_by_number(&self, tenant_id: i64, number: i64) -> StoreResult<Release> {
        let mut conn = self.db.snapshot().await?;
        let row: ReleaseRow = conn
            .fetch_one(select(tenant_id).push_bound(" AND number = {}", number))
            .await?;
        let release = complete(&mut conn, row).await?;
        conn.commit().await?;
        Ok(release)
    }

    /// A page of releases, by number unless asked otherwise.
    pub async fn releases(
        &self,
        tenant_id: i64,
        f: &ReleaseFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Release>> {
        let sort = Sort::parse_or_invalid(f.sort.as_deref(), &["number", "updated_at"])?;
        let mut q = select(tenant_id);
        if let Some(status) = f.status {
            q = q.push_bound(" AND status = {}", status.as_str());
        }
        if let Some(kind) = f.kind {
            q = q.push_bound(" AND kind = {}", kind.as_str());
        }
        let mut conn = self.db.snapshot().await?;
        let rows: Vec<ReleaseRow> = conn.fetch_all(paginate(q, sort, page)?).await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            items.push(complete(&mut conn, row).await?);
        }
        conn.commit().await?;
        Ok(finish(items, page, |r| match sort.column {
            "updated_at" => (CursorKey::Int(r.updated_at), r.id),
            _ => (CursorKey::Int(r.number), r.id),
        }))
    }

    /// The tenant's known errors among `ids`, by number: what a release's page lists.
    pub async fn known_errors_by_id(
        &self,
        tenant_id: i64,
        ids: &[i64],
    ) -> StoreResult<Vec<crate::problem::KnownError>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(crate::cmdb::CHUNK) {
            let q = sql(
                "SELECT id, number, problem_id, title, symptoms, root_cause, workaround, active, \
                 created_at, updated_at FROM known_errors WHERE tenant_id = $1",
            )
            .bind(tenant_id);
            let rows: Vec<crate::problem::KnownError> = self
                .db
                .fetch_all(crate::cmdb::with_ids(q, "id", chunk))
                .await?;
            out.extend(rows);
        }
        out.sort_by_key(|k| k.number);
        Ok(out)
    }

    /// Moves a release to `to`. A move the lifecycle does not have is a `Conflict`; a guard
    /// that fails (criteria not all accepted, no successful deployment) is `Invalid` on the
    /// field to fix. Either way nothing changes.
    pub async fn transition_release(
        &self,
        tenant_id: i64,
        id: i64,
        to: ReleaseStatus,
        actor: &Actor,
    ) -> StoreResult<Release> {
        let mut tx = self.db.begin().await?;
        let before = read_release(&mut tx, tenant_id, id).await?;
        let next =
            transition(before.kind, before.status, to, &before.facts()).map_err(|refusal| {
                match refusal {
                    ReleaseRefusal::Needs(field, message) => Invalid::one(field, message).into(),
                    other => StoreError::Conflict(crate::change::lifecycle::capitalised(
                        &other.to_string(),
                    )),
                }
            })?;
        let now = next_updated_at(before.updated_at);
        tx.execute(
            sql("UPDATE releases SET status = $1, ended_at = $2, updated_at = $3 WHERE id = $4")
                .bind(next.as_str())
                .bind(next.is_terminal().then_some(now))
                .bind(now)
                .bind(id),
        )
        .await?;
        self.finish_release_write(tx, tenant_id, &before, actor)
            .await
    }

    /// Replaces the changes a release groups; every one must be the tenant's.
    pub async fn set_release_changes(
        &self,
        tenant_id: i64,
        id: i64,
        change_ids: &[i64],
        actor: &Actor,
    ) -> StoreResult<Release> {
        let ids = clean_ids("changes", "Changes", change_ids)?;
        self.replace_links(
            tenant_id,
            id,
            ("release_changes", "change_id"),
            ("changes", "changes", "Changes"),
            &ids,
            actor,
        )
        .await
    }

    /// Replaces the known errors accepted into a release; every one must be the tenant's.
    pub async fn set_release_known_errors(
        &self,
        tenant_id: i64,
        id: i64,
        known_error_ids: &[i64],
        actor: &Actor,
    ) -> StoreResult<Release> {
        let ids = clean_ids("known_errors", "Known errors", known_error_ids)?;
        self.replace_links(
            tenant_id,
            id,
            ("release_known_errors", "known_error_id"),
            ("known_errors", "known_errors", "Known errors"),
            &ids,
            actor,
        )
        .await
    }

    async fn replace_links(
        &self,
        tenant_id: i64,
        id: i64,
        (table, column): (&str, &str),
        (target, field, label): (&str, &str, &str),
        ids: &[i64],
        actor: &Actor,
    ) -> StoreResult<Release> {
        let mut tx = self.db.begin().await?;
        let before = read_release(&mut tx, tenant_id, id).await?;
        check_open(&before)?;
        check_ids(&mut tx, tenant_id, (target, false), (field, label), ids).await?;
        tx.execute(sql(format!("DELETE FROM {table} WHERE release_id = $1")).bind(id))
            .await?;
        for linked in ids {
            tx.execute(
                sql(format!(
                    "INSERT INTO {table} (tenant_id, release_id, {column}) VALUES ($1, $2, $3)"
                ))
                .bind(tenant_id)
                .bind(id)
                .bind(*linked),
            )
            .await?;
        }
        touch(&mut tx, &before).await?;
        self.finish_release_write(tx, tenant_id, &before, actor)
            .await
    }

    /// Adds an acceptance criterion, while the release is not yet accepted.
    pub async fn add_release_criterion(
        &self,
        tenant_id: i64,
        id: i64,
        draft: &CriterionDraft,
        actor: &Actor,
    ) -> StoreResult<Release> {
        let mut tx = self.db.begin().await?;
        let before = read_release(&mut tx, tenant_id, id).await?;
        if !before.status.criteria_open() {
            return Err(StoreError::Conflict(format!(
                "{} is {}: acceptance criteria are set before acceptance",
                before.key(),
                before.status
            )));
        }
        let now = touch(&mut tx, &before).await?;
        tx.execute(
            sql(
                "INSERT INTO release_criteria (tenant_id, release_id, text, comment, created_at) \
                 VALUES ($1, $2, $3, '', $4)",
            )
            .bind(tenant_id)
            .bind(id)
            .bind(&draft.text)
            .bind(now),
        )
        .await?;
        self.finish_release_write(tx, tenant_id, &before, actor)
            .await
    }

    /// Signs a criterion off as accepted or refused, as the actor, now. Signing again replaces
    /// the earlier sign-off (the journal keeps it), until the release is accepted.
    pub async fn sign_off_release_criterion(
        &self,
        tenant_id: i64,
        id: i64,
        criterion_id: i64,
        sign_off: &SignOff,
        actor: &Actor,
    ) -> StoreResult<Release> {
        let mut tx = self.db.begin().await?;
        let before = read_release(&mut tx, tenant_id, id).await?;
        if !before.criteria.iter().any(|c| c.id == criterion_id) {
            return Err(StoreError::NotFound);
        }
        if !before.status.criteria_open() {
            return Err(StoreError::Conflict(format!(
                "{} is {}: its criteria were signed off at acceptance",
                before.key(),
                before.status
            )));
        }
        let now = touch(&mut tx, &before).await?;
        tx.execute(
            sql("UPDATE release_criteria SET verdict = $1, signed_by = $2, signed_at = $3, comment = $4 \
                 WHERE release_id = $5 AND id = $6")
            .bind(sign_off.verdict.as_str())
            .bind(actor.user_id)
            .bind(now)
            .bind(sign_off.comment.trim())
            .bind(id)
            .bind(criterion_id),
        )
        .await?;
        self.finish_release_write(tx, tenant_id, &before, actor)
            .await
    }

    /// Starts a deployment of the release to an environment (in progress from now). Production
    /// takes only an accepted release or an emergency one (`Invalid` on `environment`).
    pub async fn add_release_deployment(
        &self,
        tenant_id: i64,
        id: i64,
        draft: &DeploymentDraft,
        actor: &Actor,
    ) -> StoreResult<(Release, i64)> {
        let mut tx = self.db.begin().await?;
        let before = read_release(&mut tx, tenant_id, id).await?;
        may_deploy(before.kind, before.status, &draft.environment)?;
        let now = touch(&mut tx, &before).await?;
        let (deployment_id,): (i64,) = tx
            .fetch_one(
                sql("INSERT INTO release_deployments (tenant_id, release_id, environment, planned_start, \
                     planned_end, started_at, outcome, verification_notes, rollback_notes, created_by, \
                     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, '', '', $8, $6, $6) RETURNING id")
                .bind(tenant_id)
                .bind(id)
                .bind(&draft.environment)
                .bind(draft.planned_start)
                .bind(draft.planned_end)
                .bind(now)
                .bind(DeploymentOutcome::InProgress.as_str())
                .bind(actor.user_id),
            )
            .await?;
        let after = self
            .finish_release_write(tx, tenant_id, &before, actor)
            .await?;
        Ok((after, deployment_id))
    }

    /// Ends a deployment in progress with its outcome and notes. A successful one applies its
    /// CI updates through the CMDB's update path in the same transaction (each journaled on
    /// the CI); any CI update that does not hold (another tenant's CI, a status the CI
    /// lifecycle refuses, attributes the class refuses) refuses the whole outcome.
    pub async fn record_deployment_outcome(
        &self,
        tenant_id: i64,
        id: i64,
        deployment_id: i64,
        outcome: &OutcomeDraft,
        ci_updates: &[CiUpdate],
        actor: &Actor,
    ) -> StoreResult<Release> {
        if ci_updates.len() > MAX_CI_UPDATES {
            return Err(Invalid::one(
                "ci_updates",
                format!("At most {MAX_CI_UPDATES} CI updates per deployment"),
            )
            .into());
        }
        if !ci_updates.is_empty() && outcome.outcome != DeploymentOutcome::Succeeded {
            return Err(Invalid::one(
                "ci_updates",
                "Only a successful deployment updates CIs; leave them out for a failed or rolled-back one",
            )
            .into());
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(twice) = ci_updates.iter().find(|u| !seen.insert(u.ci_id)) {
            return Err(Invalid::one(
                "ci_updates",
                format!(
                    "CI {} is updated twice: merge its updates into one",
                    twice.ci_id
                ),
            )
            .into());
        }
        let mut tx = self.db.begin().await?;
        let before = read_release(&mut tx, tenant_id, id).await?;
        let Some(deployment) = before.deployments.iter().find(|d| d.id == deployment_id) else {
            return Err(StoreError::NotFound);
        };
        if deployment.outcome.is_final() {
            return Err(StoreError::Conflict(format!(
                "The {} deployment of {} already ended ({})",
                deployment.environment,
                before.key(),
                deployment.outcome
            )));
        }
        check_open(&before)?;
        for update in ci_updates {
            self.apply_ci_update(&mut tx, tenant_id, update, actor)
                .await?;
            tx.execute(
                sql("INSERT INTO release_deployment_cis (tenant_id, deployment_id, ci_id, status, attributes_json) \
                     VALUES ($1, $2, $3, $4, $5)")
                .bind(tenant_id)
                .bind(deployment_id)
                .bind(update.ci_id)
                .bind(update.status.map(|s| s.as_str().to_owned()))
                .bind(
                    update
                        .attributes
                        .as_ref()
                        .map(|a| serde_json::to_string(a).unwrap_or_else(|_| "{}".to_owned())),
                ),
            )
            .await?;
        }
        let now = touch(&mut tx, &before).await?;
        tx.execute(
            sql("UPDATE release_deployments SET outcome = $1, verification_notes = $2, rollback_notes = $3, \
                 ended_at = $4, updated_at = $4 WHERE release_id = $5 AND id = $6")
            .bind(outcome.outcome.as_str())
            .bind(&outcome.verification_notes)
            .bind(&outcome.rollback_notes)
            .bind(now)
            .bind(id)
            .bind(deployment_id),
        )
        .await?;
        self.finish_release_write(tx, tenant_id, &before, actor)
            .await
    }

    /// One CI update through the CMDB's own path: the status move must be one the CI
    /// lifecycle allows, the merged attributes must satisfy the class schema.
    async fn apply_ci_update(
        &self,
        tx: &mut Tx,
        tenant_id: i64,
        update: &CiUpdate,
        actor: &Actor,
    ) -> StoreResult<()> {
        let field = "ci_updates";
        let ci = match read_ci(tx, tenant_id, update.ci_id).await {
            Ok(ci) => ci,
            Err(StoreError::NotFound) => {
                return Err(Invalid::one(
                    field,
                    format!("CI {} does not exist in this organisation", update.ci_id),
                )
                .into());
            }
            Err(e) => return Err(e),
        };
        let mut draft = ci.draft();
        if let Some(status) = update.status
            && status != ci.status
        {
            ci.status
                .transition(status)
                .map_err(|refusal| Invalid::one(field, format!("{}: {refusal}", ci.name)))?;
            draft.status = status;
        }
        for (name, value) in update.attributes.iter().flatten() {
            if value.is_null() {
                draft.attributes.remove(name);
            } else {
                draft.attributes.insert(name.clone(), value.clone());
            }
        }
        let class = self.ci_class(tenant_id, ci.class_id).await?;
        let draft = draft
            .validate(&class.name, &class.attributes)
            .map_err(|invalid| {
                let mut errors = Invalid::new();
                for e in invalid.errors {
                    errors.add(field, format!("{}: {}", ci.name, e.message));
                }
                errors
            })?;
        self.update_ci_in(tx, tenant_id, &ci, &draft, actor).await?;
        Ok(())
    }
}
