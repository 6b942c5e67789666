//! Asset management (ISO/IEC 20000-1 8.2.5): hardware and software assets, their lifecycle,
//! the checks on their fields, licence compliance and the expiry of warranties and licences.
//!
//! An asset is what the organisation owns or licenses (a laptop, a switch, a payroll licence
//! with 50 seats); a CI is what the services are built from. The two are linked many-to-many:
//! a server asset is one CI, a site licence may cover several.

use crate::validation::{Invalid, optional_text, required_text};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Hardware or software.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AssetKind {
    Hardware,
    Software,
}

crate::service::text_enum!(AssetKind { Hardware => "hardware", Software => "software" });

/// Where an asset stands in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AssetStatus {
    /// Bought, not yet received.
    Ordered,
    /// Received and on the shelf (or a licence not yet assigned).
    InStock,
    /// In use by someone or in a service.
    Deployed,
    /// Away for repair; expected back.
    InRepair,
    /// Out of use for good, still held (awaiting disposal, data wiping, resale).
    Retired,
    /// Gone: sold, recycled, destroyed. Kept for history and audits; never revived.
    Disposed,
}

crate::service::text_enum!(AssetStatus {
    Ordered => "ordered", InStock => "in_stock", Deployed => "deployed",
    InRepair => "in_repair", Retired => "retired", Disposed => "disposed",
});

/// Why an asset may not move as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssetRefusal {
    #[error("an asset cannot go from {from} to {to}")]
    NotAllowed {
        from: AssetStatus,
        to: AssetStatus,
        allowed: Vec<AssetStatus>,
    },
}

impl AssetStatus {
    pub fn is_terminal(self) -> bool {
        self == AssetStatus::Disposed
    }

    /// How people read the status.
    pub fn label(self) -> &'static str {
        match self {
            AssetStatus::Ordered => "ordered",
            AssetStatus::InStock => "in stock",
            AssetStatus::Deployed => "deployed",
            AssetStatus::InRepair => "in repair",
            AssetStatus::Retired => "retired",
            AssetStatus::Disposed => "disposed",
        }
    }

    /// The statuses an asset may move to from this one.
    pub fn next(self) -> &'static [AssetStatus] {
        use AssetStatus::*;
        match self {
            Ordered => &[InStock],
            InStock => &[Deployed, Retired],
            // Returned to the shelf when its user leaves; sent for repair; retired.
            Deployed => &[InRepair, InStock, Retired],
            // Back to its user, back to the shelf, or beyond repair.
            InRepair => &[Deployed, InStock, Retired],
            Retired => &[Disposed],
            Disposed => &[],
        }
    }

    pub fn transition(self, to: AssetStatus) -> Result<AssetStatus, AssetRefusal> {
        if self.next().contains(&to) {
            Ok(to)
        } else {
            Err(AssetRefusal::NotAllowed {
                from: self,
                to,
                allowed: self.next().to_vec(),
            })
        }
    }
}

/// Longest asset tag.
pub const MAX_TAG: usize = 64;
/// Longest name, manufacturer, model, serial number, location or supplier.
pub const MAX_TEXT: usize = 200;
/// Most licence seats a licence can have (a sanity bound, not a business rule).
pub const MAX_SEATS: i64 = 10_000_000;
/// How many days before a warranty or licence ends its reminder goes out, unless the tenant
/// says otherwise.
pub const DEFAULT_REMINDER_DAYS: i64 = 30;

/// The editable fields of an asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssetDraft {
    /// The label stuck on it (`LT-0042`): unique in the organisation, ignoring case.
    pub tag: String,
    pub name: String,
    pub kind: AssetKind,
    pub manufacturer: String,
    pub model: String,
    pub serial_number: String,
    /// The person accountable for it (who gets its reminders).
    pub owner_id: Option<i64>,
    pub location: String,
    /// Who sold it, by name.
    pub supplier: String,
    /// Purchase cost in minor units of `currency` (cents for EUR).
    pub cost_minor: Option<i64>,
    /// ISO 4217 code, upper case.
    pub currency: Option<String>,
    pub purchase_date: Option<Date>,
    pub warranty_expires: Option<Date>,
    /// Software only: how many seats the licence grants.
    pub licence_seats: Option<i64>,
    /// Software only: how many seats are deployed. More than granted is allowed (and shown):
    /// over-deployment must be visible, not hidden behind a refusal.
    pub seats_in_use: Option<i64>,
    pub licence_expires: Option<Date>,
    pub notes: String,
}

