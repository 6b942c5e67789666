//! Administration pages: users, teams and API tokens.

use super::session::DoneQuery;
use super::{
    Chrome, FormState, HistoryRow, Id, Opt, UiResult, after_save, history, next_link, options, when,
};
use crate::AppState;
use crate::auth::{Can, Principal, hash_password, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use steward_domain::Invalid;
use steward_domain::access::{Permission, Role};
use steward_domain::team::TeamDraft;
use steward_domain::user::{UserDraft, check_password, name_from_email};
use steward_store::identity::{User, UserFilter};
use steward_store::team::Team;
use steward_store::{PageRequest, StoreError};

#[derive(Template, WebTemplate)]
#[template(path = "users.html")]
struct UsersPage {
    chrome: Chrome,
    rows: Vec<User>,
    me: i64,
    next: Option<String>,
    can_write: bool,
    form: FormState,
    roles: Vec<Opt>,
    role_names: Vec<&'static str>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct CursorQuery {
    cursor: Option<String>,
    done: Option<String>,
}

async fn render_users(
    state: &AppState,
    who: &Principal,
    cursor: Option<String>,
    form: FormState,
    done: Option<&str>,
    status: StatusCode,
) -> UiResult {
    let page = PageRequest {
        limit: Some(100),
        cursor,
    };
    let found = match state
        .store
        .users(who.tenant_id(), &UserFilter::default(), &page)
        .await
    {
        Err(StoreError::Invalid(_)) => return Ok(Redirect::to("/users").into_response()),
        other => other?,
    };
    let roles = options(
        Role::ALL.iter().map(|r| (r.to_string(), r.to_string())),
        form.value("role"),
    );
    let page = UsersPage {
        chrome: Chrome::new(state, who, "/users").await.with_notice(done),
        rows: found.items,
        me: who.user.id,
        next: next_link("/users", &[], found.next_cursor),
        can_write: who.can(Permission::UsersWrite),
        form,
        roles,
        role_names: Role::ALL.iter().map(|r| r.as_str()).collect(),
    };
    Ok((status, page).into_response())
}

pub async fn users(
    State(state): State<AppState>,
    who: Can<perm::UsersRead>,
    Query(q): Query<CursorQuery>,
) -> UiResult {
    let form = FormState::with(&[("role", "agent")]);
    render_users(
        &state,
        &who,
        q.cursor,
        form,
        q.done.as_deref(),
        StatusCode::OK,
    )
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct UserForm {
    email: String,
    name: String,
    role: String,
    password: String,
}

async fn create_user_from(
    state: &AppState,
    who: &Principal,
    form: &UserForm,
) -> Result<User, StoreError> {
    let role: Role = form
        .role
        .parse()
        .map_err(|_| Invalid::one("role", "Choose a role from the list"))?;
    let name = if form.name.trim().is_empty() {
        name_from_email(form.email.trim())
    } else {
        form.name.clone()
    };
    let draft = UserDraft {
        email: form.email.clone(),
        name,
        role,
        active: true,
    }
    .validate()?;
    let hash = if form.password.is_empty() {
        None
    } else {
        check_password("password", &form.password)?;
        Some(
            hash_password(form.password.clone())
                .await
                .map_err(|_| StoreError::Config("password hashing failed".into()))?,
        )
    };
    state
        .store
        .create_user(who.tenant_id(), &draft, hash.as_deref(), &who.actor())
        .await
}

pub async fn create_user(
    State(state): State<AppState>,
    who: Can<perm::UsersWrite>,
    Form(form): Form<UserForm>,
) -> UiResult {
    match create_user_from(&state, &who, &form).await {
        Ok(_) => Ok(Redirect::to("/users?done=created").into_response()),
        Err(StoreError::Invalid(invalid)) => {
            let values = FormState::with(&[
                ("email", &form.email),
                ("name", &form.name),
                ("role", &form.role),
            ])
            .rejected(invalid);
            render_users(
                &state,
                &who,
                None,
                values,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ActiveForm {
    active: bool,
}

pub async fn set_user_active(
    State(state): State<AppState>,
    who: Can<perm::UsersWrite>,
    Id(id): Id<i64>,
    Form(form): Form<ActiveForm>,
) -> UiResult {
    if id == who.user.id {
        return Ok(Redirect::to("/users").into_response());
    }
    let user = state.store.user(who.tenant_id(), id).await?;
    let draft = UserDraft {
        email: user.email,
        name: user.name,
        role: user.role,
        active: form.active,
    };
    state
        .store
        .update_user(who.tenant_id(), id, &draft, &who.actor())
        .await?;
    Ok(Redirect::to("/users?done=saved").into_response())
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct RoleForm {
    role: String,
}

pub async fn set_user_role(
    State(state): State<AppState>,
    who: Can<perm::UsersWrite>,
    Id(id): Id<i64>,
    Form(form): Form<RoleForm>,
) -> UiResult {
    let Ok(role) = form.role.parse::<Role>() else {
        return Ok(Redirect::to("/users").into_response());
    };
    if id == who.user.id {
        return Ok(Redirect::to("/users").into_response());
    }
    let user = state.store.user(who.tenant_id(), id).await?;
    let draft = UserDraft {
        email: user.email,
        name: user.name,
        role,
        active: user.active,
    };
    state
        .store
        .update_user(who.tenant_id(), id, &draft, &who.actor())
        .await?;
    Ok(Redirect::to("/users?done=saved").into_response())
}

pub struct TeamRow {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub members: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "teams.html")]
struct TeamsPage {
    chrome: Chrome,
    rows: Vec<TeamRow>,
    next: Option<String>,
    can_write: bool,
    form: FormState,
}

async fn render_teams(
    state: &AppState,
    who: &Principal,
    cursor: Option<String>,
    form: FormState,
    done: Option<&str>,
    status: StatusCode,
) -> UiResult {
    let page = PageRequest {
        limit: Some(100),
        cursor,
    };
    let found = match state.store.teams(who.tenant_id(), None, &page).await {
        Err(StoreError::Invalid(_)) => return Ok(Redirect::to("/teams").into_response()),
        other => other?,
    };
    let mut rows = Vec::new();
    for t in found.items {
        let members = state.store.team_members(who.tenant_id(), t.id).await?.len();
        rows.push(TeamRow {
            id: t.id,
            name: t.name,
            description: t.description,
            members,
        });
    }
    let page = TeamsPage {
        chrome: Chrome::new(state, who, "/teams").await.with_notice(done),
        rows,
        next: next_link("/teams", &[], found.next_cursor),
        can_write: who.can(Permission::TeamsWrite),
        form,
    };
    Ok((status, page).into_response())
}

pub async fn teams(
    State(state): State<AppState>,
    who: Can<perm::TeamsRead>,
    Query(q): Query<CursorQuery>,
) -> UiResult {
    render_teams(
        &state,
        &who,
        q.cursor,
        FormState::default(),
        q.done.as_deref(),
        StatusCode::OK,
    )
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct TeamForm {
    name: String,
    description: String,
}

pub async fn create_team(
    State(state): State<AppState>,
    who: Can<perm::TeamsWrite>,
    Form(form): Form<TeamForm>,
) -> UiResult {
    let saved = async {
        let draft = TeamDraft {
            name: form.name.clone(),
            description: form.description.clone(),
        }
        .validate()?;
        state
            .store
            .create_team(who.tenant_id(), &draft, &who.actor())
            .await
    }
    .await;
    after_save(
        saved,
        |team| format!("/teams/{}?done=created", team.id),
        |invalid| async move {
            let values =
                FormState::with(&[("name", &form.name), ("description", &form.description)])
                    .rejected(invalid);
            render_teams(
                &state,
                &who,
                None,
                values,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        },
    )
    .await
}

pub struct Person {
    pub id: i64,
    pub label: String,
    pub selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "team_view.html")]
struct TeamPage {
    chrome: Chrome,
    team: Team,
    people: Vec<Person>,
    can_write: bool,
    form: FormState,
    history: Option<Vec<HistoryRow>>,
}

pub async fn team(
    State(state): State<AppState>,
    who: Can<perm::TeamsRead>,
    Id(id): Id<i64>,
    Query(q): Query<DoneQuery>,
) -> UiResult {
    render_team(&state, &who, id, None, q.done.as_deref()).await
}

/// The team page; `rejected` carries a rename that failed validation, to show it again.
async fn render_team(
    state: &AppState,
    who: &Principal,
    id: i64,
    rejected: Option<(TeamForm, Invalid)>,
    done: Option<&str>,
) -> UiResult {
    let team = state.store.team(who.tenant_id(), id).await?;
    let members = state.store.team_members(who.tenant_id(), id).await?;
    let filter = UserFilter {
        active: Some(true),
        sort: Some("name".into()),
        ..Default::default()
    };
    let page = PageRequest {
        limit: Some(500),
        cursor: None,
    };
    let users = state.store.users(who.tenant_id(), &filter, &page).await?;
    let people = users
        .items
        .into_iter()
        .map(|u| Person {
            selected: members.contains(&u.id),
            id: u.id,
            label: format!("{} <{}>", u.name, u.email),
        })
        .collect();
    let (form, status) = match rejected {
        Some((form, invalid)) => (
            FormState::with(&[("name", &form.name), ("description", &form.description)])
                .rejected(invalid),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        None => (
            FormState::with(&[("name", &team.name), ("description", &team.description)]),
            StatusCode::OK,
        ),
    };
    let page = TeamPage {
        chrome: Chrome::new(state, who, "/teams").await.with_notice(done),
        team,
        people,
        can_write: who.can(Permission::TeamsWrite),
        form,
        history: history(state, who, "team", id).await,
    };
    Ok((status, page).into_response())
}

pub async fn update_team(
    State(state): State<AppState>,
    who: Can<perm::TeamsWrite>,
    Id(id): Id<i64>,
    Form(form): Form<TeamForm>,
) -> UiResult {
    let saved = async {
        let draft = TeamDraft {
            name: form.name.clone(),
            description: form.description.clone(),
        }
        .validate()?;
        state
            .store
            .update_team(who.tenant_id(), id, &draft, &who.actor())
            .await
    }
    .await;
    after_save(
        saved,
        |_| format!("/teams/{id}?done=saved"),
        |invalid| render_team(&state, &who, id, Some((form, invalid)), None),
    )
    .await
}

pub async fn set_members(
    State(state): State<AppState>,
    who: Can<perm::TeamsWrite>,
    Id(id): Id<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> UiResult {
    let members: Vec<i64> = fields
        .iter()
        .filter(|(k, _)| k == "member")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    match state
        .store
        .set_team_members(who.tenant_id(), id, &members, &who.actor())
        .await
    {
        Ok(_) | Err(StoreError::Invalid(_)) => {
            Ok(Redirect::to(&format!("/teams/{id}?done=saved")).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn delete_team(
    State(state): State<AppState>,
    who: Can<perm::TeamsWrite>,
    Id(id): Id<i64>,
) -> UiResult {
    state
        .store
        .delete_team(who.tenant_id(), id, &who.actor())
        .await?;
    Ok(Redirect::to("/teams?done=deleted").into_response())
}

pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub owner: String,
    pub created: String,
    pub last_used: String,
    pub revoked: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "tokens.html")]
struct TokensPage {
    chrome: Chrome,
    rows: Vec<TokenRow>,
    show_owner: bool,
    new_secret: Option<String>,
    form: FormState,
}

async fn render_tokens(
    state: &AppState,
    who: &Principal,
    new_secret: Option<String>,
    form: FormState,
    done: Option<&str>,
    status: StatusCode,
) -> UiResult {
    let all = who.can(Permission::TokensAll);
    let tokens = state
        .store
        .tokens(who.tenant_id(), if all { None } else { Some(who.user.id) })
        .await?;
    let mut rows = Vec::with_capacity(tokens.len());
    for t in tokens {
        let owner = if all {
            state
                .store
                .user(who.tenant_id(), t.user_id)
                .await
                .map(|u| u.email)
                .unwrap_or_default()
        } else {
            String::new()
        };
        rows.push(TokenRow {
            id: t.id,
            name: t.name,
            prefix: t.prefix,
            owner,
            created: when(t.created_at),
            last_used: t.last_used_at.map_or_else(|| "never".to_owned(), when),
            revoked: t.revoked_at.is_some(),
        });
    }
    let page = TokensPage {
        chrome: Chrome::new(state, who, "/tokens").await.with_notice(done),
        rows,
        show_owner: all,
        new_secret,
        form,
    };
    Ok((status, page).into_response())
}

pub async fn tokens(
    State(state): State<AppState>,
    who: Can<perm::TokensOwn>,
    Query(q): Query<DoneQuery>,
) -> UiResult {
    render_tokens(
        &state,
        &who,
        None,
        FormState::default(),
        q.done.as_deref(),
        StatusCode::OK,
    )
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct TokenForm {
    name: String,
}

/// The new secret is rendered directly (not after a redirect) so it never sits in a URL or log.
pub async fn create_token(
    State(state): State<AppState>,
    who: Can<perm::TokensOwn>,
    Form(form): Form<TokenForm>,
) -> UiResult {
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        let values = FormState::with(&[("name", &form.name)]).rejected(Invalid::one(
            "name",
            "Label is required (at most 100 characters)",
        ));
        return render_tokens(
            &state,
            &who,
            None,
            values,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let (_, secret) = state
        .store
        .create_token(who.tenant_id(), who.user.id, name, &who.actor())
        .await?;
    render_tokens(
        &state,
        &who,
        Some(secret),
        FormState::default(),
        None,
        StatusCode::CREATED,
    )
    .await
}

pub async fn revoke_token(
    State(state): State<AppState>,
    who: Can<perm::TokensOwn>,
    Id(id): Id<i64>,
) -> UiResult {
    let token = state.store.token(who.tenant_id(), id).await?;
    if token.user_id != who.user.id && !who.can(Permission::TokensAll) {
        return Err(super::UiError::NotFound);
    }
    state
        .store
        .revoke_token(who.tenant_id(), id, &who.actor())
        .await?;
    Ok(Redirect::to("/tokens?done=revoked").into_response())
}
