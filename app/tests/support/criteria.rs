//! Playbook criteria written and summed with plain SQL, for the breakdown's tests: the
//! reference the store's figures are compared with.

use app::criteria::breakdown::CriterionFigures;
use app::criteria::breakdown_store::{criteria_breakdown, Subject};
use app::criteria::store::list_criteria;
use app::customers::query::CustomerQuery;
use app::customers::service::{resolve_question, Strictness};
use app::db::{Db, Sql};
#[allow(unused_imports)] // not every test binary writes criteria
pub use tools::test_criteria::{define_criterion, score_criterion};

/// Which conversations a plain sum counts: the scored ones of the organisation that meet
/// every condition given.
#[derive(Clone, Debug, Default)]
pub struct Only<'a> {
    pub customer: Option<&'a str>,
    pub representative: Option<&'a str>,
    pub from_ms: Option<i64>,
    pub until_ms: Option<i64>,
    pub channel: Option<&'a str>,
    /// The value of the select field `queue`.
    pub queue: Option<&'a str>,
}

#[derive(sqlx::FromRow)]
struct PlainRow {
    key: String,
    scored: i64,
    score_sum: i64,
}

/// Per criterion key (in key order, only criteria with a score): how many scores count and
/// their sum, by a plain GROUP BY over joins.
pub async fn plain_criterion_sums(
    db: &Db,
    org_id: i64,
    only: &Only<'_>,
) -> Vec<(String, i64, i64)> {
    let mut sql = Sql::new(
        "SELECT k.key, COUNT(*) AS scored, CAST(SUM(s.score_hundredths) AS BIGINT) AS score_sum \
         FROM conversation_criterion_scores s JOIN criteria k ON k.id = s.criterion_id \
         JOIN conversations v ON v.id = s.conversation_id \
         JOIN customers c ON c.id = v.customer_id JOIN users u ON u.id = v.representative_id",
    );
    if only.queue.is_some() {
        sql.push(
            " JOIN conversation_field_values f ON f.conversation_id = v.id \
             JOIN custom_fields fk ON fk.id = f.field_id AND fk.key = 'queue'",
        );
    }
    sql.push(" WHERE v.org_id = ")
        .bind(org_id)
        .push(" AND v.score_hundredths IS NOT NULL AND s.score_hundredths IS NOT NULL");
    if let Some(customer) = only.customer {
        sql.push(" AND c.identifier = ").bind(customer);
    }
    if let Some(representative) = only.representative {
        sql.push(" AND u.email = ").bind(representative);
    }
    if let Some(from_ms) = only.from_ms {
        sql.push(" AND v.occurred_at_ms >= ").bind(from_ms);
    }
    if let Some(until_ms) = only.until_ms {
        sql.push(" AND v.occurred_at_ms < ").bind(until_ms);
    }
    if let Some(channel) = only.channel {
        sql.push(" AND v.channel = ").bind(channel);
    }
    if let Some(queue) = only.queue {
        sql.push(" AND f.value = ").bind(queue);
    }
    sql.push(" GROUP BY k.key ORDER BY k.key");
    let rows: Vec<PlainRow> = db
        .fetch_all(&sql, "plain criterion sums")
        .await
        .expect("plain criterion sums");
    rows.into_iter()
        .map(|row| (row.key, row.scored, row.score_sum))
        .collect()
}

/// The figures of `key` in a plain sum: (scored, sum), (0, 0) when absent.
pub fn figures_of(sums: &[(String, i64, i64)], key: &str) -> (i64, i64) {
    sums.iter()
        .find(|(k, _, _)| k == key)
        .map_or((0, 0), |(_, scored, sum)| (*scored, *sum))
}

/// Scores every conversation of the organisation that has no row for a criterion yet, on
/// every criterion (a score from its id, or "not applicable" for every seventh): a writer of
/// criterion scores beside the conversations' writers.
pub async fn score_unscored(db: &Db, org_id: i64) -> Result<u64, String> {
    let mut sql = Sql::new(
        "INSERT INTO conversation_criterion_scores \
         (org_id, conversation_id, criterion_id, score_hundredths) \
         SELECT v.org_id, v.id, k.id, \
         CASE WHEN (v.id + k.id) % 7 = 0 THEN NULL ELSE (v.id * 37 + k.id * 11) % 10001 END \
         FROM conversations v JOIN criteria k ON k.org_id = v.org_id WHERE v.org_id = ",
    );
    sql.bind(org_id).push(
        " AND NOT EXISTS (SELECT 1 FROM conversation_criterion_scores s \
         WHERE s.conversation_id = v.id AND s.criterion_id = k.id)",
    );
    db.execute(&sql, "scoring the unscored")
        .await
        .map_err(|error| format!("scoring criteria: {error}"))
}

/// The breakdown's figures, checked equal to the plain sums: the subject's and the
/// organisation's, every criterion of the organisation listed once.
pub fn assert_figures_exact(
    figures: &[CriterionFigures],
    criteria: &[String],
    subject: &[(String, i64, i64)],
    organisation: &[(String, i64, i64)],
    context: &str,
) {
    let mut keys: Vec<&str> = figures.iter().map(|f| f.criterion.key.as_str()).collect();
    keys.sort_unstable();
    let mut all: Vec<&str> = criteria.iter().map(String::as_str).collect();
    all.sort_unstable();
    assert_eq!(keys, all, "{context}");
    for row in figures {
        let key = row.criterion.key.as_str();
        assert_eq!(
            (row.subject.scored, row.subject.score_sum),
            figures_of(subject, key),
            "{context}: {key}, the subject's"
        );
        assert_eq!(
            (row.organisation.scored, row.organisation.score_sum),
            figures_of(organisation, key),
            "{context}: {key}, the organisation's"
        );
    }
}

/// Every customer's breakdown under the view `url` (which asks what `only` says), checked
/// equal to the plain sums.
pub async fn assert_breakdowns_exact(db: &Db, org_id: i64, url: &str, only: &Only<'_>) {
    let query = CustomerQuery::from_query_string(url);
    let question = resolve_question(db, org_id, chrono_tz::UTC, &query, Strictness::Strict)
        .await
        .expect("question");
    let criteria: Vec<String> = list_criteria(db, org_id)
        .await
        .expect("criteria")
        .into_iter()
        .map(|criterion| criterion.key)
        .collect();
    let organisation = plain_criterion_sums(db, org_id, only).await;
    let customers: Vec<IdentifierRow> = db
        .fetch_all(
            &app::sql!(
                "SELECT id, identifier FROM customers WHERE org_id = $1",
                org_id
            ),
            "listing customers",
        )
        .await
        .expect("customers");
    for customer in customers {
        let figures = criteria_breakdown(
            db,
            org_id,
            Subject::Customer(customer.id),
            &question.conditions,
        )
        .await
        .expect("breakdown");
        let subject = Only {
            customer: Some(&customer.identifier),
            ..only.clone()
        };
        let subject = plain_criterion_sums(db, org_id, &subject).await;
        let context = format!("{} under {url:?}", customer.identifier);
        assert_figures_exact(&figures, &criteria, &subject, &organisation, &context);
    }
}

#[derive(sqlx::FromRow)]
struct IdentifierRow {
    id: i64,
    identifier: String,
}
