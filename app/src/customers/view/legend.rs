//! The legend of the score bands under the table.

use crate::orgs::model::{Band, ScoreBands};
use leptos::prelude::*;

/// What the bands and marks mean, on the page beside the scores that show them.
#[component]
pub(super) fn BandLegend(
    bands: ScoreBands,
    /// The previous period's days, when the table has a Change column.
    previous_period: Option<String>,
) -> impl IntoView {
    let compared = previous_period.is_some();
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
        // The marks have a list of their own, beside the bands'.
        <ul class="band-legend mark-legend" aria-label="Marks">
            <li>
                <span class="sample-mark" aria-hidden="true">"*"</span>
                "Small sample: an average over fewer than 3 scored conversations"
            </li>
            {previous_period.map(|days| view! {
                <li class="change-legend">{format!("Change: against {days}, with the same filters")}</li>
            })}
            {compared.then(|| view! {
                <li>
                    <span class="uncertain-mark" aria-hidden="true">"?"</span>
                    "Uncertain change: either period has fewer than 3 scored conversations"
                </li>
            })}
        </ul>
    }
}
