//! The append-only audit journal: written inside every record's transaction, read by auditors,
//! verified by `steward audit verify`.

use crate::db::{Tx, sql};
use crate::page::{CursorKey, Page, PageRequest, Sort, finish, paginate};
use crate::{Store, StoreError, StoreResult, now_micros};
use serde::Serialize;
use serde_json::Value;
use steward_domain::journal::{self, Action, Broken, Chained, Entry, Verifier};

/// Who made a change: a user, or the system itself (CLI administration, jobs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub label: String,
}

impl Actor {
    pub fn user(id: i64, email: &str) -> Actor {
        Actor {
            user_id: Some(id),
            label: email.to_owned(),
        }
    }

    /// Changes made by an operator at the command line.
    pub fn cli() -> Actor {
        Actor {
            user_id: None,
            label: "cli".into(),
        }
    }

    pub fn system() -> Actor {
        Actor {
            user_id: None,
            label: "system".into(),
        }
    }
}

/// One change to record, before it is chained.
pub(crate) struct Change<'a> {
    pub tenant_id: i64,
    pub actor: &'a Actor,
    pub action: Action,
    pub record_type: &'static str,
    pub record_id: i64,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl<'a> Change<'a> {
    /// A change to a record of kind `T`, with its state before and after (absent on create or
    /// delete respectively).
    pub fn of<T: Record>(
        tenant_id: i64,
        actor: &'a Actor,
        action: Action,
        before: Option<&T>,
        after: Option<&T>,
    ) -> Change<'a> {
        Change {
            tenant_id,
            actor,
            action,
            record_type: T::KIND,
            record_id: after.or(before).map_or(0, Record::id),
            before: before.and_then(snapshot),
            after: after.and_then(snapshot),
        }
    }
}

/// Serialises a record for the journal's before/after columns.
pub(crate) fn snapshot<T: Serialize>(record: &T) -> Option<Value> {
    serde_json::to_value(record).ok()
}

#[derive(sqlx::FromRow)]
struct Head {
    seq: i64,
    hash: String,
}

impl Store {
    /// Appends `change` to its tenant's chain inside `tx`.
    ///
    /// Bumping the head row first takes a row lock on PostgreSQL, so concurrent writers of one
    /// tenant chain one after the other; SQLite has a single writer anyway.
    pub(crate) async fn journal(&self, tx: &mut Tx, change: Change<'_>) -> StoreResult<()> {
        self.journal_many(tx, vec![change]).await
    }

    /// Journals the update of `before` to `after` in `tx`, commits, and hands `after` back:
    /// how every plain update of one record ends.
    /// Journals a record's creation and commits: the end of most creating writes.
    pub(crate) async fn commit_created<T: Record>(
        &self,
        mut tx: Tx,
        tenant_id: i64,
        actor: &Actor,
        record: T,
    ) -> StoreResult<T> {
        self.journal(
            &mut tx,
            Change::of(tenant_id, actor, Action::Create, None, Some(&record)),
        )
        .await?;
        tx.commit().await?;
        Ok(record)
    }

