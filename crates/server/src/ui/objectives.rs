//! Service management objectives: the list with where each stands, the form that sets and
//! edits one, and its page with twelve months of readings as a bar chart against the target and,
//! for an objective measured by hand, the form that records a month's value.

use super::people::People;
use super::register_form::{Field, Input, Posted, Register, chosen, form, joined, number, picked};
use super::{Chrome, FormState, Id, ListFrame, Opt, UiResult, filter_choices, options, when};
use crate::AppState;
use crate::api::date_out;
use crate::api::objectives::{draft_from, month_from, readings_of};
use crate::auth::{Can, Principal, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::sms::objective::{
    Direction, Kpi, ObjectiveDraft, ObjectiveStatus, Reading, Standing,
};
use steward_store::Actor;
use steward_store::asset::today_utc;
use steward_store::sms::objective::{Objective, ObjectiveFilter};
use steward_store::{PageRequest, StoreError};

pub const NAV_HREF: &str = "/objectives";

/// A number as people read it: no trailing zeros, at most two decimals.
pub fn figure(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn target_words(o: &Objective) -> String {
    let unit = if o.unit.is_empty() {
        String::new()
    } else if o.unit == "%" {
        "%".to_owned()
    } else {
        format!(" {}", o.unit)
    };
    format!("{} {}{unit}", o.direction.label(), figure(o.target))
}

pub struct Row {
    pub id: i64,
    pub title: String,
    pub kpi: &'static str,
    pub target: String,
    pub latest: String,
    pub standing: &'static str,
    pub standing_code: &'static str,
    pub owner: String,
    pub status: &'static str,
    pub due_date: String,
}

fn standing_code(s: Standing) -> &'static str {
    match s {
        Standing::OnTarget => "on_target",
        Standing::OffTarget => "off_target",
        Standing::Unmeasured => "unmeasured",
    }
}

fn latest(readings: &[Reading], o: &Objective) -> String {
    readings
        .iter()
        .rev()
        .find_map(|r| r.value.map(|v| (r.month, v)))
        .map_or_else(
            || "—".to_owned(),
            |(month, v)| format!("{} {} ({})", figure(v), o.unit, month.strftime("%b %Y")),
        )
}

#[derive(Template, WebTemplate)]
#[template(path = "sms/objectives_list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    statuses: Vec<Opt>,
    filtered: bool,
    next: Option<String>,
    can_write: bool,
    no_errors: FormState,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    status: String,
    cursor: Option<String>,
    done: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    Query(q): Query<ListQuery>,
) -> UiResult {
    let t = who.tenant_id();
    let filter = ObjectiveFilter {
        status: ObjectiveStatus::parse(q.status.trim()),
    };
    let page = PageRequest {
        limit: Some(50),
        cursor: q.cursor.clone(),
    };
    let found = match state.store.objectives(t, &filter, &page).await {
        Err(StoreError::Invalid(_)) => return Ok(Redirect::to(NAV_HREF).into_response()),
        other => other?,
    };
    let people = People::of(&state, t).await?;
    let mut rows = Vec::new();
    for o in found.items {
        let (readings, standing) = readings_of(&state, t, &o).await?;
        rows.push(Row {
            latest: latest(&readings, &o),
            target: target_words(&o),
            standing: standing.label(),
            standing_code: standing_code(standing),
            kpi: o.kpi.label(),
            owner: people.name(o.owner_id),
            status: o.status.label(),
            due_date: o.due_date.map(date_out).unwrap_or_default(),
            id: o.id,
            title: o.title,
        });
    }
    let params = [("status", q.status.as_str())];
    let frame = ListFrame::new(
        &state,
        &who,
        NAV_HREF,
        &params,
        found.next_cursor,
        q.done.as_deref(),
    )
    .await;
    Ok(ListPage {
        chrome: frame.chrome,
        rows,
        statuses: filter_choices(
            ObjectiveStatus::ALL,
            "— any status —",
            ObjectiveStatus::as_str,
            ObjectiveStatus::label,
            &q.status,
        ),
        filtered: frame.filtered,
        next: frame.next,
        can_write: who.can(Permission::SmsWrite),
        no_errors: FormState::default(),
    }
    .into_response())
}

const FIELDS: [&str; 9] = [
    "title",
    "description",
    "kpi",
    "direction",
    "target",
    "unit",
    "owner_id",
    "due_date",
    "status",
];

