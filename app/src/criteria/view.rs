use super::model::CriterionScore;
use crate::components::BandMark;
use crate::conversations::model::format_score;
use crate::orgs::model::ScoreBands;
use leptos::prelude::*;

/// A conversation's criterion scores, each with its band, as a table under its own heading;
/// nothing when the conversation has none.
#[component]
pub fn CriterionScores(scores: Vec<CriterionScore>, band_edges: (i64, i64)) -> impl IntoView {
    let bands = ScoreBands::new(band_edges.0, band_edges.1).unwrap_or_default();
    (!scores.is_empty()).then(|| {
        view! {
            <section class="criterion-scores" aria-labelledby="criterion-scores-heading">
                <h2 id="criterion-scores-heading">"Playbook criteria"</h2>
                <div class="table-wrap">
                    <table class="history-table" aria-labelledby="criterion-scores-heading">
                        <thead>
                            <tr>
                                <th scope="col">"Criterion"</th>
                                <th scope="col" class="numeric">"Score"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {scores
                                .into_iter()
                                .map(|criterion| view! {
                                    <tr>
                                        <th scope="row">{criterion.label}</th>
                                        <td class="numeric">
                                            {match criterion.score_hundredths {
                                                Some(hundredths) => view! {
                                                    {format_score(hundredths)}
                                                    <BandMark band=bands.band(hundredths) />
                                                }
                                                    .into_any(),
                                                None => view! { "Not applicable" }.into_any(),
                                            }}
                                        </td>
                                    </tr>
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                </div>
            </section>
        }
    })
}
