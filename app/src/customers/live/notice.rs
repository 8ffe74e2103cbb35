//! The notice above the Customers table: "12 new scored conversations" with an Update
//! button, in a polite live region. The region is rendered empty by the server and filled
//! only by the client, so the page reads and works the same before the client wakes (and
//! without it); the rows never move until Update is pressed.

use super::MOST_COUNTED;
use crate::components::group_thousands;
use leptos::prelude::*;

/// What the notice says for `scored` new scored conversations.
pub fn describe(scored: i64) -> String {
    match scored {
        1 => "1 new scored conversation".to_owned(),
        n if n > MOST_COUNTED => format!(
            "{}+ new scored conversations",
            group_thousands(MOST_COUNTED)
        ),
        n => format!("{} new scored conversations", group_thousands(n)),
    }
}

#[component]
pub fn LiveNotice(
    /// The data version of the rows on screen; `None` until they arrive.
    #[prop(into)]
    shown: Signal<Option<i64>>,
    /// Refreshes the table and the opened rows in place.
    on_update: Callback<()>,
) -> impl IntoView {
    // How many new scored conversations to announce; `None`: nothing to say.
    let notice = RwSignal::new(None::<i64>);
    #[cfg(feature = "hydrate")]
    follow::follow(shown, notice);
    #[cfg(not(feature = "hydrate"))]
    let _ = shown;
    view! {
        <div class="live-notice" role="status">
            {move || notice.get().map(|scored| view! {
                <p class="notice live">
                    <span>{describe(scored)}</span>
                    <button
                        type="button"
                        class="button update"
                        on:click=move |_| {
                            notice.set(None);
                            on_update.run(());
                        }
                    >
                        "Update"
                    </button>
                </p>
            })}
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod follow {
    use super::super::server::new_conversations;
    use super::super::shared_stream::{self, SharedStream};
    use super::super::NOTICE_EVERY_SECS;
    use leptos::prelude::*;
    use std::time::Duration;

    /// Joins the browser's shared stream once the rows are known, and asks how many scored
    /// conversations are new whenever a version newer than the rows' is heard: at most once
    /// per [`NOTICE_EVERY_SECS`], counted from the version on screen at the time of asking.
    pub(super) fn follow(shown: Signal<Option<i64>>, notice: RwSignal<Option<i64>>) {
        let heard = RwSignal::new(0_i64);
        let stream = StoredValue::new_local(None::<SharedStream>);
        let asked_at = StoredValue::new(None::<f64>);
        let scheduled = StoredValue::new(false);
        Effect::new(move |started: Option<bool>| {
            if started == Some(true) {
                return true;
            }
            let Some(version) = shown.get() else {
                return false;
            };
            let joined = shared_stream::follow(version, move |version| {
                heard.update(|heard| *heard = (*heard).max(version));
            });
            stream.set_value(Some(joined));
            true
        });
        on_cleanup(move || stream.set_value(None));
        let ask = move || {
            scheduled.set_value(false);
            asked_at.set_value(Some(js_now()));
            let Some(since) = shown.get_untracked() else {
                return;
            };
            leptos::task::spawn_local(async move {
                // A failed count says nothing: the next version heard asks again.
                if let Ok(answer) = new_conversations(since).await {
                    if shown.get_untracked() == Some(since) && answer.scored > 0 {
                        notice.set(Some(answer.scored));
                    }
                }
            });
        };
        Effect::new(move |_| {
            let (Some(shown), heard) = (shown.get(), heard.get()) else {
                return;
            };
            if heard <= shown {
                notice.set(None);
                return;
            }
            if scheduled.get_value() {
                return;
            }
            let every_ms = (NOTICE_EVERY_SECS * 1000) as f64;
            let wait_ms = asked_at
                .get_value()
                .map_or(0.0, |at| (at + every_ms - js_now()).max(0.0));
            if wait_ms <= 0.0 {
                ask();
            } else {
                scheduled.set_value(true);
                set_timeout(ask, Duration::from_millis(wait_ms as u64));
            }
        });
    }

    fn js_now() -> f64 {
        web_sys::js_sys::Date::now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notice_counts_in_words() {
        assert_eq!(describe(1), "1 new scored conversation");
        assert_eq!(describe(12), "12 new scored conversations");
        assert_eq!(describe(2_500), "2,500 new scored conversations");
        assert_eq!(describe(10_001), "10,000+ new scored conversations");
    }
}
