//! `/incidents/{key}/attachments`: files on incidents. The body of an upload is the file itself
//! (`curl --data-binary @x.png -H 'Content-Type: image/png' '.../attachments?filename=x.png'`);
//! the bytes are stored once per content (by SHA-256) and every attachment is journaled.

use super::incidents::find;
use super::{ApiPath, ApiQuery, time};
use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_store::incident::Incident;
use steward_store::mail::{Attachment, MailTarget, NewAttachment};
use utoipa::{IntoParams, ToSchema};

/// What a file is served as when its type is unknown or unusable.
const OCTET_STREAM: &str = "application/octet-stream";

/// The record an incident's attachments and watchers hang off.
pub fn target(incident: &Incident) -> MailTarget {
    MailTarget {
        record_type: "incident".into(),
        record_id: incident.id,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentOut {
    pub id: i64,
    pub filename: String,
    pub content_type: String,
    /// In bytes.
    pub size: i64,
    /// Hex SHA-256 of the content: equal files have equal hashes and are stored once.
    pub sha256: String,
    pub created_at: String,
}

impl From<Attachment> for AttachmentOut {
    fn from(a: Attachment) -> Self {
        AttachmentOut {
            id: a.id,
            filename: a.filename,
            content_type: a.content_type,
            size: a.size,
            sha256: a.sha256,
            created_at: time(a.created_at),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct UploadQuery {
    /// The file's name, e.g. `screenshot.png`; folders are dropped.
    pub filename: Option<String>,
}

/// A file name as kept: no folders, no control characters, at most 255 characters.
/// Empty when nothing usable is left.
pub fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let kept: String = base.chars().filter(|c| !c.is_control()).take(255).collect();
    match kept.trim() {
        "." | ".." => String::new(),
        name => name.to_owned(),
    }
}

/// A media type as kept: `type/subtype` in lower case without parameters, or
/// `application/octet-stream` when absent or malformed. A urlencoded form type is what curl
/// sends by default with `--data-binary`, never a file's own type, so it counts as absent.
pub fn clean_content_type(value: Option<&str>) -> String {
    let essence = value
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let token = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
    };
    let valid = essence.len() <= 127
        && essence
            .split_once('/')
            .is_some_and(|(t, s)| token(t) && token(s));
    if valid && essence != "application/x-www-form-urlencoded" {
        essence
    } else {
        OCTET_STREAM.to_owned()
    }
}

/// `attachment; filename="..."; filename*=UTF-8''...`: an ASCII fallback with anything
/// unsafe replaced, and the exact name percent-encoded (RFC 6266).
pub fn content_disposition(filename: &str) -> String {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c == ' ' || (c.is_ascii_graphic() && c != '"' && c != '\\') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let ascii = if ascii.trim().is_empty() {
        "file".to_owned()
    } else {
        ascii
    };
    let encoded: String = filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

fn too_large(max: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too-large",
        format!("The file is larger than the limit of {max} bytes."),
    )
}

/// The incident a caller may attach files to: agents any, requesters their own (others' are
/// not found). An incident whose lifecycle has ended takes no more files.
pub async fn uploadable(state: &AppState, who: &Principal, key: &str) -> ApiResult<Incident> {
    let incident = find(state, who, key).await?;
    if !who.can(Permission::RecordsWrite) && !who.can(Permission::RecordsOwn) {
        return Err(ApiError::forbidden());
    }
    if incident.status.is_terminal() {
        return Err(ApiError::frozen(&incident.key(), &incident.status));
    }
    Ok(incident)
}

/// Checks and stores a file for `incident` (from `uploadable`); shared by API and UI.
pub async fn attach(
    state: &AppState,
    who: &Principal,
    incident: &Incident,
    filename: &str,
    content_type: Option<&str>,
    bytes: &[u8],
) -> ApiResult<Attachment> {
    let max = state.config.max_upload_bytes;
    if bytes.len() > max {
        return Err(too_large(max));
    }
    let filename = clean_filename(filename);
    let mut errors = Invalid::new();
    if filename.is_empty() {
        errors.add("filename", "Name the file, e.g. ?filename=screenshot.png");
    }
    if bytes.is_empty() {
        errors.add("file", "The file is empty");
    }
    errors.into_result(())?;
    let content_type = clean_content_type(content_type);
    let file = NewAttachment {
        filename: &filename,
        content_type: &content_type,
        bytes,
    };
    Ok(state
        .store
        .add_attachment(who.tenant_id(), &target(incident), file, &who.actor())
        .await?)
}

#[utoipa::path(post, path = "/incidents/{key}/attachments", tag = "incidents",
    params(("key" = String, Path, description = "INC-42 or the numeric id"), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "The file itself; send its own media type as Content-Type"),
    responses((status = 201, body = AttachmentOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)))]
pub async fn upload(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(key): ApiPath<String>,
    ApiQuery(q): ApiQuery<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<AttachmentOut>)> {
    let incident = uploadable(&state, &who, &key).await?;
    let max = state.config.max_upload_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large(max));
    }
    let bytes = axum::body::to_bytes(body, max)
        .await
        .map_err(|_| too_large(max))?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let saved = attach(
        &state,
        &who,
        &incident,
        q.filename.as_deref().unwrap_or_default(),
        content_type,
        &bytes,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(saved.into())))
}

