//! The Change column (issue 27, items 3 and 4) on SQLite and PostgreSQL: each customer's
//! figures over the previous period under the same other filters, exact against a plain
//! GROUP BY, from the read model and from the SQL path alike; the sort by change (certain
//! changes, then uncertain ones, then the new) and the small-sample marks.
#![cfg(feature = "ssr")]

mod support;

use app::conversations::store::{write_conversations, NewConversation};
use app::customers::query::CustomerQuery;
use app::customers::question::ChangeGroup;
use app::customers::read_model::ReadModels;
use app::customers::service::{customers_page, resolve_question, Question, Strictness};
use app::customers::store::{grouped_page, CustomerSummary};
use app::db::{Db, Sql};
use app::page::Page;
use support::{conversation, organisation_with_queue, ConversationExt};

const DAY_MS: i64 = 86_400_000;
/// 2026-01-01T00:00:00Z: the previous period of 11–20 January is 1–10 January.
const JAN_1: i64 = 1_767_225_600_000;
const ALL: u32 = 10_000;
/// 11–20 January 2026 (UTC), against 1–10 January.
const RANGE: &str = "from=2026-01-11&to=2026-01-20";

/// A conversation `day` days after 1 January (0 is 1 January) at `minute` past midnight,
/// scored `score` points, in the Billing queue unless `technical`.
fn at(
    n: usize,
    customer: &str,
    day: i64,
    minute: i64,
    score: i64,
    technical: bool,
) -> NewConversation {
    conversation(
        &format!("x{n}"),
        customer,
        JAN_1 + day * DAY_MS + minute * 60_000,
        Some(score * 100),
    )
    .field("queue", if technical { "Technical" } else { "Billing" })
}

/// Customers whose averages moved in every way the column shows.
async fn dataset(db: &Db) -> i64 {
    let org_id = organisation_with_queue(db, "change", "UTC").await;
    let mut rows = Vec::new();
    let mut add = |customer: &str, day: i64, minute: i64, score: i64, technical: bool| {
        rows.push(at(rows.len(), customer, day, minute, score, technical));
    };
    // drop: 90, 90, 90 and a Technical 10 before (70), 60 now (3): −10, certain; under the
    // Billing filter 90 before: −30.
    for day in [1, 4, 8] {
        add("drop", day, 0, 90, false);
    }
    add("drop", 9, 0, 10, true);
    for day in [11, 15, 19] {
        add("drop", day, 0, 60, false);
    }
    // rise: 50 before (3), 70 now (4): +20, certain.
    for day in [0, 2, 3] {
        add("rise", day, 0, 50, false);
    }
    for day in [10, 12, 13, 18] {
        add("rise", day, 0, 70, false);
    }
    // small: one conversation before, the last minute of 10 January: +10, uncertain.
    add("small", 9, 24 * 60 - 1, 80, false);
    for day in [14, 15, 16] {
        add("small", day, 0, 90, false);
    }
    // tiny: 80 before (3), two now, the first at midnight of 11 January: −40, uncertain.
    for day in [5, 6, 7] {
        add("tiny", day, 0, 80, false);
    }
    add("tiny", 10, 0, 40, false);
    add("tiny", 17, 0, 40, false);
    // new: nothing before; one conversation a day before the previous period starts.
    add("new", -1, 0, 99, false);
    for day in [11, 12, 13] {
        add("new", day, 0, 75, false);
    }
    // gone: only before, so not listed.
    add("gone", 3, 0, 20, false);
    // flat: 70 both sides, three each, and a conversation after the range.
    for day in [1, 2, 3, 11, 12, 13] {
        add("flat", day, 0, 70, false);
    }
    add("flat", 21, 0, 10, false);
    write_conversations(db, org_id, &rows).await.expect("write");
    org_id
}

async fn question(db: &Db, org_id: i64, url: &str) -> Question {
    let query = CustomerQuery::from_query_string(url);
    resolve_question(db, org_id, chrono_tz::UTC, &query, Strictness::Strict)
        .await
        .expect("question")
}

