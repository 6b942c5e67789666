//! The CAB's page (`/changes/approvals`): the changes awaiting the signed-in person's
//! decision, in their own seat or in the seat of a member who delegated to them, with approve
//! and reject inline; and the decision itself (`POST /changes/{key}/approvals`), which the
//! change page posts too.
//!
//! The page also holds the person's delegations while away: whom they let sit in their seats
//! and when (`POST /changes/approvals/delegations`), ending one
//! (`POST /changes/approvals/delegations/{id}/end`), and those they received, through the same
//! store calls as the API's `/change-delegations`.
//!
//! Whether someone may decide now is the domain's `may_decide`, asked with the decisions and
//! delegations the store holds, so the page offers exactly the seats the store would accept.

use super::changes::{NAV_HREF, find, risk_label, typed_instant, window_text};
use super::{Chrome, FormState, Names, Opt, UiError, UiResult, options_after_blank, when};
use crate::AppState;
use crate::auth::{Can, Principal, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use steward_domain::Invalid;
use steward_domain::access::Role;
use steward_domain::change::approval::may_decide;
use steward_domain::change::{
    ApprovalState, ChangeStatus, Decision, Delegation, RiskLevel, Verdict,
};
use steward_store::change::{Approvals, Change, ChangeFilter, StoredDelegation};
use steward_store::{PageRequest, StoreError, now_micros};

/// A seat the signed-in person may decide in now: their own, or a delegating member's.
pub struct Seat {
    /// `Some(member)` when deciding as their delegate.
    pub on_behalf_of: Option<i64>,
}

/// The seats `me` may decide in on `change` now, given its approvals; none unless it awaits
/// authorisation.
pub async fn seats(
    state: &AppState,
    who: &Principal,
    change: &Change,
    approvals: &Approvals,
) -> Result<Vec<Seat>, StoreError> {
    let Some(board) = approvals.board.as_ref() else {
        return Ok(Vec::new());
    };
    let pending = matches!(approvals.state, ApprovalState::Pending { .. });
    if change.status != ChangeStatus::Authorisation || !pending {
        return Ok(Vec::new());
    }
    let me = who.user.id;
    let now = now_micros();
    let delegations: Vec<Delegation> = state
        .store
        .delegations_of(who.tenant_id(), me)
        .await?
        .into_iter()
        .filter(|d| d.to_user == me)
        .map(|d| Delegation {
            from: d.from_user,
            to: d.to_user,
            from_time: d.from_time,
            until: d.until,
        })
        .collect();
    let accepted: Vec<Decision> = approvals
        .decisions
        .iter()
        .map(|d| Decision {
            approver: d.approver_id,
            on_behalf_of: d.on_behalf_of,
            verdict: d.verdict,
            comment: d.comment.clone(),
            at: d.at,
        })
        .collect();
    let requester = change.requester_id.unwrap_or(0);
    let mut candidates = vec![None];
    candidates.extend(
        delegations
            .iter()
            .filter(|d| d.from_time <= now && now < d.until)
            .map(|d| Some(d.from)),
    );
    candidates.dedup();
    Ok(candidates
        .into_iter()
        .filter(|on_behalf_of| {
            let decision = Decision {
                approver: me,
                on_behalf_of: *on_behalf_of,
                verdict: Verdict::Approve,
                comment: String::new(),
                at: now,
            };
            may_decide(board, requester, &delegations, &accepted, &decision).is_ok()
        })
        .map(|on_behalf_of| Seat { on_behalf_of })
        .collect())
}

/// A change awaiting the person's decision.
pub struct Waiting {
    pub key: String,
    pub title: String,
    pub change_type: &'static str,
    pub risk: &'static str,
    pub risk_code: &'static str,
    pub window: String,
    pub conflicts: usize,
    pub progress: String,
    /// The delegating members whose seats the person fills, by id and name; `None` is their own.
    pub seats: Vec<(String, String)>,
}

/// A delegation the person gave or received.
pub struct DelegationRow {
    pub id: i64,
    /// The other person: the delegate of one given, the giver of one received.
    pub other: String,
    pub from: String,
    pub until: String,
    /// `active`, `planned` or `ended`.
    pub state: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "change_approvals.html")]
struct ApprovalsPage {
    chrome: Chrome,
    waiting: Vec<Waiting>,
    message: Option<String>,
    given: Vec<DelegationRow>,
    received: Vec<DelegationRow>,
    delegates: Vec<Opt>,
    delegation: FormState,
}

