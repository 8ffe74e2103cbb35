//! The criteria breakdown (issue 27, item 2) on SQLite and PostgreSQL: each criterion's
//! figures over a customer's (or a representative's) matching conversations and over the
//! organisation's, exact against a plain GROUP BY under every kind of condition (period,
//! channel, representative, custom field); the order (weakest against the organisation first,
//! unscored criteria last); and the history sorted by one criterion.
#![cfg(feature = "ssr")]

mod support;

use app::conversations::model::Channel;
use app::conversations::store::{write_conversations, NewConversation};
use app::criteria::breakdown::CriterionFigures;
use app::criteria::breakdown_store::{criteria_breakdown, history_by_criterion, Subject};
use app::criteria::store::list_criteria;
use app::customers::query::CustomerQuery;
use app::customers::service::{history_page, resolve_question, Question, Strictness};
use app::customers::store::find_customer_id;
use app::db::Db;
use app::orgs::model::{CustomField, FieldKind};
use app::orgs::store::{create_organisation, define_field, find_user_id};
use support::criteria::{
    assert_breakdowns_exact, assert_figures_exact, define_criterion, plain_criterion_sums,
    score_criterion, Only,
};
use support::{conversation, ConversationExt};

const DAY_MS: i64 = 86_400_000;
/// 2026-01-01T00:00:00Z.
const JAN_1: i64 = 1_767_225_600_000;
const CUSTOMERS: [&str; 3] = ["ann", "bob", "cat"];
const CRITERIA: [&str; 4] = ["greeting", "discovery", "resolution", "empathy"];
const ADA: &str = "ada@example.com";

/// 60 conversations of three customers over 20 days of January: some unscored (their
/// criteria never count), voice and chat, two queues, two representatives; criteria scored,
/// marked not applicable, or left unscored in patterns that differ per criterion; `empathy`
/// never scored.
async fn dataset(db: &Db) -> i64 {
    let mut tx = db.begin().await.expect("begin");
    let org_id = create_organisation(&mut tx, "criteria", "Criteria", "UTC")
        .await
        .expect("org");
    let queue = CustomField {
        key: "queue".to_owned(),
        label: "Queue".to_owned(),
        kind: FieldKind::Select,
        options: vec!["Billing".to_owned(), "Technical".to_owned()],
    };
    define_field(&mut tx, org_id, &queue, 0)
        .await
        .expect("field");
    tx.commit().await.expect("commit");
    for (position, key) in CRITERIA.iter().enumerate() {
        define_criterion(db, org_id, key, position as i64).await;
    }
    let rows: Vec<NewConversation> = (0..60_i64)
        .map(|n| {
            let base = conversation(
                &format!("c{n}"),
                CUSTOMERS[(n % 3) as usize],
                JAN_1 + (n % 20) * DAY_MS + n * 60_000,
                (n % 11 != 0).then_some(4_000 + n * 97),
            )
            .field("queue", if n % 5 == 0 { "Technical" } else { "Billing" });
            let base = if n % 2 == 0 { base.by(ADA) } else { base };
            NewConversation {
                channel: if n % 4 == 0 {
                    Channel::Voice
                } else {
                    Channel::Chat
                },
                ..base
            }
        })
        .collect();
    write_conversations(db, org_id, &rows).await.expect("write");
    for n in 0..60_i64 {
        let id = format!("c{n}");
        let greeting = (n % 7 != 0).then_some((n * 37 % 101) * 99);
        score_criterion(db, org_id, &id, "greeting", greeting).await;
        if n % 3 != 1 {
            score_criterion(db, org_id, &id, "discovery", Some(10_000 - n * 131)).await;
        }
        if n % 2 == 0 {
            let resolution = (n % 8 != 0).then_some(2_000 + n * 113);
            score_criterion(db, org_id, &id, "resolution", resolution).await;
        }
    }
    org_id
}

async fn question(db: &Db, org_id: i64, url: &str) -> Question {
    let query = CustomerQuery::from_query_string(url);
    resolve_question(db, org_id, chrono_tz::UTC, &query, Strictness::Strict)
        .await
        .expect("question")
}

/// What a view's URL asks of the plain sums.
fn only_of(url: &str) -> Only<'static> {
    let mut only = Only::default();
    for part in url.split('&').filter(|part| !part.is_empty()) {
        match part.split_once('=') {
            Some(("from", "2026-01-05")) => only.from_ms = Some(JAN_1 + 4 * DAY_MS),
            Some(("to", "2026-01-14")) => only.until_ms = Some(JAN_1 + 14 * DAY_MS),
            Some(("type", "voice")) => only.channel = Some("voice"),
            Some(("rep", ADA)) => only.representative = Some(ADA),
            Some(("f.queue", "Billing")) => only.queue = Some("Billing"),
            Some(("f.queue", "Technical")) => only.queue = Some("Technical"),
            None => {}
            Some(other) => panic!("the test's URLs say no {other:?}"),
        }
    }
    only
}

