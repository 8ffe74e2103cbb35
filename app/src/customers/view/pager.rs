//! The pager under the customers table.

use super::go_to;
use crate::components::{group_thousands, range_label, Pager, Part, Step, Turn};
use crate::customers::model::CustomersPage;
use crate::customers::query::PAGE_SIZE;
use leptos::prelude::*;

/// The table's steps, with the page numbers between the backward and the forward ones.
pub(super) const CUSTOMER_PAGER: &[Part] = &[
    Part::Step(Step::FIRST),
    Part::Step(Step::PREVIOUS),
    Part::Numbers,
    Part::Step(Step::NEXT),
    Part::Step(Step::LAST),
];

/// The table's pager: links to every page, the numbers around this one, a jump to any page,
/// and the range; one page shows the count alone.
#[component]
pub(super) fn CustomerPager(page: CustomersPage) -> impl IntoView {
    let customers = &page.customers;
    if customers.page_count <= 1 {
        let count = match customers.total {
            1 => "1 customer".to_owned(),
            total => format!("{} customers", group_thousands(total)),
        };
        return view! { <p class="pager-range">{count}</p> }.into_any();
    }
    let range = format!(
        "{} customers",
        range_label(
            customers.page,
            PAGE_SIZE,
            customers.rows.len(),
            customers.total
        )
    );
    let current = customers.page;
    let last = customers.page_count;
    let query = page.query.clone();
    let link = Callback::new(move |target: u32| query.with_page(target).href());
    let jump_query = page.query.clone();
    let jump_to = RwSignal::new(String::new());
    let on_jump = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if let Ok(target) = jump_to.get_untracked().trim().parse::<u32>() {
            go_to(&jump_query.with_page(target.clamp(1, last)), false);
        }
    };
    view! {
        <Pager
            class="pager"
            label="Customer pages"
            current=current
            last=last
            turn=Turn::Links(link)
            parts=CUSTOMER_PAGER
            parts_class="pager-links"
        >
            <form class="jump" method="get" action="/customers" on:submit=on_jump>
                {page
                    .query
                    .to_pairs()
                    .into_iter()
                    .filter(|(key, _)| key != "page")
                    .map(|(key, value)| view! { <input type="hidden" name=key value=value /> })
                    .collect_view()}
                <label for="jump-to-page">"Go to page"</label>
                <input
                    id="jump-to-page"
                    name="page"
                    type="number"
                    min="1"
                    max=last.to_string()
                    inputmode="numeric"
                    prop:value=move || jump_to.get()
                    on:input=move |event| jump_to.set(event_target_value(&event))
                />
                <button type="submit" class="button">
                    "Go"
                </button>
            </form>
            <p class="pager-range">{range}</p>
        </Pager>
    }
    .into_any()
}
