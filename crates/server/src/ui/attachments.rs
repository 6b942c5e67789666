//! The incident page's Attachments and Watchers panels: listing, uploading (a multipart form),
//! downloading, adding and removing watchers.

use super::incidents::{ViewExtras, render_view};
use super::{FormState, UiError, UiResult, when};
use crate::AppState;
use crate::api::attachments::{attach, download_response, target, uploadable};
use crate::api::watchers::{add_watcher, remove_watcher};
use crate::auth::{Can, Principal, perm};
use crate::error::ApiError;
use axum::Form;
use axum::extract::multipart::Multipart;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use steward_domain::Invalid;
use steward_store::incident::Incident;

/// One attachment in the side panel.
pub struct AttachmentRow {
    pub href: String,
    pub filename: String,
    pub size: String,
    pub at: String,
    pub short_sha: String,
}

/// One watcher in the side panel.
pub struct WatcherRow {
    pub id: i64,
    pub email: String,
}

/// `512 B`, `12.5 KB`, `3.1 MB`: sizes for people.
pub fn human_size(bytes: i64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KB {
        format!("{bytes} B")
    } else if b < KB * KB {
        format!("{:.1} KB", b / KB)
    } else {
        format!("{:.1} MB", b / (KB * KB))
    }
}

pub async fn attachment_rows(
    state: &AppState,
    who: &Principal,
    incident: &Incident,
) -> Result<Vec<AttachmentRow>, UiError> {
    let key = incident.key();
    Ok(state
        .store
        .attachments(who.tenant_id(), &target(incident))
        .await?
        .into_iter()
        .map(|a| AttachmentRow {
            href: format!("/incidents/{key}/attachments/{}", a.id),
            size: human_size(a.size),
            at: when(a.created_at),
            short_sha: a.sha256.chars().take(12).collect(),
            filename: a.filename,
        })
        .collect())
}

pub async fn watcher_rows(
    state: &AppState,
    who: &Principal,
    incident: &Incident,
) -> Result<Vec<WatcherRow>, UiError> {
    Ok(state
        .store
        .watchers(who.tenant_id(), &target(incident))
        .await?
        .into_iter()
        .map(|w| WatcherRow {
            id: w.id,
            email: w.email,
        })
        .collect())
}

/// The upload form's action: a multipart body is not read for the CSRF check, so the token
/// travels in the query (see `auth::csrf_ok`).
pub fn upload_action(key: &str, csrf: &str) -> String {
    format!(
        "/incidents/{key}/attachments?{}",
        serde_urlencoded::to_string([("_csrf", csrf)]).unwrap_or_default()
    )
}

/// What went wrong with a form, for the field `field`; other failures are error pages.
fn refusal(e: ApiError, field: &str) -> Result<(StatusCode, Invalid), UiError> {
    let status = e.status();
    if status == StatusCode::UNPROCESSABLE_ENTITY && !e.field_errors().is_empty() {
        Ok((
            status,
            Invalid {
                errors: e.field_errors().to_vec(),
            },
        ))
    } else if matches!(
        status,
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::CONFLICT | StatusCode::UNPROCESSABLE_ENTITY
    ) {
        Ok((status, Invalid::one(field, e.detail())))
    } else {
        Err(e.into())
    }
}

async fn show_refusal(
    state: &AppState,
    who: &Principal,
    key: &str,
    refused: Result<(StatusCode, Invalid), UiError>,
    extras: impl FnOnce(FormState) -> ViewExtras,
) -> UiResult {
    let (status, invalid) = refused?;
    let form = FormState::default().rejected(invalid);
    render_view(state, who, key, extras(form), None, status).await
}

/// The file of an upload form, read within the upload limit.
pub(super) struct Upload {
    pub(super) filename: String,
    pub(super) content_type: Option<String>,
    pub(super) bytes: Vec<u8>,
}

/// The `file` field of a multipart upload form; the documents' pages read theirs with it too.
pub(super) async fn read_upload(
    multipart: &mut Multipart,
    max: usize,
) -> Result<Option<Upload>, ApiError> {
    let broken = |e: axum::extract::multipart::MultipartError| {
        let status = e.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(status, "too-large", "The file is too large.")
        } else {
            ApiError::bad_request(format!("The upload could not be read: {}", e.body_text()))
        }
    };
    while let Some(mut field) = multipart.next_field().await.map_err(broken)? {
        if field.name() != Some("file") {
            continue;
        }
        let filename = field.file_name().unwrap_or_default().to_owned();
        let content_type = field.content_type().map(str::to_owned);
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(broken)? {
            if bytes.len() + chunk.len() > max {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too-large",
                    format!(
                        "The file is larger than the limit of {}.",
                        human_size(i64::try_from(max).unwrap_or(i64::MAX))
                    ),
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        return Ok(Some(Upload {
            filename,
            content_type,
            bytes,
        }));
    }
    Ok(None)
}

pub async fn upload(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Path(key): Path<String>,
    mut multipart: Multipart,
) -> UiResult {
    let attach_extras = |attach_form| ViewExtras {
        attach_form,
        ..Default::default()
    };
    let incident = match uploadable(&state, &who, &key).await {
        Ok(i) => i,
        Err(e) => return show_refusal(&state, &who, &key, refusal(e, "file"), attach_extras).await,
    };
    let saved = match read_upload(&mut multipart, state.config.max_upload_bytes).await {
        Ok(Some(file)) => {
            attach(
                &state,
                &who,
                &incident,
                &file.filename,
                file.content_type.as_deref(),
                &file.bytes,
            )
            .await
        }
        Ok(None) => Err(Invalid::one("file", "Choose a file to upload").into()),
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => {
            Ok(Redirect::to(&format!("/incidents/{}?done=saved", incident.key())).into_response())
        }
        Err(e) => show_refusal(&state, &who, &key, refusal(e, "file"), attach_extras).await,
    }
}

pub async fn download(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    Path((key, id)): Path<(String, i64)>,
) -> UiResult {
    Ok(download_response(&state, &who, &key, id).await?)
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct WatcherForm {
    email: String,
}

pub async fn add(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Path(key): Path<String>,
    Form(form): Form<WatcherForm>,
) -> UiResult {
    match add_watcher(&state, &who, &key, &form.email).await {
        Ok(_) => Ok(Redirect::to(&format!("/incidents/{key}?done=saved")).into_response()),
        Err(e) => {
            let (status, invalid) = refusal(e, "email")?;
            let watch_form = FormState::with(&[("email", &form.email)]).rejected(invalid);
            let extras = ViewExtras {
                watch_form,
                ..Default::default()
            };
            render_view(&state, &who, &key, extras, None, status).await
        }
    }
}

pub async fn remove(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Path((key, id)): Path<(String, i64)>,
) -> UiResult {
    remove_watcher(&state, &who, &key, id).await?;
    Ok(Redirect::to(&format!("/incidents/{key}?done=saved")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(12_800), "12.5 KB");
        assert_eq!(human_size(10 * 1024 * 1024), "10.0 MB");
    }

    #[test]
    fn upload_forms_carry_the_token_in_the_query() {
        assert_eq!(
            upload_action("INC-4", "abc123"),
            "/incidents/INC-4/attachments?_csrf=abc123"
        );
    }
}
