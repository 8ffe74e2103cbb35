//! `POST /import/upload`: an Admin's file, as a multipart form (the page's plain form works
//! without wasm), streamed to a temporary file a chunk at a time and then imported as the
//! organisation's job (see [`super::jobs`]). Its own size limit applies, not the usual
//! body limit, and no request timeout: a large file takes as long as the network needs.

use super::columns::{
    format_bytes, is_target, JobOutcome, JobPhase, MappedColumn, UploadFormat, MAX_COLUMNS,
};
use super::jobs::{run_job, Job, UploadedFile};
use crate::error::AppError;
use crate::orgs::model::Role;
use crate::session::{AppState, Viewer};
use axum::extract::multipart::{Field, Multipart, MultipartRejection};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

/// Where the page's form posts its file.
pub const UPLOAD_PATH: &str = "/import/upload";
/// Room for the form's other fields and the multipart framing around the file.
pub const FORM_OVERHEAD_BYTES: u64 = 256 * 1024;
/// Longest mapping field read.
const MAX_MAPPING_BYTES: usize = 64 * 1024;

/// Why an upload was refused.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error("{0}")]
    Busy(String),
    #[error("The file is larger than the {0} an import may be. Split it, or ask whoever runs the server to raise PLAYBOOK_IMPORT_MAX_MB.")]
    TooLarge(String),
    #[error("{0}")]
    Bad(String),
    #[error("The upload was cut off before the whole file arrived; nothing was imported.")]
    CutOff,
    #[error("The file could not be stored on the server; nothing was imported.")]
    Disk(#[source] std::io::Error),
}

impl IntoResponse for UploadError {
    fn into_response(self) -> Response {
        let status = match &self {
            UploadError::App(error) => return error.clone().into_response(),
            UploadError::Busy(_) => StatusCode::CONFLICT,
            UploadError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            UploadError::Bad(_) | UploadError::CutOff => StatusCode::BAD_REQUEST,
            UploadError::Disk(error) => {
                tracing::error!(%error, "an upload could not be written to disk");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        (status, self.to_string()).into_response()
    }
}

/// Whether the request came from a plain form post (a page, not a script), which is answered
/// by going back to the page.
fn wants_page(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// Reads the `mapping` field: the page's choice of what each column is read as.
async fn read_mapping(mut field: Field<'_>) -> Result<Vec<MappedColumn>, UploadError> {
    // Read a chunk at a time, so that an oversized field is refused before it is all in memory.
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|_| UploadError::CutOff)? {
        if bytes.len() + chunk.len() > MAX_MAPPING_BYTES {
            return Err(UploadError::Bad(
                "The column mapping is too long.".to_owned(),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    let text = String::from_utf8_lossy(&bytes);
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let mapping: Vec<MappedColumn> = serde_json::from_str(&text)
        .map_err(|_| UploadError::Bad("The column mapping was not understood.".to_owned()))?;
    if mapping.len() > MAX_COLUMNS || mapping.iter().any(|column| !is_target(&column.target)) {
        return Err(UploadError::Bad(
            "The column mapping names something a column cannot be imported as.".to_owned(),
        ));
    }
    Ok(mapping)
}

/// Streams the file field to disk, counting it against the limit.
async fn receive(
    state: &AppState,
    job: &Job,
    mut field: Field<'_>,
) -> Result<UploadedFile, UploadError> {
    let settings = state.import_jobs.settings();
    let (stored, mut file) = UploadedFile::create(&settings.dir, job)
        .await
        .map_err(UploadError::Disk)?;
    let mut received: u64 = 0;
    loop {
        let chunk = match field.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(_) => return Err(UploadError::CutOff),
        };
        received += chunk.len() as u64;
        if received > settings.max_upload_bytes {
            return Err(UploadError::TooLarge(format_bytes(
                settings.max_upload_bytes,
            )));
        }
        file.write_all(&chunk).await.map_err(UploadError::Disk)?;
        job.received(received);
    }
    file.flush().await.map_err(UploadError::Disk)?;
    Ok(stored)
}

/// `POST /import/upload`: Admins only; one import per organisation at a time.
pub async fn upload_import(
    State(state): State<AppState>,
    viewer: Option<Extension<Viewer>>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, UploadError> {
    let Some(Extension(viewer)) = viewer else {
        return Err(AppError::Unauthorized.into());
    };
    if viewer.role != Role::Admin {
        return Err(AppError::AdminsOnly.into());
    }
    let max = state.import_jobs.settings().max_upload_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max.saturating_add(FORM_OVERHEAD_BYTES)) {
        return Err(UploadError::TooLarge(format_bytes(max)));
    }
    let mut multipart = multipart.map_err(|_| {
        UploadError::Bad("Send the file as a multipart form (the Import page's form).".to_owned())
    })?;
    let mut chosen: Option<Vec<MappedColumn>> = None;
    let mut upload: Option<(Receiving, UploadedFile, UploadFormat)> = None;
    let mut other_fields = 0;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| UploadError::CutOff)?
    {
        match field.name() {
            Some("mapping") => {
                let mapping = read_mapping(field).await?;
                chosen = (!mapping.is_empty()).then_some(mapping);
            }
            Some("file") if upload.is_none() => {
                let name = field.file_name().unwrap_or_default().to_owned();
                if name.is_empty() {
                    return Err(UploadError::Bad("Choose a file to import.".to_owned()));
                }
                let format = UploadFormat::of_name(&name).ok_or_else(|| {
                    UploadError::Bad(
                        "Choose a CSV (.csv) or NDJSON (.ndjson, .jsonl) file.".to_owned(),
                    )
                })?;
                let job = state
                    .import_jobs
                    .start(viewer.org_id, &name)
                    .map_err(|refused| UploadError::Busy(refused.to_string()))?;
                let receiving = Receiving(Some(job.clone()));
                match receive(&state, &job, field).await {
                    Ok(stored) => upload = Some((receiving, stored, format)),
                    Err(error) => {
                        job.finish(JobOutcome::Failed(format!("Nothing was imported: {error}")));
                        return Err(error);
                    }
                }
            }
            _ => {
                other_fields += 1;
                if other_fields > 10 {
                    return Err(UploadError::Bad(
                        "The form has unexpected fields.".to_owned(),
                    ));
                }
            }
        }
    }
    let Some((mut receiving, stored, format)) = upload else {
        return Err(UploadError::Bad("Choose a file to import.".to_owned()));
    };
    let Some(job) = receiving.0.take() else {
        return Err(AppError::Internal.into());
    };
    tracing::info!(
        org_id = viewer.org_id,
        job = job.id,
        "an import from the browser starts"
    );
    let view = job.view();
    tokio::spawn(run_job(state.db.clone(), job, stored, format, chosen));
    if wants_page(&headers) {
        return Ok((StatusCode::SEE_OTHER, [(header::LOCATION, "/import")]).into_response());
    }
    Ok((StatusCode::ACCEPTED, Json(view)).into_response())
}

/// A job whose file is arriving: if the request ends before the import starts (an error, the
/// client gone), the job ends too, so that the organisation can start another.
struct Receiving(Option<Arc<Job>>);

impl Drop for Receiving {
    fn drop(&mut self) {
        if let Some(job) = self.0.take() {
            if job.view().phase == JobPhase::Receiving {
                job.finish(JobOutcome::Failed(UploadError::CutOff.to_string()));
            }
        }
    }
}
