//! Erasure on SQLite and PostgreSQL: a customer, a conversation, an organisation deleted, one
//! transaction each. Afterwards the Customers figures of this server and of another one (a
//! second pool with a read model of its own) equal a recomputation from the stored
//! conversations (the plain GROUP BY), histories and exports show no trace, and no row carries
//! a deleted organisation's id; also with writers running while the deletions happen.
#![cfg(feature = "ssr")]

mod support;

use app::auth::store::{create_session, record_failed_sign_in, LockOutRule, LoginAccount};
use app::conversations::model::Channel;
use app::conversations::store::{write_conversations, NewConversation};
use app::customers::query::{CustomerQuery, Day, Period, SortKey};
use app::customers::saved_views_store::save_view;
use app::customers::service::{customers_page, history_page, resolve_question, Strictness};
use app::customers::store::{find_customer_id, grouped_page, CustomerSummary};
use app::db::{Backend, Db, Sql};
use app::erasure::{
    delete_conversation, delete_customer, delete_organisation, Erased, ORGANISATION_TABLES,
};
use app::orgs::model::{CustomField, FieldKind, Role};
use app::orgs::store::{create_organisation_with, NewUser};
use app::page::Page;
use support::TestDb;
use tokio::task::JoinSet;

/// Big enough that one page holds every customer.
const ALL: u32 = 10_000;
const DAY_MS: i64 = 86_400_000;
const START_MS: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

async fn organisation(db: &Db, slug: &str) -> i64 {
    let mut tx = db.begin().await.expect("begin");
    let people = [
        NewUser {
            email: &format!("admin@{slug}.example"),
            name: "Admin",
            role: Role::Admin,
            password_hash: Some("not a real hash"),
        },
        NewUser {
            email: &format!("manager@{slug}.example"),
            name: "Manager",
            role: Role::Manager,
            password_hash: Some("not a real hash"),
        },
    ];
    let queue = CustomField {
        key: "queue".to_owned(),
        label: "Queue".to_owned(),
        kind: FieldKind::Select,
        options: vec!["Billing".to_owned(), "Technical".to_owned()],
    };
    let note = CustomField {
        key: "note".to_owned(),
        label: "Note".to_owned(),
        kind: FieldKind::Text,
        options: Vec::new(),
    };
    let org_id = create_organisation_with(&mut tx, slug, slug, "UTC", &people, &[queue, note])
        .await
        .expect("org");
    tx.commit().await.expect("commit");
    org_id
}

fn conversation(external_id: String, customer: &str, seed: usize) -> NewConversation {
    NewConversation {
        external_id,
        customer: customer.to_owned(),
        customer_name: seed
            .is_multiple_of(5)
            .then(|| format!("{customer} v{seed}")),
        representative: format!("rep{}@race.example", seed % 3),
        representative_name: None,
        title: format!("Talk {seed}"),
        channel: Channel::ALL[seed % 3],
        occurred_at_ms: START_MS + (seed % 40) as i64 * DAY_MS + seed as i64,
        score_hundredths: (!seed.is_multiple_of(7)).then_some(((seed * 37) % 10_001) as i64),
        fields: vec![
            (
                "queue".to_owned(),
                if seed.is_multiple_of(2) {
                    "Billing"
                } else {
                    "Technical"
                }
                .to_owned(),
            ),
            ("note".to_owned(), format!("note {seed}")),
        ],
    }
}

/// `customers` customers named `{prefix}-NN`, each with `per_customer` conversations
/// `{prefix}-NN-M`.
fn dataset(prefix: &str, customers: usize, per_customer: usize) -> Vec<NewConversation> {
    (0..customers)
        .flat_map(|customer| {
            (0..per_customer).map(move |n| {
                conversation(
                    format!("{prefix}-{customer:02}-{n}"),
                    &format!("{prefix}-{customer:02}"),
                    customer * 31 + n,
                )
            })
        })
        .collect()
}

