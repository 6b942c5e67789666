//! The SLA panel of the incident and request pages: each clock with where it stands and,
//! folded away, everything that explains it; whether the record counts towards attainment;
//! and the reason agents record for a breach.

use super::agreements::{business_time, kind_label, metric_label};
use super::{FormState, UiError, UiResult, when};
use crate::AppState;
use crate::api::incidents::find;
use crate::api::requests::find_request;
use crate::auth::{Can, Principal, perm};
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::sla::{ClockState, RecordKind};
use steward_store::StoreError;
use steward_store::sla::ClockView;

/// A stretch the clock did not count.
pub struct PauseLine {
    pub from: String,
    pub to: String,
    pub why: String,
}

/// One clock as the panel shows it.
pub struct ClockRow {
    pub id: i64,
    pub target: String,
    pub agreement_id: i64,
    pub agreement: String,
    pub kind: &'static str,
    /// `running`, `paused`, `met` or `breached`: the badge's word and colour.
    pub state: &'static str,
    /// Running or paused past the warning threshold.
    pub warning: bool,
    pub due: String,
    /// `3 h 20 min left`, `overdue by 5 min`, `met with 40 min to spare`.
    pub standing: String,
    /// Business time counted, as a share of the target (0 to 100) for the bar.
    pub elapsed_pct: i64,
    pub warn_pct: i64,
    pub bar_label: String,
    pub target_text: String,
    pub started: String,
    pub pauses: Vec<PauseLine>,
    pub stopped: Option<String>,
    pub calendar: String,
    pub starts: String,
    pub pauses_while: String,
    pub stops: String,
    pub warned: Option<String>,
    pub breach_noted: Option<String>,
    pub breached: bool,
    pub breach_reason: Option<String>,
    /// The breach reason form, with what was typed and its error when it came back.
    pub reason_form: FormState,
}

/// What the panel shows.
pub struct SlaPanel {
    /// Only the desk sees clocks; the portal's copy of a record does not.
    pub shown: bool,
    pub clocks: Vec<ClockRow>,
    /// Why the record does not count towards attainment, if it does not.
    pub excluded: Option<String>,
    /// `/incidents/INC-1`: where the panel's forms post.
    pub base: String,
    pub can_write: bool,
    pub exclusion_form: FormState,
    /// Refusals that belong to no form on the page (such as a reason for a clock that has
    /// not breached).
    pub errors: Vec<String>,
}

impl SlaPanel {
    pub fn hidden() -> SlaPanel {
        SlaPanel {
            shown: false,
            clocks: Vec::new(),
            excluded: None,
            base: String::new(),
            can_write: false,
            exclusion_form: FormState::default(),
            errors: Vec::new(),
        }
    }
}

/// Forms of the panel that came back refused.
#[derive(Default)]
pub struct SlaForms {
    pub exclusion: FormState,
    /// The clock whose breach reason form came back, and the form.
    pub reason: Option<(i64, FormState)>,
}

fn state_word(s: ClockState) -> &'static str {
    s.as_str()
}

fn standing(c: &ClockView) -> String {
    let left = business_time(c.remaining_minutes);
    match c.state {
        ClockState::Running => format!("{left} left"),
        ClockState::Paused if c.remaining_minutes >= 0 => format!("{left} left, paused"),
        ClockState::Paused => format!("overdue by {left}, paused"),
        ClockState::Met => format!("met with {left} to spare"),
        ClockState::Breached if c.stopped_at.is_some() => format!("missed by {left}"),
        ClockState::Breached => format!("overdue by {left}"),
    }
}

fn row(c: ClockView, warn_percent: u8, now: i64, form: Option<FormState>) -> ClockRow {
    let target = c.target_minutes.max(1);
    let elapsed_pct = (c.elapsed_minutes.max(0) * 100 / target).min(100);
    let due = match (c.due_at, c.state) {
        (Some(at), _) => when(at),
        (None, ClockState::Paused) => "not while paused".to_owned(),
        (None, _) => "—".to_owned(),
    };
    let warning = matches!(c.state, ClockState::Running | ClockState::Paused)
        && c.warn_at.is_some_and(|w| w <= now);
    ClockRow {
        target: metric_label(&c.target),
        kind: kind_label(c.agreement_kind),
        state: state_word(c.state),
        warning,
        due,
        standing: standing(&c),
        elapsed_pct,
        warn_pct: i64::from(warn_percent),
        bar_label: format!(
            "{} of {} counted; warning at {warn_percent}%",
            business_time(c.elapsed_minutes),
            business_time(c.target_minutes)
        ),
        target_text: format!(
            "{} of business time, warning at {warn_percent}%{}",
            business_time(c.target_minutes),
            c.warn_at
                .map(|w| format!(" ({})", when(w)))
                .unwrap_or_default()
        ),
        started: c.started_at.map_or_else(|| "—".to_owned(), when),
        pauses: c
            .pauses
            .iter()
            .map(|p| PauseLine {
                from: when(p.from),
                to: p.to.map_or_else(|| "now".to_owned(), when),
                why: p.why.clone(),
            })
            .collect(),
        stopped: c.stopped_at.map(when),
        calendar: c.calendar,
        starts: c.rule.starts,
        pauses_while: c.rule.pauses,
        stops: c.rule.stops,
        warned: c.warned_at.map(when),
        breach_noted: c.breach_noted_at.map(when),
        breached: c.state == ClockState::Breached,
        reason_form: form.unwrap_or_else(|| {
            FormState::with(&[("reason", c.breach_reason.as_deref().unwrap_or_default())])
        }),
        breach_reason: c.breach_reason,
        id: c.id,
        agreement_id: c.agreement_id,
        agreement: c.agreement,
    }
}

