//! The Customers read model: each organisation's conversations held in memory as compact
//! columns, from which any Customers question is answered by one pass over them.
//!
//! - [`ReadModels`] (this file) holds every organisation's model within one memory budget:
//!   an organisation is loaded on its first question, the ones questioned least recently are
//!   evicted to make room, and one too large for the budget is answered from SQL instead.
//! - `load` reads an organisation's rows (a first load, a reload, or the rows written since
//!   the version held; see `crate::versions` for why that stays exact);
//! - `columns` holds them (and accounts every byte), `search` the search index,
//!   `selection` the bit sets a question narrows, `answer` the questions themselves;
//! - `work` runs the heavy part of each question on a bounded pool, within its deadline.

mod answer;
mod columns;
mod field_columns;
mod load;
mod search;
mod selection;
mod slot_index;
mod work;

use crate::conversations::model::Channel;
use crate::customers::query::{SortDir, SortKey};
use crate::customers::question::{CustomerSummary, ResolvedFilter};
use crate::db::{Db, StoreError, StoreResult};
use crate::page::Page;
use columns::Facts;
use load::Change;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};
pub(crate) use work::Deadline;
use work::WorkPool;

/// The memory budget unless configured (`PLAYBOOK_READ_MODEL_MB`): room for one
/// organisation of 2 million conversations with its caches, or hundreds of small ones.
pub const DEFAULT_BUDGET_MB: usize = 256;

/// How often a server records that an organisation was questioned (for warming after a
/// restart): at most once a minute per organisation.
const REMEMBER_EVERY_MS: i64 = 60_000;

/// How long an organisation found too large for the budget is answered from SQL before it
/// is measured again.
const OVERSIZED_FOR: Duration = Duration::from_secs(300);

/// Most organisations remembered as too large (each a few bytes); past it the oldest go.
const MOST_OVERSIZED: usize = 10_000;

/// The conditions a conversation must meet to count, resolved against the organisation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Conditions {
    pub fields: Vec<ResolvedFilter>,
    /// UTC milliseconds: from (inclusive) and until (exclusive).
    pub from_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// The channels that count; empty means all.
    pub channels: Vec<Channel>,
    pub representative_id: Option<i64>,
    /// The previous period's bounds (from inclusive, until exclusive, UTC milliseconds) when a
    /// page compares with it: not a condition on what counts, but a second selection under
    /// the same other conditions, whose figures each customer carries beside its own.
    pub previous: Option<(i64, i64)>,
}

impl Conditions {
    /// The same conditions over the previous period (`None` when there is none).
    pub fn over_previous(&self) -> Option<Conditions> {
        let (from_ms, until_ms) = self.previous?;
        Some(Conditions {
            from_ms: Some(from_ms),
            until_ms: Some(until_ms),
            previous: None,
            ..self.clone()
        })
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
            && self.from_ms.is_none()
            && self.until_ms.is_none()
            && self.channels.is_empty()
            && self.representative_id.is_none()
    }
}

impl From<Vec<ResolvedFilter>> for Conditions {
    fn from(fields: Vec<ResolvedFilter>) -> Self {
        Conditions {
            fields,
            ..Conditions::default()
        }
    }
}

/// What a page of customers asks.
#[derive(Clone, Debug)]
pub struct PageQuestion {
    pub search: String,
    pub sort: SortKey,
    pub dir: SortDir,
    pub page: u32,
    pub page_size: u32,
    pub conditions: Conditions,
}

/// What the holder did since it started, for the benchmark and the logs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Activity {
    pub loads: u64,
    pub evictions: u64,
    /// Questions answered from SQL because their organisation is larger than the budget.
    pub answered_from_sql: u64,
}

/// Every organisation's read model in this process, within one memory budget.
pub struct ReadModels {
    orgs: Mutex<HashMap<i64, Arc<OrgModel>>>,
    budget_bytes: usize,
    /// Organisations measured as larger than the whole budget, and when.
    oversized: Mutex<HashMap<i64, Instant>>,
    work: WorkPool,
    started: Instant,
    loads: AtomicU64,
    evictions: AtomicU64,
    answered_from_sql: AtomicU64,
}

impl std::fmt::Debug for ReadModels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadModels")
            .field("budget_bytes", &self.budget_bytes)
            .finish_non_exhaustive()
    }
}

impl Default for ReadModels {
    fn default() -> Self {
        ReadModels::with_budget_mb(DEFAULT_BUDGET_MB)
    }
}