/// One app server: a pool on the database and read models of its own. It derefs to its pool,
/// so store functions take it as a `Db`.
#[derive(Clone)]
struct Server {
    db: Db,
    models: std::sync::Arc<app::customers::read_model::ReadModels>,
}

impl Server {
    fn new(db: Db) -> Server {
        Server {
            db,
            models: Default::default(),
        }
    }
}

impl std::ops::Deref for Server {
    type Target = Db;
    fn deref(&self) -> &Db {
        &self.db
    }
}

async fn page(server: &Server, org_id: i64, query: &CustomerQuery) -> Page<CustomerSummary> {
    let db = &server.db;
    let question = resolve_question(db, org_id, chrono_tz::UTC, query, Strictness::Lenient)
        .await
        .expect("question");
    customers_page(db, &server.models, org_id, &question, ALL)
        .await
        .expect("page")
}

async fn recomputed(db: &Db, org_id: i64, query: &CustomerQuery) -> Page<CustomerSummary> {
    let question = resolve_question(db, org_id, chrono_tz::UTC, query, Strictness::Lenient)
        .await
        .expect("question");
    grouped_page(db, org_id, &question.applied, &question.conditions, ALL)
        .await
        .expect("grouped page")
}

/// The views checked: none, a sort, a field, a date range with a channel, a representative
/// with a search.
fn views() -> Vec<CustomerQuery> {
    let all = CustomerQuery::default();
    vec![
        all.clone(),
        all.with_sort_clicked(SortKey::Score),
        all.with_filter("queue", "Billing"),
        all.with_filter("note", "note 1"),
        all.with_period(Period::Range {
            from: Day::parse("2026-01-05"),
            to: Day::parse("2026-01-30"),
        })
        .with_channel(Channel::Chat, true),
        all.with_rep("rep1@race.example").with_search("-1"),
    ]
}

/// Every figure of every view equals the plain GROUP BY, and the Interactions add up to the
/// scored conversations stored.
async fn assert_exact(db: &Server, org_id: i64, label: &str) {
    for view in views() {
        let answered = page(db, org_id, &view).await;
        let expected = recomputed(db, org_id, &view).await;
        assert_eq!(
            answered.rows, expected.rows,
            "{label}: rows of {view:?} differ from a recomputation"
        );
        assert_eq!(answered.total, expected.total, "{label}: total of {view:?}");
    }
    let all = page(db, org_id, &CustomerQuery::default()).await;
    let interactions: i64 = all.rows.iter().map(|row| row.interactions).sum();
    assert_eq!(
        interactions,
        count(
            db,
            "SELECT COUNT(*) FROM conversations WHERE org_id = $1 AND score_hundredths IS NOT NULL",
            org_id
        )
        .await,
        "{label}: the Interactions add up to the scored conversations"
    );
}

async fn count(db: &Db, statement: &str, value: i64) -> i64 {
    let mut sql = Sql::new(statement);
    sql.arg(value);
    db.scalar(&sql, "counting").await.expect("count")
}

/// The customer is nowhere: not in the Customers rows (which the CSV export streams), not
/// findable for a history, and no conversation or field value of theirs is stored.
async fn assert_gone(db: &Server, org_id: i64, identifier: &str) {
    let listed = page(db, org_id, &CustomerQuery::default()).await;
    assert!(
        listed.rows.iter().all(|row| row.identifier != identifier),
        "{identifier} is still listed"
    );
    let searched = page(
        db,
        org_id,
        &CustomerQuery::default().with_search(identifier),
    )
    .await;
    assert!(searched.rows.iter().all(|row| row.identifier != identifier));
    assert_eq!(
        find_customer_id(db, org_id, identifier)
            .await
            .expect("find"),
        None,
        "{identifier} still has a history"
    );
    let mut stored = Sql::new(
        "SELECT COUNT(*) FROM conversations v JOIN customers c ON c.id = v.customer_id \
         WHERE c.org_id = $1 AND c.identifier = $2",
    );
    stored.arg(org_id).arg(identifier);
    assert_eq!(
        db.scalar::<i64>(&stored, "counting").await.expect("count"),
        0
    );
}

