//! Service level agreement pages: the list; an agreement's page with its targets by metric and
//! priority, each clock's rule in words and its escalations; and the form that creates and
//! edits one. Agents read agreements; service managers (ServicesWrite) change them.
//!
//! As on the calendar form, rows are named after the paths the domain reports errors under
//! (`targets[2].minutes`). Blank rows and rows marked for removal are dropped before
//! validation and the rest renumbered the same way, so every error lands next to its input.
//! "Add a row" submits the form to show it again with one more blank row; nothing is saved
//! until the main button is pressed. Status choices are offered for both record kinds (the
//! script hides the other kind's); only the chosen kind's are read.

use super::{Chrome, FormState, HistoryRow, Opt, UiError, UiResult, history, options, when};
use crate::AppState;
use crate::auth::{Can, Principal, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use std::collections::BTreeMap;
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::incident::Priority;
use steward_domain::sla::rule::{Cond, Rule};
use steward_domain::sla::{
    Agreement, AgreementDraft, AgreementKind, DEFAULT_WARN_PERCENT, Escalation, FIRST_RESPONSE,
    MAX_MINUTES, Milestone, RESOLUTION, RecordKind, Target, Threshold,
};
use steward_store::calendar::CalendarFilter;
use steward_store::identity::UserFilter;
use steward_store::sla::StoredAgreement;
use steward_store::{PageRequest, StoreError};

// ---------- Words ----------

/// `45 min`, `8 h`, `2 h 30 min`: business time in words.
pub fn business_time(minutes: i64) -> String {
    steward_domain::sla::business_time::words(minutes)
}

/// `First response`, `Resolution`, or a milestone's name with spaces (`On site`).
pub fn metric_label(metric: &str) -> String {
    match metric {
        FIRST_RESPONSE => "First response".into(),
        RESOLUTION => "Resolution".into(),
        other => {
            let words = other.replace('_', " ");
            let mut chars = words.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_uppercase().chain(chars).collect::<String>()
            })
        }
    }
}

pub fn kind_label(kind: AgreementKind) -> &'static str {
    match kind {
        AgreementKind::Sla => "SLA",
        AgreementKind::Ola => "OLA",
        AgreementKind::Uc => "UC",
    }
}

fn kind_long(kind: AgreementKind) -> &'static str {
    match kind {
        AgreementKind::Sla => "Service level agreement, with customers",
        AgreementKind::Ola => "Operational level agreement, with an internal team",
        AgreementKind::Uc => "Underpinning contract, with a supplier",
    }
}

fn records_label(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Incident => "Incidents",
        RecordKind::Request => "Requests",
    }
}

/// `pending:awaiting_customer` as `pending: awaiting customer`.
fn token_label(token: &str) -> String {
    token.replace(':', ": ").replace('_', " ")
}

// ---------- Names ----------

/// Names of what agreements refer to, by id, for lists, pages and pickers.
struct Lookups {
    customers: Vec<(i64, String)>,
    services: Vec<(i64, String)>,
    teams: Vec<(i64, String)>,
    /// Active people who work records: whom an escalation may notify.
    users: Vec<(i64, String)>,
    calendars: Vec<(i64, String)>,
}

impl Lookups {
    async fn load(state: &AppState, who: &Principal) -> Result<Lookups, UiError> {
        let t = who.tenant_id();
        let all = PageRequest {
            limit: Some(500),
            cursor: None,
        };
        let customers = super::customer_names(state, who).await?;
        let services = if who.can(Permission::ServicesRead) {
            super::service_names(state, who).await?
        } else {
            Vec::new()
        };
        let teams = if who.can(Permission::TeamsRead) {
            state
                .store
                .teams(t, None, &all)
                .await?
                .items
                .into_iter()
                .map(|t| (t.id, t.name))
                .collect()
        } else {
            Vec::new()
        };
        let users = if who.can(Permission::UsersRead) {
            let filter = UserFilter {
                active: Some(true),
                sort: Some("name".into()),
                ..Default::default()
            };
            state
                .store
                .users(t, &filter, &all)
                .await?
                .items
                .into_iter()
                .filter(|u| u.role.can(Permission::RecordsRead))
                .map(|u| (u.id, u.name))
                .collect()
        } else {
            Vec::new()
        };
        let calendars = state
            .store
            .calendars(t, &CalendarFilter::default(), &all)
            .await?
            .items
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect();
        Ok(Lookups {
            customers,
            services,
            teams,
            users,
            calendars,
        })
    }

    /// The name of `id` in `list`, or `#id` for one this person cannot see or that has gone.
    fn name(list: &[(i64, String)], id: i64) -> String {
        list.iter()
            .find(|(i, _)| *i == id)
            .map_or_else(|| format!("#{id}"), |(_, n)| n.clone())
    }

    /// Choices for a select: `none` first (empty value), then the list; a current id the
    /// list lacks is kept so that saving does not silently change it.
    fn choices(list: &[(i64, String)], none: &str, current: &str) -> Vec<Opt> {
        let mut all: Vec<(String, String)> = std::iter::once((String::new(), none.to_owned()))
            .chain(list.iter().map(|(id, n)| (id.to_string(), n.clone())))
            .collect();
        if !current.is_empty() && !all.iter().any(|(v, _)| v == current) {
            all.push((current.to_owned(), format!("#{current}")));
        }
        options(all, current)
    }