/// The page from a fresh read model, checked equal to the SQL path's.
async fn page(db: &Db, org_id: i64, url: &str) -> Page<CustomerSummary> {
    let question = question(db, org_id, url).await;
    let models = ReadModels::default();
    let page = customers_page(db, &models, org_id, &question, ALL)
        .await
        .expect("page");
    let grouped = grouped_page(db, org_id, &question.applied, &question.conditions, ALL)
        .await
        .expect("grouped page");
    assert_eq!(page, grouped, "read model against SQL: {url}");
    page
}

fn order(page: &Page<CustomerSummary>) -> Vec<&str> {
    page.rows
        .iter()
        .map(|row| row.identifier.as_str())
        .collect()
}

#[derive(sqlx::FromRow)]
struct Plain {
    identifier: String,
    interactions: i64,
    score_sum: i64,
}

/// Each customer's count and sum in `[from_ms, until_ms)`, by a plain GROUP BY.
async fn plain_sums(
    db: &Db,
    org_id: i64,
    from_ms: i64,
    until_ms: i64,
    queue: Option<&str>,
) -> Vec<(String, i64, i64)> {
    let mut sql = Sql::new(
        "SELECT c.identifier, COUNT(*) AS interactions, \
         CAST(SUM(v.score_hundredths) AS BIGINT) AS score_sum \
         FROM conversations v JOIN customers c ON c.id = v.customer_id",
    );
    if queue.is_some() {
        sql.push(
            " JOIN conversation_field_values f ON f.conversation_id = v.id \
             JOIN custom_fields k ON k.id = f.field_id AND k.key = 'queue'",
        );
    }
    sql.push(" WHERE v.org_id = ")
        .bind(org_id)
        .push(" AND v.score_hundredths IS NOT NULL AND v.occurred_at_ms >= ")
        .bind(from_ms)
        .push(" AND v.occurred_at_ms < ")
        .bind(until_ms);
    if let Some(queue) = queue {
        sql.push(" AND f.value = ").bind(queue);
    }
    sql.push(" GROUP BY c.identifier ORDER BY c.identifier");
    let rows: Vec<Plain> = db.fetch_all(&sql, "plain sums").await.expect("plain sums");
    rows.into_iter()
        .map(|row| (row.identifier, row.interactions, row.score_sum))
        .collect()
}

/// The page's previous-period figures, checked against a plain GROUP BY over 1–10 January.
async fn assert_previous_exact(
    db: &Db,
    org_id: i64,
    page: &Page<CustomerSummary>,
    queue: Option<&str>,
) {
    let current = plain_sums(db, org_id, JAN_1 + 10 * DAY_MS, JAN_1 + 20 * DAY_MS, queue).await;
    let previous = plain_sums(db, org_id, JAN_1, JAN_1 + 10 * DAY_MS, queue).await;
    let mut rows: Vec<&CustomerSummary> = page.rows.iter().collect();
    rows.sort_by(|a, b| a.identifier.cmp(&b.identifier));
    assert_eq!(
        rows.iter()
            .map(|r| (r.identifier.clone(), r.interactions, r.score_sum))
            .collect::<Vec<_>>(),
        current
    );
    for row in rows {
        let (count, sum) = previous
            .iter()
            .find(|(identifier, _, _)| *identifier == row.identifier)
            .map_or((0, 0), |(_, count, sum)| (*count, *sum));
        assert_eq!(
            (row.previous_interactions, row.previous_score_sum),
            (count, sum),
            "{}",
            row.identifier
        );
    }
}

