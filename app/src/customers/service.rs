//! One place that turns a Customers view into a question the store answers, for the page's
//! server functions, the API and the CSV export alike: the organisation's fields, the
//! representative and the date range are resolved here, once.

use super::query::{CustomerQuery, Day, Period};
use super::read_model::{Conditions, ReadModels};
use super::store::{self, applied_query, resolve_filters, CustomerSummary, InteractionRecord};
use super::trend::TrendPoint;
use crate::db::{Db, StoreError};
use crate::orgs::model::FieldKind;
use crate::orgs::store::{find_user_id, list_fields, StoredField};
use crate::orgs::time::day_start_ms;
use crate::page::Page;
use chrono::{Datelike, Months, NaiveDate, Utc};
use chrono_tz::Tz;

/// How a view is read: the page drops what it cannot apply (and shows the view it applied);
/// the API refuses it with a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strictness {
    Lenient,
    Strict,
}

#[derive(Debug, thiserror::Error)]
pub enum QuestionError {
    /// The caller asked for something the organisation does not have (strict reading only).
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<QuestionError> for crate::error::AppError {
    fn from(error: QuestionError) -> Self {
        match error {
            QuestionError::Refused(message) => crate::error::AppError::BadRequest(message),
            QuestionError::Store(error) => crate::error::answer(error),
        }
    }
}

/// A view resolved against an organisation.
#[derive(Clone, Debug)]
pub struct Question {
    /// The view as applied: filters and representative the organisation lacks dropped.
    pub applied: CustomerQuery,
    pub conditions: Conditions,
    /// The organisation's fields, read once for the question (the page shows them too).
    pub fields: Vec<StoredField>,
    /// The first and last day of the previous period, when the view compares with one.
    pub previous_days: Option<(NaiveDate, NaiveDate)>,
}

/// Resolves `query` for the organisation: its fields and representative, and the period as
/// UTC bounds of whole days in the organisation's time zone, as of today there.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn resolve_question(
    db: &Db,
    org_id: i64,
    zone: Tz,
    query: &CustomerQuery,
    strictness: Strictness,
) -> Result<Question, QuestionError> {
    let fields = list_fields(db, org_id).await?;
    let mut applied = applied_query(query, &fields);
    if strictness == Strictness::Strict {
        if let Some(key) = query
            .filters
            .keys()
            .find(|key| !applied.filters.contains_key(*key))
        {
            return Err(QuestionError::Refused(unknown_filter_message(
                query, &fields, key,
            )));
        }
    }
    let representative_id = if query.rep.is_empty() {
        None
    } else {
        match (find_user_id(db, org_id, &query.rep).await?, strictness) {
            (Some(id), _) => Some(id),
            (None, Strictness::Strict) => {
                return Err(QuestionError::Refused(format!(
                    "The organisation has no representative `{}`",
                    query.rep
                )))
            }
            (None, Strictness::Lenient) => {
                applied.rep.clear();
                None
            }
        }
    };
    let today = Utc::now().with_timezone(&zone).date_naive();
    let (from_ms, until_ms) = period_bounds(query.period, zone, today);
    let conditions = Conditions {
        fields: resolve_filters(query, &fields),
        from_ms,
        until_ms,
        channels: query.channels.clone(),
        representative_id,
        previous: query.period.previous_bounds(zone, today),
    };
    Ok(Question {
        applied,
        conditions,
        fields,
        previous_days: query.period.previous_days(today),
    })
}

fn unknown_filter_message(query: &CustomerQuery, fields: &[StoredField], key: &str) -> String {
    match fields.iter().find(|f| f.field.key == key) {
        Some(field) if field.field.kind == FieldKind::Select => format!(
            "`{}` is not an option of the field `{key}` ({})",
            query.filters[key],
            field.field.options.join(", ")
        ),
        _ => format!("The organisation has no custom field `{key}`"),
    }
}

/// One page of customers for a resolved question; the page number is the applied view's.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn customers_page(
    db: &Db,
    models: &ReadModels,
    org_id: i64,
    question: &Question,
    page_size: u32,
) -> Result<Page<CustomerSummary>, StoreError> {
    store::customers_page(
        db,
        models,
        org_id,
        &question.applied,
        &question.conditions,
        page_size,
    )
    .await
}

/// One page of a customer's history under a resolved question.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn history_page(
    db: &Db,
    org_id: i64,
    customer_id: i64,
    question: &Question,
    page: u32,
    page_size: u32,
) -> Result<Page<InteractionRecord>, StoreError> {
    store::history_page(
        db,
        org_id,
        customer_id,
        &question.conditions,
        page,
        page_size,
    )
    .await
}