    fn scope(&self, d: &AgreementDraft) -> String {
        let mut parts = Vec::new();
        if let Some(team) = d.team_id {
            parts.push(format!("team {}", Lookups::name(&self.teams, team)));
        }
        if !d.supplier.is_empty() {
            parts.push(format!("supplier {}", d.supplier));
        }
        if let Some(c) = d.customer_id {
            parts.push(format!("customer {}", Lookups::name(&self.customers, c)));
        }
        if let Some(s) = d.service_id {
            parts.push(format!("service {}", Lookups::name(&self.services, s)));
        }
        let text = match parts.is_empty() {
            true => format!("all {}", records_label(d.record_kind).to_lowercase()),
            false => parts.join(", "),
        };
        let mut chars = text.chars();
        chars.next().map_or_else(String::new, |c| {
            c.to_uppercase().chain(chars).collect::<String>()
        })
    }

    fn calendar(&self, id: Option<i64>) -> String {
        id.map_or_else(
            || "24×7 (no calendar)".to_owned(),
            |id| Lookups::name(&self.calendars, id),
        )
    }
}

/// `Resolution 8 h (P1 2 h, P2 4 h) · First response 30 min`.
fn targets_summary(d: &AgreementDraft) -> String {
    let mut metrics: Vec<&str> = Vec::new();
    for t in &d.targets {
        if !metrics.contains(&t.metric.as_str()) {
            metrics.push(&t.metric);
        }
    }
    metrics
        .iter()
        .map(|metric| {
            let of_metric = || d.targets.iter().filter(|t| t.metric == *metric);
            let any = of_metric()
                .find(|t| t.priority.is_none())
                .map(|t| business_time(i64::from(t.minutes)));
            let mut specific: Vec<&Target> = of_metric().filter(|t| t.priority.is_some()).collect();
            specific.sort_by_key(|t| t.priority);
            let specific = specific
                .iter()
                .filter_map(|t| {
                    t.priority
                        .map(|p| format!("{} {}", p.as_str(), business_time(i64::from(t.minutes))))
                })
                .collect::<Vec<_>>()
                .join(", ");
            match (any, specific.is_empty()) {
                (Some(any), true) => format!("{} {any}", metric_label(metric)),
                (Some(any), false) => format!("{} {any} ({specific})", metric_label(metric)),
                (None, _) => format!("{} {specific}", metric_label(metric)),
            }
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

// ---------- List ----------

pub struct Row {
    pub id: i64,
    pub name: String,
    pub kind: &'static str,
    pub kind_title: &'static str,
    pub applies: &'static str,
    pub scope: String,
    pub calendar: String,
    pub targets: String,
    pub active: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "agreements_list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    can_write: bool,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct DoneQuery {
    done: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    Query(q): Query<DoneQuery>,
) -> UiResult {
    let stored = state.store.agreements(who.tenant_id()).await?;
    let names = Lookups::load(&state, &who).await?;
    let rows = stored
        .into_iter()
        .map(|a| Row {
            kind: kind_label(a.draft.kind),
            kind_title: kind_long(a.draft.kind),
            applies: records_label(a.draft.record_kind),
            scope: names.scope(&a.draft),
            calendar: names.calendar(a.draft.calendar_id),
            targets: targets_summary(&a.draft),
            active: a.draft.active,
            id: a.id,
            name: a.draft.name,
        })
        .collect();
    let chrome = Chrome::new(&state, &who, "/agreements")
        .await
        .with_notice(q.done.as_deref());
    Ok(ListPage {
        chrome,
        rows,
        can_write: who.can(Permission::ServicesWrite),
    }
    .into_response())
}

// ---------- The agreement's page ----------

/// One cell of the targets table: the target that applies at this priority.
pub struct Cell {
    pub text: String,
    /// The target comes from the "any priority" column, not one of this priority's own.
    pub inherited: bool,
}

pub struct MatrixRow {
    pub metric: String,
    pub cells: Vec<Cell>,
}

/// A metric's clock rule in words.
pub struct RuleRow {
    pub metric: String,
    pub starts: String,
    pub pauses: String,
    pub stops: String,
}

pub struct MilestoneLine {
    pub name: String,
    pub reached: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "agreement_view.html")]
struct ViewPage {
    chrome: Chrome,
    id: i64,
    name: String,
    kind: &'static str,
    kind_long: &'static str,
    applies: &'static str,
    scope: String,
    calendar: String,
    calendar_href: Option<String>,
    warn_percent: u8,
    pauses: String,
    active: bool,
    columns: Vec<String>,
    matrix: Vec<MatrixRow>,
    rules: Vec<RuleRow>,
    milestones: Vec<MilestoneLine>,
    escalations: Vec<String>,
    created: String,
    updated: String,
    can_write: bool,
    history: Option<Vec<HistoryRow>>,
    /// The suppliers on the register that this underpinning contract binds.
    suppliers: Vec<(i64, String)>,
}

/// Targets by metric (rows) and priority (columns): "any", then each priority some target
/// names. A priority without its own target shows the "any" target it falls back to.
fn matrix(agreement: &Agreement) -> (Vec<String>, Vec<MatrixRow>) {
    let d = agreement.draft();
    let mut priorities: Vec<Priority> = d.targets.iter().filter_map(|t| t.priority).collect();
    priorities.sort();
    priorities.dedup();
    let columns = std::iter::once("Any priority".to_owned())
        .chain(priorities.iter().map(|p| p.as_str().to_owned()))
        .collect();
    let rows = agreement
        .metrics()
        .into_iter()
        .map(|metric| {
            let own = |p: Option<Priority>| {
                d.targets
                    .iter()
                    .find(|t| t.metric == metric && t.priority == p)
                    .map(|t| t.minutes)
            };
            let cells = std::iter::once(None)
                .chain(priorities.iter().copied().map(Some))
                .map(|p| match (own(p), agreement.target(metric, p)) {
                    (Some(m), _) => Cell {
                        text: business_time(i64::from(m)),
                        inherited: false,
                    },
                    (None, Some(m)) => Cell {
                        text: business_time(i64::from(m)),
                        inherited: true,
                    },
                    (None, None) => Cell {
                        text: "—".into(),
                        inherited: false,
                    },
                })
                .collect();
            MatrixRow {
                metric: metric_label(metric),
                cells,
            }
        })
        .collect();
    (columns, rows)
}

fn rule_row(metric: &str, rule: &Rule) -> RuleRow {
    RuleRow {
        metric: metric_label(metric),
        starts: rule.starts_in_words(),
        pauses: rule.pause.describe(),
        stops: rule.stop.describe(),
    }
}

fn escalation_line(e: &Escalation, names: &Lookups) -> String {
    let on = match e.on {
        Threshold::Warning => "At the warning",
        Threshold::Breach => "On breach",
    };
    let mut acts = Vec::new();
    if let Some(u) = e.notify_user_id {
        acts.push(format!("notify {}", Lookups::name(&names.users, u)));
    }
    if let Some(t) = e.reassign_team_id {
        acts.push(format!(
            "hand the record to {}",
            Lookups::name(&names.teams, t)
        ));
    }
    format!("{on}: {}", acts.join(" and "))
}

pub async fn view(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    super::Id(id): super::Id<i64>,
    Query(q): Query<DoneQuery>,
) -> UiResult {
    let stored = state.store.agreement(who.tenant_id(), id).await?;
    let agreement = stored.agreement()?;
    let names = Lookups::load(&state, &who).await?;
    let d = agreement.draft();
    let (columns, matrix) = matrix(&agreement);
    let pauses = d.pause_in.as_deref().map_or_else(
        || "the record kind's default".to_owned(),
        |tokens| Cond::StatusIn(tokens.to_vec()).describe(),
    );
    let page = ViewPage {
        chrome: Chrome::new(&state, &who, "/agreements")
            .await
            .with_notice(q.done.as_deref()),
        id: stored.id,
        name: d.name.clone(),
        kind: kind_label(d.kind),
        kind_long: kind_long(d.kind),
        applies: records_label(d.record_kind),
        scope: names.scope(d),
        calendar: names.calendar(d.calendar_id),
        calendar_href: d.calendar_id.map(|c| format!("/calendars/{c}")),
        warn_percent: d.warn_percent,
        pauses,
        active: d.active,
        columns,
        matrix,
        rules: agreement
            .metrics()
            .into_iter()
            .map(|m| rule_row(m, &agreement.rule(m)))
            .collect(),
        milestones: d
            .milestones
            .iter()
            .map(|m| {
                let mut ways: Vec<String> = Vec::new();
                if !m.reached_in.is_empty() {
                    ways.push(Cond::StatusIn(m.reached_in.clone()).describe());
                }
                if m.reached_when_assigned {
                    ways.push(Cond::Assigned.describe());
                }
                MilestoneLine {
                    name: metric_label(&m.name),
                    reached: format!("when {}", ways.join(" or ")),
                }
            })
            .collect(),
        escalations: d
            .escalations
            .iter()
            .map(|e| escalation_line(e, &names))
            .collect(),
        created: when(stored.created_at),
        updated: when(stored.updated_at),
        can_write: who.can(Permission::ServicesWrite),
        history: history(&state, &who, "sla_agreement", id).await,
        suppliers: if who.can(Permission::SuppliersRead) {
            state
                .store
                .suppliers_of_agreement(who.tenant_id(), id)
                .await?
        } else {
            Vec::new()
        },
    };
    Ok(page.into_response())
}

// ---------- The form ----------

#[derive(Debug, Default, Clone)]
struct MilestoneInput {
    name: String,
    /// Statuses ticked, by record kind (`incident`, `request`).
    reached_in: BTreeMap<String, Vec<String>>,
    assigned: bool,
    remove: bool,
}

#[derive(Debug, Default, Clone)]
struct TargetInput {
    metric: String,
    /// Empty or `any` for any priority.
    priority: String,
    hours: String,
    minutes: String,
    remove: bool,
}

#[derive(Debug, Default, Clone)]
struct EscalationInput {
    on: String,
    notify_user_id: String,
    reassign_team_id: String,
    remove: bool,
}

/// What the agreement form holds.
#[derive(Debug, Default)]
struct AgreementForm {
    name: String,
    kind: String,
    record_kind: String,
    customer_id: String,
    service_id: String,
    team_id: String,
    supplier: String,
    calendar_id: String,
    warn_percent: String,
    /// Pause statuses ticked, by record kind.
    pause_in: BTreeMap<String, Vec<String>>,
    /// Start statuses ticked, by record kind (none: start when the record is opened).
    start_in: BTreeMap<String, Vec<String>>,
    active: bool,
    /// `updated_at` of the agreement as the form was shown, for optimistic concurrency.
    version: String,
    milestones: Vec<MilestoneInput>,
    targets: Vec<TargetInput>,
    escalations: Vec<EscalationInput>,
    /// Which section's "Add a row" was pressed, if one was.
    add: Option<String>,
}

/// `targets[3].minutes` as (`targets`, 3, `minutes`).
fn row_key(key: &str) -> Option<(&str, usize, &str)> {
    let (section, rest) = key.split_once('[')?;
    let (index, field) = rest.split_once("].")?;
    let index = index.parse::<usize>().ok().filter(|i| *i < 1000)?;
    Some((section, index, field))
}

/// An id chosen in a select: empty is none.
fn chosen_id(errors: &mut Invalid, field: &str, text: &str) -> Option<i64> {
    match text.trim() {
        "" => None,
        t => t
            .parse()
            .map_err(|_| errors.add(field, "Choose one from the list"))
            .ok(),
    }
}

/// Hours and minutes as typed (either may be empty) in minutes.
fn typed_minutes(hours: &str, minutes: &str) -> Result<u32, &'static str> {
    let part = |t: &str| match t.trim() {
        "" => Ok(0u32),
        t => t
            .parse::<u32>()
            .map_err(|_| "Hours and minutes are whole numbers, such as 4 h 30 min"),
    };
    part(hours)?
        .checked_mul(60)
        .and_then(|h| h.checked_add(part(minutes).ok()?))
        .ok_or("Hours and minutes are whole numbers, such as 4 h 30 min")
        .and_then(|total| {
            if total > MAX_MINUTES {
                Err("That is more than ten years of business time")
            } else {
                Ok(total)
            }
        })
}

impl AgreementForm {
    fn parse(fields: Vec<(String, String)>) -> AgreementForm {
        let mut form = AgreementForm::default();
        let mut milestones: BTreeMap<usize, MilestoneInput> = BTreeMap::new();
        let mut targets: BTreeMap<usize, TargetInput> = BTreeMap::new();
        let mut escalations: BTreeMap<usize, EscalationInput> = BTreeMap::new();
        for (key, value) in fields {
            match key.as_str() {
                "name" => form.name = value,
                "kind" => form.kind = value,
                "record_kind" => form.record_kind = value,
                "customer_id" => form.customer_id = value,
                "service_id" => form.service_id = value,
                "team_id" => form.team_id = value,
                "supplier" => form.supplier = value,
                "calendar_id" => form.calendar_id = value,
                "warn_percent" => form.warn_percent = value,
                "active" => form.active = true,
                "version" => form.version = value,
                "_add" => form.add = Some(value),
                _ => {
                    if let Some(kind) = key.strip_prefix("pause_in.") {
                        form.pause_in
                            .entry(kind.to_owned())
                            .or_default()
                            .push(value);
                        continue;
                    }
                    if let Some(kind) = key.strip_prefix("start_in.") {
                        form.start_in
                            .entry(kind.to_owned())
                            .or_default()
                            .push(value);
                        continue;
                    }
                    match row_key(&key) {
                        Some(("milestones", i, field)) => {
                            let row = milestones.entry(i).or_default();
                            match field {
                                "name" => row.name = value,
                                "assigned" => row.assigned = true,
                                "remove" => row.remove = true,
                                _ => {
                                    if let Some(kind) = field.strip_prefix("reached_in.") {
                                        row.reached_in
                                            .entry(kind.to_owned())
                                            .or_default()
                                            .push(value);
                                    }
                                }
                            }
                        }
                        Some(("targets", i, field)) => {
                            let row = targets.entry(i).or_default();
                            match field {
                                "metric" => row.metric = value,
                                "priority" => row.priority = value,
                                "hours" => row.hours = value,
                                "minutes" => row.minutes = value,
                                "remove" => row.remove = true,
                                _ => {}
                            }
                        }
                        Some(("escalations", i, field)) => {
                            let row = escalations.entry(i).or_default();
                            match field {
                                "on" => row.on = value,
                                "notify_user_id" => row.notify_user_id = value,
                                "reassign_team_id" => row.reassign_team_id = value,
                                "remove" => row.remove = true,
                                _ => {}
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        // Blank rows and rows marked for removal go; the rest are renumbered in order, as the
        // domain will number them.
        let blank = |texts: &[&str]| texts.iter().all(|t| t.trim().is_empty());
        form.milestones = milestones
            .into_values()
            .filter(|r| {
                !(r.remove
                    || blank(&[&r.name]) && !r.assigned && r.reached_in.values().all(Vec::is_empty))
            })
            .collect();
        form.targets = targets
            .into_values()
            .filter(|r| !(r.remove || blank(&[&r.hours, &r.minutes])))
            .collect();
        form.escalations = escalations
            .into_values()
            .filter(|r| !(r.remove || blank(&[&r.notify_user_id, &r.reassign_team_id])))
            .collect();
        form
    }

    fn of(a: &StoredAgreement) -> AgreementForm {
        let d = &a.draft;
        let id = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        let kind = d.record_kind.as_str().to_owned();
        let pause = d
            .pause_in
            .clone()
            .unwrap_or_else(|| d.record_kind.default_pause());
        AgreementForm {
            name: d.name.clone(),
            kind: d.kind.as_str().to_owned(),
            record_kind: kind.clone(),
            customer_id: id(d.customer_id),
            service_id: id(d.service_id),
            team_id: id(d.team_id),
            supplier: d.supplier.clone(),
            calendar_id: id(d.calendar_id),
            warn_percent: d.warn_percent.to_string(),
            pause_in: default_pauses(Some((&kind, pause))),
            start_in: BTreeMap::from([(kind.clone(), d.start_in.clone())]),
            active: d.active,
            version: a.updated_at.to_string(),
            milestones: d
                .milestones
                .iter()
                .map(|m| MilestoneInput {
                    name: m.name.clone(),
                    reached_in: BTreeMap::from([(kind.clone(), m.reached_in.clone())]),
                    assigned: m.reached_when_assigned,
                    remove: false,
                })
                .collect(),
            targets: d
                .targets
                .iter()
                .map(|t| TargetInput {
                    metric: t.metric.clone(),
                    priority: t
                        .priority
                        .map(|p| p.as_str().to_owned())
                        .unwrap_or_default(),
                    hours: (t.minutes / 60).to_string(),
                    minutes: (t.minutes % 60).to_string(),
                    remove: false,
                })
                .collect(),
            escalations: d
                .escalations
                .iter()
                .map(|e| EscalationInput {
                    on: e.on.as_str().to_owned(),
                    notify_user_id: id(e.notify_user_id),
                    reassign_team_id: id(e.reassign_team_id),
                    remove: false,
                })
                .collect(),
            add: None,
        }
    }

    /// A new agreement: an incident SLA on every record, counting around the clock, with the
    /// two usual targets waiting for their times.
    fn blank() -> AgreementForm {
        let target = |metric: &str| TargetInput {
            metric: metric.into(),
            ..TargetInput::default()
        };
        AgreementForm {
            kind: AgreementKind::Sla.as_str().into(),
            record_kind: RecordKind::Incident.as_str().into(),
            warn_percent: DEFAULT_WARN_PERCENT.to_string(),
            pause_in: default_pauses(None),
            active: true,
            targets: vec![target(FIRST_RESPONSE), target(RESOLUTION)],
            ..AgreementForm::default()
        }
    }

    fn agreement(&self) -> Result<Agreement, Invalid> {
        let mut errors = Invalid::new();
        let kind = AgreementKind::parse(self.kind.trim()).unwrap_or_else(|| {
            errors.add("kind", "Choose SLA, OLA or UC");
            AgreementKind::Sla
        });
        let record_kind = RecordKind::parse(self.record_kind.trim()).unwrap_or_else(|| {
            errors.add("record_kind", "Choose incidents or requests");
            RecordKind::Incident
        });
        let ticked = |by_kind: &BTreeMap<String, Vec<String>>| {
            by_kind
                .get(record_kind.as_str())
                .cloned()
                .unwrap_or_default()
        };
        let warn_percent = self.warn_percent.trim().parse::<u8>().unwrap_or_else(|_| {
            errors.add(
                "warn_percent",
                "The warning threshold is a percentage from 1 to 99",
            );
            DEFAULT_WARN_PERCENT
        });
        let targets = self
            .targets
            .iter()
            .enumerate()
            .map(|(i, t)| Target {
                metric: t.metric.trim().to_owned(),
                priority: match t.priority.trim() {
                    "" | "any" => None,
                    p => Priority::parse(p).or_else(|| {
                        errors.add(
                            &format!("targets[{i}].priority"),
                            "Choose a priority or any",
                        );
                        None
                    }),
                },
                // A duration that cannot be read is reported here; 1 stands in so that the
                // domain does not report it a second time.
                minutes: typed_minutes(&t.hours, &t.minutes).unwrap_or_else(|message| {
                    errors.add(&format!("targets[{i}].minutes"), message);
                    1
                }),
            })
            .collect();
        let escalations = self
            .escalations
            .iter()
            .enumerate()
            .map(|(i, e)| Escalation {
                on: Threshold::parse(e.on.trim()).unwrap_or_else(|| {
                    errors.add(
                        &format!("escalations[{i}].on"),
                        "Choose the warning or the breach",
                    );
                    Threshold::Breach
                }),
                notify_user_id: chosen_id(
                    &mut errors,
                    &format!("escalations[{i}].notify_user_id"),
                    &e.notify_user_id,
                ),
                reassign_team_id: chosen_id(
                    &mut errors,
                    &format!("escalations[{i}].reassign_team_id"),
                    &e.reassign_team_id,
                ),
            })
            .collect();
        let draft = AgreementDraft {
            name: self.name.clone(),
            kind,
            record_kind,
            customer_id: chosen_id(&mut errors, "customer_id", &self.customer_id),
            service_id: chosen_id(&mut errors, "service_id", &self.service_id),
            team_id: chosen_id(&mut errors, "team_id", &self.team_id),
            supplier: self.supplier.clone(),
            calendar_id: chosen_id(&mut errors, "calendar_id", &self.calendar_id),
            warn_percent,
            pause_in: Some(ticked(&self.pause_in)),
            start_in: ticked(&self.start_in),
            milestones: self
                .milestones
                .iter()
                .map(|m| Milestone {
                    name: m.name.trim().to_owned(),
                    reached_in: ticked(&m.reached_in),
                    reached_when_assigned: m.assigned,
                })
                .collect(),
            targets,
            escalations,
            active: self.active,
        };
        match draft.validate() {
            Ok(agreement) if errors.errors.is_empty() => Ok(agreement),
            Ok(_) => Err(errors),
            Err(mut more) => {
                more.errors.extend(errors.errors);
                Err(more)
            }
        }
    }

    fn state(&self) -> FormState {
        FormState::with(&[
            ("name", &self.name),
            ("supplier", &self.supplier),
            ("warn_percent", &self.warn_percent),
        ])
    }
}

/// Each record kind's default pause statuses, with `given` in place of its kind's.
fn default_pauses(given: Option<(&str, Vec<String>)>) -> BTreeMap<String, Vec<String>> {
    let mut all: BTreeMap<String, Vec<String>> = RecordKind::ALL
        .iter()
        .map(|k| (k.as_str().to_owned(), k.default_pause()))
        .collect();
    if let Some((kind, tokens)) = given {
        all.insert(kind.to_owned(), tokens);
    }
    all
}

/// One status checkbox.
pub struct Tick {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

/// The status checkboxes of one record kind, posted under `field`.
pub struct TickGroup {
    pub kind: &'static str,
    pub label: &'static str,
    pub field: String,
    pub ticks: Vec<Tick>,
}

fn tick_groups(prefix: &str, ticked: &BTreeMap<String, Vec<String>>) -> Vec<TickGroup> {
    RecordKind::ALL
        .iter()
        .map(|k| {
            let on = ticked.get(k.as_str());
            TickGroup {
                kind: k.as_str(),
                label: match k {
                    RecordKind::Incident => "For incidents",
                    RecordKind::Request => "For requests",
                },
                field: format!("{prefix}.{}", k.as_str()),
                ticks: k
                    .status_tokens()
                    .into_iter()
                    .map(|t| Tick {
                        label: token_label(&t),
                        checked: on.is_some_and(|list| list.contains(&t)),
                        value: t,
                    })
                    .collect(),
            }
        })
        .collect()
}

pub struct MilestoneRow {
    pub i: usize,
    pub name: String,
    pub groups: Vec<TickGroup>,
    pub assigned: bool,
    pub name_error: Option<String>,
    pub reached_error: Option<String>,
}

pub struct TargetRow {
    pub i: usize,
    pub metrics: Vec<Opt>,
    pub priorities: Vec<Opt>,
    pub hours: String,
    pub minutes: String,
    pub metric_error: Option<String>,
    pub priority_error: Option<String>,
    pub minutes_error: Option<String>,
}

pub struct EscalationRow {
    pub i: usize,
    pub ons: Vec<Opt>,
    pub users: Vec<Opt>,
    pub teams: Vec<Opt>,
    pub error: Option<String>,
    pub on_error: Option<String>,
    pub notify_error: Option<String>,
    pub reassign_error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "agreement_form.html")]
struct FormPage {
    chrome: Chrome,
    heading: String,
    action: String,
    submit: &'static str,
    cancel: String,
    form: FormState,
    version: String,
    kinds: Vec<Opt>,
    record_kinds: Vec<Opt>,
    customers: Vec<Opt>,
    services: Vec<Opt>,
    teams: Vec<Opt>,
    calendars: Vec<Opt>,
    pause_groups: Vec<TickGroup>,
    start_groups: Vec<TickGroup>,
    active: bool,
    milestones: Vec<MilestoneRow>,
    targets: Vec<TargetRow>,
    escalations: Vec<EscalationRow>,
}

struct FormTarget {
    heading: String,
    action: String,
    submit: &'static str,
    cancel: String,
}

fn new_target() -> FormTarget {
    FormTarget {
        heading: "New agreement".into(),
        action: "/agreements".into(),
        submit: "Create agreement",
        cancel: "/agreements".into(),
    }
}

fn edit_target(a: &StoredAgreement) -> FormTarget {
    FormTarget {
        heading: format!("Edit {}", a.draft.name),
        action: format!("/agreements/{}", a.id),
        submit: "Save",
        cancel: format!("/agreements/{}", a.id),
    }
}

async fn render_form(
    state: &AppState,
    who: &Principal,
    target: FormTarget,
    form: &AgreementForm,
    invalid: Option<Invalid>,
    status: StatusCode,
) -> UiResult {
    let names = Lookups::load(state, who).await?;
    let mut shown = form.state();
    if let Some(invalid) = invalid {
        shown = shown.rejected(invalid);
    }
    let error = |path: String| shown.error(&path).map(str::to_owned);
    // Each section ends with a blank row (two when "Add a row" was pressed for it).
    let extra = |section: &str| 1 + usize::from(form.add.as_deref() == Some(section));
    let mut milestones = form.milestones.clone();
    milestones.extend((0..extra("milestones")).map(|_| MilestoneInput::default()));
    let mut targets = form.targets.clone();
    targets.extend((0..extra("targets")).map(|_| TargetInput {
        metric: RESOLUTION.into(),
        ..TargetInput::default()
    }));
    let mut escalations = form.escalations.clone();
    escalations.extend((0..extra("escalations")).map(|_| EscalationInput {
        on: Threshold::Breach.as_str().into(),
        ..EscalationInput::default()
    }));
    // Targets may name the milestones as this form holds them (the script adds names typed
    // since); a metric no longer known is kept as typed, for its error to make sense.
    let mut metrics: Vec<String> = vec![FIRST_RESPONSE.into(), RESOLUTION.into()];
    for m in &form.milestones {
        let name = m.name.trim();
        if !name.is_empty() && !metrics.iter().any(|x| x == name) {
            metrics.push(name.to_owned());
        }
    }
    let milestones = milestones
        .into_iter()
        .enumerate()
        .map(|(i, m)| MilestoneRow {
            i,
            groups: tick_groups(&format!("milestones[{i}].reached_in"), &m.reached_in),
            assigned: m.assigned,
            name_error: error(format!("milestones[{i}].name")),
            reached_error: error(format!("milestones[{i}].reached_in")),
            name: m.name,
        })
        .collect();
    let targets = targets
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let mut choices: Vec<(String, String)> = metrics
                .iter()
                .map(|m| (m.clone(), metric_label(m)))
                .collect();
            let metric = t.metric.trim().to_owned();
            if !metric.is_empty() && !metrics.contains(&metric) {
                choices.push((metric.clone(), metric.clone()));
            }
            let priority = match t.priority.trim() {
                "" => "any".to_owned(),
                p => p.to_owned(),
            };
            TargetRow {
                i,
                metrics: options(choices, &metric),
                priorities: options(
                    std::iter::once(("any".to_owned(), "Any".to_owned())).chain(
                        Priority::ALL
                            .iter()
                            .map(|p| (p.as_str().to_owned(), p.as_str().to_owned())),
                    ),
                    &priority,
                ),
                metric_error: error(format!("targets[{i}].metric")),
                priority_error: error(format!("targets[{i}].priority")),
                minutes_error: error(format!("targets[{i}].minutes")),
                hours: t.hours,
                minutes: t.minutes,
            }
        })
        .collect();
    let escalations = escalations
        .into_iter()
        .enumerate()
        .map(|(i, e)| EscalationRow {
            i,
            ons: options(
                [
                    ("warning".to_owned(), "At the warning".to_owned()),
                    ("breach".to_owned(), "On breach".to_owned()),
                ],
                &e.on,
            ),
            users: Lookups::choices(&names.users, "Nobody", &e.notify_user_id),
            teams: Lookups::choices(&names.teams, "Keep the team", &e.reassign_team_id),
            error: error(format!("escalations[{i}]")),
            on_error: error(format!("escalations[{i}].on")),
            notify_error: error(format!("escalations[{i}].notify_user_id")),
            reassign_error: error(format!("escalations[{i}].reassign_team_id")),
        })
        .collect();
    let page = FormPage {
        chrome: Chrome::new(state, who, "/agreements").await,
        heading: target.heading,
        action: target.action,
        submit: target.submit,
        cancel: target.cancel,
        version: form.version.clone(),
        kinds: options(
            AgreementKind::ALL.iter().map(|k| {
                (
                    k.as_str().to_owned(),
                    format!("{} — {}", kind_label(*k), kind_long(*k)),
                )
            }),
            &form.kind,
        ),
        record_kinds: options(
            RecordKind::ALL
                .iter()
                .map(|k| (k.as_str().to_owned(), records_label(*k).to_owned())),
            &form.record_kind,
        ),
        customers: Lookups::choices(&names.customers, "Any customer", &form.customer_id),
        services: Lookups::choices(&names.services, "Any service", &form.service_id),
        teams: Lookups::choices(&names.teams, "No team", &form.team_id),
        calendars: Lookups::choices(&names.calendars, "24×7 (no calendar)", &form.calendar_id),
        pause_groups: tick_groups("pause_in", &form.pause_in),
        start_groups: tick_groups("start_in", &form.start_in),
        active: form.active,
        milestones,
        targets,
        escalations,
        form: shown,
    };
    Ok((status, page).into_response())
}

pub async fn new_form(State(state): State<AppState>, who: Can<perm::ServicesWrite>) -> UiResult {
    render_form(
        &state,
        &who,
        new_target(),
        &AgreementForm::blank(),
        None,
        StatusCode::OK,
    )
    .await
}

/// A store refusal the form shows: field errors (unknown references, a name in use), and a
/// conflict as an error of the whole form.
fn refused(e: StoreError) -> Result<(Invalid, StatusCode), UiError> {
    match e {
        StoreError::Invalid(invalid) => Ok((invalid, StatusCode::UNPROCESSABLE_ENTITY)),
        StoreError::Conflict(message) => {
            Ok((Invalid::one("version", message), StatusCode::CONFLICT))
        }
        other => Err(other.into()),
    }
}

pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::ServicesWrite>,
    Form(fields): Form<Vec<(String, String)>>,
) -> UiResult {
    let form = AgreementForm::parse(fields);
    if form.add.is_some() {
        return render_form(&state, &who, new_target(), &form, None, StatusCode::OK).await;
    }
    let (invalid, status) = match form.agreement() {
        Ok(agreement) => match state
            .store
            .create_agreement(who.tenant_id(), &agreement, &who.actor())
            .await
        {
            Ok(saved) => {
                return Ok(
                    Redirect::to(&format!("/agreements/{}?done=created", saved.id)).into_response(),
                );
            }
            Err(e) => refused(e)?,
        },
        Err(invalid) => (invalid, StatusCode::UNPROCESSABLE_ENTITY),
    };
    render_form(&state, &who, new_target(), &form, Some(invalid), status).await
}

pub async fn edit_form(
    State(state): State<AppState>,
    who: Can<perm::ServicesWrite>,
    super::Id(id): super::Id<i64>,
) -> UiResult {
    let current = state.store.agreement(who.tenant_id(), id).await?;
    render_form(
        &state,
        &who,
        edit_target(&current),
        &AgreementForm::of(&current),
        None,
        StatusCode::OK,
    )
    .await
}

pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::ServicesWrite>,
    super::Id(id): super::Id<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> UiResult {
    let current = state.store.agreement(who.tenant_id(), id).await?;
    let form = AgreementForm::parse(fields);
    if form.add.is_some() {
        return render_form(
            &state,
            &who,
            edit_target(&current),
            &form,
            None,
            StatusCode::OK,
        )
        .await;
    }
    let seen = form.version.trim().parse().unwrap_or(current.updated_at);
    let (invalid, status) = match form.agreement() {
        Ok(agreement) => match state
            .store
            .update_agreement(who.tenant_id(), id, seen, &agreement, &who.actor())
            .await
        {
            Ok(_) => {
                return Ok(Redirect::to(&format!("/agreements/{id}?done=saved")).into_response());
            }
            Err(e) => refused(e)?,
        },
        Err(invalid) => (invalid, StatusCode::UNPROCESSABLE_ENTITY),
    };
    render_form(
        &state,
        &who,
        edit_target(&current),
        &form,
        Some(invalid),
        status,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::posted_pairs as pairs;

    #[test]
    fn business_time_reads_in_hours_and_minutes() {
        assert_eq!(business_time(45), "45 min");
        assert_eq!(business_time(480), "8 h");
        assert_eq!(business_time(150), "2 h 30 min");
        assert_eq!(business_time(-61), "1 h 1 min");
    }

    #[test]
    fn durations_are_typed_in_hours_and_minutes() {
        assert_eq!(typed_minutes("4", "30"), Ok(270));
        assert_eq!(typed_minutes("", "90"), Ok(90));
        assert_eq!(typed_minutes("2", ""), Ok(120));
        assert_eq!(typed_minutes(" 0 ", "0"), Ok(0));
        assert!(typed_minutes("four", "").is_err());
        assert!(typed_minutes("-1", "").is_err());
        assert!(typed_minutes("99999999", "").is_err());
    }

    #[test]
    fn rows_are_renumbered_and_only_the_chosen_kind_is_read() {
        let form = AgreementForm::parse(pairs(&[
            ("name", "Gold"),
            ("kind", "sla"),
            ("record_kind", "request"),
            ("warn_percent", "80"),
            ("pause_in.incident", "pending:third_party"),
            ("pause_in.request", "pending_approval"),
            ("start_in.incident", "in_progress"),
            ("start_in.request", "in_fulfilment"),
            ("targets[0].metric", "first_response"),
            ("targets[0].priority", "any"),
            ("targets[0].hours", ""),
            ("targets[0].minutes", ""),
            ("targets[1].metric", "resolution"),
            ("targets[1].priority", "any"),
            ("targets[1].hours", "8"),
            ("targets[1].minutes", ""),
            ("escalations[0].on", "breach"),
            ("escalations[0].notify_user_id", ""),
            ("escalations[0].reassign_team_id", ""),
            ("active", "true"),
        ]));
        assert_eq!(
            form.targets.len(),
            1,
            "the blank first-response row is dropped"
        );
        assert!(form.escalations.is_empty());
        let agreement = form.agreement().expect("valid");
        let d = agreement.draft();
        assert_eq!(d.pause_in, Some(vec!["pending_approval".to_owned()]));
        assert_eq!(d.start_in, vec!["in_fulfilment".to_owned()]);
        assert_eq!(d.targets[0].minutes, 480);
        assert_eq!(d.warn_percent, 80);
        assert!(d.active);
    }

    #[test]
    fn errors_are_named_after_the_renumbered_rows() {
        let form = AgreementForm::parse(pairs(&[
            ("name", "Gold"),
            ("kind", "sla"),
            ("record_kind", "incident"),
            ("warn_percent", "75"),
            ("targets[0].metric", "resolution"),
            ("targets[0].hours", ""),
            ("targets[0].minutes", ""),
            ("targets[3].metric", "resolution"),
            ("targets[3].priority", "P1"),
            ("targets[3].hours", "0"),
            ("targets[3].minutes", "0"),
            ("targets[4].metric", "resolution"),
            ("targets[4].priority", "any"),
            ("targets[4].hours", "x"),
        ]));
        let invalid = form.agreement().expect_err("zero and unreadable");
        assert!(
            invalid.message_for("targets[0].minutes").is_some(),
            "{invalid:?}"
        );
        assert_eq!(
            invalid.message_for("targets[1].minutes"),
            Some("Hours and minutes are whole numbers, such as 4 h 30 min")
        );
        let none = AgreementForm::parse(pairs(&[
            ("name", "Empty"),
            ("kind", "sla"),
            ("record_kind", "incident"),
            ("warn_percent", "75"),
        ]))
        .agreement()
        .expect_err("no targets");
        assert!(none.message_for("targets").is_some());
    }

    #[test]
    fn the_matrix_shows_fallbacks_and_the_summary_reads_well() {
        let draft = AgreementDraft::new(
            "Gold",
            AgreementKind::Sla,
            RecordKind::Incident,
            vec![
                Target {
                    metric: RESOLUTION.into(),
                    priority: None,
                    minutes: 480,
                },
                Target {
                    metric: RESOLUTION.into(),
                    priority: Some(Priority::P1),
                    minutes: 120,
                },
                Target {
                    metric: FIRST_RESPONSE.into(),
                    priority: Some(Priority::P1),
                    minutes: 15,
                },
            ],
        );
        assert_eq!(
            targets_summary(&draft),
            "Resolution 8 h (P1 2 h) · First response P1 15 min"
        );
        let agreement = draft.validate().expect("valid");
        let (columns, rows) = matrix(&agreement);
        assert_eq!(columns, ["Any priority", "P1"]);
        assert_eq!(rows[0].metric, "Resolution");
        assert_eq!(rows[0].cells[1].text, "2 h");
        assert!(!rows[0].cells[1].inherited);
        assert_eq!(rows[1].cells[0].text, "—");
        let rule = rule_row(RESOLUTION, &agreement.rule(RESOLUTION));
        assert_eq!(rule.starts, "when the record is opened");
        assert_eq!(rule.pauses, "status is pending awaiting customer");
    }
}
