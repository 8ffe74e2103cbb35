//! Forged requests: a state-changing request a browser sends on a signed-in person's behalf
//! must come from the app's own pages. Before anything runs (the session included), every
//! request that is not a plain read (GET, HEAD, OPTIONS) and carries no bearer token is checked:
//!
//! - `Sec-Fetch-Site`, when the browser sends it, must be `same-origin` or `none` (typed or
//!   bookmarked); `same-site` is refused too, since a sibling subdomain is not the app;
//! - `Origin`, when sent, must be the configured public origin, or else this request's own
//!   host (over http or https); `Origin: null` is refused;
//! - a server function that takes JSON must be sent as `application/json`, and the sign-in and
//!   sign-out forms as `application/x-www-form-urlencoded` (their own form posts, which keep
//!   working without wasm); anything else (a cross-site `text/plain` body, say) is 415.
//!
//! A request with neither header comes from something that is not a browser (or a very old
//! one): it passes, as it cannot carry a victim's cookie by itself. Bearer-token API calls are
//! never cookie-authenticated and are not checked.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Server functions sent as form posts (`#[server]` without `input = Json`): the sign-in and
/// sign-out forms work without wasm; every other server function takes JSON.
pub const FORM_FUNCTIONS: &[&str] = &["login", "logout", "logout_everywhere", "whoami"];

/// Why a request was refused before anything ran.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Forged {
    #[error("This request came from another site (Sec-Fetch-Site: {0}) and was refused; nothing was changed. Use the app's own pages.")]
    CrossSite(String),
    #[error("This request came from another origin and was refused; nothing was changed. Use the app's own pages.")]
    ForeignOrigin,
    #[error(
        "This call takes JSON: send it with Content-Type: application/json. Nothing was changed."
    )]
    NotJson,
    #[error("This form is sent as application/x-www-form-urlencoded. Nothing was changed.")]
    NotForm,
}

impl Forged {
    pub fn status(&self) -> StatusCode {
        match self {
            Forged::CrossSite(_) | Forged::ForeignOrigin => StatusCode::FORBIDDEN,
            Forged::NotJson | Forged::NotForm => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        }
    }
}

impl IntoResponse for Forged {
    fn into_response(self) -> Response {
        (self.status(), self.to_string()).into_response()
    }
}

/// Where the app is served from, as browsers name it in `Origin` (`https://playbook.example`),
/// when configured; otherwise a request's own `Host` is its origin.
#[derive(Clone, Copy, Debug, Default)]
pub struct OriginPolicy {
    pub public_origin: Option<&'static str>,
}

impl OriginPolicy {
    /// `Ok` when `method`, `path` and `headers` may change state; else why not.
    pub fn check(&self, method: &Method, path: &str, headers: &HeaderMap) -> Result<(), Forged> {
        if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
            return Ok(());
        }
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "));
        if bearer {
            return Ok(());
        }
        if let Some(site) = headers.get("sec-fetch-site") {
            let site = site.to_str().unwrap_or("unreadable").trim();
            if !(site.eq_ignore_ascii_case("same-origin") || site.eq_ignore_ascii_case("none")) {
                return Err(Forged::CrossSite(site.chars().take(32).collect()));
            }
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let origin = origin.to_str().map_err(|_| Forged::ForeignOrigin)?.trim();
            if !self.is_own(origin, headers) {
                return Err(Forged::ForeignOrigin);
            }
        }
        if let Some(function) = path
            .strip_prefix("/api/")
            .filter(|rest| !rest.starts_with("v1/") && !rest.contains('/'))
        {
            let content_type = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(';').next())
                .map(str::trim)
                .unwrap_or("");
            if FORM_FUNCTIONS.contains(&function) {
                if !content_type.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
                    return Err(Forged::NotForm);
                }
            } else if !content_type.eq_ignore_ascii_case("application/json") {
                return Err(Forged::NotJson);
            }
        }
        Ok(())
    }

    fn is_own(&self, origin: &str, headers: &HeaderMap) -> bool {
        if let Some(public) = self.public_origin {
            return origin.eq_ignore_ascii_case(public.trim_end_matches('/'));
        }
        let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
            return false;
        };
        let host = host.trim();
        ["http://", "https://"].iter().any(|scheme| {
            origin.len() == scheme.len() + host.len()
                && origin[..scheme.len()].eq_ignore_ascii_case(scheme)
                && origin[scheme.len()..].eq_ignore_ascii_case(host)
        })
    }
}

