//! The tenant's change policy (control scope, major-change rule, risk questionnaire, approval
//! policy) as one JSON document the domain validates, and the standard-change templates.

use super::check_ids;
use crate::db::{Tx, sql};
use crate::journal::{Change as Entry, Record, RecordWrite};
use crate::{Actor, Store, StoreError, StoreResult, now_micros};
use serde::Serialize;
use steward_domain::Invalid;
use steward_domain::change::approval::ApprovalRule;
use steward_domain::change::policy::{ControlScope, MajorChangeRule};
use steward_domain::change::{
    ApprovalPolicy, ApprovalStage, ChangePolicy, ChangeType, Questionnaire, RiskLevel,
};
use steward_domain::journal::Action;
use steward_domain::validation::{optional_text, required_text};

/// The policy of a tenant that has not written one: everything under change control, the
/// built-in questionnaire, and the change manager (any active admin or manager) authorising
/// normal and emergency changes, until the tenant names its CAB and ECAB.
pub fn default_policy() -> ChangePolicy {
    let rule = |change_type| ApprovalRule {
        change_type,
        from_risk: RiskLevel::Low,
        stage: ApprovalStage::ChangeManager,
    };
    ChangePolicy {
        control: ControlScope::Everything,
        major: MajorChangeRule {
            from_risk: None,
            from_services: None,
            service_ids: Vec::new(),
        },
        questionnaire: Questionnaire::default_questionnaire(),
        approvals: ApprovalPolicy {
            rules: vec![rule(ChangeType::Normal), rule(ChangeType::Emergency)],
        },
    }
}

pub(crate) async fn read_policy(tx: &mut Tx, tenant_id: i64) -> StoreResult<ChangePolicy> {
    let row: Option<(String,)> = tx
        .fetch_optional(
            sql("SELECT policy_json FROM change_policies WHERE tenant_id = $1").bind(tenant_id),
        )
        .await?;
    match row {
        Some((json,)) => serde_json::from_str(&json)
            .map_err(|e| StoreError::Corrupt(format!("change policy: {e}"))),
        None => Ok(default_policy()),
    }
}

/// Every user a policy seats on a board.
fn board_members(policy: &ChangePolicy) -> Vec<i64> {
    let mut members: Vec<i64> = policy
        .approvals
        .rules
        .iter()
        .flat_map(|r| match &r.stage {
            ApprovalStage::Cab { members, .. } | ApprovalStage::Ecab { members, .. } => {
                members.clone()
            }
            ApprovalStage::None | ApprovalStage::ChangeManager => Vec::new(),
        })
        .collect();
    members.sort_unstable();
    members.dedup();
    members
}

/// A standard-change template as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ChangeTemplate {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub implementation_plan: String,
    pub backout_plan: String,
    pub test_plan: String,
    /// Retired templates stay for the changes that followed them, but new changes may not.
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Record for ChangeTemplate {
    const KIND: &'static str = "change_template";
    fn id(&self) -> i64 {
        self.id
    }
}

/// A template as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateDraft {
    pub name: String,
    pub description: String,
    pub implementation_plan: String,
    pub backout_plan: String,
    pub test_plan: String,
    pub active: bool,
}

impl TemplateDraft {
    /// A template is the pre-approval of every change that follows it, so both of its plans
    /// must be written.
    pub fn validate(mut self) -> Result<TemplateDraft, Invalid> {
        let mut errors = Invalid::new();
        self.name = required_text(&mut errors, "name", "Name", &self.name, 200);
        self.description = optional_text(
            &mut errors,
            "description",
            "Description",
            &self.description,
            10_000,
        );
        self.implementation_plan = required_text(
            &mut errors,
            "implementation_plan",
            "Implementation plan",
            &self.implementation_plan,
            100_000,
        );
        self.backout_plan = required_text(
            &mut errors,
            "backout_plan",
            "Back-out plan",
            &self.backout_plan,
            100_000,
        );
        self.test_plan = optional_text(
            &mut errors,
            "test_plan",
            "Test plan",
            &self.test_plan,
            100_000,
        );
        errors.into_result(self)
    }
}

const TEMPLATE_COLUMNS: &str = "id, name, description, implementation_plan, backout_plan, test_plan, active, created_at, updated_at";

