//! The rules of signing in and of sessions, on top of the store: lock-out after repeated
//! failures, idle expiry, and tokens that the database only ever sees as digests.

use super::model::Viewer;
use super::password::{spend_verification_time, verify_password};
use super::store::{self, LockOutRule};
use crate::db::{Db, StoreResult};
use blake2::{Blake2s256, Digest};
use chrono_tz::Tz;
use cookie::{Cookie, SameSite};

/// The session cookie's name over plain http (development, a trusted network).
pub const SESSION_COOKIE: &str = "playbook_session";
/// Its name when cookies are Secure: the `__Host-` prefix makes browsers refuse it unless it
/// came over https, from this very host, for every path, so no subdomain or plain-http page
/// can plant or overwrite it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-playbook_session";
/// A session ends after this long without a request: a working day.
pub const IDLE_TIMEOUT_MS: i64 = 8 * 60 * 60 * 1000;
/// A session ends this long after sign-in however active it is: a week.
pub const ABSOLUTE_LIFETIME_MS: i64 = 7 * 24 * 60 * 60 * 1000;
/// Failed attempts on one account, within [`FAILURE_WINDOW_MS`], that lock it.
pub const MAX_FAILED_LOGINS: i64 = 5;
pub const FAILURE_WINDOW_MS: i64 = 15 * 60 * 1000;
/// How long a locked account refuses every attempt, the right password included.
pub const LOCK_OUT_MS: i64 = 15 * 60 * 1000;
/// A session's last-seen time is written at most this often, not on every request.
const TOUCH_EVERY_MS: i64 = 60 * 1000;

/// The one message for a wrong email, a wrong password and a locked account alike, so that
/// the answer does not tell which emails have accounts; the locked person learns it here.
pub const INVALID_SIGN_IN: &str = "That email and password do not match an account, or there were 5 failed attempts from here: wait 15 minutes.";

const LOCK_OUT: LockOutRule = LockOutRule {
    max_failures: MAX_FAILED_LOGINS,
    window_ms: FAILURE_WINDOW_MS,
    lock_ms: LOCK_OUT_MS,
};

pub enum SignIn {
    /// Signed in: the token goes into the cookie.
    Started {
        token: String,
    },
    Refused,
    Locked {
        minutes: i64,
    },
}

