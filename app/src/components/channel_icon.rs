use crate::conversations::model::Channel;
use leptos::prelude::*;

/// A conversation's channel as an inline glyph: no icon font or image request, and an
/// accessible name.
#[component]
pub fn ChannelIcon(channel: Channel) -> impl IntoView {
    let path = match channel {
        Channel::Voice => "M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z",
        Channel::Chat => "M4 4h16a1 1 0 0 1 1 1v11a1 1 0 0 1-1 1H8l-4 4V5a1 1 0 0 1 1-1z",
        Channel::Email => "M3 5h18a1 1 0 0 1 1 1v12a1 1 0 0 1-1 1H3a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1zm9 7.2L20 7H4z",
    };
    view! {
        <svg class=format!("channel-icon channel-{}", channel.as_str()) viewBox="0 0 24 24" role="img" aria-label=channel.label()>
            <title>{channel.label()}</title>
            <path d=path fill="currentColor"></path>
        </svg>
    }
}
