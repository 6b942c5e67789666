//! Controlled documents: what `steward_domain::sms::document` decided, kept.
//!
//! A document (`documents`) with its distribution (`document_distribution`); its numbered
//! versions (`document_versions`), of which the database itself allows at most one unapproved
//! and one approved per document; periodic reviews (`document_reviews`); who has read which
//! approved version (`document_acknowledgements`); the review reminders already sent
//! (`document_reminders`), so the daily job sends each once; and files on versions, kept in
//! `attachments` as `document_version` records. Every write is journaled in its transaction;
//! approving a version supersedes the previous one and queues the distribution's notices in the
//! same transaction.

use crate::db::{Sql, Tx, sql};
use crate::journal::{Change, Record, snapshot};
use crate::mail::{Attachment, MailTarget, NewAttachment, OutMail, queue_mail_in};
use crate::page::{CursorKey, Page, PageRequest, Sort, finish, paginate};
use crate::{Actor, Store, StoreError, StoreResult, next_updated_at, now_micros};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use steward_domain::Invalid;
use steward_domain::journal::Action;
use steward_domain::sms::document::{
    Classification, DocumentDraft, DocumentKind, DocumentStatus, ReviewReminder, VersionAction,
    VersionDraft, VersionState, checked_note, may_start_version, next_number, optional_note,
    review_due, review_reminder,
};

/// What `attachments.record_type` says of a version's files.
pub const VERSION_FILES: &str = "document_version";

/// A document as stored, with its distribution (and as the journal keeps it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub id: i64,
    pub reference: String,
    pub title: String,
    pub kind: DocumentKind,
    pub owner_id: i64,
    pub review_months: i64,
    pub retention_years: i64,
    pub classification: Classification,
    pub status: DocumentStatus,
    pub withdrawn_at: Option<i64>,
    pub withdrawn_reason: String,
    /// When the next review is due; none until something was approved.
    pub review_due: Option<Date>,
    pub distribution_users: Vec<i64>,
    pub distribution_teams: Vec<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Record for Document {
    const KIND: &'static str = "document";
    fn id(&self) -> i64 {
        self.id
    }
}

impl Document {
    /// Its fields as a draft, to edit and validate again for `update_document`.
    pub fn draft(&self) -> DocumentDraft {
        DocumentDraft {
            reference: self.reference.clone(),
            title: self.title.clone(),
            kind: self.kind,
            owner_id: self.owner_id,
            review_months: self.review_months,
            retention_years: self.retention_years,
            classification: self.classification,
            distribution_users: self.distribution_users.clone(),
            distribution_teams: self.distribution_teams.clone(),
        }
    }

    /// The year its retention ends, once withdrawn.
    pub fn retained_until(&self) -> Option<Date> {
        let withdrawn = date_of(self.withdrawn_at?);
        withdrawn
            .checked_add(jiff::Span::new().years(self.retention_years))
            .ok()
    }
}

#[derive(sqlx::FromRow)]
struct DocumentRow {
    id: i64,
    reference: String,
    title: String,
    #[sqlx(try_from = "String")]
    kind: DocumentKind,
    owner_id: i64,
    review_months: i64,
    retention_years: i64,
    #[sqlx(try_from = "String")]
    classification: Classification,
    #[sqlx(try_from = "String")]
    status: DocumentStatus,
    withdrawn_at: Option<i64>,
    withdrawn_reason: String,
    review_due: Option<String>,
    created_at: i64,
    updated_at: i64,
}

const COLUMNS: &str = "id, reference, title, kind, owner_id, review_months, retention_years, \
    classification, status, withdrawn_at, withdrawn_reason, review_due, created_at, updated_at";

const REFERENCE_TAKEN: &str = "Another document in this organisation has this reference";

fn stored_date(text: &str) -> StoreResult<Date> {
    Date::strptime("%Y-%m-%d", text)
        .map_err(|e| StoreError::Corrupt(format!("document date `{text}`: {e}")))
}

fn date_text(date: Date) -> String {
    date.strftime("%Y-%m-%d").to_string()
}

/// The UTC day of a time in microseconds.
pub fn date_of(micros: i64) -> Date {
    jiff::Timestamp::from_microsecond(micros)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}

/// The distribution of a document: (users, teams).
async fn read_distribution(
    tx: &mut Tx,
    tenant_id: i64,
    id: i64,
) -> StoreResult<(Vec<i64>, Vec<i64>)> {
    let rows: Vec<(Option<i64>, Option<i64>)> = tx
        .fetch_all(
            sql("SELECT user_id, team_id FROM document_distribution \
                 WHERE tenant_id = $1 AND document_id = $2 ORDER BY user_id, team_id")
            .bind(tenant_id)
            .bind(id),
        )
        .await?;
    let users = rows.iter().filter_map(|(u, _)| *u).collect();
    let teams = rows.iter().filter_map(|(_, t)| *t).collect();
    Ok((users, teams))
}

