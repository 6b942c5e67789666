//! Signing in and out, and the account page.

use super::{Chrome, FormState, UiResult};
use crate::AppState;
use crate::auth::{self, LOGIN_CSRF_COOKIE, LoginError, Principal, SESSION_COOKIE};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::time::Duration;
use steward_store::token::new_secret;

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    error: Option<String>,
    notice: Option<&'static str>,
    csrf: String,
    next: String,
    email: String,
    tenant: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct LoginQuery {
    next: String,
    done: String,
}

/// Only local paths: never send someone who just signed in to another site.
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next
    } else {
        "/"
    }
}

fn render_login(state: &AppState, status: StatusCode, page: LoginPage) -> Response {
    let cookie = auth::set_cookie(
        LOGIN_CSRF_COOKIE,
        &page.csrf,
        Duration::from_secs(3600),
        state.config.secure_cookies,
    );
    (status, [(header::SET_COOKIE, cookie)], page).into_response()
}

pub async fn login_page(
    State(state): State<AppState>,
    who: Option<Principal>,
    Query(q): Query<LoginQuery>,
) -> Response {
    if who.is_some() {
        return Redirect::to(safe_next(&q.next)).into_response();
    }
    let notice = (q.done == "signed-out").then_some("You have signed out.");
    let page = LoginPage {
        error: None,
        notice,
        csrf: new_secret(),
        next: q.next,
        email: String::new(),
        tenant: String::new(),
    };
    render_login(&state, StatusCode::OK, page)
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct LoginForm {
    email: String,
    password: String,
    tenant: String,
    next: String,
    _csrf: String,
}

pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let cookie_token = auth::cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    let fail = |status: StatusCode, message: String| {
        let page = LoginPage {
            error: Some(message),
            notice: None,
            csrf: new_secret(),
            next: form.next.clone(),
            email: form.email.clone(),
            tenant: form.tenant.clone(),
        };
        render_login(&state, status, page)
    };
    if cookie_token.is_empty() || !auth::constant_time_eq(&cookie_token, &form._csrf) {
        return fail(
            StatusCode::FORBIDDEN,
            "The sign-in form was out of date; please try again.".into(),
        );
    }
    let user = match auth::check_login(&state, Some(&form.tenant), &form.email, &form.password)
        .await
    {
        Ok(user) => user,
        Err(LoginError::Invalid) => {
            return fail(
                StatusCode::UNAUTHORIZED,
                "Invalid email or password.".into(),
            );
        }
        Err(LoginError::Throttled(wait)) => {
            let message = format!(
                "Too many failed attempts. Try again in {} seconds.",
                wait.as_secs().max(1)
            );
            return fail(StatusCode::TOO_MANY_REQUESTS, message);
        }
        Err(LoginError::Ambiguous) => {
            let message = "This address belongs to more than one organisation: enter the organisation as well.".into();
            return fail(StatusCode::BAD_REQUEST, message);
        }
        Err(LoginError::Internal) => {
            return fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Sign-in is unavailable right now.".into(),
            );
        }
    };
    let Ok(secret) = auth::start_session(&state, &user).await else {
        return fail(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sign-in is unavailable right now.".into(),
        );
    };
    let session = auth::set_cookie(
        SESSION_COOKIE,
        &secret,
        state.config.session_ttl,
        state.config.secure_cookies,
    );
    let clear = auth::set_cookie(
        LOGIN_CSRF_COOKIE,
        "",
        Duration::ZERO,
        state.config.secure_cookies,
    );
    let mut response = Redirect::to(safe_next(&form.next)).into_response();
    for value in [session, clear] {
        if let Ok(v) = value.parse() {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

pub async fn logout(State(state): State<AppState>, who: Option<Principal>) -> Response {
    if let Some(session) = who.and_then(|w| w.session)
        && let Err(e) = state.store.delete_session(&session.id_hash).await
    {
        tracing::error!(error = %e, "could not end session");
    }
    let clear = auth::set_cookie(
        SESSION_COOKIE,
        "",
        Duration::ZERO,
        state.config.secure_cookies,
    );
    (
        [(header::SET_COOKIE, clear)],
        Redirect::to("/login?done=signed-out"),
    )
        .into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
struct AccountPage {
    chrome: Chrome,
    email: String,
    form: FormState,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct DoneQuery {
    pub done: Option<String>,
}

pub async fn account(
    State(state): State<AppState>,
    who: Principal,
    Query(q): Query<DoneQuery>,
) -> UiResult {
    let chrome = Chrome::new(&state, &who, "/account")
        .await
        .with_notice(q.done.as_deref());
    Ok(AccountPage {
        chrome,
        email: who.user.email.clone(),
        form: FormState::default(),
    }
    .into_response())
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    who: Principal,
    Form(form): Form<PasswordForm>,
) -> UiResult {
    match crate::api::change_own_password(&state, &who, form.current_password, form.new_password)
        .await
    {
        Ok(()) => Ok(Redirect::to("/account?done=password").into_response()),
        Err(e) if e.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            let chrome = Chrome::new(&state, &who, "/account").await;
            let form = FormState::default().rejected(steward_domain::Invalid {
                errors: e.field_errors().to_vec(),
            });
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                AccountPage {
                    chrome,
                    email: who.user.email.clone(),
                    form,
                },
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}
