//! Temporary databases for tests, on either backend: a migrated SQLite file or a PostgreSQL
//! database of the test's own, created on the server `TEST_POSTGRES_URL` names (by default
//! the local one) and removed afterwards. The store tests (`app/tests`) and the server's tests
//! both use these.

use app::db::{ConnectOptions, Db, Sql};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// The PostgreSQL server the tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A name no other test of any process running now uses.
fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A migrated database of the test's own. An SQLite file is removed when this is dropped; a
/// PostgreSQL database when the test calls [`TestDb::drop_database`].
pub struct TestDb {
    pub db: Db,
    /// Where the database is, for a second connection pool (another server, in effect).
    pub url: String,
    place: Option<Place>,
}

enum Place {
    File(PathBuf),
    /// The database's name, and a connection to the server outside it.
    Database {
        name: String,
        admin: Db,
    },
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        TestDb::sqlite_with(ConnectOptions::new(4)).await
    }

    pub async fn sqlite_with(options: ConnectOptions) -> TestDb {
        let dir = std::env::temp_dir().join("playbook-tests");
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(format!("{}.db", unique_name("store")));
        let url = format!("sqlite://{}", path.display());
        let db = Db::connect_with(&url, options).await.expect("open SQLite");
        db.migrate().await.expect("migrate SQLite");
        TestDb {
            db,
            url,
            place: Some(Place::File(path)),
        }
    }

    pub async fn postgres() -> TestDb {
        let admin_url = postgres_admin_url();
        let name = unique_name("playbook_test");
        let admin = Db::connect(&admin_url, 1).await.unwrap_or_else(|error| {
            panic!("PostgreSQL is needed for the tests at {admin_url} (set TEST_POSTGRES_URL): {error}")
        });
        admin
            .execute(
                &Sql::new(&format!("CREATE DATABASE {name}")),
                "creating a test database",
            )
            .await
            .expect("create test database");
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
            place: Some(Place::Database { name, admin }),
        }
    }

    /// The SQLite file, for a test that opens it another way.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match &self.place {
            Some(Place::File(path)) => Some(path),
            _ => None,
        }
    }

    /// The PostgreSQL database's name and a connection to its server from outside it, for a
    /// test that watches or ends the database's sessions.
    pub fn postgres_admin(&self) -> Option<(&str, &Db)> {
        match &self.place {
            Some(Place::Database { name, admin }) => Some((name, admin)),
            _ => None,
        }
    }

    /// Closes the pool and removes the database.
    pub async fn drop_database(mut self) {
        self.db.close().await;
        match self.place.take() {
            Some(Place::File(path)) => remove_sqlite_files(&path),
            Some(Place::Database { name, admin }) => {
                let _ = admin
                    .execute(
                        &Sql::new(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")),
                        "dropping a test database",
                    )
                    .await;
                admin.close().await;
            }
            None => {}
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(Place::File(path)) = &self.place {
            remove_sqlite_files(path);
        }
    }
}

/// The database file, its write-ahead log and shared memory, and the attached sign-in file's.
fn remove_sqlite_files(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-auth", "-auth-wal", "-auth-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
