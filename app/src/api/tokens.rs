//! API tokens: each belongs to one organisation and has a scope (read and write, or admin,
//! which may also erase); the database keeps only their digest.

use crate::auth::service::{new_token, token_digest};
use crate::clock::now_ms;
use crate::db::{Db, StoreError, StoreResult};
use crate::sql;

/// What a token may do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TokenScope {
    /// Read customers and write conversations: every token unless made `--admin`.
    #[default]
    ReadWrite,
    /// That, and erase customers and conversations.
    Admin,
}

impl TokenScope {
    /// As the `api_tokens.scope` column stores it.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::ReadWrite => "read_write",
            TokenScope::Admin => "admin",
        }
    }

    /// A stored scope; anything unknown grants the least.
    fn parse(stored: &str) -> TokenScope {
        if stored == TokenScope::Admin.as_str() {
            TokenScope::Admin
        } else {
            TokenScope::ReadWrite
        }
    }
}

/// What a valid token stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiClient {
    /// The token's own id: what its write rate is counted by.
    pub token_id: i64,
    pub org_id: i64,
    pub time_zone: String,
    pub scope: TokenScope,
}

#[derive(sqlx::FromRow)]
struct ClientRow {
    token_id: i64,
    org_id: i64,
    time_zone: String,
    scope: String,
}

/// Tokens start with this, so a leaked one is easy to recognise in logs and scanners.
pub const TOKEN_PREFIX: &str = "pb_";

/// Creates a token named `name` with `scope` and returns it: the only time it is ever shown.
pub async fn create_token(
    db: &Db,
    org_id: i64,
    name: &str,
    scope: TokenScope,
) -> StoreResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(StoreError::Invalid(
            "a token needs a name of 1 to 100 characters".to_owned(),
        ));
    }
    let token = format!(
        "{TOKEN_PREFIX}{}",
        new_token().map_err(|e| StoreError::internal("making an API token", e))?
    );
    let sql = sql!(
        "INSERT INTO api_tokens (org_id, name, token_hash, created_at_ms, scope) \
         VALUES ($1, $2, $3, $4, $5)",
        org_id,
        name,
        token_digest(&token),
        now_ms(),
        scope.as_str(),
    );
    db.execute(&sql, "creating an API token")
        .await
        .map_err(|error| match error {
            StoreError::Database { ref source, .. }
                if source.to_string().to_lowercase().contains("unique") =>
            {
                StoreError::Invalid(format!(
                    "a token named `{name}` already exists in this organisation"
                ))
            }
            other => other,
        })?;
    Ok(token)
}

/// Revokes the organisation's token named `name`; false when there is no such live token.
pub async fn revoke_token(db: &Db, org_id: i64, name: &str) -> StoreResult<bool> {
    let sql = sql!(
        "UPDATE api_tokens SET revoked_at_ms = $1 \
         WHERE org_id = $2 AND name = $3 AND revoked_at_ms IS NULL",
        now_ms(),
        org_id,
        name.trim(),
    );
    Ok(db.execute(&sql, "revoking an API token").await? > 0)
}

/// The client a live token stands for.
pub async fn authenticate_token(db: &Db, token: &str) -> StoreResult<Option<ApiClient>> {
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 128 {
        return Ok(None);
    }
    let sql = sql!(
        "SELECT t.id AS token_id, t.org_id, o.time_zone, t.scope \
         FROM api_tokens t JOIN organisations o ON o.id = t.org_id \
         WHERE t.revoked_at_ms IS NULL AND t.token_hash = $1",
        token_digest(token),
    );
    let row: Option<ClientRow> = db.fetch_optional(&sql, "checking an API token").await?;
    Ok(row.map(|row| ApiClient {
        token_id: row.token_id,
        org_id: row.org_id,
        time_zone: row.time_zone,
        scope: TokenScope::parse(&row.scope),
    }))
}
