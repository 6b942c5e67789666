//! Configuration management (ISO/IEC 20000-1 8.2.6): CI classes, CIs, relationships, impact
//! analysis, baselines and the CMDB health report.
//!
//! - [`class`]: CI classes an admin defines, each with a typed attribute schema.
//! - [`ci`]: configuration items, their lifecycle and the checks on their fields.
//! - [`relationship`]: typed, directed relationships and which way dependency flows along them.
//! - [`impact`]: an in-memory dependency graph for impact analysis at CMDB scale.
//! - [`baseline`]: snapshots of CIs at a moment, and the differences between two of them.
//! - [`health`]: stale CIs, orphans, probable duplicates and missing required attributes.
//!
//! # Direction, once
//!
//! A relationship `{source: X, target: A, type: depends_on}` means *X depends on A*. Every
//! relationship type says how dependency flows along it ([`relationship::Dependency`]); the
//! impact graph keeps only that normalised "dependent → dependency" form. **Downstream** of A is
//! everything that transitively depends on A (what breaks if A breaks); **upstream** of X is
//! everything X transitively depends on (what X needs to work).

pub mod baseline;
pub mod ci;
pub mod class;
pub mod health;
pub mod impact;
pub mod relationship;

pub use ci::{CiDraft, CiRefusal, CiStatus};
pub use class::{CiClassDraft, check_attributes};
pub use impact::{Direction, Edge, ImpactGraph};
pub use relationship::{BuiltinRelationship, Dependency, RelationshipTypeDraft};
