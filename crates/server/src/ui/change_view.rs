//! The change page (`/changes/{key}`): its fields, the moves its lifecycle allows now, its
//! risk and the questionnaire while it may be answered, its impact from the CMDB, its
//! conflicts, the approval panel, the post-implementation review and its history; and the
//! posts those forms make (transitions, risk, review). Decisions are `change_approvals`'.

use super::change_approvals::{person, progress, seats};
use super::change_form::{questions, risk_errors};
use super::changes::{
    NAV_HREF, action_label, find, risk_label, status_label, type_label, window_text,
};
use super::{Chrome, FormState, HistoryRow, Names, UiResult, history, when};
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
use steward_domain::change::schedule::Conflict;
use steward_domain::change::{ApprovalStage, ChangeStatus, RiskLevel};
use steward_store::StoreError;
use steward_store::change::{Change, ReviewInput, ReviewOutcome};

use super::change_form::QuestionView;

/// What the page shows beyond the change: a message, and forms as they were posted.
#[derive(Default)]
pub struct Shown {
    pub error: Option<String>,
    pub done: Option<String>,
    /// The decision comment as typed.
    pub comment: String,
    pub risk: FormState,
    pub review: FormState,
}

pub struct Move {
    pub to: &'static str,
    pub label: &'static str,
    pub confirm: bool,
}

pub struct ConflictRow {
    pub kind: &'static str,
    pub message: String,
    /// The other change's key, for collisions.
    pub change: Option<String>,
    pub change_title: String,
}

pub struct DecisionRow {
    pub who: String,
    pub verdict: &'static str,
    pub comment: String,
    pub at: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "change_view.html")]
struct ViewPage {
    chrome: Chrome,
    c: Change,
    key: String,
    status: &'static str,
    change_type: &'static str,
    risk: &'static str,
    risk_code: &'static str,
    major: bool,
    window: String,
    requester: String,
    assignee: String,
    template: Option<String>,
    created: String,
    updated: String,
    moves: Vec<Move>,
    cis: Vec<(i64, String)>,
    services: Vec<(i64, String)>,
    records: Vec<(String, String, String)>,
    answers: Vec<(String, String)>,
    questions: Vec<QuestionView>,
    can_assess: bool,
    /// The store lets it be edited (draft or assessment) and the person may.
    can_edit: bool,
    impact_services: Vec<(i64, String)>,
    dependent_cis: usize,
    conflicts: Vec<ConflictRow>,
    stage: String,
    board: Vec<String>,
    quorum: String,
    progress: String,
    stuck: bool,
    decisions: Vec<DecisionRow>,
    seats: Vec<(String, String)>,
    show_review: bool,
    review_outcomes: Vec<super::Opt>,
    review_done: Option<String>,
    shown: Shown,
    notice: Option<&'static str>,
    history: Option<Vec<HistoryRow>>,
}

fn notice(done: Option<&str>) -> Option<&'static str> {
    done.and_then(|d| match d {
        "created" => Some("Change raised."),
        "scheduled" => Some("Standard change raised and scheduled."),
        "not_scheduled" => {
            Some("Change raised as a draft: it could not be scheduled yet (see its conflicts).")
        }
        "moved" => Some("Status changed."),
        "saved" => Some("Change saved."),
        "assessed" => Some("Risk assessed."),
        "reviewed" => Some("Review recorded."),
        "approve" => Some("Your approval is recorded."),
        "reject" => Some("Your rejection is recorded; the change is rejected."),
        _ => None,
    })
}

fn outcome_label(o: ReviewOutcome) -> &'static str {
    match o {
        ReviewOutcome::Successful => "successful",
        ReviewOutcome::PartiallySuccessful => "partially successful",
        ReviewOutcome::Failed => "failed",
    }
}

