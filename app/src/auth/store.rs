//! Store code for sign-in: accounts with their failed-attempt counters, and sessions.

use crate::db::{Db, IdRow, Sql, StoreResult};
use crate::orgs::model::Role;

/// An account that can sign in (it has a password), with its lock-out state.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LoginAccount {
    pub id: i64,
    pub org_id: i64,
    pub password_hash: String,
    pub failed_logins: i64,
    pub failed_window_start_ms: Option<i64>,
    pub locked_until_ms: Option<i64>,
}

/// The accounts with this email that have a password, in every organisation: sign-in is the
/// one place that looks across organisations, because it is how the organisation is found.
pub async fn login_accounts(db: &Db, email: &str) -> StoreResult<Vec<LoginAccount>> {
    let mut sql = Sql::new(
        "SELECT id, org_id, password_hash, CAST(failed_logins AS BIGINT) AS failed_logins, \
         failed_window_start_ms, locked_until_ms FROM users \
         WHERE password_hash IS NOT NULL AND email = ",
    );
    sql.bind(email.trim().to_lowercase()).push(" ORDER BY id");
    db.fetch_all(&sql, "finding accounts to sign in").await
}

/// Saves an account's failed-attempt counters.
pub async fn save_failed_logins(
    db: &Db,
    account: &LoginAccount,
    failed_logins: i64,
    window_start_ms: Option<i64>,
    locked_until_ms: Option<i64>,
) -> StoreResult<()> {
    let mut sql = Sql::new("UPDATE users SET failed_logins = ");
    sql.bind(failed_logins)
        .push(", failed_window_start_ms = ")
        .bind(window_start_ms)
        .push(", locked_until_ms = ")
        .bind(locked_until_ms)
        .push(" WHERE org_id = ")
        .bind(account.org_id)
        .push(" AND id = ")
        .bind(account.id);
    db.execute(&sql, "recording sign-in attempts").await?;
    Ok(())
}

pub async fn create_session(
    db: &Db,
    account: &LoginAccount,
    token_hash: &str,
    now_ms: i64,
) -> StoreResult<()> {
    let mut sql = Sql::new(
        "INSERT INTO sessions (org_id, user_id, token_hash, created_at_ms, last_seen_ms) VALUES (",
    );
    sql.bind(account.org_id)
        .push(", ")
        .bind(account.id)
        .push(", ")
        .bind(token_hash)
        .push(", ")
        .bind(now_ms)
        .push(", ")
        .bind(now_ms)
        .push(")");
    db.execute(&sql, "starting a session").await?;
    Ok(())
}

/// A session with the person and organisation it belongs to.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SessionRow {
    pub session_id: i64,
    pub org_id: i64,
    pub user_id: i64,
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

pub async fn find_session(db: &Db, token_hash: &str) -> StoreResult<Option<SessionRow>> {
    let mut sql = Sql::new(
        "SELECT s.id AS session_id, s.org_id, s.user_id, s.last_seen_ms, u.name, u.email, u.role, \
         o.name AS organisation, o.time_zone \
         FROM sessions s \
         JOIN users u ON u.org_id = s.org_id AND u.id = s.user_id \
         JOIN organisations o ON o.id = s.org_id \
         WHERE s.token_hash = ",
    );
    sql.bind(token_hash);
    db.fetch_optional(&sql, "finding a session").await
}

pub async fn touch_session(db: &Db, org_id: i64, session_id: i64, now_ms: i64) -> StoreResult<()> {
    let mut sql = Sql::new("UPDATE sessions SET last_seen_ms = ");
    sql.bind(now_ms)
        .push(" WHERE org_id = ")
        .bind(org_id)
        .push(" AND id = ")
        .bind(session_id);
    db.execute(&sql, "keeping a session alive").await?;
    Ok(())
}

pub async fn delete_session(db: &Db, token_hash: &str) -> StoreResult<()> {
    let mut sql = Sql::new("DELETE FROM sessions WHERE token_hash = ");
    sql.bind(token_hash);
    db.execute(&sql, "ending a session").await?;
    Ok(())
}

/// Ends every session idle since before `idle_since_ms`.
pub async fn delete_idle_sessions(db: &Db, idle_since_ms: i64) -> StoreResult<u64> {
    let mut sql = Sql::new("DELETE FROM sessions WHERE last_seen_ms < ");
    sql.bind(idle_since_ms);
    db.execute(&sql, "ending idle sessions").await
}

/// Ends every session of one person (after a password or role change).
pub async fn delete_sessions_of(db: &Db, org_id: i64, user_id: i64) -> StoreResult<u64> {
    let mut sql = Sql::new("DELETE FROM sessions WHERE org_id = ");
    sql.bind(org_id).push(" AND user_id = ").bind(user_id);
    db.execute(&sql, "ending a person's sessions").await
}

/// The id of the user with this email in the organisation.
pub async fn find_user_id(db: &Db, org_id: i64, email: &str) -> StoreResult<Option<i64>> {
    let sql = crate::orgs::store::user_id_by_email(org_id, email);
    let row: Option<IdRow> = db.fetch_optional(&sql, "finding a user").await?;
    Ok(row.map(|row| row.id))
}

/// Sets a user's password hash and clears any lock-out. False when there is no such user.
pub async fn set_password_hash(db: &Db, org_id: i64, user_id: i64, hash: &str) -> StoreResult<()> {
    let mut sql = Sql::new("UPDATE users SET password_hash = ");
    sql.bind(hash)
        .push(", failed_logins = 0, failed_window_start_ms = NULL, locked_until_ms = NULL WHERE org_id = ")
        .bind(org_id)
        .push(" AND id = ")
        .bind(user_id);
    db.execute(&sql, "setting a password").await?;
    Ok(())
}

pub async fn set_role(db: &Db, org_id: i64, user_id: i64, role: Role) -> StoreResult<()> {
    let mut sql = Sql::new("UPDATE users SET role = ");
    sql.bind(role.as_str())
        .push(" WHERE org_id = ")
        .bind(org_id)
        .push(" AND id = ")
        .bind(user_id);
    db.execute(&sql, "changing a role").await?;
    Ok(())
}
