use super::server::get_conversation;
use crate::auth::view::RequireReviewer;
use crate::components::{NotFoundMessage, RouteId};
use crate::customers::query::CustomerQuery;
use crate::error::{mark_status, AppError};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ConversationPage() -> impl IntoView {
    let id = RouteId::read();
    let conversation = Resource::new(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => get_conversation(id).await,
                None => Err(mark_status(AppError::NotFound(
                    "The conversation".to_owned(),
                ))),
            }
        },
    );
    // The gate sits inside the page, below the resources: a Suspense may render its
    // children more than once on the server, and resources created there would each run
    // and be serialized into the page again.
    view! {
        <RequireReviewer>
            <section class="page detail-page">
                <Suspense fallback=|| view! { <p class="loading">"Loading conversation…"</p> }>
                    {move || Suspend::new(async move {
                        match conversation.await {
                            Ok(detail) => view! {
                                <Title text=detail.title.clone() />
                                <header class="page-header">
                                    <p class="eyebrow">{detail.channel.label()}</p>
                                    <h1>{detail.title.clone()}</h1>
                                </header>
                                <dl class="facts">
                                    <dt>"Type"</dt>
                                    <dd>{detail.channel.label()}</dd>
                                    <dt>"Date and time"</dt>
                                    <dd>{detail.occurred_at.clone()}</dd>
                                    <dt>"Customer"</dt>
                                    <dd>
                                        <a href=CustomerQuery::customer_link(&detail.customer_identifier)>
                                            {detail.customer_identifier.clone()}
                                        </a>
                                        {detail.customer_name.clone().map(|name| view! { <span class="display-name">{name}</span> })}
                                    </dd>
                                    <dt>"Representative"</dt>
                                    <dd>
                                        <a href=format!("/representatives/{}", detail.representative_id)>
                                            {detail.representative_name.clone()}
                                        </a>
                                    </dd>
                                    <dt>"Score"</dt>
                                    <dd>{detail.score.clone().unwrap_or_else(|| "Not scored".to_owned())}</dd>
                                    <dt>"External id"</dt>
                                    <dd>{detail.external_id.clone()}</dd>
                                    {detail
                                        .fields
                                        .iter()
                                        .map(|(label, value)| view! {
                                            <dt>{label.clone()}</dt>
                                            <dd>{value.clone()}</dd>
                                        })
                                        .collect_view()}
                                </dl>
                            }
                                .into_any(),
                            Err(error) => view! { <NotFoundMessage error=error /> }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
        </RequireReviewer>
    }
}
