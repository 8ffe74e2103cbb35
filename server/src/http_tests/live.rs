//! The live Customers page's event stream: signed-in reviewers only, an event soon after a
//! conversation is posted through the API, the end of the stream on sign-out, the notice's
//! count, and the registry's bound (one watcher per organisation, refused past the most).

use super::*;
use app::customers::live::registry::LiveSettings;
use app::customers::live::{EVENTS_PATH, SIGNED_OUT_EVENT, VERSION_EVENT};
use axum::http::{header, Request, StatusCode};
use std::time::{Duration, Instant};

/// Short intervals, so that each step of a test takes a fraction of a second.
fn quick(most_watched: usize) -> LiveSettings {
    LiveSettings {
        poll_every: Duration::from_millis(100),
        session_check_every: Duration::from_millis(300),
        notice_every: Duration::from_millis(200),
        most_watched,
    }
}

async fn live_app(settings: LiveSettings) -> TestApp {
    app_with(ConnectOptions::new(4), move |db| {
        AppState::new(db, false).with_live(settings)
    })
    .await
}

/// An open event stream: its status and body, read frame by frame.
struct Stream {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Body,
}

impl TestApp {
    async fn open_stream(&self, since: i64, cookie: Option<&str>) -> Stream {
        let mut request = Request::get(format!("{EVENTS_PATH}?since={since}"))
            .header(header::ACCEPT, "text/event-stream");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        let response = self
            .router
            .clone()
            .oneshot(request.body(Body::empty()).expect("request"))
            .await
            .expect("response");
        let (parts, body) = response.into_parts();
        Stream {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }
}

impl Stream {
    /// The next event's name and data (keep-alive comments skipped); `None` when the stream
    /// ends. Panics when nothing comes within `within`.
    async fn next_event(&mut self, within: Duration) -> Option<(String, String)> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.body.frame())
                .await
                .expect("an event in time");
            let bytes = match frame {
                None => return None,
                Some(frame) => frame.expect("a frame").into_data().unwrap_or_default(),
            };
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let field = |name: &str| {
                text.lines()
                    .find_map(|line| line.strip_prefix(name))
                    .map(|value| value.trim().to_owned())
            };
            if let Some(event) = field("event:") {
                return Some((event, field("data:").unwrap_or_default()));
            }
        }
    }
}

async fn post_conversation(app: &TestApp, token: &str, id: &str) {
    let answer = app
        .api(
            "POST",
            "/api/v1/conversations",
            Some(token),
            Some(format!("[{}]", item(id, "live@example.com", "90"))),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}

/// What a tab's notice would say: the scored conversations written since `since`.
async fn new_scored(app: &TestApp, cookie: &str, since: i64) -> i64 {
    let answer = app
        .call(
            "customers_new_conversations",
            &format!(r#"{{"since": {since}}}"#),
            Some(cookie),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    json_of(&answer)["scored"].as_i64().expect("a count")
}

async fn acme_version(app: &TestApp) -> i64 {
    let org_id = app::orgs::store::find_organisation(&app.db, "acme")
        .await
        .unwrap()
        .expect("org")
        .id;
    app::versions::stored_version(&app.db, org_id)
        .await
        .unwrap()
}

#[test]
fn the_stream_is_for_signed_in_reviewers_only() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = live_app(quick(10)).await;
        // Not a redirect to the sign-in page: a browser's EventSource would read it as HTML.
        assert_eq!(
            app.open_stream(0, None).await.status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            app.open_stream(0, Some("playbook_session=forged"))
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
        let representative = app.cookie("rep@acme.example").await;
        assert_eq!(
            app.open_stream(0, Some(&representative)).await.status,
            StatusCode::FORBIDDEN
        );
        let manager = app.cookie("manager@acme.example").await;
        let stream = app.open_stream(0, Some(&manager)).await;
        assert_eq!(stream.status, StatusCode::OK);
        assert_eq!(
            stream.headers[header::CONTENT_TYPE],
            "text/event-stream",
            "{:?}",
            stream.headers
        );
    });
}

#[test]
fn a_conversation_posted_through_the_api_reaches_an_open_stream_and_the_count() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = live_app(quick(10)).await;
        let token = app.token("acme", "live").await;
        let manager = app.cookie("manager@acme.example").await;
        let rendered_at = acme_version(&app).await;
        let mut stream = app.open_stream(rendered_at, Some(&manager)).await;
        assert_eq!(stream.status, StatusCode::OK);

        let posted = Instant::now();
        post_conversation(&app, &token, "live-1").await;
        let (event, data) = stream
            .next_event(Duration::from_secs(3))
            .await
            .expect("an event");
        assert_eq!(event, VERSION_EVENT);
        let version: i64 = data.parse().expect("a version");
        assert!(version > rendered_at, "{version} after {rendered_at}");
        let latency = posted.elapsed();
        assert!(latency < Duration::from_secs(2), "{latency:?}");

        // The tab's notice: one new scored conversation since the version it shows.
        assert_eq!(new_scored(&app, &manager, rendered_at).await, 1);

        // Two more writes at once: one event, not two, and only after the interval.
        post_conversation(&app, &token, "live-2").await;
        post_conversation(&app, &token, "live-3").await;
        let (_, data) = stream
            .next_event(Duration::from_secs(3))
            .await
            .expect("an event");
        let latest: i64 = data.parse().expect("a version");
        assert_eq!(latest, acme_version(&app).await);
        assert_eq!(new_scored(&app, &manager, rendered_at).await, 3);
        // The page knows the version its rows were read at.
        let page = json_of(&app.call("customers", DEFAULT_QUERY, Some(&manager)).await);
        assert_eq!(page["data_version"], latest);
    });
}

