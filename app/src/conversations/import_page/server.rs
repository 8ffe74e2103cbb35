//! The import page's server functions: its state (the organisation's job, polled while it
//! runs) and the preview of a file's first rows. Admins only.

use super::columns::{ImportPageState, ImportPreview, MappedColumn, UploadFormat};
use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// The signed-in Admin; anyone else is refused.
#[cfg(feature = "ssr")]
fn current_admin() -> Result<crate::session::Viewer, AppError> {
    let viewer = crate::session::current_viewer()?;
    if viewer.role == crate::orgs::model::Role::Admin {
        Ok(viewer)
    } else {
        Err(AppError::AdminsOnly)
    }
}

/// The organisation's running or last import, the upload limit, and the backend (for the
/// page's note on SQLite).
#[server(endpoint = "import_status", input = Json)]
pub async fn import_status() -> Result<ImportPageState, AppError> {
    use crate::error::mark_status;
    use crate::session::app_state;

    let state = app_state()?;
    let viewer = current_admin().map_err(mark_status)?;
    Ok(ImportPageState {
        job: state.import_jobs.current(viewer.org_id),
        max_upload_bytes: state.import_jobs.settings().max_upload_bytes,
        sqlite: state.db.backend() == crate::db::Backend::Sqlite,
    })
}

/// The first rows of a file as the import will read them: `sample` is the start of the file
/// (`truncated` when there is more), read with `mapping` where it names a column, else with
/// what the organisation remembers, else with guesses.
#[server(endpoint = "import_preview", input = Json)]
pub async fn preview_import(
    format: UploadFormat,
    sample: String,
    truncated: bool,
    mapping: Option<Vec<MappedColumn>>,
) -> Result<ImportPreview, AppError> {
    use super::columns::{choose_mapping, is_target, PREVIEW_SAMPLE_BYTES};
    use super::mapping::{preview_csv, preview_ndjson};
    use super::store::remembered_mapping;
    use crate::error::mark_status;
    use crate::session::app_state;

    let state = app_state()?;
    let viewer = current_admin().map_err(mark_status)?;
    if sample.len() > PREVIEW_SAMPLE_BYTES * 2 {
        return Err(mark_status(AppError::BadRequest(
            "The preview takes only the start of a file.".to_owned(),
        )));
    }
    if mapping
        .as_ref()
        .is_some_and(|mapping| mapping.iter().any(|column| !is_target(&column.target)))
    {
        return Err(mark_status(AppError::BadRequest(
            "The mapping names something a column cannot be imported as.".to_owned(),
        )));
    }
    match format {
        UploadFormat::Ndjson => Ok(preview_ndjson(sample.as_bytes(), truncated)),
        UploadFormat::Csv => {
            let remembered = remembered_mapping(&state.db, viewer.org_id)
                .await
                .map_err(crate::error::answer)?;
            preview_csv(sample.as_bytes(), truncated, |header| {
                choose_mapping(header, mapping.as_deref(), &remembered)
            })
            .map_err(|error| {
                mark_status(AppError::BadRequest(format!(
                    "The file could not be read as CSV: {error}"
                )))
            })
        }
    }
}
