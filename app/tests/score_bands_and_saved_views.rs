//! Store tests of score bands, saved views and deleting a custom field, on SQLite and on
//! PostgreSQL: bands default and change; a person's saved views are theirs alone, unique by
//! name whatever its case, limited in number, and right under concurrent saves; a deleted
//! field leaves the read model exact (its filter dropped, the figures those of a recount).
#![cfg(feature = "ssr")]

mod support;

use support::{organisation, ConversationExt};

use app::conversations::store::{write_conversations, NewConversation};
use app::customers::query::CustomerQuery;
use app::customers::read_model::ReadModels;
use app::customers::saved_views::{SavedView, MAX_SAVED_VIEWS_PER_PERSON};
use app::customers::saved_views_store::{
    delete_saved_view, list_saved_views, rename_saved_view, save_view,
};
use app::customers::service::{customers_page, resolve_question, QuestionError, Strictness};
use app::customers::store::{grouped_page, CustomerSummary};
use app::db::{Db, Sql, StoreError};
use app::orgs::model::{CustomField, FieldKind, Role, ScoreBands};
use app::orgs::store::{
    define_field, delete_field, list_fields, score_bands, set_score_bands, upsert_user,
    DeletedField, NewUser,
};
use app::page::Page;
use tokio::task::JoinSet;

/// Big enough that one page holds every customer.
const ALL: u32 = 10_000;
const START_MS: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const DAY_MS: i64 = 86_400_000;

async fn person(db: &Db, org_id: i64, email: &str) -> i64 {
    let mut tx = db.begin().await.expect("begin");
    let user_id = upsert_user(
        &mut tx,
        org_id,
        &NewUser {
            email,
            name: "Pat",
            role: Role::Manager,
            password_hash: None,
        },
    )
    .await
    .expect("user");
    tx.commit().await.expect("commit");
    user_id
}

