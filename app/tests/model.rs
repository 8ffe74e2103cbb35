//! Property test: random small datasets and random Customers queries, run through the store
//! on both backends and compared with a plain in-memory model of the Customers page's rules.
//! The store answers pages from an in-memory read model that it brings up to date from the
//! rows changed since the version it holds, and reads late history pages backwards; the model
//! does neither, so any drift between the two shows up here. The criteria breakdown of the
//! history's customer is checked beside it. Queries run after every batch,
//! so the read model is checked after incremental updates too, not only after a first load.
#![cfg(feature = "ssr")]

mod support;

use app::conversations::model::Channel;
use app::conversations::store::{write_conversations, NewConversation};
use app::criteria::breakdown_store::{criteria_breakdown, Subject};
use app::customers::query::{CustomerQuery, Day, Period, SortDir, SortKey};
use app::customers::read_model::ReadModels;
use app::customers::service::{customers_page, history_page, resolve_question, Strictness};
use app::customers::store::CustomerSummary;
use app::db::Db;
use app::orgs::model::{CustomField, FieldKind};
use app::orgs::store::{create_organisation, define_field};
use proptest::prelude::*;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU32, Ordering as AtomicOrdering};

/// Customers per page and conversations per history page: small, so that pages turn often.
const PAGE_SIZE: u32 = 3;
const HISTORY_PAGE_SIZE: u32 = 2;

/// Identifiers with LIKE wildcards, mixed case and non-ASCII letters, so that search
/// escaping and folding are exercised.
const CUSTOMERS: [&str; 6] = ["ann", "Bob", "cara_x", "dan%", "Zoë", "ann2"];
const NAMES: [Option<&str>; 4] = [None, Some("Ann Archer"), Some("ZOË Zed"), Some("  ")];
const SEARCHES: [&str; 9] = ["", "a", "AN", "b", "%", "_", "ë", "zo", "q"];
const QUEUES: [&str; 2] = ["Billing", "Technical"];
const PRODUCTS: [&str; 4] = ["Alpha", "alphabet", "Beta 50%", "gamma"];
const PRODUCT_FILTERS: [&str; 3] = ["alpha", "%", "TA 5"];
const REPS: [&str; 3] = ["rep@example.com", "sam@example.com", "kim@example.com"];
/// The organisation's playbook criteria.
const CRITERIA: [&str; 2] = ["greeting", "empathy"];
/// Conversations happen at 22:13:20 UTC on day `n` after this one (the organisation is on UTC).
const FIRST_DAY: (i32, u32, u32) = (2023, 11, 14);
const FIRST_MS: i64 = 1_700_000_000_000;

#[derive(Clone, Debug)]
struct Row {
    external: u8,
    customer: usize,
    name: usize,
    day: i64,
    score: Option<i64>,
    queue: Option<usize>,
    product: Option<usize>,
    channel: usize,
    rep: usize,
    /// Per criterion of [`CRITERIA`]: not scored (`None`), not applicable (`Some(None)`), or
    /// a score in hundredths.
    criteria: [Option<Option<i64>>; 2],
}

#[derive(Clone, Debug)]
struct Query {
    search: usize,
    sort: SortKey,
    dir: SortDir,
    page: u32,
    queue: Option<usize>,
    /// A select value that is not an option: the store must drop the filter.
    bogus_queue: bool,
    product: Option<usize>,
    history_customer: usize,
    history_page: u32,
    /// Bits of the channels asked for (voice 1, chat 2, email 4); 0 for all.
    channels: u8,
    /// A representative by index; `REPS.len()` names one the organisation does not have
    /// (the page drops that filter).
    rep: Option<usize>,
    /// Whole days, inclusive, either end open.
    days: (Option<i64>, Option<i64>),
}

