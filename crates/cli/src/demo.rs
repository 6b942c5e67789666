//! The demo organisation `steward demo` creates: enough to click through every screen.
//! Later processes add their records here too.

use anyhow::anyhow;
use steward_domain::access::Role;
use steward_domain::customer::{ContactDraft, CustomerDraft};
use steward_domain::service::{Criticality, ServiceDraft, ServiceStatus};
use steward_domain::team::TeamDraft;
use steward_domain::tenant::new_tenant;
use steward_domain::user::UserDraft;
use steward_store::{Actor, Store, StoreError};

pub const TENANT: &str = "Meridian IT";
pub const PASSWORD: &str = "steward-demo";

const USERS: [(&str, &str, Role); 7] = [
    ("admin@meridian.test", "Alex Admin", Role::Admin),
    ("maria.manager@meridian.test", "Maria Lopez", Role::Manager),
    ("sam.agent@meridian.test", "Sam Carter", Role::Agent),
    ("priya.agent@meridian.test", "Priya Shah", Role::Agent),
    ("omar.ops@meridian.test", "Omar Haddad", Role::Agent),
    ("ann.auditor@meridian.test", "Ann Becker", Role::Auditor),
    ("rob.requester@meridian.test", "Rob Young", Role::Requester),
];

const TEAMS: [(&str, &str, &[usize]); 3] = [
    (
        "Service Desk",
        "First line: takes every call, mail and portal request.",
        &[2, 3],
    ),
    (
        "Infrastructure",
        "Servers, network, storage and the data centre.",
        &[4],
    ),
    (
        "Applications",
        "Business applications and their integrations.",
        &[1, 4],
    ),
];

/// Name, e-mail and phone of a demo contact.
type DemoContact = (&'static str, &'static str, &'static str);

const CUSTOMERS: [(&str, &str, &[DemoContact]); 3] = [
    (
        "Contoso Retail",
        "120 stores; peak season November–December.",
        &[
            (
                "Dana Whitfield",
                "dana.whitfield@contoso.test",
                "+44 20 7946 0101",
            ),
            ("Lee Park", "lee.park@contoso.test", ""),
        ],
    ),
    (
        "Globex Manufacturing",
        "Two plants on 24×7 shifts.",
        &[("Hank Scorpio", "hank@globex.test", "+1 555 0100")],
    ),
    (
        "Initech Finance",
        "Regulated: audit evidence requested quarterly.",
        &[
            ("Bill Lumbergh", "bill@initech.test", ""),
            ("Joanna Smith", "joanna@initech.test", "+1 555 0142"),
        ],
    ),
];

const SERVICES: [(&str, &str, Criticality, ServiceStatus, usize); 6] = [
    (
        "Email and Calendaring",
        "Mailboxes, shared calendars and mobile mail for all staff.",
        Criticality::High,
        ServiceStatus::Live,
        1,
    ),
    (
        "Payroll",
        "Monthly payroll run and payslips, with the bank interface.",
        Criticality::High,
        ServiceStatus::Live,
        1,
    ),
    (
        "Customer Portal",
        "The web portal where customers track orders and raise requests.",
        Criticality::Medium,
        ServiceStatus::Live,
        4,
    ),
    (
        "Office Wi-Fi",
        "Wireless network in all offices, with guest access.",
        Criticality::Medium,
        ServiceStatus::Live,
        4,
    ),
    (
        "HR Onboarding",
        "Accounts, equipment and access for new starters.",
        Criticality::Low,
        ServiceStatus::Pipeline,
        1,
    ),
    (
        "Fax Gateway",
        "Legacy fax-to-mail gateway, replaced by e-signature.",
        Criticality::Low,
        ServiceStatus::Retired,
        4,
    ),
];

/// Creates the demo tenant unless it exists; returns the text listing the logins.
pub async fn seed(store: &Store) -> anyhow::Result<String> {
    let new = new_tenant(TENANT).map_err(|e| anyhow!("{e}"))?;
    match store.tenant_by_slug(&new.slug).await {
        Ok(_) => {}
        Err(StoreError::NotFound) => create(store).await?,
        Err(e) => return Err(e.into()),
    }
    let mut text = format!(
        "demo organisation: {TENANT} (tenant `{}`); every demo user's password is `{PASSWORD}`:\n",
        new.slug
    );
    for (email, _, role) in USERS {
        text.push_str(&format!("  {role:<10} {email}\n"));
    }
    Ok(text.trim_end().to_owned())
}

async fn create(store: &Store) -> anyhow::Result<()> {
    let cli = Actor::cli();
    let new = new_tenant(TENANT).map_err(|e| anyhow!("{e}"))?;
    let tenant = store.create_tenant(&new, &cli).await?;
    let hash = steward_server::auth::hash_password(PASSWORD.to_owned())
        .await
        .map_err(|_| anyhow!("hashing failed"))?;
    let mut users = Vec::new();
    for (email, name, role) in USERS {
        let draft = UserDraft {
            email: email.into(),
            name: name.into(),
            role,
            active: true,
        };
        users.push(
            store
                .create_user(tenant.id, &draft, Some(&hash), &cli)
                .await?,
        );
    }
    let admin = Actor::user(users[0].id, &users[0].email);
    for (name, description, members) in TEAMS {
        let team = store
            .create_team(
                tenant.id,
                &TeamDraft {
                    name: name.into(),
                    description: description.into(),
                },
                &admin,
            )
            .await?;
        let ids: Vec<i64> = members.iter().map(|&i| users[i].id).collect();
        store
            .set_team_members(tenant.id, team.id, &ids, &admin)
            .await?;
    }
    for (name, notes, contacts) in CUSTOMERS {
        let customer = store
            .create_customer(
                tenant.id,
                &CustomerDraft {
                    name: name.into(),
                    notes: notes.into(),
                },
                &admin,
            )
            .await?;
        for (contact, email, phone) in contacts {
            let draft = ContactDraft {
                name: (*contact).into(),
                email: (*email).into(),
                phone: (*phone).into(),
            };
            store
                .create_contact(tenant.id, customer.id, &draft, &admin)
                .await?;
        }
    }
    let manager = Actor::user(users[1].id, &users[1].email);
    for (name, description, criticality, status, owner) in SERVICES {
        let draft = ServiceDraft {
            name: name.into(),
            description: description.into(),
            owner_id: Some(users[owner].id),
            criticality,
            status,
        };
        store.create_service(tenant.id, &draft, &manager).await?;
    }
    Ok(())
}
