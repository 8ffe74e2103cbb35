//! Imports started from the browser: one job per organisation at a time, kept in memory while
//! it runs and for a while after (so that reloading the page shows it), then forgotten. The
//! file is read from a temporary file on disk, which is removed when the job is done.

use super::super::import::{import_file, FileFormat, ImportError, ImportOptions};
use super::columns::{
    choose_mapping, ImportJobView, ImportedFigures, JobOutcome, JobPhase, MappedColumn,
    UploadFormat,
};
use super::mapping::{is_identity, read_header, MappedCsv};
use super::store::{
    current_write_version, customers_changed_since, remember_mapping, remembered_mapping,
};
use crate::db::Db;
use crate::error::AppError;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The default largest file an upload may be (`PLAYBOOK_IMPORT_MAX_MB`).
pub const DEFAULT_MAX_UPLOAD_MB: u64 = 1024;
/// How long a finished job is shown before it is forgotten.
pub const KEEP_FINISHED: Duration = Duration::from_secs(3600);
/// Bad rows listed on the page (all are counted).
const LISTED_ERRORS: usize = 100;
/// The read buffer of an imported file.
const READ_BUFFER_BYTES: usize = 256 * 1024;

/// Where uploads go and how large they may be.
#[derive(Clone, Debug)]
pub struct ImportSettings {
    pub max_upload_bytes: u64,
    /// The directory uploads are written to while they are imported.
    pub dir: PathBuf,
    /// How long a finished job stays visible.
    pub keep_finished: Duration,
}

impl Default for ImportSettings {
    fn default() -> Self {
        ImportSettings {
            max_upload_bytes: DEFAULT_MAX_UPLOAD_MB * 1024 * 1024,
            dir: std::env::temp_dir(),
            keep_finished: KEEP_FINISHED,
        }
    }
}

/// Why an import could not start.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StartRefused {
    #[error("An import is already running for this organisation ({0}). Wait for it to finish; its progress is on the Import page.")]
    Running(String),
}

/// One organisation's import.
#[derive(Debug)]
pub struct Job {
    pub id: u64,
    pub org_id: i64,
    pub file_name: String,
    received: AtomicU64,
    bytes_read: AtomicU64,
    rows: AtomicU64,
    state: Mutex<JobState>,
}

#[derive(Debug)]
struct JobState {
    phase: JobPhase,
    outcome: Option<JobOutcome>,
    finished_at: Option<Instant>,
}

fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere cannot leave these maps half-changed: every change is one statement.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Job {
    pub fn view(&self) -> ImportJobView {
        let state = locked(&self.state);
        ImportJobView {
            id: self.id,
            file_name: self.file_name.clone(),
            phase: state.phase,
            file_bytes: self.received.load(Ordering::Relaxed),
            bytes_read: self.bytes_read.load(Ordering::Relaxed),
            rows: self.rows.load(Ordering::Relaxed),
            outcome: state.outcome.clone(),
        }
    }

    /// Bytes of the file received so far.
    pub fn received(&self, bytes: u64) {
        self.received.store(bytes, Ordering::Relaxed);
    }

    fn set_phase(&self, phase: JobPhase) {
        locked(&self.state).phase = phase;
    }

    /// Ends the job with `outcome`.
    pub fn finish(&self, outcome: JobOutcome) {
        let mut state = locked(&self.state);
        state.phase = JobPhase::Finished;
        state.outcome = Some(outcome);
        state.finished_at = Some(Instant::now());
    }

    fn finished_before(&self, cutoff: Instant) -> bool {
        locked(&self.state)
            .finished_at
            .is_some_and(|at| at <= cutoff)
    }

    fn is_finished(&self) -> bool {
        locked(&self.state).phase == JobPhase::Finished
    }
}

/// Every organisation's current or last import: at most one each, finished ones dropped after
/// [`ImportSettings::keep_finished`].
#[derive(Debug, Default)]
pub struct ImportJobs {
    settings: ImportSettings,
    next_id: AtomicU64,
    jobs: Mutex<HashMap<i64, Arc<Job>>>,
}

impl ImportJobs {
    pub fn new(settings: ImportSettings) -> ImportJobs {
        ImportJobs {
            settings,
            next_id: AtomicU64::new(0),
            jobs: Mutex::default(),
        }
    }

    pub fn settings(&self) -> &ImportSettings {
        &self.settings
    }

