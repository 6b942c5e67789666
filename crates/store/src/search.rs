//! Full-text search, the one place where the backends differ by design: an FTS5 table on
//! SQLite, a `tsvector` column with a GIN index on PostgreSQL. Both index a record's title and
//! its body (description plus conversation) and match every word of the query, stemmed.

use crate::db::{Sql, Tx, sql};
use crate::{Backend, StoreResult};

/// Rebuilds the search entry of one incident from its current title, description and comments.
pub(crate) async fn reindex_incident(tx: &mut Tx, id: i64) -> StoreResult<()> {
    match tx.backend() {
        Backend::Sqlite => {
            tx.execute(sql("DELETE FROM incidents_fts WHERE rowid = $1").bind(id))
                .await?;
            tx.execute(
                sql("INSERT INTO incidents_fts (rowid, title, body) \
                     SELECT i.id, i.title, i.description || ' ' || COALESCE((SELECT group_concat(c.body, ' ') FROM comments c \
                       WHERE c.tenant_id = i.tenant_id AND c.record_type = 'incident' AND c.record_id = i.id), '') \
                     FROM incidents i WHERE i.id = $1")
                .bind(id),
            )
            .await?;
        }
        Backend::Postgres => {
            tx.execute(
                sql("UPDATE incidents i SET search = \
                       setweight(to_tsvector('english', i.title), 'A') || \
                       to_tsvector('english', i.description || ' ' || COALESCE((SELECT string_agg(c.body, ' ') FROM comments c \
                         WHERE c.tenant_id = i.tenant_id AND c.record_type = 'incident' AND c.record_id = i.id), '')) \
                     WHERE i.id = $1")
                .bind(id),
            )
            .await?;
        }
    }
    Ok(())
}

/// Words of a query, stripped of anything a query language could read as syntax.
pub(crate) fn words(query: &str) -> Vec<String> {
    query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(32)
        .map(str::to_lowercase)
        .collect()
}

/// Adds "matches every word of `query`" to a list query over `table`, which has an FTS5 twin
/// `{table}_fts` on SQLite and a `search` tsvector column on PostgreSQL.
pub(crate) fn matching(backend: Backend, q: Sql, table: &str, query: &str) -> Sql {
    let words = words(query);
    if words.is_empty() {
        return q.push(" AND 1 = 0");
    }
    match backend {
        Backend::Sqlite => {
            let fts = words.iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(" ");
            q.push_bound(&format!(" AND id IN (SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH {{}})"), fts)
        }
        Backend::Postgres => q.push_bound(" AND search @@ plainto_tsquery('english', {})", words.join(" ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_syntax_is_neutralised() {
        assert_eq!(
            words("printer \"jammed\" OR* NEAR(x)"),
            ["printer", "jammed", "or", "near", "x"]
        );
        assert!(words("*** ---").is_empty());
    }
}

/// Rebuilds the search entry of one known error from its title, symptoms, cause and workaround.
pub(crate) async fn reindex_known_error(tx: &mut Tx, id: i64) -> StoreResult<()> {
    match tx.backend() {
        Backend::Sqlite => {
            tx.execute(sql("DELETE FROM known_errors_fts WHERE rowid = $1").bind(id)).await?;
            tx.execute(
                sql("INSERT INTO known_errors_fts (rowid, title, body) \
                     SELECT id, title, symptoms || ' ' || root_cause || ' ' || workaround FROM known_errors WHERE id = $1")
                .bind(id),
            )
            .await?;
        }
        Backend::Postgres => {
            tx.execute(
                sql("UPDATE known_errors SET search = setweight(to_tsvector('english', title), 'A') || \
                     to_tsvector('english', symptoms || ' ' || root_cause || ' ' || workaround) WHERE id = $1")
                .bind(id),
            )
            .await?;
        }
    }
    Ok(())
}
