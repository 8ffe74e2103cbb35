//! The Customers read model: each organisation's conversations held in memory as compact
//! columns (customer, time, score, channel, representative, one integer code per custom
//! field), from which any Customers question is answered by one pass over the columns.
//!
//! Why it stays exact: every transaction that writes conversations first increments its
//! organisation's row in `read_model_versions` ([`claim_write_version`]) and stamps each
//! customer and conversation row it writes with that version (`revision`). The increment
//! locks the row until commit, so an organisation's writers run one after another and
//! versions commit in order. A reader compares the version it holds with the stored one
//! (one indexed read per question) and, when behind, reads the rows whose revision is newer
//! inside one snapshot, together with the version that snapshot holds. Whatever another
//! writer or another server did is therefore seen, whole, at the next question; nothing is
//! counted incrementally, so nothing can drift.
//!
//! A write that takes rows away rather than changing them (a custom field deleted with its
//! values) cannot be read as changed rows: it also records its version as the organisation's
//! `reload_version` ([`reload_from_here`]), and a reader holding an older version loads the
//! organisation's columns afresh instead of applying a delta.

use super::query::{SortDir, SortKey};
use super::slot_index::SlotIndex;
use super::store::{CustomerSummary, Matcher, ResolvedFilter};
use crate::conversations::model::ConversationKind;
use crate::db::{Db, Sql, StoreError, StoreResult, Tx};
use crate::page::{Page, Paging};
use crate::sql;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};

/// Claims the next write version of the organisation: the first statement of every
/// transaction that writes customers or conversations. It holds the organisation's version
/// row locked until the transaction ends.
pub async fn claim_write_version(tx: &mut Tx, org_id: i64) -> StoreResult<i64> {
    let sql = sql!(
        "INSERT INTO read_model_versions (org_id, version) VALUES ($1, 1) \
         ON CONFLICT (org_id) DO UPDATE SET version = read_model_versions.version + 1 \
         RETURNING version",
        org_id,
    );
    tx.scalar(&sql, "claiming a write version").await
}

/// Marks `version`, claimed by this transaction, as a write that held read models cannot
/// apply as changed rows: whoever holds an older version reloads the organisation from scratch.
pub async fn reload_from_here(tx: &mut Tx, org_id: i64, version: i64) -> StoreResult<()> {
    let sql = sql!(
        "UPDATE read_model_versions SET reload_version = $1 WHERE org_id = $2",
        version,
        org_id
    );
    tx.execute(&sql, "marking a version to reload from").await?;
    Ok(())
}

fn version_sql(org_id: i64) -> Sql {
    sql!(
        "SELECT version FROM read_model_versions WHERE org_id = $1",
        org_id
    )
}

/// More changed conversations than this are read by rebuilding the organisation's columns
/// from scratch (streamed, without holding them in a list first).
const REBUILD_THRESHOLD: i64 = 20_000;

/// The conditions a conversation must meet to count, resolved against the organisation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Conditions {
    pub fields: Vec<ResolvedFilter>,
    /// UTC milliseconds: from (inclusive) and until (exclusive).
    pub from_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// The channels that count; empty means all.
    pub kinds: Vec<ConversationKind>,
    pub representative_id: Option<i64>,
}

impl Conditions {
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
            && self.from_ms.is_none()
            && self.until_ms.is_none()
            && self.kinds.is_empty()
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

/// Every organisation's read model in this process, created on first use.
#[derive(Default)]
pub struct ReadModel {
    orgs: Mutex<HashMap<i64, Arc<OrgModel>>>,
}

impl std::fmt::Debug for ReadModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadModel").finish_non_exhaustive()
    }
}

#[derive(Default)]
struct OrgModel {
    /// One refresh at a time; readers keep answering from the facts meanwhile.
    refresh: tokio::sync::Mutex<()>,
    /// Read for the few milliseconds a question takes; written only to apply a change
    /// that has been read from the database already.
    facts: RwLock<Facts>,
}

impl ReadModel {
    /// Drops the organisation's columns (it was deleted).
    pub fn forget(&self, org_id: i64) {
        let mut orgs = self.orgs.lock().unwrap_or_else(PoisonError::into_inner);
        orgs.remove(&org_id);
    }

