//! The demo organisation's asset register: laptops with their owners, the data-centre servers
//! and the core switch (linked to their CIs when the demo CMDB has them), the payroll licence
//! with its seats, an over-deployed office suite, one warranty ending within the reminder lead
//! time, a laptop in repair and a retired one.

use super::Org;
use anyhow::Context;
use jiff::civil::Date;
use std::collections::HashMap;
use steward_domain::asset::{AssetDraft, AssetKind, AssetStatus};
use steward_store::Store;
use steward_store::asset::today_utc;

/// One demo asset: what it is, who holds it, what it cost and when its terms end.
struct DemoAsset {
    tag: &'static str,
    name: &'static str,
    kind: AssetKind,
    status: AssetStatus,
    maker: (&'static str, &'static str, &'static str),
    /// Index into `USERS`.
    owner: Option<usize>,
    location: &'static str,
    supplier: &'static str,
    /// Euro cents.
    cost: i64,
    /// Days from today: bought, warranty end.
    bought: i64,
    warranty: Option<i64>,
    /// Seats, seats in use, licence end (days from today).
    licence: Option<(i64, i64, i64)>,
    /// The CIs it is, by name.
    cis: &'static [&'static str],
}

const fn hardware(
    (tag, name): (&'static str, &'static str),
    status: AssetStatus,
    maker: (&'static str, &'static str, &'static str),
    owner: Option<usize>,
    location: &'static str,
    // Euro cents; purchase and warranty end in days from today.
    (cost, bought, warranty): (i64, i64, i64),
    cis: &'static [&'static str],
) -> DemoAsset {
    DemoAsset {
        tag,
        name,
        kind: AssetKind::Hardware,
        status,
        maker,
        owner,
        location,
        supplier: "Bechtle AG",
        cost,
        bought,
        warranty: Some(warranty),
        licence: None,
        cis,
    }
}

const ASSETS: [DemoAsset; 11] = [
    hardware(
        ("LT-0101", "Laptop Sam Carter"),
        AssetStatus::Deployed,
        ("Dell", "Latitude 7440", "7440-4KJ29X3"),
        Some(2),
        "Head office, 2nd floor",
        (139_900, -300, 795),
        &[],
    ),
    // Its warranty ends within the reminder lead time: the daily job mails Priya.
    hardware(
        ("LT-0102", "Laptop Priya Shah"),
        AssetStatus::Deployed,
        ("Lenovo", "ThinkPad T14 Gen 3", "PF-3N8KQ2"),
        Some(3),
        "Head office, 2nd floor",
        (124_500, -1_077, 18),
        &[],
    ),
    hardware(
        ("LT-0103", "Laptop Omar Haddad"),
        AssetStatus::InRepair,
        ("Lenovo", "ThinkPad X1 Carbon Gen 11", "PF-4R2ZT7"),
        Some(4),
        "Repair: Lenovo depot Stuttgart",
        (189_000, -200, 895),
        &[],
    ),
    hardware(
        ("LT-0104", "Spare laptop"),
        AssetStatus::InStock,
        ("Dell", "Latitude 7440", "7440-9QM31B8"),
        Some(1),
        "IT store room",
        (139_900, -40, 1_055),
        &[],
    ),
    hardware(
        ("LT-0042", "Laptop (old, Maria Lopez)"),
        AssetStatus::Retired,
        ("HP", "EliteBook 840 G5", "5CG8231XYZ"),
        Some(1),
        "IT store room, awaiting data wipe",
        (109_000, -2_100, -1_000),
        &[],
    ),
    hardware(
        ("SRV-0001", "Web server portal-web-01"),
        AssetStatus::Deployed,
        ("Dell", "PowerEdge R650", "R650-7HX2K93"),
        Some(4),
        "Frankfurt DC, rack A3",
        (684_000, -500, 595),
        &["portal-web-01"],
    ),
    hardware(
        ("SRV-0002", "Web server portal-web-02"),
        AssetStatus::Deployed,
        ("Dell", "PowerEdge R650", "R650-7HX2K94"),
        Some(4),
        "Frankfurt DC, rack A3",
        (684_000, -500, 595),
        &["portal-web-02"],
    ),
    hardware(
        ("SRV-0003", "Database server db-01"),
        AssetStatus::Deployed,
        ("HPE", "ProLiant DL380 Gen10 Plus", "CZ21140ABC"),
        Some(4),
        "Frankfurt DC, rack A4",
        (1_250_000, -900, 195),
        &["db-01"],
    ),
    hardware(
        ("NET-0001", "Core switch"),
        AssetStatus::Deployed,
        ("Cisco", "Catalyst 9300-48P", "FOC2419X0QZ"),
        Some(4),
        "Frankfurt DC, rack A1",
        (915_000, -700, 395),
        &["core-sw-01"],
    ),
    DemoAsset {
        tag: "SW-0001",
        name: "Payroll suite licence",
        kind: AssetKind::Software,
        status: AssetStatus::Deployed,
        maker: ("Lohnwerk GmbH", "Lohnwerk Enterprise 12", "LW-ENT-88412"),
        owner: Some(1),
        location: "Licence portal",
        supplier: "Lohnwerk GmbH",
        cost: 3_600_000,
        bought: -165,
        warranty: None,
        licence: Some((120, 112, 200)),
        cis: &["Payroll App"],
    },
    // Over-deployed: more installations than seats, which the register shows.
    DemoAsset {
        tag: "SW-0002",
        name: "Office suite subscription",
        kind: AssetKind::Software,
        status: AssetStatus::Deployed,
        maker: ("Microsoft", "Microsoft 365 E3", "M365-E3-5521"),
        owner: Some(0),
        location: "Microsoft 365 admin centre",
        supplier: "SoftwareOne",
        cost: 2_592_000,
        bought: -60,
        warranty: None,
        licence: Some((60, 64, 305)),
        cis: &[],
    },
];

