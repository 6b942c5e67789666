//! The categories admin page: the tree, indented, with a form to add one and buttons to retire
//! or restore.

use super::{Chrome, FormState, Opt, UiResult, options};
use crate::AppState;
use crate::api::categories::{CategoryCreate, CategoryOut, add, tree};
use crate::auth::{Can, Principal, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use steward_domain::Invalid;
use steward_store::category::CategoryChange;

#[derive(Template, WebTemplate)]
#[template(path = "categories.html")]
struct CategoriesPage {
    chrome: Chrome,
    form: FormState,
    rows: Vec<CategoryOut>,
    parents: Vec<Opt>,
}

async fn render(
    state: &AppState,
    who: &Principal,
    form: FormState,
    status: StatusCode,
) -> UiResult {
    let rows = tree(state, who.tenant_id()).await?;
    let parents = options(
        std::iter::once((String::new(), "— top level —".to_owned())).chain(
            rows.iter()
                .filter(|c| !c.retired)
                .map(|c| (c.id.to_string(), c.path.clone())),
        ),
        form.value("parent_id"),
    );
    let page = CategoriesPage {
        chrome: Chrome::new(state, who, "/categories").await,
        form,
        rows,
        parents,
    };
    Ok((status, page).into_response())
}

pub async fn page(State(state): State<AppState>, who: Can<perm::ServicesWrite>) -> UiResult {
    render(&state, &who, FormState::default(), StatusCode::OK).await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct NewCategory {
    name: String,
    parent_id: String,
}

pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::ServicesWrite>,
    Form(form): Form<NewCategory>,
) -> UiResult {
    let values = FormState::with(&[("name", &form.name), ("parent_id", &form.parent_id)]);
    let parent_id = match form.parent_id.trim() {
        "" => None,
        t => match t.parse() {
            Ok(id) => Some(id),
            Err(_) => {
                let invalid = Invalid::one("parent_id", "Choose from the list");
                return render(
                    &state,
                    &who,
                    values.rejected(invalid),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
        },
    };
    match add(
        &state,
        &who,
        CategoryCreate {
            name: form.name.clone(),
            parent_id,
        },
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/categories?done=created").into_response()),
        Err(e) if e.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            let invalid = Invalid {
                errors: e.field_errors().to_vec(),
            };
            render(
                &state,
                &who,
                values.rejected(invalid),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct RetiredForm {
    retired: String,
}

pub async fn set_retired(
    State(state): State<AppState>,
    who: Can<perm::ServicesWrite>,
    Path(id): Path<i64>,
    Form(form): Form<RetiredForm>,
) -> UiResult {
    let change = CategoryChange {
        retired: Some(form.retired == "true"),
        ..Default::default()
    };
    state
        .store
        .update_category(who.tenant_id(), id, &change, &who.actor())
        .await?;
    Ok(Redirect::to("/categories?done=saved").into_response())
}