/// Reads a `YYYY-MM-DD` date typed into a form; empty is none, anything else is a field error.
pub fn parse_date(errors: &mut Invalid, field: &str, label: &str, text: &str) -> Option<Date> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    match Date::strptime("%Y-%m-%d", text) {
        Ok(date) => Some(date),
        Err(_) => {
            errors.add(
                field,
                format!("{label} must be a date like 2027-03-31 (year-month-day)"),
            );
            None
        }
    }
}

/// A required date field: blank or malformed adds a field error to `errors`.
pub fn required_date(errors: &mut Invalid, field: &str, label: &str, text: &str) -> Option<Date> {
    if text.trim().is_empty() {
        errors.add(field, format!("{label} is required"));
        return None;
    }
    parse_date(errors, field, label, text)
}

/// A form's only date, required: its error on its own.
pub fn required_date_alone(field: &str, label: &str, text: &str) -> Result<Date, Invalid> {
    let mut errors = Invalid::new();
    required_date(&mut errors, field, label, text).ok_or(errors)
}

/// Whether `code` looks like an ISO 4217 currency code: three letters A–Z.
pub fn is_currency_code(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

impl AssetDraft {
    /// Checks the fields, in one [`Invalid`]. Text is trimmed (notes keep their spacing), the
    /// currency upper-cased; empty optional text becomes none.
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.tag = required_text(&mut errors, "tag", "Asset tag", &self.tag, MAX_TAG);
        self.name = required_text(&mut errors, "name", "Name", &self.name, MAX_TEXT);
        for (field, label, value) in [
            ("manufacturer", "Manufacturer", &mut self.manufacturer),
            ("model", "Model", &mut self.model),
            ("serial_number", "Serial number", &mut self.serial_number),
            ("location", "Location", &mut self.location),
            ("supplier", "Supplier", &mut self.supplier),
        ] {
            *value = optional_text(&mut errors, field, label, value.trim(), MAX_TEXT);
        }
        self.notes = optional_text(&mut errors, "notes", "Notes", &self.notes, 20_000);
        if self.owner_id.is_some_and(|id| id <= 0) {
            errors.add("owner_id", "Choose the owner from the list");
        }
        self.currency = self
            .currency
            .as_deref()
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| !c.is_empty());
        if let Some(code) = &self.currency
            && !is_currency_code(code)
        {
            errors.add(
                "currency",
                "Currency must be a three-letter ISO 4217 code such as EUR or USD",
            );
        }
        match self.cost_minor {
            Some(cost) if cost < 0 => errors.add("cost_minor", "Cost cannot be negative"),
            Some(_) if self.currency.is_none() => errors.add(
                "currency",
                "Give the currency of the cost, a three-letter ISO 4217 code such as EUR",
            ),
            _ => {}
        }
        if let (Some(bought), Some(ends)) = (self.purchase_date, self.warranty_expires)
            && ends < bought
        {
            errors.add(
                "warranty_expires",
                "The warranty cannot end before the purchase date",
            );
        }
        match self.kind {
            AssetKind::Software => {
                if let Some(seats) = self.licence_seats
                    && !(1..=MAX_SEATS).contains(&seats)
                {
                    errors.add(
                        "licence_seats",
                        format!("Licence seats must be a whole number from 1 to {MAX_SEATS}"),
                    );
                }
                if let Some(used) = self.seats_in_use
                    && !(0..=MAX_SEATS).contains(&used)
                {
                    errors.add(
                        "seats_in_use",
                        format!("Seats in use must be a whole number from 0 to {MAX_SEATS}"),
                    );
                }
            }
            AssetKind::Hardware => {
                for (field, given) in [
                    ("licence_seats", self.licence_seats.is_some()),
                    ("seats_in_use", self.seats_in_use.is_some()),
                    ("licence_expires", self.licence_expires.is_some()),
                ] {
                    if given {
                        errors.add(
                            field,
                            "Only software has licence terms; leave this empty for hardware",
                        );
                    }
                }
            }
        }
        errors.into_result(self)
    }

    /// What is worth a warning but not a refusal: more seats deployed than licensed.
    pub fn warnings(&self) -> Vec<String> {
        match compliance(self.licence_seats, self.seats_in_use) {
            Compliance::OverDeployed { over } => vec![format!(
                "{over} more seat{} in use than the licence grants",
                if over == 1 { "" } else { "s" }
            )],
            _ => Vec::new(),
        }
    }
}

