//! The Import page (Admins only): choose or drop a CSV or NDJSON file, map a CSV's columns to
//! Playbook's, see the first rows as they will be read, then upload it as a plain multipart
//! form (which works without wasm too) and follow the organisation's import job.

use super::columns::{
    format_bytes, ImportJobView, ImportPageState, ImportPreview, JobOutcome, JobPhase,
    MappedColumn, UploadFormat, CRITERION_PREFIX, FIELD_PREFIX, LEAVE_OUT, PLAYBOOK_COLUMNS,
    PREVIEW_HEADINGS,
};
use super::server::{import_status, preview_import};
use crate::auth::view::AuthContext;
use crate::error::{mark_status, AppError};
use crate::orgs::model::Role;
use leptos::prelude::*;
use std::time::Duration;

/// How often the page asks for the job's progress while it runs.
const POLL_EVERY: Duration = Duration::from_millis(700);

/// Shows its children to Admins only; anyone else gets a clear 403.
#[component]
fn RequireAdmin(children: ChildrenFn) -> impl IntoView {
    let auth = expect_context::<AuthContext>();
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match auth.user.await {
                    Ok(Some(user)) if user.role == Role::Admin => children.with_value(|children| children()).into_any(),
                    Ok(Some(_)) => {
                        let error = mark_status(AppError::AdminsOnly);
                        view! {
                            <div class="empty-state" role="alert">
                                <h1>"Not available to your role"</h1>
                                <p>{error.to_string()}</p>
                            </div>
                        }.into_any()
                    }
                    Ok(None) => {
                        let error = mark_status(AppError::Unauthorized);
                        view! { <p class="inline-error" role="alert">{error.to_string()}</p> }.into_any()
                    }
                    Err(error) => view! { <p class="inline-error" role="alert">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn ImportPage() -> impl IntoView {
    let tick = RwSignal::new(0u32);
    let status = Resource::new(move || tick.get(), |_| import_status());
    // While a job runs, ask again shortly (in the browser: effects do not run on the server).
    Effect::new(move |_| {
        let running = status.get().is_some_and(|page| {
            page.is_ok_and(|page| page.job.is_some_and(|job| job.phase != JobPhase::Finished))
        });
        if running {
            set_timeout(move || tick.update(|t| *t += 1), POLL_EVERY);
        }
    });
    view! {
        <RequireAdmin>
            <section class="page import-page">
                <header class="page-header">
                    <h1>"Import conversations"</h1>
                    <p class="page-lede">
                        "Load a file of conversations, such as an export from your call platform. "
                        "Each file is imported all or nothing: if any row is wrong, every bad row is listed and nothing is written."
                    </p>
                </header>
                <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match status.await {
                            Ok(page) => view! { <ImportState page=page /> }.into_any(),
                            Err(error) => view! { <p class="inline-error" role="alert">{error.to_string()}</p> }.into_any(),
                        }
                    })}
                </Transition>
                <ImportForm />
            </section>
        </RequireAdmin>
    }
}

/// The help that depends on the server, and the organisation's job.
#[component]
fn ImportState(page: ImportPageState) -> impl IntoView {
    let running = page
        .job
        .as_ref()
        .is_some_and(|job| job.phase != JobPhase::Finished);
    view! {
        <div class="import-help">
            <p>
                "CSV files have a header row; their columns are matched to Playbook's below. NDJSON files hold one conversation per line, with Playbook's names. A file may be up to "
                {format_bytes(page.max_upload_bytes)}
                ". One import runs per organisation at a time."
            </p>
            {page.sqlite.then(|| view! {
                <p class="import-note">
                    "This server stores its data in SQLite: while an import writes, it holds the database's write lock, so other organisations' changes wait or are refused with “busy, try again” until it is done. Servers for many organisations should use PostgreSQL."
                </p>
            })}
        </div>
        {running.then(|| view! {
            // Without wasm nothing polls: the page reloads itself while the job runs.
            // Its content is opaque to hydration (with scripting on, a noscript holds text).
            <noscript inner_html=r#"<meta http-equiv="refresh" content="3">"#></noscript>
        })}
        {page.job.map(|job| view! { <JobPanel job=job /> })}
    }
}

