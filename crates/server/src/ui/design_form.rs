//! The design record's form. Every part of a record is a field people fill in: the four
//! sections, the acceptance checklist as rows (criterion, met, evidence), and the proposal that
//! acceptance carries out: the service's fields, its catalogue item, its SLA's targets by
//! priority, the CIs to create (class, name, status, attributes) and the existing CIs to link.
//! The form keeps what was typed and puts each refusal, its own or the store's, by its field.
//!
//! The agreement settings the form does not show (milestones and their targets, escalations,
//! pause and start statuses, a customer scope, the warning percentage) are kept as they are on
//! an edit, so a proposal written through the API loses nothing here.

use super::cmdb::{ci_from_text, ci_suggestions};
use super::designs::{NAV_HREF, find};
use super::{Chrome, FormState, Opt, UiError, UiResult, options, options_after_blank};
use crate::AppState;
use crate::auth::{Can, Principal, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap};
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::cmdb::CiStatus;
use steward_domain::design::{
    CatalogueProposal, CiProposal, Criterion, DesignDraft, Proposal, ServiceProposal,
};
use steward_domain::incident::Priority;
use steward_domain::service::Criticality;
use steward_domain::sla::{AgreementDraft, AgreementKind, RecordKind, Target, business_time};
use steward_store::PageRequest;
use steward_store::StoreError;
use steward_store::calendar::CalendarFilter;
use steward_store::design::ServiceDesign;
use steward_store::identity::UserFilter;

/// Empty rows offered below the criteria and the new CIs.
const SPARE_ROWS: usize = 2;
/// Empty inputs offered below the CIs to link.
const SPARE_LINKS: usize = 3;
/// The targets the form shows, by metric; milestone targets are kept as they are.
const METRICS: [(&str, &str); 2] = [
    ("first_response", "First response"),
    ("resolution", "Resolution"),
];
/// The target column for any priority without a target of its own.
const ANY: &str = "any";
const CRITERION: &str = "criterion.";
const NEW_CI: &str = "new_ci.";

const FIELDS: [&str; 18] = [
    "title",
    "target_service_id",
    "requirements",
    "design",
    "resources",
    "transition_plan",
    "updated_at",
    "service.name",
    "service.description",
    "service.criticality",
    "service.owner_id",
    "catalogue.item_id",
    "catalogue.name",
    "catalogue.description",
    "catalogue.category",
    "sla.name",
    "sla.record_kind",
    "sla.calendar_id",
];

/// What the form posts: fields by name, rows as `criterion.N.part` and `new_ci.N.part`, SLA
/// targets as `sla.<metric>.<P1…P5|any>`, and the CIs to link as repeated `link_ci` inputs.
#[derive(Debug, Default)]
struct DesignForm {
    fields: HashMap<String, String>,
    links: Vec<String>,
}

impl DesignForm {
    fn posted(pairs: Vec<(String, String)>) -> DesignForm {
        let mut form = DesignForm::default();
        for (k, v) in pairs {
            if k == "link_ci" {
                form.links.push(v);
            } else if FIELDS.contains(&k.as_str())
                || k.starts_with(CRITERION)
                || k.starts_with(NEW_CI)
                || k.starts_with("sla.")
            {
                form.fields.insert(k, v);
            }
        }
        // Rows are numbered afresh without the blank ones, so row N is the draft's item N and
        // a refusal about item N lands on the row that was typed.
        compact(&mut form.fields, CRITERION, &["text", "met", "evidence"], 3);
        compact(
            &mut form.fields,
            NEW_CI,
            &["class_id", "name", "attributes", "status"],
            3,
        );
        form.links.retain(|l| !l.trim().is_empty());
        form
    }

    fn blank() -> DesignForm {
        let mut form = DesignForm::default();
        form.set("service.criticality", Criticality::default().as_str());
        form.set("sla.record_kind", RecordKind::Incident.as_str());
        form
    }