pub async fn render(
    state: &AppState,
    who: &Principal,
    key: &str,
    shown: Shown,
    status: StatusCode,
) -> UiResult {
    let t = who.tenant_id();
    let c = find(state, who, key).await?;
    let names = Names::load(state, who).await?;
    let policy = state.store.change_policy(t).await?;
    let can_write = who.can(Permission::ChangesWrite);
    let impact = state.store.change_impact(t, c.id).await?;
    let risk = c.risk.as_ref().map(|r| r.level);
    let mut cis = Vec::new();
    for id in &c.ci_ids {
        let name = match state.store.ci(t, *id).await {
            Ok(ci) => ci.name,
            Err(StoreError::NotFound) => format!("CI {id}"),
            Err(e) => return Err(e.into()),
        };
        cis.push((*id, name));
    }
    let mut records = Vec::new();
    for id in &c.incident_ids {
        if let Ok(i) = state.store.incident(t, *id).await {
            records.push(("incidents".to_owned(), i.key(), i.title));
        }
    }
    for id in &c.problem_ids {
        if let Ok(p) = state.store.problem(t, *id).await {
            records.push(("problems".to_owned(), p.key(), p.title));
        }
    }
    let service = |id: &i64| (*id, Names::of(&names.services, Some(*id)));
    let answers = c.risk.as_ref().map_or_else(Vec::new, |r| {
        policy
            .questionnaire
            .questions
            .iter()
            .filter_map(|q| {
                let chosen = r.answers.get(&q.id)?;
                let label = q
                    .options
                    .iter()
                    .find(|o| &o.id == chosen)
                    .map_or_else(|| chosen.clone(), |o| format!("{} ({})", o.label, o.score));
                Some((q.text.clone(), label))
            })
            .collect()
    });
    let editable = matches!(c.status, ChangeStatus::Draft | ChangeStatus::Assessment);
    let risk_form = if shown.risk.has_errors() || !editable {
        None
    } else {
        Some(c.risk.as_ref().map_or_else(FormState::default, |r| {
            let values: Vec<(String, String)> = r
                .answers
                .iter()
                .map(|(q, a)| (format!("risk.{q}"), a.clone()))
                .collect();
            let refs: Vec<(&str, &str)> = values
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            FormState::with(&refs)
        }))
    };
    let risk_values = risk_form.as_ref().unwrap_or(&shown.risk);
    let questions = questions(&policy.questionnaire, |name| {
        risk_values.value(name).to_owned()
    });
    let conflicts = state
        .store
        .change_conflicts(t, c.id)
        .await?
        .into_iter()
        .map(|k| {
            let (kind, message) = match &k.conflict {
                Conflict::Blackout { name, .. } => (
                    "blackout",
                    format!("The window falls in the blackout “{name}”"),
                ),
                Conflict::SameCi { ci_id, .. } => (
                    "collision",
                    format!(
                        "Changes the same CI ({}) at an overlapping time",
                        ci_name(&cis, *ci_id)
                    ),
                ),
                Conflict::DependentCi { ours, theirs, .. } => (
                    "collision",
                    format!(
                        "Changes CI {theirs}, one dependency away from {}, at an overlapping time",
                        ci_name(&cis, *ours)
                    ),
                ),
            };
            ConflictRow {
                kind,
                message,
                change: k
                    .other
                    .as_ref()
                    .map(|o| steward_domain::change::key(o.number)),
                change_title: k.other.map(|o| o.title).unwrap_or_default(),
            }
        })
        .collect();
    let approvals = state.store.change_approvals(t, c.id).await?;
    let stage = match &approvals.stage {
        ApprovalStage::None => "None: the standard-change template is the approval",
        ApprovalStage::ChangeManager => "Change manager (any admin or manager)",
        ApprovalStage::Cab { .. } => "Change advisory board (CAB)",
        ApprovalStage::Ecab { .. } => "Emergency CAB (ECAB)",
    }
    .to_owned();
    let board = approvals.board.as_ref().map_or_else(Vec::new, |b| {
        b.members.iter().map(|m| person(&names.users, *m)).collect()
    });
    let quorum = approvals.board.as_ref().map_or_else(String::new, |b| {
        format!("{} of {}", b.quorum, b.members.len())
    });
    let decisions = approvals
        .decisions
        .iter()
        .map(|d| DecisionRow {
            who: match d.on_behalf_of {
                None => person(&names.users, d.approver_id),
                Some(m) => format!(
                    "{} for {}",
                    person(&names.users, d.approver_id),
                    person(&names.users, m)
                ),
            },
            verdict: if d.verdict.as_str() == "approve" {
                "approved"
            } else {
                "rejected"
            },
            comment: d.comment.clone(),
            at: when(d.at),
        })
        .collect();
    let my_seats = if can_write {
        seats(state, who, &c, &approvals).await?
    } else {
        Vec::new()
    };
    let moves = if can_write {
        c.change_type
            .next(c.status)
            .iter()
            .filter(|s| **s != ChangeStatus::Rejected)
            .map(|s| Move {
                to: s.as_str(),
                label: action_label(*s),
                confirm: matches!(s, ChangeStatus::Cancelled | ChangeStatus::Failed),
            })
            .collect()
    } else {
        Vec::new()
    };
    let show_review =
        can_write && matches!(c.status, ChangeStatus::Implementing | ChangeStatus::Review);
    let review_values = if shown.review.has_errors() {
        None
    } else {
        c.review.as_ref().map(|r| {
            FormState::with(&[
                ("outcome", r.outcome.as_str()),
                ("notes", r.notes.as_str()),
                ("backed_out", if r.backed_out { "on" } else { "" }),
            ])
        })
    };
    let review_form = review_values.unwrap_or(shown.review);
    let shown = Shown {
        review: review_form,
        ..shown
    };
    let page = ViewPage {
        chrome: Chrome::new(state, who, NAV_HREF).await,
        key: c.key(),
        status: status_label(c.status),
        change_type: type_label(c.change_type),
        risk: risk_label(risk),
        risk_code: risk.map_or("none", RiskLevel::as_str),
        major: policy.is_major(risk, &impact.service_ids),
        window: window_text(c.window),
        requester: c
            .requester_id
            .map_or_else(|| "—".to_owned(), |id| person(&names.users, id)),
        assignee: c
            .assignee_id
            .map_or_else(|| "—".to_owned(), |id| person(&names.users, id)),
        template: match c.template_id {
            None => None,
            Some(id) => Some(
                state
                    .store
                    .change_templates(t, true)
                    .await?
                    .into_iter()
                    .find(|tpl| tpl.id == id)
                    .map_or_else(|| format!("template {id}"), |tpl| tpl.name),
            ),
        },
        created: when(c.created_at),
        updated: when(c.updated_at),
        moves,
        cis,
        services: c.service_ids.iter().map(service).collect(),
        records,
        answers,
        questions,
        can_assess: can_write && editable,
        can_edit: can_write && editable,
        impact_services: impact.service_ids.iter().map(service).collect(),
        dependent_cis: impact.dependent_cis,
        conflicts,
        stage,
        board,
        quorum,
        progress: progress(&approvals),
        stuck: approvals.state.is_stuck(),
        decisions,
        seats: my_seats
            .iter()
            .map(|s| {
                (
                    s.on_behalf_of.map(|m| m.to_string()).unwrap_or_default(),
                    match s.on_behalf_of {
                        None => "in my own seat".to_owned(),
                        Some(m) => format!("for {}", person(&names.users, m)),
                    },
                )
            })
            .collect(),
        show_review,
        review_outcomes: super::filter_choices(
            &[
                ReviewOutcome::Successful,
                ReviewOutcome::PartiallySuccessful,
                ReviewOutcome::Failed,
            ],
            "— choose —",
            ReviewOutcome::as_str,
            outcome_label,
            shown.review.value("outcome"),
        ),
        review_done: c.review.as_ref().map(|r| {
            format!(
                "{}{}, {}",
                outcome_label(r.outcome),
                if r.backed_out { ", backed out" } else { "" },
                when(r.reviewed_at)
            )
        }),
        notice: notice(shown.done.as_deref()),
        shown,
        history: history(state, who, "change", c.id).await,
        c,
    };
    Ok((status, page).into_response())
}