fn row() -> impl Strategy<Value = Row> {
    (
        0u8..14,
        0..CUSTOMERS.len(),
        0..NAMES.len(),
        0i64..5,
        prop_oneof![1 => Just(None), 4 => (0i64..=10_000).prop_map(Some)],
        proptest::option::of(0..QUEUES.len()),
        proptest::option::of(0..PRODUCTS.len()),
        0..Channel::ALL.len(),
        0..REPS.len(),
        [criterion_score(), criterion_score()],
    )
        .prop_map(
            |(external, customer, name, day, score, queue, product, channel, rep, criteria)| Row {
                external,
                customer,
                name,
                day,
                // A few repeated scores, so averages tie.
                score: score.map(|s| if s % 3 == 0 { 5_000 } else { s }),
                queue,
                product,
                channel,
                rep,
                criteria,
            },
        )
}

/// A conversation's score on one criterion: not scored, not applicable, or a score.
fn criterion_score() -> impl Strategy<Value = Option<Option<i64>>> {
    prop_oneof![
        1 => Just(None),
        1 => Just(Some(None)),
        3 => (0i64..=10_000).prop_map(|s| Some(Some(s))),
    ]
}

fn query() -> impl Strategy<Value = Query> {
    let sort = prop_oneof![
        Just(SortKey::Interactions),
        Just(SortKey::First),
        Just(SortKey::Latest),
        Just(SortKey::Score),
        Just(SortKey::Change)
    ];
    let dir = prop_oneof![Just(SortDir::Desc), Just(SortDir::Asc)];
    (
        0..SEARCHES.len(),
        sort,
        dir,
        1u32..5,
        proptest::option::of(0..QUEUES.len()),
        proptest::bool::weighted(0.1),
        proptest::option::of(0..PRODUCT_FILTERS.len()),
        0..CUSTOMERS.len(),
        1u32..4,
        (
            prop_oneof![2 => Just(0u8), 1 => 1u8..8],
            prop_oneof![2 => Just(None), 1 => (0..=REPS.len()).prop_map(Some)],
            (
                prop_oneof![2 => Just(None), 1 => (0i64..5).prop_map(Some)],
                prop_oneof![2 => Just(None), 1 => (0i64..5).prop_map(Some)],
            ),
        ),
    )
        .prop_map(
            |(
                search,
                sort,
                dir,
                page,
                queue,
                bogus_queue,
                product,
                history_customer,
                history_page,
                (channels, rep, (from, to)),
            )| {
                // A range that ends before it starts is refused by the page, so the
                // test asks for the ends in order.
                let days = match (from, to) {
                    (Some(from), Some(to)) if to < from => (Some(to), Some(from)),
                    ends => ends,
                };
                Query {
                    search,
                    sort,
                    dir,
                    page,
                    queue,
                    bogus_queue,
                    product,
                    history_customer,
                    history_page,
                    channels,
                    rep,
                    days,
                }
            },
        )
}

impl Row {
    fn to_new(&self) -> NewConversation {
        let mut fields = Vec::new();
        if let Some(queue) = self.queue {
            fields.push(("queue".to_owned(), QUEUES[queue].to_owned()));
        }
        if let Some(product) = self.product {
            fields.push(("product".to_owned(), PRODUCTS[product].to_owned()));
        }
        NewConversation {
            external_id: format!("e{}", self.external),
            customer: CUSTOMERS[self.customer].to_owned(),
            customer_name: NAMES[self.name].map(str::to_owned),
            representative: REPS[self.rep].to_owned(),
            representative_name: None,
            title: format!("Talk {}", self.external),
            channel: Channel::ALL[self.channel],
            occurred_at_ms: FIRST_MS + self.day * 86_400_000,
            score_hundredths: self.score,
            fields,
            criteria: CRITERIA
                .iter()
                .zip(self.criteria)
                .filter_map(|(key, score)| Some(((*key).to_owned(), score?)))
                .collect(),
        }
    }
}

