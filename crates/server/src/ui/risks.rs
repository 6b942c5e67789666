//! The register of risks and opportunities: the list beside a heat map of the open entries,
//! the form that records and edits one, and its page with the review and close forms and every
//! assessment it had.

use super::people::People;
use super::register_form::{Field, Input, Posted, Register, chosen, form, joined, picked};
use super::{Chrome, FormState, Id, ListFrame, Opt, UiResult, filter_choices, options, when};
use crate::AppState;
use crate::api::date_out;
use crate::api::risks::draft_from;
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
use steward_domain::asset::required_date_alone;
use steward_domain::sms::risk::{
    Rating, RiskDraft, RiskKind, RiskStatus, SCALE, Treatment, heat_map,
};
use steward_store::Actor;
use steward_store::asset::today_utc;
use steward_store::sms::risk::{Risk, RiskFilter};
use steward_store::{PageRequest, StoreError};

pub const NAV_HREF: &str = "/risks";

pub struct Row {
    pub id: i64,
    pub kind: &'static str,
    pub title: String,
    pub area: String,
    pub score: u8,
    pub level: &'static str,
    pub level_code: &'static str,
    pub treatment: &'static str,
    pub owner: String,
    pub review_date: String,
    pub overdue: bool,
    pub closed: bool,
}

/// One cell of the heat map.
pub struct Cell {
    pub count: u32,
    pub level_code: &'static str,
    pub label: String,
}

/// A heat map's rows, most likely first, as people read a risk matrix.
pub struct HeatMap {
    pub title: &'static str,
    pub rows: Vec<(u8, Vec<Cell>)>,
}

fn heat(title: &'static str, ratings: Vec<Rating>) -> HeatMap {
    let grid = heat_map(ratings);
    let rows = (1..=SCALE)
        .rev()
        .map(|likelihood| {
            let cells = (1..=SCALE)
                .map(|impact| {
                    let count = grid[usize::from(likelihood - 1)][usize::from(impact - 1)];
                    Cell {
                        count,
                        level_code: Rating { likelihood, impact }.level().as_str(),
                        label: format!(
                            "{count} open with likelihood {likelihood} and impact {impact}"
                        ),
                    }
                })
                .collect();
            (likelihood, cells)
        })
        .collect();
    HeatMap { title, rows }
}

#[derive(Template, WebTemplate)]
#[template(path = "sms/risks_list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    maps: Vec<HeatMap>,
    kinds: Vec<Opt>,
    statuses: Vec<Opt>,
    overdue: bool,
    filtered: bool,
    next: Option<String>,
    can_write: bool,
    no_errors: FormState,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    kind: String,
    status: String,
    overdue: String,
    cursor: Option<String>,
    done: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    Query(q): Query<ListQuery>,
) -> UiResult {
    let t = who.tenant_id();
    let today = today_utc();
    let overdue = !q.overdue.is_empty();
    let filter = RiskFilter {
        kind: RiskKind::parse(q.kind.trim()),
        status: RiskStatus::parse(q.status.trim()),
        review_before: overdue.then_some(today),
    };
    let page = PageRequest {
        limit: Some(50),
        cursor: q.cursor.clone(),
    };
    let found = match state.store.risks(t, &filter, &page).await {
        Err(StoreError::Invalid(_)) => return Ok(Redirect::to(NAV_HREF).into_response()),
        other => other?,
    };
    let people = People::of(&state, t).await?;
    let rows = found
        .items
        .into_iter()
        .map(|r| Row {
            overdue: r.review_overdue(today),
            closed: r.status == RiskStatus::Closed,
            kind: r.kind.label(),
            score: r.inherent.score(),
            level: r.inherent.level().label(),
            level_code: r.inherent.level().as_str(),
            treatment: r.treatment.label(),
            owner: people.name(r.owner_id),
            review_date: date_out(r.review_date),
            id: r.id,
            title: r.title,
            area: r.area,
        })
        .collect();
    let maps = vec![
        heat(
            "Open risks",
            state.store.open_risk_ratings(t, RiskKind::Risk).await?,
        ),
        heat(
            "Open opportunities",
            state
                .store
                .open_risk_ratings(t, RiskKind::Opportunity)
                .await?,
        ),
    ];
    let params = [
        ("kind", q.kind.as_str()),
        ("status", q.status.as_str()),
        ("overdue", q.overdue.as_str()),
    ];
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
        maps,
        kinds: filter_choices(
            RiskKind::ALL,
            "— risks and opportunities —",
            RiskKind::as_str,
            RiskKind::label,
            &q.kind,
        ),
        statuses: filter_choices(
            RiskStatus::ALL,
            "— open or closed —",
            RiskStatus::as_str,
            |s| match s {
                RiskStatus::Open => "Open",
                RiskStatus::Closed => "Closed",
            },
            &q.status,
        ),
        overdue,
        filtered: frame.filtered,
        next: frame.next,
        can_write: who.can(Permission::SmsWrite),
        no_errors: FormState::default(),
    }
    .into_response())
}

