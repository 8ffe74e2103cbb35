//! Store tests: every scenario runs on SQLite and on PostgreSQL, and both must agree with
//! the rules of the Customers page.
#![cfg(feature = "ssr")]

mod support;

use support::ConversationExt;

use app::conversations::store::{find_conversation, write_conversations, NewConversation};
use app::customers::query::{CustomerQuery, SortDir, SortKey, HISTORY_PAGE_SIZE, PAGE_SIZE};
use app::customers::read_model::ReadModels;
use app::customers::store::{
    customers_page, history_page, resolve_filters, Conditions, CustomerSummary,
};
use app::db::Db;
use app::orgs::model::{CustomField, FieldKind};
use app::orgs::store::{create_organisation, define_field, list_fields};
use app::page::Page;
use app::representatives::store::{representative_profile, representatives_with_conversations};

fn ms(rfc3339: &str) -> i64 {
    chrono_like(rfc3339)
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ` without pulling chrono into the tests' dependencies.
fn chrono_like(text: &str) -> i64 {
    let (date, time) = text
        .trim_end_matches('Z')
        .split_once('T')
        .expect("date and time");
    let parts: Vec<i64> = date
        .split('-')
        .map(|p| p.parse().expect("date part"))
        .collect();
    let clock: Vec<i64> = time
        .split(':')
        .map(|p| p.parse().expect("time part"))
        .collect();
    let (y, m, d) = (parts[0], parts[1], parts[2]);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    ((days * 24 + clock[0]) * 60 + clock[1]) * 60_000 + clock[2] * 1000
}

fn conversation(
    external_id: &str,
    customer: &str,
    at: &str,
    score: Option<f64>,
) -> NewConversation {
    support::conversation(
        external_id,
        customer,
        ms(at),
        score.map(|s| (s * 100.0).round() as i64),
    )
    .by_name("Rita Rep")
}

async fn organisation(db: &Db, slug: &str) -> i64 {
    let mut tx = db.begin().await.expect("begin");
    let org_id = create_organisation(&mut tx, slug, "Test Org", "Europe/London")
        .await
        .expect("org");
    let fields = [
        CustomField {
            key: "queue".to_owned(),
            label: "Queue".to_owned(),
            kind: FieldKind::Select,
            options: vec!["Billing".to_owned(), "Technical".to_owned()],
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
    org_id
}

async fn page(db: &Db, org_id: i64, query: &CustomerQuery) -> Page<CustomerSummary> {
    let fields = list_fields(db, org_id).await.expect("fields");
    let filters = resolve_filters(query, &fields);
    customers_page(
        db,
        &ReadModels::default(),
        org_id,
        query,
        &Conditions::from(filters),
        PAGE_SIZE,
    )
    .await
    .expect("customer page")
}

fn identifiers(data: &Page<CustomerSummary>) -> Vec<&str> {
    data.rows
        .iter()
        .map(|row| row.identifier.as_str())
        .collect()
}

/// A small organisation exercising every rule of the page.
async fn standard_dataset(db: &Db) -> i64 {
    let org_id = organisation(db, "acme").await;
    let batch = vec![
        // ann: 3 scored, 1 unscored
        conversation("a1", "ann@example.com", "2026-01-10T09:00:00Z", Some(80.0))
            .named("Ann Archer")
            .field("queue", "Billing"),
        conversation("a2", "ann@example.com", "2026-02-10T09:00:00Z", Some(90.0))
            .field("queue", "Technical")
            .field("product", "Router X200"),
        conversation("a3", "ann@example.com", "2026-03-10T09:00:00Z", Some(70.5))
            .field("queue", "Billing")
            .field("product", "Mesh Pro"),
        conversation("a4", "ann@example.com", "2026-04-10T09:00:00Z", None)
            .field("queue", "Billing"),
        // zoë: 2 scored, unicode name
        conversation("z1", "+44 7700 900123", "2025-12-01T12:00:00Z", Some(95.0))
            .named("Zoë Ångström")
            .field("queue", "Technical"),
        conversation("z2", "+44 7700 900123", "2026-05-01T12:00:00Z", Some(85.25))
            .field("product", "router x100"),
        // bob: 2 scored (ties with zoë on interactions)
        conversation("b1", "bob@example.com", "2026-01-01T08:00:00Z", Some(60.0))
            .named("Bob 100%_\\ Ltd"),
        conversation("b2", "bob@example.com", "2026-01-02T08:00:00Z", Some(65.0)),
        // uma: only unscored conversations: never shown
        conversation("u1", "uma@example.com", "2026-01-05T08:00:00Z", None).named("Uma Unscored"),
        // ACC: 1 scored; upper-case identifiers sort before lower-case in byte order
        conversation("c1", "ACC-000123", "2026-06-01T08:00:00Z", Some(100.0)).named("Contoso"),
    ];
    write_conversations(db, org_id, &batch)
        .await
        .expect("write");
    org_id
}

on_both_backends! {
    async fn only_scored_conversations_count(db: &Db) {
        let org_id = standard_dataset(db).await;
        let data = page(db, org_id, &CustomerQuery::default()).await;
        assert_eq!(data.total, 4, "uma has no scored conversation and is not shown");
        let ann = data.rows.iter().find(|r| r.identifier == "ann@example.com").expect("ann");
        assert_eq!(ann.interactions, 3);
        assert_eq!(ann.first_ms, ms("2026-01-10T09:00:00Z"));
        assert_eq!(ann.latest_ms, ms("2026-03-10T09:00:00Z"), "the unscored April conversation does not count");
        assert_eq!(ann.score_sum, 8000 + 9000 + 7050);
        assert_eq!(ann.display_name.as_deref(), Some("Ann Archer"));
    }

    async fn the_default_sort_is_interactions_descending_with_identifier_tie_break(db: &Db) {
        let org_id = standard_dataset(db).await;
        let data = page(db, org_id, &CustomerQuery::default()).await;
        // zoë ("+44…") and bob tie on 2: byte order puts '+' before 'b'.
        assert_eq!(identifiers(&data), vec!["ann@example.com", "+44 7700 900123", "bob@example.com", "ACC-000123"]);
    }

    async fn every_sort_works_in_both_directions(db: &Db) {
        let org_id = standard_dataset(db).await;
        let sorted = |sort, dir| CustomerQuery { sort, dir, ..CustomerQuery::default() };
        let cases = [
            (SortKey::Interactions, SortDir::Asc, vec!["ACC-000123", "+44 7700 900123", "bob@example.com", "ann@example.com"]),
            (SortKey::First, SortDir::Desc, vec!["ACC-000123", "ann@example.com", "bob@example.com", "+44 7700 900123"]),
            (SortKey::First, SortDir::Asc, vec!["+44 7700 900123", "bob@example.com", "ann@example.com", "ACC-000123"]),
            (SortKey::Latest, SortDir::Desc, vec!["ACC-000123", "+44 7700 900123", "ann@example.com", "bob@example.com"]),
            (SortKey::Latest, SortDir::Asc, vec!["bob@example.com", "ann@example.com", "+44 7700 900123", "ACC-000123"]),
            (SortKey::Score, SortDir::Desc, vec!["ACC-000123", "+44 7700 900123", "ann@example.com", "bob@example.com"]),
            (SortKey::Score, SortDir::Asc, vec!["bob@example.com", "ann@example.com", "+44 7700 900123", "ACC-000123"]),
        ];
        for (sort, dir, expected) in cases {
            let data = page(db, org_id, &sorted(sort, dir)).await;
            assert_eq!(identifiers(&data), expected, "{sort:?} {dir:?}");
        }
    }

    async fn search_is_case_insensitive_unicode_and_literal(db: &Db) {
        let org_id = standard_dataset(db).await;
        let search = |text: &str| CustomerQuery { search: text.to_owned(), ..CustomerQuery::default() };
        assert_eq!(identifiers(&page(db, org_id, &search("ZOË")).await), vec!["+44 7700 900123"]);
        assert_eq!(identifiers(&page(db, org_id, &search("ångSTRÖM")).await), vec!["+44 7700 900123"]);
        assert_eq!(identifiers(&page(db, org_id, &search("EXAMPLE")).await), vec!["ann@example.com", "bob@example.com"]);
        assert_eq!(identifiers(&page(db, org_id, &search("7700 900")).await), vec!["+44 7700 900123"]);
        assert_eq!(identifiers(&page(db, org_id, &search("100%_\\")).await), vec!["bob@example.com"]);
        assert!(page(db, org_id, &search("%")).await.rows.iter().all(|r| r.identifier == "bob@example.com"));
        assert!(page(db, org_id, &search("_")).await.rows.iter().all(|r| r.identifier == "bob@example.com"));
        assert_eq!(page(db, org_id, &search("uma")).await.total, 0, "unscored customers are not found either");
        assert_eq!(page(db, org_id, &search("nobody")).await.total, 0);
    }

    async fn filters_narrow_customers_and_their_aggregates(db: &Db) {
        let org_id = standard_dataset(db).await;
        let billing = CustomerQuery::default().with_filter("queue", "Billing");
        let data = page(db, org_id, &billing).await;
        assert_eq!(identifiers(&data), vec!["ann@example.com"]);
        let ann = &data.rows[0];
        assert_eq!((ann.interactions, ann.score_sum), (2, 8000 + 7050), "only matching scored conversations count");
        assert_eq!(ann.latest_ms, ms("2026-03-10T09:00:00Z"));

        // Text filters: case-insensitive "contains".
        let router = CustomerQuery::default().with_filter("product", "ROUTER");
        assert_eq!(identifiers(&page(db, org_id, &router).await), vec!["+44 7700 900123", "ann@example.com"]);

        // Two filters must hold for the same conversation.
        let both = billing.with_filter("product", "mesh");
        let data = page(db, org_id, &both).await;
        assert_eq!(identifiers(&data), vec!["ann@example.com"]);
        assert_eq!(data.rows[0].interactions, 1);
        let none = CustomerQuery::default().with_filter("queue", "Technical").with_filter("product", "mesh");
        assert_eq!(page(db, org_id, &none).await.total, 0, "ann's Technical and Mesh conversations are different ones");

        // Unknown fields and options are ignored, as the page shows them.
        let unknown = CustomerQuery::default().with_filter("colour", "red").with_filter("queue", "Nope");
        assert_eq!(page(db, org_id, &unknown).await.total, 4);
    }

    async fn the_history_lists_counted_conversations_newest_first(db: &Db) {
        let org_id = standard_dataset(db).await;
        let data = page(db, org_id, &CustomerQuery::default()).await;
        let ann_id = data.rows.iter().find(|r| r.identifier == "ann@example.com").expect("ann").id;
        let history = history_page(db, org_id, ann_id, &Conditions::default(), 1, HISTORY_PAGE_SIZE).await.expect("history");
        assert_eq!(history.total, 3);
        let titles: Vec<&str> = history.rows.iter().map(|r| r.title.as_str()).collect();
        assert_eq!(titles, vec!["Conversation a3", "Conversation a2", "Conversation a1"]);
        assert_eq!(history.rows[0].representative_name, "Rita Rep");

        let fields = list_fields(db, org_id).await.expect("fields");
        let billing = resolve_filters(&CustomerQuery::default().with_filter("queue", "Billing"), &fields);
        let filtered = history_page(db, org_id, ann_id, &Conditions::from(billing), 1, HISTORY_PAGE_SIZE).await.expect("filtered history");
        let titles: Vec<&str> = filtered.rows.iter().map(|r| r.title.as_str()).collect();
        assert_eq!(titles, vec!["Conversation a3", "Conversation a1"], "the history agrees with the filtered row");
    }

    async fn pages_hold_thirty_and_never_overlap(db: &Db) {
        let org_id = organisation(db, "big").await;
        // 65 customers, many tied on interactions and score, so only the tie-break orders them.
        let batch: Vec<NewConversation> = (0..65)
            .map(|i| conversation(&format!("p{i}"), &format!("customer-{:02}", (i * 37) % 65), "2026-01-01T00:00:00Z", Some(75.0)))
            .collect();
        write_conversations(db, org_id, &batch).await.expect("write");
        let mut seen = Vec::new();
        for number in 1..=3 {
            let data = page(db, org_id, &CustomerQuery::default().with_page(number)).await;
            assert_eq!(data.page_count, 3);
            assert_eq!(data.rows.len(), if number < 3 { 30 } else { 5 });
            seen.extend(data.rows.into_iter().map(|r| r.identifier));
        }
        let expected: Vec<String> = (0..65).map(|i| format!("customer-{i:02}")).collect();
        assert_eq!(seen, expected, "every customer once, in identifier order");
        let past_end = page(db, org_id, &CustomerQuery::default().with_page(99)).await;
        assert_eq!((past_end.page, past_end.rows.len()), (3, 5), "a page past the end shows the last page");

        let mut history_batch = Vec::new();
        for i in 0..19 {
            history_batch.push(conversation(&format!("h{i}"), "customer-00", &format!("2026-02-{:02}T10:00:00Z", i + 1), Some(50.0)));
        }
        write_conversations(db, org_id, &history_batch).await.expect("write history");
        let customer_id = page(db, org_id, &CustomerQuery::default()).await.rows[0].id;
        let last = history_page(db, org_id, customer_id, &Conditions::default(), 3, HISTORY_PAGE_SIZE).await.expect("history page 3");
        assert_eq!((last.total, last.page_count, last.rows.len()), (20, 3, 4));
        let clamped = history_page(db, org_id, customer_id, &Conditions::default(), 50, HISTORY_PAGE_SIZE).await.expect("history past end");
        assert_eq!(clamped.page, 3);
    }

    async fn organisations_never_see_each_other(db: &Db) {
        let acme = standard_dataset(db).await;
        let other = organisation(db, "globex").await;
        write_conversations(db, other, &[conversation("a1", "ann@example.com", "2026-01-01T00:00:00Z", Some(10.0)).named("Other Ann")])
            .await
            .expect("write other");
        let acme_page = page(db, acme, &CustomerQuery::default()).await;
        let other_page = page(db, other, &CustomerQuery::default()).await;
        assert_eq!(acme_page.total, 4);
        assert_eq!(other_page.total, 1);
        assert_eq!(other_page.rows[0].display_name.as_deref(), Some("Other Ann"));
        // The same external id in two organisations is two conversations.
        let ann = acme_page.rows.iter().find(|r| r.identifier == "ann@example.com").expect("ann");
        assert_eq!(ann.interactions, 3);
        // Ids from another organisation are not found.
        let acme_history = history_page(db, acme, ann.id, &Conditions::default(), 1, HISTORY_PAGE_SIZE).await.expect("history");
        let leaked = history_page(db, other, ann.id, &Conditions::default(), 1, HISTORY_PAGE_SIZE).await.expect("history in other org");
        assert_eq!(leaked.total, 0);
        let conversation_id = acme_history.rows[0].id;
        assert!(find_conversation(db, acme, conversation_id).await.expect("find").is_some());
        assert!(find_conversation(db, other, conversation_id).await.expect("find").is_none());
        let rep = acme_history.rows[0].representative_id;
        assert!(representative_profile(db, acme, rep, 1).await.expect("rep").is_some());
        assert!(representative_profile(db, other, rep, 1).await.expect("rep").is_none());
    }

    async fn rewriting_a_conversation_updates_it(db: &Db) {
        let org_id = standard_dataset(db).await;
        let again = conversation("a1", "ann@example.com", "2026-01-10T09:00:00Z", Some(40.0)).field("queue", "Technical");
        write_conversations(db, org_id, &[again.clone(), again]).await.expect("rewrite");
        let data = page(db, org_id, &CustomerQuery::default()).await;
        let ann = data.rows.iter().find(|r| r.identifier == "ann@example.com").expect("ann");
        assert_eq!((ann.interactions, ann.score_sum), (3, 4000 + 9000 + 7050));
        assert_eq!(ann.display_name.as_deref(), Some("Ann Archer"), "a missing name keeps the stored one");
        let billing = page(db, org_id, &CustomerQuery::default().with_filter("queue", "Billing")).await;
        assert_eq!(billing.rows[0].interactions, 1, "field values were replaced, not added");
    }

    async fn a_bad_batch_writes_nothing(db: &Db) {
        let org_id = standard_dataset(db).await;
        let before = page(db, org_id, &CustomerQuery::default()).await;
        let batch = vec![
            conversation("n1", "new@example.com", "2026-01-01T00:00:00Z", Some(50.0)),
            conversation("n2", "new@example.com", "2026-01-01T00:00:00Z", Some(50.0)).field("no_such_field", "x"),
        ];
        assert!(write_conversations(db, org_id, &batch).await.is_err());
        let out_of_range = vec![conversation("n3", "new@example.com", "2026-01-01T00:00:00Z", Some(101.0))];
        assert!(write_conversations(db, org_id, &out_of_range).await.is_err());
        assert_eq!(page(db, org_id, &CustomerQuery::default()).await, before);
    }

    async fn representative_profiles_count_scored_conversations(db: &Db) {
        let org_id = standard_dataset(db).await;
        write_conversations(db, org_id, &[conversation("r1", "ann@example.com", "2026-07-01T00:00:00Z", Some(50.0)).by("sam@example.com")])
            .await
            .expect("write");
        let data = page(db, org_id, &CustomerQuery::default()).await;
        let ann_id = data.rows.iter().find(|r| r.identifier == "ann@example.com").expect("ann").id;
        let newest = history_page(db, org_id, ann_id, &Conditions::default(), 1, HISTORY_PAGE_SIZE).await.expect("history");
        let sam = newest.rows[0].representative_id;
        let (record, conversations) = representative_profile(db, org_id, sam, 1).await.expect("profile").expect("sam");
        assert_eq!((record.scored, record.score_sum, record.total), (1, 5000, 1));
        assert_eq!(record.email, "sam@example.com");
        assert_eq!(conversations.rows.len(), 1);
    }

    async fn the_representative_filter_lists_people_with_conversations_at_the_latest_write(db: &Db) {
        let org_id = standard_dataset(db).await;
        let models = ReadModels::default();
        let listed = || async {
            representatives_with_conversations(db, &models, org_id)
                .await
                .expect("representatives")
                .into_iter()
                .map(|option| option.email)
                .collect::<Vec<_>>()
        };
        assert_eq!(listed().await, vec!["rep@example.com"]);
        // Sam takes over one conversation: both are listed, by name.
        let moved = conversation("c1", "ACC-000123", "2026-06-01T08:00:00Z", Some(100.0))
            .named("Contoso")
            .by("sam@example.com");
        write_conversations(db, org_id, &[moved]).await.expect("move to sam");
        assert_eq!(listed().await, vec!["rep@example.com", "sam@example.com"]);
        // It goes back: Sam is still a person of the organisation, but has no conversation.
        let back = conversation("c1", "ACC-000123", "2026-06-01T08:00:00Z", Some(100.0)).named("Contoso");
        write_conversations(db, org_id, &[back]).await.expect("move back");
        assert_eq!(listed().await, vec!["rep@example.com"]);
    }
}
