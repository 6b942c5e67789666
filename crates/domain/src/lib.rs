//! Steward's pure domain logic: the types, rules and state machines that decide what may happen.
//!
//! Nothing in this crate does I/O, talks to a database or knows about HTTP. The store persists
//! what the domain decided; the server translates requests into domain calls and back.

pub mod access;
pub mod asset;
pub mod calendar;
pub mod category;
pub mod certificate;
pub mod change;
pub mod cmdb;
pub mod conformance;
pub mod customer;
pub mod design;
pub mod incident;
pub mod jobs;
pub mod journal;
pub mod knowledge;
pub mod login;
pub mod major;
pub mod notify;
pub mod problem;
pub mod relationship;
pub mod release;
pub mod request;
pub mod service;
pub mod settings;
pub mod signing;
pub mod sla;
pub mod sms;
pub mod supplier;
pub mod team;
pub mod tenant;
pub mod user;
pub mod validation;

pub use validation::{FieldError, Invalid};
