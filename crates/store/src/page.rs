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

    /// Whether a page sorted by `sort` could have ended here: a key of the column's kind, and
    /// text the databases can hold (PostgreSQL refuses NUL). A cursor of another sort, or a
    /// forged one, fails this and is a 422, not a database error.
    pub fn fits(&self, sort: Sort) -> bool {
        match &self.key {
            CursorKey::Int(_) => !sort.text_key(),
            CursorKey::Text(text) => sort.text_key() && !text.contains('\0'),
        }
    }
}

/// The sort columns whose cursor key is text; every other sort column's key is a number.
const TEXT_SORT_COLUMNS: &[&str] = &[
    "name",
    "email",
    "title",
    "priority",
    "tag",
    "expiry_date",
    "planned_start",
    "cycle_start",
];

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

    /// [`Sort::parse`], with a request it does not allow refused as `Invalid` on `sort`,
    /// naming the columns it does allow.
    pub(crate) fn parse_or_invalid(
        requested: Option<&str>,
        allowed: &[&'static str],
    ) -> crate::StoreResult<Sort> {
        Sort::parse(requested, allowed).ok_or_else(|| {
            let choices = match allowed {
                [] => String::new(),
                [one] => (*one).to_owned(),
                [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
            };
            steward_domain::Invalid::one(
                "sort",
                format!("sort must be {choices}, optionally with a leading -"),
            )
            .into()
        })
    }

    pub(crate) fn order_by(&self) -> String {
        let dir = if self.descending { "DESC" } else { "ASC" };
        format!(" ORDER BY {} {dir}, id {dir}", self.column)
    }

    /// Whether the column's cursor key is text (`CursorKey::Text`) rather than a number: the
    /// lists' text sort columns, by name. A key of the other kind cannot come from a page of
    /// this sort, and PostgreSQL refuses to compare it (a 500 instead of a 422).
    fn text_key(&self) -> bool {
        TEXT_SORT_COLUMNS.contains(&self.column)
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
        let cursor = Cursor::decode(text)
            .filter(|c| c.fits(sort))
            .ok_or_else(|| {
                crate::StoreError::Invalid(steward_domain::Invalid::one(
                    "cursor",
                    "cursor is not valid (for this sort)",
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
    fn a_cursor_fits_only_sorts_of_its_key_kind() {
        let text = |t: &str| Cursor {
            key: CursorKey::Text(t.into()),
            id: 1,
        };
        let number = Cursor {
            key: CursorKey::Int(7),
            id: 1,
        };
        let by = |column| Sort {
            column,
            descending: false,
        };
        assert!(text("P1").fits(by("priority")) && number.fits(by("opened_at")));
        // Regression: a cursor of `sort=priority` handed to `sort=opened_at` was a 500 on
        // PostgreSQL (bigint compared with text); so was a forged one holding NUL.
        assert!(!text("P1").fits(by("opened_at")) && !number.fits(by("priority")));
        assert!(!text("P1\0").fits(by("priority")));
    }

    #[test]
    fn a_refused_sort_names_the_allowed_columns() {
        let message = |allowed: &[&'static str]| match Sort::parse_or_invalid(Some("x"), allowed) {
            Err(crate::StoreError::Invalid(invalid)) => invalid.errors[0].message.clone(),
            other => panic!("expected Invalid, got {other:?}"),
        };
        assert_eq!(
            message(&["tag", "name", "updated_at"]),
            "sort must be tag, name or updated_at, optionally with a leading -"
        );
        assert_eq!(
            message(&["number", "updated_at"]),
            "sort must be number or updated_at, optionally with a leading -"
        );
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
