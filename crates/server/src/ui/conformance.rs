//! The conformance readiness pages (`/conformance`): how every clause of ISO/IEC 20000-1:2018
//! stands from Steward's own records (a chart and a table per top-level clause), and the clause
//! page with each requirement's evidence, the machine's status and the assessor's judgement
//! kept apart, the assess form, and a reproducible record sample for the auditor.
//!
//! The pages say what the records show; they never call themselves a certification.

use super::{Chrome, FormState, Opt, UiError, UiResult, html_attr, options, when};
use crate::AppState;
use crate::auth::{Can, Principal, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use jiff::civil::Date;
use serde::Deserialize;
use std::fmt::Write as _;
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::conformance::catalogue::catalogue;
use steward_domain::conformance::readiness::{
    Assessment, AssessmentDraft, ClauseReadiness, Counts, Judgement, RequirementReadiness, Standing,
};
use steward_domain::conformance::rules::{MachineStatus, RecordRef, RuleId, Shape};
use steward_domain::conformance::sample::sample;
use steward_store::conformance::Period;
use steward_store::{StoreError, now_micros};

/// Where the navigation points; every conformance page marks it.
pub const NAV_HREF: &str = "/conformance";

const DEFAULT_SIZE: usize = 10;
const MAX_SIZE: usize = 100;
const DEFAULT_SEED: u64 = 1;

/// The query every conformance page takes: the period, and on the clause page the sample.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct PageQuery {
    from: String,
    to: String,
    size: Option<String>,
    seed: Option<String>,
    done: Option<String>,
}

/// The period a page shows, the dates to show for it, and why the dates asked for were not used.
struct Chosen {
    period: Period,
    from: String,
    to: String,
    error: Option<String>,
}

fn date_of(micros: i64) -> String {
    jiff::Timestamp::from_microsecond(micros)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// The last twelve months, shown as the dates they run between.
fn default_period(error: Option<String>) -> Chosen {
    let period = Period::year_to(now_micros());
    Chosen {
        from: date_of(period.from),
        to: date_of(period.to),
        period,
        error,
    }
}

/// The period the query asks for; the default one, with a message, when its dates are wrong.
fn choose_period(from: &str, to: &str) -> Chosen {
    let (from, to) = (from.trim(), to.trim());
    if from.is_empty() && to.is_empty() {
        return default_period(None);
    }
    let parse = |d: &str| d.parse::<Date>().ok();
    match (parse(from), parse(to)) {
        (Some(f), Some(t)) => match Period::days(f, t) {
            Some(period) => Chosen {
                period,
                from: f.to_string(),
                to: t.to_string(),
                error: None,
            },
            None => default_period(Some(
                "The period ends before it starts; showing the last 12 months instead.".into(),
            )),
        },
        _ => default_period(Some(
            "Give both dates as YYYY-MM-DD (such as 2026-01-31); showing the last 12 months instead."
                .into(),
        )),
    }
}

/// The whole UTC days the chosen dates name: what the auditor's command draws from, so the
/// page's sample and the command's are the same records.
fn sample_period(chosen: &Chosen) -> Option<Period> {
    let from = chosen.from.parse::<Date>().ok()?;
    let to = chosen.to.parse::<Date>().ok()?;
    Period::days(from, to)
}

/// A record as a link: its label, and where its page is (none when Steward has no page for it).
pub struct Link {
    pub label: String,
    pub href: Option<String>,
}

/// `{list}/{key}` when the label starts with a key of this kind (`CHG-12`), else the list page:
/// a link never points at a page that cannot exist.
fn keyed(list: &str, prefix: &str, label: &str) -> String {
    let key = label.split_whitespace().next().unwrap_or_default();
    let number = key
        .split_once('-')
        .filter(|(p, _)| *p == prefix)
        .and_then(|(_, n)| n.parse::<i64>().ok())
        .filter(|n| *n > 0);
    match number {
        Some(_) => format!("{list}/{key}"),
        None => list.to_owned(),
    }
}

/// Where a record found by a rule is read in the UI.
fn record_href(r: &RecordRef) -> Option<String> {
    let href = match r.kind.as_str() {
        "service" => format!("/services/{}", r.id),
        "ci" => format!("/cis/{}", r.id),
        "asset" => format!("/assets/{}", r.id),
        "baseline" => format!("/cmdb/baselines/{}", r.id),
        "change" => keyed("/changes", "CHG", &r.label),
        "incident" => keyed("/incidents", "INC", &r.label),
        "problem" => keyed("/problems", "PRB", &r.label),
        "release" => keyed("/releases", "REL", &r.label),
        "service_design" => keyed("/designs", "SDR", &r.label),
        "nonconformity" => format!("/nonconformities/{}", r.id),
        // Known errors and journal entries have no page of their own, only their lists.
        "known_error" => "/known-errors".to_owned(),
        "journal" => "/journal".to_owned(),
        "audit" => format!("/audits/{}", r.id),
        "person" => format!("/competence/people/{}", r.id),
        "competence_action" => "/competence".to_owned(),
        "sms_role" => format!("/roles/{}", r.id),
        "supplier" => format!("/suppliers/{}", r.id),
        // Contract versions and disputes are read on their supplier's page.
        "supplier_contract" | "supplier_dispute" => "/suppliers".to_owned(),
        // A process is a row of the RACI matrix.
        "process" => "/raci".to_owned(),
        // A clause no audit covers: its label starts with the clause id.
        "clause" => format!(
            "/conformance/{}",
            r.label.split_whitespace().next().unwrap_or_default()
        ),
        _ => return None,
    };
    Some(href)
}

fn link(r: &RecordRef) -> Link {
    Link {
        label: r.label.clone(),
        href: record_href(r),
    }
}

/// What the machine says, in words.
fn machine_label(m: MachineStatus) -> &'static str {
    match m {
        MachineStatus::Met => "Met",
        MachineStatus::Gap => "Gap",
        MachineStatus::NotYetEvaluable => "Not yet evaluable",
        MachineStatus::Manual => "Assessed by a person",
    }
}