async fn read_document(tx: &mut Tx, tenant_id: i64, id: i64) -> StoreResult<Document> {
    let row: DocumentRow = tx
        .fetch_one(
            sql(format!(
                "SELECT {COLUMNS} FROM documents WHERE tenant_id = $1 AND id = $2"
            ))
            .bind(tenant_id)
            .bind(id),
        )
        .await?;
    let (users, teams) = read_distribution(tx, tenant_id, id).await?;
    Ok(Document {
        id: row.id,
        reference: row.reference,
        title: row.title,
        kind: row.kind,
        owner_id: row.owner_id,
        review_months: row.review_months,
        retention_years: row.retention_years,
        classification: row.classification,
        status: row.status,
        withdrawn_at: row.withdrawn_at,
        withdrawn_reason: row.withdrawn_reason,
        review_due: row.review_due.as_deref().map(stored_date).transpose()?,
        distribution_users: users,
        distribution_teams: teams,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// A document as lists show it: with its current approved version and any pending one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentListing {
    pub id: i64,
    pub reference: String,
    pub title: String,
    pub kind: DocumentKind,
    pub status: DocumentStatus,
    pub classification: Classification,
    pub owner_id: i64,
    pub owner_name: String,
    pub review_due: Option<Date>,
    pub approved: Option<ApprovedVersion>,
    pub pending: Option<PendingVersion>,
    pub updated_at: i64,
}

/// The version in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovedVersion {
    pub number: i64,
    pub approved_at: i64,
    pub approved_by: String,
}

/// The version not yet approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PendingVersion {
    pub number: i64,
    pub state: VersionState,
    pub reviewer_id: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct ListingRow {
    id: i64,
    reference: String,
    title: String,
    #[sqlx(try_from = "String")]
    kind: DocumentKind,
    #[sqlx(try_from = "String")]
    status: DocumentStatus,
    #[sqlx(try_from = "String")]
    classification: Classification,
    owner_id: i64,
    owner_name: String,
    review_due: Option<String>,
    approved_number: Option<i64>,
    approved_at: Option<i64>,
    approved_by: Option<String>,
    pending_number: Option<i64>,
    pending_state: Option<String>,
    pending_reviewer_id: Option<i64>,
    updated_at: i64,
}

impl ListingRow {
    fn into_listing(self) -> StoreResult<DocumentListing> {
        let approved = match (self.approved_number, self.approved_at) {
            (Some(number), Some(approved_at)) => Some(ApprovedVersion {
                number,
                approved_at,
                approved_by: self.approved_by.unwrap_or_default(),
            }),
            _ => None,
        };
        let pending = match (self.pending_number, self.pending_state) {
            (Some(number), Some(state)) => Some(PendingVersion {
                number,
                state: VersionState::parse(&state)
                    .ok_or_else(|| StoreError::Corrupt(format!("version state `{state}`")))?,
                reviewer_id: self.pending_reviewer_id,
            }),
            _ => None,
        };
        Ok(DocumentListing {
            id: self.id,
            reference: self.reference,
            title: self.title,
            kind: self.kind,
            status: self.status,
            classification: self.classification,
            owner_id: self.owner_id,
            owner_name: self.owner_name,
            review_due: self.review_due.as_deref().map(stored_date).transpose()?,
            approved,
            pending,
            updated_at: self.updated_at,
        })
    }
}

/// The listing query: one row per document (the partial unique indexes allow at most one
/// approved and one unapproved version each), wrapped so that filters and keyset pagination
/// address plain column names.
const LISTING: &str = "SELECT * FROM (SELECT d.id, d.tenant_id, d.reference, d.title, d.kind, d.status, \
    d.classification, d.owner_id, u.name AS owner_name, d.review_due, d.updated_at, \
    a.number AS approved_number, a.approved_at, a.approved_by_label AS approved_by, \
    p.number AS pending_number, p.state AS pending_state, p.reviewer_id AS pending_reviewer_id \
    FROM documents d JOIN users u ON u.id = d.owner_id \
    LEFT JOIN document_versions a ON a.document_id = d.id AND a.state = 'approved' \
    LEFT JOIN document_versions p ON p.document_id = d.id AND p.state IN ('draft', 'in_review', 'returned')) x \
    WHERE tenant_id = $1";

/// Which documents a list shows.
#[derive(Debug, Clone, Default)]
pub struct DocumentFilter {
    pub kind: Option<DocumentKind>,
    pub status: Option<DocumentStatus>,
    /// Only active documents whose review date is before this day.
    pub overdue_on: Option<Date>,
    /// Only documents with a version in review by this user.
    pub awaiting: Option<i64>,
    /// `title` (default) or `updated_at`; a leading `-` sorts descending.
    pub sort: Option<String>,
}

/// One version of a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct DocumentVersion {
    pub id: i64,
    pub document_id: i64,
    pub number: i64,
    #[sqlx(try_from = "String")]
    pub state: VersionState,
    pub body: String,
    pub change_summary: String,
    pub author_id: Option<i64>,
    pub author_label: String,
    pub reviewer_id: Option<i64>,
    pub submitted_at: Option<i64>,
    /// Why it was last returned (kept after it is submitted again).
    pub returned_reason: String,
    pub approved_by_id: Option<i64>,
    pub approved_by_label: String,
    pub approved_at: Option<i64>,
    pub superseded_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Record for DocumentVersion {
    const KIND: &'static str = "document_version";
    fn id(&self) -> i64 {
        self.id
    }
}

const VERSION_COLUMNS: &str = "id, document_id, number, state, body, change_summary, author_id, \
    author_label, reviewer_id, submitted_at, returned_reason, approved_by_id, approved_by_label, \
    approved_at, superseded_at, created_at, updated_at";

/// A review that found the document still fit for purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct DocumentReview {
    pub id: i64,
    pub document_id: i64,
    /// `YYYY-MM-DD`.
    pub reviewed_on: String,
    pub note: String,
    pub reviewer_id: Option<i64>,
    pub reviewer_label: String,
    pub created_at: i64,
}

impl Record for DocumentReview {
    const KIND: &'static str = "document_review";
    fn id(&self) -> i64 {
        self.id
    }
}

/// Someone's "I have read version N".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Acknowledgement {
    pub id: i64,
    pub document_id: i64,
    pub version_id: i64,
    pub user_id: i64,
    pub at: i64,
}

impl Record for Acknowledgement {
    const KIND: &'static str = "document_acknowledgement";
    fn id(&self) -> i64 {
        self.id
    }
}

/// A person on a document's distribution and whether they have read the current version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Reader {
    pub user_id: i64,
    pub name: String,
    pub email: String,
    /// When they acknowledged the current approved version.
    pub acknowledged_at: Option<i64>,
}

/// A review reminder to send.
#[derive(Debug, Clone)]
pub struct DocumentReminder {
    pub document: Document,
    pub kind: ReviewReminder,
    pub due_on: Date,
    pub days_left: i64,
    /// The owner's name and address.
    pub owner: (String, String),
}

/// Words the approval notice `name` receives: (subject, body).
pub type NoticeRender<'a> =
    &'a (dyn Fn(&Document, &DocumentVersion, &str) -> (String, String) + Sync);

/// Roles that read documents and so may be on a distribution, own one, or review one.
const READER_ROLES: &str = "('admin', 'manager', 'agent')";
const APPROVER_ROLES: &str = "('admin', 'manager')";