struct OrgModel {
    /// One load at a time; readers keep answering from the facts meanwhile.
    refresh: tokio::sync::Mutex<()>,
    /// Read for the few milliseconds a question takes; written only to apply a change
    /// that has been read from the database already.
    facts: RwLock<Facts>,
    /// Milliseconds since the holder started, at the last question.
    last_used_ms: AtomicU64,
    /// Wall-clock milliseconds when the last question was recorded in the database.
    remembered_at_ms: AtomicI64,
    /// The bytes held, as of the last load or question.
    bytes: AtomicUsize,
}

impl OrgModel {
    fn new() -> OrgModel {
        OrgModel {
            refresh: tokio::sync::Mutex::new(()),
            facts: RwLock::new(Facts::default()),
            last_used_ms: AtomicU64::new(0),
            remembered_at_ms: AtomicI64::new(i64::MIN),
            bytes: AtomicUsize::new(0),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Facts> {
        self.facts.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Facts> {
        self.facts.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn is_at_least(&self, version: i64) -> bool {
        self.read().version.is_some_and(|held| held >= version)
    }

    fn recount(&self) {
        let bytes = self.read().bytes();
        self.bytes.store(bytes, Ordering::Relaxed);
    }
}

/// Where a question is answered.
enum Held {
    Columns(Arc<OrgModel>),
    /// The organisation is larger than the whole budget.
    Sql,
}

impl ReadModels {
    pub fn new(budget_bytes: usize) -> ReadModels {
        ReadModels {
            orgs: Mutex::new(HashMap::new()),
            budget_bytes,
            oversized: Mutex::new(HashMap::new()),
            work: WorkPool::per_core(),
            started: Instant::now(),
            loads: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
            answered_from_sql: AtomicU64::new(0),
        }
    }

    pub fn with_budget_mb(megabytes: usize) -> ReadModels {
        ReadModels::new(megabytes.saturating_mul(1024 * 1024))
    }

    pub fn budget_bytes(&self) -> usize {
        self.budget_bytes
    }

    /// Bytes held by every organisation together, as last counted.
    pub fn held_bytes(&self) -> usize {
        self.lock_orgs()
            .values()
            .map(|model| model.bytes.load(Ordering::Relaxed))
            .sum()
    }

    /// Bytes held for one organisation (0 when it is not loaded).
    pub fn held_bytes_of(&self, org_id: i64) -> usize {
        self.lock_orgs().get(&org_id).map_or(0, |model| {
            model.recount();
            model.bytes.load(Ordering::Relaxed)
        })
    }

    /// The organisations held now.
    pub fn loaded(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self.lock_orgs().keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    pub fn activity(&self) -> Activity {
        Activity {
            loads: self.loads.load(Ordering::Relaxed),
            evictions: self.evictions.load(Ordering::Relaxed),
            answered_from_sql: self.answered_from_sql.load(Ordering::Relaxed),
        }
    }

    fn lock_orgs(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Arc<OrgModel>>> {
        self.orgs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// One page of customers; `None` when the organisation is answered from SQL instead.
    #[tracing::instrument(skip_all, fields(org_id = org_id))]
    pub async fn page(
        &self,
        db: &Db,
        org_id: i64,
        question: PageQuestion,
    ) -> StoreResult<Option<Page<CustomerSummary>>> {
        let deadline = Deadline::after(db.query_budget());
        let Held::Columns(model) = self.held(db, org_id, &deadline).await? else {
            return Ok(None);
        };
        let job_model = model.clone();
        let page = self
            .work
            .run(deadline, move || {
                job_model.read().page(&question, &deadline)
            })
            .await?;
        self.after_question(&model, org_id);
        Ok(Some(page))
    }

    /// Every customer of the view in order, at one version: what an export streams. `None`
    /// when the organisation is answered from SQL instead.
    #[tracing::instrument(skip_all, fields(org_id = org_id))]
    pub async fn listing(
        &self,
        db: &Db,
        org_id: i64,
        question: PageQuestion,
    ) -> StoreResult<Option<Vec<CustomerSummary>>> {
        let deadline = Deadline::after(db.query_budget());
        let Held::Columns(model) = self.held(db, org_id, &deadline).await? else {
            return Ok(None);
        };
        let job_model = model.clone();
        let rows = self
            .work
            .run(deadline, move || {
                job_model.read().listing(&question, &deadline)
            })
            .await?;
        self.after_question(&model, org_id);
        Ok(Some(rows))
    }

    /// The ids of the representatives with at least one conversation, ascending; `None` when
    /// the organisation is answered from SQL instead.
    #[tracing::instrument(skip_all, fields(org_id = org_id))]
    pub async fn representatives_with_conversations(
        &self,
        db: &Db,
        org_id: i64,
    ) -> StoreResult<Option<Arc<[i64]>>> {
        let deadline = Deadline::after(db.query_budget());
        let Held::Columns(model) = self.held(db, org_id, &deadline).await? else {
            return Ok(None);
        };
        let job_model = model.clone();
        let ids = self
            .work
            .run(deadline, move || Ok(job_model.read().representatives()))
            .await?;
        self.after_question(&model, org_id);
        Ok(Some(ids))
    }

    /// Counts the caches a question built, evicting others if they pass the budget.
    fn after_question(&self, model: &Arc<OrgModel>, org_id: i64) {
        model.recount();
        self.enforce_budget(org_id, 0);
    }

    /// Notes a question: the organisation is the most recently used, and now and then the
    /// database is told, for warming after a restart.
    fn touch(&self, db: &Db, model: &OrgModel, org_id: i64) {
        model.last_used_ms.store(self.now_ms(), Ordering::Relaxed);
        let now = chrono::Utc::now().timestamp_millis();
        let remembered = model.remembered_at_ms.load(Ordering::Relaxed);
        if now.saturating_sub(remembered) >= REMEMBER_EVERY_MS
            && model
                .remembered_at_ms
                .compare_exchange(remembered, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let db = db.clone();
            tokio::spawn(async move {
                if let Err(error) = load::remember_questioned(&db, org_id, now).await {
                    tracing::debug!(org_id, %error, "could not record a questioned organisation");
                }
            });
        }
    }

    fn is_oversized(&self, org_id: i64) -> bool {
        let oversized = self
            .oversized
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        oversized
            .get(&org_id)
            .is_some_and(|since| since.elapsed() < OVERSIZED_FOR)
    }

    fn mark_oversized(&self, org_id: i64, bytes: usize) {
        tracing::warn!(
            org_id,
            bytes,
            budget_bytes = self.budget_bytes,
            "an organisation is larger than the read model's budget: answered from SQL"
        );
        let mut oversized = self
            .oversized
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        oversized.retain(|_, since| since.elapsed() < OVERSIZED_FOR);
        if oversized.len() >= MOST_OVERSIZED {
            oversized.clear();
        }
        oversized.insert(org_id, Instant::now());
    }

    /// The organisation's model at the latest committed version, loading or catching up as
    /// needed within `deadline`; [`Held::Sql`] for one larger than the budget. While a load
    /// the server started outlasts the deadline, the answer is [`StoreError::Loading`]
    /// (a 503 to try again), never an older version.
    async fn held(&self, db: &Db, org_id: i64, deadline: &Deadline) -> StoreResult<Held> {
        let stored = crate::versions::stored_version(db, org_id).await?;
        let existing = self.lock_orgs().get(&org_id).cloned();
        let model = match existing {
            Some(model) => model,
            None => {
                if self.is_oversized(org_id) {
                    self.answered_from_sql.fetch_add(1, Ordering::Relaxed);
                    return Ok(Held::Sql);
                }
                let estimate = load::size(db, org_id).await?.estimated_bytes();
                if estimate > self.budget_bytes {
                    self.mark_oversized(org_id, estimate);
                    self.answered_from_sql.fetch_add(1, Ordering::Relaxed);
                    return Ok(Held::Sql);
                }
                self.enforce_budget(org_id, estimate);
                self.lock_orgs()
                    .entry(org_id)
                    .or_insert_with(|| Arc::new(OrgModel::new()))
                    .clone()
            }
        };
        self.touch(db, &model, org_id);
        if model.is_at_least(stored) {
            return Ok(Held::Columns(model));
        }
        // The load runs as a task of its own: a first load may take longer than one
        // question's budget, and must not be thrown away when that question gives up; the
        // next question then finds it done.
        let loading = {
            let (model, db) = (model.clone(), db.clone());
            tokio::spawn(async move { catch_up(&db, org_id, &model, stored).await })
        };
        match tokio::time::timeout(deadline.remaining(), loading).await {
            Ok(Ok(Ok(loaded))) => {
                if loaded {
                    self.loads.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok(Ok(Err(error))) => return Err(error),
            Ok(Err(failed)) => return Err(StoreError::internal("loading the read model", failed)),
            // The server's own work is not done: try again shortly, never an older answer.
            Err(_) => return Err(StoreError::Loading),
        }
        model.recount();
        let bytes = model.bytes.load(Ordering::Relaxed);
        if bytes > self.budget_bytes {
            self.lock_orgs().remove(&org_id);
            self.mark_oversized(org_id, bytes);
            self.answered_from_sql.fetch_add(1, Ordering::Relaxed);
            return Ok(Held::Sql);
        }
        // Room for the caches the questions at this version will build.
        let allowance = model.read().cache_allowance();
        self.enforce_budget(org_id, allowance);
        Ok(Held::Columns(model))
    }

    /// Evicts the organisations questioned least recently until what is held, plus `room`
    /// bytes about to be loaded, fits the budget. `keep` (the organisation being questioned)
    /// and organisations in the middle of a load stay.
    fn enforce_budget(&self, keep: i64, room: usize) {
        let mut orgs = self.lock_orgs();
        let mut held: usize = orgs
            .values()
            .map(|model| model.bytes.load(Ordering::Relaxed))
            .sum();
        if held.saturating_add(room) <= self.budget_bytes {
            return;
        }
        let mut candidates: Vec<(u64, i64)> = orgs
            .iter()
            .filter(|(id, model)| **id != keep && model.refresh.try_lock().is_ok())
            .map(|(id, model)| (model.last_used_ms.load(Ordering::Relaxed), *id))
            .collect();
        candidates.sort_unstable();
        for (_, id) in candidates {
            if held.saturating_add(room) <= self.budget_bytes {
                break;
            }
            if let Some(model) = orgs.remove(&id) {
                held = held.saturating_sub(model.bytes.load(Ordering::Relaxed));
                self.evictions.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(org_id = id, "read model evicted");
            }
        }
    }

    /// Loads, within the budget and one after another, the organisations questioned most
    /// recently (as the database remembers across restarts); never evicts to do so. Run in
    /// the background at start: the server answers meanwhile.
    #[tracing::instrument(skip_all)]
    pub async fn warm(&self, db: &Db) -> StoreResult<usize> {
        let recent = load::recently_questioned(db, 1_000).await?;
        let unbounded = db.clone().with_query_budget(Duration::from_secs(3_600));
        let mut warmed = 0;
        for org_id in recent {
            let estimate = load::size(db, org_id).await?.estimated_bytes();
            if self.held_bytes().saturating_add(estimate) > self.budget_bytes {
                continue;
            }
            let started = Instant::now();
            let deadline = Deadline::after(unbounded.query_budget());
            match self.held(&unbounded, org_id, &deadline).await {
                Ok(Held::Columns(_)) => {
                    warmed += 1;
                    tracing::info!(
                        org_id,
                        seconds = started.elapsed().as_secs_f64(),
                        "read model warmed"
                    );
                }
                Ok(Held::Sql) => {}
                Err(error) => tracing::warn!(org_id, %error, "warming a read model failed"),
            }
        }
        Ok(warmed)
    }
}

/// Brings `model` up to at least `stored`, one load at a time. Answers whether it read
/// anything (a later task may find the work done by an earlier one).
async fn catch_up(db: &Db, org_id: i64, model: &OrgModel, stored: i64) -> StoreResult<bool> {
    let _refreshing = model.refresh.lock().await;
    if model.is_at_least(stored) {
        return Ok(false);
    }
    let (held, conversations) = {
        let facts = model.read();
        (facts.version, facts.conversations())
    };
    let started = Instant::now();
    let change = load::load(db, org_id, held, conversations).await?;
    match change {
        Change::Replace(facts) => {
            *model.write() = *facts;
            tracing::debug!(
                org_id,
                seconds = started.elapsed().as_secs_f64(),
                "read model loaded"
            );
        }
        Change::Apply(delta) => {
            let mut facts = model.write();
            if let Err(error) = facts.apply(delta) {
                // Half applied: nothing held is trusted, the next question loads afresh.
                *facts = Facts::default();
                return Err(error);
            }
        }
    }
    model.recount();
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eviction_takes_the_least_recently_questioned_first_and_spares_the_asker() {
        let models = ReadModels::new(1000);
        for (id, bytes, used) in [(1, 400, 30), (2, 400, 10), (3, 400, 20)] {
            let model = OrgModel::new();
            model.bytes.store(bytes, Ordering::Relaxed);
            model.last_used_ms.store(used, Ordering::Relaxed);
            models.lock_orgs().insert(id, Arc::new(model));
        }
        // 1,200 held in a budget of 1,000: the least recently used (2) goes.
        models.enforce_budget(1, 0);
        assert_eq!(models.loaded(), [1, 3]);
        // Room for 700 more: 3 goes too, but never 1, the organisation asking.
        models.enforce_budget(1, 700);
        assert_eq!(models.loaded(), [1]);
        models.enforce_budget(1, 10_000);
        assert_eq!(models.loaded(), [1]);
        assert_eq!(models.activity().evictions, 2);
    }
}
