//! Loading many incidents at once (data generators, large imports): multi-row inserts, one
//! search reindex per batch, and one journal entry per record appended in a single batch.
//! A batch may carry each incident's conversation, inserted before the reindex so it is
//! searchable and journaled as `add_incident_comment` journals a comment.

use crate::db::sql;
use crate::incident::{Comment, IncidentFields, NewComment, take_numbers};
use crate::journal::Change;
use crate::journal::Record;
use crate::search::reindex_incidents_between;
use crate::{Actor, Store, StoreResult, now_micros};
use steward_domain::journal::Action;

/// Rows per INSERT statement: 22 values each stays well below both backends' parameter limits.
const ROWS_PER_STATEMENT: usize = 500;
/// Comments per INSERT statement: 7 values each. SQLite looks each `$n` up among the
/// statement's parameters, so preparing costs the square of their number: with 4,000-row
/// statements `steward bench generate --incidents 12000` (24,016 comments) took 19.1 s on
/// SQLite in a debug build, with 500-row ones 9.7 s.
const COMMENTS_PER_STATEMENT: usize = 500;

impl Store {
    /// Inserts a batch of incidents in one transaction. The caller has validated the fields;
    /// references are not checked here, so loaders must only use ids of the tenant.
    pub async fn load_incidents(
        &self,
        tenant_id: i64,
        rows: &[IncidentFields],
        actor: &Actor,
    ) -> StoreResult<usize> {
        self.load_incidents_with_comments(tenant_id, rows, &[], actor)
            .await
    }

