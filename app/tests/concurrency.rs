//! Many writers at once, on SQLite and PostgreSQL: batches over the same customers in
//! opposite orders, one conversation moved between customers by racing writers, the same new
//! external id from many writers, and imports beside the batches, with readers asking the
//! Customers page all the while. Afterwards every figure must equal a recomputation from the
//! stored conversations (the plain GROUP BY), and a second pool on the same database (another
//! server, with a read model of its own) must see the same.
#![cfg(feature = "ssr")]

mod support;

use app::conversations::import::{import_rows, parse_items};
use app::conversations::model::Channel;
use app::conversations::store::{write_conversations, NewConversation};
use app::customers::query::{CustomerQuery, Period, SortKey};
use app::customers::read_model::ReadModels;
use app::customers::service::{customers_page, resolve_question, Strictness};
use app::customers::store::{grouped_page, CustomerSummary};
use app::db::{Db, Sql};
use app::page::Page;
use serde_json::json;
use support::{organisation_with_queue, TestDb};
use tokio::task::JoinSet;

/// One app server: a pool on the database and a read model of its own.
#[derive(Clone)]
struct Server {
    db: Db,
    models: std::sync::Arc<ReadModels>,
}

impl Server {
    fn new(db: Db) -> Server {
        Server::with_budget(db, ReadModels::default())
    }

    fn with_budget(db: Db, models: ReadModels) -> Server {
        Server {
            db,
            models: std::sync::Arc::new(models),
        }
    }
}

const WRITERS: usize = 16;
const ROUNDS: usize = 3;
const IMPORTS: usize = 4;
const CUSTOMERS: usize = 40;
/// Big enough that one page holds every customer.
const ALL: u32 = 10_000;
const DAY_MS: i64 = 86_400_000;
const START_MS: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

async fn organisation(db: &Db) -> i64 {
    organisation_with_queue(db, "race", "UTC").await
}

fn conversation(external_id: String, customer: usize, seed: usize) -> NewConversation {
    NewConversation {
        external_id,
        customer: format!("cust-{customer:02}"),
        customer_name: seed
            .is_multiple_of(5)
            .then(|| format!("Customer {customer} v{seed}")),
        representative: format!("rep{}@race.example", seed % 3),
        representative_name: None,
        title: format!("Talk {seed}"),
        channel: Channel::ALL[seed % 3],
        occurred_at_ms: START_MS + (seed % 40) as i64 * DAY_MS + seed as i64,
        score_hundredths: (!seed.is_multiple_of(7)).then_some(((seed * 37) % 10_001) as i64),
        fields: vec![(
            "queue".to_owned(),
            if seed.is_multiple_of(2) {
                "Billing"
            } else {
                "Technical"
            }
            .to_owned(),
        )],
    }
}

/// One writer's batch: its own conversations over every customer (odd writers walk the
/// customers backwards), the conversation every writer moves to a customer of its own, and
/// the round's new external id that every writer creates or rewrites.
fn batch(writer: usize, round: usize) -> Vec<NewConversation> {
    let mut customers: Vec<usize> = (0..CUSTOMERS).collect();
    if writer % 2 == 1 {
        customers.reverse();
    }
    let mut batch: Vec<NewConversation> = customers
        .into_iter()
        .map(|customer| {
            let seed = writer * 1_000 + round * 100 + customer;
            conversation(format!("w{writer}-{customer}"), customer, seed)
        })
        .collect();
    batch.push(conversation(
        "moved".to_owned(),
        writer % CUSTOMERS,
        writer + round,
    ));
    batch.push(conversation(
        format!("shared-{round}"),
        (writer * 3) % CUSTOMERS,
        writer * 7 + round,
    ));
    batch
}

/// An API-style import beside the batches: JSON items, as `POST /api/v1/conversations` reads them.
fn import_items(import: usize) -> Vec<serde_json::Value> {
    (0..60)
        .map(|n| {
            let customer = (n * 11 + import) % CUSTOMERS;
            json!({
                "external_id": format!("imp{import}-{n}"),
                "customer": format!("cust-{customer:02}"),
                "representative": "importer@race.example",
                "title": format!("Imported {n}"),
                "type": "email",
                "occurred_at": "2026-02-03T10:00:00Z",
                "score": (n * 13 % 100) as f64,
                "fields": {"queue": "Billing", "source": format!("file {import}")},
            })
        })
        .collect()
}

async fn page(server: &Server, org_id: i64, query: &CustomerQuery) -> Page<CustomerSummary> {
    let db = &server.db;
    let question = resolve_question(db, org_id, chrono_tz::UTC, query, Strictness::Strict)
        .await
        .expect("question");
    customers_page(db, &server.models, org_id, &question, ALL)
        .await
        .expect("page")
}

