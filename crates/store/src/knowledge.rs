//! Knowledge articles and their versions.
//!
//! The `articles` row holds the current text and its version number; `article_versions` keeps
//! every text an article has had. A change of title or body writes the next version in the
//! same transaction as the article and its journal entry; a change of anything else (public,
//! service, status) keeps the version. Editing a published article makes a new version that is
//! published at once (see `steward_domain::knowledge`).

use crate::db::{Sql, Tx, sql};
use crate::incident::next_number;
use crate::journal::{Change, Record, snapshot};
use crate::page::{CursorKey, Page, PageRequest, Sort, finish, paginate};
use crate::search::{matching, reindex_article};
use crate::{Actor, Store, StoreError, StoreResult, now_micros};
use serde::Serialize;
use steward_domain::Invalid;
use steward_domain::journal::Action;
use steward_domain::knowledge::{ArticleDraft, ArticleStatus};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Article {
    pub id: i64,
    pub number: i64,
    pub title: String,
    pub body: String,
    #[sqlx(try_from = "String")]
    pub status: ArticleStatus,
    pub public: bool,
    pub service_id: Option<i64>,
    /// The current version: 1 when created, one more for every change of title or body.
    pub version: i64,
    /// Who wrote the first version.
    pub author_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub published_at: Option<i64>,
}

impl Article {
    /// The key people use: `KB-7`.
    pub fn key(&self) -> String {
        format!("KB-{}", self.number)
    }

    /// Whether requesters may read it: published and marked public.
    pub fn is_public_now(&self) -> bool {
        self.public && self.status == ArticleStatus::Published
    }
}

impl Record for Article {
    const KIND: &'static str = "article";
    fn id(&self) -> i64 {
        self.id
    }
}

/// One text an article has had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ArticleVersion {
    pub id: i64,
    pub version: i64,
    pub title: String,
    pub body: String,
    pub author_id: Option<i64>,
    pub author: String,
    pub created_at: i64,
}

const COLUMNS: &str = "id, number, title, body, status, public, service_id, version, author_id, \
    created_at, updated_at, published_at";

/// What an update writes: the validated content, and the status the domain allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleChange {
    pub draft: ArticleDraft,
    pub status: ArticleStatus,
    pub published_at: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct ArticleFilter {
    /// Full-text query over title and body; every word must match.
    pub q: Option<String>,
    pub status: Option<ArticleStatus>,
    pub public: Option<bool>,
    pub service_id: Option<i64>,
    /// `updated_at` or `title`, optionally with a leading `-`; newest first by default.
    pub sort: Option<String>,
    /// Only what requesters may read (published and public), on top of the other filters.
    pub requesters_only: bool,
}

impl ArticleFilter {
    /// Narrows the filter to what requesters may read: published public articles.
    /// The other filters still apply, so they can narrow this view but never widen it.
    pub fn for_requesters(mut self) -> ArticleFilter {
        self.requesters_only = true;
        self
    }
}

