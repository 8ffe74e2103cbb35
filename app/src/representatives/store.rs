use super::model::PROFILE_PAGE_SIZE;
use crate::customers::store::{fetch_window, window};
use crate::db::{Db, StoreResult, Tx};
use crate::page::Page;
use crate::sql;

#[derive(sqlx::FromRow)]
pub struct RepresentativeRecord {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub scored: i64,
    pub score_sum: i64,
    pub total: i64,
}

#[derive(sqlx::FromRow)]
pub struct ProfileConversationRecord {
    pub id: i64,
    pub title: String,
    pub channel: String,
    pub occurred_at_ms: i64,
    pub customer_identifier: String,
    pub score_hundredths: Option<i64>,
}

/// A user of the organisation with their conversation totals, and one page of their
/// conversations (scored or not), newest first. `None` for an id outside the organisation.
///
/// The totals and the page are read in one transaction under the query budget, paged as a
/// customer's history is (late pages read from the oldest end): a person with a long record
/// costs a bounded time and gives the connection back, never a long scan that holds the pool.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn representative_profile(
    db: &Db,
    org_id: i64,
    user_id: i64,
    page: u32,
) -> StoreResult<Option<(RepresentativeRecord, Page<ProfileConversationRecord>)>> {
    let person = sql!(
        "SELECT u.id, u.name, u.email, COUNT(v.score_hundredths) AS scored, CAST(COALESCE(SUM(v.score_hundredths), 0) AS BIGINT) AS score_sum, COUNT(v.id) AS total FROM users u LEFT JOIN conversations v ON v.org_id = u.org_id AND v.representative_id = u.id WHERE u.org_id = $1 AND u.id = $2 GROUP BY u.id, u.name, u.email",
        org_id,
        user_id,
    );
    let mut list = sql!(
        "SELECT v.id, v.title, v.channel, v.occurred_at_ms, c.identifier AS customer_identifier, v.score_hundredths FROM conversations v JOIN customers c ON c.id = v.customer_id AND c.org_id = v.org_id WHERE v.org_id = $1 AND v.representative_id = $2",
        org_id,
        user_id,
    );
    db.read_within_budget(async |tx: &mut Tx| {
        let Some(record) = tx
            .fetch_optional::<RepresentativeRecord>(&person, "reading a representative")
            .await?
        else {
            return Ok(None);
        };
        let window = window(record.total, page, PROFILE_PAGE_SIZE);
        let direction = if window.mirrored { "ASC" } else { "DESC" };
        list.push(&format!(
            " ORDER BY v.occurred_at_ms {direction}, v.id {direction}"
        ));
        let rows = fetch_window(
            tx,
            &mut list,
            &window,
            "listing a representative's conversations",
        )
        .await?;
        let page = Page {
            rows,
            total: record.total,
            page: window.page,
            page_count: window.page_count,
        };
        Ok(Some((record, page)))
    })
    .await
}

/// The organisation's users who handled at least one conversation, by name: the choices of
/// the Customers page's representative filter.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn representatives_with_conversations(
    db: &Db,
    models: &crate::customers::read_model::ReadModels,
    org_id: i64,
) -> StoreResult<Vec<crate::customers::model::RepresentativeOption>> {
    // Which people have conversations comes from the read model (exact at the latest
    // version, like the Customers page), or from SQL for an organisation larger than its
    // budget; names and emails from the users table.
    let with_conversations = match models
        .representatives_with_conversations(db, org_id)
        .await?
    {
        Some(ids) => ids,
        None => {
            let sql = sql!(
                "SELECT DISTINCT representative_id AS id FROM conversations \
                 WHERE org_id = $1 ORDER BY representative_id",
                org_id
            );
            let rows: Vec<crate::db::IdRow> = db
                .read_within_budget(async |tx: &mut crate::db::Tx| {
                    tx.fetch_all(&sql, "listing representatives with conversations")
                        .await
                })
                .await?;
            rows.into_iter().map(|row| row.id).collect()
        }
    };
    let sql = sql!(
        "SELECT u.id, u.email, u.name FROM users u WHERE u.org_id = $1 ORDER BY u.name, u.email",
        org_id
    );
    let people: Vec<PersonRow> = db.fetch_all(&sql, "listing representatives").await?;
    Ok(people
        .into_iter()
        .filter(|person| with_conversations.binary_search(&person.id).is_ok())
        .map(|person| crate::customers::model::RepresentativeOption {
            email: person.email,
            name: person.name,
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct PersonRow {
    id: i64,
    email: String,
    name: String,
}
