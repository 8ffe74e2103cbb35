//! The read model's memory, on SQLite and PostgreSQL: rewrites leave nothing behind, many
//! organisations stay within the budget by eviction (and are answered exactly throughout),
//! and an organisation larger than the whole budget is answered from SQL, exactly.
#![cfg(feature = "ssr")]

mod support;

use app::conversations::store::{write_conversations, NewConversation};
use app::customers::query::CustomerQuery;
use app::customers::read_model::ReadModels;
use app::customers::service::{customers_page, resolve_question, Strictness};
use app::customers::store::grouped_page;
use app::db::Db;
use app::orgs::model::{CustomField, FieldKind};
use app::orgs::store::{create_organisation, define_field};
use support::{conversation, ConversationExt};

const START_MS: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const ALL: u32 = 10_000;

async fn organisation(db: &Db, slug: &str) -> i64 {
    let mut tx = db.begin().await.expect("begin");
    let org_id = create_organisation(&mut tx, slug, slug, "UTC")
        .await
        .expect("org");
    let note = CustomField {
        key: "note".to_owned(),
        label: "Note".to_owned(),
        kind: FieldKind::Text,
        options: Vec::new(),
    };
    define_field(&mut tx, org_id, &note, 0)
        .await
        .expect("field");
    tx.commit().await.expect("commit");
    org_id
}

/// `count` conversations over 50 customers, each with a note of 500 characters that
/// `round` makes new.
fn conversations(count: usize, round: usize) -> Vec<NewConversation> {
    (0..count)
        .map(|n| {
            let note = format!("round {round} note {n} {}", "x".repeat(480));
            conversation(
                &format!("c{n}"),
                &format!("cust-{:02}", n % 50),
                START_MS + n as i64 * 60_000,
                Some(((n * 37) % 10_001) as i64),
            )
            .field("note", &note)
        })
        .collect()
}

/// The default page from `models`, checked against the plain GROUP BY.
async fn assert_exact(db: &Db, models: &ReadModels, org_id: i64, query: &CustomerQuery) {
    let question = resolve_question(db, org_id, chrono_tz::UTC, query, Strictness::Strict)
        .await
        .expect("question");
    let page = customers_page(db, models, org_id, &question, ALL)
        .await
        .expect("page");
    let recount = grouped_page(db, org_id, &question.applied, &question.conditions, ALL)
        .await
        .expect("grouped page");
    assert_eq!(page, recount, "org {org_id}: {query:?}");
}

on_both_backends! {
    async fn rewriting_the_same_conversations_with_new_values_holds_no_more_memory(db: &Db) {
        let org_id = organisation(db, "rewrites").await;
        let models = ReadModels::default();
        let searched = CustomerQuery::default().with_filter("note", "round 49");
        let mut most = 0;
        for round in 0..50 {
            write_conversations(db, org_id, &conversations(1_000, round)).await.expect("write");
            assert_exact(db, &models, org_id, &CustomerQuery::default()).await;
            most = most.max(models.held_bytes_of(org_id));
        }
        assert_exact(db, &models, org_id, &searched).await;
        let held = models.held_bytes_of(org_id);

        // The same rows loaded afresh by another server.
        let fresh = ReadModels::default();
        assert_exact(db, &fresh, org_id, &CustomerQuery::default()).await;
        assert_exact(db, &fresh, org_id, &searched).await;
        let loaded = fresh.held_bytes_of(org_id);
        assert!(loaded > 500_000, "a thousand notes of 500 characters are held: {loaded}");
        assert!(
            held * 2 <= loaded * 3 && most * 2 <= loaded * 3,
            "after 50 rounds of rewrites {held} bytes are held (at most {most}), {loaded} when loaded afresh"
        );
    }

    async fn many_organisations_stay_within_the_budget_and_exact(db: &Db) {
        let mut orgs = Vec::new();
        for n in 0..12 {
            let org_id = organisation(db, &format!("tenant-{n}")).await;
            write_conversations(db, org_id, &conversations(200 + n * 10, n)).await.expect("write");
            orgs.push(org_id);
        }
        // Room for three or four of these organisations at a time.
        let probe = ReadModels::default();
        assert_exact(db, &probe, orgs[11], &CustomerQuery::default()).await;
        let one = probe.held_bytes_of(orgs[11]);
        let budget = one * 7 / 2;
        let models = ReadModels::new(budget);
        for round in 0..3 {
            for (n, org_id) in orgs.iter().enumerate() {
                assert_exact(db, &models, *org_id, &CustomerQuery::default()).await;
                if (n + round) % 4 == 0 {
                    // A write between questions: the next load of this organisation sees it.
                    let changed = vec![conversation("late", "cust-late", START_MS, Some(9_000)).by("late@example.com")];
                    write_conversations(db, *org_id, &changed).await.expect("write");
                }
                assert!(
                    models.held_bytes() <= budget,
                    "{} bytes held in a budget of {budget}",
                    models.held_bytes()
                );
            }
        }
        let activity = models.activity();
        assert!(models.loaded().len() < orgs.len(), "not every organisation is held");
        assert!(activity.evictions > 0, "{activity:?}");
        assert_eq!(activity.answered_from_sql, 0, "each fits alone: {activity:?}");
    }

    async fn an_organisation_larger_than_the_budget_is_answered_from_sql(db: &Db) {
        let org_id = organisation(db, "large").await;
        write_conversations(db, org_id, &conversations(300, 0)).await.expect("write");
        let models = ReadModels::new(4 * 1024);
        for query in [
            CustomerQuery::default(),
            CustomerQuery::default().with_filter("note", "note 1").with_search("cust-1"),
        ] {
            assert_exact(db, &models, org_id, &query).await;
        }
        assert_eq!(models.held_bytes(), 0);
        assert!(models.activity().answered_from_sql >= 2);
        let people = app::representatives::store::representatives_with_conversations(db, &models, org_id)
            .await
            .expect("representatives");
        assert_eq!(people.len(), 1);
    }
}
