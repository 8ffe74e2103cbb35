//! The Customers page's queries. Only scored conversations count; while filters are active,
//! only the conversations that match every filter count, for the rows and the histories alike.

use super::model::SMALL_SAMPLE;
use super::query::{CustomerQuery, SortDir, SortKey};
pub use super::read_model::Conditions;
use super::read_model::{PageQuestion, ReadModels};
use crate::db::{Backend, Db, Sql, StoreResult, Tx};
use crate::orgs::model::FieldKind;
use crate::orgs::store::StoredField;
use crate::page::{Page, Paging};
use crate::sql;
use crate::text::fold;

pub use super::question::{CustomerSummary, Matcher, ResolvedFilter};

mod history;
pub use history::{history_page, trend_points, InteractionRecord};
pub(crate) use history::{
    history_window, push_history_conversations, HistoryWindow, HISTORY_COLUMNS,
};

/// Turns the query's filters into store filters against the organisation's fields. Unknown
/// keys, and select values that are not among the field's options, are dropped: such a filter
/// could not be shown on the page, so it must not narrow the results either.
pub fn resolve_filters(query: &CustomerQuery, fields: &[StoredField]) -> Vec<ResolvedFilter> {
    query
        .filters
        .iter()
        .filter_map(|(key, value)| {
            let stored = fields.iter().find(|stored| &stored.field.key == key)?;
            if !stored.field.accepts_filter(value) {
                return None;
            }
            let matcher = match stored.field.kind {
                FieldKind::Select => Matcher::Equals(value.clone()),
                FieldKind::Text => Matcher::Contains(fold(value)),
            };
            Some(ResolvedFilter {
                field_id: stored.id,
                matcher,
            })
        })
        .collect()
}

/// The query with the filters that were dropped by [`resolve_filters`] removed, so that the
/// page can show (and link to) the view that was actually applied.
pub fn applied_query(query: &CustomerQuery, fields: &[StoredField]) -> CustomerQuery {
    let mut applied = query.clone();
    applied.filters.retain(|key, value| {
        fields
            .iter()
            .any(|stored| &stored.field.key == key && stored.field.accepts_filter(value))
    });
    applied
}

/// Escapes LIKE wildcards so that `%`, `_` and `\` are matched as plain characters.
fn like_contains(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for ch in needle.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(ch);
    }
    pattern.push('%');
    pattern
}

/// Whose conversations a query reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    /// The whole organisation: a Customers page, on a database of this kind (the join order
    /// is written for each).
    Organisation(Backend),
    /// One customer's conversations; `representatives` joins theirs as `u`, for a history's
    /// rows. Only what a statement reads is joined: SQLite has no statistics, and with the
    /// representatives joined to a bare count it drove the count from the organisation's
    /// index (every conversation of the organisation) instead of the customer's.
    Customer { id: i64, representatives: bool },
}