async fn recomputed(db: &Db, org_id: i64, query: &CustomerQuery) -> Page<CustomerSummary> {
    let question = resolve_question(db, org_id, chrono_tz::UTC, query, Strictness::Strict)
        .await
        .expect("question");
    grouped_page(db, org_id, &question.applied, &question.conditions, ALL)
        .await
        .expect("grouped page")
}

async fn representative_id(db: &Db, org_id: i64, email: &str) -> i64 {
    let mut sql = Sql::new("SELECT id FROM users WHERE org_id = $1 AND email = $2");
    sql.arg(org_id).arg(email);
    db.scalar(&sql, "finding a person").await.expect("person")
}

async fn scored_conversations(db: &Db, org_id: i64) -> i64 {
    let mut sql = Sql::new(
        "SELECT COUNT(*) FROM conversations WHERE org_id = $1 AND score_hundredths IS NOT NULL",
    );
    sql.arg(org_id);
    db.scalar(&sql, "counting").await.expect("count")
}

/// The views checked after the race: none, a field, and a date range with a channel.
fn views() -> Vec<CustomerQuery> {
    let all = CustomerQuery::default();
    vec![
        all.clone(),
        all.with_sort_clicked(SortKey::Score),
        all.with_filter("queue", "Billing"),
        all.with_period(Period::Range {
            from: app::customers::query::Day::parse("2026-01-05"),
            to: app::customers::query::Day::parse("2026-01-30"),
        })
        .with_channel(Channel::Chat, true),
        all.with_rep("rep1@race.example").with_search("cust-1"),
        // The Change column: each customer's figures over 11–25 January too (the same other
        // filters), sorted by change.
        all.with_period(Period::Range {
            from: app::customers::query::Day::parse("2026-01-26"),
            to: app::customers::query::Day::parse("2026-02-09"),
        })
        .with_filter("queue", "Billing")
        .with_sort_clicked(SortKey::Change),
    ]
}

async fn assert_exact(server: &Server, org_id: i64, label: &str) {
    let db = &server.db;
    for view in views() {
        let answered = page(server, org_id, &view).await;
        let expected = recomputed(db, org_id, &view).await;
        assert_eq!(
            answered.rows, expected.rows,
            "{label}: rows of {view:?} differ from a recomputation"
        );
        assert_eq!(answered.total, expected.total, "{label}: total of {view:?}");
        assert_eq!(
            answered.total,
            answered.rows.len() as i64,
            "{label}: the total counts the customers listed"
        );
    }
    let all = page(server, org_id, &CustomerQuery::default()).await;
    let interactions: i64 = all.rows.iter().map(|row| row.interactions).sum();
    assert_eq!(
        interactions,
        scored_conversations(db, org_id).await,
        "{label}: the Interactions add up to the scored conversations"
    );
}

/// The race below, with read models of the default budget.
async fn concurrent_writers_keep_every_figure_exact(test: &TestDb) {
    let (_, other) = race(test, ReadModels::default).await;
    other.db.close().await;
}

/// The same race with budgets that hold either organisation but not both, so that each
/// server evicts one and loads it again between questions (the neighbour is questioned in
/// between): every figure must still equal the plain GROUP BY.
async fn concurrent_writers_stay_exact_while_evicted_and_reloaded(test: &TestDb) {
    let (writing, other) = race(test, || ReadModels::new(SMALL_BUDGET)).await;
    for server in [writing, other] {
        let activity = server.models.activity();
        assert!(
            activity.evictions > 0,
            "organisations were evicted: {activity:?}"
        );
        assert_eq!(
            activity.answered_from_sql, 0,
            "both fit alone: {activity:?}"
        );
        assert!(server.models.held_bytes() <= SMALL_BUDGET);
    }
}

/// Holds the race's organisation (about 60 KB at the end) or its neighbour (about 30 KB),
/// never both.
const SMALL_BUDGET: usize = 80 * 1024;

