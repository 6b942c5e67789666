//! The body of the `list_filter` fuzz target (fuzz/fuzz_targets/list_filter.rs), kept here so
//! that the normal tests run it too, over the seed corpus in fuzz/corpus/list_filter. Not an
//! API: it panics when it finds a bug.

use crate::api::incidents::{Scope, incident_filter};
use axum::http::StatusCode;

/// Reads `data` as the query string of `GET /api/v1/incidents`, for an agent and for a
/// requester, and checks what the store would make of it. Whatever the bytes, nothing panics;
/// a refused query is a 400 or 422, never a 500; a requester's filter is always narrowed to
/// their own incidents; and the full-text words, sort and cursor keep the store's invariants
/// (`steward_store::fuzzing::incident_list`).
pub fn list_filter(data: &[u8]) {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    for scope in [Scope::All, Scope::Own(7)] {
        match incident_filter(query, scope) {
            Ok((filter, page)) => {
                let own = match scope {
                    Scope::All => None,
                    Scope::Own(user) => Some(user),
                };
                assert_eq!(filter.requester_user_id, own, "{query:?}");
                assert!((1..=500).contains(&page.limit()), "{query:?}");
                for (name, value) in &filter.custom {
                    assert!(!value.trim().is_empty(), "custom.{name} of {query:?}");
                }
                steward_store::fuzzing::incident_list(
                    filter.q.as_deref(),
                    filter.sort.as_deref(),
                    page.cursor.as_deref(),
                );
            }
            Err(e) => assert!(
                matches!(
                    e.status(),
                    StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY
                ),
                "{query:?}: {}",
                e.status()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::path::Path;

    /// The seed corpus is what CI exercises on stable, where `cargo fuzz` cannot run.
    #[test]
    fn the_seed_corpus_passes() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/list_filter");
        let mut seeds = 0;
        for entry in std::fs::read_dir(&dir).expect("fuzz/corpus/list_filter") {
            let path = entry.expect("corpus entry").path();
            list_filter(&std::fs::read(&path).expect("corpus file"));
            seeds += 1;
        }
        assert!(seeds >= 5, "{seeds} seeds");
    }

    proptest! {
        #[test]
        fn generated_queries_keep_the_invariants(
            pairs in prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "q", "status", "open", "priority", "service_id", "unassigned",
                        "changed_after", "sort", "limit", "cursor", "custom.site", "custom.",
                    ]),
                    "\\PC{0,24}|[a-z0-9_,%\"*:^() -]{0,24}",
                ),
                0..6,
            )
        ) {
            let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
            list_filter(query.as_bytes());
        }
    }
}
