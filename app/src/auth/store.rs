//! Store code for sign-in: accounts with their failed-attempt counters, and sessions.

use crate::db::{Db, StoreResult};
use crate::orgs::model::Role;
use crate::sql;

/// An account that can sign in (it has a password), with the end of its lock-out, if any.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LoginAccount {
    pub id: i64,
    pub org_id: i64,
    pub password_hash: String,
    pub locked_until_ms: Option<i64>,
}

/// The accounts with this email that have a password, in every organisation: sign-in is the
/// one place that looks across organisations, because it is how the organisation is found.
#[tracing::instrument(skip_all)]
pub async fn login_accounts(db: &Db, email: &str) -> StoreResult<Vec<LoginAccount>> {
    let sql = sql!(
        "SELECT u.id, u.org_id, u.password_hash, f.locked_until_ms \
         FROM users u \
         LEFT JOIN sign_in_failures f ON f.org_id = u.org_id AND f.user_id = u.id \
         WHERE u.password_hash IS NOT NULL AND u.disabled_at_ms IS NULL AND u.email = $1 \
         ORDER BY u.id",
        email.trim().to_lowercase(),
    );
    db.fetch_all(&sql, "finding accounts to sign in").await
}

/// The lock-out rule, as numbers: `max_failures` failed attempts within `window_ms` lock an
/// account for `lock_ms`.
#[derive(Clone, Copy, Debug)]
pub struct LockOutRule {
    pub max_failures: i64,
    pub window_ms: i64,
    pub lock_ms: i64,
}

/// Counts one failed attempt on an account, in one statement: the database adds to the count
/// (or starts a new window), and sets the lock when the count reaches the rule's maximum. An
/// existing lock is never shortened or cleared here. Parallel attempts each count, because
/// none of them writes a count it read before.
#[tracing::instrument(skip_all)]
pub async fn record_failed_sign_in(
    db: &Db,
    account: &LoginAccount,
    rule: LockOutRule,
    now_ms: i64,
) -> StoreResult<()> {
    let sql = sql!(
        "INSERT INTO sign_in_failures (org_id, user_id, failures, window_start_ms, locked_until_ms) \
         VALUES ($1, $2, 1, $3, CASE WHEN $4 <= 1 THEN $3 + $6 END) \
         ON CONFLICT (org_id, user_id) DO UPDATE SET \
         failures = CASE WHEN sign_in_failures.window_start_ms > $3 - $5 \
             THEN sign_in_failures.failures + 1 ELSE 1 END, \
         window_start_ms = CASE WHEN sign_in_failures.window_start_ms > $3 - $5 \
             THEN sign_in_failures.window_start_ms ELSE $3 END, \
         locked_until_ms = CASE \
             WHEN sign_in_failures.locked_until_ms > $3 THEN sign_in_failures.locked_until_ms \
             WHEN sign_in_failures.window_start_ms > $3 - $5 \
                 AND sign_in_failures.failures + 1 >= $4 THEN $3 + $6 \
             ELSE NULL END",
        account.org_id,
        account.id,
        now_ms,
        rule.max_failures,
        rule.window_ms,
        rule.lock_ms,
    );
    db.execute(&sql, "counting a failed sign-in").await?;
    Ok(())
}

/// After a correct password: forgets the account's failed attempts unless it is locked, and
/// answers whether it is locked (by now, perhaps by attempts that ran alongside this one).
/// A lock is only ever cleared by time or by a new password, never by a late request.
#[tracing::instrument(skip_all)]
pub async fn clear_failed_sign_ins(
    db: &Db,
    account: &LoginAccount,
    now_ms: i64,
) -> StoreResult<bool> {
    let clear = sql!(
        "DELETE FROM sign_in_failures WHERE org_id = $1 AND user_id = $2 \
         AND (locked_until_ms IS NULL OR locked_until_ms <= $3)",
        account.org_id,
        account.id,
        now_ms,
    );
    db.execute(&clear, "forgetting failed sign-ins").await?;
    let locked = sql!(
        "SELECT COUNT(*) FROM sign_in_failures \
         WHERE org_id = $1 AND user_id = $2 AND locked_until_ms > $3",
        account.org_id,
        account.id,
        now_ms,
    );
    let locked: i64 = db.scalar(&locked, "checking a lock-out").await?;
    Ok(locked > 0)
}