    fn org(&self, org_id: i64) -> Arc<OrgModel> {
        let mut orgs = self.orgs.lock().unwrap_or_else(PoisonError::into_inner);
        orgs.entry(org_id).or_default().clone()
    }

    /// Brings the organisation's facts up to the latest committed write.
    async fn catch_up(&self, db: &Db, org_id: i64) -> StoreResult<Arc<OrgModel>> {
        let model = self.org(org_id);
        let stored: i64 = db
            .fetch_optional::<VersionRow>(&version_sql(org_id), "reading the data version")
            .await?
            .map_or(0, |row| row.version);
        if model.is_at_least(stored) {
            return Ok(model);
        }
        // The load runs as a task of its own: a first load of millions of rows may take
        // longer than one question's budget, and must not be thrown away when that question
        // gives up; the next question then finds it done.
        let loading = {
            let (model, db) = (model.clone(), db.clone());
            tokio::spawn(async move {
                let _refreshing = model.refresh.lock().await;
                if model.is_at_least(stored) {
                    return Ok(());
                }
                let held = model.read().version;
                match load(&db, org_id, held).await? {
                    Change::Replace(facts) => *model.write() = *facts,
                    Change::Apply(delta) => model.write().apply(delta),
                }
                Ok::<(), StoreError>(())
            })
        };
        let budget = db.query_budget();
        match tokio::time::timeout(budget, loading).await {
            Ok(Ok(loaded)) => loaded?,
            Ok(Err(failed)) => return Err(StoreError::internal("loading the read model", failed)),
            // Never loaded yet: the server is starting, not the question too broad.
            Err(_) if model.read().version.is_none() => return Err(StoreError::Loading),
            Err(_) => {
                return Err(StoreError::OverBudget {
                    budget_ms: budget.as_millis(),
                })
            }
        }
        Ok(model)
    }

    /// Loads every organisation's read model, one after another, so that the first questions
    /// after a start do not wait for a load (run in the background at start).
    pub async fn warm_up(&self, db: &Db) -> StoreResult<()> {
        let orgs: Vec<crate::db::IdRow> = db
            .fetch_all(
                &sql!("SELECT id FROM organisations ORDER BY id"),
                "listing organisations",
            )
            .await?;
        let unbounded = db
            .clone()
            .with_query_budget(std::time::Duration::from_secs(3_600));
        for org in orgs {
            let started = std::time::Instant::now();
            self.catch_up(&unbounded, org.id).await?;
            tracing::info!(
                org_id = org.id,
                seconds = started.elapsed().as_secs_f64(),
                "read model loaded"
            );
        }
        Ok(())
    }

    /// The ids of the representatives with at least one conversation, ascending: worked out
    /// once per data version from the held columns, where a query would probe the
    /// conversations for every person of the organisation on each page load.
    pub async fn representatives_with_conversations(
        &self,
        db: &Db,
        org_id: i64,
    ) -> StoreResult<Arc<[i64]>> {
        let model = self.catch_up(db, org_id).await?;
        let facts = model.read();
        Ok(facts
            .representatives
            .get_or_init(|| {
                // One pass into a set of the few distinct people, rather than copying and
                // sorting millions of ids after every write.
                let distinct: std::collections::HashSet<i64> =
                    facts.representative.iter().copied().collect();
                let mut ids: Vec<i64> = distinct.into_iter().collect();
                ids.sort_unstable();
                ids.into()
            })
            .clone())
    }

    /// One page of customers under `conditions`, sorted and searched as asked.
    pub async fn page(
        &self,
        db: &Db,
        org_id: i64,
        question: &PageQuestion<'_>,
    ) -> StoreResult<Page<CustomerSummary>> {
        let model = self.catch_up(db, org_id).await?;
        let facts = model.read();
        Ok(facts.page(question))
    }
}