impl Query {
    fn to_customer_query(&self) -> CustomerQuery {
        let mut query = CustomerQuery {
            search: SEARCHES[self.search].to_owned(),
            sort: self.sort,
            dir: self.dir,
            page: self.page,
            filters: BTreeMap::new(),
            period: Period::All,
            channels: Vec::new(),
            rep: String::new(),
        };
        query.channels = Channel::ALL
            .into_iter()
            .enumerate()
            .filter(|(bit, _)| self.channels & (1 << bit) != 0)
            .map(|(_, channel)| channel)
            .collect();
        if let Some(rep) = self.rep {
            query.rep = REPS
                .get(rep)
                .copied()
                .unwrap_or("nobody@example.com")
                .to_owned();
        }
        let day = |offset: i64| {
            let (year, month, first) = FIRST_DAY;
            Day::parse(&format!(
                "{year:04}-{month:02}-{:02}",
                first + offset as u32
            ))
        };
        if self.days != (None, None) {
            query.period = Period::Range {
                from: self.days.0.and_then(day),
                to: self.days.1.and_then(day),
            };
        }
        if self.bogus_queue {
            query.filters.insert("queue".to_owned(), "Nope".to_owned());
        } else if let Some(queue) = self.queue {
            query
                .filters
                .insert("queue".to_owned(), QUEUES[queue].to_owned());
        }
        if let Some(product) = self.product {
            query
                .filters
                .insert("product".to_owned(), PRODUCT_FILTERS[product].to_owned());
        }
        query
    }
}

/// The rules of the Customers page, written plainly over what was written.
struct Model {
    /// External id to its latest row, as written in order.
    conversations: BTreeMap<u8, Row>,
    /// Customer index to the last non-blank display name given.
    names: BTreeMap<usize, String>,
    /// Representatives who were ever named (users are created on first sight and kept).
    reps: BTreeSet<usize>,
}

impl Model {
    fn new(batches: &[Vec<Row>]) -> Model {
        let mut model = Model {
            conversations: BTreeMap::new(),
            names: BTreeMap::new(),
            reps: BTreeSet::new(),
        };
        for row in batches.iter().flatten() {
            model.reps.insert(row.rep);
            model.conversations.insert(row.external, row.clone());
            if let Some(name) = NAMES[row.name].map(str::trim).filter(|n| !n.is_empty()) {
                model.names.insert(row.customer, name.to_owned());
            }
        }
        model
    }

    fn counts(&self, row: &Row, query: &Query) -> bool {
        if row.score.is_none() {
            return false;
        }
        if !query.bogus_queue {
            if let Some(queue) = query.queue {
                if row.queue != Some(queue) {
                    return false;
                }
            }
        }
        if query.channels != 0 && query.channels & (1 << row.channel) == 0 {
            return false;
        }
        // A representative the organisation does not have is dropped from the view.
        if query
            .rep
            .is_some_and(|rep| self.reps.contains(&rep) && rep != row.rep)
        {
            return false;
        }
        if query.days.0.is_some_and(|from| row.day < from)
            || query.days.1.is_some_and(|to| row.day > to)
        {
            return false;
        }
        if let Some(product) = query.product {
            let needle = PRODUCT_FILTERS[product].to_lowercase();
            match row.product {
                Some(value) if PRODUCTS[value].to_lowercase().contains(&needle) => {}
                _ => return false,
            }
        }
        true
    }

    fn search_text(&self, customer: usize) -> String {
        match self.names.get(&customer) {
            Some(name) => format!("{}\n{name}", CUSTOMERS[customer]).to_lowercase(),
            None => CUSTOMERS[customer].to_lowercase(),
        }
    }