fn plural(count: u64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

#[component]
fn JobPanel(job: ImportJobView) -> impl IntoView {
    let heading = match job.phase {
        JobPhase::Receiving => "Receiving the file",
        JobPhase::Importing => "Importing",
        JobPhase::Finished => match &job.outcome {
            Some(JobOutcome::Imported(_)) => "Imported",
            _ => "Not imported",
        },
    };
    let progress = match job.phase {
        JobPhase::Receiving => Some(
            view! {
                <p>{format!("{} received so far.", format_bytes(job.file_bytes))}</p>
            }
            .into_any(),
        ),
        JobPhase::Importing => Some(
            view! {
                <progress
                    class="import-progress"
                    aria-label="Import progress"
                    max=job.file_bytes.max(1).to_string()
                    value=job.bytes_read.to_string()
                ></progress>
                <p class="import-figures">
                    {format!(
                        "{} of {} read, {} so far.",
                        format_bytes(job.bytes_read),
                        format_bytes(job.file_bytes),
                        plural(job.rows, "row", "rows"),
                    )}
                </p>
                <p>"Another import can start when this one is done."</p>
            }
            .into_any(),
        ),
        JobPhase::Finished => None,
    };
    let outcome = job.outcome.clone().map(|outcome| match outcome {
        JobOutcome::Imported(figures) => view! {
            <p class="import-summary">
                {format!(
                    "{} read in {:.1} s: {} written ({} new, {} changed), {} unchanged; {} touched{}.",
                    plural(figures.rows, "row", "rows"),
                    figures.millis as f64 / 1000.0,
                    plural(figures.created + figures.updated, "conversation", "conversations"),
                    figures.created,
                    figures.updated,
                    figures.unchanged,
                    plural(figures.customers_touched, "customer", "customers"),
                    if figures.new_fields > 0 {
                        format!("; {} defined", plural(figures.new_fields, "new text field", "new text fields"))
                    } else {
                        String::new()
                    },
                )}
            </p>
        }
        .into_any(),
        JobOutcome::BadRows { total, lines } => {
            let more = total.saturating_sub(lines.len() as u64);
            view! {
                <div class="inline-error" role="alert">
                    <p>{format!("{}; nothing was written. Fix them and import the file again.", plural(total, "bad row", "bad rows"))}</p>
                    <ul class="import-errors">
                        {lines.into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}
                    </ul>
                    {(more > 0).then(|| view! { <p>{format!("… and {more} more.")}</p> })}
                </div>
            }
            .into_any()
        }
        JobOutcome::Failed(message) => view! {
            <p class="inline-error" role="alert">{message}</p>
        }
        .into_any(),
    });
    view! {
        <section class="import-job" aria-labelledby="import-job-heading" data-job=job.id.to_string() data-phase=format!("{:?}", job.phase)>
            <h2 id="import-job-heading">{format!("{heading}: {}", job.file_name)}</h2>
            <div role="status">{progress}</div>
            {outcome}
        </section>
    }
}

/// The choices of a column's list: leave out, Playbook's columns, a custom field or a playbook
/// criterion named after it (a criterion must be defined before the import).
fn target_choices(source: &str) -> Vec<(String, String)> {
    let mut choices = vec![(LEAVE_OUT.to_owned(), "Leave out".to_owned())];
    choices.extend(
        PLAYBOOK_COLUMNS
            .iter()
            .map(|(name, label)| ((*name).to_owned(), (*label).to_owned())),
    );
    let key = super::columns::field_key_of(source);
    choices.push((
        format!("{FIELD_PREFIX}{key}"),
        format!("Custom field “{key}”"),
    ));
    // A column already named `criterion.<key>` keeps its key.
    let guessed = super::columns::guess_target(source);
    let criterion = match guessed.strip_prefix(CRITERION_PREFIX) {
        Some(named) => named.to_owned(),
        None => key,
    };
    choices.push((
        format!("{CRITERION_PREFIX}{criterion}"),
        format!("Criterion “{criterion}” (0–100, or n/a)"),
    ));
    choices
}

/// Reads the start of `file`: its text and whether the file is longer.
#[cfg(feature = "hydrate")]
async fn read_start(file: &web_sys::File) -> Result<(String, bool), String> {
    use super::columns::PREVIEW_SAMPLE_BYTES;
    let truncated = file.size() > PREVIEW_SAMPLE_BYTES as f64;
    let blob = file
        .slice_with_i32_and_i32(0, PREVIEW_SAMPLE_BYTES as i32)
        .map_err(|_| "The file could not be read.".to_owned())?;
    let text = wasm_bindgen_futures::JsFuture::from(blob.text())
        .await
        .map_err(|_| "The file could not be read.".to_owned())?;
    Ok((text.as_string().unwrap_or_default(), truncated))
}

#[component]
fn ImportForm() -> impl IntoView {
    let input = NodeRef::<leptos::html::Input>::new();
    // The chosen file's format and start, and what each column is read as.
    let sample = RwSignal::new(None::<(UploadFormat, String, bool)>);
    let mapping = RwSignal::new(Vec::<MappedColumn>::new());
    let preview = RwSignal::new(None::<Result<ImportPreview, AppError>>);
    let problem = RwSignal::new(None::<String>);
    let dragging = RwSignal::new(false);

    let refresh = move |chosen: Option<Vec<MappedColumn>>| {
        let Some((format, text, truncated)) = sample.get_untracked() else {
            return;
        };
        leptos::task::spawn_local(async move {
            let answer = preview_import(format, text, truncated, chosen).await;
            if let Ok(read) = &answer {
                mapping.set(read.columns.clone());
            }
            preview.set(Some(answer));
        });
    };
    let chosen_file = move || {
        problem.set(None);
        preview.set(None);
        mapping.set(Vec::new());
        sample.set(None);
        #[cfg(feature = "hydrate")]
        {
            let Some(file) = input
                .get_untracked()
                .and_then(|input| input.files())
                .and_then(|files| files.get(0))
            else {
                return;
            };
            let Some(format) = UploadFormat::of_name(&file.name()) else {
                problem.set(Some(
                    "Choose a CSV (.csv) or NDJSON (.ndjson, .jsonl) file.".to_owned(),
                ));
                return;
            };
            leptos::task::spawn_local(async move {
                match read_start(&file).await {
                    Ok((text, truncated)) => {
                        sample.set(Some((format, text, truncated)));
                        refresh(None);
                    }
                    Err(message) => problem.set(Some(message)),
                }
            });
        }
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        let files = ev.data_transfer().and_then(|transfer| transfer.files());
        if let (Some(files), Some(input)) = (files, input.get_untracked()) {
            input.set_files(Some(&files));
            chosen_file();
        }
    };
    let set_target = move |index: usize, target: String| {
        mapping.update(|columns| {
            if let Some(column) = columns.get_mut(index) {
                column.target = target;
            }
        });
        refresh(Some(mapping.get_untracked()));
    };
    let mapping_json = move || {
        let columns = mapping.get();
        if columns.is_empty() {
            String::new()
        } else {
            serde_json::to_string(&columns).unwrap_or_default()
        }
    };

    view! {
        <form
            class="import-form"
            method="post"
            action="/import/upload"
            enctype="multipart/form-data"
        >
            <div
                class="drop-zone"
                class:dragging=move || dragging.get()
                on:dragover=move |ev: leptos::ev::DragEvent| {
                    ev.prevent_default();
                    dragging.set(true);
                }
                on:dragleave=move |_| dragging.set(false)
                on:drop=on_drop
            >
                <label for="import-file">"Choose a CSV or NDJSON file, or drop it here"</label>
                <input
                    id="import-file"
                    node_ref=input
                    type="file"
                    name="file"
                    accept=".csv,.ndjson,.jsonl"
                    required
                    on:change=move |_| chosen_file()
                />
            </div>
            <input type="hidden" name="mapping" prop:value=mapping_json />
            {move || problem.get().map(|message| view! { <p class="inline-error" role="alert">{message}</p> })}
            {move || {
                let columns = mapping.get();
                (!columns.is_empty()).then(|| view! {
                    <fieldset class="import-mapping">
                        <legend>"Columns: what each is read as"</legend>
                        <div class="mapping-grid">
                            {columns
                                .into_iter()
                                .enumerate()
                                .map(|(index, column)| {
                                    let id = format!("map-{index}");
                                    let current = column.target.clone();
                                    view! {
                                        <div class="control">
                                            <label for=id.clone()>{column.source.clone()}</label>
                                            <select
                                                id=id
                                                on:change=move |ev| set_target(index, event_target_value(&ev))
                                            >
                                                {target_choices(&column.source)
                                                    .into_iter()
                                                    .map(|(value, label)| {
                                                        let selected = value == current;
                                                        view! { <option value=value selected=selected>{label}</option> }
                                                    })
                                                    .collect_view()}
                                            </select>
                                        </div>
                                    }
                                })
                                .collect_view()}
                        </div>
                    </fieldset>
                })
            }}
            {move || preview.get().map(|answer| match answer {
                Ok(read) => view! { <PreviewTable preview=read /> }.into_any(),
                Err(error) => view! { <p class="inline-error" role="alert">{error.to_string()}</p> }.into_any(),
            })}
            <button type="submit" class="button primary">"Import"</button>
        </form>
    }
}

#[component]
fn PreviewTable(preview: ImportPreview) -> impl IntoView {
    let shown = preview.rows.len();
    view! {
        {(!preview.problems.is_empty()).then(|| view! {
            <div class="inline-error" role="alert">
                <p>"The file cannot be imported as mapped:"</p>
                <ul>{preview.problems.iter().map(|p| view! { <li>{p.clone()}</li> }).collect_view()}</ul>
            </div>
        })}
        <h2 class="preview-heading">{format!("The first {shown} rows, as they will be read")}</h2>
        <div class="table-wrap" tabindex="0" role="region" aria-label="Preview of the first rows">
            <table class="import-preview">
                <thead>
                    <tr>
                        <th scope="col">"Line"</th>
                        {PREVIEW_HEADINGS.iter().map(|h| view! { <th scope="col">{*h}</th> }).collect_view()}
                        <th scope="col">"Problems"</th>
                    </tr>
                </thead>
                <tbody>
                    {preview
                        .rows
                        .into_iter()
                        .map(|row| {
                            let bad = !row.problems.is_empty();
                            let mut cells = row.cells;
                            cells.resize(PREVIEW_HEADINGS.len(), String::new());
                            view! {
                                <tr class:bad-row=bad>
                                    <td>{row.line}</td>
                                    {cells.into_iter().map(|cell| view! { <td>{cell}</td> }).collect_view()}
                                    <td>{row.problems.join("; ")}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
