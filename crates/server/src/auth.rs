//! Who is calling, and may they? Authentication happens once per request in `authenticate`
//! (bearer token or session cookie, plus the CSRF check for cookie-authenticated writes); routes
//! then state the permission they need with the `Can<P>` extractor, checked against the one
//! table in `steward_domain::access`.

use crate::AppState;
use crate::error::ApiError;
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use std::marker::PhantomData;
use std::time::Duration;
use steward_domain::access::{Permission, Role};
use steward_domain::login::{WINDOW, lockout};
use steward_store::identity::User;
use steward_store::token::{hash_secret, new_secret};
use steward_store::{Actor, StoreError, now_micros};

pub const SESSION_COOKIE: &str = "steward_session";
pub const LOGIN_CSRF_COOKIE: &str = "steward_login_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "_csrf";

/// The signed-in caller of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    /// Present when the caller came with a session cookie rather than a bearer token.
    pub session: Option<SessionInfo>,
}

#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub id_hash: String,
    pub csrf_token: String,
}

impl Principal {
    pub fn tenant_id(&self) -> i64 {
        self.user.tenant_id
    }

    pub fn role(&self) -> Role {
        self.user.role
    }

    pub fn actor(&self) -> Actor {
        Actor::user(self.user.id, &self.user.email)
    }

    pub fn can(&self, permission: Permission) -> bool {
        self.user.role.can(permission)
    }

    pub fn csrf_token(&self) -> &str {
        self.session.as_ref().map_or("", |s| s.csrf_token.as_str())
    }
}

/// Resolves the caller and enforces CSRF on cookie-authenticated writes; stores
/// `Option<Principal>` in the request's extensions for the extractors below.
pub async fn authenticate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match resolve(&state, request).await {
        Ok(request) => next.run(request).await,
        Err(rejection) => rejection.into_response(),
    }
}

async fn resolve(state: &AppState, mut request: Request) -> Result<Request, AuthRejection> {
    let api = is_api(request.uri().path());
    let query_token = take_feed_token(&mut request);
    let principal = if let Some(value) = request.headers().get(header::AUTHORIZATION) {
        let secret = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(AuthRejection::unauthenticated(api, request.uri()))?;
        Some(by_token(state, secret, api, request.uri()).await?)
    } else if let Some(secret) = query_token {
        Some(by_token(state, &secret, api, request.uri()).await?)
    } else if let Some(secret) = cookie(request.headers(), SESSION_COOKIE) {
        let id_hash = hash_secret(&secret);
        match state
            .store
            .session(&id_hash)
            .await
            .map_err(AuthRejection::store)?
        {
            Some(session) => {
                let user = state
                    .store
                    .user(session.tenant_id, session.user_id)
                    .await
                    .map_err(AuthRejection::store)?;
                Some(Principal {
                    user,
                    session: Some(SessionInfo {
                        id_hash,
                        csrf_token: session.csrf_token,
                    }),
                })
            }
            None => None,
        }
    } else {
        None
    };
    if let Some(session) = principal.as_ref().and_then(|p| p.session.as_ref()) {
        // The login form carries its own double-submit token (see ui::session).
        if is_write(request.method()) && request.uri().path() != "/login" {
            let (checked, body_request) =
                csrf_ok(request, &session.csrf_token, state.config.max_body_bytes).await;
            request = body_request;
            if !checked {
                return Err(AuthRejection {
                    api,
                    kind: RejectKind::Csrf,
                    next: String::new(),
                });
            }
        }
    }
    request.extensions_mut().insert(principal);
    Ok(request)
}

/// The caller an API token names; an unknown or revoked token is a 401.
async fn by_token(
    state: &AppState,
    secret: &str,
    api: bool,
    uri: &axum::http::Uri,
) -> Result<Principal, AuthRejection> {
    let user = state
        .store
        .authenticate_token(secret)
        .await
        .map_err(AuthRejection::store)?;
    Ok(Principal {
        user: user.ok_or(AuthRejection::unauthenticated(api, uri))?,
        session: None,
    })
}