/// How a licence's deployed seats compare with what it grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Compliance {
    /// No seat count to compare (hardware, or a licence without seats).
    NotApplicable,
    /// More seats deployed than licensed: a compliance risk.
    OverDeployed { over: i64 },
    /// Exactly as many deployed as licensed.
    Full,
    /// Seats paid for and unused: money to recover at renewal.
    UnderUsed { free: i64 },
}

impl Compliance {
    /// How people read it.
    pub fn label(self) -> String {
        match self {
            Compliance::NotApplicable => String::new(),
            Compliance::OverDeployed { over } => format!("over-licensed: {over} seats too many"),
            Compliance::Full => "all seats in use".into(),
            Compliance::UnderUsed { free } => format!("under-used: {free} seats free"),
        }
    }
}

/// Compares deployed seats with licensed seats.
pub fn compliance(seats: Option<i64>, in_use: Option<i64>) -> Compliance {
    match seats {
        None => Compliance::NotApplicable,
        Some(seats) => {
            let used = in_use.unwrap_or(0);
            match used.cmp(&seats) {
                std::cmp::Ordering::Greater => Compliance::OverDeployed { over: used - seats },
                std::cmp::Ordering::Equal => Compliance::Full,
                std::cmp::Ordering::Less => Compliance::UnderUsed { free: seats - used },
            }
        }
    }
}

/// What runs out: the warranty or the licence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Term {
    Warranty,
    Licence,
}

crate::service::text_enum!(Term { Warranty => "warranty", Licence => "licence" });

/// Where an end date stands as seen on `today`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// Ended `days` days ago (0: ends today is still `Soon`).
    Expired { days: i64 },
    /// Ends in `days` days, within the lead time.
    Soon { days: i64 },
    /// Further away than the lead time.
    Later,
}

/// Whole days from `today` to `ends` (negative when past).
pub fn days_until(today: Date, ends: Date) -> i64 {
    i64::from(ends.since(today).map(|span| span.get_days()).unwrap_or(0))
}

/// Where `ends` stands on `today` with a lead time of `lead_days`.
pub fn expiry(today: Date, ends: Date, lead_days: i64) -> Expiry {
    let days = days_until(today, ends);
    if days < 0 {
        Expiry::Expired { days: -days }
    } else if days <= lead_days {
        Expiry::Soon { days }
    } else {
        Expiry::Later
    }
}

/// The badge a list shows: "warranty ends in 12 days", "licence expired"; none when far off.
pub fn expiry_badge(term: Term, today: Date, ends: Date, lead_days: i64) -> Option<String> {
    match expiry(today, ends, lead_days) {
        Expiry::Expired { .. } => Some(format!("{term} expired")),
        Expiry::Soon { days: 0 } => Some(format!("{term} ends today")),
        Expiry::Soon { days: 1 } => Some(format!("{term} ends tomorrow")),
        Expiry::Soon { days } => Some(format!("{term} ends in {days} days")),
        Expiry::Later => None,
    }
}

/// Whether a reminder is due on `today`: the end is today or within the lead time. An end
/// already past gets none (it was reminded of while it approached, or entered late).
pub fn reminder_due(today: Date, ends: Date, lead_days: i64) -> bool {
    matches!(expiry(today, ends, lead_days), Expiry::Soon { .. })
}

/// Digits after the decimal point of a currency's minor unit (ISO 4217): 2 for most, 0 for
/// the yen and a few others, 3 for some dinars.
pub fn minor_digits(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// Reads an amount typed as `1299.90` (or `1299,90`) in `currency` into minor units.
pub fn parse_amount(text: &str, currency: &str) -> Result<i64, String> {
    let digits = minor_digits(currency);
    let text = text.trim().replace(',', ".");
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let plain = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !plain(whole) || !plain(fraction) {
        return Err("Cost must be an amount like 1299.90, not negative".into());
    }
    if fraction.len() > digits as usize {
        return Err(format!(
            "{currency} has {digits} decimal places; give at most that many"
        ));
    }
    let scale = 10_i64.pow(digits);
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| "Cost is too large".to_owned())?
    };
    let fraction: i64 = format!("{fraction:0<width$}", width = digits as usize)
        .parse()
        .unwrap_or(0);
    whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(|| "Cost is too large".to_owned())
}