    pub(crate) async fn commit_update<T: Record>(
        &self,
        mut tx: Tx,
        tenant_id: i64,
        actor: &Actor,
        before: &T,
        after: T,
    ) -> StoreResult<T> {
        self.journal(
            &mut tx,
            Change::of(tenant_id, actor, Action::Update, Some(before), Some(&after)),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Appends several changes of one tenant in order, with one head update and multi-row
    /// inserts: what bulk loads use so that every record still gets its own entry.
    ///
    /// Incidents' and requests' SLA clocks follow their records here, in the same transaction,
    /// so that no write path can leave a clock behind; what that changes about a clock (a new
    /// target, say) is journaled right after.
    pub(crate) async fn journal_many(
        &self,
        tx: &mut Tx,
        changes: Vec<Change<'_>>,
    ) -> StoreResult<()> {
        let Some(tenant_id) = changes.first().map(|c| c.tenant_id) else {
            return Ok(());
        };
        let stored = self.append(tx, tenant_id, changes).await?;
        let entries: Vec<&Entry> = stored.iter().map(|c| &c.entry).collect();
        let clock_changes = self.follow_clocks(tx, tenant_id, &entries).await?;
        if let Some(last) = entries.last().filter(|_| !clock_changes.is_empty()) {
            let actor = Actor {
                user_id: last.actor_id,
                label: last.actor.clone(),
            };
            let changes = clock_changes
                .into_iter()
                .map(|(id, before, after)| Change {
                    tenant_id,
                    actor: &actor,
                    action: Action::Update,
                    record_type: "sla_clock",
                    record_id: id,
                    before: Some(before),
                    after: Some(after),
                })
                .collect();
            self.append(tx, tenant_id, changes).await?;
        }
        if self.failure_injected() {
            return Err(StoreError::Injected);
        }
        Ok(())
    }

    /// Chains and inserts `changes` (all of `tenant_id`) with one head update and multi-row inserts.
    async fn append(
        &self,
        tx: &mut Tx,
        tenant_id: i64,
        changes: Vec<Change<'_>>,
    ) -> StoreResult<Vec<Chained>> {
        if changes.iter().any(|c| c.tenant_id != tenant_id) {
            return Err(StoreError::Corrupt(
                "one journal batch must belong to one tenant".into(),
            ));
        }
        let count = i64::try_from(changes.len()).unwrap_or(i64::MAX);
        let head: Head = tx
            .fetch_optional(
                sql("UPDATE journal_heads SET seq = seq + $2 WHERE tenant_id = $1 RETURNING seq, hash")
                    .bind(tenant_id)
                    .bind(count),
            )
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("tenant {tenant_id} has no journal head")))?;
        let at_micros = now_micros();
        let mut prev = head.hash;
        let mut stored = Vec::with_capacity(changes.len());
        for (seq, change) in (head.seq - count + 1..).zip(changes) {
            let entry = Entry {
                tenant_id,
                seq,
                at_micros,
                actor_id: change.actor.user_id,
                actor: change.actor.label.clone(),
                action: change.action,
                record_type: change.record_type.to_owned(),
                record_id: change.record_id,
                before: change.before,
                after: change.after,
            };
            let chained = journal::chain(entry, &prev);
            prev.clone_from(&chained.hash);
            stored.push(chained);
        }
        for chunk in stored.chunks(400) {
            let mut q = sql(
                "INSERT INTO journal (tenant_id, seq, at, actor_id, actor, action, record_type, record_id, \
                 before_json, after_json, prev_hash, hash) VALUES ",
            );
            for (i, s) in chunk.iter().enumerate() {
                let base = i * 12;
                let placeholders: Vec<String> =
                    (1..=12).map(|k| format!("${}", base + k)).collect();
                q = q.push(&format!(
                    "{}({})",
                    if i == 0 { "" } else { ", " },
                    placeholders.join(", ")
                ));
                q = q
                    .bind(s.entry.tenant_id)
                    .bind(s.entry.seq)
                    .bind(s.entry.at_micros)
                    .bind(s.entry.actor_id)
                    .bind(s.entry.actor.clone())
                    .bind(s.entry.action.as_str())
                    .bind(s.entry.record_type.clone())
                    .bind(s.entry.record_id)
                    .bind(s.entry.before.as_ref().map(journal::canonical_json))
                    .bind(s.entry.after.as_ref().map(journal::canonical_json))
                    .bind(s.prev_hash.clone())
                    .bind(s.hash.clone());
            }
            tx.execute(q).await?;
        }
        tx.execute(
            sql("UPDATE journal_heads SET hash = $1 WHERE tenant_id = $2")
                .bind(prev)
                .bind(tenant_id),
        )
        .await?;
        Ok(stored)
    }

