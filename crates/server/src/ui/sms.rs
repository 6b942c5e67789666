//! The management system's front page: one card per register (documents, objectives, risks,
//! roles, competence, internal audits, nonconformities, improvements, management reviews),
//! each shown to those who may read it. A register lands by adding its row to `REGISTERS`.

use super::{Chrome, UiResult};
use crate::AppState;
use crate::auth::{Can, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::response::IntoResponse;
use steward_domain::access::Permission;

/// Where the navigation points.
pub const NAV_HREF: &str = "/sms";

/// A register: its name, where it lives, what it holds (and which clause asks for it), and
/// who may read it.
pub struct Register {
    pub label: &'static str,
    pub href: &'static str,
    pub about: &'static str,
    pub clause: &'static str,
    pub needs: Permission,
}

const REGISTERS: &[Register] = &[
    Register {
        label: "Conformance readiness",
        href: "/conformance",
        about: "Every clause of ISO/IEC 20000-1 with what Steward's records show and what assessors judged.",
        clause: "4–10",
        needs: Permission::ConformanceRead,
    },
    Register {
        label: "Roles and responsibilities",
        href: "/roles",
        about: "The SMS's roles with their duties and powers, who holds each over time, and the RACI matrix of its processes.",
        clause: "5.3",
        needs: Permission::SmsRead,
    },
    Register {
        label: "Risks and opportunities",
        href: "/risks",
        about: "What could stop or help the services and the SMS, rated, treated, owned and reviewed, with a heat map.",
        clause: "6.1",
        needs: Permission::SmsRead,
    },
    Register {
        label: "Objectives",
        href: "/objectives",
        about: "Measurable objectives with owners and targets, measured monthly from Steward's records or by hand.",
        clause: "6.2",
        needs: Permission::SmsRead,
    },
    Register {
        label: "Improvement register",
        href: "/improvements",
        about: "Opportunities for improvement, the decision on each with its reason, and the benefit realised.",
        clause: "10.2",
        needs: Permission::SmsRead,
    },
    Register {
        label: "Management reviews",
        href: "/management-reviews",
        about: "Reviews at planned intervals on inputs Steward compiles from its records, with minutes, decisions and actions tracked to closure.",
        clause: "9.3",
        needs: Permission::SmsRead,
    },
    Register {
        label: "Nonconformities",
        href: "/nonconformities",
        about: "Nonconformities with their containment, root cause, corrective actions and the independent check that the actions worked.",
        clause: "10.1",
        needs: Permission::SmsRead,
    },
    Register {
        label: "Internal audit",
        href: "/audits",
        about: "The audit programme over the certification cycle as a calendar, which clauses it covers, and each audit's checklist and findings.",
        clause: "9.2",
        needs: Permission::SmsRead,
    },
    Register {
        label: "Competence and training",
        href: "/competence",
        about: "What each role demands, each person's education, training, qualification and experience records against it, and the actions that close the gaps, evaluated.",
        clause: "7.2",
        needs: Permission::SmsRead,
    },
    Register {
        label: "Documents",
        href: "/documents",
        about: "Controlled documents: the SMS scope, policy, plan and communication plan, procedures and processes, with versions, approval, reviews and who has read them.",
        clause: "7.5",
        needs: Permission::DocumentsRead,
    },
];

#[derive(Template, WebTemplate)]
#[template(path = "sms/hub.html")]
struct HubPage {
    chrome: Chrome,
    registers: Vec<&'static Register>,
}

pub async fn hub(
    axum::extract::State(state): axum::extract::State<AppState>,
    who: Can<perm::SmsRead>,
) -> UiResult {
    let registers = REGISTERS.iter().filter(|r| who.can(r.needs)).collect();
    Ok(HubPage {
        chrome: Chrome::new(&state, &who, NAV_HREF).await,
        registers,
    }
    .into_response())
}
