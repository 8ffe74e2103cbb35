use crate::error::{AppError, RETRY_AFTER_SECS};
use leptos::prelude::*;

/// An inline error with a retry button: "The `what` could not be loaded."
///
/// While the server is still loading the organisation's figures (after a start, or a large
/// import), it is no error: the place says so and tries again by itself, in the browser
/// after a few seconds and, before the client wakes or without it, through the `Refresh`
/// header the server sent with the page.
#[component]
pub fn LoadError(what: &'static str, error: AppError, retry: Callback<()>) -> impl IntoView {
    if error == AppError::Loading {
        #[cfg(feature = "hydrate")]
        set_timeout(
            move || retry.run(()),
            std::time::Duration::from_secs(u64::from(RETRY_AFTER_SECS)),
        );
        return view! {
            <div class="loading-figures" role="status">
                <p>
                    {format!(
                        "Your organisation's {what} are being loaded on the server. This place will try again by itself in {RETRY_AFTER_SECS} seconds.",
                    )}
                </p>
                <button type="button" class="button" on:click=move |_| retry.run(())>
                    "Try now"
                </button>
            </div>
        }
        .into_any();
    }
    view! {
        <div class="inline-error" role="alert">
            <p>{format!("The {what} could not be loaded. ")} {error.to_string()}</p>
            <button type="button" class="button" on:click=move |_| retry.run(())>
                "Retry"
            </button>
        </div>
    }
    .into_any()
}
