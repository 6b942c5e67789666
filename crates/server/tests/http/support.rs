//! Set-up that the page tests share: a tenant whose people sign in through the login form.

use super::api::{Reply, is_problem};
use super::sla_ui::{PASSWORD, post};
use super::ui::{Page, send};
use axum::Router;
use axum::http::StatusCode;
use steward_domain::access::Role;
use steward_domain::tenant::new_tenant;
use steward_domain::user::UserDraft;
use steward_store::{Actor, Store};

/// The date `days` from today, as a form or the API takes it.
pub fn in_days(days: i64) -> String {
    steward_store::testing::in_days(days).to_string()
}

/// Creates the tenant `name` with `people` (email, name, role), who all sign in with
/// [`PASSWORD`]; returns the tenant's id and the people's ids in the order given.
pub async fn tenant_with_people(
    store: &Store,
    name: &str,
    people: &[(&str, &str, Role)],
) -> (i64, Vec<i64>) {
    let tenant = store
        .create_tenant(&new_tenant(name).expect("name"), &Actor::cli())
        .await
        .expect("tenant");
    // One hash for everyone: hashing is slow on purpose.
    let hash = steward_server::auth::hash_password(PASSWORD.into())
        .await
        .expect("hash");
    let mut ids = Vec::with_capacity(people.len());
    for (email, name, role) in people {
        let draft = UserDraft {
            email: (*email).into(),
            name: (*name).into(),
            role: *role,
            active: true,
        };
        let user = store
            .create_user(tenant.id, &draft, Some(&hash), &Actor::cli())
            .await
            .expect("user");
        ids.push(user.id);
    }
    (tenant.id, ids)
}

/// Posts the form `fields` to `path` as the session `cookie`, and reads the answer.
pub async fn submit(app: &Router, path: &str, cookie: &str, fields: &[(&str, &str)]) -> Page {
    send(app, post(path, cookie, fields)).await
}

/// A 422 problem+json that names `field` (or says `field` in its text).
pub fn assert_unprocessable(reply: &Reply, field: &str) {
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    assert!(is_problem(reply), "{}", reply.text);
    assert!(reply.text.contains(field), "{field}: {}", reply.text);
}

/// A form refused with 422 whose page says `message`; the caller checks the input it kept.
pub fn assert_refused(page: &Page, message: &str) {
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.html
    );
    assert!(page.html.contains(message), "{message}: {}", page.html);
}
