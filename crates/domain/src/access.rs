//! Roles and the one permission table every route is checked against.
//!
//! A route names the permission it needs; `Role::can` answers. Keeping the table here, pure,
//! means the authorisation matrix is readable in one screen and testable without a server.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a person is allowed to do inside their tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the tenant: users, teams, tokens and every record.
    Admin,
    /// Owns processes and services: edits reference data, reads the journal.
    Manager,
    /// Works the service desk: reads reference data, maintains customers and contacts.
    Agent,
    /// Read-only access to everything, including the audit journal.
    Auditor,
    /// Self-service: the catalogue and their own records only.
    Requester,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Manager,
        Role::Agent,
        Role::Auditor,
        Role::Requester,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Agent => "agent",
            Role::Auditor => "auditor",
            Role::Requester => "requester",
        }
    }

    pub fn can(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Manager => !matches!(
                permission,
                UsersWrite | TokensAll | RecordsImport | CmdbSchema | ChangePolicy
            ),
            Role::Agent => matches!(
                permission,
                ServicesRead
                    | CustomersRead
                    | CustomersWrite
                    | TeamsRead
                    | UsersRead
                    | TokensOwn
                    | RecordsRead
                    | RecordsWrite
                    | RecordsOwn
                    | CmdbRead
                    | CmdbWrite
                    | ChangesRead
                    | ChangesWrite
                    | AssetsRead
                    | AssetsWrite
                    | ReleasesRead
                    | ReleasesWrite
                    | DesignRead
                    | CertificatesRead
                    | DocumentsRead
                    | SuppliersRead
            ),
            Role::Auditor => matches!(
                permission,
                ServicesRead
                    | CustomersRead
                    | TeamsRead
                    | UsersRead
                    | JournalRead
                    | TokensOwn
                    | RecordsRead
                    | CmdbRead
                    | ChangesRead
                    | AssetsRead
                    | ReleasesRead
                    | DesignRead
                    | CertificatesRead
                    | ConformanceRead
                    | DocumentsRead
                    | SmsRead
                    | SuppliersRead
            ),
            Role::Requester => matches!(permission, ServicesRead | RecordsOwn),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`: expected one of admin, manager, agent, auditor, requester")]
pub struct UnknownRole(pub String);

impl TryFrom<String> for Role {
    type Error = UnknownRole;
    fn try_from(s: String) -> Result<Self, UnknownRole> {
        s.parse()
    }
}

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// Everything a route may require. Add a variant when a new kind of record lands, and give it
/// a line in `Role::can`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Permission {
    ServicesRead,
    ServicesWrite,
    CustomersRead,
    CustomersWrite,
    TeamsRead,
    TeamsWrite,
    UsersRead,
    UsersWrite,
    /// Create, list and revoke one's own API tokens.
    TokensOwn,
    /// List and revoke anyone's API tokens.
    TokensAll,
    JournalRead,
    /// Read every incident, request and problem of the tenant.
    RecordsRead,
    /// Create and work incidents, requests and problems.
    RecordsWrite,
    /// Raise records and follow one's own (what requesters do in the portal).
    RecordsOwn,
    /// Import records from other tools with their history (original timestamps), as CSV.
    RecordsImport,
    /// Read the CMDB: CIs, relationships, impact.
    CmdbRead,
    /// Maintain CIs and their relationships.
    CmdbWrite,
    /// Define the CMDB's schema: CI classes and relationship types.
    CmdbSchema,
    /// Read changes, their approvals, conflicts and the forward schedule.
    ChangesRead,
    /// Raise and work changes; decide on them where the policy seats one on the board.
    ChangesWrite,
    /// Define the change policy (questionnaire, approval boards), blackout windows and
    /// standard-change templates.
    ChangePolicy,
    /// Read the asset register: hardware and software, warranties, licences.
    AssetsRead,
    /// Maintain assets and their links to CIs.
    AssetsWrite,
    /// Read releases and their deployments.
    ReleasesRead,
    /// Plan releases, sign off acceptance criteria, record deployments.
    ReleasesWrite,
    /// Read service design and transition records.
    DesignRead,
    /// Design new or changed services and accept them into live operation (which creates or
    /// updates the service, its catalogue entry, its SLA and its CIs).
    DesignWrite,
    /// Read the certificate register and its status history.
    CertificatesRead,
    /// Record certificates, edit them and change their status.
    CertificatesWrite,
    /// Read the conformance readiness view, its evidence and samples.
    ConformanceRead,
    /// Record an assessor's judgement of a conformance requirement.
    ConformanceAssess,
    /// Read controlled documents (policy, scope, plans, procedures): their approved versions,
    /// drafts and history.
    DocumentsRead,
    /// Write, review and approve controlled documents.
    DocumentsWrite,
    /// Read the management system's registers: objectives, risks, roles, competence, internal
    /// audits, nonconformities, improvements and management reviews.
    SmsRead,
    /// Run the management system: keep those registers, plan and conduct internal audits,
    /// handle nonconformities and hold management reviews.
    SmsWrite,
    /// Read the supplier register: suppliers, contracts, performance reviews and disputes.
    SuppliersRead,
    /// Keep the supplier register: evaluate and contract suppliers, review their performance
    /// and record disputes.
    SuppliersWrite,
}

impl Permission {
    pub const ALL: [Permission; 37] = [
        Permission::ServicesRead,
        Permission::ServicesWrite,
        Permission::CustomersRead,
        Permission::CustomersWrite,
        Permission::TeamsRead,
        Permission::TeamsWrite,
        Permission::UsersRead,
        Permission::UsersWrite,
        Permission::TokensOwn,
        Permission::TokensAll,
        Permission::JournalRead,
        Permission::RecordsRead,
        Permission::RecordsWrite,
        Permission::RecordsOwn,
        Permission::RecordsImport,
        Permission::CmdbRead,
        Permission::CmdbWrite,
        Permission::CmdbSchema,
        Permission::ChangesRead,
        Permission::ChangesWrite,
        Permission::ChangePolicy,
        Permission::AssetsRead,
        Permission::AssetsWrite,
        Permission::ReleasesRead,
        Permission::ReleasesWrite,
        Permission::DesignRead,
        Permission::DesignWrite,
        Permission::CertificatesRead,
        Permission::CertificatesWrite,
        Permission::ConformanceRead,
        Permission::ConformanceAssess,
        Permission::DocumentsRead,
        Permission::DocumentsWrite,
        Permission::SmsRead,
        Permission::SmsWrite,
        Permission::SuppliersRead,
        Permission::SuppliersWrite,
    ];

    /// Write permissions: the auditor must hold none of them.
    pub fn is_write(self) -> bool {
        use Permission::*;
        matches!(
            self,
            ServicesWrite
                | CustomersWrite
                | TeamsWrite
                | UsersWrite
                | TokensAll
                | RecordsWrite
                | RecordsOwn
                | RecordsImport
                | CmdbWrite
                | CmdbSchema
                | ChangesWrite
                | ChangePolicy
                | AssetsWrite
                | ReleasesWrite
                | DesignWrite
                | CertificatesWrite
                | ConformanceAssess
                | DocumentsWrite
                | SmsWrite
                | SuppliersWrite
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_text() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn auditors_never_write_and_requesters_only_their_own() {
        for p in Permission::ALL.into_iter().filter(|p| p.is_write()) {
            assert!(!Role::Auditor.can(p), "auditor must not have {p:?}");
        }
        let requester: Vec<Permission> = Permission::ALL
            .into_iter()
            .filter(|p| Role::Requester.can(*p))
            .collect();
        assert_eq!(
            requester,
            [Permission::ServicesRead, Permission::RecordsOwn],
            "requesters only raise and follow their own records"
        );
    }

    #[test]
    fn only_admin_manages_users_and_all_tokens_and_imports() {
        for role in Role::ALL {
            let expected = role == Role::Admin;
            assert_eq!(role.can(Permission::UsersWrite), expected);
            assert_eq!(role.can(Permission::TokensAll), expected);
            assert_eq!(role.can(Permission::RecordsImport), expected);
        }
    }

    #[test]
    fn journal_is_for_oversight_roles() {
        assert!(Role::Auditor.can(Permission::JournalRead));
        assert!(Role::Manager.can(Permission::JournalRead));
        assert!(!Role::Agent.can(Permission::JournalRead));
        assert!(!Role::Requester.can(Permission::JournalRead));
    }
}