/// Minor units as people read them: `1299.90 EUR`.
pub fn format_amount(minor: i64, currency: &str) -> String {
    let digits = minor_digits(currency);
    if digits == 0 {
        return format!("{minor} {currency}");
    }
    let scale = 10_i64.pow(digits);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let scale = scale.unsigned_abs();
    format!(
        "{sign}{}.{:0width$} {currency}",
        abs / scale,
        abs % scale,
        width = digits as usize
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(text: &str) -> Date {
        Date::strptime("%Y-%m-%d", text).expect("date")
    }

    fn laptop() -> AssetDraft {
        AssetDraft {
            tag: " LT-0042 ".into(),
            name: "ThinkPad T14".into(),
            kind: AssetKind::Hardware,
            manufacturer: " Lenovo ".into(),
            model: "T14 Gen 4".into(),
            serial_number: "PF3XYZ".into(),
            owner_id: Some(3),
            location: "Berlin office".into(),
            supplier: "Bechtle".into(),
            cost_minor: Some(129_900),
            currency: Some(" eur ".into()),
            purchase_date: Some(date("2025-01-10")),
            warranty_expires: Some(date("2028-01-10")),
            licence_seats: None,
            seats_in_use: None,
            licence_expires: None,
            notes: String::new(),
        }
    }

    fn licence() -> AssetDraft {
        AssetDraft {
            tag: "SW-PAY".into(),
            name: "Payroll licence".into(),
            kind: AssetKind::Software,
            licence_seats: Some(50),
            seats_in_use: Some(55),
            licence_expires: Some(date("2027-06-30")),
            warranty_expires: None,
            ..laptop()
        }
    }

    #[test]
    fn an_asset_is_checked_and_normalised() {
        let a = laptop().validate().expect("valid");
        assert_eq!(a.tag, "LT-0042");
        assert_eq!(a.manufacturer, "Lenovo");
        assert_eq!(a.currency.as_deref(), Some("EUR"));
        assert!(a.warnings().is_empty());
    }

    #[test]
    fn bad_money_seats_and_dates_are_refused_together() {
        let bad = AssetDraft {
            tag: String::new(),
            cost_minor: Some(-1),
            currency: Some("EURO".into()),
            warranty_expires: Some(date("2024-01-01")),
            ..laptop()
        };
        let err = bad.validate().expect_err("invalid");
        for field in ["tag", "cost_minor", "currency", "warranty_expires"] {
            assert!(err.message_for(field).is_some(), "{field}: {err:?}");
        }
        let no_currency = AssetDraft {
            currency: None,
            ..laptop()
        };
        assert!(
            no_currency
                .validate()
                .expect_err("no currency")
                .message_for("currency")
                .is_some()
        );
        let zero = AssetDraft {
            licence_seats: Some(0),
            ..licence()
        };
        assert!(
            zero.validate()
                .expect_err("zero seats")
                .message_for("licence_seats")
                .is_some()
        );
        let hardware_seats = AssetDraft {
            licence_seats: Some(5),
            ..laptop()
        };
        assert!(
            hardware_seats
                .validate()
                .expect_err("hardware with seats")
                .message_for("licence_seats")
                .is_some()
        );
    }

    #[test]
    fn over_deployment_is_a_warning_not_an_error() {
        let a = licence().validate().expect("over-deployed is valid");
        assert_eq!(
            a.warnings(),
            vec!["5 more seats in use than the licence grants"]
        );
        assert_eq!(
            compliance(Some(50), Some(55)),
            Compliance::OverDeployed { over: 5 }
        );
        assert_eq!(compliance(Some(50), Some(50)), Compliance::Full);
        assert_eq!(
            compliance(Some(50), None),
            Compliance::UnderUsed { free: 50 }
        );
        assert_eq!(compliance(None, Some(3)), Compliance::NotApplicable);
    }

    #[test]
    fn dates_from_forms() {
        let mut errors = Invalid::new();
        assert_eq!(
            parse_date(&mut errors, "d", "Date", " 2027-03-31 "),
            Some(date("2027-03-31"))
        );
        assert_eq!(parse_date(&mut errors, "d", "Date", ""), None);
        assert!(errors.errors.is_empty());
        assert_eq!(parse_date(&mut errors, "d", "Date", "31/03/2027"), None);
        assert!(errors.message_for("d").is_some());
    }

    #[test]
    fn amounts_in_minor_units() {
        assert_eq!(parse_amount("1299.90", "EUR"), Ok(129_990));
        assert_eq!(parse_amount("1299,9", "EUR"), Ok(129_990));
        assert_eq!(parse_amount("1299", "EUR"), Ok(129_900));
        assert_eq!(parse_amount("1500", "JPY"), Ok(1500));
        assert_eq!(parse_amount("1.234", "KWD"), Ok(1234));
        assert!(parse_amount("-5", "EUR").is_err());
        assert!(parse_amount("1.999", "EUR").is_err());
        assert!(parse_amount("12a", "EUR").is_err());
        assert!(parse_amount("99999999999999999999", "EUR").is_err());
        assert_eq!(format_amount(129_990, "EUR"), "1299.90 EUR");
        assert_eq!(format_amount(5, "USD"), "0.05 USD");
        assert_eq!(format_amount(1500, "JPY"), "1500 JPY");
    }

    #[test]
    fn currency_codes() {
        assert!(is_currency_code("EUR"));
        assert!(!is_currency_code("eur"));
        assert!(!is_currency_code("EU"));
        assert!(!is_currency_code("€UR"));
    }

    #[test]
    fn expiry_badges_and_reminders() {
        let today = date("2026-12-06");
        let badge = |ends: &str| expiry_badge(Term::Warranty, today, date(ends), 30);
        assert_eq!(
            badge("2026-12-18").as_deref(),
            Some("warranty ends in 12 days")
        );
        assert_eq!(badge("2026-12-06").as_deref(), Some("warranty ends today"));
        assert_eq!(
            badge("2026-12-07").as_deref(),
            Some("warranty ends tomorrow")
        );
        assert_eq!(badge("2026-12-01").as_deref(), Some("warranty expired"));
        assert_eq!(badge("2027-03-06"), None);
        assert_eq!(
            expiry_badge(Term::Licence, today, date("2026-01-01"), 30).as_deref(),
            Some("licence expired")
        );
        assert!(reminder_due(today, date("2026-12-16"), 30));
        assert!(reminder_due(today, date("2027-01-05"), 30));
        assert!(!reminder_due(today, date("2027-01-06"), 30));
        assert!(!reminder_due(today, date("2026-12-05"), 30));
    }

    #[test]
    fn the_lifecycle_follows_the_table() {
        use AssetStatus::*;
        assert_eq!(Ordered.transition(InStock), Ok(InStock));
        assert_eq!(InStock.transition(Deployed), Ok(Deployed));
        assert_eq!(Deployed.transition(InRepair), Ok(InRepair));
        assert_eq!(InRepair.transition(Deployed), Ok(Deployed));
        assert_eq!(Retired.transition(Disposed), Ok(Disposed));
        assert!(Ordered.transition(Deployed).is_err());
        assert_eq!(
            Disposed.transition(InStock).map_err(|e| e.to_string()),
            Err("an asset cannot go from disposed to in_stock".into())
        );
        for s in AssetStatus::ALL {
            assert_eq!(AssetStatus::parse(s.as_str()), Some(*s));
            assert!(!s.next().contains(s), "{s} loops to itself");
        }
    }

    proptest! {
        #[test]
        fn moves_never_leave_the_machine(steps in prop::collection::vec(prop::sample::select(AssetStatus::ALL.to_vec()), 0..60)) {
            let mut status = AssetStatus::Ordered;
            let mut disposed = false;
            for to in steps {
                match status.transition(to) {
                    Ok(next) => {
                        prop_assert!(!disposed, "moved out of disposed to {next}");
                        prop_assert!(status.next().contains(&next));
                        prop_assert!(AssetStatus::ALL.contains(&next));
                        status = next;
                    }
                    Err(AssetRefusal::NotAllowed { from, allowed, .. }) => {
                        prop_assert_eq!(from, status);
                        prop_assert_eq!(allowed, status.next().to_vec());
                    }
                }
                disposed |= status == AssetStatus::Disposed;
                prop_assert_eq!(disposed, status.is_terminal());
            }
        }

        #[test]
        fn valid_drafts_validate_again(cost in 0i64..1_000_000_000, seats in 1i64..10_000, used in 0i64..20_000) {
            let draft = AssetDraft { cost_minor: Some(cost), licence_seats: Some(seats), seats_in_use: Some(used), ..licence() };
            let once = draft.validate().expect("valid");
            prop_assert_eq!(once.clone().validate().expect("still valid"), once.clone());
            prop_assert_eq!(once.warnings().is_empty(), used <= seats);
        }
    }
}
