//! The demo CMDB: the applications, servers, databases and network behind the demo services,
//! related so that impact analysis has something to say (the core switch takes down nearly
//! everything; the shared database host takes payroll and the portal with it).

use super::Org;
use anyhow::anyhow;
use serde_json::{Map, Value};
use std::collections::HashMap;
use steward_domain::cmdb::{CiClassDraft, CiDraft, CiStatus};
use steward_domain::request::{FieldKind, FormField};
use steward_store::Store;

/// Class name, description, attributes (name, label, kind, required, options).
type DemoClass = (
    &'static str,
    &'static str,
    &'static [(
        &'static str,
        &'static str,
        FieldKind,
        bool,
        &'static [&'static str],
    )],
);

const CLASSES: [DemoClass; 4] = [
    (
        "Application",
        "Software the business uses, as deployed here.",
        &[
            ("version", "Version", FieldKind::Text, false, &[]),
            ("vendor", "Vendor", FieldKind::Text, false, &[]),
        ],
    ),
    (
        "Server",
        "Physical or virtual machines.",
        &[
            ("hostname", "Host name", FieldKind::Text, true, &[]),
            (
                "os",
                "Operating system",
                FieldKind::Select,
                false,
                &["Debian 12", "Windows Server 2022", "RHEL 9"],
            ),
            ("ip_address", "IP address", FieldKind::Text, false, &[]),
        ],
    ),
    (
        "Database",
        "Database instances and clusters.",
        &[
            (
                "engine",
                "Engine",
                FieldKind::Select,
                true,
                &["PostgreSQL", "SQL Server", "MariaDB"],
            ),
            ("version", "Version", FieldKind::Text, false, &[]),
        ],
    ),
    (
        "Network device",
        "Switches, firewalls, load balancers, wireless.",
        &[
            ("hostname", "Host name", FieldKind::Text, true, &[]),
            ("model", "Model", FieldKind::Text, false, &[]),
        ],
    ),
];

/// Name, class, status, service indexes (of the demo's services), attributes.
type DemoCi = (
    &'static str,
    &'static str,
    CiStatus,
    &'static [usize],
    &'static [(&'static str, &'static str)],
);

const CIS: [DemoCi; 17] = [
    (
        "Mail Platform",
        "Application",
        CiStatus::InUse,
        &[0],
        &[("version", "2025.2"), ("vendor", "Postfix/Dovecot")],
    ),
    (
        "Payroll App",
        "Application",
        CiStatus::InUse,
        &[1],
        &[("version", "11.4"), ("vendor", "PayWise")],
    ),
    (
        "Customer Portal Web",
        "Application",
        CiStatus::InUse,
        &[2],
        &[("version", "4.8.1"), ("vendor", "Meridian IT")],
    ),
    (
        "HR Onboarding Flow",
        "Application",
        CiStatus::InUse,
        &[4],
        &[("version", "2.2")],
    ),
    (
        "mail-gw-01",
        "Server",
        CiStatus::InUse,
        &[0],
        &[
            ("hostname", "mail-gw-01.meridian.test"),
            ("os", "Debian 12"),
            ("ip_address", "10.0.1.10"),
        ],
    ),
    (
        "payroll-app-01",
        "Server",
        CiStatus::InUse,
        &[1],
        &[
            ("hostname", "payroll-app-01.meridian.test"),
            ("os", "Windows Server 2022"),
            ("ip_address", "10.0.2.10"),
        ],
    ),
    (
        "portal-web-01",
        "Server",
        CiStatus::InUse,
        &[2],
        &[
            ("hostname", "portal-web-01.meridian.test"),
            ("os", "Debian 12"),
            ("ip_address", "10.0.3.11"),
        ],
    ),
    (
        "portal-web-02",
        "Server",
        CiStatus::InUse,
        &[2],
        &[
            ("hostname", "portal-web-02.meridian.test"),
            ("os", "Debian 12"),
            ("ip_address", "10.0.3.12"),
        ],
    ),
    (
        "db-01",
        "Server",
        CiStatus::InUse,
        &[1, 2],
        &[
            ("hostname", "db-01.meridian.test"),
            ("os", "RHEL 9"),
            ("ip_address", "10.0.4.10"),
        ],
    ),
    (
        "fax-01",
        "Server",
        CiStatus::Retired,
        &[5],
        &[
            ("hostname", "fax-01.meridian.test"),
            ("os", "Windows Server 2022"),
        ],
    ),
    (
        "payroll-db",
        "Database",
        CiStatus::InUse,
        &[1],
        &[("engine", "PostgreSQL"), ("version", "15.8")],
    ),
    (
        "portal-db",
        "Database",
        CiStatus::InUse,
        &[2],
        &[("engine", "PostgreSQL"), ("version", "15.8")],
    ),
    (
        "core-sw-01",
        "Network device",
        CiStatus::InUse,
        &[],
        &[
            ("hostname", "core-sw-01.meridian.test"),
            ("model", "Catalyst 9300"),
        ],
    ),
    (
        "fw-01",
        "Network device",
        CiStatus::InUse,
        &[],
        &[
            ("hostname", "fw-01.meridian.test"),
            ("model", "FortiGate 100F"),
        ],
    ),
    (
        "lb-01",
        "Network device",
        CiStatus::InUse,
        &[2],
        &[
            ("hostname", "lb-01.meridian.test"),
            ("model", "HAProxy appliance"),
        ],
    ),
    (
        "wifi-ctl-01",
        "Network device",
        CiStatus::InUse,
        &[3],
        &[
            ("hostname", "wifi-ctl-01.meridian.test"),
            ("model", "UniFi"),
        ],
    ),
    (
        "ap-meeting-4",
        "Network device",
        CiStatus::Maintenance,
        &[3],
        &[
            ("hostname", "ap-meeting-4.meridian.test"),
            ("model", "U6 Pro"),
        ],
    ),
];

