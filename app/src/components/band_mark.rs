use crate::orgs::model::Band;
use leptos::prelude::*;

/// A score's band: a shape and a word (read by screen readers), in the band's colour.
#[component]
pub fn BandMark(band: Band) -> impl IntoView {
    view! {
        <span class=format!("band {}", band.class()) title=band.name()>
            <span aria-hidden="true">{band.glyph()}</span>
            <span class="visually-hidden">{band.name()}</span>
        </span>
    }
}
