//! Databases the tools make and remove: the benchmark's and the tests'.

use app::db::{Db, Sql, StoreResult};
use std::path::Path;

/// Removes an SQLite database: its file, write-ahead log and shared memory, and those of the
/// sign-in file attached beside it.
pub fn remove_sqlite_files(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-auth", "-auth-wal", "-auth-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// The URL of database `name` on the server `admin_url` (which ends in `/DATABASE`) reaches.
pub fn postgres_url(admin_url: &str, name: &str) -> Option<String> {
    admin_url
        .rsplit_once('/')
        .map(|(server, _)| format!("{server}/{name}"))
}

/// Creates the PostgreSQL database `name` (a plain identifier the caller makes) through
/// `admin`, dropping it first when `replace`.
pub async fn create_postgres_database(admin: &Db, name: &str, replace: bool) -> StoreResult<()> {
    if replace {
        drop_postgres_database(admin, name).await?;
    }
    admin
        .execute(
            &Sql::new(&format!("CREATE DATABASE {name}")),
            "creating a database",
        )
        .await?;
    Ok(())
}

/// Drops the PostgreSQL database `name`, ending its sessions.
pub async fn drop_postgres_database(admin: &Db, name: &str) -> StoreResult<()> {
    admin
        .execute(
            &Sql::new(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")),
            "dropping a database",
        )
        .await?;
    Ok(())
}