/// The layer: refuses forged requests with 403 (or 415 for the wrong content type) before the
/// session is looked at or anything is written.
pub async fn refuse_forged(
    State(policy): State<OriginPolicy>,
    request: Request,
    next: Next,
) -> Response {
    match policy.check(request.method(), request.uri().path(), request.headers()) {
        Ok(()) => next.run(request).await,
        Err(forged) => {
            tracing::debug!(
                status = forged.status().as_u16(),
                "refused a forged or malformed state-changing request"
            );
            forged.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn own_origin_passes_and_others_are_refused() {
        let policy = OriginPolicy::default();
        let json = [
            ("host", "app.example:3000"),
            ("content-type", "application/json"),
        ];
        let post = Method::POST;
        assert_eq!(
            policy.check(&post, "/api/save_view", &headers(&json)),
            Ok(())
        );
        let with = |extra: (&'static str, &str)| {
            let mut all = json.to_vec();
            all.push(extra);
            policy.check(&post, "/api/save_view", &headers(&all))
        };
        assert_eq!(with(("origin", "http://app.example:3000")), Ok(()));
        assert_eq!(with(("origin", "https://APP.example:3000")), Ok(()));
        assert_eq!(with(("sec-fetch-site", "same-origin")), Ok(()));
        assert_eq!(with(("sec-fetch-site", "none")), Ok(()));
        assert_eq!(
            with(("origin", "https://evil.example")),
            Err(Forged::ForeignOrigin)
        );
        assert_eq!(
            with(("origin", "http://app.example:3000.evil.example")),
            Err(Forged::ForeignOrigin)
        );
        assert_eq!(with(("origin", "null")), Err(Forged::ForeignOrigin));
        assert!(matches!(
            with(("sec-fetch-site", "same-site")),
            Err(Forged::CrossSite(_))
        ));
        assert!(matches!(
            with(("sec-fetch-site", "cross-site")),
            Err(Forged::CrossSite(_))
        ));
        // A configured public origin is the only one.
        let public = OriginPolicy {
            public_origin: Some("https://playbook.example/"),
        };
        let mut all = json.to_vec();
        all.push(("origin", "https://playbook.example"));
        assert_eq!(
            public.check(&post, "/api/save_view", &headers(&all)),
            Ok(())
        );
        all.pop();
        all.push(("origin", "http://app.example:3000"));
        assert_eq!(
            public.check(&post, "/api/save_view", &headers(&all)),
            Err(Forged::ForeignOrigin)
        );
    }

    #[test]
    fn content_types_are_those_the_functions_take_and_bearer_calls_pass() {
        let policy = OriginPolicy::default();
        let post = Method::POST;
        let plain = headers(&[("content-type", "text/plain")]);
        assert_eq!(
            policy.check(&post, "/api/save_view", &plain),
            Err(Forged::NotJson)
        );
        assert_eq!(
            policy.check(&post, "/api/login", &plain),
            Err(Forged::NotForm)
        );
        let form = headers(&[(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )]);
        assert_eq!(policy.check(&post, "/api/login", &form), Ok(()));
        assert_eq!(
            policy.check(&post, "/api/save_view", &form),
            Err(Forged::NotJson)
        );
        assert_eq!(policy.check(&Method::GET, "/api/save_view", &plain), Ok(()));
        let bearer = headers(&[
            ("authorization", "Bearer abc"),
            ("origin", "https://evil.example"),
            ("content-type", "text/plain"),
        ]);
        assert_eq!(
            policy.check(&post, "/api/v1/conversations", &bearer),
            Ok(())
        );
    }
}
