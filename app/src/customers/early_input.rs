//! What a person types or ticks in the Customers filters before the client wakes.
//!
//! The server's page is usable at once: its filters are a plain GET form. When the client
//! hydrates, it would reset every control to the address's view. So the browser entry reads
//! the form just before hydrating ([`capture`]); once hydrated, the page adopts what was
//! captured ([`take`]): the view it names is navigated to, the search typed runs, and focus
//! and caret go back where they were.

use leptos::wasm_bindgen::JsCast;
use std::cell::RefCell;
use web_sys::{HtmlFormElement, HtmlInputElement, HtmlOptionElement, HtmlSelectElement};

/// The filter form's class: the one form [`capture`] reads.
pub const FILTER_FORM_CLASS: &str = "customer-filters";

/// The filters as they stood before hydration, when someone had changed them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Captured {
    /// The form's fields as a GET submission would send them.
    pub pairs: Vec<(String, String)>,
    /// The focused control's id, with its selection (start, end) when it is a text box.
    pub focus: Option<(String, Option<(u32, u32)>)>,
}

thread_local! {
    static CAPTURED: RefCell<Option<Captured>> = const { RefCell::new(None) };
}

/// The name/value pairs the form would submit: named text boxes and selects, ticked boxes.
pub fn form_pairs(form: &HtmlFormElement) -> Vec<(String, String)> {
    pairs_of(form, State::Current)
}

/// Which state of the controls to read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// As the person left them.
    Current,
    /// As the server rendered them (`defaultValue`, `defaultChecked`, `defaultSelected`).
    Rendered,
}

fn pairs_of(form: &HtmlFormElement, state: State) -> Vec<(String, String)> {
    let elements = form.elements();
    let mut pairs = Vec::new();
    for index in 0..elements.length() {
        let Some(element) = elements.item(index) else {
            continue;
        };
        if let Some(input) = element.dyn_ref::<HtmlInputElement>() {
            let (name, channel) = (input.name(), input.type_());
            if name.is_empty() || input.disabled() {
                continue;
            }
            let (checked, value) = match state {
                State::Current => (input.checked(), input.value()),
                State::Rendered => (input.default_checked(), input.default_value()),
            };
            match channel.as_str() {
                "checkbox" | "radio" if !checked => {}
                "submit" | "button" | "reset" | "image" | "file" => {}
                _ => pairs.push((name, value)),
            }
        } else if let Some(select) = element.dyn_ref::<HtmlSelectElement>() {
            if select.name().is_empty() || select.disabled() {
                continue;
            }
            let value = match state {
                State::Current => Some(select.value()),
                State::Rendered => {
                    let options = select.options();
                    let mut chosen = None;
                    for index in 0..options.length() {
                        let option = options
                            .item(index)
                            .and_then(|option| option.dyn_into::<HtmlOptionElement>().ok());
                        if let Some(option) = option {
                            // The first option stands when none was rendered selected.
                            if chosen.is_none() || option.default_selected() {
                                chosen = Some(option.value());
                            }
                            if option.default_selected() {
                                break;
                            }
                        }
                    }
                    chosen
                }
            };
            if let Some(value) = value {
                pairs.push((select.name(), value));
            }
        }
    }
    pairs
}

/// Reads the filter form, if the page has one, before the client hydrates it.
pub fn capture() {
    let Some(document) = web_sys::window().and_then(|window| window.document()) else {
        return;
    };
    let Some(form) = document
        .query_selector(&format!("form.{FILTER_FORM_CLASS}"))
        .ok()
        .flatten()
        .and_then(|element| element.dyn_into::<HtmlFormElement>().ok())
    else {
        return;
    };
    let focus = document.active_element().and_then(|active| {
        let id = active.id();
        if id.is_empty() {
            return None;
        }
        let selection = active.dyn_ref::<HtmlInputElement>().and_then(|input| {
            Some((
                input.selection_start().ok().flatten()?,
                input.selection_end().ok().flatten()?,
            ))
        });
        Some((id, selection))
    });
    let pairs = form_pairs(&form);
    // Nothing typed or ticked: the page stays as the server rendered it (with whatever notes
    // it has about the address), and only focus is kept.
    let changed = pairs != pairs_of(&form, State::Rendered);
    let captured = Captured {
        pairs: if changed { pairs } else { Vec::new() },
        focus,
    };
    CAPTURED.with(|slot| *slot.borrow_mut() = Some(captured));
}

/// What [`capture`] read, once.
pub fn take() -> Option<Captured> {
    CAPTURED.with(|slot| slot.borrow_mut().take())
}

/// Puts focus and caret back on the control that had them.
pub fn restore_focus(focus: &(String, Option<(u32, u32)>)) {
    let Some(document) = web_sys::window().and_then(|window| window.document()) else {
        return;
    };
    let Some(element) = document.get_element_by_id(&focus.0) else {
        return;
    };
    if let Some(input) = element.dyn_ref::<HtmlInputElement>() {
        let _ = input.focus();
        if let Some((start, end)) = focus.1 {
            let _ = input.set_selection_range(start, end);
        }
    } else if let Some(select) = element.dyn_ref::<HtmlSelectElement>() {
        let _ = select.focus();
    }
}