    /// As `load_incidents`, with `comments[i]` the conversation of `rows[i]` (missing entries
    /// mean none), in the order given. The comments keep their own authors and times; the
    /// incidents' fields (first response, status) are taken as given, not derived from them.
    /// Returns the number of incidents inserted.
    pub async fn load_incidents_with_comments(
        &self,
        tenant_id: i64,
        rows: &[IncidentFields],
        comments: &[Vec<NewComment>],
        actor: &Actor,
    ) -> StoreResult<usize> {
        if rows.is_empty() {
            return Ok(0);
        }
        let now = now_micros();
        let mut tx = self.db.begin().await?;
        let first_number = take_numbers(
            &mut tx,
            tenant_id,
            "incident",
            i64::try_from(rows.len()).unwrap_or(i64::MAX),
        )
        .await?;
        let mut ids = Vec::with_capacity(rows.len());
        for (chunk_index, chunk) in rows.chunks(ROWS_PER_STATEMENT).enumerate() {
            let mut q = sql(
                "INSERT INTO incidents (tenant_id, number, title, description, status, pending_reason, impact, urgency, priority, \
                 service_id, customer_id, assignee_team_id, assignee_id, source, resolution_code, resolution_notes, opened_at, \
                 first_response_at, resolved_at, closed_at, created_at, updated_at) VALUES ",
            );
            for (i, f) in chunk.iter().enumerate() {
                let base = i * 22;
                let placeholders: Vec<String> =
                    (1..=22).map(|k| format!("${}", base + k)).collect();
                q = q.push(&format!(
                    "{}({})",
                    if i == 0 { "" } else { ", " },
                    placeholders.join(", ")
                ));
                let number =
                    first_number + i64::try_from(chunk_index * ROWS_PER_STATEMENT + i).unwrap_or(0);
                q = q
                    .bind(tenant_id)
                    .bind(number)
                    .bind(&f.title)
                    .bind(&f.description)
                    .bind(f.status.as_str())
                    .bind(f.pending_reason.map(|p| p.as_str().to_owned()))
                    .bind(f.impact.as_str())
                    .bind(f.urgency.as_str())
                    .bind(f.priority.as_str())
                    .bind(f.service_id)
                    .bind(f.customer_id)
                    .bind(f.assignee_team_id)
                    .bind(f.assignee_id)
                    .bind(f.source.as_str())
                    .bind(f.resolution_code.clone())
                    .bind(&f.resolution_notes)
                    .bind(f.opened_at)
                    .bind(f.first_response_at)
                    .bind(f.resolved_at)
                    .bind(f.closed_at)
                    .bind(f.opened_at)
                    .bind(now);
            }
            let inserted: Vec<(i64,)> = tx.fetch_all(q.push(" RETURNING id")).await?;
            let mut chunk_ids: Vec<i64> = inserted.into_iter().map(|(id,)| id).collect();
            // Ids are assigned in VALUES order; RETURNING's order is not promised.
            chunk_ids.sort_unstable();
            ids.extend(chunk_ids);
        }
        // (incident index, comment) in load order, so ids and journal entries follow it.
        let conversation: Vec<(usize, &NewComment)> = comments
            .iter()
            .take(ids.len())
            .enumerate()
            .flat_map(|(i, list)| list.iter().map(move |c| (i, c)))
            .collect();
        let mut comment_ids = Vec::with_capacity(conversation.len());
        for chunk in conversation.chunks(COMMENTS_PER_STATEMENT) {
            let mut q = sql(
                "INSERT INTO comments (tenant_id, record_type, record_id, author_id, author, body, public, created_at) VALUES ",
            );
            for (i, (incident, c)) in chunk.iter().enumerate() {
                let base = i * 7;
                q = q.push(&format!(
                    "{}(${}, 'incident', ${}, ${}, ${}, ${}, ${}, ${})",
                    if i == 0 { "" } else { ", " },
                    base + 1,
                    base + 2,
                    base + 3,
                    base + 4,
                    base + 5,
                    base + 6,
                    base + 7
                ));
                q = q
                    .bind(tenant_id)
                    .bind(ids[*incident])
                    .bind(c.author_id)
                    .bind(&c.author)
                    .bind(&c.body)
                    .bind(c.public)
                    .bind(c.created_at);
            }
            let inserted: Vec<(i64,)> = tx.fetch_all(q.push(" RETURNING id")).await?;
            let mut chunk_ids: Vec<i64> = inserted.into_iter().map(|(id,)| id).collect();
            chunk_ids.sort_unstable();
            comment_ids.extend(chunk_ids);
        }
        if let (Some(first), Some(last)) = (ids.iter().min(), ids.iter().max()) {
            reindex_incidents_between(&mut tx, *first, *last).await?;
        }
        let mut changes: Vec<Change> = ids
            .iter()
            .zip(rows)
            .map(|(id, f)| Change {
                tenant_id,
                actor,
                action: Action::Create,
                record_type: "incident",
                record_id: *id,
                before: None,
                after: Some(serde_json::json!({ "title": f.title, "status": f.status.as_str(), "priority": f.priority.as_str() })),
            })
            .collect();
        changes.extend(
            comment_ids
                .iter()
                .zip(&conversation)
                .map(|(id, (incident, c))| Change {
                    tenant_id,
                    actor,
                    action: Action::Create,
                    record_type: Comment::KIND,
                    record_id: *id,
                    before: None,
                    after: Some(serde_json::json!({
                        "record": format!("INC-{}", first_number + i64::try_from(*incident).unwrap_or(0)),
                        "public": c.public,
                        "body": c.body,
                    })),
                }),
        );
        self.journal_many(&mut tx, changes).await?;
        tx.commit().await?;
        Ok(ids.len())
    }
}

impl Store {
    /// Refreshes the planner's statistics after a bulk load. Without it PostgreSQL may plan the
    /// first queries on a freshly loaded table as if it were empty (measured: a queue page took
    /// 364 ms before and 0.3 ms after, at a million incidents).
    pub async fn refresh_statistics(&self) -> StoreResult<()> {
        let statement = match self.backend() {
            crate::Backend::Postgres => "ANALYZE",
            crate::Backend::Sqlite => "PRAGMA optimize",
        };
        let mut tx = self.db.begin().await?;
        tx.execute(sql(statement)).await?;
        tx.commit().await
    }
}