fn judgement_label(j: Judgement) -> &'static str {
    match j {
        Judgement::Conforming => "Conforming",
        Judgement::Nonconforming => "Nonconforming",
    }
}

// ---------- The dashboard ----------

pub struct ClauseRow {
    pub id: String,
    pub title: String,
    pub standing: &'static str,
    pub standing_code: &'static str,
    pub counts: Counts,
    pub percent: usize,
    pub bar: String,
}

/// A top-level clause (4 to 10) and the clauses under it.
pub struct Group {
    pub id: String,
    pub title: String,
    pub counts: Counts,
    pub rows: Vec<ClauseRow>,
}

#[derive(Template, WebTemplate)]
#[template(path = "conformance/dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    from: String,
    to: String,
    period_error: Option<String>,
    totals: Counts,
    clauses_with_gaps: usize,
    chart: String,
    /// The daily counts of the last days, once there are two.
    trend: Option<String>,
    groups: Vec<Group>,
}

fn sum(into: &mut Counts, c: &Counts) {
    into.met += c.met;
    into.open += c.open;
    into.gap += c.gap;
}

/// A small bar of the share met, with the number written beside it by the page.
fn percent_bar(percent: usize) -> String {
    format!(
        "<svg class=\"pct-bar\" viewBox=\"0 0 100 8\" width=\"100\" height=\"8\" aria-hidden=\"true\" focusable=\"false\">\
         <rect class=\"track\" width=\"100\" height=\"8\"/><rect class=\"fill\" width=\"{}\" height=\"8\"/></svg>",
        percent.min(100)
    )
}

/// The clauses grouped under the catalogue's top-level headings, in the standard's order.
fn groups(all: &[ClauseReadiness]) -> Vec<Group> {
    catalogue()
        .headings
        .iter()
        .filter(|h| h.parent.is_none())
        .map(|h| {
            let mut counts = Counts::default();
            let rows = all
                .iter()
                .filter(|c| c.id.split('.').next() == Some(h.id.as_str()))
                .map(|c| {
                    sum(&mut counts, &c.counts);
                    let percent = c.counts.percent_met();
                    ClauseRow {
                        id: c.id.clone(),
                        title: c.title.clone(),
                        standing: c.standing.label(),
                        standing_code: c.standing.as_str(),
                        counts: c.counts,
                        percent,
                        bar: percent_bar(percent),
                    }
                })
                .collect();
            Group {
                id: h.id.clone(),
                title: h.title.clone(),
                counts,
                rows,
            }
        })
        .collect()
}

