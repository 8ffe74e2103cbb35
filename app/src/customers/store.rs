//! The Customers page's queries. Only scored conversations count; while filters are active,
//! only the conversations that match every filter count, for the rows and the histories alike.

use super::query::{CustomerQuery, SortDir, SortKey, HISTORY_PAGE_SIZE, PAGE_SIZE};
use crate::db::{Db, Sql, StoreResult};
use crate::orgs::model::FieldKind;
use crate::orgs::store::StoredField;
use crate::text::fold;

/// How one active filter matches a conversation's value for its field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Matcher {
    /// A select field: the value equals this option.
    Equals(String),
    /// A text field: the folded value contains this folded text.
    Contains(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedFilter {
    pub field_id: i64,
    pub matcher: Matcher,
}

/// Turns the query's filters into store filters against the organisation's fields. Unknown
/// keys, and select values that are not among the field's options, are dropped: such a filter
/// could not be shown on the page, so it must not narrow the results either.
pub fn resolve_filters(query: &CustomerQuery, fields: &[StoredField]) -> Vec<ResolvedFilter> {
    query
        .filters
        .iter()
        .filter_map(|(key, value)| {
            let stored = fields.iter().find(|stored| &stored.field.key == key)?;
            let matcher = match stored.field.kind {
                FieldKind::Select => stored
                    .field
                    .options
                    .iter()
                    .any(|option| option == value)
                    .then(|| Matcher::Equals(value.clone()))?,
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
        fields.iter().any(|stored| {
            &stored.field.key == key
                && (stored.field.kind == FieldKind::Text
                    || stored.field.options.iter().any(|option| option == value))
        })
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

/// `FROM … WHERE …` over the organisation's scored conversations that pass the filters
/// (and, when `search` is set, whose customer matches it). Conversations are `v`, customers
/// `c`, and with `with_representative` their representatives `u`.
fn push_matching_conversations(
    sql: &mut Sql,
    org_id: i64,
    search: &str,
    filters: &[ResolvedFilter],
    with_representative: bool,
) {
    sql.push(
        " FROM conversations v JOIN customers c ON c.id = v.customer_id AND c.org_id = v.org_id",
    );
    if with_representative {
        sql.push(" JOIN users u ON u.id = v.representative_id AND u.org_id = v.org_id");
    }
    sql.push(" WHERE v.org_id = ")
        .bind(org_id)
        .push(" AND v.score_hundredths IS NOT NULL");
    if !search.is_empty() {
        sql.push(" AND c.search_text LIKE ")
            .bind(like_contains(&fold(search)))
            .push(" ESCAPE '\\'");
    }
    for filter in filters {
        sql.push(
            " AND EXISTS (SELECT 1 FROM conversation_field_values fv \
             WHERE fv.conversation_id = v.id AND fv.org_id = v.org_id AND fv.field_id = ",
        )
        .bind(filter.field_id);
        match &filter.matcher {
            Matcher::Equals(value) => sql.push(" AND fv.value = ").bind(value.as_str()),
            Matcher::Contains(folded) => sql
                .push(" AND fv.value_folded LIKE ")
                .bind(like_contains(folded))
                .push(" ESCAPE '\\'"),
        };
        sql.push(")");
    }
}

/// One customer's aggregates over the conversations that count.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct CustomerSummary {
    pub id: i64,
    pub identifier: String,
    pub display_name: Option<String>,
    pub interactions: i64,
    pub first_ms: i64,
    pub latest_ms: i64,
    pub score_sum: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerPageData {
    pub rows: Vec<CustomerSummary>,
    pub total: i64,
    /// The page shown: the one asked for, clamped to the last page.
    pub page: u32,
    pub page_count: u32,
}

pub fn page_count(total: i64, page_size: u32) -> u32 {
    let pages = (total.max(0) as u64).div_ceil(u64::from(page_size));
    pages.clamp(1, u64::from(u32::MAX)) as u32
}

fn sort_expression(key: SortKey) -> &'static str {
    match key {
        SortKey::Interactions => "COUNT(*)",
        SortKey::First => "MIN(v.occurred_at_ms)",
        SortKey::Latest => "MAX(v.occurred_at_ms)",
        // The same IEEE division on both backends, so ties and order agree.
        SortKey::Score => "CAST(SUM(v.score_hundredths) AS DOUBLE PRECISION) / COUNT(*)",
    }
}

/// One page of the Customers table.
pub async fn customer_page(
    db: &Db,
    org_id: i64,
    query: &CustomerQuery,
    filters: &[ResolvedFilter],
) -> StoreResult<CustomerPageData> {
    customer_page_sized(db, org_id, query, filters, PAGE_SIZE).await
}

/// One page of customers, `page_size` a page (the API and the CSV export choose their own).
pub async fn customer_page_sized(
    db: &Db,
    org_id: i64,
    query: &CustomerQuery,
    filters: &[ResolvedFilter],
    page_size: u32,
) -> StoreResult<CustomerPageData> {
    let page_size = page_size.max(1);
    let mut count = Sql::new("SELECT COUNT(DISTINCT v.customer_id)");
    push_matching_conversations(&mut count, org_id, &query.search, filters, false);
    let total: i64 = db.scalar(&count, "counting customers").await?;
    let page_count = page_count(total, page_size);
    let page = query.page.clamp(1, page_count);

    let mut sql = Sql::new(
        "SELECT c.id, c.identifier, c.display_name, COUNT(*) AS interactions, \
         MIN(v.occurred_at_ms) AS first_ms, MAX(v.occurred_at_ms) AS latest_ms, \
         CAST(SUM(v.score_hundredths) AS BIGINT) AS score_sum",
    );
    push_matching_conversations(&mut sql, org_id, &query.search, filters, false);
    let direction = match query.dir {
        SortDir::Desc => "DESC",
        SortDir::Asc => "ASC",
    };
    sql.push(" GROUP BY c.id, c.identifier, c.display_name ORDER BY ")
        .push(sort_expression(query.sort))
        .push(" ")
        .push(direction)
        // Identifiers are unique per organisation and compared byte-wise on both backends,
        // so the order is total and pages never overlap or skip.
        .push(", c.identifier ASC LIMIT ")
        .bind(i64::from(page_size))
        .push(" OFFSET ")
        .bind(i64::from(page - 1) * i64::from(page_size));
    let rows = db.fetch_all(&sql, "listing customers").await?;
    Ok(CustomerPageData {
        rows,
        total,
        page,
        page_count,
    })
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct InteractionRecord {
    pub id: i64,
    pub external_id: String,
    pub title: String,
    pub kind: String,
    pub occurred_at_ms: i64,
    pub score_hundredths: i64,
    pub representative_id: i64,
    pub representative_name: String,
    pub representative_email: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InteractionPageData {
    pub rows: Vec<InteractionRecord>,
    pub total: i64,
    pub page: u32,
    pub page_count: u32,
}

/// One page of a customer's interaction history: the conversations that count, newest first.
pub async fn interaction_page(
    db: &Db,
    org_id: i64,
    customer_id: i64,
    filters: &[ResolvedFilter],
    page: u32,
) -> StoreResult<InteractionPageData> {
    interaction_page_sized(db, org_id, customer_id, filters, page, HISTORY_PAGE_SIZE).await
}

/// [`interaction_page`] with `page_size` conversations a page.
pub async fn interaction_page_sized(
    db: &Db,
    org_id: i64,
    customer_id: i64,
    filters: &[ResolvedFilter],
    page: u32,
    page_size: u32,
) -> StoreResult<InteractionPageData> {
    let page_size = page_size.max(1);
    let mut count = Sql::new("SELECT COUNT(*)");
    push_matching_conversations(&mut count, org_id, "", filters, false);
    count.push(" AND v.customer_id = ").bind(customer_id);
    let total: i64 = db
        .scalar(&count, "counting a customer's interactions")
        .await?;
    let page_count = page_count(total, page_size);
    let page = page.clamp(1, page_count);

    let mut sql = Sql::new(
        "SELECT v.id, v.external_id, v.title, v.kind, v.occurred_at_ms, v.score_hundredths, \
         u.id AS representative_id, u.name AS representative_name, u.email AS representative_email",
    );
    push_matching_conversations(&mut sql, org_id, "", filters, true);
    sql.push(" AND v.customer_id = ")
        .bind(customer_id)
        .push(" ORDER BY v.occurred_at_ms DESC, v.id DESC LIMIT ")
        .bind(i64::from(page_size))
        .push(" OFFSET ")
        .bind(i64::from(page - 1) * i64::from(page_size));
    let rows = db
        .fetch_all(&sql, "listing a customer's interactions")
        .await?;
    Ok(InteractionPageData {
        rows,
        total,
        page,
        page_count,
    })
}

/// The id of the customer with this identifier in the organisation.
pub async fn find_customer_id(db: &Db, org_id: i64, identifier: &str) -> StoreResult<Option<i64>> {
    let mut sql = Sql::new("SELECT id FROM customers WHERE org_id = ");
    sql.bind(org_id)
        .push(" AND identifier = ")
        .bind(identifier.trim());
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
    fn page_counts_round_up_and_never_reach_zero() {
        assert_eq!(page_count(0, 30), 1);
        assert_eq!(page_count(30, 30), 1);
        assert_eq!(page_count(31, 30), 2);
    }
}