/// The one route that accepts its API token in the query, `?token=...`: calendar clients
/// subscribe to a URL and cannot send an `Authorization` header.
pub const FEED_PATH: &str = "/api/v1/changes.ics";

/// Takes the `token` parameter out of a feed request's URI and returns it, so that nothing
/// after authentication (handlers, error pages, logs, metrics) ever sees the secret. A query
/// that does not parse is dropped whole, for the same reason. Other routes are left alone.
fn take_feed_token(request: &mut Request) -> Option<String> {
    if request.uri().path() != FEED_PATH {
        return None;
    }
    let query = request.uri().query()?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let token = pairs
        .iter()
        .find(|(name, _)| name == "token")
        .map(|(_, value)| value.clone());
    let rest: Vec<&(String, String)> = pairs.iter().filter(|(name, _)| name != "token").collect();
    let rest = serde_urlencoded::to_string(rest).unwrap_or_default();
    let path_and_query = if rest.is_empty() {
        FEED_PATH.to_owned()
    } else {
        format!("{FEED_PATH}?{rest}")
    };
    let mut parts = request.uri().clone().into_parts();
    parts.path_and_query = path_and_query.parse().ok();
    if let Ok(uri) = axum::http::Uri::from_parts(parts) {
        *request.uri_mut() = uri;
    }
    token
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

/// The URI as the client sent it: nested routers see it with their prefix removed.
fn original_uri(parts: &Parts) -> axum::http::Uri {
    parts
        .extensions
        .get::<axum::extract::OriginalUri>()
        .map_or_else(|| parts.uri.clone(), |u| u.0.clone())
}

fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The token comes in the `X-CSRF-Token` header (htmx, scripts), the `_csrf` form field, or for
/// multipart uploads the `_csrf` query parameter.
/// Reading a form body means buffering it (within the body limit) and handing it on.
async fn csrf_ok(request: Request, expected: &str, limit: usize) -> (bool, Request) {
    if let Some(sent) = request
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
    {
        return (constant_time_eq(sent, expected), request);
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // A file upload form is not buffered here (it may be large): it carries the token in its
    // action URL's query instead. Only multipart requests may do so.
    if content_type.starts_with("multipart/form-data") {
        let sent = request
            .uri()
            .query()
            .and_then(|q| form_field(q.as_bytes(), CSRF_FIELD));
        let ok = sent.is_some_and(|s| constant_time_eq(&s, expected));
        return (ok, request);
    }
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    if !is_form {
        return (false, request);
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return (false, Request::from_parts(parts, axum::body::Body::empty()));
    };
    let sent = form_field(&bytes, CSRF_FIELD);
    let ok = sent.is_some_and(|s| constant_time_eq(&s, expected));
    (
        ok,
        Request::from_parts(parts, axum::body::Body::from(bytes)),
    )
}

pub fn form_field(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The value of a cookie, if the request carries it.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, and Secure when served over TLS.
pub fn set_cookie(name: &str, value: &str, max_age: Duration, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        max_age.as_secs()
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RejectKind {
    Unauthenticated,
    Forbidden,
    Csrf,
    Internal,
}

/// Why a request was turned away: a problem document for the API, a page or redirect for people.
#[derive(Debug)]
pub struct AuthRejection {
    api: bool,
    kind: RejectKind,
    next: String,
}

impl AuthRejection {
    fn unauthenticated(api: bool, uri: &axum::http::Uri) -> Self {
        let next = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
        AuthRejection {
            api,
            kind: RejectKind::Unauthenticated,
            next,
        }
    }

    fn store(e: StoreError) -> Self {
        tracing::error!(error = %e, "authentication lookup failed");
        AuthRejection {
            api: true,
            kind: RejectKind::Internal,
            next: String::new(),
        }
    }
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        if self.api || self.kind == RejectKind::Internal {
            return match self.kind {
                RejectKind::Unauthenticated => {
                    let mut r = ApiError::unauthenticated().into_response();
                    r.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        header::HeaderValue::from_static("Bearer"),
                    );
                    r
                }
                RejectKind::Forbidden => ApiError::forbidden().into_response(),
                RejectKind::Csrf => ApiError::csrf().into_response(),
                RejectKind::Internal => ApiError::internal().into_response(),
            };
        }
        match self.kind {
            RejectKind::Unauthenticated => {
                let next =
                    serde_urlencoded::to_string([("next", self.next.as_str())]).unwrap_or_default();
                Redirect::to(&format!("/login?{next}")).into_response()
            }
            RejectKind::Forbidden => plain_page(
                StatusCode::FORBIDDEN,
                "Not allowed",
                "Your role does not allow this page or action.",
            ),
            _ => plain_page(
                StatusCode::FORBIDDEN,
                "Session check failed",
                "The form was out of date. Go back, reload the page and try again.",
            ),
        }
    }
}

pub(crate) fn plain_page(status: StatusCode, title: &str, message: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} · Steward</title>\
         <link rel=\"stylesheet\" href=\"/static/steward.css\"></head><body><main class=\"login\"><div class=\"card\">\
         <h1>{title}</h1><p>{message}</p><p><a href=\"/\">Back to Steward</a></p></div></main></body></html>"
    );
    (status, Html(body)).into_response()
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Option<Principal>>()
            .cloned()
            .flatten()
            .ok_or_else(|| {
                let uri = original_uri(parts);
                AuthRejection::unauthenticated(is_api(uri.path()), &uri)
            })
    }
}