/// `FROM … WHERE …` over the organisation's scored conversations that pass the filters
/// (and, when `search` is set, whose customer matches it). Conversations are `v`, customers
/// `c` (joined for a search or when `with_customers`), and for a customer's history their
/// representatives `u`.
///
/// Each filter is a join on the conversation's value for its field (at most one row, as a
/// conversation has one value per field). A page starts from the values of one filter rather
/// than visiting every conversation of the organisation (SQLite has no statistics to choose
/// that order by, so its statement fixes it with `CROSS JOIN`; PostgreSQL's planner chooses);
/// a history starts from the customer.
fn push_matching_conversations(
    sql: &mut Sql,
    org_id: i64,
    search: &str,
    conditions: &Conditions,
    scope: Scope,
    with_customers: bool,
) {
    let mut ordered: Vec<&ResolvedFilter> = conditions.fields.iter().collect();
    // An equality is answered from the value index, so it leads when there is one.
    ordered.sort_by_key(|filter| !matches!(filter.matcher, Matcher::Equals(_)));
    let lead = match (scope, ordered.first()) {
        (Scope::Organisation(backend), Some(first)) => Some((backend, *first)),
        _ => None,
    };
    let joined = if lead.is_some() {
        &ordered[1..]
    } else {
        &ordered[..]
    };
    match lead {
        Some((Backend::Sqlite, _)) => sql.push(
            " FROM conversation_field_values fl CROSS JOIN conversations v \
             ON fl.conversation_id = v.id AND fl.org_id = v.org_id",
        ),
        Some((Backend::Postgres, _)) => sql.push(
            " FROM conversation_field_values fl JOIN conversations v \
             ON fl.conversation_id = v.id AND fl.org_id = v.org_id",
        ),
        None => sql.push(" FROM conversations v"),
    };
    for (n, filter) in joined.iter().enumerate() {
        let alias = format!("f{n}");
        sql.push(&format!(
            " JOIN conversation_field_values {alias} \
             ON {alias}.conversation_id = v.id AND {alias}.org_id = v.org_id AND "
        ));
        push_filter_match(sql, &alias, filter);
    }
    if with_customers || !search.is_empty() {
        sql.push(" JOIN customers c ON c.id = v.customer_id AND c.org_id = v.org_id");
    }
    if let Scope::Customer {
        representatives: true,
        ..
    } = scope
    {
        sql.push(" JOIN users u ON u.id = v.representative_id AND u.org_id = v.org_id");
    }
    sql.push(" WHERE v.org_id = ")
        .bind(org_id)
        .push(" AND v.score_hundredths IS NOT NULL");
    if let Some((_, filter)) = lead {
        sql.push(" AND ");
        push_filter_match(sql, "fl", filter);
    }
    if let Scope::Customer { id, .. } = scope {
        sql.push(" AND v.customer_id = ").bind(id);
    }
    if let Some(from_ms) = conditions.from_ms {
        sql.push(" AND v.occurred_at_ms >= ").bind(from_ms);
    }
    if let Some(until_ms) = conditions.until_ms {
        sql.push(" AND v.occurred_at_ms < ").bind(until_ms);
    }
    if !conditions.channels.is_empty() {
        sql.push(" AND v.channel IN (")
            .push_list(conditions.channels.iter().map(|channel| channel.as_str()))
            .push(")");
    }
    if let Some(representative_id) = conditions.representative_id {
        sql.push(" AND v.representative_id = ")
            .bind(representative_id);
    }
    if !search.is_empty() {
        sql.push(" AND c.search_text LIKE ")
            .bind(like_contains(&fold(search)))
            .push(" ESCAPE '\\'");
    }
}

/// ` FROM … WHERE …` over the organisation's conversations that count under `conditions` (only
/// one customer's when `customer_id` is given): the set the criteria breakdown averages over
/// (`crate::criteria::breakdown_store`), the same that the rows and the histories count.
pub(crate) fn push_counting_conversations(
    sql: &mut Sql,
    backend: Backend,
    org_id: i64,
    conditions: &Conditions,
    customer_id: Option<i64>,
) {
    let scope = match customer_id {
        Some(id) => Scope::Customer {
            id,
            representatives: false,
        },
        None => Scope::Organisation(backend),
    };
    push_matching_conversations(sql, org_id, "", conditions, scope, false);
}

/// `<alias>.field_id = … AND <alias>.value …`: one filter on a field value row.
fn push_filter_match(sql: &mut Sql, alias: &str, filter: &ResolvedFilter) {
    sql.push(&format!("{alias}.field_id = "))
        .bind(filter.field_id);
    match &filter.matcher {
        Matcher::Equals(value) => sql
            .push(&format!(" AND {alias}.value = "))
            .bind(value.as_str()),
        Matcher::Contains(folded) => sql
            .push(&format!(" AND {alias}.value_folded LIKE "))
            .bind(like_contains(folded))
            .push(" ESCAPE '\\'"),
    };
}

/// `ORDER BY` of [`grouped_rows`], over a customer's figures `g` and the previous period's
/// `p` (absent without a previous period).
fn order_sql(key: SortKey, dir: SortDir, compared: bool) -> String {
    let dir = match dir {
        SortDir::Desc => "DESC",
        SortDir::Asc => "ASC",
    };
    let by_key = match key {
        SortKey::Interactions => format!("g.interactions {dir}"),
        SortKey::First => format!("g.first_ms {dir}"),
        SortKey::Latest => format!("g.latest_ms {dir}"),
        // The same IEEE division on both backends, so ties and order agree.
        SortKey::Score => {
            format!("CAST(g.score_sum AS DOUBLE PRECISION) / g.interactions {dir}")
        }
        // As the read model: certain changes, uncertain ones, the new; then the drop
        // (previous average minus this one, the same IEEE operations), directed.
        SortKey::Change if compared => format!(
            "CASE WHEN p.interactions IS NULL THEN 2 \
             WHEN p.interactions < {SMALL_SAMPLE} OR g.interactions < {SMALL_SAMPLE} THEN 1 \
             ELSE 0 END ASC, \
             COALESCE(CAST(p.score_sum AS DOUBLE PRECISION) / p.interactions \
             - CAST(g.score_sum AS DOUBLE PRECISION) / g.interactions, 0) {dir}"
        ),
        // Nothing to compare (the query's validation keeps this away): every customer is
        // new, and new customers sort by identifier, as in the read model.
        SortKey::Change => return "g.identifier ASC".to_owned(),
    };
    // Identifiers are unique per organisation and compared byte-wise on both backends, so the
    // order is total and pages never overlap or skip.
    format!("{by_key}, g.identifier ASC")
}

