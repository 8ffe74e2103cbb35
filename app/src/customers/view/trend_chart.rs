//! The trend chart of an opened row (an SVG drawn on the server and the client alike).

use crate::components::group_thousands;
use crate::customers::trend::{moving_average, Trend, TREND_WINDOW};
use leptos::prelude::*;

/// The drawing area of the trend, in SVG user units.
pub(super) const CHART_WIDTH: f64 = 640.0;

pub(super) const CHART_HEIGHT: f64 = 150.0;

pub(super) const CHART_LEFT: f64 = 34.0;

pub(super) const CHART_RIGHT: f64 = 10.0;

pub(super) const CHART_TOP: f64 = 10.0;

pub(super) const CHART_BOTTOM: f64 = 24.0;

/// The row's scores over time: a point per conversation, the moving average, the band edges.
#[component]
pub(super) fn TrendChart(trend: Trend, identifier: String) -> impl IntoView {
    let caption_id = format!(
        "trend-caption-{}",
        crate::text::encode_component(&identifier)
    );
    let points = trend.points;
    let bands = trend.bands;
    let drawn = points.len();
    let (start, end) = (
        points.first().map_or(0, |p| p.at_ms),
        points.last().map_or(0, |p| p.at_ms),
    );
    let span = (end - start).max(1) as f64;
    let plot_width = CHART_WIDTH - CHART_LEFT - CHART_RIGHT;
    let plot_height = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM;
    let x = move |at_ms: i64| {
        if end == start {
            CHART_LEFT + plot_width / 2.0
        } else {
            CHART_LEFT + (at_ms - start) as f64 / span * plot_width
        }
    };
    let y = move |points_value: f64| {
        CHART_TOP + (1.0 - points_value.clamp(0.0, 100.0) / 100.0) * plot_height
    };
    let average = moving_average(&points, TREND_WINDOW);
    let line: String = points
        .iter()
        .zip(&average)
        .map(|(point, mean)| format!("{:.1},{:.1}", x(point.at_ms), y(*mean)))
        .collect::<Vec<_>>()
        .join(" ");
    let edges = [bands.low, bands.high].map(|edge| {
        let at = y(edge as f64 / 100.0);
        view! {
            <line class="band-edge" x1=CHART_LEFT x2=CHART_WIDTH - CHART_RIGHT y1=at y2=at></line>
            <text class="axis-label" x=CHART_LEFT - 4.0 y=at + 4.0 text-anchor="end">
                {crate::conversations::model::format_score(edge)}
            </text>
        }
    });
    let dots = points
        .iter()
        .map(|point| {
            let band = bands.band(point.score);
            view! {
                <circle
                    class=format!("trend-point {}", band.class())
                    cx=format!("{:.1}", x(point.at_ms))
                    cy=format!("{:.1}", y(point.score as f64 / 100.0))
                    r="3"
                ></circle>
            }
        })
        .collect_view();
    let more = (trend.total > drawn as i64).then(|| {
        format!(
            " The chart shows the latest {} of {} conversations.",
            group_thousands(drawn as i64),
            group_thousands(trend.total)
        )
    });
    view! {
        <figure class="trend">
            <svg
                class="trend-chart"
                viewBox=format!("0 0 {CHART_WIDTH} {CHART_HEIGHT}")
                preserveAspectRatio="none"
                role="img"
                aria-label=format!("Score trend of {identifier}")
                aria-describedby=caption_id.clone()
            >
                <rect class="trend-frame" x=CHART_LEFT y=CHART_TOP width=plot_width height=plot_height></rect>
                {edges}
                {(drawn > 1).then(|| view! { <polyline class="trend-average" points=line></polyline> })}
                {dots}
                <text class="axis-label" x=CHART_LEFT y=CHART_HEIGHT - 6.0>{trend.first_label.clone()}</text>
                <text class="axis-label" x=CHART_WIDTH - CHART_RIGHT y=CHART_HEIGHT - 6.0 text-anchor="end">
                    {trend.last_label.clone()}
                </text>
            </svg>
            <figcaption id=caption_id>{trend.summary.clone()} {more}</figcaption>
        </figure>
    }
}