/// Field values whose conversation is gone: none may be left behind.
async fn orphan_values(db: &Db) -> i64 {
    db.scalar(
        &Sql::new(
            "SELECT COUNT(*) FROM conversation_field_values fv WHERE NOT EXISTS \
             (SELECT 1 FROM conversations v WHERE v.id = fv.conversation_id)",
        ),
        "counting orphan values",
    )
    .await
    .expect("count")
}

async fn a_customer_is_erased_with_every_conversation_and_no_trace(test: &TestDb) {
    let db = &Server::new(test.db.clone());
    let org_id = organisation(db, "acme").await;
    write_conversations(db, org_id, &dataset("cust", 6, 4))
        .await
        .expect("write");
    // Another server, whose read model holds the organisation before the erasure.
    let other = Server::new(Db::connect(&test.url, 2).await.expect("second pool"));
    assert_eq!(
        page(&other, org_id, &CustomerQuery::default()).await.total,
        6
    );
    let version_before = count(
        db,
        "SELECT version FROM read_model_versions WHERE org_id = $1",
        org_id,
    )
    .await;

    let erased = delete_customer(db, org_id, " cust-02 ")
        .await
        .expect("delete")
        .expect("cust-02 existed");
    assert_eq!(
        erased,
        Erased {
            customers: 1,
            conversations: 4
        }
    );
    for server in [db, &other] {
        assert_gone(server, org_id, "cust-02").await;
        assert_exact(server, org_id, "after erasing a customer").await;
    }
    assert_eq!(
        page(&other, org_id, &CustomerQuery::default()).await.total,
        5
    );
    assert_eq!(orphan_values(db).await, 0);
    // Another customer's history is whole.
    let question = resolve_question(
        db,
        org_id,
        chrono_tz::UTC,
        &CustomerQuery::default(),
        Strictness::Lenient,
    )
    .await
    .expect("question");
    let kept = find_customer_id(db, org_id, "cust-03")
        .await
        .unwrap()
        .expect("cust-03");
    let history = history_page(db, org_id, kept, &question, 1, 20)
        .await
        .expect("history");
    assert_eq!(
        history.total,
        4 - (0..4_usize)
            .filter(|n| (3 * 31 + n).is_multiple_of(7))
            .count() as i64
    );

    // A customer that is not there: nothing changes, not even the version.
    let version_after = count(
        db,
        "SELECT version FROM read_model_versions WHERE org_id = $1",
        org_id,
    )
    .await;
    assert_eq!(version_after, version_before + 1);
    assert_eq!(
        delete_customer(db, org_id, "cust-02")
            .await
            .expect("delete"),
        None
    );
    assert_eq!(
        delete_customer(db, org_id, "nobody").await.expect("delete"),
        None
    );
    assert_eq!(
        count(
            db,
            "SELECT version FROM read_model_versions WHERE org_id = $1",
            org_id
        )
        .await,
        version_after
    );
    // Written again, the customer comes back as new.
    write_conversations(db, org_id, &dataset("cust", 3, 1))
        .await
        .expect("write");
    assert_exact(&other, org_id, "after writing again").await;
    other.close().await;
}

