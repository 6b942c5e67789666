//! E-mail in and out for incidents: parsing incoming mail (`inbound`), taking it into a
//! tenant (`intake`, used by `steward mail-in`), notifying requesters (`outbound`, sent
//! by the `mail.send` job), and customers' monthly service reports (`sla_report`).

pub mod inbound;
pub mod intake;
pub mod outbound;
pub mod sla_report;