fn fields(form: &FormState, people: &People) -> Vec<Field> {
    let kpis = options(
        Kpi::ALL
            .iter()
            .map(|k| (k.as_str().to_owned(), k.label().to_owned())),
        form.value("kpi"),
    );
    let directions = options(
        Direction::ALL
            .iter()
            .map(|d| (d.as_str().to_owned(), format!("The value is {}", d.label()))),
        form.value("direction"),
    );
    let statuses = options(
        ObjectiveStatus::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), s.label().to_owned())),
        form.value("status"),
    );
    vec![
        Field::new("title", "Objective", Input::Text).required(),
        Field::new("description", "Why it matters", Input::Area),
        Field::new("kpi", "Measured by", Input::Select(kpis))
            .hint("Steward computes SLA attainment, change success and major incidents from its own records each month."),
        Field::new("direction", "Target is met when", Input::Select(directions)),
        Field::new("target", "Target", Input::Number).required(),
        Field::new("unit", "Unit (for values measured by hand)", Input::Text)
            .hint("Such as %, days or points."),
        Field::new(
            "owner_id",
            "Owner",
            Input::Select(people.options("— choose the owner —", form.value("owner_id"))),
        ),
        Field::new("due_date", "To be achieved by", Input::Date),
        Field::new("status", "Status", Input::Select(statuses)),
    ]
}

fn draft_of(p: &Posted) -> Result<ObjectiveDraft, Invalid> {
    let mut errors = Invalid::new();
    let kpi = chosen(&mut errors, "kpi", p.get("kpi"), Kpi::parse);
    let direction = chosen(
        &mut errors,
        "direction",
        p.get("direction"),
        Direction::parse,
    );
    let status = chosen(
        &mut errors,
        "status",
        p.get("status"),
        ObjectiveStatus::parse,
    );
    let target = number(&mut errors, "target", "The target", p.get("target"));
    if target.is_none() && p.get("target").trim().is_empty() {
        errors.add("target", "The target is required");
    }
    let owner_id = picked(&mut errors, "owner_id", p.get("owner_id"));
    let (Some(kpi), Some(direction), Some(status)) = (kpi, direction, status) else {
        return Err(errors);
    };
    let draft = ObjectiveDraft {
        title: p.get("title").to_owned(),
        description: p.get("description").to_owned(),
        kpi,
        direction,
        target: target.unwrap_or(0.0),
        unit: p.get("unit").to_owned(),
        owner_id,
        due_date: None,
        status,
    };
    joined(errors, draft_from(draft, p.get("due_date")))
}

fn values_of(o: &Objective) -> Vec<(&'static str, String)> {
    vec![
        ("title", o.title.clone()),
        ("description", o.description.clone()),
        ("kpi", o.kpi.as_str().to_owned()),
        ("direction", o.direction.as_str().to_owned()),
        ("target", figure(o.target)),
        ("unit", o.unit.clone()),
        (
            "owner_id",
            o.owner_id.map(|x| x.to_string()).unwrap_or_default(),
        ),
        ("due_date", o.due_date.map(date_out).unwrap_or_default()),
        ("status", o.status.as_str().to_owned()),
    ]
}

/// The register as `register_form` drives its form.
pub struct Objectives;

impl Register for Objectives {
    type Record = Objective;
    type Draft = ObjectiveDraft;
    const HREF: &'static str = NAV_HREF;
    const FIELDS: &'static [&'static str] = &FIELDS;
    const NEW: (&'static str, &'static str, &'static str) = (
        "Set an objective",
        "A measurable target with an owner: Steward reads it every month.",
        "Set objective",
    );

    fn id(o: &Objective) -> i64 {
        o.id
    }

    fn updated_at(o: &Objective) -> i64 {
        o.updated_at
    }

    fn editing(o: &Objective) -> (String, &'static str) {
        (format!("Edit objective {}", o.title), "")
    }

    fn values(o: &Objective) -> Vec<(&'static str, String)> {
        values_of(o)
    }

    fn fields(form: &FormState, people: &People) -> Vec<Field> {
        fields(form, people)
    }

    async fn load(state: &AppState, tenant_id: i64, id: i64) -> Result<Objective, StoreError> {
        state.store.objective(tenant_id, id).await
    }

    fn draft(posted: &Posted) -> Result<ObjectiveDraft, Invalid> {
        draft_of(posted)
    }

    async fn create(
        state: &AppState,
        tenant_id: i64,
        draft: &ObjectiveDraft,
        actor: &Actor,
    ) -> Result<Objective, StoreError> {
        state.store.create_objective(tenant_id, draft, actor).await
    }

    async fn update(
        state: &AppState,
        tenant_id: i64,
        id: i64,
        seen: i64,
        draft: &ObjectiveDraft,
        actor: &Actor,
    ) -> Result<Objective, StoreError> {
        state
            .store
            .update_objective(tenant_id, id, seen, draft, actor)
            .await
    }

    async fn page(state: &AppState, who: &Principal, id: i64, done: Option<&str>) -> UiResult {
        view_page(state, who, id, done, FormState::default(), StatusCode::OK).await
    }
}

pub async fn new_form(State(state): State<AppState>, who: Can<perm::SmsWrite>) -> UiResult {
    let blank = FormState::with(&[
        ("kpi", "sla_attainment"),
        ("direction", "at_least"),
        ("target", "95"),
        ("status", "active"),
    ]);
    form::<Objectives>(&state, &who, None, blank, None, StatusCode::OK).await
}

/// One month's bar of the chart, in the SVG's units.
pub struct Bar {
    pub x: u32,
    pub y: u32,
    pub height: u32,
    pub month: String,
    pub value: String,
    pub met: bool,
    pub measured: bool,
}

