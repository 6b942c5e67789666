//! Watchers: addresses that follow a record besides its requester. Public replies are sent to
//! them too (see the server's `mail::outbound::notify_reply`).

use crate::db::{Sql, sql};
use crate::journal::{Record, RecordWrite};
use crate::mail::MailTarget;
use crate::{Actor, Store, StoreResult, now_micros};
use serde::Serialize;
use steward_domain::journal::Action;

/// One address watching one record. `user_id` is set when the address is a user's of the tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Watcher {
    pub id: i64,
    pub record_type: String,
    pub record_id: i64,
    pub user_id: Option<i64>,
    pub email: String,
    pub created_at: i64,
}

impl Record for Watcher {
    const KIND: &'static str = "watcher";
    fn id(&self) -> i64 {
        self.id
    }
}

const COLUMNS: &str = "id, record_type, record_id, user_id, email, created_at";
const ALREADY: (&str, &str) = ("email", "This address is already watching");

fn select_one(tenant_id: i64, target: &MailTarget, id: i64) -> Sql {
    sql(format!(
        "SELECT {COLUMNS} FROM watchers WHERE tenant_id = $1 AND record_type = $2 AND record_id = $3 AND id = $4"
    ))
    .bind(tenant_id)
    .bind(target.record_type.clone())
    .bind(target.record_id)
    .bind(id)
}

impl Store {
    /// Adds `email` (already validated; stored lower-cased) as a watcher of the record. The same
    /// address twice is refused as invalid input on `email`.
    pub async fn add_watcher(
        &self,
        tenant_id: i64,
        target: &MailTarget,
        email: &str,
        actor: &Actor,
    ) -> StoreResult<Watcher> {
        let email = email.trim().to_lowercase();
        self.write_record(RecordWrite {
            tenant_id,
            action: Action::Create,
            actor,
            before: None,
            write: sql(format!(
                "INSERT INTO watchers (tenant_id, record_type, record_id, user_id, email, created_at) \
                 VALUES ($1, $2, $3, (SELECT id FROM users WHERE tenant_id = $1 AND email = $4), $4, $5) \
                 RETURNING {COLUMNS}"
            ))
            .bind(tenant_id)
            .bind(target.record_type.clone())
            .bind(target.record_id)
            .bind(email)
            .bind(now_micros()),
            unique: Some(ALREADY),
        })
        .await
    }

    /// Removes one watcher of the record; `NotFound` if it is not one of this record's.
    pub async fn remove_watcher(
        &self,
        tenant_id: i64,
        target: &MailTarget,
        id: i64,
        actor: &Actor,
    ) -> StoreResult<Watcher> {
        self.write_record(RecordWrite {
            tenant_id,
            action: Action::Delete,
            actor,
            before: Some(select_one(tenant_id, target, id)),
            write: sql(format!(
                "DELETE FROM watchers WHERE tenant_id = $1 AND record_type = $2 AND record_id = $3 AND id = $4 \
                 RETURNING {COLUMNS}"
            ))
            .bind(tenant_id)
            .bind(target.record_type.clone())
            .bind(target.record_id)
            .bind(id),
            unique: None,
        })
        .await
    }

    /// A record's watchers, in the order they were added.
    pub async fn watchers(&self, tenant_id: i64, target: &MailTarget) -> StoreResult<Vec<Watcher>> {
        self.db
            .fetch_all(
                sql(format!(
                    "SELECT {COLUMNS} FROM watchers WHERE tenant_id = $1 AND record_type = $2 AND record_id = $3 ORDER BY id"
                ))
                .bind(tenant_id)
                .bind(target.record_type.clone())
                .bind(target.record_id),
            )
            .await
    }
}
