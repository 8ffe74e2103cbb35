//! "Export CSV": the current view of the Customers page (search, filters and sort applied),
//! every customer of it, in one order computed once from the read model (so the file shows one
//! version of the data however long it streams), written a thousand customers at a time.

use super::query::CustomerQuery;
use super::question::ChangeGroup;
use super::read_model::ReadModels;
use super::service::{customers_page, resolve_question, Question, Strictness};
use super::store::{page_question, CustomerSummary};
use crate::conversations::model::format_average;
use crate::db::Db;
use crate::error::AppError;
use crate::orgs::time::format_date;
use crate::session::{AppState, Viewer};
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use chrono_tz::Tz;

/// Customers read per query while streaming.
const CHUNK: u32 = 1000;

pub const CSV_HEADER: [&str; 6] = [
    "Customer",
    "Display name",
    "Interactions",
    "First Interaction",
    "Latest Interaction",
    "Avg Score",
];

/// A cell a spreadsheet would run as a formula gets a leading apostrophe (OWASP's advice), so
/// an identifier such as `=HYPERLINK(…)` or `+44 20…` stays text.
/// The columns added when the view compares with a previous period: the previous period's
/// figures under the same other conditions, the change of the average (this period's minus
/// the previous one's, one decimal; `New` without a scored conversation then), and whether
/// it is uncertain (either side under 3 scored conversations).
pub const CSV_CHANGE_HEADER: [&str; 4] = [
    "Previous Interactions",
    "Previous Avg Score",
    "Change",
    "Change Uncertain",
];

pub fn spreadsheet_safe(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

fn csv_bytes(rows: impl IntoIterator<Item = Vec<String>>) -> Bytes {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        // Writing into memory cannot fail.
        let _ = writer.write_record(row);
    }
    Bytes::from(writer.into_inner().unwrap_or_default())
}

/// How an export reads its rows.
enum Rows {
    /// Every row of the view, computed once from the read model at one version; the export
    /// streams them from here, whatever is written meanwhile.
    Pinned {
        rows: Vec<CustomerSummary>,
        next: usize,
    },
    /// An organisation larger than the read model's budget: a page at a time from SQL.
    Paged {
        db: Db,
        models: std::sync::Arc<ReadModels>,
        question: Box<Question>,
        next_page: Option<u32>,
    },
}

struct Export {
    org_id: i64,
    /// The view compares with a previous period: the change columns are written.
    compared: bool,
    zone: Tz,
    rows: Rows,
    /// Past this the export stops, even for a client still reading.
    stop_at: std::time::Instant,
}

/// Longest an export may stream.
const EXPORT_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(600);

fn csv_rows(rows: &[CustomerSummary], zone: Tz, compared: bool) -> Bytes {
    csv_bytes(rows.iter().map(|row| {
        let mut cells = vec![
            spreadsheet_safe(&row.identifier),
            spreadsheet_safe(row.display_name.as_deref().unwrap_or_default()),
            row.interactions.to_string(),
            format_date(row.first_ms, zone),
            format_date(row.latest_ms, zone),
            format_average(row.score_sum, row.interactions),
        ];
        if compared {
            cells.extend(change_cells(row));
        }
        cells
    }))
}

/// The cells under [`CSV_CHANGE_HEADER`]: plain numbers a spreadsheet reads as numbers.
fn change_cells(row: &CustomerSummary) -> [String; 4] {
    let previous = row.previous_interactions;
    if previous == 0 || row.interactions == 0 {
        return [
            "0".to_owned(),
            String::new(),
            "New".to_owned(),
            String::new(),
        ];
    }
    let points = (row.score_sum as f64 / row.interactions as f64
        - row.previous_score_sum as f64 / previous as f64)
        / 100.0;
    let change = format!("{points:.1}");
    let uncertain = ChangeGroup::of(row.interactions, previous) == ChangeGroup::Uncertain;
    [
        previous.to_string(),
        format_average(row.previous_score_sum, previous),
        // "-0.0" reads as a drop; it is no change.
        if change == "-0.0" {
            "0.0".to_owned()
        } else {
            change
        },
        if uncertain { "yes" } else { "no" }.to_owned(),
    ]
}