/// The question a page of `page_size` customers asks of the read model.
pub fn page_question(
    query: &CustomerQuery,
    conditions: &Conditions,
    page_size: u32,
) -> PageQuestion {
    PageQuestion {
        search: query.search.clone(),
        sort: query.sort,
        dir: query.dir,
        page: query.page,
        page_size,
        conditions: conditions.clone(),
    }
}

/// One page of customers, `page_size` a page (the API and the CSV export choose their own),
/// answered by the organisation's read model (see `read_model`), or, for an organisation
/// larger than the read model's whole memory budget, by grouping in SQL within the query
/// budget.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn customers_page(
    db: &Db,
    models: &ReadModels,
    org_id: i64,
    query: &CustomerQuery,
    conditions: &Conditions,
    page_size: u32,
) -> StoreResult<Page<CustomerSummary>> {
    let question = page_question(query, conditions, page_size);
    match models.page(db, org_id, question).await? {
        Some(page) => Ok(page),
        None => grouped_page(db, org_id, query, conditions, page_size).await,
    }
}

/// Where a page starts, and whether to read it in the mirror order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    pub(crate) page: u32,
    pub(crate) page_count: u32,
    offset: i64,
    limit: i64,
    /// Read from the far end in the opposite order, then reverse: an index scan then steps
    /// over at most half of the rows, so the last page costs what the first one does.
    pub(crate) mirrored: bool,
}

/// Appends the window's LIMIT and OFFSET to `sql` (ordered in the window's direction), runs
/// it, and answers the rows in page order.
pub(crate) async fn fetch_window<R: crate::db::AnyRow>(
    tx: &mut Tx,
    sql: &mut Sql,
    window: &Window,
    context: &'static str,
) -> StoreResult<Vec<R>> {
    if window.limit == 0 {
        return Ok(Vec::new());
    }
    sql.push(" LIMIT ")
        .bind(window.limit)
        .push(" OFFSET ")
        .bind(window.offset);
    let mut rows: Vec<R> = tx.fetch_all(sql, context).await?;
    if window.mirrored {
        rows.reverse();
    }
    Ok(rows)
}

pub(crate) fn window(total: i64, requested_page: u32, page_size: u32) -> Window {
    let paging = Paging::new(requested_page, total, page_size);
    let (page, page_count) = (paging.page, paging.page_count);
    let size = i64::from(page_size);
    let offset = paging.offset(page_size);
    let rows = (total - offset).clamp(0, size);
    let after = (total - offset - rows).max(0);
    if after < offset {
        Window {
            page,
            page_count,
            offset: after,
            limit: rows,
            mirrored: true,
        }
    } else {
        Window {
            page,
            page_count,
            offset,
            limit: size,
            mirrored: false,
        }
    }
}

/// A page computed the plain way, grouping the organisation's matching conversations at
/// request time, within the query budget: how an organisation larger than the read model's
/// memory budget is answered, the reference the store tests recount the read model's figures
/// with, and the benchmark's baseline.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn grouped_page(
    db: &Db,
    org_id: i64,
    query: &CustomerQuery,
    conditions: &Conditions,
    page_size: u32,
) -> StoreResult<Page<CustomerSummary>> {
    let page_size = page_size.max(1);
    let mut count = Sql::new("SELECT COUNT(DISTINCT v.customer_id)");
    push_matching_conversations(
        &mut count,
        org_id,
        &query.search,
        conditions,
        Scope::Organisation(db.backend()),
        false,
    );
    db.read_within_budget(async |tx: &mut Tx| {
        let total: i64 = tx.scalar(&count, "counting customers").await?;
        let paging = Paging::new(query.page, total, page_size);
        let rows = tx
            .fetch_all(
                &grouped_rows(db.backend(), org_id, query, conditions, page_size, paging),
                "listing customers",
            )
            .await?;
        Ok(paging.with_rows(rows))
    })
    .await
}

