//! Server functions of sign-in: who is signed in, sign in, sign out.

use super::model::SignedInUser;
use crate::error::AppError;
use leptos::prelude::*;

/// The signed-in person, or `None`.
#[server(endpoint = "whoami")]
pub async fn whoami() -> Result<Option<SignedInUser>, AppError> {
    Ok(crate::session::current_viewer()
        .ok()
        .map(|viewer| SignedInUser {
            name: viewer.name,
            email: viewer.email,
            role: viewer.role,
            organisation: viewer.organisation,
        }))
}

/// Whether this request's session cookie is Secure (and `__Host-` named).
#[cfg(feature = "ssr")]
fn served_over_https(state: &crate::session::AppState) -> bool {
    use_context::<axum::http::request::Parts>().map_or(state.secure_cookies, |parts| {
        super::service::SecureRequest::of(
            state.secure_cookies,
            &parts.uri,
            &parts.headers,
            &parts.extensions,
        )
    })
}

/// The address the request came from, when the server knows it.
#[cfg(feature = "ssr")]
fn client_address() -> Option<std::net::IpAddr> {
    use_context::<axum::http::request::Parts>().and_then(|parts| {
        parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip())
    })
}

/// Refuses with 429 and `Retry-After`.
#[cfg(feature = "ssr")]
fn try_later(wait: super::guard::TryLater) -> AppError {
    use axum::http::{header, HeaderValue};
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(header::RETRY_AFTER, HeaderValue::from(wait.seconds()));
    }
    crate::error::mark_status(AppError::TooManyAttempts(format!(
        "Too many sign-in attempts. Please wait {} second{} and try again.",
        wait.seconds(),
        if wait.seconds() == 1 { "" } else { "s" }
    )))
}

/// Every verification slot is busy (a flood): 503 with `Retry-After`, at once.
#[cfg(feature = "ssr")]
fn busy(wait: super::guard::TryLater) -> AppError {
    use axum::http::{header, HeaderValue};
    let error = crate::error::mark_status(AppError::Busy);
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(header::RETRY_AFTER, HeaderValue::from(wait.seconds()));
    }
    error
}

/// Signs in with an email and password, then goes to `next` (a path on this site).
#[server(endpoint = "login")]
pub async fn login(email: String, password: String, next: String) -> Result<(), AppError> {
    use super::model::{safe_next, MAX_EMAIL_CHARS, MAX_PASSWORD_CHARS};
    use super::service::{new_session_cookie, sign_in_from, SignIn, INVALID_SIGN_IN};
    use crate::clock::now_ms;
    use crate::error::mark_status;
    use axum::http::{header, HeaderValue};

    let email = email.trim();
    if email.is_empty() || password.is_empty() {
        return Err(mark_status(AppError::BadRequest(
            "Enter your email and password.".to_owned(),
        )));
    }
    let state = crate::session::app_state()?;
    state
        .sign_in_guard
        .admit(client_address(), email)
        .map_err(try_later)?;
    let refused = || mark_status(AppError::SignInRefused(INVALID_SIGN_IN.to_owned()));
    let malformed = email.chars().count() > MAX_EMAIL_CHARS
        || password.chars().count() > MAX_PASSWORD_CHARS
        || email.chars().any(char::is_control);
    let slot = state.sign_in_guard.verification_slot().map_err(busy)?;
    if malformed {
        // No account has such an email: answer as for one that is unknown, in the same time.
        let password = password
            .chars()
            .take(MAX_PASSWORD_CHARS)
            .collect::<String>();
        let _ = tokio::task::spawn_blocking(move || {
            for _ in 0..super::service::VERIFICATIONS_PER_ATTEMPT {
                super::password::spend_verification_time(&password);
            }
        })
        .await;
        return Err(refused());
    }
    let source = super::service::source_key(client_address());
    let outcome = sign_in_from(&state.sign_in_db, email, &password, &source, now_ms())
        .await
        .map_err(crate::error::answer)?;
    drop(slot);
    match outcome {
        SignIn::Started { token } => {
            let response = expect_context::<leptos_axum::ResponseOptions>();
            let cookie =
                HeaderValue::from_str(&new_session_cookie(&token, served_over_https(&state)))
                    .map_err(|_| mark_status(AppError::Internal))?;
            response.append_header(header::SET_COOKIE, cookie);
            leptos_axum::redirect(&safe_next(&next));
            Ok(())
        }
        // A locked account answers as a wrong password does: the message covers both.
        SignIn::Refused | SignIn::Locked { .. } => Err(refused()),
    }
}

/// Ends the session and goes to the sign-in page.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use super::service::{expired_session_cookie, sign_out, token_from_cookies};
    use axum::http::{header, HeaderValue};

    let state = crate::session::app_state()?;
    let token = use_context::<axum::http::request::Parts>().and_then(|parts| {
        parts
            .headers
            .get(header::COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|cookies| token_from_cookies(cookies, served_over_https(&state)))
            .map(str::to_owned)
    });
    if let Some(token) = token {
        sign_out(&state.sign_in_db, &token)
            .await
            .map_err(crate::error::answer)?;
    }
    let response = expect_context::<leptos_axum::ResponseOptions>();
    response.append_header(
        header::SET_COOKIE,
        HeaderValue::from_str(&expired_session_cookie(served_over_https(&state)))
            .map_err(|_| AppError::Internal)?,
    );
    leptos_axum::redirect("/login");
    Ok(())
}

/// Ends every session of the signed-in person, on every device, and goes to the sign-in page.
#[server(endpoint = "logout_everywhere")]
pub async fn logout_everywhere() -> Result<(), AppError> {
    use super::service::{expired_session_cookie, sign_out_everywhere};
    use crate::error::mark_status;
    use axum::http::{header, HeaderValue};

    let state = crate::session::app_state()?;
    let viewer = crate::session::current_viewer().map_err(mark_status)?;
    sign_out_everywhere(&state.sign_in_db, viewer.org_id, viewer.user_id)
        .await
        .map_err(crate::error::answer)?;
    let response = expect_context::<leptos_axum::ResponseOptions>();
    response.append_header(
        header::SET_COOKIE,
        HeaderValue::from_str(&expired_session_cookie(served_over_https(&state)))
            .map_err(|_| AppError::Internal)?,
    );
    leptos_axum::redirect("/login");
    Ok(())
}
