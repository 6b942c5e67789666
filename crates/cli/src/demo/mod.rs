//! The demo organisation `steward demo` creates: enough to click through every screen.
//! Each process seeds its records in a module of its own, from what [`Org`] holds.

mod assets;
mod audits;
mod certificates;
mod changes;
mod cmdb;
mod competence;
mod conformance;
mod designs;
mod documents;
mod nonconformities;
mod registers;
mod relationship;
mod releases;
mod reviews;
mod roles;
mod suppliers;

use anyhow::anyhow;
use steward_domain::access::Role;
use steward_domain::customer::{ContactDraft, CustomerDraft};
use steward_domain::incident::{Level, PendingReason, PriorityMatrix, Source, Status};
use steward_domain::knowledge::{ArticleDraft, ArticleStatus};
use steward_domain::problem::{LinkKind, ProblemStatus, RecordKind};
use steward_domain::request::{FieldKind, FormField, ItemDraft, TaskTemplate};
use steward_domain::service::{Criticality, ServiceDraft, ServiceStatus};
use steward_domain::team::TeamDraft;
use steward_domain::tenant::new_tenant;
use steward_domain::user::UserDraft;
use steward_store::identity::User;
use steward_store::incident::{Author, IncidentFields};
use steward_store::knowledge::ArticleChange;
use steward_store::problem::ProblemFields;
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
    let mut services = Vec::new();
    for (name, description, criticality, status, owner) in SERVICES {
        let draft = ServiceDraft {
            name: name.into(),
            description: description.into(),
            owner_id: Some(users[owner].id),
            criticality,
            status,
        };
        services.push(store.create_service(tenant.id, &draft, &manager).await?.id);
    }
    records(store, tenant.id, &users, &services).await?;
    let org = Org {
        tenant_id: tenant.id,
        users,
        services,
    };
    seed_processes(store, &org).await
}

/// The demo organisation as later processes build on it.
pub(crate) struct Org {
    pub tenant_id: i64,
    /// In the order of `USERS`: admin, manager, three agents, auditor, requester.
    pub users: Vec<User>,
    /// Service ids, in the order of `SERVICES`.
    pub services: Vec<i64>,
}

impl Org {
    /// The user at `index` of `USERS`, as the actor of what the demo writes.
    pub fn actor(&self, index: usize) -> Actor {
        let user = &self.users[index];
        Actor::user(user.id, &user.email)
    }
}

/// The control processes and the rest, each from what the organisation already holds.
async fn seed_processes(store: &Store, org: &Org) -> anyhow::Result<()> {
    let cis = cmdb::seed(store, org).await?;
    assets::seed(store, org, &cis).await?;
    let changes = changes::seed(store, org, &cis).await?;
    designs::seed(store, org).await?;
    releases::seed(store, org, &cis, &changes).await?;
    certificates::seed(store, org).await?;
    registers::seed(store, org).await?;
    roles::seed(store, org).await?;
    // After the roles: the requirements are each role's, the records their holders'.
    competence::seed(store, org).await?;
    nonconformities::seed(store, org).await?;
    // After any nonconformity demo data: audit findings raise nonconformities of their own.
    audits::seed(store, org).await?;
    documents::seed(store, org).await?;
    // After the audits (whose findings number the first nonconformities): a complaint raises
    // one too; before the conformance judgement and the review inputs that read them.
    relationship::seed(store, org).await?;
    conformance::seed(store, org).await?;
    // Before the management review, which compiles supplier performance.
    suppliers::seed(store, org).await?;
    // After every register it compiles inputs from, before the trend that counts it.
    reviews::seed(store, org).await?;
    // Last: the trend counts what every process above recorded.
    conformance::seed_trend(store, org).await?;
    Ok(())
}

/// Title, impact, urgency, service index, status, assignee index, agent reply.
type DemoIncident = (
    &'static str,
    Level,
    Level,
    usize,
    Status,
    Option<usize>,
    Option<&'static str>,
);