fn ci_name(cis: &[(i64, String)], id: i64) -> String {
    cis.iter()
        .find(|(i, _)| *i == id)
        .map_or_else(|| format!("CI {id}"), |(_, n)| n.clone())
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ViewQuery {
    done: Option<String>,
}

pub async fn view(
    State(state): State<AppState>,
    who: Can<perm::ChangesRead>,
    Path(key): Path<String>,
    Query(q): Query<ViewQuery>,
) -> UiResult {
    let shown = Shown {
        done: q.done,
        ..Default::default()
    };
    render(&state, &who, &key, shown, StatusCode::OK).await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct TransitionForm {
    to: String,
}

/// `POST /changes/{key}/transitions`: one of the moves the page offers.
pub async fn transition(
    State(state): State<AppState>,
    who: Can<perm::ChangesWrite>,
    Path(key): Path<String>,
    Form(form): Form<TransitionForm>,
) -> UiResult {
    let change = find(&state, &who, &key).await?;
    let Some(to) = ChangeStatus::parse(form.to.trim()) else {
        let shown = Shown {
            error: Some("Choose one of the moves offered".to_owned()),
            ..Default::default()
        };
        return render(&state, &who, &key, shown, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    match state
        .store
        .transition_change(who.tenant_id(), change.id, to, &who.actor())
        .await
    {
        Ok(moved) => {
            Ok(Redirect::to(&format!("/changes/{}?done=moved", moved.key())).into_response())
        }
        Err(StoreError::Conflict(message)) => {
            let shown = Shown {
                error: Some(format!(
                    "{} could not move to {}: {message}",
                    change.key(),
                    status_label(to)
                )),
                ..Default::default()
            };
            render(&state, &who, &key, shown, StatusCode::CONFLICT).await
        }
        Err(StoreError::Invalid(invalid)) => {
            let shown = Shown {
                error: Some(messages(invalid)),
                ..Default::default()
            };
            render(&state, &who, &key, shown, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}

fn messages(invalid: Invalid) -> String {
    invalid
        .errors
        .into_iter()
        .map(|e| e.message)
        .collect::<Vec<_>>()
        .join("; ")
}

/// `POST /changes/{key}/risk`: answers the questionnaire (`risk.<question id>`).
pub async fn assess(
    State(state): State<AppState>,
    who: Can<perm::ChangesWrite>,
    Path(key): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> UiResult {
    let change = find(&state, &who, &key).await?;
    let answers: steward_domain::change::risk::Answers = pairs
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("risk.")?.to_owned(), v.trim().to_owned())))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let typed: Vec<(&str, &str)> = pairs
        .iter()
        .filter(|(k, _)| k.starts_with("risk."))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    match state
        .store
        .assess_change_risk(who.tenant_id(), change.id, &answers, &who.actor())
        .await
    {
        Ok(_) => Ok(
            Redirect::to(&format!("/changes/{}?done=assessed#risk", change.key())).into_response(),
        ),
        Err(StoreError::Invalid(invalid)) => {
            let shown = Shown {
                risk: FormState::with(&typed).rejected(risk_errors(invalid)),
                error: Some("Answer every question of the risk assessment".to_owned()),
                ..Default::default()
            };
            render(&state, &who, &key, shown, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(StoreError::Conflict(message)) => {
            let shown = Shown {
                error: Some(message),
                ..Default::default()
            };
            render(&state, &who, &key, shown, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ReviewForm {
    outcome: String,
    backed_out: String,
    notes: String,
}

/// `POST /changes/{key}/review`: the post-implementation review.
pub async fn review(
    State(state): State<AppState>,
    who: Can<perm::ChangesWrite>,
    Path(key): Path<String>,
    Form(form): Form<ReviewForm>,
) -> UiResult {
    let change = find(&state, &who, &key).await?;
    let typed = FormState::with(&[
        ("outcome", form.outcome.as_str()),
        ("backed_out", form.backed_out.as_str()),
        ("notes", form.notes.as_str()),
    ]);
    let Some(outcome) = ReviewOutcome::parse(form.outcome.trim()) else {
        let shown = Shown {
            review: typed.rejected(Invalid::one("outcome", "Choose how the change went")),
            ..Default::default()
        };
        return render(&state, &who, &key, shown, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let input = ReviewInput {
        outcome,
        backed_out: !form.backed_out.is_empty(),
        notes: form.notes.clone(),
    };
    match state
        .store
        .review_change(who.tenant_id(), change.id, &input, &who.actor())
        .await
    {
        Ok(_) => Ok(
            Redirect::to(&format!("/changes/{}?done=reviewed#review", change.key()))
                .into_response(),
        ),
        Err(StoreError::Invalid(invalid)) => {
            let shown = Shown {
                review: typed.rejected(invalid),
                ..Default::default()
            };
            render(&state, &who, &key, shown, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(StoreError::Conflict(message)) => {
            let shown = Shown {
                error: Some(message),
                review: typed,
                ..Default::default()
            };
            render(&state, &who, &key, shown, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}