impl OrgModel {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Facts> {
        self.facts.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Facts> {
        self.facts.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn is_at_least(&self, version: i64) -> bool {
        self.read().version.is_some_and(|held| held >= version)
    }
}

/// What a page of customers asks.
pub struct PageQuestion<'a> {
    pub search: &'a str,
    pub sort: SortKey,
    pub dir: SortDir,
    pub page: u32,
    pub page_size: u32,
    pub conditions: &'a Conditions,
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    version: i64,
}

#[derive(sqlx::FromRow)]
struct LoadVersionRow {
    version: i64,
    reload_version: i64,
}

#[derive(sqlx::FromRow)]
struct CountRow {
    changed: i64,
}

#[derive(sqlx::FromRow)]
struct CustomerFact {
    id: i64,
    identifier: String,
    display_name: Option<String>,
    search_text: String,
}

#[derive(sqlx::FromRow)]
struct ConversationFact {
    id: i64,
    customer_id: i64,
    representative_id: i64,
    kind: String,
    occurred_at_ms: i64,
    score_hundredths: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct ValueFact {
    conversation_id: i64,
    field_id: i64,
    value: String,
}

/// What a load read: new columns, or the rows to apply to the held ones.
enum Change {
    Replace(Box<Facts>),
    Apply(Delta),
}

struct Delta {
    version: i64,
    customers: Vec<CustomerFact>,
    conversations: Vec<ConversationFact>,
    values: Vec<ValueFact>,
}

/// Reads what changed since the `held` version inside one snapshot, with the version that
/// snapshot holds. Few changes are read as rows to apply; many (or a first load, or a write
/// since the held version that took rows away) are streamed into new columns, so that no list
/// of millions of rows is held.
async fn load(db: &Db, org_id: i64, held: Option<i64>) -> StoreResult<Change> {
    let mut tx = db.begin_snapshot().await?;
    let versions = sql!(
        "SELECT version, reload_version FROM read_model_versions WHERE org_id = $1",
        org_id
    );
    let (version, reload_version) = tx
        .fetch_optional::<LoadVersionRow>(&versions, "reading the data version")
        .await?
        .map_or((0, 0), |row| (row.version, row.reload_version));
    let since = match held {
        // Rows were taken away since the held version: only a fresh load sees that.
        Some(held) if held < reload_version => None,
        None => None,
        Some(held) => {
            let count = sql!(
                "SELECT COUNT(*) AS changed FROM conversations WHERE org_id = $1 AND revision > $2",
                org_id,
                held,
            );
            let changed = tx
                .fetch_optional::<CountRow>(&count, "counting changed conversations")
                .await?
                .map_or(0, |row| row.changed);
            (changed <= REBUILD_THRESHOLD).then_some(held)
        }
    };
    let revision = since.unwrap_or(-1);
    let customers = sql!(
        "SELECT id, identifier, display_name, search_text FROM customers \
         WHERE org_id = $1 AND revision > $2",
        org_id,
        revision,
    );
    let conversations = sql!(
        "SELECT id, customer_id, representative_id, kind, occurred_at_ms, score_hundredths \
         FROM conversations WHERE org_id = $1 AND revision > $2",
        org_id,
        revision,
    );
    let change = match since {
        Some(since) => {
            let values = sql!(
                "SELECT fv.conversation_id, fv.field_id, fv.value FROM conversations v \
                 JOIN conversation_field_values fv \
                 ON fv.conversation_id = v.id AND fv.org_id = v.org_id \
                 WHERE v.org_id = $1 AND v.revision > $2",
                org_id,
                since,
            );
            Change::Apply(Delta {
                version,
                customers: tx
                    .fetch_all(&customers, "reading changed customers")
                    .await?,
                conversations: tx
                    .fetch_all(&conversations, "reading changed conversations")
                    .await?,
                values: tx
                    .fetch_all(&values, "reading changed field values")
                    .await?,
            })
        }
        None => {
            let mut facts = Facts::default();
            tx.for_each_row(&customers, "reading customers", |row: CustomerFact| {
                facts.put_customer(row)
            })
            .await?;
            tx.for_each_row(&conversations, "reading conversations", |row| {
                facts.put_conversation(row)
            })
            .await?;
            let values = sql!(
                "SELECT conversation_id, field_id, value FROM conversation_field_values \
                 WHERE org_id = $1",
                org_id,
            );
            tx.for_each_row(&values, "reading field values", |row| facts.put_value(row))
                .await?;
            facts.finish(version);
            Change::Replace(Box::new(facts))
        }
    };
    tx.rollback().await?;
    Ok(change)
}

/// Per-customer figures over the conversations that count.
#[derive(Clone, Copy, Debug, Default)]
struct Figures {
    interactions: u32,
    first_ms: i64,
    latest_ms: i64,
    score_sum: i64,
}

impl Figures {
    #[inline]
    fn add(&mut self, at: i64, score: i64) {
        if self.interactions == 0 {
            self.first_ms = at;
            self.latest_ms = at;
        } else {
            self.first_ms = self.first_ms.min(at);
            self.latest_ms = self.latest_ms.max(at);
        }
        self.interactions += 1;
        self.score_sum += score;
    }

