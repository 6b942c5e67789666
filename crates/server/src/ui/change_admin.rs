//! The change manager's reference data (`/changes/setup`): blackout windows (add, lift) and
//! standard-change templates (list, add, edit, retire or reinstate), and the change policy's
//! control scope, major-change rule and approval rules (the questionnaire is kept as saved),
//! through the same store calls as the API's
//! `/change-blackouts` and `/change-templates`. Everyone who reads changes sees them; only
//! those who hold the change policy change them.

use super::changes::{NAV_HREF, typed_instant, window_text};
use super::{Chrome, FormState, Names, Opt, UiError, UiResult, options, ticked_options};
use crate::AppState;
use crate::auth::{Can, Principal, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::change::approval::ApprovalRule;
use steward_domain::change::policy::{ControlScope, MajorChangeRule};
use steward_domain::change::schedule::BlackoutScope;
use steward_domain::change::{
    ApprovalPolicy, ApprovalStage, Blackout, ChangePolicy, ChangeType, RiskLevel, Window,
};
use steward_store::StoreError;
use steward_store::change::{ChangeTemplate, TemplateDraft};

const PAGE: &str = "/changes/setup";

pub struct BlackoutRow {
    pub id: i64,
    pub name: String,
    pub window: String,
    pub scope: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "change_setup.html")]
struct SetupPage {
    chrome: Chrome,
    blackouts: Vec<BlackoutRow>,
    templates: Vec<ChangeTemplate>,
    services: Vec<Opt>,
    can_edit: bool,
    blackout: FormState,
    template: FormState,
    /// The template the template form edits; `None` when it adds one.
    editing_template: Option<i64>,
    /// The policy form, for those who hold the change policy.
    policy: Option<PolicyView>,
    notice: Option<&'static str>,
}

async fn render(
    state: &AppState,
    who: &Principal,
    blackout: FormState,
    template: (FormState, Option<i64>),
    notice: Option<&'static str>,
    status: StatusCode,
) -> UiResult {
    render_with(state, who, blackout, template, None, notice, status).await
}

