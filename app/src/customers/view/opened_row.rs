//! The row the address opens, as the server renders it: its history page in plain HTML with
//! a pager of links, so that opening a row works before the client wakes and without it.
//! Once awake, the client replaces it with the live history (trend, criteria, paging in
//! place), as for a click.

use super::history::HistoryTable;
use crate::components::Turn;
use crate::criteria::breakdown_server::CriterionHistory;
use crate::customers::model::CustomersPage;
use crate::customers::query::{CustomerQuery, RowFocus};
use crate::error::AppError;
use leptos::prelude::*;

/// What the server read for the row the address opens.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct OpenedOnServer {
    pub(super) identifier: String,
    pub(super) history: CriterionHistory,
}

/// Reads the history page the address asks for, of the row it opens, if that row is on the
/// page of rows. Only the server reads it: the browser opens rows live, and reads `None`
/// (during hydration the resource holds what the server sent, unread here).
pub(super) async fn read_opened_row(
    customers: Resource<Result<CustomersPage, AppError>>,
    focus: RowFocus,
) -> Option<OpenedOnServer> {
    if cfg!(feature = "hydrate") {
        return None;
    }
    let identifier = focus.open?;
    let page = customers.await.ok()?;
    let customer_id = page
        .customers
        .rows
        .iter()
        .find(|row| row.identifier == identifier)?
        .id;
    let query = page.query;
    // A history that cannot be read here is read again by the client, which shows its error.
    let history = match focus.hsort {
        Some(key) => crate::criteria::breakdown_server::criterion_interactions(
            customer_id,
            query,
            key,
            focus.hpage,
        )
        .await
        .ok()?,
        None => CriterionHistory {
            criterion_label: None,
            rows: crate::customers::server::list_interactions(customer_id, query, focus.hpage)
                .await
                .ok()?,
        },
    };
    Some(OpenedOnServer {
        identifier,
        history,
    })
}

/// The opened row's history page as plain HTML: the same table as the live one, with a pager
/// of links to the row's addresses.
#[component]
pub(super) fn ServerHistory(
    history: CriterionHistory,
    identifier: String,
    /// The view in the address.
    query: Memo<CustomerQuery>,
    /// The criterion the address sorts the history by.
    by_criterion: Option<String>,
) -> impl IntoView {
    let newest_first = RowFocus::href(&query.get_untracked(), &identifier, 1);
    let turn = Turn::Links(Callback::new(move |page: u32| {
        RowFocus::href_sorted(
            &query.get_untracked(),
            &identifier,
            page,
            by_criterion.as_deref(),
        )
    }));
    view! {
        <div class="history">
            <HistoryTable
                data=history.rows
                turn=turn
                criterion_label=history.criterion_label
                newest_first=newest_first
            />
        </div>
    }
}
