//! The demo organisation's suppliers (8.3.4): the network carrier and the data-centre operator
//! under contracts whose underpinning contracts (UCs) the SLA engine runs, the payroll bureau,
//! the facilities department as an internal supplier and a customer that supplies its stores'
//! network access. A year of records: selection evaluations, contract versions (the carrier's
//! renegotiated three months ago, with its impact assessed), quarterly performance reviews (one
//! that partly met its commitments and raised an improvement), contract reviews, one dispute
//! settled and closed and one escalated. Dates count back from today, so every run tells the
//! same story.

use super::Org;
use steward_domain::sla::{AgreementDraft, AgreementKind, RecordKind, Target};
use steward_domain::supplier::contract::{ContractDraft, ContractReviewDraft};
use steward_domain::supplier::dispute::{DisputeDraft, DisputeStep, StepInput};
use steward_domain::supplier::review::{PerformanceReviewDraft, Rating};
use steward_domain::supplier::{EvaluationResult, SupplierDraft, SupplierKind, SupplierStatus};
use steward_store::Store;
use steward_store::asset::today_utc;

fn day(offset: i64) -> jiff::civil::Date {
    steward_domain::supplier::add_days(today_utc(), offset)
}

/// Name, kind, what they supply, owner (index of `USERS`), contacts, escalation, services
/// (indices of `SERVICES`), evaluated this many days ago (none for internal suppliers).
type DemoSupplier = (
    &'static str,
    SupplierKind,
    &'static str,
    usize,
    &'static str,
    &'static str,
    &'static [usize],
    Option<i64>,
);

const SUPPLIERS: [DemoSupplier; 5] = [
    (
        "Northline Networks",
        SupplierKind::External,
        "WAN links between the offices and the data centre, and internet access.",
        1,
        "NOC 24/7: noc@northline.test, +44 20 7946 0500. Faults are raised by the service desk \
         through the carrier portal; planned work is announced ten days ahead.",
        "NOC duty manager, then account manager Jo Reeves, then the carrier's service director.",
        &[0, 2, 3],
        Some(420),
    ),
    (
        "Colo One Data Centres",
        SupplierKind::External,
        "Colocation: racks, power, cooling and remote hands in the primary data centre.",
        4,
        "Remote hands desk: hands@coloone.test, +44 20 7946 0600; access requests 24 hours ahead.",
        "Shift lead, then site manager, then the customer success director.",
        &[0, 1, 2],
        Some(410),
    ),
    (
        "Lohnwerk GmbH",
        SupplierKind::External,
        "Payroll bureau: the monthly payroll run file format and the bank interface.",
        1,
        "Payroll desk: support@lohnwerk.test; files exchanged by SFTP by the 20th of each month.",
        "Payroll desk, then customer manager, then managing director.",
        &[1],
        Some(380),
    ),
    (
        "Meridian Facilities",
        SupplierKind::Internal,
        "Office power, access control and the comms rooms.",
        4,
        "Facilities helpdesk on extension 4400; comms-room access through the service desk.",
        "Facilities coordinator, then head of facilities.",
        &[3],
        None,
    ),
    (
        "Contoso Retail store network",
        SupplierKind::CustomerAsSupplier,
        "The customer's in-store network and on-site contacts, which the portal's store kiosks \
         depend on.",
        1,
        "Contoso store IT: Dana Whitfield, dana.whitfield@contoso.test.",
        "Store IT lead, then Contoso's head of IT operations.",
        &[2],
        None,
    ),
];