#[tracing::instrument(skip_all)]
pub async fn create_session(
    db: &Db,
    account: &LoginAccount,
    token_hash: &str,
    now_ms: i64,
) -> StoreResult<()> {
    let sql = sql!(
        "INSERT INTO sessions (org_id, user_id, token_hash, created_at_ms, last_seen_ms) \
         VALUES ($1, $2, $3, $4, $5)",
        account.org_id,
        account.id,
        token_hash,
        now_ms,
        now_ms,
    );
    db.execute(&sql, "starting a session").await?;
    Ok(())
}

/// A session with the person and organisation it belongs to.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SessionRow {
    pub session_id: i64,
    pub org_id: i64,
    pub user_id: i64,
    pub created_at_ms: i64,
    pub last_seen_ms: i64,
    pub name: String,
    pub email: String,
    pub role: String,
    pub organisation: String,
    pub time_zone: String,
}

impl SessionRow {
    pub fn role(&self) -> Option<Role> {
        Role::parse(&self.role)
    }
}

#[tracing::instrument(skip_all)]
pub async fn find_session(db: &Db, token_hash: &str) -> StoreResult<Option<SessionRow>> {
    let sql = sql!(
        "SELECT s.id AS session_id, s.org_id, s.user_id, s.created_at_ms, s.last_seen_ms, \
         u.name, u.email, u.role, o.name AS organisation, o.time_zone \
         FROM sessions s \
         JOIN users u ON u.org_id = s.org_id AND u.id = s.user_id \
         JOIN organisations o ON o.id = s.org_id \
         WHERE s.token_hash = $1 AND u.disabled_at_ms IS NULL",
        token_hash,
    );
    db.fetch_optional(&sql, "finding a session").await
}

#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn touch_session(db: &Db, org_id: i64, session_id: i64, now_ms: i64) -> StoreResult<()> {
    let sql = sql!(
        "UPDATE sessions SET last_seen_ms = $1 WHERE org_id = $2 AND id = $3",
        now_ms,
        org_id,
        session_id,
    );
    db.execute(&sql, "keeping a session alive").await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn delete_session(db: &Db, token_hash: &str) -> StoreResult<()> {
    let sql = sql!("DELETE FROM sessions WHERE token_hash = $1", token_hash);
    db.execute(&sql, "ending a session").await?;
    Ok(())
}

/// Ends every session idle since before `idle_since_ms`.
#[tracing::instrument(skip_all)]
pub async fn delete_idle_sessions(db: &Db, idle_since_ms: i64) -> StoreResult<u64> {
    let sql = sql!(
        "DELETE FROM sessions WHERE last_seen_ms < $1",
        idle_since_ms
    );
    db.execute(&sql, "ending idle sessions").await
}

/// Ends every session of one person (after a password or role change).
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn delete_sessions_of(db: &Db, org_id: i64, user_id: i64) -> StoreResult<u64> {
    let sql = sql!(
        "DELETE FROM sessions WHERE org_id = $1 AND user_id = $2",
        org_id,
        user_id
    );
    db.execute(&sql, "ending a person's sessions").await
}

pub use crate::orgs::store::find_user_id;

/// Sets a user's password hash and clears any lock-out.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn set_password_hash(db: &Db, org_id: i64, user_id: i64, hash: &str) -> StoreResult<()> {
    let sql = sql!(
        "UPDATE users SET password_hash = $1 WHERE org_id = $2 AND id = $3",
        hash,
        org_id,
        user_id,
    );
    db.execute(&sql, "setting a password").await?;
    let clear = sql!(
        "DELETE FROM sign_in_failures WHERE org_id = $1 AND user_id = $2",
        org_id,
        user_id
    );
    db.execute(&clear, "clearing a lock-out").await?;
    let email = sql!(
        "SELECT email FROM users WHERE org_id = $1 AND id = $2",
        org_id,
        user_id
    );
    let email: String = db.scalar(&email, "finding a person's email").await?;
    clear_guesses_on(db, &super::keys::account_key(&email)).await
}

#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn set_role(db: &Db, org_id: i64, user_id: i64, role: Role) -> StoreResult<()> {
    let sql = sql!(
        "UPDATE users SET role = $1 WHERE org_id = $2 AND id = $3",
        role.as_str(),
        org_id,
        user_id,
    );
    db.execute(&sql, "changing a role").await?;
    Ok(())
}