fn select_by_id(tenant_id: i64, id: i64) -> Sql {
    sql(format!(
        "SELECT {COLUMNS} FROM articles WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
}

async fn insert_version(
    tx: &mut Tx,
    tenant_id: i64,
    article: &Article,
    actor: &Actor,
) -> StoreResult<()> {
    tx.execute(
        sql("INSERT INTO article_versions (tenant_id, article_id, version, title, body, author_id, author, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(tenant_id)
            .bind(article.id)
            .bind(article.version)
            .bind(&article.title)
            .bind(&article.body)
            .bind(actor.user_id)
            .bind(actor.label.clone())
            .bind(article.updated_at),
    )
    .await?;
    Ok(())
}

impl Store {
    /// Checks that the linked service is a live service of the tenant.
    async fn check_article_refs(&self, tenant_id: i64, draft: &ArticleDraft) -> StoreResult<()> {
        let Some(id) = draft.service_id else {
            return Ok(());
        };
        let found: Option<(i64,)> = self
            .db
            .fetch_optional(
                sql("SELECT id FROM services WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL")
                    .bind(tenant_id)
                    .bind(id),
            )
            .await?;
        match found {
            Some(_) => Ok(()),
            None => Err(Invalid::one(
                "service_id",
                format!("Service {id} does not exist in this organisation"),
            )
            .into()),
        }
    }

    /// Creates a draft article at version 1.
    pub async fn create_article(
        &self,
        tenant_id: i64,
        draft: &ArticleDraft,
        actor: &Actor,
    ) -> StoreResult<Article> {
        self.check_article_refs(tenant_id, draft).await?;
        let now = now_micros();
        let mut tx = self.db.begin().await?;
        let number = next_number(&mut tx, tenant_id, "article").await?;
        let article: Article = tx
            .fetch_one(
                sql(format!(
                    "INSERT INTO articles (tenant_id, number, title, body, status, public, service_id, version, author_id, \
                     created_at, updated_at, published_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9, $9, NULL) \
                     RETURNING {COLUMNS}"
                ))
                .bind(tenant_id)
                .bind(number)
                .bind(&draft.title)
                .bind(&draft.body)
                .bind(ArticleStatus::Draft.as_str())
                .bind(draft.public)
                .bind(draft.service_id)
                .bind(actor.user_id)
                .bind(now),
            )
            .await?;
        insert_version(&mut tx, tenant_id, &article, actor).await?;
        reindex_article(&mut tx, article.id).await?;
        self.journal(
            &mut tx,
            Change {
                tenant_id,
                actor,
                action: Action::Create,
                record_type: Article::KIND,
                record_id: article.id,
                before: None,
                after: snapshot(&article),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(article)
    }

    pub async fn article(&self, tenant_id: i64, id: i64) -> StoreResult<Article> {
        self.db.fetch_one(select_by_id(tenant_id, id)).await
    }

    pub async fn article_by_number(&self, tenant_id: i64, number: i64) -> StoreResult<Article> {
        self.db
            .fetch_one(
                sql(format!(
                    "SELECT {COLUMNS} FROM articles WHERE tenant_id = $1 AND number = $2"
                ))
                .bind(tenant_id)
                .bind(number),
            )
            .await
    }

    /// Writes an article's new content and status if it has not changed since
    /// `seen_updated_at` (otherwise `Conflict`). A new title or body becomes the next version.
    /// A status change the lifecycle forbids, or any change to a retired article, is a
    /// `Conflict`. A change that changes nothing writes nothing and returns the article as it is.
    pub async fn update_article(
        &self,
        tenant_id: i64,
        id: i64,
        seen_updated_at: i64,
        change: &ArticleChange,
        actor: &Actor,
    ) -> StoreResult<Article> {
        self.check_article_refs(tenant_id, &change.draft).await?;
        let mut tx = self.db.begin().await?;
        let before: Article = tx.fetch_one(select_by_id(tenant_id, id)).await?;
        if before.updated_at != seen_updated_at {
            return Err(StoreError::Conflict(
                "The article was changed by someone else; reload it and try again".into(),
            ));
        }
        if before.status.is_terminal() {
            return Err(StoreError::Conflict(format!(
                "{} is retired and can no longer change",
                before.key()
            )));
        }
        if change.status != before.status {
            // The server checks first to name the allowed statuses; this guards the write.
            before
                .status
                .transition(change.status)
                .map_err(|refusal| StoreError::Conflict(refusal.to_string()))?;
        }
        let d = &change.draft;
        let new_text = d.title != before.title || d.body != before.body;
        if !new_text
            && d.public == before.public
            && d.service_id == before.service_id
            && change.status == before.status
            && change.published_at == before.published_at
        {
            return Ok(before);
        }
        let version = before.version + i64::from(new_text);
        let after: Article = tx
            .fetch_one(
                sql(format!(
                    "UPDATE articles SET title = $1, body = $2, status = $3, public = $4, service_id = $5, version = $6, \
                     published_at = $7, updated_at = $8 WHERE tenant_id = $9 AND id = $10 AND updated_at = $11 \
                     RETURNING {COLUMNS}"
                ))
                .bind(&d.title)
                .bind(&d.body)
                .bind(change.status.as_str())
                .bind(d.public)
                .bind(d.service_id)
                .bind(version)
                .bind(change.published_at)
                .bind(now_micros().max(seen_updated_at + 1))
                .bind(tenant_id)
                .bind(id)
                .bind(seen_updated_at),
            )
            .await?;
        if new_text {
            insert_version(&mut tx, tenant_id, &after, actor).await?;
            reindex_article(&mut tx, id).await?;
        }
        self.journal(
            &mut tx,
            Change {
                tenant_id,
                actor,
                action: Action::Update,
                record_type: Article::KIND,
                record_id: id,
                before: snapshot(&before),
                after: snapshot(&after),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn articles(
        &self,
        tenant_id: i64,
        f: &ArticleFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Article>> {
        let requested = f
            .sort
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or("-updated_at");
        let sort = Sort::parse(Some(requested), &["updated_at", "title"]).ok_or_else(|| {
            Invalid::one(
                "sort",
                "sort must be updated_at or title, optionally with a leading -",
            )
        })?;
        let mut q = sql(format!(
            "SELECT {COLUMNS} FROM articles WHERE tenant_id = $1"
        ))
        .bind(tenant_id);
        if let Some(text) = f.q.as_deref().filter(|t| !t.trim().is_empty()) {
            q = matching(self.backend(), q, "articles", text);
        }
        if let Some(status) = f.status {
            q = q.push_bound(" AND status = {}", status.as_str());
        }
        if let Some(public) = f.public {
            q = q.push_bound(" AND public = {}", public);
        }
        if let Some(service) = f.service_id {
            q = q.push_bound(" AND service_id = {}", service);
        }
        if f.requesters_only {
            q = q
                .push_bound(" AND status = {}", ArticleStatus::Published.as_str())
                .push_bound(" AND public = {}", true);
        }
        let rows: Vec<Article> = self.db.fetch_all(paginate(q, sort, page)?).await?;
        Ok(finish(rows, page, |a| match sort.column {
            "title" => (CursorKey::Text(a.title.clone()), a.id),
            _ => (CursorKey::Int(a.updated_at), a.id),
        }))
    }

    /// Every version of an article, oldest first.
    pub async fn article_versions(
        &self,
        tenant_id: i64,
        article_id: i64,
    ) -> StoreResult<Vec<ArticleVersion>> {
        self.db
            .fetch_all(
                sql("SELECT id, version, title, body, author_id, author, created_at FROM article_versions \
                     WHERE tenant_id = $1 AND article_id = $2 ORDER BY version")
                    .bind(tenant_id)
                    .bind(article_id),
            )
            .await
    }
}
