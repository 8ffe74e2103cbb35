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

/// Whether the session cookie should be `Secure`: configured so, or the request came over
/// https (directly or through a proxy that says so).
#[cfg(feature = "ssr")]
fn served_over_https(state: &crate::session::AppState) -> bool {
    let forwarded_https = use_context::<axum::http::request::Parts>().is_some_and(|parts| {
        parts.uri.scheme_str() == Some("https")
            || parts
                .headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("https"))
    });
    state.secure_cookies || forwarded_https
}

/// Signs in with an email and password, then goes to `next` (a path on this site).
#[server(endpoint = "login")]
pub async fn login(email: String, password: String, next: String) -> Result<(), AppError> {
    use super::model::{safe_next, MAX_EMAIL_CHARS, MAX_PASSWORD_CHARS};
    use super::service::{now_ms, session_cookie, sign_in, SignIn, INVALID_SIGN_IN};
    use crate::error::with_status;
    use axum::http::{header, HeaderValue};

    let email = email.trim();
    if email.is_empty() || password.is_empty() {
        return Err(with_status(AppError::BadRequest(
            "Enter your email and password.".to_owned(),
        )));
    }
    if email.chars().count() > MAX_EMAIL_CHARS || password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(with_status(AppError::SignInRefused(
            INVALID_SIGN_IN.to_owned(),
        )));
    }
    let state = crate::session::app_state()?;
    let outcome = sign_in(&state.db, email, &password, now_ms())
        .await
        .map_err(|e| with_status(e.into()))?;
    match outcome {
        SignIn::Started { token } => {
            let response = expect_context::<leptos_axum::ResponseOptions>();
            let cookie = HeaderValue::from_str(&session_cookie(&token, served_over_https(&state)))
                .map_err(|_| with_status(AppError::Internal))?;
            response.append_header(header::SET_COOKIE, cookie);
            leptos_axum::redirect(&safe_next(&next));
            Ok(())
        }
        SignIn::Refused => Err(with_status(AppError::SignInRefused(INVALID_SIGN_IN.to_owned()))),
        SignIn::Locked { minutes } => Err(with_status(AppError::TooManyAttempts(format!(
            "Too many failed sign-in attempts. This account is locked; try again in {minutes} minute{}.",
            if minutes == 1 { "" } else { "s" }
        )))),
    }
}

/// Ends the session and goes to the sign-in page.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use super::service::{expired_session_cookie, sign_out, token_from_cookies};
    use crate::error::with_status;
    use axum::http::{header, HeaderValue};

    let state = crate::session::app_state()?;
    let token = use_context::<axum::http::request::Parts>().and_then(|parts| {
        parts
            .headers
            .get(header::COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(token_from_cookies)
            .map(str::to_owned)
    });
    if let Some(token) = token {
        sign_out(&state.db, &token)
            .await
            .map_err(|e| with_status(e.into()))?;
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