/// Builds the panel for one record; `base` is the record's page.
pub async fn panel(
    state: &AppState,
    who: &Principal,
    kind: RecordKind,
    record_id: i64,
    base: String,
    forms: SlaForms,
) -> Result<SlaPanel, UiError> {
    if !who.can(Permission::RecordsRead) {
        return Ok(SlaPanel::hidden());
    }
    let t = who.tenant_id();
    let clocks = state.store.record_clocks(t, kind, record_id).await?;
    let excluded = match clocks.first() {
        Some(c) => c.excluded.clone(),
        None => state.store.sla_exclusion(t, kind, record_id).await?,
    };
    let agreements = if clocks.is_empty() {
        Vec::new()
    } else {
        state.store.agreements(t).await?
    };
    let now = jiff::Timestamp::now().as_microsecond();
    let mut errors = Vec::new();
    let mut reason = forms.reason;
    let rows = clocks
        .into_iter()
        .map(|c| {
            let warn = agreements
                .iter()
                .find(|a| a.id == c.agreement_id)
                .map_or(steward_domain::sla::DEFAULT_WARN_PERCENT, |a| {
                    a.draft.warn_percent
                });
            // Only a breached clock shows the form; a refusal for another stays for the top.
            let form = match reason.take() {
                Some((id, form)) if id == c.id && c.state == ClockState::Breached => Some(form),
                other => {
                    reason = other;
                    None
                }
            };
            row(c, warn, now, form)
        })
        .collect::<Vec<_>>();
    // A refused reason for a clock without the form (it has not breached) is still shown.
    if let Some((_, form)) = reason {
        errors.extend(form.errors.into_iter().map(|e| e.message));
    }
    Ok(SlaPanel {
        shown: true,
        clocks: rows,
        excluded,
        base,
        can_write: who.can(Permission::RecordsWrite),
        exclusion_form: forms.exclusion,
        errors,
    })
}

// ---------- Forms ----------

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ExclusionForm {
    reason: String,
    /// `true` puts an excluded record back into attainment.
    include: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ReasonForm {
    reason: String,
}

/// The record a form is about: its kind, id and page.
struct Record {
    kind: RecordKind,
    id: i64,
    page: String,
}

async fn incident(state: &AppState, who: &Principal, key: &str) -> Result<Record, UiError> {
    let i = find(state, who, key).await?;
    Ok(Record {
        kind: RecordKind::Incident,
        id: i.id,
        page: format!("/incidents/{}", i.key()),
    })
}

async fn request(state: &AppState, who: &Principal, key: &str) -> Result<Record, UiError> {
    let r = find_request(state, who, key).await?;
    Ok(Record {
        kind: RecordKind::Request,
        id: r.id,
        page: format!("/requests/{}", r.key()),
    })
}

/// Shows the record page again with the panel's refused form.
async fn again(
    state: &AppState,
    who: &Principal,
    kind: RecordKind,
    key: &str,
    forms: SlaForms,
    status: StatusCode,
) -> UiResult {
    match kind {
        RecordKind::Incident => {
            let extras = super::incidents::ViewExtras {
                sla: forms,
                ..Default::default()
            };
            super::incidents::render_view(state, who, key, extras, None, status).await
        }
        RecordKind::Request => {
            super::requests::render_with_sla(state, who, key, forms, status).await
        }
    }
}

/// A refusal a form shows: field errors, and a conflict as an error of the form's field.
fn refusal(e: StoreError, field: &str) -> Result<(Invalid, StatusCode), UiError> {
    match e {
        StoreError::Invalid(invalid) => Ok((invalid, StatusCode::UNPROCESSABLE_ENTITY)),
        StoreError::Conflict(message) => Ok((Invalid::one(field, message), StatusCode::CONFLICT)),
        other => Err(other.into()),
    }
}

async fn exclude(
    state: &AppState,
    who: &Principal,
    record: Record,
    key: &str,
    form: ExclusionForm,
) -> UiResult {
    let reason = (form.include != "true").then_some(form.reason.as_str());
    match state
        .store
        .set_sla_exclusion(
            who.tenant_id(),
            record.kind,
            record.id,
            reason,
            &who.actor(),
        )
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("{}?done=saved#sla", record.page)).into_response()),
        Err(e) => {
            let (invalid, status) = refusal(e, "reason")?;
            let forms = SlaForms {
                exclusion: FormState::with(&[("reason", &form.reason)]).rejected(invalid),
                reason: None,
            };
            again(state, who, record.kind, key, forms, status).await
        }
    }
}