/// One stacked horizontal bar per top-level clause: its requirements met, open and gap, each
/// part with its own title and the numbers written beside the bar.
fn chart(groups: &[Group]) -> String {
    const W: f64 = 720.0;
    const LEFT: f64 = 230.0;
    const BAR: f64 = 300.0;
    const ROW: f64 = 30.0;
    const TOP: f64 = 30.0;
    let h = TOP + ROW * groups.len() as f64 + 10.0;
    let mut svg = format!(
        "<svg class=\"chart readiness-chart\" role=\"img\" aria-labelledby=\"readiness-title readiness-desc\" viewBox=\"0 0 {W} {h}\" width=\"100%\" preserveAspectRatio=\"xMinYMin meet\">\
         <title id=\"readiness-title\">Requirements met, open and with a gap, per clause 4 to 10</title>\
         <desc id=\"readiness-desc\">For each top-level clause, a bar split into the requirements whose evidence is complete, those still open, and those with a gap; the numbers are written beside each bar and the tables below have them per clause.</desc>"
    );
    let legend = [
        ("met", "Evidence complete"),
        ("open", "Open"),
        ("gap", "Gap"),
    ];
    for (i, (code, label)) in legend.iter().enumerate() {
        let x = LEFT + 130.0 * i as f64;
        let _ = write!(
            svg,
            "<rect class=\"seg seg-{code}\" x=\"{x}\" y=\"6\" width=\"12\" height=\"12\"/><text class=\"tick\" x=\"{}\" y=\"16\">{label}</text>",
            x + 16.0
        );
    }
    for (i, g) in groups.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let _ = write!(
            svg,
            "<text class=\"label\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{} {}</text>",
            LEFT - 8.0,
            y + 15.0,
            html_attr(&g.id),
            html_attr(&short(&g.title, 30))
        );
        let total = g.counts.met + g.counts.open + g.counts.gap;
        let mut x = LEFT;
        for (code, label, n) in [
            ("met", "evidence complete", g.counts.met),
            ("open", "open", g.counts.open),
            ("gap", "with a gap", g.counts.gap),
        ] {
            if n == 0 || total == 0 {
                continue;
            }
            let w = BAR * n as f64 / total as f64;
            let _ = write!(
                svg,
                "<rect class=\"seg seg-{code}\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"20\"><title>Clause {}: {n} of {total} requirements {label}</title></rect>",
                y + 2.0,
                html_attr(&g.id)
            );
            x += w;
        }
        let _ = write!(
            svg,
            "<text class=\"value\" x=\"{}\" y=\"{:.1}\">{} met · {} open · {} gap</text>",
            LEFT + BAR + 10.0,
            y + 16.0,
            g.counts.met,
            g.counts.open,
            g.counts.gap
        );
    }
    svg.push_str("</svg>");
    svg
}

/// `text` cut to `max` characters with an ellipsis, for chart labels.
fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(max - 1).collect::<String>())
    }
}

pub async fn dashboard(
    State(state): State<AppState>,
    who: Can<perm::ConformanceRead>,
    Query(q): Query<PageQuery>,
) -> UiResult {
    let chosen = choose_period(&q.from, &q.to);
    let all = state
        .store
        .readiness(who.tenant_id(), chosen.period)
        .await?;
    let groups = groups(&all);
    let mut totals = Counts::default();
    for c in &all {
        sum(&mut totals, &c.counts);
    }
    let since = steward_store::asset::today_utc()
        .checked_sub(jiff::Span::new().days(super::readiness_trend::DAYS - 1))
        .unwrap_or(Date::ZERO);
    let snapshots = state.store.readiness_trend(who.tenant_id(), since).await?;
    let page = DashboardPage {
        trend: super::readiness_trend::chart(&snapshots),
        chrome: Chrome::new(&state, &who, NAV_HREF).await,
        clauses_with_gaps: all.iter().filter(|c| c.standing == Standing::Gap).count(),
        chart: chart(&groups),
        from: chosen.from,
        to: chosen.to,
        period_error: chosen.error,
        totals,
        groups,
    };
    Ok(page.into_response())
}

