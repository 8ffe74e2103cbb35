use leptos::prelude::*;
use std::time::Duration;

/// How long typing pauses before the page follows a text box.
const TYPING_DEBOUNCE: Duration = Duration::from_millis(250);

/// A text box that follows `value` (the URL's) and, after a pause in typing, hands its text
/// to `on_settle`; Escape empties it at once.
#[component]
pub fn DebouncedText(
    id: String,
    label: String,
    value: Signal<String>,
    #[prop(into)] on_settle: Callback<String>,
    /// The box's `maxlength`.
    max_chars: usize,
    #[prop(optional)] search: bool,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] node_ref: NodeRef<leptos::html::Input>,
    /// The box's name in a plain form (what it submits before the client wakes).
    #[prop(optional, into)]
    name: Option<String>,
) -> impl IntoView {
    let text = RwSignal::new(value.get_untracked());
    // Bumped on every keystroke; a pending timer only fires if it is still the latest.
    let typing = RwSignal::new(0_u64);
    let pending = RwSignal::new(false);
    // Back, forward or another control changed the URL: show its value, unless the user is
    // mid-way through typing something newer.
    Effect::new(move |_| {
        let from_url = value.get();
        if !pending.get_untracked() && text.get_untracked().trim() != from_url {
            text.set(from_url);
        }
    });
    let on_input = move |event| {
        text.set(event_target_value(&event));
        pending.set(true);
        let ticket = typing.get_untracked() + 1;
        typing.set(ticket);
        set_timeout(
            move || {
                if typing.get_untracked() == ticket {
                    pending.set(false);
                    on_settle.run(text.get_untracked());
                }
            },
            TYPING_DEBOUNCE,
        );
    };
    // Escape empties the box at once (no pause), and the view follows.
    let on_keydown = move |event: web_sys::KeyboardEvent| {
        if event.key() == "Escape" && !text.get_untracked().is_empty() {
            event.prevent_default();
            typing.update(|ticket| *ticket += 1);
            pending.set(false);
            text.set(String::new());
            on_settle.run(String::new());
        }
    };
    let input_type = if search { "search" } else { "text" };
    view! {
        <div class="control">
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type=input_type
                maxlength=max_chars.to_string()
                autocomplete="off"
                spellcheck="false"
                placeholder=placeholder
                node_ref=node_ref
                // The attribute too: the server's page shows the text, before the client wakes.
                value=move || text.get()
                prop:value=move || text.get()
                on:input=on_input
                on:keydown=on_keydown
            />
        </div>
    }
}
