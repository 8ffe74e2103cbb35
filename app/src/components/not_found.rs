use crate::error::AppError;
use leptos::prelude::*;

/// A not-found (or other error) message in the page, with the way back to Customers.
#[component]
pub fn NotFoundMessage(error: AppError) -> impl IntoView {
    view! {
        <div class="empty-state" role="alert">
            <h1>{if matches!(error, AppError::NotFound(_)) { "Not found" } else { "Something went wrong" }}</h1>
            <p>{error.to_string()}</p>
            <a class="button" href="/customers">
                "Back to customers"
            </a>
        </div>
    }
}
