//! Business relationship management (8.3.2), kept: each customer's relationship owner and
//! review frequency, the service reviews held with customers, satisfaction surveys and ticket
//! ratings, and complaints with their history, escalations and reminders.
//! `steward_domain::relationship` decides what may be written; every write here is journaled
//! in its transaction.

pub mod complaint;
mod inputs;
pub mod review;
pub mod satisfaction;

use crate::customer::{Customer, select_one};
use crate::db::{Sql, Tx, sql};
use crate::journal::RecordWrite;
use crate::{Actor, Store, StoreResult, now_micros};
use jiff::civil::Date;
use steward_domain::Invalid;
use steward_domain::journal::Action;
use steward_domain::relationship::RelationshipDraft;

/// The first instant of `day` (UTC), in micros since the epoch.
pub(crate) fn day_start(day: Date) -> i64 {
    day.to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp().as_microsecond())
        .unwrap_or(0)
}

/// The first instant after `day` (UTC).
pub(crate) fn day_end(day: Date) -> i64 {
    day.tomorrow().map_or(i64::MAX, day_start)
}

/// Checks that `id` is an active user of the tenant, else a field error under `field`.
pub(crate) async fn check_active_user(
    tx: &mut Tx,
    tenant_id: i64,
    field: &str,
    label: &str,
    id: Option<i64>,
) -> StoreResult<()> {
    let Some(id) = id else { return Ok(()) };
    let found: Option<(bool,)> = tx
        .fetch_optional(
            sql("SELECT active FROM users WHERE tenant_id = $1 AND id = $2")
                .bind(tenant_id)
                .bind(id),
        )
        .await?;
    match found {
        Some((true,)) => Ok(()),
        Some((false,)) => Err(Invalid::one(
            field,
            format!("{label} must be an active user; this one is deactivated"),
        )
        .into()),
        None => Err(Invalid::one(
            field,
            format!("{label} must be a user of this organisation"),
        )
        .into()),
    }
}

/// Checks that a live row `id` of `table` belongs to the tenant, else a field error.
pub(crate) async fn check_exists(
    tx: &mut Tx,
    tenant_id: i64,
    table: &str,
    field: &str,
    what: &str,
    id: Option<i64>,
) -> StoreResult<()> {
    let Some(id) = id else { return Ok(()) };
    let live = match table {
        "customers" | "services" => " AND deleted_at IS NULL",
        _ => "",
    };
    let found: Option<(i64,)> = tx
        .fetch_optional(
            sql(format!(
                "SELECT id FROM {table} WHERE tenant_id = $1 AND id = $2{live}"
            ))
            .bind(tenant_id)
            .bind(id),
        )
        .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(Invalid::one(
            field,
            format!("{what} {id} does not exist in this organisation"),
        )
        .into()),
    }
}

fn set_relationship(tenant_id: i64, id: i64, d: &RelationshipDraft) -> Sql {
    sql(format!(
        "UPDATE customers SET relationship_owner_id = $1, review_frequency_months = $2, \
         updated_at = $3 WHERE tenant_id = $4 AND id = $5 AND deleted_at IS NULL \
         RETURNING {}",
        crate::customer::COLUMNS
    ))
    .bind(d.relationship_owner_id)
    .bind(d.review_frequency_months)
    .bind(now_micros())
    .bind(tenant_id)
    .bind(id)
}

impl Store {
    /// Checks that a relationship owner is an active user of the tenant, before anything is
    /// written: the customer form creates the customer and sets its relationship in turn.
    pub async fn check_relationship_owner(
        &self,
        tenant_id: i64,
        owner_id: Option<i64>,
    ) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        check_active_user(
            &mut tx,
            tenant_id,
            "relationship_owner_id",
            "The relationship owner",
            owner_id,
        )
        .await?;
        tx.commit().await
    }

    /// Sets who owns the relationship with a customer and how often its services are reviewed
    /// with it. The owner must be an active user of the tenant.
    pub async fn set_customer_relationship(
        &self,
        tenant_id: i64,
        customer_id: i64,
        draft: &RelationshipDraft,
        actor: &Actor,
    ) -> StoreResult<Customer> {
        let d = draft.clone().validate()?;
        self.check_relationship_owner(tenant_id, d.relationship_owner_id)
            .await?;
        self.write_record(RecordWrite {
            tenant_id,
            action: Action::Update,
            actor,
            before: Some(select_one(tenant_id, customer_id)),
            write: set_relationship(tenant_id, customer_id, &d),
            unique: None,
        })
        .await
    }
}