/// Source, relationship type, target: "source <type> target".
const RELATIONSHIPS: [(&str, &str, &str); 22] = [
    ("Mail Platform", "runs_on", "mail-gw-01"),
    ("Payroll App", "runs_on", "payroll-app-01"),
    ("Payroll App", "depends_on", "payroll-db"),
    ("Customer Portal Web", "runs_on", "portal-web-01"),
    ("Customer Portal Web", "runs_on", "portal-web-02"),
    ("Customer Portal Web", "depends_on", "portal-db"),
    ("Customer Portal Web", "depends_on", "lb-01"),
    ("HR Onboarding Flow", "depends_on", "Payroll App"),
    ("HR Onboarding Flow", "depends_on", "Mail Platform"),
    ("payroll-db", "runs_on", "db-01"),
    ("portal-db", "runs_on", "db-01"),
    ("mail-gw-01", "depends_on", "core-sw-01"),
    ("payroll-app-01", "depends_on", "core-sw-01"),
    ("portal-web-01", "depends_on", "core-sw-01"),
    ("portal-web-02", "depends_on", "core-sw-01"),
    ("db-01", "depends_on", "core-sw-01"),
    ("lb-01", "depends_on", "core-sw-01"),
    ("lb-01", "depends_on", "fw-01"),
    ("mail-gw-01", "depends_on", "fw-01"),
    ("wifi-ctl-01", "depends_on", "core-sw-01"),
    ("ap-meeting-4", "depends_on", "wifi-ctl-01"),
    ("fw-01", "connects_to", "core-sw-01"),
];

/// CIs nobody has checked lately, so the health report has something to show.
const UNVERIFIED: [&str; 2] = ["HR Onboarding Flow", "ap-meeting-4"];

/// Creates the classes, CIs and relationships; answers the CI ids by name for later parts.
pub(crate) async fn seed(store: &Store, org: &Org) -> anyhow::Result<HashMap<String, i64>> {
    let ops = org.actor(4);
    let mut classes = HashMap::new();
    for (name, description, attributes) in CLASSES {
        let draft = CiClassDraft {
            name: name.into(),
            description: description.into(),
            attributes: attributes
                .iter()
                .map(|&(name, label, kind, required, options)| FormField {
                    name: name.into(),
                    label: label.into(),
                    kind,
                    required,
                    options: options.iter().map(|o| (*o).to_owned()).collect(),
                })
                .collect(),
        }
        .validate()
        .map_err(|e| anyhow!("demo class {name}: {e:?}"))?;
        let class = store.create_ci_class(org.tenant_id, &draft, &ops).await?;
        classes.insert(name, class);
    }
    let mut ids = HashMap::new();
    for (name, class_name, status, services, attributes) in CIS {
        let class = classes
            .get(class_name)
            .ok_or_else(|| anyhow!("demo CI {name}: no class {class_name}"))?;
        let attributes: Map<String, Value> = attributes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
            .collect();
        let draft = CiDraft {
            name: name.into(),
            class_id: class.id,
            status,
            description: String::new(),
            owner_id: Some(org.users[4].id),
            team_id: None,
            external_id: None,
            service_ids: services.iter().map(|&i| org.services[i]).collect(),
            attributes,
        }
        .validate(&class.name, &class.attributes)
        .map_err(|e| anyhow!("demo CI {name}: {e:?}"))?;
        let ci = store.create_ci(org.tenant_id, &draft, &ops).await?;
        if !UNVERIFIED.contains(&name) {
            store.verify_ci(org.tenant_id, ci.id, &ops).await?;
        }
        ids.insert(name.to_owned(), ci.id);
    }
    for (source, kind, target) in RELATIONSHIPS {
        let id = |name: &str| {
            ids.get(name)
                .copied()
                .ok_or_else(|| anyhow!("demo relationship names an unknown CI {name}"))
        };
        store
            .create_ci_relationship(org.tenant_id, id(source)?, id(target)?, kind, &ops)
            .await?;
    }
    Ok(ids)
}
