//! The demo's service design and transition (ISO/IEC 20000-1 8.5.2): Video Conferencing,
//! designed and accepted into live operation (which created the service, its catalogue item,
//! its SLA and two CIs), and a change to the Customer Portal still in design.

use super::Org;
use serde_json::{Map, Value};
use steward_domain::change::ChangeStatus;
use steward_domain::cmdb::CiStatus;
use steward_domain::design::{
    CatalogueProposal, CiProposal, Criterion, DesignDraft, DesignStatus, Proposal, ServiceProposal,
};
use steward_domain::service::Criticality;
use steward_domain::sla::{AgreementDraft, AgreementKind, RecordKind, Target};
use steward_store::change::ChangeFilter;
use steward_store::{PageRequest, Store};

/// Index of the Customer Portal in the demo's services.
const PORTAL: usize = 2;

fn attributes(pairs: &[(&str, &str)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
        .collect()
}

fn criterion(text: &str, evidence: Option<&str>) -> Criterion {
    Criterion {
        text: text.into(),
        met: evidence.is_some(),
        evidence: evidence.unwrap_or_default().into(),
    }
}

pub(crate) async fn seed(store: &Store, org: &Org) -> anyhow::Result<()> {
    let t = org.tenant_id;
    let manager = org.actor(1);
    let server = store.ci_class_named(t, "Server").await?.id;
    let application = store.ci_class_named(t, "Application").await?.id;

    let video = DesignDraft {
        title: "Video Conferencing for all staff".into(),
        target_service_id: None,
        requirements: "Meetings of up to 200 people with screen sharing, recording and dial-in; \
                       single sign-on; usable from the office Wi-Fi and from home."
            .into(),
        design: "A hosted video platform federated with our identity provider, with a media \
                 gateway in the data centre for the meeting rooms."
            .into(),
        resources: "Two engineers for six weeks; licences for 400 users; one gateway server."
            .into(),
        transition_plan: "Pilot with IT and HR for two weeks, train the service desk, then \
                          open to everyone; the old conference bridge stays for a month."
            .into(),
        criteria: vec![
            criterion(
                "A meeting of 200 participants runs for an hour without loss",
                Some("Load test report LT-12, signed by the platform lead"),
            ),
            criterion(
                "The service desk has a knowledge article and has been trained",
                Some("Training attendance sheet, 14 agents"),
            ),
        ],
        proposal: Proposal {
            service: Some(ServiceProposal {
                name: "Video Conferencing".into(),
                description: "Video meetings, screen sharing and recording for all staff.".into(),
                criticality: Criticality::Medium,
                owner_id: Some(org.users[1].id),
            }),
            catalogue: Some(CatalogueProposal {
                item_id: None,
                name: "Video conferencing room kit".into(),
                description: "Ask for a camera and speaker kit for a meeting room.".into(),
                category: "Collaboration".into(),
            }),
            agreement: Some(AgreementDraft::new(
                "Video Conferencing SLA",
                AgreementKind::Sla,
                RecordKind::Incident,
                vec![
                    Target {
                        metric: "first_response".into(),
                        priority: None,
                        minutes: 60,
                    },
                    Target {
                        metric: "resolution".into(),
                        priority: None,
                        minutes: 480,
                    },
                ],
            )),
            new_cis: vec![
                CiProposal {
                    class_id: application,
                    name: "Video platform".into(),
                    status: CiStatus::InUse,
                    attributes: attributes(&[("vendor", "Hosted"), ("version", "2026.4")]),
                },
                CiProposal {
                    class_id: server,
                    name: "video-gw01".into(),
                    status: CiStatus::InUse,
                    attributes: attributes(&[("hostname", "video-gw01"), ("os", "Debian 12")]),
                },
            ],
            link_ci_ids: Vec::new(),
        },
    }
    .validate()
    .map_err(|e| anyhow::anyhow!("demo design: {e}"))?;
    let design = store.create_design(t, &video, None, &manager).await?;
    for to in [DesignStatus::InDesign, DesignStatus::ReadyForAcceptance] {
        store.transition_design(t, design.id, to, &manager).await?;
    }
    store.accept_design(t, design.id, &manager).await?;

    // The Customer Portal's change, if the demo has one that has no design record yet.
    let portal = org.services[PORTAL];
    let changes = store
        .changes(t, &ChangeFilter::default(), &PageRequest::default())
        .await?;
    let mut change_id = None;
    for c in changes.items {
        if c.service_ids.contains(&portal)
            && !c.status.is_terminal()
            && c.status != ChangeStatus::Implementing
            && store.change_design(t, &c).await?.design.is_none()
        {
            change_id = Some(c.id);
            break;
        }
    }
    let portal_design = DesignDraft {
        title: "Customer Portal: order tracking in real time".into(),
        target_service_id: Some(portal),
        requirements: "Customers see their order's status change within a minute, on the web \
                       and in the notification e-mails."
            .into(),
        design: "An event feed from the order system into the portal, replacing the nightly \
                 import."
            .into(),
        resources: String::new(),
        transition_plan: String::new(),
        criteria: vec![criterion(
            "Status changes reach the portal within 60 seconds in the test environment",
            None,
        )],
        proposal: Proposal::default(),
    }
    .validate()
    .map_err(|e| anyhow::anyhow!("demo design: {e}"))?;
    let opened = store
        .create_design(t, &portal_design, change_id, &manager)
        .await?;
    store
        .transition_design(t, opened.id, DesignStatus::InDesign, &manager)
        .await?;
    Ok(())
}
