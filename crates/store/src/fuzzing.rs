//! The store's part of the `list_filter` fuzz target (fuzz/fuzz_targets/list_filter.rs): what
//! the store makes of the untrusted text in a list query (the full-text words and their match
//! expressions, the sort, the cursor), with the invariants that keep it from ever being a
//! database error. Not an API: it panics when it finds a bug.

use crate::incident::incident_sort;
use crate::page::{Cursor, CursorKey};
use crate::search::{fts_query, words};

/// Checks what the incident list makes of `q`, `sort` and `cursor`, as it would before
/// querying. Panics if anything could reach the database as syntax or as a type it refuses.
pub fn incident_list(q: Option<&str>, sort: Option<&str>, cursor: Option<&str>) {
    if let Some(q) = q {
        let words = words(q);
        assert!(words.len() <= 32, "{} words", words.len());
        for w in &words {
            // Nothing but letters and digits, lowercase: no quote, bracket, `*`, `:`, `^`,
            // leading `-`, and no AND/OR/NOT/NEAR (FTS5's operators are uppercase).
            assert!(
                !w.is_empty() && w.chars().all(char::is_alphanumeric),
                "word {w:?} of {q:?}"
            );
            assert!(
                !["AND", "OR", "NOT", "NEAR"].contains(&w.as_str()),
                "word {w:?} of {q:?}"
            );
        }
        let expression = fts_query(&words);
        let quoted: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
        assert_eq!(expression, quoted.join(" "), "FTS5 expression of {q:?}");
    }
    let Ok(sort) = incident_sort(sort) else {
        return;
    };
    if let Some(cursor) = cursor.and_then(Cursor::decode) {
        assert_eq!(
            Cursor::decode(&cursor.encode()).as_ref(),
            Some(&cursor),
            "cursors round-trip"
        );
        if cursor.fits(sort) {
            let text = matches!(cursor.key, CursorKey::Text(_));
            assert_eq!(text, sort.column == "priority", "{cursor:?} for {sort:?}");
            if let CursorKey::Text(t) = &cursor.key {
                assert!(!t.contains('\0'), "{cursor:?}");
            }
        }
    }
}
