//! The management system's registers, kept: risks and opportunities, objectives with their
//! measurements, and the improvement register. `steward_domain::sms` decides what may be
//! written; every write here is journaled in its transaction, and every register keeps the
//! history an auditor asks for (reviews, measurements, steps).

pub mod competence;
pub mod improvement;
pub mod objective;
pub mod review;
pub mod risk;
pub mod role;

use crate::page::Sort;
use crate::{StoreError, StoreResult};
use jiff::civil::Date;

/// Registers list newest first: they are short, and what was raised last is what people look for.
pub(crate) const NEWEST_FIRST: Sort = Sort {
    column: "id",
    descending: true,
};

/// A civil date as stored: `YYYY-MM-DD`, which sorts as the dates do.
pub(crate) fn date_text(date: Date) -> String {
    date.strftime("%Y-%m-%d").to_string()
}

/// A stored date read back; anything else is a corrupt row of `what`.
pub(crate) fn stored_date(what: &str, id: i64, text: &str) -> StoreResult<Date> {
    Date::strptime("%Y-%m-%d", text)
        .map_err(|e| StoreError::Corrupt(format!("{what} {id} date `{text}`: {e}")))
}

pub(crate) fn stored_optional_date(
    what: &str,
    id: i64,
    text: Option<&str>,
) -> StoreResult<Option<Date>> {
    text.map(|t| stored_date(what, id, t)).transpose()
}