    fn pruned(&self) -> MutexGuard<'_, HashMap<i64, Arc<Job>>> {
        let mut jobs = locked(&self.jobs);
        if let Some(cutoff) = Instant::now().checked_sub(self.settings.keep_finished) {
            jobs.retain(|_, job| !job.finished_before(cutoff));
        } else {
            jobs.retain(|_, job| !job.is_finished());
        }
        jobs
    }

    /// Starts the organisation's import of `file_name`, in place of its finished one;
    /// refused while another is running.
    pub fn start(&self, org_id: i64, file_name: &str) -> Result<Arc<Job>, StartRefused> {
        let mut jobs = self.pruned();
        if let Some(running) = jobs.get(&org_id).filter(|job| !job.is_finished()) {
            return Err(StartRefused::Running(running.file_name.clone()));
        }
        let job = Arc::new(Job {
            id: self.next_id.fetch_add(1, Ordering::Relaxed) + 1,
            org_id,
            file_name: file_name.chars().take(200).collect(),
            received: AtomicU64::new(0),
            bytes_read: AtomicU64::new(0),
            rows: AtomicU64::new(0),
            state: Mutex::new(JobState {
                phase: JobPhase::Receiving,
                outcome: None,
                finished_at: None,
            }),
        });
        jobs.insert(org_id, job.clone());
        Ok(job)
    }

    /// The organisation's running or recently finished import.
    pub fn current(&self, org_id: i64) -> Option<ImportJobView> {
        self.pruned().get(&org_id).map(|job| job.view())
    }

    /// Jobs held in memory.
    pub fn len(&self) -> usize {
        self.pruned().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An uploaded file on disk, removed when dropped.
#[derive(Debug)]
pub struct UploadedFile {
    path: PathBuf,
}

impl UploadedFile {
    /// A new, empty file for job `job` in `dir`, opened for writing.
    pub async fn create(dir: &Path, job: &Job) -> std::io::Result<(UploadedFile, tokio::fs::File)> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let path = dir.join(format!(
            "playbook-import-{}-{}-{}-{nanos}.part",
            std::process::id(),
            job.org_id,
            job.id
        ));
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await?;
        Ok((UploadedFile { path }, file))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for UploadedFile {
    fn drop(&mut self) {
        if let Err(error) = std::fs::remove_file(&self.path) {
            if error.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(%error, path = %self.path.display(), "could not remove an uploaded file");
            }
        }
    }
}

/// Uploads older than this found at start are left over from a server that stopped mid-import.
pub const STALE_UPLOAD: Duration = Duration::from_secs(24 * 3600);

/// Removes uploads left in `dir` by a server that stopped while importing (a crash, a kill):
/// this process's own are removed when their import ends. Only files named as uploads and
/// untouched for [`STALE_UPLOAD`] go, so another server sharing the directory keeps its own.
/// Answers how many were removed.
pub fn remove_stale_uploads(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with("playbook-import-") && name.ends_with(".part")) {
            continue;
        }
        let stale = entry
            .metadata()
            .and_then(|metadata| metadata.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|age| age >= STALE_UPLOAD);
        if stale && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Counts the bytes read through it into the job.
struct Counted<R> {
    inner: R,
    job: Arc<Job>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.job.bytes_read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Imports the uploaded `file` as the job says, then records how it ended. The reading runs
/// on a blocking thread: parsing a large file is minutes of work the request threads must
/// not wait behind.
pub async fn run_job(
    db: Db,
    job: Arc<Job>,
    file: UploadedFile,
    format: UploadFormat,
    chosen: Option<Vec<MappedColumn>>,
) {
    job.set_phase(JobPhase::Importing);
    let outcome = import_upload(&db, &job, &file, format, chosen).await;
    drop(file);
    job.finish(outcome);
}

async fn import_upload(
    db: &Db,
    job: &Arc<Job>,
    file: &UploadedFile,
    format: UploadFormat,
    chosen: Option<Vec<MappedColumn>>,
) -> JobOutcome {
    let failed = |error: AppError| JobOutcome::Failed(format!("Nothing was written: {error}"));
    let org_id = job.org_id;
    let path = file.path().to_owned();
    // A CSV's mapping is settled (and remembered) before the import: every attempt reads the
    // file the same way.
    let mapping = match format {
        UploadFormat::Ndjson => None,
        UploadFormat::Csv => {
            let header = match std::fs::File::open(&path).and_then(read_header) {
                Ok(header) => header,
                Err(error) => {
                    return JobOutcome::Failed(format!(
                        "Nothing was written: the file's header could not be read ({error})."
                    ))
                }
            };
            let remembered = match remembered_mapping(db, org_id).await {
                Ok(remembered) => remembered,
                Err(error) => return failed(crate::error::answer(error)),
            };
            let mapping = choose_mapping(&header, chosen.as_deref(), &remembered);
            if let Err(error) = remember_mapping(db, org_id, &mapping).await {
                return failed(crate::error::answer(error));
            }
            Some(mapping).filter(|mapping| !is_identity(mapping))
        }
    };
    let before = match current_write_version(db, org_id).await {
        Ok(version) => version,
        Err(error) => return failed(crate::error::answer(error)),
    };
    let started = Instant::now();
    let runtime = tokio::runtime::Handle::current();
    let (db_for_import, job_for_import) = (db.clone(), job.clone());
    let result = tokio::task::spawn_blocking(move || {
        let job = job_for_import;
        let mut open = || -> std::io::Result<Box<dyn BufRead + Send>> {
            job.bytes_read.store(0, Ordering::Relaxed);
            job.rows.store(0, Ordering::Relaxed);
            let counted = BufReader::with_capacity(
                READ_BUFFER_BYTES,
                Counted {
                    inner: std::fs::File::open(&path)?,
                    job: job.clone(),
                },
            );
            Ok(match &mapping {
                None => Box::new(counted),
                Some(mapping) => Box::new(MappedCsv::open(counted, |_| mapping.clone())?.0),
            })
        };
        let mut progress = |done: usize| job.rows.store(done as u64, Ordering::Relaxed);
        let file_format = match format {
            UploadFormat::Csv => FileFormat::Csv,
            UploadFormat::Ndjson => FileFormat::Ndjson,
        };
        runtime.block_on(import_file(
            &db_for_import,
            org_id,
            file_format,
            ImportOptions::default(),
            &mut open,
            &mut progress,
        ))
    })
    .await;
    match result {
        Ok(Ok(summary)) => {
            let customers_touched = customers_changed_since(db, org_id, before)
                .await
                .unwrap_or_else(|error| {
                    tracing::warn!(%error, "could not count the customers an import touched");
                    0
                });
            JobOutcome::Imported(ImportedFigures {
                rows: summary.rows,
                created: summary.written.created,
                updated: summary.written.updated,
                unchanged: summary.written.skipped,
                new_fields: summary.new_fields as u64,
                customers_touched: customers_touched.max(0) as u64,
                millis: started.elapsed().as_millis() as u64,
            })
        }
        Ok(Err(ImportError::Rows(errors))) => JobOutcome::BadRows {
            total: errors.total as u64,
            lines: errors
                .errors
                .iter()
                .take(LISTED_ERRORS)
                .map(ToString::to_string)
                .collect(),
        },
        Ok(Err(ImportError::Fields(message))) => JobOutcome::Failed(message),
        Ok(Err(ImportError::Store(error))) => failed(crate::error::answer(error)),
        Err(error) => {
            tracing::error!(%error, "an import job stopped");
            failed(AppError::Internal)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_import_per_organisation_and_finished_ones_are_forgotten() {
        let jobs = ImportJobs::new(ImportSettings {
            keep_finished: Duration::from_millis(50),
            ..ImportSettings::default()
        });
        let first = jobs.start(1, "a.csv").expect("first");
        assert_eq!(
            jobs.start(1, "b.csv").unwrap_err(),
            StartRefused::Running("a.csv".to_owned())
        );
        let other = jobs.start(2, "c.csv").expect("another organisation");
        assert_eq!(jobs.len(), 2);
        first.finish(JobOutcome::Failed("x".to_owned()));
        assert_eq!(
            jobs.current(1).map(|job| job.phase),
            Some(JobPhase::Finished)
        );
        // A finished job is replaced by the next one: still one per organisation.
        let second = jobs.start(1, "b.csv").expect("after the first finished");
        assert_ne!(second.id, first.id);
        assert_eq!(jobs.len(), 2);
        second.finish(JobOutcome::Failed("x".to_owned()));
        other.finish(JobOutcome::Failed("y".to_owned()));
        std::thread::sleep(Duration::from_millis(80));
        assert!(jobs.is_empty(), "finished jobs are pruned after a while");
        assert_eq!(jobs.current(1), None);
    }

    #[test]
    fn only_uploads_left_for_a_day_are_removed_at_start() {
        let dir = std::env::temp_dir().join(format!("playbook-stale-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let old = dir.join("playbook-import-1-2-3-4.part");
        let fresh = dir.join("playbook-import-1-2-4-5.part");
        let other = dir.join("notes.part");
        for path in [&old, &fresh, &other] {
            std::fs::write(path, b"x").expect("write");
        }
        let day_ago = std::time::SystemTime::now() - STALE_UPLOAD - Duration::from_secs(60);
        for path in [&old, &other] {
            std::fs::File::options()
                .write(true)
                .open(path)
                .and_then(|file| file.set_modified(day_ago))
                .expect("age");
        }
        assert_eq!(remove_stale_uploads(&dir), 1);
        assert!(!old.exists() && fresh.exists() && other.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn an_uploaded_file_is_removed_when_dropped() {
        let jobs = ImportJobs::default();
        let job = jobs.start(7, "x.csv").expect("job");
        let (file, _) = UploadedFile::create(&std::env::temp_dir(), &job)
            .await
            .expect("create");
        let path = file.path().to_owned();
        assert!(path.exists());
        drop(file);
        assert!(!path.exists());
    }
}