/// A new random session token: 32 bytes from the operating system, hex-encoded.
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// What the database stores for a token: its digest, so a leaked table signs no one in.
pub fn token_digest(token: &str) -> String {
    Blake2s256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn minutes_until(until_ms: i64, now_ms: i64) -> i64 {
    ((until_ms - now_ms).max(0) + 59_999) / 60_000
}

/// Password verifications every sign-in attempt spends, whatever the email: one email may
/// have accounts in several organisations, and the work (and so the time) must not tell how
/// many. An email's accounts beyond this many (the newest) cannot sign in with a password.
pub const VERIFICATIONS_PER_ATTEMPT: usize = 3;

pub use super::keys::{account_key, source_key};

/// [`sign_in_from`] for a client whose address is not known (the command line, tests).
pub async fn sign_in(db: &Db, email: &str, password: &str, now_ms: i64) -> StoreResult<SignIn> {
    sign_in_from(db, email, password, &source_key(None), now_ms).await
}

/// Checks an email and password from a client source, with lock-out, and starts a session
/// when they match.
///
/// The same work whatever the email: one read of its accounts, one read of the lock on
/// (email, source), exactly [`VERIFICATIONS_PER_ATTEMPT`] password verifications (dummy
/// hashes stand in for accounts that do not exist), and on failure one write counting the
/// guess under (email, source). Five failures within 15 minutes lock that source out of that
/// email for 15 minutes; other sources (the owner's) are not affected. Callers cap how many
/// run at once (see `auth::guard`).
pub async fn sign_in_from(
    db: &Db,
    email: &str,
    password: &str,
    source_key: &str,
    now_ms: i64,
) -> StoreResult<SignIn> {
    let account_key = account_key(email);
    let accounts = store::login_accounts(db, email).await?;
    let locked_until = store::guess_lock(db, &account_key, source_key, now_ms).await?;
    let password_owned = password.to_owned();
    let hashes: Vec<String> = accounts
        .iter()
        .take(VERIFICATIONS_PER_ATTEMPT)
        .map(|a| a.password_hash.clone())
        .collect();
    // Argon2 is deliberately slow: keep it off the async workers.
    let matched = tokio::task::spawn_blocking(move || {
        let mut matched = None;
        for n in 0..VERIFICATIONS_PER_ATTEMPT {
            match hashes.get(n) {
                Some(hash) => {
                    if verify_password(&password_owned, hash) && matched.is_none() {
                        matched = Some(n);
                    }
                }
                None => spend_verification_time(&password_owned),
            }
        }
        matched
    })
    .await
    .map_err(|error| crate::db::StoreError::internal("verifying a password", error))?;
    if let Some(until) = locked_until {
        return Ok(SignIn::Locked {
            minutes: minutes_until(until, now_ms),
        });
    }
    match matched {
        Some(index) => {
            let account = &accounts[index];
            // Guesses running alongside this one may have locked the source meanwhile.
            if store::clear_failed_guesses(db, &account_key, source_key, now_ms).await? {
                return Ok(SignIn::Locked {
                    minutes: minutes_until(now_ms + LOCK_OUT_MS, now_ms),
                });
            }
            let token = new_token()
                .map_err(|e| crate::db::StoreError::internal("making a session token", e))?;
            store::create_session(db, account, &token_digest(&token), now_ms).await?;
            Ok(SignIn::Started { token })
        }
        None => {
            store::record_failed_guess(db, &account_key, source_key, LOCK_OUT, now_ms).await?;
            Ok(SignIn::Refused)
        }
    }
}

/// Ends every session of the signed-in person, on every device ("Sign out everywhere").
pub async fn sign_out_everywhere(db: &Db, org_id: i64, user_id: i64) -> StoreResult<u64> {
    store::delete_sessions_of(db, org_id, user_id).await
}

/// A valid session: who it is, and whether to send the cookie again so that it slides.
#[derive(Clone, Debug)]
pub struct Authenticated {
    pub viewer: Viewer,
    /// `Some(seconds)`: the session's idle clock restarted; the cookie should be sent again
    /// with this Max-Age (the idle time, or what is left of the absolute lifetime).
    pub refresh_cookie_max_age: Option<i64>,
}

/// The viewer a session token stands for, when it is valid: not idle too long, and not older
/// than the absolute lifetime.
pub async fn authenticate(db: &Db, token: &str, now_ms: i64) -> StoreResult<Option<Authenticated>> {
    let digest = token_digest(token);
    let Some(row) = store::find_session(db, &digest).await? else {
        return Ok(None);
    };
    let idle = now_ms - row.last_seen_ms > IDLE_TIMEOUT_MS;
    let expired = now_ms - row.created_at_ms > ABSOLUTE_LIFETIME_MS;
    if idle || expired {
        store::delete_session(db, &digest).await?;
        return Ok(None);
    }
    let mut refresh_cookie_max_age = None;
    if now_ms - row.last_seen_ms > TOUCH_EVERY_MS {
        // Keeping the session alive is worth a write, not a refusal: if the write cannot be
        // made now, the session is still valid and the next request tries again.
        match store::touch_session(db, row.org_id, row.session_id, now_ms).await {
            Ok(()) => {
                let left_ms = row.created_at_ms + ABSOLUTE_LIFETIME_MS - now_ms;
                refresh_cookie_max_age = Some(IDLE_TIMEOUT_MS.min(left_ms) / 1000);
            }
            Err(error) => tracing::warn!(%error, "could not keep a session alive"),
        }
    }
    let Some(role) = row.role() else {
        return Ok(None);
    };
    Ok(Some(Authenticated {
        viewer: Viewer {
            org_id: row.org_id,
            user_id: row.user_id,
            role,
            name: row.name,
            email: row.email,
            organisation: row.organisation,
            time_zone: row.time_zone.parse::<Tz>().unwrap_or(Tz::UTC),
        },
        refresh_cookie_max_age,
    }))
}

/// Whether a session token still stands for someone who may review, without keeping the
/// session alive: an open event stream re-checks its session with this, and a tab left open
/// must not hold a session open that its person has left.
pub async fn session_is_valid(db: &Db, token: &str, now_ms: i64) -> StoreResult<bool> {
    let Some(row) = store::find_session(db, &token_digest(token)).await? else {
        return Ok(false);
    };
    Ok(now_ms - row.last_seen_ms <= IDLE_TIMEOUT_MS
        && now_ms - row.created_at_ms <= ABSOLUTE_LIFETIME_MS
        && row.role().is_some_and(|role| role.may_review()))
}

pub async fn sign_out(db: &Db, token: &str) -> StoreResult<()> {
    store::delete_session(db, &token_digest(token)).await
}

/// The session cookie's name: `__Host-` prefixed when cookies are Secure.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// The session token in a `Cookie` header, if any. Over https only the `__Host-` cookie
/// counts, so a cookie planted over plain http cannot stand in for it.
pub fn token_from_cookies(header: &str, secure: bool) -> Option<&str> {
    let name = session_cookie_name(secure);
    Cookie::split_parse(header)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .and_then(|cookie| cookie.value_raw())
        .filter(|value| !value.is_empty() && value.len() <= 128)
}

/// The `Set-Cookie` value that stores a session token for `max_age_secs`; `secure` when
/// served over https.
pub fn session_cookie(token: &str, secure: bool, max_age_secs: i64) -> String {
    Cookie::build((session_cookie_name(secure), token))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .secure(secure)
        .to_string()
}

/// The `Set-Cookie` value of a new session: it lasts the idle time, and slides.
pub fn new_session_cookie(token: &str, secure: bool) -> String {
    session_cookie(token, secure, IDLE_TIMEOUT_MS / 1000)
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn expired_session_cookie(secure: bool) -> String {
    session_cookie("", secure, 0)
}

/// Whether a request's cookies are to be Secure (and HSTS sent): the server is configured so,
/// or the request came over https (directly, or through a proxy that says so). Decided once per
/// request by the outermost layer that needs it, which puts it in the request's extensions;
/// the session middleware and the server functions read it from there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecureRequest(pub bool);

impl SecureRequest {
    /// `X-Forwarded-Proto` counts only when the request came `from_trusted_proxy`: anyone else
    /// could send it.
    pub fn decide(
        configured: bool,
        uri: &axum::http::Uri,
        headers: &axum::http::HeaderMap,
        from_trusted_proxy: bool,
    ) -> SecureRequest {
        SecureRequest(
            configured
                || uri.scheme_str() == Some("https")
                || (from_trusted_proxy
                    && headers
                        .get("x-forwarded-proto")
                        .and_then(|v| v.to_str().ok())
                        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))),
        )
    }

    /// The decision already made for this request; decided here only for a request that did
    /// not pass the layer that decides it.
    pub fn of(
        configured: bool,
        uri: &axum::http::Uri,
        headers: &axum::http::HeaderMap,
        extensions: &axum::http::Extensions,
    ) -> bool {
        extensions
            .get::<SecureRequest>()
            .copied()
            .unwrap_or_else(|| SecureRequest::decide(configured, uri, headers, false))
            .0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_stored_only_as_digests() {
        let first = new_token().unwrap();
        let second = new_token().unwrap();
        assert_eq!(first.len(), 64);
        assert_ne!(first, second);
        assert_ne!(token_digest(&first), first);
        assert_eq!(token_digest(&first), token_digest(&first));
    }

    #[test]
    fn the_cookie_is_http_only_lax_and_secure_with_the_host_prefix_over_https() {
        // Attribute order is the cookie crate's; what is asserted is each attribute.
        let attributes = |cookie: &str| -> Vec<String> {
            cookie.split("; ").map(str::to_owned).collect::<Vec<_>>()
        };
        let plain = new_session_cookie("abc", false);
        assert!(!plain.contains("Secure"));
        let cookie = attributes(&plain);
        assert_eq!(cookie[0], "playbook_session=abc");
        for expected in ["Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=28800"] {
            assert!(
                cookie.iter().any(|a| a == expected),
                "{expected} in {cookie:?}"
            );
        }
        assert!(!cookie.iter().any(|a| a == "Secure"));
        let secure = new_session_cookie("abc", true);
        assert!(secure.contains("; Secure"));
        assert!(!secure.contains("Domain"), "a __Host- cookie has no Domain");
        let secure = attributes(&secure);
        assert_eq!(secure[0], "__Host-playbook_session=abc");
        assert!(secure.iter().any(|a| a == "Path=/"));
        assert!(secure.iter().any(|a| a == "Secure"));
        assert!(
            !secure.iter().any(|a| a.starts_with("Domain")),
            "a __Host- cookie has no Domain"
        );
        assert!(attributes(&expired_session_cookie(false)).contains(&"Max-Age=0".to_owned()));
        assert_eq!(
            attributes(&expired_session_cookie(true))[0],
            "__Host-playbook_session="
        );
    }

    #[test]
    fn the_token_is_read_from_among_other_cookies() {
        assert_eq!(
            token_from_cookies("a=1; playbook_session=xyz; b=2", false),
            Some("xyz")
        );
        assert_eq!(token_from_cookies("playbook_session=", false), None);
        assert_eq!(token_from_cookies("other=1", false), None);
        // Over https, only the __Host- cookie counts.
        assert_eq!(token_from_cookies("playbook_session=xyz", true), None);
        assert_eq!(
            token_from_cookies("__Host-playbook_session=xyz", true),
            Some("xyz")
        );
    }

    #[test]
    fn lock_out_minutes_round_up() {
        assert_eq!(minutes_until(60_000, 0), 1);
        assert_eq!(minutes_until(60_001, 0), 2);
        assert_eq!(minutes_until(0, 10), 0);
    }
}

/// The addresses of the reverse proxies whose `X-Forwarded-Proto` and `X-Forwarded-For` are
/// believed (`PLAYBOOK_TRUSTED_PROXIES`: addresses or CIDR blocks, comma-separated). From
/// anyone else those headers are ignored: the connection's own address is the client's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedProxies {
    blocks: Vec<(std::net::IpAddr, u8)>,
}