/// The distribution's people: listed users and members of listed teams, active and in a role
/// that reads documents (auditors read, but are not the audience), by name.
fn readers_query(tenant_id: i64, document_id: i64) -> Sql {
    sql(format!(
        "SELECT u.id, u.name, u.email FROM users u WHERE u.tenant_id = $1 AND u.active = $2 \
         AND u.role IN {READER_ROLES} AND (u.id IN (SELECT user_id FROM document_distribution \
         WHERE tenant_id = $1 AND document_id = $3 AND user_id IS NOT NULL) \
         OR u.id IN (SELECT m.user_id FROM team_members m JOIN document_distribution dd ON dd.team_id = m.team_id \
         WHERE dd.tenant_id = $1 AND dd.document_id = $3)) ORDER BY u.name, u.id"
    ))
    .bind(tenant_id)
    .bind(true)
    .bind(document_id)
}

fn conflict(refusal: impl ToString) -> StoreError {
    StoreError::Conflict(refusal.to_string())
}

impl Store {
    /// Checks that the owner and the distribution are people and teams of the tenant who may
    /// hold them; a field error for each that is not.
    async fn check_document_people(
        &self,
        tx: &mut Tx,
        tenant_id: i64,
        d: &DocumentDraft,
    ) -> StoreResult<()> {
        let mut errors = Invalid::new();
        let owner: Option<(i64,)> = tx
            .fetch_optional(
                sql(format!(
                    "SELECT id FROM users WHERE tenant_id = $1 AND id = $2 AND active = $3 AND role IN {READER_ROLES}"
                ))
                .bind(tenant_id)
                .bind(d.owner_id)
                .bind(true),
            )
            .await?;
        if owner.is_none() {
            errors.add(
                "owner_id",
                "The owner must be an active person of this organisation who works with documents",
            );
        }
        for user in &d.distribution_users {
            let found: Option<(i64,)> = tx
                .fetch_optional(
                    sql(format!(
                        "SELECT id FROM users WHERE tenant_id = $1 AND id = $2 AND role IN {READER_ROLES}"
                    ))
                    .bind(tenant_id)
                    .bind(*user),
                )
                .await?;
            if found.is_none() {
                errors.add(
                    "distribution_users",
                    format!("User {user} is not a person of this organisation who reads documents"),
                );
            }
        }
        for team in &d.distribution_teams {
            let found: Option<(i64,)> = tx
                .fetch_optional(
                    sql("SELECT id FROM teams WHERE tenant_id = $1 AND id = $2")
                        .bind(tenant_id)
                        .bind(*team),
                )
                .await?;
            if found.is_none() {
                errors.add(
                    "distribution_teams",
                    format!("Team {team} is not a team of this organisation"),
                );
            }
        }
        Ok(errors.into_result(())?)
    }

    /// Refuses a reference in use and a second active core document, as field errors.
    async fn check_document_unique(
        &self,
        tx: &mut Tx,
        tenant_id: i64,
        d: &DocumentDraft,
        except: Option<i64>,
    ) -> StoreResult<()> {
        let except = except.unwrap_or(0);
        let same_reference: Option<(i64,)> = tx
            .fetch_optional(
                sql("SELECT id FROM documents WHERE tenant_id = $1 AND lower(reference) = lower($2) AND id <> $3")
                    .bind(tenant_id)
                    .bind(d.reference.clone())
                    .bind(except),
            )
            .await?;
        if same_reference.is_some() {
            return Err(Invalid::one("reference", REFERENCE_TAKEN).into());
        }
        if d.kind.is_singular() {
            let same_kind: Option<(i64,)> = tx
                .fetch_optional(
                    sql("SELECT id FROM documents WHERE tenant_id = $1 AND kind = $2 AND status = 'active' AND id <> $3")
                        .bind(tenant_id)
                        .bind(d.kind.as_str())
                        .bind(except),
                )
                .await?;
            if same_kind.is_some() {
                return Err(Invalid::one("kind", d.kind.taken_message()).into());
            }
        }
        Ok(())
    }

    async fn write_document_distribution(
        &self,
        tx: &mut Tx,
        tenant_id: i64,
        id: i64,
        d: &DocumentDraft,
    ) -> StoreResult<()> {
        tx.execute(
            sql("DELETE FROM document_distribution WHERE tenant_id = $1 AND document_id = $2")
                .bind(tenant_id)
                .bind(id),
        )
        .await?;
        let users = d.distribution_users.iter().map(|u| (Some(*u), None));
        let teams = d.distribution_teams.iter().map(|t| (None, Some(*t)));
        for (user, team) in users.chain(teams) {
            tx.execute(
                sql("INSERT INTO document_distribution (tenant_id, document_id, user_id, team_id) VALUES ($1, $2, $3, $4)")
                    .bind(tenant_id)
                    .bind(id)
                    .bind(user)
                    .bind(team),
            )
            .await?;
        }
        Ok(())
    }

    /// Records a document from a validated draft. It has no version yet.
    pub async fn create_document(
        &self,
        tenant_id: i64,
        draft: &DocumentDraft,
        actor: &Actor,
    ) -> StoreResult<Document> {
        let mut tx = self.db.begin().await?;
        self.check_document_people(&mut tx, tenant_id, draft)
            .await?;
        self.check_document_unique(&mut tx, tenant_id, draft, None)
            .await?;
        let (id,): (i64,) = tx
            .fetch_one(
                sql("INSERT INTO documents (tenant_id, reference, title, kind, owner_id, review_months, retention_years, \
                     classification, status, withdrawn_reason, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', '', $9, $9) RETURNING id")
                .bind(tenant_id)
                .bind(draft.reference.clone())
                .bind(draft.title.clone())
                .bind(draft.kind.as_str())
                .bind(draft.owner_id)
                .bind(draft.review_months)
                .bind(draft.retention_years)
                .bind(draft.classification.as_str())
                .bind(now_micros()),
            )
            .await
            .map_err(|e| e.unique_as("reference", REFERENCE_TAKEN))?;
        self.write_document_distribution(&mut tx, tenant_id, id, draft)
            .await?;
        let created = read_document(&mut tx, tenant_id, id).await?;
        self.commit_created(tx, tenant_id, actor, created).await
    }

