//! E-mail in and out for incidents: parsing incoming mail (`inbound`), taking it into a
//! tenant (`intake`, used by `steward mail-in`), and notifying requesters (`outbound`, sent
//! by the `mail.send` job).

pub mod inbound;
pub mod intake;
pub mod outbound;
