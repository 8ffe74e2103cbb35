//! Sign-in page, the header's account menu, and the guard around pages for Admins and Managers.

use super::model::SignedInUser;
use super::server::{whoami, Login, Logout, LogoutEverywhere};
use crate::error::{mark_status, AppError};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

/// Sign-in state shared by the header and the pages: the signed-in person is refetched
/// whenever someone signs in or out.
#[derive(Clone, Copy)]
pub struct AuthContext {
    pub login: ServerAction<Login>,
    pub logout: ServerAction<Logout>,
    pub logout_everywhere: ServerAction<LogoutEverywhere>,
    pub user: Resource<Result<Option<SignedInUser>, AppError>>,
}

impl AuthContext {
    pub fn provide() -> AuthContext {
        let login = ServerAction::<Login>::new();
        let logout = ServerAction::<Logout>::new();
        let logout_everywhere = ServerAction::<LogoutEverywhere>::new();
        let user = Resource::new(
            move || {
                (
                    login.version().get(),
                    logout.version().get(),
                    logout_everywhere.version().get(),
                )
            },
            |_| whoami(),
        );
        let context = AuthContext {
            login,
            logout,
            logout_everywhere,
            user,
        };
        provide_context(context);
        context
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let auth = expect_context::<AuthContext>();
    let query = use_query_map();
    let next = move || query.with(|q| q.get("next").unwrap_or_default());
    let problem = move || auth.login.value().get().and_then(Result::err);
    view! {
        <section class="page login-page">
            <div class="login-card">
                <h1>"Sign in"</h1>
                <p class="page-lede">"Review how your team handles customer conversations."</p>
                <ActionForm action=auth.login>
                    <input type="hidden" name="next" prop:value=next />
                    <div class="control">
                        <label for="login-email">"Email"</label>
                        <input
                            id="login-email"
                            name="email"
                            type="email"
                            autocomplete="username"
                            required
                            maxlength="254"
                        />
                    </div>
                    <div class="control">
                        <label for="login-password">"Password"</label>
                        <input
                            id="login-password"
                            name="password"
                            type="password"
                            autocomplete="current-password"
                            required
                            maxlength="1024"
                        />
                    </div>
                    {move || problem().map(|error| view! { <p class="inline-error" role="alert">{error.to_string()}</p> })}
                    <button type="submit" class="button primary" disabled=move || auth.login.pending().get()>
                        {move || if auth.login.pending().get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
            </div>
        </section>
    }
}

/// Who is signed in, and the way out.
#[component]
pub fn AccountMenu(user: SignedInUser) -> impl IntoView {
    let auth = expect_context::<AuthContext>();
    view! {
        <div class="account">
            <span class="account-who">
                <span class="account-name">{user.name.clone()}</span>
                <span class="account-role">{format!("{} · {}", user.role.label(), user.organisation)}</span>
            </span>
            <ActionForm action=auth.logout attr:class="sign-out">
                <button type="submit" class="button">"Sign out"</button>
            </ActionForm>
            <ActionForm action=auth.logout_everywhere attr:class="sign-out">
                <button type="submit" class="button" title="End your sessions on every device">"Sign out everywhere"</button>
            </ActionForm>
        </div>
    }
}

/// Shows its children to Admins and Managers only; anyone else gets a clear 403.
#[component]
pub fn RequireReviewer(children: ChildrenFn) -> impl IntoView {
    let auth = expect_context::<AuthContext>();
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match auth.user.await {
                    Ok(Some(user)) if user.may_review() => children.with_value(|children| children()).into_any(),
                    Ok(Some(_)) => view! { <Forbidden /> }.into_any(),
                    Ok(None) => view! { <SignInNeeded /> }.into_any(),
                    Err(error) => view! { <p class="inline-error" role="alert">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn Forbidden() -> impl IntoView {
    let error = mark_status(AppError::Forbidden);
    view! {
        <div class="empty-state" role="alert">
            <h1>"Not available to your role"</h1>
            <p>{error.to_string()}</p>
        </div>
    }
}

#[component]
fn SignInNeeded() -> impl IntoView {
    let error = mark_status(AppError::Unauthorized);
    view! {
        <div class="empty-state" role="alert">
            <h1>"Signed out"</h1>
            <p>{error.to_string()}</p>
            <a class="button" href="/login">
                "Sign in"
            </a>
        </div>
    }
}

/// `/`: reviewers go to Customers; anyone else sees who they are signed in as.
#[component]
pub fn HomePage() -> impl IntoView {
    let auth = expect_context::<AuthContext>();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match auth.user.await {
                    Ok(Some(user)) if user.may_review() => view! { <Redirect path="/customers" /> }.into_any(),
                    Ok(Some(user)) => view! {
                        <Title text="Welcome" />
                        <section class="page">
                            <h1>{format!("Welcome, {}", user.name)}</h1>
                            <p class="page-lede">
                                "You are signed in as a Representative. The Customers page and conversation reviews are available to Admins and Managers."
                            </p>
                        </section>
                    }
                        .into_any(),
                    _ => view! { <SignInNeeded /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