    /// The average as the database computes it (an IEEE division), so ties agree.
    fn average(&self) -> f64 {
        self.score_sum as f64 / f64::from(self.interactions)
    }
}

/// One custom field's values, one code per conversation (0: no value).
#[derive(Clone, Default)]
struct FieldColumn {
    codes: Vec<u32>,
    /// Value and folded value of code `n` at `n - 1`.
    values: Vec<String>,
    folded: Vec<String>,
    code_of: HashMap<String, u32>,
}

impl FieldColumn {
    fn code(&mut self, value: String) -> u32 {
        if let Some(code) = self.code_of.get(&value) {
            return *code;
        }
        let code = self.values.len() as u32 + 1;
        self.folded.push(crate::text::fold(&value));
        self.values.push(value.clone());
        self.code_of.insert(value, code);
        code
    }
}

const NO_SCORE: i16 = -1;

/// An organisation's columns at one version, and what is derived from them.
#[derive(Default)]
struct Facts {
    /// `None` until loaded.
    version: Option<i64>,
    customer_slot: HashMap<i64, u32>,
    customer_id: Vec<i64>,
    identifier: Vec<String>,
    display_name: Vec<Option<String>>,
    search_text: Vec<String>,

    conversation_slot: SlotIndex,
    customer: Vec<u32>,
    occurred_at_ms: Vec<i64>,
    score: Vec<i16>,
    kind: Vec<u8>,
    representative: Vec<i64>,
    fields: HashMap<i64, FieldColumn>,
    /// Conversations changed in this load, whose field codes are cleared before the load's
    /// values are applied (a rewrite replaces every value).
    touched: Vec<u32>,

    /// The figures with no condition, computed on first use at this version.
    overall: OnceLock<Overall>,
    /// Every customer's search text in one buffer, built on first search at this version.
    search_index: OnceLock<SearchIndex>,
    /// The representatives with conversations, built on first use at this version.
    representatives: OnceLock<Arc<[i64]>>,
}

/// Separates customers in [`SearchIndex`]; a search containing it is tested customer by
/// customer instead.
const SEARCH_SEPARATOR: char = '\0';

/// The customers' folded search texts joined into one buffer, so that a search is one SIMD
/// substring scan (`memchr::memmem`) instead of 100,000 separate ones.
struct SearchIndex {
    text: Vec<u8>,
    /// Where each customer's text starts in `text`, ascending.
    starts: Vec<usize>,
}

impl SearchIndex {
    fn new(texts: &[String]) -> SearchIndex {
        let mut text = Vec::with_capacity(texts.iter().map(|t| t.len() + 1).sum());
        let mut starts = Vec::with_capacity(texts.len());
        for customer_text in texts {
            starts.push(text.len());
            text.extend_from_slice(customer_text.as_bytes());
            text.push(SEARCH_SEPARATOR as u8);
        }
        SearchIndex { text, starts }
    }

