//! The certificate register: the ISO/IEC 20000-1 certificates the organisation holds, their
//! status lifecycle, the checks on their fields, and when a reminder is due.
//!
//! A certificate is issued by a certification body (CB) accredited by an accreditation body
//! (AB); its number is unique per CB, so two organisations in one Steward may hold the same
//! number from different CBs. The register is what the public verification page answers from.

use crate::asset::days_until;
use crate::validation::{Invalid, optional_text, required_text};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// The standard a certificate is for unless said otherwise.
pub const DEFAULT_STANDARD: &str = "ISO/IEC 20000-1:2018";
/// How many days before an expiry or a surveillance audit the managers are reminded.
pub const REMINDER_DAYS: i64 = 60;
/// Longest certificate number.
pub const MAX_NUMBER: usize = 64;
/// Longest name or body.
pub const MAX_TEXT: usize = 300;
/// Longest scope statement or list of sites.
pub const MAX_LONG_TEXT: usize = 5_000;
/// Longest reason for a status change.
pub const MAX_REASON: usize = 2_000;

/// Where a certificate stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CertificateStatus {
    /// In force.
    Valid,
    /// Not in force for now (missed surveillance, an open major nonconformity, misuse of
    /// marks); restored or withdrawn later.
    Suspended,
    /// Ended by the CB for good.
    Withdrawn,
    /// Ran past its expiry date without recertification; a CB may re-issue it.
    Expired,
}

crate::service::text_enum!(CertificateStatus {
    Valid => "valid", Suspended => "suspended", Withdrawn => "withdrawn", Expired => "expired",
});

/// Why a certificate may not move as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateRefusal {
    #[error("a certificate cannot go from {from} to {to}")]
    NotAllowed {
        from: CertificateStatus,
        to: CertificateStatus,
        allowed: Vec<CertificateStatus>,
    },
    #[error(
        "the certificate expired on {expiry}: record the re-issued certificate's later expiry date before making it valid"
    )]
    PastExpiry { expiry: Date },
}

impl CertificateStatus {
    /// How people read it (the public page shows it in words, not colour alone).
    pub fn label(self) -> &'static str {
        match self {
            CertificateStatus::Valid => "Valid",
            CertificateStatus::Suspended => "Suspended",
            CertificateStatus::Withdrawn => "Withdrawn",
            CertificateStatus::Expired => "Expired",
        }
    }

    pub fn is_terminal(self) -> bool {
        self == CertificateStatus::Withdrawn
    }

    /// The statuses it may move to from this one, by the lifecycle alone.
    pub fn next(self) -> &'static [CertificateStatus] {
        use CertificateStatus::*;
        match self {
            Valid => &[Suspended, Withdrawn, Expired],
            Suspended => &[Valid, Withdrawn, Expired],
            // Re-issued by the CB (only with a later expiry date, see `transition`).
            Expired => &[Valid],
            Withdrawn => &[],
        }
    }

    /// The move to `to` on `today` for a certificate that expires on `expiry`. Nothing becomes
    /// valid while its expiry date is past: an expired certificate returns to valid only once
    /// re-issued with a later expiry.
    pub fn transition(
        self,
        to: CertificateStatus,
        expiry: Date,
        today: Date,
    ) -> Result<CertificateStatus, CertificateRefusal> {
        if !self.next().contains(&to) {
            return Err(CertificateRefusal::NotAllowed {
                from: self,
                to,
                allowed: self.next().to_vec(),
            });
        }
        if to == CertificateStatus::Valid && expiry < today {
            return Err(CertificateRefusal::PastExpiry { expiry });
        }
        Ok(to)
    }
}

/// Whether the daily job should expire it: valid, and its expiry date has passed.
pub fn expires_now(status: CertificateStatus, expiry: Date, today: Date) -> bool {
    status == CertificateStatus::Valid && expiry < today
}

/// The editable fields of a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateDraft {
    /// As the CB prints it; unique in the organisation, ignoring case.
    pub number: String,
    pub standard: String,
    /// The services and the organisation delivering them.
    pub scope: String,
    pub organisation: String,
    /// One site per line.
    pub sites: String,
    pub certification_body: String,
    pub accreditation_body: String,
    /// The CB's accreditation number with the AB.
    pub accreditation_number: String,
    pub original_date: Date,
    pub issue_date: Date,
    pub expiry_date: Date,
    pub next_surveillance: Option<Date>,
    /// Kept off the public register.
    pub confidential: bool,
}