pub(crate) async fn read_template(
    tx: &mut Tx,
    tenant_id: i64,
    id: i64,
) -> StoreResult<ChangeTemplate> {
    tx.fetch_one(
        sql(format!(
            "SELECT {TEMPLATE_COLUMNS} FROM change_templates WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant_id)
        .bind(id),
    )
    .await
}

impl Store {
    /// The tenant's change policy, or the default if none was saved.
    pub async fn change_policy(&self, tenant_id: i64) -> StoreResult<ChangePolicy> {
        let mut conn = self.db.snapshot().await?;
        let policy = read_policy(&mut conn, tenant_id).await?;
        conn.commit().await?;
        Ok(policy)
    }

    /// Replaces the tenant's change policy after the domain's validation; every board member
    /// must be a user of the tenant.
    pub async fn save_change_policy(
        &self,
        tenant_id: i64,
        policy: &ChangePolicy,
        actor: &Actor,
    ) -> StoreResult<ChangePolicy> {
        let policy = policy.clone().validate()?;
        let json =
            serde_json::to_string(&policy).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.db.begin().await?;
        check_ids(
            &mut tx,
            tenant_id,
            ("users", false),
            ("approvals.rules", "Users"),
            &board_members(&policy),
        )
        .await?;
        let before = read_policy(&mut tx, tenant_id).await?;
        tx.execute(
            sql("INSERT INTO change_policies (tenant_id, policy_json, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (tenant_id) DO UPDATE SET policy_json = excluded.policy_json, updated_at = excluded.updated_at")
                .bind(tenant_id)
                .bind(json)
                .bind(now_micros()),
        )
        .await?;
        let change = Entry {
            tenant_id,
            actor,
            action: Action::Update,
            record_type: "change_policy",
            record_id: tenant_id,
            before: serde_json::to_value(&before).ok(),
            after: serde_json::to_value(&policy).ok(),
        };
        self.journal(&mut tx, change).await?;
        tx.commit().await?;
        Ok(policy)
    }

    /// Adds a standard-change template from a validated draft.
    pub async fn create_change_template(
        &self,
        tenant_id: i64,
        draft: &TemplateDraft,
        actor: &Actor,
    ) -> StoreResult<ChangeTemplate> {
        self.write_record(RecordWrite {
            tenant_id,
            action: Action::Create,
            actor,
            before: None,
            write: sql(format!(
                "INSERT INTO change_templates (tenant_id, name, description, implementation_plan, backout_plan, \
                 test_plan, active, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
                 RETURNING {TEMPLATE_COLUMNS}"
            ))
            .bind(tenant_id)
            .bind(&draft.name)
            .bind(&draft.description)
            .bind(&draft.implementation_plan)
            .bind(&draft.backout_plan)
            .bind(&draft.test_plan)
            .bind(draft.active)
            .bind(now_micros()),
            unique: Some(("name", "A change template with this name already exists")),
        })
        .await
    }

    /// Replaces a template's fields with a validated draft; `active: false` retires it, so
    /// no new change may follow it (the changes that did keep it).
    pub async fn update_change_template(
        &self,
        tenant_id: i64,
        id: i64,
        draft: &TemplateDraft,
        actor: &Actor,
    ) -> StoreResult<ChangeTemplate> {
        self.write_record(RecordWrite {
            tenant_id,
            action: Action::Update,
            actor,
            before: Some(
                sql(format!(
                    "SELECT {TEMPLATE_COLUMNS} FROM change_templates WHERE tenant_id = $1 AND id = $2"
                ))
                .bind(tenant_id)
                .bind(id),
            ),
            write: sql(format!(
                "UPDATE change_templates SET name = $1, description = $2, implementation_plan = $3, \
                 backout_plan = $4, test_plan = $5, active = $6, updated_at = $7 \
                 WHERE tenant_id = $8 AND id = $9 RETURNING {TEMPLATE_COLUMNS}"
            ))
            .bind(&draft.name)
            .bind(&draft.description)
            .bind(&draft.implementation_plan)
            .bind(&draft.backout_plan)
            .bind(&draft.test_plan)
            .bind(draft.active)
            .bind(now_micros())
            .bind(tenant_id)
            .bind(id),
            unique: Some(("name", "A change template with this name already exists")),
        })
        .await
    }

    /// The tenant's templates by name; retired ones only when asked.
    pub async fn change_templates(
        &self,
        tenant_id: i64,
        include_retired: bool,
    ) -> StoreResult<Vec<ChangeTemplate>> {
        let mut q = sql(format!(
            "SELECT {TEMPLATE_COLUMNS} FROM change_templates WHERE tenant_id = $1"
        ))
        .bind(tenant_id);
        if !include_retired {
            q = q.push_bound(" AND active = {}", true);
        }
        self.db.fetch_all(q.push(" ORDER BY lower(name), id")).await
    }
}