/// Loopback: a reverse proxy on the same machine.
pub const DEFAULT_TRUSTED_PROXIES: &str = "127.0.0.1,::1";

impl Default for TrustedProxies {
    fn default() -> Self {
        TrustedProxies::parse(DEFAULT_TRUSTED_PROXIES)
            .unwrap_or(TrustedProxies { blocks: Vec::new() })
    }
}

impl TrustedProxies {
    /// Reads `10.0.0.1, 10.1.0.0/16, ::1`; an empty list trusts no one.
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        let mut blocks = Vec::new();
        for item in list
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
        {
            let (address, bits) = match item.split_once('/') {
                Some((address, bits)) => (address, Some(bits)),
                None => (item, None),
            };
            let address: std::net::IpAddr = address
                .parse()
                .map_err(|_| format!("`{item}` is not an IP address or CIDR block"))?;
            let most = if address.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                Some(bits) => bits
                    .parse::<u8>()
                    .ok()
                    .filter(|bits| *bits <= most)
                    .ok_or_else(|| format!("`{item}` has a prefix length outside 0..={most}"))?,
                None => most,
            };
            blocks.push((address, bits));
        }
        Ok(TrustedProxies { blocks })
    }

    pub fn contains(&self, address: std::net::IpAddr) -> bool {
        let address = match address {
            std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, std::net::IpAddr::V4),
            v4 => v4,
        };
        self.blocks
            .iter()
            .any(|(block, bits)| match (block, address) {
                (std::net::IpAddr::V4(block), std::net::IpAddr::V4(address)) => prefix_matches(
                    u128::from(u32::from(*block)),
                    u128::from(u32::from(address)),
                    *bits,
                    32,
                ),
                (std::net::IpAddr::V6(block), std::net::IpAddr::V6(address)) => {
                    prefix_matches(u128::from(*block), u128::from(address), *bits, 128)
                }
                _ => false,
            })
    }

    /// The client behind a trusted proxy: the right-most `X-Forwarded-For` address that is not
    /// itself a trusted proxy; `None` when the header says nothing usable.
    pub fn client_behind(&self, headers: &axum::http::HeaderMap) -> Option<std::net::IpAddr> {
        let chain: Vec<std::net::IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .map(|item| item.parse::<std::net::IpAddr>().ok())
            .collect::<Option<Vec<_>>>()?;
        chain
            .into_iter()
            .rev()
            .find(|address| !self.contains(*address))
    }
}

