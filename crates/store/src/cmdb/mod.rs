//! Configuration management (ISO/IEC 20000-1 8.2.6): what `steward_domain::cmdb` decided,
//! kept.
//!
//! - [`class`]: CI classes and their attribute schemas.
//! - [`ci`]: configuration items and the services they serve.
//! - [`relationship`]: relationship types and the relationships between CIs.
//! - [`graph`]: the dependency graph every node keeps in memory for impact analysis, and the
//!   log that keeps it in step with the database across nodes.
//! - [`baseline`]: baselines of a service's or the whole CMDB's CIs, their diffs, and a CI as
//!   it was at a past moment (from the journal).
//! - [`impact`]: impact reports: the CIs, services, customers and open records a CI's failure
//!   reaches.
//!
//! Every write is journaled in its transaction; every write that changes the dependency graph
//! also appends to the tenant's graph log there.

pub mod baseline;
pub mod bulk;
pub mod ci;
pub mod class;
pub mod graph;
pub mod health;
pub mod impact;
pub mod relationship;

pub use baseline::BaselineHeader;
pub use ci::{Ci, CiFilter, CiLabel};
pub use class::CiClass;
pub use impact::{ImpactItem, ImpactReport, ImpactRequest, OpenRecord};
pub use relationship::{CiRelationship, RelationshipType};

use crate::db::Sql;

/// Ids per `IN (...)` list.
pub(crate) const CHUNK: usize = 500;

/// `q` + ` AND {column} IN (ids...)`, every id bound.
pub(crate) fn with_ids(q: Sql, column: &str, ids: &[i64]) -> Sql {
    let mut q = q.push(&format!(" AND {column} IN ("));
    for (i, id) in ids.iter().enumerate() {
        q = q.push_bound(if i == 0 { "{}" } else { ", {}" }, *id);
    }
    q.push(")")
}