/// Disables a person (`Some(now)`: their sessions end and sign-in refuses them) or enables
/// them again (`None`). Answers whether the person exists.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn set_disabled(
    db: &Db,
    org_id: i64,
    user_id: i64,
    disabled_at_ms: Option<i64>,
) -> StoreResult<bool> {
    let sql = sql!(
        "UPDATE users SET disabled_at_ms = $1 WHERE org_id = $2 AND id = $3",
        disabled_at_ms,
        org_id,
        user_id,
    );
    let changed = db.execute(&sql, "disabling or enabling a person").await?;
    if disabled_at_ms.is_some() {
        delete_sessions_of(db, org_id, user_id).await?;
    }
    Ok(changed > 0)
}

/// The end of the lock on `(account_key, source_key)`, when one is set and not yet over.
#[tracing::instrument(skip_all)]
pub async fn guess_lock(
    db: &Db,
    account_key: &str,
    source_key: &str,
    now_ms: i64,
) -> StoreResult<Option<i64>> {
    let sql = sql!(
        "SELECT COALESCE(MAX(locked_until_ms), 0) FROM sign_in_guesses \
         WHERE account_key = $1 AND source_key = $2 AND locked_until_ms > $3",
        account_key,
        source_key,
        now_ms,
    );
    let until: i64 = db.scalar(&sql, "checking a sign-in lock").await?;
    Ok((until > now_ms).then_some(until))
}

/// Counts one failed guess on an email from a source, in one statement (parallel guesses
/// each count), locking that source out of that email when the count reaches the rule's
/// maximum within its window. The same write whether or not the email has an account.
#[tracing::instrument(skip_all)]
pub async fn record_failed_guess(
    db: &Db,
    account_key: &str,
    source_key: &str,
    rule: LockOutRule,
    now_ms: i64,
) -> StoreResult<()> {
    let sql = sql!(
        "INSERT INTO sign_in_guesses (account_key, source_key, failures, window_start_ms, locked_until_ms) \
         VALUES ($1, $2, 1, $3, CASE WHEN $4 <= 1 THEN $3 + $6 END) \
         ON CONFLICT (account_key, source_key) DO UPDATE SET \
         failures = CASE WHEN sign_in_guesses.window_start_ms > $3 - $5 \
             THEN sign_in_guesses.failures + 1 ELSE 1 END, \
         window_start_ms = CASE WHEN sign_in_guesses.window_start_ms > $3 - $5 \
             THEN sign_in_guesses.window_start_ms ELSE $3 END, \
         locked_until_ms = CASE \
             WHEN sign_in_guesses.locked_until_ms > $3 THEN sign_in_guesses.locked_until_ms \
             WHEN sign_in_guesses.window_start_ms > $3 - $5 \
                 AND sign_in_guesses.failures + 1 >= $4 THEN $3 + $6 \
             ELSE NULL END",
        account_key,
        source_key,
        now_ms,
        rule.max_failures,
        rule.window_ms,
        rule.lock_ms,
    );
    db.execute(&sql, "counting a failed sign-in").await?;
    Ok(())
}

/// After a correct password: forgets this source's failed guesses on the email unless they
/// locked it, and answers whether it is locked (perhaps by guesses that ran alongside).
#[tracing::instrument(skip_all)]
pub async fn clear_failed_guesses(
    db: &Db,
    account_key: &str,
    source_key: &str,
    now_ms: i64,
) -> StoreResult<bool> {
    let clear = sql!(
        "DELETE FROM sign_in_guesses WHERE account_key = $1 AND source_key = $2 \
         AND (locked_until_ms IS NULL OR locked_until_ms <= $3)",
        account_key,
        source_key,
        now_ms,
    );
    db.execute(&clear, "forgetting failed sign-ins").await?;
    Ok(guess_lock(db, account_key, source_key, now_ms)
        .await?
        .is_some())
}

/// Forgets every lock and count on an email (after its password is set anew).
#[tracing::instrument(skip_all)]
pub async fn clear_guesses_on(db: &Db, account_key: &str) -> StoreResult<()> {
    let sql = sql!(
        "DELETE FROM sign_in_guesses WHERE account_key = $1",
        account_key
    );
    db.execute(&sql, "clearing sign-in locks").await?;
    Ok(())
}

/// Forgets counts whose window and lock are both over.
#[tracing::instrument(skip_all)]
pub async fn delete_stale_guesses(db: &Db, window_ms: i64, now_ms: i64) -> StoreResult<u64> {
    let sql = sql!(
        "DELETE FROM sign_in_guesses WHERE window_start_ms <= $1 \
         AND (locked_until_ms IS NULL OR locked_until_ms <= $2)",
        now_ms - window_ms,
        now_ms,
    );
    db.execute(&sql, "forgetting old sign-in counts").await
}