// ---------- The clause page ----------

pub struct Judged {
    pub judgement: &'static str,
    pub judgement_code: &'static str,
    pub comment: String,
    pub evidence: String,
    pub by: String,
    pub at: String,
}

impl From<&Assessment> for Judged {
    fn from(a: &Assessment) -> Self {
        Judged {
            judgement: judgement_label(a.judgement),
            judgement_code: a.judgement.as_str(),
            comment: a.comment.clone(),
            evidence: a.evidence.clone(),
            by: a.assessed_by.clone(),
            at: when(a.assessed_at),
        }
    }
}

pub struct RequirementView {
    pub id: String,
    pub text: String,
    pub evidence: String,
    pub standing: &'static str,
    pub standing_code: &'static str,
    pub machine: &'static str,
    pub machine_code: &'static str,
    pub rule: Option<&'static str>,
    /// "3 of 40 fail", or what was found.
    pub counts: Option<String>,
    pub failing: Vec<Link>,
    /// Failing records beyond those listed.
    pub more_failing: usize,
    pub records: Vec<Link>,
    pub judged: Option<Judged>,
    pub history: Vec<Judged>,
    pub form: FormState,
    pub judgements: Vec<Opt>,
}

/// The counts behind the machine's status, in words.
fn counts_text(rule: RuleId, population: usize, failing: usize) -> String {
    match (rule.shape(), population) {
        (_, 0) => "No records to judge in the period.".to_owned(),
        (Shape::Exists, n) => format!("{n} found in the period."),
        (Shape::Every, n) => format!("{failing} of {n} fail."),
    }
}

fn judgement_options(current: &str) -> Vec<Opt> {
    options(
        [Judgement::Conforming, Judgement::Nonconforming]
            .into_iter()
            .map(|j| (j.as_str().to_owned(), judgement_label(j).to_owned())),
        current,
    )
}

fn requirement_view(
    r: &RequirementReadiness,
    history: Vec<Judged>,
    form: FormState,
) -> RequirementView {
    let found = r.found.as_ref();
    RequirementView {
        id: r.id.clone(),
        text: r.text.clone(),
        evidence: r.evidence.clone(),
        standing: r.standing.label(),
        standing_code: r.standing.as_str(),
        machine: machine_label(r.machine),
        machine_code: r.machine.as_str(),
        rule: r.rule_description,
        counts: r
            .rule
            .zip(found)
            .map(|(rule, f)| counts_text(rule, f.population, f.failing_count)),
        failing: found
            .map(|f| f.failing.iter().map(link).collect())
            .unwrap_or_default(),
        more_failing: found.map_or(0, |f| f.failing_count.saturating_sub(f.failing.len())),
        records: found
            .map(|f| f.records.iter().map(link).collect())
            .unwrap_or_default(),
        judged: r.assessment.as_ref().map(Judged::from),
        history,
        judgements: judgement_options(form.value("judgement")),
        form,
    }
}

/// The sample the page drew, and the command that draws it again.
pub struct Drawn {
    pub records: Vec<Link>,
    pub population: usize,
    pub command: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "conformance/clause.html")]
struct ClausePage {
    chrome: Chrome,
    id: String,
    title: String,
    top: String,
    summary: String,
    documented_information: Vec<String>,
    standing: &'static str,
    standing_code: &'static str,
    counts: Counts,
    requirements: Vec<RequirementView>,
    from: String,
    to: String,
    period_error: Option<String>,
    can_assess: bool,
    notice: Option<&'static str>,
    size: String,
    seed: String,
    sample_error: Option<String>,
    drawn: Option<Drawn>,
}

/// The form of one requirement kept with what was typed and what was wrong.
struct Retry {
    requirement_id: String,
    form: FormState,
}

/// The sample size and seed asked for; `None` when no sample was asked for.
fn sample_request(q: &PageQuery) -> Option<Result<(usize, u64), String>> {
    if q.size.is_none() && q.seed.is_none() {
        return None;
    }
    let size = q.size.as_deref().unwrap_or("").trim();
    let seed = q.seed.as_deref().unwrap_or("").trim();
    let size = if size.is_empty() {
        Ok(DEFAULT_SIZE)
    } else {
        size.parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_SIZE).contains(n))
            .ok_or_else(|| format!("The sample size is a whole number from 1 to {MAX_SIZE}."))
    };
    let seed = if seed.is_empty() {
        Ok(DEFAULT_SEED)
    } else {
        seed.parse::<u64>().map_err(|_| {
            "The seed is a whole number of 0 or more (such as 1 or 20261206).".to_owned()
        })
    };
    Some(size.and_then(|s| seed.map(|d| (s, d))))
}