/// The views every check runs under.
const VIEWS: [&str; 6] = [
    "",
    "from=2026-01-05&to=2026-01-14",
    "type=voice",
    "rep=ada@example.com",
    "f.queue=Billing",
    "from=2026-01-05&type=voice&f.queue=Technical",
];

on_both_backends! {
    async fn each_customer_breakdown_is_exact_under_every_condition(db: &Db) {
        let org_id = dataset(db).await;
        for url in VIEWS {
            assert_breakdowns_exact(db, org_id, url, &only_of(url)).await;
        }
    }

    async fn a_representative_breakdown_is_against_every_representative(db: &Db) {
        let org_id = dataset(db).await;
        let ada = find_user_id(db, org_id, ADA).await.expect("find").expect("ada");
        for url in ["", "type=voice", "f.queue=Billing"] {
            let question = question(db, org_id, url).await;
            let only = only_of(url);
            let figures = criteria_breakdown(db, org_id, Subject::Representative(ada), &question.conditions)
                .await
                .expect("breakdown");
            let subject = plain_criterion_sums(db, org_id, &Only { representative: Some(ADA), ..only.clone() }).await;
            let organisation = plain_criterion_sums(db, org_id, &only).await;
            let criteria = CRITERIA.map(str::to_owned);
            assert_figures_exact(&figures, &criteria, &subject, &organisation, &format!("ada under {url:?}"));
        }
    }

    async fn the_weakest_against_the_organisation_come_first(db: &Db) {
        let org_id = dataset(db).await;
        let question = question(db, org_id, "").await;
        for customer in CUSTOMERS {
            let customer_id = find_customer_id(db, org_id, customer).await.expect("find").expect("a customer");
            let figures = criteria_breakdown(db, org_id, Subject::Customer(customer_id), &question.conditions)
                .await
                .expect("breakdown");
            let differences: Vec<Option<f64>> =
                figures.iter().map(CriterionFigures::against_organisation).collect();
            // Scored criteria in ascending difference, then the unscored, empathy last.
            let scored = differences.iter().take_while(|d| d.is_some()).count();
            assert!(scored >= 2, "{customer}: {differences:?}");
            assert!(differences[scored..].iter().all(Option::is_none), "{customer}: {differences:?}");
            let values: Vec<f64> = differences[..scored].iter().flatten().copied().collect();
            assert!(values.windows(2).all(|w| w[0] <= w[1]), "{customer}: {differences:?}");
            let last = figures.last().expect("rows");
            assert_eq!((last.criterion.key.as_str(), last.subject.scored, last.organisation.scored), ("empathy", 0, 0));
        }
        // The organisation's criteria, in their order: what the API's tag reads.
        let keys: Vec<String> = list_criteria(db, org_id).await.expect("criteria").into_iter().map(|c| c.key).collect();
        assert_eq!(keys, CRITERIA);
    }

    async fn a_history_sorted_by_a_criterion_is_lowest_first_with_the_unscored_last(db: &Db) {
        let org_id = dataset(db).await;
        let question = question(db, org_id, "f.queue=Billing").await;
        let customer_id = find_customer_id(db, org_id, "ann").await.expect("find").expect("ann");
        let criteria = list_criteria(db, org_id).await.expect("criteria");
        let resolution = criteria.iter().find(|c| c.key == "resolution").expect("resolution").id;
        let newest = history_page(db, org_id, customer_id, &question, 1, 1_000).await.expect("history");
        // Pages of 3, read from either end, make one order with every conversation once.
        let mut sorted = Vec::new();
        let mut page = 1;
        loop {
            let rows = history_by_criterion(db, org_id, customer_id, &question.conditions, resolution, page, 3)
                .await
                .expect("sorted history");
            assert_eq!(rows.total, newest.total);
            sorted.extend(rows.rows);
            if page >= rows.page_count {
                break;
            }
            page += 1;
        }
        assert_eq!(sorted.len() as i64, newest.total);
        let mut ids: Vec<i64> = sorted.iter().map(|r| r.record.id).collect();
        ids.sort_unstable();
        let mut expected: Vec<i64> = newest.rows.iter().map(|r| r.id).collect();
        expected.sort_unstable();
        assert_eq!(ids, expected);
        let scores: Vec<Option<i64>> = sorted.iter().map(|r| r.criterion_score).collect();
        let scored = scores.iter().take_while(|s| s.is_some()).count();
        assert!(scored > 0 && scored < scores.len(), "{scores:?}");
        assert!(scores[scored..].iter().all(Option::is_none), "{scores:?}");
        assert!(scores[..scored].windows(2).all(|w| w[0] <= w[1]), "{scores:?}");
        // Among the unscored, the newest first.
        let unscored: Vec<i64> = sorted[scored..].iter().map(|r| r.record.occurred_at_ms).collect();
        assert!(unscored.windows(2).all(|w| w[0] >= w[1]), "{unscored:?}");
    }
}
