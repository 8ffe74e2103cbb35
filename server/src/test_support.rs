//! A migrated SQLite database in a temp file, removed when dropped: for the server's tests.

use app::db::{ConnectOptions, Db};
use std::path::PathBuf;

pub struct TempDb {
    pub db: Db,
    pub path: PathBuf,
}

impl TempDb {
    pub async fn new(prefix: &str) -> TempDb {
        TempDb::with_options(prefix, ConnectOptions::new(4)).await
    }

    pub async fn with_options(prefix: &str, options: ConnectOptions) -> TempDb {
        let dir = std::env::temp_dir().join("playbook-server-tests");
        std::fs::create_dir_all(&dir).expect("temp dir");
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let path = dir.join(format!("{prefix}_{}_{nanos}.db", std::process::id()));
        let db = Db::connect_with(&format!("sqlite://{}", path.display()), options)
            .await
            .expect("open");
        db.migrate().await.expect("migrate");
        TempDb { db, path }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm", "-auth", "-auth-wal", "-auth-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
}

/// A migrated PostgreSQL database of its own, dropped when the test calls [`TempPostgres::drop`].
pub struct TempPostgres {
    pub db: Db,
    pub name: String,
    admin: Db,
}

impl TempPostgres {
    pub async fn new(prefix: &str) -> TempPostgres {
        let admin_url = std::env::var("TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let admin = Db::connect(&admin_url, 2)
            .await
            .expect("PostgreSQL for the server tests (set TEST_POSTGRES_URL)");
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let name = format!("{prefix}_{}_{nanos}", std::process::id());
        admin
            .execute(
                &app::db::Sql::new(&format!("CREATE DATABASE {name}")),
                "creating a test database",
            )
            .await
            .expect("create database");
        let url = match admin_url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("TEST_POSTGRES_URL names no database"),
        };
        let db = Db::connect(&url, 4).await.expect("connect");
        db.migrate().await.expect("migrate");
        TempPostgres { db, name, admin }
    }

    /// Runs a statement on the server's admin connection (outside the test's database).
    pub fn admin(&self) -> &Db {
        &self.admin
    }

    pub async fn drop(self) {
        self.db.close().await;
        let _ = self
            .admin
            .execute(
                &app::db::Sql::new(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                )),
                "dropping a test database",
            )
            .await;
        self.admin.close().await;
    }
}