#[utoipa::path(get, path = "/incidents/{key}/attachments", tag = "incidents",
    params(("key" = String, Path, description = "INC-42 or the numeric id")),
    responses((status = 200, body = Vec<AttachmentOut>), (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<Vec<AttachmentOut>>> {
    let incident = find(&state, &who, &key).await?;
    let found = state
        .store
        .attachments(who.tenant_id(), &target(&incident))
        .await?;
    Ok(Json(found.into_iter().map(AttachmentOut::from).collect()))
}

/// An attachment of an incident the caller may see, as a download; shared by API and UI.
pub async fn download_response(
    state: &AppState,
    who: &Principal,
    key: &str,
    id: i64,
) -> ApiResult<Response> {
    let incident = find(state, who, key).await?;
    let attachment = state
        .store
        .attachment(who.tenant_id(), &target(&incident), id)
        .await?;
    let bytes = state
        .store
        .attachment_bytes(who.tenant_id(), attachment.id)
        .await?;
    let content_type = HeaderValue::from_str(&attachment.content_type)
        .unwrap_or(HeaderValue::from_static(OCTET_STREAM));
    let disposition = HeaderValue::from_str(&content_disposition(&attachment.filename))
        .unwrap_or(HeaderValue::from_static("attachment"));
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            // Never run as a page, even if a browser were talked into showing it.
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; sandbox"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("private")),
        ],
        bytes,
    )
        .into_response())
}

#[utoipa::path(get, path = "/incidents/{key}/attachments/{id}", tag = "incidents",
    params(("key" = String, Path, description = "INC-42 or the numeric id"), ("id" = i64, Path, description = "The attachment's id")),
    responses((status = 200, description = "The file, as a download", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, body = Problem)))]
pub async fn download(
    State(state): State<AppState>,
    who: Principal,
    ApiPath((key, id)): ApiPath<(String, i64)>,
) -> ApiResult<Response> {
    download_response(&state, &who, &key, id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_folders_and_controls() {
        assert_eq!(clean_filename("C:\\Users\\me\\shot.png"), "shot.png");
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("a\r\nb.txt"), "ab.txt");
        assert_eq!(clean_filename(" .. "), "");
        assert_eq!(clean_filename("x/"), "");
        assert_eq!(clean_filename(&"n".repeat(300)).len(), 255);
    }

    #[test]
    fn media_types_are_checked() {
        assert_eq!(clean_content_type(Some("Image/PNG")), "image/png");
        assert_eq!(
            clean_content_type(Some("text/plain; charset=utf-8")),
            "text/plain"
        );
        for bad in [
            None,
            Some(""),
            Some("nonsense"),
            Some("text/plain\"x"),
            Some("application/x-www-form-urlencoded"),
        ] {
            assert_eq!(clean_content_type(bad), OCTET_STREAM, "{bad:?}");
        }
    }

    #[test]
    fn dispositions_are_safe_headers() {
        assert_eq!(
            content_disposition("report 1.pdf"),
            "attachment; filename=\"report 1.pdf\"; filename*=UTF-8''report%201.pdf"
        );
        let tricky = content_disposition("a\"b\\c;ü.txt");
        assert!(
            tricky.starts_with(
                "attachment; filename=\"a_b_c;_.txt\"; filename*=UTF-8''a%22b%5Cc%3B%C3%BC.txt"
            ),
            "{tricky}"
        );
        assert!(HeaderValue::from_str(&tricky).is_ok());
    }
}