/// The person's delegations, given and received, newest first.
async fn delegations(
    state: &AppState,
    who: &Principal,
    users: &[(i64, String)],
) -> Result<(Vec<DelegationRow>, Vec<DelegationRow>), UiError> {
    let me = who.user.id;
    let now = now_micros();
    let row = |d: &StoredDelegation, other: i64| DelegationRow {
        id: d.id,
        other: person(users, other),
        from: when(d.from_time),
        until: when(d.until),
        state: if d.until <= now {
            "ended"
        } else if d.from_time > now {
            "planned"
        } else {
            "active"
        },
    };
    let all = state.store.delegations_of(who.tenant_id(), me).await?;
    let given = all
        .iter()
        .filter(|d| d.from_user == me)
        .map(|d| row(d, d.to_user))
        .collect();
    let received = all
        .iter()
        .filter(|d| d.to_user == me)
        .map(|d| row(d, d.from_user))
        .collect();
    Ok((given, received))
}

/// "2 of 3 approved, needs 2", or how the round ended.
pub fn progress(approvals: &Approvals) -> String {
    let seats = approvals.board.as_ref().map_or(0, |b| b.members.len());
    match &approvals.state {
        ApprovalState::Pending {
            approved, needed, ..
        } => format!("{approved} of {seats} approved, needs {needed}"),
        ApprovalState::Approved => "Approved".to_owned(),
        ApprovalState::Rejected { .. } => "Rejected".to_owned(),
    }
}

/// The person's name, or `user N` when they cannot read the directory.
pub fn person(users: &[(i64, String)], id: i64) -> String {
    users
        .iter()
        .find(|(i, _)| *i == id)
        .map_or_else(|| format!("user {id}"), |(_, n)| n.clone())
}

/// The changes in authorisation that `who` may decide on now, oldest first.
async fn waiting(state: &AppState, who: &Principal) -> Result<Vec<Waiting>, super::UiError> {
    let t = who.tenant_id();
    let names = super::Names::load(state, who).await?;
    let filter = ChangeFilter {
        status: Some(ChangeStatus::Authorisation),
        ..Default::default()
    };
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = PageRequest {
            limit: Some(200),
            cursor,
        };
        let found = state.store.changes(t, &filter, &page).await?;
        for change in found.items {
            let approvals = state.store.change_approvals(t, change.id).await?;
            let seats = seats(state, who, &change, &approvals).await?;
            if seats.is_empty() {
                continue;
            }
            let risk = change.risk.as_ref().map(|r| r.level);
            out.push(Waiting {
                key: change.key(),
                change_type: super::changes::type_label(change.change_type),
                risk: risk_label(risk),
                risk_code: risk.map_or("none", RiskLevel::as_str),
                window: window_text(change.window),
                conflicts: state.store.change_conflicts(t, change.id).await?.len(),
                progress: progress(&approvals),
                seats: seats
                    .iter()
                    .map(|s| {
                        (
                            s.on_behalf_of.map(|m| m.to_string()).unwrap_or_default(),
                            match s.on_behalf_of {
                                None => "my own seat".to_owned(),
                                Some(m) => format!("for {}", person(&names.users, m)),
                            },
                        )
                    })
                    .collect(),
                title: change.title,
            });
        }
        match found.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(out)
}

async fn render(
    state: &AppState,
    who: &Principal,
    message: Option<String>,
    delegation: FormState,
    status: StatusCode,
) -> UiResult {
    let names = Names::load(state, who).await?;
    let (given, received) = delegations(state, who, &names.users).await?;
    let me = who.user.id;
    let page = ApprovalsPage {
        chrome: Chrome::new(state, who, NAV_HREF).await,
        waiting: waiting(state, who).await?,
        message,
        given,
        received,
        delegates: options_after_blank(
            "— choose —",
            names
                .users
                .iter()
                .filter(|(id, _)| *id != me)
                .map(|(id, name)| (id.to_string(), name.clone())),
            delegation.value("to"),
        ),
        delegation,
    };
    Ok((status, page).into_response())
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ApprovalsQuery {
    done: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    who: Can<perm::ChangesWrite>,
    axum::extract::Query(q): axum::extract::Query<ApprovalsQuery>,
) -> UiResult {
    let message = q.done.as_deref().and_then(|d| match d {
        "approve" => Some("Your approval is recorded.".to_owned()),
        "reject" => Some("Your rejection is recorded; the change is rejected.".to_owned()),
        "delegated" => Some("Delegation saved.".to_owned()),
        "ended" => Some("Delegation ended; decisions already made under it stand.".to_owned()),
        _ => None,
    });
    render(&state, &who, message, FormState::default(), StatusCode::OK).await
}

/// What an approve or reject button posts.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct DecisionForm {
    verdict: String,
    comment: String,
    /// The delegating member's id, when deciding in their seat.
    on_behalf_of: String,
    /// `approvals` to come back to the approvals page; otherwise the change page.
    back: String,
}