const FIELDS: [&str; 12] = [
    "kind",
    "title",
    "description",
    "area",
    "likelihood",
    "impact",
    "treatment",
    "treatment_plan",
    "residual_likelihood",
    "residual_impact",
    "owner_id",
    "review_date",
];

fn scale(form: &FormState, name: &str, blank: Option<&str>) -> Vec<Opt> {
    let words = [
        "",
        "1 · rare / negligible",
        "2",
        "3",
        "4",
        "5 · almost certain / severe",
    ];
    let choices = (1..=SCALE).map(|v| (v.to_string(), words[usize::from(v)].to_owned()));
    match blank {
        Some(blank) => super::options_after_blank(blank, choices, form.value(name)),
        None => options(choices, form.value(name)),
    }
}

fn fields(form: &FormState, people: &People) -> Vec<Field> {
    let kinds = options(
        RiskKind::ALL
            .iter()
            .map(|k| (k.as_str().to_owned(), k.label().to_owned())),
        form.value("kind"),
    );
    let treatments = options(
        Treatment::ALL.iter().map(|t| {
            let fits = match (t.fits(RiskKind::Risk), t.fits(RiskKind::Opportunity)) {
                (true, true) => "risks and opportunities",
                (true, false) => "risks",
                _ => "opportunities",
            };
            (t.as_str().to_owned(), format!("{} (for {fits})", t.label()))
        }),
        form.value("treatment"),
    );
    vec![
        Field::new("kind", "Kind", Input::Select(kinds)),
        Field::new("title", "Title", Input::Text).required(),
        Field::new("description", "Description", Input::Area),
        Field::new("area", "Area", Input::Text)
            .hint("What it concerns: a service, the SMS, a supplier, information security…"),
        Field::new(
            "likelihood",
            "Likelihood",
            Input::Select(scale(form, "likelihood", None)),
        ),
        Field::new(
            "impact",
            "Impact",
            Input::Select(scale(form, "impact", None)),
        ),
        Field::new("treatment", "Treatment", Input::Select(treatments)),
        Field::new("treatment_plan", "Treatment plan", Input::Area)
            .hint("Required unless the treatment is to accept it."),
        Field::new(
            "residual_likelihood",
            "Residual likelihood (once treated)",
            Input::Select(scale(form, "residual_likelihood", Some("— not rated —"))),
        ),
        Field::new(
            "residual_impact",
            "Residual impact (once treated)",
            Input::Select(scale(form, "residual_impact", Some("— not rated —"))),
        ),
        Field::new(
            "owner_id",
            "Owner",
            Input::Select(people.options("— nobody yet —", form.value("owner_id"))),
        ),
        Field::new("review_date", "Next review", Input::Date).required(),
    ]
}

/// A rating's half picked from 1 to 5 (none when left blank).
fn on_scale(errors: &mut Invalid, field: &str, text: &str) -> Option<u8> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let value = text.parse().ok();
    if value.is_none() {
        errors.add(field, format!("Choose a value from 1 to {SCALE}"));
    }
    value
}