async fn a_conversation_is_erased_and_its_customer_goes_with_the_last_one(test: &TestDb) {
    let db = &Server::new(test.db.clone());
    let org_id = organisation(db, "acme").await;
    write_conversations(db, org_id, &dataset("cust", 3, 2))
        .await
        .expect("write");
    let other = Server::new(Db::connect(&test.url, 2).await.expect("second pool"));
    assert_exact(&other, org_id, "before").await;

    let erased = delete_conversation(db, org_id, "cust-01-0")
        .await
        .expect("delete")
        .expect("existed");
    assert_eq!(
        erased,
        Erased {
            customers: 0,
            conversations: 1
        }
    );
    let customer = find_customer_id(db, org_id, "cust-01")
        .await
        .unwrap()
        .expect("cust-01 stays");
    let question = resolve_question(
        db,
        org_id,
        chrono_tz::UTC,
        &CustomerQuery::default(),
        Strictness::Lenient,
    )
    .await
    .expect("question");
    for server in [db, &other] {
        assert_exact(server, org_id, "after erasing a conversation").await;
        let history = history_page(server, org_id, customer, &question, 1, 20)
            .await
            .expect("history");
        assert!(
            history
                .rows
                .iter()
                .all(|row| row.external_id != "cust-01-0"),
            "no trace in the history"
        );
    }
    assert_eq!(
        delete_conversation(db, org_id, "cust-01-1")
            .await
            .expect("delete"),
        Some(Erased {
            customers: 1,
            conversations: 1
        })
    );
    for server in [db, &other] {
        assert_gone(server, org_id, "cust-01").await;
        assert_exact(server, org_id, "after erasing the last conversation").await;
    }
    assert_eq!(
        delete_conversation(db, org_id, "cust-01-1")
            .await
            .expect("delete"),
        None
    );
    assert_eq!(orphan_values(db).await, 0);
    other.close().await;
}

/// Every table of the schema with an `org_id` column, as the database lists them.
async fn tables_with_org_id(db: &Db) -> Vec<String> {
    #[derive(sqlx::FromRow)]
    struct Name {
        name: String,
    }
    let sql = match db.backend() {
        Backend::Sqlite => Sql::new(
            "SELECT m.name AS name FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND p.name = 'org_id' \
             UNION SELECT m.name FROM auth.sqlite_master m, pragma_table_info(m.name, 'auth') p \
             WHERE m.type = 'table' AND p.name = 'org_id' ORDER BY 1",
        ),
        Backend::Postgres => Sql::new(
            "SELECT table_name::TEXT AS name FROM information_schema.columns \
             WHERE table_schema = current_schema() AND column_name = 'org_id' ORDER BY 1",
        ),
    };
    let rows: Vec<Name> = db.fetch_all(&sql, "listing tables").await.expect("tables");
    rows.into_iter().map(|row| row.name).collect()
}