async fn race(test: &TestDb, models: impl Fn() -> ReadModels) -> (Server, Server) {
    let db = &test.db;
    let org_id = organisation(db).await;
    let writing = Server::with_budget(db.clone(), models());
    // Another server on the same database, whose read model is loaded before the race.
    let other = Server::with_budget(
        Db::connect(&test.url, 4).await.expect("second pool"),
        models(),
    );
    assert_eq!(
        page(&other, org_id, &CustomerQuery::default()).await.total,
        0
    );
    // A neighbour organisation, questioned between the others' questions.
    let neighbour = {
        let id = organisation_with_queue(db, "neighbour", "UTC").await;
        let conversations: Vec<NewConversation> = (0..1_500)
            .map(|n| conversation(format!("n{n}"), n % CUSTOMERS, n))
            .collect();
        write_conversations(db, id, &conversations)
            .await
            .expect("neighbour's conversations");
        id
    };

    let mut writers = JoinSet::new();
    for writer in 0..WRITERS {
        let db = db.clone();
        writers.spawn(async move {
            for round in 0..ROUNDS {
                write_conversations(&db, org_id, &batch(writer, round))
                    .await
                    .map_err(|error| format!("writer {writer}, round {round}: {error}"))?;
            }
            Ok::<(), String>(())
        });
    }
    for import in 0..IMPORTS {
        let db = db.clone();
        writers.spawn(async move {
            let rows = parse_items(import_items(import)).map_err(|e| e.to_string())?;
            import_rows(&db, org_id, &rows, false, &mut |_| {})
                .await
                .map(|_| ())
                .map_err(|error| format!("import {import}: {error}"))
        });
    }
    // Readers on both servers while the writers run: every answer must come back.
    let mut readers = JoinSet::new();
    for reader in [writing.clone(), other.clone()] {
        readers.spawn(async move {
            let mut answers = 0;
            for (n, view) in views().iter().cycle().take(40).enumerate() {
                let asked = if n % 4 == 3 { neighbour } else { org_id };
                let question =
                    resolve_question(&reader.db, asked, chrono_tz::UTC, view, Strictness::Lenient)
                        .await
                        .map_err(|error| error.to_string())?;
                let data = customers_page(&reader.db, &reader.models, asked, &question, ALL)
                    .await
                    .map_err(|error| error.to_string())?;
                if data.total != data.rows.len() as i64 {
                    return Err(format!(
                        "a page listed {} of {}",
                        data.rows.len(),
                        data.total
                    ));
                }
                answers += 1;
            }
            Ok::<usize, String>(answers)
        });
    }
    let mut failures = Vec::new();
    while let Some(done) = writers.join_next().await {
        if let Err(error) = done.expect("writer task") {
            failures.push(error);
        }
    }
    while let Some(done) = readers.join_next().await {
        if let Err(error) = done.expect("reader task") {
            failures.push(error);
        }
    }
    assert!(
        failures.is_empty(),
        "failed under concurrency: {failures:#?}"
    );

    assert_exact(&writing, org_id, "the writing server").await;
    // The change view compared something: the imports' 3 February conversations fall in its
    // period and the batches' own in the previous one for customers 10 to 24.
    let by_change = views().pop().expect("the change view");
    assert_eq!(by_change.sort, SortKey::Change);
    let compared = page(&writing, org_id, &by_change).await;
    assert!(
        compared
            .rows
            .iter()
            .any(|row| row.previous_interactions > 0),
        "the previous period has figures to compare"
    );
    assert_exact(&other, org_id, "another server").await;
    assert_exact(&other, neighbour, "another server, the neighbour").await;
    assert_exact(&writing, org_id, "the writing server, after the neighbour").await;
    for shared in ["moved", "shared-0", "shared-1", "shared-2"] {
        let mut sql =
            Sql::new("SELECT COUNT(*) FROM conversations WHERE org_id = $1 AND external_id = $2");
        sql.arg(org_id).arg(shared);
        let copies: i64 = db.scalar(&sql, "counting").await.expect("count");
        assert_eq!(copies, 1, "`{shared}` is stored once");
    }
    let total = page(&writing, org_id, &CustomerQuery::default())
        .await
        .total;
    assert_eq!(total, CUSTOMERS as i64, "every customer is listed once");
    (writing, other)
}

/// Writes through one server and reads through another: the reader's read model follows
/// every write, rewrite and move at its next question.
async fn a_second_server_sees_every_write_at_its_next_question(test: &TestDb) {
    let db = &test.db;
    let org_id = organisation(db).await;
    let other = Server::new(Db::connect(&test.url, 2).await.expect("second pool"));
    for step in 0..6 {
        let batch: Vec<NewConversation> = (0..5)
            .map(|n| conversation(format!("s{}", n + step), (n + step * 3) % 7, step * 10 + n))
            .collect();
        write_conversations(db, org_id, &batch)
            .await
            .expect("write");
        assert_exact(&other, org_id, &format!("after write {step}")).await;
    }
    other.db.close().await;
}

