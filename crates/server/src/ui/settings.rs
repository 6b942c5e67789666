//! The admin's settings page: priority matrix and process windows.

use super::{Chrome, FormState, UiResult};
use crate::AppState;
use crate::api::settings::replace;
use crate::auth::{Can, Principal, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use steward_domain::Invalid;
use steward_domain::incident::{Level, Priority, PriorityMatrix};
use steward_domain::settings::TenantSettings;

/// One matrix row: impact label, and per urgency (field name, accessible label, priority).
type MatrixRow = (&'static str, Vec<(String, String, &'static str)>);

#[derive(Template, WebTemplate)]
#[template(path = "settings.html")]
struct SettingsPage {
    chrome: Chrome,
    form: FormState,
    levels: Vec<&'static str>,
    priorities: Vec<&'static str>,
    matrix: Vec<MatrixRow>,
}

const LEVELS: [Level; 3] = [Level::Low, Level::Medium, Level::High];

fn cell_name(impact: Level, urgency: Level) -> String {
    format!("m_{impact}_{urgency}")
}

async fn render(
    state: &AppState,
    who: &Principal,
    s: &TenantSettings,
    form: FormState,
    status: StatusCode,
) -> UiResult {
    let matrix = LEVELS
        .iter()
        .map(|&i| {
            let cells = LEVELS
                .iter()
                .map(|&u| {
                    (
                        cell_name(i, u),
                        format!("Priority for {i} impact and {u} urgency"),
                        s.priority_matrix.priority(i, u).as_str(),
                    )
                })
                .collect();
            (i.as_str(), cells)
        })
        .collect();
    let page = SettingsPage {
        chrome: Chrome::new(state, who, "/settings").await,
        form,
        levels: LEVELS.iter().map(|l| l.as_str()).collect(),
        priorities: Priority::ALL.iter().map(|p| p.as_str()).collect(),
        matrix,
    };
    Ok((status, page).into_response())
}

fn values(s: &TenantSettings) -> FormState {
    FormState::with(&[
        ("reopen_window_days", &s.reopen_window_days.to_string()),
        ("candidate_threshold", &s.candidate_threshold.to_string()),
        (
            "candidate_window_days",
            &s.candidate_window_days.to_string(),
        ),
    ])
}

pub async fn page(State(state): State<AppState>, who: Can<perm::UsersWrite>) -> UiResult {
    let settings = state.store.settings(who.tenant_id()).await?;
    render(&state, &who, &settings, values(&settings), StatusCode::OK).await
}

/// Reads the form into settings, noting every field that is not a number or a priority.
fn read(fields: &[(String, String)]) -> Result<TenantSettings, Invalid> {
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let mut errors = Invalid::new();
    let mut number = |name: &str, label: &str| {
        get(name).trim().parse::<u32>().unwrap_or_else(|_| {
            errors.add(name, format!("{label} must be a whole number"));
            0
        })
    };
    let reopen_window_days = number("reopen_window_days", "The reopen window");
    let candidate_threshold = number("candidate_threshold", "The candidate threshold");
    let candidate_window_days = number("candidate_window_days", "The candidate window");
    let mut cells = PriorityMatrix::default().cells;
    for (i, impact) in LEVELS.iter().enumerate() {
        for (u, urgency) in LEVELS.iter().enumerate() {
            match Priority::parse(get(&cell_name(*impact, *urgency))) {
                Some(p) => cells[i][u] = p,
                None => errors.add("priority_matrix", "Choose P1 to P5 in every cell"),
            }
        }
    }
    errors.into_result(TenantSettings {
        priority_matrix: PriorityMatrix { cells },
        reopen_window_days,
        candidate_threshold,
        candidate_window_days,
    })
}

pub async fn save(
    State(state): State<AppState>,
    who: Can<perm::UsersWrite>,
    Form(fields): Form<Vec<(String, String)>>,
) -> UiResult {
    let typed = FormState::with(&[
        (
            "reopen_window_days",
            fields
                .iter()
                .find(|(k, _)| k == "reopen_window_days")
                .map_or("", |(_, v)| v.as_str()),
        ),
        (
            "candidate_threshold",
            fields
                .iter()
                .find(|(k, _)| k == "candidate_threshold")
                .map_or("", |(_, v)| v.as_str()),
        ),
        (
            "candidate_window_days",
            fields
                .iter()
                .find(|(k, _)| k == "candidate_window_days")
                .map_or("", |(_, v)| v.as_str()),
        ),
    ]);
    let current = state.store.settings(who.tenant_id()).await?;
    let result = match read(&fields) {
        Ok(settings) => replace(&state, &who, settings.clone())
            .await
            .map(|_| ())
            .map_err(|e| {
                if e.status() == StatusCode::UNPROCESSABLE_ENTITY {
                    Ok((
                        Invalid {
                            errors: e.field_errors().to_vec(),
                        },
                        settings,
                    ))
                } else {
                    Err(e)
                }
            }),
        Err(invalid) => Err(Ok((invalid, current))),
    };
    match result {
        Ok(()) => Ok(Redirect::to("/?done=saved").into_response()),
        Err(Ok((invalid, shown))) => {
            render(
                &state,
                &who,
                &shown,
                typed.rejected(invalid),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(Err(e)) => Err(e.into()),
    }
}
