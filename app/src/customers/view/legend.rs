//! The legend of the score bands under the table.

use crate::orgs::model::{Band, ScoreBands};
use leptos::prelude::*;

/// What the bands mean, on the page beside the scores that show them.
#[component]
pub(super) fn BandLegend(bands: ScoreBands) -> impl IntoView {
    view! {
        <ul class="band-legend" aria-label="Score bands">
            {Band::ALL
                .into_iter()
                .map(|band| {
                    let covers = bands.describe(band);
                    let covers = match band {
                        Band::Low => covers.to_lowercase(),
                        _ => covers,
                    };
                    view! {
                        <li>
                            <span class=format!("band {}", band.class()) aria-hidden="true">{band.glyph()}</span>
                            {format!("{}: {covers}", band.name())}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}