async fn give_reason(
    state: &AppState,
    who: &Principal,
    record: Record,
    key: &str,
    clock_id: i64,
    form: ReasonForm,
) -> UiResult {
    match state
        .store
        .set_breach_reason(
            who.tenant_id(),
            record.kind,
            record.id,
            clock_id,
            &form.reason,
            &who.actor(),
        )
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("{}?done=saved#sla", record.page)).into_response()),
        Err(e) => {
            let (invalid, status) = refusal(e, "reason")?;
            let forms = SlaForms {
                exclusion: FormState::default(),
                reason: Some((
                    clock_id,
                    FormState::with(&[("reason", &form.reason)]).rejected(invalid),
                )),
            };
            again(state, who, record.kind, key, forms, status).await
        }
    }
}

pub async fn incident_exclusion(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Path(key): Path<String>,
    Form(form): Form<ExclusionForm>,
) -> UiResult {
    let record = incident(&state, &who, &key).await?;
    exclude(&state, &who, record, &key, form).await
}

pub async fn request_exclusion(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Path(key): Path<String>,
    Form(form): Form<ExclusionForm>,
) -> UiResult {
    let record = request(&state, &who, &key).await?;
    exclude(&state, &who, record, &key, form).await
}

pub async fn incident_reason(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Path((key, clock_id)): Path<(String, i64)>,
    Form(form): Form<ReasonForm>,
) -> UiResult {
    let record = incident(&state, &who, &key).await?;
    give_reason(&state, &who, record, &key, clock_id, form).await
}

pub async fn request_reason(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Path((key, clock_id)): Path<(String, i64)>,
    Form(form): Form<ReasonForm>,
) -> UiResult {
    let record = request(&state, &who, &key).await?;
    give_reason(&state, &who, record, &key, clock_id, form).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_domain::sla::AgreementKind;
    use steward_store::sla::RuleWords;

    fn clock(state: ClockState, remaining: i64, stopped: Option<i64>) -> ClockView {
        ClockView {
            id: 1,
            target: "resolution".into(),
            agreement_id: 1,
            agreement: "Standard".into(),
            agreement_kind: AgreementKind::Sla,
            calendar: "24×7".into(),
            target_minutes: 60,
            state,
            due_at: Some(0),
            warn_at: Some(0),
            remaining_minutes: remaining,
            elapsed_minutes: 60 - remaining,
            started_at: Some(0),
            stopped_at: stopped,
            pauses: Vec::new(),
            rule: RuleWords {
                starts: "when the record is opened".into(),
                pauses: "status is pending".into(),
                stops: "status is resolved".into(),
            },
            warned_at: None,
            breach_noted_at: None,
            breach_reason: None,
            excluded: None,
        }
    }

    #[test]
    fn a_clock_says_where_it_stands() {
        assert_eq!(
            standing(&clock(ClockState::Running, 200, None)),
            "3 h 20 min left"
        );
        assert_eq!(
            standing(&clock(ClockState::Breached, -5, None)),
            "overdue by 5 min"
        );
        assert_eq!(
            standing(&clock(ClockState::Breached, -5, Some(1))),
            "missed by 5 min"
        );
        assert_eq!(
            standing(&clock(ClockState::Met, 40, Some(1))),
            "met with 40 min to spare"
        );
        let over = row(clock(ClockState::Breached, -30, None), 75, 1, None);
        assert_eq!(over.elapsed_pct, 100, "the bar stops at its end");
        assert!(!over.warning, "a breach is past warning");
        let running = row(clock(ClockState::Running, 10, None), 75, 1, None);
        assert!(running.warning);
        assert_eq!(running.elapsed_pct, 83);
        assert_eq!(running.starts, "when the record is opened");
    }
}
