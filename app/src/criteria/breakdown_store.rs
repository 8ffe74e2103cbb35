//! The criteria breakdown's SQL: per criterion, the sum and count of the scores of one
//! subject's matching conversations and of the organisation's, in one statement inside one
//! read transaction (so both sides are the same committed state), stopped at the query budget.
//! The matching conversations are the ones the Customers rows and histories count
//! (`customers::store::push_counting_conversations`).

use super::breakdown::{weakest_first, CriterionFigures, CriterionSums};
use super::model::Criterion;
use crate::customers::store::{
    history_window, push_counting_conversations, push_history_conversations, Conditions,
    HistoryWindow, InteractionRecord, HISTORY_COLUMNS,
};
use crate::db::{Db, Sql, StoreResult, Tx};
use crate::page::Page;

/// Whose conversations a breakdown is of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    /// One customer's, under the view's conditions; the organisation's side is every
    /// customer's under the same conditions.
    Customer(i64),
    /// One representative's, under the conditions; the organisation's side is every
    /// representative's under the same other conditions.
    Representative(i64),
}

impl Subject {
    /// The conditions of the subject's side and of the organisation's side.
    fn conditions(self, conditions: &Conditions) -> (Conditions, Option<i64>, Conditions) {
        match self {
            Subject::Customer(customer_id) => {
                (conditions.clone(), Some(customer_id), conditions.clone())
            }
            Subject::Representative(representative_id) => (
                Conditions {
                    representative_id: Some(representative_id),
                    ..conditions.clone()
                },
                None,
                Conditions {
                    representative_id: None,
                    ..conditions.clone()
                },
            ),
        }
    }
}

#[derive(sqlx::FromRow)]
struct FiguresRow {
    id: i64,
    key: String,
    label: String,
    scored: i64,
    score_sum: i64,
    organisation_scored: i64,
    organisation_score_sum: i64,
}

/// `(SELECT criterion_id, scored, score_sum …)`: the scores of the conversations that count
/// under `conditions` (one customer's when given), summed per criterion.
fn push_sums(
    sql: &mut Sql,
    backend: crate::db::Backend,
    org_id: i64,
    conditions: &Conditions,
    customer_id: Option<i64>,
) {
    sql.push(
        "(SELECT s.criterion_id, COUNT(*) AS scored, \
         CAST(SUM(s.score_hundredths) AS BIGINT) AS score_sum \
         FROM conversation_criterion_scores s WHERE s.org_id = ",
    )
    .bind(org_id)
    .push(" AND s.score_hundredths IS NOT NULL AND s.conversation_id IN (SELECT v.id");
    push_counting_conversations(sql, backend, org_id, conditions, customer_id);
    sql.push(") GROUP BY s.criterion_id)");
}

/// Every criterion of the organisation with the subject's and the organisation's figures
/// under `conditions`, weakest against the organisation first (see [`weakest_first`]).
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn criteria_breakdown(
    db: &Db,
    org_id: i64,
    subject: Subject,
    conditions: &Conditions,
) -> StoreResult<Vec<CriterionFigures>> {
    let (subject_conditions, customer_id, organisation_conditions) = subject.conditions(conditions);
    let mut sql = Sql::new(
        "SELECT k.id, k.key, k.label, COALESCE(m.scored, 0) AS scored, \
         COALESCE(m.score_sum, 0) AS score_sum, COALESCE(o.scored, 0) AS organisation_scored, \
         COALESCE(o.score_sum, 0) AS organisation_score_sum FROM criteria k LEFT JOIN ",
    );
    push_sums(
        &mut sql,
        db.backend(),
        org_id,
        &subject_conditions,
        customer_id,
    );
    sql.push(" m ON m.criterion_id = k.id LEFT JOIN ");
    push_sums(
        &mut sql,
        db.backend(),
        org_id,
        &organisation_conditions,
        None,
    );
    sql.push(" o ON o.criterion_id = k.id WHERE k.org_id = ")
        .bind(org_id)
        .push(" ORDER BY k.position, k.key");
    let rows: Vec<FiguresRow> = db
        .read_within_budget(async |tx: &mut Tx| {
            tx.fetch_all(&sql, "summing the criteria's scores").await
        })
        .await?;
    let mut figures: Vec<CriterionFigures> = rows
        .into_iter()
        .map(|row| CriterionFigures {
            criterion: Criterion {
                id: row.id,
                key: row.key,
                label: row.label,
            },
            subject: CriterionSums {
                scored: row.scored,
                score_sum: row.score_sum,
            },
            organisation: CriterionSums {
                scored: row.organisation_scored,
                score_sum: row.organisation_score_sum,
            },
        })
        .collect();
    weakest_first(&mut figures);
    Ok(figures)
}

/// A conversation of a customer's history with its score on one criterion.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct CriterionInteraction {
    #[sqlx(flatten)]
    pub record: InteractionRecord,
    /// Its score on the criterion; `None` when not applicable or not scored.
    pub criterion_score: Option<i64>,
}

/// One page of a customer's history (the conversations that count under `conditions`)
/// sorted by their score on one criterion, lowest first; those without a score on it last;
/// the newest first among equal scores. Late pages are read from the far end, as the
/// newest-first history is.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn history_by_criterion(
    db: &Db,
    org_id: i64,
    customer_id: i64,
    conditions: &Conditions,
    criterion_id: i64,
    page: u32,
    page_size: u32,
) -> StoreResult<Page<CriterionInteraction>> {
    let mut count = Sql::new("SELECT COUNT(*)");
    let backend = db.backend();
    push_counting_conversations(&mut count, backend, org_id, conditions, Some(customer_id));
    let mut sql = Sql::new(HISTORY_COLUMNS);
    sql.push(
        ", (SELECT cs.score_hundredths FROM conversation_criterion_scores cs \
         WHERE cs.conversation_id = v.id AND cs.criterion_id = ",
    )
    .bind(criterion_id)
    .push(") AS criterion_score");
    push_history_conversations(&mut sql, org_id, conditions, customer_id);
    let order = |mirrored: bool| {
        if mirrored {
            " ORDER BY criterion_score DESC NULLS FIRST, v.occurred_at_ms ASC, v.id ASC"
        } else {
            " ORDER BY criterion_score ASC NULLS LAST, v.occurred_at_ms DESC, v.id DESC"
        }
        .to_owned()
    };
    let window = HistoryWindow {
        page,
        page_size,
        context: "listing interactions by a criterion",
    };
    history_window(db, &count, sql, window, order).await
}