    /// For each of `customers`, whether its text contains `needle` (which holds no separator,
    /// so a match never spans two customers).
    fn matches(&self, needle: &[u8], customers: usize) -> Vec<bool> {
        let mut found = vec![false; customers];
        let finder = memchr::memmem::Finder::new(needle);
        let mut from = 0;
        while let Some(at) = finder.find(&self.text[from..]) {
            let position = from + at;
            let customer = self.starts.partition_point(|start| *start <= position) - 1;
            found[customer] = true;
            // One match is enough: go on from the next customer's text.
            match self.starts.get(customer + 1) {
                Some(next) => from = *next,
                None => break,
            }
        }
        found
    }
}

/// The unconditioned figures and, built on first use, each sort order of the listed customers.
struct Overall {
    figures: Vec<Figures>,
    orders: [OnceLock<Vec<u32>>; 8],
}

fn kind_code(kind: &str) -> u8 {
    match ConversationKind::parse(kind) {
        Some(ConversationKind::Voice) => 0,
        Some(ConversationKind::Chat) => 1,
        Some(ConversationKind::Email) => 2,
        None => 3,
    }
}

fn kind_bit(kind: ConversationKind) -> u8 {
    1 << kind_code(kind.as_str())
}

impl Facts {
    fn apply(&mut self, delta: Delta) {
        for row in delta.customers {
            self.put_customer(row);
        }
        for row in delta.conversations {
            self.put_conversation(row);
        }
        for row in delta.values {
            self.put_value(row);
        }
        self.finish(delta.version);
    }

    fn put_customer(&mut self, row: CustomerFact) {
        match self.customer_slot.get(&row.id) {
            Some(&slot) => {
                let slot = slot as usize;
                self.identifier[slot] = row.identifier;
                self.display_name[slot] = row.display_name;
                self.search_text[slot] = row.search_text;
            }
            None => {
                self.customer_slot
                    .insert(row.id, self.customer_id.len() as u32);
                self.customer_id.push(row.id);
                self.identifier.push(row.identifier);
                self.display_name.push(row.display_name);
                self.search_text.push(row.search_text);
            }
        }
    }

    fn put_conversation(&mut self, row: ConversationFact) {
        let Some(&customer) = self.customer_slot.get(&row.customer_id) else {
            // Cannot happen inside one snapshot (a conversation's customer is written in the
            // same or an earlier transaction); counted nowhere rather than wrongly.
            tracing::error!(
                conversation = row.id,
                customer = row.customer_id,
                "read model: conversation of an unknown customer"
            );
            return;
        };
        let score = row
            .score_hundredths
            .and_then(|score| i16::try_from(score).ok())
            .unwrap_or(NO_SCORE);
        let kind = kind_code(&row.kind);
        match self.conversation_slot.get(row.id) {
            Some(slot) => {
                let at = slot as usize;
                self.customer[at] = customer;
                self.occurred_at_ms[at] = row.occurred_at_ms;
                self.score[at] = score;
                self.kind[at] = kind;
                self.representative[at] = row.representative_id;
                self.touched.push(slot);
            }
            None => {
                self.conversation_slot
                    .insert(row.id, self.customer.len() as u32);
                self.customer.push(customer);
                self.occurred_at_ms.push(row.occurred_at_ms);
                self.score.push(score);
                self.kind.push(kind);
                self.representative.push(row.representative_id);
            }
        }
    }

    fn put_value(&mut self, row: ValueFact) {
        if !self.touched.is_empty() {
            self.clear_touched();
        }
        let Some(slot) = self.conversation_slot.get(row.conversation_id) else {
            return;
        };
        let len = self.customer.len();
        let column = self.fields.entry(row.field_id).or_default();
        if column.codes.len() < len {
            column.codes.resize(len, 0);
        }
        let code = column.code(row.value);
        column.codes[slot as usize] = code;
    }

    /// Rewritten conversations lose their old values before the new ones are applied.
    fn clear_touched(&mut self) {
        for column in self.fields.values_mut() {
            for &slot in &self.touched {
                if let Some(code) = column.codes.get_mut(slot as usize) {
                    *code = 0;
                }
            }
        }
        self.touched.clear();
    }

    fn finish(&mut self, version: i64) {
        self.clear_touched();
        self.conversation_slot.settle();
        self.overall = OnceLock::new();
        self.search_index = OnceLock::new();
        self.representatives = OnceLock::new();
        let len = self.customer.len();
        for column in self.fields.values_mut() {
            column.codes.resize(len, 0);
        }
        self.version = Some(version);
    }