    /// Journal entries of a tenant, newest first, filtered.
    pub async fn journal_entries(
        &self,
        tenant_id: i64,
        filter: &JournalFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<JournalEntry>> {
        let mut q = sql(format!(
            "SELECT {COLUMNS} FROM journal WHERE tenant_id = $1"
        ))
        .bind(tenant_id);
        if let Some(t) = &filter.record_type {
            q = q.push_bound(" AND record_type = {}", t.clone());
        }
        if let Some(id) = filter.record_id {
            q = q.push_bound(" AND record_id = {}", id);
        }
        if let Some(actor) = filter.actor_id {
            q = q.push_bound(" AND actor_id = {}", actor);
        }
        if let Some(since) = filter.since_micros {
            q = q.push_bound(" AND at >= {}", since);
        }
        if let Some(until) = filter.until_micros {
            q = q.push_bound(" AND at < {}", until);
        }
        let sort = Sort {
            column: "seq",
            descending: true,
        };
        let rows: Vec<JournalRow> = self.db.fetch_all(paginate(q, sort, page)?).await?;
        let entries = rows
            .into_iter()
            .map(JournalRow::into_entry)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(finish(entries, page, |e| (CursorKey::Int(e.seq), e.id)))
    }

    /// Recomputes every tenant's chain and checks it ends at the recorded head.
    /// Returns the number of entries checked, or the first broken one.
    pub async fn verify_journal(&self) -> StoreResult<Result<i64, Broken>> {
        let heads: Vec<(i64, i64, String)> = self
            .db
            .fetch_all(sql(
                "SELECT tenant_id, seq, hash FROM journal_heads ORDER BY tenant_id",
            ))
            .await?;
        let mut checked = 0;
        for (tenant_id, head_seq, head_hash) in heads {
            let mut verifier = Verifier::new(tenant_id);
            let mut last_hash = journal::GENESIS.to_owned();
            let mut after_seq = 0i64;
            loop {
                let rows: Vec<JournalRow> = self
                    .db
                    .fetch_all(
                        sql(format!(
                            "SELECT {COLUMNS} FROM journal WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT 5000"
                        ))
                        .bind(tenant_id)
                        .bind(after_seq),
                    )
                    .await?;
                let Some(last) = rows.last() else { break };
                after_seq = last.seq;
                for row in rows {
                    let chained = row.into_chained()?;
                    if let Err(broken) = verifier.push(&chained) {
                        return Ok(Err(broken));
                    }
                    last_hash = chained.hash;
                }
            }
            if verifier.checked() != head_seq || last_hash != head_hash {
                return Ok(Err(Broken {
                    tenant_id,
                    seq: verifier.checked() + 1,
                    reason: format!(
                        "the chain ends at entry {} but the journal head records entry {head_seq}: entries were removed",
                        verifier.checked()
                    ),
                }));
            }
            checked += verifier.checked();
        }
        Ok(Ok(checked))
    }
}

impl Store {
    /// Checks one tenant's entries written in `[from, to)` link by link, starting from the
    /// entry before them, so a period is verified without reading the chain from its start.
    /// `None` when the period has no entries; else the first and last entries checked and the
    /// first broken one, if any.
    pub async fn verify_journal_between(
        &self,
        tenant_id: i64,
        from: i64,
        to: i64,
    ) -> StoreResult<Option<(i64, i64, Option<Broken>)>> {
        let (first,): (Option<i64>,) = self
            .db
            .fetch_one(
                sql("SELECT MIN(seq) FROM journal WHERE tenant_id = $1 AND at >= $2 AND at < $3")
                    .bind(tenant_id)
                    .bind(from)
                    .bind(to),
            )
            .await?;
        let Some(first) = first else {
            return Ok(None);
        };
        let before: Option<(String,)> = self
            .db
            .fetch_optional(
                sql("SELECT hash FROM journal WHERE tenant_id = $1 AND seq = $2")
                    .bind(tenant_id)
                    .bind(first - 1),
            )
            .await?;
        let prev = before.map_or_else(|| journal::GENESIS.to_owned(), |(h,)| h);
        let mut verifier = Verifier::resume(tenant_id, first - 1, &prev);
        let mut after_seq = first - 1;
        loop {
            let rows: Vec<JournalRow> = self
                .db
                .fetch_all(
                    sql(format!(
                        "SELECT {COLUMNS} FROM journal WHERE tenant_id = $1 AND seq > $2 AND at < $3 \
                         ORDER BY seq LIMIT 5000"
                    ))
                    .bind(tenant_id)
                    .bind(after_seq)
                    .bind(to),
                )
                .await?;
            let Some(last) = rows.last() else { break };
            after_seq = last.seq;
            for row in rows {
                if let Err(broken) = verifier.push(&row.into_chained()?) {
                    return Ok(Some((first, broken.seq, Some(broken))));
                }
            }
        }
        Ok(Some((first, verifier.checked(), None)))
    }
}

#[derive(Debug, Clone, Default)]
pub struct JournalFilter {
    pub record_type: Option<String>,
    pub record_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub since_micros: Option<i64>,
    pub until_micros: Option<i64>,
}

const COLUMNS: &str = "id, tenant_id, seq, at, actor_id, actor, action, record_type, record_id, \
                       before_json, after_json, prev_hash, hash";

#[derive(sqlx::FromRow)]
struct JournalRow {
    id: i64,
    tenant_id: i64,
    seq: i64,
    at: i64,
    actor_id: Option<i64>,
    actor: String,
    action: String,
    record_type: String,
    record_id: i64,
    before_json: Option<String>,
    after_json: Option<String>,
    prev_hash: String,
    hash: String,
}

/// A journal entry as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JournalEntry {
    pub id: i64,
    pub seq: i64,
    pub at_micros: i64,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: Action,
    pub record_type: String,
    pub record_id: i64,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub prev_hash: String,
    pub hash: String,
}

