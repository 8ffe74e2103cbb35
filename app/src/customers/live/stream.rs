//! `GET /events/customers?since=V`: the Customers page's event stream. Signed-in Admins and
//! Managers only (401, 403 otherwise); an event `data-version` (its data the newest version)
//! whenever the organisation's data version passes the last one sent, starting from the
//! version the page was rendered at, at most one per `notice_every`. Every
//! `session_check_every` the session is read again, without keeping it alive (an open tab
//! alone must not hold a session open), and once it has ended (signed out here or on another
//! server, "Sign out everywhere", idle, disabled) the stream sends `signed-out` and ends.

use super::registry::{LiveError, Watching};
use super::{SIGNED_OUT_EVENT, VERSION_EVENT};
use crate::auth::service::{session_is_valid, token_from_cookies, SecureRequest};
use crate::clock::now_ms;
use crate::db::Db;
use crate::session::{AppState, Viewer};
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;
use std::time::Duration;
use tokio::time::Instant;

/// A comment line this often keeps proxies and the idle timeout from cutting a quiet stream.
const KEEP_ALIVE_EVERY: Duration = Duration::from_secs(15);

/// How long the browser waits before connecting again after the stream drops.
const RECONNECT_AFTER: Duration = Duration::from_secs(2);

#[derive(Debug, serde::Deserialize)]
pub struct Since {
    /// The data version the page was rendered at.
    #[serde(default)]
    since: i64,
}

/// When the next event may go: at most one per `every`, and only for a version newer than
/// the last one sent.
#[derive(Clone, Copy, Debug)]
pub struct Coalescer {
    sent_version: i64,
    sent_at: Option<Instant>,
    every: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Due {
    /// Nothing newer than what was sent.
    Nothing,
    Now,
    /// Newer, but the last event was too recent.
    At(Instant),
}

impl Coalescer {
    pub fn new(since: i64, every: Duration) -> Coalescer {
        Coalescer {
            sent_version: since,
            sent_at: None,
            every,
        }
    }

    pub fn due(&self, version: i64, now: Instant) -> Due {
        if version <= self.sent_version {
            return Due::Nothing;
        }
        match self.sent_at {
            Some(sent_at) if now < sent_at + self.every => Due::At(sent_at + self.every),
            _ => Due::Now,
        }
    }

    pub fn sent(&mut self, version: i64, now: Instant) {
        self.sent_version = version;
        self.sent_at = Some(now);
    }
}

/// One open stream's state between events.
struct Follow {
    watching: Watching,
    coalescer: Coalescer,
    sign_in_db: Db,
    token: String,
    session_check_every: Duration,
    next_session_check: Instant,
    ended: bool,
}

pub async fn customer_events(
    State(state): State<AppState>,
    Query(Since { since }): Query<Since>,
    request: Request,
) -> Response {
    let Some(viewer) = request.extensions().get::<Viewer>().cloned() else {
        return (StatusCode::UNAUTHORIZED, "Sign in to follow the page.").into_response();
    };
    if !viewer.role.may_review() {
        return (
            StatusCode::FORBIDDEN,
            "Only Admins and Managers see this page.",
        )
            .into_response();
    }
    let secure = SecureRequest::of(
        state.secure_cookies,
        request.uri(),
        request.headers(),
        request.extensions(),
    );
    let Some(token) = request
        .headers()
        .get(header::COOKIE)
        .and_then(|cookies| cookies.to_str().ok())
        .and_then(|cookies| token_from_cookies(cookies, secure))
        .map(str::to_owned)
    else {
        return (StatusCode::UNAUTHORIZED, "Sign in to follow the page.").into_response();
    };
    let watching = match state.live.watch(&state.db, viewer.org_id).await {
        Ok(watching) => watching,
        Err(error) => return unavailable(viewer.org_id, &error),
    };
    let settings = state.live.settings();
    let follow = Follow {
        watching,
        coalescer: Coalescer::new(since, settings.notice_every),
        sign_in_db: state.sign_in_db.clone(),
        token,
        session_check_every: settings.session_check_every,
        next_session_check: Instant::now() + settings.session_check_every,
        ended: false,
    };
    let events = futures_util::stream::unfold(follow, next_event);
    let mut response = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE_EVERY))
        .into_response();
    // A proxy that buffers answers (nginx) would hold the events back.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

fn unavailable(org_id: i64, error: &LiveError) -> Response {
    match error {
        LiveError::TooManyWatched => tracing::warn!(org_id, %error, "live page refused"),
        LiveError::Store(_) => tracing::error!(org_id, %error, "could not start a live page"),
    }
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        "The live page is unavailable; try again shortly.",
    )
        .into_response();
    crate::error::ask_to_retry(response.headers_mut());
    response
}

/// Waits for the stream's next event: a newer version when one is due, or `signed-out` when
/// the session has ended (after which the stream ends).
async fn next_event(mut follow: Follow) -> Option<(Result<Event, Infallible>, Follow)> {
    if follow.ended {
        return None;
    }
    loop {
        let latest = *follow.watching.version.borrow_and_update();
        let now = Instant::now();
        let wake = match follow.coalescer.due(latest, now) {
            Due::Now => {
                follow.coalescer.sent(latest, now);
                let event = Event::default()
                    .event(VERSION_EVENT)
                    .retry(RECONNECT_AFTER)
                    .data(latest.to_string());
                return Some((Ok(event), follow));
            }
            Due::At(when) => Some(when),
            Due::Nothing => None,
        };
        let check_at = follow.next_session_check;
        tokio::select! {
            changed = follow.watching.version.changed(), if wake.is_none() => {
                // The watcher is gone only if the server is stopping.
                if changed.is_err() {
                    return None;
                }
            }
            () = tokio::time::sleep_until(wake.unwrap_or(check_at)), if wake.is_some() => {}
            () = tokio::time::sleep_until(check_at) => {
                follow.next_session_check = Instant::now() + follow.session_check_every;
                if !session_holds(&follow).await {
                    follow.ended = true;
                    return Some((Ok(Event::default().event(SIGNED_OUT_EVENT).data("")), follow));
                }
            }
        }
    }
}

/// Whether the stream's session is still valid; a database that cannot be asked keeps the
/// stream (the next check asks again).
async fn session_holds(follow: &Follow) -> bool {
    match session_is_valid(&follow.sign_in_db, &follow.token, now_ms()).await {
        Ok(valid) => valid,
        Err(error) => {
            tracing::warn!(%error, "could not re-check a live page's session");
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_one_event_per_interval_and_only_for_newer_versions() {
        let start = Instant::now();
        let every = Duration::from_secs(3);
        let mut coalescer = Coalescer::new(10, every);
        // Nothing newer than the page: nothing to say.
        assert_eq!(coalescer.due(10, start), Due::Nothing);
        // Newer: at once, the first time.
        assert_eq!(coalescer.due(11, start), Due::Now);
        coalescer.sent(11, start);
        assert_eq!(coalescer.due(11, start), Due::Nothing);
        // Three more writes within the interval wait for its end, and go as one.
        let soon = start + Duration::from_millis(500);
        assert_eq!(coalescer.due(14, soon), Due::At(start + every));
        assert_eq!(coalescer.due(14, start + every), Due::Now);
        coalescer.sent(14, start + every);
        // Long after: at once again.
        assert_eq!(coalescer.due(15, start + every * 5), Due::Now);
    }
}
