//! Full-text search, the one place where the backends differ by design: an FTS5 table on
//! SQLite, a `tsvector` column with a GIN index on PostgreSQL. Both index a record's title and
//! its body (description plus conversation) and match every word of the query, stemmed.

use crate::db::{Sql, Tx, sql};
use crate::{Backend, Store, StoreResult};

/// What one kind of record puts in its search entry: SQL expressions over the row `t`.
struct Indexed {
    table: &'static str,
    title: &'static str,
    /// The body, once per backend (their string aggregates differ).
    body_sqlite: &'static str,
    body_postgres: &'static str,
}

const INCIDENTS: Indexed = Indexed {
    table: "incidents",
    title: "t.title",
    body_sqlite: "t.description || ' ' || COALESCE((SELECT group_concat(c.body, ' ') FROM comments c \
                  WHERE c.tenant_id = t.tenant_id AND c.record_type = 'incident' AND c.record_id = t.id), '')",
    body_postgres: "t.description || ' ' || COALESCE((SELECT string_agg(c.body, ' ') FROM comments c \
                    WHERE c.tenant_id = t.tenant_id AND c.record_type = 'incident' AND c.record_id = t.id), '')",
};

const KNOWN_ERRORS: Indexed = Indexed {
    table: "known_errors",
    title: "t.title",
    body_sqlite: "t.symptoms || ' ' || t.root_cause || ' ' || t.workaround",
    body_postgres: "t.symptoms || ' ' || t.root_cause || ' ' || t.workaround",
};

const ARTICLES: Indexed = Indexed {
    table: "articles",
    title: "t.title",
    body_sqlite: "t.body",
    body_postgres: "t.body",
};

/// Rebuilds one record's search entry from its current content, inside the caller's transaction.
async fn reindex(tx: &mut Tx, what: &Indexed, id: i64) -> StoreResult<()> {
    reindex_ids(tx, what, id, id).await
}

/// Rebuilds the search entries of the records with ids `first..=last` (rebuilding a record's
/// entry twice is harmless, so a range may cover records written by others).
async fn reindex_ids(tx: &mut Tx, what: &Indexed, first: i64, last: i64) -> StoreResult<()> {
    let Indexed {
        table,
        title,
        body_sqlite,
        body_postgres,
    } = what;
    match tx.backend() {
        Backend::Sqlite => {
            // One statement: REPLACE drops a record's old entry (same rowid) as it writes the new.
            tx.execute(
                sql(format!("INSERT OR REPLACE INTO {table}_fts (rowid, title, body) SELECT t.id, {title}, {body_sqlite} FROM {table} t WHERE t.id BETWEEN $1 AND $2"))
                    .bind(first)
                    .bind(last),
            )
            .await?;
        }
        Backend::Postgres => {
            tx.execute(
                sql(format!(
                    "UPDATE {table} t SET search = setweight(to_tsvector('english', {title}), 'A') || \
                     to_tsvector('english', {body_postgres}) WHERE t.id BETWEEN $1 AND $2"
                ))
                .bind(first)
                .bind(last),
            )
            .await?;
        }
    }
    Ok(())
}

/// Rebuilds the search entries of incidents with ids `first..=last`, for bulk loads.
pub(crate) async fn reindex_incidents_between(
    tx: &mut Tx,
    first: i64,
    last: i64,
) -> StoreResult<()> {
    reindex_ids(tx, &INCIDENTS, first, last).await
}

/// Rebuilds the search entry of one incident from its title, description and comments.
pub(crate) async fn reindex_incident(tx: &mut Tx, id: i64) -> StoreResult<()> {
    reindex(tx, &INCIDENTS, id).await
}

/// Rebuilds the search entry of one known error from its title, symptoms, cause and workaround.
pub(crate) async fn reindex_known_error(tx: &mut Tx, id: i64) -> StoreResult<()> {
    reindex(tx, &KNOWN_ERRORS, id).await
}

/// Rebuilds the search entry of one knowledge article from its current title and body.
pub(crate) async fn reindex_article(tx: &mut Tx, id: i64) -> StoreResult<()> {
    reindex(tx, &ARTICLES, id).await
}

/// Rebuilds every search entry of every kind of record (after a restore).
pub(crate) async fn reindex_everything(tx: &mut Tx) -> StoreResult<()> {
    for what in [&INCIDENTS, &KNOWN_ERRORS, &ARTICLES] {
        reindex_ids(tx, what, i64::MIN, i64::MAX).await?;
    }
    Ok(())
}

