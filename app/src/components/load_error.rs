use crate::error::AppError;
use leptos::prelude::*;

/// An inline error with a retry button: "The `what` could not be loaded."
#[component]
pub fn LoadError(what: &'static str, error: AppError, retry: Callback<()>) -> impl IntoView {
    view! {
        <div class="inline-error" role="alert">
            <p>{format!("The {what} could not be loaded. ")} {error.to_string()}</p>
            <button type="button" class="button" on:click=move |_| retry.run(())>
                "Retry"
            </button>
        </div>
    }
}