fn day(today: Date, offset: i64) -> anyhow::Result<Date> {
    let span = jiff::Span::new().try_days(offset)?;
    Ok(today.checked_add(span)?)
}

pub(crate) async fn seed(
    store: &Store,
    org: &Org,
    cis: &HashMap<String, i64>,
) -> anyhow::Result<()> {
    let today = today_utc();
    let actor = org.actor(4);
    for a in &ASSETS {
        let (seats, in_use, licence_end) = match a.licence {
            Some((seats, used, ends)) => (Some(seats), Some(used), Some(day(today, ends)?)),
            None => (None, None, None),
        };
        let draft = AssetDraft {
            tag: a.tag.into(),
            name: a.name.into(),
            kind: a.kind,
            manufacturer: a.maker.0.into(),
            model: a.maker.1.into(),
            serial_number: a.maker.2.into(),
            owner_id: a.owner.and_then(|i| org.users.get(i)).map(|u| u.id),
            location: a.location.into(),
            supplier: a.supplier.into(),
            cost_minor: Some(a.cost),
            currency: Some("EUR".into()),
            purchase_date: Some(day(today, a.bought)?),
            warranty_expires: a.warranty.map(|w| day(today, w)).transpose()?,
            licence_seats: seats,
            seats_in_use: in_use,
            licence_expires: licence_end,
            notes: String::new(),
        }
        .validate()
        .map_err(|e| anyhow::anyhow!("demo asset {}: {e}", a.tag))?;
        let asset = store
            .create_asset(org.tenant_id, &draft, a.status, &actor)
            .await
            .with_context(|| format!("demo asset {}", a.tag))?;
        let ci_ids: Vec<i64> = a
            .cis
            .iter()
            .filter_map(|name| cis.get(*name).copied())
            .collect();
        if !ci_ids.is_empty() {
            store
                .set_asset_cis(org.tenant_id, asset.id, &ci_ids, &actor)
                .await
                .with_context(|| format!("linking demo asset {}", a.tag))?;
        }
    }
    Ok(())
}
