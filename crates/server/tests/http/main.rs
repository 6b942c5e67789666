//! The server's integration tests, in one binary (link time matters on small machines).

mod api;
mod attachments;
mod authz;
mod baselines;
mod calendars;
mod categories;
mod changes;
mod cmdb;
mod cmdb_ui;
mod imports;
mod incidents;
mod jobs;
mod knowledge;
mod mail;
mod major;
mod notifications;
mod problems;
mod record_cis;
mod requests;
mod sla;
mod sla_reports;
mod sla_ui;
mod ui;