    fn overall(&self) -> &Overall {
        self.overall.get_or_init(|| Overall {
            figures: self.figures(&Filter::default()),
            orders: Default::default(),
        })
    }

    /// Figures per customer over the conversations that pass `filter`.
    ///
    /// The conversations that pass are found as a bit set, narrowed by one tight loop per
    /// active predicate (which the compiler vectorises, and which skips words already empty);
    /// only then are the figures of the conversations left added up.
    fn figures(&self, filter: &Filter) -> Vec<Figures> {
        let mut figures = vec![Figures::default(); self.customer_id.len()];
        let mut passing = Selection::new(&self.score, |score| score >= 0);
        if filter.from_ms != i64::MIN || filter.until_ms != i64::MAX {
            let (from, until) = (filter.from_ms, filter.until_ms);
            passing.keep(&self.occurred_at_ms, |at| at >= from && at < until);
        }
        if filter.kinds != u8::MAX {
            let kinds = filter.kinds;
            passing.keep(&self.kind, |kind| kinds & (1 << kind) != 0);
        }
        if let Some(representative) = filter.representative {
            passing.keep(&self.representative, |rep| rep == representative);
        }
        for (codes, accepts) in &filter.fields {
            match accepts {
                Accepts::Code(wanted) => passing.keep(codes, |code| code == *wanted),
                Accepts::Codes(set) => passing.keep(codes, |code| set[code as usize]),
            }
        }
        if let Some(allowed) = &filter.customers {
            passing.keep(&self.customer, |customer| allowed[customer as usize]);
        }
        for slot in passing.slots() {
            let customer = self.customer[slot] as usize;
            figures[customer].add(self.occurred_at_ms[slot], i64::from(self.score[slot]));
        }
        figures
    }

    /// Which customers a search lets through (`None`: no search).
    fn searched(&self, search: &str) -> Option<Vec<bool>> {
        let needle = crate::text::fold(search.trim());
        if needle.is_empty() {
            return None;
        }
        if needle.contains(SEARCH_SEPARATOR) {
            // Could span two customers in the joined text: test each on its own.
            return Some(
                self.search_text
                    .iter()
                    .map(|text| text.contains(needle.as_str()))
                    .collect(),
            );
        }
        let index = self
            .search_index
            .get_or_init(|| SearchIndex::new(&self.search_text));
        Some(index.matches(needle.as_bytes(), self.search_text.len()))
    }

    /// The predicate of `conditions` over these columns; `None` when nothing can match
    /// (a select value no conversation has).
    fn filter<'a>(&'a self, conditions: &Conditions) -> Option<Filter<'a>> {
        let mut filter = Filter {
            from_ms: conditions.from_ms.unwrap_or(i64::MIN),
            until_ms: conditions.until_ms.unwrap_or(i64::MAX),
            representative: conditions.representative_id,
            ..Filter::default()
        };
        if !conditions.kinds.is_empty() {
            filter.kinds = conditions
                .kinds
                .iter()
                .fold(0, |bits, kind| bits | kind_bit(*kind));
        }
        for resolved in &conditions.fields {
            let column = self.fields.get(&resolved.field_id)?;
            let accepts = match &resolved.matcher {
                Matcher::Equals(value) => Accepts::Code(*column.code_of.get(value)?),
                Matcher::Contains(folded) => {
                    let mut set = vec![false; column.values.len() + 1];
                    for (index, value) in column.folded.iter().enumerate() {
                        set[index + 1] = value.contains(folded.as_str());
                    }
                    Accepts::Codes(set)
                }
            };
            filter.fields.push((column.codes.as_slice(), accepts));
        }
        Some(filter)
    }