fn parse_json(text: Option<String>) -> StoreResult<Option<Value>> {
    text.map(|t| {
        serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(format!("journal JSON: {e}")))
    })
    .transpose()
}

impl JournalRow {
    fn into_chained(self) -> StoreResult<Chained> {
        // An unreadable action or JSON is itself tampering: keep it in the entry so the hash fails.
        let action = Action::parse(&self.action).unwrap_or(Action::Delete);
        let tampered_action = action.as_str() != self.action;
        let before = parse_json(self.before_json).unwrap_or(Some(Value::Null));
        let after = parse_json(self.after_json).unwrap_or(Some(Value::Null));
        Ok(Chained {
            entry: Entry {
                tenant_id: self.tenant_id,
                seq: self.seq,
                at_micros: self.at,
                actor_id: self.actor_id,
                actor: if tampered_action {
                    format!("{}\u{0}", self.actor)
                } else {
                    self.actor
                },
                action,
                record_type: self.record_type,
                record_id: self.record_id,
                before,
                after,
            },
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }

    fn into_entry(self) -> StoreResult<JournalEntry> {
        Ok(JournalEntry {
            id: self.id,
            seq: self.seq,
            at_micros: self.at,
            actor_id: self.actor_id,
            action: Action::parse(&self.action)
                .ok_or_else(|| StoreError::Corrupt(format!("journal action `{}`", self.action)))?,
            actor: self.actor,
            record_type: self.record_type,
            record_id: self.record_id,
            before: parse_json(self.before_json)?,
            after: parse_json(self.after_json)?,
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }
}

/// A tenant's record: it knows its kind and id, and serialises for the journal.
pub(crate) trait Record: Serialize {
    const KIND: &'static str;
    fn id(&self) -> i64;
}

/// One journaled write of a record: optionally read the row as it was, run the write (which
/// returns the row as it is now), chain the journal entry, commit. `unique` names the field
/// and message to report if the write breaks a unique constraint.
pub(crate) struct RecordWrite<'a> {
    pub tenant_id: i64,
    pub action: Action,
    pub actor: &'a Actor,
    pub before: Option<crate::db::Sql>,
    pub write: crate::db::Sql,
    pub unique: Option<(&'static str, &'static str)>,
}

impl Store {
    pub(crate) async fn write_record<T: Record + crate::db::Row>(
        &self,
        w: RecordWrite<'_>,
    ) -> StoreResult<T> {
        let mut tx = self.db.begin().await?;
        let before = match w.before {
            Some(q) => Some(tx.fetch_one::<T>(q).await?),
            None => None,
        };
        let after: T = tx.fetch_one(w.write).await.map_err(|e| match w.unique {
            Some((field, message)) => e.unique_as(field, message),
            None => e,
        })?;
        let kept = (w.action != Action::Delete).then_some(&after);
        self.journal(
            &mut tx,
            Change::of(w.tenant_id, w.actor, w.action, before.as_ref(), kept),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }
}
