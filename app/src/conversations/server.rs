use super::model::ConversationDetail;
use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// One conversation of the viewer's organisation; another organisation's id is not found,
/// exactly like an id that does not exist.
#[server(endpoint = "conversation", input = Json)]
pub async fn get_conversation(id: i64) -> Result<ConversationDetail, AppError> {
    use super::model::{format_score, Channel};
    use super::store::find_conversation;
    use crate::error::mark_status;
    use crate::orgs::time::format_date_time;
    use crate::session::{app_state, current_reviewer};

    let state = app_state()?;
    let viewer = current_reviewer().map_err(mark_status)?;
    let found = find_conversation(&state.db, viewer.org_id, id)
        .await
        .map_err(crate::error::answer)?;
    let Some((record, fields)) = found else {
        return Err(mark_status(AppError::NotFound(
            "The conversation".to_owned(),
        )));
    };
    Ok(ConversationDetail {
        id: record.id,
        external_id: record.external_id,
        title: record.title,
        channel: Channel::parse(&record.channel).unwrap_or(Channel::Chat),
        occurred_at: format_date_time(record.occurred_at_ms, viewer.time_zone),
        customer_identifier: record.customer_identifier,
        customer_name: record.customer_name,
        representative_id: record.representative_id,
        representative_name: record.representative_name,
        score: record.score_hundredths.map(format_score),
        fields: fields
            .into_iter()
            .map(|field| (field.label, field.value))
            .collect(),
    })
}
