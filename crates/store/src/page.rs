//! Keyset pagination: pages follow a cursor (the last row's sort key), never an offset, so
//! page 5,000 costs what page 1 costs.

use serde::{Deserialize, Serialize};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;

#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl PageRequest {
    pub fn limit(&self) -> u32 {
        self.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Where the previous page ended: the sort value and id of its last row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Cursor {
    pub key: CursorKey,
    pub id: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum CursorKey {
    Int(i64),
    Text(String),
}

impl Cursor {
    pub fn encode(&self) -> String {
        hex::encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// `None` for anything that is not a cursor we issued; the server answers 400.
    pub fn decode(text: &str) -> Option<Cursor> {
        let bytes = hex::decode(text).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

/// A sortable column of a list and its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub column: &'static str,
    pub descending: bool,
}

impl Sort {
    /// Parses `name` or `-name` against the columns a list allows; the first is the default.
    pub fn parse(requested: Option<&str>, allowed: &[&'static str]) -> Option<Sort> {
        let Some(requested) = requested.filter(|r| !r.is_empty()) else {
            return allowed.first().map(|&column| Sort {
                column,
                descending: false,
            });
        };
        let (name, descending) = match requested.strip_prefix('-') {
            Some(name) => (name, true),
            None => (requested, false),
        };
        allowed
            .iter()
            .find(|&&c| c == name)
            .map(|&column| Sort { column, descending })
    }

    pub(crate) fn order_by(&self) -> String {
        let dir = if self.descending { "DESC" } else { "ASC" };
        format!(" ORDER BY {} {dir}, id {dir}", self.column)
    }

    pub(crate) fn after(&self) -> String {
        let op = if self.descending { "<" } else { ">" };
        format!(" AND ({}, id) {op} ({{}}, ", self.column)
    }
}

/// Adds the keyset condition, order and limit to a list query whose rows carry `id` and the
/// sort column. Fetches one row more than asked, to know whether a next page exists.
pub(crate) fn paginate(
    mut q: crate::db::Sql,
    sort: Sort,
    page: &PageRequest,
) -> crate::StoreResult<crate::db::Sql> {
    if let Some(text) = &page.cursor {
        let cursor = Cursor::decode(text).ok_or_else(|| {
            crate::StoreError::Invalid(steward_domain::Invalid::one(
                "cursor",
                "cursor is not valid",
            ))
        })?;
        let after = sort.after();
        q = match cursor.key {
            CursorKey::Int(v) => q.push_bound(&after, v),
            CursorKey::Text(v) => q.push_bound(&after, v),
        };
        q = q.push_bound("{})", cursor.id);
    }
    q = q.push(&sort.order_by());
    Ok(q.push_bound(" LIMIT {}", i64::from(page.limit()) + 1))
}

/// Cuts the extra row off and turns the last row into the next cursor.
pub(crate) fn finish<T>(
    mut rows: Vec<T>,
    page: &PageRequest,
    key_of: impl Fn(&T) -> (CursorKey, i64),
) -> Page<T> {
    let limit = page.limit() as usize;
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|last| {
            let (key, id) = key_of(last);
            Cursor { key, id }.encode()
        })
    } else {
        None
    };
    Page {
        items: rows,
        next_cursor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = Cursor {
            key: CursorKey::Text("Payroll".into()),
            id: 9,
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("zz"), None);
        assert_eq!(Cursor::decode("7b7d"), None);
    }

    #[test]
    fn sorts_are_whitelisted() {
        let allowed = ["name", "created_at"];
        assert_eq!(
            Sort::parse(None, &allowed),
            Some(Sort {
                column: "name",
                descending: false
            })
        );
        assert_eq!(
            Sort::parse(Some("-created_at"), &allowed),
            Some(Sort {
                column: "created_at",
                descending: true
            })
        );
        assert_eq!(Sort::parse(Some("password_hash"), &allowed), None);
    }
}
