//! The filter controls above the table: search, fields, period, channel and representative.

use super::go_to;
use crate::components::DebouncedText;
use crate::conversations::model::Channel;
use crate::customers::model::RepresentativeOption;
use crate::customers::query::{CustomerQuery, Day, Period, MAX_EMAIL_CHARS, MAX_SEARCH_CHARS};
use crate::orgs::model::{CustomField, FieldKind};
use leptos::prelude::*;

#[component]
pub(super) fn SearchBox(
    query: Memo<CustomerQuery>,
    node_ref: NodeRef<leptos::html::Input>,
) -> impl IntoView {
    let value = Signal::derive(move || query.with(|q| q.search.clone()));
    let on_settle = move |text: String| {
        let current = query.get_untracked();
        let next = current.with_search(&text);
        if next != current {
            // Starting or clearing a search is a step back can return to; refining one is not.
            let refining = !current.search.is_empty() && !next.search.is_empty();
            go_to(&next, refining);
        }
    };
    view! {
        <DebouncedText
            id="customer-search".to_owned()
            label="Search customers".to_owned()
            value=value
            on_settle=on_settle
            max_chars=MAX_SEARCH_CHARS
            search=true
            placeholder="Identifier or name"
            node_ref=node_ref
            name="q"
        />
    }
}