    fn compare(
        &self,
        figures: &[Figures],
        sort: SortKey,
        dir: SortDir,
        a: u32,
        b: u32,
    ) -> Ordering {
        let (fa, fb) = (&figures[a as usize], &figures[b as usize]);
        let by_key = match sort {
            SortKey::Interactions => fa.interactions.cmp(&fb.interactions),
            SortKey::First => fa.first_ms.cmp(&fb.first_ms),
            SortKey::Latest => fa.latest_ms.cmp(&fb.latest_ms),
            SortKey::Score => fa.average().total_cmp(&fb.average()),
        };
        let by_key = match dir {
            SortDir::Desc => by_key.reverse(),
            SortDir::Asc => by_key,
        };
        // Identifiers are unique in an organisation and compared byte-wise: a total order.
        by_key.then_with(|| self.identifier[a as usize].cmp(&self.identifier[b as usize]))
    }

    fn order_index(sort: SortKey, dir: SortDir) -> usize {
        let key = SortKey::ALL
            .iter()
            .position(|candidate| *candidate == sort)
            .unwrap_or(0);
        key * 2 + usize::from(dir == SortDir::Asc)
    }

    fn page(&self, question: &PageQuestion<'_>) -> Page<CustomerSummary> {
        let page_size = question.page_size.max(1) as usize;
        let searched = self.searched(question.search);
        if question.conditions.is_empty() {
            // Every customer's unconditioned figures, and each sort order, are kept for the
            // version: a page is a walk along the order.
            let overall = self.overall();
            let order = overall.orders[Facts::order_index(question.sort, question.dir)]
                .get_or_init(|| {
                    let mut listed: Vec<u32> = (0..overall.figures.len() as u32)
                        .filter(|customer| overall.figures[*customer as usize].interactions > 0)
                        .collect();
                    listed.sort_unstable_by(|a, b| {
                        self.compare(&overall.figures, question.sort, question.dir, *a, *b)
                    });
                    listed
                });
            let (paging, rows): (Paging, Vec<u32>) = match &searched {
                None => {
                    let paging = place(question, order.len());
                    let start = first_row(paging, page_size);
                    (
                        paging,
                        order.iter().skip(start).take(page_size).copied().collect(),
                    )
                }
                Some(allowed) => {
                    let total = order.iter().filter(|c| allowed[**c as usize]).count();
                    let paging = place(question, total);
                    let start = first_row(paging, page_size);
                    let rows = order
                        .iter()
                        .filter(|c| allowed[**c as usize])
                        .skip(start)
                        .take(page_size)
                        .copied()
                        .collect();
                    (paging, rows)
                }
            };
            return self.answer(&overall.figures, rows, paging);
        }
        let Some(mut filter) = self.filter(question.conditions) else {
            return self.answer(&[], Vec::new(), place(question, 0));
        };
        filter.customers = searched;
        let figures = self.figures(&filter);
        let mut listed: Vec<u32> = (0..figures.len() as u32)
            .filter(|customer| figures[*customer as usize].interactions > 0)
            .collect();
        let total = listed.len();
        let paging = place(question, total);
        let start = first_row(paging, page_size);
        let end = (start + page_size).min(total);
        let rows = if start >= end {
            Vec::new()
        } else if end < total {
            // Only the first `end` in order are needed: select them, then sort those.
            let compare =
                |a: &u32, b: &u32| self.compare(&figures, question.sort, question.dir, *a, *b);
            listed.select_nth_unstable_by(end - 1, compare);
            listed.truncate(end);
            listed.sort_unstable_by(compare);
            listed[start..].to_vec()
        } else {
            // The last page: select the rows after `start` from the other end.
            let compare =
                |a: &u32, b: &u32| self.compare(&figures, question.sort, question.dir, *a, *b);
            if start > 0 {
                listed.select_nth_unstable_by(start, compare);
            }
            let mut tail = listed.split_off(start);
            tail.sort_unstable_by(compare);
            tail
        };
        self.answer(&figures, rows, paging)
    }