/// Twelve months against the target, drawn as bars on a 480 × 160 canvas.
pub struct Chart {
    pub bars: Vec<Bar>,
    pub target_y: u32,
    pub target: String,
}

const CHART_HEIGHT: f64 = 140.0;
const BAR_PITCH: u32 = 40;

fn chart(readings: &[Reading], o: &Objective) -> Chart {
    let top = readings
        .iter()
        .filter_map(|r| r.value)
        .fold(o.target, f64::max)
        .max(if o.unit == "%" { 100.0 } else { 1.0 });
    let y_of = |v: f64| (CHART_HEIGHT - (v.max(0.0) / top) * CHART_HEIGHT).round() as u32 + 10;
    let bars = readings
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let value = r.value.unwrap_or(0.0);
            let y = y_of(value);
            Bar {
                x: i as u32 * BAR_PITCH + 8,
                y,
                height: (CHART_HEIGHT as u32 + 10).saturating_sub(y),
                month: r.month.strftime("%b").to_string(),
                value: r.value.map_or_else(|| "not measured".to_owned(), figure),
                met: r.value.is_some_and(|v| o.direction.met(v, o.target)),
                measured: r.value.is_some(),
            }
        })
        .collect();
    Chart {
        bars,
        target_y: y_of(o.target),
        target: target_words(o),
    }
}

pub struct MeasurementLine {
    pub month: String,
    pub value: String,
    pub note: String,
    pub by: String,
    pub at: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "sms/objective_view.html")]
struct ViewPage {
    chrome: Chrome,
    o: Objective,
    kpi: &'static str,
    target: String,
    standing: &'static str,
    standing_code: &'static str,
    owner: String,
    due_date: String,
    chart: Chart,
    measurements: Vec<MeasurementLine>,
    can_write: bool,
    form: FormState,
}

async fn view_page(
    state: &AppState,
    who: &Principal,
    id: i64,
    done: Option<&str>,
    form: FormState,
    status: StatusCode,
) -> UiResult {
    let t = who.tenant_id();
    let o = state.store.objective(t, id).await?;
    let people = People::of(state, t).await?;
    let (readings, standing) = readings_of(state, t, &o).await?;
    let measurements = state
        .store
        .measurements(t, id)
        .await?
        .into_iter()
        .map(|m| MeasurementLine {
            month: m.month.strftime("%B %Y").to_string(),
            value: figure(m.value),
            note: m.note,
            by: m.actor_label,
            at: when(m.at),
        })
        .collect();
    let last_month = today_utc().strftime("%Y-%m").to_string();
    let form = if form.value("month").is_empty() && !form.has_errors() {
        FormState::with(&[("month", last_month.as_str())])
    } else {
        form
    };
    let page = ViewPage {
        chrome: Chrome::new(state, who, super::sms::NAV_HREF)
            .await
            .with_notice(done),
        kpi: o.kpi.label(),
        target: target_words(&o),
        standing: standing.label(),
        standing_code: standing_code(standing),
        owner: people.name(o.owner_id),
        due_date: o.due_date.map(date_out).unwrap_or_default(),
        chart: chart(&readings, &o),
        measurements,
        can_write: who.can(Permission::SmsWrite),
        form,
        o,
    };
    Ok((status, page).into_response())
}

#[derive(Debug, Deserialize)]
pub struct MeasureForm {
    #[serde(default)]
    month: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    note: String,
}

pub async fn measure(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id(id): Id<i64>,
    Form(f): Form<MeasureForm>,
) -> UiResult {
    let mut errors = Invalid::new();
    let value = number(&mut errors, "value", "The value", &f.value);
    if f.value.trim().is_empty() {
        errors.add("value", "The value is required");
    }
    let month = month_from("month", &f.month)
        .map_err(|e| errors.errors.extend(e.errors))
        .ok();
    let result = match (month, value) {
        (Some(month), Some(value)) if errors.errors.is_empty() => state
            .store
            .record_measurement(who.tenant_id(), id, month, value, &f.note, &who.actor())
            .await
            .map(|_| ()),
        _ => Err(StoreError::Invalid(errors)),
    };
    let refusal = match result {
        Ok(()) => return Ok(Redirect::to(&format!("{NAV_HREF}/{id}?done=saved")).into_response()),
        Err(StoreError::Invalid(invalid)) => invalid,
        Err(StoreError::Conflict(message)) => Invalid::one("value", message),
        Err(e) => return Err(e.into()),
    };
    let typed = [
        ("month", f.month.as_str()),
        ("value", f.value.as_str()),
        ("note", f.note.as_str()),
    ];
    view_page(
        &state,
        &who,
        id,
        None,
        FormState::with(&typed).rejected(refusal),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_drop_trailing_zeros() {
        assert_eq!(figure(95.0), "95");
        assert_eq!(figure(4.25), "4.25");
        assert_eq!(figure(99.999), "100");
        assert_eq!(figure(0.5), "0.5");
    }
}
