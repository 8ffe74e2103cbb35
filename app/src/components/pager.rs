//! One pager for every paged list: steps to the first, previous, next and last page, the
//! numbers around the current page and the range shown, in the order a list asks for, as
//! links to each page's address or as buttons that turn the page in place.

use leptos::prelude::*;

/// Where a step goes from the current page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Toward {
    First,
    Previous,
    Next,
    Last,
}

impl Toward {
    /// The page the step goes to, within 1..=`last`.
    pub fn target(self, current: u32, last: u32) -> u32 {
        match self {
            Toward::First => 1,
            Toward::Previous => current.saturating_sub(1).max(1),
            Toward::Next => (current + 1).min(last),
            Toward::Last => last,
        }
    }

    /// Whether the step goes anywhere: not back from the first page, nor on from the last.
    pub fn goes(self, current: u32, last: u32) -> bool {
        match self {
            Toward::First | Toward::Previous => current > 1,
            Toward::Next | Toward::Last => current < last,
        }
    }
}

/// One step of a pager: where it goes, what it shows, and its accessible name (`None`: its
/// text names it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    pub toward: Toward,
    pub text: &'static str,
    pub label: Option<&'static str>,
}

impl Step {
    pub const FIRST: Step = Step {
        toward: Toward::First,
        text: "«",
        label: Some("First page"),
    };
    pub const PREVIOUS: Step = Step {
        toward: Toward::Previous,
        text: "‹",
        label: Some("Previous page"),
    };
    pub const NEXT: Step = Step {
        toward: Toward::Next,
        text: "›",
        label: Some("Next page"),
    };
    pub const LAST: Step = Step {
        toward: Toward::Last,
        text: "»",
        label: Some("Last page"),
    };
}

/// What a pager shows, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Step(Step),
    /// The first and last page numbers and a window around the current one (see
    /// [`pager_items`]), the current one marked `aria-current="page"`.
    Numbers,
    /// The range shown ("1–30 of 1,234") in a `<span class="range">`.
    Range,
}

/// How a pager's steps turn the page.
#[derive(Clone, Copy)]
pub enum Turn {
    /// Each step is a link to the address the callback makes for its page; a step that goes
    /// nowhere is an inert `<span class="page-step disabled" aria-disabled="true">`.
    Links(Callback<u32, String>),
    /// Each step is a button that hands its page to the callback; one that goes nowhere keeps
    /// the keyboard's focus (`aria-disabled`, not `disabled`) and does nothing.
    Buttons(Callback<u32>),
}

/// A `<nav>` named `label` that shows `parts` for page `current` of `last`.
#[component]
pub fn Pager(
    /// The `<nav>`'s class.
    class: &'static str,
    /// The `<nav>`'s accessible name.
    label: &'static str,
    current: u32,
    last: u32,
    turn: Turn,
    parts: &'static [Part],
    /// The text of [`Part::Range`].
    #[prop(optional, into)]
    range: String,
    /// Leave out the steps that go nowhere instead of showing them inert.
    #[prop(optional)]
    hide_ends: bool,
    /// Put the parts in a `<div>` of this class, apart from the children after them.
    #[prop(optional)]
    parts_class: Option<&'static str>,
    /// What follows the parts in the `<nav>` (a jump to a page, say).
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    let shown = parts
        .iter()
        .map(|part| match *part {
            Part::Step(step) => step_view(step, current, last, turn, hide_ends),
            Part::Numbers => numbers_view(current, last, turn),
            Part::Range => view! { <span class="range">{range.clone()}</span> }.into_any(),
        })
        .collect_view();
    let shown = match parts_class {
        Some(parts_class) => view! { <div class=parts_class>{shown}</div> }.into_any(),
        None => shown.into_any(),
    };
    view! {
        <nav class=class aria-label=label>
            {shown}
            {children.map(|children| children())}
        </nav>
    }
}