/// Contract terms: reference, scope, requirements, obligations, responsibilities.
const TERMS: [(&str, &str, &str, &str, &str); 5] = [
    (
        "NLN-2025-WAN",
        "Two 1 Gbit/s office links, one 10 Gbit/s data-centre link and internet transit.",
        "Diverse routing for the data-centre link; fault reports accepted 24/7.",
        "99.9 % monthly availability per link; restore within 4 hours; service credits of 5 % \
         per hour beyond.",
        "Northline runs and monitors the links and reports outages within 15 minutes; Meridian \
         raises faults with a ticket and grants site access.",
    ),
    (
        "COLO-2025-R12",
        "Twelve racks in hall B with A+B power, cooling and remote hands.",
        "Tier III facility; ISO/IEC 27001 certified; access log shared monthly.",
        "99.99 % power availability; remote hands on site within 30 minutes.",
        "Colo One runs the facility and remote hands; Meridian owns its equipment and access list.",
    ),
    (
        "LW-PAY-2025",
        "Monthly payroll processing and the bank transfer file.",
        "File format per the Lohnwerk interface specification 4.2; data kept in the EU.",
        "Payroll results by the 25th; corrections within two working days.",
        "Lohnwerk runs the payroll; Meridian delivers the input file by the 20th.",
    ),
    (
        "OLA-FAC-01",
        "Power, cooling and access for the two comms rooms.",
        "Comms rooms on the generator circuit; access only for listed staff.",
        "Power restored within 2 hours; access granted within 1 working day.",
        "Facilities keeps power and access; IT keeps the access list and the equipment.",
    ),
    (
        "CTS-STORE-01",
        "Store network access and on-site hands for the portal kiosks.",
        "Kiosks on the store network's guest VLAN with outbound HTTPS.",
        "On-site contact within 1 business day; network changes announced a week ahead.",
        "Contoso store IT keeps the store network; Meridian runs the kiosks and the portal.",
    ),
];

fn target(minutes: u32) -> Vec<Target> {
    vec![Target {
        metric: "resolution".into(),
        priority: None,
        minutes,
    }]
}

