//! The tenant's users as pages name them: in owner columns and in owner pickers.

use super::{Opt, options_after_blank};
use crate::AppState;
use steward_store::identity::UserFilter;
use steward_store::{PageRequest, StoreError};

/// The tenant's users by name (the first 500, which covers the pickers of any real desk).
pub struct People(Vec<(i64, String)>);

impl People {
    pub async fn of(state: &AppState, tenant_id: i64) -> Result<People, StoreError> {
        let filter = UserFilter {
            sort: Some("name".into()),
            ..Default::default()
        };
        let page = PageRequest {
            limit: Some(500),
            cursor: None,
        };
        let users = state.store.users(tenant_id, &filter, &page).await?;
        Ok(People(
            users.items.into_iter().map(|u| (u.id, u.name)).collect(),
        ))
    }

    /// The user's name, or a dash for nobody (or someone no longer listed).
    pub fn name(&self, id: Option<i64>) -> String {
        id.and_then(|id| self.0.iter().find(|(p, _)| *p == id))
            .map_or_else(|| "—".to_owned(), |(_, name)| name.clone())
    }

    /// Several users' names, comma-separated, or a dash for nobody.
    pub fn names(&self, ids: &[i64]) -> String {
        if ids.is_empty() {
            return "—".to_owned();
        }
        ids.iter()
            .map(|id| self.name(Some(*id)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Every user as (id, name), by name: for multiple pickers.
    pub fn all(&self) -> &[(i64, String)] {
        &self.0
    }

    /// A picker with `blank` first, `current` (an id as the form keeps it) selected.
    pub fn options(&self, blank: &str, current: &str) -> Vec<Opt> {
        options_after_blank(
            blank,
            self.0
                .iter()
                .map(|(id, name)| (id.to_string(), name.clone())),
            current,
        )
    }
}