fn draft_of(p: &Posted) -> Result<RiskDraft, Invalid> {
    let mut errors = Invalid::new();
    let kind = chosen(&mut errors, "kind", p.get("kind"), RiskKind::parse);
    let treatment = chosen(
        &mut errors,
        "treatment",
        p.get("treatment"),
        Treatment::parse,
    );
    let likelihood = on_scale(&mut errors, "likelihood", p.get("likelihood")).unwrap_or(0);
    let impact = on_scale(&mut errors, "impact", p.get("impact")).unwrap_or(0);
    let residual = (
        on_scale(
            &mut errors,
            "residual_likelihood",
            p.get("residual_likelihood"),
        ),
        on_scale(&mut errors, "residual_impact", p.get("residual_impact")),
    );
    let owner_id = picked(&mut errors, "owner_id", p.get("owner_id"));
    let (Some(kind), Some(treatment)) = (kind, treatment) else {
        return Err(errors);
    };
    let draft = RiskDraft {
        kind,
        title: p.get("title").to_owned(),
        description: p.get("description").to_owned(),
        area: p.get("area").to_owned(),
        inherent: Rating { likelihood, impact },
        treatment,
        treatment_plan: p.get("treatment_plan").to_owned(),
        residual: None,
        owner_id,
        review_date: today_utc(),
    };
    joined(errors, draft_from(draft, residual, p.get("review_date")))
}

fn values_of(r: &Risk) -> Vec<(&'static str, String)> {
    let opt = |v: Option<u8>| v.map(|v| v.to_string()).unwrap_or_default();
    vec![
        ("kind", r.kind.as_str().to_owned()),
        ("title", r.title.clone()),
        ("description", r.description.clone()),
        ("area", r.area.clone()),
        ("likelihood", r.inherent.likelihood.to_string()),
        ("impact", r.inherent.impact.to_string()),
        ("treatment", r.treatment.as_str().to_owned()),
        ("treatment_plan", r.treatment_plan.clone()),
        ("residual_likelihood", opt(r.residual.map(|x| x.likelihood))),
        ("residual_impact", opt(r.residual.map(|x| x.impact))),
        (
            "owner_id",
            r.owner_id.map(|o| o.to_string()).unwrap_or_default(),
        ),
        ("review_date", date_out(r.review_date)),
    ]
}

/// The register as `register_form` drives its form.
pub struct Risks;

impl Register for Risks {
    type Record = Risk;
    type Draft = RiskDraft;
    const HREF: &'static str = NAV_HREF;
    const FIELDS: &'static [&'static str] = &FIELDS;
    const NEW: (&'static str, &'static str, &'static str) = (
        "Record a risk or opportunity",
        "Rate it on the five-by-five grid, say how it is treated, who owns it and when it is next reviewed.",
        "Record",
    );

    fn id(r: &Risk) -> i64 {
        r.id
    }

    fn updated_at(r: &Risk) -> i64 {
        r.updated_at
    }

    fn editing(r: &Risk) -> (String, &'static str) {
        (
            format!("Edit {} {}", r.kind.label().to_lowercase(), r.title),
            "A new rating or review date is kept as an assessment in its history.",
        )
    }

    fn values(r: &Risk) -> Vec<(&'static str, String)> {
        values_of(r)
    }

    fn fields(form: &FormState, people: &People) -> Vec<Field> {
        fields(form, people)
    }

    async fn load(state: &AppState, tenant_id: i64, id: i64) -> Result<Risk, StoreError> {
        state.store.risk(tenant_id, id).await
    }

    fn draft(posted: &Posted) -> Result<RiskDraft, Invalid> {
        draft_of(posted)
    }

    async fn create(
        state: &AppState,
        tenant_id: i64,
        draft: &RiskDraft,
        actor: &Actor,
    ) -> Result<Risk, StoreError> {
        state.store.create_risk(tenant_id, draft, actor).await
    }

    async fn update(
        state: &AppState,
        tenant_id: i64,
        id: i64,
        seen: i64,
        draft: &RiskDraft,
        actor: &Actor,
    ) -> Result<Risk, StoreError> {
        state
            .store
            .update_risk(tenant_id, id, seen, draft, actor)
            .await
    }

    async fn page(state: &AppState, who: &Principal, id: i64, done: Option<&str>) -> UiResult {
        view_page(state, who, id, done, FormState::default(), StatusCode::OK).await
    }
}

pub async fn new_form(State(state): State<AppState>, who: Can<perm::SmsWrite>) -> UiResult {
    let review = date_out(today_utc().saturating_add(jiff::Span::new().days(90)));
    let blank = FormState::with(&[
        ("kind", "risk"),
        ("likelihood", "3"),
        ("impact", "3"),
        ("treatment", "mitigate"),
        ("review_date", review.as_str()),
    ]);
    form::<Risks>(&state, &who, None, blank, None, StatusCode::OK).await
}

