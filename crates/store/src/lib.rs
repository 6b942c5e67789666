//! Steward's persistence: one `Store` over SQLite (the embedded default) and PostgreSQL.
//!
//! Each process keeps its records in a module of the same name as in the domain and server
//! crates. Every write runs in one transaction together with its audit journal entry (and any
//! job it causes), so a record never changes without its trace, and vice versa.

mod bulk;
mod db;
mod error;
mod filter;
mod group;
mod migrate;
mod refs;

pub mod asset;
pub mod audit;
pub mod backup;
pub mod calendar;
pub mod category;
pub mod certificate;
pub mod change;
pub mod cmdb;
pub mod conformance;
pub mod custom_fields;
pub mod customer;
pub mod design;
pub mod document;
pub mod external;
#[doc(hidden)]
pub mod fuzzing;
pub mod identity;
pub mod incident;
pub mod jobs;
pub mod journal;
pub mod knowledge;
pub mod mail;
pub mod major;
pub mod nonconformity;
pub mod notify;
pub mod page;
pub mod problem;
pub mod readiness_trend;
pub mod relationship;
pub mod release;
pub mod request;
mod search;
pub mod service;
pub mod settings;
pub mod signing;
pub mod sla;
pub mod sms;
pub mod supplier;
pub mod team;
pub mod tenant;
pub mod testing;
pub mod token;
pub mod views;
pub mod watchers;

pub use db::{Backend, PoolConfig, redact_url};
pub use error::{StoreError, StoreResult};
pub use journal::Actor;
pub use page::{Page, PageRequest};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The handle every caller holds. Cheap to clone; all clones share the pools.
#[derive(Clone, Debug)]
pub struct Store {
    db: db::Db,
    faults: Arc<Faults>,
    groups: Arc<Groups>,
    /// This node's copies of tenants' CMDB dependency graphs (`cmdb::graph`).
    graphs: Arc<cmdb::graph::GraphCache>,
}

/// The writes that share transactions when they arrive together (see `group`).
#[derive(Debug, Default)]
struct Groups {
    incidents: Arc<group::Group<incident::NewIncident, incident::Incident>>,
}

/// Failure points a test can switch on to prove that a write is all-or-nothing.
#[derive(Debug, Default)]
pub struct Faults {
    after_journal: AtomicBool,
}

impl Store {
    /// Connects without touching the schema; see `migrate` and `open`.
    pub async fn connect(url: &str, config: PoolConfig) -> StoreResult<Store> {
        Ok(Store {
            db: db::Db::connect(url, config).await?,
            faults: Arc::default(),
            groups: Arc::default(),
            graphs: Arc::default(),
        })
    }

    /// Connects and brings the schema up to date: what `steward init` and `serve` do.
    pub async fn open(url: &str) -> StoreResult<Store> {
        let store = Store::connect(url, PoolConfig::default()).await?;
        store.migrate().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    /// Makes every following write fail right after its journal entry is written.
    pub fn inject_failure_after_journal(&self, on: bool) {
        self.faults.after_journal.store(on, Ordering::SeqCst);
    }

    fn failure_injected(&self) -> bool {
        self.faults.after_journal.load(Ordering::SeqCst)
    }

    /// Connections (open, idle) for the metrics endpoint.
    pub fn pool_stats(&self) -> (u32, usize) {
        self.db.pool_stats()
    }

    pub async fn close(&self) {
        self.db.close().await;
    }
}

/// Now, as stored: microseconds since the Unix epoch.
pub fn now_micros() -> i64 {
    jiff::Timestamp::now().as_microsecond()
}

/// The `updated_at` a write stamps on a record last stamped `previous`: now, but always after
/// `previous`, so that optimistic checks and cursors see every write even when clocks tie.
pub(crate) fn next_updated_at(previous: i64) -> i64 {
    now_micros().max(previous + 1)
}