async fn next_chunk(mut export: Export) -> Option<(Result<Bytes, std::io::Error>, Export)> {
    if std::time::Instant::now() >= export.stop_at {
        tracing::warn!(
            org_id = export.org_id,
            "CSV export stopped at its time limit"
        );
        return None;
    }
    let zone = export.zone;
    match &mut export.rows {
        Rows::Pinned { rows, next } => {
            if *next >= rows.len() {
                return None;
            }
            let end = (*next + CHUNK as usize).min(rows.len());
            let bytes = csv_rows(&rows[*next..end], zone, export.compared);
            *next = end;
            Some((Ok(bytes), export))
        }
        Rows::Paged {
            db,
            models,
            question,
            next_page,
        } => {
            let page = (*next_page)?;
            question.applied.page = page;
            match customers_page(db, models, export.org_id, question, CHUNK).await {
                Ok(data) => {
                    *next_page =
                        (data.page < data.page_count && data.page == page).then_some(page + 1);
                    let bytes = csv_rows(&data.rows, zone, export.compared);
                    Some((Ok(bytes), export))
                }
                Err(error) => {
                    tracing::error!(%error, "CSV export failed part-way");
                    *next_page = None;
                    Some((
                        Err(std::io::Error::other("the export failed part-way")),
                        export,
                    ))
                }
            }
        }
    }
}

/// `GET /customers/export.csv?<the page's query>`: Admins and Managers only.
#[tracing::instrument(skip_all)]
pub async fn export_csv(
    State(state): State<AppState>,
    viewer: Option<Extension<Viewer>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let Some(Extension(viewer)) = viewer else {
        return Err(AppError::Unauthorized);
    };
    if !viewer.role.may_review() {
        return Err(AppError::Forbidden);
    }
    let query = CustomerQuery::from_query_string(raw.as_deref().unwrap_or_default());
    let question = resolve_question(
        &state.db,
        viewer.org_id,
        viewer.time_zone,
        &query,
        Strictness::Lenient,
    )
    .await?;
    let compared = question.conditions.previous.is_some();
    let header = CSV_HEADER.iter().chain(if compared {
        CSV_CHANGE_HEADER.iter()
    } else {
        [].iter()
    });
    let header_row = csv_bytes([header.map(|h| (*h).to_owned()).collect()]);
    let listing = page_question(&question.applied, &question.conditions, u32::MAX);
    let rows = match state
        .read_models
        .listing(&state.db, viewer.org_id, listing)
        .await
        .map_err(crate::error::answer)?
    {
        Some(rows) => Rows::Pinned { rows, next: 0 },
        None => Rows::Paged {
            db: state.db.clone(),
            models: state.read_models.clone(),
            question: Box::new(question),
            next_page: Some(1),
        },
    };
    let export = Export {
        org_id: viewer.org_id,
        compared,
        zone: viewer.time_zone,
        rows,
        stop_at: std::time::Instant::now() + EXPORT_TIME_LIMIT,
    };
    let header_part =
        futures_util::stream::once(async move { Ok::<_, std::io::Error>(header_row) });
    // Fused: the response compressor polls once more after the end, which a bare unfold
    // answers with a panic.
    let body = futures_util::StreamExt::fuse(futures_util::StreamExt::chain(
        header_part,
        futures_util::stream::unfold(export, next_chunk),
    ));
    let file_name = format!(
        "customers-{}.csv",
        chrono::Utc::now()
            .with_timezone(&viewer.time_zone)
            .format("%Y-%m-%d")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_evaluate_stay_text() {
        assert_eq!(spreadsheet_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(spreadsheet_safe("+44 20 7946 0958"), "'+44 20 7946 0958");
        assert_eq!(spreadsheet_safe("@sum"), "'@sum");
        assert_eq!(spreadsheet_safe("zoe@example.com"), "zoe@example.com");
    }
}