fn invalid_message(error: StoreError) -> String {
    match error {
        StoreError::Invalid(message) => message,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn names(views: &[SavedView]) -> Vec<&str> {
    views.iter().map(|view| view.name.as_str()).collect()
}

fn conversation(
    external_id: &str,
    customer: &str,
    day: i64,
    score: Option<i64>,
) -> NewConversation {
    support::conversation(external_id, customer, START_MS + day * DAY_MS, score)
}

fn with(conversation: NewConversation, key: &str, value: &str) -> NewConversation {
    conversation.field(key, value)
}

async fn define(db: &Db, org_id: i64, key: &str, kind: FieldKind, options: &[&str], position: i64) {
    let mut tx = db.begin().await.expect("begin");
    let field = CustomField {
        key: key.to_owned(),
        label: key.to_uppercase(),
        kind,
        options: options.iter().map(|option| (*option).to_owned()).collect(),
    };
    define_field(&mut tx, org_id, &field, position)
        .await
        .expect("define field");
    tx.commit().await.expect("commit");
}

/// The page the read model answers for `query` read leniently, the query as applied, and the
/// same page recounted the plain way (grouping the stored conversations).
async fn read_and_recount(
    (db, models): (&Db, &ReadModels),
    org_id: i64,
    query: &CustomerQuery,
) -> (Page<CustomerSummary>, CustomerQuery, Page<CustomerSummary>) {
    let question = resolve_question(db, org_id, chrono_tz::UTC, query, Strictness::Lenient)
        .await
        .expect("question");
    let page = customers_page(db, models, org_id, &question, ALL)
        .await
        .expect("read model page");
    let recount = grouped_page(db, org_id, &question.applied, &question.conditions, ALL)
        .await
        .expect("grouped page");
    (page, question.applied, recount)
}

fn identifiers(data: &Page<CustomerSummary>) -> Vec<&str> {
    data.rows
        .iter()
        .map(|row| row.identifier.as_str())
        .collect()
}

async fn count(db: &Db, sql: &str, org_id: i64) -> i64 {
    let mut sql = Sql::new(sql);
    sql.arg(org_id);
    db.scalar(&sql, "counting").await.expect("count")
}

on_both_backends! {
    async fn score_bands_default_and_change(db: &Db) {
        let acme = organisation(db, "acme").await;
        let other = organisation(db, "globex").await;
        assert_eq!(score_bands(db, acme).await.unwrap(), ScoreBands::default());
        assert_eq!(ScoreBands::default(), ScoreBands { low: 6_000, high: 8_000 });

        let bands = ScoreBands::from_points(55.5, 85.0).unwrap();
        set_score_bands(db, acme, bands).await.expect("set");
        assert_eq!(score_bands(db, acme).await.unwrap(), ScoreBands { low: 5_550, high: 8_500 });
        assert_eq!(score_bands(db, other).await.unwrap(), ScoreBands::default(), "one organisation's bands only");

        // Bands built by hand are checked too; nothing is written.
        for bad in [
            ScoreBands { low: 8_000, high: 6_000 },
            ScoreBands { low: 7_000, high: 7_000 },
            ScoreBands { low: -1, high: 6_000 },
            ScoreBands { low: 6_000, high: 10_001 },
        ] {
            let error = set_score_bands(db, acme, bad).await.unwrap_err();
            assert!(matches!(error, StoreError::Invalid(_)), "{bad:?}: {error:?}");
        }
        assert_eq!(score_bands(db, acme).await.unwrap(), bands);
        // The whole range is allowed.
        set_score_bands(db, acme, ScoreBands { low: 0, high: 10_000 }).await.expect("edges");
        assert_eq!(score_bands(db, acme).await.unwrap(), ScoreBands { low: 0, high: 10_000 });

        let missing = set_score_bands(db, acme + other + 100, bands).await.unwrap_err();
        assert!(invalid_message(missing).contains("no organisation"));
        assert_eq!(score_bands(db, acme + other + 100).await.unwrap(), ScoreBands::default());
    }

    async fn saved_views_save_list_replace_rename_and_delete(db: &Db) {
        let org_id = organisation(db, "acme").await;
        let pat = person(db, org_id, "pat@acme.example").await;
        assert!(list_saved_views(db, org_id, pat).await.unwrap().is_empty());

        let escalations_query = CustomerQuery::default().with_filter("queue", "Billing").with_page(4);
        let escalations = save_view(db, org_id, pat, "  Escalations ", &escalations_query).await.expect("save");
        assert_eq!(escalations.name, "Escalations", "names are trimmed");
        assert!(!escalations.query.contains("page="), "a view is saved without its page: {}", escalations.query);
        assert_eq!(
            CustomerQuery::from_query_string(&escalations.query),
            escalations_query.with_page(1),
            "the saved query string reads back as the view"
        );
        let billing = save_view(db, org_id, pat, "billing", &CustomerQuery::default().with_search("acme")).await.expect("save");
        save_view(db, org_id, pat, "apple", &CustomerQuery::default()).await.expect("save");
        let listed = list_saved_views(db, org_id, pat).await.unwrap();
        assert_eq!(names(&listed), vec!["apple", "billing", "Escalations"], "by name, whatever its case");
        assert_eq!(listed[2], escalations);

        // The same name in another case replaces the view's query: same id, no new view.
        let newer_query = CustomerQuery::default().with_filter("queue", "Technical");
        let replaced = save_view(db, org_id, pat, "ESCALATIONS", &newer_query).await.expect("replace");
        assert_eq!(replaced.id, escalations.id);
        assert_eq!(replaced.name, "ESCALATIONS", "the name takes the spelling saved last");
        assert_eq!(CustomerQuery::from_query_string(&replaced.query), newer_query);
        let listed = list_saved_views(db, org_id, pat).await.unwrap();
        assert_eq!(listed.len(), 3);
        assert_eq!(listed[2], replaced);

        // Bad names are refused with the reason.
        for bad in ["   ", "a\u{7}b"] {
            let error = save_view(db, org_id, pat, bad, &newer_query).await.unwrap_err();
            assert!(!invalid_message(error).is_empty());
        }
        let long = "x".repeat(81);
        assert!(invalid_message(save_view(db, org_id, pat, &long, &newer_query).await.unwrap_err()).contains("limit is 80"));

        // Renaming.
        let renamed = rename_saved_view(db, org_id, pat, escalations.id, "Escalated").await.unwrap().expect("renamed");
        assert_eq!((renamed.id, renamed.name.as_str(), renamed.query.as_str()), (escalations.id, "Escalated", replaced.query.as_str()));
        let error = rename_saved_view(db, org_id, pat, escalations.id, " Apple ").await.unwrap_err();
        assert_eq!(invalid_message(error), "You already have a view named “Apple”.");
        let recased = rename_saved_view(db, org_id, pat, escalations.id, "ESCALATED").await.unwrap().expect("own name, other case");
        assert_eq!(recased.name, "ESCALATED");
        let same = rename_saved_view(db, org_id, pat, escalations.id, "ESCALATED").await.unwrap().expect("own name");
        assert_eq!(same, recased);
        assert!(matches!(rename_saved_view(db, org_id, pat, escalations.id, " ").await, Err(StoreError::Invalid(_))));
        assert_eq!(rename_saved_view(db, org_id, pat, escalations.id + 1_000, "Nothing").await.unwrap(), None);
        assert_eq!(names(&list_saved_views(db, org_id, pat).await.unwrap()), vec!["apple", "billing", "ESCALATED"]);

        // Deleting.
        assert!(delete_saved_view(db, org_id, pat, billing.id).await.unwrap());
        assert!(!delete_saved_view(db, org_id, pat, billing.id).await.unwrap(), "already gone");
        assert_eq!(names(&list_saved_views(db, org_id, pat).await.unwrap()), vec!["apple", "ESCALATED"]);
        // A deleted view's name can be used again, as a new view.
        let again = save_view(db, org_id, pat, "Billing", &CustomerQuery::default()).await.expect("save again");
        assert_ne!(again.id, billing.id);
        assert_eq!(rename_saved_view(db, org_id, pat, billing.id, "Ghost").await.unwrap(), None);
        assert_eq!(list_saved_views(db, org_id, pat).await.unwrap().len(), 3);
    }

    async fn saved_views_belong_to_one_person_of_one_organisation(db: &Db) {
        let acme = organisation(db, "acme").await;
        let globex = organisation(db, "globex").await;
        let pat = person(db, acme, "pat@acme.example").await;
        let sam = person(db, acme, "sam@acme.example").await;
        let gus = person(db, globex, "gus@globex.example").await;
        let query = CustomerQuery::default().with_search("x");
        let pats = save_view(db, acme, pat, "Mine", &query).await.expect("pat saves");
        let sams = save_view(db, acme, sam, "Mine", &query).await.expect("sam saves the same name");
        let guss = save_view(db, globex, gus, "Mine", &query).await.expect("gus saves the same name");
        assert_ne!(pats.id, sams.id);

        assert_eq!(list_saved_views(db, acme, pat).await.unwrap(), vec![pats.clone()]);
        assert_eq!(list_saved_views(db, acme, sam).await.unwrap(), vec![sams.clone()]);
        assert_eq!(list_saved_views(db, globex, gus).await.unwrap(), vec![guss.clone()]);
        assert!(list_saved_views(db, globex, pat).await.unwrap().is_empty(), "pat under another organisation");

        // Another person's view, and another organisation's, are not found: never renamed or
        // deleted.
        for (org_id, user_id, id) in [(acme, pat, sams.id), (acme, pat, guss.id), (globex, gus, pats.id), (globex, pat, pats.id), (acme, gus, guss.id)] {
            assert_eq!(rename_saved_view(db, org_id, user_id, id, "Taken over").await.unwrap(), None, "{org_id} {user_id} {id}");
            assert!(!delete_saved_view(db, org_id, user_id, id).await.unwrap(), "{org_id} {user_id} {id}");
        }
        // A person of one organisation cannot save under another.
        let error = save_view(db, globex, pat, "Sneaky", &query).await.unwrap_err();
        assert!(matches!(error, StoreError::Invalid(_)), "{error:?}");
        assert!(list_saved_views(db, globex, pat).await.unwrap().is_empty());

        assert_eq!(list_saved_views(db, acme, pat).await.unwrap(), vec![pats]);
        assert_eq!(list_saved_views(db, acme, sam).await.unwrap(), vec![sams]);
        assert_eq!(list_saved_views(db, globex, gus).await.unwrap(), vec![guss]);
        assert_eq!(count(db, "SELECT COUNT(*) FROM saved_views WHERE org_id = $1", acme).await, 2);
    }

    async fn a_person_keeps_at_most_the_limit_of_saved_views(db: &Db) {
        let org_id = organisation(db, "acme").await;
        let pat = person(db, org_id, "pat@acme.example").await;
        let sam = person(db, org_id, "sam@acme.example").await;
        let query = CustomerQuery::default();
        for n in 0..MAX_SAVED_VIEWS_PER_PERSON {
            save_view(db, org_id, pat, &format!("View {n:02}"), &query).await.expect("within the limit");
        }
        let error = save_view(db, org_id, pat, "One too many", &query).await.unwrap_err();
        let message = invalid_message(error);
        assert!(message.contains(&MAX_SAVED_VIEWS_PER_PERSON.to_string()), "{message}");
        assert!(message.contains("Delete one"), "{message}");
        assert_eq!(list_saved_views(db, org_id, pat).await.unwrap().len(), MAX_SAVED_VIEWS_PER_PERSON);

        // At the limit, a view can still be replaced and renamed; others can still save.
        let replaced = save_view(db, org_id, pat, "view 07", &query.with_search("new")).await.expect("replace at the limit");
        assert_eq!(replaced.name, "view 07");
        rename_saved_view(db, org_id, pat, replaced.id, "Seven").await.unwrap().expect("rename at the limit");
        save_view(db, org_id, sam, "Sam's", &query).await.expect("another person");
        // One deleted, one more fits.
        assert!(delete_saved_view(db, org_id, pat, replaced.id).await.unwrap());
        save_view(db, org_id, pat, "One too many", &query).await.expect("room again");
        assert_eq!(list_saved_views(db, org_id, pat).await.unwrap().len(), MAX_SAVED_VIEWS_PER_PERSON);
    }

    async fn concurrent_saves_leave_each_name_once(db: &Db) {
        let org_id = organisation(db, "acme").await;
        let pat = person(db, org_id, "pat@acme.example").await;
        // 16 saves at once: half of them the same name in different cases, half distinct.
        let spellings = ["Shared", "SHARED", "shared", "sHaReD"];
        let mut tasks = JoinSet::new();
        for task in 0..16_usize {
            let db = db.clone();
            let name = if task % 2 == 0 { spellings[task / 2 % 4].to_owned() } else { format!("View {task}") };
            let query = CustomerQuery::default().with_search(&format!("task {task}"));
            tasks.spawn(async move { (task, save_view(&db, org_id, pat, &name, &query).await) });
        }
        let mut shared_ids = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let (task, saved) = joined.expect("task");
            let saved = saved.unwrap_or_else(|error| panic!("task {task}: {error}"));
            if task % 2 == 0 {
                shared_ids.push(saved.id);
            }
        }
        shared_ids.sort_unstable();
        shared_ids.dedup();
        assert_eq!(shared_ids.len(), 1, "every save of the shared name kept one view: {shared_ids:?}");

        let listed = list_saved_views(db, org_id, pat).await.unwrap();
        assert_eq!(listed.len(), 9, "{:?}", names(&listed));
        let shared: Vec<&SavedView> = listed.iter().filter(|view| view.name.to_lowercase() == "shared").collect();
        assert_eq!(shared.len(), 1);
        assert_eq!(shared[0].id, shared_ids[0]);
        let search = CustomerQuery::from_query_string(&shared[0].query).search;
        let task: usize = search.trim_start_matches("task ").parse().expect("a task's query");
        assert_eq!(task % 2, 0, "the shared view holds one of its savers' queries");
        for task in (1..16).step_by(2) {
            let name = format!("View {task}");
            assert_eq!(listed.iter().filter(|view| view.name == name).count(), 1, "{name}");
        }
        assert_eq!(count(db, "SELECT COUNT(*) FROM saved_views WHERE org_id = $1", org_id).await, 9);
    }

    async fn concurrent_saves_never_pass_the_limit(db: &Db) {
        let org_id = organisation(db, "acme").await;
        let pat = person(db, org_id, "pat@acme.example").await;
        let room = 5;
        for n in 0..MAX_SAVED_VIEWS_PER_PERSON - room {
            save_view(db, org_id, pat, &format!("Old {n:02}"), &CustomerQuery::default()).await.expect("save");
        }
        let mut tasks = JoinSet::new();
        for task in 0..16 {
            let db = db.clone();
            tasks.spawn(async move {
                save_view(&db, org_id, pat, &format!("New {task}"), &CustomerQuery::default()).await
            });
        }
        let (mut saved, mut refused) = (0, 0);
        while let Some(joined) = tasks.join_next().await {
            match joined.expect("task") {
                Ok(_) => saved += 1,
                Err(StoreError::Invalid(_)) => refused += 1,
                Err(error) => panic!("unexpected failure: {error}"),
            }
        }
        assert_eq!((saved, refused), (room, 16 - room));
        assert_eq!(list_saved_views(db, org_id, pat).await.unwrap().len(), MAX_SAVED_VIEWS_PER_PERSON);
    }

    async fn a_deleted_field_leaves_the_read_model_exact(db: &Db) {
        let org_id = organisation(db, "acme").await;
        define(db, org_id, "product", FieldKind::Text, &[], 0).await;
        define(db, org_id, "queue", FieldKind::Select, &["Billing", "Technical"], 1).await;
        let mut batch = Vec::new();
        for n in 0..30_i64 {
            let customer = format!("cust-{:02}", n % 7);
            let score = (n % 5 != 0).then_some((n * 331) % 10_001);
            let queue = if n % 3 == 0 { "Billing" } else { "Technical" };
            let mut row = with(conversation(&format!("c{n}"), &customer, n % 11, score), "queue", queue);
            if n % 2 == 0 {
                row = with(row, "product", if n % 4 == 0 { "Router X200" } else { "Mesh Pro" });
            }
            batch.push(row);
        }
        write_conversations(db, org_id, &batch).await.expect("write");

        // A second pool on the same database: another server, with a read model of its own.
        // Both load their models before the field goes.
        let url = test_db_url(db).await;
        let other = Db::connect(&url, 2).await.expect("second pool");
        let (mine, theirs) = (ReadModels::default(), ReadModels::default());
        let billing_and_router = CustomerQuery::default().with_filter("queue", "Billing").with_filter("product", "router");
        for server in [(db, &mine), (&other, &theirs)] {
            let (page, applied, recount) = read_and_recount(server, org_id, &billing_and_router).await;
            assert_eq!(applied, billing_and_router, "both filters apply while the field exists");
            assert_eq!(page, recount);
            assert!(page.total > 0);
            let (all, _, all_recount) = read_and_recount(server, org_id, &CustomerQuery::default()).await;
            assert_eq!(all, all_recount);
        }
        let field_id = |key: &'static str| async move {
            list_fields(db, org_id).await.unwrap().into_iter().find(|stored| stored.field.key == key).map(|stored| stored.id)
        };
        let queue_id = field_id("queue").await.expect("queue");
        let values_before = count(db, "SELECT COUNT(*) FROM conversation_field_values WHERE org_id = $1", org_id).await;

        let deleted = delete_field(db, org_id, "queue").await.expect("delete").expect("the field existed");
        assert_eq!(deleted, DeletedField { values: 30, options: 2 });
        assert_eq!(delete_field(db, org_id, "queue").await.expect("delete again"), None);
        let keys: Vec<String> = list_fields(db, org_id).await.unwrap().into_iter().map(|stored| stored.field.key).collect();
        assert_eq!(keys, vec!["product"]);
        assert_eq!(count(db, "SELECT COUNT(*) FROM conversation_field_values WHERE org_id = $1", org_id).await, values_before - 30);
        assert_eq!(count(db, "SELECT COUNT(*) FROM custom_field_options WHERE org_id = $1", org_id).await, 0);

        // A new field takes the key, and on SQLite the deleted field's id as well; its values
        // are written before either read model catches up. A model that kept the old column
        // would count the old "Billing" values under the new field.
        define(db, org_id, "note", FieldKind::Text, &[], 1).await;
        let noted = with(conversation("n1", "cust-new", 3, Some(5_000)), "note", "billing dispute");
        write_conversations(db, org_id, &[noted]).await.expect("write with the new field");
        if db.backend() == app::db::Backend::Sqlite {
            assert_eq!(field_id("note").await, Some(queue_id), "SQLite gives the new field the deleted one's id");
        }

        for server in [(db, &mine), (&other, &theirs)] {
            // The deleted key is dropped from the view, leniently; the figures are a recount's.
            let (page, applied, recount) = read_and_recount(server, org_id, &billing_and_router).await;
            assert_eq!(applied, CustomerQuery::default().with_filter("product", "router"));
            assert_eq!(page, recount);
            let (product_only, _, _) = read_and_recount(server, org_id, &applied).await;
            assert_eq!(page, product_only);

            let strict = resolve_question(server.0, org_id, chrono_tz::UTC, &billing_and_router, Strictness::Strict).await;
            assert!(matches!(strict, Err(QuestionError::Refused(ref message)) if message.contains("no custom field `queue`")));

            let (noted, _, noted_recount) = read_and_recount(server, org_id, &CustomerQuery::default().with_filter("note", "billing")).await;
            assert_eq!(noted, noted_recount);
            assert_eq!(identifiers(&noted), vec!["cust-new"]);

            let (all, _, all_recount) = read_and_recount(server, org_id, &CustomerQuery::default()).await;
            assert_eq!(all, all_recount);
            assert_eq!(all.total, 8);
        }
        other.close().await;
    }
}

/// The URL of the database `db` is on, for a second pool: the test support keeps it beside the
/// pool, which the macro's body does not see, so it is asked of the database itself.
async fn test_db_url(db: &Db) -> String {
    match db.backend() {
        app::db::Backend::Sqlite => {
            #[derive(sqlx::FromRow)]
            struct FileRow {
                file: String,
            }
            let row: FileRow = db
                .fetch_optional(
                    &Sql::new("SELECT file FROM pragma_database_list WHERE name = 'main'"),
                    "finding the database file",
                )
                .await
                .expect("database list")
                .expect("main database");
            format!("sqlite://{}", row.file)
        }
        app::db::Backend::Postgres => {
            let name: String = db
                .scalar(
                    &Sql::new("SELECT current_database()::text"),
                    "naming the database",
                )
                .await
                .expect("database name");
            let admin = support::postgres_admin_url();
            let (server, _) = admin.rsplit_once('/').expect("admin URL names a database");
            format!("{server}/{name}")
        }
    }
}