#[test]
fn signing_out_ends_the_stream() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = live_app(quick(10)).await;
        let manager = app.cookie("manager@acme.example").await;
        let version = acme_version(&app).await;
        let mut stream = app.open_stream(version, Some(&manager)).await;
        assert_eq!(stream.status, StatusCode::OK);
        let signed_out = Instant::now();
        let answer = app.form("logout", "", &[("cookie", &manager)]).await;
        assert!(
            answer.status.is_success() || answer.status.is_redirection(),
            "{}: {}",
            answer.status,
            answer.body
        );
        let (event, _) = stream
            .next_event(Duration::from_secs(2))
            .await
            .expect("the sign-out event");
        assert_eq!(event, SIGNED_OUT_EVENT);
        assert!(stream.next_event(Duration::from_secs(1)).await.is_none());
        assert!(signed_out.elapsed() < Duration::from_secs(1));
    });
}

#[test]
fn one_watcher_per_organisation_at_most_as_many_as_allowed_and_gone_with_the_last_stream() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let live = std::sync::Arc::new(app::customers::live::registry::LiveVersions::new(quick(1)));
        let app = app_with(ConnectOptions::new(4), {
            let live = live.clone();
            move |db| AppState {
                live,
                ..AppState::new(db, false)
            }
        })
        .await;
        let acme = app.cookie("manager@acme.example").await;
        let globex = app.cookie("manager@globex.example").await;
        // Three tabs of one organisation: one watcher.
        let mut tabs = Vec::new();
        for _ in 0..3 {
            let stream = app.open_stream(0, Some(&acme)).await;
            assert_eq!(stream.status, StatusCode::OK);
            tabs.push(stream);
        }
        assert_eq!((live.watched(), live.open_streams()), (1, 3));
        // A second organisation would pass the most watched: refused, with a time to retry.
        let refused = app.open_stream(0, Some(&globex)).await;
        assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(refused.headers.contains_key(header::RETRY_AFTER));
        // The last stream closed, the watcher leaves at its next tick, and the place is free.
        drop(tabs);
        assert_eq!(live.open_streams(), 0);
        let deadline = Instant::now() + Duration::from_secs(2);
        while live.watched() > 0 {
            assert!(Instant::now() < deadline, "the watcher stayed");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let admitted = app.open_stream(0, Some(&globex)).await;
        assert_eq!(admitted.status, StatusCode::OK);
    });
}
