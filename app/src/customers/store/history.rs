//! A customer's history and score trend: the conversations of one customer that count under
//! the view's conditions, newest first, a page at a time.

use super::{fetch_window, push_matching_conversations, window, Conditions, Scope};
use crate::customers::trend::TrendPoint;
use crate::db::{Db, Sql, StoreResult, Tx};
use crate::page::Page;

/// ` FROM … WHERE …` over one customer's conversations that count under `conditions`, with
/// their representatives joined as `u`: the rows of a history ([`HISTORY_COLUMNS`]).
pub(crate) fn push_history_conversations(
    sql: &mut Sql,
    org_id: i64,
    conditions: &Conditions,
    customer_id: i64,
) {
    let scope = Scope::Customer {
        id: customer_id,
        representatives: true,
    };
    push_matching_conversations(sql, org_id, "", conditions, scope, false);
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct InteractionRecord {
    pub id: i64,
    pub external_id: String,
    pub title: String,
    pub channel: String,
    pub occurred_at_ms: i64,
    pub score_hundredths: i64,
    pub representative_id: i64,
    pub representative_name: String,
    pub representative_email: String,
}

/// `select` over one customer's scored conversations that count under `conditions`, with
/// their representatives joined when `representatives`: the history's and the trend's
/// statements start here.
fn customer_conversations(
    select: &str,
    org_id: i64,
    customer_id: i64,
    conditions: &Conditions,
    representatives: bool,
) -> Sql {
    let mut sql = Sql::new(select);
    let scope = Scope::Customer {
        id: customer_id,
        representatives,
    };
    push_matching_conversations(&mut sql, org_id, "", conditions, scope, false);
    sql
}

/// One page of a customer's interaction history, `page_size` conversations a page: the
/// conversations that count, newest first.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn history_page(
    db: &Db,
    org_id: i64,
    customer_id: i64,
    conditions: &Conditions,
    page: u32,
    page_size: u32,
) -> StoreResult<Page<InteractionRecord>> {
    let count = customer_conversations("SELECT COUNT(*)", org_id, customer_id, conditions, false);
    let sql = customer_conversations(HISTORY_COLUMNS, org_id, customer_id, conditions, true);
    let order = |mirrored: bool| {
        let direction = if mirrored { "ASC" } else { "DESC" };
        format!(" ORDER BY v.occurred_at_ms {direction}, v.id {direction}")
    };
    let window = HistoryWindow {
        page,
        page_size,
        context: "listing a customer's interactions",
    };
    history_window(db, &count, sql, window, order).await
}

/// The columns of a history's row ([`InteractionRecord`]), `v` the conversation and `u` its
/// representative.
pub(crate) const HISTORY_COLUMNS: &str =
    "SELECT v.id, v.external_id, v.title, v.channel, v.occurred_at_ms, v.score_hundredths, \
     u.id AS representative_id, u.name AS representative_name, u.email AS representative_email";

/// Which page of a history to read, `page_size` rows a page, and what the read is called.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HistoryWindow {
    pub(crate) page: u32,
    pub(crate) page_size: u32,
    pub(crate) context: &'static str,
}

/// One page of a customer's history, `count` the statement counting its rows and `rows` the
/// statement reading them, without its `ORDER BY`: `order` writes that for the page's
/// direction (`true`: a late page, read from the far end in the mirrored order, as the
/// Customers pages are), within the query budget.
pub(crate) async fn history_window<R: crate::db::AnyRow>(
    db: &Db,
    count: &Sql,
    mut rows: Sql,
    asked: HistoryWindow,
    order: impl Fn(bool) -> String,
) -> StoreResult<Page<R>> {
    let page_size = asked.page_size.max(1);
    db.read_within_budget(async |tx: &mut Tx| {
        let total: i64 = tx
            .scalar(count, "counting a customer's interactions")
            .await?;
        let window = window(total, asked.page, page_size);
        rows.push(&order(window.mirrored));
        let rows = fetch_window(tx, &mut rows, &window, asked.context).await?;
        Ok(Page {
            rows,
            total,
            page: window.page,
            page_count: window.page_count,
        })
    })
    .await
}

/// The latest `limit` scored conversations of a customer that count under `conditions`, as
/// (time, score) oldest first, with how many count in all: the points of the row's trend.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn trend_points(
    db: &Db,
    org_id: i64,
    customer_id: i64,
    conditions: &Conditions,
    limit: usize,
) -> StoreResult<(Vec<TrendPoint>, i64)> {
    let count = customer_conversations("SELECT COUNT(*)", org_id, customer_id, conditions, false);
    let mut sql = customer_conversations(
        "SELECT v.occurred_at_ms AS at_ms, v.score_hundredths AS score",
        org_id,
        customer_id,
        conditions,
        false,
    );
    sql.push(" ORDER BY v.occurred_at_ms DESC, v.id DESC LIMIT ")
        .bind(i64::try_from(limit).unwrap_or(i64::MAX));
    db.read_within_budget(async |tx: &mut Tx| {
        let total: i64 = tx
            .scalar(&count, "counting a customer's scored conversations")
            .await?;
        let rows: Vec<TrendRow> = tx
            .fetch_all(&sql, "reading a customer's score trend")
            .await?;
        let points = rows
            .into_iter()
            .rev()
            .map(|row| TrendPoint {
                at_ms: row.at_ms,
                score: row.score,
            })
            .collect();
        Ok((points, total))
    })
    .await
}

#[derive(sqlx::FromRow)]
struct TrendRow {
    at_ms: i64,
    score: i64,
}
