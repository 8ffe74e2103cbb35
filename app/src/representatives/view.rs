use super::model::PROFILE_PAGE_SIZE;
use super::server::get_representative;
use crate::auth::view::RequireReviewer;
use crate::components::{
    group_thousands, range_label, NotFoundMessage, Pager, Part, RouteId, Step, Toward, Turn,
};
use crate::criteria::breakdown_server::representative_criteria;
use crate::criteria::breakdown_view::BreakdownAnswer;
use crate::customers::query::CustomerQuery;
use crate::error::{mark_status, AppError};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Newer and older steps (only where there are more) around the range.
const PROFILE_PAGER: &[Part] = &[
    Part::Step(Step {
        toward: Toward::Previous,
        text: "‹ Newer",
        label: None,
    }),
    Part::Range,
    Part::Step(Step {
        toward: Toward::Next,
        text: "Older ›",
        label: None,
    }),
];

#[component]
pub fn RepresentativePage() -> impl IntoView {
    let id = RouteId::read();
    let query = use_query_map();
    let page = Memo::new(move |_| {
        query.with(|q| {
            q.get("page")
                .and_then(|p| p.parse::<u32>().ok())
                .unwrap_or(1)
                .max(1)
        })
    });
    let profile = Resource::new(
        move || (id.get(), page.get()),
        |(id, page)| async move {
            match id {
                Some(id) => get_representative(id, page).await,
                None => Err(mark_status(AppError::NotFound(
                    "The representative".to_owned(),
                ))),
            }
        },
    );
    // The representative's criteria against the organisation's: a resource of the page too.
    let criteria = Resource::new(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => representative_criteria(id).await,
                None => Err(mark_status(AppError::NotFound(
                    "The representative".to_owned(),
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
                <Suspense fallback=|| view! { <p class="loading">"Loading profile…"</p> }>
                    {move || Suspend::new(async move {
                        match profile.await {
                            Ok(profile) => {
                                let breakdown = criteria.await;
                                let base = format!("/representatives/{}", profile.id);
                                let range = range_label(profile.page, PROFILE_PAGE_SIZE, profile.conversations.len(), profile.total_conversations);
                                view! {
                                    <Title text=profile.name.clone() />
                                    <header class="page-header">
                                        <p class="eyebrow">"Representative"</p>
                                        <h1>{profile.name.clone()}</h1>
                                    </header>
                                    <dl class="facts">
                                        <dt>"Email"</dt>
                                        <dd>{profile.email.clone()}</dd>
                                        <dt>"Conversations"</dt>
                                        <dd>{group_thousands(profile.total_conversations)}</dd>
                                        <dt>"Scored conversations"</dt>
                                        <dd>{group_thousands(profile.scored_conversations)}</dd>
                                        <dt>"Average score"</dt>
                                        <dd>
                                            {if profile.average_score.is_empty() {
                                                "No scored conversations".to_owned()
                                            } else {
                                                profile.average_score.clone()
                                            }}
                                        </dd>
                                    </dl>
                                    <BreakdownAnswer
                                        answer=breakdown
                                        subject="This representative"
                                        link=None
                                        retry=Callback::new(move |_| criteria.refetch())
                                    />
                                    <div class="table-wrap">
                                        <table class="history-table">
                                            <caption>"All conversations, scored and unscored"</caption>
                                            <thead>
                                                <tr>
                                                    <th scope="col">"Conversation"</th>
                                                    <th scope="col">"Date"</th>
                                                    <th scope="col">"Customer"</th>
                                                    <th scope="col" class="numeric">"Score"</th>
                                                </tr>
                                            </thead>
                                            <tbody>
                                                {profile
                                                    .conversations
                                                    .iter()
                                                    .map(|row| view! {
                                                        <tr>
                                                            <td>
                                                                <a href=format!("/conversations/{}", row.id)>{row.title.clone()}</a>
                                                            </td>
                                                            <td>{row.occurred_at.clone()}</td>
                                                            <td>
                                                                <a href=CustomerQuery::customer_link(&row.customer_identifier)>
                                                                    {row.customer_identifier.clone()}
                                                                </a>
                                                            </td>
                                                            <td class="numeric">
                                                                {row.score.clone().unwrap_or_else(|| "Not scored".to_owned())}
                                                            </td>
                                                        </tr>
                                                    })
                                                    .collect_view()}
                                            </tbody>
                                        </table>
                                    </div>
                                    <Pager
                                        class="history-pager"
                                        label="Conversation pages"
                                        current=profile.page
                                        last=profile.page_count
                                        turn=Turn::Links(Callback::new(move |page: u32| format!("{base}?page={page}")))
                                        parts=PROFILE_PAGER
                                        range=range
                                        hide_ends=true
                                    />
                                }
                                    .into_any()
                            }
                            Err(error) => view! { <NotFoundMessage error=error /> }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
        </RequireReviewer>
    }
}