    /// Replaces a document's fields if it has not changed since `seen_updated_at`. A new review
    /// interval moves the review date.
    pub async fn update_document(
        &self,
        tenant_id: i64,
        id: i64,
        seen_updated_at: i64,
        draft: &DocumentDraft,
        actor: &Actor,
    ) -> StoreResult<Document> {
        let mut tx = self.db.begin().await?;
        let before = read_document(&mut tx, tenant_id, id).await?;
        if before.updated_at != seen_updated_at {
            return Err(StoreError::Conflict(
                "The document was changed by someone else; reload it and try again".into(),
            ));
        }
        if before.status == DocumentStatus::Withdrawn {
            return Err(StoreError::Conflict(
                "The document is withdrawn: it is kept as it was".into(),
            ));
        }
        self.check_document_people(&mut tx, tenant_id, draft)
            .await?;
        self.check_document_unique(&mut tx, tenant_id, draft, Some(id))
            .await?;
        tx.execute(
            sql("UPDATE documents SET reference = $1, title = $2, kind = $3, owner_id = $4, review_months = $5, \
                 retention_years = $6, classification = $7, updated_at = $8 \
                 WHERE tenant_id = $9 AND id = $10 AND updated_at = $11")
            .bind(draft.reference.clone())
            .bind(draft.title.clone())
            .bind(draft.kind.as_str())
            .bind(draft.owner_id)
            .bind(draft.review_months)
            .bind(draft.retention_years)
            .bind(draft.classification.as_str())
            .bind(next_updated_at(seen_updated_at))
            .bind(tenant_id)
            .bind(id)
            .bind(seen_updated_at),
        )
        .await
        .map_err(|e| e.unique_as("reference", REFERENCE_TAKEN))?;
        self.write_document_distribution(&mut tx, tenant_id, id, draft)
            .await?;
        self.refresh_document_review_due(&mut tx, tenant_id, id)
            .await?;
        let after = read_document(&mut tx, tenant_id, id).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    /// Withdraws a document for `reason`: it stays, with its history, and its retention runs
    /// from now. Its core kind is free for a successor.
    pub async fn withdraw_document(
        &self,
        tenant_id: i64,
        id: i64,
        reason: &str,
        actor: &Actor,
    ) -> StoreResult<Document> {
        let reason = checked_note("reason", "Reason", reason)?;
        let mut tx = self.db.begin().await?;
        let before = read_document(&mut tx, tenant_id, id).await?;
        if before.status == DocumentStatus::Withdrawn {
            return Err(StoreError::Conflict(
                "The document is already withdrawn".into(),
            ));
        }
        let now = now_micros();
        tx.execute(
            sql("UPDATE documents SET status = 'withdrawn', withdrawn_at = $1, withdrawn_reason = $2, updated_at = $3 \
                 WHERE tenant_id = $4 AND id = $5")
            .bind(now)
            .bind(reason)
            .bind(next_updated_at(before.updated_at))
            .bind(tenant_id)
            .bind(id),
        )
        .await?;
        let after = read_document(&mut tx, tenant_id, id).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    pub async fn document(&self, tenant_id: i64, id: i64) -> StoreResult<Document> {
        let mut tx = self.db.begin().await?;
        let document = read_document(&mut tx, tenant_id, id).await?;
        tx.commit().await?;
        Ok(document)
    }

    /// A document as lists show it.
    pub async fn document_listing(&self, tenant_id: i64, id: i64) -> StoreResult<DocumentListing> {
        let row: ListingRow = self
            .db
            .fetch_one(
                sql(format!("{LISTING} AND id = $2"))
                    .bind(tenant_id)
                    .bind(id),
            )
            .await?;
        row.into_listing()
    }

    /// A page of documents, by title unless asked otherwise.
    pub async fn documents(
        &self,
        tenant_id: i64,
        f: &DocumentFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<DocumentListing>> {
        let sort = Sort::parse_or_invalid(f.sort.as_deref(), &["title", "updated_at"])?;
        let mut q = sql(LISTING).bind(tenant_id);
        if let Some(kind) = f.kind {
            q = q.push_bound(" AND kind = {}", kind.as_str());
        }
        if let Some(status) = f.status {
            q = q.push_bound(" AND status = {}", status.as_str());
        }
        if let Some(day) = f.overdue_on {
            q = q.push_bound(" AND status = 'active' AND review_due < {}", date_text(day));
        }
        if let Some(reviewer) = f.awaiting {
            q = q.push_bound(
                " AND pending_state = 'in_review' AND pending_reviewer_id = {}",
                reviewer,
            );
        }
        let rows: Vec<ListingRow> = self.db.fetch_all(paginate(q, sort, page)?).await?;
        let items = rows
            .into_iter()
            .map(ListingRow::into_listing)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(finish(items, page, |d| match sort.column {
            "updated_at" => (CursorKey::Int(d.updated_at), d.id),
            _ => (CursorKey::Text(d.title.clone()), d.id),
        }))
    }

    /// Sets the review date from the last approval and the last review, in `tx`.
    async fn refresh_document_review_due(
        &self,
        tx: &mut Tx,
        tenant_id: i64,
        id: i64,
    ) -> StoreResult<()> {
        let (months, approved, reviewed): (i64, Option<i64>, Option<String>) = tx
            .fetch_one(
                sql("SELECT d.review_months, \
                     (SELECT MAX(v.approved_at) FROM document_versions v WHERE v.tenant_id = d.tenant_id AND v.document_id = d.id), \
                     (SELECT MAX(r.reviewed_on) FROM document_reviews r WHERE r.tenant_id = d.tenant_id AND r.document_id = d.id) \
                     FROM documents d WHERE d.tenant_id = $1 AND d.id = $2")
                    .bind(tenant_id)
                    .bind(id),
            )
            .await?;
        let reviewed = reviewed.as_deref().map(stored_date).transpose()?;
        let due = review_due(approved.map(date_of), reviewed, months);
        tx.execute(
            sql("UPDATE documents SET review_due = $1 WHERE tenant_id = $2 AND id = $3")
                .bind(due.map(date_text))
                .bind(tenant_id)
                .bind(id),
        )
        .await
        .map(drop)
    }

    async fn read_document_version(
        &self,
        tx: &mut Tx,
        tenant_id: i64,
        document_id: i64,
        number: i64,
    ) -> StoreResult<DocumentVersion> {
        tx.fetch_one(
            sql(format!(
                "SELECT {VERSION_COLUMNS} FROM document_versions WHERE tenant_id = $1 AND document_id = $2 AND number = $3"
            ))
            .bind(tenant_id)
            .bind(document_id)
            .bind(number),
        )
        .await
    }

    /// A document's versions, newest first.
    pub async fn document_versions(
        &self,
        tenant_id: i64,
        document_id: i64,
    ) -> StoreResult<Vec<DocumentVersion>> {
        self.document(tenant_id, document_id).await?;
        self.db
            .fetch_all(
                sql(format!(
                    "SELECT {VERSION_COLUMNS} FROM document_versions WHERE tenant_id = $1 AND document_id = $2 \
                     ORDER BY number DESC LIMIT 1000"
                ))
                .bind(tenant_id)
                .bind(document_id),
            )
            .await
    }

    pub async fn document_version(
        &self,
        tenant_id: i64,
        document_id: i64,
        number: i64,
    ) -> StoreResult<DocumentVersion> {
        let mut tx = self.db.begin().await?;
        let version = self
            .read_document_version(&mut tx, tenant_id, document_id, number)
            .await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Starts the next version of an active document as a draft by `actor`, at `at`
    /// (microseconds; now, except when loading history). Refused while another is unapproved.
    pub async fn create_document_version(
        &self,
        tenant_id: i64,
        document_id: i64,
        draft: &VersionDraft,
        at: i64,
        actor: &Actor,
    ) -> StoreResult<DocumentVersion> {
        let mut tx = self.db.begin().await?;
        let document = read_document(&mut tx, tenant_id, document_id).await?;
        if document.status == DocumentStatus::Withdrawn {
            return Err(conflict(
                steward_domain::sms::document::VersionRefusal::Withdrawn,
            ));
        }
        let existing: Vec<(i64, String)> = tx
            .fetch_all(
                sql("SELECT number, state FROM document_versions WHERE tenant_id = $1 AND document_id = $2")
                    .bind(tenant_id)
                    .bind(document_id),
            )
            .await?;
        let existing: Vec<(i64, VersionState)> = existing
            .into_iter()
            .filter_map(|(n, s)| VersionState::parse(&s).map(|s| (n, s)))
            .collect();
        may_start_version(&existing).map_err(conflict)?;
        let (id,): (i64,) = tx
            .fetch_one(
                sql("INSERT INTO document_versions (tenant_id, document_id, number, state, body, change_summary, \
                     author_id, author_label, returned_reason, approved_by_label, created_at, updated_at) \
                     VALUES ($1, $2, $3, 'draft', $4, $5, $6, $7, '', '', $8, $8) RETURNING id")
                .bind(tenant_id)
                .bind(document_id)
                .bind(next_number(&existing))
                .bind(draft.body.clone())
                .bind(draft.change_summary.clone())
                .bind(actor.user_id)
                .bind(actor.label.clone())
                .bind(at),
            )
            .await
            // Someone started one at the same moment.
            .map_err(|e| {
                if e.is_unique_violation() {
                    conflict("Another version of this document was started meanwhile; reload it")
                } else {
                    e
                }
            })?;
        let created: DocumentVersion = tx
            .fetch_one(
                sql(format!(
                    "SELECT {VERSION_COLUMNS} FROM document_versions WHERE id = $1"
                ))
                .bind(id),
            )
            .await?;
        self.commit_created(tx, tenant_id, actor, created).await
    }

    /// The version to act on, with the document, once the domain allows `action` by `actor`.
    async fn document_version_for(
        &self,
        tx: &mut Tx,
        tenant_id: i64,
        document_id: i64,
        number: i64,
        action: VersionAction,
        actor: &Actor,
    ) -> StoreResult<(Document, DocumentVersion, VersionState)> {
        let document = read_document(tx, tenant_id, document_id).await?;
        let version = self
            .read_document_version(tx, tenant_id, document_id, number)
            .await?;
        if document.status == DocumentStatus::Withdrawn {
            return Err(conflict(
                steward_domain::sms::document::VersionRefusal::Withdrawn,
            ));
        }
        let next = version
            .state
            .apply(action, version.author_id, actor.user_id)
            .map_err(conflict)?;
        Ok((document, version, next))
    }

    /// Writes a version's new state and fields in `tx`, journals it, and reads it back.
    async fn save_document_version(
        &self,
        tx: &mut Tx,
        tenant_id: i64,
        before: &DocumentVersion,
        set: Sql,
        actor: &Actor,
    ) -> StoreResult<DocumentVersion> {
        let set = set
            .push_bound(", updated_at = {}", next_updated_at(before.updated_at))
            .push_bound(" WHERE tenant_id = {}", tenant_id)
            .push_bound(" AND id = {}", before.id)
            .push_bound(" AND updated_at = {}", before.updated_at);
        if tx.execute(set).await? == 0 {
            return Err(conflict(
                "The version was changed by someone else meanwhile; reload it and try again",
            ));
        }
        let after: DocumentVersion = tx
            .fetch_one(
                sql(format!(
                    "SELECT {VERSION_COLUMNS} FROM document_versions WHERE id = $1"
                ))
                .bind(before.id),
            )
            .await?;
        self.journal(
            tx,
            Change::of(tenant_id, actor, Action::Update, Some(before), Some(&after)),
        )
        .await?;
        Ok(after)
    }

    /// Replaces the text of a draft or returned version; only its author edits it.
    pub async fn update_document_version(
        &self,
        tenant_id: i64,
        document_id: i64,
        number: i64,
        draft: &VersionDraft,
        actor: &Actor,
    ) -> StoreResult<DocumentVersion> {
        let mut tx = self.db.begin().await?;
        let (_, before, _) = self
            .document_version_for(
                &mut tx,
                tenant_id,
                document_id,
                number,
                VersionAction::Edit,
                actor,
            )
            .await?;
        only_the_author(&before, actor)?;
        let set = sql("UPDATE document_versions SET body = $1, change_summary = $2")
            .bind(draft.body.clone())
            .bind(draft.change_summary.clone());
        let after = self
            .save_document_version(&mut tx, tenant_id, &before, set, actor)
            .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Sends a draft or returned version to `reviewer_id` (an active admin or manager, not
    /// the author) for approval.
    pub async fn submit_document_version(
        &self,
        tenant_id: i64,
        document_id: i64,
        number: i64,
        reviewer_id: i64,
        at: i64,
        actor: &Actor,
    ) -> StoreResult<DocumentVersion> {
        let mut tx = self.db.begin().await?;
        let reviewer: Option<(i64,)> = tx
            .fetch_optional(
                sql(format!(
                    "SELECT id FROM users WHERE tenant_id = $1 AND id = $2 AND active = $3 AND role IN {APPROVER_ROLES}"
                ))
                .bind(tenant_id)
                .bind(reviewer_id)
                .bind(true),
            )
            .await?;
        let action = VersionAction::Submit {
            reviewer: reviewer_id,
        };
        let (_, before, next) = self
            .document_version_for(&mut tx, tenant_id, document_id, number, action, actor)
            .await?;
        only_the_author(&before, actor)?;
        if reviewer.is_none() {
            return Err(Invalid::one(
                "reviewer_id",
                "The reviewer must be an active manager or administrator of this organisation",
            )
            .into());
        }
        let set =
            sql("UPDATE document_versions SET state = $1, reviewer_id = $2, submitted_at = $3")
                .bind(next.as_str())
                .bind(reviewer_id)
                .bind(at);
        let after = self
            .save_document_version(&mut tx, tenant_id, &before, set, actor)
            .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Sends a version in review back to its author for `reason`.
    pub async fn return_document_version(
        &self,
        tenant_id: i64,
        document_id: i64,
        number: i64,
        reason: &str,
        actor: &Actor,
    ) -> StoreResult<DocumentVersion> {
        let reason = checked_note("reason", "Reason", reason)?;
        let mut tx = self.db.begin().await?;
        let (_, before, next) = self
            .document_version_for(
                &mut tx,
                tenant_id,
                document_id,
                number,
                VersionAction::Return,
                actor,
            )
            .await?;
        let set = sql("UPDATE document_versions SET state = $1, returned_reason = $2")
            .bind(next.as_str())
            .bind(reason);
        let after = self
            .save_document_version(&mut tx, tenant_id, &before, set, actor)
            .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Approves a version in review at `at`: the version approved before it is superseded, the
    /// review date moves, and everyone on the distribution is sent a notice worded by
    /// `render` — all in one transaction.
    pub async fn approve_document_version(
        &self,
        tenant_id: i64,
        document_id: i64,
        number: i64,
        at: i64,
        actor: &Actor,
        render: NoticeRender<'_>,
    ) -> StoreResult<DocumentVersion> {
        let mut tx = self.db.begin().await?;
        let (document_before, before, next) = self
            .document_version_for(
                &mut tx,
                tenant_id,
                document_id,
                number,
                VersionAction::Approve,
                actor,
            )
            .await?;
        let previous: Option<DocumentVersion> = tx
            .fetch_optional(
                sql(format!(
                    "SELECT {VERSION_COLUMNS} FROM document_versions WHERE tenant_id = $1 AND document_id = $2 AND state = 'approved'"
                ))
                .bind(tenant_id)
                .bind(document_id),
            )
            .await?;
        if let Some(previous) = previous {
            let set = sql("UPDATE document_versions SET state = 'superseded', superseded_at = $1")
                .bind(at);
            self.save_document_version(&mut tx, tenant_id, &previous, set, actor)
                .await?;
        }
        let set = sql("UPDATE document_versions SET state = $1, approved_by_id = $2, approved_by_label = $3, approved_at = $4")
            .bind(next.as_str())
            .bind(actor.user_id)
            .bind(actor.label.clone())
            .bind(at);
        let after = self
            .save_document_version(&mut tx, tenant_id, &before, set, actor)
            .await?;
        self.refresh_document_review_due(&mut tx, tenant_id, document_id)
            .await?;
        tx.execute(
            sql("UPDATE documents SET updated_at = $1 WHERE tenant_id = $2 AND id = $3")
                .bind(next_updated_at(document_before.updated_at))
                .bind(tenant_id)
                .bind(document_id),
        )
        .await?;
        let document = read_document(&mut tx, tenant_id, document_id).await?;
        self.journal(
            &mut tx,
            Change::of(
                tenant_id,
                actor,
                Action::Update,
                Some(&document_before),
                Some(&document),
            ),
        )
        .await?;
        let readers: Vec<(i64, String, String)> =
            tx.fetch_all(readers_query(tenant_id, document_id)).await?;
        for (user_id, name, email) in readers {
            let (subject, body) = render(&document, &after, &name);
            let mail = OutMail {
                record_type: Document::KIND.into(),
                record_id: document_id,
                to_address: email,
                subject,
                body,
                message_id: format!(
                    "document-approved.{tenant_id}.{}.{user_id}@steward",
                    after.id
                ),
                in_reply_to: None,
                references: None,
            };
            queue_mail_in(&mut tx, tenant_id, &mail).await?;
        }
        tx.commit().await?;
        Ok(after)
    }

    /// Records a review on `reviewed_on` (not in the future) that found the document still fit
    /// for purpose; the next review falls due an interval after it.
    pub async fn record_document_review(
        &self,
        tenant_id: i64,
        document_id: i64,
        reviewed_on: Date,
        today: Date,
        note: &str,
        actor: &Actor,
    ) -> StoreResult<DocumentReview> {
        let note = optional_note("note", "Note", note)?;
        if reviewed_on > today {
            return Err(
                Invalid::one("reviewed_on", "The review date cannot be in the future").into(),
            );
        }
        let mut tx = self.db.begin().await?;
        let before = read_document(&mut tx, tenant_id, document_id).await?;
        if before.status == DocumentStatus::Withdrawn {
            return Err(conflict(
                "The document is withdrawn: it is no longer reviewed",
            ));
        }
        let approved: Option<(i64,)> = tx
            .fetch_optional(
                sql("SELECT id FROM document_versions WHERE tenant_id = $1 AND document_id = $2 AND state = 'approved'")
                    .bind(tenant_id)
                    .bind(document_id),
            )
            .await?;
        if approved.is_none() {
            return Err(conflict(
                "The document has no approved version yet: approve one before reviewing it",
            ));
        }
        let review: DocumentReview = tx
            .fetch_one(
                sql("INSERT INTO document_reviews (tenant_id, document_id, reviewed_on, note, reviewer_id, reviewer_label, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     RETURNING id, document_id, reviewed_on, note, reviewer_id, reviewer_label, created_at")
                .bind(tenant_id)
                .bind(document_id)
                .bind(date_text(reviewed_on))
                .bind(note)
                .bind(actor.user_id)
                .bind(actor.label.clone())
                .bind(now_micros()),
            )
            .await?;
        self.journal(
            &mut tx,
            Change::of(tenant_id, actor, Action::Create, None, Some(&review)),
        )
        .await?;
        self.refresh_document_review_due(&mut tx, tenant_id, document_id)
            .await?;
        tx.execute(
            sql("UPDATE documents SET updated_at = $1 WHERE tenant_id = $2 AND id = $3")
                .bind(next_updated_at(before.updated_at))
                .bind(tenant_id)
                .bind(document_id),
        )
        .await?;
        let after = read_document(&mut tx, tenant_id, document_id).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await?;
        Ok(review)
    }

    /// A document's reviews, newest first.
    pub async fn document_reviews(
        &self,
        tenant_id: i64,
        document_id: i64,
    ) -> StoreResult<Vec<DocumentReview>> {
        self.document(tenant_id, document_id).await?;
        self.db
            .fetch_all(
                sql("SELECT id, document_id, reviewed_on, note, reviewer_id, reviewer_label, created_at \
                     FROM document_reviews WHERE tenant_id = $1 AND document_id = $2 ORDER BY reviewed_on DESC, id DESC LIMIT 1000")
                    .bind(tenant_id)
                    .bind(document_id),
            )
            .await
    }

    /// The distribution's people and whether each has read the current approved version.
    pub async fn document_readers(
        &self,
        tenant_id: i64,
        document_id: i64,
    ) -> StoreResult<Vec<Reader>> {
        self.document(tenant_id, document_id).await?;
        let people: Vec<(i64, String, String)> = self
            .db
            .fetch_all(readers_query(tenant_id, document_id))
            .await?;
        let read: Vec<(i64, i64)> = self
            .db
            .fetch_all(
                sql("SELECT k.user_id, k.at FROM document_acknowledgements k \
                     JOIN document_versions v ON v.id = k.version_id AND v.state = 'approved' \
                     WHERE k.tenant_id = $1 AND k.document_id = $2")
                .bind(tenant_id)
                .bind(document_id),
            )
            .await?;
        Ok(people
            .into_iter()
            .map(|(user_id, name, email)| Reader {
                acknowledged_at: read.iter().find(|(u, _)| *u == user_id).map(|(_, at)| *at),
                user_id,
                name,
                email,
            })
            .collect())
    }

    /// `user_id` has read the current approved version; a `Conflict` when there is none. The
    /// caller checks they are on the distribution ([`Store::document_readers`]).
    /// Acknowledging twice keeps the first.
    pub async fn acknowledge_document(
        &self,
        tenant_id: i64,
        document_id: i64,
        user_id: i64,
        actor: &Actor,
    ) -> StoreResult<Acknowledgement> {
        let mut tx = self.db.begin().await?;
        let document = read_document(&mut tx, tenant_id, document_id).await?;
        if document.status == DocumentStatus::Withdrawn {
            return Err(conflict("The document is withdrawn"));
        }
        let current: Option<(i64,)> = tx
            .fetch_optional(
                sql("SELECT id FROM document_versions WHERE tenant_id = $1 AND document_id = $2 AND state = 'approved'")
                    .bind(tenant_id)
                    .bind(document_id),
            )
            .await?;
        let Some((version_id,)) = current else {
            return Err(conflict("The document has no approved version to read yet"));
        };
        let select =
            "SELECT id, document_id, version_id, user_id, at FROM document_acknowledgements";
        let existing: Option<Acknowledgement> = tx
            .fetch_optional(
                sql(format!("{select} WHERE version_id = $1 AND user_id = $2"))
                    .bind(version_id)
                    .bind(user_id),
            )
            .await?;
        if let Some(existing) = existing {
            return Ok(existing);
        }
        let created: Acknowledgement = tx
            .fetch_one(
                sql("INSERT INTO document_acknowledgements (tenant_id, document_id, version_id, user_id, at) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING id, document_id, version_id, user_id, at")
                .bind(tenant_id)
                .bind(document_id)
                .bind(version_id)
                .bind(user_id)
                .bind(now_micros()),
            )
            .await?;
        self.commit_created(tx, tenant_id, actor, created).await
    }

    /// Every acknowledgement of a document, of any version, newest first.
    pub async fn document_acknowledgements(
        &self,
        tenant_id: i64,
        document_id: i64,
    ) -> StoreResult<Vec<Acknowledgement>> {
        self.document(tenant_id, document_id).await?;
        self.db
            .fetch_all(
                sql("SELECT id, document_id, version_id, user_id, at FROM document_acknowledgements \
                     WHERE tenant_id = $1 AND document_id = $2 ORDER BY id DESC LIMIT 5000")
                .bind(tenant_id)
                .bind(document_id),
            )
            .await
    }

    /// Attaches a file to a draft or returned version. The version's state is checked and
    /// its row touched in the same transaction, so a file never lands on an approved version.
    pub async fn attach_document_file(
        &self,
        tenant_id: i64,
        document_id: i64,
        number: i64,
        file: NewAttachment<'_>,
        actor: &Actor,
    ) -> StoreResult<Attachment> {
        let mut tx = self.db.begin().await?;
        let (_, version, _) = self
            .document_version_for(
                &mut tx,
                tenant_id,
                document_id,
                number,
                VersionAction::Edit,
                actor,
            )
            .await?;
        // Touching the row holds it (PostgreSQL's row lock) until the file is in.
        let touched = tx
            .execute(
                sql("UPDATE document_versions SET updated_at = $1 WHERE id = $2 AND updated_at = $3 \
                     AND state IN ('draft', 'returned')")
                .bind(next_updated_at(version.updated_at))
                .bind(version.id)
                .bind(version.updated_at),
            )
            .await?;
        if touched == 0 {
            return Err(conflict(
                "The version was changed meanwhile; reload it and try again",
            ));
        }
        let sha256 = hex::encode(Sha256::digest(file.bytes));
        let size = i64::try_from(file.bytes.len()).unwrap_or(i64::MAX);
        tx.execute(
            sql(
                "INSERT INTO blobs (sha256, bytes) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING",
            )
            .bind(sha256.clone())
            .bind(file.bytes),
        )
        .await?;
        let attachment: Attachment = tx
            .fetch_one(
                sql("INSERT INTO attachments (tenant_id, record_type, record_id, sha256, filename, content_type, size, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     RETURNING id, record_type, record_id, sha256, filename, content_type, size, created_at")
                .bind(tenant_id)
                .bind(VERSION_FILES)
                .bind(version.id)
                .bind(sha256)
                .bind(file.filename)
                .bind(file.content_type)
                .bind(size)
                .bind(now_micros()),
            )
            .await?;
        self.journal(
            &mut tx,
            Change {
                tenant_id,
                actor,
                action: Action::Create,
                record_type: "attachment",
                record_id: attachment.id,
                before: None,
                after: snapshot(&attachment),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(attachment)
    }

    /// Where a version's files hang in `attachments`.
    pub async fn document_files_target(
        &self,
        tenant_id: i64,
        document_id: i64,
        number: i64,
    ) -> StoreResult<MailTarget> {
        let version = self
            .document_version(tenant_id, document_id, number)
            .await?;
        Ok(MailTarget {
            record_type: VERSION_FILES.into(),
            record_id: version.id,
        })
    }

    /// Sends the review reminders due on `today` to each active document's owner: once a
    /// review is within [`steward_domain::sms::document::REVIEW_LEAD_DAYS`] and once when it is
    /// overdue, each once per due date, claimed in `document_reminders` with its mail.
    pub async fn send_document_reminders(
        &self,
        tenant_id: i64,
        today: Date,
        render: impl Fn(&DocumentReminder) -> (String, String),
    ) -> StoreResult<Vec<DocumentReminder>> {
        let due: Vec<(i64, String)> = self
            .db
            .fetch_all(
                sql("SELECT id, review_due FROM documents WHERE tenant_id = $1 AND status = 'active' \
                     AND review_due IS NOT NULL AND review_due <= $2 ORDER BY id LIMIT 1000")
                .bind(tenant_id)
                .bind(date_text(today.checked_add(jiff::Span::new().days(
                    steward_domain::sms::document::REVIEW_LEAD_DAYS,
                )).unwrap_or(today))),
            )
            .await?;
        let mut sent = Vec::new();
        for (id, due_text) in due {
            let due_on = stored_date(&due_text)?;
            let Some(kind) = review_reminder(due_on, today) else {
                continue;
            };
            if let Some(reminder) = self
                .send_document_reminder(tenant_id, id, kind, due_on, today, &render)
                .await?
            {
                sent.push(reminder);
            }
        }
        Ok(sent)
    }

    async fn send_document_reminder(
        &self,
        tenant_id: i64,
        id: i64,
        kind: ReviewReminder,
        due_on: Date,
        today: Date,
        render: &impl Fn(&DocumentReminder) -> (String, String),
    ) -> StoreResult<Option<DocumentReminder>> {
        let mut tx = self.db.begin().await?;
        let document = read_document(&mut tx, tenant_id, id).await?;
        let owner: (String, String) = tx
            .fetch_one(
                sql("SELECT name, email FROM users WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant_id)
                    .bind(document.owner_id),
            )
            .await?;
        let claimed: Option<(i64,)> = tx
            .fetch_optional(
                sql("INSERT INTO document_reminders (tenant_id, document_id, kind, due_on, sent_at) \
                     VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (tenant_id, document_id, kind, due_on) DO NOTHING RETURNING id")
                .bind(tenant_id)
                .bind(id)
                .bind(kind.as_str())
                .bind(date_text(due_on))
                .bind(now_micros()),
            )
            .await?;
        let Some((reminder_id,)) = claimed else {
            return Ok(None);
        };
        let reminder = DocumentReminder {
            days_left: steward_domain::asset::days_until(today, due_on),
            document,
            kind,
            due_on,
            owner,
        };
        let (subject, body) = render(&reminder);
        let mail = OutMail {
            record_type: Document::KIND.into(),
            record_id: id,
            to_address: reminder.owner.1.clone(),
            subject,
            body,
            message_id: format!(
                "document-review.{tenant_id}.{reminder_id}.{}@steward",
                kind.as_str()
            ),
            in_reply_to: None,
            references: None,
        };
        queue_mail_in(&mut tx, tenant_id, &mail).await?;
        tx.commit().await?;
        Ok(Some(reminder))
    }

    /// Active people who may review and approve documents: (id, name).
    pub async fn document_approvers(&self, tenant_id: i64) -> StoreResult<Vec<(i64, String)>> {
        self.db
            .fetch_all(
                sql(format!(
                    "SELECT id, name FROM users WHERE tenant_id = $1 AND active = $2 AND role IN {APPROVER_ROLES} ORDER BY name, id"
                ))
                .bind(tenant_id)
                .bind(true),
            )
            .await
    }

    /// Active people who may own or receive documents: (id, name).
    pub async fn document_people(&self, tenant_id: i64) -> StoreResult<Vec<(i64, String)>> {
        self.db
            .fetch_all(
                sql(format!(
                    "SELECT id, name FROM users WHERE tenant_id = $1 AND active = $2 AND role IN {READER_ROLES} ORDER BY name, id"
                ))
                .bind(tenant_id)
                .bind(true),
            )
            .await
    }
}

/// Only the author changes or submits their version: separation of duties rests on knowing
/// whose text it is.
fn only_the_author(version: &DocumentVersion, actor: &Actor) -> StoreResult<()> {
    if version.author_id == actor.user_id {
        Ok(())
    } else {
        Err(conflict(format!(
            "Only the author, {}, changes or submits version {}",
            version.author_label, version.number
        )))
    }
}