async fn an_organisation_is_erased_with_every_row_that_carries_its_id(test: &TestDb) {
    let db = &Server::new(test.db.clone());
    let kept = organisation(db, "kept").await;
    let doomed = organisation(db, "doomed").await;
    for org_id in [kept, doomed] {
        write_conversations(db, org_id, &dataset("cust", 4, 3))
            .await
            .expect("write");
        let admin = count(db, "SELECT MIN(id) FROM users WHERE org_id = $1", org_id).await;
        let account = LoginAccount {
            id: admin,
            org_id,
            password_hash: String::new(),
            locked_until_ms: None,
        };
        create_session(db, &account, &format!("session-of-{org_id}"), 1)
            .await
            .expect("session");
        let rule = LockOutRule {
            max_failures: 5,
            window_ms: 60_000,
            lock_ms: 60_000,
        };
        record_failed_sign_in(db, &account, rule, 1)
            .await
            .expect("failure");
        save_view(
            db,
            org_id,
            admin,
            "Billing",
            &CustomerQuery::default().with_filter("queue", "Billing"),
        )
        .await
        .expect("view");
        app::api::tokens::create_token(db, org_id, "sync", Default::default())
            .await
            .expect("token");
        app::conversations::import_page::store::remember_mapping(
            db,
            org_id,
            &[app::conversations::import_page::columns::MappedColumn {
                source: "Call ID".to_owned(),
                target: "external_id".to_owned(),
            }],
        )
        .await
        .expect("import mapping");
        // What a server records when an organisation is questioned (for warming after a
        // restart); written here rather than waited for.
        let mut remembered = app::db::Sql::new(
            "INSERT INTO read_model_demand (org_id, questioned_at_ms) VALUES ($1, 1) \
             ON CONFLICT (org_id) DO NOTHING",
        );
        remembered.arg(org_id);
        db.execute(&remembered, "remembering")
            .await
            .expect("demand");
    }
    let tables = tables_with_org_id(db).await;
    let mut listed: Vec<String> = ORGANISATION_TABLES
        .iter()
        .map(|t| (*t).to_owned())
        .collect();
    listed.sort();
    assert_eq!(
        tables, listed,
        "every table with an org_id is in the erasure's list"
    );
    for table in &tables {
        let rows = count(
            db,
            &format!("SELECT COUNT(*) FROM {table} WHERE org_id = $1"),
            doomed,
        )
        .await;
        assert!(
            rows > 0,
            "the test puts a row of the doomed organisation in {table}"
        );
    }
    let other = Server::new(Db::connect(&test.url, 2).await.expect("second pool"));
    assert_exact(&other, doomed, "the doomed organisation, before").await;

    let erased = delete_organisation(db, doomed)
        .await
        .expect("delete")
        .expect("existed");
    assert_eq!(
        (
            erased.customers,
            erased.conversations,
            erased.api_tokens,
            erased.saved_views,
            erased.sessions
        ),
        (4, 12, 1, 1, 1)
    );
    assert!(
        erased.people >= 2 + 3,
        "two people who sign in, three representatives"
    );
    for table in &tables {
        assert_eq!(
            count(
                db,
                &format!("SELECT COUNT(*) FROM {table} WHERE org_id = $1"),
                doomed
            )
            .await,
            0,
            "{table} keeps a row of the erased organisation"
        );
    }
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM organisations WHERE id = $1",
            doomed
        )
        .await,
        0
    );
    assert_eq!(orphan_values(db).await, 0);
    assert_eq!(delete_organisation(db, doomed).await.expect("delete"), None);
    // The other organisation keeps everything.
    for table in &tables {
        assert!(
            count(
                db,
                &format!("SELECT COUNT(*) FROM {table} WHERE org_id = $1"),
                kept
            )
            .await
                > 0,
            "{table}"
        );
    }
    assert_exact(db, kept, "the organisation kept").await;
    assert_exact(&other, kept, "the organisation kept, another server").await;

    // A new organisation is never given the erased one's id (SQLite would reuse the highest
    // rowid but for AUTOINCREMENT): a server that held the erased organisation's figures
    // shows the new one's own.
    let new = organisation(db, "fresh").await;
    write_conversations(db, new, &dataset("new", 2, 1))
        .await
        .expect("write");
    assert!(new > doomed, "ids are never given again");
    assert_exact(&other, new, "a new organisation, another server").await;
    // new-00's one conversation is unscored.
    assert_eq!(page(&other, new, &CustomerQuery::default()).await.total, 1);
    other.close().await;
}

