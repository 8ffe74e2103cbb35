//! The application shell: document, header, navigation and routes.

use crate::auth::view::{AccountMenu, AuthContext, HomePage, LoginPage};
use crate::components::NotFoundMessage;
use crate::conversations::import_page::view::ImportPage;
use crate::conversations::view::ConversationPage;
use crate::customers::view::CustomersRoute;
use crate::error::AppError;
use crate::representatives::view::RepresentativePage;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes, A},
    path, SsrMode,
};

/// The product's name, as the header and page titles show it.
pub const PRODUCT_NAME: &str = "Playbook";

/// The HTML document around the app. Runs on the server only. `stylesheet` is the address the
/// build gave the stylesheet (its name carries a content hash); it sits here, outside the
/// hydrated body, so the browser never swaps it for another name.
pub fn shell(options: LeptosOptions, stylesheet: &str) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_security_headers();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="stylesheet" id="leptos" href=stylesheet.to_owned() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// A Content-Security-Policy for pages that allows the app's own files, the wasm, and only those inline
/// scripts Leptos writes (hydration and resource data), each carrying this response's nonce.
#[cfg(feature = "ssr")]
fn set_security_headers() {
    use axum::http::{header, HeaderValue};
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let nonce = leptos::nonce::use_nonce()
        .map(|nonce| format!(" 'nonce-{nonce}'"))
        .unwrap_or_default();
    let policy = format!(
        "default-src 'self'; script-src 'self'{nonce} 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
    // The headers every answer carries (nosniff, Referrer-Policy, no-store…) are added by the
    // server's middleware, for pages, server functions, the API and files alike.
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let auth = AuthContext::provide();
    view! {
        <Title formatter=|page: String| {
            if page.is_empty() { PRODUCT_NAME.to_owned() } else { format!("{page} · {PRODUCT_NAME}") }
        } />
        <Router>
            <a class="skip-link" href="#main">
                "Skip to content"
            </a>
            <header class="app-header">
                <a class="brand" href="/">
                    {PRODUCT_NAME}
                </a>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        match auth.user.await {
                            Ok(Some(user)) => {
                                let may_review = user.may_review();
                                let is_admin = user.role == crate::orgs::model::Role::Admin;
                                view! {
                                    <nav class="main-nav" aria-label="Main">
                                        {may_review.then(|| view! { <A href="/customers">"Custs."</A> })}
                                        {is_admin.then(|| view! { <A href="/import">"Import"</A> })}
                                    </nav>
                                    <AccountMenu user=user />
                                }
                                    .into_any()
                            }
                            _ => ().into_any(),
                        }
                    })}
                </Transition>
            </header>
            <main id="main">
                // Every route waits for its data on the server and sends the whole page at once:
                // readable before the wasm arrives, and no out-of-order fragments to move.
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async />
                    <Route
                        path=path!("/login")
                        view=|| view! { <Title text="Sign in" /> <LoginPage /> }
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/customers")
                        view=|| view! {
                            <Title text="Customers" />
                            <CustomersRoute />
                        }
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/import")
                        view=|| view! {
                            <Title text="Import" />
                            <ImportPage />
                        }
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/conversations/:id")
                        view=ConversationPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/representatives/:id")
                        view=RepresentativePage
                        ssr=SsrMode::Async
                    />
                </Routes>
            </main>
        </Router>
    }
}

/// An address no route matches: the not-found message, with the matching HTTP status.
#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <NotFoundMessage error=AppError::NotFound("This page".to_owned()) />
    }
}