on_both_backends! {
    async fn each_customer_carries_the_previous_period_exactly(db: &Db) {
        let org_id = dataset(db).await;
        let data = page(db, org_id, RANGE).await;
        assert_previous_exact(db, org_id, &data, None).await;
        let figures = |identifier: &str| {
            let row = data.rows.iter().find(|r| r.identifier == identifier).expect(identifier);
            (row.interactions, row.score_sum, row.previous_interactions, row.previous_score_sum)
        };
        assert_eq!(figures("drop"), (3, 18_000, 4, 28_000));
        assert_eq!(figures("rise"), (4, 28_000, 3, 15_000));
        assert_eq!(figures("small"), (3, 27_000, 1, 8_000));
        assert_eq!(figures("tiny"), (2, 8_000, 3, 24_000));
        assert_eq!(figures("new"), (3, 22_500, 0, 0));
        assert_eq!(figures("flat"), (3, 21_000, 3, 21_000));
        assert!(data.rows.iter().all(|r| r.identifier != "gone"));

        // The same other filters count on both sides: the Technical 10 leaves drop's past.
        let billing = page(db, org_id, &format!("{RANGE}&f.queue=Billing")).await;
        assert_previous_exact(db, org_id, &billing, Some("Billing")).await;
        let drop = billing.rows.iter().find(|r| r.identifier == "drop").expect("drop");
        assert_eq!((drop.previous_interactions, drop.previous_score_sum), (3, 27_000));

        // A search narrows the customers, not what their previous period counts.
        let searched = page(db, org_id, &format!("{RANGE}&q=dro")).await;
        assert_eq!(order(&searched), ["drop"]);
        assert_eq!(searched.rows[0].previous_interactions, 4);

        // Without a period to compare, nothing is carried.
        let all = page(db, org_id, "").await;
        assert!(all.rows.iter().all(|r| (r.previous_interactions, r.previous_score_sum) == (0, 0)));
        let open = page(db, org_id, "from=2026-01-11").await;
        assert!(open.rows.iter().all(|r| r.previous_interactions == 0));
    }

    async fn change_sorts_certain_then_uncertain_then_new(db: &Db) {
        let org_id = dataset(db).await;
        // The drops first: drop −10, flat 0, rise +20; then tiny −40, small +10; then new.
        let by_drop = page(db, org_id, &format!("{RANGE}&sort=change")).await;
        assert_eq!(order(&by_drop), ["drop", "flat", "rise", "tiny", "small", "new"]);
        let by_rise = page(db, org_id, &format!("{RANGE}&sort=change&dir=asc")).await;
        assert_eq!(order(&by_rise), ["rise", "flat", "drop", "small", "tiny", "new"]);
        let groups: Vec<ChangeGroup> = by_drop
            .rows
            .iter()
            .map(|r| ChangeGroup::of(r.interactions, r.previous_interactions))
            .collect();
        assert_eq!(
            groups,
            [
                ChangeGroup::Certain,
                ChangeGroup::Certain,
                ChangeGroup::Certain,
                ChangeGroup::Uncertain,
                ChangeGroup::Uncertain,
                ChangeGroup::New
            ]
        );
        // Paged, the order holds across pages on both paths.
        let question = question(db, org_id, &format!("{RANGE}&sort=change&page=2")).await;
        let models = ReadModels::default();
        let second = customers_page(db, &models, org_id, &question, 4).await.expect("page");
        assert_eq!(order(&second), ["small", "new"]);
        let grouped = grouped_page(db, org_id, &question.applied, &question.conditions, 4)
            .await
            .expect("grouped");
        assert_eq!(second, grouped);
        // Every other sort agrees between the two paths with a previous period.
        for sort in ["interactions", "first", "latest", "score"] {
            for dir in ["desc", "asc"] {
                page(db, org_id, &format!("{RANGE}&sort={sort}&dir={dir}&f.queue=Billing")).await;
            }
        }
    }

    async fn small_samples_are_averages_over_fewer_than_three(db: &Db) {
        let org_id = dataset(db).await;
        let data = page(db, org_id, RANGE).await;
        let small: Vec<&str> = data
            .rows
            .iter()
            .filter(|r| r.interactions < app::customers::model::SMALL_SAMPLE)
            .map(|r| r.identifier.as_str())
            .collect();
        assert_eq!(small, ["tiny"]);
        // small's change is uncertain through its previous side alone.
        let small = data.rows.iter().find(|r| r.identifier == "small").expect("small");
        assert_eq!(ChangeGroup::of(small.interactions, small.previous_interactions), ChangeGroup::Uncertain);
    }
}