impl axum::extract::OptionalFromRequestParts<AppState> for Principal {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Option<Principal>>()
            .cloned()
            .flatten())
    }
}

/// A permission as a type, so a handler states what it needs in its signature.
pub trait Needs {
    const PERMISSION: Permission;
}

/// The caller, proven to hold `P`. Anyone else gets 401 (not signed in) or 403.
pub struct Can<P: Needs>(pub Principal, PhantomData<P>);

impl<P: Needs> std::ops::Deref for Can<P> {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.0
    }
}

impl<P: Needs + Send + Sync> FromRequestParts<AppState> for Can<P> {
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let principal = Principal::from_request_parts(parts, state).await?;
        if principal.can(P::PERMISSION) {
            Ok(Can(principal, PhantomData))
        } else {
            Err(AuthRejection {
                api: is_api(original_uri(parts).path()),
                kind: RejectKind::Forbidden,
                next: String::new(),
            })
        }
    }
}

/// Marker types for `Can<P>`, one per permission.
pub mod perm {
    use super::{Needs, Permission};
    macro_rules! permissions {
        ($($name:ident),+ $(,)?) => {$(
            pub struct $name;
            impl Needs for $name {
                const PERMISSION: Permission = Permission::$name;
            }
        )+};
    }
    permissions!(
        ServicesRead,
        ServicesWrite,
        CustomersRead,
        CustomersWrite,
        TeamsRead,
        TeamsWrite,
        UsersRead,
        UsersWrite,
        TokensOwn,
        TokensAll,
        JournalRead,
        RecordsRead,
        RecordsWrite,
        RecordsOwn,
        RecordsImport,
        CmdbRead,
        CmdbWrite,
        CmdbSchema,
        ChangesRead,
        ChangesWrite,
        ChangePolicy,
        AssetsRead,
        AssetsWrite,
        ReleasesRead,
        ReleasesWrite,
        DesignRead,
        DesignWrite,
        CertificatesRead,
        CertificatesWrite,
        ConformanceRead,
        ConformanceAssess,
        DocumentsRead,
        DocumentsWrite,
        SmsRead,
        SmsWrite,
        SuppliersRead,
        SuppliersWrite,
    );
}

/// Hashes a password with Argon2id off the async threads (it is deliberately slow).
pub async fn hash_password(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
    })
    .await
    .ok()
    .and_then(Result::ok)
    .ok_or_else(ApiError::internal)
}

/// Checks a password against a stored hash; an absent or malformed hash never matches.
pub async fn verify_password(password: String, hash: Option<String>) -> bool {
    // Unknown users still cost one verification, so timing does not reveal who exists.
    const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c3Rld2FyZHN0ZXdhcmQ$2yGKmO7Ssxr2dL5XUcwyyQbqoO/nkrWmaQxl0RG3Ff8";
    let known = hash.is_some();
    let hash = hash.unwrap_or_else(|| DUMMY.to_owned());
    let ok = tokio::task::spawn_blocking(move || {
        Argon2::default()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok()
    })
    .await
    .unwrap_or(false);
    ok && known
}