fn step_view(step: Step, current: u32, last: u32, turn: Turn, hide_ends: bool) -> AnyView {
    let goes = step.toward.goes(current, last);
    let target = step.toward.target(current, last);
    let Step { text, label, .. } = step;
    match turn {
        _ if !goes && hide_ends => ().into_any(),
        Turn::Links(href) if goes => view! {
            <a class="page-step" href=href.run(target) aria-label=label>
                {text}
            </a>
        }
        .into_any(),
        Turn::Links(_) => view! {
            <span class="page-step disabled" aria-label=label aria-disabled="true">
                {text}
            </span>
        }
        .into_any(),
        Turn::Buttons(turn_to) => view! {
            <button
                type="button"
                aria-label=label
                aria-disabled=(!goes).to_string()
                on:click=move |_| {
                    if goes {
                        turn_to.run(target);
                    }
                }
            >
                {text}
            </button>
        }
        .into_any(),
    }
}

fn numbers_view(current: u32, last: u32, turn: Turn) -> AnyView {
    pager_items(current, last)
        .into_iter()
        .map(|item| match (item, turn) {
            (Some(number), _) if number == current => view! {
                <span class="page-number current" aria-current="page">
                    {number}
                </span>
            }
            .into_any(),
            (Some(number), Turn::Links(href)) => view! {
                <a class="page-number" href=href.run(number) aria-label=format!("Page {number}")>
                    {number}
                </a>
            }
            .into_any(),
            (Some(number), Turn::Buttons(turn_to)) => view! {
                <button
                    type="button"
                    class="page-number"
                    aria-label=format!("Page {number}")
                    on:click=move |_| turn_to.run(number)
                >
                    {number}
                </button>
            }
            .into_any(),
            (None, _) => view! { <span class="ellipsis" aria-hidden="true">"…"</span> }.into_any(),
        })
        .collect_view()
        .into_any()
}

/// The page numbers to show in a pager: the first, the last, and a window around the
/// current one; `None` stands for an ellipsis.
pub fn pager_items(current: u32, page_count: u32) -> Vec<Option<u32>> {
    let mut items = Vec::new();
    let window_start = current.saturating_sub(2).max(1);
    let window_end = (current + 2).min(page_count);
    if window_start > 1 {
        items.push(Some(1));
        if window_start > 2 {
            items.push(None);
        }
    }
    for page in window_start..=window_end {
        items.push(Some(page));
    }
    if window_end < page_count {
        if window_end + 1 < page_count {
            items.push(None);
        }
        items.push(Some(page_count));
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pager_shows_ends_and_a_window_with_ellipses() {
        assert_eq!(pager_items(1, 1), vec![Some(1)]);
        assert_eq!(pager_items(1, 4), vec![Some(1), Some(2), Some(3), Some(4)]);
        assert_eq!(
            pager_items(1, 10),
            vec![Some(1), Some(2), Some(3), None, Some(10)]
        );
        assert_eq!(
            pager_items(6, 12),
            vec![
                Some(1),
                None,
                Some(4),
                Some(5),
                Some(6),
                Some(7),
                Some(8),
                None,
                Some(12)
            ]
        );
        assert_eq!(
            pager_items(10, 10),
            vec![Some(1), None, Some(8), Some(9), Some(10)]
        );
        assert_eq!(
            pager_items(4, 10),
            vec![
                Some(1),
                Some(2),
                Some(3),
                Some(4),
                Some(5),
                Some(6),
                None,
                Some(10)
            ]
        );
    }

    #[test]
    fn steps_go_within_the_pages_and_nowhere_at_the_ends() {
        assert_eq!(Toward::Previous.target(1, 5), 1);
        assert_eq!(Toward::Next.target(5, 5), 5);
        assert_eq!(Toward::Next.target(2, 5), 3);
        assert!(!Toward::First.goes(1, 5) && !Toward::Previous.goes(1, 5));
        assert!(Toward::Next.goes(1, 5) && Toward::Last.goes(4, 5));
        assert!(!Toward::Next.goes(5, 5) && !Toward::Last.goes(5, 5));
        assert!(!Toward::Next.goes(1, 1) && !Toward::Previous.goes(1, 1));
    }
}