/// The points of a customer's score trend under a resolved question: the latest `limit`,
/// oldest first, and how many count in all.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn trend_points(
    db: &Db,
    org_id: i64,
    customer_id: i64,
    question: &Question,
    limit: usize,
) -> Result<(Vec<TrendPoint>, i64), StoreError> {
    super::store::trend_points(db, org_id, customer_id, &question.conditions, limit).await
}

fn date(day: Day) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(day.year, day.month, day.day)
}

/// The UTC milliseconds a period covers, from (inclusive) until (exclusive), for an
/// organisation in `zone` whose calendar shows `today`. Days start at local midnight.
pub fn period_bounds(period: Period, zone: Tz, today: NaiveDate) -> (Option<i64>, Option<i64>) {
    let start = |day: NaiveDate| Some(day_start_ms(day, zone));
    let tomorrow = today.succ_opt().unwrap_or(today);
    let first_of_month = today.with_day(1).unwrap_or(today);
    let months = |day: NaiveDate, n: u32| day.checked_add_months(Months::new(n)).unwrap_or(day);
    match period {
        Period::All => (None, None),
        Period::Last7Days => (start(today - chrono::Days::new(6)), start(tomorrow)),
        Period::Last30Days => (start(today - chrono::Days::new(29)), start(tomorrow)),
        Period::Last90Days => (start(today - chrono::Days::new(89)), start(tomorrow)),
        Period::ThisMonth => (start(first_of_month), start(months(first_of_month, 1))),
        Period::LastMonth => (
            start(
                first_of_month
                    .checked_sub_months(Months::new(1))
                    .unwrap_or(first_of_month),
            ),
            start(first_of_month),
        ),
        Period::ThisQuarter => {
            let quarter_start =
                NaiveDate::from_ymd_opt(today.year(), (today.month0() / 3) * 3 + 1, 1)
                    .unwrap_or(first_of_month);
            (start(quarter_start), start(months(quarter_start, 3)))
        }
        Period::ThisYear => {
            let year_start = NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(first_of_month);
            (start(year_start), start(months(year_start, 12)))
        }
        Period::Range { from, to } => (
            from.and_then(date).and_then(start),
            to.and_then(date)
                .and_then(|day| day.succ_opt())
                .and_then(start),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(rfc3339: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(rfc3339)
            .expect("a timestamp")
            .timestamp_millis()
    }

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a day")
    }

    #[test]
    fn presets_are_whole_days_in_the_organisation_time_zone() {
        let london: Tz = "Europe/London".parse().expect("zone");
        let today = day("2026-05-20");
        assert_eq!(
            period_bounds(Period::Last7Days, london, today),
            (
                Some(ms("2026-05-14T00:00:00+01:00")),
                Some(ms("2026-05-21T00:00:00+01:00"))
            )
        );
        assert_eq!(
            period_bounds(Period::LastMonth, london, today),
            (
                Some(ms("2026-04-01T00:00:00+01:00")),
                Some(ms("2026-05-01T00:00:00+01:00"))
            )
        );
        assert_eq!(
            period_bounds(Period::ThisQuarter, london, today),
            (
                Some(ms("2026-04-01T00:00:00+01:00")),
                Some(ms("2026-07-01T00:00:00+01:00"))
            )
        );
        // The year starts in winter time.
        assert_eq!(
            period_bounds(Period::ThisYear, london, today),
            (
                Some(ms("2026-01-01T00:00:00Z")),
                Some(ms("2027-01-01T00:00:00Z"))
            )
        );
        assert_eq!(period_bounds(Period::All, london, today), (None, None));
        let january = day("2026-01-15");
        assert_eq!(
            period_bounds(Period::LastMonth, london, january).0,
            Some(ms("2025-12-01T00:00:00Z"))
        );
    }

    #[test]
    fn a_custom_range_includes_both_end_days() {
        let tokyo: Tz = "Asia/Tokyo".parse().expect("zone");
        let range = Period::Range {
            from: Day::parse("2026-03-01"),
            to: Day::parse("2026-03-31"),
        };
        assert_eq!(
            period_bounds(range, tokyo, day("2026-11-26")),
            (
                Some(ms("2026-03-01T00:00:00+09:00")),
                Some(ms("2026-04-01T00:00:00+09:00"))
            )
        );
        let open_start = Period::Range {
            from: None,
            to: Day::parse("2026-03-31"),
        };
        assert_eq!(
            period_bounds(open_start, tokyo, day("2026-11-26")),
            (None, Some(ms("2026-04-01T00:00:00+09:00")))
        );
    }
}