/// A question past its budget is stopped on the database with a clear error, the pool keeps
/// working, and a first load that outlives one question's budget still completes for the next.
async fn questions_past_their_budget_are_stopped(test: &TestDb) {
    let db = &test.db;
    let org_id = organisation(db).await;
    // One customer with many conversations, so that a filtered count takes milliseconds.
    for chunk in 0..20 {
        let batch: Vec<NewConversation> = (0..1_000)
            .map(|n| {
                let seed = chunk * 1_000 + n;
                let mut talk = conversation(format!("big-{seed}"), 0, seed);
                talk.fields
                    .push(("note".to_owned(), format!("note {seed} for the budget")));
                talk
            })
            .collect();
        app::conversations::import::import_rows(
            db,
            org_id,
            &batch
                .into_iter()
                .enumerate()
                .map(
                    |(line, conversation)| app::conversations::import::ImportRow {
                        line: line as u64 + 1,
                        conversation,
                    },
                )
                .collect::<Vec<_>>(),
            false,
            &mut |_| {},
        )
        .await
        .expect("import");
    }
    let hurried = Db::connect(&test.url, 2)
        .await
        .expect("second pool")
        .with_query_budget(std::time::Duration::from_millis(1));
    let models = ReadModels::default();
    let query = CustomerQuery::default().with_filter("note", "budget");
    let question = resolve_question(
        &hurried,
        org_id,
        chrono_tz::UTC,
        &query,
        Strictness::Lenient,
    )
    .await
    .expect("question");
    let first = customers_page(&hurried, &models, org_id, &question, ALL).await;
    assert!(
        matches!(first, Err(app::db::StoreError::Loading)),
        "a first load of 20,000 conversations does not fit in 1 ms, and says it is loading: {first:?}"
    );
    let customer_id = app::customers::store::find_customer_id(&hurried, org_id, "cust-00")
        .await
        .expect("find")
        .expect("customer");
    let history =
        app::customers::service::history_page(&hurried, org_id, customer_id, &question, 1, 8).await;
    assert!(
        matches!(history, Err(app::db::StoreError::OverBudget { .. })),
        "a filtered count over 20,000 conversations does not fit in 1 ms: {history:?}"
    );
    // The representative profile runs under the same budget: rep0 handled 6,667 of them.
    let rep0 = representative_id(db, org_id, "rep0@race.example").await;
    let profile =
        app::representatives::store::representative_profile(&hurried, org_id, rep0, 100).await;
    assert!(
        matches!(profile, Err(app::db::StoreError::OverBudget { .. })),
        "a profile over 6,667 conversations does not fit in 1 ms: {:?}",
        profile.as_ref().map(|_| "answered")
    );
    // The load went on without the question that started it: later questions are no
    // longer told it is loading (within 1 ms they may still run past their budget).
    let mut loaded = false;
    for _ in 0..100 {
        let answer = customers_page(&hurried, &models, org_id, &question, ALL).await;
        if !matches!(answer, Err(app::db::StoreError::Loading)) {
            assert!(
                matches!(answer, Ok(_) | Err(app::db::StoreError::OverBudget { .. })),
                "{answer:?}"
            );
            loaded = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(loaded, "the first load completed in the background");
    assert!(models.held_bytes() > 0);
    // The connections came back to the pool in working order.
    for _ in 0..4 {
        assert_eq!(
            scored_conversations(&hurried, org_id).await,
            scored_conversations(db, org_id).await
        );
    }
    let relaxed = hurried.with_query_budget(std::time::Duration::from_secs(30));
    let history =
        app::customers::service::history_page(&relaxed, org_id, customer_id, &question, 1, 8)
            .await
            .expect("a history within budget");
    assert_eq!(history.total, 20_000 - 20_000 / 7 - 1);
    // Within budget, the last page is read from the oldest end: complete, newest first, ending
    // with the representative's oldest conversation.
    let (record, page) =
        app::representatives::store::representative_profile(&relaxed, org_id, rep0, u32::MAX)
            .await
            .expect("a profile within budget")
            .expect("rep0");
    assert_eq!(record.total, 6_667);
    assert_eq!((page.page, page.page_count), (334, 334));
    assert_eq!(page.rows.len(), 7);
    assert!(page
        .rows
        .windows(2)
        .all(|pair| (pair[0].occurred_at_ms, pair[0].id) > (pair[1].occurred_at_ms, pair[1].id)));
    let mut oldest = Sql::new(
        "SELECT MIN(occurred_at_ms) FROM conversations WHERE org_id = $1 AND representative_id = $2",
    );
    oldest.arg(org_id).arg(rep0);
    let oldest: i64 = db.scalar(&oldest, "oldest").await.expect("oldest");
    assert_eq!(page.rows.last().map(|row| row.occurred_at_ms), Some(oldest));
    relaxed.close().await;
}

on_both_backends_threaded!(
    4;
    concurrent_writers_keep_every_figure_exact,
    concurrent_writers_stay_exact_while_evicted_and_reloaded,
    a_second_server_sees_every_write_at_its_next_question,
    questions_past_their_budget_are_stopped
);