    /// Every customer row of the view, in page order.
    fn customers(&self, query: &Query) -> Vec<CustomerSummary> {
        let needle = SEARCHES[query.search].to_lowercase();
        let mut groups: BTreeMap<usize, (i64, i64, i64, i64)> = BTreeMap::new();
        for row in self.conversations.values() {
            if !self.counts(row, query) || !self.search_text(row.customer).contains(&needle) {
                continue;
            }
            let at = FIRST_MS + row.day * 86_400_000;
            let score = row.score.unwrap_or_default();
            let group = groups.entry(row.customer).or_insert((0, at, at, 0));
            group.0 += 1;
            group.1 = group.1.min(at);
            group.2 = group.2.max(at);
            group.3 += score;
        }
        // A range closed at both ends compares with as many days just before it, under the
        // same other conditions.
        let mut previous: BTreeMap<usize, (i64, i64)> = BTreeMap::new();
        if let (Some(from), Some(to)) = query.days {
            let before = Query {
                days: (Some(from - (to - from + 1)), Some(from - 1)),
                ..query.clone()
            };
            for row in self.conversations.values() {
                if self.counts(row, &before) {
                    let group = previous.entry(row.customer).or_insert((0, 0));
                    group.0 += 1;
                    group.1 += row.score.unwrap_or_default();
                }
            }
        }
        let mut rows: Vec<CustomerSummary> = groups
            .into_iter()
            .map(|(customer, (count, first, latest, sum))| {
                let (previous_interactions, previous_score_sum) =
                    previous.get(&customer).copied().unwrap_or((0, 0));
                CustomerSummary {
                    id: 0,
                    identifier: CUSTOMERS[customer].to_owned(),
                    display_name: self.names.get(&customer).cloned(),
                    interactions: count,
                    first_ms: first,
                    latest_ms: latest,
                    score_sum: sum,
                    previous_interactions,
                    previous_score_sum,
                }
            })
            .collect();
        rows.sort_by(|a, b| {
            let by_key = match query.sort {
                SortKey::Interactions => a.interactions.cmp(&b.interactions),
                SortKey::First => a.first_ms.cmp(&b.first_ms),
                SortKey::Latest => a.latest_ms.cmp(&b.latest_ms),
                SortKey::Score => {
                    let average = |r: &CustomerSummary| r.score_sum as f64 / r.interactions as f64;
                    average(a)
                        .partial_cmp(&average(b))
                        .unwrap_or(Ordering::Equal)
                }
                SortKey::Change => Ordering::Equal,
            };
            let by_key = match query.dir {
                SortDir::Desc => by_key.reverse(),
                SortDir::Asc => by_key,
            };
            // By change: certain (both sides at least 3), uncertain, new; the drop (previous
            // average minus this one) directed within each.
            let by_key = if query.sort == SortKey::Change {
                let group = |r: &CustomerSummary| match (r.previous_interactions, r.interactions) {
                    (0, _) => 2,
                    (p, n) if p < 3 || n < 3 => 1,
                    _ => 0,
                };
                let drop = |r: &CustomerSummary| {
                    if r.previous_interactions == 0 {
                        0.0
                    } else {
                        r.previous_score_sum as f64 / r.previous_interactions as f64
                            - r.score_sum as f64 / r.interactions as f64
                    }
                };
                let by_drop = drop(a).partial_cmp(&drop(b)).unwrap_or(Ordering::Equal);
                group(a).cmp(&group(b)).then(match query.dir {
                    SortDir::Desc => by_drop.reverse(),
                    SortDir::Asc => by_drop,
                })
            } else {
                by_key
            };
            by_key.then_with(|| a.identifier.as_bytes().cmp(b.identifier.as_bytes()))
        });
        rows
    }

    /// Per criterion of [`CRITERIA`], how many counting conversations (one customer's, when
    /// given) have a score on it and the scores' sum: what the breakdown's two sides show.
    fn criterion_sums(&self, customer: Option<usize>, query: &Query) -> Vec<(i64, i64)> {
        (0..CRITERIA.len())
            .map(|criterion| {
                let scores: Vec<i64> = self
                    .conversations
                    .values()
                    .filter(|row| customer.is_none_or(|c| row.customer == c))
                    .filter(|row| self.counts(row, query))
                    .filter_map(|row| row.criteria[criterion].flatten())
                    .collect();
                (scores.len() as i64, scores.iter().sum())
            })
            .collect()
    }