pub(super) async fn seed(store: &Store, org: &Org) -> anyhow::Result<()> {
    let t = org.tenant_id;
    let actor = org.actor(1);
    let today = today_utc();
    // The underpinning contracts the SLA engine runs for the two infrastructure suppliers.
    let mut ucs = Vec::new();
    for (name, supplier, minutes) in [
        ("Northline restore (UC)", "Northline Networks", 240),
        ("Colo One remote hands (UC)", "Colo One Data Centres", 120),
    ] {
        let mut draft = AgreementDraft::new(
            name,
            AgreementKind::Uc,
            RecordKind::Incident,
            target(minutes),
        );
        draft.supplier = supplier.into();
        let agreement = draft
            .validate()
            .map_err(|e| anyhow::anyhow!("demo UC {name}: {e}"))?;
        ucs.push(store.create_agreement(t, &agreement, &actor).await?.id);
    }

    let mut ids = Vec::new();
    for (i, (name, kind, supplies, owner, contacts, escalation, services, evaluated)) in
        SUPPLIERS.into_iter().enumerate()
    {
        let owner_id = org.users[owner].id;
        let draft = SupplierDraft {
            name: name.into(),
            kind,
            supplies: supplies.into(),
            owner_id: Some(owner_id),
            contacts: contacts.into(),
            escalation: escalation.into(),
            status: SupplierStatus::Active,
            service_ids: services.iter().map(|s| org.services[*s]).collect(),
            evaluation_criteria: if evaluated.is_some() {
                "Coverage of our sites, service levels offered, certifications, financial \
                 standing, price over three years."
                    .into()
            } else {
                String::new()
            },
            evaluation_result: evaluated.map(|_| EvaluationResult::Approved),
            evaluated_on: evaluated.map(|d| day(-d)),
            evaluator_id: evaluated.map(|_| org.users[1].id),
        }
        .validate(today)?;
        let supplier = store.create_supplier(t, &draft, &actor).await?;
        let (reference, scope, requirements, obligations, responsibilities) = TERMS[i];
        let first = ContractDraft {
            reference: reference.into(),
            scope: scope.into(),
            requirements: requirements.into(),
            obligations: obligations.into(),
            responsibilities: responsibilities.into(),
            starts_on: day(-365),
            ends_on: if i == 0 { Some(day(-91)) } else { None },
            review_months: 12,
            impact: String::new(),
        };
        let v1 = store
            .create_supplier_contract(t, supplier.id, first, &actor)
            .await?;
        store
            .approve_supplier_contract(t, supplier.id, v1.id, day(-372), today, &actor)
            .await?;
        ids.push((supplier.id, v1.id));
    }

    // The carrier's contract renegotiated three months ago: more bandwidth, a new end date.
    let (carrier, _) = ids[0];
    let (_, scope, requirements, _, responsibilities) = TERMS[0];
    let second = ContractDraft {
        reference: "NLN-2026-WAN".into(),
        scope: format!("{scope} Office links raised to 2 Gbit/s."),
        requirements: requirements.into(),
        obligations: "99.95 % monthly availability per link; restore within 4 hours; service \
                      credits of 5 % per hour beyond."
            .into(),
        responsibilities: responsibilities.into(),
        starts_on: day(-90),
        ends_on: Some(day(275)),
        review_months: 12,
        impact: "Video meetings need the bandwidth; the higher availability target backs the \
                 e-mail SLA's 99.9 %. No change to the interface or the escalation route; the \
                 change calendar carried the cut-over (weekend window)."
            .into(),
    };
    let v2 = store
        .create_supplier_contract(t, carrier, second, &actor)
        .await?;
    store
        .approve_supplier_contract(t, carrier, v2.id, day(-100), today, &actor)
        .await?;
    store
        .set_supplier_ucs(t, carrier, &ucs[..1], &actor)
        .await?;
    store
        .set_supplier_ucs(t, ids[1].0, &ucs[1..], &actor)
        .await?;

    // Contract reviews against today's service requirements.
    for (n, (supplier, contract)) in ids.iter().enumerate().skip(1) {
        let fits = n != 2;
        let review = ContractReviewDraft {
            reviewed_on: day(-40 + n as i64),
            still_fits: fits,
            notes: if fits {
                "Checked against the current SLAs and the service catalogue: still fits.".into()
            } else {
                "The bank is moving to ISO 20022 files next year: the interface specification \
                 must be updated in the next version."
                    .into()
            },
        };
        store
            .review_supplier_contract(t, *supplier, *contract, review, today, &actor)
            .await?;
    }

    // Quarterly performance reviews over the year; the carrier partly met its commitments in
    // the second quarter and an improvement was raised.
    for (n, (supplier, _)) in ids.iter().enumerate() {
        for quarter in 0..4_i64 {
            let held = -275 + quarter * 90 + n as i64;
            let shortfall = n == 0 && quarter == 1;
            let review = PerformanceReviewDraft {
                held_on: day(held),
                period_from: day(held - 95),
                period_to: day(held - 5),
                rating: if shortfall {
                    Rating::PartlyMeets
                } else {
                    Rating::Meets
                },
                targets_missed: if shortfall {
                    "Restore within 4 hours missed twice (office link outages of 6 and 7 hours)."
                        .into()
                } else {
                    String::new()
                },
                notes: if shortfall {
                    "Both outages were the same faulty line card; the carrier's escalation was slow."
                        .into()
                } else {
                    "All targets met; figures from the UC attainment and the carrier's report."
                        .into()
                },
                improvement_id: None,
                raise_improvement: shortfall,
            };
            store
                .create_supplier_review(t, *supplier, review, today, &actor)
                .await?;
        }
    }

    // One dispute settled and closed, one escalated and still open.
    let invoice = store
        .create_supplier_dispute(
            t,
            carrier,
            DisputeDraft {
                raised_on: day(-200),
                subject: "Service credits for the outages in the second quarter".into(),
                details: "The carrier's invoice did not apply the credits the contract grants for \
                          restores beyond 4 hours."
                    .into(),
            },
            today,
            &actor,
        )
        .await?;
    for (step, to, note) in [
        (
            DisputeStep::Escalate,
            "Jo Reeves, account manager",
            "Billing rejected the credits twice.",
        ),
        (
            DisputeStep::Resolve,
            "",
            "Credits of 10 % of the monthly fee granted on the next invoice.",
        ),
        (DisputeStep::Close, "", "Credit seen on the invoice."),
    ] {
        let input = StepInput {
            escalated_to: to.into(),
            note: note.into(),
        };
        store
            .step_supplier_dispute(t, carrier, invoice.id, step, input, &actor)
            .await?;
    }
    let colo = ids[1].0;
    let cooling = store
        .create_supplier_dispute(
            t,
            colo,
            DisputeDraft {
                raised_on: day(-50),
                subject: "Charge for remote hands during the cooling failure".into(),
                details: "Remote hands were billed for work caused by the facility's own cooling \
                          failure."
                    .into(),
            },
            today,
            &actor,
        )
        .await?;
    store
        .step_supplier_dispute(
            t,
            colo,
            cooling.id,
            DisputeStep::Escalate,
            StepInput {
                escalated_to: "Colo One site manager".into(),
                note: "No answer from the shift lead after three weeks.".into(),
            },
            &actor,
        )
        .await?;
    Ok(())
}