/// Whether `number` is made only of what certificate numbers use: letters, digits, and
/// `-`, `.`, `_`, `/` between them. It goes into the public page's address.
pub fn is_plausible_number(number: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-._/".contains(c);
    !number.is_empty()
        && number.chars().all(allowed)
        && number.starts_with(|c: char| c.is_ascii_alphanumeric())
        && number.ends_with(|c: char| c.is_ascii_alphanumeric())
}

impl CertificateDraft {
    /// Checks the fields, in one [`Invalid`]. Text is trimmed; an empty standard is the
    /// default one.
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.number = required_text(
            &mut errors,
            "number",
            "Certificate number",
            &self.number,
            MAX_NUMBER,
        );
        if !self.number.is_empty() && !is_plausible_number(&self.number) {
            errors.add(
                "number",
                "Certificate number may hold letters, digits and - . _ / between them",
            );
        }
        if self.standard.trim().is_empty() {
            self.standard = DEFAULT_STANDARD.to_owned();
        }
        self.standard = required_text(
            &mut errors,
            "standard",
            "Standard",
            &self.standard,
            MAX_TEXT,
        );
        self.scope = required_text(
            &mut errors,
            "scope",
            "Scope statement",
            &self.scope,
            MAX_LONG_TEXT,
        );
        self.organisation = required_text(
            &mut errors,
            "organisation",
            "Organisation",
            &self.organisation,
            MAX_TEXT,
        );
        self.sites = optional_text(&mut errors, "sites", "Sites", &self.sites, MAX_LONG_TEXT);
        self.certification_body = required_text(
            &mut errors,
            "certification_body",
            "Certification body",
            &self.certification_body,
            MAX_TEXT,
        );
        self.accreditation_body = optional_text(
            &mut errors,
            "accreditation_body",
            "Accreditation body",
            self.accreditation_body.trim(),
            MAX_TEXT,
        );
        self.accreditation_number = optional_text(
            &mut errors,
            "accreditation_number",
            "Accreditation number",
            self.accreditation_number.trim(),
            MAX_TEXT,
        );
        if self.issue_date < self.original_date {
            errors.add(
                "issue_date",
                "The issue date cannot be before the original certification date",
            );
        }
        if self.expiry_date <= self.issue_date {
            errors.add(
                "expiry_date",
                "The expiry date must be after the issue date",
            );
        }
        if let Some(audit) = self.next_surveillance
            && (audit < self.issue_date || audit > self.expiry_date)
        {
            errors.add(
                "next_surveillance",
                "The next surveillance audit must fall between the issue and expiry dates",
            );
        }
        errors.into_result(self)
    }
}

/// What a reminder is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReminderKind {
    Expiry,
    Surveillance,
}

crate::service::text_enum!(ReminderKind { Expiry => "expiry", Surveillance => "surveillance" });

impl ReminderKind {
    pub fn label(self) -> &'static str {
        match self {
            ReminderKind::Expiry => "expiry",
            ReminderKind::Surveillance => "surveillance audit",
        }
    }
}