#[derive(Debug)]
pub enum LoginError {
    Invalid,
    Throttled(Duration),
    /// The address belongs to users in several tenants: ask for the organisation.
    Ambiguous,
    Internal,
}

impl From<StoreError> for LoginError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "login lookup failed");
        LoginError::Internal
    }
}

/// Checks credentials with throttling; `tenant` narrows the search to one organisation.
pub async fn check_login(
    state: &AppState,
    tenant: Option<&str>,
    email: &str,
    password: &str,
) -> Result<User, LoginError> {
    let email = email.trim().to_lowercase();
    let since = now_micros() - i64::try_from(WINDOW.as_micros()).unwrap_or(i64::MAX);
    let (failures, newest) = state.store.login_failures(&email, since).await?;
    let waited = newest.map_or(WINDOW, |t| {
        Duration::from_micros(u64::try_from(now_micros() - t).unwrap_or(0))
    });
    if let Some(wait) = lockout(failures, waited) {
        return Err(LoginError::Throttled(wait));
    }
    let mut candidates = state.store.credentials_by_email(&email).await?;
    if let Some(slug) = tenant.map(str::trim).filter(|s| !s.is_empty()) {
        let tenant_id = state.store.tenant_by_slug(slug).await.ok().map(|t| t.id);
        candidates.retain(|c| Some(c.user.tenant_id) == tenant_id);
    }
    candidates.retain(|c| c.user.active);
    if candidates.len() > 1 {
        return Err(LoginError::Ambiguous);
    }
    let candidate = candidates.pop();
    let hash = candidate.as_ref().and_then(|c| c.password_hash.clone());
    if verify_password(password.to_owned(), hash).await
        && let Some(c) = candidate
    {
        state.store.clear_login_failures(&email).await?;
        return Ok(c.user);
    }
    state.store.record_login_failure(&email).await?;
    Err(LoginError::Invalid)
}

/// Starts a session; returns the cookie secret, which only the browser keeps.
pub async fn start_session(state: &AppState, user: &User) -> Result<String, StoreError> {
    let secret = new_secret();
    let ttl = i64::try_from(state.config.session_ttl.as_micros()).unwrap_or(i64::MAX / 4);
    state
        .store
        .create_session(
            &hash_secret(&secret),
            user.tenant_id,
            user.id,
            &new_secret(),
            now_micros() + ttl,
        )
        .await?;
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            header::HeaderValue::from_static("a=1; steward_session=abc; b=2"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&headers, "missing"), None);
    }

    #[test]
    fn the_feed_token_is_taken_out_of_the_uri() {
        let mut request = Request::get("/api/v1/changes.ics?token=s3cret&x=1")
            .body(axum::body::Body::empty())
            .expect("request");
        assert_eq!(take_feed_token(&mut request).as_deref(), Some("s3cret"));
        assert_eq!(request.uri().to_string(), "/api/v1/changes.ics?x=1");
        let mut elsewhere = Request::get("/api/v1/changes?token=s3cret")
            .body(axum::body::Body::empty())
            .expect("request");
        assert_eq!(take_feed_token(&mut elsewhere), None);
        assert_eq!(elsewhere.uri().to_string(), "/api/v1/changes?token=s3cret");
    }

    #[test]
    fn csrf_comparison() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
        assert_eq!(
            form_field(b"name=x&_csrf=t%2B1", CSRF_FIELD).as_deref(),
            Some("t+1")
        );
    }

    #[tokio::test]
    async fn passwords_hash_and_verify() {
        let hash = hash_password("correct horse battery staple".into())
            .await
            .expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery staple".into(), Some(hash.clone())).await);
        assert!(!verify_password("wrong".into(), Some(hash)).await);
        assert!(!verify_password("x".into(), None).await);
    }
}