/// The rows of [`grouped_page`]'s page, placed by `paging`: each customer's figures (`g`)
/// and, when the question compares with a previous period, the same grouping over that
/// period (`p`, no row for a customer new to this one) joined by customer.
fn grouped_rows(
    backend: Backend,
    org_id: i64,
    query: &CustomerQuery,
    conditions: &Conditions,
    page_size: u32,
    paging: Paging,
) -> Sql {
    let previous = conditions.over_previous();
    let mut sql = Sql::new(if previous.is_some() {
        "SELECT g.id, g.identifier, g.display_name, g.interactions, g.first_ms, g.latest_ms, \
         g.score_sum, COALESCE(p.interactions, 0) AS previous_interactions, \
         COALESCE(p.score_sum, 0) AS previous_score_sum FROM ("
    } else {
        "SELECT g.id, g.identifier, g.display_name, g.interactions, g.first_ms, g.latest_ms, \
         g.score_sum, CAST(0 AS BIGINT) AS previous_interactions, \
         CAST(0 AS BIGINT) AS previous_score_sum FROM ("
    });
    sql.push(
        "SELECT c.id, c.identifier, c.display_name, COUNT(*) AS interactions, \
         MIN(v.occurred_at_ms) AS first_ms, MAX(v.occurred_at_ms) AS latest_ms, \
         CAST(SUM(v.score_hundredths) AS BIGINT) AS score_sum",
    );
    push_matching_conversations(
        &mut sql,
        org_id,
        &query.search,
        conditions,
        Scope::Organisation(backend),
        true,
    );
    sql.push(" GROUP BY c.id, c.identifier, c.display_name) g");
    if let Some(previous) = &previous {
        // The search is the join: only the customers of `g` are looked up.
        sql.push(
            " LEFT JOIN (SELECT v.customer_id, COUNT(*) AS interactions, \
             CAST(SUM(v.score_hundredths) AS BIGINT) AS score_sum",
        );
        push_matching_conversations(
            &mut sql,
            org_id,
            "",
            previous,
            Scope::Organisation(backend),
            false,
        );
        sql.push(" GROUP BY v.customer_id) p ON p.customer_id = g.id");
    }
    sql.push(&format!(
        " ORDER BY {}",
        order_sql(query.sort, query.dir, previous.is_some())
    ))
    .push(" LIMIT ")
    .bind(i64::from(page_size))
    .push(" OFFSET ")
    .bind(paging.offset(page_size));
    sql
}

/// The id of the customer with this identifier in the organisation.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn find_customer_id(db: &Db, org_id: i64, identifier: &str) -> StoreResult<Option<i64>> {
    let sql = sql!(
        "SELECT id FROM customers WHERE org_id = $1 AND identifier = $2",
        org_id,
        identifier.trim(),
    );
    let row: Option<crate::db::IdRow> = db.fetch_optional(&sql, "finding a customer").await?;
    Ok(row.map(|row| row.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_treat_wildcards_as_plain_text() {
        assert_eq!(like_contains("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }

    #[test]
    fn pages_past_the_middle_are_read_from_the_far_end() {
        // 95 rows, 30 a page: pages hold 30, 30, 30 and 5 rows.
        let first = window(95, 1, 30);
        assert_eq!((first.offset, first.limit, first.mirrored), (0, 30, false));
        let second = window(95, 2, 30);
        assert_eq!(
            (second.offset, second.limit, second.mirrored),
            (30, 30, false)
        );
        let third = window(95, 3, 30);
        assert_eq!((third.offset, third.limit, third.mirrored), (5, 30, true));
        let last = window(95, 4, 30);
        assert_eq!((last.offset, last.limit, last.mirrored), (0, 5, true));
        let past_the_end = window(95, 9, 30);
        assert_eq!(past_the_end.page, 4);
        let empty = window(0, 1, 30);
        assert_eq!(
            (empty.page, empty.page_count, empty.limit, empty.mirrored),
            (1, 1, 30, false)
        );
    }
}