/// The reminders a certificate in `status` is due on `today`: each date that falls from
/// today to [`REMINDER_DAYS`] on. A withdrawn or expired certificate needs none.
pub fn reminders_due(
    status: CertificateStatus,
    expiry: Date,
    surveillance: Option<Date>,
    today: Date,
) -> Vec<(ReminderKind, Date)> {
    if !matches!(
        status,
        CertificateStatus::Valid | CertificateStatus::Suspended
    ) {
        return Vec::new();
    }
    [
        (ReminderKind::Expiry, Some(expiry)),
        (ReminderKind::Surveillance, surveillance),
    ]
    .into_iter()
    .filter_map(|(kind, date)| date.map(|d| (kind, d)))
    .filter(|(_, date)| (0..=REMINDER_DAYS).contains(&days_until(today, *date)))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use CertificateStatus::*;
    use proptest::prelude::*;

    fn day(text: &str) -> Date {
        Date::strptime("%Y-%m-%d", text).expect("date")
    }

    fn draft() -> CertificateDraft {
        CertificateDraft {
            number: " ITSM-2026/001 ".into(),
            standard: String::new(),
            scope: "Managed hosting and service desk".into(),
            organisation: "Acme".into(),
            sites: "Berlin".into(),
            certification_body: "Good CB".into(),
            accreditation_body: "DAkkS".into(),
            accreditation_number: "D-ZM-1".into(),
            original_date: day("2023-05-01"),
            issue_date: day("2026-05-01"),
            expiry_date: day("2029-04-30"),
            next_surveillance: Some(day("2027-04-15")),
            confidential: false,
        }
    }

    #[test]
    fn a_draft_is_trimmed_and_gets_the_default_standard() {
        let d = draft().validate().expect("valid");
        assert_eq!(d.number, "ITSM-2026/001");
        assert_eq!(d.standard, DEFAULT_STANDARD);
    }

    #[test]
    fn dates_must_be_in_order() {
        let mut d = draft();
        d.expiry_date = d.issue_date;
        d.original_date = day("2027-01-01");
        d.next_surveillance = Some(day("2030-01-01"));
        let e = d.validate().expect_err("refused");
        for field in ["issue_date", "expiry_date", "next_surveillance"] {
            assert!(e.message_for(field).is_some(), "{field}");
        }
    }

    #[test]
    fn numbers_hold_only_what_addresses_carry() {
        assert!(is_plausible_number("ISO-20000/2026.01_a"));
        for bad in ["", "/x", "x/", "a b", "ä1", "a?b", "a#b"] {
            assert!(!is_plausible_number(bad), "{bad}");
        }
        let mut d = draft();
        d.number = "C 1".into();
        assert!(d.validate().is_err());
    }

    #[test]
    fn the_lifecycle_follows_the_register_rules() {
        let expiry = day("2029-04-30");
        let today = day("2027-01-01");
        assert_eq!(Valid.transition(Suspended, expiry, today), Ok(Suspended));
        assert_eq!(Suspended.transition(Valid, expiry, today), Ok(Valid));
        assert_eq!(
            Suspended.transition(Withdrawn, expiry, today),
            Ok(Withdrawn)
        );
        assert_eq!(Valid.transition(Expired, expiry, today), Ok(Expired));
        assert_eq!(Expired.transition(Valid, expiry, today), Ok(Valid));
        assert!(Withdrawn.next().is_empty() && Withdrawn.is_terminal());
        assert!(matches!(
            Expired.transition(Suspended, expiry, today),
            Err(CertificateRefusal::NotAllowed { .. })
        ));
        // Not re-issued: the expiry date is still past.
        assert_eq!(
            Expired.transition(Valid, day("2026-12-31"), today),
            Err(CertificateRefusal::PastExpiry {
                expiry: day("2026-12-31")
            })
        );
    }

    #[test]
    fn only_a_valid_certificate_past_its_expiry_expires() {
        let today = day("2027-01-01");
        assert!(expires_now(Valid, day("2026-12-31"), today));
        assert!(!expires_now(Valid, today, today));
        assert!(!expires_now(Suspended, day("2026-12-31"), today));
    }

    #[test]
    fn reminders_fall_within_the_lead_time() {
        let today = day("2027-01-01");
        let due = reminders_due(Valid, day("2027-03-01"), Some(day("2027-01-20")), today);
        assert_eq!(
            due,
            vec![
                (ReminderKind::Expiry, day("2027-03-01")),
                (ReminderKind::Surveillance, day("2027-01-20"))
            ]
        );
        assert!(reminders_due(Valid, day("2028-01-01"), None, today).is_empty());
        assert!(reminders_due(Withdrawn, day("2027-01-02"), None, today).is_empty());
        assert!(reminders_due(Valid, day("2026-12-31"), None, today).is_empty());
    }

    proptest! {
        #[test]
        fn nothing_leaves_withdrawn_and_nothing_valid_is_past_expiry(
            from in prop::sample::select(CertificateStatus::ALL.to_vec()),
            to in prop::sample::select(CertificateStatus::ALL.to_vec()),
            expiry_offset in -400i64..400,
        ) {
            let today = day("2027-06-01");
            let expiry = today.checked_add(jiff::Span::new().days(expiry_offset)).expect("date");
            if let Ok(next) = from.transition(to, expiry, today) {
                prop_assert!(from != Withdrawn);
                prop_assert!(next != Valid || expiry >= today);
            }
        }
    }
}
