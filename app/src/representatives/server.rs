use super::model::RepresentativeProfile;
use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// A representative's profile in the viewer's organisation; other organisations' ids are
/// not found.
#[server(endpoint = "representative", input = Json)]
pub async fn get_representative(id: i64, page: u32) -> Result<RepresentativeProfile, AppError> {
    use super::model::ProfileConversation;
    use super::store::representative_profile;
    use crate::conversations::model::{format_average, format_score, Channel};
    use crate::error::mark_status;
    use crate::orgs::time::format_date_time;
    use crate::session::{app_state, current_reviewer};

    let state = app_state()?;
    let viewer = current_reviewer().map_err(mark_status)?;
    let found = representative_profile(&state.db, viewer.org_id, id, page.max(1))
        .await
        .map_err(crate::error::answer)?;
    let Some((record, conversations)) = found else {
        return Err(mark_status(AppError::NotFound(
            "The representative".to_owned(),
        )));
    };
    Ok(RepresentativeProfile {
        id: record.id,
        name: record.name,
        email: record.email,
        scored_conversations: record.scored,
        average_score: format_average(record.score_sum, record.scored),
        conversations: conversations
            .rows
            .into_iter()
            .map(|row| ProfileConversation {
                id: row.id,
                title: row.title,
                channel: Channel::parse(&row.channel).unwrap_or(Channel::Chat),
                occurred_at: format_date_time(row.occurred_at_ms, viewer.time_zone),
                customer_identifier: row.customer_identifier,
                score: row.score_hundredths.map(format_score),
            })
            .collect(),
        total_conversations: conversations.total,
        page: conversations.page,
        page_count: conversations.page_count,
    })
}
