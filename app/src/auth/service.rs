//! The rules of signing in and of sessions, on top of the store: lock-out after repeated
//! failures, idle expiry, and tokens that the database only ever sees as digests.

use super::password::{spend_verification_time, verify_password};
use super::store::{self, LoginAccount};
use crate::db::{Db, StoreResult};
use crate::session::Viewer;
use blake2::{Blake2s256, Digest};
use chrono_tz::Tz;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "playbook_session";
/// A session ends after this long without a request: a working day.
pub const IDLE_TIMEOUT_MS: i64 = 8 * 60 * 60 * 1000;
/// Failed attempts on one account, within [`FAILURE_WINDOW_MS`], that lock it.
pub const MAX_FAILED_LOGINS: i64 = 5;
pub const FAILURE_WINDOW_MS: i64 = 15 * 60 * 1000;
/// How long a locked account refuses every attempt, the right password included.
pub const LOCK_OUT_MS: i64 = 15 * 60 * 1000;
/// A session's last-seen time is written at most this often, not on every request.
const TOUCH_EVERY_MS: i64 = 60 * 1000;

/// The one message for a wrong email and a wrong password alike.
pub const INVALID_SIGN_IN: &str = "That email and password do not match an account.";

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

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
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

/// Checks an email and password, with lock-out, and starts a session when they match.
pub async fn sign_in(db: &Db, email: &str, password: &str, now_ms: i64) -> StoreResult<SignIn> {
    let accounts = store::login_accounts(db, email).await?;
    if let Some(until) = accounts
        .iter()
        .filter_map(|a| a.locked_until_ms)
        .filter(|&until| until > now_ms)
        .max()
    {
        return Ok(SignIn::Locked {
            minutes: minutes_until(until, now_ms),
        });
    }
    let password_owned = password.to_owned();
    let hashes: Vec<String> = accounts.iter().map(|a| a.password_hash.clone()).collect();
    // Argon2 is deliberately slow: keep it off the async workers. An unknown email spends
    // the same time, so timing does not tell which emails have accounts.
    let matched = tokio::task::spawn_blocking(move || {
        if hashes.is_empty() {
            spend_verification_time(&password_owned);
            return None;
        }
        hashes
            .iter()
            .position(|hash| verify_password(&password_owned, hash))
    })
    .await
    .unwrap_or(None);
    match matched {
        Some(index) => {
            let account = &accounts[index];
            if account.failed_logins > 0 || account.locked_until_ms.is_some() {
                store::save_failed_logins(db, account, 0, None, None).await?;
            }
            let token = new_token()
                .map_err(|e| crate::db::StoreError::Invalid(format!("no randomness: {e}")))?;
            store::create_session(db, account, &token_digest(&token), now_ms).await?;
            Ok(SignIn::Started { token })
        }
        None => {
            for account in &accounts {
                record_failure(db, account, now_ms).await?;
            }
            Ok(SignIn::Refused)
        }
    }
}

async fn record_failure(db: &Db, account: &LoginAccount, now_ms: i64) -> StoreResult<()> {
    let in_window = account
        .failed_window_start_ms
        .is_some_and(|start| now_ms - start < FAILURE_WINDOW_MS);
    let (count, start) = if in_window {
        (account.failed_logins + 1, account.failed_window_start_ms)
    } else {
        (1, Some(now_ms))
    };
    let locked_until = (count >= MAX_FAILED_LOGINS).then_some(now_ms + LOCK_OUT_MS);
    store::save_failed_logins(db, account, count, start, locked_until).await
}

/// The viewer a session token stands for, when it is valid and has not been idle too long.
pub async fn authenticate(db: &Db, token: &str, now_ms: i64) -> StoreResult<Option<Viewer>> {
    let digest = token_digest(token);
    let Some(row) = store::find_session(db, &digest).await? else {
        return Ok(None);
    };
    if now_ms - row.last_seen_ms > IDLE_TIMEOUT_MS {
        store::delete_session(db, &digest).await?;
        return Ok(None);
    }
    if now_ms - row.last_seen_ms > TOUCH_EVERY_MS {
        store::touch_session(db, row.org_id, row.session_id, now_ms).await?;
    }
    let Some(role) = row.role() else {
        return Ok(None);
    };
    Ok(Some(Viewer {
        org_id: row.org_id,
        user_id: row.user_id,
        role,
        name: row.name,
        email: row.email,
        organisation: row.organisation,
        time_zone: row.time_zone.parse::<Tz>().unwrap_or(Tz::UTC),
    }))
}

pub async fn sign_out(db: &Db, token: &str) -> StoreResult<()> {
    store::delete_session(db, &token_digest(token)).await
}

/// The session token in a `Cookie` header, if any.
pub fn token_from_cookies(header: &str) -> Option<&str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty() && value.len() <= 128)
}

/// The `Set-Cookie` value that stores a session token; `secure` when served over https.
pub fn session_cookie(token: &str, secure: bool) -> String {
    let max_age = IDLE_TIMEOUT_MS / 1000;
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn expired_session_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}")
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
    fn the_cookie_is_http_only_lax_and_secure_over_https() {
        let cookie = session_cookie("abc", false);
        assert!(cookie.starts_with("playbook_session=abc; Path=/; HttpOnly; SameSite=Lax"));
        assert!(!cookie.contains("Secure"));
        assert!(session_cookie("abc", true).ends_with("; Secure"));
        assert!(expired_session_cookie(false).contains("Max-Age=0"));
    }

    #[test]
    fn the_token_is_read_from_among_other_cookies() {
        assert_eq!(
            token_from_cookies("a=1; playbook_session=xyz; b=2"),
            Some("xyz")
        );
        assert_eq!(token_from_cookies("playbook_session="), None);
        assert_eq!(token_from_cookies("other=1"), None);
    }

    #[test]
    fn lock_out_minutes_round_up() {
        assert_eq!(minutes_until(60_000, 0), 1);
        assert_eq!(minutes_until(60_001, 0), 2);
        assert_eq!(minutes_until(0, 10), 0);
    }
}