fn prefix_matches(block: u128, address: u128, bits: u8, width: u32) -> bool {
    if bits == 0 {
        return true;
    }
    let shift = width - u32::from(bits);
    (block >> shift) == (address >> shift)
}

#[cfg(test)]
mod trusted_proxy_tests {
    use super::*;

    #[test]
    fn addresses_and_blocks_are_trusted_and_nothing_else() {
        let trusted = TrustedProxies::parse("10.1.0.0/16, 192.0.2.7, ::1, 2001:db8::/32").unwrap();
        for yes in [
            "10.1.200.3",
            "192.0.2.7",
            "::1",
            "2001:db8:1::5",
            "::ffff:10.1.0.9",
        ] {
            assert!(trusted.contains(yes.parse().unwrap()), "{yes}");
        }
        for no in ["10.2.0.1", "192.0.2.8", "::2", "2001:db9::1", "127.0.0.1"] {
            assert!(!trusted.contains(no.parse().unwrap()), "{no}");
        }
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.example").is_err());
        assert!(!TrustedProxies::parse("")
            .unwrap()
            .contains("127.0.0.1".parse().unwrap()));
        assert!(TrustedProxies::default().contains("127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn the_client_is_the_right_most_address_that_is_not_a_proxy() {
        let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.4, 10.0.0.2".parse().unwrap(),
        );
        assert_eq!(
            trusted.client_behind(&headers),
            Some("198.51.100.4".parse().unwrap())
        );
        headers.insert("x-forwarded-for", "not-an-address".parse().unwrap());
        assert_eq!(trusted.client_behind(&headers), None);
        let forwarded = SecureRequest::decide(
            false,
            &"/".parse().unwrap(),
            &{
                let mut headers = axum::http::HeaderMap::new();
                headers.insert("x-forwarded-proto", "https".parse().unwrap());
                headers
            },
            false,
        );
        assert_eq!(forwarded, SecureRequest(false), "not from a trusted proxy");
    }
}