/// Words of a query, stripped of anything a query language could read as syntax: at most 32,
/// each non-empty and nothing but letters and digits, lowercase, so that neither FTS5 nor
/// tsquery can read an operator, a quote, a prefix `*`, a column filter `:` or a `NEAR` in them
/// (a syntax error there would be a 500). Lowercasing can add marks that are not letters
/// (`İ` becomes `i` and a combining dot), so it comes before the letters are kept.
pub(crate) fn words(query: &str) -> Vec<String> {
    query
        .split(|c: char| !c.is_alphanumeric())
        .map(|w| {
            w.to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric())
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .take(32)
        .collect()
}

/// Adds "matches every word of `query`" to a list query over `table`, which has an FTS5 twin
/// `{table}_fts` on SQLite and a `search` tsvector column on PostgreSQL.
pub(crate) fn matching(backend: Backend, q: Sql, table: &str, query: &str) -> Sql {
    matching_words(backend, q, table, &words(query), Matches::Few)
}

/// How many rows a full-text query matches, as far as the SQLite plan cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Matches {
    /// Few enough to fetch them all and sort: the match list drives the query.
    Few,
    /// So many that walking the sort order and keeping the matching rows finds a page sooner.
    Many,
}

/// Above this many matches, a sorted page of a search walks the sort index instead of sorting
/// every match (measured at 1M incidents: a word in 8 % of them answers in ~25 ms instead of
/// ~200 ms; a rare word stays under a few ms either way).
const MANY_MATCHES: i64 = 5_000;

impl Store {
    /// `matching`, but on SQLite first counts the matches (capped, so the count stays cheap) to
    /// pick the plan: SQLite's planner cannot tell a rare word from a common one.
    pub(crate) async fn matching_sorted(
        &self,
        q: Sql,
        table: &str,
        query: &str,
    ) -> StoreResult<Sql> {
        let backend = self.backend();
        let words = words(query);
        if backend == Backend::Postgres || words.is_empty() {
            return Ok(matching_words(backend, q, table, &words, Matches::Few));
        }
        let count = sql(format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM {table}_fts WHERE {table}_fts MATCH $1 LIMIT {MANY_MATCHES})"
        ))
        .bind(fts_query(&words));
        let (n,): (i64,) = self.db.fetch_one(count).await?;
        let matches = if n >= MANY_MATCHES {
            Matches::Many
        } else {
            Matches::Few
        };
        Ok(matching_words(backend, q, table, &words, matches))
    }
}

/// The FTS5 match expression of the words: each a quoted string, all of them required.
pub(crate) fn fts_query(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("\"{w}\""))
        .collect::<Vec<_>>()
        .join(" ")
}

fn matching_words(
    backend: Backend,
    q: Sql,
    table: &str,
    words: &[String],
    matches: Matches,
) -> Sql {
    if words.is_empty() {
        return q.push(" AND 1 = 0");
    }
    match backend {
        Backend::Sqlite => {
            // `+id` keeps the planner from driving the query by the match list.
            let id = if matches == Matches::Many {
                "+id"
            } else {
                "id"
            };
            q.push_bound(
                &format!(
                    " AND {id} IN (SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH {{}})"
                ),
                fts_query(words),
            )
        }
        Backend::Postgres => q.push_bound(
            " AND search @@ plainto_tsquery('english', {})",
            words.join(" "),
        ),
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
        assert_eq!(
            words("İSTANBUL"),
            ["istanbul"],
            "no combining mark left over from lowercasing"
        );
    }

    /// What FTS5 and tsquery could read as syntax, beyond anything not a letter or a digit.
    fn is_operator(word: &str) -> bool {
        ["AND", "OR", "NOT", "NEAR"].contains(&word)
    }

    proptest::proptest! {
        #[test]
        fn no_query_reaches_the_search_syntax(query in "\\PC{0,80}|[A-Za-z \"*:^()+\\-]{0,40}") {
            let words = words(&query);
            proptest::prop_assert!(words.len() <= 32);
            for w in &words {
                proptest::prop_assert!(!w.is_empty() && w.chars().all(char::is_alphanumeric), "{w:?}");
                proptest::prop_assert!(!is_operator(w), "{w:?}");
            }
            let expression = fts_query(&words);
            let quoted: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
            proptest::prop_assert_eq!(&expression, &quoted.join(" "));
            proptest::prop_assert_eq!(expression.matches('"').count(), 2 * words.len());
        }
    }
}