    /// The days of one customer's counting conversations, newest first, and their ids.
    fn history(&self, customer: usize, query: &Query) -> (Vec<i64>, BTreeSet<String>) {
        let mut rows: Vec<&Row> = self
            .conversations
            .values()
            .filter(|row| row.customer == customer && self.counts(row, query))
            .collect();
        rows.sort_by_key(|row| std::cmp::Reverse(row.day));
        (
            rows.iter()
                .map(|row| FIRST_MS + row.day * 86_400_000)
                .collect(),
            rows.iter()
                .map(|row| format!("e{}", row.external))
                .collect(),
        )
    }
}

static ORG_COUNTER: AtomicU32 = AtomicU32::new(0);

async fn organisation(db: &Db) -> i64 {
    let slug = format!(
        "model-{}",
        ORG_COUNTER.fetch_add(1, AtomicOrdering::Relaxed)
    );
    let mut tx = db.begin().await.expect("begin");
    let org_id = create_organisation(&mut tx, &slug, "Model Org", "UTC")
        .await
        .expect("org");
    let fields = [
        CustomField {
            key: "queue".to_owned(),
            label: "Queue".to_owned(),
            kind: FieldKind::Select,
            options: QUEUES.iter().map(|q| (*q).to_owned()).collect(),
        },
        CustomField {
            key: "product".to_owned(),
            label: "Product".to_owned(),
            kind: FieldKind::Text,
            options: Vec::new(),
        },
    ];
    for (position, field) in fields.iter().enumerate() {
        define_field(&mut tx, org_id, field, position as i64)
            .await
            .expect("field");
    }
    tx.commit().await.expect("commit");
    for key in CRITERIA {
        app::criteria::store::define_criterion(db, org_id, key, key)
            .await
            .expect("criterion");
    }
    org_id
}

/// Writes the batches to a new organisation, checking the first query against the model
/// after each batch and every query after the last.
async fn check(db: &Db, batches: &[Vec<Row>], queries: &[Query]) -> Result<(), TestCaseError> {
    let org_id = organisation(db).await;
    // One server's read model across the batches: it catches up with each.
    let models = ReadModels::default();
    for (written, batch) in batches.iter().enumerate() {
        let new: Vec<NewConversation> = batch.iter().map(Row::to_new).collect();
        write_conversations(db, org_id, &new)
            .await
            .map_err(|e| TestCaseError::fail(format!("write: {e}")))?;
        let model = Model::new(&batches[..=written]);
        let asked = if written + 1 == batches.len() {
            queries
        } else {
            &queries[..1]
        };
        for query in asked {
            check_query(db, &models, org_id, &model, query).await?;
        }
    }
    Ok(())
}