    /// The form as a stored record fills it in, for editing.
    async fn of(state: &AppState, who: &Principal, d: &ServiceDesign) -> Result<Self, UiError> {
        let mut form = DesignForm::blank();
        let id_text = |id: Option<i64>| id.map(|i| i.to_string()).unwrap_or_default();
        form.set("title", &d.title);
        form.set("target_service_id", &id_text(d.target_service_id));
        form.set("requirements", &d.requirements);
        form.set("design", &d.design);
        form.set("resources", &d.resources);
        form.set("transition_plan", &d.transition_plan);
        form.set("updated_at", &d.updated_at.to_string());
        for (i, c) in d.criteria.iter().enumerate() {
            form.set(&format!("{CRITERION}{i}.text"), &c.text);
            form.set(
                &format!("{CRITERION}{i}.met"),
                if c.met { "on" } else { "" },
            );
            form.set(&format!("{CRITERION}{i}.evidence"), &c.evidence);
        }
        let p = &d.proposal;
        if let Some(s) = &p.service {
            form.set("service.name", &s.name);
            form.set("service.description", &s.description);
            form.set("service.criticality", s.criticality.as_str());
            form.set("service.owner_id", &id_text(s.owner_id));
        }
        if let Some(c) = &p.catalogue {
            form.set("catalogue.item_id", &id_text(c.item_id));
            form.set("catalogue.name", &c.name);
            form.set("catalogue.description", &c.description);
            form.set("catalogue.category", &c.category);
        }
        if let Some(a) = &p.agreement {
            form.set("sla.name", &a.name);
            form.set("sla.record_kind", a.record_kind.as_str());
            form.set("sla.calendar_id", &id_text(a.calendar_id));
            for t in a.targets.iter().filter(|t| shown_metric(&t.metric)) {
                let column = t.priority.map_or(ANY, Priority::as_str);
                form.set(
                    &target_field(&t.metric, column),
                    &business_time::words(i64::from(t.minutes)),
                );
            }
        }
        for (i, ci) in p.new_cis.iter().enumerate() {
            form.set(&format!("{NEW_CI}{i}.class_id"), &ci.class_id.to_string());
            form.set(&format!("{NEW_CI}{i}.name"), &ci.name);
            form.set(&format!("{NEW_CI}{i}.status"), ci.status.as_str());
            form.set(
                &format!("{NEW_CI}{i}.attributes"),
                &attributes_text(&ci.attributes),
            );
        }
        for id in &p.link_ci_ids {
            match state.store.ci(who.tenant_id(), *id).await {
                Ok(ci) => form.links.push(format!("{} #{id}", ci.name)),
                Err(StoreError::NotFound) => form.links.push(format!("#{id}")),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(form)
    }

    fn set(&mut self, name: &str, value: &str) {
        self.fields.insert(name.to_owned(), value.to_owned());
    }

    fn get(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }

    fn blank_all(&self, names: &[&str]) -> bool {
        names.iter().all(|n| self.get(n).trim().is_empty())
    }

    fn state(&self) -> FormState {
        let pairs: Vec<(&str, &str)> = self
            .fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        FormState::with(&pairs)
    }

    /// The CIs to link, by name or number; each one not found is an error under `link_cis`.
    async fn link_ids(
        &self,
        state: &AppState,
        who: &Principal,
        errors: &mut Invalid,
    ) -> Result<Vec<i64>, UiError> {
        let mut ids = Vec::new();
        for text in &self.links {
            match ci_from_text(state, who.tenant_id(), "link_cis", text).await {
                Ok(id) => ids.push(id),
                Err(StoreError::Invalid(invalid)) => errors.errors.extend(invalid.errors),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(ids)
    }

    /// The draft the form describes, validated, with every problem under the form's own field
    /// names. `kept` is the agreement as stored, whose unshown settings an edit keeps.
    async fn draft(
        &self,
        state: &AppState,
        who: &Principal,
        kept: Option<&AgreementDraft>,
    ) -> Result<Result<DesignDraft, Invalid>, UiError> {
        let mut errors = Invalid::new();
        let link_ci_ids = self.link_ids(state, who, &mut errors).await?;
        let target_service_id = chosen_id(
            &mut errors,
            "target_service_id",
            self.get("target_service_id"),
        );
        let proposal = Proposal {
            service: self.service(&mut errors),
            catalogue: self.catalogue(&mut errors),
            agreement: self.agreement(kept, &mut errors),
            new_cis: self.new_cis(&mut errors),
            link_ci_ids,
        };
        let draft = DesignDraft {
            title: self.get("title").to_owned(),
            target_service_id,
            requirements: self.get("requirements").to_owned(),
            design: self.get("design").to_owned(),
            resources: self.get("resources").to_owned(),
            transition_plan: self.get("transition_plan").to_owned(),
            criteria: self.criteria(),
            proposal,
        };
        Ok(match draft.validate() {
            Ok(d) => errors.into_result(d),
            Err(e) => {
                errors.errors.extend(relabel(e).errors);
                Err(errors)
            }
        })
    }

    fn criteria(&self) -> Vec<Criterion> {
        (0..row_count(&self.fields, CRITERION))
            .map(|i| Criterion {
                text: self.get(&format!("{CRITERION}{i}.text")).to_owned(),
                met: !self.get(&format!("{CRITERION}{i}.met")).is_empty(),
                evidence: self.get(&format!("{CRITERION}{i}.evidence")).to_owned(),
            })
            .collect()
    }

    /// `None` while neither a name nor a description is given: the service is kept as it is.
    fn service(&self, errors: &mut Invalid) -> Option<ServiceProposal> {
        if self.blank_all(&["service.name", "service.description"]) {
            return None;
        }
        let criticality = Criticality::parse(self.get("service.criticality").trim())
            .unwrap_or_else(|| {
                errors.add("service.criticality", "Choose a criticality from the list");
                Criticality::default()
            });
        Some(ServiceProposal {
            name: self.get("service.name").to_owned(),
            description: self.get("service.description").to_owned(),
            criticality,
            owner_id: chosen_id(errors, "service.owner_id", self.get("service.owner_id")),
        })
    }

    fn catalogue(&self, errors: &mut Invalid) -> Option<CatalogueProposal> {
        let parts = [
            "catalogue.item_id",
            "catalogue.name",
            "catalogue.description",
            "catalogue.category",
        ];
        if self.blank_all(&parts) {
            return None;
        }
        Some(CatalogueProposal {
            item_id: chosen_id(errors, "catalogue.item_id", self.get("catalogue.item_id")),
            name: self.get("catalogue.name").to_owned(),
            description: self.get("catalogue.description").to_owned(),
            category: self.get("catalogue.category").to_owned(),
        })
    }

    /// The SLA: `None` while it has neither a name nor a target.
    fn agreement(
        &self,
        kept: Option<&AgreementDraft>,
        errors: &mut Invalid,
    ) -> Option<AgreementDraft> {
        let mut targets = Vec::new();
        let mut typed = false;
        for (metric, label) in METRICS {
            for (column, priority) in columns() {
                let field = target_field(metric, column);
                let text = self.get(&field).trim();
                if text.is_empty() {
                    continue;
                }
                typed = true;
                match business_time::parse(text) {
                    Some(minutes) => targets.push(Target {
                        metric: metric.to_owned(),
                        priority,
                        minutes,
                    }),
                    None => errors.add(
                        &field,
                        format!(
                            "{label} for {}: write a time such as 4 h, 30 min or 1 h 30 min",
                            column_label(column)
                        ),
                    ),
                }
            }
        }
        let name = self.get("sla.name").trim();
        if name.is_empty() && !typed {
            return None;
        }
        let record_kind =
            RecordKind::parse(self.get("sla.record_kind").trim()).unwrap_or_else(|| {
                errors.add("sla.record_kind", "Choose incidents or requests");
                RecordKind::Incident
            });
        let mut agreement = match kept {
            Some(k) if k.record_kind == record_kind => k.clone(),
            // Pause and start statuses and milestones belong to one kind of record.
            Some(k) => AgreementDraft {
                escalations: k.escalations.clone(),
                customer_id: k.customer_id,
                warn_percent: k.warn_percent,
                ..AgreementDraft::new(name, AgreementKind::Sla, record_kind, Vec::new())
            },
            None => AgreementDraft::new(name, AgreementKind::Sla, record_kind, Vec::new()),
        };
        agreement.name = name.to_owned();
        agreement.calendar_id = chosen_id(errors, "sla.calendar_id", self.get("sla.calendar_id"));
        agreement.targets.retain(|t| !shown_metric(&t.metric));
        agreement.targets.extend(targets);
        Some(agreement)
    }

    fn new_cis(&self, errors: &mut Invalid) -> Vec<CiProposal> {
        (0..row_count(&self.fields, NEW_CI))
            .map(|i| {
                let at = |part: &str| format!("{NEW_CI}{i}.{part}");
                let class_id = match self.get(&at("class_id")).trim() {
                    "" => 0,
                    text => text.parse().unwrap_or_else(|_| {
                        errors.add(&at("class_id"), "Choose a class from the list");
                        0
                    }),
                };
                let status = CiStatus::parse(self.get(&at("status")).trim()).unwrap_or_else(|| {
                    errors.add(&at("status"), "Choose a status from the list");
                    CiStatus::InUse
                });
                let attributes =
                    parse_attributes(self.get(&at("attributes"))).unwrap_or_else(|message| {
                        errors.add(&at("attributes"), message);
                        Map::new()
                    });
                CiProposal {
                    class_id,
                    name: self.get(&at("name")).to_owned(),
                    status,
                    attributes,
                }
            })
            .collect()
    }
}

/// `sla.<metric>.<column>`.
fn target_field(metric: &str, column: &str) -> String {
    format!("sla.{metric}.{column}")
}

fn shown_metric(metric: &str) -> bool {
    METRICS.iter().any(|(m, _)| *m == metric)
}

/// The target columns: one per priority, then any other priority.
fn columns() -> impl Iterator<Item = (&'static str, Option<Priority>)> {
    Priority::ALL
        .iter()
        .map(|p| (p.as_str(), Some(*p)))
        .chain(std::iter::once((ANY, None)))
}

fn column_label(column: &str) -> &str {
    if column == ANY {
        "any other priority"
    } else {
        column
    }
}

/// An id from a select: blank is none; anything but a number is an error under `field`.
fn chosen_id(errors: &mut Invalid, field: &str, text: &str) -> Option<i64> {
    match text.trim() {
        "" => None,
        t => t.parse().ok().or_else(|| {
            errors.add(field, "Choose from the list");
            None
        }),
    }
}

/// The row numbers present under `prefix` (`prefix` N `.part`), in order.
fn row_numbers(fields: &HashMap<String, String>, prefix: &str) -> BTreeSet<usize> {
    fields
        .keys()
        .filter_map(|k| k.strip_prefix(prefix)?.split_once('.')?.0.parse().ok())
        .collect()
}

/// How many rows there are under `prefix`, once [`compact`] has numbered them 0, 1, 2…
fn row_count(fields: &HashMap<String, String>, prefix: &str) -> usize {
    row_numbers(fields, prefix).last().map_or(0, |n| n + 1)
}

/// Numbers the rows under `prefix` 0, 1, 2… in their order, leaving out those whose first
/// `significant` parts are all blank (a select that always posts a value does not count).
fn compact(fields: &mut HashMap<String, String>, prefix: &str, parts: &[&str], significant: usize) {
    let mut rows = Vec::new();
    for n in row_numbers(fields, prefix) {
        let values: Vec<String> = parts
            .iter()
            .map(|p| {
                fields
                    .remove(&format!("{prefix}{n}.{p}"))
                    .unwrap_or_default()
            })
            .collect();
        if values[..significant].iter().any(|v| !v.trim().is_empty()) {
            rows.push(values);
        }
    }
    fields.retain(|k, _| !k.starts_with(prefix));
    for (i, values) in rows.into_iter().enumerate() {
        for (p, v) in parts.iter().zip(values) {
            fields.insert(format!("{prefix}{i}.{p}"), v);
        }
    }
}

/// One attribute a line, `name: value` (or `name = value`); the class's schema types them.
fn parse_attributes(text: &str) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once([':', '=']) else {
            return Err(format!(
                "“{line}” is not an attribute: write one a line as name: value"
            ));
        };
        let value = value.trim();
        let value = if value.is_empty() {
            Value::Null
        } else {
            Value::String(value.to_owned())
        };
        out.insert(name.trim().to_owned(), value);
    }
    Ok(out)
}

fn attributes_text(attributes: &Map<String, Value>) -> String {
    attributes
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k}: {s}"),
            other => format!("{k}: {other}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The form field a draft's (or the store's) error belongs to.
fn form_field(field: &str) -> String {
    if let Some((i, part)) = indexed(field, "criteria[") {
        let part = if part == "evidence" {
            "evidence"
        } else {
            "text"
        };
        return format!("{CRITERION}{i}.{part}");
    }
    let Some(rest) = field.strip_prefix("proposal.") else {
        return field.to_owned();
    };
    if let Some((i, part)) = indexed(rest, "new_cis[") {
        let part = match part {
            "name" | "class_id" | "status" => part,
            _ => "attributes",
        };
        return format!("{NEW_CI}{i}.{part}");
    }
    if rest.starts_with("service.") || rest.starts_with("catalogue.") {
        return rest.to_owned();
    }
    match rest.strip_prefix("agreement.") {
        Some(part @ ("name" | "record_kind" | "calendar_id")) => format!("sla.{part}"),
        Some(_) => "sla".to_owned(),
        None if rest.starts_with("link_ci_ids") => "link_cis".to_owned(),
        None => rest.to_owned(),
    }
}

/// `N` and the first part after `prefix N ].` (empty when there is none).
fn indexed<'a>(field: &'a str, prefix: &str) -> Option<(usize, &'a str)> {
    let (n, rest) = field.strip_prefix(prefix)?.split_once(']')?;
    let part = rest.strip_prefix('.').unwrap_or(rest);
    let part = part.split(['.', '[']).next().unwrap_or_default();
    Some((n.parse().ok()?, part))
}

fn relabel(e: Invalid) -> Invalid {
    let mut out = Invalid::new();
    for f in e.errors {
        out.add(&form_field(&f.field), f.message);
    }
    out
}

pub struct CriterionRow {
    pub text: String,
    pub met: String,
    pub evidence: String,
    pub checked: bool,
}

pub struct CiRow {
    pub class_id: String,
    pub name: String,
    pub status: String,
    pub attributes: String,
    pub classes: Vec<Opt>,
    pub statuses: Vec<Opt>,
}

pub struct TargetRow {
    pub label: &'static str,
    /// Field names, one per column.
    pub cells: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "designs/form.html")]
struct FormPage {
    chrome: Chrome,
    /// `None` for a new record.
    key: Option<String>,
    form: FormState,
    targets: Vec<Opt>,
    criteria: Vec<CriterionRow>,
    criticalities: Vec<Opt>,
    owners: Vec<Opt>,
    items: Vec<Opt>,
    record_kinds: Vec<Opt>,
    calendars: Vec<Opt>,
    columns: Vec<&'static str>,
    target_rows: Vec<TargetRow>,
    new_cis: Vec<CiRow>,
    links: Vec<String>,
    candidates: Vec<String>,
}

const PICKER: PageRequest = PageRequest {
    limit: Some(500),
    cursor: None,
};

async fn owner_names(state: &AppState, who: &Principal) -> Result<Vec<(i64, String)>, UiError> {
    if !who.can(Permission::UsersRead) {
        return Ok(Vec::new());
    }
    let filter = UserFilter {
        active: Some(true),
        sort: Some("name".into()),
        ..Default::default()
    };
    let users = state.store.users(who.tenant_id(), &filter, &PICKER).await?;
    Ok(users.items.into_iter().map(|u| (u.id, u.name)).collect())
}

fn id_options(blank: &str, list: Vec<(i64, String)>, current: &str) -> Vec<Opt> {
    options_after_blank(
        blank,
        list.into_iter().map(|(id, n)| (id.to_string(), n)),
        current,
    )
}

async fn form_page(
    state: &AppState,
    who: &Principal,
    key: Option<String>,
    form: &DesignForm,
    errors: Option<Invalid>,
    status: StatusCode,
) -> UiResult {
    let t = who.tenant_id();
    let shown = match errors {
        Some(e) => form.state().rejected(e),
        None => form.state(),
    };
    let services = super::service_names(state, who).await?;
    let items = state.store.items(t, false).await?;
    let calendars = state
        .store
        .calendars(t, &CalendarFilter::default(), &PICKER)
        .await?
        .items;
    let classes: Vec<(i64, String)> = state
        .store
        .ci_classes(t)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let criteria = (0..row_count(&form.fields, CRITERION) + SPARE_ROWS)
        .map(|i| {
            let at = |part: &str| format!("{CRITERION}{i}.{part}");
            CriterionRow {
                checked: !form.get(&at("met")).is_empty(),
                text: at("text"),
                met: at("met"),
                evidence: at("evidence"),
            }
        })
        .collect();
    let new_cis = (0..row_count(&form.fields, NEW_CI) + SPARE_ROWS)
        .map(|i| {
            let at = |part: &str| format!("{NEW_CI}{i}.{part}");
            let status = match form.get(&at("status")) {
                "" => CiStatus::InUse.as_str(),
                s => s,
            };
            CiRow {
                classes: id_options("— class —", classes.clone(), form.get(&at("class_id"))),
                statuses: options(
                    CiStatus::ALL.iter().map(|s| {
                        (
                            s.as_str().to_owned(),
                            super::cmdb::status_label(*s).to_owned(),
                        )
                    }),
                    status,
                ),
                class_id: at("class_id"),
                name: at("name"),
                status: at("status"),
                attributes: at("attributes"),
            }
        })
        .collect();
    let mut links = form.links.clone();
    links.extend(std::iter::repeat_n(String::new(), SPARE_LINKS));
    let page = FormPage {
        chrome: Chrome::new(state, who, NAV_HREF).await,
        key,
        targets: id_options("— a new service —", services, form.get("target_service_id")),
        criticalities: options(
            Criticality::ALL
                .iter()
                .map(|c| (c.as_str().to_owned(), c.as_str().to_owned())),
            form.get("service.criticality"),
        ),
        owners: id_options(
            "— nobody yet —",
            owner_names(state, who).await?,
            form.get("service.owner_id"),
        ),
        items: id_options(
            "— a new item —",
            items
                .into_iter()
                .map(|i| (i.id, format!("{} ({})", i.name, i.category)))
                .collect(),
            form.get("catalogue.item_id"),
        ),
        record_kinds: options(
            [("incident", "Incidents"), ("request", "Service requests")]
                .map(|(v, l)| (v.to_owned(), l.to_owned())),
            form.get("sla.record_kind"),
        ),
        calendars: id_options(
            "— around the clock (24×7) —",
            calendars.into_iter().map(|c| (c.id, c.name)).collect(),
            form.get("sla.calendar_id"),
        ),
        columns: columns().map(|(c, _)| column_label(c)).collect(),
        target_rows: METRICS
            .iter()
            .map(|(metric, label)| TargetRow {
                label,
                cells: columns().map(|(c, _)| target_field(metric, c)).collect(),
            })
            .collect(),
        criteria,
        new_cis,
        links,
        candidates: ci_suggestions(state, t, &[]).await?,
        form: shown,
    };
    Ok((status, page).into_response())
}

fn saved(key: &str, done: &str) -> Response {
    Redirect::to(&format!("/designs/{key}?done={done}")).into_response()
}

/// `GET /designs/new`.
pub async fn new_form(State(state): State<AppState>, who: Can<perm::DesignWrite>) -> UiResult {
    let form = DesignForm::blank();
    form_page(&state, &who, None, &form, None, StatusCode::OK).await
}

/// `POST /designs`: opens a record, or shows the form again with every error at once.
pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::DesignWrite>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> UiResult {
    let form = DesignForm::posted(pairs);
    let refused = match form.draft(&state, &who, None).await? {
        Ok(draft) => match state
            .store
            .create_design(who.tenant_id(), &draft, None, &who.actor())
            .await
        {
            Ok(d) => return Ok(saved(&d.key(), "created")),
            Err(StoreError::Invalid(e)) => relabel(e),
            Err(e) => return Err(e.into()),
        },
        Err(e) => e,
    };
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    form_page(&state, &who, None, &form, Some(refused), status).await
}

/// `GET /designs/{key}/edit`.
pub async fn edit_form(
    State(state): State<AppState>,
    who: Can<perm::DesignWrite>,
    Path(key): Path<String>,
) -> UiResult {
    let d = find(&state, &who, &key).await?;
    let form = DesignForm::of(&state, &who, &d).await?;
    form_page(&state, &who, Some(d.key()), &form, None, StatusCode::OK).await
}

/// `POST /designs/{key}`: saves an edit made on the record as it was read (`updated_at`), or
/// shows the form again; saving again after "saved meanwhile" overwrites on purpose.
pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::DesignWrite>,
    Path(key): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> UiResult {
    let current = find(&state, &who, &key).await?;
    let mut form = DesignForm::posted(pairs);
    let seen = form
        .get("updated_at")
        .trim()
        .parse()
        .unwrap_or(current.updated_at);
    let kept = current.proposal.agreement.as_ref();
    let refused = match form.draft(&state, &who, kept).await? {
        Ok(draft) => match state
            .store
            .update_design(who.tenant_id(), current.id, seen, &draft, &who.actor())
            .await
        {
            Ok(d) => return Ok(saved(&d.key(), "saved")),
            Err(StoreError::Invalid(e)) => relabel(e),
            Err(StoreError::Conflict(message)) => {
                form.set("updated_at", &current.updated_at.to_string());
                Invalid::one("updated_at", message)
            }
            Err(e) => return Err(e.into()),
        },
        Err(e) => e,
    };
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    form_page(
        &state,
        &who,
        Some(current.key()),
        &form,
        Some(refused),
        status,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::posted_pairs as pairs;

    #[test]
    fn blank_rows_are_left_out_and_the_rest_numbered_afresh() {
        let form = DesignForm::posted(pairs(&[
            ("criterion.0.text", ""),
            ("criterion.0.evidence", ""),
            ("criterion.1.text", "Load test passes"),
            ("criterion.1.met", "on"),
            ("criterion.1.evidence", "TR-7"),
            ("new_ci.0.class_id", ""),
            ("new_ci.0.name", ""),
            ("new_ci.0.status", "in_use"),
            ("new_ci.5.class_id", "3"),
            ("new_ci.5.name", "vc-gw-1"),
            ("new_ci.5.status", "planned"),
            ("link_ci", ""),
            ("link_ci", "core-sw #4"),
            ("unknown", "ignored"),
        ]));
        assert_eq!(
            form.criteria(),
            vec![Criterion {
                text: "Load test passes".into(),
                met: true,
                evidence: "TR-7".into()
            }]
        );
        let mut errors = Invalid::new();
        let cis = form.new_cis(&mut errors);
        assert!(errors.errors.is_empty());
        assert_eq!(cis.len(), 1);
        assert_eq!((cis[0].class_id, cis[0].name.as_str()), (3, "vc-gw-1"));
        assert_eq!(cis[0].status, CiStatus::Planned);
        assert_eq!(form.links, vec!["core-sw #4".to_owned()]);
        assert_eq!(form.get("unknown"), "");
    }

    #[test]
    fn sla_targets_are_read_by_priority_and_keep_what_the_form_does_not_show() {
        let form = DesignForm::posted(pairs(&[
            ("sla.name", "Video SLA"),
            ("sla.record_kind", "incident"),
            ("sla.first_response.P1", "15 min"),
            ("sla.resolution.P1", "4 h"),
            ("sla.resolution.any", "2 h 30 min"),
        ]));
        let mut kept = AgreementDraft::new(
            "Old",
            AgreementKind::Sla,
            RecordKind::Incident,
            vec![
                Target {
                    metric: "resolution".into(),
                    priority: None,
                    minutes: 60,
                },
                Target {
                    metric: "on_site".into(),
                    priority: None,
                    minutes: 90,
                },
            ],
        );
        kept.warn_percent = 60;
        let mut errors = Invalid::new();
        let a = form.agreement(Some(&kept), &mut errors).expect("an SLA");
        assert!(errors.errors.is_empty(), "{errors:?}");
        assert_eq!(a.name, "Video SLA");
        assert_eq!(a.warn_percent, 60, "unshown setting kept");
        let mut got: Vec<(String, Option<Priority>, u32)> = a
            .targets
            .iter()
            .map(|t| (t.metric.clone(), t.priority, t.minutes))
            .collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                ("first_response".into(), Some(Priority::P1), 15),
                ("on_site".into(), None, 90),
                ("resolution".into(), None, 150),
                ("resolution".into(), Some(Priority::P1), 240),
            ]
        );
    }