pub struct ReviewLine {
    pub at: String,
    pub rating: String,
    pub level_code: &'static str,
    pub residual: String,
    pub next_review: String,
    pub note: String,
    pub by: String,
}

fn rating_words(r: Rating) -> String {
    format!(
        "{}×{} = {} ({})",
        r.likelihood,
        r.impact,
        r.score(),
        r.level().label()
    )
}

#[derive(Template, WebTemplate)]
#[template(path = "sms/risk_view.html")]
struct ViewPage {
    chrome: Chrome,
    r: Risk,
    kind: &'static str,
    rating: String,
    level_code: &'static str,
    residual: String,
    treatment: &'static str,
    owner: String,
    review_date: String,
    overdue: bool,
    open: bool,
    reviews: Vec<ReviewLine>,
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
    let r = state.store.risk(t, id).await?;
    let people = People::of(state, t).await?;
    let reviews = state
        .store
        .risk_reviews(t, id)
        .await?
        .into_iter()
        .rev()
        .map(|v| ReviewLine {
            at: when(v.at),
            rating: rating_words(v.inherent),
            level_code: v.inherent.level().as_str(),
            residual: v.residual.map(rating_words).unwrap_or_else(|| "—".into()),
            next_review: date_out(v.review_date),
            note: v.note,
            by: v.actor_label,
        })
        .collect();
    let next_review = date_out(today_utc().saturating_add(jiff::Span::new().days(90)));
    let form = if form.value("review_date").is_empty() && !form.has_errors() {
        FormState::with(&[("review_date", next_review.as_str())])
    } else {
        form
    };
    let page = ViewPage {
        chrome: Chrome::new(state, who, super::sms::NAV_HREF)
            .await
            .with_notice(done),
        kind: r.kind.label(),
        rating: rating_words(r.inherent),
        level_code: r.inherent.level().as_str(),
        residual: r.residual.map(rating_words).unwrap_or_else(|| "—".into()),
        treatment: r.treatment.label(),
        owner: people.name(r.owner_id),
        review_date: date_out(r.review_date),
        overdue: r.review_overdue(today_utc()),
        open: r.status == RiskStatus::Open,
        reviews,
        can_write: who.can(Permission::SmsWrite),
        form,
        r,
    };
    Ok((status, page).into_response())
}

#[derive(Debug, Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    note: String,
    #[serde(default)]
    review_date: String,
}

/// Shows the page again with a refusal beside the review or close form, or goes back to it.
async fn after_action(
    state: &AppState,
    who: &Principal,
    id: i64,
    result: Result<Risk, StoreError>,
    typed: &[(&str, &str)],
    field: &str,
) -> UiResult {
    let refusal = match result {
        Ok(_) => return Ok(Redirect::to(&format!("{NAV_HREF}/{id}?done=saved")).into_response()),
        Err(StoreError::Invalid(invalid)) => invalid,
        Err(StoreError::Conflict(message)) => Invalid::one(field, message),
        Err(e) => return Err(e.into()),
    };
    let form = FormState::with(typed).rejected(refusal);
    view_page(state, who, id, None, form, StatusCode::UNPROCESSABLE_ENTITY).await
}

pub async fn review(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id(id): Id<i64>,
    Form(f): Form<ReviewForm>,
) -> UiResult {
    let result = match required_date_alone("review_date", "Next review date", &f.review_date) {
        Ok(next) => {
            state
                .store
                .review_risk(
                    who.tenant_id(),
                    id,
                    next,
                    &f.note,
                    today_utc(),
                    &who.actor(),
                )
                .await
        }
        Err(invalid) => Err(StoreError::Invalid(invalid)),
    };
    let typed = [
        ("note", f.note.as_str()),
        ("review_date", f.review_date.as_str()),
    ];
    after_action(&state, &who, id, result, &typed, "note").await
}

#[derive(Debug, Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    reason: String,
}

pub async fn close(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id(id): Id<i64>,
    Form(f): Form<CloseForm>,
) -> UiResult {
    let result = state
        .store
        .close_risk(who.tenant_id(), id, &f.reason, &who.actor())
        .await;
    let typed = [("reason", f.reason.as_str())];
    after_action(&state, &who, id, result, &typed, "reason").await
}