/// The page; `policy` is the policy form as posted with its errors, or `None` for the saved one.
async fn render_with(
    state: &AppState,
    who: &Principal,
    blackout: FormState,
    (template, editing_template): (FormState, Option<i64>),
    policy: Option<(PolicyInput, Invalid)>,
    notice: Option<&'static str>,
    status: StatusCode,
) -> UiResult {
    let t = who.tenant_id();
    let names = Names::load(state, who).await?;
    let blackouts = state
        .store
        .blackouts(t, None)
        .await?
        .into_iter()
        .map(|b| BlackoutRow {
            id: b.id,
            window: window_text(Some(b.window)),
            scope: match &b.scope {
                BlackoutScope::All => "every change".to_owned(),
                BlackoutScope::Only {
                    service_ids,
                    ci_ids,
                } => {
                    let mut parts: Vec<String> = service_ids
                        .iter()
                        .map(|id| Names::of(&names.services, Some(*id)))
                        .collect();
                    parts.extend(ci_ids.iter().map(|id| format!("CI {id}")));
                    format!("changes to {}", parts.join(", "))
                }
            },
            name: b.name,
        })
        .collect();
    let services = ticked_options(&names.services, blackout.value("service_ids"));
    let policy = if who.can(Permission::ChangePolicy) {
        let (input, errors) = match policy {
            Some(posted) => posted,
            None => (
                PolicyInput::of(&state.store.change_policy(t).await?),
                Invalid::new(),
            ),
        };
        let classes: Vec<(i64, String)> = state
            .store
            .ci_classes(t)
            .await?
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect();
        Some(input.view(&names.services, &classes, &names.users, errors))
    } else {
        None
    };
    let page = SetupPage {
        chrome: Chrome::new(state, who, NAV_HREF).await,
        blackouts,
        templates: state.store.change_templates(t, true).await?,
        services,
        can_edit: who.can(Permission::ChangePolicy),
        blackout,
        template,
        editing_template,
        policy,
        notice,
    };
    Ok((status, page).into_response())
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct SetupQuery {
    done: Option<String>,
    /// A template to edit in the template form.
    template: Option<i64>,
}

pub async fn page(
    State(state): State<AppState>,
    who: Can<perm::ChangesRead>,
    Query(q): Query<SetupQuery>,
) -> UiResult {
    let notice = q.done.as_deref().and_then(|d| match d {
        "blackout" => Some("Blackout added."),
        "lifted" => Some("Blackout lifted; the journal keeps it."),
        "template" => Some("Template added."),
        "template_saved" => Some("Template saved."),
        "retired" => Some("Template retired: new standard changes can no longer follow it."),
        "reinstated" => Some("Template back in use."),
        "policy" => Some("Change policy saved."),
        _ => None,
    });
    let editing = match q.template {
        Some(id) if who.can(Permission::ChangePolicy) => {
            let tpl = template(&state, &who, id).await?;
            let form = FormState::with(&[
                ("name", &tpl.name),
                ("description", &tpl.description),
                ("implementation_plan", &tpl.implementation_plan),
                ("backout_plan", &tpl.backout_plan),
                ("test_plan", &tpl.test_plan),
            ]);
            (form, Some(id))
        }
        _ => (FormState::default(), None),
    };
    render(
        &state,
        &who,
        FormState::default(),
        editing,
        notice,
        StatusCode::OK,
    )
    .await
}

pub async fn add_blackout(
    State(state): State<AppState>,
    who: Can<perm::ChangePolicy>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> UiResult {
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let service_ids: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "service_ids")
        .map(|(_, v)| v.clone())
        .collect();
    let services = service_ids.join(",");
    let typed = FormState::with(&[
        ("name", get("name")),
        ("start", get("start")),
        ("end", get("end")),
        ("service_ids", &services),
    ]);
    let mut errors = Invalid::new();
    let mut instant = |field: &str| match typed_instant(get(field)) {
        Ok(Some(t)) => t,
        Ok(None) => {
            errors.add(field, "Give a date and time (UTC)");
            0
        }
        Err(()) => {
            errors.add(field, "Give a date and time such as 2031-03-01 22:00 (UTC)");
            0
        }
    };
    let window = Window {
        start: instant("start"),
        end: instant("end"),
    };
    let ids: Vec<i64> = service_ids
        .iter()
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let scope = if ids.is_empty() {
        BlackoutScope::All
    } else {
        BlackoutScope::Only {
            service_ids: ids,
            ci_ids: Vec::new(),
        }
    };
    let saved = if errors.errors.is_empty() {
        let blackout = Blackout {
            id: 0,
            name: get("name").to_owned(),
            window,
            scope,
        };
        state
            .store
            .create_blackout(who.tenant_id(), &blackout, &who.actor())
            .await
    } else {
        Err(errors.into())
    };
    match saved {
        Ok(_) => Ok(Redirect::to(&format!("{PAGE}?done=blackout")).into_response()),
        Err(StoreError::Invalid(invalid)) => {
            let mut mapped = Invalid::new();
            for e in invalid.errors {
                let field = if e.field == "window" { "end" } else { &e.field };
                mapped.add(field, e.message);
            }
            render(
                &state,
                &who,
                typed.rejected(mapped),
                (FormState::default(), None),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn lift_blackout(
    State(state): State<AppState>,
    who: Can<perm::ChangePolicy>,
    Path(id): Path<i64>,
) -> UiResult {
    state
        .store
        .delete_blackout(who.tenant_id(), id, &who.actor())
        .await?;
    Ok(Redirect::to(&format!("{PAGE}?done=lifted")).into_response())
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct TemplateForm {
    name: String,
    description: String,
    implementation_plan: String,
    backout_plan: String,
    test_plan: String,
}

impl TemplateForm {
    /// The form as typed, to show again beside its errors.
    fn typed(&self) -> FormState {
        FormState::with(&[
            ("name", &self.name),
            ("description", &self.description),
            ("implementation_plan", &self.implementation_plan),
            ("backout_plan", &self.backout_plan),
            ("test_plan", &self.test_plan),
        ])
    }

    fn draft(self, active: bool) -> TemplateDraft {
        TemplateDraft {
            name: self.name,
            description: self.description,
            implementation_plan: self.implementation_plan,
            backout_plan: self.backout_plan,
            test_plan: self.test_plan,
            active,
        }
    }
}

/// After saving a template (new, or `editing` one): on to `done`, or the setup page again with
/// the form as typed and what was wrong with it.
async fn after_template_save(
    state: &AppState,
    who: &Principal,
    saved: Result<ChangeTemplate, StoreError>,
    typed: FormState,
    editing: Option<i64>,
    done: &str,
) -> UiResult {
    match saved {
        Ok(_) => Ok(Redirect::to(&format!("{PAGE}?done={done}")).into_response()),
        Err(StoreError::Invalid(invalid)) => {
            render(
                state,
                who,
                FormState::default(),
                (typed.rejected(invalid), editing),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn add_template(
    State(state): State<AppState>,
    who: Can<perm::ChangePolicy>,
    Form(form): Form<TemplateForm>,
) -> UiResult {
    let typed = form.typed();
    let saved = match form.draft(true).validate() {
        Ok(d) => {
            state
                .store
                .create_change_template(who.tenant_id(), &d, &who.actor())
                .await
        }
        Err(invalid) => Err(invalid.into()),
    };
    after_template_save(&state, &who, saved, typed, None, "template").await
}

/// The tenant's template `id`, retired or not; 404 for anything else.
async fn template(state: &AppState, who: &Principal, id: i64) -> Result<ChangeTemplate, UiError> {
    state
        .store
        .change_templates(who.tenant_id(), true)
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or(UiError::NotFound)
}

/// `POST /changes/setup/templates/{id}`: saves an edited template, keeping whether it is in use.
pub async fn edit_template(
    State(state): State<AppState>,
    who: Can<perm::ChangePolicy>,
    Path(id): Path<i64>,
    Form(form): Form<TemplateForm>,
) -> UiResult {
    let current = template(&state, &who, id).await?;
    let typed = form.typed();
    let saved = match form.draft(current.active).validate() {
        Ok(d) => {
            state
                .store
                .update_change_template(who.tenant_id(), id, &d, &who.actor())
                .await
        }
        Err(invalid) => Err(invalid.into()),
    };
    after_template_save(
        &state,
        &who,
        saved,
        typed,
        Some(id),
        "template_saved#templates",
    )
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ActiveForm {
    /// `false` retires the template, `true` puts it back in use.
    active: bool,
}

/// `POST /changes/setup/templates/{id}/active`: retires a template (no new standard change may
/// follow it; those that did keep it) or puts it back in use.
pub async fn set_template_active(
    State(state): State<AppState>,
    who: Can<perm::ChangePolicy>,
    Path(id): Path<i64>,
    Form(form): Form<ActiveForm>,
) -> UiResult {
    let current = template(&state, &who, id).await?;
    let draft = TemplateDraft {
        name: current.name,
        description: current.description,
        implementation_plan: current.implementation_plan,
        backout_plan: current.backout_plan,
        test_plan: current.test_plan,
        active: form.active,
    };
    state
        .store
        .update_change_template(who.tenant_id(), id, &draft, &who.actor())
        .await?;
    let done = if form.active { "reinstated" } else { "retired" };
    Ok(Redirect::to(&format!("{PAGE}?done={done}#templates")).into_response())
}

/// How many empty approval rules the policy form offers beyond those saved.
const SPARE_RULES: usize = 2;
/// The most approval rules a form may post.
const MAX_RULES: usize = 50;

/// One approval rule as typed; a row without a type is left out.
#[derive(Debug, Default, Clone)]
pub struct RuleInput {
    change_type: String,
    from_risk: String,
    stage: String,
    members: Vec<String>,
    quorum: String,
}

/// The policy form as typed.
#[derive(Debug, Default)]
pub struct PolicyInput {
    control: String,
    control_services: Vec<String>,
    control_classes: Vec<String>,
    major_from_risk: String,
    major_from_services: String,
    major_services: Vec<String>,
    rules: Vec<RuleInput>,
}

/// One approval rule's inputs, as the page shows them.
pub struct RuleRow {
    pub n: usize,
    pub types: Vec<Opt>,
    pub risks: Vec<Opt>,
    pub stages: Vec<Opt>,
    pub members: Vec<Opt>,
    pub quorum: String,
    pub error: Option<String>,
    pub members_error: Option<String>,
    pub quorum_error: Option<String>,
}

/// The policy form, as the page shows it.
pub struct PolicyView {
    pub control_only: bool,
    pub control_services: Vec<Opt>,
    pub control_classes: Vec<Opt>,
    pub major_risks: Vec<Opt>,
    pub major_from_services: String,
    pub major_services: Vec<Opt>,
    pub rules: Vec<RuleRow>,
    /// The errors, by field, for the summary and the fields outside the rules.
    pub form: FormState,
}

fn ids_text(ids: &[i64]) -> Vec<String> {
    ids.iter().map(i64::to_string).collect()
}

/// Every `(id, name)` as an option, those in `chosen` selected.
fn multi(all: &[(i64, String)], chosen: &[String]) -> Vec<Opt> {
    all.iter()
        .map(|(id, name)| Opt {
            value: id.to_string(),
            label: name.clone(),
            selected: chosen.contains(&id.to_string()),
        })
        .collect()
}

fn stage_code(stage: &ApprovalStage) -> &'static str {
    match stage {
        ApprovalStage::None => "none",
        ApprovalStage::ChangeManager => "change_manager",
        ApprovalStage::Cab { .. } => "cab",
        ApprovalStage::Ecab { .. } => "ecab",
    }
}

impl PolicyInput {
    /// The form as a saved policy fills it in.
    fn of(policy: &ChangePolicy) -> PolicyInput {
        let (control, control_services, control_classes) = match &policy.control {
            ControlScope::Everything => ("everything", Vec::new(), Vec::new()),
            ControlScope::Only {
                service_ids,
                ci_class_ids,
            } => ("only", ids_text(service_ids), ids_text(ci_class_ids)),
        };
        PolicyInput {
            control: control.to_owned(),
            control_services,
            control_classes,
            major_from_risk: policy
                .major
                .from_risk
                .map_or_else(String::new, |r| r.as_str().to_owned()),
            major_from_services: policy
                .major
                .from_services
                .map_or_else(String::new, |n| n.to_string()),
            major_services: ids_text(&policy.major.service_ids),
            rules: policy
                .approvals
                .rules
                .iter()
                .map(|r| {
                    let (members, quorum) = match &r.stage {
                        ApprovalStage::Cab { members, quorum }
                        | ApprovalStage::Ecab { members, quorum } => {
                            (ids_text(members), quorum.to_string())
                        }
                        ApprovalStage::None | ApprovalStage::ChangeManager => {
                            (Vec::new(), String::new())
                        }
                    };
                    RuleInput {
                        change_type: r.change_type.as_str().to_owned(),
                        from_risk: r.from_risk.as_str().to_owned(),
                        stage: stage_code(&r.stage).to_owned(),
                        members,
                        quorum,
                    }
                })
                .collect(),
        }
    }

    /// The form as posted: rule fields are `rule.<row>.<field>`.
    fn posted(pairs: Vec<(String, String)>) -> PolicyInput {
        let mut input = PolicyInput::default();
        for (k, v) in pairs {
            match k.as_str() {
                "control" => input.control = v,
                "control_services" => input.control_services.push(v),
                "control_classes" => input.control_classes.push(v),
                "major_from_risk" => input.major_from_risk = v,
                "major_from_services" => input.major_from_services = v,
                "major_services" => input.major_services.push(v),
                _ => {
                    let Some((row, field)) = k
                        .strip_prefix("rule.")
                        .and_then(|rest| rest.split_once('.'))
                    else {
                        continue;
                    };
                    let Some(row) = row.parse::<usize>().ok().filter(|r| *r < MAX_RULES) else {
                        continue;
                    };
                    if input.rules.len() <= row {
                        input.rules.resize(row + 1, RuleInput::default());
                    }
                    let rule = &mut input.rules[row];
                    match field {
                        "type" => rule.change_type = v,
                        "from_risk" => rule.from_risk = v,
                        "stage" => rule.stage = v,
                        "members" => rule.members.push(v),
                        "quorum" => rule.quorum = v,
                        _ => {}
                    }
                }
            }
        }
        input
    }

    /// The policy the form describes, with `questionnaire` kept, and the form row of each
    /// rule; or every error of the form's own at once.
    fn policy(
        &self,
        questionnaire: steward_domain::change::Questionnaire,
    ) -> Result<(ChangePolicy, Vec<usize>), Invalid> {
        let mut errors = Invalid::new();
        let mut ids = |field: &str, texts: &[String]| -> Vec<i64> {
            texts
                .iter()
                .filter(|t| !t.trim().is_empty())
                .filter_map(|t| {
                    t.trim().parse().ok().or_else(|| {
                        errors.add(field, "Choose from the list");
                        None
                    })
                })
                .collect()
        };
        let control_services = ids("control_services", &self.control_services);
        let control_classes = ids("control_classes", &self.control_classes);
        let major_services = ids("major_services", &self.major_services);
        let mut rule_members = Vec::new();
        for (row, r) in self.rules.iter().enumerate() {
            rule_members.push(ids(&format!("rule.{row}.members"), &r.members));
        }
        let control = match self.control.trim() {
            "only" => ControlScope::Only {
                service_ids: control_services,
                ci_class_ids: control_classes,
            },
            _ => ControlScope::Everything,
        };
        let from_risk = match self.major_from_risk.trim() {
            "" => None,
            text => RiskLevel::parse(text).or_else(|| {
                errors.add("major_from_risk", "Choose a risk from the list");
                None
            }),
        };
        let from_services = match self.major_from_services.trim() {
            "" => None,
            text => text.parse::<u32>().ok().or_else(|| {
                errors.add(
                    "major_from_services",
                    "Give a whole number of services, or leave it empty",
                );
                None
            }),
        };
        let mut rules = Vec::new();
        let mut rows = Vec::new();
        for (row, (r, members)) in self.rules.iter().zip(rule_members).enumerate() {
            if r.change_type.trim().is_empty() {
                continue;
            }
            let Some(change_type) = ChangeType::parse(r.change_type.trim()) else {
                errors.add(&format!("rule.{row}.type"), "Choose a type from the list");
                continue;
            };
            let Some(from_risk) = RiskLevel::parse(r.from_risk.trim()) else {
                errors.add(&format!("rule.{row}.type"), "Choose a risk from the list");
                continue;
            };
            let quorum = || -> Result<u32, ()> {
                match r.quorum.trim() {
                    "" => Ok(u32::try_from(members.len()).unwrap_or(u32::MAX)),
                    text => text.parse().map_err(|_| ()),
                }
            };
            let stage = match r.stage.trim() {
                "change_manager" => ApprovalStage::ChangeManager,
                board @ ("cab" | "ecab") => {
                    let Ok(quorum) = quorum() else {
                        errors.add(
                            &format!("rule.{row}.quorum"),
                            "Give the quorum as a whole number",
                        );
                        continue;
                    };
                    let members = members.clone();
                    if board == "cab" {
                        ApprovalStage::Cab { members, quorum }
                    } else {
                        ApprovalStage::Ecab { members, quorum }
                    }
                }
                _ => {
                    errors.add(&format!("rule.{row}.type"), "Choose who authorises");
                    continue;
                }
            };
            rules.push(ApprovalRule {
                change_type,
                from_risk,
                stage,
            });
            rows.push(row);
        }
        let policy = ChangePolicy {
            control,
            major: MajorChangeRule {
                from_risk,
                from_services,
                service_ids: major_services,
            },
            questionnaire,
            approvals: ApprovalPolicy { rules },
        };
        errors.into_result((policy, rows))
    }

    fn view(
        &self,
        services: &[(i64, String)],
        classes: &[(i64, String)],
        users: &[(i64, String)],
        errors: Invalid,
    ) -> PolicyView {
        let form = FormState::with(&[]).rejected(errors);
        let risks = |current: &str, none: Option<&str>| {
            options(
                none.map(|n| (String::new(), n.to_owned()))
                    .into_iter()
                    .chain(
                        RiskLevel::ALL
                            .iter()
                            .map(|r| (r.as_str().to_owned(), r.as_str().to_owned())),
                    ),
                current,
            )
        };
        let blank = RuleInput::default();
        let rows = self
            .rules
            .iter()
            .chain(std::iter::repeat_n(&blank, SPARE_RULES))
            .enumerate()
            .map(|(n, r)| {
                let error =
                    |field: &str| form.error(&format!("rule.{n}.{field}")).map(str::to_owned);
                RuleRow {
                    n,
                    types: options(
                        [
                            ("", "— no rule —"),
                            ("normal", "normal"),
                            ("emergency", "emergency"),
                        ]
                        .map(|(v, l)| (v.to_owned(), l.to_owned())),
                        &r.change_type,
                    ),
                    risks: risks(&r.from_risk, None),
                    stages: options(
                        [
                            ("change_manager", "Change manager (any admin or manager)"),
                            ("cab", "CAB: these members, this quorum"),
                            ("ecab", "ECAB: these members, this quorum"),
                        ]
                        .map(|(v, l)| (v.to_owned(), l.to_owned())),
                        &r.stage,
                    ),
                    members: multi(users, &r.members),
                    quorum: r.quorum.clone(),
                    error: error("type"),
                    members_error: error("members"),
                    quorum_error: error("quorum"),
                }
            })
            .collect();
        PolicyView {
            control_only: self.control == "only",
            control_services: multi(services, &self.control_services),
            control_classes: multi(classes, &self.control_classes),
            major_risks: risks(&self.major_from_risk, Some("— risk alone never —")),
            major_from_services: self.major_from_services.clone(),
            major_services: multi(services, &self.major_services),
            rules: rows,
            form,
        }
    }
}

/// The domain's and the store's field names as the policy form's.
fn on_policy_form(invalid: Invalid, rows: &[usize]) -> Invalid {
    let mut errors = Invalid::new();
    for e in invalid.errors {
        let field = match e.field.as_str() {
            "major.from_services" => "major_from_services".to_owned(),
            "major.from_risk" => "major_from_risk".to_owned(),
            other => match other.strip_prefix("approvals.rules[") {
                Some(rest) => {
                    let (index, field) = rest.split_once(']').unwrap_or((rest, ""));
                    match index.parse::<usize>().ok().and_then(|i| rows.get(i)) {
                        Some(row) => match field.strip_prefix('.') {
                            Some(f) => format!("rule.{row}.{f}"),
                            None => format!("rule.{row}.type"),
                        },
                        None => "rules".to_owned(),
                    }
                }
                None if other.starts_with("approvals") => "rules".to_owned(),
                None => other.to_owned(),
            },
        };
        errors.add(&field, e.message);
    }
    errors
}

/// `POST /changes/setup/policy`: saves the control scope, the major-change rule and the
/// approval rules through `save_change_policy`, keeping the questionnaire as saved.
pub async fn save_policy(
    State(state): State<AppState>,
    who: Can<perm::ChangePolicy>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> UiResult {
    let t = who.tenant_id();
    let input = PolicyInput::posted(pairs);
    let current = state.store.change_policy(t).await?;
    let errors = match input.policy(current.questionnaire) {
        Ok((policy, rows)) => match state
            .store
            .save_change_policy(t, &policy, &who.actor())
            .await
        {
            Ok(_) => {
                return Ok(Redirect::to(&format!("{PAGE}?done=policy#policy")).into_response());
            }
            Err(StoreError::Invalid(invalid)) => on_policy_form(invalid, &rows),
            Err(e) => return Err(e.into()),
        },
        Err(invalid) => invalid,
    };
    render_with(
        &state,
        &who,
        FormState::default(),
        (FormState::default(), None),
        Some((input, errors)),
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}