async fn draw(
    state: &AppState,
    who: &Principal,
    clause_id: &str,
    chosen: &Chosen,
    size: usize,
    seed: u64,
) -> Result<Drawn, UiError> {
    let period = sample_period(chosen).ok_or(UiError::Internal)?;
    let t = who.tenant_id();
    let population = state.store.clause_population(t, clause_id, period).await?;
    let slug = state.store.tenant(t).await?.slug;
    let records = sample(&population, size, seed).iter().map(link).collect();
    Ok(Drawn {
        records,
        population: population.len(),
        command: format!(
            "steward audit sample --tenant {slug} --clause {clause_id} --size {size} --seed {seed} --from {} --to {}",
            chosen.from, chosen.to
        ),
    })
}

async fn render(
    state: &AppState,
    who: &Principal,
    clause_id: &str,
    q: &PageQuery,
    retry: Option<Retry>,
    status: StatusCode,
) -> UiResult {
    if catalogue().clause(clause_id).is_none() {
        return Err(UiError::NotFound);
    }
    let t = who.tenant_id();
    let chosen = choose_period(&q.from, &q.to);
    let clause = state
        .store
        .clause_readiness(t, clause_id, chosen.period)
        .await?;
    let mut retry = retry;
    let mut requirements = Vec::with_capacity(clause.requirements.len());
    for r in &clause.requirements {
        let history = state
            .store
            .assessment_history(t, &r.id)
            .await?
            .iter()
            .map(|s| Judged::from(&s.assessment))
            .collect();
        let form = match retry.take() {
            Some(again) if again.requirement_id == r.id => again.form,
            other => {
                retry = other;
                FormState::default()
            }
        };
        requirements.push(requirement_view(r, history, form));
    }
    let (sample_error, drawn) = match sample_request(q) {
        None => (None, None),
        Some(Err(message)) => (Some(message), None),
        Some(Ok((size, seed))) => (
            None,
            Some(draw(state, who, clause_id, &chosen, size, seed).await?),
        ),
    };
    let top = catalogue()
        .headings
        .iter()
        .find(|h| h.parent.is_none() && clause_id.split('.').next() == Some(h.id.as_str()))
        .map(|h| format!("{} {}", h.id, h.title))
        .unwrap_or_default();
    let page = ClausePage {
        chrome: Chrome::new(state, who, NAV_HREF).await,
        top,
        standing: clause.standing.label(),
        standing_code: clause.standing.as_str(),
        counts: clause.counts,
        id: clause.id,
        title: clause.title,
        summary: clause.summary,
        documented_information: clause.documented_information,
        requirements,
        from: chosen.from,
        to: chosen.to,
        period_error: chosen.error,
        can_assess: who.can(Permission::ConformanceAssess),
        notice: (q.done.as_deref() == Some("assessed")).then_some("Judgement recorded."),
        size: q.size.clone().unwrap_or_else(|| DEFAULT_SIZE.to_string()),
        seed: q.seed.clone().unwrap_or_else(|| DEFAULT_SEED.to_string()),
        sample_error,
        drawn,
    };
    Ok((status, page).into_response())
}