#[component]
pub(super) fn FieldFilters(fields: Vec<CustomField>, query: Memo<CustomerQuery>) -> impl IntoView {
    fields
        .into_iter()
        .map(|field| {
            let key = field.key.clone();
            let id = format!("filter-{}", field.key);
            let value = Signal::derive({
                let key = key.clone();
                move || query.with(|q| q.filters.get(&key).cloned().unwrap_or_default())
            });
            let apply = {
                let key = key.clone();
                move |text: String| {
                    let next = query.get_untracked().with_filter(&key, &text);
                    if next != query.get_untracked() {
                        go_to(&next, false);
                    }
                }
            };
            match field.kind {
                FieldKind::Select => view! {
                    <div class="control">
                        <label for=id.clone()>{field.label.clone()}</label>
                        <select
                            id=id
                            name=format!("{}{key}", crate::customers::query::FILTER_PREFIX)
                            prop:value=move || value.get()
                            on:change=move |event| apply(event_target_value(&event))
                        >
                            <option value="">"Any"</option>
                            {field
                                .options
                                .iter()
                                .map(|option| {
                                    let selected_value = option.clone();
                                    view! {
                                        <option
                                            value=option.clone()
                                            selected=move || value.get() == selected_value
                                        >
                                            {option.clone()}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                    </div>
                }
                .into_any(),
                FieldKind::Text => view! {
                    <DebouncedText id=id label=field.label.clone() value=value on_settle=apply max_chars=MAX_SEARCH_CHARS name=format!("{}{key}", crate::customers::query::FILTER_PREFIX) />
                }
                .into_any(),
            }
        })
        .collect_view()
}

/// The date range: presets, or a custom from–to in whole days.
#[component]
pub(super) fn PeriodFilter(query: Memo<CustomerQuery>) -> impl IntoView {
    // "Custom range" shows the two date boxes before either holds a date.
    let custom = RwSignal::new(matches!(query.get_untracked().period, Period::Range { .. }));
    Effect::new(move |_| {
        if matches!(query.get().period, Period::Range { .. }) {
            custom.set(true);
        }
    });
    let problem = RwSignal::new(None::<String>);
    let selected = move || {
        if custom.get() {
            "custom"
        } else {
            query.with(|q| q.period.param())
        }
    };
    let on_change = move |event| {
        let value = event_target_value(&event);
        problem.set(None);
        if value == "custom" {
            custom.set(true);
            return;
        }
        custom.set(false);
        let period = Period::from_param(&value).unwrap_or_default();
        let next = query.get_untracked().with_period(period);
        if next != query.get_untracked() {
            go_to(&next, false);
        }
    };
    let day_of = move |end: fn(Period) -> Option<Day>| {
        move || {
            query
                .with(|q| end(q.period))
                .map(|day| day.to_string())
                .unwrap_or_default()
        }
    };
    let from_value = day_of(|period| match period {
        Period::Range { from, .. } => from,
        _ => None,
    });
    let to_value = day_of(|period| match period {
        Period::Range { to, .. } => to,
        _ => None,
    });
    let (from_box, to_box) = (
        NodeRef::<leptos::html::Input>::new(),
        NodeRef::<leptos::html::Input>::new(),
    );
    let apply_range = move |_| {
        let read = |input: NodeRef<leptos::html::Input>| {
            input
                .get()
                .map(|element| element.value())
                .unwrap_or_default()
        };
        let (from_text, to_text) = (read(from_box), read(to_box));
        let (from, to) = (Day::parse(&from_text), Day::parse(&to_text));
        if (!from_text.is_empty() && from.is_none()) || (!to_text.is_empty() && to.is_none()) {
            problem.set(Some("Enter dates as YYYY-MM-DD.".to_owned()));
            return;
        }
        match Period::range(from, to) {
            Err(message) => problem.set(Some(message)),
            Ok(period) => {
                problem.set(None);
                let next = query.get_untracked().with_period(period);
                if next != query.get_untracked() {
                    go_to(&next, false);
                }
            }
        }
    };
    view! {
        <div class="control period">
            <label for="filter-period">"Period"</label>
            <select id="filter-period" name="period" prop:value=selected on:change=on_change>
                {Period::PRESETS
                    .into_iter()
                    .map(|preset| {
                        view! {
                            <option value=preset.param() selected=move || selected() == preset.param()>
                                {preset.label()}
                            </option>
                        }
                    })
                    .collect_view()}
                <option value="custom" selected=move || selected() == "custom">
                    "Custom range"
                </option>
            </select>
        </div>
        // Always in the form, shown for a custom range (before the client wakes, by CSS when
        // "Custom range" is chosen).
        <div class="control date" class:hidden=move || !custom.get()>
            <label for="filter-from">"From"</label>
            <input id="filter-from" name="from" type="date" node_ref=from_box value=from_value prop:value=from_value on:change=apply_range />
        </div>
        <div class="control date" class:hidden=move || !custom.get()>
            <label for="filter-to">"To"</label>
            <input id="filter-to" name="to" type="date" node_ref=to_box value=to_value prop:value=to_value on:change=apply_range />
        </div>
        <Show when=move || problem.with(Option::is_some)>
            <p class="field-error" role="alert">
                {move || problem.get().unwrap_or_default()}
            </p>
        </Show>
    }
}

/// Voice, chat, email: any of them; none ticked means all.
#[component]
pub(super) fn ChannelFilter(query: Memo<CustomerQuery>) -> impl IntoView {
    view! {
        <fieldset class="control channels">
            <legend>"Channel"</legend>
            {Channel::ALL
                .into_iter()
                .map(|channel| {
                    let id = format!("filter-type-{}", channel.as_str());
                    let checked = move || query.with(|q| q.channels.contains(&channel));
                    let on_change = move |event| {
                        let next = query.get_untracked().with_channel(channel, event_target_checked(&event));
                        go_to(&next, false);
                    };
                    view! {
                        <span class="choice">
                            <input id=id.clone() type="checkbox" name="type" value=channel.as_str() checked=checked prop:checked=checked on:change=on_change />
                            <label for=id>{channel.name()}</label>
                        </span>
                    }
                })
                .collect_view()}
        </fieldset>
    }
}

/// One representative, chosen by typing part of a name or email (organisations have
/// hundreds): the browser's own type-ahead over a list of the representatives.
#[component]
pub(super) fn RepresentativeFilter(
    options: Vec<RepresentativeOption>,
    query: Memo<CustomerQuery>,
) -> impl IntoView {
    let emails: Vec<String> = options.iter().map(|option| option.email.clone()).collect();
    let value = move || query.with(|q| q.rep.clone());
    let apply = move |text: String| {
        let next = query.get_untracked().with_rep(&text);
        if next != query.get_untracked() {
            go_to(&next, false);
        }
    };
    let on_input = move |event| {
        // Picking from the list applies at once; typed text applies on Enter or leaving the box.
        let text = event_target_value(&event);
        if emails
            .iter()
            .any(|email| email.eq_ignore_ascii_case(text.trim()))
        {
            apply(text);
        }
    };
    view! {
        <div class="control representative">
            <label for="filter-rep">"Representative"</label>
            <input
                id="filter-rep"
                name="rep"
                type="text"
                list="filter-rep-options"
                placeholder="Anyone"
                autocomplete="off"
                spellcheck="false"
                maxlength=MAX_EMAIL_CHARS.to_string()
                value=value
                prop:value=value
                on:input=on_input
                on:change=move |event| apply(event_target_value(&event))
            />
            <datalist id="filter-rep-options">
                {options
                    .into_iter()
                    .map(|option| view! { <option value=option.email.clone()>{option.name.clone()}</option> })
                    .collect_view()}
            </datalist>
        </div>
    }
}
