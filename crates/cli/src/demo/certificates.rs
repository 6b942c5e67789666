//! The demo organisation's certificate register: its current ISO/IEC 20000-1 certificate,
//! issued about eleven months ago at recertification with a surveillance audit coming up
//! (within the reminder lead time), and the certificate of the first cycle, which expired just
//! before it.

use super::Org;
use jiff::civil::Date;
use steward_domain::certificate::{CertificateDraft, CertificateStatus, DEFAULT_STANDARD};
use steward_store::Store;
use steward_store::asset::today_utc;

/// The current certificate's number: the demo's public verification page answers it.
pub const CURRENT: &str = "ITSM-20K-2026-0417";
const FIRST: &str = "ITSM-20K-2022-0112";

const SCOPE: &str = "The design, transition, delivery and improvement of managed IT services \
    (service desk, managed hosting, payroll and customer portal services) for business customers, \
    provided by Meridian IT from its Berlin and Lisbon sites.";

fn day(offset: i64) -> anyhow::Result<Date> {
    Ok(today_utc().checked_add(jiff::Span::new().days(offset))?)
}

fn draft(
    number: &str,
    (original, issue, expiry): (i64, i64, i64),
    surveillance: Option<i64>,
) -> anyhow::Result<CertificateDraft> {
    Ok(CertificateDraft {
        number: number.into(),
        standard: DEFAULT_STANDARD.into(),
        scope: SCOPE.into(),
        organisation: "Meridian IT GmbH".into(),
        sites: "Friedrichstraße 120, 10117 Berlin, Germany\nAvenida da Liberdade 50, 1250-145 Lisboa, Portugal".into(),
        certification_body: "Nordcert Audit GmbH".into(),
        accreditation_body: "DAkkS (Deutsche Akkreditierungsstelle)".into(),
        accreditation_number: "D-ZM-19001-01-00".into(),
        original_date: day(original)?,
        issue_date: day(issue)?,
        expiry_date: day(expiry)?,
        next_surveillance: surveillance.map(day).transpose()?,
        confidential: false,
    }
    .validate()?)
}

/// Records both certificates as the quality manager.
pub async fn seed(store: &Store, org: &Org) -> anyhow::Result<()> {
    let manager = org.actor(1);
    let today = today_utc();
    // First certified 1,430 days ago; that certificate ran three years and lapsed five days
    // before the recertification audit's certificate was issued.
    let first = draft(FIRST, (-1430, -1430, -340), None)?;
    store
        .create_certificate(
            org.tenant_id,
            &first,
            CertificateStatus::Expired,
            "Expired at the end of the first three-year cycle; superseded by ITSM-20K-2026-0417",
            today,
            &manager,
        )
        .await?;
    let current = draft(CURRENT, (-1430, -335, 760), Some(40))?;
    store
        .create_certificate(
            org.tenant_id,
            &current,
            CertificateStatus::Valid,
            "Issued after the recertification audit",
            today,
            &manager,
        )
        .await?;
    Ok(())
}