pub async fn clause(
    State(state): State<AppState>,
    who: Can<perm::ConformanceRead>,
    Path(clause_id): Path<String>,
    Query(q): Query<PageQuery>,
) -> UiResult {
    render(&state, &who, &clause_id, &q, None, StatusCode::OK).await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct AssessForm {
    judgement: String,
    comment: String,
    evidence: String,
    from: String,
    to: String,
}

/// Where to go after a judgement is recorded: the clause page for the same period, at the
/// requirement.
fn back_to(clause_id: &str, requirement_id: &str, form: &AssessForm) -> String {
    let mut pairs = vec![("done", "assessed")];
    if !form.from.trim().is_empty() || !form.to.trim().is_empty() {
        pairs.push(("from", form.from.trim()));
        pairs.push(("to", form.to.trim()));
    }
    format!(
        "{NAV_HREF}/{clause_id}?{}#req-{requirement_id}",
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    )
}

pub async fn assess(
    State(state): State<AppState>,
    who: Can<perm::ConformanceAssess>,
    Path((clause_id, requirement_id)): Path<(String, String)>,
    Form(form): Form<AssessForm>,
) -> UiResult {
    // A requirement is assessed on its own clause's page only.
    match catalogue().requirement(&requirement_id) {
        Some((c, _)) if c.id == clause_id => {}
        _ => return Err(UiError::NotFound),
    }
    let kept = FormState::with(&[
        ("judgement", form.judgement.trim()),
        ("comment", &form.comment),
        ("evidence", &form.evidence),
    ]);
    let saved = match Judgement::parse(form.judgement.trim()) {
        None => {
            let mut invalid = Invalid::new();
            invalid.add("judgement", "Choose conforming or nonconforming");
            Err(StoreError::Invalid(invalid))
        }
        Some(judgement) => {
            let draft = AssessmentDraft {
                judgement,
                comment: form.comment.clone(),
                evidence: form.evidence.clone(),
            };
            state
                .store
                .assess(who.tenant_id(), &requirement_id, &draft, &who.actor())
                .await
        }
    };
    match saved {
        Ok(_) => Ok(Redirect::to(&back_to(&clause_id, &requirement_id, &form)).into_response()),
        Err(StoreError::Invalid(invalid)) => {
            let q = PageQuery {
                from: form.from.clone(),
                to: form.to.clone(),
                ..Default::default()
            };
            let retry = Retry {
                requirement_id,
                form: kept.rejected(invalid),
            };
            render(
                &state,
                &who,
                &clause_id,
                &q,
                Some(retry),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY_MICROS: i64 = 86_400_000_000;

    fn r(kind: &str, id: i64, label: &str) -> RecordRef {
        RecordRef {
            kind: kind.into(),
            id,
            label: label.into(),
        }
    }

    #[test]
    fn records_link_to_their_pages_or_their_lists() {
        let href = |kind, id, label| record_href(&r(kind, id, label));
        assert_eq!(href("service", 3, "Mail").as_deref(), Some("/services/3"));
        assert_eq!(
            href("change", 9, "CHG-4").as_deref(),
            Some("/changes/CHG-4")
        );
        assert_eq!(
            href("release", 2, "REL-1 to production").as_deref(),
            Some("/releases/REL-1")
        );
        assert_eq!(href("change", 9, "odd").as_deref(), Some("/changes"));
        assert_eq!(
            href("known_error", 1, "KE-1").as_deref(),
            Some("/known-errors")
        );
        assert_eq!(href("something", 1, "x"), None);
    }

    #[test]
    fn bad_dates_fall_back_to_the_last_year_with_a_message() {
        assert!(choose_period("", "").error.is_none());
        let bad = choose_period("2026-13-01", "2026-12-01");
        assert!(bad.error.is_some());
        assert_eq!(bad.period.to - bad.period.from, 365 * DAY_MICROS);
        let backwards = choose_period("2026-06-01", "2026-01-01");
        assert!(backwards.error.is_some());
        let good = choose_period("2026-01-01", "2026-01-31");
        assert_eq!(good.period.to - good.period.from, 31 * DAY_MICROS);
        assert_eq!(good.from, "2026-01-01");
    }

    #[test]
    fn sample_sizes_and_seeds_are_checked() {
        let q = |size: &str, seed: &str| PageQuery {
            size: Some(size.into()),
            seed: Some(seed.into()),
            ..Default::default()
        };
        assert_eq!(sample_request(&PageQuery::default()), None);
        assert_eq!(sample_request(&q("", "")), Some(Ok((10, 1))));
        assert_eq!(sample_request(&q("5", "42")), Some(Ok((5, 42))));
        assert!(matches!(sample_request(&q("0", "1")), Some(Err(_))));
        assert!(matches!(sample_request(&q("101", "1")), Some(Err(_))));
        assert!(matches!(sample_request(&q("5", "-1")), Some(Err(_))));
    }
}
