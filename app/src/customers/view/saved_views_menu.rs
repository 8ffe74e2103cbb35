//! The saved views menu beside the filters.

use crate::customers::query::CustomerQuery;
use crate::customers::saved_views::{SavedView, MAX_SAVED_VIEW_NAME_CHARS};
use crate::customers::server::{delete_saved_view, list_saved_views, rename_saved_view, save_view};
use crate::error::AppError;
use leptos::prelude::*;

/// The person's saved views: a button beside the filters opens a panel that lists them
/// (each opens its view), saves the current view under a name, renames and deletes. The list
/// is read when the panel first opens, in the browser, so pages render without it.
#[component]
pub(super) fn SavedViewsMenu(query: Memo<CustomerQuery>) -> impl IntoView {
    let open = RwSignal::new(false);
    let views = RwSignal::new(None::<Vec<SavedView>>);
    let status = RwSignal::new(String::new());
    let problem = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let editing = RwSignal::new(None::<i64>);
    let new_name = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let report = move |result: Result<String, AppError>| match result {
        Ok(message) => {
            problem.set(String::new());
            status.set(message);
        }
        Err(error) => {
            status.set(String::new());
            problem.set(error.to_string());
        }
    };
    let reload = move || {
        leptos::task::spawn_local(async move {
            match list_saved_views().await {
                Ok(list) => views.set(Some(list)),
                Err(error) => problem.set(format!("Saved views could not be loaded. {error}")),
            }
        });
    };
    let toggle = move |_| {
        let now_open = !open.get_untracked();
        open.set(now_open);
        if now_open && views.get_untracked().is_none() {
            reload();
        }
    };
    let on_save = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let chosen = name.get_untracked();
        let current = query.get_untracked();
        leptos::task::spawn_local(async move {
            let result = save_view(chosen, current).await;
            busy.set(false);
            if result.is_ok() {
                name.set(String::new());
                reload();
            }
            report(result.map(|saved| format!("Saved “{}”.", saved.name)));
        });
    };
    let on_rename = move |id: i64| {
        let chosen = new_name.get_untracked();
        leptos::task::spawn_local(async move {
            let result = rename_saved_view(id, chosen).await;
            if result.is_ok() {
                editing.set(None);
                reload();
            }
            report(result.map(|renamed| format!("Renamed to “{}”.", renamed.name)));
        });
    };
    let on_delete = move |view: SavedView| {
        leptos::task::spawn_local(async move {
            let result = delete_saved_view(view.id).await;
            if result.is_ok() {
                reload();
            }
            report(result.map(|_| format!("Deleted “{}”.", view.name)));
        });
    };
    let button = NodeRef::<leptos::html::Button>::new();
    let container = NodeRef::<leptos::html::Div>::new();
    let on_panel_keydown = move |event: web_sys::KeyboardEvent| {
        if event.key() == "Escape" && editing.get_untracked().is_none() {
            open.set(false);
            if let Some(button) = button.get_untracked() {
                let _ = button.focus();
            }
        }
    };
    // The panel lies over the table: when focus moves on past it, it closes, so nothing that
    // has focus is ever hidden under it (WCAG 2.4.11).
    let on_focus_out = move |event: leptos::ev::FocusEvent| {
        let leaving = match (event.related_target(), container.get_untracked()) {
            (Some(next), Some(container)) => {
                use leptos::wasm_bindgen::JsCast;
                !next
                    .dyn_ref::<web_sys::Node>()
                    .is_some_and(|node| container.contains(Some(node)))
            }
            _ => false,
        };
        if leaving {
            open.set(false);
        }
    };
    view! {
        <div class="saved-views" node_ref=container on:focusout=on_focus_out>
            <button
                type="button"
                class="button"
                node_ref=button
                aria-expanded=move || open.get().to_string()
                aria-controls="saved-views-panel"
                on:click=toggle
            >
                "Saved views"
            </button>
            <div
                id="saved-views-panel"
                class="saved-views-panel"
                hidden=move || !open.get()
                on:keydown=on_panel_keydown
            >
                <h2 class="panel-title">"Saved views"</h2>
                {move || match views.get() {
                    None => view! { <p class="loading">"Loading saved views…"</p> }.into_any(),
                    Some(list) if list.is_empty() => view! {
                        <p class="panel-empty">"No saved views yet. Name the current view below to keep it."</p>
                    }
                        .into_any(),
                    Some(list) => view! {
                        <ul class="saved-view-list">
                            {list
                                .into_iter()
                                .map(|saved| {
                                    let id = saved.id;
                                    let label = saved.name.clone();
                                    let for_delete = saved.clone();
                                    let input_id = format!("rename-view-{id}");
                                    view! {
                                        <li>
                                            <Show
                                                when=move || editing.get() == Some(id)
                                                fallback={
                                                    let saved = saved.clone();
                                                    let label = label.clone();
                                                    let for_delete = for_delete.clone();
                                                    move || {
                                                        let label = label.clone();
                                                        let for_delete = for_delete.clone();
                                                        view! {
                                                            <a class="saved-view-link" href=saved.href() on:click=move |_| open.set(false)>
                                                                {saved.name.clone()}
                                                            </a>
                                                            <span class="saved-view-actions">
                                                                <button
                                                                    type="button"
                                                                    class="link-button"
                                                                    aria-label=format!("Rename {label}")
                                                                    on:click={
                                                                        let label = label.clone();
                                                                        move |_| {
                                                                            new_name.set(label.clone());
                                                                            editing.set(Some(id));
                                                                        }
                                                                    }
                                                                >
                                                                    "Rename"
                                                                </button>
                                                                <button
                                                                    type="button"
                                                                    class="link-button danger"
                                                                    aria-label=format!("Delete {label}")
                                                                    on:click=move |_| on_delete(for_delete.clone())
                                                                >
                                                                    "Delete"
                                                                </button>
                                                            </span>
                                                        }
                                                    }
                                                }
                                            >
                                                <form
                                                    class="rename-form"
                                                    on:submit=move |event: leptos::ev::SubmitEvent| {
                                                        event.prevent_default();
                                                        on_rename(id);
                                                    }
                                                >
                                                    <label for=input_id.clone()>{format!("New name for {}", label)}</label>
                                                    <input
                                                        id=input_id.clone()
                                                        type="text"
                                                        maxlength=MAX_SAVED_VIEW_NAME_CHARS.to_string()
                                                        prop:value=move || new_name.get()
                                                        on:input=move |event| new_name.set(event_target_value(&event))
                                                        on:keydown=move |event: web_sys::KeyboardEvent| {
                                                            if event.key() == "Escape" {
                                                                event.prevent_default();
                                                                editing.set(None);
                                                            }
                                                        }
                                                    />
                                                    <button type="submit" class="button">"Save name"</button>
                                                    <button type="button" class="button quiet" on:click=move |_| editing.set(None)>
                                                        "Cancel"
                                                    </button>
                                                </form>
                                            </Show>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                        .into_any(),
                }}
                <form class="save-view-form" on:submit=on_save>
                    <label for="save-view-name">"Name this view"</label>
                    <div class="save-view-row">
                        <input
                            id="save-view-name"
                            type="text"
                            required
                            maxlength=MAX_SAVED_VIEW_NAME_CHARS.to_string()
                            autocomplete="off"
                            prop:value=move || name.get()
                            on:input=move |event| name.set(event_target_value(&event))
                        />
                        <button type="submit" class="button" disabled=move || busy.get()>
                            "Save view"
                        </button>
                    </div>
                </form>
                <p class="panel-status" role="status">{move || status.get()}</p>
                <Show when=move || !problem.with(String::is_empty)>
                    <p class="field-error" role="alert">{move || problem.get()}</p>
                </Show>
            </div>
        </div>
    }
}