    /// The page `paging` placed, holding `rows` (customer slots) with their figures.
    fn answer(&self, figures: &[Figures], rows: Vec<u32>, paging: Paging) -> Page<CustomerSummary> {
        paging.with_rows(
            rows.into_iter()
                .map(|customer| {
                    let at = customer as usize;
                    let figures = figures[at];
                    CustomerSummary {
                        id: self.customer_id[at],
                        identifier: self.identifier[at].clone(),
                        display_name: self.display_name[at].clone(),
                        interactions: i64::from(figures.interactions),
                        first_ms: figures.first_ms,
                        latest_ms: figures.latest_ms,
                        score_sum: figures.score_sum,
                    }
                })
                .collect(),
        )
    }
}

/// Where the question's page lands among `total` customers.
fn place(question: &PageQuestion<'_>, total: usize) -> Paging {
    Paging::new(question.page, total as i64, question.page_size)
}

/// The position, in the listed order, of the placed page's first row.
fn first_row(paging: Paging, page_size: usize) -> usize {
    (paging.page as usize - 1) * page_size
}

/// A set of conversation slots, 64 to a word.
struct Selection {
    words: Vec<u64>,
}

impl Selection {
    /// The slots whose `column` value passes `test`.
    fn new<T: Copy>(column: &[T], test: impl Fn(T) -> bool) -> Selection {
        let words = column
            .chunks(64)
            .map(|chunk| {
                chunk.iter().enumerate().fold(0u64, |bits, (bit, value)| {
                    bits | (u64::from(test(*value)) << bit)
                })
            })
            .collect();
        Selection { words }
    }

    /// Drops the slots whose `column` value fails `test`.
    fn keep<T: Copy>(&mut self, column: &[T], test: impl Fn(T) -> bool) {
        for (word, chunk) in self.words.iter_mut().zip(column.chunks(64)) {
            if *word == 0 {
                continue;
            }
            *word &= chunk.iter().enumerate().fold(0u64, |bits, (bit, value)| {
                bits | (u64::from(test(*value)) << bit)
            });
        }
    }

    fn slots(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(index, word)| {
            let mut bits = *word;
            std::iter::from_fn(move || {
                (bits != 0).then(|| {
                    let bit = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    index * 64 + bit
                })
            })
        })
    }
}

enum Accepts {
    /// A select value: this one code.
    Code(u32),
    /// A text filter: the codes whose value contains the text.
    Codes(Vec<bool>),
}

/// [`Conditions`] compiled against one organisation's columns.
struct Filter<'a> {
    from_ms: i64,
    until_ms: i64,
    /// One bit per channel code.
    kinds: u8,
    representative: Option<i64>,
    fields: Vec<(&'a [u32], Accepts)>,
    customers: Option<Vec<bool>>,
}

impl Default for Filter<'_> {
    fn default() -> Self {
        Filter {
            from_ms: i64::MIN,
            until_ms: i64::MAX,
            kinds: 0xff,
            representative: None,
            fields: Vec::new(),
            customers: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selection_keeps_the_slots_that_pass_every_test() {
        let values: Vec<i64> = (0..200).collect();
        let mut even = Selection::new(&values, |v| v % 2 == 0);
        even.keep(&values, |v| v % 3 == 0);
        even.keep(&values, |v| v != 66);
        let expected: Vec<usize> = (0..200).filter(|v| v % 6 == 0 && *v != 66).collect();
        assert_eq!(even.slots().collect::<Vec<_>>(), expected);
        let none = Selection::new(&values, |_| false);
        assert_eq!(none.slots().count(), 0);
        assert_eq!(Selection::new(&[] as &[i64], |_| true).slots().count(), 0);
    }

    #[test]
    fn a_search_finds_each_customer_once_and_never_across_two() {
        let texts: Vec<String> = ["ann\nann archer", "bob", "", "zoë", "annie"]
            .map(str::to_owned)
            .to_vec();
        let index = SearchIndex::new(&texts);
        assert_eq!(
            index.matches(b"ann", texts.len()),
            [true, false, false, false, true]
        );
        assert_eq!(
            index.matches("ë".as_bytes(), texts.len()),
            [false, false, false, true, false]
        );
        // "archer" ends one text and "bob" starts the next: no match spans them.
        assert_eq!(index.matches(b"rbo", texts.len()), [false; 5]);
        assert_eq!(
            index.matches(b"annie", texts.len()),
            [false, false, false, false, true]
        );
    }
}
