//! Test databases on both backends. Each test gets a database of its own and drops it.

use app::db::Db;
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// The PostgreSQL server the tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

pub struct TestDb {
    pub db: Db,
    /// Where the database is, for a second connection pool (another server, in effect).
    #[allow(dead_code)] // read by some of the test binaries that share this module
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Database(String),
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join("playbook-tests");
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(format!("{}.db", unique_name("store")));
        let url = format!("sqlite://{}", path.display());
        let db = Db::connect(&url, 4).await.expect("open SQLite");
        db.migrate().await.expect("migrate SQLite");
        TestDb {
            db,
            url,
            cleanup: Cleanup::File(path),
        }
    }

    pub async fn postgres() -> TestDb {
        let admin_url = postgres_admin_url();
        let name = unique_name("playbook_test");
        let admin = Db::connect(&admin_url, 1).await.unwrap_or_else(|error| {
            panic!("PostgreSQL is needed for the store tests at {admin_url} (set TEST_POSTGRES_URL): {error}")
        });
        admin
            .execute(
                &app::db::Sql::new(&format!("CREATE DATABASE {name}")),
                "creating a test database",
            )
            .await
            .expect("create test database");
        admin.close().await;
        let url = match admin_url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("TEST_POSTGRES_URL must end in /DATABASE"),
        };
        let db = Db::connect(&url, 4)
            .await
            .expect("connect to the test database");
        db.migrate().await.expect("migrate PostgreSQL");
        TestDb {
            db,
            url,
            cleanup: Cleanup::Database(name),
        }
    }

    pub async fn drop_database(self) {
        self.db.close().await;
        match self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm", "-auth", "-auth-wal", "-auth-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Database(name) => {
                if let Ok(admin) = Db::connect(&postgres_admin_url(), 1).await {
                    let _ = admin
                        .execute(
                            &app::db::Sql::new(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            )),
                            "dropping",
                        )
                        .await;
                    admin.close().await;
                }
            }
        }
    }
}

/// Writes each test body twice: once against SQLite, once against PostgreSQL, so the output
/// names the backend of every test that ran.
#[macro_export]
macro_rules! on_both_backends {
    ($(async fn $name:ident($db:ident: &Db) $body:block)*) => {
        mod sqlite {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let test_db = support::TestDb::sqlite().await;
                    {
                        let $db: &Db = &test_db.db;
                        $body
                    }
                    test_db.drop_database().await;
                }
            )*
        }
        mod postgres {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let test_db = support::TestDb::postgres().await;
                    {
                        let $db: &Db = &test_db.db;
                        $body
                    }
                    test_db.drop_database().await;
                }
            )*
        }
    };
}