    #[test]
    fn an_unreadable_target_says_how_to_write_one() {
        let form = DesignForm::posted(pairs(&[
            ("sla.name", "Video SLA"),
            ("sla.record_kind", "incident"),
            ("sla.resolution.P2", "4"),
        ]));
        let mut errors = Invalid::new();
        form.agreement(None, &mut errors);
        assert_eq!(errors.errors.len(), 1);
        assert_eq!(errors.errors[0].field, "sla.resolution.P2");
        assert!(errors.errors[0].message.contains("4 h, 30 min"));
    }

    #[test]
    fn no_sla_while_it_has_neither_name_nor_target() {
        let form = DesignForm::posted(pairs(&[("sla.record_kind", "incident")]));
        assert!(form.agreement(None, &mut Invalid::new()).is_none());
    }

    #[test]
    fn attributes_are_read_one_a_line() {
        let map = parse_attributes("ram_gb: 16\n\nhostname = vc-gw-1\nnote:").expect("parsed");
        assert_eq!(map["ram_gb"], Value::String("16".into()));
        assert_eq!(map["hostname"], Value::String("vc-gw-1".into()));
        assert_eq!(map["note"], Value::Null);
        assert_eq!(attributes_text(&map), "hostname: vc-gw-1\nram_gb: 16");
        assert!(parse_attributes("just words").is_err());
    }

    #[test]
    fn refusals_land_on_the_fields_that_were_typed() {
        for (from, to) in [
            ("title", "title"),
            ("criteria[2].evidence", "criterion.2.evidence"),
            ("criteria[0].text", "criterion.0.text"),
            ("proposal.service.name", "service.name"),
            ("proposal.catalogue.category", "catalogue.category"),
            ("proposal.agreement.name", "sla.name"),
            ("proposal.agreement.targets[0].minutes", "sla"),
            ("proposal.new_cis[1].name", "new_ci.1.name"),
            (
                "proposal.new_cis[1].attributes.ram_gb",
                "new_ci.1.attributes",
            ),
            ("proposal.link_ci_ids", "link_cis"),
        ] {
            assert_eq!(form_field(from), to, "{from}");
        }
    }
}