/// `POST /changes/{key}/approvals`: records an approval or a rejection.
pub async fn decide(
    State(state): State<AppState>,
    who: Can<perm::ChangesWrite>,
    axum::extract::Path(key): axum::extract::Path<String>,
    Form(form): Form<DecisionForm>,
) -> UiResult {
    let change = find(&state, &who, &key).await?;
    let verdict = Verdict::parse(form.verdict.trim());
    let on_behalf_of = form.on_behalf_of.trim().parse().ok();
    let result = match verdict {
        None => Err(StoreError::Conflict(
            "Choose to approve or to reject".to_owned(),
        )),
        Some(v) => {
            state
                .store
                .decide_change(
                    who.tenant_id(),
                    change.id,
                    v,
                    &form.comment,
                    on_behalf_of,
                    &who.actor(),
                )
                .await
        }
    };
    let back_to_queue = form.back == "approvals";
    let refusal = match result {
        Ok(_) => {
            let done = verdict.map_or("approve", Verdict::as_str);
            let to = if back_to_queue {
                format!("/changes/approvals?done={done}")
            } else {
                format!("/changes/{}?done={done}#approvals", change.key())
            };
            return Ok(Redirect::to(&to).into_response());
        }
        Err(StoreError::Invalid(invalid)) => invalid
            .errors
            .into_iter()
            .map(|e| e.message)
            .collect::<Vec<_>>()
            .join("; "),
        Err(StoreError::Conflict(message)) => message,
        Err(e) => return Err(e.into()),
    };
    let message = format!("{}: {refusal}", change.key());
    if back_to_queue {
        render(
            &state,
            &who,
            Some(message),
            FormState::default(),
            StatusCode::CONFLICT,
        )
        .await
    } else {
        super::change_view::render(
            &state,
            &who,
            &change.key(),
            super::change_view::Shown {
                error: Some(message),
                comment: form.comment,
                ..Default::default()
            },
            StatusCode::CONFLICT,
        )
        .await
    }
}

/// What the delegation form posts.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct DelegationForm {
    to: String,
    from_time: String,
    until: String,
}

/// `POST /changes/approvals/delegations`: while the person is away, `to` decides in their seats.
pub async fn delegate(
    State(state): State<AppState>,
    who: Can<perm::ChangesWrite>,
    Form(form): Form<DelegationForm>,
) -> UiResult {
    let typed = FormState::with(&[
        ("to", &form.to),
        ("from_time", &form.from_time),
        ("until", &form.until),
    ]);
    let mut errors = Invalid::new();
    let to = form.to.trim().parse().unwrap_or_else(|_| {
        errors.add("to", "Choose whom to delegate to");
        0
    });
    let example = "Give a date and time such as 2031-03-01 22:00 (UTC)";
    let from_time = match typed_instant(&form.from_time) {
        Ok(t) => t.unwrap_or_else(now_micros),
        Err(()) => {
            errors.add("from_time", example);
            0
        }
    };
    let until = match typed_instant(&form.until) {
        Ok(Some(t)) => t,
        Ok(None) => {
            errors.add("until", "Say until when");
            0
        }
        Err(()) => {
            errors.add("until", example);
            0
        }
    };
    let saved = if errors.errors.is_empty() {
        let delegation = Delegation {
            from: who.user.id,
            to,
            from_time,
            until,
        };
        state
            .store
            .create_delegation(who.tenant_id(), &delegation, &who.actor())
            .await
    } else {
        Err(errors.into())
    };
    match saved {
        Ok(_) => Ok(Redirect::to("/changes/approvals?done=delegated#delegations").into_response()),
        Err(StoreError::Invalid(invalid)) => {
            render(
                &state,
                &who,
                None,
                typed.rejected(invalid),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /changes/approvals/delegations/{id}/end`: ends a delegation now. Only its giver (or
/// an admin) may, as in the API; anyone else is told it does not exist.
pub async fn end_delegation(
    State(state): State<AppState>,
    who: Can<perm::ChangesWrite>,
    Path(id): Path<i64>,
) -> UiResult {
    let current = state.store.delegation(who.tenant_id(), id).await?;
    if current.from_user != who.user.id && who.role() != Role::Admin {
        return Err(UiError::NotFound);
    }
    state
        .store
        .end_delegation(who.tenant_id(), id, &who.actor())
        .await?;
    Ok(Redirect::to("/changes/approvals?done=ended#delegations").into_response())
}