/// Writers over the same customers as the erasures, with readers on two servers, while a
/// customer, conversations and another organisation are erased: afterwards every figure
/// equals the plain GROUP BY on both servers, and what was erased and not written again is
/// gone.
async fn erasures_beside_concurrent_writers_keep_every_figure_exact(test: &TestDb) {
    const WRITERS: usize = 8;
    const ROUNDS: usize = 3;
    const CUSTOMERS: usize = 12;
    let db = &Server::new(test.db.clone());
    let org_id = organisation(db, "race").await;
    let doomed = organisation(db, "doomed").await;
    write_conversations(db, org_id, &dataset("gone", 6, 3))
        .await
        .expect("write");
    write_conversations(db, doomed, &dataset("cust", 4, 2))
        .await
        .expect("write");
    let other = Server::new(Db::connect(&test.url, 4).await.expect("second pool"));
    assert_exact(&other, org_id, "before").await;

    let mut tasks = JoinSet::new();
    for writer in 0..WRITERS {
        let db = db.clone();
        tasks.spawn(async move {
            for round in 0..ROUNDS {
                let mut customers: Vec<usize> = (0..CUSTOMERS).collect();
                if writer % 2 == 1 {
                    customers.reverse();
                }
                let batch: Vec<NewConversation> = customers
                    .into_iter()
                    .map(|customer| {
                        conversation(
                            format!("w{writer}-{customer}"),
                            &format!("cust-{customer:02}"),
                            writer * 1_000 + round * 100 + customer,
                        )
                    })
                    .collect();
                write_conversations(&db, org_id, &batch)
                    .await
                    .map_err(|error| format!("writer {writer}, round {round}: {error}"))?;
            }
            Ok::<(), String>(())
        });
    }
    // The erasures: customers no writer touches, customers the writers write to, single
    // conversations the writers rewrite, and the other organisation.
    {
        let db = db.clone();
        tasks.spawn(async move {
            for n in 0..6 {
                let gone = format!("gone-{n:02}");
                delete_customer(&db, org_id, &gone)
                    .await
                    .map_err(|error| format!("erasing {gone}: {error}"))?;
                let busy = format!("cust-{:02}", n * 2);
                delete_customer(&db, org_id, &busy)
                    .await
                    .map_err(|error| format!("erasing {busy}: {error}"))?;
                let talk = format!("w{n}-{}", n + 1);
                delete_conversation(&db, org_id, &talk)
                    .await
                    .map_err(|error| format!("erasing {talk}: {error}"))?;
                tokio::task::yield_now().await;
            }
            delete_organisation(&db, doomed)
                .await
                .map_err(|error| format!("erasing an organisation: {error}"))?;
            Ok(())
        });
    }
    let mut readers = JoinSet::new();
    for reader in [db.clone(), other.clone()] {
        readers.spawn(async move {
            for view in views().iter().cycle().take(30) {
                let question =
                    resolve_question(&reader, org_id, chrono_tz::UTC, view, Strictness::Lenient)
                        .await
                        .map_err(|error| error.to_string())?;
                let data = customers_page(&reader, &reader.models, org_id, &question, ALL)
                    .await
                    .map_err(|error| error.to_string())?;
                if data.total != data.rows.len() as i64 {
                    return Err(format!(
                        "a page listed {} of {}",
                        data.rows.len(),
                        data.total
                    ));
                }
            }
            Ok::<(), String>(())
        });
    }
    let mut failures = Vec::new();
    while let Some(done) = tasks.join_next().await {
        if let Err(error) = done.expect("task") {
            failures.push(error);
        }
    }
    while let Some(done) = readers.join_next().await {
        if let Err(error) = done.expect("reader") {
            failures.push(error);
        }
    }
    assert!(
        failures.is_empty(),
        "failed under concurrency: {failures:#?}"
    );

    for server in [db, &other] {
        assert_exact(server, org_id, "after the race").await;
        for n in 0..6 {
            assert_gone(server, org_id, &format!("gone-{n:02}")).await;
        }
    }
    assert_eq!(orphan_values(db).await, 0);
    for table in tables_with_org_id(db).await {
        assert_eq!(
            count(
                db,
                &format!("SELECT COUNT(*) FROM {table} WHERE org_id = $1"),
                doomed
            )
            .await,
            0,
            "{table}"
        );
    }
    other.close().await;
}

on_both_backends_threaded!(
    4;
    a_customer_is_erased_with_every_conversation_and_no_trace,
    a_conversation_is_erased_and_its_customer_goes_with_the_last_one,
    an_organisation_is_erased_with_every_row_that_carries_its_id,
    erasures_beside_concurrent_writers_keep_every_figure_exact
);