async fn check_query(
    db: &Db,
    models: &ReadModels,
    org_id: i64,
    model: &Model,
    query: &Query,
) -> Result<(), TestCaseError> {
    let customer_query = query.to_customer_query();
    let question = resolve_question(
        db,
        org_id,
        chrono_tz::UTC,
        &customer_query,
        Strictness::Lenient,
    )
    .await
    .map_err(|e| TestCaseError::fail(format!("question: {e}")))?;
    let page = customers_page(db, models, org_id, &question, PAGE_SIZE)
        .await
        .map_err(|e| TestCaseError::fail(format!("page: {e}")))?;
    let expected = model.customers(query);
    let page_count = (expected.len() as u32).div_ceil(PAGE_SIZE).max(1);
    let shown = query.page.clamp(1, page_count);
    let start = ((shown - 1) * PAGE_SIZE) as usize;
    let expected_rows: Vec<CustomerSummary> = expected
        .iter()
        .skip(start)
        .take(PAGE_SIZE as usize)
        .cloned()
        .collect();
    let got_rows: Vec<CustomerSummary> = page
        .rows
        .iter()
        .map(|row| CustomerSummary {
            id: 0,
            ..row.clone()
        })
        .collect();
    prop_assert_eq!(
        page.total,
        expected.len() as i64,
        "total of {:?}",
        customer_query
    );
    prop_assert_eq!((page.page, page.page_count), (shown, page_count));
    prop_assert_eq!(&got_rows, &expected_rows, "rows of {:?}", customer_query);

    // The history of one customer, if the view lists them, under the same filters.
    let identifier = CUSTOMERS[query.history_customer];
    let Some(customer_id) = app::customers::store::find_customer_id(db, org_id, identifier)
        .await
        .expect("find customer")
    else {
        return Ok(());
    };
    let (days, ids) = model.history(query.history_customer, query);
    let mut seen = BTreeSet::new();
    let history_pages = (days.len() as u32).div_ceil(HISTORY_PAGE_SIZE).max(1);
    for page_number in 1..=history_pages {
        let history = history_page(
            db,
            org_id,
            customer_id,
            &question,
            page_number,
            HISTORY_PAGE_SIZE,
        )
        .await
        .map_err(|e| TestCaseError::fail(format!("history: {e}")))?;
        prop_assert_eq!(history.total, days.len() as i64);
        prop_assert_eq!(history.page_count, history_pages);
        let start = ((page_number - 1) * HISTORY_PAGE_SIZE) as usize;
        let expected_days: Vec<i64> = days
            .iter()
            .skip(start)
            .take(HISTORY_PAGE_SIZE as usize)
            .copied()
            .collect();
        let got_days: Vec<i64> = history.rows.iter().map(|r| r.occurred_at_ms).collect();
        prop_assert_eq!(
            got_days,
            expected_days,
            "history page {} of {}",
            page_number,
            identifier
        );
        seen.extend(history.rows.iter().map(|r| r.external_id.clone()));
    }
    prop_assert_eq!(&seen, &ids, "history of {}", identifier);
    // A page past the end shows the last one.
    let past = history_page(
        db,
        org_id,
        customer_id,
        &question,
        query.history_page + history_pages,
        HISTORY_PAGE_SIZE,
    )
    .await
    .map_err(|e| TestCaseError::fail(format!("history: {e}")))?;
    prop_assert_eq!(past.page, history_pages);

    // The criteria breakdown of the same customer, beside the organisation, under the view.
    let breakdown = criteria_breakdown(
        db,
        org_id,
        Subject::Customer(customer_id),
        &question.conditions,
    )
    .await
    .map_err(|e| TestCaseError::fail(format!("breakdown: {e}")))?;
    let subject = model.criterion_sums(Some(query.history_customer), query);
    let organisation = model.criterion_sums(None, query);
    prop_assert_eq!(breakdown.len(), CRITERIA.len());
    for figures in &breakdown {
        let at = CRITERIA
            .iter()
            .position(|key| *key == figures.criterion.key)
            .expect("a known criterion");
        prop_assert_eq!(
            (figures.subject.scored, figures.subject.score_sum),
            subject[at],
            "{} of {} under {:?}",
            CRITERIA[at],
            identifier,
            customer_query
        );
        prop_assert_eq!(
            (figures.organisation.scored, figures.organisation.score_sum),
            organisation[at],
            "{} of the organisation under {:?}",
            CRITERIA[at],
            customer_query
        );
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("MODEL_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(96)
}

fn datasets() -> impl Strategy<Value = (Vec<Vec<Row>>, Vec<Query>)> {
    (
        proptest::collection::vec(proptest::collection::vec(row(), 0..14), 1..4),
        proptest::collection::vec(query(), 1..8),
    )
}

macro_rules! model_test {
    ($backend:ident, $open:expr) => {
        mod $backend {
            use super::*;

            #[test]
            fn store_agrees_with_the_model() {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                let test_db = runtime.block_on($open);
                let config = ProptestConfig {
                    cases: cases(),
                    failure_persistence: None,
                    ..ProptestConfig::default()
                };
                let mut runner = proptest::test_runner::TestRunner::new(config);
                let result = runner.run(&datasets(), |(batches, queries)| {
                    runtime.block_on(check(&test_db.db, &batches, &queries))
                });
                runtime.block_on(test_db.drop_database());
                if let Err(failure) = result {
                    panic!("{failure}");
                }
            }
        }
    };
}

model_test!(sqlite, support::TestDb::sqlite());
model_test!(postgres, support::TestDb::postgres());