const INCIDENTS: [DemoIncident; 10] = [
    (
        "Outlook keeps asking for the password",
        Level::Medium,
        Level::High,
        0,
        Status::InProgress,
        Some(2),
        Some("We are resetting your mail profile now."),
    ),
    (
        "Shared calendar not syncing on phones",
        Level::Medium,
        Level::Medium,
        0,
        Status::New,
        None,
        None,
    ),
    (
        "Mail delayed by up to an hour",
        Level::High,
        Level::High,
        0,
        Status::InProgress,
        Some(3),
        Some("The mail queue is backed up; we are on it."),
    ),
    (
        "Payslip PDF shows last month's figures",
        Level::High,
        Level::Medium,
        1,
        Status::Pending,
        Some(2),
        Some("Could you send us a screenshot of the payslip?"),
    ),
    (
        "Customer portal login page times out",
        Level::High,
        Level::High,
        2,
        Status::Resolved,
        Some(4),
        Some("A stuck cache node was restarted; please try again."),
    ),
    (
        "Order history empty for some customers",
        Level::Medium,
        Level::Medium,
        2,
        Status::New,
        None,
        None,
    ),
    (
        "Wi-Fi drops in meeting room 4",
        Level::Low,
        Level::Medium,
        3,
        Status::InProgress,
        Some(4),
        Some("An engineer will check the access point today."),
    ),
    (
        "Guest Wi-Fi voucher printer offline",
        Level::Low,
        Level::Low,
        3,
        Status::Closed,
        Some(4),
        Some("Replaced the printer cable."),
    ),
    (
        "New starter has no laptop account",
        Level::Medium,
        Level::High,
        4,
        Status::New,
        None,
        None,
    ),
    (
        "Mail rules stopped working",
        Level::Medium,
        Level::Low,
        0,
        Status::Cancelled,
        None,
        None,
    ),
];

async fn records(
    store: &Store,
    tenant_id: i64,
    users: &[User],
    services: &[i64],
) -> anyhow::Result<()> {
    let matrix = PriorityMatrix::default();
    let now = steward_store::now_micros();
    let mut mail_incidents = Vec::new();
    for (n, (title, impact, urgency, service, status, assignee, reply)) in
        INCIDENTS.into_iter().enumerate()
    {
        let opened_at = now - (i64::try_from(n).unwrap_or(0) + 1) * 5 * 3_600_000_000;
        let done = matches!(status, Status::Resolved | Status::Closed);
        let fields = IncidentFields {
            title: title.into(),
            description: format!("Reported by phone: {title}."),
            status,
            pending_reason: (status == Status::Pending).then_some(PendingReason::AwaitingCustomer),
            impact,
            urgency,
            priority: matrix.priority(impact, urgency),
            service_id: Some(services[service]),
            customer_id: None,
            requester_contact_id: None,
            requester_user_id: (n % 3 == 0).then_some(users[6].id),
            assignee_team_id: None,
            assignee_id: assignee.map(|i| users[i].id),
            source: if n % 3 == 0 {
                Source::Portal
            } else {
                Source::Phone
            },
            resolution_code: done.then(|| "fixed".to_owned()),
            resolution_notes: String::new(),
            opened_at,
            first_response_at: None,
            resolved_at: done.then_some(opened_at + 3_600_000_000),
            closed_at: matches!(status, Status::Closed | Status::Cancelled)
                .then_some(opened_at + 7_200_000_000),
            category_id: None,
            custom: Default::default(),
        };
        let agent = assignee.map_or_else(Actor::cli, |i| Actor::user(users[i].id, &users[i].email));
        let incident = store.create_incident(tenant_id, &fields, &agent).await?;
        if let Some(text) = reply {
            store
                .add_incident_comment(tenant_id, incident.id, text, true, Author::Agent, &agent)
                .await?;
        }
        if service == 0 && !status.is_terminal() {
            mail_incidents.push(incident.id);
        }
    }
    let problem = ProblemFields {
        title: "Mail server runs out of memory under load".into(),
        description: "Several mail incidents a week since the last upgrade.".into(),
        status: ProblemStatus::KnownError,
        impact: Level::High,
        urgency: Level::Medium,
        priority: matrix.priority(Level::High, Level::Medium),
        service_id: Some(services[0]),
        assignee_id: Some(users[1].id),
        root_cause: "The sync agent leaks memory after the 4.2 upgrade.".into(),
        workaround: "Restart the sync agent service; mail flows again within minutes.".into(),
        resolved_at: None,
        closed_at: None,
        category_id: None,
        custom: Default::default(),
    };
    let manager = Actor::user(users[1].id, &users[1].email);
    let mut investigating = problem.clone();
    investigating.status = ProblemStatus::Investigating;
    let created = store
        .create_problem(tenant_id, &investigating, &manager)
        .await?;
    store
        .update_problem(
            tenant_id,
            created.id,
            created.updated_at,
            &problem,
            &manager,
        )
        .await?;
    for id in mail_incidents {
        store
            .link(
                tenant_id,
                LinkKind::CausedBy,
                (RecordKind::Incident, id),
                (RecordKind::Problem, created.id),
                &manager,
            )
            .await?;
    }
    catalogue(store, tenant_id, users).await?;
    knowledge(store, tenant_id, users, services).await
}

/// Articles the desk and requesters can find: published, one still in review.
async fn knowledge(
    store: &Store,
    tenant_id: i64,
    users: &[User],
    services: &[i64],
) -> anyhow::Result<()> {
    let articles = [
        (
            "Reset your Outlook profile",
            "When Outlook keeps asking for your password:\n\n1. Close Outlook.\n2. Open Mail in the Control Panel and remove the profile.\n3. Start Outlook and sign in again.",
            true,
            Some(services[0]),
            true,
        ),
        (
            "Connect to the guest Wi-Fi",
            "Ask reception for a voucher, join \"Meridian-Guest\" and enter the code.",
            true,
            Some(services[3]),
            true,
        ),
        (
            "Restart the mail sync agent",
            "Known error KE-1: on the mail server, restart the sync agent service. Mail flows again within minutes.",
            false,
            Some(services[0]),
            true,
        ),
        (
            "Payroll cut-off dates 2027",
            "Draft list of monthly cut-off dates, to be confirmed by HR.",
            false,
            Some(services[1]),
            false,
        ),
    ];
    let author = Actor::user(users[2].id, &users[2].email);
    for (title, body, public, service_id, publish) in articles {
        let draft = ArticleDraft {
            title: title.into(),
            body: body.into(),
            public,
            service_id,
        };
        let mut article = store.create_article(tenant_id, &draft, &author).await?;
        let steps: &[ArticleStatus] = if publish {
            &[ArticleStatus::Review, ArticleStatus::Published]
        } else {
            &[ArticleStatus::Review]
        };
        for status in steps {
            let published_at =
                (*status == ArticleStatus::Published).then(steward_store::now_micros);
            let change = ArticleChange {
                draft: draft.clone(),
                status: *status,
                published_at,
            };
            article = store
                .update_article(tenant_id, article.id, article.updated_at, &change, &author)
                .await?;
        }
    }
    Ok(())
}

/// Catalogue items a service desk offers on day one, and a few orders in flight.
async fn catalogue(store: &Store, tenant_id: i64, users: &[User]) -> anyhow::Result<()> {
    let field =
        |name: &str, label: &str, kind: FieldKind, required: bool, options: &[&str]| FormField {
            name: name.into(),
            label: label.into(),
            kind,
            required,
            options: options.iter().map(|o| (*o).to_owned()).collect(),
        };
    let task = |title: &str| TaskTemplate {
        title: title.into(),
        team_id: None,
    };
    let items = [
        ItemDraft {
            name: "New laptop".into(),
            description:
                "A standard laptop with docking station, for new starters or replacements.".into(),
            category: "Hardware".into(),
            fields: vec![
                field(
                    "model",
                    "Model",
                    FieldKind::Select,
                    true,
                    &["13-inch", "15-inch"],
                ),
                field("needed_by", "Needed by", FieldKind::Date, false, &[]),
            ],
            approver_ids: vec![users[1].id],
            tasks: vec![task("Order the laptop"), task("Install and hand over")],
            active: true,
        },
        ItemDraft {
            name: "Shared mailbox".into(),
            description: "A mailbox a team shares, such as sales@ or support@.".into(),
            category: "Accounts and access".into(),
            fields: vec![
                field("address", "Address", FieldKind::Text, true, &[]),
                field("members", "Members", FieldKind::Text, true, &[]),
            ],
            approver_ids: vec![],
            tasks: vec![task("Create the mailbox and grant access")],
            active: true,
        },
    ];
    let cli = Actor::cli();
    let mut created = Vec::new();
    for item in items {
        created.push(store.save_item(tenant_id, None, &item, &cli).await?);
    }
    let requester = Actor::user(users[6].id, &users[6].email);
    let answers = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String((*v).to_owned())))
            .collect()
    };
    store
        .create_request(
            tenant_id,
            &created[0],
            &answers(&[("model", "13-inch")]),
            Some(users[6].id),
            &Default::default(),
            &requester,
        )
        .await?;
    let mailbox = answers(&[
        ("address", "events@meridian.test"),
        ("members", "Rob Young, Sam Carter"),
    ]);
    store
        .create_request(
            tenant_id,
            &created[1],
            &mailbox,
            Some(users[6].id),
            &Default::default(),
            &requester,
        )
        .await?;
    Ok(())
}
